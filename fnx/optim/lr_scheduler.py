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


def _lambdas_per_group(optimizer, lr_lambda):
    """One function per param group: ``lr_lambda`` for all, or a list with one per group."""
    _check_optimizer(optimizer)
    if isinstance(lr_lambda, (list, tuple)):
        if len(lr_lambda) != len(optimizer.param_groups):
            raise ValueError(f"Expected {len(optimizer.param_groups)} lr_lambdas, but got {len(lr_lambda)}")
        return list(lr_lambda)
    return [lr_lambda] * len(optimizer.param_groups)


class _enable_get_lr_call:
    """Marks ``get_lr()`` as called by ``step()`` (PyTorch's ``_enable_get_lr_call``); a scheduler that
    warns when ``get_lr()`` is called directly, as :class:`~fnx.optim.swa_utils.SWALR` does, reads the mark."""

    def __init__(self, scheduler):
        self.scheduler = scheduler

    def __enter__(self):
        self.scheduler._get_lr_called_within_step = True

    def __exit__(self, *exc):
        self.scheduler._get_lr_called_within_step = False
        return False


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

    # PyTorch's *initial* step, the one a scheduler takes when it starts: schedulers that compute the next lr
    # from the current one leave it as it is then (resuming with last_epoch >= 0 must not step it twice).
    _is_initial = False
    _get_lr_called_within_step = False

    def get_lr(self):
        raise NotImplementedError

    def get_last_lr(self):
        """The lrs the last ``step()`` set, one per param group."""
        return self._last_lr

    def step(self, epoch=None):
        """Advances ``last_epoch`` by one (or sets it to ``epoch``, deprecated) and writes the groups' lrs."""
        if self._step_count == 1 and not self.optimizer.__dict__.get("_opt_called"):
            warnings.warn("Detected call of `lr_scheduler.step()` before `optimizer.step()`: call them in the "
                          "opposite order, `optimizer.step()` before `lr_scheduler.step()`, or the first value of "
                          "the learning rate schedule is skipped (as PyTorch warns)", UserWarning, stacklevel=2)
        self._is_initial = self._step_count == 0
        self._step_count += 1
        try:
            if epoch is not None:
                warnings.warn("The epoch parameter in scheduler.step() is deprecated (as in PyTorch); call step() "
                              "without arguments", UserWarning, stacklevel=2)
            with _enable_get_lr_call(self):
                if epoch is None:
                    self.last_epoch += 1
                    values = self.get_lr()
                else:
                    self.last_epoch = epoch
                    values = self._get_closed_form_lr() if hasattr(self, "_get_closed_form_lr") else self.get_lr()
        finally:
            self._is_initial = False
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
        if self._is_initial or self.last_epoch == 0:
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
        if self._is_initial or t == 0:
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
        self.lr_lambdas = _lambdas_per_group(optimizer, lr_lambda)
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
        """Records this epoch's ``metrics`` (a number, or an array of one element as PyTorch takes) and reduces the
        lr if it plateaued."""
        current = float(metrics.item() if hasattr(metrics, "item") and getattr(metrics, "size", 1) == 1 else metrics)
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


# ----- more of torch.optim.lr_scheduler -------------------------------------------------------------------
#
# LinearLR, ConstantLR, PolynomialLR, MultiplicativeLR, CosineAnnealingWarmRestarts and CyclicLR, with
# their closed forms as pure functions, and the two schedulers of schedulers, SequentialLR and
# ChainedScheduler. As in PyTorch, the first step (made by the constructor, or by SequentialLR when a
# scheduler's turn begins) is the *initial* one: the recursive forms leave the lr alone there.

__all__ += ["LinearLR", "ConstantLR", "PolynomialLR", "MultiplicativeLR", "CosineAnnealingWarmRestarts", "CyclicLR",
            "SequentialLR", "ChainedScheduler", "linear_lr", "constant_lr", "polynomial_decay",
            "cosine_warm_restarts", "cyclic_lr", "cyclic_momentum"]


def linear_lr(step, base_lr, start_factor=1.0 / 3, end_factor=1.0, total_iters=5):
    """``base_lr`` times a factor going linearly from ``start_factor`` to ``end_factor`` over ``total_iters``
    steps, then staying there (LinearLR's closed form).

    >>> [round(linear_lr(t, 1.0, 0.5, 1.0, total_iters=2), 4) for t in range(4)]
    [0.5, 0.75, 1.0, 1.0]
    """
    return base_lr * (start_factor + (end_factor - start_factor) * min(total_iters, step) / total_iters)


def constant_lr(step, base_lr, factor=1.0 / 3, total_iters=5):
    """``base_lr * factor`` for the first ``total_iters`` steps, then ``base_lr`` (ConstantLR's closed form).

    >>> [constant_lr(t, 1.0, 0.5, total_iters=2) for t in range(4)]
    [0.5, 0.5, 1.0, 1.0]
    """
    return base_lr * (factor + (step >= total_iters) * (1 - factor))


def polynomial_decay(step, base_lr, total_iters=5, power=1.0):
    r""":math:`\text{base\_lr} \cdot (1 - \min(t, T) / T)^{p}` (PolynomialLR's closed form).

    >>> [polynomial_decay(t, 1.0, total_iters=4, power=2.0) for t in range(6)]
    [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    """
    return base_lr * (1.0 - min(total_iters, step) / total_iters) ** power


def _restart_position(epoch, T_0, T_mult):
    """``(T_cur, T_i)``: the position in the current period and its length, at (possibly fractional) ``epoch``."""
    if epoch < T_0:
        return epoch, T_0
    if T_mult == 1:
        return epoch % T_0, T_0
    n = int(math.log(epoch / T_0 * (T_mult - 1) + 1, T_mult))
    return epoch - T_0 * (T_mult ** n - 1) / (T_mult - 1), T_0 * T_mult ** n


def cosine_warm_restarts(step, base_lr, T_0, T_mult=1, eta_min=0.0):
    r"""SGDR: cosine annealing from ``base_lr`` to ``eta_min`` restarted every period, the periods
    growing by ``T_mult`` (CosineAnnealingWarmRestarts' values, ``step`` may be fractional).

    .. math:: \eta_t = \eta_{min} + \tfrac12(\eta_{base} - \eta_{min})(1 + \cos(\pi T_{cur} / T_i))

    Loshchilov and Hutter, "SGDR: Stochastic Gradient Descent with Warm
    Restarts" (ICLR 2017).

    >>> [round(cosine_warm_restarts(t, 1.0, T_0=2, T_mult=2), 4) for t in range(7)]
    [1.0, 0.5, 1.0, 0.8536, 0.5, 0.1464, 1.0]
    """
    t_cur, t_i = _restart_position(step, T_0, T_mult)
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2


_CYCLIC_MODES = ("triangular", "triangular2", "exp_range")


def _cyclic_scale(step, total_size, step_ratio, mode, gamma, scale_fn, scale_mode):
    """``(height, scale)``: where ``step`` is on the triangle (0 at the base, 1 at the peak) and the amplitude."""
    cycle = math.floor(1 + step / total_size)
    x = 1.0 + step / total_size - cycle
    height = x / step_ratio if x <= step_ratio else (x - 1) / (step_ratio - 1)
    if scale_fn is None:
        scale_fn = {"triangular": lambda c: 1.0, "triangular2": lambda c: 1 / (2.0 ** (c - 1)),
                    "exp_range": lambda i: gamma ** i}[mode]
        scale_mode = "iterations" if mode == "exp_range" else "cycle"
    return height, scale_fn(cycle if scale_mode == "cycle" else step)


def _check_cyclic(mode, scale_fn):
    if mode not in _CYCLIC_MODES and scale_fn is None:
        raise ValueError("mode is invalid and scale_fn is None")


def cyclic_lr(step, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular", gamma=1.0,
              scale_fn=None, scale_mode="cycle"):
    """The cyclical learning rate at ``step`` (CyclicLR's values for one param group).

    The lr climbs linearly from ``base_lr`` to ``max_lr`` over ``step_size_up``
    steps and back down over ``step_size_down`` (default: the same), the
    amplitude scaled per cycle: constant (``"triangular"``), halved every cycle
    (``"triangular2"``) or by ``gamma ** step`` (``"exp_range"``); or by a
    custom ``scale_fn`` of the cycle number or of the step (``scale_mode``).
    Smith, "Cyclical Learning Rates for Training Neural Networks" (WACV 2017).

    >>> [cyclic_lr(t, 1.0, 3.0, step_size_up=2, mode="triangular2") for t in range(9)]
    [1.0, 2.0, 3.0, 2.0, 1.0, 1.5, 2.0, 1.5, 1.0]
    """
    _check_cyclic(mode, scale_fn)
    up = float(step_size_up)
    total = up + (float(step_size_down) if step_size_down is not None else up)
    height, scale = _cyclic_scale(step, total, up / total, mode, gamma, scale_fn, scale_mode)
    return base_lr + (max_lr - base_lr) * height * scale


def cyclic_momentum(step, base_momentum=0.8, max_momentum=0.9, step_size_up=2000, step_size_down=None,
                    mode="triangular", gamma=1.0, scale_fn=None, scale_mode="cycle"):
    """The momentum CyclicLR sets with ``cycle_momentum``: it moves opposite to :func:`cyclic_lr`, from
    ``max_momentum`` down towards ``base_momentum``.

    >>> [round(cyclic_momentum(t, 0.8, 0.9, step_size_up=2), 4) for t in range(5)]
    [0.9, 0.85, 0.8, 0.85, 0.9]
    """
    _check_cyclic(mode, scale_fn)
    up = float(step_size_up)
    total = up + (float(step_size_down) if step_size_down is not None else up)
    height, scale = _cyclic_scale(step, total, up / total, mode, gamma, scale_fn, scale_mode)
    return max_momentum - (max_momentum - base_momentum) * height * scale


class LinearLR(LRScheduler):
    """Multiplies the lr by a factor going linearly from ``start_factor`` to ``end_factor`` over
    ``total_iters`` steps (closed form :func:`linear_lr`); the usual warm-up.

    Computed recursively, as PyTorch does, from the group's current lr.

    Raises:
      ValueError: ``start_factor`` outside (0, 1] or ``end_factor`` outside [0, 1].

    >>> import fnx, fnx.numpy as fnp
    >>> opt = fnx.optim.SGD([fnx.nn.Parameter(fnp.zeros(1))], lr=1.0)
    >>> sched = fnx.optim.lr_scheduler.LinearLR(opt, start_factor=0.5, total_iters=2)
    >>> lrs = []
    >>> for _ in range(4):
    ...     lrs.append(sched.get_last_lr()[0])
    ...     opt.step(); sched.step()
    >>> lrs
    [0.5, 0.75, 1.0, 1.0]
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and less or equal to 1.")
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in self._lrs()]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._lrs()
        s, e = self.start_factor, self.end_factor
        ratio = 1.0 + (e - s) / (self.total_iters * s + (self.last_epoch - 1) * (e - s))
        return [lr * ratio for lr in self._lrs()]

    def _get_closed_form_lr(self):
        return [linear_lr(self.last_epoch, b, self.start_factor, self.end_factor, self.total_iters)
                for b in self.base_lrs]


class ConstantLR(LRScheduler):
    """Multiplies the lr by ``factor`` until ``total_iters`` steps have passed (closed form :func:`constant_lr`).

    Raises:
      ValueError: ``factor`` outside [0, 1].

    >>> import fnx, fnx.numpy as fnp
    >>> opt = fnx.optim.SGD([fnx.nn.Parameter(fnp.zeros(1))], lr=1.0)
    >>> sched = fnx.optim.lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=2)
    >>> lrs = []
    >>> for _ in range(4):
    ...     lrs.append(sched.get_last_lr()[0])
    ...     opt.step(); sched.step()
    >>> lrs
    [0.5, 0.5, 1.0, 1.0]
    """

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if factor > 1.0 or factor < 0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._lrs()]
        if self.last_epoch != self.total_iters:
            return self._lrs()
        return [lr * (1.0 / self.factor) for lr in self._lrs()]

    def _get_closed_form_lr(self):
        return [constant_lr(self.last_epoch, b, self.factor, self.total_iters) for b in self.base_lrs]


class PolynomialLR(LRScheduler):
    """Decays the lr polynomially to 0 over ``total_iters`` steps (closed form :func:`polynomial_decay`).

    >>> import fnx, fnx.numpy as fnp
    >>> opt = fnx.optim.SGD([fnx.nn.Parameter(fnp.zeros(1))], lr=1.0)
    >>> sched = fnx.optim.lr_scheduler.PolynomialLR(opt, total_iters=4, power=2.0)
    >>> lrs = []
    >>> for _ in range(6):
    ...     lrs.append(round(sched.get_last_lr()[0], 6))
    ...     opt.step(); sched.step()
    >>> lrs
    [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    """

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._lrs()
        t, n = self.last_epoch, self.total_iters
        factor = ((1.0 - t / n) / (1.0 - (t - 1) / n)) ** self.power
        return [lr * factor for lr in self._lrs()]

    def _get_closed_form_lr(self):
        return [polynomial_decay(self.last_epoch, b, self.total_iters, self.power) for b in self.base_lrs]


class MultiplicativeLR(LRScheduler):
    """Multiplies the lr by ``lr_lambda(epoch)`` at every step after the first (one function, or a list
    with one per group). ``state_dict`` saves callable objects' attributes, not functions, as :class:`LambdaLR`.

    Raises:
      ValueError: a list of functions whose length is not the number of groups.
      TypeError: an ``lr_lambda`` that is not callable.

    >>> import fnx, fnx.numpy as fnp
    >>> opt = fnx.optim.SGD([fnx.nn.Parameter(fnp.zeros(1))], lr=1.0)
    >>> sched = fnx.optim.lr_scheduler.MultiplicativeLR(opt, lambda epoch: 0.5)
    >>> opt.step(); sched.step(); opt.step(); sched.step()
    >>> sched.get_last_lr()
    [0.25]
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.lr_lambdas = _lambdas_per_group(optimizer, lr_lambda)
        for f in self.lr_lambdas:
            if not callable(f):
                raise TypeError(f"lr_lambda should be a function, but got {type(f).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._lrs()
        return [lr * f(self.last_epoch) for f, lr in zip(self.lr_lambdas, self._lrs())]

    state_dict = LambdaLR.state_dict
    load_state_dict = LambdaLR.load_state_dict


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""Cosine annealing with warm restarts, SGDR (``torch.optim.lr_scheduler.CosineAnnealingWarmRestarts``).

    The lr follows :func:`cosine_warm_restarts`: within each period of
    ``T_i`` steps (``T_0`` first, then multiplied by ``T_mult`` at every
    restart) it anneals from the base lr to ``eta_min``. ``step()`` advances by
    one; ``step(epoch)`` jumps to a (possibly fractional) epoch, which is how
    it is stepped within an epoch (``sched.step(epoch + i / iters)``), without
    the deprecation warning of the other schedulers.

    Raises:
      ValueError: ``T_0`` not a positive int, ``T_mult`` not an int >= 1, ``eta_min`` not a number,
        or a negative ``epoch``.

    >>> import fnx, fnx.numpy as fnp
    >>> opt = fnx.optim.SGD([fnx.nn.Parameter(fnp.zeros(1))], lr=1.0)
    >>> sched = fnx.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
    >>> lrs = []
    >>> for _ in range(7):
    ...     lrs.append(round(sched.get_last_lr()[0], 4))
    ...     opt.step(); sched.step()
    >>> lrs
    [1.0, 0.5, 1.0, 0.8536, 0.5, 0.1464, 1.0]
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        if not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(f"Expected float or int eta_min, but got {eta_min} of type {type(eta_min)}")
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [self.eta_min + (b - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for b in self.base_lrs]

    def step(self, epoch=None):
        """One step; or, with ``epoch``, the lr of that (possibly fractional) epoch."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"Expected non-negative epoch, but got {epoch}")
            self.T_cur, self.T_i = _restart_position(epoch, self.T_0, self.T_mult)
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = self._lrs()


class CyclicLR(LRScheduler):
    """Cyclical learning rate, stepped after every batch (``torch.optim.lr_scheduler.CyclicLR``).

    Each group's lr follows :func:`cyclic_lr` between its ``base_lr`` and
    ``max_lr`` (numbers, or lists with one per group); the constructor sets
    the groups' lrs to ``base_lr``. With ``cycle_momentum`` (the default) the
    optimizer's ``momentum`` (or Adam's ``betas[0]``) follows
    :func:`cyclic_momentum` the opposite way, and the groups record
    ``base_momentum`` and ``max_momentum``. ``state_dict`` keeps a custom
    ``scale_fn`` only if it is a callable object, as in PyTorch.

    Raises:
      ValueError: an unknown ``mode`` without ``scale_fn``, list lengths that do not match
        the groups, or ``cycle_momentum`` with an optimizer that has neither momentum nor betas.

    >>> import fnx, fnx.numpy as fnp
    >>> opt = fnx.optim.SGD([fnx.nn.Parameter(fnp.zeros(1))], lr=0.1, momentum=0.9)
    >>> sched = fnx.optim.lr_scheduler.CyclicLR(opt, base_lr=1.0, max_lr=3.0, step_size_up=2)
    >>> lrs, moms = [], []
    >>> for _ in range(5):
    ...     lrs.append(sched.get_last_lr()[0]); moms.append(round(opt.param_groups[0]["momentum"], 4))
    ...     opt.step(); sched.step()
    >>> lrs, moms
    ([1.0, 2.0, 3.0, 2.0, 1.0], [0.9, 0.85, 0.8, 0.85, 0.9])
    """

    def __init__(self, optimizer, base_lr, max_lr, step_size_up=2000, step_size_down=None, mode="triangular",
                 gamma=1.0, scale_fn=None, scale_mode="cycle", cycle_momentum=True, base_momentum=0.8,
                 max_momentum=0.9, last_epoch=-1):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        base_lrs = _per_group("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        self.max_lrs = _per_group("max_lr", optimizer, max_lr)
        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        self.total_size = step_size_up + step_size_down
        self.step_ratio = step_size_up / self.total_size
        _check_cyclic(mode, scale_fn)
        self.mode, self.gamma = mode, gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` option enabled")
            self.use_beta1 = "betas" in optimizer.defaults
            self.base_momentums = _per_group("base_momentum", optimizer, base_momentum)
            self.max_momentums = _per_group("max_momentum", optimizer, max_momentum)
            if last_epoch == -1:
                for high, low, group in zip(self.max_momentums, self.base_momentums, optimizer.param_groups):
                    self._set_momentum(group, high)
                    group["max_momentum"], group["base_momentum"] = high, low
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _set_momentum(self, group, value):
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def scale_fn(self, x):
        """The amplitude's scale at ``x`` (the cycle number, or the step for ``"exp_range"``)."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def get_lr(self):
        height, scale = _cyclic_scale(self.last_epoch, self.total_size, self.step_ratio, self.mode, self.gamma,
                                      self._scale_fn_custom, self.scale_mode)
        lrs = [b + (m - b) * height * scale for b, m in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, low, high in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                self._set_momentum(group, high - (high - low) * height * scale)
        return lrs

    def state_dict(self):
        state = super().state_dict()
        fn = state.pop("_scale_fn_custom")
        state["_scale_fn_custom"] = None if fn is None or isinstance(fn, types.FunctionType) else fn.__dict__.copy()
        return state

    def load_state_dict(self, state_dict):
        state_dict = dict(state_dict)
        fn = state_dict.pop("_scale_fn_custom", None)
        self.__dict__.update(state_dict)
        if fn is not None and self._scale_fn_custom is not None:
            self._scale_fn_custom.__dict__.update(fn)


def _check_schedulers(owner, schedulers, optimizer):
    for i, s in enumerate(schedulers):
        if not hasattr(s, "optimizer"):
            raise TypeError(f"{owner} at index {i} should have `optimizer` as its attribute.")
        if isinstance(s, ReduceLROnPlateau):
            raise ValueError(f"{owner} does not support `ReduceLROnPlateau` scheduler as it requires additional "
                             f"kwargs to be specified when calling `step`, but got one at index {i} in the given "
                             f"schedulers sequence.")
        if s.optimizer is not optimizer:
            raise ValueError(f"{owner} expects all schedulers to belong to the same optimizer, but got scheduler "
                             f"{type(s).__name__} at index {i} with a different optimizer")


def _initial_step(scheduler):
    """PyTorch's ``_initial_step``: a scheduler's first step, as its constructor takes it."""
    scheduler._step_count = 0
    scheduler.step()


def _update_lr(scheduler, epoch):
    """PyTorch's ``_update_lr(epoch)``: jump to ``epoch`` (closed form where there is one), counting no step."""
    scheduler.last_epoch = epoch
    with _enable_get_lr_call(scheduler):
        values = scheduler._get_closed_form_lr() if hasattr(scheduler, "_get_closed_form_lr") else scheduler.get_lr()
    for group, lr in zip(scheduler.optimizer.param_groups, values):
        group["lr"] = lr
    scheduler._last_lr = scheduler._lrs()


def _nested_state(scheduler):
    state = {k: v for k, v in scheduler.__dict__.items() if k not in ("optimizer", "_schedulers")}
    state["_schedulers"] = [s.state_dict() for s in scheduler._schedulers]
    return state


def _load_nested_state(scheduler, state_dict):
    state_dict = dict(state_dict)
    nested = state_dict.pop("_schedulers")
    scheduler.__dict__.update(state_dict)
    for s, saved in zip(scheduler._schedulers, nested):
        s.load_state_dict(saved)


class SequentialLR(LRScheduler):
    """Runs ``schedulers`` one after another, switching at the ``milestones`` (``torch.optim``'s).

    Construction resets the groups' lrs to their ``initial_lr``, undoes the
    first step the schedulers took when they were built and lets the first one
    take it again. At a milestone the next scheduler starts from its epoch 0
    (its closed form, where it has one), as in PyTorch.

    Raises:
      ValueError: no schedulers, ``len(milestones) != len(schedulers) - 1``, a scheduler of another
        optimizer, or a ReduceLROnPlateau.

    >>> import fnx, fnx.numpy as fnp
    >>> from fnx.optim import lr_scheduler as ls
    >>> opt = fnx.optim.SGD([fnx.nn.Parameter(fnp.zeros(1))], lr=1.0)
    >>> warm = ls.LinearLR(opt, start_factor=0.25, total_iters=3)
    >>> decay = ls.ExponentialLR(opt, gamma=0.5)
    >>> sched = ls.SequentialLR(opt, [warm, decay], milestones=[3])
    >>> lrs = []
    >>> for _ in range(6):
    ...     lrs.append(sched.get_last_lr()[0])
    ...     opt.step(); sched.step()
    >>> lrs
    [0.25, 0.5, 0.75, 1.0, 0.5, 0.25]
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        if len(schedulers) < 1:
            raise ValueError("SequentialLR expects at least one scheduler, but got no scheduler.")
        _check_schedulers("SequentialLR", schedulers, optimizer)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"Sequential Schedulers expects number of schedulers provided to be one more than the "
                             f"number of milestone points, but got number of schedulers {len(schedulers)} and the "
                             f"number of milestones to be equal to {len(milestones)}")
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self.recursive_undo()
        idx = bisect_right(self._milestones, 0)
        _initial_step(self._schedulers[idx])
        self._last_lr = self._schedulers[idx].get_last_lr()

    def recursive_undo(self, sched=None):
        """Moves every (nested) scheduler back by one epoch: undoes the step their constructors took."""
        scheds = self if sched is None else sched
        if hasattr(scheds, "_schedulers"):
            for s in scheds._schedulers:
                self.recursive_undo(s)
        elif hasattr(scheds, "last_epoch"):
            scheds.last_epoch -= 1

    def step(self):
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            _update_lr(scheduler, 0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self):
        """This scheduler's attributes, with each inner scheduler's own ``state_dict`` under ``_schedulers``."""
        return _nested_state(self)

    def load_state_dict(self, state_dict):
        _load_nested_state(self, state_dict)


class ChainedScheduler(LRScheduler):
    """Steps every scheduler in ``schedulers`` at each ``step()``, so their effects compound
    (``torch.optim.lr_scheduler.ChainedScheduler``).

    Raises:
      ValueError: no schedulers, schedulers of different optimizers, or a ReduceLROnPlateau.

    >>> import fnx, fnx.numpy as fnp
    >>> from fnx.optim import lr_scheduler as ls
    >>> opt = fnx.optim.SGD([fnx.nn.Parameter(fnp.zeros(1))], lr=1.0)
    >>> sched = ls.ChainedScheduler([ls.ConstantLR(opt, factor=0.5, total_iters=2), ls.ExponentialLR(opt, 0.5)])
    >>> lrs = []
    >>> for _ in range(4):
    ...     lrs.append(sched.get_last_lr()[0])
    ...     opt.step(); sched.step()
    >>> lrs
    [0.5, 0.25, 0.25, 0.125]
    """

    def __init__(self, schedulers, optimizer=None):
        if len(schedulers) < 1:
            raise ValueError("ChainedScheduler expects at least one scheduler to be chained, but got no scheduler.")
        optimizer = optimizer or schedulers[0].optimizer
        _check_schedulers("ChainedScheduler", schedulers, optimizer)
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self._last_lr = self._lrs()

    def step(self):
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = self._lrs()

    def state_dict(self):
        """This scheduler's attributes, with each inner scheduler's own ``state_dict`` under ``_schedulers``."""
        return _nested_state(self)

    def load_state_dict(self, state_dict):
        _load_nested_state(self, state_dict)
