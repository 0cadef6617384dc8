"""More of PyTorch's distributions: Geometric, NegativeBinomial, Multinomial, Pareto, Weibull, Kumaraswamy,
InverseGamma, LowRankMultivariateNormal, VonMises and ContinuousBernoulli.

Pareto, Weibull, Kumaraswamy and InverseGamma are TransformedDistributions, as
in PyTorch (an Exponential, Uniform or Gamma pushed through Exp, Power and
Affine transforms), so their densities, distribution functions and draws come
from those pieces. The others follow PyTorch's formulas in fnx operations.
LowRankMultivariateNormal works with ``W W^T + D`` through the capacitance
matrix ``I + W^T D^-1 W`` (Woodbury identity, matrix determinant lemma), as
PyTorch does.

Two of PyTorch's ``mode`` formulas are not copied: Kumaraswamy's (PyTorch 2.14
gives nan for every argument) and Weibull's below concentration 1 (it gives 2.0
for scale 2 and concentration 0.5, where the density is unbounded at 0). Here
Kumaraswamy's is the density's maximum where both concentrations are at least
1 (nan elsewhere) and Weibull's is 0 below concentration 1.
"""
import math
import numbers

from .. import lax, linalg
from .. import numpy as fnp
from .. import random
from ..scipy import special as fsp
from . import constraints
from .continuous import Exponential, Uniform
from .discrete import Binomial, Categorical, _bce_with_logits, _BinaryProbsOrLogits, _OnCategorical, _one_of
from .distribution import Distribution
from .gamma import Gamma
from .multivariate_normal import _batch_mahalanobis, _batch_mv
from .transformed import TransformedDistribution
from .transforms import AffineTransform, ExpTransform, PowerTransform
from .utils import (_all_true, _as_param, _expand, _float_dtype, _key, _peek, _standard_loggamma, _tiny,
                    broadcast_all, clamp_probs, euler_constant, lazy_property, logits_to_probs, probs_to_logits)

__all__ = ["Geometric", "NegativeBinomial", "Multinomial", "Pareto", "Weibull", "Kumaraswamy", "InverseGamma",
           "LowRankMultivariateNormal", "VonMises", "ContinuousBernoulli"]


def _probs_or_logits(self, probs, logits, *others):
    """Stores ``probs`` or ``logits`` (with ``others`` broadcast alongside) and returns ``others`` as arrays."""
    _one_of(probs, logits)
    name, value = ("probs", probs) if probs is not None else ("logits", logits)
    *others, param = broadcast_all(*others, value)
    setattr(self, name, param)
    self._param = param
    return others

# ----- discrete --------------------------------------------------------------------------------------------


class Geometric(_BinaryProbsOrLogits):
    """The number of failures before the first success of Bernoulli trials of probability ``probs`` (or
    ``sigmoid(logits)``), ``P(k) = (1 - p)**k p`` on ``k = 0, 1, ...`` (``torch.distributions.Geometric``);
    samples are floats.

    >>> import fnx
    >>> from fnx.distributions import Geometric
    >>> d = Geometric(probs=0.25)
    >>> d.log_prob(fnx.numpy.array(0.0)), d.mean
    (Array(-1.3862944, dtype=float32), Array(3., dtype=float32))
    """
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args=None):
        _probs_or_logits(self, probs, logits)
        super().__init__(self._param.shape, validate_args=validate_args)
        if self._validate_args and probs is not None and not _all_true(self.probs > 0):
            raise ValueError(f"Expected parameter probs ({type(self.probs).__name__} of shape "
                             f"{tuple(self.probs.shape)}) of distribution {self!r} to be positive but found invalid "
                             f"values:\n{_peek(self.probs)}")

    def expand(self, batch_shape, _instance=None):
        new, batch_shape = self._expand_probs_or_logits(Geometric, batch_shape, _instance)
        return self._expanded(new, batch_shape)

    @property
    def mean(self):
        return 1.0 / self.probs - 1.0

    @property
    def mode(self):
        return fnp.zeros_like(self.probs)

    @property
    def variance(self):
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=(), *, key=None):
        shape = self._extended_shape(sample_shape)
        p = fnp.stop_gradient(self.probs)
        u = fnp.maximum(random.uniform(_key(key, p), shape, p.dtype), _tiny(p.dtype))
        return fnp.floor(fnp.log(u) / fnp.log1p(-p))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        # value * log(1 - probs), with 0 * log(0) = 0 (PyTorch's rule) and log(0) taken without a warning
        below_one = probs < 1
        failures = value * fnp.log1p(-fnp.where(below_one, probs, 0.0))
        return fnp.where(below_one, failures, fnp.where(value == 0, 0.0, -math.inf)) + fnp.log(self.probs)

    def entropy(self):
        return _bce_with_logits(self.logits, self.probs) / self.probs


class NegativeBinomial(_BinaryProbsOrLogits):
    """The number of successes, of probability ``probs`` (or ``sigmoid(logits)``) each, before ``total_count``
    failures (``torch.distributions.NegativeBinomial``); ``total_count`` may be any non-negative real. Samples
    are floats, Poisson draws of Gamma-distributed rates.

    >>> import fnx
    >>> from fnx.distributions import NegativeBinomial
    >>> d = NegativeBinomial(2.0, probs=0.5)
    >>> d.log_prob(fnx.numpy.array(1.0)), d.variance
    (Array(-1.3862944, dtype=float32), Array(4., dtype=float32))
    """
    arg_constraints = {"total_count": constraints.greater_than_eq(0),
                       "probs": constraints.half_open_interval(0.0, 1.0), "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        (self.total_count,) = _probs_or_logits(self, probs, logits, total_count)
        super().__init__(self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new, batch_shape = self._expand_probs_or_logits(NegativeBinomial, batch_shape, _instance)
        new.total_count = _expand(self.total_count, batch_shape)
        return self._expanded(new, batch_shape)

    @property
    def mean(self):
        return self.total_count * fnp.exp(self.logits)

    @property
    def mode(self):
        return fnp.clip(fnp.floor((self.total_count - 1) * fnp.exp(self.logits)), 0.0, None)

    @property
    def variance(self):
        return self.mean / fsp.expit(-self.logits)

    def sample(self, sample_shape=(), *, key=None):
        shape = self._extended_shape(sample_shape)
        kg, kp = random.split(_key(key, self._param))
        n, logits = fnp.stop_gradient(self.total_count), fnp.stop_gradient(self.logits)
        # a Gamma(total_count, rate=exp(-logits)) rate, 0 where total_count is 0
        log_g = fnp.stop_gradient(_standard_loggamma(fnp.where(n > 0, n, 1.0), shape, kg))
        rate = fnp.where(n > 0, fnp.exp(log_g + logits), 0.0)
        return fnp.astype(random.poisson(kp, rate, shape), logits.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        n, logits = self.total_count, self.logits
        log_unnormalized = n * fsp.log_expit(-logits) + value * fsp.log_expit(logits)
        # total_count = value = 0 has probability 1; there the normalisation below is lgamma(1) terms, all 0
        empty = (n + value) == 0
        n, value = fnp.where(empty, 1.0, n), fnp.where(empty, 0.0, value)
        log_normalization = -fsp.gammaln(n + value) + fsp.gammaln(1.0 + value) + fsp.gammaln(n)
        return log_unnormalized - log_normalization


class _MultinomialConstraint(constraints.Constraint):
    """Non-negative vectors summing to at most ``upper_bound`` (PyTorch's ``constraints.multinomial``, which
    checks no more)."""
    is_discrete = True
    event_dim = 1

    def __init__(self, upper_bound):
        self.upper_bound = upper_bound

    def check(self, value):
        value = fnp.asarray(value)
        return fnp.all(value >= 0, axis=-1) & (fnp.sum(value, axis=-1) <= self.upper_bound)

    def __repr__(self):
        return f"Multinomial(upper_bound={self.upper_bound})"


class Multinomial(_OnCategorical, Distribution):
    """Counts of ``total_count`` draws among the categories of ``probs`` (or ``softmax(logits)``), last axis
    (``torch.distributions.Multinomial``). ``total_count`` is one Python int; ``log_prob`` takes any counts.

    >>> import fnx
    >>> from fnx.distributions import Multinomial
    >>> d = Multinomial(4, probs=fnx.numpy.array([0.5, 0.5]))
    >>> d.log_prob(fnx.numpy.array([2.0, 2.0]))  # log(6 / 16)
    Array(-0.98082924, dtype=float32)
    >>> d.sample((3,)).shape
    (3, 2)
    """
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if isinstance(total_count, bool) or not isinstance(total_count, numbers.Integral):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = int(total_count)
        self._categorical = Categorical(probs=probs, logits=logits)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Multinomial, _instance)
        batch_shape = self._batch_for(batch_shape)
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        return self._expanded(new, batch_shape)

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return _MultinomialConstraint(self.total_count)

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=(), *, key=None):
        p = fnp.stop_gradient(self.probs)
        return random.multinomial(_key(key, p), self.total_count, p, shape=self._extended_shape(sample_shape),
                                  dtype=p.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        logits = fnp.where((value == 0) & (logits == -math.inf), 0.0, logits)
        return (fsp.gammaln(fnp.sum(value, axis=-1) + 1) - fnp.sum(fsp.gammaln(value + 1), axis=-1)
                + fnp.sum(logits * value, axis=-1))

    def entropy(self):
        n = self.total_count
        term1 = n * self._categorical.entropy() - math.lgamma(n + 1)
        # E[sum_i log x_i!], each count x_i a Binomial(n, p_i)
        binomial = Binomial(n, probs=self.probs, validate_args=False)
        counts = binomial.enumerate_support(expand=False)[1:]
        term2 = fnp.sum(fnp.exp(binomial.log_prob(counts)) * fsp.gammaln(counts + 1), axis=(0, -1))
        return term1 + term2

# ----- transformed --------------------------------------------------------------------------------------------


class Pareto(TransformedDistribution):
    """The Pareto (type I) distribution of scale ``scale`` and shape ``alpha``, density
    ``alpha scale**alpha / x**(alpha + 1)`` on ``x >= scale``: ``scale * exp(Exponential(alpha))``
    (``torch.distributions.Pareto``).

    >>> from fnx.distributions import Pareto
    >>> Pareto(1.0, 3.0).mean
    Array(1.5, dtype=float32)
    """
    arg_constraints = {"alpha": constraints.positive, "scale": constraints.positive}

    def __init__(self, scale, alpha, validate_args=None):
        self.scale, self.alpha = broadcast_all(scale, alpha)
        base = Exponential(self.alpha, validate_args=validate_args)
        super().__init__(base, [ExpTransform(), AffineTransform(loc=0, scale=self.scale)],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Pareto, _instance)
        batch_shape = self._batch_for(batch_shape)
        new.scale, new.alpha = _expand(self.scale, batch_shape), _expand(self.alpha, batch_shape)
        return super().expand(batch_shape, _instance=new)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.greater_than_eq(self.scale)

    @property
    def mean(self):
        a = fnp.where(self.alpha > 1, self.alpha, 2.0)  # infinite for alpha <= 1
        return fnp.where(self.alpha > 1, a * self.scale / (a - 1), math.inf)

    @property
    def mode(self):
        return self.scale

    @property
    def variance(self):
        a = fnp.where(self.alpha > 2, self.alpha, 3.0)  # infinite for alpha <= 2
        return fnp.where(self.alpha > 2, self.scale ** 2 * a / ((a - 1) ** 2 * (a - 2)), math.inf)

    def entropy(self):
        return fnp.log(self.scale / self.alpha) + (1 + 1 / self.alpha)


class Weibull(TransformedDistribution):
    """The Weibull distribution of scale ``scale`` and shape ``concentration``, distribution function
    ``1 - exp(-(x / scale)**concentration)``: ``scale * Exponential(1)**(1 / concentration)``
    (``torch.distributions.Weibull``).

    >>> from fnx.distributions import Weibull
    >>> Weibull(2.0, 1.0).mean
    Array(2., dtype=float32)
    """
    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive

    def __init__(self, scale, concentration, validate_args=None):
        self.scale, self.concentration = broadcast_all(scale, concentration)
        self.concentration_reciprocal = 1 / self.concentration
        base = Exponential(fnp.ones_like(self.scale), validate_args=validate_args)
        super().__init__(base, self._transforms(), validate_args=validate_args)

    def _transforms(self):
        return [PowerTransform(exponent=self.concentration_reciprocal), AffineTransform(loc=0, scale=self.scale)]

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Weibull, _instance)
        batch_shape = self._batch_for(batch_shape)
        new.scale, new.concentration = _expand(self.scale, batch_shape), _expand(self.concentration, batch_shape)
        new.concentration_reciprocal = 1 / new.concentration
        TransformedDistribution.__init__(new, self.base_dist.expand(batch_shape), new._transforms(),
                                         validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.scale * fnp.exp(fsp.gammaln(1 + self.concentration_reciprocal))

    @property
    def mode(self):
        # PyTorch's formula for concentration >= 1; below, the density is unbounded at 0, so the mode is 0 (as
        # Gamma's is below concentration 1), where the formula would take an even root of a negative number
        c = fnp.where(self.concentration >= 1, self.concentration, 1.0)
        return fnp.where(self.concentration >= 1, self.scale * ((c - 1) / c) ** (1 / c), 0.0)

    @property
    def variance(self):
        r = self.concentration_reciprocal
        return self.scale ** 2 * (fnp.exp(fsp.gammaln(1 + 2 * r)) - fnp.exp(2 * fsp.gammaln(1 + r)))

    def entropy(self):
        r = self.concentration_reciprocal
        return euler_constant * (1 - r) + fnp.log(self.scale * r) + 1


def _kumaraswamy_moment(a, b, n):
    """``E[x**n]`` of Kumaraswamy(a, b): ``b B(1 + n / a, b)``."""
    arg = 1 + n / a
    return b * fnp.exp(fsp.gammaln(arg) + fsp.gammaln(b) - fsp.gammaln(arg + b))


class Kumaraswamy(TransformedDistribution):
    """The Kumaraswamy distribution on [0, 1], density ``a b x**(a - 1) (1 - x**a)**(b - 1)`` with
    ``a = concentration1``, ``b = concentration0``: ``(1 - u**(1 / b))**(1 / a)`` of a uniform ``u``
    (``torch.distributions.Kumaraswamy``).

    >>> import fnx
    >>> from fnx.distributions import Kumaraswamy
    >>> Kumaraswamy(2.0, 1.0).cdf(fnx.numpy.array(0.5))
    Array(0.25, dtype=float32)
    """
    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        c0 = self.concentration0
        base = Uniform(fnp.zeros_like(c0), fnp.ones_like(c0), validate_args=validate_args)
        transforms = [PowerTransform(exponent=1 / c0), AffineTransform(loc=1.0, scale=-1.0),
                      PowerTransform(exponent=1 / self.concentration1)]
        super().__init__(base, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Kumaraswamy, _instance)
        batch_shape = self._batch_for(batch_shape)
        new.concentration1 = _expand(self.concentration1, batch_shape)
        new.concentration0 = _expand(self.concentration0, batch_shape)
        return super().expand(batch_shape, _instance=new)

    @property
    def mean(self):
        return _kumaraswamy_moment(self.concentration1, self.concentration0, 1)

    @property
    def mode(self):
        # ((a - 1) / (a b - 1))**(1 / a) where a, b >= 1 and not both 1; PyTorch's formula is nan everywhere
        a, b = self.concentration1, self.concentration0
        defined = (a >= 1) & (b >= 1) & ((a > 1) | (b > 1))
        a_, b_ = fnp.where(defined, a, 2.0), fnp.where(defined, b, 2.0)
        return fnp.where(defined, ((a_ - 1) / (a_ * b_ - 1)) ** (1 / a_), math.nan)

    @property
    def variance(self):
        return _kumaraswamy_moment(self.concentration1, self.concentration0, 2) - self.mean ** 2

    def entropy(self):
        t1 = 1 - 1 / self.concentration1
        t0 = 1 - 1 / self.concentration0
        h0 = fsp.digamma(self.concentration0 + 1) + euler_constant
        return t0 + t1 * h0 - fnp.log(self.concentration1) - fnp.log(self.concentration0)


class InverseGamma(TransformedDistribution):
    """``1 / X`` for ``X ~ Gamma(concentration, rate)`` (``torch.distributions.InverseGamma``); ``rsample``
    differentiates through the Gamma draw, implicitly in ``concentration``.

    >>> from fnx.distributions import InverseGamma
    >>> InverseGamma(3.0, 2.0).mean
    Array(1., dtype=float32)
    """
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        base = Gamma(concentration, rate, validate_args=validate_args)
        neg_one = fnp.asarray(-1.0, dtype=base.rate.dtype)
        super().__init__(base, PowerTransform(neg_one), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return super().expand(batch_shape, _instance=self._get_checked_instance(InverseGamma, _instance))

    @property
    def concentration(self):
        return self.base_dist.concentration

    @property
    def rate(self):
        return self.base_dist.rate

    @property
    def mean(self):
        c = fnp.where(self.concentration > 1, self.concentration, 2.0)
        return fnp.where(self.concentration > 1, self.rate / (c - 1), math.inf)

    @property
    def mode(self):
        return self.rate / (self.concentration + 1)

    @property
    def variance(self):
        c = fnp.where(self.concentration > 2, self.concentration, 3.0)
        return fnp.where(self.concentration > 2, self.rate ** 2 / ((c - 1) ** 2 * (c - 2)), math.inf)

    def entropy(self):
        c = self.concentration
        return c + fnp.log(self.rate) + fsp.gammaln(c) - (1 + c) * fsp.digamma(c)

# ----- low-rank multivariate normal ------------------------------------------------------------------------


def _batch_capacitance_tril(W, D):
    """The lower Cholesky factor of ``I + W^T D^-1 W`` for batches of ``W`` (``(..., n, m)``) and ``D``
    (``(..., n)``)."""
    m = W.shape[-1]
    K = fnp.matmul(fnp.swapaxes(W, -2, -1) / fnp.expand_dims(D, -2), W)
    return linalg.cholesky(K + fnp.eye(m, dtype=K.dtype))


def _batch_lowrank_logdet(W, D, capacitance_tril):
    """``log det(W W^T + D) = log det C + log det D`` (the matrix determinant lemma)."""
    return (2 * fnp.sum(fnp.log(fnp.diagonal(capacitance_tril, 0, -2, -1)), axis=-1)
            + fnp.sum(fnp.log(D), axis=-1))


def _batch_lowrank_mahalanobis(W, D, x, capacitance_tril):
    """``x^T (W W^T + D)^-1 x`` by the Woodbury identity, through the capacitance ``C``."""
    Wt_Dinv_x = _batch_mv(fnp.swapaxes(W, -2, -1) / fnp.expand_dims(D, -2), x)
    return fnp.sum(x ** 2 / D, axis=-1) - _batch_mahalanobis(capacitance_tril, Wt_Dinv_x)


class LowRankMultivariateNormal(Distribution):
    """The multivariate normal of mean ``loc`` and covariance ``cov_factor @ cov_factor.T + diag(cov_diag)``
    (``torch.distributions.LowRankMultivariateNormal``): ``cov_factor`` is ``(..., n, rank)``; densities and
    entropies need only ``rank x rank`` factorisations.

    >>> import fnx.numpy as fnp
    >>> from fnx.distributions import LowRankMultivariateNormal
    >>> d = LowRankMultivariateNormal(fnp.zeros(2), fnp.array([[1.0], [0.0]]), fnp.ones(2))
    >>> d.covariance_matrix
    Array([[2., 0.],
           [0., 1.]], dtype=float32)
    >>> d.sample((4,)).shape
    (4, 2)
    """
    arg_constraints = {"loc": constraints.real_vector, "cov_factor": constraints.independent(constraints.real, 2),
                       "cov_diag": constraints.independent(constraints.positive, 1)}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, cov_factor, cov_diag, validate_args=None):
        dtype = _float_dtype(loc, cov_factor, cov_diag)
        loc, cov_factor, cov_diag = (_as_param(x, dtype) for x in (loc, cov_factor, cov_diag))
        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        event_shape = loc.shape[-1:]
        if cov_factor.ndim < 2:
            raise ValueError("cov_factor must be at least two-dimensional, with optional leading batch dimensions")
        if cov_factor.shape[-2:-1] != event_shape:
            raise ValueError(f"cov_factor must be a batch of matrices with shape {event_shape[0]} x m")
        if cov_diag.shape[-1:] != event_shape:
            raise ValueError(f"cov_diag must be a batch of vectors with shape {event_shape}")
        try:
            shape = fnp.broadcast_shapes(loc.shape + (1,), cov_factor.shape, cov_diag.shape + (1,))
        except ValueError as e:
            raise ValueError(f"Incompatible batch shapes: loc {loc.shape}, cov_factor {cov_factor.shape}, "
                             f"cov_diag {cov_diag.shape}") from e
        self.cov_factor = _expand(cov_factor, shape)
        self.loc = _expand(loc, shape[:-1])
        self.cov_diag = _expand(cov_diag, shape[:-1])
        self._unbroadcasted_cov_factor = cov_factor
        self._unbroadcasted_cov_diag = cov_diag
        self._capacitance_tril = _batch_capacitance_tril(cov_factor, cov_diag)
        super().__init__(shape[:-2], event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LowRankMultivariateNormal, _instance)
        batch_shape = self._batch_for(batch_shape)
        loc_shape = batch_shape + self._event_shape
        new.loc = _expand(self.loc, loc_shape)
        new.cov_diag = _expand(self.cov_diag, loc_shape)
        new.cov_factor = _expand(self.cov_factor, loc_shape + self.cov_factor.shape[-1:])
        new._unbroadcasted_cov_factor = self._unbroadcasted_cov_factor
        new._unbroadcasted_cov_diag = self._unbroadcasted_cov_diag
        new._capacitance_tril = self._capacitance_tril
        return self._expanded(new, batch_shape)

    def _full(self, x):
        return _expand(x, self._batch_shape + self._event_shape * 2)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @lazy_property
    def variance(self):
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        return _expand(fnp.sum(W ** 2, axis=-1) + D, self._batch_shape + self._event_shape)

    @lazy_property
    def scale_tril(self):
        # W W^T + D = D^1/2 (I + D^-1/2 W W^T D^-1/2) D^1/2, whose middle factor has eigenvalues >= 1
        n = self._event_shape[0]
        sqrt_d = fnp.expand_dims(fnp.sqrt(self._unbroadcasted_cov_diag), -1)
        Dinvsqrt_W = self._unbroadcasted_cov_factor / sqrt_d
        K = fnp.matmul(Dinvsqrt_W, fnp.swapaxes(Dinvsqrt_W, -2, -1)) + fnp.eye(n, dtype=sqrt_d.dtype)
        return self._full(sqrt_d * linalg.cholesky(K))

    @lazy_property
    def covariance_matrix(self):
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        return self._full(fnp.matmul(W, fnp.swapaxes(W, -2, -1)) + fnp.expand_dims(D, -1) * fnp.eye(D.shape[-1]))

    @lazy_property
    def precision_matrix(self):
        # (W W^T + D)^-1 = D^-1 - D^-1 W C^-1 W^T D^-1, with C the capacitance
        W, D = self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag
        Wt_Dinv = fnp.swapaxes(W, -2, -1) / fnp.expand_dims(D, -2)
        L = self._capacitance_tril
        A = linalg.solve_triangular(L, fnp.broadcast_to(Wt_Dinv, L.shape[:-2] + Wt_Dinv.shape[-2:]), upper=False)
        inv_d = fnp.expand_dims(1 / D, -1) * fnp.eye(D.shape[-1], dtype=D.dtype)
        return self._full(inv_d - fnp.matmul(fnp.swapaxes(A, -2, -1), A))

    def rsample(self, sample_shape=(), *, key=None):
        shape = self._extended_shape(sample_shape)
        kw, kd = random.split(_key(key, self.loc))
        eps_w = random.normal(kw, shape[:-1] + self.cov_factor.shape[-1:], self.loc.dtype)
        eps_d = random.normal(kd, shape, self.loc.dtype)
        return (self.loc + _batch_mv(self._unbroadcasted_cov_factor, eps_w)
                + fnp.sqrt(self._unbroadcasted_cov_diag) * eps_d)

    def _log_det(self):
        return _batch_lowrank_logdet(self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag,
                                     self._capacitance_tril)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        M = _batch_lowrank_mahalanobis(self._unbroadcasted_cov_factor, self._unbroadcasted_cov_diag,
                                       value - self.loc, self._capacitance_tril)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + self._log_det() + M)

    def entropy(self):
        H = 0.5 * (self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + self._log_det())
        return _expand(H, self._batch_shape)

# ----- circular ---------------------------------------------------------------------------------------------


def _eval_poly(y, coef):
    result = coef[-1]
    for c in reversed(coef[:-1]):
        result = c + y * result
    return result


# Abramowitz and Stegun 9.8.1-9.8.4 (relative error below 2e-7), PyTorch's approximations of I0 and I1
_I0_SMALL = [1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.360768e-1, 0.45813e-2]
_I0_LARGE = [0.39894228, 0.1328592e-1, 0.225319e-2, -0.157565e-2, 0.916281e-2, -0.2057706e-1, 0.2635537e-1,
             -0.1647633e-1, 0.392377e-2]
_I1_SMALL = [0.5, 0.87890594, 0.51498869, 0.15084934, 0.2658733e-1, 0.301532e-2, 0.32411e-3]
_I1_LARGE = [0.39894228, -0.3988024e-1, -0.362018e-2, 0.163801e-2, -0.1031555e-1, 0.2282967e-1, -0.2895312e-1,
             0.1787654e-1, -0.420059e-2]


def _log_modified_bessel_fn(x, order=0):
    """``log I_order(x)`` for ``x > 0`` and order 0 or 1, by PyTorch's polynomial approximations."""
    small_x = fnp.where(x < 3.75, x, 1.0)  # each branch sees only its own arguments, so derivatives stay finite
    large_x = fnp.where(x < 3.75, 3.75, x)
    small = _eval_poly((small_x / 3.75) ** 2, _I0_SMALL if order == 0 else _I1_SMALL)
    if order == 1:
        small = fnp.abs(small_x) * small
    large = large_x - 0.5 * fnp.log(large_x) + fnp.log(_eval_poly(3.75 / large_x, _I0_LARGE if order == 0
                                                                  else _I1_LARGE))
    return fnp.where(x < 3.75, fnp.log(small), large)


# Best and Fisher's sampler accepts a proposal with probability above 0.65 for every concentration; rounds run
# until every draw is accepted, at most 70, which leave a draw unaccepted with probability below 0.35**70 < 1e-31.
_VON_MISES_ROUNDS = 70


class VonMises(Distribution):
    """The circular von Mises distribution of mean angle ``loc`` and concentration ``concentration``, density
    ``exp(concentration cos(x - loc)) / (2 pi I0(concentration))`` (``torch.distributions.VonMises``). Angles are
    taken modulo 2 pi; draws lie in [-pi, pi). ``mean`` and ``variance`` are the circular ones, and ``I0``,
    ``I1`` are PyTorch's polynomial approximations.

    >>> import fnx
    >>> from fnx.distributions import VonMises
    >>> VonMises(0.0, 1.0).log_prob(fnx.numpy.array(0.0))
    Array(-1.0737914, dtype=float32)
    """
    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(VonMises, batch_shape, _instance, ("loc", "concentration"))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        k = self.concentration
        return k * fnp.cos(value - self.loc) - math.log(2 * math.pi) - _log_modified_bessel_fn(k, order=0)

    def sample(self, sample_shape=(), *, key=None):
        """Best and Fisher's rejection sampler ("Efficient simulation of the von Mises distribution", 1979), in
        float64, in vectorised rounds of a ``lax.while_loop`` (so ``jit`` and ``vmap`` take it)."""
        shape = self._extended_shape(sample_shape)
        key = _key(key, self.loc)
        loc = fnp.astype(fnp.stop_gradient(self.loc), "float64")
        k = fnp.astype(fnp.stop_gradient(self.concentration), "float64")
        exact = k >= 1e-5  # below, Taylor's expansion (the exact formula cancels to 0 / 0)
        k_exact = fnp.where(exact, k, 1.0)
        tau = 1 + fnp.sqrt(1 + 4 * k_exact ** 2)
        rho = (tau - fnp.sqrt(2 * tau)) / (2 * k_exact)
        r = fnp.where(exact, (1 + rho ** 2) / (2 * rho), 1 / k + k)
        tiny = _tiny("float64")

        def propose(state):
            i, x, done = state
            u = fnp.maximum(random.uniform(random.fold_in(key, i), (3,) + shape, "float64"), tiny)
            z = fnp.cos(math.pi * u[0])
            f = fnp.clip((1 + r * z) / (r + z), -1.0, 1.0)
            c = k * (r - f)
            accept = ((c * (2 - c) - u[1]) > 0) | (fnp.log(c / u[1]) + 1 - c >= 0)
            x = fnp.where(accept & ~done, fnp.sign(u[2] - 0.5) * fnp.arccos(f), x)
            return i + 1, x, done | accept

        def pending(state):
            i, _, done = state
            return (i < _VON_MISES_ROUNDS) & ~fnp.all(done)
        start = (fnp.asarray(0, dtype="int32"), fnp.zeros(shape, "float64"), fnp.zeros(shape, bool))
        _, x, _ = lax.while_loop(pending, propose, start)
        x = (x + math.pi + loc) % (2 * math.pi) - math.pi
        return fnp.astype(x, self.loc.dtype)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @lazy_property
    def variance(self):
        k = self.concentration
        return 1 - fnp.exp(_log_modified_bessel_fn(k, order=1) - _log_modified_bessel_fn(k, order=0))

# ----- continuous Bernoulli ------------------------------------------------------------------------------


class ContinuousBernoulli(_BinaryProbsOrLogits):
    """The continuous Bernoulli distribution on [0, 1], density proportional to ``p**x (1 - p)**(1 - x)``
    (Loaiza-Ganem and Cunningham, 2019) (``torch.distributions.ContinuousBernoulli``). ``probs`` (or
    ``sigmoid(logits)``) is clamped away from 0 and 1; for ``probs`` within ``lims`` of 1/2 the normaliser,
    moments and quantiles use Taylor expansions, as in PyTorch. ``rsample`` inverts the distribution function.

    >>> import fnx
    >>> from fnx.distributions import ContinuousBernoulli
    >>> d = ContinuousBernoulli(probs=0.5)
    >>> d.log_prob(fnx.numpy.array(0.3)), d.mean
    (Array(0., dtype=float32), Array(0.5, dtype=float32))
    """
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, probs=None, logits=None, lims=(0.499, 0.501), validate_args=None):
        _probs_or_logits(self, probs, logits)
        self._lims = lims
        super().__init__(self._param.shape, validate_args=validate_args)  # checks probs before the clamp
        if probs is not None:
            self.probs = self._param = clamp_probs(self.probs)

    def expand(self, batch_shape, _instance=None):
        new, batch_shape = self._expand_probs_or_logits(ContinuousBernoulli, batch_shape, _instance)
        new._lims = self._lims
        return self._expanded(new, batch_shape)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return clamp_probs(logits_to_probs(self.logits, is_binary=True))

    def _outside_unstable_region(self):
        return (self.probs <= self._lims[0]) | (self.probs > self._lims[1])

    def _cut_probs(self):
        return fnp.where(self._outside_unstable_region(), self.probs, self._lims[0])

    def _cont_bern_log_norm(self):
        """The log normaliser as a function of ``probs``."""
        cut = self._cut_probs()
        below_half = fnp.where(cut <= 0.5, cut, 0.0)
        above_half = fnp.where(cut >= 0.5, cut, 1.0)
        log_norm = (fnp.log(fnp.abs(fnp.log1p(-cut) - fnp.log(cut)))
                    - fnp.where(cut <= 0.5, fnp.log1p(-2.0 * below_half), fnp.log(2.0 * above_half - 1.0)))
        x = (self.probs - 0.5) ** 2
        taylor = math.log(2.0) + (4.0 / 3.0 + 104.0 / 45.0 * x) * x
        return fnp.where(self._outside_unstable_region(), log_norm, taylor)

    @property
    def mean(self):
        cut = self._cut_probs()
        mus = cut / (2.0 * cut - 1.0) + 1.0 / (fnp.log1p(-cut) - fnp.log(cut))
        x = self.probs - 0.5
        taylor = 0.5 + (1.0 / 3.0 + 16.0 / 45.0 * x ** 2) * x
        return fnp.where(self._outside_unstable_region(), mus, taylor)

    @property
    def variance(self):
        cut = self._cut_probs()
        variances = cut * (cut - 1.0) / (1.0 - 2.0 * cut) ** 2 + 1.0 / (fnp.log1p(-cut) - fnp.log(cut)) ** 2
        x = (self.probs - 0.5) ** 2
        taylor = 1.0 / 12.0 - (1.0 / 15.0 - 128.0 / 945.0 * x) * x
        return fnp.where(self._outside_unstable_region(), variances, taylor)

    def rsample(self, sample_shape=(), *, key=None):
        shape = self._extended_shape(sample_shape)
        u = random.uniform(_key(key, self.probs), shape, self.probs.dtype)
        return self.icdf(u)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -_bce_with_logits(logits, value) + self._cont_bern_log_norm()

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        cut = self._cut_probs()
        cdfs = (cut ** value * (1.0 - cut) ** (1.0 - value) + cut - 1.0) / (2.0 * cut - 1.0)
        unbounded = fnp.where(self._outside_unstable_region(), cdfs, value)
        return fnp.where(value <= 0.0, 0.0, fnp.where(value >= 1.0, 1.0, unbounded))

    def icdf(self, value):
        cut = self._cut_probs()
        inverse = ((fnp.log1p(-cut + value * (2.0 * cut - 1.0)) - fnp.log1p(-cut))
                   / (fnp.log(cut) - fnp.log1p(-cut)))
        return fnp.where(self._outside_unstable_region(), inverse, value)

    def entropy(self):
        log_p0, log_p1 = fnp.log1p(-self.probs), fnp.log(self.probs)
        return self.mean * (log_p0 - log_p1) - self._cont_bern_log_norm() - log_p0
