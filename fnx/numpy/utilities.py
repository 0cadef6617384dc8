"""The smaller corners of the NumPy namespace: floating-point neighbours, bit packing, matrix-vector
products, phase unwrapping, ``place``, printing, and ``.npy``/``.npz`` files.

Most are compositions of fnx operations and inherit their derivatives and
batching (``unwrap``, ``matvec``, ``vecmat``, ``sort_complex``, ``packbits``,
``place`` in its values). ``nextafter`` needs the bits of a float, so it is one
non-differentiable primitive, and ``spacing`` is written with it. Printing and
file functions delegate to NumPy's own: files are read and written with
``allow_pickle=False`` always, so loading a file never runs code.
"""
import operator

import numpy as np

from ..core import dtypes
from ..errors import DTypeError, ImmutableError, ShapeError
from . import elementwise as el, reductions as red, shape as sh
from ._base import asarray, batch_elementwise, binary_fn, normalize_axis, not_differentiable, same_shape

__all__ = ["fabs", "nextafter", "spacing", "sort_complex", "matvec", "vecmat", "bitwise_count", "euler_gamma",
           "einsum_path", "packbits", "unpackbits", "iterable", "mask_indices", "frombuffer", "fromiter",
           "fromstring", "array_str", "array_repr", "printoptions", "get_printoptions", "set_printoptions",
           "place", "save", "savez", "load", "unwrap"]

euler_gamma = np.euler_gamma

# ----- floating-point neighbours ---------------------------------------------------------------------

nextafter_p = not_differentiable("nextafter", lambda xp, x, y: xp.nextafter(x, y), same_shape)
nextafter_p.batch = lambda vals, bdims, **params: batch_elementwise(nextafter_p, vals, bdims, params)


def _float_result(opname):
    def result(dt):
        if dt.kind == "c":
            raise DTypeError(f"{opname}: complex input is not supported")
        return dt if dt.kind == "f" else np.promote_types(dt, np.float16)
    return result


nextafter = binary_fn(nextafter_p, result=_float_result("nextafter"), doc="""The next float after ``x1`` towards
    ``x2``, elementwise, as ``numpy.nextafter``. Not differentiable (its derivative is zero).

    >>> import fnx.numpy as fnp
    >>> fnp.nextafter(fnp.array(1.0, dtype="float64"), 2.0) - 1.0
    Array(2.22044605e-16, dtype=float64)
    """)


def _to_float(opname, x):
    x = asarray(x)
    if x.dtype.kind == "c":
        raise DTypeError(f"{opname}: complex input is not supported")
    if x.dtype.kind in "biu":
        x = el.astype(x, np.promote_types(x.dtype, np.float16))  # NumPy's smallest float holding the integers
    return x


def spacing(x):
    """The distance from ``x`` to the next float away from zero (towards +inf at zero), as ``numpy.spacing``;
    NaN for infinities and NaNs. Negative for negative ``x``.

    >>> import fnx.numpy as fnp
    >>> fnp.spacing(fnp.array([1.0, -1.0], dtype="float32"))
    Array([ 1.1920929e-07, -1.1920929e-07], dtype=float32)
    """
    x = el.stop_gradient(_to_float("spacing", x))  # piecewise constant: zero derivative
    finite = el.isfinite(x)
    safe = el.where(finite, x, el.astype(asarray(0), x.dtype))  # inf - inf would warn; the answer is nan
    away = el.astype(sh.broadcast_to(el.where(el.less(x, 0), -np.inf, np.inf), x.shape), x.dtype)
    return el.where(finite, el.subtract(nextafter_p.bind(safe, away), safe), np.nan)


def fabs(x):
    """The absolute value of real ``x``, as ``numpy.fabs``: integers become floats, complex input is an error.

    >>> import fnx.numpy as fnp
    >>> fnp.fabs(fnp.array([-1.5, 2.0]))
    Array([1.5, 2. ], dtype=float32)
    """
    return el.abs(_to_float("fabs", x))


# ----- sorting, products, bits --------------------------------------------------------------------------


def sort_complex(a):
    """``a`` sorted by real part, then imaginary part, as a complex array, as ``numpy.sort_complex``
    (8- and 16-bit integers give complex64, other reals complex128).

    >>> import fnx.numpy as fnp
    >>> fnp.sort_complex(fnp.array([5, 3, 6, 2, 1]))
    Array([1.+0.j, 2.+0.j, 3.+0.j, 5.+0.j, 6.+0.j], dtype=complex128)
    """
    from .sorting import sort
    x = asarray(a)
    if x.dtype.kind == "c":
        return sort(x)
    target = dtypes.complex64 if x.dtype in (np.int8, np.uint8, np.int16, np.uint16) else dtypes.complex128
    return el.astype(sort(x), target)


def matvec(x1, x2):
    """The matrix-vector product over the last axes, ``(..., m, n), (..., n) -> (..., m)``, broadcasting the
    leading axes, as ``numpy.matvec``. Differentiable in both.

    >>> import fnx.numpy as fnp
    >>> fnp.matvec(fnp.array([[1., 2.], [3., 4.]]), fnp.array([1., 1.]))
    Array([3., 7.], dtype=float32)
    """
    from .linalg import matmul
    a, v = asarray(x1), asarray(x2)
    if a.ndim < 2 or v.ndim < 1 or a.shape[-1] != v.shape[-1]:
        raise ShapeError(f"matvec: expected (..., m, n) and (..., n), got shapes {a.shape} and {v.shape}")
    return matmul(a, v[..., None])[..., 0]


def vecmat(x1, x2):
    """The vector-matrix product ``conj(v) @ A`` over the last axes, ``(..., n), (..., n, m) -> (..., m)``, as
    ``numpy.vecmat`` (the vector is conjugated). Differentiable in both.

    >>> import fnx.numpy as fnp
    >>> fnp.vecmat(fnp.array([1., 1.]), fnp.array([[1., 2.], [3., 4.]]))
    Array([4., 6.], dtype=float32)
    """
    from .linalg import matmul
    v, a = asarray(x1), asarray(x2)
    if a.ndim < 2 or v.ndim < 1 or a.shape[-2] != v.shape[-1]:
        raise ShapeError(f"vecmat: expected (..., n) and (..., n, m), got shapes {v.shape} and {a.shape}")
    return matmul(el.conjugate(v)[..., None, :], a)[..., 0, :]


_POPCOUNT = (0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F, 0x0101010101010101)


def bitwise_count(x):
    """The number of 1 bits in ``|x|``, as ``numpy.bitwise_count`` (uint8 result).

    >>> import fnx.numpy as fnp
    >>> fnp.bitwise_count(fnp.array([0, 7, -8, 255]))
    Array([0, 3, 1, 8], dtype=uint8)
    """
    x = asarray(x)
    if x.dtype.kind not in "biu":
        raise DTypeError(f"bitwise_count: expected integers or booleans, got {x.dtype}")
    if x.dtype.kind == "b":
        return el.astype(x, dtypes.uint8)
    if x.dtype.kind == "i":  # |INT_MIN| wraps to INT_MIN, whose unsigned bits are still the one bit of |x|
        x = el.astype(el.abs(x), np.dtype(f"u{x.dtype.itemsize}"))
    v = el.astype(x, dtypes.uint64)
    m1, m2, m4, h01 = (asarray(np.uint64(c)) for c in _POPCOUNT)
    v = v - el.bitwise_and(el.right_shift(v, asarray(np.uint64(1))), m1)  # SWAR: 2-, 4-, 8-bit partial sums
    v = el.bitwise_and(v, m2) + el.bitwise_and(el.right_shift(v, asarray(np.uint64(2))), m2)
    v = el.bitwise_and(v + el.right_shift(v, asarray(np.uint64(4))), m4)
    return el.astype(el.right_shift(v * h01, asarray(np.uint64(56))), dtypes.uint8)


def _bitorder(opname, bitorder):
    if bitorder not in ("big", "little"):
        raise ValueError(f"{opname}: bitorder must be 'big' or 'little', got {bitorder!r}")


def packbits(a, axis=None, bitorder="big"):
    """The truth values of ``a`` packed eight to a byte along ``axis`` (the flattened array when None), padded
    with zeros at the end, as ``numpy.packbits``; uint8 result.

    >>> import fnx.numpy as fnp
    >>> fnp.packbits(fnp.array([1, 0, 1, 1, 0, 0, 0, 0, 1]))
    Array([176, 128], dtype=uint8)
    """
    _bitorder("packbits", bitorder)
    x = asarray(a)
    if x.dtype.kind not in "biu":
        raise DTypeError(f"packbits: expected integers or booleans, got {x.dtype}")
    if axis is None:
        x, axis = sh.ravel(x), 0
    axis = normalize_axis("packbits", axis, x.ndim)
    bits = el.astype(el.not_equal(x, 0), dtypes.uint8)
    n = x.shape[axis]
    bits = sh.moveaxis(bits, axis, -1)
    pad = (-n) % 8
    if pad:
        bits = sh.pad(bits, [(0, 0)] * (bits.ndim - 1) + [(0, pad)])
    bits = sh.reshape(bits, bits.shape[:-1] + ((n + pad) // 8, 8))
    weights = np.array([128, 64, 32, 16, 8, 4, 2, 1] if bitorder == "big" else [1, 2, 4, 8, 16, 32, 64, 128],
                       np.uint8)
    packed = el.astype(red.sum(el.astype(bits, dtypes.int64) * asarray(weights.astype(np.int64)), axis=-1),
                       dtypes.uint8)
    return sh.moveaxis(packed, -1, axis)


def unpackbits(a, axis=None, count=None, bitorder="big"):
    """The bits of the uint8 array ``a`` along ``axis`` (the flattened array when None), as
    ``numpy.unpackbits``; ``count`` keeps that many bits (negative: drops them from the end; more than there
    are: pads with zeros).

    >>> import fnx.numpy as fnp
    >>> fnp.unpackbits(fnp.array([176], dtype="uint8"))
    Array([1, 0, 1, 1, 0, 0, 0, 0], dtype=uint8)
    """
    _bitorder("unpackbits", bitorder)
    x = asarray(a)
    if x.dtype != np.uint8:
        raise DTypeError(f"unpackbits: expected a uint8 array, got {x.dtype}")
    if axis is None:
        x, axis = sh.ravel(x), 0
    axis = normalize_axis("unpackbits", axis, x.ndim)
    shifts = np.arange(7, -1, -1) if bitorder == "big" else np.arange(8)
    v = sh.moveaxis(x, axis, -1)
    bits = el.bitwise_and(el.right_shift(v[..., None], asarray(shifts.astype(np.uint8))), asarray(np.uint8(1)))
    bits = sh.reshape(bits, v.shape[:-1] + (v.shape[-1] * 8,))
    if count is not None:
        count = operator.index(count)
        total = bits.shape[-1]
        if count < -total:
            raise ValueError(f"unpackbits: count={count} drops more bits than the {total} unpacked along the axis "
                             f"(NumPy: -count larger than number of elements)")
        keep = count if count >= 0 else total + count
        if keep <= total:
            bits = bits[..., :keep]
        else:
            bits = sh.pad(bits, [(0, 0)] * (bits.ndim - 1) + [(0, keep - total)])
    return sh.moveaxis(bits, -1, axis)


def einsum_path(subscripts, *operands, optimize="auto"):
    """The contraction order :func:`einsum` would follow, as ``jax.numpy.einsum_path``: opt_einsum's
    ``(path, info)``, ``info`` printing the cost of each step. Only the operands' shapes are read.

    ``optimize`` is an opt_einsum strategy (``'auto'``, ``'greedy'``, ``'optimal'``...), an explicit path,
    True (``'optimal'``) or False (left to right).

    >>> import fnx.numpy as fnp
    >>> path, info = fnp.einsum_path("ij,jk,kl->il", fnp.ones((2, 3)), fnp.ones((3, 4)), fnp.ones((4, 5)))
    >>> path
    [(0, 1), (0, 1)]
    """
    import opt_einsum
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum_path: subscripts must be a string, got {type(subscripts).__name__}")
    shapes = [tuple(asarray(op).shape) for op in operands]
    if isinstance(optimize, bool):
        optimize = "optimal" if optimize else [(0, 1)] * (len(shapes) - 1) if len(shapes) > 1 else [(0,)]
    try:
        return opt_einsum.contract_path(subscripts, *shapes, shapes=True, optimize=optimize)
    except ValueError as err:
        raise ValueError(f"einsum_path: {err}") from None


# ----- index helpers and constructors from Python data ---------------------------------------------------


def iterable(y):
    """Whether ``y`` can be iterated over, as ``numpy.iterable`` (a 0-d array cannot).

    >>> import fnx.numpy as fnp
    >>> fnp.iterable([1, 2]), fnp.iterable(fnp.array(2.0))
    (True, False)
    """
    if getattr(y, "ndim", None) == 0:
        return False
    try:
        iter(y)
    except TypeError:
        return False
    return True


def mask_indices(n, mask_func, k=0, *, size=None):
    """The indices ``(rows, cols)`` where ``mask_func(ones((n, n)), k)`` is nonzero, as
    ``numpy.mask_indices`` (``mask_func`` such as :func:`triu` or :func:`tril`).

    >>> import fnx.numpy as fnp
    >>> fnp.mask_indices(3, fnp.triu, 1)
    (Array([0, 0, 1], dtype=int64), Array([1, 2, 2], dtype=int64))
    """
    from .creation import ones
    from .indexing import nonzero
    n = operator.index(n)
    if n < 0:
        raise ValueError(f"mask_indices: n must be non-negative, got {n}")
    mask = asarray(mask_func(ones((n, n), dtype=dtypes.int64), k))
    if mask.shape != (n, n):
        raise ShapeError(f"mask_indices: mask_func returned shape {mask.shape}, expected {(n, n)}")
    if size is None:
        return nonzero(mask)
    return nonzero(mask, size=size)


def frombuffer(buffer, dtype=float, count=-1, offset=0):
    """A 1-d array read from the bytes of ``buffer``, as ``numpy.frombuffer`` (``float`` means float64, as
    in NumPy, since the bytes are float64's).

    >>> import fnx.numpy as fnp
    >>> fnp.frombuffer(b"\\x01\\x02\\x03", dtype="uint8")
    Array([1, 2, 3], dtype=uint8)
    """
    return asarray(np.frombuffer(buffer, dtype=dtype, count=count, offset=offset).copy())


def fromiter(iterable, dtype, count=-1):
    """A 1-d array of ``dtype`` from the values of ``iterable``, as ``numpy.fromiter``.

    >>> import fnx.numpy as fnp
    >>> fnp.fromiter((i * i for i in range(4)), dtype="int64")
    Array([0, 1, 4, 9], dtype=int64)
    """
    return asarray(np.fromiter(iterable, dtype=dtype, count=count))


def fromstring(string, dtype=float, count=-1, *, sep):
    """A 1-d array from the numbers in the text ``string`` separated by ``sep``, as ``numpy.fromstring``
    (text mode only; ``float`` means float64).

    >>> import fnx.numpy as fnp
    >>> fnp.fromstring("1 2 3.5", sep=" ")
    Array([1. , 2. , 3.5], dtype=float64)
    """
    if not sep:
        raise ValueError("fromstring: binary mode (sep='') is not supported; use frombuffer for bytes")
    return asarray(np.fromstring(string, dtype=dtype, count=count, sep=sep))


# ----- printing ------------------------------------------------------------------------------------


def array_str(a, max_line_width=None, precision=None, suppress_small=None):
    """The string of ``a``'s values (as ``str``), with NumPy's print options overridable, as
    ``numpy.array_str``.

    >>> import fnx.numpy as fnp
    >>> fnp.array_str(fnp.array([1.5, 2.25]), precision=1)
    '[1.5 2.2]'
    """
    return np.array_str(np.asarray(asarray(a)), max_line_width, precision, suppress_small)


def array_repr(arr, max_line_width=None, precision=None, suppress_small=None):
    """``repr(arr)`` (``Array([...], dtype=...)``) with NumPy's print options overridable, as
    ``numpy.array_repr``.

    >>> import fnx.numpy as fnp
    >>> fnp.array_repr(fnp.array([1.5, 2.25]), precision=1)
    'Array([1.5, 2.2], dtype=float32)'
    """
    overrides = {k: v for k, v in (("linewidth", max_line_width), ("precision", precision),
                                   ("suppress", suppress_small)) if v is not None}
    with np.printoptions(**overrides):
        return repr(asarray(arr))


printoptions = np.printoptions
get_printoptions = np.get_printoptions
set_printoptions = np.set_printoptions


# ----- place ------------------------------------------------------------------------------------------


def place(arr, mask, vals, *, inplace=True):
    """``arr`` with the entries where ``mask`` holds replaced, in order, by ``vals`` (repeated as needed),
    as ``jax.numpy.place``.

    fnx arrays are immutable, so ``inplace=False`` is required: it returns the
    new array (NumPy's ``numpy.place`` changes ``arr`` and returns None). The
    mask must be concrete. Differentiable in ``arr`` and ``vals``.

    Raises:
      ImmutableError: with ``inplace=True`` (the default, as in JAX).
      ValueError: when ``vals`` is empty but ``mask`` selects entries.

    >>> import fnx.numpy as fnp
    >>> x = fnp.arange(6)
    >>> fnp.place(x, x % 2 == 1, fnp.array([10, 20]), inplace=False)
    Array([ 0, 10,  2, 20,  4, 10], dtype=int64)
    """
    if inplace:
        raise ImmutableError("place: fnx arrays are immutable, so place cannot work in place; call "
                             "place(arr, mask, vals, inplace=False) and use the array it returns")
    from .indexing import flatnonzero, take
    x = asarray(arr)
    m = asarray(mask)
    if m.size != x.size:
        raise ShapeError(f"place: mask of shape {m.shape} must have as many entries as arr of shape {x.shape}")
    where = flatnonzero(m)
    n = where.shape[0]
    v = sh.ravel(asarray(vals))
    if n == 0:
        return x
    if v.shape[0] == 0:
        raise ValueError("place: cannot insert from an empty vals array")
    from .creation import arange
    picked = el.astype(take(v, arange(n) % v.shape[0]), x.dtype)
    return sh.reshape(sh.ravel(x).at[where].set(picked), x.shape)


# ----- .npy and .npz files ---------------------------------------------------------------------------


def _host(opname, a):
    value = np.asarray(asarray(a))
    if value.dtype == object:
        raise DTypeError(f"{opname}: object arrays would need pickling, which fnx never does")
    return value


def save(file, arr, allow_pickle=False):
    """Writes ``arr`` to a NumPy ``.npy`` file (``.npy`` is appended to a name without it), as
    ``numpy.save``. Pickling is never used.

    >>> import os, tempfile, fnx.numpy as fnp
    >>> path = os.path.join(tempfile.mkdtemp(), "x.npy")
    >>> fnp.save(path, fnp.arange(3))
    >>> fnp.load(path)
    Array([0, 1, 2], dtype=int64)
    """
    if allow_pickle:
        raise ValueError("save: allow_pickle=True is not supported; fnx never pickles")
    np.save(file, _host("save", arr), allow_pickle=False)


def savez(file, *args, allow_pickle=False, **kwds):
    """Writes several arrays to an uncompressed ``.npz`` file, positional ones as ``arr_0``, ``arr_1``, ...,
    keyword ones under their names, as ``numpy.savez``. Pickling is never used."""
    if allow_pickle:
        raise ValueError("savez: allow_pickle=True is not supported; fnx never pickles")
    np.savez(file, *[_host("savez", a) for a in args], allow_pickle=False,
             **{k: _host("savez", v) for k, v in kwds.items()})


def load(file, mmap_mode=None, allow_pickle=False, fix_imports=True, encoding="ASCII", *, max_header_size=None):
    """Reads a ``.npy`` file as an fnx array, or an ``.npz`` file as a dict of fnx arrays (read at once, in
    the file's order), as ``numpy.load`` with ``allow_pickle=False``: a file holding pickled objects
    is refused.

    Raises:
      ValueError: for ``allow_pickle=True``, or a file that needs pickling.
    """
    if allow_pickle:
        raise ValueError("load: allow_pickle=True is not supported; fnx never unpickles")
    kw = {} if max_header_size is None else {"max_header_size": max_header_size}
    try:
        out = np.load(file, mmap_mode=mmap_mode, allow_pickle=False, fix_imports=fix_imports, encoding=encoding,
                      **kw)
    except ValueError as err:
        raise ValueError(f"load: {err}") from None
    if isinstance(out, np.lib.npyio.NpzFile):
        with out:
            try:
                return {name: asarray(np.array(out[name])) for name in out.files}
            except ValueError as err:
                raise ValueError(f"load: {err}") from None
    return asarray(np.array(out))


# ----- phase unwrapping --------------------------------------------------------------------------------


def unwrap(p, discont=None, axis=-1, *, period=2 * np.pi):
    """``p`` with its jumps of more than ``max(discont, period / 2)`` along ``axis`` replaced by their
    equivalents modulo ``period``, as ``numpy.unwrap``. Differentiable in ``p`` (the corrections are
    piecewise constant).

    >>> import fnx.numpy as fnp
    >>> fnp.unwrap(fnp.array([0., 3., 6.5, 0.2]), period=4.)
    Array([ 0. , -1. , -1.5,  0.2], dtype=float32)
    """
    x = asarray(p)
    if x.ndim == 0:
        raise ShapeError("unwrap: p must have at least one dimension")
    axis = normalize_axis("unwrap", axis, x.ndim)
    if x.dtype.kind == "c":
        raise DTypeError("unwrap: complex input is not supported")
    from .numerical import diff
    dd = diff(x, axis=axis)
    if discont is None:
        discont = period / 2
    dt = dtypes.result_type(dd, period)
    if dt.kind in "iub":
        high, rem = divmod(period, 2)
        ambiguous = rem == 0
    else:
        high, ambiguous = period / 2, True
    dd = el.astype(dd, dt)
    low = -high
    ddmod = el.remainder(dd - low, period) + low
    if ambiguous:  # a jump of exactly half a period keeps its sign
        ddmod = el.where(el.logical_and(el.equal(ddmod, low), el.greater(dd, 0)), high, ddmod)
    correction = el.where(el.less(el.abs(dd), discont), 0, ddmod - dd)
    from .reductions import cumsum
    head = sh.slice_axis(el.astype(x, dt), axis, 0, 1)
    rest = sh.slice_axis(el.astype(x, dt), axis, 1, x.shape[axis]) + cumsum(correction, axis=axis)
    return sh.concatenate([head, rest], axis=axis)

