"""Fixtures shared by the test-suite (profiles and devices are set up in the root conftest.py)."""
import pytest

import fnx


def _device_params():
    params = []
    for d in fnx.devices():
        params.append(pytest.param(d, id=str(d), marks=[pytest.mark.gpu] if d.platform == "cuda" else []))
    if not fnx.devices("cuda"):
        params.append(pytest.param(None, id="cuda", marks=pytest.mark.skip(
            reason="no usable CUDA GPU (cupy missing or no device)")))
    return params


@pytest.fixture(params=_device_params())
def device(request):
    """Every available device: the virtual CPU devices and, where usable, each CUDA GPU."""
    return request.param
