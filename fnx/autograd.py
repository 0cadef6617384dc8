"""``torch.autograd`` over fnx's tape: gradients of recorded values, without ``.grad`` side effects.

Object-style code records operations on Parameters on the *tape* (see
``fnx.transforms.autodiff``), and ``loss.backward()`` runs one backward pass
into the Parameters' ``.grad``. This module gives the rest of PyTorch's
reverse-mode vocabulary over the same pass:

- :func:`grad` returns the gradients of some outputs with respect to chosen
  inputs, which may be Parameters or intermediate values, and touches no
  ``.grad``. With ``create_graph=True`` the gradients are themselves recorded
  on the tape, so they can be differentiated again.
- :func:`backward` is ``loss.backward()`` for several outputs at once.
- :class:`Function` is a user-defined operation with its own backward, on top of
  :func:`fnx.custom_vjp`.
- :mod:`fnx.autograd.functional` has the Jacobian, Hessian and product helpers.
"""
import sys
import types
from collections import namedtuple
import warnings

import numpy as np

from . import numpy as fnp
from .core import tree as tree_util
from .core.array import Array
from .core.trace import Tracer
from .errors import GraphError, ShapeError, TreeError
from .tensor import inference_mode, is_inference_mode_enabled, set_grad_enabled
from .core.dtypes import is_differentiable
from .core.trace import new_main
from .errors import DTypeError
from .transforms.autodiff import (TAPE, JVPTrace, JVPTracer, ReverseTracer, _seed, _tangent_like, decorate_with,
                                  enable_grad, is_grad_enabled, no_grad, refuse_empty_inputs, tape_backward, tape_grad,
                                  torch_convention)
from .transforms.custom import custom_vjp
from .transforms import autodiff as _autodiff

__all__ = ["grad", "backward", "Function", "FunctionCtx", "functional", "gradcheck", "gradgradcheck", "no_grad",
           "enable_grad", "set_grad_enabled", "inference_mode", "is_inference_mode_enabled", "is_grad_enabled",
           "set_detect_anomaly", "detect_anomaly", "is_anomaly_enabled", "forward_ad", "function",
           "once_differentiable"]


def _on_tape(x):
    """Whether ``x`` is recorded on the tape (a Parameter with requires_grad, or a value computed from one)."""
    return isinstance(x, ReverseTracer) and x._main is TAPE and x.node is not None


def _as_seq(fname, what, xs):
    if isinstance(xs, Array):
        return (xs,)
    if isinstance(xs, (tuple, list)):
        return tuple(xs)
    raise TypeError(f"{fname}: {what} must be an array or a sequence of arrays, got {type(xs).__name__}")


def _seeds(fname, outputs, grad_outputs):
    """``(node, index, cotangent)`` for each output, checking PyTorch's rules for the seeds."""
    grad_outputs = (None,) * len(outputs) if grad_outputs is None else _as_seq(fname, "grad_tensors", grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise TreeError(f"{fname}: got {len(grad_outputs)} gradients for {len(outputs)} outputs")
    seeds = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not _on_tape(out):
            raise GraphError(f"{fname}: output {i} does not depend on any Parameter with requires_grad=True "
                             f"(was it computed under fnx.no_grad()?), so it has no gradient")
        seeds.append((out.node, out.index, _seed(fname, f"output {i}", out, g)))
    return seeds


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs`` (``torch.autograd.grad``), as a tuple.

    Nothing accumulates into ``.grad``: the gradients are returned.

    Args:
      outputs: an array or a sequence of arrays recorded on the tape.
      inputs: an array or a sequence: Parameters (leaves) or intermediate values
        the outputs were computed from.
      grad_outputs: the vector of the vector-Jacobian product, one per output
        (None for an output of one element, of any shape, means ones).
      retain_graph: keep the recorded graph for another pass; by default ``create_graph``.
      create_graph: record the gradients on the tape, so that they can be differentiated again.
      allow_unused: an input the outputs do not depend on gets None instead of an error.
      materialize_grads: such an input gets zeros instead of None (implies ``allow_unused``).
      is_grads_batched: the first axis of each of ``grad_outputs`` is a batch of vectors, and each
        gradient gets that axis too (one pass per vector; PyTorch vectorises them).
      only_inputs: accepted for PyTorch's signature, which ignores it (deprecated there).

    Returns:
      a tuple with one gradient per input, of that input's shape.

    Raises:
      GraphError: an output or input is not recorded on the tape, an input is unused
        (without ``allow_unused``), or the graph was freed by an earlier pass.
      ShapeError: an output of more than one element without ``grad_outputs``, or shapes that differ.

    >>> import fnx
    >>> x = fnx.tensor([1.0, 2.0], requires_grad=True)
    >>> h = x * x
    >>> fnx.autograd.grad(h.sum() * 3.0, (x, h))
    (Array([ 6., 12.], dtype=float32), Array([3., 3.], dtype=float32))
    >>> x.grad is None
    True
    >>> g, = fnx.autograd.grad((x ** 3).sum(), x, create_graph=True)
    >>> fnx.autograd.grad(g.sum(), x)
    (Array([ 6., 12.], dtype=float32),)
    """
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("autograd.grad: materialize_grads=True needs allow_unused to be True or left out")
    if not only_inputs:
        warnings.warn("autograd.grad: only_inputs is deprecated and ignored, as in PyTorch (gradients are only "
                      "returned, never accumulated)", UserWarning, stacklevel=2)
    outputs, inputs = _as_seq("autograd.grad", "outputs", outputs), _as_seq("autograd.grad", "inputs", inputs)
    if not is_grads_batched:
        return tape_grad(outputs, inputs, grad_outputs, retain_graph, create_graph, allow_unused, materialize_grads)
    if grad_outputs is None:
        raise ValueError("autograd.grad: is_grads_batched=True needs grad_outputs, with the batch as their first axis")
    batch = [fnp.asarray(g) for g in _as_seq("autograd.grad", "grad_outputs", grad_outputs)]
    sizes = {g.shape[0] if g.ndim else None for g in batch}
    if len(sizes) != 1 or None in sizes:
        raise ShapeError(f"autograd.grad: with is_grads_batched every grad_outputs needs the same first axis (the "
                         f"batch), got shapes {[g.shape for g in batch]}")
    n = sizes.pop()
    keep = create_graph if retain_graph is None else retain_graph
    rows = [tape_grad(outputs, inputs, [g[i] for g in batch], keep or i < n - 1, create_graph, allow_unused,
                      materialize_grads) for i in range(n)]
    return tuple(None if parts[0] is None else fnp.stack(parts) for parts in zip(*rows))


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Adds the gradients of ``tensors`` into the ``.grad`` of the Parameters they depend on
    (``torch.autograd.backward``): ``loss.backward()`` for several outputs at once, in one pass.

    Args:
      tensors: an array or a sequence of arrays recorded on the tape.
      grad_tensors: one vector per output (None for an output of one element, of any shape, means ones).
      retain_graph: keep the recorded graph for another pass; by default ``create_graph``.
      create_graph: record the gradients on the tape, so that they can be differentiated again.
      inputs: only these Parameters accumulate a gradient (by default every one reached).

    >>> import fnx
    >>> w = fnx.tensor([1.0, 2.0], requires_grad=True)
    >>> fnx.autograd.backward([(w * w).sum(), w * 3.0], [None, fnx.ones(2)])
    >>> w.grad
    Array([5., 7.], dtype=float32)
    """
    tensors = _as_seq("autograd.backward", "tensors", tensors)
    seeds = _seeds("autograd.backward", tensors, grad_tensors)
    only = None
    if inputs is not None:
        inputs = _as_seq("autograd.backward", "inputs", inputs)
        refuse_empty_inputs("autograd.backward", inputs)
        for i, x in enumerate(inputs):
            if not (_on_tape(x) and x.node.prim is None):
                raise GraphError(f"autograd.backward: inputs[{i}] is not a Parameter with requires_grad=True; only "
                                 f"leaves have a .grad to accumulate into (use autograd.grad for intermediate values)")
        only = {x.node for x in inputs}
    tape_backward(seeds, retain_graph, create_graph, only)


# ----- Function: a user-defined operation with its own backward ---------------------------------------

class FunctionCtx:
    """What ``forward`` leaves for ``backward`` (``ctx``): ``save_for_backward(*arrays)`` and
    ``saved_tensors``, ``needs_input_grad`` (one bool per argument of ``apply``), and any attribute."""

    def __init__(self, needs_input_grad):
        self.needs_input_grad = needs_input_grad
        self._saved = ()
        self._non_differentiable = ()
        self.materialize_grads = True

    def save_for_backward(self, *tensors):
        self._saved = tensors

    def save_for_forward(self, *tensors):
        """What ``jvp`` reads back as ``ctx.saved_tensors`` (the forward-mode twin of ``save_for_backward``)."""
        self._saved = tensors

    def mark_non_differentiable(self, *tensors):
        """Outputs (returned by ``forward`` as these very objects) that get no gradient: indices, masks."""
        self._non_differentiable += tensors

    def set_materialize_grads(self, value):
        """PyTorch's switch for passing None instead of zeros to ``backward`` for outputs nobody differentiated.
        fnx always passes zeros, which a ``backward`` written for None computes the same gradients from."""
        self.materialize_grads = bool(value)

    @property
    def saved_tensors(self):
        return self._saved


def _needs_grad(x):
    """Whether some transform (or the tape, while recording) differentiates ``x``: PyTorch's requires_grad."""
    if not isinstance(x, Tracer) or x.dtype.kind not in "fc":
        return False
    if x._main is TAPE:
        return x.node is not None and is_grad_enabled()
    return True


class Function:
    """An operation with a hand-written backward (``torch.autograd.Function``).

    Subclass it with two static methods and call ``.apply``:

    - ``forward(ctx, *args)``: computes the output (an array or a tuple of arrays)
      with fnx operations, keeping what backward needs with
      ``ctx.save_for_backward(...)`` or as attributes of ``ctx``. (Or PyTorch's
      other form: ``forward(*args)`` plus ``setup_context(ctx, inputs, output)``.)
    - ``backward(ctx, *grad_outputs)``: one gradient per output in, one per argument
      of ``apply`` out (None for a non-array argument or one needing no gradient;
      ``ctx.needs_input_grad`` says which ones do).

    It works under ``loss.backward()``, :func:`grad` (``create_graph`` included)
    and every fnx transform: reverse mode uses ``backward``; forward mode uses a
    ``jvp(ctx, *tangents)`` static method where one is defined (with
    ``ctx.save_for_forward``), and differentiates ``forward`` otherwise. Non-array
    arguments are passed through untouched (their tangent is None).

    >>> import fnx
    >>> class Exp(fnx.autograd.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         y = x.exp()
    ...         ctx.save_for_backward(y)
    ...         return y
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         y, = ctx.saved_tensors
    ...         return g * y
    >>> x = fnx.tensor([0.0, 2.0], requires_grad=True)
    >>> Exp.apply(x).sum().backward()
    >>> x.grad.round(3)
    Array([1.   , 7.389], dtype=float32)
    """

    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError("a Function subclass must define forward")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("a Function subclass must define backward")

    @classmethod
    def _run_forward(cls, ctx, args):
        if "setup_context" in _defined(cls):
            out = cls.forward(*args)
            cls.setup_context(ctx, tuple(args), out)
            return out
        return cls.forward(ctx, *args)

    @classmethod
    def _grads(cls, ctx, ct, args):
        grads = cls.backward(ctx, *[torch_convention(c) for c in (ct if isinstance(ct, tuple) else (ct,))])
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) < len(args) or any(g is not None for g in grads[len(args):]):
            raise TypeError(f"{cls.__name__}.backward returned {len(grads)} gradients, expected {len(args)} (one "
                            f"per argument of apply)")
        out = []
        for i, (a, g) in enumerate(zip(args, grads)):
            if not isinstance(a, Array):
                if g is not None:
                    raise TypeError(f"{cls.__name__}.backward returned a gradient for argument {i}, which is not "
                                    f"an array ({type(a).__name__}); return None for it")
                continue
            if g is not None:
                g = fnp.asarray(g)
                if g.shape != a.shape:
                    raise ShapeError(f"{cls.__name__}.backward returned a gradient of shape {g.shape} for argument "
                                     f"{i} of shape {a.shape}")
                if g.dtype != a.dtype and g.dtype.kind in "fc" and a.dtype.kind in "fc":
                    g = g.astype(a.dtype)  # as PyTorch casts a gradient to its input's dtype
            out.append(torch_convention(g))
        return tuple(out)

    @classmethod
    def _bound(cls, args, kwargs):
        """``apply``'s arguments as ``forward`` takes them, keywords and defaults placed (as PyTorch binds them)."""
        import inspect
        signature = inspect.signature(cls.forward)
        if "setup_context" not in _defined(cls):  # forward(ctx, ...)
            signature = signature.replace(parameters=list(signature.parameters.values())[1:])
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        return bound.args

    @classmethod
    def apply(cls, *args, **kwargs):
        """Runs the operation on ``args`` (arrays and other values; keywords are bound to ``forward``'s
        parameters). Outside every transform and with nothing recording, ``forward`` just runs."""
        if kwargs:
            args = cls._bound(args, kwargs)
        needs = tuple(_needs_grad(a) for a in args)
        if not any(needs):  # under no_grad, or no argument needing a gradient: PyTorch records nothing either
            return cls._run_forward(FunctionCtx(needs), args)
        nondiff = tuple(i for i, a in enumerate(args) if not isinstance(a, Array))
        marked = []  # positions of the outputs forward marked non-differentiable

        def run(*a):
            return cls._run_forward(FunctionCtx(needs), a)

        def fwd(*a):
            ctx = FunctionCtx(needs)
            out = cls._run_forward(ctx, a)
            if ctx._non_differentiable:
                outs = out if isinstance(out, tuple) else (out,)
                marked[:] = [i for i, o in enumerate(outs) if any(o is m for m in ctx._non_differentiable)]
            return out, ctx

        def bwd(*rest):
            ctx, ct = rest[-2], rest[-1]
            return cls._grads(ctx, ct, args)

        op = custom_vjp(run, nondiff_argnums=nondiff)
        op.defvjp(fwd, bwd)
        if "jvp" in _defined(cls):
            def rule(primals, tangents):
                ctx = FunctionCtx(needs)
                out = cls._run_forward(ctx, primals)
                given = [fnp.zeros_like(p) if t is None else t if isinstance(p, Array) else None
                         for p, t in zip(primals, tangents)]
                t_out = cls.jvp(ctx, *given)
                return out, (tuple(t_out) if isinstance(out, tuple) else t_out)
            op._jvp_rule = rule
        out = op(*args)
        if not marked:
            return out
        if isinstance(out, tuple):
            return tuple(o.detach() if i in marked else o for i, o in enumerate(out))
        return out.detach()


def _defined(cls):
    names = set()
    for c in cls.__mro__:
        if c is Function:
            break
        names.update(vars(c))
    return names


def once_differentiable(backward):
    """Marks a ``Function``'s ``backward`` as not differentiable again (``torch.autograd.function``'s decorator):
    it runs with gradients off, so a second derivative through it sees constants."""
    import functools

    @functools.wraps(backward)
    def wrapper(ctx, *grad_outputs):
        with no_grad():
            return backward(ctx, *grad_outputs)
    return wrapper


function = types.ModuleType("fnx.autograd.function", "``torch.autograd.function``: Function and its helpers.")
function.Function, function.FunctionCtx, function.once_differentiable = Function, FunctionCtx, once_differentiable
function.__all__ = ["Function", "FunctionCtx", "once_differentiable"]
sys.modules[function.__name__] = function


# ----- gradcheck: derivatives against finite differences ------------------------------------------------

def _check(fname, func, inputs, eps, atol, rtol, raise_exception, order, modes=("rev",), grad_outputs=None,
           masked=None, extra=(False, False, False)):
    from .testing import check_grads
    from .errors import GradcheckError, GradientCheckError
    if masked:
        raise NotImplementedError(f"{fname}: masked=True checks sparse inputs, which fnx does not have")
    xs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    if not modes:
        raise ValueError(f"{fname}: check_forward_ad and check_backward_ad are both False: nothing to check")
    if grad_outputs is not None:  # the derivatives of the vector-Jacobian product with these cotangents
        seeds = tuple(grad_outputs) if isinstance(grad_outputs, (tuple, list)) else (grad_outputs,)
        seeds = [fnp.asarray(s).detach() for s in seeds]
        inner = func

        def func(*args):
            out = inner(*args)
            outs = out if isinstance(out, (tuple, list)) else (out,)
            return sum(fnp.sum(o * s) for o, s in zip(outs, seeds))
    which = [i for i, x in enumerate(xs) if _on_tape(x)]  # leaves, and computed values that require grad
    if not which:
        raise ValueError(f"{fname}: no input requires grad; make the ones to check with requires_grad=True")
    for i in which:
        if xs[i].dtype not in (np.float64, np.complex128):  # PyTorch's warning, word for word
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point or complex. "
                          f"This check will likely fail if all the inputs are not of double precision floating "
                          f"point or complex. ", UserWarning, stacklevel=3)
    consts = [x.detach() if isinstance(x, Array) else x for x in xs]

    def f(*dyn):
        full = list(consts)
        for i, d in zip(which, dyn):
            full[i] = d
        return func(*full)
    dyn = tuple(consts[i] for i in which)
    try:
        check_grads(f, dyn, order=order, modes=modes, eps=eps, atol=atol, rtol=rtol)
        _batched_and_dtype_checks(fname, f, dyn, atol, rtol, *extra)
    except GradientCheckError as mismatch:
        if raise_exception:
            raise GradcheckError(str(mismatch)) from None
        return False
    return True


def _batched_and_dtype_checks(fname, f, dyn, atol, rtol, grad_dtypes, batched_grad, batched_forward_grad):
    """gradcheck's optional checks: each gradient's dtype is its input's; vmap over two random cotangents
    (tangents) gives what pulling (pushing) them one at a time gives."""
    from .errors import GradientCheckError
    from .transforms.autodiff import jvp as _fjvp, vjp as _fvjp
    from .transforms.vmap import vmap
    rng = np.random.default_rng(0)

    def draws(like):
        return [fnp.asarray(rng.standard_normal((2,) + x.shape).astype(x.dtype)) for x in like]
    out, pull = _fvjp(f, *dyn)
    outs, out_tree = tree_util.flatten(out)
    if grad_dtypes:
        for i, (g, x) in enumerate(zip(pull(out_tree.unflatten([fnp.ones_like(o) for o in outs])), dyn)):
            if g.dtype != x.dtype:
                raise GradientCheckError(f"{fname}: gradient {i} has dtype {g.dtype}, its input {x.dtype}")
    checks = []
    if batched_grad:
        cts = draws(outs)
        checks.append(("batched gradient", vmap(lambda *c: pull(out_tree.unflatten(list(c))))(*cts),
                       [pull(out_tree.unflatten([c[k] for c in cts])) for k in range(2)]))
    if batched_forward_grad:
        tangents = draws(dyn)
        checks.append(("batched forward gradient", vmap(lambda *t: _fjvp(f, dyn, t)[1])(*tangents),
                       [_fjvp(f, dyn, tuple(t[k] for t in tangents))[1] for k in range(2)]))
    for what, batched, looped in checks:
        for k in range(2):
            for got, want in zip(tree_util.leaves(batched), tree_util.leaves(looped[k])):
                if not np.allclose(np.asarray(got)[k], np.asarray(want), atol=atol, rtol=rtol):
                    raise GradientCheckError(f"{fname}: the {what} of example {k} under vmap differs from the one "
                                             f"computed alone")


def _modes(check_forward_ad, check_backward_ad):
    return (("fwd",) if check_forward_ad else ()) + (("rev",) if check_backward_ad else ())


def gradcheck(func, inputs, *, eps=1e-06, atol=1e-05, rtol=0.001, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              check_batched_forward_grad=False, check_forward_ad=False, check_backward_ad=True, fast_mode=False,
              masked=None):
    """Whether ``func``'s reverse-mode gradients match central differences (``torch.autograd.gradcheck``),
    with respect to the inputs (a tuple or list) that require grad; use float64 inputs. A mismatch raises
    ``GradcheckError`` (an ``AssertionError``, and a ``RuntimeError`` as PyTorch's is), naming the worst
    element, or returns False when ``raise_exception`` is False. ``check_forward_ad`` adds forward mode;
    ``check_grad_dtypes`` checks that each gradient has its input's dtype; ``check_batched_grad`` and
    ``check_batched_forward_grad`` that ``vmap`` over the cotangents (tangents) gives what a loop gives.
    ``fast_mode`` is accepted and the full Jacobian is checked either way; ``nondet_tol`` and
    ``check_undefined_grad`` are accepted as what they check always holds here (fnx's backward passes are
    deterministic, and an output nobody differentiates gets zeros); ``masked`` (sparse inputs) must be falsy.

    >>> import fnx
    >>> x = fnx.randn(3, dtype=fnx.float64, requires_grad=True)
    >>> fnx.autograd.gradcheck(lambda v: (v.sin() * v).sum(), (x,))
    True
    """
    return _check("gradcheck", func, inputs, eps, atol, rtol, raise_exception, 1,
                  _modes(check_forward_ad, check_backward_ad), masked=masked,
                  extra=(check_grad_dtypes, check_batched_grad, check_batched_forward_grad))


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-06, atol=1e-05, rtol=0.001,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0, check_undefined_grad=True,
                  check_grad_dtypes=False, check_batched_grad=False, check_fwd_over_rev=False,
                  check_rev_over_rev=True, fast_mode=False, masked=False):
    """:func:`gradcheck` of first and second derivatives (``torch.autograd.gradgradcheck``); with
    ``grad_outputs``, of ``func``'s outputs contracted with them (the vector-Jacobian product's derivatives).
    The keywords are :func:`gradcheck`'s (``gen_non_contig_grad_outputs`` is accepted: fnx arrays have no
    memory layout to vary)."""
    return _check("gradgradcheck", func, inputs, eps, atol, rtol, raise_exception, 2,
                  _modes(check_fwd_over_rev, check_rev_over_rev), grad_outputs, masked=masked,
                  extra=(check_grad_dtypes, check_batched_grad, False))


# ----- torch.autograd.functional -------------------------------------------------------------------

def _fn_inputs(fname, inputs):
    is_tuple = isinstance(inputs, tuple)
    xs = inputs if is_tuple else (inputs,)
    for i, x in enumerate(xs):
        if not isinstance(x, Array):
            raise TypeError(f"{fname}: inputs must be an array or a tuple of arrays, input {i} is "
                            f"{type(x).__name__}")
    return is_tuple, xs


def _call(func, is_tuple):
    return (lambda *xs: func(*xs)) if is_tuple else (lambda x: func(x))


def _check_outputs(fname, out):
    outs = out if isinstance(out, tuple) else (out,)
    for i, o in enumerate(outs):
        if not isinstance(o, Array):
            raise TypeError(f"{fname}: the function must return an array or a tuple of arrays, output {i} is "
                            f"{type(o).__name__}")
    return outs


def _finish(tree, create_graph):
    """PyTorch returns results cut from the graph unless ``create_graph``: here, off the tape."""
    return tree if create_graph else tree_util.map(lambda x: x.detach() if isinstance(x, Array) else x, tree)


def _no_strict(fname, strict):
    if strict:
        raise ValueError(f"{fname}: strict=True (an error for outputs independent of an input) is not supported; "
                         f"fnx returns zeros for them, as with strict=False")


def _jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs`` (``torch.autograd.functional.jacobian``).

    ``inputs`` is an array or a tuple of arrays; ``func`` returns an array or a
    tuple. Entry ``[i][j]`` has shape ``outputs[i].shape + inputs[j].shape``, and
    the tuple levels are dropped where ``func``'s output or ``inputs`` is a single
    array. ``strategy`` is ``"reverse-mode"`` (``fnx.jacrev``) or ``"forward-mode"``
    (``fnx.jacfwd``); both are always vectorized, so ``vectorize`` changes nothing.

    >>> import fnx
    >>> fnx.autograd.functional.jacobian(lambda x: x ** 2, fnx.tensor([1.0, 2.0]))
    Array([[2., 0.],
           [0., 4.]], dtype=float32)
    """
    from .transforms.autodiff import jacfwd, jacrev
    _no_strict("jacobian", strict)
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"jacobian: strategy must be 'reverse-mode' or 'forward-mode', got {strategy!r}")
    is_tuple, xs = _fn_inputs("jacobian", inputs)
    f = _call(func, is_tuple)
    _check_outputs("jacobian", f(*xs))
    jac = (jacrev if strategy == "reverse-mode" else jacfwd)(f, argnums=tuple(range(len(xs))))(*xs)
    if not is_tuple:
        jac = tuple(j[0] for j in jac) if isinstance(jac, tuple) and isinstance(jac[0], tuple) else jac[0]
    return _finish(jac, create_graph)


def _scalar_fn(fname, func, is_tuple):
    f = _call(func, is_tuple)

    def g(*xs):
        out = f(*xs)
        if not isinstance(out, Array) or out.size != 1:
            shape = getattr(out, "shape", type(out).__name__)
            raise ShapeError(f"{fname}: the function must return an array with a single element, got {shape}")
        return fnp.reshape(out, ())
    return g


def _hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar ``func`` at ``inputs`` (``torch.autograd.functional.hessian``).

    For one input array, an array of shape ``x.shape + x.shape``; for a tuple of
    inputs, a tuple of tuples with entry ``[i][j]`` of shape
    ``inputs[i].shape + inputs[j].shape``. ``func`` must return one element.

    >>> import fnx
    >>> fnx.autograd.functional.hessian(lambda x: (x ** 3).sum(), fnx.tensor([1.0, 2.0]))
    Array([[ 6.,  0.],
           [ 0., 12.]], dtype=float32)
    """
    from .transforms.autodiff import jacfwd, jacrev
    _no_strict("hessian", strict)
    if outer_jacobian_strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"hessian: outer_jacobian_strategy must be 'reverse-mode' or 'forward-mode', got "
                         f"{outer_jacobian_strategy!r}")
    is_tuple, xs = _fn_inputs("hessian", inputs)
    nums = tuple(range(len(xs)))
    outer = jacrev if outer_jacobian_strategy == "reverse-mode" else jacfwd
    h = outer(jacrev(_scalar_fn("hessian", func, is_tuple), argnums=nums), argnums=nums)(*xs)
    return _finish(h if is_tuple else h[0][0], create_graph)


def _vectors(fname, v, like, what):
    vs = v if isinstance(v, tuple) else (v,)
    if len(vs) != len(like):
        raise TreeError(f"{fname}: v has {len(vs)} entries, the {what} {len(like)}")
    out = []
    for i, (a, b) in enumerate(zip(vs, like)):
        a = fnp.asarray(a)
        if a.shape != b.shape:
            raise ShapeError(f"{fname}: v[{i}] has shape {a.shape}, {what} {i} has shape {b.shape}")
        out.append(a)
    return tuple(out)


def _ones_if_single(fname, v, like, what):
    if v is not None:
        return v
    if len(like) != 1 or like[0].size != 1:
        raise ShapeError(f"{fname}: v can be left out only when the {what} is a single element; pass v")
    return fnp.ones_like(like[0].detach())


def _vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), vᵀ·J)`` (``torch.autograd.functional.vjp``); ``v`` has the outputs' structure and
    may be left out for a single-element output. The product has the structure of ``inputs``.

    >>> import fnx
    >>> out, g = fnx.autograd.functional.vjp(lambda x: x ** 2, fnx.tensor([1.0, 2.0]), fnx.tensor([1.0, 1.0]))
    >>> g
    Array([2., 4.], dtype=float32)
    """
    from .transforms.autodiff import vjp as _fvjp
    _no_strict("vjp", strict)
    is_tuple, xs = _fn_inputs("vjp", inputs)
    out, pull = _fvjp(_call(func, is_tuple), *xs)
    outs = _check_outputs("vjp", out)
    v = tuple(map(torch_convention, _vectors("vjp", _ones_if_single("vjp", v, outs, "output"), outs, "output")))
    g = tuple(map(torch_convention, pull(v if isinstance(out, tuple) else v[0])))  # (PyTorch's complex convention)
    return _finish((out, g if is_tuple else g[0]), create_graph)


def _jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J·v)`` (``torch.autograd.functional.jvp``); ``v`` has the structure of ``inputs``
    and may be left out for a single-element input. The product has the outputs' structure.

    >>> import fnx
    >>> fnx.autograd.functional.jvp(lambda x: x ** 2, fnx.tensor([1.0, 2.0]), fnx.tensor([1.0, 0.0]))[1]
    Array([2., 0.], dtype=float32)
    """
    from .transforms.autodiff import jvp as _fjvp
    _no_strict("jvp", strict)
    is_tuple, xs = _fn_inputs("jvp", inputs)
    v = _vectors("jvp", _ones_if_single("jvp", v, xs, "input"), xs, "input")
    out, t = _fjvp(_call(func, is_tuple), xs, v)
    _check_outputs("jvp", out)
    return _finish((out, t), create_graph)


def _second_order(fname, func, inputs, v, forward):
    from .transforms.autodiff import grad as _fgrad, jvp as _fjvp, vjp as _fvjp
    is_tuple, xs = _fn_inputs(fname, inputs)
    f = _scalar_fn(fname, func, is_tuple)
    v = _vectors(fname, _ones_if_single(fname, v, xs, "input"), xs, "input")
    g = _fgrad(f, argnums=tuple(range(len(xs))))
    if forward:  # H·v: push v through the gradient
        prod = _fjvp(g, xs, v)[1]
    else:  # vᵀ·H: pull v back through the gradient
        prod = _fvjp(g, *xs)[1](v)
    return f(*xs), (tuple(prod) if is_tuple else prod[0])


def _hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H·v)`` for a scalar ``func`` (``torch.autograd.functional.hvp``), by forward
    mode over the gradient; ``v`` has the structure of ``inputs``."""
    _no_strict("hvp", strict)
    return _finish(_second_order("hvp", func, inputs, v, True), create_graph)


def _vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), vᵀ·H)`` for a scalar ``func`` (``torch.autograd.functional.vhp``), by reverse
    mode over the gradient; ``v`` has the structure of ``inputs``."""
    _no_strict("vhp", strict)
    return _finish(_second_order("vhp", func, inputs, v, False), create_graph)


functional = types.ModuleType("fnx.autograd.functional", "``torch.autograd.functional`` over fnx's transforms.")
for _name, _fn in (("jacobian", _jacobian), ("hessian", _hessian), ("vjp", _vjp), ("jvp", _jvp), ("hvp", _hvp),
                   ("vhp", _vhp)):
    _fn.__name__ = _fn.__qualname__ = _name
    _fn.__module__ = "fnx.autograd.functional"
    setattr(functional, _name, _fn)
functional.__all__ = ["jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"]
sys.modules[functional.__name__] = functional  # so that ``import fnx.autograd.functional`` works


# ----- torch.autograd.forward_ad: dual tensors over fnx's forward-mode trace -----------------------------

_dual_levels = []  # the open level's trace context (PyTorch allows one level at a time)
UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])


def _level(fname, level):
    if not _dual_levels:
        raise GraphError(f"{fname}: no forward AD level exists; enter one first with "
                         f"`with fnx.autograd.forward_ad.dual_level():`")
    if level is not None and level != 0:
        raise ValueError(f"{fname}: level {level} is not the open forward AD level, 0")
    return _dual_levels[-1].main


def enter_dual_level():
    """Opens the forward AD level that :func:`make_dual` uses and returns its number (PyTorch allows one)."""
    if _dual_levels:
        raise GraphError("enter_dual_level: nested forward mode AD is not supported (as in PyTorch); exit the "
                         "open level first")
    context = new_main(JVPTrace, "forward_ad.dual_level")
    context.__enter__()
    _dual_levels.append(context)
    return 0


def exit_dual_level(*, level=None):
    """Closes the open forward AD level: dual tensors made in it must not be used afterwards."""
    _level("exit_dual_level", level)
    _dual_levels.pop().__exit__(None, None, None)


class dual_level:
    """``with dual_level():`` the block in which dual tensors live (``torch.autograd.forward_ad.dual_level``).

    Inside it, :func:`make_dual` attaches a tangent to a value; every operation on
    dual values carries the tangents forward (fnx's ``jvp`` rules), and
    :func:`unpack_dual` reads them. Unpack inside the block: on exit the level ends,
    and a dual value used afterwards raises fnx's escaped-tracer error.

    >>> import fnx, fnx.numpy as fnp
    >>> import fnx.autograd.forward_ad as fwAD
    >>> with fwAD.dual_level():
    ...     x = fwAD.make_dual(fnp.array([0.0, 1.0]), fnp.array([1.0, 1.0]))
    ...     fwAD.unpack_dual(fnp.sin(x) * 2).tangent
    Array([2.       , 1.0806046], dtype=float32)
    """

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()
        return False

    def __call__(self, fn):
        return decorate_with(dual_level, fn)


def make_dual(tensor, tangent, *, level=None):
    """``tensor`` carrying ``tangent`` (same shape and dtype) as its forward derivative, at the open level."""
    main = _level("make_dual", level)
    primal = fnp.asarray(tensor)
    if type(primal) is JVPTracer and primal._main is main:
        raise GraphError("make_dual: the tensor already has a forward gradient at this level; make the dual from its "
                         "primal (unpack_dual(x).primal)")
    if not is_differentiable(primal.dtype):
        raise DTypeError(f"make_dual: expected the primal to be floating point or complex, got {primal.dtype}")
    return JVPTracer(main, primal, _tangent_like("make_dual", "tangent", 0, tangent, primal))


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)`` of a dual tensor; ``tangent`` is None for a value without one at the open level."""
    if _dual_levels:
        main = _level("unpack_dual", level)
        if type(tensor) is JVPTracer and tensor._main is main:
            return UnpackedDualTensor(tensor.primal, tensor.tangent)
    return UnpackedDualTensor(tensor, None)


forward_ad = types.ModuleType("fnx.autograd.forward_ad", "``torch.autograd.forward_ad``: dual tensors.")
for _fn in (dual_level, enter_dual_level, exit_dual_level, make_dual, unpack_dual, UnpackedDualTensor):
    _fn.__module__ = "fnx.autograd.forward_ad"
    setattr(forward_ad, _fn.__name__, _fn)
forward_ad.__all__ = ["dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual",
                      "UnpackedDualTensor"]
sys.modules[forward_ad.__name__] = forward_ad


class set_detect_anomaly:
    """Checks every derivative rule's output for NaN during ``backward()`` (``torch.autograd.set_detect_anomaly``).

    While on, the first rule whose cotangent holds a NaN raises a GraphError (a
    RuntimeError) naming the operation, as PyTorch's ``"Function 'SqrtBackward0'
    returned nan values"``. Like ``set_grad_enabled`` it works as a call and as a
    context manager. ``check_nan=False`` turns the check off.

    >>> import fnx, fnx.numpy as fnp
    >>> x = fnx.tensor([0.0, 1.0], requires_grad=True)
    >>> with fnx.autograd.detect_anomaly():
    ...     (fnp.sqrt(x) * 0.0).sum().backward()
    Traceback (most recent call last):
    ...
    fnx.errors.GraphError: detect_anomaly: the derivative rule of 'sqrt' returned NaN values in its 0th output ...
    """

    def __init__(self, mode, check_nan=True):
        if not isinstance(mode, bool) or not isinstance(check_nan, bool):
            raise TypeError(f"set_detect_anomaly: mode and check_nan must be bools, got {mode!r} and {check_nan!r}")
        self._before = _autodiff._anomaly[0]
        _autodiff._anomaly[0] = mode and check_nan

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _autodiff._anomaly[0] = self._before
        return False


class detect_anomaly(set_detect_anomaly):
    """``with detect_anomaly():`` turns :class:`set_detect_anomaly` on for the block (also a decorator)."""

    def __init__(self, check_nan=True):
        self._check_nan = check_nan
        self._before = None

    def __enter__(self):
        set_detect_anomaly.__init__(self, True, self._check_nan)
        return self

    def __call__(self, fn):
        return decorate_with(lambda: detect_anomaly(self._check_nan), fn)


def is_anomaly_enabled():
    """Whether :class:`set_detect_anomaly` is on."""
    return _autodiff._anomaly[0]
