"""Convolution and pooling with the signatures of ``torch.nn.functional``.

These functions translate PyTorch's arguments (ints or tuples, symmetric
padding, ``'same'``, ``ceil_mode``, ``count_include_pad``...) into the window
primitives of :mod:`fnx.numpy.windows` and nothing else, so every one of them
is differentiable (to any order for convolutions and average pooling) and
batchable with ``vmap``. Inputs are ``(N, C, *spatial)`` or, as PyTorch
allows, unbatched ``(C, *spatial)``.

* ``conv*d`` is one grouped, dilated convolution, plus the bias.
* ``conv_transpose*d`` is the convolution whose input gradient it is: the
  input spread out by the stride (zeros between elements), padded by
  ``dilation * (kernel - 1) - padding`` (plus ``output_padding`` at the end),
  convolved with the kernel flipped in space and its channel axes swapped.
* ``max_pool*d`` pads with -inf; in ``ceil_mode`` the last window may hang over
  the end, and the overhang never wins. Its gradient goes to the first maximum
  of each window, as PyTorch's does.
* ``avg_pool*d`` sums windows with a convolution by a kernel of ones, then
  divides by PyTorch's divisor: the window clipped to the padded input
  (``count_include_pad=True``), or to the input itself, or ``divisor_override``.
* ``adaptive_*_pool*d`` use PyTorch's windows ``floor(i * L / out)`` to
  ``ceil((i + 1) * L / out)``: regular pooling when ``out`` divides ``L``,
  otherwise an averaging matrix (avg) or a gather of the windows (max).
* ``unfold``/``fold`` are im2col and col2im (``patches`` and its transpose).
"""
import math
import operator

from .. import numpy as fnp
from ..core import autocast as _autocast
from ..errors import DTypeError, ShapeError
from ..numpy import windows
from ..numpy.windows import conv_general_dilated, max_pool_argmax, patches, patches_transpose

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d", "avg_pool2d", "avg_pool3d",
           "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d",
           "adaptive_max_pool2d", "adaptive_max_pool3d", "unfold", "fold"]


# ----- argument handling ------------------------------------------------------------------


def _tuple(op, what, value, nd, low=1):
    """An int or a sequence of ``nd`` ints (each at least ``low``) as a tuple of ``nd`` ints."""
    try:
        vals = (operator.index(value),) * nd if not isinstance(value, (tuple, list)) else \
            tuple(operator.index(v) for v in value)
    except TypeError:
        raise TypeError(f"{op}: {what} must be an int or a tuple of {nd} ints, got {value!r}") from None
    if len(vals) == 1 and nd > 1:
        vals = vals * nd
    if len(vals) != nd:
        raise ValueError(f"{op}: {what} must be an int or a tuple of {nd} ints, got {value!r}")
    if any(v < low for v in vals):
        raise ValueError(f"{op}: {what} must be {'positive' if low else 'non-negative'}, got {value!r}")
    return vals


def _input(op, x, nd):
    """``x`` as ``(N, C, *spatial)`` and whether it came unbatched, or a ShapeError naming ``op``."""
    x = fnp.asarray(x)
    if x.ndim == nd + 2:
        return x, False
    if x.ndim == nd + 1:
        return fnp.reshape(x, (1,) + x.shape), True
    raise ShapeError(f"{op}: expected a {nd + 1}-d (unbatched) or {nd + 2}-d (batched) input, got shape {x.shape}")


def _floating(op, **arrays):
    dts = {name: a.dtype for name, a in arrays.items() if a is not None}
    first, dt = next(iter(dts.items()))
    if dt.kind != "f":
        raise DTypeError(f"{op}: expected a floating {first}, got {dt}")
    for name, other in dts.items():
        if other != dt:
            raise DTypeError(f"{op}: {first} is {dt} but {name} is {other}; convert one with .astype "
                             f"(PyTorch does not mix dtypes here either)")


def _finish(y, bias, unbatched, nd):
    if bias is not None:
        y = y + fnp.reshape(bias, (bias.shape[0],) + (1,) * nd)
    return fnp.reshape(y, y.shape[1:]) if unbatched else y


def _bias(op, bias, channels):
    if bias is None:
        return None
    bias = fnp.asarray(bias)
    if bias.shape != (channels,):
        raise ShapeError(f"{op}: bias must have shape ({channels},), one per output channel, got {bias.shape}")
    return bias


def _check_fits(op, sizes, pads, kernel, dilation):
    for n, (lo, hi), k, d in zip(sizes, pads, kernel, dilation):
        if n + lo + hi < (k - 1) * d + 1:
            raise ShapeError(f"{op}: the kernel {tuple(kernel)} (dilation {tuple(dilation)}) is larger than the "
                             f"padded input {tuple(s + a + b for s, (a, b) in zip(sizes, pads))}")


# ----- convolution ------------------------------------------------------------------------


def _conv(op, nd, input, weight, bias, stride, padding, dilation, groups):
    x, unbatched = _input(op, input, nd)
    w = fnp.asarray(weight)
    if _autocast.state:
        x, w, bias = _autocast.lower(x, w, bias)
    if w.ndim != nd + 2:
        raise ShapeError(f"{op}: weight must be (out_channels, in_channels / groups, *kernel) with {nd + 2} "
                         f"dimensions, got shape {w.shape}")
    bias = _bias(op, bias, w.shape[0])
    _floating(op, input=x, weight=w, bias=bias)
    groups = _tuple(op, "groups", groups, 1)[0]
    c, o = x.shape[1], w.shape[0]
    if w.shape[1] * groups != c:
        raise ShapeError(f"{op}: input has {c} channels but weight expects {w.shape[1] * groups} (groups={groups}); "
                         f"input shape {x.shape}, weight shape {w.shape}")
    if o % groups:
        raise ShapeError(f"{op}: weight has {o} output channels, which groups={groups} does not divide")
    stride, dilation = _tuple(op, "stride", stride, nd), _tuple(op, "dilation", dilation, nd)
    kernel = w.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' is not supported for strided convolutions (stride {stride})")
            # PyTorch puts the odd element of the total padding at the end.
            pads = tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(kernel, dilation))
        else:
            raise ValueError(f"{op}: padding must be 'valid', 'same', an int or a tuple of {nd} ints, "
                             f"got {padding!r}")
    else:
        pads = tuple((p, p) for p in _tuple(op, "padding", padding, nd, low=0))
    _check_fits(op, x.shape[2:], pads, kernel, dilation)
    y = conv_general_dilated(x, w, stride, pads, rhs_dilation=dilation, feature_group_count=groups)
    return _finish(y, bias, unbatched, nd)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution over ``(N, C, L)`` (or ``(C, L)``), as ``torch.nn.functional.conv1d``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.conv1d(fnp.arange(5.0).reshape(1, 1, 5), fnp.ones((1, 1, 3)), padding=1)
    Array([[[1., 3., 6., 9., 7.]]], dtype=float32)
    """
    return _conv("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution (cross-correlation), as ``torch.nn.functional.conv2d``.

    Args:
      input: ``(N, C, H, W)`` or unbatched ``(C, H, W)``.
      weight: ``(O, C / groups, kH, kW)``.
      bias: ``(O,)`` or None.
      stride, dilation: an int or a pair.
      padding: an int, a pair (each side of each axis), ``'valid'`` or ``'same'`` (stride 1 only).
      groups: input and output channels split into this many independent groups.

    Returns:
      ``(N, O, H_out, W_out)``, with ``H_out = (H + 2 p - d (k - 1) - 1) // s + 1``.

    Raises:
      ShapeError: for mismatched channels, groups or a kernel larger than the padded input.
      DTypeError: for non-floating or mixed dtypes.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.conv2d(fnp.ones((1, 3, 5, 5)), fnp.ones((4, 3, 3, 3)), stride=2).shape
    (1, 4, 2, 2)
    """
    return _conv("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-d convolution over ``(N, C, D, H, W)``, as ``torch.nn.functional.conv3d``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.conv3d(fnp.ones((2, 4, 3, 3, 3)), fnp.ones((2, 2, 3, 3, 3)), groups=2).shape
    (2, 2, 1, 1, 1)
    """
    return _conv("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transpose(op, nd, input, weight, bias, stride, padding, output_padding, groups, dilation):
    x, unbatched = _input(op, input, nd)
    w = fnp.asarray(weight)
    if _autocast.state:
        x, w, bias = _autocast.lower(x, w, bias)
    if w.ndim != nd + 2:
        raise ShapeError(f"{op}: weight must be (in_channels, out_channels / groups, *kernel) with {nd + 2} "
                         f"dimensions, got shape {w.shape}")
    groups = _tuple(op, "groups", groups, 1)[0]
    c, og, kernel = w.shape[0], w.shape[1], w.shape[2:]
    bias = _bias(op, bias, og * groups)
    _floating(op, input=x, weight=w, bias=bias)
    if x.shape[1] != c:
        raise ShapeError(f"{op}: input has {x.shape[1]} channels but weight expects {c} (weight is "
                         f"(in_channels, out_channels / groups, *kernel) = {w.shape})")
    if c % groups:
        raise ShapeError(f"{op}: input has {c} channels, which groups={groups} does not divide")
    stride, dilation = _tuple(op, "stride", stride, nd), _tuple(op, "dilation", dilation, nd)
    padding = _tuple(op, "padding", padding, nd, low=0)
    out_pad = _tuple(op, "output_padding", output_padding, nd, low=0)
    for p, s, d in zip(out_pad, stride, dilation):
        if p >= max(s, d):
            raise ValueError(f"{op}: output_padding {out_pad} must be smaller than either stride {stride} or "
                             f"dilation {dilation}")
    sizes = tuple((n - 1) * s - 2 * p + d * (k - 1) + q + 1
                  for n, s, p, d, k, q in zip(x.shape[2:], stride, padding, dilation, kernel, out_pad))
    if any(n < 1 for n in sizes):
        raise ShapeError(f"{op}: input of spatial size {x.shape[2:]} gives an empty output {sizes} "
                         f"(kernel {kernel}, stride {stride}, padding {padding}, dilation {dilation})")
    # (G*Cg, Og) -> (G*Og, Cg), flipped in space: the kernel of the convolution this one transposes.
    cg, space = c // groups, tuple(range(3, 3 + nd))
    wt = fnp.transpose(fnp.reshape(w, (groups, cg, og) + kernel), (0, 2, 1) + space)
    wt = fnp.flip(fnp.reshape(wt, (groups * og, cg) + kernel), axis=tuple(range(2, 2 + nd)))
    pads = tuple((d * (k - 1) - p, d * (k - 1) - p + q) for k, d, p, q in zip(kernel, dilation, padding, out_pad))
    y = conv_general_dilated(x, wt, None, pads, lhs_dilation=stride, rhs_dilation=dilation,
                             feature_group_count=groups)
    return _finish(y, bias, unbatched, nd)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """1-d transposed convolution, as ``torch.nn.functional.conv_transpose1d``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.conv_transpose1d(fnp.ones((1, 1, 3)), fnp.ones((1, 1, 2)), stride=2)
    Array([[[1., 1., 1., 1., 1., 1.]]], dtype=float32)
    """
    return _conv_transpose("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """2-d transposed convolution ("deconvolution"), as ``torch.nn.functional.conv_transpose2d``.

    ``weight`` is ``(C_in, C_out / groups, kH, kW)``; the output's size is
    ``(H - 1) s - 2 p + d (k - 1) + output_padding + 1``. It is the gradient of
    ``conv2d`` with respect to its input.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.conv_transpose2d(fnp.ones((1, 4, 3, 3)), fnp.ones((4, 2, 3, 3)), stride=2, padding=1,
    ...                    output_padding=1).shape
    (1, 2, 6, 6)
    """
    return _conv_transpose("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """3-d transposed convolution, as ``torch.nn.functional.conv_transpose3d``."""
    return _conv_transpose("conv_transpose3d", 3, input, weight, bias, stride, padding, output_padding, groups,
                           dilation)


# ----- pooling ------------------------------------------------------------------------------


def _pool_input(op, x, nd):
    x = fnp.asarray(x)
    if x.ndim not in (nd + 1, nd + 2):
        raise ShapeError(f"{op}: expected a {nd + 1}-d (unbatched) or {nd + 2}-d (batched) input, "
                         f"got shape {x.shape}")
    return x


def _pool_geometry(op, x, nd, kernel_size, stride, padding, dilation, ceil_mode):
    """Kernel, stride, dilation, output sizes and (low, high) padding of a PyTorch pooling call.

    The high side is padded as far as the last window reaches, which in
    ``ceil_mode`` may be past PyTorch's own padding.
    """
    kernel = _tuple(op, "kernel_size", kernel_size, nd)
    stride = kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) else \
        _tuple(op, "stride", stride, nd)
    padding = _tuple(op, "padding", padding, nd, low=0)
    dilation = _tuple(op, "dilation", dilation, nd)
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise ShapeError(f"{op}: padding {padding} should be at most half of kernel size {kernel}")
    sizes, outs, pads = x.shape[x.ndim - nd:], [], []
    for n, k, s, p, d in zip(x.shape[x.ndim - nd:], kernel, stride, padding, dilation):
        span = n + 2 * p - d * (k - 1) - 1
        out = (span + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (out - 1) * s >= n + p:  # the last window must start inside the input or left padding
            out -= 1
        outs.append(out)
        pads.append((p, max(0, (out - 1) * s + d * (k - 1) + 1 - n - p)))
    if any(o < 1 for o in outs):
        raise ShapeError(f"{op}: input of spatial size {sizes} gives an empty output {tuple(outs)} (kernel "
                         f"{kernel}, stride {stride}, padding {padding}, dilation {dilation})")
    return kernel, stride, dilation, tuple(outs), tuple(pads)


def _max_pool(op, nd, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    x = _pool_input(op, input, nd)
    if x.dtype.kind not in "fiu":
        raise DTypeError(f"{op}: expected a real input, got {x.dtype}")
    kernel, stride, dilation, outs, pads = _pool_geometry(op, x, nd, kernel_size, stride, padding, dilation,
                                                          ceil_mode)
    y = windows.max_pool(x, kernel, stride, pads, dilation)
    if not return_indices:
        return y
    # The first maximum's offset in its window, unravelled, gives its position in the input.
    first = max_pool_argmax(x, kernel, stride, pads, dilation)
    flat, size = 0, math.prod(kernel)
    for j, (o, k, s, (lo, _), d, n) in enumerate(zip(outs, kernel, stride, pads, dilation, x.shape[x.ndim - nd:])):
        size //= k
        offset = (first // size) % k
        start = fnp.reshape(fnp.arange(o, device=x.device) * s - lo, (o,) + (1,) * (nd - 1 - j))
        flat = flat * n + start + offset * d
    return y, flat


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """1-d max pooling, as ``torch.nn.functional.max_pool1d``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.max_pool1d(fnp.array([[[1., 3., 2., 5., 4.]]]), 2, ceil_mode=True)
    Array([[[3., 5., 4.]]], dtype=float32)
    """
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """2-d max pooling, as ``torch.nn.functional.max_pool2d``.

    Args:
      input: ``(N, C, H, W)`` or ``(C, H, W)``.
      kernel_size, stride (default: ``kernel_size``), padding (at most half the
        kernel, filled with -inf), dilation: an int or a pair.
      ceil_mode: round the output size up, letting the last window hang over the end.
      return_indices: also return, per output, the flat index ``h * W + w`` of the
        maximum in its input plane (int64), as PyTorch does.

    The gradient goes to the first maximum of each window.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> y, i = F.max_pool2d(fnp.arange(16.0).reshape(1, 1, 4, 4), 2, return_indices=True)
    >>> y
    Array([[[[ 5.,  7.],
             [13., 15.]]]], dtype=float32)
    >>> i
    Array([[[[ 5,  7],
             [13, 15]]]], dtype=int64)
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """3-d max pooling, as ``torch.nn.functional.max_pool3d``."""
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _avg_pool(op, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    x = _pool_input(op, input, nd)
    _floating(op, input=x)
    kernel, stride, _, outs, pads = _pool_geometry(op, x, nd, kernel_size, stride, padding, 1, ceil_mode)
    lead, sizes = x.shape[:x.ndim - nd], x.shape[x.ndim - nd:]
    ones = fnp.ones((1, 1) + kernel, dtype=x.dtype, device=x.device)
    sums = conv_general_dilated(fnp.reshape(x, (-1, 1) + sizes), ones, stride, pads)
    sums = fnp.reshape(sums, lead + outs)
    if divisor_override is not None:
        if operator.index(divisor_override) == 0:
            raise ValueError(f"{op}: divisor_override must be non-zero")
        return sums / float(divisor_override)
    # PyTorch's divisor: the window clipped to the padded input (count_include_pad) or to
    # the input. A window is a box, so its count is a product of one count per axis.
    counts = []
    for o, k, s, (p, _), n in zip(outs, kernel, stride, pads, sizes):
        starts = [i * s - p for i in range(o)]
        ends = [min(a + k, n + p) for a in starts]
        counts.append([b - a if count_include_pad else min(b, n) - max(a, 0) for a, b in zip(starts, ends)])
    if all(len(set(c)) == 1 for c in counts):
        return sums / float(math.prod(c[0] for c in counts))
    divisor = 1.0
    for j, c in enumerate(counts):
        divisor = divisor * fnp.reshape(fnp.asarray(c, dtype=x.dtype, device=x.device),
                                        (len(c),) + (1,) * (nd - 1 - j))
    return sums / divisor


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """1-d average pooling, as ``torch.nn.functional.avg_pool1d``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.avg_pool1d(fnp.array([[[1., 2., 3., 4.]]]), 2, padding=1)
    Array([[[0.5, 2.5, 2. ]]], dtype=float32)
    """
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """2-d average pooling, as ``torch.nn.functional.avg_pool2d``.

    Zero padding counts in the divisor when ``count_include_pad`` (as in
    PyTorch); a ``ceil_mode`` overhang never does; ``divisor_override``
    replaces the divisor altogether.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> x = fnp.arange(9.0).reshape(1, 1, 3, 3)
    >>> F.avg_pool2d(x, 2, padding=1, count_include_pad=False)
    Array([[[[0. , 1.5],
             [4.5, 6. ]]]], dtype=float32)
    """
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """3-d average pooling, as ``torch.nn.functional.avg_pool3d``."""
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def _adaptive_sizes(op, x, nd, output_size):
    sizes = x.shape[x.ndim - nd:]
    if isinstance(output_size, (tuple, list)):
        if len(output_size) == 1 and nd > 1:
            output_size = tuple(output_size) * nd
        outs = tuple(n if o is None else o for o, n in zip(output_size, sizes)) \
            if len(output_size) == nd else output_size
    else:
        outs = output_size
    outs = _tuple(op, "output_size", outs, nd)
    return sizes, outs


def _windows_of(n, out):
    """PyTorch's adaptive windows: ``[floor(i n / out), ceil((i + 1) n / out))`` for each output i."""
    return [(i * n // out, -(-(i + 1) * n // out)) for i in range(out)]


def _adaptive_avg(op, nd, input, output_size):
    x = _pool_input(op, input, nd)
    _floating(op, input=x)
    sizes, outs = _adaptive_sizes(op, x, nd, output_size)
    y = x
    for j, (n, out) in enumerate(zip(sizes, outs)):
        axis = x.ndim - nd + j
        if n == out:
            continue
        if n % out == 0:  # equal windows side by side: a reshape and a mean
            y = fnp.mean(fnp.reshape(y, y.shape[:axis] + (out, n // out) + y.shape[axis + 1:]), axis=axis + 1)
            continue
        rows = [[1.0 / (b - a) if a <= i < b else 0.0 for i in range(n)] for a, b in _windows_of(n, out)]
        avg = fnp.asarray(rows, dtype=x.dtype, device=x.device)
        y = fnp.moveaxis(fnp.matmul(avg, fnp.moveaxis(y, axis, -2)), -2, axis)
    return y


def adaptive_avg_pool1d(input, output_size):
    """Average pooling to ``output_size`` positions, as ``torch.nn.functional.adaptive_avg_pool1d``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.adaptive_avg_pool1d(fnp.array([[[1., 2., 3., 4., 5.]]]), 2)
    Array([[[2., 4.]]], dtype=float32)
    """
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to an ``output_size`` grid, as ``torch.nn.functional.adaptive_avg_pool2d``.

    Output ``i`` averages inputs ``floor(i L / out)`` to ``ceil((i + 1) L / out) - 1``;
    ``None`` in ``output_size`` keeps that axis's size.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.adaptive_avg_pool2d(fnp.ones((2, 3, 7, 5)), (1, None)).shape
    (2, 3, 1, 5)
    """
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    """Average pooling to an ``output_size`` grid, as ``torch.nn.functional.adaptive_avg_pool3d``."""
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


def _adaptive_max(op, nd, input, output_size, return_indices):
    x = _pool_input(op, input, nd)
    if x.dtype.kind not in "fiu":
        raise DTypeError(f"{op}: expected a real input, got {x.dtype}")
    sizes, outs = _adaptive_sizes(op, x, nd, output_size)
    lead = x.shape[:x.ndim - nd]
    if all(n % o == 0 for n, o in zip(sizes, outs)):  # equal, disjoint windows: ordinary max pooling
        kernel = tuple(n // o for n, o in zip(sizes, outs))
        return _max_pool(op, nd, x, kernel, kernel, 0, 1, False, return_indices)
    # Gather each window, padded to the longest by repeating its last element (which
    # changes neither the maximum nor which element comes first), axis by axis.
    win, positions = x, []
    for j, (n, out) in enumerate(zip(sizes, outs)):
        bounds = _windows_of(n, out)
        k = max(b - a for a, b in bounds)
        idx = [min(a + t, b - 1) for a, b in bounds for t in range(k)]
        axis = len(lead) + 2 * j
        win = fnp.reshape(fnp.take(win, fnp.asarray(idx, device=x.device), axis=axis),
                          win.shape[:axis] + (out, k) + win.shape[axis + 1:])
        positions.append((idx, out, k))
    # lead + (o1, k1, o2, k2, ...) -> lead + (o1, o2, ...) + (k1 * k2 * ...)
    n_lead = len(lead)
    perm = tuple(range(n_lead)) + tuple(n_lead + 2 * j for j in range(nd)) + tuple(n_lead + 2 * j + 1
                                                                                   for j in range(nd))
    win = fnp.transpose(win, perm)
    win = fnp.reshape(win, win.shape[:n_lead + nd] + (-1,))
    # The first maximum, selected with a one-hot mask (which sends the gradient there alone).
    hot = fnp.expand_dims(fnp.argmax(win, axis=-1), -1) == fnp.arange(win.shape[-1], device=x.device)
    y = fnp.sum(fnp.where(hot, win, 0), axis=-1)
    if not return_indices:
        return y
    flat = 0
    for j, ((idx, out, k), n) in enumerate(zip(positions, sizes)):  # input positions of every window element
        pos = fnp.reshape(fnp.asarray(idx, device=x.device),
                          (1,) * j + (out,) + (1,) * (nd - 1) + (k,) + (1,) * (nd - 1 - j))
        flat = flat * n + pos
    flat = fnp.reshape(fnp.broadcast_to(flat, outs + tuple(p[2] for p in positions)), outs + (-1,))
    return y, fnp.sum(fnp.where(hot, flat, 0), axis=-1)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling to ``output_size`` positions, as ``torch.nn.functional.adaptive_max_pool1d``.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.adaptive_max_pool1d(fnp.array([[[1., 5., 2., 4., 3.]]]), 3)
    Array([[[5., 5., 4.]]], dtype=float32)
    """
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to an ``output_size`` grid, as ``torch.nn.functional.adaptive_max_pool2d``.

    Windows as in :func:`adaptive_avg_pool2d`; the gradient goes to the first maximum of each.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.adaptive_max_pool2d(fnp.arange(25.0).reshape(1, 5, 5), 2)
    Array([[[12., 14.],
            [22., 24.]]], dtype=float32)
    """
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling to an ``output_size`` grid, as ``torch.nn.functional.adaptive_max_pool3d``."""
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


# ----- im2col and col2im ----------------------------------------------------------------------


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """The sliding blocks of an image as columns (im2col), as ``torch.nn.functional.unfold``.

    ``(N, C, H, W)`` (or ``(C, H, W)``) becomes ``(N, C * kH * kW, L)``, with
    ``L`` the number of block positions; the column index runs over channels,
    then kernel rows, then kernel columns.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.unfold(fnp.arange(9.0).reshape(1, 1, 3, 3), 2)
    Array([[[0., 1., 3., 4.],
            [1., 2., 4., 5.],
            [3., 4., 6., 7.],
            [4., 5., 7., 8.]]], dtype=float32)
    """
    op = "unfold"
    x, unbatched = _input(op, input, 2)
    kernel, dilation = _tuple(op, "kernel_size", kernel_size, 2), _tuple(op, "dilation", dilation, 2)
    padding, stride = _tuple(op, "padding", padding, 2, low=0), _tuple(op, "stride", stride, 2)
    pads = tuple((p, p) for p in padding)
    _check_fits(op, x.shape[2:], pads, kernel, dilation)
    cols = patches(fnp.pad(x, ((0, 0), (0, 0)) + pads), kernel, stride, dilation)  # (N, C, oh, ow, kh, kw)
    n, c, oh, ow = cols.shape[:4]
    cols = fnp.reshape(fnp.transpose(cols, (0, 1, 4, 5, 2, 3)), (n, c * kernel[0] * kernel[1], oh * ow))
    return fnp.reshape(cols, cols.shape[1:]) if unbatched else cols


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Columns of sliding blocks summed back into an image (col2im), as ``torch.nn.functional.fold``.

    The transpose of :func:`unfold`: ``(N, C * kH * kW, L)`` becomes
    ``(N, C, *output_size)``, overlapping blocks adding up.

    >>> import fnx.numpy as fnp, fnx.nn.functional as F
    >>> F.fold(fnp.ones((1, 4, 4)), (3, 3), 2)
    Array([[[[1., 2., 1.],
             [2., 4., 2.],
             [1., 2., 1.]]]], dtype=float32)
    """
    op = "fold"
    cols = fnp.asarray(input)
    if cols.ndim not in (2, 3):
        raise ShapeError(f"{op}: expected a 2-d (unbatched) or 3-d (batched) input, got shape {cols.shape}")
    unbatched = cols.ndim == 2
    if unbatched:
        cols = fnp.reshape(cols, (1,) + cols.shape)
    size = _tuple(op, "output_size", output_size, 2)
    kernel, dilation = _tuple(op, "kernel_size", kernel_size, 2), _tuple(op, "dilation", dilation, 2)
    padding, stride = _tuple(op, "padding", padding, 2, low=0), _tuple(op, "stride", stride, 2)
    outs = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, p, d, k, s in zip(size, padding, dilation, kernel,
                                                                                 stride))
    n, ck, length = cols.shape
    if ck % math.prod(kernel) or length != math.prod(outs) or min(outs) < 1:
        raise ShapeError(f"{op}: input of shape {tuple(cols.shape)} does not hold blocks of {kernel} at "
                         f"{outs} positions of an output of size {size} (expected (N, C * {math.prod(kernel)}, "
                         f"{math.prod(outs)}))")
    c = ck // math.prod(kernel)
    cols = fnp.transpose(fnp.reshape(cols, (n, c) + kernel + outs), (0, 1, 4, 5, 2, 3))
    padded = (n, c) + tuple(s + 2 * p for s, p in zip(size, padding))
    y = patches_transpose(cols, padded, kernel, stride, dilation)
    y = y[:, :, padding[0]:padding[0] + size[0], padding[1]:padding[1] + size[1]]
    return fnp.reshape(y, y.shape[1:]) if unbatched else y
