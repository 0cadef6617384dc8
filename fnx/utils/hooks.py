"""``torch.utils.hooks``'s path: the handle every ``register_*_hook`` returns."""
from ..core.hooks import RemovableHandle

__all__ = ["RemovableHandle"]
