"""Activation layers: each a Module calling the ``F`` function of the same name with its stored options.

Only ``PReLU`` holds a Parameter (its slopes). ``inplace`` is accepted and
shown in reprs as in PyTorch, but arrays are immutable, so a new array is
always returned.
"""
from .. import functional as F
from .. import init
from ..module import Module
from .linear import _empty

__all__ = ["ReLU", "ReLU6", "LeakyReLU", "ELU", "CELU", "SELU", "GELU", "SiLU", "Mish", "Tanh", "Sigmoid",
           "LogSigmoid", "Softplus", "Softsign", "Hardtanh", "Hardsigmoid", "Hardswish", "Hardshrink", "Softshrink",
           "Tanhshrink", "Threshold", "PReLU", "RReLU", "GLU", "Softmax", "LogSoftmax", "Softmin"]


def _inplace(module, lead=""):
    return f"{lead}inplace=True" if module.inplace else ""


class _Simple(Module):
    """An activation without options: ``forward`` is ``_fn(input)``."""
    _fn = None

    def forward(self, input):
        return type(self)._fn(input)


class _Inplace(Module):
    """An activation whose only option is ``inplace``."""
    _fn = None

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self)._fn(input)

    def extra_repr(self):
        return _inplace(self)


class ReLU(_Inplace):
    """``max(0, x)`` (``torch.nn.ReLU``).

    >>> import fnx
    >>> fnx.nn.ReLU()(fnx.numpy.array([-1.0, 2.0]))
    Array([0., 2.], dtype=float32)
    """
    _fn = staticmethod(F.relu)


class ReLU6(_Inplace):
    """``min(max(0, x), 6)`` (``torch.nn.ReLU6``)."""
    _fn = staticmethod(F.relu6)


class SELU(_Inplace):
    """``scale * (max(0, x) + min(0, alpha * (exp(x) - 1)))`` with SELU's constants (``torch.nn.SELU``)."""
    _fn = staticmethod(F.selu)


class SiLU(_Inplace):
    """``x * sigmoid(x)`` (``torch.nn.SiLU``, also called swish)."""
    _fn = staticmethod(F.silu)


class Mish(_Inplace):
    """``x * tanh(softplus(x))`` (``torch.nn.Mish``)."""
    _fn = staticmethod(F.mish)


class Hardsigmoid(_Inplace):
    """``relu6(x + 3) / 6`` (``torch.nn.Hardsigmoid``)."""
    _fn = staticmethod(F.hardsigmoid)

    def extra_repr(self):
        return ""


class Hardswish(_Inplace):
    """``x * relu6(x + 3) / 6`` (``torch.nn.Hardswish``)."""
    _fn = staticmethod(F.hardswish)

    def extra_repr(self):
        return ""


class Tanh(_Simple):
    """Hyperbolic tangent (``torch.nn.Tanh``)."""
    _fn = staticmethod(F.tanh)


class Sigmoid(_Simple):
    """``1 / (1 + exp(-x))`` (``torch.nn.Sigmoid``)."""
    _fn = staticmethod(F.sigmoid)


class LogSigmoid(_Simple):
    """``log(sigmoid(x))``, computed stably (``torch.nn.LogSigmoid``)."""
    _fn = staticmethod(F.logsigmoid)


class Softsign(_Simple):
    """``x / (1 + |x|)`` (``torch.nn.Softsign``)."""
    _fn = staticmethod(F.softsign)


class Tanhshrink(_Simple):
    """``x - tanh(x)`` (``torch.nn.Tanhshrink``)."""
    _fn = staticmethod(F.tanhshrink)


class LeakyReLU(Module):
    """``x`` where positive, else ``negative_slope * x`` (``torch.nn.LeakyReLU``).

    >>> import fnx
    >>> fnx.nn.LeakyReLU(0.1)
    LeakyReLU(negative_slope=0.1)
    """

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input):
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}{_inplace(self, ', ')}"


class ELU(Module):
    """``x`` where positive, else ``alpha * (exp(x) - 1)`` (``torch.nn.ELU``)."""
    _fn = staticmethod(F.elu)

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return type(self)._fn(input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}{_inplace(self, ', ')}"


class CELU(ELU):
    """``max(0, x) + min(0, alpha * (exp(x / alpha) - 1))`` (``torch.nn.CELU``)."""
    _fn = staticmethod(F.celu)


class GELU(Module):
    """``x * Phi(x)``, or its tanh approximation with ``approximate='tanh'`` (``torch.nn.GELU``).

    >>> import fnx
    >>> fnx.nn.GELU()
    GELU(approximate='none')
    """

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """``log(1 + exp(beta * x)) / beta``, linear above ``threshold`` (``torch.nn.Softplus``)."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input):
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """``x`` clipped to ``[min_val, max_val]`` (``torch.nn.Hardtanh``)."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if max_val <= min_val:
            raise ValueError(f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace(self, ', ')}"


class Hardshrink(Module):
    """``x`` where ``|x| > lambd``, else 0 (``torch.nn.Hardshrink``)."""
    _fn = staticmethod(F.hardshrink)

    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return type(self)._fn(input, self.lambd)

    def extra_repr(self):
        return f"{self.lambd}"


class Softshrink(Hardshrink):
    """``x - lambd``, ``x + lambd`` or 0, shrinking towards 0 (``torch.nn.Softshrink``)."""
    _fn = staticmethod(F.softshrink)


class Threshold(Module):
    """``x`` where ``x > threshold``, else ``value`` (``torch.nn.Threshold``)."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}{_inplace(self, ', ')}"


class PReLU(Module):
    """``x`` where positive, else ``a * x`` with a learned slope ``a`` (``weight``, shape
    ``(num_parameters,)``: one slope shared, or one per channel, axis 1), starting at ``init``.

    >>> import fnx
    >>> act = fnx.nn.PReLU()
    >>> act, act.weight.shape
    (PReLU(num_parameters=1), (1,))
    """

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters, self.init = num_parameters, init
        self.weight = _empty((num_parameters,), device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        init.constant_(self.weight, self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class RReLU(Module):
    """Leaky ReLU whose negative slope is drawn from ``U(lower, upper)`` per element while training
    and is ``(lower + upper) / 2`` in evaluation (``torch.nn.RReLU``); ``forward`` takes ``key=``."""

    def __init__(self, lower=1.0 / 8, upper=1.0 / 3, inplace=False):
        super().__init__()
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input, *, key=None):
        return F.rrelu(input, self.lower, self.upper, self.training, key=key)

    def extra_repr(self):
        return f"lower={self.lower}, upper={self.upper}{_inplace(self, ', ')}"


class GLU(Module):
    """Gated linear unit: the first half of ``dim`` times the sigmoid of the second (``torch.nn.GLU``)."""

    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class _SoftmaxFamily(Module):
    _fn = None

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return type(self)._fn(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class Softmax(_SoftmaxFamily):
    """``exp(x) / sum(exp(x))`` along ``dim`` (``torch.nn.Softmax``).

    >>> import fnx
    >>> fnx.nn.Softmax(dim=-1)(fnx.numpy.zeros((1, 4)))
    Array([[0.25, 0.25, 0.25, 0.25]], dtype=float32)
    """
    _fn = staticmethod(F.softmax)


class LogSoftmax(_SoftmaxFamily):
    """``log(softmax(x))`` along ``dim``, computed stably (``torch.nn.LogSoftmax``)."""
    _fn = staticmethod(F.log_softmax)


class Softmin(_SoftmaxFamily):
    """``softmax(-x)`` along ``dim`` (``torch.nn.Softmin``)."""
    _fn = staticmethod(F.softmin)


__all__ += ["Softmax2d"]


class Softmax2d(Module):
    """Softmax over the channels at every location (``torch.nn.Softmax2d``): ``(N, C, H, W)`` or
    ``(C, H, W)`` input, softmax along dimension -3.

    >>> import fnx
    >>> fnx.nn.Softmax2d()(fnx.numpy.zeros((2, 4, 1, 1)))[0, :, 0, 0]
    Array([0.25, 0.25, 0.25, 0.25], dtype=float32)
    """

    def forward(self, input):
        from ... import numpy as fnp
        from ...errors import ShapeError
        x = fnp.asarray(input)
        if x.ndim not in (3, 4):
            raise ShapeError(f"Softmax2d: expected 3D (unbatched) or 4D input, got {x.ndim}D input of shape "
                             f"{x.shape}")
        return F.softmax(x, -3)
