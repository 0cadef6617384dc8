"""The ufunc methods of fnx.numpy's binary functions: outer, reduce, accumulate, as numpy's."""
import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx.testing import check_grads

X = np.random.default_rng(0).normal(size=(4, 5))
B = np.random.default_rng(1).integers(0, 2, size=(4, 5)).astype(bool)


@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "maximum", "minimum", "power", "arctan2",
                                  "less", "equal", "logical_and", "hypot"])
def test_outer(name):
    a, b = np.abs(X[0]) + 0.5, np.abs(X[1:3]) + 0.5
    out = getattr(fnp, name).outer(fnp.asarray(a), fnp.asarray(b))
    want = getattr(np, name).outer(a, b)
    assert out.shape == want.shape and out.dtype == want.dtype
    np.testing.assert_allclose(np.asarray(out), want, rtol=1e-12)


@pytest.mark.parametrize("name", ["add", "multiply", "maximum", "minimum", "logical_and", "logical_or"])
@pytest.mark.parametrize("axis", [0, 1, -1, None, (0, 1)])
def test_reduce(name, axis):
    x = B if name.startswith("logical") else X
    for keepdims in (False, True):
        out = getattr(fnp, name).reduce(fnp.asarray(x), axis=axis, keepdims=keepdims)
        want = getattr(np, name).reduce(x, axis=axis, keepdims=keepdims)
        assert out.shape == np.shape(want) and out.dtype == np.asarray(want).dtype
        np.testing.assert_allclose(np.asarray(out), want, rtol=1e-12)
    assert fnp.add.reduce(fnp.asarray(X)).shape == (5,)  # axis 0 by default, unlike sum


@pytest.mark.parametrize("name", ["add", "multiply", "maximum", "minimum", "logical_and", "logical_or",
                                  "logical_xor", "bitwise_or", "fmax", "logaddexp"])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_accumulate(name, axis):
    x = B if name.startswith(("logical", "bitwise")) else X
    out = getattr(fnp, name).accumulate(fnp.asarray(x), axis=axis)
    want = getattr(np, name).accumulate(x, axis=axis)
    assert out.shape == want.shape and out.dtype == want.dtype
    np.testing.assert_allclose(np.asarray(out), want, rtol=1e-12)


def test_accumulate_is_differentiable_and_vmaps():
    x = fnp.asarray(X[0] * 3.0)
    check_grads(lambda v: fnp.maximum.accumulate(v), (x,), order=1)
    check_grads(lambda v: fnp.logaddexp.accumulate(v), (x,), order=2)
    batched = fnx.vmap(fnp.maximum.accumulate)(fnp.asarray(X))
    np.testing.assert_allclose(np.asarray(batched), np.maximum.accumulate(X, axis=1))
    jitted = fnx.jit(lambda v: fnp.minimum.accumulate(v))(fnp.asarray(X))
    np.testing.assert_allclose(np.asarray(jitted), np.asarray(fnp.minimum.accumulate(fnp.asarray(X))))


def test_matches_jax_numpy():
    jnp = pytest.importorskip("jax.numpy")
    np.testing.assert_allclose(np.asarray(fnp.maximum.accumulate(fnp.asarray(X.astype(np.float32)))),
                               np.asarray(jnp.maximum.accumulate(X.astype(np.float32))))
    np.testing.assert_allclose(np.asarray(fnp.add.outer(fnp.arange(3), fnp.arange(4))),
                               np.asarray(jnp.add.outer(jnp.arange(3), jnp.arange(4))))


@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "minimum", "maximum"])
def test_at_with_inplace_false_as_jax(name):
    a, idx, b = np.arange(4.0) + 1, np.array([0, 0, 2]), np.array([2.0, 3.0, 5.0])
    expected = a.copy()
    getattr(np, name).at(expected, idx, b)  # NumPy's in-place form: repeated indices apply again
    got = getattr(fnp, name).at(fnp.asarray(a), idx, fnp.asarray(b), inplace=False)
    np.testing.assert_array_equal(np.asarray(got), expected)
    with pytest.raises(ValueError, match="inplace=False"):
        getattr(fnp, name).at(fnp.asarray(a), idx, fnp.asarray(b))
    if name == "add":
        g = fnx.grad(lambda v: fnp.sum(fnp.add.at(fnp.zeros(4), idx, v, inplace=False) ** 2))(fnp.asarray(b))
        np.testing.assert_allclose(np.asarray(g), [10.0, 10.0, 10.0])  # two entries into slot 0: 2 * (2 + 3)
