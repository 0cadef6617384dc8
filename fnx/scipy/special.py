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
import math

import numpy as np

from ..core import dtypes
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
    """The n-th derivative of :func:`digamma`, as ``scipy.special.polygamma`` (``n`` a non-negative int).

    Differentiable in ``x`` to any order (the derivative is ``polygamma(n + 1, x)``).

    >>> import fnx.scipy.special as fsp
    >>> fsp.polygamma(1, 1.0)  # pi^2 / 6
    Array(1.644934, dtype=float32)
    """
    if hasattr(n, "dtype") and getattr(n, "ndim", 1) == 0 and n.dtype.kind in "iu":
        n = int(n)
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise ValueError(f"polygamma: the order n must be a non-negative integer, got {n!r}")
    return polygamma_p.bind(_float("polygamma", x), n=n)


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


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """``log(sum(b * exp(a), axis))`` without overflow, as ``scipy.special.logsumexp``.

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
    if b is not None:
        from ..numpy._base import canonicalize
        (a, b), _ = canonicalize("logsumexp", a, b, dtype=_float_result(dtypes.result_type(a, b)))
    axes = normalize_axes("logsumexp", axis, a.ndim)
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


# ----- softmax cross-entropy with class indices --------------------------------------------------
#
# ``logsumexp(x) - x[t]`` along the last axis, reduced, as one primitive: composed it is a
# log_softmax, a gather, a negation and a mean forward, and a scatter of the one-hot and
# softmax's own rule backward, for the loss that every classifier's training step ends in.
# ``reduction`` is "none" (a loss per row), "sum" or "mean" over every leading axis. Its second
# output is each row's ``logsumexp(x)``: the rule reads it to form ``softmax(x) = exp(x - lse)``
# without reducing ``x`` again. The gradient, ``softmax(x) - onehot(t)`` times the cotangent
# (plus ``softmax(x)`` times the second output's), is a primitive too, so it differentiates again.


def _rows_and_classes(xp, a, t):
    """``a`` as (rows, classes) and each row's index: the pairs ``a2[rows, t]`` address the targets."""
    return a.reshape(-1, a.shape[-1]), xp.arange(t.size), t.reshape(-1)


def _cross_entropy_impl(xp, x, t, *, reduction):
    shifted, m, add = _shift_by_max(xp, x, -1)
    flat, rows, cols = _rows_and_classes(xp, shifted, t)
    log_sum = xp.log(add(xp.exp(shifted), axis=-1))
    lse = xp.asarray(log_sum + m[..., 0])  # one row's is a scalar, made an array again
    losses = xp.asarray(log_sum - flat[rows, cols].reshape(t.shape))
    if reduction != "none":
        total = add(losses, axis=None)
        losses = xp.asarray(total / losses.size if reduction == "mean" else total, dtype=x.dtype)
    return losses, lse


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
    ct, ct_lse = cts
    return cross_entropy_grad_p.bind(x, out[1], t, ct, ct_lse, reduction=reduction), None


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
    residuals=("inputs", "out1"))


# The gradient as a function of its own operands: ``exp(x - lse) (c + ct_lse) - onehot(t) c`` with
# ``c`` each row's loss cotangent. Elementwise in x and lse, linear in the two cotangents.

def _cross_entropy_grad_impl(xp, x, lse, t, ct, ct_lse, *, reduction):
    g = xp.subtract(x, lse[..., None])
    xp.exp(g, out=g)
    c = _row_scale(ct, t.shape, reduction)
    g *= c + ct_lse[..., None]
    flat, rows, cols = _rows_and_classes(xp, g, t)  # flat is a view: g is fresh and contiguous
    flat[rows, cols] -= c.reshape(-1) if reduction == "none" else c
    return g


def _cross_entropy_grad_jvp(primals, tangents, *, reduction):
    from ..numpy import expand_dims
    (x, lse, t, ct, ct_lse), (tx, tlse, _, tct, tct_lse) = primals, tangents
    out = cross_entropy_grad_p.bind(x, lse, t, ct, ct_lse, reduction=reduction)
    s = _softmax_from(x, lse)
    terms = []
    if tx is not None or tlse is not None:  # d exp(x - lse) = exp(x - lse) (dx - dlse)
        d = tx if tlse is None else (-expand_dims(tlse, -1) if tx is None else tx - expand_dims(tlse, -1))
        terms.append(s * d * (_row_scale(ct, t.shape, reduction) + expand_dims(ct_lse, -1)))
    if tct is not None:
        terms.append((s - _onehot(t, x)) * _row_scale(tct, t.shape, reduction))
    if tct_lse is not None:
        terms.append(s * expand_dims(tct_lse, -1))
    tangent = terms[0]
    for term in terms[1:]:
        tangent = tangent + term
    return out, tangent


def _cross_entropy_grad_vjp(g, x, lse, t, ct, ct_lse, *, out, reduction):
    from ..numpy import expand_dims, sum as sum_
    s = _softmax_from(x, lse)
    dx = g * s * (_row_scale(ct, t.shape, reduction) + expand_dims(ct_lse, -1))
    dct = _reduce_rows(sum_(g * (s - _onehot(t, x)), axis=-1), reduction)
    return dx, -sum_(dx, axis=-1), None, dct, sum_(g * s, axis=-1)


def _cross_entropy_grad_batch(vals, bdims, *, reduction):
    from ..numpy import broadcast_to, reshape
    x, lse, t, ct, ct_lse = move_to_front(vals, bdims)
    if reduction != "none":  # one reduced cotangent per batch entry becomes one per row
        ct = broadcast_to(reshape(ct, ct.shape + (1,) * (t.ndim - 1)), t.shape)
        if reduction == "mean":
            ct = ct / math.prod(t.shape[1:])
    return cross_entropy_grad_p.bind(x, lse, t, ct, ct_lse, reduction="none"), 0


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
    from ..numpy import exp as _exp
    return _exp(log_softmax(x, axis))
