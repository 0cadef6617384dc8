"""Random numbers from explicit keys, as in JAX, plus a seeded global key source for object-style code.

A *key* is an immutable ``uint32`` array of shape ``(2,)``. A sampler is a pure
function of its key: the same key gives the same numbers, in every run and on
every platform, and nothing is mutated. New keys come from ``split`` and
``fold_in``, which hash the parent key; reusing a key repeats its numbers, so
split before each independent use::

    key = fnx.random.key(0)
    key, sub = fnx.random.split(key)
    w = fnx.random.normal(sub, (3, 4))

Every number comes from one block function, Threefry-2x32 (Salmon, Moraes, Dror
and Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC 2011; the one JAX
uses): a 20-round cipher that maps a key and a counter, each a pair of uint32
words, to a pair of words. Being counter-based, it needs no state: the i-th
number of a stream is the cipher of the counter i, so all of them are computed
at once, with uint32 array operations of the backend, which give the same
words on CPU and GPU. One primitive, ``random_bits``, draws the words of a
whole array; its implementation takes keys with any leading batch shape, so
under ``vmap`` a batch of keys (``split(key, n)``) gives independent draws per
example in one backend call. The samplers are fnx operations on those words,
so they batch and trace like any other code.

Samples live on the key's device (put the key there with ``fnx.device_put``);
parameters given as Python numbers, lists or numpy arrays are made there too,
while fnx arrays must already be there, as fnx moves nothing silently.

Samples are constants: no sampler is differentiable with respect to its key or
its distribution parameters (``permutation`` and ``choice`` of an array are
gathers, differentiable in the array). The default floating dtype is fnx's
(float32 unless changed with ``fnx.set_default_dtype``).

The streams, exactly. ``T(k, c)`` is Threefry-2x32 of key ``k = (k0, k1)`` and
counter ``c = (c0, c1)``: with ``k2 = k0 ^ k1 ^ 0x1BD11BDA``, add ``k0, k1`` to the
words, then five times run four rounds (``x0 += x1; x1 = rotl(x1, r) ^ x0`` with
``r`` from ``(13, 15, 26, 6)``, then ``(17, 29, 16, 24)``, alternately) and add
the next key words in the cycle ``k0, k1, k2`` plus the group's number ``s`` to
the second word (after group ``s``: ``x0 += k[s % 3]``, ``x1 += k[(s + 1) % 3] + s``).
The derivation below is JAX's with ``jax_threefry_partitionable`` (its default
since JAX 0.5): keys, ``split``, ``fold_in``, bits and uniforms in [0, 1) agree
with ``jax.random`` bit for bit, and normals to rounding.

* ``key(seed)``: ``s = seed mod 2**64``; the key is ``(s >> 32, s & 0xFFFFFFFF)``.
* ``split(key, num)[i] = T(key, (i >> 32, i & 0xFFFFFFFF))`` and
  ``fold_in(key, data) = T(key, (0, data mod 2**32))``, so ``fold_in(key, i)``
  equals ``split(key, n)[i]``.
* ``random_bits(key, shape, 32)``: the entry of flat (C-order) index ``i`` is
  ``y0 ^ y1``, with ``(y0, y1) = T(key, (i >> 32, i & 0xFFFFFFFF))``; with 64 bits
  it is ``y0 * 2**32 + y1``. A longer array extends a shorter one's stream.
* A float dtype with ``m`` explicit mantissa bits (float64: 52, float32: 23,
  float16: 10) reads one 64-bit word per value for float64, else one 32-bit
  word, and keeps its top ``m`` bits ``j``. ``uniform`` is ``j * 2**-m`` in
  [0, 1), scaled to ``minval + u * (maxval - minval)`` and kept below ``maxval``
  (rounding could reach it). The *open* uniform ``(j + 1/2) * 2**-m`` lies in
  (0, 1). ``normal`` is ``sqrt(2) * erfinv(2 o - 1)`` of an open uniform ``o``
  (``2 o - 1`` is exact, symmetric and never +-1), ``gumbel`` ``-log(-log(o))``,
  ``exponential`` ``-log(o)``; ``truncated_normal`` is ``ndtri(Phi(a) + (Phi(b) -
  Phi(a)) o)``, with an interval above 0 mirrored below it (so far tails keep
  their relative accuracy) and the result kept strictly inside the bounds.
  ``bernoulli`` is ``uniform < p`` in ``p``'s float dtype; ``categorical`` is
  the arg-max of the logits plus ``gumbel(key, shape + (k,))``.
* ``randint`` reads 64-bit words ``w`` and gives ``minval + floor(w * span / 2**64)``,
  ``span = maxval - minval`` (the high word of a 128-bit product; the bias is
  below ``span / 2**64``). ``permutation`` is the stable arg-sort of 64-bit
  words. ``choice`` without replacement takes the first entries of that order
  (given ``p``: of the descending order of ``log p`` plus float64 Gumbel noise);
  with replacement it is ``randint`` or, given ``p``, the inverse distribution
  function of ``p`` at float64 uniforms.

The global source: ``manual_seed(seed)`` sets its root to ``key(seed)`` and its
counter ``c`` to 0; each ``next_key()`` returns ``T(root, (2**31 | c >> 32, c &
0xFFFFFFFF))`` and increments ``c``. The high bit keeps these counters apart from
those that ``split``, ``fold_in`` and the samplers use on ``key(seed)``. It starts
as ``manual_seed(0)``, so programs are reproducible unless they choose otherwise.
"""
import math
import threading

import numpy as np

from .core import dtypes
from .core.array import Array
from .core.primitive import ShapedArray
from .errors import DTypeError, ShapeError
from .numpy._base import broadcast_shapes, is_traced, move_to_front, normalize_axis, not_differentiable

__all__ = ["key", "PRNGKey", "split", "fold_in", "bits", "threefry2x32", "normal", "uniform", "bernoulli",
           "categorical", "randint", "permutation", "choice", "truncated_normal", "gumbel", "exponential",
           "manual_seed", "next_key"]

_MASK32 = 0xFFFFFFFF

# ----- Threefry-2x32 ------------------------------------------------------------------------------

_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_PARITY = 0x1BD11BDA


def _threefry(xp, k0, k1, x0, x1):
    """The block ``(x0, x1)`` enciphered under the key ``(k0, k1)``: uint32 arrays of at least one
    dimension (numpy scalars would warn when a sum wraps around), broadcasting together."""
    u = xp.uint32
    ks = (k0, k1, k0 ^ k1 ^ u(_PARITY))
    x0, x1 = x0 + k0, x1 + k1
    for s in range(1, 6):
        for r in _ROTATIONS[(s - 1) % 2]:
            x0 = x0 + x1
            x1 = x0 ^ ((x1 << u(r)) | (x1 >> u(32 - r)))
        x0, x1 = x0 + ks[s % 3], x1 + ks[(s + 1) % 3] + u(s)
    return x0, x1


def _threefry_impl(xp, key, count):
    k, c = key.reshape(-1, 2), count.reshape(-1, 2)
    y0, y1 = _threefry(xp, k[:, 0], k[:, 1], c[:, 0], c[:, 1])
    return xp.stack([y0, y1], axis=-1).reshape(key.shape)


# Operands of one shape (..., 2); the pair axis is last, so the batch axis must not be: move it first.
threefry2x32_p = not_differentiable(
    "threefry2x32", _threefry_impl, lambda key, count: ShapedArray(key.shape, dtypes.uint32),
    batch=lambda vals, bdims: (threefry2x32_p.bind(*move_to_front(vals, bdims)), 0))


def _bits_impl(xp, key, *, shape, bit_width):
    size = math.prod(shape)
    i = xp.arange(size, dtype=xp.uint64)
    hi, lo = (i >> xp.uint64(32)).astype(xp.uint32), (i & xp.uint64(_MASK32)).astype(xp.uint32)
    k = key.reshape(-1, 1, 2)
    y0, y1 = _threefry(xp, k[..., 0], k[..., 1], hi, lo)
    if bit_width == 32:
        out = y0 ^ y1
    else:
        out = (y0.astype(xp.uint64) << xp.uint64(32)) | y1.astype(xp.uint64)
    return out.reshape(key.shape[:-1] + tuple(shape))


def _bits_shape(key, *, shape, bit_width):
    return ShapedArray(key.shape[:-1] + tuple(shape), dtypes.uint32 if bit_width == 32 else dtypes.uint64)


def _bits_batch(vals, bdims, *, shape, bit_width):
    # the impl takes keys of any leading batch shape: one call draws for every key of the batch
    (k,) = move_to_front(vals, bdims)
    return random_bits_p.bind(k, shape=shape, bit_width=bit_width), 0


random_bits_p = not_differentiable("random_bits", _bits_impl, _bits_shape, batch=_bits_batch)

# ----- keys ----------------------------------------------------------------------------------------------


def _as_array(words, device=None):
    from .numpy import asarray
    return asarray(np.asarray(words, dtype=np.uint32), device=device)


def _on(key, value, dtype=None):
    """``value`` as an array on ``key``'s device: new data is made there, fnx arrays stay where they are."""
    from .numpy import asarray
    return asarray(value, dtype, device=None if isinstance(value, Array) else key.device)


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


def _check_key(opname, k):
    """``k`` as an fnx array, after checking that it is one key (a tracer of one qualifies)."""
    from .numpy import asarray
    k = asarray(k)
    if k.shape != (2,) or k.dtype != dtypes.uint32:
        hint = (" (index a batch of keys, as keys[i], or map over them with fnx.vmap)"
                if k.ndim == 2 and k.shape[-1] == 2 else "")
        raise TypeError(f"{opname}: expected a key, a uint32 array of shape (2,) from fnx.random.key or split, "
                        f"got {k.dtype} array of shape {k.shape}{hint}")
    return k


def _counters(n):
    """The counters ``(i >> 32, i & 0xFFFFFFFF)`` for ``i < n``, shape ``(n, 2)``."""
    i = np.arange(n, dtype=np.uint64)
    return np.stack([i >> np.uint64(32), i & np.uint64(_MASK32)], axis=-1).astype(np.uint32)


def threefry2x32(key, count):
    """The Threefry-2x32 block function (20 rounds): ``count`` enciphered under ``key``.

    Both are uint32 arrays whose last axis holds a pair of words (key, counter);
    the leading axes broadcast. Every key and sample of this module comes from it.

    >>> import fnx
    >>> fnx.random.threefry2x32(fnx.random.key(0), fnx.numpy.zeros(2, "uint32"))
    Array([1797259609, 2579123966], dtype=uint32)
    """
    from .numpy import asarray, broadcast_to
    key = asarray(key)
    count = _on(key, count)
    for name, x in (("key", key), ("count", count)):
        if x.dtype != dtypes.uint32 or x.ndim == 0 or x.shape[-1] != 2:
            raise TypeError(f"threefry2x32: {name} must be a uint32 array whose last axis has length 2, got "
                            f"{x.dtype} array of shape {x.shape}")
    shape = broadcast_shapes("threefry2x32", key.shape, count.shape)
    return threefry2x32_p.bind(broadcast_to(key, shape), broadcast_to(count, shape))


def split(key, num=2):
    """``num`` new keys, as an array of shape ``(num, 2)``; ``a, b = split(key)`` unpacks two.

    >>> import fnx
    >>> fnx.random.split(fnx.random.key(0))
    Array([[1797259609, 2579123966],
           [ 928981903, 3453687069]], dtype=uint32)
    """
    key = _check_key("split", key)
    return threefry2x32(key, _as_array(_counters(_count("split", num, "num")), key.device))


def fold_in(key, data):
    """A new key from ``key`` and integer ``data`` (taken modulo 2**32), e.g. a step or layer index.

    ``data`` may be a traced integer scalar (``vmap`` over step indices).
    """
    from .numpy import astype, stack, zeros
    key = _check_key("fold_in", key)
    if isinstance(data, Array) and is_traced(data):
        if data.ndim != 0 or data.dtype.kind not in "iu":
            raise TypeError(f"fold_in: data must be an integer scalar, got {data.dtype} array of shape {data.shape}")
        return threefry2x32(key, stack([zeros((), dtypes.uint32, device=key.device), astype(data, dtypes.uint32)]))
    return threefry2x32(key, _as_array([0, _integer("fold_in", data, "data") % 2 ** 32], key.device))


def _random_bits(opname, key, shape, width):
    return random_bits_p.bind(_check_key(opname, key), shape=shape, bit_width=width)


def bits(key, shape=(), dtype="uint32"):
    """Uniform random words of ``shape``, as ``jax.random.bits``: ``dtype`` is uint32 or uint64.

    >>> import fnx
    >>> fnx.random.bits(fnx.random.key(0), (2,))
    Array([4070199207, 4202968722], dtype=uint32)
    """
    dt = dtypes.canonical(dtype)
    if dt not in (dtypes.uint32, dtypes.uint64):
        raise DTypeError(f"bits: dtype must be uint32 or uint64, got {dt}")
    return _random_bits("bits", key, _shape("bits", shape), 8 * dt.itemsize)

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


def _broadcasts(a, b):
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


def _param(opname, key, name, value, shape, dt):
    """A distribution parameter of dtype ``dt`` that broadcasts to ``shape``, as a constant."""
    from .numpy import stop_gradient
    x = _on(key, value, dt)
    if not _broadcasts(x.shape, shape) or np.broadcast_shapes(x.shape, shape) != tuple(shape):
        raise ShapeError(f"{opname}: {name} of shape {x.shape} does not broadcast to shape {shape}")
    return stop_gradient(x)


def _concrete(*xs):
    """numpy values of ``xs``, or None when one is traced (checks on values are then skipped)."""
    return None if is_traced(*xs) else [np.asarray(x) for x in xs]

# ----- words to numbers -----------------------------------------------------------------------------------


def _mantissa(opname, key, shape, dt):
    """``(j, m)``: integers ``j`` uniform in [0, 2**m) as floats of ``dt`` (exact), ``m`` its mantissa bits."""
    from .numpy import astype, right_shift
    width = 64 if dt.itemsize == 8 else 32
    m = int(np.finfo(dt).nmant)
    return astype(right_shift(_random_bits(opname, key, shape, width), width - m), dt), m


def _unit(opname, key, shape, dt):
    """Uniform in [0, 1)."""
    j, m = _mantissa(opname, key, shape, dt)
    return j * 2.0 ** -m


def _open_unit(opname, key, shape, dt):
    """Uniform in (0, 1): never 0 or 1, so logs and quantiles stay finite."""
    j, m = _mantissa(opname, key, shape, dt)
    return (j + 0.5) * 2.0 ** -m


def _below(x):
    """A float just below finite ``x``, other values unchanged: ``numpy.nextafter(x, -inf)``, except
    in the few binades above the subnormals, where it may be one step lower still.

    ``x - |x| 2**-(m+1)`` is exact at a power of two and rounds to ``x`` minus one
    ulp elsewhere, except at negative powers of two, where it ties back to ``x``
    and ``x - |x| 2**-m`` is exact; near zero one step is the smallest subnormal.
    (fnx.numpy has no ``nextafter`` primitive yet.)
    """
    from .numpy import abs as fabs, isfinite, where
    info = np.finfo(x.dtype)
    finite = isfinite(x)
    y = where(finite, x, 0.0)
    mag = fabs(y)
    c1, c2, c3 = y - mag * 2.0 ** -(info.nmant + 1), y - mag * 2.0 ** -info.nmant, y - float(info.smallest_subnormal)
    return where(finite, where(c1 < y, c1, where(c2 < y, c2, c3)), x)


def _inside(x, lo, hi):
    """``x`` clamped into [lo, hi], where ``hi`` gives way to ``lo`` when they cross."""
    from .numpy import maximum, minimum
    return minimum(maximum(x, lo), maximum(lo, hi))

# ----- samplers -------------------------------------------------------------------------------------------


def uniform(key, shape=(), dtype=None, minval=0.0, maxval=1.0):
    """Uniform samples in ``[minval, maxval)`` (bounds broadcast to ``shape``).

    >>> import fnx
    >>> x = fnx.random.uniform(fnx.random.key(0), (1000,), minval=-1.0, maxval=1.0)
    >>> bool((x >= -1).all() and (x < 1).all()), x.dtype
    (True, dtype('float32'))
    """
    key, shape, dt = _check_key("uniform", key), _shape("uniform", shape), _float_dtype("uniform", dtype)
    lo, hi = _param("uniform", key, "minval", minval, shape, dt), _param("uniform", key, "maxval", maxval, shape, dt)
    return _inside(lo + _unit("uniform", key, shape, dt) * (hi - lo), lo, _below(hi))


def normal(key, shape=(), dtype=None):
    """Standard normal samples, ``sqrt(2) erfinv(2 o - 1)`` of open uniforms ``o`` (see the module notes).

    >>> import fnx
    >>> fnx.random.normal(fnx.random.key(0), (2, 3)).shape
    (2, 3)
    """
    from .scipy.special import erfinv
    shape, dt = _shape("normal", shape), _float_dtype("normal", dtype)
    return math.sqrt(2.0) * erfinv(_open_unit("normal", key, shape, dt) * 2.0 - 1.0)


def truncated_normal(key, lower, upper, shape=None, dtype=None):
    """Standard normal samples conditioned on ``lower < x < upper`` (bounds may be infinite)."""
    from .numpy import negative, where
    from .scipy.special import ndtr, ndtri
    key, dt = _check_key("truncated_normal", key), _float_dtype("truncated_normal", dtype)
    lo, hi = _on(key, lower, dt), _on(key, upper, dt)
    shape = (broadcast_shapes("truncated_normal", lo.shape, hi.shape) if shape is None
             else _shape("truncated_normal", shape))
    lo = _param("truncated_normal", key, "lower", lo, shape, dt)
    hi = _param("truncated_normal", key, "upper", hi, shape, dt)
    values = _concrete(lo, hi)
    if values is not None and np.any(~(values[0] < values[1])):
        raise ValueError("truncated_normal: lower must be below upper everywhere")
    # Intervals above 0 are mirrored below it, where Phi keeps its full relative accuracy.
    flip = lo > 0
    a, b = where(flip, negative(hi), lo), where(flip, negative(lo), hi)
    pa = ndtr(a)
    x = ndtri(pa + (ndtr(b) - pa) * _open_unit("truncated_normal", key, shape, dt))
    return _inside(where(flip, negative(x), x), negative(_below(negative(lo))), _below(hi))


def bernoulli(key, p=0.5, shape=None):
    """Boolean samples, True with probability ``p`` (``shape`` defaults to ``p``'s)."""
    key = _check_key("bernoulli", key)
    p = _on(key, p)
    dt = p.dtype if p.dtype.kind == "f" else dtypes.float64
    shape = p.shape if shape is None else _shape("bernoulli", shape)
    p = _param("bernoulli", key, "p", p, shape, dt)
    return _unit("bernoulli", key, shape, dt) < p


def _gumbel(opname, key, shape, dt):
    from .numpy import log
    return -log(-log(_open_unit(opname, key, shape, dt)))


def gumbel(key, shape=(), dtype=None):
    """Standard Gumbel samples, ``-log(-log(o))`` of open uniforms ``o``."""
    shape, dt = _shape("gumbel", shape), _float_dtype("gumbel", dtype)
    return _gumbel("gumbel", key, shape, dt)


def exponential(key, shape=(), dtype=None):
    """Standard exponential samples, ``-log(o)`` of open uniforms ``o``."""
    from .numpy import log
    shape, dt = _shape("exponential", shape), _float_dtype("exponential", dtype)
    return -log(_open_unit("exponential", key, shape, dt))


def _float_of(x):
    """``x`` with a floating dtype: integers become float64, booleans the default float (as NumPy)."""
    from .numpy import astype
    if x.dtype.kind == "f":
        return x
    return astype(x, dtypes.default_float() if x.dtype.kind == "b" else dtypes.float64)


def categorical(key, logits, axis=-1, shape=None):
    """Indices drawn with probabilities ``softmax(logits, axis)`` (int64), by the Gumbel-max trick.

    ``shape`` defaults to the batch shape (``logits``' shape without ``axis``); a
    given shape must end with the batch shape, as in JAX.

    >>> import fnx
    >>> fnx.random.categorical(fnx.random.key(0), fnx.array([-60., 0., -60.]), shape=(4,))
    Array([1, 1, 1, 1], dtype=int64)
    """
    from .numpy import argmax, moveaxis, stop_gradient
    key = _check_key("categorical", key)
    logits = _on(key, logits)
    if logits.dtype.kind not in "biuf" or logits.ndim == 0:
        raise ShapeError(f"categorical: logits must be a real array of at least one dimension, got "
                         f"{logits.dtype} of shape {logits.shape}")
    axis = normalize_axis("categorical", axis, logits.ndim)
    scores = stop_gradient(moveaxis(_float_of(logits), axis, -1))
    batch = scores.shape[:-1]
    shape = batch if shape is None else _shape("categorical", shape)
    if len(shape) < len(batch) or shape[len(shape) - len(batch):] != batch:
        raise ShapeError(f"categorical: shape {shape} must end with the batch shape {batch} of logits "
                         f"{logits.shape} (axis {axis} removed)")
    return argmax(scores + _gumbel("categorical", key, shape + scores.shape[-1:], scores.dtype), axis=-1)


def _mulhi(a, b):
    """The high 64 bits of the 128-bit products of uint64 arrays, from 32-bit halves."""
    a0, a1, b0, b1 = a & _MASK32, a >> 32, b & _MASK32, b >> 32
    mid1, mid2 = a1 * b0, a0 * b1
    carry = (((a0 * b0) >> 32) + (mid1 & _MASK32) + (mid2 & _MASK32)) >> 32
    return a1 * b1 + (mid1 >> 32) + (mid2 >> 32) + carry


def _int_bound(key, shape, value):
    from .numpy import astype
    if isinstance(value, Array):
        if value.dtype.kind not in "iu":
            raise ValueError(f"randint: minval and maxval must be integers, got {value.dtype}")
        x = astype(value, dtypes.int64)
    else:
        try:
            x = _on(key, np.asarray(value, np.int64))
        except (OverflowError, ValueError, TypeError) as e:
            raise ValueError(f"randint: minval and maxval must be int64 integers broadcastable to {shape} "
                             f"({e})") from None
    if not _broadcasts(x.shape, shape) or np.broadcast_shapes(x.shape, shape) != shape:
        raise ValueError(f"randint: minval and maxval must be int64 integers broadcastable to {shape}, got "
                         f"shape {x.shape}")
    return x


def randint(key, shape, minval, maxval, dtype="int64"):
    """Integers uniform in ``[minval, maxval)`` (bounds broadcast to ``shape``), by 64-bit multiply-shift.

    >>> import fnx
    >>> x = fnx.random.randint(fnx.random.key(0), (1000,), 3, 7)
    >>> int(x.min()), int(x.max()), x.dtype
    (3, 6, dtype('int64'))
    """
    from .numpy import astype
    key, shape, dt = _check_key("randint", key), _shape("randint", shape), dtypes.canonical(dtype)
    if dt.kind not in "iu":
        raise DTypeError(f"randint: dtype must be an integer dtype, got {dt}")
    lo, hi = _int_bound(key, shape, minval), _int_bound(key, shape, maxval)
    values = _concrete(lo, hi)
    if values is not None and values[0].size and values[1].size:
        info = np.iinfo(dt)
        if np.any(values[0] >= values[1]):
            raise ValueError("randint: minval must be below maxval everywhere (maxval is exclusive)")
        if values[0].min() < info.min or values[1].max() - 1 > info.max:
            raise ValueError(f"randint: the range [{values[0].min()}, {values[1].max()}) does not fit {dt}")
    lo, hi = astype(lo, dtypes.uint64), astype(hi, dtypes.uint64)  # modulo 2**64, so hi - lo is exact
    offset = _mulhi(_random_bits("randint", key, shape, 64), hi - lo)
    return astype(astype(lo + offset, dtypes.int64), dt)


def _order(opname, key, n):
    from .numpy import argsort
    return argsort(_random_bits(opname, key, (n,), 64), stable=True)


def permutation(key, x, axis=0):
    """A random permutation of ``range(x)`` for an integer ``x``, else ``x`` shuffled along ``axis``.

    Shuffling an array is a gather, so it is differentiable in ``x``.

    >>> import fnx
    >>> sorted(fnx.random.permutation(fnx.random.key(0), 5).tolist())
    [0, 1, 2, 3, 4]
    """
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return _order("permutation", key, _count("permutation", x, "n"))
    from .numpy import take
    key = _check_key("permutation", key)
    x = _on(key, x)
    if x.ndim == 0:
        raise ShapeError("permutation: x must be an integer or an array of at least one dimension")
    axis = normalize_axis("permutation", axis, x.ndim)
    return take(x, _order("permutation", key, x.shape[axis]), axis=axis)


def choice(key, a, shape=(), replace=True, p=None, axis=0):
    """Samples from ``range(a)`` for an integer ``a``, else from ``a`` along ``axis``, as ``jax.random.choice``.

    ``p`` gives the probabilities (normalised here); without replacement,
    ``shape`` may hold at most as many entries as there are candidates.
    """
    from .numpy import cumsum, log, minimum, reshape, searchsorted, stop_gradient, sum as fsum, take, where
    key, shape = _check_key("choice", key), _shape("choice", shape)
    if isinstance(a, (int, np.integer)) and not isinstance(a, bool):
        n, arr = _count("choice", a, "a"), None
    else:
        arr = _on(key, a)
        if arr.ndim == 0:
            raise ShapeError("choice: a must be an integer or an array of at least one dimension")
        axis = normalize_axis("choice", axis, arr.ndim)
        n = arr.shape[axis]
    k = math.prod(shape)
    if n == 0 and k:
        raise ValueError("choice: cannot take a sample from an empty set")
    if not replace and k > n:
        raise ValueError(f"choice: cannot take {k} samples from {n} candidates without replacement")
    if p is not None:
        p = _on(key, p, dtypes.float64)
        values = _concrete(p)
        if p.shape != (n,) or values is not None and (np.any(values[0] < 0) or not values[0].sum() > 0):
            raise ValueError(f"choice: p must be {n} non-negative probabilities with a positive sum, got shape "
                             f"{p.shape}")
        p = stop_gradient(p / fsum(p))
    if replace and p is None:
        idx = randint(key, shape, 0, max(n, 1))
    elif replace:
        u = _unit("choice", key, shape, dtypes.float64)
        idx = minimum(searchsorted(cumsum(p), u, side="right"), n - 1)
    elif p is None:
        idx = reshape(_order("choice", key, n)[:k], shape)
    else:  # Gumbel top-k: sampling without replacement in proportion to p
        scores = where(p > 0, log(where(p > 0, p, 1.0)), -np.inf) + _gumbel("choice", key, (n,), dtypes.float64)
        idx = reshape(_order_by(scores)[:k], shape)
    return idx if arr is None else take(arr, idx, axis=axis)


def _order_by(scores):
    from .numpy import argsort, negative
    return argsort(negative(scores), stable=True)

# ----- the global key source ----------------------------------------------------------------------------

_lock = threading.Lock()
_global = {"key": np.zeros(2, np.uint32), "count": 0}


def manual_seed(seed):
    """Seeds the global key source (exported as ``fnx.manual_seed``); ``next_key`` restarts from it.

    >>> import fnx
    >>> fnx.random.manual_seed(0); a = fnx.random.next_key()
    >>> fnx.random.manual_seed(0); bool((fnx.random.next_key() == a).all())
    True
    """
    root = np.asarray(key(seed))
    with _lock:
        _global["key"], _global["count"] = root, 0


def next_key():
    """A fresh key from the global source, for initialisers and dropout in object-style code."""
    with _lock:
        root, c = _global["key"], _global["count"]
        _global["count"] = c + 1
    return threefry2x32(_as_array(root), _as_array([(1 << 31) | (c >> 32) & 0x7FFFFFFF, c & _MASK32]))
