"""Affine layers and the shape-only layers around them.

``Linear`` and ``Bilinear`` hold their weights as :class:`~fnx.nn.Parameter`
slots with PyTorch's names, shapes and initialisation, and compute with
``fnx.nn.functional``. The fan-based bounds come from PyTorch's own recipe:
``kaiming_uniform_(weight, a=sqrt(5))`` is ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``,
the same interval the bias is drawn from. ``Identity``, ``Flatten`` and
``Unflatten`` hold nothing and only move axes around.
"""
import math
import numbers

from ... import numpy as fnp
from ...errors import ShapeError
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter

__all__ = ["Identity", "Linear", "NonDynamicallyQuantizableLinear", "Bilinear", "Flatten", "Unflatten"]


def _empty(shape, device=None, dtype=None):
    """An uninitialised Parameter (zeros, in fact) of ``shape``, as ``torch.empty`` in layer constructors."""
    return Parameter(fnp.zeros(shape, dtype=dtype, device=device))


def _positive(opname, **sizes):
    for name, v in sizes.items():
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
            raise ValueError(f"{opname}: {name} must be a non-negative int, got {v!r}")


def _uniform_bias(bias, fan_in):
    if bias is not None:
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        init.uniform_(bias, -bound, bound)


class Identity(Module):
    """Returns its input; accepts and ignores any constructor arguments (``torch.nn.Identity``).

    >>> import fnx
    >>> fnx.nn.Identity(54, unused="x")(fnx.numpy.ones(2))
    Array([1., 1.], dtype=float32)
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """``y = x W^T + b`` (``torch.nn.Linear``).

    ``weight`` has shape ``(out_features, in_features)`` and ``bias``
    ``(out_features,)``; both start uniform in ``[-1/sqrt(in_features), 1/sqrt(in_features)]``
    (``kaiming_uniform_(a=sqrt(5))`` for the weight, as in PyTorch), drawn from
    the global generator (``fnx.manual_seed``).

    >>> import fnx
    >>> layer = fnx.nn.Linear(2, 3)
    >>> layer
    Linear(in_features=2, out_features=3, bias=True)
    >>> layer(fnx.numpy.ones((4, 2))).shape
    (4, 3)
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        _positive(type(self).__name__, in_features=in_features, out_features=out_features)
        self.in_features, self.out_features = in_features, out_features
        self.weight = _empty((out_features, in_features), device, dtype)
        if bias:
            self.bias = _empty((out_features,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        _uniform_bias(self.bias, self.in_features)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class NonDynamicallyQuantizableLinear(Linear):
    """A Linear under another name: ``MultiheadAttention.out_proj``'s class in PyTorch, kept for equal reprs."""


class Bilinear(Module):
    """``y_k = x1^T A_k x2 + b_k`` (``torch.nn.Bilinear``); ``weight`` ``(out, in1, in2)`` and ``bias``
    ``(out,)`` start uniform in ``[-1/sqrt(in1), 1/sqrt(in1)]``.

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.nn.Bilinear(2, 3, 4)(fnp.ones((5, 2)), fnp.ones((5, 3))).shape
    (5, 4)
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        _positive("Bilinear", in1_features=in1_features, in2_features=in2_features, out_features=out_features)
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = _empty((out_features, in1_features, in2_features), device, dtype)
        if bias:
            self.bias = _empty((out_features,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.in1_features) if self.in1_features else 0.0
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


def _dim(opname, dim, ndim):
    if not -ndim <= dim < max(ndim, 1):
        raise IndexError(f"{opname}: dimension {dim} is out of range for an input with {ndim} dimensions")
    return dim % ndim if ndim else 0


def _flatten(x, start_dim=0, end_dim=-1):
    """``torch.flatten``: dimensions ``start_dim`` to ``end_dim`` merged into one."""
    x = fnp.asarray(x)
    if x.ndim == 0:
        return fnp.reshape(x, (1,))
    s, e = _dim("flatten", start_dim, x.ndim), _dim("flatten", end_dim, x.ndim)
    if s > e:
        raise ValueError(f"flatten: start_dim ({start_dim}) comes after end_dim ({end_dim}) for an input of "
                         f"shape {x.shape}")
    return fnp.reshape(x, x.shape[:s] + (math.prod(x.shape[s:e + 1]),) + x.shape[e + 1:])


class Flatten(Module):
    """Merges dimensions ``start_dim`` to ``end_dim`` (by default all but the batch one).

    >>> import fnx
    >>> fnx.nn.Flatten()(fnx.numpy.ones((2, 3, 4))).shape
    (2, 12)
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return _flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Expands dimension ``dim`` into ``unflattened_size`` (which may hold one -1).

    >>> import fnx
    >>> fnx.nn.Unflatten(1, (3, -1))(fnx.numpy.ones((2, 12))).shape
    (2, 3, 4)
    """

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if isinstance(dim, str):
            raise TypeError("Unflatten: named dimensions are not supported; give dim as an int")
        if not isinstance(unflattened_size, (tuple, list)) or not all(
                isinstance(s, numbers.Integral) for s in unflattened_size):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, got {unflattened_size!r}")
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, input):
        x = fnp.asarray(input)
        d = _dim("Unflatten", self.dim, x.ndim)
        sizes = tuple(self.unflattened_size)
        known = math.prod(s for s in sizes if s != -1)
        if sizes.count(-1) > 1 or (sizes.count(-1) == 0 and known != x.shape[d]) or (
                sizes.count(-1) == 1 and (known == 0 or x.shape[d] % known)):
            raise ShapeError(f"Unflatten: unflattened_size {sizes} does not fit dimension {d} of size "
                             f"{x.shape[d]} (input shape {x.shape})")
        return fnp.reshape(x, x.shape[:d] + sizes + x.shape[d + 1:])

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
