"""The gamma family: Gamma, Chi2, Beta, Dirichlet, and StudentT (a normal over a chi-square).

All of them draw through ``fnx.random.loggamma``, whose rejection sampler is not
a smooth function of the shape parameter; ``rsample`` differentiates those
draws implicitly (see ``utils._standard_loggamma``), as PyTorch does. Draws are
kept in logs until the end, so Dirichlet and Beta samples with small
concentrations keep their mass near the corners instead of underflowing to 0/0.
"""
import math

from .. import numpy as fnp
from .. import random
from ..core.array import Array
from ..scipy import special as fsp
from . import constraints
from .distribution import Distribution
from .utils import _key, _standard_loggamma, _tiny, broadcast_all

__all__ = ["Gamma", "Chi2", "Beta", "Dirichlet", "StudentT"]


class Gamma(Distribution):
    """The gamma distribution of shape ``concentration`` and rate ``rate`` (``torch.distributions.Gamma``).

    .. math:: \\log p(x) = \\alpha \\log \\beta + (\\alpha - 1) \\log x - \\beta x - \\log \\Gamma(\\alpha)

    ``rsample`` is differentiable in both parameters (implicitly in ``concentration``).

    >>> import fnx
    >>> from fnx.distributions import Gamma
    >>> d = Gamma(2.0, 4.0)
    >>> d.mean, d.variance
    (Array(0.5, dtype=float32), Array(0.125, dtype=float32))
    """
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(self.concentration.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Gamma, batch_shape, _instance, ("concentration", "rate"))

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return fnp.clip((self.concentration - 1) / self.rate, 0, None)

    @property
    def variance(self):
        return self.concentration / self.rate ** 2

    def rsample(self, sample_shape=(), *, key=None):
        shape = self._extended_shape(sample_shape)
        x = fnp.exp(_standard_loggamma(self.concentration, shape, key)) / self.rate
        # PyTorch clamps the value (not its derivative) at the smallest normal float
        return x + fnp.stop_gradient(fnp.maximum(x, _tiny(x.dtype)) - x)

    def log_prob(self, value):
        if not isinstance(value, Array) or value.dtype != self.rate.dtype:
            value = fnp.asarray(value, self.rate.dtype)
        if self._validate_args:
            self._validate_sample(value)
        c, r = self.concentration, self.rate
        return fsp.xlogy(c, r) + fsp.xlogy(c - 1, value) - r * value - fsp.gammaln(c)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return fsp.gammainc(self.concentration, self.rate * value)

    def entropy(self):
        c = self.concentration
        return c - fnp.log(self.rate) + fsp.gammaln(c) + (1.0 - c) * fsp.digamma(c)


class Chi2(Gamma):
    """The chi-square distribution with ``df`` degrees of freedom, ``Gamma(df / 2, 1 / 2)``
    (``torch.distributions.Chi2``).

    >>> from fnx.distributions import Chi2
    >>> Chi2(3.0).mean
    Array(3., dtype=float32)
    """
    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        (df,) = broadcast_all(df)
        super().__init__(0.5 * df, 0.5, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return super().expand(batch_shape, self._get_checked_instance(Chi2, _instance))

    @property
    def df(self):
        return self.concentration * 2


class Dirichlet(Distribution):
    """The Dirichlet distribution of concentrations ``concentration`` (last axis), over the simplex
    (``torch.distributions.Dirichlet``).

    >>> import fnx
    >>> from fnx.distributions import Dirichlet
    >>> d = Dirichlet(fnx.numpy.array([1.0, 3.0]))
    >>> d.mean
    Array([0.25, 0.75], dtype=float32)
    >>> d.sample((5,)).shape
    (5, 2)
    """
    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        (concentration,) = broadcast_all(concentration)
        if concentration.ndim < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Dirichlet, batch_shape, _instance, ("concentration",), event_ndims=1)

    def rsample(self, sample_shape=(), *, key=None):
        shape = self._extended_shape(sample_shape)
        log_g = _standard_loggamma(self.concentration, shape, key)
        return fnp.exp(log_g - fsp.logsumexp(log_g, axis=-1, keepdims=True))

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return (fnp.sum(fsp.xlogy(c - 1.0, value), axis=-1) + fsp.gammaln(fnp.sum(c, axis=-1))
                - fnp.sum(fsp.gammaln(c), axis=-1))

    @property
    def mean(self):
        return self.concentration / fnp.sum(self.concentration, axis=-1, keepdims=True)

    @property
    def mode(self):
        cm1 = fnp.clip(self.concentration - 1, 0, None)
        total = fnp.sum(cm1, axis=-1, keepdims=True)
        mode = fnp.where(total > 0, cm1 / fnp.where(total > 0, total, 1.0), math.nan)  # 0/0 is nan, as in PyTorch
        # every concentration below 1: the mass piles up in a corner, as PyTorch picks it (the first)
        corner = fnp.all(self.concentration < 1, axis=-1, keepdims=True)
        first = fnp.astype(fnp.arange(cm1.shape[-1]) == 0, mode.dtype)
        return fnp.where(corner, first, mode)

    @property
    def variance(self):
        c = self.concentration
        c0 = fnp.sum(c, axis=-1, keepdims=True)
        return c * (c0 - c) / (c0 ** 2 * (c0 + 1))

    def entropy(self):
        c = self.concentration
        k = c.shape[-1]
        a0 = fnp.sum(c, axis=-1)
        return (fnp.sum(fsp.gammaln(c), axis=-1) - fsp.gammaln(a0) - (k - a0) * fsp.digamma(a0)
                - fnp.sum((c - 1.0) * fsp.digamma(c), axis=-1))


class Beta(Distribution):
    """The beta distribution on [0, 1], density proportional to ``x**(c1 - 1) (1 - x)**(c0 - 1)``
    (``torch.distributions.Beta``); a two-category Dirichlet underneath.

    >>> from fnx.distributions import Beta
    >>> Beta(2.0, 6.0).mean
    Array(0.25, dtype=float32)
    """
    arg_constraints = {"concentration1": constraints.positive, "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        c1, c0 = broadcast_all(concentration1, concentration0)
        self._dirichlet = Dirichlet(fnp.stack([c1, c0], axis=-1), validate_args=validate_args)
        super().__init__(self._dirichlet.batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Beta, _instance)
        batch_shape = self._batch_for(batch_shape)
        new._dirichlet = self._dirichlet.expand(batch_shape)
        return self._expanded(new, batch_shape)

    @property
    def concentration1(self):
        return self._dirichlet.concentration[..., 0]

    @property
    def concentration0(self):
        return self._dirichlet.concentration[..., 1]

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total ** 2 * (total + 1))

    def rsample(self, sample_shape=(), *, key=None):
        return self._dirichlet.rsample(sample_shape, key=key)[..., 0]

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self._dirichlet.log_prob(fnp.stack([value, 1.0 - value], axis=-1))

    def entropy(self):
        return self._dirichlet.entropy()


class StudentT(Distribution):
    """Student's t distribution with ``df`` degrees of freedom, location ``loc`` and scale ``scale``
    (``torch.distributions.StudentT``): ``loc + scale * z / sqrt(chi2 / df)``.

    >>> from fnx.distributions import StudentT
    >>> StudentT(4.0).variance
    Array(2., dtype=float32)
    """
    arg_constraints = {"df": constraints.positive, "loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = broadcast_all(df, loc, scale)
        self._chi2 = Chi2(self.df)
        super().__init__(self.df.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._expand_params(StudentT, batch_shape, _instance, ("df", "loc", "scale"))
        new._chi2 = self._chi2.expand(new.batch_shape)
        return new

    @property
    def mean(self):
        return fnp.where(self.df > 1, self.loc, math.nan)

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        df = self.df
        finite = self.scale ** 2 * df / fnp.where(df > 2, df - 2, 1.0)
        return fnp.where(df > 2, finite, fnp.where(df > 1, math.inf, math.nan))

    def rsample(self, sample_shape=(), *, key=None):
        shape = self._extended_shape(sample_shape)
        kz, kg = random.split(_key(key, self.df))
        z = random.normal(kz, shape, self.df.dtype)
        # chi2 / df = gamma(df / 2) / (df / 2), taken in logs so that small df do not overflow the ratio
        half = 0.5 * self.df
        log_ratio = _standard_loggamma(half, shape, kg) - fnp.log(half)
        return self.loc + self.scale * z * fnp.exp(-0.5 * log_ratio)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        df = self.df
        y = (value - self.loc) / self.scale
        z = (fnp.log(self.scale) + 0.5 * fnp.log(df) + 0.5 * math.log(math.pi) + fsp.gammaln(0.5 * df)
             - fsp.gammaln(0.5 * (df + 1.0)))
        return -0.5 * (df + 1.0) * fnp.log1p(y ** 2 / df) - z

    def entropy(self):
        df = self.df
        lbeta = fsp.gammaln(0.5 * df) + math.lgamma(0.5) - fsp.gammaln(0.5 * (df + 1))
        return (fnp.log(self.scale) + 0.5 * (df + 1) * (fsp.digamma(0.5 * (df + 1)) - fsp.digamma(0.5 * df))
                + 0.5 * fnp.log(df) + lbeta)
