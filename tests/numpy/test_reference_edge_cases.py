"""Edge cases where fnx.numpy once differed from NumPy / SciPy: complex norms and Hermitian solvers, the two
traces, arg-reductions over a non-empty axis of an empty array, logsumexp of nothing."""
import numpy as np
import pytest
import scipy.special

import fnx.numpy as fnp
import fnx.scipy.special as fsp
from fnx.testing import check_grads

H = np.array([[2.0, 1j, 0.5], [-1j, 3.0, 0.25 - 1j], [0.5, 0.25 + 1j, 4.0]])


@pytest.mark.parametrize("x", [np.array([3j, 4.0]), np.array([1j, 1j]), H, np.array([[1 + 2j, 3j], [0, -1]])])
def test_norms_of_complex_arrays_are_real_magnitudes(x):
    ours = fnp.linalg.norm(fnp.asarray(x))
    assert ours.dtype.kind == "f"
    np.testing.assert_allclose(np.asarray(ours), np.linalg.norm(x), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(fnp.linalg.vector_norm(fnp.asarray(x))), np.linalg.vector_norm(x),
                               rtol=1e-12)
    if x.ndim == 2:
        np.testing.assert_allclose(np.asarray(fnp.linalg.norm(fnp.asarray(x), "fro")), np.linalg.norm(x, "fro"))
        np.testing.assert_allclose(np.asarray(fnp.linalg.matrix_norm(fnp.asarray(x))), np.linalg.matrix_norm(x))


def test_hermitian_solvers_keep_the_imaginary_part():
    np.testing.assert_allclose(np.asarray(fnp.linalg.eigvalsh(fnp.asarray(H))), np.linalg.eigvalsh(H), rtol=1e-12)
    w, v = (np.asarray(a) for a in fnp.linalg.eigh(fnp.asarray(H)))
    np.testing.assert_allclose(v @ np.diag(w) @ v.conj().T, H, atol=1e-12)
    low = np.asarray(fnp.linalg.cholesky(fnp.asarray(H)))
    np.testing.assert_allclose(low, np.linalg.cholesky(H), atol=1e-12)


def test_lstsq_residuals_of_complex_systems():
    a, b = np.array([[1.0], [1.0]]), np.array([1j, -1j])
    np.testing.assert_allclose(np.asarray(fnp.linalg.lstsq(fnp.asarray(a), fnp.asarray(b))[1]),
                               np.linalg.lstsq(a, b)[1])


def test_the_two_traces():
    x = np.arange(18.0).reshape(2, 3, 3)
    np.testing.assert_array_equal(np.asarray(fnp.linalg.trace(fnp.asarray(x))), np.linalg.trace(x))
    np.testing.assert_array_equal(np.asarray(fnp.linalg.trace(fnp.asarray(x), offset=1)), np.linalg.trace(x, offset=1))
    np.testing.assert_array_equal(np.asarray(fnp.trace(fnp.asarray(x))), np.trace(x))
    np.testing.assert_array_equal(np.asarray(fnp.asarray(x).trace()), x.trace())


@pytest.mark.parametrize("name", ["argmax", "argmin", "nanargmax", "nanargmin"])
def test_arg_reductions_over_a_nonempty_axis_of_an_empty_array(name):
    for keepdims in (False, True):
        out = getattr(fnp, name)(fnp.zeros((0, 3)), axis=1, keepdims=keepdims)
        assert out.shape == getattr(np, name)(np.zeros((0, 3)), axis=1, keepdims=keepdims).shape
    for axis in (None, 0):
        with pytest.raises(ValueError):
            getattr(fnp, name)(fnp.zeros((0, 3)), axis=axis)


def test_logsumexp_of_an_empty_sum_is_minus_infinity():
    assert float(fsp.logsumexp(fnp.zeros(0))) == scipy.special.logsumexp(np.zeros(0)) == -np.inf
    out = fsp.logsumexp(fnp.zeros((2, 0)), axis=1, keepdims=True)
    assert out.shape == (2, 1) and np.all(np.asarray(out) == -np.inf)
    assert fsp.logsumexp(fnp.zeros((0, 2)), axis=1).shape == (0,)


def test_descending_sorts_match_jax():
    x = np.array([[3.0, 1.0, np.nan, 3.0, 2.0, 1.0], [0.0, 0.0, 5.0, -1.0, 5.0, 2.0]])
    for axis in (-1, 0, None):
        got = np.asarray(fnp.argsort(fnp.asarray(x), axis=axis, descending=True, stable=True))
        s = np.asarray(fnp.sort(fnp.asarray(x), axis=axis, descending=True))
        flat = x.ravel() if axis is None else x
        ax = -1 if axis is None else axis
        np.testing.assert_array_equal(s, np.flip(np.sort(flat, axis=ax), axis=ax)[..., :] if axis is not None
                                      else np.concatenate([[np.nan], np.sort(flat)[:-1][::-1]]))
        np.testing.assert_array_equal(np.take_along_axis(flat, got, axis=ax), s)
        jnp = pytest.importorskip("jax.numpy")
        np.testing.assert_array_equal(got, np.asarray(jnp.argsort(x, axis=axis, descending=True, stable=True)))


def test_shape_functions_take_numpys_argument_names():
    x = fnp.ones((2, 3))
    assert fnp.reshape(a=fnp.ones(6), shape=(2, 3)).shape == (2, 3)
    assert fnp.transpose(a=x, axes=(1, 0)).shape == np.transpose(a=np.ones((2, 3)), axes=(1, 0)).shape
    assert fnp.ravel(a=x).shape == (6,) and fnp.squeeze(a=fnp.ones((1, 3)), axis=0).shape == (3,)
    assert fnp.expand_dims(a=x, axis=0).shape == (1, 2, 3)
    assert fnp.moveaxis(a=x, source=0, destination=1).shape == (3, 2)
    assert fnp.swapaxes(a=x, axis1=0, axis2=1).shape == (3, 2)
    assert fnp.broadcast_to(array=fnp.ones(3), shape=(2, 3)).shape == np.broadcast_to(array=np.ones(3), shape=(2, 3)).shape
    assert fnp.empty_like(prototype=x).shape == (2, 3)


# ----- found by running NumPy's own docstring examples through fnx.numpy -----------------------------

def test_a_range_makes_an_array():
    np.testing.assert_array_equal(np.asarray(fnp.array(range(6))), np.array(range(6)))
    assert fnp.asarray(range(1, 10, 3)).dtype == np.int64
    assert np.asarray(fnp.asarray(range(3), dtype="float32")).tolist() == [0.0, 1.0, 2.0]


def test_ufuncs_take_numpys_dtype_keyword():
    x = np.array([-1.0, 4.0])
    for fn in ("power", "float_power"):
        got = getattr(fnp, fn)(fnp.asarray(x), 1.5, dtype="complex128")
        want = getattr(np, fn)(x, 1.5, dtype="complex128")
        assert got.dtype == want.dtype
        np.testing.assert_allclose(np.asarray(got), want, atol=1e-15)
    assert fnp.add(fnp.arange(3), 1, dtype="float32").dtype == np.float32
    assert fnp.sqrt(fnp.asarray([4, 9]), dtype="float32").tolist() == [2.0, 3.0]
    with pytest.raises(TypeError, match="cannot cast an input from float64 to int32"):
        fnp.add(fnp.asarray([1.5], dtype="float64"), 1, dtype="int32")
    with pytest.raises(TypeError, match="float_power: dtype must be float64 or complex128"):
        fnp.float_power(fnp.asarray(x), 2, dtype="float32")


def test_pad_takes_a_dict_of_widths():
    a = np.arange(6).reshape(2, 3)
    for widths in ({1: (1, 2)}, {-1: (1, 2), 0: 3}, {0: 1}):
        for mode in ("constant", "edge", "reflect"):
            np.testing.assert_array_equal(np.asarray(fnp.pad(fnp.asarray(a), widths, mode=mode)),
                                          np.pad(a, widths, mode=mode))
    with pytest.raises(IndexError, match="axis 2 is out of bounds"):
        fnp.pad(fnp.asarray(a), {2: 1})


def test_average_weights_along_a_tuple_of_axes():
    a = np.arange(8.0).reshape(2, 2, 2)
    w = np.array([[0.25, 0.75], [1.0, 0.5]])
    for axis in ((0, 1), (0, 2), (2, 0), (-1, 0)):
        np.testing.assert_allclose(np.asarray(fnp.average(fnp.asarray(a), axis=axis, weights=fnp.asarray(w))),
                                   np.average(a, axis=axis, weights=w))
    with pytest.raises(TypeError, match="give the axis"):  # NumPy's TypeError when the axis is missing
        fnp.average(fnp.arange(6.0).reshape(3, 2), weights=fnp.asarray([0.25, 0.75]))
    with pytest.raises(ValueError, match="do not fit"):
        fnp.average(fnp.asarray(a), axis=(0, 1), weights=fnp.asarray([0.25, 0.75]))
    check_grads(lambda v: fnp.average(fnp.asarray(a), axis=(2, 0), weights=v), (fnp.asarray(w),), order=1)


def test_flat_reads_as_numpys_flat_iterator():
    a = np.arange(6).reshape(2, 3)
    x = fnp.asarray(a)
    assert int(x.flat[4]) == a.flat[4] and list(x.flat) == list(a.flat)
    np.testing.assert_array_equal(np.asarray(x.flat[[1, 4]]), a.flat[[1, 4]])
    assert int(x.flat[fnp.argmax(x)]) == 5


@pytest.mark.parametrize("name,values,kw", [
    ("gcd", [15, 25, 35], {}), ("lcm", [3, 4, 6], {}), ("gcd", [[4, 6], [8, 10]], {"axis": 1}),
    ("logaddexp", [0.0, 1.0, 2.0], {}), ("bitwise_or", [1, 2, 4], {}), ("logical_xor", [True, True, False], {}),
    ("fmax", [1.0, np.nan, 3.0], {}), ("gcd", [[1, 2, 3], [4, 5, 6]], {"axis": 0, "keepdims": True}),
    ("bitwise_xor", list(range(1, 8)), {}), ("gcd", [[2, 4], [6, 8]], {"axis": None, "keepdims": True})])
def test_associative_ufuncs_reduce_as_numpys(name, values, kw):
    values = np.asarray(values)  # NumPy's dtypes (float64), not fnx's default float
    want = getattr(np, name).reduce(values, **kw)
    got = getattr(fnp, name).reduce(fnp.asarray(values), **kw)
    assert np.asarray(got).shape == np.shape(want) and np.asarray(got).dtype == np.asarray(want).dtype
    np.testing.assert_allclose(np.asarray(got), want, equal_nan=True)


def test_a_folded_reduce_differentiates():
    check_grads(fnp.logaddexp.reduce, (fnp.asarray([0.0, 1.0, 2.0, -1.0, 0.5], dtype="float64"),), order=2)
