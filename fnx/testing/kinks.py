"""How far a function's inputs are from its kinks, for checks that use differences.

A central difference with step ``eps`` is a derivative only if no operation on
the way meets a kink (``maximum`` at a tie, ``abs`` at 0) or a jump
(``remainder`` where ``x / y`` crosses an integer, a comparison feeding
``where``) within the step. Each non-smooth primitive says where its kinks are
(``Primitive.kinks``); :func:`kink_distance` traces a function into a graph,
replays it on the actual inputs and asks every such equation how far its
operands are from one. Only equations with a floating operand computed from the
inputs count: a comparison between constants, or between integers, does not
move when the inputs do.

Numbers here are computed with the operands' own array namespace: this is a
test oracle, not array maths, so it need not be differentiable.
"""
import math
from typing import NamedTuple, Optional

import numpy as np

from ..core import backend, tree as tree_util


class KinkDistance(NamedTuple):
    """The smallest distance to a kink, and where it was (``None`` when nothing has kinks)."""

    distance: float
    primitive: Optional[str] = None
    equation: Optional[str] = None


def _text(eqn):
    params = "[" + ", ".join(f"{k}={v}" for k, v in eqn.params.items()) + "]" if eqn.params else ""
    return f"{' '.join(map(repr, eqn.outputs))} = {eqn.prim.name}{params} {' '.join(map(repr, eqn.inputs))}"


def kink_distance(f, *args):
    """How close ``f(*args)`` comes to a kink or a jump of one of its operations.

    Traces ``f`` with :func:`fnx.make_graph`, replays the equations on ``args``
    and, for each primitive that declares ``kinks``, measures how far its
    operands are from the nearest point where it has no derivative (the gap
    between the two arguments of ``maximum``, between the two largest entries
    of a ``max`` reduction, the distance to 0 of ``abs``...). Distances are in
    the units of the operands, not of ``args``: keep a margin for what the
    operations before a kink amplify.

    Returns:
      A :class:`KinkDistance` ``(distance, primitive, equation)``: the smallest
      distance (``inf`` when no operation has kinks) and the equation it comes from.

    >>> import fnx.numpy as fnp
    >>> from fnx.testing import kink_distance
    >>> x = fnp.array([0.375, -1.5])
    >>> kink_distance(lambda x: fnp.sum(fnp.maximum(x, 0.5) * fnp.abs(x)), x)
    KinkDistance(distance=0.125, primitive='maximum', equation='b = maximum a const[2]')
    >>> kink_distance(fnp.sin, x).distance
    inf
    """
    best = KinkDistance(math.inf)
    for eqn, gaps in kink_gaps(f, *args):
        gaps = gaps[~np.isnan(gaps)]
        if gaps.size and gaps.min() < best.distance:
            best = KinkDistance(float(gaps.min()), eqn.prim.name, _text(eqn))
    return best


def kink_gaps(f, *args):
    """Each equation of ``f``'s graph that has kinks, with its distances to them (a float64 numpy
    array, NaN where undefined): what :func:`kink_distance` takes the minimum of."""
    import fnx.numpy as fnp
    from ..core.array import Array
    from ..core.trace import eval_primitive
    from ..transforms.graph import Literal, make_graph
    graph = make_graph(f)(*args)
    env = dict(zip(graph.invars, (fnp.asarray(x) for x in tree_util.leaves(args))))
    for eqn in graph.eqns:
        vals = [a.value if isinstance(a, Literal) else env[a] for a in eqn.inputs]
        outs = eval_primitive(eqn.prim, vals, eqn.params)
        env.update(zip(eqn.outputs, outs if eqn.prim.multiple_results else (outs,)))
        moving = any(not isinstance(a, Literal) and a.aval.dtype.kind in "fc" for a in eqn.inputs)
        if eqn.prim.kinks is None or not moving:
            continue
        payloads = [v._value if isinstance(v, Array) else v for v in vals]
        xp = next((backend.xp_of(p) for v, p in zip(vals, payloads) if isinstance(v, Array)), np)
        yield eqn, np.asarray(backend.to_host(xp.asarray(eqn.prim.kinks(xp, *payloads, **eqn.params))), np.float64)
