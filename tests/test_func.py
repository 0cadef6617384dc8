"""fnx.func: torch.func's names and signatures over fnx's transforms, checked against the calculus written in
numpy and against PyTorch itself where it is installed."""
import numpy as np
import pytest

import fnx
import fnx.numpy as fnp

rng = np.random.default_rng(0)
X = rng.standard_normal(3)


def eq(got, want, rtol=1e-5):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-6)


def f(x):
    return fnp.sum(fnp.sin(x) * x)


def df(x):
    return np.cos(x) * x + np.sin(x)


def test_grad_and_grad_and_value_orders():
    x = fnp.asarray(X)
    eq(fnx.func.grad(f)(x), df(X))
    g, value = fnx.func.grad_and_value(f)(x)  # (gradient, value): the reverse of value_and_grad
    eq(g, df(X))
    eq(value, np.sum(np.sin(X) * X))
    g, (value, aux) = fnx.func.grad_and_value(lambda v: (f(v), v * 2.0), has_aux=True)(x)
    eq(g, df(X))
    eq(aux, 2 * X)
    g, aux = fnx.func.grad(lambda v: (f(v), v * 2.0), has_aux=True)(x)
    eq(aux, 2 * X)
    ga, gb = fnx.func.grad(lambda a, b: fnp.sum(a * b), argnums=(0, 1))(x, x * 2.0)
    eq(ga, 2 * X)
    eq(gb, X)


def test_vjp_jvp_linearize():
    x = fnp.asarray(X)
    out, pull = fnx.func.vjp(fnp.sin, x)
    eq(out, np.sin(X))
    eq(pull(fnp.ones(3))[0], np.cos(X))
    out, pull, aux = fnx.func.vjp(lambda v: (fnp.sin(v), v + 1.0), x, has_aux=True)
    eq(aux, X + 1)
    out, t = fnx.func.jvp(fnp.sin, (x,), (fnp.ones(3),))
    eq(t, np.cos(X))
    out, t, aux = fnx.func.jvp(lambda v: (fnp.sin(v), 7.0), (x,), (fnp.ones(3),), has_aux=True)
    assert float(aux) == 7.0
    with pytest.raises(ValueError, match="strict"):
        fnx.func.jvp(fnp.sin, (x,), (fnp.ones(3),), strict=True)
    out, jvp_fn = fnx.func.linearize(fnp.sin, x)
    eq(out, np.sin(X))
    eq(jvp_fn(fnp.full(3, 2.0, dtype=np.float64)), 2 * np.cos(X))
    with pytest.raises(ValueError, match="tangents"):
        jvp_fn()


def test_jacobians_and_hessian():
    x = fnp.asarray(X)
    eq(fnx.func.jacrev(fnp.sin)(x), np.diag(np.cos(X)))
    eq(fnx.func.jacfwd(fnp.sin)(x), np.diag(np.cos(X)))
    jac, aux = fnx.func.jacrev(lambda v: (fnp.sin(v), v), has_aux=True, chunk_size=2)(x)
    eq(jac, np.diag(np.cos(X)))
    eq(fnx.func.hessian(lambda v: fnp.sum(v ** 3))(x), np.diag(6 * X))
    with pytest.raises(ValueError, match="chunk_size"):
        fnx.func.jacrev(fnp.sin, chunk_size=0)


def test_vmap_in_dims_out_dims_and_kwargs():
    xs = fnp.asarray(rng.standard_normal((4, 3)))
    y = fnp.asarray(X)
    eq(fnx.func.vmap(fnp.dot, in_dims=(0, None))(xs, y), np.asarray(xs) @ X)
    eq(fnx.func.vmap(lambda a: a * 2.0, in_dims=1, out_dims=1)(xs), 2 * np.asarray(xs))
    eq(fnx.func.vmap(fnp.sin, chunk_size=2)(xs), np.sin(np.asarray(xs)))  # a memory knob: the same result
    eq(fnx.func.vmap(lambda a, scale=None: a * scale)(xs, scale=y), np.asarray(xs) * X)  # kwargs are not mapped
    per_example = fnx.func.vmap(fnx.func.grad(lambda w, a: fnp.sum(w * a) ** 2), in_dims=(None, 0))(y, xs)
    eq(per_example, 2 * (np.asarray(xs) @ X)[:, None] * np.asarray(xs))


def test_vmap_randomness():
    xs = fnp.ones((3, 2))
    with pytest.raises(RuntimeError, match="randomness"):
        fnx.func.vmap(lambda a: a + fnx.randn(2))(xs)
    same = np.asarray(fnx.func.vmap(lambda a: a + fnx.randn(2), randomness="same")(xs))
    assert (same == same[0]).all()  # one draw shared by the batch
    with pytest.raises(ValueError, match="different"):
        fnx.func.vmap(lambda a: a + fnx.randn(2), randomness="different")(xs)
    with pytest.raises(RuntimeError, match="jacfwd"):
        fnx.func.jacfwd(lambda a: a * fnx.rand(1))(fnp.ones(2))
    with pytest.raises(ValueError, match="randomness"):
        fnx.func.vmap(lambda a: a, randomness="sometimes")
    key = fnx.random.key(0)
    keyed = fnx.func.vmap(lambda a, k: a + fnx.random.normal(k, (2,)))(xs, fnx.random.split(key, 3))
    assert len({tuple(r) for r in np.asarray(keyed).tolist()}) == 3  # explicit keys: per-example draws, no error


class Tied(fnx.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = fnx.nn.Linear(2, 2, bias=False)
        self.b = fnx.nn.Linear(2, 2, bias=False)
        self.b.weight = self.a.weight

    def forward(self, x):
        return self.b(self.a(x))


def test_functional_call_ties_and_sequences():
    m = Tied()
    x = fnp.asarray([1.0, 2.0])
    w = fnp.asarray([[0.0, 1.0], [1.0, 0.0]])
    eq(fnx.func.functional_call(m, {"a.weight": w}, (x,)), np.array([1.0, 2.0]))  # both names take w
    own = np.asarray(m.b.weight.detach())
    eq(fnx.func.functional_call(m, {"a.weight": w}, x, tie_weights=False), own @ np.array([2.0, 1.0]))
    with pytest.raises(ValueError, match="tied"):
        fnx.func.functional_call(m, {"a.weight": w, "b.weight": w * 2.0}, (x,))
    lin = fnx.nn.Linear(2, 1)
    got = fnx.func.functional_call(lin, ({"weight": fnp.ones((1, 2))}, {"bias": fnp.zeros(1)}), args=(x,))
    eq(got, np.array([3.0]))
    with pytest.raises(ValueError, match="more than one"):
        fnx.func.functional_call(lin, ({"bias": fnp.zeros(1)}, {"bias": fnp.zeros(1)}), (x,))
    g = fnx.func.grad(lambda p: fnx.func.functional_call(lin, p, (x,)).sum())(dict(lin.named_parameters()))
    eq(g["weight"], np.array([[1.0, 2.0]]))


def test_stack_module_state_for_ensembles():
    models = [fnx.nn.Linear(3, 2) for _ in range(4)]
    params, buffers = fnx.func.stack_module_state(models)
    assert params["weight"].shape == (4, 2, 3) and params["bias"].shape == (4, 2) and buffers == {}
    x = fnp.asarray(X)

    def run(p, b):
        return fnx.func.functional_call(models[0], (p, b), (x,))
    eq(fnx.func.vmap(run)(params, buffers), np.stack([np.asarray(m(x)) for m in models]))
    with pytest.raises(ValueError, match="module 1"):
        fnx.func.stack_module_state([fnx.nn.Linear(3, 2), fnx.nn.Linear(3, 2, bias=False)])


def _results(L, F):
    t = L.tensor
    x = t(X)
    g, v = F.grad_and_value(lambda a: (L.sin(a) * a).sum())(x)
    h = F.hessian(lambda a: (a ** 3).sum() * a[0])(x)
    jr = F.jacrev(lambda a, b: L.sin(a) * b, argnums=(0, 1))(x, x * 2)
    return {"g": g, "v": v, "h": h, "jr0": jr[0], "jr1": jr[1],
            "vmap": F.vmap(lambda a, b: (a * b).sum(), in_dims=(0, None))(t(np.outer(X, X)), x),
            "jvp": F.jvp(L.sin, (x,), (x,))[1], "vjp": F.vjp(L.sin, x)[1](x)[0]}


def test_against_pytorch():
    torch = pytest.importorskip("torch")
    want, got = _results(torch, torch.func), _results(fnx, fnx.func)
    for key, w in want.items():
        eq(got[key], w.detach().numpy())


def test_functional_call_ties_a_buffer_shared_by_two_modules():
    class Scaled(fnx.nn.Module):
        def __init__(self, scale):
            super().__init__()
            self.register_buffer("scale", scale)

        def forward(self, x):
            return x * self.scale

    class Twice(fnx.nn.Module):
        def __init__(self):
            super().__init__()
            shared = fnp.ones(2)
            self.a, self.b = Scaled(shared), Scaled(shared)

        def forward(self, x):
            return self.a(x) + self.b(x)
    m = Twice()
    assert [n for n, _ in m.named_buffers()] == ["a.scale"]  # one array, as torch lists it once
    out = fnx.func.functional_call(m, {"a.scale": fnp.full(2, 3.0)}, (fnp.ones(2),))
    assert np.asarray(out).tolist() == [6.0, 6.0]  # the tied b.scale takes the value too


# ----- detach() and no_grad() inside the transforms: torch.func's rules ---------------------------------------

def _inner_no_grad(x):
    with fnx.no_grad():
        c = x ** 2
    return (fnp.sin(x) - c).sum()


def test_detach_is_a_constant_to_every_transform():
    x = fnx.tensor([1.0, 2.0])
    f = lambda v: (v * v.detach()).sum()
    np.testing.assert_allclose(np.asarray(fnx.func.grad(f)(x)), [1.0, 2.0])
    np.testing.assert_allclose(np.asarray(fnx.func.jvp(f, (x,), (fnx.ones(2),))[1]), 3.0)
    np.testing.assert_allclose(np.asarray(fnx.func.vmap(fnx.func.grad(f))(x[:, None])), [[1.0], [2.0]])
    np.testing.assert_allclose(np.asarray(fnx.func.grad(lambda v: (v * v.data).sum())(x)), [1.0, 2.0])
    np.testing.assert_allclose(np.asarray(fnx.jit(fnx.func.grad(f))(x)), [1.0, 2.0])


def test_no_grad_inside_the_function_stops_reverse_mode_only():
    x = fnx.tensor([1.0, 2.0])
    np.testing.assert_allclose(np.asarray(fnx.func.grad(_inner_no_grad)(x)), np.cos([1.0, 2.0]), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(fnx.func.jacrev(_inner_no_grad)(x)), np.cos([1.0, 2.0]), rtol=1e-6)
    full = np.cos([1.0, 2.0]) - 2 * np.array([1.0, 2.0])  # forward mode ignores no_grad, as PyTorch's does
    np.testing.assert_allclose(np.asarray(fnx.func.jacfwd(_inner_no_grad)(x)), full, rtol=1e-6)


def test_no_grad_around_the_transform_and_enable_grad_inside_are_ignored_and_respected():
    x = fnx.tensor([1.0, 2.0])
    with fnx.no_grad():
        np.testing.assert_allclose(np.asarray(fnx.func.grad(lambda y: (y ** 2).sum())(x)), [2.0, 4.0])

    def reenabled(v):
        with fnx.no_grad():
            with fnx.enable_grad():
                c = v ** 2
        return (fnp.sin(v) - c).sum()
    full = np.cos([1.0, 2.0]) - 2 * np.array([1.0, 2.0])
    np.testing.assert_allclose(np.asarray(fnx.func.grad(reenabled)(x)), full, rtol=1e-6)


def test_no_grad_and_detach_inside_transforms_match_torch_func():
    torch = pytest.importorskip("torch")
    xs = [1.0, 2.0]

    def torch_inner_no_grad(v):
        with torch.no_grad():
            c = v ** 2
        return (v.sin() - c).sum()
    for ours, theirs in ((fnx.func.grad(_inner_no_grad), torch.func.grad(torch_inner_no_grad)),
                         (fnx.func.jacfwd(_inner_no_grad), torch.func.jacfwd(torch_inner_no_grad)),
                         (fnx.func.grad(lambda v: (v * v.detach()).sum()),
                          torch.func.grad(lambda v: (v * v.detach()).sum()))):
        np.testing.assert_allclose(np.asarray(ours(fnx.tensor(xs))), theirs(torch.tensor(xs)).numpy(), rtol=1e-6)


def test_stack_module_state_gives_leaves_that_require_grad_as_pytorch_does():
    models = [fnx.nn.Linear(2, 3) for _ in range(4)]
    models[0].bias.requires_grad_(False)
    params, buffers = fnx.func.stack_module_state(models)
    assert params["weight"].requires_grad and not params["bias"].requires_grad and buffers == {}
    x = fnx.randn(5, 2)
    out = fnx.func.vmap(lambda p: fnx.func.functional_call(models[0], p, (x,)))(params)
    out.sum().backward()  # trains the ensemble's stacked weights
    np.testing.assert_allclose(np.asarray(params["weight"].grad), np.broadcast_to(np.asarray(x.sum(0)), (4, 3, 2)),
                               rtol=1e-5)


def test_dicts_keep_their_insertion_order_as_torch_funcs_do():
    # torch.func keeps a dict's order (PyTorch's pytrees); fnx's trees sort keys, as JAX's. The torch-style
    # zip(model.parameters(), grads.values()) must pair each parameter with its own gradient.
    model = fnx.nn.Linear(2, 3)
    params = {k: v.detach() for k, v in model.named_parameters()}
    loss = lambda p: fnx.func.functional_call(model, p, (fnx.ones((1, 2)),)).sum()  # noqa: E731
    grads = fnx.func.grad(loss)(params)
    assert list(grads) == ["weight", "bias"]
    assert all(p.shape == g.shape for p, g in zip(model.parameters(), grads.values()))
    assert list(fnx.func.grad_and_value(loss)(params)[0]) == ["weight", "bias"]
    assert list(fnx.func.vmap(lambda x: {"z": x * 2, "a": x})(fnp.ones((2, 3)))) == ["z", "a"]
    p = {"w": fnp.ones(2), "b": fnp.ones(3)}
    jac = fnx.func.jacrev(lambda p: {"z": p["w"].sum(), "a": p["b"] * 2})(p)
    assert list(jac) == ["z", "a"] and list(jac["z"]) == ["w", "b"]  # torch.func.jacrev's nesting
    assert list(fnx.func.jacfwd(lambda p: {"z": p["w"].sum(), "a": p["b"] * 2})(p)["a"]) == ["w", "b"]
    hess = fnx.func.hessian(lambda p: (p["w"] ** 2).sum() + p["b"].sum())(p)
    assert list(hess) == ["w", "b"] and list(hess["w"]) == ["w", "b"]
    out, pull = fnx.func.vjp(lambda p: {"z": p["w"] * 2, "a": p["b"]}, p)
    assert list(out) == ["z", "a"] and list(pull({"z": fnp.ones(2), "a": fnp.ones(3)})[0]) == ["w", "b"]
    assert list(fnx.grad(lambda p: p["w"].sum() + p["b"].sum())(p)) == ["b", "w"]  # fnx.grad keeps JAX's order


def test_functions_see_their_dicts_in_insertion_order_and_nested_transforms_keep_it():
    # The per-sample-gradient recipe: vmap(grad) must give the parameters' order back, and a function that
    # flattens its dict by iterating it must see the order it was given (a sorted dict changes the numbers).
    p = {"weight": fnp.ones((2, 3)), "bias": fnp.zeros(2)}
    xs = fnp.ones((4, 3))
    loss = lambda p, x: (x @ p["weight"].T + p["bias"]).sum()  # noqa: E731
    assert list(fnx.func.vmap(fnx.func.grad(loss), in_dims=(None, 0))(p, xs)) == ["weight", "bias"]
    assert list(fnx.func.vmap(fnx.func.jacrev(loss), in_dims=(None, 0))(p, xs)) == ["weight", "bias"]
    w = fnp.arange(6.0)
    flat = lambda d: (fnp.concatenate(list(d.values())) * w).sum()  # noqa: E731
    g = fnx.func.grad(flat)({"z": fnp.ones(3), "a": fnp.ones(3)})
    eq(g["z"], [0, 1, 2])
    eq(g["a"], [3, 4, 5])
    eq(fnx.func.vmap(lambda d: fnp.stack(list(d.values())))({"z": fnp.zeros(2), "a": fnp.ones(2)}), [[0, 1], [0, 1]])
    eq(fnx.func.hessian(lambda d: (fnp.concatenate(list(d.values())) ** 3 * w).sum())(
        {"z": fnp.ones(3), "a": fnp.ones(3)})["z"]["z"], np.diag([0.0, 6, 12]))
    x = fnp.ones(2)
    both = lambda a: {"z": a, "a": a}  # noqa: E731
    out, tangent = fnx.func.jvp(both, (x,), (x,))
    assert list(out) == list(tangent) == ["z", "a"]
    out, jvp_fn = fnx.func.linearize(both, x)
    assert list(out) == list(jvp_fn(x)) == ["z", "a"]
    with_aux = lambda a: (a.sum(), both(a))  # noqa: E731
    assert list(fnx.func.grad(with_aux, has_aux=True)(x)[1]) == ["z", "a"]
    assert list(fnx.func.grad_and_value(with_aux, has_aux=True)(x)[1][1]) == ["z", "a"]
    assert list(fnx.func.vjp(lambda a: (a, both(a)), x, has_aux=True)[2]) == ["z", "a"]
    assert list(fnx.func.jacrev(lambda a: (a, both(a)), has_aux=True)(x)[1]) == ["z", "a"]
    assert list(fnx.func.jvp(lambda a: (a, both(a)), (x,), (x,), has_aux=True)[2]) == ["z", "a"]


def test_randomness_different_refuses_only_a_function_that_draws():
    assert fnx.func.vmap(lambda x: x * 2, randomness="different")(fnx.ones((2, 2))).shape == (2, 2)  # as torch
    with pytest.raises(ValueError, match="randomness='different' is not supported"):
        fnx.func.vmap(lambda x: x * fnx.randn(2), randomness="different")(fnx.ones((2, 2)))
