"""``jax.lax``'s operations, for JAX code that calls them directly (``lax.rsqrt``, ``lax.dot_general``,
``lax.conv_general_dilated``, ``lax.dynamic_slice``, ``lax.reduce_window``...); re-exported by :mod:`fnx.lax`.

Each one is written with ``fnx.numpy`` (and the window primitives behind ``fnx.nn.functional``'s
convolutions), so all of them differentiate, vmap and jit. They keep lax's stricter contract where
it changes results: binary operations refuse operands of two dtypes (Python scalars are weak and take
the array's), ``div`` of integers rounds toward zero and ``rem`` takes the dividend's sign (C's
semantics, not Python's), ``round`` rounds halves away from zero unless told otherwise, and
``dynamic_slice`` clamps its start indices so that the slice fits.
"""
import builtins
import enum
import math
import operator
from collections import namedtuple

import numpy as np

from . import numpy as fnp
from .core import tree as tree_util
from .core.array import Array
from .core.backend import data_device
from .errors import DTypeError, ShapeError
from .numpy.windows import conv_general_dilated as _conv_nc, patches as _patches

__all__ = [
    "rsqrt", "logistic", "erf", "erfc", "erf_inv", "lgamma", "digamma", "complex", "div", "rem",
    "shift_right_logical", "population_count", "integer_pow", "round", "clz", "convert_element_type", "broadcast",
    "broadcast_in_dim", "broadcast_to_rank", "reshape", "transpose", "squeeze", "expand_dims", "collapse",
    "concatenate", "split", "rev", "pad", "slice", "slice_in_dim", "index_in_dim", "dynamic_slice",
    "dynamic_update_slice", "dynamic_slice_in_dim", "dynamic_index_in_dim", "dynamic_update_slice_in_dim",
    "dynamic_update_index_in_dim", "iota", "broadcasted_iota", "full", "full_like", "reduce_sum", "reduce_prod",
    "reduce_max", "reduce_min", "reduce_and", "reduce_or", "argmax", "argmin", "reduce", "associative_scan",
    "sort", "sort_key_val", "top_k", "dot", "dot_general", "batch_matmul", "conv_dimension_numbers",
    "padtype_to_pads", "conv_general_dilated", "conv", "conv_with_general_padding", "conv_transpose",
    "reduce_window", "optimization_barrier", "select_n", "abs", "acos", "acosh", "asin", "asinh", "atan", "atanh",
    "cbrt", "ceil", "conj", "cos", "cosh", "exp", "exp2", "expm1", "floor", "imag", "is_finite", "log", "log1p",
    "neg", "real", "sign", "sin", "sinh", "sqrt", "square", "tan", "tanh", "bitwise_not", "reciprocal", "add",
    "sub", "mul", "max", "min", "pow", "atan2", "nextafter", "bitwise_and", "bitwise_or", "bitwise_xor",
    "shift_left", "shift_right_arithmetic", "eq", "ne", "lt", "le", "gt", "ge", "not_", "cumsum", "cumprod",
    "cummax", "cummin", "cumlogsumexp", "RoundingMethod", "ConvDimensionNumbers", "polygamma", "zeta", "igamma",
    "igammac", "bessel_i0e", "bessel_i1e", "approx_max_k", "approx_min_k", "broadcast_shapes", "betainc",
]

# ----- elementwise ------------------------------------------------------------------------------


_SCALARS = (builtins.bool, builtins.int, builtins.float, builtins.complex)  # this module defines lax.complex


def _same_dtypes(name, args, numpy_name=None):
    """lax's binary operations do no promotion: every array operand has one dtype (scalars are weak)."""
    arrays = [a if isinstance(a, _SCALARS) else fnp.asarray(a) for a in args]
    dts = {a.dtype for a in arrays if not isinstance(a, _SCALARS)}
    if len(dts) > 1:
        raise DTypeError(f"lax.{name} requires arguments to have the same dtypes, got "
                         f"{', '.join(str(d) for d in sorted(dts, key=str))} (fnx.numpy.{numpy_name or name} "
                         f"promotes)")
    return arrays


def _binary(name, fn):
    def op(x, y):
        return fn(*_same_dtypes(name, (x, y)))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"``lax.{name}``: elementwise, operands of one dtype (no promotion)."
    return op


def _unary(name, fn):
    def op(x):
        return fn(fnp.asarray(x))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"``lax.{name}``, elementwise."
    return op


# The operations that are fnx.numpy's under another name: elementwise, one dtype for binary ones.
abs = _unary("abs", fnp.abs)
acos = _unary("acos", fnp.arccos)
acosh = _unary("acosh", fnp.arccosh)
asin = _unary("asin", fnp.arcsin)
asinh = _unary("asinh", fnp.arcsinh)
atan = _unary("atan", fnp.arctan)
atanh = _unary("atanh", fnp.arctanh)
cbrt = _unary("cbrt", fnp.cbrt)
ceil = _unary("ceil", fnp.ceil)
conj = _unary("conj", fnp.conj)
cos = _unary("cos", fnp.cos)
cosh = _unary("cosh", fnp.cosh)
exp = _unary("exp", fnp.exp)
exp2 = _unary("exp2", fnp.exp2)
expm1 = _unary("expm1", fnp.expm1)
floor = _unary("floor", fnp.floor)
imag = _unary("imag", fnp.imag)
is_finite = _unary("is_finite", fnp.isfinite)
log = _unary("log", fnp.log)
log1p = _unary("log1p", fnp.log1p)
neg = _unary("neg", fnp.negative)
real = _unary("real", fnp.real)
sign = _unary("sign", fnp.sign)
sin = _unary("sin", fnp.sin)
sinh = _unary("sinh", fnp.sinh)
sqrt = _unary("sqrt", fnp.sqrt)
square = _unary("square", fnp.square)
tan = _unary("tan", fnp.tan)
tanh = _unary("tanh", fnp.tanh)
bitwise_not = _unary("bitwise_not", fnp.bitwise_not)
reciprocal = _unary("reciprocal", fnp.reciprocal)
add = _binary("add", fnp.add)
sub = _binary("sub", fnp.subtract)
mul = _binary("mul", fnp.multiply)
max = _binary("max", fnp.maximum)
min = _binary("min", fnp.minimum)
def pow(x, y):
    """``x ** y`` elementwise: operands of one dtype, or, as JAX allows, an integer exponent array for a
    floating or complex base (the result in the base's dtype)."""
    if not isinstance(x, _SCALARS) and not isinstance(y, _SCALARS):
        x, y = fnp.asarray(x), fnp.asarray(y)
        if x.dtype.kind in "fc" and y.dtype.kind in "iu":
            return fnp.power(x, y.astype(x.dtype))
    return fnp.power(*_same_dtypes("pow", (x, y)))
atan2 = _binary("atan2", fnp.arctan2)
nextafter = _binary("nextafter", lambda x, y: fnp.nextafter(x, y))  # looked up when called
bitwise_and = _binary("bitwise_and", fnp.bitwise_and)
bitwise_or = _binary("bitwise_or", fnp.bitwise_or)
bitwise_xor = _binary("bitwise_xor", fnp.bitwise_xor)
shift_left = _binary("shift_left", fnp.left_shift)
shift_right_arithmetic = _binary("shift_right_arithmetic", fnp.right_shift)
eq = _binary("eq", fnp.equal)
ne = _binary("ne", fnp.not_equal)
lt = _binary("lt", fnp.less)
le = _binary("le", fnp.less_equal)
gt = _binary("gt", fnp.greater)
ge = _binary("ge", fnp.greater_equal)
not_ = bitwise_not


def _special(name):
    from .scipy import special
    return getattr(special, name)


def rsqrt(x):
    """``1 / sqrt(x)``."""
    return fnp.reciprocal(fnp.sqrt(fnp.asarray(x)))


def logistic(x):
    """The sigmoid ``1 / (1 + exp(-x))``."""
    return _special("expit")(fnp.asarray(x))


def erf(x):
    return _special("erf")(fnp.asarray(x))


def erfc(x):
    return _special("erfc")(fnp.asarray(x))


def erf_inv(x):
    return _special("erfinv")(fnp.asarray(x))


def lgamma(x):
    return _special("gammaln")(fnp.asarray(x))


def digamma(x):
    return _special("digamma")(fnp.asarray(x))


def polygamma(m, x):
    """The ``m``-th derivative of the digamma function (``m`` and ``x`` of one dtype)."""
    return _special("polygamma")(*_same_dtypes("polygamma", (m, x)))


def zeta(x, q):
    """The Hurwitz zeta function ``sum((n + q) ** -x)`` (``x`` and ``q`` of one dtype)."""
    return _special("zeta")(*_same_dtypes("zeta", (x, q)))


def igamma(a, x):
    """The regularized lower incomplete gamma function (``scipy.special.gammainc``)."""
    return _special("gammainc")(*_same_dtypes("igamma", (a, x)))


def igammac(a, x):
    """The regularized upper incomplete gamma function, ``1 - igamma(a, x)`` (``scipy.special.gammaincc``)."""
    return _special("gammaincc")(*_same_dtypes("igammac", (a, x)))


def betainc(a, b, x):
    """The regularized incomplete beta function ``I_x(a, b)`` (``a``, ``b`` and ``x`` of one dtype)."""
    return _special("betainc")(*_same_dtypes("betainc", (a, b, x)))


def bessel_i0e(x):
    """The exponentially scaled modified Bessel function of order 0, ``exp(-|x|) I0(x)``."""
    return _special("i0e")(fnp.asarray(x))


def bessel_i1e(x):
    """The exponentially scaled modified Bessel function of order 1, ``exp(-|x|) I1(x)``."""
    return _special("i1e")(fnp.asarray(x))


def complex(x, y):
    """``x + 1j * y`` from two real arrays of one dtype."""
    x, y = _same_dtypes("complex", (x, y))
    return fnp.add(x, fnp.multiply(y, 1j))


def div(x, y):
    """``x / y``; for integers rounded toward zero (C's division, not Python's floor)."""
    x, y = _same_dtypes("div", (x, y))
    kind = (y if isinstance(x, _SCALARS) else x).dtype.kind
    if kind in "iub":
        zero = fnp.asarray(y) == 0
        y = fnp.where(zero, fnp.asarray(1).astype(fnp.asarray(y).dtype), y)
        q = fnp.floor_divide(x, y)
        # floor and truncation differ where the quotient is negative and inexact
        q = fnp.where((fnp.remainder(x, y) != 0) & ((fnp.asarray(x) < 0) != (fnp.asarray(y) < 0)), q + 1, q)
        return fnp.where(zero, fnp.asarray(-1).astype(q.dtype), q)  # by 0, XLA's: every bit set
    return fnp.divide(x, y)


def rem(x, y):
    """The remainder of ``div``: the sign of ``x`` (C's ``fmod``), not Python's; an integer ``x`` by 0 is ``x``,
    as XLA's."""
    x, y = _same_dtypes("rem", (x, y))
    if (y if isinstance(x, _SCALARS) else x).dtype.kind not in "iu":
        return fnp.fmod(x, y)
    zero = fnp.asarray(y) == 0
    return fnp.where(zero, x, fnp.fmod(x, fnp.where(zero, fnp.asarray(1).astype(fnp.asarray(y).dtype), y)))


def shift_right_logical(x, y):
    """``x >> y`` filling with zeros, for signed integers too."""
    x, y = _same_dtypes("shift_right_logical", (x, y))
    x = fnp.asarray(x)
    unsigned = np.dtype(f"uint{x.dtype.itemsize * 8}")
    return fnp.right_shift(x.astype(unsigned), fnp.asarray(y).astype(unsigned)).astype(x.dtype)


def population_count(x):
    """The number of set bits of each integer (of its two's-complement bits, for negative ones)."""
    x = fnp.asarray(x)
    bits = x.dtype.itemsize * 8
    u = x.astype(np.dtype(f"uint{bits}"))
    one = fnp.asarray(1, u.dtype)
    count = fnp.zeros(x.shape, u.dtype)
    for shift in range(bits):
        count = count + (fnp.right_shift(u, fnp.asarray(shift, u.dtype)) & one)
    return count.astype(x.dtype)


def integer_pow(x, y):
    """``x ** y`` for a Python int ``y`` (negative allowed for inexact ``x``)."""
    if not isinstance(y, int):
        raise TypeError(f"lax.integer_pow: the exponent must be a Python int, got {type(y).__name__}")
    x = fnp.asarray(x)
    return fnp.reciprocal(fnp.power(x, -y)) if y < 0 else fnp.power(x, y)


class RoundingMethod(enum.IntEnum):
    """How ``round`` breaks ties: ``AWAY_FROM_ZERO`` (lax's default) or ``TO_NEAREST_EVEN`` (NumPy's)."""
    AWAY_FROM_ZERO = 0
    TO_NEAREST_EVEN = 1


def round(x, rounding_method=RoundingMethod.AWAY_FROM_ZERO):
    """Rounds to integral values; halves go away from zero unless ``rounding_method`` says otherwise."""
    x = fnp.asarray(x)
    if RoundingMethod(rounding_method) == RoundingMethod.TO_NEAREST_EVEN:
        return fnp.round(x)
    whole = fnp.trunc(x)  # x - whole is exact, where |x| + 0.5 would round (0.49999997 + 0.5 is 1)
    return whole + fnp.sign(x) * (fnp.abs(x - whole) >= 0.5)


def clz(x):
    """The number of leading zero bits of each integer."""
    x = fnp.asarray(x)
    bits = x.dtype.itemsize * 8
    u = x.astype(np.dtype(f"uint{bits}"))
    length = fnp.zeros(x.shape, "int64")  # the position of the highest set bit, plus one
    for shift in range(bits):
        length = fnp.where(fnp.right_shift(u, fnp.asarray(shift, u.dtype)) != 0, shift + 1, length)
    return (bits - length).astype(x.dtype)


def convert_element_type(operand, new_dtype):
    """``operand`` as ``new_dtype``. Floats become integers as XLA converts them: truncated toward zero, NaN to
    0, and values beyond the integer type's range to its end (NumPy's cast would wrap)."""
    x, dt = fnp.asarray(operand), np.dtype(new_dtype)
    if x.dtype.kind != "f" or dt.kind not in "iu":
        return x.astype(dt)
    info = np.iinfo(dt)
    x = fnp.where(fnp.isnan(x), 0, x)
    above, below = x >= float(info.max), x <= float(info.min)  # (the ends as floats may round past them)
    inside = fnp.where(above | below, 0, x).astype(dt)
    return fnp.where(above, fnp.asarray(info.max, dtype=dt), fnp.where(below, fnp.asarray(info.min, dtype=dt), inside))


# ----- shapes --------------------------------------------------------------------------------------


def broadcast(operand, sizes):
    """``operand`` with new leading axes of ``sizes``."""
    x = fnp.asarray(operand)
    return fnp.broadcast_to(x, tuple(sizes) + x.shape)


def broadcast_in_dim(operand, shape, broadcast_dimensions):
    """``operand`` broadcast to ``shape``, its axis ``i`` becoming axis ``broadcast_dimensions[i]``."""
    x = fnp.asarray(operand)
    dims = tuple(broadcast_dimensions)
    if len(dims) != x.ndim or list(dims) != sorted(set(dims)) or any(d >= len(shape) for d in dims):
        raise ShapeError(f"lax.broadcast_in_dim: broadcast_dimensions {dims} must be increasing, one per axis of "
                         f"the operand (shape {x.shape}) and within the target shape {tuple(shape)}")
    for i, d in enumerate(dims):
        if x.shape[i] not in (1, shape[d]):
            raise ShapeError(f"lax.broadcast_in_dim: operand axis {i} of size {x.shape[i]} cannot broadcast to "
                             f"size {shape[d]} (axis {d} of {tuple(shape)})")
    expanded = fnp.reshape(x, tuple(x.shape[dims.index(d)] if d in dims else 1 for d in range(len(shape))))
    return fnp.broadcast_to(expanded, tuple(shape))


def broadcast_to_rank(x, rank):
    """``x`` with leading axes of size 1 up to ``rank`` axes."""
    x = fnp.asarray(x)
    return fnp.reshape(x, (1,) * (rank - x.ndim) + x.shape) if x.ndim < rank else x


def reshape(operand, new_sizes, dimensions=None):
    """``operand`` (first transposed by ``dimensions``, when given) reshaped to ``new_sizes``."""
    x = fnp.asarray(operand)
    if dimensions is not None:
        x = fnp.transpose(x, tuple(dimensions))
    return fnp.reshape(x, tuple(new_sizes))


def transpose(operand, permutation):
    return fnp.transpose(fnp.asarray(operand), tuple(permutation))


def squeeze(array, dimensions):
    x = fnp.asarray(array)
    return fnp.squeeze(x, tuple(d % x.ndim for d in dimensions)) if dimensions else x


def expand_dims(array, dimensions):
    return fnp.expand_dims(fnp.asarray(array), tuple(dimensions))


def collapse(operand, start_dimension, stop_dimension=None):
    """Axes ``start_dimension`` up to ``stop_dimension`` merged into one."""
    x = fnp.asarray(operand)
    stop = x.ndim if stop_dimension is None else stop_dimension
    return fnp.reshape(x, x.shape[:start_dimension] + (-1,) + x.shape[stop:])


def concatenate(operands, dimension):
    return fnp.concatenate([fnp.asarray(o) for o in operands], axis=dimension)


def split(operand, sizes, axis=0):
    """``operand`` cut along ``axis`` into pieces of ``sizes``."""
    x = fnp.asarray(operand)
    if builtins.sum(sizes) != x.shape[axis]:
        raise ShapeError(f"lax.split: sizes {tuple(sizes)} add up to {builtins.sum(sizes)}, axis {axis} has "
                         f"{x.shape[axis]}")
    cuts = np.cumsum(sizes)[:-1].tolist()
    return fnp.split(x, cuts, axis=axis)


def rev(operand, dimensions):
    """``operand`` reversed along ``dimensions``."""
    return fnp.flip(fnp.asarray(operand), axis=tuple(dimensions)) if dimensions else fnp.asarray(operand)


def pad(operand, padding_value, padding_config):
    """``operand`` padded with ``padding_value``: per axis ``(low, high, interior)``; negative ends crop."""
    x = fnp.asarray(operand)
    config = [tuple(c) for c in padding_config]
    if len(config) != x.ndim or any(len(c) != 3 or c[2] < 0 for c in config):
        raise ShapeError(f"lax.pad: padding_config needs one (low, high, interior >= 0) per axis of the operand "
                         f"(shape {x.shape}), got {padding_config}")
    value = fnp.asarray(padding_value, dtype=x.dtype)
    for axis, (lo, hi, interior) in enumerate(config):
        n = x.shape[axis]
        if interior and n > 1:
            size = n + (n - 1) * interior
            spread = fnp.broadcast_to(fnp.expand_dims(value, tuple(range(x.ndim))),
                                      x.shape[:axis] + (size,) + x.shape[axis + 1:])
            index = (builtins.slice(None),) * axis + (builtins.slice(None, None, interior + 1),)
            x = spread.at[index].set(x)
        n = x.shape[axis]
        if lo < 0 or hi < 0:
            x = fnp.take(x, fnp.arange(builtins.max(-lo, 0), n - builtins.max(-hi, 0)), axis=axis)
        lo, hi = builtins.max(lo, 0), builtins.max(hi, 0)
        if lo or hi:
            filler = lambda k: fnp.broadcast_to(fnp.expand_dims(value, tuple(range(x.ndim))),  # noqa: E731
                                                x.shape[:axis] + (k,) + x.shape[axis + 1:])
            x = fnp.concatenate([filler(lo), x, filler(hi)], axis=axis)
    return x


def slice(operand, start_indices, limit_indices, strides=None):
    """``operand[start:limit:stride]`` along every axis."""
    x = fnp.asarray(operand)
    strides = (1,) * x.ndim if strides is None else tuple(strides)
    return x[tuple(builtins.slice(a, b, s) for a, b, s in zip(start_indices, limit_indices, strides))]


def slice_in_dim(operand, start_index, limit_index, stride=1, axis=0):
    x = fnp.asarray(operand)
    n = x.shape[axis]
    start = 0 if start_index is None else start_index % n if start_index < 0 else start_index
    limit = n if limit_index is None else limit_index % n if limit_index < 0 else limit_index
    return x[(builtins.slice(None),) * (axis % x.ndim) + (builtins.slice(start, limit, stride),)]


def index_in_dim(operand, index, axis=0, keepdims=True):
    x = slice_in_dim(operand, index % fnp.asarray(operand).shape[axis], index % fnp.asarray(operand).shape[axis] + 1,
                     axis=axis)
    return x if keepdims else fnp.squeeze(x, axis)


def _clamped_starts(name, x, start_indices, sizes):
    if len(start_indices) != x.ndim or len(sizes) != x.ndim:
        raise ShapeError(f"lax.{name}: one start index and size per axis of the operand (shape {x.shape}); got "
                         f"{len(start_indices)} indices and sizes {tuple(sizes)}")
    for n, s in zip(x.shape, sizes):
        if not 0 <= s <= n:
            raise ShapeError(f"lax.{name}: slice sizes {tuple(sizes)} do not fit the operand's shape {x.shape}")
    # A negative start counts from the end; then a start past the end is moved back so that the slice fits.
    starts = [fnp.asarray(i).astype("int64") for i in start_indices]
    return [fnp.clip(fnp.where(i < 0, i + n, i), 0, n - s) for i, n, s in zip(starts, x.shape, sizes)]


def _grid(starts, sizes):
    nd = len(sizes)
    return tuple(fnp.reshape(st + fnp.arange(s), (1,) * k + (s,) + (1,) * (nd - k - 1))
                 for k, (st, s) in enumerate(zip(starts, sizes)))


def dynamic_slice(operand, start_indices, slice_sizes):
    """The block of ``slice_sizes`` at ``start_indices``, which may be traced; starts are clamped to fit."""
    x = fnp.asarray(operand)
    sizes = tuple(int(s) for s in slice_sizes)
    with data_device(x):  # Python starts and the index grid join the operand's device
        return x[_grid(_clamped_starts("dynamic_slice", x, list(start_indices), sizes), sizes)]


def dynamic_update_slice(operand, update, start_indices):
    """``operand`` with the block at ``start_indices`` replaced by ``update`` (starts clamped to fit)."""
    x, u = fnp.asarray(operand), fnp.asarray(update)
    if u.ndim != x.ndim:
        raise ShapeError(f"lax.dynamic_update_slice: update {u.shape} and operand {x.shape} need the same rank")
    if u.dtype != x.dtype and isinstance(update, (Array, np.ndarray)):  # a Python number is weak: it fits
        raise DTypeError(f"lax.dynamic_update_slice requires arguments to have the same dtypes, got {x.dtype} "
                         f"(operand) and {u.dtype} (update)")
    with data_device(x):
        return x.at[_grid(_clamped_starts("dynamic_update_slice", x, list(start_indices), u.shape), u.shape)].set(u)


def _in_dim(x, index, axis, fill):
    starts = [0] * x.ndim
    starts[axis % x.ndim] = index
    return starts if fill is None else fill


def dynamic_slice_in_dim(operand, start_index, slice_size, axis=0):
    x = fnp.asarray(operand)
    sizes = list(x.shape)
    sizes[axis % x.ndim] = slice_size
    return dynamic_slice(x, _in_dim(x, start_index, axis, None), sizes)


def dynamic_index_in_dim(operand, index, axis=0, keepdims=True):
    out = dynamic_slice_in_dim(operand, index, 1, axis)
    return out if keepdims else fnp.squeeze(out, axis)


def dynamic_update_slice_in_dim(operand, update, start_index, axis):
    x = fnp.asarray(operand)
    return dynamic_update_slice(x, update, _in_dim(x, start_index, axis, None))


def dynamic_update_index_in_dim(operand, update, index, axis):
    x, u = fnp.asarray(operand), fnp.asarray(update)
    if u.ndim == x.ndim - 1:
        u = fnp.expand_dims(u, axis)
    return dynamic_update_slice_in_dim(x, u, index, axis)


def iota(dtype, size):
    """``0, 1, ..., size - 1`` of ``dtype``."""
    return fnp.arange(size, dtype=np.dtype(dtype))


def broadcasted_iota(dtype, shape, dimension):
    """An array of ``shape`` holding each element's index along ``dimension``."""
    return broadcast_in_dim(iota(dtype, shape[dimension]), tuple(shape), (dimension,))


def full(shape, fill_value, dtype=None):
    return fnp.full(tuple(shape), fill_value, dtype=None if dtype is None else np.dtype(dtype))


def full_like(x, fill_value, dtype=None, shape=None):
    x = fnp.asarray(x)
    return fnp.full(x.shape if shape is None else tuple(shape), fill_value,
                    dtype=x.dtype if dtype is None else np.dtype(dtype))


# ----- reductions, scans, sorting -----------------------------------------------------------------


def _axes(axes):
    return tuple(axes)


def _kept(x):
    """The dtype lax's sums and products keep: the operand's, where NumPy's would widen an integer."""
    return x.dtype if x.dtype.kind in "iu" else None


def reduce_sum(operand, axes):
    x = fnp.asarray(operand)
    return fnp.sum(x, axis=_axes(axes), dtype=_kept(x))


def reduce_prod(operand, axes):
    x = fnp.asarray(operand)
    return fnp.prod(x, axis=_axes(axes), dtype=_kept(x))


def reduce_max(operand, axes):
    return fnp.max(fnp.asarray(operand), axis=_axes(axes))


def reduce_min(operand, axes):
    return fnp.min(fnp.asarray(operand), axis=_axes(axes))


def reduce_and(operand, axes):
    return fnp.all(fnp.asarray(operand), axis=_axes(axes))


def reduce_or(operand, axes):
    return fnp.any(fnp.asarray(operand), axis=_axes(axes))


def argmax(operand, axis, index_dtype):
    return fnp.argmax(fnp.asarray(operand), axis=axis).astype(np.dtype(index_dtype))


def argmin(operand, axis, index_dtype):
    return fnp.argmin(fnp.asarray(operand), axis=axis).astype(np.dtype(index_dtype))


def _monoid(computation):
    """The fnx reduction a binary ``computation`` stands for, when it is one of lax's (or NumPy's)."""
    table = {add: fnp.sum, mul: fnp.prod, max: fnp.max, min: fnp.min,  # noqa: F821
             fnp.add: fnp.sum, fnp.multiply: fnp.prod, fnp.maximum: fnp.max, fnp.minimum: fnp.min,
             operator.add: fnp.sum, operator.mul: fnp.prod}
    return table.get(computation)


def reduce(operands, init_values, computation, dimensions):
    """Reduces ``operands`` over ``dimensions`` with ``computation``, starting from ``init_values``.

    ``computation`` is any associative binary function of arrays (lax.add, lax.max...); for a
    pytree of operands it takes and returns pytrees of that structure.
    """
    flat, tree = tree_util.flatten(operands)
    init_flat = tree_util.leaves(init_values)
    dims = tuple(d % fnp.asarray(flat[0]).ndim for d in dimensions)
    reducer = _monoid(computation) if len(flat) == 1 else None
    if reducer is not None:
        x = fnp.asarray(flat[0])
        return computation(_reduced(reducer, x, dims), fnp.asarray(init_flat[0], dtype=x.dtype))
    xs = [fnp.moveaxis(fnp.asarray(x), dims, tuple(range(len(dims)))) for x in flat]
    xs = [fnp.reshape(x, (-1,) + x.shape[len(dims):]) for x in xs]
    acc = tree.unflatten([fnp.broadcast_to(fnp.asarray(i, dtype=x.dtype), x.shape[1:]) for i, x in zip(init_flat, xs)])
    for k in range(xs[0].shape[0]):
        acc = computation(acc, tree.unflatten([x[k] for x in xs]))
    return acc


def _reduced(reducer, x, axes):
    """``reducer`` (from :func:`_monoid`) over ``axes`` of ``x``, in ``x``'s dtype as lax reduces."""
    if reducer in (fnp.sum, fnp.prod):
        return reducer(x, axis=axes, dtype=_kept(x))
    return reducer(x, axis=axes)


def _cumulative(name, fn):
    def op(operand, axis=0, reverse=False):
        x = fnp.asarray(operand)
        if reverse:
            return fnp.flip(fn(fnp.flip(x, axis), axis), axis)
        return fn(x, axis)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"``lax.{name}`` along ``axis``, from the end when ``reverse``."
    return op


def _cummax(x, axis):
    return _associative_along(fnp.maximum, x, axis)


def _cummin(x, axis):
    return _associative_along(fnp.minimum, x, axis)


def _cumlogsumexp(x, axis):
    return _associative_along(fnp.logaddexp, x, axis)


def _associative_along(fn, x, axis):
    x = fnp.moveaxis(x, axis, 0)
    out = [x[0]]
    for k in range(1, x.shape[0]):
        out.append(fn(out[-1], x[k]))
    return fnp.moveaxis(fnp.stack(out), 0, axis) if out else fnp.moveaxis(x, 0, axis)


cumsum = _cumulative("cumsum", lambda x, axis: fnp.cumsum(x, axis=axis, dtype=_kept(x)))
cumprod = _cumulative("cumprod", lambda x, axis: fnp.cumprod(x, axis=axis, dtype=_kept(x)))
cummax = _cumulative("cummax", _cummax)
cummin = _cumulative("cummin", _cummin)
cumlogsumexp = _cumulative("cumlogsumexp", _cumlogsumexp)


def associative_scan(fn, elems, reverse=False, axis=0):
    """The running ``fn``-combination of ``elems`` (a pytree) along ``axis``: ``fn`` must be associative."""
    flat, tree = tree_util.flatten(elems)
    flat = [fnp.moveaxis(fnp.asarray(x), axis, 0) for x in flat]
    if reverse:
        flat = [fnp.flip(x, 0) for x in flat]
    n = flat[0].shape[0] if flat else 0
    if builtins.any(x.shape[0] != n for x in flat):
        raise ShapeError(f"lax.associative_scan: every leaf needs the same length along axis {axis}")
    if n == 0:  # nothing to combine: the (empty) elements are the result, as JAX returns them
        return tree.unflatten([fnp.moveaxis(x, 0, axis) for x in flat])
    acc, out = None, []
    for k in range(n):
        item = tree.unflatten([x[k] for x in flat])
        acc = item if acc is None else fn(acc, item)
        out.append(tree_util.leaves(acc))
    stacked = [fnp.stack([o[i] for o in out]) for i in range(len(flat))]
    if reverse:
        stacked = [fnp.flip(s, 0) for s in stacked]
    return tree.unflatten([fnp.moveaxis(s, 0, axis) for s in stacked])


def sort(operand, dimension=-1, is_stable=True, num_keys=1):
    """Sorts along ``dimension``; a tuple of operands is sorted by its first ``num_keys`` (lexicographically)."""
    if not isinstance(operand, (tuple, list)):
        return fnp.sort(fnp.asarray(operand), axis=dimension, stable=True)
    ops = [fnp.asarray(o) for o in operand]
    keys = ops[:num_keys]
    order = fnp.argsort(keys[-1], axis=dimension, stable=True)
    for key in reversed(keys[:-1]):  # least significant key first, then stable sorts by the others
        order = fnp.take_along_axis(order, fnp.argsort(fnp.take_along_axis(key, order, dimension),
                                                       axis=dimension, stable=True), dimension)
    return tuple(fnp.take_along_axis(o, order, dimension) for o in ops)


def sort_key_val(keys, values, dimension=-1, is_stable=True):
    return sort((keys, values), dimension, is_stable, 1)


def top_k(operand, k):
    """The ``k`` largest entries of the last axis and their int32 indices, largest first (ties: lower index)."""
    x = fnp.asarray(operand)
    if not 0 <= k <= x.shape[-1]:
        raise ShapeError(f"lax.top_k: k={k} for a last axis of {x.shape[-1]}")
    order = fnp.argsort(~_total_order(x), axis=-1, stable=True)[..., :k]  # (~ reverses an integer order)
    return [fnp.take_along_axis(x, order, -1), order.astype("int32")]


def _total_order(x):
    """Integers ordered as XLA orders ``x``: for floats, -NaN < -inf < ... < -0 < +0 < ... < inf < NaN (the
    bits as a signed integer, with a negative number's other bits flipped)."""
    x = fnp.stop_gradient(x)
    if x.dtype.kind != "f":
        return x
    bits = 8 * x.dtype.itemsize
    signed = x.view(np.dtype(f"int{bits}"))
    return signed ^ ((signed >> (bits - 1)) & np.array(2 ** (bits - 1) - 1, signed.dtype))


def approx_max_k(operand, k, reduction_dimension=-1, recall_target=0.95, reduction_input_size_override=-1,
                 aggregate_to_topk=True):
    """The ``k`` largest entries along ``reduction_dimension`` and their int32 indices, largest first.

    JAX's TPU kernel may miss some (``recall_target``); fnx returns the exact top
    ``k``, which meets any recall target. Differentiable in the values.
    """
    return _approx_k("approx_max_k", operand, k, reduction_dimension, largest=True)


def approx_min_k(operand, k, reduction_dimension=-1, recall_target=0.95, reduction_input_size_override=-1,
                 aggregate_to_topk=True):
    """The ``k`` smallest entries along ``reduction_dimension`` and their int32 indices, smallest first."""
    return _approx_k("approx_min_k", operand, k, reduction_dimension, largest=False)


def _approx_k(name, operand, k, dimension, largest):
    x = fnp.asarray(operand)
    if x.ndim == 0:
        raise ShapeError(f"lax.{name}: the operand must have an axis, got a 0-d array")
    moved = fnp.moveaxis(x, dimension, -1)
    values, indices = top_k(moved if largest else -moved, k)
    values = values if largest else -values
    return [fnp.moveaxis(values, -1, dimension), fnp.moveaxis(indices, -1, dimension)]


def broadcast_shapes(*shapes):
    """The shape that ``shapes`` broadcast to, as a tuple (NumPy's rule; a ShapeError when they do not)."""
    try:
        return tuple(np.broadcast_shapes(*(tuple(s) for s in shapes)))
    except ValueError:
        raise ShapeError(f"lax.broadcast_shapes: shapes {', '.join(str(tuple(s)) for s in shapes)} do not "
                         f"broadcast") from None


# ----- products and convolutions -------------------------------------------------------------------


def _accumulating(operands, preferred_element_type):
    """The operands of a product that accumulates in ``preferred_element_type``: cast to it where it is wider
    (an int8 product into int32 must not wrap in int8), else as they are (the result is cast)."""
    if preferred_element_type is None:
        return operands
    dt = np.dtype(preferred_element_type)
    return [a.astype(dt) if np.promote_types(a.dtype, dt) == dt and a.dtype != dt else a for a in operands]


def _as_preferred(out, preferred_element_type):
    return out if preferred_element_type is None else out.astype(np.dtype(preferred_element_type))


def dot(lhs, rhs, precision=None, preferred_element_type=None):
    """Vector, matrix-vector or matrix-matrix product (``precision`` is accepted; numpy has one), accumulated
    in ``preferred_element_type`` when it is given."""
    x, y = _accumulating(_same_dtypes("dot", (lhs, rhs)), preferred_element_type)
    return _as_preferred(fnp.dot(x, y), preferred_element_type)


def dot_general(lhs, rhs, dimension_numbers, precision=None, preferred_element_type=None):
    """The general tensor contraction: ``(((lhs_contract), (rhs_contract)), ((lhs_batch), (rhs_batch)))``.

    The result has the batch axes, then ``lhs``'s free axes, then ``rhs``'s.
    """
    x, y = _accumulating(_same_dtypes("dot_general", (lhs, rhs)), preferred_element_type)
    (lc, rc), (lb, rb) = dimension_numbers
    lc, rc, lb, rb = (tuple(d % a.ndim for d in ds) for ds, a in ((lc, x), (rc, y), (lb, x), (rb, y)))
    if len(lc) != len(rc) or len(lb) != len(rb) or any(x.shape[a] != y.shape[b] for a, b in zip(lc + lb, rc + rb)):
        raise ShapeError(f"lax.dot_general: contracting {lc}/{rc} and batch {lb}/{rb} dimensions do not match "
                         f"between shapes {x.shape} and {y.shape}")
    letters = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    xs, ys = [None] * x.ndim, [None] * y.ndim
    for a, b in zip(lb + lc, rb + rc):
        xs[a] = ys[b] = next(letters)
    xs = [c or next(letters) for c in xs]
    ys = [c or next(letters) for c in ys]
    out = [xs[a] for a in lb] + [c for i, c in enumerate(xs) if i not in lb + lc] + \
          [c for i, c in enumerate(ys) if i not in rb + rc]
    result = fnp.einsum(f"{''.join(xs)},{''.join(ys)}->{''.join(out)}", x, y)
    return _as_preferred(result, preferred_element_type)


def batch_matmul(lhs, rhs, precision=None):
    return fnp.matmul(*_same_dtypes("batch_matmul", (lhs, rhs)))


ConvDimensionNumbers = namedtuple("ConvDimensionNumbers", ["lhs_spec", "rhs_spec", "out_spec"])


def conv_dimension_numbers(lhs_shape, rhs_shape, dimension_numbers):
    """Axis permutations that bring the operands to (N, C, spatial...), (O, I, spatial...) and the output to
    (N, C, spatial...), from specs such as ``('NHWC', 'HWIO', 'NHWC')``; spatial axes in the kernel spec's order."""
    if isinstance(dimension_numbers, ConvDimensionNumbers):
        return dimension_numbers
    nd = len(lhs_shape)
    if dimension_numbers is None:
        return ConvDimensionNumbers(tuple(range(nd)), tuple(range(nd)), tuple(range(nd)))
    lhs, rhs, out = dimension_numbers
    spatial = [c for c in rhs if c not in "OI"]

    def spec(s, first, second):
        if len(s) != nd or sorted(s) != sorted([first, second] + spatial):
            raise ShapeError(f"lax.conv_dimension_numbers: spec {s!r} must name {first!r}, {second!r} and the "
                             f"kernel's spatial axes {''.join(spatial)!r}, for operands of rank {nd}")
        return (s.index(first), s.index(second)) + tuple(s.index(c) for c in spatial)
    return ConvDimensionNumbers(spec(lhs, "N", "C"), spec(rhs, "O", "I"), spec(out, "N", "C"))


def padtype_to_pads(in_shape, window_shape, window_strides, padding):
    """``'SAME'``, ``'SAME_LOWER'`` or ``'VALID'`` as ``(low, high)`` pairs per spatial axis."""
    if not isinstance(padding, str):
        return [tuple(p) for p in padding]
    kind = padding.upper()
    if kind == "VALID":
        return [(0, 0)] * len(in_shape)
    if kind not in ("SAME", "SAME_LOWER"):
        raise ValueError(f"lax: padding must be 'SAME', 'SAME_LOWER', 'VALID' or (low, high) pairs, got {padding!r}")
    pads = []
    for n, k, s in zip(in_shape, window_shape, window_strides):
        out = -(-n // s)
        total = builtins.max((out - 1) * s + k - n, 0)
        small = total // 2
        pads.append((small, total - small) if kind == "SAME" else (total - small, small))
    return pads


def conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=None, rhs_dilation=None,
                         dimension_numbers=None, feature_group_count=1, batch_group_count=1, precision=None,
                         preferred_element_type=None):
    """``jax.lax.conv_general_dilated``: any layout (``dimension_numbers`` such as ``('NHWC', 'HWIO', 'NHWC')``),
    ``'SAME'``/``'SAME_LOWER'``/``'VALID'`` or explicit padding, both dilations and feature groups."""
    x, w = _accumulating(_same_dtypes("conv_general_dilated", (lhs, rhs)), preferred_element_type)
    if batch_group_count != 1:
        raise ValueError("lax.conv_general_dilated: batch_group_count other than 1 is not supported; it arises in "
                         "the kernel gradient of a grouped convolution, which fnx.grad derives by itself")
    dn = conv_dimension_numbers(x.shape, w.shape, dimension_numbers)
    x, w = fnp.transpose(x, dn.lhs_spec), fnp.transpose(w, dn.rhs_spec)
    nd = x.ndim - 2
    strides = tuple(window_strides) if window_strides is not None else (1,) * nd
    lhs_dil = tuple(lhs_dilation) if lhs_dilation is not None else (1,) * nd
    rhs_dil = tuple(rhs_dilation) if rhs_dilation is not None else (1,) * nd
    if isinstance(padding, str):
        if any(d != 1 for d in lhs_dil):
            raise ValueError("lax.conv_general_dilated: string padding is not implemented with lhs_dilation (a "
                             "transposed convolution); give the (low, high) pairs or use lax.conv_transpose")
        padding = padtype_to_pads(x.shape[2:], [(k - 1) * d + 1 for k, d in zip(w.shape[2:], rhs_dil)], strides,
                                  padding)
    y = _conv_nc(x, w, strides, [tuple(p) for p in padding], lhs_dilation=lhs_dil, rhs_dilation=rhs_dil,
                 feature_group_count=feature_group_count)
    y = fnp.transpose(y, tuple(np.argsort(dn.out_spec)))
    return _as_preferred(y, preferred_element_type)


def conv(lhs, rhs, window_strides, padding, precision=None, preferred_element_type=None):
    """NCHW / OIHW convolution without dilation (``lax.conv``)."""
    return conv_general_dilated(lhs, rhs, window_strides, padding, precision=precision,
                                preferred_element_type=preferred_element_type)


def conv_with_general_padding(lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation, precision=None,
                              preferred_element_type=None):
    return conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation,
                                precision=precision, preferred_element_type=preferred_element_type)


def _conv_transpose_padding(k, s, padding):
    """Before and after padding of one axis, for the forward convolution's ``padding`` (JAX's rule)."""
    if padding == "SAME":
        pad_len = k + s - 2
        before = k - 1 if s > k - 1 else int(math.ceil(pad_len / 2))
    elif padding == "VALID":
        pad_len = k + s - 2 + builtins.max(k - s, 0)
        before = k - 1
    else:
        raise ValueError(f"lax.conv_transpose: padding must be 'SAME', 'VALID' or (low, high) pairs, got {padding!r}")
    return before, pad_len - before


_TRANSPOSE_LAYOUTS = {2: ("NC", "IO", "NC"), 3: ("NHC", "HIO", "NHC"), 4: ("NHWC", "HWIO", "NHWC"),
                      5: ("NHWDC", "HWDIO", "NHWDC")}


def conv_transpose(lhs, rhs, strides, padding, rhs_dilation=None, dimension_numbers=None, transpose_kernel=False,
                   precision=None, preferred_element_type=None):
    """``jax.lax.conv_transpose``: the input dilated by ``strides``, then convolved; TensorFlow's layouts
    (``NHWC``/``HWIO``) by default, and the gradient-of-convolution kernel layout with ``transpose_kernel``."""
    x, w = fnp.asarray(lhs), fnp.asarray(rhs)
    nd = x.ndim - 2
    if dimension_numbers is None:
        if x.ndim not in _TRANSPOSE_LAYOUTS:
            raise ShapeError(f"lax.conv_transpose: no default layout for rank {x.ndim}; pass dimension_numbers")
        dimension_numbers = _TRANSPOSE_LAYOUTS[x.ndim]
    dn = conv_dimension_numbers(x.shape, w.shape, dimension_numbers)
    rhs_dil = tuple(rhs_dilation) if rhs_dilation is not None else (1,) * nd
    if isinstance(padding, str):
        k_eff = [(w.shape[i] - 1) * d + 1 for i, d in zip(dn.rhs_spec[2:], rhs_dil)]
        pads = [_conv_transpose_padding(k, s, padding.upper()) for k, s in zip(k_eff, strides)]
    else:
        pads = [tuple(p) for p in padding]
    if transpose_kernel:
        w = fnp.swapaxes(fnp.flip(w, tuple(dn.rhs_spec[2:])), dn.rhs_spec[0], dn.rhs_spec[1])
    return conv_general_dilated(x, w, (1,) * nd, pads, lhs_dilation=tuple(strides), rhs_dilation=rhs_dil,
                                dimension_numbers=dn, precision=precision,
                                preferred_element_type=preferred_element_type)


def reduce_window(operand, init_value, computation, window_dimensions, window_strides, padding,
                  base_dilation=None, window_dilation=None):
    """Reduces each window of ``operand`` with ``computation`` (lax.add, lax.max, lax.min, lax.mul, or any
    associative binary function), starting from ``init_value``: pooling in any layout."""
    x = fnp.asarray(operand)
    nd = x.ndim
    window = tuple(window_dimensions)
    strides = tuple(window_strides) if window_strides is not None else (1,) * nd
    base = tuple(base_dilation) if base_dilation is not None else (1,) * nd
    wdil = tuple(window_dilation) if window_dilation is not None else (1,) * nd
    if not (len(window) == len(strides) == len(base) == len(wdil) == nd):
        raise ShapeError(f"lax.reduce_window: window {window}, strides {strides} and dilations need one entry per "
                         f"axis of the operand (shape {x.shape})")
    if isinstance(padding, str):
        # (from the operand's own shape, base dilation or not, as JAX works them out)
        padding = padtype_to_pads(x.shape, [(k - 1) * d + 1 for k, d in zip(window, wdil)], strides, padding)
    init = fnp.asarray(init_value, dtype=x.dtype)
    x = pad(x, init, [(lo, hi, b - 1) for (lo, hi), b in zip(padding, base)])
    cols = _patches(x, window, strides, wdil)  # out... + window...
    reducer = _monoid(computation)
    axes = tuple(range(nd, 2 * nd))
    if reducer in (fnp.max, fnp.min):
        # The window's first extreme entry, picked: its derivative goes to that one entry, as XLA's
        # select-and-scatter sends it (a reduction's would split it among ties, common after a relu).
        flat = fnp.reshape(cols, cols.shape[:nd] + (-1,))
        pick = (fnp.argmax if reducer is fnp.max else fnp.argmin)(fnp.stop_gradient(flat), axis=-1)
        return computation(fnp.take_along_axis(flat, pick[..., None], axis=-1)[..., 0], init)
    if reducer is not None:
        return computation(_reduced(reducer, cols, axes), init)
    flat = fnp.reshape(cols, cols.shape[:nd] + (-1,))
    acc = fnp.broadcast_to(init, flat.shape[:nd])
    for k in range(flat.shape[-1]):
        acc = computation(acc, flat[..., k])
    return acc


# ----- the rest -------------------------------------------------------------------------------------


def optimization_barrier(operand):
    """``operand`` itself: fnx does no rematerialisation for a barrier to prevent."""
    return operand


def select_n(which, *cases):
    """``cases[which]`` elementwise: a boolean ``which`` picks ``cases[1]`` where true, an integer any case."""
    which = fnp.asarray(which)
    if not cases:
        raise ValueError("lax.select_n: at least one case")
    if which.dtype.kind == "b":
        if len(cases) != 2:
            raise ValueError(f"lax.select_n: a boolean selector picks between two cases, got {len(cases)}")
        return fnp.where(which, cases[1], cases[0])
    out = fnp.asarray(cases[-1])
    for k in range(len(cases) - 2, -1, -1):
        out = fnp.where(which == k, cases[k], out)
    return out
