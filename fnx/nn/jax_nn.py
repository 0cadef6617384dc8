"""``jax.nn``'s functions under their JAX names, signatures and defaults, for JAX code ported by
changing ``jax`` to ``fnx``: ``fnx.nn.relu(x)``, ``fnx.nn.softmax(x, axis=-1)``,
``fnx.nn.gelu(x)`` (the tanh approximation by default, as in JAX; ``fnx.nn.functional.gelu``
is PyTorch's, exact by default), ``fnx.nn.one_hot(labels, 10)`` (floating, as in JAX).

Each is written over ``fnx.nn.functional`` or ``fnx.numpy``, so it differentiates and batches
like the rest. The PyTorch-style layers of ``fnx.nn`` (``ReLU``, ``Softmax``...) are classes and
keep their PyTorch names.
"""
from .. import numpy as fnp
from ..core.dtypes import default_float
from ..scipy import special
from . import functional as F

__all__ = ["relu", "relu6", "sigmoid", "log_sigmoid", "softplus", "soft_sign", "silu", "swish", "gelu", "elu",
           "celu", "selu", "leaky_relu", "glu", "hard_tanh", "hard_sigmoid", "hard_silu", "hard_swish", "mish",
           "squareplus", "tanh", "identity", "softmax", "log_softmax", "logsumexp", "standardize", "one_hot"]


def relu(x):
    return F.relu(x)


def relu6(x):
    return F.relu6(x)


def sigmoid(x):
    return F.sigmoid(x)


def log_sigmoid(x):
    return F.logsigmoid(x)


def softplus(x):
    """``log(1 + exp(x))``."""
    return F.softplus(x)


def soft_sign(x):
    return F.softsign(x)


def silu(x):
    """``x * sigmoid(x)``, also called swish."""
    return F.silu(x)


swish = silu


def gelu(x, approximate=True):
    """The Gaussian error linear unit; ``approximate=True`` (JAX's default) is the tanh approximation."""
    return F.gelu(x, approximate="tanh" if approximate else "none")


def elu(x, alpha=1.0):
    return F.elu(x, alpha)


def celu(x, alpha=1.0):
    return F.celu(x, alpha)


def selu(x):
    return F.selu(x)


def leaky_relu(x, negative_slope=0.01):
    return F.leaky_relu(x, negative_slope)


def glu(x, axis=-1):
    """The first half of ``x`` along ``axis`` gated by the sigmoid of the second."""
    return F.glu(x, axis)


def hard_tanh(x):
    return F.hardtanh(x)


def hard_sigmoid(x):
    """``relu6(x + 3) / 6``."""
    return F.hardsigmoid(x)


def hard_silu(x):
    """``x * hard_sigmoid(x)``, also called hard swish."""
    return F.hardswish(x)


hard_swish = hard_silu


def mish(x):
    return F.mish(x)


def squareplus(x, b=4):
    """``(x + sqrt(x ** 2 + b)) / 2``, a smooth relu without exponentials."""
    x = fnp.asarray(x)
    return (x + fnp.sqrt(x * x + b)) / 2


def tanh(x):
    return fnp.tanh(x)


def identity(x):
    return fnp.asarray(x)


def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x))`` along ``axis`` (an int or a tuple; the last by default)."""
    return special.softmax(x, axis)


def log_softmax(x, axis=-1):
    """``x - logsumexp(x)`` along ``axis`` (an int or a tuple; the last by default)."""
    return special.log_softmax(x, axis)


def standardize(x, axis=-1, mean=None, variance=None, epsilon=1e-5):
    """``(x - mean) / sqrt(variance + epsilon)``, the statistics taken along ``axis`` unless given."""
    x = fnp.asarray(x)
    if mean is None:
        mean = fnp.mean(x, axis=axis, keepdims=True)
    if variance is None:
        variance = fnp.mean(fnp.square(x - mean), axis=axis, keepdims=True)
    return (x - mean) / fnp.sqrt(variance + epsilon)


def one_hot(x, num_classes, *, dtype=None, axis=-1):
    """``x``'s integers as one-hot vectors of length ``num_classes`` along ``axis``, floating by default (JAX's
    ``one_hot``; an index outside ``[0, num_classes)`` gives a row of zeros)."""
    x = fnp.asarray(x)
    hot = fnp.expand_dims(x, -1) == fnp.arange(num_classes, device=x.device)
    hot = hot.astype(dtype or default_float())
    return hot if axis in (-1, hot.ndim - 1) else fnp.moveaxis(hot, -1, axis)


logsumexp = special.logsumexp  # jax.nn.logsumexp is jax.scipy.special.logsumexp
