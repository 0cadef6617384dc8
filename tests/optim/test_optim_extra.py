"""Adamax, NAdam, RAdam, Adadelta, Rprop and ASGD against references written from PyTorch's algorithms.

Each reference is a plain numpy loop in float64, transcribed from the update
equations of ``torch/optim/<name>.py`` (the single-tensor path); the rules run
on float64 arrays, so agreement is to rounding. Under ``importorskip("torch")``
the classes are also run beside torch's own optimizers in float32.
"""
import numpy as np
import pytest

import fnx.numpy as fnp
from fnx import optim
from fnx.nn import Parameter

STEPS = 8


def _sequence(seed, shape=(4,), steps=STEPS):
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=shape)
    grads = [rng.normal(size=shape) for _ in range(steps)]
    return theta, grads


def _run_rule(rule, theta0, grads):
    params = {"w": fnp.asarray(theta0)}
    state = rule.init(params)
    out = []
    for g in grads:
        params, state = rule.update({"w": fnp.asarray(g)}, state, params)
        out.append(np.asarray(params["w"]))
    return out, state


def _check(rule, reference, seed=0):
    theta0, grads = _sequence(seed)
    got, _ = _run_rule(rule, theta0, grads)
    want = reference(theta0, grads)
    for t, (a, b) in enumerate(zip(got, want), 1):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=f"step {t}")


# ----- references, from torch/optim's single-tensor code ----------------------------------------

def _wd(theta, g, lr, weight_decay, maximize, decoupled=False):
    g = -g if maximize else g
    if weight_decay:
        if decoupled:
            theta = theta * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * theta
    return theta, g


def ref_adamax(theta, grads, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, maximize=False):
    (b1, b2), m, u, out = betas, 0.0, 0.0, []
    for t, g in enumerate(grads, 1):
        theta, g = _wd(theta, g, lr, weight_decay, maximize)
        m = m + (1 - b1) * (g - m)
        u = np.maximum(b2 * u, np.abs(g) + eps)
        theta = theta - lr / (1 - b1 ** t) * m / u
        out.append(theta)
    return out


def ref_nadam(theta, grads, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
              decoupled_weight_decay=False, maximize=False):
    (b1, b2), m, v, prod, out = betas, 0.0, 0.0, 1.0, []
    for t, g in enumerate(grads, 1):
        theta, g = _wd(theta, g, lr, weight_decay, maximize, decoupled_weight_decay)
        mu = b1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))
        mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
        prod *= mu
        m = m + (1 - b1) * (g - m)
        v = b2 * v + (1 - b2) * g * g
        denom = np.sqrt(v / (1 - b2 ** t)) + eps
        theta = theta - lr * (1 - mu) / (1 - prod) * g / denom - lr * mu_next / (1 - prod * mu_next) * m / denom
        out.append(theta)
    return out


def ref_radam(theta, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False,
              maximize=False):
    (b1, b2), m, v, out = betas, 0.0, 0.0, []
    rho_inf = 2 / (1 - b2) - 1
    for t, g in enumerate(grads, 1):
        theta, g = _wd(theta, g, lr, weight_decay, maximize, decoupled_weight_decay)
        m = m + (1 - b1) * (g - m)
        v = b2 * v + (1 - b2) * g * g
        bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
        rho_t = rho_inf - 2 * t * b2 ** t / bc2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            theta = theta - m / bc1 * lr * (bc2 ** 0.5 / (np.sqrt(v) + eps)) * rect
        else:
            theta = theta - m / bc1 * lr
        out.append(theta)
    return out


def ref_adadelta(theta, grads, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
    sq, acc, out = 0.0, 0.0, []
    for g in grads:
        theta, g = _wd(theta, g, lr, weight_decay, maximize)
        sq = rho * sq + (1 - rho) * g * g
        delta = np.sqrt(acc + eps) / np.sqrt(sq + eps) * g
        acc = rho * acc + (1 - rho) * delta * delta
        theta = theta - lr * delta
        out.append(theta)
    return out


def ref_rprop(theta, grads, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), maximize=False):
    prev, size, out = np.zeros_like(theta), np.full_like(theta, lr), []
    for g in grads:
        g = -g if maximize else g.copy()
        sign = np.sign(g * prev)
        sign[sign > 0] = etas[1]
        sign[sign < 0] = etas[0]
        sign[sign == 0] = 1
        size = np.clip(size * sign, *step_sizes)
        g[sign == etas[0]] = 0
        theta = theta - np.sign(g) * size
        prev = g
        out.append(theta)
    return out


def ref_asgd(theta, grads, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0, maximize=False,
             averages=None):
    eta, mu, ax, out = lr, 1.0, np.zeros_like(theta), []
    for t, g in enumerate(grads, 1):
        theta, g = _wd(theta, g, lr, weight_decay, maximize)
        theta = theta * (1 - lambd * eta) - eta * g
        ax = theta.copy() if mu == 1 else ax + (theta - ax) * mu
        eta = lr / (1 + lambd * lr * t) ** alpha
        mu = 1 / max(1, t - t0)
        out.append(theta)
        if averages is not None:
            averages.append(ax)
    return out


# ----- each rule against its reference ------------------------------------------------------------

CASES = {
    "adamax": (optim.adamax, ref_adamax, [dict(), dict(lr=0.1), dict(lr=0.1, betas=(0.5, 0.8), eps=1e-2),
                                          dict(lr=0.05, weight_decay=0.1, maximize=True)]),
    "nadam": (optim.nadam, ref_nadam, [dict(), dict(lr=0.1, momentum_decay=0.3), dict(lr=0.1, betas=(0.6, 0.7)),
                                       dict(lr=0.05, weight_decay=0.2), dict(lr=0.05, weight_decay=0.2,
                                                                             decoupled_weight_decay=True),
                                       dict(lr=0.05, maximize=True, eps=1e-3)]),
    # rho_1 is always 1; with betas[1] = 0.9 rho_t passes 5 at step 6, with 0.8 at step 4; with 0.999 not in
    # 8 steps; with 0.6 never (rho_inf = 4)
    "radam": (optim.radam, ref_radam, [dict(), dict(lr=0.1, betas=(0.9, 0.9)), dict(lr=0.1, betas=(0.8, 0.8)),
                                       dict(lr=0.1, betas=(0.8, 0.6)),
                                       dict(lr=0.05, betas=(0.9, 0.9), weight_decay=0.2),
                                       dict(lr=0.05, betas=(0.9, 0.9), weight_decay=0.2, decoupled_weight_decay=True),
                                       dict(lr=0.05, betas=(0.9, 0.6), maximize=True)]),
    "adadelta": (optim.adadelta, ref_adadelta, [dict(), dict(lr=0.5, rho=0.5), dict(eps=1e-3, weight_decay=0.1),
                                                dict(rho=0.95, maximize=True)]),
    "rprop": (optim.rprop, ref_rprop, [dict(), dict(lr=0.1, etas=(0.3, 1.5)), dict(lr=0.1, step_sizes=(0.05, 0.12)),
                                       dict(lr=0.02, maximize=True)]),
    "asgd": (optim.asgd, ref_asgd, [dict(), dict(lr=0.1, lambd=0.1, alpha=0.5), dict(lr=0.1, t0=3),
                                    dict(lr=0.05, weight_decay=0.1, t0=2, maximize=True)]),
}
PARAMS = [(name, kw) for name, (_, _, cases) in CASES.items() for kw in cases]


@pytest.mark.parametrize("name,kw", PARAMS, ids=[f"{n}-{k}" for n, k in PARAMS])
def test_rule_equals_reference(name, kw):
    make, ref, _ = CASES[name]
    _check(make(**kw), lambda th, gs: ref(th, gs, **kw))


def test_asgd_average_follows_polyak_after_t0():
    theta0, grads = _sequence(5)
    averages = []
    ref_asgd(theta0, grads, lr=0.1, t0=2, averages=averages)
    _, state = _run_rule(optim.asgd(lr=0.1, t0=2), theta0, grads)
    np.testing.assert_allclose(np.asarray(state["ax"]["w"]), averages[-1], rtol=1e-12)
    # before t0 the average is the parameter itself; after, it lags behind
    assert not np.allclose(averages[-1], _run_rule(optim.asgd(lr=0.1, t0=2), theta0, grads)[0][-1])
    assert float(state["mu"]["w"]) == 1 / (STEPS - 2) and state["mu"]["w"].dtype == np.float64


def test_radam_switches_to_the_rectified_step_when_rho_exceeds_five():
    # beta2 = 0.9: rho_inf = 19, rho_t = 19 - 2 t 0.9^t / (1 - 0.9^t) is 1, 2.47, ... , 4.58 (t=5), 5.18 (t=6)
    theta0, grads = np.array([1.0]), [np.array([1.0])] * 6
    got, _ = _run_rule(optim.radam(lr=0.1, betas=(0.0, 0.9)), theta0, grads)
    # with beta1 = 0 the un-rectified step is exactly lr * g
    np.testing.assert_allclose([x[0] for x in got[:5]], [0.9, 0.8, 0.7, 0.6, 0.5], rtol=1e-14)
    assert abs((got[4] - got[5])[0] - 0.1) > 1e-3


def test_rprop_hand_computed():
    rule = optim.rprop(lr=0.1)
    p = fnp.asarray(np.array([1.0, 1.0, 1.0]))
    s = rule.init(p)
    for g in ([3.0, -0.5, 1.0], [1.0, 0.5, 0.0], [2.0, 0.5, 1.0]):
        p, s = rule.update(fnp.asarray(np.array(g)), s, p)
    # sizes: x1.2 twice; x0.5 then x1 (after the zeroed gradient); x1 twice
    np.testing.assert_allclose(np.asarray(s["step_size"]), [0.144, 0.05, 0.1], rtol=1e-14)
    np.testing.assert_allclose(np.asarray(p), [1 - 0.1 - 0.12 - 0.144, 1 + 0.1 - 0.0 - 0.05, 1 - 0.1 - 0.1],
                               rtol=1e-14)


def test_state_keys_follow_pytorch_names_in_order():
    p = fnp.zeros(2)
    assert list(optim.adamax().init(p)) == ["step", "exp_avg", "exp_inf"]
    assert list(optim.nadam().init(p)) == ["step", "mu_product", "exp_avg", "exp_avg_sq"]
    assert list(optim.radam().init(p)) == ["step", "exp_avg", "exp_avg_sq"]
    assert list(optim.adadelta().init(p)) == ["step", "square_avg", "acc_delta"]
    assert list(optim.rprop(lr=0.3).init(p)) == ["step", "prev", "step_size"]
    assert list(optim.asgd().init(p)) == ["step", "eta", "mu", "ax"]
    np.testing.assert_allclose(np.asarray(optim.rprop(lr=0.3).init(p)["step_size"]), [0.3, 0.3], rtol=1e-7)
    assert optim.asgd(lr=0.3).init(p)["eta"].shape == ()


@pytest.mark.parametrize("make", [optim.adamax, optim.nadam, optim.radam, optim.adadelta, optim.rprop, optim.asgd])
def test_float32_stays_float32(make):
    rule = make()
    params = [fnp.ones((2, 3)), fnp.full((), 2.0)]
    state = rule.init(params)
    for _ in range(3):
        params, state = rule.update([fnp.ones((2, 3)) * 0.3, fnp.asarray(-1.0)], state, params)
    for leaf in params:
        assert leaf.dtype == np.float32
    for key, sub in state.items():
        for leaf in (sub if isinstance(sub, list) else [sub]):
            assert leaf.dtype == (np.int32 if key == "step" else np.float32), key


@pytest.mark.parametrize("call,message", [
    (lambda: optim.adamax(lr=-1), "learning rate"), (lambda: optim.adamax(betas=(1.0, 0.9)), "beta parameter"),
    (lambda: optim.nadam(momentum_decay=-0.1), "momentum_decay"), (lambda: optim.radam(eps=-1), "epsilon"),
    (lambda: optim.adadelta(rho=1.5), "rho"), (lambda: optim.rprop(etas=(1.2, 0.5)), "eta values"),
    (lambda: optim.rprop(step_sizes=1e-6), "step_sizes"), (lambda: optim.asgd(weight_decay=-1), "weight_decay"),
    (lambda: optim.NAdam([Parameter(fnp.zeros(1))], betas=(0.9,)), "betas"),
])
def test_bad_hyper_parameters(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ----- the classes --------------------------------------------------------------------------------

CLASSES = [
    (optim.Adamax, optim.adamax, dict(lr=0.05, weight_decay=0.1)),
    (optim.NAdam, optim.nadam, dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    (optim.RAdam, optim.radam, dict(lr=0.05, betas=(0.9, 0.9))),
    (optim.Adadelta, optim.adadelta, dict(rho=0.8)),
    (optim.Rprop, optim.rprop, dict(lr=0.05)),
    (optim.ASGD, optim.asgd, dict(lr=0.05, t0=2)),
]


def _grads(seed, shapes, steps=5):
    rng = np.random.default_rng(seed)
    return [[rng.normal(size=s) for s in shapes] for _ in range(steps)]


@pytest.mark.parametrize("cls,rule,kw", CLASSES, ids=lambda x: getattr(x, "__name__", str(x)))
def test_class_equals_rule_and_round_trips_its_state(cls, rule, kw):
    shapes = [(2, 3), (3,)]
    init = [np.ones(s) * (i + 1) for i, s in enumerate(shapes)]
    params = [Parameter(fnp.asarray(x)) for x in init]
    opt = cls(params, **kw)
    r = rule(**kw)
    pure = [fnp.asarray(x) for x in init]
    state = r.init(pure)
    grads = _grads(0, shapes)
    for gs in grads[:3]:
        for p, g in zip(params, gs):
            p.grad = fnp.asarray(g)
        opt.step()
        pure, state = r.update([fnp.asarray(g) for g in gs], state, pure)
    for p, q in zip(params, pure):
        np.testing.assert_allclose(np.asarray(p.data), np.asarray(q), rtol=1e-12)
    # a copy restored from the state dict continues exactly as the original does
    copies = [Parameter(p.data) for p in params]
    other = cls(copies, **kw)
    other.load_state_dict(opt.state_dict())
    for gs in grads[3:]:
        for o, ps in ((opt, params), (other, copies)):
            for p, g in zip(ps, gs):
                p.grad = fnp.asarray(g)
            o.step()
    for p, q in zip(params, copies):
        np.testing.assert_array_equal(np.asarray(p.data), np.asarray(q.data))


def test_defaults_match_pytorch():
    p = [Parameter(fnp.zeros(1))]
    flags = dict(foreach=None, capturable=False, differentiable=False)  # torch's implementation flags
    assert optim.Adamax(p).defaults == dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, maximize=False,
                                            **flags)
    assert optim.NAdam(p).defaults == dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                                           momentum_decay=4e-3, decoupled_weight_decay=False, maximize=False, **flags)
    assert optim.RAdam(p).defaults == dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                                           decoupled_weight_decay=False, maximize=False, **flags)
    assert optim.Adadelta(p).defaults == dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False, **flags)
    assert optim.Rprop(p).defaults == dict(lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), maximize=False, **flags)
    assert optim.ASGD(p).defaults == dict(lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0.0, maximize=False,
                                          **flags)


# ----- against torch itself -----------------------------------------------------------------------

TORCH_CASES = [
    ("Adamax", dict()), ("Adamax", dict(lr=0.05, weight_decay=0.1, maximize=True)),
    ("NAdam", dict()), ("NAdam", dict(lr=0.05, weight_decay=0.1, momentum_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict()), ("RAdam", dict(lr=0.05, betas=(0.9, 0.9), weight_decay=0.1)),
    ("RAdam", dict(lr=0.05, betas=(0.9, 0.8), weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adadelta", dict()), ("Adadelta", dict(lr=0.5, rho=0.7, weight_decay=0.1, maximize=True)),
    ("Rprop", dict()), ("Rprop", dict(lr=0.05, etas=(0.4, 1.3), step_sizes=(1e-3, 0.1))),
    ("ASGD", dict()), ("ASGD", dict(lr=0.05, lambd=0.01, t0=3, weight_decay=0.1)),
]


@pytest.mark.parametrize("name,kw", TORCH_CASES, ids=[f"{n}-{k}" for n, k in TORCH_CASES])
def test_against_torch(name, kw):
    torch = pytest.importorskip("torch")
    shapes = [(3, 2), (4,)]
    rng = np.random.default_rng(7)
    init = [rng.normal(size=s).astype(np.float32) for s in shapes]
    tp = [torch.nn.Parameter(torch.tensor(x)) for x in init]
    fp = [Parameter(fnp.asarray(x)) for x in init]
    topt = getattr(torch.optim, name)([{"params": tp[:1]}, {"params": tp[1:], "lr": 0.02}], foreach=False, **kw)
    fopt = getattr(optim, name)([{"params": fp[:1]}, {"params": fp[1:], "lr": 0.02}], **kw)
    for step in range(10):
        # a gradient whose sign pattern changes now and then, as Rprop needs
        gs = [(rng.normal(size=s) + (0.5 if step % 3 else -0.5)).astype(np.float32) for s in shapes]
        for t, f, g in zip(tp, fp, gs):
            t.grad = torch.tensor(g)
            f.grad = fnp.asarray(g)
        topt.step()
        fopt.step()
        for t, f in zip(tp, fp):
            np.testing.assert_allclose(np.asarray(f.data), t.detach().numpy(), rtol=1e-5, atol=1e-6,
                                       err_msg=f"{name} step {step + 1}")
    tsd, fsd = topt.state_dict(), fopt.state_dict()
    for i in tsd["state"]:
        assert list(fsd["state"][i]) == list(tsd["state"][i])
        for key, value in tsd["state"][i].items():
            np.testing.assert_allclose(np.asarray(fsd["state"][i][key], dtype=np.float64),
                                       value.numpy().astype(np.float64), rtol=1e-5, atol=1e-6, err_msg=key)
    # torch's own state dict, loaded into fnx, carries on the same trajectory
    fresh = [Parameter(fnp.asarray(t.detach().numpy())) for t in tp]
    loaded = getattr(optim, name)([{"params": fresh[:1]}, {"params": fresh[1:]}], **kw)
    loaded.load_state_dict({"state": {i: {k: v.numpy() for k, v in s.items()} for i, s in tsd["state"].items()},
                            "param_groups": tsd["param_groups"]})
    gs = [rng.normal(size=s).astype(np.float32) for s in shapes]
    for t, f, g in zip(tp, fresh, gs):
        t.grad = torch.tensor(g)
        f.grad = fnp.asarray(g)
    topt.step()
    loaded.step()
    for t, f in zip(tp, fresh):
        np.testing.assert_allclose(np.asarray(f.data), t.detach().numpy(), rtol=1e-5, atol=1e-6)


# ----- L-BFGS ---------------------------------------------------------------------------------------------

A = np.array([[3.0, 0.5, 0.0], [0.5, 2.0, 0.3], [0.0, 0.3, 1.0]])
B = np.array([1.0, -2.0, 0.5])


def _quadratic_closure(opt, w):
    def closure():
        opt.zero_grad()
        loss = 0.5 * fnp.dot(w, fnp.asarray(A) @ w) - fnp.dot(fnp.asarray(B), w)
        loss.backward()
        return loss
    return closure


def ref_lbfgs_fixed_step(x, lr, max_iter, history_size, steps):
    """torch.optim.LBFGS without line search, with the stopping tests, on 0.5 x'Ax - b'x (numpy, float64)."""
    f = lambda x: 0.5 * x @ A @ x - B @ x  # noqa: E731
    grad = lambda x: A @ x - B  # noqa: E731
    n_total, old_dirs, old_stps, ro, h_diag, d, t, prev_g = 0, [], [], [], 1.0, None, None, None
    for _ in range(steps):
        loss, g = f(x), grad(x)
        evals = 1
        if np.abs(g).max() <= 1e-7:
            break
        for n_iter in range(1, max_iter + 1):
            n_total += 1
            if n_total == 1:
                d, old_dirs, old_stps, ro, h_diag = -g, [], [], [], 1.0
            else:
                y, s = g - prev_g, d * t
                ys = y @ s
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0), old_stps.pop(0), ro.pop(0)
                    old_dirs.append(y), old_stps.append(s), ro.append(1 / ys)
                    h_diag = ys / (y @ y)
                al = [0.0] * len(old_dirs)
                q = -g
                for i in reversed(range(len(old_dirs))):
                    al[i] = old_stps[i] @ q * ro[i]
                    q = q - al[i] * old_dirs[i]
                r = q * h_diag
                for i in range(len(old_dirs)):
                    r = r + (al[i] - old_dirs[i] @ r * ro[i]) * old_stps[i]
                d = r
            prev_g, prev_loss = g, loss
            t = min(1.0, 1.0 / np.abs(g).sum()) * lr if n_total == 1 else lr
            if g @ d > -1e-9:
                break
            x = x + t * d
            opt_cond = False
            if n_iter != max_iter:
                loss, g = f(x), grad(x)
                evals += 1
                opt_cond = np.abs(g).max() <= 1e-7
            if n_iter == max_iter or evals >= max_iter * 5 // 4 or opt_cond:
                break
            if np.abs(d * t).max() <= 1e-9 or abs(loss - prev_loss) < 1e-9:
                break
    return x


@pytest.mark.parametrize("lr,max_iter,history", [(1.0, 20, 100), (0.5, 4, 2), (0.8, 3, 1)])
def test_lbfgs_fixed_step_equals_reference(lr, max_iter, history):
    w = Parameter(fnp.asarray(np.array([2.0, 1.0, -1.0])))
    opt = optim.LBFGS([w], lr=lr, max_iter=max_iter, history_size=history)
    closure = _quadratic_closure(opt, w)
    for _ in range(3):
        opt.step(closure)
    want = ref_lbfgs_fixed_step(np.array([2.0, 1.0, -1.0]), lr, max_iter, history, steps=3)
    np.testing.assert_allclose(np.asarray(w.data), want, rtol=1e-10, atol=1e-12)


def test_lbfgs_strong_wolfe_solves_a_quadratic_and_keeps_pytorch_state_names():
    w = Parameter(fnp.asarray(np.array([2.0, 1.0, -1.0])))
    opt = optim.LBFGS([w], line_search_fn="strong_wolfe", history_size=5)
    loss = opt.step(_quadratic_closure(opt, w))
    assert float(loss) == pytest.approx(0.5 * np.array([2, 1, -1.0]) @ A @ np.array([2, 1, -1.0]) - B @ [2, 1, -1.0])
    # one step stops once the loss changes by less than tolerance_change; the minimiser is near
    np.testing.assert_allclose(np.asarray(w.data), np.linalg.solve(A, B), rtol=1e-4)
    assert sorted(opt.state[w]) == sorted(["func_evals", "n_iter", "d", "t", "old_dirs", "old_stps", "ro", "H_diag",
                                           "prev_flat_grad", "prev_loss", "al"])
    copy = Parameter(w.data)
    other = optim.LBFGS([copy], line_search_fn="strong_wolfe", history_size=5)
    other.load_state_dict(opt.state_dict())
    assert "step" not in other.state[copy] and other.state[copy]["n_iter"] == opt.state[w]["n_iter"]


def test_lbfgs_checks():
    w = Parameter(fnp.zeros(1))
    with pytest.raises(ValueError, match="parameter groups"):
        optim.LBFGS([{"params": [w]}, {"params": [Parameter(fnp.zeros(1))]}])
    with pytest.raises(ValueError, match="learning rate"):
        optim.LBFGS([w], lr=-1)
    opt = optim.LBFGS([Parameter(fnp.ones(1))], line_search_fn="armijo")
    p = opt.param_groups[0]["params"][0]

    def closure():
        opt.zero_grad()
        loss = fnp.sum(p ** 2)
        loss.backward()
        return loss
    with pytest.raises(RuntimeError, match="strong_wolfe"):
        opt.step(closure)


@pytest.mark.parametrize("kw", [dict(), dict(line_search_fn="strong_wolfe"), dict(lr=0.5, max_iter=5, history_size=3),
                                dict(line_search_fn="strong_wolfe", max_iter=4, history_size=2)], ids=str)
def test_lbfgs_against_torch_on_rosenbrock(kw):
    torch = pytest.importorskip("torch")
    x0 = np.array([-1.2, 1.0, 0.5, -0.3])

    def rosen(x, lib):
        return lib.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    tw = torch.nn.Parameter(torch.tensor(x0))
    fw = Parameter(fnp.asarray(x0))
    topt, fopt = torch.optim.LBFGS([tw], **kw), optim.LBFGS([fw], **kw)

    def tclosure():
        topt.zero_grad()
        loss = rosen(tw, torch)
        loss.backward()
        return loss

    def fclosure():
        fopt.zero_grad()
        loss = rosen(fw, fnp)
        loss.backward()
        return loss
    for step in range(4):
        tl, fl = topt.step(tclosure), fopt.step(fclosure)
        assert float(fl) == pytest.approx(float(tl.detach()), rel=1e-9, abs=1e-12)
        np.testing.assert_allclose(np.asarray(fw.data), tw.detach().numpy(), rtol=1e-8, atol=1e-10,
                                   err_msg=f"step {step + 1}")
        ts, fs = topt.state[tw], fopt.state[fw]
        assert (fs["func_evals"], fs["n_iter"]) == (ts["func_evals"], ts["n_iter"])


# ----- transforms: vmap over an ensemble, jit, a differentiated learning rate ------------------------------

RULES = [lambda: optim.adamax(lr=0.1), lambda: optim.nadam(lr=0.1), lambda: optim.radam(lr=0.1, betas=(0.9, 0.8)),
         lambda: optim.adadelta(), lambda: optim.rprop(lr=0.1), lambda: optim.asgd(lr=0.1, t0=1)]


@pytest.mark.parametrize("make", RULES, ids=["adamax", "nadam", "radam", "adadelta", "rprop", "asgd"])
def test_vmap_and_jit_over_the_rules(make):
    import fnx
    rule = make()
    P = fnp.asarray(np.arange(6.0).reshape(3, 2))
    G = [fnp.asarray(np.linspace(-1, 1, 6).reshape(3, 2) * s) for s in (1.0, -0.5, 2.0, 0.3, -1.0, 0.7)]
    state = fnx.vmap(rule.init)(P)
    new = P
    for g in G:
        new, state = fnx.vmap(rule.update)(g, state, new)
    jitted = fnx.jit(rule.update)
    for i in range(3):
        p, s = P[i], rule.init(P[i])
        q, r = P[i], rule.init(P[i])
        for g in G:
            p, s = rule.update(g[i], s, p)
            q, r = jitted(g[i], r, q)
        np.testing.assert_allclose(np.asarray(new[i]), np.asarray(p), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(q), np.asarray(p), rtol=1e-12)


@pytest.mark.parametrize("make", [optim.adamax, optim.nadam, optim.radam, optim.adadelta, optim.asgd])
def test_the_learning_rate_can_be_differentiated(make):
    import fnx

    def final_loss(lr):
        rule = make()
        p = fnp.array([1.0, 2.0], dtype="float64")
        s = rule.init(p)
        for _ in range(3):
            p, s = rule.update(2.0 * p, s, p, lr=lr)
        return fnp.sum(p ** 2)

    lr, h = 0.05, 1e-5
    numeric = (float(final_loss(lr + h)) - float(final_loss(lr - h))) / (2 * h)
    assert float(fnx.grad(final_loss)(fnp.asarray(lr, dtype="float64"))) == pytest.approx(numeric, rel=1e-5)


# ----- Adafactor ------------------------------------------------------------------------------------------

def ref_adafactor(theta, grads, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0,
                  maximize=False):
    e1 = np.finfo(theta.dtype).eps if eps[0] is None else eps[0]
    factored = theta.ndim > 1
    row = np.zeros(theta.shape[:-1] + (1,)) if factored else None
    col = np.zeros(theta.shape[:-2] + (1, theta.shape[-1])) if factored else None
    var, out = np.zeros_like(theta), []
    for t, g in enumerate(grads, 1):
        g = -g if maximize else g
        b = t ** beta2_decay
        rho = min(lr, 1 / np.sqrt(t))
        alpha = max(eps[1], np.sqrt((theta ** 2).sum()) / np.sqrt(theta.size)) * rho
        theta = theta * (1 - lr * weight_decay)
        if factored:
            row = row + b * ((g * g).mean(-1, keepdims=True) - row)
            col = col + b * ((g * g).mean(-2, keepdims=True) - col)
            v = row @ col / np.maximum(row.mean(-2, keepdims=True), e1)
        else:
            var = var + b * (g * g - var)
            v = var
        u = g / np.sqrt(np.maximum(v, e1 * e1))
        theta = theta - alpha / max(1.0, np.sqrt((u * u).sum()) / (np.sqrt(u.size) * d)) * u
        out.append(theta)
    return out


@pytest.mark.parametrize("shape", [(4,), (3, 4), (2, 3, 2)])
@pytest.mark.parametrize("kw", [dict(), dict(lr=0.1, beta2_decay=-0.5, d=1.5), dict(lr=0.05, weight_decay=0.1,
                                                                                   maximize=True),
                                dict(eps=(1e-4, 1e-2)), dict(lr=1.0), dict(lr=0.5, eps=(0.5, 2.0))], ids=str)
def test_adafactor_equals_reference(shape, kw):
    # lr=1 lets rho_t = 1/sqrt(t) take over; eps1 = 0.5 clamps part of the second moment, eps2 = 2 the RMS
    rng = np.random.default_rng(1)
    theta0, grads = rng.normal(size=shape), [rng.normal(size=shape) for _ in range(STEPS)]
    got, _ = _run_rule(optim.adafactor(**kw), theta0, grads)
    for t, (a, b) in enumerate(zip(got, ref_adafactor(theta0, grads, **kw)), 1):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=f"step {t}")


def test_adafactor_class_keeps_pytorchs_state_layout_and_checks():
    w, b = Parameter(fnp.ones((2, 3))), Parameter(fnp.zeros(3))
    opt = optim.Adafactor([w, b], lr=0.1)
    rule = optim.adafactor(lr=0.1)
    pure = [fnp.ones((2, 3)), fnp.zeros(3)]
    state = rule.init(pure)
    for gs in _grads(3, [(2, 3), (3,)], steps=3):
        gs = [np.asarray(g, np.float32) for g in gs]  # a gradient has its parameter's dtype
        w.grad, b.grad = fnp.asarray(gs[0]), fnp.asarray(gs[1])
        opt.step()
        pure, state = rule.update([fnp.asarray(g) for g in gs], state, pure)
    np.testing.assert_allclose(np.asarray(w.data), np.asarray(pure[0]), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(b.data), np.asarray(pure[1]), rtol=1e-6)
    assert list(opt.state[w]) == ["step", "row_var", "col_var"] and list(opt.state[b]) == ["step", "variance"]
    assert opt.state[w]["row_var"].shape == (2, 1) and opt.state[w]["col_var"].shape == (1, 3)
    other = optim.Adafactor([Parameter(w.data), Parameter(b.data)], lr=0.1)
    other.load_state_dict(opt.state_dict())
    assert list(other.state_dict()["state"][0]) == ["step", "row_var", "col_var"]
    for call, message in [(lambda: optim.adafactor(beta2_decay=0.5), "beta2_decay"),
                          (lambda: optim.adafactor(d=0.5), "clipping threshold"),
                          (lambda: optim.adafactor(eps=(-1.0, 1e-3)), "epsilon1"),
                          (lambda: optim.Adafactor([w], lr=-1.0), "learning rate")]:
        with pytest.raises(ValueError, match=message):
            call()


@pytest.mark.parametrize("kw", [dict(), dict(lr=0.05, weight_decay=0.1, beta2_decay=-0.6, d=2.0, maximize=True)],
                         ids=str)
def test_adafactor_against_torch(kw):
    torch = pytest.importorskip("torch")
    shapes = [(3, 4), (5,), (2, 2, 3)]
    rng = np.random.default_rng(0)
    init = [rng.normal(size=s).astype(np.float32) for s in shapes]
    tp = [torch.nn.Parameter(torch.tensor(x)) for x in init]
    fp = [Parameter(fnp.asarray(x)) for x in init]
    topt, fopt = torch.optim.Adafactor(tp, foreach=False, **kw), optim.Adafactor(fp, **kw)
    for step in range(6):
        for t, f, s in zip(tp, fp, shapes):
            g = rng.normal(size=s).astype(np.float32)
            t.grad, f.grad = torch.tensor(g), fnp.asarray(g)
        topt.step()
        fopt.step()
        for t, f in zip(tp, fp):
            np.testing.assert_allclose(np.asarray(f.data), t.detach().numpy(), rtol=1e-5, atol=1e-6)
    for i, (t, f) in enumerate(zip(tp, fp)):
        assert list(fopt.state[f]) == list(topt.state[t])


def test_options_are_checked_when_given_not_at_each_step():
    """PyTorch checks an optimizer's options in its constructor and add_param_group only, so a schedule
    may take the lr to -1e-17 (LinearLR(end_factor=0) does, in torch too) and training goes on."""
    w = Parameter(fnp.ones(2))
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.SGD([Parameter(fnp.ones(2))], lr=-0.1)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        opt.add_param_group({"params": [Parameter(fnp.ones(1))], "lr": -1.0})
    opt.param_groups[0]["lr"] = -1e-17
    w.grad = fnp.ones(2)
    opt.step()
    np.testing.assert_allclose(w.primal, [1.0, 1.0])
