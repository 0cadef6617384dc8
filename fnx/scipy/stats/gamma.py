"""The gamma distribution, as ``jax.scipy.stats.gamma`` (shape ``a``, then ``loc`` and ``scale``).

With ``y = (x - loc) / scale`` the log-density is
``xlogy(a - 1, y) - y - gammaln(a) - log(scale)`` on ``y >= 0``; the distribution
and survival functions are the regularized incomplete gamma functions
``gammainc(a, y)`` and ``gammaincc(a, y)``. The density differentiates in every
argument; the distribution functions in ``x``, ``loc`` and ``scale``, not in ``a``
(``gammainc`` has no derivative in ``a``: asking for it raises NotImplementedError).
"""
import numpy as np

from ... import numpy as fnp
from ..special import gammainc, gammaincc, gammaln, xlogy
from ._core import promote_args_inexact

__all__ = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]


def logpdf(x, a, loc=0, scale=1):
    """The log-density of the gamma distribution of shape ``a``; ``-inf`` below ``loc``.

    >>> import fnx.scipy.stats as st
    >>> st.gamma.logpdf(1.0, 1.0)  # the exponential density at 1
    Array(-1., dtype=float32)
    """
    x, a, loc, scale = promote_args_inexact("gamma.logpdf", x, a, loc, scale)
    ok = x >= loc
    y = fnp.where(ok, (x - loc) / scale, 1.0)
    out = xlogy(a - 1.0, y) - y - gammaln(a) - fnp.log(scale)
    return fnp.where(ok, out, -np.inf)


def pdf(x, a, loc=0, scale=1):
    """The density ``exp(logpdf(x, a, loc, scale))``."""
    return fnp.exp(logpdf(x, a, loc, scale))


def cdf(x, a, loc=0, scale=1):
    """``gammainc(a, max((x - loc) / scale, 0))``."""
    x, a, loc, scale = promote_args_inexact("gamma.cdf", x, a, loc, scale)
    return gammainc(a, fnp.maximum((x - loc) / scale, 0.0))


def logcdf(x, a, loc=0, scale=1):
    """``log(cdf(x, a, loc, scale))``."""
    return fnp.log(cdf(x, a, loc, scale))


def sf(x, a, loc=0, scale=1):
    """The survival function ``gammaincc(a, (x - loc) / scale)``, 1 below ``loc``."""
    x, a, loc, scale = promote_args_inexact("gamma.sf", x, a, loc, scale)
    y = (x - loc) / scale
    return fnp.where(y < 0, 1.0, gammaincc(a, fnp.maximum(y, 0.0)))


def logsf(x, a, loc=0, scale=1):
    """``log(sf(x, a, loc, scale))``."""
    return fnp.log(sf(x, a, loc, scale))
