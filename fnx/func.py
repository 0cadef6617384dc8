"""``torch.func``: PyTorch's names and signatures for fnx's composable transforms.

``torch.func`` is PyTorch's port of JAX's transforms, so most of it is fnx's own
``grad``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd``, ``hessian`` and ``vmap``
under PyTorch's argument names. The differences a port meets are handled here:

- :func:`grad_and_value` returns ``(gradient, value)`` (JAX's ``value_and_grad``
  returns the pair the other way round), and with ``has_aux``
  ``(gradient, (value, aux))``.
- :func:`vmap` takes ``in_dims``/``out_dims``, and ``randomness``: ``"error"``
  (the default) refuses a function that draws from the global generator
  (``fnx.randn``, dropout), ``"same"`` lets it, with one draw shared by the whole
  batch. Per-example draws come from explicit keys (vmap over
  ``fnx.random.split(key, n)``).
- the function sees its dict arguments in their insertion order, and dicts in
  the results keep the insertion order of the arguments' and the function's
  output dicts (aux included), at any depth of nesting, as PyTorch's pytrees do
  (fnx's, as JAX's, sort keys).
- :func:`grad`, :func:`grad_and_value` and :func:`vjp` give complex values
  PyTorch's convention, the conjugate of JAX's (the conjugate Wirtinger
  derivative; the real ones are the same).
- :func:`functional_call` takes a dict or a sequence of dicts and, with
  ``tie_weights``, gives a value to every name of a tied parameter.

All of them compose, to any order, with each other and with ``fnx.jit``.
"""
from . import numpy as fnp
from . import random as _random
from .nn.stateless import functional_call as _functional_call
from .core import tree as tree_util
from .transforms.autodiff import grad as _grad, hessian as _hessian, jacfwd as _jacfwd, jacrev as _jacrev, jvp as _jvp
from .transforms.autodiff import torch_convention, value_and_grad, vjp as _vjp
from .transforms.extras import linearize as _linearize
from .transforms.vmap import vmap as _vmap

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "linearize", "jacrev", "jacfwd", "hessian", "vmap",
           "functional_call", "stack_module_state"]


def _torch_convention(tree):
    """Every complex leaf conjugated: PyTorch's (co)tangent convention for complex values, see
    :func:`fnx.transforms.autodiff.torch_convention` (real ones are the same in both)."""
    return tree_util.map(lambda c: torch_convention(c) if isinstance(c, fnp.ndarray) else c, tree)


# PyTorch's pytrees keep a dict's insertion order where fnx's, as JAX's, sort the keys: a result whose dicts
# mirror the arguments' (a gradient) or the function's output (vmap) gets their order back, so that
# ``zip(model.parameters(), grads.values())`` pairs each parameter with its own gradient.

def _order_of(tree):
    """The key order of every plain dict in ``tree``, nested as the tree is (None where there is none)."""
    if type(tree) is dict:
        return dict, [(k, _order_of(v)) for k, v in tree.items()]
    if type(tree) in (tuple, list):
        inner = [_order_of(v) for v in tree]
        return (type(tree), inner) if any(o is not None for o in inner) else None
    return None


def _in_order(tree, order):
    """``tree`` with its dicts rebuilt in ``order`` (from :func:`_order_of`)."""
    if order is None:
        return tree
    kind, parts = order
    if kind is dict:
        if type(tree) is not dict or len(tree) != len(parts) or any(k not in tree for k, _ in parts):
            return tree
        return {k: _in_order(tree[k], o) for k, o in parts}
    if type(tree) is not kind or len(tree) != len(parts):
        return tree
    return kind(_in_order(t, o) for t, o in zip(tree, parts))


def _nested(outer, inner):
    """The order of a Jacobian: ``outer``'s (the output's) with ``inner`` (the inputs') at each of its leaves."""
    if outer is None:
        return inner
    kind, parts = outer
    if kind is dict:
        return dict, [(k, _nested(o, inner)) for k, o in parts]
    return kind, [_nested(o, inner) for o in parts]


def _argument_order(args, argnums):
    return _order_of(args[argnums] if isinstance(argnums, int) else tuple(args[i] for i in argnums))


def _recording_order(func, box, has_aux=False):
    """``func``, noting the key order of what it returns in ``box``: its output's in ``box[0]`` and, with
    ``has_aux``, its aux's in ``box[1]``."""
    def recording(*args, **kwargs):
        out = func(*args, **kwargs)
        box[0] = _order_of(out[0] if has_aux else out)
        if has_aux:
            box[1:] = [_order_of(out[1])]
        return out
    return recording


def _seeing_argument_orders(func, args):
    """``func`` called with its positional arguments' dicts in the key orders of ``args``: a transform hands
    them over sorted (fnx's pytrees, as JAX's), where PyTorch's keep the insertion order the function sees."""
    orders = [_order_of(a) for a in args]
    if all(o is None for o in orders):
        return func

    def ordered(*given, **kwargs):
        return func(*[_in_order(g, o) for g, o in zip(given, orders)], *given[len(orders):], **kwargs)
    return ordered


def _ordered(func, args, box, has_aux=False):
    """``func`` seeing its arguments in their own key orders, and recording its results' orders in ``box``."""
    return _recording_order(_seeing_argument_orders(func, args), box, has_aux)


def grad(func, argnums=0, has_aux=False):
    """The gradient of a scalar ``func`` (``torch.func.grad``): fnx's :func:`fnx.grad`, whose gradient of a
    complex input is conjugated to PyTorch's convention (the conjugate Wirtinger derivative).

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.func.grad(lambda z: fnp.real(z * z))(fnp.array(1 + 2j))
    Array(2.-4.j, dtype=complex64)
    """
    def grad_f(*args, **kwargs):
        box = [None, None]
        out = _grad(_ordered(func, args, box, has_aux), argnums, has_aux)(*args, **kwargs)
        order = _argument_order(args, argnums)
        if has_aux:
            return _in_order(_torch_convention(out[0]), order), _in_order(out[1], box[1])
        return _in_order(_torch_convention(out), order)
    return grad_f


def grad_and_value(func, argnums=0, has_aux=False):
    """Like :func:`grad`, but the new function returns ``(gradient, value)``, or with ``has_aux``
    ``(gradient, (value, aux))`` (``torch.func.grad_and_value``).

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.func.grad_and_value(lambda x: fnp.sum(x ** 2))(fnp.array([1.0, 2.0]))
    (Array([2., 4.], dtype=float32), Array(5., dtype=float32))
    """
    def grad_and_value_f(*args, **kwargs):
        box = [None, None]
        value, g = value_and_grad(_ordered(func, args, box, has_aux), argnums, has_aux)(*args, **kwargs)
        if has_aux:
            value = (value[0], _in_order(value[1], box[1]))
        return _in_order(_torch_convention(g), _argument_order(args, argnums)), value
    return grad_and_value_f


def _cast_like(values, like):
    """PyTorch casts a (co)tangent to its primal's floating dtype where JAX refuses another: each leaf of
    ``values`` that is a floating array takes the dtype of the leaf of ``like`` at its place."""
    from .core import tree as tree_util
    v_flat, v_tree = tree_util.flatten(values)
    l_flat, l_tree = tree_util.flatten(like)
    if v_tree != l_tree:
        return values  # the transform names the mismatch
    return v_tree.unflatten([fnp.astype(v, fnp.asarray(p).dtype)
                             if isinstance(v, fnp.ndarray) and v.dtype.kind in "fc" and fnp.asarray(p).dtype.kind in "fc"
                             and v.dtype != fnp.asarray(p).dtype else v for v, p in zip(v_flat, l_flat)])


def vjp(func, *primals, has_aux=False):
    """``(func(*primals), vjp_fn)`` (plus ``aux`` with ``has_aux``), as ``torch.func.vjp``: ``vjp_fn(cotangents)``
    returns one cotangent per primal. A cotangent of another floating dtype than its output is cast to it,
    as PyTorch does (``fnx.vjp``, JAX's, refuses it).

    >>> import fnx, fnx.numpy as fnp
    >>> out, vjp_fn = fnx.func.vjp(fnp.sin, fnp.zeros(2, dtype="float64"))
    >>> vjp_fn(fnp.ones(2))
    (Array([1., 1.], dtype=float64),)

    For complex values it follows PyTorch's convention, ``conj(fnx.vjp(...)(conj(v)))``.
    """
    box = [None, None]
    res = _vjp(_ordered(func, primals, box, has_aux), *primals, has_aux=has_aux)
    out, pull = res[0], res[1]
    order = _order_of(tuple(primals))

    def vjp_fn(cotangents):
        return _in_order(_torch_convention(pull(_torch_convention(_cast_like(cotangents, out)))), order)
    return (_in_order(out, box[0]), vjp_fn) + ((_in_order(res[2], box[1]),) if has_aux else ())


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """``(func(*primals), J·tangents)``, plus ``aux`` with ``has_aux`` (``torch.func.jvp``). fnx returns a
    (zero) tangent for an output independent of the inputs, so ``strict=True``, PyTorch's request to raise
    for one, is refused.

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.func.jvp(fnp.sin, (fnp.array(0.0),), (fnp.array(2.0),))
    (Array(0., dtype=float32), Array(2., dtype=float32))
    """
    if strict:
        raise ValueError("func.jvp: strict=True is not supported; fnx returns zero tangents for outputs that do "
                         "not depend on the primals")
    box = [None, None]
    res = _jvp(_ordered(func, primals, box, has_aux), primals, _cast_like(tuple(tangents), tuple(primals)),
               has_aux=has_aux)
    return (_in_order(res[0], box[0]), _in_order(res[1], box[0])) + ((_in_order(res[2], box[1]),) if has_aux else ())


def linearize(func, *primals):
    """``(func(*primals), jvp_fn)`` with ``jvp_fn(*tangents)`` the forward derivative at ``primals``
    (``torch.func.linearize``): the primal computation runs once, and ``jvp_fn`` replays only the
    linear tangent operations (``fnx.linearize``).

    >>> import fnx, fnx.numpy as fnp
    >>> out, jvp_fn = fnx.func.linearize(fnp.sin, fnp.array(0.0))
    >>> jvp_fn(fnp.array(3.0))
    Array(3., dtype=float32)
    """
    box = [None]
    out, jvp_fn = _linearize(_ordered(func, primals, box), *primals)
    return _in_order(out, box[0]), lambda *tangents: _in_order(jvp_fn(*tangents), box[0])


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None):
    """The Jacobian by reverse mode (``torch.func.jacrev``); every row is pulled back in one vectorized
    pass, so ``chunk_size`` (PyTorch's memory knob) does not change the result."""
    _check_chunk("jacrev", chunk_size)
    return _jacobian_in_order(_jacrev, func, argnums, has_aux)


def _jacobian_in_order(transform, func, argnums, has_aux):
    """``transform(func, argnums, has_aux)`` whose result's dicts keep the output's and the arguments' orders."""
    def jac_f(*args, **kwargs):
        box = [None, None]
        out = transform(_ordered(func, args, box, has_aux), argnums, has_aux)(*args, **kwargs)
        order = _nested(box[0], _argument_order(args, argnums))
        return (_in_order(out[0], order), _in_order(out[1], box[1])) if has_aux else _in_order(out, order)
    return jac_f


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian by forward mode (``torch.func.jacfwd``); ``randomness`` as in :func:`vmap`."""
    return _guard_randomness("jacfwd", _jacobian_in_order(_jacfwd, func, argnums, has_aux), randomness)


def hessian(func, argnums=0):
    """The Hessian, forward over reverse (``torch.func.hessian``).

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.func.hessian(lambda x: fnp.sum(x ** 3))(fnp.array([1.0, 2.0]))
    Array([[ 6.,  0.],
           [ 0., 12.]], dtype=float32)
    """
    def hessian_f(*args, **kwargs):
        order = _argument_order(args, argnums)
        return _in_order(_hessian(_seeing_argument_orders(func, args), argnums)(*args, **kwargs), _nested(order, order))
    return hessian_f


def _check_chunk(fname, chunk_size):
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"{fname}: chunk_size must be None or a positive int, got {chunk_size!r}")


def _guard_randomness(fname, fn, randomness):
    if randomness not in ("error", "same", "different"):
        raise ValueError(f"{fname}: randomness must be 'error', 'same' or 'different', got {randomness!r}")
    if randomness == "same":
        return fn

    def guarded(*args, **kwargs):
        before = _random._global["count"]
        out = fn(*args, **kwargs)
        if _random._global["count"] != before:
            if randomness == "different":  # (a function that draws nothing runs as with any setting)
                raise ValueError(f"{fname}: randomness='different' is not supported: the function draws from fnx's "
                                 f"global random generator, which gives one draw to the whole batch. Draw "
                                 f"per-example values from explicit keys (map over fnx.random.split(key, n)), or "
                                 f"pass randomness='same'")
            raise RuntimeError(f"{fname}: the function draws from the global random generator (fnx.randn, dropout "
                               f"in training mode...), and randomness='error'. Pass randomness='same' for one draw "
                               f"shared by the batch, or use explicit keys for per-example draws")
        return out
    return guarded


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``func`` vectorized over an axis of its inputs (``torch.func.vmap``).

    Args:
      func: a function of pytrees of arrays; keyword arguments are not mapped.
      in_dims: an int, None (not mapped) or a tuple with one entry (a pytree prefix) per
        positional argument.
      out_dims: the same for the outputs.
      randomness: ``"error"`` refuses draws from the global generator inside ``func``;
        ``"same"`` allows them (one draw shared by the batch); ``"different"`` refuses them
        too (the global generator cannot give each example its own draw).
      chunk_size: PyTorch's memory knob; the whole batch runs at once, with the same result.

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.func.vmap(lambda x, y: fnp.dot(x, y), in_dims=(0, None))(fnp.ones((3, 2)), fnp.ones(2))
    Array([2., 2., 2.], dtype=float32)
    """
    _check_chunk("vmap", chunk_size)

    def vmapped(*args, **kwargs):
        box = [None]
        positional = _ordered(lambda *a: func(*a, **kwargs), args, box)  # PyTorch maps positional arguments only
        return _in_order(_vmap(positional, in_axes=in_dims, out_axes=out_dims)(*args), box[0])
    return _guard_randomness("vmap", vmapped, randomness)


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """Calls ``module`` with the given parameters and buffers in place of its own (``torch.func.functional_call``).

    Args:
      module: the Module.
      parameter_and_buffer_dicts: ``{dotted name: array}``, or a sequence of such dicts
        (a name may appear in only one).
      args: the positional arguments: a tuple, a single value, or None for none.
      kwargs: keyword arguments.
      tie_weights: a parameter registered under several names (tied weights) takes the
        value given for any one of them; two different values for one tied parameter
        raise ``ValueError``.
      strict: require exactly the module's parameter and buffer names.

    >>> import fnx, fnx.numpy as fnp
    >>> lin = fnx.nn.Linear(2, 1)
    >>> fnx.func.functional_call(lin, {"weight": fnp.ones((1, 2)), "bias": fnp.zeros(1)}, fnp.array([1.0, 2.0]))
    Array([3.], dtype=float32)
    """
    dicts = parameter_and_buffer_dicts
    dicts = list(dicts) if isinstance(dicts, (tuple, list)) else [dicts]
    values = {}
    for d in dicts:
        dup = sorted(set(values) & set(d))
        if dup:
            raise ValueError(f"functional_call: {dup} appear in more than one dictionary")
        values.update(d)
    if tie_weights:
        values = _tie(module, values)
    return _functional_call(module, values, () if args is None else args, kwargs, strict=strict)


def _tie(module, values):
    """``values`` with every name of a tied parameter or buffer filled in from the one given."""
    groups = {}
    named = list(module.named_parameters(remove_duplicate=False)) + list(module.named_buffers(remove_duplicate=False))
    from .nn.module import _plain_buffer
    for name, p in named:
        groups.setdefault(id(_plain_buffer(p)), []).append(name)  # a buffer by the array, not its view
    out = dict(values)
    for names in groups.values():
        given = [n for n in names if n in values]
        if len(names) < 2 or not given:
            continue
        first = values[given[0]]
        clash = [n for n in given[1:] if values[n] is not first]
        if clash:
            raise ValueError(f"functional_call: {[given[0]] + clash} are tied (one parameter) but were given different "
                             f"values; give one of them, or pass tie_weights=False")
        for n in names:
            out.setdefault(n, first)
    return out


def stack_module_state(models):
    """The parameters and buffers of several modules of one structure, stacked along a new leading axis
    (``torch.func.stack_module_state``): ``(params, buffers)``, two dicts by dotted name, for ``vmap``
    over :func:`functional_call` (model ensembling).

    >>> import fnx
    >>> params, buffers = fnx.func.stack_module_state([fnx.nn.Linear(2, 3) for _ in range(4)])
    >>> params["weight"].shape
    (4, 3, 2)
    """
    models = list(models)
    if not models:
        raise ValueError("stack_module_state: expected at least one module")

    def stacked(named):
        tables = [dict(named(m)) for m in models]
        names = list(tables[0])
        for i, t in enumerate(tables[1:], 1):
            if list(t) != names:
                raise ValueError(f"stack_module_state: module {i} has entries {list(t)}, module 0 has {names}")
        return {n: fnp.stack([t[n].detach() for t in tables]) for n in names}
    params = {n: p.requires_grad_() if models[0].get_parameter(n).requires_grad else p
              for n, p in stacked(lambda m: m.named_parameters()).items()}  # new leaves, as PyTorch's
    return params, stacked(lambda m: m.named_buffers())
