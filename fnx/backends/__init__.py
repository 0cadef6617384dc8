"""``torch.backends``'s path, for the switches training scripts set at start-up (``fnx.backends.cudnn``)."""
from . import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]
