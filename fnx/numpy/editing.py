"""Construction and editing: index tricks (``mgrid``, ``r_``, ``ix_``...), diagonal indices, and the
functional forms of NumPy's editing functions (``insert``, ``delete``, ``put``, ``fill_diagonal``...).

fnx arrays are immutable, so every "editing" function returns a new array, as
in JAX. Where NumPy edits in place (``put``, ``fill_diagonal``) the caller must
say ``inplace=False``, as JAX requires, so that code that relied on the
mutation fails loudly instead of silently doing nothing. Positions (indices,
slices, masks) decide the output's shape, so they must be concrete; the data
and the inserted values are gathered, concatenated or scattered, so they
differentiate and trace. Nothing here is a primitive.
"""
import operator

import numpy as np

from ..core import dtypes
from ..errors import ImmutableError, ShapeError, TracerError
from . import creation, elementwise as el, shape as sh
from ._base import asarray, is_traced, normalize_axis
from .indexing import take, take_along_axis

__all__ = ["append", "delete", "insert", "resize", "choose", "put", "fill_diagonal", "diag_indices",
           "diag_indices_from", "tril_indices_from", "triu_indices_from", "ix_", "mgrid", "ogrid", "r_", "c_",
           "s_", "index_exp", "hsplit", "vsplit", "dsplit", "rollaxis", "block", "broadcast_shapes"]

s_, index_exp = np.s_, np.index_exp  # they build plain Python index tuples, nothing array-specific


def _static(opname, what, value):
    """``value`` as a numpy array, which must not be traced (it decides the output's shape)."""
    if is_traced(value):
        raise TracerError(f"{opname}: {what} is traced, but it decides the output's shape, so it must be a "
                          f"concrete value (a Python int, slice, list or numpy array)")
    return np.asarray(value)


def _inplace(opname, inplace):
    if inplace:
        raise ImmutableError(f"{opname}: fnx arrays are immutable, so {opname} cannot work in place; call "
                             f"{opname}(..., inplace=False) and use the returned array, as in JAX")


# ----- joining, cutting and reshaping -----------------------------------------------------------


def append(arr, values, axis=None):
    """``values`` joined to the end of ``arr`` along ``axis`` (both flattened when None), as ``numpy.append``.

    >>> import fnx.numpy as fnp
    >>> fnp.append(fnp.array([1, 2]), fnp.array([[3], [4]]))
    Array([1, 2, 3, 4], dtype=int64)
    """
    x, v = asarray(arr), asarray(values)
    if axis is None:
        return sh.concatenate([sh.ravel(x), sh.ravel(v)])
    return sh.concatenate([x, v], axis=axis)


def _axis_of(opname, x, axis):
    if axis is None:
        return sh.ravel(x), 0
    return x, normalize_axis(opname, axis, x.ndim)


def delete(arr, obj, axis=None, *, assume_unique_indices=False):
    """``arr`` without the entries ``obj`` (an int, slice, index list or boolean mask) along ``axis``
    (of the flattened array when None), as ``numpy.delete``; ``obj`` must be concrete.

    >>> import fnx.numpy as fnp
    >>> fnp.delete(fnp.array([[1, 2, 3], [4, 5, 6]]), [0, 2], axis=1)
    Array([[2],
           [5]], dtype=int64)
    """
    x, axis = _axis_of("delete", asarray(arr), axis)
    n = x.shape[axis]
    if not isinstance(obj, slice):
        idx = _static("delete", "obj", obj)
        if idx.size == 0:
            idx = idx.astype(np.int64)
        if idx.dtype.kind not in "iub" or (idx.dtype.kind == "b" and idx.shape != (n,)):
            raise IndexError(f"delete: obj must be integer indices or a boolean mask of length {n}, got {obj!r}")
        if idx.dtype.kind != "b" and idx.size and (idx.min() < -n or idx.max() >= n):
            raise IndexError(f"delete: index {obj!r} is out of bounds for axis {axis} with size {n}")
        obj = idx
    keep = np.delete(np.arange(n), obj)
    return take(x, keep, axis=axis)


def insert(arr, obj, values, axis=None):
    """``values`` inserted before the positions ``obj`` (an int, slice or index list, concrete) along
    ``axis`` (of the flattened array when None), as ``numpy.insert``; values are cast to ``arr``'s dtype.

    Differentiable in ``arr`` and ``values``.

    >>> import fnx.numpy as fnp
    >>> fnp.insert(fnp.array([1, 2, 3]), 1, fnp.array([8, 9]))
    Array([1, 8, 9, 2, 3], dtype=int64)
    """
    x, axis = _axis_of("insert", asarray(arr), axis)
    n, nd = x.shape[axis], x.ndim
    v = el.astype(asarray(values), x.dtype)
    idx = np.arange(n + 1)[obj] if isinstance(obj, slice) else _static("insert", "obj", obj)
    if idx.dtype.kind == "b":
        raise IndexError("insert: obj must be integer positions, not a boolean mask")
    if idx.dtype.kind not in "iu" and idx.size:
        raise IndexError(f"insert: obj must be integer positions, got {obj!r}")
    idx = idx.astype(np.int64)
    if idx.size and (idx.min() < -n or idx.max() > n):
        raise IndexError(f"insert: index {obj!r} is out of bounds for axis {axis} with size {n}")
    idx = np.where(idx < 0, idx + n, idx)

    def block(v, count):  # the inserted slab: x's shape with ``count`` along the axis
        return sh.broadcast_to(v, x.shape[:axis] + (count,) + x.shape[axis + 1:])

    if idx.size == 1 and not isinstance(obj, slice):
        v = sh.reshape(v, (1,) * (nd - v.ndim) + v.shape) if v.ndim < nd else v
        if idx.ndim == 0:  # a scalar position inserts a slab along the axis, not a row of it
            v = sh.moveaxis(v, 0, axis)
        count, at = v.shape[axis], int(idx.reshape(()))
        perm = np.concatenate([np.arange(at), n + np.arange(count), np.arange(at, n)])
    else:
        count = idx.size
        order = np.argsort(idx.ravel(), kind="stable")
        pos = idx.ravel().copy()
        pos[order] += np.arange(count)  # where each inserted value lands in the result
        perm = np.empty(n + count, np.int64)
        old = np.ones(n + count, bool)
        old[pos] = False
        perm[old], perm[pos] = np.arange(n), n + np.arange(count)
    return take(sh.concatenate([x, block(v, count)], axis=axis), perm, axis=axis)


def resize(a, new_shape):
    """An array of ``new_shape`` filled with ``a``'s elements repeated in order, as ``numpy.resize``.

    >>> import fnx.numpy as fnp
    >>> fnp.resize(fnp.array([1, 2, 3]), (2, 4))
    Array([[1, 2, 3, 1],
           [2, 3, 1, 2]], dtype=int64)
    """
    x = sh.ravel(asarray(a))
    shape = (operator.index(new_shape),) if np.ndim(new_shape) == 0 else tuple(operator.index(d) for d in new_shape)
    if any(d < 0 for d in shape):
        raise ValueError(f"resize: all dimensions of new_shape must be non-negative, got {shape}")
    size = int(np.prod(shape, dtype=np.int64))
    if x.shape[0] == 0 or size == 0:
        return creation.zeros(shape, dtype=x.dtype)
    return sh.reshape(take(x, np.arange(size) % x.shape[0]), shape)


def _split_at(opname, ary, sections, axis, min_ndim):
    x = asarray(ary)
    if x.ndim < min_ndim:
        raise ShapeError(f"{opname}: needs an array of at least {min_ndim} dimensions, got shape {x.shape}")
    return sh.split(x, sections, axis=axis)


def hsplit(ary, indices_or_sections):
    """Split along axis 1 (axis 0 of a 1-d array), as ``numpy.hsplit``.

    >>> import fnx.numpy as fnp
    >>> [p.shape for p in fnp.hsplit(fnp.ones((2, 4)), 2)]
    [(2, 2), (2, 2)]
    """
    x = asarray(ary)
    return _split_at("hsplit", x, indices_or_sections, 1 if x.ndim > 1 else 0, 1)


def vsplit(ary, indices_or_sections):
    """Split along axis 0 of an array of at least 2 dimensions, as ``numpy.vsplit``."""
    return _split_at("vsplit", ary, indices_or_sections, 0, 2)


def dsplit(ary, indices_or_sections):
    """Split along axis 2 of an array of at least 3 dimensions, as ``numpy.dsplit``."""
    return _split_at("dsplit", ary, indices_or_sections, 2, 3)


def rollaxis(a, axis, start=0):
    """``axis`` moved to sit before position ``start``, as ``numpy.rollaxis`` (prefer ``moveaxis``).

    >>> import fnx.numpy as fnp
    >>> fnp.rollaxis(fnp.ones((3, 4, 5)), 2).shape
    (5, 3, 4)
    """
    x = asarray(a)
    n = x.ndim
    axis = normalize_axis("rollaxis", axis, n)
    start = operator.index(start)
    if start < 0:
        start += n
    if not 0 <= start <= n:
        raise np.exceptions.AxisError(f"rollaxis: start {start} is out of bounds for an array of dimension {n}")
    if axis < start:
        start -= 1
    axes = [i for i in range(n) if i != axis]
    axes.insert(start, axis)
    return sh.transpose(x, axes)


def block(arrays):
    """An array assembled from nested lists of blocks, as ``numpy.block``: the innermost lists are joined
    along the last axis, the next ones along the second last, and so on.

    >>> import fnx.numpy as fnp
    >>> fnp.block([[fnp.eye(2), fnp.zeros((2, 1))], [fnp.ones((1, 2)), fnp.full((1, 1), 5.)]])
    Array([[1., 0., 0.],
           [0., 1., 0.],
           [1., 1., 5.]], dtype=float32)
    """
    def depth(x, path):
        if isinstance(x, tuple):
            raise TypeError(f"block: {path or 'arrays'} is a tuple; only lists may nest blocks")
        if not isinstance(x, list):
            return 0, asarray(x).ndim
        if not x:
            raise ValueError(f"block: {path or 'arrays'} is an empty list")
        found = [depth(y, f"{path or 'arrays'}[{i}]") for i, y in enumerate(x)]
        if len({d for d, _ in found}) > 1:
            raise ValueError(f"block: the lists inside {path or 'arrays'} are nested to different depths")
        return found[0][0] + 1, max(m for _, m in found)

    levels, most = depth(arrays, "")
    ndim = max(levels, most)

    def build(x, level):
        if not isinstance(x, list):
            x = asarray(x)
            return sh.reshape(x, (1,) * (ndim - x.ndim) + x.shape)
        return sh.concatenate([build(y, level + 1) for y in x], axis=level - levels)

    return build(arrays, 0)


def broadcast_shapes(*shapes):
    """The shape that arrays of ``shapes`` broadcast to, as ``numpy.broadcast_shapes``.

    >>> import fnx.numpy as fnp
    >>> fnp.broadcast_shapes((3, 1), (4,))
    (3, 4)
    """
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ShapeError(f"broadcast_shapes: shapes {', '.join(map(str, shapes))} do not broadcast") from None


# ----- picking and writing by position -----------------------------------------------------------


def choose(a, choices, out=None, mode="raise"):
    """``choices[a[i]][i]`` for every position ``i`` (all broadcast together), as ``numpy.choose``.

    ``mode``: ``'raise'`` (checked when ``a`` is concrete), ``'wrap'`` or
    ``'clip'``. Differentiable in the choices.

    >>> import fnx.numpy as fnp
    >>> fnp.choose(fnp.array([0, 1, 0]), [fnp.array([1, 2, 3]), fnp.array([10, 20, 30])])
    Array([ 1, 20,  3], dtype=int64)
    """
    from .shape import _no_out
    _no_out("choose", out)
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"choose: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    i = asarray(a)
    if i.dtype.kind not in "iub":
        raise TypeError(f"choose: a must hold integers, got {i.dtype}")
    cs = [asarray(c) for c in choices] if isinstance(choices, (list, tuple)) else list(asarray(choices))
    k = len(cs)
    if k == 0:
        raise ValueError("choose: choices must not be empty")
    *cs, i = sh.broadcast_arrays(*cs, el.astype(i, dtypes.int64))
    dt = dtypes.result_type(*cs)
    stacked = sh.stack([el.astype(c, dt) for c in cs])
    if mode == "wrap":
        i = i % k
    elif mode == "clip":
        i = el.clip(i, 0, k - 1)
    elif not is_traced(i) and np.any((np.asarray(i) < 0) | (np.asarray(i) >= k)):
        raise ValueError(f"choose: indices must be in [0, {k}) for {k} choices (use mode='wrap' or 'clip')")
    return sh.squeeze(take_along_axis(stacked, sh.expand_dims(i, 0), axis=0), 0)


def put(a, ind, v, mode=None, *, inplace=True):
    """``a`` with its flattened positions ``ind`` set to ``v`` (repeated as needed), as ``numpy.put``,
    returned as a new array: call it with ``inplace=False``, as in JAX.

    ``mode`` None or ``'raise'`` (concrete indices are checked), ``'wrap'`` or
    ``'clip'``. Differentiable in ``a`` and ``v``.

    >>> import fnx.numpy as fnp
    >>> fnp.put(fnp.zeros(4), [0, 2], fnp.array([5., 6.]), inplace=False)
    Array([5., 0., 6., 0.], dtype=float32)
    """
    _inplace("put", inplace)
    if mode not in (None, "raise", "wrap", "clip"):
        raise ValueError(f"put: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    x = asarray(a)
    flat = sh.ravel(x)
    n = flat.shape[0]
    i = sh.ravel(asarray(ind))
    if i.dtype.kind not in "iu":
        raise TypeError(f"put: indices must be integers, got {i.dtype}")
    if i.shape[0] == 0:
        return x
    vals = sh.ravel(el.astype(asarray(v), x.dtype))
    if vals.shape[0] == 0:
        return x
    vals = take(vals, np.arange(i.shape[0]) % vals.shape[0])
    if mode == "wrap":
        i = i % n
    elif mode == "clip":
        i = el.clip(i, 0, n - 1)
    elif not is_traced(i):
        iv = np.asarray(i)
        if np.any((iv < -n) | (iv >= n)):
            raise IndexError(f"put: an index in {iv.tolist()} is out of bounds for an array of size {n}")
    return sh.reshape(flat.at[i].set(vals), x.shape)


def fill_diagonal(a, val, wrap=False, *, inplace=True):
    """``a`` with its main diagonal set to ``val`` (repeated as needed), as ``numpy.fill_diagonal``,
    returned as a new array: call it with ``inplace=False``, as in JAX.

    ``a`` is 2-d, or has all dimensions equal; ``wrap`` continues the
    diagonal below a tall matrix's first square, as NumPy.

    >>> import fnx.numpy as fnp
    >>> fnp.fill_diagonal(fnp.zeros((2, 3)), 7., inplace=False)
    Array([[7., 0., 0.],
           [0., 7., 0.]], dtype=float32)
    """
    _inplace("fill_diagonal", inplace)
    x = asarray(a)
    if x.ndim < 2:
        raise ShapeError(f"fill_diagonal: the array must be at least 2-d, got shape {x.shape}")
    if x.ndim == 2:
        step, end = x.shape[1] + 1, None if wrap else x.shape[1] * x.shape[1]
    else:
        if len(set(x.shape)) != 1:
            raise ShapeError(f"fill_diagonal: all dimensions of an array of more than 2 must be equal, "
                             f"got shape {x.shape}")
        step, end = 1 + int(np.cumprod(x.shape[:-1]).sum()), None
    pos = np.arange(x.size)[:end:step]
    return put(x, pos, val, inplace=False)


# ----- index helpers -------------------------------------------------------------------------------


def diag_indices(n, ndim=2):
    """The index tuple of the main diagonal of an ``(n,) * ndim`` array, as ``numpy.diag_indices``.

    >>> import fnx.numpy as fnp
    >>> fnp.diag_indices(2)
    (Array([0, 1], dtype=int64), Array([0, 1], dtype=int64))
    """
    i = creation.arange(operator.index(n))
    return (i,) * operator.index(ndim)


def diag_indices_from(arr):
    """``diag_indices`` of an array whose dimensions are all equal (at least 2 of them)."""
    x = asarray(arr)
    if x.ndim < 2 or len(set(x.shape)) != 1:
        raise ShapeError(f"diag_indices_from: needs at least 2 equal dimensions, got shape {x.shape}")
    return diag_indices(x.shape[0], x.ndim)


def _tri_from(opname, fn, arr, k):
    x = asarray(arr)
    if x.ndim != 2:
        raise ShapeError(f"{opname}: needs a 2-d array, got shape {x.shape}")
    return fn(x.shape[0], k=k, m=x.shape[1])


def tril_indices_from(arr, k=0):
    """``tril_indices`` for the shape of the 2-d ``arr``.

    >>> import fnx.numpy as fnp
    >>> fnp.tril_indices_from(fnp.ones((2, 2)))
    (Array([0, 1, 1], dtype=int64), Array([0, 0, 1], dtype=int64))
    """
    return _tri_from("tril_indices_from", creation.tril_indices, arr, k)


def triu_indices_from(arr, k=0):
    """``triu_indices`` for the shape of the 2-d ``arr``."""
    return _tri_from("triu_indices_from", creation.triu_indices, arr, k)


def ix_(*args):
    """Open-mesh index arrays from 1-d sequences (booleans become their nonzero positions), as ``numpy.ix_``.

    >>> import fnx.numpy as fnp
    >>> [i.shape for i in fnp.ix_(fnp.array([0, 1]), fnp.array([2, 0, 1]))]
    [(2, 1), (1, 3)]
    """
    from .indexing import nonzero
    out = []
    for k, a in enumerate(args):
        x = asarray(a)
        if x.ndim != 1:
            raise ShapeError(f"ix_: argument {k} must be 1-d, got shape {x.shape}")
        if x.dtype == dtypes.bool_:
            x = nonzero(x)[0]
        elif x.dtype.kind not in "iu" and x.shape[0]:
            raise TypeError(f"ix_: argument {k} must hold integers or booleans, got {x.dtype}")
        elif x.shape[0] == 0:
            x = el.astype(x, dtypes.int64)
        out.append(sh.reshape(x, (1,) * k + (-1,) + (1,) * (len(args) - k - 1)))
    return tuple(out)


def _range(opname, s):
    """The 1-d array a slice stands for in ``mgrid``/``r_``: arange, or linspace for a complex step."""
    if not isinstance(s, slice):
        raise TypeError(f"{opname}: expected slices, got {s!r}")
    start = 0 if s.start is None else s.start
    step = 1 if s.step is None else s.step
    if isinstance(step, complex):
        return creation.linspace(start, s.stop, int(abs(step)))
    return creation.arange(start, s.stop, step)


class _Grid:
    """``mgrid[...]`` (dense) and ``ogrid[...]`` (open) as ``numpy.mgrid``/``numpy.ogrid``."""

    def __init__(self, sparse):
        self.sparse = sparse

    def __getitem__(self, key):
        name = "ogrid" if self.sparse else "mgrid"
        if isinstance(key, slice):
            return _range(name, key)
        axes = [_range(name, k) for k in key]
        dt = dtypes.result_type(*axes)
        grids = creation.meshgrid(*[el.astype(a, dt) for a in axes], indexing="ij", sparse=self.sparse)
        return grids if self.sparse else sh.stack(grids)


mgrid, ogrid = _Grid(False), _Grid(True)


class _Concatenator:
    """``r_[...]`` and ``c_[...]``: slices, scalars and arrays joined along an axis, as NumPy's.

    A leading string ``"axis"``, ``"axis,ndmin"`` or ``"axis,ndmin,trans1d"``
    sets how pieces are shaped and joined; the matrix directives ``"r"`` and
    ``"c"`` are not supported.
    """

    def __init__(self, axis, ndmin, trans1d):
        self.defaults = (axis, ndmin, trans1d)

    def __getitem__(self, key):
        key = key if isinstance(key, tuple) else (key,)
        axis, ndmin, trans1d = self.defaults
        if key and isinstance(key[0], str):
            directive, key = key[0], key[1:]
            if directive in ("r", "c"):
                raise NotImplementedError(f"r_/c_: the matrix directive {directive!r} is not supported")
            try:
                parts = [int(p) for p in directive.split(",")]
            except ValueError:
                raise ValueError(f"r_/c_: unknown directive {directive!r}") from None
            if not 1 <= len(parts) <= 3:
                raise ValueError(f"r_/c_: the directive {directive!r} has more than 3 numbers")
            axis, ndmin, trans1d = parts + [ndmin, trans1d][len(parts) - 1:]
        pieces = []
        for item in key:
            if isinstance(item, str):
                raise ValueError("r_/c_: a string directive may only come first")
            if isinstance(item, slice):
                x = _range("r_", item)
                x = sh.reshape(x, (1,) * max(ndmin - 1, 0) + x.shape)
                if trans1d != -1 and x.ndim > 1:
                    x = sh.swapaxes(x, -1, trans1d)
            else:
                x = asarray(item)
                nd = x.ndim
                if nd < ndmin:
                    x = sh.reshape(x, (1,) * (ndmin - nd) + x.shape)
                    if trans1d != -1:
                        k2, k1 = ndmin - nd, trans1d
                        if k1 < 0:
                            k1 += k2 + 1
                        axes = list(range(ndmin))
                        x = sh.transpose(x, axes[:k1] + axes[k2:] + axes[k1:k2])
            pieces.append(sh.atleast_1d(x))
        if not pieces:
            return creation.zeros((0,))
        return sh.concatenate(pieces, axis=axis)


r_ = _Concatenator(0, 1, -1)
c_ = _Concatenator(-1, 2, 0)
