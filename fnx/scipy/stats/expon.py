"""The exponential distribution, as ``jax.scipy.stats.expon``.

Support ``x >= loc``; with ``z = (x - loc) / scale`` the log-density is
``-z - log(scale)``, the log survival function ``-z`` and the distribution function
``-expm1(-z)``, accurate for small ``z``. Outside the support the density is 0
and the distribution function 0; ``ppf`` is nan outside ``[0, 1]``.
"""
import numpy as np

from ... import numpy as fnp
from ._core import promote_args_inexact

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf"]


def logpdf(x, loc=0, scale=1):
    """``-(x - loc) / scale - log(scale)`` on ``x >= loc``, ``-inf`` below.

    >>> import fnx.scipy.stats as st
    >>> st.expon.logpdf(2.0, scale=2.0)
    Array(-1.6931472, dtype=float32)
    """
    x, loc, scale = promote_args_inexact("expon.logpdf", x, loc, scale)
    out = -((x - loc) / scale + fnp.log(scale))
    return fnp.where(x < loc, -np.inf, out)


def pdf(x, loc=0, scale=1):
    """The density ``exp(logpdf(x, loc, scale))``."""
    return fnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
    """``1 - exp(-(x - loc) / scale)`` on ``x >= loc``, 0 below."""
    x, loc, scale = promote_args_inexact("expon.cdf", x, loc, scale)
    neg_z = (loc - x) / scale
    return fnp.where(x < loc, 0.0, -fnp.expm1(fnp.minimum(neg_z, 0.0)))


def logcdf(x, loc=0, scale=1):
    """``log1p(-sf(x, loc, scale))``."""
    return fnp.log1p(-sf(x, loc, scale))


def logsf(x, loc=0, scale=1):
    """``-(x - loc) / scale`` on ``x >= loc``, 0 below."""
    x, loc, scale = promote_args_inexact("expon.logsf", x, loc, scale)
    neg_z = (loc - x) / scale
    return fnp.where(x < loc, 0.0, neg_z)


def sf(x, loc=0, scale=1):
    """The survival function ``exp(logsf(x, loc, scale))``."""
    return fnp.exp(logsf(x, loc, scale))


def ppf(q, loc=0, scale=1):
    """The quantile ``loc - scale log1p(-q)``; nan outside ``[0, 1]``.

    >>> import fnx.scipy.stats as st
    >>> st.expon.ppf(0.0, loc=1.0)
    Array(1., dtype=float32)
    """
    q, loc, scale = promote_args_inexact("expon.ppf", q, loc, scale)
    bad = fnp.isnan(q) | (q < 0) | (q > 1)
    return fnp.where(bad, np.nan, loc - scale * fnp.log1p(-fnp.where(bad, 0.0, q)))
