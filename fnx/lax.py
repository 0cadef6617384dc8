"""``jax.lax``'s structured control flow, for JAX code ported by changing ``jax`` to ``fnx``.

fnx records its graph as the code runs, so a Python ``for`` or ``if`` already
works under ``grad``; these functions exist so that code written for JAX runs
unchanged, with JAX's semantics: ``scan`` stacks its outputs, ``cond`` and
``switch`` run only the chosen branch, ``fori_loop`` and ``while_loop`` thread a
value through a loop. They run as Python loops and branches, so everything in
them differentiates (``while_loop`` too, which JAX cannot reverse).

A predicate or index that has no concrete value (inside ``fnx.jit``, or
batched by ``vmap``) cannot pick a branch in Python: ``cond`` and ``switch``
then run every branch and select each output element with ``fnx.numpy.where``,
which is what ``jax.vmap`` of a ``cond`` computes. Loop bounds and a
``while_loop`` condition must be concrete.
"""
from . import numpy as fnp
from .core import tree as tree_util
from .errors import ShapeError, TracerError, TreeError
from .numpy import stop_gradient

__all__ = ["scan", "map", "fori_loop", "while_loop", "cond", "switch", "select", "clamp", "stop_gradient"]


def _length(xs_flat, length):
    lengths = {x.shape[0] if x.ndim else None for x in xs_flat}
    if None in lengths:
        raise ShapeError("scan: every leaf of xs needs a leading axis to scan over; got a 0-d leaf")
    if length is not None:
        lengths.add(length)
    if len(lengths) > 1:
        raise ShapeError(f"scan: xs leaves and length disagree on the number of steps: {sorted(lengths)}")
    if not lengths:
        raise ValueError("scan: with no xs, give length")
    return lengths.pop()


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """``f(carry, x) -> (carry, y)`` over the leading axis of ``xs``; returns ``(carry, ys)`` with the
    ``y``'s stacked, as ``jax.lax.scan``. ``reverse=True`` runs from the last ``x`` to the first, and
    ``ys[i]`` still belongs to ``xs[i]``. ``unroll`` is accepted for compatibility (every step is Python).

    >>> import fnx, fnx.numpy as fnp
    >>> total, running = fnx.lax.scan(lambda c, x: (c + x, c + x), 0.0, fnp.arange(4.0))
    >>> total, running
    (Array(6., dtype=float32), Array([0., 1., 3., 6.], dtype=float32))
    """
    xs_flat, xs_tree = tree_util.flatten(xs)
    xs_flat = [fnp.asarray(x) for x in xs_flat]
    n = _length(xs_flat, length) if xs_flat or length is None else length
    steps = range(n - 1, -1, -1) if reverse else range(n)
    carry, ys = init, []
    carry_tree = tree_util.structure(init)
    for i in steps:
        carry, y = f(carry, xs_tree.unflatten([x[i] for x in xs_flat]))
        if tree_util.structure(carry) != carry_tree:
            raise TreeError(f"scan: f returned a carry of structure {tree_util.structure(carry)}, but the initial "
                            f"carry has structure {carry_tree}")
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys:  # the outputs' shapes come from one call on a zero slice; its values are not used
        _, y = f(init, xs_tree.unflatten([fnp.zeros(x.shape[1:], x.dtype) for x in xs_flat]))
        return carry, tree_util.map(lambda v: fnp.zeros((0,) + fnp.shape(v), fnp.asarray(v).dtype), y)
    return carry, tree_util.map(lambda *leaves: fnp.stack(leaves), *ys)


def map(f, xs):
    """``f`` applied to each slice of ``xs`` along its leading axis, the results stacked (``jax.lax.map``)."""
    return scan(lambda _, x: (None, f(x)), None, xs)[1]


def _concrete(value):
    """``value`` as a Python int, or None when a transform keeps it symbolic."""
    try:
        return int(value)
    except TracerError:
        return None


def _index(value, what):
    index = _concrete(value)
    if index is None:
        raise TracerError(f"{what} must be concrete: inside fnx.jit pass it as a static argument "
                          f"(static_argnums), or loop in Python outside the transform")
    return index


def fori_loop(lower, upper, body_fun, init_val, *, unroll=None):
    """``val = body_fun(i, val)`` for ``i`` from ``lower`` to ``upper - 1`` (``jax.lax.fori_loop``).

    >>> import fnx
    >>> fnx.lax.fori_loop(0, 5, lambda i, total: total + i, 0)
    10
    """
    val = init_val
    for i in range(_index(lower, "fori_loop: lower"), _index(upper, "fori_loop: upper")):
        val = body_fun(i, val)
    return val


def while_loop(cond_fun, body_fun, init_val):
    """``val = body_fun(val)`` while ``cond_fun(val)`` holds (``jax.lax.while_loop``)."""
    val = init_val
    while bool(cond_fun(val)):
        val = body_fun(val)
    return val


def _select_outputs(which, branches, what):
    """Every branch's outputs, combined leaf by leaf with ``where(which == k, ...)``."""
    results = [tree_util.flatten(out) for out in branches]
    (first, tree), rest = results[0], results[1:]
    for flat, other in rest:
        shapes = [(fnp.shape(a), fnp.asarray(a).dtype) for a in first]
        if other != tree or [(fnp.shape(a), fnp.asarray(a).dtype) for a in flat] != shapes:
            raise TreeError(f"{what}: the branches must return the same structure, shapes and dtypes; got {tree} "
                            f"with {shapes} and {other} with "
                            f"{[(fnp.shape(a), fnp.asarray(a).dtype) for a in flat]}")
    out = list(first)
    for k, (flat, _) in enumerate(rest, 1):
        out = [fnp.where(which == k, b, a) for a, b in zip(out, flat)]
    return tree.unflatten(out)


def cond(pred, true_fun, false_fun, *operands):
    """``true_fun(*operands)`` if ``pred`` else ``false_fun(*operands)`` (``jax.lax.cond``).

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.lax.cond(fnp.array(2.0) > 1, lambda x: x * 10, lambda x: x, fnp.array(2.0))
    Array(20., dtype=float32)
    """
    pred = fnp.asarray(pred)
    if pred.shape != ():
        raise ShapeError(f"cond: the predicate must be a scalar, got shape {pred.shape}")
    taken = _concrete(pred)
    if taken is not None:
        return (true_fun if taken else false_fun)(*operands)
    return _select_outputs(pred.astype("int32"), [false_fun(*operands), true_fun(*operands)], "cond")


def switch(index, branches, *operands):
    """``branches[index](*operands)``, ``index`` clamped to the branches' range (``jax.lax.switch``)."""
    branches = list(branches)
    if not branches:
        raise ValueError("switch: no branches given")
    index = fnp.asarray(index)
    if index.shape != ():
        raise ShapeError(f"switch: the index must be a scalar, got shape {index.shape}")
    taken = _concrete(index)
    if taken is not None:
        return branches[min(max(taken, 0), len(branches) - 1)](*operands)
    which = fnp.clip(index.astype("int32"), 0, len(branches) - 1)
    return _select_outputs(which, [b(*operands) for b in branches], "switch")


def select(pred, on_true, on_false):
    """``on_true`` where ``pred`` holds, else ``on_false`` (``jax.lax.select``: no broadcasting)."""
    pred, on_true, on_false = fnp.asarray(pred), fnp.asarray(on_true), fnp.asarray(on_false)
    if not (pred.shape == on_true.shape == on_false.shape) or on_true.dtype != on_false.dtype:
        raise ShapeError(f"select: pred, on_true and on_false must have one shape (and the cases one dtype); got "
                         f"{pred.dtype}{list(pred.shape)}, {on_true.dtype}{list(on_true.shape)} and "
                         f"{on_false.dtype}{list(on_false.shape)}")
    return fnp.where(pred, on_true, on_false)


def clamp(min, x, max):
    """``x`` clipped to ``[min, max]`` (``jax.lax.clamp``: note the argument order)."""
    return fnp.clip(x, min, max)
