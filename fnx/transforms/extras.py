"""JAX's other top-level transforms and utilities, built from fnx's own.

Most of them compose what exists: ``jacobian`` is ``jacrev``; ``linearize``
stages the JVP of ``f`` with the tangents as the only traced inputs, so the
primal work is done once and the graph left behind is the linear map;
``linear_transpose`` is the VJP of a linear function (at zero: a linear map's
VJP is the same everywhere); ``custom_gradient`` is a ``custom_vjp`` whose
residual is the rule ``f`` returns.

Two things are new. *Abstract evaluation* (``eval_shape``, ``make_jaxpr``)
runs ``f`` on tracers that hold a shape, a dtype and a device but no data: each
primitive they meet is answered by its ``shape`` rule, not its ``impl``, and
recorded as an equation, so nothing is computed and inputs may be bare
:class:`ShapeDtypeStruct` specs. *Callbacks* (``pure_callback`` and
``fnx.debug``) are primitives whose ``impl`` calls Python on host values; since
``jit`` replays the impl of every equation, the callback runs at every call of a
jitted function, not only while it is traced. They are throw-away primitives (outside
the registry: their parameter is an arbitrary Python function, which the
registry's generic checks cannot draw).
"""
import contextlib
import functools

import numpy as np

from ..core import tree as tree_util
from ..core.array import Array
from ..core.backend import PLATFORMS, devices, get_default_device, to_host
from ..core.primitive import NOT_DIFFERENTIABLE, Primitive, ShapedArray
from ..core.trace import Trace, Tracer, device_mismatch, new_main
from ..errors import DTypeError, ShapeError, TracerError, TreeError, conversion_error
from .autodiff import TAPE, _as_given, jacrev, jvp, vjp
from .custom import custom_vjp
from .graph import Eqn, Graph, GraphTrace, GraphTracer, Literal, Var, mark_weak


# ----- ShapeDtypeStruct and abstract evaluation -------------------------------------------------

class ShapeDtypeStruct:
    """A shape and a dtype standing for an array, as ``jax.ShapeDtypeStruct``.

    :func:`eval_shape` returns them and takes them (as well as arrays) as inputs.

    >>> import fnx
    >>> s = fnx.ShapeDtypeStruct((3, 4), "float32")
    >>> s, s.ndim, s.size
    (ShapeDtypeStruct(shape=(3, 4), dtype=float32), 2, 12)
    """

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape = tuple(int(d) for d in shape)
        self.dtype = np.dtype(dtype)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    def __eq__(self, other):
        return isinstance(other, ShapeDtypeStruct) and (self.shape, self.dtype) == (other.shape, other.dtype)

    def __hash__(self):
        return hash((self.shape, self.dtype))

    def __repr__(self):
        return f"ShapeDtypeStruct(shape={self.shape}, dtype={self.dtype})"


class AbstractTracer(Tracer):
    """A value known only by its shape, dtype and device (its :class:`Var`)."""

    __slots__ = ("var", "weak_type")

    def __init__(self, main, var, weak_type=False):
        self._main, self.var, self.weak_type = main, var, weak_type

    @property
    def shape(self):
        return self.var.aval.shape

    @property
    def dtype(self):
        return self.var.aval.dtype

    @property
    def device(self):
        return self.var.device

    def _concrete(self, what):
        aval = self.var.aval
        raise conversion_error(what,
            f"{what} of a {aval.dtype}{list(aval.shape)} value: inside fnx.{self._main.name} values are abstract "
            f"(a shape and a dtype, no data), so Python control flow cannot depend on them. Mark the argument "
            f"static (static_argnums), or select with fnx.numpy.where instead of branching")

    def __repr__(self):
        return f"Abstract<{self.dtype}{list(self.shape)}> by {self._main.name}"


class AbstractTrace(Trace):
    """Answers each primitive by its shape rule and records it as an equation."""

    __slots__ = ()
    stages = True

    def process(self, prim, args, params):
        main = self.main
        inputs, avals, device = [], [], None
        for a in args:
            if type(a) is AbstractTracer and a._main is main:
                inputs.append(a.var)
                avals.append(a.var.aval)
                here = a.var.device
            else:
                lit = Literal(a)
                inputs.append(lit)
                avals.append(ShapedArray(a.shape, a.dtype) if isinstance(a, Array) else lit.aval)
                here = a.device if isinstance(a, Array) else None
            if here is not None and here is not device:
                if device is not None:  # what eager evaluation refuses, staging refuses too (jit, eval_shape)
                    raise device_mismatch(prim.name, args)
                device = here
        out = prim.shape(*avals, **params)
        if prim.transfers:
            device = params["device"]
        device = device or get_default_device()
        outs = tuple(out) if prim.multiple_results else (out,)
        tracers = [AbstractTracer(main, Var(ShapedArray(o.shape, o.dtype), device)) for o in outs]
        main.data.append(Eqn(prim, params, inputs, [t.var for t in tracers]))
        out = tuple(tracers) if prim.multiple_results else tracers[0]
        mark_weak(main, AbstractTracer, prim, args, out)
        return out


class Jaxpr(Graph):
    """The :class:`fnx.transforms.graph.Graph` that :func:`make_jaxpr` returns, with ``jax.core.ClosedJaxpr``'s
    ``in_avals``, ``out_avals``, ``consts`` and ``jaxpr`` (itself) for code that reads them."""

    @property
    def in_avals(self):
        return [v.aval for v in self.invars]

    @property
    def out_avals(self):
        return [v.aval for v in self.outvars]

    @property
    def consts(self):
        return [a.value for e in self.eqns for a in e.inputs if isinstance(a, Literal)]

    @property
    def jaxpr(self):
        return self


def _aval_of(fname, x):
    """(ShapedArray, device) of an input leaf: an array, a ShapeDtypeStruct (or any object with a shape and
    a dtype) or something ``fnx.numpy.asarray`` takes."""
    from .. import numpy as fnp
    if isinstance(x, Array):
        return ShapedArray(x.shape, x.dtype), x.device
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return ShapedArray(tuple(x.shape), np.dtype(x.dtype)), get_default_device()
    try:
        x = fnp.asarray(x)
    except TypeError:
        raise TypeError(f"{fname}: an argument leaf is a {type(x).__name__}, not an array, a ShapeDtypeStruct "
                        f"or a number; mark it static with static_argnums") from None
    return ShapedArray(x.shape, x.dtype), x.device


def _stage_abstract(fname, f, args, kwargs, static_argnums=(), weak=()):
    """Runs ``f`` on abstract tracers: the :class:`Jaxpr` of the call (no value computed). The input leaves at
    the positions ``weak`` promote as Python numbers (JAX's weak types); ``weak_outputs`` on the result says
    which outputs ``f`` returned as Python numbers."""
    from .. import numpy as fnp
    static = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    static = {s % len(args) if args else s for s in static}
    dyn = tuple(a for i, a in enumerate(args) if i not in static)
    flat, in_tree = tree_util.flatten(dyn + ((kwargs,) if kwargs else ()))
    eqns = []
    with new_main(AbstractTrace, fname, eqns) as main:
        boxed = [AbstractTracer(main, Var(*_aval_of(fname, x)), i in weak) for i, x in enumerate(flat)]
        rebuilt = in_tree.unflatten(boxed)
        it = iter(rebuilt[:len(dyn)])
        out = f(*[a if i in static else next(it) for i, a in enumerate(args)],
                **(rebuilt[-1] if kwargs else {}))
    out_flat, out_tree = tree_util.flatten(out)
    outvars = []
    for o in out_flat:
        if type(o) is AbstractTracer and o._main is main:
            outvars.append(o.var)
        else:
            try:
                outvars.append(Literal(o if isinstance(o, Array) else fnp.asarray(o)))
            except TypeError:
                raise TypeError(f"{fname}: {getattr(f, '__name__', 'the function')} returned a {type(o).__name__}; "
                                f"return pytrees of arrays") from None
    jaxpr = Jaxpr([t.var for t in boxed], eqns, outvars, in_tree, out_tree)
    jaxpr.weak_outputs = [isinstance(o, (bool, int, float, complex)) for o in out_flat]
    return jaxpr


def eval_shape(fun, *args, **kwargs):
    """The shapes and dtypes of ``fun(*args, **kwargs)`` as a pytree of :class:`ShapeDtypeStruct`, computed
    without running any operation (``jax.eval_shape``).

    Inputs may be arrays, numbers or ``ShapeDtypeStruct`` specs (anything with
    ``shape`` and ``dtype``). Every operation inside is answered by its shape
    rule, so ``fun`` must not branch on values (a TracerError says so).

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.eval_shape(lambda x, w: fnp.tanh(x @ w), fnx.ShapeDtypeStruct((8, 3), "float32"), fnp.ones((3, 5)))
    ShapeDtypeStruct(shape=(8, 5), dtype=float32)
    """
    graph = _stage_abstract("eval_shape", fun, args, kwargs)
    return graph.out_tree.unflatten([ShapeDtypeStruct(v.aval.shape, v.aval.dtype) for v in graph.outvars])


def make_jaxpr(fun, static_argnums=(), return_shape=False):
    """A function returning the printable graph of ``fun`` at the given arguments (``jax.make_jaxpr``).

    Staged abstractly, as :func:`eval_shape`: nothing is computed and arguments
    may be :class:`ShapeDtypeStruct` specs. The result is a :class:`Jaxpr`
    (``str()`` prints it; ``.eqns``, ``.in_avals``, ``.out_avals``; called with
    arrays of the traced shapes it replays the operations). With
    ``return_shape=True`` the function returns ``(jaxpr, shapes)``, ``shapes``
    as from ``eval_shape``. Keyword arguments become inputs after the positional
    ones (the graph then replays as ``jaxpr(*args, kwargs)``).

    >>> import fnx, fnx.numpy as fnp
    >>> print(fnx.make_jaxpr(lambda x: fnp.sum(fnp.sin(x)))(fnp.ones(3)))
    { lambda a:f32[3]. let
        b:f32[3] = sin a
        c:f32[] = reduce_sum[axes=(0,)] b
      in (c,) }
    """
    def make(*args, **kwargs):
        graph = _stage_abstract("make_jaxpr", fun, args, kwargs, static_argnums)
        if return_shape:
            shapes = graph.out_tree.unflatten([ShapeDtypeStruct(v.aval.shape, v.aval.dtype) for v in graph.outvars])
            return graph, shapes
        return graph
    make.__name__ = f"make_jaxpr({getattr(fun, '__name__', 'f')})"
    return make


# ----- derivatives: jacobian, linearize, linear_transpose, custom_gradient -----------------------

jacobian = jacrev


def _check_like(fname, what, given, expected):
    """Each leaf of ``given`` has the shape and dtype of the matching leaf of ``expected`` (same structure)."""
    from .. import numpy as fnp
    g_flat, g_tree = tree_util.flatten(given)
    e_flat, e_tree = tree_util.flatten(expected)
    if g_tree != e_tree:
        raise TreeError(f"{fname}: the {what} have structure {g_tree}, expected {e_tree}")
    out = []
    for i, (g, e) in enumerate(zip(g_flat, e_flat)):
        g = fnp.asarray(g)
        if g.shape != tuple(e.shape):
            raise ShapeError(f"{fname}: {what} leaf {i} has shape {g.shape}, expected {tuple(e.shape)}")
        if g.dtype != e.dtype:
            raise DTypeError(f"{fname}: {what} leaf {i} has dtype {g.dtype}, expected {e.dtype}")
        out.append(g)
    return e_tree.unflatten(out)


def linearize(fun, *primals, has_aux=False):
    """``(fun(*primals), f_jvp)`` where ``f_jvp(*tangents)`` is the JVP of ``fun`` at ``primals``
    (``jax.linearize``); with ``has_aux``, ``fun`` returns ``(output, aux)`` and the result is
    ``(output, f_jvp, aux)``.

    The primal computation runs once, now: the JVP is staged with only the
    tangents traced, so ``f_jvp`` replays just the linear tangent operations,
    with the primal values they need held as constants. Each tangent must have
    its primal's shape and dtype.

    >>> import fnx, fnx.numpy as fnp
    >>> y, f_jvp = fnx.linearize(fnp.sin, 0.0)
    >>> y, f_jvp(2.0)
    (Array(0., dtype=float32), Array(2., dtype=float32))
    """
    from .. import numpy as fnp
    given, p_tree = tree_util.flatten(primals)
    p_flat = [fnp.asarray(p) for p in given]
    primals = p_tree.unflatten([_as_given(g, p) for g, p in zip(given, p_flat)])  # (Python ints stay weak)
    eqns = []
    with new_main(GraphTrace, "linearize", eqns) as main:
        zeros = [fnp.zeros_like(p) for p in p_flat]
        boxed = [GraphTracer(main, z, Var(z.aval, z.device)) for z in zeros]
        out, t_out, *aux = jvp(fun, tuple(primals), tuple(p_tree.unflatten(boxed)), has_aux=has_aux)
    out, aux = tree_util.map(lambda o: o.primal if type(o) is GraphTracer and o._main is main else o, (out, aux))
    t_flat, t_tree = tree_util.flatten(t_out)
    outvars = [o.var if type(o) is GraphTracer and o._main is main else Literal(o) for o in t_flat]
    graph = Graph([t.var for t in boxed], eqns, outvars, p_tree, t_tree)

    def f_jvp(*tangents):
        tangents = _check_like("linearize", "tangents", tuple(tangents), tuple(primals))
        return graph(*tangents)

    f_jvp.graph = graph
    return (out, f_jvp, aux[0]) if has_aux else (out, f_jvp)


def linear_transpose(fun, *primals):
    """The transpose of the linear function ``fun``, as ``jax.linear_transpose``.

    ``primals`` give the input shapes and dtypes (arrays or :class:`ShapeDtypeStruct`).
    ``f_t(out_cotangent)`` returns a tuple with one cotangent per input. ``fun``
    must be linear: the transpose is the VJP of ``fun`` at zero, which for a
    linear map is the same at every point (for a non-linear ``fun`` it is the
    VJP at zero, not an error as in JAX).

    >>> import fnx, fnx.numpy as fnp
    >>> f_t = fnx.linear_transpose(lambda x: 2.0 * x.sum(), fnp.ones(3))
    >>> f_t(fnp.asarray(1.0))
    (Array([2., 2., 2.], dtype=float32),)
    """
    from .. import numpy as fnp
    p_flat, p_tree = tree_util.flatten(primals)
    specs = [_aval_of("linear_transpose", p) for p in p_flat]
    zeros = [fnp.zeros(s.shape, s.dtype, device=d) for s, d in specs]
    out, vjp_fn = vjp(fun, *p_tree.unflatten(zeros))
    out_spec = tree_util.map(lambda o: ShapeDtypeStruct(o.shape, o.dtype), out)

    def f_t(out_cotangent):
        ct = _check_like("linear_transpose", "cotangents", out_cotangent, out_spec)
        return tuple(vjp_fn(ct))

    return f_t


def custom_gradient(fun):
    """``fun`` with a gradient rule of its own, as ``jax.custom_gradient``.

    ``fun(*args)`` returns ``(out, rule)``; ``rule(out_cotangent)`` returns the
    cotangents of the arguments, a tuple with one per argument (a bare value
    when there is one argument). Built on :class:`fnx.custom_vjp`, so forward
    mode differentiates ``fun``'s own code.

    >>> import fnx
    >>> @fnx.custom_gradient
    ... def f(x):
    ...     return x ** 2, lambda g: (g * 10.0 * x,)
    >>> fnx.grad(f)(3.0)
    Array(30., dtype=float32)
    """
    def plain(*args):
        return fun(*args)[0]
    plain.__name__ = getattr(fun, "__name__", "custom_gradient")
    wrapped = custom_vjp(plain)

    def fwd(*args):
        out, rule = fun(*args)
        if not callable(rule):
            raise TypeError(f"custom_gradient: {plain.__name__} must return (output, rule) with a callable rule, "
                            f"got a {type(rule).__name__}")
        return out, (rule, len(args))

    def bwd(res, ct):
        rule, n = res
        cts = rule(ct)
        if not isinstance(cts, (tuple, list)):
            if n != 1:
                raise TypeError(f"custom_gradient: the rule of {plain.__name__} must return a tuple of {n} "
                                f"cotangents, one per argument, got a {type(cts).__name__}")
            cts = (cts,)
        return tuple(cts)

    wrapped.defvjp(fwd, bwd)
    return wrapped


# ----- host utilities -------------------------------------------------------------------------------

def block_until_ready(x):
    """Waits until every array of the pytree ``x`` is computed, and returns ``x`` (``jax.block_until_ready``).

    numpy computes eagerly, so on the CPU this returns at once; a CUDA array
    waits for its device to finish the work queued on it.

    >>> import fnx
    >>> fnx.block_until_ready({"w": fnx.numpy.ones(2)})
    {'w': Array([1., 1.], dtype=float32)}
    """
    synced = set()
    for leaf in tree_util.leaves(x):
        if isinstance(leaf, Array) and not isinstance(leaf, Tracer):
            dev = leaf.device
            if dev.platform == "cuda" and dev not in synced:
                with dev.context():
                    dev.xp.cuda.get_current_stream().synchronize()
                synced.add(dev)
    return x


def device_get(x):
    """The pytree ``x`` with every fnx array as a numpy array (copied off a GPU), as ``jax.device_get``;
    other leaves, and values traced by a transform (``grad``, ``vmap``, ``jit``...), are returned
    unchanged. A Parameter or an array that requires grad becomes its value.

    >>> import fnx
    >>> fnx.device_get({"a": fnx.numpy.ones(2), "n": 3})
    {'a': array([1., 1.], dtype=float32), 'n': 3}
    """
    def get(leaf):
        if isinstance(leaf, Tracer) and leaf._main is not TAPE:
            return leaf  # as JAX: a value traced by a transform stays traced (and differentiable)
        if isinstance(leaf, Array):  # Parameters and requires_grad arrays too, as torch's .detach().cpu()
            return np.array(to_host(leaf._concrete("device_get")))
        return leaf
    return tree_util.map(get, x)


def _platform(fname, backend):
    if backend is None:
        return get_default_device().platform
    if isinstance(backend, str) and backend in PLATFORMS:
        return PLATFORMS[backend]
    raise ValueError(f"{fname}: backend must be 'cpu', 'gpu' or 'cuda', got {backend!r}")


def default_backend():
    """``"cpu"`` or ``"gpu"``: the platform of the default device (where new arrays go), as
    ``jax.default_backend``.

    >>> import fnx
    >>> fnx.default_backend()
    'cpu'
    """
    return "gpu" if get_default_device().platform == "cuda" else "cpu"


def local_devices(process_index=None, backend=None, host_id=None):
    """The devices of ``backend`` (the default device's platform by default), as ``jax.local_devices``."""
    return devices(_platform("local_devices", backend))


def device_count(backend=None):
    """How many devices ``backend`` has (the default device's platform by default), as ``jax.device_count``.

    >>> import fnx
    >>> fnx.device_count("cpu") >= 1
    True
    """
    return len(devices(_platform("device_count", backend)))


def local_device_count(backend=None):
    """``device_count``: fnx runs in one process, so every device is local."""
    return len(devices(_platform("local_device_count", backend)))


def named_call(fun, *, name=None):
    """``fun`` itself, as a wrapper: ``jax.named_call`` only names a scope in XLA's output, which fnx has not."""
    @functools.wraps(fun)
    def named(*args, **kwargs):
        return fun(*args, **kwargs)
    if name is not None:
        named.__name__ = name
    return named


@contextlib.contextmanager
def named_scope(name):
    """``with fnx.named_scope("layer1"):``, as ``jax.named_scope``: JAX names the operations inside in XLA's
    output and its profiles; fnx has neither, so the block runs as it is. ``name`` must be a str."""
    if not isinstance(name, str):
        raise TypeError(f"named_scope: name must be a str, got {type(name).__name__}")
    yield


@contextlib.contextmanager
def ensure_compile_time_eval():
    """``jax.ensure_compile_time_eval``: inside ``jit``, compute what depends on no traced input now, as a
    constant. fnx's ``jit`` already does so (it traces by running the function, and values that no input
    reaches are concrete), so the block runs as it is; a traced value stays traced, and branching on it
    raises jit's error, as in JAX."""
    yield


# ----- callbacks ---------------------------------------------------------------------------------------

_VMAP_METHODS = ("sequential", "sequential_unrolled", "expand_dims", "broadcast_all", "legacy_vectorized")


def _callback_impl(xp, *vals, callback, out_avals, vmap_method):
    outs = callback(*[to_host(v) for v in vals])
    result = []
    for i, (o, aval) in enumerate(zip(outs, out_avals)):
        o = np.asarray(o)
        if o.shape != aval.shape:
            raise ShapeError(f"pure_callback: result {i} of the callback has shape {o.shape}, but "
                             f"result_shape_dtypes says {aval.shape}")
        if o.dtype != aval.dtype:
            raise DTypeError(f"pure_callback: result {i} of the callback has dtype {o.dtype}, but "
                             f"result_shape_dtypes says {aval.dtype}; fnx casts nothing silently, cast it in the "
                             f"callback")
        result.append(xp.array(o))  # a copy: the callback may hand back one of its inputs, or keep the array
    return tuple(result)


def _callback_not_differentiable(*args, **params):
    raise TracerError("pure_callback: callbacks are not differentiable (fnx cannot see inside the Python "
                      "function); wrap the call in fnx.custom_jvp or fnx.custom_vjp with a rule of your own")


def _callback_batch(vals, bdims, *, callback, out_avals, vmap_method):
    from .. import numpy as fnp
    size = next(v.shape[d] for v, d in zip(vals, bdims) if d is not None)
    if vmap_method is None:
        raise NotImplementedError(
            "pure_callback under vmap: pass vmap_method= one of 'sequential' (call it once per example), "
            "'expand_dims' (once, unbatched arguments get a new axis of size 1), 'broadcast_all' (once, every "
            "argument batched) or 'legacy_vectorized', as JAX requires")
    params = {"callback": callback, "vmap_method": vmap_method}
    if size == 0:  # an empty batch: nothing to call the callback on
        device = next(v.device for v, d in zip(vals, bdims) if d is not None)
        return tuple(fnp.zeros((0,) + a.shape, a.dtype, device=device) for a in out_avals), (0,) * len(out_avals)
    if vmap_method.startswith("sequential"):
        per = []
        for i in range(size):
            args = [v if d is None else fnp.moveaxis(v, d, 0)[i] for v, d in zip(vals, bdims)]
            per.append(_callback_p.bind(*args, out_avals=out_avals, **params))
        outs = tuple(fnp.stack([p[k] for p in per]) for k in range(len(out_avals)))
    else:
        args = []
        for v, d in zip(vals, bdims):
            if d is not None:
                args.append(fnp.moveaxis(v, d, 0))
            elif vmap_method == "expand_dims":
                args.append(fnp.expand_dims(v, 0))
            elif vmap_method == "broadcast_all":
                args.append(fnp.broadcast_to(fnp.expand_dims(v, 0), (size,) + tuple(v.shape)))
            else:  # legacy_vectorized: unbatched arguments as they are
                args.append(v)
        batched = tuple(ShapedArray((size,) + a.shape, a.dtype) for a in out_avals)
        outs = _callback_p.bind(*args, out_avals=batched, **params)
    return outs, (0,) * len(out_avals)


_callback_p = Primitive(
    "pure_callback", impl=_callback_impl,
    shape=lambda *avals, callback, out_avals, vmap_method: tuple(out_avals),
    jvp=_callback_not_differentiable, vjp=_callback_not_differentiable, batch=_callback_batch,
    multiple_results=True, smooth=False)


def pure_callback(callback, result_shape_dtypes, *args, sharding=None, vmap_method=None, **kwargs):
    """Calls the Python function ``callback`` on host (numpy) values, as ``jax.pure_callback``.

    ``callback(*args, **kwargs)`` receives numpy arrays for the array leaves and
    must return a pytree of arrays matching ``result_shape_dtypes`` (a pytree of
    :class:`ShapeDtypeStruct` or arrays) in structure, shapes and dtypes
    (a mismatch raises; nothing is cast). The results are fnx arrays on the
    arguments' device.

    Under ``jit`` the callback runs at every call, not only while tracing (the
    first call runs it twice: jit computes while it traces, then replays); as
    in JAX, a pure callback must not rely on how often it runs.
    Under ``vmap``, ``vmap_method`` says how: ``"sequential"`` calls it once
    per example; ``"expand_dims"`` once, with the batch as a leading axis and
    unbatched arguments given an axis of size 1; ``"broadcast_all"`` once, with
    every argument broadcast along the batch; ``"legacy_vectorized"`` once,
    unbatched arguments as they are. With ``vmap_method=None`` vmap raises, as in
    JAX. Callbacks are not differentiable: a derivative through one raises a
    TracerError.

    >>> import fnx, fnx.numpy as fnp, numpy as np
    >>> spec = fnx.ShapeDtypeStruct((3,), "float32")
    >>> fnx.jit(lambda x: fnx.pure_callback(np.cumsum, spec, x))(fnp.ones(3))
    Array([1., 2., 3.], dtype=float32)
    """
    from .. import numpy as fnp
    del sharding
    if vmap_method is not None and vmap_method not in _VMAP_METHODS:
        raise ValueError(f"pure_callback: vmap_method must be None or one of {_VMAP_METHODS}, got {vmap_method!r}")
    flat, in_tree = tree_util.flatten((args, kwargs))
    flat = [fnp.asarray(x) for x in flat]
    specs, out_tree = tree_util.flatten(result_shape_dtypes)
    if not specs:
        raise ValueError("pure_callback: result_shape_dtypes holds no array; a pure callback without results "
                         "does nothing (JAX removes it). Use fnx.debug.callback for side effects")
    out_avals = []
    for s in specs:
        if not (hasattr(s, "shape") and hasattr(s, "dtype")):
            raise TypeError(f"pure_callback: result_shape_dtypes leaves must be ShapeDtypeStruct or arrays, got a "
                            f"{type(s).__name__}")
        out_avals.append(ShapedArray(tuple(s.shape), np.dtype(s.dtype)))

    def flat_callback(*host):
        a, kw = in_tree.unflatten(list(host))
        res_flat, res_tree = tree_util.flatten(callback(*a, **kw))
        if res_tree != out_tree:
            raise TreeError(f"pure_callback: the callback returned structure {res_tree}, result_shape_dtypes has "
                            f"{out_tree}")
        return res_flat

    outs = _callback_p.bind(*flat, callback=flat_callback, out_avals=tuple(out_avals), vmap_method=vmap_method)
    return out_tree.unflatten(list(outs))


def _debug_impl(xp, *vals, callback):
    if not _tracing_for_jit():  # jit computes while it traces, then replays: print at the replay only
        callback(*[to_host(v) for v in vals])
    return xp.zeros((0,), dtype=bool)  # a token: jit keeps every equation, each needs an output


def _tracing_for_jit():
    from ..core.trace import _stack
    from .jit import JitTrace
    return any(type(m.trace) is JitTrace for m in _stack)


def _debug_batch(vals, bdims, *, callback):
    from .. import numpy as fnp
    size = next(v.shape[d] for v, d in zip(vals, bdims) if d is not None)
    for i in range(size):  # one call per example, in order, as JAX's debug callbacks do
        _debug_p.bind(*[v if d is None else fnp.moveaxis(v, d, 0)[i] for v, d in zip(vals, bdims)],
                      callback=callback)
    return fnp.zeros((0,), dtype=bool, device=vals[0].device), None


_debug_p = Primitive("debug_callback", impl=_debug_impl,
                     shape=lambda *avals, callback: ShapedArray((0,), np.dtype(bool)),
                     jvp=NOT_DIFFERENTIABLE, vjp=NOT_DIFFERENTIABLE, batch=_debug_batch, smooth=False)


def debug_callback(callback, *args, ordered=False, partitioned=False, **kwargs):
    """Calls ``callback(*args, **kwargs)`` for its side effect, on host (numpy) values, as ``jax.debug.callback``;
    returns None. Under ``jit`` it runs at every call; under ``vmap`` once per example; under
    differentiation on the primal values only.

    Array leaves of the arguments reach ``callback`` as numpy arrays; other
    leaves as they are. Calls run in program order (``ordered`` is accepted and
    always holds).
    """
    del ordered, partitioned
    flat, tree = tree_util.flatten((args, kwargs))
    where = [i for i, x in enumerate(flat) if isinstance(x, Array)]

    def flat_callback(*host):
        full = list(flat)
        for i, h in zip(where, host):
            full[i] = h
        a, kw = tree.unflatten(full)
        callback(*a, **kw)

    if any(isinstance(flat[i], Tracer) for i in where):
        _debug_p.bind(*[flat[i] for i in where], callback=flat_callback)
    else:  # nothing traced: call it now (inside jit too, where it then runs while tracing only)
        flat_callback(*[to_host(flat[i]._value) for i in where])


def debug_print(fmt, *args, ordered=False, partitioned=False, **kwargs):
    """Prints ``fmt.format(*args, **kwargs)`` with the arrays' values, as ``jax.debug.print``.

    Unlike ``print``, it shows values inside transforms: under ``jit`` at every
    call (not once while tracing), under ``vmap`` one line per example, under
    ``grad`` the primal values. Arrays are formatted as numpy arrays. (A call
    none of whose arguments is traced, inside ``jit``, prints while the function
    is traced only: nothing of it enters the compiled graph.)

    >>> import fnx, fnx.numpy as fnp
    >>> f = fnx.jit(lambda x: (fnx.debug.print("x = {}", x), x * 2)[1])
    >>> _ = f(fnp.arange(3.0)); _ = f(fnp.ones(2))
    x = [0. 1. 2.]
    x = [1. 1.]
    """
    def show(*a, **kw):
        print(fmt.format(*a, **kw))
    debug_callback(show, *args, ordered=ordered, partitioned=partitioned, **kwargs)
