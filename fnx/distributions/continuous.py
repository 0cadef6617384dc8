"""Location-scale and other closed-form continuous distributions: Normal, Uniform, Exponential, Laplace, Cauchy.

Each draw is a smooth function of the parameters and a standard draw from
``fnx.random`` (``loc + scale * eps``), so ``rsample`` is differentiable by
construction; the densities, distribution functions and entropies are
PyTorch's formulas written in fnx operations.
"""
import math

from .. import numpy as fnp
from .. import random
from ..scipy import special as fsp
from . import constraints
from .distribution import Distribution
from .utils import _key, broadcast_all

__all__ = ["Normal", "Uniform", "Exponential", "Laplace", "Cauchy"]

_LOG_SQRT_2PI = math.log(math.sqrt(2.0 * math.pi))


class _LocScale(Distribution):
    """A location-scale family on the reals (Normal, Laplace, Cauchy): ``loc`` and ``scale`` broadcast together,
    reparameterised samples, and ``loc`` as the mode."""
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(self.loc.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        # The family is the class defined on this base (Normal for a user's subclass of Normal), as PyTorch passes.
        family = next(c for c in type(self).__mro__ if _LocScale in c.__bases__)
        return self._expand_params(family, batch_shape, _instance, ("loc", "scale"))

    @property
    def mode(self):
        return self.loc


class Normal(_LocScale):
    """The normal distribution of mean ``loc`` and standard deviation ``scale`` (``torch.distributions.Normal``).

    .. math:: \\log p(x) = -\\frac{(x - \\mu)^2}{2 \\sigma^2} - \\log \\sigma - \\log \\sqrt{2 \\pi}

    >>> import fnx
    >>> from fnx.distributions import Normal
    >>> d = Normal(0.0, 1.0)
    >>> d.log_prob(fnx.numpy.array(0.0))
    Array(-0.9189385, dtype=float32)
    >>> d.sample((3,)).shape
    (3,)
    """

    @property
    def mean(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale ** 2

    def rsample(self, sample_shape=(), *, key=None):
        eps = random.normal(_key(key, self.loc), self._extended_shape(sample_shape), self.loc.dtype)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -((value - self.loc) ** 2) / (2 * self.scale ** 2) - fnp.log(self.scale) - _LOG_SQRT_2PI

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + fsp.erf((value - self.loc) / self.scale / math.sqrt(2)))

    def icdf(self, value):
        return self.loc + self.scale * fsp.erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + fnp.log(self.scale)


class Uniform(Distribution):
    """The uniform distribution on ``[low, high)`` (``torch.distributions.Uniform``).

    >>> from fnx.distributions import Uniform
    >>> Uniform(0.0, 4.0).entropy()
    Array(1.3862944, dtype=float32)
    """
    has_rsample = True

    @property
    def arg_constraints(self):
        return {"low": constraints.less_than(self.high), "high": constraints.greater_than(self.low)}

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = broadcast_all(low, high)
        super().__init__(self.low.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Uniform, batch_shape, _instance, ("low", "high"))

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.interval(self.low, self.high)

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def mode(self):
        return math.nan * self.high

    @property
    def stddev(self):
        return (self.high - self.low) / 12 ** 0.5

    @property
    def variance(self):
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape=(), *, key=None):
        u = random.uniform(_key(key, self.low), self._extended_shape(sample_shape), self.low.dtype)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        inside = (self.low <= value) & (self.high > value)
        return fnp.where(inside, -fnp.log(self.high - self.low), -math.inf)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return fnp.clip((value - self.low) / (self.high - self.low), 0, 1)

    def icdf(self, value):
        return value * (self.high - self.low) + self.low

    def entropy(self):
        return fnp.log(self.high - self.low)


class Exponential(Distribution):
    """The exponential distribution of rate ``rate``, density ``rate * exp(-rate * x)`` on ``x >= 0``
    (``torch.distributions.Exponential``).

    >>> from fnx.distributions import Exponential
    >>> Exponential(2.0).mean
    Array(0.5, dtype=float32)
    """
    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Exponential, batch_shape, _instance, ("rate",))

    @property
    def mean(self):
        return 1 / self.rate

    @property
    def mode(self):
        return fnp.zeros_like(self.rate)

    @property
    def stddev(self):
        return 1 / self.rate

    @property
    def variance(self):
        return self.rate ** -2

    def rsample(self, sample_shape=(), *, key=None):
        e = random.exponential(_key(key, self.rate), self._extended_shape(sample_shape), self.rate.dtype)
        return e / self.rate

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return fnp.log(self.rate) - self.rate * value

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 1 - fnp.exp(-self.rate * value)

    def icdf(self, value):
        return -fnp.log1p(-value) / self.rate

    def entropy(self):
        return 1.0 - fnp.log(self.rate)


class Laplace(_LocScale):
    """The Laplace distribution, density ``exp(-|x - loc| / scale) / (2 scale)`` (``torch.distributions.Laplace``).

    >>> from fnx.distributions import Laplace
    >>> Laplace(0.0, 1.0).variance
    Array(2., dtype=float32)
    """

    @property
    def mean(self):
        return self.loc

    @property
    def variance(self):
        return 2 * self.scale ** 2

    @property
    def stddev(self):
        return 2 ** 0.5 * self.scale

    def rsample(self, sample_shape=(), *, key=None):
        eps = random.laplace(_key(key, self.loc), self._extended_shape(sample_shape), self.loc.dtype)
        return self.loc + self.scale * eps

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -fnp.log(2 * self.scale) - fnp.abs(value - self.loc) / self.scale

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = value - self.loc
        return 0.5 - 0.5 * fnp.sign(z) * fnp.expm1(-fnp.abs(z) / self.scale)

    def icdf(self, value):
        term = value - 0.5
        return self.loc - self.scale * fnp.sign(term) * fnp.log1p(-2 * fnp.abs(term))

    def entropy(self):
        return 1 + fnp.log(2 * self.scale)


class Cauchy(_LocScale):
    """The Cauchy distribution of median ``loc`` and half width ``scale`` (``torch.distributions.Cauchy``); its
    mean is undefined (nan) and its variance infinite.

    >>> import fnx
    >>> from fnx.distributions import Cauchy
    >>> Cauchy(0.0, 1.0).cdf(fnx.numpy.array(1.0))
    Array(0.75, dtype=float32)
    """

    @property
    def mean(self):
        return fnp.full(self._extended_shape(), math.nan, self.loc.dtype, device=self.loc.device)

    @property
    def variance(self):
        return fnp.full(self._extended_shape(), math.inf, self.loc.dtype, device=self.loc.device)

    def rsample(self, sample_shape=(), *, key=None):
        eps = random.cauchy(_key(key, self.loc), self._extended_shape(sample_shape), self.loc.dtype)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return -math.log(math.pi) - fnp.log(self.scale) - fnp.log1p(((value - self.loc) / self.scale) ** 2)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return fnp.arctan((value - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value):
        return fnp.tan(math.pi * (value - 0.5)) * self.scale + self.loc

    def entropy(self):
        return math.log(4 * math.pi) + fnp.log(self.scale)
