"""Backends and devices.

A device is where an array's payload lives: the CPU (a numpy array) or a CUDA
GPU (a cupy array). Every fnx array records its :class:`Device`, and the
device says which array namespace (``xp``) computes with the payload, so
primitive implementations receive that ``xp`` and never name numpy or cupy.

``FNX_CPU_DEVICES=N`` (read at import) makes ``cpu:0 ... cpu:N-1``: numpy
arrays underneath, but distinct devices for every placement rule, so the rules
can be tested on a machine without a GPU (as JAX's forced host device count).
cupy is imported lazily, the first time CUDA devices are listed or used, and
only counts when a GPU is actually usable.
"""
import os
import threading

import numpy as np

from ..errors import DeviceError, UnknownBackendError


class Device:
    """A place where arrays live, such as ``cpu:0`` or ``cuda:0``.

    Devices are interned: ``fnx.device("cpu:0") is fnx.device("cpu")``.
    """

    __slots__ = ("platform", "id", "_xp")

    def __init__(self, platform, id, xp):
        self.platform, self.id, self._xp = platform, id, xp

    @property
    def xp(self):
        """The array namespace computing on this device (numpy or cupy)."""
        return self._xp

    @property
    def type(self):
        """``"cpu"`` or ``"cuda"``, as ``torch.device.type`` (``x.device.type == "cuda"``)."""
        return self.platform

    @property
    def index(self):
        """The GPU's number, as ``torch.device.index``; None for the host (``cpu:0``), as PyTorch's ``cpu``."""
        return None if self.platform == "cpu" and self.id == 0 else self.id

    def __repr__(self):
        return f"{self.platform}:{self.id}"

    __str__ = __repr__

    def __reduce__(self):
        return parse_device, (str(self),)

    def __enter__(self):
        """``with fnx.device("cuda:0"):``: this device is the default while the block runs (in its thread)."""
        return _enter_default(self)

    def __exit__(self, *exc):
        _exit_default()
        return False

    def context(self):
        """A context manager making this device current for the backend (cupy's Device)."""
        if self.platform == "cuda":
            return self._xp.cuda.Device(self.id)
        return _NULL_CONTEXT


class _NullContext:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


_NULL_CONTEXT = _NullContext()


def _cpu_count():
    raw = os.environ.get("FNX_CPU_DEVICES", "1")
    try:
        n = int(raw)
    except ValueError:
        raise DeviceError(f"FNX_CPU_DEVICES must be a positive integer, got {raw!r}") from None
    if n < 1:
        raise DeviceError(f"FNX_CPU_DEVICES must be a positive integer, got {raw!r}")
    return n


CPU_DEVICES = tuple(Device("cpu", i, np) for i in range(_cpu_count()))
CPU = CPU_DEVICES[0]
_cuda_devices = None  # probed on first use


def cuda_devices():
    """The usable CUDA devices (empty when cupy is absent or no GPU works)."""
    global _cuda_devices
    if _cuda_devices is None:
        _cuda_devices = ()
        try:
            import cupy
            count = cupy.cuda.runtime.getDeviceCount()
            if count > 0:
                cupy.zeros(1).sum()  # a GPU that cannot run a kernel is not usable
                _cuda_devices = tuple(Device("cuda", i, cupy) for i in range(count))
        except Exception:  # noqa: BLE001 - any failure means "no usable GPU", never a crash at import
            _cuda_devices = ()
    return _cuda_devices


def cuda_device(device=None):
    """The GPU named as PyTorch's ``.cuda(device)`` takes it: None (``cuda:0``), an index, or a name/Device."""
    return parse_device(f"cuda:{device}" if isinstance(device, int) else "cuda:0" if device is None else device)


PLATFORMS = {"cpu": "cpu", "cuda": "cuda", "gpu": "cuda"}  # platform names, JAX's "gpu" for CUDA included


def devices(platform=None):
    """All usable devices, CPU first; ``platform`` ("cpu", or "cuda" or JAX's "gpu") filters them."""
    found = CPU_DEVICES + cuda_devices()
    if platform is None:
        return list(found)
    name = PLATFORMS.get(platform.lower() if isinstance(platform, str) else platform)
    if name is None:
        raise UnknownBackendError(f"devices: unknown backend {platform!r}; fnx's are 'cpu' and 'gpu' (or 'cuda')")
    return [d for d in found if d.platform == name]


def device(type=None, index=None):
    """A Device, from any of ``torch.device``'s forms: ``device("cuda:1")``, ``device("cuda", 1)``,
    ``device(type="cuda", index=1)``, ``device(1)`` (a GPU's number) or a Device. As PyTorch's, it is
    also a context manager making itself the default device (``with fnx.device("cuda"): ...``)."""
    if isinstance(type, int) and not isinstance(type, bool) and index is None:
        return cuda_device(type)
    if index is not None:
        if not isinstance(type, str) or ":" in type:
            raise DeviceError(f"device: with an index, the type must be 'cpu' or 'cuda', got {type!r}")
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise DeviceError(f"device: the index must be a non-negative int, got {index!r}")
        return parse_device(f"{type}:{index}")
    if type is None:
        raise TypeError("device() missing its type: give a name such as 'cpu' or 'cuda:0'")
    return parse_device(type)


def parse_device(name):
    """``"cpu"``, ``"cpu:1"``, ``"cuda"``, ``"cuda:0"`` or a Device -> the Device."""
    if isinstance(name, Device):
        return name
    if not isinstance(name, str):
        raise DeviceError(f"not a device: {name!r}; use a name like 'cpu' or 'cuda:0'")
    platform, _, idx = name.partition(":")
    if platform not in ("cpu", "cuda") or (idx and not idx.isdigit()):
        raise DeviceError(f"not a device name: {name!r}; use a name like 'cpu', 'cpu:1' or 'cuda:0'")
    i = int(idx) if idx else 0
    pool = CPU_DEVICES if platform == "cpu" else cuda_devices()
    if i >= len(pool):
        have = ", ".join(map(str, devices())) or "none"
        hint = " (set FNX_CPU_DEVICES=N for virtual CPU devices)" if platform == "cpu" else ""
        raise DeviceError(f"device {name!r} is not available; available devices: {have}{hint}")
    return pool[i]


_default = [CPU]  # the process's default device; a ``default_device`` block overrides it in its own thread


class _ThreadDefault(threading.local):
    device = None  # set inside a ``default_device`` block of this thread

    def __init__(self):
        self.entered = []  # the defaults that ``with device:`` blocks replaced, innermost last


_in_thread = _ThreadDefault()


def get_default_device():
    device = _in_thread.device
    return _default[0] if device is None else device


def _enter_default(device):
    _in_thread.entered.append(_in_thread.device)
    _in_thread.device = device
    return device


def _exit_default():
    _in_thread.device = _in_thread.entered.pop()


def set_default_device(device):
    """Makes ``device`` (None: the CPU) the process's default device (``torch.set_default_device``); a
    ``default_device`` block still overrides it in its own thread."""
    _default[0] = CPU if device is None else parse_device(device)


class default_device:
    """Where creation functions and Python scalars land: ``with fnx.default_device("cpu:1"): ...``.

    Called with no argument it returns the current default device. A block sets
    the default of its own thread only, as JAX's and PyTorch's device contexts
    do: other threads (a DataLoader's, a server's) keep theirs.
    """

    def __new__(cls, device=None):
        if device is None:
            return get_default_device()
        self = object.__new__(cls)
        self.device = parse_device(device)
        return self

    def __enter__(self):
        return _enter_default(self.device)

    def __exit__(self, *exc):
        _exit_default()
        return False


def data_device(*values):
    """A context that makes the device of the first fnx array among ``values`` the default while a function
    builds what it combines with it (masks, index ranges, fill values, numpy operands): computation follows
    data, so ``tril`` of an array on ``cuda:0`` makes its mask there. A no-op when that device is the
    default already or no value is an fnx array."""
    for x in values:
        dev = getattr(x, "device", None)  # (numpy's and cupy's arrays have a device of their own kind)
        if isinstance(dev, Device):
            return _NULL_CONTEXT if dev is get_default_device() else default_device(dev)
    return _NULL_CONTEXT


def to_host(value):
    """The payload as a numpy array (copied off a GPU)."""
    if isinstance(value, (np.ndarray, np.generic)):
        return value
    return value.get()


def transfer(value, dst):
    """Payload ``value`` (from any device) as a payload on device ``dst``."""
    if dst.platform == "cpu":
        # numpy payloads are never mutated, so virtual CPU devices can share one
        return value if isinstance(value, NUMPY_TYPES) else value.get()
    with dst.context():
        return dst.xp.asarray(value)


NUMPY_TYPES = (np.ndarray, np.generic)


def xp_of(value):
    """The array namespace of a payload (numpy unless it is a cupy array)."""
    if isinstance(value, NUMPY_TYPES):
        return np
    import cupy
    return cupy


def device_of(value):
    if isinstance(value, NUMPY_TYPES):
        return CPU
    return parse_device(f"cuda:{value.device.id}")
