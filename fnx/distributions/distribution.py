"""The base class of every distribution: shapes, validation, and the methods subclasses fill in.

A distribution holds a *batch* of independent distributions (``batch_shape``),
each over events of ``event_shape``; a sample of ``sample_shape`` draws has
shape ``sample_shape + batch_shape + event_shape``, and ``log_prob`` of such a
value has shape ``sample_shape + batch_shape``.

Parameters are fnx arrays, so every method is an fnx computation: ``log_prob``,
``entropy`` and ``rsample`` differentiate under ``fnx.grad`` and, with
``fnx.nn.Parameter`` arguments, through ``loss.backward()``. ``sample`` is
``rsample`` behind ``stop_gradient`` (PyTorch runs it under ``no_grad``).

Randomness comes from the global generator (``fnx.manual_seed``), one
``fnx.random.next_key()`` per draw, unless a key is passed: ``sample`` and
``rsample`` take a keyword-only ``key=`` (an fnx extension), which makes them
pure functions of the key for ``fnx.jit`` and ``fnx.vmap``.

Validation follows PyTorch: on by default (off under ``python -O``, or after
``Distribution.set_default_validate_args(False)``), or per instance with
``validate_args=``. The constructor checks each argument against
``arg_constraints``; ``log_prob``, ``cdf`` and friends check the value's shape
and that it lies in ``support``. A failed check raises ValueError. Checks
are fnx computations too, and read their verdict wherever a value exists: under
``grad`` and ``vmap`` (every example), and under ``jit`` when it traces; under
abstract evaluation (``eval_shape``) there is none, and they are skipped.
"""
import warnings

from .. import numpy as fnp
from ..core.array import Array
from . import constraints
from .utils import _all_true, _expand, _peek, _sample_shape, lazy_property

__all__ = ["Distribution"]


class Distribution:
    """The abstract base class for probability distributions (``torch.distributions.Distribution``).

    Args:
      batch_shape: the shape over which parameters are batched.
      event_shape: the shape of a single sample.
      validate_args: whether to check arguments and values; None takes the default.
    """

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value):
        """Turns argument validation on or off for distributions made without ``validate_args``."""
        if value not in (True, False):
            raise ValueError(f"set_default_validate_args: value must be True or False, got {value!r}")
        Distribution._validate_args = value

    def __init__(self, batch_shape=(), event_shape=(), validate_args=None):
        self._batch_shape = tuple(batch_shape)
        self._event_shape = tuple(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            try:
                arg_constraints = self.arg_constraints
            except NotImplementedError:
                arg_constraints = {}
                warnings.warn(f"{type(self)} does not define `arg_constraints`. Please set `arg_constraints = {{}}` "
                              f"or initialize the distribution with `validate_args=False` to turn off validation.",
                              stacklevel=2)
            for param, constraint in arg_constraints.items():
                if constraints.is_dependent(constraint):
                    continue
                if param not in self.__dict__ and isinstance(getattr(type(self), param, None), lazy_property):
                    continue  # a parameterisation that was not given and has not been computed
                value = getattr(self, param)
                if not _all_true(constraint.check(value)):
                    raise ValueError(
                        f"Expected parameter {param} ({type(value).__name__} of shape {tuple(value.shape)}) of "
                        f"distribution {self!r} to satisfy the constraint {constraint!r}, but found invalid "
                        f"values:\n{_peek(value)}")

    def expand(self, batch_shape, _instance=None):
        """A distribution of the same kind whose parameters are broadcast to ``batch_shape``."""
        raise NotImplementedError

    def _get_checked_instance(self, cls, _instance=None):
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(f"Subclass {type(self).__name__} of {cls.__name__} that defines a custom "
                                      f"__init__ method must also define a custom .expand() method.")
        return self.__new__(type(self)) if _instance is None else _instance

    def _expanded(self, new, batch_shape, event_shape=None):
        """Finishes ``expand``: ``new`` gets its shapes and this instance's validation flag."""
        Distribution.__init__(new, batch_shape, self._event_shape if event_shape is None else event_shape,
                              validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _expand_params(self, cls, batch_shape, _instance, names, event_ndims=0):
        """``expand`` for a distribution whose state is the parameters ``names``, each with ``event_ndims``
        event axes after the batch axes."""
        new = self._get_checked_instance(cls, _instance)
        batch_shape = self._batch_for(batch_shape)
        for name in names:
            x = getattr(self, name)
            setattr(new, name, _expand(x, batch_shape + tuple(x.shape[x.ndim - event_ndims:])))
        return self._expanded(new, batch_shape)

    def _batch_for(self, batch_shape):
        """``batch_shape`` with PyTorch's ``-1`` (keep this size) resolved against the current batch shape."""
        batch_shape = _sample_shape(batch_shape)
        offset = len(batch_shape) - len(self._batch_shape)
        return tuple(self._batch_shape[i - offset] if s == -1 and i >= offset else s
                     for i, s in enumerate(batch_shape))

    @property
    def batch_shape(self):
        """The shape over which parameters are batched."""
        return self._batch_shape

    @property
    def event_shape(self):
        """The shape of a single sample (without batching)."""
        return self._event_shape

    @property
    def arg_constraints(self):
        """A dict from argument names to the constraints they must satisfy."""
        raise NotImplementedError

    @property
    def support(self):
        """The constraint every sample satisfies."""
        raise NotImplementedError

    @property
    def mean(self):
        raise NotImplementedError

    @property
    def mode(self):
        raise NotImplementedError(f"{type(self)} does not implement mode")

    @property
    def variance(self):
        raise NotImplementedError

    @property
    def stddev(self):
        return fnp.sqrt(self.variance)

    def sample(self, sample_shape=(), *, key=None):
        """A draw of shape ``sample_shape + batch_shape + event_shape``, a constant to differentiation."""
        return fnp.stop_gradient(self.rsample(sample_shape, key=key))

    def rsample(self, sample_shape=(), *, key=None):
        """A reparameterised draw: differentiable in the parameters (where ``has_rsample``)."""
        raise NotImplementedError

    def log_prob(self, value):
        """The log density (or mass) at ``value``, of shape ``broadcast(value's batch, batch_shape)``."""
        raise NotImplementedError

    def cdf(self, value):
        raise NotImplementedError

    def icdf(self, value):
        raise NotImplementedError

    def enumerate_support(self, expand=True):
        """Every value of a discrete distribution along axis 0: shape ``(n,) + batch_shape + event_shape``
        (``(n,) + (1,) * len(batch_shape) + event_shape`` when not ``expand``)."""
        raise NotImplementedError

    def entropy(self):
        raise NotImplementedError

    def perplexity(self):
        return fnp.exp(self.entropy())

    def _extended_shape(self, sample_shape=()):
        return _sample_shape(sample_shape) + self._batch_shape + self._event_shape

    def _validate_sample(self, value):
        """Checks ``value`` for ``log_prob``, ``cdf`` and ``icdf``: an array whose rightmost axes match the event
        shape and broadcast with the batch shape, inside the support."""
        if not isinstance(value, Array):
            raise ValueError("The value argument to log_prob must be a Tensor (an fnx array)")
        shape, event = tuple(value.shape), self._event_shape
        if shape[len(shape) - len(event):] != event:
            raise ValueError(f"The right-most size of value must match event_shape: {shape} vs {event}.")
        expected = self._batch_shape + event
        for i, j in zip(reversed(shape), reversed(expected)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(f"Value is not broadcastable with batch_shape+event_shape: {shape} vs {expected}.")
        try:
            support = self.support
        except NotImplementedError:
            warnings.warn(f"{type(self)} does not define `support` to enable sample validation. Please initialize "
                          f"the distribution with `validate_args=False` to turn off validation.", stacklevel=2)
            return
        if not _all_true(support.check(value)):
            raise ValueError(f"Expected value argument ({type(value).__name__} of shape {shape}) to be within the "
                             f"support ({support!r}) of the distribution {self!r}, but found invalid "
                             f"values:\n{_peek(value)}")

    def __repr__(self):
        try:
            names = [k for k in self.arg_constraints if k in self.__dict__]
        except NotImplementedError:
            names = []
        return f"{type(self).__name__}({', '.join(f'{k}: {_show(self.__dict__[k])}' for k in names)})"


def _show(x):
    """A parameter in a repr: its value when it has one entry (and a concrete value), else its shape."""
    value = _peek(x)
    return value.item() if value is not None and value.size == 1 else tuple(fnp.shape(x))
