"""fnx.nn: PyTorch-style modules, thin stateful layers over the functional core."""
from .module import Module
from .parameter import Parameter
from .stateless import functional_call
from . import utils
