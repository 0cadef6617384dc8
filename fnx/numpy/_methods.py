"""Python operators and method forms of fnx arrays, attached to ``Array`` once.

Each operator and method calls the public ``fnx.numpy`` function of the same
meaning, looked up by name on first use, so a family file defines a
function once and ``x.var()`` or ``x // y`` picks it up; tracers subclass Array,
so they take the same path. Operators answer ``NotImplemented`` to operands
that are not array-like, so Python can ask the other operand (a ``Parameter``,
say) and ``x == None`` is simply False. Methods keep NumPy's signatures but
return new arrays where NumPy would work in place: ``x.sort()`` returns the
sorted array, and an ``out=`` argument is refused.
"""
import numpy as np

from .. import numpy as fnp  # fnx.numpy is still importing; its functions are looked up at call time
from ..core.array import Array
from ..errors import ImmutableError

_OPERANDS = (Array, np.ndarray, np.generic, bool, int, float, complex)
_FAST_OPERANDS = frozenset((Array, float, int))  # operands _operand would return unchanged


def _operand(x):
    """``x`` ready for an fnx function, or None when it is not array-like."""
    if isinstance(x, _OPERANDS):
        return x
    if isinstance(x, (list, tuple)):
        return fnp.asarray(x)
    return x if hasattr(x, "__cuda_array_interface__") else None


def _binary(fname, reflected=False):
    fn = None  # fnx.numpy.<fname>, found on first use (operators run per element of user code: keep them lean)

    def op(self, other):
        nonlocal fn
        if type(other) not in _FAST_OPERANDS:
            other = _operand(other)
            if other is None:
                return NotImplemented
        if fn is None:
            fn = getattr(fnp, fname)
        return fn(other, self) if reflected else fn(self, other)
    return op


def _unary(fname):
    return lambda self: getattr(fnp, fname)(self)


def _divmod(self, other):
    other = _operand(other)
    if other is None:
        return NotImplemented
    return fnp.floor_divide(self, other), fnp.remainder(self, other)


def _rdivmod(self, other):
    other = _operand(other)
    if other is None:
        return NotImplemented
    return fnp.floor_divide(other, self), fnp.remainder(other, self)


def _pow(self, other, mod=None):
    if mod is not None:
        raise TypeError("pow(x, y, mod): fnx arrays do not support a modulus; write (x ** y) % mod")
    other = _operand(other)
    if other is None:
        return NotImplemented
    return fnp.power(self, other)


# ``@`` is attached by fnx.numpy.linalg, next to matmul.
_BINARY = {"add": "add", "sub": "subtract", "mul": "multiply", "truediv": "true_divide",
           "floordiv": "floor_divide", "mod": "remainder", "and": "bitwise_and", "or": "bitwise_or",
           "xor": "bitwise_xor", "lshift": "left_shift", "rshift": "right_shift"}
_COMPARISONS = {"eq": "equal", "ne": "not_equal", "lt": "less", "le": "less_equal", "gt": "greater",
                "ge": "greater_equal"}
_UNARY = {"neg": "negative", "pos": "positive", "abs": "absolute", "invert": "invert"}

for _op, _fname in _BINARY.items():
    setattr(Array, f"__{_op}__", _binary(_fname))
    setattr(Array, f"__r{_op}__", _binary(_fname, reflected=True))
for _op, _fname in _COMPARISONS.items():  # Python reflects comparisons itself (a < b is b > a)
    setattr(Array, f"__{_op}__", _binary(_fname))
for _op, _fname in _UNARY.items():
    setattr(Array, f"__{_op}__", _unary(_fname))
Array.__pow__, Array.__rpow__ = _pow, _binary("power", reflected=True)
Array.__divmod__, Array.__rdivmod__ = _divmod, _rdivmod
Array.__getitem__ = lambda self, idx: fnp.indexing.getitem(self, idx)

# ----- method forms ------------------------------------------------------------------


def _method(fname, takes_out):
    if takes_out:
        def method(self, *args, out=None, **kwargs):
            if out is not None:
                raise ImmutableError(f"{fname}: fnx arrays are immutable, so out= is not supported; "
                                     f"use the returned array")
            return getattr(fnp, fname)(self, *args, **kwargs)
    else:
        def method(self, *args, **kwargs):
            return getattr(fnp, fname)(self, *args, **kwargs)
    method.__name__ = method.__qualname__ = fname
    method.__doc__ = f"``fnx.numpy.{fname}(x, ...)``."
    return method


# NumPy lets its functions call these methods with out=None (np.sum(x) calls x.sum(axis=None, out=None)).
_WITH_OUT = ["sum", "mean", "prod", "max", "min", "argmax", "argmin", "var", "std", "all", "any", "cumsum",
             "cumprod", "clip", "round", "dot", "take", "trace", "ptp"]
_PLAIN = ["ravel", "squeeze", "swapaxes", "repeat", "sort", "argsort", "nonzero", "diagonal", "conj", "searchsorted",
          "choose", "argpartition"]

for _name in _WITH_OUT:
    setattr(Array, _name, _method(_name, takes_out=True))
for _name in _PLAIN:
    setattr(Array, _name, _method(_name, takes_out=False))
Array.conjugate = Array.conj
Array.sort.__doc__ = "The sorted array. Unlike NumPy's in-place ``ndarray.sort``, ``x`` itself is unchanged."


def reshape(self, *shape, order="C", copy=None):
    """``x.reshape(2, 3)`` or ``x.reshape((2, 3))``, as ``fnx.numpy.reshape``."""
    return fnp.reshape(self, shape[0] if len(shape) == 1 else shape, order=order)


def transpose(self, *axes):
    """``x.transpose(1, 0)``, ``x.transpose((1, 0))`` or ``x.transpose()`` (reverse the axes)."""
    return fnp.transpose(self, axes[0] if len(axes) == 1 else (axes or None))


def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
    """``x`` converted to ``dtype`` (differentiable between floating dtypes)."""
    return fnp.astype(self, dtype)


def flatten(self, order="C"):
    """``x`` as one dimension; the same as ``x.ravel()``, since arrays are immutable."""
    return fnp.ravel(self, order)


def copy(self, order="K"):
    """``x`` itself: an immutable array is as good as its copy (``p.data`` and ``p.grad`` give a snapshot)."""
    return self.__copy__()


def __round__(self, ndigits=None):
    """Python's ``round(x)`` (integers of the default integer dtype, as jax.Array's) or ``round(x, n)``."""
    if ndigits is None:
        return fnp.astype(fnp.round(self), fnp.int64)
    return fnp.round(self, ndigits)


def compress(self, condition, axis=None, out=None):
    """``fnx.numpy.compress(condition, x, axis)``: the method takes the condition first, as NumPy's."""
    if out is not None:
        raise ImmutableError("compress: fnx arrays are immutable, so out= is not supported; use the returned array")
    return fnp.compress(condition, self, axis=axis)


def to_device(self, device, /, *, stream=None):
    """``x`` on ``device`` (the array API's name for ``fnx.device_put``)."""
    from ..transforms.device import device_put
    return device_put(self, device)


def tobytes(self, order="C"):
    """The raw bytes of ``x``'s values, as ``numpy.ndarray.tobytes``."""
    return np.asarray(self).tobytes(order)


for _f in (reshape, transpose, astype, flatten, copy, __round__, compress, to_device, tobytes):
    setattr(Array, _f.__name__, _f)

Array.T = property(lambda self: fnp.transpose(self), doc="The array with its axes reversed.")
Array.mT = property(lambda self: fnp.swapaxes(self, -1, -2), doc="The last two axes swapped (stacks of matrices).")
Array.flat = property(lambda self: fnp.ravel(self), doc="The elements in C order, as one dimension: "
                      "``x.flat[i]``, ``x.flat[[1, 4]]`` and ``for v in x.flat`` read them as NumPy's flat "
                      "iterator does (a read-only copy: write with ``x.at``).")
Array.real = property(lambda self: fnp.real(self), doc="The real part, as ``fnx.numpy.real``.")
Array.imag = property(lambda self: fnp.imag(self), doc="The imaginary part, as ``fnx.numpy.imag``.")
