"""The logistic distribution, as ``jax.scipy.stats.logistic``.

Its distribution function is the sigmoid ``expit((x - loc) / scale)`` and its
quantile the ``logit``; the log-density ``-2 logaddexp(z/2, -z/2) - log(scale)`` is
computed without overflow for large ``|z|``.
"""
from ... import numpy as fnp
from ..special import expit, logit
from ._core import promote_args_inexact

__all__ = ["logpdf", "pdf", "cdf", "sf", "ppf", "isf"]


def logpdf(x, loc=0, scale=1):
    """``-2 logaddexp(z / 2, -z / 2) - log(scale)`` with ``z = (x - loc) / scale``.

    >>> import fnx.scipy.stats as st
    >>> st.logistic.pdf(0.0)
    Array(0.25, dtype=float32)
    """
    x, loc, scale = promote_args_inexact("logistic.logpdf", x, loc, scale)
    half = 0.5 * (x - loc) / scale
    return -2.0 * fnp.logaddexp(half, -half) - fnp.log(scale)


def pdf(x, loc=0, scale=1):
    """The density ``exp(logpdf(x, loc, scale))``."""
    return fnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
    """``expit((x - loc) / scale)``."""
    x, loc, scale = promote_args_inexact("logistic.cdf", x, loc, scale)
    return expit((x - loc) / scale)


def sf(x, loc=0, scale=1):
    """``expit(-(x - loc) / scale)``."""
    x, loc, scale = promote_args_inexact("logistic.sf", x, loc, scale)
    return expit(-(x - loc) / scale)


def ppf(x, loc=0, scale=1):
    """The quantile ``loc + scale logit(x)`` (JAX names the probability ``x`` here)."""
    x, loc, scale = promote_args_inexact("logistic.ppf", x, loc, scale)
    return logit(x) * scale + loc


def isf(x, loc=0, scale=1):
    """The inverse survival function ``loc - scale logit(x)``."""
    x, loc, scale = promote_args_inexact("logistic.isf", x, loc, scale)
    return -logit(x) * scale + loc
