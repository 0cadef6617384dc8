"""``torch.backends``'s path, for the switches training scripts set at start-up (``fnx.backends.cudnn``)."""
from . import cudnn

__all__ = ["cudnn"]
