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

from .. import numpy as fnp
from ..core import tree as tree_util
from ..core.array import Array
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

def _check(what, value, ok):
    # Traced hyper-parameters (meta-learning a learning rate) cannot be checked without a value.
    if not isinstance(value, Tracer) and not ok(value):
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

    def step(p, g, s, t, lr):
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
