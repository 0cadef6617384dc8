"""Functional programming over arrays: vectorize, apply_along_axis, apply_over_axes, piecewise, fromfunction.

NumPy writes these as Python loops over slices. Here, as in ``jax.numpy``, the
loop is a ``vmap``: ``vectorize`` parses a generalised-ufunc signature such as
``"(m,n),(n)->(m)"``, moves nothing, and wraps the function in one ``vmap`` per
broadcast (loop) dimension, each mapping only the arguments that vary along it.
So the function is traced once, whatever the batch size, and the result
differentiates and batches like any other composition. ``piecewise`` evaluates
every branch on the whole input and selects with ``where``; later conditions
take precedence, as in NumPy's loop.
"""
import operator
import re

import numpy as np

from ..errors import ShapeError
from . import elementwise as el, shape as sh
from ._base import asarray, normalize_axis

__all__ = ["vectorize", "apply_along_axis", "apply_over_axes", "piecewise", "fromfunction"]

_DIM = r"\w+"
_ARG = r"\((?:{0}(?:,{0})*)?\)".format(_DIM)
_ARGS = "{0}(?:,{0})*".format(_ARG)
_SIGNATURE = "^{0}->{0}$".format(_ARGS)


def _vmap(f, in_axes, out_axes=0):
    from ..transforms.vmap import vmap
    return vmap(f, in_axes=in_axes, out_axes=out_axes)


def _parse_signature(signature):
    """``"(m,n),(n)->(m)"`` -> ``([("m", "n"), ("n",)], [("m",)])``."""
    if not re.match(_SIGNATURE, signature.replace(" ", "")):
        raise ValueError(f"vectorize: not a valid gufunc signature: {signature!r}")
    return tuple([tuple(re.findall(_DIM, arg)) for arg in re.findall(_ARG, side)]
                 for side in signature.replace(" ", "").split("->"))


def _core_sizes(sizes, shape, core, where, is_input):
    """Checks one argument's (or result's) core dimensions against the sizes seen so far, and records new ones."""
    if is_input and len(shape) < len(core):
        raise ShapeError(f"vectorize: {where} of shape {shape} has fewer dimensions than its core dimensions {core}")
    if not is_input and len(shape) != len(core):
        raise ShapeError(f"vectorize: {where} has shape {shape}, which does not match its core dimensions {core}")
    for name, size in zip(core, shape[len(shape) - len(core):]):
        if sizes.setdefault(name, size) != size:
            raise ShapeError(f"vectorize: core dimension {name!r} has size {size} in {where} but {sizes[name]} "
                             f"elsewhere")


def _with_excluded(f, excluded, args, kwargs):
    """``f`` with the excluded positional and keyword arguments bound, and the remaining arguments."""
    fixed = [(i, args[i]) for i in sorted(e for e in excluded if isinstance(e, int)) if i < len(args)]
    fixed_kw = {k: v for k, v in kwargs.items() if k in excluded}
    if not fixed and not fixed_kw:
        return f, list(args), kwargs

    def bound(*dynamic, **kw):
        full = list(dynamic)
        for i, value in fixed:
            full.insert(i, value)
        return f(*full, **kw, **fixed_kw)
    return (bound, [a for i, a in enumerate(args) if i not in excluded],
            {k: v for k, v in kwargs.items() if k not in excluded})


def vectorize(pyfunc, *, excluded=frozenset(), signature=None):
    """``pyfunc`` broadcast over leading (loop) dimensions with ``vmap``, as ``jax.numpy.vectorize``.

    Without ``signature`` the function sees 0-d arrays. With one, such as
    ``"(n),(n)->()"``, each argument gets its named trailing core dimensions and
    the results must have theirs (a tuple of results for several outputs).
    ``excluded`` names positional indices (or keyword names) passed through
    unvectorized; keyword arguments not excluded are passed as they are. Loop
    dimensions broadcast as in NumPy; a size-1 dimension is not mapped. The
    function is traced once, so it must be written with fnx operations;
    the result is differentiable wherever ``pyfunc`` is.

    Raises:
      ValueError: for a malformed signature or negative ``excluded`` index.
      ShapeError: when core dimensions disagree or loop dimensions do not broadcast.

    >>> import fnx.numpy as fnp
    >>> dot = fnp.vectorize(lambda a, b: fnp.sum(a * b), signature="(n),(n)->()")
    >>> dot(fnp.ones((2, 3)), fnp.array([1., 2., 3.]))
    Array([6., 6.], dtype=float32)
    """
    excluded = frozenset(excluded)
    if any(not isinstance(e, (int, str)) or isinstance(e, bool) for e in excluded):
        raise TypeError(f"vectorize: excluded may only hold integers and strings, got {set(excluded)!r}")
    if any(isinstance(e, int) and e < 0 for e in excluded):
        raise ValueError(f"vectorize: excluded={set(excluded)!r} holds a negative index")
    parsed = _parse_signature(signature) if signature is not None else None

    def wrapped(*args, **kwargs):
        func, args, kwargs = _with_excluded(pyfunc, excluded, args, kwargs)
        in_core, out_core = parsed if parsed is not None else ([()] * len(args), None)
        if len(in_core) != len(args):
            raise TypeError(f"vectorize: signature {signature!r} takes {len(in_core)} array arguments, "
                            f"got {len(args)}")
        nones = {i for i, a in enumerate(args) if a is None}
        if nones:  # None cannot be mapped; it is passed through like an excluded argument
            if any(in_core[i] for i in nones):
                raise ValueError(f"vectorize: None given at positions {sorted(nones)} that have core dimensions "
                                 f"in {signature!r}")
            func, args, _ = _with_excluded(func, nones, args, {})
            in_core = [c for i, c in enumerate(in_core) if i not in nones]
        args = [asarray(a) for a in args]
        sizes = {}
        for k, (a, core) in enumerate(zip(args, in_core)):
            _core_sizes(sizes, a.shape, core, f"argument {k}", True)
        loops = [a.shape[:a.ndim - len(core)] for a, core in zip(args, in_core)]
        try:
            loop_shape = np.broadcast_shapes(*loops) if loops else ()
        except ValueError:
            raise ShapeError(f"vectorize: loop dimensions {loops} of the arguments do not broadcast") from None

        if out_core is not None:
            inner = func

            def func(*a, **kw):
                out = inner(*a, **kw)
                outs = out if isinstance(out, tuple) else (out,)
                if len(out_core) > 1 and not isinstance(out, tuple):
                    raise TypeError(f"vectorize: signature {signature!r} has {len(out_core)} outputs; the "
                                    f"function must return a tuple")
                if len(outs) != len(out_core):
                    raise TypeError(f"vectorize: signature {signature!r} has {len(out_core)} outputs, the function "
                                    f"returned {len(outs)}")
                seen = dict(sizes)
                for k, (o, core) in enumerate(zip(outs, out_core)):
                    _core_sizes(seen, tuple(np.shape(o)), core, f"output {k}", False)
                return out

        # Drop each argument's size-1 loop dimensions, then map each loop dimension (from the last) over the
        # arguments that vary along it; a dimension no argument varies along is put back at the end.
        squeezed, padded = [], []
        for a, loop in zip(args, loops):
            squeezed.append(sh.squeeze(a, tuple(i for i, d in enumerate(loop) if d == 1)))
            padded.append((1,) * (len(loop_shape) - len(loop)) + loop)
        expand = []
        mapped = (lambda *a: func(*a, **kwargs)) if kwargs else func
        for axis in reversed(range(len(loop_shape))):
            in_axes = tuple(None if p[axis] == 1 else 0 for p in padded)
            if all(ax is None for ax in in_axes):
                expand.append(axis)
            else:
                mapped = _vmap(mapped, in_axes)
        out = mapped(*squeezed)
        if not expand:
            return out
        expand = tuple(sorted(expand))
        if isinstance(out, tuple):
            return tuple(sh.expand_dims(o, expand) for o in out)
        return sh.expand_dims(asarray(out), expand)

    wrapped.__name__ = getattr(pyfunc, "__name__", "vectorized")
    wrapped.__doc__ = getattr(pyfunc, "__doc__", None)
    wrapped.__wrapped__ = pyfunc
    return wrapped


def apply_along_axis(func1d, axis, arr, *args, **kwargs):
    """``func1d`` applied to the 1-d slices of ``arr`` along ``axis``, as ``numpy.apply_along_axis``.

    The dimensions of ``func1d``'s result take the place of ``axis``. The
    slices are mapped with ``vmap``, so ``func1d`` is traced once and must use
    fnx operations; extra ``args``/``kwargs`` are passed to every call.

    >>> import fnx.numpy as fnp
    >>> fnp.apply_along_axis(lambda v: v[0] + v[-1], 1, fnp.array([[1., 2., 3.], [4., 5., 6.]]))
    Array([ 4., 10.], dtype=float32)
    """
    x = asarray(arr)
    axis = normalize_axis("apply_along_axis", axis, x.ndim)

    def func(v):
        return func1d(v, *args, **kwargs)
    for i in range(1, x.ndim - axis):
        func = _vmap(func, i, -1)
    for _ in range(axis):
        func = _vmap(func, 0, 0)
    return func(x)


def apply_over_axes(func, a, axes):
    """``func(a, axis)`` applied for each axis in turn, keeping the number of dimensions, as
    ``numpy.apply_over_axes``: a result with one dimension fewer gets ``axis`` back as size 1.

    >>> import fnx.numpy as fnp
    >>> fnp.apply_over_axes(fnp.sum, fnp.ones((2, 3, 4)), [0, 2])
    Array([[[8.],
            [8.],
            [8.]]], dtype=float32)
    """
    x = asarray(a)
    for axis in ((axes,) if np.ndim(axes) == 0 else axes):
        axis = normalize_axis("apply_over_axes", operator.index(axis), x.ndim)
        out = asarray(func(x, axis))
        if out.ndim == x.ndim - 1:
            out = sh.expand_dims(out, axis)
        elif out.ndim != x.ndim:
            raise ShapeError(f"apply_over_axes: func must keep the {x.ndim} dimensions of its input or drop one "
                             f"(axis {axis}); it returned shape {out.shape}")
        x = out
    return x


def piecewise(x, condlist, funclist, *args, **kw):
    """A function defined piece by piece, as ``numpy.piecewise``.

    ``funclist[i]`` (a function of ``x``, ``*args``, ``**kw``, or a constant)
    gives the values where ``condlist[i]`` holds; a last extra entry gives them
    where no condition holds (0 otherwise). Where several conditions hold the
    last one wins. Each function is evaluated on the whole of ``x`` and the
    result has ``x``'s dtype. Differentiable in ``x`` through the functions.

    Raises:
      ValueError: when ``funclist`` has neither ``len(condlist)`` nor ``len(condlist) + 1`` entries.

    >>> import fnx.numpy as fnp
    >>> x = fnp.array([-2., -1., 0., 1., 2.])
    >>> fnp.piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v ** 2])
    Array([2., 1., 0., 1., 4.], dtype=float32)
    """
    x = asarray(x)
    if np.isscalar(condlist) or getattr(condlist, "ndim", None) == 0 or (
            isinstance(condlist, (list, tuple)) and condlist and x.ndim != 0
            and not isinstance(condlist[0], (list, tuple)) and np.ndim(condlist[0]) == 0):
        condlist = [condlist]
    conds = [el.astype(asarray(c), np.bool_) for c in condlist]
    funclist = list(funclist)
    nc, nf = len(conds), len(funclist)
    if nf not in (nc, nc + 1):
        raise ValueError(f"piecewise: with {nc} condition(s), {nc} or {nc + 1} functions are expected; got {nf}")
    for c in conds:
        if c.shape != x.shape:
            try:
                np.broadcast_shapes(c.shape, x.shape)
            except ValueError:
                raise ShapeError(f"piecewise: condition of shape {c.shape} does not fit x of shape {x.shape}") \
                    from None

    def value(f):
        v = f(x, *args, **kw) if callable(f) else f
        return sh.broadcast_to(el.astype(asarray(v), x.dtype), x.shape)

    out = value(funclist[nc]) if nf == nc + 1 else sh.broadcast_to(el.astype(asarray(0), x.dtype), x.shape)
    for c, f in zip(conds, funclist):
        out = el.where(c, value(f), out)
    return out


def fromfunction(function, shape, *, dtype=float, **kwargs):
    """An array of ``shape`` whose entry at index ``(i, j, ...)`` is ``function(i, j, ...)``, as
    ``jax.numpy.fromfunction``.

    As in JAX, ``function`` is mapped over the index grids with ``vmap``, so it
    sees one index per argument and the result always has ``shape`` (NumPy calls
    it once on whole grids, which agrees for elementwise functions). The indices
    have ``dtype`` (float is the default float); ``kwargs`` go to ``function``.

    >>> import fnx.numpy as fnp
    >>> fnp.fromfunction(lambda i, j: i + 10 * j, (2, 3), dtype=int)
    Array([[ 0, 10, 20],
           [ 1, 11, 21]], dtype=int64)
    """
    from .creation import arange
    shape = (operator.index(shape),) if np.ndim(shape) == 0 else tuple(operator.index(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"fromfunction: negative dimensions are not allowed, got shape {shape}")
    f = (lambda *idx: function(*idx, **kwargs)) if kwargs else function
    for i in range(len(shape)):
        in_axes = [0 if i == j else None for j in range(len(shape))]
        f = _vmap(f, tuple(in_axes[::-1]))
    return f(*(arange(s, dtype=dtype) for s in shape))
