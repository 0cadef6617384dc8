"""``jax.typing``: annotations for functions that take arrays.

``ArrayLike`` is what ``fnx.numpy.asarray`` accepts as one array (fnx and NumPy
arrays, NumPy scalars, Python numbers); ``DTypeLike`` what names a dtype.
"""
from typing import Union

import numpy as np

from .core.array import Array

__all__ = ["ArrayLike", "DTypeLike"]

ArrayLike = Union[Array, np.ndarray, np.bool_, np.number, bool, int, float, complex]
DTypeLike = Union[str, type, np.dtype]
