"""The Poisson distribution, as ``jax.scipy.stats.poisson``: mass, distribution function and entropy.

``log P(k) = xlogy(k, mu) - gammaln(k + 1) - mu`` for integer ``k >= 0`` (``-inf``
elsewhere), differentiable in ``mu``; the distribution function is
``gammaincc(floor(k + 1), mu)``, differentiable in ``mu`` too.
"""
import math

import numpy as np

from ... import numpy as fnp
from ..special import entr, gammaincc, gammaln, xlogy
from ._core import promote_args_inexact

__all__ = ["logpmf", "pmf", "cdf", "entropy"]


def logpmf(k, mu, loc=0):
    """``log P(K = k)`` for a Poisson variable of mean ``mu`` shifted by ``loc``.

    >>> import fnx.scipy.stats as st
    >>> st.poisson.pmf(0.0, 2.0)  # exp(-2)
    Array(0.13533528, dtype=float32)
    """
    k, mu, loc = promote_args_inexact("poisson.logpmf", k, mu, loc)
    x = k - loc
    out = xlogy(x, mu) - gammaln(x + 1.0) - mu
    return fnp.where((x < 0) | (fnp.round(k) != k), -np.inf, out)


def pmf(k, mu, loc=0):
    """``P(K = k) = exp(logpmf(k, mu, loc))``."""
    return fnp.exp(logpmf(k, mu, loc))


def cdf(k, mu, loc=0):
    """``P(K <= k) = gammaincc(floor(k - loc + 1), mu)``; 0 below ``loc``."""
    k, mu, loc = promote_args_inexact("poisson.cdf", k, mu, loc)
    x = k - loc
    return fnp.where(x < 0, 0.0, gammaincc(fnp.floor(1.0 + fnp.maximum(x, 0.0)), mu))


def _entropy_by_sum(mu, terms, upper):
    """``sum_k entr(pmf(k))`` over ``k < upper`` (at most ``terms`` of them)."""
    k = fnp.reshape(fnp.arange(terms, dtype=mu.dtype), (terms,) + (1,) * mu.ndim)
    probs = fnp.where(k < upper, pmf(k, mu), 0.0)
    return fnp.sum(entr(probs), axis=0)


def entropy(mu, loc=0):
    """The entropy ``-sum_k P(k) log P(k)`` (``loc`` does not change it), as JAX computes it: a direct sum
    for ``mu < 100`` and the asymptotic ``log(2 pi e mu) / 2 - 1 / (12 mu)`` above.

    >>> import fnx.scipy.stats as st
    >>> st.poisson.entropy(0.0)
    Array(0., dtype=float32)
    """
    mu, loc = promote_args_inexact("poisson.entropy", mu, loc)
    shape = fnp.broadcast_shapes(mu.shape, loc.shape)
    # each regime sees only its own means (1 elsewhere), so no branch computes log(0) or overflows
    small = _entropy_by_sum(fnp.where((mu > 0) & (mu < 10), mu, 1.0), 35, fnp.ceil(mu + 20))
    medium = _entropy_by_sum(fnp.where((mu >= 10) & (mu < 100), mu, 1.0), 250,
                             fnp.ceil(mu + 10 * fnp.sqrt(mu) + 20))
    big = fnp.where(mu >= 100, mu, 100.0)
    large = 0.5 * fnp.log(2 * math.pi * math.e * big) - 1.0 / (12 * big)
    out = fnp.where(mu == 0, 0.0, fnp.where(mu < 10, small, fnp.where(mu < 100, medium, large)))
    return fnp.broadcast_to(out, shape)
