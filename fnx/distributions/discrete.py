"""Discrete distributions: Bernoulli, Categorical, OneHotCategorical, Poisson and Binomial.

Each takes probabilities or log-odds (``probs=`` or ``logits=``, exactly one);
the other parameterisation is computed on first use (a ``lazy_property``), and
``log_prob`` works from the logits, so it stays finite and differentiable where
the probabilities round to 0 or 1. Draws are constants to differentiation
(``has_rsample`` is False, except for the straight-through one-hot variant);
they come from ``fnx.random``'s samplers and carry the parameters' float dtype,
as in PyTorch, except for Categorical's indices (int64).
"""
import math

import numpy as np

from .. import numpy as fnp
from .. import random
from ..scipy import special as fsp
from . import constraints
from .distribution import Distribution
from .utils import _expand, _key, _peek, broadcast_all, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Bernoulli", "Categorical", "OneHotCategorical", "OneHotCategoricalStraightThrough", "Poisson",
           "Binomial"]


def _one_of(probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


def _bce_with_logits(x, z):
    """``-(z log sigmoid(x) + (1 - z) log(1 - sigmoid(x)))``, stably."""
    return (1 - z) * x - fsp.log_expit(x)


class _ProbsOrLogits(Distribution):
    """Shared by the distributions given ``probs=`` or ``logits=``: the lazy other half and ``expand``."""

    @property
    def param_shape(self):
        return tuple(self._param.shape)

    def _expand_probs_or_logits(self, cls, batch_shape, _instance, event_ndims=0):
        new = self._get_checked_instance(cls, _instance)
        batch_shape = self._batch_for(batch_shape)
        for name in ("probs", "logits"):
            if name in self.__dict__:
                x = self.__dict__[name]
                setattr(new, name, _expand(x, batch_shape + tuple(x.shape[x.ndim - event_ndims:])))
                new._param = getattr(new, name)
        return new, batch_shape


class _BinaryPair:
    """A success probability held as ``probs`` or ``logits``, the other computed when first read."""

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)


class _BinaryProbsOrLogits(_BinaryPair, _ProbsOrLogits):
    """A success probability given as ``probs`` or ``logits``, the other computed when first read."""


class Bernoulli(_BinaryProbsOrLogits):
    """1 with probability ``probs`` (or ``sigmoid(logits)``), else 0 (``torch.distributions.Bernoulli``).

    >>> import fnx
    >>> from fnx.distributions import Bernoulli
    >>> d = Bernoulli(probs=0.25)
    >>> d.log_prob(fnx.numpy.array(1.0)), d.variance
    (Array(-1.3862944, dtype=float32), Array(0.1875, dtype=float32))
    """
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        if probs is not None:
            (self.probs,) = broadcast_all(probs)
        else:
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new, batch_shape = self._expand_probs_or_logits(Bernoulli, batch_shape, _instance)
        return self._expanded(new, batch_shape)

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        p = self.probs
        return fnp.where(p == 0.5, math.nan, fnp.astype(p >= 0.5, p.dtype))

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=(), *, key=None):
        shape = self._extended_shape(sample_shape)
        p = fnp.stop_gradient(self.probs)
        return fnp.astype(random.bernoulli(_key(key, p), _expand(p, shape), shape), p.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        return -_bce_with_logits(logits, value)

    def entropy(self):
        return _bce_with_logits(self.logits, self.probs)

    def enumerate_support(self, expand=True):
        values = fnp.reshape(fnp.arange(2, dtype=self._param.dtype), (-1,) + (1,) * len(self._batch_shape))
        return fnp.broadcast_to(values, (2,) + self._batch_shape) if expand else values


class Categorical(_ProbsOrLogits):
    """Indices ``0 .. K-1`` drawn with probabilities ``probs`` (or ``softmax(logits)``) along the last axis
    (``torch.distributions.Categorical``). Both are normalised: ``probs`` to sum 1, ``logits`` to log-probabilities.

    >>> import fnx
    >>> from fnx.distributions import Categorical
    >>> d = Categorical(probs=fnx.numpy.array([0.25, 0.25, 0.5]))
    >>> d.log_prob(fnx.numpy.array(2))
    Array(-0.6931472, dtype=float32)
    >>> d.sample((4,)).dtype
    dtype('int64')
    """
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        if probs is not None:
            (probs,) = broadcast_all(probs)
            if probs.ndim < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / fnp.sum(probs, axis=-1, keepdims=True)
        else:
            (logits,) = broadcast_all(logits)
            if logits.ndim < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - fsp.logsumexp(logits, axis=-1, keepdims=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.shape[-1]
        super().__init__(self._param.shape[:-1], validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new, batch_shape = self._expand_probs_or_logits(Categorical, batch_shape, _instance, event_ndims=1)
        new._num_events = self._num_events
        return self._expanded(new, batch_shape)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits)

    @property
    def mean(self):
        return fnp.full(self._extended_shape(), math.nan, self.probs.dtype, device=self.probs.device)

    @property
    def mode(self):
        return fnp.argmax(self.probs, axis=-1)

    @property
    def variance(self):
        return fnp.full(self._extended_shape(), math.nan, self.probs.dtype, device=self.probs.device)

    def _sampling_logits(self):
        if "logits" in self.__dict__:
            return fnp.stop_gradient(self.logits)
        p = fnp.stop_gradient(self.probs)  # exact zeros stay impossible (PyTorch's clamped logits would not)
        return fnp.where(p > 0, fnp.log(fnp.where(p > 0, p, 1.0)), -math.inf)

    def sample(self, sample_shape=(), *, key=None):
        logits = self._sampling_logits()
        shape = self._extended_shape(sample_shape)
        return random.categorical(_key(key, logits), logits, axis=-1, shape=shape)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        value = fnp.expand_dims(fnp.astype(fnp.asarray(value), "int64"), -1)
        logits = self.logits
        known = _peek(value)  # (take_along_axis would wrap -1 to the last class; traced values go unchecked)
        if known is not None and known.size and known.min() < 0:
            raise IndexError(f"Categorical.log_prob: index {known.min()} is out of bounds for {logits.shape[-1]} "
                             f"categories")
        batch = fnp.broadcast_shapes(value.shape[:-1], logits.shape[:-1])
        value = fnp.broadcast_to(value, batch + (1,))
        logits = fnp.broadcast_to(logits, batch + logits.shape[-1:])
        return fnp.take_along_axis(logits, value, axis=-1)[..., 0]

    def entropy(self):
        logits = fnp.clip(self.logits, float(np.finfo(self.logits.dtype).min), None)
        return -fnp.sum(logits * self.probs, axis=-1)

    def enumerate_support(self, expand=True):
        values = fnp.reshape(fnp.arange(self._num_events, dtype="int64"), (-1,) + (1,) * len(self._batch_shape))
        return fnp.broadcast_to(values, (self._num_events,) + self._batch_shape) if expand else values


def _one_hot(indices, n, dtype):
    return fnp.astype(fnp.expand_dims(indices, -1) == fnp.arange(n), dtype)


class _OnCategorical:
    """``probs``, ``logits`` and ``param_shape`` of a distribution built on the Categorical ``self._categorical``
    (OneHotCategorical, ExpRelaxedCategorical)."""

    @property
    def _param(self):
        return self._categorical._param

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def param_shape(self):
        return self._categorical.param_shape


class OneHotCategorical(_OnCategorical, Distribution):
    """Categorical draws coded as one-hot vectors of length K (``torch.distributions.OneHotCategorical``).

    >>> import fnx
    >>> from fnx.distributions import OneHotCategorical
    >>> d = OneHotCategorical(probs=fnx.numpy.array([0.5, 0.5]))
    >>> d.event_shape, d.sample((3,)).shape
    ((2,), (3, 2))
    """
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs, logits)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(OneHotCategorical, _instance)
        batch_shape = self._batch_for(batch_shape)
        new._categorical = self._categorical.expand(batch_shape)
        return self._expanded(new, batch_shape)

    @property
    def mean(self):
        return self._categorical.probs

    @property
    def mode(self):
        probs = self._categorical.probs
        return _one_hot(fnp.argmax(probs, axis=-1), probs.shape[-1], probs.dtype)

    @property
    def variance(self):
        return self._categorical.probs * (1 - self._categorical.probs)

    def sample(self, sample_shape=(), *, key=None):
        indices = self._categorical.sample(sample_shape, key=key)
        return _one_hot(indices, self._categorical._num_events, self._categorical.probs.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(fnp.argmax(value, axis=-1))

    def entropy(self):
        return self._categorical.entropy()

    def enumerate_support(self, expand=True):
        n = self._event_shape[0]
        values = fnp.reshape(fnp.eye(n, dtype=self._param.dtype), (n,) + (1,) * len(self._batch_shape) + (n,))
        return fnp.broadcast_to(values, (n,) + self._batch_shape + (n,)) if expand else values


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """OneHotCategorical with the straight-through gradient (Bengio, Leonard and Courville, 2013):
    ``rsample`` is the one-hot draw plus ``probs - stop_gradient(probs)``, so its derivative is that of ``probs``.

    >>> import fnx
    >>> from fnx.distributions import OneHotCategoricalStraightThrough as ST
    >>> g = fnx.grad(lambda l: (ST(logits=l).rsample() * fnx.numpy.arange(2.0)).sum())(fnx.numpy.zeros(2))
    >>> g
    Array([-0.25,  0.25], dtype=float32)
    """
    has_rsample = True

    def rsample(self, sample_shape=(), *, key=None):
        samples = self.sample(sample_shape, key=key)
        probs = self._categorical.probs
        return samples + (probs - fnp.stop_gradient(probs))


class Poisson(Distribution):
    """Counts of rate ``rate``, mass ``rate**k exp(-rate) / k!`` (``torch.distributions.Poisson``); samples are
    floats of the rate's dtype, as in PyTorch.

    >>> import fnx
    >>> from fnx.distributions import Poisson
    >>> Poisson(2.0).log_prob(fnx.numpy.array(0.0))
    Array(-2., dtype=float32)
    """
    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        super().__init__(self.rate.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Poisson, batch_shape, _instance, ("rate",))

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return fnp.floor(self.rate)

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=(), *, key=None):
        rate = fnp.stop_gradient(self.rate)
        return fnp.astype(random.poisson(_key(key, rate), rate, self._extended_shape(sample_shape)), rate.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return fsp.xlogy(value, rate) - rate - fsp.gammaln(value + 1)


def _clamp_by_zero(x):
    return (fnp.clip(x, 0, None) + x - fnp.clip(x, None, 0)) / 2


class Binomial(_BinaryProbsOrLogits):
    """Successes among ``total_count`` trials of probability ``probs`` (or ``sigmoid(logits)``)
    (``torch.distributions.Binomial``); samples are floats.

    >>> import fnx
    >>> from fnx.distributions import Binomial
    >>> d = Binomial(10, probs=0.5)
    >>> d.mean, d.variance
    (Array(5., dtype=float32), Array(2.5, dtype=float32))
    """
    arg_constraints = {"total_count": constraints.nonnegative_integer, "probs": constraints.unit_interval,
                       "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(self._param.shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new, batch_shape = self._expand_probs_or_logits(Binomial, batch_shape, _instance)
        new.total_count = _expand(self.total_count, batch_shape)
        return self._expanded(new, batch_shape)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return fnp.minimum(fnp.floor((self.total_count + 1) * self.probs), self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=(), *, key=None):
        shape = self._extended_shape(sample_shape)
        n, p = fnp.stop_gradient(self.total_count), fnp.stop_gradient(self.probs)
        return random.binomial(_key(key, p), _expand(n, shape), _expand(p, shape), shape, p.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        n, logits = self.total_count, self.logits
        normalize = n * _clamp_by_zero(logits) + n * fnp.log1p(fnp.exp(-fnp.abs(logits))) - fsp.gammaln(n + 1)
        return value * logits - fsp.gammaln(value + 1) - fsp.gammaln(n - value + 1) - normalize

    def _homogeneous_count(self, what):
        n = _peek(self.total_count)
        if n is None:
            raise NotImplementedError(f"Binomial.{what} needs a concrete total_count (not one traced by jit/vmap)")
        top = int(n.max()) if n.size else 0
        if n.size and not n.min() == top:
            raise NotImplementedError(f"Inhomogeneous total count not supported by `{what}`.")
        return top

    def entropy(self):
        self._homogeneous_count("entropy")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -fnp.sum(fnp.exp(log_prob) * log_prob, axis=0)

    def enumerate_support(self, expand=True):
        top = self._homogeneous_count("enumerate_support")
        values = fnp.reshape(fnp.arange(1 + top, dtype=self._param.dtype), (-1,) + (1,) * len(self._batch_shape))
        return fnp.broadcast_to(values, (1 + top,) + self._batch_shape) if expand else values
