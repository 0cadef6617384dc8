"""The immutable array.

An :class:`Array` wraps one backend payload (a numpy or cupy array, or a numpy
scalar) that nobody else holds, so it can never change under the user's feet.
Arithmetic operators and method forms (``x.sum()``) are attached by
``fnx.numpy`` once it has defined the functions they call; tracers subclass
Array, so everything written for arrays also works while a transform is active.
"""
import numpy as np

from . import backend
from ..errors import ImmutableError, TracerError


class Array:
    """An immutable n-dimensional array.

    >>> import fnx
    >>> x = fnx.array([[1., 2.], [3., 4.]])
    >>> (x * 2).sum()
    Array(20., dtype=float32)
    >>> x.at[0, 1].set(9.)
    Array([[1., 9.],
           [3., 4.]], dtype=float32)
    """

    __slots__ = ("_value",)
    __array_priority__ = 100  # numpy defers to our reflected operators

    def __init__(self, value):
        self._value = value

    # --- metadata ------------------------------------------------------------
    @property
    def shape(self):
        return self._value.shape

    @property
    def dtype(self):
        return self._value.dtype

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def device(self):
        return backend.device_of(self._value)

    @property
    def aval(self):
        from .primitive import ShapedArray
        return ShapedArray(self.shape, self.dtype)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __iter__(self):
        if not self.shape:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(self.shape[0]))

    # --- leaving fnx -----------------------------------------------------------
    def _concrete(self, what):
        """The payload, for conversions to Python and numpy; tracers refine this."""
        return self._value

    def __array__(self, dtype=None, copy=None):
        value = np.asarray(backend.to_host(self._concrete("numpy.asarray")))
        if dtype is not None and np.dtype(dtype) != value.dtype:
            if copy is False:
                raise ValueError(f"__array__: converting {value.dtype} to {np.dtype(dtype)} needs a copy")
            return value.astype(dtype)
        if copy:
            return value.copy()
        out = value.view()
        out.flags.writeable = False  # a view of our payload: read-only keeps the array immutable
        return out

    def __array_namespace__(self, api_version=None):
        import fnx.numpy
        return fnx.numpy

    def __dlpack__(self, *args, **kwargs):
        return self._concrete("__dlpack__").__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._concrete("__dlpack_device__").__dlpack_device__()

    def item(self, *args):
        return backend.to_host(self._concrete("item()")).item(*args)

    def tolist(self):
        return backend.to_host(self._concrete("tolist()")).tolist()

    def __float__(self):
        return float(self._scalar("float()"))

    def __int__(self):
        return int(self._scalar("int()"))

    def __index__(self):
        if self.dtype.kind not in "iub":
            raise TypeError(f"only integer arrays can be used as an index, not {self.dtype}")
        return int(self._scalar("__index__"))

    def __complex__(self):
        return complex(self._scalar("complex()"))

    def __bool__(self):
        return bool(self._scalar("bool()"))

    def _scalar(self, what):
        value = self._concrete(what)
        if value.size != 1:
            raise TypeError(f"{what}: only arrays with one element can be converted to Python scalars, "
                            f"got shape {tuple(self.shape)}")
        return backend.to_host(value).reshape(()).item()

    def __hash__(self):
        raise TypeError("unhashable type: 'fnx.Array' (use x.item() or tuple(x.tolist()) as a key)")

    def __setitem__(self, idx, value):
        raise ImmutableError("fnx arrays are immutable: instead of x[idx] = y, write x = x.at[idx].set(y)")

    def __repr__(self):
        value = backend.to_host(self._concrete("repr"))
        body = np.array2string(np.asarray(value), separator=", ", prefix="Array(")
        return f"Array({body}, dtype={self.dtype})"

    def __str__(self):
        return str(np.asarray(backend.to_host(self._concrete("str"))))

    def __format__(self, spec):
        if not spec:
            return str(self)
        return format(self._scalar("format()"), spec)

    # Arrays are immutable, so copies are the array itself.
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


def wrap(value):
    """An Array over ``value``, which the caller promises nobody else mutates."""
    a = object.__new__(Array)
    a._value = value
    return a


def concrete_error(transform, what):
    return TracerError(f"{what}: a traced value inside {transform} has no concrete value")
