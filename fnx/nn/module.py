"""Module: PyTorch's object face over fnx's functional core.

A Module owns three ordered dictionaries, filled by attribute assignment as in
PyTorch: parameters (:class:`Parameter` slots), buffers (plain arrays such as
running statistics, rebound rather than mutated) and submodules. Their dotted
names (``encoder.0.weight``) are the keys of ``state_dict`` and of the
dictionaries ``functional_call`` takes.

Every Module subclass is also a pytree (registered in ``__init_subclass__``):
its children are its parameters, buffers and submodules in registration order;
everything else is static. Unflattening builds a copy without calling
``__init__`` (as Equinox does), so ``fnx.grad(loss)(model)`` and
``fnx.tree.map`` work on models directly, and ``functional_call`` can run a
copy of the model with other arrays in place of its parameters: pure and
thread-safe, which is what makes ``vmap(grad(...))`` over a Module work.
"""
import copy
import functools
from collections import OrderedDict, namedtuple

import numpy as np

from ..core import tree as tree_util
from ..core.array import Array, wrap
from ..core.dtypes import is_differentiable
from ..core.hooks import add_hook
from .parameter import LeafTensor, Parameter, _DataView, _Storage, _view

_EXTRA_STATE = "_extra_state"  # the state_dict entry of a module's get_extra_state(), as PyTorch names it


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns, printed as PyTorch's."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


IncompatibleKeys = _IncompatibleKeys


class _BufferStorage(_Storage):
    """What the arrays read from a module's buffer share: the buffer, while the module holds it under that
    name, so that PyTorch's in-place updates of buffers (``self.queue[:, i:j] = keys.T``,
    ``self.ema.mul_(m).add_(x, alpha=1 - m)``) write into the module."""

    __slots__ = ("module", "name")

    def __init__(self, module, name):
        self.module, self.name, self.param, self.value = module, name, None, None

    def current(self):
        return self.module.__dict__["_buffers"][self.name]

    def write(self, value):
        self.module.__dict__["_buffers"][self.name] = value


def _buffer_view(module, name, value):
    """A buffer as its module hands it out: a view for a concrete array (a traced one, inside
    ``functional_call`` or a transform, as it is)."""
    return _view(_BufferStorage(module, name)) if type(value) is Array else value


def _plain_buffer(value):
    return value._storage.current() if type(value) is _DataView else value


class Buffer(Array):
    """``torch.nn.Buffer``: an array that, assigned to a module's attribute, becomes a buffer of the module
    (``self.mean = nn.Buffer(fnp.zeros(3))``), in ``state_dict`` unless ``persistent=False``; the module
    holds it as a plain array.

    >>> import fnx, fnx.numpy as fnp
    >>> class Counter(fnx.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.count = fnx.nn.Buffer(fnp.zeros(()))
    ...         self.scratch = fnx.nn.Buffer(fnp.ones(2), persistent=False)
    >>> list(Counter().state_dict()), [n for n, _ in Counter().named_buffers()]
    (['count'], ['count', 'scratch'])
    """

    __slots__ = ("persistent",)

    def __new__(cls, data=None, *, persistent=True):
        from .. import numpy as fnp
        value = fnp.asarray(data) if data is not None else fnp.zeros((0,))  # torch's Buffer() is empty
        buffer = object.__new__(cls)
        buffer._value, buffer._device, buffer.persistent = value._value, value._device, bool(persistent)
        return buffer

    def __init__(self, data=None, *, persistent=True):
        pass


class Module:
    """Base class of every layer and model (``torch.nn.Module``).

    >>> import fnx, fnx.numpy as fnp
    >>> class Affine(fnx.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = fnx.nn.Parameter(fnp.ones(2))
    ...         self.register_buffer("shift", fnp.zeros(2))
    ...     def forward(self, x):
    ...         return x * self.w + self.shift
    >>> m = Affine()
    >>> [name for name, _ in m.named_parameters()], list(m.state_dict())
    (['w'], ['w', 'shift'])
    """

    def __init__(self):
        d = self.__dict__
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_backward_hooks"] = OrderedDict()
        d["_backward_pre_hooks"] = OrderedDict()
        d["training"] = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        tree_util.register_node(cls, _flatten_module, _unflatten_module, _module_keys)

    # ----- registration --------------------------------------------------------------

    def _check_init(self):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning parameters, "
                                 "buffers or submodules")

    def __setattr__(self, name, value):
        d = self.__dict__
        if isinstance(value, Parameter) and type(value) is not LeafTensor:  # a requires_grad tensor: an attribute
            self._check_init()
            self._remove_from(name, keep="_parameters")
            d["_parameters"][name] = value  # a reassigned name keeps its place, as in PyTorch
        elif isinstance(value, Module):
            self._check_init()
            self._remove_from(name, keep="_modules")
            d["_modules"][name] = value
        elif type(value) is Buffer:
            self._non_persistent.discard(name)
            self.register_buffer(name, wrap(value._value, value._device), value.persistent)
        elif "_parameters" in d and name in d["_parameters"]:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as parameter {name!r} "
                                "(fnx.nn.Parameter or None expected)")
            d["_parameters"][name] = value
        elif "_buffers" in d and name in d["_buffers"]:
            if value is not None and not isinstance(value, Array):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer {name!r} (an array or None expected)")
            d["_buffers"][name] = _plain_buffer(value)
        elif "_modules" in d and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} as child module {name!r} "
                                "(fnx.nn.Module or None expected)")
            d["_modules"][name] = value
        else:
            object.__setattr__(self, name, value)

    def _remove_from(self, name, keep=None):
        d = self.__dict__
        d.pop(name, None)
        for table in ("_parameters", "_buffers", "_modules"):
            if table != keep:
                d[table].pop(name, None)
        d["_non_persistent"].discard(name)

    def __getattr__(self, name):
        d = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            t = d.get(table)
            if t is not None and name in t:
                return _buffer_view(self, name, t[name]) if table == "_buffers" else t[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        d = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            if name in d.get(table, ()):
                del d[table][name]
                d["_non_persistent"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))

    def _check_name(self, kind, name, table):
        """PyTorch's checks of a name given to register_parameter, register_buffer or add_module: a string,
        not empty, without '.' (which would read as a submodule's path in ``state_dict``), and not taken by
        another attribute."""
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f"{kind} name can't contain \".\", got: {name}")
        if not name:
            raise KeyError(f"{kind} name can't be empty string \"\"")
        if name not in self.__dict__[table] and hasattr(self, name):
            raise KeyError(f"attribute '{name}' already exists")

    def register_parameter(self, name, param):
        self._check_init()
        self._check_name("parameter", name, "_parameters")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter({name!r}): expected a fnx.nn.Parameter or None, "
                            f"got {type(param).__name__}")
        self._remove_from(name, keep="_parameters")  # a name registered again keeps its place in the order
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """A named array saved in ``state_dict`` (unless ``persistent=False``) but not trained. Read from the
        module (``self.name``, ``buffers()``), it takes PyTorch's in-place updates, which write into the
        module: ``self.queue[:, i:j] = keys.T``, ``self.ema.mul_(0.9)``, ``self.steps += 1``."""
        self._check_init()
        self._check_name("buffer", name, "_buffers")
        if tensor is not None and not isinstance(tensor, Array):
            if not isinstance(tensor, np.ndarray):
                raise TypeError(f"register_buffer: cannot assign {type(tensor).__name__!r} object to buffer "
                                f"{name!r} (an array or None required)")
            from .. import numpy as fnp
            tensor = fnp.asarray(tensor)
        tensor = _plain_buffer(tensor)  # a view read from another buffer: its value, not a link to that buffer
        self._remove_from(name, keep="_buffers")
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        self._check_init()
        self._check_name("module", name, "_modules")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module({name!r}): {type(module).__name__} is not a Module")
        self._remove_from(name, keep="_modules")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        mod = self
        for part in target.split(".") if target else []:
            if part not in mod._modules:
                raise AttributeError(f"{type(mod).__name__} has no submodule {part!r}")
            mod = mod._modules[part]
        return mod

    def get_parameter(self, target):
        path, _, name = target.rpartition(".")
        return getattr(self.get_submodule(path), name)

    def get_buffer(self, target):
        """The buffer at the dotted path ``target`` (``torch.nn.Module.get_buffer``)."""
        path, _, name = target.rpartition(".")
        mod = self.get_submodule(path)
        if name not in mod._buffers:
            raise AttributeError(f"{type(mod).__name__} has no buffer {name!r}")
        return _buffer_view(mod, name, mod._buffers[name])

    def set_submodule(self, target, module, strict=False):
        """Replaces (or, unless ``strict``, adds) the submodule at the dotted path ``target``."""
        if not target:
            raise ValueError("set_submodule: cannot set the module itself; give a dotted path")
        if not isinstance(module, Module):
            raise TypeError(f"set_submodule({target!r}): {type(module).__name__} is not a Module")
        path, _, name = target.rpartition(".")
        parent = self.get_submodule(path)
        if strict and name not in parent._modules:
            raise AttributeError(f"{type(parent).__name__} has no submodule {name!r} (strict=True)")
        parent.add_module(name, module)

    # ----- iteration ----------------------------------------------------------------

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        memo = set() if memo is None else memo
        if remove_duplicate and id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self):
        return self._each_module(set())

    def _each_module(self, memo):
        """named_modules' walk without the names (a training step lists its parameters at every step)."""
        stack = [self]  # depth first, children in registration order: the recursive walk's order, without
        while stack:    # a generator per module
            mod = stack.pop()
            if mod is None or id(mod) in memo:
                continue
            memo.add(id(mod))
            yield mod
            if mod._modules:
                stack.extend(reversed(mod._modules.values()))

    def named_children(self):
        seen = set()
        for name, child in self._modules.items():
            if child is not None and id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def children(self):
        for _, c in self.named_children():
            yield c

    def _named_members(self, table, prefix, recurse, remove_duplicate=True):
        seen = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for mod_prefix, mod in mods:
            for name, value in mod.__dict__[table].items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                if table == "_buffers":
                    value = _buffer_view(mod, name, value)
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        seen = set()
        for mod in self._each_module(set()) if recurse else (self,):
            for p in mod._parameters.values():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ----- state ---------------------------------------------------------------------

    def state_dict(self, prefix="", keep_vars=False):
        """Parameters' values and persistent buffers by dotted name, in registration order.

        A module registered under two names appears under both (``enc.weight`` and
        ``body.0.weight``), as in PyTorch, whose checkpoints list every path.
        """
        out = OrderedDict()
        for mod_prefix, mod in self.named_modules(prefix=prefix.rstrip("."), remove_duplicate=False):
            p = f"{mod_prefix}." if mod_prefix else ""
            for name, param in mod._parameters.items():
                if param is not None:
                    out[p + name] = param if keep_vars else _value_of(param)
            for name, buf in mod._buffers.items():
                if buf is not None and name not in mod._non_persistent:
                    out[p + name] = buf
            if type(mod).get_extra_state is not Module.get_extra_state:
                out[p + _EXTRA_STATE] = mod.get_extra_state()
        return out

    def get_extra_state(self):
        """What a subclass that overrides it adds to ``state_dict`` as ``"<prefix>_extra_state"`` (any value
        ``fnx.save`` stores: arrays, numbers, strings, lists and dicts of them); :meth:`set_extra_state` takes
        it back in ``load_state_dict``. As in PyTorch, the base class has none to give."""
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should never be called: "
                           "override get_extra_state (and set_extra_state) to save extra state")

    def set_extra_state(self, state):
        """Takes back what :meth:`get_extra_state` gave, when ``load_state_dict`` finds it."""
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should never be called: "
                           "override set_extra_state along with get_extra_state")

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copies values from ``state_dict`` into this module's parameters and buffers.

        Each value is cast to the dtype and device of the parameter or buffer it
        replaces, unless ``assign``, which keeps the state dict's dtype and device
        (the Parameter object stays, so optimizers keep training it, and so does
        its ``requires_grad``). Entries are read in this module's ``state_dict``
        order, so of two names for one parameter the later one wins, as in PyTorch.

        Raises:
          RuntimeError: with ``strict``, listing missing and unexpected keys; and
            always for a shape mismatch, naming the key and both shapes.
        Returns:
          ``IncompatibleKeys(missing_keys, unexpected_keys)``.
        """
        from .. import numpy as fnp
        state_dict = OrderedDict(state_dict)  # pre-hooks may rename keys: the caller's dict stays as it was
        from_hooks, errors = ([], []), []
        for path, mod in self.named_modules(remove_duplicate=False):  # PyTorch visits every path of state_dict
            prefix = f"{path}." if path else ""
            mod._load_from_state_dict(state_dict, prefix, {}, strict, *from_hooks, errors)
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict] + from_hooks[0]
        unexpected = [k for k in state_dict if k not in own] + from_hooks[1]
        extra = {key for key in own if key.rpartition(".")[2] == _EXTRA_STATE}
        for key, target in own.items():
            if key not in state_dict or key in extra:
                continue
            value = fnp.asarray(state_dict[key])
            if tuple(value.shape) != tuple(target.shape):
                errors.append(f"size mismatch for {key}: copying a param with shape {tuple(value.shape)} from "
                              f"checkpoint, the shape in current model is {tuple(target.shape)}.")
            elif assign and isinstance(target, Parameter) and target.requires_grad \
                    and not is_differentiable(value.dtype):
                errors.append(f"{key}: assign=True would give a parameter that requires grad the dtype "
                              f"{value.dtype}, and only floating arrays can require gradients.")
        if strict:  # PyTorch's order: missing keys first
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors))
        for key, target in own.items():
            if key not in state_dict:
                continue
            path, _, name = key.rpartition(".")
            mod = self.get_submodule(path)
            if key in extra:
                mod.set_extra_state(state_dict[key])
                continue
            value = fnp.asarray(state_dict[key])
            if not assign:
                if target.dtype != value.dtype:
                    value = value.astype(target.dtype)
                if value.device is not target.device:
                    value = value.to(target.device)
            if isinstance(target, Parameter):
                if assign:
                    target.data = value  # new storage, as PyTorch's assign gives: old .data views let go
                else:
                    target.set_(value)  # in place, as PyTorch's copy_: .data views see the loaded value
            else:
                mod._buffers[name] = _plain_buffer(value)  # a view of another buffer gives its value
        return IncompatibleKeys(missing if not strict else [], unexpected if not strict else [])

    # ----- modes and bulk changes ------------------------------------------------------------

    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            p._zero_grad(set_to_none)

    def apply(self, fn):
        """Calls ``fn`` on every submodule (children first) and then on this module."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def _map_arrays(self, fn):
        for mod in self.modules():
            for p in mod._parameters.values():
                if p is not None:
                    p.set_(fn(p.primal))
                    if p.grad is not None:
                        p.grad = fn(p.grad)
            for name, b in list(mod._buffers.items()):
                if b is not None:
                    mod._buffers[name] = fn(b)
        return self

    def to(self, *args, **kwargs):
        """Moves parameters and buffers to a device and/or casts floating ones to a dtype, in place.

        ``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)`` (its device and
        dtype) or keywords, as in PyTorch; a bare int is a GPU's number.
        """
        from ..core import backend, dtypes
        from ..core.array import Array
        device = kwargs.pop("device", None)
        dtype = kwargs.pop("dtype", None)
        tensor = kwargs.pop("tensor", None)
        kwargs.pop("non_blocking", None)  # PyTorch's asynchronous copy: fnx's transfers complete on return
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() received an invalid combination of arguments: unexpected keyword "
                            f"{sorted(kwargs)}; it takes device, dtype, tensor, non_blocking and memory_format")
        for a in args:
            if isinstance(a, backend.Device) or isinstance(a, str) and a.partition(":")[0] in ("cpu", "cuda"):
                device = a
            elif isinstance(a, int) and not isinstance(a, bool):
                device = backend.cuda_device(a)
            elif isinstance(a, Array):
                tensor = a
            elif not isinstance(a, bool):  # non_blocking given positionally, as PyTorch allows
                dtype = a
        if tensor is not None:
            device, dtype = tensor.device, tensor.dtype
        if isinstance(dtype, str):
            try:
                dtypes.canonical(dtype)
            except TypeError:
                from ..errors import DeviceError
                raise DeviceError(f"{type(self).__name__}.to: {dtype!r} is neither a device (fnx has 'cpu' and "
                                  f"'cuda:N'; no 'meta' device) nor a dtype") from None
        dtype = None if dtype is None else dtypes.canonical(dtype)

        def convert(x):
            if dtype is not None and x.dtype.kind in "fc" and x.dtype != dtype:
                x = x.astype(dtype)
            if device is not None:
                x = x.to(device)
            return x
        return self._map_arrays(convert)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=0):
        return self.to(f"cuda:{device}" if isinstance(device, int) else device)

    def float(self):
        return self.to("float32")

    def double(self):
        return self.to("float64")

    def half(self):
        return self.to("float16")

    def type(self, dst_type):
        """Casts the floating parameters and buffers to ``dst_type`` (``torch.nn.Module.type``)."""
        return self.to(dst_type)

    def to_empty(self, *, device, recurse=True):
        """Moves the parameters and buffers to ``device`` (PyTorch leaves their values unset; fnx keeps them)."""
        return self.to(device)

    def share_memory(self):
        """Returns the module: fnx loads data in threads of one process, so there is no memory to share."""
        return self

    def compile(self, *args, **kwargs):
        """``Module.compile``: runs the module as it is (see :func:`fnx.compile`)."""
        return None

    # ----- calling -------------------------------------------------------------------

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False, always_call=False):
        """``hook(module, args, output)`` (``hook(module, args, kwargs, output)`` ``with_kwargs``) runs after
        ``forward``; a non-None result replaces the output. ``prepend`` runs it before the hooks registered
        earlier; ``always_call`` runs it (with output None) also when ``forward`` raises, as PyTorch's."""
        return add_hook(self._forward_hooks, (hook, with_kwargs, always_call), prepend)

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args)`` (``hook(module, args, kwargs)`` ``with_kwargs``) runs before ``forward``; a
        non-None result replaces the args (``(args, kwargs)`` ``with_kwargs``). ``prepend``: before the others."""
        return add_hook(self._forward_pre_hooks, (hook, with_kwargs), prepend)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        """PyTorch's per-module step of ``load_state_dict``, run for every module before any entry is read.

        Here it prepares this module's entries (keys starting ``prefix``): it fills in what older
        checkpoints lack and runs the load pre-hooks; ``load_state_dict`` then checks every entry and
        copies them all at once, so that a bad one changes nothing. A subclass overrides it as in PyTorch,
        to rename or convert its entries in ``state_dict`` before calling ``super()._load_from_state_dict``;
        what it adds to the three lists is reported with the rest.
        """
        self._upgrade_state_dict(state_dict, prefix)
        for hook in list(self.__dict__.get("_load_state_dict_pre_hooks", {}).values()):
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)

    def _upgrade_state_dict(self, state_dict, prefix):
        """Fills in, in place, the entries of this module (keys starting ``prefix``) that checkpoints of older
        PyTorch versions lack, as PyTorch's ``_load_from_state_dict`` does for them; most modules have none."""

    def register_load_state_dict_pre_hook(self, hook):
        """``hook(module, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)``
        runs when ``load_state_dict`` starts, before any entry is read, with ``prefix`` this module's dotted
        path: it may rewrite ``state_dict`` (old key names) or add to the three lists, as in PyTorch."""
        return self._register_load_state_dict_pre_hook(hook, with_module=True)

    def _register_load_state_dict_pre_hook(self, hook, with_module=False):
        """PyTorch's older form: ``hook(state_dict, prefix, ...)``, without the module unless ``with_module``."""
        hooks = self.__dict__.setdefault("_load_state_dict_pre_hooks", OrderedDict())
        return add_hook(hooks, functools.partial(hook, self) if with_module else hook)

    def register_full_backward_hook(self, hook, prepend=False):
        """``hook(module, grad_input, grad_output)`` runs once the gradients with respect to the module's
        positional array inputs are computed (``torch.nn.Module.register_full_backward_hook``).

        ``grad_output`` has one entry per array output (None for one nobody
        differentiated), ``grad_input`` one per positional array input (None for
        a non-array argument; zeros for an array input that does not require grad
        when another does). A tuple returned replaces ``grad_input``. When no input
        requires grad the hook runs with the gradients of the outputs, and every
        ``grad_input`` entry is None.
        """
        return add_hook(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """``hook(module, grad_output)`` runs when the gradients of the module's outputs are computed, before
        they flow into the module; a tuple returned replaces ``grad_output``."""
        return add_hook(self._backward_pre_hooks, hook, prepend)

    def register_backward_hook(self, hook):
        """PyTorch's deprecated form: registered as :meth:`register_full_backward_hook`, whose gradients
        are the ones the old form was meant to give."""
        return self.register_full_backward_hook(hook)

    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or self._backward_pre_hooks):
            return self.forward(*args, **kwargs)  # the common call: no hook to run
        if self._backward_hooks or self._backward_pre_hooks:
            from ._backward_hooks import call_with_backward_hooks
            return call_with_backward_hooks(self, args, kwargs)
        return self._call_forward(args, kwargs)

    def _call_forward(self, args, kwargs, after_pre_hooks=None):
        pre_hooks, hooks = self._forward_pre_hooks, self._forward_hooks
        if not (pre_hooks or hooks or after_pre_hooks):  # the common call: no hook to copy or run
            return self.forward(*args, **kwargs)
        for hook, with_kwargs in list(pre_hooks.values()):
            if with_kwargs:
                res = hook(self, args, kwargs)
                if res is not None:
                    args, kwargs = res
            else:
                res = hook(self, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
        if after_pre_hooks is not None:
            args = after_pre_hooks(args)
        try:
            out = self.forward(*args, **kwargs)
        except BaseException:
            for hook, with_kwargs, always_call in list(hooks.values()):
                if always_call:  # PyTorch's: run, and what it returns is dropped, as the error goes on
                    hook(self, args, kwargs, None) if with_kwargs else hook(self, args, None)
            raise
        for hook, with_kwargs, _ in list(hooks.values()):
            res = hook(self, args, kwargs, out) if with_kwargs else hook(self, args, out)
            if res is not None:
                out = res
        return out

    # ----- printing ----------------------------------------------------------------------

    def extra_repr(self):
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines.extend(extra.split("\n"))
        for name, child in self._modules.items():
            text = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {text}")
        if not self._modules:
            return f"{self._get_name()}({extra})"
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def __deepcopy__(self, memo):
        new = object.__new__(type(self))
        memo[id(self)] = new
        for k, v in self.__dict__.items():
            if k == "_parameters":
                v = OrderedDict((n, _copy_parameter(p, memo)) for n, p in v.items())
            else:
                v = copy.deepcopy(v, memo)
            new.__dict__[k] = v
        return new


def _copy_parameter(p, memo):
    """A new slot with ``p``'s value, once per parameter, so that tied weights stay tied in the copy."""
    if p is None:
        return None
    if id(p) not in memo:
        memo[id(p)] = Parameter(p.primal, p.requires_grad)
    return memo[id(p)]


def _value_of(x):
    return x.primal if isinstance(x, Parameter) else x


# ----- Modules as pytrees ---------------------------------------------------------------------

_TABLES = ("_parameters", "_buffers", "_modules")


def _flatten_module(m):
    d = m.__dict__
    names = tuple((t, tuple(d[t])) for t in _TABLES)
    children = [v for t in _TABLES for v in d[t].values()]
    static = _Static({k: v for k, v in d.items() if k not in _TABLES})
    static.cls = type(m)
    return children, (names, static)


def _module_keys(m):
    return [name for t in _TABLES for name in m.__dict__[t]]


def _unflatten_module(aux, children):
    names, static = aux
    cls = static.cls
    m = object.__new__(cls)
    d = m.__dict__
    d.update(static.attrs)
    it = iter(children)
    for table, keys in names:
        d[table] = OrderedDict((k, next(it)) for k in keys)
    return m


class _Static:
    """A module's non-array state, compared by identity (it is never traced)."""

    __slots__ = ("attrs", "cls")

    def __init__(self, attrs):
        self.attrs = attrs
        self.cls = None

    def __eq__(self, other):
        return isinstance(other, _Static) and self.cls is other.cls and self.attrs.keys() == other.attrs.keys() and all(
            self.attrs[k] is other.attrs[k] or _same(self.attrs[k], other.attrs[k]) for k in self.attrs)

    def __hash__(self):
        return hash(tuple(self.attrs))


def _same(a, b):
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - values without a boolean equality are simply different
        return False


tree_util.register_node(Module, _flatten_module, _unflatten_module, _module_keys)
