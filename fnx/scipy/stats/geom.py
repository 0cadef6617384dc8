"""The geometric distribution (trials up to the first success, from 1), as ``jax.scipy.stats.geom``.

``log P(k) = xlog1py(k - 1, -p) + log(p)`` for ``k - loc >= 1``, ``-inf`` below;
differentiable in ``p``.
"""
import numpy as np

from ... import numpy as fnp
from ..special import xlog1py
from ._core import promote_args_inexact

__all__ = ["logpmf", "pmf"]


def logpmf(k, p, loc=0):
    """``log P(K = k) = (k - 1) log(1 - p) + log(p)``.

    >>> import fnx.scipy.stats as st
    >>> st.geom.pmf(2.0, 0.5)
    Array(0.25, dtype=float32)
    """
    k, p, loc = promote_args_inexact("geom.logpmf", k, p, loc)
    x = k - loc
    out = xlog1py(x - 1.0, -p) + fnp.log(p)
    return fnp.where(x <= 0, -np.inf, out)


def pmf(k, p, loc=0):
    """``P(K = k) = exp(logpmf(k, p, loc))``."""
    return fnp.exp(logpmf(k, p, loc))
