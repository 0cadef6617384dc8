"""``vmap``: vectorising a function over a batch axis.

A :class:`BatchTracer` carries a value and ``bdim``, the axis of that value
along which the batch runs (or ``None``, *not mapped*, for a value shared by
every example). A primitive that meets one is handed to its own batching rule,
``prim.batch(values, bdims, **params) -> (out, out_bdim)``, which computes the
whole batch with one call of the primitive (or a few), moving the batch axis
where the primitive needs it. Nothing here loops over examples, and nothing
here knows any primitive by name: the rules live with the primitives.

A batched value has no single concrete value, so turning one into a Python
``bool``/``int``/``float`` (an ``if`` on it) raises, pointing to ``fnp.where``.
"""
import functools

from ..core import tree as tree_util
from ..core.array import Array
from ..core.trace import Trace, Tracer, new_main
from ..errors import ShapeError, TreeError, conversion_error


class BatchTracer(Tracer):
    __slots__ = ("val", "bdim")

    def __init__(self, main, val, bdim):
        self._main, self.val, self.bdim = main, val, bdim

    @property
    def primal(self):
        return self.val

    @property
    def shape(self):
        s = self.val.shape
        return s[:self.bdim] + s[self.bdim + 1:]

    @property
    def dtype(self):
        return self.val.dtype

    def _concrete(self, what):
        raise conversion_error(what,
            f"{what}: this value is batched by vmap (one value per example), so it has no single "
            f"concrete value; Python control flow on it cannot be vectorised. Compute both branches and "
            f"select with fnx.numpy.where(condition, x, y), or move the test outside the vmapped function")

    def __repr__(self):
        return f"Batched<{self.dtype}{list(self.shape)}, axis {self.bdim}> by vmap"


class BatchTrace(Trace):
    __slots__ = ()

    def process(self, prim, args, params):
        main = self.main
        vals, bdims = [], []
        batched = False
        for a in args:
            if type(a) is BatchTracer and a._main is main:
                vals.append(a.val)
                bdims.append(a.bdim)
                batched = True
            else:
                vals.append(a)
                bdims.append(None)
        if not batched:
            return prim.bind(*vals, **params)
        if prim.collective:
            out, out_bdim = prim.batch(vals, bdims, main.data, **params)
        else:
            out, out_bdim = prim.batch(vals, bdims, **params)
        if prim.multiple_results:
            return tuple(self._box(o, d) for o, d in zip(out, out_bdim))
        return self._box(out, out_bdim)

    def _box(self, val, bdim):
        return val if bdim is None else BatchTracer(self.main, val, bdim)


def _moveaxis(x, src, dst):
    from .. import numpy as fnp
    return x if src == dst else fnp.moveaxis(x, src, dst)


def vmap(f, in_axes=0, out_axes=0, axis_name=None, axis_size=None, spmd_axis_name=None):
    """Vectorises ``f`` over an axis of its inputs (``jax.vmap``).

    Args:
      f: a function of pytrees of arrays.
      in_axes: an int, None (not batched) or a pytree prefix of the positional
        arguments giving each one's batch axis (negative counts from the end).
        Keyword arguments are batched along axis 0.
      out_axes: the same for the outputs; unbatched outputs are broadcast.
      axis_name: a name for the batch axis, which the collectives of
        :mod:`fnx.lax` (``psum``, ``pmean``, ``pmax``, ``pmin``,
        ``all_gather``, ``axis_index``) use to reduce or gather across the
        examples (the innermost ``vmap`` of that name).
      axis_size: the batch size, needed only when no input is batched.
      spmd_axis_name: accepted for JAX's signature; there is no device mesh to
        partition over here, so it changes nothing.

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.vmap(lambda x, y: fnp.sum(x * y), in_axes=(0, None))(fnp.ones((3, 2)), fnp.ones(2))
    Array([2., 2., 2.], dtype=float32)
    """
    from .. import numpy as fnp
    if not callable(f):
        raise TypeError(f"vmap: expected a callable value, got {f!r}")
    if not (in_axes is None or isinstance(in_axes, (int, tuple, list))) or isinstance(in_axes, bool):
        raise TypeError(f"vmap: in_axes must be an int, None, or a tuple of entries corresponding to the "
                        f"positional arguments passed to the function, but got {in_axes!r}")
    _check_axes(in_axes, "in_axes")
    _check_axes(out_axes, "out_axes")

    @functools.wraps(f)
    def vmapped(*args, **kwargs):
        if isinstance(in_axes, list):
            axes_prefix = tuple(in_axes)
        else:
            axes_prefix = in_axes
        if isinstance(axes_prefix, tuple) and len(axes_prefix) != len(args):
            raise TreeError(f"vmap: in_axes has {len(axes_prefix)} entries but the function was called with "
                            f"{len(args)} positional arguments")
        if not isinstance(axes_prefix, tuple):
            axes_prefix = (axes_prefix,) * len(args)
        flat, in_tree = tree_util.flatten((args, kwargs))
        axes = tree_util.broadcast_prefix((axes_prefix, {k: 0 for k in kwargs}), (args, kwargs), "vmap in_axes")
        flat = [fnp.asarray(x) if ax is not None else x for x, ax in zip(flat, axes)]
        size = _batch_size(flat, axes, axis_size, in_tree)
        with new_main(BatchTrace, "vmap", (axis_name, size)) as main:
            boxed = []
            for x, ax in zip(flat, axes):
                if ax is None:
                    boxed.append(x)
                else:
                    ax = _normalize(ax, x.ndim, "in_axes")
                    boxed.append(BatchTracer(main, x, ax))
            a, kw = in_tree.unflatten(boxed)
            out = f(*a, **kw)
        out_flat, out_tree = tree_util.flatten(out)
        oaxes = tree_util.broadcast_prefix(out_axes, out, "vmap out_axes")
        results = []
        for o, ax in zip(out_flat, oaxes):
            if type(o) is BatchTracer and o._main is main:
                if ax is None:
                    raise ValueError("vmap: an output with out_axes=None is batched (it differs between "
                                     "examples); give it a batch axis or make it independent of the batch")
                val, bdim = o.val, o.bdim
            else:
                if ax is None:  # unmapped and unbatched: the output as the function gave it, as JAX's
                    results.append(o)
                    continue
                val, bdim = fnp.asarray(o), None
                val, bdim = fnp.broadcast_to(fnp.expand_dims(val, 0), (size,) + val.shape), 0
            results.append(_moveaxis(val, bdim, _normalize(ax, val.ndim, "out_axes")))
        return out_tree.unflatten(results)

    return vmapped


def _check_axes(axes, what):
    """Every leaf of an in_axes/out_axes prefix is an int or None (a bool is neither), as jax.vmap checks
    when it is called."""
    for leaf in tree_util.leaves(axes):  # None is an empty subtree: only the ints are leaves
        if not isinstance(leaf, int) or isinstance(leaf, bool):
            raise TypeError(f"vmap: {what} entries must be ints or None, got {leaf!r} in {axes!r}")


def _normalize(ax, ndim, what):
    if not isinstance(ax, int):
        raise TypeError(f"vmap: {what} entries must be ints or None, got {ax!r}")
    if not -ndim <= ax < ndim:
        raise ValueError(f"vmap: {what} axis {ax} is out of range for an array of {ndim} dimensions")
    return ax % ndim


def _batch_size(flat, axes, axis_size, in_tree):
    sizes = {}
    paths = [p for p, _ in tree_util.raw_leaves_with_path(in_tree.unflatten(list(range(len(flat)))))]
    for i, (x, ax) in enumerate(zip(flat, axes)):
        if ax is None:
            continue
        if not isinstance(x, Array):
            raise TypeError(f"vmap: argument {_describe(paths[i])} is batched but is a {type(x).__name__}, "
                            f"not an array")
        if x.ndim == 0:
            raise ShapeError(f"vmap: argument {_describe(paths[i])} is a scalar but in_axes asks for axis {ax}")
        sizes.setdefault(x.shape[_normalize(ax, x.ndim, "in_axes")], []).append(_describe(paths[i]))
    if len(sizes) > 1:
        detail = "; ".join(f"size {n}: {', '.join(who)}" for n, who in sizes.items())
        raise ShapeError(f"vmap got inconsistent batch sizes along the mapped axes: {detail}")
    if sizes:
        size = next(iter(sizes))
        if axis_size is not None and axis_size != size:
            raise ShapeError(f"vmap: axis_size={axis_size} but the batched inputs have size {size}")
        return size
    if axis_size is None:
        raise ValueError("vmap: no argument is batched (all in_axes are None); pass axis_size")
    return axis_size


def _describe(path):
    (kind, *rest) = path
    head = f"args[{rest[0]}]" if kind == 0 else f"kwargs[{rest[0]!r}]"
    return head + "".join(f"[{k!r}]" for k in rest[1:])
