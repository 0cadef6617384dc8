"""Sets and searching: unique and its Array-API forms, isin, the 1-d set operations, digitize, lexsort, extract.

Everything here is written with ``sort``, ``argsort``, ``cumsum``,
``searchsorted`` and gathers, so nothing is a primitive. The one idea is
*compaction*: the selected elements of a 1-d array, in order, moved to the
front. A stable argsort of ``~mask`` is exactly that permutation, so the first
``count`` gathered elements are the selection, and the rest is padding.
``unique`` is the compaction of the sorted values to the first of each run of
equal ones; the set operations compact unique values by an ``isin`` mask.

The output's length is the number of selected elements, a value. Without
``size=`` that count must be concrete: it is read eagerly (and under ``grad``),
and raises ``TracerError`` under ``jit`` and ``vmap``. With ``size=`` (as in
JAX) the output has that length, cut off or padded with ``fill_value``, and
every function traces. Selected values are gathered, so they are
differentiable in the data where the data is a float array.
"""
import operator
from collections import namedtuple

import numpy as np

from ..core import dtypes
from ..core.trace import Tracer, concreteness_error
from ..errors import ShapeError
from . import creation, elementwise as el, reductions as red, shape as sh
from ._base import asarray, is_traced, normalize_axis
from .indexing import take, take_along_axis
from .sorting import argsort, searchsorted, sort

__all__ = ["isin", "in1d", "union1d", "intersect1d", "setdiff1d", "setxor1d", "unique_values", "unique_counts",
           "unique_inverse", "unique_all", "digitize", "lexsort", "extract"]

UniqueCountsResult = namedtuple("UniqueCountsResult", ["values", "counts"])
UniqueInverseResult = namedtuple("UniqueInverseResult", ["values", "inverse_indices"])
UniqueAllResult = namedtuple("UniqueAllResult", ["values", "indices", "inverse_indices", "counts"])

# ----- compaction -----------------------------------------------------------------------------------


def _count(opname, mask, size):
    """The output length: ``size``, or the number of True entries of ``mask``, which must then be concrete."""
    if size is not None:
        size = operator.index(size)
        if size < 0:
            raise ValueError(f"{opname}: size must be non-negative, got {size}")
        return size
    if isinstance(mask, Tracer):
        raise concreteness_error(
            mask._main.name, opname, "The number of elements it returns depends on the values, so it cannot be "
            f"traced; pass size=N (and fill_value=) to {opname} for a fixed-length result, as in JAX")
    return int(np.count_nonzero(np.asarray(mask)))


def _compact(values, mask, size, fill):
    """The entries of 1-d ``values`` where ``mask``, in order, then ``fill``: exactly ``size`` of them."""
    n = values.shape[0]
    order = argsort(~mask, stable=True)
    if size > n:  # room for more than there are: pad the gather's source with one extra slot
        order = sh.concatenate([order, creation.full((size - n,), n, dtype=order.dtype)])
        values = sh.concatenate([values, creation.zeros((1,), dtype=values.dtype)])
    picked = take(values, sh.slice_axis(order, 0, 0, size))
    valid = creation.arange(size) < red.sum(el.astype(mask, dtypes.int64))
    return el.where(valid, picked, asarray(fill, picked.dtype)) if size else picked


def _fill(values, mask, fill_value, default="min"):
    """``fill_value``, or JAX's default: the smallest selected value (0 when there is none), or 0."""
    if fill_value is not None:
        return fill_value
    if default == "zero" or values.shape[0] == 0:
        return 0
    return red.min(el.where(mask, values, red.max(values)))


# ----- unique ----------------------------------------------------------------------------------------


def _unique(opname, ar, size, fill_value, equal_nan=True):
    """Sorted unique values of the flattened ``ar`` and everything ``unique_all`` reports, as a dict of thunks."""
    x = sh.ravel(asarray(ar))
    n = x.shape[0]
    order = argsort(x, stable=True)  # stable: the first of a run is the first occurrence
    s = take(x, order)
    if n:
        a, b = sh.slice_axis(s, 0, 1, n), sh.slice_axis(s, 0, 0, n - 1)
        differs = el.not_equal(a, b)
        if equal_nan and s.dtype.kind in "fc":
            differs = differs & ~(el.isnan(a) & el.isnan(b))
        new = sh.concatenate([creation.ones((1,), dtype=dtypes.bool_), differs])
    else:
        new = creation.zeros((0,), dtype=dtypes.bool_)
    k = _count(opname, new, size)
    values = _compact(s, new, k, _fill(s, new, fill_value))
    # where each run begins in the sorted order, one past the last kept (n: padding)
    starts = _compact(creation.arange(n), new, k + 1, n)

    def indices():
        return _compact(order, new, k, 0)

    def counts():  # a run ends where the next begins (or at n)
        first = sh.slice_axis(starts, 0, 0, k)
        return el.where(first < n, sh.slice_axis(starts, 0, 1, k + 1) - first, 0)

    def inverse():
        run = red.cumsum(el.astype(new, dtypes.int64)) - 1  # the run of each sorted element
        return sh.reshape(take(run, argsort(order)), asarray(ar).shape)

    return values, indices, inverse, counts


def unique_values(x, /, *, size=None, fill_value=None):
    """The sorted unique values of ``x`` (flattened), as ``jax.numpy.unique_values``.

    As in the Array API (and NumPy and JAX), every NaN is a value of its own. NumPy
    2.3+ may return the values unsorted; fnx sorts, as JAX. ``size`` fixes the
    length (padded with ``fill_value``, by default the smallest value), which
    makes it traceable.

    >>> import fnx.numpy as fnp
    >>> fnp.unique_values(fnp.array([3, 1, 3, 2])), fnp.unique_values(fnp.array([2, 2]), size=3, fill_value=-1)
    (Array([1, 2, 3], dtype=int64), Array([ 2, -1, -1], dtype=int64))
    """
    return _unique("unique_values", x, size, fill_value, equal_nan=False)[0]


def unique_counts(x, /, *, size=None, fill_value=None):
    """A namedtuple ``(values, counts)`` of the sorted unique values and how often each occurs (int64).

    >>> import fnx.numpy as fnp
    >>> fnp.unique_counts(fnp.array([3, 1, 3])).counts
    Array([1, 2], dtype=int64)
    """
    values, _, _, counts = _unique("unique_counts", x, size, fill_value, equal_nan=False)
    return UniqueCountsResult(values, counts())


def unique_inverse(x, /, *, size=None, fill_value=None):
    """A namedtuple ``(values, inverse_indices)``: ``values[inverse_indices]`` rebuilds ``x`` (its shape).

    >>> import fnx.numpy as fnp
    >>> fnp.unique_inverse(fnp.array([[3, 1], [3, 2]])).inverse_indices
    Array([[2, 0],
           [2, 1]], dtype=int64)
    """
    values, _, inverse, _ = _unique("unique_inverse", x, size, fill_value, equal_nan=False)
    return UniqueInverseResult(values, inverse())


def unique_all(x, /, *, size=None, fill_value=None):
    """A namedtuple ``(values, indices, inverse_indices, counts)``; ``indices`` are first occurrences.

    >>> import fnx.numpy as fnp
    >>> fnp.unique_all(fnp.array([3, 1, 3])).indices
    Array([1, 0], dtype=int64)
    """
    values, indices, inverse, counts = _unique("unique_all", x, size, fill_value, equal_nan=False)
    return UniqueAllResult(values, indices(), inverse(), counts())


# ----- membership and 1-d set operations ----------------------------------------------------------


def isin(element, test_elements, assume_unique=False, invert=False, *, kind=None):
    """Whether each element of ``element`` occurs in ``test_elements``, shaped like ``element``, as
    ``numpy.isin``.

    A binary search in the sorted test elements: traceable, and NaN is never
    found, as in NumPy. ``assume_unique`` and ``kind`` make no difference.

    >>> import fnx.numpy as fnp
    >>> fnp.isin(fnp.array([1, 2, 5]), fnp.array([5, 1]))
    Array([ True, False,  True], dtype=bool)
    """
    if kind not in (None, "sort", "table"):
        raise ValueError(f"isin: kind must be None, 'sort' or 'table', got {kind!r}")
    x, t = asarray(element), sh.ravel(asarray(test_elements))
    n = t.shape[0]
    if n == 0:
        found = creation.zeros(x.shape, dtype=dtypes.bool_)
    else:
        dt = dtypes.result_type(x, t)
        x, t = el.astype(x, dt), el.astype(t, dt)
        table = sort(t)
        at = el.minimum(searchsorted(table, x), n - 1)
        found = el.equal(take(table, at), x)
    return ~found if invert else found


def in1d(ar1, ar2, assume_unique=False, invert=False, *, kind=None):
    """``isin`` of the flattened ``ar1`` (NumPy's older name, kept by JAX)."""
    return isin(sh.ravel(asarray(ar1)), ar2, assume_unique, invert, kind=kind)


def _unique_or_flat(opname, ar, assume_unique):
    """(values, valid mask) of the unique entries of ``ar``, or all of them when ``assume_unique``."""
    if assume_unique:
        x = sh.ravel(asarray(ar))
        return x, creation.ones(x.shape, dtype=dtypes.bool_)
    x = sh.ravel(asarray(ar))
    values, _, _, counts = _unique(opname, x, x.shape[0], None)
    return values, counts() > 0


def union1d(ar1, ar2, *, size=None, fill_value=None):
    """The sorted unique values in either array, as ``numpy.union1d``; ``size=`` as in JAX.

    >>> import fnx.numpy as fnp
    >>> fnp.union1d(fnp.array([3, 1]), fnp.array([2, 1]))
    Array([1, 2, 3], dtype=int64)
    """
    return _unique("union1d", sh.concatenate([sh.ravel(asarray(ar1)), sh.ravel(asarray(ar2))]), size, fill_value)[0]


def intersect1d(ar1, ar2, assume_unique=False, return_indices=False, *, size=None, fill_value=None):
    """The sorted unique values in both arrays, as ``numpy.intersect1d``; ``size=`` as in JAX.

    ``return_indices`` adds the indices of first occurrences in each
    (flattened) input.

    >>> import fnx.numpy as fnp
    >>> fnp.intersect1d(fnp.array([3, 1, 2]), fnp.array([2, 3, 5]), return_indices=True)
    (Array([2, 3], dtype=int64), Array([2, 0], dtype=int64), Array([0, 1], dtype=int64))
    """
    a, b = sh.ravel(asarray(ar1)), sh.ravel(asarray(ar2))
    dt = dtypes.result_type(a, b)
    a, b = el.astype(a, dt), el.astype(b, dt)
    if return_indices:
        ua, ia, _, ca = _unique("intersect1d", a, a.shape[0], None)
        ub, ib, _, cb = _unique("intersect1d", b, b.shape[0], None)
        ok_a, ok_b = ca() > 0, cb() > 0
    else:
        (ua, ok_a), (ub, ok_b) = (_unique_or_flat("intersect1d", v, assume_unique) for v in (a, b))
    if assume_unique and not return_indices:
        ua = sort(ua)
    keep = ok_a & isin(ua, _valid(ub, ok_b))
    k = _count("intersect1d", keep, size)
    values = _compact(ua, keep, k, _fill(ua, keep, fill_value))
    if not return_indices:
        return values
    at_b = searchsorted(_valid(ub, ok_b), values)
    at_b = el.minimum(at_b, max(b.shape[0] - 1, 0))
    return values, _compact(ia(), keep, k, 0), take(ib(), at_b) if b.shape[0] else at_b


def _valid(values, ok):
    """The valid entries of padded unique ``values``, with padding replaced by the last valid value (so a
    search or membership test never finds the padding by accident, and the array stays sorted)."""
    if values.shape[0] == 0:
        return values
    last = red.max(el.where(ok, values, red.min(values)))
    return el.where(ok, values, last)


def setdiff1d(ar1, ar2, assume_unique=False, *, size=None, fill_value=None):
    """The sorted unique values of ``ar1`` that are not in ``ar2``, as ``numpy.setdiff1d`` (with
    ``assume_unique``, ``ar1``'s order is kept); ``size=`` as in JAX (padding 0 by default).

    >>> import fnx.numpy as fnp
    >>> fnp.setdiff1d(fnp.array([3, 1, 2, 1]), fnp.array([2]))
    Array([1, 3], dtype=int64)
    """
    ua, ok = _unique_or_flat("setdiff1d", ar1, assume_unique)
    keep = ok & isin(ua, ar2, invert=True)
    k = _count("setdiff1d", keep, size)
    return _compact(ua, keep, k, _fill(ua, keep, fill_value, "zero"))


def setxor1d(ar1, ar2, assume_unique=False, *, size=None, fill_value=None):
    """The sorted values in exactly one of the arrays, as ``numpy.setxor1d``; ``size=`` as in JAX.

    >>> import fnx.numpy as fnp
    >>> fnp.setxor1d(fnp.array([1, 2, 3]), fnp.array([2, 3, 4]))
    Array([1, 4], dtype=int64)
    """
    a, b = sh.ravel(asarray(ar1)), sh.ravel(asarray(ar2))
    dt = dtypes.result_type(a, b)
    (ua, ok_a), (ub, ok_b) = (_unique_or_flat("setxor1d", el.astype(v, dt), assume_unique) for v in (a, b))
    keep_a = ok_a & isin(ua, _valid(ub, ok_b), invert=True)
    keep_b = ok_b & isin(ub, _valid(ua, ok_a), invert=True)
    if ub.shape[0] == 0:
        keep_a = ok_a
    if ua.shape[0] == 0:
        keep_b = ok_b
    both, keep = sh.concatenate([ua, ub]), sh.concatenate([keep_a, keep_b])
    order = lexsort((both, ~keep))  # the kept values first, sorted
    both, keep = take(both, order), take(keep, order)
    k = _count("setxor1d", keep, size)
    return _compact(both, keep, k, _fill(both, keep, fill_value))


# ----- searching -----------------------------------------------------------------------------------


def digitize(x, bins, right=False):
    """The index of the bin each value of ``x`` falls in, as ``numpy.digitize`` (int64).

    ``bins`` is 1-d and monotonic, increasing or decreasing (checked when
    concrete; traced bins are read as increasing when ``bins[-1] >= bins[0]``).
    ``right`` says whether a bin includes its right edge.

    >>> import fnx.numpy as fnp
    >>> fnp.digitize(fnp.array([0.5, 1., 2.5]), fnp.array([1., 2., 3.]))
    Array([0, 1, 2], dtype=int64)
    """
    v, b = asarray(x), asarray(bins)
    if b.ndim != 1:
        raise ShapeError(f"digitize: bins must be 1-d, got shape {b.shape}")
    if v.dtype.kind == "c" or b.dtype.kind == "c":
        raise dtypes.DTypeError("digitize: complex input is not supported")
    n = b.shape[0]
    if not is_traced(b):
        d = np.diff(np.asarray(b))
        if not (np.all(d >= 0) or np.all(d <= 0)):
            raise ValueError("digitize: bins must be monotonically increasing or decreasing")
    side = "left" if right else "right"
    dt = dtypes.result_type(v, b)
    v, b = el.astype(v, dt), el.astype(b, dt)
    up = searchsorted(b, v, side=side)
    if n < 2:
        return up
    down = n - searchsorted(sh.flip(b, 0), v, side=side)
    return el.where(b[-1] >= b[0], up, down)


def lexsort(keys, axis=-1):
    """Indices (int64) that sort by several keys, the last key first, as ``numpy.lexsort``.

    ``keys`` is a sequence of equal-shaped arrays or an array whose first axis
    runs over the keys. One stable argsort per key, the least significant first.

    >>> import fnx.numpy as fnp
    >>> fnp.lexsort((fnp.array([3, 1, 2]), fnp.array([1, 0, 1])))
    Array([1, 2, 0], dtype=int64)
    """
    if isinstance(keys, (tuple, list)):
        ks = [asarray(k) for k in keys]
    else:
        k = asarray(keys)
        if k.ndim == 0:
            raise ShapeError("lexsort: keys must have at least one dimension, got a 0-d array")
        ks = [k[i] for i in range(k.shape[0])]
    if not ks:
        raise ValueError("lexsort: need at least one key")
    shape = ks[0].shape
    if any(k.shape != shape for k in ks):
        raise ShapeError(f"lexsort: all keys need the same shape, got {[k.shape for k in ks]}")
    if len(shape) == 0:
        raise ShapeError("lexsort: keys must be at least 1-d")
    axis = normalize_axis("lexsort", axis, len(shape))
    order = argsort(ks[0], axis=axis, stable=True)
    for k in ks[1:]:
        order = take_along_axis(order, argsort(take_along_axis(k, order, axis=axis), axis=axis, stable=True),
                                axis=axis)
    return order


def extract(condition, arr, *, size=None, fill_value=0):
    """The elements of the flattened ``arr`` where the flattened ``condition`` is nonzero, as
    ``numpy.extract``; ``size=`` (padding ``fill_value``) as in JAX makes it traceable.

    >>> import fnx.numpy as fnp
    >>> fnp.extract(fnp.array([True, False, True]), fnp.array([1., 2., 3.]))
    Array([1., 3.], dtype=float32)
    """
    c, x = sh.ravel(asarray(condition)), sh.ravel(asarray(arr))
    if c.shape[0] > x.shape[0]:
        raise ShapeError(f"extract: condition of size {c.shape[0]} is longer than arr of size {x.shape[0]}")
    mask = c if c.dtype == dtypes.bool_ else el.not_equal(c, 0)
    x = sh.slice_axis(x, 0, 0, c.shape[0])
    return _compact(x, mask, _count("extract", mask, size), fill_value)
