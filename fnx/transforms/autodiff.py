"""Automatic differentiation: forward mode (JVP) and reverse mode (VJP).

Forward mode boxes each input with a tangent. Every primitive that meets a
:class:`JVPTracer` is handed to its ``jvp`` rule, which returns the output and
its tangent; a tangent of ``None`` is a symbolic zero and costs nothing.

Reverse mode records as it computes. Every primitive that meets a
:class:`ReverseTracer` runs at once on the unboxed values and leaves behind a
:class:`Node` holding what its ``vjp`` rule needs. ``backward_pass`` then walks
the nodes from the output back to the inputs in reverse topological order,
each node once after all of its consumers, asking each primitive for its input
cotangents and summing them where a value was used twice.

The backward pass runs *after* the transform's main trace has been popped, so
the operations the vjp rules perform are ordinary fnx operations seen by any
transform still active outside: that is all it takes for ``grad(grad(f))``,
``jvp(vjp(f))`` and ``hessian`` to work. ``loss.backward()`` uses the same
``backward_pass``.
"""
import functools
import heapq
import itertools
import warnings
import weakref

import numpy as np

from .. import numpy as fnp  # fnx.numpy is imported first (fnx/__init__.py)
from ..numpy._base import constant
from ..core import tree as tree_util
from ..core.array import Array, wrap
from ..core.dtypes import float0, is_differentiable
from ..core.primitive import NOT_DIFFERENTIABLE, Abstract, Primitive
from ..core.trace import Trace, Tracer, bind, eval_primitive, live_levels, new_main
from ..errors import (ArgnumsError, DTypeError, ImplicitGradError, NonScalarOutputError, ShapeError,
                      TangentDTypeError, TreeError)


# ----- forward mode -----------------------------------------------------------

class JVPTracer(Tracer):
    __slots__ = ("primal", "tangent")

    def __init__(self, main, primal, tangent):
        self._main, self.primal, self.tangent = main, primal, tangent


class JVPTrace(Trace):
    __slots__ = ()

    def process(self, prim, args, params):
        main = self.main
        primals, tangents = [], []
        nonzero = False
        for a in args:
            if type(a) is JVPTracer and a._main is main:
                primals.append(a.primal)
                tangents.append(a.tangent)
                nonzero = True
            else:
                primals.append(a)
                tangents.append(None)
        if not nonzero or prim.jvp is NOT_DIFFERENTIABLE:
            return prim.bind(*primals, **params)
        out, t_out = prim.jvp(primals, tangents, **params)
        if prim.multiple_results:
            return tuple(self._box(o, t) for o, t in zip(out, t_out))
        return self._box(out, t_out)

    def _box(self, primal, tangent):
        if tangent is None or not is_differentiable(primal.dtype):
            return primal
        return JVPTracer(self.main, primal, tangent)

    def _split(self, args):
        primals = [a.primal if type(a) is JVPTracer and a._main is self.main else a for a in args]
        tangents = [a.tangent if type(a) is JVPTracer and a._main is self.main else None for a in args]
        return primals, tangents

    def process_custom_jvp(self, call, args):
        primals, tangents = self._split(args)
        tangents = [fnp.zeros_like(p) if t is None else t for p, t in zip(primals, tangents)]
        out, t_out = call.rule(tuple(primals), tuple(tangents))
        return [self._box(o, t) for o, t in zip(out, t_out)]


def jvp(f, primals, tangents, has_aux=False):
    """Forward-mode derivative: ``(f(*primals), J·tangents)``.

    Args:
      f: a function of pytrees of arrays.
      primals, tangents: tuples (or lists) of the same structure, one entry per
        argument of ``f``; each tangent has its primal's shape and dtype.

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.jvp(fnp.sin, (0.0,), (2.0,))
    (Array(0., dtype=float32), Array(2., dtype=float32))
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp: primals and tangents must be tuples or lists, one entry per argument of f")
    p_flat, p_tree = tree_util.flatten(tuple(primals))
    t_flat, t_tree = tree_util.flatten(tuple(tangents))
    if p_tree != t_tree:
        raise TreeError(f"jvp: primals {p_tree} and tangents {t_tree} have different structures")
    given, p_flat = p_flat, [fnp.asarray(p) for p in p_flat]
    t_flat = [_tangent_like("jvp", "tangent", i, t, p) for i, (t, p) in enumerate(zip(t_flat, p_flat))]
    with new_main(JVPTrace, "jvp") as main:
        boxed = [JVPTracer(main, p, t) if is_differentiable(p.dtype) else _as_given(g, p)
                 for g, p, t in zip(given, p_flat, t_flat)]
        out = f(*p_tree.unflatten(boxed))
        if has_aux:
            out, aux = _output_and_aux(f, out)
    out_flat, out_tree = tree_util.flatten(out)
    primals_out, tangents_out = [], []
    for o in out_flat:
        if type(o) is JVPTracer and o._main is main:
            primals_out.append(o.primal)
            tangents_out.append(o.tangent)
        else:
            o = fnp.asarray(o)
            primals_out.append(o)
            tangents_out.append(fnp.zeros_like(o))
    res = out_tree.unflatten(primals_out), out_tree.unflatten(tangents_out)
    if has_aux:
        return res + (_lower(aux, main),)
    return res


def _as_given(given, array):
    """An operand that is not differentiated, as the function sees it: a Python int or bool stays one (weak, as
    JAX's Python scalars are: ``x * 2`` keeps float32), anything else as ``array``."""
    return given if type(given) is int or type(given) is bool else array


def _lower(tree, main):
    """``tree`` with ``main``'s boxes taken off (values returned beside a derivative)."""
    def lower(x):
        while isinstance(x, Tracer) and x._main is main:
            x = x.primal
        return x
    return tree_util.map(lower, tree)


# ----- reverse mode -------------------------------------------------------------

_creation_order = itertools.count()
_new = object.__new__  # arrays, nodes and tracers are made once per recorded operation: no __init__ call


class Node:
    """One recorded primitive application: what the backward pass needs of it.

    ``parents[i]`` is ``(node, output_index)`` for an input that was traced by
    this transform and ``None`` for a constant. A leaf has ``prim`` None.
    """

    __slots__ = ("prim", "params", "parents", "primals", "out", "seq", "__weakref__")

    def __init__(self, prim, params, parents, primals, out):
        self.prim, self.params, self.parents, self.primals, self.out = prim, params, parents, primals, out
        self.seq = next(_creation_order)  # a node is always created after the nodes it consumes

    def __repr__(self):
        return f"<Node {self.prim.name if self.prim else 'leaf'}>"


_abstracts = {}  # (shape, dtype, device) -> Abstract: shared, as they are never mutated


def _abstract(x):
    if type(x) is Array:
        v = x._value
        key = (v.shape, v.dtype, x._device)
        hit = _abstracts.get(key)
        if hit is None:
            if len(_abstracts) >= 1024:
                _abstracts.clear()
            hit = _abstracts[key] = Abstract(*key)
        return hit
    if isinstance(x, Array):
        return Abstract(x.shape, x.dtype, x.device)
    return x


def _residual_plan(prim):
    """What ``record`` keeps of ``prim``'s operands and outputs, decided once per primitive.

    ``(inputs, out)``: ``inputs`` is 0 (keep every operand), 1 (keep the untraced
    ones, and the traced ones too when several are traced: ``"partners"``) or 2 (keep
    only the untraced ones); ``out`` is True (keep the output), False (keep nothing
    of it) or, for several outputs, the indices kept.
    """
    keep = prim.residuals
    if keep is None:
        plan = (0, True)
    else:
        inputs = 0 if "inputs" in keep else 1 if "partners" in keep else 2
        if "out" in keep:
            out = True
        elif prim.multiple_results:
            out = tuple(int(r[3:]) for r in keep if r[:3] == "out" and r[3:].isdigit())
        else:
            out = False
        plan = (inputs, out)
    _plans[prim] = plan
    return plan


_plans = {}


def record(prim, params, parents, primals, out):
    """The Node for one application of ``prim``, keeping only what its VJP reads.

    Dropping what the rule never reads is what lets an intermediate value die as
    soon as the forward pass is done with it (``relu(x @ w)`` need not keep
    ``x @ w``). Untraced operands are kept: they are constants that live
    elsewhere anyway, and describing them would cost more than holding them.
    """
    plan = _plans.get(prim) or _residual_plan(prim)
    inputs, keep_out = plan
    if inputs and (inputs == 2 or parents.count(None) >= len(parents) - 1):
        for i, p in enumerate(parents):  # ``primals`` is the caller's fresh list: rewritten in place
            if p is not None:
                primals[i] = _abstract(primals[i])
    if keep_out is not True:
        out = (tuple([o if i in keep_out else _abstract(o) for i, o in enumerate(out)])
               if keep_out is not False else None)
    node = _new(Node)
    node.prim, node.params, node.parents, node.primals, node.out = prim, params, parents, primals, out
    node.seq = next(_creation_order)
    return node


class ReverseTracer(Tracer):
    __slots__ = ("primal", "node", "index")

    def __init__(self, main, primal, node, index=0):
        self._main, self.primal, self.node, self.index = main, primal, node, index

    # One level of lookup when the primal is a concrete array (read once or twice per recorded operation).
    @property
    def shape(self):
        p = self.primal
        return p._value.shape if type(p) is Array else p.shape

    @property
    def dtype(self):
        p = self.primal
        return p._value.dtype if type(p) is Array else p.dtype

    @property
    def device(self):
        p = self.primal
        return p._device if type(p) is Array else p.device


class ReverseTrace(Trace):
    __slots__ = ()
    _tracer_type = ReverseTracer  # what _box makes (the tape makes TapeTracers)

    def process(self, prim, args, params):
        main = self.main
        if main.level <= _frozen_level[0]:  # no_grad() entered inside this transform (torch.func's rule)
            return bind(prim, [a.primal if type(a) is ReverseTracer and a._main is main else a for a in args], params)
        primals, parents, payloads = [], [], []
        device = None
        for a in args:
            if type(a) is ReverseTracer and a._main is main:
                parents.append((a.node, a.index))
                a = a.primal
            else:
                parents.append(None)
            primals.append(a)
            if payloads is not None:
                if type(a) is Array and (a._device is device or device is None):
                    device = a._device
                    payloads.append(a._value)
                else:  # a tracer of an outer transform, a Python value or a second device
                    payloads = None
        if payloads is not None and device is not None and device.platform == "cpu" and not prim.transfers:
            # run_on_cpu's body, written inline: this runs once per recorded operation.
            result = prim.impl(np, *payloads, **params)
            if prim.multiple_results:
                out = tuple([wrap(r, device) for r in result])
            else:
                out = _new(Array)
                out._value, out._device = result, device
        elif any(type(a) is not Array and isinstance(a, Tracer) for a in primals):
            out = bind(prim, primals, params)
        else:
            out = eval_primitive(prim, primals, params)
        if prim.vjp is NOT_DIFFERENTIABLE:
            return out
        return self._box_outputs(prim, out, record(prim, params, parents, primals, out))

    def _box_outputs(self, prim, out, node):
        if prim.multiple_results:
            box = self._box
            return tuple([box(o, node, i) for i, o in enumerate(out)])
        return self._box(out, node, 0)

    def _box(self, value, node, index):
        if (value._value.dtype if type(value) is Array else value.dtype).kind not in "fc":
            return value  # only floating values have cotangents
        tracer = _new(self._tracer_type)
        tracer._main, tracer.primal, tracer.node, tracer.index = self.main, value, node, index
        return tracer

    def _unbox(self, a):
        """``(primal, parent)`` of one operand: its value, and ``(node, index)`` when this trace records it."""
        if isinstance(a, ReverseTracer) and a._main is self.main:
            return a.primal, (a.node, a.index)
        return a, None

    def _record_call(self, name, args, fun_of_primals, symbolic_zeros=False):
        """Records a call whose backward rule is a closure (custom_vjp, custom_jvp, a module's backward hooks).

        The closure is handed the node's operands when the backward pass runs: the
        recorded values, or (``create_graph``) the same values as tracers of the tape.
        With ``symbolic_zeros`` it gets None as the cotangent of an output nobody differentiated.
        """
        unboxed = [self._unbox(a) for a in args]
        primals, parents = [u[0] for u in unboxed], [u[1] for u in unboxed]
        if 0 < self.main.level <= _frozen_level[0]:  # under no_grad() inside this transform: nothing to record
            return fun_of_primals(primals)[0]
        out, vjp_closure = fun_of_primals(primals)
        out_flat, out_tree = tree_util.flatten(out)
        prim = Primitive(name, impl=None, shape=None, multiple_results=True, symbolic_zeros=symbolic_zeros,
                         vjp=lambda cts, *given, out, **__: vjp_closure(cts, list(given)))
        node = Node(prim, {}, parents, primals, tuple(out_flat))
        return out_tree.unflatten([self._box(o, node, i) if isinstance(o, Array) else o
                                   for i, o in enumerate(out_flat)])

    def process_custom_vjp(self, call, args):
        def run(primals):
            out, res = call.fwd(*primals)

            def vjp_closure(cts, given):
                # Operands given as tracers (a differentiable backward pass) need residuals computed from
                # them, so that the second derivative sees how the residuals depend on the operands.
                residuals = res if all(g is p for g, p in zip(given, primals)) else call.fwd(*given)[1]
                return call.bwd(residuals, list(cts))
            return list(out), vjp_closure
        return self._record_call(repr(call), args, run)

    def process_custom_jvp(self, call, args):
        # The tangent output of a JVP rule is linear in the tangents, so the VJP
        # of that linear map at zero tangents is its transpose: the reverse rule.
        from .custom import _transposed_rule

        def run(primals):
            return call.fun(*primals), lambda cts, given: _transposed_rule(call, primals, given, cts)
        return self._record_call(repr(call), args, run)


def toposort(roots):
    """Nodes reachable from ``roots``, each after every node that consumes it."""
    pending = {}
    stack = list(roots)
    seen = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for p in node.parents:
            if p is not None:
                parent = p[0]
                pending[parent] = pending.get(parent, 0) + 1
                stack.append(parent)
    ready = [r for r in dict.fromkeys(roots) if pending.get(r, 0) == 0]
    order = []
    while ready:
        node = ready.pop()
        order.append(node)
        for p in node.parents:
            if p is not None:
                parent = p[0]
                pending[parent] -= 1
                if pending[parent] == 0:
                    ready.append(parent)
    return order


def backward_pass(roots, free=False, create_graph=False, capture=()):
    """Runs reverse mode from ``roots``, a list of ``(node, index, cotangent)``.

    Returns ``{leaf_node: cotangent}``. With ``free=True`` each node lets go of
    its saved values once processed (``loss.backward()`` without retain_graph).
    Each node of ``capture`` that the pass reaches is also in the result, mapped
    to the list of cotangents of its outputs (``torch.autograd.grad`` of an
    intermediate value). With ``create_graph`` the rules see the tape's nodes'
    saved values as tracers of the tape, so the cotangents are recorded on it
    and can be differentiated again (``create_graph=True`` in PyTorch).

    Nodes are visited latest-created first: a node is created after every node
    it consumes, so by the time it is reached all of its consumers have passed
    their cotangents to it. Only nodes that received a cotangent are visited.
    """
    add, push, pop = fnp.add, heapq.heappush, heapq.heappop
    hooked = _hooked.data  # the weak dictionary's plain dict: empty unless some value has a hook
    anomaly = _anomaly[0]
    cts = {}  # node -> one cotangent slot per output
    pending = []  # heap of (-seq, node): the node created last comes out first
    grads = {}
    node = None
    parents, in_cts = [(n, i) for n, i, _ in roots], [c for _, _, c in roots]  # the seeds come first
    while True:
        # Written inline: this runs once per recorded operation.
        for parent, c in zip(parents, in_cts):
            if parent is not None and c is not None:
                if callable(c):  # a rule may defer a cotangent nobody might need (see numpy._base.binary)
                    c = c()
                target, index = parent
                if target.prim is None and not hooked:  # a leaf: its sum is the result, no visit needed
                    prev = grads.get(target)
                    grads[target] = c if prev is None else add(prev, c)
                    continue
                slots = cts.get(target)
                if slots is None:
                    out = target.out  # a tuple exactly when the primitive has several outputs
                    slots = cts[target] = [None] * (len(out) if type(out) is tuple else 1)
                    push(pending, (-target.seq, target))
                prev = slots[index]
                slots[index] = c if prev is None else add(prev, c)
        if free and node is not None:
            node.primals = node.out = None
        # The rule's closures hold the node's residuals: let them go before the next node runs.
        in_cts = ct = node_cts = c = out = None
        if not pending:
            return grads
        node = pop(pending)[1]
        node_cts = cts.pop(node)
        if hooked and node in _hooked:
            _run_tensor_hooks(node, node_cts)
        prim = node.prim
        if prim is None:
            grads[node] = node_cts[0]
            parents, in_cts, node = (), (), None
            continue
        if capture and node in capture:
            grads[node] = list(node_cts)
        if node.primals is None:
            from ..errors import GraphError
            raise GraphError(
                f"backward through {prim.name} a second time: its saved values were freed by an earlier "
                f"backward(); call backward(retain_graph=True) the first time to keep them")
        if prim.multiple_results:  # outputs nobody differentiated get a zero that allocates nothing
            ct = tuple(node_cts) if prim.symbolic_zeros else tuple(
                _broadcast_zero(o) if c is None else c for o, c in zip(node.out, node_cts))
        else:
            ct = node_cts[0]
        if create_graph:
            in_cts = prim.vjp(ct, *_tape_operands(node), out=_tape_outputs(node), **node.params)
        else:
            in_cts = prim.vjp(ct, *node.primals, out=node.out, **node.params)
        if anomaly:
            in_cts = _refuse_nan(prim, in_cts)
        parents = node.parents


# torch.autograd.set_detect_anomaly: while on, every rule's cotangents are checked for NaN as they are made.
_anomaly = [False]


def _refuse_nan(prim, in_cts):
    from ..errors import GraphError
    checked = []
    for i, c in enumerate(in_cts):
        if callable(c):
            c = c()
        if c is not None and c.dtype.kind in "fc" and bool(fnp.any(fnp.isnan(c))):
            raise GraphError(f"detect_anomaly: the derivative rule of '{prim.name}' returned NaN values in its "
                             f"{i}th output (the cotangent of its operand {i})")
        checked.append(c)
    return checked


# Hooks on values of the tape (``register_hook``, ``retain_grad``), keyed by the value's node: a value is
# ``(node, output index)``, and its tracer may be one of several boxing it. Weak keys: a hook lives as long as
# the graph that would run it. backward_pass tests its plain dict (``.data``) once per node: without hooks, the
# cost is one truth test of an empty dict.

_hooked = weakref.WeakKeyDictionary()  # node -> {"hooks": {index: {id: fn}}, "retained": {index: grad}}


def _hook_entry(node):
    entry = _hooked.get(node)
    if entry is None:
        entry = _hooked[node] = {"hooks": {}, "retained": {}}
    return entry


def _run_tensor_hooks(node, node_cts):
    """Runs the hooks of ``node``'s outputs on their cotangents (in ``node_cts``, replaced in place by
    what a hook returns), then adds them to the ``.grad`` of the outputs that retain it, as PyTorch does."""
    entry = _hooked[node]
    for index, fns in entry["hooks"].items():
        g = node_cts[index]
        if g is None:
            continue
        g = torch_convention(g)  # what the hooks see and return
        for fn in list(fns.values()):
            new = fn(g)
            if new is not None:
                if getattr(new, "shape", None) != g.shape:
                    from ..errors import GraphError
                    raise GraphError(f"the hook {getattr(fn, '__name__', fn)!r} returned a gradient of shape "
                                     f"{getattr(new, 'shape', type(new).__name__)} for a value of shape {g.shape}")
                g = new
        node_cts[index] = torch_convention(g)
    retained = entry["retained"]
    for index, prev in retained.items():
        g = torch_convention(node_cts[index])
        if g is not None:
            retained[index] = g if prev is None else prev + g


def _tape_operands(node):
    """A tape node's saved operands, each traced one as a tracer of the tape again (for create_graph)."""
    return [TAPE.trace._box(v, *parent) if parent is not None and isinstance(v, Array) else v
            for v, parent in zip(node.primals, node.parents)]


def _tape_outputs(node):
    out, box = node.out, TAPE.trace._box
    if type(out) is tuple:
        return tuple([box(o, node, i) if isinstance(o, Array) else o for i, o in enumerate(out)])
    return box(out, node, 0) if isinstance(out, Array) else out


def _broadcast_zero(like):
    return constant(False if like.dtype.kind == "b" else 0, like.dtype, like.shape, like.device)


def torch_convention(c):
    """A cotangent as PyTorch states it, from fnx's (JAX's), or back: the same for real values, the conjugate
    for complex ones. PyTorch's gradient of a real loss is the conjugate Wirtinger derivative, the conjugate of
    JAX's, and its vector-Jacobian product is ``conj(vjp(conj(v)))`` ("Autograd for Complex Numbers"); the
    tape's users (``.grad``, ``autograd.grad``, hooks, ``Function.backward``) see PyTorch's."""
    if type(c) is Array:  # (the common case, read without the dtype property: every backward() passes here)
        return c if c._value.dtype.kind != "c" else fnp.conj(c)
    return fnp.conj(c) if c is not None and c.dtype.kind == "c" else c


def vjp(f, *primals, has_aux=False):
    """Reverse-mode derivative: ``(f(*primals), vjp_fn)``, with ``vjp_fn(ct)``
    returning one cotangent per primal (a tuple), like ``jax.vjp``.

    >>> import fnx, fnx.numpy as fnp
    >>> out, f_vjp = fnx.vjp(lambda x: x ** 2, fnp.array([1., 2.]))
    >>> f_vjp(fnp.array([1., 1.]))
    (Array([2., 4.], dtype=float32),)
    """
    return _vjp(f, primals, has_aux)


def _vjp(f, primals, has_aux, refuse=None):
    """:func:`vjp`; ``refuse()``, when given, raises the caller's error for an input that is not floating."""
    given, p_tree = tree_util.flatten(primals)
    p_flat = [fnp.asarray(p) for p in given]
    if refuse is not None and not all(is_differentiable(p.dtype) for p in p_flat):
        refuse()
    with new_main(ReverseTrace, "vjp") as main:
        leaves = [Node(None, None, (), None, None) for _ in p_flat]
        boxed = [ReverseTracer(main, p, leaf) if is_differentiable(p.dtype) else _as_given(g, p)
                 for g, p, leaf in zip(given, p_flat, leaves)]
        out = f(*p_tree.unflatten(boxed))
        if has_aux:
            out, aux = _output_and_aux(f, out)
    out_flat, out_tree = tree_util.flatten(out)
    roots, out_primals = [], []
    for o in out_flat:
        if type(o) is ReverseTracer and o._main is main:
            roots.append((o.node, o.index))
            out_primals.append(o.primal)
        else:
            roots.append(None)
            out_primals.append(fnp.asarray(o))

    def vjp_fn(ct, _free=False):
        ct_flat, ct_tree = tree_util.flatten(ct)
        if ct_tree != out_tree:
            raise TreeError(f"vjp_fn: the cotangent's structure {ct_tree} differs from the output's {out_tree}")
        seeds = []
        for i, (r, c, o) in enumerate(zip(roots, ct_flat, out_primals)):
            c = _tangent_like("vjp_fn", "cotangent", i, c, o)
            if r is not None:
                seeds.append((r[0], r[1], c))
        grads = backward_pass(seeds, free=_free)
        return p_tree.unflatten([_zero_or(grads.get(leaf), p, fnp) for leaf, p in zip(leaves, p_flat)])

    out_value = out_tree.unflatten(out_primals)
    if has_aux:
        return out_value, vjp_fn, _lower(aux, main)
    return out_value, vjp_fn


def _tangent_like(fname, what, i, t, p):
    """The tangent (or cotangent) ``t`` of the value ``p``: a Python number takes ``p``'s dtype, as a weak
    scalar does; an array must have ``p``'s shape and, for a floating ``p``, its dtype (as JAX checks)."""
    if isinstance(t, (int, float, complex)) and not isinstance(t, bool):
        t = fnp.asarray(t, dtype=p.dtype if is_differentiable(p.dtype) else None)
    else:
        t = fnp.asarray(t)
    if t.shape != p.shape:
        raise ShapeError(f"{fname}: {'primal' if what == 'tangent' else 'output'} {i} has shape {p.shape} but its "
                         f"{what} has shape {t.shape}")
    if is_differentiable(p.dtype) and t.dtype != p.dtype:
        raise TangentDTypeError(f"{fname}: {what} {i} has dtype {t.dtype}, but its "
                                f"{'primal' if what == 'tangent' else 'output'} has dtype {p.dtype}; give it the "
                                f"same dtype (e.g. t.astype({str(p.dtype)!r}))")
    return t


def _output_and_aux(f, result):
    """``(output, aux)`` of a function declared ``has_aux=True``, or a clear error when it returned something else."""
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        got = ("an array" if isinstance(result, Array) else
               f"a {type(result).__name__}" + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""))
        raise TypeError(f"{getattr(f, '__name__', 'the function')} was declared has_aux=True, so it must return a "
                        f"pair (output, auxiliary data); it returned {got}")
    return result[0], result[1]


def _zero_or(g, p, fnp):
    return fnp.zeros_like(p) if g is None else g


def _check_argnums(fname, argnums, nargs):
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for n in nums:
        if not isinstance(n, int) or not -nargs <= n < nargs:
            raise ArgnumsError(f"{fname}: argnums {argnums} out of range for a function called with {nargs} "
                               f"positional argument{'s' if nargs != 1 else ''}")
    resolved = [n % nargs for n in nums]
    if len(resolved) > 1 and len(set(resolved)) < len(resolved):
        raise ArgnumsError(f"{fname}: argnums {argnums} names an argument twice; each argument can be "
                           f"differentiated once")
    return resolved


def _partial(f, args, kwargs, nums):
    def g(*dyn):
        full = list(args)
        for n, a in zip(nums, dyn):
            full[n] = a
        return f(*full, **kwargs)
    g.__name__ = getattr(f, "__name__", "the function")  # errors name the user's function
    return g


def _check_inputs(fname, args, nums, holomorphic=False, allow_int=False, real=False):
    """JAX's checks of the differentiated arguments' dtypes (``real``: jacfwd's, which refuses complex ones)."""
    for n in nums:
        for leaf in tree_util.leaves(args[n]):
            dt = fnp.asarray(leaf).dtype
            if holomorphic:
                if dt.kind != "c":
                    raise DTypeError(f"{fname} with holomorphic=True requires inputs with complex dtype, but "
                                     f"argument {n} has dtype {dt}")
            elif real and dt.kind != "f":
                raise DTypeError(f"{fname} requires real-valued inputs, but argument {n} has dtype {dt}. For "
                                 f"holomorphic differentiation, pass holomorphic=True; for complex or integer "
                                 f"inputs of other functions, use fnx.jvp directly")
            elif not is_differentiable(dt) and not allow_int:
                raise DTypeError(
                    f"{fname}: argument {n} has dtype {dt}; only floating (or complex) inputs can be "
                    f"differentiated. Pass it as a float (e.g. x.astype('float32')), leave it out of argnums, "
                    f"or set allow_int=True (its gradient is then float0 zeros, as in JAX)")


def _check_output(fname, out, holomorphic):
    """JAX's check of a reverse-mode output's dtype: real floating, or complex with ``holomorphic``."""
    dt = out.dtype
    if holomorphic:
        if dt.kind != "c":
            raise DTypeError(f"{fname} with holomorphic=True requires outputs with complex dtype, but got {dt}")
    elif dt.kind == "c":
        raise DTypeError(f"{fname} requires real-valued outputs, but got {dt}. For holomorphic "
                         f"differentiation, pass holomorphic=True; for other functions with complex outputs, "
                         f"use fnx.vjp directly")
    elif dt.kind != "f":
        raise DTypeError(f"{fname} requires a floating output, but the output has dtype {dt}; for functions "
                         f"with integer outputs, use fnx.vjp directly")


def _float0_for_ints(grads, dyn):
    """``allow_int``: the gradient of an integer or boolean input is float0 zeros of its shape (as in JAX)."""
    g_flat, g_tree = tree_util.flatten(grads)
    x_flat = [fnp.asarray(x) for x in tree_util.leaves(dyn)]
    return g_tree.unflatten([g if is_differentiable(x.dtype) else np.zeros(x.shape, float0)
                             for g, x in zip(g_flat, x_flat)])


def value_and_grad(f, argnums=0, has_aux=False, holomorphic=False, allow_int=False):
    """Like :func:`grad`, but the new function returns ``(value, gradient)``.

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.value_and_grad(lambda x: fnp.sum(x ** 2))(fnp.array([1., 2.]))
    (Array(5., dtype=float32), Array([2., 4.], dtype=float32))
    """

    def value_and_grad_f(*args, **kwargs):
        nums = _check_argnums("grad", argnums, len(args))
        if holomorphic:
            _check_inputs("grad", args, nums, holomorphic=True)
        dyn = tuple([args[n] for n in nums])
        res = _vjp(_partial(f, args, kwargs, nums), dyn, has_aux,
                   refuse=None if allow_int else lambda: _check_inputs("grad", args, nums))
        out, vjp_fn = res[0], res[1]
        if not isinstance(out, Array) or out.shape != ():
            shape = getattr(out, "shape", type(out).__name__)
            raise NonScalarOutputError(f"grad requires a function with a scalar output, but the output has shape "
                                       f"{shape}; reduce it first (e.g. with .sum()) or use jacrev / vjp for "
                                       f"non-scalar outputs")
        if out.dtype.kind != "f" or holomorphic:
            _check_output("grad", out, holomorphic)
        g = vjp_fn(fnp.ones_like(out), _free=True)  # grad runs the backward pass once: free as it goes
        if allow_int:
            g = _float0_for_ints(g, dyn)
        g = g[0] if isinstance(argnums, int) else g
        return ((out, res[2]) if has_aux else out), g

    return value_and_grad_f


def grad(f, argnums=0, has_aux=False, holomorphic=False, allow_int=False):
    """The gradient of a scalar function, as a new function (``jax.grad``).

    Args:
      f: function returning a scalar array (and aux data when ``has_aux``).
      argnums: which positional argument(s) to differentiate, an int or tuple.
      has_aux: ``f`` returns ``(value, aux)``; the new function then returns
        ``(gradient, aux)``.
      holomorphic: ``f`` is promised holomorphic: complex inputs and output,
        and the gradient is the complex derivative ``f'(z)``.
      allow_int: integer and boolean arguments are allowed; their gradient is
        an ndarray of zeros of dtype :data:`float0` (JAX's trivial tangent type).

    Raises:
      ShapeError: ``f``'s output is not a scalar.
      DTypeError: a differentiated argument has an integer or boolean dtype
        (without ``allow_int``), the output is complex (without
        ``holomorphic``) or integer, or ``holomorphic`` meets a real value.

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.grad(lambda x: x * fnx.grad(lambda y: x + y)(1.))(3.)
    Array(1., dtype=float32)
    """
    vg = value_and_grad(f, argnums, has_aux, holomorphic, allow_int)

    def grad_f(*args, **kwargs):
        value, g = vg(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return grad_f


# ----- Jacobians ------------------------------------------------------------------
#
# A Jacobian is one batched pass, not a loop: jacrev pulls every row of the
# identity back through a single vmapped VJP, jacfwd pushes every column forward
# through a single vmapped JVP. The graph does not grow with the output size.

def _basis(x, fnp):
    """The identity over ``x``'s elements, shaped ``(x.size,) + x.shape``."""
    return fnp.reshape(fnp.eye(x.size, dtype=x.dtype, device=x.device), (x.size,) + x.shape)


def jacrev(f, argnums=0, has_aux=False, holomorphic=False, allow_int=False):
    """The Jacobian by reverse mode: one VJP, vmapped over the rows of the identity.

    For an input of shape ``S`` and an output of shape ``T`` the Jacobian has
    shape ``T + S``; pytrees of inputs and outputs nest as in JAX (the output's
    structure outside, the inputs' inside).

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.jacrev(lambda x: x ** 2)(fnp.array([1.0, 2.0]))
    Array([[2., 0.],
           [0., 4.]], dtype=float32)
    """
    from .vmap import vmap

    def jacrev_f(*args, **kwargs):
        nums = _check_argnums("jacrev", argnums, len(args))
        _check_inputs("jacrev", args, nums, holomorphic, allow_int)
        dyn = [args[n] for n in nums]
        res = vjp(_partial(f, args, kwargs, nums), *dyn, has_aux=has_aux)
        out, vjp_fn = res[0], res[1]
        out_flat, out_tree = tree_util.flatten(out)
        for o in out_flat:
            _check_output("jacrev", o, holomorphic)
        in_flat, in_tree = tree_util.flatten(tuple(dyn))
        in_flat = [fnp.asarray(x) for x in in_flat]
        per_out = []
        for k, o in enumerate(out_flat):
            zeros = [fnp.zeros_like(oo) for oo in out_flat]

            def pull(e, k=k, zeros=zeros):
                cts = zeros[:k] + [e] + zeros[k + 1:]
                return tree_util.leaves(vjp_fn(out_tree.unflatten(cts)))
            rows = vmap(pull)(_basis(o, fnp)) if o.size else [fnp.zeros((0,) + x.shape, x.dtype) for x in in_flat]
            blocks = [fnp.reshape(r, o.shape + x.shape) if is_differentiable(x.dtype)
                      else np.zeros(o.shape + x.shape, float0) for r, x in zip(rows, in_flat)]
            jac = in_tree.unflatten(blocks)
            per_out.append(jac[0] if isinstance(argnums, int) else jac)
        result = out_tree.unflatten(per_out)
        return (result, res[2]) if has_aux else result

    return jacrev_f


def jacfwd(f, argnums=0, has_aux=False, holomorphic=False):
    """The Jacobian by forward mode: one JVP per input, vmapped over the identity's columns.

    Same layout as :func:`jacrev`.

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.jacfwd(lambda x: fnp.sum(x ** 2))(fnp.array([1.0, 2.0]))
    Array([2., 4.], dtype=float32)
    """
    from .vmap import vmap

    def jacfwd_f(*args, **kwargs):
        nums = _check_argnums("jacfwd", argnums, len(args))
        _check_inputs("jacfwd", args, nums, holomorphic, real=True)
        dyn = tuple(args[n] for n in nums)
        in_flat, in_tree = tree_util.flatten(dyn)
        in_flat = [fnp.asarray(x) for x in in_flat]
        g = _partial(f, args, kwargs, nums)
        primals = in_tree.unflatten(in_flat)
        zeros = [fnp.zeros_like(x) for x in in_flat]
        aux = None
        columns = []  # per input leaf: the output tangents for each of its basis directions
        for i, x in enumerate(in_flat):
            def push(t, i=i):
                tangents = zeros[:i] + [t] + zeros[i + 1:]
                res = jvp(g, primals, in_tree.unflatten(tangents), has_aux=has_aux)
                return tree_util.leaves(res[1])
            columns.append(vmap(push)(_basis(x, fnp)) if x.size else None)
        out = g(*primals)
        if has_aux:
            out, aux = _output_and_aux(g, out)
        out_flat, out_tree = tree_util.flatten(out)
        out_flat = [fnp.asarray(o) for o in out_flat]
        if holomorphic:
            for o in out_flat:
                _check_output("jacfwd", o, True)
        per_out = []
        for k, o in enumerate(out_flat):
            blocks = []
            for x, cols in zip(in_flat, columns):
                block = fnp.moveaxis(cols[k], 0, -1) if cols is not None else fnp.zeros(o.shape + (0,), o.dtype)
                blocks.append(fnp.reshape(block, o.shape + x.shape))
            jac = in_tree.unflatten(blocks)
            per_out.append(jac[0] if isinstance(argnums, int) else jac)
        result = out_tree.unflatten(per_out)
        return (result, aux) if has_aux else result

    return jacfwd_f


def hessian(f, argnums=0, has_aux=False, holomorphic=False):
    """The Hessian, ``jacfwd(jacrev(f))`` (forward over reverse)."""
    return jacfwd(jacrev(f, argnums, has_aux, holomorphic), argnums, has_aux, holomorphic)


def saved_residuals(f, *args):
    """The arrays reverse mode keeps for the backward pass of ``f(*args)``.

    Returns a list of ``ShapedArray``: one per distinct array held by the
    recorded graph. Useful to see what :func:`fnx.checkpoint` saves.

    Each primitive keeps only what its VJP reads: ``sin`` keeps its input, not
    its output, so two sines keep ``x`` and ``sin(x)``:

    >>> import fnx, fnx.numpy as fnp
    >>> len(fnx.saved_residuals(lambda x: fnp.sin(fnp.sin(x)), fnp.ones(3)))
    2
    """
    roots = []

    def collect(x):
        if type(x) is ReverseTracer:
            roots.append(x.node)
    flat, tree = tree_util.flatten(args)
    flat = [fnp.asarray(x) for x in flat]
    with new_main(ReverseTrace, "saved_residuals") as main:
        leaves = [Node(None, None, (), None, None) for _ in flat]
        boxed = [ReverseTracer(main, x, leaf) if is_differentiable(x.dtype) else x for x, leaf in zip(flat, leaves)]
        result = f(*tree.unflatten(boxed))
        tree_util.map(collect, result)
    seen = {}
    for node in toposort(roots):
        if node.prim is None:
            continue
        held = list(node.primals) + list(node.out if node.prim.multiple_results else (node.out,))
        for v in held:
            if isinstance(v, Array):
                seen[id(v)] = v.aval
    return list(seen.values())


# ----- the tape: loss.backward() --------------------------------------------------------------
#
# Object-style code differentiates without a function to transform: parameters are
# leaves of a permanent reverse-mode trace, the *tape*, whose main sits below every
# transform (level 0) and never ends. Ops that touch a Parameter record nodes on it
# exactly as vjp's trace does, and ``backward()`` runs the same ``backward_pass``.

class TapeTracer(ReverseTracer):
    """An array computed from Parameters: prints and converts like its value."""

    __slots__ = ()

    def __repr__(self):
        return repr(self.primal)[:-1] + f", grad_fn=<{_grad_fn_name(self.node.prim)}>)"

    def __str__(self):
        return str(self.primal)


class TapeTrace(ReverseTrace):
    __slots__ = ()

    _tracer_type = TapeTracer

    def process(self, prim, args, params):
        main = self.main
        primals, parents = [], []
        recorded = False
        for a in args:
            if isinstance(a, ReverseTracer) and a._main is main:
                primals.append(a.primal)
                if a.node is not None and _grad_enabled[0]:
                    parents.append((a.node, a.index))
                    recorded = True
                else:
                    parents.append(None)
            else:
                primals.append(a)
                parents.append(None)
        # The tape sits below every transform: when it processes an operation, no operand is traced by
        # another transform, so the unboxed operands are concrete.
        out = eval_primitive(prim, primals, params)
        if not recorded:
            return out
        if prim.vjp is NOT_DIFFERENTIABLE:
            if not prim.piecewise_constant:
                return out
            # PyTorch's floor, sign, round...: the output requires grad, and the gradient it passes back is zero.
            return self._box(out, Node(_zero_rule(prim), params, parents, primals, out), 0)
        return self._box_outputs(prim, out, record(prim, params, parents, primals, out))

    def _unbox(self, a):
        if isinstance(a, ReverseTracer) and a._main is self.main:
            return a.primal, ((a.node, a.index) if a.node is not None and _grad_enabled[0] else None)
        return a, None


@functools.lru_cache(maxsize=None)
def _zero_rule(prim):
    """The tape's stand-in for a piecewise-constant ``prim``: its rule gives each operand a zero cotangent."""
    return Primitive(prim.name, impl=None, shape=None,
                     vjp=lambda ct, *operands, out, **params: [functools.partial(fnp.zeros_like, x) for x in operands])


def _make_tape():
    from ..core.trace import MainTrace
    main = MainTrace(0, "the backward() tape")
    main.trace = TapeTrace(main)
    return main


TAPE = _make_tape()
_grad_enabled = [True]
# The reverse-mode transforms (grad, vjp, jacrev) at or below this level treat their traced values as constants:
# torch.func's rule that a no_grad() block inside the differentiated function is respected, and one around the
# transform's call is not. Forward mode (jvp, jacfwd, dual tensors) ignores no_grad, as in PyTorch.
_frozen_level = [0]


class _GradMode:
    """Whether the tape records (``enabled``, or None to leave it as it is), for a ``with`` block or for each call
    of a decorated function."""

    def __init__(self, enabled):
        self._enabled = enabled

    def __enter__(self):
        self._prev = _grad_enabled[0], _frozen_level[0]
        if self._enabled is not None:
            _grad_enabled[0] = self._enabled
            _frozen_level[0] = 0 if self._enabled else live_levels()

    def __exit__(self, *exc):
        _grad_enabled[0], _frozen_level[0] = self._prev
        return False

    def clone(self):
        return _GradMode(self._enabled)

    def __call__(self, fn):
        return decorate_with(self.clone, fn)


def decorate_with(context, fn):
    """``fn`` run inside ``context()`` at each call, as PyTorch's decorating context managers do: for a generator
    function, around each step of the generator, so that code between its ``yield``s runs in the mode too."""
    import functools
    import inspect

    if not inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with context():
                return fn(*args, **kwargs)
        return wrapper

    @functools.wraps(fn)
    def generator(*args, **kwargs):
        with context():
            steps = fn(*args, **kwargs)
            try:
                sent = steps.send(None)
            except StopIteration as done:
                return done.value
        while True:
            try:
                received = yield sent
            except GeneratorExit:
                with context():
                    steps.close()
                raise
            except BaseException as error:
                with context():
                    try:
                        sent = steps.throw(error)
                    except StopIteration as done:
                        return done.value
            else:
                with context():
                    try:
                        sent = steps.send(received)
                    except StopIteration as done:
                        return done.value
    return generator


class _NoArguments(_GradMode):
    """A grad mode PyTorch lets one write with or without parentheses: ``@no_grad()`` and ``@no_grad``."""

    _mode = None

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)  # the bare decorator: cls(fn) is the decorated function

    def __init__(self, orig_func=None):
        super().__init__(self._mode)

    def clone(self):
        return type(self)()


class no_grad(_NoArguments):
    """Context manager (and decorator, with or without parentheses): operations inside record nothing on the tape.

    >>> import fnx, fnx.numpy as fnp
    >>> w = fnx.nn.Parameter(fnp.ones(2))
    >>> with fnx.no_grad():
    ...     y = fnp.sum(w * 2.0)
    >>> type(y) is fnx.Array
    True
    """

    _mode = False


class enable_grad(_NoArguments):
    """Context manager (and decorator, with or without parentheses): operations inside are recorded on the tape
    again, inside ``no_grad``."""

    _mode = True


_inference_mode = [False]


class inference_mode(_GradMode):
    """``torch.inference_mode(mode=True)``: ``no_grad`` where ``mode`` is true, and nothing changed where false;
    a context manager and a decorator, with or without parentheses."""

    def __new__(cls, mode=True):
        if isinstance(mode, (bool, np.bool_)):
            return super().__new__(cls)
        return cls()(mode)  # the bare decorator

    def __init__(self, mode=True):
        self.mode = bool(mode)
        super().__init__(False if self.mode else None)

    def __enter__(self):
        self._prev_inference = _inference_mode[0]
        _inference_mode[0] = self.mode
        super().__enter__()

    def __exit__(self, *exc):
        _inference_mode[0] = self._prev_inference
        return super().__exit__(*exc)

    def clone(self):
        return inference_mode(self.mode)


def is_inference_mode_enabled():
    """Whether code runs inside ``inference_mode()`` (``torch.is_inference_mode_enabled``)."""
    return _inference_mode[0]


def is_grad_enabled():
    return _grad_enabled[0]


def backward(tensor, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Reverse mode from ``tensor`` into the ``.grad`` of every Parameter it depends on.

    Gradients accumulate (add to an existing ``.grad``) until zeroed, as in
    PyTorch. Without ``retain_graph`` (which defaults to ``create_graph``) the
    recorded graph is freed as the pass goes, and a second ``backward()``
    through it raises ``GraphError``. With ``create_graph`` the gradients are
    themselves recorded, so a function of them can be differentiated again;
    ``inputs`` limits which ``.grad`` are written: Parameters', and those of
    computed values listed there, which PyTorch fills too.
    """
    if not (isinstance(tensor, ReverseTracer) and tensor._main is TAPE and tensor.node is not None):
        from ..errors import GraphError
        raise GraphError("backward(): this array does not depend on any Parameter with requires_grad=True, "
                         "so there is nothing to differentiate (was it computed under fnx.no_grad()? fnx arrays "
                         "are immutable, so x.requires_grad_() returns a new leaf rather than changing x: write "
                         "x = x.requires_grad_(), or make x with requires_grad=True)")
    gradient = _seed("backward()", "the output", tensor, gradient)
    inputs = None if inputs is None else _as_list(inputs)
    if inputs is not None:
        refuse_empty_inputs("backward()", inputs)
    if inputs is None or not any(_requires_grad(x) and x.node.prim is not None for x in inputs):
        only = None if inputs is None else {_leaf_node("backward()", x, i) for i, x in enumerate(inputs)}
        return tape_backward([(tensor.node, tensor.index, gradient)], retain_graph, create_graph, only)
    # Computed values among the inputs get their .grad filled too, as PyTorch's do: one pass for all of them.
    grads = tape_grad(tensor, inputs, gradient, retain_graph=retain_graph, create_graph=create_graph,
                      allow_unused=True)
    for x, g in zip(inputs, grads):
        if g is None:
            continue
        if x.node.prim is None:
            _accumulate_leaf(x.node, g)
            continue
        retained = _hook_entry(x.node)["retained"]
        if x.index not in retained:  # (one that retains its gradient had it filled by the pass itself)
            retained[x.index] = g


def _accumulate_leaf(leaf, g):
    """Adds ``g`` to the ``.grad`` of the Parameter whose leaf node is ``leaf``, then runs its post-accumulate
    hooks."""
    owner = leaf.params() if leaf.params is not None else None
    if owner is not None:
        owner._accumulate_grad(g)
        entry = _hooked.get(leaf) if _hooked.data else None
        if entry is not None:
            for fn in list(entry.get("post_accumulate", {}).values()):
                fn(owner)


def tape_backward(seeds, retain_graph=None, create_graph=False, only=None):
    """One backward pass from ``seeds`` (``(node, index, cotangent)``) into the ``.grad`` of the Parameters
    reached (those whose leaf node is in ``only``, when given), adding to what is there."""
    retain_graph = create_graph if retain_graph is None else retain_graph
    seeds = [(node, index, torch_convention(c)) for node, index, c in seeds]  # (given in PyTorch's convention)
    with _GradMode(create_graph):
        grads = backward_pass(seeds, free=not retain_graph, create_graph=create_graph)
        for leaf, g in grads.items():
            if only is None or leaf in only:
                _accumulate_leaf(leaf, torch_convention(g))


def refuse_empty_inputs(fname, inputs):
    """PyTorch's error for ``backward(inputs=[])``: an empty list would silently accumulate nothing."""
    if not inputs:
        from ..errors import GraphError
        raise GraphError(f"{fname}: the inputs argument cannot be empty (as in PyTorch): pass the tensors to "
                         f"accumulate gradients into, or leave it out for every leaf")


def _as_list(xs):
    return list(xs) if isinstance(xs, (list, tuple)) else [xs]


def _seed(fname, what, output, gradient):
    """The cotangent that starts a backward pass from ``output``: ones for a one-element output (any
    shape, as PyTorch checks numel, not ndim), else ``gradient``."""
    if gradient is None:
        if output.size != 1:
            raise ImplicitGradError(f"{fname}: grad can be implicitly created only for scalar outputs, but {what} "
                                    f"has shape {output.shape}; pass a gradient of that shape, or reduce the output "
                                    f"first (e.g. .sum())")
        if output.dtype.kind == "c":
            raise ImplicitGradError(f"{fname}: grad can be implicitly created only for real scalar outputs, but "
                                    f"{what} is {output.dtype}; pass a gradient, or take a real part first")
        return fnp.ones_like(output.primal)
    if not isinstance(gradient, ReverseTracer):
        gradient = fnp.asarray(gradient)
    if gradient.shape != output.shape:
        raise ShapeError(f"{fname}: the gradient for {what} has shape {gradient.shape}, {what} has shape "
                         f"{output.shape}")
    return gradient


def _leaf_node(fname, x, i):
    node = x.node if isinstance(x, ReverseTracer) and x._main is TAPE else None
    if node is None or node.prim is not None:
        from ..errors import GraphError
        raise GraphError(f"{fname}: inputs[{i}] is not a Parameter (or a tensor made with requires_grad=True) "
                         f"that requires grad")
    return node


def tape_grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
              materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs`` on the tape (``torch.autograd.grad``).

    ``inputs`` are Parameters, tensors made with ``requires_grad=True`` or values
    computed from them; nothing is accumulated into ``.grad``. Returns a tuple
    with one gradient per input. An input the outputs do not depend on raises
    ``GraphError``, unless ``allow_unused`` (its gradient is then None) or
    ``materialize_grads`` (zeros). ``create_graph`` records the gradients on the
    tape, so they can be differentiated again; ``retain_graph`` defaults to it.
    """
    from ..errors import GraphError
    outputs, inputs = _as_list(outputs), _as_list(inputs)
    seeds = [None] * len(outputs) if grad_outputs is None else _as_list(grad_outputs)
    if len(seeds) != len(outputs):
        raise ValueError(f"autograd.grad: {len(seeds)} grad_outputs for {len(outputs)} outputs")
    roots = []
    for i, (o, g) in enumerate(zip(outputs, seeds)):
        if not (isinstance(o, ReverseTracer) and o._main is TAPE and o.node is not None):
            raise GraphError(f"autograd.grad: outputs[{i}] does not require grad: it depends on no Parameter "
                             f"(or tensor made with requires_grad=True), or it was computed under no_grad()")
        roots.append((o.node, o.index, torch_convention(_seed("autograd.grad", f"outputs[{i}]", o, g))))
    for i, x in enumerate(inputs):
        if not (isinstance(x, ReverseTracer) and x._main is TAPE and x.node is not None):
            raise GraphError(f"autograd.grad: inputs[{i}] does not require grad, so no gradient can flow to it")
    retain_graph = create_graph if retain_graph is None else retain_graph
    capture = frozenset(x.node for x in inputs if x.node.prim is not None)
    with _GradMode(create_graph):
        grads = backward_pass(roots, free=not retain_graph, create_graph=create_graph, capture=capture)
    result = []
    for i, x in enumerate(inputs):
        got = grads.get(x.node)
        g = got[x.index] if type(got) is list else got
        if g is None:
            if materialize_grads:
                g = fnp.zeros_like(x.primal)
            elif not allow_unused:
                raise GraphError(f"autograd.grad: inputs[{i}] was not used to compute the outputs; pass "
                                 f"allow_unused=True to get None for it (or materialize_grads=True for zeros)")
        result.append(torch_convention(g))
    return tuple(result)


def _requires_grad(x):
    return isinstance(x, ReverseTracer) and x._main is TAPE and x.node is not None


# ----- hooks and the recorded graph, as PyTorch's tensors show them ---------------------------------


def _hook_node(x, what):
    if _requires_grad(x):
        return x.node
    from ..errors import GraphError
    raise GraphError(f"{what}: this array does not require grad (it depends on no Parameter or tensor made with "
                     f"requires_grad=True, or was computed under no_grad()), so backward() never reaches it")


def register_hook(self, hook):
    """Runs ``hook(grad)`` each time ``backward()`` or ``autograd.grad`` computes this value's gradient
    (``torch.Tensor.register_hook``).

    A result other than None replaces the gradient (it must have the same shape)
    before it flows on: into the graph for a computed value, into ``.grad`` for a
    leaf. Hooks run in the order registered. Returns a handle whose
    ``remove()`` unregisters the hook.

    >>> import fnx
    >>> x = fnx.tensor([1.0, 2.0], requires_grad=True)
    >>> y = x * 3
    >>> handle = y.register_hook(lambda g: g * 10)
    >>> y.sum().backward()
    >>> x.grad
    Array([30., 30.], dtype=float32)
    """
    from ..core.hooks import add_hook
    return add_hook(_hook_entry(_hook_node(self, "register_hook"))["hooks"].setdefault(self.index, {}), hook)


def retain_grad(self):
    """Makes ``backward()`` fill in this computed value's ``.grad`` (``torch.Tensor.retain_grad``).

    Like a leaf's, the gradient accumulates across backward passes, and is taken
    after the value's hooks. A leaf keeps its ``.grad`` anyway.

    >>> import fnx
    >>> x = fnx.tensor([1.0, 2.0], requires_grad=True)
    >>> y = x * x
    >>> y.retain_grad()
    >>> (y * 3).sum().backward()
    >>> y.grad
    Array([3., 3.], dtype=float32)
    """
    node = _hook_node(self, "retain_grad")
    if node.prim is not None:
        _hook_entry(node)["retained"].setdefault(self.index, None)


def _retains_grad(self):
    entry = _hooked.get(self.node) if _requires_grad(self) and self.node.prim is not None else None
    return entry is not None and self.index in entry["retained"]


def _computed_grad(self):
    entry = _hooked.get(self.node)
    if entry is not None and self.index in entry["retained"]:
        return entry["retained"][self.index]
    warnings.warn("The .grad of an array that is not a leaf is not filled in by backward(); call x.retain_grad() "
                  "before backward() to keep it (a leaf is a Parameter or a tensor made with requires_grad=True)",
                  UserWarning, stacklevel=2)
    return None


def _set_computed_grad(self, grad):
    entry = _hooked.get(self.node)
    if grad is None:
        if entry is not None and self.index in entry["retained"]:
            entry["retained"][self.index] = None
        return
    if getattr(grad, "shape", None) != self.shape:
        raise ShapeError(f"assigning .grad: the gradient has shape {getattr(grad, 'shape', type(grad).__name__)}, "
                         f"the array {self.shape}")
    _hook_entry(self.node)["retained"][self.index] = grad


def register_post_accumulate_grad_hook(self, hook):
    """Runs ``hook(leaf)`` after ``backward()`` has added to this leaf's ``.grad``
    (``torch.Tensor.register_post_accumulate_grad_hook``). Returns a handle."""
    from ..core.hooks import add_hook
    node = _hook_node(self, "register_post_accumulate_grad_hook")
    if node.prim is not None:
        from ..errors import GraphError
        raise GraphError("register_post_accumulate_grad_hook: only a leaf (a Parameter or a tensor made with "
                         "requires_grad=True) accumulates a .grad; use register_hook on a computed value")
    return add_hook(_hook_entry(node).setdefault("post_accumulate", {}), hook)


# PyTorch's names for the backward nodes of operations fnx names otherwise (``(x * 2).grad_fn`` prints
# ``<MulBackward0 object>`` in both); the others are the primitive's name in PyTorch's case.
_TORCH_NODE_NAMES = {"subtract": "Sub", "multiply": "Mul", "true_divide": "Div", "power": "Pow", "negative": "Neg",
                     "absolute": "Abs", "expit": "Sigmoid", "reduce_sum": "Sum", "reduce_max": "Max",
                     "reduce_min": "Min", "matmul": "Mm", "linear": "Addmm", "softmax_cross_entropy": "NllLoss",
                     "reshape": "View", "transpose": "Permute", "concatenate": "Cat", "broadcast_to": "Expand"}


def _grad_fn_name(prim):
    name = _TORCH_NODE_NAMES.get(prim.name)
    if name is None:
        name = "".join(part[:1].upper() + part[1:] for part in prim.name.replace("[", "_").replace("]", "").split("_"))
    return name + "Backward0"


_grad_fn_types = {}


def _grad_fn_of(node):
    """The node's GradFn, of a class named as PyTorch's (``type(y.grad_fn).__name__ == "MulBackward0"``)."""
    name = _grad_fn_name(node.prim)
    cls = _grad_fn_types.get(name)
    if cls is None:
        cls = _grad_fn_types[name] = type(name, (GradFn,), {"__slots__": (), "__module__": GradFn.__module__})
    return cls(node)


class GradFn:
    """The recorded operation that computed an array (``tensor.grad_fn``): ``name()`` and ``next_functions``."""

    __slots__ = ("_node",)

    def __init__(self, node):
        self._node = node

    def name(self):
        return _grad_fn_name(self._node.prim)

    @property
    def next_functions(self):
        """One ``(function, output index)`` per operand: a GradFn, an AccumulateGrad for a leaf, or None for
        an operand backward() does not reach."""
        return tuple((None, 0) if p is None else (_function_of(p[0]), p[1]) for p in self._node.parents)

    def __eq__(self, other):
        return isinstance(other, GradFn) and other._node is self._node

    def __hash__(self):
        return id(self._node)

    def __repr__(self):
        return f"<{self.name()} object>"


class AccumulateGrad:
    """The end of a backward path: adds to the ``.grad`` of ``variable``, a leaf."""

    __slots__ = ("_node",)

    def __init__(self, node):
        self._node = node

    @property
    def variable(self):
        return self._node.params() if self._node.params is not None else None

    def name(self):
        return "AccumulateGrad"

    next_functions = ()

    def __repr__(self):
        return "<AccumulateGrad object>"


def _function_of(node):
    return AccumulateGrad(node) if node.prim is None else _grad_fn_of(node)


def _grad_fn(self):
    return _grad_fn_of(self.node) if _requires_grad(self) and self.node.prim is not None else None


def _is_leaf(self):
    return not (_requires_grad(self) and self.node.prim is not None)


def _detach(x):
    """``x.detach()``: ``x`` without its tape record and, inside a transform, a constant to its derivatives
    (``stop_gradient``, as torch.func's transforms treat ``detach``)."""
    while isinstance(x, ReverseTracer) and x._main is TAPE:
        x = x.primal
    return fnp.stop_gradient(x) if isinstance(x, Tracer) else x


Array.backward = backward
Array.requires_grad = property(_requires_grad)
Array.detach = _detach
Array.register_hook = register_hook
Array.retain_grad = retain_grad
Array.retains_grad = property(_retains_grad)
Array.register_post_accumulate_grad_hook = register_post_accumulate_grad_hook
Array.grad_fn = property(_grad_fn)
Array.is_leaf = property(_is_leaf)
Array.grad = property(lambda self: None, doc="None: only leaves (Parameters) and values that retain_grad() "
                      "get a gradient from backward()")
TapeTracer.grad = property(_computed_grad, _set_computed_grad)
