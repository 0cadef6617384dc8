"""The collectives of fnx.lax over a named vmap axis: values against NumPy written out, derivatives, nesting,
jit, and the registry cases of the psum and all_gather primitives. (Each expectation was also checked
against jax 0.10's jax.lax in a scratch script: same numbers for every call below.)"""
import numpy as np
import pytest
from hypothesis import strategies as st

import fnx
import fnx.numpy as fnp
from fnx import lax
from fnx.errors import AxisNameError, ShapeError
from .harness import Case, numpy_arrays, shapes


def _batched(min_dims=1):
    return st.tuples(numpy_arrays(shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=3)))


def _gather_args(tiled):
    def build(x):
        nd = x.ndim - 1 if tiled else x.ndim  # the per-example array has x.ndim - 1 axes
        return st.tuples(st.just(x), st.integers(-nd, nd - 1) if tiled else st.integers(-nd, nd - 1))
    return numpy_arrays(shapes(min_dims=2 if tiled else 1, max_dims=3, min_side=1, max_side=3)).flatmap(build)


def _gathered(x, axis, tiled):
    per = np.moveaxis(x, 0, axis % (x.ndim if not tiled else x.ndim - 1))
    if tiled:
        ax = axis % (x.ndim - 1)
        per = np.concatenate(list(x), axis=ax)
    return np.stack([np.sin(per)] * len(x))


CASES = [
    Case("psum", lambda x: fnx.vmap(lambda r: lax.psum(r * r, "i") * r, axis_name="i")(x),
         lambda x: (x * x).sum(0) * x, _batched()),
    Case("all_gather", lambda x, ax: fnx.vmap(lambda r: fnp.sin(lax.all_gather(r, "i", axis=ax)), axis_name="i")(x),
         lambda x, ax: _gathered(x, ax, False), _gather_args(False)),
    Case("all_gather", lambda x, ax: fnx.vmap(lambda r: fnp.sin(lax.all_gather(r, "i", axis=ax, tiled=True)),
                                              axis_name="i")(x),
         lambda x, ax: _gathered(x, ax, True), _gather_args(True), name="all_gather tiled"),
    # A value the named vmap does not batch, differentiated around it: the primitives' own impl, JVP and VJP.
    Case("psum", lambda x: fnx.vmap(lambda _: lax.psum(fnp.sin(x), "i"), axis_name="i")(fnp.ones(3)),
         lambda x: np.stack([3 * np.sin(x)] * 3), st.tuples(numpy_arrays(shapes(max_dims=2))), name="psum shared"),
    Case("all_gather", lambda x: fnx.vmap(lambda _: lax.all_gather(fnp.sin(x), "i", axis=-1), axis_name="i")(
         fnp.ones(2)), lambda x: np.stack([np.stack([np.sin(x)] * 2, -1)] * 2),
         st.tuples(numpy_arrays(shapes(max_dims=2))), name="all_gather shared"),
    Case("all_gather", lambda x: fnx.vmap(lambda _: lax.all_gather(x * x, "i", tiled=True), axis_name="i")(
         fnp.ones(2)), lambda x: np.stack([np.concatenate([x * x] * 2)] * 2),
         st.tuples(numpy_arrays(shapes(min_dims=1, max_dims=2))), name="all_gather shared tiled"),
]

X = np.arange(6.0).reshape(3, 2) + 1


def test_reductions_across_the_examples():
    x = fnp.asarray(X)
    vm = lambda f: fnx.vmap(f, axis_name="i")  # noqa: E731
    np.testing.assert_allclose(vm(lambda r: r / lax.psum(r, "i"))(x), X / X.sum(0))
    np.testing.assert_allclose(vm(lambda r: r - lax.pmean(r, "i"))(x), X - X.mean(0))
    np.testing.assert_allclose(vm(lambda r: lax.pmax(r, "i") - lax.pmin(r, "i"))(x), np.ptp(X, 0)[None].repeat(3, 0))
    index = vm(lambda r: lax.axis_index("i"))(x)
    assert index.dtype == np.int32 and index.tolist() == [0, 1, 2]
    # A value the named vmap does not batch is the same in every example: psum counts it axis_size times.
    np.testing.assert_allclose(vm(lambda r: lax.psum(1.0, "i"))(x), [3.0, 3.0, 3.0])
    # Pytrees, one reduction per leaf.
    out = vm(lambda r: lax.psum({"a": r, "b": r[0]}, "i"))(x)
    np.testing.assert_allclose(out["b"], [9.0, 9.0, 9.0])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_all_gather_layouts(axis):
    x = fnp.asarray(X)
    got = fnx.vmap(lambda r: lax.all_gather(r, "i", axis=axis), axis_name="i")(x)
    np.testing.assert_array_equal(got, np.stack([np.moveaxis(X, 0, axis % 2)] * 3))
    tiled = fnx.vmap(lambda r: lax.all_gather(r, "i", tiled=True), axis_name="i")(x)
    np.testing.assert_array_equal(tiled, np.stack([X.reshape(-1)] * 3))


def test_gradients_follow_jax():
    x = fnp.asarray(X)
    # Inside vmap, psum's transpose is psum: each example's gradient sums every example's cotangent.
    g = fnx.vmap(fnx.grad(lambda r: lax.psum(fnp.sum(r ** 2), "i")), axis_name="i")(x)
    np.testing.assert_allclose(g, 2 * X * 3)
    g = fnx.grad(lambda x: fnp.sum(fnx.vmap(lambda r: lax.psum(r ** 2, "i"), axis_name="i")(x)))(x)
    np.testing.assert_allclose(g, 2 * X * 3)
    g = fnx.vmap(fnx.grad(lambda r: fnp.sum(lax.pmean(r ** 2, "i"))), axis_name="i")(x)
    np.testing.assert_allclose(g, 2 * X)
    g = fnx.grad(lambda x: fnp.sum(fnx.vmap(lambda r: lax.all_gather(r, "i")[2] * r, axis_name="i")(x)))(x)
    expected = np.broadcast_to(X[2], X.shape).copy()  # sum_b x_2 * x_b: x_2 for each row, plus sum_b x_b for row 2
    expected[2] += X.sum(0)
    np.testing.assert_allclose(g, expected)
    g = fnx.vmap(fnx.grad(lambda r: fnp.sum(lax.all_gather(r, "i", tiled=True) ** 3)), axis_name="i")(x)
    np.testing.assert_allclose(g, 3 * X ** 2 * 3)
    # A shared value gathered inside a per-example gradient (checked against jax: [[0, 0], [3, 3], [6, 6]]).
    w, xs = fnp.asarray(np.array([1.0, 2.0])), fnp.arange(3.0)
    g = fnx.vmap(lambda xb: fnx.grad(lambda w: fnp.sum(lax.all_gather(w, "i") * fnp.arange(3.0)[:, None] * xb))(w),
                 axis_name="i")(xs)
    np.testing.assert_allclose(g, [[0, 0], [3, 3], [6, 6]])
    g = fnx.vmap(lambda xb: fnx.grad(lambda w: fnp.sum(lax.psum(w, "i") * xb))(w), axis_name="i")(xs)
    np.testing.assert_allclose(g, np.full((3, 2), 3.0))


def test_nested_names_and_jit():
    y = np.arange(24.0).reshape(2, 3, 4)
    inner = lambda f: fnx.vmap(fnx.vmap(f, axis_name="j"), axis_name="i")  # noqa: E731
    np.testing.assert_allclose(inner(lambda r: r / lax.psum(r, "i"))(fnp.asarray(y)), y / y.sum(0))
    np.testing.assert_allclose(inner(lambda r: r / lax.psum(r, "j"))(fnp.asarray(y)), y / y.sum(1, keepdims=True))
    np.testing.assert_allclose(inner(lambda r: r / lax.psum(r, ("i", "j")))(fnp.asarray(y)),
                               y / y.sum((0, 1)))
    got = inner(lambda r: lax.all_gather(r, "i", axis=1))(fnp.asarray(y))
    np.testing.assert_array_equal(got, np.stack([[y[:, j, :].T for j in range(3)]] * 2))
    idx = inner(lambda r: lax.axis_index("i") * 10 + lax.axis_index("j"))(fnp.asarray(y))
    assert idx.tolist() == [[0, 1, 2], [10, 11, 12]]
    # The innermost vmap of a name is the one a collective sees.
    shadow = fnx.vmap(fnx.vmap(lambda r: lax.psum(r, "i"), axis_name="i"), axis_name="i")(fnp.asarray(y[:, :, 0]))
    np.testing.assert_allclose(shadow, np.broadcast_to(y[:, :, 0].sum(1, keepdims=True), (2, 3)))
    x = fnp.asarray(X)
    centred = X - X.mean(0)
    np.testing.assert_allclose(fnx.vmap(fnx.jit(lambda r: r - lax.pmean(r, "i")), axis_name="i")(x), centred)
    np.testing.assert_allclose(fnx.jit(fnx.vmap(lambda r: r - lax.pmean(r, "i"), axis_name="i"))(x), centred)
    jac = fnx.jacfwd(lambda v: fnx.vmap(lambda r: r * lax.psum(r, "i"), axis_name="i")(v))(x[:, 0])
    v = X[:, 0]
    np.testing.assert_allclose(jac, np.diag(np.full(3, v.sum())) + v[:, None])


def test_errors_name_the_axis():
    with pytest.raises(AxisNameError, match=r"psum: unbound axis name 'k'.*\['i'\]"):
        fnx.vmap(lambda r: lax.psum(r, "k"), axis_name="i")(fnp.ones(2))
    with pytest.raises(NameError, match="axis_index: unbound axis name 'i'"):
        lax.axis_index("i")
    with pytest.raises(ShapeError, match="all_gather: axis 3 is out of range"):
        fnx.vmap(lambda r: lax.all_gather(r, "i", axis=3), axis_name="i")(fnp.ones((2, 2)))
    with pytest.raises(ShapeError, match="tiled=True needs at least one axis"):
        fnx.vmap(lambda r: lax.all_gather(r, "i", tiled=True), axis_name="i")(fnp.ones(2))


def test_psum_of_a_python_number_is_a_weak_python_number_as_in_jax():
    # psum(1, axis) is the axis size; dividing float32 (or float16) data by it keeps their dtype, as JAX's weak type
    x = fnp.ones(4, dtype="float32")
    out = fnx.vmap(lambda v: v / fnx.lax.psum(1, "i"), axis_name="i")(x)
    assert out.dtype == np.float32 and out.tolist() == [0.25] * 4
    half = fnx.vmap(lambda v: v.astype("float16") * fnx.lax.psum(2.0, "i"), axis_name="i")(x)
    assert half.dtype == np.float16 and half.tolist() == [8.0] * 4
    assert fnx.jit(fnx.vmap(lambda v: v / fnx.lax.psum(1, "i"), axis_name="i"))(x).dtype == np.float32
