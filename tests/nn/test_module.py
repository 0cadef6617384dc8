"""fnx.nn.Module and functional_call: PyTorch's registration and state semantics, and Modules under transforms.

Each test states one documented PyTorch behaviour (registration order and
names, strict ``load_state_dict`` reports, train/eval, hooks, reprs...) or one
way the functional core reaches a Module (``functional_call`` under ``grad``,
``vmap(grad)`` for per-example gradients, ``jvp(grad)`` for Hessian-vector
products), checked against plain numpy or a Python loop.
"""
import copy
from collections import OrderedDict

import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx import nn
from fnx.nn import Parameter


def _np(x):
    return np.asarray(x.detach() if hasattr(x, "detach") else x)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.scale = Parameter(fnp.ones(4))
        self.register_buffer("shift", fnp.zeros(4))
        self.register_buffer("scratch", fnp.zeros(2), persistent=False)
        self.fc2 = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc2(fnp.tanh(self.fc1(x) * self.scale + self.shift))


def _mlp(dtype=fnp.float64):
    fnx.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 2)).to(dtype)


# ----- registration -----------------------------------------------------------------------------


def test_registration_order_and_names():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in net.named_buffers()] == ["shift", "scratch"]
    assert [n for n, _ in net.named_children()] == ["fc1", "fc2"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "fc2"]
    assert list(net.state_dict()) == ["scale", "shift", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert net.get_submodule("fc2") is net.fc2 and net.get_parameter("fc1.bias") is net.fc1.bias


def test_reassignment_moves_between_tables():
    net = Net()
    net.fc1 = Parameter(fnp.zeros(1))  # a module slot becomes a parameter
    assert "fc1" not in net._modules and "fc1" in net._parameters
    with pytest.raises(TypeError, match="cannot assign Array as parameter 'scale'"):
        net.scale = fnp.ones(4)  # as in PyTorch: a parameter slot takes a Parameter or None
    net.shift = fnp.full(4, 2.0)  # buffers are rebound by assignment
    assert float(net.state_dict()["shift"][0]) == 2.0
    with pytest.raises(TypeError, match="cannot assign str as buffer 'shift'"):
        net.shift = "nope"
    net.fc2 = None
    assert [n for n, _ in net.named_children()] == []
    del net.shift
    assert "shift" not in net.state_dict()


def test_init_must_come_first():
    class Bad(nn.Module):
        def __init__(self):
            self.w = Parameter(fnp.ones(1))
    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Bad()


def test_shared_parameters_counted_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2
    assert [n for n, _ in seq.named_parameters(remove_duplicate=False)] == ["0.weight", "0.bias", "2.weight",
                                                                            "2.bias"]


# ----- state_dict / load_state_dict ---------------------------------------------------------------


def test_state_dict_roundtrip_keeps_parameter_identity():
    a, b = Net(), Net()
    w = b.fc1.weight
    b.load_state_dict(a.state_dict())
    assert b.fc1.weight is w
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb and np.array_equal(_np(va), _np(vb))
    x = fnp.ones((2, 3))
    np.testing.assert_array_equal(_np(a(x)), _np(b(x)))


def test_load_state_dict_strict_reports():
    net = Net()
    sd = net.state_dict()
    del sd["fc2.bias"]
    sd["extra.weight"] = fnp.zeros(1)
    with pytest.raises(RuntimeError) as err:
        net.load_state_dict(sd)
    msg = str(err.value)
    assert "Error(s) in loading state_dict for Net" in msg
    assert 'Missing key(s) in state_dict: "fc2.bias".' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight".' in msg
    res = net.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["fc2.bias"] and res.unexpected_keys == ["extra.weight"]


def test_load_state_dict_size_mismatch():
    net = Net()
    sd = net.state_dict()
    sd["fc1.weight"] = fnp.zeros((5, 3))
    with pytest.raises(RuntimeError, match=r"size mismatch for fc1.weight: copying a param with shape \(5, 3\)"):
        net.load_state_dict(sd, strict=False)


def test_load_state_dict_casts_to_parameter_dtype():
    lin = nn.Linear(2, 2)
    lin.load_state_dict({"weight": np.eye(2), "bias": np.zeros(2)})
    assert lin.weight.dtype == np.float32
    np.testing.assert_array_equal(_np(lin.weight), np.eye(2))


# ----- modes and bulk changes ---------------------------------------------------------------------


def test_train_eval_recursive():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5)))
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    x = fnp.ones((4, 2))
    np.testing.assert_array_equal(_np(model(x)), _np(model[0](x)))
    model.train()
    assert all(m.training for m in model.modules())
    with pytest.raises(ValueError, match="boolean"):
        model.train("yes")


def test_zero_grad():
    lin = nn.Linear(2, 1)
    fnp.sum(lin(fnp.ones((3, 2)))).backward()
    assert lin.weight.grad is not None
    lin.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(_np(lin.weight.grad), np.zeros((1, 2)))
    lin.zero_grad()
    assert lin.weight.grad is None and lin.bias.grad is None


def test_requires_grad_():
    lin = nn.Linear(2, 1)
    lin.requires_grad_(False)
    assert not any(p.requires_grad for p in lin.parameters())
    lin.bias.requires_grad_(True)
    fnp.sum(lin(fnp.ones((3, 2)))).backward()
    assert lin.weight.grad is None and float(lin.bias.grad[0]) == 3.0


def test_apply_visits_children_first():
    order = []
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 2)))
    model.apply(lambda m: order.append(type(m).__name__))
    assert order == ["Linear", "Linear", "Sequential", "Sequential"]

    def zero_linear(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros_(m.weight)
    model.apply(zero_linear)
    assert all(not _np(p).any() for n, p in model.named_parameters() if n.endswith("weight"))


def test_to_device_and_dtype():
    assert [str(d) for d in fnx.devices()][:2] == ["cpu:0", "cpu:1"]
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    w = model[0].weight
    fnp.sum(model(fnp.ones((4, 2)))).backward()
    assert model.to("cpu:1") is model and model[0].weight is w
    assert {str(p.device) for p in model.parameters()} == {"cpu:1"}
    assert {str(b.device) for b in model.buffers()} == {"cpu:1"}
    assert str(w.grad.device) == "cpu:1"
    with pytest.raises(fnx.errors.DeviceError, match="different devices"):
        model(fnp.ones((4, 2)))
    y = model(fnp.ones((4, 2), device="cpu:1"))
    assert str(y.device) == "cpu:1"
    model.to(fnp.float64)
    assert {p.dtype for p in model.parameters()} == {np.dtype("float64")}
    assert model[1].num_batches_tracked.dtype == np.int64  # only floating arrays are cast
    model.to(device="cpu:0", dtype=fnp.float32)
    assert {(str(p.device), p.dtype) for p in model.parameters()} == {("cpu:0", np.dtype("float32"))}
    model.to("float64")  # a dtype by name
    assert {p.dtype for p in model.parameters()} == {np.dtype("float64")}
    with pytest.raises(RuntimeError, match=r"Sequential.to: 'meta' is neither a device .* nor a dtype"):
        model.to("meta")


def test_deepcopy_is_independent():
    a = nn.Linear(2, 2)
    b = copy.deepcopy(a)
    assert b.weight is not a.weight
    nn.init.zeros_(b.weight)
    assert _np(a.weight).any()


# ----- printing ----------------------------------------------------------------------------------


def test_nested_repr_like_pytorch():
    model = nn.Sequential(OrderedDict(
        conv=nn.Conv2d(1, 4, 3, padding=1),
        block=nn.Sequential(nn.BatchNorm2d(4), nn.ReLU()),
        head=nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4), nn.Dropout(0.1)]),
    ))
    assert repr(model) == (
        "Sequential(\n"
        "  (conv): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n"
        "  (block): Sequential(\n"
        "    (0): BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)\n"
        "    (1): ReLU()\n"
        "  )\n"
        "  (head): ModuleList(\n"
        "    (0-1): 2 x Linear(in_features=4, out_features=4, bias=True)\n"
        "    (2): Dropout(p=0.1, inplace=False)\n"
        "  )\n"
        ")")
    assert repr(Net()) == ("Net(\n  (fc1): Linear(in_features=3, out_features=4, bias=True)\n"
                           "  (fc2): Linear(in_features=4, out_features=2, bias=True)\n)")


# ----- hooks ---------------------------------------------------------------------------------------


def test_forward_hooks_and_removal():
    lin = nn.Linear(2, 2)
    seen = []
    h1 = lin.register_forward_pre_hook(lambda m, args: seen.append(("pre", args[0].shape)))
    h2 = lin.register_forward_hook(lambda m, args, out: seen.append(("post", out.shape)))
    x = fnp.ones((3, 2))
    lin(x)
    assert seen == [("pre", (3, 2)), ("post", (3, 2))]
    h1.remove()
    h2.remove()
    lin(x)
    assert len(seen) == 2


def test_forward_hooks_prepend_and_always_call_as_pytorch():
    m, calls = nn.Linear(2, 2), []
    m.register_forward_hook(lambda mod, a, o: calls.append("a"))
    m.register_forward_hook(lambda mod, a, o: calls.append("b"), prepend=True)
    m.register_forward_hook(lambda mod, a, o: calls.append(("c", o)), always_call=True)
    m.register_forward_pre_hook(lambda mod, a: calls.append("pre"))
    m.register_forward_pre_hook(lambda mod, a: calls.append("pre0"), prepend=True)
    m(fnp.ones(2))
    assert calls[:4] == ["pre0", "pre", "b", "a"]
    calls.clear()
    with pytest.raises(ValueError):  # forward fails: only the always_call hook runs, given None, and it re-raises
        m(fnp.ones(3))
    assert calls == ["pre0", "pre", ("c", None)]


def test_hooks_replace_args_and_output():
    lin = nn.Linear(2, 2)
    x = fnp.ones((3, 2))
    with lin.register_forward_pre_hook(lambda m, args: (args[0] * 0.0,)):
        np.testing.assert_allclose(_np(lin(x)), np.broadcast_to(_np(lin.bias), (3, 2)))
    with lin.register_forward_hook(lambda m, args, out: out * 0.0):
        assert not _np(lin(x)).any()
    got = []
    h = lin.register_forward_pre_hook(lambda m, args, kwargs: got.append(sorted(kwargs)), with_kwargs=True)
    lin(input=x)
    h.remove()
    assert got == [["input"]]
    np.testing.assert_allclose(_np(lin(x)), _np(x) @ _np(lin.weight).T + _np(lin.bias), rtol=1e-6)


# ----- functional_call and transforms --------------------------------------------------------------


def _params(model):
    return {k: v.detach() for k, v in model.named_parameters()}


def test_functional_call_is_pure_and_strict():
    model = _mlp()
    p = {k: v * 0.0 for k, v in _params(model).items()}
    x = fnp.ones((2, 3), dtype=fnp.float64)
    assert not _np(nn.functional_call(model, p, (x,))).any()
    assert _np(model[0].weight).any()
    # a name the module lacks is ignored, as PyTorch's functional_call ignores it, unless strict
    assert not _np(nn.functional_call(model, dict(p, nope=fnp.ones(1)), (x,))).any()
    with pytest.raises(RuntimeError, match=r"unexpected keys \['nope'\]"):
        nn.functional_call(model, dict(p, nope=fnp.ones(1)), (x,), strict=True)
    with pytest.raises(RuntimeError, match="missing keys"):
        nn.functional_call(model, {"0.weight": p["0.weight"]}, (x,), strict=True)


def test_backward_equals_grad_of_functional_call():
    model = _mlp()
    x = fnp.asarray(np.random.default_rng(0).standard_normal((6, 3)))
    y = fnp.asarray(np.random.default_rng(1).standard_normal((6, 2)))
    nn.MSELoss()(model(x), y).backward()
    g = fnx.grad(lambda p: nn.MSELoss()(nn.functional_call(model, p, (x,)), y))(_params(model))
    for name, param in model.named_parameters():
        np.testing.assert_allclose(_np(param.grad), _np(g[name]), rtol=1e-12, atol=1e-14)


def test_per_example_gradients_with_vmap_grad():
    model = _mlp()
    rng = np.random.default_rng(2)
    x, y = fnp.asarray(rng.standard_normal((5, 3))), fnp.asarray(rng.standard_normal((5, 2)))

    def loss(p, xi, yi):
        return fnp.sum((nn.functional_call(model, p, (xi,)) - yi) ** 2)
    per = fnx.vmap(fnx.grad(loss), in_axes=(None, 0, 0))(_params(model), x, y)
    for i in range(5):
        model.zero_grad()
        loss({k: v for k, v in model.named_parameters()}, x[i], y[i]).backward()
        for name, param in model.named_parameters():
            assert per[name].shape == (5,) + param.shape
            np.testing.assert_allclose(_np(per[name][i]), _np(param.grad), rtol=1e-12, atol=1e-14)


def test_hessian_vector_product_via_jvp_of_grad():
    model = _mlp()
    rng = np.random.default_rng(3)
    x, y = fnp.asarray(rng.standard_normal((4, 3))), fnp.asarray(rng.standard_normal((4, 2)))
    p = _params(model)
    v = {k: fnp.asarray(rng.standard_normal(a.shape)) for k, a in p.items()}

    def loss(q):
        return nn.MSELoss()(nn.functional_call(model, q, (x,)), y)
    hvp = fnx.jvp(fnx.grad(loss), (p,), (v,))[1]
    eps = 1e-5
    plus = fnx.grad(loss)({k: p[k] + eps * v[k] for k in p})
    minus = fnx.grad(loss)({k: p[k] - eps * v[k] for k in p})
    for k in p:
        np.testing.assert_allclose(_np(hvp[k]), (_np(plus[k]) - _np(minus[k])) / (2 * eps), rtol=1e-6, atol=1e-9)


def test_grad_of_a_module_pytree():
    model = _mlp()
    x = fnp.ones((2, 3), dtype=fnp.float64)
    g = fnx.grad(lambda m: fnp.sum(m(x) ** 2))(model)
    assert type(g) is nn.Sequential
    ref = fnx.grad(lambda p: fnp.sum(nn.functional_call(model, p, (x,)) ** 2))(_params(model))
    np.testing.assert_allclose(_np(g[0].weight), _np(ref["0.weight"]), rtol=1e-12)


def test_functional_call_leaves_batchnorm_buffers_alone():
    bn = nn.BatchNorm1d(2)
    x = fnp.asarray(np.random.default_rng(4).standard_normal((8, 2)).astype(np.float32))
    p = _params(bn)
    fnx.grad(lambda q: fnp.sum(nn.functional_call(bn, q, (x,)) ** 2))(p)
    np.testing.assert_array_equal(_np(bn.running_mean), np.zeros(2))
    assert int(bn.num_batches_tracked) == 0


def test_submodule_and_buffer_paths_and_torch_shims():
    import fnx
    import fnx.nn as nn
    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    assert net.get_buffer("1.running_mean").shape == (3,)
    with pytest.raises(AttributeError, match="no buffer 'nope'"):
        net.get_buffer("1.nope")
    net.set_submodule("0", nn.Linear(2, 3, bias=False))
    assert net[0].bias is None  # replaced in its place: a name registered again keeps its position
    lin = nn.Linear(2, 2)
    lin.register_parameter("weight", nn.Parameter(fnx.numpy.zeros((2, 2))))
    assert [k for k, _ in lin.named_parameters()] == ["weight", "bias"]
    with pytest.raises(AttributeError, match="strict=True"):
        net.set_submodule("9", nn.ReLU(), strict=True)
    net.set_submodule("9", nn.ReLU())
    assert isinstance(net.get_submodule("9"), nn.ReLU)
    assert net.type(fnx.float64) is net and net[0].weight.dtype == fnx.float64
    assert net.share_memory() is net and net.to_empty(device="cpu") is net and net.compile() is None


def test_a_hand_written_sgd_step_updates_the_parameters_in_place():
    # The PyTorch idiom: without in-place operators on Parameters, `p -= ...` would rebind the loop variable
    # and leave the model untouched, silently.
    torch_like = fnx.nn.Linear(3, 2)
    reference = fnx.nn.Linear(3, 2)
    reference.load_state_dict(torch_like.state_dict())
    opt = fnx.optim.SGD(reference.parameters(), lr=0.1)
    x = fnp.asarray(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32))
    weight = torch_like.weight
    for _ in range(3):
        fnp.sum(torch_like(x) ** 2).backward()
        with fnx.no_grad():
            for p in torch_like.parameters():
                p -= 0.1 * p.grad
                p.grad = None
        opt.zero_grad()
        fnp.sum(reference(x) ** 2).backward()
        opt.step()
    assert torch_like.weight is weight
    for a, b in zip(torch_like.parameters(), reference.parameters()):
        np.testing.assert_allclose(np.asarray(a.detach()), np.asarray(b.detach()), rtol=1e-6)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        torch_like.weight -= 1.0


def test_parameter_in_place_methods_keep_dtype_shape_and_identity():
    p = fnx.nn.Parameter(fnp.asarray([[1.0, -2.0], [3.0, 4.0]], dtype="float32"))
    with fnx.no_grad():
        assert p.mul_(2) is p and p.add_(fnp.ones(2), alpha=0.5) is p
        np.testing.assert_allclose(np.asarray(p.detach()), [[2.5, -3.5], [6.5, 8.5]])
        p.sub_(fnp.asarray([1.0, 1.0], dtype="float64"))  # a float64 operand: the parameter stays float32
        assert p.dtype == np.float32
        p.div_(2.0)
        p.clamp_(min=0.0)
        np.testing.assert_allclose(np.asarray(p.detach()), [[0.75, 0.0], [2.75, 3.75]])
        p[0, 1] = 9.0
        p *= 2
        p += 1
        p /= 2
        np.testing.assert_allclose(np.asarray(p.detach()), [[1.25, 9.5], [3.25, 4.25]])
        p.copy_(fnp.asarray([5.0, 6.0]))
        np.testing.assert_allclose(np.asarray(p.detach()), [[5.0, 6.0], [5.0, 6.0]])
        p.fill_(3.0)
        assert float(fnp.sum(p.detach())) == 12.0
        p.zero_()
        assert float(fnp.sum(fnp.abs(p.detach()))) == 0.0
        with pytest.raises(ValueError, match="does not fit the parameter's shape"):
            p += fnp.ones((3, 2, 2))
        counts = fnx.nn.Parameter(fnp.asarray([1, 2]), requires_grad=False)
        with pytest.raises(TypeError, match="can't be cast"):
            counts *= 0.5
        fnx.manual_seed(0)
        p.normal_(1.0, 0.0)  # std 0: every entry is the mean
        np.testing.assert_allclose(np.asarray(p.detach()), np.ones((2, 2)))
        p.uniform_(2.0, 2.0)
        np.testing.assert_allclose(np.asarray(p.detach()), np.full((2, 2), 2.0))
    with pytest.raises(RuntimeError, match="leaf Variable"):
        p.normal_()
    x = fnp.ones(2)
    with pytest.raises(fnx.errors.InPlaceError, match="x = x \\* 2 rather than x.mul_\\(2\\)"):
        x.mul_(2)
    with pytest.raises(AttributeError, match="fnx.nn.init.normal_"):  # an AttributeError too, as in code probing
        x.normal_(0.0, 0.02)


def test_a_requires_grad_tensor_is_no_module_parameter_as_in_pytorch():
    import fnx

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.h0 = fnx.zeros(2, requires_grad=True)  # an attribute in PyTorch, not a parameter
            self.w = nn.Parameter(fnp.ones(2))

        def forward(self, x):
            return (x * self.w + self.h0).sum()
    m = M()
    assert [n for n, _ in m.named_parameters()] == ["w"] and list(m.state_dict()) == ["w"]
    m(fnp.ones(2)).backward()
    assert m.h0.grad.tolist() == [1.0, 1.0] and m.w.grad.tolist() == [1.0, 1.0]
    assert repr(fnx.tensor([1.0], requires_grad=True)) == "Array([1.], dtype=float32, requires_grad=True)"
    assert type(nn.Parameter(fnx.tensor([1.0], requires_grad=True))) is nn.Parameter


def test_extra_state_is_saved_and_loaded_as_pytorch(tmp_path):
    import fnx

    class Tagged(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.config = {"k": 1}

        def get_extra_state(self):
            return {"k": self.config["k"], "name": "x"}

        def set_extra_state(self, state):
            self.config = dict(state)

    class Outer(nn.Module):
        def __init__(self):
            super().__init__()
            self.m = Tagged()
    model = Outer()
    model.m.config = {"k": 5}
    state = model.state_dict()
    assert list(state) == ["m._extra_state", "m.lin.weight", "m.lin.bias"]  # torch 2.14's keys, in its order
    fnx.save(state, tmp_path / "c.safetensors")
    fresh = Outer()
    fresh.load_state_dict(fnx.load(tmp_path / "c.safetensors"))
    assert fresh.m.config == {"k": 5, "name": "x"}
    del state["m._extra_state"]
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "m._extra_state"'):
        Outer().load_state_dict(state)
    assert "_extra_state" not in " ".join(nn.Linear(2, 2).state_dict())  # none without the override


def test_register_buffer_refuses_what_pytorch_refuses():
    m = nn.Linear(2, 2)
    for name in ("weight", "a.b", ""):  # a parameter's name, a submodule path, nothing: KeyError, as in PyTorch
        with pytest.raises(KeyError):
            m.register_buffer(name, fnp.zeros(2))
    with pytest.raises(TypeError, match="cannot assign 'float' object to buffer 'c'"):
        m.register_buffer("c", 3.0)
    m.register_buffer("d", None)
    m.register_buffer("e", fnp.zeros(1))
    m.register_buffer("e", fnp.ones(1))  # registering a buffer again replaces it
    assert float(m.e[0]) == 1.0 and "weight" in dict(m.named_parameters())


def test_buffer_assigned_to_an_attribute_registers_it_as_torch():
    torch = pytest.importorskip("torch")

    def build(lib, make):
        class Stats(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.mean = lib.nn.Buffer(make([0.0, 1.0]))
                self.scratch = lib.nn.Buffer(make([2.0]), persistent=False)
        return Stats()
    ours, theirs = build(fnx, fnp.asarray), build(torch, torch.tensor)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["mean"]
    assert [n for n, _ in ours.named_buffers()] == [n for n, _ in theirs.named_buffers()] == ["mean", "scratch"]
    assert type(ours._buffers["mean"]) is fnx.Array and ours.mean.tolist() == [0.0, 1.0]
    ours.scratch, theirs.scratch = fnx.nn.Buffer(fnp.ones(3)), torch.nn.Buffer(torch.ones(3))  # persistent now
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["mean", "scratch"]
    assert ours.to(fnp.float64).mean.dtype == np.float64
    assert (fnx.nn.Buffer(fnp.ones(2)) + 1).tolist() == [2.0, 2.0] and fnx.nn.Buffer().shape == (0,)


def test_in_place_updates_of_buffers_write_into_the_module_as_torch():
    # MoCo's key queue and an EMA kept as buffers, updated in place as PyTorch code does.
    torch = pytest.importorskip("torch")

    def build(lib, zeros, ones):
        class Queue(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("queue", zeros((2, 6)))
                self.register_buffer("ptr", zeros(1, dtype=lib.int64))
                self.register_buffer("ema", ones(2))
                self.register_buffer("steps", zeros((), dtype=lib.int64))

            def enqueue(self, keys):
                p = self.ptr.item()
                self.queue[:, p:p + keys.shape[0]] = keys.T
                self.ptr[0] = (p + keys.shape[0]) % 6
                with lib.no_grad():
                    self.ema.mul_(0.9).add_(keys.mean(0), alpha=0.1)
                self.steps += 1
        return Queue()
    ours, theirs = build(fnx, fnp.zeros, fnp.ones), build(torch, torch.zeros, torch.ones)
    for k in (1.0, 2.0, 3.0):
        ours.enqueue(fnp.full((2, 2), k) + fnp.asarray([[0.0, 1.0], [2.0, 3.0]]))
        theirs.enqueue(torch.full((2, 2), k) + torch.tensor([[0.0, 1.0], [2.0, 3.0]]))
    for (name, a), (_, b) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_allclose(np.asarray(a), b.numpy(), rtol=1e-6, err_msg=name)
    for b in ours.buffers():  # buffers() hands out the buffers themselves, as torch's
        b.zero_()
    assert not any(np.any(np.asarray(v)) for v in ours.state_dict().values())
    copy_of_view = ours.ema  # assigning a view elsewhere takes its value, not a link
    other = build(fnx, fnp.zeros, fnp.ones)
    other.ema = copy_of_view
    ours.ema.add_(1.0)
    assert np.asarray(other.ema).tolist() == [0.0, 0.0] and np.asarray(ours.ema).tolist() == [1.0, 1.0]


def test_names_are_checked_as_pytorch_checks_them():
    # A dotted name would read as a submodule's path in state_dict, so the model could not reload itself.
    with pytest.raises(KeyError, match=r'module name can.*contain ".", got: v1\.0'):
        nn.ModuleDict({"v1.0": nn.Linear(2, 2)})
    layer = nn.Linear(1, 1)
    for name, error in (("a.b", KeyError), ("", KeyError), (3, TypeError), ("weight", KeyError)):
        with pytest.raises(error):
            layer.add_module(name, nn.Linear(1, 1))
    with pytest.raises(KeyError, match=r"parameter name can.*contain"):
        layer.register_parameter("x.y", nn.Parameter(fnp.ones(1)))
    with pytest.raises(KeyError, match="attribute 'bias' already exists"):
        layer.register_buffer("bias", fnp.ones(1))
    layer.register_parameter("bias", None)  # its own name again is fine
    assert [n for n, _ in layer.named_parameters()] == ["weight"]


def test_sequential_repeats_its_layers_with_star():
    seq = nn.Sequential(nn.Linear(1, 1), nn.ReLU())
    twice = seq * 2
    assert len(twice) == 4 and twice[0] is twice[2] and len(2 * seq) == 4  # the same modules, as torch's
    seq *= 3
    assert len(seq) == 6 and seq[4] is seq[0]
    with pytest.raises(ValueError, match="non-positive"):
        seq * 0
    with pytest.raises(TypeError):
        seq * 1.5


def test_a_subclass_load_from_state_dict_renames_its_entries_as_in_pytorch():
    # The migration pattern of PyTorch libraries: rewrite old key names, then let the base class load.
    seen = []

    class Renamed(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(2, 2)

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                  error_msgs):
            seen.append(prefix)
            for old, new in (("w", "proj.weight"), ("b", "proj.bias")):
                if prefix + old in state_dict:
                    state_dict[prefix + new] = state_dict.pop(prefix + old)
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                          error_msgs)

    model = nn.Sequential(Renamed())
    old = {"0.w": fnp.ones((2, 2)), "0.b": fnp.full(2, 3.0)}
    assert not model.load_state_dict(old).missing_keys and seen == ["0."]
    assert model[0].proj.weight.tolist() == [[1, 1], [1, 1]] and model[0].proj.bias.tolist() == [3, 3]
    assert list(old) == ["0.w", "0.b"]  # the caller's dict is left as it was
