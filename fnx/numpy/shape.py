"""Shape operations: views and rearrangements that move no arithmetic.

All of these are linear, so each JVP applies the operation to the tangent and
each VJP is the operation's transpose (``reshape`` back, ``transpose`` by the
inverse permutation, sum what ``broadcast_to`` copied).
"""
import numpy as np

from ..core.primitive import ShapedArray, defprim
from ..errors import ShapeError
from ._base import asarray, broadcast_shapes, linear_jvp, normalize_axes, normalize_axis

__all__ = ["broadcast_to", "reshape", "transpose", "moveaxis", "expand_dims", "squeeze", "concatenate",
           "stack", "ravel", "swapaxes", "broadcast_arrays"]

# ----- broadcast_to -------------------------------------------------------------------------


def _broadcast_vjp(ct, x, *, out, shape):
    from .reductions import sum as _sum
    lead = len(shape) - x.ndim
    axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(x.shape) if d == 1 and shape[lead + i] != 1)
    if axes:
        ct = _sum(ct, axis=axes)
    if ct.shape != x.shape:
        ct = reshape(ct, x.shape)
    return (ct,)


broadcast_p = defprim("broadcast_to", impl=lambda xp, x, *, shape: xp.broadcast_to(x, shape),
                      shape=lambda x, *, shape: ShapedArray(shape, x.dtype), vjp=_broadcast_vjp)
broadcast_p.jvp = linear_jvp(broadcast_p)


def broadcast_to(x, shape):
    """``x`` broadcast to ``shape`` (as ``numpy.broadcast_to``)."""
    x = asarray(x)
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)
    if x.shape == shape:
        return x
    if len(shape) < x.ndim or broadcast_shapes("broadcast_to", x.shape, shape) != shape:
        raise ShapeError(f"broadcast_to: cannot broadcast an array of shape {x.shape} to {shape}")
    return broadcast_p.bind(x, shape=shape)


def broadcast_arrays(*args):
    arrays = [asarray(a) for a in args]
    shape = broadcast_shapes("broadcast_arrays", *[a.shape for a in arrays])
    return [broadcast_to(a, shape) for a in arrays]


# ----- reshape ---------------------------------------------------------------------------------

reshape_p = defprim("reshape", impl=lambda xp, x, *, shape: xp.reshape(x, shape),
                    shape=lambda x, *, shape: ShapedArray(shape, x.dtype),
                    vjp=lambda ct, x, *, out, shape: (reshape(ct, x.shape),))
reshape_p.jvp = linear_jvp(reshape_p)


def reshape(x, shape, order="C", *, newshape=None):
    """``x`` with a new shape of the same size; one dimension may be -1."""
    x = asarray(x)
    if newshape is not None:
        shape = newshape
    if order != "C":
        raise NotImplementedError(f"reshape: only order='C' is supported, got {order!r}")
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)
    if -1 in shape:
        known = 1
        for d in shape:
            if d != -1:
                known *= d
        if shape.count(-1) > 1 or known == 0 or x.size % known:
            raise ShapeError(f"reshape: cannot reshape an array of shape {x.shape} into {shape}")
        shape = tuple(x.size // known if d == -1 else d for d in shape)
    if int(np.prod(shape, dtype=np.int64)) != x.size:
        raise ShapeError(f"reshape: cannot reshape an array of shape {x.shape} (size {x.size}) into {shape}")
    if shape == x.shape:
        return x
    return reshape_p.bind(x, shape=shape)


def ravel(x, order="C"):
    return reshape(x, (-1,), order)


# ----- transpose ---------------------------------------------------------------------------------

transpose_p = defprim("transpose", impl=lambda xp, x, *, axes: xp.transpose(x, axes),
                      shape=lambda x, *, axes: ShapedArray(tuple(x.shape[a] for a in axes), x.dtype),
                      vjp=lambda ct, x, *, out, axes: (transpose_p.bind(ct, axes=tuple(np.argsort(axes))),))
transpose_p.jvp = linear_jvp(transpose_p)


def transpose(x, axes=None):
    x = asarray(x)
    if axes is None:
        axes = tuple(range(x.ndim))[::-1]
    axes = tuple(normalize_axis("transpose", a, x.ndim) for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ShapeError(f"transpose: axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}")
    if axes == tuple(range(x.ndim)):
        return x
    return transpose_p.bind(x, axes=axes)


def moveaxis(x, source, destination):
    x = asarray(x)
    src = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
    dst = (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
    if len(src) != len(dst):
        raise ValueError(f"moveaxis: source {source} and destination {destination} differ in length")
    src = [normalize_axis("moveaxis", a, x.ndim) for a in src]
    dst = [normalize_axis("moveaxis", a, x.ndim) for a in dst]
    order = [a for a in range(x.ndim) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, order)


def swapaxes(x, axis1, axis2):
    x = asarray(x)
    axes = list(range(x.ndim))
    a, b = normalize_axis("swapaxes", axis1, x.ndim), normalize_axis("swapaxes", axis2, x.ndim)
    axes[a], axes[b] = axes[b], axes[a]
    return transpose(x, axes)


def expand_dims(x, axis):
    x = asarray(x)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    ndim = x.ndim + len(axes)
    axes = normalize_axes("expand_dims", axes, ndim)
    shape = list(x.shape)
    for a in axes:
        shape.insert(a, 1)
    return reshape(x, shape)


def squeeze(x, axis=None):
    x = asarray(x)
    if axis is None:
        axes = tuple(i for i, d in enumerate(x.shape) if d == 1)
    else:
        axes = normalize_axes("squeeze", axis, x.ndim)
        for a in axes:
            if x.shape[a] != 1:
                raise ShapeError(f"squeeze: axis {a} of shape {x.shape} has length {x.shape[a]}, not 1")
    return reshape(x, tuple(d for i, d in enumerate(x.shape) if i not in axes))


# ----- concatenate --------------------------------------------------------------------------------


def _concat_vjp(ct, *xs, out, axis):
    from .indexing import slice_axis
    cts, start = [], 0
    for x in xs:
        cts.append(slice_axis(ct, axis, start, start + x.shape[axis]))
        start += x.shape[axis]
    return tuple(cts)


def _concat_shape(*xs, axis):
    shape = list(xs[0].shape)
    shape[axis] = sum(x.shape[axis] for x in xs)
    return ShapedArray(shape, xs[0].dtype)


concatenate_p = defprim("concatenate", impl=lambda xp, *xs, axis: xp.concatenate(xs, axis=axis),
                        shape=_concat_shape, vjp=_concat_vjp)
concatenate_p.jvp = linear_jvp(concatenate_p)


def concatenate(arrays, axis=0, dtype=None):
    """Joins arrays along an existing axis; ``axis=None`` flattens them first."""
    from ..core import dtypes
    from .elementwise import astype
    arrays = [asarray(a) for a in arrays]
    if not arrays:
        raise ValueError("concatenate: need at least one array")
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    dt = dtypes.canonical(dtype) if dtype is not None else dtypes.result_type(*arrays)
    arrays = [astype(a, dt) for a in arrays]
    nd = arrays[0].ndim
    if nd == 0:
        raise ShapeError("concatenate: zero-dimensional arrays cannot be concatenated")
    axis = normalize_axis("concatenate", axis, nd)
    for a in arrays:
        if a.ndim != nd or any(d != e for i, (d, e) in enumerate(zip(a.shape, arrays[0].shape)) if i != axis):
            raise ShapeError(f"concatenate: shapes {', '.join(str(b.shape) for b in arrays)} differ off axis {axis}")
    if len(arrays) == 1:
        return arrays[0]
    return concatenate_p.bind(*arrays, axis=axis)


def stack(arrays, axis=0, dtype=None):
    """Joins same-shape arrays along a new axis."""
    arrays = [asarray(a) for a in arrays]
    if not arrays:
        raise ValueError("stack: need at least one array")
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ShapeError(f"stack: all input arrays must have the same shape, got {', '.join(map(str, shapes))}")
    axis = normalize_axis("stack", axis, arrays[0].ndim + 1)
    expanded = [expand_dims(a, axis) for a in arrays]
    if len(expanded) == 1:
        return expanded[0] if dtype is None else expanded[0].astype(dtype)
    return concatenate(expanded, axis=axis, dtype=dtype)
