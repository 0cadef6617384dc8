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
- Arrays are immutable, so the in-place forms (``x.add_``, ``x.zero_()``) do
  not exist, and ``fnx.from_numpy`` copies.
"""
import builtins
import math
from collections import namedtuple

import numpy as np

from . import numpy as fnp
from . import random as _random
from .core.array import Array
from .core.dtypes import default_float, result_type
from .errors import ShapeError
from .transforms.autodiff import enable_grad, no_grad

__all__ = [
    "Tensor", "tensor", "as_tensor", "from_numpy", "is_tensor", "numel", "zeros", "ones", "empty", "full",
    "zeros_like", "ones_like", "empty_like", "full_like", "rand", "randn", "randint", "randperm", "rand_like",
    "randn_like", "arange", "linspace", "eye", "cat", "concat", "stack", "flatten", "unsqueeze", "squeeze",
    "permute", "transpose", "sum", "mean", "prod", "std", "var", "max", "min", "argmax", "argmin", "sort",
    "argsort", "topk", "softmax", "log_softmax", "clamp", "gather", "index_select", "masked_fill", "chunk",
    "split", "allclose", "equal", "set_grad_enabled", "inference_mode", "mm", "bmm",
    "float16", "half", "float32", "float", "float64", "double", "complex64", "cfloat", "complex128", "cdouble",
    "uint8", "int8", "int16", "short", "int32", "int", "int64", "long", "bool",
]

Tensor = Array

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
    """``zeros(2, 3)`` and ``zeros((2, 3))`` alike."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(size)


def _axis(dim):
    return tuple(dim) if isinstance(dim, list) else dim


def _special():
    from .scipy import special
    return special


def _leaf(x, requires_grad):
    if not requires_grad:
        return x
    from .nn import Parameter  # a leaf that accumulates .grad, as PyTorch's requires_grad tensors do
    return Parameter(x)


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


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _created(fnp.zeros, size, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _created(fnp.ones, size, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """Zeros: an uninitialised array is not observable in an immutable framework."""
    return _created(fnp.zeros, size, dtype, device, requires_grad)


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
    return _leaf(fnp.linspace(start, end, steps, dtype=dtype, device=device), requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    return _leaf(fnp.eye(n, m, dtype=dtype, device=device), requires_grad)


# ----- random, from the global generator -----------------------------------------------------------

def _placed(x, device):
    return x if device is None else x.to(device)


def rand(*size, dtype=None, device=None, requires_grad=False):
    """Uniform on [0, 1), from the generator ``fnx.manual_seed`` seeds."""
    x = _random.uniform(_random.next_key(), _sizes(size), dtype=dtype)
    return _leaf(_placed(x, device), requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False):
    """Standard normal, from the generator ``fnx.manual_seed`` seeds."""
    x = _random.normal(_random.next_key(), _sizes(size), dtype=dtype)
    return _leaf(_placed(x, device), requires_grad)


def randint(low=0, high=None, size=None, *, dtype=None, device=None):
    """Integers in [low, high) (``torch.randint(high, size)`` or ``torch.randint(low, high, size)``), int64."""
    if size is None:  # randint(high, size)
        low, high, size = 0, low, high
    if size is None or high is None:
        raise TypeError("randint: expected randint(high, size) or randint(low, high, size)")
    x = _random.randint(_random.next_key(), tuple(size), low, high, dtype=dtype or int64)
    return _placed(x, device)


def randperm(n, *, dtype=None, device=None):
    """A random permutation of ``0 .. n-1``, int64."""
    x = _random.permutation(_random.next_key(), n)
    return _placed(x if dtype is None else x.astype(dtype), device)


def rand_like(input, *, dtype=None, device=None):
    return rand(input.shape, dtype=dtype or input.dtype, device=device or input.device)


def randn_like(input, *, dtype=None, device=None):
    return randn(input.shape, dtype=dtype or input.dtype, device=device or input.device)


# ----- shapes ------------------------------------------------------------------------------------

def cat(tensors, dim=0):
    return fnp.concatenate(tensors, axis=dim)


concat = cat


def stack(tensors, dim=0):
    return fnp.stack(tensors, axis=dim)


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
    if index.ndim != x.ndim:
        raise ShapeError(f"gather: index has {index.ndim} dimensions, input {x.ndim} (shapes {index.shape} "
                         f"and {x.shape})")
    d = dim % x.ndim
    if builtins.any(i > s for k, (i, s) in enumerate(zip(index.shape, x.shape)) if k != d):
        raise ShapeError(f"gather: index of shape {index.shape} is larger than input {x.shape} outside axis {dim}")
    x = x[tuple(slice(0, i) if k != d else slice(None) for k, i in enumerate(index.shape))]
    return fnp.take_along_axis(x, index, axis=d)


def index_select(input, dim, index):
    return fnp.take(input, index, axis=dim)


def masked_fill(input, mask, value):
    """``value`` where ``mask`` holds, ``input`` elsewhere (``torch.masked_fill``), in ``input``'s dtype."""
    x = fnp.asarray(input)
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


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``torch.std``: Bessel-corrected by default (``correction=1``), unlike ``fnx.numpy.std``."""
    if isinstance(dim, builtins.bool):  # the old std(input, unbiased) form
        dim, unbiased = None, dim
    return fnp.std(input, axis=_axis(dim), ddof=_ddof(unbiased, correction), keepdims=keepdim)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``torch.var``: Bessel-corrected by default (``correction=1``), unlike ``fnx.numpy.var``."""
    if isinstance(dim, builtins.bool):
        dim, unbiased = None, dim
    return fnp.var(input, axis=_axis(dim), ddof=_ddof(unbiased, correction), keepdims=keepdim)


def _extreme(name, reduce, pick, elementwise):
    def fn(input, dim=None, keepdim=False, *, other=None):
        if isinstance(dim, Array) or other is not None:  # max(a, b): the elementwise maximum
            return elementwise(input, dim if other is None else other)
        if dim is None:
            return reduce(input)
        x = fnp.asarray(input)
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
    return fnp.argmax(input, axis=dim, keepdims=keepdim and dim is not None)


def argmin(input, dim=None, keepdim=False):
    return fnp.argmin(input, axis=dim, keepdims=keepdim and dim is not None)


def argsort(input, dim=-1, descending=False, stable=False):
    """Indices that sort along ``dim``; ``descending`` keeps equal elements in their order (stable)."""
    x = fnp.asarray(input)
    if not descending:
        return fnp.argsort(x, axis=dim, stable=True)
    if x.dtype.kind in "ub":
        x = x.astype(int64)
    return fnp.argsort(-x, axis=dim, stable=True)


def sort(input, dim=-1, descending=False, stable=False):
    """``(values, indices)`` sorted along ``dim`` (``torch.sort``)."""
    x = fnp.asarray(input)
    indices = argsort(x, dim, descending)
    return values_indices(fnp.take_along_axis(x, indices, axis=dim), indices)


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) elements along ``dim`` and their indices, in order (``torch.topk``)."""
    x = fnp.asarray(input)
    if not 0 <= k <= x.shape[dim]:
        raise ShapeError(f"topk: k={k} is out of range for axis {dim} of shape {x.shape}")
    indices = fnp.take(argsort(x, dim, descending=largest), fnp.arange(k), axis=dim)
    return values_indices(fnp.take_along_axis(x, indices, axis=dim), indices)


def softmax(input, dim, dtype=None):
    from .nn.functional import softmax as _softmax
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input, dim, dtype=None):
    from .nn.functional import log_softmax as _log_softmax
    return _log_softmax(input, dim, dtype=dtype)


def clamp(input, min=None, max=None):
    """``min(max(input, min), max)`` (``torch.clamp``); either bound may be None."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given")
    return fnp.clip(input, min, max)


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


class set_grad_enabled:
    """Records operations for ``backward()`` or not (``torch.set_grad_enabled``), as a context manager."""

    def __init__(self, mode):
        self._context = enable_grad() if mode else no_grad()

    def __enter__(self):
        self._context.__enter__()
        return self

    def __exit__(self, *exc):
        return self._context.__exit__(*exc)


inference_mode = no_grad


def add(input, other, *, alpha=1):
    return fnp.add(input, other if alpha == 1 else other * alpha)


def sub(input, other, *, alpha=1):
    return fnp.subtract(input, other if alpha == 1 else other * alpha)


def div(input, other, *, rounding_mode=None):
    """``input / other``; ``rounding_mode="trunc"`` rounds toward zero, ``"floor"`` down (``torch.div``).
    Integers divide into the default float dtype, as in PyTorch (the ``/`` operator follows NumPy)."""
    if rounding_mode is None:
        q = fnp.true_divide(input, other)
        return q.astype(default_float()) if result_type(input, other).kind in "biu" else q  # PyTorch's float
    if rounding_mode == "floor":
        return fnp.floor_divide(input, other)
    if rounding_mode == "trunc":  # toward zero, in the operands' dtype (integers stay integers)
        q = fnp.trunc(fnp.true_divide(input, other))
        dtype = result_type(input, other)
        return q if dtype.kind in "fc" else q.astype(dtype)
    raise ValueError(f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")


def rsqrt(input):
    return 1 / fnp.sqrt(input)


def sigmoid(input):
    from .nn.functional import sigmoid as _sigmoid
    return _sigmoid(input)


def relu(input):
    from .nn.functional import relu as _relu
    return _relu(input)


def logsumexp(input, dim, keepdim=False):
    from .scipy.special import logsumexp as _logsumexp
    return _logsumexp(input, axis=_axis(dim), keepdims=keepdim)


def all(input, dim=None, keepdim=False):
    return fnp.all(input, axis=_axis(dim), keepdims=keepdim)


def any(input, dim=None, keepdim=False):
    return fnp.any(input, axis=_axis(dim), keepdims=keepdim)


def cumsum(input, dim, *, dtype=None):
    return fnp.cumsum(input, axis=dim, dtype=dtype)


def cumprod(input, dim, *, dtype=None):
    return fnp.cumprod(input, axis=dim, dtype=dtype)


# Functions whose positional meaning is the same in NumPy and PyTorch (torch.exp(x), torch.where(c, x, y),
# torch.matmul(a, b), torch.roll(x, 1, 0)...): fnx.numpy's, under PyTorch's name.
mul, pow, neg = fnp.multiply, fnp.power, fnp.negative
_SAME = ["where", "exp", "exp2", "log", "log2", "log10", "log1p", "expm1", "sqrt", "square", "abs", "sin", "cos",
         "tan", "tanh", "sinh", "cosh", "arcsin", "arccos", "arctan", "arctan2", "floor", "ceil", "round", "trunc",
         "sign", "maximum", "minimum", "isnan", "isinf", "isfinite", "matmul", "einsum", "outer", "dot", "kron",
         "trace", "tril", "triu", "diag", "flip", "roll", "tile", "broadcast_to", "take", "logical_and",
         "logical_or", "logical_not", "logical_xor", "remainder", "fmod", "reciprocal", "erf"]
for _name in _SAME:
    globals()[_name] = getattr(fnp, _name, None) or getattr(_special(), _name)
__all__ += _SAME + ["add", "sub", "div", "mul", "pow", "neg", "rsqrt", "sigmoid", "relu", "logsumexp", "all", "any",
                    "cumsum", "cumprod", "norm"]


# ----- methods ------------------------------------------------------------------------------------

class _Size(builtins.int):
    """``x.size``: the number of elements as NumPy has it; called, PyTorch's ``x.size()`` or ``x.size(d)``."""

    def __new__(cls, shape):
        self = builtins.int.__new__(cls, math.prod(shape))
        self.shape = shape
        return self

    def __call__(self, dim=None):
        return self.shape if dim is None else self.shape[dim]


def _view(self, *shape):
    """``x.view(2, -1)``: ``x`` reshaped (``torch.Tensor.view``); arrays are immutable, so nothing is shared."""
    if len(shape) == 1 and not isinstance(shape[0], (builtins.int, np.integer, tuple, list)):
        raise TypeError(f"view: reinterpreting {self.dtype} as another dtype is not supported; use .astype(dtype) "
                        f"to convert the values")
    return fnp.reshape(self, _sizes(shape))


def _expand(self, *sizes):
    """``x.expand(3, -1)``: ``x`` broadcast to ``sizes``, -1 keeping an axis (``torch.Tensor.expand``)."""
    sizes = _sizes(sizes)
    lead = len(sizes) - self.ndim
    if lead < 0:
        raise ShapeError(f"expand: {len(sizes)} sizes {sizes} for an array of {self.ndim} dimensions {self.shape}")
    return fnp.broadcast_to(self, tuple(self.shape[i - lead] if s == -1 and i >= lead else s
                                        for i, s in enumerate(sizes)))


def _clone(self):
    """A copy that is still differentiable (``torch.Tensor.clone``): a parameter's value as it is now."""
    from .nn.parameter import Parameter
    return fnp.multiply(self, 1) if isinstance(self, Parameter) else self  # immutable arrays are their own copy


def norm(input, p="fro", dim=None, keepdim=False):
    """``torch.norm``: the ``p``-norm of all elements (2 for ``"fro"``), or of each vector along ``dim``."""
    x = fnp.asarray(input)
    order = 2 if p == "fro" else p
    if dim is None:
        out = fnp.linalg.norm(fnp.ravel(x), ord=order)
        return fnp.reshape(out, (1,) * x.ndim) if keepdim else out
    return fnp.linalg.norm(x, ord=order, axis=_axis(dim), keepdims=keepdim)


def _new(make):
    def method(self, *args, dtype=None, device=None, requires_grad=False):
        return make(*args, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)
    return method


def _as(dtype):
    def method(self):
        return self.astype(dtype)
    method.__doc__ = f"``x`` as {dtype}."
    return method


def _numpy_or_torch(numpy_method, torch_fn, torch_keys, torch_when=None):
    """A method with NumPy's meaning, or PyTorch's when a PyTorch-only keyword (or ``torch_when``) says so."""
    def method(self, *args, **kwargs):
        # Checked only when there is something to check: x.sum() stays one call away from fnx.numpy.sum.
        if (kwargs and torch_keys.intersection(kwargs)) or (args and torch_when and torch_when(self, args)):
            return torch_fn(self, *args, **kwargs)
        return numpy_method(self, *args, **kwargs)
    method.__name__ = method.__qualname__ = numpy_method.__name__
    method.__doc__ = (f"{numpy_method.__doc__ or ''} With {', '.join(sorted(torch_keys))}: "
                      f"``torch.Tensor.{numpy_method.__name__}``.")
    return method


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
    A.permute = lambda self, *dims: permute(self, _sizes(dims))
    A.unbind = lambda self, dim=0: tuple(fnp.moveaxis(self, dim, 0)[i] for i in range(self.shape[dim]))
    A.logsumexp = logsumexp
    for name, fname in (("eq", "equal"), ("ne", "not_equal"), ("lt", "less"), ("le", "less_equal"),
                        ("gt", "greater"), ("ge", "greater_equal"), ("mul", "multiply"), ("pow", "power"),
                        ("matmul", "matmul"), ("maximum", "maximum"), ("minimum", "minimum"),
                        ("exp", "exp"), ("log", "log"), ("log1p", "log1p"), ("expm1", "expm1"), ("sqrt", "sqrt"),
                        ("abs", "abs"), ("neg", "negative"), ("sin", "sin"), ("cos", "cos"), ("tanh", "tanh"),
                        ("floor", "floor"), ("ceil", "ceil"), ("sign", "sign"), ("square", "square"),
                        ("reciprocal", "reciprocal"), ("isnan", "isnan"), ("isfinite", "isfinite")):
        setattr(A, name, getattr(fnp, fname))
    A.add, A.sub = add, sub
    A.div = div
    A.rsqrt, A.sigmoid, A.relu = rsqrt, sigmoid, relu
    A.new_zeros, A.new_ones, A.new_empty = _new(zeros), _new(ones), _new(empty)
    A.new_full = _new(full)
    A.new_tensor = lambda self, data, dtype=None, device=None, requires_grad=False: tensor(
        data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)
    dim_keys = frozenset(("dim", "keepdim"))
    for name, torch_fn in (("sum", sum), ("mean", mean), ("prod", prod), ("all", all), ("any", any),
                           ("argmax", argmax), ("argmin", argmin)):
        setattr(A, name, _numpy_or_torch(getattr(A, name), torch_fn, dim_keys))
    for name, torch_fn in (("max", max), ("min", min)):
        setattr(A, name, _numpy_or_torch(getattr(A, name), torch_fn, dim_keys,
                                         lambda self, args: isinstance(args[0], Array)))
    for name, torch_fn in (("std", std), ("var", var)):
        setattr(A, name, _numpy_or_torch(getattr(A, name), torch_fn, dim_keys | {"unbiased"}))
    A.cumsum = _numpy_or_torch(A.cumsum, cumsum, frozenset(("dim",)))
    A.cumprod = _numpy_or_torch(A.cumprod, cumprod, frozenset(("dim",)))
    A.sort = _numpy_or_torch(A.sort, sort, frozenset(("dim", "descending")))
    A.argsort = _numpy_or_torch(A.argsort, argsort, frozenset(("dim", "descending")))
    A.squeeze = _numpy_or_torch(A.squeeze, squeeze, frozenset(("dim",)))
    A.flatten = _numpy_or_torch(A.flatten, flatten, frozenset(("start_dim", "end_dim")),
                                lambda self, args: isinstance(args[0], (builtins.int, np.integer)))
    A.transpose = _numpy_or_torch(A.transpose, transpose, frozenset(), _swaps_axes)



_install()
