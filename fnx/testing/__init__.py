"""fnx.testing: checkers (and hypothesis strategies) for users' gradients and fnx's own."""
from .close import assert_close
from .checks import check_custom_vjp, check_grads, check_jacobians, check_jvp_vjp_consistent, check_vmap
from .kinks import KinkDistance, kink_distance
