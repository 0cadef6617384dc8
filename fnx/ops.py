"""``jax.ops``: reductions of the rows of ``data`` grouped by segment id (graph networks, ragged batches).

``segment_sum(data, segment_ids, num_segments)`` gives ``out[k]``, the sum of the rows ``data[i]`` whose
``segment_ids[i] == k``; an id outside ``[0, num_segments)`` is dropped, as in JAX. Without
``num_segments`` it is ``max(segment_ids) + 1``, which needs concrete ids (pass it under ``jit``). Each is
a scatter (``x.at[ids].add``...), so all of them differentiate in ``data`` and batch under ``vmap``.

>>> import fnx, fnx.numpy as fnp
>>> fnx.ops.segment_sum(fnp.array([1.0, 2.0, 3.0, 4.0]), fnp.array([0, 0, 2, 1]), num_segments=3)
Array([3., 4., 3.], dtype=float32)
"""
import numpy as np

from . import numpy as fnp
from .core.trace import Tracer, concreteness_error
from .errors import ShapeError

__all__ = ["segment_sum", "segment_prod", "segment_max", "segment_min"]


def _segments(fname, data, segment_ids, num_segments):
    x, ids = fnp.asarray(data), fnp.asarray(segment_ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"{fname}: segment_ids must be integers, got {ids.dtype}")
    if ids.ndim != 1 or x.ndim < 1 or ids.shape[0] != x.shape[0]:
        raise ShapeError(f"{fname}: segment_ids must be 1-d with one id per row of data; got ids of shape "
                         f"{ids.shape} for data of shape {x.shape}")
    if num_segments is None:
        if isinstance(ids, Tracer):
            raise concreteness_error(ids._main.name, fname, "The largest id decides the output's length, so it "
                                     "cannot be traced; pass num_segments")
        num_segments = int(ids.max()) + 1 if ids.size else 0
    return x, ids, int(num_segments)


def _identity(dtype, largest):
    if dtype.kind == "f":
        return np.inf if largest else -np.inf
    if dtype.kind == "b":
        return largest
    info = np.iinfo(dtype)
    return info.max if largest else info.min


def segment_sum(data, segment_ids, num_segments=None, indices_are_sorted=False, unique_indices=False,
                bucket_size=None, mode=None):
    """The sum of the rows of each segment (0 for an empty one)."""
    x, ids, n = _segments("segment_sum", data, segment_ids, num_segments)
    return fnp.zeros((n,) + x.shape[1:], x.dtype, device=x.device).at[ids].add(x, mode="drop")


def segment_prod(data, segment_ids, num_segments=None, indices_are_sorted=False, unique_indices=False,
                 bucket_size=None, mode=None):
    """The product of the rows of each segment (1 for an empty one)."""
    x, ids, n = _segments("segment_prod", data, segment_ids, num_segments)
    return fnp.ones((n,) + x.shape[1:], x.dtype, device=x.device).at[ids].multiply(x, mode="drop")


def segment_max(data, segment_ids, num_segments=None, indices_are_sorted=False, unique_indices=False,
                bucket_size=None, mode=None):
    """The elementwise maximum of the rows of each segment (-inf, or the dtype's minimum, for an empty one)."""
    x, ids, n = _segments("segment_max", data, segment_ids, num_segments)
    start = fnp.full((n,) + x.shape[1:], _identity(x.dtype, False), x.dtype, device=x.device)
    return start.at[ids].max(x, mode="drop")


def segment_min(data, segment_ids, num_segments=None, indices_are_sorted=False, unique_indices=False,
                bucket_size=None, mode=None):
    """The elementwise minimum of the rows of each segment (inf, or the dtype's maximum, for an empty one)."""
    x, ids, n = _segments("segment_min", data, segment_ids, num_segments)
    start = fnp.full((n,) + x.shape[1:], _identity(x.dtype, True), x.dtype, device=x.device)
    return start.at[ids].min(x, mode="drop")
