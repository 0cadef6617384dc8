"""The pure rules against step-by-step references written from PyTorch's documented algorithms.

Each reference is a plain numpy loop over a few steps, in float64; the rules run
on float64 arrays too, so agreement is to rounding. Where PyTorch's code and its
documentation disagree the references follow the code, which is what PyTorch
computes: ``maximize`` negates the gradient before weight decay (SGD), and
AMSGrad keeps the maximum of the raw second moments, bias-corrected afterwards.
"""
import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx import optim

STEPS = 5


def _sequence(seed, shape=(3,), steps=STEPS):
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape), [rng.normal(size=shape) for _ in range(steps)]


def _run_rule(rule, theta0, grads, lr=None):
    params = {"w": fnp.asarray(theta0)}
    state = rule.init(params)
    out = []
    for g in grads:
        params, state = rule.update({"w": fnp.asarray(g)}, state, params, lr=lr)
        out.append(np.asarray(params["w"]))
    return out, state


def _check(rule, reference, seed=0, shape=(3,), lr=None):
    theta0, grads = _sequence(seed, shape)
    got, _ = _run_rule(rule, theta0, grads, lr=lr)
    want = reference(theta0, grads)
    for t, (a, b) in enumerate(zip(got, want), 1):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=f"step {t}")


# ----- references --------------------------------------------------------------------

def _at(lr, t):
    """The lr of step ``t`` (from 1): a constant, or one per step."""
    return lr[t - 1] if isinstance(lr, list) else lr


def ref_sgd(theta, grads, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    theta, buf, out = theta.copy(), None, []
    for t, g in enumerate(grads, 1):
        g = -g if maximize else g
        g = g + weight_decay * theta
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        theta = theta - _at(lr, t) * g
        out.append(theta)
    return out


def ref_adam(theta, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
             maximize=False, decoupled=False):
    b1, b2 = betas
    theta, m, v, vmax, out = theta.copy(), 0.0, 0.0, 0.0, []
    for t, g in enumerate(grads, 1):
        g = -g if maximize else g
        if decoupled:
            theta = theta * (1 - _at(lr, t) * weight_decay)
        else:
            g = g + weight_decay * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        if amsgrad:
            vmax = np.maximum(vmax, v)
        m_hat = m / (1 - b1 ** t)
        v_hat = (vmax if amsgrad else v) / (1 - b2 ** t)
        theta = theta - _at(lr, t) * m_hat / (np.sqrt(v_hat) + eps)
        out.append(theta)
    return out


def ref_rmsprop(theta, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                maximize=False):
    theta, v, g_avg, buf, out = theta.copy(), 0.0, 0.0, 0.0, []
    for t, g in enumerate(grads, 1):
        g = -g if maximize else g
        g = g + weight_decay * theta
        v = alpha * v + (1 - alpha) * g * g
        v_tilde = v
        if centered:
            g_avg = alpha * g_avg + (1 - alpha) * g
            v_tilde = v - g_avg ** 2
        if momentum > 0:
            buf = momentum * buf + g / (np.sqrt(v_tilde) + eps)
            theta = theta - _at(lr, t) * buf
        else:
            theta = theta - _at(lr, t) * g / (np.sqrt(v_tilde) + eps)
        out.append(theta)
    return out


def ref_adagrad(theta, grads, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                maximize=False):
    theta, acc, out = theta.copy(), initial_accumulator_value, []
    for t, g in enumerate(grads, 1):
        g = -g if maximize else g
        clr = _at(lr, t) / (1 + (t - 1) * lr_decay)
        g = g + weight_decay * theta
        acc = acc + g * g
        theta = theta - clr * g / (np.sqrt(acc) + eps)
        out.append(theta)
    return out


# ----- each rule against its reference -------------------------------------------------------

SGD_CASES = [dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.05, momentum=0.9, dampening=0.5),
             dict(lr=0.1, momentum=0.8, nesterov=True), dict(lr=0.1, weight_decay=0.1),
             dict(lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True, maximize=True),
             dict(lr=0.1, momentum=0.5, dampening=0.3, weight_decay=0.2, maximize=True)]


@pytest.mark.parametrize("kw", SGD_CASES, ids=str)
def test_sgd(kw):
    _check(optim.sgd(**kw), lambda th, gs: ref_sgd(th, gs, **kw))


ADAM_CASES = [dict(), dict(lr=0.1), dict(lr=0.1, betas=(0.8, 0.9), eps=1e-3), dict(lr=0.05, weight_decay=0.1),
              dict(lr=0.1, amsgrad=True), dict(lr=0.1, betas=(0.5, 0.6), amsgrad=True, weight_decay=0.05),
              dict(lr=0.01, maximize=True, amsgrad=True), dict(lr=0.1, betas=(0.0, 0.5))]


@pytest.mark.parametrize("kw", ADAM_CASES, ids=str)
def test_adam(kw):
    _check(optim.adam(**kw), lambda th, gs: ref_adam(th, gs, **kw))


@pytest.mark.parametrize("kw", ADAM_CASES + [dict(lr=0.1, weight_decay=0.5, amsgrad=True)], ids=str)
def test_adamw(kw):
    kw = dict(kw)
    kw.setdefault("weight_decay", 1e-2)
    _check(optim.adamw(**kw), lambda th, gs: ref_adam(th, gs, decoupled=True, **kw))


RMSPROP_CASES = [dict(), dict(lr=0.01, alpha=0.9), dict(lr=0.01, centered=True), dict(lr=0.01, momentum=0.9),
                 dict(lr=0.01, alpha=0.8, momentum=0.5, centered=True, weight_decay=0.1),
                 dict(lr=0.02, eps=1e-2, maximize=True, centered=True)]


@pytest.mark.parametrize("kw", RMSPROP_CASES, ids=str)
def test_rmsprop(kw):
    _check(optim.rmsprop(**kw), lambda th, gs: ref_rmsprop(th, gs, **kw))


ADAGRAD_CASES = [dict(), dict(lr=0.1, lr_decay=0.5), dict(lr=0.1, initial_accumulator_value=0.3),
                 dict(lr=0.1, weight_decay=0.2, eps=1e-3), dict(lr=0.1, lr_decay=0.1, maximize=True)]


@pytest.mark.parametrize("kw", ADAGRAD_CASES, ids=str)
def test_adagrad(kw):
    _check(optim.adagrad(**kw), lambda th, gs: ref_adagrad(th, gs, **kw))


def test_hand_computed_sgd_momentum_dampening():
    # buf_1 = g_1 (no dampening on the first step), then buf = 0.9 buf + 0.5 g
    rule = optim.sgd(lr=1.0, momentum=0.9, dampening=0.5)
    p = fnp.asarray(np.array([0.0]))
    s = rule.init(p)
    seen = []
    for g in [1.0, 1.0, 1.0]:
        p, s = rule.update(fnp.asarray(np.array([g])), s, p)
        seen.append(float(s["momentum_buffer"][0]))
    assert seen == pytest.approx([1.0, 1.4, 1.76])
    assert float(p[0]) == pytest.approx(-(1.0 + 1.4 + 1.76))


def test_hand_computed_adam_first_step():
    # After one step m_hat = g and v_hat = g^2, so the move is lr * g / (|g| + eps).
    rule = optim.adam(lr=0.1, eps=1e-8)
    p = fnp.asarray(np.array([1.0, -1.0]))
    p, _ = rule.update(fnp.asarray(np.array([4.0, -0.25])), rule.init(p), p)
    np.testing.assert_allclose(np.asarray(p), [1 - 0.1 * 4 / (4 + 1e-8), -1 + 0.1 * 0.25 / (0.25 + 1e-8)],
                               rtol=1e-14)


# ----- pytrees, dtypes, lr override, state ------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda: optim.sgd(lr=0.1, momentum=0.9), lambda: optim.adam(lr=0.1, amsgrad=True),
                                  lambda: optim.adamw(lr=0.1), lambda: optim.rmsprop(momentum=0.5, centered=True),
                                  lambda: optim.adagrad(lr=0.1)])
def test_float32_stays_float32_on_pytrees(make):
    rule = make()
    params = {"a": fnp.ones((2, 3)), "b": [fnp.zeros(4), fnp.full((), 2.0)]}
    state = rule.init(params)
    grads = fnx.tree.map(lambda x: x * 0.5 + 1.0, params)
    for _ in range(3):
        params, state = rule.update(grads, state, params)
    for leaf in fnx.tree.leaves(params):
        assert leaf.dtype == np.float32
    for key, sub in state.items():
        for leaf in fnx.tree.leaves(sub):
            assert leaf.dtype == (np.int32 if key == "step" else np.float32)
    assert fnx.tree.structure(params) == fnx.tree.structure(grads)


def test_state_keys_follow_pytorch_names():
    p = fnp.zeros(2)
    assert optim.sgd().init(p) == {}
    assert sorted(optim.sgd(momentum=0.9).init(p)) == ["momentum_buffer", "step"]
    assert sorted(optim.adam().init(p)) == ["exp_avg", "exp_avg_sq", "step"]
    assert sorted(optim.adam(amsgrad=True).init(p)) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]
    assert sorted(optim.rmsprop(momentum=0.1, centered=True).init(p)) == ["grad_avg", "momentum_buffer",
                                                                          "square_avg", "step"]
    assert sorted(optim.adagrad(initial_accumulator_value=0.5).init(p)) == ["step", "sum"]
    assert np.asarray(optim.adagrad(initial_accumulator_value=0.5).init(p)["sum"]).tolist() == [0.5, 0.5]


LR_OVERRIDE_CASES = [
    (optim.sgd, ref_sgd),
    (lambda lr: optim.sgd(lr, momentum=0.9), lambda th, gs, lr: ref_sgd(th, gs, lr, momentum=0.9)),
    (optim.adam, ref_adam),
    (optim.adamw, lambda th, gs, lr: ref_adam(th, gs, lr, weight_decay=1e-2, decoupled=True)),
    (optim.rmsprop, ref_rmsprop),
    (optim.adagrad, ref_adagrad),
]


@pytest.mark.parametrize("make,ref", LR_OVERRIDE_CASES)
def test_lr_override_per_call(make, ref):
    theta0, grads = _sequence(3)
    lrs = [0.1, 0.05, 0.2, 0.01, 0.3]
    rule = make(123.0)  # overridden at every call, as a schedule does
    params = fnp.asarray(theta0)
    state = rule.init(params)
    for g, lr in zip(grads, lrs):
        params, state = rule.update(fnp.asarray(g), state, params, lr=lr)
    np.testing.assert_allclose(np.asarray(params), ref(theta0, grads, lr=lrs)[-1], rtol=1e-12)


def test_lr_override_can_be_an_array_and_differentiated():
    def final_loss(lr):
        rule = optim.sgd(momentum=0.9)
        p = fnp.array([1.0, 2.0])
        s = rule.init(p)
        for _ in range(3):
            p, s = rule.update(2.0 * p, s, p, lr=lr)
        return fnp.sum(p ** 2)

    lr, h = 0.1, 1e-3
    numeric = (float(final_loss(lr + h)) - float(final_loss(lr - h))) / (2 * h)
    assert float(fnx.grad(final_loss)(fnp.asarray(lr))) == pytest.approx(numeric, rel=1e-3)


def test_vmap_over_an_ensemble():
    rule = optim.adam(lr=0.1, amsgrad=True)
    P = fnp.asarray(np.arange(6.0).reshape(3, 2))
    G = fnp.asarray(np.linspace(-1, 1, 6).reshape(3, 2))
    state = fnx.vmap(rule.init)(P)
    new, state = fnx.vmap(rule.update)(G, state, P)
    new, state = fnx.vmap(rule.update)(G, state, new)
    for i in range(3):
        p, s = P[i], rule.init(P[i])
        for _ in range(2):
            p, s = rule.update(G[i], s, p)
        np.testing.assert_allclose(np.asarray(new[i]), np.asarray(p), rtol=1e-12)


def test_structure_and_state_mismatch_errors():
    rule = optim.adam()
    params = {"w": fnp.zeros(2)}
    state = rule.init(params)
    with pytest.raises(ValueError, match="adam.update: grads has structure"):
        rule.update([fnp.zeros(2)], state, params)
    with pytest.raises(ValueError, match="adam.update: the state has keys"):
        optim.adam(amsgrad=True).update({"w": fnp.zeros(2)}, state, params)


# ----- bad hyper-parameters -----------------------------------------------------------------

@pytest.mark.parametrize("call,message", [
    (lambda: optim.sgd(lr=-1), "Invalid learning rate: -1"),
    (lambda: optim.sgd(momentum=-0.5), "Invalid momentum value: -0.5"),
    (lambda: optim.sgd(weight_decay=-1e-3), "Invalid weight_decay value: -0.001"),
    (lambda: optim.sgd(nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (lambda: optim.sgd(momentum=0.9, dampening=0.1, nesterov=True), "Nesterov"),
    (lambda: optim.adam(lr=-0.1), "Invalid learning rate: -0.1"),
    (lambda: optim.adam(eps=-1.0), "Invalid epsilon value: -1.0"),
    (lambda: optim.adam(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    (lambda: optim.adamw(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (lambda: optim.adamw(weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda: optim.adam(betas=0.9), "Invalid betas"),
    (lambda: optim.rmsprop(alpha=-0.1), "Invalid alpha value: -0.1"),
    (lambda: optim.rmsprop(momentum=-1), "Invalid momentum value: -1"),
    (lambda: optim.rmsprop(eps=-1), "Invalid epsilon value: -1"),
    (lambda: optim.adagrad(lr_decay=-1), "Invalid lr_decay value: -1"),
    (lambda: optim.adagrad(initial_accumulator_value=-1), "Invalid initial_accumulator_value value: -1"),
    (lambda: optim.adagrad(eps=-1), "Invalid epsilon value: -1"),
])
def test_bad_hyper_parameters(call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_plain_sgd_on_concrete_arrays_matches_the_traced_update_and_writes_nothing(dtype):
    # Without momentum, weight decay or maximize, sgd updates concrete arrays with numpy directly (the product's
    # buffer takes the result); traced (under jit) it runs fnx operations. Both must agree bit for bit.
    rng = np.random.default_rng(0)
    params = {"w": fnp.asarray(rng.normal(size=(5, 3)).astype(dtype)), "b": fnp.asarray(rng.normal(size=3).astype(dtype))}
    grads = {k: fnp.asarray(rng.normal(size=v.shape).astype(dtype)) for k, v in params.items()}
    before = {k: np.array(v) for k, v in params.items()}
    rule = optim.sgd(lr=0.1)
    eager, _ = rule.update(grads, rule.init(params), params)
    traced, _ = fnx.jit(rule.update)(grads, rule.init(params), params)
    for k in params:
        assert eager[k].dtype == np.dtype(dtype)
        np.testing.assert_array_equal(eager[k], traced[k])
        np.testing.assert_array_equal(eager[k], before[k] - np.asarray(0.1, dtype) * np.asarray(grads[k]))
        np.testing.assert_array_equal(params[k], before[k])
