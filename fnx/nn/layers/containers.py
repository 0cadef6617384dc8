"""Containers: ``Sequential``, ``ModuleList`` and ``ModuleDict``.

They hold submodules under the names PyTorch gives them (``'0'``, ``'1'``... or
the dictionary's keys), so a model built from them has PyTorch's
``state_dict`` keys (``layers.0.weight``). Like every Module they are
pytrees, so ``fnx.grad`` and ``functional_call`` see through them. Deleting
an entry renumbers the rest, as PyTorch does.
"""
import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from itertools import chain

from ..module import Module

__all__ = ["Sequential", "ModuleList", "ModuleDict"]


def _index(container, idx):
    size = len(container)
    idx = operator.index(idx)
    if not -size <= idx < size:
        raise IndexError(f"{type(container).__name__}: index {idx} is out of range for length {size}")
    return idx % size


def _renumber(container):
    container.__dict__["_modules"] = OrderedDict((str(i), m) for i, m in enumerate(container._modules.values()))


def _check_module(owner, module):
    if not isinstance(module, Module):
        raise TypeError(f"{owner}: expected a fnx.nn.Module, got {type(module).__name__}")


class _Numbered(Module):
    """Submodules in order (``Sequential``, ``ModuleList``): length, iteration and deletion with renumbering."""

    def __delitem__(self, idx):
        keys = list(self._modules)
        for key in (keys[idx] if isinstance(idx, slice) else [keys[_index(self, idx)]]):
            delattr(self, key)
        _renumber(self)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class Sequential(_Numbered):
    """Modules applied one after another; built from arguments or from an ``OrderedDict`` of names.

    Supports indexing (an int gives the module, a slice a new Sequential),
    ``len``, iteration, ``append``, ``insert``, ``extend``, ``pop`` and ``del``.

    >>> import fnx
    >>> from collections import OrderedDict
    >>> nn = fnx.nn
    >>> model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
    >>> model(fnx.numpy.ones((3, 2))).shape
    (3, 1)
    >>> model[-1]
    Linear(in_features=4, out_features=1, bias=True)
    >>> nn.Sequential(OrderedDict(fc=nn.Linear(2, 2), act=nn.Tanh()))
    Sequential(
      (fc): Linear(in_features=2, out_features=2, bias=True)
      (act): Tanh()
    )
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for key, module in args[0].items():
                self.add_module(key, module)
        else:
            for idx, module in enumerate(args):
                _check_module("Sequential", module)
                self.add_module(str(idx), module)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[_index(self, idx)]

    def __setitem__(self, idx, module):
        _check_module("Sequential", module)
        self._modules[list(self._modules)[_index(self, idx)]] = module  # in place: the order is kept

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise TypeError(f"Sequential: can only add another Sequential, got {type(other).__name__}")
        out = Sequential()
        for layer in chain(self, other):
            out.append(layer)
        return out

    def __iadd__(self, other):
        return self.extend(other)

    def __mul__(self, times):
        """The layers repeated ``times`` times (the same module objects, as PyTorch's)."""
        if not isinstance(times, int) or isinstance(times, bool):
            return NotImplemented
        if times <= 0:
            raise ValueError(f"Sequential: non-positive multiplication factor {times}")
        out = Sequential()
        for _ in range(times):
            for layer in self:
                out.append(layer)
        return out

    __rmul__ = __mul__

    def __imul__(self, times):
        repeated = self * times
        if repeated is NotImplemented:
            return NotImplemented
        for layer in list(repeated)[len(self):]:
            self.append(layer)
        return self

    def append(self, module):
        _check_module("Sequential.append", module)
        self.add_module(str(len(self)), module)
        return self

    def insert(self, index, module):
        _check_module("Sequential.insert", module)
        n = len(self)
        if not -n <= index <= n:
            raise IndexError(f"Sequential.insert: index {index} is out of range for length {n}")
        index = index + n if index < 0 else index
        items = list(self._modules.values())
        items.insert(index, module)
        self.__dict__["_modules"] = OrderedDict((str(i), m) for i, m in enumerate(items))
        return self

    def extend(self, sequential):
        for layer in sequential:
            self.append(layer)
        return self

    def pop(self, key):
        v = self[key]
        del self[key]
        return v

    def forward(self, input):
        for module in self:
            input = module(input)
        return input


class ModuleList(_Numbered):
    """A list of submodules, registered under ``'0'``, ``'1'``... (``torch.nn.ModuleList``).

    >>> import fnx
    >>> layers = fnx.nn.ModuleList([fnx.nn.Linear(2, 2) for _ in range(3)])
    >>> layers.append(fnx.nn.ReLU())
    ModuleList(
      (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)
      (3): ReLU()
    )
    >>> [name for name, _ in layers.named_parameters()][:2]
    ['0.weight', '0.bias']
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[str(_index(self, idx))]

    def __setitem__(self, idx, module):
        _check_module("ModuleList", module)
        self._modules[str(_index(self, idx))] = module

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        out = ModuleList()
        for module in chain(self, other):
            out.append(module)
        return out

    def insert(self, index, module):
        _check_module("ModuleList.insert", module)
        n = len(self)
        index = min(max(index + n if index < 0 else index, 0), n)
        items = list(self._modules.values())
        items.insert(index, module)
        self.__dict__["_modules"] = OrderedDict((str(i), m) for i, m in enumerate(items))

    def append(self, module):
        _check_module("ModuleList.append", module)
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        if not isinstance(modules, Iterable):
            raise TypeError(f"ModuleList.extend should be called with an iterable, but got "
                            f"{type(modules).__name__}")
        for module in modules:
            self.append(module)
        return self

    def pop(self, key):
        v = self[key]
        del self[key]
        return v

    def __repr__(self):
        # runs of identical entries print once, as "(first-last): count x module", as in PyTorch
        reprs = [repr(m) for m in self]
        if not reprs:
            return self._get_name() + "()"
        runs = []
        for i, r in enumerate(reprs):
            if runs and runs[-1][2] == r:
                runs[-1][1] = i
            else:
                runs.append([i, i, r])
        lines = [(f"({a}): {r}" if a == b else f"({a}-{b}): {b - a + 1} x {r}").replace("\n", "\n  ")
                 for a, b, r in runs]
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dictionary of submodules, in insertion order (``torch.nn.ModuleDict``).

    >>> import fnx
    >>> heads = fnx.nn.ModuleDict({"cls": fnx.nn.Linear(4, 3), "box": fnx.nn.Linear(4, 4)})
    >>> list(heads.keys()), "cls" in heads, len(heads)
    (['cls', 'box'], True, 2)
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        _check_module("ModuleDict", module)
        if key in self._modules:
            self._modules[key] = module  # in place: the order is kept
        else:
            self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        self._modules.clear()

    def pop(self, key):
        v = self[key]
        del self[key]
        return v

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules):
        if isinstance(modules, (Mapping, ModuleDict)):
            for key, module in modules.items():
                self[key] = module
            return
        if not isinstance(modules, Iterable):
            raise TypeError(f"ModuleDict.update should be called with an iterable of key/value pairs, but got "
                            f"{type(modules).__name__}")
        for j, pair in enumerate(modules):
            if not isinstance(pair, Iterable) or len(pair) != 2:
                raise ValueError(f"ModuleDict.update: element #{j} should be a (key, module) pair")
            self[pair[0]] = pair[1]


# ----- containers of parameters --------------------------------------------------------------------------

__all__ += ["ParameterList", "ParameterDict"]


def _as_parameter(owner, value):
    """A Parameter as is; an array becomes a Parameter (as PyTorch wraps tensors); anything else is refused."""
    from ...core.array import Array
    from ..parameter import Parameter
    if isinstance(value, Parameter):
        return value
    if isinstance(value, Array) or hasattr(value, "__array__"):
        from ... import numpy as fnp
        return Parameter(fnp.asarray(value))
    raise TypeError(f"{owner}: expected a fnx.nn.Parameter or an array, got {type(value).__name__}")


def _parameter_line(key, p):
    size = "x".join(str(s) for s in p.shape)
    device = "" if p.device.platform == "cpu" and p.device.id == 0 else f" ({p.device})"
    return f"  ({key}): Parameter containing: [{p.dtype} of size {size}{device}]"


class ParameterList(Module):
    """A list of Parameters, registered under ``'0'``, ``'1'``... (``torch.nn.ParameterList``), so they
    appear in ``parameters()`` and ``state_dict`` (``params.0``...). Arrays given are wrapped in Parameters.

    >>> import fnx, fnx.numpy as fnp
    >>> params = fnx.nn.ParameterList([fnp.zeros(2), fnx.nn.Parameter(fnp.ones((2, 3)))])
    >>> params.append(fnp.ones(1))
    ParameterList(
      (0): Parameter containing: [float32 of size 2]
      (1): Parameter containing: [float32 of size 2x3]
      (2): Parameter containing: [float32 of size 1]
    )
    >>> len(params), list(params.state_dict())
    (3, ['0', '1', '2'])
    """

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._parameters.values())[idx])
        return self._parameters[str(_index(self, idx))]

    def __setitem__(self, idx, param):
        self._parameters[str(_index(self, idx))] = _as_parameter("ParameterList", param)

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def __iadd__(self, parameters):
        return self.extend(parameters)

    def append(self, value):
        self._parameters[str(len(self))] = _as_parameter("ParameterList.append", value)
        return self

    def extend(self, values):
        if not isinstance(values, Iterable) or hasattr(values, "shape"):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got "
                            f"{type(values).__name__}")
        for value in values:
            self.append(value)
        return self

    def extra_repr(self):
        return "\n".join(_parameter_line(k, p) for k, p in self._parameters.items())

    def __repr__(self):
        return self._get_name() + ("(\n" + self.extra_repr() + "\n)" if len(self) else "()")

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """A dictionary of Parameters, in insertion order (``torch.nn.ParameterDict``); arrays are wrapped in
    Parameters, and the keys are ``state_dict``'s names.

    >>> import fnx, fnx.numpy as fnp
    >>> scales = fnx.nn.ParameterDict({"a": fnp.ones(2)})
    >>> scales["b"] = fnx.nn.Parameter(fnp.zeros(3))
    >>> list(scales.keys()), [name for name, _ in scales.named_parameters()], "a" in scales
    (['a', 'b'], ['a', 'b'], True)
    """

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key):
        return self._parameters[key]

    def __setitem__(self, key, value):
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict: keys must be strings, got {type(key).__name__}")
        if "." in key or not key:
            raise KeyError(f"ParameterDict: key {key!r} must be a non-empty string without '.'")
        self._parameters[key] = _as_parameter("ParameterDict", value)

    def __delitem__(self, key):
        del self._parameters[key]

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __reversed__(self):
        return reversed(list(self._parameters))

    def __contains__(self, key):
        return key in self._parameters

    def keys(self):
        return self._parameters.keys()

    def items(self):
        return self._parameters.items()

    def values(self):
        return self._parameters.values()

    def get(self, key, default=None):
        return self._parameters.get(key, default)

    def pop(self, key):
        v = self[key]
        del self[key]
        return v

    def popitem(self):
        key = next(reversed(self._parameters))
        return key, self.pop(key)

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self):
        self._parameters.clear()

    def copy(self):
        return ParameterDict(OrderedDict(self._parameters))

    def fromkeys(self, keys, default=None):
        return ParameterDict((k, default) for k in keys)

    def update(self, parameters):
        if isinstance(parameters, (Mapping, ParameterDict)):
            items = parameters.items()
            if not isinstance(parameters, (OrderedDict, ParameterDict)):
                items = sorted(items)  # PyTorch sorts the keys of other mappings (plain dicts among them)
            for key, value in items:
                self[key] = value
            return
        if not isinstance(parameters, Iterable):
            raise TypeError(f"ParameterDict.update should be called with an iterable of key/value pairs, but got "
                            f"{type(parameters).__name__}")
        for j, pair in enumerate(parameters):
            if not isinstance(pair, Iterable) or len(pair) != 2:
                raise ValueError(f"ParameterDict.update: element #{j} should be a (key, parameter) pair")
            self[pair[0]] = pair[1]

    def extra_repr(self):
        return "\n".join(_parameter_line(k, p) for k, p in self._parameters.items())

    def __repr__(self):
        return self._get_name() + ("(\n" + self.extra_repr() + "\n)" if len(self) else "()")

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterDict should not be called.")
