"""Placement semantics, on the two virtual CPU devices the test session creates (and CUDA where usable)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx.errors import DeviceError

pytestmark = pytest.mark.skipif(len(fnx.devices("cpu")) < 2, reason="needs FNX_CPU_DEVICES=2 (set by conftest.py)")
D0, D1 = (fnx.devices("cpu") + [None, None])[:2]


def test_devices_and_names():
    assert [str(d) for d in fnx.devices("cpu")] == ["cpu:0", "cpu:1"]
    assert fnx.device("cpu") is D0 and fnx.device("cpu:1") is D1
    assert (D1.platform, D1.id, str(D1)) == ("cpu", 1, "cpu:1")
    with pytest.raises(DeviceError, match="not available.*cpu:0, cpu:1"):
        fnx.device("cpu:7")
    with pytest.raises(ValueError, match="not a device name"):
        fnx.device("tpu:0")


def test_cupy_absent_or_present_never_breaks_import():
    code = "import fnx; print([str(d) for d in fnx.devices()])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "FNX_CPU_DEVICES": "3"}, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("['cpu:0', 'cpu:1', 'cpu:2'")


def test_computation_follows_data():
    x = fnx.device_put(fnp.arange(3.0), D1)
    assert x.device is D1
    for y in (x + 1.0, x * x, fnp.sin(x), fnp.sum(x), x[1:], x @ fnp.ones(3, device=D1), fnp.sort(x),
              x.reshape(3, 1), fnp.where(x > 1.0, x, 0.0), x + np.ones(3)):
        assert y.device is D1, y


def test_mixing_devices_is_an_error_naming_both():
    a, b = fnp.ones(2), fnx.device_put(fnp.ones(2), D1)
    with pytest.raises(DeviceError, match=r"add: operands are on different devices \(cpu:0 and cpu:1\)"):
        a + b
    with pytest.raises(ValueError):
        fnp.matmul(a, b)


def test_reverse_mode_follows_data_and_refuses_mixed_devices():
    # reverse mode evaluates CPU operations itself (not through eval_primitive): same rules
    x = fnx.device_put(fnp.array([0.5, -1.0, 2.0]), D1)
    value, g = fnx.value_and_grad(lambda v: fnp.sum(fnp.sin(v) * 1.5 + v * v))(x)
    assert value.device is D1 and g.device is D1
    np.testing.assert_allclose(np.asarray(g), 1.5 * np.cos([0.5, -1.0, 2.0]) + 2 * np.array([0.5, -1.0, 2.0]),
                               rtol=1e-6)
    with pytest.raises(DeviceError, match=r"multiply: operands are on different devices \(cpu:0 and cpu:1\)"):
        fnx.grad(lambda v: fnp.sum(v * fnp.ones(3)))(x)


def test_device_put_copies_and_is_a_no_op_when_there():
    x = fnp.ones(2)
    assert fnx.device_put(x, D0) is x
    assert x.to(D0) is x
    tree = fnx.device_put({"a": x, "b": [np.zeros(2), 3.0]}, "cpu:1")
    assert all(leaf.device is D1 for leaf in fnx.tree.leaves(tree))


def test_default_device_for_creation_and_scalars():
    with fnx.default_device("cpu:1"):
        assert fnx.default_device() is D1
        for a in (fnp.zeros(2), fnp.ones(2), fnp.arange(3), fnp.eye(2), fnp.array([1.0]), fnp.full(2, 3.0),
                  fnp.linspace(0, 1, 3), fnx.random.normal(fnx.random.key(0), (2,))):
            assert a.device is D1, a
    assert fnp.zeros(2).device is D0
    assert fnp.zeros_like(fnx.device_put(fnp.ones(2), D1)).device is D1


def test_gradients_land_on_the_inputs_device():
    x = fnp.array([1.0, 2.0])
    g = fnx.grad(lambda a: fnp.sum(fnx.device_put(a, D1) ** 2))(x)
    assert g.device is D0
    np.testing.assert_allclose(np.asarray(g), [2.0, 4.0])
    _, t = fnx.jvp(lambda a: fnx.device_put(a, D1) * 3.0, (x,), (fnp.ones(2),))
    assert t.device is D1


def test_on_device_composes_with_grad_vmap_and_itself():
    f = lambda a: fnp.sum(fnp.sin(a) * fnp.ones(a.shape))
    x = fnp.array([0.1, 0.2])
    g = fnx.grad(fnx.on_device(f, D1))(x)
    assert g.device is D0
    np.testing.assert_allclose(np.asarray(g), np.cos([0.1, 0.2]), rtol=1e-6)
    g = fnx.on_device(fnx.grad(f), D1)(x)
    assert g.device is D1
    out = fnx.vmap(fnx.on_device(f, D1))(fnp.ones((3, 2)))
    assert out.shape == (3,) and out.device is D1
    out = fnx.on_device(fnx.vmap(f), D1)(fnp.ones((3, 2)))
    assert out.device is D1
    nested = fnx.on_device(fnx.on_device(lambda a: a * 2.0, D1), D0)(x)
    assert nested.device is D0  # the outer placement returns its outputs on its device
    h = fnx.hessian(fnx.on_device(f, D1))(x)
    assert h.shape == (2, 2)


def test_module_to_and_optimizer_state_follow_parameters():
    lin = fnx.nn.Module()
    lin.w = fnx.nn.Parameter(fnp.ones(2))
    lin.register_buffer("stat", fnp.zeros(2))
    lin.to("cpu:1")
    assert lin.w.device is D1 and lin.stat.device is D1
    opt = fnx.optim.Adam(lin.parameters(), lr=0.1)
    fnp.sum(lin.w * 2.0).backward()
    assert lin.w.grad.device is D1
    opt.step()
    assert lin.w.device is D1
    assert all(v.device is D1 for v in fnx.tree.leaves(opt.state_dict()["state"]) if isinstance(v, fnx.Array))


@pytest.mark.gpu
@pytest.mark.skipif(not fnx.devices("cuda"), reason="no usable CUDA GPU (cupy missing or no device)")
def test_cuda_round_trip_and_gradients():
    gpu = fnx.devices("cuda")[0]
    x = fnp.array([1.0, 2.0, 3.0])
    y = fnx.device_put(x, gpu)
    assert y.device is gpu
    np.testing.assert_allclose(np.asarray(fnx.device_put(y * 2.0, "cpu")), [2.0, 4.0, 6.0])
    g = fnx.grad(lambda a: fnp.sum(fnx.device_put(a, gpu) ** 2))(x)
    assert g.device is D0
    k = fnx.random.key(3)
    np.testing.assert_array_equal(np.asarray(fnx.random.bits(fnx.device_put(k, gpu), (5,))),
                                  np.asarray(fnx.random.bits(k, (5,))))
    y = x.cuda()  # PyTorch's names: .cuda(), .cpu(), and .numpy() only on the host
    assert y.device is gpu and x.cuda(0).device is gpu and x.cuda("cuda:0").device is gpu
    with pytest.raises(DeviceError, match=r"numpy\(\).*\.cpu\(\)"):
        y.numpy()
    np.testing.assert_array_equal(y.cpu().numpy(), [1.0, 2.0, 3.0])
    fnx.cuda.synchronize()
    assert fnx.cuda.is_available() and fnx.cuda.device_count() == len(fnx.devices("cuda"))


def test_pytorch_style_placement_methods():
    x = fnx.device_put(fnp.array([1.0, -2.0]), D1)
    back = x.cpu()
    assert back.device is D0 and back.cpu() is back  # already there: itself
    a = x.numpy()
    assert isinstance(a, np.ndarray) and a.tolist() == [1.0, -2.0] and not a.flags.writeable
    g = fnx.grad(lambda v: fnp.sum(fnx.device_put(v, D1).cpu() ** 2))(fnp.array([1.0, 3.0]))
    assert g.device is D0 and g.tolist() == [2.0, 6.0]
    assert fnx.cuda.is_available() == bool(fnx.devices("cuda"))
    assert fnx.cuda.device_count() == len(fnx.devices("cuda"))
    if not fnx.devices("cuda"):
        with pytest.raises(DeviceError, match="cuda:0.*not available"):
            x.cuda()
        with pytest.raises(DeviceError, match="not available"):
            fnx.cuda.synchronize()


def test_on_device_returns_every_array_output_on_its_device():
    w = fnp.ones(2, device=D0)
    out = fnx.on_device(lambda a: {"in": a, "captured": w, "moved": fnx.device_put(a, D0), "n": 3}, D1)(fnp.ones(2))
    assert out["in"].device == D1 and out["captured"].device == D1 and out["moved"].device == D1 and out["n"] == 3
    nested = fnx.on_device(lambda a: fnx.on_device(lambda b: b * 2.0, D0)(a), D1)(fnp.ones(2, device=D0))
    assert nested.device == D1
    g = fnx.grad(lambda x: fnp.sum(fnx.device_put(fnx.on_device(lambda a: a * 2.0, D1)(x), D0)))(fnp.ones(2))
    assert g.device == D0 and np.allclose(np.asarray(g), 2.0)


def test_jit_refuses_mixed_devices_as_eager_does_and_keys_the_default_device():
    a, b = fnp.ones(3), fnp.ones(3, device=D1)
    for f, args in ((lambda x, y: x + y, (a, b)), (lambda x: x @ b, (a,))):
        with pytest.raises(DeviceError, match=r"operands are on different devices \(cpu:0 and cpu:1\)"):
            fnx.jit(f)(*args)
    assert fnx.jit(lambda x: fnx.device_put(x, D1) + b)(a).device is D1  # an explicit transfer is fine
    made = fnx.jit(lambda: fnp.zeros(3))
    assert made().device is D0
    with fnx.default_device(D1):
        assert made().device is D1  # a new default device retraces: created arrays land there


def test_default_device_blocks_belong_to_their_thread():
    import threading
    entered, release, seen = threading.Event(), threading.Event(), {}

    def worker():
        with fnx.default_device(D1):
            entered.set()
            release.wait()
            seen["worker"] = fnp.zeros(1).device

    thread = threading.Thread(target=worker)
    thread.start()
    entered.wait()
    seen["main"] = fnp.zeros(1).device  # while the worker is inside its block
    release.set()
    thread.join()
    assert seen == {"worker": D1, "main": D0} and fnx.default_device() is D0


def test_torch_device_forms_context_and_process_default():
    assert fnx.device("cpu", 1) is D1 and fnx.device(type="cpu", index=1) is D1
    if not fnx.devices("cuda"):
        with pytest.raises(DeviceError, match="'cuda:0' is not available"):
            fnx.device(0)  # a bare int is a GPU's number, as in PyTorch
    with fnx.device("cpu:1"):
        assert fnp.zeros(2).device is D1 and fnx.get_default_device() is D1
        with fnx.device("cpu:0"):
            assert fnp.zeros(2).device is D0
        assert fnp.zeros(2).device is D1
    assert fnp.zeros(2).device is D0
    fnx.set_default_device("cpu:1")
    try:
        assert fnp.ones(1).device is D1 and fnx.get_default_device() is D1
    finally:
        fnx.set_default_device(None)
    assert fnp.ones(1).device is D0
    assert fnx.devices("gpu") == fnx.devices("cuda") and fnx.devices("cpu") == [D0, D1]
    with pytest.raises(RuntimeError, match="unknown backend 'tpu'"):
        fnx.devices("tpu")


def test_module_to_a_tensor_takes_its_device_and_dtype_and_refuses_unknown_keywords():
    import fnx.nn as nn
    x = fnx.device_put(fnp.ones(2, dtype="float64"), D1)
    for moved in (nn.Linear(2, 2).to(x), nn.Linear(2, 2).to(tensor=x)):
        assert {(p.device, str(p.dtype)) for p in moved.parameters()} == {(D1, "float64")}
    assert {p.device for p in nn.Linear(2, 2).to("cpu:1", non_blocking=True).parameters()} == {D1}
    with pytest.raises(TypeError, match="unexpected keyword"):
        nn.Linear(2, 2).to(devce="cpu:1")


def test_functions_build_their_constants_on_the_datas_device():
    """Masks, index ranges, fill values and numpy or Python operands that a function makes for itself land on
    its data's device, with no default-device block around the call (a model moved with ``.to("cuda")``)."""
    import fnx.nn.functional as F
    rng = np.random.default_rng(0)
    x = fnx.device_put(fnp.asarray(rng.standard_normal((3, 4)).astype(np.float32)), D1)
    prob = fnx.device_put(fnp.full((3, 4), 0.3), D1)
    idx = fnx.device_put(fnp.asarray(np.array([0, 2])), D1)
    calls = {
        "tril": lambda x: fnp.tril(x), "triu": lambda x: fnp.triu(x, 1), "diag": lambda x: fnp.diag(x[0]),
        "pad": lambda x: fnp.pad(x, ((1, 0), (0, 2)), constant_values=3.0), "median": lambda x: fnp.median(x),
        "quantile": lambda x: fnp.quantile(x, 0.3), "nan_to_num": lambda x: fnp.nan_to_num(x),
        "isclose": lambda x: x * fnp.isclose(x, 0.0), "heaviside": lambda x: x * fnp.heaviside(x, 0.5),
        "ldexp": lambda x: fnp.ldexp(x, 2), "float_power": lambda x: fnp.float_power(x, 2.0),
        "at_set": lambda x: x.at[0, 1].set(5.0), "at_add": lambda x: x.at[idx].add(1.0),
        "at_min": lambda x: x.at[0].min(0.0), "masked_fill": lambda x: x.masked_fill(x > 0, 0.0),
        "topk": lambda x: fnx.topk(x, 2)[0], "cummax": lambda x: fnx.cummax(x, 1)[0],
        "kthvalue": lambda x: fnx.kthvalue(x, 2)[0], "median_dim": lambda x: fnx.median(x, 1)[0],
        "lerp": lambda x: fnx.lerp(x, x * 2.0, 0.3), "diag_embed": lambda x: fnx.diag_embed(x),
        "block_diag": lambda x: fnx.block_diag(x, x), "histc": lambda x: x * fnx.histc(x, 4)[0],
        "scatter": lambda x: x.scatter(1, fnx.device_put(fnp.zeros((3, 1), "int64"), D1), 1.0),
        "index_fill": lambda x: x.index_fill(1, idx, 0.0),
        "sdpa_causal": lambda x: F.scaled_dot_product_attention(x[None], x[None], x[None], is_causal=True),
        "matrix_exp": lambda x: fnx.linalg.matrix_exp(x[:, :3] * 0.1),
        "householder": lambda x: fnx.linalg.householder_product(x.T, x[0, :3]),
        "dynamic_slice": lambda x: fnx.lax.dynamic_slice(x, (1, 0), (2, 2)),
        "dynamic_update_slice": lambda x: fnx.lax.dynamic_update_slice(x, x[:1, :2] * 3.0, (1, 1)),
        "scan_python_init": lambda x: fnx.lax.scan(lambda c, r: (c + r.sum(), r * c), 0.0, x)[1],
        "matrix_rank": lambda x: x * fnp.linalg.matrix_rank(x),
        "norm_logpdf": lambda x: fnx.scipy.stats.norm.logpdf(x),
        "torch_zeta": lambda x: fnx.special.zeta(3.0, x * x + 1.0),
        "bernoulli": lambda x: x * fnx.bernoulli(prob), "normal": lambda x: fnx.normal(x, 1.0),
        "multinomial": lambda x: x[:, fnx.multinomial(prob[0], 2)],
    }
    assert fnx.default_device() is D0
    for name, f in calls.items():
        assert f(x).device is D1, name
        assert fnx.grad(lambda x: fnp.sum(f(x)))(x).device is D1, name


def test_torch_cuda_queries_and_pinning_without_a_gpu():
    x = fnp.ones(2)
    assert x.is_pinned() is False and x.pin_memory() is x
    if not fnx.cuda.is_available():
        for query in (fnx.cuda.current_device, fnx.cuda.get_device_name):
            with pytest.raises(RuntimeError, match="'cuda:0' is not available"):
                query()  # a DeviceError, also a RuntimeError as PyTorch's "no NVIDIA driver"
    with pytest.raises(RuntimeError, match="different devices"):
        fnp.ones(2) + fnp.ones(2, device=D1)  # a ported `except RuntimeError` catches a device mismatch


def test_lbfgs_state_loads_onto_its_parameters_device():
    import fnx.nn as nn
    from fnx import optim
    fnx.manual_seed(0)
    x, y = fnx.randn(8, 3), fnx.randn(8, 1)

    def fitted(model, opt, x, y):
        def closure():
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            return loss
        return closure

    m1 = nn.Linear(3, 1).to(D1)
    o1 = optim.LBFGS(m1.parameters())
    o1.step(fitted(m1, o1, x.to(D1), y.to(D1)))
    m0 = nn.Linear(3, 1)
    o0 = optim.LBFGS(m0.parameters())
    o0.load_state_dict(o1.state_dict())
    state = o0.state[next(iter(m0.parameters()))]
    assert {a.device for a in fnx.tree.leaves(state["old_dirs"])} == {D0}
    o0.step(fitted(m0, o0, x, y))  # the histories were on cpu:1 before: a device mismatch here


def test_custom_rules_must_leave_derivatives_on_their_primals_device():
    b = fnp.ones(3, device=D1)

    @fnx.custom_vjp
    def f(x):
        return x * 2.0
    f.defvjp(lambda x: (x * 2.0, None), lambda r, g: (fnx.device_put(g, D0),))
    with pytest.raises(DeviceError, match="cotangent leaf 0 on cpu:0, its primal is on cpu:1"):
        fnx.grad(lambda x: f(x).sum())(b)
    f.defvjp(lambda x: (x * 2.0, None), lambda r, g: (g * 2.0,))
    assert fnx.grad(lambda x: f(x).sum())(b).device is D1

    @fnx.custom_jvp
    def h(x):
        return x * 2.0
    h.defjvp(lambda p, t: (h(p[0]), fnx.device_put(t[0], D0) * 2.0))
    with pytest.raises(DeviceError, match="tangent output 0 on cpu:0, its primal is on cpu:1"):
        fnx.jvp(h, (b,), (fnp.ones(3, device=D1),))


def test_a_device_mismatch_names_the_operands_as_given():
    with pytest.raises(DeviceError, match=r"add: .*: float32\[\] on cpu:0, float32\[2, 3\] on cpu:1"):
        fnp.array(2.0) + fnp.ones((2, 3), device=D1)  # before broadcasting
    with pytest.raises(DeviceError, match=r"int32\[3\] on cpu:0, float32\[3\] on cpu:1"):
        fnp.arange(3, dtype="int32") + fnp.ones(3, device=D1)  # before promotion
    with pytest.raises(DeviceError, match=r"where: .*bool\[3\] on cpu:0, float32\[3\] on cpu:1\. fnx"):
        fnp.where(fnp.ones(3) > 0, fnp.ones(3, device=D1), 0.0)  # named where, not its primitive


def test_a_prefetching_loader_builds_batches_on_its_consumers_default_device():
    from fnx.data import DataLoader, Dataset

    class Rows(Dataset):  # numpy rows: collating makes the arrays, on the default device of whoever collates
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return np.full(2, i, dtype=np.float32)

    with fnx.default_device(D1):  # the prefetch thread has no block of its own
        batches = list(DataLoader(Rows(), batch_size=2, num_workers=1))
        in_place = list(DataLoader(Rows(), batch_size=2))
    assert {b.device for b in batches} == {b.device for b in in_place} == {D1}
    assert {b.device for b in DataLoader(Rows(), batch_size=2, num_workers=1)} == {D0}
