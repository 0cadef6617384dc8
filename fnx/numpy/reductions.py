"""Reductions: sums, products, extrema, statistics and cumulative operations.

A reduction primitive takes its axes as a sorted tuple of non-negative ints and
always drops them; the public function normalises ``axis`` (None, an int, a
negative int or a tuple), widens integer accumulators the way NumPy does, and
puts ``keepdims`` axes back with a reshape, so the rules only ever meet one form.

Every reduction's cotangent flows back the same way: reshape it to keep the
reduced axes as ones, broadcast it over the input (``_restore``) and weight it
by the derivative of the reduction at each element. For a sum the weight is 1;
for a product it is the product of the *other* elements of the slice, computed
without dividing by zero; for a maximum it is 1/k at each of the k elements
that attain the maximum and 0 elsewhere, so ties share the derivative evenly
(as JAX does). Statistics (``mean``, ``var``, ``std``, ``nansum``...) are
compositions of these primitives and differentiate through them; the NaN-aware
ones select with ``where`` before reducing, so a NaN never reaches a gradient.

Under vmap the batch axis is one more axis that no reduction touches: each rule
leaves it where it is and renumbers the reduced axes around it, so batching
costs no transpose. Only ``argmax``/``argmin`` over all axes (``axis=None``)
move it first, to flatten each example's own axes behind it.
"""
import builtins
import math

import numpy as np

from ..core import dtypes
from ..core.array import Array, wrap
from ..core.primitive import ShapedArray, defprim
from ..errors import ImmutableError, ShapeError, ShapeTypeError
from . import elementwise as el, shape as sh
from ._base import asarray, linear_jvp, normalize_axes, normalize_axis, not_differentiable, same_shape

__all__ = ["sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std", "all", "any",
           "cumsum", "cumprod", "nansum", "nanmean", "nanprod", "nancumsum", "nancumprod", "ptp", "average", "count_nonzero", "cumulative_sum",
           "cumulative_prod", "nanmax", "nanmin", "nanargmax", "nanargmin", "nanvar", "nanstd", "allclose",
           "array_equal", "array_equiv"]

_ndarray = np.ndarray


def _reduced_shape(shape, axes):
    return tuple(d for i, d in enumerate(shape) if i not in axes)


# The primitives keep their input's dtype (impls pass ``dtype=x.dtype`` so numpy
# does not widen small ints); the public functions choose the accumulator first.
def _reduce_shape(x, *, axes):
    return ShapedArray(_reduced_shape(x.shape, axes), x.dtype)


def _kept_shape(shape, axes):
    return tuple(1 if i in axes else d for i, d in enumerate(shape))


def _past(axis, bdim):
    """A logical axis, counted in the batched value whose batch axis is ``bdim``."""
    return axis + (axis >= bdim)


def _reduce_batch(prim):
    """Rule of a reduction over ``axes``: the batch axis stays, shifted left by the reduced axes before it."""
    def rule(vals, bdims, *, axes):
        (x,), (d,) = vals, bdims
        return prim.bind(x, axes=tuple(_past(a, d) for a in axes)), d - builtins.sum(a < d for a in axes)
    return rule


def _along_batch(prim):
    """Rule of an operation along one ``axis`` that keeps the shape: the batch axis stays where it is."""
    def rule(vals, bdims, *, axis, **params):
        (x,), (d,) = vals, bdims
        return prim.bind(x, axis=_past(axis, d), **params), d
    return rule


def _restore(y, x_shape, axes):
    """A reduced value (a cotangent, the output) broadcast back over the reduced axes."""
    return sh.broadcast_to(sh.reshape(y, _kept_shape(x_shape, axes)), x_shape)


# ----- sum and product ---------------------------------------------------------------------------

def _sum_impl(xp, x, *, axes):
    if xp is np:  # the ufunc method itself: numpy.sum's Python wrapper costs as much as a small sum
        return np.add.reduce(x, axis=axes, dtype=x.dtype)
    return xp.sum(x, axis=axes, dtype=x.dtype)


sum_p = defprim("reduce_sum", impl=_sum_impl, shape=_reduce_shape,
                vjp=lambda ct, x, *, out, axes: (_restore(ct, x.shape, axes),), residuals=())
sum_p.jvp = linear_jvp(sum_p)
sum_p.batch = _reduce_batch(sum_p)


def _prod_others(x, out, axes):
    """For each element, the product of the other elements of its slice, with no division by zero.

    Where ``x`` is nonzero that is ``out / x``. Where ``x`` is the slice's only
    zero it is the product of the nonzero rest; where the slice holds several
    zeros it is 0. Written in fnx ops, this is exact to first order always and to
    second order when a slice holds at most one zero; the second derivative of
    ``out / x`` adds two terms of size 1/x that cancel, so it loses precision
    for nonzero |x| below about 1e-12.
    """
    zero = el.equal(x, 0.0)
    safe = el.where(zero, 1.0, x)
    n_zero = _restore(sum_p.bind(el.astype(zero, x.dtype), axes=axes), x.shape, axes)
    rest = _restore(prod_p.bind(safe, axes=axes), x.shape, axes)
    return el.where(zero, el.where(el.equal(n_zero, 1.0), rest, 0.0), _restore(out, x.shape, axes) / safe)


def _prod_jvp(primals, tangents, *, axes):
    (x,), (t,) = primals, tangents
    out = prod_p.bind(x, axes=axes)
    return out, sum_p.bind(t * _prod_others(x, out, axes), axes=axes)


prod_p = defprim("reduce_prod", impl=lambda xp, x, *, axes: xp.prod(x, axis=axes, dtype=x.dtype), shape=_reduce_shape,
                 jvp=_prod_jvp,
                 vjp=lambda ct, x, *, out, axes: (_restore(ct, x.shape, axes) * _prod_others(x, out, axes),))
prod_p.batch = _reduce_batch(prod_p)

# ----- extrema --------------------------------------------------------------------------------------


def _top_gap(xp, v):
    """The gap between the two largest entries along ``v``'s last axis (0 on a tie, inf when fewer than
    two compete): how far a maximum over that axis is from changing hands. A ``kinks`` helper."""
    if v.shape[-1] < 2:
        return xp.full(v.shape[:-1], xp.inf)
    s = xp.sort(v, axis=-1)
    return s[..., -1] - s[..., -2]


def _extremum(name, reduce):
    """A max-like reduction: the derivative is shared evenly by the elements attaining the result."""
    sign = 1.0 if reduce == "max" else -1.0

    def kinks(xp, x, *, axes):
        x = xp.asarray(x)
        kept = tuple(n for d, n in enumerate(x.shape) if d not in axes)
        last = xp.moveaxis(x, axes, tuple(range(-len(axes), 0)))
        return _top_gap(xp, sign * last.reshape(kept + (math.prod(x.shape[d] for d in axes),)))

    def weights(x, out, axes):
        hit = el.astype(el.equal(x, _restore(out, x.shape, axes)), x.dtype)
        return hit / _restore(sum_p.bind(hit, axes=axes), x.shape, axes)

    def jvp(primals, tangents, *, axes):
        (x,), (t,) = primals, tangents
        out = prim.bind(x, axes=axes)
        return out, sum_p.bind(t * weights(x, out, axes), axes=axes)

    def vjp(ct, x, *, out, axes):
        return (_restore(ct, x.shape, axes) * weights(x, out, axes),)

    ufunc = np.maximum if reduce == "max" else np.minimum

    def impl(xp, x, *, axes):
        if xp is np:  # the ufunc method: numpy.max's Python wrapper costs as much as a small reduction
            return ufunc.reduce(x, axis=axes)
        return getattr(xp, reduce)(x, axis=axes)

    prim = defprim(name, impl=impl, shape=_reduce_shape,
                   jvp=jvp, vjp=vjp, smooth=False, kinks=kinks)
    prim.batch = _reduce_batch(prim)
    return prim


max_p = _extremum("reduce_max", "max")
min_p = _extremum("reduce_min", "min")


def _arg_shape(x, *, axis, keepdims):
    if axis is None:
        shape = (1,) * x.ndim if keepdims else ()
    else:
        shape = _kept_shape(x.shape, (axis,)) if keepdims else _reduced_shape(x.shape, (axis,))
    return ShapedArray(shape, dtypes.int64)


def _arg_batch(prim):
    """Rule of argmax/argmin. With ``axis=None`` each example's index is into its own flattened
    array: move the batch axis first, flatten the rest behind it and reduce axis 1."""
    def rule(vals, bdims, *, axis, keepdims):
        (x,), (d,) = vals, bdims
        if axis is not None:
            return prim.bind(x, axis=_past(axis, d), keepdims=keepdims), d if keepdims else d - (axis < d)
        x = sh.batch_axis_at(x, d, 0)
        n, rest = x.shape[0], x.shape[1:]
        out = prim.bind(sh.reshape(x, (n, math.prod(rest))), axis=1, keepdims=False)
        return (sh.reshape(out, (n,) + (1,) * len(rest)) if keepdims else out), 0
    return rule


argmax_p = not_differentiable("argmax", lambda xp, x, *, axis, keepdims: xp.argmax(x, axis=axis, keepdims=keepdims),
                              _arg_shape)
argmax_p.batch = _arg_batch(argmax_p)
argmin_p = not_differentiable("argmin", lambda xp, x, *, axis, keepdims: xp.argmin(x, axis=axis, keepdims=keepdims),
                              _arg_shape)
argmin_p.batch = _arg_batch(argmin_p)

# ----- logical ----------------------------------------------------------------------------------------


def _bool_reduce_shape(x, *, axes):
    return ShapedArray(_reduced_shape(x.shape, axes), dtypes.bool_)


all_p = not_differentiable("reduce_all", lambda xp, x, *, axes: xp.all(x, axis=axes), _bool_reduce_shape)
all_p.batch = _reduce_batch(all_p)
any_p = not_differentiable("reduce_any", lambda xp, x, *, axes: xp.any(x, axis=axes), _bool_reduce_shape)
any_p.batch = _reduce_batch(any_p)

# ----- cumulative ---------------------------------------------------------------------------------------


def _cumsum_impl(xp, x, *, axis, reverse):
    if reverse:
        return xp.flip(xp.cumsum(xp.flip(x, axis), axis=axis, dtype=x.dtype), axis)
    return xp.cumsum(x, axis=axis, dtype=x.dtype)


# The transpose of a running sum is the running sum taken from the other end,
# hence the ``reverse`` flag: it makes cumsum's VJP a cumsum again.
cumsum_p = defprim("cumsum", impl=_cumsum_impl, shape=same_shape,
                   vjp=lambda ct, x, *, out, axis, reverse: (cumsum_p.bind(ct, axis=axis, reverse=not reverse),))
cumsum_p.jvp = linear_jvp(cumsum_p)
cumsum_p.batch = _along_batch(cumsum_p)


def shifted(v, by, axis, fill):
    """``v`` moved ``by`` places along ``axis`` (later for ``by > 0``, earlier for ``by < 0``), ``fill`` coming in."""
    from .creation import full
    n = v.shape[axis]
    k = builtins.min(abs(by), n)
    pad = full(v.shape[:axis] + (k,) + v.shape[axis + 1:], fill, v.dtype, device=v.device)
    keep = [slice(None)] * v.ndim
    keep[axis] = slice(0, n - k) if by > 0 else slice(k, n)
    kept = v[tuple(keep)]
    return sh.concatenate([pad, kept] if by > 0 else [kept, pad], axis=axis)


def _linear_recurrence(a, b, axis, reverse):
    """``r`` with ``r_i = b_i + a_i r_{i-1}`` along ``axis`` (``r_{i+1}`` when ``reverse``), no ``r`` beyond the ends.

    By recursive doubling: ``log2(n)`` rounds of products and sums, no division, so
    zeros in ``a`` are fine, and differentiable again (it is made of fnx operations).
    """
    step = -1 if reverse else 1
    d = 1
    while d < a.shape[axis]:
        b = b + a * shifted(b, d * step, axis, 0)
        a = a * shifted(a, d * step, axis, 0)
        d *= 2
    return b


def _exclusive_cumprod(x, axis):
    """``prod(x_k for k < i)`` at each ``i``: 1 first."""
    return cumprod_p.bind(shifted(x, 1, axis, 1), axis=axis)


def _cumprod_jvp(primals, tangents, *, axis):
    # d out_k = x_k d out_{k-1} + out_{k-1} t_k: a recurrence, so a zero in x needs no division by it.
    (x,), (t,) = primals, tangents
    out = cumprod_p.bind(x, axis=axis)
    return out, _linear_recurrence(x, _exclusive_cumprod(x, axis) * t, axis, reverse=False)


def _cumprod_vjp(ct, x, *, out, axis):
    # d/dx_i = prod_{k<i} x_k * r_i, with r_i = ct_i + x_{i+1} r_{i+1} (the products after i, weighted).
    return (_exclusive_cumprod(x, axis) * _linear_recurrence(shifted(x, -1, axis, 0), ct, axis, reverse=True),)


cumprod_p = defprim("cumprod", impl=lambda xp, x, *, axis: xp.cumprod(x, axis=axis, dtype=x.dtype), shape=same_shape,
                    jvp=_cumprod_jvp, vjp=_cumprod_vjp)
cumprod_p.batch = _along_batch(cumprod_p)

# ----- public functions -------------------------------------------------------------------------------


def _check_out(opname, out):
    if out is not None:
        raise ImmutableError(f"{opname}: out= is not supported because fnx arrays are immutable; "
                             f"use the returned array instead")


def _axes(opname, axis, ndim):
    """``axis`` as the sorted tuple of non-negative axes a reduction primitive takes."""
    axes = normalize_axes(opname, axis, ndim)
    return axes if ndim else ()  # a 0-d array has nothing to reduce, whatever axis 0 / -1 says


def _widen(x):
    """NumPy's accumulator for sum, prod, cumsum and cumprod: bools and small ints widen to 64 bits."""
    dt = x.dtype
    if dt.kind == "b" or (dt.kind in "iu" and dt.itemsize < 8):
        return el.astype(x, dtypes.uint64 if dt.kind == "u" else dtypes.int64)
    return x


def _prepare(opname, a, axis, dtype, out, where=None, fill=0, stat=False):
    """The input in the dtype to accumulate in, with ``where`` applied, and its reduced axes.

    That dtype is ``dtype`` when given; otherwise float64 for integer input to a
    statistic (``stat``) and NumPy's widened accumulator for sums and products.
    """
    _check_out(opname, out)
    x = asarray(a)
    if stat:
        refuse_axis_of_0d(opname, x, axis)
    if dtype is not None:
        x = el.astype(x, dtype)
    elif stat and x.dtype.kind in "biu":
        x = el.astype(x, dtypes.float64)
    elif not stat:
        x = _widen(x)
    if where is not None:
        x = _select(_mask(where, x.shape), x, fill)
    return x, _axes(opname, axis, x.ndim)


def refuse_axis_of_0d(opname, x, axis):
    """The statistics refuse any axis of a 0-d array, as numpy's do (its ufunc reductions accept 0 and -1)."""
    if x.ndim == 0 and axis is not None and axis != ():
        raise np.exceptions.AxisError(f"{opname}: axis {axis} is out of bounds for an array of dimension 0")


def _int_axis_of_0d(opname, x, axis):
    """None for an int axis of a 0-d array, which numpy's NaN statistics accept (they reduce with ufuncs)."""
    if x.ndim == 0 and isinstance(axis, (int, np.integer)):
        normalize_axis(opname, axis, 0)
        return None
    return axis


def _mask(where, shape):
    return sh.broadcast_to(el.astype(asarray(where), dtypes.bool_), shape)


def _select(c, x, y):
    return el.where(c, x, y)


def _keep(out, x_shape, axes, keepdims):
    if not keepdims:
        return out
    return sh.reshape(out, _kept_shape(x_shape, axes))


def _reduce(prim, x, axes, keepdims):
    out = prim.bind(x, axes=axes) if axes else x
    return _keep(out, x.shape, axes, keepdims)


def _eager(reduce, a, axis, keepdims, *options):
    """``reduce`` (numpy's own function, or the ufunc method it calls without its Python wrapper)
    on a concrete fnx array over a numpy array, skipping ``bind``.

    That is what the primitive would compute, at numpy's cost. None for any other
    input, when one of the ``options`` is given, or when numpy refuses: the
    general path then handles it (and raises an error naming the op).
    """
    for option in options:
        if option is not None:
            return None
    if type(a) is Array and type(a._value) is _ndarray:
        try:
            return wrap(reduce(a._value, axis=axis, keepdims=keepdims), a._device)
        except (ValueError, TypeError):
            pass
    return None


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """Sum over ``axis`` (None, an int or a tuple), as ``numpy.sum``; bools and small ints sum as 64-bit ints.

    >>> import fnx.numpy as fnp
    >>> fnp.sum(fnp.array([[1., 2.], [3., 4.]]), axis=0)
    Array([4., 6.], dtype=float32)
    """
    if (res := _eager(np.add.reduce, a, axis, keepdims, dtype, out, initial, where)) is not None:
        return res
    x, axes = _prepare("sum", a, axis, dtype, out, where)
    out = _reduce(sum_p, x, axes, keepdims)
    return out if initial is None else out + initial


def mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """Arithmetic mean over ``axis``; integer input gives float64, as numpy.

    >>> import fnx.numpy as fnp
    >>> fnp.mean(fnp.array([1, 2, 4]))
    Array(2.33333333, dtype=float64)
    """
    if (res := _eager(np.mean, a, axis, keepdims, dtype, out, where)) is not None:
        return res
    x, axes = _prepare("mean", a, axis, dtype, out, stat=True)
    return _mean(x, axes, keepdims, None if where is None else _mask(where, x.shape))


def _mean(x, axes, keepdims, w):
    """The mean of ``x`` over ``axes``, of the elements where the mask ``w`` holds when given."""
    total = _reduce(sum_p, x if w is None else _select(w, x, 0), axes, keepdims)
    return _like(total / _count_of(x, axes, keepdims, w), x.dtype)


def _count_of(x, axes, keepdims, w):
    """How many elements each slice reduces: a Python int, or an array in ``x``'s real dtype with a mask."""
    if w is None:
        return _count(x.shape, axes)
    dt = np.finfo(x.dtype).dtype if x.dtype.kind in "fc" else dtypes.int64
    return _reduce(sum_p, el.astype(w, dt), axes, keepdims)


def _like(y, dt):
    """A statistic computed in floating point, in the integer dtype asked for: numpy truncates too."""
    return el.astype(y, dt) if dt.kind in "biu" else y


def _count(shape, axes):
    return math.prod(shape[i] for i in axes)


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """Product over ``axis``, as ``numpy.prod``. Its gradient is exact when a slice contains zeros.

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.grad(fnp.prod)(fnp.array([2., 0., 3.]))
    Array([0., 6., 0.], dtype=float32)
    """
    x, axes = _prepare("prod", a, axis, dtype, out, where, fill=1)
    out = _reduce(prod_p, x, axes, keepdims)
    return out if initial is None else out * initial


def _extreme(opname, prim, combine, a, axis, out, keepdims, initial, where):
    _check_out(opname, out)
    x = asarray(a)
    if where is not None:
        if initial is None:
            raise ValueError(f"{opname}: where= needs initial= (the value of a slice where nothing is selected)")
        x = _select(_mask(where, x.shape), x, initial)
    axes = _axes(opname, axis, x.ndim)
    if x.size == 0 and builtins.any(x.shape[i] == 0 for i in axes):
        if initial is None:
            raise ValueError(f"{opname}: reducing an empty axis of shape {x.shape} needs initial=")
        from .creation import full
        return full(_kept_shape(x.shape, axes) if keepdims else _reduced_shape(x.shape, axes), initial, x.dtype)
    res = _reduce(prim, x, axes, keepdims)
    return res if initial is None else combine(res, initial)


def max(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """Maximum over ``axis``, as ``numpy.max``. Tied maxima share the gradient evenly.

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.grad(fnp.max)(fnp.array([1., 3., 3.]))
    Array([0. , 0.5, 0.5], dtype=float32)
    """
    if (res := _eager(np.maximum.reduce, a, axis, keepdims, out, initial, where)) is not None:
        return res
    return _extreme("max", max_p, el.maximum, a, axis, out, keepdims, initial, where)


def min(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """Minimum over ``axis``, as ``numpy.min``. Tied minima share the gradient evenly."""
    if (res := _eager(np.minimum.reduce, a, axis, keepdims, out, initial, where)) is not None:
        return res
    return _extreme("min", min_p, el.minimum, a, axis, out, keepdims, initial, where)


amax, amin = max, min


def _arg(opname, prim, a, axis, out, keepdims):
    _check_out(opname, out)
    x = asarray(a)
    if axis is not None:
        axis = normalize_axis(opname, axis, x.ndim)
        axis = axis if x.ndim else None  # numpy: axis 0 / -1 of a 0-d array is its one element
    if (x.size == 0 and axis is None) or (axis is not None and x.shape[axis] == 0):
        raise ValueError(f"{opname}: attempt to get {opname} of an empty {'array' if axis is None else 'axis'} "
                         f"of shape {x.shape}")
    return prim.bind(x, axis=axis, keepdims=bool(keepdims))


def argmax(a, axis=None, out=None, *, keepdims=False):
    """Index (int64) of the first maximum along ``axis`` (of the flattened array when None); not differentiable.

    >>> import fnx.numpy as fnp
    >>> fnp.argmax(fnp.array([[1, 5], [7, 2]]), axis=1)
    Array([1, 0], dtype=int64)
    """
    return _arg("argmax", argmax_p, a, axis, out, keepdims)


def argmin(a, axis=None, out=None, *, keepdims=False):
    """Index (int64) of the first minimum along ``axis`` (of the flattened array when None); not differentiable."""
    return _arg("argmin", argmin_p, a, axis, out, keepdims)


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None, correction=None):
    """Variance over ``axis`` with ``ddof`` (or ``correction``) delta degrees of freedom, as ``numpy.var``.

    Integer input gives float64; complex input gives the real variance of |x - mean|.

    >>> import fnx.numpy as fnp
    >>> fnp.var(fnp.array([1., 2., 3., 4.]), ddof=1)
    Array(1.6666666, dtype=float32)
    """
    if correction is not None:
        if ddof != 0:
            raise ValueError("var: give ddof or correction, not both")
        ddof = correction
    x, axes = _prepare("var", a, axis, dtype, out, stat=True)
    w = None if where is None else _mask(where, x.shape)
    sq = _abs2(x - (_mean(x, axes, True, w) if mean is None else asarray(mean)))
    n = _count_of(x, axes, keepdims, w)
    dof = builtins.max(n - ddof, 0) if isinstance(n, int) else el.maximum(n - ddof, 0)
    return _like(_reduce(sum_p, sq if w is None else _select(w, sq, 0), axes, keepdims) / dof, x.dtype)


def _abs2(d):
    if d.dtype.kind == "c":
        return el.real(d * el.conjugate(d))
    return d * d


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None, correction=None):
    """Standard deviation: the square root of :func:`var` (same arguments).

    Where the variance is 0 (a constant slice) the gradient is 0, as PyTorch's, not NaN.
    """
    v = var(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean, correction=correction)
    return _like(zero_safe_root(v, 2), v.dtype)


def zero_safe_root(total, p):
    """``total ** (1 / p)`` of a nonnegative ``total`` (a variance, a sum of powers), with derivative 0 where
    ``total`` is 0.

    The root's derivative is infinite there while the total's is 0, and their product
    would be NaN; PyTorch's norms and ``std`` give 0 (a subgradient), and so does fnx.
    """
    if type(total) is Array:  # nothing differentiates it: the root alone has the same values
        return el.sqrt(total) if p == 2 else total ** (1.0 / p)
    nonzero = el.greater(total, 0)
    safe = el.where(nonzero, total, 1)
    # elsewhere the total itself, 0 or NaN, as a constant: its root is itself, and a NaN must show
    return el.where(nonzero, el.sqrt(safe) if p == 2 else safe ** (1.0 / p), el.stop_gradient(total))


def _logical(opname, prim, a, axis, out, keepdims, where, fill):
    _check_out(opname, out)
    x = asarray(a)
    axes = _axes(opname, axis, x.ndim)
    if where is not None or not axes:  # with nothing to reduce, the answer is still a bool
        x = el.astype(x, dtypes.bool_)
    if where is not None:
        x = _select(_mask(where, x.shape), x, fill)
    return _reduce(prim, x, axes, keepdims)


def all(a, axis=None, out=None, keepdims=False, *, where=None):
    """Whether every element along ``axis`` is true (nonzero); a bool array, not differentiable."""
    return _logical("all", all_p, a, axis, out, keepdims, where, True)


def any(a, axis=None, out=None, keepdims=False, *, where=None):
    """Whether some element along ``axis`` is true (nonzero); a bool array, not differentiable."""
    return _logical("any", any_p, a, axis, out, keepdims, where, False)


def _cumulative(opname, a, axis, dtype, out):
    _check_out(opname, out)
    x = asarray(a)
    x = el.astype(x, dtype) if dtype is not None else _widen(x)
    if axis is None or x.ndim == 0:  # numpy: axis 0 / -1 of a 0-d array runs along its one element
        return sh.ravel(x), 0 if axis is None else normalize_axis(opname, axis, 0)
    return x, normalize_axis(opname, axis, x.ndim)


def cumsum(a, axis=None, dtype=None, out=None):
    """Running sum along ``axis`` (of the flattened array when None), as ``numpy.cumsum``.

    >>> import fnx.numpy as fnp
    >>> fnp.cumsum(fnp.array([[1, 2], [3, 4]]))
    Array([ 1,  3,  6, 10], dtype=int64)
    """
    x, axis = _cumulative("cumsum", a, axis, dtype, out)
    return cumsum_p.bind(x, axis=axis, reverse=False) if x.ndim else x


def cumprod(a, axis=None, dtype=None, out=None):
    """Running product along ``axis`` (flattened when None), as ``numpy.cumprod``.

    Its derivative divides by the input, so it assumes no element is zero (a
    zero gives a NaN or infinite gradient); use :func:`prod` for products with zeros.
    """
    x, axis = _cumulative("cumprod", a, axis, dtype, out)
    return cumprod_p.bind(x, axis=axis) if x.ndim else x


def _nan_mask(x):
    """True where ``x`` is a number (NaN is the one value unequal to itself)."""
    return el.equal(x, x)


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """:func:`sum` treating NaNs as zero; their gradient is zero, never NaN."""
    x = asarray(a)
    if x.dtype.kind in "fc":
        x = _select(_nan_mask(x), x, 0)
    return sum(x, axis, dtype, out, keepdims, initial, where)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """:func:`prod` treating NaNs as one, as ``numpy.nanprod``; their gradient is zero.

    >>> import fnx.numpy as fnp
    >>> fnp.nanprod(fnp.array([2., fnp.nan, 3.]))
    Array(6., dtype=float32)
    """
    x = asarray(a)
    if x.dtype.kind in "fc":
        x = _select(_nan_mask(x), x, 1)
    return prod(x, axis, dtype, out, keepdims, initial, where)


def nancumsum(a, axis=None, dtype=None, out=None):
    """:func:`cumsum` treating NaNs as zero, as ``numpy.nancumsum``.

    >>> import fnx.numpy as fnp
    >>> fnp.nancumsum(fnp.array([1., fnp.nan, 3.]))
    Array([1., 1., 4.], dtype=float32)
    """
    x = asarray(a)
    if x.dtype.kind in "fc":
        x = _select(_nan_mask(x), x, 0)
    return cumsum(x, axis, dtype, out)


def nancumprod(a, axis=None, dtype=None, out=None):
    """:func:`cumprod` treating NaNs as one, as ``numpy.nancumprod``."""
    x = asarray(a)
    if x.dtype.kind in "fc":
        x = _select(_nan_mask(x), x, 1)
    return cumprod(x, axis, dtype, out)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """:func:`mean` ignoring NaNs (NaN for a slice of NaNs only); NaN positions get zero gradient."""
    x = asarray(a)
    axis = _int_axis_of_0d("nanmean", x, axis)
    if x.dtype.kind not in "fc":
        return mean(x, axis, dtype, out, keepdims, where=where)
    ok = _nan_mask(x)
    return mean(x, axis, dtype, out, keepdims, where=ok if where is None else _select(ok, _mask(where, x.shape), False))


def ptp(a, axis=None, out=None, keepdims=False):
    """Range (maximum minus minimum) along ``axis``, as ``numpy.ptp``."""
    return max(a, axis, out, keepdims) - min(a, axis, None, keepdims)


def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """Weighted mean along ``axis``, as ``numpy.average``; differentiable in ``a`` and ``weights``.

    ``weights`` has ``a``'s shape, or the shape of ``a`` along ``axis`` (1-D
    along an int axis; along a tuple of axes, in that tuple's order). With
    ``returned=True`` returns ``(average, sum of weights)``.

    >>> import fnx.numpy as fnp
    >>> fnp.average(fnp.array([1., 2., 4.]), weights=fnp.array([3., 1., 0.]))
    Array(1.25, dtype=float32)
    """
    x = asarray(a)
    refuse_axis_of_0d("average", x, axis)
    if weights is None:
        avg = mean(x, axis, keepdims=keepdims)
        if not returned:
            return avg
        return avg, sh.broadcast_to(asarray(_count(x.shape, _axes("average", axis, x.ndim)), avg.dtype), avg.shape)
    w = asarray(weights)
    dt = np.result_type(x.dtype, w.dtype, *([dtypes.float64] if x.dtype.kind in "biu" else []))
    x, w = el.astype(x, dt), el.astype(w, dt)
    if w.shape != x.shape:
        if axis is None:
            raise ShapeTypeError(f"average: weights of shape {w.shape} differ from a's shape {x.shape}; give the "
                                 f"axis (or axes) they run along")
        axes = tuple(normalize_axis("average", ax, x.ndim) for ax in (axis if isinstance(axis, tuple) else (axis,)))
        if w.shape != tuple(x.shape[ax] for ax in axes):
            raise ShapeError(f"average: weights of shape {w.shape} do not fit a's shape {x.shape} along axis {axis}")
        w = sh.transpose(w, tuple(np.argsort(axes)))  # the weights' axes in a's order
        w = sh.broadcast_to(sh.reshape(w, tuple(x.shape[i] if i in axes else 1 for i in range(x.ndim))), x.shape)
    scale = sum(w, axis, keepdims=keepdims)
    avg = sum(x * w, axis, keepdims=keepdims) / scale
    return (avg, scale) if returned else avg


def count_nonzero(a, axis=None, *, keepdims=False):
    """Number (int64) of nonzero elements along ``axis``; a 0-d array where numpy returns a Python int."""
    x = asarray(a)
    return sum(el.not_equal(x, 0), axis, keepdims=keepdims)


def _cumulative_api(opname, running, x, axis, dtype, include_initial, identity):
    x = asarray(x)
    if axis is None:
        if x.ndim != 1:
            raise ValueError(f"{opname}: axis=None needs a 1-d array, got shape {x.shape}; give an axis")
        axis = 0
    axis = normalize_axis(opname, axis, x.ndim)
    out = running(x, axis=axis, dtype=dtype)
    if not include_initial:
        return out
    from .creation import full
    first = full(_kept_shape(out.shape, (axis,)), identity, out.dtype, device=out.device)
    return sh.concatenate([first, out], axis=axis)


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
    """Running sum along ``axis`` (optional for 1-d input), as ``numpy.cumulative_sum`` (the array API's).

    ``include_initial=True`` starts the result with a zero.

    >>> import fnx.numpy as fnp
    >>> fnp.cumulative_sum(fnp.array([1, 2, 3]), include_initial=True)
    Array([0, 1, 3, 6], dtype=int64)
    """
    return _cumulative_api("cumulative_sum", cumsum, x, axis, dtype, include_initial, 0)


def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False):
    """Running product along ``axis`` (optional for 1-d input), as ``numpy.cumulative_prod``.

    ``include_initial=True`` starts the result with a one. Its derivative is :func:`cumprod`'s.

    >>> import fnx.numpy as fnp
    >>> fnp.cumulative_prod(fnp.array([[1., 2.], [3., 4.]]), axis=1)
    Array([[ 1.,  2.],
           [ 3., 12.]], dtype=float32)
    """
    return _cumulative_api("cumulative_prod", cumprod, x, axis, dtype, include_initial, 1)


def _nan_extreme(opname, reduce, a, axis, out, keepdims, initial, where):
    """``reduce`` ignoring NaNs, as ``numpy.fmax.reduce`` does it: NaN only for a slice of NaNs without
    ``initial``. NaNs are replaced by the value that never wins, so they get zero gradient."""
    _check_out(opname, out)
    x = asarray(a)
    if x.dtype.kind not in "fc":
        return reduce(x, axis, None, keepdims, initial, where)
    ok = _nan_mask(x)
    loser = -np.inf if reduce is max else np.inf
    res = reduce(_select(ok, x, loser), axis, None, keepdims, initial, where)
    if initial is not None:
        return res
    counted = ok if where is None else el.logical_and(ok, _mask(where, x.shape))
    return _select(any(counted, axis, keepdims=keepdims), res, np.nan)


def nanmax(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """:func:`max` ignoring NaNs, as ``numpy.nanmax``: NaN for a slice of NaNs only. NaNs get zero gradient.

    >>> import fnx.numpy as fnp
    >>> fnp.nanmax(fnp.array([[1., fnp.nan], [fnp.nan, fnp.nan]]), axis=1)
    Array([ 1., nan], dtype=float32)
    """
    return _nan_extreme("nanmax", max, a, axis, out, keepdims, initial, where)


def nanmin(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """:func:`min` ignoring NaNs, as ``numpy.nanmin``: NaN for a slice of NaNs only. NaNs get zero gradient.

    >>> import fnx.numpy as fnp
    >>> fnp.nanmin(fnp.array([3., fnp.nan, 2.]))
    Array(2., dtype=float32)
    """
    return _nan_extreme("nanmin", min, a, axis, out, keepdims, initial, where)


def _nan_arg(opname, reduce, a, axis, out, keepdims):
    _check_out(opname, out)
    x = asarray(a)
    find = argmax if reduce is nanmax else argmin
    if x.dtype.kind not in "fc":
        return find(x, axis, keepdims=keepdims)
    if axis is not None:
        axis = normalize_axis(opname, axis, x.ndim)
    # The first element equal to the NaN-free extremum: a NaN is never equal, a real -inf still is.
    best = reduce(x, axis, keepdims=True)
    first = argmax(el.equal(x, best), axis, keepdims=keepdims)
    return _select(any(_nan_mask(x), axis, keepdims=keepdims), first, -1)


def nanargmax(a, axis=None, out=None, *, keepdims=False):
    """Index (int64) of the first maximum ignoring NaNs, as ``numpy.nanargmax``.

    A slice of NaNs only gives -1, as in JAX (NumPy raises), so the result does
    not depend on whether the input is traced.

    >>> import fnx.numpy as fnp
    >>> fnp.nanargmax(fnp.array([[fnp.nan, 2., 5.], [fnp.nan, fnp.nan, fnp.nan]]), axis=1)
    Array([ 2, -1], dtype=int64)
    """
    return _nan_arg("nanargmax", nanmax, a, axis, out, keepdims)


def nanargmin(a, axis=None, out=None, *, keepdims=False):
    """Index (int64) of the first minimum ignoring NaNs, as ``numpy.nanargmin``; -1 for a slice of NaNs only.

    >>> import fnx.numpy as fnp
    >>> fnp.nanargmin(fnp.array([fnp.nan, 2., -1.]))
    Array(2, dtype=int64)
    """
    return _nan_arg("nanargmin", nanmin, a, axis, out, keepdims)


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None, correction=None):
    """:func:`var` ignoring NaNs, as ``numpy.nanvar``: NaN where no more than ``ddof`` numbers remain.

    NaNs get zero gradient.

    >>> import fnx.numpy as fnp
    >>> fnp.nanvar(fnp.array([1., fnp.nan, 3.]))
    Array(1., dtype=float32)
    """
    x = asarray(a)
    axis = _int_axis_of_0d("nanvar", x, axis)
    if x.dtype.kind not in "fc":
        return var(x, axis, dtype, out, ddof, keepdims, where=where, mean=mean, correction=correction)
    if correction is not None:
        if ddof != 0:
            raise ValueError("nanvar: give ddof or correction, not both")
        ddof = correction
    ok = _nan_mask(x)
    counted = ok if where is None else el.logical_and(ok, _mask(where, x.shape))
    # NaNs become zeros before any arithmetic: masked out later, a NaN would still poison the gradient.
    v = var(_select(ok, x, 0), axis, dtype, out, ddof, keepdims, where=counted, mean=mean)
    enough = sum(counted, axis, keepdims=keepdims) > ddof
    return _select(enough, v, np.nan)


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None, mean=None, correction=None):
    """:func:`std` ignoring NaNs: the square root of :func:`nanvar` (same arguments), as ``numpy.nanstd``.

    >>> import fnx.numpy as fnp
    >>> fnp.nanstd(fnp.array([1., fnp.nan, 3.]))
    Array(1., dtype=float32)
    """
    v = nanvar(a, axis, dtype, out, ddof, keepdims, where=where, mean=mean, correction=correction)
    return _like(el.sqrt(v), v.dtype)


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element of ``a`` is close to ``b`` (see :func:`isclose`), as ``numpy.allclose``.

    A 0-d bool array (NumPy returns a Python bool), so it can be traced; ``if`` and
    ``bool()`` read it on concrete input.

    >>> import fnx.numpy as fnp
    >>> fnp.allclose(fnp.array([1.0, 2.0]), fnp.array([1.0, 2.0 + 1e-7]))
    Array(True, dtype=bool)
    """
    return all(el.isclose(a, b, rtol, atol, equal_nan))


def array_equal(a1, a2, equal_nan=False):
    """Whether ``a1`` and ``a2`` have the same shape and elements, as ``numpy.array_equal``; a 0-d bool array.

    >>> import fnx.numpy as fnp
    >>> fnp.array_equal(fnp.array([1, 2]), fnp.array([1., 2.])), fnp.array_equal(fnp.ones(2), fnp.ones(3))
    (Array(True, dtype=bool), Array(False, dtype=bool))
    """
    x, y = asarray(a1), asarray(a2)
    if x.shape != y.shape:
        return asarray(False, device=x.device)
    same = el.equal(x, y)
    if equal_nan and (x.dtype.kind in "fc" or y.dtype.kind in "fc"):
        same = el.logical_or(same, el.logical_and(el.isnan(x), el.isnan(y)))
    return all(same)


def array_equiv(a1, a2):
    """Whether ``a1`` and ``a2`` broadcast to one shape and are equal there, as ``numpy.array_equiv``.

    >>> import fnx.numpy as fnp
    >>> fnp.array_equiv(fnp.array([1, 2]), fnp.array([[1, 2], [1, 2]]))
    Array(True, dtype=bool)
    """
    x, y = asarray(a1), asarray(a2)
    try:
        np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        return asarray(False, device=x.device)
    return all(el.equal(x, y))
