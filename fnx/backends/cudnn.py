"""``torch.backends.cudnn``'s switches, accepted so that a script's start-up lines port unchanged.

fnx has no cuDNN: its GPU path runs cupy's kernels (elementwise, reductions,
cuBLAS products), with no convolution-algorithm autotuner to turn on or off.
So ``deterministic``, ``benchmark``, ``enabled`` and ``allow_tf32`` may be read and set, and
change nothing. They do not make every GPU kernel bitwise reproducible:
scatter-adds with repeated indices (``index_add``, the gradient of an
embedding or of a gather) use atomic adds, whose floating-point sums may
differ in the last bits from run to run whatever ``deterministic`` says.

>>> import fnx
>>> fnx.backends.cudnn.deterministic = True
>>> fnx.backends.cudnn.benchmark = False
>>> fnx.backends.cudnn.is_available()
False
>>> fnx.backends.cudnn.deterministic = False  # leave the module as it was
"""

__all__ = ["deterministic", "benchmark", "enabled", "allow_tf32", "is_available"]

deterministic = False  # PyTorch's defaults
benchmark = False
enabled = True
allow_tf32 = True


def is_available():
    """False: fnx does not use cuDNN (PyTorch's answer on a machine without it)."""
    return False
