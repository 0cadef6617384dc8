"""Gradient clipping and flat parameter vectors (``torch.nn.utils``).

The clipping functions work on the ``.grad`` of Parameters, between
``loss.backward()`` and ``optimizer.step()``; since arrays are immutable they
rebind each ``.grad`` to its clipped value rather than scaling it in place.
``clip_grad_norm_`` scales every gradient by the same factor
``min(1, max_norm / (total_norm + 1e-6))``, where the total norm is the norm
of the per-parameter norms, exactly as PyTorch does (the gradients are
multiplied even when the factor is 1).
"""
import math

from .. import numpy as fnp
from ..core.array import Array
from ..errors import ShapeError
from ..transforms.autodiff import no_grad

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]


def _as_list(parameters):
    return [parameters] if isinstance(parameters, Array) else list(parameters)


def _vector_norm(x, ord):
    """The ``ord``-norm of all of ``x``'s elements (``torch.linalg.vector_norm``)."""
    a = fnp.abs(fnp.reshape(x, (-1,)))
    if ord == math.inf:
        return fnp.max(a)
    if ord == -math.inf:
        return fnp.min(a)
    if ord == 0:
        return fnp.sum(a != 0).astype(x.dtype)
    if ord == 1:
        return fnp.sum(a)
    if ord == 2:
        return fnp.sqrt(fnp.sum(a * a))
    return fnp.sum(a ** ord) ** (1.0 / ord)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scales the gradients of ``parameters`` so that their total norm is at most ``max_norm``.

    Args:
      parameters: a Parameter or an iterable of them; those without ``.grad`` are skipped.
      max_norm: the largest total norm allowed.
      norm_type: the order of the norm (``float('inf')`` for the max-norm).
      error_if_nonfinite: raise if the total norm is nan or infinite.

    Returns:
      The total norm of the gradients before clipping (a scalar array).

    Raises:
      RuntimeError: the norm is not finite and ``error_if_nonfinite`` is set.

    >>> import fnx, fnx.numpy as fnp, fnx.nn.utils
    >>> w = fnx.nn.Parameter(fnp.zeros(2))
    >>> w.grad = fnp.array([3.0, 4.0])
    >>> fnx.nn.utils.clip_grad_norm_([w], max_norm=1.0)
    Array(5., dtype=float32)
    >>> fnp.round(w.grad, 4)
    Array([0.6, 0.8], dtype=float32)
    """
    params = [p for p in _as_list(parameters) if p.grad is not None]
    max_norm, norm_type = float(max_norm), float(norm_type)
    if not params:
        return fnp.asarray(0.0)
    with no_grad():
        device = params[0].grad.device
        norms = [_vector_norm(p.grad, norm_type).to(device) for p in params]
        total = norms[0] if len(norms) == 1 else _vector_norm(fnp.stack(norms), norm_type)
        if error_if_nonfinite and not bool(fnp.isfinite(total)):
            raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is "
                               f"non-finite, so it cannot be clipped. To disable this error and scale the gradients "
                               f"by the non-finite norm anyway, set `error_if_nonfinite=False`")
        coef = fnp.minimum(max_norm / (total + 1e-6), 1.0)
        for p in params:
            p.grad = p.grad * coef.astype(p.grad.dtype).to(p.grad.device)
    return total


def clip_grad_value_(parameters, clip_value):
    """Clamps every gradient of ``parameters`` elementwise into ``[-clip_value, clip_value]``.

    >>> import fnx, fnx.numpy as fnp, fnx.nn.utils
    >>> w = fnx.nn.Parameter(fnp.zeros(3))
    >>> w.grad = fnp.array([-3.0, 0.5, 2.0])
    >>> fnx.nn.utils.clip_grad_value_(w, 1.0)
    >>> w.grad
    Array([-1. ,  0.5,  1. ], dtype=float32)
    """
    clip_value = float(clip_value)
    with no_grad():
        for p in _as_list(parameters):
            if p.grad is not None:
                p.grad = fnp.clip(p.grad, -clip_value, clip_value)


def parameters_to_vector(parameters):
    """All of ``parameters`` flattened and concatenated into one vector (recorded on the tape, as in PyTorch).

    Raises:
      TypeError: the parameters are on different devices.

    >>> import fnx, fnx.numpy as fnp, fnx.nn.utils
    >>> ps = [fnx.nn.Parameter(fnp.ones((2, 2))), fnx.nn.Parameter(fnp.zeros(1))]
    >>> fnx.nn.utils.parameters_to_vector(ps).shape
    (5,)
    """
    params = _as_list(parameters)
    devices = {p.device for p in params}
    if len(devices) > 1:
        raise TypeError(f"parameters_to_vector: the parameters are on different devices "
                        f"({', '.join(sorted(map(str, devices)))}); move them to one device first")
    return fnp.concatenate([fnp.reshape(p, (-1,)) for p in params])


def vector_to_parameters(vec, parameters):
    """Rebinds ``parameters``, in order, to consecutive slices of the 1-d array ``vec``.

    Raises:
      TypeError: ``vec`` is not an array.
      ShapeError: ``vec`` is not 1-d or its length is not the parameters' total size.

    >>> import fnx, fnx.numpy as fnp, fnx.nn.utils
    >>> ps = [fnx.nn.Parameter(fnp.zeros((2, 2))), fnx.nn.Parameter(fnp.zeros(1))]
    >>> fnx.nn.utils.vector_to_parameters(fnp.arange(5.0), ps)
    >>> ps[0].data
    Array([[0., 1.],
           [2., 3.]], dtype=float32)
    """
    if not isinstance(vec, Array):
        raise TypeError(f"vector_to_parameters: expected an fnx array, but got {type(vec).__name__}")
    params = _as_list(parameters)
    total = sum(p.size for p in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise ShapeError(f"vector_to_parameters: vec has shape {vec.shape}, the parameters need a 1-d vector of "
                         f"length {total}")
    with no_grad():
        start = 0
        for p in params:
            p.set_(fnp.reshape(vec[start:start + p.size], p.shape))
            start += p.size
