"""The Bernoulli distribution, as ``jax.scipy.stats.bernoulli``.

``log P(k) = xlogy(k, p) + xlog1py(1 - k, -p)`` on ``k in {0, 1}`` (shifted by
``loc``), differentiable in ``p``; ``cdf`` and ``ppf`` are step functions of ``k``
and ``q``, nan for ``p`` outside ``[0, 1]``.
"""
import numpy as np

from ... import numpy as fnp
from ..special import xlog1py, xlogy
from ._core import promote_args_inexact

__all__ = ["logpmf", "pmf", "cdf", "ppf"]


def logpmf(k, p, loc=0):
    """``log P(K = k)``: ``log p`` at 1, ``log(1 - p)`` at 0, ``-inf`` outside ``[0, 1]``.

    >>> import fnx.scipy.stats as st
    >>> st.bernoulli.pmf(1.0, 0.25)
    Array(0.25, dtype=float32)
    """
    k, p, loc = promote_args_inexact("bernoulli.logpmf", k, p, loc)
    x = k - loc
    out = xlogy(x, p) + xlog1py(1.0 - x, -p)
    return fnp.where((x < 0) | (x > 1), -np.inf, out)


def pmf(k, p, loc=0):
    """``P(K = k) = exp(logpmf(k, p, loc))``."""
    return fnp.exp(logpmf(k, p, loc))


def cdf(k, p):
    """``P(K <= k)``: 0 below 0, ``1 - p`` on ``[0, 1)``, 1 from 1; nan for ``p`` outside ``[0, 1]``."""
    k, p = promote_args_inexact("bernoulli.cdf", k, p)
    bad = fnp.isnan(k) | fnp.isnan(p) | (p < 0) | (p > 1)
    return fnp.where(bad, np.nan, fnp.where(k < 0, 0.0, fnp.where(k < 1, 1.0 - p, 1.0)))


def ppf(q, p):
    """The smallest ``k`` with ``cdf(k, p) >= q``: 0 for ``q <= 1 - p``, else 1; nan outside ``[0, 1]``."""
    q, p = promote_args_inexact("bernoulli.ppf", q, p)
    bad = fnp.isnan(q) | fnp.isnan(p) | (p < 0) | (p > 1) | (q < 0) | (q > 1)
    return fnp.where(bad, np.nan, fnp.where(q <= 1.0 - p, 0.0, 1.0)).astype(q.dtype)  # (float64 in, out)
