"""``functional_call``: a Module as a pure function of its parameters.

``functional_call(model, params, args)`` runs a shallow copy of ``model`` whose
parameters and buffers are the arrays in ``params`` (by dotted name) instead of
its own. The model itself is untouched, so the call is pure, and ``fnx.grad``,
``fnx.vmap`` and ``fnx.hessian`` apply to it like to any function:

    grads = fnx.grad(lambda p: loss(functional_call(model, p, (x,)), y))(params)
"""
from collections import OrderedDict

from .module import Module


def functional_call(module, parameters_and_buffers, args=(), kwargs=None, *, strict=False):
    """Calls ``module`` with ``parameters_and_buffers`` (a dict by dotted name) in place of its own.

    Args:
      module: the Module.
      parameters_and_buffers: ``{name: array}``; a tuple of such dicts is merged.
        Names it lacks keep the module's own values, and names the module lacks
        are ignored, as in PyTorch (unless ``strict``).
      args: the positional arguments (a tuple, or a single value).
      kwargs: keyword arguments.
      strict: require exactly the module's parameter and buffer names.

    >>> import fnx, fnx.numpy as fnp
    >>> lin = fnx.nn.Linear(2, 1)
    >>> params = {"weight": fnp.ones((1, 2)), "bias": fnp.zeros(1)}
    >>> fnx.nn.functional_call(lin, params, (fnp.array([1.0, 2.0]),))
    Array([3.], dtype=float32)
    """
    if isinstance(parameters_and_buffers, (tuple, list)):
        merged = {}
        for d in parameters_and_buffers:
            dup = set(merged) & set(d)
            if dup:
                raise ValueError(f"functional_call: {sorted(dup)} appear in more than one dictionary")
            merged.update(d)
        parameters_and_buffers = merged
    values = dict(parameters_and_buffers)
    if strict:
        own = {n for n, _ in module.named_parameters()} | {n for n, _ in module.named_buffers()}
        missing, unexpected = sorted(own - set(values)), sorted(set(values) - own)
        if missing or unexpected:
            raise RuntimeError(f"functional_call (strict): missing keys {missing}, unexpected keys {unexpected}")
    clone = _with_values(module, values, "", {})  # (a name the module lacks changes nothing, as in PyTorch)
    if not isinstance(args, tuple):
        args = (args,)
    return clone(*args, **(kwargs or {}))


def _with_values(module, values, prefix, memo):
    """A shallow copy of ``module`` (and its submodules) reading ``values`` where named."""
    if id(module) in memo:
        return memo[id(module)]
    new = object.__new__(type(module))
    memo[id(module)] = new
    d = dict(module.__dict__)
    for table in ("_parameters", "_buffers"):
        d[table] = OrderedDict(
            (name, values.get(f"{prefix}{name}", value)) for name, value in module.__dict__[table].items())
    d["_modules"] = OrderedDict(
        (name, None if child is None else _with_values(child, values, f"{prefix}{name}.", memo))
        for name, child in module.__dict__["_modules"].items())
    new.__dict__.update(d)
    return new
