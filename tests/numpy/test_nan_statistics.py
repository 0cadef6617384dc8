"""nanmedian, nanquantile and nanpercentile: values, shapes and dtypes against NumPy, all-NaN slices,
gradients, errors."""
import warnings

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


def _np(f, *args, **kw):
    with warnings.catch_warnings():  # NumPy warns on all-NaN slices
        warnings.simplefilter("ignore", RuntimeWarning)
        return f(*args, **kw)


@given(x=hnp.arrays(np.float64, shapes(min_dims=1, max_dims=3, max_side=4),
                    elements=st.one_of(st.floats(-5, 5), st.just(np.nan))), data=st.data())
def test_nanquantile_matches_numpy(x, data):
    nd = x.ndim
    axis = data.draw(st.one_of(st.none(), st.integers(-nd, nd - 1),
                               st.lists(st.integers(0, nd - 1), min_size=1, max_size=nd, unique=True).map(tuple)))
    # NumPy 2.4's nanquantile misplaces q's axes for a 2-d q with a tuple axis; q is at most 1-d here.
    q = data.draw(st.one_of(st.floats(0, 1), hnp.arrays(np.float64, shapes(max_dims=1, max_side=3),
                                                         elements=st.floats(0, 1))))
    method = data.draw(st.sampled_from(METHODS))
    keepdims = data.draw(st.booleans())
    out = fnp.nanquantile(fnp.asarray(x), q if isinstance(q, float) else fnp.asarray(q), axis=axis, method=method,
                          keepdims=keepdims)
    expected = _np(np.nanquantile, x, q, axis=axis, method=method, keepdims=keepdims)
    assert out.shape == expected.shape and out.dtype == expected.dtype
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_nanmedian_nanpercentile_dtypes_and_all_nan_slices():
    x = np.array([[3., np.nan, 4., 1.], [np.nan] * 4, [5., 3., np.nan, 8.]])
    for axis in (None, 0, 1, (0, 1), -1):
        for keepdims in (False, True):
            for name, args in (("nanmedian", ()), ("nanpercentile", (37.5,)),
                               ("nanpercentile", (np.array([10, 50, 90]),))):
                out = getattr(fnp, name)(fnp.asarray(x), *args, axis=axis, keepdims=keepdims)
                expected = _np(getattr(np, name), x, *args, axis=axis, keepdims=keepdims)
                assert out.shape == expected.shape and out.dtype == expected.dtype
                np.testing.assert_allclose(out, expected)
    np.testing.assert_array_equal(fnp.nanmedian(fnp.asarray(x), axis=1), [3., np.nan, 5.])
    x32 = x.astype(np.float32)
    assert fnp.nanmedian(fnp.asarray(x32)).dtype == np.float32
    ints = np.arange(7)
    assert fnp.nanmedian(fnp.asarray(ints)).dtype == np.nanmedian(ints).dtype == np.float64
    np.testing.assert_array_equal(fnp.nanquantile(fnp.asarray(ints), 0.4, method="nearest"),
                                  np.nanquantile(ints, 0.4, method="nearest"))
    # without NaNs they are the plain quantiles
    y = np.random.default_rng(0).normal(size=(4, 5))
    np.testing.assert_allclose(fnp.nanmedian(fnp.asarray(y), axis=0), np.median(y, axis=0), rtol=1e-14)


def test_nanquantile_gradients():
    x = np.array([[0.3, np.nan, 2.5, 0.9], [1.7, 0.1, -0.4, 3.3], [np.nan, -2.0, np.nan, 1.1]])
    xs = fnp.asarray(x)
    finite = np.isfinite(x)

    def on_numbers(f):  # differentiate in the numbers only; the NaNs stay where they are
        def g(v):
            return f(fnp.where(fnp.asarray(finite), v, np.nan))
        return g
    v0 = fnp.asarray(np.where(finite, x, 0.))
    check_grads(on_numbers(lambda a: fnp.nanmedian(a, axis=1)), (v0,))
    check_grads(on_numbers(lambda a: fnp.nanquantile(a, fnp.asarray(np.array([0.1, 0.65])), axis=0)), (v0,))
    check_grads(lambda q: fnp.nanquantile(xs, q, axis=1), (fnp.asarray(np.array([0.2, 0.7])),))
    g = fnx.grad(fnp.nanmedian)(fnp.array([3., np.nan, 2., 10.]))
    np.testing.assert_array_equal(g, [1., 0., 0., 0.])
    check_vmap(lambda r: fnp.nanmedian(r), (xs,))


def test_nanquantile_errors():
    x = fnp.ones((2, 3))
    with pytest.raises(ValueError, match="nanquantile: quantiles must be in the range"):
        fnp.nanquantile(x, 1.5)
    with pytest.raises(ValueError, match="nanpercentile"):
        fnp.nanpercentile(x, 101.)
    with pytest.raises(ValueError, match="nanmedian|method"):
        fnp.nanquantile(x, 0.5, method="nonsense")
    with pytest.raises(ShapeError, match="nanmedian"):
        fnp.nanmedian(fnp.ones((2, 0)), axis=1)
    with pytest.raises(NotImplementedError, match="nanquantile: weights"):
        fnp.nanquantile(x, 0.5, weights=x)
