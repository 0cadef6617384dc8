"""Convolution layers: ``Conv1d/2d/3d`` and ``ConvTranspose1d/2d/3d``.

Each holds ``weight`` (``(out, in / groups, *kernel)``, or ``(in, out / groups,
*kernel)`` for the transposed ones, as in PyTorch) and an optional ``bias``,
initialised as PyTorch does: ``kaiming_uniform_(a=sqrt(5))``, which is
``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, and the bias from the same interval.
The maths is ``F.conv*d``; a ``padding_mode`` other than ``'zeros'`` pads
with ``F.pad`` first and convolves without padding, exactly as PyTorch does.
"""
import math
import numbers

from ... import numpy as fnp
from .. import functional as F
from .. import init
from ..module import Module
from .linear import _empty

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(value, n):
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * n


class _ConvNd(Module):
    _nd = 0
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, output_padding, groups,
                 bias, padding_mode, device, dtype):
        super().__init__()
        name, nd = type(self).__name__, self._nd
        if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups ({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {_PADDING_MODES}, but got "
                             f"padding_mode={padding_mode!r}")
        stride = _ntuple(stride, nd)
        if isinstance(padding, str):
            if padding not in ("same", "valid") or self._transposed:
                raise ValueError(f"{name}: invalid padding string {padding!r}, should be one of "
                                 f"{('valid', 'same') if not self._transposed else 'an int or a tuple'}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided convolutions")
        if self._transposed and padding_mode != "zeros":
            raise ValueError(f'{name}: only "zeros" padding mode is supported for {name}')
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _ntuple(kernel_size, nd)
        self.stride = stride
        self.padding = padding if isinstance(padding, str) else _ntuple(padding, nd)
        self.dilation = _ntuple(dilation, nd)
        self.transposed = self._transposed
        self.output_padding = _ntuple(output_padding, nd)
        self.groups, self.padding_mode = groups, padding_mode
        if padding == "same":
            total = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            pads = [(t // 2, t - t // 2) for t in total]
        elif padding == "valid":
            pads = [(0, 0)] * nd
        else:
            pads = [(p, p) for p in self.padding]
        # F.pad lists (before, after) from the last dimension backwards
        self._reversed_padding_repeated_twice = tuple(v for pair in reversed(pads) for v in pair)
        shape = ((in_channels, out_channels // groups) if self._transposed else
                 (out_channels, in_channels // groups)) + self.kernel_size
        self.weight = _empty(shape, device, dtype)
        if bias:
            self.bias = _empty((out_channels,), device, dtype)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in:
                bound = 1.0 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        nd = self._nd
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, 0, groups, bias,
                         padding_mode, device, dtype)

    def _conv_forward(self, input, weight, bias):
        conv = (F.conv1d, F.conv2d, F.conv3d)[self._nd - 1]
        if self.padding_mode != "zeros":
            input = F.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv(input, weight, bias, self.stride, 0, self.dilation, self.groups)
        return conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-d convolution over ``(N, C_in, L)`` or ``(C_in, L)`` (``torch.nn.Conv1d``).

    >>> import fnx
    >>> conv = fnx.nn.Conv1d(2, 4, 3, padding="same")
    >>> conv
    Conv1d(2, 4, kernel_size=(3,), stride=(1,), padding=same)
    >>> conv(fnx.numpy.ones((5, 2, 7))).shape
    (5, 4, 7)
    """
    _nd = 1


class Conv2d(_Conv):
    """2-d convolution over ``(N, C_in, H, W)`` or ``(C_in, H, W)`` (``torch.nn.Conv2d``).

    Args follow PyTorch: ``kernel_size``, ``stride``, ``padding`` (int, pair,
    ``'same'`` or ``'valid'``), ``dilation``, ``groups``, ``bias`` and
    ``padding_mode`` (``'zeros'``, ``'reflect'``, ``'replicate'``, ``'circular'``).

    >>> import fnx
    >>> conv = fnx.nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
    >>> conv
    Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)
    >>> conv(fnx.numpy.ones((1, 3, 8, 8))).shape
    (1, 8, 4, 4)
    """
    _nd = 2


class Conv3d(_Conv):
    """3-d convolution over ``(N, C_in, D, H, W)`` or ``(C_in, D, H, W)`` (``torch.nn.Conv3d``)."""
    _nd = 3


class _ConvTranspose(_ConvNd):
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, output_padding, groups,
                         bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size):
        """The output padding that makes the output ``output_size`` (PyTorch's rule and message)."""
        if output_size is None:
            return self.output_padding
        nd = self._nd
        x = fnp.asarray(input)
        lead = 2 if x.ndim == nd + 2 else 1
        output_size = tuple(output_size)
        if len(output_size) == lead + nd:
            output_size = output_size[lead:]
        if len(output_size) != nd:
            raise ValueError(f"{type(self).__name__}: output_size must have {nd} or {lead + nd} elements "
                             f"(got {len(output_size)})")
        lo = [(x.shape[lead + i] - 1) * self.stride[i] - 2 * self.padding[i]
              + self.dilation[i] * (self.kernel_size[i] - 1) + 1 for i in range(nd)]
        hi = [m + s - 1 for m, s in zip(lo, self.stride)]
        if any(not a <= o <= b for o, a, b in zip(output_size, lo, hi)):
            raise ValueError(f"{type(self).__name__}: requested an output size of {output_size}, but valid sizes "
                             f"range from {tuple(lo)} to {tuple(hi)} (for an input of {x.shape[lead:]})")
        return tuple(o - m for o, m in zip(output_size, lo))

    def forward(self, input, output_size=None):
        conv = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[self._nd - 1]
        return conv(input, self.weight, self.bias, self.stride, self.padding,
                    self._output_padding(input, output_size), self.groups, self.dilation)


class ConvTranspose1d(_ConvTranspose):
    """1-d transposed convolution (``torch.nn.ConvTranspose1d``); weight ``(C_in, C_out / groups, k)``."""
    _nd = 1


class ConvTranspose2d(_ConvTranspose):
    """2-d transposed convolution (``torch.nn.ConvTranspose2d``): the gradient of a Conv2d with respect to
    its input, used to upsample. ``forward(input, output_size=None)``: ``output_size`` picks the output
    padding that gives that size.

    >>> import fnx
    >>> up = fnx.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    >>> up(fnx.numpy.ones((1, 4, 5, 5)), output_size=(10, 10)).shape
    (1, 2, 10, 10)
    >>> up.weight.shape
    (4, 2, 3, 3)
    """
    _nd = 2


class ConvTranspose3d(_ConvTranspose):
    """3-d transposed convolution (``torch.nn.ConvTranspose3d``)."""
    _nd = 3
