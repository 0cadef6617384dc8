"""Learning-rate schedules: pure functions of the step, and PyTorch's scheduler classes.

A schedule is first a pure function ``lr = schedule(step, ...)`` of plain
numbers (:func:`step_decay`, :func:`cosine_annealing`, :func:`one_cycle`...),
which drives a functional rule directly::

    params, state = rule.update(grads, state, params, lr=cosine_annealing(t, 0.1, T_max=100))

The classes (``StepLR``, ``CosineAnnealingLR``, ``OneCycleLR``...) are
``torch.optim.lr_scheduler``'s: they write each param group's ``"lr"`` (and
remember its ``"initial_lr"``) at every ``step()``. They compute exactly what
PyTorch computes, including its *recursive* forms: ``StepLR`` multiplies the
group's current lr by ``gamma`` at each boundary rather than recomputing it
from the base lr, so that a user's or another scheduler's change to the lr
carries through, as in PyTorch. The closed forms (the pure functions) are what
``step(epoch)`` uses and what the recursive forms equal when nothing else
touches the lr. ``OneCycleLR`` and the first step of ``CosineAnnealingLR``
(resumed from ``last_epoch``) share the pure functions' maths outright.
"""
import math
import types
import warnings
from bisect import bisect_right
from collections import Counter

from .wrappers import Optimizer

__all__ = ["LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR", "OneCycleLR",
           "ReduceLROnPlateau", "step_decay", "multistep_decay", "exponential_decay", "cosine_annealing",
           "one_cycle", "one_cycle_momentum"]


# ----- pure schedules ---------------------------------------------------------------

def step_decay(step, base_lr, step_size, gamma=0.1):
    r""":math:`\gamma^{\lfloor t / \text{step\_size} \rfloor}` times ``base_lr`` (StepLR's closed form).

    >>> [step_decay(t, 1.0, step_size=2, gamma=0.5) for t in range(5)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """
    return base_lr * gamma ** (step // step_size)


def multistep_decay(step, base_lr, milestones, gamma=0.1):
    """``base_lr`` times ``gamma`` once for every milestone reached (MultiStepLR's closed form).

    >>> [multistep_decay(t, 1.0, [1, 3], gamma=0.5) for t in range(4)]
    [1.0, 0.5, 0.5, 0.25]
    """
    return base_lr * gamma ** bisect_right(sorted(milestones), step)


def exponential_decay(step, base_lr, gamma):
    r""":math:`\text{base\_lr} \cdot \gamma^t` (ExponentialLR's closed form).

    >>> exponential_decay(2, 1.0, 0.5)
    0.25
    """
    return base_lr * gamma ** step


def cosine_annealing(step, base_lr, T_max, eta_min=0.0):
    r"""Cosine annealing from ``base_lr`` down to ``eta_min`` over ``T_max`` steps (SGDR without restarts).

    .. math:: \eta_t = \eta_{min} + \tfrac12(\eta_{base} - \eta_{min})(1 + \cos(\pi t / T_{max}))

    Loshchilov and Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts"
    (ICLR 2017). Past ``T_max`` the cosine climbs back, as PyTorch's does.

    >>> [round(cosine_annealing(t, 1.0, T_max=4), 4) for t in range(5)]
    [1.0, 0.8536, 0.5, 0.1464, 0.0]
    """
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * step / T_max)) / 2


def _anneal_cos(start, end, pct):
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


def _anneal_linear(start, end, pct):
    return (end - start) * pct + start


_ANNEAL = {"cos": _anneal_cos, "linear": _anneal_linear}

# Each phase of the one-cycle policy: where it ends (a function of total steps and
# pct_start), and which named values the lr and the momentum travel between.
_TWO_PHASES = ((lambda n, pct: float(pct * n) - 1, ("initial_lr", "max_lr"), ("max_momentum", "base_momentum")),
               (lambda n, pct: n - 1, ("max_lr", "min_lr"), ("base_momentum", "max_momentum")))
_THREE_PHASES = ((lambda n, pct: float(pct * n) - 1, ("initial_lr", "max_lr"), ("max_momentum", "base_momentum")),
                 (lambda n, pct: float(2 * pct * n) - 2, ("max_lr", "initial_lr"), ("base_momentum", "max_momentum")),
                 (lambda n, pct: n - 1, ("initial_lr", "min_lr"), ("max_momentum", "max_momentum")))


def _check_one_cycle(total_steps, pct_start, anneal_strategy):
    if not isinstance(total_steps, int) or total_steps <= 0:
        raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
    if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
        raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
    if anneal_strategy not in _ANNEAL:
        raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")


def _one_cycle_at(step, total_steps, pct_start, anneal_strategy, three_phase, values, which):
    """One-cycle interpolation at ``step`` between the named ``values``; ``which`` 1 is the lr, 2 the momentum."""
    if step > total_steps:
        raise ValueError(f"Tried to step {step} times. The specified number of total steps is {total_steps}")
    phases = _THREE_PHASES if three_phase else _TWO_PHASES
    start_step = 0.0
    for i, phase in enumerate(phases):
        end_step = phase[0](total_steps, pct_start)
        if step <= end_step or i == len(phases) - 1:
            pct = (step - start_step) / (end_step - start_step)
            start, end = phase[which]
            return _ANNEAL[anneal_strategy](values[start], values[end], pct)
        start_step = end_step


def one_cycle(step, max_lr, total_steps, pct_start=0.3, anneal_strategy="cos", div_factor=25.0,
              final_div_factor=1e4, three_phase=False):
    r"""The 1cycle learning rate at ``step`` (OneCycleLR's values for one param group).

    The lr warms up from ``max_lr / div_factor`` to ``max_lr`` over the first
    ``pct_start`` of ``total_steps``, then anneals (cosine or linear) down to
    ``max_lr / div_factor / final_div_factor``; with ``three_phase`` it first
    comes back symmetrically to the initial lr and only then anneals to the
    minimum. Smith and Topin, "Super-Convergence: Very Fast Training of Neural
    Networks Using Large Learning Rates" (arXiv:1708.07120, 2017).

    >>> [round(one_cycle(t, 1.0, total_steps=10), 3) for t in (0, 2, 5, 9)]
    [0.04, 1.0, 0.611, 0.0]
    """
    _check_one_cycle(total_steps, pct_start, anneal_strategy)
    initial = max_lr / div_factor
    values = {"initial_lr": initial, "max_lr": max_lr, "min_lr": initial / final_div_factor}
    return _one_cycle_at(step, total_steps, pct_start, anneal_strategy, three_phase, values, 1)


def one_cycle_momentum(step, total_steps, base_momentum=0.85, max_momentum=0.95, pct_start=0.3,
                       anneal_strategy="cos", three_phase=False):
    """The 1cycle momentum (or Adam's beta1) at ``step``: it moves opposite to :func:`one_cycle`'s lr.

    >>> [round(one_cycle_momentum(t, total_steps=10), 3) for t in (0, 2, 9)]
    [0.95, 0.85, 0.95]
    """
    _check_one_cycle(total_steps, pct_start, anneal_strategy)
    values = {"base_momentum": base_momentum, "max_momentum": max_momentum}
    return _one_cycle_at(step, total_steps, pct_start, anneal_strategy, three_phase, values, 2)


# ----- the scheduler classes ------------------------------------------------------------

def _check_optimizer(optimizer):
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")


def _per_group(name, optimizer, value):
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"{name} must have the same length as optimizer.param_groups: {name} has "
                             f"{len(value)} values, param_groups has {len(optimizer.param_groups)}")
        return list(value)
    return [value] * len(optimizer.param_groups)


class LRScheduler:
    """Base class of the schedulers (``torch.optim.lr_scheduler.LRScheduler``).

    A subclass defines ``get_lr()`` (the lrs for ``self.last_epoch``, usually
    from the groups' current lrs) and optionally ``_get_closed_form_lr()``.
    Construction performs the first ``step()``, which sets ``last_epoch`` to 0.
    """

    def __init__(self, optimizer, last_epoch=-1):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"param 'initial_lr' is not specified in param_groups[{i}] when resuming an "
                                   f"optimizer")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self.step()

    def get_lr(self):
        raise NotImplementedError

    def get_last_lr(self):
        """The lrs the last ``step()`` set, one per param group."""
        return self._last_lr

    def step(self, epoch=None):
        """Advances ``last_epoch`` by one (or sets it to ``epoch``, deprecated) and writes the groups' lrs."""
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            warnings.warn("The epoch parameter in scheduler.step() is deprecated (as in PyTorch); call step() "
                          "without arguments", UserWarning, stacklevel=2)
            self.last_epoch = epoch
            values = self._get_closed_form_lr() if hasattr(self, "_get_closed_form_lr") else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self):
        """Everything but the optimizer (which saves itself)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)

    def _lrs(self):
        return [group["lr"] for group in self.optimizer.param_groups]


class StepLR(LRScheduler):
    """Multiplies the lr by ``gamma`` every ``step_size`` steps (closed form :func:`step_decay`).

    >>> import fnx, fnx.numpy as fnp
    >>> opt = fnx.optim.SGD([fnx.nn.Parameter(fnp.zeros(1))], lr=1.0)
    >>> sched = fnx.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for _ in range(5):
    ...     lrs.append(sched.get_last_lr()[0])
    ...     opt.step(); sched.step()
    >>> lrs
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]

    def _get_closed_form_lr(self):
        return [step_decay(self.last_epoch, b, self.step_size, self.gamma) for b in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiplies the lr by ``gamma`` at each milestone (closed form :func:`multistep_decay`).

    A milestone listed twice applies ``gamma`` twice, as in PyTorch.
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones, self.gamma = Counter(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch not in self.milestones:
            return self._lrs()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self._lrs()]

    def _get_closed_form_lr(self):
        milestones = list(self.milestones.elements())
        return [multistep_decay(self.last_epoch, b, milestones, self.gamma) for b in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiplies the lr by ``gamma`` every step (closed form :func:`exponential_decay`)."""

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return self._lrs()
        return [lr * self.gamma for lr in self._lrs()]

    def _get_closed_form_lr(self):
        return [exponential_decay(self.last_epoch, b, self.gamma) for b in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing to ``eta_min`` over ``T_max`` steps (closed form :func:`cosine_annealing`).

    Computed recursively, as PyTorch does, so that changes made to the lr by
    others carry through:

    .. math:: \eta_t = \eta_{min} + (\eta_{t-1} - \eta_{min})
              \frac{1 + \cos(\pi t / T_{max})}{1 + \cos(\pi (t - 1) / T_{max})}

    (with PyTorch's special case where the denominator vanishes, at
    :math:`t - 1 = T_{max}` modulo :math:`2 T_{max}`).

    >>> import fnx, fnx.numpy as fnp
    >>> opt = fnx.optim.SGD([fnx.nn.Parameter(fnp.zeros(1))], lr=1.0)
    >>> sched = fnx.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
    >>> lrs = []
    >>> for _ in range(5):
    ...     lrs.append(round(sched.get_last_lr()[0], 4))
    ...     opt.step(); sched.step()
    >>> lrs
    [1.0, 0.8536, 0.5, 0.1464, 0.0]
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, T, lo = self.last_epoch, self.T_max, self.eta_min
        if t == 0:
            return self._lrs()
        if self._step_count == 1 and t > 0:
            return [cosine_annealing(t, b, T, lo) for b in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:
            return [lr + (b - lo) * (1 - math.cos(math.pi / T)) / 2 for b, lr in zip(self.base_lrs, self._lrs())]
        return [(1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T)) * (lr - lo) + lo
                for lr in self._lrs()]

    def _get_closed_form_lr(self):
        return [cosine_annealing(self.last_epoch, b, self.T_max, self.eta_min) for b in self.base_lrs]


class LambdaLR(LRScheduler):
    """The lr is ``initial_lr * lr_lambda(last_epoch)`` (one function, or a list with one per group).

    ``state_dict`` saves the attributes of callable objects but not plain
    functions or lambdas, as in PyTorch.

    >>> import fnx, fnx.numpy as fnp
    >>> opt = fnx.optim.SGD([fnx.nn.Parameter(fnp.zeros(1))], lr=0.5)
    >>> sched = fnx.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 0.5 ** epoch)
    >>> opt.step(); sched.step(); opt.step(); sched.step()
    >>> sched.get_last_lr()
    [0.125]
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        _check_optimizer(optimizer)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ValueError(f"Expected {len(optimizer.param_groups)} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * len(optimizer.param_groups)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [b * f(self.last_epoch) for f, b in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self):
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(f, types.FunctionType) else f.__dict__.copy()
                               for f in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        state_dict = dict(state_dict)
        lambdas = state_dict.pop("lr_lambdas")
        self.__dict__.update(state_dict)
        for f, saved in zip(self.lr_lambdas, lambdas):
            if saved is not None:
                f.__dict__.update(saved)


class OneCycleLR(LRScheduler):
    """The 1cycle policy (``torch.optim.lr_scheduler.OneCycleLR``), stepped after every batch.

    The lr of each group follows :func:`one_cycle` between the group's
    ``initial_lr`` (``max_lr / div_factor``), ``max_lr`` and ``min_lr``
    (``initial_lr / final_div_factor``), stored in the group. With
    ``cycle_momentum`` the group's ``momentum`` (or Adam's ``betas[0]``) moves
    the opposite way between ``max_momentum`` and ``base_momentum``
    (:func:`one_cycle_momentum`).

    Args:
      max_lr: the peak lr (or a list, one per group).
      total_steps: the cycle length; or give ``epochs`` and ``steps_per_epoch``.

    >>> import fnx, fnx.numpy as fnp
    >>> opt = fnx.optim.SGD([fnx.nn.Parameter(fnp.zeros(1))], lr=0.1, momentum=0.9)
    >>> sched = fnx.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    >>> round(opt.param_groups[0]["lr"], 6), opt.param_groups[0]["momentum"]
    (0.04, 0.95)
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
                 div_factor=25.0, final_div_factor=1e4, three_phase=False, last_epoch=-1):
        _check_optimizer(optimizer)
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"Expected positive integer epochs, but got {epochs}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError(f"Expected positive integer steps_per_epoch, but got {steps_per_epoch}")
            total_steps = epochs * steps_per_epoch
        _check_one_cycle(total_steps, pct_start, anneal_strategy)
        self.total_steps, self.pct_start = total_steps, pct_start
        self.anneal_strategy, self.three_phase = anneal_strategy, three_phase
        groups = optimizer.param_groups
        if last_epoch == -1:
            for group, peak in zip(groups, _per_group("max_lr", optimizer, max_lr)):
                group["initial_lr"] = peak / div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` option enabled")
            self.use_beta1 = "betas" in optimizer.defaults
            if last_epoch == -1:
                highs = _per_group("max_momentum", optimizer, max_momentum)
                lows = _per_group("base_momentum", optimizer, base_momentum)
                for group, high, low in zip(groups, highs, lows):
                    self._set_momentum(group, high)
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group, value):
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def get_lr(self):
        lrs = []
        args = (self.last_epoch, self.total_steps, self.pct_start, self.anneal_strategy, self.three_phase)
        for group in self.optimizer.param_groups:
            lrs.append(_one_cycle_at(*args, group, 1))
            if self.cycle_momentum:
                self._set_momentum(group, _one_cycle_at(*args, group, 2))
        return lrs


class ReduceLROnPlateau(LRScheduler):
    """Divides the lr by ``1 / factor`` when a metric has stopped improving (``torch.optim.lr_scheduler``'s).

    ``step(metric)`` counts the epochs without improvement (better than the best
    by more than ``threshold``, relative or absolute per ``threshold_mode``); once
    more than ``patience`` have passed, every group's lr becomes
    ``max(lr * factor, min_lr)`` (if that changes it by more than ``eps``) and
    ``cooldown`` epochs are ignored.

    >>> import fnx, fnx.numpy as fnp
    >>> opt = fnx.optim.SGD([fnx.nn.Parameter(fnp.zeros(1))], lr=1.0)
    >>> sched = fnx.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5)
    >>> for loss in [3.0, 2.0, 2.0, 2.0, 2.0]:
    ...     sched.step(loss)
    >>> sched.get_last_lr()
    [0.5]
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0, eps=1e-8):
        _check_optimizer(optimizer)
        if factor >= 1.0:
            raise ValueError(f"Factor should be < 1.0, got {factor}")
        self.optimizer = optimizer
        self.factor = factor
        if isinstance(min_lr, (list, tuple)):
            self.default_min_lr = None
            self.min_lrs = _per_group("min_lr", optimizer, min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience, self.cooldown = patience, cooldown
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = self._lrs()
        self._init_is_better()
        self._reset()

    def _init_is_better(self):
        if self.mode not in ("min", "max"):
            raise ValueError(f"mode {self.mode} is unknown! (use 'min' or 'max')")
        if self.threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold mode {self.threshold_mode} is unknown! (use 'rel' or 'abs')")
        self.mode_worse = math.inf if self.mode == "min" else -math.inf

    def _reset(self):
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def is_better(self, a, best):
        if self.mode == "min":
            return a < (best * (1.0 - self.threshold) if self.threshold_mode == "rel" else best - self.threshold)
        return a > (best * (1.0 + self.threshold) if self.threshold_mode == "rel" else best + self.threshold)

    def step(self, metrics, epoch=None):
        """Records this epoch's ``metrics`` (a number or a scalar array) and reduces the lr if it plateaued."""
        current = float(metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn("The epoch parameter in scheduler.step() is deprecated (as in PyTorch)", UserWarning,
                          stacklevel=2)
        self.last_epoch = epoch
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._lrs()

    def _reduce_lr(self):
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"The number of param groups in the optimizer ({len(groups)}) differs from "
                                   f"when ReduceLROnPlateau was initialized ({len(self.min_lrs)}), usually due "
                                   f"to a new param group being added; pass min_lr as a number instead")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:
                group["lr"] = new

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._init_is_better()


_LRScheduler = LRScheduler  # PyTorch's older name
