"""The chi-squared distribution, as ``jax.scipy.stats.chi2``: a gamma distribution of shape ``df / 2`` and
scale ``2 scale``.

The log-density is ``(df/2 - 1) log y - y/2 - gammaln(df/2) - df/2 log 2 - log(scale)``
with ``y = (x - loc) / scale``; the distribution functions are ``gammainc`` and
``gammaincc`` at ``(df / 2, y / 2)``, differentiable in ``x``, ``loc`` and ``scale``
but not in ``df`` (NotImplementedError).
"""
import math

import numpy as np

from ... import numpy as fnp
from ..special import gammainc, gammaincc, gammaln
from ._core import promote_args_inexact

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]


def logpdf(x, df, loc=0, scale=1):
    """The log-density with ``df`` degrees of freedom; ``-inf`` below ``loc``.

    >>> import fnx.scipy.stats as st
    >>> st.chi2.logpdf(2.0, 2.0)  # exp(-1) / 2
    Array(-1.6931472, dtype=float32)
    """
    x, df, loc, scale = promote_args_inexact("chi2.logpdf", x, df, loc, scale)
    y = (x - loc) / scale
    half = 0.5 * df
    kernel = (half - 1.0) * fnp.log(y) - 0.5 * y
    out = kernel - gammaln(half) - half * math.log(2.0) - fnp.log(scale)
    return fnp.where(x < loc, -np.inf, out)


def pdf(x, df, loc=0, scale=1):
    """The density ``exp(logpdf(x, df, loc, scale))``."""
    return fnp.exp(logpdf(x, df, loc, scale))


def cdf(x, df, loc=0, scale=1):
    """``gammainc(df / 2, max((x - loc) / (2 scale), 0))``."""
    x, df, loc, scale = promote_args_inexact("chi2.cdf", x, df, loc, scale)
    return gammainc(0.5 * df, fnp.maximum((x - loc) / (2.0 * scale), 0.0))


def logcdf(x, df, loc=0, scale=1):
    """``log(cdf(x, df, loc, scale))``."""
    return fnp.log(cdf(x, df, loc, scale))


def sf(x, df, loc=0, scale=1):
    """The survival function ``gammaincc(df / 2, max((x - loc) / (2 scale), 0))``."""
    x, df, loc, scale = promote_args_inexact("chi2.sf", x, df, loc, scale)
    return gammaincc(0.5 * df, fnp.maximum((x - loc) / (2.0 * scale), 0.0))


def logsf(x, df, loc=0, scale=1):
    """``log(sf(x, df, loc, scale))``."""
    return fnp.log(sf(x, df, loc, scale))
