"""The Cauchy distribution, as ``jax.scipy.stats.cauchy``.

The density ``1 / (pi scale (1 + z^2))`` with ``z = (x - loc) / scale``, its
distribution function ``1/2 + arctan(z) / pi`` and quantile ``loc + scale tan(pi (q - 1/2))``,
each written with fnx operations and so differentiable in every argument.
"""
import math

from ... import numpy as fnp
from ._core import promote_args_inexact

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf"]


def logpdf(x, loc=0, scale=1):
    """``-log(pi scale) - log1p(z^2)``.

    >>> import fnx.scipy.stats as st
    >>> st.cauchy.pdf(1.0)
    Array(0.15915494, dtype=float32)
    """
    x, loc, scale = promote_args_inexact("cauchy.logpdf", x, loc, scale)
    z = (x - loc) / scale
    return -(fnp.log(math.pi * scale) + fnp.log1p(z * z))


def pdf(x, loc=0, scale=1):
    """The density ``exp(logpdf(x, loc, scale))``."""
    return fnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
    """``1/2 + arctan((x - loc) / scale) / pi``."""
    x, loc, scale = promote_args_inexact("cauchy.cdf", x, loc, scale)
    return 0.5 + fnp.arctan((x - loc) / scale) / math.pi


def logcdf(x, loc=0, scale=1):
    """``log(cdf(x, loc, scale))``."""
    return fnp.log(cdf(x, loc, scale))


def sf(x, loc=0, scale=1):
    """The survival function ``cdf(-x, -loc, scale)``."""
    x, loc, scale = promote_args_inexact("cauchy.sf", x, loc, scale)
    return cdf(-x, -loc, scale)


def logsf(x, loc=0, scale=1):
    """``log(sf(x, loc, scale))``."""
    x, loc, scale = promote_args_inexact("cauchy.logsf", x, loc, scale)
    return logcdf(-x, -loc, scale)


def ppf(q, loc=0, scale=1):
    """The quantile ``loc + scale tan(pi q - pi/2)``.

    >>> import fnx.scipy.stats as st
    >>> round(float(st.cauchy.ppf(0.75)), 6)
    1.0
    """
    q, loc, scale = promote_args_inexact("cauchy.ppf", q, loc, scale)
    return fnp.tan(math.pi * q - 0.5 * math.pi) * scale + loc


def isf(q, loc=0, scale=1):
    """The inverse survival function ``loc + scale tan(pi/2 - pi q)``."""
    q, loc, scale = promote_args_inexact("cauchy.isf", q, loc, scale)
    return fnp.tan(0.5 * math.pi - math.pi * q) * scale + loc
