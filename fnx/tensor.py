"""PyTorch's tensor vocabulary on fnx arrays, so that a training loop ports by changing imports.

``import fnx as torch`` style code finds PyTorch's top-level functions here
(exported as ``fnx.tensor``, ``fnx.randn``, ``fnx.cat``, ``fnx.max``...) and its
tensor methods on :class:`fnx.Array` (``x.size(0)``, ``x.view(n, -1)``,
``x.float()``, ``x.argmax(dim=1)``, ``x.max(dim=1)``...), each written over
``fnx.numpy``, so all of them are differentiable and work under every
transform. Random functions draw from the global generator that
``fnx.manual_seed`` seeds.

The array itself follows NumPy (and JAX), so where the two libraries give one
name two meanings, NumPy's stands unless a PyTorch-only keyword says otherwise:

- ``x.sum(dim=1, keepdim=True)``, ``x.std(dim=0)`` (PyTorch's default
  ``correction=1``), ``x.max(dim=1)`` and ``x.sort(dim=0)`` (both returning
  ``(values, indices)``), ``x.squeeze(dim=1)`` (a no-op when that axis is not 1)
  and ``x.flatten(1)`` take PyTorch's meaning; ``x.sum(1)``, ``x.std()``,
  ``x.max(1)`` and ``x.sort(0)`` keep NumPy's.
- ``x.size`` is the number of elements (NumPy), and calling it gives
  PyTorch's ``x.size()`` (the shape) or ``x.size(d)``.
- ``x.transpose(0, 1)`` of a 2-d array and ``x.repeat(2, 1)`` keep NumPy's
  meaning (a permutation, and repeating elements): write ``x.t()`` /
  ``x.swapaxes(0, 1)`` and ``fnx.numpy.tile`` for PyTorch's. The top-level
  ``fnx.transpose(x, 0, 1)`` is PyTorch's.
- ``x.nonzero()`` keeps NumPy's meaning (a tuple of index arrays);
  ``x.nonzero(as_tuple=False)`` and ``fnx.nonzero(x)`` give PyTorch's
  ``(N, ndim)`` int64 array.
- ``fnx.promote_types`` and ``fnx.result_type`` report the dtype fnx's own
  arithmetic gives, which follows NumPy: mixing kinds can differ from PyTorch
  (int64 with float16 is float64 here, float16 in PyTorch).
- Arrays are immutable, so the in-place forms (``x.add_``, ``x.zero_()``) do
  not exist, and ``fnx.from_numpy`` copies. ``scatter``, ``index_add`` and
  friends return a new array.

``fnx.autograd``, ``fnx.func`` and ``fnx.linalg`` hold PyTorch's modules of
those names.
"""
import builtins
import functools
import inspect
import math
import operator
import sys
from collections import namedtuple

import numpy as np

from . import numpy as fnp
from . import random as _random
from .core.array import Array
from .core.backend import data_device
from .core.dtypes import default_float, result_type as _result_type
from .core.trace import Tracer
from .errors import DTypeError, ShapeError, ValueRangeError
from .numpy import stop_gradient as fnx_stop_gradient
from .numpy._base import normalize_axis
from .numpy.reductions import shifted as _shifted  # x moved along an axis, a fill coming in
from .transforms.autodiff import decorate_with, enable_grad, inference_mode, is_inference_mode_enabled, no_grad

_modules = sys.modules  # fnx.nn.functional imports after this module: looked up when called

__all__ = [
    "Tensor", "tensor", "as_tensor", "from_numpy", "is_tensor", "numel", "zeros", "ones", "empty", "full",
    "zeros_like", "ones_like", "empty_like", "full_like", "rand", "randn", "randint", "randperm", "rand_like",
    "randn_like", "arange", "linspace", "eye", "cat", "concat", "stack", "flatten", "unsqueeze", "squeeze",
    "permute", "transpose", "sum", "mean", "prod", "std", "var", "max", "min", "argmax", "argmin", "sort",
    "argsort", "topk", "softmax", "log_softmax", "clamp", "gather", "index_select", "masked_fill", "chunk",
    "split", "allclose", "equal", "FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor",
    "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor", "set_grad_enabled", "inference_mode",
    "is_inference_mode_enabled", "mm", "bmm",
    "float16", "half", "float32", "float", "float64", "double", "complex64", "cfloat", "complex128", "cdouble",
    "uint8", "int8", "int16", "short", "int32", "int", "int64", "long", "bool",
]

class _TensorType(type):
    """The type of :class:`Tensor`: every fnx array is an instance, and calling it is PyTorch's legacy
    constructor. Class attributes are Array's (``fnx.Tensor.sum(x)``)."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, Array)

    def __subclasscheck__(cls, sub):
        return isinstance(sub, type) and issubclass(sub, Array)

    def __getattr__(cls, name):
        return getattr(Array, name)

    def __call__(cls, *data, device=None):
        if not data:
            return _leaf(fnp.zeros(0, dtype=default_float(), device=device), False)
        if len(data) == 1 and isinstance(data[0], Array):
            return data[0]  # PyTorch returns the tensor itself
        if builtins.all(isinstance(d, (builtins.int, np.integer)) and not isinstance(d, builtins.bool) for d in data):
            return zeros(*data, dtype=default_float(), device=device)
        if len(data) == 1 and not isinstance(data[0], (builtins.float, builtins.complex, builtins.bool)):
            return tensor(data[0], dtype=default_float(), device=device)
        raise TypeError(f"Tensor: expected sizes or one sequence of data, got {data!r}")


class Tensor(metaclass=_TensorType):
    """``torch.Tensor``: ``isinstance(x, fnx.Tensor)`` holds for every fnx array (an :class:`~fnx.Array`).

    Called, it is PyTorch's legacy constructor, in the default float dtype:
    ``Tensor([1, 2])`` is ``tensor([1., 2.])``, ``Tensor(2, 3)`` an array of
    that shape (zeros: an uninitialised array is not observable here),
    ``Tensor()`` an empty one, and ``Tensor(x)`` of an array is ``x``.

    >>> import fnx
    >>> fnx.Tensor([1, 2]), fnx.Tensor(2, 3).shape, isinstance(fnx.ones(1), fnx.Tensor)
    (Array([1., 2.], dtype=float32), (2, 3), True)
    """

float16 = half = np.dtype("float16")
float32 = float = np.dtype("float32")
float64 = double = np.dtype("float64")
complex64 = cfloat = np.dtype("complex64")
complex128 = cdouble = np.dtype("complex128")
uint8, int8 = np.dtype("uint8"), np.dtype("int8")
int16 = short = np.dtype("int16")
int32 = int = np.dtype("int32")
int64 = long = np.dtype("int64")
bool = np.dtype("bool")

# What torch.max(x, dim) and friends return: a named pair.
values_indices = namedtuple("values_indices", ["values", "indices"])


def _sizes(size):
    """``zeros(2, 3)`` and ``zeros((2, 3))`` alike; a 0-d integer array counts as its int, as in PyTorch."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return tuple(operator.index(s) if isinstance(s, Array) else s for s in size)


def _axis(dim):
    if isinstance(dim, (list, tuple)) and not dim:  # PyTorch reads dim=() as every dimension
        return None
    return tuple(dim) if isinstance(dim, list) else dim


def _scalar_dim(fname, x, dim):
    """Whether ``x`` is 0-d and ``dim`` names its one dimension as PyTorch lets it: 0 or -1 (a scalar is then
    treated as one element, and the result is 0-d again)."""
    if x.ndim:
        return False
    if dim not in (0, -1):
        raise IndexError(f"{fname}: dimension out of range (expected to be in range of [-1, 0], but got {dim})")
    return True


def _special():
    from .scipy import special
    return special


def _leaf(x, requires_grad):
    if not requires_grad:
        return x
    from .nn.parameter import LeafTensor  # accumulates .grad, as PyTorch's requires_grad tensors do
    return LeafTensor(x)


# ----- creation ----------------------------------------------------------------------------------

def tensor(data, *, dtype=None, device=None, requires_grad=False):
    """A new array holding ``data`` (``torch.tensor``); with ``requires_grad`` a leaf whose ``.grad``
    ``backward()`` fills. Python floats become float32 (fnx's default float), Python ints int64.

    >>> import fnx
    >>> x = fnx.tensor([1.0, 2.0], requires_grad=True)
    >>> (x ** 2).sum().backward()
    >>> x.grad
    Array([2., 4.], dtype=float32)
    """
    if isinstance(data, Array):
        data = data.detach()  # a copy outside autograd, as torch.tensor(t) (torch suggests t.clone().detach())
    return _leaf(fnp.array(data, dtype=dtype, device=device), requires_grad)


def as_tensor(data, dtype=None, device=None):
    """``data`` as an array (``torch.as_tensor``); an array already of that dtype and device is returned as is."""
    return fnp.asarray(data, dtype=dtype, device=device)


def from_numpy(ndarray):
    """An array with the values of ``ndarray`` (``torch.from_numpy``). fnx arrays are immutable, so this
    copies: a later change to ``ndarray`` does not show through, unlike in PyTorch."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(ndarray).__name__}")
    return fnp.array(ndarray)


def is_tensor(obj):
    return isinstance(obj, Array)


def numel(input):
    return math.prod(input.shape)


def _created(make, size, dtype, device, requires_grad):
    return _leaf(make(_sizes(size), dtype=dtype, device=device), requires_grad)


def _size_given(fname, size, keywords):
    """The sizes given positionally (ints or one tuple) or as PyTorch's ``size=`` keyword."""
    unknown = set(keywords) - {"size"}
    if unknown:
        raise TypeError(f"{fname}() got an unexpected keyword argument {sorted(unknown)[0]!r}")
    if "size" not in keywords:
        return size
    if size:
        raise TypeError(f"{fname}: give the size positionally or as size=, not both")
    return (keywords["size"],)


def zeros(*size, dtype=None, device=None, requires_grad=False, **size_keyword):
    return _created(fnp.zeros, _size_given("zeros", size, size_keyword), dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, **size_keyword):
    return _created(fnp.ones, _size_given("ones", size, size_keyword), dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, **size_keyword):
    """Zeros: an uninitialised array is not observable in an immutable framework."""
    return _created(fnp.zeros, _size_given("empty", size, size_keyword), dtype, device, requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    return _leaf(fnp.full(tuple(size), fill_value, dtype=dtype, device=device), requires_grad)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False):
    return _leaf(fnp.zeros_like(input, dtype=dtype, device=device), requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False):
    return _leaf(fnp.ones_like(input, dtype=dtype, device=device), requires_grad)


empty_like = zeros_like


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):
    return _leaf(fnp.full_like(input, fill_value, dtype=dtype, device=device), requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """``torch.arange``: int64 for integer bounds, the default float otherwise."""
    if dtype is None and builtins.all(isinstance(v, (builtins.int, np.integer)) for v in (start, end, step)
                                      if v is not None):
        dtype = int64
    return _leaf(fnp.arange(start, end, step, dtype=dtype, device=device), requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` (``torch.linspace``); an integer ``dtype`` takes
    them rounded toward zero, as PyTorch does (NumPy rounds down)."""
    if dtype is not None and np.dtype(dtype).kind in "iu":
        return _leaf(fnp.linspace(start, end, steps, dtype="float64", device=device).astype(dtype), requires_grad)
    return _leaf(fnp.linspace(start, end, steps, dtype=dtype, device=device), requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    return _leaf(fnp.eye(n, m, dtype=dtype, device=device), requires_grad)


# ----- random, from the global generator -----------------------------------------------------------

def _placed(x, device):
    return x if device is None else x.to(device)


def _draw_key(opname, generator):
    """The key for one draw: from ``generator`` (an :class:`fnx.Generator`) or, when None, the global one."""
    if generator is not None and not isinstance(generator, _random.Generator):
        raise TypeError(f"{opname}: generator must be an fnx.Generator or None, got {type(generator).__name__}")
    return _random.next_key(generator)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, **size_keyword):
    """Uniform on [0, 1), from ``generator`` or the global one ``fnx.manual_seed`` seeds."""
    size = _size_given("rand", size, size_keyword)
    x = _random.uniform(_draw_key("rand", generator), _sizes(size), dtype=dtype)
    return _leaf(_placed(x, device), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, **size_keyword):
    """Standard normal, from ``generator`` or the global one ``fnx.manual_seed`` seeds."""
    size = _size_given("randn", size, size_keyword)
    x = _random.normal(_draw_key("randn", generator), _sizes(size), dtype=dtype)
    return _leaf(_placed(x, device), requires_grad)


def randint(low=0, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Integers in [low, high) (``torch.randint(high, size)`` or ``torch.randint(low, high, size)``, ``size``
    positional or by keyword), int64 unless ``dtype`` says otherwise (a float dtype holds the integers)."""
    if high is None:  # randint(high, size) or randint(high, size=...)
        low, high = 0, low
    elif size is None and isinstance(high, (tuple, list, Size)):  # randint(high, size) positionally
        low, high, size = 0, low, high
    if size is None or high is None:
        raise TypeError("randint: expected randint(high, size) or randint(low, high, size)")
    dt = np.dtype(dtype) if dtype is not None else int64
    x = _random.randint(_draw_key("randint", generator), _sizes((size,)), low, high,
                        dtype=dt if dt.kind in "iu" else int64)
    return _leaf(_placed(x if dt.kind in "iu" else x.astype(dt), device), requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None):
    """A random permutation of ``0 .. n-1``, int64, from ``generator`` or the global one."""
    x = _random.permutation(_draw_key("randperm", generator), n)
    return _placed(x if dtype is None else x.astype(dtype), device)


def rand_like(input, *, generator=None, dtype=None, device=None, requires_grad=False):
    return rand(input.shape, generator=generator, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def randn_like(input, *, generator=None, dtype=None, device=None, requires_grad=False):
    return randn(input.shape, generator=generator, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


# ----- shapes ------------------------------------------------------------------------------------

def cat(tensors, dim=0, *, axis=None):
    """``tensors`` joined along ``dim`` (``torch.cat``; ``axis`` is its alias there too). As in PyTorch, an empty
    1-d tensor (shape ``(0,)``) is skipped beside tensors of other ranks: ``acc = fnx.cat([acc, batch])`` from
    ``acc = fnx.tensor([])``."""
    dim = dim if axis is None else axis
    tensors = [fnp.asarray(t) for t in tensors]
    if builtins.any(t.ndim != 1 for t in tensors):
        legacy = [t for t in tensors if t.shape == (0,)]
        kept = [t for t in tensors if t.shape != (0,)]
        if legacy and kept:
            dt = _result_type(*tensors)
            tensors = [t if t.dtype == dt else t.astype(dt) for t in kept]
    return fnp.concatenate(tensors, axis=dim)


concat = cat


def stack(tensors, dim=0, *, axis=None):
    return fnp.stack(tensors, axis=dim if axis is None else axis)


def flatten(input, start_dim=0, end_dim=-1):
    """Axes ``start_dim`` to ``end_dim`` (inclusive) merged into one (``torch.flatten``)."""
    x = fnp.asarray(input)
    if x.ndim == 0:
        return fnp.reshape(x, (1,))
    start, end = start_dim % x.ndim, end_dim % x.ndim
    if start > end:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {x.shape}")
    return fnp.reshape(x, x.shape[:start] + (math.prod(x.shape[start:end + 1]),) + x.shape[end + 1:])


def unsqueeze(input, dim):
    return fnp.expand_dims(input, dim)


def squeeze(input, dim=None):
    """``torch.squeeze``: the axes of size 1 among ``dim`` (all by default) removed; others are kept."""
    x = fnp.asarray(input)
    if dim is None:
        return fnp.squeeze(x)
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    ones = tuple(d % builtins.max(x.ndim, 1) for d in dims if x.ndim and x.shape[d] == 1)
    return fnp.squeeze(x, ones) if ones else x


def permute(input, dims):
    return fnp.transpose(input, tuple(dims))


def transpose(input, dim0, dim1):
    """``torch.transpose``: axes ``dim0`` and ``dim1`` swapped."""
    return fnp.swapaxes(input, dim0, dim1)


def chunk(input, chunks, dim=0):
    """Up to ``chunks`` pieces along ``dim`` of ``ceil(n / chunks)`` each, the last smaller (``torch.chunk``)."""
    if not isinstance(chunks, (builtins.int, np.integer)) or chunks <= 0:
        raise ValueRangeError(f"chunk: chunks must be a positive int, got {chunks!r}")
    n = input.shape[dim]
    step = -(-n // chunks) if n else 1
    return split(input, step, dim)


def split(tensor, split_size_or_sections, dim=0):
    """Pieces of ``split_size`` along ``dim`` (the last smaller), or of the listed sizes (``torch.split``)."""
    n = tensor.shape[dim]
    if isinstance(split_size_or_sections, (builtins.int, np.integer)):
        step = builtins.int(split_size_or_sections)
        if step <= 0:
            raise ValueError(f"split: split_size must be positive, got {step}")
        bounds = list(range(step, n, step))
    else:
        sizes = list(split_size_or_sections)
        if builtins.sum(sizes) != n:
            raise ShapeError(f"split: sizes {sizes} sum to {builtins.sum(sizes)}, but axis {dim} of "
                             f"{tensor.shape} has {n}")
        bounds = list(np.cumsum(sizes)[:-1])
    return tuple(fnp.split(tensor, bounds, axis=dim))


def gather(input, dim, index):
    """``out[i][j] = input[index[i][j]][j]`` for ``dim=0`` and so on (``torch.gather``); ``index`` may be
    smaller than ``input`` along the other axes."""
    x, index = fnp.asarray(input), fnp.asarray(index)
    if _scalar_dim("gather", x, dim) and index.ndim == 0:
        return fnp.reshape(gather(fnp.reshape(x, (1,)), 0, fnp.reshape(index, (1,))), ())
    if index.ndim != x.ndim:
        raise ShapeError(f"gather: index has {index.ndim} dimensions, input {x.ndim} (shapes {index.shape} "
                         f"and {x.shape})")
    d = dim % x.ndim
    if builtins.any(i > s for k, (i, s) in enumerate(zip(index.shape, x.shape)) if k != d):
        raise ShapeError(f"gather: index of shape {index.shape} is larger than input {x.shape} outside axis {dim}")
    _in_range("gather", index, dim, x.shape[d])
    x = x[tuple(slice(0, i) if k != d else slice(None) for k, i in enumerate(index.shape))]
    return fnp.take_along_axis(x, index, axis=d)


def index_select(input, dim, index):
    """The entries of ``input`` at ``index`` (a 1-d, or 0-d, integer array) along ``dim`` (``torch.index_select``);
    the result keeps ``dim``, and a negative index is an IndexError, as in PyTorch."""
    x, index = fnp.asarray(input), fnp.asarray(index)
    if index.ndim > 1:
        raise ShapeError(f"index_select: index must be 0- or 1-dimensional, got shape {index.shape}")
    index = fnp.reshape(index, (-1,))
    _in_range("index_select", index, dim, x.shape[dim % builtins.max(x.ndim, 1)] if x.ndim else 1)
    return fnp.take(x, index, axis=dim)


def _in_range(fname, index, dim, size):
    """PyTorch's bounds check of a gather/scatter index along ``dim``: a negative index is an error there, where
    NumPy's take would count it from the end (a label of -1 would silently read the last class)."""
    from .nn.functional import _out_of_range
    bad = _out_of_range(index, size)
    if bad is not None:
        raise IndexError(f"{fname}: index {bad} is out of bounds for dimension {dim} with size {size}")


def masked_fill(input, mask, value):
    """``value`` where ``mask`` holds, ``input`` elsewhere (``torch.masked_fill``), in ``input``'s dtype."""
    x = fnp.asarray(input)
    with data_device(x):
        return fnp.where(mask, fnp.asarray(value).astype(x.dtype), x)


# ----- reductions: dim and keepdim ----------------------------------------------------------------

def sum(input, dim=None, keepdim=False, *, dtype=None):
    return fnp.sum(input, axis=_axis(dim), keepdims=keepdim, dtype=dtype)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    return fnp.mean(input, axis=_axis(dim), keepdims=keepdim, dtype=dtype)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    return fnp.prod(input, axis=dim, keepdims=keepdim, dtype=dtype)


def _ddof(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def _unbiased_form(dim, unbiased):
    """``(dim, unbiased)``, reading PyTorch's old ``std(input, unbiased)`` form (a bool where dim stands)."""
    return (None, dim) if isinstance(dim, builtins.bool) else (dim, unbiased)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``torch.std``: Bessel-corrected by default (``correction=1``), unlike ``fnx.numpy.std``."""
    dim, unbiased = _unbiased_form(dim, unbiased)
    return fnp.std(input, axis=_axis(dim), ddof=_ddof(unbiased, correction), keepdims=keepdim)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``torch.var``: Bessel-corrected by default (``correction=1``), unlike ``fnx.numpy.var``."""
    dim, unbiased = _unbiased_form(dim, unbiased)
    return fnp.var(input, axis=_axis(dim), ddof=_ddof(unbiased, correction), keepdims=keepdim)


def _extreme(name, reduce, pick, elementwise):
    def fn(input, dim=None, keepdim=False, *, other=None):
        if isinstance(dim, Array) or other is not None:  # max(a, b): the elementwise maximum
            return elementwise(input, dim if other is None else other)
        if dim is None:
            return reduce(input)
        x = fnp.asarray(input)
        if type(x) is Array:  # nothing differentiates it: the reduction's values are the picked ones
            return values_indices(reduce(x, axis=dim, keepdims=keepdim), pick(x, axis=dim, keepdims=keepdim))
        indices = pick(x, axis=dim, keepdims=True)
        values = fnp.take_along_axis(x, indices, axis=dim)  # the gradient goes to the index, as in PyTorch
        if not keepdim:
            values, indices = fnp.squeeze(values, dim), fnp.squeeze(indices, dim)
        return values_indices(values, indices)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"``torch.{name}``: of all elements; with ``dim``, the pair ``(values, indices)`` (the first "
                  f"extreme index of each row); ``{name}(a, b)`` is elementwise.")
    return fn


max = _extreme("max", fnp.max, fnp.argmax, fnp.maximum)
min = _extreme("min", fnp.min, fnp.argmin, fnp.minimum)


def argmax(input, dim=None, keepdim=False):
    """The index of the largest entry along ``dim``, or in the flattened array; with ``keepdim`` and no ``dim``,
    shaped as one entry of every axis, as PyTorch gives it."""
    return _arg_extreme(fnp.argmax, input, dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    """The index of the smallest entry, as :func:`argmax` gives the largest."""
    return _arg_extreme(fnp.argmin, input, dim, keepdim)


def _arg_extreme(find, input, dim, keepdim):
    x = fnp.asarray(input)
    if dim is None and keepdim:
        return fnp.reshape(find(x), (1,) * x.ndim)
    return find(x, axis=dim, keepdims=keepdim and dim is not None)


def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort along ``dim``, equal elements in their order (stable); NaN counts as the largest value,
    as in PyTorch, so ``descending`` puts NaNs first."""
    return fnp.argsort(input, axis=dim, stable=True, descending=descending)


def sort(input, dim=-1, descending=False, stable=False):
    """``(values, indices)`` sorted along ``dim`` (``torch.sort``)."""
    x = fnp.asarray(input)
    if _scalar_dim("sort", x, dim):
        return values_indices(x, fnp.zeros((), dtype=fnp.int64, device=x.device))
    indices = argsort(x, dim, descending)
    return values_indices(fnp.take_along_axis(x, indices, axis=dim), indices)


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) elements along ``dim`` and their indices, in order (``torch.topk``)."""
    x = fnp.asarray(input)
    if _scalar_dim("topk", x, dim):
        values, indices = topk(fnp.reshape(x, (1,)), k, 0, largest, sorted)
        return values_indices(fnp.reshape(values, ()), fnp.reshape(indices, ())) if k == 1 else \
            values_indices(values, indices)
    if not 0 <= k <= x.shape[dim]:
        raise ShapeError(f"topk: k={k} is out of range for axis {dim} of shape {x.shape}")
    with data_device(x):
        indices = fnp.take(argsort(x, dim, descending=largest), fnp.arange(k), axis=dim)
    return values_indices(fnp.take_along_axis(x, indices, axis=dim), indices)


def softmax(input, dim, dtype=None):
    return _modules["fnx.nn.functional"].softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, dtype=None):
    return _modules["fnx.nn.functional"].log_softmax(input, dim, dtype=dtype)


_NUMBERS = (builtins.int, builtins.float, np.number)  # (this module's int and float are PyTorch's dtypes)


def _number_or_none(bound):
    return bound is None or (isinstance(bound, _NUMBERS) and not isinstance(bound, builtins.bool))


def clamp(input, min=None, max=None):
    """``min(max(input, min), max)`` (``torch.clamp``); either bound may be None.

    The gradient follows PyTorch's two rules. With numbers for bounds it reaches
    ``input`` only where it lies strictly inside them (0 at a bound). With arrays,
    a tie of ``input`` and a bound splits the gradient evenly between them (all of
    it to ``input`` where both bounds equal it), a bound gets it where it is the
    output, and ``max`` all of it where ``min > max``. ``fnx.numpy.clip`` splits
    every tie evenly, as JAX.
    """
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    x = fnp.asarray(input)
    if _number_or_none(min) and _number_or_none(max):
        if type(x) is Array:
            return fnp.clip(x, min, max)  # nothing differentiates x, and numbers have no gradient: the values agree
        return _clamp_by_numbers(x, min, max)
    if max is None:
        return fnp.maximum(x, min)  # (a tie split evenly, as PyTorch's clamp with a tensor bound)
    if min is None:
        return fnp.minimum(x, max)
    lo, hi = fnp.asarray(min), fnp.asarray(max)
    # PyTorch's cases, each output a single operand, or at a tie the mean of two equal ones (which splits the
    # gradient; elsewhere the mean is of x with itself, so no inf - inf is formed where it is not taken).
    def tie_mean(bound, tie):
        return x * 0.5 + fnp.where(tie, bound, x) * 0.5
    at_hi, at_lo = x == hi, x == lo
    out = fnp.where(at_hi, tie_mean(hi, at_hi), x)  # (min < x == max)
    out = fnp.where(at_lo, tie_mean(lo, at_lo), out)  # (x == min < max)
    out = fnp.where(at_lo & (lo == hi), x, out)
    out = fnp.where(x < lo, lo, fnp.where(x > hi, hi, out))
    return fnp.where(lo > hi, hi, out)


def _clamp_by_numbers(x, min, max):
    inside = None
    for bound, strictly_inside in ((min, fnp.greater), (max, fnp.less)):
        if bound is not None:
            test = strictly_inside(x, bound)
            inside = test if inside is None else fnp.logical_and(inside, test)
    outside = fnp.clip(fnx_stop_gradient(x), min, max)  # the bounds' own gradients where they are the output
    return fnp.where(inside, x, outside)


def mm(input, mat2):
    """The product of two matrices (``torch.mm``: 2-d operands only)."""
    a, b = fnp.asarray(input), fnp.asarray(mat2)
    if a.ndim != 2 or b.ndim != 2:
        raise ShapeError(f"mm: expected two matrices, got shapes {a.shape} and {b.shape}")
    return fnp.matmul(a, b)


def bmm(input, mat2):
    """Batched matrix products (``torch.bmm``: two 3-d operands of one batch size)."""
    a, b = fnp.asarray(input), fnp.asarray(mat2)
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise ShapeError(f"bmm: expected two 3-d arrays with one batch size, got shapes {a.shape} and {b.shape}")
    return fnp.matmul(a, b)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether ``|input - other| <= atol + rtol * |other|`` everywhere, as a Python bool (``torch.allclose``)."""
    return builtins.bool(fnp.allclose(input, other, rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input, other):
    """True when both have one shape and equal elements (``torch.equal``)."""
    a, b = fnp.asarray(input), fnp.asarray(other)
    return a.shape == b.shape and builtins.bool(fnp.all(a == b))


def _legacy_type(name, dtype):
    def make(*args, device=None):
        if len(args) == 1 and not isinstance(args[0], (builtins.int, np.integer)):
            return tensor(args[0], dtype=dtype, device=device)
        return zeros(*args, dtype=dtype, device=device)
    make.__name__ = make.__qualname__ = name
    make.__doc__ = (f"PyTorch's legacy ``torch.{name}``: ``{name}(data)`` is ``tensor(data, dtype={dtype})`` and "
                    f"``{name}(*sizes)`` an array of those sizes, filled with zeros (PyTorch leaves it "
                    f"uninitialised; fnx arrays are immutable, so they start as something).")
    return make


FloatTensor, DoubleTensor, HalfTensor = (_legacy_type(n, d) for n, d in (
    ("FloatTensor", np.dtype("float32")), ("DoubleTensor", np.dtype("float64")), ("HalfTensor", np.dtype("float16"))))
LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor, BoolTensor = (_legacy_type(n, d) for n, d in (
    ("LongTensor", np.dtype("int64")), ("IntTensor", np.dtype("int32")), ("ShortTensor", np.dtype("int16")),
    ("CharTensor", np.dtype("int8")), ("ByteTensor", np.dtype("uint8")), ("BoolTensor", np.dtype("bool"))))


class set_grad_enabled:
    """Turns recording for ``backward()`` on or off (``torch.set_grad_enabled``).

    As in PyTorch it is both a function and a context manager: the call itself
    sets the mode, which then holds until changed again, and leaving a ``with``
    block restores the mode from before the call.

    >>> import fnx
    >>> w = fnx.nn.Parameter(fnx.ones(2))
    >>> with fnx.set_grad_enabled(False):
    ...     (w * 2).requires_grad
    False
    >>> _ = fnx.set_grad_enabled(False)
    >>> fnx.is_grad_enabled(), (w * 2).requires_grad
    (False, False)
    >>> _ = fnx.set_grad_enabled(True)
    >>> (w * 2).requires_grad
    True
    """

    def __init__(self, mode):
        if not isinstance(mode, (builtins.bool, np.bool_)):
            raise TypeError(f"set_grad_enabled: mode must be a bool, got {type(mode).__name__}")
        self._context = enable_grad() if mode else no_grad()
        self._context.__enter__()  # the call sets the mode, for plain-function use

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._context.__exit__(*exc)  # back to the mode from before the call
        return False

    def __call__(self, fn):
        mode = self._context._enabled
        self._context.__exit__()  # as a decorator it changes the mode only while fn runs
        return decorate_with(lambda: set_grad_enabled(mode), fn)



def add(input, other, *, alpha=1):
    return fnp.add(input, other if alpha == 1 else other * alpha)


def sub(input, other, *, alpha=1):
    return fnp.subtract(input, other if alpha == 1 else other * alpha)


def div(input, other, *, rounding_mode=None):
    """``input / other``; ``rounding_mode="trunc"`` rounds toward zero, ``"floor"`` down (``torch.div``).
    Integers divide into the default float dtype, as in PyTorch (the ``/`` operator follows NumPy)."""
    if rounding_mode is None:
        q = fnp.true_divide(input, other)
        return q.astype(default_float()) if _result_type(input, other).kind in "biu" else q  # PyTorch's float
    if rounding_mode == "floor":
        return fnp.floor_divide(input, other)
    if rounding_mode == "trunc":  # toward zero, in the operands' dtype (integers stay integers)
        q = fnp.trunc(fnp.true_divide(input, other))
        dtype = _result_type(input, other)
        return q if dtype.kind in "fc" else q.astype(dtype)
    raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")


def rsqrt(input):
    return 1 / fnp.sqrt(input)


def sigmoid(input):
    return _modules["fnx.nn.functional"].sigmoid(input)


def relu(input):
    return _modules["fnx.nn.functional"].relu(input)


def logsumexp(input, dim, keepdim=False):
    from .scipy.special import logsumexp as _logsumexp
    return _logsumexp(input, axis=_axis(dim), keepdims=keepdim)


def all(input, dim=None, keepdim=False):
    return fnp.all(input, axis=_axis(dim), keepdims=keepdim)


def any(input, dim=None, keepdim=False):
    return fnp.any(input, axis=_axis(dim), keepdims=keepdim)


def cumsum(input, dim, *, dtype=None):
    x = fnp.asarray(input)
    if _scalar_dim("cumsum", x, dim):
        return fnp.reshape(fnp.cumsum(x, dtype=dtype), ())
    return fnp.cumsum(x, axis=dim, dtype=dtype)


def cumprod(input, dim, *, dtype=None):
    x = fnp.asarray(input)
    if _scalar_dim("cumprod", x, dim):
        return fnp.reshape(fnp.cumprod(x, dtype=dtype), ())
    return fnp.cumprod(x, axis=dim, dtype=dtype)


# Functions whose positional meaning is the same in NumPy and PyTorch (torch.exp(x), torch.where(c, x, y),
# torch.matmul(a, b), torch.roll(x, 1, 0)...): fnx.numpy's, under PyTorch's name.
mul, pow, neg = fnp.multiply, fnp.power, fnp.negative
_SAME = ["where", "exp", "exp2", "log", "log2", "log10", "log1p", "expm1", "sqrt", "square", "abs", "sin", "cos",
         "tan", "tanh", "sinh", "cosh", "arcsin", "arccos", "arctan", "arctan2", "floor", "ceil", "round", "trunc",
         "sign", "maximum", "minimum", "isnan", "isinf", "isfinite", "matmul", "einsum", "dot", "kron",
         "trace", "tile", "broadcast_to", "take", "logical_and",
         "logical_or", "logical_not", "logical_xor", "remainder", "fmod", "erf"]
for _name in _SAME:
    globals()[_name] = getattr(fnp, _name, None) or getattr(_special(), _name)


def outer(input, vec2):
    """The outer product of two vectors (``torch.outer``: 1-d operands, where NumPy's flattens)."""
    a, b = fnp.asarray(input), fnp.asarray(vec2)
    if a.ndim != 1 or b.ndim != 1:
        raise ShapeError(f"outer: expected two 1-d vectors, got shapes {a.shape} and {b.shape}")
    return fnp.outer(a, b)


def reciprocal(input):
    """``1 / input`` (``torch.reciprocal``): integers and booleans become the default float first, as in
    PyTorch (NumPy's reciprocal of an integer divides as integers)."""
    x = fnp.asarray(input)
    return fnp.reciprocal(x if x.dtype.kind in "fc" else x.astype(default_float()))


_SAME += ["outer", "reciprocal"]
__all__ += _SAME + ["add", "sub", "div", "mul", "pow", "neg", "rsqrt", "sigmoid", "relu", "logsumexp", "all", "any",
                    "cumsum", "cumprod", "norm"]


# ----- methods ------------------------------------------------------------------------------------

class _Size(builtins.int):
    """``x.size``: the number of elements as NumPy has it; called, PyTorch's ``x.size()`` or ``x.size(d)``."""

    def __new__(cls, shape):
        self = builtins.int.__new__(cls, math.prod(shape))
        self._dims = shape  # not ``shape``: code that meets an int with a shape takes it for an array
        return self

    def __call__(self, dim=None):
        return Size(self._dims) if dim is None else self._dims[dim]


def _view(self, *shape, size=None):
    """``x.view(2, -1)`` or ``x.view(size=...)``: ``x`` reshaped (``torch.Tensor.view``); arrays are immutable, so
    nothing is shared."""
    if size is not None:
        shape = (size,)
    if not shape:  # jax.Array's x.view(): x itself
        return self
    if len(shape) == 1 and not isinstance(shape[0], (builtins.int, np.integer, tuple, list)):
        return _view_as_dtype(self, shape[0])
    return fnp.reshape(self, _sizes(shape))


def _view_as_dtype(x, dtype):
    """``x.view(fnx.int32)``: the same bytes read as ``dtype`` (the last axis rescaled by the item sizes), as
    PyTorch's; a new array here, as arrays are immutable. Bits have no derivative, so a traced value refuses."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"view: expected sizes or a dtype, got {dtype!r}") from None
    if isinstance(x, Tracer):
        raise TypeError(f"view({dtype}): reinterpreting the bits of a traced or recorded {x.dtype} array has no "
                        f"derivative; use .astype({dtype}) to convert the values, or x.detach().view(...)")
    value = x._value
    if value.ndim == 0 and dtype.itemsize != value.dtype.itemsize:
        raise ShapeError(f"view({dtype}): a 0-d {value.dtype} array can only be viewed as a dtype of its size")
    if value.ndim and (value.shape[-1] * value.dtype.itemsize) % dtype.itemsize:
        raise ShapeError(f"view({dtype}): the last axis of {value.dtype}{list(value.shape)} holds "
                         f"{value.shape[-1] * value.dtype.itemsize} bytes, not a multiple of {dtype.itemsize}")
    from .core.array import wrap
    return wrap(x._value.copy().view(dtype), x._device)


def _expand(self, *sizes, size=None):
    """``x.expand(3, -1)`` or ``x.expand(size=...)``: ``x`` broadcast to ``sizes``, -1 keeping an axis
    (``torch.Tensor.expand``)."""
    sizes = _sizes(sizes if size is None else (size,))
    lead = len(sizes) - self.ndim
    if lead < 0:
        raise ShapeError(f"expand: {len(sizes)} sizes {sizes} for an array of {self.ndim} dimensions {self.shape}")
    return fnp.broadcast_to(self, tuple(self.shape[i - lead] if s == -1 and i >= lead else s
                                        for i, s in enumerate(sizes)))


def _clone(self):
    """A copy that is still differentiable (``torch.Tensor.clone``): a parameter's value as it is now."""
    from .nn.parameter import Parameter
    # An immutable array is its own copy; ``p.data`` and ``p.grad`` copy to a snapshot of their value.
    return fnp.multiply(self, 1) if isinstance(self, Parameter) else self.__copy__()


def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """``torch.norm``: the ``p``-norm of the elements along ``dim`` (all of them by default), taken together
    as one vector, so that over two dims ``"fro"`` and 2 are the Frobenius norm; ``"nuc"`` is the nuclear
    norm of the matrices over the two dims ``dim`` (of a matrix by default)."""
    if out is not None:
        raise TypeError("norm: fnx arrays are immutable, so there is no out=; use the returned array")
    from . import linalg
    x = fnp.asarray(input)
    if p == "nuc":
        return linalg.matrix_norm(x, "nuc", tuple(range(x.ndim)) if dim is None else _axis(dim), keepdim, dtype=dtype)
    if isinstance(p, str) and p != "fro":
        raise ValueError(f"norm: p must be a number, 'fro' or 'nuc', got {p!r}")
    return linalg.vector_norm(x, 2 if p == "fro" or p is None else p, _axis(dim), keepdim, dtype=dtype)


def _new(make):
    def method(self, *args, dtype=None, device=None, requires_grad=False):
        return make(*args, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)
    return method


def _as(dtype):
    def method(self):
        return self.astype(dtype)
    method.__doc__ = f"``x`` as {dtype}."
    return method


def _numpy_or_torch(numpy_method, torch_fn, torch_keys, torch_when=None, numpy_keys=frozenset()):
    """A method with NumPy's meaning, or PyTorch's when a PyTorch-only keyword (or ``torch_when``) says so.

    A keyword of ``numpy_keys`` (one PyTorch lacks) keeps NumPy's (JAX's) meaning, even beside a keyword the
    two share: ``x.sort(axis=0, descending=True)`` is jax.Array's sort, ``x.sort(descending=True)`` PyTorch's.
    """
    def method(self, *args, **kwargs):
        # Checked only when there is something to check: x.sum() stays one call away from fnx.numpy.sum.
        if ((kwargs and torch_keys.intersection(kwargs) and not numpy_keys.intersection(kwargs))
                or (args and torch_when and torch_when(self, args))):
            return torch_fn(self, *args, **kwargs)
        return numpy_method(self, *args, **kwargs)
    method.__name__ = method.__qualname__ = numpy_method.__name__
    method.__doc__ = (f"{numpy_method.__doc__ or ''} With {', '.join(sorted(torch_keys))}: "
                      f"``torch.Tensor.{numpy_method.__name__}``.")
    return method


def _keepdim_given(self, args):  # x.sum(0, True): NumPy's second place (dtype, or out) takes no bool
    return len(args) >= 2 and isinstance(args[1], builtins.bool)


def _squeezes_a_longer_axis(self, args):  # x.squeeze(0) of a longer axis: NumPy refuses, PyTorch keeps x
    if len(args) != 1:
        return False
    axes = args[0] if isinstance(args[0], tuple) else (args[0],)
    if not self.ndim:  # a scalar's one dimension, as PyTorch lets 0 and -1 name it: x itself
        return builtins.all(isinstance(a, (builtins.int, np.integer)) and a in (0, -1) for a in axes)
    return builtins.all(isinstance(a, (builtins.int, np.integer)) and -self.ndim <= a < self.ndim for a in axes) \
        and builtins.any(self.shape[a] != 1 for a in axes)


def _swaps_axes(self, axes):  # x.transpose(0, 1) of a 3-d array: NumPy would refuse two axes for three
    return len(axes) == 2 and self.ndim != 2 and builtins.all(isinstance(a, (builtins.int, np.integer))
                                                              for a in axes)


def _t(self):
    """The matrix transposed (``torch.Tensor.t``); 0-d and 1-d arrays unchanged."""
    if self.ndim > 2:
        raise ShapeError(f"t: expects an array of at most 2 dimensions, got shape {self.shape}; use swapaxes or mT")
    return fnp.transpose(self) if self.ndim == 2 else self


def _install():
    A = Array
    A.size = property(lambda self: _Size(self.shape), doc=_Size.__doc__)
    A.view, A.expand, A.clone, A.norm = _view, _expand, _clone, norm
    A.data = property(lambda self: self.detach(), doc="The value without its gradient record (``x.detach()``).")
    A.view_as = lambda self, other: fnp.reshape(self, other.shape)
    A.expand_as = lambda self, other: fnp.broadcast_to(self, other.shape)
    A.reshape_as = A.view_as
    A.contiguous = lambda self, memory_format=None: self
    A.dim = lambda self: self.ndim
    A.numel = A.nelement = lambda self: math.prod(self.shape)
    A.t = _t
    A.is_cuda = property(lambda self: self.device.platform == "cuda")
    for name, dtype in (("float", float32), ("double", float64), ("half", float16), ("long", int64),
                        ("int", int32), ("short", int16), ("char", int8), ("byte", uint8), ("bool", bool)):
        setattr(A, name, _as(dtype))
    for name, fn in (("unsqueeze", unsqueeze), ("chunk", chunk), ("split", split), ("gather", gather),
                     ("index_select", index_select), ("masked_fill", masked_fill), ("topk", topk),
                     ("clamp", clamp), ("mm", mm), ("bmm", bmm), ("softmax", softmax), ("log_softmax", log_softmax)):
        setattr(A, name, fn)
    A.permute = lambda self, *dims, **named: permute(self, _sizes(dims) if dims else named.pop("dims"), **named)
    A.unbind = lambda self, dim=0: tuple(fnp.moveaxis(self, dim, 0)[i] for i in range(self.shape[dim]))
    A.logsumexp = logsumexp
    A.allclose, A.equal = allclose, equal  # torch.Tensor's; NumPy arrays have neither method
    for name, fname in (("eq", "equal"), ("ne", "not_equal"), ("lt", "less"), ("le", "less_equal"),
                        ("gt", "greater"), ("ge", "greater_equal"), ("mul", "multiply"), ("pow", "power"),
                        ("matmul", "matmul"), ("maximum", "maximum"), ("minimum", "minimum"),
                        ("exp", "exp"), ("log", "log"), ("log1p", "log1p"), ("expm1", "expm1"), ("sqrt", "sqrt"),
                        ("abs", "abs"), ("neg", "negative"), ("sin", "sin"), ("cos", "cos"), ("tanh", "tanh"),
                        ("floor", "floor"), ("ceil", "ceil"), ("sign", "sign"), ("square", "square"),
                        ("isnan", "isnan"), ("isfinite", "isfinite")):
        setattr(A, name, getattr(fnp, fname))
    A.add, A.sub, A.reciprocal = add, sub, reciprocal
    A.div = div
    A.rsqrt, A.sigmoid, A.relu = rsqrt, sigmoid, relu
    A.new_zeros, A.new_ones, A.new_empty = _new(zeros), _new(ones), _new(empty)
    A.new_full = _new(full)
    A.new_tensor = lambda self, data, dtype=None, device=None, requires_grad=False: tensor(
        data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)
    dim_keys = frozenset(("dim", "keepdim"))
    for name, torch_fn in (("sum", sum), ("mean", mean), ("prod", prod), ("all", all), ("any", any),
                           ("argmax", argmax), ("argmin", argmin)):
        setattr(A, name, _numpy_or_torch(getattr(A, name), torch_fn, dim_keys, _keepdim_given))
    for name, torch_fn in (("max", max), ("min", min)):
        setattr(A, name, _numpy_or_torch(getattr(A, name), torch_fn, dim_keys,
                                         lambda self, args: isinstance(args[0], Array) or _keepdim_given(self, args)))
    for name, torch_fn in (("std", std), ("var", var)):  # x.var(0, True): PyTorch's unbiased
        setattr(A, name, _numpy_or_torch(getattr(A, name), torch_fn, dim_keys | {"unbiased"}, _keepdim_given))
    A.cumsum = _numpy_or_torch(A.cumsum, cumsum, frozenset(("dim",)))
    A.cumprod = _numpy_or_torch(A.cumprod, cumprod, frozenset(("dim",)))
    jax_sort_keys = frozenset(("axis", "kind", "order"))
    A.sort = _numpy_or_torch(A.sort, sort, frozenset(("dim", "descending")), numpy_keys=jax_sort_keys)
    A.argsort = _numpy_or_torch(A.argsort, argsort, frozenset(("dim", "descending")), numpy_keys=jax_sort_keys)
    A.squeeze = _numpy_or_torch(A.squeeze, squeeze, frozenset(("dim",)), _squeezes_a_longer_axis)
    A.flatten = _numpy_or_torch(A.flatten, flatten, frozenset(("start_dim", "end_dim")),
                                lambda self, args: isinstance(args[0], (builtins.int, np.integer)))
    A.transpose = _numpy_or_torch(A.transpose, transpose, frozenset(("dim0", "dim1")), _swaps_axes)



_install()


# ----- more of PyTorch's top-level vocabulary --------------------------------------------------------
#
# Each is written over fnx.numpy (differentiable where the maths is), with PyTorch's argument names
# (dim, keepdim) and results: (values, indices) pairs, int64 indices, the lower median.

pi, e, inf, nan, newaxis = math.pi, math.e, math.inf, math.nan, None
aminmax_result = namedtuple("aminmax", ["min", "max"])

eq, ne, lt, le, gt, ge = fnp.equal, fnp.not_equal, fnp.less, fnp.less_equal, fnp.greater, fnp.greater_equal
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
clip = clamp
concatenate = cat
swapdims = transpose
swapaxes = fnp.swapaxes
movedim = moveaxis = fnp.moveaxis


def _linalg():
    from . import linalg
    return linalg


def get_default_dtype():
    """The dtype Python floats become (``torch.get_default_dtype``); ``fnx.set_default_dtype`` sets it."""
    return default_float()


def finfo(type=None):
    """Machine limits of a floating dtype (``torch.finfo``: ``eps``, ``max``, ``min``, ``tiny``, ``bits``,
    ``resolution``...); the default float dtype when none is given."""
    return np.finfo(default_float() if type is None else type)


def iinfo(type):
    """Machine limits of an integer dtype (``torch.iinfo``: ``max``, ``min``, ``bits``)."""
    return np.iinfo(type)


def promote_types(type1, type2):
    """The dtype fnx's arithmetic gives two arrays of these dtypes. fnx promotes as NumPy does, which for
    mixed kinds differs from PyTorch (int64 with float16 is float64 here, float16 in PyTorch)."""
    return np.promote_types(type1, type2)


def result_type(tensor1, tensor2):
    """The dtype of ``tensor1 + tensor2`` under fnx's promotion (NumPy's, with Python scalars weak); see
    :func:`promote_types` for where that differs from PyTorch."""
    return _result_type(tensor1, tensor2)


def can_cast(from_, to):
    """Whether PyTorch's promotion allows casting ``from_`` to ``to`` (``torch.can_cast``): within a kind
    (even narrowing, float64 to float32) or up the kinds bool, integer, float, complex, never down."""
    rank = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
    return rank[np.dtype(from_).kind] <= rank[np.dtype(to).kind]


def is_floating_point(input):
    return input.dtype.kind == "f"


def is_complex(input):
    return input.dtype.kind == "c"


def is_nonzero(input):
    """The truth of a one-element array (``torch.is_nonzero``)."""
    if input.size != 1:
        raise ShapeError(f"is_nonzero: expected an array with one element, got shape {input.shape}")
    return builtins.bool(fnp.reshape(input, ()) != 0)


def clone(input, *, memory_format=None):
    return _clone(input)


def detach(input):
    return input.detach()


def reshape(input, shape):
    return fnp.reshape(input, tuple(shape))


def ravel(input):
    return fnp.ravel(input)


def nonzero(input, *, as_tuple=False):
    """The indices of the nonzero elements (``torch.nonzero``): an int64 array of shape ``(N, ndim)``, or
    with ``as_tuple`` one 1-d array per axis (a 0-d input counts as 1-d).

    >>> import fnx
    >>> fnx.nonzero(fnx.tensor([[0, 1], [1, 1]]))
    Array([[0, 1],
           [1, 0],
           [1, 1]], dtype=int64)
    """
    x = fnp.asarray(input)
    if as_tuple:
        return tuple(i.astype(int64) for i in fnp.nonzero(fnp.atleast_1d(x)))
    if x.ndim == 0:
        return fnp.zeros((builtins.int(builtins.bool(x != 0)), 0), dtype=int64)
    return fnp.stack([i.astype(int64) for i in fnp.nonzero(x)], axis=1)


def argwhere(input):
    """``nonzero(input)``: the ``(N, ndim)`` int64 indices of the nonzero elements."""
    return nonzero(input)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids (``torch.meshgrid``): PyTorch's default is ``indexing="ij"`` (NumPy's is ``"xy"``).

    >>> import fnx
    >>> fnx.meshgrid(fnx.tensor([1, 2]), fnx.tensor([3, 4, 5]))[0]
    Array([[1, 1, 1],
           [2, 2, 2]], dtype=int64)
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    return tuple(fnp.meshgrid(*tensors, indexing=indexing))


def broadcast_tensors(*tensors):
    return tuple(fnp.broadcast_arrays(*tensors))


def broadcast_shapes(*shapes):
    """The shape the given shapes broadcast to (``torch.broadcast_shapes``; an int is a 1-d shape)."""
    return tuple(fnp.broadcast_shapes(*[(s,) if isinstance(s, (builtins.int, np.integer)) else tuple(s)
                                        for s in shapes]))


def _atleast(fn, name):
    def at_least(*tensors):
        if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
            return tuple(fn(t) for t in tensors[0])
        out = tuple(fn(t) for t in tensors)
        return out[0] if len(out) == 1 else out
    at_least.__name__ = at_least.__qualname__ = name
    at_least.__doc__ = (f"``torch.{name}``: one array for one argument, a tuple for several arguments or a "
                        f"sequence.")
    return at_least


atleast_1d = _atleast(fnp.atleast_1d, "atleast_1d")
atleast_2d = _atleast(fnp.atleast_2d, "atleast_2d")
atleast_3d = _atleast(fnp.atleast_3d, "atleast_3d")


def hstack(tensors):
    return fnp.hstack(tuple(tensors))


def vstack(tensors):
    return fnp.vstack(tuple(tensors))


row_stack = vstack


def dstack(tensors):
    return fnp.dstack(tuple(tensors))


def column_stack(tensors):
    return fnp.column_stack(tuple(tensors))


def block_diag(*tensors):
    """The arrays placed along the diagonal of one matrix, zeros elsewhere (``torch.block_diag``); a 0-d
    array counts as ``(1, 1)``, a 1-d one as a row."""
    with data_device(*tensors):
        return _block_diag_here(*tensors)


def _block_diag_here(*tensors):
    mats = []
    for i, t in enumerate(tensors):
        t = fnp.asarray(t)
        if t.ndim > 2:
            raise ShapeError(f"block_diag: argument {i} has {t.ndim} dimensions (shape {t.shape}); at most 2")
        mats.append(fnp.reshape(t, (1,) * (2 - t.ndim) + t.shape))
    if not mats:
        return fnp.zeros((1, 0), dtype=default_float())
    dtype = fnp.result_type(*mats)
    ncols = builtins.sum(m.shape[1] for m in mats)
    rows, left = [], 0
    for m in mats:
        r, c = m.shape
        rows.append(fnp.concatenate([fnp.zeros((r, left), dtype), m.astype(dtype),
                                     fnp.zeros((r, ncols - left - c), dtype)], axis=1))
        left += c
    return fnp.concatenate(rows, axis=0)


def cartesian_prod(*tensors):
    """Every combination of one element from each 1-d array, one per row (``torch.cartesian_prod``); a
    single array is returned as is."""
    for i, t in enumerate(tensors):
        if fnp.ndim(t) != 1:
            raise ShapeError(f"cartesian_prod: argument {i} has shape {fnp.shape(t)}; expected 1-d arrays")
    if len(tensors) == 1:
        return fnp.asarray(tensors[0])
    grids = fnp.meshgrid(*tensors, indexing="ij")
    return fnp.stack([fnp.ravel(g) for g in grids], axis=1)


def combinations(input, r=2, with_replacement=False):
    """The length-``r`` combinations of a 1-d array's elements, one per row, in ``itertools`` order
    (``torch.combinations``); shape ``(0, r)`` when there are none."""
    import itertools
    x = fnp.asarray(input)
    if x.ndim != 1:
        raise ShapeError(f"combinations: expected a 1-d array, got shape {x.shape}")
    if r < 0:
        raise ValueError(f"combinations: r must be non-negative, got {r}")
    if r == 0:
        return fnp.zeros((0,), x.dtype)
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.array(list(pick(range(x.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    return fnp.take(x, fnp.asarray(idx), axis=0)


def count_nonzero(input, dim=None):
    return fnp.count_nonzero(input, axis=_axis(dim)).astype(int64)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return fnp.isclose(input, other, rtol=rtol, atol=atol, equal_nan=equal_nan)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    return fnp.isin(elements, test_elements, assume_unique=assume_unique, invert=invert)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """NaN, +inf and -inf replaced (``torch.nan_to_num``: ``nan`` is the second positional argument)."""
    return fnp.nan_to_num(input, nan=nan, posinf=posinf, neginf=neginf)


def diff(input, n=1, dim=-1, prepend=None, append=None):
    return fnp.diff(input, n, dim, prepend, append)


def flip(input, dims):
    """``input`` reversed along ``dims`` (``torch.flip``: an int or a sequence)."""
    return fnp.flip(input, axis=_dim_tuple(dims))


fliplr, flipud = fnp.fliplr, fnp.flipud


def _dim_tuple(dims):
    return tuple(dims) if isinstance(dims, (tuple, list)) else dims


def rot90(input, k=1, dims=(0, 1)):
    return fnp.rot90(input, k, axes=tuple(dims))


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The trapezoidal rule along ``dim`` (``torch.trapezoid``): over sample points ``x`` (an array), or
    with spacing ``dx``."""
    if x is not None and dx is not None:
        raise TypeError("trapezoid: give the sample points x or the spacing dx, not both")
    return fnp.trapezoid(y, x, dx=1.0 if dx is None else dx, axis=dim)


trapz = trapezoid


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoidal rule along ``dim`` (``torch.cumulative_trapezoid``): one element fewer."""
    if x is not None and dx is not None:
        raise TypeError("cumulative_trapezoid: give the sample points x or the spacing dx, not both")
    y = fnp.asarray(y)
    n = y.shape[dim]
    lo = fnp.take(y, fnp.arange(0, n - 1), axis=dim)
    hi = fnp.take(y, fnp.arange(1, n), axis=dim)
    step = fnp.diff(fnp.asarray(x), axis=dim if fnp.ndim(x) > 1 else -1) if x is not None else (
        1.0 if dx is None else dx)
    if x is not None and fnp.ndim(x) == 1:
        step = fnp.reshape(step, (n - 1,) + (1,) * (y.ndim - (dim % y.ndim) - 1))
    return fnp.cumsum((lo + hi) * step / 2, axis=dim)


def narrow(input, dim, start, length):
    """Elements ``start`` to ``start + length`` along ``dim`` (``torch.narrow``; ``start`` may be negative)."""
    x = fnp.asarray(input)
    n = x.shape[dim]
    start = builtins.int(start)
    if start < 0:
        start += n
    if not (0 <= start <= n and 0 <= length and start + length <= n):
        raise ShapeError(f"narrow: start {start} and length {length} do not fit axis {dim} of shape {x.shape}")
    d = dim % x.ndim
    return x[(slice(None),) * d + (slice(start, start + length),)]


def tensor_split(input, indices_or_sections, dim=0):
    """Pieces along ``dim`` (``torch.tensor_split``): ``n`` sections (the first ``size % n`` one longer), or
    split before each of the listed indices."""
    if isinstance(indices_or_sections, Array):
        ios = indices_or_sections
        indices_or_sections = builtins.int(ios) if ios.ndim == 0 else [builtins.int(i) for i in ios.tolist()]
    return tuple(fnp.array_split(input, indices_or_sections, axis=dim))


def take_along_dim(input, indices, dim=None):
    """``input``'s elements at ``indices`` along ``dim``, other axes broadcast (``torch.take_along_dim``);
    without ``dim``, of the flattened arrays."""
    if dim is None:
        return fnp.take(fnp.ravel(input), fnp.ravel(indices))
    return fnp.take_along_axis(input, indices, axis=dim)


def masked_select(input, mask):
    """The elements of ``input`` where the (broadcast) ``mask`` holds, as a 1-d array (``torch.masked_select``)."""
    x, m = fnp.broadcast_arrays(fnp.asarray(input), fnp.asarray(mask))
    if m.dtype != np.bool_:
        raise TypeError(f"masked_select: mask must be boolean, got {m.dtype}")
    return x[m]


# ----- scatter: torch's index-array form of .at[] ------------------------------------------------

def _scatter_index(fname, x, dim, index):
    """The index tuple that puts ``index``'s element ``[i, j, ...]`` at ``x[..., index[i, j, ...], ...]`` (along
    ``dim``), as PyTorch's scatter family reads it: ``index`` no larger than ``x`` outside ``dim``."""
    index = fnp.asarray(index)
    if index.ndim != x.ndim:
        raise ShapeError(f"{fname}: index has {index.ndim} dimensions, input {x.ndim} (shapes {index.shape} and "
                         f"{x.shape})")
    d = dim % builtins.max(x.ndim, 1)
    if builtins.any(i > s for k, (i, s) in enumerate(zip(index.shape, x.shape)) if k != d):
        raise ShapeError(f"{fname}: index of shape {index.shape} is larger than input {x.shape} outside axis {dim}")
    if index.dtype.kind not in "iu":
        raise TypeError(f"{fname}: index must be integer, got {index.dtype}")
    if x.ndim:
        _in_range(fname, index, dim, x.shape[d])
    return tuple(index if k == d else fnp.reshape(fnp.arange(s), (1,) * k + (s,) + (1,) * (x.ndim - k - 1))
                 for k, s in enumerate(index.shape))


def _scatter_src(fname, x, index, src):
    index = fnp.asarray(index)
    if isinstance(src, Array):
        if src.ndim != index.ndim or builtins.any(i > s for i, s in zip(index.shape, src.shape)):
            raise ShapeError(f"{fname}: src of shape {src.shape} is smaller than index {index.shape}")
        return src[tuple(slice(0, i) for i in index.shape)].astype(x.dtype)
    return fnp.full(index.shape, src, dtype=x.dtype)


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """``input`` with ``out[index[i][j]][j] = src[i][j]`` for ``dim=0`` and so on (``torch.scatter``).
    ``src`` may be a number (or give ``value=``); ``reduce="add"`` / ``"multiply"`` combine instead of
    replacing. Where ``index`` repeats a position without ``reduce``, which value lands is unspecified.

    >>> import fnx
    >>> fnx.scatter(fnx.zeros(2, 3), 1, fnx.tensor([[2], [0]]), 7.0)
    Array([[0., 0., 7.],
           [7., 0., 0.]], dtype=float32)
    """
    with data_device(input):
        return _scatter_here(input, dim, index, src, value=value, reduce=reduce)


def _scatter_here(input, dim, index, src=None, *, value=None, reduce=None):
    x = fnp.asarray(input)
    if (src is None) == (value is None):
        raise TypeError("scatter: give exactly one of src and value")
    idx = _scatter_index("scatter", x, dim, index)
    s = _scatter_src("scatter", x, index, src if value is None else value)
    if reduce is None:
        return x.at[idx].set(s)
    if reduce == "add":
        return x.at[idx].add(s)
    if reduce == "multiply":
        return x.at[idx].multiply(s)
    raise ValueError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")


def scatter_add(input, dim, index, src):
    """``input`` plus every ``src[i][j]`` at ``[index[i][j]][j]`` for ``dim=0`` and so on (``torch.scatter_add``)."""
    with data_device(input):
        return _scatter_add_here(input, dim, index, src)


def _scatter_add_here(input, dim, index, src):
    x = fnp.asarray(input)
    return x.at[_scatter_index("scatter_add", x, dim, index)].add(_scatter_src("scatter_add", x, index, src))


def _reduce_identity(reduce, dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    big = math.inf if dtype.kind in "fc" else np.iinfo(dtype).max
    return -big if reduce == "amax" else big


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """``src`` reduced into ``input`` at the scatter positions (``torch.scatter_reduce``): ``reduce`` is
    ``"sum"``, ``"prod"``, ``"mean"``, ``"amax"`` or ``"amin"``; ``include_self=False`` leaves ``input``'s
    own value out at the positions that receive something."""
    x = fnp.asarray(input)
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise ValueError(f"scatter_reduce: reduce must be 'sum', 'prod', 'mean', 'amax' or 'amin', got {reduce!r}")
    idx = _scatter_index("scatter_reduce", x, dim, index)
    s = _scatter_src("scatter_reduce", x, index, src)
    base = x if include_self else x.at[idx].set(_reduce_identity(reduce, x.dtype))
    at = base.at[idx]
    out = {"sum": at.add, "mean": at.add, "prod": at.multiply, "amax": at.max, "amin": at.min}[reduce](s)
    if reduce != "mean":
        return out
    count = fnp.zeros(x.shape, dtype=x.dtype).at[idx].add(1) + (1 if include_self else 0)
    mean = out / fnp.maximum(count, 1) if x.dtype.kind in "fc" else fnp.floor_divide(out, fnp.maximum(count, 1))
    return fnp.where(count > 0, mean, x)


def _index_along(fname, x, dim, index, source=None):
    index = fnp.asarray(index)
    if index.ndim > 1 or index.dtype.kind not in "iu":
        raise ShapeError(f"{fname}: index must be a 1-d integer array, got {index.dtype}{list(index.shape)}")
    d = dim % builtins.max(x.ndim, 1)
    if source is not None:
        want = x.shape[:d] + (index.size,) + x.shape[d + 1:]
        if fnp.shape(source) != want:
            raise ShapeError(f"{fname}: source has shape {fnp.shape(source)}, expected {want} for input {x.shape}, "
                             f"dim {dim} and {index.size} indices")
        source = fnp.moveaxis(fnp.asarray(source).astype(x.dtype), d, 0)
    return fnp.moveaxis(x, d, 0), d, fnp.reshape(index, (-1,)), source


def index_add(input, dim, index, source, *, alpha=1):
    """``input`` with ``alpha * source`` added along ``dim`` at the positions ``index`` (``torch.index_add``);
    repeated indices add up."""
    x, d, index, source = _index_along("index_add", fnp.asarray(input), dim, index, source)
    return fnp.moveaxis(x.at[index].add(source if alpha == 1 else source * alpha), 0, d)


def index_copy(input, dim, index, source):
    """``input`` with the slices ``index`` along ``dim`` replaced by ``source``'s (``torch.index_copy``)."""
    x, d, index, source = _index_along("index_copy", fnp.asarray(input), dim, index, source)
    return fnp.moveaxis(x.at[index].set(source), 0, d)


def index_fill(input, dim, index, value):
    """``input`` with the slices ``index`` along ``dim`` set to ``value`` (``torch.index_fill``)."""
    with data_device(input):
        return _index_fill_here(input, dim, index, value)


def _index_fill_here(input, dim, index, value):
    x, d, index, _ = _index_along("index_fill", fnp.asarray(input), dim, index)
    return fnp.moveaxis(x.at[index].set(fnp.asarray(value).astype(x.dtype)), 0, d)


# ----- linear algebra ------------------------------------------------------------------------------

def det(input):
    return _linalg().det(input)


def inverse(input):
    return _linalg().inv(input)


def slogdet(input):
    """``(sign, logabsdet)`` (``torch.slogdet``, as ``torch.linalg.slogdet``)."""
    return _linalg().slogdet(input)


def logdet(input):
    """``log(det(input))`` (``torch.logdet``): -inf for a singular matrix, NaN for a negative determinant."""
    sign, logabsdet = _linalg().slogdet(input)
    return fnp.where(sign > 0, logabsdet, fnp.where(sign == 0, -math.inf, math.nan))


def _matrix_args(fname, **arrays):
    for name, (a, nd) in arrays.items():
        if fnp.ndim(a) != nd:
            raise ShapeError(f"{fname}: {name} must have {nd} dimensions, got shape {fnp.shape(a)}")


def _scaled_sum(input, product, beta, alpha):
    """``beta * input + alpha * product``; with ``beta == 0`` ``input`` is ignored (NaNs in it do not
    propagate), as in PyTorch."""
    product = product if alpha == 1 else alpha * product
    if beta == 0:
        return fnp.broadcast_to(product, fnp.broadcast_shapes(fnp.shape(input), product.shape))
    return (input if beta == 1 else beta * input) + product


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)`` for matrices (``torch.addmm``)."""
    _matrix_args("addmm", mat1=(mat1, 2), mat2=(mat2, 2))
    return _scaled_sum(input, fnp.matmul(mat1, mat2), beta, alpha)


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat @ vec)`` (``torch.addmv``)."""
    _matrix_args("addmv", mat=(mat, 2), vec=(vec, 1))
    return _scaled_sum(input, fnp.matmul(mat, vec), beta, alpha)


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """``beta * input + alpha * outer(vec1, vec2)`` (``torch.addr``)."""
    _matrix_args("addr", vec1=(vec1, 1), vec2=(vec2, 1))
    return _scaled_sum(input, fnp.outer(vec1, vec2), beta, alpha)


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * bmm(batch1, batch2)`` (``torch.baddbmm``)."""
    return _scaled_sum(input, bmm(batch1, batch2), beta, alpha)


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * sum(bmm(batch1, batch2), 0)`` (``torch.addbmm``)."""
    return _scaled_sum(input, fnp.sum(bmm(batch1, batch2), axis=0), beta, alpha)


def mv(input, vec):
    """Matrix times vector (``torch.mv``: a 2-d and a 1-d operand only)."""
    _matrix_args("mv", input=(input, 2), vec=(vec, 1))
    return fnp.matmul(input, vec)


def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2`` (``torch.addcmul``)."""
    return input + value * tensor1 * tensor2


def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2`` (``torch.addcdiv``)."""
    return input + value * tensor1 / tensor2


def cdist(x1, x2, p=2.0, compute_mode=None):
    """The ``p``-norm distance between each row of ``x1`` and each row of ``x2`` (``torch.cdist``): shapes
    ``(*, P, M)`` and ``(*, R, M)`` give ``(*, P, R)``. The gradient at a zero distance is 0."""
    a, b = fnp.asarray(x1), fnp.asarray(x2)
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-1]:
        raise ShapeError(f"cdist: expected shapes (*, P, M) and (*, R, M), got {a.shape} and {b.shape}")
    if p < 0:
        raise ValueError(f"cdist: p must be non-negative, got {p}")
    return _linalg().vector_norm(a[..., :, None, :] - b[..., None, :, :], ord=p, dim=-1)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``x1 · x2 / (max(‖x1‖, eps) · max(‖x2‖, eps))`` along ``dim``, inputs broadcast
    (``torch.cosine_similarity``)."""
    from .nn.functional import cosine_similarity as _cs
    return _cs(x1, x2, dim, eps)


def lerp(input, end, weight):
    """``input + weight * (end - input)`` (``torch.lerp``), computed from ``end`` when ``weight >= 0.5`` so
    that weight 1 gives ``end`` exactly, as PyTorch does."""
    with data_device(input):
        return _lerp_here(input, end, weight)


def _lerp_here(input, end, weight):
    d = end - input
    return fnp.where(fnp.abs(weight) < 0.5, input + weight * d, end - d * (1 - weight))


# ----- special functions ---------------------------------------------------------------------------

def xlogy(input, other):
    """``input * log(other)``, 0 where ``input`` is 0 (``torch.xlogy``)."""
    return _special().xlogy(input, other)


def logit(input, eps=None):
    """``log(p / (1 - p))`` (``torch.logit``), ``p`` clamped to ``[eps, 1 - eps]`` when ``eps`` is given."""
    p = fnp.asarray(input)
    if eps is not None:
        p = fnp.clip(p, eps, 1 - eps)
    return fnp.log(p / (1 - p))


def erfc(input):
    return _special().erfc(input)


def erfinv(input):
    return _special().erfinv(input)


def lgamma(input):
    return _special().gammaln(input)


def digamma(input):
    return _special().digamma(input)


def polygamma(n, input):
    return _special().polygamma(n, input)


sinc, deg2rad, rad2deg, hypot = fnp.sinc, fnp.deg2rad, fnp.rad2deg, fnp.hypot
logaddexp, logaddexp2 = fnp.logaddexp, fnp.logaddexp2


# ----- scans: cummax, cummin, logcumsumexp ----------------------------------------------------------
#
# An inclusive scan in log2(n) vectorised steps (Hillis and Steele): at step s every position combines
# itself with the position s before it, so each op is an fnx op and the whole scan differentiates,
# vmaps and jits like any other composition.

def _cumulative_extreme(name, better):
    def fn(input, dim):
        with data_device(input):  # the index ranges it builds join the input's device
            return on_its_device(input, dim)

    def on_its_device(input, dim):
        x = fnp.asarray(input)
        if x.ndim == 0:
            return values_indices(x, fnp.zeros((), int64))
        d = dim % x.ndim
        n = x.shape[d]
        v = fnp.stop_gradient(x)
        idx = fnp.broadcast_to(fnp.reshape(fnp.arange(n), (n,) + (1,) * (x.ndim - d - 1)), x.shape)
        s = 1
        while s < n:
            pv, pi = _shifted(v, s, d, 0), _shifted(idx, s, d, -1)
            here = (pi < 0) | better(v, pv) | (v == pv)  # the later index wins a tie
            if v.dtype.kind in "fc":  # and a NaN wins over a number
                here = (here | fnp.isnan(v)) & ~(fnp.isnan(pv) & ~fnp.isnan(v))
            v, idx = fnp.where(here, v, pv), fnp.where(here, idx, pi)
            s *= 2
        idx = idx.astype(int64)
        return values_indices(fnp.take_along_axis(x, idx, axis=d), idx)  # the gradient goes to the index
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"``torch.{name}``: the running {'maximum' if name == 'cummax' else 'minimum'} along ``dim`` "
                  f"and where it was found, ``(values, indices)``; a tie takes the later index, a NaN wins.")
    return fn


cummax = _cumulative_extreme("cummax", fnp.greater)
cummin = _cumulative_extreme("cummin", fnp.less)


def logcumsumexp(input, dim):
    """``log(cumsum(exp(input)))`` along ``dim``, without overflow or underflow (``torch.logcumsumexp``)."""
    x = fnp.asarray(input)
    if x.ndim == 0:
        return x
    d = dim % x.ndim
    s = 1
    while s < x.shape[d]:
        x = fnp.logaddexp(x, _shifted(x, s, d, -math.inf))
        s *= 2
    return x


# ----- order statistics ----------------------------------------------------------------------------

def _kth(x, d, k, keepdim):
    """The element of rank ``k`` (an int or an array broadcast against the other axes) along axis ``d``,
    by a stable sort: ``(values, indices)``."""
    order = fnp.argsort(x, axis=d, stable=True)
    k = fnp.expand_dims(fnp.asarray(k), d) if isinstance(k, Array) else fnp.full(
        x.shape[:d] + (1,) + x.shape[d + 1:], k, dtype=int64)
    idx = fnp.take_along_axis(order, k.astype(order.dtype), axis=d).astype(int64)
    values = fnp.take_along_axis(x, idx, axis=d)
    if not keepdim:
        values, idx = fnp.squeeze(values, d), fnp.squeeze(idx, d)
    return values, idx


def _median(name, skip_nan):
    def fn(input, dim=None, keepdim=False):
        with data_device(input):
            return on_its_device(input, dim, keepdim)

    def on_its_device(input, dim=None, keepdim=False):
        x = fnp.asarray(input)
        flat = dim is None
        if flat:
            x = fnp.ravel(x)
        d = 0 if flat or x.ndim == 0 else dim % x.ndim
        if x.ndim == 0:
            x = fnp.reshape(x, (1,))
        nans = fnp.isnan(x) if x.dtype.kind in "fc" else fnp.zeros(x.shape, dtype=bool)
        count = fnp.sum(~nans, axis=d) if skip_nan else x.shape[d]
        k = (count - 1) // 2 if skip_nan else (x.shape[d] - 1) // 2
        k = fnp.maximum(k, 0) if skip_nan else k
        values, idx = _kth(x, d, k, keepdim=True)
        if not skip_nan and x.dtype.kind in "fc":  # a NaN anywhere makes the median NaN, at that NaN's index
            has_nan = fnp.any(nans, axis=d, keepdims=True)
            idx = fnp.where(has_nan, fnp.argmax(nans, axis=d, keepdims=True).astype(int64), idx)
            values = fnp.take_along_axis(x, idx, axis=d)
        if flat:
            median = fnp.reshape(values, ())
            if x.dtype.kind not in "fc":
                return median
            # PyTorch spreads the gradient evenly over the elements equal to the median (NaN ones for a NaN
            # median): deterministic, where the one element's index would depend on the sort.
            median = fnx_stop_gradient(median)
            ties = (x == median) | (nans & fnp.isnan(median))
            spread = fnp.sum(fnp.where(ties, x - median, 0)) / fnp.sum(ties).astype(x.dtype)
            return median + spread
        if not keepdim:
            values, idx = fnp.squeeze(values, d), fnp.squeeze(idx, d)
        return values_indices(values, idx)
    fn.__name__ = fn.__qualname__ = name
    among = " among the non-NaN" if skip_nan else ""
    fn.__doc__ = (f"``torch.{name}``: the lower median (the element of rank ``(n - 1) // 2``{among}) "
                  f"of all elements; with ``dim``, ``(values, indices)`` along it. "
                  + ("NaNs are skipped (NaN only where all are NaN)." if skip_nan else "A NaN makes it NaN."))
    return fn


median = _median("median", skip_nan=False)
nanmedian = _median("nanmedian", skip_nan=True)


def kthvalue(input, k, dim=-1, keepdim=False):
    """The ``k``-th smallest element (``k`` from 1) along ``dim`` and its index (``torch.kthvalue``).

    >>> import fnx
    >>> fnx.kthvalue(fnx.tensor([3.0, 1.0, 2.0, 1.0]), 2)
    values_indices(values=Array(1., dtype=float32), indices=Array(3, dtype=int64))
    """
    with data_device(input):
        return _kthvalue_here(input, k, dim, keepdim)


def _kthvalue_here(input, k, dim=-1, keepdim=False):
    x = fnp.asarray(input)
    d = dim % builtins.max(x.ndim, 1)
    n = x.shape[d] if x.ndim else 1
    if not 1 <= k <= n:
        raise ShapeError(f"kthvalue: k={k} is out of range for axis {dim} of shape {x.shape}")
    if x.ndim == 0:
        return values_indices(x, fnp.zeros((), int64))
    return values_indices(*_kth(x, d, k - 1, keepdim))


def mode(input, dim=-1, keepdim=False):
    """The most frequent value along ``dim`` (the smallest of those tied) and the index of its last
    occurrence (``torch.mode``). Compares all pairs along ``dim``: memory grows as its length squared."""
    x = fnp.asarray(input)
    if x.ndim == 0:
        return values_indices(x, fnp.zeros((), int64))
    d = dim % x.ndim
    xm = fnp.moveaxis(x, d, -1)
    v = fnp.stop_gradient(xm)
    n = v.shape[-1]
    counts = fnp.sum(v[..., :, None] == v[..., None, :], axis=-1)
    top = fnp.max(counts, axis=-1, keepdims=True)
    big = math.inf if v.dtype.kind in "fc" else (True if v.dtype.kind == "b" else np.iinfo(v.dtype).max)
    value = fnp.min(fnp.where(counts == top, v, big), axis=-1, keepdims=True)
    last = (n - 1 - fnp.argmax(fnp.flip(v == value, axis=-1), axis=-1, keepdims=True)).astype(int64)
    values = fnp.take_along_axis(xm, last, axis=-1)
    values, last = fnp.moveaxis(values, -1, d), fnp.moveaxis(last, -1, d)
    if not keepdim:
        values, last = fnp.squeeze(values, d), fnp.squeeze(last, d)
    return values_indices(values, last)


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The ``q``-quantiles along ``dim`` (of all elements by default) (``torch.quantile``); ``interpolation``
    is ``"linear"``, ``"lower"``, ``"higher"``, ``"midpoint"`` or ``"nearest"``. An array ``q`` puts its axis first."""
    return _quantile(fnp.quantile, "quantile", input, q, dim, keepdim, interpolation)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """:func:`quantile` ignoring NaNs (``torch.nanquantile``)."""
    return _quantile(fnp.nanquantile, "nanquantile", input, q, dim, keepdim, interpolation)


def _quantile(fn, name, input, q, dim, keepdim, interpolation):
    if interpolation not in ("linear", "lower", "higher", "midpoint", "nearest"):
        raise ValueError(f"{name}: interpolation must be 'linear', 'lower', 'higher', 'midpoint' or 'nearest', "
                         f"got {interpolation!r}")
    x = fnp.asarray(input)
    if x.dtype.kind not in "f":
        raise TypeError(f"{name}: input must be floating, got {x.dtype}")
    if dim is None:
        out = fn(fnp.ravel(x), q, method=interpolation)
        if keepdim:
            out = fnp.reshape(out, fnp.shape(out) + (1,) * x.ndim)
        return out
    return fn(x, q, axis=dim, method=interpolation, keepdims=keepdim)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    return fnp.nanmean(input, axis=_axis(dim), dtype=dtype, keepdims=keepdim)


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    return fnp.nansum(input, axis=_axis(dim), dtype=dtype, keepdims=keepdim)


def _all_axes(dim):
    return None if dim is None or (isinstance(dim, (tuple, list)) and not dim) else _axis(dim)


def amax(input, dim=(), keepdim=False):
    """The maximum over ``dim`` (all axes by default) (``torch.amax``)."""
    return fnp.amax(input, axis=_all_axes(dim), keepdims=keepdim)


def amin(input, dim=(), keepdim=False):
    """The minimum over ``dim`` (all axes by default) (``torch.amin``)."""
    return fnp.amin(input, axis=_all_axes(dim), keepdims=keepdim)


def aminmax(input, *, dim=None, keepdim=False):
    """``(min, max)`` over ``dim`` or all elements (``torch.aminmax``)."""
    return aminmax_result(fnp.amin(input, axis=dim, keepdims=keepdim), fnp.amax(input, axis=dim, keepdims=keepdim))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct elements (or slices along ``dim``), sorted (``torch.unique``); with ``return_inverse``
    the int64 indices that rebuild ``input`` (of its shape, or of length ``input.shape[dim]``), with
    ``return_counts`` how often each occurs. One array, or a tuple when either flag is set.

    >>> import fnx
    >>> fnx.unique(fnx.tensor([3, 1, 3, 2]), return_counts=True)
    (Array([1, 2, 3], dtype=int64), Array([1, 1, 2], dtype=int64))
    """
    x = fnp.asarray(input)
    res = fnp.unique(x, return_inverse=True, return_counts=True, axis=dim)
    values, inverse, counts = res
    if dim is None:
        inverse = fnp.reshape(inverse, x.shape)
    else:
        inverse = fnp.reshape(inverse, (-1,))
    out = (values,) + ((inverse.astype(int64),) if return_inverse else ()) + (
        (counts.astype(int64),) if return_counts else ())
    return out[0] if len(out) == 1 else out


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Each run of equal consecutive elements (or slices along ``dim``) kept once
    (``torch.unique_consecutive``), with the same optional outputs as :func:`unique`."""
    x = fnp.asarray(input)
    flat = fnp.ravel(x) if dim is None else fnp.moveaxis(x, dim, 0)
    n = flat.shape[0]
    if n == 0:
        starts = fnp.zeros((0,), dtype=bool)
    else:
        change = flat[1:] != flat[:-1]
        if flat.ndim > 1:
            change = fnp.any(fnp.reshape(change, (n - 1, -1)), axis=1)
        starts = fnp.concatenate([fnp.ones((1,), dtype=bool), change])
    keep = fnp.nonzero(starts)[0]
    values = flat[keep] if dim is None else fnp.moveaxis(flat[keep], 0, dim)
    out = (values,)
    if return_inverse:
        inv = (fnp.cumsum(starts.astype(int64)) - 1).astype(int64)
        out += (fnp.reshape(inv, x.shape) if dim is None else inv,)
    if return_counts:
        out += (fnp.diff(fnp.concatenate([keep, fnp.array([n])])).astype(int64),)
    return out[0] if len(out) == 1 else out


def histc(input, bins=100, min=0, max=0):
    """A histogram of ``bins`` equal bins over ``[min, max]`` (``torch.histc``), in ``input``'s dtype; with
    ``min == max == 0`` the data's range is used (widened by 1 each side if it is one value). Elements
    outside are ignored; ``max`` itself goes to the last bin."""
    with data_device(input):
        return _histc_here(input, bins, min, max)


def _histc_here(input, bins=100, min=0, max=0):
    x = fnp.ravel(fnp.asarray(input))
    lo, hi = builtins.float(min), builtins.float(max)
    if lo == hi == 0 and x.size:
        lo, hi = builtins.float(fnp.min(x)), builtins.float(fnp.max(x))
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise ValueError(f"histc: max {max} must not be below min {min}")
    counts, _ = fnp.histogram(x.detach(), bins, range=(lo, hi))
    return counts.astype(x.dtype)


# ----- sampling, from the global generator ---------------------------------------------------------

def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Normal draws ``mean + std * z`` (``torch.normal``): ``mean`` and ``std`` arrays broadcast against
    each other, or numbers with ``size``. Differentiable in ``mean`` and ``std``."""
    with data_device(mean, std):  # with an explicit device= that device wins, as below
        return _normal_here(mean, std, size, generator=generator, dtype=dtype, device=device,
                            requires_grad=requires_grad)


def _normal_here(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    if not isinstance(std, Array) and std < 0:
        raise ValueError(f"normal: std must be non-negative, got {std}")
    shape = tuple(size) if size is not None else tuple(fnp.broadcast_shapes(fnp.shape(mean), fnp.shape(std)))
    if dtype is None:
        arrays = [a for a in (mean, std) if isinstance(a, Array)]
        dtype = fnp.result_type(*arrays) if arrays else default_float()
        dtype = dtype if dtype.kind in "fc" else default_float()
    z = _random.normal(_draw_key("normal", generator), shape, dtype=dtype)
    return _leaf(_placed(mean + std * z, device), requires_grad)


def bernoulli(input, p=None, *, generator=None):
    """0/1 draws in ``input``'s dtype, 1 with probability ``input`` (``torch.bernoulli``), or with
    probability ``p`` for every element when given."""
    with data_device(input):
        return _bernoulli_here(input, p, generator=generator)


def _bernoulli_here(input, p=None, *, generator=None):
    x = fnp.asarray(input)
    prob = (x.detach() if isinstance(x, Array) else x) if p is None else p
    u = _random.uniform(_draw_key("bernoulli", generator), x.shape,
                        dtype=x.dtype if x.dtype.kind == "f" else default_float())
    return (u < prob).astype(x.dtype)


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """``num_samples`` category indices per row of the non-negative weights ``input`` (1-d or 2-d),
    int64 (``torch.multinomial``); without ``replacement`` no index repeats in a row (Gumbel top-k)."""
    with data_device(input):
        return _multinomial_here(input, num_samples, replacement, generator=generator)


def _multinomial_here(input, num_samples, replacement=False, *, generator=None):
    w = fnp.asarray(input).detach()
    if w.ndim not in (1, 2):
        raise ShapeError(f"multinomial: expected 1-d or 2-d weights, got shape {w.shape}")
    if not isinstance(w, Tracer) and builtins.bool(fnp.any(w < 0)):
        raise ValueError("multinomial: weights must be non-negative")
    with np.errstate(divide="ignore"):  # a zero weight is a logit of -inf: never drawn
        logits = fnp.log(w.astype(w.dtype if w.dtype.kind == "f" else default_float()))
    key = _draw_key("multinomial", generator)
    if replacement:
        out = _random.categorical(key, logits, axis=-1, shape=(num_samples,) + logits.shape[:-1])
        return fnp.moveaxis(out, 0, -1).astype(int64)
    n = w.shape[-1]
    if num_samples > n:
        raise ValueError(f"multinomial: cannot draw {num_samples} samples without replacement from {n} categories")
    if not isinstance(w, Tracer) and builtins.bool(fnp.any(fnp.sum(w > 0, axis=-1) < num_samples)):
        raise ValueError(f"multinomial: a row has fewer than {num_samples} categories of positive weight, too few "
                         f"to draw without replacement")
    keys = logits + _random.gumbel(key, logits.shape, dtype=logits.dtype)
    return argsort(keys, dim=-1, descending=True)[..., :num_samples]


# ----- searching -----------------------------------------------------------------------------------

def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """Where ``input``'s values would go in ``sorted_sequence``'s last axis to keep it sorted
    (``torch.searchsorted``): the first such place, or the last with ``right=True`` / ``side="right"``.
    A 1-d sequence serves every value; otherwise its leading axes match ``input``'s. int64 (or int32).

    >>> import fnx
    >>> seq = fnx.tensor([1, 3, 5])
    >>> fnx.searchsorted(seq, fnx.tensor([3, 6])), fnx.searchsorted(seq, 3, right=True)
    (Array([1, 3], dtype=int64), Array(2, dtype=int64))
    """
    if side is not None:
        if side not in ("left", "right"):
            raise ValueError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
        if right and side == "left":
            raise ValueError("searchsorted: right=True and side='left' contradict each other")
        right = side == "right"
    seq, v = fnp.asarray(sorted_sequence), fnp.asarray(input)
    if sorter is not None:
        seq = fnp.take_along_axis(seq, fnp.asarray(sorter), axis=-1)
    dtype = int32 if out_int32 else int64
    if seq.ndim == 1:
        return fnp.searchsorted(seq, v, side="right" if right else "left").astype(dtype)
    if seq.shape[:-1] != v.shape[:-1]:
        raise ShapeError(f"searchsorted: the leading axes of sorted_sequence {seq.shape} and input {v.shape} differ")
    below = fnp.less_equal if right else fnp.less  # count the sequence's elements before each value
    return fnp.sum(below(seq[..., None, :], v[..., :, None]), axis=-1).astype(dtype)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each element for the sorted 1-d ``boundaries`` (``torch.bucketize``): ``i`` with
    ``boundaries[i-1] < x <= boundaries[i]``, or ``boundaries[i-1] <= x < boundaries[i]`` with ``right``."""
    b = fnp.asarray(boundaries)
    if b.ndim != 1:
        raise ShapeError(f"bucketize: boundaries must be 1-d, got shape {b.shape}")
    return searchsorted(b, input, out_int32=out_int32, right=right)


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Each element (or slice along ``dim``) repeated ``repeats`` times, an int or one count per element
    (``torch.repeat_interleave``); the flattened input without ``dim``. ``repeat_interleave(counts)`` alone
    repeats each index ``i`` ``counts[i]`` times."""
    if repeats is None:
        counts = fnp.asarray(input)
        out = fnp.repeat(fnp.arange(counts.shape[0]), counts)
    else:
        x = fnp.asarray(input)
        out = fnp.repeat(fnp.ravel(x) if dim is None else x, repeats, axis=0 if dim is None else dim)
    if output_size is not None and out.shape[0 if dim is None else dim] != output_size:
        raise ShapeError(f"repeat_interleave: output_size={output_size}, but the result has "
                         f"{out.shape[0 if dim is None else dim]} along the repeated axis")
    return out


__all__ += [
    "pi", "e", "inf", "nan", "newaxis", "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
    "less_equal", "not_equal", "clip", "concatenate", "swapdims", "swapaxes", "movedim", "moveaxis",
    "get_default_dtype",
    "finfo", "iinfo", "promote_types", "result_type", "can_cast", "is_floating_point", "is_complex", "is_nonzero",
    "clone", "detach", "reshape", "ravel", "nonzero", "argwhere", "meshgrid", "broadcast_tensors",
    "broadcast_shapes", "atleast_1d", "atleast_2d", "atleast_3d", "hstack", "vstack", "row_stack", "dstack",
    "column_stack", "block_diag", "cartesian_prod", "combinations", "count_nonzero", "isclose", "isin",
    "nan_to_num", "diff", "flip", "fliplr", "flipud", "rot90", "trapezoid", "trapz", "cumulative_trapezoid",
    "narrow", "tensor_split", "take_along_dim", "masked_select", "scatter", "scatter_add", "scatter_reduce",
    "index_add", "index_copy", "index_fill", "det", "inverse", "slogdet", "logdet", "addmm", "addmv", "addr",
    "baddbmm", "addbmm", "mv", "addcmul", "addcdiv", "cdist", "cosine_similarity", "lerp", "xlogy", "logit",
    "erfc", "erfinv", "lgamma", "digamma", "polygamma", "sinc", "deg2rad", "rad2deg", "hypot", "logaddexp",
    "logaddexp2", "cummax", "cummin", "logcumsumexp", "median", "nanmedian", "kthvalue", "mode", "quantile",
    "nanquantile", "nanmean", "nansum", "amax", "amin", "aminmax", "unique", "unique_consecutive", "histc",
    "normal", "bernoulli", "multinomial", "searchsorted", "bucketize", "repeat_interleave",
]


def tril(input, diagonal=0):
    return fnp.tril(input, diagonal)


def triu(input, diagonal=0):
    return fnp.triu(input, diagonal)


def diag(input, diagonal=0):
    return fnp.diag(input, diagonal)


def roll(input, shifts, dims=None):
    """``input`` rolled by ``shifts`` along ``dims`` (``torch.roll``; the flattened array without ``dims``)."""
    return fnp.roll(input, _dim_tuple(shifts), axis=_dim_tuple(dims))


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices with ``input``'s last axis on their ``offset`` diagonal, over the new axes ``dim1`` and
    ``dim2`` (``torch.diag_embed``)."""
    with data_device(input):
        return _diag_embed_here(input, offset, dim1, dim2)


def _diag_embed_here(input, offset=0, dim1=-2, dim2=-1):
    x = fnp.asarray(input)
    n = x.shape[-1] + builtins.abs(offset)
    nd = x.ndim + 1
    d1, d2 = dim1 % nd, dim2 % nd
    if d1 == d2:
        raise ShapeError(f"diag_embed: dim1 and dim2 name one axis ({dim1}, {dim2}) of a {nd}-d result")
    m = x.shape[-1]
    # out[..., r, c] = x[..., j] at r = j + max(-offset, 0), c = j + max(offset, 0): one-hot rows and columns
    rows = fnp.take(fnp.eye(n, dtype=x.dtype), fnp.arange(m) + builtins.max(-offset, 0), axis=0)
    cols = fnp.take(fnp.eye(n, dtype=x.dtype), fnp.arange(m) + builtins.max(offset, 0), axis=0)
    return fnp.moveaxis(fnp.einsum("...j,jr,jc->...rc", x, rows, cols), (-2, -1), (d1, d2))


divide = div


def true_divide(dividend, divisor):
    """``dividend / divisor``, integers dividing into the default float dtype (``torch.true_divide``)."""
    return div(dividend, divisor)


def frac(input):
    """The fractional part, ``input - trunc(input)`` (``torch.frac``)."""
    return input - fnp.trunc(input)


__all__ += ["tril", "triu", "diag", "roll", "diag_embed", "frac", "divide", "true_divide"]

# Same positional meaning in NumPy and PyTorch, under PyTorch's names too.
for _name, _fname in (("absolute", "absolute"), ("acos", "arccos"), ("asin", "arcsin"), ("atan", "arctan"),
                      ("atan2", "arctan2"), ("acosh", "arccosh"), ("asinh", "arcsinh"), ("atanh", "arctanh"),
                      ("arccosh", "arccosh"), ("arcsinh", "arcsinh"), ("arctanh", "arctanh"),
                      ("multiply", "multiply"), ("subtract", "subtract"), ("floor_divide", "floor_divide"),
                      ("negative", "negative"),
                      ("positive", "positive"), ("isneginf", "isneginf"), ("isposinf", "isposinf"),
                      ("isreal", "isreal"), ("signbit", "signbit"), ("copysign", "copysign"), ("fmax", "fmax"),
                      ("fmin", "fmin"), ("heaviside", "heaviside"), ("float_power", "float_power"),
                      ("inner", "inner"), ("fix", "trunc"), ("angle", "angle"), ("real", "real"), ("imag", "imag"),
                      ("conj", "conj"), ("gcd", "gcd"), ("lcm", "lcm"), ("ldexp", "ldexp"),
                      ("bitwise_and", "bitwise_and"), ("bitwise_or", "bitwise_or"), ("bitwise_xor", "bitwise_xor"),
                      ("bitwise_not", "bitwise_not"), ("bitwise_left_shift", "bitwise_left_shift"),
                      ("bitwise_right_shift", "bitwise_right_shift")):
    globals()[_name] = getattr(fnp, _fname)
    __all__.append(_name)


def unbind(input, dim=0):
    """The slices along ``dim``, as a tuple (``torch.unbind``)."""
    x = fnp.asarray(input)
    return tuple(fnp.moveaxis(x, dim, 0)[i] for i in range(x.shape[dim]))


def select(input, dim, index):
    """The slice at ``index`` along ``dim``, that axis removed (``torch.select``)."""
    x = fnp.asarray(input)
    d = dim % x.ndim
    return x[(slice(None),) * d + (index,)]


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The ``offset`` diagonal over axes ``dim1`` and ``dim2``, as the last axis (``torch.diagonal``)."""
    return fnp.diagonal(input, offset, dim1, dim2)


def tensordot(a, b, dims=2):
    """Sums over the last ``dims`` axes of ``a`` and the first of ``b``, or over the listed pairs
    (``torch.tensordot``: ``dims`` an int or two lists)."""
    return fnp.tensordot(a, b, axes=dims if isinstance(dims, (builtins.int, np.integer)) else
                         tuple(tuple(d) if isinstance(d, (tuple, list)) else (d,) for d in dims))


def _triangle_indices(row, col, offset, dtype, upper):
    r, c = np.triu_indices(row, offset, col) if upper else np.tril_indices(row, offset, col)
    return fnp.asarray(np.stack([r, c]).astype(dtype or np.int64))


def triu_indices(row, col, offset=0, *, dtype=None, device=None):
    """The ``(2, N)`` coordinates of the upper triangle of a ``row`` by ``col`` matrix from diagonal
    ``offset``, row by row (``torch.triu_indices``)."""
    return _placed(_triangle_indices(row, col, offset, dtype, True), device)


def tril_indices(row, col, offset=0, *, dtype=None, device=None):
    """The ``(2, N)`` coordinates of the lower triangle of a ``row`` by ``col`` matrix up to diagonal
    ``offset``, row by row (``torch.tril_indices``)."""
    return _placed(_triangle_indices(row, col, offset, dtype, False), device)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std, mean)`` over ``dim`` (``torch.std_mean``, its forms as :func:`std`'s), the std Bessel-corrected
    by default."""
    dim, unbiased = _unbiased_form(dim, unbiased)
    return std(input, dim, unbiased, keepdim, correction=correction), fnp.mean(input, axis=_axis(dim),
                                                                              keepdims=keepdim)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` over ``dim`` (``torch.var_mean``, its forms as :func:`var`'s), the variance
    Bessel-corrected by default."""
    dim, unbiased = _unbiased_form(dim, unbiased)
    return var(input, dim, unbiased, keepdim, correction=correction), fnp.mean(input, axis=_axis(dim),
                                                                              keepdims=keepdim)


def dist(input, other, p=2):
    """The ``p``-norm of ``input - other`` (``torch.dist``)."""
    return _linalg().vector_norm(fnp.asarray(input) - other, ord=p)


def cov(input, *, correction=1, fweights=None, aweights=None):
    """The covariance of the variables in ``input``'s rows, observations in its columns (``torch.cov``)."""
    return fnp.cov(input, ddof=correction, fweights=fweights, aweights=aweights)


def corrcoef(input):
    return fnp.corrcoef(input)


def cross(input, other, dim=None):
    """The cross product along ``dim`` (``torch.cross``); without ``dim``, along the first axis of size 3,
    as PyTorch does (``fnx.linalg.cross`` defaults to the last axis)."""
    a, b = fnp.asarray(input), fnp.asarray(other)
    if dim is None:
        shape = fnp.broadcast_shapes(a.shape, b.shape)
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise ShapeError(f"cross: no axis of size 3 in shapes {a.shape} and {b.shape}")
    return _linalg().cross(a, b, dim=dim)


def vander(x, N=None, increasing=False):
    """Powers of ``x`` in columns, decreasing unless ``increasing`` (``torch.vander``, as NumPy's)."""
    out = _linalg().vander(x, N=N)
    return out if increasing else fnp.flip(out, axis=-1)


def pinverse(input, rcond=1e-15):
    """The pseudo-inverse, singular values at or below ``rcond * σ₁`` treated as zero (``torch.pinverse``)."""
    return _linalg().pinv(input, rtol=rcond)


def matrix_power(input, n):
    return _linalg().matrix_power(input, n)


def matrix_exp(A):
    """The matrix exponential of square matrices, batched (``torch.matrix_exp``, ``torch.linalg.matrix_exp``)."""
    return _linalg().matrix_exp(A)


def sgn(input):
    """``x / |x|`` (0 at 0): the sign, extended to complex numbers (``torch.sgn``)."""
    x = fnp.asarray(input)
    if x.dtype.kind != "c":
        return fnp.sign(x)
    mag = fnp.abs(x)
    return fnp.where(mag == 0, 0, x / fnp.where(mag == 0, 1, mag))


def clamp_min(input, min):
    """``clamp(input, min=min)`` (``torch.clamp_min``)."""
    return clamp(input, min=min)


def clamp_max(input, max):
    """``clamp(input, max=max)`` (``torch.clamp_max``)."""
    return clamp(input, max=max)


def randint_like(input, low=0, high=None, *, dtype=None, device=None):
    """Integers in ``[low, high)`` of ``input``'s shape (``torch.randint_like(input, high)`` or
    ``(input, low, high)``), in ``input``'s dtype unless ``dtype`` is given."""
    if high is None:
        low, high = 0, low
    dtype = np.dtype(dtype or input.dtype)
    drawn = randint(low, high, input.shape, dtype=dtype if dtype.kind in "iu" else int64, device=device or input.device)
    return drawn if drawn.dtype == dtype else drawn.astype(dtype)  # a float input holds the integers as floats


bincount, logspace, unravel_index = fnp.bincount, fnp.logspace, fnp.unravel_index

__all__ += ["unbind", "select", "diagonal", "tensordot", "triu_indices", "tril_indices", "std_mean", "var_mean",
            "dist", "cov", "corrcoef", "cross", "vander", "pinverse", "matrix_power", "matrix_exp", "sgn", "clamp_min",
            "clamp_max",
            "randint_like", "bincount", "logspace", "unravel_index"]


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None, options=None,
            disable=False):
    """``torch.compile``'s signature, so that ``model = torch.compile(model)`` ports: returns ``model``
    (a Module or a function) itself, to run eagerly, which computes what the compiled one would.

    fnx's compiler is :func:`fnx.jit`, for pure functions of arrays (``value_and_grad`` plus an
    optimizer rule, as in the benchmarks' W3 jit row); object-style code, whose modules and optimizers
    hold state, runs op by op. Used as a decorator (``@fnx.compile`` or ``@fnx.compile(mode=...)``) it
    returns the function as well.

    >>> import fnx
    >>> model = fnx.nn.Linear(2, 1)
    >>> fnx.compile(model) is model
    True
    """
    if model is None:
        return lambda fn: fn
    if not callable(model):
        raise TypeError(f"compile: expected a Module or a function, got {type(model).__name__}")
    return model


__all__ += ["compile"]


class Size(tuple):
    """An array's shape (``torch.Size``): a tuple of ints, compared equal to any tuple of the same ints.

    >>> import fnx
    >>> fnx.ones(2, 3).shape == fnx.Size([2, 3]), fnx.Size([2, 3]).numel()
    (True, 6)
    """

    def __new__(cls, sizes=()):
        sizes = tuple(sizes)
        if not builtins.all(isinstance(s, (builtins.int, np.integer)) and not isinstance(s, builtins.bool)
                            for s in sizes):
            raise TypeError(f"Size: expected a sequence of ints, got {sizes!r}")
        return tuple.__new__(cls, (builtins.int(s) for s in sizes))

    def numel(self):
        """The number of elements of an array of this shape."""
        return math.prod(self)

    def __repr__(self):
        return f"fnx.Size({list(self)})"


def t(input):
    """The matrix transposed (``torch.t``); 0-d and 1-d arrays unchanged."""
    return _t(fnp.asarray(input))


def masked_scatter(input, mask, source):
    """``input`` with the positions where ``mask`` holds (broadcast to its shape) taking ``source``'s first
    elements in row-major order (``torch.masked_scatter``). The mask must be concrete: it decides how many
    elements are taken. Differentiable in ``input`` and ``source``."""
    x = fnp.asarray(input)
    where = np.broadcast_to(np.asarray(mask, dtype=builtins.bool), x.shape)
    count = builtins.int(where.sum())
    values = fnp.ravel(fnp.asarray(source).astype(x.dtype))
    if values.shape[0] < count:
        raise ShapeError(f"masked_scatter: the mask selects {count} elements, but source has only {values.shape[0]}")
    return x.at[np.nonzero(where)].set(values[:count])


def index_put(input, indices, values, accumulate=False):
    """``input`` with ``input[indices]`` set to ``values``, or added to with ``accumulate`` (repeated indices
    then add up), as ``torch.index_put``; ``indices`` is a tuple of index arrays."""
    x, at = fnp.asarray(input), tuple(indices)
    values = fnp.asarray(values).astype(x.dtype)
    return x.at[at].add(values) if accumulate else x.at[at].set(values)


__all__ += ["Size", "t", "masked_scatter", "index_put"]


# ----- complex views (rotary embeddings), the older linear-algebra spellings, windows -------------------

def complex(real, imag):
    """``real + 1j * imag`` (``torch.complex``): both floating, of one dtype; complex64 from float32."""
    re, im = fnp.asarray(real), fnp.asarray(imag)
    if re.dtype != im.dtype or re.dtype.kind != "f":
        raise DTypeError(f"complex: real and imag must be floating arrays of one dtype, got {re.dtype} and "
                         f"{im.dtype}")
    out = np.result_type(re.dtype, np.complex64)
    return fnp.astype(re, out) + fnp.astype(im, out) * out.type(1j)


def polar(abs, angle):
    """``abs * (cos(angle) + 1j * sin(angle))`` (``torch.polar``), differentiable in both."""
    return complex(abs * fnp.cos(angle), abs * fnp.sin(angle))


def view_as_real(input):
    """A complex array as floats with a last axis of 2, real and imaginary parts (``torch.view_as_real``)."""
    x = fnp.asarray(input)
    if x.dtype.kind != "c":
        raise DTypeError(f"view_as_real: expected a complex array, got {x.dtype}")
    return fnp.stack([fnp.real(x), fnp.imag(x)], axis=-1)


def view_as_complex(input):
    """Floats with a last axis of 2 as complex numbers (``torch.view_as_complex``), as in rotary embeddings."""
    x = fnp.asarray(input)
    if x.dtype not in (np.float32, np.float64) or x.ndim == 0 or x.shape[-1] != 2:
        raise ShapeError(f"view_as_complex: expected a float32 or float64 array whose last axis has size 2, got "
                         f"{x.dtype}{list(x.shape)}")
    return complex(x[..., 0], x[..., 1])


def unflatten(input, dim, sizes):
    """Axis ``dim`` split into ``sizes`` (one of them may be -1), as ``torch.unflatten``."""
    return _unflatten(fnp.asarray(input), dim, sizes)


def svd(input, some=True, compute_uv=True):
    """``(U, S, V)`` with ``input = U diag(S) V^H`` (``torch.svd``: V itself, where ``linalg.svd`` gives
    V^H); ``some`` the reduced factors. Without ``compute_uv``, U and V are zeros of shapes (m, m) and
    (n, n), as in PyTorch."""
    x = fnp.asarray(input)
    if not compute_uv:
        m, n = x.shape[-2:]
        s = fnp.linalg.svd(x, compute_uv=False)
        return _svd_result(fnp.zeros(x.shape[:-2] + (m, m), x.dtype), s, fnp.zeros(x.shape[:-2] + (n, n), x.dtype))
    u, s, vh = fnp.linalg.svd(x, full_matrices=not some)
    return _svd_result(u, s, fnp.conj(fnp.swapaxes(vh, -1, -2)))


_svd_result = namedtuple("svd", ["U", "S", "V"])


def _window(name, symmetric):
    def window(window_length, periodic=True, *, dtype=None, device=None, requires_grad=False, **params):
        n = builtins.int(window_length)
        if n < 0:
            raise ValueError(f"{name}: window_length must be non-negative, got {window_length}")
        if n <= 1:
            values = np.ones(n)
        else:
            values = symmetric(n + 1, **params)[:-1] if periodic else symmetric(n, **params)
        return _leaf(fnp.asarray(values, dtype=dtype or default_float(), device=device), requires_grad)
    window.__name__ = window.__qualname__ = name
    window.__doc__ = (f"``torch.{name}``: the window of ``window_length`` points; ``periodic`` (the default) "
                      f"drops the last point of the one of length + 1, as for spectral analysis.")
    return window


def _general_hamming(n, alpha=0.54, beta=0.46):
    return alpha - beta * np.cos(2 * np.pi * np.arange(n) / (n - 1))


hann_window = _window("hann_window", np.hanning)
hamming_window = _window("hamming_window", _general_hamming)
blackman_window = _window("blackman_window", np.blackman)
bartlett_window = _window("bartlett_window", np.bartlett)
kaiser_window = _window("kaiser_window", lambda n, beta=12.0: np.kaiser(n, beta))


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """How arrays print (``torch.set_printoptions``), through NumPy's options: ``profile`` is ``"default"``,
    ``"short"`` or ``"full"``; ``sci_mode=False`` turns scientific notation off."""
    profiles = {"default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
                "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
                "full": {"precision": 4, "threshold": sys.maxsize, "edgeitems": 3, "linewidth": 80}}
    if profile is not None and profile not in profiles:
        raise ValueError(f"set_printoptions: profile must be 'default', 'short' or 'full', got {profile!r}")
    options = dict(profiles[profile]) if profile else {}
    given = {"precision": precision, "threshold": threshold, "edgeitems": edgeitems, "linewidth": linewidth}
    options.update({k: v for k, v in given.items() if v is not None})
    if sci_mode is not None:
        options["suppress"] = not sci_mode
    np.set_printoptions(**options)


dtype = np.dtype  # isinstance(x.dtype, fnx.dtype), as torch.dtype (fnx's dtypes are NumPy's)

__all__ += ["complex", "polar", "view_as_real", "view_as_complex", "unflatten", "svd", "hann_window",
            "hamming_window", "blackman_window", "bartlett_window", "kaiser_window", "set_printoptions", "dtype"]



# ----- torch's top-level names for functions fnx.nn.functional already has ---------------------------
# (their positional arguments are the same in both places; torch.embedding, batch_norm, instance_norm and the
# losses are not here: their torch-level forms take other positions or an integer reduction code.)

def _functional(name):
    def call(*args, **kwargs):
        return getattr(_modules["fnx.nn.functional"], name)(*args, **kwargs)
    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"``torch.{name}``: :func:`fnx.nn.functional.{name}`."
    return call


_FUNCTIONAL = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
               "avg_pool1d", "max_pool1d", "max_pool2d", "max_pool3d", "adaptive_avg_pool1d", "adaptive_max_pool1d",
               "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "prelu", "selu", "celu", "threshold",
               "hardshrink", "pairwise_distance", "pdist", "bilinear", "layer_norm", "group_norm", "rms_norm",
               "dropout", "alpha_dropout", "feature_alpha_dropout"]
for _name in _FUNCTIONAL:
    globals()[_name] = _functional(_name)


# ----- more of torch's namespace, from fnx.numpy, fnx.linalg and fnx.special ----------------------------------

uint16, uint32, uint64 = np.dtype("uint16"), np.dtype("uint32"), np.dtype("uint64")
vdot, nextafter, i0 = fnp.vdot, fnp.nextafter, fnp.i0
frexp_result = namedtuple("frexp", ["mantissa", "exponent"])
histogram_result = namedtuple("histogram", ["hist", "bin_edges"])


def ger(input, vec2):
    """The outer product of two vectors (``torch.ger``, the older name of ``torch.outer``)."""
    return fnp.outer(input, vec2)


def adjoint(input):
    """The conjugate transpose of the last two axes (``torch.adjoint``)."""
    return fnp.conj(fnp.swapaxes(input, -1, -2))


def msort(input):
    """``input`` sorted along its first axis (``torch.msort``)."""
    return fnp.sort(input, axis=0)


def diagflat(input, offset=0):
    """A matrix with the flattened ``input`` on diagonal ``offset`` (``torch.diagflat``)."""
    return fnp.diagflat(input, k=offset)


def chain_matmul(*matrices):
    """The product of the matrices, multiplied in the cheapest order (``torch.chain_matmul``)."""
    return fnp.linalg.multi_dot(list(matrices)) if len(matrices) > 1 else matrices[0]


def frexp(input):
    """``(mantissa, exponent)`` with ``input = mantissa * 2 ** exponent`` (``torch.frexp``); the exponent is int32."""
    mantissa, exponent = fnp.frexp(input)
    return frexp_result(mantissa, exponent.astype(np.int32))


def mvlgamma(input, p):
    """The multivariate log-gamma function of dimension ``p`` (``torch.mvlgamma``)."""
    return _special().multigammaln(input, p)


def igamma(input, other):
    """The regularized lower incomplete gamma function P(input, other) (``torch.igamma``)."""
    return _special().gammainc(input, other)


def igammac(input, other):
    """The regularized upper incomplete gamma function Q(input, other) (``torch.igammac``)."""
    return _special().gammaincc(input, other)


def is_signed(input):
    """Whether the dtype holds negative values (``torch.is_signed``): False for unsigned integers and bool."""
    return fnp.asarray(input).dtype.kind not in "ub"


def is_same_size(input, other):
    return tuple(input.shape) == tuple(other.shape)


def typename(obj):
    """The type's name (``torch.typename``): ``'fnx.FloatTensor'`` for a float32 array, ``module.Class``
    otherwise."""
    if isinstance(obj, Array):
        return obj.type()
    cls = obj if isinstance(obj, type) else type(obj)
    return cls.__qualname__ if cls.__module__ in ("builtins", "__builtin__", None) else \
        f"{cls.__module__}.{cls.__qualname__}"


def renorm(input, p, dim, maxnorm):
    """Each slice of ``input`` along ``dim`` whose ``p``-norm exceeds ``maxnorm``, scaled down to norm ``maxnorm``
    (``torch.renorm``; the others unchanged). Differentiable."""
    x = fnp.asarray(input)
    d = normalize_axis("renorm", dim, x.ndim)
    others = tuple(k for k in range(x.ndim) if k != d)
    norms = fnp.sum(fnp.abs(x) ** p, axis=others, keepdims=True) ** (1.0 / p)
    scale = fnp.where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
    return x * scale.astype(x.dtype)


def _split_by(fname, dim, min_ndim):
    def split_fn(input, indices_or_sections):
        x = fnp.asarray(input)
        if x.ndim < min_ndim:
            raise ShapeError(f"{fname}: needs at least {min_ndim} dimensions, got shape {x.shape}")
        d = dim if x.ndim > 1 or dim == 0 else 0
        if isinstance(indices_or_sections, (builtins.int, np.integer)) and x.shape[d] % indices_or_sections:
            raise ShapeError(f"{fname}: {indices_or_sections} sections do not evenly divide axis {d} of shape "
                             f"{x.shape}")
        return tensor_split(x, indices_or_sections, d)
    split_fn.__name__ = fname
    split_fn.__doc__ = (f"Pieces along axis {dim} (``torch.{fname}``): ``tensor_split`` there, with a number of "
                        f"sections that must divide the axis evenly.")
    return split_fn


vsplit, hsplit, dsplit = _split_by("vsplit", 0, 2), _split_by("hsplit", 1, 1), _split_by("dsplit", 2, 3)


def select_scatter(input, src, dim, index):
    """``input`` with ``input.select(dim, index)`` replaced by ``src`` (``torch.select_scatter``)."""
    x = fnp.asarray(input)
    d = normalize_axis("select_scatter", dim, x.ndim)
    return x.at[(slice(None),) * d + (index,)].set(_same_shape("select_scatter", src, x.shape[:d] + x.shape[d + 1:]))


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """``input`` with the slice ``start:end:step`` along ``dim`` replaced by ``src`` (``torch.slice_scatter``)."""
    x = fnp.asarray(input)
    d = normalize_axis("slice_scatter", dim, x.ndim)
    where = (slice(None),) * d + (slice(start, end, step),)
    return x.at[where].set(_same_shape("slice_scatter", src, np.empty(x.shape, np.bool_)[where].shape))


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """``input`` with its diagonal ``offset`` over ``dim1`` and ``dim2`` replaced by ``src``
    (``torch.diagonal_scatter``; ``src`` has the shape ``torch.diagonal`` gives, the diagonal last)."""
    x = fnp.asarray(input)
    d1, d2 = normalize_axis("diagonal_scatter", dim1, x.ndim), normalize_axis("diagonal_scatter", dim2, x.ndim)
    moved = fnp.moveaxis(x, (d1, d2), (-2, -1))
    n = builtins.max(0, builtins.min(moved.shape[-2] - builtins.max(-offset, 0),
                                     moved.shape[-1] - builtins.max(offset, 0)))
    rows = np.arange(n) + builtins.max(-offset, 0)
    src = _same_shape("diagonal_scatter", src, moved.shape[:-2] + (n,))
    moved = moved.at[..., rows, rows + offset].set(src)
    return fnp.moveaxis(moved, (-2, -1), (d1, d2))


def _same_shape(fname, src, shape):
    src = fnp.asarray(src)
    if tuple(src.shape) != tuple(shape):
        raise ShapeError(f"{fname}: src has shape {src.shape}, the part it replaces {tuple(shape)}")
    return src


def histogram(input, bins, *, range=None, weight=None, density=False):
    """``(hist, bin_edges)`` of ``input``'s values (``torch.histogram``): ``bins`` equal bins over ``range`` (the
    data's span by default) or the given edges; counts, weighted sums or a density, in ``input``'s dtype."""
    x = fnp.asarray(input)
    if not fnp.issubdtype(x.dtype, fnp.floating):
        raise TypeError(f"histogram: input must be floating point, got {x.dtype}")
    hist, edges = fnp.histogram(x, bins, range=range, weights=weight, density=density)
    return histogram_result(hist.astype(x.dtype), edges.astype(x.dtype))


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Central-difference estimates of ``input``'s partial derivatives, one array per axis of ``dim`` (all axes by
    default), as a tuple (``torch.gradient``). ``spacing`` is one step for every axis, a step per axis, or a
    coordinate array per axis."""
    x = fnp.asarray(input)
    dims = tuple(range(x.ndim)) if dim is None else (dim,) if isinstance(dim, (builtins.int, np.integer)) else \
        tuple(dim)
    dims = tuple(normalize_axis("gradient", k, x.ndim) for k in dims)
    for k in dims:
        if x.shape[k] < edge_order + 1:
            raise ShapeError(f"gradient: axis {k} of shape {x.shape} needs at least edge_order + 1 = "
                             f"{edge_order + 1} points")
    steps = list(spacing) if isinstance(spacing, (list, tuple)) else [spacing] * len(dims)
    if len(steps) != len(dims):
        raise ValueError(f"gradient: {len(steps)} spacings for {len(dims)} dimensions")
    out = fnp.gradient(x, *steps, axis=dims, edge_order=edge_order)
    return tuple(out) if isinstance(out, (list, tuple)) else (out,)


def cholesky_solve(B, L, upper=False):
    """``X`` with ``A @ X = B``, from the Cholesky factor of ``A`` (``torch.cholesky_solve``): lower ``L`` with
    ``A = L @ L^H``, or upper with ``A = U^H @ U``. Batched; differentiable in ``B`` and ``L``."""
    linalg = _linalg()
    lower = adjoint(L) if upper else L
    y = linalg.solve_triangular(lower, B, upper=False)
    return linalg.solve_triangular(adjoint(lower), y, upper=True)


def cholesky_inverse(L, upper=False):
    """The inverse of ``A`` from its Cholesky factor (``torch.cholesky_inverse``; see :func:`cholesky_solve`)."""
    L = fnp.asarray(L)
    eye_ = fnp.broadcast_to(fnp.eye(L.shape[-1], dtype=L.dtype, device=L.device), L.shape)
    return cholesky_solve(eye_, L, upper)


__all__ += _FUNCTIONAL + [
    "uint16", "uint32", "uint64", "vdot", "nextafter", "i0", "ger", "adjoint", "msort", "diagflat", "chain_matmul",
    "frexp", "mvlgamma", "igamma", "igammac", "is_signed", "is_same_size", "typename", "renorm", "vsplit", "hsplit",
    "dsplit", "select_scatter", "slice_scatter", "diagonal_scatter", "histogram", "gradient", "cholesky_solve",
    "cholesky_inverse"]


# ----- the methods of the functions above ----------------------------------------------------------

def _flip_method(self, *dims, **kwargs):
    """``x.flip(0, 1)``, ``x.flip((0, 1))`` or ``x.flip(dims=...)`` (``torch.Tensor.flip``)."""
    if "dims" in kwargs:
        return flip(self, kwargs.pop("dims"))
    return flip(self, dims[0] if len(dims) == 1 else dims)


def _unflatten(self, dim, sizes):
    """Axis ``dim`` split into ``sizes`` (one may be -1) (``torch.Tensor.unflatten``)."""
    d = dim % self.ndim
    sizes = tuple(sizes)
    if sizes.count(-1) == 1:
        known = math.prod(s for s in sizes if s != -1)
        sizes = tuple(self.shape[d] // known if s == -1 else s for s in sizes)
    if math.prod(sizes) != self.shape[d]:
        raise ShapeError(f"unflatten: sizes {sizes} do not multiply to axis {dim} of shape {self.shape}")
    return fnp.reshape(self, self.shape[:d] + sizes + self.shape[d + 1:])


def _unfold(self, dimension, size, step):
    """Every window of ``size`` elements along ``dimension``, ``step`` apart, as a new last axis
    (``torch.Tensor.unfold``): ``dimension`` becomes the window count, ``(n - size) // step + 1``.
    A copy, where PyTorch returns a view; differentiable (windows that overlap add their gradients).

    >>> import fnx.numpy as fnp
    >>> fnp.arange(5.0).unfold(0, 2, 2)
    Array([[0., 1.],
           [2., 3.]], dtype=float32)
    """
    size, step = operator.index(size), operator.index(step)
    if step <= 0:
        raise ValueError(f"unfold: step must be positive, got {step}")
    if self.ndim == 0:  # PyTorch: a 0-d tensor unfolds into one window of one element
        normalize_axis("unfold", dimension, 0)
        if size not in (0, 1):
            raise ShapeError(f"unfold: size {size} is larger than a 0-d array's one element")
        return fnp.reshape(self, (size,))
    d = normalize_axis("unfold", dimension, self.ndim)
    n = self.shape[d]
    if not 0 <= size <= n:
        raise ShapeError(f"unfold: size {size} does not fit dimension {dimension} of length {n} (shape {self.shape})")
    count = (n - size) // step + 1
    starts = np.arange(count)[:, None] * step + np.arange(size)[None, :]
    windows = fnp.take(self, fnp.asarray(starts.ravel(), device=self.device), axis=d)
    windows = fnp.reshape(windows, self.shape[:d] + (count, size) + self.shape[d + 1:])
    return fnp.moveaxis(windows, d + 1, -1)


def _stride(self, dim=None):
    """The strides of a C-ordered array, in elements (``torch.Tensor.stride``): fnx arrays are contiguous."""
    strides, step = [], 1
    for s in reversed(self.shape):
        strides.append(step)
        step *= builtins.max(s, 1)
    strides = tuple(reversed(strides))
    return strides if dim is None else strides[dim]


_TENSOR_TYPES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor", "int64": "LongTensor",
                 "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
                 "bool": "BoolTensor", "complex64": "ComplexFloatTensor", "complex128": "ComplexDoubleTensor"}


def _type(self, dtype=None, non_blocking=False, **kwargs):
    """``torch.Tensor.type``: without ``dtype`` the type's name (``'fnx.FloatTensor'``, ``'fnx.cuda.FloatTensor'``
    on a GPU); with one (a dtype, or a name such as ``'torch.DoubleTensor'``) the array cast to it."""
    if dtype is None:
        name = _TENSOR_TYPES.get(str(self.dtype), str(self.dtype))
        return f"fnx.{'cuda.' if self.device.platform == 'cuda' else ''}{name}"
    if callable(dtype) and getattr(dtype, "__name__", "").endswith("Tensor"):  # x.type(fnx.FloatTensor)
        dtype = dtype.__name__
    if isinstance(dtype, str) and dtype.endswith("Tensor"):
        wanted = dtype.rpartition(".")[2]
        by_name = {v: k for k, v in _TENSOR_TYPES.items()}
        if wanted not in by_name:
            raise TypeError(f"type: unknown tensor type {dtype!r}; expected one of {sorted(by_name)}")
        dtype = by_name[wanted]
    return self.astype(dtype)


def _install_more():
    A = Array
    A.type = _type
    A.where = lambda self, condition, y: fnp.where(condition, self, y)
    A.where.__doc__ = "``where(condition, self, y)`` (``torch.Tensor.where``)."
    A.type_as = lambda self, other: self.astype(other.dtype)
    A.is_floating_point, A.is_complex, A.is_nonzero = is_floating_point, is_complex, is_nonzero
    A.element_size = lambda self: self.dtype.itemsize
    A.is_contiguous = lambda self, memory_format=None: True
    A.stride, A.ndimension, A.unflatten, A.flip = _stride, lambda self: self.ndim, _unflatten, _flip_method
    A.unfold = _unfold
    A.bitwise_and, A.bitwise_or, A.bitwise_xor = fnp.bitwise_and, fnp.bitwise_or, fnp.bitwise_xor
    A.bitwise_not, A.angle, A.svd = fnp.bitwise_not, fnp.angle, svd
    A.is_cpu = property(lambda self: self.device.platform == "cpu")
    A.get_device = lambda self: -1 if self.device.platform == "cpu" else self.device.index  # as torch's
    A.mH = property(adjoint, doc="The conjugate transpose of the matrices.")
    A.H = property(lambda self: fnp.conj(_t(self)), doc="The conjugate transpose of a matrix.")
    A.adjoint = adjoint
    A.polygamma = lambda self, n: polygamma(n, self)
    for name in ("masked_select", "amax", "amin", "aminmax", "lerp", "tril", "triu", "index_add", "index_copy",
                 "index_fill", "scatter", "scatter_add", "scatter_reduce", "repeat_interleave", "det", "inverse",
                 "logdet", "slogdet", "median", "nanmedian", "quantile", "nanquantile", "nanmean", "nansum", "cummax",
                 "cummin", "kthvalue", "mode", "logcumsumexp", "addmm", "addmv", "addr", "baddbmm", "addbmm", "mv",
                 "addcmul", "addcdiv", "xlogy", "sinc", "deg2rad", "rad2deg", "hypot", "logaddexp", "logaddexp2",
                 "logit", "erf", "erfc", "erfinv", "lgamma", "digamma", "unique", "unique_consecutive", "histc",
                 "fliplr", "flipud", "rot90", "diff", "count_nonzero", "isclose", "nan_to_num", "movedim", "moveaxis",
                 "swapdims", "narrow", "tensor_split", "take_along_dim", "bernoulli", "multinomial", "argwhere",
                 "roll", "diag", "diag_embed", "frac", "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal",
                 "less", "less_equal", "not_equal", "absolute", "acos", "asin", "atan", "atan2", "acosh", "asinh",
                 "atanh", "arccos", "arcsin", "arctan", "arctan2", "arccosh", "arcsinh", "arctanh", "cosh", "sinh",
                 "tan", "exp2", "log2", "log10", "logical_and", "logical_or", "logical_not", "logical_xor", "fmod",
                 "remainder", "trunc", "fix", "multiply", "subtract", "divide", "true_divide", "floor_divide",
                 "negative", "positive", "isinf", "isneginf", "isposinf", "signbit", "copysign", "fmax", "fmin",
                 "heaviside", "float_power", "kron", "outer", "inner", "tile", "broadcast_to", "cdouble", "cfloat",
                 "clamp_min", "clamp_max", "select", "dist", "cov", "corrcoef", "cross", "pinverse", "matrix_power",
                 "matrix_exp", "sgn", "bincount", "renorm", "msort", "nextafter", "i0", "igamma", "igammac", "frexp",
                 "histogram", "diagflat", "vsplit", "hsplit", "dsplit", "select_scatter", "slice_scatter",
                 "diagonal_scatter", "mvlgamma", "ger", "vdot", "is_signed", "is_same_size", "prelu", "hardshrink",
                 "cholesky_solve", "cholesky_inverse"):
        if name in ("cdouble", "cfloat"):
            setattr(A, name, _as(complex128 if name == "cdouble" else complex64))
        else:
            setattr(A, name, globals()[name])
    A.nonzero = _numpy_or_torch(A.nonzero, nonzero, frozenset(("as_tuple",)))
    A.tile = lambda self, *dims: fnp.tile(self, _sizes(dims))  # x.tile(2, 1) as x.tile((2, 1))
    A.masked_scatter, A.index_put = masked_scatter, index_put
    A.diagonal = _numpy_or_torch(A.diagonal, diagonal, frozenset(("dim1", "dim2")))


_install_more()


def _requires_grad_(self, requires_grad=True):
    """A leaf that records operations for ``backward()`` (``torch.Tensor.requires_grad_``).

    fnx arrays are immutable, so this cannot change ``self``: it returns a new leaf (a
    :class:`~fnx.nn.Parameter`) holding the same value, and code must use the result, as
    ``x = x.detach().requires_grad_()`` does. ``requires_grad_(False)`` returns the value itself.

    >>> import fnx
    >>> x = fnx.ones(2).requires_grad_()
    >>> (x * x).sum().backward()
    >>> x.grad
    Array([2., 2.], dtype=float32)
    """
    if self.requires_grad:  # computed from Parameters: already recorded (PyTorch returns it as it is)
        if not requires_grad:
            from .errors import GraphError
            raise GraphError("requires_grad_(False): you can only change requires_grad flags of leaf variables; "
                             "to use a computed value without its gradient record, take x.detach()")
        return self
    return _leaf(self.detach(), builtins.bool(requires_grad))


def _set_requires_grad(self, flag):
    from .errors import ImmutableError
    raise ImmutableError(f"x.requires_grad = {flag!r}: fnx arrays are immutable, so a flag cannot be set on one; "
                         f"use x = x.requires_grad_({flag!r}) (a new leaf), or fnx.tensor(data, requires_grad=True)")


Array.requires_grad_ = _requires_grad_
Array.requires_grad = property(Array.requires_grad.fget, _set_requires_grad, doc="Whether backward() reaches "
                               "this array (it depends on a Parameter with requires_grad=True).")


# ----- NumPy's argument names, which PyTorch's functions accept too --------------------------------
#
# PyTorch's argument parser takes ``axis`` for ``dim`` and ``keepdims`` for ``keepdim`` in every function
# (``torch.sum(x, axis=0, keepdims=True)``, ``x.softmax(axis=1)``). Each function here with a ``dim`` or
# ``keepdim`` parameter (and no NumPy name of its own) is wrapped once to read them, and so is the
# method installed from it.

_NUMPY_NAMES = {"axis": "dim", "keepdims": "keepdim"}


def _taking_numpy_names(fn, names):
    @functools.wraps(fn)
    def with_numpy_names(*args, **kwargs):
        for numpy_name, torch_name in names:
            if numpy_name in kwargs:
                if torch_name in kwargs:
                    raise TypeError(f"{fn.__name__}() got both {torch_name!r} and its alias {numpy_name!r}")
                kwargs[torch_name] = kwargs.pop(numpy_name)
        return fn(*args, **kwargs)
    return with_numpy_names


def _accept_numpy_names():
    wrapped = {}
    for name in __all__:
        fn = globals().get(name)
        if not inspect.isfunction(fn) or fn.__module__ != __name__:
            continue
        params = inspect.signature(fn).parameters
        names = tuple((n, t) for n, t in _NUMPY_NAMES.items() if t in params and n not in params)
        if names:
            wrapped[fn] = globals()[name] = _taking_numpy_names(fn, names)
    for attr, value in list(vars(Array).items()):
        if inspect.isfunction(value) and value in wrapped:
            setattr(Array, attr, wrapped[value])


_accept_numpy_names()
