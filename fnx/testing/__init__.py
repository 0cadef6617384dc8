"""fnx.testing: checkers (and hypothesis strategies) for users' gradients and fnx's own."""
from .close import assert_close
from .checks import check_custom_vjp, check_grads, check_jacobians, check_jvp_vjp_consistent, check_vmap
from .kinks import KinkDistance, kink_distance


def __getattr__(name):
    # fnx.testing.strategies after a plain ``import fnx.testing``; imported on first use, since it imports hypothesis
    if name == "strategies":
        import importlib
        return importlib.import_module(".strategies", __name__)
    raise AttributeError(f"module 'fnx.testing' has no attribute {name!r}")
