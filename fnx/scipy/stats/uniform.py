"""The continuous uniform distribution on ``[loc, loc + scale]``, as ``jax.scipy.stats.uniform``."""
import numpy as np

from ... import numpy as fnp
from ._core import promote_args_inexact

__all__ = ["logpdf", "pdf", "cdf", "ppf"]


def logpdf(x, loc=0, scale=1):
    """``-log(scale)`` on ``[loc, loc + scale]``, ``-inf`` outside.

    >>> import fnx.scipy.stats as st
    >>> st.uniform.pdf(0.5, scale=2.0)
    Array(0.5, dtype=float32)
    """
    x, loc, scale = promote_args_inexact("uniform.logpdf", x, loc, scale)
    return fnp.where((x > loc + scale) | (x < loc), -np.inf, -fnp.log(scale))


def pdf(x, loc=0, scale=1):
    """The density ``1 / scale`` on the support, 0 outside."""
    return fnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
    """``(x - loc) / scale`` clipped to ``[0, 1]``."""
    x, loc, scale = promote_args_inexact("uniform.cdf", x, loc, scale)
    return fnp.where(x < loc, 0.0, fnp.where(x > loc + scale, 1.0, (x - loc) / scale))


def ppf(q, loc=0, scale=1):
    """The quantile ``loc + scale q``; nan outside ``[0, 1]``."""
    q, loc, scale = promote_args_inexact("uniform.ppf", q, loc, scale)
    return fnp.where(fnp.isnan(q) | (q < 0) | (q > 1), np.nan, loc + scale * q)
