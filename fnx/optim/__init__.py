"""fnx.optim: optimizers written once as pure rules, with PyTorch's classes on top.

``fnx.optim.adam(lr=1e-3)`` is a :class:`Rule`, a pair of pure functions
(``init``, ``update``) over pytrees, for functional training loops;
``fnx.optim.Adam(model.parameters(), lr=1e-3)`` is ``torch.optim.Adam``, and
its ``step()`` applies that same rule to each Parameter's ``.grad``.
``fnx.optim.lr_scheduler`` holds the schedules, both as pure functions of the
step and as PyTorch's scheduler classes.
"""
from .rules import Rule, adagrad, adam, adamw, rmsprop, sgd
from .wrappers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from . import lr_scheduler

__all__ = ["Rule", "sgd", "adam", "adamw", "rmsprop", "adagrad", "Optimizer", "SGD", "Adam", "AdamW", "RMSprop",
           "Adagrad", "lr_scheduler"]
