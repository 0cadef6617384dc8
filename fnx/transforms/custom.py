"""User-defined derivative rules: ``custom_vjp`` and ``custom_jvp`` (JAX's API).

A decorated function runs its own code when no transform is watching. When a
transform's tracer reaches it, the top transform gets the whole call at once
(``Trace.process_custom_vjp`` / ``process_custom_jvp``) instead of the
primitives inside, and applies the user's rule:

* reverse mode records one node whose backward rule is ``bwd``;
* forward mode applies the ``custom_jvp`` rule;
* a ``custom_jvp`` function under reverse mode is differentiated by
  transposing the rule (the VJP of its linear tangent map), and a
  ``custom_vjp`` function under forward mode is differentiated through its
  forward code, so every transform still gets a correct answer.

Every other transform (``vmap``, ``jit``, ``make_graph``, ``checkpoint``'s
trace) binds the call as one ``custom_call`` primitive, whose parameter is the
:class:`CustomCall` itself: its batching rule vmaps the user's functions and
hands the batched call to the transform below, so a rule still applies under
``grad(vmap(f))`` and ``grad(jit(f))``, as in JAX.

Arguments are pytrees; ``nondiff_argnums`` marks static arguments (functions,
flags) that are passed through untouched and handed to the rule first.
"""
import functools
import inspect

from ..core import tree as tree_util
from ..core.array import Array, wrap
from ..core.backend import device_of
from ..core.primitive import ShapedArray, defprim
from ..core.trace import Trace, Tracer, find_top, new_main
from ..core.backend import Device
from ..errors import DeviceError, ShapeError, ShapeTypeError, TangentDTypeError, TreeError


class CustomCall:
    """One call of a ``custom_vjp`` or ``custom_jvp`` function, over its flattened arguments.

    ``fun(*leaves)`` returns the list of the output's leaves. A ``custom_vjp`` call has
    ``fwd(*leaves) -> (output leaves, residuals)`` and ``bwd(residuals, output
    cotangents) -> one cotangent per argument leaf``; a ``custom_jvp`` call has
    ``rule(primals, tangents) -> (output leaves, tangent leaves)``. Transforms
    receive it whole (``Trace.process_custom_vjp``/``process_custom_jvp``) or
    as the parameter of :data:`custom_call_p`.
    """

    __slots__ = ("name", "fun", "fwd", "bwd", "rule")

    def __init__(self, name, fun, fwd=None, bwd=None, rule=None):
        self.name, self.fun, self.fwd, self.bwd, self.rule = name, fun, fwd, bwd, rule

    @property
    def is_vjp(self):
        """Whether reverse mode runs the user's ``bwd`` (a custom_vjp call; it may carry a forward ``rule``
        too, as a PyTorch Function with ``backward`` and ``jvp`` does)."""
        return self.fwd is not None

    def bind(self, args):
        """The call as one :data:`custom_call_p` operation (what a transform without a rule of its own does)."""
        return list(custom_call_p.bind(*args, call=self))

    def __repr__(self):
        return f"{'custom_vjp' if self.is_vjp else 'custom_jvp'}[{self.name}]"


class _Holder:
    """The output structure of a custom call, learnt when its function first runs."""

    __slots__ = ("tree",)

    def __init__(self):
        self.tree = None


def _flat_outputs(f, holder):
    """``f`` returning the list of its output's leaves; the structure goes to ``holder``."""
    def flat_f(*args):
        out_flat, holder.tree = tree_util.flatten(f(*args))
        return out_flat
    return flat_f


def call_custom(call, args):
    """Runs ``call`` on ``args`` (argument leaves): under the highest transform watching them, or plainly."""
    top = find_top(args)
    if top is None:
        return call.fun(*args)
    if call.is_vjp:
        return list(top.trace.process_custom_vjp(call, args))
    return list(top.trace.process_custom_jvp(call, args))


def _wrap_payload(v):
    return wrap(v, device_of(v)) if hasattr(v, "dtype") and hasattr(v, "shape") else v


def _custom_call_impl(xp, *vals, call):
    from .. import numpy as fnp
    return tuple(fnp.asarray(o)._value for o in call.fun(*[_wrap_payload(v) for v in vals]))


def _custom_call_shape(*avals, call):
    from .extras import ShapeDtypeStruct, eval_shape
    specs = [ShapeDtypeStruct(a.shape, a.dtype) if isinstance(a, ShapedArray) and not isinstance(a.dtype, type)
             else a.dtype(0) if isinstance(a, ShapedArray) else a for a in avals]
    return tuple(ShapedArray(o.shape, o.dtype) for o in eval_shape(call.fun, *specs))


def _zeros_for(tangents, primals):
    from .. import numpy as fnp
    return tuple(fnp.zeros_like(p) if t is None else t for p, t in zip(primals, tangents))


def _custom_call_jvp(primals, tangents, *, call):
    from .autodiff import jvp
    tangents = _zeros_for(tangents, primals)
    if call.rule is None:  # forward mode differentiates the forward code, as custom_vjp documents
        out, t_out = jvp(lambda *p: call.fun(*p), tuple(primals), tangents)
    else:
        out, t_out = call.rule(tuple(primals), tangents)
        _same_structure(call, out, t_out)
    return tuple(out), tuple(t_out)


def _same_structure(call, out, t_out):
    out_tree, t_tree = tree_util.structure(out), tree_util.structure(t_out)
    if out_tree != t_tree:
        raise TreeError(f"custom_jvp rule of {call.name}: primal output {out_tree} and tangent output {t_tree} "
                        f"differ")


def _custom_call_vjp(cts, *primals, out, call):
    if call.is_vjp:  # the residuals are computed again: a graph keeps operands, not a rule's residuals
        return tuple(call.bwd(call.fwd(*primals)[1], list(cts)))
    return _transposed_rule(call, primals, primals, cts)


def _transposed_rule(call, primals, given, cts):
    """The VJP of a custom_jvp call: the transpose of its rule's tangent map, which is linear in the
    tangents, taken at ``given`` (the operands, or the tape's tracers of them)."""
    from .autodiff import vjp
    from .. import numpy as fnp
    zeros = [fnp.zeros_like(p) for p in primals]
    return vjp(lambda *ts: list(call.rule(tuple(given), ts)[1]), *zeros)[1](list(cts))


def _custom_call_batch(vals, bdims, axis, *, call):
    """Every operand batched along axis 0 (shared ones broadcast), and the user's functions vmapped: the
    batched call goes to the transform below, so its rule applies there too. A shared operand's
    cotangent is then summed over the batch by the broadcast's own rule. Residuals that are not arrays
    cannot leave a vmap: the batched ``bwd`` then computes them again from the operands."""
    from .. import numpy as fnp
    from .vmap import vmap
    size = next(v.shape[d] for v, d in zip(vals, bdims) if d is not None)
    front = []
    for v, d in zip(vals, bdims):
        if d is None:
            v = fnp.asarray(v)
            front.append(fnp.broadcast_to(v, (size,) + v.shape))
        else:
            front.append(fnp.moveaxis(v, d, 0))
    named = functools.partial(vmap, axis_name=axis[0])  # collectives inside still reach this vmap's examples
    batched = CustomCall(call.name, named(call.fun))
    if call.is_vjp:
        recompute = []  # the residuals are not all arrays (a closure, a count): keep the operands instead

        def fwd(*operands):
            out, res = call.fwd(*operands)
            if all(isinstance(r, Array) for r in tree_util.leaves(res)):
                return out, res
            recompute.append(True)
            return out, operands

        def bwd(res, cts):
            return call.bwd(call.fwd(*res)[1] if recompute else res, cts)
        batched.fwd, batched.bwd = named(fwd), named(bwd)
    if call.rule is not None:
        batched.rule = named(call.rule)
    out = call_custom(batched, front)
    return out, (0,) * len(out)


#: A custom_vjp or custom_jvp call as one operation, for the transforms that do not apply the rule
#: themselves; ``call`` (a :class:`CustomCall`) carries the user's functions.
custom_call_p = defprim("custom_call", impl=_custom_call_impl, shape=_custom_call_shape, jvp=_custom_call_jvp,
                        vjp=_custom_call_vjp, batch=_custom_call_batch, multiple_results=True,
                        collective=True)  # (the user's functions may hold collectives)


def closed_over_tracers(fun):
    """The live traced values ``fun`` closes over: in its closure cells, a ``functools.partial``'s arguments
    or a bound method's object, and the pytrees in them."""
    sources, f = [], fun
    while isinstance(f, functools.partial):
        sources += [f.args, f.keywords]
        f = f.func
    if inspect.ismethod(f):
        sources.append(f.__self__)
        f = f.__func__
    for cell in getattr(f, "__closure__", None) or ():
        try:
            sources.append(cell.cell_contents)
        except ValueError:  # a cell not filled yet
            pass
    return [x for x in tree_util.leaves(sources) if isinstance(x, Tracer) and x._main.alive]


def _no_symbolic_zeros(fname, symbolic_zeros):
    if symbolic_zeros:
        raise NotImplementedError(f"{fname}: symbolic_zeros=True is not supported; the rule is given zeros "
                                  f"(arrays) for the arguments and outputs nobody differentiates, as JAX's default")


class _CustomBase:
    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        if not hasattr(self, "__name__"):  # a functools.partial, a callable object: no name of its own
            self.__name__ = getattr(type(fun), "__name__", "function")
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self._signature = inspect.signature(fun)
        # Positional parameters that have defaults: a call that leaves them out still hands the rules every
        # argument, the defaults filled in (JAX's resolve_kwargs).
        self._fills_defaults = any(p.default is not p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                                   for p in self._signature.parameters.values())

    #: checkpoint's: a function that closes over traced values runs as it is, without the recomputation
    #: (which could not reach them); its values and derivatives are the same.
    _inline_closures = False

    def _runs_inline(self, top, rules, flat):
        """Whether to run ``fun`` itself because it (or one of ``rules``) closes over traced values other
        than its arguments ``flat``: always for checkpoint; raises for a user's rule that the call,
        dispatched to ``top`` (the highest transform among the arguments), could not honour."""
        given = {id(x) for x in flat}
        found = [x for f in (self.fun,) + rules if f is not None for x in closed_over_tracers(f)
                 if id(x) not in given]
        if not found:
            return False
        if self._inline_closures:
            return True
        # A user's rule still works where the transform on top runs it during the staging (grad inside jit);
        # not where the call is staged itself, to run later (jit, make_jaxpr), or goes below a value it
        # closes over, which that transform would not see.
        found = [x for x in found if top.trace.stages or x._main.level > top.level]
        if not found:
            return False
        from ..errors import TracerError
        kind = "custom_vjp" if isinstance(self, custom_vjp) else "custom_jvp"
        raise TracerError(f"{kind} function {self.__name__} (or its rule) closes over a value traced by "
                          f"{found[0]._main.name}, which its rule cannot honour (it runs again later, or below "
                          f"that transform). Pass the value as an argument instead (in nondiff_argnums if it is "
                          f"not differentiated)")

    def _split(self, args, kwargs):
        """Positional arguments from ``args``/``kwargs``; the differentiable ones flattened."""
        if kwargs or self._fills_defaults:
            bound = self._signature.bind(*args, **kwargs)
            bound.apply_defaults()
            args = bound.args
        nondiff = [args[i] for i in self.nondiff_argnums]
        dyn = tuple(a for i, a in enumerate(args) if i not in self.nondiff_argnums)
        flat, tree = tree_util.flatten(dyn)
        return args, nondiff, flat, tree

    def _rebuild(self, nondiff, tree, flat):
        dyn = iter(tree.unflatten(list(flat)))
        nd = iter(nondiff)
        n = len(self.nondiff_argnums) + len(tree.subtrees)
        return [next(nd) if i in self.nondiff_argnums else next(dyn) for i in range(n)]


class custom_vjp(_CustomBase):
    """A function with a user-defined reverse-mode rule.

    >>> import fnx, fnx.numpy as fnp
    >>> @fnx.custom_vjp
    ... def clip_gradient(x):
    ...     return x
    >>> def fwd(x):
    ...     return x, None
    >>> def bwd(res, g):
    ...     return (fnp.clip(g, -1.0, 1.0),)
    >>> clip_gradient.defvjp(fwd, bwd)
    >>> fnx.grad(lambda x: 10.0 * clip_gradient(x))(2.0)
    Array(1., dtype=float32)

    ``fwd(*args) -> (out, residuals)``; ``bwd(*nondiff_args, residuals, ct) ->``
    a tuple with one cotangent (pytree) per differentiable argument.
    """

    def __init__(self, fun, nondiff_argnums=()):
        super().__init__(fun, nondiff_argnums)
        self.fwd = self.bwd = None
        # A forward-mode rule beside the reverse one, ``rule(primals, tangents) -> (out, tangent_out)`` over
        # the arguments (nondiff ones included): what a PyTorch Function's ``jvp`` gives. Without it forward
        # mode differentiates ``fun``.
        self._jvp_rule = None

    def defvjp(self, fwd, bwd, symbolic_zeros=False, optimize_remat=False):
        """The rules: ``fwd(*args) -> (out, residuals)`` and ``bwd(residuals, ct) -> cotangents``. JAX's
        ``optimize_remat`` only changes when ``fwd`` runs there, so it is accepted and changes nothing here;
        ``symbolic_zeros=True`` (SymbolicZero cotangents) is not supported."""
        _no_symbolic_zeros("custom_vjp.defvjp", symbolic_zeros)
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args, **kwargs):
        if self.fwd is None:
            raise TypeError(f"custom_vjp function {self.__name__} has no rule: call {self.__name__}.defvjp(fwd, bwd)")
        args, nondiff, flat, tree = self._split(args, kwargs)
        top = find_top(flat)
        if top is None or self._runs_inline(top, (self.fwd, self.bwd, self._jvp_rule), flat):
            return self.fun(*args)
        holder = _Holder()

        def fun_flat(*leaves):
            return self.fun(*self._rebuild(nondiff, tree, leaves))

        def fwd_flat(*leaves):
            out, res = _pair(self.__name__, self.fwd(*self._rebuild(nondiff, tree, leaves)))
            out_flat, holder.tree = tree_util.flatten(out)
            return out_flat, res

        def bwd_flat(res, ct):
            cts = self.bwd(*nondiff, res, holder.tree.unflatten(list(ct)))
            if not isinstance(cts, (tuple, list)):
                raise TypeError(f"custom_vjp bwd of {self.__name__} must return a tuple of cotangents, one per "
                                f"differentiable argument, got {type(cts).__name__}")
            ct_flat = []  # None for a whole argument is its zero, whatever its structure (an argument None too)
            for c, arg_tree in zip(cts, tree.subtrees):
                ct_flat += [None] * arg_tree.num_leaves if c is None else tree_util.leaves(c, is_leaf=_is_none)
            if len(cts) != len(tree.subtrees) or len(ct_flat) != len(flat):
                raise TreeError(f"custom_vjp bwd of {self.__name__} returned cotangents of structure "
                                f"{tree_util.structure(tuple(cts), is_leaf=_is_none)}, the arguments have "
                                f"structure {tree}")
            for i, (c, x) in enumerate(zip(ct_flat, flat)):
                if c is not None and not callable(c) and getattr(c, "shape", ()) != getattr(x, "shape", ()):
                    raise ShapeError(f"custom_vjp bwd of {self.__name__} must return cotangents of the arguments' "
                                     f"shapes (as JAX requires): cotangent leaf {i} has shape "
                                     f"{getattr(c, 'shape', ())}, its argument {getattr(x, 'shape', ())}")
                _same_device(f"custom_vjp bwd of {self.__name__}", "cotangent leaf", i, c, x)
            return tuple(ct_flat)

        def rule_flat(primals, tangents):
            out, t_out = self._jvp_rule(self._rebuild(nondiff, tree, primals), self._rebuild(nondiff, tree, tangents))
            out_flat, holder.tree = tree_util.flatten(out)
            return out_flat, tree_util.leaves(t_out)

        call = CustomCall(self.__name__, _flat_outputs(fun_flat, holder), fwd_flat, bwd_flat,
                          None if self._jvp_rule is None else rule_flat)
        out = call_custom(call, flat)
        return holder.tree.unflatten(out)


def _is_none(x):
    return x is None


class custom_jvp(_CustomBase):
    """A function with a user-defined forward-mode rule (reverse mode transposes it).

    >>> import fnx, fnx.numpy as fnp
    >>> @fnx.custom_jvp
    ... def log1pexp(x):
    ...     return fnp.log(1.0 + fnp.exp(x))
    >>> @log1pexp.defjvp
    ... def log1pexp_jvp(primals, tangents):
    ...     (x,), (t,) = primals, tangents
    ...     return log1pexp(x), t * (1.0 - 1.0 / (1.0 + fnp.exp(x)))
    >>> fnx.grad(log1pexp)(100.0)
    Array(1., dtype=float32)

    ``rule(primals, tangents) -> (out, tangent_out)``, with ``primals`` and
    ``tangents`` tuples of the differentiable arguments (nondiff arguments come
    first, as in JAX).
    """

    def __init__(self, fun, nondiff_argnums=()):
        super().__init__(fun, nondiff_argnums)
        self.rule = None

    def defjvp(self, rule, symbolic_zeros=False):
        """``rule(primals, tangents) -> (out, tangent_out)``; JAX's ``symbolic_zeros=True`` (SymbolicZero
        tangents) is not supported."""
        _no_symbolic_zeros("custom_jvp.defjvp", symbolic_zeros)
        self.rule = rule
        return rule

    def defjvps(self, *tangent_fns):
        """One function per argument, ``fn(t, out, *primals) -> tangent contribution`` (or None)."""
        def rule(primals, tangents):
            out = self.fun(*primals)
            total = None
            for fn, t in zip(tangent_fns, tangents):
                if fn is None:
                    continue
                contrib = fn(t, out, *primals)
                total = contrib if total is None else tree_util.map(lambda a, b: a + b, total, contrib)
            return out, total
        self.rule = rule

    def __call__(self, *args, **kwargs):
        if self.rule is None:
            raise TypeError(f"custom_jvp function {self.__name__} has no rule: decorate one with "
                            f"@{self.__name__}.defjvp")
        args, nondiff, flat, tree = self._split(args, kwargs)
        top = find_top(flat)
        if top is None or self._runs_inline(top, (self.rule,), flat):
            return self.fun(*args)
        holder = _Holder()

        def fun_flat(*leaves):
            return self.fun(*self._rebuild(nondiff, tree, leaves))

        def rule_flat(primals, tangents):
            p = tuple(tree.unflatten(list(primals)))
            t = tuple(tree.unflatten(list(tangents)))
            out, t_out = _pair(self.__name__, self.rule(*nondiff, p, t) if nondiff else self.rule(p, t), "rule")
            out_flat, holder.tree = tree_util.flatten(out)
            t_flat, t_tree = tree_util.flatten(t_out)
            if t_tree != holder.tree:
                raise TreeError(f"custom_jvp rule of {self.__name__}: primal output {holder.tree} and tangent "
                                f"output {t_tree} differ")
            for i, (o, t) in enumerate(zip(out_flat, t_flat)):
                if t is not None and getattr(t, "shape", ()) != getattr(o, "shape", ()):
                    raise ShapeTypeError(f"custom_jvp rule of {self.__name__} must give each tangent output its "
                                         f"primal's shape (as JAX requires): output {i} has shape "
                                         f"{getattr(o, 'shape', ())}, its tangent {getattr(t, 'shape', ())}")
                o_dtype, t_dtype = getattr(o, "dtype", None), getattr(t, "dtype", None)
                if o_dtype is not None and t_dtype is not None and o_dtype.kind in "fc" and t_dtype != o_dtype:
                    raise TangentDTypeError(f"custom_jvp rule of {self.__name__} must give each tangent output its "
                                            f"primal's dtype (as JAX requires): output {i} is {o_dtype}, its "
                                            f"tangent {t_dtype}")
                _same_device(f"custom_jvp rule of {self.__name__}", "tangent output", i, t, o)
            return out_flat, t_flat

        call = CustomCall(self.__name__, _flat_outputs(fun_flat, holder), rule=rule_flat)
        out = call_custom(call, flat)
        return holder.tree.unflatten(out)


def _same_device(where, what, i, value, like):
    """A rule's cotangent or tangent must be on its primal's device: computation follows data, and a derivative
    on another device would reach the caller there, or meet its primal's device in a later operation."""
    dev, want = getattr(value, "device", None), getattr(like, "device", None)
    if isinstance(dev, Device) and isinstance(want, Device) and dev is not want:
        raise DeviceError(f"{where} gave {what} {i} on {dev}, its primal is on {want}; derivatives stay on their "
                          f"primal's device (fnx moves nothing silently): build it there, or use fnx.device_put")


def _pair(name, result, what="fwd"):
    """A custom rule's ``(output, residuals)`` or ``(output, tangent)`` pair, or a clear error."""
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        got = f"a {type(result).__name__}" + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "")
        raise TypeError(f"{what} of custom function {name} must return a pair "
                        f"({'output, residuals' if what == 'fwd' else 'primal output, tangent output'}), got {got}")
    return result


def checkpoint(fun, static_argnums=(), *, prevent_cse=True, policy=None):
    """``fun`` whose intermediates are not kept for reverse mode, but recomputed (``jax.checkpoint``).

    Reverse mode then stores only ``fun``'s inputs, and the backward pass runs
    ``fun`` again (under ``vjp``) when it reaches the call: memory for time.
    Also available as ``fnx.remat``.

    ``policy(prim, *avals, **params) -> bool``, as in JAX (see
    :data:`fnx.checkpoint_policies`), names the operations whose outputs may be
    kept after all: the backward pass reuses those (their own derivative rule
    reads the kept output) and recomputes only the rest. ``prevent_cse`` is
    accepted for JAX's signature; fnx never merges common subexpressions, so
    there is nothing to prevent.

    A ``fun`` that closes over traced values (``lambda h: block(params, h)``
    with ``params`` differentiated, or traced by ``jit``) runs as it is, with
    the same values and derivatives but without the recomputation, which could
    not reach them: pass such values as arguments to save the memory.

    >>> import fnx, fnx.numpy as fnp
    >>> f = fnx.checkpoint(lambda x: fnp.sin(fnp.sin(x)))
    >>> fnx.grad(f)(0.0)
    Array(1., dtype=float32)
    """
    from .autodiff import vjp
    from .. import random as _random
    static = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    if any(i < 0 for i in static):  # counted from the end of each call's arguments, as in JAX
        @functools.wraps(fun)
        def counted_from_the_end(*args, **kwargs):
            return checkpoint(fun, tuple(i % len(args) for i in static), prevent_cse=prevent_cse,
                              policy=policy)(*args, **kwargs)
        return counted_from_the_end

    def fwd_dyn(*args):
        dyn = tuple(a for i, a in enumerate(args) if i not in static)
        rng = _random._position()  # the recomputation draws what this run draws (dropout's masks)
        if policy is None:
            return fun(*args), (dyn, None, rng)
        out, kept = _run_remat(fun, args, static, policy, None)
        return out, (dyn, kept, rng)

    def bwd_dyn(*nondiff_res_ct):
        nondiff, ((dyn_args, kept, rng), ct) = nondiff_res_ct[:-2], nondiff_res_ct[-2:]

        def full(dyn):
            it, nd = iter(dyn), iter(nondiff)
            return [next(nd) if i in static else next(it) for i in range(len(dyn) + len(nondiff))]

        def dyn_fun(*dyn):
            if kept is None:
                return fun(*full(dyn))
            return _run_remat(fun, full(dyn), static, policy, kept)[0]
        with _random._replaying(rng):
            return vjp(dyn_fun, *dyn_args)[1](ct)

    wrapped = custom_vjp(fun, nondiff_argnums=static)
    wrapped.defvjp(fwd_dyn, bwd_dyn)
    wrapped._inline_closures = True  # jax.checkpoint(lambda h: block(params, h)), params traced
    return wrapped


# ----- checkpoint policies: which outputs the forward pass keeps -----------------------------------------
#
# With a policy, the checkpointed function runs under _RematTrace twice. Forward, each operation it
# applies is numbered among the operations of its primitive and, where the policy approves, its output
# kept. Backward (under vjp), the same operations come in the same order: a kept one is not run again but
# recorded through _reuse, a node whose derivative is the primitive's own VJP rule reading the kept output;
# the others run again. Numbering per primitive keeps the two passes aligned where an operation decomposes
# differently on traced operands (a 1-d matmul reshapes a traced vector first): the backward pass traces
# every argument, the forward one only the arrays among them. A kept output is used only for an operation
# of the same operand shapes, dtypes and parameters; any other runs again.


class _RematTracer(Tracer):
    __slots__ = ("primal", "origin")

    def __init__(self, main, primal, origin=None):
        self._main, self.primal, self.origin = main, primal, origin  # origin: the op that made it, and its signature


class _RematState:
    __slots__ = ("policy", "kept", "replay", "counts")

    def __init__(self, policy, kept):
        self.policy, self.replay, self.counts = policy, kept is not None, {}
        self.kept = {} if kept is None else kept


def _signature(vals, params):
    """What an operation's output depends on besides its operands' values: their shapes and dtypes, and the
    parameters. Two passes' operations with the same primitive, number and signature compute the same thing."""
    return tuple((getattr(v, "shape", None), getattr(v, "dtype", type(v))) for v in vals), params


def _same(a, b):
    try:
        return bool(a == b)
    except Exception:  # parameters that do not compare as one bool (arrays): not known to be the same
        return False


class _RematTrace(Trace):
    __slots__ = ()

    def process(self, prim, args, params):
        main, state = self.main, self.main.data
        vals = [a.primal if type(a) is _RematTracer and a._main is main else a for a in args]
        n = state.counts.get(prim.name, 0)
        state.counts[prim.name] = n + 1
        k, signature = (prim.name, n), _signature(vals, params)
        kept = state.kept.get(k) if state.replay else None
        if kept is not None and _same(kept[0], signature):
            out = _reuse(prim, params, vals, kept[1])
        else:
            out = prim.bind(*vals, **params)
            if not state.replay and state.policy(prim, *[_aval(v) for v in vals], **params):
                state.kept[k] = (signature, out)
                source = args[0]  # a relabelled value (checkpoint_name): keep what computed it, too
                if prim.relabels and type(source) is _RematTracer and source._main is main \
                        and source.origin is not None:
                    origin, origin_signature = source.origin
                    state.kept.setdefault(origin, (origin_signature, out))
        if prim.multiple_results:
            return tuple(_RematTracer(main, o) for o in out)
        return _RematTracer(main, out, (k, signature))


def _aval(v):
    return ShapedArray(v.shape, v.dtype) if isinstance(v, Array) else v


def _run_remat(fun, args, static, policy, kept):
    """``fun(*args)`` under a :class:`_RematTrace`: ``(out, kept outputs)``, keeping (``kept`` None) or reusing."""
    with new_main(_RematTrace, "checkpoint", _RematState(policy, kept)) as main:
        boxed = [a if i in static else tree_util.map(
            lambda x: _RematTracer(main, x) if isinstance(x, Array) else x, a) for i, a in enumerate(args)]
        out = fun(*boxed)
    out = tree_util.map(lambda x: x.primal if type(x) is _RematTracer and x._main is main else x, out)
    return out, main.data.kept


def _reuse(prim, params, vals, kept):
    """``prim(*vals)`` without running it: ``kept``, recorded for reverse mode with ``prim``'s VJP rule.

    Forward mode, and a backward pass that is itself differentiated (operands given as
    tracers), run the primitive again: only its value is known, not how it depends on them.
    """
    from .. import numpy as fnp
    at = [i for i, v in enumerate(vals) if isinstance(v, Array)]

    def with_arrays(arrays):
        full = list(vals)
        for i, a in zip(at, arrays):
            full[i] = a
        return full

    def run(*arrays):
        return prim.bind(*with_arrays(arrays), **params)

    def fwd(*arrays):
        if any(isinstance(a, Tracer) for a in arrays):
            return run(*arrays), arrays
        return kept, arrays

    def bwd(arrays, ct):
        full = with_arrays(arrays)
        if prim.multiple_results and not prim.symbolic_zeros:
            ct = tuple(fnp.zeros_like(o) if c is None else c for c, o in zip(ct, kept))
        cts = prim.vjp(ct, *full, out=kept, **params)
        return tuple(cts[i] for i in at)  # deferred ones stay deferred: the backward pass calls those it needs

    reused = custom_vjp(run)
    reused.defvjp(fwd, bwd)
    return reused(*[vals[i] for i in at])


def _name_batch(vals, bdims, *, name):
    return name_p.bind(vals[0], name=name), bdims[0]


#: ``checkpoint_name(x, name)``'s identity: the value, tagged for the policies that save by name.
name_p = defprim("name", impl=lambda xp, x, *, name: x, shape=lambda x, *, name: ShapedArray(x.shape, x.dtype),
                 jvp=lambda primals, tangents, *, name: (name_p.bind(primals[0], name=name), tangents[0]),
                 vjp=lambda ct, x, *, out, name: (ct,), batch=_name_batch, residuals=(), relabels=True)


def checkpoint_name(x, name):
    """``x`` itself, named for a checkpoint policy (``jax.ad_checkpoint.checkpoint_name``): under
    :func:`checkpoint` with ``save_only_these_names(name)``, this value is kept rather than recomputed.

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.checkpoint_name(fnp.array([1.0, 2.0]), "h")
    Array([1., 2.], dtype=float32)
    """
    from .. import numpy as fnp
    return tree_util.map(lambda a: name_p.bind(fnp.asarray(a), name=name), x)


class _DotsSaveable:
    """JAX's ``dots_saveable`` (``only_if_no_batch_dims=False``: every product and convolution) and
    ``dots_with_no_batch_dims_saveable`` (only products without batch dimensions)."""

    def __init__(self, only_if_no_batch_dims):
        self.only_if_no_batch_dims = only_if_no_batch_dims

    def __call__(self, prim, *avals, **params):
        if not self.only_if_no_batch_dims:
            return prim.name in ("matmul", "linear", "einsum", "conv")
        if prim.name == "linear":
            return True
        if prim.name == "matmul":
            return all(getattr(a, "ndim", 0) <= 2 for a in avals)
        if prim.name == "einsum":  # a batch index appears in both operands and in the output
            inputs, _, output = params["spec"].partition("->")
            operands = inputs.split(",")
            return len(operands) != 2 or not set(operands[0]) & set(operands[1]) & set(output)
        return False


class checkpoint_policies:
    """JAX's checkpoint policies (``jax.checkpoint_policies``), for :func:`checkpoint`'s ``policy``.

    Each is ``policy(prim, *avals, **params) -> bool``: whether the output of one
    application of ``prim`` (to operands of those shapes and dtypes) is kept for the
    backward pass. The products are fnx's ``matmul``, ``linear`` and ``einsum`` (JAX's
    ``dot_general``) and ``conv``. fnx has one memory, so the ``offload`` variants keep
    what they would offload.
    """

    @staticmethod
    def everything_saveable(*_, **__):
        return True

    @staticmethod
    def nothing_saveable(*_, **__):
        return False

    dots_saveable = checkpoint_dots = _DotsSaveable(False)
    dots_with_no_batch_dims_saveable = checkpoint_dots_with_no_batch_dims = _DotsSaveable(True)

    @staticmethod
    def save_only_these_names(*names):
        names = frozenset(names)
        return lambda prim, *_, **params: prim is name_p and params["name"] in names

    @staticmethod
    def save_any_names_but_these(*names):
        names = frozenset(names)
        return lambda prim, *_, **params: prim is name_p and params["name"] not in names

    @staticmethod
    def save_anything_except_these_names(*names):
        names = frozenset(names)
        return lambda prim, *_, **params: not (prim is name_p and params["name"] in names)

    @staticmethod
    def save_from_both_policies(policy_1, policy_2):
        def policy(prim, *avals, **params):
            out1, out2 = policy_1(prim, *avals, **params), policy_2(prim, *avals, **params)
            if not (isinstance(out1, bool) and isinstance(out2, bool)):
                raise ValueError(f"The return value of the policies should be a boolean. Got: {out1} and {out2}. "
                                 f"Please write a custom policy function directly, rather than using this "
                                 f"helper function.")
            return out1 or out2
        return policy

    @staticmethod
    def save_and_offload_only_these_names(*, names_which_can_be_saved, names_which_can_be_offloaded,
                                          offload_src=None, offload_dst=None):
        both = set(names_which_can_be_saved) & set(names_which_can_be_offloaded)
        if both:
            raise ValueError(f"The names should be exclusive and should not intersect in `names_which_can_be_saved` "
                             f"and `names_which_can_be_offloaded`. Got {sorted(both)} in both")
        return checkpoint_policies.save_only_these_names(*names_which_can_be_saved, *names_which_can_be_offloaded)

    @staticmethod
    def offload_dot_with_no_batch_dims(offload_src=None, offload_dst=None):
        return checkpoint_policies.dots_with_no_batch_dims_saveable
