"""The beta distribution, as ``jax.scipy.stats.beta`` (shapes ``a`` and ``b``, then ``loc`` and ``scale``).

With ``y = (x - loc) / scale`` on ``[0, 1]``, the log-density is
``xlogy(a - 1, y) + xlog1py(b - 1, -y) - betaln(a, b) - log(scale)``; the
distribution function is the regularized incomplete beta function ``I_y(a, b)``
(a continued fraction written in fnx operations, see ``_core``), so every function
here differentiates in every argument. Non-positive ``a``, ``b`` or ``scale`` give nan.
"""
import numpy as np

from ... import numpy as fnp
from ..special import betaln, xlog1py, xlogy
from ._core import betainc, promote_args_inexact

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]


def logpdf(x, a, b, loc=0, scale=1):
    """The log-density of ``Beta(a, b)`` on ``[loc, loc + scale]``; ``-inf`` outside.

    >>> import fnx.scipy.stats as st
    >>> st.beta.pdf(0.5, 2.0, 2.0)
    Array(1.5, dtype=float32)
    """
    x, a, b, loc, scale = promote_args_inexact("beta.logpdf", x, a, b, loc, scale)
    y = (x - loc) / scale
    out = xlogy(a - 1.0, y) + xlog1py(b - 1.0, -y) - betaln(a, b) - fnp.log(scale)
    out = fnp.where((x > loc + scale) | (x < loc), -np.inf, out)
    return fnp.where((a <= 0) | (b <= 0) | (scale <= 0), np.nan, out)


def pdf(x, a, b, loc=0, scale=1):
    """The density ``exp(logpdf(x, a, b, loc, scale))``."""
    return fnp.exp(logpdf(x, a, b, loc, scale))


def cdf(x, a, b, loc=0, scale=1):
    """``I_y(a, b)`` with ``y = (x - loc) / scale`` clipped to ``[0, 1]``.

    >>> import fnx.scipy.stats as st
    >>> round(float(st.beta.cdf(0.5, 2.0, 2.0)), 6)
    0.5
    """
    x, a, b, loc, scale = promote_args_inexact("beta.cdf", x, a, b, loc, scale)
    return betainc(a, b, fnp.clip((x - loc) / scale, 0.0, 1.0))


def logcdf(x, a, b, loc=0, scale=1):
    """``log(cdf(x, a, b, loc, scale))``."""
    return fnp.log(cdf(x, a, b, loc, scale))


def sf(x, a, b, loc=0, scale=1):
    """The survival function ``I_(1-y)(b, a)``."""
    x, a, b, loc, scale = promote_args_inexact("beta.sf", x, a, b, loc, scale)
    return betainc(b, a, 1.0 - fnp.clip((x - loc) / scale, 0.0, 1.0))


def logsf(x, a, b, loc=0, scale=1):
    """``log(sf(x, a, b, loc, scale))``."""
    return fnp.log(sf(x, a, b, loc, scale))
