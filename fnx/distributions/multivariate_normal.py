"""The multivariate normal distribution, computed through a lower Cholesky factor ``L`` of the covariance.

Whichever of ``covariance_matrix``, ``precision_matrix`` or ``scale_tril`` is
given, the distribution keeps ``L`` (``L L^T = covariance``) unbroadcast and
works from it: a draw is ``loc + L eps``, the log density needs the Mahalanobis
distance ``|L^-1 (x - loc)|^2`` (a triangular solve) and ``log det L`` (the sum
of the logs of its diagonal). The other two matrices are computed on demand.
"""
import math

from .. import linalg
from .. import numpy as fnp
from .. import random
from . import constraints
from .distribution import Distribution
from .utils import _as_param, _expand, _float_dtype, _key, lazy_property

__all__ = ["MultivariateNormal"]


def _same_dtype(loc, matrix):
    """``loc`` and ``matrix`` as arrays of one floating dtype (their shapes are left alone)."""
    dtype = _float_dtype(loc, matrix)
    return _as_param(loc, dtype), _as_param(matrix, dtype)


def _batch_mv(bmat, bvec):
    """Matrix-vector products of broadcasting batches."""
    return fnp.matmul(bmat, fnp.expand_dims(bvec, -1))[..., 0]


def _batch_mahalanobis(bL, bx):
    """``x^T (L L^T)^-1 x`` for batches of ``L`` (``(..., n, n)``) and ``x`` (``(..., n)``) that broadcast."""
    batch = fnp.broadcast_shapes(bL.shape[:-2], bx.shape[:-1])
    n = bx.shape[-1]
    L = fnp.broadcast_to(bL, batch + (n, n))
    x = fnp.broadcast_to(bx, batch + (n,))
    z = linalg.solve_triangular(L, fnp.expand_dims(x, -1), upper=False)
    return fnp.sum(z[..., 0] ** 2, axis=-1)


def _precision_to_scale_tril(P):
    """The lower Cholesky factor of ``P^-1``: with ``flip`` reversing both axes, ``flip(chol(flip(P)))^-T``."""
    Lf = linalg.cholesky(fnp.flip(P, (-2, -1)))
    L_inv = fnp.swapaxes(fnp.flip(Lf, (-2, -1)), -2, -1)
    eye = fnp.eye(P.shape[-1], dtype=P.dtype)
    return linalg.solve_triangular(L_inv, fnp.broadcast_to(eye, L_inv.shape), upper=False)


class MultivariateNormal(Distribution):
    """The normal distribution over vectors with mean ``loc`` and one of ``covariance_matrix``, ``precision_matrix``
    or ``scale_tril`` (a lower-triangular factor of the covariance with a positive diagonal)
    (``torch.distributions.MultivariateNormal``).

    >>> import fnx, fnx.numpy as fnp
    >>> from fnx.distributions import MultivariateNormal
    >>> d = MultivariateNormal(fnp.zeros(2), covariance_matrix=fnp.array([[2.0, 0.0], [0.0, 0.5]]))
    >>> d.log_prob(fnp.zeros(2))
    Array(-1.837877, dtype=float32)
    >>> d.sample((4,)).shape
    (4, 2)
    """
    arg_constraints = {"loc": constraints.real_vector, "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite, "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None, validate_args=None):
        if (covariance_matrix is not None) + (scale_tril is not None) + (precision_matrix is not None) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be specified.")
        given = {"scale_tril": scale_tril, "covariance_matrix": covariance_matrix,
                 "precision_matrix": precision_matrix}
        name, matrix = next((k, v) for k, v in given.items() if v is not None)
        loc, matrix = _same_dtype(loc, matrix)
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        if matrix.ndim < 2:
            raise ValueError(f"{name} matrix must be at least two-dimensional, with optional leading batch "
                             f"dimensions")
        batch_shape = fnp.broadcast_shapes(matrix.shape[:-2], loc.shape[:-1])
        setattr(self, name, _expand(matrix, batch_shape + matrix.shape[-2:]))
        self.loc = _expand(loc, batch_shape + loc.shape[-1:])
        super().__init__(batch_shape, self.loc.shape[-1:], validate_args=validate_args)
        if name == "scale_tril":
            self._unbroadcasted_scale_tril = matrix
        elif name == "covariance_matrix":
            self._unbroadcasted_scale_tril = linalg.cholesky(matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(matrix)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = self._batch_for(batch_shape)
        n = self._event_shape
        new.loc = _expand(self.loc, batch_shape + n)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, _expand(self.__dict__[name], batch_shape + n + n))
        return self._expanded(new, batch_shape)

    def _full(self, x):
        return _expand(x, self._batch_shape + self._event_shape * 2)

    @lazy_property
    def scale_tril(self):
        return self._full(self._unbroadcasted_scale_tril)

    @lazy_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        return self._full(fnp.matmul(L, fnp.swapaxes(L, -2, -1)))

    @lazy_property
    def precision_matrix(self):
        L = self._unbroadcasted_scale_tril
        eye = fnp.broadcast_to(fnp.eye(L.shape[-1], dtype=L.dtype), L.shape)
        L_inv = linalg.solve_triangular(L, eye, upper=False)
        return self._full(fnp.matmul(fnp.swapaxes(L_inv, -2, -1), L_inv))

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return _expand(fnp.sum(self._unbroadcasted_scale_tril ** 2, axis=-1), self._batch_shape + self._event_shape)

    def rsample(self, sample_shape=(), *, key=None):
        eps = random.normal(_key(key, self.loc), self._extended_shape(sample_shape), self.loc.dtype)
        return self.loc + _batch_mv(self._unbroadcasted_scale_tril, eps)

    def _half_log_det(self):
        return fnp.sum(fnp.log(fnp.diagonal(self._unbroadcasted_scale_tril, 0, -2, -1)), axis=-1)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        M = _batch_mahalanobis(self._unbroadcasted_scale_tril, value - self.loc)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + M) - self._half_log_det()

    def entropy(self):
        H = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._half_log_det()
        return _expand(H, self._batch_shape)
