"""NumPy index expressions, parsed into the one form that gather and scatter take.

An index such as ``x[None, 1:, [0, 2], mask, ...]`` mixes five kinds of entry.
:func:`parse` reads it against ``x``'s shape and returns an :class:`IndexPlan`
in which only three kinds are left, one per axis:

* a normalised slice ``(start, stop, step)``;
* an ``int`` (already bounds-checked and non-negative);
* ``None``, a placeholder for an integer index *array*, passed to the primitive
  as a positional operand (so it may be traced, and its values stay out of the
  static parameters).

The other kinds are rewritten first. ``...`` becomes full slices. A ``None``
(new axis) becomes a full slice of a length-one axis inserted into ``x`` with
``reshape``, so it still separates advanced indices, as it does in NumPy. A
boolean mask becomes the integer arrays of its ``nonzero`` (so it must be
concrete: the output's shape depends on its values); a scalar boolean becomes
a length-one axis indexed by ``[0]`` (True) or ``[]`` (False). All index arrays
are broadcast to one shape ``B`` up front.

The result shape follows NumPy's rule. When any array is present, ints count
as advanced indices too; if the advanced entries are adjacent, ``B`` takes
their place, otherwise ``B`` comes first (:func:`indexed_shape`).
"""
from collections import namedtuple

import numpy as np

from ..core.array import Array, wrap
from ..core.backend import xp_of
from ..core.trace import Tracer
from ..errors import TracerError
from ._base import asarray, from_host
from .shape import as_slice

IndexPlan = namedtuple("IndexPlan", "shape index arrays")
IndexPlan.__doc__ = """``shape``: x's shape with the inserted length-one axes; ``index``: one entry per
axis of that shape; ``arrays``: the integer index arrays (fnx arrays of one shape), in axis order."""

_VALID = ("only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and integer or boolean "
          "arrays are valid indices")


def _entry(opname, i):
    """One index entry, with array-likes turned into fnx arrays or host numpy arrays."""
    if i is None or i is Ellipsis or isinstance(i, slice):
        return i
    if isinstance(i, (bool, np.bool_)):
        return np.asarray(i)
    if isinstance(i, (int, np.integer)):
        return int(i)
    if isinstance(i, Array):
        return i if i.dtype.kind in "biu" else _bad_dtype(opname, i.dtype)
    if hasattr(i, "__cuda_array_interface__"):
        return _entry(opname, asarray(i))
    if isinstance(i, range):  # as NumPy and PyTorch read it: x[range(n), labels]
        return np.arange(i.start, i.stop, i.step, dtype=np.intp)
    if isinstance(i, (list, tuple)) and not i:
        return np.zeros(0, np.intp)  # numpy reads an empty list as an empty integer index
    if isinstance(i, (list, tuple, np.ndarray)) or hasattr(i, "__array__"):
        try:
            arr = np.array(i)  # a private copy: the index may be kept for a backward pass
        except ValueError:
            raise IndexError(f"{opname}: {_VALID}; got {i!r}") from None
        return arr if arr.dtype.kind in "biu" else _bad_dtype(opname, arr.dtype)
    raise IndexError(f"{opname}: {_VALID}; got {type(i).__name__} {i!r}")


def _bad_dtype(opname, dtype):
    raise IndexError(f"{opname}: arrays used as indices must be of integer (or boolean) type, got {dtype}")


def _is_bool(e):
    return isinstance(e, (np.ndarray, Array)) and e.dtype.kind == "b"


def _consumes(e):
    """How many axes of x an entry indexes."""
    if e is None or e is Ellipsis:
        return 0
    return e.ndim if _is_bool(e) else 1


def _concrete_mask(opname, mask):
    if isinstance(mask, Tracer):
        from ..errors import NonConcreteBooleanIndexError
        by = mask._main.name
        varies = " (and each example could select a different number)" if by == "vmap" else ""
        fix = "fnx.numpy.where(mask, values, x)" if opname.startswith("x.at") else "fnx.numpy.where(mask, x, 0)"
        raise NonConcreteBooleanIndexError(
            f"{opname}: a boolean mask traced by {by} cannot be used as an index, because the output's shape "
            f"depends on how many of its elements are True{varies}. Select with {fix} instead, or compute the "
            f"mask outside the transform")
    return mask._value if isinstance(mask, Array) else mask


def _check_bounds(opname, arr, axis, size):
    while isinstance(arr, Tracer):  # grad's and vmap's values are still there to check (vmap's: every example's)
        arr = getattr(arr, "primal", None) if hasattr(arr, "primal") else getattr(arr, "val", None)
    if arr is None or isinstance(arr, Tracer) or not arr.size:
        return  # no values while jit traces: the backend checks them when the gather runs
    value = arr._value if isinstance(arr, Array) else arr
    lo, hi = int(value.min()), int(value.max())
    if hi >= size or lo < -size:
        raise IndexError(f"{opname}: index {hi if hi >= size else lo} is out of bounds for axis {axis} "
                         f"with size {size}")


def _slice_bounds(opname, s, size, dim):
    """``s.indices(size)``; a traced bound is refused with an IndexError, as JAX refuses it."""
    try:
        return s.indices(size)
    except TracerError as err:
        from ..errors import NonConcreteSliceError
        raise NonConcreteSliceError(f"{opname}: slice entries must be static integers, got {s!r} at position {dim} "
                                    f"({err}); use lax.dynamic_slice for a traced start") from None


def parse(opname, shape, idx, device=None):
    """The :class:`IndexPlan` of ``x[idx]`` for an ``x`` of ``shape`` on ``device`` (where host index arrays go)."""
    items = [_entry(opname, i) for i in (idx if isinstance(idx, tuple) else (idx,))]
    used = sum(_consumes(e) for e in items)
    if used > len(shape):
        raise IndexError(f"{opname}: too many indices: the array is {len(shape)}-dimensional, but {used} "
                         f"were indexed")
    if sum(e is Ellipsis for e in items) > 1:
        raise IndexError(f"{opname}: an index can only have a single ellipsis ('...')")
    fill = [slice(None)] * (len(shape) - used)
    at = next((k for k, e in enumerate(items) if e is Ellipsis), None)  # not `in`: entries may be arrays
    if at is not None:
        items[at:at + 1] = fill
    else:
        items += fill

    new_shape, index, arrays, dim = [], [], [], 0
    for e in items:
        if e is None:
            new_shape.append(1)
            index.append((0, 1, 1))
        elif isinstance(e, slice):
            new_shape.append(shape[dim])
            index.append(_slice_bounds(opname, e, shape[dim], dim))
            dim += 1
        elif isinstance(e, int):
            d = shape[dim]
            if not -d <= e < d:
                raise IndexError(f"{opname}: index {e} is out of bounds for axis {dim} with size {d}")
            new_shape.append(d)
            index.append(e % d)
            dim += 1
        elif _is_bool(e) and e.ndim == 0:
            new_shape.append(1)
            index.append(None)
            arrays.append(np.zeros(int(bool(_concrete_mask(opname, e))), np.intp))
        elif _is_bool(e):
            mask = _concrete_mask(opname, e)
            for k, (m, d) in enumerate(zip(mask.shape, shape[dim:])):
                if m != d:
                    raise IndexError(f"{opname}: boolean index did not match indexed array along axis {dim + k}; "
                                     f"size of axis is {d} but size of corresponding boolean axis is {m}")
            for d, nz in zip(shape[dim:], mask.nonzero()):
                new_shape.append(d)
                index.append(None)
                arrays.append(nz)
            dim += mask.ndim
        else:
            _check_bounds(opname, e, dim, shape[dim])
            new_shape.append(shape[dim])
            index.append(None)
            arrays.append(e)
            dim += 1
    return IndexPlan(tuple(new_shape), tuple(index), _broadcast(opname, arrays, device))


def _broadcast(opname, arrays, device):
    """The index arrays as fnx arrays of one common shape (payloads wrapped without a copy, on ``device``)."""
    if not arrays:
        return []
    shapes = [tuple(a.shape) for a in arrays]
    try:
        common = np.broadcast_shapes(*shapes)
    except ValueError:
        raise IndexError(f"{opname}: shape mismatch: indexing arrays could not be broadcast together with shapes "
                         f"{' '.join(map(str, shapes))}") from None
    out = []
    for a in arrays:
        if isinstance(a, Array):
            from .shape import broadcast_to
            out.append(broadcast_to(a, common))
        else:  # a payload made (or copied) by parse itself, so nobody else can change it
            out.append(from_host(xp_of(a).broadcast_to(a, common) if a.shape != common else a, device))
    return out


def indexed_shape(shape, index, bshape):
    """The shape of ``x[index]`` for the parsed ``index``, with index arrays of shape ``bshape``."""
    has_arrays = any(e is None for e in index)
    dims, advanced = [], []
    for d, e in zip(shape, index):
        if e is None or isinstance(e, int):
            advanced.append(len(dims))
        else:
            dims.append(len(range(*e)))
    bshape = tuple(bshape) if has_arrays else ()
    if not advanced:
        return tuple(dims)
    contiguous = advanced == [advanced[0]] * len(advanced)  # positions in dims: all equal when adjacent
    at = advanced[0] if contiguous else 0
    return tuple(dims[:at]) + bshape + tuple(dims[at:])


def index_tuple(index, arrays):
    """The backend index for ``impl``: slices, ints and the index arrays in their places."""
    it = iter(arrays)
    return tuple(next(it) if e is None else e if type(e) is int else as_slice(e) for e in index)


def normalize_index(opname, indices, size, mode):
    """Integer ``indices`` into an axis of ``size`` under ``mode`` ('raise', 'clip' or 'wrap'), for ``take``."""
    if mode in (None, "raise"):
        return indices
    if mode not in ("clip", "wrap"):
        raise ValueError(f"{opname}: mode must be 'raise', 'clip' or 'wrap', got {mode!r}")
    if size == 0:
        raise IndexError(f"{opname}: cannot do a non-empty take from an empty axis")
    if isinstance(indices, Tracer):
        from . import elementwise as el
        if mode == "clip":
            return el.minimum(el.maximum(indices, 0), size - 1)
        return el.remainder(indices, size)
    # Concrete indices are static data: computing them here keeps the gather a single primitive.
    value = indices._value if isinstance(indices, Array) else np.asarray(indices)
    xp = xp_of(value)
    out = xp.clip(value, 0, size - 1) if mode == "clip" else xp.mod(value, size)
    return wrap(out, indices.device) if isinstance(indices, Array) else out


def int_operand(opname, x):
    """``x`` as an index operand: an fnx array or a host copy, of an integer dtype."""
    e = _entry(opname, x)
    if isinstance(e, int):
        return np.asarray(e, np.intp)
    if _is_bool(e):
        raise IndexError(f"{opname}: indices must be integers, got a boolean array")
    return e

