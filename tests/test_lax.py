"""fnx.lax: jax.lax's control flow (scan, map, fori_loop, while_loop, cond, switch) with JAX's semantics,
under grad, vmap and jit; against jax itself where it is installed."""
import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx.errors import ShapeError, TreeError

X = np.arange(1.0, 6.0)


def _step(c, x):
    c = c * 0.5 + fnp.sin(x)
    return c, {"y": c * 2, "x": x}


def _scan_reference(xs, reverse=False):
    c, ys = 1.0, {}
    for i in (reversed(range(len(xs))) if reverse else range(len(xs))):
        c = c * 0.5 + np.sin(xs[i])
        ys[i] = c * 2
    return c, np.array([ys[i] for i in range(len(xs))])


@pytest.mark.parametrize("reverse", [False, True])
def test_scan_stacks_outputs_in_the_order_of_xs(reverse):
    carry, ys = fnx.lax.scan(_step, 1.0, fnp.asarray(X), reverse=reverse)
    want_carry, want_ys = _scan_reference(X, reverse)
    np.testing.assert_allclose(np.asarray(carry), want_carry)
    np.testing.assert_allclose(np.asarray(ys["y"]), want_ys)
    np.testing.assert_array_equal(np.asarray(ys["x"]), X)


def test_scan_differentiates_and_handles_length_and_empty_inputs():
    from fnx.testing import check_grads
    check_grads(lambda xs: fnx.lax.scan(_step, 1.0, xs)[1]["y"].sum(), (fnp.asarray(X),), order=2)
    carry, ys = fnx.lax.scan(lambda c, _: (c + 1, c * 2), 0, None, length=3)
    assert carry == 3 and np.asarray(ys).tolist() == [0, 2, 4]
    carry, ys = fnx.lax.scan(lambda c, x: (c, x * 2), 0.0, fnp.zeros((0, 3)))
    assert ys.shape == (0, 3)
    with pytest.raises(ShapeError, match="scan"):
        fnx.lax.scan(lambda c, x: (c, x), 0.0, {"a": fnp.zeros(3), "b": fnp.zeros(4)})
    with pytest.raises(ValueError, match="length"):
        fnx.lax.scan(lambda c, x: (c, x), 0.0, None)
    with pytest.raises(TypeError, match="scan: f must return a carry of the structure it was given"):
        fnx.lax.scan(lambda c, x: ((c, c), x), 0.0, fnp.zeros(2))
    np.testing.assert_array_equal(np.asarray(fnx.lax.map(lambda r: r.sum(), fnp.ones((3, 2)))), [2.0, 2.0, 2.0])


def test_loops():
    assert fnx.lax.fori_loop(0, 5, lambda i, v: v * 2 + i, 1.0) == 58.0
    assert fnx.lax.while_loop(lambda v: v < 100, lambda v: v * 3, 1) == 243
    g = fnx.grad(lambda x: fnx.lax.fori_loop(0, 3, lambda i, v: v * x, 1.0))(fnp.asarray(2.0))
    assert float(g) == 12.0  # d/dx x**3 at 2
    g = fnx.grad(lambda x: fnx.lax.while_loop(lambda v: v < 10, lambda v: v * x, x))(fnp.asarray(2.0))
    assert float(g) == 4 * 2.0 ** 3  # x**4 (2, 4, 8, 16): d/dx = 4 x**3
    # Traced bounds (inside jit) run as a while_loop, as in JAX (tests/numpy/test_control_flow.py).
    assert int(fnx.jit(lambda n: fnx.lax.fori_loop(0, n, lambda i, v: v + 1, 0))(fnp.asarray(3))) == 3


def test_cond_and_switch_run_one_branch_when_concrete_and_select_when_batched():
    ran = []

    def branch(name, scale):
        def fn(x):
            ran.append(name)
            return x * scale
        return fn
    assert float(fnx.lax.cond(fnp.asarray(2.0) > 1, branch("t", 10), branch("f", -1), fnp.asarray(2.0))) == 20
    assert set(ran) == {"t", "f"} and ran[-1] == "t"  # both traced (checked to agree, as JAX), the taken one run
    with pytest.raises(TypeError, match="the branches must return the same shapes and dtypes"):
        fnx.lax.cond(True, lambda x: x, lambda x: x.astype("int32"), fnp.ones(2))  # a known predicate too
    with pytest.raises(TreeError, match="same structure"):
        fnx.lax.switch(0, [lambda x: x, lambda x: (x, x)], fnp.ones(2))
    xs = fnp.asarray([-1.0, 2.0, -3.0, 4.0])
    out = fnx.vmap(lambda v: fnx.lax.cond(v > 0, lambda u: u * 10, lambda u: -u, v))(xs)
    np.testing.assert_array_equal(np.asarray(out), [1.0, 20.0, 3.0, 40.0])
    out = fnx.jit(lambda v: fnx.lax.cond(v.sum() > 0, lambda u: u * 10, lambda u: -u, v))(xs)
    np.testing.assert_array_equal(np.asarray(out), [-10.0, 20.0, -30.0, 40.0])
    branches = [lambda u: u, lambda u: u * 2, lambda u: u * 3]
    out = fnx.vmap(lambda i, v: fnx.lax.switch(i, branches, v))(fnp.asarray([0, 1, 2, 5]), xs)
    np.testing.assert_array_equal(np.asarray(out), [-1.0, 4.0, -9.0, 12.0])  # out-of-range indices are clamped
    assert fnx.lax.switch(7, [lambda: 1, lambda: 2]) == 2 and fnx.lax.switch(-3, [lambda: 1, lambda: 2]) == 1
    g = fnx.grad(lambda v: fnx.lax.cond(v > 0, fnp.sin, fnp.cos, v))(fnp.asarray(1.0))
    np.testing.assert_allclose(float(g), np.cos(1.0), rtol=1e-6)
    with pytest.raises(TreeError, match="cond"):
        fnx.vmap(lambda v: fnx.lax.cond(v > 0, lambda u: u, lambda u: (u, u), v))(xs)
    with pytest.raises(ShapeError, match="cond"):
        fnx.lax.cond(fnp.ones(2) > 0, lambda: 1, lambda: 0)


def test_select_and_clamp():
    np.testing.assert_array_equal(np.asarray(fnx.lax.select(fnp.asarray([True, False]), fnp.ones(2), fnp.zeros(2))),
                                  [1.0, 0.0])
    # a scalar pred chooses one case whole, as jax.lax.select's does; any other shape must be the cases'
    np.testing.assert_array_equal(np.asarray(fnx.lax.select(fnp.asarray(False), fnp.ones(2), fnp.zeros(2))), [0., 0.])
    np.testing.assert_array_equal(np.asarray(fnx.jit(fnx.lax.select)(True, fnp.ones(2), fnp.zeros(2))), [1., 1.])
    with pytest.raises(ShapeError, match="select"):
        fnx.lax.select(fnp.asarray([True]), fnp.ones(2), fnp.zeros(2))
    np.testing.assert_array_equal(np.asarray(fnx.lax.clamp(0.0, fnp.asarray([-1.0, 0.5, 2.0]), 1.0)), [0.0, 0.5, 1.0])


def test_against_jax():
    jax = pytest.importorskip("jax")
    x = X.astype(np.float32)

    def step(lax, np_):
        def fn(c, xi):
            c = c * 0.5 + np_.sin(xi)
            return c, c * 2
        return fn
    for reverse in (False, True):
        want = jax.lax.scan(step(jax.lax, jax.numpy), 1.0, x, reverse=reverse)
        got = fnx.lax.scan(step(fnx.lax, fnp), 1.0, fnp.asarray(x), reverse=reverse)
        np.testing.assert_allclose(np.asarray(got[1]), np.asarray(want[1]), rtol=1e-6)
    want = jax.grad(lambda v: jax.lax.scan(step(jax.lax, jax.numpy), 1.0, v)[1].sum())(x)
    got = fnx.grad(lambda v: fnx.lax.scan(step(fnx.lax, fnp), 1.0, v)[1].sum())(fnp.asarray(x))
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5)
    xs = np.array([-1.0, 2.0, -3.0, 4.0], np.float32)
    want = jax.vmap(lambda v: jax.lax.cond(v > 0, lambda u: u * 10, lambda u: -u, v))(xs)
    got = fnx.vmap(lambda v: fnx.lax.cond(v > 0, lambda u: u * 10, lambda u: -u, v))(fnp.asarray(xs))
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def test_loop_values_are_arrays_of_a_fixed_type_as_in_jax():
    out = fnx.lax.fori_loop(0, 5, lambda i, total: total + i, 0)
    assert isinstance(out, fnx.Array) and int(out) == 10
    carry = fnx.lax.while_loop(lambda c: c[0] < 10, lambda c: (c[0] * 2, c[1] + 1.0), (1, 0.0))
    assert all(isinstance(c, fnx.Array) for c in carry) and (int(carry[0]), float(carry[1])) == (16, 4.0)
    with pytest.raises(TypeError, match="leaf 0 went in as float32\\[\\] and came out as float32\\[2\\]"):
        fnx.lax.fori_loop(0, 2, lambda i, v: fnp.stack([v, v]), 1.0)
    with pytest.raises(TypeError, match="structure"):
        fnx.lax.while_loop(lambda v: True, lambda v: (v, v), 1.0)
    jax = pytest.importorskip("jax")
    theirs = jax.lax.fori_loop(0, 5, lambda i, v: v * 2 + i, 1.0)
    ours = fnx.lax.fori_loop(0, 5, lambda i, v: v * 2 + i, 1.0)
    assert ours.dtype == theirs.dtype and float(ours) == float(theirs)


def test_scan_sees_arrays_and_checks_the_carry_as_jax_does():
    from fnx.errors import CarryTypeError, DTypeError
    carry, ys = fnx.lax.scan(lambda c, x: (c.astype(fnp.float32) + x, c), 0.0, fnp.arange(3.0))
    assert float(carry) == 3.0 and ys.dtype == np.float32
    half = fnp.asarray(0.5, dtype="float16")
    assert fnx.lax.cond(True, lambda v: v * half, lambda v: v * half, 2).dtype == np.float16  # 2 stays weak
    xs = fnp.arange(3.0)
    for f in (lambda c, x: (fnp.ones(2), x), lambda c, x: (c.astype("float64"), x)):
        with pytest.raises(CarryTypeError, match="scan: f must return carry leaves of the shapes and dtypes"):
            fnx.lax.scan(f, fnp.zeros(()), xs)
        with pytest.raises(TypeError, match="scan: f must return carry leaves"):
            fnx.jit(lambda v: fnx.lax.scan(f, fnp.zeros(()), v))(xs)
    total, _ = fnx.lax.scan(lambda s, x: (s + x, None), 0, fnp.asarray([0.5, 1.0]))  # a weak 0 takes x's dtype
    assert total.dtype == np.float32 and float(total) == 1.5
    x = fnp.asarray([0.5, 1.0])
    assert fnx.lax.fori_loop(0, 2, lambda i, s: s + x[i], 0).dtype == np.float32  # JAX's float32, not float64
    assert fnx.lax.while_loop(lambda v: v < 10, lambda v: v + 1.0, 0).dtype == np.float32
    carry, ys = fnx.lax.scan(lambda c, _: (c + 0.5, c), 0, None, length=3)
    assert carry.dtype == ys.dtype == np.float32 and ys.tolist() == [0.0, 0.5, 1.0]
    with pytest.raises(DTypeError, match="switch: the index must be an integer, got float32"):
        fnx.lax.switch(fnp.asarray(1.0), [lambda v: v, lambda v: v], 10.0)
    empty = fnx.lax.associative_scan(fnp.add, fnp.zeros((2, 0)), axis=1)
    assert empty.shape == (2, 0)
    with pytest.raises(TypeError, match="grad requires a function with a scalar output"):
        fnx.grad(lambda v: v * 2)(fnp.ones(3))
    with pytest.raises(ShapeError):
        fnx.grad(lambda v: v * 2)(fnp.ones(3))


def test_loop_predicates_and_update_dtypes_are_checked_as_jax_checks_them():
    # jax.lax.while_loop: cond_fun must return a boolean scalar (checked eagerly too, not only under jit)
    for cond, init in ((lambda c: c, 5), (lambda c: c < 5, fnp.zeros(2))):
        with pytest.raises(TypeError, match="cond_fun must return a boolean scalar"):
            fnx.lax.while_loop(cond, lambda c: c + 1, init)
    assert int(fnx.lax.while_loop(lambda c: c < 5, lambda c: c + 1, 0)) == 5
    # dynamic_update_slice: the update has the operand's dtype (jax raises TypeError; fnx cast it silently)
    with pytest.raises(TypeError, match="same dtypes"):
        fnx.lax.dynamic_update_slice(fnp.zeros(5), fnp.ones(2, "int32"), (1,))
    np.testing.assert_array_equal(np.asarray(fnx.lax.dynamic_update_slice(fnp.zeros(4), fnp.ones(2), (1,))),
                                  [0., 1., 1., 0.])

