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

Arguments are pytrees; ``nondiff_argnums`` marks static arguments (functions,
flags) that are passed through untouched and handed to the rule first.
"""
import functools
import inspect

from ..core import tree as tree_util
from ..core.trace import find_top
from ..errors import TreeError


class _CustomBase:
    def __init__(self, fun, nondiff_argnums=()):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self._signature = inspect.signature(fun)

    def _split(self, args, kwargs):
        """Positional arguments from ``args``/``kwargs``; the differentiable ones flattened."""
        if kwargs:
            bound = self._signature.bind(*args, **kwargs)
            args = bound.args
        nondiff = [args[i] for i in self.nondiff_argnums]
        dyn = tuple(a for i, a in enumerate(args) if i not in self.nondiff_argnums)
        flat, tree = tree_util.flatten(dyn)
        return args, nondiff, flat, tree

    def _rebuild(self, nondiff, tree, flat):
        dyn = iter(tree.unflatten(list(flat)))
        nd = iter(nondiff)
        n = len(self.nondiff_argnums) + len(tree.children)
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

    def defvjp(self, fwd, bwd):
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args, **kwargs):
        if self.fwd is None:
            raise TypeError(f"custom_vjp function {self.__name__} has no rule: call {self.__name__}.defvjp(fwd, bwd)")
        args, nondiff, flat, tree = self._split(args, kwargs)
        top = find_top(flat)
        if top is None:
            return self.fun(*args)

        def fun_flat(*leaves):
            return self.fun(*self._rebuild(nondiff, tree, leaves))

        def fwd_flat(*leaves):
            return self.fwd(*self._rebuild(nondiff, tree, leaves))

        def bwd_flat(res, ct):
            cts = self.bwd(*nondiff, res, ct)
            if not isinstance(cts, (tuple, list)):
                raise TypeError(f"custom_vjp bwd of {self.__name__} must return a tuple of cotangents, one per "
                                f"differentiable argument, got {type(cts).__name__}")
            ct_flat, ct_tree = tree_util.flatten(tuple(cts), is_leaf=lambda x: x is None)
            if len(ct_flat) != len(flat):
                raise TreeError(f"custom_vjp bwd of {self.__name__} returned cotangents of structure {ct_tree}, "
                                f"the arguments have structure {tree}")
            return tuple(ct_flat)

        return top.trace.process_custom_vjp(fun_flat, fwd_flat, bwd_flat, flat)


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

    def defjvp(self, rule):
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
        if top is None:
            return self.fun(*args)

        def fun_flat(*leaves):
            return self.fun(*self._rebuild(nondiff, tree, leaves))

        def rule_flat(primals, tangents):
            p = tuple(tree.unflatten(list(primals)))
            t = tuple(tree.unflatten(list(tangents)))
            return self.rule(*nondiff, p, t) if nondiff else self.rule(p, t)

        return top.trace.process_custom_jvp(fun_flat, rule_flat, flat)


def checkpoint(fun, static_argnums=()):
    """``fun`` whose intermediates are not kept for reverse mode, but recomputed.

    Reverse mode then stores only ``fun``'s inputs, and the backward pass runs
    ``fun`` again (under ``vjp``) when it reaches the call: memory for time.
    Also available as ``fnx.remat``.

    >>> import fnx, fnx.numpy as fnp
    >>> f = fnx.checkpoint(lambda x: fnp.sin(fnp.sin(x)))
    >>> fnx.grad(f)(0.0)
    Array(1., dtype=float32)
    """
    from .autodiff import vjp
    static = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)

    def fwd_dyn(*args):
        return fun(*args), tuple(a for i, a in enumerate(args) if i not in static)

    def bwd_dyn(*nondiff_res_ct):
        nondiff, (dyn_args, ct) = nondiff_res_ct[:-2], nondiff_res_ct[-2:]

        def dyn_fun(*dyn):
            it, nd = iter(dyn), iter(nondiff)
            return fun(*[next(nd) if i in static else next(it) for i in range(len(dyn) + len(nondiff))])
        return vjp(dyn_fun, *dyn_args)[1](ct)

    wrapped = custom_vjp(fun, nondiff_argnums=static)
    wrapped.defvjp(fwd_dyn, bwd_dyn)
    return wrapped
