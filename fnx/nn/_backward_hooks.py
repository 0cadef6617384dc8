"""A module's backward hooks (``register_full_backward_hook``), as PyTorch builds them.

The module's array inputs and outputs each pass through one recorded identity
whose backward rule is a closure: the outputs' identity sees every output's
gradient at once (``grad_output``, for the pre-hooks), and the inputs' identity,
which the backward pass reaches only after everything the module computed from
its inputs, sees the gradients with respect to them (``grad_input``).
"""
import warnings

from .. import numpy as fnp
from ..core import tree as tree_util
from ..core.array import Array
from ..transforms.autodiff import TAPE, _requires_grad, torch_convention


def call_with_backward_hooks(module, args, kwargs):
    full = module._backward_hooks
    seen = {}  # what the outputs' identity hands the inputs' one: this call's grad_output

    def wrap_inputs(args):
        seen["inputs"] = len(args)
        positions = [i for i, a in enumerate(args) if _requires_grad(a)]
        if not full or not positions:
            return args

        def run(primals):
            def backward(cts, given):
                # As in PyTorch: zeros for an array input that does not require grad, None for a non-array.
                grad_input = [fnp.zeros_like(a) if isinstance(a, Array) else None for a in args]
                for i, c in zip(positions, cts):
                    grad_input[i] = torch_convention(c)  # the hooks see PyTorch's complex convention
                grad_input = tuple(grad_input)
                for hook in list(full.values()):
                    res = hook(module, grad_input, seen.get("grad_output"))
                    if res is not None:
                        grad_input = _replacement(module, "full backward hook", "grad_input", res, grad_input)
                return tuple(torch_convention(grad_input[i]) for i in positions)
            return tuple(primals), backward

        wrapped = TAPE.trace._record_call("BackwardHookFunction", [args[i] for i in positions], run)
        args = list(args)
        for i, w in zip(positions, wrapped):
            args[i] = w
        seen["wrapped"] = True
        return tuple(args)

    out = module._call_forward(args, kwargs, after_pre_hooks=wrap_inputs)
    flat, tree = tree_util.flatten(out)
    positions = [i for i, o in enumerate(flat) if _requires_grad(o)]
    if not positions:
        return out

    def run(primals):
        def backward(cts, given):
            grad_output = tuple(map(torch_convention, cts))
            for hook in list(module._backward_pre_hooks.values()):
                res = hook(module, grad_output)
                if res is not None:
                    grad_output = _replacement(module, "backward pre-hook", "grad_output", res, grad_output)
            seen["grad_output"] = grad_output
            if full and not seen.get("wrapped"):
                warnings.warn(f"{type(module).__name__}: the full backward hook runs with the gradients of the "
                              f"outputs, since no input requires grad (grad_input is all None)", UserWarning)
                for hook in list(full.values()):
                    hook(module, (None,) * seen["inputs"], grad_output)
            return tuple(map(torch_convention, grad_output))
        return tuple(primals), backward

    wrapped = TAPE.trace._record_call("BackwardHookFunction", [flat[i] for i in positions], run, symbolic_zeros=True)
    for i, w in zip(positions, wrapped):
        flat[i] = w
    return tree.unflatten(flat)


def _replacement(module, kind, what, res, old):
    res = tuple(res) if isinstance(res, (tuple, list)) else (res,)
    if len(res) != len(old):
        raise ValueError(f"{type(module).__name__}: a {kind} returned {len(res)} values for {what}, "
                         f"which has {len(old)}")
    for new, prev in zip(res, old):
        if new is not None and prev is not None and getattr(new, "shape", None) != prev.shape:
            raise ValueError(f"{type(module).__name__}: a {kind} returned a {what} entry of shape "
                             f"{getattr(new, 'shape', type(new).__name__)} for one of shape {prev.shape}")
    return res
