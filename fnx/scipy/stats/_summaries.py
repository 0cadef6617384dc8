"""Summaries of samples, as ``jax.scipy.stats`` has them: ``rankdata``, ``sem`` and ``mode``.

Each works on the sorted sample with ``searchsorted`` (no Python loop over values), so
it runs under ``jit`` and ``vmap``; along an axis, the 1-d rule is vmapped over the others.
"""
import math
from collections import namedtuple

from ... import numpy as fnp
from ...numpy._base import normalize_axis

__all__ = ["rankdata", "sem", "mode", "ModeResult"]

ModeResult = namedtuple("ModeResult", ["mode", "count"])

_RANK_METHODS = ("average", "min", "max", "dense", "ordinal")


def _along(fn, x, axis):
    """``fn`` (of a 1-d array, returning a tuple of arrays) applied along ``axis``, the others batched."""
    from ...transforms.vmap import vmap
    moved = fnp.moveaxis(x, axis, -1)
    lead = moved.shape[:-1]
    flat = fnp.reshape(moved, (math.prod(lead), moved.shape[-1]))
    outs = vmap(fn)(flat)
    return tuple(fnp.reshape(o, lead + o.shape[1:]) for o in outs)


def _check_nan_policy(opname, nan_policy):
    if nan_policy != "propagate":
        raise NotImplementedError(f"{opname}: only nan_policy='propagate' is supported, as in JAX; got {nan_policy!r}")


def _ranks(method):
    def ranks(v):
        ordered = fnp.sort(v)
        if method == "ordinal":
            order = fnp.argsort(v, stable=True)
            return (fnp.zeros(v.shape, "int64").at[order].set(fnp.arange(1, v.shape[0] + 1)),)
        low = fnp.searchsorted(ordered, v, side="left")
        high = fnp.searchsorted(ordered, v, side="right")
        if method == "min":
            return (low + 1,)
        if method == "max":
            return (high,)
        if method == "average":
            return ((low + 1 + high) / 2.0,)
        # dense: how many distinct values are at or below each one
        distinct = fnp.concatenate([fnp.ones(1, "int64"), (ordered[1:] != ordered[:-1]).astype("int64")])
        return (fnp.take(fnp.cumsum(distinct), low),)
    return ranks


def rankdata(a, method="average", *, axis=None, nan_policy="propagate"):
    """The ranks of ``a``'s values, from 1, ties by ``method`` (``'average'``, ``'min'``, ``'max'``,
    ``'dense'`` or ``'ordinal'``), of the flattened array or along ``axis``, as ``scipy.stats.rankdata``:
    float64 for ``'average'``, int64 otherwise.

    >>> import fnx.numpy as fnp, fnx.scipy.stats as st
    >>> st.rankdata(fnp.array([3.0, 1.0, 3.0, 2.0]))
    Array([3.5, 1. , 3.5, 2. ], dtype=float64)
    """
    _check_nan_policy("rankdata", nan_policy)
    if method not in _RANK_METHODS:
        raise ValueError(f"rankdata: unknown method {method!r}; use one of {', '.join(_RANK_METHODS)}")
    x = fnp.asarray(a)
    if axis is None:
        x = fnp.ravel(x)
        return _ranks(method)(x)[0] if x.shape[0] else fnp.zeros(0, "float64" if method == "average" else "int64")
    axis = normalize_axis("rankdata", axis, x.ndim)
    return fnp.moveaxis(_along(_ranks(method), x, axis)[0], -1, axis)


def sem(a, axis=0, ddof=1, nan_policy="propagate", *, keepdims=False):
    """The standard error of the mean, ``std(a, ddof) / sqrt(n)``, along ``axis`` (None: all values), as
    ``scipy.stats.sem``. Differentiable.

    >>> import fnx.numpy as fnp, fnx.scipy.stats as st
    >>> round(float(st.sem(fnp.array([1.0, 2.0, 4.0]))), 6)
    0.881917
    """
    _check_nan_policy("sem", nan_policy)
    x = fnp.asarray(a)
    n = x.size if axis is None else x.shape[normalize_axis("sem", axis, x.ndim)]
    return fnp.std(x, axis=axis, ddof=ddof, keepdims=keepdims) / math.sqrt(n)


def _most_common(v):
    ordered = fnp.sort(v)
    counts = fnp.searchsorted(ordered, ordered, side="right") - fnp.searchsorted(ordered, ordered, side="left")
    best = fnp.argmax(counts)  # the first of the most common: the smallest such value
    return ordered[best], counts[best]


def mode(a, axis=0, nan_policy="propagate", keepdims=False):
    """The most common value along ``axis`` (None: of all values) and how often it occurs, the smallest such
    value on ties, as ``scipy.stats.mode``: a ``ModeResult(mode, count)``.

    >>> import fnx.numpy as fnp, fnx.scipy.stats as st
    >>> st.mode(fnp.array([[1, 2, 2], [3, 3, 1]]), axis=1)
    ModeResult(mode=Array([2, 3], dtype=int64), count=Array([2, 2], dtype=int64))
    """
    _check_nan_policy("mode", nan_policy)
    x = fnp.asarray(a)
    ndim, of_all = x.ndim, axis is None
    if of_all:
        x, axis = fnp.ravel(x), 0
    axis = normalize_axis("mode", axis, x.ndim)
    if x.shape[axis] == 0:
        raise ValueError(f"mode: the axis {axis} of shape {x.shape} is empty")
    value, count = _along(_most_common, x, axis)
    if keepdims:  # of all values, every axis is kept with length 1
        kept = (1,) * ndim if of_all else value.shape[:axis] + (1,) + value.shape[axis:]
        value, count = fnp.reshape(value, kept), fnp.reshape(count, kept)
    return ModeResult(value, count)
