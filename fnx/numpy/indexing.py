"""Indexing: ``x[idx]``, ``take``, ``nonzero`` and the functional updates ``x.at[idx]``.

Every index expression is first parsed (``_advanced.parse``) into one entry per
axis: a slice, an int, or a placeholder for an integer index array. Basic
indexing (no arrays) is a strided ``slice`` plus a ``reshape``. With arrays it
is one ``gather`` primitive that reads ``x[index]``, the index arrays passed as
positional operands so they may be traced and never become static parameters.

Gather and ``scatter_add`` are each other's transposes: the VJP of a gather
adds the cotangent into zeros at the indexed places (duplicates accumulate),
and the VJP of a scatter-add gathers, so indexing differentiates to any order.

``x.at[idx]`` offers JAX's functional updates, one primitive each, returning
a new array. Their rules are written with gather and scatter_add:

* ``set``: the updated places of ``x`` get no gradient, ``v`` gets the gathered
  cotangent. With duplicate indices one of the values wins (the last, on
  NumPy), and only the winner receives a gradient.
* ``add``: both get the cotangent, ``v`` gathered.
* ``multiply``: the product rule; each update's partial is ``x`` times the
  product of the *other* updates to the same place, computed without dividing
  by a zero.
* ``min``/``max``: the gradient goes to whichever of ``x`` and the updates equal
  the result, split evenly between ties (as ``fnx.numpy.maximum`` does).

Under vmap the batch becomes one more indexed axis of ``x``, so one gather or
scatter does the whole batch. When only ``x`` (or the values) is batched, that
axis is indexed by a full slice. When the index arrays are batched, it is
indexed by an iota, ``arange(batch)``, as one more index array: example ``b``
reads ``x[b][idx[b]]`` as ``x[b, idx[b]]``. NumPy's placement rule for the
indexed axes (together where they are adjacent, first otherwise) decides
where the batch lands in the result, so the rule puts the batch axis of ``x``
where it does not reorder the other axes. A boolean mask batched by vmap is
refused: each example could select a different number of elements.
"""
import numpy as np

from ..core import dtypes
from ..core.array import Array, wrap
from ..core.backend import data_device, xp_of
from ..core.primitive import ShapedArray, defprim
from ..core.trace import Tracer, concreteness_error
from ..errors import DTypeError, ImmutableError, ShapeError
from ._advanced import index_tuple, indexed_shape, int_operand, normalize_index, parse
from ._base import asarray, batch_size, constant, move_to_front, normalize_axis
from .shape import batch_axis_at, broadcast_to, moveaxis
from .shape import reshape, slice_axis, slice_p, slice_transpose_p, static_slice  # noqa: F401  (re-exported)

__all__ = ["take", "take_along_axis", "nonzero", "argwhere", "flatnonzero", "compress", "put_along_axis",
           "unravel_index", "ravel_multi_index", "bincount"]


def _indexed_aval(x, *idx, index):
    return ShapedArray(indexed_shape(x.shape, index, idx[0].shape if idx else ()), x.dtype)


def _update_aval(x, v, *idx, index):
    return ShapedArray(x.shape, x.dtype)


def _filled(x, value, dtype=None):
    """An array of ``x``'s shape full of ``value``: a broadcast scalar (``_base.constant``), free to
    make, and quick to copy into a scatter (copying a fresh ``np.zeros`` costs a page fault per page)."""
    return constant(value, x.dtype if dtype is None else np.dtype(dtype), tuple(x.shape), x.device)


def _zeros_like(x):
    return _filled(x, 0)


def _flat_positions(xp, shape, ix):
    """The C-order flat position, in an array of ``shape``, of each element of ``x[ix]``."""
    if len(ix) == len(shape) and all(isinstance(i, xp.ndarray) and i.dtype.kind in "iu" for i in ix):
        # One integer array per axis (x[rows, cols]): numpy's own ravel, after numpy's wrap of negatives.
        coords = tuple(i + (i < 0) * n if i.size and i.min() < 0 else i for i, n in zip(ix, shape))
        if any(c.shape != coords[0].shape for c in coords):
            coords = tuple(xp.broadcast_arrays(*coords))
        return xp.ravel_multi_index(coords, shape)
    pos, stride = 0, 1
    for d in range(len(shape) - 1, -1, -1):
        coord = xp.broadcast_to(xp.arange(shape[d]).reshape((-1,) + (1,) * (len(shape) - 1 - d)), shape)[ix]
        pos, stride = pos + coord * stride, stride * shape[d]
    return pos


def _scatter_impl(op):
    """The impl of a scatter: a copy of ``x`` with ``v`` combined in at the index by ``op``.

    With index arrays the update runs on the flattened copy, at the flat
    positions of the indexed elements: numpy's ``ufunc.at`` is several times
    faster on one dimension than on an index mixing arrays and slices.
    """
    def impl(xp, x, v, *idx, index):
        out = xp.array(x, copy=True, order="C")
        ix = index_tuple(index, idx)
        if not idx:  # basic indices never repeat, so plain assignment is exact
            out[ix] = v if op == "set" else getattr(xp, op)(out[ix], v)
            return out
        flat, pos, vals = out.reshape(-1), _flat_positions(xp, out.shape, ix).reshape(-1), v.reshape(-1)
        if xp is not np:  # cupy: repeated positions are written in no set order, and only add has .at
            if op == "add":
                import cupyx
                cupyx.scatter_add(flat, pos, vals)
            else:
                scatter_in_rounds(xp, op, flat, pos, vals)
        elif op == "set":
            flat[pos] = vals
        else:
            getattr(xp, op).at(flat, pos, vals)
        return out
    return impl


def scatter_in_rounds(xp, op, flat, pos, vals):
    """``flat[pos] = vals`` (``op`` "set") or ``op.at(flat, pos, vals)``, for a backend without either.

    Round ``r`` updates the ``r``-th occurrence of every position, so no round
    repeats a position: repeated positions combine exactly and in order, as in
    numpy (the last value set wins), where GPU atomics would combine them in no
    set order (cupy's scatter_min/max on float64 also lose precision).
    """
    n = pos.size
    if n == 0:
        return
    order = xp.argsort(pos * n + xp.arange(n))  # by position, then occurrence: unique keys, any sort is stable
    ordered = pos[order]
    starts = xp.ones(n, dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    first = xp.flatnonzero(starts)
    occurrence = xp.arange(n) - first[xp.cumsum(starts) - 1]
    for r in range(int(occurrence.max()) + 1):
        sel = order[occurrence == r]
        p = pos[sel]
        flat[p] = vals[sel] if op == "set" else getattr(xp, op)(flat[p], vals[sel])


# ----- batching: the batch as one more indexed axis -------------------------------------------------


def _advanced(index):
    """The positions of the advanced entries: index arrays, and ints when arrays are present."""
    return [k for k, e in enumerate(index) if type(e) is not tuple] if None in index else []


def _block_at(index):
    """Where the axes of the index arrays land in ``x[index]``: in place of the advanced
    entries when those are adjacent, first otherwise (as in :func:`indexed_shape`)."""
    adv = _advanced(index)
    if adv[-1] - adv[0] + 1 != len(adv):
        return 0
    return sum(type(e) is tuple for e in index[:adv[0]])


def _batched_index(x, xd, idx, ids, index, size):
    """One index for the whole batch: ``(x, xd, index, arrays, pos)``, ``pos`` the batch axis of ``x[index]``.

    ``x`` has its batch axis at ``xd`` (None: shared by the examples), the index arrays at ``ids``;
    the ``x`` returned may have it elsewhere, at the ``xd`` returned.
    """
    adv = _advanced(index)
    by_iota = any(b is not None for b in ids)
    if xd is not None and adv and adv[-1] - adv[0] + 1 == len(adv):
        # Adjacent advanced entries must stay adjacent (a slice between them would send the
        # index axes first): the iota joins the block, a batch slice stays outside it.
        fits = adv[0] <= xd <= adv[-1] + 1 if by_iota else not adv[0] < xd <= adv[-1]
        if not fits:
            x, xd = moveaxis(x, xd, adv[0]), adv[0]
    if not by_iota:
        index = index[:xd] + ((0, size, 1),) + index[xd:]
        pos = sum(type(e) is tuple for e in index[:xd])
        if idx and pos >= _block_at(index):
            pos += idx[0].ndim
        return x, xd, index, list(idx), pos
    arrays = move_to_front(idx, ids, size)
    if xd is not None:
        from .creation import arange
        shape = arrays[0].shape
        iota = arange(size, device=arrays[0].device)
        iota = broadcast_to(reshape(iota, (size,) + (1,) * (len(shape) - 1)), shape)
        arrays.insert(sum(e is None for e in index[:xd]), iota)
        index = index[:xd] + (None,) + index[xd:]
    return x, xd, index, arrays, _block_at(index)


def _gather_batch(vals, bdims, *, index):
    x, *idx = vals
    x, _, index, arrays, pos = _batched_index(x, bdims[0], idx, bdims[1:], index, batch_size(vals, bdims))
    return gather_p.bind(x, *arrays, index=index), pos


def _scatter_batch(prim):
    """The batching rule of a scatter: ``x`` always batched (the examples' results differ), the
    values' batch axis moved to where the batch lands in ``x[index]``."""
    def rule(vals, bdims, *, index):
        x, v, *idx = vals
        size = batch_size(vals, bdims)
        xd = bdims[0]
        if xd is None:
            adv = _advanced(index)
            xd = adv[0] if adv else 0
            x = batch_axis_at(x, None, xd, size)
        x, xd, index, arrays, pos = _batched_index(x, xd, idx, bdims[2:], index, size)
        return prim.bind(x, batch_axis_at(v, bdims[1], pos, size), *arrays, index=index), xd
    return rule


# ----- gather and scatter_add: the transpose pair -------------------------------------------------


def _gather_jvp(primals, tangents, *, index):
    x, *idx = primals
    return gather_p.bind(x, *idx, index=index), gather_p.bind(tangents[0], *idx, index=index)


gather_p = defprim(
    "gather", impl=lambda xp, x, *idx, index: x[index_tuple(index, idx)], shape=_indexed_aval, jvp=_gather_jvp,
    vjp=lambda ct, x, *idx, out, index: (scatter_add_p.bind(_zeros_like(x), ct, *idx, index=index),)
    + (None,) * len(idx), batch=_gather_batch, residuals=("partners",))


def _scatter_add_jvp(primals, tangents, *, index):
    x, v, *idx = primals
    tx, tv = tangents[:2]
    out = scatter_add_p.bind(x, v, *idx, index=index)
    if tv is None:
        return out, tx
    return out, scatter_add_p.bind(_zeros_like(x) if tx is None else tx, tv, *idx, index=index)


scatter_add_p = defprim(
    "scatter_add", impl=_scatter_impl("add"), shape=_update_aval, jvp=_scatter_add_jvp,
    vjp=lambda ct, x, v, *idx, out, index: (ct, lambda: gather_p.bind(ct, *idx, index=index)) + (None,) * len(idx))
scatter_add_p.batch = _scatter_batch(scatter_add_p)


# ----- scatter (set) --------------------------------------------------------------------------------


def _set_jvp(primals, tangents, *, index):
    x, v, *idx = primals
    tx, tv = (_zeros_like(p) if t is None else t for p, t in zip(primals[:2], tangents[:2]))
    return scatter_p.bind(x, v, *idx, index=index), scatter_p.bind(tx, tv, *idx, index=index)


def _winners(x, v, idx, index):
    """Which updates survive a set with duplicate indices: scatter their ids, read back, compare."""
    from .creation import arange
    from .elementwise import equal
    ids = reshape(arange(v.size, dtype=np.int64, device=v.device), v.shape)
    written = scatter_p.bind(_filled(x, -1, np.int64), ids, *idx, index=index)
    return equal(gather_p.bind(written, *idx, index=index), ids)


def _set_vjp(ct, x, v, *idx, out, index):
    def ct_v():
        g = gather_p.bind(ct, *idx, index=index)
        if not idx:  # basic indices never repeat
            return g
        from .elementwise import where
        return where(_winners(x, v, idx, index), g, _zeros_like(g))
    return (lambda: scatter_p.bind(ct, _zeros_like(v), *idx, index=index)), ct_v, *(None,) * len(idx)


scatter_p = defprim("scatter", impl=_scatter_impl("set"), shape=_update_aval, jvp=_set_jvp, vjp=_set_vjp)
scatter_p.batch = _scatter_batch(scatter_p)


# ----- scatter_mul -------------------------------------------------------------------------------------


def _others(x, v, idx, index):
    """For each update, the product of the other updates to the same place (None when all are alone)."""
    if not idx:
        return None
    from .elementwise import astype, equal, where
    zero = equal(v, 0)
    safe = where(zero, 1, v)
    prod = gather_p.bind(scatter_mul_p.bind(_filled(x, 1), safe, *idx, index=index), *idx, index=index)
    zeros = gather_p.bind(scatter_add_p.bind(_zeros_like(x), astype(zero, v.dtype), *idx, index=index),
                          *idx, index=index)
    nothing = _zeros_like(v)
    return where(zero, where(equal(zeros, 1), prod, nothing), where(equal(zeros, 0), prod / safe, nothing))


def _mul_jvp(primals, tangents, *, index):
    x, v, *idx = primals
    tx, tv = tangents[:2]
    out = scatter_mul_p.bind(x, v, *idx, index=index)
    t = None if tx is None else scatter_mul_p.bind(tx, v, *idx, index=index)
    if tv is not None:
        others = _others(x, v, idx, index)
        tv = tv if others is None else tv * others
        u = x * scatter_add_p.bind(_zeros_like(x), tv, *idx, index=index)
        t = u if t is None else t + u
    return out, t


def _mul_vjp(ct, x, v, *idx, out, index):
    def ct_v():
        g = gather_p.bind(ct * x, *idx, index=index)
        others = _others(x, v, idx, index)
        return g if others is None else g * others
    return (lambda: scatter_mul_p.bind(ct, v, *idx, index=index)), ct_v, *(None,) * len(idx)


scatter_mul_p = defprim("scatter_mul", impl=_scatter_impl("multiply"), shape=_update_aval,
                        jvp=_mul_jvp, vjp=_mul_vjp)
scatter_mul_p.batch = _scatter_batch(scatter_mul_p)


# ----- scatter_min, scatter_max --------------------------------------------------------------------------


def _extremum(name, ufunc):
    """A scatter-min or -max primitive; ties share the gradient evenly."""
    def masks(x, v, idx, index, out):
        from .elementwise import astype, equal
        mx = astype(equal(x, out), x.dtype)
        mv = astype(equal(v, gather_p.bind(out, *idx, index=index)), v.dtype)
        return mx, mv, mx + scatter_add_p.bind(_zeros_like(x), mv, *idx, index=index)

    def jvp(primals, tangents, *, index):
        x, v, *idx = primals
        tx, tv = tangents[:2]
        out = prim.bind(x, v, *idx, index=index)
        mx, mv, count = masks(x, v, idx, index, out)
        t = None if tx is None else tx * mx
        if tv is not None:
            u = scatter_add_p.bind(_zeros_like(x), tv * mv, *idx, index=index)
            t = u if t is None else t + u
        return out, t / count

    def vjp(ct, x, v, *idx, out, index):
        mx, mv, count = masks(x, v, idx, index, out)
        share = ct / count
        return share * mx, gather_p.bind(share, *idx, index=index) * mv, *(None,) * len(idx)

    def kinks(xp, x, v, *idx, index):
        # Per target: the gap between its two largest competitors, x's element and the updates sent there.
        sign = 1.0 if ufunc == "maximum" else -1.0
        out = prim.impl(xp, x, v, *idx, index=index)
        dx, dv = sign * (out - x), sign * (gather_p.impl(xp, out, *idx, index=index) - v)
        ties = scatter_add_p.impl(xp, (dx == 0).astype(x.dtype), (dv == 0).astype(v.dtype), *idx, index=index)
        second = _scatter_impl("minimum")(xp, xp.where(dx > 0, dx, xp.inf), xp.where(dv > 0, dv, xp.inf), *idx,
                                          index=index)
        return xp.where(ties > 1, 0.0, second)

    prim = defprim(name, impl=_scatter_impl(ufunc), shape=_update_aval, jvp=jvp, vjp=vjp, smooth=False,
                   kinks=kinks)
    prim.batch = _scatter_batch(prim)
    return prim


scatter_min_p = _extremum("scatter_min", "minimum")
scatter_max_p = _extremum("scatter_max", "maximum")


# ----- x[idx] ------------------------------------------------------------------------------------------


def getitem(x, idx):
    """``x[idx]`` with NumPy semantics: basic and advanced indexing, boolean masks included.

    A boolean mask must be concrete (not traced), since it decides the output's shape.

    >>> import fnx.numpy as fnp
    >>> x = fnp.arange(12).reshape(3, 4)
    >>> x[[0, 2], 1:3]
    Array([[ 1,  2],
           [ 9, 10]], dtype=int64)
    >>> x[x % 5 == 0]
    Array([ 0,  5, 10], dtype=int64)
    """
    if type(x) is Array and type(x._value) is np.ndarray:
        # Basic indexing of a concrete array is numpy's view. A trailing Ellipsis keeps numpy from
        # returning a scalar where every axis is indexed; what numpy refuses, parse names below.
        kind = type(idx)
        if kind is int or kind is slice or idx is None:
            key = (idx, Ellipsis)
        elif kind is tuple and all([type(k) in _BASIC_KEYS for k in idx]):
            key = idx if Ellipsis in idx else idx + (Ellipsis,)
        elif kind is Array and type(idx._value) is np.ndarray and idx._value.dtype.kind in "iub" \
                and idx._device is x._device:
            key = idx._value  # integer or boolean array indices: numpy's gather is the same copy
        else:
            key = None
        if key is not None:
            try:
                out = x._value[key]
            except (IndexError, TypeError, ValueError):
                out = None
            if type(out) is np.ndarray:  # (a 0-d index array into one axis gives numpy a scalar)
                return wrap(out, x._device)
    return _getitem("getitem", asarray(x), idx)


_BASIC_KEYS = frozenset([int, slice, type(None), type(Ellipsis)])


def _getitem(opname, x, idx):
    plan = parse(opname, x.shape, idx, x.device)
    y = x if plan.shape == x.shape else reshape(x, plan.shape)
    if plan.arrays:
        return gather_p.bind(y, *plan.arrays, index=plan.index)
    slices = tuple((e, e + 1, 1) if type(e) is int else e for e in plan.index)
    if any(s != (0, d, 1) for s, d in zip(slices, y.shape)):
        y = slice_p.bind(y, slices=slices)
    return reshape(y, indexed_shape(plan.shape, plan.index, ()))


def take(a, indices, axis=None, out=None, mode=None, unique_indices=False, indices_are_sorted=False,
         fill_value=None):
    """Elements of ``a`` at ``indices`` along ``axis`` (of the flattened array when None).

    ``mode``: ``'raise'`` (the default) checks bounds, ``'clip'`` clamps to the
    axis (so negative indices mean 0, as in NumPy), ``'wrap'`` wraps around,
    and JAX's ``'fill'`` gives ``fill_value`` (NaN for floats by default) for an
    index out of bounds (negative indices count from the end).

    >>> import fnx.numpy as fnp
    >>> fnp.take(fnp.array([[1, 2], [3, 4]]), [1, 1, 0], axis=1)
    Array([[2, 2, 1],
           [4, 4, 3]], dtype=int64)
    >>> fnp.take(fnp.array([1.0, 2.0]), [1, 5], mode="fill")
    Array([ 2., nan], dtype=float32)
    """
    from .shape import _no_out, ravel
    _no_out("take", out)
    x = asarray(a)
    if axis is None:
        x, axis = ravel(x), 0
    axis = normalize_axis("take", axis, x.ndim)
    index = (slice(None),) * axis + (int_operand("take", indices),)
    if mode == "fill":
        return _IndexUpdateRef(x, index).get(mode="fill", fill_value=fill_value)
    i = normalize_index("take", index[-1], x.shape[axis], mode)
    return _getitem("take", x, index[:-1] + (i,))


def take_along_axis(arr, indices, axis=-1, mode=None, fill_value=None):
    """``arr`` indexed by ``indices`` along ``axis``, matching the other axes, as ``numpy.take_along_axis``.

    ``mode`` and ``fill_value`` are JAX's: negative indices count from the end, then ``'clip'`` clamps
    into the axis, ``'fill'`` gives ``fill_value`` (NaN for floats) where an index is out of bounds, and
    :func:`take`'s ``'wrap'`` wraps around.

    >>> import fnx.numpy as fnp
    >>> x = fnp.array([[10, 30, 20], [60, 40, 50]])
    >>> fnp.take_along_axis(x, fnp.argsort(x, axis=1)[:, :1], axis=1)
    Array([[10],
           [40]], dtype=int64)
    """
    from .shape import ravel
    x = asarray(arr)
    i = int_operand("take_along_axis", indices)
    if axis is None:
        if i.ndim != 1:
            raise ShapeError(f"take_along_axis: with axis=None the indices must be 1-d, got shape {tuple(i.shape)}")
        x, axis = ravel(x), 0
    if i.ndim != x.ndim:
        raise ShapeError(f"take_along_axis: indices of shape {tuple(i.shape)} and an array of shape {x.shape} "
                         f"must have the same number of dimensions")
    axis = normalize_axis("take_along_axis", axis, x.ndim)
    if mode not in (None, "clip", "fill"):
        i = normalize_index("take_along_axis", i, x.shape[axis], mode)
    # The other axes are indexed by aranges shaped to broadcast against the indices (numpy's construction).
    grid = tuple(i if d == axis else np.arange(n).reshape((1,) * d + (n,) + (1,) * (x.ndim - d - 1))
                 for d, n in enumerate(x.shape))
    if mode in ("clip", "fill"):  # JAX's modes, as x.at[grid].get applies them
        return _IndexUpdateRef(x, grid).get(mode=mode, fill_value=fill_value)
    return _getitem("take_along_axis", x, grid)


_VALUE_DECIDES_SHAPE = ("The number of nonzero elements decides the output's shape, so it cannot be traced; use "
                        "fnx.numpy.where(condition, x, y) to select without changing shape (or size= where the "
                        "function takes it)")


def _concrete(opname, a, hint=_VALUE_DECIDES_SHAPE):
    x = asarray(a)
    if isinstance(x, Tracer):
        raise concreteness_error(x._main.name, opname, hint)
    return x


def nonzero(a, *, size=None, fill_value=None):
    """The indices of the nonzero elements of ``a``, one integer array per axis.

    Without ``size`` the output's length depends on the values, so ``a`` must be
    concrete (inside a transform this raises ``TracerError``). With JAX's
    ``size`` the output has exactly ``size`` entries: the first ``size``
    indices, padded with ``fill_value`` (0 by default; a tuple gives one per
    axis), which works under ``jit`` and ``vmap`` too.

    >>> import fnx.numpy as fnp
    >>> fnp.nonzero(fnp.array([0, 3, 0, 4]))
    (Array([1, 3], dtype=int64),)
    >>> fnp.nonzero(fnp.array([0, 3, 0, 4]), size=3, fill_value=-1)
    (Array([ 1,  3, -1], dtype=int64),)
    """
    if size is not None:
        return _nonzero_sized("nonzero", a, size, fill_value)
    if fill_value is not None:
        raise ValueError("nonzero: fill_value needs size")
    x = _concrete("nonzero", a)
    if x.ndim == 0:
        raise ValueError("nonzero: calling nonzero on a 0-d array is not allowed; use atleast_1d(x) first")
    value = x._value
    return tuple(wrap(i, x.device) for i in xp_of(value).nonzero(value))


def _nonzero_sized(opname, a, size, fill_value):
    """nonzero with a fixed output length, as array operations (no value decides a shape)."""
    from .creation import arange, zeros
    from .elementwise import astype, less, logical_and, not_equal, where
    from .reductions import cumsum, sum as total
    from .shape import ravel
    x = asarray(a)
    if x.ndim == 0:
        raise ValueError(f"{opname}: calling nonzero on a 0-d array is not allowed; use atleast_1d(x) first")
    size = int(size)
    if size < 0:
        raise ValueError(f"{opname}: size must be non-negative, got {size}")
    fills = fill_value if isinstance(fill_value, (tuple, list)) else (0 if fill_value is None else fill_value,) * x.ndim
    if len(fills) != x.ndim:
        raise ValueError(f"{opname}: fill_value has {len(fills)} entries for an array of {x.ndim} dimensions")
    hit = ravel(not_equal(x, False) if x.dtype.kind == "b" else not_equal(x, 0))
    rank = cumsum(astype(hit, np.int64)) - 1  # each hit's place in the output
    slot = where(logical_and(hit, less(rank, size)), rank, size)  # misses (and hits past size) go to a spare slot
    flat = zeros(size + 1, np.int64, device=x.device).at[slot].set(arange(hit.size, dtype=np.int64,
                                                                             device=x.device))[:size]
    found = less(arange(size, dtype=np.int64, device=x.device), total(astype(hit, np.int64)))
    coords = unravel_index(flat, x.shape) if x.ndim > 1 else (flat,)
    return tuple(where(found, c, np.int64(f)) for c, f in zip(coords, fills))


def flatnonzero(a, *, size=None, fill_value=None):
    """The indices of the nonzero elements of ``a`` flattened (concrete only, unless ``size`` is given)."""
    from .shape import ravel
    if size is not None:
        return _nonzero_sized("flatnonzero", ravel(asarray(a)), size, fill_value)[0]
    return nonzero(ravel(_concrete("flatnonzero", a)))[0]


def argwhere(a, *, size=None, fill_value=None):
    """The indices of the nonzero elements as rows of an ``(N, a.ndim)`` array (concrete only, unless
    ``size`` fixes N)."""
    if size is not None:
        from .shape import stack
        x = asarray(a)
        if x.ndim == 0:
            from .shape import atleast_1d
            x = atleast_1d(x)
        return stack(_nonzero_sized("argwhere", x, size, fill_value), axis=1)
    x = _concrete("argwhere", a)
    return wrap(xp_of(x._value).argwhere(x._value), x.device)


def compress(condition, a, axis=None, out=None):
    """The slices of ``a`` along ``axis`` where ``condition`` (1-d, concrete) is True."""
    cond = _concrete("compress", condition)
    if cond.ndim != 1:
        raise ShapeError(f"compress: condition must be 1-d, got shape {cond.shape}")
    return take(a, nonzero(cond)[0], axis=axis, out=out)


def _along_axis_grid(opname, x, i, axis):
    """The index tuple that pairs ``i`` along ``axis`` with aranges over the other axes (numpy's construction)."""
    if i.ndim != x.ndim:
        raise ShapeError(f"{opname}: indices of shape {tuple(i.shape)} and an array of shape {x.shape} "
                         f"must have the same number of dimensions")
    return tuple(i if d == axis else np.arange(n).reshape((1,) * d + (n,) + (1,) * (x.ndim - d - 1))
                 for d, n in enumerate(x.shape))


def _integers(opname, x):
    x = asarray(x)
    if x.dtype.kind not in "iu":
        raise DTypeError(f"{opname}: expected integer indices, got {x.dtype}")
    return x


def put_along_axis(arr, indices, values, axis, inplace=True):
    """A copy of ``arr`` with ``values`` written at ``indices`` along ``axis``, as
    ``jax.numpy.put_along_axis``.

    fnx arrays are immutable, so the update cannot happen in place as in
    ``numpy.put_along_axis``: pass ``inplace=False`` and use the returned array.
    Differentiable in ``arr`` and ``values``.

    >>> import fnx.numpy as fnp
    >>> x = fnp.array([[10., 30., 20.], [60., 40., 50.]])
    >>> fnp.put_along_axis(x, fnp.argmax(x, axis=1, keepdims=True), 0., axis=1, inplace=False)
    Array([[10.,  0., 20.],
           [ 0., 40., 50.]], dtype=float32)
    """
    if inplace:
        raise ImmutableError("put_along_axis: fnx arrays are immutable and cannot be updated in place; pass "
                             "inplace=False and use the returned array")
    x = asarray(arr)
    i = int_operand("put_along_axis", indices)
    if axis is None:
        if i.ndim != 1:
            raise ShapeError(f"put_along_axis: with axis=None the indices must be 1-d, got shape {tuple(i.shape)}")
        flat = reshape(x, (x.size,))
        return reshape(_update("put_along_axis", scatter_p, flat, (i,), values), x.shape)
    axis = normalize_axis("put_along_axis", axis, x.ndim)
    return _update("put_along_axis", scatter_p, x, _along_axis_grid("put_along_axis", x, i, axis), values)


def unravel_index(indices, shape, order="C"):
    """The multi-indices into an array of ``shape`` of the flat ``indices``, one int64 array per axis, as
    ``numpy.unravel_index``. Concrete indices are bounds-checked.

    >>> import fnx.numpy as fnp
    >>> fnp.unravel_index(fnp.array([5, 7]), (2, 4))
    (Array([1, 1], dtype=int64), Array([1, 3], dtype=int64))
    """
    from .elementwise import astype, floor_divide, remainder
    if order not in ("C", "F"):
        raise ValueError(f"unravel_index: order must be 'C' or 'F', got {order!r}")
    dims = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(d) for d in shape)
    flat = astype(_integers("unravel_index", indices), np.int64)
    total = int(np.prod(dims))
    if not isinstance(flat, Tracer) and flat.size and not (0 <= int(flat.min()) and int(flat.max()) < total):
        raise ValueError(f"unravel_index: indices must be in [0, {total}) for shape {dims}")
    out = []
    for d in (reversed(dims) if order == "C" else dims):  # the fastest-varying axis comes off first
        out.append(remainder(flat, d))
        flat = floor_divide(flat, d)
    return tuple(reversed(out)) if order == "C" else tuple(out)


def ravel_multi_index(multi_index, dims, mode="raise", order="C"):
    """The flat indices (int64) of the multi-indices ``multi_index`` into an array of shape ``dims``, as
    ``numpy.ravel_multi_index``.

    ``mode`` (one for all axes, or one per axis): ``'raise'`` checks concrete
    indices, ``'wrap'`` wraps them around, ``'clip'`` clamps them.

    >>> import fnx.numpy as fnp
    >>> fnp.ravel_multi_index((fnp.array([1, 1]), fnp.array([1, 3])), (2, 4))
    Array([5, 7], dtype=int64)
    """
    from .elementwise import astype, clip, remainder
    from .shape import broadcast_arrays
    if order not in ("C", "F"):
        raise ValueError(f"ravel_multi_index: order must be 'C' or 'F', got {order!r}")
    dims = tuple(int(d) for d in dims)
    if len(multi_index) != len(dims):
        raise ValueError(f"ravel_multi_index: {len(multi_index)} index arrays for {len(dims)} dimensions")
    modes = (mode,) * len(dims) if isinstance(mode, str) else tuple(mode)
    if len(modes) != len(dims) or any(m not in ("raise", "wrap", "clip") for m in modes):
        raise ValueError(f"ravel_multi_index: mode must be 'raise', 'wrap' or 'clip' (or one per axis), got {mode!r}")
    parts = broadcast_arrays(*[astype(_integers("ravel_multi_index", i), np.int64) for i in multi_index])
    flat, stride = None, 1
    for k in (reversed(range(len(dims))) if order == "C" else range(len(dims))):
        i, d, m = parts[k], dims[k], modes[k]
        if m == "wrap":
            i = remainder(i, d)
        elif m == "clip":
            i = clip(i, 0, d - 1)
        elif not isinstance(i, Tracer) and i.size and not (0 <= int(i.min()) and int(i.max()) < d):
            raise ValueError(f"ravel_multi_index: invalid entry in coordinates array {k}: not in [0, {d})")
        flat = i * stride if flat is None else flat + i * stride
        stride *= d
    return flat


def bincount(x, weights=None, minlength=0, *, length=None):
    """How often each value ``0 .. length-1`` occurs in the 1-d non-negative integer array ``x``, summing
    ``weights`` instead of ones when given, as ``numpy.bincount`` (``length=`` as in JAX).

    Without ``length`` the output's length is ``max(x) + 1`` (at least
    ``minlength``), which depends on the values, so ``x`` must be concrete;
    under a transform pass ``length`` (values at or past it are dropped).
    Differentiable in ``weights``, whose dtype is raised to at least the
    default float.

    >>> import fnx.numpy as fnp
    >>> fnp.bincount(fnp.array([0, 1, 1, 3]))
    Array([1, 2, 0, 1], dtype=int64)
    """
    from .creation import zeros
    from .elementwise import astype, less, minimum, where
    i = asarray(x)
    if i.dtype.kind == "b":  # booleans count as 0 and 1, as numpy's safe cast reads them
        i = astype(i, dtypes.int64)
    i = _integers("bincount", i)
    if i.ndim != 1:
        raise ShapeError(f"bincount: x must be 1-d, got shape {i.shape}")
    if not isinstance(i, Tracer) and i.size and int(i.min()) < 0:
        raise ValueError("bincount: x must be non-negative")
    if length is None:
        if isinstance(i, Tracer):
            raise concreteness_error(i._main.name, "bincount", "The largest value decides the output's length, so "
                                     "it cannot be traced; pass length= to fix it")
        length = max(int(i.max()) + 1 if i.size else 0, int(minlength))
    w = asarray(1) if weights is None else asarray(weights)
    dt = dtypes.int64 if weights is None else dtypes.result_type(w, float)
    if weights is not None and w.shape != i.shape:
        raise ShapeError(f"bincount: weights of shape {w.shape} differ from x's shape {i.shape}")
    inside = less(i, length)
    w = where(inside, astype(w, dt), 0)
    out = zeros(int(length), dt, device=i.device)
    return out.at[minimum(i, max(int(length) - 1, 0))].add(w) if length else out


# ----- x.at[idx] ---------------------------------------------------------------------------------------


def _update(opname, prim, x, idx, values):
    x = asarray(x)
    plan = parse(opname, x.shape, idx, x.device)
    target = indexed_shape(plan.shape, plan.index, plan.arrays[0].shape if plan.arrays else ())
    with data_device(x):  # Python numbers and numpy values join x's device
        v = asarray(values, x.dtype)
    while v.ndim > len(target) and v.shape[0] == 1:  # numpy drops leading length-one axes of the values
        v = reshape(v, v.shape[1:])
    if v.shape != target:
        from .shape import broadcast_to
        try:
            v = broadcast_to(v, target)
        except ShapeError:
            raise ShapeError(f"{opname}: values of shape {v.shape} cannot be broadcast to the indexed shape "
                             f"{target}") from None
    out = prim.bind(reshape(x, plan.shape), v, *plan.arrays, index=plan.index)
    return reshape(out, x.shape)


# JAX's ``mode=`` for out-of-bounds indices. Without it fnx raises IndexError for a concrete index out of
# bounds, as NumPy does; with it, the index expression is rewritten before indexing: "clip" clamps each
# integer index into its axis, "fill" (reads) and "drop" (updates) send every index tuple with a
# component out of bounds to one extra slot padded at the end of each indexed axis, which holds the
# fill value for a read and is cut off again after an update.
_MODES = ("promise_in_bounds", "clip", "fill", "drop")


def _default_fill(dtype):
    if dtype.kind in "fc":
        return np.nan
    if dtype.kind == "b":
        return True
    info = np.iinfo(dtype)
    return info.min if dtype.kind == "i" else info.max


def _with_mode(opname, x, idx, mode, pad_value):
    """``(x, idx, padded_axes)`` with ``idx``'s integer components made safe under ``mode``."""
    from .creation import full
    from .elementwise import astype, clip, greater_equal, less, logical_and, where
    from .shape import concatenate
    if mode not in _MODES:
        raise ValueError(f"{opname}: mode must be one of {_MODES} (or None), got {mode!r}")
    if mode == "promise_in_bounds":
        return x, idx, ()
    items = list(idx) if isinstance(idx, tuple) else [idx]
    consumed = sum(0 if it is None or it is Ellipsis else
                   (asarray(it).ndim if _is_bool_index(it) else 1) for it in items)
    axis, found = 0, []
    for k, it in enumerate(items):
        if it is Ellipsis:
            axis += x.ndim - consumed
        elif it is None:
            continue
        elif isinstance(it, slice):
            axis += 1
        elif _is_bool_index(it):
            axis += asarray(it).ndim
        else:
            i = astype(int_operand(opname, it), np.int64)
            n = x.shape[axis]
            found.append((k, axis, where(less(i, 0), i + n, i)))
            axis += 1
    if not found:
        return x, idx, ()
    if mode == "clip":
        for k, ax, i in found:
            items[k] = clip(i, 0, max(x.shape[ax] - 1, 0))
        return x, tuple(items), ()
    valid = None
    for _, ax, i in found:
        inside = logical_and(greater_equal(i, 0), less(i, x.shape[ax]))
        valid = inside if valid is None else logical_and(valid, inside)
    padded = []
    for k, ax, i in found:
        items[k] = where(valid, i, x.shape[ax])
        if ax not in padded:
            slot = full(x.shape[:ax] + (1,) + x.shape[ax + 1:], pad_value, x.dtype, device=x.device)
            x = concatenate([x, slot], axis=ax)
            padded.append(ax)
    return x, tuple(items), tuple(padded)


def _is_bool_index(it):
    if isinstance(it, (bool, np.bool_)):
        return True
    if isinstance(it, (Array, np.ndarray)):
        return it.dtype == np.bool_
    if isinstance(it, (list, tuple)):
        return np.asarray(it).dtype == np.bool_ if it else False
    return False


class _IndexUpdateRef:
    """``x.at[idx]``: functional updates of ``x`` at ``idx``; each returns a new array.

    Every method takes JAX's ``mode``: ``"clip"`` clamps out-of-bounds indices
    into their axis; ``"fill"`` (``get``) reads ``fill_value`` there (NaN for
    floats, the extreme value for integers, True for booleans, by default);
    ``"drop"`` (updates) ignores updates there; ``"promise_in_bounds"`` checks
    nothing. Without ``mode``, a concrete index out of bounds raises IndexError,
    as in NumPy. ``indices_are_sorted`` and ``unique_indices`` are accepted
    hints that change nothing.
    """

    __slots__ = ("array", "index")

    def __init__(self, array, index):
        self.array, self.index = array, index

    def get(self, *, mode=None, fill_value=None, indices_are_sorted=False, unique_indices=False):
        """``x[idx]``."""
        if mode is None:
            return getitem(self.array, self.index)
        x = asarray(self.array)
        if mode == "drop":
            raise ValueError("x.at[idx].get: mode 'drop' is for updates; reads take 'fill', 'clip' or "
                             "'promise_in_bounds'")
        fill = _default_fill(x.dtype) if fill_value is None else fill_value
        x, idx, _ = _with_mode("x.at[idx].get", x, self.index, mode, fill)
        return getitem(x, idx)

    def _apply(self, opname, prim, values, mode):
        if mode is None:
            return _update(opname, prim, self.array, self.index, values)
        if mode == "fill":
            mode = "drop"  # JAX: an update's fill mode drops, as its default does
        x = asarray(self.array)
        padded_x, idx, padded = _with_mode(opname, x, self.index, mode, 0)
        out = _update(opname, prim, padded_x, idx, values)
        for ax in padded:
            out = slice_axis(out, ax, 0, x.shape[ax])
        return out

    def set(self, values, *, mode=None, indices_are_sorted=False, unique_indices=False):
        """``x`` with ``x[idx] = values``; with repeated indices one of the values wins."""
        return self._apply("x.at[idx].set", scatter_p, values, mode)

    def add(self, values, *, mode=None, indices_are_sorted=False, unique_indices=False):
        """``x`` with ``values`` added at ``idx``; repeated indices accumulate."""
        return self._apply("x.at[idx].add", scatter_add_p, values, mode)

    def subtract(self, values, *, mode=None, indices_are_sorted=False, unique_indices=False):
        """``x`` with ``values`` subtracted at ``idx``; repeated indices accumulate."""
        from .elementwise import negative
        return self.add(negative(asarray(values, asarray(self.array).dtype)), mode=mode)

    def multiply(self, values, *, mode=None, indices_are_sorted=False, unique_indices=False):
        """``x`` multiplied by ``values`` at ``idx``; repeated indices accumulate."""
        return self._apply("x.at[idx].multiply", scatter_mul_p, values, mode)

    mul = multiply

    def divide(self, values, *, mode=None, indices_are_sorted=False, unique_indices=False):
        """``x / d`` with ``d`` one but at ``idx``, where it is the product of the ``values`` given there:
        JAX's rule (an index repeated divides by each of its values), with ``x / v`` rounded as a division."""
        from .elementwise import true_divide
        return true_divide(self.array, self._ones_times(values, mode))

    def power(self, values, *, mode=None, indices_are_sorted=False, unique_indices=False):
        """``x ** e`` with ``e`` one but at ``idx``, where it is the product of the ``values`` given there (JAX's
        rule: an index repeated raises to each of its values in turn)."""
        from .elementwise import power
        return power(self.array, self._ones_times(values, mode))

    def _ones_times(self, values, mode):
        from .creation import ones_like
        return _IndexUpdateRef(ones_like(self.array), self.index).multiply(values, mode=mode)

    def min(self, values, *, mode=None, indices_are_sorted=False, unique_indices=False):
        """``x`` with ``x[idx] = minimum(x[idx], values)``."""
        return self._apply("x.at[idx].min", scatter_min_p, values, mode)

    def max(self, values, *, mode=None, indices_are_sorted=False, unique_indices=False):
        """``x`` with ``x[idx] = maximum(x[idx], values)``."""
        return self._apply("x.at[idx].max", scatter_max_p, values, mode)

    def apply(self, func, *, mode=None, indices_are_sorted=False, unique_indices=False):
        """``x`` with ``x[idx] = func(x[idx])`` for a unary ``func`` (an index repeated is applied once)."""
        return self.set(func(self.get(mode="clip" if mode is not None else None)), mode=mode)

    def __repr__(self):
        return f"_IndexUpdateRef({self.array!r}, {self.index!r})"


class _IndexUpdateHelper:
    """``x.at``, to be indexed: ``x.at[idx].set(v)``, ``.add(v)``, ``.multiply(v)``, ``.min(v)``, ``.max(v)``,
    ``.get()``.

    fnx arrays are immutable, so these return new arrays (as in JAX):

    >>> import fnx.numpy as fnp
    >>> fnp.zeros(3).at[[0, 0, 2]].add(1.)
    Array([2., 0., 1.], dtype=float32)
    """

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    def __getitem__(self, index):
        return _IndexUpdateRef(self.array, index)

    def __repr__(self):
        return f"_IndexUpdateHelper({self.array!r})"


Array.at = property(_IndexUpdateHelper, doc=_IndexUpdateHelper.__doc__)
