"""fnp.float32 and friends: dtypes wherever numpy expects one, and callable like jnp.float32 / np.float32."""
import numpy as np
import pytest

import fnx
import fnx.numpy as fnp

NAMES = ["bool_", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32",
         "float64", "complex64", "complex128"]


@pytest.mark.parametrize("name", NAMES)
def test_a_scalar_type_is_its_dtype(name):
    t, want = getattr(fnp, name), np.dtype(name)
    assert np.dtype(t) == want and t == want and want == t and t == name and hash(t) == hash(want)
    assert fnp.zeros(2, t).dtype == want and fnp.asarray([1, 0], dtype=t).dtype == want
    assert fnp.ones(3).astype(t).dtype == want
    assert t.itemsize == want.itemsize and t.kind == want.kind
    assert {want: 1}[t] == 1


@pytest.mark.parametrize("name", NAMES)
def test_calling_a_scalar_type_converts_like_numpy(name):
    for value in (1.5, [1.7, -2.2, 0.0], np.array([3, 0, 2], dtype=np.int16)):
        if name.startswith("uint") and np.min(value) < 0:
            continue
        out = getattr(fnp, name)(value)
        want = getattr(np, name)(value) if np.ndim(value) == 0 else np.asarray(value).astype(name)
        assert isinstance(out, fnx.Array) and out.dtype == np.dtype(name)
        np.testing.assert_array_equal(np.asarray(out), want)


def test_a_python_int_out_of_range_is_an_overflow_error_as_in_numpy():
    for name, value in (("uint8", 300), ("uint8", -1), ("int8", -129), ("int16", 2 ** 15)):
        with pytest.raises(OverflowError, match="out of bounds"):
            getattr(np, name)(value)  # the reference: NumPy 2 refuses rather than wrapping
        with pytest.raises(OverflowError, match="out of bounds"):
            getattr(fnp, name)(value)
    assert int(fnp.uint8(255)) == 255 and int(fnp.int8(-128)) == -128


def test_called_on_a_traced_value_it_is_a_differentiable_cast():
    assert float(fnx.grad(lambda x: fnp.float64(x) * 3.0)(fnp.float32(2.0))) == 3.0
    assert fnx.vmap(fnp.float16)(fnp.ones((2, 3))).dtype == np.float16
    assert np.finfo(fnp.float32).eps == np.finfo(np.float32).eps and fnp.issubdtype(fnp.float32, fnp.floating)


def test_matches_jax_numpy():
    jnp = pytest.importorskip("jax.numpy")
    for name in ("float32", "int32", "float16", "bool_", "uint8"):
        ours, theirs = getattr(fnp, name)([0.0, 1.5, 2.7]), getattr(jnp, name)(np.array([0.0, 1.5, 2.7]))
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    assert repr(fnp.float32) == repr(jnp.float32).replace("jax", "fnx")
