"""The normal distribution, as ``jax.scipy.stats.norm``: density, distribution function, tails and quantiles.

Everything is written with fnx operations over the standardized value
``z = (x - loc) / scale``, so each function differentiates in ``x``, ``loc`` and
``scale`` and batches under ``vmap``. The log-densities and log-probabilities are
computed in logs (``log_ndtr`` for the tails), not as logs of underflowed values.
"""
import math

from ... import numpy as fnp
from ..special import log_ndtr, ndtr, ndtri
from ._core import promote_args_inexact

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf"]

_LOG_2PI = math.log(2 * math.pi)


def logpdf(x, loc=0, scale=1):
    """``log N(x; loc, scale^2) = -((x - loc) / scale)^2 / 2 - log(scale) - log(2 pi) / 2``.

    >>> import fnx.scipy.stats as st
    >>> st.norm.logpdf(0.0)
    Array(-0.9189385, dtype=float32)
    """
    x, loc, scale = promote_args_inexact("norm.logpdf", x, loc, scale)
    z = (x - loc) / scale
    return -0.5 * (z * z) - fnp.log(scale) - 0.5 * _LOG_2PI


def pdf(x, loc=0, scale=1):
    """The normal density ``exp(logpdf(x, loc, scale))``."""
    return fnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
    """``P(X <= x) = ndtr((x - loc) / scale)``.

    >>> import fnx.scipy.stats as st
    >>> st.norm.cdf(1.0, loc=1.0)
    Array(0.5, dtype=float32)
    """
    x, loc, scale = promote_args_inexact("norm.cdf", x, loc, scale)
    return ndtr((x - loc) / scale)


def logcdf(x, loc=0, scale=1):
    """``log P(X <= x)``, accurate far into the lower tail."""
    x, loc, scale = promote_args_inexact("norm.logcdf", x, loc, scale)
    return log_ndtr((x - loc) / scale)


def sf(x, loc=0, scale=1):
    """The survival function ``P(X > x) = cdf(-x, -loc, scale)``."""
    x, loc, scale = promote_args_inexact("norm.sf", x, loc, scale)
    return cdf(-x, -loc, scale)


def logsf(x, loc=0, scale=1):
    """``log P(X > x)``, accurate far into the upper tail."""
    x, loc, scale = promote_args_inexact("norm.logsf", x, loc, scale)
    return logcdf(-x, -loc, scale)


def ppf(q, loc=0, scale=1):
    """The quantile function, the inverse of :func:`cdf`: ``loc + scale * ndtri(q)``.

    >>> import fnx.scipy.stats as st
    >>> st.norm.ppf(0.5, loc=3.0)
    Array(3., dtype=float32)
    """
    q, loc, scale = promote_args_inexact("norm.ppf", q, loc, scale)
    return ndtri(q) * scale + loc


def isf(q, loc=0, scale=1):
    """The inverse of :func:`sf`: ``ppf(1 - q, loc, scale)``."""
    q, loc, scale = promote_args_inexact("norm.isf", q, loc, scale)
    return ppf(1.0 - q, loc, scale)
