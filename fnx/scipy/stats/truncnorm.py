"""The truncated normal distribution, as ``jax.scipy.stats.truncnorm``.

A normal of mean ``loc`` and scale ``scale`` conditioned on ``a <= (x - loc) / scale
<= b`` (the bounds are in standard units, as in SciPy). Everything hinges on the
log of the mass between two standard points, ``log(ndtr(b) - ndtr(a))``, computed
as SciPy and JAX do: in the left tail from ``log_ndtr`` by a log-difference, the
right tail mirrored onto the left, and around 0 as ``log1p(-ndtr(a) - ndtr(-b))``.
``a >= b`` gives nan.
"""
import numpy as np

from ... import numpy as fnp
from ..special import log_ndtr, logsumexp, ndtr
from . import norm
from ._core import promote_args_inexact

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]


def _log_diff(x, y):
    """``log(exp(x) - exp(y))`` for ``x >= y``."""
    return logsumexp(fnp.stack([x, y]), b=fnp.stack([fnp.ones_like(x), -fnp.ones_like(y)]), axis=0)


def _log_gauss_mass(a, b):
    """``log(ndtr(b) - ndtr(a))`` for ``a <= b``, accurate in both tails."""
    a, b = fnp.broadcast_arrays(a, b)
    left, right = b <= 0, a > 0
    central = ~(left | right)
    a_tail, b_tail = fnp.where(right, -b, a), fnp.where(right, -a, b)  # the right tail, mirrored
    tail = _log_diff(log_ndtr(b_tail), log_ndtr(a_tail))
    middle = fnp.log1p(-ndtr(a) - ndtr(-b))
    return fnp.where(central, middle, tail)


def logpdf(x, a, b, loc=0, scale=1):
    """``norm.logpdf(x, loc, scale) - log(ndtr(b) - ndtr(a))`` inside the bounds, ``-inf`` outside.

    >>> import fnx.scipy.stats as st
    >>> st.truncnorm.pdf(0.5, 0.0, 1.0, loc=0.0, scale=1.0) > st.norm.pdf(0.5)
    Array(True, dtype=bool)
    """
    x, a, b, loc, scale = promote_args_inexact("truncnorm.logpdf", x, a, b, loc, scale)
    out = norm.logpdf(x, loc, scale) - _log_gauss_mass(a, b)
    z = (x - loc) / scale
    out = fnp.where((z < a) | (z > b), -np.inf, out)
    return fnp.where(a >= b, np.nan, out)


def pdf(x, a, b, loc=0, scale=1):
    """The density ``exp(logpdf(x, a, b, loc, scale))``."""
    return fnp.exp(logpdf(x, a, b, loc, scale))


def logcdf(x, a, b, loc=0, scale=1):
    """``log P(X <= x)``: 0 above ``b``, ``-inf`` below ``a``, and near 1 from the survival function."""
    x, a, b, loc, scale = promote_args_inexact("truncnorm.logcdf", x, a, b, loc, scale)
    x, a, b = fnp.broadcast_arrays(x, a, b)
    z = (x - loc) / scale
    mass = _log_gauss_mass(a, b)
    inside = fnp.clip(z, a, b)  # outside the support the answer is a constant: no NaN to flow back from there
    low = _log_gauss_mass(a, inside) - mass
    high = _log_gauss_mass(inside, b) - mass
    out = fnp.select([z >= b, z <= a, low > -0.1, z > a],
                     [fnp.zeros_like(z), fnp.full_like(z, -np.inf), fnp.log1p(-fnp.exp(high)), low])
    return fnp.where(a >= b, np.nan, out)


def cdf(x, a, b, loc=0, scale=1):
    """``P(X <= x) = exp(logcdf(x, a, b, loc, scale))``."""
    return fnp.exp(logcdf(x, a, b, loc, scale))


def logsf(x, a, b, loc=0, scale=1):
    """``log P(X > x)``, by the reflection ``logcdf(-x, -b, -a, -loc, scale)``."""
    x, a, b, loc, scale = promote_args_inexact("truncnorm.logsf", x, a, b, loc, scale)
    return logcdf(-x, -b, -a, -loc, scale)


def sf(x, a, b, loc=0, scale=1):
    """``P(X > x) = exp(logsf(x, a, b, loc, scale))``."""
    return fnp.exp(logsf(x, a, b, loc, scale))
