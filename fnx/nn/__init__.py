"""fnx.nn: PyTorch-style modules, thin stateful layers over the functional core."""
from .module import Buffer, Module
from .parameter import Parameter
from .stateless import functional_call
from . import utils
from . import functional, init, initializers
from . import layers, parallel
from .parallel import DataParallel
from .layers import *  # noqa: F401,F403  every layer class: Linear, Conv2d, LSTM, Sequential, CrossEntropyLoss...
from .jax_nn import *  # noqa: F401,F403  jax.nn's functions: relu, softmax(x, axis=-1), gelu, one_hot...
from . import modules  # noqa: E402  torch.nn.modules' import paths, over the names above
