"""``torch.backends.mps``: Apple's GPU backend, which fnx does not have (``"mps" if ...is_available()``).

>>> import fnx
>>> fnx.backends.mps.is_available(), fnx.backends.mps.is_built()
(False, False)
"""

__all__ = ["is_available", "is_built"]


def is_available():
    """False: fnx computes on numpy (CPU) and cupy (CUDA GPUs) only."""
    return False


def is_built():
    """False: fnx has no MPS backend to build."""
    return False
