"""The binomial distribution, as ``jax.scipy.stats.binom`` (the mass only, as in JAX).

``log P(k) = gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1) + xlogy(k, p)
+ xlog1py(n - k, -p)`` for ``0 <= k - loc <= n``, ``-inf`` outside. ``n`` may be
any real number, as in JAX (the formula continues it); the mass differentiates in ``p``
(and in ``n`` through ``gammaln``).
"""
import numpy as np

from ... import numpy as fnp
from ..special import gammaln, xlog1py, xlogy
from ._core import promote_args_inexact

__all__ = ["logpmf", "pmf"]


def logpmf(k, n, p, loc=0):
    """``log P(K = k)`` for ``n`` trials of success probability ``p``.

    >>> import fnx.scipy.stats as st
    >>> st.binom.pmf(1.0, 2.0, 0.5)
    Array(0.5, dtype=float32)
    """
    k, n, p, loc = promote_args_inexact("binom.logpmf", k, n, p, loc)
    y = k - loc
    comb = gammaln(n + 1.0) - (gammaln(y + 1.0) + gammaln(n - y + 1.0))
    linear = xlogy(y, p) + xlog1py(n - y, -p)
    out = comb + linear
    out = fnp.where(((y == 0) & (n == 0)) | (linear == 0), 0.0, out)  # a sure outcome (JAX's rule)
    return fnp.where((k >= loc) & (k < loc + n + 1.0), out, -np.inf)


def pmf(k, n, p, loc=0):
    """``P(K = k) = exp(logpmf(k, n, p, loc))``."""
    return fnp.exp(logpmf(k, n, p, loc))
