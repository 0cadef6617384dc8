"""Random numbers from explicit keys, as in JAX, plus a seeded global key source for object-style code.

A *key* is an immutable ``uint32`` array of shape ``(2,)``. A sampler is a pure
function of its key: the same key gives the same numbers, in every run and on
every platform, and nothing is mutated. New keys come from ``split`` and
``fold_in``, which hash the parent key; reusing a key repeats its numbers, so
split before each independent use::

    key = fnx.random.key(0)
    key, sub = fnx.random.split(key)
    w = fnx.random.normal(sub, (3, 4))

Samples are constants: no sampler is differentiable with respect to its key or
its distribution parameters (``permutation`` and ``choice`` of an array are
gathers, differentiable in the array). The default floating dtype is fnx's
(float32 unless changed with ``fnx.set_default_dtype``).

Stream derivation (exact; it uses only the raw output of the Philox4x64-10
counter-based generator, so it does not depend on NumPy's sampling algorithms):

* ``key(seed)``: ``s = seed mod 2**64``; the key is ``[s >> 32, s & 0xFFFFFFFF]``.
* A key ``[k0, k1]`` names ``K = k0 * 2**32 + k1``. Its stream for a *tag* and a
  datum ``d`` is ``numpy.random.Philox(key=K + 2**64 * (4 * d + tag)).random_raw(n)``,
  a sequence of uint64 words. Tags: 0 draws samples (``d = 0``), 1 splits
  (``d = 0``), 2 folds in ``d = data mod 2**32``, 3 serves the global source
  (``d`` = its counter).
* A word ``w`` becomes the key ``[w >> 32, w & 0xFFFFFFFF]``: ``split(key, num)``
  turns the first ``num`` words of tag 1 into keys; ``fold_in(key, data)`` and the
  global ``next_key()`` take the first word of their streams.
* Samplers read the words of tag 0 in order, one per value (``normal``,
  ``uniform``, ``bernoulli``, ``gumbel``, ``exponential``, ``randint``, each
  ``categorical`` logit, each ``permutation`` entry): a uniform in [0, 1) is
  ``(w >> (64 - p)) * 2**-p`` with ``p`` the dtype's mantissa bits plus one (53
  for float64, 24 for float32); an open one in (0, 1) is
  ``((w >> 11) + 0.5) * 2**-53``. ``normal`` is ``ndtri`` of the open uniform,
  ``gumbel`` is ``-log(-log(u))``, ``exponential`` ``-log(u)``, ``bernoulli``
  compares the float64 uniform with ``p``, ``categorical`` is the arg-max of the
  logits plus Gumbel noise, ``permutation`` sorts (stably) by the words, and
  ``randint`` takes ``minval + w mod (maxval - minval)``, redrawing, from the same
  stream, the rare words at or above the largest multiple of the range (so it is
  unbiased). ``truncated_normal`` maps an open uniform through the normal
  distribution function restricted to ``[lower, upper]``, in the lower tail
  (mirroring intervals that lie above 0) so that far tails keep their accuracy.

The global source: ``manual_seed(seed)`` sets it to ``key(seed)`` and resets its
counter; each ``next_key()`` returns the fold of that key with the counter and
increments it. It starts as ``manual_seed(0)``, so programs are reproducible
unless they choose otherwise.
"""
import math
import threading

import numpy as np

from .core import dtypes
from .errors import DTypeError, ShapeError

__all__ = ["key", "PRNGKey", "split", "fold_in", "normal", "uniform", "bernoulli", "categorical", "randint",
           "permutation", "choice", "truncated_normal", "gumbel", "exponential", "manual_seed", "next_key"]

_MASK32 = 0xFFFFFFFF
_SAMPLE, _SPLIT, _FOLD, _GLOBAL = range(4)


# ----- keys and streams -----------------------------------------------------------------------


def _as_array(words):
    from .numpy import asarray
    return asarray(np.asarray(words, dtype=np.uint32))


def _words_to_keys(words):
    words = np.asarray(words, dtype=np.uint64)
    return np.stack([(words >> np.uint64(32)).astype(np.uint32), (words & np.uint64(_MASK32)).astype(np.uint32)],
                    axis=-1)


def key(seed):
    """A key from an integer seed (any Python int; taken modulo 2**64).

    >>> import fnx
    >>> fnx.random.key(42)
    Array([ 0, 42], dtype=uint32)
    """
    s = _integer("key", seed, "the seed") % 2 ** 64
    return _as_array([s >> 32, s & _MASK32])


PRNGKey = key


def _integer(opname, value, what):
    """``value`` as a Python int: ints, numpy integers and 0-d integer arrays qualify (bools do not)."""
    dt = getattr(value, "dtype", None)
    if isinstance(value, bool) or not (isinstance(value, int) or dt is not None and dt.kind in "iu"
                                       and getattr(value, "ndim", 0) == 0):
        raise TypeError(f"{opname}: {what} must be an integer, got {value!r}")
    return int(value)


def _key_word(opname, k):
    """The 64-bit number a key names, after checking it is one."""
    arr = np.asarray(k)
    if arr.shape != (2,) or arr.dtype != np.uint32:
        hint = " (index a batch of keys, as keys[i], to get one)" if arr.ndim == 2 and arr.shape[-1] == 2 else ""
        raise TypeError(f"{opname}: expected a key, a uint32 array of shape (2,) from fnx.random.key or split, "
                        f"got {arr.dtype} array of shape {arr.shape}{hint}")
    return (int(arr[0]) << 32) | int(arr[1])


def _stream(word, tag, data=0):
    return np.random.Philox(key=word + (((data << 2) | tag) << 64))


def _bits(opname, k, n):
    return _stream(_key_word(opname, k), _SAMPLE).random_raw(n) if n else np.zeros(0, np.uint64)


def split(key, num=2):
    """``num`` new keys, as an array of shape ``(num, 2)``; ``a, b = split(key)`` unpacks two.

    >>> import fnx
    >>> k = fnx.random.key(0)
    >>> k1, k2 = fnx.random.split(k)
    >>> bool((k1 != k2).any())
    True
    """
    word = _key_word("split", key)
    num = _count("split", num, "num")
    return _as_array(_words_to_keys(_stream(word, _SPLIT).random_raw(num) if num else np.zeros(0, np.uint64))
                     .reshape(num, 2))


def fold_in(key, data):
    """A new key from ``key`` and an integer ``data`` (taken modulo 2**32), e.g. a step or layer index."""
    word = _key_word("fold_in", key)
    data = _integer("fold_in", data, "data")
    return _as_array(_words_to_keys(_stream(word, _FOLD, data % 2 ** 32).random_raw(1))[0])


# ----- argument checks ------------------------------------------------------------------------------


def _count(opname, n, what):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"{opname}: {what} must be a non-negative integer, got {n!r}")
    return int(n)


def _shape(opname, shape):
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        out = tuple(_count(opname, d, "each dimension") for d in shape)
    except TypeError:
        raise TypeError(f"{opname}: shape must be a tuple of integers, got {shape!r}") from None
    return out


def _float_dtype(opname, dtype):
    dt = dtypes.default_float() if dtype is None else dtypes.canonical(dtype)
    if dt.kind != "f":
        raise DTypeError(f"{opname}: dtype must be a floating dtype, got {dt}")
    return dt


def _param(opname, name, value, shape=None):
    """A distribution parameter as a float64 numpy array (concrete: samples are constants)."""
    arr = np.asarray(value, dtype=np.float64)
    if shape is not None:
        try:
            arr = np.broadcast_to(arr, shape)
        except ValueError:
            raise ShapeError(f"{opname}: {name} of shape {arr.shape} does not broadcast to shape {shape}") from None
    return arr


def _size(shape):
    return math.prod(shape)


# ----- uniform words to numbers ------------------------------------------------------------------------


def _unit(words, dtype):
    """Uniform in [0, 1) in ``dtype``, from the top mantissa-plus-one bits (exact in that dtype)."""
    p = np.finfo(dtype).nmant + 1
    return ((words >> np.uint64(64 - p)).astype(np.float64) * 2.0 ** -p).astype(dtype)


def _open_unit(words):
    """Uniform in (0, 1), float64: never 0 or 1, so logs and quantiles stay finite."""
    return ((words >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0 ** -53


def _ndtri(p, q):
    from .scipy.special import _ndtri
    return _ndtri(np, p - 0.5, p, q)


def _out(values, dtype):
    from .numpy import asarray
    return asarray(np.asarray(values).astype(dtype, copy=False))


# ----- samplers -------------------------------------------------------------------------------------------


def uniform(key, shape=(), dtype=None, minval=0.0, maxval=1.0):
    """Uniform samples in ``[minval, maxval)`` (bounds broadcast to ``shape``).

    >>> import fnx
    >>> x = fnx.random.uniform(fnx.random.key(0), (1000,), minval=-1.0, maxval=1.0)
    >>> bool((x >= -1).all() and (x < 1).all()), x.dtype
    (True, dtype('float32'))
    """
    shape, dt = _shape("uniform", shape), _float_dtype("uniform", dtype)
    lo = _param("uniform", "minval", minval, shape).astype(dt)
    hi = _param("uniform", "maxval", maxval, shape).astype(dt)
    u = _unit(_bits("uniform", key, _size(shape)), dt).reshape(shape)
    with np.errstate(over="ignore", invalid="ignore"):
        x = lo + u * (hi - lo)
    # rounding can carry lo + u * (hi - lo) up to hi itself
    return _out(np.clip(x, lo, np.maximum(lo, np.nextafter(hi, dt.type(-np.inf)))), dt)


def normal(key, shape=(), dtype=None):
    """Standard normal samples: the normal quantile of open uniforms (see the module notes).

    >>> import fnx
    >>> fnx.random.normal(fnx.random.key(0), (2, 3)).shape
    (2, 3)
    """
    shape, dt = _shape("normal", shape), _float_dtype("normal", dtype)
    u = _open_unit(_bits("normal", key, _size(shape)))
    return _out(_ndtri(u, 1.0 - u).reshape(shape), dt)


def truncated_normal(key, lower, upper, shape=None, dtype=None):
    """Standard normal samples conditioned on ``lower < x < upper`` (bounds may be infinite)."""
    dt = _float_dtype("truncated_normal", dtype)
    lo, hi = np.asarray(lower, np.float64), np.asarray(upper, np.float64)
    shape = np.broadcast_shapes(lo.shape, hi.shape) if shape is None else _shape("truncated_normal", shape)
    lo, hi = _param("truncated_normal", "lower", lo, shape), _param("truncated_normal", "upper", hi, shape)
    if np.any(~(lo < hi)):
        raise ValueError("truncated_normal: lower must be below upper everywhere")
    from .scipy.special import _erfc
    # Intervals that lie above 0 are mirrored below it, where Phi(x) = erfc(-x/sqrt2)/2 keeps full relative
    # accuracy; 1 - Phi comes from erfc too, so both ends of the interval stay exact.
    flip = lo > 0
    a, b = np.where(flip, -hi, lo), np.where(flip, -lo, hi)
    pa, pb = 0.5 * _erfc(np, -a / math.sqrt(2.0)), 0.5 * _erfc(np, -b / math.sqrt(2.0))
    qb = 0.5 * _erfc(np, b / math.sqrt(2.0))
    u = _open_unit(_bits("truncated_normal", key, _size(shape))).reshape(shape)
    width = pb - pa
    x = _ndtri(pa + width * u, qb + width * (1.0 - u))
    x = np.where(flip, -x, x).astype(dt)
    inside_lo = np.nextafter(lo.astype(dt), dt.type(np.inf))
    inside_hi = np.nextafter(hi.astype(dt), dt.type(-np.inf))
    return _out(np.clip(x, inside_lo, np.maximum(inside_lo, inside_hi)), dt)


def bernoulli(key, p=0.5, shape=None):
    """Boolean samples, True with probability ``p`` (``shape`` defaults to ``p``'s)."""
    p = np.asarray(p, np.float64)
    shape = p.shape if shape is None else _shape("bernoulli", shape)
    p = _param("bernoulli", "p", p, shape)
    u = _unit(_bits("bernoulli", key, _size(shape)), np.float64).reshape(shape)
    return _out(u < p, np.bool_)


def gumbel(key, shape=(), dtype=None):
    """Standard Gumbel samples, ``-log(-log(u))``."""
    shape, dt = _shape("gumbel", shape), _float_dtype("gumbel", dtype)
    return _out(-np.log(-np.log(_open_unit(_bits("gumbel", key, _size(shape))))).reshape(shape), dt)


def exponential(key, shape=(), dtype=None):
    """Standard exponential samples, ``-log(u)``."""
    shape, dt = _shape("exponential", shape), _float_dtype("exponential", dtype)
    return _out(-np.log(_open_unit(_bits("exponential", key, _size(shape)))).reshape(shape), dt)


def categorical(key, logits, axis=-1, shape=None):
    """Indices drawn with probabilities ``softmax(logits, axis)`` (int64), by the Gumbel-max trick.

    ``shape`` defaults to the batch shape (``logits``' shape without ``axis``); a
    given shape must end with the batch shape, as in JAX.

    >>> import fnx
    >>> fnx.random.categorical(fnx.random.key(0), fnx.array([-60., 0., -60.]), shape=(4,))
    Array([1, 1, 1, 1], dtype=int64)
    """
    from .numpy._base import normalize_axis
    logits = np.asarray(logits)
    if logits.dtype.kind not in "biuf" or logits.ndim == 0:
        raise ShapeError(f"categorical: logits must be a real array of at least one dimension, got "
                         f"{logits.dtype} of shape {logits.shape}")
    axis = normalize_axis("categorical", axis, logits.ndim)
    scores = np.moveaxis(logits.astype(np.float64), axis, -1)
    batch = scores.shape[:-1]
    shape = batch if shape is None else _shape("categorical", shape)
    if len(shape) < len(batch) or shape[len(shape) - len(batch):] != batch:
        raise ShapeError(f"categorical: shape {shape} must end with the batch shape {batch} of logits "
                         f"{logits.shape} (axis {axis} removed)")
    k = scores.shape[-1]
    g = -np.log(-np.log(_open_unit(_bits("categorical", key, _size(shape) * k)))).reshape(shape + (k,))
    return _out(np.argmax(scores + g, axis=-1), np.int64)


def randint(key, shape, minval, maxval, dtype="int64"):
    """Integers uniform in ``[minval, maxval)`` (bounds broadcast to ``shape``), without modulo bias.

    >>> import fnx
    >>> x = fnx.random.randint(fnx.random.key(0), (1000,), 3, 7)
    >>> int(x.min()), int(x.max()), x.dtype
    (3, 6, dtype('int64'))
    """
    shape, dt = _shape("randint", shape), dtypes.canonical(dtype)
    if dt.kind not in "iu":
        raise DTypeError(f"randint: dtype must be an integer dtype, got {dt}")
    try:
        lo = np.broadcast_to(np.asarray(minval, np.int64), shape).ravel()
        hi = np.broadcast_to(np.asarray(maxval, np.int64), shape).ravel()
    except (OverflowError, ValueError, TypeError) as e:
        raise ValueError(f"randint: minval and maxval must be int64 integers broadcastable to {shape} ({e})") from None
    info = np.iinfo(dt)
    if np.any(lo >= hi):
        raise ValueError("randint: minval must be below maxval everywhere (maxval is exclusive)")
    if np.any(lo < info.min) or np.any(hi - 1 > info.max):
        raise ValueError(f"randint: the range [{lo.min()}, {hi.max()}) does not fit {dt}")
    span = hi.astype(np.uint64) - lo.astype(np.uint64)  # modulo 2**64, exact
    limit = (np.uint64(2 ** 64 - 1) // span) * span  # words below it are uniform modulo span
    stream = _stream(_key_word("randint", key), _SAMPLE)
    words = stream.random_raw(lo.size) if lo.size else np.zeros(0, np.uint64)
    redo = np.flatnonzero(words >= limit)
    while redo.size:
        words[redo] = stream.random_raw(redo.size)
        redo = redo[words[redo] >= limit[redo]]
    return _out((lo.astype(np.uint64) + words % span).view(np.int64).reshape(shape), dt)


def _order(opname, key, n):
    return np.argsort(_bits(opname, key, n), kind="stable")


def permutation(key, x, axis=0):
    """A random permutation of ``range(x)`` for an integer ``x``, else ``x`` shuffled along ``axis``.

    Shuffling an array is a gather, so it is differentiable in ``x``.

    >>> import fnx
    >>> sorted(fnx.random.permutation(fnx.random.key(0), 5).tolist())
    [0, 1, 2, 3, 4]
    """
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return _out(_order("permutation", key, _count("permutation", x, "n")), np.int64)
    from .numpy import asarray, take
    from .numpy._base import normalize_axis
    x = asarray(x)
    if x.ndim == 0:
        raise ShapeError("permutation: x must be an integer or an array of at least one dimension")
    axis = normalize_axis("permutation", axis, x.ndim)
    return take(x, _out(_order("permutation", key, x.shape[axis]), np.int64), axis=axis)


def choice(key, a, shape=(), replace=True, p=None, axis=0):
    """Samples from ``range(a)`` for an integer ``a``, else from ``a`` along ``axis``, as ``jax.random.choice``.

    ``p`` gives the probabilities (normalised here); without replacement,
    ``shape`` may hold at most as many entries as there are candidates.
    """
    shape = _shape("choice", shape)
    if isinstance(a, (int, np.integer)) and not isinstance(a, bool):
        n, arr = _count("choice", a, "a"), None
    else:
        from .numpy import asarray
        from .numpy._base import normalize_axis
        arr = asarray(a)
        if arr.ndim == 0:
            raise ShapeError("choice: a must be an integer or an array of at least one dimension")
        axis = normalize_axis("choice", axis, arr.ndim)
        n = arr.shape[axis]
    k = _size(shape)
    if n == 0 and k:
        raise ValueError("choice: cannot take a sample from an empty set")
    if not replace and k > n:
        raise ValueError(f"choice: cannot take {k} samples from {n} candidates without replacement")
    if p is not None:
        p = np.asarray(p, np.float64)
        if p.shape != (n,) or np.any(p < 0) or not p.sum() > 0:
            raise ValueError(f"choice: p must be {n} non-negative probabilities with a positive sum, got shape "
                             f"{p.shape}")
        p = p / p.sum()
    if replace and p is None:
        idx = np.asarray(randint(key, (k,), 0, max(n, 1)))
    elif replace:
        u = _unit(_bits("choice", key, k), np.float64)
        idx = np.minimum(np.searchsorted(np.cumsum(p), u, side="right"), n - 1)
    elif p is None:
        idx = _order("choice", key, n)[:k]
    else:  # Gumbel top-k: sampling without replacement in proportion to p
        with np.errstate(divide="ignore"):
            scores = np.log(p) - np.log(-np.log(_open_unit(_bits("choice", key, n))))
        idx = np.argsort(-scores, kind="stable")[:k]
    idx = idx.astype(np.int64).reshape(shape)
    if arr is None:
        return _out(idx, np.int64)
    from .numpy import take
    return take(arr, _out(idx, np.int64), axis=axis)


# ----- the global key source ----------------------------------------------------------------------------

_lock = threading.Lock()
_global = {"word": 0, "count": 0}


def manual_seed(seed):
    """Seeds the global key source (exported as ``fnx.manual_seed``); ``next_key`` restarts from it.

    >>> import fnx
    >>> fnx.random.manual_seed(0); a = fnx.random.next_key()
    >>> fnx.random.manual_seed(0); bool((fnx.random.next_key() == a).all())
    True
    """
    word = _key_word("manual_seed", key(seed))
    with _lock:
        _global["word"], _global["count"] = word, 0


def next_key():
    """A fresh key from the global source, for initialisers and dropout in object-style code."""
    with _lock:
        word, count = _global["word"], _global["count"]
        _global["count"] = count + 1
    return _as_array(_words_to_keys(_stream(word, _GLOBAL, count % 2 ** 62).random_raw(1))[0])
