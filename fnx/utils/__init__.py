"""``fnx.utils``: ``torch.utils``'s path, so ``from torch.utils.data import DataLoader`` ports as
``from fnx.utils.data import DataLoader``."""
from . import checkpoint, data, hooks

__all__ = ["checkpoint", "data", "hooks"]
