"""``torch.backends.cuda``'s switches, for the start-up lines that set them (``matmul.allow_tf32``).

fnx's GPU products run through cupy, which computes float32 in float32 unless
its own ``CUPY_TF32`` environment variable says otherwise; the switches are
kept with PyTorch's defaults, read and set, and change nothing.

>>> import fnx
>>> fnx.backends.cuda.matmul.allow_tf32
False
>>> fnx.backends.cuda.is_built() == fnx.cuda.is_available()
True
"""
from types import SimpleNamespace

__all__ = ["matmul", "is_built"]

matmul = SimpleNamespace(allow_tf32=False, allow_fp16_reduced_precision_reduction=True,
                         allow_bf16_reduced_precision_reduction=True)


def is_built():
    """Whether fnx can use CUDA here: cupy installed with a usable GPU (``fnx.cuda.is_available()``)."""
    from ..cuda import is_available
    return is_available()
