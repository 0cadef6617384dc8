"""``torch.utils.checkpoint``: activation checkpointing for object-style code.

``checkpoint(block, x)`` runs ``block`` without recording its intermediates on the
tape; the backward pass runs it again, recording, when it reaches the call, and
differentiates that second run: into the cotangents of the arrays passed in and
into the ``.grad`` of the Parameters ``block`` uses (as PyTorch's checkpoint
does). Memory for time, as with :func:`fnx.checkpoint` (JAX's ``remat``), which
is what a call under a functional transform (``fnx.grad``, ``vmap``) uses.
"""
from .. import random as _random
from ..core import tree as tree_util
from ..core.trace import Tracer
from ..transforms.autodiff import TAPE, ReverseTracer, _detach, _requires_grad, enable_grad, is_grad_enabled, \
    no_grad, tape_backward

__all__ = ["checkpoint", "checkpoint_sequential"]


def checkpoint(function, *args, use_reentrant=None, preserve_rng_state=True, context_fn=None,
               determinism_check="default", debug=False, **kwargs):
    """``function(*args, **kwargs)``, recomputed in the backward pass instead of kept
    (``torch.utils.checkpoint.checkpoint``).

    With ``preserve_rng_state`` (the default) the second run draws the same random
    numbers as the first (dropout masks agree). Gradients reach the arrays in
    ``args`` and the Parameters ``function`` reads, whether or not an input requires
    grad (PyTorch's ``use_reentrant=False``); ``use_reentrant`` is accepted for
    compatibility. ``context_fn`` and ``determinism_check`` other than their defaults
    are refused.

    >>> import fnx
    >>> lin = fnx.nn.Linear(3, 2)
    >>> x = fnx.ones((4, 3))
    >>> fnx.utils.checkpoint.checkpoint(lin, x, use_reentrant=False).sum().backward()
    >>> lin.bias.grad
    Array([4., 4.], dtype=float32)
    """
    if context_fn is not None or determinism_check not in ("default", "none"):
        raise ValueError("checkpoint: context_fn and determinism_check are not supported by fnx")
    flat, tree = tree_util.flatten((args, kwargs))
    if any(isinstance(a, Tracer) and not (isinstance(a, ReverseTracer) and a._main is TAPE) for a in flat):
        from ..transforms.custom import checkpoint as remat  # under a functional transform: JAX's remat
        return remat(lambda *leaves: _call(function, tree, leaves))(*flat)
    if not is_grad_enabled():
        return function(*args, **kwargs)
    rng = _random._position() if preserve_rng_state else None

    def run(primals):
        with no_grad():
            out = _call(function, tree, primals)

        def backward(cts, given):
            # The second run records on the tape, from fresh leaves standing for the inputs, and its own backward
            # pass adds into the .grad of the Parameters it reaches; the inputs' gradients are handed back.
            from ..tensor import _leaf
            leaves = [_leaf(_detach(v), True) if _requires_grad(a) else _detach(v)
                      for a, v in zip(flat, given)]
            with enable_grad(), _random._replaying(rng):
                out2 = _call(function, tree, leaves)
            seeds = [(o.node, o.index, c) for o, c in zip(tree_util.flatten(out2)[0], cts)
                     if c is not None and _requires_grad(o)]
            if seeds:
                tape_backward(seeds)
            return tuple(leaf.grad if _requires_grad(a) else None for a, leaf in zip(flat, leaves))
        return out, backward

    return TAPE.trace._record_call("CheckpointFunction", flat, run, symbolic_zeros=True)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Runs ``functions`` (a Sequential or a list of modules) in ``segments`` checkpointed chunks
    (``torch.utils.checkpoint.checkpoint_sequential``); the last chunk is not checkpointed, as in PyTorch."""
    functions = list(functions.children()) if hasattr(functions, "children") else list(functions)
    if not 0 < segments:
        raise ValueError(f"checkpoint_sequential: segments must be positive, got {segments}")
    size = len(functions) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        chunk = functions[start:end + 1]
        input = checkpoint(lambda x, chunk=chunk: _run_all(chunk, x), input, use_reentrant=use_reentrant, **kwargs)
    return _run_all(functions[end + 1:], input)


def _run_all(functions, x):
    for f in functions:
        x = f(x)
    return x


def _call(function, tree, leaves):
    args, kwargs = tree.unflatten(list(leaves))
    return function(*args, **kwargs)
