"""PyTorch's global switches (fnx.settings), torch.backends' and torch.cuda's helpers, and the device fields."""
import numpy as np
import pytest

import fnx


def test_num_threads_set_the_blas_threads_and_read_back():
    before = fnx.get_num_threads()
    try:
        fnx.set_num_threads(1)
        assert fnx.get_num_threads() == 1
    finally:
        fnx.set_num_threads(before)
    assert fnx.get_num_threads() == before
    with pytest.raises(ValueError, match="set_num_threads: the number of threads must be positive, got 0"):
        fnx.set_num_threads(0)


def test_rng_state_round_trips_through_a_checkpoint(tmp_path):
    fnx.manual_seed(7)
    state = fnx.get_rng_state()
    assert state.dtype == np.uint8
    first = fnx.rand(3)
    fnx.save({"rng": state}, tmp_path / "ckpt.safetensors")
    fnx.rand(5)
    fnx.set_rng_state(fnx.load(tmp_path / "ckpt.safetensors")["rng"])
    assert fnx.rand(3).tolist() == first.tolist()
    cuda_state = fnx.cuda.get_rng_state()  # the one generator, also for GPU draws
    again = fnx.randn(2)
    assert len(fnx.cuda.get_rng_state_all()) == max(fnx.cuda.device_count(), 1)
    fnx.cuda.set_rng_state_all([cuda_state])
    assert fnx.randn(2).tolist() == again.tolist()
    with pytest.raises(ValueError, match="set_rng_state_all"):
        fnx.cuda.set_rng_state_all([])


def test_switches_are_kept_checked_and_read_back():
    try:
        fnx.use_deterministic_algorithms(True, warn_only=True)
        assert fnx.are_deterministic_algorithms_enabled() and fnx.is_deterministic_algorithms_warn_only_enabled()
        fnx.set_float32_matmul_precision("medium")
        assert fnx.get_float32_matmul_precision() == "medium"
    finally:
        fnx.use_deterministic_algorithms(False)
        fnx.set_float32_matmul_precision("highest")
    with pytest.raises(TypeError, match="must be bools"):
        fnx.use_deterministic_algorithms(1)
    with pytest.raises(ValueError, match="expected 'highest', 'high' or 'medium', got 'low'"):
        fnx.set_float32_matmul_precision("low")
    assert fnx.backends.mps.is_available() is False and fnx.backends.mps.is_built() is False
    assert fnx.backends.cuda.matmul.allow_tf32 is False and fnx.backends.cudnn.allow_tf32 is True
    assert fnx.backends.cuda.is_built() == fnx.cuda.is_available()


def test_cuda_memory_helpers_without_or_with_a_gpu():
    fnx.cuda.empty_cache()
    if not fnx.cuda.is_available():
        assert fnx.cuda.memory_allocated() == 0 and fnx.cuda.memory_reserved() == 0
        return
    x = fnx.zeros(1 << 20, device="cuda")
    assert fnx.cuda.memory_allocated() >= 4 << 20 and fnx.cuda.memory_reserved() >= fnx.cuda.memory_allocated()
    del x


def test_device_type_and_index_as_torch_names_them(device):
    assert device.type == device.platform and fnx.ones(2, device=device).device.type == device.platform
    assert device.index == (None if str(device) == "cpu:0" else device.id)


def test_zeros_and_draws_take_size_by_name():
    assert fnx.zeros(size=(2, 3)).shape == (2, 3) and fnx.ones(size=[4]).shape == (4,)
    assert fnx.randn(size=(2,)).shape == (2,) and fnx.rand(size=(1, 2)).shape == (1, 2)
    assert fnx.empty(size=(3,)).shape == (3,)
    with pytest.raises(TypeError, match="give the size positionally or as size=, not both"):
        fnx.zeros(2, size=(2,))
    with pytest.raises(TypeError, match="unexpected keyword argument 'sise'"):
        fnx.zeros(2, sise=3)


def test_fork_rng_puts_the_stream_back_as_torch():
    torch = pytest.importorskip("torch")
    for lib, draw in ((fnx, lambda: fnx.rand(3)), (torch, lambda: torch.rand(3))):
        lib.manual_seed(1)
        with lib.random.fork_rng():
            inside = draw()
        after = draw()
        np.testing.assert_array_equal(np.asarray(after), np.asarray(inside))  # the block's draws come again
        with lib.random.fork_rng(enabled=False):
            draw()
        assert not np.array_equal(np.asarray(draw()), np.asarray(after))
        state = lib.random.get_rng_state()
        first = draw()
        lib.random.set_rng_state(state)
        np.testing.assert_array_equal(np.asarray(draw()), np.asarray(first))
