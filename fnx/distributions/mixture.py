"""MixtureSameFamily: a categorical choice among components of one family (mixture density networks,
Gaussian mixtures)."""
from .. import numpy as fnp
from .. import random
from ..errors import ShapeError
from ..scipy import special as fsp
from .discrete import Categorical
from .distribution import Distribution

__all__ = ["MixtureSameFamily"]


class MixtureSameFamily(Distribution):
    """``torch.distributions.MixtureSameFamily``: ``mixture_distribution``, a Categorical of batch shape
    ``B`` over ``K`` components, picks one of ``component_distribution``'s (batch shape ``B + (K,)``).

    ``log_prob`` is ``logsumexp`` over the components of their log-densities plus the log-weights,
    differentiable in both; samples pick a component, then draw from it (no reparameterisation).

    >>> import fnx.numpy as fnp
    >>> from fnx.distributions import Categorical, MixtureSameFamily, Normal
    >>> gmm = MixtureSameFamily(Categorical(probs=fnp.array([0.5, 0.5])), Normal(fnp.array([-1.0, 1.0]), 1.0))
    >>> round(float(gmm.mean), 6), gmm.batch_shape, gmm.log_prob(fnp.zeros(3)).shape
    (0.0, (), (3,))
    """
    arg_constraints = {}
    has_rsample = False

    def __init__(self, mixture_distribution, component_distribution, validate_args=None):
        if not isinstance(mixture_distribution, Categorical):
            raise ValueError("MixtureSameFamily: the mixture distribution must be a Categorical, got "
                             f"{type(mixture_distribution).__name__}")
        if not isinstance(component_distribution, Distribution):
            raise ValueError("MixtureSameFamily: the component distribution must be a Distribution, got "
                             f"{type(component_distribution).__name__}")
        mix_batch, comp_batch = mixture_distribution.batch_shape, component_distribution.batch_shape
        if not comp_batch:
            raise ShapeError("MixtureSameFamily: the components need a batch axis of the components (the last)")
        k = mixture_distribution._num_events
        if comp_batch[-1] != k:
            raise ValueError(f"MixtureSameFamily: the mixture has {k} components, the component distribution's "
                             f"last batch axis {comp_batch[-1]}")
        if tuple(mix_batch) != tuple(comp_batch[:-1]):
            raise ValueError(f"MixtureSameFamily: the mixture's batch shape {tuple(mix_batch)} must be the "
                             f"components' without its last axis, {tuple(comp_batch[:-1])}")
        self._mixture_distribution = mixture_distribution
        self._component_distribution = component_distribution
        self._num_component = k
        self._event_ndims = len(component_distribution.event_shape)
        super().__init__(tuple(mix_batch), tuple(component_distribution.event_shape), validate_args=validate_args)

    @property
    def mixture_distribution(self):
        return self._mixture_distribution

    @property
    def component_distribution(self):
        return self._component_distribution

    @property
    def support(self):
        return self._component_distribution.support

    def _weights(self):
        """The mixture's probabilities with axes for the event, to weight the components' moments."""
        probs = self._mixture_distribution.probs
        return fnp.reshape(probs, probs.shape + (1,) * self._event_ndims)

    @property
    def mean(self):
        return fnp.sum(self._weights() * self._component_distribution.mean, axis=-1 - self._event_ndims)

    @property
    def variance(self):
        # The law of total variance: the mean of the variances plus the variance of the means.
        w, comp = self._weights(), self._component_distribution
        axis = -1 - self._event_ndims
        spread = (comp.mean - fnp.expand_dims(self.mean, axis)) ** 2
        return fnp.sum(w * comp.variance, axis=axis) + fnp.sum(w * spread, axis=axis)

    def cdf(self, x):
        x = fnp.expand_dims(fnp.asarray(x), -1 - self._event_ndims)
        return fnp.sum(self._component_distribution.cdf(x) * self._mixture_distribution.probs, axis=-1)

    def log_prob(self, x):
        if self._validate_args:
            self._validate_sample(x)
        x = fnp.expand_dims(fnp.asarray(x), -1 - self._event_ndims)
        log_prob_x = self._component_distribution.log_prob(x)  # (..., B, K)
        log_mix = fsp.log_softmax(self._mixture_distribution.logits, axis=-1)
        return fsp.logsumexp(log_prob_x + log_mix, axis=-1)

    def sample(self, sample_shape=(), *, key=None):
        mix_key, comp_key = (None, None) if key is None else random.split(key)
        picks = self._mixture_distribution.sample(sample_shape, key=mix_key)  # (S, B)
        draws = self._component_distribution.sample(sample_shape, key=comp_key)  # (S, B, K, E)
        axis = picks.ndim
        index = fnp.reshape(picks, picks.shape + (1,) * (self._event_ndims + 1))
        index = fnp.broadcast_to(index, picks.shape + (1,) + tuple(self.event_shape))
        return fnp.squeeze(fnp.take_along_axis(draws, index, axis=axis), axis=axis)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(MixtureSameFamily, _instance)
        batch_shape = self._batch_for(batch_shape)
        new._component_distribution = self._component_distribution.expand(batch_shape + (self._num_component,))
        new._mixture_distribution = self._mixture_distribution.expand(batch_shape)
        new._num_component, new._event_ndims = self._num_component, self._event_ndims
        return self._expanded(new, batch_shape)

    def __repr__(self):
        return (f"MixtureSameFamily(\n  {self._mixture_distribution},\n  {self._component_distribution})")
