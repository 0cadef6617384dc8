"""Array creation: arrays from data, shapes, ranges and grids.

Creation functions are not primitives. What they make from shapes alone (zeros,
ranges, identity matrices) is a constant with no derivative, so numpy computes
it once and fnx wraps the result. The ones that take arrays (``full`` with an
array fill, ``linspace``, ``meshgrid``, ``diag``) are written with fnx
operations instead, so they accept traced values and differentiate like any
other code; the ``*_like`` functions read only the shape and dtype of their
argument, so they work on traced values too.

Dtypes are NumPy's, with the one fnx difference: a Python float that becomes an
array on its own gets the default float dtype (float32 unless changed with
``fnx.set_default_dtype``), like JAX and PyTorch. So ``zeros(3)``,
``arange(0., 1., .1)`` and ``linspace(0, 1)`` are float32, while
``full((2,), 3)`` and ``arange(5)`` are int64 and numpy arrays keep their dtype.
"""
import math
import operator

import numpy as np

from ..core import backend, dtypes
from ..core.backend import data_device
from ..core.array import Array, wrap
from ..core.primitive import Abstract
from ..errors import DTypeError
from ._base import _SCALARS, asarray as _asarray, filled, from_host, is_traced, normalize_axis

__all__ = ["array", "asarray", "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like",
           "empty_like", "arange", "linspace", "logspace", "meshgrid", "eye", "identity", "tri", "diag",
           "diagflat", "from_dlpack", "copy", "geomspace", "indices", "tril_indices", "triu_indices"]


def _dtype(dtype, fill=None):
    """An explicit ``dtype``, else the dtype of ``fill`` (a weak Python scalar), else the default float."""
    if dtype is not None:
        return dtypes.canonical(dtype)
    if fill is None:
        return dtypes.default_float()
    return dtypes.result_type(fill)


def _shape(opname, shape):
    try:
        shape = (operator.index(shape),) if not isinstance(shape, (tuple, list)) else tuple(map(operator.index, shape))
    except TypeError:
        raise TypeError(f"{opname}: shape must be an int or a tuple of ints, got {shape!r}") from None
    if any(d < 0 for d in shape):
        raise ValueError(f"{opname}: negative dimensions are not allowed, got shape {shape}")
    return shape


def _place(x, device):
    """``x`` on ``device`` (None: the default device for new data, where it is for fnx input)."""
    if device is None:
        return x
    device = backend.parse_device(device)
    if device is x.device:
        return x
    from ..transforms.device import device_put
    return device_put(x, device)


def _new(payload, device):
    """A freshly made numpy payload as an array on ``device`` (None: the default device)."""
    return from_host(payload, device)


# ----- from data -----------------------------------------------------------------------


def asarray(a, dtype=None, order=None, *, device=None, copy=None):
    """``a`` as an fnx array: fnx arrays are returned as they are, anything else is copied.

    Python floats and lists of them get the default float dtype (float32);
    numpy arrays keep theirs. Arrays are immutable, so ``copy=True`` changes
    nothing for an fnx array, while ``copy=False`` raises (as in NumPy) when a
    copy is unavoidable: for every input that is not already an fnx array of
    ``dtype``. ``order`` is accepted for compatibility; fnx arrays expose no layout.

    >>> import numpy as np, fnx.numpy as fnp
    >>> fnp.asarray([1., 2.]), fnp.asarray(np.arange(2.))
    (Array([1., 2.], dtype=float32), Array([0., 1.], dtype=float64))
    """
    if dtype is None and device is None and isinstance(a, Array):  # the common call, from fnx's own functions
        return a
    if copy is False and not (isinstance(a, Array) and (dtype is None or dtypes.canonical(dtype) == a.dtype)):
        raise ValueError(f"asarray: copy=False, but making an fnx array from {type(a).__name__} needs a copy "
                         "(fnx copies foreign data so that nobody can mutate the array later)")
    return _place(_asarray(a, dtype), device)


def array(object, dtype=None, *, copy=True, order="K", ndmin=0, device=None):
    """An fnx array from ``object``, with at least ``ndmin`` dimensions (ones prepended).

    Like :func:`asarray`; ``copy=True`` returns an fnx array itself, since it is immutable.

    >>> import fnx.numpy as fnp
    >>> fnp.array(1.5), fnp.array([1, 2], ndmin=2)
    (Array(1.5, dtype=float32), Array([[1, 2]], dtype=int64))
    """
    out = asarray(object, dtype, device=device, copy=None if copy else copy)
    if ndmin > out.ndim:
        from .shape import reshape
        out = reshape(out, (1,) * (ndmin - out.ndim) + out.shape)
    return out


# ----- from shapes -----------------------------------------------------------------------


def zeros(shape, dtype=None, order="C", *, device=None):
    """An array of zeros; ``dtype`` defaults to the default float dtype (float32).

    >>> import fnx.numpy as fnp
    >>> fnp.zeros(3), fnp.zeros((1, 2), dtype=int)
    (Array([0., 0., 0.], dtype=float32), Array([[0, 0]], dtype=int64))
    """
    return filled(_shape("zeros", shape), 0, _dtype(dtype), device)


def ones(shape, dtype=None, order="C", *, device=None):
    """An array of ones; ``dtype`` defaults to the default float dtype (float32)."""
    return filled(_shape("ones", shape), 1, _dtype(dtype), device)


def empty(shape, dtype=None, order="C", *, device=None):
    """The same as :func:`zeros`: an immutable array of uninitialised memory would be of no use."""
    return zeros(shape, dtype, device=device)


def full(shape, fill_value, dtype=None, order="C", *, device=None):
    """An array of ``shape`` filled with ``fill_value`` (broadcast when it is an array).

    The dtype is that of ``fill_value``: ``full(2, 3)`` is int64, ``full(2, 1.5)``
    the default float. An array fill keeps its derivative.

    >>> import fnx.numpy as fnp
    >>> fnp.full((2,), 3), fnp.full(2, [1., 2.], dtype="float64")
    (Array([3, 3], dtype=int64), Array([1., 2.], dtype=float64))
    """
    shape = _shape("full", shape)
    if isinstance(fill_value, _SCALARS):
        return filled(shape, fill_value, _dtype(dtype, fill_value), device)
    from .shape import broadcast_to
    fill = _asarray(fill_value, dtype)
    return _place(broadcast_to(fill, shape), device)


def _shape_dtype(a, dtype, shape, opname):
    """The shape and dtype a ``*_like`` function makes, reading only ``a.shape`` and ``a.dtype``."""
    if not (hasattr(a, "shape") and hasattr(a, "dtype")):
        a = _asarray(a)
    return (a.shape if shape is None else _shape(opname, shape),
            a.dtype if dtype is None else dtypes.canonical(dtype))


def _device_of(a, device):
    """``*_like`` arrays land on ``a``'s device unless told otherwise (as in NumPy 2 and PyTorch)."""
    return device if device is not None else getattr(a, "device", None) if isinstance(a, (Array, Abstract)) else None


def zeros_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """Zeros of the shape and dtype of ``a`` (which may be traced: only its shape and dtype are read)."""
    shape, dt = _shape_dtype(a, dtype, shape, "zeros_like")
    return filled(shape, 0, dt, _device_of(a, device))


def ones_like(a, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """Ones of the shape and dtype of ``a``."""
    shape, dt = _shape_dtype(a, dtype, shape, "ones_like")
    return filled(shape, 1, dt, _device_of(a, device))


def empty_like(prototype, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """The same as :func:`zeros_like` (``prototype`` is NumPy's name for its first argument)."""
    return zeros_like(prototype, dtype, shape=shape, device=device)


def full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, *, device=None):
    """``fill_value`` in the shape and dtype of ``a`` (the dtype of ``a`` wins, as in NumPy)."""
    shape, dt = _shape_dtype(a, dtype, shape, "full_like")
    return full(shape, fill_value, dt, device=_device_of(a, device))


def eye(N, M=None, k=0, dtype=None, order="C", *, device=None):
    """A 2-d array with ones on diagonal ``k`` and zeros elsewhere (default float dtype).

    >>> import fnx.numpy as fnp
    >>> fnp.eye(2, 3, k=1, dtype=int)
    Array([[0, 1, 0],
           [0, 0, 1]], dtype=int64)
    """
    return _new(np.eye(N, M, k, dtype=_dtype(dtype)), device)


def identity(n, dtype=None, *, device=None):
    """The ``n`` by ``n`` identity matrix."""
    return eye(n, dtype=dtype, device=device)


def tri(N, M=None, k=0, dtype=None, *, device=None):
    """Ones at and below diagonal ``k`` of an ``N`` by ``M`` array, zeros above.

    >>> import fnx.numpy as fnp
    >>> fnp.tri(2, 3, dtype=bool)
    Array([[ True, False, False],
           [ True,  True, False]], dtype=bool)
    """
    return _new(np.tri(N, M, k, dtype=_dtype(dtype)), device)


# ----- ranges --------------------------------------------------------------------------------


def arange(start=None, stop=None, step=None, dtype=None, *, device=None):
    """Evenly spaced values in ``[start, stop)``.

    Python ints give int64 and Python floats the default float dtype, so
    ``arange(5)`` is int64 and ``arange(0., 1., .1)`` float32. The number of
    values is NumPy's, since the range is computed by NumPy in float64 first.

    >>> import fnx.numpy as fnp
    >>> fnp.arange(3), fnp.arange(0., 1., .25)
    (Array([0, 1, 2], dtype=int64), Array([0.  , 0.25, 0.5 , 0.75], dtype=float32))
    """
    if start is None and stop is None:
        raise TypeError("arange: stop must be given (arange(stop), arange(start, stop) or arange(stop=stop))")
    if stop is None:
        start, stop = 0, start
    elif start is None:  # arange(stop=4), as NumPy 2 takes it
        start = 0
    if step is None:
        step = 1
    dt = dtypes.canonical(dtype) if dtype is not None else dtypes.result_type(start, stop, step)
    bounds = [v.item() if isinstance(v, Array) else v for v in (start, stop, step)]
    if bounds[2] == 0:
        raise ZeroDivisionError("arange: step must not be zero")
    if dtype is not None:
        return _new(np.arange(*bounds, dtype=dt), device)
    out = np.arange(*bounds)
    return _new(out if out.dtype == dt else out.astype(dt), device)


def _linspace(opname, start, stop, num, endpoint, axis):
    """NumPy's linspace algorithm in fnx operations: ``(values, step, dtype of the result)``.

    The values stay in the dtype they were computed in (float64 for Python
    numbers, so that casting them gives NumPy's float32 values exactly).
    """
    from .shape import broadcast_to, concatenate, moveaxis, reshape
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"{opname}: number of samples, {num}, must be non-negative")
    start, stop = (x if isinstance(x, _SCALARS) else _asarray(x) for x in (start, stop))
    if isinstance(start, _SCALARS) and isinstance(stop, _SCALARS):
        calc = dtypes.complex128 if isinstance(start, complex) or isinstance(stop, complex) else dtypes.float64
        out_dt = dtypes.result_type(start, stop, 1.0)
    else:
        calc = out_dt = dtypes.result_type(start, stop, 1.0)
    start, stop = _asarray(start, calc), _asarray(stop, calc)
    delta = stop - start
    y = reshape(arange(num, dtype=calc), (-1,) + (1,) * delta.ndim)
    div = num - 1 if endpoint else num
    if div > 0:
        # NumPy divides first when the step underflows to zero; only denormal ranges differ.
        step = delta / div
        y = y * step
    else:
        step = full(delta.shape, np.nan, calc)
        y = y * delta
    y = y + start
    if endpoint and num > 1:
        last = reshape(broadcast_to(stop, delta.shape), (1,) + delta.shape)
        y = concatenate([y[:-1], last])
    if axis != 0:
        y = moveaxis(y, 0, normalize_axis(opname, axis, y.ndim))
    return y, step, out_dt


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *, device=None):
    """``num`` evenly spaced values from ``start`` to ``stop`` (included unless ``endpoint=False``).

    ``start`` and ``stop`` may be arrays (the samples then run along ``axis``)
    and may be traced: the result is differentiable in both. With Python
    numbers the result has the default float dtype; ``retstep=True`` also
    returns the spacing, as an fnx array.

    >>> import fnx.numpy as fnp
    >>> fnp.linspace(0, 1, 5)
    Array([0.  , 0.25, 0.5 , 0.75, 1.  ], dtype=float32)
    >>> fnp.linspace(0, 1, 4, endpoint=False, retstep=True)
    (Array([0.  , 0.25, 0.5 , 0.75], dtype=float32), Array(0.25, dtype=float32))
    """
    y, step, dt = _linspace("linspace", start, stop, num, endpoint, axis)
    if dtype is not None:
        dt = dtypes.canonical(dtype)
    if dt.kind in "iu":
        from .elementwise import floor
        y = floor(y)
    y = _place(y.astype(dt), device)
    if retstep:
        return y, _place(step.astype(dt if dt.kind in "fc" else step.dtype), device)
    return y


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """``base ** linspace(start, stop, num)``: ``num`` values evenly spaced on a log scale.

    >>> import fnx.numpy as fnp
    >>> fnp.logspace(0, 2, 3)
    Array([  1.,  10., 100.], dtype=float32)
    """
    from .elementwise import power
    from .shape import expand_dims, reshape
    if not isinstance(base, _SCALARS):
        # As NumPy: start, stop and base become arrays (Python numbers as NumPy makes them) of
        # one number of dimensions, and base gets the samples' axis.
        start, stop, base = (_asarray(np.asarray(x) if isinstance(x, _SCALARS) else x) for x in (start, stop, base))
        nd = max(x.ndim for x in (start, stop, base))
        start, stop, base = (reshape(x, (1,) * (nd - x.ndim) + x.shape) for x in (start, stop, base))
        base = expand_dims(base, axis)
    y, _, dt = _linspace("logspace", start, stop, num, endpoint, axis)
    return power(base, y).astype(dtypes.result_type(base, dt) if dtype is None else dtype)


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """``num`` values from ``start`` to ``stop`` in geometric progression, as ``numpy.geomspace``.

    ``start`` and ``stop`` share a sign (a sign change gives NaNs, as in
    NumPy), are not zero, and come back exactly at the ends. Real input only;
    arrays give one sequence per element along ``axis``, differentiable in both.

    >>> import fnx.numpy as fnp
    >>> fnp.geomspace(1, 1000, 4), fnp.geomspace(-2., -8., 3)
    (Array([   1.,   10.,  100., 1000.], dtype=float32), Array([-2., -4., -8.], dtype=float32))
    """
    from .elementwise import astype, floor, log10, sign
    from .shape import broadcast_to, concatenate, moveaxis, reshape
    start, stop = (x if isinstance(x, _SCALARS) else _asarray(x) for x in (start, stop))
    if dtypes.result_type(start, stop).kind == "c":
        raise DTypeError("geomspace: complex start or stop is not supported; use real values")
    for end in (start, stop):
        if not is_traced(end) and np.any(np.asarray(end) == 0):
            raise ValueError("geomspace: a geometric sequence cannot include zero")
    if isinstance(start, _SCALARS) and isinstance(stop, _SCALARS):
        # The logarithms in float64, as NumPy takes them; logspace casts the samples to the default float.
        unit = math.copysign(1.0, start)
        y = logspace(math.log10(start / unit), math.log10(stop / unit) if stop / unit > 0 else math.nan, num,
                     endpoint) * unit
    else:
        dt = dtypes.result_type(start, stop, 1.0)
        start, stop = _asarray(start, dt), _asarray(stop, dt)
        unit = sign(start)
        y = logspace(log10(start / unit), log10(stop / unit), num, endpoint) * unit
    if num > 0:
        def at_end(v):
            return reshape(broadcast_to(_asarray(v, y.dtype), y.shape[1:]), (1,) + y.shape[1:])
        last = [at_end(stop)] if endpoint and num > 1 else []
        y = concatenate([at_end(start), y[1:num - len(last)]] + last)
    if dtype is not None:
        dt = dtypes.canonical(dtype)
        y = astype(floor(y) if dt.kind in "iu" else y, dt)
    return moveaxis(y, 0, normalize_axis("geomspace", axis, y.ndim)) if axis != 0 else y


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    """Coordinate arrays from 1-d coordinate vectors, as a tuple (NumPy 2).

    ``indexing="xy"`` (the default) puts the first vector along the columns,
    ``"ij"`` along the rows; ``sparse=True`` returns broadcastable arrays
    instead of full grids. Differentiable in the vectors.

    >>> import fnx.numpy as fnp
    >>> X, Y = fnp.meshgrid(fnp.arange(3), fnp.arange(2))
    >>> X
    Array([[0, 1, 2],
           [0, 1, 2]], dtype=int64)
    """
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    from .shape import broadcast_arrays, ravel, reshape
    xs = [ravel(_asarray(x)) for x in xi]
    out = []
    for i, x in enumerate(xs):
        shape = [1] * len(xs)
        shape[i] = -1
        if indexing == "xy" and len(xs) > 1:
            shape[0], shape[1] = shape[1], shape[0]
        out.append(reshape(x, shape))
    return tuple(out if sparse else broadcast_arrays(*out))


# ----- diagonals -------------------------------------------------------------------------------


def diag(v, k=0):
    """The ``k``-th diagonal of a 2-d array, or a 2-d array with the 1-d ``v`` on its ``k``-th diagonal.

    >>> import fnx.numpy as fnp
    >>> fnp.diag(fnp.array([1, 2]), k=1)
    Array([[0, 1, 0],
           [0, 0, 2],
           [0, 0, 0]], dtype=int64)
    """
    with data_device(v):
        return _diag_here(v, k)


def _diag_here(v, k=0):
    from .elementwise import where
    from .shape import concatenate, reshape
    v = _asarray(v)
    k = operator.index(k)
    if v.ndim == 2:
        from .. import numpy as fnp
        return fnp.diagonal(v, k)
    if v.ndim != 1:
        raise ValueError(f"diag: input must be 1-d or 2-d, got shape {v.shape}")
    n = v.shape[0] + abs(k)
    if k:
        v = concatenate([v, zeros(abs(k), v.dtype)])
    # Row i of the result holds v[i] above the main diagonal, column j holds v[j] below it.
    values = reshape(v, (n, 1) if k >= 0 else (1, n))
    return where(eye(n, n, k, dtype=bool), values, zeros((), v.dtype))


def diagflat(v, k=0):
    """A 2-d array with the flattened ``v`` on its ``k``-th diagonal."""
    from .shape import ravel
    return diag(ravel(_asarray(v)), k)


def from_dlpack(x, *, device=None, copy=None):
    """An fnx array from any object with ``__dlpack__`` (numpy, cupy, torch, jax...).

    By default fnx copies the data, since the producer could still write to a
    shared buffer and fnx arrays are immutable. ``copy=False`` shares it with
    no copy (on a GPU too); the caller then promises not to mutate the
    producer's array afterwards.

    >>> import numpy as np, fnx.numpy as fnp
    >>> fnp.from_dlpack(np.arange(3.0))
    Array([0., 1., 2.], dtype=float64)
    """
    if not hasattr(x, "__dlpack__"):
        raise TypeError(f"from_dlpack: {type(x).__name__} does not implement __dlpack__")
    dev_type, dev_id = x.__dlpack_device__()
    if int(dev_type) == 1:  # kDLCPU
        payload = np.from_dlpack(x)
        payload = payload if copy is False else np.array(payload, copy=True)
        return _place(from_host(payload, backend.CPU), device)
    import cupy
    payload = cupy.from_dlpack(x)
    payload = payload if copy is False else payload.copy()
    return _place(wrap(payload, backend.parse_device(f"cuda:{int(dev_id)}")), device)


# ----- copies and index grids --------------------------------------------------------------------


def copy(a, order="K", subok=False):
    """``a`` as an fnx array, as ``numpy.copy``. fnx arrays are immutable, so an fnx array is its own
    copy; numpy arrays and other data are copied (see :func:`asarray`). Differentiable (the identity).

    >>> import numpy as np, fnx.numpy as fnp
    >>> a = np.zeros(2); b = fnp.copy(a); a[0] = 1.0; b
    Array([0., 0.], dtype=float64)
    """
    return _asarray(a).__copy__()  # a snapshot of ``p.data`` or ``p.grad``, whose in-place updates it must miss


def indices(dimensions, dtype=int, sparse=False):
    """The index grid of an array of shape ``dimensions``, one array per axis, as ``numpy.indices``.

    Dense (one stacked array) by default; ``sparse=True`` gives a tuple of broadcastable arrays.

    >>> import fnx.numpy as fnp
    >>> fnp.indices((2, 3))[1]
    Array([[0, 1, 2],
           [0, 1, 2]], dtype=int64)
    """
    grid = np.indices(_shape("indices", dimensions), dtype=_dtype(dtype), sparse=sparse)
    return tuple(_new(g, None) for g in grid) if sparse else _new(grid, None)


def tril_indices(n, k=0, m=None):
    """Row and column indices (int64) of the lower triangle of an ``n`` by ``m`` array, at and below
    diagonal ``k``, as ``numpy.tril_indices``.

    >>> import fnx.numpy as fnp
    >>> fnp.tril_indices(2)
    (Array([0, 1, 1], dtype=int64), Array([0, 0, 1], dtype=int64))
    """
    return tuple(_new(i, None) for i in np.tril_indices(n, k, m))


def triu_indices(n, k=0, m=None):
    """Row and column indices (int64) of the upper triangle of an ``n`` by ``m`` array, at and above
    diagonal ``k``, as ``numpy.triu_indices``.

    >>> import fnx.numpy as fnp
    >>> fnp.triu_indices(2, k=1)
    (Array([0], dtype=int64), Array([1], dtype=int64))
    """
    return tuple(_new(i, None) for i in np.triu_indices(n, k, m))
