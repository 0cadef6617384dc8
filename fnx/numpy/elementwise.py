"""Elementwise operations: arithmetic, powers, exponentials, trigonometry, comparisons.

Each primitive is one block: its implementation on the backend namespace ``xp``
and its derivative, from which ``unary``/``binary`` derive the JVP and VJP. The
public functions follow the primitives, with NumPy names and broadcasting.
"""
import numpy as np

from ..core import dtypes
from ..core.array import Array, wrap
from ..core.primitive import NOT_DIFFERENTIABLE, ShapedArray, defprim
from ._base import (asarray, binary, binary_fn, bool_shape, canonicalize, not_differentiable, same_shape,
                    unary, unary_fn)

__all__ = [
    "astype", "add", "subtract", "multiply", "divide", "true_divide", "negative", "positive",
    "power", "exp", "log", "sin", "cos", "tanh", "sqrt", "maximum", "minimum", "where",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal", "stop_gradient",
]

# ----- casts ----------------------------------------------------------------------------


def _convert_jvp(primals, tangents, *, dtype):
    (x,), (t,) = primals, tangents
    out = convert_p.bind(x, dtype=dtype)
    if not dtypes.is_differentiable(dtype):
        return out, None
    return out, convert_p.bind(t, dtype=dtype)


def _convert_vjp(ct, x, *, out, dtype):
    if not dtypes.is_differentiable(x.dtype):
        return (None,)
    return (convert_p.bind(ct, dtype=x.dtype),)


convert_p = defprim(
    "convert_element_type",
    impl=lambda xp, x, *, dtype: xp.asarray(x).astype(dtype),
    shape=lambda x, *, dtype: ShapedArray(x.shape, dtype),
    jvp=_convert_jvp, vjp=_convert_vjp)


def astype(x, dtype, copy=True):
    """``x`` converted to ``dtype`` (differentiable between floating dtypes)."""
    x = asarray(x)
    dtype = dtypes.canonical(dtype)
    if x.dtype == dtype:
        return x
    return convert_p.bind(x, dtype=dtype)


# ----- arithmetic ---------------------------------------------------------------------------

add_p = binary("add", lambda xp, x, y: xp.add(x, y), lambda x, y, out: 1.0, lambda x, y, out: 1.0)
subtract_p = binary("subtract", lambda xp, x, y: xp.subtract(x, y), lambda x, y, out: 1.0,
                    lambda x, y, out: -1.0)
multiply_p = binary("multiply", lambda xp, x, y: xp.multiply(x, y), lambda x, y, out: y, lambda x, y, out: x)
divide_p = binary("true_divide", lambda xp, x, y: xp.true_divide(x, y), lambda x, y, out: 1.0 / y,
                  lambda x, y, out: -out / y, domain="nonzero_second")
negative_p = unary("negative", lambda xp, x: xp.negative(x), lambda x, out: -1.0)

# ----- powers, exponentials and logarithms ------------------------------------------------------


def _power_dx(x, y, out):
    return y * power(x, y - 1.0)


def _power_dy(x, y, out):
    # d/dy x**y = log(x) x**y, taken as 0 where x == 0 (the limit along y > 0).
    safe = where(equal(x, 0.0), 1.0, x)
    return where(equal(x, 0.0), 0.0, log(safe) * out)


power_p = binary("power", lambda xp, x, y: xp.power(x, y), _power_dx, _power_dy, domain="positive_first")
exp_p = unary("exp", lambda xp, x: xp.exp(x), lambda x, out: out)
log_p = unary("log", lambda xp, x: xp.log(x), lambda x, out: 1.0 / x, domain="positive")
sqrt_p = unary("sqrt", lambda xp, x: xp.sqrt(x), lambda x, out: 0.5 / out, domain="positive")

# ----- trigonometric and hyperbolic -----------------------------------------------------------

sin_p = unary("sin", lambda xp, x: xp.sin(x), lambda x, out: cos(x))
cos_p = unary("cos", lambda xp, x: xp.cos(x), lambda x, out: -sin(x))
tanh_p = unary("tanh", lambda xp, x: xp.tanh(x), lambda x, out: 1.0 - out * out)

# ----- selection -------------------------------------------------------------------------------


def _max_dx(x, y, out):
    # Ties split the derivative evenly, as JAX does, so max(x, x) has gradient 1.
    return where(greater(x, y), 1.0, where(equal(x, y), 0.5, 0.0))


maximum_p = binary("maximum", lambda xp, x, y: xp.maximum(x, y), _max_dx,
                   lambda x, y, out: _max_dx(y, x, out), smooth=False)
minimum_p = binary("minimum", lambda xp, x, y: xp.minimum(x, y), lambda x, y, out: _max_dx(y, x, out),
                   lambda x, y, out: _max_dx(x, y, out), smooth=False)


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


where_p = defprim("select", impl=lambda xp, c, x, y: xp.where(c, x, y),
                  shape=lambda c, x, y: ShapedArray(x.shape, x.dtype),
                  jvp=_where_jvp, vjp=_where_vjp, smooth=False)


def where(condition, x=None, y=None):
    """``x`` where ``condition`` holds, else ``y`` (broadcast together), as ``numpy.where``.

    With only ``condition``, returns ``nonzero(condition)`` (not inside transforms).
    """
    if x is None and y is None:
        from .indexing import nonzero
        return nonzero(condition)
    if x is None or y is None:
        raise TypeError("where: give both x and y, or neither")
    dt = dtypes.result_type(x, y)
    c = asarray(condition)
    if c.dtype != dtypes.bool_:
        c = astype(c, dtypes.bool_)
    (c, x, y), _ = _where_canon(c, x, y, dt)
    return where_p.bind(c, x, y)


def _where_canon(c, x, y, dt):
    (x, y), _ = canonicalize("where", x, y, dtype=dt)
    from ._base import broadcast_shapes
    from .shape import broadcast_to
    shape = broadcast_shapes("where", c.shape, x.shape)
    return tuple(a if a.shape == shape else broadcast_to(a, shape) for a in (c, x, y)), dt


def _stop_gradient_jvp(primals, tangents):
    return stop_gradient_p.bind(primals[0]), None


stop_gradient_p = defprim("stop_gradient", impl=lambda xp, x: x, shape=same_shape,
                          jvp=_stop_gradient_jvp, vjp=lambda ct, x, *, out: (None,))


def stop_gradient(x):
    """``x`` with derivatives stopped: every transform sees a constant.

    >>> import fnx
    >>> fnx.grad(lambda x: x * fnx.stop_gradient(x))(3.)
    Array(3., dtype=float32)
    """
    from ..core import tree
    return tree.map(lambda a: stop_gradient_p.bind(asarray(a)), x)


# ----- comparisons -------------------------------------------------------------------------------

equal_p = not_differentiable("equal", lambda xp, x, y: xp.equal(x, y), bool_shape)
not_equal_p = not_differentiable("not_equal", lambda xp, x, y: xp.not_equal(x, y), bool_shape)
less_p = not_differentiable("less", lambda xp, x, y: xp.less(x, y), bool_shape)
less_equal_p = not_differentiable("less_equal", lambda xp, x, y: xp.less_equal(x, y), bool_shape)
greater_p = not_differentiable("greater", lambda xp, x, y: xp.greater(x, y), bool_shape)
greater_equal_p = not_differentiable("greater_equal", lambda xp, x, y: xp.greater_equal(x, y), bool_shape)

# ----- public functions ------------------------------------------------------------------------------

_FLOAT = "fc"


def _true_divide_dtype(dt):
    return dt if dt.kind in "fc" else np.result_type(dt, 1.0) if dt.kind != "b" else dtypes.default_float()


add = binary_fn(add_p)
subtract = binary_fn(subtract_p)
multiply = binary_fn(multiply_p)
true_divide = binary_fn(divide_p, result=_true_divide_dtype)
divide = binary_fn(divide_p, name="divide", result=_true_divide_dtype)
power = binary_fn(power_p)
maximum = binary_fn(maximum_p)
minimum = binary_fn(minimum_p)
equal = binary_fn(equal_p)
not_equal = binary_fn(not_equal_p)
less = binary_fn(less_p)
less_equal = binary_fn(less_equal_p)
greater = binary_fn(greater_p)
greater_equal = binary_fn(greater_equal_p)

negative = unary_fn(negative_p)
exp = unary_fn(exp_p, kinds=_FLOAT)
log = unary_fn(log_p, kinds=_FLOAT)
sqrt = unary_fn(sqrt_p, kinds=_FLOAT)
sin = unary_fn(sin_p, kinds=_FLOAT)
cos = unary_fn(cos_p, kinds=_FLOAT)
tanh = unary_fn(tanh_p, kinds=_FLOAT)


def positive(x):
    return asarray(x)
