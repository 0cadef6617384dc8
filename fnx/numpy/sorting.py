"""Sorting and searching: sort, argsort, searchsorted, unique.

Sorting only moves values, so its derivative moves tangents the same way. The
JVP of ``sort`` gathers the tangent through the permutation ``argsort`` finds,
and the VJP sends the cotangent back through the inverse permutation, which is
the argsort of that permutation. Both are the one linear primitive
``permute_along_axis``, whose VJP is itself applied with the inverse, so
``sort`` differentiates to any order. Where values tie, the permutation picks
one assignment of the tied slots, a valid subgradient; JVP and VJP find the
same one, as both ask argsort the same question.

``argsort``, ``searchsorted`` and ``unique`` produce integers and are not
differentiable; ``unique`` also has a size that depends on the values, so it
needs concrete input and is computed outside the transforms.

Under vmap the batch axis is one more axis to sort along with, so the rules
move it first and shift ``axis`` past it. ``searchsorted`` is the exception,
because the table is 1-D and numpy searches only one table at a time: see its
rule for how a batch of tables is searched with one sort.
"""
import math

import numpy as np

from ..core import backend, dtypes
from ..core.array import wrap
from ..core.primitive import ShapedArray, defprim
from ..errors import ShapeError
from . import elementwise as el, shape as sh
from .reductions import cumsum_p
from ._base import asarray, batch_front, normalize_axis, not_differentiable, same_shape, shift_axes

__all__ = ["sort", "argsort", "searchsorted", "unique", "partition", "argpartition"]


def _kind(stable):
    return "stable" if stable else None


argsort_p = not_differentiable(
    "argsort", lambda xp, x, *, axis, stable: xp.argsort(x, axis=axis, kind=_kind(stable)),
    lambda x, *, axis, stable: ShapedArray(x.shape, dtypes.int64))
argsort_p.batch = batch_front(argsort_p, shift_axes)


def _permute_jvp(primals, tangents, *, axis):
    (x, idx), (t, _) = primals, tangents
    return permute_p.bind(x, idx, axis=axis), None if t is None else permute_p.bind(t, idx, axis=axis)


def _inverse(idx, axis):
    return argsort_p.bind(idx, axis=axis, stable=False)


# ``idx`` must hold a permutation of each slice along ``axis`` (sort's rules are
# its only users): then the transpose of the gather is the gather by the inverse.
permute_p = defprim(
    "permute_along_axis", impl=lambda xp, x, idx, *, axis: xp.take_along_axis(x, idx, axis=axis),
    shape=same_shape, jvp=_permute_jvp,
    vjp=lambda ct, x, idx, *, out, axis: (permute_p.bind(ct, _inverse(idx, axis), axis=axis), None))
permute_p.batch = batch_front(permute_p, shift_axes)  # an unbatched operand is broadcast: one gather for all


def _sort_jvp(primals, tangents, *, axis, stable):
    (x,), (t,) = primals, tangents
    idx = argsort_p.bind(x, axis=axis, stable=stable)
    return permute_p.bind(x, idx, axis=axis), permute_p.bind(t, idx, axis=axis)


def _sort_vjp(ct, x, *, out, axis, stable):
    idx = argsort_p.bind(x, axis=axis, stable=stable)
    return (permute_p.bind(ct, _inverse(idx, axis), axis=axis),)


sort_p = defprim("sort", impl=lambda xp, x, *, axis, stable: xp.sort(x, axis=axis, kind=_kind(stable)),
                 shape=same_shape, jvp=_sort_jvp, vjp=_sort_vjp, smooth=False,
                 kinks=lambda xp, x, *, axis, stable: xp.diff(xp.sort(x, axis=axis), axis=axis))
sort_p.batch = batch_front(sort_p, shift_axes)


def _searchsorted_batch(vals, bdims, *, side):
    """One search for a batch of tables, by merging each table with its queries in one stable sort.

    A shared table with batched queries is one ordinary call. A batched table
    (``B`` rows of ``n``) cannot be searched by numpy at once, so each row is
    concatenated with its ``m`` queries, queries first for ``side='left'`` and
    last for ``'right'``, and the rows are argsorted stably in one call: a query
    then lands before the entries equal to it ('left') or after them ('right'),
    NaNs included, exactly where numpy would insert it. Its answer is the number
    of table entries sorted before it: a running count over the sorted rows,
    sent back to the queries' places with the inverse permutation. That costs
    two sorts of ``B x (n + m)`` values, where comparing every query with every
    entry and counting would cost ``B x n x m`` and get NaNs wrong, and adding a
    per-row offset to make one flat table would lose float precision.
    """
    (a, v), (da, dv) = vals, bdims
    if da is None:
        return searchsorted_p.bind(a, v, side=side), dv
    a = sh.batch_axis_at(a, da, 0)
    size, n = a.shape
    v = sh.batch_axis_at(v, dv, 0, size)
    queries = v.shape[1:]
    m = math.prod(queries)
    q = sh.reshape(v, (size, m))
    left = side == "left"
    order = argsort_p.bind(sh.concatenate([q, a] if left else [a, q], axis=1), axis=1, stable=True)
    is_entry = el.astype(order >= m if left else order < n, dtypes.int64)
    counts = permute_p.bind(cumsum_p.bind(is_entry, axis=1, reverse=False), _inverse(order, 1), axis=1)
    found = sh.slice_axis(counts, 1, 0, m) if left else sh.slice_axis(counts, 1, n, n + m)
    return sh.reshape(found, (size,) + queries), 0


searchsorted_p = not_differentiable(
    "searchsorted", lambda xp, a, v, *, side: xp.searchsorted(a, v, side=side),
    lambda a, v, *, side: ShapedArray(v.shape, dtypes.int64))
searchsorted_p.batch = _searchsorted_batch

# ----- public functions ----------------------------------------------------------------------------


def _along(opname, a, axis, kind, order, stable):
    """The array and the axis to sort along (flattened for None), and whether to sort stably."""
    if order is not None:
        raise NotImplementedError(f"{opname}: order= (sorting structured arrays by field) is not supported")
    if kind is not None and stable is not None:
        raise ValueError(f"{opname}: give kind= or stable=, not both")
    if kind not in (None, "quicksort", "mergesort", "heapsort", "stable"):
        raise ValueError(f"{opname}: unknown kind {kind!r}; use 'quicksort', 'mergesort', 'heapsort' or 'stable'")
    x = asarray(a)
    if axis is None:
        x, axis = sh.ravel(x), 0
    # Stable unless asked otherwise, as JAX's default (NumPy leaves the order of ties open, so its users lose nothing).
    stable = kind in (None, "mergesort", "stable") if stable is None else bool(stable)
    return x, normalize_axis(opname, axis, x.ndim), stable


def sort(a, axis=-1, kind=None, order=None, *, stable=None, descending=False):
    """A sorted copy of ``a`` along ``axis`` (the flattened array when None), as ``numpy.sort``.

    Differentiable: the gradient flows back to where each value came from.
    ``descending=True`` (the array API's and JAX's option) sorts from the largest
    value down, NaNs first.

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.grad(lambda x: fnp.sort(x)[0])(fnp.array([3., 1., 2.]))
    Array([0., 1., 0.], dtype=float32)
    """
    x, axis, stable = _along("sort", a, axis, kind, order, stable)
    if x.ndim == 0:
        raise np.exceptions.AxisError(f"sort: axis {axis} is out of bounds for an array of dimension 0")
    if descending:
        return sh.flip(sort_p.bind(x, axis=axis, stable=stable), axis)
    return sort_p.bind(x, axis=axis, stable=stable)


def argsort(a, axis=-1, kind=None, order=None, *, stable=None, descending=False):
    """Indices (int64) that sort ``a`` along ``axis``, as ``numpy.argsort``; ``stable=True`` keeps ties in order.

    ``descending=True`` orders from the largest value down, ties (with ``stable``)
    still in their original order, as ``jax.numpy.argsort``.

    >>> import fnx.numpy as fnp
    >>> fnp.argsort(fnp.array([3., 1., 2.]))
    Array([1, 2, 0], dtype=int64)
    """
    x, axis, stable = _along("argsort", a, axis, kind, order, stable)
    if x.ndim == 0:
        raise np.exceptions.AxisError(f"argsort: axis {axis} is out of bounds for an array of dimension 0")
    if descending:  # sort the reversed array upwards and read it backwards: ties keep their first-come order
        n = x.shape[axis]
        return (n - 1) - sh.flip(argsort_p.bind(sh.flip(x, axis), axis=axis, stable=stable), axis)
    return argsort_p.bind(x, axis=axis, stable=stable)


def searchsorted(a, v, side="left", sorter=None, *, method="scan"):
    """Indices (int64) where ``v`` would be inserted into the sorted 1-D ``a`` to keep it sorted.

    ``side='left'`` gives the first such place, ``'right'`` the last; ``sorter``
    holds indices that sort ``a``. Not differentiable. ``method`` is JAX's
    choice of algorithm (``'scan'``, ``'scan_unrolled'``, ``'sort'``,
    ``'compare_all'``): all give the same indices, so it is checked and accepted.

    >>> import fnx.numpy as fnp
    >>> fnp.searchsorted(fnp.array([1., 2., 2., 3.]), fnp.array([2., 2.5]), side="right")
    Array([3, 3], dtype=int64)
    """
    if side not in ("left", "right"):
        raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    if method not in ("scan", "scan_unrolled", "sort", "compare_all"):
        raise ValueError(f"searchsorted: method must be 'scan', 'scan_unrolled', 'sort' or 'compare_all', "
                         f"got {method!r}")
    a = asarray(a)
    if a.ndim != 1:
        raise ShapeError(f"searchsorted: a must be 1-D, got shape {a.shape}")
    if sorter is not None:
        sorter = asarray(sorter)
        if sorter.shape != a.shape or sorter.dtype.kind not in "iu":
            raise ShapeError(f"searchsorted: sorter must be integer indices of a's shape {a.shape}, "
                             f"got {sorter.dtype}{list(sorter.shape)}")
        a = permute_p.bind(a, el.astype(sorter, dtypes.int64), axis=0)
    v = v if isinstance(v, (bool, int, float, complex)) else asarray(v)
    dt = dtypes.result_type(a, v)
    return searchsorted_p.bind(el.astype(a, dt), asarray(v, dt), side=side)


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *, equal_nan=True,
           size=None, fill_value=None):
    """The sorted unique values of ``ar`` (and the optional index arrays), as ``numpy.unique``.

    The output's size depends on the values, so ``ar`` must be concrete: this
    works on plain arrays and under ``grad`` (the result is then a constant),
    not under transforms without values. Not differentiable. ``size=`` (with
    ``axis=None``), as in JAX, fixes the length, padding with ``fill_value``
    (the smallest value by default); then it traces, and the values are
    differentiable (see ``fnx.numpy.sets``).

    >>> import fnx.numpy as fnp
    >>> fnp.unique(fnp.array([3, 1, 3, 2]), return_counts=True)
    (Array([1, 2, 3], dtype=int64), Array([1, 1, 2], dtype=int64))
    """
    if size is not None or fill_value is not None:
        if axis is not None:
            raise NotImplementedError("unique: size= and fill_value= need axis=None")
        if size is None:
            raise ValueError("unique: fill_value= needs size=")
        from .sets import _unique
        values, index, inverse, counts = _unique("unique", ar, size, fill_value, equal_nan)
        out = (values,) + ((index(),) if return_index else ()) + ((inverse(),) if return_inverse else ()) + (
            (counts(),) if return_counts else ())
        return out if len(out) > 1 else values
    x = asarray(ar)
    value = x._concrete("unique")
    xp = backend.xp_of(value)
    res = xp.unique(value, return_index=return_index, return_inverse=return_inverse,
                    return_counts=return_counts, axis=axis, equal_nan=equal_nan)
    if isinstance(res, tuple):
        return tuple(wrap(r, x.device) for r in res)
    return wrap(res, x.device)


def _check_kth(opname, x, kth, axis):
    if x.ndim == 0:
        raise np.exceptions.AxisError(f"{opname}: axis {axis} is out of bounds for an array of dimension 0")
    n = x.shape[axis]
    for k in np.atleast_1d(np.asarray(kth)).ravel():
        if not np.issubdtype(type(k), np.integer) or not -n <= k < n:
            raise ValueError(f"{opname}: kth={kth!r} is not an int in [{-n}, {n}) for axis {axis} of shape {x.shape}")


def partition(a, kth, axis=-1, kind="introselect", order=None):
    """``a`` with the element of sorted position ``kth`` in place along ``axis``, smaller ones before it and
    larger ones after, as ``numpy.partition``.

    fnx returns the fully sorted array, which is one of the valid partitions.
    Differentiable like :func:`sort`.

    >>> import fnx.numpy as fnp
    >>> fnp.partition(fnp.array([3., 1., 2., 0.]), 1)
    Array([0., 1., 2., 3.], dtype=float32)
    """
    x, axis, _ = _along("partition", a, axis, None, order, None)
    _check_kth("partition", x, kth, axis)
    return sort_p.bind(x, axis=axis, stable=False)


def argpartition(a, kth, axis=-1, kind="introselect", order=None):
    """Indices (int64) that partition ``a`` around sorted position ``kth``, as ``numpy.argpartition``.

    fnx returns the indices of a full sort, one of the valid answers.

    >>> import fnx.numpy as fnp
    >>> fnp.argpartition(fnp.array([3., 1., 2., 0.]), 1)
    Array([3, 1, 2, 0], dtype=int64)
    """
    x, axis, _ = _along("argpartition", a, axis, None, order, None)
    _check_kth("argpartition", x, kth, axis)
    return argsort_p.bind(x, axis=axis, stable=False)
