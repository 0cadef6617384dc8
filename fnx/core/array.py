"""The immutable array.

An :class:`Array` wraps one backend payload (a numpy or cupy array, or a numpy
scalar) that nobody else holds, so it can never change under the user's feet.
Arithmetic operators and method forms (``x.sum()``) are attached by
``fnx.numpy`` once it has defined the functions they call; tracers subclass
Array, so everything written for arrays also works while a transform is active.
"""
import numpy as np

from . import backend, tree
from ..errors import ImmutableError, InPlaceError, TracerError


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

    __slots__ = ("_value", "_device")
    # ``numpy_array + x`` defers to ``x.__radd__`` (and so returns an fnx array) because of this
    # priority, while numpy functions such as ``np.sin(x)`` still accept fnx arrays through
    # ``__array__``; ``__array_ufunc__ = None`` would make those raise instead.
    __array_priority__ = 100
    # JAX's weak type: only a Python number passed to ``jit`` (and what is computed from numbers alone)
    # is traced as one, so that it promotes as the number would; every concrete array is strong.
    weak_type = False

    def __init__(self, value):
        """An array over a copy of ``value`` (anything ``fnx.numpy.asarray`` takes).

        The copy is what makes the array immutable: mutating the numpy array it
        was made from afterwards cannot reach it. An fnx array is shared, since
        it cannot change either.
        """
        from .trace import Tracer
        if isinstance(value, Tracer):
            raise TracerError(f"fnx.Array(x): x is a value traced by {value._main.name}, and wrapping it would "
                              "drop the trace; use x itself (or fnx.stop_gradient(x) for a constant)")
        if not isinstance(value, Array):
            from ..numpy import asarray  # the numpy layer knows every kind of input; it copies
            value = asarray(value)
        self._value = value._value
        self._device = value._device

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
    def itemsize(self):
        return self.dtype.itemsize

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize

    @property
    def device(self):
        """The :class:`fnx.Device` holding this array (``cpu:0``, ``cuda:0``...)."""
        return self._device

    def devices(self):
        """The set of devices holding this array (one: fnx does not shard), as ``jax.Array.devices()``."""
        return {self.device}

    def block_until_ready(self):
        """Waits until the array's value is computed, and returns the array (``jax.Array.block_until_ready``):
        at once for numpy, after the device's queued work for cupy."""
        from ..transforms.extras import block_until_ready
        return block_until_ready(self)

    def to(self, *args, device=None, dtype=None, non_blocking=False, copy=False):
        """This array on a device and/or as a dtype (itself when nothing changes), like ``torch.Tensor.to``:
        ``x.to("cuda")``, ``x.to(fnx.float64)``, ``x.to("cpu", fnx.float32)``, ``x.to(other)`` (other's
        device and dtype). ``non_blocking`` and ``copy`` are accepted for PyTorch code; arrays are
        immutable, so a copy is never needed."""
        import numpy as np
        from .backend import Device
        from ..transforms.device import device_put
        for a in args:
            if isinstance(a, Array):
                device, dtype = a.device, a.dtype
            elif isinstance(a, (str, Device)) or type(a) is int:
                device = f"cuda:{a}" if type(a) is int else a  # an int is a GPU's index, as in PyTorch
            else:
                dtype = a
        dtype = None if dtype is None else np.dtype(dtype)  # (x.to(float) and x.to(dtype=float): float64 both)
        x = self if device is None else device_put(self, device)
        return x if dtype is None or np.dtype(dtype) == x.dtype else x.astype(dtype)

    def cpu(self):
        """This array on ``cpu:0`` (``torch.Tensor.cpu``); differentiable, like :meth:`to`."""
        return self.to("cpu")

    def cuda(self, device=None):
        """This array on a GPU (``torch.Tensor.cuda``): ``cuda:0``, or ``device`` given as an index or a name."""
        return self.to(backend.cuda_device(device))

    def is_pinned(self, device=None):
        """False (``torch.Tensor.is_pinned``): fnx keeps host arrays in ordinary numpy memory."""
        return False

    def pin_memory(self, device=None):
        """The array itself (``torch.Tensor.pin_memory``): fnx's host-to-GPU copies take ordinary memory, so
        there is nothing to pin, as DataLoader's ``pin_memory=True`` is accepted and changes nothing."""
        return self

    def numpy(self):
        """The values as a read-only numpy array (``torch.Tensor.numpy``).

        As in PyTorch, an array on a GPU must be copied to the host first (``x.cpu().numpy()``).
        """
        if self.device.platform != "cpu":
            from ..errors import DeviceError
            raise DeviceError(f"numpy(): the array is on {self.device}, and numpy arrays live in host memory; "
                              f"copy it first with .cpu() (or use numpy.asarray, which copies)")
        return np.asarray(self)

    @property
    def aval(self):
        from .primitive import ShapedArray
        return ShapedArray(self.shape, self.dtype)

    def __contains__(self, value):
        """``value in x``: whether some element equals it, as NumPy (and PyTorch) read it."""
        return bool((self == value).any())

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of unsized object (a 0-d array)")
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
        return _read_only(value)

    def __array_namespace__(self, api_version=None):
        import fnx.numpy
        return fnx.numpy

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        value = self._concrete("__dlpack__")
        if isinstance(value, backend.NUMPY_TYPES):
            # DLPack before 1.0 cannot mark memory read-only, so such consumers get a copy.
            legacy = max_version is None or tuple(max_version) < (1, 0)
            if legacy and copy is False:
                raise BufferError("__dlpack__: sharing an immutable fnx array needs DLPack >= 1.0 "
                                  "(max_version=(1, 0)); pass copy=None to export a copy instead")
            value = np.array(value) if legacy or copy else _read_only(value)
            copy = None
        return value.__dlpack__(stream=stream, max_version=max_version, dl_device=dl_device, copy=copy)

    def __dlpack_device__(self):
        value = self._concrete("__dlpack_device__")
        if isinstance(value, backend.NUMPY_TYPES):
            value = np.asarray(value)
        return value.__dlpack_device__()

    def item(self, *args):
        return backend.to_host(self._concrete("item()")).item(*args)

    def tolist(self):
        return backend.to_host(self._concrete("tolist()")).tolist()

    # Conversions follow NumPy 2: float(), int() and complex() take 0-d arrays only,
    # bool() any one-element array, and an index must be a 0-d integer array.
    def __float__(self):
        return float(self._scalar("float()"))

    def __int__(self):
        return int(self._scalar("int()"))

    def __complex__(self):
        return complex(self._scalar("complex()"))

    def __index__(self):
        if self.ndim or self.dtype.kind not in "iu":
            raise TypeError(f"only integer scalar arrays can be converted to a scalar index, "
                            f"not an array of shape {self.shape} and dtype {self.dtype}")
        return int(self._scalar("__index__"))

    def __bool__(self):
        size = self.size
        if size != 1:
            raise ValueError("The truth value of an empty array is ambiguous; use x.size > 0" if size == 0 else
                             f"The truth value of an array with more than one element is ambiguous "
                             f"(shape {self.shape}); use x.any() or x.all()")
        return bool(backend.to_host(self._concrete("bool()")).reshape(()).item())

    def _scalar(self, what):
        if self.ndim:
            raise TypeError(f"{what}: only 0-dimensional arrays can be converted to Python scalars, "
                            f"got shape {self.shape} (use x.item() for one-element arrays)")
        return backend.to_host(self._concrete(what)).item()

    def __hash__(self):
        raise TypeError("unhashable type: 'fnx.Array' (use x.item() or tuple(x.tolist()) as a key)")

    def __setitem__(self, idx, value):
        raise ImmutableError("fnx arrays are immutable: instead of x[idx] = y, write x = x.at[idx].set(y)")

    def __repr__(self):
        # NumPy's layout (rows aligned under the first, long rows wrapped, big arrays
        # summarised), except that the dtype is always shown.
        value = np.asarray(backend.to_host(self._concrete("repr")))
        opts = np.get_printoptions()
        body = "Array(" + np.array2string(value, separator=", ", prefix="Array(", suffix=")") + ","
        extras = f"dtype={value.dtype})"
        if value.size == 0 and value.shape != (0,) or value.size > opts["threshold"]:
            extras = f"shape={value.shape}, " + extras
        last_line = len(body) - (body.rfind("\n") + 1)
        return body + ("\n      " if last_line + len(extras) + 1 > opts["linewidth"] else " ") + extras

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


def _read_only(value):
    """A read-only numpy view of a payload, which keeps it immutable while shared."""
    out = np.asarray(value).view()
    out.flags.writeable = False
    return out


# PyTorch's in-place methods, refused with what to write instead. Methods rather than a __getattr__ hook:
# a class with __getattr__ loses CPython's fast attribute loads on every instance, and arrays are read often.
_IN_PLACE = ("add_", "sub_", "mul_", "div_", "pow_", "neg_", "abs_", "exp_", "log_", "sqrt_", "sin_", "cos_",
             "tanh_", "sigmoid_", "relu_", "floor_", "round_", "sign_", "clamp_", "clamp_min_", "clamp_max_",
             "zero_", "fill_", "copy_", "normal_", "uniform_", "bernoulli_", "exponential_", "random_",
             "masked_fill_", "index_add_", "scatter_", "scatter_add_", "addcmul_", "addcdiv_", "lerp_",
             "unsqueeze_", "squeeze_", "t_", "transpose_", "fill_diagonal_", "detach_")


def _refuse_in_place(name):
    def method(self, *args, **kwargs):
        raise InPlaceError(
            f"{name}: fnx arrays are immutable, so they have no in-place methods; compute a new array and rebind "
            f"the name (x = x * 2 rather than x.mul_(2)). A Parameter p takes PyTorch's value updates in "
            f"place: p.data.mul_(2), p.data.normal_(0.0, 0.02) or fnx.nn.init.normal_(p, 0.0, 0.02) at any "
            f"time, p.mul_(2) or p -= ... under "
            f"fnx.no_grad(); so does its .grad (p.grad.zero_(), p.grad.clamp_(-1, 1)), and so do a module's "
            f"buffers read from it (self.ema.mul_(0.9), self.queue[:, i:j] = keys.T)")
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"PyTorch's in-place ``{name}``: refused (fnx arrays are immutable), saying what to write."
    return method


for _name in _IN_PLACE:
    setattr(Array, _name, _refuse_in_place(_name))


def wrap(value, device=backend.CPU):
    """An Array over payload ``value`` on ``device``; the caller promises nobody else mutates it."""
    a = object.__new__(Array)
    a._value = value
    a._device = device
    return a


tree.register_leaf_type(Array)
