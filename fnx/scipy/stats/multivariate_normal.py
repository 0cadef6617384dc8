"""The multivariate normal distribution, as ``jax.scipy.stats.multivariate_normal``.

``logpdf`` whitens ``x - mean`` with the Cholesky factor ``L`` of the covariance
(``y = L^-1 (x - mean)``, a triangular solve), so that the density is
``-|y|^2 / 2 - n log(2 pi) / 2 - sum(log diag L)``. ``mean`` may be a scalar (a
univariate normal of variance ``cov``), and ``cov`` a scalar (an isotropic
covariance ``cov * I``) or an ``(n, n)`` matrix; leading axes of ``x``, ``mean``
and ``cov`` broadcast. Cholesky's derivative rules make the result differentiable
in all three arguments.
"""
import math

from ... import numpy as fnp
from ...errors import ShapeError
from ._core import promote_args_inexact

__all__ = ["logpdf", "pdf"]

_LOG_2PI = math.log(2 * math.pi)


def logpdf(x, mean, cov, allow_singular=None):
    """The log-density of ``N(mean, cov)`` at ``x`` (vectors along the last axis).

    ``allow_singular`` must be None, as in JAX (a singular covariance is not supported).

    >>> import fnx.numpy as fnp, fnx.scipy.stats as st
    >>> st.multivariate_normal.logpdf(fnp.array([0.0, 0.0]), fnp.zeros(2), fnp.eye(2))
    Array(-1.837877, dtype=float32)
    """
    if allow_singular is not None:
        raise NotImplementedError("multivariate_normal.logpdf: allow_singular is not supported (as in JAX)")
    x, mean, cov = promote_args_inexact("multivariate_normal.logpdf", x, mean, cov)
    if mean.ndim == 0:
        return -0.5 * (x - mean) ** 2 / cov - 0.5 * (_LOG_2PI + fnp.log(cov))
    n = mean.shape[-1]
    y = x - mean
    if cov.ndim == 0:
        return -0.5 * fnp.sum(y * y, axis=-1) / cov - 0.5 * n * (_LOG_2PI + fnp.log(cov))
    if cov.ndim < 2 or cov.shape[-2:] != (n, n):
        raise ShapeError(f"multivariate_normal.logpdf: cov of shape {cov.shape} does not match mean of shape "
                         f"{mean.shape}; it must be a scalar or end in ({n}, {n})")
    L = fnp.linalg.cholesky(cov)
    z = fnp.linalg.solve(L, y[..., None])[..., 0]
    half_logdet = fnp.sum(fnp.log(fnp.diagonal(L, axis1=-2, axis2=-1)), axis=-1)
    return -0.5 * fnp.sum(z * z, axis=-1) - 0.5 * n * _LOG_2PI - half_logdet


def pdf(x, mean, cov):
    """The density ``exp(logpdf(x, mean, cov))``."""
    return fnp.exp(logpdf(x, mean, cov))
