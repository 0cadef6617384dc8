"""Shape operations: rearrangements, joins, splits and slices that do no arithmetic.

Every one of them is linear, so its JVP applies the operation to the tangent and
its VJP is the operation's transpose: ``reshape`` back, ``transpose`` by the
inverse permutation, sum what ``broadcast_to`` copied, split what
``concatenate`` joined (and join what ``split`` split), put a slice back into
zeros of the input's shape (``slice_transpose``) and slice that again.

Only those seven operations are primitives. The rest of the family is built
from them, because the composition costs no more than a dedicated kernel would
and its derivatives come for free: ``flip`` is a slice with step -1, ``tile``
and ``repeat`` broadcast along a new axis and merge it, ``roll`` joins two
slices, ``diagonal`` takes a strided slice of the last two axes flattened,
``tril``/``triu`` select against a mask, and ``pad`` writes the array into zeros
(``slice_transpose`` again), joins constant blocks, or gathers the positions
``numpy.pad`` copies from (edge, reflect, symmetric, wrap).

Under vmap the batch axis is just one more axis, and each rule leaves it where it
already is whenever the operation allows: ``transpose`` fixes it in its
permutation, ``split``, ``concatenate`` and ``slice`` shift their axis past it (a
full slice for the batch), ``broadcast_to`` keeps it in place among the new
leading axes. Only ``reshape`` moves it, to the front, since merging or
splitting axes around it would mix examples.
"""
import itertools
import math
import operator

import numpy as np

from ..core.array import Array, wrap
from ..core.backend import data_device
from ..core.primitive import ShapedArray, defprim
from ..errors import ImmutableError, ShapeError, TracerError
from ._base import (asarray, batch_size, broadcast_shapes, linear_jvp, normalize_axes, normalize_axis,
                    same_dtype_payloads)

__all__ = ["broadcast_to", "broadcast_arrays", "reshape", "ravel", "transpose", "moveaxis", "swapaxes",
           "expand_dims", "squeeze", "concatenate", "stack", "hstack", "vstack", "dstack", "column_stack",
           "split", "array_split", "tile", "repeat", "flip", "fliplr", "flipud", "roll", "pad", "diagonal",
           "tril", "triu", "atleast_1d", "atleast_2d", "atleast_3d", "concat", "permute_dims", "unstack", "rot90"]


def _no_out(opname, out):
    if out is not None:
        raise ImmutableError(f"{opname}: fnx arrays are immutable, so out= is not supported; use the returned array")


_SHAPE_TYPES = frozenset([int, tuple, list])


def _int_tuple(opname, shape):
    if type(shape) is tuple and all(type(d) is int for d in shape):
        return shape
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    try:
        return tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(f"{opname}: a shape must be an int or a sequence of ints, got {shape!r}") from None


def batch_axis_at(x, bdim, d, size=None):
    """``x`` with its batch axis at ``d``: moved there, or, when ``x`` is unbatched (``bdim`` None),
    broadcast along a new axis ``d`` of length ``size``. For batching rules."""
    if bdim is None:
        x = asarray(x)
        before, after = x.shape[:d], x.shape[d:]
        return broadcast_p.bind(reshape(x, before + (1,) + after), shape=before + (size,) + after)
    return x if bdim == d else moveaxis(x, bdim, d)


def _past(axis, bdim):
    """A logical axis, counted in the batched value whose batch axis is ``bdim``."""
    return axis + (axis >= bdim)


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


def _broadcast_batch(vals, bdims, *, shape):
    # x's axes align with the trailing axes of ``shape``, so the batch axis stays among them.
    (x,), (d,) = vals, bdims
    at = len(shape) - x.ndim + 1 + d
    return broadcast_p.bind(x, shape=shape[:at] + (x.shape[d],) + shape[at:]), at


broadcast_p = defprim("broadcast_to", impl=lambda xp, x, *, shape: xp.broadcast_to(x, shape),
                      shape=lambda x, *, shape: ShapedArray(shape, x.dtype), vjp=_broadcast_vjp,
                      batch=_broadcast_batch, residuals=())
broadcast_p.jvp = linear_jvp(broadcast_p)


def broadcast_to(array, shape):
    """``array`` broadcast to ``shape``, as ``numpy.broadcast_to``.

    >>> import fnx.numpy as fnp
    >>> fnp.broadcast_to(fnp.array([1, 2]), (2, 2))
    Array([[1, 2],
           [1, 2]], dtype=int64)
    """
    x = asarray(array)
    shape = _int_tuple("broadcast_to", shape)
    if x.shape == shape:
        return x
    lead = len(shape) - x.ndim
    if lead < 0 or any(d < 0 for d in shape) or any(d != 1 and d != e for d, e in zip(x.shape, shape[lead:])):
        raise ShapeError(f"broadcast_to: cannot broadcast an array of shape {x.shape} to {shape}")
    return broadcast_p.bind(x, shape=shape)


def broadcast_arrays(*args):
    """The arguments broadcast to their common shape, as a tuple (``numpy.broadcast_arrays``)."""
    arrays = [asarray(a) for a in args]
    shape = broadcast_shapes("broadcast_arrays", *[a.shape for a in arrays])
    return tuple(broadcast_to(a, shape) for a in arrays)


# ----- reshape ---------------------------------------------------------------------------------

def _reshape_batch(vals, bdims, *, shape):
    x = batch_axis_at(vals[0], bdims[0], 0)
    return reshape_p.bind(x, shape=x.shape[:1] + shape), 0


# The array methods, not xp.reshape/xp.transpose: numpy's function wrappers cost more than the views.
reshape_p = defprim("reshape", impl=lambda xp, x, *, shape: x.reshape(shape),
                    shape=lambda x, *, shape: ShapedArray(shape, x.dtype),
                    vjp=lambda ct, x, *, out, shape: (reshape(ct, x.shape),), batch=_reshape_batch, residuals=())
reshape_p.jvp = linear_jvp(reshape_p)


def reshape(a, shape=None, order="C", *, newshape=None, copy=None):
    """``a`` with a new shape of the same size; one dimension may be -1.

    ``order`` is the index order elements are read and placed in, as NumPy's:
    ``"C"`` (last axis fastest) or ``"F"`` (first axis fastest; the reverse of
    the axes reshaped in C order). ``"A"`` is ``"C"``: fnx arrays have no memory
    layout, so none is Fortran-contiguous.

    >>> import fnx.numpy as fnp
    >>> fnp.reshape(fnp.arange(6), (2, -1)).shape
    (2, 3)
    """
    if type(a) is Array and type(a._value) is np.ndarray and type(shape) in _SHAPE_TYPES and order == "C":
        try:  # a concrete array: numpy's reshape is the view; the checks below name what it refuses
            return wrap(a._value.reshape(shape), a._device)
        except (ValueError, TypeError):
            pass
    x = asarray(a)
    if newshape is not None:
        shape = newshape
    if order not in ("C", "F", "A"):
        raise ValueError(f"reshape: order must be 'C', 'F' or 'A', got {order!r}")
    if order == "F":
        shape = _int_tuple("reshape", shape)
        try:
            return transpose(reshape(transpose(x), shape[::-1]))
        except ShapeError:
            raise ShapeError(f"reshape: cannot reshape an array of shape {x.shape} into {shape} (order='F')") from None
    shape = _int_tuple("reshape", shape)
    if shape == x.shape:
        return x
    if any(d < -1 for d in shape) or shape.count(-1) > 1:
        raise ShapeError(f"reshape: cannot reshape an array of shape {x.shape} into {shape}")
    size = math.prod(x.shape)
    if -1 in shape:
        known = 1
        for d in shape:
            if d != -1:
                known *= d
        if known == 0 or size % known:
            raise ShapeError(f"reshape: cannot reshape an array of shape {x.shape} into {shape}")
        shape = tuple(size // known if d == -1 else d for d in shape)
    if math.prod(shape) != size:
        raise ShapeError(f"reshape: cannot reshape an array of shape {x.shape} (size {size}) into {shape}")
    if shape == x.shape:
        return x
    return reshape_p.bind(x, shape=shape)


def ravel(a, order="C"):
    """``a`` flattened to one dimension, its elements read in ``order`` (``"C"``, ``"F"``, ``"A"`` or ``"K"``;
    ``"A"`` and ``"K"`` read as ``"C"``, the only layout fnx arrays have)."""
    if order == "K":
        order = "C"
    return reshape(a, (-1,), order)


# ----- transpose ---------------------------------------------------------------------------------

def _transpose_batch(vals, bdims, *, axes):
    # The batch axis maps to itself; the others are permuted around it.
    (x,), (d,) = vals, bdims
    perm = [_past(a, d) for a in axes]
    perm.insert(d, d)
    return transpose_p.bind(x, axes=tuple(perm)), d


transpose_p = defprim("transpose", impl=lambda xp, x, *, axes: x.transpose(axes),
                      shape=lambda x, *, axes: ShapedArray(tuple(x.shape[a] for a in axes), x.dtype),
                      vjp=lambda ct, x, *, out, axes: (transpose_p.bind(ct, axes=tuple(np.argsort(axes).tolist())),),
                      batch=_transpose_batch, residuals=())
transpose_p.jvp = linear_jvp(transpose_p)


def transpose(a, axes=None):
    """``a`` with its axes permuted (reversed when ``axes`` is None)."""
    if axes is None and isinstance(a, Array):  # x.T, the common case: nothing to check
        if type(a) is Array and type(a._value) is np.ndarray:
            return wrap(a._value.transpose(), a._device)
        nd = a.ndim
        return a if nd < 2 else transpose_p.bind(a, axes=_REVERSED.get(nd) or _reversed(nd))
    x = asarray(a)
    if axes is None:
        axes = tuple(range(x.ndim))[::-1]
    axes = tuple(normalize_axis("transpose", a, x.ndim) for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ShapeError(f"transpose: axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}")
    if axes == tuple(range(x.ndim)):
        return x
    return transpose_p.bind(x, axes=axes)


def _reversed(nd):
    axes = _REVERSED[nd] = tuple(range(nd))[::-1]
    return axes


_REVERSED = {}


def moveaxis(a, source, destination):
    """``a`` with the axes ``source`` moved to positions ``destination``, the others in order."""
    x = asarray(a)
    src = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
    dst = (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
    if len(src) != len(dst):
        raise ValueError(f"moveaxis: source {source} and destination {destination} differ in length")
    src = [normalize_axis("moveaxis", a, x.ndim) for a in src]
    dst = [normalize_axis("moveaxis", a, x.ndim) for a in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError(f"moveaxis: repeated axis in source {source} or destination {destination}")
    order = [a for a in range(x.ndim) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, order)


def swapaxes(a, axis1, axis2):
    """``a`` with two axes interchanged."""
    x = asarray(a)
    axes = list(range(x.ndim))
    i, j = normalize_axis("swapaxes", axis1, x.ndim), normalize_axis("swapaxes", axis2, x.ndim)
    axes[i], axes[j] = axes[j], axes[i]
    return transpose(x, axes)


def expand_dims(a, axis):
    """``a`` with axes of length one inserted at the positions ``axis`` of the result."""
    if type(a) is Array and type(a._value) is np.ndarray and type(axis) is int:  # one new axis of a concrete array
        v = a._value
        if -v.ndim - 1 <= axis <= v.ndim:
            at = axis % (v.ndim + 1)
            return wrap(v.reshape(v.shape[:at] + (1,) + v.shape[at:]), a._device)
    x = asarray(a)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    axes = normalize_axes("expand_dims", axes, x.ndim + len(axes))
    shape = list(x.shape)
    for a in axes:
        shape.insert(a, 1)
    return reshape(x, shape)


def squeeze(a, axis=None):
    """``a`` without its axes of length one (or only those in ``axis``, which must have length one)."""
    x = asarray(a)
    if axis is None:
        axes = tuple(i for i, d in enumerate(x.shape) if d == 1)
    elif not x.ndim:  # NumPy lets 0 and -1 name a scalar's one position: nothing to remove
        for a in axis if isinstance(axis, (tuple, list)) else (axis,):
            if a not in (0, -1):
                raise np.exceptions.AxisError(f"squeeze: axis {a} is out of bounds for an array of dimension 0")
        return x
    else:
        axes = normalize_axes("squeeze", axis, x.ndim)
        for a in axes:
            if x.shape[a] != 1:
                raise ShapeError(f"squeeze: axis {a} of shape {x.shape} has length {x.shape[a]}, not 1")
    return reshape(x, tuple(d for i, d in enumerate(x.shape) if i not in axes))


def atleast_1d(*arys):
    """Each argument with at least one dimension: one array, or a tuple for several."""
    out = tuple(reshape(a, (1,)) if asarray(a).ndim == 0 else asarray(a) for a in arys)
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys):
    """Each argument with at least two dimensions; 1-d ``(N,)`` becomes ``(1, N)``."""
    out = tuple(reshape(a, (1,) * (2 - a.ndim) + a.shape) for a in map(asarray, arys))
    return out[0] if len(out) == 1 else out


def atleast_3d(*arys):
    """Each argument with at least three dimensions: ``(N,)`` becomes ``(1, N, 1)``, ``(M, N)`` ``(M, N, 1)``."""
    def three(a):
        return reshape(a, {0: (1, 1, 1), 1: (1,) + a.shape + (1,), 2: a.shape + (1,)}.get(a.ndim, a.shape))
    out = tuple(three(asarray(a)) for a in arys)
    return out[0] if len(out) == 1 else out


# ----- concatenate and split ------------------------------------------------------------------------


def _concat_shape(*xs, axis):
    shape = list(xs[0].shape)
    shape[axis] = sum(x.shape[axis] for x in xs)
    return ShapedArray(shape, xs[0].dtype)


def _concat_batch(vals, bdims, *, axis):
    # Every operand takes the first batched one's batch axis (unbatched ones are broadcast along it).
    d = next(b for b in bdims if b is not None)
    size = batch_size(vals, bdims)
    xs = [batch_axis_at(x, b, d, size) for x, b in zip(vals, bdims)]
    return concatenate_p.bind(*xs, axis=_past(axis, d)), d


concatenate_p = defprim(
    "concatenate", impl=lambda xp, *xs, axis: xp.concatenate(xs, axis=axis), shape=_concat_shape,
    vjp=lambda ct, *xs, out, axis: split_p.bind(ct, axis=axis, sizes=tuple(x.shape[axis] for x in xs)),
    batch=_concat_batch)
concatenate_p.jvp = linear_jvp(concatenate_p)


def _split_impl(xp, x, *, axis, sizes):
    return tuple(xp.split(x, list(itertools.accumulate(sizes[:-1])), axis=axis))


def _split_shape(x, *, axis, sizes):
    return tuple(ShapedArray(x.shape[:axis] + (s,) + x.shape[axis + 1:], x.dtype) for s in sizes)


def _split_jvp(primals, tangents, *, axis, sizes):
    return split_p.bind(primals[0], axis=axis, sizes=sizes), split_p.bind(tangents[0], axis=axis, sizes=sizes)


def _split_batch(vals, bdims, *, axis, sizes):
    (x,), (d,) = vals, bdims
    return split_p.bind(x, axis=_past(axis, d), sizes=sizes), (d,) * len(sizes)


split_p = defprim("split", impl=_split_impl, shape=_split_shape, jvp=_split_jvp,
                  vjp=lambda cts, x, *, out, axis, sizes: (concatenate_p.bind(*cts, axis=axis),),
                  batch=_split_batch, multiple_results=True)


def concatenate(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """Joins arrays along an existing axis; ``axis=None`` flattens them first.

    >>> import fnx.numpy as fnp
    >>> fnp.concatenate([fnp.zeros((1, 2)), fnp.ones((2, 2))]).shape
    (3, 2)
    """
    _no_out("concatenate", out)
    joined = _eager_join(np.concatenate, arrays, axis, dtype)
    if joined is not None:
        return joined
    from ..core import dtypes
    from .elementwise import astype
    arrays = [asarray(a) for a in arrays]
    if not arrays:
        raise ValueError("concatenate: need at least one array")
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    if dtype is not None:
        dt = dtypes.canonical(dtype)
        for a in arrays:  # numpy's rule: the cast to dtype must be allowed by casting (same_kind: no float -> int)
            if not np.can_cast(a.dtype, dt, casting):
                from ..errors import DTypeError
                raise DTypeError(f"concatenate: cannot cast array data from {a.dtype} to {dt} according to the rule "
                                 f"{casting!r}")
    else:
        dt = dtypes.result_type(*arrays)
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


def _eager_join(join, arrays, axis, dtype):
    """numpy's ``join`` (concatenate or stack) of concrete CPU arrays of one dtype on one device, or None
    for anything else, and for whatever numpy refuses: the general path's checks name it."""
    if dtype is None and type(axis) is int and type(arrays) in (list, tuple):
        vals = same_dtype_payloads(arrays)
        if vals is not None and all([a._device is arrays[0]._device for a in arrays]):
            try:
                return wrap(join(vals, axis=axis), arrays[0]._device)
            except (ValueError, IndexError, TypeError):
                pass
    return None


def stack(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    """Joins same-shape arrays along a new axis."""
    _no_out("stack", out)
    joined = _eager_join(np.stack, arrays, axis, dtype)
    if joined is not None:
        return joined
    arrays = [asarray(a) for a in arrays]
    if not arrays:
        raise ValueError("stack: need at least one array")
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ShapeError(f"stack: all input arrays must have the same shape, got {', '.join(map(str, shapes))}")
    axis = normalize_axis("stack", axis, arrays[0].ndim + 1)
    expanded = [expand_dims(a, axis) for a in arrays]
    return concatenate(expanded, axis=axis, dtype=dtype, casting=casting)


def _seq(opname, tup):
    if isinstance(tup, (list, tuple)):
        return list(tup)
    raise TypeError(f"{opname}: arrays to stack must be passed as a list or tuple, got {type(tup).__name__}")


def hstack(tup, *, dtype=None, casting="same_kind"):
    """Joins arrays column-wise: along axis 1, or axis 0 for 1-d arrays."""
    arrays = [atleast_1d(a) for a in _seq("hstack", tup)]
    return concatenate(arrays, axis=0 if arrays and arrays[0].ndim == 1 else 1, dtype=dtype, casting=casting)


def vstack(tup, *, dtype=None, casting="same_kind"):
    """Joins arrays row-wise (along axis 0), after making 1-d arrays ``(1, N)``."""
    return concatenate([atleast_2d(a) for a in _seq("vstack", tup)], axis=0, dtype=dtype, casting=casting)


def dstack(tup):
    """Joins arrays depth-wise (along axis 2), after :func:`atleast_3d`."""
    return concatenate([atleast_3d(a) for a in _seq("dstack", tup)], axis=2)


def column_stack(tup):
    """Joins 1-d arrays as the columns of a 2-d array (2-d arrays are joined as they are)."""
    def column(a):
        a = asarray(a)
        return reshape(a, (-1, 1)) if a.ndim < 2 else a
    return concatenate([column(a) for a in _seq("column_stack", tup)], axis=1)


def array_split(ary, indices_or_sections, axis=0):
    """Splits ``ary`` into a list of parts, as ``numpy.array_split``.

    An int ``N`` makes ``N`` parts, the first ``len % N`` one element longer;
    a sequence of indices cuts before each of them.

    >>> import fnx.numpy as fnp
    >>> [p.shape for p in fnp.array_split(fnp.arange(7), 3)]
    [(3,), (2,), (2,)]
    """
    x = asarray(ary)
    axis = normalize_axis("array_split", axis, x.ndim)
    n = x.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError(f"array_split: the number of sections must be larger than 0, got {sections}")
        each, extra = divmod(n, sections)
        bounds = [0] + list(itertools.accumulate([each + 1] * extra + [each] * (sections - extra)))
    else:
        bounds = [0] + [operator.index(i) for i in indices_or_sections] + [n]
    parts = [slice(a, b).indices(n)[:2] for a, b in zip(bounds[:-1], bounds[1:])]
    if len(parts) == 1:
        return [slice_axis(x, axis, *parts[0])]
    # Cuts that partition the axis (the usual case) are one split primitive, whose
    # transpose is one concatenate; overlapping or backwards cuts slice part by part.
    sizes = tuple(max(b - a, 0) for a, b in parts)
    if all(p[0] == q[1] for p, q in zip(parts[1:], parts[:-1])) and parts[0][0] == 0 and parts[-1][1] == n \
            and all(b >= a for a, b in parts):
        return list(split_p.bind(x, axis=axis, sizes=sizes))
    return [slice_axis(x, axis, a, max(a, b)) for a, b in parts]


def split(ary, indices_or_sections, axis=0):
    """Like :func:`array_split`, but an int number of sections must divide the axis exactly."""
    x = asarray(ary)
    if isinstance(indices_or_sections, (int, np.integer)):
        n = x.shape[normalize_axis("split", axis, x.ndim)]
        if indices_or_sections <= 0 or n % indices_or_sections:
            raise ShapeError(f"split: an axis of length {n} does not split into {indices_or_sections} equal parts")
    return array_split(x, indices_or_sections, axis)


# ----- slices --------------------------------------------------------------------------------------
# ``slices`` is a tuple of normalised (start, stop, step) triples, one per leading axis.


def _slice_shape(shape, slices):
    return tuple(len(range(*s)) for s in slices) + tuple(shape[len(slices):])


def as_slice(s):
    """A Python slice selecting what ``range(*s)`` lists, for a normalised ``s = (start, stop, step)``."""
    # Normalised, start or stop is -1 where a negative step runs past index 0; in a
    # Python slice -1 would mean the last element instead.
    a, b, c = s
    if not len(range(a, b, c)):
        return slice(0, 0)
    return slice(a, None if b < 0 else b, c)


def as_slices(slices):
    return tuple(map(as_slice, slices))


def _full_slice_at(slices, d, size):
    """``slices`` with the batch axis ``d`` taken whole (beyond the sliced leading axes, nothing to add)."""
    return slices[:d] + ((0, size, 1),) + slices[d:] if d < len(slices) else slices


def _slice_batch(vals, bdims, *, slices):
    (x,), (d,) = vals, bdims
    return slice_p.bind(x, slices=_full_slice_at(slices, d, x.shape[d])), d


slice_p = defprim(
    "slice", impl=lambda xp, x, *, slices: x[as_slices(slices)],
    shape=lambda x, *, slices: ShapedArray(_slice_shape(x.shape, slices), x.dtype),
    vjp=lambda ct, x, *, out, slices: (slice_transpose_p.bind(ct, shape=x.shape, slices=slices),),
    batch=_slice_batch)
slice_p.jvp = linear_jvp(slice_p)


def _slice_transpose_impl(xp, ct, *, shape, slices):
    out = xp.zeros(shape, ct.dtype)
    out[as_slices(slices)] = ct
    return out


def _slice_transpose_batch(vals, bdims, *, shape, slices):
    (ct,), (d,) = vals, bdims
    n = ct.shape[d]
    return slice_transpose_p.bind(ct, shape=shape[:d] + (n,) + shape[d:], slices=_full_slice_at(slices, d, n)), d


slice_transpose_p = defprim(
    "slice_transpose", impl=_slice_transpose_impl,
    shape=lambda ct, *, shape, slices: ShapedArray(shape, ct.dtype),
    vjp=lambda ct, y, *, out, shape, slices: (slice_p.bind(ct, slices=slices),), batch=_slice_transpose_batch)
slice_transpose_p.jvp = linear_jvp(slice_transpose_p)


def static_slice(x, slices):
    """``x[s0, s1, ...]`` for Python slices of the leading axes, as one primitive."""
    x = asarray(x)
    norm = tuple(s.indices(d) for s, d in zip(slices, x.shape))
    if all(s == (0, d, 1) for s, d in zip(norm, x.shape)):
        return x
    return slice_p.bind(x, slices=norm)


def slice_axis(x, axis, start, stop, step=1):
    """``x[..., start:stop:step, ...]`` along ``axis``."""
    x = asarray(x)
    slices = [slice(None)] * x.ndim
    slices[axis] = slice(start, stop, step)
    return static_slice(x, slices)


def flip(m, axis=None):
    """``m`` with the order of elements reversed along ``axis`` (all axes when None)."""
    x = asarray(m)
    axes = normalize_axes("flip", axis, x.ndim)
    return static_slice(x, [slice(None, None, -1) if i in axes else slice(None) for i in range(x.ndim)])


def fliplr(m):
    """``m`` reversed along axis 1 (left/right); needs at least two dimensions."""
    x = asarray(m)
    if x.ndim < 2:
        raise ShapeError(f"fliplr: the input must have at least 2 dimensions, got shape {x.shape}")
    return flip(x, 1)


def flipud(m):
    """``m`` reversed along axis 0 (up/down)."""
    x = asarray(m)
    if x.ndim < 1:
        raise ShapeError("flipud: the input must have at least 1 dimension, got a 0-d array")
    return flip(x, 0)


def roll(a, shift, axis=None):
    """Elements shifted cyclically by ``shift`` along ``axis`` (of the flattened array when None).

    A ``shift`` traced by ``jit`` or batched by ``vmap`` (one per example) rolls
    by a gather, as JAX allows; a concrete one by two slices.

    >>> import fnx.numpy as fnp
    >>> fnp.roll(fnp.arange(5), 2)
    Array([3, 4, 0, 1, 2], dtype=int64)
    """
    from ._base import is_traced
    x = asarray(a)
    if axis is None:
        return reshape(roll(ravel(x), shift, 0), x.shape)
    if is_traced(shift):
        return _roll_by_gather(x, asarray(shift), axis)
    total = {}
    for s, ax in np.broadcast(np.asarray(shift), np.asarray(axis)):
        ax = normalize_axis("roll", int(ax), x.ndim)
        total[ax] = total.get(ax, 0) + int(s)
    for ax, s in total.items():
        n = x.shape[ax]
        s = s % n if n else 0
        if s:
            x = concatenate([slice_axis(x, ax, n - s, n), slice_axis(x, ax, 0, n - s)], axis=ax)
    return x


def _roll_by_gather(x, shift, axis):
    """``roll`` by a traced shift: element ``i`` of the result reads ``(i - shift) % n`` along each axis."""
    from .creation import arange
    from .elementwise import remainder, subtract
    from .indexing import take
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if shift.ndim > 1 or (shift.ndim == 1 and shift.shape[0] != len(axes)):
        raise ShapeError(f"roll: {shift.shape} shifts for the axes {axes}")
    for k, ax in enumerate(axes):
        ax = normalize_axis("roll", ax, x.ndim)
        n = x.shape[ax]
        if n:
            s = shift if shift.ndim == 0 else shift[k]
            x = take(x, remainder(subtract(arange(n, device=x.device), s.astype("int64")), n), axis=ax)
    return x


def diagonal(a, offset=0, axis1=0, axis2=1):
    """The diagonal of the 2-d slices spanned by ``axis1``, ``axis2``, as the last axis of the result.

    Unlike NumPy's read-only view, the result is a new (immutable) array.

    >>> import fnx.numpy as fnp
    >>> fnp.diagonal(fnp.arange(9).reshape(3, 3), 1)
    Array([1, 5], dtype=int64)
    """
    x = asarray(a)
    if x.ndim < 2:
        raise ShapeError(f"diagonal: the input must have at least 2 dimensions, got shape {x.shape}")
    a1, a2 = normalize_axis("diagonal", axis1, x.ndim), normalize_axis("diagonal", axis2, x.ndim)
    if a1 == a2:
        raise ValueError(f"diagonal: axis1 and axis2 cannot be the same axis ({axis1})")
    x = moveaxis(x, (a1, a2), (-2, -1))
    n, m = x.shape[-2:]
    offset = operator.index(offset)
    k = max(0, min(n, m - offset) if offset >= 0 else min(n + offset, m))
    # In the row-major flattening of an n x m matrix, the diagonal is every (m+1)-th element.
    flat = reshape(x, x.shape[:-2] + (n * m,))
    start = (offset if offset >= 0 else -offset * m) if k else 0
    return slice_axis(flat, -1, start, start + (k - 1) * (m + 1) + 1 if k else 0, m + 1)


def _tri_mask(shape, k, lower):
    from .creation import arange
    from .elementwise import greater_equal, less_equal
    if not shape:
        raise ShapeError("tril/triu: the input must have at least 1 dimension, got a 0-d array")
    n, m = shape[-2:] if len(shape) > 1 else shape * 2  # numpy treats 1-d input as its rows repeated
    rows, cols = reshape(arange(n), (n, 1)) + k, arange(m)
    return greater_equal(rows, cols) if lower else less_equal(rows, cols)


def tril(m, k=0):
    """``m`` with the elements above the ``k``-th diagonal zeroed (on the last two axes).

    >>> import fnx.numpy as fnp
    >>> fnp.tril(fnp.ones((2, 2)))
    Array([[1., 0.],
           [1., 1.]], dtype=float32)
    """
    from .creation import zeros
    from .elementwise import where
    x = asarray(m)
    with data_device(x):
        return where(_tri_mask(x.shape, operator.index(k), True), x, zeros((), x.dtype))


def triu(m, k=0):
    """``m`` with the elements below the ``k``-th diagonal zeroed (on the last two axes)."""
    from .creation import zeros
    from .elementwise import where
    x = asarray(m)
    with data_device(x):
        return where(_tri_mask(x.shape, operator.index(k), False), x, zeros((), x.dtype))


# ----- tile, repeat, pad -------------------------------------------------------------------------


def tile(A, reps):
    """``A`` repeated ``reps`` times along each axis, as ``numpy.tile``.

    >>> import fnx.numpy as fnp
    >>> fnp.tile(fnp.array([1, 2]), 2)
    Array([1, 2, 1, 2], dtype=int64)
    """
    x = asarray(A)
    reps = _int_tuple("tile", reps)
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: negative repetitions {reps}")
    d = max(len(reps), x.ndim)
    reps, shape = (1,) * (d - len(reps)) + reps, (1,) * (d - x.ndim) + x.shape
    if all(r == 1 for r in reps):
        return reshape(x, shape)
    x = reshape(x, tuple(itertools.chain.from_iterable((1, s) for s in shape)))
    x = broadcast_to(x, tuple(itertools.chain.from_iterable(zip(reps, shape))))
    return reshape(x, tuple(r * s for r, s in zip(reps, shape)))


def _repeat_to_length(x, reps, axis, length):
    """``repeat`` with repeats known only when the function runs (inside ``jit``, batched by ``vmap``): output
    position ``j`` holds the element whose run of repeats covers ``j``, the last element past their sum."""
    from .indexing import take
    from .reductions import cumsum
    from .sorting import searchsorted
    from .elementwise import minimum
    from .creation import arange
    n = x.shape[axis]
    if reps.ndim > 1 or reps.ndim == 1 and reps.shape[0] not in (1, n):
        raise ShapeError(f"repeat: {reps.shape} repeats given for an axis of length {n}")
    ends = cumsum(broadcast_to(reps, (n,)))
    return take(x, minimum(searchsorted(ends, arange(length), side="right"), n - 1), axis=axis)


def repeat(a, repeats, axis=None, *, total_repeat_length=None):
    """Each element of ``a`` repeated ``repeats`` times along ``axis`` (of the flattened array when None).

    ``repeats`` is an int, or one int per element along the axis; those must be
    concrete, since they decide the output's shape, unless JAX's
    ``total_repeat_length`` fixes the output's length along the axis (then they
    may be traced): a longer result is cut, a shorter one continues with its
    last element.

    >>> import fnx.numpy as fnp
    >>> fnp.repeat(fnp.array([1, 2]), [1, 3])
    Array([1, 2, 2, 2], dtype=int64)
    """
    from ._base import is_traced
    x = asarray(a)
    if axis is None:
        x, axis = ravel(x), 0
    axis = normalize_axis("repeat", axis, x.ndim)
    if is_traced(repeats):
        if total_repeat_length is None:
            raise TracerError(f"repeat: repeats is traced by {repeats._main.name}, but it decides the output's "
                              f"shape, so it must be a concrete value (a Python int, list or numpy array), or "
                              f"total_repeat_length must fix the length")
        return _repeat_to_length(x, asarray(repeats), axis, int(total_repeat_length))
    reps = np.asarray(repeats)
    if reps.dtype.kind not in "iub" or reps.ndim > 1:
        raise TypeError(f"repeat: repeats must be an int or a 1-d sequence of ints, got {repeats!r}")
    if (reps < 0).any():
        raise ValueError("repeat: repeats may not contain negative values")
    n = x.shape[axis]
    if reps.ndim == 0 or reps.size == 1:
        r = int(reps.reshape(()))
        x = expand_dims(x, axis + 1)
        x = broadcast_to(x, x.shape[:axis + 1] + (r,) + x.shape[axis + 2:])
        out = reshape(x, x.shape[:axis] + (n * r,) + x.shape[axis + 2:])
        return out if total_repeat_length is None else _to_length(out, axis, total_repeat_length)
    if reps.size != n:
        raise ShapeError(f"repeat: {reps.size} repeats given for an axis of length {n}")
    from .indexing import take
    order = np.repeat(np.arange(n), reps)
    if total_repeat_length is not None:
        order = _to_length(order, 0, total_repeat_length)
    return take(x, order, axis=axis)


def _to_length(x, axis, length):
    """``x`` cut or extended with its last element to ``length`` along ``axis`` (``repeat``'s total length)."""
    length = operator.index(length)
    if length < 0:
        raise ValueError(f"repeat: total_repeat_length must be non-negative, got {length}")
    n = x.shape[axis]
    if n == 0 and length:
        raise ValueError(f"repeat: cannot make {length} elements from an empty result")
    index = np.minimum(np.arange(length), n - 1)
    if isinstance(x, np.ndarray):
        return x[index]
    from .indexing import take
    return take(x, index, axis=axis)


_GATHER_MODES = ("edge", "reflect", "symmetric", "wrap")


def _pairs(opname, value, ndim, what):
    arr = np.asarray(value)
    try:
        return np.broadcast_to(arr, (ndim, 2)).tolist()
    except ValueError:
        raise ValueError(f"{opname}: {what} of shape {arr.shape} cannot be broadcast to ({ndim}, 2)") from None


def pad(array, pad_width, mode="constant", **kwargs):
    """``array`` padded on each side of each axis, as ``numpy.pad``.

    ``pad_width`` takes every NumPy form: ``n``, ``(before, after)``,
    ``((before, after),)``, one pair per axis, or (NumPy 2.3's) a dict from
    axes to ``n`` or ``(before, after)``, other axes unpadded. Modes: ``'constant'`` (with
    ``constant_values``, in the same forms), ``'empty'`` (zeros here),
    ``'edge'``, ``'reflect'`` and ``'symmetric'`` (with ``reflect_type`` 'even',
    or 'odd' for pads up to the axis' length), ``'wrap'``, ``'linear_ramp'``
    (with ``end_values``), and ``'maximum'``, ``'minimum'``, ``'mean'`` and
    ``'median'`` (with ``stat_length``). Axes are padded in order, each from the
    array padded so far, as NumPy does.

    >>> import fnx.numpy as fnp
    >>> fnp.pad(fnp.array([1, 2, 3]), (2, 1), mode="reflect")
    Array([3, 2, 1, 2, 3, 2], dtype=int64)
    """
    with data_device(array):
        return _pad_here(array, pad_width, mode, **kwargs)


def _pad_here(array, pad_width, mode="constant", **kwargs):
    x = asarray(array)
    if isinstance(pad_width, dict):
        by_axis = [(0, 0)] * x.ndim
        for axis, width in pad_width.items():
            width = np.broadcast_to(np.asarray(width), (2,))
            by_axis[normalize_axis("pad", axis, x.ndim)] = tuple(width)
        pad_width = by_axis
    widths = np.asarray(pad_width)
    if widths.dtype.kind not in "iu":
        raise TypeError(f"pad: pad_width must be of integral type, got {pad_width!r}")
    widths = _pairs("pad", widths, x.ndim, "pad_width")
    if any(w < 0 for pair in widths for w in pair):
        raise ValueError(f"pad: pad_width cannot contain negative values, got {pad_width!r}")
    if callable(mode) or mode not in ("constant", "empty", "linear_ramp") + _GATHER_MODES + tuple(_STAT_MODES):
        raise NotImplementedError(f"pad: mode {mode!r} is not supported; use 'constant', 'empty', 'linear_ramp', "
                                  f"{', '.join(repr(m) for m in _GATHER_MODES + tuple(_STAT_MODES))}")
    allowed = {"constant": {"constant_values"}, "reflect": {"reflect_type"}, "symmetric": {"reflect_type"},
               "linear_ramp": {"end_values"}, **{m: {"stat_length"} for m in _STAT_MODES}}
    unknown = set(kwargs) - allowed.get(mode, set())
    if unknown:
        raise ValueError(f"pad: unsupported keyword arguments for mode {mode!r}: {sorted(unknown)}")
    reflect_type = kwargs.get("reflect_type", "even")
    if reflect_type not in ("even", "odd"):
        raise ValueError(f"pad: reflect_type must be 'even' or 'odd', got {reflect_type!r}")
    if not any(b or a for b, a in widths):
        return x
    if mode in _GATHER_MODES or mode in _STAT_MODES or mode == "linear_ramp":
        for ax, (b, a) in enumerate(widths):
            if (b or a) and x.shape[ax] == 0:
                raise ValueError(f"pad: cannot extend the empty axis {ax} with mode {mode!r}")
    if mode in _GATHER_MODES:
        from .indexing import take
        for ax, (b, a) in enumerate(widths):
            if b or a:
                n = x.shape[ax]
                padded = take(x, np.pad(np.arange(n), (b, a), mode=mode), axis=ax)
                if reflect_type == "odd" and mode in ("reflect", "symmetric"):
                    padded = _odd_reflection(x, padded, ax, b, a, mode)
                x = padded
        return x
    if mode in _STAT_MODES:
        lengths = _pairs("pad", kwargs.get("stat_length", None) if kwargs.get("stat_length") is not None
                         else [[d, d] for d in x.shape], x.ndim, "stat_length")
        for ax, ((b, a), (lb, la)) in enumerate(zip(widths, lengths)):
            if b or a:
                n = x.shape[ax]
                lb, la = min(max(int(lb), 1), n), min(max(int(la), 1), n)
                first = _STAT_MODES[mode](slice_axis(x, ax, 0, lb), ax, x.dtype)
                last = _STAT_MODES[mode](slice_axis(x, ax, n - la, n), ax, x.dtype)
                blocks = [broadcast_to(first, x.shape[:ax] + (b,) + x.shape[ax + 1:]), x,
                          broadcast_to(last, x.shape[:ax] + (a,) + x.shape[ax + 1:])]
                x = concatenate([blk for blk in blocks if blk.shape[ax]], axis=ax)
        return x
    if mode == "linear_ramp":
        ends = _pairs("pad", kwargs.get("end_values", 0), x.ndim, "end_values")
        for ax, ((b, a), (eb, ea)) in enumerate(zip(widths, ends)):
            if b or a:
                n = x.shape[ax]
                blocks = [_ramp(eb, slice_axis(x, ax, 0, 1), b, ax, toward_edge=True), x,
                          _ramp(ea, slice_axis(x, ax, n - 1, n), a, ax, toward_edge=False)]
                x = concatenate([blk for blk in blocks if blk.shape[ax]], axis=ax)
        return x
    values = _pairs("pad", kwargs.get("constant_values", 0), x.ndim, "constant_values")
    if not any(v for pair in values for v in pair):
        shape = tuple(b + d + a for (b, a), d in zip(widths, x.shape))
        return slice_transpose_p.bind(x, shape=shape, slices=tuple((b, b + d, 1) for (b, _), d in zip(widths, x.shape)))
    from .creation import full
    # Axis by axis, as numpy does, so a later axis's constants fill the corners.
    for ax, ((b, a), (vb, va)) in enumerate(zip(widths, values)):
        blocks = [full(x.shape[:ax] + (b,) + x.shape[ax + 1:], vb, x.dtype), x,
                  full(x.shape[:ax] + (a,) + x.shape[ax + 1:], va, x.dtype)]
        x = concatenate([blk for blk in blocks if blk.shape[ax]], axis=ax)
    return x


def _rounded_like(value, dtype):
    """A statistic in ``dtype``: rounded to the nearest integer first for integer dtypes, as NumPy's pad."""
    from .elementwise import astype, round as round_
    return astype(round_(value) if dtype.kind in "iub" and value.dtype.kind == "f" else value, dtype)


def _stat(name):
    def stat(block, ax, dtype):
        from .. import numpy as fnp
        return _rounded_like(getattr(fnp, name)(block, axis=ax, keepdims=True), dtype)
    return stat


_STAT_MODES = {"maximum": _stat("max"), "minimum": _stat("min"), "mean": _stat("mean"), "median": _stat("median")}


def _ramp(end, edge, width, ax, toward_edge):
    """``width`` values from ``end`` to the ``edge`` slice (excluded) along ``ax``, as NumPy's linear ramps
    (floored for integer dtypes, as ``numpy.linspace`` does)."""
    from .creation import arange
    from .elementwise import astype, floor
    if not width:
        return slice_axis(edge, ax, 0, 0)
    steps = reshape(arange(width, dtype="float64", device=edge.device),
                    tuple(width if i == ax else 1 for i in range(edge.ndim)))
    start = astype(edge, "float64") * 0 + float(end)
    ramp = start + (astype(edge, "float64") - start) * (steps / width)  # end first, then toward the edge
    if not toward_edge:
        ramp = flip(ramp, ax)
    return astype(floor(ramp) if edge.dtype.kind in "iub" else ramp, edge.dtype)


def _odd_reflection(x, padded, ax, before, after, mode):
    """NumPy's ``reflect_type='odd'``: each padded value is twice its edge minus the even reflection."""
    n = x.shape[ax]
    if before > n - (mode == "reflect") or after > n - (mode == "reflect"):
        raise NotImplementedError(f"pad: reflect_type='odd' of pads longer than the axis ({n}) is not supported")
    parts = []
    if before:
        parts.append(2 * slice_axis(x, ax, 0, 1) - slice_axis(padded, ax, 0, before))
    parts.append(x)
    if after:
        m = padded.shape[ax]
        parts.append(2 * slice_axis(x, ax, n - 1, n) - slice_axis(padded, ax, m - after, m))
    return concatenate(parts, axis=ax)


# ----- array-API names and rotations -------------------------------------------------------------


def concat(arrays, /, *, axis=0):
    """Joins arrays along ``axis`` (flattened first when None), as ``numpy.concat`` (the array API's
    :func:`concatenate`).

    >>> import fnx.numpy as fnp
    >>> fnp.concat([fnp.zeros(2), fnp.ones(1)])
    Array([0., 0., 1.], dtype=float32)
    """
    return concatenate(arrays, axis=axis)


def permute_dims(a, /, axes):
    """``a`` with its axes permuted to ``axes``, as ``numpy.permute_dims`` (the array API's :func:`transpose`).

    >>> import fnx.numpy as fnp
    >>> fnp.permute_dims(fnp.zeros((2, 3, 4)), (2, 0, 1)).shape
    (4, 2, 3)
    """
    return transpose(a, axes)


def unstack(x, /, *, axis=0):
    """The slices of ``x`` along ``axis``, as a tuple of arrays, as ``numpy.unstack`` (the inverse of :func:`stack`).

    >>> import fnx.numpy as fnp
    >>> fnp.unstack(fnp.array([[1, 2], [3, 4]]), axis=1)
    (Array([1, 3], dtype=int64), Array([2, 4], dtype=int64))
    """
    x = asarray(x)
    if x.ndim == 0:
        raise ShapeError("unstack: a zero-dimensional array has no axis to unstack")
    axis = normalize_axis("unstack", axis, x.ndim)
    n = x.shape[axis]
    if n == 0:
        return ()
    rest = x.shape[:axis] + x.shape[axis + 1:]
    return tuple(reshape(part, rest) for part in array_split(x, n, axis))


def rot90(m, k=1, axes=(0, 1)):
    """``m`` rotated by ``k`` quarter turns in the plane of ``axes``, from the first axis towards the second,
    as ``numpy.rot90``.

    >>> import fnx.numpy as fnp
    >>> fnp.rot90(fnp.array([[1, 2], [3, 4]]))
    Array([[2, 4],
           [1, 3]], dtype=int64)
    """
    x = asarray(m)
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError(f"rot90: axes must name two axes, got {axes}")
    if x.ndim < 2:
        raise ShapeError(f"rot90: needs at least two dimensions, got shape {x.shape}")
    a, b = (normalize_axis("rot90", ax, x.ndim) for ax in axes)
    if a == b:
        raise ValueError(f"rot90: axes {axes} name the same axis twice")
    k = operator.index(k) % 4
    if k == 0:
        return x
    if k == 2:
        return flip(x, (a, b))
    order = list(range(x.ndim))
    order[a], order[b] = order[b], order[a]
    return transpose(flip(x, b), order) if k == 1 else flip(transpose(x, order), b)
