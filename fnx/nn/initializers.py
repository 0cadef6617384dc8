"""``jax.nn.initializers``: functions ``init(key, shape, dtype=None) -> array`` for JAX code ported to fnx.

Each builder (``glorot_uniform()``, ``normal(0.02)``...) returns an ``init``
that draws from an explicit :mod:`fnx.random` key; ``zeros`` and ``ones`` are
initializers themselves. ``dtype=None`` means fnx's default float (float32
unless changed with ``fnx.set_default_dtype``).

Fans follow JAX's convention, not PyTorch's: a weight of shape ``(..., in,
out)`` has ``in_axis=-2`` and ``out_axis=-1`` (a Dense kernel is ``(in, out)``;
a conv kernel ``(*spatial, in, out)``), and every other axis counts towards the
receptive field: ``fan_in = shape[in_axis] * receptive``, ``fan_out =
shape[out_axis] * receptive``, with ``batch_axis`` excluded from both.
:func:`variance_scaling` then draws with variance ``scale / n`` where ``n`` is
``fan_in``, ``fan_out``, their mean (``fan_avg``) or geometric mean
(``fan_geo_avg``): from a normal, a uniform on ``[-sqrt(3 v), sqrt(3 v))``, or a
normal truncated to two standard deviations and rescaled (by 0.8796...) to keep
the variance. (``fnx.nn.init`` has PyTorch's in-place initializers and fan
convention.)

>>> import fnx
>>> init = fnx.nn.initializers.glorot_uniform()
>>> w = init(fnx.random.key(0), (64, 32))
>>> w.shape, w.dtype, bool(abs(w).max() <= (6 / (64 + 32)) ** 0.5)
((64, 32), dtype('float32'), True)
"""
import math
from typing import Protocol

import numpy as np

from .. import numpy as fnp
from .. import random
from ..core import dtypes
from ..errors import DTypeError, ShapeError

__all__ = ["Initializer", "constant", "delta_orthogonal", "glorot_normal", "glorot_uniform", "he_normal",
           "he_uniform", "kaiming_normal", "kaiming_uniform", "lecun_normal", "lecun_uniform", "normal", "ones",
           "orthogonal", "truncated_normal", "uniform", "variance_scaling", "xavier_normal", "xavier_uniform", "zeros"]


class Initializer(Protocol):
    """What every initializer here is: ``init(key, shape, dtype=None) -> array``."""

    def __call__(self, key, shape, dtype=None):
        ...


def _shape(shape):
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(d) for d in shape)


def _dtype(opname, dtype):
    dt = dtypes.default_float() if dtype is None else dtypes.canonical(dtype)
    if dt.kind != "f":
        raise DTypeError(f"{opname}: dtype must be a floating dtype, got {dt} (complex weights are not supported)")
    return dt


def zeros(key, shape, dtype=None):
    """An array of zeros (``key`` is unused)."""
    return fnp.zeros(_shape(shape), _dtype("zeros", dtype), device=fnp.asarray(key).device)


def ones(key, shape, dtype=None):
    """An array of ones (``key`` is unused)."""
    return fnp.ones(_shape(shape), _dtype("ones", dtype), device=fnp.asarray(key).device)


def constant(value, dtype=None):
    """An initializer filling with ``value`` (a scalar, or an array broadcasting to the shape)."""
    def init(key, shape, dtype=dtype):
        return fnp.full(_shape(shape), value, _dtype("constant", dtype), device=fnp.asarray(key).device)
    return init


def normal(stddev=1e-2, dtype=None):
    """An initializer drawing from a normal distribution of mean 0 and standard deviation ``stddev``."""
    def init(key, shape, dtype=dtype):
        dt = _dtype("normal", dtype)
        return random.normal(key, _shape(shape), dt) * fnp.asarray(stddev, dt)
    return init


def uniform(scale=1e-2, dtype=None):
    """An initializer drawing uniformly from ``[0, scale)``."""
    def init(key, shape, dtype=dtype):
        dt = _dtype("uniform", dtype)
        return random.uniform(key, _shape(shape), dt) * fnp.asarray(scale, dt)
    return init


def truncated_normal(stddev=1e-2, dtype=None, lower=-2.0, upper=2.0):
    """An initializer drawing ``stddev * z`` with ``z`` a standard normal truncated to ``(lower, upper)`` (so the
    standard deviation is below ``stddev``; :func:`variance_scaling` corrects for that, this does not, as in JAX)."""
    def init(key, shape, dtype=dtype):
        dt = _dtype("truncated_normal", dtype)
        return random.truncated_normal(key, lower, upper, _shape(shape), dt) * fnp.asarray(stddev, dt)
    return init


def _size(shape, axes, what):
    if isinstance(axes, (int, np.integer)):
        axes = (axes,)
    for a in axes:
        if not -len(shape) <= a < len(shape):
            raise ShapeError(f"variance_scaling: {what} {a} is out of range for a weight of shape {shape}")
    return math.prod(shape[a] for a in axes)


def _fans(shape, in_axis, out_axis, batch_axis):
    if len(shape) <= 1 and isinstance(in_axis, int) and in_axis == -2:
        raise ShapeError(f"variance_scaling: cannot tell the input and output sizes of a weight of shape {shape} "
                         f"with the default in_axis=-2; it must be at least 2-d, or pass in_axis explicitly")
    in_size, out_size = _size(shape, in_axis, "in_axis"), _size(shape, out_axis, "out_axis")
    batch = _size(shape, batch_axis, "batch_axis")
    receptive = math.prod(shape) / in_size / out_size / batch
    return in_size * receptive, out_size * receptive


_MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
_DISTRIBUTIONS = ("truncated_normal", "normal", "uniform")
_TRUNCATED_STD = .87962566103423978  # the standard deviation of a standard normal truncated to (-2, 2)


def variance_scaling(scale, mode, distribution, in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """An initializer with variance ``scale / n``, ``n`` from the fans as ``mode`` says (see the module notes).

    Args:
      scale: the variance's numerator (1 for Glorot and LeCun, 2 for He).
      mode: ``"fan_in"``, ``"fan_out"``, ``"fan_avg"`` or ``"fan_geo_avg"``.
      distribution: ``"truncated_normal"`` (within two standard deviations, rescaled),
        ``"normal"`` or ``"uniform"``.
      in_axis, out_axis, batch_axis: the axes (an int or a sequence) holding the
        input size, the output size and a batch of independent weights.

    Raises:
      ValueError: an unknown mode or distribution.
      ShapeError: a weight below 2-d with the default ``in_axis``.
    """
    if mode not in _MODES:
        raise ValueError(f"variance_scaling: mode must be one of {_MODES}, got {mode!r}")
    if distribution not in _DISTRIBUTIONS:
        raise ValueError(f"variance_scaling: distribution must be one of {_DISTRIBUTIONS}, got {distribution!r}")

    def init(key, shape, dtype=dtype):
        shape, dt = _shape(shape), _dtype("variance_scaling", dtype)
        fan_in, fan_out = _fans(shape, in_axis, out_axis, batch_axis)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2,
             "fan_geo_avg": (fan_in * fan_out) ** 0.5}[mode]
        variance = fnp.asarray(scale / n, dt)
        if distribution == "truncated_normal":
            return random.truncated_normal(key, -2.0, 2.0, shape, dt) * (fnp.sqrt(variance) / _TRUNCATED_STD)
        if distribution == "normal":
            return random.normal(key, shape, dt) * fnp.sqrt(variance)
        return random.uniform(key, shape, dt, -1.0) * fnp.sqrt(3.0 * variance)
    return init


def glorot_uniform(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """Glorot and Bengio's uniform initializer: ``variance_scaling(1, "fan_avg", "uniform")``."""
    return variance_scaling(1.0, "fan_avg", "uniform", in_axis, out_axis, batch_axis, dtype)


def glorot_normal(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """Glorot and Bengio's normal initializer: ``variance_scaling(1, "fan_avg", "truncated_normal")``."""
    return variance_scaling(1.0, "fan_avg", "truncated_normal", in_axis, out_axis, batch_axis, dtype)


def lecun_uniform(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """LeCun's uniform initializer: ``variance_scaling(1, "fan_in", "uniform")``."""
    return variance_scaling(1.0, "fan_in", "uniform", in_axis, out_axis, batch_axis, dtype)


def lecun_normal(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """LeCun's normal initializer: ``variance_scaling(1, "fan_in", "truncated_normal")``."""
    return variance_scaling(1.0, "fan_in", "truncated_normal", in_axis, out_axis, batch_axis, dtype)


def he_uniform(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """He et al.'s uniform initializer: ``variance_scaling(2, "fan_in", "uniform")``."""
    return variance_scaling(2.0, "fan_in", "uniform", in_axis, out_axis, batch_axis, dtype)


def he_normal(in_axis=-2, out_axis=-1, batch_axis=(), dtype=None):
    """He et al.'s normal initializer: ``variance_scaling(2, "fan_in", "truncated_normal")``."""
    return variance_scaling(2.0, "fan_in", "truncated_normal", in_axis, out_axis, batch_axis, dtype)


xavier_uniform, xavier_normal = glorot_uniform, glorot_normal
kaiming_uniform, kaiming_normal = he_uniform, he_normal


def orthogonal(scale=1.0, column_axis=-1, dtype=None):
    """An initializer of (semi-)orthogonal matrices, uniform over the orthogonal group, times ``scale``.

    The weight is read as a matrix whose columns run along ``column_axis`` and
    whose rows are all the other axes flattened; its columns are orthonormal when
    there are at least as many rows, else its rows are.
    """
    def init(key, shape, dtype=dtype):
        shape, dt = _shape(shape), _dtype("orthogonal", dtype)
        if len(shape) < 2:
            raise ShapeError(f"orthogonal: the weight must be at least 2-d, got shape {shape}")
        if 0 in shape:
            return fnp.zeros(shape, dt, device=fnp.asarray(key).device)
        n_cols = shape[column_axis]
        q = random.orthogonal(key, math.prod(shape) // n_cols, (), dt, n_cols)
        q = fnp.reshape(q, tuple(np.delete(shape, column_axis)) + (n_cols,))
        return fnp.asarray(scale, dt) * fnp.moveaxis(q, -1, column_axis)
    return init


def delta_orthogonal(scale=1.0, column_axis=-1, dtype=None):
    """An initializer of convolution kernels ``(*spatial, in, out)`` (1 to 3 spatial axes) that are zero except
    at the spatial centre, which holds an orthogonal ``(in, out)`` matrix (Xiao et al., 2018); needs
    ``in <= out``."""
    def init(key, shape, dtype=dtype):
        shape, dt = _shape(shape), _dtype("delta_orthogonal", dtype)
        if len(shape) not in (3, 4, 5):
            raise ShapeError(f"delta_orthogonal: the kernel must be 3-d, 4-d or 5-d, got shape {shape}")
        if shape[-1] < shape[-2]:
            raise ShapeError(f"delta_orthogonal: the input size {shape[-2]} must not exceed the output size "
                             f"{shape[-1]} (kernel shape {shape})")
        centre = tuple((k - 1) // 2 for k in shape[:-2])
        ortho = orthogonal(scale, column_axis, dt)(key, shape[-2:])
        return fnp.zeros(shape, dt, device=ortho.device).at[centre].set(ortho)
    return init
