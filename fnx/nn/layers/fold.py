"""``Unfold`` (im2col) and ``Fold`` (col2im), over ``F.unfold`` and ``F.fold``."""
from .. import functional as F
from ..module import Module

__all__ = ["Fold", "Unfold"]


class Fold(Module):
    """Sums columns of sliding blocks back into an image (``torch.nn.Fold``): ``(N, C kH kW, L)`` to
    ``(N, C, *output_size)``.

    >>> import fnx
    >>> fold = fnx.nn.Fold(output_size=(3, 3), kernel_size=2)
    >>> fold(fnx.numpy.ones((1, 4, 4)))[0, 0]
    Array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]], dtype=float32)
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return F.fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Unfold(Module):
    """Extracts sliding blocks as columns (``torch.nn.Unfold``): ``(N, C, H, W)`` to ``(N, C kH kW, L)``.

    >>> import fnx
    >>> fnx.nn.Unfold(kernel_size=2)(fnx.numpy.ones((1, 3, 4, 5))).shape
    (1, 12, 12)
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return F.unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")
