"""Normalisation layers: batch, layer, group and RMS normalisation.

``BatchNorm*d`` is the one layer with state that changes in the forward pass.
PyTorch updates its running statistics in place; fnx arrays are immutable, so
a training step computes the new statistics with ``F.batch_norm_stats`` (no
gradient flows through them) and *rebinds* the buffers
(``self.running_mean = new``), which ``Module.__setattr__`` routes into
``_buffers``. Under ``functional_call`` the rebinding happens on the call's
private copy, so the model passed in is left as it was.

The running variance is updated with the unbiased batch variance while the
batch itself is normalised with the biased one, as PyTorch documents;
``momentum=None`` turns the exponential average into a cumulative one, with
factor ``1 / num_batches_tracked``.

Signatures and reprs follow current PyTorch, where the affine norms also take
``bias=False`` (keyword-only for BatchNorm and GroupNorm) to drop the bias
and print whether they have one.
"""
import numbers

from ... import numpy as fnp
from ...transforms.autodiff import no_grad
from .. import functional as F
from .. import init
from ..module import Module, _plain_buffer
from .linear import _empty

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "LayerNorm", "GroupNorm", "RMSNorm"]


def _affine_params(module, shape, affine, bias, device, dtype):
    """Registers ``weight`` (and ``bias``, unless ``bias=False``) when ``affine``, else both as None."""
    module.register_parameter("weight", _empty(shape, device, dtype) if affine else None)
    module.register_parameter("bias", _empty(shape, device, dtype) if affine and bias else None)


def _reset_affine(module):
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class _NormBase(Module):
    """The options, affine parameters and running statistics of batch and instance normalisation
    (PyTorch's ``_NormBase``); the defaults are batch normalisation's."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        if momentum is not None and (isinstance(momentum, bool) or not isinstance(momentum, numbers.Real)):
            raise TypeError(f"{type(self).__name__}: momentum must be a number or None, got {momentum!r}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        _affine_params(self, (num_features,), affine, bias, device, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", fnp.zeros((num_features,), dtype=dtype, device=device))
            self.register_buffer("running_var", fnp.ones((num_features,), dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", fnp.zeros((), dtype=fnp.int64, device=device))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        self.reset_parameters()

    def _upgrade_state_dict(self, state_dict, prefix):
        # Checkpoints from before PyTorch 0.4.1 have no step count: the module keeps its own, as in PyTorch.
        key = prefix + "num_batches_tracked"
        if self.track_running_stats and key not in state_dict:
            state_dict[key] = self._buffers["num_batches_tracked"]

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean = fnp.zeros_like(self.running_mean)
            self.running_var = fnp.ones_like(self.running_var)
            self.num_batches_tracked = fnp.zeros_like(self.num_batches_tracked)

    def reset_parameters(self):
        self.reset_running_stats()
        _reset_affine(self)


class _BatchNorm(_NormBase):
    _dims = ()

    def _check_input_dim(self, x):
        if x.ndim not in self._dims:
            want = " or ".join(f"{d}D" for d in self._dims)
            raise ValueError(f"{type(self).__name__}: expected {want} input (got {x.ndim}D input of shape "
                             f"{x.shape})")

    def forward(self, input):
        x = fnp.asarray(input)
        self._check_input_dim(x)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            with no_grad():
                self.num_batches_tracked = self.num_batches_tracked + 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked)
        # with no running statistics (track_running_stats=False, or set to None) batch statistics are used always
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        if self.training and self.track_running_stats and self.running_mean is not None:
            self.running_mean, self.running_var = F.batch_norm_stats(x, self.running_mean, self.running_var,
                                                                     factor)
        # updated above: handed on as plain arrays, which F.batch_norm leaves as they are
        stats = (_plain_buffer(self.running_mean), _plain_buffer(self.running_var)) \
            if not self.training or self.track_running_stats else (None, None)
        return F.batch_norm(x, *stats, self.weight, self.bias, use_batch, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over ``(N, C)`` or ``(N, C, L)`` input (``torch.nn.BatchNorm1d``).

    ``y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias`` per channel, with the
    batch's statistics when training (rebinding ``running_mean`` and
    ``running_var`` to ``(1 - momentum) * running + momentum * batch``) and the
    running ones in ``eval()`` mode.

    >>> import fnx, fnx.numpy as fnp
    >>> bn = fnx.nn.BatchNorm1d(2)
    >>> bn
    BatchNorm1d(2, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    >>> _ = bn(fnp.array([[0.0, 1.0], [2.0, 5.0]]))
    >>> bn.running_mean, bn.running_var, bn.num_batches_tracked
    (Array([0.1, 0.3], dtype=float32), Array([1.1, 1.7], dtype=float32), Array(1, dtype=int64))
    """
    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation over ``(N, C, H, W)`` input (``torch.nn.BatchNorm2d``); see :class:`BatchNorm1d`."""
    _dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation over ``(N, C, D, H, W)`` input (``torch.nn.BatchNorm3d``); see :class:`BatchNorm1d`."""
    _dims = (5,)


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation over input of any rank from 2 up, channels on dimension 1 (``torch.nn.SyncBatchNorm``).

    PyTorch synchronises the batch statistics across the processes of a distributed job and, in a single
    process (no process group initialised), falls back to plain batch normalisation. fnx runs in one
    process, so this is that fallback: a script that converts its model with
    :meth:`convert_sync_batchnorm` runs unchanged. ``process_group`` is accepted and kept.

    >>> import fnx
    >>> net = fnx.nn.Sequential(fnx.nn.Conv1d(2, 3, 1), fnx.nn.BatchNorm1d(3))
    >>> fnx.nn.SyncBatchNorm.convert_sync_batchnorm(net)[1]
    SyncBatchNorm(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 process_group=None, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)
        self.process_group = process_group

    def _check_input_dim(self, x):
        if x.ndim < 2:
            raise ValueError(f"expected at least 2D input (got {x.ndim}D input)")
        if x.shape[1] == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` with every batch norm in it replaced by a SyncBatchNorm holding the same Parameters,
        running statistics and mode (returns the new module when ``module`` is itself a batch norm)."""
        converted = module
        if isinstance(module, _BatchNorm):
            converted = cls(module.num_features, module.eps, module.momentum, module.affine,
                            module.track_running_stats, process_group, bias=module.bias is not None)
            if module.affine:
                converted.weight = module.weight
                if module.bias is not None:
                    converted.bias = module.bias
            converted.running_mean = module.running_mean
            converted.running_var = module.running_var
            converted.num_batches_tracked = module.num_batches_tracked
            converted.training = module.training
        for name, child in module.named_children():
            converted.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return converted


def _shape_tuple(normalized_shape):
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(normalized_shape)


class LayerNorm(Module):
    """Normalises over the trailing ``normalized_shape`` dimensions (``torch.nn.LayerNorm``), then
    ``* weight + bias`` elementwise (weight 1 and bias 0 at first; ``bias=False`` drops the bias).

    >>> import fnx, fnx.numpy as fnp
    >>> ln = fnx.nn.LayerNorm(2)
    >>> ln
    LayerNorm((2,), eps=1e-05, elementwise_affine=True, bias=True)
    >>> ln(fnp.array([[1.0, 3.0]]))
    Array([[-0.999995,  0.999995]], dtype=float32, grad_fn=<AddBackward0>)
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        _affine_params(self, self.normalized_shape, elementwise_affine, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class GroupNorm(Module):
    """Normalises each of ``num_groups`` groups of channels of each example over its channels and
    positions (``torch.nn.GroupNorm``), then ``* weight + bias`` per channel.

    >>> import fnx
    >>> fnx.nn.GroupNorm(2, 4)(fnx.numpy.ones((3, 4, 5))).shape
    (3, 4, 5)
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                             f"({num_groups})")
        self.num_groups, self.num_channels, self.eps, self.affine = num_groups, num_channels, eps, affine
        _affine_params(self, (num_channels,), affine, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(Module):
    """``x / sqrt(mean(x^2) + eps) * weight`` over the trailing ``normalized_shape`` dimensions
    (``torch.nn.RMSNorm``; ``eps=None`` is the dtype's machine epsilon).

    >>> import fnx
    >>> fnx.nn.RMSNorm([2, 3])
    RMSNorm((2, 3), eps=None, elementwise_affine=True)
    """

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        if elementwise_affine:
            self.weight = _empty(self.normalized_shape, device, dtype)
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.elementwise_affine:
            init.ones_(self.weight)

    def forward(self, input):
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


# ----- instance and local response normalisation ------------------------------------------------------

__all__ += ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LocalResponseNorm"]


class _InstanceNorm(_NormBase):
    _spatial = 1

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False, device=None,
                 dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias)

    def forward(self, input):
        x = fnp.asarray(input)
        name, d = type(self).__name__, self._spatial
        if x.ndim not in (d + 1, d + 2):
            raise ValueError(f"{name}: expected {d + 1}D (unbatched) or {d + 2}D (batched) input, got {x.ndim}D "
                             f"input of shape {x.shape}")
        unbatched = x.ndim == d + 1
        if unbatched:
            x = fnp.expand_dims(x, 0)
        if x.shape[1] != self.num_features:
            if self.affine:
                raise ValueError(f"{name}: expected input's size at dim=1 to match num_features "
                                 f"({self.num_features}), but got: {x.shape[1]}.")
            import warnings
            warnings.warn("input's size at dim=1 does not match num_features. You can silence this warning by "
                          "not passing in num_features, which is not used because affine=False", UserWarning,
                          stacklevel=2)
        use_input_stats = self.training or not self.track_running_stats
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.running_mean is not None:
            # PyTorch folds the batch into the channels, updates those statistics, then averages them over the
            # batch; unlike BatchNorm it counts no batches, and momentum=None means 0 (the statistics stay)
            n, c = x.shape[:2]
            mean, var = F.batch_norm_stats(fnp.reshape(x, (1, n * c) + x.shape[2:]),
                                           fnp.tile(self.running_mean, n), fnp.tile(self.running_var, n), factor)
            self.running_mean = fnp.mean(fnp.reshape(mean, (n, c)), axis=0)
            self.running_var = fnp.mean(fnp.reshape(var, (n, c)), axis=0)
        out = F.instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias, use_input_stats,
                              factor, self.eps)
        return fnp.squeeze(out, 0) if unbatched else out

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class InstanceNorm1d(_InstanceNorm):
    """Normalises each channel of each example over its length (``torch.nn.InstanceNorm1d``): ``(N, C, L)``
    or unbatched ``(C, L)``. No affine parameters and no running statistics by default; with
    ``track_running_stats`` the running ones (updated with the batch-averaged instance statistics while
    training) are used in ``eval()`` mode. As in PyTorch, ``num_batches_tracked`` stays 0 and
    ``momentum=None`` leaves the running statistics unchanged.

    >>> import fnx, fnx.numpy as fnp
    >>> norm = fnx.nn.InstanceNorm1d(1)
    >>> norm
    InstanceNorm1d(1, eps=1e-05, momentum=0.1, affine=False, bias=False, track_running_stats=False)
    >>> norm(fnp.array([[[1., 3.]]]))
    Array([[[-0.999995,  0.999995]]], dtype=float32)
    """
    _spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of ``(N, C, H, W)`` or ``(C, H, W)`` input (``torch.nn.InstanceNorm2d``)."""
    _spatial = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` input (``torch.nn.InstanceNorm3d``)."""
    _spatial = 3


class LocalResponseNorm(Module):
    """Local response normalisation across channels (``torch.nn.LocalResponseNorm``); see
    ``F.local_response_norm``.

    >>> import fnx
    >>> fnx.nn.LocalResponseNorm(2)
    LocalResponseNorm(2, alpha=0.0001, beta=0.75, k=1.0)
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


__all__ += ["CrossMapLRN2d"]


def _cross_map_windows(channels, size):
    """The (C, C) 0/1 matrix of the channels each output channel sums, by PyTorch's (Lua-era) recurrence."""
    import numpy as np
    pre_pad = int((size - 1) / 2 + 1)
    m = np.zeros((channels, channels))
    m[0, :min(pre_pad, channels)] = 1
    for c in range(1, channels):
        m[c] = m[c - 1]
        if c < channels - pre_pad + 1:
            m[c, c + pre_pad - 1] += 1
        if c > pre_pad:
            m[c, c - pre_pad] -= 1
    return m


class CrossMapLRN2d(Module):
    """Local response normalisation across channels of ``(N, C, H, W)`` input, as the legacy
    ``torch.nn.CrossMapLRN2d`` computes it: ``x * (k + alpha / size * s)^-beta`` with ``s`` a running sum
    of squares over channels. Its window follows PyTorch's own recurrence, which differs from
    :class:`LocalResponseNorm`'s centred window (so the two give different values, in PyTorch too); the
    values equal PyTorch's. The gradient is the exact derivative of those values; PyTorch's hand-written
    backward uses the centred window instead (and fails for ``size=1``), so its gradients differ.

    >>> import fnx
    >>> fnx.nn.CrossMapLRN2d(3)
    CrossMapLRN2d(3, alpha=0.0001, beta=0.75, k=1)
    """

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):
        x = fnp.asarray(input)
        if x.ndim != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {x.ndim}D instead.")
        m = fnp.asarray(_cross_map_windows(x.shape[1], self.size).astype(x.dtype), device=x.device)
        s = fnp.einsum("dc,nchw->ndhw", m, x * x)
        return x * (s * (self.alpha / self.size) + self.k) ** (-self.beta)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
