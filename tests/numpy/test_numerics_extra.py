"""nanprod/nancumsum/nancumprod, trapezoid, ediff1d, window functions and jax.numpy's dtype aliases."""
import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx.errors import ShapeError
from fnx.testing import check_grads

X = np.array([[1., np.nan, 3.], [2., 5., np.nan]])


def _close(out, expected):
    expected = np.asarray(expected)
    assert out.shape == expected.shape and out.dtype == expected.dtype, (out, expected)
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-12)


def test_nan_products_and_running_sums_match_numpy():
    for axis in (None, 0, 1, -1):
        _close(fnp.nanprod(fnp.asarray(X), axis=axis), np.nanprod(X, axis=axis))
        _close(fnp.nancumsum(fnp.asarray(X), axis=axis), np.nancumsum(X, axis=axis))
        _close(fnp.nancumprod(fnp.asarray(X), axis=axis), np.nancumprod(X, axis=axis))
    _close(fnp.nanprod(fnp.asarray(X), axis=1, keepdims=True), np.nanprod(X, axis=1, keepdims=True))
    _close(fnp.nancumsum(fnp.arange(4)), np.nancumsum(np.arange(4)))
    g = np.asarray(__import__("fnx").grad(lambda x: fnp.nanprod(x))(fnp.asarray(X)))
    np.testing.assert_allclose(g, np.where(np.isnan(X), 0., np.nanprod(X) / np.where(np.isnan(X), 1., X)))
    check_grads(lambda x: fnp.nancumsum(x, axis=1), (fnp.asarray(np.nan_to_num(X, nan=0.5)),))


def test_trapezoid_and_ediff1d_match_numpy():
    y = np.arange(12.).reshape(3, 4) ** 2
    x1 = np.array([0., 1., 3., 7.])
    for axis in (-1, 0):
        _close(fnp.trapezoid(fnp.asarray(y), axis=axis), np.trapezoid(y, axis=axis))
        _close(fnp.trapezoid(fnp.asarray(y), dx=0.5, axis=axis), np.trapezoid(y, dx=0.5, axis=axis))
    _close(fnp.trapezoid(fnp.asarray(y), fnp.asarray(x1)), np.trapezoid(y, x1))
    _close(fnp.trapezoid(fnp.asarray(y), fnp.asarray(y + 1.), axis=0), np.trapezoid(y, y + 1., axis=0))
    _close(fnp.trapezoid(fnp.arange(5)), np.trapezoid(np.arange(5)))
    _close(fnp.trapezoid(fnp.asarray(np.ones(1))), np.trapezoid(np.ones(1)))
    check_grads(fnp.trapezoid, (fnp.asarray(y), fnp.asarray(x1)))
    with pytest.raises(ShapeError, match="trapezoid"):
        fnp.trapezoid(fnp.asarray(1.))
    for kw in ({}, {"to_begin": 0}, {"to_end": [7, 8]}, {"to_begin": [-1], "to_end": 99}):
        _close(fnp.ediff1d(fnp.asarray(np.array([[1, 4], [9, 16]])), **kw), np.ediff1d([[1, 4], [9, 16]], **kw))
    _close(fnp.ediff1d(fnp.asarray(np.array([], dtype=float))), np.ediff1d(np.array([], dtype=float)))


@pytest.mark.parametrize("name", ["hamming", "hanning", "blackman", "bartlett"])
def test_windows_match_numpy(name):
    # NumPy's values in the default float dtype, as jax.numpy's and torch's windows (a window times a float32
    # signal stays float32); float64 under set_default_dtype("float64")
    for m in (0, 1, 2, 5, 12):
        out = getattr(fnp, name)(m)
        expected = getattr(np, name)(m)
        assert out.shape == expected.shape and out.dtype == np.float32
        np.testing.assert_array_equal(np.asarray(out), expected.astype(np.float32))
    fnx.set_default_dtype("float64")
    try:
        out = getattr(fnp, name)(12)
        assert out.dtype == np.float64
        np.testing.assert_allclose(np.asarray(out), getattr(np, name)(12), atol=1e-14)
    finally:
        fnx.set_default_dtype("float32")


def test_dtype_aliases_are_jax_numpys():
    assert fnp.bool == np.bool_ and fnp.double == np.float64 and fnp.single == np.float32
    assert fnp.int_ == np.int64 and fnp.float_ == np.float64 and fnp.uint == np.uint64
    assert fnp.cdouble == np.complex128 and fnp.csingle == np.complex64
    assert fnp.zeros(2, dtype=fnp.single).dtype == np.float32
    assert fnp.asarray([1, 2], dtype=fnp.bool).dtype == np.bool_
