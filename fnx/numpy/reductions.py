"""Reductions: sums, means, extrema, statistics, cumulative operations."""
import numpy as np

from ..core import dtypes
from ..core.primitive import ShapedArray, defprim
from ._base import asarray, linear_jvp, normalize_axes

__all__ = ["sum", "mean"]


def _reduced_shape(shape, axes):
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def _restore(ct, x_shape, axes):
    """A reduction's cotangent broadcast back over the reduced axes."""
    from .shape import broadcast_to, reshape
    kept = tuple(1 if i in axes else d for i, d in enumerate(x_shape))
    return broadcast_to(reshape(ct, kept), x_shape)


sum_p = defprim("reduce_sum", impl=lambda xp, x, *, axes: xp.sum(x, axis=axes),
                shape=lambda x, *, axes: ShapedArray(_reduced_shape(x.shape, axes), x.dtype),
                vjp=lambda ct, x, *, out, axes: (_restore(ct, x.shape, axes),))
sum_p.jvp = linear_jvp(sum_p)


def _keep(out, x_shape, axes, keepdims):
    if not keepdims:
        return out
    from .shape import reshape
    return reshape(out, tuple(1 if i in axes else d for i, d in enumerate(x_shape)))


def sum(a, axis=None, dtype=None, keepdims=False, initial=None, where=None):
    """Sum over ``axis`` (None, int or tuple), as ``numpy.sum``; bools and small ints sum as int64."""
    x = asarray(a)
    if where is not None:
        from .elementwise import where as _where
        x = _where(where, x, 0)
    if dtype is not None:
        x = x.astype(dtype)
    elif x.dtype.kind == "b" or (x.dtype.kind in "iu" and x.dtype.itemsize < 8):
        x = x.astype(np.uint64 if x.dtype.kind == "u" else np.int64)
    axes = normalize_axes("sum", axis, x.ndim)
    out = sum_p.bind(x, axes=axes) if axes else x
    if initial is not None:
        out = out + initial
    return _keep(out, x.shape, axes, keepdims)


def mean(a, axis=None, dtype=None, keepdims=False, where=None):
    """Arithmetic mean over ``axis``; integer input gives a floating result (float64, as numpy)."""
    x = asarray(a)
    if dtype is None and x.dtype.kind in "biu":
        dtype = np.float64
    axes = normalize_axes("mean", axis, x.ndim)
    n = 1
    for i in axes:
        n *= x.shape[i]
    if where is not None:
        from .elementwise import where as _where
        from .shape import broadcast_to
        w = broadcast_to(asarray(where), x.shape)
        return sum(x, axis, dtype, keepdims, where=w) / sum(w, axis, keepdims=keepdims)
    return sum(x, axis, dtype, keepdims) / n
