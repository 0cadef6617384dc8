"""The PyTorch-style optimizer classes: the same numbers as the rules, PyTorch's bookkeeping."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx import optim
from fnx.nn import Parameter

CLASSES = [
    (optim.SGD, optim.sgd, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    (optim.SGD, optim.sgd, dict(lr=0.1)),
    (optim.Adam, optim.adam, dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
    (optim.AdamW, optim.adamw, dict(lr=0.05, betas=(0.8, 0.9))),
    (optim.RMSprop, optim.rmsprop, dict(lr=0.01, momentum=0.5, centered=True)),
    (optim.Adagrad, optim.adagrad, dict(lr=0.1, lr_decay=0.1, initial_accumulator_value=0.2)),
]


def _grads(seed, shapes, steps=4):
    rng = np.random.default_rng(seed)
    return [[rng.normal(size=s) for s in shapes] for _ in range(steps)]


@pytest.mark.parametrize("cls,rule,kw", CLASSES, ids=lambda x: getattr(x, "__name__", str(x)))
def test_class_equals_rule(cls, rule, kw):
    shapes = [(2, 3), (3,)]
    init = [np.ones(s) * (i + 1) for i, s in enumerate(shapes)]
    params = [Parameter(fnp.asarray(x)) for x in init]
    opt = cls(params, **kw)
    r = rule(**kw)
    pure = [fnp.asarray(x) for x in init]
    state = r.init(pure)
    for gs in _grads(0, shapes):
        for p, g in zip(params, gs):
            p.grad = fnp.asarray(g)
        opt.step()
        pure, state = r.update([fnp.asarray(g) for g in gs], state, pure)
    for p, q in zip(params, pure):
        np.testing.assert_allclose(np.asarray(p.data), np.asarray(q), rtol=1e-12)
    for i, p in enumerate(params):
        s = opt.state[p]
        for key, value in s.items():
            want = state[key] if key == "step" else state[key][i]
            np.testing.assert_allclose(np.asarray(value), np.asarray(want), rtol=1e-12)


def test_step_skips_parameters_without_grad_and_keeps_their_own_count():
    a, b = Parameter(fnp.ones(2)), Parameter(fnp.ones(2))
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = fnp.ones(2)
    opt.step()
    assert b not in opt.state and int(opt.state[a]["step"]) == 1
    np.testing.assert_array_equal(np.asarray(b.data), [1.0, 1.0])
    b.grad = fnp.ones(2)
    opt.step()
    assert int(opt.state[a]["step"]) == 2 and int(opt.state[b]["step"]) == 1


def test_parameters_sharing_a_step_count_are_updated_in_one_call_with_the_same_numbers():
    shapes = [(2, 3), (3,), (4,)]
    grads = _grads(3, shapes, steps=5)
    calls = []

    class CountingAdam(optim.Adam):
        def _rule_for(self, group):
            rule = super()._rule_for(group)
            return rule._replace(update=lambda g, s, p, lr=None: calls.append(len(p)) or rule.update(g, s, p, lr))

    batched = [Parameter(fnp.ones(s)) for s in shapes]
    alone = [Parameter(fnp.ones(s)) for s in shapes]
    opt = CountingAdam(batched, lr=0.1)
    opts = [optim.Adam([p], lr=0.1) for p in alone]
    for step, gs in enumerate(grads):
        for i, (p, q, g) in enumerate(zip(batched, alone, gs)):
            skip = step == 1 and i == 2  # the last parameter misses a step: it keeps its own count
            p.grad = q.grad = None if skip else fnp.asarray(g, dtype=p.dtype)
        opt.step()
        for o in opts:
            o.step()
    assert calls == [3, 2, 2, 1, 2, 1, 2, 1]
    for p, q, o in zip(batched, alone, opts):
        np.testing.assert_array_equal(np.asarray(p.data), np.asarray(q.data))
        for key, value in o.state[q].items():
            np.testing.assert_array_equal(np.asarray(opt.state[p][key]), np.asarray(value))
    assert [int(opt.state[p]["step"]) for p in batched] == [5, 5, 4]


@pytest.mark.parametrize("cls, kw, expected", [
    # torch 2.14's weights after 8 steps of sum(w ** 2) from [1, -2] with lr=0.1, momentum set to 0 before
    # step 4 and to 0.8 before step 7: torch keeps the buffer aside meanwhile and takes it up again
    ("SGD", dict(momentum=0.9), [-0.494203, 0.988406]),
    ("RMSprop", dict(momentum=0.5), [0.147713, 0.537149]),
])
def test_momentum_a_scheduler_takes_to_zero_and_back_keeps_its_buffer_as_in_pytorch(cls, kw, expected):
    w = Parameter(fnp.array([1.0, -2.0]))
    opt = getattr(fnx.optim, cls)([w], lr=0.1, **kw)
    for i in range(8):
        if i in (3, 6):
            opt.param_groups[0]["momentum"] = 0.0 if i == 3 else 0.8
        opt.zero_grad()
        (w ** 2).sum().backward()
        opt.step()
    np.testing.assert_allclose(np.asarray(w.primal), expected, atol=2e-6)
    assert "momentum_buffer" in opt.state_dict()["state"][0]


def test_a_rule_without_state_is_initialised_once():
    inits, counted = [], {}

    class CountingSGD(optim.SGD):
        def _rule_for(self, group):
            rule = super()._rule_for(group)
            return counted.setdefault(rule, rule._replace(init=lambda p: inits.append(1) or rule.init(p)))

    ps = [Parameter(fnp.ones(3)), Parameter(fnp.ones(2))]
    opt = CountingSGD(ps, lr=0.5)
    for _ in range(3):
        for p in ps:
            p.grad = fnp.ones(p.shape)
        opt.step()
    assert len(inits) <= 1 and not opt.state[ps[0]]  # (plain SGD's rule says it has no state: never initialised)
    np.testing.assert_array_equal(np.asarray(ps[0].data), [-0.5] * 3)
    momentum = optim.SGD([Parameter(fnp.ones(2))], lr=0.5, momentum=0.9)  # a rule with state keeps it
    for _ in range(2):
        momentum.param_groups[0]["params"][0].grad = fnp.ones(2)
        momentum.step()
    assert int(momentum.state[momentum.param_groups[0]["params"][0]]["step"]) == 2


def test_a_rule_that_is_not_leafwise_sees_one_parameter_at_a_time():
    def normalized_sgd(lr):  # divides by the norm over all leaves: batching would change it
        def update(grads, state, params, lr_=None):
            leaves = fnx.tree.leaves(grads)
            norm = fnp.sqrt(sum(fnp.sum(g * g) for g in leaves))
            return fnx.tree.map(lambda p, g: p - lr * g / norm, params, grads), state
        return optim.Rule(lambda params: {}, update)

    class NormalizedSGD(optim.Optimizer):
        _rule = staticmethod(normalized_sgd)

        def __init__(self, params, lr):
            super().__init__(params, dict(lr=lr))

    a, b = Parameter(fnp.zeros(2)), Parameter(fnp.zeros(2))
    a.grad, b.grad = fnp.asarray([3.0, 4.0]), fnp.asarray([0.0, 2.0])
    NormalizedSGD([a, b], lr=1.0).step()
    np.testing.assert_allclose(np.asarray(a.data), [-0.6, -0.8], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(b.data), [0.0, -1.0], rtol=1e-6)


def test_param_groups_with_their_own_lr():
    a, b = Parameter(fnp.zeros(2)), Parameter(fnp.zeros(2))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, momentum=0.0)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 0.5
    assert opt.param_groups[1]["momentum"] == 0.0  # missing options take the defaults
    a.grad = b.grad = fnp.ones(2)
    opt.step()
    np.testing.assert_allclose(np.asarray(a.data), [-0.1, -0.1], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(b.data), [-0.5, -0.5], rtol=1e-6)
    opt.param_groups[0]["lr"] = 1.0  # options are read at each step
    opt.step()
    np.testing.assert_allclose(np.asarray(a.data), [-1.1, -1.1], rtol=1e-6)


def test_group_options_such_as_betas_are_read_each_step():
    w = Parameter(fnp.asarray(np.array([1.0])))
    opt = optim.Adam([w], lr=0.1, betas=(0.9, 0.999))
    rule = optim.adam(lr=0.1, betas=(0.5, 0.999))
    opt.param_groups[0]["betas"] = (0.5, 0.999)
    w.grad = fnp.asarray(np.array([2.0]))
    opt.step()
    p0 = fnp.asarray(np.array([1.0]))
    want, _ = rule.update(fnp.asarray(np.array([2.0])), rule.init(p0), p0)
    np.testing.assert_allclose(np.asarray(w.data), np.asarray(want), rtol=1e-14)


def test_add_param_group_and_its_checks():
    a, b = Parameter(fnp.zeros(1)), Parameter(fnp.zeros(1))
    opt = optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert opt.param_groups[1]["params"][0] is b and opt.param_groups[1]["betas"] == (0.9, 0.999)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        opt.add_param_group({"params": [Parameter(fnp.zeros(1))], "lr": -1})
    with pytest.raises(TypeError, match="can only optimize fnx.nn.Parameter"):
        optim.SGD([fnp.zeros(1)])
    with pytest.raises(TypeError, match="single Parameter"):
        optim.SGD(a)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([])


@pytest.mark.parametrize("cls,kw,message", [
    (optim.SGD, dict(lr=-1), "Invalid learning rate: -1"),
    (optim.SGD, dict(nesterov=True), "Nesterov"),
    (optim.Adam, dict(betas=(0.9, 1.5)), "Invalid beta parameter at index 1: 1.5"),
    (optim.AdamW, dict(eps=-1e-8), "Invalid epsilon value: -1e-08"),
    (optim.RMSprop, dict(alpha=-1), "Invalid alpha value: -1"),
    (optim.Adagrad, dict(lr_decay=-0.1), "Invalid lr_decay value: -0.1"),
])
def test_classes_reject_bad_hyper_parameters(cls, kw, message):
    with pytest.raises(ValueError, match=message):
        cls([Parameter(fnp.zeros(1))], **kw)


def test_defaults_match_pytorch():
    p = [Parameter(fnp.zeros(1))]
    # torch's implementation flags are part of its defaults (and so of its param_groups and state_dict)
    assert optim.SGD(p).defaults == dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                                         maximize=False, foreach=None, differentiable=False, fused=None)
    assert optim.Adam(p).defaults == dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                                          maximize=False, foreach=None, capturable=False, differentiable=False,
                                          fused=None, decoupled_weight_decay=False)
    assert optim.AdamW(p).defaults["weight_decay"] == 1e-2
    assert optim.AdamW(p).defaults["decoupled_weight_decay"] is True
    assert optim.RMSprop(p).defaults == dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                                             centered=False, maximize=False, capturable=False, foreach=None,
                                             differentiable=False)
    assert optim.Adagrad(p).defaults == dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                                             eps=1e-10, maximize=False, foreach=None, differentiable=False,
                                             fused=None)


def test_zero_grad():
    w = Parameter(fnp.ones(2))
    opt = optim.SGD([w], lr=0.1)
    w.grad = fnp.ones(2)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(np.asarray(w.grad), [0.0, 0.0])
    opt.zero_grad()
    assert w.grad is None


def test_step_with_closure_returns_the_loss():
    w = Parameter(fnp.array([3.0]))
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = fnp.sum(w * w)
        loss.backward()
        return loss

    with fnx.no_grad():  # the closure records anyway: step enables gradients for it
        loss = opt.step(closure)
    assert float(loss) == 9.0
    assert float(w.data[0]) == pytest.approx(3.0 - 0.25 * 6.0)


def test_state_lives_on_the_parameter_device_and_dtype():
    w = Parameter(fnp.ones(3, dtype="float32"))
    opt = optim.Adam([w], lr=0.1)
    w.grad = fnp.ones(3, dtype="float32")
    opt.step()
    s = opt.state[w]
    assert s["exp_avg"].device is w.device and s["exp_avg"].dtype == np.float32
    assert s["step"].device is w.device and w.data.dtype == np.float32


def test_state_follows_each_parameter_across_devices():
    # Virtual CPU devices exist only when FNX_CPU_DEVICES is set at import: run in a fresh interpreter.
    code = textwrap.dedent("""
        import fnx, fnx.numpy as fnp, fnx.optim as optim, fnx.nn.utils
        w, v = fnx.nn.Parameter(fnp.ones(3, device="cpu:1")), fnx.nn.Parameter(fnp.ones(2))
        for cls, kw in [(optim.Adam, dict(amsgrad=True)), (optim.SGD, dict(momentum=0.9)),
                        (optim.RMSprop, dict(centered=True, momentum=0.1)), (optim.Adagrad, {})]:
            opt = cls([w, v], **kw)
            for _ in range(2):
                opt.zero_grad()
                (fnp.sum(w * w) + fnp.sum(v * v).to("cpu:1")).backward()
                fnx.nn.utils.clip_grad_norm_([w, v], 0.1)
                opt.step()
            assert str(w.device) == "cpu:1" and str(v.device) == "cpu:0", (w.device, v.device)
            assert all(str(x.device) == "cpu:1" for x in opt.state[w].values()), opt.state[w]
            assert all(str(x.device) == "cpu:0" for x in opt.state[v].values()), opt.state[v]
        rule = optim.adam()
        params = {"a": fnp.ones(2, device="cpu:1"), "b": fnp.ones(2)}
        new, _ = rule.update(params, rule.init(params), params)
        assert str(new["a"].device) == "cpu:1" and str(new["b"].device) == "cpu:0"
    """)
    env = dict(os.environ, FNX_CPU_DEVICES="2")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    res = subprocess.run([sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr


def _train(opt, params, grads):
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = fnp.asarray(g)
        opt.step()


@pytest.mark.parametrize("cls,kw", [(optim.SGD, dict(lr=0.1, momentum=0.9)), (optim.Adam, dict(lr=0.1, amsgrad=True)),
                                    (optim.RMSprop, dict(centered=True)), (optim.Adagrad, dict(lr=0.1))])
def test_state_dict_round_trip(cls, kw):
    shapes = [(2,), (3,), (1,)]
    grads = _grads(1, shapes, steps=6)
    a = [Parameter(fnp.asarray(np.ones(s))) for s in shapes]
    opt_a = cls([{"params": a[:2]}, {"params": a[2:], "lr": 0.03}], **kw)
    _train(opt_a, a, grads[:3])
    sd = opt_a.state_dict()
    # PyTorch's layout: parameters numbered across groups, options beside them
    assert sorted(sd) == ["param_groups", "state"]
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["lr"] == 0.03 and sorted(sd["state"]) == [0, 1, 2]
    b = [Parameter(p.data) for p in a]
    opt_b = cls([{"params": b[:2]}, {"params": b[2:]}], **kw)
    opt_b.load_state_dict(sd)
    assert opt_b.param_groups[1]["lr"] == 0.03 and opt_b.param_groups[0]["params"][0] is b[0]
    # equal counts share one array again, so those parameters are updated together
    assert opt_b.state[b[0]]["step"] is opt_b.state[b[1]]["step"] is opt_b.state[b[2]]["step"]
    _train(opt_a, a, grads[3:])
    _train(opt_b, b, grads[3:])
    for p, q in zip(a, b):
        np.testing.assert_array_equal(np.asarray(p.data), np.asarray(q.data))


def test_load_state_dict_checks_and_casts():
    w = Parameter(fnp.ones(2))  # float32
    opt = optim.Adam([w])
    sd = {"state": {0: {"step": np.float32(3.0), "exp_avg": np.ones(2), "exp_avg_sq": np.ones(2)}},
          "param_groups": [dict(opt.defaults, params=[0], foreach=None)]}
    opt.load_state_dict(sd)
    s = opt.state[w]
    assert s["step"].dtype == np.int32 and int(s["step"]) == 3
    assert s["exp_avg"].dtype == np.float32 and isinstance(s["exp_avg"], fnx.Array)
    w.grad = fnp.ones(2)
    opt.step()
    assert int(opt.state[w]["step"]) == 4
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": []})
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict({"state": {}, "param_groups": [dict(opt.defaults, params=[0, 1])]})


def test_load_a_pytorch_sgd_state_without_step_count():
    w = Parameter(fnp.asarray(np.array([1.0])))
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    opt.load_state_dict({"state": {0: {"momentum_buffer": np.array([2.0])}},
                         "param_groups": [dict(opt.defaults, params=[0])]})
    w.grad = fnp.asarray(np.array([1.0]))
    opt.step()  # not a first step: buf = 0.9 * 2 + 1
    np.testing.assert_allclose(np.asarray(opt.state[w]["momentum_buffer"]), [2.8])
    np.testing.assert_allclose(np.asarray(w.data), [1.0 - 0.28])


def test_adagrad_state_exists_from_construction():
    w = Parameter(fnp.ones(2))
    sd = optim.Adagrad([w], initial_accumulator_value=0.5).state_dict()
    assert int(sd["state"][0]["step"]) == 0
    np.testing.assert_array_equal(np.asarray(sd["state"][0]["sum"]), [0.5, 0.5])


def test_repr_lists_groups():
    text = repr(optim.SGD([Parameter(fnp.zeros(1))], lr=0.1))
    assert text.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.1" in text


def test_linear_regression_converges_with_backward():
    rng = np.random.default_rng(0)
    X = fnp.asarray(rng.normal(size=(64, 3)).astype(np.float32))
    w_true, b_true = np.array([1.5, -2.0, 0.5], np.float32), 0.3
    y = X @ fnp.asarray(w_true) + b_true
    w, b = Parameter(fnp.zeros(3)), Parameter(fnp.zeros(()))
    opt = optim.SGD([w, b], lr=0.1, momentum=0.5)
    for _ in range(100):
        opt.zero_grad()
        loss = fnp.mean((X @ w + b - y) ** 2)
        loss.backward()
        opt.step()
    assert float(loss) < 1e-6
    np.testing.assert_allclose(np.asarray(w.data), w_true, atol=1e-3)
    assert float(b.data) == pytest.approx(b_true, abs=1e-3)
    assert w.data.dtype == np.float32 and type(w.primal) is fnx.Array


def test_adam_fits_too_with_a_scheduler():
    rng = np.random.default_rng(1)
    X = fnp.asarray(rng.normal(size=(32, 2)).astype(np.float32))
    y = X @ fnp.array([0.5, -1.0])
    w = Parameter(fnp.zeros(2))
    opt = optim.Adam([w], lr=0.1)
    sched = optim.lr_scheduler.StepLR(opt, step_size=100, gamma=0.1)
    for _ in range(300):
        opt.zero_grad()
        fnp.mean((X @ w - y) ** 2).backward()
        opt.step()
        sched.step()
    np.testing.assert_allclose(np.asarray(w.data), [0.5, -1.0], atol=1e-3)


def test_optimizer_takes_named_parameters_as_torch():
    torch = pytest.importorskip("torch")
    model, tmodel = fnx.nn.Linear(2, 1), torch.nn.Linear(2, 1)
    opt = fnx.optim.Adam([{"params": model.named_parameters(), "lr": 0.2}], lr=0.1)
    topt = torch.optim.Adam([{"params": tmodel.named_parameters(), "lr": 0.2}], lr=0.1)
    assert opt.param_groups[0]["param_names"] == topt.param_groups[0]["param_names"] == ["weight", "bias"]
    assert list(opt.param_groups[0])[:3] == list(topt.param_groups[0])[:3] == ["params", "lr", "param_names"]
    assert opt.param_groups[0]["params"] == [model.weight, model.bias]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]
    plain = fnx.optim.SGD(model.named_parameters(), lr=0.1)
    tplain = torch.optim.SGD(tmodel.named_parameters(), lr=0.1)
    assert list(plain.param_groups[0]) == list(tplain.param_groups[0])
    model(fnx.ones((3, 2))).sum().backward()
    before = np.asarray(model.weight).copy()
    plain.step()
    np.testing.assert_allclose(np.asarray(model.weight), before - 0.1 * 3, rtol=1e-6)


def test_sgd_state_dict_holds_pytorchs_keys_and_resumes_exactly():
    def step(model, opt):
        opt.zero_grad()
        (model(fnx.ones(1, 2)) ** 2).sum().backward()
        opt.step()
    fnx.manual_seed(0)
    model = fnx.nn.Linear(2, 2)
    opt = fnx.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    step(model, opt)
    step(model, opt)
    saved = opt.state_dict()
    assert sorted(saved["state"][0]) == ["momentum_buffer"]  # PyTorch's SGD keeps no step count
    twin = fnx.nn.Linear(2, 2)
    twin.load_state_dict(model.state_dict())
    twin_opt = fnx.optim.SGD(twin.parameters(), lr=0.1, momentum=0.9)
    twin_opt.load_state_dict(saved)
    step(model, opt)
    step(twin, twin_opt)
    np.testing.assert_array_equal(np.asarray(model.weight.data), np.asarray(twin.weight.data))


def test_step_hooks_run_around_every_optimizers_step_as_pytorch():
    w = Parameter(fnp.array([1.0, 2.0]))
    calls = []
    for cls in (optim.SGD, optim.LBFGS):
        opt = cls([w], lr=0.1)
        pre = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", type(o).__name__, len(args))))
        opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", type(o).__name__)))

        def closure():
            opt.zero_grad()
            loss = (w ** 2).sum()
            loss.backward()
            return loss
        closure()
        opt.step(closure)  # args as torch hands them: the optimizer, then the step's own
        pre.remove()
        opt.step(closure)
    assert calls == [("pre", "SGD", 2), ("post", "SGD"), ("post", "SGD"),
                     ("pre", "LBFGS", 2), ("post", "LBFGS"), ("post", "LBFGS")]

    def replace(o, args, kwargs):  # a pre-hook may replace the arguments
        return args, {"closure": None}
    opt = optim.SGD([w], lr=0.1)
    opt.register_step_pre_hook(replace)
    assert opt.step(closure=lambda: 1 / 0) is None  # the closure it replaced is never called
