"""fnx.numpy: the NumPy API over fnx arrays, differentiable wherever the maths is.

Users write ``import fnx.numpy as fnp`` and use NumPy names and signatures.
Each family file defines its primitives first, then its public functions.
"""
import numpy as _np

from ..core.dtypes import (bool_, complex64, complex128, float16, float32, float64, int8, int16, int32, int64,
                           uint8, uint16, uint32, uint64)
from ..core.array import Array as ndarray
from . import creation, elementwise, indexing, reductions, shape, sorting, linalg, fft, windows
from .creation import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403
from .reductions import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .sorting import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from . import _methods  # noqa: F401  (attaches operators and methods to Array)

pi, e, inf, nan, newaxis = _np.pi, _np.e, _np.inf, _np.nan, None
dtype, finfo, iinfo = _np.dtype, _np.finfo, _np.iinfo
