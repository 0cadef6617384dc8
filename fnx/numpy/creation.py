"""Array creation. These make constants, so none of them is differentiable."""
import numpy as np

from ..core import dtypes
from ..core.array import wrap
from ._base import asarray, array

__all__ = ["array", "asarray", "zeros", "ones", "full", "empty", "zeros_like", "ones_like", "full_like",
           "empty_like", "arange", "eye", "identity"]


def _dtype(dtype, fill=None):
    if dtype is not None:
        return dtypes.canonical(dtype)
    if fill is None:
        return dtypes.default_float()
    return dtypes.result_type(fill)


def _shape(shape):
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)


def zeros(shape, dtype=None, device=None):
    """An array of zeros; ``dtype`` defaults to the default float dtype (float32)."""
    return wrap(np.zeros(_shape(shape), _dtype(dtype)))


def ones(shape, dtype=None, device=None):
    return wrap(np.ones(_shape(shape), _dtype(dtype)))


def empty(shape, dtype=None, device=None):
    """Like :func:`zeros`: fnx arrays are immutable, so uninitialised memory would be useless."""
    return zeros(shape, dtype, device)


def full(shape, fill_value, dtype=None, device=None):
    fill = asarray(fill_value) if not isinstance(fill_value, (bool, int, float, complex)) else fill_value
    if not isinstance(fill, (bool, int, float, complex)):
        from .shape import broadcast_to
        return broadcast_to(fill.astype(dtype) if dtype is not None else fill, _shape(shape))
    return wrap(np.full(_shape(shape), fill, _dtype(dtype, fill)))


def zeros_like(a, dtype=None, shape=None, device=None):
    a = asarray(a)
    return wrap(np.zeros(a.shape if shape is None else _shape(shape), a.dtype if dtype is None else dtype))


def ones_like(a, dtype=None, shape=None, device=None):
    a = asarray(a)
    return wrap(np.ones(a.shape if shape is None else _shape(shape), a.dtype if dtype is None else dtype))


def empty_like(a, dtype=None, shape=None, device=None):
    return zeros_like(a, dtype, shape)


def full_like(a, fill_value, dtype=None, shape=None, device=None):
    a = asarray(a)
    return full(a.shape if shape is None else shape, fill_value, a.dtype if dtype is None else dtype)


def arange(start, stop=None, step=1, dtype=None, device=None):
    """Evenly spaced values in ``[start, stop)``; floats give the default float dtype."""
    if stop is None:
        start, stop = 0, start
    dt = dtypes.canonical(dtype) if dtype is not None else dtypes.result_type(start, stop, step)
    return wrap(np.arange(start, stop, step, dtype=dt))


def eye(N, M=None, k=0, dtype=None, device=None):
    return wrap(np.eye(N, M, k, dtype=_dtype(dtype)))


def identity(n, dtype=None, device=None):
    return eye(n, dtype=dtype)
