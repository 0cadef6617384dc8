"""Transforms: composition to any depth, pytrees, and the errors users meet."""
from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given, strategies as st

import fnx
import fnx.numpy as fnp
from fnx.errors import DTypeError, EscapedTracerError, ShapeError
from fnx.testing import check_grads
from fnx.testing.strategies import numpy_arrays

f64 = np.float64


def arr(x):
    return fnp.asarray(np.asarray(x, dtype=f64))


# ----- nesting ----------------------------------------------------------------------


def test_no_perturbation_confusion_reverse():
    # d/dx [x * d/dy (x + y)] = 1 everywhere (Siskind & Pearlmutter's example).
    f = fnx.grad(lambda x: x * fnx.grad(lambda y: x + y)(1.0))
    for x in (3.0, -2.0, 0.5):
        assert float(f(x)) == 1.0


def test_no_perturbation_confusion_forward():
    def inner(x):
        return fnx.jvp(lambda y: x * y, (arr(1.0),), (arr(1.0),))[1]  # d/dy (x y) = x
    _, t = fnx.jvp(lambda x: x * inner(x), (arr(3.0),), (arr(1.0),))
    assert float(t) == 6.0  # d/dx x^2


def test_no_perturbation_confusion_mixed():
    f = fnx.grad(lambda x: x * fnx.jvp(lambda y: x + y, (arr(1.0),), (arr(1.0),))[1])
    assert float(f(arr(3.0))) == 1.0


@given(numpy_arrays(st.just(()), domain="real"))
def test_third_derivative_of_sin(x):
    d3 = fnx.grad(fnx.grad(fnx.grad(fnp.sin)))(arr(x))
    np.testing.assert_allclose(float(d3), -np.cos(x), rtol=1e-12, atol=1e-12)


def test_fourth_derivative_mixed_modes():
    # jacfwd(jacrev(jacfwd(grad))) of x**5 at 2 = 5*4*3*2*x = 240
    f = lambda x: x ** 5
    d4 = fnx.jacfwd(fnx.jacrev(fnx.jacfwd(fnx.grad(f))))(arr(2.0))
    np.testing.assert_allclose(float(d4), 240.0)


def test_hessian_of_quadratic_form():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    x = arr(rng.standard_normal(4))
    h = fnx.hessian(lambda x: fnp.sum(x * fnp.sum(arr(A) * x, axis=1)))(x)
    np.testing.assert_allclose(np.asarray(h), A + A.T, rtol=1e-12)
    h2 = fnx.jacrev(fnx.jacrev(lambda x: fnp.sum(x * fnp.sum(arr(A) * x, axis=1))))(x)
    np.testing.assert_allclose(np.asarray(h2), A + A.T, rtol=1e-12)


def test_jvp_of_vjp_and_vjp_of_jvp():
    x, v, u = arr([0.3, -1.2]), arr([1.0, 2.0]), arr([0.5, -0.5])
    f = lambda x: fnp.sin(x) * x[0]

    def pullback(x):
        return fnx.vjp(f, x)[1](u)[0]
    _, hvp = fnx.jvp(pullback, (x,), (v,))

    def pushforward(x):
        return fnx.jvp(f, (x,), (v,))[1]
    (hvp2,) = fnx.vjp(pushforward, x)[1](u)
    np.testing.assert_allclose(np.asarray(hvp), np.asarray(hvp2), rtol=1e-12)
    check_grads(pullback, (x,), order=1)


def test_jacobian_shapes_and_pytrees():
    x = arr(np.ones((2, 3)))
    f = lambda x: {"a": x.sum(axis=0), "b": x * 2.0}
    for jac in (fnx.jacrev, fnx.jacfwd):
        j = jac(f)(x)
        assert j["a"].shape == (3, 2, 3) and j["b"].shape == (2, 3, 2, 3)
    j = fnx.jacrev(lambda a, b: a * b, argnums=(0, 1))(arr([1.0, 2.0]), arr([3.0, 4.0]))
    np.testing.assert_allclose(np.asarray(j[0]), np.diag([3.0, 4.0]))
    np.testing.assert_allclose(np.asarray(j[1]), np.diag([1.0, 2.0]))


# ----- grad's interface -----------------------------------------------------------------


def test_grad_argnums_and_aux():
    f = lambda x, y: (fnp.sum(x * y), {"note": x})
    (gx, gy), aux = fnx.grad(f, argnums=(0, 1), has_aux=True)(arr([1.0, 2.0]), arr([3.0, 4.0]))
    np.testing.assert_allclose(np.asarray(gx), [3.0, 4.0])
    np.testing.assert_allclose(np.asarray(gy), [1.0, 2.0])
    assert type(aux["note"]) is fnx.Array  # aux comes back without tracers
    v, g = fnx.value_and_grad(lambda x: fnp.sum(x ** 2))(arr([1.0, 2.0]))
    assert float(v) == 5.0 and np.asarray(g).tolist() == [2.0, 4.0]


def test_grad_over_pytrees():
    Point = namedtuple("Point", "x y")
    params = {"w": [arr([1.0, 2.0]), Point(arr(3.0), None)], "b": arr(0.5)}

    def loss(p):
        return fnp.sum(p["w"][0] ** 2) * p["w"][1].x + p["b"]
    g = fnx.grad(loss)(params)
    assert fnx.tree.structure(g) == fnx.tree.structure(params)
    np.testing.assert_allclose(np.asarray(g["w"][0]), [6.0, 12.0])
    assert float(g["w"][1].x) == 5.0 and float(g["b"]) == 1.0


def test_gradient_dtype_follows_input():
    x = fnp.array([1.0, 2.0], dtype="float32")
    assert fnx.grad(lambda x: fnp.sum(fnp.sin(x) * 3.0))(x).dtype == np.float32
    assert fnx.grad(lambda x: fnp.sum(fnp.exp(x)))(arr([1.0])).dtype == np.float64


def test_grad_of_unused_input_is_zero():
    g = fnx.grad(lambda x, y: fnp.sum(x), argnums=1)(arr([1.0]), arr([2.0, 3.0]))
    np.testing.assert_array_equal(np.asarray(g), [0.0, 0.0])


def test_python_control_flow_on_values():
    def f(x):
        y = x
        while float(fnp.sum(y)) < 10.0:
            y = y * 2.0
        if float(y[0]) > 0:
            return fnp.sum(y ** 2)
        return fnp.sum(y)
    g = fnx.grad(f)(arr([1.0, 1.0]))  # y = 8x, f = 64 * sum(x^2)
    np.testing.assert_allclose(np.asarray(g), [128.0, 128.0])


def test_stop_gradient():
    assert float(fnx.grad(lambda x: x * fnx.stop_gradient(x))(arr(3.0))) == 3.0
    _, t = fnx.jvp(lambda x: fnx.stop_gradient(x) * 2.0, (arr(1.0),), (arr(1.0),))
    assert float(t) == 0.0


# ----- errors -------------------------------------------------------------------------------


def test_grad_of_non_scalar_names_the_shape():
    with pytest.raises(ShapeError, match=r"scalar output.*\(3,\)"):
        fnx.grad(lambda x: x * 2.0)(arr([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError):  # fnx errors subclass the builtin
        fnx.grad(lambda x: x * 2.0)(arr([1.0, 2.0, 3.0]))


def test_grad_refuses_integer_inputs():
    with pytest.raises(DTypeError, match="int64.*floating"):
        fnx.grad(lambda x: fnp.sum(x))(fnp.array([1, 2]))
    with pytest.raises(TypeError):
        fnx.grad(lambda x: x)(3)


def test_escaped_tracer():
    leaked = []

    def f(x):
        leaked.append(x)
        return x * 2.0
    fnx.grad(f)(arr(1.0))
    with pytest.raises(EscapedTracerError, match="grad|vjp"):
        leaked[0] + 1.0
    with pytest.raises(EscapedTracerError, match="already returned"):
        float(leaked[0])


def test_argnums_out_of_range():
    with pytest.raises(ValueError, match="argnums"):
        fnx.grad(lambda x: x, argnums=2)(arr(1.0))


@pytest.mark.parametrize("transform", [fnx.grad, fnx.jacrev, fnx.jacfwd, fnx.value_and_grad])
def test_an_argument_named_twice_in_argnums_is_refused(transform):
    # differentiating one argument twice had given the first place a zero (d(x y)/dx read as 0)
    with pytest.raises(TypeError, match=r"argnums \(0, -2\) names an argument twice"):
        transform(lambda x, y: x * y, argnums=(0, -2))(arr(1.0), arr(2.0))


def test_jvp_checks_tangent_shapes():
    with pytest.raises(ShapeError, match="tangent"):
        fnx.jvp(fnp.sin, (arr([1.0, 2.0]),), (arr([1.0]),))


def test_vjp_checks_cotangent():
    _, f_vjp = fnx.vjp(fnp.sin, arr([1.0, 2.0]))
    with pytest.raises(ShapeError, match="cotangent"):
        f_vjp(arr([1.0]))


# ----- custom rules and checkpoint --------------------------------------------------------------


def test_custom_vjp_rule_is_used_and_composes():
    @fnx.custom_vjp
    def f(x):
        return fnp.sin(x)

    def fwd(x):
        return fnp.sin(x), fnp.cos(x)

    def bwd(cos_x, g):
        return (2.0 * g * cos_x,)  # deliberately twice the true derivative
    f.defvjp(fwd, bwd)
    x = arr(0.3)
    assert float(f(x)) == pytest.approx(np.sin(0.3))
    assert float(fnx.grad(f)(x)) == pytest.approx(2 * np.cos(0.3))
    # forward mode differentiates the forward code instead
    assert float(fnx.jvp(f, (x,), (arr(1.0),))[1]) == pytest.approx(np.cos(0.3))
    # second order: d/dx of the custom derivative 2 cos x
    assert float(fnx.grad(fnx.grad(f))(x)) == pytest.approx(-2 * np.sin(0.3))


def test_custom_vjp_pytrees_and_nondiff_argnums():
    def fwd(scale, xs):
        return scale * (xs["a"] + xs["b"]), None

    def bwd(scale, res, g):
        return ({"a": g * scale * 10.0, "b": g * scale},)
    f = fnx.custom_vjp(lambda scale, xs: scale * (xs["a"] + xs["b"]), nondiff_argnums=(0,))
    f.defvjp(fwd, bwd)
    g = fnx.grad(lambda xs: f(2.0, xs))({"a": arr(1.0), "b": arr(1.0)})
    assert float(g["a"]) == 20.0 and float(g["b"]) == 2.0


def test_custom_rules_get_the_functions_defaults_and_none_for_a_none_argument():
    # JAX binds the call to the signature, defaults filled in, before calling fwd, bwd or the jvp rule
    @fnx.custom_vjp
    def f(x, eps=1e-3, mask=None):
        return fnp.sqrt(x + eps) if mask is None else fnp.sqrt(x + eps) * mask

    f.defvjp(lambda x, eps, mask: (f(x, eps, mask), (x, eps, mask)),
             lambda r, g: (g * 0.5 / fnp.sqrt(r[0] + r[1]) * (1.0 if r[2] is None else r[2]), None, None))
    np.testing.assert_allclose(float(fnx.grad(f)(arr(1.0))), 0.5 / np.sqrt(1.001), rtol=1e-6)
    np.testing.assert_allclose(float(fnx.grad(lambda x: f(x, 0.0, arr(3.0)))(arr(1.0))), 1.5, rtol=1e-6)

    @fnx.custom_jvp
    def h(x, eps=1e-3):
        return fnp.sqrt(x + eps)

    @h.defjvp
    def h_rule(primals, tangents):
        x, eps = primals
        return h(x, eps), tangents[0] * 0.5 / fnp.sqrt(x + eps)
    np.testing.assert_allclose(float(fnx.jvp(h, (arr(1.0),), (arr(1.0),))[1]), 0.5 / np.sqrt(1.001), rtol=1e-6)

    @fnx.custom_vjp
    def k(d):
        return d["a"] * d["b"]
    k.defvjp(lambda d: (k(d), d), lambda d, g: (None,))  # None for a whole argument: its zero
    g = fnx.grad(k)({"a": arr(2.0), "b": arr(3.0)})
    assert float(g["a"]) == 0.0 and float(g["b"]) == 0.0


def test_custom_jvp_tangent_of_another_shape_is_refused_as_jax_refuses_it():
    @fnx.custom_jvp
    def total(x):
        return x.sum()
    total.defjvps(lambda t, ans, x: t)  # the mistake: the tangent is not summed
    for transform in (lambda: fnx.jvp(total, (fnp.ones(3),), (fnp.ones(3),)), lambda: fnx.grad(total)(fnp.ones(3))):
        with pytest.raises(TypeError, match=r"tangent output its primal's shape .* has shape \(\), its tangent \(3,\)"):
            transform()


def test_custom_jvp_forward_and_reverse():
    @fnx.custom_jvp
    def log1pexp(x):
        return fnp.log(1.0 + fnp.exp(x))

    @log1pexp.defjvp
    def rule(primals, tangents):
        (x,), (t,) = primals, tangents
        return log1pexp(x), t * (1.0 - 1.0 / (1.0 + fnp.exp(x)))
    x = arr(100.0)
    assert float(fnx.jvp(log1pexp, (x,), (arr(1.0),))[1]) == 1.0
    assert float(fnx.grad(log1pexp)(x)) == 1.0  # the naive rule would give nan
    np.testing.assert_allclose(float(fnx.grad(fnx.grad(log1pexp))(arr(0.0))), 0.25)
    check_grads(log1pexp, (arr([-1.0, 0.5]),), order=2)


def test_checkpoint_saves_memory_and_matches():
    def f(x):
        for _ in range(6):
            x = fnp.sin(x) * 1.5
        return fnp.sum(x)
    x = arr(np.linspace(-1, 1, 50))
    fc = fnx.checkpoint(f)
    np.testing.assert_allclose(np.asarray(fnx.grad(fc)(x)), np.asarray(fnx.grad(f)(x)), rtol=1e-13)
    nbytes = lambda avals: sum(int(np.prod(a.shape)) * a.dtype.itemsize for a in avals)
    plain, ckpt = nbytes(fnx.saved_residuals(f, x)), nbytes(fnx.saved_residuals(fc, x))
    assert ckpt * 5 < plain, (ckpt, plain)
    # the graph of the gradient shows the forward pass computed twice
    sins = fnx.make_graph(fnx.grad(fc))(x).primitives().count("sin")
    assert sins == 12
    check_grads(fc, (arr([0.1, 0.2]),), order=2)


# ----- make_graph ---------------------------------------------------------------------------------


def test_make_graph_text_and_replay():
    g = fnx.make_graph(lambda x, y: fnp.sum(fnp.sin(x) * y))(arr([1.0, 2.0]), arr([3.0, 4.0]))
    assert g.primitives() == ["sin", "multiply", "reduce_sum"]
    text = str(g)
    assert "sin a" in text and "reduce_sum[axes=(0,)]" in text and "f64[2]" in text
    out = g(arr([0.0, 0.0]), arr([1.0, 1.0]))
    assert float(out) == 0.0


def test_a_graph_whose_call_took_a_python_branch_refuses_to_replay():
    # the graph holds the branch taken at trace time: replayed on other values it would be silently wrong
    def f(x):
        return fnx.lax.cond(fnp.sum(x) > 0, lambda v: v * 2.0, lambda v: -v, x)
    g = fnx.make_graph(f)(arr([1.0, 2.0]))
    assert "multiply" in str(g)  # still printable
    with pytest.raises(TypeError, match=r"read a traced value with int\(\).*fnx.jit"):
        g(arr([-1.0, -2.0]))

    def printing(x):
        print(x)  # printing reads the value too, but decides nothing
        return x * 2.0
    assert fnx.make_graph(printing)(arr([1.0]))(arr([3.0])).tolist() == [6.0]


def test_static_argnums_count_from_the_end_when_negative():
    def f(x, n):
        for _ in range(n):
            x = fnp.sin(x)
        return fnp.sum(x)
    x = arr([0.5, 1.0])
    np.testing.assert_allclose(fnx.grad(fnx.checkpoint(f, static_argnums=-1))(x, 3), fnx.grad(f)(x, 3))
    assert fnx.make_graph(f, static_argnums=-1)(x, 2).primitives() == ["sin", "sin", "reduce_sum"]


@pytest.mark.parametrize("transform", [
    lambda f, x: fnx.grad(f, has_aux=True)(x), lambda f, x: fnx.value_and_grad(f, has_aux=True)(x),
    lambda f, x: fnx.jacfwd(f, has_aux=True)(x), lambda f, x: fnx.jacrev(f, has_aux=True)(x),
    lambda f, x: fnx.vjp(f, x, has_aux=True), lambda f, x: fnx.jvp(f, (x,), (x,), has_aux=True)])
def test_has_aux_without_a_pair_names_the_function(transform):
    def loss(x):
        return fnp.sum(x * 2.0)

    def triple(x):
        return fnp.sum(x), 1, 2
    with pytest.raises(TypeError, match="loss was declared has_aux=True.*returned an array"):
        transform(loss, fnp.ones(2))
    with pytest.raises(TypeError, match="triple was declared has_aux=True.*tuple of length 3"):
        transform(triple, fnp.ones(2))


def test_tangent_and_cotangent_dtypes_must_match_as_in_jax():
    x32 = fnp.ones(3)
    with pytest.raises(TypeError, match="jvp: tangent 0 has dtype float64, but its primal has dtype float32"):
        fnx.jvp(lambda x: x * 2.0, (x32,), (np.ones(3),))
    with pytest.raises(ValueError, match="vjp_fn: cotangent 0 has dtype float64, but its output has dtype float32"):
        fnx.vjp(lambda x: x * 2.0, x32)[1](np.ones(3))
    # a Python number is weak: it takes the primal's dtype
    out, t = fnx.jvp(lambda x: x * 2.0, (fnp.ones((), dtype="float64"),), (1.0,))
    assert t.dtype == np.float64 and float(t) == 2.0
    assert fnx.vjp(lambda x: x * 2.0, fnp.ones((), dtype="float64"))[1](1.0)[0].dtype == np.float64


def test_argnums_past_the_positional_arguments_raise_jaxs_type_error():
    with pytest.raises(TypeError, match=r"grad: argnums 1 out of range for a function called with 1 positional"):
        fnx.grad(lambda x, y: x * y, argnums=1)(2.0, y=3.0)
    with pytest.raises(ValueError):
        fnx.grad(lambda x, y: x * y, argnums=2)(2.0, 3.0)


def test_a_python_int_operand_stays_weak_in_every_transform_as_in_jax():
    # JAX's values: float32 throughout (a Python int is weakly typed), where a strong int64 made them float64.
    x = fnp.asarray([1.0, 2.0])
    out, pull = fnx.vjp(lambda x, n: x * n, x, 3)
    assert out.dtype == np.float32 and np.asarray(pull(fnp.ones(2))[0]).tolist() == [3.0, 3.0]
    assert fnx.jvp(lambda x, n: x * n, (x, 3), (fnp.ones(2), 0))[0].dtype == np.float32
    assert fnx.linearize(lambda x, n: x * n, x, 3)[0].dtype == np.float32
    g = fnx.grad(lambda x: fnx.checkpoint(lambda x, s: x * s)(x, 2).sum())(x)
    assert g.dtype == np.float32 and np.asarray(g).tolist() == [2.0, 2.0]
    np.testing.assert_allclose(fnx.grad(fnx.checkpoint(lambda x, n: fnp.sum(x ** n)))(x, 3), [3.0, 12.0])
    assert fnx.jvp(lambda x: fnx.checkpoint(lambda x, s: x * s)(x, 2), (x,), (fnp.ones(2),))[1].dtype == np.float32
