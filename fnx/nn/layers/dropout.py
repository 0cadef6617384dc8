"""Dropout layers: ``F.dropout`` and its channel-wise variants, switched off by ``eval()``.

The mask is drawn from the keyword-only ``key=`` of ``forward`` when given,
otherwise from the global generator (``fnx.random.next_key()``), so
``fnx.manual_seed`` makes a training run reproducible.
"""
import numbers

from .. import functional as F
from ..module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout"]


class _DropoutNd(Module):
    _fn = None

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between 0 and 1, but got {p!r}")
        self.p, self.inplace = p, inplace

    def forward(self, input, *, key=None):
        return type(self)._fn(input, self.p, self.training, self.inplace, key=key)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zeroes each element with probability ``p`` while training and scales the rest by ``1 / (1 - p)``;
    the identity in ``eval()`` mode (``torch.nn.Dropout``).

    >>> import fnx
    >>> drop = fnx.nn.Dropout(0.5)
    >>> sorted(set(drop(fnx.numpy.ones(100), key=fnx.random.key(0)).tolist()))
    [0.0, 2.0]
    >>> drop.eval()(fnx.numpy.ones(2))
    Array([1., 1.], dtype=float32)
    """
    _fn = staticmethod(F.dropout)


class Dropout1d(_DropoutNd):
    """Zeroes whole channels of ``(N, C, L)`` or ``(C, L)`` input (``torch.nn.Dropout1d``)."""
    _fn = staticmethod(F.dropout1d)


class Dropout2d(_DropoutNd):
    """Zeroes whole channels of ``(N, C, H, W)`` or ``(C, H, W)`` input (``torch.nn.Dropout2d``)."""
    _fn = staticmethod(F.dropout2d)


class Dropout3d(_DropoutNd):
    """Zeroes whole channels of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` input (``torch.nn.Dropout3d``)."""
    _fn = staticmethod(F.dropout3d)


class AlphaDropout(_DropoutNd):
    """Dropout that keeps SELU's self-normalising mean and variance (``torch.nn.AlphaDropout``)."""
    _fn = staticmethod(F.alpha_dropout)


__all__ += ["FeatureAlphaDropout"]


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels (``torch.nn.FeatureAlphaDropout``); see ``F.feature_alpha_dropout``."""
    _fn = staticmethod(F.feature_alpha_dropout)
