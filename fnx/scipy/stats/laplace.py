"""The Laplace (double exponential) distribution, as ``jax.scipy.stats.laplace``.

``log p = -|x - loc| / scale - log(2 scale)``; the distribution function is
``exp(z) / 2`` below ``loc`` and ``1 - exp(-z) / 2`` above. The density has a kink
at ``loc`` (the gradient there is the subgradient of ``|.|`` at 0, as ``abs`` gives).
"""

from ... import numpy as fnp
from ._core import promote_args_inexact

__all__ = ["logpdf", "pdf", "cdf"]


def logpdf(x, loc=0, scale=1):
    """``-|x - loc| / scale - log(2 scale)``.

    >>> import fnx.scipy.stats as st
    >>> st.laplace.logpdf(1.0)
    Array(-1.6931472, dtype=float32)
    """
    x, loc, scale = promote_args_inexact("laplace.logpdf", x, loc, scale)
    return -(fnp.abs(x - loc) / scale + fnp.log(2.0 * scale))


def pdf(x, loc=0, scale=1):
    """The density ``exp(-|x - loc| / scale) / (2 scale)``."""
    return fnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
    """``exp(z) / 2`` for ``z = (x - loc) / scale <= 0``, ``1 - exp(-z) / 2`` above."""
    x, loc, scale = promote_args_inexact("laplace.cdf", x, loc, scale)
    z = (x - loc) / scale
    below = z <= 0
    # each branch sees only its own half-line, so neither exp overflows into the other's gradient (chosen by
    # where, not minimum/maximum, whose derivative at z = 0 would be split between them)
    return fnp.where(below, 0.5 * fnp.exp(fnp.where(below, z, 0.0)), 1.0 - 0.5 * fnp.exp(-fnp.where(below, 0.0, z)))
