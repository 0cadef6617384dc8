"""``jax.lax``'s structured control flow, for JAX code ported by changing ``jax`` to ``fnx``.

fnx records its graph as the code runs, so a Python ``for`` or ``if`` already
works under ``grad``; these functions exist so that code written for JAX runs
unchanged, with JAX's semantics: ``scan`` stacks its outputs, ``cond`` and
``switch`` run only the chosen branch, ``fori_loop`` and ``while_loop`` thread a
value through a loop. They run as Python loops and branches, so everything in
them differentiates (``while_loop`` too, which JAX cannot reverse).

A predicate or index that has no concrete value (inside ``fnx.jit`` or
``make_jaxpr``, or batched by ``vmap``) cannot pick a branch in Python: ``cond``
and ``switch`` then bind one ``cond`` operation that holds every branch as a
graph. Compiled by ``jit``, it runs only the branch its index picks, and its
derivatives are ``cond``s of the branches' derivatives, so an untaken branch's
infinite partials never reach a gradient (as in JAX). A ``vmap`` that batches the
predicate runs every branch and selects each example's outputs, which is what
``jax.vmap`` of a ``cond`` computes. A ``while_loop`` whose predicate has no
concrete value, and a ``fori_loop`` with such bounds, are likewise one ``while``
operation, differentiable in forward mode (in reverse mode only outside ``jit``,
where the loop runs in Python; JAX refuses it everywhere).

The collectives (``psum``, ``pmean``, ``pmax``, ``pmin``, ``all_gather``,
``axis_index``) compute across the examples of a ``vmap`` given an
``axis_name``, as in JAX: ``vmap(lambda x: x / psum(x, "i"), axis_name="i")``
normalises a batch.
"""
import builtins
import enum
import operator

import numpy as np

from . import numpy as fnp
from .core import tree as tree_util
from .core.backend import data_device
from .core.dtypes import is_differentiable
from .core.primitive import ShapedArray, defprim
from .core.trace import Tracer, _stack
from .errors import AxisNameError, CarryTypeError, DTypeError, ShapeError, TracerError, TreeError
from .numpy import stop_gradient
from .numpy._base import linear_jvp
from .transforms.vmap import BatchTracer

__all__ = ["Precision", "scan", "map", "fori_loop", "while_loop", "cond", "switch", "select", "clamp", "stop_gradient",
           "psum", "pmean", "pmax", "pmin", "all_gather", "axis_index", "axis_size", "ppermute"]


class Precision(enum.Enum):
    """``jax.lax.Precision``, for the ``precision=`` of ``fnx.numpy``'s products. On TPUs and tensor cores it
    trades accuracy for speed; numpy and cupy multiply in the operands' full precision whatever it says.

    >>> import fnx, fnx.numpy as fnp
    >>> fnp.dot(fnp.ones(3), fnp.ones(3), precision=fnx.lax.Precision.HIGHEST)
    Array(3., dtype=float32)
    """
    DEFAULT = 0
    HIGH = 1
    HIGHEST = 2


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
    ``ys[i]`` still belongs to ``xs[i]``. ``unroll`` is accepted for compatibility (every step is Python). The
    carry's leaves are arrays whose structure, shapes and dtypes ``f`` must keep (a TypeError otherwise);
    Python numbers in ``init`` take the dtypes JAX's weak typing gives them, as in :func:`fori_loop`.

    >>> import fnx, fnx.numpy as fnp
    >>> total, running = fnx.lax.scan(lambda c, x: (c + x, c + x), 0.0, fnp.arange(4.0))
    >>> total, running
    (Array(6., dtype=float32), Array([0., 1., 3., 6.], dtype=float32))
    """
    xs_flat, xs_tree = tree_util.flatten(xs)
    xs_flat = [fnp.asarray(x) for x in xs_flat]
    n = _length(xs_flat, length) if xs_flat or length is None else length
    steps = range(n - 1, -1, -1) if reverse else range(n)
    slices = [xs_tree.unflatten([x[i] for x in xs_flat]) for i in steps]
    with data_device(*xs_flat):  # Python numbers in init become arrays where the scanned data lives
        carry, ys = _typed_start(lambda c: f(c, slices[0])[0], init) if slices else _carry(init), []
    numbers = _python_numbers(init)
    for x in slices:
        out, y = f(carry, x)
        if numbers:  # where the probe could not run: the first step's dtypes, and that step again
            promoted, numbers = _promoted_carry(carry, out, numbers), ()
            if promoted is not None:
                carry = promoted
                out, y = f(carry, x)
        carry = _check_carry("scan", carry, out)
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys:  # the outputs' shapes come from one call on a zero slice; its values are not used
        _, y = f(init, xs_tree.unflatten([fnp.zeros(x.shape[1:], x.dtype) for x in xs_flat]))
        return carry, tree_util.map(lambda v: fnp.zeros((0,) + fnp.shape(v), fnp.asarray(v).dtype), y)
    return carry, tree_util.map(lambda *leaves: fnp.stack(leaves), *ys)


def map(f, xs, *, batch_size=None):
    """``f`` applied to each slice of ``xs`` along its leading axis, the results stacked (``jax.lax.map``).

    With ``batch_size``, ``f`` is vmapped over batches of that many slices (and
    once over what remains), trading memory for fewer Python steps, as in JAX.
    """
    if batch_size is None:
        return scan(lambda _, x: (None, f(x)), None, xs)[1]
    from .transforms.vmap import vmap
    batch_size = operator.index(batch_size)
    if batch_size < 1:
        raise ValueError(f"map: batch_size must be positive, got {batch_size}")
    flat, tree = tree_util.flatten(xs)
    flat = [fnp.asarray(x) for x in flat]
    n = _length(flat, None)
    whole = n - n % batch_size
    parts = []
    if whole:
        batched = tree.unflatten([fnp.reshape(x[:whole], (whole // batch_size, batch_size) + x.shape[1:])
                                  for x in flat])
        ys = scan(lambda _, batch: (None, vmap(f)(batch)), None, batched)[1]
        parts.append(tree_util.map(lambda y: fnp.reshape(y, (whole,) + y.shape[2:]), ys))
    if whole < n:
        parts.append(vmap(f)(tree.unflatten([x[whole:] for x in flat])))
    return parts[0] if len(parts) == 1 else tree_util.map(lambda *ys: fnp.concatenate(ys), *parts)


def _concrete(value):
    """``value`` as a Python int, or None when a transform keeps it symbolic."""
    try:
        return int(value)
    except TracerError:
        return None


def _carry(val):
    """The loop value as JAX holds it: every leaf an array."""
    return tree_util.map(fnp.asarray, val)


def _python_numbers(val, offset=0):
    """The flat positions (after ``offset``) of the leaves of ``val`` that are Python numbers: JAX's weakly typed
    loop inputs, which take the dtype the body gives them (``fori_loop(0, n, lambda i, s: s + x[i], 0)``)."""
    return frozenset(i + offset for i, leaf in enumerate(tree_util.leaves(val))
                     if type(leaf) in (bool, int, float, complex))


_WEAK_OF_KIND = {"b": False, "i": 0, "u": 0, "f": 0.0, "c": 0j}


def _promoted_carry(before, after, positions):
    """``before`` with its leaves at ``positions`` cast to the dtypes ``after`` has there, where a Python number
    of their kind promotes to that dtype (JAX's weak promotion of loop inputs); None where nothing changes."""
    b_flat, b_tree = tree_util.flatten(before)
    a_flat, a_tree = tree_util.flatten(after)
    if a_tree != b_tree:
        return None  # the type check names the mismatch
    changed = False
    for i in positions:
        b, a = b_flat[i], a_flat[i]
        a_shape, a_dtype = (a.aval.shape, a.aval.dtype) if hasattr(a, "aval") else (fnp.shape(a), fnp.result_type(a))
        if tuple(a_shape) == b.shape and a_dtype != b.dtype and \
                np.result_type(a_dtype, _WEAK_OF_KIND[b.dtype.kind]) == a_dtype:
            b_flat[i], changed = fnp.astype(b, a_dtype), True
    return b_tree.unflatten(b_flat) if changed else None


def _typed_start(first_step, init):
    """The loop's first carry: ``init`` with every leaf an array, as JAX's body sees it, and its Python numbers
    given the dtypes JAX's weak typing gives them. fnx arrays have no weak dtypes, so those come from one
    probing call of ``first_step`` on ``init`` itself, in which the Python numbers promote weakly (``0 + x[i]``
    takes ``x``'s float32, where an int64 0 would make float64). The probe's results are dropped; a body
    that cannot take a Python number (``c.astype(...)``) starts from the plain arrays instead."""
    carry, numbers = _carry(init), _python_numbers(init)
    if not numbers:
        return carry
    try:
        out = first_step(init)
    except Exception:  # noqa: BLE001  (only the dtypes were wanted: the loop itself reports its errors)
        return carry
    promoted = _promoted_carry(carry, out, numbers)
    return carry if promoted is None else promoted


def _check_carry(fname, before, after):
    """JAX's rule: the body returns a value of the very type it was given (structure, shapes, dtypes)."""
    body = "f" if fname == "scan" else "body_fun"
    b_flat, b_tree = tree_util.flatten(before)
    a_flat, a_tree = tree_util.flatten(after)
    if a_tree != b_tree:
        raise CarryTypeError(f"{fname}: {body} must return a carry of the structure it was given, {b_tree}; got "
                             f"{a_tree}")
    for i, (b, a) in enumerate(zip(b_flat, a_flat)):
        a = fnp.asarray(a)
        if a.shape != b.shape or a.dtype != b.dtype:
            raise CarryTypeError(f"{fname}: {body} must return carry leaves of the shapes and dtypes it was given: "
                                 f"leaf {i} went in as {b.dtype}{list(b.shape)} and came out as "
                                 f"{a.dtype}{list(a.shape)}")
    return tree_util.map(fnp.asarray, after)


def fori_loop(lower, upper, body_fun, init_val, *, unroll=None):
    """``val = body_fun(i, val)`` for ``i`` from ``lower`` to ``upper - 1`` (``jax.lax.fori_loop``).

    As in JAX, the value's leaves are arrays (Python numbers become arrays) and
    ``body_fun`` must return a value of the structure, shapes and dtypes it was
    given (TypeError otherwise), except that a leaf that started as a Python
    number takes the dtype JAX's weak typing gives it: ``fori_loop(0, n, lambda
    i, s: s + x[i], 0)`` sums a float32 ``x`` in float32. fnx arrays have no weak
    dtypes, so the body first runs once on the Python numbers themselves (which
    promote weakly; the results are dropped), or, where it cannot take them,
    once from the arrays and then again from the promoted value. The index ``i`` is a Python int: JAX's is a
    weakly typed integer, which promotes as a Python int does (``v * 2 + i`` stays
    float32), and fnx arrays have no weak dtypes.

    Bounds that ``vmap`` batches (differing per example) or that have no
    concrete value (inside ``jit``) run as a :func:`while_loop`, as in JAX; the
    index is then an int64 array that promotes as JAX's weak index does (a
    Python int where only ``upper`` is batched: every example still running is
    at the same step).

    >>> import fnx
    >>> fnx.lax.fori_loop(0, 5, lambda i, total: total + i, 0)
    Array(10, dtype=int64)
    """
    val, numbers = _carry(init_val), _python_numbers(init_val)
    lo, hi = _concrete(lower), _concrete(upper)
    if lo is not None and isinstance(upper, BatchTracer) and not isinstance(_unbatched(upper), Tracer):
        # The loop runs in Python, and every example still running is at step lo + k (the others keep their
        # value whatever the body returns): the body gets that step as a Python int, weak as JAX's index.
        # The step moves on in the predicate, which runs once before each step: a step the body runs again
        # (to promote the value, below) is the same step.
        step = [lo - 1]

        def cond(c):
            step[0] += 1
            return c[0] < upper
        return _while(cond, lambda c: (c[0] + 1, body_fun(step[0], c[1])), (fnp.asarray(lower, "int64"), val),
                      promotable=frozenset(i + 1 for i in numbers))[1]
    if lo is None or hi is None or isinstance(lower, BatchTracer) or isinstance(upper, BatchTracer):
        # Under vmap the body also runs for examples past their upper bound (their results are dropped); they
        # see their last step again, so that indexing with it stays in bounds, as JAX's clamped gathers do.
        last = upper - 1 if isinstance(lower, BatchTracer) else None
        i, val = _while(lambda c: c[0] < upper,
                        lambda c: (c[0] + 1, body_fun(c[0] if last is None else fnp.minimum(c[0], last), c[1])),
                        (fnp.asarray(lower, "int64"), val), weak=(0,), promotable=frozenset(i + 1 for i in numbers))
        return val
    if lo < hi:
        val = _typed_start(lambda v: body_fun(lo, v), init_val)
    for i in range(lo, hi):
        out = body_fun(i, val)
        if numbers:  # where the probe could not run: the first step's dtypes, and that step again
            promoted, numbers = _promoted_carry(val, out, numbers), ()
            if promoted is not None:
                val, out = promoted, body_fun(i, promoted)
        val = _check_carry("fori_loop", val, out)
    return val


def while_loop(cond_fun, body_fun, init_val):
    """``val = body_fun(val)`` while ``cond_fun(val)`` holds (``jax.lax.while_loop``), with the value's leaves
    arrays and its type fixed, as in :func:`fori_loop`.

    Under ``vmap`` a predicate may differ per example, as in JAX: the body runs
    while it holds for some example, and each example keeps the value from the
    step where its own predicate last held. Inside ``jit`` the loop is one
    operation that runs when the compiled function does; it differentiates in
    forward mode there (``jvp``, ``jacfwd``), and as in JAX not in reverse mode
    (outside ``jit`` the loop runs in Python and both modes work).

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.vmap(lambda v: fnx.lax.while_loop(lambda s: s < 100., lambda s: s * 2., v))(fnp.array([1., 30.]))
    Array([128., 120.], dtype=float32)
    """
    return _while(cond_fun, body_fun, _typed_start(body_fun, init_val), promotable=_python_numbers(init_val))


def _while(cond_fun, body_fun, val, weak=(), promotable=frozenset()):
    """:func:`while_loop` from the carry ``val``; the leaves at the positions ``weak`` promote as Python
    numbers in a loop that jit compiles (``fori_loop``'s index, a Python int when the loop runs in Python),
    and those at ``promotable`` (Python numbers at the start) take the dtype the body's first step gives them."""
    while True:
        pred = cond_fun(val)
        if not (type(pred) is bool or (getattr(pred, "dtype", None) == np.bool_ and getattr(pred, "shape", 0) == ())):
            raise TypeError(f"while_loop: cond_fun must return a boolean scalar, got "
                            f"{getattr(pred, 'dtype', type(pred).__name__)}{list(getattr(pred, 'shape', ()))}")
        try:
            some = _holds_for_some_example(pred)
            go = bool(pred) if some is None else some
        except TracerError:  # no concrete value (inside jit): the loop runs when the compiled graph does
            return _staged_loop(cond_fun, body_fun, val, frozenset(weak) | promotable, promotable)
        if not go:
            return val
        out = body_fun(val)
        if promotable:
            promoted, promotable = _promoted_carry(val, out, promotable), frozenset()
            if promoted is not None:  # the step again, from the promoted value, as JAX retraces
                val, out = promoted, body_fun(promoted)
        stepped = _check_carry("while_loop", val, out)
        val = stepped if some is None else tree_util.map(lambda new, old: fnp.where(pred, new, old), stepped, val)


def _holds_for_some_example(pred):
    """For a predicate vmap batches, whether it holds for some example; None for any other predicate."""
    if not isinstance(pred, BatchTracer):
        return None
    return bool(fnp.any(_unbatched(pred)))  # under jit as well: raises, naming jit


def _unbatched(value):
    """A value vmap batches, every example of every level (nested vmaps) in one array."""
    while isinstance(value, BatchTracer):
        value = value.val
    return value


# ----- cond and switch on a traced predicate: one primitive, the branches as graphs ---------------------
#
# A predicate without a concrete value (inside jit or make_jaxpr, or batched by vmap) cannot pick a branch in
# Python. Each branch is then staged abstractly into a graph over the operands, and the traced values it
# closes over become operands too, so that the graphs can run later and anywhere: jit's replay runs the one
# branch the index picks when it runs. The derivatives of a ``cond`` are ``cond``s of the branches'
# derivatives, so reverse mode runs only the taken branch's VJP: an untaken branch's infinite partials
# (``sqrt`` at a negative number) never meet a zero cotangent, as they would behind a select. A vmap that
# batches the index runs every branch and selects each example's outputs, as ``jax.vmap`` of a cond does.


def _branch_graph(fname, fun, operands, weak=()):
    """``fun(*operands)`` staged abstractly: its Jaxpr, and which outputs were Python numbers (weakly typed).
    The operands at the positions ``weak`` (and weak operands, such as numbers jit traces) promote as Python
    numbers do, as JAX's weak types."""
    from .transforms.extras import _stage_abstract
    weak = {i for i, x in enumerate(operands) if i in weak or getattr(x, "weak_type", False)}
    jaxpr = _stage_abstract(fname, fun, tuple(operands), {}, weak=weak)
    return jaxpr, jaxpr.weak_outputs


def _stage_branches(fname, funs, operands, weak=()):
    """Each of ``funs`` (of the operand leaves) as a graph of the leaves ``(*captured, *operands)``, where
    ``captured`` are the traced values the branches close over, and the output tree they share.
    Returns ``(graphs, captured, out_tree)``; every graph returns the flat list of the output's leaves."""
    from .transforms.graph import Eqn, Graph, Literal, Var
    staged = [_branch_graph(fname, f, operands, weak) for f in funs]
    trees = [g.out_tree for g, _ in staged]
    if any(t != trees[0] for t in trees):
        raise TreeError(f"{fname}: the branches must return the same structure; got "
                        f"{' and '.join(str(t) for t in trees)}")
    _match_weak_outputs(fname, staged)
    captured, captured_vars = [], {}  # id(traced value) -> its Var in every graph

    def lifted(a):
        if isinstance(a, Literal) and isinstance(a.value, Tracer):
            var = captured_vars.get(id(a.value))
            if var is None:
                captured.append(a.value)
                var = captured_vars[id(a.value)] = Var(ShapedArray(a.value.shape, a.value.dtype), a.value.device)
            return var
        return a
    bodies = [([Eqn(e.prim, e.params, [lifted(a) for a in e.inputs], e.outputs) for e in g.eqns],
               [lifted(v) for v in g.outvars], g.invars) for g, _ in staged]
    cvars = [captured_vars[id(c)] for c in captured]
    for eqns, _, invars in bodies:  # named afresh by each Graph below, the captured values' Vars first
        for v in invars + [v for e in eqns for v in e.outputs]:
            v.name = None
    n_out = len(bodies[0][1])
    graphs = tuple(Graph(cvars + invars, eqns, outvars, tree_util.structure(tuple(range(len(cvars) + len(invars)))),
                         tree_util.structure([0] * n_out))
                   for eqns, outvars, invars in bodies)
    return graphs, captured, trees[0]


def _match_weak_outputs(fname, staged):
    """The branches' outputs must agree in shape and dtype; an output that one branch gives as a Python number
    takes the dtype of the others' (a weak type, as in JAX: ``lambda x: 0.0`` beside a float64 branch)."""
    from .transforms.graph import Literal
    for j in range(len(staged[0][0].outvars)):
        avals = [g.outvars[j].aval for g, _ in staged]
        strong = [a for a, (_, weak) in zip(avals, staged) if not weak[j]]
        target = strong[0] if strong else avals[0]
        for (g, weak), a in zip(staged, avals):
            if weak[j] and a.dtype != target.dtype:
                g.outvars[j] = Literal(fnp.asarray(g.outvars[j].value, dtype=target.dtype))
        avals = [g.outvars[j].aval for g, _ in staged]
        if any(tuple(a.shape) != tuple(avals[0].shape) or a.dtype != avals[0].dtype for a in avals):
            raise TypeError(f"{fname}: the branches must return the same shapes and dtypes; output {j} is "
                            f"{' and '.join(f'{a.dtype}{list(a.shape)}' for a in avals)}")


def _branches_of_leaves(branches, operands):
    """``(funs, leaves, weak)``: the branches as functions of the operands' leaves (arrays), and the positions
    of the leaves that are Python numbers, which stay weakly typed in the branches (as where a branch runs in
    Python, and in JAX)."""
    leaves, in_tree = tree_util.flatten(operands)
    weak = {i for i, x in enumerate(leaves) if isinstance(x, (bool, int, float, builtins.complex))}
    funs = [lambda *xs, f=f: f(*in_tree.unflatten(list(xs))) for f in branches]
    return funs, [fnp.asarray(x) for x in leaves], weak


def _staged_branches(fname, index, branches, operands):
    """``branches[index](*operands)`` for an ``index`` that has no concrete value: one ``cond`` operation."""
    funs, leaves, weak = _branches_of_leaves(branches, operands)
    graphs, captured, out_tree = _stage_branches(fname, funs, leaves, weak)
    if not len(graphs[0].outvars):  # nothing to compute: the branches return empty structures
        return out_tree.unflatten([])
    return out_tree.unflatten(list(cond_p.bind(index, *captured, *leaves, branches=graphs)))


def _run(graph, payloads):
    """``graph`` run on payloads as jit's straight-line code (built at its first run): its outputs' payloads."""
    from .transforms.jit import _Compiled
    compiled = graph.__dict__.get("compiled")
    if compiled is None:
        compiled = graph.compiled = _Compiled(graph)
    results = iter(compiled._replay(payloads))
    return [value._value if k is None else next(results) for k, value in compiled.out_spec]


def _cond_impl(xp, index, *operands, branches):
    # switch clamps its index, as JAX does (builtins: lax defines its own max and min)
    return tuple(_run(branches[builtins.min(builtins.max(int(index), 0), len(branches) - 1)], operands))


def _cond_shape(index, *operands, branches):
    return tuple(ShapedArray(v.aval.shape, v.aval.dtype) for v in branches[0].outvars)


def _on_some(graph, operands, positions):
    """``graph`` as a function of the operands at ``positions`` only, the others fixed."""
    def f(*xs):
        full = list(operands)
        for i, x in zip(positions, xs):
            full[i] = x
        return list(graph(*full))
    return f


def _cond_jvp(primals, tangents, *, branches):
    from .transforms.autodiff import jvp
    index, operands = primals[0], list(primals[1:])
    moving = [i for i, t in enumerate(tangents[1:]) if t is not None]
    if not moving:
        out = cond_p.bind(*primals, branches=branches)
        return out, (None,) * len(out)
    n = len(operands)

    def branch_jvp(graph):
        def f(*xs):
            out, t_out = jvp(_on_some(graph, xs[:n], moving), [xs[i] for i in moving], list(xs[n:]))
            return list(out) + list(t_out)
        return f
    given = operands + [tangents[1:][i] for i in moving]
    graphs, captured, _ = _stage_branches("cond", [branch_jvp(g) for g in branches], given)
    both = cond_p.bind(index, *captured, *given, branches=graphs)
    out, t_out = both[:len(both) // 2], both[len(both) // 2:]
    return out, tuple(t if is_differentiable(o.dtype) else None for o, t in zip(out, t_out))


def _cond_vjp(cts, index, *operands, out, branches):
    from .transforms.autodiff import vjp
    operands = list(operands)
    moving = [i for i, x in enumerate(operands) if is_differentiable(x.dtype)]
    if not moving:
        return (None,) * (1 + len(operands))
    n = len(operands)

    def branch_vjp(graph):
        def f(*xs):
            return list(vjp(_on_some(graph, xs[:n], moving), *[xs[i] for i in moving])[1](list(xs[n:])))
        return f
    given = operands + list(cts)
    graphs, captured, _ = _stage_branches("cond", [branch_vjp(g) for g in branches], given)
    result = [None] * (1 + n)
    for i, ct in zip(moving, cond_p.bind(index, *captured, *given, branches=graphs)):
        result[1 + i] = ct
    return tuple(result)


def _cond_batch(vals, bdims, axis, *, branches):
    from .transforms.vmap import vmap
    index, operands = vals[0], list(vals[1:])
    size = next(v.shape[d] for v, d in zip(vals, bdims) if d is not None)
    # The branches map over this vmap's examples under its axis name, so a psum inside one still sums them.
    batched = [vmap(lambda *xs, g=g: list(g(*xs)), in_axes=tuple(bdims[1:]), axis_size=size, axis_name=axis[0])
               for g in branches]
    if bdims[0] is None:  # one branch for the whole batch: the batched branches, chosen when the graph runs
        graphs, captured, _ = _stage_branches("cond", batched, operands)
        out = cond_p.bind(index, *captured, *operands, branches=graphs)
        return out, (0,) * len(out)
    which = fnp.clip(fnp.moveaxis(index, bdims[0], 0), 0, len(branches) - 1)
    outs = [b(*operands) for b in batched]
    result = list(outs[0])
    for k, flat in enumerate(outs[1:], 1):
        result = [fnp.where(fnp.reshape(which == k, (size,) + (1,) * (a.ndim - 1)), b, a)
                  for a, b in zip(result, flat)]
    return tuple(result), (0,) * len(result)


#: ``branches[index](*operands)``, the branches as graphs (see ``_stage_branches``): what ``cond`` and
#: ``switch`` bind when their predicate or index has no concrete value.
cond_p = defprim("cond", impl=_cond_impl, shape=_cond_shape, jvp=_cond_jvp, vjp=_cond_vjp, batch=_cond_batch,
                 multiple_results=True, collective=True)  # (its branches may hold collectives)


# ----- while_loop on a traced predicate: one primitive, the condition and the body as graphs -------------
#
# Inside jit the predicate has no concrete value, so the loop cannot run in Python while tracing: as a
# cond's branches, the condition and the body are staged into graphs (the traced values they close over
# become loop-invariant operands), and jit's replay runs the loop. Forward mode carries the tangents through
# the loop; reverse mode is refused, as JAX refuses it (the graph keeps no iterations to go back through).
# A vmap that batches the predicate steps while it holds for some example, each example keeping the value
# from the step where its own predicate last held, as the Python loop does under vmap.


def _loop_graph(fun, consts, carry, weak=()):
    """``fun(*consts, *carry)`` as a graph of ``(*all_consts, *carry)``, where ``all_consts`` are the traced
    values it closes over followed by ``consts``: ``(graph, all_consts, output tree)``. ``weak``: positions in
    ``carry`` that promote as Python numbers (``fori_loop``'s index)."""
    (graph,), captured, out_tree = _stage_branches("while_loop", [fun], list(consts) + list(carry),
                                                   {len(consts) + i for i in weak})
    return graph, list(captured) + list(consts), out_tree


def _staged_loop(cond_fun, body_fun, val, weak=(), promotable=()):
    """``while_loop`` for a predicate without a concrete value: one ``while`` operation. The leaves at
    ``promotable`` take the dtypes the staged body gives them, as JAX's weakly typed inputs."""
    leaves, tree = tree_util.flatten(val)
    body, body_consts, body_tree = _loop_graph(lambda *xs: body_fun(tree.unflatten(list(xs))), (), leaves, weak)
    if promotable and body_tree == tree:
        promoted = _promoted_carry(val, tree.unflatten(list(body.outvars)), promotable)
        if promoted is not None:
            return _staged_loop(cond_fun, body_fun, promoted, frozenset(weak) - promotable)
    cond, cond_consts, cond_tree = _loop_graph(lambda *xs: cond_fun(tree.unflatten(list(xs))), (), leaves, weak)
    pred = cond.outvars[0].aval if len(cond.outvars) == 1 else None
    if pred is None or tuple(pred.shape) != () or pred.dtype != np.bool_:
        raise TypeError(f"while_loop: cond_fun must return a boolean scalar, got "
                        f"{[f'{v.aval.dtype}{list(v.aval.shape)}' for v in cond.outvars]}")
    if body_tree != tree:
        raise TypeError(f"while_loop: body_fun must return a value of the structure it was given, {tree}; got "
                        f"{body_tree}")
    for i, (x, v) in enumerate(zip(leaves, body.outvars)):
        if tuple(v.aval.shape) != x.shape or v.aval.dtype != x.dtype:
            raise TypeError(f"while_loop: body_fun must return leaves of the shapes and dtypes it was given: leaf "
                            f"{i} went in as {x.dtype}{list(x.shape)} and came out as {v.aval.dtype}"
                            f"{list(v.aval.shape)}")
    out = while_p.bind(*cond_consts, *body_consts, *leaves, cond=cond, body=body, n_cond=len(cond_consts),
                       n_body=len(body_consts))
    return tree.unflatten(list(out))


def _split_loop(operands, n_cond, n_body):
    return (list(operands[:n_cond]), list(operands[n_cond:n_cond + n_body]), list(operands[n_cond + n_body:]))


def _while_impl(xp, *operands, cond, body, n_cond, n_body):
    cond_consts, body_consts, carry = _split_loop(operands, n_cond, n_body)
    while bool(_run(cond, cond_consts + carry)[0]):
        carry = _run(body, body_consts + carry)
    return tuple(carry)


def _while_shape(*operands, cond, body, n_cond, n_body):
    return tuple(ShapedArray(v.aval.shape, v.aval.dtype) for v in body.invars[n_body:])


def _while_jvp(primals, tangents, *, cond, body, n_cond, n_body):
    from .transforms.autodiff import jvp
    cond_consts, body_consts, carry = _split_loop(primals, n_cond, n_body)
    _, const_tangents, carry_tangents = _split_loop(tangents, n_cond, n_body)
    if all(t is None for t in const_tangents + carry_tangents):
        out = while_p.bind(*primals, cond=cond, body=body, n_cond=n_cond, n_body=n_body)
        return out, (None,) * len(out)
    # The tangents of the body's constants stay fixed; the carry's travel with it through the loop.
    moving_consts = [i for i, x in enumerate(body_consts) if is_differentiable(x.dtype)]
    moving = [i for i, x in enumerate(carry) if is_differentiable(x.dtype)]
    const_tangents = [fnp.zeros_like(body_consts[i]) if const_tangents[i] is None else const_tangents[i]
                      for i in moving_consts]
    carry_tangents = [fnp.zeros_like(carry[i]) if carry_tangents[i] is None else carry_tangents[i] for i in moving]
    n, nb, nt = len(carry), len(body_consts), len(const_tangents)

    def jvp_cond(*xs):
        return cond(*xs[:n_cond], *xs[n_cond:n_cond + n])

    def jvp_body(*xs):
        consts, tans, values, value_tans = xs[:nb], xs[nb:nb + nt], xs[nb + nt:nb + nt + n], xs[nb + nt + n:]
        everything = list(consts) + list(values)
        at = [i for i in moving_consts] + [nb + i for i in moving]
        out, t_out = jvp(_on_some(body, everything, at), [everything[i] for i in at], list(tans) + list(value_tans))
        return list(out) + [t_out[i] for i in moving]
    new_cond, new_cond_consts, _ = _loop_graph(jvp_cond, cond_consts, carry + carry_tangents)
    new_body, new_body_consts, _ = _loop_graph(jvp_body, body_consts + const_tangents, carry + carry_tangents)
    both = while_p.bind(*new_cond_consts, *new_body_consts, *carry, *carry_tangents, cond=new_cond, body=new_body,
                        n_cond=len(new_cond_consts), n_body=len(new_body_consts))
    out, t_moving = both[:n], both[n:]
    t_out = [None] * n
    for i, t in zip(moving, t_moving):
        t_out[i] = t
    return out, tuple(t_out)


def _while_vjp(cts, *operands, out, cond, body, n_cond, n_body):
    from .errors import LoopDifferentiationError
    raise LoopDifferentiationError(
        "while_loop: reverse-mode differentiation of a loop whose predicate is traced (inside jit) is not "
        "supported, as in JAX: the compiled loop keeps no iterations to go back through. Use fori_loop with static "
        "bounds or scan, or take the gradient outside jit, where the loop runs in Python and differentiates")


def _while_batch(vals, bdims, *, cond, body, n_cond, n_body):
    from .transforms.vmap import vmap
    size = next(v.shape[d] for v, d in zip(vals, bdims) if d is not None)
    cond_consts, body_consts, carry = _split_loop(vals, n_cond, n_body)
    cond_dims, body_dims, carry_dims = _split_loop(bdims, n_cond, n_body)
    # Every example of the carry gets its own value: the body may batch what came in unbatched.
    carry = [fnp.broadcast_to(x, (size,) + x.shape) if d is None else fnp.moveaxis(x, d, 0)
             for x, d in zip(carry, carry_dims)]
    n = len(carry)
    holds = vmap(lambda *xs: cond(*xs)[0], in_axes=tuple(cond_dims) + (0,) * n, axis_size=size)
    step = vmap(lambda *xs: list(body(*xs)), in_axes=tuple(body_dims) + (0,) * n, axis_size=size)

    def batched_cond(*xs):
        return fnp.any(holds(*xs))

    def batched_body(*xs):
        cc, bc, values = _split_loop(xs, n_cond, n_body)
        pred = holds(*cc, *values)
        return [fnp.where(fnp.reshape(pred, (size,) + (1,) * (new.ndim - 1)), new, old)
                for new, old in zip(step(*bc, *values), values)]
    new_cond, new_cond_consts, _ = _loop_graph(batched_cond, cond_consts, carry)
    new_body, new_body_consts, _ = _loop_graph(batched_body, cond_consts + body_consts, carry)
    out = while_p.bind(*new_cond_consts, *new_body_consts, *carry, cond=new_cond, body=new_body,
                       n_cond=len(new_cond_consts), n_body=len(new_body_consts))
    return out, (0,) * n


#: ``carry = body(*body_consts, *carry)`` while ``cond(*cond_consts, *carry)``: what ``while_loop`` (and
#: ``fori_loop`` with traced bounds) binds when its predicate has no concrete value.
while_p = defprim("while", impl=_while_impl, shape=_while_shape, jvp=_while_jvp, vjp=_while_vjp,
                  batch=_while_batch, multiple_results=True)


_NO_OPERAND = object()


def cond(pred, true_fun, false_fun, *operands, operand=_NO_OPERAND):
    """``true_fun(*operands)`` if ``pred`` else ``false_fun(*operands)`` (``jax.lax.cond``); JAX's older
    ``operand=x`` keyword is ``cond(pred, true_fun, false_fun, x)``. As in JAX, both branches are traced
    (abstractly) and must return the same structure, shapes and dtypes, even when ``pred`` is known; only
    the branch taken then runs.

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.lax.cond(fnp.array(2.0) > 1, lambda x: x * 10, lambda x: x, fnp.array(2.0))
    Array(20., dtype=float32)
    """
    if operand is not _NO_OPERAND:
        if operands:
            raise TypeError("cond: give the operands positionally or as operand=, not both")
        operands = (operand,)
    pred = fnp.asarray(pred)
    if pred.shape != ():
        raise ShapeError(f"cond: the predicate must be a scalar, got shape {pred.shape}")
    if pred.dtype.kind not in "biuf":
        raise DTypeError(f"cond: the predicate must be a boolean or a real number, got {pred.dtype}")
    if pred.dtype.kind != "b":  # a number counts as true where it is not 0 (0.5 and NaN too), as in JAX
        pred = pred != 0
    taken = _concrete(pred)
    if taken is not None:  # Python numbers among the operands stay weak (fnx arrays have no weak dtypes)
        _check_branches("cond", [false_fun, true_fun], operands)
        return _carry((true_fun if taken else false_fun)(*operands))  # arrays, as JAX returns
    return _staged_branches("cond", pred.astype("int32"), [false_fun, true_fun], operands)


def _check_branches(fname, branches, operands):
    """What JAX checks of the branches even when the predicate is known: they return one structure, shapes
    and dtypes (each is traced abstractly, as _staged_branches stages them; only the taken one then runs)."""
    _stage_branches(fname, *_branches_of_leaves(branches, operands))


def switch(index, branches, *operands):
    """``branches[index](*operands)``, ``index`` clamped to the branches' range (``jax.lax.switch``)."""
    branches = list(branches)
    if not branches:
        raise ValueError("switch: no branches given")
    index = fnp.asarray(index)
    if index.shape != ():
        raise ShapeError(f"switch: the index must be a scalar, got shape {index.shape}")
    if index.dtype.kind not in "iu":
        raise DTypeError(f"switch: the index must be an integer, got {index.dtype}")
    taken = _concrete(index)
    if taken is not None:
        _check_branches("switch", branches, operands)
        return _carry(branches[min(max(taken, 0), len(branches) - 1)](*operands))
    return _staged_branches("switch", index.astype("int32"), branches, operands)


def select(pred, on_true, on_false):
    """``on_true`` where ``pred`` holds, else ``on_false`` (``jax.lax.select``: no broadcasting, except that
    ``pred`` may be a scalar, choosing one case whole)."""
    pred, on_true, on_false = fnp.asarray(pred), fnp.asarray(on_true), fnp.asarray(on_false)
    if not (pred.shape in (on_true.shape, ()) and on_true.shape == on_false.shape) or on_true.dtype != on_false.dtype:
        raise ShapeError(f"select: pred (a scalar or of the cases' shape), on_true and on_false must have one "
                         f"shape (and the cases one dtype); got "
                         f"{pred.dtype}{list(pred.shape)}, {on_true.dtype}{list(on_true.shape)} and "
                         f"{on_false.dtype}{list(on_false.shape)}")
    return fnp.where(pred, on_true, on_false)


def clamp(min, x, max):
    """``x`` clipped to ``[min, max]`` (``jax.lax.clamp``: note the argument order).

    Its derivative is JAX's: ``x`` gets it strictly inside the bounds, ``min`` where
    ``x`` is below it (and ``min < max``), ``max`` where ``x`` is above it, and nobody
    at a tie (``fnx.numpy.clip`` splits a tie instead, as ``jnp.clip`` does).
    """
    from ._lax_ops import _SCALARS, _same_dtypes
    lo, x, hi = _same_dtypes("clamp", (min, x, max), "clip")  # arrays of one dtype; Python numbers take it
    x = fnp.asarray(x)
    lo, hi = (fnp.asarray(b, dtype=x.dtype) if isinstance(b, _SCALARS) else b for b in (lo, hi))
    value = fnp.clip(x, lo, hi)
    out = fnp.where(hi < x, hi, fnp.stop_gradient(value))
    out = fnp.where((x > lo) & (x < hi), x, out)
    return fnp.where((lo > x) & (lo < hi), lo, out)


# ----- collectives over a named vmap axis -------------------------------------------------------
#
# ``psum`` and ``all_gather`` are primitives whose batching rule, at the vmap that owns their axis
# name, reduces or gathers along that vmap's batch axis, and at any other vmap passes through. A
# value the named vmap does not batch is the same for every example, so the implementation (what
# runs when no batching rule of that name saw it) treats it as such: ``axis_size`` copies of it.


def _named_vmap(axis_name, fname):
    """The ``(axis_name, axis_size)`` of the innermost live vmap called ``axis_name``."""
    for main in reversed(_stack):
        if main.name == "vmap" and main.data is not None and main.data[0] == axis_name:
            return main
    names = [m.data[0] for m in _stack if m.name == "vmap" and m.data is not None and m.data[0] is not None]
    raise AxisNameError(f"{fname}: unbound axis name {axis_name!r}: no enclosing fnx.vmap(..., axis_name="
                        f"{axis_name!r}); the axis names defined here are {names}")


def _names(axis_name):
    return tuple(axis_name) if isinstance(axis_name, (tuple, list)) else (axis_name,)


def _psum_batch(vals, bdims, batch_axis, *, axis_name, axis_size):
    (x,), (d,) = vals, bdims
    if batch_axis[0] == axis_name:
        return fnp.sum(x, axis=d, dtype=x.dtype), None
    return psum_p.bind(x, axis_name=axis_name, axis_size=axis_size), d


psum_p = defprim(
    "psum", impl=lambda xp, x, *, axis_name, axis_size: x * xp.asarray(axis_size, x.dtype),
    shape=lambda x, **_: ShapedArray(x.shape, x.dtype), batch=_psum_batch, collective=True, residuals=(),
    # Each example's output is the sum over all of them, so each input's cotangent sums every example's.
    vjp=lambda ct, x, *, out, axis_name, axis_size: (psum_p.bind(ct, axis_name=axis_name, axis_size=axis_size),))
psum_p.jvp = linear_jvp(psum_p)


def psum(x, axis_name):
    """The sum over the examples of the vmap named ``axis_name`` (a name or a tuple of names), per leaf of ``x``.

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.vmap(lambda x: x / fnx.lax.psum(x, "i"), axis_name="i")(fnp.array([1.0, 3.0]))
    Array([0.25, 0.75], dtype=float32)
    """
    def one(leaf):
        if isinstance(leaf, (builtins.int, builtins.float, builtins.complex)) and not isinstance(leaf, builtins.bool):
            # The same number on every example: its sum is a Python number too, weak as JAX's (psum(1, "i") is
            # the axis size, and dividing a float32 array by it keeps float32)
            return leaf * _axis_size(axis_name, "psum")
        leaf = fnp.asarray(leaf)
        for name in _names(axis_name):
            leaf = psum_p.bind(leaf, axis_name=name, axis_size=_named_vmap(name, "psum").data[1])
        return leaf
    return tree_util.map(one, x)


def _axis_size(axis_name, fname):
    n = 1
    for name in _names(axis_name):
        n *= _named_vmap(name, fname).data[1]
    return n


def pmean(x, axis_name):
    """The mean over the examples of the vmap named ``axis_name`` (``jax.lax.pmean``)."""
    size = _axis_size(axis_name, "pmean")
    return tree_util.map(lambda s: s / size, psum(x, axis_name))


def _gather_axis(axis, ndim, fname):
    """``axis`` of a result with ``ndim + 1`` axes, from 0."""
    if not isinstance(axis, int) or not -(ndim + 1) <= axis <= ndim:
        raise ShapeError(f"{fname}: axis {axis!r} is out of range for a {ndim + 1}-d result")
    return axis % (ndim + 1)


def _all_gather_shape(x, *, axis_name, axis_size, axis, tiled):
    if tiled:
        return ShapedArray(x.shape[:axis] + (axis_size * x.shape[axis],) + x.shape[axis + 1:], x.dtype)
    return ShapedArray(x.shape[:axis] + (axis_size,) + x.shape[axis:], x.dtype)


def _all_gather_impl(xp, x, *, axis_name, axis_size, axis, tiled):
    return xp.concatenate([x] * axis_size, axis) if tiled else xp.stack([x] * axis_size, axis)


def _all_gather_batch(vals, bdims, batch_axis, *, axis_name, axis_size, axis, tiled):
    (x,), (d,) = vals, bdims
    if batch_axis[0] == axis_name:  # the examples are the gathered axis
        out = fnp.moveaxis(x, d, axis)
        if tiled:
            out = fnp.reshape(out, out.shape[:axis] + (-1,) + out.shape[axis + 2:])
        return out, None
    # Another vmap's axis sits in x at d: the gathered axis goes in front of it or after it.
    inner = axis + (d <= axis)
    out = all_gather_p.bind(x, axis_name=axis_name, axis_size=axis_size, axis=inner, tiled=tiled)
    return out, d + (not tiled and axis < d)


def _all_gather_vjp(ct, x, *, out, axis_name, axis_size, axis, tiled):
    # Every example's result holds each example's value: an input's cotangent is the sum over
    # the examples of their cotangents' slice at its own index.
    # Outside that vmap (a derivative taken around it), the input was one value gathered axis_size times.
    inside = any(m.name == "vmap" and m.data is not None and m.data[0] == axis_name for m in _stack)
    total = psum_p.bind(ct, axis_name=axis_name, axis_size=axis_size) if inside else ct
    if tiled:
        total = fnp.reshape(total, total.shape[:axis] + (axis_size, -1) + total.shape[axis + 1:])
    return (fnp.take(total, axis_index(axis_name), axis=axis) if inside else fnp.sum(total, axis=axis),)


all_gather_p = defprim("all_gather", impl=_all_gather_impl, shape=_all_gather_shape, batch=_all_gather_batch,
                       vjp=_all_gather_vjp, collective=True, residuals=())
all_gather_p.jvp = linear_jvp(all_gather_p)


def all_gather(x, axis_name, *, axis=0, tiled=False):
    """Every example's value, stacked along ``axis`` (concatenated when ``tiled``), per leaf of ``x``.

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.vmap(lambda x: fnx.lax.all_gather(x, "i"), axis_name="i")(fnp.array([1.0, 2.0]))
    Array([[1., 2.],
           [1., 2.]], dtype=float32)
    """
    if isinstance(axis_name, (tuple, list)):
        raise TypeError("all_gather: gather over one axis name at a time")
    size = _named_vmap(axis_name, "all_gather").data[1]

    def one(leaf):
        leaf = fnp.asarray(leaf)
        if tiled and leaf.ndim == 0:
            raise ShapeError("all_gather: tiled=True needs at least one axis to concatenate along")
        ax = _gather_axis(axis, leaf.ndim - tiled, "all_gather")
        return all_gather_p.bind(leaf, axis_name=axis_name, axis_size=size, axis=ax, tiled=tiled)
    return tree_util.map(one, x)


def pmax(x, axis_name):
    """The maximum over the examples of the vmap named ``axis_name`` (``jax.lax.pmax``)."""
    def one(leaf):
        for name in _names(axis_name):
            leaf = fnp.max(all_gather(leaf, name), axis=0)
        return leaf
    return tree_util.map(one, x)


def pmin(x, axis_name):
    """The minimum over the examples of the vmap named ``axis_name`` (``jax.lax.pmin``)."""
    def one(leaf):
        for name in _names(axis_name):
            leaf = fnp.min(all_gather(leaf, name), axis=0)
        return leaf
    return tree_util.map(one, x)


def axis_index(axis_name):
    """Each example's index along the vmap named ``axis_name`` (int32), as ``jax.lax.axis_index``."""
    main = _named_vmap(axis_name, "axis_index")
    return BatchTracer(main, fnp.arange(main.data[1], dtype="int32"), 0)


def axis_size(axis_name):
    """The number of examples of the vmap named ``axis_name`` (a product for a tuple of names)."""
    return _axis_size(axis_name, "axis_size")


def ppermute(x, axis_name, perm):
    """Each example's value sent to another: ``perm`` lists ``(source, destination)`` index pairs; an
    example no pair sends to gets zeros (``jax.lax.ppermute``)."""
    size = _axis_size(axis_name, "ppermute")
    source = [-1] * size
    for src, dst in perm:
        if not (0 <= src < size and 0 <= dst < size) or source[dst] != -1:
            raise ValueError(f"ppermute: perm {perm} must be (source, destination) pairs in range({size}), each "
                             f"destination once")
        source[dst] = src
    table = fnp.asarray(source, dtype="int32")

    def one(leaf):
        gathered = all_gather(leaf, axis_name)
        src = table[axis_index(axis_name)]
        picked = fnp.take(gathered, fnp.maximum(src, 0), axis=0)
        return fnp.where(src >= 0, picked, fnp.zeros_like(picked))
    return tree_util.map(one, x)


from ._lax_ops import *  # noqa: E402,F401,F403  (jax.lax's operations: rsqrt, dot_general, conv_general_dilated...)
from ._lax_ops import __all__ as _ops  # noqa: E402

__all__ += _ops
