"""Resampling and rearranging layers: ``Upsample`` (and its fixed-mode forms), ``PixelShuffle``,
``PixelUnshuffle`` and ``ChannelShuffle``, each one call of the ``F`` function of the same name."""
from .. import functional as F
from ..module import Module

__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle", "PixelUnshuffle",
           "ChannelShuffle"]


class Upsample(Module):
    """Resamples ``(N, C, *spatial)`` input to ``size`` or by ``scale_factor`` (``torch.nn.Upsample``); the modes
    and options are those of ``F.interpolate``. ``scale_factor`` is stored as floats, as in PyTorch.

    >>> import fnx, fnx.numpy as fnp
    >>> up = fnx.nn.Upsample(scale_factor=2, mode="nearest")
    >>> up
    Upsample(scale_factor=2.0, mode='nearest')
    >>> up(fnp.array([[[1., 2.]]]))
    Array([[[1., 1., 2., 2.]]], dtype=float32)
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, (tuple, list)):
            self.scale_factor = tuple(float(s) for s in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return F.interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                             recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self):
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour upsampling of ``(N, C, H, W)`` input (``torch.nn.UpsamplingNearest2d``)."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear upsampling with ``align_corners=True`` (``torch.nn.UpsamplingBilinear2d``).

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.nn.UpsamplingBilinear2d(size=(1, 3))(fnp.array([[[[0., 2.]]]]))
    Array([[[[0., 1., 2.]]]], dtype=float32)
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class PixelShuffle(Module):
    """``(*, C r^2, H, W)`` to ``(*, C, H r, W r)`` (``torch.nn.PixelShuffle``); see ``F.pixel_shuffle``.

    >>> import fnx
    >>> fnx.nn.PixelShuffle(2)(fnx.numpy.ones((1, 8, 3, 3))).shape
    (1, 2, 6, 6)
    """

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """``(*, C, H r, W r)`` to ``(*, C r^2, H, W)`` (``torch.nn.PixelUnshuffle``); see ``F.pixel_unshuffle``."""

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return F.pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """Interleaves ``groups`` groups of channels (``torch.nn.ChannelShuffle``); see ``F.channel_shuffle``."""

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return F.channel_shuffle(input, self.groups)

    def extra_repr(self):
        return f"groups={self.groups}"
