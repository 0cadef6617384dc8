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
from ..core.array import Array, wrap
from ..core.dtypes import default_float, result_type
from ..core.trace import Tracer
from ..errors import DTypeError, ShapeError
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
    return np.asarray(x) if isinstance(x, Array) else None


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
    x = _float(input)
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
    return fnp.where(x >= 0, x, w * x)


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
    return _softmax_family("softmax", fsp.softmax, input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """``x_i - log(sum_j exp(x_j))`` along ``dim``; more accurate than ``log(softmax(x))``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.log_softmax(fnp.array([1000., 1000.]), dim=0)
    Array([-0.6931472, -0.6931472], dtype=float32)
    """
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
    x, w = fnp.asarray(input), fnp.asarray(weight)
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
    x = _float(input)
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or x.ndim < k or x.shape[x.ndim - k:] != shape:
        raise ShapeError(f"layer_norm: input of shape {x.shape} does not end with normalized_shape {shape}")
    _check_param("layer_norm", "weight", weight, shape)
    _check_param("layer_norm", "bias", bias, shape)
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

    Unlike PyTorch this function is pure: it does not update the running
    statistics. :func:`batch_norm_stats` computes the updated ones (``momentum``
    is accepted here for signature compatibility and used there).

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
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var must be given in evaluation mode "
                             "(training=False)")
        y = (x - view(fnp.asarray(running_mean))) / fnp.sqrt(view(fnp.asarray(running_var)) + eps)
    return _affine(y, weight, bias, view)


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
    values = _peek(idx)
    if values is not None and values.size and (values.min() < 0 or values.max() >= n):
        bad = values.min() if values.min() < 0 else values.max()
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
            raise ValueError(f"one_hot: class values must be non-negative, got {values.min()}")
        if values.max() >= num_classes:
            raise ValueError(f"one_hot: class values must be smaller than num_classes ({num_classes}), got "
                             f"{values.max()}")
    classes = fnp.arange(num_classes, dtype=fnp.int64, device=idx.device)
    return fnp.astype(fnp.expand_dims(idx, -1) == classes, fnp.int64)


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(input, pad, mode="constant", value=None):
    """Pads ``input``; ``pad`` lists ``(before, after)`` widths starting from the LAST dimension:
    ``(left, right)`` pads the last one, ``(left, right, top, bottom)`` the last two, and so on.

    Modes: ``'constant'`` (fill ``value``, default 0; negative widths crop),
    ``'reflect'`` (mirror, edge excluded), ``'replicate'`` (repeat the edge),
    ``'circular'`` (wrap around).

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
        raise ValueError(f"pad: the padding length must be even and at most twice the number of dimensions "
                         f"({x.ndim}), got {len(widths)}")
    if not all(isinstance(w, numbers.Integral) for w in widths):
        raise TypeError(f"pad: widths must be ints, got {widths}")
    pairs = [(0, 0)] * x.ndim
    for i in range(len(widths) // 2):
        pairs[x.ndim - 1 - i] = (int(widths[2 * i]), int(widths[2 * i + 1]))
    if mode != "constant":
        if value is not None and value != 0:
            raise ValueError(f"pad: padding mode {mode!r} doesn't take in value argument")
        for ax, (b, a) in enumerate(pairs):
            if b < 0 or a < 0:
                raise ValueError(f"pad: negative padding is only supported in constant mode, got {widths}")
            if mode == "reflect" and max(b, a) >= x.shape[ax] and (b or a):
                raise ValueError(f"pad: reflect padding ({b}, {a}) must be less than the size {x.shape[ax]} "
                                 f"of dimension {ax} of the input of shape {x.shape}")
            if mode == "circular" and max(b, a) > x.shape[ax]:
                raise ValueError(f"pad: circular padding ({b}, {a}) cannot exceed the size {x.shape[ax]} of "
                                 f"dimension {ax} of the input of shape {x.shape}")
        return fnp.pad(x, pairs, mode=_PAD_MODES[mode])
    if any(b < 0 or a < 0 for b, a in pairs):  # negative widths crop
        crop = tuple(slice(max(-b, 0), d - max(-a, 0)) for (b, a), d in zip(pairs, x.shape))
        if any(s.stop < s.start for s in crop):
            raise ValueError(f"pad: cropping {widths} removes more than the input of shape {x.shape} holds")
        x = x[crop]
        pairs = [(max(b, 0), max(a, 0)) for b, a in pairs]
    return fnp.pad(x, pairs, mode="constant", constant_values=0 if value is None else value)

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
    A query that may attend to nothing gives NaN, as PyTorch's reference does.

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
        attn_mask = fnp.tri(L, S, dtype=bool)
    if attn_mask is not None:
        mask = fnp.asarray(attn_mask)
        if mask.dtype == bool:
            scores = fnp.where(mask, scores, -math.inf)
        else:
            scores = scores + fnp.astype(mask, scores.dtype)
    weights = fsp.softmax(scores, axis=-1)
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
    if np.minimum.reduce(values, axis=None) < 0 or np.maximum.reduce(values, axis=None) >= c:
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
        return fnp.sum(loss) / fnp.sum(w)
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


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """``l_n = (x_n - y_n)^2``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.mse_loss(fnp.array([1., 2.]), fnp.array([1., 4.]))
    Array(2., dtype=float32)
    """
    reduction = _check_reduction("mse_loss", _legacy_reduction(size_average, reduce, reduction))
    x, y = _pointwise_pair("mse_loss", input, target)
    d = x - y
    return _reduce(d * d, reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """``l_n = |x_n - y_n|``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.l1_loss(fnp.array([1., 2.]), fnp.array([1., 4.]), reduction="sum")
    Array(2., dtype=float32)
    """
    reduction = _check_reduction("l1_loss", _legacy_reduction(size_average, reduce, reduction))
    x, y = _pointwise_pair("l1_loss", input, target)
    return _reduce(fnp.abs(x - y), reduction)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """``l_n = 0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (``d = x_n - y_n``;
    ``beta = 0`` gives the L1 loss).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.smooth_l1_loss(fnp.array([0., 0.]), fnp.array([0.5, 3.]), reduction="none")
    Array([0.125, 2.5  ], dtype=float32)
    """
    reduction = _check_reduction("smooth_l1_loss", _legacy_reduction(size_average, reduce, reduction))
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    x, y = _pointwise_pair("smooth_l1_loss", input, target)
    d = fnp.abs(x - y)
    if beta == 0:
        return _reduce(d, reduction)
    return _reduce(fnp.where(d < beta, (0.5 / beta) * (x - y) * (x - y), d - 0.5 * beta), reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """``l_n = 0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)`` (``d = x_n - y_n``).

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.huber_loss(fnp.array([0., 0.]), fnp.array([0.5, 3.]), reduction="none", delta=2.)
    Array([0.125, 4.   ], dtype=float32)
    """
    reduction = _check_reduction("huber_loss", reduction)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    x, y = _pointwise_pair("huber_loss", input, target)
    d = fnp.abs(x - y)
    return _reduce(fnp.where(d < delta, 0.5 * (x - y) * (x - y), delta * (d - 0.5 * delta)), reduction)


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
    reduction = _check_reduction("binary_cross_entropy", _legacy_reduction(size_average, reduce, reduction))
    x, y = _float(input), fnp.asarray(target)
    if x.shape != y.shape:
        raise ShapeError(f"binary_cross_entropy: using a target size ({y.shape}) that is different to the input "
                         f"size ({x.shape}) is deprecated. Please ensure they have the same size.")
    y = fnp.astype(y, x.dtype)
    values = _peek(x)
    if values is not None and values.size and not ((values >= 0) & (values <= 1)).all():
        raise ValueError("binary_cross_entropy: all elements of input should be between 0 and 1 (apply sigmoid "
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
    reduction = _check_reduction("binary_cross_entropy_with_logits",
                                 _legacy_reduction(size_average, reduce, reduction))
    x, y = _float(input), fnp.asarray(target)
    if x.shape != y.shape:
        raise ShapeError(f"binary_cross_entropy_with_logits: target size ({y.shape}) must be the same as input "
                         f"size ({x.shape})")
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
