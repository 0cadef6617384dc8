"""Elementwise operations: arithmetic, powers, exponentials, trigonometry, rounding,
comparisons, logic, selection and the parts of complex numbers.

Each primitive is one block: its implementation on the backend namespace ``xp``
and its derivative, from which ``unary``/``binary`` derive the JVP and VJP. The
public functions follow the primitives, with NumPy names, broadcasting and dtype
rules, so every rule sees operands of one shape and one dtype.

Three ideas shape the rules. Piecewise-constant operations (``floor``, ``sign``,
``floor_divide``) return floats but carry no derivative: they are marked
``NOT_DIFFERENTIABLE``, so transforms treat their outputs as constants and
gradients through them are exactly zero. Derivatives are written with weak
Python scalars (``1.0 / x``, never a float64 array) so a float32 input keeps a
float32 gradient. Complex numbers follow JAX: a VJP is the plain transpose of
the JVP (no conjugation), so holomorphic functions need no special case and
``grad(f)(z)`` of a real-valued ``f`` is ``df/dx - i df/dy``.
"""
import functools
import math

import numpy as np

from ..core import dtypes
from ..core.array import Array, wrap
from ..core.backend import data_device, xp_of
from ..core.trace import device_mismatch
from ..core.primitive import NOT_DIFFERENTIABLE, Missing, Primitive, ShapedArray, defprim
from ..errors import DTypeError, ImmutableError
from . import _base
from ._base import (asarray, batch_elementwise, binary, binary_fn, bool_shape, broadcast_shapes, is_traced,
                    linear_jvp,
                    not_differentiable, same_shape, unary, unary_fn)

__all__ = [
    "astype", "add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "remainder", "mod", "fmod",
    "negative", "positive", "reciprocal", "square", "abs", "absolute", "sign", "copysign",
    "power", "pow", "float_power", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "logaddexp",
    "logaddexp2", "sqrt", "cbrt", "hypot",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh", "arcsinh", "arccosh",
    "arctanh", "asin", "acos", "atan", "atan2", "asinh", "acosh", "atanh", "deg2rad", "rad2deg", "radians",
    "degrees",
    "floor", "ceil", "trunc", "rint", "fix", "round", "around",
    "maximum", "minimum", "fmax", "fmin", "clip", "where", "stop_gradient",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
    "logical_and", "logical_or", "logical_xor", "logical_not", "isnan", "isinf", "isfinite", "signbit",
    "bitwise_and", "bitwise_or", "bitwise_xor", "invert", "bitwise_not", "bitwise_invert", "left_shift",
    "right_shift", "bitwise_left_shift", "bitwise_right_shift",
    "real", "imag", "conj", "conjugate", "angle",
    "isclose", "isneginf", "isposinf", "iscomplex", "isreal", "nan_to_num", "heaviside", "sinc", "modf", "divmod",
    "gcd", "lcm", "ldexp", "frexp", "select",
]

_LN2, _LN10 = math.log(2.0), math.log(10.0)


def _as(cond, like):
    """A boolean mask as 0/1 in ``like``'s dtype (derivatives of kinks and ties)."""
    return convert_p.bind(cond, dtype=like.dtype)


def _real_dtype(dt):
    return np.finfo(dt).dtype if dt.kind == "c" else dt


def _real_shape(x):
    return ShapedArray(x.shape, _real_dtype(x.dtype))


# ``kinks`` functions: how far operands are from where an operation loses its derivative or jumps.
# They are testing oracles (``fnx.testing.kink_distance``), computed on payloads with ``xp``.

def _apart(xp, x, y):
    return xp.abs(x - y)


def _to_integers(xp, x, nonzero=False):
    """Distance to the nearest integer (nonzero integer: ``trunc`` is continuous at 0)."""
    d = xp.abs(x - xp.rint(x))
    return xp.maximum(d, 1.0 - xp.abs(x)) if nonzero else d


def _to_halves(xp, x, decimals=0):
    """Distance to the nearest half-integer (of ``10**-decimals``), where rounding jumps."""
    s = 10.0 ** decimals
    return xp.abs(x * s - xp.floor(x * s) - 0.5) / s


def _to_multiples(xp, x, y, nonzero=False):
    """Distance of ``(x, y)`` from the lines ``x = k y`` (integer ``k``, nonzero for ``trunc``) and from
    ``y = 0``: where ``floor(x / y)`` or ``trunc(x / y)`` steps."""
    q = x / xp.where(y == 0, 1.0, y)
    k = xp.rint(q)
    if nonzero:
        k = xp.where(k == 0, xp.where(q < 0, -1.0, 1.0), k)
    return xp.minimum(xp.abs(x - k * y) / xp.sqrt(1.0 + k * k), xp.abs(y))


# ----- casts ----------------------------------------------------------------------------


def _convert_jvp(primals, tangents, *, dtype):
    (x,), (t,) = primals, tangents
    out = convert_p.bind(x, dtype=dtype)
    if not dtypes.is_differentiable(dtype):
        return out, None
    if t.dtype.kind == "c" and dtype.kind != "c":
        t = real_p.bind(t)  # complex -> real keeps the real part, without numpy's ComplexWarning
    return out, convert_p.bind(t, dtype=dtype)


def _convert_vjp(ct, x, *, out, dtype):
    if not dtypes.is_differentiable(x.dtype):
        return (None,)
    if ct.dtype.kind == "c" and x.dtype.kind != "c":
        ct = real_p.bind(ct)  # the transpose of real -> complex is the real part
    return (ct if ct.dtype == x.dtype else convert_p.bind(ct, dtype=x.dtype),)


def _convert_kinks(xp, x, *, dtype):
    # A cast to an integer truncates (steps at the nonzero integers), to bool steps at 0.
    x = xp.asarray(x)
    if x.dtype.kind not in "fc" or dtype.kind in "fc":
        return xp.full(x.shape, xp.inf)
    return xp.abs(x) if dtype.kind == "b" else _to_integers(xp, xp.real(x), nonzero=True)


convert_p = defprim(
    "convert_element_type",
    impl=lambda xp, x, *, dtype: xp.asarray(x).astype(dtype),
    shape=lambda x, *, dtype: ShapedArray(x.shape, dtype),
    jvp=_convert_jvp, vjp=_convert_vjp, residuals=(), kinks=_convert_kinks)


def convert(x, dtype):
    """``x`` in ``dtype``, as an implicit promotion: a weakly typed value (a Python number inside ``jit``)
    stays weak, as JAX's internal conversions keep it."""
    x = asarray(x)
    dtype = dtypes.canonical(dtype)
    if x.dtype == dtype:
        return x
    if type(x) is Array and type(x._value) is _base._ndarray:
        return wrap(x._value.astype(dtype), x._device)  # convert_p's impl, without the trace lookup
    return convert_p.bind(x, dtype=dtype)


def astype(x, dtype, copy=True):
    """``x`` converted to ``dtype`` (differentiable between floating and complex dtypes). The dtype is asked
    for, so the result is never weakly typed, as JAX's ``astype`` (``fnx.jit``'s Python numbers are)."""
    if not getattr(x, "weak_type", False):
        return convert(x, dtype)
    out = convert_p.bind(x, dtype=dtypes.canonical(dtype))  # a new value even in x's dtype: x stays weak
    out.weak_type = False
    return out


# ----- arithmetic ---------------------------------------------------------------------------

add_p = binary("add", lambda xp, x, y: xp.add(x, y), lambda x, y, out: 1.0, lambda x, y, out: 1.0,
               residuals=(), ufunc="add")
subtract_p = binary("subtract", lambda xp, x, y: xp.subtract(x, y), lambda x, y, out: 1.0,
                    lambda x, y, out: -1.0, residuals=(), ufunc="subtract")
multiply_p = binary("multiply", lambda xp, x, y: xp.multiply(x, y), lambda x, y, out: y, lambda x, y, out: x,
                    residuals=("partners",), ufunc="multiply")
divide_p = binary("true_divide", lambda xp, x, y: xp.true_divide(x, y), lambda x, y, out: 1.0 / y,
                  lambda x, y, out: -out / y, domain="nonzero_second", ufunc="true_divide")
floor_divide_p = not_differentiable("floor_divide", lambda xp, x, y: xp.floor_divide(x, y), same_shape,
                                    domain="nonzero_second", kinks=_to_multiples)
# x - y * q with q = floor(x / y) (remainder) or trunc(x / y) (fmod), q piecewise constant.
remainder_p = binary("remainder", lambda xp, x, y: xp.remainder(x, y), lambda x, y, out: 1.0,
                     lambda x, y, out: -floor_divide(x, y), smooth=False, domain="nonzero_second",
                     kinks=_to_multiples)
fmod_p = binary("fmod", lambda xp, x, y: xp.fmod(x, y), lambda x, y, out: 1.0,
                lambda x, y, out: -trunc(true_divide(x, y)), smooth=False, domain="nonzero_second",
                kinks=lambda xp, x, y: _to_multiples(xp, x, y, nonzero=True))
negative_p = unary("negative", lambda xp, x: xp.negative(x), lambda x, out: -1.0, residuals=(), ufunc="negative")
reciprocal_p = unary("reciprocal", lambda xp, x: xp.reciprocal(x), lambda x, out: -out * out, domain="nonzero",
                     ufunc="reciprocal")
square_p = unary("square", lambda xp, x: xp.square(x), lambda x, out: 2.0 * x, residuals=("inputs",),
                 ufunc="square")
sign_p = not_differentiable("sign", lambda xp, x: xp.sign(x), same_shape, domain="nonzero",
                            kinks=lambda xp, x: xp.abs(x), piecewise_constant=True)


def _unit_conj(x, out):
    # conj(x) / |x|, taken as 0 at x == 0 like the real sign.
    return conj(x) / where(equal(out, 0.0), 1.0, out)


def _abs_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    out = abs_p.bind(x)
    if x.dtype.kind == "c":
        return out, real(t * _unit_conj(x, out))
    return out, t * sign(x)


def _abs_vjp(ct, x, *, out):
    return (ct * (_unit_conj(x, out) if x.dtype.kind == "c" else sign(x)),)


abs_p = defprim("absolute", impl=lambda xp, x: xp.abs(x), shape=_real_shape, jvp=_abs_jvp, vjp=_abs_vjp,
                smooth=False, kind="unary", kinks=lambda xp, x: xp.abs(x))


def _copysign_dx(x, y):
    return 1.0 - 2.0 * _as(not_equal(signbit(x), signbit(y)), x)


def _copysign_jvp(primals, tangents):
    (x, y), (tx, _) = primals, tangents
    return copysign_p.bind(x, y), None if tx is None else tx * _copysign_dx(x, y)


# |x| with the sign of y: a kink in x at 0, a step in y (zero derivative).
copysign_p = defprim("copysign", impl=lambda xp, x, y: xp.copysign(x, y), shape=same_shape, jvp=_copysign_jvp,
                     vjp=lambda ct, x, y, *, out: ((lambda: ct * _copysign_dx(x, y)), None),
                     smooth=False, kind="binary", kinks=lambda xp, x, y: xp.minimum(xp.abs(x), xp.abs(y)))

# ----- powers, exponentials and logarithms ------------------------------------------------------


def _power_dx(x, y, out):
    # y x**(y - 1), with the exponent 1 where x == y == 0: x**0 is constant, so its derivative there is 0 (as in
    # PyTorch and JAX), not 0 * inf. Only there: elsewhere y - 1 carries the derivative in y.
    return y * power(x, where(logical_and(equal(x, 0), equal(y, 0)), 1.0, y - 1.0))


def _power_dy(x, y, out):
    # d/dy x**y = log(x) x**y, taken as 0 where x == 0 (the limit along y > 0).
    safe = where(equal(x, 0.0), 1.0, x)
    return where(equal(x, 0.0), 0.0, log(safe) * out)


power_p = binary("power", lambda xp, x, y: xp.power(x, y), _power_dx, _power_dy, domain="positive_first",
                 ufunc="power")
exp_p = unary("exp", lambda xp, x: xp.exp(x), lambda x, out: out, residuals=("out",), ufunc="exp")
exp2_p = unary("exp2", lambda xp, x: xp.exp2(x), lambda x, out: out * _LN2, ufunc="exp2")
expm1_p = unary("expm1", lambda xp, x: xp.expm1(x), lambda x, out: out + 1.0, ufunc="expm1")
log_p = unary("log", lambda xp, x: xp.log(x), lambda x, out: 1.0 / x, domain="positive", residuals=("inputs",),
              ufunc="log")
log2_p = unary("log2", lambda xp, x: xp.log2(x), lambda x, out: 1.0 / (x * _LN2), domain="positive",
               ufunc="log2")
log10_p = unary("log10", lambda xp, x: xp.log10(x), lambda x, out: 1.0 / (x * _LN10), domain="positive",
                ufunc="log10")
log1p_p = unary("log1p", lambda xp, x: xp.log1p(x), lambda x, out: 1.0 / (1.0 + x), domain="open_unit_ball",
                ufunc="log1p")
# d/dx log(e^x + e^y) = e^(x - out) <= 1: no overflow however large x and y are.
logaddexp_p = binary("logaddexp", lambda xp, x, y: xp.logaddexp(x, y), lambda x, y, out: exp(x - out),
                     lambda x, y, out: exp(y - out), ufunc="logaddexp")
logaddexp2_p = binary("logaddexp2", lambda xp, x, y: xp.logaddexp2(x, y), lambda x, y, out: exp2(x - out),
                      lambda x, y, out: exp2(y - out))
sqrt_p = unary("sqrt", lambda xp, x: xp.sqrt(x), lambda x, out: 0.5 / out, domain="positive",
               residuals=("out",), ufunc="sqrt")
cbrt_p = unary("cbrt", lambda xp, x: xp.cbrt(x), lambda x, out: 1.0 / (3.0 * out * out), domain="nonzero")
hypot_p = binary("hypot", lambda xp, x, y: xp.hypot(x, y), lambda x, y, out: x / out,
                 lambda x, y, out: y / out, domain="nonzero", ufunc="hypot")

# ----- trigonometric and hyperbolic -----------------------------------------------------------

sin_p = unary("sin", lambda xp, x: xp.sin(x), lambda x, out: cos(x), residuals=("inputs",), ufunc="sin")
cos_p = unary("cos", lambda xp, x: xp.cos(x), lambda x, out: -sin(x), residuals=("inputs",), ufunc="cos")
tan_p = unary("tan", lambda xp, x: xp.tan(x), lambda x, out: 1.0 + out * out, domain="open_unit_ball",
              ufunc="tan")
arcsin_p = unary("arcsin", lambda xp, x: xp.arcsin(x), lambda x, out: 1.0 / sqrt(1.0 - x * x),
                 domain="open_unit_ball")
arccos_p = unary("arccos", lambda xp, x: xp.arccos(x), lambda x, out: -1.0 / sqrt(1.0 - x * x),
                 domain="open_unit_ball")
arctan_p = unary("arctan", lambda xp, x: xp.arctan(x), lambda x, out: 1.0 / (1.0 + x * x), ufunc="arctan")
# arctan2(y, x), the angle of (x, y): smooth away from the cut along x < 0, y = 0.
arctan2_p = binary("arctan2", lambda xp, y, x: xp.arctan2(y, x), lambda y, x, out: x / (x * x + y * y),
                   lambda y, x, out: -y / (x * x + y * y), domain="nonzero")
sinh_p = unary("sinh", lambda xp, x: xp.sinh(x), lambda x, out: cosh(x), ufunc="sinh")
cosh_p = unary("cosh", lambda xp, x: xp.cosh(x), lambda x, out: sinh(x), ufunc="cosh")
tanh_p = unary("tanh", lambda xp, x: xp.tanh(x), lambda x, out: 1.0 - out * out, residuals=("out",),
               ufunc="tanh")
arcsinh_p = unary("arcsinh", lambda xp, x: xp.arcsinh(x), lambda x, out: 1.0 / sqrt(x * x + 1.0))
arccosh_p = unary("arccosh", lambda xp, x: xp.arccosh(x), lambda x, out: 1.0 / sqrt(x * x - 1.0),
                  domain="above_one")
arctanh_p = unary("arctanh", lambda xp, x: xp.arctanh(x), lambda x, out: 1.0 / (1.0 - x * x),
                  domain="open_unit_ball")

# ----- rounding: piecewise constant, so their derivative is zero wherever it exists -----------

floor_p = not_differentiable("floor", lambda xp, x: xp.floor(x), same_shape, domain="away_from_integers",
                             kinks=_to_integers, piecewise_constant=True)
ceil_p = not_differentiable("ceil", lambda xp, x: xp.ceil(x), same_shape, domain="away_from_integers",
                            kinks=_to_integers, piecewise_constant=True)
trunc_p = not_differentiable("trunc", lambda xp, x: xp.trunc(x), same_shape, domain="away_from_integers",
                             kinks=lambda xp, x: _to_integers(xp, x, nonzero=True), piecewise_constant=True)
fix_p = not_differentiable("fix", lambda xp, x: xp.fix(x), same_shape, domain="away_from_integers",
                           kinks=lambda xp, x: _to_integers(xp, x, nonzero=True), piecewise_constant=True)
rint_p = not_differentiable("rint", lambda xp, x: xp.rint(x), same_shape, domain="away_from_integers",
                            kinks=_to_halves, piecewise_constant=True)
round_p = not_differentiable("round", lambda xp, x, *, decimals: xp.round(x, decimals), same_shape,
                             domain="away_from_integers", kinks=_to_halves, piecewise_constant=True)

# ----- selection -------------------------------------------------------------------------------


def _max_dx(x, y, out):
    # Ties split the derivative evenly, as JAX does, so max(x, x) has gradient 1.
    return _as(greater(x, y), x) + 0.5 * _as(equal(x, y), x)


def _select_scale(t, d):
    """``t * d`` where the partial ``d`` is not 0, and 0 where it is, even where ``t`` is inf or NaN.

    As JAX's and PyTorch's selecting rules: the operand not chosen gets no derivative at all,
    so ``sqrt(maximum(x, 0))`` has gradient 0 at ``x = -1``, not ``0 * inf``.
    """
    return relu_grad_p.bind(multiply(t, d), not_equal(d, 0))


def _nan_other(x, y):
    # fmax/fmin return the operand that is not NaN: the whole derivative goes to it.
    return _as(logical_and(isnan(y), logical_not(isnan(x))), x)


_SELECTING = dict(smooth=False, kinks=_apart, scale=_select_scale)
maximum_p = binary("maximum", lambda xp, x, y: xp.maximum(x, y), _max_dx,
                   lambda x, y, out: _max_dx(y, x, out), ufunc="maximum", **_SELECTING)
minimum_p = binary("minimum", lambda xp, x, y: xp.minimum(x, y), lambda x, y, out: _max_dx(y, x, out),
                   lambda x, y, out: _max_dx(x, y, out), ufunc="minimum", **_SELECTING)
fmax_p = binary("fmax", lambda xp, x, y: xp.fmax(x, y), lambda x, y, out: _max_dx(x, y, out) + _nan_other(x, y),
                lambda x, y, out: _max_dx(y, x, out) + _nan_other(y, x), **_SELECTING)
fmin_p = binary("fmin", lambda xp, x, y: xp.fmin(x, y), lambda x, y, out: _max_dx(y, x, out) + _nan_other(x, y),
                lambda x, y, out: _max_dx(x, y, out) + _nan_other(y, x), **_SELECTING)


def _where_jvp(primals, tangents):
    (c, x, y), (_, tx, ty) = primals, tangents
    out = where_p.bind(c, x, y)
    if tx is None and ty is None:
        return out, None
    from .creation import zeros_like
    return out, where_p.bind(c, zeros_like(x) if tx is None else tx, zeros_like(y) if ty is None else ty)


def _where_vjp(ct, c, x, y, *, out):
    from .creation import zeros_like
    zeros = zeros_like(ct)
    return None, (lambda: where_p.bind(c, ct, zeros)), (lambda: where_p.bind(c, zeros, ct))


# Linear in x and y, so smooth: where the condition flips is a step of the comparison that computed it.
where_p = defprim("select", impl=lambda xp, c, x, y: xp.where(c, x, y),
                  shape=lambda c, x, y: ShapedArray(x.shape, x.dtype),
                  jvp=_where_jvp, vjp=_where_vjp, residuals=("partners",))


# relu is a primitive, not where(x > 0, x, 0): numpy's maximum is several times faster than its
# where. It also returns the mask x > 0 (a second, boolean output) that its rule reads: a
# quarter of the output's size in float32, so the output itself can die as soon as the next
# layer is done with it. The derivative is a primitive too (ct where the mask holds, PyTorch's
# 0 at 0), so it differentiates again.
@functools.lru_cache(maxsize=64)
def _zero_row(n, dtype):
    row = np.zeros(n, dtype)
    row.flags.writeable = False  # shared by every call: nothing may write into it
    return row


def relu_value(xp, x):
    """``maximum(x, 0)`` of a payload."""
    # numpy's maximum against a scalar runs a strided loop, against an array row its vectorised
    # one: 26 -> 13 us at (128, 256) float32 against a cached row of zeros (bench/NOTES.md, 14).
    if xp is np and x.ndim and x.shape[-1] <= _ZERO_ROW_MAX:
        return xp.maximum(x, _zero_row(x.shape[-1], x.dtype))
    return xp.maximum(x, 0)


_ZERO_ROW_MAX = 1 << 16

relu_p = defprim("relu", impl=lambda xp, x: (relu_value(xp, x), x > 0),
                 shape=lambda x: (ShapedArray(x.shape, x.dtype), ShapedArray(x.shape, dtypes.bool_)),
                 jvp=lambda primals, tangents: _relu_jvp(primals[0], tangents[0]),
                 vjp=lambda cts, x, *, out: (relu_grad_p.bind(cts[0], out[1]),),
                 batch=lambda vals, bdims: (relu_p.bind(vals[0]), (bdims[0], bdims[0])),
                 multiple_results=True, smooth=False, residuals=("out1",), kinks=lambda xp, x: xp.abs(x),
                 symbolic_zeros=True)  # the mask's cotangent is always None: no zeros to build
_SAME_WIDTH_INT = {2: np.int16, 4: np.int32, 8: np.int64}


def _masked(xp, ct, mask):
    """``ct`` where ``mask`` holds, else 0, also where ``ct`` is inf or NaN (``ct * mask`` would give NaN).

    On numpy, a bitwise and of ``ct``'s bits with the mask made all ones or all zeros:
    as fast as the multiplication (``numpy.where`` takes ten times as long). The mask
    stays one byte wide (-1 or 0 as int8) and widens inside the and, which is faster
    than widening it first; a large array goes in blocks of rows, so that the int8
    copy is never more than a block (bench/NOTES.md, section 20).
    """
    width = _SAME_WIDTH_INT.get(ct.dtype.itemsize) if xp is np and ct.dtype.kind == "f" else None
    if width is None or ct.shape != mask.shape or not ct.ndim:  # (0-d: numpy's ufuncs return scalars)
        return xp.where(mask, ct, xp.zeros((), ct.dtype))
    bits, kept = ct.view(width), mask.view(np.int8)
    if ct.size <= _MASK_BLOCK:
        return np.bitwise_and(bits, np.negative(kept)).view(ct.dtype)
    out = np.empty_like(bits)
    rows = max(1, _MASK_BLOCK * ct.shape[0] // ct.size)
    for i in range(0, ct.shape[0], rows):
        np.bitwise_and(bits[i:i + rows], np.negative(kept[i:i + rows]), out=out[i:i + rows])
    return out.view(ct.dtype)


_MASK_BLOCK = 1 << 16  # elements: the most the int8 copy of the mask holds at once


relu_grad_p = defprim("relu_grad", impl=_masked, shape=same_shape,
                      jvp=lambda primals, tangents: (relu_grad_p.bind(*primals),
                                                     None if tangents[0] is None
                                                     else relu_grad_p.bind(tangents[0], primals[1])),
                      vjp=lambda g, ct, mask, *, out: (relu_grad_p.bind(g, mask), None),
                      batch=lambda vals, bdims: batch_elementwise(relu_grad_p, vals, bdims, {}),
                      residuals=("partners",))


def _relu_jvp(x, t):
    out, mask = relu_p.bind(x)
    return (out, mask), (relu_grad_p.bind(t, mask), None)


# Its output carries no derivative: the autodiff transforms return it unboxed, a constant to everything
# after it (JAX's symbolic zero), so a custom rule downstream is not even asked for a derivative.
stop_gradient_p = defprim("stop_gradient", impl=lambda xp, x: x, shape=same_shape,
                          jvp=NOT_DIFFERENTIABLE, vjp=NOT_DIFFERENTIABLE)

# ----- comparisons, logic, bits: boolean or integer outputs -------------------------------------

equal_p = not_differentiable("equal", lambda xp, x, y: xp.equal(x, y), bool_shape)
not_equal_p = not_differentiable("not_equal", lambda xp, x, y: xp.not_equal(x, y), bool_shape)
less_p = not_differentiable("less", lambda xp, x, y: xp.less(x, y), bool_shape)
less_equal_p = not_differentiable("less_equal", lambda xp, x, y: xp.less_equal(x, y), bool_shape)
greater_p = not_differentiable("greater", lambda xp, x, y: xp.greater(x, y), bool_shape)
greater_equal_p = not_differentiable("greater_equal", lambda xp, x, y: xp.greater_equal(x, y), bool_shape)
for _cmp in (equal_p, not_equal_p, less_p, less_equal_p, greater_p, greater_equal_p):
    _cmp.kinks = _apart  # a comparison steps where its operands meet
logical_and_p = not_differentiable("logical_and", lambda xp, x, y: xp.logical_and(x, y), bool_shape)
logical_or_p = not_differentiable("logical_or", lambda xp, x, y: xp.logical_or(x, y), bool_shape)
logical_xor_p = not_differentiable("logical_xor", lambda xp, x, y: xp.logical_xor(x, y), bool_shape)
logical_not_p = not_differentiable("logical_not", lambda xp, x: xp.logical_not(x), bool_shape)
isnan_p = not_differentiable("isnan", lambda xp, x: xp.isnan(x), bool_shape)
isinf_p = not_differentiable("isinf", lambda xp, x: xp.isinf(x), bool_shape)
isfinite_p = not_differentiable("isfinite", lambda xp, x: xp.isfinite(x), bool_shape)
signbit_p = not_differentiable("signbit", lambda xp, x: xp.signbit(x), bool_shape, kinks=lambda xp, x: xp.abs(x))
bitwise_and_p = not_differentiable("bitwise_and", lambda xp, x, y: xp.bitwise_and(x, y), same_shape)
bitwise_or_p = not_differentiable("bitwise_or", lambda xp, x, y: xp.bitwise_or(x, y), same_shape)
bitwise_xor_p = not_differentiable("bitwise_xor", lambda xp, x, y: xp.bitwise_xor(x, y), same_shape)
invert_p = not_differentiable("invert", lambda xp, x: xp.invert(x), same_shape)
left_shift_p = not_differentiable("left_shift", lambda xp, x, y: xp.left_shift(x, y), same_shape)
right_shift_p = not_differentiable("right_shift", lambda xp, x, y: xp.right_shift(x, y), same_shape)

# ----- parts of complex numbers: linear over the reals ------------------------------------------
# JVP applies the map to the tangent; VJP is its transpose under Re(sum(a * b)):
# real -> ct + 0i, imag -> -i ct, conj -> conj(ct).

real_p = defprim("real", impl=lambda xp, x: xp.real(x), shape=_real_shape,
                 vjp=lambda ct, x, *, out: (convert_p.bind(ct, dtype=x.dtype),))
real_p.jvp = linear_jvp(real_p)
imag_p = defprim("imag", impl=lambda xp, x: xp.imag(x), shape=_real_shape,
                 vjp=lambda ct, x, *, out: (convert_p.bind(ct, dtype=x.dtype) * -1j,))
imag_p.jvp = linear_jvp(imag_p)
conj_p = defprim("conjugate", impl=lambda xp, x: xp.conj(x), shape=same_shape,
                 vjp=lambda ct, x, *, out: (conj_p.bind(ct),))
conj_p.jvp = linear_jvp(conj_p)

# ----- public functions ------------------------------------------------------------------------------

_FLOAT = "fc"


def _true_divide_dtype(dt):
    return dt if dt.kind in "fc" else np.result_type(dt, 1.0) if dt.kind != "b" else dtypes.default_float()


def _floating(opname):
    """Result dtype of a function NumPy defines for real floats only: ints become the smallest safe float."""
    def result(dt):
        if dt.kind == "c":
            raise DTypeError(f"{opname}: complex operands are not supported (got {dt})")
        return dt if dt.kind == "f" else np.promote_types(dt, dtypes.float16)
    return result


def _integers(opname):
    def result(dt):
        if dt.kind not in "biu":
            raise DTypeError(f"{opname}: expected integer or boolean operands, got {dt}")
        return dt
    return result


def _zero_derivative(name):
    return f"Elementwise ``{name}``, as ``numpy.{name}``; piecewise constant, so its derivative is zero."


def _boolean(name):
    return f"Elementwise ``{name}``, as ``numpy.{name}``; boolean output, not differentiable."


def _bits(name):
    return f"Elementwise ``{name}`` of integer or boolean arrays, as ``numpy.{name}``."


add = binary_fn(add_p)
subtract = binary_fn(subtract_p)
multiply = binary_fn(multiply_p)
_base._multiply.append(multiply)
true_divide = binary_fn(divide_p, result=_true_divide_dtype)
divide = binary_fn(divide_p, name="divide", result=_true_divide_dtype)
floor_divide = binary_fn(floor_divide_p, doc=_zero_derivative("floor_divide"))
remainder = binary_fn(remainder_p, doc="``x1 - floor(x1 / x2) * x2`` (sign of ``x2``), as ``numpy.remainder``; "
                                       "differentiable except where it jumps.")
mod = binary_fn(remainder_p, name="mod", doc=remainder.__doc__)
fmod = binary_fn(fmod_p, doc="``x1 - trunc(x1 / x2) * x2`` (sign of ``x1``), as ``numpy.fmod``; "
                             "differentiable except where it jumps.")
copysign = binary_fn(copysign_p, result=_floating("copysign"))
power = binary_fn(power_p)
pow = binary_fn(power_p, name="pow")
logaddexp = binary_fn(logaddexp_p, result=_floating("logaddexp"))
logaddexp2 = binary_fn(logaddexp2_p, result=_floating("logaddexp2"))
hypot = binary_fn(hypot_p, result=_floating("hypot"))
arctan2 = binary_fn(arctan2_p, result=_floating("arctan2"))
atan2 = binary_fn(arctan2_p, name="atan2", result=_floating("atan2"))
maximum = binary_fn(maximum_p)
minimum = binary_fn(minimum_p)
fmax = binary_fn(fmax_p, doc="Elementwise maximum ignoring NaNs, as ``numpy.fmax``; the derivative goes to "
                             "the operand chosen (half to each on ties).")
fmin = binary_fn(fmin_p, doc="Elementwise minimum ignoring NaNs, as ``numpy.fmin``.")
equal = binary_fn(equal_p, doc=_boolean("equal"))
not_equal = binary_fn(not_equal_p, doc=_boolean("not_equal"))
less = binary_fn(less_p, doc=_boolean("less"))
less_equal = binary_fn(less_equal_p, doc=_boolean("less_equal"))
greater = binary_fn(greater_p, doc=_boolean("greater"))
greater_equal = binary_fn(greater_equal_p, doc=_boolean("greater_equal"))
logical_and = binary_fn(logical_and_p, doc=_boolean("logical_and"))
logical_or = binary_fn(logical_or_p, doc=_boolean("logical_or"))
logical_xor = binary_fn(logical_xor_p, doc=_boolean("logical_xor"))
bitwise_and = binary_fn(bitwise_and_p, result=_integers("bitwise_and"), doc=_bits("bitwise_and"))
bitwise_or = binary_fn(bitwise_or_p, result=_integers("bitwise_or"), doc=_bits("bitwise_or"))
bitwise_xor = binary_fn(bitwise_xor_p, result=_integers("bitwise_xor"), doc=_bits("bitwise_xor"))
left_shift = binary_fn(left_shift_p, result=_integers("left_shift"), doc=_bits("left_shift"))
right_shift = binary_fn(right_shift_p, result=_integers("right_shift"), doc=_bits("right_shift"))
bitwise_left_shift = binary_fn(left_shift_p, name="bitwise_left_shift", result=_integers("bitwise_left_shift"),
                               doc=left_shift.__doc__)
bitwise_right_shift = binary_fn(right_shift_p, name="bitwise_right_shift",
                                result=_integers("bitwise_right_shift"), doc=right_shift.__doc__)

negative = unary_fn(negative_p)
reciprocal = unary_fn(reciprocal_p, doc="``1 / x`` elementwise, as ``numpy.reciprocal`` (integer division for "
                                        "integers); differentiable.")
square = unary_fn(square_p)
absolute = unary_fn(abs_p, doc="``|x|`` elementwise (the modulus for complex ``x``), as ``numpy.absolute``. "
                               "The derivative at 0 is taken as 0.")
abs = unary_fn(abs_p, name="abs", doc=absolute.__doc__)
sign = unary_fn(sign_p, doc="Elementwise sign (``x / |x|`` for complex), as ``numpy.sign``; its derivative "
                             "is taken as zero.")
exp = unary_fn(exp_p, kinds=_FLOAT)
exp2 = unary_fn(exp2_p, kinds=_FLOAT)
expm1 = unary_fn(expm1_p, kinds=_FLOAT)
log = unary_fn(log_p, kinds=_FLOAT)
log2 = unary_fn(log2_p, kinds=_FLOAT)
log10 = unary_fn(log10_p, kinds=_FLOAT)
log1p = unary_fn(log1p_p, kinds=_FLOAT)
sqrt = unary_fn(sqrt_p, kinds=_FLOAT)
cbrt = unary_fn(cbrt_p, kinds="f")
sin = unary_fn(sin_p, kinds=_FLOAT)
cos = unary_fn(cos_p, kinds=_FLOAT)
tan = unary_fn(tan_p, kinds=_FLOAT)
arcsin = unary_fn(arcsin_p, kinds=_FLOAT)
arccos = unary_fn(arccos_p, kinds=_FLOAT)
arctan = unary_fn(arctan_p, kinds=_FLOAT)
sinh = unary_fn(sinh_p, kinds=_FLOAT)
cosh = unary_fn(cosh_p, kinds=_FLOAT)
tanh = unary_fn(tanh_p, kinds=_FLOAT)
arcsinh = unary_fn(arcsinh_p, kinds=_FLOAT)
arccosh = unary_fn(arccosh_p, kinds=_FLOAT)
arctanh = unary_fn(arctanh_p, kinds=_FLOAT)
asin = unary_fn(arcsin_p, name="asin", kinds=_FLOAT)
acos = unary_fn(arccos_p, name="acos", kinds=_FLOAT)
atan = unary_fn(arctan_p, name="atan", kinds=_FLOAT)
asinh = unary_fn(arcsinh_p, name="asinh", kinds=_FLOAT)
acosh = unary_fn(arccosh_p, name="acosh", kinds=_FLOAT)
atanh = unary_fn(arctanh_p, name="atanh", kinds=_FLOAT)
floor = unary_fn(floor_p, doc=_zero_derivative("floor"))
ceil = unary_fn(ceil_p, doc=_zero_derivative("ceil"))
trunc = unary_fn(trunc_p, doc=_zero_derivative("trunc"))
fix = unary_fn(fix_p, doc=_zero_derivative("fix"))
rint = unary_fn(rint_p, kinds=_FLOAT, doc=_zero_derivative("rint"))
logical_not = unary_fn(logical_not_p, doc=_boolean("logical_not"))
isnan = unary_fn(isnan_p, doc=_boolean("isnan"))
isinf = unary_fn(isinf_p, doc=_boolean("isinf"))
isfinite = unary_fn(isfinite_p, doc=_boolean("isfinite"))
signbit = unary_fn(signbit_p, doc=_boolean("signbit"))
invert = unary_fn(invert_p, kinds="biu", doc=_bits("invert") + " On booleans it is logical not.")
bitwise_not = unary_fn(invert_p, name="bitwise_not", kinds="biu", doc=invert.__doc__)
bitwise_invert = unary_fn(invert_p, name="bitwise_invert", kinds="biu", doc=invert.__doc__)


def positive(x):
    """``+x``, as ``numpy.positive``: ``x`` itself (fnx arrays are immutable)."""
    return asarray(x)


def _operands(*values):
    """Python scalars kept as they are (weak, for promotion), anything else as an array; numpy arrays and
    lists join the device of the fnx arrays among them."""
    with data_device(*values):
        return tuple(v if isinstance(v, (bool, int, float, complex)) else asarray(v) for v in values)


def _to_float(x):
    """``x`` as an array of the float NumPy's float-only functions would compute in."""
    x = asarray(x)
    return x if x.dtype.kind in "fc" else astype(x, np.promote_types(x.dtype, dtypes.float16))


def float_power(x1, x2, *, dtype=None):
    """``x1 ** x2`` computed in float64 (complex128 for complex input, or ``dtype`` when given, which must be
    one of those two), as ``numpy.float_power``.

    >>> import fnx.numpy as fnp
    >>> fnp.float_power(fnp.array([2., 3.], dtype="float32"), 2)
    Array([4., 9.], dtype=float64)
    """
    x1, x2 = _operands(x1, x2)
    dt = dtypes.complex128 if dtypes.result_type(x1, x2).kind == "c" else dtypes.float64
    if dtype is not None:
        if np.dtype(dtype) not in (np.float64, np.complex128):  # NumPy's loops: float64 and complex128 only
            raise DTypeError(f"float_power: dtype must be float64 or complex128, got {np.dtype(dtype)}")
        dt = np.dtype(dtype)
    with data_device(x1, x2):
        return power(astype(x1, dt), astype(x2, dt))


def deg2rad(x):
    """Degrees to radians, ``x * pi / 180``, as ``numpy.deg2rad``."""
    return multiply(_to_float(x), math.pi / 180.0)


def rad2deg(x):
    """Radians to degrees, ``x * 180 / pi``, as ``numpy.rad2deg``."""
    return multiply(_to_float(x), 180.0 / math.pi)


radians, degrees = deg2rad, rad2deg


def round(a, decimals=0, out=None):
    """``a`` rounded to ``decimals`` decimals, halves to even, as ``numpy.round``; zero derivative.

    >>> import fnx.numpy as fnp
    >>> fnp.round(fnp.array([0.5, 1.5, 2.5, 0.125]), 2)
    Array([0.5 , 1.5 , 2.5 , 0.12], dtype=float32)
    """
    if out is not None:
        raise ImmutableError("round: fnx arrays are immutable, so out= is not supported; use the returned array")
    return round_p.bind(asarray(a), decimals=int(decimals))


around = round


def clip(a, a_min=None, a_max=None, out=None, *, min=None, max=None):
    """``a`` limited to ``[a_min, a_max]`` (either may be None or an array), as ``numpy.clip``.

    Computed as ``minimum(maximum(a, a_min), a_max)``, so where a bound is
    active the derivative flows to that bound instead of to ``a``.

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.grad(lambda x, hi: fnp.clip(x, 0., hi).sum(), argnums=(0, 1))(fnp.array([-1., .5, 2.]), 1.)
    (Array([0., 1., 0.], dtype=float32), Array(1., dtype=float32))
    """
    if out is not None:
        raise ImmutableError("clip: fnx arrays are immutable, so out= is not supported; use the returned array")
    if (min is not None and a_min is not None) or (max is not None and a_max is not None):
        raise TypeError("clip: give each bound once, as a_min/a_max or as min/max")
    lo = a_min if min is None else min
    hi = a_max if max is None else max
    out = asarray(a)
    if lo is not None:
        out = maximum(out, lo)
    if hi is not None:
        out = minimum(out, hi)
    return out


def where(condition, x=None, y=None, *, size=None, fill_value=None):
    """``x`` where ``condition`` holds, else ``y``, all three broadcast together, as ``numpy.where``.

    The derivative flows to ``x`` where the condition holds and to ``y``
    elsewhere. With only ``condition``, returns ``nonzero(condition)``
    (with JAX's ``size`` and ``fill_value``).

    >>> import fnx.numpy as fnp
    >>> fnp.where(fnp.array([True, False]), fnp.array([1., 2.]), 0.)
    Array([1., 0.], dtype=float32)
    """
    if x is None and y is None:
        from .indexing import nonzero
        return nonzero(condition, size=size, fill_value=fill_value)
    if size is not None or fill_value is not None:
        raise TypeError("where: size and fill_value go with the one-argument form where(condition)")
    if x is None or y is None:
        raise TypeError("where: give both x and y, or neither")
    if type(condition) is Array and type(x) is Array:  # concrete arrays of one dtype, or a float array and a number
        c, vx, dev = condition._value, x._value, x._device
        if type(y) is Array:
            vy, same = y._value, y._device is dev and y._value.dtype == vx.dtype
        else:
            vy, same = y, type(y) in _base._PY_NUMBERS and vx.dtype.kind in "fc"
        if same and type(c) is _base._ndarray and type(vx) is _base._ndarray and condition._device is dev \
                and c.dtype == np.bool_:
            try:
                return wrap(np.where(c, vx, vy), dev)
            except ValueError:
                pass  # shapes that do not broadcast: the path below names them
    x, y = _operands(x, y)
    dt = dtypes.result_type(x, y)
    dev = next((a.device for a in (condition, x, y) if isinstance(a, Array)), None)  # scalars join arrays
    if any(isinstance(a, Array) and a.device is not dev for a in (condition, x, y)):
        raise device_mismatch("where", (condition, x, y))  # with the operands as given
    c, x, y = asarray(condition, device=dev), asarray(x, dt, device=dev), asarray(y, dt, device=dev)
    if c.dtype != dtypes.bool_:
        c = astype(c, dtypes.bool_)
    if not is_traced(c, x, y):
        try:
            return where_p.bind(c, x, y)  # no rule will see these operands: let the backend broadcast
        except ValueError:
            pass  # the path below raises an error naming where and the shapes
    shape = broadcast_shapes("where", c.shape, x.shape, y.shape)
    if c.shape != shape or x.shape != shape or y.shape != shape:
        from .shape import broadcast_to
        c, x, y = (broadcast_to(a, shape) for a in (c, x, y))
    return where_p.bind(c, x, y)


def stop_gradient(x):
    """``x`` with derivatives stopped: every transform sees a constant.

    >>> import fnx
    >>> fnx.grad(lambda x: x * fnx.stop_gradient(x))(3.)
    Array(3., dtype=float32)
    """
    if type(x) is Array:  # a concrete array: nothing to stop
        return x
    from ..core import tree
    return tree.map(lambda a: stop_gradient_p.bind(asarray(a)), x)


def real(val):
    """The real part, as ``numpy.real``: ``val`` itself for real arrays.

    Complex derivatives follow JAX: for a real-valued ``f``, ``grad(f)(z)`` is
    ``df/dx - i df/dy``.

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.grad(lambda z: fnp.real(z * fnp.conj(z)))(fnp.array(3 + 4j))
    Array(6.-8.j, dtype=complex64)
    """
    val = asarray(val)
    return real_p.bind(val) if val.dtype.kind == "c" else val


def imag(val):
    """The imaginary part, as ``numpy.imag``: zeros for real arrays."""
    val = asarray(val)
    if val.dtype.kind == "c":
        return imag_p.bind(val)
    from .creation import zeros_like
    return zeros_like(val)


def conjugate(x):
    """The complex conjugate, as ``numpy.conjugate``: ``x`` itself for real arrays."""
    x = asarray(x)
    return conj_p.bind(x) if x.dtype.kind == "c" else x


conj = conjugate


def angle(z, deg=False):
    """The argument of ``z``, ``arctan2(imag(z), real(z))``, in radians (degrees with ``deg``), as ``numpy.angle``.

    >>> import fnx.numpy as fnp
    >>> fnp.angle(fnp.array([1j, -1.]))
    Array([1.5707964, 3.1415927], dtype=float32)
    """
    z = asarray(z)
    a = arctan2(imag(z), real(z)) if z.dtype.kind == "c" else arctan2(0, z)
    return a * (180.0 / math.pi) if deg else a


# ----- compositions ------------------------------------------------------------------------------
# NumPy functions built from the primitives above: their derivatives, batching and
# placement come from those primitives, so they need no rules of their own.


def _real_only(opname, x):
    if x.dtype.kind == "c":
        raise DTypeError(f"{opname}: complex input ({x.dtype}) is not supported; apply it to real(x) and imag(x)")


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether ``a`` and ``b`` agree within ``atol + rtol * |b|`` elementwise, as ``numpy.isclose``.

    Infinities are close only to the same infinity; NaNs only with ``equal_nan``.
    A bool array, not differentiable.

    >>> import fnx.numpy as fnp
    >>> fnp.isclose(fnp.array([1.0, 1.1, fnp.inf]), fnp.array([1.0 + 1e-9, 1.0, fnp.inf]))
    Array([ True, False,  True], dtype=bool)
    """
    a, b = _operands(a, b)
    dt = dtypes.result_type(a, b, 1.0)  # integers compare as floats, so |a - b| cannot overflow
    with data_device(a, b):
        a, b = asarray(a, dt), asarray(b, dt)
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf is NaN here; the equality below decides it
        close = logical_and(less_equal(abs(a - b), atol + rtol * abs(b)), isfinite(b))
        out = logical_or(close, equal(a, b))
    if equal_nan:
        out = logical_or(out, logical_and(isnan(a), isnan(b)))
    return out


def isposinf(x):
    """Whether each element is +inf, as ``numpy.isposinf``; real input only.

    >>> import fnx.numpy as fnp
    >>> fnp.isposinf(fnp.array([-fnp.inf, 0.0, fnp.inf]))
    Array([False, False,  True], dtype=bool)
    """
    x = asarray(x)
    _real_only("isposinf", x)
    return logical_and(isinf(x), logical_not(signbit(x)))


def isneginf(x):
    """Whether each element is -inf, as ``numpy.isneginf``; real input only.

    >>> import fnx.numpy as fnp
    >>> fnp.isneginf(fnp.array([-fnp.inf, 0.0, fnp.inf]))
    Array([ True, False, False], dtype=bool)
    """
    x = asarray(x)
    _real_only("isneginf", x)
    return logical_and(isinf(x), signbit(x))


def iscomplex(x):
    """Whether each element has a nonzero imaginary part, as ``numpy.iscomplex`` (all False for real input).

    >>> import fnx.numpy as fnp
    >>> fnp.iscomplex(fnp.array([1 + 1j, 2 + 0j]))
    Array([ True, False], dtype=bool)
    """
    return not_equal(imag(x), 0)


def isreal(x):
    """Whether each element has a zero imaginary part, as ``numpy.isreal`` (all True for real input).

    >>> import fnx.numpy as fnp
    >>> fnp.isreal(fnp.array([1 + 1j, 2 + 0j]))
    Array([False,  True], dtype=bool)
    """
    return equal(imag(x), 0)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """``x`` with NaN replaced by ``nan`` and infinities by ``posinf``/``neginf``, as ``numpy.nan_to_num``.

    The infinities default to the largest finite values of the dtype. Complex
    input has its real and imaginary parts replaced separately; integer input
    comes back unchanged. The derivative is 1 at finite elements and 0 at the
    replaced ones.

    >>> import fnx.numpy as fnp
    >>> fnp.nan_to_num(fnp.array([fnp.nan, -fnp.inf, 1.5]), neginf=-9.0)
    Array([ 0. , -9. ,  1.5], dtype=float32)
    """
    x = asarray(x)
    if x.dtype.kind not in "fc":
        return x
    part = _real_dtype(x.dtype)
    big = float(np.finfo(part).max)
    # Arrays of the part's dtype: two Python floats alone would meet in the default float dtype.
    with data_device(x):
        hi = asarray(big if posinf is None else posinf, part)
        lo = asarray(-big if neginf is None else neginf, part)

    def fix(r):
        return where(isnan(r), nan, where(isinf(r), where(signbit(r), lo, hi), r))

    if x.dtype.kind == "c":
        return add(astype(fix(real(x)), x.dtype), multiply(fix(imag(x)), 1j))
    return fix(x)


def heaviside(x1, x2):
    """The step function: 0 where ``x1 < 0``, ``x2`` where ``x1 == 0``, 1 where ``x1 > 0``, as ``numpy.heaviside``.

    NaN in ``x1`` gives NaN. Differentiable in ``x2`` (where ``x1`` is 0); the
    derivative in ``x1`` is 0.

    >>> import fnx.numpy as fnp
    >>> fnp.heaviside(fnp.array([-1.5, 0.0, 2.0]), 0.5)
    Array([0. , 0.5, 1. ], dtype=float32)
    """
    x1, x2 = _operands(x1, x2)
    dt = dtypes.result_type(x1, x2)
    if dt.kind == "c":
        raise DTypeError(f"heaviside: complex input ({dt}) is not supported")
    if dt.kind in "biu":
        dt = np.promote_types(dt, dtypes.float16)  # NumPy's loop: the smallest float holding the integers
    with data_device(x1, x2):
        x1, x2 = asarray(x1, dt), asarray(x2, dt)
    step = where(less(x1, 0), 0.0, where(greater(x1, 0), 1.0, x2))
    return where(isnan(x1), x1, step)


def sinc(x):
    """The normalised sinc, ``sin(pi x) / (pi x)`` with ``sinc(0) = 1``, as ``numpy.sinc``.

    Integer input gives float64. The first derivative is exact everywhere (0 at
    0); higher derivatives at exactly 0 are not.

    >>> import fnx.numpy as fnp
    >>> fnp.sinc(fnp.array([0.0, 0.5, -1.5]))
    Array([ 1.        ,  0.63661975, -0.21220659], dtype=float32)
    """
    x = asarray(x)
    if x.dtype.kind not in "fc":
        x = astype(x, dtypes.result_type(x, 1.0))
    zero = equal(x, 0)
    # The quotient is evaluated at 1 instead of 0, so its derivative there is finite and then discarded.
    px = multiply(where(zero, 1.0, x), math.pi)
    return where(zero, 1.0, divide(sin(px), px))


def modf(x, out=None):
    """The fractional and integral parts of ``x``, both with ``x``'s sign, as ``numpy.modf``.

    >>> import fnx.numpy as fnp
    >>> fnp.modf(fnp.array([2.5, -3.25]))
    (Array([ 0.5 , -0.25], dtype=float32), Array([ 2., -3.], dtype=float32))
    """
    if out is not None:
        raise ImmutableError("modf: fnx arrays are immutable, so out= is not supported; use the returned arrays")
    x = _to_float(x)
    _real_only("modf", x)
    whole = trunc(x)
    infinite = isinf(x)
    # inf - inf would be NaN; NumPy gives a zero of the input's sign.
    finite = where(infinite, 0.0, x)
    return where(infinite, copysign(0.0, x), subtract(finite, trunc(finite))), whole


def divmod(x1, x2, out=None):
    """``(floor_divide(x1, x2), remainder(x1, x2))``, as ``numpy.divmod``.

    >>> import fnx.numpy as fnp
    >>> fnp.divmod(fnp.array([7, -7]), 3)
    (Array([ 2, -3], dtype=int64), Array([1, 2], dtype=int64))
    """
    if out is not None:
        raise ImmutableError("divmod: fnx arrays are immutable, so out= is not supported; use the returned arrays")
    return floor_divide(x1, x2), remainder(x1, x2)


def _integer_operands(opname, x1, x2):
    x1, x2 = _operands(x1, x2)
    dt = dtypes.result_type(x1, x2)
    if dt.kind not in "iu":
        raise DTypeError(f"{opname}: expected integer operands, got {dt}")
    (x1, x2), dt = _base.canonicalize(opname, x1, x2, dtype=dt)
    return x1, x2, dt


def gcd(x1, x2):
    """The greatest common divisor of ``|x1|`` and ``|x2|`` (integers), as ``numpy.gcd``; ``gcd(0, 0) = 0``.

    >>> import fnx.numpy as fnp
    >>> fnp.gcd(fnp.array([12, 20, 0]), 8)
    Array([4, 4, 8], dtype=int64)
    """
    a, b, dt = _integer_operands("gcd", x1, x2)
    a, b = abs(a), abs(b)
    # Euclid's algorithm. Concrete operands stop when every pair is done; traced ones
    # run the worst case, consecutive Fibonacci numbers: log_phi(2 ** bits) + 2 steps.
    steps = int(dt.itemsize * 8 * 1.45) + 2
    for _ in range(steps):
        if not is_traced(b) and not xp_of(b._value).any(b._value):
            break
        done = equal(b, 0)
        a, b = where(done, a, b), where(done, 0, remainder(a, where(done, 1, b)))
    return a


def lcm(x1, x2):
    """The least common multiple of ``|x1|`` and ``|x2|`` (integers), as ``numpy.lcm``; 0 if either is 0.

    >>> import fnx.numpy as fnp
    >>> fnp.lcm(fnp.array([4, 6, 0]), 6)
    Array([12,  6,  0], dtype=int64)
    """
    a, b, _ = _integer_operands("lcm", x1, x2)
    g = gcd(a, b)
    return abs(multiply(floor_divide(a, where(equal(g, 0), 1, g)), b))


def ldexp(x1, x2, out=None):
    """``x1 * 2 ** x2`` for integer ``x2``, as ``numpy.ldexp``; differentiable in ``x1``.

    >>> import fnx.numpy as fnp
    >>> fnp.ldexp(fnp.array([0.5, 3.0]), fnp.array([3, -1]))
    Array([4. , 1.5], dtype=float32)
    """
    if out is not None:
        raise ImmutableError("ldexp: fnx arrays are immutable, so out= is not supported; use the returned array")
    x1 = _to_float(x1)
    with data_device(x1):
        x2 = asarray(x2)
    if x2.dtype.kind not in "biu":
        raise DTypeError(f"ldexp: the exponent must be integer, got {x2.dtype}")
    _real_only("ldexp", x1)
    # Two half powers: 2 ** x2 alone can overflow or underflow where the product does not.
    half = floor_divide(x2, 2)
    return multiply(multiply(x1, exp2(astype(half, x1.dtype))), exp2(astype(subtract(x2, half), x1.dtype)))


def frexp(x, out=None):
    """``(mantissa, exponent)`` with ``x = mantissa * 2 ** exponent`` and ``0.5 <= |mantissa| < 1``, as
    ``numpy.frexp``. The exponent is int32, and 0 for zeros, infinities and NaNs.

    >>> import fnx.numpy as fnp
    >>> fnp.frexp(fnp.array([8.0, -0.75, 0.0]))
    (Array([ 0.5 , -0.75,  0.  ], dtype=float32), Array([4, 0, 0], dtype=int32))
    """
    if out is not None:
        raise ImmutableError("frexp: fnx arrays are immutable, so out= is not supported; use the returned arrays")
    x = _to_float(x)
    _real_only("frexp", x)
    regular = logical_and(isfinite(x), not_equal(x, 0))
    safe = where(regular, x, 1.0)
    e = add(floor(log2(abs(safe))), 1.0)
    m = divide(safe, exp2(e))
    # log2 rounds near powers of two, leaving the mantissa a factor of two off: one correction step.
    e = where(greater_equal(abs(m), 1.0), add(e, 1.0), where(less(abs(m), 0.5), subtract(e, 1.0), e))
    m = divide(safe, exp2(e))
    return where(regular, m, x), astype(where(regular, e, 0.0), dtypes.int32)


def select(condlist, choicelist, default=0):
    """The element of the first ``choicelist[i]`` whose ``condlist[i]`` holds, else ``default``, as
    ``numpy.select``. Differentiable in the choices and ``default``.

    >>> import fnx.numpy as fnp
    >>> x = fnp.arange(6.0)
    >>> fnp.select([x < 2, x > 3], [x, x ** 2], default=-1.0)
    Array([ 0.,  1., -1., -1., 16., 25.], dtype=float32)
    """
    if len(condlist) != len(choicelist):
        raise ValueError(f"select: {len(condlist)} conditions and {len(choicelist)} choices; give one choice per "
                         f"condition")
    if not condlist:
        raise ValueError("select: condlist is empty; give at least one condition")
    out = default
    for i in range(len(condlist) - 1, -1, -1):  # the first condition that holds is applied last, so it wins
        c = asarray(condlist[i])
        if c.dtype != dtypes.bool_:
            raise DTypeError(f"select: condition {i} has dtype {c.dtype}; conditions must be boolean arrays")
        out = where(c, choicelist[i], out)
    return out


# ----- batching --------------------------------------------------------------------------------
# Every primitive in this file acts elementwise on operands of one shape, so one rule
# batches them all: align the operands' batch axes and call the primitive once. The
# `unary`/`binary` factories set it already; this gives it to the rest.

def _elementwise_batch_rule(prim):
    return lambda vals, bdims, **params: batch_elementwise(prim, vals, bdims, params)


for _prim in [v for v in list(globals().values()) if isinstance(v, Primitive)]:
    if isinstance(_prim.batch, Missing):
        _prim.batch = _elementwise_batch_rule(_prim)
del _prim


# ----- ufunc methods ---------------------------------------------------------------------------
# NumPy's (and jax.numpy's) binary ufuncs carry methods: ``fnp.add.outer(a, b)``,
# ``fnp.maximum.accumulate(x)``, ``fnp.multiply.reduce(x)``. fnx's are functions, so the methods
# are attributes of the functions: a call of ``fnp.add`` itself pays nothing for them.

def _outer_of(fn, name):
    def outer(a, b, /):
        """``{name}`` of every element of ``a`` with every element of ``b``: shape ``a.shape + b.shape``."""
        from .shape import reshape
        a, b = asarray(a), asarray(b)
        return fn(reshape(a, a.shape + (1,) * b.ndim), b)
    outer.__doc__ = outer.__doc__.format(name=name)
    outer.__name__ = outer.__qualname__ = f"{name}.outer"
    return outer


def _reduce_of(name, reduction):
    def reduce(array, axis=0, dtype=None, out=None, keepdims=False, **options):
        """``numpy.{name}.reduce``: ``{name}`` folded over ``axis`` (0 by default, as NumPy; None: every axis)."""
        from . import reductions
        if dtype is not None:
            array = astype(asarray(array), dtype)
        return getattr(reductions, reduction)(array, axis=axis, out=out, keepdims=keepdims, **options)
    reduce.__doc__ = reduce.__doc__.format(name=name)
    reduce.__name__ = reduce.__qualname__ = f"{name}.reduce"
    return reduce


def _fold_of(fn, name):
    def reduce(array, axis=0, dtype=None, out=None, keepdims=False):
        """``numpy.{name}.reduce``: ``{name}`` folded over ``axis`` (0 by default, as NumPy; None: every axis, a
        tuple: each of them), pairwise in a tree of ``log2(n)`` steps; differentiable where ``{name}`` is."""
        from ._base import normalize_axis
        from .shape import concatenate, expand_dims, moveaxis, ravel
        if out is not None:
            raise TypeError(f"{name}.reduce: out= is not supported, fnx arrays are immutable")
        x = asarray(array)
        if dtype is not None:
            x = astype(x, dtype)
        if axis is None:
            axes, x = (0,), ravel(x)
        else:
            axes = tuple(sorted({normalize_axis(f"{name}.reduce", a, x.ndim)
                                 for a in (axis if isinstance(axis, tuple) else (axis,))}, reverse=True))
        for ax in axes:
            x = moveaxis(x, ax, 0)
            if x.shape[0] == 0:
                raise ValueError(f"{name}.reduce: zero-size array to reduction operation {name} which has no "
                                 f"identity in fnx")
            while x.shape[0] > 1:
                m = x.shape[0]
                pairs = fn(x[0:m - 1:2], x[1:m:2])
                x = concatenate([pairs, x[m - 1:m]]) if m % 2 else pairs
            x = x[0]
            if keepdims and axis is not None:
                x = expand_dims(x, ax)
        if keepdims and axis is None:
            x = x.reshape((1,) * asarray(array).ndim)
        return x
    reduce.__doc__ = reduce.__doc__.format(name=name)
    reduce.__name__ = reduce.__qualname__ = f"{name}.reduce"
    return reduce


def _accumulate_of(fn, name, cumulative=None):
    def accumulate(array, axis=0, dtype=None, out=None):
        """``numpy.{name}.accumulate``: the running ``{name}`` along ``axis`` (0 by default)."""
        from . import reductions
        from .shape import concatenate
        from ._base import normalize_axis
        from .indexing import slice_axis
        if out is not None:
            raise TypeError(f"{name}.accumulate: out= is not supported, fnx arrays are immutable")
        x = asarray(array)
        if dtype is not None:
            x = astype(x, dtype)
        if x.ndim == 0:
            raise ValueError(f"{name}.accumulate: cannot accumulate over a 0-d array")
        ax = normalize_axis(f"{name}.accumulate", axis, x.ndim)
        if cumulative is not None:
            return getattr(reductions, cumulative)(x, axis=ax)
        # An inclusive scan by doubling (Hillis and Steele): after the step of stride k, each entry holds the
        # fold of the 2k entries up to it. log2(n) vectorised steps, differentiable like ``fn`` itself.
        n, k = x.shape[ax], 1
        while k < n:
            x = concatenate([slice_axis(x, ax, 0, k), fn(slice_axis(x, ax, k, n), slice_axis(x, ax, 0, n - k))],
                            axis=ax)
            k *= 2
        return x
    accumulate.__doc__ = accumulate.__doc__.format(name=name)
    accumulate.__name__ = accumulate.__qualname__ = f"{name}.accumulate"
    return accumulate


def _at_of(name, update):
    def at(a, indices, b=None, /, *, inplace=True):
        """``jax.numpy.{name}.at(a, indices, b, inplace=False)``: ``a`` with ``{name}`` applied at ``indices``
        (repeated indices applied again each time), as ``a.at[indices].{update}(b)``."""
        if inplace:
            raise ValueError(f"{name}.at: fnx arrays are immutable, so NumPy's in-place form is not available; "
                             f"pass inplace=False (as JAX asks) and use the returned array")
        if b is None:
            raise TypeError(f"{name}.at: the values b are required for a binary ufunc")
        values = asarray(b)
        if name == "subtract":
            values = negative(values)
        return getattr(asarray(a).at[indices], update)(values)
    at.__doc__ = at.__doc__.format(name=name, update=update)
    at.__name__ = at.__qualname__ = f"{name}.at"
    return at


_AT = {"add": "add", "subtract": "add", "multiply": "multiply", "minimum": "min", "maximum": "max"}
_REDUCTIONS = {"add": ("sum", "cumsum"), "multiply": ("prod", "cumprod"), "maximum": ("max", None),
               "minimum": ("min", None), "logical_and": ("all", None), "logical_or": ("any", None)}
_ASSOCIATIVE = ("logical_xor", "bitwise_and", "bitwise_or", "bitwise_xor", "fmax", "fmin", "gcd", "lcm",
                "logaddexp", "logaddexp2")

for _name in ("add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "power", "float_power",
              "mod", "remainder", "fmod", "maximum", "minimum", "fmax", "fmin", "arctan2", "hypot", "logaddexp",
              "logaddexp2", "copysign", "nextafter", "heaviside", "equal", "not_equal", "less", "less_equal",
              "greater", "greater_equal", "logical_and", "logical_or", "logical_xor", "bitwise_and", "bitwise_or",
              "bitwise_xor", "left_shift", "right_shift", "gcd", "lcm"):
    _fn = globals().get(_name)
    if _fn is None:
        continue
    _fn.outer = _outer_of(_fn, _name)
    if _name in _AT:
        _fn.at = _at_of(_name, _AT[_name])
    if _name in _REDUCTIONS:
        _fn.reduce = _reduce_of(_name, _REDUCTIONS[_name][0])
        _fn.accumulate = _accumulate_of(_fn, _name, _REDUCTIONS[_name][1])
    elif _name in _ASSOCIATIVE:
        _fn.reduce = _fold_of(_fn, _name)
        _fn.accumulate = _accumulate_of(_fn, _name)
del _name, _fn
