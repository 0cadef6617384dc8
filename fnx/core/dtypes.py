"""Dtypes and type promotion.

fnx follows NumPy 2 (NEP 50): Python scalars are *weak*, so they take the dtype
of the array they meet (``float32_array * 2.0`` stays float32), and arrays are
never downcast. The one place fnx differs from NumPy is the dtype a Python float
or list of floats gets when it becomes an array on its own: float32 by default,
like PyTorch and JAX, changeable with :func:`set_default_dtype`.
"""
import numpy as np

from ..errors import DTypeError

bool_ = np.dtype(np.bool_)
int8, int16, int32, int64 = (np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64))
uint8, uint16, uint32, uint64 = (np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.uint64))
float16, float32, float64 = (np.dtype(t) for t in (np.float16, np.float32, np.float64))
complex64, complex128 = np.dtype(np.complex64), np.dtype(np.complex128)

_default_float = [float32]


def set_default_dtype(dtype):
    """Sets the dtype Python floats (and lists of them) become: float32 or float64.

    >>> import fnx
    >>> fnx.set_default_dtype("float64"); fnx.array(1.5).dtype
    dtype('float64')
    >>> fnx.set_default_dtype("float32"); fnx.array(1.5).dtype
    dtype('float32')
    """
    dt = np.dtype(dtype)
    if dt not in (float16, float32, float64):
        raise DTypeError(f"set_default_dtype: expected a floating dtype, got {dt}")
    _default_float[0] = dt


def default_float():
    """The dtype of Python floats turned into arrays (float32 unless changed)."""
    return _default_float[0]


def default_complex():
    return complex64 if _default_float[0] != float64 else complex128


def is_float(dtype):
    return dtype.kind == "f"


def is_inexact(dtype):
    return dtype.kind in "fc"


# The dtype of the gradient of an integer or boolean input (``allow_int=True``): JAX's trivial tangent type,
# an element of no bytes, so such a gradient can be nothing but zeros.
float0 = np.dtype([("float0", np.void, 0)])


def is_differentiable(dtype):
    """Only floating and complex values have tangents; ints and bools do not."""
    return dtype.kind in "fc"


def canonical(dtype):
    """A numpy dtype from anything numpy accepts as one (``"float32"``, ``np.int8``, ...)."""
    if dtype is float:
        return _default_float[0]
    if dtype is complex:
        return default_complex()
    if dtype is int:
        return int64
    if dtype is bool:
        return bool_
    try:
        hit = _canonical.get(dtype)
    except TypeError:  # unhashable: numpy decides below
        hit = None
    if hit is not None:
        return hit
    try:
        out = np.dtype(dtype)
    except TypeError as e:
        raise DTypeError(f"not a dtype: {dtype!r}") from e
    if len(_canonical) < 256:
        try:
            _canonical[dtype] = out
        except TypeError:
            pass
    return out


# What np.dtype made of each name seen ("float32", np.float32, fnx.numpy.float32...): it costs a
# microsecond a call, paid by every astype and creation function. The Python types are not here: float's
# dtype follows the x64 setting.
_canonical = {}


def scalar_dtype(x):
    """The dtype a lone Python scalar becomes as an array."""
    if isinstance(x, bool):
        return bool_
    if isinstance(x, int):
        return int64
    if isinstance(x, float):
        return _default_float[0]
    if isinstance(x, complex):
        return default_complex()
    raise DTypeError(f"not a scalar: {x!r} of type {type(x).__name__}")


# A weak Python scalar of each type leaves an array of these dtype kinds unchanged (NEP 50).
_WEAK_KEEPS = {bool: "biufc", int: "fc", float: "fc"}
_WEAK_TYPES = (bool, int, float, complex)  # bool first: it is an int too
_WEAK_OF_KIND = {"b": False, "i": 0, "u": 0, "f": 0.0, "c": 0j}


def result_type(*operands):
    """NumPy 2 promotion over dtypes and weak Python scalars.

    Arguments are dtypes, objects with a ``.dtype``, or Python scalars (weak).
    When every operand is a Python scalar, floats become the default float dtype.
    """
    if len(operands) == 2:  # an array and a Python scalar that cannot change its dtype: the common case
        a, b = operands
        kinds = _WEAK_KEEPS.get(type(b))
        if kinds is not None:
            dt = getattr(a, "dtype", None)
            if dt is not None and dt.kind in kinds:
                return dt
    strong = []
    weak = []
    for x in operands:
        dt = getattr(x, "dtype", None)
        if dt is not None:
            if getattr(x, "weak_type", False):  # a number traced by jit: weak, as the number was
                weak.append(_WEAK_OF_KIND.get(dt.kind, 0.0))
                continue
            strong.append(dt)
        elif isinstance(x, np.dtype):
            strong.append(x)
        elif isinstance(x, (bool, int, float, complex)):
            # NumPy takes only the exact Python types as weak: a subclass (``x.size``) joins as its base type
            weak.append(x if type(x) in _WEAK_TYPES else next(t(x) for t in _WEAK_TYPES if isinstance(x, t)))
        else:
            strong.append(canonical(x))
    if not strong:
        kinds = max(({bool: 0, int: 1, float: 2, complex: 3}[type(w)] if type(w) in (bool, int, float, complex)
                     else 2 for w in weak), default=2)
        return (bool_, int64, _default_float[0], default_complex())[kinds]
    try:
        return np.result_type(*strong, *weak)
    except (TypeError, OverflowError) as e:
        raise DTypeError(f"cannot promote {', '.join(map(str, strong + weak))}: {e}") from e
