"""Special functions, as ``scipy.special`` has them, differentiable.

NumPy has no error or gamma functions, so the primitives here carry their own
float64 algorithms, written with elementwise ``xp`` operations only (so they
run on cupy too): W. J. Cody's rational approximations for ``erf``/``erfc``
(Math. Comp. 1969), M. J. Wichura's AS 241 for the normal quantile behind
``ndtri`` and ``erfinv`` (Appl. Statist. 1988), Lanczos' series (g = 7, nine
terms) for ``gammaln``, and for ``polygamma`` (of any order, ``digamma`` being
order 0) the recurrence up to a large argument followed by the asymptotic
series in Bernoulli numbers, with the reflection formula for arguments below
one half. Each is accurate to a few units in the last place of a float64;
float32 input is computed in float64 and rounded, so it keeps its dtype.

The derivatives form a closed family: ``gammaln' = digamma`` and the derivative
of ``polygamma`` of order n is ``polygamma`` of order n + 1, so derivatives of
every order come from one primitive. Compositions (``logsumexp``, ``softmax``,
``ndtr``, ``entr``) are written with fnx operations and differentiate themselves;
``logsumexp`` shifts by a ``stop_gradient``-ed maximum, which leaves its value
and its gradient (the softmax) exact while keeping ``exp`` from overflowing.
"""
import functools
import math

import numpy as np

from ..core import dtypes
from ..core.backend import data_device
from ..core.primitive import ShapedArray, defprim
from ..errors import DTypeError
from ..numpy._base import (asarray, batch_front, binary, binary_fn, move_to_front, normalize_axes, same_shape,
                           shift_axes, unary, unary_fn)
from ..numpy.elementwise import exp, log, log1p

__all__ = ["erf", "erfc", "erfinv", "ndtr", "ndtri", "gammaln", "digamma", "psi", "polygamma", "expit", "logit",
           "log_expit", "xlogy", "xlog1py", "entr", "logsumexp", "softmax", "log_softmax"]

_SQRT_PI = math.sqrt(math.pi)
_SQRT2 = math.sqrt(2.0)


def _poly(x, coeffs):
    """Horner's rule; ``coeffs`` from the highest degree down."""
    acc = coeffs[0]
    for c in coeffs[1:]:
        acc = acc * x + c
    return acc


def _in_float64(f):
    """An impl computing ``f`` in float64 and returning the input's dtype."""
    def impl(xp, x, **params):
        return f(xp, xp.asarray(x, dtype=xp.float64), **params).astype(x.dtype)
    return impl


# ----- error function: W. J. Cody's rational approximations -------------------------------

_ERF_A = (0.185777706184603153, 3.16112374387056560, 113.864154151050156, 377.485237685302021, 3209.37758913846947)
_ERF_B = (1.0, 23.6012909523441209, 244.024637934444173, 1282.61652607737228, 2844.23683343917062)
_ERFC_C = (2.15311535474403846e-8, 0.564188496988670089, 8.88314979438837594, 66.1191906371416295,
           298.635138197400131, 881.952221241769090, 1712.04761263407058, 2051.07837782607147,
           1230.33935479799725)
_ERFC_D = (1.0, 15.7449261107098347, 117.693950891312499, 537.181101862009858, 1621.38957456669019,
           3290.79923573345963, 4362.61909014324716, 3439.36767414372164, 1230.33935480374942)
_ERFC_P = (0.0163153871373020978, 0.305326634961232344, 0.360344899949804439, 0.125781726111229246,
           0.0160837851487422766, 6.58749161529837803e-4)
_ERFC_Q = (1.0, 2.56852019228982242, 1.87295284992346047, 0.527905102951428412, 0.0605183413124413191,
           0.00233520497626869185)
_ERF_SMALL, _ERFC_ZERO = 0.46875, 27.3  # erf's own series below; erfc(x) underflows to 0 above


def _erf_small(xp, x):
    """erf(x) for |x| <= 0.46875: x P(x^2) / Q(x^2)."""
    x = xp.clip(x, -_ERF_SMALL, _ERF_SMALL)
    z = x * x
    return x * _poly(z, _ERF_A) / _poly(z, _ERF_B)


def _erfc_large(xp, y):
    """erfc(y) for y > 0.46875, in Cody's two ranges; exp(-y^2) is split to keep its accuracy."""
    y2 = xp.clip(y, _ERF_SMALL, 4.0)
    mid = _poly(y2, _ERFC_C) / _poly(y2, _ERFC_D)
    y3 = xp.clip(y, 4.0, _ERFC_ZERO)
    z = 1.0 / (y3 * y3)
    tail = (1.0 / _SQRT_PI - z * _poly(z, _ERFC_P) / _poly(z, _ERFC_Q)) / y3
    r = xp.where(y <= 4.0, mid, tail)
    yc = xp.clip(y, 0.0, _ERFC_ZERO)
    ysq = xp.trunc(yc * 16.0) / 16.0
    r = xp.exp(-ysq * ysq) * xp.exp(-(yc - ysq) * (yc + ysq)) * r
    return xp.where(y >= _ERFC_ZERO, 0.0, r)


def _erf(xp, x):
    y = xp.abs(x)
    big = 0.5 - _erfc_large(xp, y) + 0.5
    return xp.where(y <= _ERF_SMALL, _erf_small(xp, x), xp.where(x < 0, -big, big))


def _erfc(xp, x):
    y = xp.abs(x)
    big = _erfc_large(xp, y)
    return xp.where(y <= _ERF_SMALL, 1.0 - _erf_small(xp, x), xp.where(x < 0, 2.0 - big, big))


erf_p = unary("erf", _in_float64(_erf), lambda x, out: (2.0 / _SQRT_PI) * exp(-(x * x)))
erfc_p = unary("erfc", _in_float64(_erfc), lambda x, out: (-2.0 / _SQRT_PI) * exp(-(x * x)))


# ----- the normal quantile (M. J. Wichura's AS 241), and erfinv from it --------------------

_Q_A = (2509.0809287301226727, 33430.575583588128105, 67265.770927008700853, 45921.953931549871457,
        13731.693765509461125, 1971.5909503065514427, 133.14166789178437745, 3.3871328727963666080)
_Q_B = (5226.4952788528545610, 28729.085735721942674, 39307.895800092710610, 21213.794301586595867,
        5394.1960214247511077, 687.18700749205790830, 42.313330701600911252, 1.0)
_Q_C = (7.74545014278341407640e-4, 2.27238449892691845833e-2, 2.41780725177450611770e-1,
        1.27045825245236838258, 3.64784832476320460504, 5.76949722146069140550, 4.63033784615654529590,
        1.42343711074968357734)
_Q_D = (1.05075007164441684324e-9, 5.47593808499534494600e-4, 1.51986665636164571966e-2,
        1.48103976427480074590e-1, 6.89767334985100004550e-1, 1.67638483018380384940,
        2.05319162663775882187, 1.0)
_Q_E = (2.01033439929228813265e-7, 2.71155556874348757815e-5, 1.24266094738807843860e-3,
        2.65321895265761230930e-2, 2.96560571828504891230e-1, 1.78482653991729133580,
        5.46378491116411436990, 6.65790464350110377720)
_Q_F = (2.04426310338993978564e-15, 1.42151175831644588870e-7, 1.84631831751005468180e-5,
        7.86869131145613259100e-4, 1.48753612908506148525e-2, 1.36929880922735805310e-1,
        5.99832206555887937690e-1, 1.0)


def _ndtri(xp, d, p, q):
    """The standard normal quantile of ``p``, given ``d = p - 1/2`` and ``q = 1 - p`` each computed
    where it is exact, so both tails and the centre keep their relative accuracy."""
    dc = xp.clip(d, -0.425, 0.425)
    r = 0.180625 - dc * dc
    centre = dc * _poly(r, _Q_A) / _poly(r, _Q_B)
    t = xp.minimum(p, q)
    r = xp.sqrt(-xp.log(xp.where(t > 0, xp.minimum(t, 0.5), 0.5)))  # the tails only need t <= 1/2
    tail = xp.where(r <= 5.0, _poly(r - 1.6, _Q_C) / _poly(r - 1.6, _Q_D),
                    _poly(r - 5.0, _Q_E) / _poly(r - 5.0, _Q_F))
    tail = xp.where(t > 0, tail, xp.inf)
    out = xp.where(xp.abs(d) <= 0.425, centre, xp.where(d < 0, -tail, tail))
    return xp.where((p >= 0) & (q >= 0), out, xp.nan)  # nan for p outside [0, 1], and for nan


def _ndtri_of_p(xp, p):
    return _ndtri(xp, p - 0.5, p, 1.0 - p)


def _erfinv(xp, y):
    return _ndtri(xp, 0.5 * y, (1.0 + y) * 0.5, (1.0 - y) * 0.5) / _SQRT2


erfinv_p = unary("erfinv", _in_float64(_erfinv), lambda x, out: (_SQRT_PI / 2.0) * exp(out * out),
                 domain="open_unit_ball")
ndtri_p = unary("ndtri", _in_float64(_ndtri_of_p), lambda x, out: math.sqrt(2.0 * math.pi) * exp(0.5 * (out * out)),
                domain="unit_interval")

# ----- log-gamma (Lanczos) and polygamma ----------------------------------------------------

_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
            1.5056327351493116e-7)


def _sinpi_arg(xp, x):
    """``r = x - round(x)`` (exact): sin(pi x) = +-sin(pi r) and cot(pi x) = cot(pi r) without pi x's rounding."""
    return x - xp.round(x)


def _gammaln(xp, x):
    """log|Gamma(x)|: Lanczos for x >= 1/2, reflection Gamma(x) Gamma(1-x) = pi / sin(pi x) below."""
    orig, x = x, xp.where(xp.isinf(x), 2.0, x)  # inf is answered at the end, without inf - inf on the way
    reflect = x < 0.5
    w = xp.where(reflect, 1.0 - x, x)
    z = w - 1.0
    a = _LANCZOS[0]
    for i, c in enumerate(_LANCZOS[1:], 1):
        a = a + c / (z + i)
    t = z + 7.5
    lg = 0.5 * math.log(2.0 * math.pi) + (z + 0.5) * xp.log(t) - t + xp.log(a)
    r = _sinpi_arg(xp, xp.where(reflect, x, 0.25))
    pole = reflect & (r == 0)
    s = xp.abs(xp.sin(math.pi * xp.where(pole, 0.5, r)))
    out = xp.where(reflect, math.log(math.pi) - xp.log(s) - lg, lg)
    out = xp.where((x == 1.0) | (x == 2.0), 0.0, out)  # exact zeros, where the formula leaves ~1e-15
    return xp.where(pole | (orig == xp.inf), xp.inf, xp.where(orig == -xp.inf, -xp.inf, out))  # scipy's -inf


# Bernoulli numbers B_2, B_4, ..., B_20 for the asymptotic series of the polygamma functions.
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798,
              -174611 / 330)


def _cot_derivative(n):
    """Coefficients (highest power first) of Q_n with d^n/dx^n cot(pi x) = pi^n Q_n(cot(pi x))."""
    q = [0.0, 1.0]  # ascending powers of c: Q_0(c) = c, and Q_{k+1} = -(1 + c^2) Q_k'
    for _ in range(n):
        dq = [i * q[i] for i in range(1, len(q))] or [0.0]
        nxt = [0.0] * (len(dq) + 2)
        for i, v in enumerate(dq):
            nxt[i] -= v
            nxt[i + 2] -= v
        q = nxt
    return tuple(reversed(q))


def _polygamma(xp, x, *, n):
    """psi^(n)(x): recurrence up to x >= 10 + n, the asymptotic series there, reflection for x < 1/2."""
    reflect = x < 0.5
    w = xp.where(reflect, 1.0 - x, x)
    big = 10.0 + n
    acc = 0.0
    for _ in range(int(big)):  # w >= 1/2, so this many unit steps reach the asymptotic range
        low = w < big
        acc = acc + xp.where(low, 1.0 / w ** (n + 1), 0.0)
        w = xp.where(low, w + 1.0, w)
    u = 1.0 / (w * w)
    if n == 0:
        series = _poly(u, tuple(b / (2 * k) for k, b in reversed(list(enumerate(_BERNOULLI, 1))))) * u
        val = xp.log(w) - 0.5 / w - series - acc
    else:
        fact = math.factorial(n)
        coeffs = tuple(b * math.factorial(2 * k + n - 1) / math.factorial(2 * k)
                       for k, b in reversed(list(enumerate(_BERNOULLI, 1))))
        series = _poly(u, coeffs) * u
        val = (-1.0) ** (n + 1) * ((math.factorial(n - 1) + fact / (2.0 * w) + series) / w ** n + fact * acc)
    r = _sinpi_arg(xp, xp.where(reflect & xp.isfinite(x), x, 0.25))
    pole = reflect & (r == 0)
    rs = xp.where(pole, 0.25, r)
    cot = xp.cos(math.pi * rs) / xp.sin(math.pi * rs)
    out = xp.where(reflect, (-1.0) ** n * val - math.pi ** (n + 1) * _poly(cot, _cot_derivative(n)), val)
    if n == 0:  # as scipy: -inf at +0, +inf at -0, nan at the negative integers
        at_pole = xp.where(x == 0, xp.copysign(xp.inf, -x), xp.nan)
    else:
        at_pole = xp.inf if n % 2 else -xp.inf
    return xp.where(pole, at_pole, xp.where(x == -xp.inf, xp.nan, out))


def _polygamma_jvp(primals, tangents, *, n):
    (x,), (t,) = primals, tangents
    return polygamma_p.bind(x, n=n), t * polygamma_p.bind(x, n=n + 1)


polygamma_p = defprim("polygamma", impl=_in_float64(_polygamma), shape=same_shape, jvp=_polygamma_jvp,
                      vjp=lambda ct, x, *, out, n: (ct * polygamma_p.bind(x, n=n + 1),), domain="positive",
                      batch=lambda vals, bdims, *, n: (polygamma_p.bind(vals[0], n=n), bdims[0]))
gammaln_p = unary("gammaln", _in_float64(_gammaln), lambda x, out: polygamma_p.bind(x, n=0), domain="positive")

# ----- logistic function and relatives -------------------------------------------------------


def _expit(xp, x):
    e = xp.exp(-xp.abs(x))  # never overflows; both branches divide by a number in [1, 2]
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


expit_p = unary("expit", _expit, lambda x, out: out * (1.0 - out))
log_expit_p = unary("log_expit", lambda xp, x: xp.minimum(x, 0.0) - xp.log1p(xp.exp(-xp.abs(x))),
                    lambda x, out: expit_p.bind(-x))


def _logit(xp, p):
    ends = (p == 0) | (p == 1)  # -inf and inf, without log(0)'s warning
    safe = xp.where(ends, 0.5, p)
    return xp.where(ends, xp.copysign(xp.inf, p - 0.5), xp.log(safe) - xp.log1p(-safe))


logit_p = unary("logit", _logit, lambda x, out: 1.0 / (x * (1.0 - x)), domain="unit_interval")

# ----- x log y ------------------------------------------------------------------------------


def _x_times(xp, x, logy, y):
    """x * logy, taken as 0 where x == 0 (unless y is nan), as scipy does."""
    return xp.where(x == 0, xp.where(y == y, 0.0, y), x * logy)


xlogy_p = binary("xlogy", lambda xp, x, y: _x_times(xp, x, xp.log(xp.where(x == 0, 1.0, y)), y),
                 lambda x, y, out: log(y), lambda x, y, out: x / y, domain="positive_second")
xlog1py_p = binary("xlog1py", lambda xp, x, y: _x_times(xp, x, xp.log1p(xp.where(x == 0, 0.0, y)), y),
                   lambda x, y, out: log1p(y), lambda x, y, out: x / (1.0 + y), domain="positive_second")

# ----- public functions -----------------------------------------------------------------------


def _float(opname, x):
    """``x`` as a real floating array (integers become float64, bools the default float)."""
    x = asarray(x)
    if x.dtype.kind == "b":
        return x.astype(dtypes.default_float())
    if x.dtype.kind in "iu":
        return x.astype(dtypes.float64)
    if x.dtype.kind != "f":
        raise DTypeError(f"{opname}: expected a real array, got {x.dtype}")
    return x


def _float_result(dt):
    return dt if dt.kind == "f" else dtypes.default_float() if dt.kind == "b" else dtypes.float64


erf = unary_fn(erf_p, kinds="f", doc="""The error function, 2/sqrt(pi) times the integral of exp(-t^2) from 0 to x.

    Cody's rational approximations, accurate to float64 precision; as ``scipy.special.erf`` for real input.

    >>> import fnx.scipy.special as fsp
    >>> fsp.erf(1.0)
    Array(0.8427008, dtype=float32)
    """)
erfc = unary_fn(erfc_p, kinds="f", doc="The complementary error function ``1 - erf(x)``, accurate where erf is "
                                       "near 1 (``scipy.special.erfc``).")
erfinv = unary_fn(erfinv_p, kinds="f", doc="""The inverse of :func:`erf` on (-1, 1); +-inf at +-1, nan outside.

    >>> import fnx.scipy.special as fsp
    >>> fsp.erfinv(fsp.erf(0.5))
    Array(0.5, dtype=float32)
    """)
ndtri = unary_fn(ndtri_p, kinds="f", doc="The standard normal quantile (inverse of :func:`ndtr`), "
                                         "as ``scipy.special.ndtri``.")
gammaln = unary_fn(gammaln_p, kinds="f", doc="""``log|Gamma(x)|``, as ``scipy.special.gammaln``; inf at the poles.

    >>> import fnx, fnx.scipy.special as fsp
    >>> fsp.gammaln(5.0), fnx.grad(fsp.gammaln)(1.0)
    (Array(3.1780539, dtype=float32), Array(-0.5772157, dtype=float32))
    """)
expit = unary_fn(expit_p, kinds="f", doc="""The logistic sigmoid ``1 / (1 + exp(-x))``, without overflow.

    >>> import fnx.scipy.special as fsp
    >>> fsp.expit(0.0)
    Array(0.5, dtype=float32)
    """)
log_expit = unary_fn(log_expit_p, kinds="f", doc="``log(expit(x))``, accurate for large negative and positive x.")
logit = unary_fn(logit_p, kinds="f", doc="The inverse of :func:`expit`, ``log(p / (1 - p))``.")
xlogy = binary_fn(xlogy_p, result=_float_result, doc="""``x * log(y)``, and 0 where ``x == 0`` (even at ``y == 0``).

    >>> import fnx.scipy.special as fsp
    >>> fsp.xlogy(0.0, 0.0)
    Array(0., dtype=float32)
    """)
xlog1py = binary_fn(xlog1py_p, result=_float_result, doc="``x * log1p(y)``, and 0 where ``x == 0``.")


def polygamma(n, x):
    """The n-th derivative of :func:`digamma`, as ``scipy.special.polygamma``.

    ``n`` is a non-negative integer, or an array of them (of any numeric dtype, with
    integral values, known when called) broadcast against ``x``. Differentiable in
    ``x`` to any order (the derivative is ``polygamma(n + 1, x)``).

    >>> import fnx.scipy.special as fsp
    >>> fsp.polygamma(1, 1.0)  # pi^2 / 6
    Array(1.644934, dtype=float32)
    """
    from ..numpy import broadcast_to, where
    orders = np.asarray(n) if not isinstance(n, (bool, np.bool_)) else None
    if (orders is None or orders.dtype.kind not in "iuf" or not np.all(np.isfinite(orders))
            or np.any(orders != np.round(orders)) or np.any(orders < 0)):
        raise ValueError(f"polygamma: the order n must be a non-negative integer or an array of them, got {n!r}")
    x = _float("polygamma", x)
    if orders.ndim == 0:
        return polygamma_p.bind(x, n=int(orders))
    shape = np.broadcast_shapes(orders.shape, x.shape)
    x, orders = broadcast_to(x, shape), np.broadcast_to(orders, shape)
    out = None
    for k in np.unique(orders):  # one pass per distinct order, each selected where it is asked for
        part = polygamma_p.bind(x, n=int(k))
        out = part if out is None else where(asarray(orders == k, device=x.device), part, out)
    return out


def digamma(x):
    """The logarithmic derivative of the gamma function, as ``scipy.special.digamma``.

    >>> import fnx.scipy.special as fsp
    >>> fsp.digamma(1.0)  # minus the Euler-Mascheroni constant
    Array(-0.5772157, dtype=float32)
    """
    return polygamma_p.bind(_float("digamma", x), n=0)


psi = digamma


def ndtr(x):
    """The standard normal distribution function, ``erfc(-x / sqrt(2)) / 2``."""
    x = _float("ndtr", x)
    return 0.5 * erfc(-x / _SQRT2)


def entr(x):
    """Elementwise entropy ``-x log x``: 0 at 0 and -inf for negative x, as ``scipy.special.entr``."""
    from ..numpy import where
    x = _float("entr", x)
    neg = x < 0
    safe = where(neg, 1.0, x)
    return where(neg, -math.inf, -xlogy(safe, safe))


def _shifted_sum(fnp, a, axes, b=None):
    """``(m, s)`` with ``log(sum(b * exp(a))) = log(s) + m`` over ``axes`` (kept), ``m`` a constant maximum."""
    m = fnp.max(a, axis=axes, keepdims=True) if axes else a
    m = fnp.stop_gradient(fnp.where(fnp.isfinite(m), m, 0.0))
    e = fnp.exp(a - m)
    if b is not None:
        e = e * b
    return m, fnp.sum(e, axis=axes, keepdims=True)


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False, where=None):
    """``log(sum(b * exp(a), axis))`` without overflow, as ``scipy.special.logsumexp``.

    ``where`` (booleans broadcasting against ``a``) sums only those elements, as
    JAX's: a slice with none of them gives ``-inf``.

    The maximum is subtracted under ``stop_gradient``, so the gradient is exactly
    ``b * exp(a - out)`` (the softmax). With ``return_sign`` the result is
    ``(log|s|, sign(s))``, for weights ``b`` that make the sum ``s`` negative.

    >>> import fnx, fnx.numpy as fnp, fnx.scipy.special as fsp
    >>> x = fnp.array([1000., 1000.])
    >>> fsp.logsumexp(x), fnx.grad(fsp.logsumexp)(x)
    (Array(1000.6932, dtype=float32), Array([0.5, 0.5], dtype=float32))
    """
    from .. import numpy as fnp
    a = _float("logsumexp", a)
    if where is not None:
        # A weight of 0 leaves an element out; in its place goes the smallest kept value (0 when none
        # is kept), which can neither raise the maximum nor be inf or NaN.
        keep = fnp.broadcast_to(fnp.asarray(where, dtype=bool), a.shape)
        b = fnp.where(keep, 1.0 if b is None else b, 0.0)
        low = fnp.stop_gradient(fnp.min(fnp.where(keep, a, np.inf))) if a.size else 0.0
        a = fnp.where(keep, a, fnp.where(fnp.isfinite(low), low, 0.0))
    if b is not None:
        from ..numpy._base import canonicalize
        (a, b), _ = canonicalize("logsumexp", a, b, dtype=_float_result(dtypes.result_type(a, b)))
    axes = normalize_axes("logsumexp", axis, a.ndim)
    if any(a.shape[i] == 0 for i in axes):  # an empty sum: log(0) = -inf, of sign 0 (JAX's; scipy says -1)
        shape = tuple(1 if i in axes else d for i, d in enumerate(a.shape)) if keepdims else \
            tuple(d for i, d in enumerate(a.shape) if i not in axes)
        out = fnp.full(shape, -np.inf, dtype=a.dtype, device=a.device)
        return (out, fnp.zeros(shape, dtype=a.dtype, device=a.device)) if return_sign else out
    m, s = _shifted_sum(fnp, a, axes, b)
    if return_sign:
        sign = fnp.sign(s)
        s = fnp.abs(s)
    out = fnp.log(s) + m
    if not keepdims:
        shape = tuple(d for i, d in enumerate(a.shape) if i not in axes)
        out = fnp.reshape(out, shape)
        if return_sign:
            sign = fnp.reshape(sign, shape)
    return (out, sign) if return_sign else out


def _shift_by_max(xp, x, axes):
    """``(x - m, m, add)``: ``m`` the maximum over ``axes`` (kept; 0 where infinite) and the sum reducer.

    The largest entry keeps its full relative accuracy and ``exp`` cannot overflow.
    """
    # numpy's ufunc methods, not numpy.max/sum: their Python wrappers cost as much as these small reductions.
    maximum, add = (np.maximum.reduce, np.add.reduce) if xp is np else (xp.max, xp.sum)
    m = maximum(x, axis=axes, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    return x - m, m, add


def _log_softmax_impl(xp, x, *, axes):
    shifted, _, add = _shift_by_max(xp, x, axes)
    shifted -= xp.log(add(xp.exp(shifted), axis=axes, keepdims=True))
    return shifted


def _log_softmax_jvp(primals, tangents, *, axes):
    from .. import numpy as fnp
    (x,), (t,) = primals, tangents
    out = log_softmax_p.bind(x, axes=axes)
    return out, t - fnp.sum(fnp.exp(out) * t, axis=axes, keepdims=True)


def _log_softmax_vjp(ct, x, *, out, axes):
    from .. import numpy as fnp
    return (ct - fnp.exp(out) * fnp.sum(ct, axis=axes, keepdims=True),)


# One primitive rather than max, exp, sum and log: it is the last layer of most classifiers,
# and its derivative reads only the output (softmax = exp(out)).
log_softmax_p = defprim("log_softmax", impl=_log_softmax_impl, shape=same_shape, jvp=_log_softmax_jvp,
                        vjp=_log_softmax_vjp, residuals=("out",))
log_softmax_p.batch = batch_front(log_softmax_p, shift_axes)


def _softmax_impl(xp, x, *, axes):
    shifted, _, add = _shift_by_max(xp, x, axes)
    xp.exp(shifted, out=shifted)
    shifted /= add(shifted, axis=axes, keepdims=True)
    return shifted


def _softmax_jvp(primals, tangents, *, axes):
    from .. import numpy as fnp
    (x,), (t,) = primals, tangents
    out = softmax_p.bind(x, axes=axes)
    return out, out * (t - fnp.sum(out * t, axis=axes, keepdims=True))


def _softmax_vjp(ct, x, *, out, axes):
    from .. import numpy as fnp
    return (out * (ct - fnp.sum(ct * out, axis=axes, keepdims=True)),)


# softmax is its own primitive too, computed as JAX's and PyTorch's are (the shifted exponentials over
# their sum), in seven numpy calls where exp(log_softmax(x)) took nine, and one node instead of two for
# attention's weights; its derivative reads only the output.
softmax_p = defprim("softmax", impl=_softmax_impl, shape=same_shape, jvp=_softmax_jvp, vjp=_softmax_vjp,
                    residuals=("out",))
softmax_p.batch = batch_front(softmax_p, shift_axes)


# ----- softmax cross-entropy with class indices --------------------------------------------------
#
# ``logsumexp(x) - x[t]`` along the last axis, reduced, as one primitive: composed it is a
# log_softmax, a gather, a negation and a mean forward, and a scatter of the one-hot and
# softmax's own rule backward, for the loss that every classifier's training step ends in.
# ``reduction`` is "none" (a loss per row), "sum" or "mean" over every leading axis. Its second
# output is each row's ``logsumexp(x)``: the rule reads it to form ``softmax(x) = exp(x - lse)``
# without reducing ``x`` again. The gradient, ``softmax(x) - onehot(t)`` times the cotangent
# (plus ``softmax(x)`` times the second output's), is a primitive too, so it differentiates again.


@functools.lru_cache(maxsize=64)
def _row_numbers(n):
    rows = np.arange(n)
    rows.flags.writeable = False  # shared by every call: nothing may write into it
    return rows


def _rows_and_classes(xp, a, t):
    """``a`` as (rows, classes) and each row's index: the pairs ``a2[rows, t]`` address the targets."""
    rows = _row_numbers(t.size) if xp is np else xp.arange(t.size)
    if a.ndim == 2:  # (the common case; its targets are one row of class indices)
        return a, rows, t
    return a.reshape(-1, a.shape[-1]), rows, t.reshape(-1)


def _cross_entropy_impl(xp, x, t, *, reduction):
    # Every numpy call counts here: a classifier's step runs this once, on a small array. So on numpy a
    # reduced loss mends a row maximum that is not finite only when the total shows one (an infinite or NaN
    # maximum makes its row's loss NaN, so a finite total means there was none).
    on_numpy = xp is np
    maximum, add = (np.maximum.reduce, np.add.reduce) if on_numpy else (xp.max, xp.sum)
    m = maximum(x, axis=-1, keepdims=True)
    checked_later = on_numpy and reduction != "none"
    if not checked_later:
        m = xp.where(xp.isfinite(m), m, 0)
    shifted = x - m
    flat, rows, cols = _rows_and_classes(xp, shifted, t)
    log_sum = xp.log(add(xp.exp(shifted), axis=-1))
    picked = flat[rows, cols]
    losses = log_sum - (picked if x.ndim == 2 else picked.reshape(t.shape))
    if reduction != "none":
        total = add(losses, axis=None)
        if checked_later and not math.isfinite(total) and not np.isfinite(m).all():
            losses, lse = _cross_entropy_impl(xp, x, t, reduction="none")
            total = add(losses, axis=None)
            return xp.asarray(total / losses.size if reduction == "mean" else total, dtype=x.dtype), lse
        losses = xp.asarray(total / losses.size if reduction == "mean" else total, dtype=x.dtype)
    return xp.asarray(losses), xp.asarray(log_sum + m[..., 0])  # (one row's are scalars: made arrays again)


def _row_scale(ct, rows_shape, reduction):
    """The cotangent of each row's loss, shaped to broadcast along the class axis."""
    if reduction == "none":
        return ct[..., None]
    return ct / math.prod(rows_shape) if reduction == "mean" else ct


def _reduce_rows(per_row, reduction):
    from ..numpy import mean, sum as sum_
    return per_row if reduction == "none" else mean(per_row) if reduction == "mean" else sum_(per_row)


def _onehot(t, like):
    from ..numpy import arange, astype, equal, expand_dims
    return astype(equal(expand_dims(t, -1), arange(like.shape[-1], device=like.device)), like.dtype)


def _softmax_from(x, lse):
    from ..numpy import exp, expand_dims
    return exp(x - expand_dims(lse, -1))


def _cross_entropy_jvp(primals, tangents, *, reduction):
    from ..numpy import sum as sum_
    (x, t), (tx, _) = primals, tangents
    loss, lse = cross_entropy_p.bind(x, t, reduction=reduction)
    s = _softmax_from(x, lse)
    return (loss, lse), (_reduce_rows(sum_((s - _onehot(t, x)) * tx, axis=-1), reduction), sum_(s * tx, axis=-1))


def _cross_entropy_vjp(cts, x, t, *, out, reduction):
    ct, ct_lse = cts  # (None where nobody differentiated that output: the lse's usually)
    if ct is None:
        from ..numpy import zeros
        ct = zeros(out[0].shape, out[0].dtype, device=out[0].device)
    lse_ct = () if ct_lse is None else (ct_lse,)
    return cross_entropy_grad_p.bind(x, out[1], t, ct, *lse_ct, reduction=reduction), None


def _cross_entropy_batch(vals, bdims, *, reduction):
    from ..numpy import mean, sum as sum_
    x, t = move_to_front(vals, bdims)
    rows, lse = cross_entropy_p.bind(x, t, reduction="none")
    if reduction != "none":
        rows = (mean if reduction == "mean" else sum_)(rows, axis=tuple(range(1, rows.ndim)))
    return (rows, lse), (0, 0)


cross_entropy_p = defprim(
    "softmax_cross_entropy", impl=_cross_entropy_impl,
    shape=lambda x, t, *, reduction: (ShapedArray(x.shape[:-1] if reduction == "none" else (), x.dtype),
                                      ShapedArray(x.shape[:-1], x.dtype)),
    jvp=_cross_entropy_jvp, vjp=_cross_entropy_vjp, batch=_cross_entropy_batch, multiple_results=True,
    residuals=("inputs", "out1"), symbolic_zeros=True)


# The gradient as a function of its own operands: ``exp(x - lse) (c + ct_lse) - onehot(t) c`` with
# ``c`` each row's loss cotangent. Elementwise in x and lse, linear in the two cotangents. The lse's
# cotangent is an optional fifth operand: without it, it is zero (no (rows,) zeros to build and add).

def _cross_entropy_grad_impl(xp, x, lse, t, ct, ct_lse=None, *, reduction):
    g = xp.subtract(x, lse[..., None])
    xp.exp(g, out=g)
    c = _row_scale(ct, t.shape, reduction)
    g *= c if ct_lse is None else c + ct_lse[..., None]
    flat, rows, cols = _rows_and_classes(xp, g, t)  # flat is a view: g is fresh and contiguous
    flat[rows, cols] -= c.reshape(-1) if reduction == "none" else c
    return g


def _cross_entropy_grad_jvp(primals, tangents, *, reduction):
    from ..numpy import expand_dims
    (x, lse, t, ct, *lse_ct), (tx, tlse, _, tct, *lse_tangent) = primals, tangents
    out = cross_entropy_grad_p.bind(*primals, reduction=reduction)
    tct_lse = lse_tangent[0] if lse_tangent else None
    s = _softmax_from(x, lse)
    terms = []
    if tx is not None or tlse is not None:  # d exp(x - lse) = exp(x - lse) (dx - dlse)
        d = tx if tlse is None else (-expand_dims(tlse, -1) if tx is None else tx - expand_dims(tlse, -1))
        terms.append(s * d * _cotangent_scale(ct, lse_ct, t.shape, reduction))
    if tct is not None:
        terms.append((s - _onehot(t, x)) * _row_scale(tct, t.shape, reduction))
    if tct_lse is not None:
        terms.append(s * expand_dims(tct_lse, -1))
    tangent = terms[0]
    for term in terms[1:]:
        tangent = tangent + term
    return out, tangent


def _cotangent_scale(ct, lse_ct, rows_shape, reduction):
    """What multiplies ``exp(x - lse)`` in the gradient: the row's loss cotangent plus the lse's (if given)."""
    from ..numpy import expand_dims
    c = _row_scale(ct, rows_shape, reduction)
    return c + expand_dims(lse_ct[0], -1) if lse_ct else c


def _cross_entropy_grad_vjp(g, x, lse, t, ct, *lse_ct, out, reduction):
    from ..numpy import sum as sum_
    s = _softmax_from(x, lse)
    dx = g * s * _cotangent_scale(ct, lse_ct, t.shape, reduction)
    dct = _reduce_rows(sum_(g * (s - _onehot(t, x)), axis=-1), reduction)
    return (dx, -sum_(dx, axis=-1), None, dct) + ((sum_(g * s, axis=-1),) if lse_ct else ())


def _cross_entropy_grad_batch(vals, bdims, *, reduction):
    from ..numpy import broadcast_to, reshape
    x, lse, t, ct, *lse_ct = move_to_front(vals, bdims)
    if reduction != "none":  # one reduced cotangent per batch entry becomes one per row
        ct = broadcast_to(reshape(ct, ct.shape + (1,) * (t.ndim - 1)), t.shape)
        if reduction == "mean":
            ct = ct / math.prod(t.shape[1:])
    return cross_entropy_grad_p.bind(x, lse, t, ct, *lse_ct, reduction="none"), 0


cross_entropy_grad_p = defprim(
    "softmax_cross_entropy_grad", impl=_cross_entropy_grad_impl, shape=same_shape,
    jvp=_cross_entropy_grad_jvp, vjp=_cross_entropy_grad_vjp, batch=_cross_entropy_grad_batch,
    residuals=("inputs",))


def log_softmax(x, axis=None):
    """``x - logsumexp(x, axis)``, as ``scipy.special.log_softmax`` (all axes by default).

    >>> import fnx, fnx.numpy as fnp, fnx.scipy.special as fsp
    >>> fsp.log_softmax(fnp.array([0., 0., -fnp.inf]))
    Array([-0.6931472, -0.6931472,       -inf], dtype=float32)
    """
    x = _float("log_softmax", x)
    axes = normalize_axes("log_softmax", axis, x.ndim)
    if not axes:  # each entry is a distribution of its own: log(1)
        from ..numpy import zeros_like
        return zeros_like(x)
    return log_softmax_p.bind(x, axes=axes)


def softmax(x, axis=None):
    """``exp(x) / sum(exp(x), axis)`` without overflow, as ``scipy.special.softmax`` (all axes by default).

    >>> import fnx.scipy.special as fsp
    >>> fsp.softmax([0., 0.])
    Array([0.5, 0.5], dtype=float32)
    """
    x = _float("softmax", x)
    axes = normalize_axes("softmax", axis, x.ndim)
    if not axes:  # each entry is a distribution of its own
        from ..numpy import ones_like
        return ones_like(x)
    return softmax_p.bind(x, axes=axes)


# ===== gamma-function family, Bessel functions, incomplete gamma, Hurwitz zeta =====================
#
# Compositions first: gamma, beta and their relatives are exp/log of ``gammaln`` with the sign of the
# gamma function restored, so they differentiate through ``gammaln' = digamma`` with no rules of their
# own. The modified Bessel functions are fnx.numpy's primitives (fnx/numpy/bessel.py). The regularized
# incomplete gamma functions and the Hurwitz zeta function need iterations (a power series or a
# continued fraction; an Euler-Maclaurin sum), so each is a primitive computed in float64 with the
# derivative in its second argument; the derivative in the first is not implemented (an error says so).

from ..numpy.bessel import i0_p, i0e_p, i1_p, i1e_p  # noqa: E402

__all__ += ["gamma", "gammasgn", "loggamma", "beta", "betaln", "factorial", "poch", "multigammaln", "i0", "i0e",
            "i1", "i1e", "gammainc", "gammaincc", "zeta", "log_ndtr", "kl_div", "rel_entr", "betainc", "comb"]


def betainc(a, b, x):
    """The regularized incomplete beta function ``I_x(a, b)``, as ``scipy.special.betainc``: 0 for ``x <= 0``,
    1 for ``x >= 1``, NaN where ``a`` or ``b`` is not positive; differentiable in all three.

    >>> import fnx.scipy.special as fsp
    >>> round(float(fsp.betainc(2.0, 3.0, 0.4)), 6)
    0.5248
    """
    from .stats._core import betainc as regularized  # (the continued fraction lives beside its users)
    return regularized(a, b, x)


def comb(N, k, *, exact=False, repetition=False):
    """The number of ways to choose ``k`` of ``N``, ``exp(gammaln(N + 1) - gammaln(k + 1) - gammaln(N - k + 1))``,
    as ``scipy.special.comb`` with ``exact=False`` (0 where ``k < 0`` or ``k > N``); ``repetition`` counts
    combinations with repetition, ``comb(N + k - 1, k)``. ``exact=True`` is refused: it needs Python ints.

    >>> import fnx.scipy.special as fsp
    >>> round(float(fsp.comb(5.0, 2.0)), 4)  # through gammaln, in float32
    10.0
    """
    from .. import numpy as fnp
    if exact:
        raise ValueError("comb: exact=True returns a Python int; use math.comb for that")
    from .stats._core import promote_args_inexact
    N, k = fnp.broadcast_arrays(*promote_args_inexact("comb", N, k))
    if repetition:
        N = N + k - 1
    ok = (k >= 0) & (k <= N) & (N >= 0)
    safe_n, safe_k = fnp.where(ok, N, 1.0), fnp.where(ok, k, 0.0)
    value = fnp.exp(_gammaln_combination(lambda n, k: gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1),
                                         safe_n, safe_k))
    return fnp.where(ok, value, 0.0)


def _gamma_sign(x):
    """The sign of Gamma(x): 1 for x > 0 (and +0), -1 for -0, alternating on the negative axis, nan at the
    negative integers. Piecewise constant, so it carries no derivative."""
    from .. import numpy as fnp
    x = fnp.stop_gradient(x)
    finite = fnp.where(fnp.isfinite(x), x, 0.5)
    odd = fnp.equal(fnp.remainder(fnp.floor(finite), 2.0), 1.0)
    neg = fnp.where(fnp.equal(x, fnp.floor(x)), np.nan, fnp.where(odd, -1.0, 1.0))
    zero = fnp.where(fnp.signbit(x), -1.0, 1.0)
    out = fnp.where(fnp.greater(x, 0), 1.0, fnp.where(fnp.equal(x, 0), zero, neg))
    return fnp.astype(fnp.where(fnp.isnan(x), np.nan, out), x.dtype)


def gammasgn(x):
    """The sign of the gamma function, as ``scipy.special.gammasgn`` (nan at the poles x = -1, -2, ...).

    >>> import numpy as np, fnx.scipy.special as fsp
    >>> fsp.gammasgn(np.array([0.5, -0.5, -1.5]))
    Array([ 1., -1.,  1.], dtype=float64)
    """
    return _gamma_sign(_float("gammasgn", x))


def gamma(x):
    """The gamma function, as ``scipy.special.gamma``: ``exp(gammaln(x))`` times its sign; +-inf at 0 and
    +0/-0, nan at the negative integers, inf past 171.6. Differentiable (``gamma' = gamma * digamma``).

    >>> import fnx.scipy.special as fsp
    >>> fsp.gamma(5.0), fsp.gamma(0.5) ** 2
    (Array(24., dtype=float32), Array(3.1415925, dtype=float32))
    """
    x = _float("gamma", x)
    return exp(gammaln(x)) * _gamma_sign(x)


def loggamma(x):
    """``log(gamma(x))`` for real ``x``, as ``scipy.special.loggamma``: nan for negative x (whose gamma may be
    negative; :func:`gammaln` gives ``log|gamma|``).

    >>> import fnx.scipy.special as fsp
    >>> fsp.loggamma(3.0)
    Array(0.6931472, dtype=float32)
    """
    from ..numpy import less, where
    x = _float("loggamma", x)
    return where(less(x, 0), np.nan, gammaln(x))


def betaln(a, b):
    """``log|B(a, b)|``, with ``B(a, b) = gamma(a) gamma(b) / gamma(a + b)``, as ``scipy.special.betaln``.

    >>> import fnx.scipy.special as fsp
    >>> fsp.betaln(1.0, 2.0)
    Array(-0.6931472, dtype=float32)
    """
    from ..numpy._base import canonicalize
    (a, b), _ = canonicalize("betaln", _float("betaln", a), _float("betaln", b),
                            dtype=dtypes.result_type(_float("betaln", a), _float("betaln", b)))
    return _gammaln_combination(lambda a, b: gammaln(a) + gammaln(b) - gammaln(a + b), a, b)


def _gammaln_combination(fun, *args):
    """``fun(*args)`` computed in float64 and given back in the arguments' float dtype: a difference of
    ``gammaln`` values, each rounded to float32 first, would lose every digit for large arguments."""
    from ..numpy import astype
    dt = args[0].dtype
    if dt.kind != "f" or dt.itemsize >= 8:
        return fun(*args)
    return astype(fun(*(astype(x, dtypes.float64) for x in args)), dt)


def beta(a, b):
    """The beta function ``gamma(a) gamma(b) / gamma(a + b)``, as ``scipy.special.beta``. Differentiable.

    >>> import fnx.scipy.special as fsp
    >>> fsp.beta(2.0, 3.0)
    Array(0.08333334, dtype=float32)
    """
    from ..numpy import isnan, where
    from ..numpy._base import canonicalize
    a, b = _float("beta", a), _float("beta", b)
    (a, b), _ = canonicalize("beta", a, b, dtype=dtypes.result_type(a, b))
    sign = _gamma_sign(a) * _gamma_sign(b) * _gamma_sign(a + b)
    return exp(betaln(a, b)) * where(isnan(sign), 1.0, sign)


def factorial(n, exact=False):
    """``n!`` as ``gamma(n + 1)``, and 0 for negative ``n``, as ``scipy.special.factorial`` (``exact=True``
    is not supported, as in JAX).

    >>> import numpy as np, fnx.scipy.special as fsp
    >>> fsp.factorial(np.array([0, 3, 5]))
    Array([  1.,   6., 120.], dtype=float64)
    """
    from ..numpy import less, where
    if exact:
        raise NotImplementedError("factorial: exact=True is not supported; use math.factorial for exact integers")
    n = _float("factorial", n)
    safe = where(less(n, 0), 0.0, n)
    return where(less(n, 0), 0.0, exp(gammaln(safe + 1.0)))


def poch(z, m):
    """The Pochhammer symbol (rising factorial) ``gamma(z + m) / gamma(z)``, as ``scipy.special.poch``.
    Differentiable in both.

    >>> import fnx.scipy.special as fsp
    >>> fsp.poch(2.0, 3.0)
    Array(24., dtype=float32)
    """
    from ..numpy import equal, isnan, where
    from ..numpy._base import canonicalize
    z, m = _float("poch", z), _float("poch", m)
    (z, m), _ = canonicalize("poch", z, m, dtype=dtypes.result_type(z, m))
    sign = _gamma_sign(z + m) * _gamma_sign(z)
    out = exp(_gammaln_combination(lambda z, m: gammaln(z + m) - gammaln(z), z, m)) * where(isnan(sign), 1.0, sign)
    return where(equal(m, 0), 1.0, out)


def multigammaln(a, d):
    """The log of the multivariate gamma function of dimension ``d``,
    ``d (d - 1) / 4 log(pi) + sum_j gammaln(a - j / 2)`` for j = 0 .. d - 1, as ``scipy.special.multigammaln``.

    Raises:
      ValueError: for a non-positive integer ``d``, or (concrete ``a``) ``a <= (d - 1) / 2``.

    >>> import fnx.scipy.special as fsp
    >>> fsp.multigammaln(3.0, 2)
    Array(1.550195, dtype=float32)
    """
    from ..numpy._base import is_traced
    if not isinstance(d, (int, np.integer)) or isinstance(d, bool) or d < 1:
        raise ValueError(f"multigammaln: d must be a positive integer, got {d!r}")
    a = _float("multigammaln", a)
    if not is_traced(a) and np.any(np.asarray(a) <= 0.5 * (d - 1)):
        raise ValueError(f"multigammaln: condition a > (d - 1) / 2 = {0.5 * (d - 1)} is not met by a = {a}")
    out = d * (d - 1) / 4.0 * math.log(math.pi)
    for j in range(d):
        out = out + gammaln(a - j / 2.0)
    return out


i0 = unary_fn(i0_p, kinds="f", doc="""The modified Bessel function of the first kind of order 0, as
    ``scipy.special.i0``. Differentiable (``i0' = i1``).

    >>> import fnx.scipy.special as fsp
    >>> fsp.i0(1.0)
    Array(1.2660658, dtype=float32)
    """)
i0e = unary_fn(i0e_p, kinds="f", doc="""The exponentially scaled ``exp(-|x|) i0(x)``, as ``scipy.special.i0e``;
    finite for every x. Differentiable except at 0.""")
i1 = unary_fn(i1_p, kinds="f", doc="""The modified Bessel function of the first kind of order 1, as
    ``scipy.special.i1``. Differentiable (``i1' = i0 - i1 / x``).

    >>> import fnx.scipy.special as fsp
    >>> fsp.i1(1.0)
    Array(0.5651591, dtype=float32)
    """)
i1e = unary_fn(i1e_p, kinds="f", doc="""The exponentially scaled ``exp(-|x|) i1(x)``, as ``scipy.special.i1e``.
    Differentiable except at 0.""")


# ----- regularized incomplete gamma functions (Cephes igam/igamc, vectorised) ------------------------

_MACHEP = np.finfo(np.float64).eps / 2
_MAXITER = 10000


def _igam_prefactor(xp, a, x):
    """``x^a e^-x / Gamma(a)``, through logs."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return xp.exp(a * xp.log(x) - x - _gammaln(xp, a))


def _igam_series(xp, a, x):
    """P(a, x) by its power series, for x <= max(1, a)."""
    r, c, total = a.copy(), xp.ones_like(x), xp.ones_like(x)
    active = xp.ones(x.shape, dtype=bool)
    for _ in range(_MAXITER):
        r = r + 1.0
        c = xp.where(active, c * x / r, 0.0)
        total = total + c
        active = active & (xp.abs(c) > _MACHEP * xp.abs(total))
        if not active.any():
            break
    return total * _igam_prefactor(xp, a, x) / a


def _fraction_step(xp, current, pk, qk, pkm1, qkm1, active, big, biginv):
    """One step of a continued fraction's convergents (Cephes' loop, elementwise): the new value where it
    is still moving, the shifted and rescaled recurrence terms, and which entries have not converged."""
    nonzero = qk != 0
    r = pk / xp.where(nonzero, qk, 1.0)
    change = xp.where(nonzero, xp.abs((current - r) / xp.where(r == 0, 1.0, r)), 1.0)
    current = xp.where(active & nonzero, r, current)
    scale = xp.where(xp.abs(pk) > big, biginv, 1.0)
    terms = (pkm1 * scale, pk * scale, qkm1 * scale, qk * scale)
    return current, terms, active & (change > _MACHEP)


def _igamc_fraction(xp, a, x):
    """Q(a, x) by its continued fraction, for x > max(1, a)."""
    big, biginv = 4.503599627370496e15, 2.22044604925031308085e-16
    y, z, c = 1.0 - a, x + (1.0 - a) + 1.0, xp.zeros_like(x)
    pkm2, qkm2, pkm1, qkm1 = xp.ones_like(x), x.copy(), x + 1.0, z * x
    ans = pkm1 / qkm1
    active = xp.ones(x.shape, dtype=bool)
    for _ in range(_MAXITER):
        c, y, z = c + 1.0, y + 1.0, z + 2.0
        yc = y * c
        pk, qk = pkm1 * z - pkm2 * yc, qkm1 * z - qkm2 * yc
        ans, (pkm2, pkm1, qkm2, qkm1), active = _fraction_step(xp, ans, pk, qk, pkm1, qkm1, active, big, biginv)
        if not active.any():
            break
    return ans * _igam_prefactor(xp, a, x)


def _igam_pair(xp, a, x):
    """(P, Q) for a > 0, x > 0, each from the method accurate for it."""
    use_series = (x <= 1.0) | (x <= a)
    xs = xp.where(use_series, x, xp.minimum(x, a))  # each method on arguments in its own range
    xf = xp.where(use_series, xp.maximum(a, 1.0) + 1.0, x)
    p_series = _igam_series(xp, a, xs)
    q_fraction = _igamc_fraction(xp, a, xf)
    p = xp.where(use_series, p_series, 1.0 - q_fraction)
    q = xp.where(use_series, 1.0 - p_series, q_fraction)
    return p, q


def _igam_impl(upper):
    def impl(xp, a, x):
        a, x = xp.broadcast_arrays(xp.asarray(a, dtype=xp.float64), xp.asarray(x, dtype=xp.float64))
        bad = (a < 0) | (x < 0) | xp.isnan(a) | xp.isnan(x)
        zero_a = a == 0
        inner = ~bad & ~zero_a & (x > 0) & xp.isfinite(x) & xp.isfinite(a)
        sa, sx = xp.where(inner, a, 1.0), xp.where(inner, x, 1.0)
        p, q = _igam_pair(xp, sa, sx)
        out = q if upper else p
        # the edges, as scipy: x = 0 gives P = 0; a = 0 (x > 0) gives P = 1; x = inf gives P = 1
        p_edge = xp.where(zero_a & (x > 0), 1.0, xp.where(x == xp.inf, 1.0, 0.0))
        edge = 1.0 - p_edge if upper else p_edge
        out = xp.where(inner, out, edge)
        return xp.where(bad | (zero_a & (x == 0)), xp.nan, out)
    return lambda xp, a, x: impl(xp, a, x).astype(xp.result_type(a, x))


def _igam_dx(a, x, out):
    """d/dx P(a, x) = x^(a-1) e^-x / Gamma(a); at x = 0, inf for a < 1, 1 / Gamma(1) for a = 1 and 0 above."""
    from ..numpy import where, equal
    at_zero = equal(x, 0)
    safe = where(at_zero, 1.0, x)
    edge = where(a < 1, math.inf, where(equal(a, 1), exp(-gammaln(a)), 0.0))
    return where(at_zero, edge, exp((a - 1.0) * log(safe) - safe - gammaln(a)))


def _no_derivative_in(opname, what):
    def rule(*args, **kwargs):
        raise NotImplementedError(f"{opname}: the derivative in {what} is not implemented (JAX does not have it "
                                  f"in closed form either); differentiate in the second argument only")
    return rule


gammainc_p = binary("gammainc", _igam_impl(False), _no_derivative_in("gammainc", "a"),
                    lambda a, x, out: _igam_dx(a, x, out), domain="positive", kind=None)
gammaincc_p = binary("gammaincc", _igam_impl(True), _no_derivative_in("gammaincc", "a"),
                     lambda a, x, out: -_igam_dx(a, x, out), domain="positive", kind=None)
gammainc = binary_fn(gammainc_p, result=_float_result, doc="""The regularized lower incomplete gamma function
    ``P(a, x)``, the integral of ``t^(a-1) e^-t`` from 0 to x over ``Gamma(a)``, as ``scipy.special.gammainc``.

    Computed in float64 by Cephes' power series (x <= max(1, a)) or continued
    fraction. nan for negative arguments. Differentiable in ``x``
    (``x^(a-1) e^-x / Gamma(a)``); the derivative in ``a`` raises
    NotImplementedError.

    >>> import fnx.scipy.special as fsp
    >>> fsp.gammainc(1.0, 0.5)  # 1 - exp(-0.5)
    Array(0.39346933, dtype=float32)
    """)
gammaincc = binary_fn(gammaincc_p, result=_float_result, doc="""The regularized upper incomplete gamma function
    ``Q(a, x) = 1 - P(a, x)``, accurate where P is near 1, as ``scipy.special.gammaincc``. Differentiable
    in ``x``.

    >>> import fnx.scipy.special as fsp
    >>> fsp.gammaincc(1.0, 0.5)  # exp(-0.5)
    Array(0.60653067, dtype=float32)
    """)


# ----- Hurwitz zeta (Cephes zeta.c: Euler-Maclaurin summation) ------------------------------------------

_ZETA_A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9, 7.47242496e10,
           -2.950130727918164224e12, 1.1646782814350067249e14, -4.5979787224074726105e15,
           1.8152105401943546773e17, -7.1661652561756670113e18)  # (2j)! / B_2j


def _zeta(xp, x, q):
    """sum over k >= 0 of (q + k)^-x: direct terms until q + N > 9 (at least 9 of them), then the
    Euler-Maclaurin tail."""
    x, q = xp.broadcast_arrays(xp.asarray(x, dtype=xp.float64), xp.asarray(q, dtype=xp.float64))
    nan_q = (q <= 0) & (q != xp.floor(q)) & (x != xp.floor(x))
    pole = (x == 1) | ((q <= 0) & (q == xp.floor(q)))
    bad = (x < 1) | xp.isnan(x) | xp.isnan(q) | nan_q
    ok = ~(pole | bad)
    x, q = xp.where(ok, x, 2.0), xp.where(ok, q, 1.0)
    n = xp.maximum(9.0, xp.ceil(9.0 - q) + 1.0)  # q + n > 9
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        s = xp.zeros_like(x)
        for k in range(int(n.max()) if n.size else 0):
            s = s + xp.where(k < n, xp.power(q + k, -x), 0.0)
        w = q + n
        b = xp.power(w, -x)
        s = s + b * w / (x - 1.0) + 0.5 * b
        a, kk = xp.ones_like(x), 0.0
        active = xp.ones(x.shape, dtype=bool)
        for c in _ZETA_A:
            a = a * (x + kk)
            b = b / w
            t = a * b / c
            s = xp.where(active, s + t, s)
            active = active & (xp.abs(t) > _MACHEP * xp.abs(s))
            kk += 1.0
            a = a * (x + kk)
            b = b / w
            kk += 1.0
    return xp.where(pole, xp.inf, xp.where(bad, xp.nan, s))


zeta_p = binary("zeta", lambda xp, x, q: _zeta(xp, x, q).astype(xp.result_type(x, q)),
                _no_derivative_in("zeta", "x"), lambda x, q, out: -x * zeta_p.bind(x + 1.0, q),
                domain="positive", kind=None)
_zeta_fn = binary_fn(zeta_p, result=_float_result)


def _borwein_weights(n=40):
    """P. Borwein's weights ``(d_k - d_n) / d_n`` for the alternating series of the eta function."""
    terms = [math.factorial(n + i - 1) * 4 ** i / (math.factorial(n - i) * math.factorial(2 * i)) for i in range(n + 1)]
    d = np.cumsum([n * t for t in terms])
    return tuple(float((d[k] - d[n]) / d[n]) for k in range(n))


_BORWEIN = _borwein_weights()


def _riemann_below_one(x):
    """The Riemann zeta function for x < 1: on (0, 1) through the eta function (Borwein's series,
    ``zeta = eta / (1 - 2^(1-x))``), below 0 by the functional equation
    ``zeta(x) = 2^x pi^(x-1) sin(pi x / 2) gamma(1 - x) zeta(1 - x)``, and -1/2 at 0."""
    from .. import numpy as fnp
    s_ok = fnp.logical_and(x > 0, x < 1)  # each formula sees arguments in its own range only
    eta = 0.0
    sx = fnp.where(s_ok, x, 0.5)
    for k, w in enumerate(_BORWEIN):
        eta = eta + (-1.0) ** (k + 1) * w * (k + 1.0) ** -sx
    strip = eta / (1.0 - 2.0 ** (1.0 - sx))
    neg_ok = fnp.logical_and(x < 0, fnp.isfinite(x))
    rx = fnp.where(neg_ok, x, -1.0)
    mirrored = _zeta_fn(1.0 - rx, 1.0)
    negative = 2.0 ** rx * math.pi ** (rx - 1.0) * fnp.sin(0.5 * math.pi * rx) * gamma(1.0 - rx) * mirrored
    negative = fnp.where(fnp.equal(fnp.remainder(rx, 2.0), 0.0), 0.0, negative)  # the trivial zeros, exactly
    return fnp.where(s_ok, strip, fnp.where(neg_ok, negative, fnp.where(fnp.equal(x, 0), -0.5, np.nan)))


def zeta(x, q=None):
    """The Hurwitz zeta function ``sum_k (q + k)^-x`` (the Riemann zeta function when ``q`` is None), as
    ``scipy.special.zeta``: inf at x = 1 and at q = 0, -1, ...; nan for x < 1, except for the Riemann zeta
    function, which is continued below 1 by its functional equation.

    Computed in float64 by Euler-Maclaurin summation (Cephes). Differentiable
    in ``q`` (``-x zeta(x + 1, q)``); the derivative in ``x`` raises
    NotImplementedError.

    >>> import fnx.scipy.special as fsp
    >>> fsp.zeta(2.0)  # pi^2 / 6
    Array(1.644934, dtype=float32)
    """
    with data_device(x, q):
        return _zeta_here(x, q)


def _zeta_here(x, q=None):
    if q is None:
        from ..numpy import less, where
        x = _float("zeta", x)
        return where(less(x, 1.0), _riemann_below_one(x), _zeta_fn(where(less(x, 1.0), 2.0, x), 1.0))
    return _zeta_fn(x, q)


# ----- log of the normal distribution function, and relative entropies -----------------------------------


def log_ndtr(x):
    """``log(ndtr(x))``, accurate in both tails, as ``scipy.special.log_ndtr``.

    Below -20 (-10 in float32) an asymptotic series of ``erfc`` is summed in
    logs; above 0 it is ``log1p(-ndtr(-x))``; between, ``log(ndtr(x))``.
    Differentiable.

    >>> import numpy as np, fnx.scipy.special as fsp
    >>> fsp.log_ndtr(np.array([-40., 0.]))
    Array([-8.04608442e+02, -6.93147181e-01], dtype=float64)
    """
    from .. import numpy as fnp
    x = _float("log_ndtr", x)
    lower, upper = (-20.0, 0.0) if x.dtype == dtypes.float64 else (-10.0, 0.0)
    # Each branch sees only arguments in its own range, chosen by where: its derivative goes whole to the branch
    # that is taken, where minimum/clip would split it at the boundaries (halving d/dx at x = 0).
    below, above = x < lower, x > upper
    low = fnp.where(below, x, lower)
    mid = fnp.where(below | above, upper, x)
    high = fnp.where(above, x, upper)
    # log(ndtr(x)) = -x^2/2 - log(-x) - log(2 pi)/2 + log(1 + sum_n (-1)^n (2n-1)!! / x^(2n)) for x << 0
    x2 = low * low
    term, series = fnp.ones_like(low), fnp.zeros_like(low)
    for n in range(1, 11):
        term = term * -(2 * n - 1) / x2
        series = series + term
    tail = -0.5 * x2 - log(-low) - 0.5 * math.log(2 * math.pi) + log1p(series)
    middle = log(ndtr(mid))
    top = log1p(-ndtr(-high))
    return fnp.where(below, tail, fnp.where(above, top, middle))


def _entropy_args(opname, x, y):
    from ..numpy._base import canonicalize
    x, y = _float(opname, x), _float(opname, y)
    (x, y), _ = canonicalize(opname, x, y, dtype=dtypes.result_type(x, y))
    return x, y


def rel_entr(x, y):
    """Elementwise relative entropy ``x log(x / y)``: 0 where x = 0 and y >= 0, inf where either is
    negative (or y = 0 < x), as ``scipy.special.rel_entr``. Differentiable for x, y > 0.

    >>> import numpy as np, fnx.scipy.special as fsp
    >>> fsp.rel_entr(np.array([0., 1., 1.]), np.array([1., 2., 0.]))
    Array([ 0.        , -0.69314718,         inf], dtype=float64)
    """
    from .. import numpy as fnp
    x, y = _entropy_args("rel_entr", x, y)
    both = fnp.logical_and(x > 0, y > 0)
    sx, sy = fnp.where(both, x, 1.0), fnp.where(both, y, 1.0)
    zero = fnp.logical_and(fnp.equal(x, 0), y >= 0)
    out = fnp.where(both, sx * log(sx / sy), fnp.where(zero, 0.0, np.inf))
    return fnp.where(fnp.logical_or(fnp.isnan(x), fnp.isnan(y)), np.nan, out)


def kl_div(x, y):
    """Elementwise ``x log(x / y) - x + y``: ``y`` where x = 0 and y >= 0, inf where either is negative
    (or y = 0 < x), as ``scipy.special.kl_div``. Differentiable for x, y > 0.

    >>> import numpy as np, fnx.scipy.special as fsp
    >>> fsp.kl_div(np.array([0., 1.]), np.array([1., 2.]))
    Array([1.        , 0.30685282], dtype=float64)
    """
    from .. import numpy as fnp
    x, y = _entropy_args("kl_div", x, y)
    both = fnp.logical_and(x > 0, y > 0)
    sx, sy = fnp.where(both, x, 1.0), fnp.where(both, y, 1.0)
    zero = fnp.logical_and(fnp.equal(x, 0), y >= 0)
    out = fnp.where(both, sx * log(sx / sy) - sx + sy, fnp.where(zero, y, np.inf))
    return fnp.where(fnp.logical_or(fnp.isnan(x), fnp.isnan(y)), np.nan, out)


# ----- exponential integrals (Cephes expn.c, and Ei by its series and asymptotic expansion) -------------

__all__ += ["exp1", "expi", "expn"]

_EULER = 0.5772156649015328606


def _expn_positive(xp, x, n):
    """E_n(x) for x > 0 (finite, below the underflow of exp(-x)): the power series for x <= 1, the continued
    fraction above."""
    small = x <= 1.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # power series (Cephes), on x clipped into (0, 1]
        xs = xp.where(small, x, 1.0)
        psi = -_EULER - xp.log(xs) + sum(1.0 / i for i in range(1, n))
        z = -xs
        xk, yk, pk = 0.0, xp.ones_like(xs), 1.0 - n
        ans = xp.zeros_like(xs) if n == 1 else xp.full_like(xs, 1.0 / pk)
        active = xp.ones(xs.shape, dtype=bool)
        for _ in range(_MAXITER):
            xk += 1.0
            yk = yk * z / xk
            pk += 1.0
            if pk != 0:
                ans = xp.where(active, ans + yk / pk, ans)
            t = xp.where(ans != 0, xp.abs(yk / xp.where(ans != 0, ans, 1.0)), 1.0)
            active = active & (t > _MACHEP)
            if not active.any():
                break
        series = xp.power(z, n - 1) * psi / math.gamma(n) - ans
        # continued fraction (Cephes), on x clipped into (1, inf)
        xc = xp.where(small, 2.0, x)
        big, biginv = 4.503599627370496e15, 2.22044604925031308085e-16
        pkm2, qkm2, pkm1, qkm1 = xp.ones_like(xc), xc.copy(), xp.ones_like(xc), xc + n
        frac = pkm1 / qkm1
        active = xp.ones(xc.shape, dtype=bool)
        for k in range(2, _MAXITER):
            if k % 2:
                yk, xk = 1.0, n + (k - 1) / 2.0
            else:
                yk, xk = xc, k / 2.0
            pk, qk = pkm1 * yk + pkm2 * xk, qkm1 * yk + qkm2 * xk
            frac, (pkm2, pkm1, qkm2, qkm1), active = _fraction_step(xp, frac, pk, qk, pkm1, qkm1, active, big,
                                                                     biginv)
            if not active.any():
                break
        fraction = frac * xp.exp(-xc)
    return xp.where(small, series, fraction)


def _expn(xp, x, *, n):
    x = xp.asarray(x, dtype=xp.float64)
    inner = (x > 0) & (x < 709.0)
    xs = xp.where(inner, x, 1.0)
    with np.errstate(divide="ignore", over="ignore"):
        out = xp.exp(-xs) / xs if n == 0 else _expn_positive(xp, xs, n)
        at_zero = xp.inf if n < 2 else 1.0 / (n - 1)
    out = xp.where(inner, out, xp.where(x == 0, at_zero, 0.0))
    return xp.where((x < 0) | xp.isnan(x), xp.nan, out)


def _expn_deriv(x, out, n):
    """d/dx E_n = -E_(n-1); for n = 0, E_0 = exp(-x) / x gives -E_0 (1 + 1 / x)."""
    return -out * (1.0 + 1.0 / x) if n == 0 else -expn_p.bind(x, n=n - 1)


def _expn_jvp(primals, tangents, *, n):
    (x,), (t,) = primals, tangents
    out = expn_p.bind(x, n=n)
    return out, t * _expn_deriv(x, out, n)


expn_p = defprim("expn", impl=_in_float64(_expn), shape=same_shape, jvp=_expn_jvp,
                 vjp=lambda ct, x, *, out, n: (ct * _expn_deriv(x, out, n),), domain="positive",
                 batch=lambda vals, bdims, *, n: (expn_p.bind(vals[0], n=n), bdims[0]))


def _expi(xp, x):
    """Ei(x): -E_1(-x) below 0; the series gamma + log x + sum x^k / (k k!) up to 40, the asymptotic
    expansion exp(x) / x sum k! / x^k above (its smallest term there is below float64's resolution)."""
    x = xp.asarray(x, dtype=xp.float64)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        neg = xp.where(x < 0, -x, 1.0)
        negative = -_expn(xp, neg, n=1)
        xs = xp.where((x > 0) & (x <= 40.0), x, 1.0)
        term, total = xp.ones_like(xs), xp.zeros_like(xs)
        for k in range(1, 200):
            term = term * xs / k
            total = total + term / k
            if np.all(term / k < _MACHEP * total):
                break
        series = _EULER + xp.log(xs) + total
        xl = xp.where(x > 40.0, x, 50.0)
        term, total = xp.ones_like(xl), xp.ones_like(xl)
        for k in range(1, 41):  # for x > 40 the terms fall all the way to k = 40
            term = term * k / xl
            total = total + term
        asym = xp.exp(xl) / xl * total
        out = xp.where(x < 0, negative, xp.where(x <= 40.0, series, asym))
        out = xp.where(x == 0, -xp.inf, xp.where(x == xp.inf, xp.inf, out))
    return xp.where(xp.isnan(x), xp.nan, out)


expi_p = unary("expi", _in_float64(_expi), lambda x, out: exp(x) / x, domain="positive")
exp1_p = unary("exp1", _in_float64(lambda xp, x: _expn(xp, x, n=1)), lambda x, out: -exp(-x) / x,
               domain="positive")

exp1 = unary_fn(exp1_p, kinds="f", doc="""The exponential integral ``E_1(x)``, the integral of ``exp(-x t) / t``
    from 1 to inf, as ``scipy.special.exp1`` for real x: inf at 0, nan below. Differentiable
    (``-exp(-x) / x``).

    >>> import fnx.scipy.special as fsp
    >>> fsp.exp1(1.0)
    Array(0.21938394, dtype=float32)
    """)
expi = unary_fn(expi_p, kinds="f", doc="""The exponential integral ``Ei(x)``, the principal value of the
    integral of ``exp(t) / t`` up to x, as ``scipy.special.expi``: -inf at 0, ``-E_1(-x)`` below.
    Differentiable (``exp(x) / x``).

    >>> import fnx.scipy.special as fsp
    >>> fsp.expi(1.0)
    Array(1.8951179, dtype=float32)
    """)


def expn(n, x):
    """The generalized exponential integral ``E_n(x)``, the integral of ``exp(-x t) / t^n`` from 1 to inf,
    as ``scipy.special.expn`` (``n`` a non-negative Python int): ``1 / (n - 1)`` at 0 for n >= 2, nan
    for x < 0. Differentiable in ``x`` (``-E_(n-1)(x)``).

    >>> import fnx.scipy.special as fsp
    >>> fsp.expn(2, 1.0)
    Array(0.14849551, dtype=float32)
    """
    if hasattr(n, "dtype") and getattr(n, "ndim", 1) == 0 and n.dtype.kind in "iu":
        n = int(n)
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"expn: the order n must be a non-negative integer, got {n!r}")
    return expn_p.bind(_float("expn", x), n=int(n))


def erfcx(x):
    """The scaled complementary error function ``exp(x^2) erfc(x)``, as ``jax.scipy.special.erfcx``: finite for
    large positive ``x`` where the product would overflow (the same function as ``fnx.special.erfcx``).

    >>> import fnx.scipy.special as fsp
    >>> fsp.erfcx(30.0)
    Array(0.01879589, dtype=float32)
    """
    from ..special import erfcx as scaled
    return scaled(x)


__all__ += ["erfcx"]
