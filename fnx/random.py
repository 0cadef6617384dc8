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

Samples are constants in their key. Most are constants in their distribution
parameters too; the exceptions are reparameterised: ``uniform`` (in ``minval`` and
``maxval``), ``truncated_normal`` (in ``lower`` and ``upper``), ``lognormal`` (in ``sigma``),
``pareto``, ``weibull_min``, ``triangular`` and ``multivariate_normal`` (in
``mean`` and ``cov``) are smooth functions of their parameters and the draws,
and differentiate as such, as in JAX. ``gamma`` and the samplers built on it
(``loggamma``, ``chisquare``, ``t``, ``beta``, ``dirichlet``) lack JAX's implicit
derivative in their shape parameters: differentiating through one raises an
error (rather than giving a wrong zero). ``permutation
and ``choice`` of an array are gathers, differentiable in the array. The default floating dtype is fnx's
(float32 unless changed with ``fnx.set_default_dtype``).

The streams, exactly. ``T(k, c)`` is Threefry-2x32 of key ``k = (k0, k1)`` and
counter ``c = (c0, c1)``: with ``k2 = k0 ^ k1 ^ 0x1BD11BDA``, add ``k0, k1`` to the
words, then five times run four rounds (``x0 += x1; x1 = rotl(x1, r) ^ x0`` with
``r`` from ``(13, 15, 26, 6)``, then ``(17, 29, 16, 24)``, alternately) and add
the next key words in the cycle ``k0, k1, k2`` plus the group's number ``s`` to
the second word (after group ``s``: ``x0 += k[s % 3]``, ``x1 += k[(s + 1) % 3] + s``).
The derivation below is JAX's with ``jax_threefry_partitionable`` (its default
since JAX 0.5): keys, ``split``, ``fold_in``, bits and uniforms in [0, 1) agree
with ``jax.random`` bit for bit; normals are the same transform of the same uniforms,
and differ only where JAX's float32 ``erf_inv`` approximation does (fnx's ``erfinv`` is
within 1.5 ulp of the exact value; JAX's is up to about 90 ulp away in the far tails).

* ``key(seed)`` (an int64 seed, as JAX takes): ``s = seed mod 2**64``; the key is ``(s >> 32, s & 0xFFFFFFFF)``.
* ``split(key, num)[i] = T(key, (i >> 32, i & 0xFFFFFFFF))`` and
  ``fold_in(key, data) = T(key, (0, data mod 2**32))``, so ``fold_in(key, i)``
  equals ``split(key, n)[i]``.
* ``random_bits(key, shape, 32)``: the entry of flat (C-order) index ``i`` is
  ``y0 ^ y1``, with ``(y0, y1) = T(key, (i >> 32, i & 0xFFFFFFFF))``; with 64 bits
  it is ``y0 * 2**32 + y1``. A longer array extends a shorter one's stream.
* A float dtype with ``m`` explicit mantissa bits (float64: 52, float32: 23,
  float16: 10) reads one word as wide as the float per value (a 16-bit word is
  the low half of the 32-bit one, as for ``bits``), and keeps its top ``m`` bits ``j``. ``uniform`` is ``j * 2**-m`` in
  [0, 1), scaled to ``minval + u * (maxval - minval)`` and kept below ``maxval``
  (rounding could reach it). The *open* uniform ``(j + 1/2) * 2**-m`` lies in
  (0, 1). ``normal`` is ``sqrt(2) * erfinv(v)`` of JAX's uniform ``v`` in [lo, 1),
  ``lo`` the float after -1: ``max(lo, u (1 - lo) + lo)`` in the dtype's arithmetic,
  never +-1; ``gumbel`` is ``-log(-log(o))``,
  ``exponential`` ``-log(o)``; ``truncated_normal`` is ``ndtri(Phi(a) + (Phi(b) -
  Phi(a)) o)``, with an interval above 0 mirrored below it (so far tails keep
  their relative accuracy) and the result kept strictly inside the bounds.
  ``bernoulli`` is ``uniform < p`` in ``p``'s float dtype; ``categorical`` is
  the arg-max of the logits plus ``gumbel(key, shape + (k,))``.
* The other continuous samplers transform these: ``laplace`` ``-sign(s) log1p(-|s|)``
  of ``s = 2 o - 1``, ``logistic`` ``logit(o)``, ``cauchy`` ``tan(pi (o - 1/2))``,
  ``lognormal`` ``exp(sigma z)``, ``pareto`` ``exp(e / b)``, ``weibull_min``
  ``scale e**(1/concentration)``, ``triangular`` the inverse distribution function;
  ``gamma`` is Marsaglia and Tsang's rejection sampler in 24 rounds, each from
  ``split(key, 25)[r]``, keeping the first accepted proposal (a draw of shape
  below 1 is boosted with the last key), and ``beta``, ``dirichlet``,
  ``chisquare`` and ``t`` are built from it; ``poisson`` inverts the distribution
  function below rate 10 and runs Hoermann's PTRS rejection in 50 rounds above,
  and ``binomial`` likewise (inversion where ``n min(p, 1 - p) < 10``, else
  BTRS in 58 rounds).
  The exact key derivations of these are not promised to stay fixed.
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
import contextlib
import math
import os
import threading

import numpy as np

from .core import dtypes
from .core.array import Array
from .core.primitive import ShapedArray
from .errors import DTypeArgumentError, DTypeError, ShapeError, ShapeTypeError, ValueRangeError
from .numpy._base import broadcast_shapes, is_traced, move_to_front, normalize_axis, not_differentiable

__all__ = ["key", "PRNGKey", "split", "fold_in", "bits", "threefry2x32", "normal", "uniform", "bernoulli",
           "categorical", "randint", "permutation", "choice", "truncated_normal", "gumbel", "exponential",
           "laplace", "logistic", "cauchy", "rademacher", "lognormal", "pareto", "weibull_min", "triangular",
           "gamma", "loggamma", "chisquare", "t", "beta", "dirichlet", "multivariate_normal", "geometric", "poisson",
           "binomial", "orthogonal", "generalized_normal", "ball", "manual_seed", "next_key", "Generator",
           "default_generator", "seed", "initial_seed"]

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


def _threefry_words(k0, k1, x0, x1):
    """:func:`_threefry` of one block, on Python ints: for a few blocks (a new key, a split) about 10 us a
    block here, against about 80 us for numpy's hundred ufunc calls on arrays of one element."""
    ks = (k0, k1, k0 ^ k1 ^ _PARITY)
    x0, x1 = (x0 + k0) & _MASK32, (x1 + k1) & _MASK32
    for s in range(1, 6):
        for r in _ROTATIONS[(s - 1) % 2]:
            x0 = (x0 + x1) & _MASK32
            x1 = x0 ^ (((x1 << r) | (x1 >> (32 - r))) & _MASK32)
        x0, x1 = (x0 + ks[s % 3]) & _MASK32, (x1 + ks[(s + 1) % 3] + s) & _MASK32
    return x0, x1


_FEW_BLOCKS = 4  # up to this many, _threefry_words block by block beats numpy (bench/NOTES.md, section 21)


def _threefry_impl(xp, key, count):
    k, c = key.reshape(-1, 2), count.reshape(-1, 2)
    if xp is np and len(k) <= _FEW_BLOCKS:
        words = [_threefry_words(*map(int, kk), *map(int, cc)) for kk, cc in zip(k, c)]
        return np.array(words, np.uint32).reshape(key.shape)
    y0, y1 = _threefry(xp, k[:, 0], k[:, 1], c[:, 0], c[:, 1])
    return xp.stack([y0, y1], axis=-1).reshape(key.shape)


# Operands of one shape (..., 2); the pair axis is last, so the batch axis must not be: move it first.
threefry2x32_p = not_differentiable(
    "threefry2x32", _threefry_impl, lambda key, count: ShapedArray(key.shape, dtypes.uint32),
    batch=lambda vals, bdims: (threefry2x32_p.bind(*move_to_front(vals, bdims)), 0))


def _bits_impl(xp, key, *, shape, bit_width):
    size = math.prod(shape)
    if xp is np and size * (key.size // 2) <= _FEW_BLOCKS:
        words = [_threefry_words(int(kk[0]), int(kk[1]), i >> 32, i & _MASK32)
                 for kk in key.reshape(-1, 2) for i in range(size)]
        out = [y0 ^ y1 if bit_width == 32 else y0 << 32 | y1 for y0, y1 in words]
        return np.array(out, np.uint32 if bit_width == 32 else np.uint64).reshape(key.shape[:-1] + tuple(shape))
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
    """A key from an integer seed in int64's range, as JAX's (outside it, an OverflowError); the words are
    JAX's with ``jax_enable_x64``, a negative seed taken modulo 2**64.

    >>> import fnx
    >>> fnx.random.key(42)
    Array([ 0, 42], dtype=uint32)
    """
    if is_traced(seed) and getattr(seed, "ndim", None) == 0 and getattr(seed, "dtype", np.dtype("f")).kind in "iu":
        # A seed known only when the function runs (vmap(key)(seeds), inside jit): the same words, as operations.
        from . import numpy as fnp
        s = fnp.astype(fnp.astype(seed, "int64") if seed.dtype.kind == "i" else seed, "uint64")
        return fnp.stack([fnp.astype(fnp.right_shift(s, np.uint64(32)), dtypes.uint32),
                          fnp.astype(fnp.bitwise_and(s, np.uint64(_MASK32)), dtypes.uint32)])
    s = _integer("key", seed, "the seed")
    if not -2 ** 63 <= s < 2 ** 63:
        raise OverflowError(f"key: the seed {s} does not fit int64 (JAX refuses it too)")
    return _key_words(s)


def torch_seed(opname, seed):
    """An int seed in PyTorch's range ``[-2**63, 2**64)`` (a torch.Generator's), taken modulo 2**64."""
    if not -2 ** 63 <= seed < 2 ** 64:
        raise ValueRangeError(f"{opname}: the seed {seed} is outside [-2**63, 2**64), as PyTorch refuses it")
    return seed % 2 ** 64


def _key_words(seed):
    """The key of an integer seed, taken modulo 2**64."""
    s = seed % 2 ** 64
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
        raise ShapeTypeError(f"{opname}: expected a key, a uint32 array of shape (2,) from fnx.random.key or "
                             f"split, got {k.dtype} array of shape {k.shape}{hint}")
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
    """``num`` new keys, as an array of shape ``(num, 2)``; ``a, b = split(key)`` unpacks two. ``num`` may be
    a shape, as in JAX: ``split(key, (2, 3))`` has shape ``(2, 3, 2)`` (the keys of ``split(key, 6)``).

    >>> import fnx
    >>> fnx.random.split(fnx.random.key(0))
    Array([[1797259609, 2579123966],
           [ 928981903, 3453687069]], dtype=uint32)
    """
    key = _check_key("split", key)
    if isinstance(num, (tuple, list)):
        from .numpy import reshape
        shape = tuple(_count("split", n, "num") for n in num)
        return reshape(split(key, math.prod(shape)), shape + (2,))
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
    """Uniform random words of ``shape``, as ``jax.random.bits``: ``dtype`` is uint8, uint16, uint32 or uint64.

    A narrow word is the low bits of the 32-bit word at its place, as JAX takes
    it, so every width equals JAX's values.

    >>> import fnx
    >>> fnx.random.bits(fnx.random.key(0), (2,))
    Array([4070199207, 4202968722], dtype=uint32)
    """
    from .numpy import astype
    dt = dtypes.canonical(dtype)
    if dt not in (np.dtype("uint8"), np.dtype("uint16"), dtypes.uint32, dtypes.uint64):
        raise DTypeArgumentError(f"bits: dtype must be uint8, uint16, uint32 or uint64, got {dt}")
    shape = _shape("bits", shape)
    if dt.itemsize >= 4:
        return _random_bits("bits", key, shape, 8 * dt.itemsize)
    return astype(_random_bits("bits", key, shape, 32), dt)  # the cast keeps the low bits


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
        raise DTypeArgumentError(f"{opname}: dtype must be a floating dtype, got {dt}")
    return dt


def _broadcasts(a, b):
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


def _param(opname, key, name, value, shape, dt, differentiable=False):
    """A distribution parameter of dtype ``dt`` that broadcasts to ``shape``, as a constant unless
    ``differentiable`` (location and scale parameters of reparameterised samplers)."""
    from .numpy import stop_gradient
    x = _on(key, value, dt)
    if not _broadcasts(x.shape, shape) or np.broadcast_shapes(x.shape, shape) != tuple(shape):
        raise ShapeError(f"{opname}: {name} of shape {x.shape} does not broadcast to shape {shape}")
    return x if differentiable else stop_gradient(x)


def _concrete(*xs):
    """numpy values of ``xs``, or None when one is traced (checks on values are then skipped)."""
    return None if is_traced(*xs) else [np.asarray(x) for x in xs]

# ----- words to numbers -----------------------------------------------------------------------------------


def _mantissa(opname, key, shape, dt):
    """``(j, m)``: integers ``j`` uniform in [0, 2**m) as floats of ``dt`` (exact), ``m`` its mantissa bits: the
    top bits of a word as wide as ``dt`` (a 16-bit word is the low half of the 32-bit one, as JAX takes it)."""
    from .numpy import astype, bitwise_and, right_shift
    width = 64 if dt.itemsize == 8 else 32
    m = int(np.finfo(dt).nmant)
    words = _random_bits(opname, key, shape, width)
    if dt.itemsize == 2:
        words, width = bitwise_and(words, np.uint32(0xFFFF)), 16
    return astype(right_shift(words, width - m), dt), m


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
    # Differentiable in the bounds, as JAX's: a sample is minval + u (maxval - minval) for a fixed u.
    lo = _param("uniform", key, "minval", minval, shape, dt, differentiable=True)
    hi = _param("uniform", key, "maxval", maxval, shape, dt, differentiable=True)
    return _inside(lo + _unit("uniform", key, shape, dt) * (hi - lo), lo, _below(hi))


def normal(key, shape=(), dtype=None):
    """Standard normal samples, ``sqrt(2) erfinv(v)`` of JAX's uniforms ``v`` in (-1, 1) (see the module notes).

    A complex ``dtype`` gives standard complex normals, as JAX's: real and imaginary
    parts independent, each of variance 1/2.

    >>> import fnx
    >>> fnx.random.normal(fnx.random.key(0), (2, 3)).shape
    (2, 3)
    """
    from .scipy.special import erfinv
    if dtype is not None and dtypes.canonical(dtype).kind == "c":
        # As JAX: independent real and imaginary parts from two subkeys, each of variance 1/2.
        from .numpy import astype
        real = np.finfo(dtypes.canonical(dtype)).dtype
        key_re, key_im = split(_check_key("normal", key))
        return astype((normal(key_re, shape, real) + 1j * normal(key_im, shape, real)) / math.sqrt(2.0),
                      dtypes.canonical(dtype))
    from .numpy import maximum
    shape, dt = _shape("normal", shape), _float_dtype("normal", dtype)
    lo = np.nextafter(dt.type(-1.0), dt.type(0.0))  # JAX's: uniform in [lo, 1), never -1, in dt's arithmetic
    return math.sqrt(2.0) * erfinv(maximum(lo, _unit("normal", key, shape, dt) * (dt.type(1.0) - lo) + lo))


def truncated_normal(key, lower, upper, shape=None, dtype=None):
    """Standard normal samples conditioned on ``lower < x < upper`` (bounds may be infinite)."""
    from .numpy import negative, where
    from .scipy.special import ndtr, ndtri
    key, dt = _check_key("truncated_normal", key), _float_dtype("truncated_normal", dtype)
    lo, hi = _on(key, lower, dt), _on(key, upper, dt)
    shape = (broadcast_shapes("truncated_normal", lo.shape, hi.shape) if shape is None
             else _shape("truncated_normal", shape))
    # Differentiable in the bounds, as JAX's: a sample is Phi^-1 of a fixed point between Phi(lower) and Phi(upper).
    lo = _param("truncated_normal", key, "lower", lo, shape, dt, differentiable=True)
    hi = _param("truncated_normal", key, "upper", hi, shape, dt, differentiable=True)
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
    """Standard exponential samples, ``-log1p(-u)`` of uniforms ``u`` in [0, 1), as ``jax.random.exponential``
    (its values from the same uniforms, to rounding: about one draw in eight is an ulp away from JAX's, whose
    ``log1p`` rounds differently)."""
    from .numpy import log1p
    shape, dt = _shape("exponential", shape), _float_dtype("exponential", dtype)
    return -log1p(-uniform(key, shape, dt))


def _float_of(x):
    """``x`` with a floating dtype: integers become float64, booleans the default float (as NumPy)."""
    from .numpy import astype
    if x.dtype.kind == "f":
        return x
    return astype(x, dtypes.default_float() if x.dtype.kind == "b" else dtypes.float64)


def categorical(key, logits, axis=-1, shape=None, replace=True):
    """Indices drawn with probabilities ``softmax(logits, axis)`` (int64), by the Gumbel-max trick.

    ``shape`` defaults to the batch shape (``logits``' shape without ``axis``); a
    given shape must end with a shape the batch shape broadcasts to, as in JAX. With ``replace=False``
    the draws of each batch entry (the leading axes of ``shape``) are distinct
    categories, by the Gumbel top-k trick, as JAX's.

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
    tail = shape[len(shape) - len(batch):]
    if len(shape) < len(batch) or not _broadcasts(batch, tail) or np.broadcast_shapes(batch, tail) != tail:
        raise ShapeError(f"categorical: shape {shape} must end with a shape that the batch shape {batch} of logits "
                         f"{logits.shape} (axis {axis} removed) broadcasts to")
    if tail != batch:  # (as JAX's: a batch dimension of 1 stands for any number)
        from .numpy import broadcast_to
        scores, batch = broadcast_to(scores, tail + scores.shape[-1:]), tail
    if replace:
        return argmax(scores + _gumbel("categorical", key, shape + scores.shape[-1:], scores.dtype), axis=-1)
    from .numpy import argsort, reshape
    lead = shape[:len(shape) - len(batch)]
    count, n = math.prod(lead), scores.shape[-1]
    if count > n:
        raise ValueError(f"categorical: number of samples without replacement ({count}) cannot exceed number of "
                         f"categories ({n})")
    perturbed = scores + _gumbel("categorical", key, scores.shape, scores.dtype)
    top = argsort(-perturbed, axis=-1, stable=True)[..., :count]  # (batch..., count): the k largest, in order
    return reshape(moveaxis(top, -1, 0), shape).astype("int64")


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
    # Traced bounds cannot be checked: they get JAX's meaning, bounds clipped to the dtype (a maxval above its
    # largest value keeps that value in range) and minval wherever maxval <= minval.
    from .numpy import clip, where
    info, wide = np.iinfo(dt), np.iinfo(np.int64)
    bottom, top = max(int(info.min), int(wide.min)), min(int(info.max), int(wide.max))
    above = hi > top
    lo, hi = clip(lo, bottom, top), clip(hi, bottom, top)
    span = astype(hi, dtypes.uint64) - astype(lo, dtypes.uint64)  # modulo 2**64, so exact
    span = where(hi <= lo, np.uint64(1), where(above, span + np.uint64(1), span))
    offset = _mulhi(_random_bits("randint", key, shape, 64), span)
    return astype(astype(astype(lo, dtypes.uint64) + offset, dtypes.int64), dt)


def _shuffle_rounds(size):
    """JAX's number of sorting rounds for ``size`` entries: enough that 32-bit sort keys tie with negligible
    chance (three times the entries' bits, in 32-bit words)."""
    return int(np.ceil(3 * np.log(max(1, size)) / np.log(np.iinfo(np.uint32).max)))


def _shuffled(opname, key, x, axis):
    """``x`` shuffled along ``axis`` by JAX's rounds of stable sorts on 32-bit words, each round's from the
    second half of ``split(key)`` (the first carries on): the same order as ``jax.random.permutation``."""
    from .numpy import argsort, take_along_axis
    for _ in range(_shuffle_rounds(math.prod(x.shape))):
        key, round_key = split(key)
        x = take_along_axis(x, argsort(_random_bits(opname, round_key, x.shape, 32), axis=axis, stable=True),
                            axis=axis)
    return x


def _order(opname, key, n):
    """A random order of ``range(n)``: JAX's ``permutation(key, n)``."""
    from .numpy import arange
    key = _check_key(opname, key)
    return _shuffled(opname, key, arange(n, dtype="int64", device=key.device), 0)


def _integer_scalar(x):
    """A 0-d integer array as the int it holds (JAX takes one as that int; a traced one cannot be), else ``x``."""
    if isinstance(x, (Array, np.ndarray)) and x.ndim == 0 and x.dtype.kind in "iu":
        return int(x)
    return x


def permutation(key, x, axis=0, independent=False):
    """A random permutation of ``range(x)`` for an integer ``x``, else ``x`` shuffled along ``axis``.

    With ``independent=True`` each slice along ``axis`` gets its own order (JAX's
    argument); otherwise one order moves whole slices. Shuffling an array is a
    gather, so it is differentiable in ``x``. The orders are JAX's: rounds of
    stable sorts on random 32-bit words.

    >>> import fnx
    >>> sorted(fnx.random.permutation(fnx.random.key(0), 5).tolist())
    [0, 1, 2, 3, 4]
    """
    x = _integer_scalar(x)
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return _order("permutation", key, _count("permutation", x, "n"))
    from .numpy import take
    key = _check_key("permutation", key)
    x = _on(key, x)
    if x.ndim == 0:
        raise ShapeError("permutation: x must be an integer or an array of at least one dimension")
    axis = normalize_axis("permutation", axis, x.ndim)
    if independent:
        return _shuffled("permutation", key, x, axis)
    return take(x, _order("permutation", key, x.shape[axis]), axis=axis)


def choice(key, a, shape=(), replace=True, p=None, axis=0):
    """Samples from ``range(a)`` for an integer ``a``, else from ``a`` along ``axis``, as ``jax.random.choice``.

    ``p`` gives the probabilities (normalised here); without replacement,
    ``shape`` may hold at most as many entries as there are candidates.
    """
    from .numpy import cumsum, log, minimum, reshape, searchsorted, stop_gradient, sum as fsum, take, where
    key, shape, a = _check_key("choice", key), _shape("choice", shape), _integer_scalar(a)
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

# ----- further distributions, as jax.random ----------------------------------------------------------------
#
# Each is a transformation of the draws above; none adds a primitive. Rejection samplers run a fixed number
# of vectorised rounds, each with its own key, and keep the first accepted proposal, so they trace, jit and
# vmap like straight-line code; the round counts make an unaccepted sample (which then keeps the last
# proposal) rarer than 1e-30.


def _dist(opname, key, shape, dtype, params, grads=()):
    """Key, shape, dtype and parameters of a sampler with JAX's conventions: ``shape=None`` is the
    parameters' broadcast shape, a given shape must be one they broadcast to. Parameters named in
    ``grads`` keep their derivatives (location and scale, by reparameterisation); the others are constants."""
    key, dt = _check_key(opname, key), _float_dtype(opname, dtype)
    xs = {name: _on(key, value, dt) for name, value in params.items()}
    shape = (broadcast_shapes(opname, *(x.shape for x in xs.values())) if shape is None
             else _shape(opname, shape))
    return key, shape, dt, [_param(opname, key, name, x, shape, dt, name in grads) for name, x in xs.items()]


def _require(opname, what, x, ok):
    """Refuses concrete parameter values where ``ok`` fails (traced ones give NaN or -1 instead, as in JAX)."""
    values = _concrete(x)
    if values is not None and not np.all(ok(values[0])):
        raise ValueError(f"{opname}: {what}")


def _work(dt):
    """The dtype to compute in: float16 has too few bits for rejection tests and logs of small numbers."""
    return dtypes.float32 if dt.itemsize < 4 else dt


def _signed_int(opname, dtype):
    dt = dtypes.canonical(dtype)
    if dt.kind != "i":
        raise DTypeArgumentError(f"{opname}: dtype must be a signed integer dtype, got {dt}")
    return dt


def laplace(key, shape=(), dtype=None):
    """Standard Laplace samples, as ``jax.random.laplace``: ``sign(u) log1p(-|u|)`` of uniforms ``u`` in
    ``(-1, 1)`` (its values from the same uniforms, to rounding: ``log1p`` rounds differently from JAX's in
    about one draw in eight, by an ulp).

    >>> import fnx
    >>> x = fnx.random.laplace(fnx.random.key(0), (3, 2)); x.shape, x.dtype
    ((3, 2), dtype('float32'))
    """
    from .numpy import abs as fabs, log1p, sign
    shape, dt = _shape("laplace", shape), _float_dtype("laplace", dtype)
    u = uniform(key, shape, dt, minval=-1.0 + float(np.finfo(dt).epsneg), maxval=1.0)  # never -1: log1p(-1)
    return sign(u) * log1p(-fabs(u))


def logistic(key, shape=(), dtype=None):
    """Standard logistic samples, as ``jax.random.logistic``: ``log(o / (1 - o))``.

    >>> import fnx
    >>> fnx.random.logistic(fnx.random.key(0), (4,), "float64").dtype
    dtype('float64')
    """
    from .scipy.special import logit
    shape, dt = _shape("logistic", shape), _float_dtype("logistic", dtype)
    return logit(_open_unit("logistic", key, shape, dt))


def cauchy(key, shape=(), dtype=None):
    """Standard Cauchy samples, as ``jax.random.cauchy``: ``tan(pi (o - 1/2))``.

    >>> import fnx
    >>> fnx.random.cauchy(fnx.random.key(0), (2,)).shape
    (2,)
    """
    from .numpy import tan
    shape, dt = _shape("cauchy", shape), _float_dtype("cauchy", dtype)
    return tan(math.pi * (_open_unit("cauchy", key, shape, dt) - 0.5))


def rademacher(key, shape=(), dtype="int64"):
    """-1 or 1 with equal probability, as ``jax.random.rademacher`` (1 where the word's top bit is 0, as JAX's
    ``bernoulli(key, 0.5)`` makes it: equal to its values).

    >>> import fnx
    >>> x = fnx.random.rademacher(fnx.random.key(0), (1000,))
    >>> sorted(set(x.tolist())), x.dtype
    ([-1, 1], dtype('int64'))
    """
    from .numpy import astype, right_shift
    shape, dt = _shape("rademacher", shape), _signed_int("rademacher", dtype)
    top = astype(right_shift(_random_bits("rademacher", key, shape, 32), 31), dt)
    return 1 - top * 2


def lognormal(key, sigma=1.0, shape=None, dtype=None):
    """Log-normal samples ``exp(sigma z)``, as ``jax.random.lognormal``; differentiable in ``sigma``.

    >>> import fnx
    >>> x = fnx.random.lognormal(fnx.random.key(0), 0.5, (3,)); x.shape, bool((x > 0).all())
    ((3,), True)
    """
    from .numpy import exp
    key, shape, dt, (sigma,) = _dist("lognormal", key, shape, dtype, {"sigma": sigma}, grads=("sigma",))
    return exp(sigma * normal(key, shape, dt))


def pareto(key, b, shape=None, dtype=None):
    """Pareto samples of shape ``b`` on ``[1, inf)``, ``exp(e / b)`` of exponentials ``e``, as
    ``jax.random.pareto``; differentiable in ``b``.

    >>> import fnx
    >>> x = fnx.random.pareto(fnx.random.key(0), 3.0, (5,)); x.shape, bool((x >= 1).all())
    ((5,), True)
    """
    from .numpy import exp
    key, shape, dt, (b,) = _dist("pareto", key, shape, dtype, {"b": b}, grads=("b",))
    _require("pareto", "b must be positive", b, lambda v: v > 0)
    return exp(exponential(key, shape, dt) / b)


def weibull_min(key, scale, concentration, shape=(), dtype=None):
    """Weibull samples ``scale * e ** (1 / concentration)`` of exponentials ``e``, as
    ``jax.random.weibull_min``; differentiable in both parameters.

    As in JAX, ``shape`` broadcasts with the parameters' shapes; every entry of
    the result is an independent draw.

    >>> import fnx
    >>> fnx.random.weibull_min(fnx.random.key(0), 2.0, fnx.numpy.ones((3, 1)), (4,)).shape
    (3, 4)
    """
    from .numpy import power
    dt = _float_dtype("weibull_min", dtype)
    key = _check_key("weibull_min", key)
    scale, concentration = _on(key, scale, dt), _on(key, concentration, dt)
    shape = broadcast_shapes("weibull_min", _shape("weibull_min", shape), scale.shape, concentration.shape)
    key, shape, dt, (scale, concentration) = _dist("weibull_min", key, shape, dt, {
        "scale": scale, "concentration": concentration}, grads=("scale", "concentration"))
    _require("weibull_min", "scale and concentration must be positive", scale, lambda v: v > 0)
    _require("weibull_min", "scale and concentration must be positive", concentration, lambda v: v > 0)
    return scale * power(exponential(key, shape, dt), 1.0 / concentration)


def triangular(key, left, mode, right, shape=None, dtype=None):
    """Triangular samples on ``[left, right]`` peaking at ``mode``, by inversion of the distribution
    function, as ``jax.random.triangular``; differentiable in all three parameters.

    >>> import fnx
    >>> x = fnx.random.triangular(fnx.random.key(0), 0.0, 1.0, 3.0, (100,))
    >>> x.shape, bool((x >= 0).all() and (x <= 3).all())
    ((100,), True)
    """
    from .numpy import sqrt, where
    key, shape, dt, (lo, mid, hi) = _dist("triangular", key, shape, dtype, {
        "left": left, "mode": mode, "right": right}, grads=("left", "mode", "right"))
    values = _concrete(lo, mid, hi)
    if values is not None and not np.all((values[0] <= values[1]) & (values[1] <= values[2])
                                         & (values[0] < values[2])):
        raise ValueError("triangular: need left <= mode <= right and left < right everywhere")
    u = _open_unit("triangular", key, shape, dt)
    width = hi - lo
    first = u < (mid - lo) / width
    # each square root sees a harmless 1 where its branch is not taken, so no NaN reaches the gradient
    below = lo + sqrt(where(first, u * width * (mid - lo), 1.0))
    above = hi - sqrt(where(first, 1.0, (1.0 - u) * width * (hi - mid)))
    return where(first, below, above)


def _first_accepted(keys, rounds, shape, dt, propose):
    """The first accepted proposal of ``rounds`` rejection rounds, one per key of ``keys``:
    ``propose(key) -> (value, accepted)``. A fixed number of rounds, rather than a loop until every
    sample is accepted, keeps the samplers traceable under jit and vmap."""
    from .numpy import full, logical_and, logical_not, logical_or, where, zeros
    out, done = zeros(shape, dt, device=keys.device), full(shape, False, device=keys.device)
    for r in range(rounds):
        value, ok = propose(keys[r])
        out = where(logical_and(ok, logical_not(done)), value, out)
        done = logical_or(done, ok)
    return out


# Marsaglia and Tsang (2000) accept a proposal with probability >= 0.951 (at a = 1, higher above), so 24
# independent rounds leave a sample unaccepted with probability below 0.049**24 < 1e-31.
_GAMMA_ROUNDS = 24


def _log_gamma(opname, key, a, shape, dt):
    """Logarithms of standard gamma samples of shape ``a >= 0`` (broadcast to ``shape``; -inf where ``a`` is 0).

    Marsaglia and Tsang's squeeze: ``d (1 + c x)**3`` for normal ``x``, ``d = a - 1/3``,
    ``c = 1 / sqrt(9 d)``; shapes below 1 draw with ``a + 1`` and add ``log(u) / a``
    (Marsaglia and Tsang's boost), kept in logs so that tiny samples do not underflow.
    """
    from .numpy import astype, broadcast_to, log, logical_and, sqrt, where
    wt = _work(dt)
    a = broadcast_to(astype(a, wt), shape)
    valid = a > 0
    small = logical_and(valid, a < 1)
    a1 = where(valid, where(small, a + 1.0, a), 1.0)
    d = a1 - 1.0 / 3.0
    c = 1.0 / sqrt(9.0 * d)
    keys = split(key, _GAMMA_ROUNDS + 1)

    def propose(k):
        kx, ku = split(k)
        x = normal(kx, shape, wt)
        v = (1.0 + c * x) ** 3
        pos = v > 0
        v = where(pos, v, 1.0)
        logv = log(v)
        ok = logical_and(pos, log(_open_unit(opname, ku, shape, wt)) < 0.5 * x * x + d - d * v + d * logv)
        return log(d) + logv, ok
    out = _first_accepted(keys, _GAMMA_ROUNDS, shape, wt, propose)
    boost = log(_open_unit(opname, keys[_GAMMA_ROUNDS], shape, wt)) / where(small, a1 - 1.0, 1.0)
    out = where(small, out + boost, out)
    return astype(where(valid, out, where(a == 0, -np.inf, np.nan)), dt)  # (a shape of 0 samples 0, as JAX's)


def _no_derivative(opname, name, value):
    """``value`` itself, refusing to be differentiated: the gamma family's samples do depend on their
    shape parameters, and a zero derivative would be silently wrong."""
    from .transforms.custom import custom_jvp
    from .errors import TracerError

    @custom_jvp
    def guarded(v):
        return v

    @guarded.defjvp
    def refuse(primals, tangents):
        raise TracerError(f"{opname}: no derivative with respect to {name} (JAX's implicit gamma derivative is not "
                          f"implemented); pass fnx.stop_gradient({name}) if its derivative is not wanted")
    if not is_traced(value):  # the user's stop_gradient leaves a constant too
        return value
    return guarded(value)


def _shape_param(opname, key, shape, dtype, name, value):
    # The guard, not a stop_gradient, stands between the parameter and the samples: a derivative reaching it raises.
    value = _no_derivative(opname, name, value)
    key, shape, dt, (a,) = _dist(opname, key, shape, dtype, {name: value}, grads=(name,))
    _require(opname, f"{name} must be non-negative", a, lambda v: v >= 0)
    return key, shape, dt, a


def loggamma(key, a, shape=None, dtype=None):
    """Logarithms of gamma samples of shape ``a``, as ``jax.random.loggamma``: accurate where ``a`` is
    so small that the samples themselves underflow. Not differentiable in ``a`` (see ``gamma``).

    >>> import fnx
    >>> fnx.random.loggamma(fnx.random.key(0), fnx.numpy.asarray([0.01, 1.0, 50.0])).shape
    (3,)
    """
    key, shape, dt, a = _shape_param("loggamma", key, shape, dtype, "a", a)
    return _log_gamma("loggamma", key, a, shape, dt)


def gamma(key, a, shape=None, dtype=None):
    """Gamma samples of shape ``a`` and scale 1, as ``jax.random.gamma`` (Marsaglia and Tsang's
    rejection sampler, in fixed vectorised rounds). A shape of 0 samples 0, as JAX's (so a 0 in
    ``dirichlet``'s ``alpha`` masks its category); a negative one is refused.

    JAX's implicit derivative in ``a`` is not implemented: differentiating through ``a``
    raises a TracerError (wrap it in ``fnx.stop_gradient`` when its derivative is not wanted).

    >>> import fnx
    >>> x = fnx.random.gamma(fnx.random.key(0), 2.5, (2, 3)); x.shape, x.dtype
    ((2, 3), dtype('float32'))
    """
    from .numpy import exp
    key, shape, dt, a = _shape_param("gamma", key, shape, dtype, "a", a)
    return exp(_log_gamma("gamma", key, a, shape, dt))


def chisquare(key, df, shape=None, dtype=None):
    """Chi-square samples with ``df`` degrees of freedom, ``2 gamma(df / 2)``, as ``jax.random.chisquare``;
    not differentiable in ``df`` (see ``gamma``).

    >>> import fnx
    >>> fnx.random.chisquare(fnx.random.key(0), 3.0, (4,)).shape
    (4,)
    """
    from .numpy import exp
    key, shape, dt, df = _shape_param("chisquare", key, shape, dtype, "df", df)
    return 2.0 * exp(_log_gamma("chisquare", key, df / 2.0, shape, dt))


def t(key, df, shape=None, dtype=None):
    """Student's t samples with ``df`` degrees of freedom, ``z / sqrt(chi2 / df)``, as ``jax.random.t``;
    not differentiable in ``df`` (see ``gamma``).

    >>> import fnx
    >>> fnx.random.t(fnx.random.key(0), 5.0, (2, 2), "float64").dtype
    dtype('float64')
    """
    from .numpy import exp, log
    key, shape, dt, df = _shape_param("t", key, shape, dtype, "df", df)
    kz, kg = split(key)
    half = df / 2.0  # chi2 / df = gamma(df / 2) / (df / 2), taken in logs for small df
    return normal(kz, shape, dt) * exp(0.5 * (log(half) - _log_gamma("t", kg, half, shape, dt)))


def beta(key, a, b, shape=None, dtype=None):
    """Beta samples ``x / (x + y)`` of gamma samples ``x ~ G(a)``, ``y ~ G(b)``, as ``jax.random.beta``
    (in logs, so small ``a`` and ``b`` keep their mass near 0 and 1); not differentiable in ``a`` and ``b``
    (see ``gamma``).

    >>> import fnx
    >>> x = fnx.random.beta(fnx.random.key(0), 2.0, fnx.numpy.ones(3)); x.shape
    (3,)
    """
    from .numpy import exp, logaddexp
    a, b = _no_derivative("beta", "a", a), _no_derivative("beta", "b", b)
    key, shape, dt, (a, b) = _dist("beta", key, shape, dtype, {"a": a, "b": b}, grads=("a", "b"))
    _require("beta", "a and b must be non-negative", a, lambda v: v >= 0)
    _require("beta", "a and b must be non-negative", b, lambda v: v >= 0)
    ka, kb = split(key)
    la, lb = _log_gamma("beta", ka, a, shape, dt), _log_gamma("beta", kb, b, shape, dt)
    return exp(la - logaddexp(la, lb))


def dirichlet(key, alpha, shape=None, dtype=None):
    """Dirichlet samples, as ``jax.random.dirichlet``: normalised gamma samples of shapes ``alpha``
    (last axis), in logs; not differentiable in ``alpha`` (see ``gamma``).

    ``shape`` is the batch shape (``alpha``'s without its last axis by default);
    the result has shape ``shape + alpha.shape[-1:]``.

    >>> import fnx
    >>> x = fnx.random.dirichlet(fnx.random.key(0), fnx.numpy.ones(4), (2,))
    >>> x.shape, bool(abs(x.sum(-1) - 1).max() < 1e-5)
    ((2, 4), True)
    """
    from .numpy import exp
    from .scipy.special import logsumexp
    key, dt = _check_key("dirichlet", key), _float_dtype("dirichlet", dtype)
    alpha = _on(key, _no_derivative("dirichlet", "alpha", alpha), dt)
    if alpha.ndim == 0:
        raise ShapeError("dirichlet: alpha must have at least one dimension (the categories), got a scalar")
    shape = alpha.shape[:-1] if shape is None else _shape("dirichlet", shape)
    full = tuple(shape) + alpha.shape[-1:]
    if not _broadcasts(alpha.shape, full) or np.broadcast_shapes(alpha.shape, full) != full:
        raise ShapeError(f"dirichlet: alpha of shape {alpha.shape} does not broadcast to the batch shape "
                         f"{tuple(shape)} plus its last axis")
    alpha = _param("dirichlet", key, "alpha", alpha, full, dt, differentiable=True)  # guarded above
    _require("dirichlet", "alpha must be non-negative", alpha, lambda v: v >= 0)  # (a 0 masks its category)
    lg = _log_gamma("dirichlet", key, alpha, full, dt)
    return exp(lg - logsumexp(lg, axis=-1, keepdims=True))


def multivariate_normal(key, mean, cov, shape=None, dtype=None, method="cholesky"):
    """Multivariate normal samples ``mean + L z``, ``L L^T = cov``, as ``jax.random.multivariate_normal``;
    differentiable in ``mean`` and ``cov``.

    ``mean`` has shape ``(..., n)`` and ``cov`` ``(..., n, n)``; ``shape`` is the
    batch shape (their broadcast batch shape by default) and the result has shape
    ``shape + (n,)``. ``method`` factors ``cov`` by ``"cholesky"`` (positive
    definite), ``"eigh"`` or ``"svd"`` (also semi-definite).

    >>> import fnx
    >>> fnx.random.multivariate_normal(fnx.random.key(0), fnx.numpy.zeros(3), fnx.numpy.eye(3), (5,)).shape
    (5, 3)
    """
    from .numpy import expand_dims, matmul, maximum, sqrt, squeeze
    from .numpy.linalg import cholesky, eigh, svd
    if method not in ("cholesky", "eigh", "svd"):
        raise ValueError(f"multivariate_normal: method must be 'cholesky', 'eigh' or 'svd', got {method!r}")
    key, dt = _check_key("multivariate_normal", key), _float_dtype("multivariate_normal", dtype)
    mean, cov = _on(key, mean, dt), _on(key, cov, dt)
    if mean.ndim < 1 or cov.ndim < 2 or cov.shape[-2:] != mean.shape[-1:] * 2:
        raise ShapeError(f"multivariate_normal: mean must have shape (..., n) and cov (..., n, n), got "
                         f"{mean.shape} and {cov.shape}")
    n = mean.shape[-1]
    batch = broadcast_shapes("multivariate_normal", mean.shape[:-1], cov.shape[:-2])
    shape = batch if shape is None else _shape("multivariate_normal", shape)
    if not _broadcasts(batch, shape) or np.broadcast_shapes(batch, shape) != tuple(shape):
        raise ShapeError(f"multivariate_normal: the batch shapes {mean.shape[:-1]} of mean and {cov.shape[:-2]} "
                         f"of cov do not broadcast to shape {tuple(shape)}")
    if method == "cholesky":
        factor = cholesky(cov)
    elif method == "eigh":
        w, v = eigh(cov)
        factor = v * expand_dims(sqrt(maximum(w, 0.0)), -2)
    else:
        u, s, _ = svd(cov)
        factor = u * expand_dims(sqrt(s), -2)
    z = normal(key, tuple(shape) + (n,), dt)
    return mean + squeeze(matmul(factor, expand_dims(z, -1)), -1)


def geometric(key, p, shape=None, dtype="int64"):
    """The number of Bernoulli(``p``) trials up to the first success (1, 2, ...), as
    ``jax.random.geometric``: ``1 + floor(log1p(-u) / log1p(-p))``.

    >>> import fnx
    >>> x = fnx.random.geometric(fnx.random.key(0), 0.5, (100,)); x.dtype, int(x.min())
    (dtype('int64'), 1)
    """
    from .numpy import astype, floor, log1p, minimum, where
    out_dt = _signed_int("geometric", dtype)
    key, shape, dt, (p,) = _dist("geometric", key, shape, dtypes.float64, {"p": p})
    _require("geometric", "p must lie in (0, 1]", p, lambda v: (v > 0) & (v <= 1))
    k = 1.0 + floor(log1p(-_unit("geometric", key, shape, dt)) / log1p(-where(p < 1, p, 0.5)))
    top = float(np.nextafter(float(np.iinfo(out_dt).max), 0.0))  # tiny p would overflow the integers
    return astype(where(p < 1, minimum(k, top), where(p == 1, 1.0, -1.0)), out_dt)


def _btrs_uniforms(opname, key, shape, dt):
    """Hoermann's transformed-rejection draws: ``u - 1/2``, ``v`` and ``1/2 - |u - 1/2|``."""
    from .numpy import abs as fabs
    ku, kv = split(key)
    uu = _open_unit(opname, ku, shape, dt) - 0.5
    return uu, _open_unit(opname, kv, shape, dt), 0.5 - fabs(uu)


# Poisson: below _POISSON_SPLIT, inversion against the first _POISSON_TERMS terms of the distribution
# function; the mass beyond them is below e**-lam (e lam / N)**N < 1e-33 (Chernoff). Above, Hoermann's
# transformed rejection (PTRS, 1993) accepts with probability >= 0.75 (measured at lam = 10, rising with
# lam), so 50 rounds leave a sample unaccepted with probability below 0.25**50 < 1e-30.
_POISSON_SPLIT, _POISSON_TERMS, _POISSON_ROUNDS = 10.0, 70, 50


def poisson(key, lam, shape=None, dtype="int64"):
    """Poisson samples of rate ``lam``, as ``jax.random.poisson``: by inversion for ``lam < 10``, else by
    Hoermann's transformed rejection (PTRS) in fixed vectorised rounds.

    >>> import fnx
    >>> x = fnx.random.poisson(fnx.random.key(0), fnx.numpy.asarray([0.5, 30.0])); x.shape, x.dtype
    ((2,), dtype('int64'))
    """
    from .numpy import astype, exp, floor, log, logical_and, logical_or, sqrt, where, zeros
    from .scipy.special import gammaln
    out_dt = _signed_int("poisson", dtype)
    key, shape, dt, (lam,) = _dist("poisson", key, shape, dtypes.float64, {"lam": lam})
    _require("poisson", "lam must be non-negative", lam, lambda v: v >= 0)
    k_inv, k_rej = split(key)
    # inversion: the number of terms of the distribution function at or below u
    small = where(lam < _POISSON_SPLIT, lam, 0.0)
    u = _unit("poisson", k_inv, shape, dt)
    term = exp(-small)
    cdf, count = term, zeros(shape, dt, device=key.device)
    for i in range(1, _POISSON_TERMS):
        count = count + astype(cdf <= u, dt)
        term = term * small / i
        cdf = cdf + term
    # transformed rejection
    big = where(lam < _POISSON_SPLIT, _POISSON_SPLIT, lam)
    log_lam = log(big)
    b = 0.931 + 2.53 * sqrt(big)
    a = -0.059 + 0.02483 * b
    log_inv_alpha = log(1.1239 + 1.1328 / (b - 3.4))
    v_r = 0.9277 - 3.6224 / (b - 2.0)

    def propose(key):
        uu, v, us = _btrs_uniforms("poisson", key, shape, dt)
        k = floor((2.0 * a / us + b) * uu + big + 0.43)
        kk = where(k < 0, 0.0, k)
        ok = logical_or(logical_and(us >= 0.07, v <= v_r), logical_and(
            logical_and(k >= 0, logical_or(us >= 0.013, v <= us)),
            log(v) + log_inv_alpha - log(a / (us * us) + b) <= -big + kk * log_lam - gammaln(kk + 1.0)))
        return kk, ok
    out = _first_accepted(split(k_rej, _POISSON_ROUNDS), _POISSON_ROUNDS, shape, dt, propose)
    x = where(lam < _POISSON_SPLIT, count, out)
    return astype(where(lam >= 0, x, -1.0), out_dt)


# Binomial: with q = min(p, 1 - p), inversion when n q < 10 (the mass beyond _POISSON_TERMS terms is below
# the same Chernoff bound, 1e-33), else Hoermann's BTRS (1993), which accepts with probability >= 0.7
# (measured at its worst, n = 20, q = 1/2), so 58 rounds leave a sample unaccepted with probability below
# 0.3**58 < 1e-30.
_BINOMIAL_ROUNDS = 58


def binomial(key, n, p, shape=None, dtype=None):
    """Binomial samples, the number of successes in ``n`` trials of probability ``p``, as
    ``jax.random.binomial`` (floats, as in JAX): by inversion where ``n min(p, 1-p) < 10``, else by
    Hoermann's transformed rejection (BTRS) in fixed vectorised rounds.

    >>> import fnx
    >>> x = fnx.random.binomial(fnx.random.key(0), 10, fnx.numpy.asarray([0.0, 0.5, 1.0])); x.tolist()[::2], x.dtype
    ([0.0, 10.0], dtype('float32'))
    """
    from .numpy import astype, exp, floor, log, log1p, logical_and, logical_or, minimum, sqrt, where, zeros
    from .scipy.special import gammaln
    out_dt = _float_dtype("binomial", dtype)
    key, shape, dt, (n, p) = _dist("binomial", key, shape, dtypes.float64, {"n": n, "p": p})
    _require("binomial", "n must be a non-negative integer", n, lambda v: (v >= 0) & (v == np.floor(v)))
    _require("binomial", "p must lie in [0, 1]", p, lambda v: (v >= 0) & (v <= 1))
    n = floor(n)
    flip = p > 0.5
    q = where(flip, 1.0 - p, p)
    inverse = n * q < 10.0
    k_inv, k_rej = split(key)
    # inversion: the number of terms of the distribution function at or below u
    qs = where(inverse, q, 0.0)
    ns = where(inverse, n, 0.0)
    ratio = qs / (1.0 - qs)
    term = exp(ns * log1p(-qs))
    u = _unit("binomial", k_inv, shape, dt)
    cdf, count = term, zeros(shape, dt, device=key.device)
    for i in range(1, _POISSON_TERMS):
        count = count + astype(cdf <= u, dt)
        term = term * ratio * (ns - (i - 1)) / i
        cdf = cdf + term
    count = minimum(count, ns)
    # transformed rejection
    nb, qb = where(inverse, 20.0, n), where(inverse, 0.5, q)
    spq = sqrt(nb * qb * (1.0 - qb))
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * qb
    c = nb * qb + 0.5
    log_alpha = log((2.83 + 5.1 / b) * spq)
    v_r = 0.92 - 4.2 / b
    m = floor((nb + 1.0) * qb)
    log_r = log(qb / (1.0 - qb))
    log_fm = -gammaln(m + 1.0) - gammaln(nb - m + 1.0)

    def propose(key):
        uu, v, us = _btrs_uniforms("binomial", key, shape, dt)
        k = floor((2.0 * a / us + b) * uu + c)
        inside = logical_and(k >= 0, k <= nb)
        kk = where(inside, k, 0.0)
        log_h = -gammaln(kk + 1.0) - gammaln(nb - kk + 1.0) - log_fm + (kk - m) * log_r  # log f(k) / f(m)
        ok = logical_or(logical_and(us >= 0.07, v <= v_r),
                        logical_and(inside, log(v) + log_alpha - log(a / (us * us) + b) <= log_h))
        return kk, ok
    out = _first_accepted(split(k_rej, _BINOMIAL_ROUNDS), _BINOMIAL_ROUNDS, shape, dt, propose)
    x = where(inverse, count, out)
    x = where(flip, n - x, x)
    valid = logical_and(logical_and(n >= 0, p >= 0), p <= 1)
    return astype(where(valid, x, np.nan), out_dt)


def orthogonal(key, n, shape=(), dtype=None, m=None):
    """Matrices with orthonormal columns (or rows, when ``n < m``) of shape ``shape + (n, m)`` (``m``
    defaults to ``n``), Haar distributed, as ``jax.random.orthogonal``: the sign-corrected ``Q`` of
    the QR factorisation of a normal matrix.

    >>> import fnx
    >>> q = fnx.random.orthogonal(fnx.random.key(0), 3, (2,), "float64")
    >>> q.shape, bool(abs(q[0] @ q[0].T - fnx.numpy.eye(3)).max() < 1e-12)
    ((2, 3, 3), True)
    """
    from .numpy import diagonal, expand_dims, sign, swapaxes
    from .numpy.linalg import qr
    n = _count("orthogonal", n, "n")
    m = n if m is None else _count("orthogonal", m, "m")
    shape, dt = _shape("orthogonal", shape), _float_dtype("orthogonal", dtype)
    z = normal(key, shape + (max(n, m), min(n, m)), dt)
    q, r = qr(z)
    q = q * expand_dims(sign(diagonal(r, 0, -2, -1)), -2)
    return swapaxes(q, -2, -1) if n < m else q


def generalized_normal(key, p, shape=(), dtype=None):
    """Generalized normal samples, density proportional to ``exp(-|x|**p)``, as
    ``jax.random.generalized_normal``: a random sign times ``gamma(1/p) ** (1/p)``.

    >>> import fnx
    >>> fnx.random.generalized_normal(fnx.random.key(0), 1.5, (3,)).shape
    (3,)
    """
    from .numpy import astype, exp
    shape, dt = _shape("generalized_normal", shape), _float_dtype("generalized_normal", dtype)
    if not isinstance(p, (int, float, np.integer, np.floating)) or isinstance(p, bool) or not p > 0:
        raise ValueError(f"generalized_normal: p must be a positive number, got {p!r}")
    key = _check_key("generalized_normal", key)
    kg, ks = split(key)
    g = exp(_log_gamma("generalized_normal", kg, _on(key, 1.0 / p, dt), shape, dt) / p)
    return astype(rademacher(ks, shape), dt) * g


def ball(key, d, p=2, shape=(), dtype=None):
    """Points uniform in the unit ``p``-norm ball of dimension ``d``, shape ``shape + (d,)``, as
    ``jax.random.ball`` (Barthe, Guedon, Mendelson and Naor: generalized normals over their norm
    to the ``p`` plus an exponential).

    >>> import fnx
    >>> x = fnx.random.ball(fnx.random.key(0), 3, shape=(100,))
    >>> x.shape, bool(((x ** 2).sum(-1) <= 1).all())
    ((100, 3), True)
    """
    from .numpy import abs as fabs, expand_dims, power, sum as fsum
    d = _count("ball", d, "d")
    shape, dt = _shape("ball", shape), _float_dtype("ball", dtype)
    if not isinstance(p, (int, float, np.integer, np.floating)) or isinstance(p, bool) or not p > 0:
        raise ValueError(f"ball: p must be a positive number, got {p!r}")
    key = _check_key("ball", key)
    kg, ke = split(key)
    g = generalized_normal(kg, p, shape + (d,), dt)
    e = exponential(ke, shape, dt)
    return g / expand_dims(power(fsum(power(fabs(g), p), axis=-1) + e, 1.0 / p), -1)

# ----- generators: seedable key sources, the global one included --------------------------------------

_lock = threading.Lock()
_global = {"key": np.zeros(2, np.uint32), "count": 0, "seed": 0}  # the state of default_generator
_STATE_BYTES = 24  # get_state(): the root key's two words, the counter, the seed; each 8 bytes, little-endian


class Generator:
    """A seedable source of keys, the object ``torch.Generator`` is: pass it as ``generator=``.

    It holds a root key and a counter; each :meth:`next_key` returns a fresh
    key and advances the counter, so a generator gives a stream of independent
    keys, and two generators seeded alike give the same stream. The global
    source that ``fnx.manual_seed`` seeds, and that ``fnx.randn``, initialisers
    and dropout draw from, is the generator ``fnx.random.default_generator``.

    Args:
      device: recorded as ``.device`` for PyTorch's ``torch.Generator(device=...)``;
        keys are device-neutral (a draw lands on the device its function is told),
        so one generator serves every device.

    >>> import fnx
    >>> g = fnx.Generator().manual_seed(3)
    >>> a = fnx.randperm(5, generator=g)
    >>> bool((fnx.randperm(5, generator=fnx.Generator().manual_seed(3)) == a).all()), g.initial_seed()
    (True, 3)
    """

    def __init__(self, device="cpu"):
        from .core.backend import parse_device
        self.device = parse_device(device)
        self._state = {"key": np.zeros(2, np.uint32), "count": 0, "seed": 0}  # as manual_seed(0)

    @classmethod
    def _over(cls, state):
        """A generator whose state is the dict ``state`` (the global source's, shared with its users)."""
        from .core.backend import parse_device
        g = cls.__new__(cls)
        g.device, g._state = parse_device("cpu"), state
        return g

    def manual_seed(self, seed):
        """Restarts the stream from ``seed`` (an int in ``[-2**63, 2**64)``, PyTorch's range, taken modulo
        2**64); returns the generator."""
        seed = torch_seed("manual_seed", _integer("Generator.manual_seed", seed, "the seed"))
        root = np.asarray(_key_words(seed))
        with _lock:
            self._state.update(key=root, count=0, seed=seed)
        return self

    def seed(self):
        """Seeds the generator from the operating system's entropy and returns that seed (``torch.seed``)."""
        seed = int.from_bytes(os.urandom(8), "little")
        self.manual_seed(seed)
        return seed

    def initial_seed(self):
        """The seed the stream last restarted from (0 for a generator never seeded: it starts as seed 0)."""
        return self._state["seed"]

    def get_state(self):
        """The whole state as a uint8 array of 24 bytes, for :meth:`set_state` (``torch.Generator.get_state``)."""
        from .numpy import asarray
        with _lock:
            root, count, seed = self._state["key"], self._state["count"], self._state.get("seed", 0)
        data = np.asarray(root, "<u4").tobytes() + np.array([count, seed], "<u8").tobytes()
        return asarray(np.frombuffer(data, np.uint8).copy(), device="cpu")

    def set_state(self, new_state):
        """Restores a state from :meth:`get_state`; returns the generator.

        Raises:
          TypeError: ``new_state`` is not a uint8 array.
          ShapeError: it does not hold 24 bytes.
        """
        raw = np.asarray(new_state)
        if raw.dtype != np.uint8:
            raise TypeError(f"Generator.set_state: expected the uint8 array get_state() returns, got {raw.dtype}")
        if raw.shape != (_STATE_BYTES,):
            raise ShapeError(f"Generator.set_state: expected a state of shape ({_STATE_BYTES},) from get_state(), "
                             f"got shape {raw.shape}")
        data = raw.tobytes()
        root = np.frombuffer(data[:8], "<u4").astype(np.uint32)
        count, seed = (int(v) for v in np.frombuffer(data[8:], "<u8"))
        with _lock:
            self._state.update(key=root, count=count, seed=seed)
        return self

    def next_key(self):
        """A fresh key from this generator's stream (the stream advances by one)."""
        with _lock:
            root, c = self._state["key"], self._state["count"]
            self._state["count"] = c + 1
        # threefry2x32 of the root and the counter, computed here: both are concrete words
        return _as_array(_threefry_words(int(root[0]), int(root[1]), (1 << 31) | (c >> 32) & 0x7FFFFFFF,
                                         c & _MASK32))

    def __repr__(self):
        return f"<fnx.Generator on {self.device}, initial_seed={self.initial_seed()}>"


default_generator = Generator._over(_global)


def manual_seed(seed):
    """Seeds the global source (exported as ``fnx.manual_seed``) and returns it, ``default_generator``.

    >>> import fnx
    >>> fnx.random.manual_seed(0); a = fnx.random.next_key()
    <fnx.Generator on cpu:0, initial_seed=0>
    >>> fnx.manual_seed(0) is fnx.random.default_generator and bool((fnx.random.next_key() == a).all())
    True
    """
    return default_generator.manual_seed(seed)


def seed():
    """Seeds the global source from the operating system's entropy and returns that seed (``torch.seed``)."""
    return default_generator.seed()


def initial_seed():
    """The seed the global source last restarted from (``torch.initial_seed``); 0 until seeded."""
    return default_generator.initial_seed()


def get_rng_state():
    """The global generator's state as a uint8 array (``torch.get_rng_state``, ``torch.random.get_rng_state``)."""
    return default_generator.get_state()


def set_rng_state(new_state):
    """Restores the global generator's state from :func:`get_rng_state` (``torch.set_rng_state``)."""
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type=None):
    """``torch.random.fork_rng``: draws inside the block use the global stream, which is put back as it was
    when the block ends (fnx has one generator for every device, so ``devices`` changes nothing).

    >>> import fnx
    >>> _ = fnx.manual_seed(0)
    >>> with fnx.random.fork_rng():
    ...     inside = fnx.rand(2)
    >>> bool((fnx.rand(2) == inside).all())
    True
    """
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)


class _replaying:
    """Inside the block the global source stands at ``position`` (a :func:`_position` taken earlier), so a
    recomputation draws what the first computation drew (checkpoint's dropout masks); it is put back after.
    A ``position`` of None changes nothing."""

    def __init__(self, position):
        self.position = position

    def __enter__(self):
        if self.position is not None:
            self.saved = _position()
            _global["key"], _global["count"] = self.position

    def __exit__(self, *exc):
        if self.position is not None:
            _global["key"], _global["count"] = self.saved
        return False


def _position():
    """Where the global source stands: its root key and counter."""
    return _global["key"], _global["count"]


def next_key(generator=None):
    """A fresh key from ``generator`` (default: the global source), for initialisers, dropout and the
    ``generator=`` arguments of object-style code."""
    if generator is None:
        return default_generator.next_key()
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be an fnx.Generator or None, got {type(generator).__name__}")
    return generator.next_key()

# ----- more of jax.random's samplers, and its key-data functions ------------------------------------------

__all__ += ["maxwell", "double_sided_maxwell", "rayleigh", "wald", "f", "multinomial", "clone", "key_data",
            "wrap_key_data"]


def maxwell(key, shape=(), dtype=None):
    """Maxwell samples (the speed of a particle whose velocity is three standard normals), as
    ``jax.random.maxwell``: the norm of ``normal(key, shape + (3,))`` along its last axis.

    >>> import fnx
    >>> x = fnx.random.maxwell(fnx.random.key(0), (4,)); x.shape, bool((x >= 0).all())
    ((4,), True)
    """
    from .numpy import sqrt, sum as fsum
    shape, dt = _shape("maxwell", shape), _float_dtype("maxwell", dtype)
    z = normal(key, shape + (3,), dt)
    return sqrt(fsum(z * z, axis=-1))


def double_sided_maxwell(key, loc, scale, shape=(), dtype=None):
    """Double-sided Maxwell samples ``loc + scale * s * m``, a random sign ``s`` times a Maxwell draw ``m``, as
    ``jax.random.double_sided_maxwell``; differentiable in ``loc`` and ``scale``.

    As in JAX, the result has shape ``shape + broadcast(loc, scale).shape`` (the
    parameters' shape when ``shape`` is empty).

    >>> import fnx
    >>> fnx.random.double_sided_maxwell(fnx.random.key(0), 0.0, fnx.numpy.ones(3), (2,)).shape
    (2, 3)
    """
    key, dt = _check_key("double_sided_maxwell", key), _float_dtype("double_sided_maxwell", dtype)
    loc, scale = _on(key, loc, dt), _on(key, scale, dt)
    params = broadcast_shapes("double_sided_maxwell", loc.shape, scale.shape)
    shape = _shape("double_sided_maxwell", shape) + tuple(params)
    _require("double_sided_maxwell", "scale must be positive", scale, lambda v: v > 0)
    km, ks = split(key)
    sign = rademacher(ks, shape, "int32").astype(dt)
    return sign * maxwell(km, shape, dt) * scale + loc


def rayleigh(key, scale, shape=None, dtype=None):
    """Rayleigh samples ``scale * sqrt(-2 log o)`` of open uniforms ``o``, as ``jax.random.rayleigh`` (which takes
    the logarithm of a closed-at-0 uniform, so it can return infinity; this never does); differentiable in
    ``scale``.

    >>> import fnx
    >>> x = fnx.random.rayleigh(fnx.random.key(0), 2.0, (3,)); x.shape, bool((x > 0).all())
    ((3,), True)
    """
    from .numpy import log, sqrt
    key, shape, dt, (scale,) = _dist("rayleigh", key, shape, dtype, {"scale": scale}, grads=("scale",))
    _require("rayleigh", "scale must be positive", scale, lambda v: v > 0)
    return scale * sqrt(-2.0 * log(_open_unit("rayleigh", key, shape, dt)))


def wald(key, mean, shape=None, dtype=None):
    """Wald (inverse Gaussian) samples of mean ``mean`` and shape 1, as ``jax.random.wald`` (Michael, Schucany and
    Haas's transformation of a chi-square(1) draw ``y``, then a uniform to pick one of its two roots).

    The smaller root is taken as ``4 mean**2 y / (mean y + sqrt(4 mean y + mean**2 y**2))**2``,
    which is JAX's ``mean + mean**2 y / 2 - mean sqrt(...) / 2`` without its
    cancellation (that form loses every digit, and can reach 0 or below, for
    large ``mean y``). Differentiable in ``mean``, as in JAX (each root is a smooth
    function of ``mean`` and the draws).

    >>> import fnx
    >>> x = fnx.random.wald(fnx.random.key(0), 3.0, (4,)); x.shape, bool((x > 0).all())
    ((4,), True)
    """
    from .numpy import sqrt, where
    key, shape, dt, (mean,) = _dist("wald", key, shape, dtype, {"mean": mean}, grads=("mean",))
    _require("wald", "mean must be positive", mean, lambda v: v > 0)
    k1, k2 = split(key)
    v = normal(k1, shape, dt)
    z = _unit("wald", k2, shape, dt)
    y = v * v
    my = mean * y
    x = 4.0 * mean * my / (my + sqrt(4.0 * my + my * my)) ** 2
    return where(z <= mean / (mean + x), x, mean * mean / x)


def f(key, dfnum, dfden, shape=None, dtype=None):
    """F-distribution samples ``(chi2(dfnum) / dfnum) / (chi2(dfden) / dfden)``, as ``jax.random.f``; not
    differentiable in the degrees of freedom (see ``gamma``).

    >>> import fnx
    >>> x = fnx.random.f(fnx.random.key(0), 3.0, 5.0, (4,)); x.shape, bool((x > 0).all())
    ((4,), True)
    """
    dfnum, dfden = _no_derivative("f", "dfnum", dfnum), _no_derivative("f", "dfden", dfden)
    key, shape, dt, (dfnum, dfden) = _dist("f", key, shape, dtype, {"dfnum": dfnum, "dfden": dfden},
                                           grads=("dfnum", "dfden"))
    _require("f", "dfnum and dfden must be positive", dfnum, lambda v: v > 0)
    _require("f", "dfnum and dfden must be positive", dfden, lambda v: v > 0)
    from .numpy import exp, log
    k_den, k_num = split(key)
    # chi2(d) / d = gamma(d / 2) / (d / 2), the ratio taken in logs (chisquare's draws, guarded above)
    log_num = _log_gamma("f", k_num, dfnum / 2.0, shape, dt) - log(dfnum / 2.0)
    log_den = _log_gamma("f", k_den, dfden / 2.0, shape, dt) - log(dfden / 2.0)
    return exp(log_num - log_den)


def multinomial(key, n, p, *, shape=None, dtype=None, unroll=1):
    """Counts of ``n`` draws among the categories of probabilities ``p`` (last axis), as
    ``jax.random.multinomial``: one binomial per category, of the draws left, with the probability
    renormalised to the categories left.

    ``shape`` is the result's shape (``p``'s by default; its last axis is the
    categories'), ``n`` broadcasts to ``shape[:-1]``. Counts are floats (fnx's
    default float unless ``dtype`` says otherwise), as in JAX. ``unroll`` is
    accepted for JAX's signature (the loop over categories always runs unrolled).

    >>> import fnx
    >>> c = fnx.random.multinomial(fnx.random.key(0), 10, fnx.numpy.asarray([0.2, 0.3, 0.5]))
    >>> c.shape, float(c.sum())
    ((3,), 10.0)
    """
    from .numpy import asarray, broadcast_to, clip, cumsum, flip, moveaxis, stack, where
    del unroll
    key = _check_key("multinomial", key)
    out_dt = dtypes.default_float() if dtype is None else dtypes.canonical(dtype)
    n = _on(key, n, dtypes.float64)
    p = _on(key, p, dtypes.float64)
    if p.ndim == 0:
        raise ShapeError("multinomial: p must have at least one dimension (the categories), got a scalar")
    shape = p.shape if shape is None else _shape("multinomial", shape)
    if not shape or not _broadcasts(p.shape, shape) or np.broadcast_shapes(p.shape, shape) != tuple(shape) or \
            not _broadcasts(n.shape, shape[:-1]) or np.broadcast_shapes(n.shape, shape[:-1]) != tuple(shape[:-1]):
        raise ShapeError(f"multinomial: p of shape {p.shape} must broadcast to shape {tuple(shape)} and n of shape "
                         f"{n.shape} to its batch shape {tuple(shape[:-1])}")
    _require("multinomial", "p must lie in [0, 1]", p, lambda v: (v >= 0) & (v <= 1))
    remainder = broadcast_to(n, shape[:-1])
    p = moveaxis(broadcast_to(p, shape), -1, 0)
    left = flip(cumsum(flip(p, 0), 0), 0)  # the probability of this category and those after it
    ratios = clip(p / where(left == 0, 1.0, left), 0.0, 1.0)
    keys = split(key, shape[-1])
    counts = []
    for i in range(shape[-1]):
        count = binomial(keys[i], remainder, ratios[i], dtype=dtypes.float64)
        remainder = remainder - count
        counts.append(count)
    return asarray(moveaxis(stack(counts), 0, -1), out_dt)


def _check_keys(opname, keys):
    """``keys`` as an fnx array, after checking that it holds keys: uint32 with a last axis of 2."""
    from .numpy import asarray
    keys = asarray(keys)
    if keys.dtype != dtypes.uint32 or keys.ndim == 0 or keys.shape[-1] != 2:
        raise ShapeTypeError(f"{opname}: expected keys, a uint32 array whose last axis has length 2 (from "
                             f"fnx.random.key or split), got {keys.dtype} array of shape {keys.shape}")
    return keys


def clone(key):
    """``key`` itself, as ``jax.random.clone``: fnx keys are immutable arrays, so a copy and the original
    cannot differ (JAX's clone exists for its key-reuse checker)."""
    return _check_keys("clone", key)


def key_data(keys):
    """The uint32 words of ``keys``, as ``jax.random.key_data``: fnx keys are those words already, so this returns
    them (any batch shape ``(..., 2)``)."""
    return _check_keys("key_data", keys)


def wrap_key_data(key_bits_array, *, impl=None, dtype=None):
    """Keys from their uint32 words, as ``jax.random.wrap_key_data``: the words themselves, after checking
    them. ``impl`` (or ``dtype``) may name ``"threefry2x32"``, the only generator fnx has.

    >>> import fnx
    >>> k = fnx.random.key(7)
    >>> bool((fnx.random.wrap_key_data(fnx.random.key_data(k)) == k).all())
    True
    """
    if impl is not None and dtype is not None:
        raise ValueError("wrap_key_data: give impl or dtype, not both")
    impl = impl if impl is not None else dtype
    if impl is not None and impl != "threefry2x32":
        raise ValueError(f"wrap_key_data: fnx keys are Threefry-2x32 keys; impl must be None or 'threefry2x32', "
                         f"got {impl!r}")
    return _check_keys("wrap_key_data", key_bits_array)
