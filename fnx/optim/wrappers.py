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

PyTorch's implementation flags (``foreach``, ``fused``, ``capturable``,
``differentiable``) choose among torch's kernels for one algorithm, so they do
not change the numbers a step computes. Each class takes the flags its torch
counterpart takes and keeps them in its ``param_groups`` (so ``state_dict()``
has PyTorch's keys), but they never reach the rule: every setting runs the
same update. Two settings are refused, as they are or would be in torch:
``fused=True`` with ``foreach=True`` (torch's RuntimeError), and
``differentiable=True``, which in torch records the step for autograd, while
fnx's ``step()`` records nothing (differentiate through updates with the pure
rule under ``fnx.grad`` instead).
"""
import copy
import functools
import warnings
from collections.abc import MutableMapping

from .. import numpy as fnp
from ..core.array import Array
from ..core.hooks import add_hook
from ..nn.parameter import Parameter
from ..transforms.autodiff import enable_grad, no_grad
from . import rules

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]

_KERNEL_FLAGS = ("foreach", "fused", "capturable", "differentiable")  # pick torch kernels; never the maths


def _check_kernel_flags(opname, options):
    if options.get("fused") and options.get("foreach"):
        raise RuntimeError(f"{opname}: `fused` and `foreach` cannot be `True` together (one kernel choice)")
    if options.get("differentiable"):
        raise NotImplementedError(f"{opname}: differentiable=True is not supported: fnx's step() records no graph; "
                                  f"to differentiate through updates, apply the pure rule (fnx.optim.rules) inside "
                                  f"fnx.grad")


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


def _running_step_hooks(step):
    """``step`` with the optimizer's step hooks run around it (once: a step calling its parent's runs them once)."""
    @functools.wraps(step)
    def hooked(self, *args, **kwargs):
        self._opt_called = True  # (what a scheduler's first step checks, as PyTorch's)
        if self.__dict__.get("_in_step") or not (self._step_pre_hooks or self._step_post_hooks):
            return step(self, *args, **kwargs)
        self._in_step = True
        args = (self,) + args  # as PyTorch hands them to the hooks: the optimizer first
        try:
            for hook in list(self._step_pre_hooks.values()):
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(f"optimizer step pre-hook {getattr(hook, '__name__', hook)!r} must "
                                           f"return None or a tuple (new_args, new_kwargs), got {result!r}")
                    args, kwargs = result
            out = step(*args, **kwargs)
            for hook in list(self._step_post_hooks.values()):
                hook(self, args, kwargs)
            return out
        finally:
            self._in_step = False
    return hooked


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
    _step_pre_hooks = _step_post_hooks = {}  # an instance's own, once it registers one (below)
    _eager_state = False  # Adagrad creates its state at construction, as in PyTorch
    _leafwise = False  # True: the rule updates each leaf on its own (all of rules.py's do)
    _unsaved_state = frozenset()  # state keys the rule keeps that PyTorch's state_dict does not hold

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self._rule_keys = tuple(k for k in self.defaults if k not in _KERNEL_FLAGS)
        self._rules = {}  # the rule for each tuple of option values, built once
        self._stateless_rules = set()  # rules whose init made an empty state (plain SGD): not called again
        _check_kernel_flags(type(self).__name__, self.defaults)
        if self._rule is not None:
            self._rule(**{k: self.defaults[k] for k in self._rule_keys})  # rejects bad values now, naming them
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
        options = tuple(group[k] for k in self._rule_keys)
        try:
            rule = self._rules.get(options)
        except TypeError:  # an unhashable option (an array lr): build the rule each time
            return self._build_rule(options)
        if rule is None:
            if len(self._rules) >= 64:  # a schedule makes a new lr every step
                self._rules.clear()
            rule = self._rules[options] = self._build_rule(options)
        return rule

    def _build_rule(self, options, checked=False):
        if checked:
            return self._rule(**dict(zip(self._rule_keys, options)))
        with rules._unchecked():  # options were checked when given; a schedule may move them (lr to -1e-17)
            return self._rule(**dict(zip(self._rule_keys, options)))

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
        names = None
        if params and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in params):
            names, params = [n for n, _ in params], [p for _, p in params]  # model.named_parameters(), as torch's
        for p in params:
            if not isinstance(p, Parameter):
                raise TypeError(f"optimizer can only optimize fnx.nn.Parameter objects, but one of the params is "
                                f"{type(p).__name__}; wrap trainable arrays in fnx.nn.Parameter")
        group = dict(param_group, params=params)
        if names is not None:
            group["param_names"] = names
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        ids = {id(p) for p in params}
        if len(ids) < len(params):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; each is updated once "
                          "(PyTorch warns too, updates it once per listing, and will refuse it)", UserWarning,
                          stacklevel=3)
        if any(id(p) in ids for g in self.param_groups for p in g["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        _check_kernel_flags(type(self).__name__, group)
        if self._rule is not None:
            self._build_rule(tuple(group[k] for k in self._rule_keys), checked=True)  # a new group's options
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
                p._zero_grad(set_to_none)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:  # a subclass's own step runs the step hooks too, as PyTorch patches it to
            cls.step = _running_step_hooks(cls.__dict__["step"])

    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs before each :meth:`step`; a ``(args, kwargs)`` it returns
        replaces the step's arguments (``torch.optim.Optimizer.register_step_pre_hook``)."""
        return self._add_step_hook("_step_pre_hooks", hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs after each :meth:`step`
        (``torch.optim.Optimizer.register_step_post_hook``)."""
        return self._add_step_hook("_step_post_hooks", hook)

    def _add_step_hook(self, kind, hook):
        if kind not in self.__dict__:
            setattr(self, kind, {})
        return add_hook(getattr(self, kind), hook)

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
                leaf_update = rule.update.__dict__.get("stateless_leaf_update") if self._leafwise else None
                if leaf_update is not None:  # plain SGD: no state to gather or batch, one call per parameter
                    group = self._update_stateless(leaf_update, group)
                for batch in self._batches(group):
                    self._update(rule, batch)
        return loss

    @staticmethod
    def _update_stateless(leaf_update, group):
        """Updates the group's real parameters with ``leaf_update``; returns the rest (complex ones) as a group."""
        rest = []
        for p in group["params"]:
            g = p._grad
            if g is None:
                continue
            x = p.primal
            if x.dtype.kind == "c":  # stepped as its view_as_real by _update
                rest.append(p)
            else:
                p.set_(leaf_update(x, g if type(g) is Array else fnp.asarray(g)))
        return {"params": rest}

    def _batches(self, group):
        """The group's parameters with a gradient, in lists that one call of the rule can update.

        A rule of :mod:`fnx.optim.rules` treats each leaf on its own, so parameters
        sharing a step count (the same array: they were last updated together) and
        a device, or all still without state, are one list. Other rules
        (``_leafwise = False``) see one parameter at a time.
        """
        batches = {}
        for p in group["params"]:
            if p._grad is None:
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
            new, state = rule.update(p._grad, self.state.get(p) or rule.init(p.primal), p.primal)
            p.set_(new)
            if state:
                self.state[p] = state
            return
        params, grads = [p.primal for p in batch], [p._grad for p in batch]
        # PyTorch's optimizers update a complex parameter as its view_as_real (so Adam's second moment is of the
        # real and imaginary parts, not a complex square); its state stays complex, as PyTorch's does.
        complex_at = {i: x.shape for i, x in enumerate(params) if x.dtype.kind == "c"}
        if complex_at:
            params, grads = _as_real(params, complex_at), _as_real(grads, complex_at)
        first = self.state.get(batch[0])
        if first:  # the batch shares its step count: gather each buffer into a list
            state = {key: value if key == "step" else _as_real([self.state[p][key] for p in batch], complex_at)
                     for key, value in first.items()}
        elif rule in self._stateless_rules:  # its init made no state before, and a leafwise rule's keys are fixed
            state = {}
        else:
            state = rule.init(params)
            if not state and len(self._stateless_rules) < 64:  # (a subclass may make a new rule per step)
                self._stateless_rules.add(rule)
        aside = _fit_state(rule, state, params) if first else {}
        new, state = rule.update(grads, state, params)
        state.update(aside)
        if complex_at:
            new = _as_complex(new, complex_at)
            state = {key: value if key == "step" else _as_complex(value, complex_at) for key, value in state.items()}
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
        unsaved = self._unsaved_state
        state = sorted(((index[id(p)], {k: v for k, v in s.items() if k not in unsaved})
                        for p, s in self.state._items.values() if id(p) in index), key=lambda item: item[0])
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
    if isinstance(value, (list, tuple)) and key != "step":  # LBFGS's histories: lists of arrays
        return type(value)(_restore(key, v, p) for v in value)
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
    ``state_dict()`` leaves it out, as PyTorch's holds only the buffers, and
    ``load_state_dict`` puts it back.

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
    _unsaved_state = frozenset({"step"})  # PyTorch's SGD saves only its momentum buffers; loading adds the count

    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))


def _adam_or_adamw(decoupled_weight_decay=False, **options):
    return (rules.adamw if decoupled_weight_decay else rules.adam)(**options)


class Adam(Optimizer):
    """Adam, with optional AMSGrad (``torch.optim.Adam``); the maths is :func:`fnx.optim.adam`'s.

    ``decoupled_weight_decay=True`` makes it AdamW (:func:`fnx.optim.adamw`'s
    maths), as in PyTorch.

    >>> import fnx, fnx.numpy as fnp
    >>> w = fnx.nn.Parameter(fnp.array([1.0, -2.0]))
    >>> opt = fnx.optim.Adam([w], lr=0.5)
    >>> fnp.sum(w ** 2).backward()
    >>> opt.step()
    >>> fnp.round(w.data, 4), int(opt.state[w]["step"])
    (Array([ 0.5, -1.5], dtype=float32), 1)
    """

    _rule = staticmethod(_adam_or_adamw)
    _leafwise = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable, fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))


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

    _rule = staticmethod(_adam_or_adamw)  # torch's AdamW is Adam with decoupled_weight_decay=True in its groups
    _leafwise = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable, fused=fused, decoupled_weight_decay=True))


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

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, capturable=capturable, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable))


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
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable, fused=fused))


# ----- more of torch.optim --------------------------------------------------------------------

__all__ += ["Adamax", "NAdam", "RAdam", "Adadelta", "Rprop", "ASGD"]


class Adamax(Optimizer):
    """Adamax, Adam with the infinity norm (``torch.optim.Adamax``); the maths is :func:`fnx.optim.adamax`'s.

    >>> import fnx, fnx.numpy as fnp
    >>> w = fnx.nn.Parameter(fnp.array([1.0, -2.0]))
    >>> opt = fnx.optim.Adamax([w], lr=0.1)
    >>> w.grad = fnp.array([0.5, -4.0])
    >>> opt.step()
    >>> fnp.round(w.data, 4), sorted(opt.state[w])
    (Array([ 0.9, -1.9], dtype=float32), ['exp_avg', 'exp_inf', 'step'])
    """

    _rule = staticmethod(rules.adamax)
    _leafwise = True

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, capturable=capturable))


class NAdam(Optimizer):
    """NAdam, Adam with Nesterov momentum (``torch.optim.NAdam``); the maths is :func:`fnx.optim.nadam`'s.

    >>> import fnx, fnx.numpy as fnp
    >>> w = fnx.nn.Parameter(fnp.array([1.0]))
    >>> opt = fnx.optim.NAdam([w], lr=0.1)
    >>> w.grad = fnp.array([2.0])
    >>> opt.step()
    >>> fnp.round(w.data, 4), list(opt.state[w])
    (Array([0.8944], dtype=float32), ['step', 'mu_product', 'exp_avg', 'exp_avg_sq'])
    """

    _rule = staticmethod(rules.nadam)
    _leafwise = True

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      foreach=foreach, maximize=maximize, capturable=capturable,
                                      differentiable=differentiable))


class RAdam(Optimizer):
    """RAdam, rectified Adam (``torch.optim.RAdam``); the maths is :func:`fnx.optim.radam`'s.

    >>> import fnx, fnx.numpy as fnp
    >>> w = fnx.nn.Parameter(fnp.array([1.0]))
    >>> opt = fnx.optim.RAdam([w], lr=0.1)
    >>> w.grad = fnp.array([2.0])
    >>> opt.step()
    >>> w.data
    Array([0.8], dtype=float32)
    """

    _rule = staticmethod(rules.radam)
    _leafwise = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, foreach=foreach,
                                      maximize=maximize, capturable=capturable, differentiable=differentiable))


class Adadelta(Optimizer):
    """Adadelta (``torch.optim.Adadelta``); the maths is :func:`fnx.optim.adadelta`'s.

    >>> import fnx, fnx.numpy as fnp
    >>> w = fnx.nn.Parameter(fnp.array([1.0]))
    >>> opt = fnx.optim.Adadelta([w])
    >>> w.grad = fnp.array([2.0])
    >>> opt.step()
    >>> list(opt.state[w]), fnp.round(opt.state[w]["square_avg"], 4)
    (['step', 'square_avg', 'acc_delta'], Array([0.4], dtype=float32))
    """

    _rule = staticmethod(rules.adadelta)
    _leafwise = True

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, foreach=foreach,
                                      capturable=capturable, maximize=maximize, differentiable=differentiable))


class Rprop(Optimizer):
    """Resilient backpropagation (``torch.optim.Rprop``); the maths is :func:`fnx.optim.rprop`'s.

    Each parameter's step sizes start at its group's ``lr`` when its state is made (its first step).

    >>> import fnx, fnx.numpy as fnp
    >>> w = fnx.nn.Parameter(fnp.array([1.0, 1.0]))
    >>> opt = fnx.optim.Rprop([w], lr=0.1)
    >>> w.grad = fnp.array([3.0, -0.5])
    >>> opt.step()
    >>> w.data, list(opt.state[w])
    (Array([0.9, 1.1], dtype=float32), ['step', 'prev', 'step_size'])
    """

    _rule = staticmethod(rules.rprop)
    _leafwise = True

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes, capturable=capturable,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable))


class ASGD(Optimizer):
    """Averaged SGD (``torch.optim.ASGD``); the maths is :func:`fnx.optim.asgd`'s.

    The running average of each parameter is its state's ``"ax"``.

    >>> import fnx, fnx.numpy as fnp
    >>> w = fnx.nn.Parameter(fnp.array([1.0]))
    >>> opt = fnx.optim.ASGD([w], lr=0.5, lambd=0.0)
    >>> w.grad = fnp.array([1.0])
    >>> opt.step()
    >>> w.data, list(opt.state[w])
    (Array([0.5], dtype=float32), ['step', 'eta', 'mu', 'ax'])
    """

    _rule = staticmethod(rules.asgd)
    _leafwise = True

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))


# ----- L-BFGS --------------------------------------------------------------------------------------
#
# A quasi-Newton method that needs the objective again inside one step, so it is a closure-based
# class rather than a pure rule: it works on the parameters flattened into one vector, keeps the last
# ``history_size`` curvature pairs, and moves with a fixed step or with a strong-Wolfe line search,
# line for line as torch.optim.LBFGS (itself a port of Lua torch's optim.lbfgs).

__all__ += ["LBFGS"]


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through two points with values and slopes, clipped to ``bounds``."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = fnp.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """Line search for a step ``t`` along ``d`` meeting the strong Wolfe conditions (Nocedal and Wright,
    "Numerical Optimization", algorithms 3.5 and 3.6): bracket, then zoom with cubic interpolation.

    Returns ``(f_new, g_new, t, evaluations)``.
    """
    d_norm = float(fnp.max(fnp.abs(d)))
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = fnp.dot(g_new, d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new, gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = fnp.dot(g_new, d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket until a point satisfies the conditions
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        # a trial too close to an end of the bracket moves 10% of its length inside
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) else min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = fnp.dot(g_new, d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new, gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos], bracket_gtd[high_pos] = bracket_g[low_pos], bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new, gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


class LBFGS(Optimizer):
    """L-BFGS (``torch.optim.LBFGS``): ``step(closure)`` runs up to ``max_iter`` quasi-Newton iterations.

    The closure must clear the gradients, compute the loss, call
    ``backward()`` and return the loss; it is called several times per step.
    All parameters form one group (L-BFGS works on them as one flat vector),
    and the whole state (``func_evals``, ``n_iter``, the direction ``d``, the
    step ``t``, the history ``old_dirs``/``old_stps``/``ro``, ``H_diag``,
    ``prev_flat_grad``, ``prev_loss``, ``al``) is kept, as in PyTorch, under
    the first parameter. Liu and Nocedal, "On the limited memory BFGS method
    for large scale optimization" (Math. Programming 45, 1989).

    Args:
      lr: the step length (the first iteration scales it by ``min(1, 1 / |g|_1)``).
      max_iter: iterations per ``step``; ``max_eval`` caps the closure calls (default ``max_iter * 5 // 4``).
      tolerance_grad: stop when the largest gradient component is at most this.
      tolerance_change: stop when the step or the loss change is smaller than this.
      history_size: curvature pairs kept.
      line_search_fn: None (a fixed step) or ``"strong_wolfe"``.

    Raises:
      ValueError: a negative ``lr``, or more than one parameter group.
      RuntimeError: a ``line_search_fn`` other than ``"strong_wolfe"`` (at the first step).

    >>> import fnx, fnx.numpy as fnp
    >>> w = fnx.nn.Parameter(fnp.array([3.0, -1.0]))
    >>> opt = fnx.optim.LBFGS([w], line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = fnp.sum((w - fnp.array([1.0, 2.0])) ** 2)
    ...     loss.backward()
    ...     return loss
    >>> _ = opt.step(closure)
    >>> fnp.round(w.data, 4)
    Array([1., 2.], dtype=float32)
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        rules._check_nonneg("learning rate", lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change, history_size=history_size,
                                      line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def add_param_group(self, param_group):
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    def _gather_flat_grad(self):
        return fnp.concatenate([fnp.zeros(p.size, p.dtype, device=p.device) if p.grad is None
                                else fnp.reshape(p.grad, (-1,)) for p in self._params])

    def _add_grad(self, step_size, update):
        offset = 0
        for p in self._params:
            n = p.size
            p.set_(p.primal + step_size * fnp.reshape(update[offset:offset + n], p.shape))
            offset += n

    def _directional_evaluate(self, closure, x, t, d):
        self._add_grad(t, d)
        with enable_grad():
            loss = float(closure())
        flat_grad = self._gather_flat_grad()
        for p, value in zip(self._params, x):
            p.set_(value)
        return loss, flat_grad

    def step(self, closure):
        """Up to ``max_iter`` iterations; returns the loss the closure gave at the start."""
        with no_grad():
            return self._step(closure)

    def _step(self, closure):
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if fnp.max(fnp.abs(flat_grad)) <= tolerance_grad:
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag, prev_flat_grad, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            # the descent direction: -g at first, then the two-loop recursion over the history
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = fnp.dot(y, s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / fnp.dot(y, y)
                num_old = len(old_dirs)
                if "al" not in state:
                    state["al"] = [None] * history_size
                al = state["al"]
                q = -flat_grad
                for i in range(num_old - 1, -1, -1):
                    al[i] = fnp.dot(old_stps[i], q) * ro[i]
                    q = q - al[i] * old_dirs[i]
                d = r = q * H_diag
                for i in range(num_old):
                    be_i = fnp.dot(old_dirs[i], r) * ro[i]
                    r = r + (al[i] - be_i) * old_stps[i]
                d = r
            prev_flat_grad = flat_grad
            prev_loss = loss

            # the step length
            t = min(1.0, 1.0 / fnp.sum(fnp.abs(flat_grad))) * lr if state["n_iter"] == 1 else lr
            gtd = fnp.dot(flat_grad, d)
            if gtd > -tolerance_change:
                break
            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = [p.primal for p in self._params]

                def obj_func(x, t, d):
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(obj_func, x_init, t, d, loss, flat_grad, gtd,
                                                                  max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = fnp.max(fnp.abs(flat_grad)) <= tolerance_grad
            else:
                self._add_grad(t, d)
                if n_iter != max_iter:  # the last iteration's loss is not needed
                    with enable_grad():
                        loss = float(closure())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = fnp.max(fnp.abs(flat_grad)) <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if fnp.max(fnp.abs(d * t)) <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss

    def load_state_dict(self, state_dict):
        """Restores a :meth:`state_dict`; the history lists are taken as they are."""
        super().load_state_dict(state_dict)
        saved = state_dict["state"].get(0, {})
        if self._params[0] in self.state and "step" not in saved:
            self.state[self._params[0]].pop("step", None)  # the base class adds a count L-BFGS does not keep


__all__ += ["Adafactor"]

_ADAFACTOR_SLOTS = ("row_var", "col_var", "variance")


class Adafactor(Optimizer):
    """Adafactor (``torch.optim.Adafactor``); the maths is :func:`fnx.optim.adafactor`'s.

    Each parameter's state is PyTorch's: ``step`` plus ``row_var`` and ``col_var`` for a parameter of two or
    more dimensions, ``variance`` for a vector.

    >>> import fnx, fnx.numpy as fnp
    >>> w, b = fnx.nn.Parameter(fnp.ones((2, 3))), fnx.nn.Parameter(fnp.zeros(3))
    >>> opt = fnx.optim.Adafactor([w, b])
    >>> w.grad, b.grad = fnp.ones((2, 3)), fnp.ones(3)
    >>> opt.step()
    >>> list(opt.state[w]), list(opt.state[b])
    (['step', 'row_var', 'col_var'], ['step', 'variance'])
    """

    _rule = staticmethod(rules.adafactor)
    _leafwise = True

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 foreach=None, maximize=False):
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize))

    def _update(self, rule, batch):
        # the rule keeps every slot for every leaf (unused ones empty); each parameter's state keeps its own
        for p in batch:
            s = self.state.get(p)
            if s:
                for key in _ADAFACTOR_SLOTS:
                    s.setdefault(key, fnp.zeros((0,), p.dtype, device=p.device))
        super()._update(rule, batch)
        for p in batch:
            s = self.state[p]
            self.state[p] = {k: v for k, v in s.items()
                             if k not in _ADAFACTOR_SLOTS or (k == "variance") != (p.ndim > 1)}


def _as_real(values, at):
    """``values`` with the complex ones at the positions ``at`` (``{position: complex shape}``) as their
    view_as_real; a rule's per-parameter scalars (NAdam's mu_product) stay as they are."""
    if not at:
        return values
    from ..tensor import view_as_real
    return [view_as_real(v) if i in at and v.dtype.kind == "c" else v for i, v in enumerate(values)]


def _as_complex(values, at):
    """:func:`_as_real` undone: what has the real view's shape at the positions ``at`` becomes complex."""
    from ..tensor import view_as_complex
    return [view_as_complex(v) if i in at and v.shape == at[i] + (2,) else v for i, v in enumerate(values)]


def _fit_state(rule, state, params):
    """Makes ``state`` (in place) hold the buffers ``rule`` reads, when a hyper-parameter changed which those are
    (a scheduler taking SGD's momentum to 0 and back): a buffer it does not read is taken aside and returned, to
    be kept as PyTorch keeps it; one it reads and the state lacks starts as ``rule.init`` makes it."""
    keys = getattr(rule.update, "state_keys", None)
    if keys is None or state.keys() == keys:
        return {}
    aside = {k: state.pop(k) for k in list(state) if k not in keys}
    missing = keys - state.keys()
    if missing:
        fresh = rule.init(params)
        state.update({k: fresh[k] for k in missing})
    return aside

Optimizer.step = _running_step_hooks(Optimizer.step)

