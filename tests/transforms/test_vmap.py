"""vmap: axes, pytrees, errors, and composition with the autodiff transforms."""
import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx.errors import ShapeError, TracerError, TreeError
from fnx.testing import check_grads, check_vmap

rng = np.random.default_rng(0)


def arr(x):
    return fnp.asarray(np.asarray(x, dtype=np.float64))


def randn(*shape):
    return arr(rng.standard_normal(shape))


def test_in_axes_out_axes_and_negative_axes():
    x = randn(3, 4)
    out = fnx.vmap(lambda a, b: a * b, in_axes=(0, 1))(x, randn(4, 3))
    assert out.shape == (3, 4)
    check_vmap(lambda a, b: fnp.sin(a) * b, (x, randn(4, 3)), in_axes=(0, -1))
    out = fnx.vmap(lambda a: a * 2.0, in_axes=1, out_axes=-1)(randn(2, 3, 4))
    assert out.shape == (2, 4, 3)
    check_vmap(lambda a: a * 2.0, (randn(2, 3, 4),), in_axes=1, out_axes=-1)


def test_pytree_in_axes_prefix_and_kwargs():
    params = {"w": randn(4), "b": randn()}
    xs = randn(6, 4)
    f = lambda p, x: fnp.sum(p["w"] * x) + p["b"]
    out = fnx.vmap(f, in_axes=({"w": None, "b": None}, 0))(params, xs)
    np.testing.assert_allclose(np.asarray(out), np.asarray(xs) @ np.asarray(params["w"]) + float(params["b"]))
    out = fnx.vmap(f, in_axes=(None, 0))(params, xs)
    assert out.shape == (6,)
    out = fnx.vmap(lambda x, *, scale: x * scale)(xs, scale=randn(6, 4))  # kwargs batched along 0
    assert out.shape == (6, 4)


def test_unbatched_outputs_are_broadcast_and_out_axes_none():
    out = fnx.vmap(lambda x: (x * 2.0, arr(1.0)))(randn(3))
    assert out[1].shape == (3,)
    out = fnx.vmap(lambda x: (x, arr(7.0)), out_axes=(0, None))(randn(3))
    assert out[1].shape == ()
    out = fnx.vmap(lambda x: (x, 3, np.ones(2)), out_axes=(0, None, None))(randn(3))
    assert type(out[1]) is int and type(out[2]) is np.ndarray  # unmapped values come back as given, as in JAX
    with pytest.raises(ValueError, match="out_axes=None"):
        fnx.vmap(lambda x: x, out_axes=None)(randn(3))


def test_batch_size_errors_name_the_arguments():
    with pytest.raises(ShapeError, match=r"size 3: args\[0\].*size 4: args\[1\]"):
        fnx.vmap(lambda a, b: a + b)(randn(3), randn(4))
    with pytest.raises(TreeError, match="in_axes"):
        fnx.vmap(lambda a, b: a + b, in_axes=(0, 0, 0))(randn(3), randn(3))
    with pytest.raises(ValueError, match="axis_size"):
        fnx.vmap(lambda a: a, in_axes=None)(randn(3))
    assert fnx.vmap(lambda a: a, in_axes=None, axis_size=2)(randn(3)).shape == (2, 3)


def test_control_flow_on_batched_values_is_refused():
    def f(x):
        if x > 0:
            return x
        return -x
    with pytest.raises(TracerError, match=r"bool\(\).*vmap.*where"):
        fnx.vmap(f)(randn(3))
    with pytest.raises(TypeError):  # TracerError is a TypeError
        fnx.vmap(lambda x: float(x))(randn(3))
    # control flow on unbatched values still works
    g = lambda x, n: x * 2.0 if n > 1 else x
    assert fnx.vmap(g, in_axes=(0, None))(randn(3), 2).shape == (3,)


def _mlp(params, x):
    h = fnp.tanh(fnp.sum(params["w1"] * x[:, None], axis=0) + params["b1"])
    return fnp.sum(params["w2"] * h)


def test_per_example_gradients_equal_a_loop():
    params = {"w1": randn(3, 5), "b1": randn(5), "w2": randn(5)}
    xs = randn(7, 3)
    batched = fnx.vmap(fnx.grad(_mlp), in_axes=(None, 0))(params, xs)
    for i in range(7):
        single = fnx.grad(_mlp)(params, xs[i])
        for k in params:
            np.testing.assert_allclose(np.asarray(batched[k][i]), np.asarray(single[k]), rtol=1e-12)


def test_grad_of_vmap_and_vmap_of_vmap():
    xs = randn(4, 3)
    g = fnx.grad(lambda x: fnp.sum(fnx.vmap(lambda r: fnp.sin(r) * r[0])(x)))(xs)
    check_grads(lambda x: fnp.sum(fnx.vmap(lambda r: fnp.sin(r) * r[0])(x)), (xs,), order=2)
    assert g.shape == (4, 3)
    f = lambda a, b: fnp.sum(a * b)
    out = fnx.vmap(fnx.vmap(f, in_axes=(0, None)), in_axes=(None, 1))(randn(3, 2), randn(2, 5))
    assert out.shape == (5, 3)
    check_vmap(fnx.vmap(f, in_axes=(0, None)), (randn(3, 2), randn(2, 5)), in_axes=(None, 1))


def test_vmap_of_jvp_and_hessian():
    f = lambda x: fnp.sum(fnp.sin(x) ** 2)
    xs, ts = randn(4, 3), randn(4, 3)
    out = fnx.vmap(lambda x, t: fnx.jvp(f, (x,), (t,))[1])(xs, ts)
    for i in range(4):
        np.testing.assert_allclose(float(out[i]), float(fnx.jvp(f, (xs[i],), (ts[i],))[1]), rtol=1e-12)
    hs = fnx.vmap(fnx.hessian(f))(xs)
    for i in range(4):
        np.testing.assert_allclose(np.asarray(hs[i]), np.asarray(fnx.hessian(f)(xs[i])), rtol=1e-12)


def test_jacobians_are_one_batched_pass():
    """The graph of jacrev/jacfwd does not grow with the output size (no loop over rows/columns)."""
    f = lambda x: fnp.tanh(x) * fnp.sum(x ** 2)
    sizes = {}
    for n in (3, 30):
        x = randn(n)
        sizes[n] = (len(fnx.make_graph(fnx.jacrev(f))(x)), len(fnx.make_graph(fnx.jacfwd(f))(x)))
        np.testing.assert_allclose(np.asarray(fnx.jacrev(f)(x)), np.asarray(fnx.jacfwd(f)(x)), rtol=1e-12)
    assert sizes[3] == sizes[30], sizes


def test_none_arguments_with_none_or_any_in_axes_as_jax():
    # An optional argument left None (mask=None) has no leaves to batch, whatever its in_axes says.
    x = fnp.arange(3.0)
    f = lambda x, mask: x * 2 if mask is None else fnp.where(mask, x, 0.0)
    for in_axes, extra in [((0, None), None), ((0, 0), None), ((0, {"a": None}), {"a": None}),
                           ((0, {"a": 0}), {"a": None})]:
        out = fnx.vmap(lambda x, e: f(x, e if e is None else e["a"]), in_axes=in_axes)(x, extra)
        np.testing.assert_array_equal(np.asarray(out), [0.0, 2.0, 4.0])


def test_vmap_checks_its_arguments_when_made_and_keeps_the_functions_name_as_jax():
    for bad in ({"a": 0}, True, 1.5):
        with pytest.raises(TypeError, match="in_axes must be an int, None, or a tuple"):
            fnx.vmap(lambda d: d, in_axes=bad)
    with pytest.raises(TypeError, match="out_axes entries must be ints or None"):
        fnx.vmap(lambda x: x, out_axes=(0, True))
    with pytest.raises(TypeError, match="expected a callable value, got 3"):
        fnx.vmap(3)
    x = fnp.ones((2, 3))
    np.testing.assert_allclose(fnx.vmap(lambda d: d["a"] * 2.0, in_axes=({"a": 0},))({"a": x}), 2.0 * np.ones((2, 3)))

    def named(v):
        """A doc."""
        return v
    vmapped = fnx.vmap(named)
    assert (vmapped.__name__, vmapped.__doc__, vmapped.__wrapped__) == ("named", "A doc.", named)


def test_collectives_inside_cond_checkpoint_and_custom_functions_reach_the_named_vmap():
    """A branch, a checkpointed function or a custom function is batched by a vmap of its own; it runs under
    the enclosing vmap's axis name, so psum and its kin sum over that vmap's examples (JAX's values)."""
    lax = fnx.lax
    x, p = arr([1.0, 2.0, 4.0]), fnp.array([True, False, True])
    cases = {
        "cond": (fnx.vmap(lambda p, x: lax.cond(p, lambda v: lax.psum(v, "i"), lambda v: v * 0 + 100, x),
                          axis_name="i")(p, x), [7, 100, 7]),
        "switch": (fnx.vmap(lambda i, x: lax.switch(i, [lambda v: lax.pmax(v, "i"), lambda v: -v], x),
                            axis_name="i")(fnp.array([0, 1, 0]), x), [4, -2, 4]),
        "checkpoint": (fnx.vmap(fnx.checkpoint(lambda x: lax.psum(x, "i") * x), axis_name="i")(x), [7, 14, 28]),
        "pmean": (fnx.vmap(fnx.checkpoint(lambda x: lax.pmean(x, "i")), axis_name="i")(x), [7 / 3] * 3),
        "axis_index": (fnx.vmap(fnx.checkpoint(lambda x: x + lax.axis_index("i")), axis_name="i")(x), [1, 3, 6]),
        "grad": (fnx.grad(lambda y: fnx.vmap(fnx.checkpoint(lambda x: lax.psum(x, "i") * x),
                                             axis_name="i")(y).sum())(x), [14, 14, 14]),
    }

    @fnx.custom_jvp
    def f(x):
        return lax.psum(x, "i") * x
    f.defjvp(lambda primals, tangents: (f(primals[0]), tangents[0]))
    cases["custom_jvp"] = (fnx.vmap(f, axis_name="i")(x), [7, 14, 28])
    for name, (got, want) in cases.items():
        assert type(got) is fnx.Array, name
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12, err_msg=name)


def test_an_index_out_of_bounds_under_vmap_is_named_as_outside_it():
    a = fnp.ones((3, 4))
    with pytest.raises(IndexError, match="getitem: index 7 is out of bounds for axis 0 with size 4"):
        fnx.vmap(lambda a, i: a[i])(a, fnp.array([7, -9, 0]))
    with pytest.raises(IndexError, match=r"x.at\[idx\].set: index 7 is out of bounds"):
        fnx.vmap(lambda a, i: a.at[i].set(9.0))(a, fnp.array([7, 1, 0]))
    np.testing.assert_allclose(fnx.vmap(lambda a, i: a.at[i].get(mode="clip"))(a, fnp.array([7, 1, 0])), [1, 1, 1])
