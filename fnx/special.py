"""``torch.special``: PyTorch's special functions, names and arguments, over ``fnx.scipy.special``.

The functions are ``fnx.scipy.special``'s and ``fnx.numpy``'s (so each is
differentiable where the maths is, batches under ``vmap`` and compiles under
``jit``); what changes is PyTorch's surface:

- the argument is ``input`` (and ``other`` for the second), axes are ``dim`` and
  ``keepdim``, and ``softmax``/``log_softmax`` take ``dtype``;
- integer and boolean input computes in the default float dtype (float32), as
  PyTorch promotes it, where SciPy would use float64;
- ``logit`` takes ``eps`` (the input clamped to ``[eps, 1 - eps]``), ``round`` takes
  ``decimals``, ``sinc`` is the normalized ``sin(pi x) / (pi x)``, and ``zeta`` is
  always Hurwitz's ``zeta(input, other)``.

Two functions are new compositions: ``erfcx``, the scaled complementary error
function ``exp(x^2) erfc(x)``, is that product in float64 up to x = 7 and the
asymptotic series ``1 / (x sqrt(pi)) sum_k (-1)^k (2k - 1)!! / (2 x^2)^k`` above
(each branch sees only its own arguments, so neither overflows into the other's
gradient); ``spherical_bessel_j0`` is ``sin(x) / x``, by its Taylor series near 0.
``bessel_j0``/``bessel_j1`` and PyTorch's orthogonal polynomials are not provided
(``fnx.scipy.special`` has no Bessel functions of the first kind).
"""
import math

from . import numpy as fnp
from .core import dtypes
from .core.backend import data_device
from .scipy import special as _sp

__all__ = ["expit", "logit", "erf", "erfc", "erfcx", "erfinv", "gammaln", "digamma", "psi", "polygamma",
           "multigammaln", "gammainc", "gammaincc", "i0", "i0e", "i1", "i1e", "modified_bessel_i0",
           "modified_bessel_i1", "log_softmax", "softmax", "logsumexp", "xlogy", "xlog1py", "entr", "sinc", "round",
           "log1p", "expm1", "exp2", "ndtr", "ndtri", "log_ndtr", "zeta", "spherical_bessel_j0"]


def _float(input):
    """``input`` as an fnx array, integers and booleans in the default float dtype (PyTorch's promotion)."""
    x = fnp.asarray(input)
    return x.astype(dtypes.default_float()) if x.dtype.kind in "biu" else x


def _floats(input, other):
    """Both arguments in their common floating dtype; Python scalars are weak, integers become float32."""
    a = input if isinstance(input, (bool, int, float)) else fnp.asarray(input)
    b = other if isinstance(other, (bool, int, float)) else fnp.asarray(other)
    dt = dtypes.result_type(a, b)
    if dt.kind in "biu":
        dt = dtypes.default_float()
    with data_device(a, b):
        return fnp.asarray(a, dtype=dt), fnp.asarray(b, dtype=dt)


def _unary(name, fn, doc):
    def f(input):
        return fn(_float(input))
    f.__name__ = f.__qualname__ = name
    f.__doc__ = doc
    return f


# ----- error functions and the normal distribution ------------------------------------------------

erf = _unary("erf", _sp.erf, "The error function (``torch.special.erf``).")
erfc = _unary("erfc", _sp.erfc, "The complementary error function ``1 - erf(x)`` (``torch.special.erfc``).")
erfinv = _unary("erfinv", _sp.erfinv, "The inverse error function on (-1, 1) (``torch.special.erfinv``).")
ndtr = _unary("ndtr", _sp.ndtr, """The standard normal distribution function (``torch.special.ndtr``).

    >>> import fnx
    >>> fnx.special.ndtr(fnx.tensor([0]))
    Array([0.5], dtype=float32)
    """)
ndtri = _unary("ndtri", _sp.ndtri, "The standard normal quantile, the inverse of ``ndtr`` (``torch.special.ndtri``).")
log_ndtr = _unary("log_ndtr", _sp.log_ndtr, "``log(ndtr(x))``, accurate in both tails (``torch.special.log_ndtr``).")

_ERFCX_SWITCH = 7.0  # below: exp(x^2) erfc(x) in float64; above: the asymptotic series
_ERFCX_TERMS = 24    # enough for float64 accuracy from x = 7 on


def erfcx(input):
    """The scaled complementary error function ``exp(x^2) erfc(x)`` (``torch.special.erfcx``), finite for
    large positive ``x`` where the product would overflow; inf for ``x`` below about -26.6.

    >>> import fnx
    >>> fnx.special.erfcx(fnx.tensor([0.0, 30.0]))
    Array([1.        , 0.01879589], dtype=float32)
    """
    x = _float(input)
    dt = x.dtype
    x = x.astype(dtypes.float64)
    small = x < _ERFCX_SWITCH
    xs = fnp.where(small, x, 0.0)
    direct = fnp.exp(xs * xs) * _sp.erfc(xs)
    xl = fnp.where(small, _ERFCX_SWITCH, x)
    inv = 1.0 / xl
    t = 0.5 * inv * inv  # 1 / (2 x^2), without forming x^2
    term, series = fnp.ones_like(xl), fnp.ones_like(xl)
    for k in range(1, _ERFCX_TERMS + 1):
        term = term * (-(2 * k - 1) * t)
        series = series + term
    tail = inv / math.sqrt(math.pi) * series
    return fnp.where(small, direct, tail).astype(dt)


# ----- the sigmoid and its inverse ---------------------------------------------------------------

expit = _unary("expit", _sp.expit, """The logistic sigmoid ``1 / (1 + exp(-x))`` (``torch.special.expit``).

    >>> import fnx
    >>> fnx.special.expit(fnx.tensor([0.0]))
    Array([0.5], dtype=float32)
    """)


def logit(input, eps=None):
    """``log(p / (1 - p))`` (``torch.special.logit``), ``p`` clamped to ``[eps, 1 - eps]`` when ``eps`` is given.

    >>> import fnx
    >>> fnx.special.logit(fnx.tensor([0.5, 1.0]), eps=0.25)
    Array([0.       , 1.0986123], dtype=float32)
    """
    p = _float(input)
    if eps is not None:  # (PyTorch's derivative passes through on the closed interval, its ends included)
        p = fnp.where(p < eps, eps, fnp.where(p > 1.0 - eps, 1.0 - eps, p))
    return _sp.logit(p)


# ----- the gamma family and Bessel functions ---------------------------------------------------------

gammaln = _unary("gammaln", _sp.gammaln, "``log|Gamma(x)|`` (``torch.special.gammaln``).")
digamma = _unary("digamma", _sp.digamma,
                 "The logarithmic derivative of the gamma function (``torch.special.digamma``).")
psi = digamma


def polygamma(n, input):
    """The ``n``-th derivative of :func:`digamma` (``torch.special.polygamma``)."""
    return _sp.polygamma(n, _float(input))


def multigammaln(input, p):
    """The log of the multivariate gamma function of dimension ``p`` (``torch.special.multigammaln``).

    >>> import fnx
    >>> fnx.special.multigammaln(fnx.tensor([3.0]), 2)
    Array([1.550195], dtype=float32)
    """
    return _sp.multigammaln(_float(input), p)


def gammainc(input, other):
    """The regularized lower incomplete gamma function ``P(input, other)`` (``torch.special.gammainc``);
    differentiable in ``other``."""
    return _sp.gammainc(*_floats(input, other))


def gammaincc(input, other):
    """The regularized upper incomplete gamma function ``Q(input, other)`` (``torch.special.gammaincc``)."""
    return _sp.gammaincc(*_floats(input, other))


def zeta(input, other):
    """The Hurwitz zeta function ``sum_k (other + k)^-input`` (``torch.special.zeta``); differentiable in
    ``other``.

    >>> import fnx
    >>> fnx.special.zeta(fnx.tensor([2.0]), 1.0)
    Array([1.644934], dtype=float32)
    """
    return _sp.zeta(*_floats(input, other))


i0 = _unary("i0", _sp.i0, "The modified Bessel function of the first kind of order 0 (``torch.special.i0``).")
i0e = _unary("i0e", _sp.i0e, "The exponentially scaled ``exp(-|x|) i0(x)`` (``torch.special.i0e``).")
i1 = _unary("i1", _sp.i1, "The modified Bessel function of the first kind of order 1 (``torch.special.i1``).")
i1e = _unary("i1e", _sp.i1e, "The exponentially scaled ``exp(-|x|) i1(x)`` (``torch.special.i1e``).")
modified_bessel_i0 = _unary("modified_bessel_i0", _sp.i0, "``i0`` (``torch.special.modified_bessel_i0``).")
modified_bessel_i1 = _unary("modified_bessel_i1", _sp.i1, "``i1`` (``torch.special.modified_bessel_i1``).")


def spherical_bessel_j0(input):
    """The spherical Bessel function of the first kind of order 0, ``sin(x) / x`` (1 at 0)
    (``torch.special.spherical_bessel_j0``).

    >>> import fnx
    >>> fnx.special.spherical_bessel_j0(fnx.tensor([0.0]))
    Array([1.], dtype=float32)
    """
    x = _float(input)
    near = fnp.abs(x) < 0.1
    xn = fnp.where(near, x, 0.0)
    x2 = xn * xn
    taylor = 1.0 - x2 / 6.0 * (1.0 - x2 / 20.0 * (1.0 - x2 / 42.0 * (1.0 - x2 / 72.0)))
    xf = fnp.where(near, 1.0, x)
    return fnp.where(near, taylor, fnp.sin(xf) / xf)


# ----- softmax, logsumexp, entropies -------------------------------------------------------------------


def _dims(dim):
    return tuple(dim) if isinstance(dim, (list, tuple)) else dim


def _cast(input, dtype):
    x = _float(input) if dtype is None else fnp.asarray(input).astype(dtype)
    return x


def softmax(input, dim, *, dtype=None):
    """``exp(x) / sum(exp(x))`` along ``dim``, computed in ``dtype`` if given (``torch.special.softmax``).

    >>> import fnx
    >>> fnx.special.softmax(fnx.tensor([0.0, 0.0]), 0)
    Array([0.5, 0.5], dtype=float32)
    """
    return _sp.softmax(_cast(input, dtype), axis=dim)


def log_softmax(input, dim, *, dtype=None):
    """``x - logsumexp(x)`` along ``dim``, computed in ``dtype`` if given (``torch.special.log_softmax``)."""
    return _sp.log_softmax(_cast(input, dtype), axis=dim)


def logsumexp(input, dim, keepdim=False):
    """``log(sum(exp(x)))`` over ``dim`` (an int or a tuple), without overflow (``torch.special.logsumexp``).

    >>> import fnx
    >>> fnx.special.logsumexp(fnx.tensor([[0.0, 0.0], [1.0, 1.0]]), 1)
    Array([0.6931472, 1.6931472], dtype=float32)
    """
    return _sp.logsumexp(_float(input), axis=_dims(dim), keepdims=keepdim)


def xlogy(input, other):
    """``input * log(other)``, 0 where ``input`` is 0 (``torch.special.xlogy``)."""
    return _sp.xlogy(*_floats(input, other))


def xlog1py(input, other):
    """``input * log1p(other)``, 0 where ``input`` is 0 (``torch.special.xlog1py``)."""
    return _sp.xlog1py(*_floats(input, other))


entr = _unary("entr", _sp.entr, """The elementwise entropy ``-x log(x)`` (0 at 0, ``-inf`` below)
    (``torch.special.entr``).""")


# ----- elementwise basics under their torch.special names --------------------------------------------

log1p = _unary("log1p", fnp.log1p, "``log(1 + x)``, accurate near 0 (``torch.special.log1p``).")
expm1 = _unary("expm1", fnp.expm1, "``exp(x) - 1``, accurate near 0 (``torch.special.expm1``).")
exp2 = _unary("exp2", fnp.exp2, "``2 ** x`` (``torch.special.exp2``).")
sinc = _unary("sinc", fnp.sinc, """The normalized sinc ``sin(pi x) / (pi x)``, 1 at 0 (``torch.special.sinc``).

    >>> import fnx
    >>> fnx.special.sinc(fnx.tensor([0.0, 0.5]))
    Array([1.        , 0.63661975], dtype=float32)
    """)


def round(input, *, decimals=0):
    """``input`` rounded half to even at ``decimals`` decimal places (``torch.special.round``)."""
    return fnp.round(fnp.asarray(input), decimals)
