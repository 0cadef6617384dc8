"""Optimizers as pure rules: each algorithm written once, as two functions.

An optimizer is a :class:`Rule`, a pair of pure functions in the style of
optax: ``state = rule.init(params)`` builds the optimizer's state for a pytree
of parameters, and ``params, state = rule.update(grads, state, params)``
takes one step. Nothing is mutated; the state is a pytree (a dict whose keys
are PyTorch's state names: ``step``, ``exp_avg``, ``momentum_buffer``...), so
it can be saved, vmapped over an ensemble or differentiated through for
meta-learning. Unlike optax, ``update`` returns the new *parameters*, not the
updates: every rule here ends in ``p - lr * direction`` or a decay of ``p``,
and returning parameters keeps decoupled weight decay inside the rule.

The constructors take PyTorch's hyper-parameters with PyTorch's defaults and
follow the algorithms exactly as ``torch.optim`` documents and computes them
(the momentum buffer starts as the first gradient; bias corrections use the
step count; ``maximize`` negates the gradient first). Scalars such as bias
corrections are computed from the step count in float64, as PyTorch computes
them in Python, and rounded to each parameter's dtype when applied, so a
float32 model stays float32. ``update`` takes an optional ``lr`` that
overrides the rule's learning rate for that call: this is how schedules drive
a rule (``lr=cosine_annealing(t, 0.1, 100)``) and how the PyTorch-style
classes in :mod:`fnx.optim.wrappers` pass each param group's current ``lr``.

Buffers are created from the parameters (``zeros_like``), so they live on each
parameter's device; the step count lives on the first parameter's device and
is moved to the others when they differ.
"""
from typing import Callable, NamedTuple

import numpy as np

from .. import numpy as fnp
from ..core import tree as tree_util
from ..core.array import Array, wrap
from ..core.trace import Tracer

__all__ = ["Rule", "sgd", "adam", "adamw", "rmsprop", "adagrad"]


class Rule(NamedTuple):
    """An optimizer as two pure functions.

    ``init(params) -> state`` and ``update(grads, state, params, lr=None) ->
    (params, state)``, where ``params`` and ``grads`` are pytrees of the same
    structure and ``lr`` (a number or a scalar array), when given, replaces the
    rule's learning rate for this step.

    >>> import fnx.numpy as fnp
    >>> from fnx import optim
    >>> rule = optim.sgd(lr=0.5)
    >>> params = [fnp.array([1.0, 2.0])]
    >>> params, state = rule.update([fnp.array([1.0, 1.0])], rule.init(params), params)
    >>> params
    [Array([0.5, 1.5], dtype=float32)]
    """

    init: Callable
    update: Callable


# ----- helpers ----------------------------------------------------------------------

_checking = [True]  # off while an optimizer rebuilds its rule from options a scheduler changed


class _unchecked:
    """Inside, rules are built without checking their values: PyTorch's optimizers check options when they
    are constructed (and in add_param_group), not at each step, so a schedule may take the lr to -1e-17."""

    def __enter__(self):
        self._prev, _checking[0] = _checking[0], False

    def __exit__(self, *exc):
        _checking[0] = self._prev
        return False


def _check(what, value, ok):
    # Traced hyper-parameters (meta-learning a learning rate) cannot be checked without a value.
    if _checking[0] and not isinstance(value, Tracer) and not ok(value):
        raise ValueError(f"Invalid {what}: {value}")


def _check_nonneg(what, value):
    _check(what, value, lambda v: 0.0 <= v)


def _check_betas(betas):
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"Invalid betas: {betas} (a pair (beta1, beta2) expected)")
    for i, b in enumerate(betas):
        _check(f"beta parameter at index {i}", b, lambda v: 0.0 <= v < 1.0)


def _on(x, p):
    """``x`` on ``p``'s device (a no-op when it is already there)."""
    return x if x.device is p.device else x.to(p.device)


def _descent_grad(g, p, maximize, weight_decay):
    """The gradient a rule descends: negated to maximize, plus PyTorch's coupled L2 term ``weight_decay * p``."""
    if maximize:
        g = -g
    if weight_decay != 0:
        g = g + weight_decay * p
    return g


def _like(x, p):
    """A scalar as ``p``'s dtype on ``p``'s device; Python numbers stay weak and need nothing."""
    if isinstance(x, (int, float)):
        return x
    return _on(fnp.asarray(x).astype(p.dtype), p)


def _leaves(rule, what, tree, treedef):
    flat, other = tree_util.flatten(tree)
    if other != treedef:
        raise ValueError(f"{rule}.update: {what} has structure {other}, the parameters {treedef}")
    return flat


_NO_BUFFERS = {}  # what a stateless rule's step sees as its buffers (it never writes into them)


def _leafwise(name, default_lr, slots, step, counted=True):
    """The :class:`Rule` that applies ``step`` to every parameter leaf.

    ``slots`` maps each per-parameter buffer's state name to the function making
    its initial value from the parameter. ``step(p, g, bufs, t, lr) -> (p, bufs)``
    sees one leaf, its buffers (a dict), the new step count ``t`` (an int32 array
    on ``p``'s device, counting from 1; None when not ``counted``) and the lr.
    """
    def init(params):
        flat, treedef = tree_util.flatten(params)
        flat = [fnp.asarray(p) for p in flat]
        state = {}
        if counted:
            state["step"] = fnp.zeros((), "int32", device=flat[0].device if flat else None)
        for key, make in slots.items():
            state[key] = treedef.unflatten([make(p) for p in flat])
        return state

    expected = frozenset((["step"] if counted else []) + list(slots))

    def update(grads, state, params, lr=None):
        lr = default_lr if lr is None else lr
        flat, treedef = tree_util.flatten(params)
        g_flat = _leaves(name, "grads", grads, treedef)
        if not isinstance(state, dict) or state.keys() != expected:
            got = sorted(state) if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"{name}.update: the state has keys {got}, this rule's init makes {sorted(expected)}; "
                             f"build the state with this rule's init (hyper-parameters such as momentum or "
                             f"amsgrad decide which buffers exist)")
        bufs = {key: _leaves(name, f"state[{key!r}]", state[key], treedef) for key in slots}
        t = state["step"] + 1 if counted else None
        new_p, new_bufs = [], {key: [] for key in slots}
        if not slots and t is None:  # a rule without state (plain SGD): one call per leaf and nothing else
            for p, g in zip(flat, g_flat):
                new_p.append(step(p if type(p) is Array else fnp.asarray(p), g if type(g) is Array else fnp.asarray(g),
                                  _NO_BUFFERS, None, lr)[0])
            return treedef.unflatten(new_p), {}
        for i, (p, g) in enumerate(zip(flat, g_flat)):
            if type(p) is not Array:
                p = fnp.asarray(p)
            if type(g) is not Array:
                g = fnp.asarray(g)
            out, out_bufs = step(p, g, {key: b[i] for key, b in bufs.items()}, None if t is None else _on(t, p), lr)
            new_p.append(out)
            for key in slots:
                new_bufs[key].append(out_bufs[key])
        new_state = {"step": t} if counted else {}
        new_state.update({key: treedef.unflatten(v) for key, v in new_bufs.items()})
        return treedef.unflatten(new_p), new_state

    update.state_keys = expected  # what the object-style optimizers hand it (see Optimizer._update)
    if not slots and not counted:  # the object-style step's path for a stateless rule: one leaf, no pytrees
        update.stateless_leaf_update = lambda p, g: step(p, g, _NO_BUFFERS, None, default_lr)[0]
    return Rule(init, update)


# ----- the rules ------------------------------------------------------------------------

def sgd(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, *, maximize=False):
    r"""Stochastic gradient descent, with optional (Nesterov) momentum (``torch.optim.SGD``).

    With :math:`\mu` the momentum, :math:`\tau` the dampening, :math:`\lambda`
    the weight decay and :math:`\gamma` the learning rate, each step is

    .. math::
        g_t &\leftarrow -g_t \text{ if maximize}, \qquad g_t \leftarrow g_t + \lambda \theta_{t-1} \\
        b_t &= g_t \text{ if } t = 1 \text{ else } \mu b_{t-1} + (1 - \tau) g_t \\
        g_t &\leftarrow g_t + \mu b_t \text{ if nesterov, else } b_t \quad (\text{when } \mu \ne 0) \\
        \theta_t &= \theta_{t-1} - \gamma g_t

    Nesterov momentum is from Sutskever, Martens, Dahl and Hinton, "On the
    importance of initialization and momentum in deep learning" (ICML 2013), in
    PyTorch's formulation. The state is empty without momentum, otherwise
    ``{"step", "momentum_buffer"}`` (the step count marks the first step).

    Raises:
      ValueError: a negative ``lr``, ``momentum`` or ``weight_decay``, or
        ``nesterov`` without momentum or with dampening.

    >>> import fnx, fnx.numpy as fnp
    >>> from fnx import optim
    >>> rule = optim.sgd(lr=0.1, momentum=0.9)
    >>> params = {"w": fnp.array([1.0, -2.0])}
    >>> state = rule.init(params)
    >>> loss = lambda p: fnp.sum(p["w"] ** 2)
    >>> for _ in range(2):
    ...     params, state = rule.update(fnx.grad(loss)(params), state, params)
    >>> params["w"]
    Array([ 0.46, -0.92], dtype=float32)
    """
    _check_nonneg("learning rate", lr)
    _check_nonneg("momentum value", momentum)
    _check_nonneg("weight_decay value", weight_decay)
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    plain = momentum == 0 and weight_decay == 0 and not maximize

    def step(p, g, s, t, lr):
        if plain and type(p) is Array and type(g) is Array and type(lr) is float and p._device is g._device \
                and p._device.platform == "cpu" and p._value.dtype == g._value.dtype and p._value.ndim:
            # Concrete arrays (no transform sees them): p - lr * g with the product's fresh buffer taking the
            # result, as the hand-written p -= lr * g does without a second allocation (bench/NOTES.md, 16).
            # (A 0-d product is a NumPy scalar, which no out= can take: the general path has those.)
            v = g._value * lr
            np.subtract(p._value, v, out=v)
            return wrap(v, p._device), s
        g = _descent_grad(g, p, maximize, weight_decay)
        if momentum != 0:
            buf = fnp.where(t == 1, g, momentum * s["momentum_buffer"] + (1 - dampening) * g)
            g = g + momentum * buf if nesterov else buf
            s = {"momentum_buffer": buf}
        return p - _like(lr, p) * g, s

    slots = {"momentum_buffer": fnp.zeros_like} if momentum != 0 else {}
    return _leafwise("sgd", lr, slots, step, counted=momentum != 0)


def _adam(name, lr, betas, eps, weight_decay, amsgrad, maximize, decoupled):
    _check_nonneg("learning rate", lr)
    _check_nonneg("epsilon value", eps)
    _check_betas(betas)
    _check_nonneg("weight_decay value", weight_decay)
    beta1, beta2 = betas

    def step(p, g, s, t, lr):
        if decoupled:  # AdamW: the decay shrinks the parameter instead of joining the gradient
            p = p * _like(1 - lr * weight_decay, p)
        g = _descent_grad(g, p, maximize, 0 if decoupled else weight_decay)
        m = s["exp_avg"] + (1 - beta1) * (g - s["exp_avg"])
        v = beta2 * s["exp_avg_sq"] + (1 - beta2) * g * g
        new = {"exp_avg": m, "exp_avg_sq": v}
        if amsgrad:
            v = new["max_exp_avg_sq"] = fnp.maximum(s["max_exp_avg_sq"], v)
        step_size = _like(lr / (1 - beta1 ** t), p)
        bc2_sqrt = _like(fnp.sqrt(1 - beta2 ** t), p)
        denom = fnp.sqrt(v) / bc2_sqrt + eps
        return p - step_size * m / denom, new

    slots = {"exp_avg": fnp.zeros_like, "exp_avg_sq": fnp.zeros_like}
    if amsgrad:
        slots["max_exp_avg_sq"] = fnp.zeros_like
    return _leafwise(name, lr, slots, step)


def adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *, maximize=False):
    r"""Adam (``torch.optim.Adam``), with optional AMSGrad.

    With gradient :math:`g_t` (negated if ``maximize``; plus
    :math:`\lambda\theta_{t-1}` for weight decay, L2-style), each step is

    .. math::
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        v_t &= \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \hat v_t &= \max(\hat v_{t-1}, v_t) \text{ if amsgrad, else } v_t \\
        \theta_t &= \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t} \,
                    \frac{m_t}{\sqrt{\hat v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    Kingma and Ba, "Adam: A Method for Stochastic Optimization" (ICLR 2015);
    AMSGrad from Reddi, Kale and Kumar, "On the Convergence of Adam and Beyond"
    (ICLR 2018). The state is ``{"step", "exp_avg", "exp_avg_sq"}`` plus
    ``"max_exp_avg_sq"`` with amsgrad.

    Raises:
      ValueError: a negative ``lr``, ``eps`` or ``weight_decay``, or a beta outside [0, 1).

    >>> import fnx.numpy as fnp
    >>> from fnx import optim
    >>> rule = optim.adam(lr=0.5)
    >>> params = fnp.array([1.0, -2.0])
    >>> params, state = rule.update(fnp.array([0.5, 3.0]), rule.init(params), params)
    >>> fnp.round(params, 4)  # the first Adam step moves every coordinate by about lr
    Array([ 0.5, -2.5], dtype=float32)
    """
    return _adam("adam", lr, betas, eps, weight_decay, amsgrad, maximize, decoupled=False)


def adamw(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *, maximize=False):
    r"""AdamW: Adam with decoupled weight decay (``torch.optim.AdamW``).

    Identical to :func:`adam` except that the decay shrinks the parameter
    directly instead of entering the gradient:

    .. math::
        \theta_{t-1} \leftarrow \theta_{t-1} (1 - \gamma\lambda), \quad
        \text{then Adam's step with } g_t \text{ undecayed.}

    Loshchilov and Hutter, "Decoupled Weight Decay Regularization" (ICLR 2019).

    Raises:
      ValueError: a negative ``lr``, ``eps`` or ``weight_decay``, or a beta outside [0, 1).

    >>> import fnx.numpy as fnp
    >>> from fnx import optim
    >>> rule = optim.adamw(lr=0.1, weight_decay=0.5)
    >>> params = fnp.array([2.0])
    >>> params, _ = rule.update(fnp.array([0.0]), rule.init(params), params)
    >>> params  # 2 * (1 - 0.1 * 0.5); a zero gradient gives no Adam step
    Array([1.9], dtype=float32)
    """
    return _adam("adamw", lr, betas, eps, weight_decay, amsgrad, maximize, decoupled=True)


def rmsprop(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False, *, maximize=False):
    r"""RMSprop (``torch.optim.RMSprop``), optionally centered and with momentum.

    With gradient :math:`g_t` (negated if ``maximize``; plus
    :math:`\lambda\theta_{t-1}` for weight decay), each step is

    .. math::
        v_t &= \alpha v_{t-1} + (1 - \alpha) g_t^2 \\
        \bar g_t &= \alpha \bar g_{t-1} + (1 - \alpha) g_t, \quad
            \tilde v_t = v_t - \bar g_t^2 \text{ if centered, else } v_t \\
        b_t &= \mu b_{t-1} + g_t / (\sqrt{\tilde v_t} + \epsilon), \quad
            \theta_t = \theta_{t-1} - \gamma b_t \quad (\mu > 0) \\
        \theta_t &= \theta_{t-1} - \gamma g_t / (\sqrt{\tilde v_t} + \epsilon) \quad (\mu = 0)

    Hinton, "Neural Networks for Machine Learning", lecture 6e (Coursera, 2012);
    the centered form is from Graves, "Generating Sequences With Recurrent
    Neural Networks" (arXiv:1308.0850, 2013). The state is ``{"step",
    "square_avg"}`` plus ``"momentum_buffer"`` and ``"grad_avg"`` as enabled.

    Raises:
      ValueError: a negative ``lr``, ``alpha``, ``eps``, ``weight_decay`` or ``momentum``.

    >>> import fnx.numpy as fnp
    >>> from fnx import optim
    >>> rule = optim.rmsprop(lr=0.01, alpha=0.75)
    >>> params = fnp.array([1.0])
    >>> params, state = rule.update(fnp.array([2.0]), rule.init(params), params)
    >>> params  # 1 - 0.01 * 2 / sqrt(0.25 * 4)
    Array([0.98], dtype=float32)
    """
    _check_nonneg("learning rate", lr)
    _check_nonneg("epsilon value", eps)
    _check_nonneg("momentum value", momentum)
    _check_nonneg("weight_decay value", weight_decay)
    _check_nonneg("alpha value", alpha)

    def step(p, g, s, t, lr):
        g = _descent_grad(g, p, maximize, weight_decay)
        sq = alpha * s["square_avg"] + (1 - alpha) * g * g
        new = {"square_avg": sq}
        if centered:
            ga = new["grad_avg"] = s["grad_avg"] + (1 - alpha) * (g - s["grad_avg"])
            avg = fnp.sqrt(sq - ga * ga) + eps
        else:
            avg = fnp.sqrt(sq) + eps
        lr = _like(lr, p)
        if momentum > 0:
            buf = new["momentum_buffer"] = momentum * s["momentum_buffer"] + g / avg
            return p - lr * buf, new
        return p - lr * g / avg, new

    slots = {"square_avg": fnp.zeros_like}
    if momentum > 0:
        slots["momentum_buffer"] = fnp.zeros_like
    if centered:
        slots["grad_avg"] = fnp.zeros_like
    return _leafwise("rmsprop", lr, slots, step)


def adagrad(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10, *, maximize=False):
    r"""Adagrad (``torch.optim.Adagrad``).

    With gradient :math:`g_t` (negated if ``maximize``; plus
    :math:`\lambda\theta_{t-1}` for weight decay) and :math:`\eta` the lr decay,
    each step is

    .. math::
        \tilde\gamma_t &= \gamma / (1 + (t - 1)\eta) \\
        s_t &= s_{t-1} + g_t^2, \qquad s_0 = \text{initial\_accumulator\_value} \\
        \theta_t &= \theta_{t-1} - \tilde\gamma_t \, g_t / (\sqrt{s_t} + \epsilon)

    Duchi, Hazan and Singer, "Adaptive Subgradient Methods for Online Learning
    and Stochastic Optimization" (JMLR 12, 2011). The state is ``{"step", "sum"}``.

    Raises:
      ValueError: a negative ``lr``, ``lr_decay``, ``weight_decay``,
        ``initial_accumulator_value`` or ``eps``.

    >>> import fnx.numpy as fnp
    >>> from fnx import optim
    >>> rule = optim.adagrad(lr=0.5)
    >>> params = fnp.array([1.0, 1.0])
    >>> params, state = rule.update(fnp.array([3.0, -4.0]), rule.init(params), params)
    >>> params, state["sum"]
    (Array([0.5, 1.5], dtype=float32), Array([ 9., 16.], dtype=float32))
    """
    _check_nonneg("learning rate", lr)
    _check_nonneg("lr_decay value", lr_decay)
    _check_nonneg("weight_decay value", weight_decay)
    _check_nonneg("initial_accumulator_value value", initial_accumulator_value)
    _check_nonneg("epsilon value", eps)

    def step(p, g, s, t, lr):
        g = _descent_grad(g, p, maximize, weight_decay)
        clr = _like(lr / (1 + (t - 1) * lr_decay), p)
        acc = s["sum"] + g * g
        return p - clr * g / (fnp.sqrt(acc) + eps), {"sum": acc}

    return _leafwise("adagrad", lr, {"sum": lambda p: fnp.full_like(p, initial_accumulator_value)}, step)


# ----- more of torch.optim: Adamax, NAdam, RAdam, Adadelta, Rprop, ASGD ----------------------------

__all__ += ["adamax", "nadam", "radam", "adadelta", "rprop", "asgd"]


def _scalar_slot(value):
    """A maker of a 0-d float state entry (NAdam's ``mu_product``, ASGD's ``eta`` and ``mu``).

    PyTorch keeps these as float32 0-d tensors (float64 under a float64 default
    dtype); here they are float64 beside float64 parameters and float32 otherwise.
    """
    def make(p):
        dtype = "float64" if p.dtype == fnp.float64 else "float32"
        if isinstance(value, (int, float)):
            return fnp.full((), value, dtype=dtype, device=p.device)
        return _on(fnp.asarray(value).astype(dtype), p)
    return make


def _as_slot(x, old):
    """``x`` (a float64 scalar computed from the step count) stored with ``old``'s dtype and device."""
    return _on(fnp.asarray(x).astype(old.dtype), old)


def adamax(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, *, maximize=False):
    r"""Adamax, Adam's variant with the infinity norm (``torch.optim.Adamax``).

    With gradient :math:`g_t` (negated if ``maximize``; plus
    :math:`\lambda\theta_{t-1}` for weight decay), each step is

    .. math::
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        u_t &= \max(\beta_2 u_{t-1}, |g_t| + \epsilon) \\
        \theta_t &= \theta_{t-1} - \frac{\gamma}{1 - \beta_1^t} \frac{m_t}{u_t}

    Kingma and Ba, "Adam: A Method for Stochastic Optimization" (ICLR 2015),
    section 7.1. The state is ``{"step", "exp_avg", "exp_inf"}``.

    Raises:
      ValueError: a negative ``lr``, ``eps`` or ``weight_decay``, or a beta outside [0, 1).

    >>> import fnx.numpy as fnp
    >>> from fnx import optim
    >>> rule = optim.adamax(lr=0.1)
    >>> params = fnp.array([1.0, -2.0])
    >>> params, state = rule.update(fnp.array([0.5, -4.0]), rule.init(params), params)
    >>> fnp.round(params, 4)  # the first step moves every coordinate by about lr
    Array([ 0.9, -1.9], dtype=float32)
    """
    _check_nonneg("learning rate", lr)
    _check_nonneg("epsilon value", eps)
    _check_betas(betas)
    _check_nonneg("weight_decay value", weight_decay)
    beta1, beta2 = betas

    def step(p, g, s, t, lr):
        g = _descent_grad(g, p, maximize, weight_decay)
        m = s["exp_avg"] + (1 - beta1) * (g - s["exp_avg"])
        u = fnp.maximum(beta2 * s["exp_inf"], fnp.abs(g) + eps)
        clr = _like(lr / (1 - beta1 ** t), p)
        return p - clr * m / u, {"exp_avg": m, "exp_inf": u}

    return _leafwise("adamax", lr, {"exp_avg": fnp.zeros_like, "exp_inf": fnp.zeros_like}, step)


def _decay(p, g, lr, maximize, weight_decay, decoupled):
    """Weight decay for NAdam and RAdam: shrink ``p`` (decoupled, AdamW-style) or add the L2 term to ``g``."""
    if decoupled and weight_decay != 0:
        p = p * _like(1 - lr * weight_decay, p)
        return p, _descent_grad(g, p, maximize, 0)
    return p, _descent_grad(g, p, maximize, weight_decay)


def nadam(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
          decoupled_weight_decay=False, *, maximize=False):
    r"""NAdam: Adam with Nesterov momentum (``torch.optim.NAdam``).

    With gradient :math:`g_t` (negated if ``maximize``; weight decay as in
    :func:`adam`, or as in :func:`adamw` with ``decoupled_weight_decay``) and
    :math:`\psi` the momentum decay, each step is

    .. math::
        \mu_t &= \beta_1 (1 - \tfrac12 \cdot 0.96^{t\psi}), \qquad
        \textstyle\prod_t = \prod_{i \le t} \mu_i \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        d_t &= \sqrt{v_t / (1 - \beta_2^t)} + \epsilon \\
        \theta_t &= \theta_{t-1} - \gamma \frac{1 - \mu_t}{1 - \prod_t} \frac{g_t}{d_t}
                    - \gamma \frac{\mu_{t+1}}{1 - \prod_t \mu_{t+1}} \frac{m_t}{d_t}

    Dozat, "Incorporating Nesterov Momentum into Adam" (ICLR 2016 workshop).
    The state is ``{"step", "mu_product", "exp_avg", "exp_avg_sq"}``; the
    product of the :math:`\mu_i` is a 0-d array.

    Raises:
      ValueError: a negative ``lr``, ``eps``, ``weight_decay`` or ``momentum_decay``, or a beta outside [0, 1).

    >>> import fnx.numpy as fnp
    >>> from fnx import optim
    >>> rule = optim.nadam(lr=0.1)
    >>> params = fnp.array([1.0])
    >>> params, state = rule.update(fnp.array([2.0]), rule.init(params), params)
    >>> fnp.round(params, 4), fnp.round(state["mu_product"], 4)  # torch.optim.NAdam gives the same
    (Array([0.8944], dtype=float32), Array(0.4501, dtype=float32))
    """
    _check_nonneg("learning rate", lr)
    _check_nonneg("epsilon value", eps)
    _check_betas(betas)
    _check_nonneg("weight_decay value", weight_decay)
    _check_nonneg("momentum_decay value", momentum_decay)
    beta1, beta2 = betas

    def step(p, g, s, t, lr):
        p, g = _decay(p, g, lr, maximize, weight_decay, decoupled_weight_decay)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        prod = _as_slot(s["mu_product"] * mu, s["mu_product"])
        m = s["exp_avg"] + (1 - beta1) * (g - s["exp_avg"])
        v = beta2 * s["exp_avg_sq"] + (1 - beta2) * g * g
        denom = fnp.sqrt(v / _like(1 - beta2 ** t, p)) + eps
        c_grad = _like(lr * (1.0 - mu) / (1.0 - prod), p)
        c_avg = _like(lr * mu_next / (1.0 - prod * mu_next), p)
        p = p - c_grad * g / denom - c_avg * m / denom
        return p, {"mu_product": prod, "exp_avg": m, "exp_avg_sq": v}

    slots = {"mu_product": _scalar_slot(1.0), "exp_avg": fnp.zeros_like, "exp_avg_sq": fnp.zeros_like}
    return _leafwise("nadam", lr, slots, step)


def radam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False, *,
          maximize=False):
    r"""RAdam: Adam with a rectified adaptive learning rate (``torch.optim.RAdam``).

    With gradient :math:`g_t` (negated if ``maximize``; weight decay as in
    :func:`adam`, or as in :func:`adamw` with ``decoupled_weight_decay``), the
    moments :math:`m_t, v_t` of Adam and
    :math:`\rho_\infty = 2 / (1 - \beta_2) - 1`, each step is

    .. math::
        \rho_t &= \rho_\infty - 2 t \beta_2^t / (1 - \beta_2^t) \\
        \hat m_t &= m_t / (1 - \beta_1^t) \\
        \theta_t &= \theta_{t-1} - \gamma \hat m_t \, r_t \frac{\sqrt{1 - \beta_2^t}}{\sqrt{v_t} + \epsilon}
            \text{ if } \rho_t > 5, \text{ else } \theta_{t-1} - \gamma \hat m_t \\
        r_t &= \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}{(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}}

    Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond"
    (ICLR 2020). The state is ``{"step", "exp_avg", "exp_avg_sq"}``.

    Raises:
      ValueError: a negative ``lr``, ``eps`` or ``weight_decay``, or a beta outside [0, 1).

    >>> import fnx.numpy as fnp
    >>> from fnx import optim
    >>> rule = optim.radam(lr=0.1)
    >>> params = fnp.array([1.0])
    >>> params, _ = rule.update(fnp.array([2.0]), rule.init(params), params)
    >>> params  # rho_1 = 1 <= 5: a plain momentum step, 1 - 0.1 * 2
    Array([0.8], dtype=float32)
    """
    _check_nonneg("learning rate", lr)
    _check_nonneg("epsilon value", eps)
    _check_betas(betas)
    _check_nonneg("weight_decay value", weight_decay)
    beta1, beta2 = betas
    rho_inf = 2 / (1 - beta2) - 1

    def step(p, g, s, t, lr):
        p, g = _decay(p, g, lr, maximize, weight_decay, decoupled_weight_decay)
        m = s["exp_avg"] + (1 - beta1) * (g - s["exp_avg"])
        v = beta2 * s["exp_avg_sq"] + (1 - beta2) * g * g
        m_hat = m * _like(lr / (1 - beta1 ** t), p)
        new = {"exp_avg": m, "exp_avg_sq": v}
        if rho_inf <= 5.0:  # rho_t < rho_inf: the rectified step is never taken
            return p - m_hat, new
        bc2 = 1 - beta2 ** t
        rho_t = rho_inf - 2 * t * beta2 ** t / bc2
        rect = fnp.where(rho_t > 5.0, rho_t, 6.0)  # the rectifier is only used (and only real) for rho_t > 5
        rect = fnp.sqrt((rect - 4) * (rect - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rect))
        adaptive = m_hat * _like(rect * fnp.sqrt(bc2), p) / (fnp.sqrt(v) + eps)
        return p - fnp.where(_on(rho_t > 5.0, p), adaptive, m_hat), new

    return _leafwise("radam", lr, {"exp_avg": fnp.zeros_like, "exp_avg_sq": fnp.zeros_like}, step)


def adadelta(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, *, maximize=False):
    r"""Adadelta (``torch.optim.Adadelta``).

    With gradient :math:`g_t` (negated if ``maximize``; plus
    :math:`\lambda\theta_{t-1}` for weight decay), each step is

    .. math::
        v_t &= \rho v_{t-1} + (1 - \rho) g_t^2 \\
        \Delta_t &= \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}} g_t \\
        u_t &= \rho u_{t-1} + (1 - \rho) \Delta_t^2 \\
        \theta_t &= \theta_{t-1} - \gamma \Delta_t

    Zeiler, "ADADELTA: An Adaptive Learning Rate Method" (arXiv:1212.5701, 2012).
    The state is ``{"step", "square_avg", "acc_delta"}``.

    Raises:
      ValueError: a negative ``lr``, ``eps`` or ``weight_decay``, or ``rho`` outside [0, 1].

    >>> import fnx.numpy as fnp
    >>> from fnx import optim
    >>> rule = optim.adadelta(rho=0.0, eps=0.0)
    >>> params = fnp.array([1.0])
    >>> params, state = rule.update(fnp.array([2.0]), rule.init(params), params)
    >>> params, state["square_avg"]  # the first step is sqrt(eps)-sized; with eps 0 it is 0
    (Array([1.], dtype=float32), Array([4.], dtype=float32))
    """
    _check_nonneg("learning rate", lr)
    _check("rho value", rho, lambda v: 0.0 <= v <= 1.0)
    _check_nonneg("epsilon value", eps)
    _check_nonneg("weight_decay value", weight_decay)

    def step(p, g, s, t, lr):
        g = _descent_grad(g, p, maximize, weight_decay)
        sq = rho * s["square_avg"] + (1 - rho) * g * g
        delta = fnp.sqrt(s["acc_delta"] + eps) / fnp.sqrt(sq + eps) * g
        acc = rho * s["acc_delta"] + (1 - rho) * delta * delta
        return p - _like(lr, p) * delta, {"square_avg": sq, "acc_delta": acc}

    return _leafwise("adadelta", lr, {"square_avg": fnp.zeros_like, "acc_delta": fnp.zeros_like}, step)


def rprop(lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, maximize=False):
    r"""Resilient backpropagation (``torch.optim.Rprop``): sign-based steps with per-coordinate sizes.

    Each coordinate keeps a step size :math:`\Delta` (starting at ``lr``) and
    its previous gradient. With :math:`s = \operatorname{sign}(g_t g_{t-1})`:

    .. math::
        \Delta_t &= \operatorname{clip}(\Delta_{t-1} \cdot
            \{\eta_+ \text{ if } s > 0;\ \eta_- \text{ if } s < 0;\ 1 \text{ if } s = 0\},
            \Delta_{min}, \Delta_{max}) \\
        g_t &\leftarrow 0 \text{ where } s < 0 \\
        \theta_t &= \theta_{t-1} - \operatorname{sign}(g_t) \Delta_t

    and :math:`g_t` (so zeroed) is remembered as ``prev``. Riedmiller and
    Braun, "A Direct Adaptive Method for Faster Backpropagation Learning: The
    RPROP Algorithm" (ICNN 1993). The state is ``{"step", "prev",
    "step_size"}``. ``lr`` only sets the initial step sizes, which ``init``
    makes from the rule's own ``lr``: an ``lr`` passed to ``update`` has no effect.

    Raises:
      ValueError: a negative ``lr``, or ``etas`` not satisfying ``0 < eta_minus < 1 < eta_plus``.

    >>> import fnx.numpy as fnp
    >>> from fnx import optim
    >>> rule = optim.rprop(lr=0.1)
    >>> params = fnp.array([1.0, 1.0])
    >>> state = rule.init(params)
    >>> params, state = rule.update(fnp.array([3.0, -0.5]), state, params)
    >>> params, state = rule.update(fnp.array([1.0, 0.5]), state, params)
    >>> params, state["step_size"]
    (Array([0.78, 1.1 ], dtype=float32), Array([0.12, 0.05], dtype=float32))
    """
    _check_nonneg("learning rate", lr)
    if not isinstance(etas, (tuple, list)) or len(etas) != 2:
        raise ValueError(f"Invalid etas: {etas} (a pair (eta_minus, eta_plus) expected)")
    if not isinstance(step_sizes, (tuple, list)) or len(step_sizes) != 2:
        raise ValueError(f"Invalid step_sizes: {step_sizes} (a pair (min, max) expected)")
    etaminus, etaplus = etas
    if not 0.0 < etaminus < 1.0 < etaplus:
        raise ValueError(f"Invalid eta values: {etaminus}, {etaplus}")
    lo, hi = step_sizes

    def step(p, g, s, t, lr):
        if maximize:
            g = -g
        sign = fnp.sign(g * s["prev"])
        # PyTorch's three masked writes, in order (a NaN product keeps its NaN factor)
        factor = fnp.where(sign > 0, etaplus, fnp.where(sign < 0, etaminus, fnp.where(sign == 0, 1.0, sign)))
        size = fnp.clip(s["step_size"] * factor.astype(p.dtype), lo, hi)
        g = fnp.where(sign < 0, fnp.zeros_like(g), g)
        return p - fnp.sign(g) * size, {"prev": g, "step_size": size}

    slots = {"prev": fnp.zeros_like, "step_size": lambda p: fnp.zeros_like(p) + _like(lr, p)}
    return _leafwise("rprop", lr, slots, step)


def asgd(lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0, *, maximize=False):
    r"""Averaged stochastic gradient descent (``torch.optim.ASGD``).

    With gradient :math:`g_t` (negated if ``maximize``; plus
    :math:`\lambda_{wd}\theta_{t-1}` for weight decay), a step size
    :math:`\eta` (starting at ``lr``) and an averaging rate :math:`\mu`
    (starting at 1), each step is

    .. math::
        \theta_t &= \theta_{t-1} (1 - \lambda\eta_{t-1}) - \eta_{t-1} g_t \\
        a_t &= \theta_t \text{ if } \mu_{t-1} = 1, \text{ else } a_{t-1} + \mu_{t-1}(\theta_t - a_{t-1}) \\
        \eta_t &= \gamma / (1 + \lambda\gamma t)^\alpha, \qquad \mu_t = 1 / \max(1, t - t_0)

    Polyak and Juditsky, "Acceleration of Stochastic Approximation by
    Averaging" (SIAM J. Control Optim. 30(4), 1992). The averaged parameters
    :math:`a_t` are the state's ``"ax"``; the state is ``{"step", "eta", "mu",
    "ax"}``, with ``eta`` and ``mu`` 0-d arrays.

    Raises:
      ValueError: a negative ``lr`` or ``weight_decay``.

    >>> import fnx.numpy as fnp
    >>> from fnx import optim
    >>> rule = optim.asgd(lr=0.5, lambd=0.0)
    >>> params = fnp.array([1.0])
    >>> params, state = rule.update(fnp.array([1.0]), rule.init(params), params)
    >>> params, state["ax"]
    (Array([0.5], dtype=float32), Array([0.5], dtype=float32))
    """
    _check_nonneg("learning rate", lr)
    _check_nonneg("weight_decay value", weight_decay)

    def step(p, g, s, t, lr):
        g = _descent_grad(g, p, maximize, weight_decay)
        eta, mu = s["eta"], s["mu"]
        p = p * _like(1 - lambd * eta, p) - _like(eta, p) * g
        ax = fnp.where(_on(mu == 1, p), p, s["ax"] + (p - s["ax"]) * _like(mu, p))
        new_eta = _as_slot(lr / (1 + lambd * lr * t) ** alpha, eta)
        new_mu = _as_slot(1 / fnp.maximum(1, t - t0), mu)
        return p, {"eta": new_eta, "mu": new_mu, "ax": ax}

    slots = {"eta": _scalar_slot(lr), "mu": _scalar_slot(1.0), "ax": fnp.zeros_like}
    return _leafwise("asgd", lr, slots, step)


# ----- Adafactor ----------------------------------------------------------------------------------------

__all__ += ["adafactor"]


def _row_shape(p):
    return p.shape[:-1] + (1,)


def _col_shape(p):
    return p.shape[:-2] + (1, p.shape[-1])


def _factored(p):
    return p.ndim > 1


def adafactor(lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *, maximize=False):
    r"""Adafactor (``torch.optim.Adafactor``): Adam-like steps with a factored second moment.

    For a matrix (or a stack of them) the second moment is kept as a row
    factor :math:`R_t` and a column factor :math:`C_t` (means of :math:`g^2`
    over the last, resp. second-to-last, axis); vectors keep a full
    :math:`V_t`. With :math:`\hat\beta_{2,t} = 1 - t^{c}` (``c = beta2_decay``),
    :math:`\rho_t = \min(\gamma, 1/\sqrt t)` and
    :math:`\alpha_t = \max(\epsilon_2, \mathrm{RMS}(\theta_{t-1}))\,\rho_t`:

    .. math::
        R_t &= \hat\beta_{2,t} R_{t-1} + (1 - \hat\beta_{2,t}) \,\mathrm{mean}_{-1}(g_t^2), \quad
        C_t = \hat\beta_{2,t} C_{t-1} + (1 - \hat\beta_{2,t}) \,\mathrm{mean}_{-2}(g_t^2) \\
        \hat V_t &= R_t C_t / \max(\mathrm{mean}_{-2}(R_t), \epsilon_1) \\
        U_t &= g_t / \sqrt{\max(\hat V_t, \epsilon_1^2)}, \qquad
        \theta_t = \theta_{t-1}(1 - \gamma\lambda) - \alpha_t U_t / \max(1, \mathrm{RMS}(U_t) / d)

    Shazeer and Stern, "Adafactor: Adaptive Learning Rates with Sublinear
    Memory Cost" (ICML 2018), in PyTorch's variant (no first moment).
    ``eps[0] = None`` is the parameter dtype's machine epsilon. The state
    holds ``"step"``, ``"row_var"``, ``"col_var"`` and ``"variance"`` for every
    leaf; the entries a leaf does not use (``row_var``/``col_var`` of a vector,
    ``variance`` of a matrix) are empty ``(0,)`` arrays, which the
    :class:`fnx.optim.Adafactor` class leaves out of each parameter's state, as
    PyTorch does.

    Raises:
      ValueError: a negative ``lr``, ``eps`` entry or ``weight_decay``, a positive ``beta2_decay`` or ``d < 1``.

    >>> import fnx.numpy as fnp
    >>> from fnx import optim
    >>> rule = optim.adafactor(lr=0.5)
    >>> params = fnp.array([[3.0, 4.0]])
    >>> params, state = rule.update(fnp.array([[1.0, -1.0]]), rule.init(params), params)
    >>> params, state["row_var"].shape, state["variance"].shape
    (Array([[1.232233, 5.767767]], dtype=float32), (1, 1), (0,))
    """
    _check_nonneg("learning rate", lr)
    _check("beta2_decay value (it must be <= 0)", beta2_decay, lambda v: v <= 0.0)
    if not isinstance(eps, (tuple, list)) or len(eps) != 2:
        raise ValueError(f"Invalid eps: {eps} (a pair (eps1 or None, eps2) expected)")
    eps1, eps2 = eps
    if eps1 is not None:
        _check_nonneg("epsilon1 value", eps1)
    _check_nonneg("epsilon2 value", eps2)
    _check("clipping threshold d (it must be >= 1)", d, lambda v: 1.0 <= v)
    _check_nonneg("weight_decay value", weight_decay)

    def empty(p):
        return fnp.zeros((0,), p.dtype, device=p.device)

    slots = {"row_var": lambda p: fnp.zeros(_row_shape(p), p.dtype, device=p.device) if _factored(p) else empty(p),
             "col_var": lambda p: fnp.zeros(_col_shape(p), p.dtype, device=p.device) if _factored(p) else empty(p),
             "variance": lambda p: empty(p) if _factored(p) else fnp.zeros_like(p)}

    def step(p, g, s, t, lr):
        import numpy as np
        if maximize:
            g = -g
        e1 = float(np.finfo(p.dtype).eps) if eps1 is None else eps1
        tf = fnp.astype(t, "float64")
        one_minus_beta2 = tf ** beta2_decay
        rho = fnp.minimum(lr, 1.0 / fnp.sqrt(tf))
        n = max(p.size, 1)
        alpha = fnp.maximum(eps2, fnp.sqrt(fnp.sum(p * p)) / n ** 0.5) * rho
        if weight_decay != 0:
            p = p * _like(1 - lr * weight_decay, p)
        w = _like(one_minus_beta2, p)
        new = dict(s)
        if _factored(p):
            g2 = g * g
            row = s["row_var"] + w * (fnp.mean(g2, axis=-1, keepdims=True) - s["row_var"])
            col = s["col_var"] + w * (fnp.mean(g2, axis=-2, keepdims=True) - s["col_var"])
            var = fnp.matmul(row, col) / fnp.maximum(fnp.mean(row, axis=-2, keepdims=True), e1)
            new["row_var"], new["col_var"] = row, col
        else:
            var = new["variance"] = s["variance"] + w * (g * g - s["variance"])
        update = g / fnp.sqrt(fnp.maximum(var, e1 * e1))
        denom = fnp.maximum(1.0, fnp.sqrt(fnp.sum(update * update)) / (n ** 0.5 * d))
        return p - _like(alpha / denom, p) * update, new

    return _leafwise("adafactor", lr, slots, step)
