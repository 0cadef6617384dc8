"""Histograms: histogram, histogram_bin_edges, histogram2d, histogramdd.

A histogram is two steps. First the bin edges: given, or spread evenly over
``range`` (the data's minimum and maximum by default), or, for a string such as
``'auto'``, chosen by one of NumPy's estimators. Then each value's bin, found
by ``searchsorted`` against the edges: bin ``i`` holds ``edges[i] <= x <
edges[i + 1]``, the last bin also its right edge, and values outside the edges
are dropped. The counts are a ``bincount`` of those bin numbers, summing
``weights`` when given, so a histogram is differentiable in its weights. It is
piecewise constant in the data, which is therefore held under
``stop_gradient`` (its gradient is zero, as in ``jax.numpy``).

For concrete data the edges are NumPy's own (so they agree with it to the
last bit, estimators included); under a transform they are computed with fnx
operations, and only a number of bins or explicit edges can be given.
"""
import operator

import numpy as np

from ..core import dtypes
from ..errors import DTypeError, ShapeError
from . import elementwise as el, reductions as red, shape as sh
from ._base import asarray, is_traced
from .numerical import diff
from .sorting import searchsorted

__all__ = ["histogram", "histogram_bin_edges", "histogram2d", "histogramdd"]


def _stop(x):
    from .elementwise import stop_gradient
    return stop_gradient(x)


def _is_int(bins):
    """Whether ``bins`` is a number of bins (an integer scalar), rather than edges or an estimator's name."""
    if isinstance(bins, (str, list, tuple)) or getattr(bins, "ndim", 0) != 0:
        return False
    if is_traced(bins):
        raise TypeError("histogram: the number of bins must be a concrete integer, not a traced value")
    try:
        operator.index(bins)
    except TypeError:
        raise TypeError(f"histogram: bins must be an integer, a string or an array of edges, got {bins!r}") from None
    return True


def _checked_range(opname, range_):
    if range_ is None:
        return None
    try:
        lo, hi = range_
    except (TypeError, ValueError):
        raise ValueError(f"{opname}: range must be a pair (min, max), got {range_!r}") from None
    if is_traced(lo, hi):
        raise TypeError(f"{opname}: range must be concrete numbers, not traced values")
    lo, hi = float(np.asarray(lo)), float(np.asarray(hi))
    if lo > hi:
        raise ValueError(f"{opname}: max must be larger than min in range, got {range_!r}")
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise ValueError(f"{opname}: supplied range of [{lo}, {hi}] is not finite")
    return lo, hi


def _edge_dtype(x, edges=None):
    """NumPy's bin dtype: the data's float type (integers give float64), or the given edges' own."""
    if edges is not None:
        return edges.dtype
    return x.dtype if x.dtype.kind in "fc" else dtypes.float64


def _even_edges(opname, x, n, range_):
    """``n + 1`` evenly spaced edges over ``range_`` or the data's extent, from fnx operations (x may be traced)."""
    from .creation import arange
    dt = _edge_dtype(x)
    if range_ is not None:
        lo, hi = asarray(range_[0], dt), asarray(range_[1], dt)
    elif x.size == 0:
        lo, hi = asarray(0.0, dt), asarray(1.0, dt)
    else:
        lo, hi = el.astype(red.min(x), dt), el.astype(red.max(x), dt)
        if not is_traced(lo, hi) and not (np.isfinite(np.asarray(lo)) and np.isfinite(np.asarray(hi))):
            raise ValueError(f"{opname}: autodetected range of [{np.asarray(lo)}, {np.asarray(hi)}] is not finite")
    same = el.equal(lo, hi)  # an empty width is widened by a half on each side, as NumPy
    lo, hi = el.where(same, lo - 0.5, lo), el.where(same, hi + 0.5, hi)
    step = (hi - lo) / n
    edges = lo + el.astype(arange(n + 1, device=x.device), dt) * step
    return sh.concatenate([edges[:-1], sh.reshape(hi, (1,))])


def _given_edges(opname, bins, device):
    # A list of Python numbers takes NumPy's dtype (float64 for floats), not fnx's default float.
    edges = asarray(bins) if hasattr(bins, "dtype") else asarray(np.asarray(bins), device=device)
    if edges.ndim != 1:
        raise ShapeError(f"{opname}: bins must be an integer, a string or a 1-d array of edges, got shape "
                         f"{edges.shape}")
    if edges.shape[0] < 2:
        raise ValueError(f"{opname}: bins needs at least two edges, got {edges.shape[0]}")
    if not is_traced(edges) and np.any(np.asarray(edges)[:-1] > np.asarray(edges)[1:]):
        raise ValueError(f"{opname}: bins must increase monotonically, when an array")
    return edges


def _bin_edges(opname, x, bins, range_, weights):
    range_ = _checked_range(opname, range_)
    if isinstance(bins, str) or not is_traced(x) and _is_int(bins):
        if is_traced(x):
            raise TypeError(f"{opname}: bins={bins!r} estimates the bins from the data, which must be concrete; "
                            f"pass a number of bins or the edges under a transform")
        if isinstance(bins, str) and weights is not None:
            raise TypeError(f"{opname}: automated estimation of the number of bins is not supported for "
                            f"weighted data")
        if _is_int(bins) and operator.index(bins) < 1:
            raise ValueError(f"{opname}: bins must be positive, when an integer, got {bins}")
        try:
            edges = np.histogram_bin_edges(np.asarray(x), bins, range_)
        except ValueError as err:
            raise ValueError(f"{opname}: {err}") from None
        return asarray(edges, device=x.device)
    if _is_int(bins):
        if operator.index(bins) < 1:
            raise ValueError(f"{opname}: bins must be positive, when an integer, got {bins}")
        return _even_edges(opname, x, operator.index(bins), range_)
    return _given_edges(opname, bins, x.device)


def _data(opname, a):
    x = asarray(a)
    if x.dtype.kind == "c":
        raise DTypeError(f"{opname}: complex data is not supported")
    if x.dtype.kind == "b":
        raise DTypeError(f"{opname}: boolean data is not supported; cast it to int or float")
    return _stop(x)


def _weights(opname, weights, shape):
    if weights is None:
        return None
    w = asarray(weights)
    if w.shape != shape:
        raise ShapeError(f"{opname}: weights of shape {w.shape} do not match the data's shape {shape}")
    if w.dtype.kind == "b":
        raise DTypeError(f"{opname}: boolean weights are not supported; cast them to int or float")
    return w


def _bin_index(x, edges):
    """Each value's bin along ``edges`` (1-d ``x``); values outside the edges get ``len(edges) - 1``."""
    n = edges.shape[0] - 1
    idx = searchsorted(edges, el.astype(x, edges.dtype) if edges.dtype.kind == "f" else x, side="right") - 1
    idx = el.where(el.equal(x, edges[-1]), n - 1, idx)  # the last bin is closed on the right
    inside = el.logical_and(el.greater_equal(x, edges[0]), el.less_equal(x, edges[-1]))
    return el.where(inside, idx, n)


def _count(idx, w, length):
    """``bincount(idx, w, length=length)``, keeping integer and complex weights' dtypes."""
    from .indexing import bincount
    if w is None:
        return bincount(idx, length=length)
    if w.dtype.kind == "c":
        return el.astype(bincount(idx, el.real(w), length=length), w.dtype) + 1j * bincount(
            idx, el.imag(w), length=length)
    if w.dtype.kind in "iu":
        return el.astype(el.round(bincount(idx, el.astype(w, dtypes.float64), length=length)), w.dtype)
    return el.astype(bincount(idx, w, length=length), w.dtype)


def histogram_bin_edges(a, bins=10, range=None, weights=None):
    """The bin edges :func:`histogram` would use, as ``numpy.histogram_bin_edges``.

    ``bins`` is a number of equal bins over ``range`` (default: the data's
    minimum to maximum), a 1-d array of increasing edges, or the name of one of
    NumPy's estimators (``'auto'``, ``'fd'``, ``'doane'``, ``'scott'``,
    ``'stone'``, ``'rice'``, ``'sturges'``, ``'sqrt'``; concrete data only).
    Float data gives edges of its dtype, integers float64.

    Raises:
      ValueError: for a non-positive number of bins, an unknown estimator, non-increasing edges,
        a reversed or infinite range.

    >>> import fnx.numpy as fnp
    >>> fnp.histogram_bin_edges(fnp.array([1., 2., 4.]), bins=3)
    Array([1., 2., 3., 4.], dtype=float32)
    """
    x = sh.ravel(_data("histogram_bin_edges", a))
    if weights is not None:
        _weights("histogram_bin_edges", sh.ravel(asarray(weights)), x.shape)
    return _bin_edges("histogram_bin_edges", x, bins, range, weights)


def histogram(a, bins=10, range=None, density=None, weights=None):
    """The histogram of the flattened ``a``: ``(counts, bin_edges)``, as ``numpy.histogram``.

    ``bins`` and ``range`` are as in :func:`histogram_bin_edges`. Counts are
    int64, or the sums of ``weights`` (same shape as ``a``) in their dtype.
    With ``density=True`` the result is a float64 density that integrates to one
    over the range. Differentiable in ``weights``; the data get zero gradient.

    Raises:
      ShapeError: when ``weights`` does not have ``a``'s shape.
      ValueError: for bad ``bins`` or ``range`` (see :func:`histogram_bin_edges`).

    >>> import fnx.numpy as fnp
    >>> counts, edges = fnp.histogram(fnp.array([1., 2., 2., 4.]), bins=3)
    >>> counts
    Array([1, 2, 1], dtype=int64)
    """
    x = _data("histogram", a)
    w = _weights("histogram", weights, x.shape)
    x = sh.ravel(x)
    w = None if w is None else sh.ravel(w)
    edges = _bin_edges("histogram", x, bins, range, w)
    n = edges.shape[0] - 1
    counts = _count(_bin_index(x, edges), w, n)
    if density:
        dt = dtypes.result_type(counts.dtype, dtypes.float64)
        counts = el.astype(counts, dt)
        counts = counts / el.astype(diff(edges), dt) / red.sum(counts)
    return counts, edges


def _sample(opname, sample):
    """``sample`` as an (N, D) array: an (N, D) array, a 1-d array (D = 1), or a sequence of D 1-d arrays."""
    if isinstance(sample, (list, tuple)) and all(np.ndim(s) == 0 for s in sample):
        sample = np.asarray(sample)  # a list of numbers is one dimension's sample (NumPy's dtype: float64)
    if isinstance(sample, (list, tuple)):
        cols = [s if hasattr(s, "dtype") else asarray(np.asarray(s)) for s in sample]
        cols = [asarray(c) for c in cols]
        if any(c.ndim != 1 for c in cols) or len({c.shape for c in cols}) > 1:
            raise ShapeError(f"{opname}: a sequence sample must hold 1-d arrays of one length, got shapes "
                             f"{[c.shape for c in cols]}")
        if not cols:
            raise ShapeError(f"{opname}: the sample is an empty sequence")
        x = sh.stack(cols, axis=1)
    else:
        x = asarray(sample)
        if x.ndim == 1:
            x = x[:, None]
        if x.ndim != 2:
            raise ShapeError(f"{opname}: sample must be (N, D), got shape {x.shape}")
    return _data(opname, x)


def histogramdd(sample, bins=10, range=None, density=None, weights=None):
    """The D-dimensional histogram of ``sample``: ``(H, edges)`` with ``edges`` a list of D arrays, as
    ``numpy.histogramdd``.

    ``sample`` is an (N, D) array or a sequence of D 1-d arrays. ``bins`` is
    one number of bins, one per dimension, or one array of edges per dimension;
    ``range`` is None or one ``(min, max)`` (or None) per dimension. ``H`` is
    float64, as in NumPy; with ``density=True`` it integrates to one.
    Differentiable in ``weights``.

    Raises:
      ValueError: when ``bins`` or ``range`` do not have one entry per dimension, or for bad bins.
      ShapeError: for a badly shaped sample or weights.

    >>> import fnx.numpy as fnp
    >>> H, edges = fnp.histogramdd(fnp.array([[0., 0.], [1., 1.], [1., 0.]]), bins=2)
    >>> H
    Array([[1., 0.],
           [1., 1.]], dtype=float64)
    """
    x = _sample("histogramdd", sample)
    n_obs, d = x.shape
    if d == 0:
        raise ShapeError("histogramdd: the sample has no dimensions (shape (N, 0))")
    w = _weights("histogramdd", weights, (n_obs,))
    if _is_int(bins):
        bins = [bins] * d
    elif isinstance(bins, str) or len(bins) != d:
        raise ValueError(f"histogramdd: bins must have one entry per dimension of the sample ({d}), got {bins!r}")
    if range is None:
        range = [None] * d
    elif len(range) != d:
        raise ValueError(f"histogramdd: range must have one entry per dimension of the sample ({d}), got {range!r}")
    for i, b in enumerate(bins):
        if isinstance(b, str):
            raise ValueError(f"histogramdd: bins[{i}] is a string; only histogram accepts estimator names")
        if _is_int(b) and operator.index(b) < 1:
            raise ValueError(f"histogramdd: bins[{i}] must be positive, when an integer, got {b}")
    if not is_traced(x) and not any(is_traced(b) for b in bins):  # NumPy's own edges, bit for bit
        try:
            edges = [asarray(e, device=x.device) for e in np.histogramdd(np.asarray(x), bins, range)[1]]
        except ValueError as err:
            raise ValueError(f"histogramdd: {err}") from None
    else:
        edges = []
        for i, (b, r) in enumerate(zip(bins, range)):
            if _is_int(b):
                edges.append(_even_edges("histogramdd", x[:, i], operator.index(b), _checked_range("histogramdd", r)))
            else:
                edges.append(_given_edges(f"histogramdd: bins[{i}]", b, x.device))
    sizes = [e.shape[0] - 1 for e in edges]
    flat = None
    outside = None
    for i, e in enumerate(edges):
        idx = _bin_index(x[:, i], e)
        out_i = el.equal(idx, sizes[i])
        outside = out_i if outside is None else el.logical_or(outside, out_i)
        flat = idx if flat is None else flat * sizes[i] + el.where(out_i, 0, idx)
    total = int(np.prod(sizes))
    flat = el.where(outside, total, flat)
    wf = el.astype(w, dtypes.result_type(w.dtype, dtypes.float64)) if w is not None else None
    hist = _count(flat, wf, total)
    hist = sh.reshape(el.astype(hist, dtypes.result_type(hist.dtype, dtypes.float64)), tuple(sizes))
    if density:
        s = red.sum(hist)
        for i, e in enumerate(edges):
            shape = [1] * d
            shape[i] = sizes[i]
            hist = hist / sh.reshape(el.astype(diff(e), hist.dtype), tuple(shape))
        hist = hist / s
    return hist, edges


def histogram2d(x, y, bins=10, range=None, density=None, weights=None):
    """The 2-d histogram of the points ``(x[i], y[i])``: ``(H, xedges, yedges)``, as ``numpy.histogram2d``.

    ``bins`` is a number, a pair of numbers, one array of edges for both, or a
    pair of edge arrays; ``range`` is ``((xmin, xmax), (ymin, ymax))``.
    ``H[i, j]`` counts the points in x bin ``i`` and y bin ``j`` (float64).

    >>> import fnx.numpy as fnp
    >>> H, xe, ye = fnp.histogram2d(fnp.array([0., 1., 1.]), fnp.array([0., 1., 0.]), bins=2)
    >>> H
    Array([[1., 0.],
           [1., 1.]], dtype=float64)
    """
    x, y = asarray(x), asarray(y)
    if x.ndim != 1 or y.shape != x.shape:
        raise ShapeError(f"histogram2d: x and y must be 1-d of one length, got shapes {x.shape} and {y.shape}")
    if not _is_int(bins) and not isinstance(bins, str) and len(bins) not in (1, 2):
        bins = [bins, bins]  # one array of edges for both axes (a length-2 bins is one spec per axis, as NumPy)
    hist, edges = histogramdd([x, y], bins, range, density, weights)
    return hist, edges[0], edges[1]
