"""fnx.testing: checkers (and hypothesis strategies) for users' gradients and fnx's own."""
from .checks import check_grads, check_vmap
