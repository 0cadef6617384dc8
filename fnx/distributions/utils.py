"""Helpers shared by the distributions, as ``torch.distributions.utils`` has them, plus fnx's own glue.

``broadcast_all`` turns parameters (Python numbers, arrays, Parameters) into
arrays of one floating dtype and one shape. It returns an argument unchanged
when it already has both: a ``fnx.nn.Parameter`` stored that way stays the
live slot, so a distribution built once keeps reading the parameter after an
optimizer step rebinds it (PyTorch gets the same effect from in-place updates).

``_standard_loggamma`` is the one sampler here with a derivative rule of its
own. Gamma draws come from a rejection sampler, which is not a smooth function
of its shape parameter, so ``rsample`` of Gamma, Chi2, Beta, Dirichlet and
StudentT differentiates them *implicitly*, as PyTorch does (Figurnov, Mohamed
and Mnih, "Implicit reparameterization gradients", 2018): holding the
distribution function ``P(a, x)`` fixed at the draw, ``dx/da = -dP/da / p(x)``.
PyTorch approximates ``dP/da`` by fitted series; here it is a central difference
of fnx's float64 ``gammainc`` in ``a`` (relative error about 1e-8). That rule is
not itself differentiable in ``a`` (``gammainc`` has no derivative in ``a``), so
second derivatives of these draws in the shape parameter raise, as in PyTorch.
"""
import numbers

import numpy as np

from .. import numpy as fnp
from .. import random
from ..core.array import Array
from ..core.dtypes import default_float
from ..core.trace import Tracer
from ..scipy import special as fsp
from ..transforms.custom import custom_jvp

__all__ = ["broadcast_all", "logits_to_probs", "clamp_probs", "probs_to_logits", "lazy_property",
           "euler_constant"]

euler_constant = 0.57721566490153286060  # Euler-Mascheroni constant


def _float_dtype(*values):
    """The floating dtype parameters share: the widest float among the arrays (fnx's or numpy's), else fnx's
    default (Python numbers, as in PyTorch, do not choose it)."""
    floats = [v.dtype for v in values if isinstance(v, (Array, np.ndarray)) and v.dtype.kind == "f"]
    return np.result_type(*floats) if floats else default_float()


def _as_param(value, dtype):
    if isinstance(value, Array):
        return value if value.dtype == dtype else fnp.astype(value, dtype)
    if isinstance(value, (str, bytes)) or value is None:
        raise ValueError(f"Input arguments must all be numbers or arrays, got {value!r}")
    return fnp.asarray(value, dtype)


def broadcast_all(*values):
    """``values`` as arrays of one floating dtype, broadcast to one shape (``torch.distributions.utils.broadcast_all``).

    Numbers take the dtype of the floating arrays among ``values`` (fnx's default
    float when there are none); an argument that already has the common dtype
    and shape is returned as it is.

    >>> import fnx
    >>> from fnx.distributions.utils import broadcast_all
    >>> a, b = broadcast_all(0.5, fnx.numpy.zeros((2, 3)))
    >>> a.shape, a.dtype
    ((2, 3), dtype('float32'))
    """
    dtype = _float_dtype(*values)
    arrays = [_as_param(v, dtype) for v in values]
    shape = fnp.broadcast_shapes(*(a.shape for a in arrays))
    return tuple(a if a.shape == shape else fnp.broadcast_to(a, shape) for a in arrays)


def _expand(x, shape):
    """``x.expand(shape)`` as in PyTorch: new leading axes, size-1 axes stretched, ``-1`` keeping a size."""
    shape = tuple(shape)
    offset = len(shape) - x.ndim
    if offset < 0:
        raise ValueError(f"expand: cannot expand an array of shape {x.shape} to fewer dimensions {shape}")
    shape = tuple(x.shape[i - offset] if s == -1 and i >= offset else s for i, s in enumerate(shape))
    return x if x.shape == shape else fnp.broadcast_to(x, shape)


def _sum_rightmost(value, dim):
    """``value`` summed over its ``dim`` rightmost axes."""
    if dim == 0:
        return value
    return fnp.sum(value, axis=tuple(range(-dim, 0)))


def clamp_probs(probs):
    """``probs`` clamped into ``[eps, 1 - eps]`` (``eps`` of its dtype), so that logs stay finite.

    >>> import fnx
    >>> from fnx.distributions.utils import clamp_probs
    >>> clamp_probs(fnx.numpy.array([0.0, 0.5]))
    Array([1.1920929e-07, 5.0000000e-01], dtype=float32)
    """
    eps = float(np.finfo(probs.dtype).eps)
    return fnp.clip(probs, eps, 1.0 - eps)


def probs_to_logits(probs, is_binary=False):
    """Log-odds (``is_binary``) or log-probabilities of clamped ``probs``."""
    p = clamp_probs(probs)
    return fnp.log(p) - fnp.log1p(-p) if is_binary else fnp.log(p)


def logits_to_probs(logits, is_binary=False):
    """``sigmoid(logits)`` (``is_binary``) or ``softmax(logits, -1)``."""
    return fsp.expit(logits) if is_binary else fsp.softmax(logits, axis=-1)


class lazy_property:
    """A property computed on first use and then stored on the instance (``torch.distributions.utils.lazy_property``).

    Distributions use it for the parameterisation they were not given
    (``probs`` from ``logits``, ``scale_tril`` from ``covariance_matrix``);
    argument validation skips a lazy parameter that has not been computed.
    """

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__
        self.__name__ = wrapped.__name__

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


def _peek(x):
    """``x``'s concrete value as a numpy array, or None where a transform (jit, vmap) has none."""
    while isinstance(x, Tracer):
        x = getattr(x, "primal", None)
    if isinstance(x, Array):
        return np.asarray(x)
    if isinstance(x, (numbers.Number, np.ndarray, np.generic)):
        return np.asarray(x)
    return None


def _all_true(valid):
    """Whether every entry of ``valid`` holds; True where the values are traced and cannot be checked."""
    v = _peek(valid)
    return True if v is None else bool(np.all(v))


def _key(key, like):
    """The key for a draw (given, or the next of the global generator), on ``like``'s device."""
    from ..transforms.device import device_put
    key = random.next_key() if key is None else key
    return key if key.device == like.device else device_put(key, like.device)


def _sample_shape(sample_shape):
    if isinstance(sample_shape, (int, np.integer)):
        return (int(sample_shape),)
    return tuple(int(s) for s in sample_shape)

# ----- gamma draws with implicit derivatives ---------------------------------------------------------


def _dgammainc_da(a, x):
    """``d/da P(a, x)`` in float64, by a central difference of ``gammainc`` (or of ``-gammaincc`` above the
    median, where the upper function keeps its relative accuracy). The step ``1e-5`` of ``a``'s natural
    scale (``a`` itself below 1, ``sqrt(a)`` above) leaves truncation and rounding errors near 1e-8."""
    h = 1e-5 * fnp.where(a < 1.0, a, fnp.sqrt(a))
    lower = (fsp.gammainc(a + h, x) - fsp.gammainc(a - h, x)) / (2.0 * h)
    upper = (fsp.gammaincc(a - h, x) - fsp.gammaincc(a + h, x)) / (2.0 * h)
    return fnp.where(x < a, lower, upper)


@custom_jvp
def _implicit_loggamma(a, log_x):
    """``log_x``, a log standard-gamma draw of shape ``a``, with the implicit derivative in ``a``."""
    return log_x


@_implicit_loggamma.defjvp
def _implicit_loggamma_jvp(primals, tangents):
    a, log_x = primals
    ta, _ = tangents
    a64, lx = fnp.astype(a, "float64"), fnp.astype(log_x, "float64")
    x = fnp.exp(lx)
    # d log x / da = -dP/da / (x p(x)), and x p(x) = x^a e^-x / Gamma(a)
    dlog = -_dgammainc_da(a64, x) * fnp.exp(fsp.gammaln(a64) + x - a64 * lx)
    return log_x, ta * fnp.astype(dlog, log_x.dtype)


def _standard_loggamma(concentration, shape, key):
    """Logs of standard gamma draws of shape ``shape`` (``concentration`` broadcasts to it), differentiable in
    ``concentration`` through the implicit derivative."""
    a = _expand(concentration, shape)
    key = _key(key, a)
    log_x = random.loggamma(key, fnp.stop_gradient(a), shape, a.dtype)
    return _implicit_loggamma(a, log_x)


def _tiny(dtype):
    return float(np.finfo(dtype).tiny)
