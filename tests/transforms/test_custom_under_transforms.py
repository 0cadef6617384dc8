"""custom_vjp / custom_jvp rules survive every transform between them and the derivative.

A rule must apply under ``grad(jit(f))``, ``grad(vmap(f))``, ``jacrev(vmap(f))``
and ``jvp(jit(f))`` exactly as in eager code (JAX's semantics): these tests use
rules that differ from the functions' own derivatives, so running the function
body instead of the rule shows up as a wrong number.
"""
import numpy as np
import pytest

import fnx
import fnx.numpy as fnp


def _rules(lib, xnp):
    """A custom_vjp that clips its cotangent and a custom_jvp sine of slope 100, in ``lib`` (fnx or jax)."""
    @lib.custom_vjp
    def clip_gradient(x):
        return x
    clip_gradient.defvjp(lambda x: (x, None), lambda _, g: (xnp.clip(g, -1.0, 1.0),))

    @lib.custom_jvp
    def sin_with_slope_100(x):
        return xnp.sin(x)
    sin_with_slope_100.defjvp(lambda p, t: (sin_with_slope_100(p[0]), 100.0 * t[0]))
    return clip_gradient, sin_with_slope_100


clip_gradient, sin_with_slope_100 = _rules(fnx, fnp)


@fnx.custom_vjp
def scaled_product(x, y):
    return x * y


scaled_product.defvjp(lambda x, y: (x * y, (x, y)), lambda r, g: (2.0 * g * r[1], 2.0 * g * r[0]))

W = fnp.array([1.0, -2.0, 3.0], dtype="float64")


def _loss(f):
    return lambda w: fnp.sum(f(w) * 10.0)


@pytest.mark.parametrize("wrap", [lambda f: f, fnx.jit, fnx.vmap, lambda f: fnx.vmap(fnx.jit(f)),
                                  lambda f: fnx.jit(fnx.vmap(f)), fnx.checkpoint],
                         ids=["eager", "jit", "vmap", "vmap_jit", "jit_vmap", "checkpoint"])
def test_custom_vjp_rule_applies_under_each_transform(wrap):
    g = fnx.grad(_loss(wrap(clip_gradient)))(W)
    np.testing.assert_array_equal(np.asarray(g), [1.0, 1.0, 1.0])  # the clipped cotangent, not 10
    np.testing.assert_array_equal(np.asarray(fnx.jit(fnx.grad(_loss(wrap(clip_gradient))))(W)), [1.0, 1.0, 1.0])
    jac = fnx.jacrev(lambda w: wrap(clip_gradient)(w) * 10.0)(W)
    np.testing.assert_array_equal(np.asarray(jac), np.eye(3))


@pytest.mark.parametrize("wrap", [lambda f: f, fnx.jit, fnx.vmap, lambda f: fnx.jit(fnx.vmap(f))],
                         ids=["eager", "jit", "vmap", "jit_vmap"])
def test_custom_jvp_rule_applies_under_each_transform(wrap):
    f = wrap(sin_with_slope_100)
    np.testing.assert_allclose(np.asarray(fnx.grad(lambda w: fnp.sum(f(w)))(W)), [100.0] * 3)
    out, t = fnx.jvp(f, (W,), (fnp.ones(3, dtype="float64"),))
    np.testing.assert_allclose(np.asarray(out), np.sin(np.asarray(W)))
    np.testing.assert_allclose(np.asarray(t), [100.0] * 3)
    np.testing.assert_allclose(np.asarray(fnx.jacrev(f)(W)), 100.0 * np.eye(3))
    np.testing.assert_allclose(np.asarray(fnx.hessian(lambda w: fnp.sum(f(w)))(W)), np.zeros((3, 3)))


def test_vmap_rule_sums_the_cotangent_of_a_shared_operand():
    def loss(y):
        return fnp.sum(fnx.vmap(scaled_product, in_axes=(0, None))(W, y))
    assert float(fnx.grad(loss)(3.0)) == pytest.approx(2.0 * float(fnp.sum(W)))
    assert float(fnx.grad(fnx.jit(loss))(3.0)) == pytest.approx(2.0 * float(fnp.sum(W)))
    g = fnx.grad(lambda w: fnp.sum(fnx.vmap(scaled_product, in_axes=(0, None))(w, 3.0)))(W)
    np.testing.assert_allclose(np.asarray(g), [6.0] * 3)


def test_pytree_outputs_and_graph_text():
    @fnx.custom_vjp
    def two(x):
        return {"a": x, "b": 2.0 * x}
    two.defvjp(lambda x: (two(x), None), lambda _, g: (0.0 * g["a"] + 7.0,))
    for wrap in (fnx.vmap, fnx.jit):
        out = wrap(two)(W)
        np.testing.assert_allclose(np.asarray(out["b"]), 2.0 * np.asarray(W))
        np.testing.assert_allclose(np.asarray(fnx.grad(lambda w: fnp.sum(wrap(two)(w)["b"]))(W)), [7.0] * 3)
    text = str(fnx.make_jaxpr(_loss(clip_gradient))(W))
    assert "custom_call[call=custom_vjp[clip_gradient]]" in text
    # the printed graph replays with the rule
    graph = fnx.make_jaxpr(_loss(clip_gradient))(W)
    np.testing.assert_array_equal(np.asarray(fnx.grad(lambda w: graph(w))(W)), [1.0, 1.0, 1.0])


def test_rules_built_on_custom_vjp_apply_under_vmap_and_jit():
    @fnx.custom_gradient
    def square(x):
        return x ** 2, lambda g: (g * 100.0,)

    class Square(fnx.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g * 100.0

    for f in (square, Square.apply):
        for wrap in (lambda h: h, fnx.vmap, fnx.jit):
            g = fnx.grad(lambda w: fnp.sum(wrap(f)(w)))(W)
            np.testing.assert_allclose(np.asarray(g), [100.0] * 3)
    x = fnx.tensor([1.0, 2.0, 3.0], requires_grad=True)
    fnx.jit(lambda v: Square.apply(v).sum())(x).backward()
    np.testing.assert_allclose(np.asarray(x.grad), [100.0] * 3)


def test_gamma_samples_differentiate_under_jit_as_eagerly():
    from fnx import distributions as D
    a = fnp.array([1.0, 2.0, 0.5], dtype="float64")

    def total(a):
        return fnp.sum(D.Gamma(a, 1.0).rsample())
    fnx.manual_seed(0)
    eager = fnx.grad(total)(a)
    fnx.manual_seed(0)
    jitted = fnx.grad(fnx.jit(total))(a)
    assert np.all(np.asarray(eager) != 0)
    np.testing.assert_allclose(np.asarray(jitted), np.asarray(eager), rtol=1e-12)


def test_matches_jax():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    jclip, jsin = _rules(jax, jnp)
    def jloss(f):
        return lambda w: jnp.sum(f(w) * 10.0)
    w = np.asarray(W, dtype=np.float32)
    for ours, theirs in [(fnx.grad(_loss(fnx.vmap(clip_gradient))), jax.grad(jloss(jax.vmap(jclip)))),
                         (fnx.grad(_loss(fnx.jit(clip_gradient))), jax.grad(jloss(jax.jit(jclip)))),
                         (fnx.jacrev(fnx.vmap(sin_with_slope_100)), jax.jacrev(jax.vmap(jsin))),
                         (fnx.grad(lambda v: fnp.sum(fnx.jit(sin_with_slope_100)(v))),
                          jax.grad(lambda v: jnp.sum(jax.jit(jsin)(v))))]:
        np.testing.assert_allclose(np.asarray(ours(fnp.asarray(w))), np.asarray(theirs(w)), rtol=1e-6)


def test_stop_gradient_output_is_a_constant_for_every_transform():
    calls = []

    @fnx.custom_jvp
    def guarded(v):
        return v

    @guarded.defjvp
    def rule(p, t):
        calls.append(1)
        return p[0], t[0]
    g = fnx.grad(lambda w: fnp.sum(fnx.jit(lambda v: guarded(fnx.stop_gradient(v)))(w) * w))(W)
    np.testing.assert_allclose(np.asarray(g), np.asarray(W))
    assert not calls  # nothing differentiable reached the rule
    assert not isinstance(fnx.stop_gradient(fnx.tensor([1.0], requires_grad=True) * 2), fnx.core.trace.Tracer)


@pytest.mark.parametrize("wrap", [lambda f: f, fnx.vmap, fnx.jit], ids=["eager", "vmap", "jit"])
def test_a_bwd_cotangent_of_the_wrong_shape_is_refused(wrap):
    @fnx.custom_vjp
    def f(x):
        return x
    f.defvjp(lambda x: (x, None), lambda _, g: (fnp.ones(5),))
    with pytest.raises(ValueError, match="cotangent leaf 0 has shape \\(5,\\), its argument \\(\\)"):
        fnx.grad(lambda w: fnp.sum(wrap(f)(w)))(fnp.ones(3) if wrap is fnx.vmap else fnp.ones(()))


def test_a_custom_jvp_rule_must_keep_its_outputs_dtypes_as_jax_requires():
    from fnx.errors import TangentDTypeError

    @fnx.custom_jvp
    def double(x):
        return x * 2

    @double.defjvp
    def double_jvp(primals, tangents):
        return double(primals[0]), tangents[0].astype("float32") * 2
    x64 = fnp.asarray(1.0, dtype="float64")
    with pytest.raises(TypeError, match="output 0 is float64, its tangent float32") as error:
        fnx.jvp(double, (x64,), (x64,))
    assert isinstance(error.value, TangentDTypeError)
    assert float(fnx.grad(double)(fnp.asarray(1.0, dtype="float32"))) == 2.0
