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

from ... import numpy as fnp
from ...core.array import Array
from ...errors import ShapeError
from ...transforms.autodiff import no_grad
from . import rnn  # torch.nn.utils.rnn: pad_sequence, unpad_sequence

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


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scales the gradients of ``parameters`` so that their total norm is at most ``max_norm``.

    Args:
      parameters: a Parameter or an iterable of them; those without ``.grad`` are skipped.
      max_norm: the largest total norm allowed.
      norm_type: the order of the norm (``float('inf')`` for the max-norm).
      error_if_nonfinite: raise if the total norm is nan or infinite.
      foreach: accepted for PyTorch's signature; it has no effect.

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
            p._write_grad(p.grad * coef.astype(p.grad.dtype).to(p.grad.device))
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamps every gradient of ``parameters`` elementwise into ``[-clip_value, clip_value]`` (``foreach`` is
    accepted for PyTorch's signature and has no effect).

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
                p._write_grad(fnp.clip(p.grad, -clip_value, clip_value))


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


# ----- clipping in two steps: the total norm, then the scaling ------------------------------------------

__all__ += ["get_total_norm", "clip_grads_with_norm_"]


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of the norms of ``tensors`` (usually gradients), as if they were one vector
    (``torch.nn.utils.get_total_norm``); 0 for no tensors. ``foreach`` is accepted and has no effect.

    Raises:
      RuntimeError: the norm is not finite and ``error_if_nonfinite`` is set.

    >>> import fnx.numpy as fnp, fnx.nn.utils
    >>> fnx.nn.utils.get_total_norm([fnp.array([3.0]), fnp.array([0.0, 4.0])])
    Array(5., dtype=float32)
    """
    tensors = [t for t in _as_list(tensors) if t is not None]
    norm_type = float(norm_type)
    if not tensors:
        return fnp.asarray(0.0)
    device = tensors[0].device
    norms = [_vector_norm(t, norm_type).to(device) for t in tensors]
    total = norms[0] if len(norms) == 1 else _vector_norm(fnp.stack(norms), norm_type)
    if error_if_nonfinite and not bool(fnp.isfinite(total)):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
                           f"it cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           f"norm anyway, set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scales every ``.grad`` of ``parameters`` by ``min(max_norm / (total_norm + 1e-6), 1)``, with a total norm
    computed beforehand (``torch.nn.utils.clip_grads_with_norm_``; with :func:`get_total_norm` this is
    :func:`clip_grad_norm_` in two steps). ``foreach`` is accepted and has no effect.

    >>> import fnx, fnx.numpy as fnp, fnx.nn.utils
    >>> w = fnx.nn.Parameter(fnp.zeros(2))
    >>> w.grad = fnp.array([3.0, 4.0])
    >>> fnx.nn.utils.clip_grads_with_norm_([w], 1.0, fnx.nn.utils.get_total_norm([w.grad]))
    >>> fnp.round(w.grad, 4)
    Array([0.6, 0.8], dtype=float32)
    """
    params = [p for p in _as_list(parameters) if p.grad is not None]
    if not params:
        return
    with no_grad():
        coef = fnp.minimum(float(max_norm) / (fnp.asarray(total_norm) + 1e-6), 1.0)
        for p in params:
            p._write_grad(p.grad * coef.astype(p.grad.dtype).to(p.grad.device))


# ----- weight and spectral normalisation, as forward pre-hooks -------------------------------------------
#
# PyTorch's original (hook-based) reparametrisations: the weight Parameter is
# replaced by new Parameters (and, for spectral_norm, buffers), and a forward
# pre-hook recomputes ``module.weight`` from them before every call, so the
# gradient reaches the new Parameters. ``module.weight`` becomes a plain
# attribute, as in PyTorch, and the ``state_dict`` keys are PyTorch's
# (``weight_g``/``weight_v``; ``weight_orig``/``weight_u``/``weight_v``).

__all__ += ["weight_norm", "remove_weight_norm", "spectral_norm", "remove_spectral_norm"]


def _norm_except_dim(v, dim):
    """The 2-norm of ``v`` over every axis but ``dim`` (keeping it), or over all of ``v`` for ``dim=-1``."""
    if dim == -1:
        return fnp.sqrt(fnp.sum(v * v))
    axes = tuple(a for a in range(v.ndim) if a != dim)
    return fnp.sqrt(fnp.sum(v * v, axis=axes, keepdims=True))


class WeightNorm:
    """The forward pre-hook of :func:`weight_norm`: ``weight = g * v / ||v||``."""

    def __init__(self, name, dim):
        self.name, self.dim = name, -1 if dim is None else dim

    def compute_weight(self, module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return v * (g / _norm_except_dim(v, self.dim))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def _find_hook(module, cls, name):
    for key, (hook, _) in module._forward_pre_hooks.items():
        if isinstance(hook, cls) and hook.name == name:
            return key, hook
    return None, None


def _registered_hook(module, cls, name, what):
    """``_find_hook``'s result, or the ValueError of ``remove_<what>`` when ``module`` has none on ``name``."""
    key, hook = _find_hook(module, cls, name)
    if hook is None:
        raise ValueError(f"{what} of '{name}' not found in {module}")
    return key, hook


def weight_norm(module, name="weight", dim=0):
    r"""Reparametrises ``module.<name>`` as :math:`w = g \, v / \lVert v \rVert` (``torch.nn.utils.weight_norm``),
    the norm taken over every axis but ``dim`` (over the whole array for ``dim=None``, or -1 as PyTorch
    treats it). ``<name>_g`` (the norms) and ``<name>_v`` (the direction, initially the weight) become the
    Parameters, and the weight is recomputed before every forward. Salimans and Kingma, "Weight
    Normalization" (NeurIPS 2016). PyTorch deprecates this in favour of its parametrizations, with a
    FutureWarning, which is repeated here.

    Raises:
      RuntimeError: ``name`` already carries a weight norm.

    >>> import warnings, fnx, fnx.numpy as fnp
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     m = fnx.nn.utils.weight_norm(fnx.nn.Linear(3, 2))
    >>> [(k, v.shape) for k, v in m.state_dict().items()]
    [('bias', (2,)), ('weight_g', (2, 1)), ('weight_v', (2, 3))]
    """
    import warnings
    warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                  "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=2)
    if _find_hook(module, WeightNorm, name)[1] is not None:
        raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
    from ..parameter import Parameter
    fn = WeightNorm(name, dim)
    weight = getattr(module, name)
    del module._parameters[name]
    module.register_parameter(name + "_g", Parameter(_norm_except_dim(weight.primal, fn.dim)))
    module.register_parameter(name + "_v", Parameter(weight.primal))
    setattr(module, name, fn.compute_weight(module))
    module.register_forward_pre_hook(fn)
    return module


def remove_weight_norm(module, name="weight"):
    """Folds a :func:`weight_norm` back into one ``<name>`` Parameter.

    Raises:
      ValueError: ``module`` has no weight norm on ``name``.
    """
    key, hook = _registered_hook(module, WeightNorm, name, "weight_norm")
    with no_grad():
        weight = hook.compute_weight(module)
    return _fold_back(module, name, weight, key, parameters=("_g", "_v"))


class SpectralNorm:
    """The forward pre-hook of :func:`spectral_norm`: ``weight = weight_orig / sigma``, ``sigma`` estimated by
    power iteration (one or more steps per forward while training)."""

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def reshape_weight_to_matrix(self, weight):
        if self.dim != 0:
            weight = fnp.moveaxis(weight, self.dim, 0)
        return fnp.reshape(weight, (weight.shape[0], -1))

    def compute_weight(self, module, do_power_iteration):
        from .. import functional as F
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        mat = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():  # u and v are estimates, not differentiated (as in PyTorch)
                fixed = fnp.stop_gradient(mat)
                for _ in range(self.n_power_iterations):
                    v = F.normalize(fnp.matmul(fnp.transpose(fixed), u), dim=0, eps=self.eps)
                    u = F.normalize(fnp.matmul(fixed, v), dim=0, eps=self.eps)
                u, v = fnp.stop_gradient(u), fnp.stop_gradient(v)
            setattr(module, self.name + "_u", u)
            setattr(module, self.name + "_v", v)
        sigma = fnp.dot(u, fnp.matmul(mat, v))
        return weight / sigma

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module, do_power_iteration=module.training))


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    r"""Divides ``module.<name>`` by its spectral norm :math:`\sigma(W)`, estimated by power iteration
    (``torch.nn.utils.spectral_norm``). The weight is kept as the Parameter ``<name>_orig``; the
    singular-vector estimates ``<name>_u`` and ``<name>_v`` are buffers, drawn from the global generator
    and refined by ``n_power_iterations`` steps before every forward in training mode. ``dim`` (default 0,
    or 1 for transposed convolutions) is the output axis of the weight matrix. Miyato et al., "Spectral
    Normalization for Generative Adversarial Networks" (ICLR 2018).

    Raises:
      RuntimeError: ``name`` already carries a spectral norm.
      ValueError: ``n_power_iterations`` is not positive, or the parameter is None.

    >>> import fnx
    >>> m = fnx.nn.utils.spectral_norm(fnx.nn.Linear(4, 3))
    >>> [(k, v.shape) for k, v in m.state_dict().items()]
    [('bias', (3,)), ('weight_orig', (3, 4)), ('weight_u', (3,)), ('weight_v', (4,))]
    """
    from ... import random
    from .. import functional as F
    from ..layers.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
    if dim is None:
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    if _find_hook(module, SpectralNorm, name)[1] is not None:
        raise RuntimeError(f"Cannot register two spectral_norm hooks on the same parameter {name}")
    fn = SpectralNorm(name, n_power_iterations, dim, eps)
    weight = module._parameters.get(name)
    if weight is None:
        raise ValueError(f"`SpectralNorm` cannot be applied as parameter `{name}` is None")
    with no_grad():
        h, w = fn.reshape_weight_to_matrix(weight.primal).shape
        ku, kv = random.split(random.next_key(), 2)
        u = F.normalize(random.normal(ku, (h,), weight.dtype), dim=0, eps=eps)
        v = F.normalize(random.normal(kv, (w,), weight.dtype), dim=0, eps=eps)
    del module._parameters[name]
    module.register_parameter(name + "_orig", weight)
    setattr(module, name, weight.primal)
    module.register_buffer(name + "_u", u.to(weight.device))
    module.register_buffer(name + "_v", v.to(weight.device))
    module.register_forward_pre_hook(fn)
    return module


def remove_spectral_norm(module, name="weight"):
    """Replaces a :func:`spectral_norm` by the normalised weight, as one ``<name>`` Parameter.

    Raises:
      ValueError: ``module`` has no spectral norm on ``name``.
    """
    key, hook = _registered_hook(module, SpectralNorm, name, "spectral_norm")
    with no_grad():
        weight = hook.compute_weight(module, do_power_iteration=False)
    return _fold_back(module, name, weight, key, parameters=("_orig",), buffers=("_u", "_v"))


def _fold_back(module, name, weight, key, parameters=(), buffers=()):
    """Ends a reparametrisation: drops its parameters, buffers and hook and makes ``weight`` the Parameter."""
    from ..parameter import Parameter
    module.__dict__.pop(name, None)
    for suffix in buffers:
        del module._buffers[name + suffix]
    for suffix in parameters:
        del module._parameters[name + suffix]
    module.register_parameter(name, Parameter(weight))
    del module._forward_pre_hooks[key]
    return module


# ----- folding an evaluation-mode BatchNorm into the layer before it, and old names ------------------------

__all__ += ["fuse_conv_bn_eval", "fuse_conv_bn_weights", "fuse_linear_bn_eval", "fuse_linear_bn_weights",
            "clip_grad_norm"]


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    r"""The weight and bias of one convolution equal to ``conv`` followed by an evaluation-mode BatchNorm:
    :math:`W' = W \gamma / \sqrt{\sigma^2 + \epsilon}` per output channel (axis 0, or 1 with ``transpose``)
    and :math:`b' = (b - \mu) \gamma / \sqrt{\sigma^2 + \epsilon} + \beta` (``torch.nn.utils.fuse_conv_bn_weights``).
    A missing bias or affine parameter counts as 0 (or 1 for ``bn_w``). Returns two Parameters.

    >>> import fnx.numpy as fnp, fnx.nn.utils as U
    >>> w, b = U.fuse_conv_bn_weights(fnp.ones((2, 1, 1)), None, fnp.array([1., 0.]), fnp.array([3., 0.]), 1.0,
    ...                               fnp.array([2., 1.]), fnp.array([0., 5.]))
    >>> w.data[:, 0, 0], b.data
    (Array([1., 1.], dtype=float32), Array([-1.,  5.], dtype=float32))
    """
    from ..parameter import Parameter
    conv_w = fnp.asarray(conv_w.primal if hasattr(conv_w, "primal") else conv_w)
    w_dtype = conv_w.dtype
    b_dtype = w_dtype if conv_b is None else conv_b.dtype
    rm, rv = fnp.asarray(bn_rm), fnp.asarray(bn_rv)
    conv_b = fnp.zeros_like(rm) if conv_b is None else fnp.asarray(conv_b)
    bn_w = fnp.ones_like(rm) if bn_w is None else fnp.asarray(bn_w)
    bn_b = fnp.zeros_like(rm) if bn_b is None else fnp.asarray(bn_b)
    rsqrt = 1.0 / fnp.sqrt(rv + bn_eps)
    shape = (1, -1) + (1,) * (conv_w.ndim - 2) if transpose else (-1, 1) + (1,) * (conv_w.ndim - 2)
    with no_grad():
        w = fnp.astype(conv_w * fnp.reshape(bn_w * rsqrt, shape), w_dtype)
        b = fnp.astype((conv_b - rm) * rsqrt * bn_w + bn_b, b_dtype)
    return Parameter(w), Parameter(b)


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A copy of ``conv`` whose output equals ``bn(conv(x))`` for an evaluation-mode BatchNorm ``bn``
    (``torch.nn.utils.fuse_conv_bn_eval``; weights from :func:`fuse_conv_bn_weights`).

    Raises:
      AssertionError: either module is in training mode, or ``bn`` keeps no running statistics
        (PyTorch's exception type).
    """
    import copy
    if conv.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")
    fused = copy.deepcopy(conv)
    fused.weight, fused.bias = fuse_conv_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var,
                                                    bn.eps, bn.weight, bn.bias, transpose)
    return fused


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """The weight and bias of one Linear equal to ``linear`` followed by an evaluation-mode BatchNorm1d
    (``torch.nn.utils.fuse_linear_bn_weights``). Returns two Parameters.

    >>> import fnx.numpy as fnp, fnx.nn.utils as U
    >>> w, b = U.fuse_linear_bn_weights(fnp.ones((1, 2)), fnp.array([1.]), fnp.array([1.]), fnp.array([3.]), 1.0,
    ...                                 fnp.array([4.]), fnp.array([0.5]))
    >>> w.data, b.data
    (Array([[2., 2.]], dtype=float32), Array([0.5], dtype=float32))
    """
    from ..parameter import Parameter
    linear_w = fnp.asarray(linear_w.primal if hasattr(linear_w, "primal") else linear_w)
    w_dtype = linear_w.dtype
    b_dtype = w_dtype if linear_b is None else linear_b.dtype
    rm = fnp.asarray(bn_rm)
    linear_b = fnp.zeros_like(rm) if linear_b is None else fnp.asarray(linear_b)
    with no_grad():
        scale = fnp.asarray(bn_w) / fnp.sqrt(fnp.asarray(bn_rv) + bn_eps)
        w = linear_w * fnp.astype(fnp.expand_dims(scale, -1), w_dtype)
        b = fnp.astype((linear_b - rm) * scale + fnp.asarray(bn_b), b_dtype)
    return Parameter(w), Parameter(b)


def fuse_linear_bn_eval(linear, bn):
    """A copy of ``linear`` whose output equals ``bn(linear(x))`` for an evaluation-mode BatchNorm1d ``bn``
    (``torch.nn.utils.fuse_linear_bn_eval``).

    Raises:
      AssertionError: either module is training, the sizes do not match, or ``bn`` has no running statistics.
    """
    import copy
    if linear.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if linear.out_features != bn.num_features and bn.num_features != 1:
        raise AssertionError(f"To fuse, linear.out_features == bn.num_features or bn.num_features == 1, got "
                             f"linear.out_features={linear.out_features} and bn.num_features={bn.num_features}")
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("bn.running_mean and bn.running_var must not be None")
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(fused.weight, fused.bias, bn.running_mean, bn.running_var,
                                                      bn.eps, bn.weight, bn.bias)
    return fused


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Deprecated name of :func:`clip_grad_norm_` (PyTorch's FutureWarning is repeated)."""
    import warnings
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
                  FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


# torch.nn.utils.parametrize and its parametrizations (weight_norm, spectral_norm, orthogonal); last, since
# they build on this module's norms and on the layers.
from . import parametrize, parametrizations  # noqa: E402


# ``torch.nn.utils``' submodule paths that scripts import from: the same functions.
import sys as _sys  # noqa: E402
import types as _types  # noqa: E402

clip_grad = _types.ModuleType(__name__ + ".clip_grad", "``torch.nn.utils.clip_grad``.")
clip_grad.clip_grad_norm_, clip_grad.clip_grad_value_ = clip_grad_norm_, clip_grad_value_
clip_grad.get_total_norm, clip_grad.clip_grads_with_norm_ = get_total_norm, clip_grads_with_norm_
convert_parameters = _types.ModuleType(__name__ + ".convert_parameters", "``torch.nn.utils.convert_parameters``.")
convert_parameters.parameters_to_vector = parameters_to_vector
convert_parameters.vector_to_parameters = vector_to_parameters
_sys.modules[clip_grad.__name__], _sys.modules[convert_parameters.__name__] = clip_grad, convert_parameters
