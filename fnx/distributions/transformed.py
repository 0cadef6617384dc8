"""TransformedDistribution, and the distributions PyTorch builds on it: LogNormal, Gumbel and the relaxed
(Concrete / Gumbel-softmax) Bernoulli and one-hot categorical.

If ``X`` has density ``p`` and ``Y = f(X)`` for an invertible ``f``, then
``log p_Y(y) = log p(f^-1(y)) - log |det df/dx|`` at ``x = f^-1(y)``; a draw of
``Y`` is ``f`` of a draw of ``X``, so it is reparameterised when ``X``'s is.
"""
import math

import numpy as np

from .. import numpy as fnp
from .. import random
from ..scipy import special as fsp
from . import constraints
from .continuous import Cauchy, Normal, Uniform
from .discrete import Categorical, _BinaryPair, _OnCategorical
from .distribution import Distribution
from .independent import Independent
from .transforms import AbsTransform, AffineTransform, ComposeTransform, ExpTransform, SigmoidTransform, Transform
from .utils import _key, _sum_rightmost, broadcast_all, clamp_probs, euler_constant

__all__ = ["TransformedDistribution", "LogNormal", "HalfNormal", "HalfCauchy", "Gumbel", "LogitRelaxedBernoulli",
           "RelaxedBernoulli", "ExpRelaxedCategorical", "RelaxedOneHotCategorical"]


class TransformedDistribution(Distribution):
    """``base_distribution`` pushed through ``transforms`` (one Transform or a list, applied in order)
    (``torch.distributions.TransformedDistribution``).

    >>> import fnx
    >>> from fnx.distributions import Normal, TransformedDistribution
    >>> from fnx.distributions.transforms import ExpTransform
    >>> d = TransformedDistribution(Normal(0.0, 1.0), ExpTransform())
    >>> d.log_prob(fnx.numpy.array(1.0))  # the log-normal density at 1
    Array(-0.9189385, dtype=float32)
    """
    arg_constraints = {}

    def __init__(self, base_distribution, transforms, validate_args=None):
        if isinstance(transforms, Transform):
            self.transforms = [transforms]
        elif isinstance(transforms, list):
            if not all(isinstance(t, Transform) for t in transforms):
                raise ValueError("transforms must be a Transform or a list of Transforms")
            self.transforms = transforms
        else:
            raise ValueError(f"transforms must be a Transform or list, but was {transforms}")
        base_shape = base_distribution.batch_shape + base_distribution.event_shape
        base_event_dim = len(base_distribution.event_shape)
        transform = ComposeTransform(self.transforms)
        if len(base_shape) < transform.domain.event_dim:
            raise ValueError(f"base_distribution needs to have shape with size at least "
                             f"{transform.domain.event_dim}, but got {base_shape}.")
        forward_shape = transform.forward_shape(base_shape)
        expanded_base_shape = transform.inverse_shape(forward_shape)
        if base_shape != expanded_base_shape:
            base_distribution = base_distribution.expand(expanded_base_shape[:len(expanded_base_shape)
                                                                             - base_event_dim])
        reinterpreted = transform.domain.event_dim - base_event_dim
        if reinterpreted > 0:
            base_distribution = Independent(base_distribution, reinterpreted)
        self.base_dist = base_distribution
        event_dim = max(transform.codomain.event_dim,
                        base_event_dim + transform.codomain.event_dim - transform.domain.event_dim)
        cut = len(forward_shape) - event_dim
        super().__init__(forward_shape[:cut], forward_shape[cut:], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(TransformedDistribution, _instance)
        batch_shape = self._batch_for(batch_shape)
        shape = batch_shape + self._event_shape
        for t in reversed(self.transforms):
            shape = t.inverse_shape(shape)
        new.base_dist = self.base_dist.expand(shape[:len(shape) - len(self.base_dist.event_shape)])
        new.transforms = self.transforms
        return self._expanded(new, batch_shape)

    @constraints.dependent_property(is_discrete=False)
    def support(self):
        if not self.transforms:
            return self.base_dist.support
        support = self.transforms[-1].codomain
        if len(self._event_shape) > support.event_dim:
            support = constraints.independent(support, len(self._event_shape) - support.event_dim)
        return support

    @property
    def has_rsample(self):
        return self.base_dist.has_rsample

    def sample(self, sample_shape=(), *, key=None):
        x = self.base_dist.sample(sample_shape, key=key)
        for t in self.transforms:
            x = t(x)
        return fnp.stop_gradient(x)

    def rsample(self, sample_shape=(), *, key=None):
        x = self.base_dist.rsample(sample_shape, key=key)
        for t in self.transforms:
            x = t(x)
        return x

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        event_dim = len(self._event_shape)
        log_prob, y = 0.0, value
        for t in reversed(self.transforms):
            x = t.inv(y)
            event_dim += t.domain.event_dim - t.codomain.event_dim
            log_prob = log_prob - _sum_rightmost(t.log_abs_det_jacobian(x, y), event_dim - t.domain.event_dim)
            y = x
        return log_prob + _sum_rightmost(self.base_dist.log_prob(y), event_dim - len(self.base_dist.event_shape))

    def _monotonize_cdf(self, value):
        """``value``, or ``1 - value`` where the transforms decrease, so that the distribution function rises."""
        sign = 1
        for t in self.transforms:
            sign = sign * t.sign
        if isinstance(sign, int) and sign == 1:
            return value
        return sign * (value - 0.5) + 0.5

    def cdf(self, value):
        for t in self.transforms[::-1]:
            value = t.inv(value)
        if self._validate_args:
            self.base_dist._validate_sample(value)
        return self._monotonize_cdf(self.base_dist.cdf(value))

    def icdf(self, value):
        value = self.base_dist.icdf(self._monotonize_cdf(value))
        for t in self.transforms:
            value = t(value)
        return value


class LogNormal(TransformedDistribution):
    """``exp`` of ``Normal(loc, scale)`` (``torch.distributions.LogNormal``).

    >>> from fnx.distributions import LogNormal
    >>> round(float(LogNormal(0.0, 1.0).mean), 6)  # exp(1/2)
    1.648721
    """
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        super().__init__(Normal(loc, scale, validate_args=validate_args), ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return super().expand(batch_shape, _instance=self._get_checked_instance(LogNormal, _instance))

    @property
    def loc(self):
        return self.base_dist.loc

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mean(self):
        return fnp.exp(self.loc + self.scale ** 2 / 2)

    @property
    def mode(self):
        return fnp.exp(self.loc - self.scale ** 2)

    @property
    def variance(self):
        s2 = self.scale ** 2
        return fnp.expm1(s2) * fnp.exp(2 * self.loc + s2)

    def entropy(self):
        return self.base_dist.entropy() + self.loc


class _Folded(TransformedDistribution):
    """``|X|`` for ``X`` of a zero-centred symmetric ``base``: twice its density on ``[0, inf)``."""
    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, base, validate_args=None):
        super().__init__(base, AbsTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return super().expand(batch_shape, _instance=self._get_checked_instance(type(self), _instance))

    @property
    def scale(self):
        return self.base_dist.scale

    @property
    def mode(self):
        return fnp.zeros_like(self.scale)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = fnp.asarray(value)
        return fnp.where(value >= 0, self.base_dist.log_prob(value) + math.log(2), -math.inf)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob):
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self):
        return self.base_dist.entropy() - math.log(2)


class HalfNormal(_Folded):
    """``|Normal(0, scale)|`` (``torch.distributions.HalfNormal``).

    >>> from fnx.distributions import HalfNormal
    >>> round(float(HalfNormal(1.0).mean), 6)  # sqrt(2 / pi)
    0.797885
    """

    def __init__(self, scale, validate_args=None):
        super().__init__(Normal(0.0, scale, validate_args=False), validate_args=validate_args)

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self):
        return self.scale ** 2 * (1 - 2 / math.pi)


class HalfCauchy(_Folded):
    """``|Cauchy(0, scale)|`` (``torch.distributions.HalfCauchy``): no finite mean or variance."""

    def __init__(self, scale, validate_args=None):
        super().__init__(Cauchy(0.0, scale, validate_args=False), validate_args=validate_args)

    @property
    def mean(self):
        return fnp.full_like(self.scale, math.inf)

    @property
    def variance(self):
        return fnp.full_like(self.scale, math.inf)


class Gumbel(TransformedDistribution):
    """The Gumbel (extreme value) distribution of location ``loc`` and scale ``scale``
    (``torch.distributions.Gumbel``): ``loc - scale * log(-log(u))`` of a uniform ``u``.

    >>> from fnx.distributions import Gumbel
    >>> Gumbel(0.0, 1.0).entropy()
    Array(1.5772157, dtype=float32)
    """
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        info = np.finfo(self.loc.dtype)
        low, high = float(info.tiny), 1.0 - float(info.eps)
        base = Uniform(fnp.full_like(self.loc, low), fnp.full_like(self.loc, high), validate_args=validate_args)
        transforms = [ExpTransform().inv, AffineTransform(loc=0, scale=-fnp.ones_like(self.scale)),
                      ExpTransform().inv, AffineTransform(loc=self.loc, scale=-self.scale)]
        super().__init__(base, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Gumbel, _instance)
        batch_shape = self._batch_for(batch_shape)
        new.loc = fnp.broadcast_to(self.loc, batch_shape)
        new.scale = fnp.broadcast_to(self.scale, batch_shape)
        return super().expand(batch_shape, _instance=new)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        y = (self.loc - value) / self.scale
        return (y - fnp.exp(y)) - fnp.log(self.scale)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return fnp.exp(-fnp.exp(-(value - self.loc) / self.scale))

    def icdf(self, value):
        return self.loc - self.scale * fnp.log(-fnp.log(value))

    @property
    def mean(self):
        return self.loc + self.scale * euler_constant

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return (math.pi / math.sqrt(6)) * self.scale

    @property
    def variance(self):
        return self.stddev ** 2

    def entropy(self):
        return fnp.log(self.scale) + (1 + euler_constant)


class LogitRelaxedBernoulli(_BinaryPair, Distribution):
    """The logit of a RelaxedBernoulli draw (Maddison, Mnih and Teh, "The Concrete Distribution", 2017)
    (``torch.distributions.LogitRelaxedBernoulli``)."""
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
        else:
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        (self.temperature,) = broadcast_all(temperature)
        super().__init__(self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LogitRelaxedBernoulli, _instance)
        batch_shape = self._batch_for(batch_shape)
        new.temperature = self.temperature
        for name in ("probs", "logits"):
            if name in self.__dict__:
                setattr(new, name, fnp.broadcast_to(self.__dict__[name], batch_shape))
                new._param = getattr(new, name)
        return self._expanded(new, batch_shape)

    @property
    def param_shape(self):
        return tuple(self._param.shape)

    def rsample(self, sample_shape=(), *, key=None):
        shape = self._extended_shape(sample_shape)
        probs = clamp_probs(fnp.broadcast_to(self.probs, shape))
        u = clamp_probs(random.uniform(_key(key, probs), shape, probs.dtype))
        return (fnp.log(u) - fnp.log1p(-u) + fnp.log(probs) - fnp.log1p(-probs)) / self.temperature

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        diff = logits - value * self.temperature
        return fnp.log(self.temperature) + diff - 2 * fnp.log1p(fnp.exp(diff))


class _Relaxed(TransformedDistribution):
    """The relaxed distributions read their parameters from the distribution they transform."""

    @property
    def temperature(self):
        return self.base_dist.temperature

    @property
    def logits(self):
        return self.base_dist.logits

    @property
    def probs(self):
        return self.base_dist.probs


class RelaxedBernoulli(_Relaxed):
    """A continuous relaxation of Bernoulli on (0, 1) with reparameterised draws: ``sigmoid`` of a
    LogitRelaxedBernoulli (``torch.distributions.RelaxedBernoulli``).

    >>> from fnx.distributions import RelaxedBernoulli
    >>> d = RelaxedBernoulli(0.5, probs=0.3)
    >>> x = d.rsample((100,)); bool(((x > 0) & (x < 1)).all())
    True
    """
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        super().__init__(LogitRelaxedBernoulli(temperature, probs, logits), SigmoidTransform(),
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return super().expand(batch_shape, _instance=self._get_checked_instance(RelaxedBernoulli, _instance))



class ExpRelaxedCategorical(_OnCategorical, Distribution):
    """The log of a RelaxedOneHotCategorical draw (``torch.distributions.ExpRelaxedCategorical``)."""
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        (self.temperature,) = broadcast_all(temperature)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(ExpRelaxedCategorical, _instance)
        batch_shape = self._batch_for(batch_shape)
        new.temperature = self.temperature
        new._categorical = self._categorical.expand(batch_shape)
        return self._expanded(new, batch_shape)

    def rsample(self, sample_shape=(), *, key=None):
        shape = self._extended_shape(sample_shape)
        u = clamp_probs(random.uniform(_key(key, self.logits), shape, self.logits.dtype))
        scores = (self.logits - fnp.log(-fnp.log(u))) / self.temperature
        return scores - fsp.logsumexp(scores, axis=-1, keepdims=True)

    def log_prob(self, value):
        k = self._categorical._num_events
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_scale = math.lgamma(k) + (k - 1) * fnp.log(self.temperature)
        score = logits - value * self.temperature
        score = fnp.sum(score - fsp.logsumexp(score, axis=-1, keepdims=True), axis=-1)
        return score + log_scale


class RelaxedOneHotCategorical(_Relaxed):
    """A continuous relaxation of OneHotCategorical on the simplex with reparameterised draws, the Gumbel-softmax
    (Jang, Gu and Poole, 2017) (``torch.distributions.RelaxedOneHotCategorical``).

    >>> import fnx
    >>> from fnx.distributions import RelaxedOneHotCategorical
    >>> d = RelaxedOneHotCategorical(0.5, probs=fnx.numpy.array([0.2, 0.8]))
    >>> x = d.rsample((3,)); x.shape, bool(abs(x.sum(-1) - 1).max() < 1e-5)
    ((3, 2), True)
    """
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        super().__init__(ExpRelaxedCategorical(temperature, probs, logits, validate_args=validate_args),
                         ExpTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return super().expand(batch_shape,
                              _instance=self._get_checked_instance(RelaxedOneHotCategorical, _instance))

