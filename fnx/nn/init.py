"""fnx.nn.init: PyTorch's weight initialisers, drawing from fnx.random.

Each initialiser takes a tensor and fills it, as ``torch.nn.init`` does, with
one difference forced by immutable arrays: nothing is filled in place. Given a
:class:`~fnx.nn.Parameter`, an initialiser *rebinds* it (``param.set_(value)``)
and returns it, so ``nn.init.zeros_(layer.bias)`` works as in PyTorch; given
a plain array it returns a new array of the same shape, dtype and device,
which the caller keeps (``w = init.xavier_uniform_(w)``).

Randomness comes from the keyword-only ``key=``, or, when it is None, from the
global generator (``fnx.random.next_key()``), so ``fnx.manual_seed(s)`` makes a
model's initialisation reproducible. Scales follow PyTorch's formulas exactly,
including its *fan* convention: for a weight of shape ``(out, in, *kernel)``,
``fan_in = in * prod(kernel)`` and ``fan_out = out * prod(kernel)`` (see
:func:`_calculate_fan_in_and_fan_out`, which layers call by that name).
"""
import math
import numbers
import warnings

from .. import numpy as fnp
from .. import random
from ..core.array import Array
from ..core.dtypes import default_float
from ..transforms.autodiff import _detach, no_grad
from .parameter import Parameter, _DataView

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_",
           "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_",
           "sparse_"]


def _target(opname, tensor):
    """``tensor`` as an array (a Parameter's current value), after checking it is one."""
    if isinstance(tensor, Parameter):
        return tensor.primal
    if type(tensor) is _DataView:  # p.data: its parameter's current value
        return tensor._storage.current()
    if not isinstance(tensor, Array):
        raise TypeError(f"init.{opname}: expected a Parameter or an fnx array, got {type(tensor).__name__}")
    return _detach(tensor)


def _float_dtype(x):
    return x.dtype if x.dtype.kind == "f" else default_float()


def _assign(tensor, value):
    """Rebinds a Parameter to ``value`` (returning it), or returns ``value`` shaped like the array ``tensor``."""
    from ..transforms.device import device_put
    x = _target("init", tensor)
    value = fnp.astype(fnp.broadcast_to(value, x.shape), x.dtype)
    if value.device is not x.device:
        value = device_put(value, x.device)
    if isinstance(tensor, Parameter):
        return tensor.set_(value)
    if type(tensor) is _DataView:  # init.normal_(m.weight.data, ...) fills the parameter, as in PyTorch
        return tensor.copy_(value)
    return value


def _key(key, generator=None):
    """The key of one draw: ``key`` as given, else the next of ``generator`` (PyTorch's argument, an
    :class:`fnx.Generator`), else the global generator's."""
    if key is not None:
        return key
    return random.next_key(generator)


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity: 1 for linear, conv and sigmoid, 5/3 for tanh,
    sqrt(2) for relu, ``sqrt(2 / (1 + negative_slope^2))`` for leaky_relu (slope ``param``,
    default 0.01) and 3/4 for selu.

    >>> import fnx.nn.init as init
    >>> init.calculate_gain("leaky_relu", 0.2)
    1.3867504905630728
    """
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
    if nonlinearity in linear or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor):
    """``(fan_in, fan_out)`` of a weight of shape ``(out, in, *kernel)``, PyTorch's convention.

    >>> import fnx.numpy as fnp, fnx.nn.init as init
    >>> init._calculate_fan_in_and_fan_out(fnp.zeros((16, 3, 5, 5)))
    (75, 400)
    """
    shape = _target("_calculate_fan_in_and_fan_out", tensor).shape
    if len(shape) < 2:
        raise ValueError(f"init: fan in and fan out can not be computed for a tensor with fewer than 2 "
                         f"dimensions, got shape {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init: mode {mode!r} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


@no_grad()
def uniform_(tensor, a=0.0, b=1.0, generator=None, *, key=None):
    """Fills ``tensor`` from ``U(a, b)``.

    >>> import fnx, fnx.numpy as fnp, fnx.nn.init as init
    >>> w = init.uniform_(fnp.empty((100,)), -1.0, 1.0, key=fnx.random.key(0))
    >>> bool((w >= -1).all() and (w < 1).all())
    True
    """
    x = _target("uniform_", tensor)
    return _assign(tensor, random.uniform(_key(key, generator), x.shape, _float_dtype(x), a, b))


@no_grad()
def normal_(tensor, mean=0.0, std=1.0, generator=None, *, key=None):
    """Fills ``tensor`` from ``N(mean, std^2)``.

    >>> import fnx, fnx.nn.init as init
    >>> w = fnx.nn.Parameter(fnx.numpy.zeros((2, 3)))
    >>> init.normal_(w, key=fnx.random.key(0)) is w
    True
    """
    x = _target("normal_", tensor)
    return _assign(tensor, random.normal(_key(key, generator), x.shape, _float_dtype(x)) * std + mean)


@no_grad()
def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None, *, key=None):
    """Fills ``tensor`` from ``N(mean, std^2)`` conditioned on ``[a, b]`` (bounds in the tensor's units,
    not in standard deviations).

    >>> import fnx, fnx.numpy as fnp, fnx.nn.init as init
    >>> w = init.trunc_normal_(fnp.empty((1000,)), std=1.0, a=-0.5, b=0.5, key=fnx.random.key(0))
    >>> bool((fnp.abs(w) <= 0.5).all())
    True
    """
    if std <= 0 or not a < b:
        raise ValueError(f"init.trunc_normal_: need std > 0 and a < b, got std={std}, a={a}, b={b}")
    x = _target("trunc_normal_", tensor)
    z = random.truncated_normal(_key(key, generator), (a - mean) / std, (b - mean) / std, x.shape,
                                _float_dtype(x))
    return _assign(tensor, fnp.clip(z * std + mean, a, b))


@no_grad()
def constant_(tensor, val):
    """Fills ``tensor`` with ``val``.

    >>> import fnx.numpy as fnp, fnx.nn.init as init
    >>> init.constant_(fnp.empty((2,)), 0.5)
    Array([0.5, 0.5], dtype=float32)
    """
    x = _target("constant_", tensor)
    return _assign(tensor, fnp.full(x.shape, val, x.dtype, device=x.device))


def ones_(tensor):
    """Fills ``tensor`` with ones."""
    return constant_(tensor, 1)


def zeros_(tensor):
    """Fills ``tensor`` with zeros."""
    return constant_(tensor, 0)


@no_grad()
def eye_(tensor):
    """Fills the 2-d ``tensor`` with the identity (ones on the main diagonal, also when not square).

    >>> import fnx.numpy as fnp, fnx.nn.init as init
    >>> init.eye_(fnp.empty((2, 3)))
    Array([[1., 0., 0.],
           [0., 1., 0.]], dtype=float32)
    """
    x = _target("eye_", tensor)
    if x.ndim != 2:
        raise ValueError(f"init.eye_: only tensors with 2 dimensions are supported, got shape {x.shape}")
    return _assign(tensor, fnp.eye(x.shape[0], x.shape[1], dtype=x.dtype, device=x.device))


@no_grad()
def dirac_(tensor, groups=1):
    """Fills the 3-, 4- or 5-d ``tensor`` (a convolution weight ``(out, in, *kernel)``) with the Dirac
    delta, so the convolution keeps the identity of as many input channels as it can, in each of
    ``groups`` groups.

    >>> import fnx.numpy as fnp, fnx.nn.init as init
    >>> init.dirac_(fnp.empty((2, 2, 3)))[:, :, 1]
    Array([[1., 0.],
           [0., 1.]], dtype=float32)
    """
    x = _target("dirac_", tensor)
    if x.ndim not in (3, 4, 5):
        raise ValueError(f"init.dirac_: only tensors with 3, 4, or 5 dimensions are supported, got shape {x.shape}")
    if groups <= 0 or x.shape[0] % groups:
        raise ValueError(f"init.dirac_: dim 0 ({x.shape[0]}) must be divisible by groups ({groups})")
    per_group = x.shape[0] // groups
    pairs = [(g * per_group + d, d) for g in range(groups) for d in range(min(per_group, x.shape[1]))]
    value = fnp.zeros(x.shape, x.dtype, device=x.device)
    if pairs:
        rows, cols = zip(*pairs)
        centre = tuple(fnp.full(len(pairs), k // 2, dtype=fnp.int64, device=x.device) for k in x.shape[2:])
        value = value.at[(fnp.asarray(rows), fnp.asarray(cols)) + centre].set(1)
    return _assign(tensor, value)


def xavier_uniform_(tensor, gain=1.0, generator=None, *, key=None):
    """Glorot uniform: ``U(-a, a)`` with ``a = gain * sqrt(6 / (fan_in + fan_out))``.

    >>> import fnx, fnx.numpy as fnp, fnx.nn.init as init
    >>> w = init.xavier_uniform_(fnp.empty((30, 20)), key=fnx.random.key(0))
    >>> bool((fnp.abs(w) <= (6 / 50) ** 0.5).all())
    True
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -a, a, generator, key=key)


def xavier_normal_(tensor, gain=1.0, generator=None, *, key=None):
    """Glorot normal: ``N(0, std^2)`` with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator, key=key)


def _kaiming_std(opname, tensor, a, mode, nonlinearity):
    if 0 in _target(opname, tensor).shape:
        warnings.warn(f"init.{opname}: initializing zero-element tensors is a no-op", UserWarning, stacklevel=3)
        return None
    fan = _calculate_correct_fan(tensor, mode)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None, *, key=None):
    """He uniform: ``U(-bound, bound)`` with ``bound = gain * sqrt(3 / fan)``, ``gain =
    calculate_gain(nonlinearity, a)`` and ``fan`` the fan-in or fan-out (``mode``).

    >>> import fnx, fnx.numpy as fnp, fnx.nn.init as init
    >>> w = init.kaiming_uniform_(fnp.empty((64, 32)), nonlinearity="relu", key=fnx.random.key(0))
    >>> bool((fnp.abs(w) <= (6 / 32) ** 0.5).all())
    True
    """
    std = _kaiming_std("kaiming_uniform_", tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator, key=key)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None, *, key=None):
    """He normal: ``N(0, std^2)`` with ``std = gain / sqrt(fan)`` (see :func:`kaiming_uniform_`)."""
    std = _kaiming_std("kaiming_normal_", tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    return normal_(tensor, 0.0, std, generator, key=key)


@no_grad()
def orthogonal_(tensor, gain=1, generator=None, *, key=None):
    """A (semi-)orthogonal matrix times ``gain``, from the QR decomposition of a normal matrix with the
    signs of R's diagonal moved into Q (so Q is uniformly distributed). Dimensions after the first
    are flattened.

    >>> import fnx, fnx.numpy as fnp, fnx.nn.init as init
    >>> q = init.orthogonal_(fnp.empty((3, 5)), key=fnx.random.key(0))
    >>> bool(fnp.abs(q @ q.T - fnp.eye(3)).max() < 1e-5)
    True
    """
    x = _target("orthogonal_", tensor)
    if x.ndim < 2:
        raise ValueError(f"init.orthogonal_: only tensors with 2 or more dimensions are supported, got shape "
                         f"{x.shape}")
    if x.size == 0:
        return tensor
    rows, cols = x.shape[0], x.size // x.shape[0]
    flat = random.normal(_key(key, generator), (rows, cols), _float_dtype(x))
    if rows < cols:
        flat = flat.T
    q, r = fnp.linalg.qr(flat)
    q = q * fnp.sign(fnp.diagonal(r))
    if rows < cols:
        q = q.T
    return _assign(tensor, fnp.reshape(q, x.shape) * gain)


@no_grad()
def sparse_(tensor, sparsity, std=0.01, generator=None, *, key=None):
    """Fills the 2-d ``tensor`` from ``N(0, std^2)`` and zeroes ``ceil(sparsity * rows)`` random
    entries of every column.

    >>> import fnx, fnx.numpy as fnp, fnx.nn.init as init
    >>> w = init.sparse_(fnp.empty((10, 4)), 0.3, key=fnx.random.key(0))
    >>> (w == 0).sum(axis=0)
    Array([3, 3, 3, 3], dtype=int64)
    """
    x = _target("sparse_", tensor)
    if x.ndim != 2:
        raise ValueError(f"init.sparse_: only tensors with 2 dimensions are supported, got shape {x.shape}")
    if not isinstance(sparsity, numbers.Real) or not 0 <= sparsity <= 1:
        raise ValueError(f"init.sparse_: sparsity must lie in [0, 1], got {sparsity!r}")
    rows, cols = x.shape
    k_values, k_order = random.split(_key(key, generator))
    values = random.normal(k_values, x.shape, _float_dtype(x)) * std
    # each column's entries ranked by a random draw: the lowest ceil(sparsity * rows) ranks are zeroed
    rank = fnp.argsort(fnp.argsort(random.uniform(k_order, x.shape), axis=0), axis=0)
    return _assign(tensor, fnp.where(rank < math.ceil(sparsity * rows), 0.0, values))
