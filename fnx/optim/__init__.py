"""fnx.optim: optimizers written once as pure rules, with PyTorch's classes on top.

``fnx.optim.adam(lr=1e-3)`` is a :class:`Rule`, a pair of pure functions
(``init``, ``update``) over pytrees, for functional training loops;
``fnx.optim.Adam(model.parameters(), lr=1e-3)`` is ``torch.optim.Adam``, and
its ``step()`` applies that same rule to each Parameter's ``.grad``.
``fnx.optim.lr_scheduler`` holds the schedules, both as pure functions of the
step and as PyTorch's scheduler classes; ``fnx.optim.swa_utils`` the weight
averaging of SWA and EMA (``AveragedModel``, ``SWALR``, ``update_bn``).
"""
from .rules import Rule, adagrad, adam, adamw, rmsprop, sgd
from .wrappers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from . import lr_scheduler

__all__ = ["Rule", "sgd", "adam", "adamw", "rmsprop", "adagrad", "Optimizer", "SGD", "Adam", "AdamW", "RMSprop",
           "Adagrad", "lr_scheduler"]

from .rules import adadelta, adafactor, adamax, asgd, nadam, radam, rprop  # noqa: E402
from .wrappers import ASGD, LBFGS, Adadelta, Adafactor, Adamax, NAdam, RAdam, Rprop  # noqa: E402

__all__ += ["adamax", "nadam", "radam", "adadelta", "rprop", "asgd", "Adamax", "NAdam", "RAdam", "Adadelta",
            "Rprop", "ASGD", "LBFGS", "adafactor", "Adafactor"]

from . import swa_utils  # noqa: E402

__all__ += ["swa_utils"]

# ``torch.optim.optimizer``'s path, which custom optimizers import from (``from torch.optim.optimizer import
# Optimizer, required``): the same class, and the sentinel for a hyper-parameter without a default.
import sys as _sys  # noqa: E402
import types as _types  # noqa: E402


class _RequiredParameter:
    """A hyper-parameter that has no default and must be given (``torch.optim.optimizer.required``)."""

    def __repr__(self):
        return "<required parameter>"


optimizer = _types.ModuleType(__name__ + ".optimizer", "``torch.optim.optimizer``: Optimizer and required.")
optimizer.Optimizer, optimizer.required = Optimizer, _RequiredParameter()
_sys.modules[optimizer.__name__] = optimizer
