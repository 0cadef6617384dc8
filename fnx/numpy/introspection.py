"""Questions about dtypes and shapes: promotion, casting, kinds, and an array's shape.

These answer from metadata alone, so they take fnx arrays (traced ones too),
numpy arrays, dtypes and Python scalars alike, and return Python values or
dtypes, never arrays. Promotion is fnx's, which is NumPy 2's (NEP 50) with one
difference: a Python float on its own becomes the default float dtype
(float32 unless changed), as it does everywhere else in fnx.
"""
import math

import numpy as np

from ..core import dtypes
from ..core.array import Array
from ..errors import DTypeError
from ._base import normalize_axes

__all__ = ["result_type", "promote_types", "can_cast", "issubdtype", "isdtype", "isscalar", "iscomplexobj",
           "isrealobj", "ndim", "size", "shape"]

_PY_SCALARS = (bool, int, float, complex)


def _dtype_of(x):
    """The dtype of an array, or of what ``x`` names as a dtype (``"int8"``, ``float``, ``np.float32``)."""
    dt = getattr(x, "dtype", None)
    if isinstance(dt, np.dtype):
        return dt
    return dtypes.canonical(x)


def result_type(*arrays_and_dtypes):
    """The dtype NumPy 2 promotion gives ``arrays_and_dtypes``, as ``numpy.result_type``.

    Python scalars are weak: they take the dtype of the arrays they meet. Alone,
    a Python float gives the default float dtype.

    >>> import fnx.numpy as fnp
    >>> fnp.result_type(fnp.ones(2, dtype="float32"), 2.0), fnp.result_type("int8", "uint8")
    (dtype('float32'), dtype('int16'))
    """
    # Scalar types (np.float64, float) carry a class-level ``dtype`` descriptor, not a dtype: name them first.
    return dtypes.result_type(*(dtypes.canonical(x) if isinstance(x, (type, str)) else x for x in arrays_and_dtypes))


def promote_types(type1, type2):
    """The smallest dtype both ``type1`` and ``type2`` cast to safely, as ``numpy.promote_types``.

    >>> import fnx.numpy as fnp
    >>> fnp.promote_types("int8", "float16")
    dtype('float16')
    """
    a, b = dtypes.canonical(type1), dtypes.canonical(type2)
    try:
        return np.promote_types(a, b)
    except TypeError as e:
        raise DTypeError(f"promote_types: {a} and {b} have no common dtype") from e


def can_cast(from_, to, casting="safe"):
    """Whether a cast from the dtype (or array) ``from_`` to ``to`` follows ``casting``, as ``numpy.can_cast``.

    >>> import fnx.numpy as fnp
    >>> fnp.can_cast(fnp.ones(2, dtype="int32"), "float64"), fnp.can_cast("float64", "float32")
    (True, False)
    """
    if type(from_) in _PY_SCALARS:
        raise DTypeError(f"can_cast: a Python {type(from_).__name__} has no dtype of its own (it is weak, see "
                         f"result_type); pass an array or a dtype")
    return bool(np.can_cast(_dtype_of(from_), dtypes.canonical(to), casting))


def issubdtype(arg1, arg2):
    """Whether the dtype ``arg1`` is ``arg2`` or below it in the type hierarchy, as ``numpy.issubdtype``.

    >>> import fnx.numpy as fnp
    >>> fnp.issubdtype(fnp.float32, fnp.floating), fnp.issubdtype("int8", fnp.inexact)
    (True, False)
    """
    return bool(np.issubdtype(arg1, arg2))


def isdtype(dtype, kind):
    """Whether ``dtype`` is of ``kind``, as ``numpy.isdtype``.

    ``kind`` is a dtype, one of ``'bool'``, ``'signed integer'``, ``'unsigned
    integer'``, ``'integral'``, ``'real floating'``, ``'complex floating'``,
    ``'numeric'``, or a tuple of those.

    >>> import fnx.numpy as fnp
    >>> fnp.isdtype(fnp.float32, "real floating"), fnp.isdtype("int64", ("bool", "unsigned integer"))
    (True, False)
    """
    def canonical_kind(k):
        return k if isinstance(k, str) else dtypes.canonical(k)

    kind = tuple(map(canonical_kind, kind)) if isinstance(kind, tuple) else canonical_kind(kind)
    return bool(np.isdtype(dtypes.canonical(dtype), kind))


def isscalar(element):
    """Whether ``element`` is a scalar, as ``jax.numpy.isscalar``.

    Like JAX and unlike NumPy, a zero-dimensional array counts as a scalar:
    fnx has no scalar objects, so reductions and indexing return 0-d arrays
    where NumPy returns scalars, and the answer must not change between the two.

    >>> import fnx.numpy as fnp
    >>> fnp.isscalar(3.0), fnp.isscalar(fnp.sum(fnp.ones(3))), fnp.isscalar(fnp.ones(3)), fnp.isscalar([1.0])
    (True, True, False, False)
    """
    if isinstance(element, (Array, np.ndarray)):
        return element.ndim == 0
    return bool(np.isscalar(element))


def iscomplexobj(x):
    """Whether ``x`` has a complex dtype (whatever its values), as ``numpy.iscomplexobj``.

    >>> import fnx.numpy as fnp
    >>> fnp.iscomplexobj(fnp.array([1 + 0j])), fnp.iscomplexobj(1.0)
    (True, False)
    """
    dt = getattr(x, "dtype", None)
    if not isinstance(dt, np.dtype):
        dt = dtypes.scalar_dtype(x) if type(x) in _PY_SCALARS else np.asarray(x).dtype
    return dt.kind == "c"


def isrealobj(x):
    """Whether ``x`` has a non-complex dtype, as ``numpy.isrealobj``.

    >>> import fnx.numpy as fnp
    >>> fnp.isrealobj(fnp.array([1.0])), fnp.isrealobj(2j)
    (True, False)
    """
    return not iscomplexobj(x)


def shape(a):
    """The shape of ``a`` (an array, a nested list, a scalar), as ``numpy.shape``.

    >>> import fnx.numpy as fnp
    >>> fnp.shape(fnp.ones((2, 3))), fnp.shape([[1, 2]]), fnp.shape(1.0)
    ((2, 3), (1, 2), ())
    """
    s = getattr(a, "shape", None)
    if isinstance(s, tuple):
        return tuple(s)
    return np.shape(a)


def ndim(a):
    """The number of dimensions of ``a``, as ``numpy.ndim``.

    >>> import fnx.numpy as fnp
    >>> fnp.ndim(fnp.ones((2, 3))), fnp.ndim(1.0)
    (2, 0)
    """
    return len(shape(a))


def size(a, axis=None):
    """The number of elements of ``a``, or along ``axis`` (an int or a tuple), as ``numpy.size``.

    >>> import fnx.numpy as fnp
    >>> fnp.size(fnp.ones((2, 3))), fnp.size(fnp.ones((2, 3)), axis=1)
    (6, 3)
    """
    s = shape(a)
    if axis is not None and not s:
        raise np.exceptions.AxisError(f"size: axis {axis} is out of bounds for an array of dimension 0")
    return math.prod(s[i] for i in normalize_axes("size", axis, len(s)))
