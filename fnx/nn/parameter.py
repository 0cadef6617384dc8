"""Parameter: the one mutable leaf of object-style code.

A Parameter is a slot that holds an immutable array and, after ``backward()``,
its gradient. To every fnx operation it *is* that array: it is a tracer of the
tape (see ``fnx.transforms.autodiff``), so operations that read it are
recorded, and ``loss.backward()`` can find its way back to it. Optimizers,
``load_state_dict`` and ``Module.to`` rebind the slot to a new array; nothing
mutates an array in place.
"""
import weakref

import numpy as np

from .. import numpy as fnp
from ..core.dtypes import is_differentiable
from ..errors import DTypeError, ShapeError
from ..transforms.autodiff import TAPE, Node, ReverseTracer, is_grad_enabled


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

    # ----- PyTorch's in-place updates, for optimizer steps written by hand ------------------------------
    #
    # ``with no_grad(): p -= lr * p.grad`` must update the Parameter: without ``__isub__`` Python would
    # rebind the loop variable and leave the model untouched, silently. Each of these rebinds the slot to
    # the new value in the Parameter's dtype and shape; with gradients recorded they raise PyTorch's error
    # for an in-place change of a leaf that requires grad.

    def _update(self, value):
        if self._requires_grad and is_grad_enabled():
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        value = fnp.asarray(value.primal if isinstance(value, ReverseTracer) else value)
        dtype = self.primal.dtype
        if value.dtype != dtype:
            if not np.can_cast(value.dtype, dtype, casting="same_kind"):
                raise DTypeError(f"Parameter: result type {value.dtype} can't be cast to the parameter's {dtype}")
            value = value.astype(dtype)
        if value.shape != self.primal.shape:
            raise ShapeError(f"Parameter: an in-place result of shape {value.shape} does not fit the parameter's "
                             f"shape {self.primal.shape}")
        self.primal = value
        return self

    def __iadd__(self, other):
        return self._update(self.primal + _plain(other))

    def __isub__(self, other):
        return self._update(self.primal - _plain(other))

    def __imul__(self, other):
        return self._update(self.primal * _plain(other))

    def __itruediv__(self, other):
        return self._update(self.primal / _plain(other))

    def __setitem__(self, index, value):
        return self._update(self.primal.at[index].set(_plain(value)))

    def add_(self, other, *, alpha=1):
        return self._update(self.primal + _plain(other) * alpha)

    def sub_(self, other, *, alpha=1):
        return self._update(self.primal - _plain(other) * alpha)

    def mul_(self, other):
        return self._update(self.primal * _plain(other))

    def div_(self, other):
        return self._update(self.primal / _plain(other))

    def clamp_(self, min=None, max=None):
        return self._update(fnp.clip(self.primal, min, max))

    def zero_(self):
        return self._update(fnp.zeros_like(self.primal))

    def fill_(self, value):
        return self._update(fnp.full_like(self.primal, _plain(value)))

    def copy_(self, src):
        return self._update(fnp.broadcast_to(fnp.asarray(_plain(src)), self.primal.shape))

    def normal_(self, mean=0.0, std=1.0):
        """Draws from N(mean, std^2) with the global generator, as ``fnx.nn.init.normal_``."""
        from . import init
        self._update(self.primal)  # PyTorch's check of a leaf that requires grad
        return init.normal_(self, mean, std)

    def uniform_(self, a=0.0, b=1.0):
        """Draws from U(a, b) with the global generator, as ``fnx.nn.init.uniform_``."""
        from . import init
        self._update(self.primal)
        return init.uniform_(self, a, b)

    def __repr__(self):
        return "Parameter containing:\n" + repr(self.primal)


def _plain(x):
    return x.primal if isinstance(x, ReverseTracer) else x
