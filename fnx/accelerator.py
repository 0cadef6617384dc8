"""``torch.accelerator``: the device-neutral questions PyTorch's quickstart asks, answered for fnx's GPUs
(CUDA devices through cupy)::

    device = fnx.accelerator.current_accelerator().type if fnx.accelerator.is_available() else "cpu"

>>> import fnx
>>> fnx.accelerator.is_available() == fnx.cuda.is_available()
True
"""
from . import cuda as _cuda
from .core.backend import cuda_device as _cuda_device

__all__ = ["is_available", "device_count", "current_accelerator", "current_device_index", "synchronize"]


def is_available():
    """Whether an accelerator (a GPU fnx can compute on) is usable."""
    return _cuda.is_available()


def device_count():
    """How many accelerators fnx can use."""
    return _cuda.device_count()


def current_accelerator(check_available=False):
    """The accelerator's device (``cuda:0``), or None when there is none. fnx has no compile-time accelerator
    apart from a usable one, so ``check_available`` changes nothing."""
    return _cuda_device(None) if _cuda.is_available() else None


def current_device_index():
    """The index of the accelerator in use (0); a :class:`~fnx.errors.DeviceError` when there is none."""
    return _cuda_device(None).index


def synchronize(device=None):
    """Waits for the accelerator's queued work (see :func:`fnx.cuda.synchronize`)."""
    _cuda.synchronize(device)
