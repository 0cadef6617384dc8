"""Numerical calculus, interpolation, polynomials and 1-d signals: diff, gradient, cross, interp, polyval,
vander, convolve, correlate.

All of them are compositions of slices, gathers and arithmetic, so they are
differentiable in their array arguments (``interp`` in ``x``, ``xp`` and
``fp``; ``convolve`` in both signals) and batch under ``vmap`` with no rules of
their own. A 1-d correlation is one matrix-vector product: the zero-padded
signal is cut into its overlapping windows (``patches``, im2col) and each
window is multiplied by the kernel.
"""
import operator

import numpy as np

from ..core import dtypes
from ..core.array import Array
from ..errors import DTypeError, ShapeError
from . import elementwise as el, shape as sh
from ._base import asarray, normalize_axis
from .indexing import take
from .linalg import matmul
from .sorting import argsort, searchsorted
from .windows import patches

__all__ = ["diff", "gradient", "cross", "interp", "polyval", "vander", "convolve", "correlate", "trapezoid",
           "ediff1d", "hamming", "hanning", "blackman", "bartlett", "kaiser"]


def _along(x, axis, values):
    """1-d ``values`` shaped to broadcast along ``axis`` of ``x``."""
    return sh.reshape(values, tuple(-1 if d == axis else 1 for d in range(x.ndim)))


# ----- differences ---------------------------------------------------------------------------------


def diff(a, n=1, axis=-1, prepend=None, append=None):
    """The ``n``-th discrete difference along ``axis``, ``a[i + 1] - a[i]`` applied ``n`` times, as
    ``numpy.diff``; ``prepend``/``append`` values are joined to ``a`` first (scalars broadcast).

    Booleans differ by ``not_equal``, as in NumPy.

    >>> import fnx.numpy as fnp
    >>> fnp.diff(fnp.array([1, 4, 9, 16])), fnp.diff(fnp.array([1., 4., 9.]), prepend=0.)
    (Array([3, 5, 7], dtype=int64), Array([1., 3., 5.], dtype=float32))
    """
    n = operator.index(n)
    if n < 0:
        raise ValueError(f"diff: order n must be non-negative, got {n}")
    x = asarray(a)
    if n == 0:
        return x
    if x.ndim == 0:
        raise ValueError("diff: requires at least a 1-d input")
    axis = normalize_axis("diff", axis, x.ndim)
    def edge(values):  # a scalar spreads over every position of the other axes
        values = asarray(values)
        return sh.broadcast_to(values, x.shape[:axis] + (1,) + x.shape[axis + 1:]) if values.ndim == 0 else values

    if prepend is not None or append is not None:
        x = sh.concatenate(([edge(prepend)] if prepend is not None else []) + [x]
                           + ([edge(append)] if append is not None else []), axis=axis)
    step = el.not_equal if x.dtype == dtypes.bool_ else el.subtract
    for _ in range(n):
        length = x.shape[axis]
        x = step(sh.slice_axis(x, axis, 1, max(length, 1)), sh.slice_axis(x, axis, 0, max(length - 1, 0)))
    return x


def gradient(f, *varargs, axis=None, edge_order=1):
    """The gradient of ``f`` sampled on a grid, by second-order central differences inside and one-sided
    differences of order ``edge_order`` (1 or 2) at the ends, as ``numpy.gradient``.

    ``varargs`` gives the spacing: nothing (1), one scalar for every axis, or
    one scalar or 1-d coordinate array per axis. Returns one array per axis in
    ``axis`` (all axes when None), a tuple when there are several. Integer
    input gives float64. Differentiable in ``f`` and the coordinates.

    >>> import fnx.numpy as fnp
    >>> fnp.gradient(fnp.array([1., 2., 4., 7., 11.]))
    Array([1. , 1.5, 2.5, 3.5, 4. ], dtype=float32)
    """
    x = asarray(f)
    if x.dtype.kind in "biu":
        x = el.astype(x, dtypes.float64)
    if edge_order not in (1, 2):
        raise ValueError(f"gradient: edge_order must be 1 or 2, got {edge_order!r}")
    if axis is None:
        axes = tuple(range(x.ndim))
    else:
        axes = tuple(normalize_axis("gradient", ax, x.ndim) for ax in ((axis,) if isinstance(axis, int) else axis))
        if len(set(axes)) != len(axes):
            raise ValueError(f"gradient: repeated axis in {axis}")
    if not varargs:
        spacings = (1.0,) * len(axes)
    elif len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        spacings = varargs * len(axes)
    elif len(varargs) == len(axes):
        spacings = varargs
    else:
        raise TypeError(f"gradient: {len(varargs)} spacings for {len(axes)} axes; give none, one, or one per axis")
    out = tuple(_gradient_along(x, ax, h, edge_order) for ax, h in zip(axes, spacings))
    return out[0] if len(out) == 1 else out


def _gradient_along(x, axis, h, edge_order):
    n = x.shape[axis]
    if n < edge_order + 1:
        raise ValueError(f"gradient: axis {axis} of shape {x.shape} is too short; at least edge_order + 1 = "
                         f"{edge_order + 1} samples are needed")

    def f(start, stop):
        return sh.slice_axis(x, axis, start % n if start < 0 else start, stop if stop > 0 else n + stop)

    if np.ndim(h) == 0:
        h = h.astype(x.dtype) if hasattr(h, "astype") else h
        inner = (f(2, n) - f(0, -2)) / (2.0 * h) if n > 2 else None
        if edge_order == 1:
            first, last = (f(1, 2) - f(0, 1)) / h, (f(-1, n) - f(-2, -1)) / h
        else:
            first = (-1.5 * f(0, 1) + 2.0 * f(1, 2) - 0.5 * f(2, 3)) / h
            last = (0.5 * f(-3, -2) - 2.0 * f(-2, -1) + 1.5 * f(-1, n)) / h
    else:
        coords = asarray(h)
        if coords.shape != (n,):
            raise ShapeError(f"gradient: coordinates of shape {coords.shape} do not fit axis {axis} of length {n}")
        coords = el.astype(coords, dtypes.result_type(coords, x.dtype, float))
        dx = diff(coords)
        inner = None
        if n > 2:
            d1, d2 = dx[:-1], dx[1:]
            a, b, c = -d2 / (d1 * (d1 + d2)), (d2 - d1) / (d1 * d2), d1 / (d2 * (d1 + d2))
            inner = _along(x, axis, a) * f(0, -2) + _along(x, axis, b) * f(1, -1) + _along(x, axis, c) * f(2, n)
        if edge_order == 1:
            first, last = (f(1, 2) - f(0, 1)) / dx[0], (f(-1, n) - f(-2, -1)) / dx[-1]
        else:
            d1, d2 = dx[0], dx[1]
            first = (-(2.0 * d1 + d2) / (d1 * (d1 + d2)) * f(0, 1) + (d1 + d2) / (d1 * d2) * f(1, 2)
                     - d1 / (d2 * (d1 + d2)) * f(2, 3))
            d1, d2 = dx[-2], dx[-1]
            last = (d2 / (d1 * (d1 + d2)) * f(-3, -2) - (d2 + d1) / (d1 * d2) * f(-2, -1)
                    + (2.0 * d2 + d1) / (d2 * (d1 + d2)) * f(-1, n))
    return sh.concatenate([first] + ([inner] if inner is not None else []) + [last], axis=axis)


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of vectors of length 2 or 3 along ``axisa``/``axisb`` (or ``axis``), broadcast over
    the other axes, as ``numpy.cross``; two 2-vectors give the scalar z component.

    >>> import fnx.numpy as fnp
    >>> fnp.cross(fnp.array([1., 0., 0.]), fnp.array([0., 1., 0.]))
    Array([0., 0., 1.], dtype=float32)
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    x, y = asarray(a), asarray(b)
    if x.ndim == 0 or y.ndim == 0:
        raise ShapeError(f"cross: needs vectors, got shapes {x.shape} and {y.shape}")
    x = sh.moveaxis(x, normalize_axis("cross", axisa, x.ndim), -1)
    y = sh.moveaxis(y, normalize_axis("cross", axisb, y.ndim), -1)
    if x.shape[-1] not in (2, 3) or y.shape[-1] not in (2, 3):
        raise ShapeError(f"cross: vectors must have 2 or 3 components, got {x.shape[-1]} and {y.shape[-1]}")
    dt = dtypes.result_type(x, y)
    x, y = el.astype(x, dt), el.astype(y, dt)
    x0, x1, y0, y1 = x[..., 0], x[..., 1], y[..., 0], y[..., 1]
    z = x0 * y1 - x1 * y0
    if x.shape[-1] == 2 and y.shape[-1] == 2:
        return z
    x2 = x[..., 2] if x.shape[-1] == 3 else None
    y2 = y[..., 2] if y.shape[-1] == 3 else None
    first = -x2 * y1 if y2 is None else (x1 * y2 if x2 is None else x1 * y2 - x2 * y1)
    second = x2 * y0 if y2 is None else (-x0 * y2 if x2 is None else x2 * y0 - x0 * y2)
    shape = sh.broadcast_shapes(first.shape, second.shape, z.shape)
    out = sh.stack([sh.broadcast_to(c, shape) for c in (first, second, z)], axis=-1)
    return sh.moveaxis(out, -1, normalize_axis("cross", axisc, out.ndim))


# ----- interpolation and polynomials -------------------------------------------------------------


def interp(x, xp, fp, left=None, right=None, period=None):
    """Piecewise-linear interpolation of the points ``(xp, fp)`` (``xp`` increasing) at ``x``, as
    ``numpy.interp``.

    Outside ``[xp[0], xp[-1]]`` the result is ``left``/``right`` (default
    ``fp[0]``/``fp[-1]``); with ``period`` the points repeat with that period.
    The dtype is at least the default float (NumPy's is float64).
    Differentiable in ``x``, ``xp`` and ``fp``.

    >>> import fnx.numpy as fnp
    >>> fnp.interp(fnp.array([0.5, 1.5, 9.0]), fnp.array([0., 1., 2.]), fnp.array([0., 10., 20.]))
    Array([ 5., 15., 20.], dtype=float32)
    """
    x, xp, fp = asarray(x), asarray(xp), asarray(fp)
    if xp.ndim != 1 or fp.ndim != 1 or xp.shape != fp.shape:
        raise ShapeError(f"interp: xp and fp must be 1-d of one length, got shapes {xp.shape} and {fp.shape}")
    if xp.shape[0] == 0:
        raise ValueError("interp: xp and fp are empty")
    if x.dtype.kind == "c" or xp.dtype.kind == "c":
        raise DTypeError("interp: x and xp must be real")
    real = dtypes.result_type(x, xp, float)
    dt = dtypes.result_type(real, fp)
    x, xp, fp = el.astype(x, real), el.astype(xp, real), el.astype(fp, dt)
    if period is not None:
        if period == 0:
            raise ValueError("interp: period must be nonzero")
        period = abs(period)
        left = right = None
        x, xp = el.remainder(x, period), el.remainder(xp, period)
        order = argsort(xp)
        xp, fp = take(xp, order), take(fp, order)
        xp = sh.concatenate([xp[-1:] - period, xp, xp[:1] + period])
        fp = sh.concatenate([fp[-1:], fp, fp[:1]])
    n = xp.shape[0]
    lo = el.clip(searchsorted(xp, x, side="right") - 1, 0, max(n - 2, 0))
    hi = el.minimum(lo + 1, n - 1)
    x_lo, x_hi, f_lo, f_hi = take(xp, lo), take(xp, hi), take(fp, lo), take(fp, hi)
    width = x_hi - x_lo
    flat = el.equal(width, 0)
    y = f_lo + (f_hi - f_lo) * ((x - x_lo) / el.where(flat, 1.0, width))
    y = el.where(el.equal(x, xp[-1]), fp[-1], y)  # the last point exactly, as NumPy
    y = el.where(el.less(x, xp[0]), fp[0] if left is None else left, y)
    return el.where(el.greater(x, xp[-1]), fp[-1] if right is None else right, y)


def polyval(p, x):
    """The polynomial with coefficients ``p`` (highest power first) at ``x``, by Horner's rule, as
    ``numpy.polyval``. Differentiable in ``p`` and ``x``.

    >>> import fnx.numpy as fnp
    >>> fnp.polyval(fnp.array([3., 0., 1.]), fnp.array([1., 2.]))
    Array([ 4., 13.], dtype=float32)
    """
    p = asarray(p)
    if p.ndim != 1:
        raise ShapeError(f"polyval: coefficients must be 1-d, got shape {p.shape}")
    x = x if isinstance(x, (bool, int, float, complex)) else asarray(x)
    dt = dtypes.result_type(p, x)
    x = asarray(x, dt)
    from .creation import zeros
    y = zeros(x.shape, dt, device=x.device)
    for k in range(p.shape[0]):
        y = y * x + el.astype(p[k], dt)
    return y


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-d ``x``: columns ``x ** (N - 1), ..., x, 1`` (reversed with
    ``increasing``), as ``numpy.vander``. Integers and bools give int64. Differentiable in ``x``.

    >>> import fnx.numpy as fnp
    >>> fnp.vander(fnp.array([1, 2, 3]), 3)
    Array([[1, 1, 1],
           [4, 2, 1],
           [9, 3, 1]], dtype=int64)
    """
    x = asarray(x)
    if x.ndim != 1:
        raise ShapeError(f"vander: x must be 1-d, got shape {x.shape}")
    x = el.astype(x, np.promote_types(x.dtype, dtypes.int64) if x.dtype.kind in "biu" else x.dtype)
    n = x.shape[0] if N is None else operator.index(N)
    if n < 0:
        raise ValueError(f"vander: N must be non-negative, got {n}")
    from .creation import ones
    column = ones(x.shape, x.dtype, device=x.device)
    columns = []
    for _ in range(n):  # repeated products, not powers: 0 ** 0 has a NaN derivative in x
        columns.append(column)
        column = column * x
    if not columns:
        return sh.reshape(x[:0], (x.shape[0], 0))
    out = sh.stack(columns, axis=1)
    return out if increasing else sh.flip(out, 1)


# ----- 1-d convolution --------------------------------------------------------------------------


def _correlate_full(opname, a, v, conjugate):
    a, v = asarray(a), asarray(v)
    if a.ndim != 1 or v.ndim != 1:
        raise ShapeError(f"{opname}: expected two 1-d arrays, got shapes {a.shape} and {v.shape}")
    if a.shape[0] == 0 or v.shape[0] == 0:
        raise ValueError(f"{opname}: inputs cannot be empty")
    dt = dtypes.result_type(a, v)
    a, v = el.astype(a, dt), el.astype(v, dt)
    if conjugate:
        v = el.conjugate(v)
    m = v.shape[0]
    windows = patches(sh.pad(a, (m - 1, m - 1)), (m,))
    return matmul(windows, v), a.shape[0], m


def _mode_slice(opname, full, n, m, mode, same_start):
    if mode == "full":
        return full
    if mode == "same":
        return full[same_start:same_start + max(n, m)]
    if mode == "valid":
        return full[min(n, m) - 1:max(n, m)]
    raise ValueError(f"{opname}: mode must be 'full', 'same' or 'valid', got {mode!r}")


def correlate(a, v, mode="valid"):
    """The cross-correlation ``c[k] = sum_n a[n + k] * conj(v[n])`` of two 1-d arrays, as
    ``numpy.correlate``; ``mode`` is ``'valid'`` (the default), ``'same'`` or ``'full'``.

    >>> import fnx.numpy as fnp
    >>> fnp.correlate(fnp.array([1., 2., 3.]), fnp.array([0., 1., 0.5]), "full")
    Array([0.5, 2. , 3.5, 3. , 0. ], dtype=float32)
    """
    full, n, m = _correlate_full("correlate", a, v, conjugate=True)
    # NumPy's 'same' window: it swaps the inputs when v is the longer one, and reverses the result.
    start = (m - 1) // 2 if n >= m else n - 1 - (n - 1) // 2
    return _mode_slice("correlate", full, n, m, mode, start)


def convolve(a, v, mode="full"):
    """The discrete convolution ``c[k] = sum_n a[n] * v[k - n]`` of two 1-d arrays, as ``numpy.convolve``;
    ``mode`` is ``'full'`` (the default), ``'same'`` or ``'valid'``. Differentiable in both.

    >>> import fnx.numpy as fnp
    >>> fnp.convolve(fnp.array([1., 2., 3.]), fnp.array([0., 1., 0.5]))
    Array([0. , 1. , 2.5, 4. , 1.5], dtype=float32)
    """
    v = asarray(v)
    full, n, m = _correlate_full("convolve", a, sh.flip(v) if v.ndim == 1 else v, conjugate=False)
    return _mode_slice("convolve", full, n, m, mode, (min(n, m) - 1) // 2)


# ----- integration and differences -----------------------------------------------------------------


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The integral of ``y`` along ``axis`` by the trapezoidal rule, as ``numpy.trapezoid``; ``x`` gives the
    sample points (1-d, or shaped like ``y``), else they are ``dx`` apart. Differentiable in ``y`` and ``x``.

    >>> import fnx.numpy as fnp
    >>> fnp.trapezoid(fnp.array([1., 2., 3.]), dx=2.)
    Array(8., dtype=float32)
    """
    from .reductions import sum as _sum
    v = asarray(y)
    if v.ndim == 0:
        raise ShapeError("trapezoid: y must have at least one dimension")
    axis = normalize_axis("trapezoid", axis, v.ndim)
    if v.dtype.kind in "biu":
        v = el.astype(v, dtypes.float64)
    if x is None:
        d = dx
    else:
        d = diff(asarray(x), axis=-1 if asarray(x).ndim == 1 else axis)
        if d.ndim == 1:
            d = _along(v, axis, d)
    n = v.shape[axis]
    mid = (sh.slice_axis(v, axis, 1, max(n, 1)) + sh.slice_axis(v, axis, 0, max(n - 1, 0))) * 0.5
    return _sum(d * mid, axis=axis)


def ediff1d(ary, to_end=None, to_begin=None):
    """The differences of the flattened ``ary``, with ``to_begin``/``to_end`` joined on, as ``numpy.ediff1d``.

    >>> import fnx.numpy as fnp
    >>> fnp.ediff1d(fnp.array([1, 4, 9]), to_begin=0)
    Array([0, 3, 5], dtype=int64)
    """
    x = sh.ravel(asarray(ary))
    parts = [diff(x)] if x.shape[0] else [x]
    if to_begin is not None:
        parts.insert(0, el.astype(sh.ravel(asarray(to_begin)), x.dtype))
    if to_end is not None:
        parts.append(el.astype(sh.ravel(asarray(to_end)), x.dtype))
    return sh.concatenate(parts)


# ----- window functions ---------------------------------------------------------------------------


def _window(opname, M):
    M = operator.index(M)
    from .creation import arange
    return M, arange(max(M, 0), dtype=dtypes.float64)


def _cosine_window(opname, M, coeffs):
    M, n = _window(opname, M)
    if M <= 1:
        return _in_default_float(n * 0 + 1)
    phase = 2 * np.pi * n / (M - 1)
    out = coeffs[0] + 0 * n
    for k, c in enumerate(coeffs[1:], 1):
        out = out + c * el.cos(k * phase)
    return _in_default_float(out)


def _in_default_float(window):
    """A window computed in float64 (NumPy's values), given in the default float dtype as JAX's and PyTorch's are:
    made from a length alone, it is a new array, like ``linspace``'s."""
    return el.astype(window, dtypes.default_float())


def hamming(M):
    """The Hamming window of ``M`` points, as ``numpy.hamming`` (in the default float dtype).

    >>> import fnx.numpy as fnp
    >>> fnp.hamming(3)
    Array([0.08, 1.  , 0.08], dtype=float32)
    """
    return _cosine_window("hamming", M, (0.54, -0.46))


def hanning(M):
    """The Hann window of ``M`` points, as ``numpy.hanning`` (in the default float dtype)."""
    return _cosine_window("hanning", M, (0.5, -0.5))


def blackman(M):
    """The Blackman window of ``M`` points, as ``numpy.blackman`` (in the default float dtype)."""
    return _cosine_window("blackman", M, (0.42, -0.5, 0.08))


def bartlett(M):
    """The Bartlett (triangular) window of ``M`` points, as ``numpy.bartlett`` (in the default float dtype)."""
    M, n = _window("bartlett", M)
    if M <= 1:
        return _in_default_float(n * 0 + 1)
    return _in_default_float(1 - el.abs(2 * n / (M - 1) - 1))


def kaiser(M, beta):
    """The Kaiser window of ``M`` points with shape parameter ``beta``, as ``numpy.kaiser``:
    ``i0(beta * sqrt(1 - (2 n / (M - 1) - 1) ** 2)) / i0(beta)``. Differentiable in ``beta``.

    Computed in float64; given in the default float dtype, or in ``beta``'s when that is a wider float array.

    >>> import fnx.numpy as fnp
    >>> fnp.kaiser(4, 5.0)
    Array([0.03671089, 0.7753221 , 0.7753221 , 0.03671089], dtype=float32)
    """
    from .bessel import i0
    M, n = _window("kaiser", M)
    wide = getattr(beta, "dtype", None) if isinstance(beta, (Array, np.ndarray)) else None
    out_dt = dtypes.result_type(dtypes.default_float(), wide if wide is not None and wide.kind == "f" else 1.0)
    beta = el.astype(asarray(beta), dtypes.float64)
    if beta.ndim != 0:
        raise ShapeError(f"kaiser: beta must be a scalar, got shape {beta.shape}")
    if M <= 1:
        return el.astype(n * 0 + 1, out_dt)
    alpha = (M - 1) / 2.0
    return el.astype(i0(beta * el.sqrt(1 - ((n - alpha) / alpha) ** 2.0)) / i0(beta), out_dt)
