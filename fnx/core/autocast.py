"""Autocast's state (``torch.autocast``): the lower-precision dtype per device platform where it is on.

Operations eligible for a lower precision (products, convolutions, linear layers) call :func:`lower` on their
operands, operations that need float32's range (losses, and on CUDA softmax and the norms) call :func:`full`;
both are called only when ``state`` is non-empty, so with autocast off an operation pays one truth test.
As in PyTorch, only float32 operands are lowered and only lower-precision ones raised: float64 and
non-floating operands are not eligible and run as they are.
"""
import numpy as np

state = {}  # platform ("cpu", "cuda") -> the lower-precision dtype, while autocast is on there


def _platform(x):
    return x.device.platform


def lower(*xs):
    """``xs`` with each float32 array on an autocast platform cast to that platform's lower precision."""
    from ..numpy import asarray
    out = []
    for x in xs:
        if x is not None and hasattr(x, "dtype") and x.dtype == np.float32:
            dtype = state.get(_platform(x))
            if dtype is not None:
                x = asarray(x).astype(dtype)
        out.append(x)
    return out


def full(*xs, platforms=("cpu", "cuda")):
    """``xs`` with each lower-precision array on an autocast platform (of ``platforms``) cast to float32."""
    from ..numpy import asarray
    out = []
    for x in xs:
        if x is not None and hasattr(x, "dtype") and x.dtype.kind == "f" and x.dtype.itemsize < 4:
            if _platform(x) in state and _platform(x) in platforms:
                x = asarray(x).astype(np.float32)
        out.append(x)
    return out
