"""fnx.amp: torch.autocast and torch.amp.GradScaler."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import fnx
import fnx.numpy as fnp
import fnx.nn.functional as F
from fnx.amp import GradScaler, autocast

f16, f32, f64 = np.dtype("float16"), np.dtype("float32"), np.dtype("float64")


def test_eligible_operations_run_in_float16_and_losses_in_float32():
    x, w = fnp.ones((4, 3)), fnp.ones((2, 3))
    with autocast("cpu", dtype=fnx.float16):
        assert (x @ w.T).dtype == f16
        assert fnp.matmul(x, w.T).dtype == f16
        assert F.linear(x, w, fnp.zeros(2)).dtype == f16
        assert fnp.einsum("ij,kj->ik", x, w).dtype == f16
        assert fnp.einsum("ij,kj->ik", x, w, dtype=fnx.float32).dtype == f32  # an explicit dtype opts out
        assert F.conv1d(fnp.ones((1, 2, 5)), fnp.ones((3, 2, 2))).dtype == f16
        assert F.conv_transpose1d(fnp.ones((1, 2, 5)), fnp.ones((2, 3, 2))).dtype == f16
        y = F.linear(x, w)
        assert F.mse_loss(y, fnp.zeros((4, 2))).dtype == f32
        assert F.cross_entropy(y, fnp.array([0, 1, 0, 1])).dtype == f32
        assert F.binary_cross_entropy_with_logits(y, fnp.zeros((4, 2))).dtype == f32
        assert (y + 1.0).dtype == f16  # not on either list: its inputs' dtype
        assert F.softmax(y, dim=1).dtype == f16  # float32 only under CUDA autocast, as in PyTorch's lists
        assert (fnp.ones((2, 2), f64) @ fnp.ones((2, 2), f64)).dtype == f64  # float64 is not eligible
        assert (fnp.ones((2, 2), "int32") @ fnp.ones((2, 2), "int32")).dtype == np.dtype("int32")
    assert (x @ w.T).dtype == f32  # off again after the block


def test_regions_nest_and_restore_and_work_as_a_decorator():
    x = fnp.ones((2, 2))
    with autocast("cpu", dtype=fnx.float16):
        with autocast("cpu", enabled=False):
            assert (x @ x).dtype == f32
            assert not fnx.is_autocast_enabled("cpu")
        assert (x @ x).dtype == f16
        assert fnx.is_autocast_enabled("cpu") and not fnx.is_autocast_enabled("cuda")
    with autocast("cuda"):  # arrays on the CPU are not affected by CUDA autocast
        assert (x @ x).dtype == f32

    @autocast("cpu", dtype=fnx.float16)
    def product(a):
        return a @ a
    assert product(x).dtype == f16 and (x @ x).dtype == f32


def test_what_fnx_cannot_do_is_refused_or_warned():
    with pytest.raises(ValueError, match="unsupported device_type 'tpu'"):
        autocast("tpu")
    with pytest.warns(UserWarning, match="bfloat16"):
        region = autocast("cpu")  # PyTorch's CPU default is bfloat16, which NumPy does not have
    with region:
        assert (fnp.ones((2, 2)) @ fnp.ones((2, 2))).dtype == f32


@given(st.integers(0, 2 ** 16))
def test_gradients_flow_through_the_casts_into_float32_parameters(seed):
    rng = np.random.default_rng(seed)
    wv, xv = rng.normal(size=(3, 4)).astype(np.float32), rng.normal(size=(5, 4)).astype(np.float32)
    target = np.arange(5) % 3
    w = fnx.nn.Parameter(fnp.asarray(wv))
    with autocast("cpu", dtype=fnx.float16):
        loss = F.cross_entropy(F.linear(fnp.asarray(xv), w), fnp.asarray(target))
    loss.backward()
    assert w.grad.dtype == f32

    def by_hand(wf):  # the same computation with the casts written out
        logits = fnp.asarray(xv).astype(f16) @ wf.astype(f16).T
        return F.cross_entropy(logits.astype(f32), fnp.asarray(target))
    np.testing.assert_allclose(loss, by_hand(fnp.asarray(wv)), rtol=1e-6)
    np.testing.assert_allclose(w.grad, fnx.grad(by_hand)(fnp.asarray(wv)), rtol=1e-6, atol=1e-7)


# ----- GradScaler ------------------------------------------------------------------------------------------


def scaled_step(scaler, opt, w, value):
    opt.zero_grad()
    scaler.scale((w * value).sum()).backward()
    scaler.step(opt)
    scaler.update()


def test_scaler_unscales_skips_overflowing_steps_and_adapts_its_scale():
    w = fnx.nn.Parameter(fnp.array([1.0, 2.0]))
    opt = fnx.optim.SGD([w], lr=0.5)
    scaler = GradScaler("cpu", init_scale=8.0, growth_factor=2.0, backoff_factor=0.25, growth_interval=2)
    scaled_step(scaler, opt, w, 1.0)
    np.testing.assert_allclose(w.grad, [1.0, 1.0])
    np.testing.assert_allclose(w.detach(), [0.5, 1.5])
    assert scaler.get_scale() == 8.0
    scaled_step(scaler, opt, w, 1.0)
    assert scaler.get_scale() == 16.0  # two clean steps in a row: grown
    scaled_step(scaler, opt, w, np.inf)
    np.testing.assert_allclose(w.detach(), [0.0, 1.0])  # skipped: where the two steps left it
    assert scaler.get_scale() == 4.0
    scaled_step(scaler, opt, w, 1.0)
    scaled_step(scaler, opt, w, np.inf)  # an overflow restarts the count of clean steps
    scaled_step(scaler, opt, w, 1.0)
    assert scaler.get_scale() == 1.0
    scaled_step(scaler, opt, w, 1.0)
    assert scaler.get_scale() == 2.0
    scaled_step(scaler, opt, w, np.inf)
    scaled_step(scaler, opt, w, np.inf)
    assert scaler.get_scale() == 0.125
    state = scaler.state_dict()
    assert state == {"scale": 0.125, "growth_factor": 2.0, "backoff_factor": 0.25, "growth_interval": 2,
                     "_growth_tracker": 0}
    again = GradScaler("cpu")
    again.load_state_dict(state)
    assert again.get_scale() == 0.125 and again.get_backoff_factor() == 0.25


def test_unscale_before_clipping_and_the_order_of_calls():
    w = fnx.nn.Parameter(fnp.array([3.0, 4.0]))
    opt = fnx.optim.SGD([w], lr=1.0)
    scaler = GradScaler("cpu", init_scale=1024.0)
    with pytest.raises(RuntimeError, match="did not use scaler.scale"):
        scaler.step(opt)
    scaler.scale((w * w).sum()).backward()
    scaler.unscale_(opt)
    np.testing.assert_allclose(w.grad, [6.0, 8.0])
    fnx.nn.utils.clip_grad_norm_([w], 1.0)
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.unscale_(opt)
    scaler.step(opt)
    np.testing.assert_allclose(w.detach(), [3.0 - 0.6, 4.0 - 0.8], rtol=1e-5)
    with pytest.raises(RuntimeError, match="step\\(\\) has already been called"):
        scaler.step(opt)
    scaler.update()
    with pytest.raises(RuntimeError, match="No inf checks"):
        scaler.scale(w.sum())
        scaler.update()


def test_a_disabled_scaler_passes_everything_through():
    w = fnx.nn.Parameter(fnp.array([1.0]))
    opt = fnx.optim.SGD([w], lr=1.0)
    scaler = GradScaler("cpu", enabled=False)
    loss = (w * 2.0).sum()
    assert scaler.scale(loss) is loss
    loss.backward()
    scaler.step(opt)
    scaler.update()
    np.testing.assert_allclose(w.detach(), [-1.0])
    assert scaler.get_scale() == 1.0 and scaler.state_dict() == {}


def test_a_cuda_scaler_without_a_gpu_disables_itself_with_a_warning():
    if fnx.cuda.is_available():
        pytest.skip("a GPU is usable here: the CUDA scaler stays enabled")
    with pytest.warns(UserWarning, match="CUDA is not available"):
        assert not GradScaler().is_enabled()
    with pytest.warns(UserWarning, match="CUDA is not available"):
        from fnx.cuda.amp import GradScaler as CudaScaler
        assert not CudaScaler(init_scale=4.0).is_enabled()


def test_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    wv, xv = rng.normal(size=(3, 4)).astype(np.float32), rng.normal(size=(6, 4)).astype(np.float32)
    target = np.arange(6) % 3
    results = {}
    for lib, tensor in ((fnx, fnx.tensor), (torch, torch.tensor)):
        w = lib.nn.Parameter(tensor(wv))
        opt = lib.optim.SGD([w], lr=0.1)
        scaler = lib.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_interval=2)
        scales, dtypes = [], []
        for step in range(5):
            opt.zero_grad()
            with lib.autocast("cpu", dtype=lib.float16):
                logits = lib.nn.functional.linear(tensor(xv), w)
                loss = lib.nn.functional.cross_entropy(logits, tensor(target))
            dtypes.append((str(logits.dtype).replace("torch.", ""), str(loss.dtype).replace("torch.", "")))
            scaled = scaler.scale(loss * (float("inf") if step == 2 else 1.0))
            scaled.backward()
            scaler.step(opt)
            scaler.update()
            scales.append(scaler.get_scale())
        results[lib.__name__] = (np.array(w.detach()), scales, dtypes)
    ours, theirs = results["fnx"], results["torch"]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=2e-3, atol=1e-4)
    assert ours[1] == theirs[1] and ours[2] == theirs[2]


def test_warnings_are_not_raised_by_default_use():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with autocast("cpu", dtype=fnx.float16):
            pass
        GradScaler("cpu")
