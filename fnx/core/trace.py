"""Tracing: how one ``bind`` serves every transform.

Every fnx operation ends in :func:`bind`. When none of its arguments is a
tracer, ``bind`` calls the primitive's ``impl`` at once and wraps the payload:
plain array code never builds a graph and costs a type check per argument.

A transform (``grad``, ``jvp``, ``vmap``, ``make_graph``...) pushes a fresh
:class:`MainTrace` for the dynamic extent of its call and boxes its inputs in
tracers that point to that main. ``bind`` hands the primitive to the main with
the highest level among its arguments; that trace's ``process`` unboxes its
own tracers, treats everything else (plain arrays, tracers of outer transforms)
as constants, and binds the primitive again on the unboxed values, so the
transforms below get their turn. Identity decides ownership: a tracer belongs to
the main it points to, compared with ``is``, which is what keeps nested
derivatives from confusing their perturbations.

When a transform returns, its main is marked dead; a tracer of a dead main that
reaches ``bind`` again has escaped, and fnx says so instead of computing with it.
"""
import numpy as np

from . import primitive as _primitive
from .array import Array, wrap
from .backend import get_default_device
from ..errors import ConcretizationTypeError, DeviceError, EscapedTracerError, TracerError

_stack = []  # live MainTraces, outermost first


class MainTrace:
    """One invocation of one transform; ``level`` orders nested invocations."""

    __slots__ = ("level", "trace", "alive", "name", "data")

    def __init__(self, level, name, data=None):
        self.level = level
        self.name = name
        self.alive = True
        self.data = data
        self.trace = None

    def __repr__(self):
        return f"<{self.name} trace, level {self.level}{'' if self.alive else ', ended'}>"


def live_levels():
    """How many transforms are running (the level of the innermost one; 0 outside every transform)."""
    return len(_stack)


class new_main:
    """Context manager: pushes a MainTrace running ``trace_type``, pops and kills it on exit."""

    __slots__ = ("trace_type", "name", "data", "main")

    def __init__(self, trace_type, name, data=None):
        self.trace_type, self.name, self.data = trace_type, name, data

    def __enter__(self):
        main = MainTrace(len(_stack) + 1, self.name, self.data)
        main.trace = self.trace_type(main)
        _stack.append(main)
        self.main = main
        return main

    def __exit__(self, *exc):
        main = _stack.pop()
        assert main is self.main, "transform traces were not popped in order"
        main.alive = False
        return False


class Trace:
    """How one transform interprets primitives. Subclasses implement ``process``."""

    __slots__ = ("main",)
    #: Whether the transform stages a program to run later (jit, make_jaxpr): its tracers then stand for
    #: values that a function called later cannot read through a closure.
    stages = False

    def __init__(self, main):
        self.main = main

    def process(self, prim, args, params):
        raise NotImplementedError

    def process_custom_vjp(self, call, args):
        """A ``custom_vjp`` call (``fnx.transforms.custom.CustomCall``) meeting this trace: by default one
        ``custom_call`` operation, whose rules carry the user's rule to the transforms below. Returns the
        list of the output's leaves."""
        return call.bind(args)

    def process_custom_jvp(self, call, args):
        return call.bind(args)


class Tracer(Array):
    """A boxed value owned by one transform invocation (``self._main``).

    Subclasses hold what their transform needs (a primal and tangent, a graph
    node, a batch dimension) and answer ``shape``/``dtype`` for the value they stand
    for. ``_value`` is absent: asking for a concrete value goes through
    ``_concrete``, which a transform may refuse (vmap, jit).
    """

    __slots__ = ("_main",)

    @property
    def shape(self):
        return self.primal.shape

    @property
    def dtype(self):
        return self.primal.dtype

    @property
    def device(self):
        return self.primal.device

    def _concrete(self, what):
        if not self._main.alive:
            raise _escaped(self, what)
        return self.primal._concrete(what)

    def __repr__(self):
        return f"Traced<{self.dtype}{list(self.shape)}> by {self._main.name}"

    def __str__(self):
        try:
            return Array.__str__(self)
        except TracerError:  # no concrete value (jit, vmap): print() shows what it stands for, as JAX's tracers do
            return repr(self)


def _escaped(tracer, what):
    return EscapedTracerError(
        f"{what}: this value was traced by {tracer._main.name}, which has already returned; "
        f"a traced value must not leave its transform (return it from the function instead of "
        f"storing it in a global, a closure or an attribute)")


def find_top(args):
    """The main of highest level among the tracers in ``args`` (None when none)."""
    top = None
    for a in args:
        if isinstance(a, Tracer):
            main = a._main
            if not main.alive:
                raise _escaped(a, "an operation")
            if top is None or main.level > top.level:
                top = main
    return top


def bind(prim, args, params):
    top = None
    for a in args:
        if isinstance(a, Tracer):
            main = a._main
            if not main.alive:
                raise _escaped(a, prim.name)
            if top is None or main.level > top.level:
                top = main
    if top is not None:
        return top.trace.process(prim, args, params)
    device = None
    for a in args:  # eval_primitive's common case, written inline: concrete operands on one CPU device
        if type(a) is not Array or (a._device is not device and device is not None):
            return eval_primitive(prim, args, params)
        device = a._device
    if device is not None and device.platform == "cpu" and not prim.transfers:
        return run_on_cpu(prim, [a._value for a in args], params, device)
    return eval_primitive(prim, args, params)


def run_on_cpu(prim, payloads, params, device):
    """``prim`` on numpy payloads that all live on the CPU ``device``: eval_primitive's common case."""
    out = prim.impl(np, *payloads, **params)
    if prim.multiple_results:
        return tuple([wrap(o, device) for o in out])
    return wrap(out, device)


def eval_primitive(prim, args, params):
    """Runs ``prim`` on concrete operands, on their common device (computation follows data)."""
    dev = None
    vals = []
    for a in args:
        if isinstance(a, Array):
            if a._device is not dev:
                if dev is not None:
                    raise device_mismatch(prim.name, args)
                dev = a._device
            vals.append(a._value)
        else:
            vals.append(a)
    if dev is None:
        dev = get_default_device()
    if dev.platform == "cpu":
        if not prim.transfers:
            return run_on_cpu(prim, vals, params, dev)
        out = prim.impl(np, *vals, **params)
    else:
        with dev.context():
            out = prim.impl(dev.xp, *vals, **params)
    if prim.transfers:
        dev = params["device"]
    if prim.multiple_results:
        return tuple(wrap(o, dev) for o in out)
    return wrap(out, dev)


def device_mismatch(opname, args):
    devs = sorted({str(a.device) for a in args if isinstance(a, Array)})
    shapes = ", ".join(f"{a.dtype}{list(a.shape)} on {a.device}" for a in args if isinstance(a, Array))
    return DeviceError(f"{opname}: operands are on different devices ({' and '.join(devs)}): {shapes}. fnx never "
                       f"moves data silently; put them on one device first with fnx.device_put(x, device) "
                       f"or x.to(device)")


def _prim_bind(self, *args, **params):
    return bind(self, args, params)


_primitive.Primitive.bind = _prim_bind


def concreteness_error(transform, what, hint):
    return ConcretizationTypeError(f"{what}: the value is traced by {transform} and has no concrete value here. {hint}")
