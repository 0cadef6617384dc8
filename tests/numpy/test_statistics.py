"""median, quantile, percentile, cov and corrcoef: values and dtypes against NumPy, gradients, errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import fnx
import fnx.numpy as fnp
from fnx.errors import ShapeError
from fnx.testing import check_grads, check_vmap
from .harness import shapes

METHODS = ["linear", "lower", "higher", "nearest", "midpoint", "inverted_cdf", "averaged_inverted_cdf",  # all of
           "closest_observation", "interpolated_inverted_cdf", "hazen", "weibull", "median_unbiased",  # numpy 2's
           "normal_unbiased"]


@given(x=hnp.arrays(np.float64, shapes(min_dims=1, max_dims=3, max_side=4), elements=st.floats(-5, 5)),
       data=st.data())
def test_quantile_matches_numpy(x, data):
    nd = x.ndim
    axis = data.draw(st.one_of(st.none(), st.integers(-nd, nd - 1),
                               st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True).map(tuple)))
    q = data.draw(st.one_of(st.floats(0, 1), hnp.arrays(np.float64, shapes(max_dims=2, max_side=3),
                                                         elements=st.floats(0, 1))))
    method = data.draw(st.sampled_from(METHODS))
    keepdims = data.draw(st.booleans())
    out = fnp.quantile(fnp.asarray(x), q if isinstance(q, float) else fnp.asarray(q), axis=axis, method=method,
                       keepdims=keepdims)
    expected = np.quantile(x, q, axis=axis, method=method, keepdims=keepdims)
    assert out.shape == expected.shape and out.dtype == expected.dtype
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_median_percentile_and_dtypes():
    x = np.array([[3., 1., 4., 1.], [5., 9., 2., 6.], [5., 3., 5., 8.]])
    for axis in (None, 0, 1, (0, 1), -1):
        for keepdims in (False, True):
            for name, args in (("median", ()), ("percentile", (37.5,)), ("percentile", (np.array([10, 50, 90]),))):
                out = getattr(fnp, name)(fnp.asarray(x), *args, axis=axis, keepdims=keepdims)
                expected = getattr(np, name)(x, *args, axis=axis, keepdims=keepdims)
                assert out.shape == expected.shape and out.dtype == expected.dtype
                np.testing.assert_allclose(out, expected)
    x32 = x.astype(np.float32)
    assert fnp.median(fnp.asarray(x32)).dtype == np.median(x32).dtype == np.float32
    assert fnp.quantile(fnp.asarray(x32), 0.3).dtype == np.float32
    assert fnp.median(fnp.arange(5)).dtype == np.median(np.arange(5)).dtype == np.float64
    assert fnp.quantile(fnp.asarray(np.arange(5, dtype=np.int8)), np.float32(0.5)).dtype == np.float32


def test_quantiles_of_slices_with_nan_are_nan():
    x = np.array([[1., np.nan, 3.], [4., 5., 6.]])
    np.testing.assert_array_equal(fnp.median(fnp.asarray(x), axis=1), np.median(x, axis=1))
    np.testing.assert_array_equal(fnp.quantile(fnp.asarray(x), 0.2, axis=0), np.quantile(x, 0.2, axis=0))


def test_quantile_errors():
    x = fnp.ones((2, 3))
    with pytest.raises(ValueError, match="quantile: quantiles must be in the range"):
        fnp.quantile(x, 1.5)
    with pytest.raises(ValueError, match="percentile"):
        fnp.percentile(x, -1.0)
    with pytest.raises(ValueError, match="method"):
        fnp.quantile(x, 0.5, method="nonsense")
    with pytest.raises(ShapeError, match="median"):
        fnp.median(fnp.ones((2, 0)), axis=1)


def test_quantile_gradients():
    x = fnp.asarray(np.array([[0.3, -1.2, 2.5, 0.9], [1.7, 0.1, -0.4, 3.3], [2.2, -2.0, 0.6, 1.1]]))
    check_grads(lambda x: fnp.median(x, axis=1), (x,), order=1)
    check_grads(lambda x: fnp.median(x), (x,), order=1)
    check_grads(lambda x: fnp.quantile(x, fnp.asarray(np.array([0.1, 0.65])), axis=0, keepdims=True), (x,), order=1)
    check_grads(lambda q: fnp.quantile(x, q, axis=1), (fnp.asarray(np.array([0.2, 0.7])),), order=1)
    g = fnx.grad(fnp.median)(fnp.array([3., 1., 2., 10.]))
    np.testing.assert_array_equal(g, [0.5, 0., 0.5, 0.])
    check_vmap(lambda r: fnp.median(r), (x,))


def test_cov_and_corrcoef_match_numpy():
    rng = np.random.default_rng(0)
    m, y = rng.normal(size=(3, 6)), rng.normal(size=(2, 6))
    fw, aw = np.array([1, 2, 1, 3, 1, 2]), np.array([0.5, 1.0, 2.0, 1.0, 0.3, 0.7])
    for kw in ({}, {"bias": True}, {"ddof": 2}, {"fweights": fw}, {"aweights": aw}, {"fweights": fw, "aweights": aw},
               {"fweights": fw, "aweights": aw, "ddof": 0}):
        out, expected = fnp.cov(fnp.asarray(m), **kw), np.cov(m, **kw)
        assert out.shape == expected.shape and out.dtype == expected.dtype, kw
        np.testing.assert_allclose(out, expected, rtol=1e-12)
    np.testing.assert_allclose(fnp.cov(fnp.asarray(m.T), rowvar=False), np.cov(m.T, rowvar=False))
    np.testing.assert_allclose(fnp.cov(fnp.asarray(m), fnp.asarray(y)), np.cov(m, y))
    assert fnp.cov(fnp.asarray(m[0])).shape == np.cov(m[0]).shape == ()
    np.testing.assert_allclose(fnp.corrcoef(fnp.asarray(m)), np.corrcoef(m))
    np.testing.assert_allclose(fnp.corrcoef(fnp.asarray(m[0]), fnp.asarray(y[1])), np.corrcoef(m[0], y[1]))
    np.testing.assert_allclose(fnp.corrcoef(fnp.asarray(m.T), rowvar=False), np.corrcoef(m.T, rowvar=False))
    assert float(fnp.corrcoef(fnp.asarray(m[0]))) == 1.0
    z = m[:2] + 1j * y
    np.testing.assert_allclose(fnp.cov(fnp.asarray(z)), np.cov(z))
    np.testing.assert_allclose(fnp.corrcoef(fnp.asarray(z)), np.corrcoef(z))


def test_cov_dtypes():
    """At least the default float: float32 data stays float32 (NumPy's cov would give float64)."""
    x = np.array([[0., 1., 2.], [2., 1., 0.5]])
    assert fnp.cov(fnp.asarray(x.astype(np.float32))).dtype == np.float32
    assert fnp.cov(fnp.asarray(x.astype(np.int32))).dtype == np.cov(x.astype(np.int32)).dtype == np.float64
    assert fnp.cov(fnp.asarray(x), dtype="float32").dtype == np.float32
    np.testing.assert_allclose(fnp.cov(fnp.asarray(x.astype(np.float32))), np.cov(x), rtol=1e-6)


def test_cov_errors():
    with pytest.raises(ShapeError, match="cov"):
        fnp.cov(fnp.ones((2, 3, 4)))
    with pytest.raises(ShapeError, match="cov: m and y"):
        fnp.cov(fnp.ones((2, 3)), fnp.ones((2, 4)))
    with pytest.raises(ShapeError, match="aweights"):
        fnp.cov(fnp.ones((2, 3)), aweights=fnp.ones(2))
    with pytest.raises(TypeError, match="fweights"):
        fnp.cov(fnp.ones((2, 3)), fweights=fnp.ones(3))
    with pytest.raises(ValueError, match="non-negative"):
        fnp.cov(fnp.ones((2, 3)), aweights=fnp.array([1., -1., 1.]))


def test_cov_and_corrcoef_gradients():
    rng = np.random.default_rng(1)
    m = fnp.asarray(rng.normal(size=(3, 5)))
    aw = fnp.asarray(np.array([0.5, 1.0, 2.0, 1.0, 0.3]))
    check_grads(fnp.cov, (m,), order=2)
    check_grads(lambda m, w: fnp.cov(m, aweights=w), (m, aw), order=1)
    check_grads(fnp.corrcoef, (m,), order=1)
    check_vmap(fnp.cov, (fnp.asarray(rng.normal(size=(4, 2, 5))),))
