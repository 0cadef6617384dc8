"""JAX idioms found by porting JAX programs to fnx: each as JAX documents it."""
import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx.errors import DTypeError, ShapeError
from fnx.flatten_util import ravel_pytree


def test_ravel_pytree_round_trips_shapes_and_dtypes():
    tree = {"a": fnp.arange(3, dtype="int32"), "b": (fnp.ones((2, 2)), fnp.zeros(()))}
    flat, unravel = ravel_pytree(tree)
    assert flat.shape == (8,) and flat.dtype == np.float64  # int32 with float32: NumPy's common dtype
    back = unravel(flat)
    assert back["a"].dtype == np.int32 and back["b"][0].shape == (2, 2) and back["b"][1].shape == ()
    assert back["a"].tolist() == [0, 1, 2]
    g = fnx.grad(lambda v: fnp.sum(unravel(v)["b"][0] ** 2))(flat)
    assert g.tolist() == [0, 0, 0, 2, 2, 2, 2, 0]
    with pytest.raises(ShapeError, match="expected a vector of shape \\(8,\\), got \\(7,\\)"):
        unravel(flat[:7])
    with pytest.raises(DTypeError, match="expected a vector of dtype float64, got float32"):
        unravel(flat.astype("float32"))
    empty, unravel_empty = ravel_pytree([])
    assert empty.shape == (0,) and unravel_empty(empty) == []
    pytest.importorskip("jax")
    from jax.flatten_util import ravel_pytree as jax_ravel
    ours = ravel_pytree({"w": np.ones((2, 3), np.float32), "b": np.arange(2.0, dtype=np.float32)})[0]
    theirs = jax_ravel({"w": np.ones((2, 3), np.float32), "b": np.arange(2.0, dtype=np.float32)})[0]
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_typing_names():
    import fnx.typing
    assert fnx.Array in fnx.typing.ArrayLike.__args__ and float in fnx.typing.ArrayLike.__args__


def test_control_flow_returns_arrays():
    assert isinstance(fnx.lax.cond(True, lambda: 1.0, lambda: 2.0), fnx.Array)
    assert fnx.lax.switch(1, [lambda: 1, lambda: 2]).tolist() == 2
    carry, _ = fnx.lax.scan(lambda c, _: (c + 1, None), 0, None, length=3)
    assert isinstance(carry, fnx.Array) and carry.tolist() == 3


def test_while_and_fori_loops_under_vmap_run_each_example_to_its_end():
    out = fnx.vmap(lambda v: fnx.lax.while_loop(lambda s: s < 100.0, lambda s: s * 2.0, v))(fnp.array([1.0, 30.0]))
    assert out.tolist() == [128.0, 120.0]
    sums = fnx.vmap(lambda n: fnx.lax.fori_loop(0, n, lambda i, c: c + i, 0))(fnp.array([2, 5]))
    assert sums.tolist() == [1, 10]
    powers = fnx.vmap(lambda v: fnx.lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * v), (0, 1.0))[1])
    assert powers(fnp.array([2.0, 3.0])).tolist() == [8.0, 27.0]
    nested = fnx.vmap(fnx.vmap(lambda v: fnx.lax.while_loop(lambda s: s < 10.0, lambda s: s + v, 0.0)))
    assert nested(fnp.array([[1.0, 3.0], [4.0, 11.0]])).tolist() == [[10.0, 12.0], [12.0, 11.0]]
    # d/dv of v ** k, k the steps each example takes: 4 v^3 at 2 (2, 4, 8, 16), 3 v^2 at 3 (3, 9, 27)
    grads = fnx.vmap(fnx.grad(lambda v: fnx.lax.while_loop(lambda s: s < 10.0, lambda s: s * v, v)))
    assert grads(fnp.array([2.0, 3.0])).tolist() == [32.0, 27.0]
    # Inside jit the loop is one operation that runs when the compiled function does, as in JAX.
    assert float(fnx.jit(lambda v: fnx.lax.while_loop(lambda s: s < 100.0, lambda s: s * 2.0, v))(3.0)) == 192.0
    jax = pytest.importorskip("jax")
    theirs = jax.vmap(lambda v: jax.lax.while_loop(lambda s: s < 100.0, lambda s: s * 2.0, v))(np.array([1.0, 30.0]))
    assert out.tolist() == np.asarray(theirs).tolist()


def test_numpy_methods_ptp_and_searchsorted():
    x = fnp.array([1.0, 4.0, 2.0])
    assert float(x.ptp()) == 3.0 and x.ptp(axis=0, keepdims=True).shape == (1,)
    assert int(fnp.array([1.0, 2.0, 3.0]).searchsorted(2.5)) == 2


def test_masked_softmax_log_softmax_and_logsumexp_as_jax():
    x = fnp.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    keep = fnp.array([[True, False, True], [False, False, False]])
    s = fnx.nn.softmax(x, where=keep)
    np.testing.assert_allclose(np.asarray(s), [[0.11920292, 0, 0.88079708], [0, 0, 0]], rtol=1e-6)
    ls = np.asarray(fnx.nn.log_softmax(x, where=keep))
    np.testing.assert_allclose(ls[0, [0, 2]], [-2.126928, -0.126928], rtol=1e-5)
    assert np.isneginf(ls[0, 1]) and np.isneginf(ls[1]).all()
    lse = np.asarray(fnx.scipy.special.logsumexp(x, axis=1, where=keep))
    np.testing.assert_allclose(lse[0], 3.126928, rtol=1e-6)
    assert np.isneginf(lse[1]) and lse.dtype == np.float32
    # left-out elements neither raise the maximum nor leak inf or NaN
    assert float(fnx.scipy.special.logsumexp(fnp.array([-1000.0, 0.0]), where=fnp.array([True, False]))) == -1000.0
    assert float(fnx.scipy.special.logsumexp(fnp.array([1.0, np.nan]), where=fnp.array([True, False]))) == 1.0
    g = fnx.grad(lambda v: fnx.nn.softmax(v, where=keep[0])[0])(x[0])
    np.testing.assert_allclose(np.asarray(g), [0.10499357, 0, -0.10499357], rtol=1e-5)
    jax = pytest.importorskip("jax")
    np.testing.assert_allclose(np.asarray(s), np.asarray(jax.nn.softmax(np.asarray(x), where=np.asarray(keep))),
                               rtol=1e-6)


def test_jax_keyword_arguments():
    assert fnp.repeat(fnp.array([1, 2, 3]), [1, 2, 3], total_repeat_length=4).tolist() == [1, 2, 2, 3]
    assert fnp.repeat(fnp.array([1, 2, 3]), 2, total_repeat_length=8).tolist() == [1, 1, 2, 2, 3, 3, 3, 3]
    assert fnp.repeat(fnp.array([[1, 2], [3, 4]]), 2, axis=1, total_repeat_length=3).tolist() == [[1, 1, 2], [3, 3, 4]]
    a = np.array([[2.0, 1.0], [5.0, 3.0]])
    for uplo in ("L", "U"):
        np.testing.assert_allclose(np.asarray(fnp.linalg.eigh(fnp.asarray(a), uplo, symmetrize_input=False)[0]),
                                   np.linalg.eigh(a, UPLO=uplo)[0])
    np.testing.assert_allclose(np.asarray(fnp.linalg.eigh(fnp.asarray(a), None)[0]), np.linalg.eigh((a + a.T) / 2)[0])
    x = fnp.arange(7.0)
    assert fnx.lax.map(lambda v: v * 2, x, batch_size=3).tolist() == [0, 2, 4, 6, 8, 10, 12]
    assert fnx.lax.map(lambda d: fnp.sum(d["v"]), {"v": fnp.ones((5, 3))}, batch_size=2).tolist() == [3.0] * 5
    with pytest.raises(ValueError, match="batch_size must be positive"):
        fnx.lax.map(lambda v: v, x, batch_size=0)
    m = fnp.arange(12).reshape(3, 4)
    shuffled = fnx.random.permutation(fnx.random.key(0), m, axis=1, independent=True)
    assert [sorted(r) for r in shuffled.tolist()] == m.tolist()
    orders = {tuple(np.argsort(r) % 4) for r in np.asarray(shuffled)}
    assert len(orders) > 1  # each row its own order (three rows sharing one would be 1 in 36)


def test_reshape_and_ravel_in_fortran_order():
    a = np.arange(24).reshape(2, 3, 4)
    for shape in [(4, 6), (6, -1), (24,), (3, 2, 4)]:
        np.testing.assert_array_equal(np.asarray(fnp.reshape(fnp.asarray(a), shape, order="F")),
                                      np.reshape(a, shape, order="F"))
    for order in "CFAK":
        np.testing.assert_array_equal(np.asarray(fnp.ravel(fnp.asarray(a), order)), np.ravel(a, order))
    assert fnp.asarray(a).reshape(4, 6, order="F").tolist() == np.reshape(a, (4, 6), order="F").tolist()
    with pytest.raises(ShapeError, match=r"cannot reshape an array of shape \(2, 3, 4\) into \(5, 5\) \(order='F'\)"):
        fnp.reshape(fnp.asarray(a), (5, 5), order="F")
    with pytest.raises(ValueError, match="order must be 'C', 'F' or 'A'"):
        fnp.reshape(fnp.asarray(a), (24,), order="X")
    fnx.testing.check_grads(lambda x: fnp.reshape(x, (4, 6), order="F"), (fnp.asarray(a.astype(float)),), order=1)


def test_roll_by_a_traced_or_batched_shift():
    x = np.arange(10.0)
    for s in (3, -13, 0):
        np.testing.assert_array_equal(np.asarray(fnx.jit(lambda v, k: fnp.roll(v, k))(fnp.asarray(x), s)),
                                      np.roll(x, s))
    m = np.arange(12.0).reshape(3, 4)
    got = fnx.jit(lambda v, k: fnp.roll(v, k, axis=(0, 1)))(fnp.asarray(m), fnp.array([1, 2]))
    np.testing.assert_array_equal(np.asarray(got), np.roll(m, (1, 2), axis=(0, 1)))
    np.testing.assert_array_equal(np.asarray(fnx.jit(lambda v, k: fnp.roll(v, k))(fnp.asarray(m), 5)), np.roll(m, 5))
    rows = fnx.vmap(lambda k: fnp.roll(fnp.asarray(x), k))(fnp.array([1, 2]))
    np.testing.assert_array_equal(np.asarray(rows), [np.roll(x, 1), np.roll(x, 2)])
    g = fnx.grad(fnx.jit(lambda v, k: fnp.sum(fnp.roll(v, k) * fnp.arange(10.0))))(fnp.asarray(x), 3)
    np.testing.assert_array_equal(np.asarray(g), np.roll(np.arange(10.0), -3))


def test_named_scope_and_compile_time_evaluation():
    with fnx.named_scope("block"):
        assert (fnp.ones(2) * 2).tolist() == [2.0, 2.0]
    with pytest.raises(TypeError, match="named_scope: name must be a str"):
        with fnx.named_scope(3):
            pass

    @fnx.jit
    def scaled(x):
        with fnx.ensure_compile_time_eval():
            c = fnp.arange(3.0).sum()
            assert float(c) == 3.0  # concrete inside jit: no input reaches it
        return x * c
    assert scaled(fnp.ones(2)).tolist() == [3.0, 3.0]
