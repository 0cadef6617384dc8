"""Indexing: ``x[idx]`` and the ``x.at[idx]`` functional updates.

Basic indexing (integers, slices, ``None``, ``...``) becomes a strided
``slice`` primitive plus a ``reshape``. Its transpose, ``slice_transpose``,
puts a cotangent back into zeros of the input's shape; the two are each
other's VJPs, so slicing differentiates to any order.
"""
import numpy as np

from ..core.primitive import ShapedArray, defprim
from ..errors import ShapeError
from ._base import asarray, linear_jvp

__all__ = ["slice_axis"]


def _slice_shape(shape, slices):
    return tuple(len(range(*s)) for s in slices) + tuple(shape[len(slices):])


def _as_slices(slices):
    return tuple(slice(*s) for s in slices)


slice_p = defprim(
    "slice", impl=lambda xp, x, *, slices: x[_as_slices(slices)],
    shape=lambda x, *, slices: ShapedArray(_slice_shape(x.shape, slices), x.dtype),
    vjp=lambda ct, x, *, out, slices: (slice_transpose_p.bind(ct, shape=x.shape, slices=slices),))
slice_p.jvp = linear_jvp(slice_p)


def _slice_transpose_impl(xp, ct, *, shape, slices):
    out = xp.zeros(shape, ct.dtype)
    out[_as_slices(slices)] = ct
    return out


slice_transpose_p = defprim(
    "slice_transpose", impl=_slice_transpose_impl,
    shape=lambda ct, *, shape, slices: ShapedArray(shape, ct.dtype),
    vjp=lambda ct, y, *, out, shape, slices: (slice_p.bind(ct, slices=slices),))
slice_transpose_p.jvp = linear_jvp(slice_transpose_p)


def static_slice(x, slices):
    """``x[s0, s1, ...]`` for Python slices, as one primitive (``slices`` normalised here)."""
    norm = tuple(s.indices(d) for s, d in zip(slices, x.shape))
    if all(s == (0, d, 1) for s, d in zip(norm, x.shape)):
        return x
    return slice_p.bind(x, slices=norm)


def slice_axis(x, axis, start, stop, step=1):
    x = asarray(x)
    slices = [slice(None)] * x.ndim
    slices[axis] = slice(start, stop, step)
    return static_slice(x, slices)


def _expand_index(idx, ndim):
    """Normalises a basic index to a list with Ellipsis replaced by full slices."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    n_real = sum(1 for i in idx if i is not None and i is not Ellipsis)
    if n_real > ndim:
        raise IndexError(f"too many indices: array is {ndim}-dimensional, but {n_real} were indexed")
    if sum(1 for i in idx if i is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    out = []
    for i in idx:
        if i is Ellipsis:
            out.extend([slice(None)] * (ndim - n_real))
        else:
            out.append(i)
    if Ellipsis not in idx:
        out.extend([slice(None)] * (ndim - n_real))
    return out


def _is_basic(idx):
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(i is None or i is Ellipsis or isinstance(i, (slice, int, np.integer)) and not isinstance(i, bool)
               for i in items)


def getitem(x, idx):
    """``x[idx]`` with NumPy semantics."""
    x = asarray(x)
    if _is_basic(idx):
        return _basic_getitem(x, idx)
    from . import _advanced
    return _advanced.getitem(x, idx)


def _basic_getitem(x, idx):
    from .shape import reshape
    items = _expand_index(idx, x.ndim)
    slices, out_shape, dim = [], [], 0
    for i in items:
        if i is None:
            out_shape.append(1)
            continue
        d = x.shape[dim]
        if isinstance(i, slice):
            s = i.indices(d)
            slices.append(slice(*s))
            out_shape.append(len(range(*s)))
        else:
            i = int(i)
            if not -d <= i < d:
                raise IndexError(f"index {i} is out of bounds for axis {dim} with size {d}")
            i %= d
            slices.append(slice(i, i + 1, 1))
        dim += 1
    y = static_slice(x, slices)
    return reshape(y, tuple(out_shape)) if tuple(out_shape) != y.shape else y
