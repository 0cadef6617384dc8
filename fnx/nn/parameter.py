"""Parameter: the one mutable leaf of object-style code.

A Parameter is a slot that holds an immutable array and, after ``backward()``,
its gradient. To every fnx operation it *is* that array: it is a tracer of the
tape (see ``fnx.transforms.autodiff``), so operations that read it are
recorded, and ``loss.backward()`` can find its way back to it. Optimizers,
``load_state_dict`` and ``Module.to`` rebind the slot to a new array; nothing
mutates an array in place.
"""
import weakref

from .. import numpy as fnp
from ..core.dtypes import is_differentiable
from ..errors import ShapeError
from ..transforms.autodiff import TAPE, Node, ReverseTracer


class Parameter(ReverseTracer):
    """A trainable array (``torch.nn.Parameter``).

    Args:
      data: the initial value (anything ``fnx.numpy.asarray`` accepts).
      requires_grad: when False the parameter is a constant to ``backward()``.

    >>> import fnx, fnx.numpy as fnp
    >>> w = fnx.nn.Parameter(fnp.array([1.0, 2.0]))
    >>> fnp.sum(w * w).backward()
    >>> w.grad
    Array([2., 4.], dtype=float32)
    """

    __slots__ = ("grad", "_requires_grad", "__weakref__")

    def __init__(self, data, requires_grad=True):
        value = data.primal if isinstance(data, ReverseTracer) else fnp.asarray(data)
        self._main = TAPE
        self.primal = value
        self.index = 0
        self.grad = None
        self._requires_grad = False
        self.node = None
        self.requires_grad = requires_grad

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        flag = bool(flag)
        if flag and not is_differentiable(self.primal.dtype):
            raise TypeError(f"Parameter: only floating arrays can require gradients, got {self.primal.dtype}")
        self._requires_grad = flag
        self.node = Node(None, weakref.ref(self), (), None, None) if flag else None

    def requires_grad_(self, flag=True):
        self.requires_grad = flag
        return self

    @property
    def data(self):
        """The current value, as a plain (untracked) array."""
        return self.primal

    @data.setter
    def data(self, value):
        self.set_(value)

    def set_(self, value):
        """Rebinds the slot to ``value`` (same shape; dtype and device may change), keeping identity and ``.grad``."""
        value = value.primal if isinstance(value, ReverseTracer) else fnp.asarray(value)
        if value.shape != self.primal.shape:
            raise ShapeError(f"Parameter.set_: new value has shape {value.shape}, the parameter {self.primal.shape}")
        self.primal = value
        return self

    def detach(self):
        return self.primal

    def __repr__(self):
        return "Parameter containing:\n" + repr(self.primal)
