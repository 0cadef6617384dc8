"""Parameter: the one mutable leaf of object-style code.

A Parameter is a slot that holds an immutable array and, after ``backward()``,
its gradient. To every fnx operation it *is* that array: it is a tracer of the
tape (see ``fnx.transforms.autodiff``), so operations that read it are
recorded, and ``loss.backward()`` can find its way back to it. Optimizers,
``load_state_dict`` and ``Module.to`` rebind the slot to a new array; nothing
mutates an array in place.

PyTorch code also updates parameters in place, either on the parameter under
``no_grad()`` (``p.mul_(0.5)``) or through ``p.data``, which shares the
parameter's storage and sits outside autograd (``m.weight.data.normal_(0.0,
0.02)``). Both are one code path here: each in-place method is a rule that
computes the out-of-place result from the current value, and the slot is then
rebound to that result in the parameter's dtype and shape. ``p.data`` is a
*view*: an array that reads the parameter's current value and whose in-place
methods rebind the parameter, as PyTorch's shared storage would. ``p.grad`` is
read the same way: a view of the gradient that ``backward()`` adds into, so
``p.grad.zero_()`` clears it as in PyTorch. A basic index of either (integers,
slices) is a view of that part, as in PyTorch: ``bias.data[h:2 * h].fill_(1.0)``.
"""
import weakref

import numpy as np

from .. import numpy as fnp
from ..core.array import _IN_PLACE, Array, wrap as _wrap
from ..core.dtypes import is_differentiable
from ..errors import DeviceError, DTypeError, GradDTypeError, InPlaceError, ShapeError
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

    __slots__ = ("_grad", "_grad_storage", "_requires_grad", "_storage", "__weakref__")

    def __hash__(self):
        # By identity, as PyTorch's tensors: set(model.parameters()) and {p: name} maps work. Arrays are
        # values and unhashable (as NumPy's and JAX's); a Parameter is a slot, the same one for its life.
        return id(self)

    def __init__(self, data, requires_grad=True):
        value = _plain(data) if isinstance(data, (ReverseTracer, _DataView)) else fnp.asarray(data)
        self._main = TAPE
        self.primal = value
        self.index = 0
        self._grad = None
        self._grad_storage = None  # made by the first read of ``.grad``
        self._requires_grad = False
        self._storage = None  # made by the first ``.data``
        self.node = None
        self.requires_grad = requires_grad

    @property
    def grad(self):
        """The accumulated gradient (None until a ``backward()`` reaches this parameter), as PyTorch's tensor.

        It is an array to every fnx operation, and takes PyTorch's in-place methods
        on gradients: ``p.grad.zero_()``, ``p.grad.mul_(scale)``, ``p.grad.clamp_(-1, 1)``,
        ``p.grad[mask] = 0``. As PyTorch's ``.grad`` is one tensor that ``backward()``
        adds into, an array read from ``p.grad`` follows the later accumulations and
        in-place changes, until ``p.grad`` is assigned (or set to None, as
        ``zero_grad()`` does): arrays read before then keep the value they had.

        >>> import fnx, fnx.numpy as fnp
        >>> w = fnx.nn.Parameter(fnp.array([1.0, 2.0]))
        >>> fnp.sum(w * w).backward()
        >>> g = w.grad
        >>> fnp.sum(w * w).backward()
        >>> g
        Array([4., 8.], dtype=float32)
        >>> w.grad.zero_()
        Array([0., 0.], dtype=float32)
        >>> g
        Array([0., 0.], dtype=float32)
        """
        g = self._grad
        if type(g) is not Array:  # None, or with create_graph a recorded value that backward() made
            return g
        if self._grad_storage is None:
            self._grad_storage = _GradStorage(self)
        return _view(self._grad_storage)

    @grad.setter
    def grad(self, value):
        if value is not None:
            value = _plain(value) if isinstance(value, (ReverseTracer, _DataView)) else fnp.asarray(value)
            like = self.primal
            if value.shape != like.shape:
                raise ShapeError(f"assigning Parameter.grad: the gradient has shape {value.shape}, the parameter "
                                 f"{like.shape}")
            if value.dtype != like.dtype:
                raise DTypeError(f"assigning Parameter.grad: the gradient has dtype {value.dtype}, the parameter "
                                 f"{like.dtype}")
            if value.device != like.device:
                raise DeviceError(f"assigning Parameter.grad: the gradient is on {value.device}, the parameter on "
                                  f"{like.device}; fnx never moves data silently (use g.to(p.device))")
        if self._grad_storage is not None:  # arrays read from .grad so far keep this value, as PyTorch's old tensor
            self._grad_storage = self._grad_storage.release(self._grad)
        self._grad = value

    def _zero_grad(self, set_to_none):
        """``zero_grad()`` for this parameter: to None, or (as PyTorch) to zeros in place of the gradient."""
        if self._grad is not None:
            if set_to_none:
                self.grad = None
            else:
                self._grad = fnp.zeros_like(self._grad)

    def _write_grad(self, value):
        """Replaces the gradient's value in place, as PyTorch's in-place ops on ``.grad`` (clipping, unscaling):
        arrays read from ``.grad`` see it. A recorded gradient (``create_graph=True``) is rebound instead."""
        if type(self._grad) is Array:
            self._grad = _fit("Parameter.grad", _plain(value), self._grad)
        else:
            self.grad = value

    def _accumulate_grad(self, g):
        """Adds ``g`` to the gradient, as ``backward()`` does: arrays read from ``.grad`` see the sum. A recorded
        sum (``create_graph=True``) is a new gradient, as PyTorch's out-of-place sum is there: they keep theirs."""
        new = g if self._grad is None else self._grad + g
        if type(new) is not Array and self._grad_storage is not None:
            self._grad_storage = self._grad_storage.release(self._grad)
        self._grad = new

    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        flag = bool(flag)
        if flag and not is_differentiable(self.primal.dtype):
            raise GradDTypeError(f"only floating point and complex arrays can require gradients, got "
                                 f"{self.primal.dtype}")
        self._requires_grad = flag
        self.node = Node(None, weakref.ref(self), (), None, None) if flag else None

    def requires_grad_(self, flag=True):
        self.requires_grad = flag
        return self

    @property
    def data(self):
        """The current value, untracked by autograd, as a view whose in-place methods update the parameter.

        It is an array to every fnx operation. As PyTorch's ``.data`` shares the
        parameter's storage, the view reads the parameter's value at each use, and
        ``p.data.mul_(2)`` (or ``fill_``, ``normal_``, ``clamp_``, ``copy_``...)
        rebinds the parameter itself, with gradients recorded or not. Assigning
        ``p.data = x`` gives the parameter new storage: views taken before keep
        the value they had.

        >>> import fnx, fnx.numpy as fnp
        >>> w = fnx.nn.Parameter(fnp.array([1.0, -3.0]))
        >>> w.data.clamp_(-2.0, 2.0)
        Array([ 1., -2.], dtype=float32)
        >>> w.primal
        Array([ 1., -2.], dtype=float32)
        """
        if self._storage is None:
            self._storage = _Storage(self)
        return _view(self._storage)

    @data.setter
    def data(self, value):
        value = _plain(value)  # read before the storage is let go: ``p.data = p.data`` is a no-op
        if self._storage is not None:  # views taken so far keep this value, as PyTorch's old storage does
            self._storage = self._storage.release(self.primal)
        self.set_(value)

    def set_(self, value):
        """Rebinds the slot to ``value`` (same shape; dtype and device may change), keeping identity and ``.grad``."""
        if type(value) is not Array:  # (an optimizer's step hands it arrays: nothing to convert)
            value = _plain(value) if isinstance(value, (ReverseTracer, _DataView)) else fnp.asarray(value)
        if value.shape != self.primal.shape:
            raise ShapeError(f"Parameter.set_: new value has shape {value.shape}, the parameter {self.primal.shape}")
        self.primal = value
        return self

    def detach(self):
        return self.primal

    # ----- PyTorch's in-place updates, for optimizer steps written by hand ------------------------------
    #
    # ``with no_grad(): p -= lr * p.grad`` must update the Parameter: without ``__isub__`` Python would
    # rebind the loop variable and leave the model untouched, silently. The methods are installed from
    # _RULES below; with gradients recorded they raise PyTorch's error for an in-place change of a leaf
    # that requires grad (``p.data``'s methods don't: PyTorch's ``.data`` is outside autograd).

    def _in_place(self, name, rule, args, kwargs):
        if self._requires_grad and is_grad_enabled():
            # Checked before the rule runs, so that a refused normal_ draws nothing from the generator.
            raise RuntimeError(f"{name}: a leaf Variable that requires grad is being used in an in-place "
                               "operation. Wrap the update in fnx.no_grad(), or apply it to p.data")
        self.primal = _fit(name, rule(self.primal, *_plain_args(args), **_plain_kwargs(kwargs)), self.primal)
        return self

    def __reduce__(self):
        # The graph node holds a weak reference and belongs to this process's tape: a new one is made on
        # load. ``.grad`` is not saved, as in PyTorch; pickle's memo keeps a shared Parameter shared.
        return _rebuild_parameter, (type(self), self.primal, self._requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + repr(self.primal)


class LeafTensor(Parameter):
    """A tensor made with ``requires_grad=True`` (``fnx.tensor(..., requires_grad=True)``, ``fnx.zeros(...,
    requires_grad=True)``, ``x.requires_grad_()``): it gathers ``.grad`` as a Parameter does but, as PyTorch's
    leaf tensors, is no module parameter. A module keeps it as a plain attribute (not in ``parameters()`` or
    ``state_dict``), and it prints as an array that requires grad."""

    __slots__ = ()

    def __repr__(self):
        return repr(self.primal)[:-1] + ", requires_grad=True)"


def _rebuild_parameter(cls, value, requires_grad):
    # Parameter.__init__ rather than cls(...): UninitializedParameter's constructor takes no value.
    p = cls.__new__(cls)
    Parameter.__init__(p, value, requires_grad)
    return p


class _Storage:
    """What the ``.data`` views of one parameter share: the parameter while it still holds this storage,
    afterwards (``p.data = x`` gave it a new one) the value it had then."""

    __slots__ = ("param", "value")

    def __init__(self, param):
        self.param, self.value = param, None

    _slot = "primal"  # the parameter's attribute this storage stands for

    def current(self):
        return self.value if self.param is None else getattr(self.param, self._slot)

    def write(self, value):
        if self.param is None:
            self.value = value
        else:
            setattr(self.param, self._slot, value)

    def release(self, value):
        """Parts from the parameter, keeping ``value`` for the views; returns None (the parameter's new storage)."""
        self.param, self.value = None, value


def _view(storage):
    view = object.__new__(_DataView)
    view._storage = storage
    return view


class _GradStorage(_Storage):
    """What the arrays read from one parameter's ``.grad`` share: its gradient while it is not reassigned,
    afterwards the value it had then."""

    __slots__ = ()
    _slot = "_grad"


class _Region(_Storage):
    """What a basic index of a view shares (``p.data[4:8]``, ``p.grad[0]``): that part of the view's storage,
    read and written through it, as PyTorch's views of a tensor share its memory."""

    __slots__ = ("whole", "index")

    def __init__(self, whole, index):
        self.whole, self.index = whole, index

    def current(self):
        whole = self.whole.current()
        return _wrap(whole._value[self.index], whole._device)

    def write(self, value):
        self.whole.write(self.whole.current().at[self.index].set(value))


def _is_basic(index):
    """Whether ``index`` selects a view in PyTorch and NumPy (integers, slices, None, ...), not a copy."""
    parts = index if type(index) is tuple else (index,)
    return all(p is None or p is Ellipsis or type(p) is slice or
               (isinstance(p, (int, np.integer)) and not isinstance(p, (bool, np.bool_))) for p in parts)


class _DataView(Array):
    """``Parameter.data``: an array reading its storage's current value, with PyTorch's in-place methods."""

    __slots__ = ("_storage",)

    # Read at every use, so the view follows the parameter's later updates (optimizer steps, set_).
    _value = property(lambda self: self._storage.current()._value)
    _device = property(lambda self: self._storage.current()._device)

    def __getitem__(self, index):
        # A basic index is a view, so ``lstm.bias_ih_l0.data[4:8].fill_(1.0)`` writes into the parameter; an
        # advanced one (masks, index arrays) is a copy in PyTorch, and a plain (immutable) array here.
        if _is_basic(index):
            return _view(_Region(self._storage, index))
        return Array.__getitem__(self, index)

    def _in_place(self, name, rule, args, kwargs):
        storage = self._storage
        before = storage.current()
        storage.write(_fit(name, rule(before, *_plain_args(args), **_plain_kwargs(kwargs)), before))
        return self

    # A copy or a pickle is a snapshot, not another view: it must not write to the parameter.
    def __copy__(self):
        return self._storage.current()

    def __deepcopy__(self, memo):
        return self._storage.current()

    def __reduce_ex__(self, protocol):
        return _snapshot, (self._storage.current(),)


def _snapshot(value):
    return value


def _plain(x):
    if isinstance(x, ReverseTracer):
        return x.primal
    if type(x) is _DataView:
        return x._storage.current()
    return x


def _plain_args(args):
    return [_plain(a) for a in args]


def _plain_kwargs(kwargs):
    return {k: _plain(v) for k, v in kwargs.items()}


def _fit(name, value, like):
    """``value`` as the new content of a slot holding ``like``: PyTorch's in-place rule keeps the dtype
    (casting only within a kind, so a float result never truncates into an integer parameter) and the shape."""
    value = fnp.asarray(value)
    dtype = like.dtype
    if value.dtype != dtype:
        if not np.can_cast(value.dtype, dtype, casting="same_kind"):
            raise DTypeError(f"{name}: result type {value.dtype} can't be cast to the parameter's {dtype}")
        value = value.astype(dtype)
    if value.shape != like.shape:
        raise ShapeError(f"{name}: an in-place result of shape {value.shape} does not fit the parameter's "
                         f"shape {like.shape}")
    return value


# ----- the in-place rules: (current value, PyTorch's arguments) -> the new value -----------------------

def _scaled(other, alpha):
    return other if alpha == 1 else other * alpha  # alpha 1 leaves an integer operand's dtype alone


def _div(x, other, *, rounding_mode=None):
    if rounding_mode is None:
        return x / other
    if rounding_mode == "floor":
        return fnp.floor_divide(x, other)  # PyTorch's documented equivalent: Python's //
    if rounding_mode == "trunc":
        q = x / other
        exact = fnp.result_type(x, other).kind in "iub"
        return fnp.trunc(q).astype(fnp.result_type(x, other)) if exact else fnp.trunc(q)
    raise ValueError(f"div_: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")


def _clamp(x, min=None, max=None):
    if min is None and max is None:
        raise ValueError("clamp_: at least one of min and max must not be None")
    return fnp.clip(x, min, max)


def _copy(x, src, non_blocking=False):
    src = fnp.asarray(src)
    if src.device is not x.device:  # copy_ is PyTorch's explicit way to move data between devices
        src = src.to(x.device)
    return fnp.broadcast_to(src, x.shape)


def _lerp(x, end, weight):
    # PyTorch's two-sided formula, exact at both ends: start + w (end - start) below w = 0.5, end - (end - start)(1 - w) above.
    diff = end - x
    return fnp.where(fnp.abs(fnp.asarray(weight)) < 0.5, x + weight * diff, end - diff * (1 - weight))


def _masked_fill(x, mask, value):
    mask = fnp.asarray(mask)
    if mask.dtype != np.bool_:
        raise DTypeError(f"masked_fill_: the mask must be boolean, got {mask.dtype}")
    return fnp.where(mask, fnp.full_like(x, value), x)


def _along(x, dim):
    dim = dim % max(x.ndim, 1)
    return dim, [1 if d != dim else x.shape[d] for d in range(x.ndim)]


def _index_fill(x, dim, index, value):
    dim, shape = _along(x, dim)
    hit = fnp.zeros(x.shape[dim] if x.ndim else 1, dtype=bool).at[fnp.asarray(index)].set(True)
    return fnp.where(fnp.reshape(hit, shape), fnp.full_like(x, value), x)


def _index_add(x, dim, index, source, *, alpha=1):
    dim, _ = _along(x, dim)
    moved = fnp.moveaxis(x, dim, 0).at[fnp.asarray(index)].add(fnp.moveaxis(_scaled(fnp.asarray(source), alpha),
                                                                                dim, 0))
    return fnp.moveaxis(moved, 0, dim)


def _fill_diagonal(x, fill_value, wrap=False):
    # NumPy's fill_diagonal, which PyTorch's follows: every (cols + 1)-th element of the flattened array,
    # and for a tall matrix without wrap only the top square.
    if x.ndim < 2 or (x.ndim > 2 and len(set(x.shape)) != 1):
        raise ShapeError(f"fill_diagonal_: needs at least 2 dimensions, all of one length beyond 2; got {x.shape}")
    step = x.shape[1] + 1 if x.ndim == 2 else 1 + int(np.cumprod(x.shape[:-1]).sum())
    end = x.size if wrap or x.ndim > 2 else min(x.size, x.shape[1] * x.shape[1])
    flat = fnp.reshape(x, (-1,)).at[np.arange(0, end, step)].set(fill_value)
    return fnp.reshape(flat, x.shape)


def _torch():
    import sys
    return sys.modules["fnx.tensor"]  # PyTorch's functions of the top level (the name fnx.tensor is the function)


def _random(draw, names=None):
    def rule(x, *args, **kwargs):
        from . import init  # init imports this module
        if names:  # Tensor.uniform_'s from=/to= are init.uniform_'s a/b
            kwargs = {names.get(k, k): v for k, v in kwargs.items()}
        return getattr(init, draw)(x, *args, **kwargs)  # a new array drawn from the global generator
    return rule


_RULES = {
    "add_": lambda x, other, *, alpha=1: x + _scaled(other, alpha),
    "sub_": lambda x, other, *, alpha=1: x - _scaled(other, alpha),
    "mul_": lambda x, other: x * other,
    "div_": _div,
    "pow_": lambda x, exponent: x ** exponent,
    "neg_": lambda x: -x,
    "abs_": fnp.abs,
    "sqrt_": fnp.sqrt,
    "exp_": fnp.exp,
    "log_": fnp.log,
    "sin_": fnp.sin,
    "cos_": fnp.cos,
    "tanh_": fnp.tanh,
    "sigmoid_": lambda x: x.sigmoid(),
    "relu_": lambda x: x.relu(),
    "floor_": fnp.floor,
    "round_": lambda x, *, decimals=0: fnp.round(x, decimals),
    "sign_": fnp.sign,
    "clamp_": _clamp,
    "clip_": _clamp,
    "clamp_min_": lambda x, min: fnp.clip(x, min, None),
    "clamp_max_": lambda x, max: fnp.clip(x, None, max),
    "zero_": fnp.zeros_like,
    "fill_": lambda x, value: fnp.full_like(x, value),
    "copy_": _copy,
    "lerp_": _lerp,
    "addcmul_": lambda x, tensor1, tensor2, *, value=1: x + value * tensor1 * tensor2,
    "addcdiv_": lambda x, tensor1, tensor2, *, value=1: x + value * tensor1 / tensor2,
    "masked_fill_": _masked_fill,
    "index_fill_": _index_fill,
    "index_add_": _index_add,
    "fill_diagonal_": _fill_diagonal,
    "index_copy_": lambda x, dim, index, source: _torch().index_copy(x, dim, index, source),
    "scatter_": lambda x, dim, index, src=None, **kw: _torch().scatter(x, dim, index, src, **kw),
    "scatter_add_": lambda x, dim, index, src: _torch().scatter_add(x, dim, index, src),
    "masked_scatter_": lambda x, mask, source: _torch().masked_scatter(x, mask, source),
    "tril_": lambda x, diagonal=0: fnp.tril(x, diagonal),
    "triu_": lambda x, diagonal=0: fnp.triu(x, diagonal),
    "reciprocal_": fnp.reciprocal,
    "normal_": _random("normal_"),
    "uniform_": _random("uniform_", {"from": "a", "to": "b"}),
    "__setitem__": lambda x, index, value: x.at[index].set(value),
}
# Python's augmented assignments on a Parameter or a view: without them ``p -= g`` would rebind the name.
_OPERATORS = {"__iadd__": "add_", "__isub__": "sub_", "__imul__": "mul_", "__itruediv__": "div_"}


def _method(name, rule):
    def method(self, *args, **kwargs):
        return self._in_place(name, rule, args, kwargs)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"PyTorch's in-place ``{name}``: rebinds the parameter to the result, in its dtype and shape."
    return method


def _refused(name):
    def method(self, *args, **kwargs):
        raise InPlaceError(f"{name}: a Parameter keeps its shape and takes only PyTorch's value updates in place "
                           f"({', '.join(n for n in _RULES if not n.startswith('_'))}); compute the new value and "
                           f"store it with p.data.copy_(value)")
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"PyTorch's in-place ``{name}``: not supported on a Parameter, saying what to write."
    return method


for _cls in (Parameter, _DataView):
    for _name, _rule in _RULES.items():
        setattr(_cls, _name, _method(_name, _rule))
    for _name, _alias in _OPERATORS.items():
        setattr(_cls, _name, _method(_alias, _RULES[_alias]))
    for _name in set(_IN_PLACE) - set(_RULES):  # plain arrays' refusal would claim a Parameter takes them
        setattr(_cls, _name, _refused(_name))
# ``p.data`` and ``p.grad`` are outside autograd already, so PyTorch's ``detach_`` leaves them as they are
# (``p.grad.detach_(); p.grad.zero_()`` is how older PyTorch code clears a gradient).
_DataView.detach_ = lambda self: self
