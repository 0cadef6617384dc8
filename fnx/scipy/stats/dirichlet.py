"""The Dirichlet distribution, as ``jax.scipy.stats.dirichlet``.

``x`` holds points of the simplex along its *first* axis (JAX's and SciPy's
layout), with either ``K`` components or ``K - 1`` (the last is then ``1 - sum``);
``alpha`` is a vector of ``K`` concentrations. The log-density is
``sum_k xlogy(alpha_k - 1, x_k) - (sum_k gammaln(alpha_k) - gammaln(sum_k alpha_k))``,
and ``-inf`` off the simplex (a component not positive, or a sum more than 1e-6 from 1).
"""
import numpy as np

from ... import numpy as fnp
from ...errors import ShapeError
from ..special import gammaln, xlogy
from ._core import promote_args_inexact

__all__ = ["logpdf", "pdf"]


def logpdf(x, alpha):
    """The log-density of ``Dirichlet(alpha)`` at the points along ``x``'s first axis.

    >>> import fnx.numpy as fnp, fnx.scipy.stats as st
    >>> st.dirichlet.pdf(fnp.array([0.2, 0.8]), fnp.array([1.0, 1.0]))  # uniform on the simplex
    Array(1., dtype=float32)
    """
    x, alpha = promote_args_inexact("dirichlet.logpdf", x, alpha)
    if alpha.ndim != 1:
        raise ShapeError(f"dirichlet.logpdf: alpha must be one-dimensional; got shape {alpha.shape}")
    k = alpha.shape[0]
    if x.ndim == 0 or x.shape[0] not in (k, k - 1):
        raise ShapeError(f"dirichlet.logpdf: x must have {k} or {k - 1} entries along its first axis (as alpha "
                         f"has {k}); got shape {x.shape}")
    if x.shape[0] != k:
        x = fnp.concatenate([x, 1.0 - fnp.sum(x, axis=0, keepdims=True)], axis=0)
    normalizer = fnp.sum(gammaln(alpha)) - gammaln(fnp.sum(alpha))
    a = fnp.reshape(alpha, (k,) + (1,) * (x.ndim - 1))
    out = fnp.sum(xlogy(a - 1.0, x), axis=0) - normalizer
    simplex = fnp.all(x > 0, axis=0) & (fnp.abs(fnp.sum(x, axis=0) - 1.0) < 1e-6)
    return fnp.where(simplex, out, -np.inf)


def pdf(x, alpha):
    """The density ``exp(logpdf(x, alpha))``."""
    return fnp.exp(logpdf(x, alpha))
