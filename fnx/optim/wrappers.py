"""The PyTorch face of the optimizers: stateful classes over the pure rules.

``fnx.optim.Adam(model.parameters(), lr=1e-3)`` behaves as in PyTorch: it holds
``param_groups`` (a list of dicts with ``"params"`` and that group's options)
and a ``state`` dict keyed by parameter, and ``step()`` reads each
Parameter's ``.grad``. But it holds no algorithm of its own. At every step it
builds, for each group, the pure rule of :mod:`fnx.optim.rules` from the group's
*current* options (so a scheduler or the user can change ``lr``, ``betas`` or
``momentum`` between steps), applies it to the parameters that have a gradient
(PyTorch keeps a step count per parameter, and a parameter without a gradient is
skipped; parameters whose counts move together are updated in one call of the
rule), and rebinds each Parameter to its new value with ``set_``. Each parameter's state
is exactly the rule's state for that one array, keyed by PyTorch's names, which
is what makes ``state_dict()`` come out in PyTorch's layout.

Parameters are arrays and so not hashable; ``state`` is keyed by identity.
"""
import copy
from collections.abc import MutableMapping

from .. import numpy as fnp
from ..core.array import Array
from ..nn.parameter import Parameter
from ..transforms.autodiff import enable_grad, no_grad
from . import rules

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]


class _StateByParam(MutableMapping):
    """``defaultdict(dict)`` keyed by the identity of parameters (which compare elementwise)."""

    def __init__(self):
        self._items = {}  # id(param) -> (param, state); holding the param keeps its id unique

    def __getitem__(self, p):
        if id(p) not in self._items:
            self._items[id(p)] = (p, {})
        return self._items[id(p)][1]

    def get(self, p, default=None):
        entry = self._items.get(id(p))
        return default if entry is None else entry[1]

    def __contains__(self, p):
        return id(p) in self._items

    def __setitem__(self, p, value):
        self._items[id(p)] = (p, value)

    def __delitem__(self, p):
        del self._items[id(p)]

    def __iter__(self):
        return (p for p, _ in list(self._items.values()))

    def __len__(self):
        return len(self._items)

    def __repr__(self):
        return "{" + ", ".join(f"<Parameter {tuple(p.shape)}>: {sorted(s)}" for p, s in self._items.values()) + "}"


class Optimizer:
    """Base class of the optimizers (``torch.optim.Optimizer``).

    Args:
      params: an iterable of :class:`fnx.nn.Parameter`, or of dicts (param
        groups) each with a ``"params"`` entry and any options that override
        ``defaults`` for that group.
      defaults: the options of the groups, by name; for the built-in
        optimizers these are the keyword arguments of their rule.

    A subclass names its rule (a constructor from :mod:`fnx.optim.rules`) as
    ``_rule``; a custom optimizer may instead override :meth:`step`. A rule that
    treats each leaf on its own (every rule of :mod:`fnx.optim.rules`) may set
    ``_leafwise = True``: parameters whose step counts move together are then
    updated in one call; otherwise the rule sees one parameter at a time.

    Raises:
      TypeError: ``params`` is a single array, or holds something other than Parameters.
      ValueError: no parameters, a parameter in two groups, or a bad hyper-parameter.
    """

    _rule = None
    _eager_state = False  # Adagrad creates its state at construction, as in PyTorch
    _leafwise = False  # True: the rule updates each leaf on its own (all of rules.py's do)

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self._rules = {}  # the rule for each tuple of option values, built once
        if self._rule is not None:
            self._rule(**self.defaults)  # rejects bad hyper-parameters now, naming the value
        self.state = _StateByParam()
        self.param_groups = []
        if isinstance(params, Array):
            raise TypeError("params argument given to the optimizer should be an iterable of Parameters or dicts, "
                            "but got a single Parameter; wrap it in a list")
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def _rule_for(self, group):
        options = tuple(group[k] for k in self.defaults)
        try:
            return self._rules[options]
        except TypeError:  # an unhashable option (an array lr): build the rule each time
            return self._rule(**dict(zip(self.defaults, options)))
        except KeyError:
            if len(self._rules) >= 64:  # a schedule makes a new lr every step
                self._rules.clear()
            rule = self._rules[options] = self._rule(**dict(zip(self.defaults, options)))
            return rule

    def add_param_group(self, param_group):
        """Adds a group (a dict with ``"params"`` and options; missing options take the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("param_group must have a 'params' entry")
        params = param_group["params"]
        if isinstance(params, Array):
            params = [params]
        else:
            params = list(params)
        for p in params:
            if not isinstance(p, Parameter):
                raise TypeError(f"optimizer can only optimize fnx.nn.Parameter objects, but one of the params is "
                                f"{type(p).__name__}; wrap trainable arrays in fnx.nn.Parameter")
        group = dict(param_group, params=params)
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        ids = {id(p) for p in params}
        if any(id(p) in ids for g in self.param_groups for p in g["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        if self._rule is not None:
            rule = self._rule_for(group)
            if self._eager_state:
                with no_grad():
                    for p in params:
                        self.state[p] = rule.init(p.primal)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        """Clears every ``.grad``: to None (the default), or to zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.grad = None if set_to_none else fnp.zeros_like(p.grad)

    def step(self, closure=None):
        """One update of every parameter that has a ``.grad``.

        Args:
          closure: optional; re-evaluates the model and returns the loss (it is
            called with gradient recording enabled, before the update).

        Returns:
          the closure's loss, or None.
        """
        if self._rule is None:
            raise NotImplementedError(f"{type(self).__name__} defines no _rule; override step()")
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                rule = self._rule_for(group)
                for batch in self._batches(group):
                    self._update(rule, batch)
        return loss

    def _batches(self, group):
        """The group's parameters with a gradient, in lists that one call of the rule can update.

        A rule of :mod:`fnx.optim.rules` treats each leaf on its own, so parameters
        sharing a step count (the same array: they were last updated together) and
        a device, or all still without state, are one list. Other rules
        (``_leafwise = False``) see one parameter at a time.
        """
        batches = {}
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state.get(p)
            if not self._leafwise:
                key = id(p)
            elif not state:
                key = (None, p.device)
            else:
                key = (id(state["step"]), p.device) if "step" in state else id(p)
            batches.setdefault(key, []).append(p)
        return batches.values()

    def _update(self, rule, batch):
        if not self._leafwise:
            (p,) = batch
            new, state = rule.update(p.grad, self.state.get(p) or rule.init(p.primal), p.primal)
            p.set_(new)
            if state:
                self.state[p] = state
            return
        params = [p.primal for p in batch]
        first = self.state.get(batch[0])
        if first:  # the batch shares its step count: gather each buffer into a list
            state = {key: value if key == "step" else [self.state[p][key] for p in batch]
                     for key, value in first.items()}
        else:
            state = rule.init(params)
        new, state = rule.update([p.grad for p in batch], state, params)
        for i, p in enumerate(batch):
            p.set_(new[i])
            if state:
                self.state[p] = {key: value if key == "step" else value[i] for key, value in state.items()}

    def state_dict(self):
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``, PyTorch's layout.

        Parameters are numbered in the order of the groups; the arrays are shared,
        not copied (they are immutable).
        """
        index, groups = {}, []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = sorted(((index[id(p)], dict(s)) for p, s in self.state._items.values() if id(p) in index),
                       key=lambda item: item[0])
        return {"state": dict(state), "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restores a :meth:`state_dict` (this optimizer's, or one of the same layout).

        Floating state is cast to each parameter's dtype and moved to its device;
        ``step`` becomes an int32 count (and is added, as 1, to a state saved
        without one, such as PyTorch's SGD momentum buffer).
        """
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError(f"loaded state dict has a different number of parameter groups ({len(saved)}) "
                             f"than the optimizer ({len(self.param_groups)})")
        for mine, theirs in zip(self.param_groups, saved):
            if len(mine["params"]) != len(theirs["params"]):
                raise ValueError(f"loaded state dict contains a parameter group of {len(theirs['params'])} "
                                 f"parameters that doesn't match the size of optimizer's group "
                                 f"({len(mine['params'])})")
        by_index = {i: p for mine, theirs in zip(self.param_groups, saved)
                    for i, p in zip(theirs["params"], mine["params"])}
        state = _StateByParam()
        steps = {}  # (count, device) -> one array: parameters at the same count update together again
        for i, s in state_dict["state"].items():
            p = by_index.get(int(i))
            if p is not None:
                restored = {key: _restore(key, value, p) for key, value in s.items() if value is not None}
                if restored and "step" not in restored:  # PyTorch's SGD counts no steps; it has taken one
                    restored["step"] = fnp.ones((), "int32", device=p.device)
                if restored:
                    restored["step"] = steps.setdefault((int(restored["step"]), p.device), restored["step"])
                    state[p] = restored
        groups = []
        for mine, theirs in zip(self.param_groups, saved):
            group = copy.deepcopy({k: v for k, v in theirs.items() if k != "params"})
            for key, value in self.defaults.items():
                group.setdefault(key, value)
            group["params"] = mine["params"]
            groups.append(group)
        self.state, self.param_groups = state, groups

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines + [")"])


def _restore(key, value, p):
    if not (isinstance(value, Array) or hasattr(value, "__array__") or key == "step"):
        return value
    value = fnp.asarray(value, device=p.device)
    if key == "step":
        return value.astype("int32")
    if value.dtype.kind == "f" and p.dtype.kind == "f":
        value = value.astype(p.dtype)
    return value


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum (``torch.optim.SGD``).

    The algorithm, its equations and its checks are those of :func:`fnx.optim.sgd`.
    With momentum, a parameter's state holds a ``step`` count beside PyTorch's
    ``momentum_buffer``: the pure rule needs it to recognise the first step.

    >>> import fnx, fnx.numpy as fnp
    >>> w = fnx.nn.Parameter(fnp.array([1.0, -2.0]))
    >>> opt = fnx.optim.SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad()
    ...     fnp.sum(w ** 2).backward()
    ...     opt.step()
    >>> w.data
    Array([ 0.46, -0.92], dtype=float32)
    """

    _rule = staticmethod(rules.sgd)
    _leafwise = True

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize))


class Adam(Optimizer):
    """Adam, with optional AMSGrad (``torch.optim.Adam``); the maths is :func:`fnx.optim.adam`'s.

    >>> import fnx, fnx.numpy as fnp
    >>> w = fnx.nn.Parameter(fnp.array([1.0, -2.0]))
    >>> opt = fnx.optim.Adam([w], lr=0.5)
    >>> fnp.sum(w ** 2).backward()
    >>> opt.step()
    >>> fnp.round(w.data, 4), int(opt.state[w]["step"])
    (Array([ 0.5, -1.5], dtype=float32), 1)
    """

    _rule = staticmethod(rules.adam)
    _leafwise = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))


class AdamW(Optimizer):
    """Adam with decoupled weight decay (``torch.optim.AdamW``); the maths is :func:`fnx.optim.adamw`'s.

    >>> import fnx, fnx.numpy as fnp
    >>> w = fnx.nn.Parameter(fnp.array([2.0]))
    >>> opt = fnx.optim.AdamW([w], lr=0.1, weight_decay=0.5)
    >>> w.grad = fnp.array([0.0])
    >>> opt.step()
    >>> w.data
    Array([1.9], dtype=float32)
    """

    _rule = staticmethod(rules.adamw)
    _leafwise = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))


class RMSprop(Optimizer):
    """RMSprop, optionally centered and with momentum (``torch.optim.RMSprop``); see :func:`fnx.optim.rmsprop`.

    >>> import fnx, fnx.numpy as fnp
    >>> w = fnx.nn.Parameter(fnp.array([1.0]))
    >>> opt = fnx.optim.RMSprop([w], lr=0.01, alpha=0.75)
    >>> w.grad = fnp.array([2.0])
    >>> opt.step()
    >>> w.data
    Array([0.98], dtype=float32)
    """

    _rule = staticmethod(rules.rmsprop)
    _leafwise = True

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, *,
                 maximize=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))


class Adagrad(Optimizer):
    """Adagrad (``torch.optim.Adagrad``); see :func:`fnx.optim.adagrad`.

    As in PyTorch, the state (``step`` 0 and the ``sum`` accumulator) exists
    from construction.

    >>> import fnx, fnx.numpy as fnp
    >>> w = fnx.nn.Parameter(fnp.array([1.0, 1.0]))
    >>> opt = fnx.optim.Adagrad([w], lr=0.5, initial_accumulator_value=0.1)
    >>> opt.state[w]["sum"]
    Array([0.1, 0.1], dtype=float32)
    """

    _rule = staticmethod(rules.adagrad)
    _leafwise = True
    _eager_state = True

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                 *, maximize=False):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps,
                                      maximize=maximize))
