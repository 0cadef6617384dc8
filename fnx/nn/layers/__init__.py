"""PyTorch's layers as thin Modules over ``fnx.nn.functional``.

Each layer stores its options and its Parameters (with PyTorch's names,
shapes and default initialisation, so ``state_dict`` keys and shapes match
PyTorch's) and its ``forward`` is one or a few calls of ``F``. Everything
random (initialisation, dropout) draws from the global generator unless an
explicit ``key=`` is given, so ``fnx.manual_seed`` makes models reproducible.
"""
from .activation import *  # noqa: F401,F403
from .activation import __all__ as _activation
from .attention import *  # noqa: F401,F403
from .attention import __all__ as _attention
from .containers import *  # noqa: F401,F403
from .containers import __all__ as _containers
from .conv import *  # noqa: F401,F403
from .conv import __all__ as _conv
from .dropout import *  # noqa: F401,F403
from .dropout import __all__ as _dropout
from .embedding import *  # noqa: F401,F403
from .embedding import __all__ as _embedding
from .linear import *  # noqa: F401,F403
from .linear import __all__ as _linear
from .loss import *  # noqa: F401,F403
from .loss import __all__ as _loss
from .norm import *  # noqa: F401,F403
from .norm import __all__ as _norm
from .pooling import *  # noqa: F401,F403
from .pooling import __all__ as _pooling
from .recurrent import *  # noqa: F401,F403
from .recurrent import __all__ as _recurrent

__all__ = (_linear + _conv + _pooling + _norm + _dropout + _embedding + _recurrent + _attention + _containers
           + _activation + _loss)
