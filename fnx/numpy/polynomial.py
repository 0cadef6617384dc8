"""Polynomials as coefficient arrays, highest power first: poly, polyadd, polysub, polymul, polydiv, polyder,
polyint, polyfit, roots, trim_zeros (``polyval`` lives with the interpolation in numerical.py).

Arithmetic on polynomials is arithmetic on their coefficient vectors: sums pad
the shorter one with leading zeros, products are convolutions, division is
long division unrolled over the (static) degrees, and derivatives and integrals
scale by the powers. All of it is composed of fnx operations, so it is
differentiable in the coefficients and batches under ``vmap``. ``polyfit`` is
a least-squares solve on a column-scaled Vandermonde matrix, as in NumPy, and
differentiates through ``lstsq``. ``roots`` takes the eigenvalues of the
companion matrix; it and ``trim_zeros`` depend on which entries are zero, so
they need concrete input. As in ``jax.numpy``, results keep the input's float
dtype (integers give float64 where a division is involved).
"""
import operator

import numpy as np

from ..core import dtypes
from ..errors import DTypeError, ShapeError
from . import elementwise as el, reductions as red, shape as sh
from ..core.trace import Tracer, concreteness_error
from ._base import asarray, is_traced

__all__ = ["poly", "polyadd", "polysub", "polymul", "polydiv", "polyder", "polyint", "polyfit", "roots",
           "trim_zeros"]


def _coeffs(opname, p):
    p = sh.atleast_1d(asarray(p))
    if p.ndim != 1:
        raise ShapeError(f"{opname}: coefficients must be 1-d, got shape {p.shape}")
    return p


def _inexact(x):
    return x if x.dtype.kind in "fc" else el.astype(x, dtypes.float64)


def _host(opname, x):
    """``x``'s values as a numpy array: readable eagerly and under ``grad`` (the primal), a ``TracerError``
    under ``vmap`` or ``jit``, where the values that decide the result's shape are unknown."""
    return np.asarray(x._concrete(opname)) if isinstance(x, Tracer) else np.asarray(x)


def poly(seq_of_zeros):
    """The coefficients of the monic polynomial with the given roots, as ``numpy.poly``; for a square matrix,
    those of its characteristic polynomial.

    Complex roots that come in conjugate pairs give a real result.
    Differentiable in the roots.

    >>> import fnx.numpy as fnp
    >>> fnp.poly(fnp.array([1., 2.]))
    Array([ 1., -3.,  2.], dtype=float32)
    """
    from .linalg import eigvals
    z = asarray(seq_of_zeros)
    if z.ndim == 2 and z.shape[0] == z.shape[1] and z.shape[0] != 0:
        z = eigvals(z)
    elif z.ndim <= 1:
        z = sh.atleast_1d(z)
    else:
        raise ShapeError(f"poly: expected a 1-d array of roots or a square matrix, got shape {z.shape}")
    z = _inexact(z)
    from .creation import ones
    a = ones((1,), z.dtype, device=z.device)
    for k in range(z.shape[0]):
        a = sh.pad(a, (0, 1)) - z[k] * sh.pad(a, (1, 0))  # a(x) (x - z_k)
    if z.dtype.kind == "c" and not is_traced(z):
        roots_ = np.asarray(z)
        pos = np.sort(roots_[roots_.imag > 0])
        neg = np.sort(np.conjugate(roots_[roots_.imag < 0]))
        if len(pos) == len(neg) and np.all(pos == neg):
            a = el.real(a)
    return a


def polyadd(a1, a2):
    """The sum of two polynomials (the shorter padded with leading zeros), as ``numpy.polyadd``.

    >>> import fnx.numpy as fnp
    >>> fnp.polyadd(fnp.array([1, 2]), fnp.array([1, 2, 3]))
    Array([1, 3, 5], dtype=int64)
    """
    a, b = _coeffs("polyadd", a1), _coeffs("polyadd", a2)
    n = max(a.shape[0], b.shape[0])
    return _lead(a, n) + _lead(b, n)


def polysub(a1, a2):
    """The difference ``a1 - a2`` of two polynomials, as ``numpy.polysub``.

    >>> import fnx.numpy as fnp
    >>> fnp.polysub(fnp.array([1.]), fnp.array([1., 2., 3.]))
    Array([-1., -2., -2.], dtype=float32)
    """
    a, b = _coeffs("polysub", a1), _coeffs("polysub", a2)
    n = max(a.shape[0], b.shape[0])
    return _lead(a, n) - _lead(b, n)


def _lead(p, n):
    """``p`` with leading zeros up to length ``n``."""
    return p if p.shape[0] >= n else sh.pad(p, (n - p.shape[0], 0))


def _trim(opname, p):
    """``p`` without its leading zeros (one zero is kept for the zero polynomial); concrete ``p`` only."""
    nz = np.flatnonzero(_host(opname, p))
    return p[int(nz[0]):] if nz.size else p[-1:]


def polymul(a1, a2, *, trim_leading_zeros=False):
    """The product of two polynomials (the convolution of their coefficients), as ``numpy.polymul``.

    NumPy drops the inputs' leading zeros first; as in ``jax.numpy`` that
    needs ``trim_leading_zeros=True`` (concrete input only), and by default
    the result is the plain convolution. Differentiable in both.

    >>> import fnx.numpy as fnp
    >>> fnp.polymul(fnp.array([1., 2.]), fnp.array([1., 2., 3.]))
    Array([1., 4., 7., 6.], dtype=float32)
    """
    a, b = _coeffs("polymul", a1), _coeffs("polymul", a2)
    if trim_leading_zeros:
        a, b = _trim("polymul", a), _trim("polymul", b)
    if a.shape[0] == 0 or b.shape[0] == 0:
        raise ValueError("polymul: polynomials must have at least one coefficient")
    from .numerical import convolve
    return convolve(a, b, "full")


def polydiv(u, v, *, trim_leading_zeros=False):
    """The quotient and remainder ``(q, r)`` of ``u / v``, by long division, as ``numpy.polydiv``.

    As in ``jax.numpy``, ``r`` keeps the length of ``u`` (its leading entries
    are zeros) unless ``trim_leading_zeros=True`` (concrete input only), which
    drops them as NumPy does. The result is floating. Differentiable in ``u``
    and ``v``.

    Raises:
      ZeroDivisionError: when ``v``'s leading coefficient is zero (concrete ``v``).

    >>> import fnx.numpy as fnp
    >>> q, r = fnp.polydiv(fnp.array([1., 2., 3.]), fnp.array([1., 1.]))
    >>> q, r
    (Array([1., 1.], dtype=float32), Array([0., 0., 2.], dtype=float32))
    """
    a, b = _coeffs("polydiv", u), _coeffs("polydiv", v)
    dt = dtypes.result_type(_inexact(a), _inexact(b))
    a, b = el.astype(a, dt), el.astype(b, dt)
    if b.shape[0] == 0 or a.shape[0] == 0:
        raise ValueError("polydiv: polynomials must have at least one coefficient")
    if not is_traced(b) and np.asarray(b)[0] == 0:
        raise ZeroDivisionError("polydiv: the divisor's leading coefficient is zero; trim its leading zeros first")
    m, n = a.shape[0] - 1, b.shape[0] - 1
    scale = 1.0 / b[0]
    r = [a[i] for i in range(m + 1)]
    q = []
    for k in range(m - n + 1):
        d = scale * r[k]
        q.append(d)
        for j in range(n + 1):
            r[k + j] = r[k + j] - d * b[j]
    if m - n + 1 > 0:  # the leading m - n + 1 entries are cancelled exactly
        r = [r[i] * 0 for i in range(m - n + 1)] + r[m - n + 1:]
    quotient = sh.stack(q) if q else el.astype(asarray(np.zeros(1)), dt)
    rem = sh.stack(r)
    if trim_leading_zeros:
        values = _host("polydiv", rem)
        start = 0
        while start < values.shape[0] - 1 and np.allclose(values[start], 0, rtol=1e-14):
            start += 1
        rem = rem[start:]
    return quotient, rem


def polyder(p, m=1):
    """The ``m``-th derivative of a polynomial, as ``numpy.polyder`` (keeping ``p``'s dtype, as JAX).

    >>> import fnx.numpy as fnp
    >>> fnp.polyder(fnp.array([1., 2., 3.]))
    Array([2., 2.], dtype=float32)
    """
    m = operator.index(m)
    if m < 0:
        raise ValueError(f"polyder: the order m must be non-negative, got {m}")
    p = _coeffs("polyder", p)
    from .creation import arange
    for _ in range(m):
        n = p.shape[0] - 1
        if n <= 0:
            return p[:0]
        p = p[:-1] * el.astype(arange(n, 0, -1, device=p.device), p.dtype)
    return p


def polyint(p, m=1, k=None):
    """The ``m``-th antiderivative of a polynomial, with integration constants ``k`` (one number for all,
    or one per integration; zeros by default), as ``numpy.polyint``. The result is floating.

    >>> import fnx.numpy as fnp
    >>> fnp.polyint(fnp.array([3., 2., 1.]), k=5.)
    Array([1., 1., 1., 5.], dtype=float32)
    """
    m = operator.index(m)
    if m < 0:
        raise ValueError(f"polyint: the order m must be non-negative, got {m}")
    p = _inexact(_coeffs("polyint", p))
    if k is None:
        k = [0.0] * m
    elif np.ndim(k) == 0:
        k = [k] * m
    else:
        k = list(k) if not hasattr(k, "shape") else [k[i] for i in range(k.shape[0])]
        if len(k) < m:
            raise ValueError(f"polyint: k must be a number or hold m = {m} integration constants, got {len(k)}")
    from .creation import arange
    for i in range(m):
        n = p.shape[0]
        dt = dtypes.result_type(p, asarray(k[i]) if hasattr(k[i], "dtype") else p.dtype)
        p = sh.concatenate([el.astype(p, dt) / el.astype(arange(n, 0, -1, device=p.device), dt),
                            sh.reshape(el.astype(asarray(k[i]), dt), (1,))])
    return p


def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """The least-squares polynomial of degree ``deg`` through the points ``(x, y)``, highest power first, as
    ``numpy.polyfit``.

    ``y`` may be 2-d (one fit per column). ``w`` weighs each point (multiplies
    its residual). With ``full=True`` returns ``(p, residuals, rank,
    singular_values, rcond)``; with ``cov=True`` (``'unscaled'`` to skip the
    residual scaling) returns ``(p, V)``, ``V`` the coefficients' covariance.
    ``rcond`` defaults to ``len(x) * eps``. Integers give float64.
    Differentiable in ``x``, ``y`` and ``w``.

    Raises:
      ValueError: for a negative degree, no data, or ``cov`` without more points than coefficients.
      ShapeError: for mismatched ``x``, ``y``, ``w``.

    >>> import fnx.numpy as fnp
    >>> fnp.polyfit(fnp.array([0., 1., 2., 3.]), fnp.array([1., 3., 5., 7.]), 1).round(6)
    Array([2., 1.], dtype=float32)
    """
    from .linalg import inv, lstsq, matrix_transpose, outer
    from .numerical import vander
    order = operator.index(deg) + 1
    x, y = _inexact(asarray(x)), _inexact(asarray(y))
    if order < 1:
        raise ValueError(f"polyfit: the degree must be non-negative, got {deg}")
    if x.ndim != 1:
        raise ShapeError(f"polyfit: x must be 1-d, got shape {x.shape}")
    if x.shape[0] == 0:
        raise ValueError("polyfit: x is empty")
    if y.ndim not in (1, 2) or y.shape[0] != x.shape[0]:
        raise ShapeError(f"polyfit: y must be 1-d or 2-d with len(x) = {x.shape[0]} rows, got shape {y.shape}")
    if x.dtype.kind == "c":
        raise DTypeError("polyfit: x must be real")
    dt = dtypes.result_type(x, y)
    x, y = el.astype(x, dt), el.astype(y, dt)
    if rcond is None:
        rcond = x.shape[0] * float(np.finfo(dt).eps)
    lhs = vander(x, order)
    rhs = y
    if w is not None:
        w = asarray(w)
        if w.shape != x.shape:
            raise ShapeError(f"polyfit: w must have x's shape {x.shape}, got {w.shape}")
        w = el.astype(w, dt)
        lhs = lhs * w[:, None]
        rhs = rhs * (w if rhs.ndim == 1 else w[:, None])
    scale = el.sqrt(red.sum(el.real(lhs * el.conjugate(lhs)), axis=0))
    scale = el.where(el.equal(scale, 0), 1.0, scale)
    lhs = lhs / scale
    c, resids, rank, s = lstsq(lhs, rhs, rcond, numpy_resid=full and not is_traced(lhs, rhs))
    c = c / (scale if c.ndim == 1 else scale[:, None])
    if full:
        return c, resids, rank, s, rcond
    if cov:
        if x.shape[0] <= order and cov != "unscaled":
            raise ValueError("polyfit: the number of data points must exceed order to scale the covariance matrix")
        v = inv(matrix_transpose(lhs) @ lhs) / outer(scale, scale)
        if cov == "unscaled":
            fac = 1.0
        else:
            fac = resids / (x.shape[0] - order)
        return (c, v * fac) if y.ndim == 1 else (c, v[:, :, None] * fac)
    return c


def roots(p, *, strip_zeros=True):
    """The roots of the polynomial with coefficients ``p`` (highest power first), as ``numpy.roots``: the
    eigenvalues of its companion matrix, complex as in ``jax.numpy``.

    Leading zeros are dropped; trailing zeros are exact roots at 0. Concrete
    input only (the degree depends on which coefficients are zero);
    ``strip_zeros=False`` is not supported.

    >>> import fnx.numpy as fnp
    >>> fnp.roots(fnp.array([1., -3., 2.], dtype="float64"))
    Array([2.+0.j, 1.+0.j], dtype=complex128)
    """
    from .linalg import eigvals
    if not strip_zeros:
        raise NotImplementedError("roots: strip_zeros=False is not supported; leading zeros are always stripped")
    p = _inexact(_coeffs("roots", p))
    if isinstance(p, Tracer):  # the companion matrix's eigenvalues are computed for concrete input only
        raise concreteness_error(p._main.name, "roots", "The degree depends on which coefficients are zero, and "
                                 "the eigenvalues are computed eagerly; call roots outside the transform")
    cdt = np.result_type(p.dtype, np.complex64)
    values = np.asarray(p)
    nz = np.flatnonzero(values)
    if nz.size == 0:
        return asarray(np.zeros(0, cdt), device=p.device)
    trailing = values.shape[0] - int(nz[-1]) - 1
    p = p[int(nz[0]):int(nz[-1]) + 1]
    n = p.shape[0]
    if n > 1:
        from .creation import eye
        companion = eye(n - 1, k=-1, dtype=p.dtype, device=p.device)
        companion = sh.concatenate([sh.reshape(-p[1:] / p[0], (1, n - 1)), companion[1:]], axis=0)
        r = el.astype(eigvals(companion), cdt)
    else:
        r = asarray(np.zeros(0, cdt), device=p.device)
    if trailing:
        r = sh.concatenate([r, asarray(np.zeros(trailing, cdt), device=p.device)])
    return r


def trim_zeros(filt, trim="fb", axis=None):
    """``filt`` without its leading (``'f'``) and/or trailing (``'b'``) zeros, as ``numpy.trim_zeros``.

    For an n-d array, ``axis`` (None: every axis) names the axes along which
    the all-zero edge slices are trimmed. Concrete input only; the result is a
    slice, so differentiable in the entries kept.

    >>> import fnx.numpy as fnp
    >>> fnp.trim_zeros(fnp.array([0, 0, 1, 2, 0, 3, 0]))
    Array([1, 2, 0, 3], dtype=int64)
    """
    x = asarray(filt)
    if not isinstance(trim, str) or not set(trim.lower()) <= {"f", "b"} or not trim:
        raise ValueError(f"trim_zeros: trim must be a string of 'f' and/or 'b', got {trim!r}")
    trim = trim.lower()
    if x.ndim == 0:
        raise ShapeError("trim_zeros: filt must have at least one dimension")
    from ._base import normalize_axes
    axes = normalize_axes("trim_zeros", axis, x.ndim)
    nz = np.argwhere(_host("trim_zeros", x))
    index = [slice(None)] * x.ndim
    for ax in axes:
        if nz.size == 0:  # all zeros: nothing is left, as NumPy
            start = stop = 0
        else:
            start = int(nz[:, ax].min()) if "f" in trim else 0
            stop = int(nz[:, ax].max()) + 1 if "b" in trim else x.shape[ax]
        index[ax] = slice(start, stop)
    return x[tuple(index)]
