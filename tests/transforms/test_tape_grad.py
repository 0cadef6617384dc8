"""Gradients on the tape (``torch.autograd.grad``), differentiable backward passes (``create_graph``),
and custom_vjp / custom_jvp functions of Parameters, checked against the functional transforms."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fnx
import fnx.nn as nn
import fnx.numpy as fnp
from fnx.errors import GraphError, ShapeError
from fnx.transforms.autodiff import tape_grad


def _param(values):
    return nn.Parameter(fnp.asarray(np.asarray(values, dtype=np.float64)))


def test_second_derivative_through_the_tape():
    w = _param([1.0, 2.0, -0.5])
    (g,) = tape_grad(fnp.sum(w ** 3), w, create_graph=True)
    np.testing.assert_allclose(g, 3 * np.asarray(w.primal) ** 2)
    assert g.requires_grad and w.grad is None  # autograd.grad accumulates nothing
    fnp.sum(g).backward()
    np.testing.assert_allclose(w.grad, 6 * np.asarray(w.primal))


def test_without_create_graph_the_gradient_is_a_constant_and_the_graph_is_freed():
    w = _param([0.3, -1.2])
    y = fnp.sum(fnp.exp(w))
    (g,) = tape_grad(y, w)
    assert not g.requires_grad and type(g) is fnx.Array
    np.testing.assert_allclose(g, np.exp(np.asarray(w.primal)))
    with pytest.raises(GraphError, match="second time"):
        tape_grad(y, w)
    y = fnp.sum(fnp.exp(w))
    tape_grad(y, w, retain_graph=True)
    np.testing.assert_allclose(tape_grad(y, w)[0], np.exp(np.asarray(w.primal)))


def test_intermediate_inputs_and_several_outputs():
    w = _param([0.5, 1.5])
    h = w * 2.0
    y = fnp.sum(fnp.sin(h))
    gh, gw = tape_grad(y, [h, w], retain_graph=True)
    np.testing.assert_allclose(gh, np.cos(2 * np.asarray(w.primal)))
    np.testing.assert_allclose(gw, 2 * np.cos(2 * np.asarray(w.primal)))
    # Two outputs: their gradients add, as in PyTorch.
    z = fnp.sum(h ** 2)
    (gw2,) = tape_grad([y, z], w)
    np.testing.assert_allclose(gw2, 2 * np.cos(2 * np.asarray(w.primal)) + 8 * np.asarray(w.primal))


def test_grad_outputs_for_a_non_scalar_output():
    w = _param([1.0, 2.0, 3.0])
    y = w ** 2
    with pytest.raises(ShapeError, match=r"only for scalar outputs, but outputs\[0\] has shape \(3,\)"):
        tape_grad(y, w, retain_graph=True)
    with pytest.raises(ShapeError, match=r"has shape \(2,\)"):
        tape_grad(y, w, grad_outputs=fnp.ones(2), retain_graph=True)
    (g,) = tape_grad(y, w, grad_outputs=fnp.asarray(np.array([1.0, 0.5, -1.0])))
    np.testing.assert_allclose(g, [2.0, 2.0, -6.0])


def test_unused_inputs():
    w, v = _param([1.0]), _param([2.0, 3.0])
    y = fnp.sum(w * 3.0)
    with pytest.raises(GraphError, match=r"inputs\[1\] was not used.*allow_unused=True"):
        tape_grad(y, [w, v], retain_graph=True)
    gw, gv = tape_grad(y, [w, v], allow_unused=True, retain_graph=True)
    assert gv is None
    np.testing.assert_allclose(gw, [3.0])
    gw, gv = tape_grad(y, [w, v], materialize_grads=True)
    np.testing.assert_array_equal(gv, np.zeros(2))


def test_inputs_and_outputs_that_do_not_require_grad():
    w = _param([1.0])
    with pytest.raises(GraphError, match=r"inputs\[0\] does not require grad"):
        tape_grad(fnp.sum(w * 2.0), fnp.ones(1))
    with pytest.raises(GraphError, match=r"outputs\[0\] does not require grad"):
        tape_grad(fnp.sum(fnp.ones(1)), w)
    with fnx.no_grad():
        y = fnp.sum(w * 2.0)
    with pytest.raises(GraphError, match=r"outputs\[0\] does not require grad"):
        tape_grad(y, w)


def _critic():
    fnx.manual_seed(3)
    return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1)).double()


def test_gradient_penalty_matches_nested_functional_grad():
    """WGAN-GP's penalty: the gradient of the critic's gradient norm, object-style and functional."""
    critic = _critic()
    data = np.random.default_rng(0).normal(size=(4, 3))
    x = fnx.tensor(data, requires_grad=True)
    (gx,) = tape_grad(critic(x).sum(), x, create_graph=True)
    penalty = ((fnp.linalg.norm(gx, axis=1) - 1.0) ** 2).mean()
    penalty.backward()

    def penalty_of(params):
        grad_x = fnx.grad(lambda xx: fnp.sum(nn.functional_call(critic, params, (xx,))))(fnp.asarray(data))
        return ((fnp.linalg.norm(grad_x, axis=1) - 1.0) ** 2).mean()
    named = dict(critic.named_parameters())
    expected = fnx.grad(penalty_of)({k: p.primal for k, p in named.items()})
    for k, p in named.items():
        if k == "2.bias":  # the penalty does not depend on the last bias: None, as in PyTorch
            assert p.grad is None
        else:
            np.testing.assert_allclose(p.grad, expected[k], rtol=1e-10, atol=1e-12)


def test_backward_with_create_graph_makes_grad_differentiable():
    w = _param([0.5, -1.0, 2.0])
    fnp.sum(fnp.sin(w) * w).backward(create_graph=True)
    first = w.grad
    assert first.requires_grad
    wv = np.asarray(w.primal)
    np.testing.assert_allclose(first, np.cos(wv) * wv + np.sin(wv))
    w.grad = None
    fnp.sum(first).backward()
    np.testing.assert_allclose(w.grad, -np.sin(wv) * wv + 2 * np.cos(wv))


def test_backward_inputs_limits_the_written_grads():
    a, b = _param([1.0]), _param([2.0])
    fnp.sum(a * b).backward(inputs=[a])
    np.testing.assert_allclose(a.grad, [2.0])
    assert b.grad is None
    with pytest.raises(GraphError, match=r"inputs\[0\] is not a Parameter"):
        fnp.sum(a * b).backward(inputs=[fnp.ones(1)])
    unused = a * 1.0  # a computed value the output does not use: nothing to fill, as in PyTorch
    fnp.sum(a * b).backward(inputs=[unused])
    np.testing.assert_allclose(a.grad, [2.0])


@settings(deadline=None, max_examples=15)
@given(seed=st.integers(0, 2 ** 16), width=st.integers(1, 4))
def test_hessian_vector_products_match_fnx_hessian(seed, width):
    """Double backward (grad, dot with v, grad again) equals fnx.hessian(f) @ v, for smooth compositions."""
    rng = np.random.default_rng(seed)
    a, v = rng.normal(size=(width, width)), rng.normal(size=width)
    x0 = rng.normal(size=width)

    def f(x):
        h = fnp.tanh(fnp.asarray(a) @ x)
        return fnp.sum(h * fnp.exp(-x * x)) + fnp.sum(fnp.log1p(x * x)) * fnp.max(fnp.sinh(x))

    x = _param(x0)
    (g,) = tape_grad(f(x), x, create_graph=True)
    (hv,) = tape_grad(fnp.sum(g * fnp.asarray(v)), x)
    np.testing.assert_allclose(hv, np.asarray(fnx.hessian(f)(fnp.asarray(x0))) @ v, rtol=1e-9, atol=1e-11)


def test_custom_vjp_and_custom_jvp_functions_of_parameters():
    @fnx.custom_vjp
    def cube(x):
        return x ** 3

    cube.defvjp(lambda x: (x ** 3, x), lambda x, ct: (3 * x ** 2 * ct,))

    @fnx.custom_jvp
    def soft(x):
        return fnp.log1p(fnp.exp(x))

    soft.defjvp(lambda p, t: (soft(p[0]), t[0] / (1 + fnp.exp(-p[0]))))

    w = _param([0.5, -1.5])
    wv = np.asarray(w.primal)
    fnp.sum(cube(w)).backward()
    np.testing.assert_allclose(w.grad, 3 * wv ** 2)
    w.grad = None
    fnp.sum(soft(w * 1.0)).backward()
    np.testing.assert_allclose(w.grad, 1 / (1 + np.exp(-wv)))
    # Second order through both: the residuals and the rule see the operands as tracers of the tape.
    (g,) = tape_grad(fnp.sum(cube(w)), w, create_graph=True)
    (gg,) = tape_grad(fnp.sum(g), w)
    np.testing.assert_allclose(gg, 6 * wv)
    (g,) = tape_grad(fnp.sum(soft(w)), w, create_graph=True)
    (gg,) = tape_grad(fnp.sum(g), w)
    sig = 1 / (1 + np.exp(-wv))
    np.testing.assert_allclose(gg, sig * (1 - sig))


@pytest.mark.parametrize("method", ["sign", "floor", "ceil", "trunc", "round", "fix"])
def test_piecewise_constant_outputs_require_grad_with_a_zero_gradient_as_in_pytorch(method):
    # torch: x.floor().requires_grad is True (grad_fn FloorBackward0) and its gradient is zero; the functional
    # transforms treat the output as a constant, which gives the same zero.
    w = _param([1.5, -2.5, 0.25])
    y = getattr(w, method)()
    assert y.requires_grad and type(y.grad_fn).__name__.endswith("Backward0")
    (y * w).sum().backward()
    np.testing.assert_array_equal(w.grad, np.asarray(y.primal))  # d(y w)/dw = y, with dy/dw = 0
    w.grad = None
    fnp.sum(getattr(w, method)()).backward()
    np.testing.assert_array_equal(w.grad, np.zeros(3))
    assert not getattr(w.detach(), method)().requires_grad
    with fnx.no_grad():
        assert not getattr(w, method)().requires_grad
    assert not (w > 0).requires_grad  # booleans never do
