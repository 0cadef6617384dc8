"""``make_graph``: the traced graph of a call, for inspection, tests and replay.

A staging trace runs the function as usual (values are still computed, so
Python control flow on them works) and, for every primitive that meets one of
its tracers, appends an equation ``outs = prim[params] ins`` to a
:class:`Graph`. Values that did not come from the inputs (arrays created inside,
closed-over arrays) enter as constants. The printed form reads like a jaxpr.
"""
from ..core import tree as tree_util
from ..core.array import Array
from ..core.trace import Trace, Tracer, new_main
from ..errors import TracerError


class Var:
    __slots__ = ("aval", "name", "device")

    def __init__(self, aval, device=None):
        self.aval = aval
        self.name = None
        self.device = device

    def __repr__(self):
        return self.name or "?"


class Literal:
    """A constant input of an equation, held by value."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    @property
    def aval(self):
        from ..core.primitive import ShapedArray
        v = self.value
        return ShapedArray(getattr(v, "shape", ()), getattr(v, "dtype", type(v)))

    def __repr__(self):
        v = self.value
        if isinstance(v, Array) and v.size == 1 and v.ndim == 0:
            return f"{v.item()!r}"
        return f"const{list(getattr(v, 'shape', ()))}"


class Eqn:
    __slots__ = ("prim", "params", "inputs", "outputs")

    def __init__(self, prim, params, inputs, outputs):
        self.prim, self.params, self.inputs, self.outputs = prim, params, inputs, outputs


def _short(dtype):
    kind = {"f": "f", "i": "i", "u": "u", "b": "bool", "c": "c"}.get(getattr(dtype, "kind", ""), str(dtype))
    return kind if kind == "bool" else f"{kind}{dtype.itemsize * 8}"


class Graph:
    """Inputs, equations and outputs of one traced call.

    ``len(graph)`` is the number of equations; ``str(graph)`` the text form;
    ``graph(*args)`` replays it on new inputs of the same shapes.
    """

    def __init__(self, invars, eqns, outvars, in_tree, out_tree):
        self.invars, self.eqns, self.outvars = invars, eqns, outvars
        self.in_tree, self.out_tree = in_tree, out_tree
        self._name_vars()

    def _name_vars(self):
        n = 0

        def name(v):
            nonlocal n
            if isinstance(v, Var) and v.name is None:
                q, r = divmod(n, 26)
                v.name = chr(97 + r) + ("" if q == 0 else str(q))
                n += 1
        for v in self.invars:
            name(v)
        for e in self.eqns:
            for v in e.outputs:
                name(v)

    def __len__(self):
        return len(self.eqns)

    def primitives(self):
        """Names of the primitives, one per equation, in order."""
        return [e.prim.name for e in self.eqns]

    def __str__(self):
        def typed(v):
            return f"{v}:{_short(v.aval.dtype)}{list(v.aval.shape)}"
        lines = ["{ lambda " + " ".join(typed(v) for v in self.invars) + ". let"]
        for e in self.eqns:
            params = ""
            if e.params:
                # A nested graph (a cond's branches) prints indented under its equation, as a jaxpr's do.
                params = "[" + ", ".join(f"{k}={v}".replace("\n", "\n        ") for k, v in e.params.items()) + "]"
            lhs = " ".join(typed(v) for v in e.outputs)
            lines.append(f"    {lhs} = {e.prim.name}{params} {' '.join(map(repr, e.inputs))}")
        outs = ", ".join(repr(v) for v in self.outvars)
        lines.append(f"  in ({outs}{',' if len(self.outvars) == 1 else ''}) }}")
        return "\n".join(lines)

    __repr__ = __str__

    decided_by = None  # make_graph's: the conversion by which the traced call read a value, if it did

    def __call__(self, *args):
        """Replays the equations on ``args`` (same structure as the traced call).

        A graph whose call read a traced value into Python (``if x > 0``, a concrete ``lax.cond``, a loop
        bound) holds only what was decided then, so it refuses to replay rather than give wrong values.
        """
        if self.decided_by is not None:
            raise TracerError(f"graph: the traced call read a traced value with {self.decided_by} (Python control "
                              f"flow, or lax.cond/while_loop on concrete values), so this graph holds only the "
                              f"branch taken then and cannot be replayed on other arguments; use fnx.jit(f), which "
                              f"stages lax.cond and while_loop whole (or print the graph to inspect it)")
        flat, tree = tree_util.flatten(args)
        if tree != self.in_tree:
            raise ValueError(f"graph: arguments {tree} do not match the traced {self.in_tree}")
        env = {}
        for v, x in zip(self.invars, flat):
            env[v] = x

        def read(a):
            return a.value if isinstance(a, Literal) else env[a]
        for e in self.eqns:
            out = e.prim.bind(*[read(a) for a in e.inputs], **e.params)
            outs = out if e.prim.multiple_results else (out,)
            for v, o in zip(e.outputs, outs):
                env[v] = o
        return self.out_tree.unflatten([read(v) for v in self.outvars])


def mark_weak(main, tracer_type, prim, args, out):
    """JAX's weak types, for a staging trace whose tracers have a ``weak_type``: an operation on weak numbers
    and constants alone (``lr * 0.1``, ``n / 2``) gives a weak result, except a comparison's bool; one strong
    operand makes it strong."""
    kind = None
    for a in args:
        if type(a) is tracer_type and a._main is main:
            if not a.weak_type:
                return
            kind = a.dtype.kind
        elif not _one_number(a):
            return
    if kind is not None:
        for o in out if prim.multiple_results else (out,):
            o.weak_type = o.dtype.kind != "b" or kind == "b"


def _one_number(a):
    """Whether ``a`` is a Python number or a constant made from one (one value, broadcast: no strides)."""
    if isinstance(a, (bool, int, float, complex)):
        return True
    value = getattr(a, "_value", None)
    return value is not None and not isinstance(a, Tracer) and not any(value.strides)


class GraphTracer(Tracer):
    __slots__ = ("primal", "var")

    def __init__(self, main, primal, var):
        self._main, self.primal, self.var = main, primal, var

    def _concrete(self, what):
        record = self._main.data
        if type(record) is _Recording and what in _DECIDING:
            record.decided_by = what  # Python took a value here: the graph holds only what it decided then
        return Tracer._concrete(self, what)


# The conversions by which Python control flow (an ``if``, a loop's bound, lax.cond's concrete branch) reads a
# traced value; printing and the checks that only validate values do not change what is recorded.
_DECIDING = frozenset(("bool()", "int()", "float()", "complex()", "__index__", "item()", "tolist()"))


class _Recording(list):
    """make_graph's equations, and the conversion (if any) by which the traced call read a value."""

    __slots__ = ("decided_by",)

    def __init__(self):
        super().__init__()
        self.decided_by = None


class GraphTrace(Trace):
    __slots__ = ()
    tracer_type = GraphTracer
    stages = True

    def process(self, prim, args, params):
        main = self.main
        own = self.tracer_type
        primals, inputs = [], []
        for a in args:
            if type(a) is own and a._main is main:
                primals.append(a.primal)
                inputs.append(a.var)
            else:
                primals.append(a)
                inputs.append(Literal(a))
        out = prim.bind(*primals, **params)
        outs = out if prim.multiple_results else (out,)
        tracers = [self.tracer_type(main, o, Var(o.aval, o.device)) for o in outs]
        main.data.append(Eqn(prim, params, inputs, [t.var for t in tracers]))
        return tuple(tracers) if prim.multiple_results else tracers[0]


def make_graph(f, static_argnums=()):
    """A function returning the :class:`Graph` of ``f`` at the given arguments.

    >>> import fnx, fnx.numpy as fnp
    >>> print(fnx.make_graph(lambda x: fnp.sum(fnp.sin(x) * 2.0))(fnp.ones(3)))
    { lambda a:f32[3]. let
        b:f32[3] = sin a
        c:f32[3] = multiply b const[3]
        d:f32[] = reduce_sum[axes=(0,)] c
      in (d,) }
    """
    from .. import numpy as fnp
    static = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)

    def graph_of(*args):
        static_here = {i % len(args) for i in static} if args else set()  # -1: the last argument, as in JAX
        dyn = tuple(a for i, a in enumerate(args) if i not in static_here)
        flat, in_tree = tree_util.flatten(dyn)
        flat = [fnp.asarray(x) for x in flat]
        eqns = _Recording()
        with new_main(GraphTrace, "make_graph", eqns) as main:
            boxed = [GraphTracer(main, x, Var(x.aval, x.device)) for x in flat]
            it = iter(in_tree.unflatten(boxed))
            out = f(*[a if i in static_here else next(it) for i, a in enumerate(args)])
        out_flat, out_tree = tree_util.flatten(out)
        outvars = [o.var if type(o) is GraphTracer and o._main is main else Literal(o) for o in out_flat]
        graph = Graph([t.var for t in boxed], eqns, outvars, in_tree, out_tree)
        graph.decided_by = eqns.decided_by
        return graph

    return graph_of
