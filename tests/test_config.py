"""fnx.config: JAX's configuration switches (jax.config.update) that mean something in fnx."""
import numpy as np
import pytest

import fnx
import fnx.numpy as fnp


def test_enable_x64_switches_the_default_float():
    assert fnx.config.jax_enable_x64 is False
    try:
        fnx.config.update("jax_enable_x64", True)
        assert fnx.config.jax_enable_x64 and fnx.config.read("jax_enable_x64")
        assert fnp.array(1.5).dtype == np.float64 and fnp.zeros(2).dtype == np.float64
        assert fnx.grad(lambda x: x * x)(3.0).dtype == np.float64
    finally:
        fnx.config.update("jax_enable_x64", False)
    assert fnp.array(1.5).dtype == np.float32


def test_platform_and_unknown_options():
    fnx.config.update("jax_platform_name", "cpu")
    assert fnx.config.jax_platform_name == "cpu" and fnx.default_device().platform == "cpu"
    with pytest.raises(ValueError, match="fnx runs on"):
        fnx.config.update("jax_platforms", "tpu")
    with pytest.raises(AttributeError, match="Unrecognized config option: jax_debug_everything"):
        fnx.config.update("jax_debug_everything", True)


def test_enable_x64_as_context_and_decorator_and_process_queries_as_jax():
    assert fnx.numpy.array(1.5).dtype == np.float32
    with fnx.enable_x64():
        assert fnx.numpy.array(1.5).dtype == np.float64 and fnx.config.jax_enable_x64
        with fnx.enable_x64(False):
            assert fnx.numpy.array(1.5).dtype == np.float32
        assert fnx.numpy.array(1.5).dtype == np.float64

    @fnx.enable_x64()
    def make():
        return fnx.numpy.array(1.5)
    assert make().dtype == np.float64 and fnx.numpy.array(1.5).dtype == np.float32
    assert (fnx.process_index(), fnx.process_count()) == (0, 1)
    jax = pytest.importorskip("jax")
    assert (jax.process_index(), jax.process_count()) == (0, 1)
