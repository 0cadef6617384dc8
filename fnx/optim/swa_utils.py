"""Stochastic weight averaging and EMA models (``torch.optim.swa_utils``).

SWA (Izmailov et al., "Averaging Weights Leads to Wider Optima and Better
Generalization", UAI 2018) evaluates a model whose weights are the running
mean of the weights the optimizer visited late in training; an EMA model
keeps an exponential moving average instead. :class:`AveragedModel` holds a
copy of the model and folds the trained model's current weights into it at
each ``update_parameters(model)``; :class:`SWALR` anneals the lr to the
constant SWA lr; :func:`update_bn` recomputes BatchNorm statistics for the
averaged weights, since the running statistics of the trained model do not
belong to them.

PyTorch's averaging functions update the averaged tensors in place. fnx arrays
are immutable, so here an averaging function *returns* the new values and
``update_parameters`` rebinds the averaged model's parameter and buffer slots
to them (as ``copy_`` would: cast to the slot's dtype, on its device):

* ``avg_fn(averaged, current, num_averaged) -> new averaged array`` (as in PyTorch);
* ``multi_avg_fn(averaged_list, current_list, num_averaged) -> list of new averaged
  arrays``, one per entry, in order. Returning None (an in-place PyTorch function
  ported as it is) raises a TypeError that says so.

``num_averaged`` is ``n_averaged``, a 0-d int64 array, as PyTorch passes a tensor.
All of it runs under ``no_grad``: the averaged weights carry no gradient history.
"""
import copy
import math
import numbers
import warnings

import numpy as np

from .. import numpy as fnp
from ..nn.layers.norm import _BatchNorm
from ..nn.module import Module
from ..nn.parameter import _plain
from ..transforms.autodiff import no_grad
from .lr_scheduler import LRScheduler, _check_optimizer, _per_group

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn", "get_swa_multi_avg_fn", "get_ema_avg_fn",
           "get_swa_avg_fn"]


# ----- averaging functions ---------------------------------------------------------------------------

def _check_decay(decay):
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"Invalid decay value {decay} provided. Please provide a value in [0,1] range.")


def _inexact(x):
    return x.dtype.kind in "fc"


def _lerp(start, end, weight):
    """``torch.lerp(start, end, weight)`` for a number ``weight``, with PyTorch's two-sided formula."""
    diff = end - start
    if abs(weight) < 0.5:
        return start + weight * diff
    one_minus = float(np.dtype(start.dtype).type(1) - np.dtype(start.dtype).type(weight))  # in start's precision
    return end - diff * one_minus


def _count(n, like):
    """``n`` as a divisor for ``like``: in its dtype when floating (PyTorch divides a float32 tensor by an
    int64 one in float32), else in float32, PyTorch's default dtype."""
    if isinstance(n, numbers.Number):
        return n
    return fnp.asarray(n).astype(like.dtype if _inexact(like) else fnp.float32)


def get_ema_multi_avg_fn(decay=0.999):
    r"""An exponential moving average over lists of arrays, for ``AveragedModel(multi_avg_fn=...)``.

    .. math:: W^{EMA}_0 = W^{model}_0, \qquad
              W^{EMA}_{t+1} = \text{decay}\, W^{EMA}_t + (1 - \text{decay})\, W^{model}_{t+1}

    The returned ``ema_update(ema_list, current_list, num_averaged)`` returns
    the list of new averages: ``lerp(ema, current, 1 - decay)`` for floating
    arrays, ``ema * decay + current * (1 - decay)`` cast back (truncated) for
    integer ones, as PyTorch's in-place version computes.

    Raises:
      ValueError: ``decay`` outside [0, 1].

    >>> import fnx.numpy as fnp
    >>> ema = get_ema_multi_avg_fn(0.75)
    >>> ema([fnp.array([1.0, 2.0])], [fnp.array([5.0, 6.0])], 1)
    [Array([2., 3.], dtype=float32)]
    """
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param_list, current_param_list, _):
        return [_lerp(e, c, 1 - decay) if _inexact(e) else (e * decay + c * (1 - decay)).astype(e.dtype)
                for e, c in zip(ema_param_list, current_param_list, strict=True)]

    return ema_update


def get_swa_multi_avg_fn():
    r"""The equally weighted running mean over lists of arrays, for ``AveragedModel(multi_avg_fn=...)``.

    .. math:: W^{SWA}_{n+1} = W^{SWA}_n + \frac{W^{model} - W^{SWA}_n}{n + 1}

    with :math:`n` = ``num_averaged`` (computed as ``lerp(averaged, current, 1 / (n + 1))``
    for floating arrays). For integer arrays PyTorch's in-place version raises
    (``addcdiv`` no longer divides integers); fnx returns the truncated mean.

    >>> import fnx.numpy as fnp
    >>> swa = get_swa_multi_avg_fn()
    >>> swa([fnp.array([1.0, 2.0])], [fnp.array([4.0, 8.0])], 2)  # two models averaged so far
    [Array([2., 4.], dtype=float32)]
    """

    @no_grad()
    def swa_update(averaged_param_list, current_param_list, num_averaged):
        out = []
        for a, c in zip(averaged_param_list, current_param_list, strict=True):
            if _inexact(a):
                out.append(_lerp(a, c, float(1 / (int(num_averaged) + 1))))
            else:
                out.append((a + (c - a) / _count(num_averaged + 1, a)).astype(a.dtype))
        return out

    return swa_update


def get_ema_avg_fn(decay=0.999):
    r"""An exponential moving average of one array, ``decay * ema + (1 - decay) * current``, for
    ``AveragedModel(avg_fn=...)``; see :func:`get_ema_multi_avg_fn`.

    Raises:
      ValueError: ``decay`` outside [0, 1].

    >>> import fnx.numpy as fnp
    >>> get_ema_avg_fn(0.5)(fnp.array([1.0]), fnp.array([3.0]), 1)
    Array([2.], dtype=float32)
    """
    _check_decay(decay)

    @no_grad()
    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn():
    r"""The running mean of one array, ``averaged + (current - averaged) / (num_averaged + 1)``
    (AveragedModel's default, as PyTorch's on the CPU).

    >>> import fnx.numpy as fnp
    >>> get_swa_avg_fn()(fnp.array([1.0]), fnp.array([4.0]), fnp.array(2))
    Array([2.], dtype=float32)
    """

    @no_grad()
    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / _count(num_averaged + 1, averaged_param)

    return swa_update


# ----- the averaged model ------------------------------------------------------------------------------
#
# A slot is a place that holds one array of the averaged model: a Parameter (rebound with set_) or a buffer
# (an entry of its module's _buffers). Setting a slot does what torch's copy_ does to the tensor there.

def _copied(dst, value, what):
    value = _plain(fnp.asarray(value).detach())  # a value, not a view of the model's buffer that follows it
    if value.shape != dst.shape:
        try:
            value = fnp.broadcast_to(value, dst.shape)
        except ValueError as e:
            raise ValueError(f"AveragedModel: {what} has shape {value.shape}, the averaged array "
                             f"{dst.shape}") from e
    if value.dtype != dst.dtype:
        value = value.astype(dst.dtype)
    if value.device is not dst.device:
        value = value.to(dst.device)
    return value


class _ParamSlot:
    __slots__ = ("param",)

    def __init__(self, param):
        self.param = param

    def get(self):
        return self.param.primal

    def set(self, value, what="the new value"):
        self.param.set_(_copied(self.param.primal, value, what))


class _BufferSlot:
    __slots__ = ("module", "name")

    def __init__(self, module, name):
        self.module, self.name = module, name

    def get(self):
        return self.module._buffers[self.name]

    def set(self, value, what="the new value"):
        self.module._buffers[self.name] = _copied(self.get(), value, what)


def _param_slots(module):
    return [_ParamSlot(p) for p in module.parameters()]


def _buffer_slots(module):
    """One slot per entry of ``module.buffers()``, in that order."""
    slots = []
    for dotted, _ in module.named_buffers():
        path, _, name = dotted.rpartition(".")
        slots.append(_BufferSlot(module.get_submodule(path), name))
    return slots


def _by_device_and_dtype(pairs):
    """``pairs`` grouped by the averaged array's (device, dtype), in order of first appearance."""
    groups = {}
    for slot, current in pairs:
        a = slot.get()
        groups.setdefault((a.device, a.dtype), []).append((slot, current))
    return [(device, group) for (device, _), group in groups.items()]


def _check_result(name, result, count):
    if result is None:
        raise TypeError(f"AveragedModel: {name} returned None. fnx arrays are immutable, so an averaging function "
                        f"cannot update the averaged arrays in place as PyTorch's do; return the new values "
                        f"instead: avg_fn(averaged, current, num_averaged) -> new array, "
                        f"multi_avg_fn(averaged_list, current_list, num_averaged) -> list of new arrays, e.g. "
                        f"`return [a + (c - a) / (n + 1) for a, c in zip(averaged_list, current_list)]`")
    if count is not None and (not isinstance(result, (list, tuple)) or len(result) != count):
        got = f"{len(result)} values" if isinstance(result, (list, tuple)) else type(result).__name__
        raise ValueError(f"AveragedModel: {name} must return a list of {count} arrays (one per averaged array), "
                         f"got {got}")
    return result


class AveragedModel(Module):
    r"""A running average of a model's weights, for SWA and EMA (``torch.optim.swa_utils.AveragedModel``).

    Holds a deep copy of ``model`` in ``.module`` (moved to ``device`` if
    given) and a count ``n_averaged`` (an int64 buffer, saved in
    ``state_dict``). Calling it calls the copy. ``update_parameters(model)``
    copies ``model``'s parameters on its first call and from then on averages
    them in: with ``avg_fn`` one array at a time, with ``multi_avg_fn`` one
    list per (device, dtype), else by the equal-weight running mean
    :math:`W \leftarrow W + (W^{model} - W) / (n + 1)`. With
    ``use_buffers`` the buffers are averaged too; otherwise they are copied
    from ``model`` at every update. See the module docstring for fnx's
    contract for averaging functions (they return the new values).

    Args:
      model: the Module whose weights are averaged.
      device: where the averaged copy lives.
      avg_fn: ``avg_fn(averaged, current, num_averaged) -> new array``.
      multi_avg_fn: ``multi_avg_fn(averaged_list, current_list, num_averaged) -> list of new arrays``.
      use_buffers: average the buffers as well as the parameters.

    Raises:
      AssertionError: both ``avg_fn`` and ``multi_avg_fn`` given (PyTorch's error).

    >>> import fnx, fnx.numpy as fnp
    >>> model = fnx.nn.Linear(1, 1, bias=False)
    >>> swa = fnx.optim.swa_utils.AveragedModel(model)
    >>> for w in (1.0, 2.0, 6.0):
    ...     model.weight.data = fnp.array([[w]])
    ...     swa.update_parameters(model)
    >>> swa.module.weight.data, swa.n_averaged
    (Array([[3.]], dtype=float32), Array(3, dtype=int64))
    """

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", fnp.zeros((), dtype=fnp.int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    @no_grad()
    def update_parameters(self, model):
        """Folds ``model``'s current parameters (and buffers, with ``use_buffers``) into the average."""
        if self.use_buffers:
            own = _param_slots(self.module) + _buffer_slots(self.module)
            theirs = list(model.parameters()) + list(model.buffers())
        else:
            own, theirs = _param_slots(self), list(model.parameters())
        first = int(self.n_averaged) == 0
        pairs = []
        for slot, p_model in zip(own, theirs):  # PyTorch zips without strict here
            current = p_model.detach().to(slot.get().device)
            pairs.append((slot, current))
            if first:
                slot.set(current, "the model's array")
        if int(self.n_averaged) > 0:
            if self.multi_avg_fn is not None or self.avg_fn is None:
                for device, group in _by_device_and_dtype(pairs):
                    averaged, current = [s.get() for s, _ in group], [c for _, c in group]
                    n = self.n_averaged.to(device)
                    if self.multi_avg_fn is not None:
                        new = _check_result("multi_avg_fn", self.multi_avg_fn(averaged, current, n), len(group))
                    else:
                        avg_fn = get_swa_avg_fn()
                        new = [avg_fn(a, c, n) for a, c in zip(averaged, current)]
                    for (slot, _), value in zip(group, new):
                        slot.set(value)
            else:
                for slot, current in pairs:
                    n = self.n_averaged.to(slot.get().device)
                    slot.set(_check_result("avg_fn", self.avg_fn(slot.get(), current, n), None))
        if not self.use_buffers:
            # the buffers are not averaged: keep them in step with the source model
            own_buffers, their_buffers = _buffer_slots(self.module), list(model.buffers())
            if len(own_buffers) != len(their_buffers):
                raise ValueError(f"AveragedModel.update_parameters: the averaged model has {len(own_buffers)} "
                                 f"buffers, the model {len(their_buffers)}; pass the model it was made from")
            for slot, b_model in zip(own_buffers, their_buffers):
                slot.set(b_model.detach().to(slot.get().device), "the model's buffer")
        self.n_averaged = self.n_averaged + 1


# ----- BatchNorm statistics ------------------------------------------------------------------------------

@no_grad()
def update_bn(loader, model, device=None):
    """Recomputes the running statistics of every BatchNorm layer of ``model`` in one pass over ``loader``
    (``torch.optim.swa_utils.update_bn``).

    The statistics are reset and averaged over the batches with equal weights
    (``momentum=None``, the cumulative average), in train mode; each layer's
    momentum and the model's mode are restored afterwards (also if the loader
    raises, where PyTorch leaves them changed). A batch that is a list or tuple
    is called with its first element; ``device`` moves each batch there first.

    >>> import fnx, fnx.numpy as fnp
    >>> bn = fnx.nn.BatchNorm1d(1).eval()
    >>> update_bn([fnp.array([[0.0], [2.0]]), (fnp.array([[4.0], [6.0]]), None)], bn)
    >>> bn.running_mean, bn.running_var, bn.momentum, bn.training
    (Array([3.], dtype=float32), Array([2.], dtype=float32), 0.1, False)
    """
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    try:
        for input in loader:
            if isinstance(input, (list, tuple)):
                input = input[0]
            if device is not None:
                input = input.to(device)
            model(input)
    finally:
        for module, momentum in momenta.items():
            module.momentum = momentum
        model.train(was_training)


# ----- the SWA learning-rate schedule ----------------------------------------------------------------------

class SWALR(LRScheduler):
    r"""Anneals each group's lr to its ``swa_lr`` over ``anneal_epochs`` steps, then holds it
    (``torch.optim.swa_utils.SWALR``).

    With :math:`\alpha(t)` the annealing curve (``"cos"``: :math:`(1 - \cos \pi t) / 2`,
    ``"linear"``: :math:`t`) at :math:`t = \min(1, s / \max(1, E))` for step :math:`s`
    and :math:`E` = ``anneal_epochs``, each step recovers the lr the annealing
    started from out of the current one and the previous :math:`\alpha`, and
    returns :math:`\alpha\,\text{swa\_lr} + (1 - \alpha)\,\text{lr}_{start}`, as
    PyTorch computes it (so a change made to the lr by others carries through).
    With ``anneal_epochs=0`` the lr is ``swa_lr`` from the start.

    Args:
      optimizer: the optimizer whose groups' lrs are set.
      swa_lr: the final lr, a number or one per param group (stored as the groups' ``"swa_lr"``).
      anneal_epochs: the length of the annealing, an int >= 0.
      anneal_strategy: ``"cos"`` or ``"linear"``.
      last_epoch: the index of the last epoch, -1 to start.

    Raises:
      ValueError: a list ``swa_lr`` whose length is not the number of groups, an unknown
        ``anneal_strategy``, or ``anneal_epochs`` not an int >= 0.

    >>> import fnx, fnx.numpy as fnp
    >>> opt = fnx.optim.SGD([fnx.nn.Parameter(fnp.zeros(1))], lr=1.0)
    >>> sched = fnx.optim.swa_utils.SWALR(opt, swa_lr=0.2, anneal_epochs=4, anneal_strategy="linear")
    >>> lrs = []
    >>> for _ in range(6):
    ...     lrs.append(round(sched.get_last_lr()[0], 4))
    ...     opt.step(); sched.step()
    >>> lrs
    [1.0, 0.8, 0.6, 0.4, 0.2, 0.2]
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        _check_optimizer(optimizer)
        for lr, group in zip(_per_group("swa_lr", optimizer, swa_lr), optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t):
        return t

    @staticmethod
    def _cosine_anneal(t):
        return (1 - math.cos(math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, anneal_strategy):
        self._anneal_strategy = anneal_strategy
        self.anneal_func = self._cosine_anneal if anneal_strategy == "cos" else self._linear_anneal

    def get_lr(self):
        if not self._get_lr_called_within_step:
            warnings.warn("To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
                          UserWarning, stacklevel=2)
        step = self._step_count - 1  # 0 at the step the constructor takes
        if self.anneal_epochs == 0:
            step = max(1, step)
        groups = self.optimizer.param_groups
        prev_alpha = self.anneal_func(max(0, min(1, (step - 1) / max(1, self.anneal_epochs))))
        start_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha) for g in groups]
        alpha = self.anneal_func(max(0, min(1, step / max(1, self.anneal_epochs))))
        return [g["swa_lr"] * alpha + lr * (1 - alpha) for g, lr in zip(groups, start_lrs)]

    def state_dict(self):
        """Everything but the optimizer and the annealing function (rebuilt from its name on loading)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "anneal_func")}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
