"""fnx.numpy: the NumPy API over fnx arrays, differentiable wherever the maths is.

Users write ``import fnx.numpy as fnp`` and use NumPy names and signatures.
Each family file defines its primitives first, then its public functions.
"""
import numpy as _np

from ._scalar_types import (bool_, complex64, complex128, float16, float32, float64, int8, int16, int32, int64,
                            uint8, uint16, uint32, uint64)
from ..core.array import Array as ndarray
from . import creation, elementwise, indexing, reductions, shape, sorting, linalg, fft, windows
from . import introspection, numerical, statistics, sets, editing
from .creation import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403
from .reductions import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .sorting import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .linalg import numpy_trace as trace  # numpy.trace; fnp.linalg.trace is numpy.linalg.trace
from .statistics import *  # noqa: F401,F403
from .numerical import *  # noqa: F401,F403
from .sets import *  # noqa: F401,F403
from .editing import *  # noqa: F401,F403
from .functional import *  # noqa: F401,F403
from .histograms import *  # noqa: F401,F403
from .polynomial import *  # noqa: F401,F403
from .bessel import *  # noqa: F401,F403
from .utilities import *  # noqa: F401,F403
from .introspection import *  # noqa: F401,F403  (its shape() replaces the shape module as an attribute)
from . import _methods  # noqa: F401  (attaches operators and methods to Array)

pi, e, inf, nan, newaxis = _np.pi, _np.e, _np.inf, _np.nan, None
dtype, finfo, iinfo = _np.dtype, _np.finfo, _np.iinfo
# NumPy's abstract scalar types, for issubdtype(x.dtype, fnp.floating) and the like.
generic, number, integer, signedinteger, unsignedinteger, inexact, floating, complexfloating = (
    _np.generic, _np.number, _np.integer, _np.signedinteger, _np.unsignedinteger, _np.inexact, _np.floating,
    _np.complexfloating)
# jax.numpy's scalar-type aliases (with fnx's 64-bit default integer, as JAX with x64).
bool, double, single, int_, float_, cdouble, csingle, uint = (
    bool_, float64, float32, int64, float64, complex128, complex64, uint64)
