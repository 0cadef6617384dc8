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
