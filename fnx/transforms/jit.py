"""``jit``: trace once per input signature, then replay straight-line code.

The first call with a new signature (tree structure, shapes, dtypes, devices
and the values of static arguments) runs ``f`` under a staging trace, exactly
like :func:`fnx.make_graph`, and compiles the resulting graph into a flat list
of steps: each step is one primitive's ``impl`` with its array namespace and
parameters fixed, reading and writing numbered slots. Later calls run those
steps on the raw payloads, with no tracing, no pytree work per operation and no
wrapping of intermediates; a slot is released right after its last use, so
intermediate buffers return to the allocator as early as the graph allows, and
an elementwise step whose input dies there writes its result over that input
when the graph proves the buffer private (see ``_Compiled._reuse_buffers``).
On a GPU, each run of consecutive elementwise steps becomes one cupy kernel
(see ``_Compiled._fuse_elementwise``), so a chain of N such operations costs a
few kernel launches instead of N.

Because the graph is fixed, the function must not branch on traced values:
turning one into a Python ``bool``/``int``/``float`` while tracing raises
JAX's error for the conversion (``TracerBoolConversionError`` for ``bool``, a
``ConcretizationTypeError`` for ``int`` and ``float``; each a
:class:`TracerError`, so a TypeError) naming jit, the conversion and the operation that computed
the value (``bool() of the bool[] result of `greater```), and suggesting
``static_argnums`` or ``fnx.numpy.where``. ``fnx.lax.cond`` and ``switch``
branch inside the graph: the replay runs only the branch the value picks.

``jit`` composes with the other transforms. Called with tracers (inside
``grad``, ``vmap``, ``jvp``...) it replays the cached graph through ``bind``,
so the outer transform sees the primitives; ``jit(grad(f))`` traces the whole
backward pass into the graph.

A function that reads a traced value it is not given, such as a module's
Parameters (``fnx.jit(model)``) or a value of an enclosing ``grad``, cannot be
replayed from its graph: the Parameter changes with every optimizer step and
``loss.backward()`` must reach it. jit notices the captured value while tracing
and runs such a function itself, operation by operation, as ``torch.compile``
keeps reading a module's parameters. Passing the parameters as arguments
(``fnx.func.functional_call``) is what gets the compiled replay.
"""
import functools
import inspect
import types
import weakref

import numpy as np

from ..core import tree as tree_util
from ..core.array import Array, wrap
from ..core.backend import get_default_device
from ..core.trace import Tracer, new_main
from ..errors import StaticArgumentError, UnknownBackendError, conversion_error
from .graph import Graph, GraphTrace, GraphTracer, Literal, Var, _short, mark_weak


_NUMBERS = (bool, int, float, complex)


class JitTracer(GraphTracer):
    __slots__ = ("weak_type",)

    def __init__(self, main, primal, var, weak_type=False):
        self._main, self.primal, self.var, self.weak_type = main, primal, var, weak_type

    def _concrete(self, what):
        aval = self.var.aval
        value = f"{_short(aval.dtype)}{list(aval.shape)}"
        origin = next((e.prim.name for e in reversed(self._main.data) if any(v is self.var for v in e.outputs)),
                      None)
        value = f"the {value} result of `{origin}`" if origin else f"a {value} input"
        raise conversion_error(what,
            f"{what} of {value}: inside fnx.jit the value is traced (it stands for every input of this shape), "
            f"so it has "
            f"no concrete value and Python control flow cannot depend on it. Mark the argument it comes from "
            f"static with static_argnums/static_argnames, or select with fnx.numpy.where instead of branching"
            + (_CAST_HINT if what in ("int()", "float()", "complex()") else ""))


_CAST_HINT = "; to change a value's dtype, use x.astype(dtype) or fnx.numpy.asarray(x, dtype)"


class JitTrace(GraphTrace):
    __slots__ = ()
    tracer_type = JitTracer

    def process(self, prim, args, params):
        out = GraphTrace.process(self, prim, args, params)
        mark_weak(self.main, JitTracer, prim, args, out)
        return out


class _Compiled:
    """A graph flattened into steps over numbered slots, runnable on payloads.

    ``captured``: the function read a traced value it was not given (a Parameter
    of the tape, a value of an enclosing transform) and the graph holds it as a
    constant. Such a graph is not compiled: its value must be read anew at each
    call, and the tape (or that transform) must see the operations on it.
    """

    def __init__(self, graph):
        self.graph = graph
        self.captured = any(isinstance(a, Literal) and isinstance(a.value, Tracer)
                            for a in [a for e in graph.eqns for a in e.inputs] + list(graph.outvars))
        if self.captured:
            return
        slots = {}

        def slot(v):
            if v not in slots:
                slots[v] = len(slots)
            return slots[v]

        self.in_slots = [slot(v) for v in graph.invars]
        consts = []
        const_slots = {}  # id(constant) -> slot: a constant used by many steps (a cached 1.0) is one slot
        steps = []
        for e in graph.eqns:
            ins = []
            for a in e.inputs:
                if isinstance(a, Literal):
                    value = a.value
                    k = const_slots.get(id(value))
                    if k is None:
                        k = const_slots[id(value)] = len(slots)
                        slots[object()] = k
                        consts.append((k, value._value if isinstance(value, Array) else value))
                    ins.append(k)
                else:
                    ins.append(slot(a))
            outs = [slot(v) for v in e.outputs]
            dev = e.outputs[0].device
            impl = e.prim.impl
            if dev.platform != "cpu":  # the device's context around the call; numpy needs none
                impl = _in_context(impl, dev)
            if e.params:
                impl = functools.partial(impl, **e.params)
            steps.append([impl, dev.xp, ins, outs[0] if not e.prim.multiple_results else tuple(outs),
                          e.prim.multiple_results, ()])
        self.out_spec = []
        for v in graph.outvars:
            if isinstance(v, Literal):
                self.out_spec.append((None, v.value))
            else:
                self.out_spec.append((slot(v), v.device))
        keep = {s for s, _ in self.out_spec if s is not None}
        # the equations that write over a dead input
        self.in_place = self._reuse_buffers(graph, steps, slots, _last_reads(steps), keep)
        self.kernels = []  # (name, source) of each fused chain
        steps = self._fuse_elementwise(graph, steps, keep)
        # Release each slot after the step that reads it last (never the outputs).
        frees = [[] for _ in steps]
        for k, n in _last_reads(steps).items():
            if k not in keep:
                frees[n].append(k)
        for step, f in zip(steps, frees):
            step[5] = tuple(f)
        self.steps = [tuple(s) for s in steps]
        self.consts = consts
        self.n_slots = len(slots)
        self._replay = self._straight_line()

    def _straight_line(self):
        """The steps as the source of one Python function: a local per slot, one call per step, a
        ``del`` after each last use. No interpreter loop, list or index per step is left at run time."""
        scope = {}
        lines = ["def replay(payloads):"]
        if self.in_slots:
            lines.append("    " + "".join(f"s{k}, " for k in self.in_slots) + "= payloads")
        for k, value in self.consts:
            scope[f"c{k}"] = value
            lines.append(f"    s{k} = c{k}")
        for n, (impl, xp, ins, outs, multiple, frees) in enumerate(self.steps):
            scope[f"f{n}"], scope[f"xp{n}"] = impl, xp
            target = "".join(f"s{k}, " for k in outs) if multiple else f"s{outs}"
            lines.append(f"    {target} = f{n}(xp{n}, {''.join(f's{k}, ' for k in ins)})")
            if frees:
                lines.append("    del " + ", ".join(f"s{k}" for k in frees))
        lines.append("    return (" + "".join(f"s{k}, " for k, _ in self.out_spec if k is not None) + ")")
        self.source = "\n".join(lines)
        exec(compile(self.source, "<fnx.jit replay>", "exec"), scope)
        return scope["replay"]

    def _fuse_elementwise(self, graph, steps, keep):
        """Replaces each run of two or more consecutive ufunc steps of one shape on a device with a kernel
        fuser (cupy.fuse on a GPU) by one step: a generated function of the run's ufunc calls, compiled
        into a single kernel that reads the run's inputs once and writes only the values read after it.

        A run is consecutive in program order, so every input it reads from outside is computed before
        it starts. It is capped at ``MAX_KERNEL_ARGS`` arrays in and out (a kernel's parameters are finite).
        """
        last = _last_reads(steps)
        fused, run = [], []

        def close():
            if len(run) < 2 or not _run_arguments(steps, run, last, keep)[1]:  # one step, or nothing read after
                fused.extend(steps[n] for n in run)
            else:
                fused.append(self._fused_step(graph, steps, run, last, keep))
            run.clear()

        for n, (e, step) in enumerate(zip(graph.eqns, steps)):
            fusable = (e.prim.ufunc is not None and not e.params and not e.prim.multiple_results
                       and _kernel_fuser(e.outputs[0].device) is not None)
            if not fusable:
                close()
                fused.append(step)
                continue
            if run:
                head = graph.eqns[run[0]].outputs[0]
                if (e.outputs[0].device, e.outputs[0].aval.shape) != (head.device, head.aval.shape) or \
                        sum(map(len, _run_arguments(steps, run + [n], last, keep))) > MAX_KERNEL_ARGS:
                    close()
            run.append(n)
        close()
        return fused

    def _fused_step(self, graph, steps, run, last, keep):
        ins, outs = _run_arguments(steps, run, last, keep)
        name = f"fnx_jit_{id(self):x}_{len(self.kernels)}"
        lines = [f"def {name}({', '.join(f's{k}' for k in ins)}):"]
        for n in run:
            e, (_, _, args, out, _, _) = graph.eqns[n], steps[n]
            lines.append(f"    s{out} = xp.{e.prim.ufunc}({', '.join(f's{k}' for k in args)})")
        lines.append(f"    return {', '.join(f's{k}' for k in outs)}")
        source = "\n".join(lines)
        device = graph.eqns[run[0]].outputs[0].device
        scope = {"xp": device.xp}
        exec(compile(source, f"<fnx.jit kernel {name}>", "exec"), scope)
        self.kernels.append((name, source))
        kernel = _kernel_fuser(device)(kernel_name=name)(scope[name])
        impl = _in_context(lambda xp, *args: kernel(*args), device) if device.platform != "cpu" else \
            (lambda xp, *args: kernel(*args))
        return [impl, device.xp, ins, tuple(outs) if len(outs) > 1 else outs[0], len(outs) > 1, ()]

    @staticmethod
    def _reuse_buffers(graph, steps, slots, last, keep):
        """Lets a ufunc step write its result over an input that dies at that step.

        Safe when the input's buffer is provably private to the graph: made by an
        earlier ufunc step (so fresh memory, never a view and never the caller's
        array), read by ufunc steps only (so no view of it can outlive it), of the
        result's shape and dtype, and not an output of the graph.
        """
        fresh = {}  # slot -> aval, for outputs of ufunc steps
        viewed = set()  # slots read by a step that might return a view of them
        for e in graph.eqns:
            for a in e.inputs:
                if isinstance(a, Var) and e.prim.ufunc is None:
                    viewed.add(slots[a])
            if e.prim.ufunc is not None:
                fresh[slots[e.outputs[0]]] = e.outputs[0].aval
        in_place = []
        for n, (e, step) in enumerate(zip(graph.eqns, steps)):
            if e.prim.ufunc is None or step[1] is not np:
                continue
            aval = e.outputs[0].aval
            for position, k in enumerate(step[2]):
                if last.get(k) == n and k not in keep and k not in viewed and fresh.get(k) == aval \
                        and k not in step[2][:position] + step[2][position + 1:]:
                    step[0] = _writing_into(getattr(np, e.prim.ufunc), position, aval.shape)
                    in_place.append(n)
                    break
        return in_place

    def run(self, payloads):
        results = iter(self._replay(payloads))
        return [value if k is None else wrap(next(results), value) for k, value in self.out_spec]


#: The most arrays a fused kernel reads and writes (CUDA caps a kernel's parameters at 4 KiB on older
#: toolkits; cupy passes each array as a pointer, a size and a shape and strides per dimension).
MAX_KERNEL_ARGS = 48


def _kernel_fuser(device):
    """How ufunc steps on ``device`` become one kernel: ``cupy.fuse`` on a GPU. None on the CPU: numpy
    has no kernel fusion, and there a chain of small ufuncs is cheapest as it is (each reuses a dead
    buffer instead, see ``_reuse_buffers``)."""
    return device.xp.fuse if device.platform == "cuda" else None


def _last_reads(steps):
    """slot -> the index of the last step reading it."""
    last = {}
    for n, step in enumerate(steps):
        for k in step[2]:
            last[k] = n
    return last


def _run_arguments(steps, run, last, keep):
    """The slots a run of steps reads from outside it, and the slots it makes that are read after it
    (or are outputs of the graph), each in order."""
    made, ins, outs = set(), [], []
    for n in run:
        for k in steps[n][2]:
            if k not in made and k not in ins:
                ins.append(k)
        made.add(steps[n][3])
    end = run[-1]
    for n in run:
        k = steps[n][3]
        if k in keep or last.get(k, -1) > end:
            outs.append(k)
    return ins, outs


def _writing_into(ufunc, position, shape):
    """A step running ``ufunc`` with its result written over operand ``position``."""
    def run(xp, *args):
        buf = args[position]
        if type(buf) is np.ndarray and buf.shape == shape:  # a 0-d result comes back as a numpy scalar
            return ufunc(*args, out=buf)
        return ufunc(*args)
    return run


def _hashable(value):
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _as_tuple(given):
    """``static_argnums``/``static_argnames`` as a tuple: one value, a sequence of them, or None (none)."""
    return () if given is None else tuple(given) if isinstance(given, (tuple, list, range)) else (given,)


def _check_nums_and_names(what, nums, names, error):
    """``<what>_argnums`` must be ints and ``<what>_argnames`` strings."""
    for n in nums:
        if not isinstance(n, int) or isinstance(n, bool):
            raise error(f"jit: {what}_argnums must be ints, got {nums!r}")
    for name in names:
        if not isinstance(name, str):
            raise error(f"jit: {what}_argnames must be strings, got {names!r}")


def _static_positions_and_names(f, nums, names):
    """Each static argument both by position and by name, as JAX infers them from ``f``'s signature:
    ``static_argnames=("n",)`` makes ``n`` static when it is passed positionally too, and
    ``static_argnums=(1,)`` when it is passed by keyword. A position past the last positional
    parameter of a signature without ``*args`` is refused, as by ``jax.jit``. Negative positions
    (``static_argnums=-1``) count from the end of each call's arguments, so they name no parameter."""
    _check_nums_and_names("static", nums, names, TypeError)
    params = _parameters(f)
    if params is None:  # a builtin or a callable without a signature: take them as given
        return nums, names
    _check_against_signature(f, "static", nums, names, params)
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    nums_from_end = tuple(n for n in nums if n < 0)
    nums = tuple(n for n in nums if n >= 0)
    by_name = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    nums = tuple(sorted(set(nums) | {positional.index(n) for n in names if n in positional}))
    names = tuple(dict.fromkeys(names + tuple(positional[i] for i in nums
                                              if i < len(positional) and positional[i] in by_name)))
    return nums + nums_from_end, names


def _parameters(f):
    try:
        return list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        return None


def _check_against_signature(f, what, nums, names, params):
    """``<what>_argnums`` past the positional parameters of a signature without ``*args``, and
    ``<what>_argnames`` that name no parameter of one without ``**kwargs``, are refused, as by ``jax.jit``."""
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    fname = getattr(f, "__name__", "the function")
    if not any(p.kind == p.VAR_POSITIONAL for p in params):
        beyond = [n for n in nums if n >= len(positional)]
        if beyond:
            raise ValueError(f"jit: {fname} has {what}_argnums={nums}, but only accepts {len(positional)} "
                             f"positional argument{'s' if len(positional) != 1 else ''}")
    if not any(p.kind == p.VAR_KEYWORD for p in params):
        by_name = {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise ValueError(f"jit: {fname} has invalid argnames {unknown} in {what}_argnames; it takes no "
                             f"arguments of these names")


def _placement(device, backend):
    """The device ``jit(device=..., backend=...)`` names, or None."""
    from ..core import backend as backends
    if device is not None and backend is not None:
        raise ValueError(f"jit: can't specify both a device and a backend, got device={device!r} and "
                         f"backend={backend!r}")
    if device is not None:
        return backends.parse_device(device)
    if backend is None:
        return None
    try:
        found = backends.devices(backend)
    except UnknownBackendError:
        found = []
    if not found:
        available = sorted({"gpu" if d.platform == "cuda" else d.platform for d in backends.devices()})
        raise UnknownBackendError(f"jit: unknown or unavailable backend {backend!r}; available backends are "
                                  f"{available}")
    return found[0]


def _on_device(f, device):
    from .device import on_device
    return on_device(f, device)


# One cache per function and options, shared by every jit of them, as JAX's: ``fnx.jit(f)(x)`` in a loop
# traces once. Keyed weakly by the function, so a cache lives no longer than its function; callables that
# cannot be weakly referenced, and bound methods (a new object at each attribute lookup), keep their own.
_caches = weakref.WeakKeyDictionary()


def _shared_cache(f, options):
    if not isinstance(f, types.FunctionType):
        return {}
    try:
        return _caches.setdefault(f, {}).setdefault(options, {})
    except TypeError:  # unhashable options: a device object that cannot be hashed
        return {}


def _in_context(impl, dev):
    def run(xp, *args, **params):
        with dev.context():
            return impl(xp, *args, **params)
    return run


def _check_donated(f, donate_argnums, donate_argnames, static_nums, static_names):
    nums, names = _as_tuple(donate_argnums), _as_tuple(donate_argnames)
    _check_nums_and_names("donate", nums, names, ValueError)
    params = _parameters(f)
    if params is not None:
        _check_against_signature(f, "donate", nums, names, params)
    both = sorted(set(nums) & set(static_nums)) + sorted(set(names) & set(static_names))
    if both:
        raise ValueError(f"jit: {both} are both static and donated; only array arguments can be donated")


def jit(f=None, *, static_argnums=(), static_argnames=(), donate_argnums=(), donate_argnames=(),
        keep_unused=False, inline=False, device=None, backend=None, compiler_options=None, in_shardings=None,
        out_shardings=None):
    """Compiles ``f``: traced once per input signature, then replayed without per-op tracing.

    Args:
      f: a function of pytrees of arrays (and static values).
      static_argnums / static_argnames: arguments that are Python values (flags,
        sizes, functions): part of the cache key, free to steer control flow.
      donate_argnums / donate_argnames: accepted as in JAX and checked (in
        range, not static), so code that donates ports unchanged. Donation is
        a hint: fnx arrays are immutable, so a donated array stays valid and
        its buffer is not reused (``fnx.jit`` already reuses buffers of the
        graph's own intermediates).
      keep_unused / inline: accepted for JAX's signature; they change nothing
        here (unused arguments cost nothing in a replay, and a jitted function
        called inside another is traced into it).
      device / backend: where ``f`` runs (``backend`` names a platform, "cpu"
        or "gpu", and means its first device; giving both is an error, as in
        JAX): array arguments are moved there, arrays ``f`` creates are made
        there, and the outputs are returned there, as :func:`fnx.on_device` does.
      compiler_options: accepted for JAX's signature and unused: no compiler
        stands behind the replay to take XLA's options.
      in_shardings / out_shardings: only None (fnx has one device per array
        and no shardings); anything else is refused.

    Jitted functions of the same ``f`` with the same options share one cache,
    as in JAX: ``fnx.jit(f)(x)`` written inside a loop traces once. Static
    arguments are compared by type and value, so ``1`` and ``True`` (equal in
    Python) are two entries.

    The returned function has ``.lower(*args)`` (a :class:`Lowered`: the
    cached :class:`Graph` for those arguments, which may be ``ShapeDtypeStruct``s,
    with JAX's ``as_text()`` and ``compile()``), ``.trace(*args)`` (its ``jaxpr``
    and ``lower()``), ``.eval_shape(*args)``, ``.clear_cache()`` and ``._cache_size()``.

    >>> import fnx, fnx.numpy as fnp
    >>> f = fnx.jit(lambda x, n: fnp.sum(x ** n), static_argnums=1)
    >>> f(fnp.array([1.0, 2.0]), 2)
    Array(5., dtype=float32)
    >>> f.lower(fnp.array([1.0, 2.0]), 2).primitives()
    ['power', 'reduce_sum']
    """
    if f is None:
        return functools.partial(jit, static_argnums=static_argnums, static_argnames=static_argnames,
                                 donate_argnums=donate_argnums, donate_argnames=donate_argnames,
                                 keep_unused=keep_unused, inline=inline, device=device, backend=backend,
                                 compiler_options=compiler_options, in_shardings=in_shardings,
                                 out_shardings=out_shardings)
    if not callable(f):
        raise TypeError(f"jit: expected a callable value, got {f!r}")
    for name, given in (("in_shardings", in_shardings), ("out_shardings", out_shardings)):
        if given is not None:
            raise ValueError(f"jit: {name} must be None: fnx places each array on one device and has no "
                             f"shardings (got {given!r}); use device= or fnx.device_put to place arrays")
    nums = _as_tuple(static_argnums)
    names = _as_tuple(static_argnames)
    nums, names = _static_positions_and_names(f, nums, names)
    _check_donated(f, donate_argnums, donate_argnames, nums, names)
    place = _placement(device, backend)
    cache = _shared_cache(f, (nums, names, place))
    traced_f = f if place is None else _on_device(f, place)

    from_end = any(n < 0 for n in nums)

    def split(args, kwargs):
        if not nums and not names:
            return (), args, kwargs
        at = sorted({n + len(args) if n < 0 else n for n in nums}) if from_end else nums
        static = tuple((i, args[i]) for i in at if 0 <= i < len(args)) + tuple(
            sorted((k, v) for k, v in kwargs.items() if k in names))
        dyn_args = tuple(a for i, a in enumerate(args) if i not in at)
        dyn_kwargs = {k: v for k, v in kwargs.items() if k not in names}
        return static, dyn_args, dyn_kwargs

    def rebuild(static, dyn_args, dyn_kwargs):
        it = iter(dyn_args)
        pos = dict(s for s in static if isinstance(s[0], int))
        n = len(dyn_args) + len(pos)
        args = [pos[i] if i in pos else next(it) for i in range(n)]
        kwargs = dict(dyn_kwargs)
        kwargs.update({k: v for k, v in static if isinstance(k, str)})
        return args, kwargs

    def lookup(args, kwargs):
        from .. import numpy as fnp
        static, dyn_args, dyn_kwargs = split(args, kwargs)
        flat, in_tree = tree_util.flatten((dyn_args, dyn_kwargs))
        avals = []
        for i, x in enumerate(flat):
            if type(x) is Array:  # the common case, read without properties
                v = x._value
                avals.append((v.shape, v.dtype, x._device))
            else:
                weak = type(x) in _NUMBERS  # traced as weak, as JAX does: it promotes as the number would
                if not isinstance(x, Array):
                    x = flat[i] = fnp.asarray(x)
                avals.append((x.shape, x.dtype, x.device, "weak") if weak else (x.shape, x.dtype, x.device))
        # Static values by type too: 1 == True == 1.0 would otherwise share a graph (JAX keys them apart).
        # The default device too: it is where the arrays f creates land.
        key = (in_tree, tuple(avals), static, tuple([type(v) for _, v in static]) if static else (),
               get_default_device())
        try:
            compiled = cache.get(key)
        except TypeError:
            unhashable = [f"{k if isinstance(k, str) else f'argument {k}'} ({type(v).__name__})"
                          for k, v in static if not _hashable(v)]
            raise StaticArgumentError(f"jit: static arguments must be hashable (they are part of the cache key); "
                                      f"got {', '.join(unhashable)}. Pass arrays as ordinary arguments, "
                                      f"and lists as tuples") from None
        if compiled is None:
            compiled = cache[key] = _trace(static, flat, in_tree, [len(a) == 4 for a in avals])
        return compiled, flat

    def _trace(static, flat, in_tree, weak):
        from .. import numpy as fnp
        from .extras import AbstractTrace, AbstractTracer
        eqns = []
        # The primals are abstract: staging computes nothing, and records nothing on an enclosing transform
        # (inside grad or another jit, that transform sees the graph's replay, once).
        with new_main(AbstractTrace, "jit", []) as abstract, new_main(JitTrace, "jit", eqns) as main:
            boxed = [JitTracer(main, AbstractTracer(abstract, Var(x.aval, x.device), w), Var(x.aval, x.device), w)
                     for x, w in zip(flat, weak)]
            dyn_args, dyn_kwargs = in_tree.unflatten(boxed)
            args, kwargs = rebuild(static, dyn_args, dyn_kwargs)
            out = traced_f(*args, **kwargs)
        out_flat, out_tree = tree_util.flatten(out)
        outvars = []
        for o in out_flat:
            if type(o) is JitTracer and o._main is main:
                outvars.append(o.var)
            elif isinstance(o, Array):
                outvars.append(Literal(o))
            else:
                try:  # a Python number or numpy array comes back as an array, as from jax.jit
                    outvars.append(Literal(fnp.asarray(o)))
                except TypeError:
                    raise TypeError(f"jit: {getattr(f, '__name__', 'the function')} returned a "
                                    f"{type(o).__name__}; jitted functions return pytrees of arrays") from None
        graph = Graph([t.var for t in boxed], eqns, outvars, in_tree, out_tree)
        return _Compiled(graph)

    @functools.wraps(f)
    def jitted(*args, **kwargs):
        if _disabled[0]:
            return traced_f(*args, **kwargs)
        compiled, flat = lookup(args, kwargs)
        if compiled.captured:
            # A Parameter read from a closure (``fnx.jit(model)``): run f itself, so that the Parameter's
            # current value is used and backward() reaches it, as torch.compile tracks a module's parameters.
            return traced_f(*args, **kwargs)
        graph = compiled.graph
        if any(isinstance(x, Tracer) for x in flat):
            # An outer transform is active: replay the primitives through bind for it to see.
            return graph(*graph.in_tree.unflatten(flat))
        return graph.out_tree.unflatten(compiled.run([x._value for x in flat]))

    def lower(*args, **kwargs):
        """The cached graph for these arguments (traced now if it is not cached yet), as a :class:`Lowered`.
        ``ShapeDtypeStruct`` leaves stand for arrays of their shape and dtype, as in JAX's ahead-of-time API."""
        from .extras import ShapeDtypeStruct
        if any(isinstance(x, ShapeDtypeStruct) for x in tree_util.leaves((args, kwargs))):
            from .. import numpy as fnp
            # Zeros stand in for the values, which the trace never reads (reading one raises under jit); numpy's
            # zeros are allocated lazily, so even a large one costs nothing until written.
            args, kwargs = tree_util.map(lambda x: fnp.zeros(x.shape, x.dtype) if isinstance(x, ShapeDtypeStruct)
                                         else x, (args, kwargs))
        compiled, flat = lookup(args, kwargs)
        static = split(args, kwargs)[0]

        def run_f(dyn_args, dyn_kwargs):  # what a captured graph runs instead of its replay
            args, kwargs = rebuild(static, dyn_args, dyn_kwargs)
            return traced_f(*args, **kwargs)
        return Lowered(compiled, [(x.shape, x.dtype, x.device) for x in flat], getattr(f, "__name__", "f"), run_f)

    def eval_shape(*args, **kwargs):
        """``jax.jit(f).eval_shape``: the output's shapes and dtypes, computing nothing."""
        from .extras import eval_shape as eval_shape_of
        static, dyn_args, dyn_kwargs = split(args, kwargs)

        def of_dynamic(dyn_args, dyn_kwargs):
            args, kwargs = rebuild(static, dyn_args, dyn_kwargs)
            return traced_f(*args, **kwargs)
        return eval_shape_of(of_dynamic, dyn_args, dyn_kwargs)

    def trace(*args, **kwargs):
        """``jax.jit(f).trace``: the traced stage, whose ``jaxpr`` is the graph and ``lower()`` the :class:`Lowered`."""
        return Traced(lower(*args, **kwargs))

    jitted.lower = lower
    jitted.trace = trace
    jitted.eval_shape = eval_shape
    jitted.clear_cache = cache.clear
    jitted._cache_size = cache.__len__
    jitted._cache = cache
    _every_jitted.add(jitted)
    return jitted


def _out_info(graph):
    """The outputs' shapes and dtypes, as ShapeDtypeStructs in the output's structure (JAX's ``out_info``)."""
    from .extras import ShapeDtypeStruct
    return graph.out_tree.unflatten([ShapeDtypeStruct(v.aval.shape, v.aval.dtype) for v in graph.outvars])


def _args_info(graph, in_avals):
    """The dynamic arguments' shapes and dtypes, in the structure ``(args, kwargs)`` (JAX's ``args_info``)."""
    from .extras import ShapeDtypeStruct
    return graph.in_tree.unflatten([ShapeDtypeStruct(shape, dtype) for shape, dtype, _ in in_avals])


class Traced:
    """``jitted.trace(*args)``: the graph jit traced for one input signature, before lowering (JAX's stage)."""

    def __init__(self, lowered):
        self._lowered = lowered

    jaxpr = property(lambda self: self._lowered.graph)
    in_avals = property(lambda self: self._lowered.in_avals)
    out_info = property(lambda self: self._lowered.out_info)
    out_avals = property(lambda self: self._lowered.graph.out_tree.unflatten([v.aval for v in
                                                                             self._lowered.graph.outvars]))

    def lower(self):
        return self._lowered

    def __repr__(self):
        return self._lowered.as_text()


class Lowered:
    """``jitted.lower(*args)``: the graph jit traced for one input signature, as JAX's ahead-of-time stage.

    ``str()`` or ``as_text()`` print it, ``compile()`` returns a :class:`Compiled`
    callable bound to that signature, and ``graph`` is the :class:`Graph` itself
    (``primitives()``, ``eqns``, ``invars``, ``outvars`` are read through it).
    ``in_tree`` is the structure of ``(dynamic args, dynamic kwargs)``: static
    arguments are part of the trace, not inputs.
    """

    def __init__(self, compiled, in_avals, name, run_f):
        self._compiled, self.in_avals, self._name, self._run_f = compiled, in_avals, name, run_f

    @property
    def graph(self):
        return self._compiled.graph

    def primitives(self):
        return self.graph.primitives()

    eqns = property(lambda self: self.graph.eqns)
    invars = property(lambda self: self.graph.invars)
    outvars = property(lambda self: self.graph.outvars)
    in_tree = property(lambda self: self.graph.in_tree)
    out_tree = property(lambda self: self.graph.out_tree)
    out_info = property(lambda self: _out_info(self.graph))
    args_info = property(lambda self: _args_info(self.graph, self.in_avals))

    def as_text(self):
        return str(self.graph)

    __str__ = __repr__ = as_text

    def compile(self):
        return Compiled(self._compiled, self.in_avals, self._name, self._run_f)


class Compiled:
    """``jitted.lower(*args).compile()``: the cached replay for exactly one signature.

    Called with the dynamic arguments only (static ones were fixed when it was
    lowered); another structure, shape, dtype or device raises a TypeError naming
    the argument, as JAX's compiled executables do, instead of tracing again. A
    function that read a Parameter it was not given runs itself (see ``jit``).
    """

    def __init__(self, compiled, in_avals, name, run_f):
        self._compiled, self.in_avals, self._name, self._run_f = compiled, in_avals, name, run_f

    in_tree = property(lambda self: self._compiled.graph.in_tree)
    out_tree = property(lambda self: self._compiled.graph.out_tree)
    out_info = property(lambda self: _out_info(self._compiled.graph))
    args_info = property(lambda self: _args_info(self._compiled.graph, self.in_avals))

    def as_text(self):
        return str(self._compiled.graph)

    def __call__(self, *args, **kwargs):
        from .. import numpy as fnp
        graph = self._compiled.graph
        flat, tree = tree_util.flatten((args, kwargs))
        if tree != graph.in_tree:
            raise TypeError(f"jit compiled {self._name}: called with arguments of structure {tree}, compiled for "
                            f"{graph.in_tree} (static arguments are not passed to a compiled function)")
        flat = [x if isinstance(x, Array) else fnp.asarray(x) for x in flat]
        for i, (x, (shape, dtype, device)) in enumerate(zip(flat, self.in_avals)):
            if (x.shape, x.dtype, x.device) != (shape, dtype, device):
                raise TypeError(f"jit compiled {self._name}: argument {i} was compiled as {_short(dtype)}"
                                f"{list(shape)} on {device} and called with {_short(x.dtype)}{list(x.shape)} on "
                                f"{x.device}; call the jitted function itself to trace this signature")
        if self._compiled.captured:
            return self._run_f(*graph.in_tree.unflatten(flat))
        if any(isinstance(x, Tracer) for x in flat):
            return graph(*graph.in_tree.unflatten(flat))
        return graph.out_tree.unflatten(self._compiled.run([x._value for x in flat]))


_disabled = [False]
_every_jitted = weakref.WeakSet()


class disable_jit:
    """Context manager: jitted functions called inside run ``f`` itself, op by op (``jax.disable_jit``),
    so prints, breakpoints and Python control flow on values work while debugging.

    >>> import fnx, fnx.numpy as fnp
    >>> f = fnx.jit(lambda x: float(x) * 2)  # a Python float of a traced value: refused under jit
    >>> with fnx.disable_jit():
    ...     f(fnp.array(1.5))
    3.0
    """

    def __init__(self, disable=True):
        self._disable = bool(disable)

    def __enter__(self):
        self._prev = _disabled[0]
        _disabled[0] = self._disable

    def __exit__(self, *exc):
        _disabled[0] = self._prev
        return False


def clear_caches():
    """Drops the traced graphs of every jitted function (``jax.clear_caches``); the next calls trace again."""
    for jitted in list(_every_jitted):
        jitted.clear_cache()
    for caches in list(_caches.values()):  # also those of jitted functions already gone
        for cache in caches.values():
            cache.clear()
