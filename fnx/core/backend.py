"""Backends and devices.

An array's payload is a numpy array (the CPU) or, when cupy is installed and a
GPU is usable, a cupy array. The payload's type says which array namespace
(``xp``) computes with it; primitive implementations receive that ``xp`` and are
the only code in fnx that calls numpy or cupy for array maths.
"""
import numpy as np

from ..errors import DeviceError


class Device:
    """A place where arrays live: ``cpu:0``, ``cuda:0``."""

    __slots__ = ("platform", "id")

    def __init__(self, platform, id=0):
        self.platform = platform
        self.id = id

    def __repr__(self):
        return f"{self.platform}:{self.id}"

    __str__ = __repr__

    def __eq__(self, other):
        if isinstance(other, str):
            other = parse_device(other)
        return isinstance(other, Device) and (self.platform, self.id) == (other.platform, other.id)

    def __hash__(self):
        return hash((self.platform, self.id))


CPU = Device("cpu", 0)


def parse_device(name):
    """``"cpu"``, ``"cpu:1"``, ``"cuda:0"`` or a Device -> Device."""
    if isinstance(name, Device):
        return name
    if not isinstance(name, str):
        raise DeviceError(f"not a device: {name!r}; use a name like 'cpu' or 'cuda:0'")
    platform, _, idx = name.partition(":")
    if platform not in ("cpu", "cuda") or (idx and not idx.isdigit()):
        raise DeviceError(f"not a device name: {name!r}; use a name like 'cpu' or 'cuda:0'")
    return Device(platform, int(idx) if idx else 0)


# Scalars numpy returns from 0-d operations (np.float64 and friends) are kept as
# payloads as they are: they are immutable and answer .shape/.dtype like arrays.
NUMPY_TYPES = (np.ndarray, np.generic)


def xp_of(value):
    """The array namespace that computes with ``value``."""
    if isinstance(value, NUMPY_TYPES):
        return np
    mod = type(value).__module__
    if mod.startswith("cupy"):
        import cupy
        return cupy
    return np


def device_of(value):
    if isinstance(value, NUMPY_TYPES):
        return CPU
    dev = getattr(value, "device", None)
    return Device("cuda", getattr(dev, "id", 0))


def to_host(value):
    """The payload as a numpy array (a copy when it lived on a GPU)."""
    if isinstance(value, NUMPY_TYPES):
        return value
    return value.get()
