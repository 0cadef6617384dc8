"""JAX's other top-level transforms: eval_shape, make_jaxpr, linearize, linear_transpose, custom_gradient,
pure_callback, debug.print and the host utilities."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import fnx
import fnx.numpy as fnp
from fnx.errors import DTypeError, ShapeError, TracerError, TreeError
from fnx.testing import check_grads

shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


def f_mix(x, w):
    """Several families of operations: matmul, elementwise, reductions, reshapes, indexing."""
    h = fnp.tanh(x @ w) * 2.0 + 1.0
    return {"sum": fnp.sum(h, axis=0), "flat": fnp.reshape(h, (-1,))[1:], "max": fnp.max(h)}


# ----- ShapeDtypeStruct, eval_shape, make_jaxpr -------------------------------------------------

def test_shape_dtype_struct():
    s = fnx.ShapeDtypeStruct((3, 4), "float32")
    assert (s.shape, s.dtype, s.ndim, s.size) == ((3, 4), np.dtype("float32"), 2, 12)
    assert s == fnx.ShapeDtypeStruct([3, 4], np.float32) and hash(s) == hash(fnx.ShapeDtypeStruct((3, 4), "f4"))
    assert s != fnx.ShapeDtypeStruct((3, 4), "float64")
    assert repr(s) == "ShapeDtypeStruct(shape=(3, 4), dtype=float32)"


@given(n=st.integers(1, 5), k=st.integers(1, 4), m=st.integers(2, 4), dtype=st.sampled_from(["float32", "float64"]))
def test_eval_shape_matches_the_computed_shapes(n, k, m, dtype):
    x, w = fnp.ones((n, k), dtype), fnp.ones((k, m), dtype)
    expected = fnx.tree.map(lambda a: fnx.ShapeDtypeStruct(a.shape, a.dtype), f_mix(x, w))
    assert fnx.eval_shape(f_mix, x, w) == expected
    assert fnx.eval_shape(f_mix, fnx.ShapeDtypeStruct((n, k), dtype), w) == expected


def test_eval_shape_computes_nothing():
    calls = []

    def f(x):
        y = fnx.pure_callback(lambda a: (calls.append(1), a)[1], fnx.ShapeDtypeStruct(x.shape, x.dtype), x)
        fnx.debug.print("{}", y)
        return y * 2.0

    assert fnx.eval_shape(f, fnx.ShapeDtypeStruct((2, 3), "float64")) == fnx.ShapeDtypeStruct((2, 3), "float64")
    assert calls == []


def test_eval_shape_keywords_constants_and_scalars():
    out = fnx.eval_shape(lambda x, *, scale: (x * scale, fnp.zeros(2), 1.0), fnp.ones(3), scale=2.0)
    assert out == (fnx.ShapeDtypeStruct((3,), "float32"), fnx.ShapeDtypeStruct((2,), "float32"),
                   fnx.ShapeDtypeStruct((), "float32"))


def test_eval_shape_refuses_branching_on_values():
    with pytest.raises(TracerError, match="eval_shape"):
        fnx.eval_shape(lambda x: x if x.sum() > 0 else -x, fnp.ones(2))


def test_make_jaxpr_records_what_make_graph_records_and_replays():
    x, w = fnp.asarray(np.arange(6.0).reshape(2, 3)), fnp.asarray(np.ones((3, 2)))
    jaxpr = fnx.make_jaxpr(f_mix)(x, w)
    assert jaxpr.primitives() == fnx.make_graph(f_mix)(x, w).primitives()
    assert [a.shape for a in jaxpr.in_avals] == [(2, 3), (3, 2)]
    assert [a.shape for a in jaxpr.out_avals] == [(3,), (), (2,)]  # dict outputs in key order: flat, max, sum
    replayed, direct = jaxpr(x, w), f_mix(x, w)
    for k in direct:
        np.testing.assert_allclose(np.asarray(replayed[k]), np.asarray(direct[k]))
    assert "matmul" in str(jaxpr) and "tanh" in str(jaxpr)


def test_make_jaxpr_static_argnums_and_return_shape():
    jaxpr, shape = fnx.make_jaxpr(lambda x, n: x ** n, static_argnums=1, return_shape=True)(
        fnx.ShapeDtypeStruct((4,), "float32"), 3)
    assert shape == fnx.ShapeDtypeStruct((4,), "float32")
    assert jaxpr.primitives() == ["power"]
    print_out = str(jaxpr)
    assert print_out.startswith("{ lambda a:f32[4]. let")


def test_make_jaxpr_consts_and_numpy_specs():
    c = fnp.asarray([1.0, 2.0])
    jaxpr = fnx.make_jaxpr(lambda x: x * c + 1.0)(np.zeros(2, np.float32))  # a numpy array: only its shape
    assert jaxpr.jaxpr is jaxpr and any(k is c for k in jaxpr.consts)
    assert [a.shape for a in jaxpr.in_avals] == [(2,)] and jaxpr.in_avals[0].dtype == np.float32


def test_jacobian_is_jacrev():
    assert fnx.jacobian is fnx.jacrev

# ----- linearize, linear_transpose, custom_gradient ---------------------------------------------------


@given(shape=shapes, seed=st.integers(0, 2 ** 16))
def test_linearize_matches_jvp(shape, seed):
    rng = np.random.default_rng(seed)
    x, y, t, u = (fnp.asarray(rng.standard_normal(shape)) for _ in range(4))

    def f(a, b):
        return {"p": fnp.sin(a) * b, "s": fnp.sum(fnp.exp(a) * b ** 2)}

    out, f_jvp = fnx.linearize(f, x, y)
    ref_out, ref_t = fnx.jvp(f, (x, y), (t, u))
    got = f_jvp(t, u)
    for k in ("p", "s"):
        np.testing.assert_allclose(np.asarray(out[k]), np.asarray(ref_out[k]), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(got[k]), np.asarray(ref_t[k]), rtol=1e-10, atol=1e-12)


def test_linearize_runs_the_primal_once_and_checks_tangents():
    calls = []

    def f(x):
        calls.append(1)
        return fnp.sin(x) * x

    _, f_jvp = fnx.linearize(f, fnp.ones(3))
    f_jvp(fnp.ones(3))
    f_jvp(fnp.zeros(3))
    assert len(calls) == 1
    assert set(f_jvp.graph.primitives()) <= {"multiply", "add"}  # only tangent work is replayed
    with pytest.raises(ShapeError, match="linearize"):
        f_jvp(fnp.ones(2))
    with pytest.raises(DTypeError, match="linearize"):
        f_jvp(fnp.ones(3, "float64"))


def test_linearize_composes_with_grad():
    # d/dx of the linearised map's value at a fixed tangent: d/dx [cos(x) * 1] = -sin(x)
    def g(x):
        return fnx.linearize(fnp.sin, x)[1](fnp.ones_like(x))
    check_grads(g, (fnp.asarray(0.7, "float64"),), order=1)
    np.testing.assert_allclose(float(fnx.grad(g)(fnp.asarray(0.7, "float64"))), -np.sin(0.7), rtol=1e-12)


@given(n=st.integers(1, 4), m=st.integers(1, 4), seed=st.integers(0, 2 ** 16))
def test_linear_transpose_is_the_matrix_transpose(n, m, seed):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, n))
    f_t = fnx.linear_transpose(lambda x: fnp.asarray(a) @ x, fnx.ShapeDtypeStruct((n,), "float64"))
    ct = rng.standard_normal(m)
    (got,) = f_t(fnp.asarray(ct))
    np.testing.assert_allclose(np.asarray(got), a.T @ ct, rtol=1e-12)


def test_linear_transpose_pytrees_and_checks():
    f_t = fnx.linear_transpose(lambda x, y: {"o": 2.0 * x + fnp.sum(y)}, fnp.ones(3), fnp.ones(2))
    gx, gy = f_t({"o": fnp.asarray([0.0, 1.0, 2.0])})
    np.testing.assert_allclose(np.asarray(gx), [0.0, 2.0, 4.0])
    np.testing.assert_allclose(np.asarray(gy), [3.0, 3.0])
    with pytest.raises(ShapeError, match="linear_transpose"):
        f_t({"o": fnp.ones(2)})
    with pytest.raises(TreeError, match="linear_transpose"):
        f_t(fnp.ones(3))


def test_linear_transpose_of_a_nonlinear_function_is_its_vjp_at_zero():
    (g,) = fnx.linear_transpose(lambda x: fnp.cos(x) + x, fnp.ones(2))(fnp.ones(2))
    np.testing.assert_allclose(np.asarray(g), [1.0, 1.0])  # d/dx (cos x + x) at 0 = 1


def test_custom_gradient():
    @fnx.custom_gradient
    def f(x, y):
        return x * y, lambda g: (g * 10.0, g * 20.0)

    assert float(f(2.0, 3.0)) == 6.0
    gx, gy = fnx.grad(f, argnums=(0, 1))(2.0, 3.0)
    assert (float(gx), float(gy)) == (10.0, 20.0)

    @fnx.custom_gradient
    def sq(x):
        return x ** 2, lambda g: g * 10.0 * x  # one argument: a bare cotangent is accepted, as in JAX

    assert float(fnx.grad(sq)(3.0)) == 30.0
    assert float(fnx.jvp(sq, (3.0,), (1.0,))[1]) == 6.0  # forward mode differentiates the function's own code

    @fnx.custom_gradient
    def bad(x, y):
        return x * y, lambda g: g
    with pytest.raises(TypeError, match="2 cotangents"):
        fnx.grad(bad)(1.0, 2.0)

# ----- host utilities ------------------------------------------------------------------------------------


def test_block_until_ready_and_device_get():
    tree = {"a": fnp.arange(3.0), "n": 2}
    assert fnx.block_until_ready(tree) is tree
    got = fnx.device_get(tree)
    assert type(got["a"]) is np.ndarray and got["n"] == 2
    np.testing.assert_array_equal(got["a"], [0.0, 1.0, 2.0])
    # As JAX: a value traced by a transform comes back as it is, still traced.
    assert fnx.grad(lambda x: fnp.sum(fnx.device_get(x) ** 2))(fnp.arange(3.0)).tolist() == [0.0, 2.0, 4.0]
    assert fnx.vmap(lambda x: fnx.device_get(x) * 2)(fnp.arange(3.0)).tolist() == [0.0, 2.0, 4.0]
    w = fnx.nn.Parameter(fnp.arange(2.0))  # object-style leaves become their values, as torch's .detach().cpu()
    got = fnx.device_get({"w": w, "y": w * 2})
    assert type(got["w"]) is np.ndarray and got["y"].tolist() == [0.0, 2.0]


def test_backend_and_device_counts():
    assert fnx.default_backend() == "cpu"
    assert fnx.device_count() == fnx.local_device_count() == len(fnx.devices("cpu"))
    assert fnx.local_devices() == fnx.devices("cpu")
    assert fnx.device_count("gpu") == len(fnx.devices("cuda"))
    with pytest.raises(ValueError, match="tpu"):
        fnx.device_count("tpu")


def test_named_call():
    def f(x):
        return x + 1
    g = fnx.named_call(f, name="step")
    assert g(1) == 2 and g.__name__ == "step" and fnx.named_call(f).__name__ == "f"

# ----- pure_callback ------------------------------------------------------------------------------------


def _spec(shape, dtype="float32"):
    return fnx.ShapeDtypeStruct(shape, dtype)


def test_pure_callback_eager_pytrees_and_keywords():
    def cb(x, *, y):
        assert type(x) is np.ndarray and type(y["v"]) is np.ndarray
        return {"s": x + y["v"], "c": np.cumsum(x)}

    out = fnx.pure_callback(cb, {"s": _spec((3,)), "c": _spec((3,))}, fnp.ones(3), y={"v": fnp.arange(3.0)})
    np.testing.assert_array_equal(np.asarray(out["s"]), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(np.asarray(out["c"]), [1.0, 2.0, 3.0])


def test_pure_callback_result_does_not_alias_the_callback_array():
    kept = np.zeros(2, np.float32)
    out = fnx.pure_callback(lambda x: kept, _spec((2,)), fnp.ones(2))
    kept[:] = 7.0
    np.testing.assert_array_equal(np.asarray(out), [0.0, 0.0])


def test_pure_callback_runs_at_every_jitted_call():
    calls = []

    def cb(x):
        calls.append(x.copy())
        return np.cumsum(x)

    f = fnx.jit(lambda x: fnx.pure_callback(cb, _spec((3,)), x * 2.0) + 1.0)
    np.testing.assert_array_equal(np.asarray(f(fnp.ones(3))), [3.0, 5.0, 7.0])
    n = len(calls)
    np.testing.assert_array_equal(np.asarray(f(fnp.arange(3.0))), [1.0, 3.0, 7.0])
    assert len(calls) == n + 1
    np.testing.assert_array_equal(calls[-1], [0.0, 2.0, 4.0])


@pytest.mark.parametrize("method, seen", [
    ("sequential", [((2,), (2,))] * 3),
    ("sequential_unrolled", [((2,), (2,))] * 3),
    ("expand_dims", [((3, 2), (1, 2))]),
    ("broadcast_all", [((3, 2), (3, 2))]),
    ("legacy_vectorized", [((3, 2), (2,))]),
])
def test_pure_callback_vmap_methods(method, seen):
    shapes_seen = []

    def cb(x, y):
        shapes_seen.append((x.shape, y.shape))
        return (x * y).astype(np.float32)

    x = fnp.asarray(np.arange(6.0, dtype=np.float32).reshape(2, 3))  # batched along axis 1
    y = fnp.asarray([1.0, 10.0], "float32")
    out = fnx.vmap(lambda a, b: fnx.pure_callback(cb, _spec((2,)), a, b, vmap_method=method),
                   in_axes=(1, None))(x, y)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(x).T * np.asarray(y))
    assert shapes_seen == seen


def test_pure_callback_vmap_over_an_empty_batch():
    calls = []
    out = fnx.vmap(lambda a: fnx.pure_callback(lambda x: (calls.append(1), x)[1], _spec((2,)), a,
                                               vmap_method="sequential"))(fnp.ones((0, 2)))
    assert out.shape == (0, 2) and calls == []


def test_debug_print_of_untraced_values_inside_jit_prints_while_tracing(capsys):
    f = fnx.jit(lambda x: (fnx.debug.print("c {}", fnp.ones(1)), x + 1)[1])
    f(fnp.ones(2))
    f(fnp.ones(2))
    assert capsys.readouterr().out == "c [1.]\n"


def test_pure_callback_vmap_needs_a_method():
    with pytest.raises(NotImplementedError, match="vmap_method"):
        fnx.vmap(lambda a: fnx.pure_callback(np.sin, _spec(()), a))(fnp.ones(3))
    with pytest.raises(ValueError, match="vmap_method"):
        fnx.pure_callback(np.sin, _spec(()), fnp.ones(()), vmap_method="loop")


def test_pure_callback_is_not_differentiable():
    def f(x):
        return fnp.sum(fnx.pure_callback(np.sin, _spec((2,), "float64"), x))
    x = fnp.ones(2, "float64")
    with pytest.raises(TracerError, match="not differentiable"):
        fnx.grad(f)(x)
    with pytest.raises(TracerError, match="not differentiable"):
        fnx.jvp(f, (x,), (x,))


def test_pure_callback_checks_its_results():
    with pytest.raises(ShapeError, match=r"shape \(2,\).*\(3,\)"):
        fnx.pure_callback(lambda x: x[:2], _spec((3,)), fnp.ones(3))
    with pytest.raises(DTypeError, match="float64.*float32"):
        fnx.pure_callback(lambda x: x.astype(np.float64), _spec((3,)), fnp.ones(3))
    with pytest.raises(TreeError, match="structure"):
        fnx.pure_callback(lambda x: (x, x), _spec((3,)), fnp.ones(3))
    with pytest.raises(ValueError, match="no array"):
        fnx.pure_callback(lambda x: None, None, fnp.ones(3))
    with pytest.raises(TypeError, match="ShapeDtypeStruct"):
        fnx.pure_callback(lambda x: x, (3,), fnp.ones(3))

# ----- debug.print / debug.callback ------------------------------------------------------------------------


def test_debug_print_eager_and_format(capsys):
    fnx.debug.print("{} and {a} and {n}", fnp.arange(2.0), a=fnp.asarray(1.5), n=3)
    assert capsys.readouterr().out == "0.0 and 1.5 and 3\n".replace("0.0", "[0. 1.]")


def test_debug_print_under_jit_prints_once_per_call(capsys):
    f = fnx.jit(lambda x: (fnx.debug.print("x = {}", x), x * 2)[1])
    f(fnp.arange(3.0))
    f(fnp.ones(2))
    f(fnp.ones(2))
    assert capsys.readouterr().out == "x = [0. 1. 2.]\nx = [1. 1.]\nx = [1. 1.]\n"


def test_debug_print_under_vmap_and_grad(capsys):
    fnx.vmap(lambda x: fnx.debug.print("v {}", x))(fnp.arange(3))
    assert capsys.readouterr().out == "v 0\nv 1\nv 2\n"
    g = fnx.grad(lambda x: (fnx.debug.print("g {}", x), x * x)[1])(3.0)
    assert capsys.readouterr().out == "g 3.0\n" and float(g) == 6.0
    fnx.jit(fnx.vmap(lambda x: fnx.debug.print("jv {}", x)))(fnp.arange(2))
    assert capsys.readouterr().out == "jv 0\njv 1\n"


def test_debug_callback_receives_numpy_values():
    seen = []
    fnx.jit(lambda x: fnx.debug.callback(lambda a, tag: seen.append((type(a), a.tolist(), tag)), x, "t"))(
        fnp.ones(2))
    assert seen == [(np.ndarray, [1.0, 1.0], "t")]


def test_on_every_device(device):
    """block_until_ready waits on (and returns) arrays on any device; callbacks see host values and give
    results on their arguments' device."""
    x = fnp.arange(3.0, device=device)
    tree = {"x": x * 2.0}
    assert fnx.block_until_ready(tree) is tree
    np.testing.assert_array_equal(fnx.device_get(tree)["x"], [0.0, 2.0, 4.0])
    seen = []
    out = fnx.pure_callback(lambda a: (seen.append(type(a)), a + 1.0)[1], _spec((3,)), x)
    assert out.device == device and seen == [np.ndarray]
    np.testing.assert_array_equal(np.asarray(out), [1.0, 2.0, 3.0])
    out = fnx.jit(lambda a: fnx.pure_callback(np.cumsum, _spec((3,)), a))(x)
    assert out.device == device
    got = []
    fnx.jit(lambda a: fnx.debug.callback(lambda v: got.append(type(v)), a))(x)
    assert got == [np.ndarray]


def test_linearize_has_aux_and_jaxs_rule_keywords():
    out, f_jvp, aux = fnx.linearize(lambda x: (x ** 2, {"seen": x + 1}), fnp.asarray(3.0), has_aux=True)
    assert float(out) == 9.0 and float(f_jvp(fnp.asarray(1.0))) == 6.0 and float(aux["seen"]) == 4.0  # as jax
    double = fnx.custom_vjp(lambda x: x * 2)
    double.defvjp(lambda x: (x * 2, None), lambda r, ct: (ct * 3,), optimize_remat=True)  # accepted, as JAX
    assert float(fnx.grad(double)(1.0)) == 3.0
    with pytest.raises(NotImplementedError, match="symbolic_zeros=True is not supported"):
        double.defvjp(lambda x: (x, None), lambda r, ct: (ct,), symbolic_zeros=True)
    square = fnx.custom_jvp(lambda x: x * x)
    square.defjvp(lambda p, t: (p[0] * p[0], 2 * p[0] * t[0]), symbolic_zeros=False)
    assert float(fnx.grad(square)(3.0)) == 6.0
