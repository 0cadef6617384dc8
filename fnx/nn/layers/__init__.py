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

from .distance import *  # noqa: F401,F403,E402
from .distance import __all__ as _distance  # noqa: E402
from .fold import *  # noqa: F401,F403,E402
from .fold import __all__ as _fold  # noqa: E402
from .padding import *  # noqa: F401,F403,E402
from .padding import __all__ as _padding  # noqa: E402
from .upsampling import *  # noqa: F401,F403,E402
from .upsampling import __all__ as _upsampling  # noqa: E402

__all__ = __all__ + _padding + _upsampling + _distance + _fold

from .adaptive import *  # noqa: F401,F403,E402
from .adaptive import __all__ as _adaptive  # noqa: E402

__all__ = __all__ + _adaptive

from .lazy import *  # noqa: F401,F403,E402
from .lazy import __all__ as _lazy  # noqa: E402

__all__ = __all__ + _lazy
