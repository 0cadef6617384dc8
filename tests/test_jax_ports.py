"""JAX idioms found by porting JAX programs to fnx: each as JAX documents it."""
import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx.errors import DTypeError, ShapeError, TracerError
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
    jax = pytest.importorskip("jax")
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
    with pytest.raises(TracerError, match="jit"):
        fnx.jit(lambda v: fnx.lax.while_loop(lambda s: s < 100.0, lambda s: s * 2.0, v))(3.0)
    jax = pytest.importorskip("jax")
    theirs = jax.vmap(lambda v: jax.lax.while_loop(lambda s: s < 100.0, lambda s: s * 2.0, v))(np.array([1.0, 30.0]))
    assert out.tolist() == np.asarray(theirs).tolist()


def test_numpy_methods_ptp_and_searchsorted():
    x = fnp.array([1.0, 4.0, 2.0])
    assert float(x.ptp()) == 3.0 and x.ptp(axis=0, keepdims=True).shape == (1,)
    assert int(fnp.array([1.0, 2.0, 3.0]).searchsorted(2.5)) == 2
