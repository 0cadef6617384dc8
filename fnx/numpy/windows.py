"""Sliding windows: convolution, window patches and max pooling.

Everything here slides a window over the trailing (spatial) axes of an array.
The implementations share one idea: a window view. Padding (negative padding
crops) and, for transposed convolutions, zeros between the input's elements
come first; then ``as_strided`` (numpy and cupy both have it) gives, without
copying, a view with one axis per output position and one per window offset.
A convolution copies that view once into a matrix per group and multiplies it
by the kernel (im2col); max pooling folds a ``maximum`` over the window
offsets; ``patches`` copies the view out.

The rules follow JAX's ``conv_general_dilated``. A convolution is linear in
each operand, so its JVP is ``conv(tx, w) + conv(x, tw)``, and both cotangents
are convolutions again, so derivatives of any order come for free:

* the input's cotangent convolves the cotangent, spread out by the strides
  (``lhs_dilation = strides``), with the kernel flipped in space and its in/out
  channels swapped group by group;
* the kernel's cotangent convolves the input, with batch and channel axes
  swapped, with the cotangent as kernel (dilated by the strides); the groups
  travel along the channel axis, so this too is an ordinary grouped convolution.

Under ``vmap`` a batch of inputs folds into the batch axis, a batch of kernels
into the output channels, and a batch of both into the groups (one group per
example), so every batched convolution is still one call.

``patches`` (im2col) and its transpose ``patches_transpose`` (col2im, which
adds overlapping windows back) are linear and transpose each other. Max
pooling sends a cotangent to the first maximum of each window, as PyTorch does:
``max_pool_argmax`` (not differentiable) finds that position in each window,
and the rules turn it into a one-hot mask over the window's patches, which
selects tangents (JVP) or scatters cotangents through ``patches_transpose`` (VJP).
"""
import itertools
import math

from ..core import dtypes
from ..core.primitive import ShapedArray, defprim
from ..errors import DTypeError, ShapeError
from ._base import asarray, linear_jvp, not_differentiable

__all__ = ["conv_general_dilated", "patches", "patches_transpose", "max_pool", "max_pool_argmax"]


def _dilated(n, d):
    """The length of ``n`` elements with ``d - 1`` gaps between neighbours."""
    return 0 if n == 0 else (n - 1) * d + 1


def _out_size(n, k, stride, pad=(0, 0), base=1, dilation=1):
    """Windows of ``k`` (dilated) taken every ``stride`` from ``n`` (dilated, padded) elements."""
    return max(0, (_dilated(n, base) + pad[0] + pad[1] - _dilated(k, dilation)) // stride + 1)


# ----- backend helpers (impls only) ---------------------------------------------------------


def _dilate(xp, x, dilation):
    """``x`` with ``d - 1`` zeros between neighbours along each trailing axis."""
    if all(d == 1 for d in dilation):
        return x
    lead = x.ndim - len(dilation)
    out = xp.zeros(x.shape[:lead] + tuple(_dilated(n, d) for n, d in zip(x.shape[lead:], dilation)), x.dtype)
    out[(Ellipsis,) + tuple(slice(None, None, d) for d in dilation)] = x
    return out


def _pad(xp, x, padding, value=0):
    """The trailing axes padded by ``(lo, hi)`` pairs of ``value``; a negative entry crops.

    Padding comes first and cropping second, so a crop may reach into the padding
    (``(2, -1)`` on one element keeps a single padded zero), as the shape rule counts.
    """
    if all(lo == 0 and hi == 0 for lo, hi in padding):
        return x
    lead = x.ndim - len(padding)
    if any(lo > 0 or hi > 0 for lo, hi in padding):
        shape = x.shape[:lead] + tuple(n + max(lo, 0) + max(hi, 0)
                                       for (lo, hi), n in zip(padding, x.shape[lead:]))
        out = xp.zeros(shape, x.dtype) if value == 0 else xp.full(shape, value, x.dtype)
        out[(Ellipsis,) + tuple(slice(max(lo, 0), max(lo, 0) + n)
                                for (lo, _), n in zip(padding, x.shape[lead:]))] = x
        x = out
    if any(lo < 0 or hi < 0 for lo, hi in padding):
        x = x[(Ellipsis,) + tuple(slice(max(-lo, 0), n - max(-hi, 0))
                                  for (lo, hi), n in zip(padding, x.shape[lead:]))]
    return x


def _windows(xp, x, window, strides, dilation):
    """A view of ``x`` shaped ``lead + out + window``: output positions, then window offsets. No copy."""
    lead = x.ndim - len(window)
    step = x.strides[lead:]
    out = tuple(_out_size(n, k, s, dilation=d) for n, k, s, d in zip(x.shape[lead:], window, strides, dilation))
    return xp.lib.stride_tricks.as_strided(
        x, shape=x.shape[:lead] + out + tuple(window),
        strides=x.strides[:lead] + tuple(a * s for a, s in zip(step, strides))
        + tuple(a * d for a, d in zip(step, dilation)))


def _offsets(window, dilation, out, strides):
    """For each window offset: its index and the slices of the (padded) input it meets."""
    for k in itertools.product(*map(range, window)):
        yield k, tuple(slice(i * d, i * d + (o - 1) * s + 1, s) for i, d, o, s in zip(k, dilation, out, strides))


def _lowest(xp, dtype):
    return -xp.inf if dtype.kind == "f" else xp.iinfo(dtype).min


# ----- convolution ----------------------------------------------------------------------------


def _conv_impl(xp, x, w, *, strides, padding, lhs_dilation, rhs_dilation, groups):
    nd = w.ndim - 2
    x = _pad(xp, _dilate(xp, x, lhs_dilation), padding)
    n, c, o, kernel = x.shape[0], x.shape[1], w.shape[0], w.shape[2:]
    out = tuple(_out_size(m, k, s, dilation=d) for m, k, s, d in zip(x.shape[2:], kernel, strides, rhs_dilation))
    cg, og, k, p = c // groups, o // groups, math.prod(kernel), math.prod(out)
    w = w.reshape(groups, og, cg * k)
    space, offsets = tuple(range(3, 3 + nd)), tuple(range(3 + nd, 3 + 2 * nd))
    # im2col, one matrix per group, then one 2-d product per group (numpy's stacked matmul
    # is several times slower with threaded BLAS). The copy is fastest when its innermost
    # axis is long: output positions for an ordinary convolution, kernel offsets when the
    # kernel is the larger (weight gradients).
    if nd and out[-1] < kernel[-1]:  # rows (example, position), columns (channel, offset)
        view = _windows(xp, x, kernel, strides, rhs_dilation).reshape((n, groups, cg) + out + kernel)
        cols = view.transpose((1, 0) + space + (2,) + offsets).reshape(groups, n * p, cg * k)
        y = xp.empty((groups, n * p, og), xp.result_type(w, cols))
        for g in range(groups):
            xp.matmul(cols[g], w[g].T, out=y[g])
        y = y.reshape((groups, n) + out + (og,)).transpose((1, 0, 2 + nd) + tuple(range(2, 2 + nd)))
        return xp.ascontiguousarray(y).reshape((n, o) + out)
    # Rows (channel, offset), columns (example, position). With unit strides, positions are
    # taken along the flattened spatial axes: a window then starts at every flat index, so
    # the copy reads whole images at a time; the columns that wrap around a row edge are
    # computed and dropped. Worth it while they are few.
    x = xp.ascontiguousarray(x)
    it, flat = x.itemsize, [math.prod(x.shape[3 + j:]) for j in range(nd)]  # elements per step of each axis
    span = sum((m - 1) * f for m, f in zip(out, flat)) + 1 if p else 0
    if nd > 1 and all(s == 1 for s in strides) and span <= 2 * p:
        cols = xp.lib.stride_tricks.as_strided(
            x, shape=(groups, cg) + kernel + (n, span),
            strides=(cg * x.strides[1], x.strides[1]) + tuple(d * f * it for d, f in zip(rhs_dilation, flat))
            + (x.strides[0], it)).reshape(groups, cg * k, n * span)
    else:
        span, flat = p, [math.prod(out[j + 1:]) for j in range(nd)]
        view = _windows(xp, x, kernel, strides, rhs_dilation).reshape((n, groups, cg) + out + kernel)
        cols = view.transpose((1, 2) + offsets + (0,) + space).reshape(groups, cg * k, n * p)
    y = xp.empty((groups, og, n * span), xp.result_type(w, cols))
    for g in range(groups):
        xp.matmul(w[g], cols[g], out=y[g])
    iy = y.itemsize
    y = xp.lib.stride_tricks.as_strided(y, shape=(n, groups, og) + out,
                                        strides=(span * iy, og * n * span * iy, n * span * iy)
                                        + tuple(f * iy for f in flat))
    return xp.ascontiguousarray(y).reshape((n, o) + out)


def _conv_shape(x, w, *, strides, padding, lhs_dilation, rhs_dilation, groups):
    out = tuple(_out_size(n, k, s, p, b, d) for n, k, s, p, b, d in
                zip(x.shape[2:], w.shape[2:], strides, padding, lhs_dilation, rhs_dilation))
    return ShapedArray((x.shape[0], w.shape[0]) + out, x.dtype)


def _conv_jvp(primals, tangents, **params):
    (x, w), (tx, tw) = primals, tangents
    out = conv_p.bind(x, w, **params)
    t = None if tx is None else conv_p.bind(tx, w, **params)
    if tw is not None:
        u = conv_p.bind(x, tw, **params)
        t = u if t is None else t + u
    return out, t


def _conv_lhs_transpose(ct, x, w, strides, padding, lhs_dilation, rhs_dilation, groups):
    """The input's cotangent: ``ct`` spread out by the strides, convolved with the flipped kernel."""
    from .shape import flip, reshape, transpose
    nd = x.ndim - 2
    space = tuple(range(3, 3 + nd))
    (o, cg), k = w.shape[:2], w.shape[2:]
    # Kernel (G*Og, Cg) -> (G*Cg, Og): in and out channels trade places inside each group.
    wt = transpose(reshape(w, (groups, o // groups, cg) + k), (0, 2, 1) + space)
    wt = flip(reshape(wt, (groups * cg, o // groups) + k), axis=tuple(range(2, 2 + nd)))
    pads = []
    for n, kk, m, s, (lo, _), b, d in zip(x.shape[2:], k, ct.shape[2:], strides, padding, lhs_dilation,
                                          rhs_dilation):
        before = _dilated(kk, d) - lo - 1
        pads.append((before, _dilated(n, b) + _dilated(kk, d) - 1 - _dilated(m, s) - before))
    return conv_p.bind(ct, wt, strides=lhs_dilation, padding=tuple(pads), lhs_dilation=strides,
                       rhs_dilation=rhs_dilation, groups=groups)


def _conv_rhs_transpose(ct, x, w, strides, padding, lhs_dilation, rhs_dilation, groups):
    """The kernel's cotangent: the input (batch and channels swapped) convolved with ``ct`` as kernel."""
    from .shape import reshape, transpose
    nd = x.ndim - 2
    space = tuple(range(3, 3 + nd))
    n, c = x.shape[:2]
    o = w.shape[0]
    # Channels (g, c) of example n become example c with channels (g, n): group g still meets group g.
    lhs = reshape(transpose(reshape(x, (n, groups, c // groups) + x.shape[2:]), (2, 1, 0) + space),
                  (c // groups, groups * n) + x.shape[2:])
    rhs = reshape(transpose(reshape(ct, (n, groups, o // groups) + ct.shape[2:]), (1, 2, 0) + space),
                  (o, n) + ct.shape[2:])
    pads = tuple((lo, _dilated(m, s) - _dilated(nn, b) + _dilated(kk, d) - lo - 1)
                 for nn, kk, m, s, (lo, _), b, d in zip(x.shape[2:], w.shape[2:], ct.shape[2:], strides, padding,
                                                        lhs_dilation, rhs_dilation))
    y = conv_p.bind(lhs, rhs, strides=rhs_dilation, padding=pads, lhs_dilation=lhs_dilation,
                    rhs_dilation=strides, groups=groups)  # (Cg, O, *K)
    return transpose(y, (1, 0) + tuple(range(2, 2 + nd)))


def _conv_vjp(ct, x, w, *, out, **params):
    p = tuple(params[k] for k in ("strides", "padding", "lhs_dilation", "rhs_dilation", "groups"))
    return (lambda: _conv_lhs_transpose(ct, x, w, *p)), (lambda: _conv_rhs_transpose(ct, x, w, *p))


def _conv_batch(vals, bdims, *, groups, **params):
    from .shape import moveaxis, reshape, transpose
    (x, w), (xd, wd) = vals, bdims
    if wd is None:  # the batch joins the examples
        if xd > 1:
            x, xd = moveaxis(x, xd, 0), 0
        lead = x.shape[:2]
        y = conv_p.bind(reshape(x, (lead[0] * lead[1],) + x.shape[2:]), w, groups=groups, **params)
        return reshape(y, lead + y.shape[1:]), xd
    w = moveaxis(w, wd, 0)
    b, o = w.shape[:2]
    if xd is None:  # the batch joins the output channels, inside each group
        og, rest = o // groups, w.shape[2:]
        w = reshape(transpose(reshape(w, (b, groups, og) + rest), (1, 0) + tuple(range(2, 3 + len(rest)))),
                    (b * o,) + rest)
        y = conv_p.bind(x, w, groups=groups, **params)  # channels (g, example, og)
        y = reshape(y, (y.shape[0], groups, b, og) + y.shape[2:])
        return reshape(moveaxis(y, 2, 1), (y.shape[0], b, o) + y.shape[4:]), 1
    # Both batched: example e's channels and kernels form groups of their own.
    x = moveaxis(x, xd, 1)
    x = reshape(x, (x.shape[0], b * x.shape[2]) + x.shape[3:])
    y = conv_p.bind(x, reshape(w, (b * o,) + w.shape[2:]), groups=groups * b, **params)
    return reshape(y, (y.shape[0], b, o) + y.shape[2:]), 1


conv_p = defprim("conv", impl=_conv_impl, shape=_conv_shape, jvp=_conv_jvp, vjp=_conv_vjp, batch=_conv_batch,
                 residuals=("partners",))


def _pairs(opname, padding, nd):
    try:
        pads = tuple((int(lo), int(hi)) for lo, hi in padding)
    except (TypeError, ValueError):
        raise TypeError(f"{opname}: padding must be 'VALID' or one (low, high) pair of ints per spatial axis, "
                        f"got {padding!r}") from None
    if len(pads) != nd:
        raise ShapeError(f"{opname}: padding has {len(pads)} pairs for {nd} spatial axes")
    return pads


def _ints(opname, what, value, nd, default=1):
    value = (default,) * nd if value is None else tuple(value)
    if len(value) != nd or any(int(v) != v or v < 1 for v in value):
        raise ValueError(f"{opname}: {what} must be {nd} positive ints (one per spatial axis), got {value}")
    return tuple(int(v) for v in value)


def conv_general_dilated(lhs, rhs, window_strides=None, padding="VALID", lhs_dilation=None, rhs_dilation=None,
                         feature_group_count=1):
    """N-d convolution (cross-correlation) of ``lhs`` (N, C, *spatial) with ``rhs`` (O, C/groups, *kernel).

    The layout and parameters of ``jax.lax.conv_general_dilated`` with NCHW/OIHW
    dimension numbers: ``window_strides``, ``padding`` ('VALID' or one
    ``(low, high)`` pair per spatial axis, negative pairs crop),
    ``lhs_dilation`` (zeros between input elements: transposed convolution),
    ``rhs_dilation`` (holes in the kernel: dilated convolution) and
    ``feature_group_count`` (grouped convolution). Differentiable to any order
    in both operands, and batchable. ``fnx.nn.functional.conv2d`` and friends
    give the PyTorch signatures.

    >>> import fnx.numpy as fnp
    >>> from fnx.numpy.windows import conv_general_dilated
    >>> x = fnp.arange(5.0).reshape(1, 1, 5)
    >>> conv_general_dilated(x, fnp.ones((1, 1, 2)), (1,), [(0, 0)])
    Array([[[1., 3., 5., 7.]]], dtype=float32)
    """
    opname = "conv_general_dilated"
    x, w = asarray(lhs), asarray(rhs)
    if x.ndim < 2 or w.ndim != x.ndim:
        raise ShapeError(f"{opname}: lhs (N, C, *spatial) and rhs (O, I, *kernel) need the same number (>= 2) of "
                         f"dimensions, got shapes {x.shape} and {w.shape}")
    if x.dtype != w.dtype:
        raise DTypeError(f"{opname}: lhs is {x.dtype} but rhs is {w.dtype}; convert one with .astype")
    nd = x.ndim - 2
    g = int(feature_group_count)
    if g < 1 or x.shape[1] % g or w.shape[0] % g or w.shape[1] * g != x.shape[1]:
        raise ShapeError(f"{opname}: lhs has {x.shape[1]} channels and rhs {w.shape[0]} output channels of "
                         f"{w.shape[1]} inputs each; with feature_group_count={feature_group_count} both channel "
                         f"counts must split into that many groups of matching size")
    pads = ((0, 0),) * nd if isinstance(padding, str) and padding.upper() == "VALID" else _pairs(opname, padding, nd)
    return conv_p.bind(x, w, strides=_ints(opname, "window_strides", window_strides, nd), padding=pads,
                       lhs_dilation=_ints(opname, "lhs_dilation", lhs_dilation, nd),
                       rhs_dilation=_ints(opname, "rhs_dilation", rhs_dilation, nd), groups=g)


# ----- patches (im2col) and their transpose (col2im) -----------------------------------------


def _patches_shape(x, *, window, strides, dilation):
    lead = x.ndim - len(window)
    out = tuple(_out_size(n, k, s, dilation=d) for n, k, s, d in zip(x.shape[lead:], window, strides, dilation))
    return ShapedArray(x.shape[:lead] + out + tuple(window), x.dtype)


def _patches_t_impl(xp, cols, *, shape, window, strides, dilation):
    nd = len(window)
    out = cols.shape[cols.ndim - 2 * nd:cols.ndim - nd]
    y = xp.zeros(shape, cols.dtype)
    for k, idx in _offsets(window, dilation, out, strides):
        y[(Ellipsis,) + idx] += cols[(Ellipsis,) + k]
    return y


def _lead_batch(get_prim, n_trailing, shape_param=False):
    """Rule of window primitives: leading axes pass through, so the batch axis stays where it is
    when it is one of them and moves to the front otherwise."""
    def rule(vals, bdims, **params):
        from .shape import moveaxis
        (x,), (d,) = vals, bdims
        if d >= x.ndim - n_trailing(params):
            x, d = moveaxis(x, d, 0), 0
        if shape_param:
            params["shape"] = params["shape"][:d] + (x.shape[d],) + params["shape"][d:]
        return get_prim().bind(x, **params), d
    return rule


patches_p = defprim(
    "patches", impl=lambda xp, x, **p: xp.ascontiguousarray(_windows(xp, x, p["window"], p["strides"], p["dilation"])),
    shape=_patches_shape, vjp=lambda ct, x, *, out, **p: (patches_transpose_p.bind(ct, shape=x.shape, **p),),
    batch=_lead_batch(lambda: patches_p, lambda p: len(p["window"])))
patches_p.jvp = linear_jvp(patches_p)

patches_transpose_p = defprim(
    "patches_transpose", impl=_patches_t_impl, shape=lambda cols, *, shape, **p: ShapedArray(shape, cols.dtype),
    vjp=lambda ct, cols, *, out, shape, **p: (patches_p.bind(ct, **p),),
    batch=_lead_batch(lambda: patches_transpose_p, lambda p: 2 * len(p["window"]), shape_param=True))
patches_transpose_p.jvp = linear_jvp(patches_transpose_p)


def _window_params(opname, x, window, strides, dilation):
    nd = len(tuple(window))
    if nd > x.ndim:
        raise ShapeError(f"{opname}: a {nd}-d window needs at least {nd} dimensions, got shape {x.shape}")
    return (_ints(opname, "window", window, nd), _ints(opname, "strides", strides, nd),
            _ints(opname, "dilation", dilation, nd))


def patches(x, window, strides=None, dilation=None):
    """The windows of ``x``'s trailing axes, copied out (im2col): shape ``lead + out + window``.

    ``out[..., i, j, a, b] = x[..., i*sh + a*dh, j*sw + b*dw]``; pad first (with
    ``fnp.pad``) for windows that overhang. Linear, with ``patches_transpose``
    (which adds overlapping windows back) as its transpose.

    >>> import fnx.numpy as fnp
    >>> from fnx.numpy.windows import patches
    >>> patches(fnp.arange(5), (2,), (2,))
    Array([[0, 1],
           [2, 3]], dtype=int64)
    """
    x = asarray(x)
    window, strides, dilation = _window_params("patches", x, window, strides, dilation)
    return patches_p.bind(x, window=window, strides=strides, dilation=dilation)


def patches_transpose(cols, shape, window, strides=None, dilation=None):
    """col2im: windows ``cols`` (``lead + out + window``) added back into an array of ``shape``.

    The transpose of :func:`patches` (PyTorch's ``fold``, before cropping padding).

    >>> import fnx.numpy as fnp
    >>> from fnx.numpy.windows import patches_transpose
    >>> patches_transpose(fnp.ones((2, 3)), (4,), (3,))
    Array([1., 2., 2., 1.], dtype=float32)
    """
    cols = asarray(cols)
    shape = tuple(int(d) for d in shape)
    window, strides, dilation = _window_params("patches_transpose", cols, window, strides, dilation)
    expected = _patches_shape(ShapedArray(shape, cols.dtype), window=window, strides=strides, dilation=dilation)
    if cols.shape != expected.shape:
        raise ShapeError(f"patches_transpose: windows of shape {window} over {shape} come as {expected.shape}, "
                         f"got {cols.shape}")
    return patches_transpose_p.bind(cols, shape=shape, window=window, strides=strides, dilation=dilation)


# ----- max pooling ---------------------------------------------------------------------------


def _max_pool_impl(xp, x, *, window, strides, padding, dilation):
    x = _pad(xp, x, padding, _lowest(xp, x.dtype))
    lead = x.ndim - len(window)
    out = tuple(_out_size(n, k, s, dilation=d) for n, k, s, d in zip(x.shape[lead:], window, strides, dilation))
    y = None
    for _, idx in _offsets(window, dilation, out, strides):
        v = x[(Ellipsis,) + idx]
        if y is None:
            y = v.copy()
        else:
            xp.maximum(y, v, out=y)
    return y


def _max_pool_shape(x, *, window, strides, padding, dilation):
    lead = x.ndim - len(window)
    return ShapedArray(x.shape[:lead] + tuple(_out_size(n, k, s, p, 1, d) for n, k, s, p, d in
                                              zip(x.shape[lead:], window, strides, padding, dilation)), x.dtype)


def _argmax_impl(xp, x, *, window, strides, padding, dilation):
    v = _windows(xp, _pad(xp, x, padding, _lowest(xp, x.dtype)), window, strides, dilation)
    return xp.argmax(v.reshape(v.shape[:v.ndim - len(window)] + (-1,)), axis=-1)


def _argmax_shape(x, **params):
    return ShapedArray(_max_pool_shape(x, **params).shape, dtypes.int64)


max_pool_argmax_p = not_differentiable(
    "max_pool_argmax", _argmax_impl, _argmax_shape,
    batch=_lead_batch(lambda: max_pool_argmax_p, lambda p: len(p["window"])))


def _first_max_mask(x, window, strides, padding, dilation):
    """A one-hot mask over each window's patch (``lead + out + window``), at its first maximum."""
    from .creation import arange
    from .elementwise import astype, equal
    from .shape import expand_dims, reshape
    first = max_pool_argmax_p.bind(x, window=window, strides=strides, padding=padding, dilation=dilation)
    hot = equal(expand_dims(first, -1), arange(math.prod(window), device=x.device))
    return reshape(astype(hot, x.dtype), first.shape + window)


def _max_pool_jvp(primals, tangents, *, window, strides, padding, dilation):
    from .reductions import sum as _sum
    from .shape import pad
    (x,), (t,) = primals, tangents
    out = max_pool_p.bind(x, window=window, strides=strides, padding=padding, dilation=dilation)
    mask = _first_max_mask(x, window, strides, padding, dilation)
    lead = x.ndim - len(window)
    tw = patches_p.bind(pad(t, ((0, 0),) * lead + padding), window=window, strides=strides, dilation=dilation)
    return out, _sum(tw * mask, axis=tuple(range(mask.ndim - len(window), mask.ndim)))


def _max_pool_vjp(ct, x, *, out, window, strides, padding, dilation):
    from .shape import reshape, static_slice
    mask = _first_max_mask(x, window, strides, padding, dilation)
    lead = x.ndim - len(window)
    padded = x.shape[:lead] + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[lead:], padding))
    y = patches_transpose_p.bind(reshape(ct, ct.shape + (1,) * len(window)) * mask, shape=padded,
                                 window=window, strides=strides, dilation=dilation)
    return (static_slice(y, [slice(None)] * lead + [slice(lo, lo + n) for n, (lo, _) in
                                                     zip(x.shape[lead:], padding)]),)


def _max_pool_kinks(xp, x, *, window, strides, padding, dilation):
    from .reductions import _top_gap  # each window's maximum changes hands where its top two meet
    v = _windows(xp, _pad(xp, x, padding, _lowest(xp, x.dtype)), window, strides, dilation)
    return _top_gap(xp, v.reshape(v.shape[:v.ndim - len(window)] + (-1,)))


max_pool_p = defprim("max_pool", impl=_max_pool_impl, shape=_max_pool_shape, jvp=_max_pool_jvp,
                     vjp=_max_pool_vjp, batch=_lead_batch(lambda: max_pool_p, lambda p: len(p["window"])),
                     smooth=False, kinks=_max_pool_kinks)


def _pool_padding(opname, padding, nd):
    pads = ((0, 0),) * nd if padding is None else _pairs(opname, padding, nd)
    if any(lo < 0 or hi < 0 for lo, hi in pads):
        raise ValueError(f"{opname}: padding must be non-negative, got {pads}")
    return pads


def max_pool(x, window, strides=None, padding=None, dilation=None):
    """The maximum of each window over ``x``'s trailing ``len(window)`` axes.

    ``padding`` is one ``(low, high)`` pair of non-negative ints per windowed
    axis, filled with -inf. The derivative goes to the first maximum of each
    window (PyTorch's choice), not shared between ties.

    >>> import fnx.numpy as fnp
    >>> from fnx.numpy.windows import max_pool
    >>> max_pool(fnp.array([1., 3., 2., 5., 4.]), (2,), (2,), [(0, 1)])
    Array([3., 5., 4.], dtype=float32)
    """
    x = asarray(x)
    if x.dtype.kind not in "fiu":
        raise DTypeError(f"max_pool: expected a real array, got {x.dtype}")
    window, strides, dilation = _window_params("max_pool", x, window, strides, dilation)
    pads = _pool_padding("max_pool", padding, len(window))
    return max_pool_p.bind(x, window=window, strides=strides, padding=pads, dilation=dilation)


def max_pool_argmax(x, window, strides=None, padding=None, dilation=None):
    """For each window of :func:`max_pool`, the flat index (int64) of its first maximum within the window.

    Not differentiable. ``fnx.nn.functional.max_pool2d(..., return_indices=True)``
    turns it into positions in the input.

    >>> import fnx.numpy as fnp
    >>> from fnx.numpy.windows import max_pool_argmax
    >>> max_pool_argmax(fnp.array([1., 3., 3., 5., 4.]), (2,), (2,), [(0, 1)])
    Array([1, 1, 0], dtype=int64)
    """
    x = asarray(x)
    window, strides, dilation = _window_params("max_pool_argmax", x, window, strides, dilation)
    padding = _pool_padding("max_pool_argmax", padding, len(window))
    return max_pool_argmax_p.bind(x, window=window, strides=strides, padding=padding, dilation=dilation)
