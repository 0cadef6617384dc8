"""fnx.nn.functional: the maths of neural-network layers and losses, as pure functions.

Users write ``import fnx.nn.functional as F`` and call PyTorch's names with
PyTorch's signatures, defaults and documented formulas. Every function here is
a composition of fnx.numpy and fnx.scipy.special operations, so none needs a
derivative rule of its own: ``grad``, ``vmap`` and the ``backward()`` tape see
through them, and a layer module is a thin object holding the arrays these
functions take.

Three ideas shape the code.

* *Branches are selected with* ``where`` *and made safe on both sides.* The
  derivative of ``where(c, f(x), g(x))`` multiplies the unselected branch's
  derivative by zero, and ``0 * inf`` is ``nan``; so a branch that could
  overflow where it is not selected is evaluated at a harmless point instead
  (``expm1(where(x > 0, 0, x))`` in ``elu``, ``sqrt`` of a positive stand-in for a
  zero norm). Kinks take PyTorch's one-sided choice: ``relu`` has derivative 0
  at 0, ``hardtanh`` passes gradient only strictly inside its interval.
* *Nothing mutates.* Arrays are immutable, so ``inplace=True`` is accepted for
  compatibility and simply returns the new array, and ``batch_norm`` cannot
  update running statistics: :func:`batch_norm_stats` returns the new ones, and
  the BatchNorm module rebinds its buffers to them. Randomness (``dropout``)
  comes from an explicit ``key=`` or, when it is None, from the global
  generator (``fnx.random.next_key()``, seeded by ``fnx.manual_seed``).
* *Losses reduce at the end.* Each loss computes the per-element loss ``l_n``
  and hands it to ``reduction`` (``'mean'``, ``'sum'`` or ``'none'``); the
  weighted ones (``nll_loss``, ``cross_entropy``) divide a weighted sum by the
  sum of the weights that took part, as PyTorch documents. The deprecated
  ``size_average``/``reduce`` arguments are honoured with PyTorch's warning.

Values are checked (class indices in range, probabilities in [0, 1]) only
where they are concrete; under a transform the check is skipped, never faked.
"""
import math
import numbers
import warnings

import numpy as np

from .. import numpy as fnp
from ..core import autocast as _autocast
from ..core.array import Array, wrap
from ..core.dtypes import default_float, result_type
from ..core.trace import Tracer
from ..errors import DTypeError, ShapeError, ValueRangeError
from ..linalg import accumulates_half_in_float32
from ..numpy.elementwise import relu_p, relu_value
from ..numpy.indexing import gather_p
from ..numpy.linalg import linear_p
from ..scipy import special as fsp

__all__ = [
    # activations
    "relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "sigmoid", "tanh", "softplus",
    "softsign", "hardtanh", "hardsigmoid", "hardswish", "logsigmoid", "threshold", "hardshrink", "softshrink",
    "tanhshrink", "prelu", "rrelu", "glu", "softmax", "log_softmax", "softmin", "normalize",
    # linear maps and dropout
    "linear", "bilinear", "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
    # normalisation
    "layer_norm", "rms_norm", "group_norm", "batch_norm", "batch_norm_stats", "instance_norm",
    # lookup, padding, attention, distances
    "embedding", "one_hot", "pad", "scaled_dot_product_attention", "cosine_similarity", "pairwise_distance",
    # losses
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "kl_div", "cosine_embedding_loss", "margin_ranking_loss",
    "poisson_nll_loss", "gaussian_nll_loss", "hinge_embedding_loss", "soft_margin_loss",
]

# ----- helpers ----------------------------------------------------------------------------------


def _float(x):
    """``x`` as an fnx array of a floating dtype: integer input is promoted to the default float, as in torch."""
    x = fnp.asarray(x)
    if x.dtype.kind not in "fc":
        x = fnp.astype(x, default_float())
    return x


def _peek(x):
    """``x``'s concrete values as a numpy array when a transform still holds them (for checks), else None."""
    while isinstance(x, Tracer):
        x = getattr(x, "primal", None)
    if type(x) is Array and type(x._value) is np.ndarray:  # read in place: the checks only compare
        return x._value
    return np.asarray(x) if isinstance(x, Array) else None


def _out_of_range(index, size):
    """The concrete ``index``'s first value outside ``[0, size)`` (its lowest below 0, else its highest at or
    above ``size``), or None when all lie inside or the values are traced (the checks are then skipped)."""
    values = _peek(index)
    if values is None or not values.size:
        return None
    low, high = values.min(), values.max()
    return low if low < 0 else high if high >= size else None


def _where0(cond, x):
    return fnp.where(cond, x, 0.0)


def _check_prob(opname, p):
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{opname}: dropout probability has to be between 0 and 1, but got {p!r}")
    return float(p)


def _key(key, x):
    """The key for a random draw shaped like ``x`` (given, or the global generator's), on ``x``'s device:
    samples land where their key is, and a mask must meet ``x`` on its device (PyTorch draws it there too)."""
    from .. import random
    from ..transforms.device import device_put
    key = random.next_key() if key is None else key
    return key if key.device == x.device else device_put(key, x.device)


def _legacy_reduction(size_average, reduce, reduction):
    """PyTorch's mapping of the deprecated ``size_average``/``reduce`` flags onto ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' instead.",
                  UserWarning, stacklevel=3)
    return reduction


def _check_reduction(opname, reduction, allowed=("mean", "sum", "none")):
    if reduction not in allowed:
        raise ValueError(f"{opname}: {reduction!r} is not a valid value for reduction; use one of "
                         f"{', '.join(repr(r) for r in allowed)}")
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return fnp.mean(loss)
    if reduction == "sum":
        return fnp.sum(loss)
    return loss


def _same_size(opname, x, y):
    """Broadcasts a target against the input; like torch, warns when their sizes differ."""
    if x.shape != y.shape:
        warnings.warn(f"{opname}: using a target size ({y.shape}) that is different to the input size "
                      f"({x.shape}). This will likely lead to incorrect results due to broadcasting. Please "
                      f"ensure they have the same size.", UserWarning, stacklevel=3)
        x, y = fnp.broadcast_arrays(x, y)
    return x, y


def _pointwise_pair(opname, input, target):
    x, y = fnp.asarray(input), fnp.asarray(target)
    dt = result_type(x, y)
    if dt.kind not in "fc":
        dt = default_float()
    return _same_size(opname, fnp.astype(x, dt), fnp.astype(y, dt))


def _channel_view(w, ndim, axis=1):
    """A per-channel vector ``w`` shaped to broadcast along ``axis`` of an ``ndim``-dimensional input."""
    return fnp.reshape(w, (-1,) + (1,) * (ndim - axis - 1)) if ndim > axis else w

# ----- activations ------------------------------------------------------------------------------
#
# Each is one line of maths over fnx.numpy. ``inplace`` exists for PyTorch's
# signatures only: arrays are immutable, so a new array is always returned.


def relu(input, inplace=False):
    """``max(0, x)``, with derivative 0 at 0 as in PyTorch.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.relu(fnp.array([-1., 0., 2.]))
    Array([0., 0., 2.], dtype=float32)
    """
    x = fnp.asarray(input)
    if x.dtype.kind not in "fiu":
        raise DTypeError(f"relu: expected a real array, got {x.dtype}")
    if type(x) is Array:  # nothing traces it: relu's second output, the mask its derivative reads, is not needed
        if type(x._value) is np.ndarray:
            return wrap(relu_value(np, x._value), x._device)
        return fnp.maximum(x, 0)
    return relu_p.bind(x)[0]


def relu6(input, inplace=False):
    """``min(max(0, x), 6)``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.relu6(fnp.array([-1., 3., 8.]))
    Array([0., 3., 6.], dtype=float32)
    """
    return hardtanh(input, 0.0, 6.0)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """``x`` where ``x > 0``, else ``negative_slope * x``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.leaky_relu(fnp.array([-2., 3.]), 0.1)
    Array([-0.2,  3. ], dtype=float32)
    """
    x = _float(input)
    return fnp.where(x > 0, x, x * negative_slope)


def elu(input, alpha=1.0, inplace=False):
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.elu(fnp.array([0., 1.]))
    Array([0., 1.], dtype=float32)
    """
    x = _float(input)
    return fnp.where(x > 0, x, alpha * fnp.expm1(fnp.where(x > 0, 0.0, x)))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """``scale * elu(x, alpha)`` with the self-normalising constants (alpha ~ 1.6733, scale ~ 1.0507).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.selu(fnp.array([1.]))
    Array([1.050701], dtype=float32)
    """
    return _SELU_SCALE * elu(input, _SELU_ALPHA)


def celu(input, alpha=1.0, inplace=False):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.celu(fnp.array([2.]), alpha=2.0)
    Array([2.], dtype=float32)
    """
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (the formula divides by it)")
    x = _float(input)
    return fnp.where(x > 0, x, alpha * fnp.expm1(fnp.where(x > 0, 0.0, x) / alpha))


def gelu(input, approximate="none"):
    """``x * Phi(x)``, Phi the standard normal CDF; ``approximate='tanh'`` uses
    ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.gelu(fnp.array([0., 1.]))
    Array([0.       , 0.8413447], dtype=float32)
    """
    x = _float(input)
    if approximate == "none":
        return 0.5 * x * (1.0 + fsp.erf(x * (1.0 / math.sqrt(2.0))))
    if approximate == "tanh":
        return 0.5 * x * (1.0 + fnp.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)))
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def sigmoid(input):
    """``1 / (1 + exp(-x))``, computed without overflow.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.sigmoid(fnp.array([0.]))
    Array([0.5], dtype=float32)
    """
    return fsp.expit(_float(input))


def tanh(input):
    """``tanh(x)``."""
    return fnp.tanh(_float(input))


def silu(input, inplace=False):
    """``x * sigmoid(x)`` (the swish).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.silu(fnp.array([0.]))
    Array([0.], dtype=float32)
    """
    x = _float(input)
    return x * fsp.expit(x)


def logsigmoid(input):
    """``log(sigmoid(x)) = -softplus(-x)``, without overflow.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.logsigmoid(fnp.array([-200.]))
    Array([-200.], dtype=float32)
    """
    return fsp.log_expit(_float(input))


def softplus(input, beta=1.0, threshold=20.0):
    """``log(1 + exp(beta x)) / beta``, and ``x`` itself where ``beta x > threshold``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.softplus(fnp.array([0., 30.]))
    Array([ 0.6931472, 30.       ], dtype=float32)
    """
    x = _float(input)
    z = x * beta
    return fnp.where(z > threshold, x, -fsp.log_expit(-z) / beta)


def mish(input, inplace=False):
    """``x * tanh(softplus(x))``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.mish(fnp.array([0.]))
    Array([0.], dtype=float32)
    """
    x = _float(input)
    return x * fnp.tanh(-fsp.log_expit(-x))


def softsign(input):
    """``x / (1 + |x|)``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.softsign(fnp.array([1.]))
    Array([0.5], dtype=float32)
    """
    x = _float(input)
    return x / (1.0 + fnp.abs(x))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """``x`` clamped to ``[min_val, max_val]``; the gradient passes only strictly inside.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.hardtanh(fnp.array([-3., 0.5, 3.]))
    Array([-1. ,  0.5,  1. ], dtype=float32)
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val ({max_val})")
    x = fnp.asarray(input)
    if x.dtype.kind in "iu":  # integers stay integers, the bounds cast to them, as in PyTorch
        return fnp.clip(x, int(min_val), int(max_val))
    x = _float(x)
    return fnp.where(x <= min_val, min_val, fnp.where(x >= max_val, max_val, x))


def hardsigmoid(input, inplace=False):
    """``0`` for ``x <= -3``, ``1`` for ``x >= 3``, ``x / 6 + 1 / 2`` in between.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.hardsigmoid(fnp.array([-4., 0., 4.]))
    Array([0. , 0.5, 1. ], dtype=float32)
    """
    x = _float(input)
    return fnp.where(x <= -3.0, 0.0, fnp.where(x >= 3.0, 1.0, x / 6.0 + 0.5))


def hardswish(input, inplace=False):
    """``0`` for ``x <= -3``, ``x`` for ``x >= 3``, ``x (x + 3) / 6`` in between.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.hardswish(fnp.array([-4., 0., 4.]))
    Array([0., 0., 4.], dtype=float32)
    """
    x = _float(input)
    return fnp.where(x <= -3.0, 0.0, fnp.where(x >= 3.0, x, x * (x + 3.0) / 6.0))


def threshold(input, threshold, value, inplace=False):
    """``x`` where ``x > threshold``, else ``value``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.threshold(fnp.array([0.5, 2.]), 1.0, -1.0)
    Array([-1.,  2.], dtype=float32)
    """
    x = fnp.asarray(input)
    if x.dtype.kind in "iu":  # an integer array stays one: value is cast to its dtype, as in PyTorch
        value = fnp.asarray(int(value), dtype=x.dtype)
    return fnp.where(x > threshold, x, value)


def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, else 0.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.hardshrink(fnp.array([0.2, -1.]))
    Array([ 0., -1.], dtype=float32)
    """
    x = _float(input)
    return _where0(fnp.abs(x) > lambd, x)


def softshrink(input, lambd=0.5):
    """``x - lambd`` above ``lambd``, ``x + lambd`` below ``-lambd``, else 0.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.softshrink(fnp.array([0.2, -1.]))
    Array([ 0. , -0.5], dtype=float32)
    """
    if lambd < 0:
        raise ValueError(f"softshrink: lambd must be at least 0, got {lambd}")
    x = _float(input)
    return fnp.where(x > lambd, x - lambd, fnp.where(x < -lambd, x + lambd, 0.0))


def tanhshrink(input):
    """``x - tanh(x)``."""
    x = _float(input)
    return x - fnp.tanh(x)


def prelu(input, weight):
    """``x`` where ``x >= 0``, else ``weight * x``: ``weight`` holds one slope, or one per channel (axis 1).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.prelu(fnp.array([[-1., -1.]]), fnp.array([0.1, 0.2]))
    Array([[-0.1, -0.2]], dtype=float32)
    """
    x, w = _float(input), fnp.asarray(weight)
    if w.ndim > 1:
        raise ShapeError(f"prelu: weight must be one-dimensional, got shape {w.shape}")
    if w.size != 1:
        channels = x.shape[1] if x.ndim >= 2 else 1
        if w.size != channels:
            raise ShapeError(f"prelu: weight has {w.size} slopes, but the input of shape {x.shape} has "
                             f"{channels} channel{'s' if channels != 1 else ''} (axis 1); give one slope or one "
                             f"per channel")
        w = _channel_view(w, x.ndim)
    else:
        w = fnp.reshape(w, ())
    return fnp.where(x > 0, x, w * x)  # at 0 the slope's side, so the derivative there is the slope's (PyTorch's)


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False, *, key=None):
    """Randomised leaky ReLU: slopes drawn from ``U(lower, upper)`` per element when training,
    ``(lower + upper) / 2`` otherwise.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.rrelu(fnp.array([-3., 1.]), 0.1, 0.3)
    Array([-0.6,  1. ], dtype=float32)
    """
    from .. import random
    x = _float(input)
    if not training:
        return leaky_relu(x, (lower + upper) / 2)
    slope = random.uniform(_key(key, x), x.shape, x.dtype, lower, upper)
    return fnp.where(x >= 0, x, x * slope)


def _softmax_dim(ndim, dim, opname):
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {opname} has been deprecated. Change the call to include "
                      f"dim=X as an argument.", UserWarning, stacklevel=3)
        dim = 0 if ndim in (0, 1, 3) else 1
    return dim


def _softmax_family(opname, fn, input, dim, dtype):
    x = _float(input) if dtype is None else fnp.asarray(input, dtype)
    dim = _softmax_dim(x.ndim, dim, opname)
    if x.ndim == 0:
        from ..numpy._base import normalize_axis
        normalize_axis(opname, dim, 0)
        return fn(x[None], 0)[0]
    if x.dtype == np.float16:  # accumulated in float32 and rounded once, as PyTorch's half kernels do
        return fnp.astype(fn(fnp.astype(x, np.float32), dim), np.float16)
    return fn(x, dim)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``exp(x_i) / sum_j exp(x_j)`` along ``dim``, without overflow.

    ``dtype`` casts the input first. Leaving ``dim`` out is deprecated in PyTorch
    and warns; its implicit choice (0 for 0-, 1- and 3-d input, else 1) is kept.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.softmax(fnp.array([[1., 1.], [0., 0.]]), dim=1)
    Array([[0.5, 0.5],
           [0.5, 0.5]], dtype=float32)
    """
    if _autocast.state:  # float32 under CUDA autocast, as in PyTorch
        input, = _autocast.full(input, platforms=("cuda",))
    return _softmax_family("softmax", fsp.softmax, input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``x_i - log(sum_j exp(x_j))`` along ``dim``; more accurate than ``log(softmax(x))``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.log_softmax(fnp.array([1000., 1000.]), dim=0)
    Array([-0.6931472, -0.6931472], dtype=float32)
    """
    if _autocast.state:  # float32 under CUDA autocast, as in PyTorch
        input, = _autocast.full(input, platforms=("cuda",))
    return _softmax_family("log_softmax", fsp.log_softmax, input, dim, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """``softmax(-x)`` along ``dim``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.softmin(fnp.array([0., 0.]), dim=0)
    Array([0.5, 0.5], dtype=float32)
    """
    x = _float(input) if dtype is None else fnp.asarray(input, dtype)
    return _softmax_family("softmin", fsp.softmax, -x, dim, None)


def glu(input, dim=-1):
    """Gated linear unit: ``a * sigmoid(b)``, ``a`` and ``b`` the two halves of ``input`` along ``dim``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.glu(fnp.array([2., 0.]))
    Array([1.], dtype=float32)
    """
    from ..numpy._base import normalize_axis
    x = _float(input)
    if x.ndim == 0:
        raise ShapeError("glu: does not support scalars because halving size must be even")
    dim = normalize_axis("glu", dim, x.ndim)
    if x.shape[dim] % 2:
        raise ShapeError(f"glu: halving dimension must be even, but dimension {dim} of the input of shape "
                         f"{x.shape} has size {x.shape[dim]}")
    a, b = fnp.split(x, 2, axis=dim)
    return a * fsp.expit(b)


@accumulates_half_in_float32
def _norm(x, p, axis, keepdims=True):
    """The ``p``-norm along ``axis``, with a finite (zero-safe) derivative where the norm is 0."""
    if p == math.inf:
        return fnp.max(fnp.abs(x), axis=axis, keepdims=keepdims)
    if p == -math.inf:
        return fnp.min(fnp.abs(x), axis=axis, keepdims=keepdims)
    if p == 0:
        return fnp.astype(fnp.sum(x != 0, axis=axis, keepdims=keepdims), x.dtype)
    if p == 1:
        return fnp.sum(fnp.abs(x), axis=axis, keepdims=keepdims)
    s = fnp.sum(x * x if p == 2 else fnp.abs(x) ** p, axis=axis, keepdims=keepdims)
    pos = s > 0
    safe = fnp.where(pos, s, 1.0)  # the root's derivative at 0 is infinite; keep it out of the product
    return _where0(pos, fnp.sqrt(safe) if p == 2 else safe ** (1.0 / p))


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``x / max(||x||_p, eps)``, the norm taken along ``dim``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.normalize(fnp.array([[3., 4.]]))
    Array([[0.6, 0.8]], dtype=float32)
    """
    if out is not None:
        raise TypeError("normalize: out= is not supported, fnx arrays are immutable; use the returned array")
    x = _float(input)
    n = _norm(x, p, dim)
    return x / fnp.where(n > eps, n, eps)

# ----- linear maps ------------------------------------------------------------------------------


def linear(input, weight, bias=None):
    """``y = x W^T + b``: ``weight`` has shape ``(out_features, in_features)`` (or ``(in_features,)``).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.linear(fnp.ones((2, 3)), fnp.ones((4, 3)), fnp.arange(4.)).shape
    (2, 4)
    """
    if bias is not None and not _autocast.state and isinstance(input, Array) and isinstance(weight, Array) \
            and isinstance(bias, Array):
        # A dense layer's call, checked in one pass: matching shapes and one floating dtype go straight to the
        # primitive (anything else takes the general path below, which names what is wrong).
        x_shape, w_shape = input.shape, weight.shape
        if len(x_shape) == 2 and len(w_shape) == 2 and x_shape[1] == w_shape[1] and bias.shape == w_shape[:1]:
            dt = input.dtype
            if dt == weight.dtype == bias.dtype and dt.kind in "fc":
                return linear_p.bind(input, weight, bias)
    x, w = fnp.asarray(input), fnp.asarray(weight)
    if _autocast.state:
        x, w, bias = _autocast.lower(x, w, bias)
    x_shape, w_shape = x.shape, w.shape  # read once: on a traced array each is a property lookup
    if len(w_shape) not in (1, 2):
        raise ShapeError(f"linear: weight must be 1- or 2-dimensional (out_features, in_features), "
                         f"got shape {w_shape}")
    if not x_shape or x_shape[-1] != w_shape[-1]:
        raise ShapeError(f"linear: input of shape {x_shape} does not fit weight of shape {w_shape}: the last "
                         f"dimension of the input must equal in_features = {w_shape[-1]}")
    if bias is not None and len(x_shape) == 2 and len(w_shape) == 2:
        b = fnp.asarray(bias)
        dt = x.dtype
        if b.shape == w_shape[:1] and dt == w.dtype == b.dtype and dt.kind in "fc":
            return linear_p.bind(x, w, b)
    y = fnp.matmul(x, w.T if w.ndim == 2 else w)
    return y if bias is None else y + bias


def bilinear(input1, input2, weight, bias=None):
    """``y_k = x1^T A_k x2 + b_k``: ``weight`` has shape ``(out, in1, in2)``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.bilinear(fnp.ones((5, 2)), fnp.ones((5, 3)), fnp.ones((4, 2, 3))).shape
    (5, 4)
    """
    x1, x2, w = fnp.asarray(input1), fnp.asarray(input2), fnp.asarray(weight)
    if w.ndim != 3 or x1.ndim == 0 or x2.ndim == 0 or x1.shape[-1] != w.shape[1] or x2.shape[-1] != w.shape[2]:
        raise ShapeError(f"bilinear: inputs of shapes {x1.shape} and {x2.shape} do not fit weight of shape "
                         f"{w.shape}; expected (..., in1), (..., in2) and (out, in1, in2)")
    if x1.shape[:-1] != x2.shape[:-1]:
        raise ShapeError(f"bilinear: input1 and input2 must have the same batch shape, got {x1.shape[:-1]} "
                         f"and {x2.shape[:-1]}")
    y = fnp.einsum("...i,kij,...j->...k", x1, w, x2)
    return y if bias is None else y + bias

# ----- dropout ----------------------------------------------------------------------------------
#
# Inverted dropout: kept values are scaled by 1 / (1 - p) while training, so
# evaluation is the identity. The mask comes from ``key`` (or the global
# generator), so two calls with the same key drop the same elements.


def _dropout_mask(x, p, key, shape):
    from .. import random
    keep = random.bernoulli(_key(key, x), 1.0 - p, shape)
    return fnp.where(keep, x * (1.0 / (1.0 - p)), 0.0)


def dropout(input, p=0.5, training=True, inplace=False, *, key=None):
    """Zeroes each element with probability ``p`` and scales the rest by ``1 / (1 - p)`` (when ``training``).

    Args:
      key: an ``fnx.random`` key; when None one is drawn from the global generator.
        Under ``vmap``, a batch of keys (``fnx.random.split(key, n)`` mapped over)
        drops different elements per example; one key gives every example the same mask.

    >>> import fnx, fnx.numpy as fnp, fnx.nn.functional as F
    >>> y = F.dropout(fnp.ones(1000), 0.5, key=fnx.random.key(0))
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
    >>> F.dropout(fnp.ones(2), training=False)
    Array([1., 1.], dtype=float32)
    """
    p = _check_prob("dropout", p)
    x = _float(input)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0  # keeps x in the graph, so its gradient is a zero array
    return _dropout_mask(x, p, key, x.shape)


def _feature_dropout(opname, input, p, training, key, ndims, batched_ndim):
    p = _check_prob(opname, p)
    x = _float(input)
    if x.ndim not in ndims:
        raise ShapeError(f"{opname}: expected a {ndims[0]}-d (unbatched) or {ndims[1]}-d (batched) input, got "
                         f"shape {x.shape}")
    if not training or p == 0.0:
        return x
    lead = 2 if x.ndim == batched_ndim else 1
    shape = x.shape[:lead] + (1,) * (x.ndim - lead)  # one draw per channel, shared over its positions
    if p == 1.0:
        return x * 0.0
    return _dropout_mask(x, p, key, shape)


def dropout1d(input, p=0.5, training=True, inplace=False, *, key=None):
    """Zeroes whole channels of ``(N, C, L)`` or ``(C, L)`` input with probability ``p`` (scaling the rest)."""
    return _feature_dropout("dropout1d", input, p, training, key, (2, 3), 3)


def dropout2d(input, p=0.5, training=True, inplace=False, *, key=None):
    """Zeroes whole channels of ``(N, C, H, W)`` input with probability ``p`` (scaling the rest).

    A 3-d input is taken as ``(N, C, L)``, as PyTorch does (with a warning).

    >>> import fnx, fnx.numpy as fnp, fnx.nn.functional as F
    >>> y = F.dropout2d(fnp.ones((2, 8, 3, 3)), key=fnx.random.key(1))
    >>> bool(((y == 0).all(axis=(2, 3)) | (y == 2).all(axis=(2, 3))).all())
    True
    """
    x = fnp.asarray(input)
    if x.ndim == 3:
        warnings.warn("dropout2d: received a 3D input and assuming that channel-wise 1D dropout behavior is "
                      "desired - input is interpreted as shape (N, C, L); use dropout1d for that.",
                      UserWarning, stacklevel=2)
    return _feature_dropout("dropout2d", x, p, training, key, (3, 4), 3 if x.ndim == 3 else 4)


def dropout3d(input, p=0.5, training=True, inplace=False, *, key=None):
    """Zeroes whole channels of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` input with probability ``p``."""
    return _feature_dropout("dropout3d", input, p, training, key, (4, 5), 5)


def alpha_dropout(input, p=0.5, training=False, inplace=False, *, key=None):
    """Dropout that keeps SELU activations' mean 0 and variance 1: dropped values are set to
    ``-selu_scale * selu_alpha``, then the result is scaled by ``a`` and shifted by ``b``
    (``a = ((1 - p)(1 + p alpha'^2))^-1/2``, ``b = -a alpha' p``).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.alpha_dropout(fnp.ones(2), 0.5)  # training=False by default, as in PyTorch
    Array([1., 1.], dtype=float32)
    """
    from .. import random
    p = _check_prob("alpha_dropout", p)
    x = _float(input)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    alpha = -_SELU_SCALE * _SELU_ALPHA
    a = ((1.0 - p) * (1.0 + p * alpha * alpha)) ** -0.5
    keep = random.bernoulli(_key(key, x), 1.0 - p, x.shape)
    return fnp.where(keep, x, alpha) * a + (-a * alpha * p)

# ----- normalisation ----------------------------------------------------------------------------
#
# Each normalises with the biased variance (divide by n) of the axes it
# reduces, then applies an optional elementwise affine map.


def _standardize(x, axes, eps):
    mean = fnp.mean(x, axis=axes, keepdims=True)
    d = x - mean
    var = fnp.mean(d * d, axis=axes, keepdims=True)
    return d / fnp.sqrt(var + eps)


def _affine(y, weight, bias, view=lambda w: w):
    if weight is not None:
        y = y * view(fnp.asarray(weight))
    if bias is not None:
        y = y + view(fnp.asarray(bias))
    return y


def _check_param(opname, name, value, shape):
    if value is not None and fnp.asarray(value).shape != tuple(shape):
        raise ShapeError(f"{opname}: {name} must have shape {tuple(shape)}, got {fnp.asarray(value).shape}")


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalises over the trailing ``normalized_shape`` dimensions, then ``* weight + bias``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.layer_norm(fnp.array([[1., 3.]]), (2,))
    Array([[-0.999995,  0.999995]], dtype=float32)
    """
    if _autocast.state:  # float32 under CUDA autocast, as in PyTorch
        input, weight, bias = _autocast.full(input, weight, bias, platforms=("cuda",))
    x = _float(input)
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or x.shape[x.ndim - k:] != shape:
        raise ShapeError(f"layer_norm: input of shape {x.shape} does not end with normalized_shape {shape}")
    _check_param("layer_norm", "weight", weight, shape)
    _check_param("layer_norm", "bias", bias, shape)
    if x.dtype == np.float16:  # accumulated in float32 and rounded once, as PyTorch's half kernels do
        wide = [None if a is None else fnp.astype(a, np.float32) for a in (x, weight, bias)]
        return fnp.astype(_affine(_standardize(wide[0], tuple(range(x.ndim - k, x.ndim)), eps), wide[1], wide[2]),
                          np.float16)
    return _affine(_standardize(x, tuple(range(x.ndim - k, x.ndim)), eps), weight, bias)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``x / sqrt(mean(x^2) + eps) * weight`` over the trailing ``normalized_shape`` dimensions
    (``eps`` defaults to the dtype's machine epsilon).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.rms_norm(fnp.array([[3., 3.]]), (2,))
    Array([[1., 1.]], dtype=float32)
    """
    x = _float(input)
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or x.shape[x.ndim - k:] != shape:
        raise ShapeError(f"rms_norm: input of shape {x.shape} does not end with normalized_shape {shape}")
    _check_param("rms_norm", "weight", weight, shape)
    eps = float(np.finfo(x.dtype).eps) if eps is None else eps
    ms = fnp.mean(x * x, axis=tuple(range(x.ndim - k, x.ndim)), keepdims=True)
    return _affine(x / fnp.sqrt(ms + eps), weight, None)


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Splits the channels (axis 1) into ``num_groups`` groups and normalises each group of each
    example over its channels and positions, then ``* weight + bias`` per channel.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.group_norm(fnp.array([[1., 3., 5., 9.]]), 2)
    Array([[-0.999995 ,  0.999995 , -0.9999988,  0.9999988]], dtype=float32)
    """
    if _autocast.state:  # float32 under CUDA autocast, as in PyTorch
        input, weight, bias = _autocast.full(input, weight, bias, platforms=("cuda",))
    x = _float(input)
    if x.ndim < 2:
        raise ShapeError(f"group_norm: expected input of shape (N, C, *), got {x.shape}")
    c = x.shape[1]
    if num_groups <= 0 or c % num_groups:
        raise ShapeError(f"group_norm: the number of channels ({c}) must be divisible by num_groups "
                         f"({num_groups})")
    _check_param("group_norm", "weight", weight, (c,))
    _check_param("group_norm", "bias", bias, (c,))
    g = fnp.reshape(x, (x.shape[0], num_groups, -1))
    y = fnp.reshape(_standardize(g, (2,), eps), x.shape)
    return _affine(y, weight, bias, lambda w: _channel_view(w, x.ndim))


def _channel_axes(opname, x):
    if x.ndim < 2:
        raise ShapeError(f"{opname}: expected input of shape (N, C) or (N, C, *), got {x.shape}")
    return (0,) + tuple(range(2, x.ndim))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation over axis 1 (channels) of ``(N, C)`` or ``(N, C, *)`` input.

    When ``training`` (or when no running statistics are given) each channel is
    normalised with the batch's mean and biased variance; otherwise with
    ``running_mean`` and ``running_var``. Then ``* weight + bias`` per channel.

    In training, running statistics that a module hands out (its buffers, as
    ``self.running_mean`` reads them) are updated in place with ``momentum``, as
    PyTorch updates them: a batch-norm module written with this function tracks
    its statistics. Plain arrays are immutable and stay as they are;
    :func:`batch_norm_stats` computes their updated values.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.batch_norm(fnp.array([[1.], [3.]]), None, None, training=True)
    Array([[-0.999995],
           [ 0.999995]], dtype=float32)
    """
    x = _float(input)
    axes = _channel_axes("batch_norm", x)
    c = x.shape[1]
    for name, v in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        _check_param("batch_norm", name, v, (c,))
    view = lambda w: _channel_view(w, x.ndim)  # noqa: E731
    if training:
        if x.size // c <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input of "
                             f"shape {x.shape}")
        y = _standardize(x, axes, eps)
        _update_buffers(x, running_mean, running_var, momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var must be given in evaluation mode "
                             "(training=False)")
        y = (x - view(fnp.asarray(running_mean))) / fnp.sqrt(view(fnp.asarray(running_var)) + eps)
    return _affine(y, weight, bias, view)


def _update_buffers(x, running_mean, running_var, momentum):
    """Writes the new running statistics into those of them that are a module's buffers (views)."""
    from .parameter import _DataView
    if type(running_mean) is _DataView or type(running_var) is _DataView:
        new = batch_norm_stats(x, running_mean, running_var, momentum)
        for view, value in zip((running_mean, running_var), new):
            if type(view) is _DataView:
                view.copy_(value)


def batch_norm_stats(input, running_mean, running_var, momentum=0.1):
    """The running statistics after one training step of batch norm: ``(new_mean, new_var)``.

    ``new = (1 - momentum) * running + momentum * batch_statistic``, with the
    *unbiased* batch variance (``n / (n - 1)`` times the biased one that
    ``batch_norm`` normalises with), as PyTorch documents. PyTorch's
    ``momentum=None`` (a cumulative average) is the caller's to express, by
    passing ``1 / num_batches_tracked``. The statistics carry no gradient and
    keep the dtype of the running ones; a missing (None) statistic stays None.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.batch_norm_stats(fnp.array([[1.], [3.]]), fnp.zeros(1), fnp.ones(1), momentum=0.5)
    (Array([1.], dtype=float32), Array([1.5], dtype=float32))
    """
    from ..transforms.autodiff import _detach, no_grad
    if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real):
        raise TypeError(f"batch_norm_stats: momentum must be a number, got {momentum!r} (for a cumulative "
                        f"average pass 1 / num_batches_tracked)")
    with no_grad():
        x = fnp.stop_gradient(_detach(_float(input)))
        axes = _channel_axes("batch_norm_stats", x)
        c = x.shape[1]
        _check_param("batch_norm_stats", "running_mean", running_mean, (c,))
        _check_param("batch_norm_stats", "running_var", running_var, (c,))
        n = x.size // c
        if n <= 1:
            raise ValueError(f"batch_norm_stats: expected more than 1 value per channel when training, got input "
                             f"of shape {x.shape}")
        mean = fnp.mean(x, axis=axes)
        d = x - fnp.reshape(mean, (c,) + (1,) * (x.ndim - 2))
        var = fnp.sum(d * d, axis=axes) / (n - 1)

        def update(running, batch):
            if running is None:
                return None
            running = _detach(fnp.asarray(running))
            return fnp.astype(running * (1.0 - momentum) + fnp.astype(batch, running.dtype) * momentum,
                              running.dtype)
        return update(running_mean, mean), update(running_var, var)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalises each channel of each example over its positions (input ``(N, C, *)``), then
    ``* weight + bias`` per channel. With ``use_input_stats=False`` the running statistics are used
    instead (this pure function does not update them; see :func:`batch_norm_stats`).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.instance_norm(fnp.array([[[1., 3.]]]))
    Array([[[-0.999995,  0.999995]]], dtype=float32)
    """
    x = _float(input)
    if x.ndim < 3:
        raise ShapeError(f"instance_norm: expected input of shape (N, C, *) with at least one spatial "
                         f"dimension, got {x.shape}")
    c = x.shape[1]
    for name, v in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        _check_param("instance_norm", name, v, (c,))
    view = lambda w: _channel_view(w, x.ndim)  # noqa: E731
    if use_input_stats:
        if x.size // (x.shape[0] * c) <= 1:
            raise ValueError(f"instance_norm: expected more than 1 spatial element when training, got input of "
                             f"shape {x.shape}")
        y = _standardize(x, tuple(range(2, x.ndim)), eps)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: running_mean and running_var are needed when use_input_stats=False")
        y = (x - view(fnp.asarray(running_mean))) / fnp.sqrt(view(fnp.asarray(running_var)) + eps)
    return _affine(y, weight, bias, view)

# ----- lookup, one-hot, padding -----------------------------------------------------------------


def _index_array(opname, x, what="input"):
    x = fnp.asarray(x)
    if x.dtype.kind not in "iu":
        raise DTypeError(f"{opname}: {what} must hold indices of an integer dtype (torch.long), got {x.dtype}")
    return x


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of ``weight`` (shape ``(num_embeddings, embedding_dim)``) picked by the integer ``input``.

    ``padding_idx``: that row receives no gradient. ``max_norm``: rows whose
    ``norm_type``-norm exceeds it are rescaled to norm ``max_norm`` in the
    output (PyTorch also rewrites ``weight`` in place; this pure function does
    not, and, like PyTorch, does not differentiate the rescaling).
    ``scale_grad_by_freq`` divides each row's gradient by how often its index
    occurs in ``input``. ``sparse`` is accepted; gradients are always dense.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.embedding(fnp.array([[0, 2]]), fnp.arange(6.).reshape(3, 2))
    Array([[[0., 1.],
            [4., 5.]]], dtype=float32)
    """
    idx = _index_array("embedding", input)
    w = fnp.asarray(weight)
    if w.ndim != 2:
        raise ShapeError(f"embedding: weight must have shape (num_embeddings, embedding_dim), got {w.shape}")
    n = w.shape[0]
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"embedding: padding_idx {padding_idx} must be within num_embeddings ({n})")
        padding_idx %= n
    bad = _out_of_range(idx, n)
    if bad is not None:
        raise IndexError(f"embedding: index {bad} is out of range for {n} embeddings (indices must lie in "
                         f"[0, {n - 1}])")
    rows = fnp.take(w, idx, axis=0)
    if max_norm is not None:
        norm = _norm(rows, norm_type, -1)
        scale = fnp.where(norm > max_norm, max_norm / (norm + 1e-7), 1.0)
        rows = rows + fnp.stop_gradient(rows * scale - rows)
    if scale_grad_by_freq:
        flat = fnp.reshape(idx, (-1,))
        count = fnp.sum(fnp.expand_dims(idx, -1) == flat, axis=-1)
        s = fnp.expand_dims(1.0 / fnp.astype(count, rows.dtype), -1)
        rows = rows * s + fnp.stop_gradient(rows * (1.0 - s))
    if padding_idx is not None:
        rows = fnp.where(fnp.expand_dims(idx == padding_idx, -1), fnp.stop_gradient(rows), rows)
    return rows


def one_hot(tensor, num_classes=-1):
    """``int64`` array of shape ``tensor.shape + (num_classes,)`` with a 1 at each index.

    ``num_classes=-1`` takes one more than the largest index (which must then be
    concrete).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.one_hot(fnp.array([0, 2]))
    Array([[1, 0, 0],
           [0, 0, 1]], dtype=int64)
    """
    idx = _index_array("one_hot", tensor, "tensor")
    values = _peek(idx)
    if num_classes == -1:
        if values is None:
            raise ValueError("one_hot: num_classes=-1 needs concrete indices; pass num_classes explicitly "
                             "under a transform")
        if values.size == 0:
            raise ValueError("one_hot: can not infer the total number of classes from an empty tensor; pass "
                             "num_classes")
        num_classes = int(values.max()) + 1
    elif not isinstance(num_classes, numbers.Integral) or num_classes < 0:
        raise ValueError(f"one_hot: num_classes must be a non-negative int or -1, got {num_classes!r}")
    if values is not None and values.size:
        if values.min() < 0:
            raise ValueRangeError(f"one_hot: class values must be non-negative, got {values.min()}")
        if values.max() >= num_classes:
            raise ValueRangeError(f"one_hot: class values must be smaller than num_classes ({num_classes}), got "
                             f"{values.max()}")
    classes = fnp.arange(num_classes, dtype=fnp.int64, device=idx.device)
    return fnp.astype(fnp.expand_dims(idx, -1) == classes, fnp.int64)


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input, pad, mode="constant", value=None):
    """Pads ``input``; ``pad`` lists ``(before, after)`` widths starting from the LAST dimension:
    ``(left, right)`` pads the last one, ``(left, right, top, bottom)`` the last two, and so on.

    Modes: ``'constant'`` (fill ``value``, default 0), ``'reflect'`` (mirror, edge
    excluded), ``'replicate'`` (repeat the edge), ``'circular'`` (wrap around).
    Negative widths crop, as in PyTorch: after padding in ``'reflect'`` and ``'replicate'``
    modes, before it in the others.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.pad(fnp.array([[1., 2.]]), (1, 2), value=9.)
    Array([[9., 1., 2., 9., 9.]], dtype=float32)
    >>> F.pad(fnp.array([[1., 2., 3.]]), (2, 0), mode="reflect")
    Array([[3., 2., 1., 2., 3.]], dtype=float32)
    """
    x = fnp.asarray(input)
    widths = tuple(pad)
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: unknown padding mode {mode!r}; use 'constant', 'reflect', 'replicate' or "
                         f"'circular'")
    if len(widths) % 2 or len(widths) // 2 > x.ndim:
        raise ShapeError(f"pad: the padding length must be even and at most twice the number of dimensions "
                         f"({x.ndim}), got {len(widths)}")
    if not all(isinstance(w, numbers.Integral) for w in widths):
        raise TypeError(f"pad: widths must be ints, got {widths}")
    pairs = [(0, 0)] * x.ndim
    for i in range(len(widths) // 2):
        pairs[x.ndim - 1 - i] = (int(widths[2 * i]), int(widths[2 * i + 1]))
    cropped = [(max(-b, 0), max(-a, 0)) for b, a in pairs]
    if any(b or a for b, a in cropped):  # negative widths crop
        if any(b + a > d for (b, a), d in zip(cropped, x.shape)):
            raise ValueError(f"pad: cropping {widths} removes more than the input of shape {x.shape} holds")
        pairs = [(max(b, 0), max(a, 0)) for b, a in pairs]
        if mode in ("reflect", "replicate"):  # PyTorch pads these from the whole input, then crops
            padded = _pad_edges(x, pairs, mode, value)
            return padded[tuple(slice(b, d - a) for (b, a), d in zip(cropped, padded.shape))]
        x = x[tuple(slice(b, d - a) for (b, a), d in zip(cropped, x.shape))]  # the others crop first
    if mode != "constant":
        return _pad_edges(x, pairs, mode, value)
    return fnp.pad(x, pairs, mode="constant", constant_values=0 if value is None else value)


def _pad_edges(x, pairs, mode, value):
    """``x`` padded by the non-negative ``pairs`` in one of the modes that repeat the input's own values."""
    if value is not None and value != 0:
        raise ValueError(f"pad: padding mode {mode!r} doesn't take in value argument")
    for ax, (b, a) in enumerate(pairs):
        if mode == "reflect" and max(b, a) >= x.shape[ax] and (b or a):
            raise ShapeError(f"pad: reflect padding ({b}, {a}) must be less than the size {x.shape[ax]} "
                             f"of dimension {ax} of the input of shape {x.shape}")
        if mode == "circular" and max(b, a) > x.shape[ax]:
            raise ShapeError(f"pad: circular padding ({b}, {a}) cannot exceed the size {x.shape[ax]} of "
                             f"dimension {ax} of the input of shape {x.shape}")
    return fnp.pad(x, pairs, mode=_PAD_MODES[mode])

# ----- attention --------------------------------------------------------------------------------


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False, *, key_rng=None):
    """``softmax(Q K^T * scale + bias) V``, over shapes ``(..., L, E)``, ``(..., S, E)``, ``(..., S, Ev)``.

    ``scale`` defaults to ``1 / sqrt(E)``. ``attn_mask`` broadcasts to
    ``(..., L, S)``: a boolean mask says where to attend (True) and a float mask
    is added to the scores. ``is_causal`` masks out keys after each query (the
    lower-triangular mask) and excludes ``attn_mask``. ``dropout_p`` drops
    attention weights (always, as in PyTorch: pass 0 in evaluation), with
    ``key_rng`` or the global generator. ``enable_gqa`` lets ``key``/``value``
    have fewer heads (axis -3) than ``query``, each serving a group of query heads.
    A query that may attend to nothing (its row of the mask all False or -inf)
    gives zeros, with zero gradient, as PyTorch's implementations do.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> q = k = v = fnp.ones((2, 4, 3))
    >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
    (2, 4, 3)
    """
    q, k, v = _float(query), _float(key), _float(value)
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ShapeError(f"scaled_dot_product_attention: query, key and value need at least 2 dimensions, got "
                         f"{q.shape}, {k.shape}, {v.shape}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ShapeError(f"scaled_dot_product_attention: query {q.shape}, key {k.shape} and value {v.shape} do "
                         f"not fit: query and key must share E (last axis), key and value S (axis -2)")
    if enable_gqa:
        hq, hk = q.shape[-3], k.shape[-3]
        if hq % hk:
            raise ShapeError(f"scaled_dot_product_attention: with enable_gqa the query heads ({hq}) must be a "
                             f"multiple of the key/value heads ({hk})")
        k, v = fnp.repeat(k, hq // hk, axis=-3), fnp.repeat(v, hq // hk, axis=-3)
    L, S = q.shape[-2], k.shape[-2]
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    scores = fnp.matmul(q, fnp.swapaxes(k, -1, -2)) * scale
    if is_causal:
        if attn_mask is not None:
            raise ValueError("scaled_dot_product_attention: explicit attn_mask should not be set when "
                             "is_causal=True")
        attn_mask = fnp.tri(L, S, dtype=bool, device=scores.device)
    unattended = None
    if attn_mask is not None:
        mask = fnp.asarray(attn_mask)
        if mask.dtype == bool:
            scores = fnp.where(mask, scores, -math.inf)
        elif mask.dtype.kind != "f":  # (added as scores, a 0/1 integer mask would mask nothing)
            raise DTypeError(f"scaled_dot_product_attention: attn_mask must be bool (True where attention is "
                             f"allowed) or floating (added to the scores), got {mask.dtype}")
        else:
            scores = scores + fnp.astype(mask, scores.dtype)
        if not is_causal:  # a causal row always has its first key
            unattended = fnp.all(scores == -math.inf, axis=-1, keepdims=True)
            scores = fnp.where(unattended, 0.0, scores)  # finite, so that softmax's derivative is too
    weights = fsp.softmax(scores, axis=-1)
    if unattended is not None:
        weights = fnp.where(unattended, 0.0, weights)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True, key=key_rng)
    return fnp.matmul(weights, v)

# ----- distances --------------------------------------------------------------------------------


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``x1 . x2 / (max(||x1||, eps) * max(||x2||, eps))`` along ``dim`` (inputs broadcast).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.cosine_similarity(fnp.array([[1., 0.]]), fnp.array([[1., 1.]]))
    Array([0.70710677], dtype=float32)
    """
    if _autocast.state:  # float32 under CUDA autocast, as in PyTorch
        x1, x2 = _autocast.full(x1, x2, platforms=("cuda",))
    (a, b), _ = _broadcast_float("cosine_similarity", x1, x2)
    from ..numpy._base import normalize_axis
    dim = normalize_axis("cosine_similarity", dim, a.ndim)
    na, nb = _norm(a, 2, dim), _norm(b, 2, dim)
    return fnp.sum((a / fnp.where(na > eps, na, eps)) * (b / fnp.where(nb > eps, nb, eps)), axis=dim)


def _broadcast_float(opname, *xs):
    xs = [fnp.asarray(x) for x in xs]
    dt = result_type(*xs)
    dt = dt if dt.kind in "fc" else default_float()
    from ..numpy._base import broadcast_shapes
    shape = broadcast_shapes(opname, *[x.shape for x in xs])
    return [fnp.broadcast_to(fnp.astype(x, dt), shape) for x in xs], dt


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """``||x1 - x2 + eps||_p`` along the last dimension.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.pairwise_distance(fnp.array([[3., 0.]]), fnp.array([[0., 4.]]), eps=0.)
    Array([5.], dtype=float32)
    """
    (a, b), _ = _broadcast_float("pairwise_distance", x1, x2)
    if a.ndim == 0:
        raise ShapeError("pairwise_distance: inputs must have at least one dimension")
    return _norm(a - b + eps, p, -1, keepdims=keepdim)

# ----- losses -----------------------------------------------------------------------------------
#
# Each computes the per-element loss l_n and reduces it. Class-index losses
# gather the log-probability of each target class with take_along_axis along
# the class axis (1, or 0 for an unbatched (C,) input); ignored targets are
# replaced by class 0 for the gather and then given weight 0.


def _every_target_counts(opname, t, c, ignore_index):
    """Whether the class indices ``t`` are known, all in ``[0, c)`` and none ignored.

    Raises IndexError for an index out of range that is not ``ignore_index``;
    traced indices (inside jit or vmap) cannot be checked and answer False.
    """
    values = _peek(t)
    if values is None:
        return False
    if values.size == 0:
        return True
    kind = values.dtype.kind
    if kind in "iu":  # one reduction: read as unsigned, a negative index is larger than any class count
        outside = np.maximum.reduce(values.view(f"u{values.dtype.itemsize}"), axis=None) >= c
    else:
        outside = np.minimum.reduce(values, axis=None) < 0 or np.maximum.reduce(values, axis=None) >= c
    if outside:
        bad = values[(values != ignore_index) & ((values < 0) | (values >= c))]
        if bad.size:
            raise IndexError(f"{opname}: target {bad.flat[0]} is out of bounds for {c} classes")
        return False
    return not (0 <= ignore_index < c and (values == ignore_index).any())


def _class_targets(opname, x, target, weight, ignore_index):
    """Returns ``(picked, w)``: each target's entry of ``x`` along the class axis and its weight.

    ``x`` is ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)`` and ``target`` the matching
    ``()``, ``(N,)`` or ``(N, d1, ...)`` integer array; ``w`` is 0 where ignored.
    """
    t = _index_array(opname, target, "target")
    if x.ndim == 0:
        raise ShapeError(f"{opname}: input must have a class dimension, got a scalar")
    cax = 0 if x.ndim == 1 else 1
    c = x.shape[cax]
    expected = x.shape[:cax] + x.shape[cax + 1:]
    if t.shape != expected:
        raise ShapeError(f"{opname}: target of shape {t.shape} does not fit input of shape {x.shape}; expected "
                         f"class indices of shape {expected} (the input without its class dimension {cax})")
    if weight is not None:
        weight = fnp.asarray(weight)
        if weight.shape != (c,):
            raise ShapeError(f"{opname}: weight must hold one value per class, shape ({c},), got {weight.shape}")
    if weight is None and x.ndim == 2 and _every_target_counts(opname, t, c, ignore_index):
        # A training batch (no weights, none ignored): x[rows, t], one gather bound directly
        # (the indexing front end would only rediscover that), every weight 1.
        rows = fnp.asarray(np.arange(x.shape[0], dtype=t.dtype), device=x.device)
        return gather_p.bind(x, rows, t, index=(None, None)), None
    valid = t != ignore_index
    safe = fnp.where(valid, t, 0)
    picked = fnp.squeeze(fnp.take_along_axis(x, fnp.expand_dims(safe, cax), axis=cax), axis=cax)
    if weight is None:
        w = fnp.astype(valid, x.dtype)
    else:
        w = _where0(valid, fnp.astype(fnp.take(weight, safe), x.dtype))
    return picked, w


def _weighted_mean(loss, w, reduction):
    """``loss`` reduced; ``'mean'`` divides by the sum of the weights ``w`` (None: all 1)."""
    if reduction == "mean" and w is not None:
        total = fnp.sum(w)
        none_counts = total == 0
        # Every target ignored: the mean is 0 / 0, NaN as in PyTorch, whose gradient there is 0 rather than NaN.
        return fnp.where(none_counts, math.nan, fnp.sum(loss) / fnp.where(none_counts, 1, total))
    return _reduce(loss, reduction)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log-likelihood: ``l_n = -w[y_n] * x[n, y_n]``, 0 where ``y_n == ignore_index``.

    ``input`` holds log-probabilities, ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``;
    ``target`` holds class indices. ``'mean'`` divides the sum by
    ``sum_n w[y_n]`` over the targets not ignored.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.nll_loss(fnp.log(fnp.array([[0.5, 0.5], [0.25, 0.75]])), fnp.array([0, 1]))
    Array(0.49041462, dtype=float32)
    """
    if _autocast.state:  # float32 under autocast, as in PyTorch
        input, = _autocast.full(input)
    reduction = _check_reduction("nll_loss", _legacy_reduction(size_average, reduce, reduction))
    x = _float(input)
    picked, w = _class_targets("nll_loss", x, target, weight, ignore_index)
    return _weighted_mean(-picked if w is None else -picked * w, w, reduction)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross entropy between the logits ``input`` and ``target``.

    ``input`` has shape ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``. ``target`` holds
    either class indices (integers, the input's shape without C) or class
    probabilities (floats, the input's shape). With ``p = log_softmax(input)``
    along C and ``eps = label_smoothing``:

    * indices: ``l_n = (1 - eps) * (-w[y_n] p[n, y_n]) + (eps / C) * (-sum_c w[c] p[n, c])``,
      0 where ``y_n == ignore_index``; ``'mean'`` divides the sum by ``sum_n w[y_n]``
      over the targets not ignored (the count of them without weights).
    * probabilities ``q`` (smoothed to ``(1 - eps) q + eps / C``):
      ``l_n = -sum_c w[c] q[n, c] p[n, c]``; ``'mean'`` divides by the number
      of rows ``N * d1 * ...``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> logits = fnp.array([[2., 0., 0.], [0., 0., 0.]])
    >>> F.cross_entropy(logits, fnp.array([0, 2]))
    Array(0.6690786, dtype=float32)
    >>> F.cross_entropy(logits, fnp.array([[1., 0., 0.], [0., 0., 1.]]))
    Array(0.6690786, dtype=float32)
    """
    if _autocast.state:  # float32 under autocast, as in PyTorch
        input, target = _autocast.full(input, target)
    reduction = _check_reduction("cross_entropy", _legacy_reduction(size_average, reduce, reduction))
    if isinstance(label_smoothing, bool) or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0, got {label_smoothing!r}")
    x = _float(input)
    t = fnp.asarray(target)
    if x.ndim == 0:
        raise ShapeError("cross_entropy: input must have a class dimension, got a scalar")
    cax = 0 if x.ndim == 1 else 1
    c = x.shape[cax]
    if (x.ndim <= 2 and t.dtype.kind in "iu" and weight is None and label_smoothing == 0 and 0 not in x.shape
            and t.shape == x.shape[:-1] and _every_target_counts("cross_entropy", t, c, ignore_index)):
        return fsp.cross_entropy_p.bind(x, t, reduction=reduction)[0]  # the common case, as one primitive
    logp = fsp.log_softmax(x, axis=cax)
    w = None if weight is None else fnp.asarray(weight)
    if w is not None and w.shape != (c,):
        raise ShapeError(f"cross_entropy: weight must hold one value per class, shape ({c},), got {w.shape}")
    wv = None if w is None else _channel_view(fnp.astype(w, x.dtype), x.ndim, cax)
    if t.dtype.kind == "f":
        if ignore_index != -100:
            raise ValueRangeError("cross_entropy: ignore_index is not supported for floating point (probability) "
                                  "targets, as in PyTorch")
        if t.shape != x.shape:
            raise ShapeError(f"cross_entropy: probability targets must have the input's shape {x.shape}, got "
                             f"{t.shape} (class-index targets must have an integer dtype)")
        q = fnp.astype(t, x.dtype)
        if label_smoothing > 0:
            q = q * (1.0 - label_smoothing) + label_smoothing / c
        terms = logp * q if wv is None else logp * q * wv
        loss = -fnp.sum(terms, axis=cax)
        if reduction == "mean":
            return fnp.sum(loss) / (x.size // c) if x.size else fnp.sum(loss) * math.nan
        return _reduce(loss, reduction)
    picked, wt = _class_targets("cross_entropy", logp, t, w, ignore_index)
    loss = _weighted_mean(-picked if wt is None else -picked * wt, wt, reduction)
    if label_smoothing == 0:
        return loss
    smooth = -fnp.sum(logp if wv is None else logp * wv, axis=cax)
    smooth = _where0(t != ignore_index, smooth)
    smooth = _weighted_mean(smooth, wt, reduction)
    return (1.0 - label_smoothing) * loss + smooth * (label_smoothing / c)


def _weighted(opname, loss, weight, reduction, mean_over_weights):
    """``loss`` times PyTorch's elementwise ``weight`` (of the input's shape), reduced: ``'mean'`` divides by
    the weights' sum (``mse_loss``, ``l1_loss``) or by the count (``huber_loss``), as PyTorch does."""
    w = fnp.asarray(weight)
    if w.shape != loss.shape:
        raise ShapeError(f"{opname}: weight has shape {w.shape}, the input {loss.shape}; weights and input must "
                         f"have the same size")
    weighted = loss * w
    if reduction == "mean":
        return fnp.sum(weighted) / (fnp.sum(w) if mean_over_weights else loss.size)
    return _reduce(weighted, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """``l_n = w_n (x_n - y_n)^2`` (``w_n`` 1 without ``weight``; with it, ``'mean'`` divides by its sum).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.mse_loss(fnp.array([1., 2.]), fnp.array([1., 4.]))
    Array(2., dtype=float32)
    """
    if _autocast.state:  # float32 under autocast, as in PyTorch
        input, target = _autocast.full(input, target)
    reduction = _check_reduction("mse_loss", _legacy_reduction(size_average, reduce, reduction))
    x, y = _pointwise_pair("mse_loss", input, target)
    d = x - y
    return _reduce(d * d, reduction) if weight is None else _weighted("mse_loss", d * d, weight, reduction, True)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """``l_n = w_n |x_n - y_n|`` (``w_n`` 1 without ``weight``; with it, ``'mean'`` divides by its sum).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.l1_loss(fnp.array([1., 2.]), fnp.array([1., 4.]), reduction="sum")
    Array(2., dtype=float32)
    """
    if _autocast.state:  # float32 under autocast, as in PyTorch
        input, target = _autocast.full(input, target)
    reduction = _check_reduction("l1_loss", _legacy_reduction(size_average, reduce, reduction))
    x, y = _pointwise_pair("l1_loss", input, target)
    loss = fnp.abs(x - y)
    return _reduce(loss, reduction) if weight is None else _weighted("l1_loss", loss, weight, reduction, True)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """``l_n = 0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (``d = x_n - y_n``;
    ``beta = 0`` gives the L1 loss).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.smooth_l1_loss(fnp.array([0., 0.]), fnp.array([0.5, 3.]), reduction="none")
    Array([0.125, 2.5  ], dtype=float32)
    """
    if _autocast.state:  # float32 under autocast, as in PyTorch
        input, target = _autocast.full(input, target)
    reduction = _check_reduction("smooth_l1_loss", _legacy_reduction(size_average, reduce, reduction))
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    x, y = _pointwise_pair("smooth_l1_loss", input, target)
    d = fnp.abs(x - y)
    if beta == 0:
        return _reduce(d, reduction)
    return _reduce(fnp.where(d < beta, (0.5 / beta) * (x - y) * (x - y), d - 0.5 * beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """``l_n = 0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)`` (``d = x_n - y_n``), times
    ``weight`` where given (``'mean'`` then still divides by the count, as PyTorch's).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.huber_loss(fnp.array([0., 0.]), fnp.array([0.5, 3.]), reduction="none", delta=2.)
    Array([0.125, 4.   ], dtype=float32)
    """
    if _autocast.state:  # float32 under autocast, as in PyTorch
        input, target = _autocast.full(input, target)
    reduction = _check_reduction("huber_loss", reduction)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    x, y = _pointwise_pair("huber_loss", input, target)
    d = fnp.abs(x - y)
    loss = fnp.where(d < delta, 0.5 * (x - y) * (x - y), delta * (d - 0.5 * delta))
    return _reduce(loss, reduction) if weight is None else _weighted("huber_loss", loss, weight, reduction, False)


def _clamped_log(x):
    """``max(log x, -100)``, PyTorch's guard in binary_cross_entropy, with a finite derivative at 0."""
    pos = x > 0
    return fnp.where(pos, fnp.maximum(fnp.log(fnp.where(pos, x, 1.0)), -100.0), -100.0)


def _bce(x, y):
    """``-(y log x + (1 - y) log(1 - x))`` with PyTorch's edges.

    Where ``x (1 - x) >= 1e-12`` this is the plain formula, whose derivative in
    ``x`` is PyTorch's ``(x - y) / (x (1 - x))``. At the edges PyTorch clamps each
    log at -100 and the denominator of that derivative at 1e-12; the edge branch
    gives those values and that first derivative (higher ones are 0 there).
    """
    sg = fnp.stop_gradient
    edge = x * (1.0 - x) < 1e-12
    xs = fnp.where(edge, 0.5, x)
    inner = -(y * fnp.log(xs) + (1.0 - y) * fnp.log1p(-xs))
    outer = -(y * sg(_clamped_log(x)) + (1.0 - y) * sg(_clamped_log(1.0 - x))) + (x - sg(x)) * sg((x - y) * 1e12)
    return fnp.where(edge, outer, inner)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """``l_n = -w_n (y_n log x_n + (1 - y_n) log(1 - x_n))``, each log clamped at -100 as in PyTorch
    (whose gradient ``w (x - y) / max(x (1 - x), 1e-12)`` is kept too, also at 0 and 1).

    ``input`` holds probabilities in [0, 1], ``target`` has its shape, and
    ``weight`` broadcasts to it.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.binary_cross_entropy(fnp.array([0.5, 1.]), fnp.array([1., 0.]), reduction="none")
    Array([  0.6931472, 100.       ], dtype=float32)
    """
    if _autocast.state:  # float32 under autocast, as in PyTorch
        input, target = _autocast.full(input, target)
    reduction = _check_reduction("binary_cross_entropy", _legacy_reduction(size_average, reduce, reduction))
    x, y = _float(input), fnp.asarray(target)
    if x.shape != y.shape:
        raise ShapeError(f"binary_cross_entropy: using a target size ({y.shape}) that is different to the input "
                         f"size ({x.shape}) is deprecated. Please ensure they have the same size.")
    y = fnp.astype(y, x.dtype)
    values = _peek(x)
    if values is not None and values.size and not ((values >= 0) & (values <= 1)).all():
        raise ValueRangeError("binary_cross_entropy: all elements of input should be between 0 and 1 (apply sigmoid "
                         "first, or use binary_cross_entropy_with_logits)")
    loss = _bce(x, y)
    if weight is not None:
        loss = loss * fnp.asarray(weight)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """``l_n = -w_n (p y_n log sigmoid(x_n) + (1 - y_n) log(1 - sigmoid(x_n)))``, computed stably as
    ``(1 - y) x - (1 + (p - 1) y) log sigmoid(x)``.

    ``pos_weight`` (``p``) weighs the positive class; it broadcasts along the
    last (class) dimension. ``weight`` broadcasts to the input.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.binary_cross_entropy_with_logits(fnp.array([0., 200.]), fnp.array([1., 0.]), reduction="none")
    Array([  0.6931472, 200.       ], dtype=float32)
    """
    if _autocast.state:  # float32 under autocast, as in PyTorch
        input, target = _autocast.full(input, target)
    reduction = _check_reduction("binary_cross_entropy_with_logits",
                                 _legacy_reduction(size_average, reduce, reduction))
    x, y = _float(input), fnp.asarray(target)
    if x.shape != y.shape:
        raise ShapeError(f"binary_cross_entropy_with_logits: target size ({y.shape}) must be the same as input "
                         f"size ({x.shape})")
    if y.dtype.kind == "f" and y.dtype != x.dtype:  # float32 logits, float64 targets: float64, as torch
        dt = result_type(x, y)
        x, y = fnp.astype(x, dt), fnp.astype(y, dt)
    else:
        y = fnp.astype(y, x.dtype)
    log_sig = fsp.log_expit(x)
    if pos_weight is None:
        loss = (1.0 - y) * x - log_sig
    else:
        loss = (1.0 - y) * x - (1.0 + (fnp.asarray(pos_weight) - 1.0) * y) * log_sig
    if weight is not None:
        loss = loss * fnp.asarray(weight)
    return _reduce(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Kullback-Leibler divergence with ``input`` holding log-probabilities:
    ``l_n = y_n (log y_n - x_n)`` (0 where ``y_n = 0``), or ``exp(y_n) (y_n - x_n)``
    when ``log_target``.

    ``reduction='batchmean'`` divides the sum by the batch size (the first
    dimension), which is the mathematical KL divergence; ``'mean'`` divides by
    the number of elements and, as in PyTorch, warns about it.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.kl_div(fnp.log(fnp.array([[0.5, 0.5]])), fnp.array([[0.5, 0.5]]), reduction="batchmean")
    Array(0., dtype=float32)
    """
    if _autocast.state:  # float32 under autocast, as in PyTorch
        input, target = _autocast.full(input, target)
    reduction = _check_reduction("kl_div", _legacy_reduction(size_average, reduce, reduction),
                                 ("mean", "sum", "none", "batchmean"))
    if reduction == "mean":
        warnings.warn("kl_div: reduction 'mean' divides the total loss by both the batch size and the support "
                      "size. 'batchmean' divides only by the batch size, and aligns with the KL div math "
                      "definition. 'mean' will be changed to behave the same as 'batchmean' in the next major "
                      "release.", UserWarning, stacklevel=2)
    x, y = _pointwise_pair("kl_div", input, target)
    if log_target:
        loss = fnp.exp(y) * (y - x)
    else:
        loss = fsp.xlogy(y, y) - y * x
    if reduction == "batchmean":
        total = fnp.sum(loss)
        return total / x.shape[0] if x.ndim else total
    return _reduce(loss, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """``l_n = 1 - cos(x1_n, x2_n)`` where ``y_n = 1`` and ``max(0, cos(x1_n, x2_n) - margin)`` where
    ``y_n = -1``; the cosine is taken along the last dimension of ``(N, D)`` (or ``(D,)``) inputs.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.cosine_embedding_loss(fnp.array([[1., 0.]]), fnp.array([[1., 0.]]), fnp.array([1]))
    Array(0., dtype=float32)
    """
    reduction = _check_reduction("cosine_embedding_loss", _legacy_reduction(size_average, reduce, reduction))
    (a, b), _ = _broadcast_float("cosine_embedding_loss", input1, input2)
    y = fnp.asarray(target)
    if a.ndim not in (1, 2) or y.shape != a.shape[:-1]:
        raise ShapeError(f"cosine_embedding_loss: expected inputs (N, D) with target (N,), or (D,) with a scalar "
                         f"target; got {a.shape} and {y.shape}")
    eps = 1e-12
    cos = fnp.sum(a * b, axis=-1) / fnp.sqrt((fnp.sum(a * a, axis=-1) + eps) * (fnp.sum(b * b, axis=-1) + eps))
    neg = fnp.where(cos > margin, cos - margin, 0.0)
    loss = _where0(y == 1, 1.0 - cos) + _where0(y == -1, neg)
    return _reduce(loss, reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None, reduction="mean"):
    """``l_n = max(0, -y_n (x1_n - x2_n) + margin)``, ``y_n`` in {1, -1}.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.margin_ranking_loss(fnp.array([1., 1.]), fnp.array([0., 2.]), fnp.array([1., 1.]), reduction="none")
    Array([0., 1.], dtype=float32)
    """
    reduction = _check_reduction("margin_ranking_loss", _legacy_reduction(size_average, reduce, reduction))
    (a, b, y), _ = _broadcast_float("margin_ranking_loss", input1, input2, target)
    z = -y * (a - b) + margin
    return _reduce(fnp.where(z > 0, z, 0.0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None, reduction="mean"):
    """``l_n = x_n`` where ``y_n = 1`` and ``max(0, margin - x_n)`` where ``y_n = -1`` (both terms
    for any other target value, as PyTorch computes it).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.hinge_embedding_loss(fnp.array([0.3, 0.3]), fnp.array([1., -1.]), reduction="none")
    Array([0.3, 0.7], dtype=float32)
    """
    reduction = _check_reduction("hinge_embedding_loss", _legacy_reduction(size_average, reduce, reduction))
    (x, y), _ = _broadcast_float("hinge_embedding_loss", input, target)
    z = margin - x
    return _reduce(_where0(y != -1, x) + _where0(y != 1, fnp.where(z > 0, z, 0.0)), reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """``l_n = log(1 + exp(-y_n x_n))``, ``y_n`` in {1, -1}.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.soft_margin_loss(fnp.array([0.]), fnp.array([1.]))
    Array(0.6931472, dtype=float32)
    """
    reduction = _check_reduction("soft_margin_loss", _legacy_reduction(size_average, reduce, reduction))
    x, y = _pointwise_pair("soft_margin_loss", input, target)
    return _reduce(-fsp.log_expit(y * x), reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Poisson negative log-likelihood: ``l_n = exp(x_n) - y_n x_n`` (``log_input``), else
    ``x_n - y_n log(x_n + eps)``; ``full`` adds Stirling's ``y log y - y + 0.5 log(2 pi y)`` where ``y > 1``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.poisson_nll_loss(fnp.array([0.]), fnp.array([2.]))
    Array(1., dtype=float32)
    """
    reduction = _check_reduction("poisson_nll_loss", _legacy_reduction(size_average, reduce, reduction))
    x, y = _pointwise_pair("poisson_nll_loss", input, target)
    loss = fnp.exp(x) - y * x if log_input else x - y * fnp.log(x + eps)
    if full:
        big = y > 1
        ys = fnp.where(big, y, 2.0)
        loss = loss + _where0(big, ys * fnp.log(ys) - ys + 0.5 * fnp.log(2.0 * math.pi * ys))
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Gaussian negative log-likelihood: ``l_n = 0.5 (log max(var, eps) + (x_n - y_n)^2 / max(var, eps))``,
    plus ``0.5 log(2 pi)`` when ``full``; ``var`` broadcasts to the input (one variance per element,
    or one shared across the last dimension). The clamp at ``eps`` is not differentiated, as in PyTorch.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.gaussian_nll_loss(fnp.array([1.]), fnp.array([1.]), fnp.array([1.]))
    Array(0., dtype=float32)
    """
    reduction = _check_reduction("gaussian_nll_loss", reduction)
    (x, y), _ = _broadcast_float("gaussian_nll_loss", input, target)
    v = fnp.asarray(var)
    if v.shape != x.shape:
        if v.shape == x.shape[:-1]:
            v = fnp.expand_dims(v, -1)  # one variance per example, shared over the last dimension
        elif not (v.ndim == x.ndim and v.shape[:-1] == x.shape[:-1] and v.shape[-1] == 1):
            raise ShapeError(f"gaussian_nll_loss: var of shape {v.shape} is of incorrect size for input of shape "
                             f"{x.shape}; give the input's shape, or it with the last dimension 1 or dropped")
    values = _peek(v)
    if values is not None and (values < 0).any():
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    v = fnp.astype(v, x.dtype)
    v = v + fnp.stop_gradient(fnp.maximum(v, eps) - v)
    loss = 0.5 * (fnp.log(v) + (x - y) * (x - y) / v)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)

# ----- convolution and pooling: written in _conv.py, re-exported under PyTorch's names -------------------

from ._conv import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d, adaptive_max_pool1d,  # noqa: E402
                    adaptive_max_pool2d, adaptive_max_pool3d, avg_pool1d, avg_pool2d, avg_pool3d, conv1d, conv2d,
                    conv3d, conv_transpose1d, conv_transpose2d, conv_transpose3d, fold, max_pool1d, max_pool2d,
                    max_pool3d, unfold)

__all__ += ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "max_pool1d",
            "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d",
            "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
            "adaptive_max_pool3d", "unfold", "fold"]

# ----- more of torch.nn.functional: resampling, rearranging, local normalisation, distances, losses ----------
#
# Resampling (``interpolate``) computes its source indices and weights with
# numpy from the static shapes, in float32 as PyTorch's CPU kernels do, and
# applies them with ``take`` along each spatial axis in turn (every mode but
# 'area' is separable), so the result is differentiable in the input and
# batchable like any composition of fnx.numpy.

__all__ += ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "pixel_shuffle", "pixel_unshuffle",
            "channel_shuffle", "native_channel_shuffle", "local_response_norm", "pdist", "gumbel_softmax",
            "triplet_margin_loss", "triplet_margin_with_distance_loss", "multi_margin_loss",
            "multilabel_margin_loss", "multilabel_soft_margin_loss"]

_INTERP_DIMS = {"nearest": (1, 2, 3), "nearest-exact": (1, 2, 3), "area": (1, 2, 3), "linear": (1,),
                "bilinear": (2,), "bicubic": (2,), "trilinear": (3,)}


def _interp_sizes(x, nd, size, scale_factor, recompute_scale_factor):
    """The output size of each spatial axis, and the scale factor to map indices with (None: ``in / out``)."""
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: " + ("only one of size or scale_factor should be defined" if size is not None
                                            else "either size or scale_factor should be defined"))
    spatial = x.shape[2:]
    if size is not None:
        sizes = tuple(size) if isinstance(size, (tuple, list)) else (size,) * nd
        if len(sizes) != nd:
            raise ValueError(f"interpolate: input with spatial shape {spatial} expects size of length {nd}, got "
                             f"{len(sizes)} values {tuple(sizes)}")
        if any(not isinstance(s, numbers.Integral) or s <= 0 for s in sizes):
            raise ValueError(f"interpolate: size must hold positive ints, got {tuple(sizes)}")
        return tuple(int(s) for s in sizes), (None,) * nd
    scales = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else (scale_factor,) * nd
    if len(scales) != nd:
        raise ValueError(f"interpolate: input with spatial shape {spatial} expects scale_factor of length {nd}, "
                         f"got {len(scales)} values {tuple(scales)}")
    if any(not isinstance(s, numbers.Real) or s <= 0 for s in scales):
        raise ValueError(f"interpolate: scale_factor must hold positive numbers, got {tuple(scales)}")
    sizes = tuple(int(math.floor(float(n) * float(s))) for n, s in zip(spatial, scales))
    if any(s <= 0 for s in sizes):
        raise ValueError(f"interpolate: scale_factor {tuple(scales)} makes an empty output from spatial shape "
                         f"{spatial}")
    return sizes, (None,) * nd if recompute_scale_factor else tuple(float(s) for s in scales)


def _area_scale(n_in, n_out, align_corners, scale, ft):
    """PyTorch's ``area_pixel_compute_scale`` in the float type ``ft``."""
    if align_corners:
        return ft(n_in - 1) / ft(n_out - 1) if n_out > 1 else ft(0)
    return ft(1.0 / scale) if scale is not None and scale > 0 else ft(n_in) / ft(n_out)


def _interp_axis(x, axis, n_out, mode, align_corners, scale):
    """``x`` resampled to ``n_out`` along ``axis`` (one separable pass)."""
    n_in = x.shape[axis]
    f32 = np.float32

    def shaped(w):
        return fnp.asarray(w.astype(x.dtype).reshape((-1,) + (1,) * (x.ndim - 1 - axis)), device=x.device)

    # PyTorch's kernels: an axis whose size a scale_factor leaves unchanged is still mapped through the scale in
    # the nearest and cubic modes, and copied in the linear ones
    if mode in ("nearest", "nearest-exact"):
        if n_out == n_in and scale is None:
            return x
        s = f32(1.0 / scale) if scale is not None and scale > 0 else f32(n_in) / f32(n_out)
        offset = f32(0.5) if mode == "nearest-exact" else f32(0)
        idx = np.minimum(np.floor((np.arange(n_out, dtype=f32) + offset) * s).astype(np.int64), n_in - 1)
        return fnp.take(x, fnp.asarray(idx, device=x.device), axis=axis)
    # the linear and cubic weights are computed in the input's precision (float32 below float64), as PyTorch's
    # kernels compute them in their accumulation type; nearest indices always in float32
    ft = np.float64 if x.dtype == np.float64 else f32
    s = _area_scale(n_in, n_out, align_corners, scale, ft)
    dst = np.arange(n_out, dtype=ft)
    if mode == "bicubic":
        src = dst * s if align_corners else s * (dst + ft(0.5)) - ft(0.5)
        i0 = np.floor(src).astype(np.int64)
        t = (src - i0).astype(ft)
        a = ft(-0.75)
        near = lambda u: ((a + 2) * u - (a + 3)) * u * u + 1  # noqa: E731  |u| <= 1
        far = lambda u: ((a * u - 5 * a) * u + 8 * a) * u - 4 * a  # noqa: E731  1 < |u| < 2
        coeffs = (far(t + 1), near(t), near(1 - t), far(2 - t))
        out = 0
        for k, c in enumerate(coeffs):
            idx = np.clip(i0 - 1 + k, 0, n_in - 1)
            out = out + fnp.take(x, fnp.asarray(idx, device=x.device), axis=axis) * shaped(c)
        return out
    # linear: two taps
    if n_out == n_in:
        return x
    src = dst * s if align_corners else np.maximum(s * (dst + ft(0.5)) - ft(0.5), ft(0))
    i0 = src.astype(np.int64)
    i1 = np.minimum(i0 + 1, n_in - 1)
    w1 = (src - i0).astype(ft)
    w0 = ft(1) - w1
    take = lambda i: fnp.take(x, fnp.asarray(i, device=x.device), axis=axis)  # noqa: E731
    return take(i0) * shaped(w0) + take(i1) * shaped(w1)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resamples ``(N, C, *spatial)`` input to ``size`` or by ``scale_factor`` (``torch.nn.functional.interpolate``).

    Modes: ``'nearest'`` (PyTorch's: source index ``floor(i * scale)``),
    ``'nearest-exact'`` (``floor((i + 0.5) * scale)``), ``'linear'`` (3-d
    input), ``'bilinear'`` and ``'bicubic'`` (4-d; cubic convolution with
    ``A = -0.75``, edges replicated), ``'trilinear'`` (5-d) and ``'area'``
    (adaptive average pooling). The nearest modes keep the input's dtype (integer
    images included); the others need floating input. With ``align_corners`` the corner pixels'
    centres are aligned (only for the interpolating modes); otherwise, as in
    PyTorch, a given ``scale_factor`` maps the indices (``1 / scale_factor``)
    unless ``recompute_scale_factor`` asks for ``in / out``. The output size is
    ``floor(in * scale_factor)``.

    Raises:
      ValueError: both or neither of ``size`` and ``scale_factor``, lengths that do not match the spatial
        dimensions, an unknown mode, or ``align_corners`` with a non-interpolating mode.
      ShapeError: an input whose dimensions do not suit the mode.
      DTypeError: integer input to a mode other than the nearest ones.
      NotImplementedError: ``antialias=True`` (not implemented in fnx).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> x = fnp.array([[[1., 2.]]])
    >>> F.interpolate(x, scale_factor=2)
    Array([[[1., 1., 2., 2.]]], dtype=float32)
    >>> F.interpolate(x, size=4, mode="linear", align_corners=True)
    Array([[[1.       , 1.3333333, 1.6666667, 2.       ]]], dtype=float32)
    """
    x = fnp.asarray(input)
    if mode not in _INTERP_DIMS:
        raise ValueError(f"interpolate: unknown mode {mode!r}; use one of {', '.join(map(repr, _INTERP_DIMS))}")
    interpolating = mode in ("linear", "bilinear", "bicubic", "trilinear")
    if x.dtype.kind not in "fc" and mode not in ("nearest", "nearest-exact"):
        # PyTorch rounds uint8 images in its own way and rejects other integers; fnx asks for floats
        raise DTypeError(f"interpolate: mode {mode!r} needs a floating input, got {x.dtype}; convert it with "
                         f".astype('float32') (the nearest modes keep any dtype)")
    if align_corners is not None and not interpolating:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | "
                         "bicubic | trilinear")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not implemented in fnx")
    nd = x.ndim - 2
    if nd not in _INTERP_DIMS[mode]:
        need = " or ".join(f"{d + 2}D" for d in _INTERP_DIMS[mode])
        raise ShapeError(f"interpolate: got {x.ndim}D input of shape {x.shape}, but mode {mode!r} needs {need} "
                         f"input (N, C, *spatial)")
    sizes, scales = _interp_sizes(x, nd, size, scale_factor, recompute_scale_factor)
    if mode == "area":
        from ._conv import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[nd - 1](x, sizes)
    for i, (n, s) in enumerate(zip(sizes, scales)):
        x = _interp_axis(x, 2 + i, n, mode, bool(align_corners), s)
    return x


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of :func:`interpolate`, with PyTorch's warning."""
    warnings.warn("nn.functional.upsample is deprecated. Use nn.functional.interpolate instead.", UserWarning,
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(input, size, scale_factor, mode='nearest')``, with PyTorch's warning."""
    warnings.warn("nn.functional.upsample_nearest is deprecated. Use nn.functional.interpolate instead.",
                  UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(input, size, scale_factor, mode='bilinear', align_corners=True)``."""
    warnings.warn("nn.functional.upsample_bilinear is deprecated. Use nn.functional.interpolate instead.",
                  UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


def _positive_int(opname, what, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{opname}: {what} must be a positive int, got {value!r}")
    return int(value)


def pixel_shuffle(input, upscale_factor):
    """Rearranges ``(*, C r^2, H, W)`` into ``(*, C, H r, W r)``: each group of ``r^2`` channels becomes an
    ``r x r`` block of pixels (Shi et al., "Real-Time Single Image and Video Super-Resolution...", CVPR 2016).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.pixel_shuffle(fnp.arange(4.).reshape(1, 4, 1, 1), 2)[0, 0]
    Array([[0., 1.],
           [2., 3.]], dtype=float32)
    """
    x = fnp.asarray(input)
    r = _positive_int("pixel_shuffle", "upscale_factor", upscale_factor)
    if x.ndim < 3 or x.shape[-3] % (r * r):
        raise ShapeError(f"pixel_shuffle: expected input of shape (*, C * {r}^2, H, W), got {x.shape}")
    *lead, c, h, w = x.shape
    y = fnp.reshape(x, (*lead, c // (r * r), r, r, h, w))
    k = len(lead)
    y = fnp.transpose(y, tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2))
    return fnp.reshape(y, (*lead, c // (r * r), h * r, w * r))


def pixel_unshuffle(input, downscale_factor):
    """The inverse of :func:`pixel_shuffle`: ``(*, C, H r, W r)`` into ``(*, C r^2, H, W)``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.pixel_unshuffle(fnp.arange(4.).reshape(1, 1, 2, 2), 2).reshape(-1)
    Array([0., 1., 2., 3.], dtype=float32)
    """
    x = fnp.asarray(input)
    r = _positive_int("pixel_unshuffle", "downscale_factor", downscale_factor)
    if x.ndim < 3 or x.shape[-2] % r or x.shape[-1] % r:
        raise ShapeError(f"pixel_unshuffle: expected input of shape (*, C, H * {r}, W * {r}), got {x.shape}")
    *lead, c, h, w = x.shape
    y = fnp.reshape(x, (*lead, c, h // r, r, w // r, r))
    k = len(lead)
    y = fnp.transpose(y, tuple(range(k)) + (k, k + 2, k + 4, k + 1, k + 3))
    return fnp.reshape(y, (*lead, c * r * r, h // r, w // r))


def channel_shuffle(input, groups):
    """Splits the ``C`` channels (axis 1) into ``groups`` and interleaves them: channel ``g * (C / groups) + i``
    moves to ``i * groups + g`` (Zhang et al., "ShuffleNet", CVPR 2018).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.channel_shuffle(fnp.arange(6.).reshape(1, 6, 1), 2).reshape(-1)
    Array([0., 3., 1., 4., 2., 5.], dtype=float32)
    """
    x = fnp.asarray(input)
    g = _positive_int("channel_shuffle", "groups", groups)
    if x.ndim < 3 or x.shape[1] % g:
        raise ShapeError(f"channel_shuffle: expected input of shape (N, C, *) with C divisible by groups ({g}), "
                         f"got {x.shape}")
    n, c, *rest = x.shape
    y = fnp.swapaxes(fnp.reshape(x, (n, g, c // g, *rest)), 1, 2)
    return fnp.reshape(y, x.shape)


native_channel_shuffle = channel_shuffle


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    r"""Normalises each value by the energy of ``size`` neighbouring channels (``torch``'s LRN):

    .. math:: b_c = a_c \Big(k + \frac{\alpha}{n} \sum_{c'=c-\lfloor n/2 \rfloor}^{c+\lfloor (n-1)/2 \rfloor}
              a_{c'}^2\Big)^{-\beta}

    with channels outside the range counting as 0 (Krizhevsky et al., "ImageNet
    Classification with Deep Convolutional Neural Networks", NIPS 2012).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.local_response_norm(fnp.array([[[1.], [2.]]]), size=2, alpha=1.0, beta=1.0, k=0.0)
    Array([[[2. ],
            [0.8]]], dtype=float32)
    """
    x = _float(input)
    if x.ndim < 3:
        raise ShapeError(f"local_response_norm: expected 3D or higher dimensionality input, got shape {x.shape}")
    if x.shape[1] == 0:
        return x
    n = _positive_int("local_response_norm", "size", size)
    sq = fnp.pad(x * x, [(0, 0), (n // 2, (n - 1) // 2)] + [(0, 0)] * (x.ndim - 2))
    c = x.shape[1]
    total = sq[:, 0:c]
    for j in range(1, n):
        total = total + sq[:, j:j + c]
    return x / (total * (alpha / n) + k) ** beta


def pdist(input, p=2.0):
    """The ``p``-norm distances between the rows of an ``(N, M)`` input, for each pair ``i < j`` in row-major
    order: ``N (N - 1) / 2`` values (the condensed form of ``scipy.spatial.distance.pdist``).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.pdist(fnp.array([[0., 0.], [3., 4.], [6., 8.]]))
    Array([ 5., 10.,  5.], dtype=float32)
    """
    x = _float(input)
    if x.ndim != 2:
        raise ShapeError(f"pdist: only supports 2D tensors, got shape {x.shape}")
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or p < 0:
        raise ValueError(f"pdist: only supports non-negative p values, got {p!r}")
    i, j = np.triu_indices(x.shape[0], k=1)
    d = fnp.take(x, fnp.asarray(i, device=x.device), axis=0) - fnp.take(x, fnp.asarray(j, device=x.device), axis=0)
    return _norm(d, p, -1, keepdims=False)


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1, *, key=None):
    """A sample from the Gumbel-softmax (Concrete) distribution: ``softmax((logits + g) / tau)`` along ``dim``,
    with ``g`` standard Gumbel noise drawn with ``key`` (or the global generator). With ``hard`` the result
    is one-hot at the argmax, with the soft sample's gradient (the straight-through estimator).
    Jang, Gu and Poole, "Categorical Reparameterization with Gumbel-Softmax" (ICLR 2017). ``eps`` is
    accepted for PyTorch's signature and unused, as there.

    >>> import fnx, fnx.numpy as fnp, fnx.nn.functional as F
    >>> y = F.gumbel_softmax(fnp.zeros((2, 3)), hard=True, key=fnx.random.key(0))
    >>> fnp.sum(y, axis=-1), bool(fnp.all((y == 0) | (y == 1)))
    (Array([1., 1.], dtype=float32), True)
    """
    from .. import random
    x = _float(logits)
    g = random.gumbel(_key(key, x), x.shape, x.dtype)
    y = fsp.softmax((x + g) / tau, axis=dim)
    if not hard:
        return y
    idx = fnp.argmax(y, axis=dim, keepdims=True)
    positions = fnp.arange(x.shape[dim], device=x.device)
    shape = [1] * x.ndim
    shape[dim] = x.shape[dim]
    y_hard = fnp.astype(fnp.reshape(positions, shape) == idx, x.dtype)
    return y_hard - fnp.stop_gradient(y) + y


def _triplet_inputs(opname, anchor, positive, negative):
    a, p, n = _float(anchor), _float(positive), _float(negative)
    if not (a.ndim == p.ndim == n.ndim) or a.ndim not in (1, 2):
        raise ShapeError(f"{opname}: the anchor, positive and negative must all be 1D (unbatched) or all 2D "
                         f"(batched), got shapes {a.shape}, {p.shape}, {n.shape}")
    return a, p, n


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False, size_average=None,
                        reduce=None, reduction="mean"):
    """``max(d(a, p) - d(a, n) + margin, 0)`` with ``d`` the :func:`pairwise_distance` (``p``, ``eps``); with
    ``swap`` the negative distance is ``min(d(a, n), d(p, n))`` (Balntas et al., BMVC 2016).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.triplet_margin_loss(fnp.array([[0., 0.]]), fnp.array([[3., 4.]]), fnp.array([[0., 1.]]), eps=0.)
    Array(5., dtype=float32)
    """
    reduction = _check_reduction("triplet_margin_loss", _legacy_reduction(size_average, reduce, reduction))
    a, pos, neg = _triplet_inputs("triplet_margin_loss", anchor, positive, negative)
    d_pos = pairwise_distance(a, pos, p, eps)
    d_neg = pairwise_distance(a, neg, p, eps)
    if swap:
        d_neg = fnp.minimum(d_neg, pairwise_distance(pos, neg, p, eps))
    return _reduce(fnp.maximum(margin + d_pos - d_neg, 0.0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None, margin=1.0,
                                      swap=False, reduction="mean"):
    """:func:`triplet_margin_loss` with any ``distance_function(x1, x2)`` (default :func:`pairwise_distance`).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> l1 = lambda x, y: fnp.sum(fnp.abs(x - y), axis=-1)
    >>> F.triplet_margin_with_distance_loss(fnp.array([[0., 0.]]), fnp.array([[1., 1.]]), fnp.array([[0., 1.]]),
    ...                                     distance_function=l1)
    Array(2., dtype=float32)
    """
    reduction = _check_reduction("triplet_margin_with_distance_loss", reduction)
    if margin <= 0:
        raise ValueError(f"triplet_margin_with_distance_loss: margin must be greater than 0, got {margin}")
    a, pos, neg = _triplet_inputs("triplet_margin_with_distance_loss", anchor, positive, negative)
    dist = pairwise_distance if distance_function is None else distance_function
    d_pos, d_neg = dist(a, pos), dist(a, neg)
    if swap:
        d_neg = fnp.minimum(d_neg, dist(pos, neg))
    return _reduce(fnp.maximum(margin + d_pos - d_neg, 0.0), reduction)


def _margin_targets(opname, x, target):
    """Input as ``(N, C)`` (a 1-D input is one example) and integer targets, with PyTorch's shape checks."""
    t = _index_array(opname, target, "target")
    if x.ndim == 0 or x.ndim > 2:
        raise ShapeError(f"{opname}: expected a non-empty 1D or 2D input, got shape {x.shape}")
    return (fnp.expand_dims(x, 0) if x.ndim == 1 else x), t


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    r"""Multi-class hinge loss: for each example with class :math:`y`,
    :math:`\frac1C \sum_{i \ne y} w_y \max(0, \text{margin} - x_y + x_i)^p` (``p`` is 1 or 2).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.multi_margin_loss(fnp.array([[0.1, 0.2, 0.4, 0.8]]), fnp.array([3]))
    Array(0.325, dtype=float32)
    """
    opname = "multi_margin_loss"
    reduction = _check_reduction(opname, _legacy_reduction(size_average, reduce, reduction))
    if p not in (1, 2):
        raise ValueError(f"{opname}: only p == 1 and p == 2 supported, got {p!r}")
    x0 = _float(input)
    x, t = _margin_targets(opname, x0, target)
    n, c = x.shape
    t2 = fnp.reshape(t, (-1,))
    if t2.shape[0] != n:
        raise ShapeError(f"{opname}: inconsistent target size {t.shape} for input of shape {x0.shape}")
    bad = _out_of_range(t2, c)
    if bad is not None:
        raise IndexError(f"{opname}: target {bad} is out of bounds for {c} classes")
    _check_param(opname, "weight", weight, (c,))
    x_y = fnp.take_along_axis(x, t2[:, None], axis=1)
    h = relu(margin - x_y + x)  # (a term exactly at the margin passes no gradient, as PyTorch's)
    h = h * h if p == 2 else h
    if weight is not None:
        h = h * fnp.take(fnp.asarray(weight, dtype=x.dtype), t2)[:, None]
    not_y = fnp.arange(c, device=x.device)[None, :] != t2[:, None]
    loss = fnp.sum(_where0(not_y, h), axis=1) / c
    if x0.ndim == 1 and reduction == "none":
        loss = loss[0]
    return _reduce(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    r"""Multi-label hinge loss. ``target`` holds, per example, class indices ending at the first ``-1``
    (the set :math:`Y`); the loss is :math:`\frac1C \sum_{j \in Y} \sum_{i \notin Y} \max(0, 1 - (x_j - x_i))`.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.multilabel_margin_loss(fnp.array([[0.1, 0.2, 0.4, 0.8]]), fnp.array([[3, 0, -1, 1]]))
    Array(0.85, dtype=float32)
    """
    opname = "multilabel_margin_loss"
    reduction = _check_reduction(opname, _legacy_reduction(size_average, reduce, reduction))
    x0 = _float(input)
    x, t = _margin_targets(opname, x0, target)
    t2 = fnp.expand_dims(t, 0) if t.ndim == 1 else t
    if t2.shape != x.shape:
        raise ShapeError(f"{opname}: inconsistent target size {t.shape} for input of shape {x0.shape}")
    n, c = x.shape
    values = _peek(t2)
    if values is not None and values.size and (values.min() < -1 or values.max() >= c):
        raise IndexError(f"{opname}: target values must lie in [-1, {c - 1}], got {values.min()} .. {values.max()}")
    valid = fnp.cumprod(fnp.astype(t2 != -1, x.dtype), axis=1)  # the targets before the first -1
    safe = fnp.where(t2 >= 0, t2, 0)
    classes = fnp.arange(c, device=x.device)
    is_target = fnp.any((safe[:, :, None] == classes) & (valid[:, :, None] > 0), axis=1)  # (N, C)
    x_j = fnp.take_along_axis(x, safe, axis=1)  # (N, C): x at each listed target
    h = fnp.maximum(1.0 - x_j[:, :, None] + x[:, None, :], 0.0)  # (N, j, i)
    h = h * valid[:, :, None] * fnp.astype(~is_target, x.dtype)[:, None, :]
    loss = fnp.sum(h, axis=(1, 2)) / c
    if x0.ndim == 1 and reduction == "none":
        loss = loss[0]
    return _reduce(loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    r"""One-vs-all logistic loss over ``C`` labels, averaged over the labels:
    :math:`-\frac1C \sum_i w_i \big(y_i \log\sigma(x_i) + (1 - y_i) \log\sigma(-x_i)\big)`.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.multilabel_soft_margin_loss(fnp.array([[0., 0.]]), fnp.array([[1., 0.]]))
    Array(0.6931472, dtype=float32)
    """
    opname = "multilabel_soft_margin_loss"
    reduction = _check_reduction(opname, _legacy_reduction(size_average, reduce, reduction))
    x, y = _pointwise_pair(opname, input, target)
    if x.ndim == 0:
        raise ShapeError(f"{opname}: expected an input with a class dimension, got a scalar")
    loss = -(y * fsp.log_expit(x) + (1 - y) * fsp.log_expit(-x))
    if weight is not None:
        loss = loss * fnp.asarray(weight, dtype=loss.dtype)
    loss = fnp.sum(loss, axis=-1) / x.shape[-1]
    return _reduce(loss, reduction)

# ----- sampling grids: affine_grid, grid_sample ----------------------------------------------------------------
#
# ``grid_sample`` reads the input at arbitrary (normalised) points, so unlike
# ``interpolate`` its taps depend on traced values: the tap indices are
# floor(coordinate) + offsets (integers, carrying no derivative), the weights
# are computed from the coordinates with fnx.numpy, and the values are gathered
# from the flattened input with ``take_along_axis``. So the output is
# differentiable in both the input and the grid (spatial transformer networks).

__all__ += ["affine_grid", "grid_sample"]

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                  "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                  "grid_sample for details.")


def _base_coords(n, align_corners, dtype):
    if n <= 1:
        return np.zeros(1, dtype)
    r = np.linspace(-1.0, 1.0, n, dtype=np.float64)
    return (r if align_corners else r * (n - 1) / n).astype(dtype)


def affine_grid(theta, size, align_corners=None):
    """The sampling grid of a batch of affine maps (``torch.nn.functional.affine_grid``).

    ``theta`` is ``(N, 2, 3)`` for a 4-d ``size`` ``(N, C, H, W)`` and gives an
    ``(N, H, W, 2)`` grid of ``(x, y)`` points in [-1, 1] coordinates; ``(N, 3, 4)``
    for a 5-d size gives ``(N, D, H, W, 3)``. The output positions are the
    pixel centres (``align_corners=False``, the default, with PyTorch's warning
    when it is not given) or the corner pixels' centres.

    Raises:
      ValueError: a non-floating ``theta``, a shape that does not fit ``size``, or a non-positive size.
      NotImplementedError: a ``size`` of length other than 4 or 5.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.affine_grid(fnp.array([[[1., 0., 0.], [0., 1., 0.]]]), (1, 1, 1, 2), align_corners=False)[0, 0]
    Array([[-0.5,  0. ],
           [ 0.5,  0. ]], dtype=float32)
    """
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, UserWarning, stacklevel=2)
        align_corners = False
    t = fnp.asarray(theta)
    if t.dtype.kind != "f":
        raise ValueError(f"Expected theta to have floating point type, but got {t.dtype}")
    size = tuple(int(s) for s in size)
    if len(size) == 4:
        if t.ndim != 3 or t.shape[-2:] != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {size}. Got {t.shape}.")
    elif len(size) == 5:
        if t.ndim != 3 or t.shape[-2:] != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {size}. Got {t.shape}.")
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    spatial = size[2:]
    nd = len(spatial)
    dt = np.dtype(t.dtype)
    # base points (x, y[, z], 1) with x along the last axis
    axes = [_base_coords(n, align_corners, dt) for n in spatial]
    mesh = np.meshgrid(*axes, indexing="ij")  # one array per spatial axis, shaped like spatial
    base = np.stack([mesh[nd - 1 - k] for k in range(nd)] + [np.ones(spatial, dt)], axis=-1)
    base = fnp.asarray(base.reshape(-1, nd + 1), device=t.device)
    grid = fnp.matmul(base, fnp.swapaxes(t, 1, 2))  # (N, points, nd)
    return fnp.reshape(grid, (t.shape[0],) + spatial + (nd,))


def _reflect(coord, twice_low, twice_high):
    """PyTorch's ``reflect_coordinates``: mirrors ``coord`` into ``[twice_low / 2, twice_high / 2]``."""
    if twice_low == twice_high:
        return fnp.zeros_like(coord)
    lo, span = twice_low / 2, (twice_high - twice_low) / 2
    c = fnp.abs(coord - lo)
    extra = fnp.fmod(c, span)
    flips = fnp.floor(c / span)
    return fnp.where(fnp.fmod(flips, 2) == 0, extra + lo, span - extra + lo)


def _clip_coord(coord, n):
    """``coord`` clipped to ``[0, n - 1]``, with PyTorch's derivative: 1 strictly inside, 0 on the edges and
    beyond (its ``clip_coordinates_set_grad`` counts the edges as outside)."""
    inside = fnp.logical_and(coord > 0, coord < n - 1)
    return fnp.where(inside, coord, fnp.stop_gradient(fnp.clip(coord, 0, n - 1)))


def _pad_coord(coord, n, padding_mode, align_corners):
    if padding_mode == "border":
        return _clip_coord(coord, n)
    if padding_mode == "reflection":
        coord = _reflect(coord, 0, 2 * (n - 1)) if align_corners else _reflect(coord, -1, 2 * n - 1)
        return _clip_coord(coord, n)
    return coord


def _cubic_weights(t):
    a = -0.75
    near = lambda u: ((a + 2) * u - (a + 3)) * u * u + 1  # noqa: E731
    far = lambda u: ((a * u - 5 * a) * u + 8 * a) * u - 4 * a  # noqa: E731
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Samples ``input`` at the points of ``grid`` (``torch.nn.functional.grid_sample``).

    ``input`` is ``(N, C, H, W)`` with ``grid`` ``(N, Ho, Wo, 2)``, or
    ``(N, C, D, H, W)`` with ``grid`` ``(N, Do, Ho, Wo, 3)``; each grid point is
    ``(x, y[, z])`` in [-1, 1] (-1 the left/top edge: the first pixel's centre
    with ``align_corners``, its outer edge otherwise). ``mode`` is
    ``'bilinear'`` (trilinear for 5-d input), ``'nearest'`` (ties to even) or
    ``'bicubic'`` (4-d only; ``A = -0.75``); points outside read zeros
    (``'zeros'``), the edge (``'border'``) or the input mirrored at its edges
    (``'reflection'``). Differentiable in ``input`` and in ``grid``.

    Raises:
      ValueError: an unknown mode or padding mode, or bicubic with 5-d input.
      ShapeError: shapes that do not fit together.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> x = fnp.array([[[[0., 1.], [2., 3.]]]])
    >>> F.grid_sample(x, fnp.array([[[[0., 0.], [1., -1.]]]]), align_corners=True)
    Array([[[[1.5, 1. ]]]], dtype=float32)
    """
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', "
                         f"but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, UserWarning, stacklevel=2)
        align_corners = False
    x, g = _float(input), _float(grid)
    nd = x.ndim - 2
    if nd not in (2, 3) or g.ndim != x.ndim or g.shape[0] != x.shape[0] or g.shape[-1] != nd:
        raise ShapeError(f"grid_sample: expected input (N, C, H, W) with grid (N, Ho, Wo, 2), or input "
                         f"(N, C, D, H, W) with grid (N, Do, Ho, Wo, 3); got input {x.shape} and grid {g.shape}")
    if mode == "bicubic" and nd != 2:
        raise ValueError("grid_sample: bicubic interpolation only supports 4D input")
    if g.dtype != x.dtype:
        g = fnp.astype(g, result_type(x, g))
        x = fnp.astype(x, g.dtype)
    n, c = x.shape[:2]
    spatial = x.shape[2:]
    out_spatial = g.shape[1:-1]
    q = int(np.prod(out_spatial))
    taps = []  # per spatial axis: [(integer index (N, Q), weight (N, Q) or None)]
    for d in range(nd):
        size = spatial[d]
        coord = fnp.reshape(g[..., nd - 1 - d], (n, q))
        coord = (coord + 1) / 2 * (size - 1) if align_corners else ((coord + 1) * size - 1) / 2
        if mode == "bicubic":
            base = fnp.floor(coord)
            t = coord - base
            base = fnp.astype(fnp.stop_gradient(base), "int64")
            axis_taps = [(base - 1 + k, w) for k, w in enumerate(_cubic_weights(t))]
            axis_taps = [(idx, w, _pad_coord(fnp.astype(idx, coord.dtype), size, padding_mode, align_corners))
                         for idx, w in axis_taps]
            axis_taps = [(fnp.astype(fnp.stop_gradient(pc), "int64"), w) for _, w, pc in axis_taps]
        else:
            coord = _pad_coord(coord, size, padding_mode, align_corners)
            if mode == "nearest":
                axis_taps = [(fnp.astype(fnp.stop_gradient(fnp.round(coord)), "int64"), None)]
            else:
                base = fnp.floor(coord)
                t = coord - base
                base = fnp.astype(fnp.stop_gradient(base), "int64")
                axis_taps = [(base, 1 - t), (base + 1, t)]
        taps.append(axis_taps)
    flat = fnp.reshape(x, (n, c, -1))
    strides = [int(np.prod(spatial[d + 1:])) for d in range(nd)]
    out = 0
    for combo in np.ndindex(*[len(t) for t in taps]):
        index, weight, valid = 0, None, None
        for d, k in enumerate(combo):
            idx, w = taps[d][k]
            ok = (idx >= 0) & (idx <= spatial[d] - 1)
            valid = ok if valid is None else valid & ok
            index = index + fnp.clip(idx, 0, spatial[d] - 1) * strides[d]
            if w is not None:
                weight = w if weight is None else weight * w
        vals = fnp.take_along_axis(flat, fnp.broadcast_to(index[:, None, :], (n, c, q)), axis=2)
        w = fnp.astype(valid, x.dtype) if weight is None else _where0(valid, weight)
        out = out + vals * w[:, None, :]
    return fnp.reshape(out, (n, c) + out_spatial)

# ----- power-average pooling and feature alpha dropout -------------------------------------------------

__all__ += ["lp_pool1d", "lp_pool2d", "lp_pool3d", "feature_alpha_dropout"]


def _lp_pool(opname, nd, input, norm_type, kernel_size, stride, ceil_mode):
    from ._conv import _tuple, avg_pool1d, avg_pool2d, avg_pool3d
    kernel = _tuple(opname, "kernel_size", kernel_size, nd)
    pool = (avg_pool1d, avg_pool2d, avg_pool3d)[nd - 1]
    x = _float(input)
    out = pool(x ** norm_type, kernel_size, stride, 0, ceil_mode)
    # PyTorch's sign(out) * relu(|out|): a window whose powers average to a negative number gives 0
    return (fnp.sign(out) * relu(fnp.abs(out)) * int(np.prod(kernel))) ** (1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    r"""Power-average pooling over ``(N, C, L)`` or ``(C, L)``: :math:`(\sum_{window} x^p)^{1/p}` with
    ``p = norm_type`` (``torch.nn.functional.lp_pool1d``; ``p = inf`` would be max pooling, 1 sum pooling).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.lp_pool1d(fnp.array([[3., 4., 1., 1.]]), 2, 2)
    Array([[5.       , 1.4142135]], dtype=float32)
    """
    return _lp_pool("lp_pool1d", 1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over ``(N, C, H, W)`` or ``(C, H, W)`` (``torch.nn.functional.lp_pool2d``)."""
    return _lp_pool("lp_pool2d", 2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over ``(N, C, D, H, W)`` or ``(C, D, H, W)`` (``torch.nn.functional.lp_pool3d``)."""
    return _lp_pool("lp_pool3d", 3, input, norm_type, kernel_size, stride, ceil_mode)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False, *, key=None):
    """:func:`alpha_dropout` of whole channels: one draw per ``(example, channel)`` of ``(N, C, *)`` input,
    shared over its positions; dropped channels take SELU's saturation value before the affine correction.

    >>> import fnx, fnx.numpy as fnp, fnx.nn.functional as F
    >>> y = F.feature_alpha_dropout(fnp.ones((4, 6, 3)), 0.5, training=True, key=fnx.random.key(0))
    >>> bool((y == y[:, :, :1]).all())  # constant along each channel's positions
    True
    """
    from .. import random
    p = _check_prob("feature_alpha_dropout", p)
    x = _float(input)
    if x.ndim < 2:
        raise ShapeError(f"feature_alpha_dropout: Feature dropout requires at least 2 dimensions in the input, got "
                         f"shape {x.shape}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * 0.0
    alpha = -_SELU_SCALE * _SELU_ALPHA
    a = ((1.0 - p) * (1.0 + p * alpha * alpha)) ** -0.5
    keep = random.bernoulli(_key(key, x), 1.0 - p, x.shape[:2] + (1,) * (x.ndim - 2))
    return fnp.where(keep, x, alpha) * a + (-a * alpha * p)

# ----- max unpooling, and the pooling functions that return indices --------------------------------------

__all__ += ["max_unpool1d", "max_unpool2d", "max_unpool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
            "max_pool3d_with_indices", "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
            "adaptive_max_pool3d_with_indices"]


def _max_unpool(opname, nd, input, indices, kernel_size, stride, padding, output_size):
    from ._conv import _tuple
    x = _float(input)
    idx = _index_array(opname, indices, "indices")
    if x.ndim not in (nd + 1, nd + 2) or idx.shape != x.shape:
        raise ShapeError(f"{opname}: expected a {nd + 1}-d (unbatched) or {nd + 2}-d input with indices of the same "
                         f"shape, got input {x.shape} and indices {idx.shape}")
    kernel = _tuple(opname, "kernel_size", kernel_size, nd)
    stride = kernel if stride is None else _tuple(opname, "stride", stride, nd)
    padding = _tuple(opname, "padding", padding, nd, low=0)
    spatial = x.shape[-nd:]
    default = [(spatial[d] - 1) * stride[d] + kernel[d] - 2 * padding[d] for d in range(nd)]
    if output_size is None:
        out = default
    else:
        out = [int(s) for s in output_size]
        if len(out) == nd + 2:
            out = out[2:]
        if len(out) != nd:
            raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it has a "
                             f"length of '{len(out)}'")
        for d in range(nd):
            lo, hi = default[d] - stride[d], default[d] + stride[d]
            if not lo < out[d] < hi:
                raise ValueError(f'invalid output_size "{tuple(output_size)}" (dim {d} must be between {lo} and '
                                 f'{hi})')
    size = int(np.prod(out))
    lead = x.shape[:-nd]
    bad = _out_of_range(idx, size)
    if bad is not None:
        raise IndexError(f"{opname}: found an invalid max index {bad} (output volumes are of size "
                         f"{'x'.join(map(str, out))})")
    flat_x = fnp.reshape(x, (-1, int(np.prod(spatial))))
    flat_i = fnp.reshape(idx, flat_x.shape)
    rows = fnp.asarray(np.arange(flat_x.shape[0])[:, None], device=x.device)
    zeros = fnp.zeros((flat_x.shape[0], size), dtype=x.dtype, device=x.device)
    # The values are written as PyTorch writes them (a repeated index keeps one); the derivative is PyTorch's
    # backward, a gather of the output's gradient at every index, so that overlapping pooling windows that
    # picked the same maximum each pass their gradient back: the added term is zero and carries only that.
    added = zeros.at[rows, flat_i].add(flat_x)
    y = fnp.stop_gradient(zeros.at[rows, flat_i].set(flat_x)) + (added - fnp.stop_gradient(added))
    return fnp.reshape(y, lead + tuple(out))


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of :func:`max_pool1d`: each value goes back to the position ``indices`` (from
    ``max_pool1d(..., return_indices=True)``) names, zeros elsewhere (``torch.nn.functional.max_unpool1d``).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> y, i = F.max_pool1d(fnp.array([[[1., 3., 2., 0.]]]), 2, return_indices=True)
    >>> F.max_unpool1d(y, i, 2)
    Array([[[0., 3., 2., 0.]]], dtype=float32)
    """
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of :func:`max_pool2d` (``torch.nn.functional.max_unpool2d``); see :func:`max_unpool1d`."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of :func:`max_pool3d` (``torch.nn.functional.max_unpool3d``); see :func:`max_unpool1d`."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding, output_size)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    """``max_pool1d(..., return_indices=True)``: the pooled values and their flat positions."""
    from ._conv import max_pool1d
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    """``max_pool2d(..., return_indices=True)``: the pooled values and their flat positions."""
    from ._conv import max_pool2d
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    """``max_pool3d(..., return_indices=True)``: the pooled values and their flat positions."""
    from ._conv import max_pool3d
    return max_pool3d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    """``adaptive_max_pool1d(..., return_indices=True)``."""
    from ._conv import adaptive_max_pool1d
    return adaptive_max_pool1d(input, output_size, return_indices)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    """``adaptive_max_pool2d(..., return_indices=True)``."""
    from ._conv import adaptive_max_pool2d
    return adaptive_max_pool2d(input, output_size, return_indices)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=True):
    """``adaptive_max_pool3d(..., return_indices=True)``."""
    from ._conv import adaptive_max_pool3d
    return adaptive_max_pool3d(input, output_size, return_indices)

# ----- embedding bags -------------------------------------------------------------------------------------

__all__ += ["embedding_bag"]


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sums, averages or takes the maximum of bags of embeddings (``torch.nn.functional.embedding_bag``).

    A 2-d ``input`` ``(B, N)`` is ``B`` bags of ``N`` indices; a 1-d ``input``
    is cut into bags at ``offsets`` (the start of each bag, the first being 0;
    with ``include_last_offset`` the last offset is the end of the last bag).
    Entries equal to ``padding_idx`` are left out (and not counted by
    ``'mean'``); an empty bag gives zeros. ``per_sample_weights`` (input's
    shape, ``mode='sum'`` only) weight each looked-up row. ``max_norm``,
    ``norm_type`` and ``scale_grad_by_freq`` act as in :func:`embedding`.

    Raises:
      ValueError: offsets with a 2-d input or missing with a 1-d one, a bad mode, a weight that is not 2-d,
        ``per_sample_weights`` of another shape, or the first offset not 0.
      NotImplementedError: ``per_sample_weights`` with a mode other than ``'sum'``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> w = fnp.arange(8.).reshape(4, 2)
    >>> F.embedding_bag(fnp.array([0, 1, 3, 2]), w, fnp.array([0, 3]), mode="sum")
    Array([[ 8., 11.],
           [ 4.,  5.]], dtype=float32)
    """
    idx = _index_array("embedding_bag", input)
    w = fnp.asarray(weight)
    if w.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {w.ndim}")
    psw = None if per_sample_weights is None else fnp.asarray(per_sample_weights)
    if psw is not None and psw.shape != idx.shape:
        raise ValueError(f"embedding_bag: If per_sample_weights ({psw.shape}) is not None, then it must have the "
                         f"same shape as the input ({idx.shape})")
    if idx.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             "fixed length sequences.")
        b, length = idx.shape
        starts = np.arange(b) * length
        ends = starts + length
        idx = fnp.reshape(idx, (-1,))
        psw = None if psw is None else fnp.reshape(psw, (-1,))
        starts = fnp.asarray(starts, device=idx.device)
        ends = fnp.asarray(ends, device=idx.device)
    elif idx.ndim == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        off = _index_array("embedding_bag", offsets, "offsets")
        if off.ndim != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        first = _peek(off)
        if first is not None and first.size and first[0] != 0:
            raise ValueError(f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                             f"position 0. However, got {first[0]}")
        if first is not None and first.size and first.max() > idx.shape[0]:
            raise ValueRangeError(f"embedding_bag: offsets[-1] can not be greater than input's length "
                                  f"{idx.shape[0]} but got offsets[-1] of {first.max()}")
        n = fnp.asarray([idx.shape[0]], dtype=off.dtype, device=off.device)
        if include_last_offset:
            starts, ends = off[:-1], off[1:]
        else:
            starts, ends = off, fnp.concatenate([off[1:], n])
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {idx.ndim}")
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if psw is not None and mode != "sum":
        raise NotImplementedError(f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}').")
    rows = embedding(idx, w, None, max_norm, norm_type, scale_grad_by_freq)  # (n, D)
    pos = fnp.arange(idx.shape[0], device=idx.device)
    member = (pos[None, :] >= starts[:, None]) & (pos[None, :] < ends[:, None])  # (B, n)
    if padding_idx is not None:
        n_emb = w.shape[0]
        if not -n_emb <= padding_idx < n_emb:
            raise ValueError(f"embedding_bag: padding_idx {padding_idx} must be within num_embeddings ({n_emb})")
        member = member & (idx != padding_idx % n_emb)[None, :]
    m = fnp.astype(member, rows.dtype)
    if mode == "max":  # the first row holding a bag's maximum takes its gradient, as PyTorch's
        candidates = fnp.where(member[:, :, None], rows[None, :, :], -math.inf)
        best = fnp.take_along_axis(candidates, fnp.argmax(candidates, axis=1)[:, None, :], axis=1)[:, 0]
        return _where0(fnp.any(member, axis=1)[:, None], best)
    if psw is not None:
        m = m * fnp.astype(psw, rows.dtype)[None, :]
    out = fnp.matmul(m, rows)
    if mode == "mean":
        count = fnp.sum(fnp.astype(member, rows.dtype), axis=1, keepdims=True)
        out = out / fnp.maximum(count, 1.0)
    return out

# ----- connectionist temporal classification ------------------------------------------------------------
#
# The CTC forward (alpha) recursion in log space, over the targets extended
# with blanks (blank, l1, blank, l2, ..., blank), one vectorised step per time
# step for the whole batch. Impossible paths carry a large negative finite
# log-probability rather than -inf, so that the log-sum-exp of three
# impossible terms, and its derivative, stay finite; a sample whose final
# log-likelihood is still that small has no valid alignment and gets the
# infinite loss PyTorch gives (or 0 with ``zero_infinity``).

__all__ += ["ctc_loss"]

_CTC_IMPOSSIBLE = -1e30


def _ctc_lengths(opname, lengths, n, what):
    values = _peek(lengths) if isinstance(lengths, (Array, Tracer)) else np.asarray(lengths)
    if values is None:
        raise ValueError(f"{opname}: {what} must be concrete (it decides the shapes); pass them outside the "
                         f"transform")
    values = np.asarray(values).reshape(-1).astype(np.int64)
    if values.shape != (n,):
        raise ShapeError(f"{opname}: {what} must hold one length per batch entry ({n}), got shape {values.shape}")
    return values


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    r"""The Connectionist Temporal Classification loss (``torch.nn.functional.ctc_loss``): the negative
    log-likelihood of each target sequence, summed over every alignment of it to the input.

    Args:
      log_probs: ``(T, N, C)`` (or unbatched ``(T, C)``) log-probabilities over ``C`` classes, ``blank``
        among them (``log_softmax`` outputs).
      targets: ``(N, S)`` padded target indices, or all targets concatenated in one 1-d array.
      input_lengths, target_lengths: the length of each input and target (sequences or 1-d arrays;
        concrete values).
      reduction: ``'mean'`` divides each loss by its target length (at least 1) and averages over the
        batch, as PyTorch does; ``'sum'`` or ``'none'``.
      zero_infinity: impossible alignments (an input too short for its target) give 0 and no gradient
        instead of an infinite loss.

    Graves et al., "Connectionist Temporal Classification: Labelling Unsegmented Sequence Data with
    Recurrent Neural Networks" (ICML 2006). The gradient is the exact derivative in ``log_probs``
    (minus the occupation probabilities). PyTorch's backward returns that plus ``exp(log_probs)`` times
    the loss's cotangent, which agrees once taken through the ``log_softmax`` that produces
    ``log_probs``, so the gradients in the logits are the same. An infinite loss has zero gradient here
    (NaN in PyTorch).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> lp = fnp.log(fnp.full((2, 1, 2), 0.5))  # two steps, classes {blank, a}, all equally likely
    >>> F.ctc_loss(lp, fnp.array([[1]]), [2], [1], reduction="sum")  # alignments "aa", "a-", "-a": 3/4
    Array(0.2876821, dtype=float32)
    """
    opname = "ctc_loss"
    reduction = _check_reduction(opname, reduction)
    lp = _float(log_probs)
    unbatched = lp.ndim == 2
    if unbatched:
        lp = fnp.expand_dims(lp, 1)
    if lp.ndim != 3:
        raise ShapeError(f"{opname}: log_probs must be (T, N, C) or (T, C), got shape {lp.shape}")
    t_max, n, c = lp.shape
    if not 0 <= blank < c:
        raise ValueError(f"{opname}: blank must be in label range [0, {c}), got {blank}")
    in_len = _ctc_lengths(opname, input_lengths, n, "input_lengths")
    tg_len = _ctc_lengths(opname, target_lengths, n, "target_lengths")
    if (in_len > t_max).any() or (in_len < 0).any() or (tg_len < 0).any():
        raise ShapeError(f"{opname}: input_lengths must lie in [0, {t_max}] and target_lengths be non-negative, "
                         f"got {in_len.tolist()} and {tg_len.tolist()}")
    tg = _index_array(opname, targets, "targets")
    if unbatched and tg.ndim == 1 and tg.shape[0] == int(tg_len.sum()):
        tg = fnp.expand_dims(tg, 0) if tg.shape[0] else fnp.zeros((1, 0), tg.dtype)
    s_max = int(tg_len.max()) if n else 0
    if tg.ndim == 1:  # concatenated targets: cut them into padded rows
        if tg.shape[0] != int(tg_len.sum()):
            raise ShapeError(f"{opname}: 1-d targets must hold sum(target_lengths) = {int(tg_len.sum())} indices, "
                             f"got {tg.shape[0]}")
        starts = np.concatenate([[0], np.cumsum(tg_len)[:-1]]).astype(np.int64)
        pos = np.minimum(starts[:, None] + np.arange(max(s_max, 1))[None, :], max(tg.shape[0] - 1, 0))
        tg = fnp.take(tg, fnp.asarray(pos, device=tg.device), axis=0) if tg.shape[0] else \
            fnp.zeros((n, max(s_max, 1)), tg.dtype, device=tg.device)
    elif tg.ndim != 2 or tg.shape[0] != n or tg.shape[1] < s_max:
        raise ShapeError(f"{opname}: targets must be (N, S) with S >= max(target_lengths) = {s_max}, or 1-d, got "
                         f"shape {tg.shape} for a batch of {n}")
    values = _peek(tg)
    if values is not None and values.size:
        valid = np.arange(values.shape[1])[None, :] < tg_len[:, None]
        used = values[valid] if values.ndim == 2 else values
        if used.size and (used.min() < 0 or used.max() >= c or (used == blank).any()):
            raise ValueError(f"{opname}: target indices must lie in [0, {c}) and differ from blank ({blank})")
    width = max(s_max, 1)
    tg = tg[:, :width] if tg.shape[1] >= width else fnp.pad(tg, [(0, 0), (0, width - tg.shape[1])])
    # extended labels: blank, l1, blank, ..., l_S, blank
    ext = fnp.reshape(fnp.stack([fnp.full_like(tg, blank), tg], axis=-1), (n, 2 * width))
    ext = fnp.concatenate([ext, fnp.full((n, 1), blank, dtype=ext.dtype, device=ext.device)], axis=1)
    big = 2 * width + 1
    emit = fnp.take_along_axis(lp, fnp.broadcast_to(ext[None], (t_max, n, big)), axis=2)  # (T, N, L')
    s_idx = np.arange(big)
    ext_np_len = 2 * tg_len + 1
    in_range = fnp.asarray(s_idx[None, :] < ext_np_len[:, None], device=lp.device)  # (N, L')
    # the skip from s - 2 is allowed onto a label that differs from the label two back
    prev2 = fnp.concatenate([fnp.full((n, 2), blank, dtype=ext.dtype, device=ext.device), ext[:, :-2]], axis=1)
    skip = (ext != blank) & (ext != prev2) & fnp.asarray(s_idx >= 2, device=lp.device)[None, :]
    neg = fnp.asarray(_CTC_IMPOSSIBLE, dtype=lp.dtype)
    start = fnp.asarray((s_idx < 2)[None, :] & (s_idx[None, :] < ext_np_len[:, None]) & (in_len > 0)[:, None],
                        device=lp.device)
    alpha = fnp.where(start, emit[0], neg)
    in_len_dev = fnp.asarray(in_len, device=lp.device)

    def shift(a, k):
        return fnp.concatenate([fnp.full((n, k), _CTC_IMPOSSIBLE, dtype=a.dtype, device=a.device), a[:, :-k]], axis=1)

    for t in range(1, t_max):
        a1, a2 = shift(alpha, 1), fnp.where(skip, shift(alpha, 2), neg)
        m = fnp.maximum(alpha, fnp.maximum(a1, a2))
        total = m + fnp.log(fnp.exp(alpha - m) + fnp.exp(a1 - m) + fnp.exp(a2 - m))
        new = fnp.where(in_range, total + emit[t], neg)
        alpha = fnp.where((t < in_len_dev)[:, None], new, alpha)  # finished sequences keep their last alpha
    last = fnp.asarray(2 * tg_len, device=lp.device)
    end1 = fnp.take_along_axis(alpha, last[:, None], axis=1)[:, 0]
    end2 = fnp.take_along_axis(alpha, fnp.maximum(last - 1, 0)[:, None], axis=1)[:, 0]
    end2 = fnp.where(last > 0, end2, neg)
    m = fnp.maximum(end1, end2)
    ll = m + fnp.log(fnp.exp(end1 - m) + fnp.exp(end2 - m))
    empty = fnp.asarray((in_len == 0) & (tg_len == 0), device=lp.device)  # nothing to align: probability 1
    impossible = (ll < _CTC_IMPOSSIBLE / 2) & ~empty
    loss = fnp.where(empty, 0.0, -ll)
    loss = fnp.where(impossible, 0.0 if zero_infinity else math.inf, loss)
    if reduction == "mean":
        return fnp.mean(loss / fnp.asarray(np.maximum(tg_len, 1).astype(np.dtype(lp.dtype)), device=lp.device))
    if reduction == "sum":
        return fnp.sum(loss)
    return loss[0] if unbatched else loss

# ----- the functional form of MultiheadAttention ------------------------------------------------------------

__all__ += ["multi_head_attention_forward"]


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False, *, key_rng=None):
    """:class:`fnx.nn.MultiheadAttention`'s computation with the weights passed in
    (``torch.nn.functional.multi_head_attention_forward``): inputs ``(L, N, E)`` (sequence first) or
    unbatched ``(L, E)``; returns ``(attn_output, attn_weights)`` as that module does. ``key_rng`` seeds the
    dropout on the attention weights (applied when ``training`` and ``dropout_p > 0``).

    Raises:
      ShapeError: ``embed_dim_to_check`` differs from the query's feature size, or the shapes do not fit.
      NotImplementedError: ``static_k`` / ``static_v`` (precomputed per-head keys), which fnx does not take.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> x = fnp.ones((3, 2, 4))
    >>> out, w = F.multi_head_attention_forward(x, x, x, 4, 2, fnp.ones((12, 4)), None, None, None, False, 0.0,
    ...                                         fnp.eye(4), None)
    >>> out.shape, w.shape
    ((3, 2, 4), (2, 3, 3))
    """
    import types
    from .layers.attention import MultiheadAttention
    if static_k is not None or static_v is not None:
        raise NotImplementedError("multi_head_attention_forward: static_k and static_v are not supported in fnx; "
                                  "project the keys and values inside the call instead")
    q = fnp.asarray(query)
    if q.shape[-1] != embed_dim_to_check:
        raise ShapeError(f"multi_head_attention_forward: was expecting embedding dimension of {embed_dim_to_check}, "
                         f"but got query of shape {q.shape}")
    e = embed_dim_to_check
    if e % num_heads:
        raise ShapeError(f"multi_head_attention_forward: embed_dim {e} not divisible by num_heads {num_heads}")
    stub = types.SimpleNamespace(
        embed_dim=e, num_heads=num_heads, head_dim=e // num_heads, batch_first=False, dropout=dropout_p,
        training=training, add_zero_attn=add_zero_attn, in_proj_bias=in_proj_bias,
        bias_k=None if bias_k is None else fnp.reshape(fnp.asarray(bias_k), (1, 1, e)),
        bias_v=None if bias_v is None else fnp.reshape(fnp.asarray(bias_v), (1, 1, e)),
        out_proj=lambda x: linear(x, out_proj_weight, out_proj_bias))
    if use_separate_proj_weight:
        if q_proj_weight is None or k_proj_weight is None or v_proj_weight is None:
            raise ValueError("multi_head_attention_forward: use_separate_proj_weight is True but q_proj_weight, "
                             "k_proj_weight or v_proj_weight is None")
        stub.q_proj_weight, stub.k_proj_weight, stub.v_proj_weight = q_proj_weight, k_proj_weight, v_proj_weight
        stub.kdim, stub.vdim = fnp.asarray(k_proj_weight).shape[1], fnp.asarray(v_proj_weight).shape[1]
        stub._qkv_same_embed_dim = False
    else:
        if in_proj_weight is None:
            raise ValueError("multi_head_attention_forward: use_separate_proj_weight is False but in_proj_weight "
                             "is None")
        stub.in_proj_weight, stub.kdim, stub.vdim, stub._qkv_same_embed_dim = in_proj_weight, e, e, True
    stub._projections = lambda: MultiheadAttention._projections(stub)
    return MultiheadAttention.forward(stub, query, key, value, key_padding_mask=key_padding_mask,
                                      need_weights=need_weights, attn_mask=attn_mask,
                                      average_attn_weights=average_attn_weights, is_causal=is_causal,
                                      key_rng=key_rng)
