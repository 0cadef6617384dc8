"""Student's t distribution, as ``jax.scipy.stats.t`` (the density only, as in JAX).

With ``z = (x - loc) / scale`` and ``df`` degrees of freedom,
``log p = gammaln((df + 1) / 2) - gammaln(df / 2) - log(pi df scale^2) / 2
- (df + 1) / 2 log1p(z^2 / df)``; differentiable in ``x``, ``df``, ``loc`` and ``scale``.
"""
import math

from ... import numpy as fnp
from ..special import gammaln
from ._core import promote_args_inexact

__all__ = ["logpdf", "pdf"]


def logpdf(x, df, loc=0, scale=1):
    """The log-density of Student's t with ``df`` degrees of freedom.

    >>> import fnx.scipy.stats as st
    >>> st.t.logpdf(0.0, 1.0)  # the Cauchy density at 0: 1 / pi
    Array(-1.1447299, dtype=float32)
    """
    x, df, loc, scale = promote_args_inexact("t.logpdf", x, df, loc, scale)
    z = (x - loc) / scale
    half = 0.5 * (df + 1.0)
    normalizer = gammaln(0.5 * df) - gammaln(half) + 0.5 * fnp.log(math.pi * df * scale * scale)
    return -(normalizer + half * fnp.log1p(z * z / df))


def pdf(x, df, loc=0, scale=1):
    """The density ``exp(logpdf(x, df, loc, scale))``."""
    return fnp.exp(logpdf(x, df, loc, scale))
