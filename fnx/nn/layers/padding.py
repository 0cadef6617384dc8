"""Padding layers: ``ZeroPad*d``, ``ConstantPad*d``, ``ReflectionPad*d``, ``ReplicationPad*d``, ``CircularPad*d``.

Each stores ``padding`` as PyTorch does (an int becomes ``2 * n`` equal widths;
a tuple is kept as given, ``(left, right, top, bottom, front, back)`` from the
last dimension inwards) and its ``forward`` is one call of ``F.pad``. The
non-constant modes take batched or unbatched input: ``(N, C, *spatial)`` or
``(C, *spatial)`` with ``n`` spatial dimensions for ``Pad{n}d``.
"""
import numbers

from ... import numpy as fnp
from ...errors import ShapeError
from .. import functional as F
from ..module import Module

__all__ = ["ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d"]


def _widths(owner, padding, n):
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        return (int(padding),) * (2 * n)
    if isinstance(padding, (tuple, list)) and all(isinstance(p, numbers.Integral) for p in padding):
        return tuple(int(p) for p in padding)
    raise TypeError(f"{owner}: padding must be an int or a tuple of ints, got {padding!r}")


class _PadNd(Module):
    _n = 1
    _mode = "constant"

    def __init__(self, padding):
        super().__init__()
        self.padding = _widths(type(self).__name__, padding, self._n)

    def forward(self, input):
        x = fnp.asarray(input)
        if self._mode != "constant":
            k = len(self.padding) // 2
            if x.ndim not in (k + 1, k + 2):
                raise ShapeError(f"{type(self).__name__}: padding of length {len(self.padding)} pads the last {k} "
                                 f"dimension(s) of a {k + 1}D (unbatched) or {k + 2}D (batched) input, got shape "
                                 f"{x.shape}")
        return F.pad(x, self.padding, self._mode, getattr(self, "value", None))

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pads the last dimension with ``value`` (``torch.nn.ConstantPad1d``); negative widths crop.

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.nn.ConstantPad1d((1, 2), 9.0)(fnp.array([[1., 2.]]))
    Array([[9., 1., 2., 9., 9.]], dtype=float32)
    """
    _n = 1


class ConstantPad2d(_ConstantPadNd):
    """Pads the last two dimensions with ``value`` (``torch.nn.ConstantPad2d``)."""
    _n = 2


class ConstantPad3d(_ConstantPadNd):
    """Pads the last three dimensions with ``value`` (``torch.nn.ConstantPad3d``)."""
    _n = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pads the last dimension with zeros (``torch.nn.ZeroPad1d``)."""
    _n = 1


class ZeroPad2d(_ZeroPadNd):
    """Pads the last two dimensions with zeros (``torch.nn.ZeroPad2d``).

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.nn.ZeroPad2d(1)
    ZeroPad2d((1, 1, 1, 1))
    >>> fnx.nn.ZeroPad2d((1, 0, 0, 1))(fnp.ones((1, 1, 1)))
    Array([[[0., 1.],
            [0., 0.]]], dtype=float32)
    """
    _n = 2


class ZeroPad3d(_ZeroPadNd):
    """Pads the last three dimensions with zeros (``torch.nn.ZeroPad3d``)."""
    _n = 3


class ReflectionPad1d(_PadNd):
    """Pads the last dimension with its mirror image, the edge not repeated (``torch.nn.ReflectionPad1d``).

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.nn.ReflectionPad1d(2)(fnp.array([[1., 2., 3.]]))
    Array([[3., 2., 1., 2., 3., 2., 1.]], dtype=float32)
    """
    _n, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Reflection padding of the last two dimensions (``torch.nn.ReflectionPad2d``)."""
    _n, _mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Reflection padding of the last three dimensions (``torch.nn.ReflectionPad3d``)."""
    _n, _mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Pads the last dimension by repeating its edge values (``torch.nn.ReplicationPad1d``).

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.nn.ReplicationPad1d((1, 2))(fnp.array([[1., 2.]]))
    Array([[1., 1., 2., 2., 2.]], dtype=float32)
    """
    _n, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Replication padding of the last two dimensions (``torch.nn.ReplicationPad2d``)."""
    _n, _mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Replication padding of the last three dimensions (``torch.nn.ReplicationPad3d``)."""
    _n, _mode = 3, "replicate"


class CircularPad1d(_PadNd):
    """Pads the last dimension by wrapping around (``torch.nn.CircularPad1d``).

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.nn.CircularPad1d(1)(fnp.array([[1., 2., 3.]]))
    Array([[3., 1., 2., 3., 1.]], dtype=float32)
    """
    _n, _mode = 1, "circular"


class CircularPad2d(_PadNd):
    """Circular padding of the last two dimensions (``torch.nn.CircularPad2d``)."""
    _n, _mode = 2, "circular"


class CircularPad3d(_PadNd):
    """Circular padding of the last three dimensions (``torch.nn.CircularPad3d``)."""
    _n, _mode = 3, "circular"
