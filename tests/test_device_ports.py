"""The PyTorch and JAX ports that touch placement, on every device (the CUDA cases are marked ``gpu``).

Each test runs on the CPU here, so its logic is checked everywhere, and on each usable GPU.
"""
import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
import fnx.nn.functional as F
from fnx import nn

needs_gpu = pytest.mark.skipif(not fnx.devices("cuda"), reason="no usable CUDA GPU (cupy missing or no device)")


def test_custom_vjp_rule_holds_under_jit_and_vmap(device):
    @fnx.custom_vjp
    def f(x):
        return fnp.sin(x)

    f.defvjp(lambda x: (fnp.sin(x), x), lambda x, g: (3.0 * g,))  # a rule that is not sin's derivative
    x = fnp.asarray(np.linspace(-1.0, 1.0, 5), device=device)
    for transformed in [fnx.grad(lambda a: fnp.sum(f(a))), fnx.grad(fnx.jit(lambda a: fnp.sum(f(a)))),
                        fnx.jit(fnx.grad(lambda a: fnp.sum(f(a)))), fnx.vmap(fnx.grad(f))]:
        g = transformed(x)
        assert g.device is device
        np.testing.assert_allclose(np.asarray(fnx.device_get(g)), 3.0)


def test_parameter_data_writes_through_on_its_device(device):
    fnx.manual_seed(0)
    layer = nn.Linear(4, 3).to(device)
    layer.weight.data.normal_(0.0, 0.02)
    layer.bias.data.fill_(0.5)
    w = layer.weight
    assert w.device is device and layer.bias.device is device
    assert 0.0 < float(fnp.std(w)) < 0.1
    np.testing.assert_array_equal(np.asarray(fnx.device_get(layer.bias)), 0.5)
    nn.init.zeros_(layer.weight.data)
    assert layer.weight.device is device and not np.asarray(fnx.device_get(layer.weight)).any()
    layer.weight.data.clamp_(-1.0, 1.0)
    assert layer.weight.device is device


def test_optimizer_flags_give_the_same_step_on_every_device(device):
    def run(on, **flags):
        fnx.manual_seed(1)
        model = nn.Linear(3, 2).to(on)
        opt = fnx.optim.Adam(model.parameters(), lr=0.1, **flags)
        x = fnp.asarray(np.arange(6.0, dtype=np.float32).reshape(2, 3), device=on)
        for _ in range(3):
            opt.zero_grad()
            fnp.sum(model(x) ** 2).backward()
            opt.step()
        assert model.weight.device is on
        return np.asarray(fnx.device_get(model.weight))

    expected = run(fnx.devices("cpu")[0])
    for flags in [{}, {"foreach": True}, {"fused": True}, {"decoupled_weight_decay": True, "weight_decay": 0.1}]:
        got = run(device, **flags)
        if "decoupled_weight_decay" in flags:
            np.testing.assert_allclose(got, run(fnx.devices("cpu")[0], **flags), rtol=1e-5, atol=1e-6)
        else:
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_save_records_the_device_and_map_location_places(device, tmp_path):
    path = tmp_path / "ckpt.safetensors"
    cpu = fnx.devices("cpu")[0]
    fnx.save({"w": fnp.asarray(np.arange(3.0), device=device)}, path)
    assert fnx.load(path)["w"].device is cpu  # the default device, as documented
    assert fnx.load(path, map_location=device)["w"].device is device
    assert fnx.load(path, map_location={str(device): "cpu"})["w"].device is cpu
    tags = []

    def to_device(array, tag):
        tags.append(tag)
        return array.to(device)

    back = fnx.load(path, map_location=to_device)["w"]
    assert tags == ["cpu" if str(device) == "cpu:0" else str(device)] and back.device is device  # torch's tags
    np.testing.assert_array_equal(np.asarray(fnx.device_get(back)), np.arange(3.0))


def test_on_device_returns_outputs_there_and_grads_follow(device):
    x = fnp.arange(4.0)
    y, g = fnx.on_device(lambda a: (fnp.sum(a ** 2), fnx.grad(lambda b: fnp.sum(b ** 3))(a)), device)(x)
    assert y.device is device and g.device is device
    np.testing.assert_allclose(np.asarray(fnx.device_get(g)), 3 * np.arange(4.0) ** 2)


def test_generator_draws_repeat_on_every_device(device):
    a = fnx.randn(5, generator=fnx.Generator().manual_seed(3), device=device)
    b = fnx.randn(5, generator=fnx.Generator().manual_seed(3), device=device)
    assert a.device is device
    np.testing.assert_array_equal(np.asarray(fnx.device_get(a)), np.asarray(fnx.device_get(b)))


def test_autocast_casts_only_its_own_device_type(device):
    x = fnp.asarray(np.ones((4, 3), np.float32), device=device)
    w = fnp.asarray(np.ones((2, 3), np.float32), device=device)
    with fnx.amp.autocast(device.platform, dtype=fnx.float16):
        y = F.linear(x, w)
        assert y.dtype == np.float16 and y.device is device
        assert F.cross_entropy(y, fnp.asarray(np.array([0, 1, 0, 1]), device=device)).dtype == np.float32
        # CUDA's list puts softmax in float32; the CPU's does not (as PyTorch).
        assert F.softmax(y, dim=1).dtype == (np.float32 if device.platform == "cuda" else np.float16)
    other = "cpu" if device.platform == "cuda" else "cuda"
    with fnx.amp.autocast(other):
        assert (x @ w.T).dtype == np.float32


@pytest.mark.gpu
@needs_gpu
def test_grad_scaler_on_cuda_steps_and_skips_overflow():
    gpu = fnx.devices("cuda")[0]
    model = nn.Linear(3, 1).to(gpu)
    opt = fnx.optim.SGD(model.parameters(), lr=0.1)
    scaler = fnx.amp.GradScaler("cuda", init_scale=2.0 ** 4)
    x = fnp.asarray(np.ones((2, 3), np.float32), device=gpu)
    before = np.asarray(fnx.device_get(model.weight))
    scaler.scale(fnp.sum(model(x))).backward()
    scaler.step(opt)
    scaler.update()
    assert model.weight.device is gpu and not np.allclose(np.asarray(fnx.device_get(model.weight)), before)
    np.testing.assert_allclose(np.asarray(fnx.device_get(model.weight)), before - 0.1 * 2.0, rtol=1e-6)
    opt.zero_grad()
    scaler.scale(fnp.sum(model(x)) * float("inf")).backward()
    stepped = np.asarray(fnx.device_get(model.weight))
    scaler.step(opt)
    scaler.update()
    np.testing.assert_array_equal(np.asarray(fnx.device_get(model.weight)), stepped)
    assert scaler.get_scale() == 2.0 ** 3


@pytest.mark.gpu
@needs_gpu
def test_dlpack_both_ways_with_cupy():
    import cupy
    gpu = fnx.devices("cuda")[0]
    c = cupy.arange(4.0)
    copied = fnp.from_dlpack(c)
    shared = fnp.from_dlpack(c, copy=False)
    assert copied.device is gpu and shared.device is gpu
    c[0] = 7.0
    assert float(copied[0]) == 0.0 and float(shared[0]) == 7.0  # a copy by default; copy=False shares
    back = cupy.from_dlpack(fnp.arange(3.0, device=gpu))
    cupy.testing.assert_array_equal(back, cupy.arange(3.0))
    assert fnp.from_dlpack(np.arange(2.0), device=gpu).device is gpu


@pytest.mark.gpu
@needs_gpu
def test_cuda_seeding_and_legacy_constructors():
    gpu = fnx.devices("cuda")[0]
    fnx.cuda.manual_seed_all(5)
    a = fnx.randn(3, device=gpu)
    fnx.cuda.manual_seed(5)
    b = fnx.randn(3, device=gpu)
    np.testing.assert_array_equal(np.asarray(fnx.device_get(a)), np.asarray(fnx.device_get(b)))
    t = fnx.cuda.FloatTensor([1, 2])
    assert t.device is gpu and t.dtype == np.float32 and t.type() == "fnx.cuda.FloatTensor"
    assert fnx.cuda.LongTensor(2, 3).shape == (2, 3) and fnx.cuda.LongTensor(2, 3).device is gpu
    assert t.allclose(fnp.asarray([1.0, 2.0], dtype=np.float32, device=gpu))


def test_cuda_legacy_types_name_the_missing_gpu():
    if fnx.devices("cuda"):
        pytest.skip("a GPU is present: test_cuda_seeding_and_legacy_constructors covers it")
    with pytest.raises(fnx.errors.DeviceError, match="cuda:0.*not available"):
        fnx.cuda.FloatTensor([1.0])
    assert fnx.cuda.DoubleTensor.__name__ == "DoubleTensor"


def test_accelerator_answers_pytorchs_quickstart():
    device = fnx.accelerator.current_accelerator().type if fnx.accelerator.is_available() else "cpu"
    assert fnx.accelerator.device_count() == len(fnx.devices("cuda"))
    if fnx.devices("cuda"):
        assert device == "cuda" and fnx.accelerator.current_device_index() == 0
        fnx.accelerator.synchronize()
    else:
        assert device == "cpu" and fnx.accelerator.current_accelerator() is None
        with pytest.raises(fnx.errors.DeviceError, match="not available"):
            fnx.accelerator.current_device_index()
    x = fnx.ones(2, device=device)
    assert x.device.type == device


def test_map_location_entries_are_checked_only_for_tags_the_file_uses(tmp_path):
    path = tmp_path / "w.safetensors"
    fnx.save({"w": fnp.ones(2)}, path)
    missing = "cuda:7" if len(fnx.devices("cuda")) < 8 else "cpu:99"
    assert fnx.load(path, map_location={"cuda:0": missing})["w"].device is fnx.device("cpu")  # unused: as torch
    with pytest.raises(fnx.errors.DeviceError, match=r"map_location\['cpu'\].*not available"):
        fnx.load(path, map_location={"cpu": missing})
