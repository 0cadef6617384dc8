"""Elementwise primitives: cases for the registry-wide checks, and named regressions."""
import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fnx
import fnx.numpy as fnp
import fnx.nn.functional as F
from fnx.errors import DTypeError, ShapeError
from fnx.numpy.elementwise import relu_grad_p
from fnx.testing import check_grads
from .harness import Case, numpy_arrays, one, two_broadcasting


def _apart(*xs):
    """Every pair of the (broadcast) arguments differs by more than 1e-3 everywhere: away from ties."""
    return all(bool(np.all(np.abs(a - b) > 1e-3)) for i, a in enumerate(xs) for b in xs[i + 1:])


def _off_integers(q, margin=1e-3):
    return bool(np.all(np.abs(q - np.round(q)) > margin))


def _quotient_off_integers(x, y):
    return _off_integers(x / y)


def _off_halves(x, decimals=0):
    return _off_integers(x * 10.0 ** decimals + 0.5)


def _broadcasting(n, *elements):
    """``n`` arrays of mutually broadcastable shapes, the i-th drawn from ``elements[i]``."""
    def build(b):
        return st.tuples(*[hnp.arrays(e[0], s, elements=e[1]) for s, e in zip(b.input_shapes, elements)])
    return hnp.mutually_broadcastable_shapes(num_shapes=n, max_dims=3, max_side=3).flatmap(build)


_REAL = (np.float64, st.floats(-3, 3))
_TIES = (np.float64, st.sampled_from([-1.0, 0.0, 0.5, 1.0]))  # equal values and zeros are common
_INTS = (np.int64, st.integers(-100, 100))
_SHIFTS = (np.int64, st.integers(0, 8))
_SPECIAL = hnp.arrays(
    np.float64, hnp.array_shapes(max_dims=2, max_side=4),
    elements=st.sampled_from([0.0, -0.0, 1.5, -2.0, np.inf, -np.inf, np.nan]))


@fnx.custom_vjp
def _custom_sin(x):
    return fnp.sin(x)


_custom_sin.defvjp(lambda x: (fnp.sin(x), fnp.cos(x)), lambda cos_x, g: (g * cos_x,))


def _z(x, y):
    return x + 1j * y


def _both(expr):
    """``(fnx function, numpy reference)`` from one expression over a module."""
    return expr(fnp), expr(np)


CASES = [
    # casts
    Case("convert_element_type", lambda x: fnp.astype(x, "float64"), lambda x: x.astype(np.float64),
         one(dtype=np.float32)),
    Case("convert_element_type", lambda x: fnp.astype(x, "int32"), lambda x: x.astype(np.int32), one(),
         grad=False, name="convert_element_type_to_int"),
    # arithmetic
    Case("add", fnp.add, np.add, two_broadcasting(), diff=(0, 1)),
    Case("subtract", fnp.subtract, np.subtract, two_broadcasting(), diff=(0, 1)),
    Case("multiply", fnp.multiply, np.multiply, two_broadcasting(), diff=(0, 1)),
    Case("true_divide", fnp.true_divide, np.true_divide, two_broadcasting("real", "nonzero"), diff=(0, 1)),
    Case("floor_divide", fnp.floor_divide, np.floor_divide, two_broadcasting("real", "nonzero"), diff=(0, 1),
         valid=_quotient_off_integers),
    Case("remainder", fnp.remainder, np.remainder, two_broadcasting("real", "nonzero"), diff=(0, 1),
         valid=_quotient_off_integers),
    Case("remainder", fnp.mod, np.mod, two_broadcasting("real", "nonzero"), diff=(0, 1),
         valid=_quotient_off_integers, name="mod"),
    Case("fmod", fnp.fmod, np.fmod, two_broadcasting("real", "nonzero"), diff=(0, 1),
         valid=_quotient_off_integers),
    Case("negative", fnp.negative, np.negative, one()),
    Case("reciprocal", fnp.reciprocal, np.reciprocal, one(domain="nonzero")),
    Case("square", fnp.square, np.square, one()),
    Case("absolute", fnp.abs, np.abs, one(domain="nonzero")),
    Case("sign", fnp.sign, np.sign, one(domain="nonzero")),
    Case("copysign", fnp.copysign, np.copysign, two_broadcasting("nonzero", "nonzero"), diff=(0, 1)),
    # powers, exponentials, logarithms
    Case("power", fnp.power, np.power, two_broadcasting("positive", "real"), diff=(0, 1)),
    Case("power", fnp.float_power, np.float_power, two_broadcasting("positive", "real"), diff=(0, 1),
         name="float_power"),
    Case("exp", fnp.exp, np.exp, one()),
    Case("exp2", fnp.exp2, np.exp2, one()),
    Case("expm1", fnp.expm1, np.expm1, one()),
    Case("log", fnp.log, np.log, one(domain="positive")),
    Case("log2", fnp.log2, np.log2, one(domain="positive")),
    Case("log10", fnp.log10, np.log10, one(domain="positive")),
    Case("log1p", fnp.log1p, np.log1p, one(domain="open_unit_ball")),
    Case("logaddexp", fnp.logaddexp, np.logaddexp, two_broadcasting(), diff=(0, 1)),
    Case("logaddexp2", fnp.logaddexp2, np.logaddexp2, two_broadcasting(), diff=(0, 1)),
    Case("sqrt", fnp.sqrt, np.sqrt, one(domain="positive")),
    Case("cbrt", fnp.cbrt, np.cbrt, one(domain="nonzero")),
    Case("hypot", fnp.hypot, np.hypot, two_broadcasting("nonzero", "nonzero"), diff=(0, 1)),
    # trigonometric and hyperbolic
    Case("sin", fnp.sin, np.sin, one()),
    Case("cos", fnp.cos, np.cos, one()),
    Case("tan", fnp.tan, np.tan, one(domain="open_unit_ball")),
    Case("arcsin", fnp.arcsin, np.arcsin, one(domain="open_unit_ball")),
    Case("arccos", fnp.arccos, np.arccos, one(domain="open_unit_ball")),
    Case("arctan", fnp.arctan, np.arctan, one()),
    Case("arctan2", fnp.arctan2, np.arctan2, two_broadcasting("nonzero", "nonzero"), diff=(0, 1)),
    Case("sinh", fnp.sinh, np.sinh, one()),
    Case("cosh", fnp.cosh, np.cosh, one()),
    Case("tanh", fnp.tanh, np.tanh, one()),
    Case("arcsinh", fnp.arcsinh, np.arcsinh, one()),
    Case("arccosh", fnp.arccosh, np.arccosh, one(domain="above_one")),
    Case("arctanh", fnp.arctanh, np.arctanh, one(domain="open_unit_ball")),
    Case("multiply", fnp.deg2rad, np.deg2rad, one(), name="deg2rad"),
    Case("multiply", fnp.rad2deg, np.rad2deg, one(), name="rad2deg"),
    # rounding: the derivative checks see zeros on both sides
    Case("floor", fnp.floor, np.floor, one(domain="away_from_integers")),
    Case("ceil", fnp.ceil, np.ceil, one(domain="away_from_integers")),
    Case("trunc", fnp.trunc, np.trunc, one(domain="away_from_integers")),
    Case("fix", fnp.fix, np.fix, one(domain="away_from_integers")),
    Case("rint", fnp.rint, np.rint, one(domain="away_from_integers"), valid=_off_halves),
    Case("round", fnp.round, np.round, st.tuples(numpy_arrays(), st.integers(-1, 2)), valid=_off_halves),
    # selection
    Case("maximum", fnp.maximum, np.maximum, two_broadcasting(), diff=(0, 1), valid=_apart),
    Case("minimum", fnp.minimum, np.minimum, two_broadcasting(), diff=(0, 1), valid=_apart),
    Case("fmax", fnp.fmax, np.fmax, two_broadcasting(), diff=(0, 1), valid=_apart),
    Case("fmin", fnp.fmin, np.fmin, two_broadcasting(), diff=(0, 1), valid=_apart),
    Case("minimum", fnp.clip, np.clip, _broadcasting(3, _REAL, _REAL, _REAL), diff=(0, 1, 2), valid=_apart,
         name="clip"),
    Case("maximum", lambda x, lo: fnp.clip(x, lo), lambda x, lo: np.clip(x, lo, None), two_broadcasting(),
         diff=(0, 1), valid=_apart, name="clip_lower"),
    Case("select", fnp.where, np.where, _broadcasting(3, (np.bool_, st.booleans()), _REAL, _REAL), diff=(1, 2)),
    Case("relu", F.relu, lambda x: np.maximum(x, 0.0), one(), valid=lambda x: np.all(np.abs(x) > 1e-3)),
    Case("relu_grad", lambda ct, y: relu_grad_p.bind(fnp.asarray(ct), fnp.asarray(y) > 0),
         lambda ct, y: ct * (y > 0), st.integers(0, 3).flatmap(
             lambda n: st.tuples(numpy_arrays((n, 2)), numpy_arrays((n, 2))))),
    Case("stop_gradient", fnp.stop_gradient, lambda x: x, one(), grad=False),
    Case("name", lambda x: fnx.checkpoint_name(x, "h"), lambda x: x, one()),  # checkpoint_name's identity
    # a custom_vjp function under jit is one custom_call operation, differentiated by the user's rule
    Case("custom_call", fnx.jit(_custom_sin), np.sin, one()),
    # comparisons, logic, bits
    *[Case(name, getattr(fnp, name), getattr(np, name), _broadcasting(2, _TIES, _TIES), grad=False)
      for name in ("equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
                   "logical_and", "logical_or", "logical_xor")],
    Case("logical_not", fnp.logical_not, np.logical_not, _broadcasting(1, _TIES), grad=False),
    *[Case(name, getattr(fnp, name), getattr(np, name), st.tuples(_SPECIAL), grad=False)
      for name in ("isnan", "isinf", "isfinite", "signbit")],
    *[Case(name, getattr(fnp, name), getattr(np, name), _broadcasting(2, _INTS, _INTS), grad=False)
      for name in ("bitwise_and", "bitwise_or", "bitwise_xor")],
    *[Case(name, getattr(fnp, name), getattr(np, name), _broadcasting(2, _INTS, _SHIFTS), grad=False)
      for name in ("left_shift", "right_shift")],
    Case("invert", fnp.invert, np.invert, _broadcasting(1, _INTS), grad=False),
    Case("invert", fnp.invert, np.invert, _broadcasting(1, (np.bool_, st.booleans())), grad=False,
         name="invert_bool"),
    # complex intermediates between real inputs and outputs, so every derivative check applies
    Case("real", *_both(lambda m: lambda x, y: m.real(_z(x, y) * _z(y, x))), two_broadcasting(), diff=(0, 1)),
    Case("imag", *_both(lambda m: lambda x, y: m.imag(_z(x, y) * _z(x, y))), two_broadcasting(), diff=(0, 1)),
    Case("conjugate", *_both(lambda m: lambda x, y: m.imag(m.conj(_z(x, y)) * m.exp(_z(y, x)))),
         two_broadcasting(), diff=(0, 1)),
    Case("absolute", *_both(lambda m: lambda x, y: m.abs(_z(x, y) * _z(y, 1.0))),
         two_broadcasting("nonzero", "real"), diff=(0, 1), order=2, name="absolute_complex"),
    Case("arctan2", *_both(lambda m: lambda x, y: m.angle(_z(x, y))), two_broadcasting("real", "nonzero"),
         diff=(0, 1), name="angle"),
]


# ----- dtypes ---------------------------------------------------------------------------------------

def test_nep50_weak_python_scalars():
    f32 = fnp.ones(3, dtype="float32")
    assert (f32 * 2.0).dtype == np.float32
    assert (2.0 * f32).dtype == np.float32
    assert (fnp.ones(3, dtype="int8") + 1).dtype == np.int8
    assert (f32 + fnp.ones(3, dtype="float64")).dtype == np.float64
    assert fnp.maximum(f32, 0.0).dtype == np.float32
    assert fnp.clip(fnp.arange(4, dtype="int8"), 1, 2).dtype == np.int8


@pytest.mark.parametrize("fn", [fnp.sin, fnp.exp, fnp.log1p, fnp.rint, fnp.arctanh, fnp.deg2rad, fnp.cbrt])
def test_float_functions_promote_integers_like_numpy(fn):
    x = np.arange(1, 4)
    with np.errstate(all="ignore"):
        expected = getattr(np, fn.__name__)(x)
        out = fn(fnp.asarray(x))
    assert out.dtype == expected.dtype == np.float64
    np.testing.assert_allclose(np.asarray(out), expected)


@pytest.mark.parametrize("fn", [fnp.arctan2, fnp.hypot, fnp.logaddexp, fnp.copysign, fnp.true_divide])
def test_float_binary_functions_promote_integers_like_numpy(fn):
    x, y = np.arange(1, 4), np.array([2, -1, 3])
    expected = getattr(np, fn.__name__)(x, y)
    assert fn(fnp.asarray(x), fnp.asarray(y)).dtype == expected.dtype
    traced = fnx.make_graph(lambda a: fn(a, fnp.asarray(y)))(fnp.asarray(x))
    assert traced.eqns[-1].outputs[0].aval.dtype == expected.dtype


def test_integer_and_bool_outputs():
    i = fnp.array([3, -4, 5])
    assert fnp.floor(i).dtype == np.int64 and fnp.abs(i).tolist() == [3, 4, 5]
    assert fnp.floor_divide(i, 2).tolist() == [1, -2, 2] and fnp.mod(i, 3).tolist() == [0, 2, 2]
    assert fnp.fmod(i, 3).tolist() == [0, -1, 2]
    assert fnp.isnan(i).dtype == np.bool_
    assert fnp.logical_and(fnp.array([0., 2.]), 1.5).tolist() == [False, True]
    assert fnp.bitwise_and(fnp.array([True, False]), True).tolist() == [True, False]
    assert fnp.invert(fnp.array([True, False])).tolist() == [False, True]
    assert fnp.left_shift(fnp.array([1, 2], dtype="int8"), 2).dtype == np.int8


def test_bitwise_operations_reject_floats():
    with pytest.raises(DTypeError, match="bitwise_and"):
        fnp.bitwise_and(fnp.array([1.0]), 1)
    with pytest.raises(DTypeError, match="invert"):
        fnp.invert(fnp.array([1.0]))
    with pytest.raises(DTypeError, match="arctan2"):
        fnp.arctan2(fnp.array([1j]), 1.0)


def test_float_power_computes_in_float64():
    assert fnp.float_power(fnp.array([2.0], dtype="float32"), 3).dtype == np.float64
    assert fnp.float_power(2, fnp.array([1j])).dtype == np.complex128


# ----- broadcasting and errors --------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [fnp.add, fnp.arctan2, fnp.logaddexp, fnp.equal])
def test_broadcasting_error_names_op_and_shapes(fn):
    with pytest.raises(ShapeError, match=rf"{fn.__name__}: shapes \(2,\), \(3,\)"):
        fn(fnp.ones(2), fnp.ones(3))


def test_where_broadcasts_scalars_and_conditions():
    c = fnp.array([[True], [False]])
    out = fnp.where(c, fnp.array([1.0, 2.0, 3.0]), 0.0)
    np.testing.assert_array_equal(np.asarray(out), np.where(np.asarray(c), [1.0, 2.0, 3.0], 0.0))
    assert out.dtype == np.float32 and out.shape == (2, 3)
    assert fnp.where(fnp.array([0, 2]), 1, 2).tolist() == [2, 1]  # non-boolean conditions use truthiness
    assert fnp.where(True, fnp.array([1, 2], dtype="int8"), 5).dtype == np.int8
    with pytest.raises(ShapeError, match=r"where: shapes \(2,\), \(3,\)"):
        fnp.where(fnp.ones(2, dtype=bool), fnp.ones(3), 0.0)
    with pytest.raises(TypeError, match="where"):
        fnp.where(c, 1.0)


def test_where_with_only_a_condition_is_nonzero():
    c = np.array([[0, 1], [2, 0]])
    for got, expected in zip(fnp.where(fnp.asarray(c)), np.where(c)):
        assert got.tolist() == expected.tolist()


def test_where_gradient_flows_to_the_chosen_branch():
    c = fnp.array([True, False, True])
    gx, gy = fnx.grad(lambda x, y: fnp.where(c, x, y).sum(), argnums=(0, 1))(fnp.ones(3), fnp.ones(()))
    assert gx.tolist() == [1.0, 0.0, 1.0] and gy.tolist() == 1.0


def test_clip_bounds():
    x = fnp.array([-2.0, 0.5, 2.0])
    assert fnp.clip(x, None, 1.0).tolist() == [-2.0, 0.5, 1.0]
    assert fnp.clip(x, min=0.0).tolist() == [0.0, 0.5, 2.0]
    assert fnp.clip(x, None, None).tolist() == x.tolist()
    np.testing.assert_array_equal(np.asarray(fnp.clip(x, fnp.array([[0.], [1.]]), 1.5)),
                                  np.clip(np.asarray(x), [[0.], [1.]], 1.5))
    with pytest.raises(TypeError, match="clip"):
        fnp.clip(x, 0.0, a_max=1.0, min=0.0)


# ----- derivatives ----------------------------------------------------------------------------------------

_F32_GRADS = [
    fnp.sin, fnp.tanh, fnp.abs, fnp.square, fnp.reciprocal, fnp.expm1, fnp.log1p, fnp.arctan, fnp.cbrt,
    lambda x: fnp.maximum(x, 0.1), lambda x: fnp.fmin(x, 0.1), lambda x: fnp.clip(x, 0.1, 0.4),
    lambda x: fnp.logaddexp(x, 0.5), lambda x: fnp.arctan2(x, 2.0), lambda x: fnp.hypot(x, 1.0),
    lambda x: fnp.power(x, 2.5), lambda x: fnp.mod(x, 0.3), lambda x: fnp.copysign(x, -1.0),
    lambda x: fnp.where(x > 0.3, x, 2.0), fnp.floor, fnp.sign, fnp.deg2rad,
    lambda x: fnp.real(x * (1 + 2j)), lambda x: fnp.abs(x + 1j),
]


@pytest.mark.parametrize("fn", _F32_GRADS)
def test_float32_gradients_stay_float32(fn):
    x = fnp.array([0.25, 0.5], dtype="float32")
    g = fnx.grad(lambda x: fnp.sum(fn(x)))(x)
    assert g.dtype == np.float32
    _, t = fnx.jvp(fn, (x,), (fnp.ones_like(x),))
    assert t.dtype == fn(x).dtype


def test_piecewise_constant_functions_have_zero_gradients():
    x = fnp.array([-1.5, 0.3, 2.7])
    for fn in (fnp.floor, fnp.ceil, fnp.trunc, fnp.rint, fnp.fix, fnp.sign, lambda x: fnp.round(x, 1),
               lambda x: fnp.floor_divide(x, 0.7)):
        g = fnx.grad(lambda x: fnp.sum(fn(x) * x))(x)
        np.testing.assert_array_equal(np.asarray(g), np.asarray(fn(x)))  # only the product's x contributes
        assert fn(x).dtype == np.float32


def test_stop_gradient_has_zero_gradient():
    x = fnp.array([1.0, 2.0])
    assert fnx.grad(lambda x: fnp.sum(fnp.stop_gradient(x) ** 2))(x).tolist() == [0.0, 0.0]
    assert fnx.jvp(fnp.stop_gradient, (x,), (fnp.ones_like(x),))[1].tolist() == [0.0, 0.0]


def test_ties_split_the_derivative():
    g = fnx.grad(lambda x, y: fnp.maximum(x, y), argnums=(0, 1))(1.0, 1.0)
    assert [float(v) for v in g] == [0.5, 0.5]
    assert float(fnx.grad(lambda x: fnp.maximum(x, x))(2.0)) == 1.0


def test_fmax_fmin_send_the_derivative_past_nan():
    x, nan = fnp.array([1.0, 2.0]), fnp.array([np.nan, 0.0])
    for fn in (fnp.fmax, fnp.fmin):
        gx, gy = fnx.grad(lambda x, y: fnp.sum(fn(x, y)), argnums=(0, 1))(x, nan)
        assert gx.tolist()[0] == 1.0 and gy.tolist()[0] == 0.0


def test_logaddexp_derivative_is_stable_for_large_inputs():
    g = fnx.grad(lambda x, y: fnp.logaddexp(x, y), argnums=(0, 1))(fnp.array(1e3, "float64"), fnp.array(1e3, "float64"))
    assert [float(v) for v in g] == pytest.approx([0.5, 0.5], rel=1e-12)
    g = fnx.grad(lambda x: fnp.logaddexp2(x, -1000.0))(fnp.array(800.0))
    assert float(g) == 1.0


def test_domain_edges_behave_like_numpy():
    x = np.array([-1.0, 0.0, 1.0])
    with np.errstate(all="ignore"):
        for fn in (fnp.sqrt, fnp.log, fnp.log2, fnp.log1p, fnp.arcsin, fnp.arccosh, fnp.arctanh):
            np.testing.assert_array_equal(np.asarray(fn(fnp.asarray(x))), getattr(np, fn.__name__)(x))
        g = fnx.grad(lambda x: fnp.sum(fnp.sqrt(x)))(fnp.asarray(x))
        assert np.isnan(np.asarray(g)[0]) and np.isinf(np.asarray(g)[1]) and np.asarray(g)[2] == 0.5
        g = fnx.grad(lambda x: fnp.sum(fnp.log(x)))(fnp.asarray(x))
        np.testing.assert_array_equal(np.asarray(g), 1.0 / x)


def test_second_derivatives_of_nested_rules():
    x = fnp.array(0.4, dtype="float64")
    h = fnx.hessian(lambda x: fnp.arctan2(fnp.sin(x), fnp.cos(x) + 2.0) * fnp.logaddexp(x, -x))(x)
    eps = 1e-4
    f = lambda v: np.arctan2(np.sin(v), np.cos(v) + 2.0) * np.logaddexp(v, -v)  # noqa: E731
    numeric = (f(0.4 + eps) - 2 * f(0.4) + f(0.4 - eps)) / eps ** 2
    np.testing.assert_allclose(float(h), numeric, rtol=1e-5)


# ----- complex numbers (JAX's convention: grad of a real f is df/dx - i df/dy) ------------------------------

def test_complex_gradients_follow_jax():
    z = fnp.array(3 + 4j, dtype="complex128")
    assert complex(fnx.grad(lambda z: fnp.abs(z) ** 2)(z)) == pytest.approx(6 - 8j)
    assert complex(fnx.grad(lambda z: fnp.real(z * fnp.conj(z)))(z)) == pytest.approx(6 - 8j)
    assert complex(fnx.grad(lambda z: fnp.imag(z))(z)) == pytest.approx(-1j)
    assert complex(fnx.grad(lambda z: fnp.angle(z))(z)) == pytest.approx((-4 - 3j) / 25)


def test_holomorphic_jvp_is_the_complex_derivative():
    z = fnp.array(0.3 + 0.7j, dtype="complex128")
    _, t = fnx.jvp(lambda z: fnp.exp(fnp.sin(z)), (z,), (fnp.array(1.0 + 0j, dtype="complex128"),))
    expected = np.exp(np.sin(0.3 + 0.7j)) * np.cos(0.3 + 0.7j)
    assert complex(t) == pytest.approx(expected)


def test_complex_parts_of_real_arrays():
    x = fnp.array([1.0, -2.0])
    assert fnp.real(x) is x and fnp.conj(x) is x
    assert fnp.imag(x).tolist() == [0.0, 0.0] and fnp.imag(x).dtype == np.float32
    assert fnp.angle(x).tolist() == pytest.approx([0.0, np.pi])
    assert fnp.abs(fnp.array([3 + 4j])).dtype == np.float32


# ----- compositions: isclose, nan_to_num, heaviside, sinc, modf, divmod, gcd, lcm, ldexp, frexp, select -----

_SPECIAL = np.array([-np.inf, -2.5, -1.0, -0.0, 0.0, 0.75, 1.0, 3.5, np.inf, np.nan])


@pytest.mark.parametrize("name", ["isposinf", "isneginf", "iscomplex", "isreal", "sinc", "modf", "frexp",
                                  "nan_to_num"])
@pytest.mark.parametrize("dtype", ["float32", "float64", "int8", "int64"])
def test_unary_compositions_match_numpy(name, dtype):
    x = _SPECIAL if dtype.startswith("float") else np.array([-3, 0, 1, 7])
    x = x.astype(dtype)
    with np.errstate(all="ignore"):
        expected = getattr(np, name)(x)
        out = getattr(fnp, name)(fnp.asarray(x))
    outs, expecteds = (out, expected) if isinstance(out, tuple) else ((out,), (expected,))
    for o, e in zip(outs, expecteds):
        e = np.asarray(e)
        assert o.shape == e.shape and o.dtype == e.dtype, (name, o.dtype, e.dtype)
        np.testing.assert_allclose(np.asarray(o, np.float64), e.astype(np.float64), rtol=1e-6, atol=1e-7)


def test_complex_predicates_and_nan_to_num():
    z = np.array([1 + 2j, 3 + 0j, np.nan + 1j * np.inf, -np.inf + 0j], np.complex64)
    np.testing.assert_array_equal(fnp.iscomplex(fnp.asarray(z)), np.iscomplex(z))
    np.testing.assert_array_equal(fnp.isreal(fnp.asarray(z)), np.isreal(z))
    out = fnp.nan_to_num(fnp.asarray(z), nan=1.0, posinf=2.0)
    assert out.dtype == np.complex64
    np.testing.assert_array_equal(out, np.nan_to_num(z, nan=1.0, posinf=2.0))
    x = np.array([np.nan, np.inf, -np.inf, 2.0])
    np.testing.assert_array_equal(fnp.nan_to_num(fnp.asarray(x), nan=-1.0, posinf=5.0, neginf=-5.0),
                                  np.nan_to_num(x, nan=-1.0, posinf=5.0, neginf=-5.0))
    with pytest.raises(DTypeError, match="isposinf"):
        fnp.isposinf(fnp.asarray(z))


def test_isclose_matches_numpy():
    a = np.array([1.0, 1.0 + 1e-9, 1.1, np.inf, -np.inf, np.nan, 0.0, 1e-9])
    b = np.array([1.0, 1.0, 1.0, np.inf, np.inf, np.nan, 1e-9, 0.0])
    for kw in ({}, {"equal_nan": True}, {"rtol": 0.2}, {"atol": 0.0}):
        out = fnp.isclose(fnp.asarray(a), fnp.asarray(b), **kw)
        assert out.dtype == np.bool_
        np.testing.assert_array_equal(out, np.isclose(a, b, **kw))
    ints = np.array([1, 2, 3])
    np.testing.assert_array_equal(fnp.isclose(fnp.asarray(ints), 2), np.isclose(ints, 2))
    np.testing.assert_array_equal(fnp.isclose(fnp.asarray(a[:3, None]), fnp.asarray(b[None, :3])),
                                  np.isclose(a[:3, None], b[None, :3]))


def test_heaviside_matches_numpy_and_differentiates_in_x2():
    x1 = np.array([-1.5, 0.0, 2.0, np.nan, -0.0])
    for x2 in (0.5, np.array([0.1, 0.2, 0.3, 0.4, 0.5])):
        np.testing.assert_array_equal(fnp.heaviside(fnp.asarray(x1), x2), np.heaviside(x1, x2))
    for dt in ("int8", "int16", "int64", "float32"):
        xi = np.array([-2, 0, 3]).astype(dt)
        out, expected = fnp.heaviside(fnp.asarray(xi), fnp.asarray(xi)), np.heaviside(xi, xi)
        assert out.dtype == expected.dtype, dt
        np.testing.assert_array_equal(out, expected)
    g = fnx.grad(lambda x2: fnp.sum(fnp.heaviside(fnp.asarray(x1[:3]), x2)))(fnp.ones(3, dtype="float64"))
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0])


def test_sinc_gradient():
    check_grads(fnp.sinc, (fnp.array([-1.3, -0.4, 0.25, 0.8, 2.1], dtype="float64"),), order=2)
    check_grads(fnp.sinc, (fnp.array([0.0], dtype="float64"),), order=1)


def test_modf_frexp_ldexp_gradients_and_values():
    x = fnp.array([-7.25, -0.3, 0.6, 3.75, 1e-300, 5e-324, 1e300], dtype="float64")
    m, e = fnp.frexp(x)
    np.testing.assert_array_equal(fnp.ldexp(m, e), x)
    np.testing.assert_array_equal(m, np.frexp(np.asarray(x))[0])
    check_grads(lambda x: fnp.modf(x)[0], (fnp.array([-1.3, 0.4, 2.6], dtype="float64"),))
    check_grads(lambda x: fnp.frexp(x)[0], (fnp.array([-1.3, 0.4, 2.6], dtype="float64"),))
    check_grads(lambda x: fnp.ldexp(x, fnp.array([3, -2, 0])), (fnp.array([-1.3, 0.4, 2.6], dtype="float64"),))
    x32 = np.array([0.5, 3.0, 1.0], np.float32)
    k = np.array([128, -150, 127])
    out = fnp.ldexp(fnp.asarray(x32), fnp.asarray(k))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.ldexp(x32, k))  # 2 ** 128 overflows float32; the product does not
    with pytest.raises(DTypeError, match="ldexp"):
        fnp.ldexp(fnp.ones(2), fnp.ones(2))


def test_divmod_gcd_lcm_match_numpy():
    a = np.array([12, -20, 0, 7, 2 ** 62, -9, 0])
    b = np.array([8, 6, 5, -21, 2 ** 40, 0, 0])
    q, r = fnp.divmod(fnp.asarray(a), fnp.asarray(b[b != 0].repeat(2)[:7]))
    eq, er = np.divmod(a, b[b != 0].repeat(2)[:7])
    np.testing.assert_array_equal(q, eq)
    np.testing.assert_array_equal(r, er)
    for name in ("gcd", "lcm"):
        out, expected = getattr(fnp, name)(fnp.asarray(a), fnp.asarray(b)), getattr(np, name)(a, b)
        assert out.dtype == expected.dtype
        np.testing.assert_array_equal(out, expected)
    small = np.array([4, 6, -9], np.int8)
    assert fnp.gcd(fnp.asarray(small), 6).dtype == np.gcd(small, 6).dtype
    with pytest.raises(DTypeError, match="gcd"):
        fnp.gcd(fnp.ones(2), 2)


def test_gcd_traced_runs_the_worst_case():
    """Under vmap the values are unknown, so Euclid runs its full bound: still exact for Fibonacci pairs."""
    fib = [1, 1]
    while fib[-1] < 2 ** 62:
        fib.append(fib[-1] + fib[-2])
    a, b = np.array(fib[-2:-1] + [48]), np.array(fib[-3:-2] + [18])
    np.testing.assert_array_equal(fnx.vmap(fnp.gcd)(fnp.asarray(a), fnp.asarray(b)), np.gcd(a, b))


def test_select_matches_numpy_and_differentiates():
    x = np.linspace(-2, 2, 9)
    conds, choices = [x < -1, x > 1, x < 0], [x, x ** 2, -x]
    np.testing.assert_array_equal(fnp.select([fnp.asarray(c) for c in conds], [fnp.asarray(c) for c in choices], -1.),
                                  np.select(conds, choices, -1.))
    ints = fnp.select([fnp.asarray(x > 0)], [fnp.arange(9)])
    assert ints.dtype == np.int64
    np.testing.assert_array_equal(ints, np.select([x > 0], [np.arange(9)]))
    g = fnx.grad(lambda v: fnp.sum(fnp.select([fnp.asarray(c) for c in conds], [v, v * v, -v])))(fnp.asarray(x))
    np.testing.assert_allclose(g, np.select(conds, [np.ones(9), 2 * x, -np.ones(9)]))
    with pytest.raises(ValueError, match="select"):
        fnp.select([fnp.asarray(x > 0)], [])
    with pytest.raises(DTypeError, match="select"):
        fnp.select([fnp.asarray(x)], [fnp.asarray(x)])


def test_nan_to_num_gradient_is_zero_at_replaced_elements():
    g = fnx.grad(lambda x: fnp.sum(fnp.nan_to_num(x, posinf=7.0) * 2.0))(fnp.array([1.0, np.nan, np.inf, -2.0]))
    np.testing.assert_array_equal(g, [2.0, 0.0, 0.0, 2.0])


@pytest.mark.parametrize("shape", [(3,), (70000,), (300, 500), (5, 40000), (2, 3, 40000)])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_relu_grad_keeps_the_cotangent_where_the_mask_holds_and_zero_elsewhere(shape, dtype):
    """Small and blocked (over 65,536 elements) arrays, C- and F-ordered: inf and NaN cotangents become 0
    where the mask is off (a product would make them NaN), as PyTorch's threshold_backward does."""
    rng = np.random.default_rng(0)
    ct = rng.standard_normal(shape).astype(dtype)
    ct.flat[::7], ct.flat[::11] = np.inf, np.nan
    mask = rng.standard_normal(shape) > 0
    for c in (ct, np.asfortranarray(ct)):
        got = relu_grad_p.bind(fnp.asarray(c), fnp.asarray(mask))
        assert got.dtype == dtype and got.shape == shape
        np.testing.assert_array_equal(got, np.where(mask, c, 0).astype(dtype))


def test_power_with_exponent_zero_has_derivative_zero_at_zero_as_torch_and_jax():
    # x ** 0 is constant: its derivative at x == 0 is 0, not 0 * 0 ** -1 (NaN); the polynomial-features pattern.
    assert float(fnx.grad(lambda y: y ** 0)(0.0)) == 0.0
    assert float(fnx.grad(lambda y: y ** 0.0)(0.0)) == 0.0
    assert float(fnx.grad(lambda y: fnp.sum(y ** fnp.arange(3)))(0.0)) == 1.0
    assert float(fnx.grad(fnx.grad(lambda y: fnp.sum(y ** fnp.arange(4))))(0.0)) == 2.0
    assert float(fnx.grad(lambda y: fnx.lax.integer_pow(y, 0))(0.0)) == 0.0
    np.testing.assert_allclose(float(fnx.grad(lambda y: y ** 2.5)(4.0)), 2.5 * 4.0 ** 1.5)
    torch = pytest.importorskip("torch")
    t = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    (t ** torch.arange(3)).sum().backward()
    assert t.grad.item() == 1.0
