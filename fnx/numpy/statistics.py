"""Order statistics and covariances: median, quantile, percentile, their NaN-ignoring variants, cov, corrcoef.

Quantiles read the sorted data at a fractional position ``q * (n - 1)`` and
interpolate between its two neighbours. The sort carries the derivative back to
where each value came from, and the interpolation weights are ordinary
arithmetic, so quantiles differentiate in the data (and in ``q``). A slice with
a NaN has a NaN quantile, as in NumPy. The ``nan*`` variants count each
slice's numbers (NaNs sort last) and read each slice at its own positions, so
a slice of NaNs only has a NaN quantile. Covariances are means and one matrix
product. Nothing here is a primitive.
"""
import numpy as np

from ..core import dtypes
from ..core.backend import data_device
from ..errors import ShapeError
from . import elementwise as el, reductions as red, shape as sh
from ._base import asarray, is_traced, normalize_axes
from .indexing import take, take_along_axis
from .linalg import matmul
from .shape import _no_out
from .sorting import sort

__all__ = ["median", "quantile", "percentile", "nanmedian", "nanquantile", "nanpercentile", "cov", "corrcoef"]

# NumPy's continuous methods (Hyndman and Fan's 4 to 9) place the q-quantile at the sorted position
# ``n q + alpha + q (1 - alpha - beta) - 1`` and interpolate linearly; these are their (alpha, beta).
_CONTINUOUS = {"linear": (1.0, 1.0), "interpolated_inverted_cdf": (0.0, 1.0), "hazen": (0.5, 0.5),
               "weibull": (0.0, 0.0), "median_unbiased": (1 / 3, 1 / 3), "normal_unbiased": (3 / 8, 3 / 8)}
_METHODS = tuple(_CONTINUOUS) + ("lower", "higher", "nearest", "midpoint", "inverted_cdf", "averaged_inverted_cdf",
                                 "closest_observation")


def _quantile(opname, a, q, axis, method, keepdims, skip_nan=False):
    with data_device(a):  # the positions and weights it makes join a's device
        return _quantile_here(opname, a, q, axis, method, keepdims, skip_nan)


def _quantile_here(opname, a, q, axis, method, keepdims, skip_nan=False):
    if method not in _METHODS:
        raise ValueError(f"{opname}: method {method!r} is not supported; use one of {', '.join(_METHODS)}")
    x = asarray(a)
    q = q if isinstance(q, (bool, int, float)) else asarray(q)
    if not isinstance(q, (bool, int, float)) and q.dtype.kind == "c" or x.dtype.kind == "c":
        raise dtypes.DTypeError(f"{opname}: complex input is not supported")
    if not is_traced(q) and not np.all((np.asarray(q) >= 0) & (np.asarray(q) <= 1)):
        raise ValueError(f"{opname}: quantiles must be in the range [0, 1], got {q!r}")
    dt = dtypes.result_type(x, q)
    if dt.kind not in "f":
        dt = dtypes.float64
    x, q = el.astype(x, dt), asarray(q, dt)
    red.refuse_axis_of_0d(opname, x, axis)
    axes = normalize_axes(opname, axis, x.ndim)
    if x.ndim and any(x.shape[i] == 0 for i in axes):
        raise ShapeError(f"{opname}: cannot take a quantile over an empty axis of shape {x.shape}")
    kept = [i for i in range(x.ndim) if i not in axes]
    n = int(np.prod([x.shape[i] for i in axes]))
    lead = tuple(x.shape[i] for i in kept)
    rows = sh.reshape(sh.transpose(x, kept + list(axes)), lead + (n,))
    ordered = sort(rows, axis=-1)  # NaNs sort last

    if skip_nan:
        # Each row has its own count of numbers, so its own positions: gather them row by row.
        count = red.sum(el.astype(el.logical_not(el.isnan(rows)), dt), axis=-1)  # shape lead
        last = count - 1

        def at(index):  # index: q.shape + lead -> the values there, q's axes first
            flat = sh.reshape(sh.moveaxis(index, tuple(range(q.ndim)), tuple(range(len(lead), index.ndim)))
                              if q.ndim else index, lead + (int(np.prod(q.shape)),))
            flat = el.astype(el.clip(flat, 0, n - 1), dtypes.int64)
            out = sh.reshape(take_along_axis(ordered, flat, axis=-1), lead + q.shape)
            return sh.moveaxis(out, tuple(range(len(lead), out.ndim)), tuple(range(q.ndim))) if q.ndim else out

        qq, count_n = sh.reshape(q, q.shape + (1,) * len(lead)), count
    else:
        def at(index):  # the sorted values at integer positions ``index`` (shape q.shape), q's axes first
            out = take(ordered, el.astype(el.clip(index, 0, n - 1), dtypes.int64), axis=-1)
            return sh.moveaxis(out, tuple(range(len(kept), out.ndim)), tuple(range(q.ndim)))

        qq, count_n, last = q, n, n - 1

    def between(below, weight):  # the sorted values at below and below + 1 (both kept in range), mixed
        lo, hi = at(el.clip(below, 0, last)), at(el.clip(below + 1, 0, last))
        if not skip_nan:
            weight = sh.reshape(weight, q.shape + (1,) * len(kept))
        return lo + weight * (hi - lo)

    if method in _CONTINUOUS:
        alpha, beta = _CONTINUOUS[method]
        position = qq * last if method == "linear" else count_n * qq + (alpha + qq * (1 - alpha - beta)) - 1
        below = el.floor(position)
        out = between(below, position - below)
    elif method in ("inverted_cdf", "averaged_inverted_cdf", "closest_observation"):  # NumPy's discontinuous ones
        position = count_n * qq - (1.5 if method == "closest_observation" else 1)
        below = el.floor(position)
        on_one = el.equal(position, below)
        if method == "averaged_inverted_cdf":
            out = between(below, el.where(on_one, 0.5, 1.0).astype(dt))
        else:
            if method == "closest_observation":  # a tie goes to the even order statistic (odd 0-based position)
                on_one = el.logical_and(on_one, el.equal(el.remainder(below, 2), 1))
            out = at(el.clip(el.where(on_one, below, below + 1), 0, last))
    else:
        position = qq * last
        below = el.floor(position)
        if method == "lower":
            out = at(below)
        elif method == "higher":
            out = at(el.ceil(position))
        elif method == "nearest":
            out = at(el.round(position))  # halves to the even position, as NumPy
        else:  # midpoint
            out = between(below, 0.5 * el.astype(el.not_equal(position, below), dt))
    if skip_nan:
        out = el.where(el.equal(count, 0), np.nan, out)  # an all-NaN slice, as NumPy
    else:
        out = el.where(red.any(el.isnan(rows), axis=-1), np.nan, out)
    if keepdims:
        out = sh.reshape(out, q.shape + tuple(1 if i in axes else d for i, d in enumerate(x.shape)))
    return out


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *, weights=None):
    """The ``q``-th quantiles (``q`` in [0, 1], a number or an array) of ``a`` along ``axis``, as
    ``numpy.quantile``.

    ``method`` is any of NumPy's thirteen: ``'linear'`` (the default),
    ``'lower'``, ``'higher'``, ``'nearest'``, ``'midpoint'``, the discontinuous
    ``'inverted_cdf'``, ``'averaged_inverted_cdf'`` and ``'closest_observation'``,
    and the continuous ``'interpolated_inverted_cdf'``, ``'hazen'``, ``'weibull'``,
    ``'median_unbiased'`` and ``'normal_unbiased'``. The result has ``q``'s axes first. Integer
    input gives float64; a slice with a NaN gives NaN. Differentiable in ``a``
    (through the sort) and in ``q`` (``'linear'``).

    >>> import fnx.numpy as fnp
    >>> fnp.quantile(fnp.array([[1., 2., 3., 4.], [4., 0., 8., 2.]]), 0.25, axis=1)
    Array([1.75, 1.5 ], dtype=float32)
    """
    _no_out("quantile", out)
    if weights is not None:
        raise NotImplementedError("quantile: weights= is not supported")
    return _quantile("quantile", a, q, axis, method, keepdims)


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *, weights=None):
    """:func:`quantile` with ``q`` in percent (0 to 100), as ``numpy.percentile``.

    >>> import fnx.numpy as fnp
    >>> fnp.percentile(fnp.array([1., 2., 3., 4., 5.]), [10., 50.])
    Array([1.4, 3. ], dtype=float32)
    """
    _no_out("percentile", out)
    if weights is not None:
        raise NotImplementedError("percentile: weights= is not supported")
    q = q / 100 if isinstance(q, (int, float)) and not isinstance(q, bool) else asarray(q)
    if not isinstance(q, float):
        q = el.true_divide(q, 100)
    return _quantile("percentile", a, q, axis, method, keepdims)


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """The median along ``axis`` (the mean of the two middle values for an even count), as ``numpy.median``.

    Integer input gives float64; a slice with a NaN gives NaN. Differentiable.

    >>> import fnx.numpy as fnp
    >>> fnp.median(fnp.array([[3., 1., 2.], [4., 6., 5.]]), axis=1)
    Array([2., 5.], dtype=float32)
    """
    _no_out("median", out)
    return _quantile("median", a, 0.5, axis, "linear", keepdims)


def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
                weights=None):
    """:func:`quantile` ignoring NaNs, as ``numpy.nanquantile``: each slice's quantiles are those of its
    numbers; a slice of NaNs only gives NaN.

    Differentiable in ``a`` (the NaNs get zero gradient) and in ``q``.

    >>> import fnx.numpy as fnp
    >>> fnp.nanquantile(fnp.array([[1., fnp.nan, 3.], [fnp.nan, fnp.nan, fnp.nan]]), 0.5, axis=1)
    Array([ 2., nan], dtype=float32)
    """
    _no_out("nanquantile", out)
    if weights is not None:
        raise NotImplementedError("nanquantile: weights= is not supported")
    return _quantile("nanquantile", a, q, axis, method, keepdims, skip_nan=True)


def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *,
                  weights=None):
    """:func:`nanquantile` with ``q`` in percent (0 to 100), as ``numpy.nanpercentile``.

    >>> import fnx.numpy as fnp
    >>> fnp.nanpercentile(fnp.array([1., fnp.nan, 3., 5.]), 50.)
    Array(3., dtype=float32)
    """
    _no_out("nanpercentile", out)
    if weights is not None:
        raise NotImplementedError("nanpercentile: weights= is not supported")
    q = q / 100 if isinstance(q, (int, float)) and not isinstance(q, bool) else el.true_divide(asarray(q), 100)
    return _quantile("nanpercentile", a, q, axis, method, keepdims, skip_nan=True)


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """:func:`median` ignoring NaNs, as ``numpy.nanmedian``; a slice of NaNs only gives NaN.

    >>> import fnx.numpy as fnp
    >>> fnp.nanmedian(fnp.array([[3., fnp.nan, 1.], [4., 6., 5.]]), axis=1)
    Array([2., 5.], dtype=float32)
    """
    _no_out("nanmedian", out)
    return _quantile("nanmedian", a, 0.5, axis, "linear", keepdims, skip_nan=True)


def _observations(opname, m, rowvar):
    x = asarray(m)
    if x.ndim > 2:
        raise ShapeError(f"{opname}: expected a 1-d or 2-d array, got shape {x.shape}")
    x = sh.atleast_2d(x)
    return x if rowvar or x.shape[0] == 1 else sh.transpose(x)


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *, dtype=None):
    """The covariance matrix of the variables in the rows of ``m`` (columns with ``rowvar=False``), and of
    ``y``'s too, as ``numpy.cov``; one variable gives a 0-d array.

    Normalised by ``N - 1`` (``N`` with ``bias=True``, ``N - ddof`` with
    ``ddof``); ``fweights`` (integer repeat counts) and ``aweights`` weigh
    the observations. The dtype is at least the default float (NumPy's is at
    least float64): float32 data gives a float32 matrix. Differentiable in
    ``m``, ``y`` and ``aweights``.

    >>> import fnx.numpy as fnp
    >>> fnp.cov(fnp.array([[0., 1., 2.], [2., 1., 0.]]))
    Array([[ 1., -1.],
           [-1.,  1.]], dtype=float32)
    """
    if ddof is not None and ddof != int(ddof):
        raise ValueError(f"cov: ddof must be an integer, got {ddof!r}")
    x = _observations("cov", m, rowvar)
    if y is not None:
        other = _observations("cov", y, rowvar)
        if other.shape[1] != x.shape[1]:
            raise ShapeError(f"cov: m and y hold {x.shape[1]} and {other.shape[1]} observations; they must agree")
        x = sh.concatenate([x, other], axis=0)
    dt = dtypes.canonical(dtype) if dtype is not None else dtypes.result_type(x, float)
    x = el.astype(x, dt)
    if ddof is None:
        ddof = 0 if bias else 1
    n = x.shape[1]
    w = None
    for name, weights in (("fweights", fweights), ("aweights", aweights)):
        if weights is None:
            continue
        weights = asarray(weights)
        if weights.shape != (n,):
            raise ShapeError(f"cov: {name} must be 1-d of length {n} (one per observation), got shape {weights.shape}")
        if name == "fweights" and weights.dtype.kind not in "biu":
            raise dtypes.DTypeError(f"cov: fweights must be integers, got {weights.dtype}")
        if not is_traced(weights) and np.any(np.asarray(weights) < 0):
            raise ValueError(f"cov: {name} must be non-negative")
        weights = el.astype(weights, dt)
        w = weights if w is None else w * weights
    if w is None:
        mean = red.mean(x, axis=1, keepdims=True)
        norm = max(n - ddof, 0)
    else:
        w_sum = red.sum(w)
        mean = red.sum(x * w, axis=1, keepdims=True) / w_sum
        if ddof == 0:
            norm = w_sum
        elif aweights is None:
            norm = w_sum - ddof
        else:
            norm = w_sum - ddof * red.sum(w * el.astype(asarray(aweights), dt)) / w_sum
        norm = el.maximum(norm, 0)
    centred = x - mean
    weighted = centred if w is None else centred * w
    c = matmul(centred, el.conjugate(sh.transpose(weighted))) / norm
    return sh.squeeze(c)


def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    """The correlation coefficients of the variables in the rows of ``x`` (and ``y``), as ``numpy.corrcoef``:
    :func:`cov` divided by the outer product of the standard deviations, real parts clipped to [-1, 1].

    >>> import fnx.numpy as fnp
    >>> fnp.corrcoef(fnp.array([[0., 1., 2.], [0., 2., 5.]], dtype="float64"))
    Array([[1.        , 0.99339927],
           [0.99339927, 1.        ]], dtype=float64)
    """
    c = cov(x, y, rowvar, dtype=dtype)
    if c.ndim == 0:
        return c / c
    std = el.sqrt(el.real(sh.diagonal(c)))
    c = c / std[:, None] / std[None, :]
    if c.dtype.kind == "c":
        return el.clip(el.real(c), -1, 1) + 1j * el.clip(el.imag(c), -1, 1)
    return el.clip(c, -1, 1)
