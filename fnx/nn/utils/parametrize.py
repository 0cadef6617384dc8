"""Parametrizations of a module's tensors (``torch.nn.utils.parametrize``).

``register_parametrization(module, "weight", P())`` makes ``module.weight`` a
computed value: the Parameter moves to
``module.parametrizations.weight.original`` (keeping its identity, so an
optimizer built earlier still trains it) and every read of ``module.weight``
returns ``P()(original)``, recorded on the tape, so ``loss.backward()`` reaches
``original``. Assigning ``module.weight = x`` stores ``P.right_inverse(x)`` in
``original``. As in PyTorch the module's class is swapped for a subclass
(``ParametrizedLinear``) that carries one property per parametrized name, the
``state_dict`` keys are ``parametrizations.weight.original`` (plus any state of
the parametrizations), and registering again on the same name chains the
parametrizations, the first registered applied first.
"""
import collections.abc
import contextlib

from ...core.array import Array
from ...transforms.autodiff import no_grad
from ..layers.containers import ModuleDict, ModuleList
from ..module import Module
from ..parameter import Parameter

__all__ = ["register_parametrization", "remove_parametrizations", "is_parametrized", "cached",
           "type_before_parametrizations", "ParametrizationList"]

_cache_depth = [0]
_cache = {}


@contextlib.contextmanager
def cached():
    """Within this context each parametrized tensor is computed once, at its first read, and reused.

    For a parametrization read several times per forward (a recurrent layer's weight at every step).
    """
    _cache_depth[0] += 1
    try:
        yield
    finally:
        _cache_depth[0] -= 1
        if not _cache_depth[0]:
            _cache.clear()


def _value(x):
    return x.primal if isinstance(x, Parameter) else x


def _check_kept(header, what, original, new, names):
    """PyTorch's checks that a parametrization keeps ``original``'s dtype and shape (ValueErrors)."""
    if not isinstance(new, Array):
        raise ValueError(f"{what} must return a tensor. Got {type(new).__name__}.")
    for attr in ("dtype", "shape"):
        if getattr(new, attr) != getattr(original, attr):
            raise ValueError(f"{header.format(attr)}\n{names[0]}{attr}: {getattr(original, attr)}\n"
                             f"{names[1]}{attr}: {getattr(new, attr)}")


def _right_inverse_or_identity(module, value):
    if hasattr(module, "right_inverse"):
        try:
            return module.right_inverse(value)
        except NotImplementedError:  # PyTorch's convention: a right_inverse that raises this is the identity
            pass
    return value


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor, applied in order, and the tensor they start from.

    ``original`` holds it (a Parameter keeps its identity; a buffer stays a buffer);
    when the first parametrization's ``right_inverse`` returns several tensors they
    are ``original0``, ``original1``... and the first parametrization's ``forward``
    takes them all.
    """

    def __init__(self, modules, original, unsafe=False):
        if not modules:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        value = _value(original)
        with no_grad():
            new = value
            for module in reversed(list(self)):
                new = _right_inverse_or_identity(module, new)
        new = _value(new)
        if not isinstance(new, (Array, collections.abc.Sequence)):
            raise ValueError(f"'right_inverse' must return a Tensor or a Sequence of tensors (list, tuple...). "
                             f"Got {type(new).__name__}")
        self.is_tensor = isinstance(new, Array)
        self.ntensors = 1 if self.is_tensor else len(new)
        if self.is_tensor:
            for attr in ("dtype", "device"):
                if getattr(new, attr) != getattr(value, attr):
                    raise ValueError(f"When `right_inverse` outputs one tensor, it may not change the {attr}.\n"
                                     f"original.{attr}: {getattr(value, attr)}\n"
                                     f"right_inverse(original).{attr}: {getattr(new, attr)}")
            if isinstance(original, Parameter) and original.shape == new.shape:
                self.register_parameter("original", original.set_(new))  # the same object: optimizers hold it
            elif isinstance(original, Parameter):  # a right_inverse that changes the shape (``unsafe``)
                self.register_parameter("original", Parameter(new, original.requires_grad))
            else:
                self.register_buffer("original", new)
        else:
            for i, part in enumerate(new):
                part = _value(part)
                if not isinstance(part, Array):
                    raise ValueError(f"'right_inverse' must return a Tensor or a Sequence of tensors (list, "
                                     f"tuple...). Got element {i} of the sequence with type {type(part).__name__}.")
                if isinstance(original, Parameter):
                    self.register_parameter(f"original{i}", Parameter(part, original.requires_grad))
                else:
                    self.register_buffer(f"original{i}", part)
        if not unsafe:
            with no_grad():
                _check_kept("Registering a parametrization may not change the {} of the tensor, unless `unsafe` "
                            "flag is enabled.", "A parametrization", value, _value(self()),
                            ("unparametrized ", "parametrized "))

    def _set(self, name, value):
        current = getattr(self, name)
        if isinstance(current, Parameter):
            current.set_(value)
        else:
            self.register_buffer(name, value)

    def right_inverse(self, value):
        """Stores ``value`` in the originals, through every parametrization's ``right_inverse`` (last first)."""
        with no_grad():
            for module in reversed(list(self)):
                if not hasattr(module, "right_inverse"):
                    raise RuntimeError(f"parametrization {type(module).__name__} does not implement right_inverse.")
                value = module.right_inverse(value)
            if self.is_tensor:
                value = _value(value)
                if not isinstance(value, Array):
                    raise ValueError(f"`right_inverse` should return a tensor. Got {type(value).__name__}")
                if value.dtype != self.original.dtype:
                    raise ValueError(f"The tensor returned by `right_inverse` has dtype {value.dtype} while "
                                     f"`original` has dtype {self.original.dtype}")
                self._set("original", value)
                return
            if not isinstance(value, collections.abc.Sequence):
                raise ValueError(f"'right_inverse' must return a sequence of tensors. Got {type(value).__name__}.")
            if len(value) != self.ntensors:
                raise ValueError(f"'right_inverse' must return a sequence of tensors of length {self.ntensors}. "
                                 f"Got a sequence of length {len(value)}.")
            for i, part in enumerate(value):
                part = _value(part)
                if not isinstance(part, Array):
                    raise ValueError(f"'right_inverse' must return a sequence of tensors. Got element {i} of "
                                     f"type {type(part).__name__}.")
                if part.dtype != getattr(self, f"original{i}").dtype:
                    raise ValueError(f"Tensor {i} returned by `right_inverse` has dtype {part.dtype} while "
                                     f"`original{i}` has dtype {getattr(self, f'original{i}').dtype}")
                self._set(f"original{i}", part)

    def forward(self):
        modules = list(self)
        if self.is_tensor:
            x = modules[0](self.original)
        else:
            x = modules[0](*[getattr(self, f"original{i}") for i in range(self.ntensors)])
        for module in modules[1:]:
            x = module(x)
        return x


def _parametrized_property(name):
    def get(self):
        chain = self.parametrizations[name]
        if not _cache_depth[0]:
            return chain()
        key = (id(self), name)
        value = _cache.get(key)
        if value is None:
            value = _cache[key] = chain()
        return value

    def set_(self, value):
        self.parametrizations[name].right_inverse(value)
    return property(get, set_, doc=f"``{name}``, computed by its parametrizations")


def _inject_class(module):
    """Swaps ``module``'s class for ``Parametrized<Class>``, a subclass made for this module alone, as PyTorch does
    (each module gets its own, so properties added for one module never reach another)."""
    cls = module.__class__
    module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), {"__setattr__": _setattr_parametrized})


def _setattr_parametrized(self, name, value):
    # A parametrized name is a property of the class: assigning to it stores value through right_inverse,
    # even for a Parameter (Module.__setattr__ would register it as a new Parameter beside the property).
    if isinstance(getattr(type(self), name, None), property):
        object.__setattr__(self, name, value)
    else:
        Module.__setattr__(self, name, value)


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Makes ``module.<tensor_name>`` the output of ``parametrization`` (``torch.nn.utils.parametrize``).

    Args:
      module: the module whose parameter or buffer is parametrized.
      tensor_name: the parameter or buffer (or an already parametrized name, to chain another).
      parametrization: a Module whose ``forward`` maps the original to the value
        (several originals when its ``right_inverse`` returns several tensors).
        An optional ``right_inverse(value)`` maps a value back; it sets the
        originals at registration and on ``module.<tensor_name> = value``.
      unsafe: skip the checks that the dtype and shape are kept.

    Returns:
      ``module``.

    Raises:
      ValueError: ``tensor_name`` is neither a parameter, a buffer nor parametrized,
        or (without ``unsafe``) the parametrization changes the dtype or shape.

    >>> import fnx, fnx.numpy as fnp
    >>> from fnx.nn.utils import parametrize
    >>> class Symmetric(fnx.nn.Module):
    ...     def forward(self, X):
    ...         return X.triu() + X.triu(1).T
    >>> m = parametrize.register_parametrization(fnx.nn.Linear(3, 3), "weight", Symmetric())
    >>> bool(fnp.all(m.weight == m.weight.T)), type(m).__name__
    (True, 'ParametrizedLinear')
    >>> list(m.state_dict())
    ['bias', 'parametrizations.weight.original']
    """
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        chain = module.parametrizations[tensor_name]
        if not unsafe:
            with no_grad():
                current = _value(getattr(module, tensor_name))
                out = _value(parametrization(current))
                names = (f"module.{tensor_name}.", f"parametrization(module.{tensor_name}).")
                _check_kept("Registering a parametrization may not change the {} of the tensor, unless the "
                            "`unsafe` flag is enabled.", "A parametrization", current, out, names)
                back = _value(_right_inverse_or_identity(parametrization, out))
                _check_kept(f"The tensor returned by parametrization.right_inverse must have the same {{}} as "
                            f"module.{tensor_name}, unless the `unsafe` flag is enabled.",
                            "parametrization.right_inverse", current, back, (f"module.{tensor_name}.", "returned "))
        chain.append(parametrization)
        chain.unsafe |= unsafe
    elif tensor_name in module._parameters or tensor_name in module._buffers:
        original = getattr(module, tensor_name)
        if original is None:
            raise ValueError(f"Module '{type(module).__name__}' has None as '{tensor_name}': nothing to parametrize")
        chain = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            _inject_class(module)
            module.parametrizations = ModuleDict()
        setattr(type(module), tensor_name, _parametrized_property(tensor_name))
        module.parametrizations[tensor_name] = chain
    else:
        raise ValueError(f"Module '{module}' does not have a parameter, a buffer, or a parametrized "
                         f"element with name '{tensor_name}'")
    return module


def is_parametrized(module, tensor_name=None):
    """Whether ``module`` has any parametrization (or one on ``tensor_name``)."""
    parametrizations = module.__dict__.get("_modules", {}).get("parametrizations")
    if not isinstance(parametrizations, ModuleDict):
        return False
    return len(parametrizations) > 0 if tensor_name is None else tensor_name in parametrizations


def type_before_parametrizations(module):
    """The module's class before any parametrization swapped it."""
    return type(module).__bases__[0] if is_parametrized(module) else type(module)


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undoes :func:`register_parametrization` on ``tensor_name``.

    With ``leave_parametrized`` the tensor keeps its current parametrized value
    (in the original Parameter object, when there is a single original);
    otherwise it goes back to the original.

    Raises:
      ValueError: ``tensor_name`` is not parametrized, or ``leave_parametrized=False``
        for a tensor parametrized by several originals.
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    chain = module.parametrizations[tensor_name]
    if chain.is_tensor:
        original = chain.original
        if leave_parametrized:
            with no_grad():
                value = _value(getattr(module, tensor_name))
            if isinstance(original, Parameter):
                original.set_(value)
            else:
                original = value
    elif leave_parametrized:
        with no_grad():
            value = _value(getattr(module, tensor_name))
        original = Parameter(value) if isinstance(chain.original0, Parameter) else value
    else:
        raise ValueError("Cannot leave unparametrized (`leave_parametrized=False`) a tensor that is parametrized "
                         "in terms of a sequence of tensors.")
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    if isinstance(original, Parameter):
        module.register_parameter(tensor_name, original)
    else:
        module.register_buffer(tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = type(module).__bases__[0]
    return module
