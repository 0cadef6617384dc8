"""unique with size=, unique_*, isin, the 1-d set operations, digitize, lexsort and extract against NumPy."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import fnx
import fnx.numpy as fnp
from fnx.errors import ShapeError, TracerError
from fnx.testing import check_grads

small_ints = hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=5),
                        elements=st.integers(-3, 3))
floats_nan = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, min_side=0, max_side=5),
                        elements=st.sampled_from([0., 1.5, -2., np.nan, 3.]))


def _eq(out, expected):
    expected = np.asarray(expected)
    assert out.shape == expected.shape and out.dtype == expected.dtype, (out, expected)
    np.testing.assert_array_equal(np.asarray(out), expected)


@settings(max_examples=40, deadline=None)
@given(x=st.one_of(small_ints, floats_nan))
def test_unique_family_matches_numpy(x):
    fx = fnp.asarray(x)
    _eq(fnp.unique_values(fx), np.sort(np.unique_values(x)))
    vals, counts = fnp.unique_counts(fx)  # the Array API's functions: every NaN is a value of its own
    e = np.unique_counts(x)
    _eq(vals, e.values), _eq(counts, e.counts)
    vals, inv = fnp.unique_inverse(fx)
    out = fnp.unique_all(fx)
    e = np.unique_all(x)
    _eq(out.values, e.values), _eq(out.counts, e.counts)
    if np.isnan(x).any():  # distinct NaNs may take one another's slots: compare what the indices rebuild
        np.testing.assert_array_equal(np.asarray(vals)[np.asarray(inv)], x)
        np.testing.assert_array_equal(x.ravel()[np.asarray(out.indices)], e.values)
        np.testing.assert_array_equal(np.asarray(out.values)[np.asarray(out.inverse_indices)], x)
    else:
        _eq(inv, np.unique_inverse(x).inverse_indices)
        for o, r in zip(out, e):
            _eq(o, r)
    # unique(size=) pads with fill_value (or the smallest value) and truncates; NaNs are one value (equal_nan)
    values, indices, inverse, counts = np.unique(x, return_index=True, return_inverse=True, return_counts=True)
    e = type(e)(values, indices, inverse.reshape(x.shape), counts)
    n = e.values.shape[0]
    for size in (0, max(n - 1, 0), n, n + 2):
        fill = -7 if x.dtype.kind == "i" else -7.5
        got = fnp.unique(fx, return_index=True, return_inverse=True, return_counts=True, size=size, fill_value=fill)
        m = min(size, n)
        _eq(got[0][:m], e.values[:m])
        assert np.all(np.asarray(got[0][m:]) == fill)
        _eq(got[1][:m], e.indices[:m])
        _eq(got[3][:m], e.counts[:m])
        assert np.all(np.asarray(got[3][m:]) == 0)
        if size >= n:
            _eq(got[2], e.inverse_indices)


def test_unique_size_traces_and_differentiates():
    x = fnp.asarray(np.array([3., 1., 3., 2.]))
    f = fnx.jit(lambda x: fnp.unique(x, size=5, fill_value=0.))
    _eq(f(x), np.array([1., 2., 3., 0., 0.]))
    out = fnx.vmap(lambda x: fnp.unique_values(x, size=3))(fnp.asarray(np.array([[1., 1., 2.], [3., 2., 1.]])))
    _eq(out, np.array([[1., 2., 1.], [1., 2., 3.]]))
    check_grads(lambda x: fnp.unique_values(x, size=3) ** 2, (fnp.asarray(np.array([3., 1., 3.5, 2.])),))
    _eq(fnp.unique_values(fnp.asarray(np.array([2, 2])), size=3), np.array([2, 2, 2]))  # JAX's default fill
    with pytest.raises(TracerError, match="size="):
        fnx.jit(fnp.unique_values)(x)
    with pytest.raises(TracerError, match="setdiff1d"):
        fnx.vmap(lambda x: fnp.setdiff1d(x, fnp.ones(1)))(fnp.ones((2, 3)))
    with pytest.raises(NotImplementedError, match="axis"):
        fnp.unique(fnp.ones((2, 2)), axis=0, size=2)
    with pytest.raises(ValueError, match="size"):
        fnp.unique_values(x, size=-1)


@settings(max_examples=40, deadline=None)
@given(a=st.one_of(small_ints, floats_nan), b=st.one_of(small_ints, floats_nan), invert=st.booleans())
def test_isin_and_set_operations_match_numpy(a, b, invert):
    fa, fb = fnp.asarray(a), fnp.asarray(b)
    _eq(fnp.isin(fa, fb, invert=invert), np.isin(a, b, invert=invert))
    _eq(fnp.in1d(fa, fb), np.isin(a.ravel(), b))
    for name in ("union1d", "intersect1d", "setdiff1d", "setxor1d"):
        expected = getattr(np, name)(a, b)
        _eq(getattr(fnp, name)(fa, fb), expected)
        got = getattr(fnp, name)(fa, fb, size=expected.shape[0] + 2, fill_value=9)
        _eq(got[:expected.shape[0]], expected)
        assert np.all(np.asarray(got[expected.shape[0]:]) == 9)
    out = fnp.intersect1d(fa, fb, return_indices=True)
    for o, e in zip(out, np.intersect1d(a, b, return_indices=True)):
        _eq(o, e)
    ua, ub = np.unique(a), np.unique(b)
    for name in ("intersect1d", "setdiff1d", "setxor1d"):
        _eq(getattr(fnp, name)(fnp.asarray(ua), fnp.asarray(ub), assume_unique=True),
            getattr(np, name)(ua, ub, assume_unique=True))


def test_set_operations_trace_with_size():
    a, b = fnp.asarray(np.array([5, 1, 3, 3])), fnp.asarray(np.array([3, 4]))
    _eq(fnx.jit(lambda a, b: fnp.setdiff1d(a, b, size=3))(a, b), np.array([1, 5, 0]))
    _eq(fnx.jit(lambda a, b: fnp.union1d(a, b, size=5))(a, b), np.array([1, 3, 4, 5, 1]))
    _eq(fnx.jit(lambda a, b: fnp.intersect1d(a, b, size=2, fill_value=-1))(a, b), np.array([3, -1]))
    _eq(fnx.jit(lambda a, b: fnp.setxor1d(a, b, size=4))(a, b), np.array([1, 4, 5, 1]))
    _eq(fnx.jit(lambda a, b: fnp.isin(a, b))(a, b), np.array([False, False, True, True]))
    with pytest.raises(ValueError, match="kind"):
        fnp.isin(a, b, kind="hash")


@pytest.mark.parametrize("right", [False, True])
def test_digitize_matches_numpy(right):
    x = np.array([-1., 0., 0.5, 1., 2., 2.5, 3., 9., np.nan])
    for bins in (np.array([0., 1., 2., 3.]), np.array([3., 2., 1., 0.]), np.array([1., 1., 2.]), np.array([2.]),
                 np.array([]), np.array([3, 1])):
        _eq(fnp.digitize(fnp.asarray(x), fnp.asarray(bins), right=right), np.digitize(x, bins, right=right))
    _eq(fnp.digitize(fnp.asarray(x.reshape(3, 3)), fnp.asarray(np.array([0., 2.]))),
        np.digitize(x.reshape(3, 3), [0., 2.]))
    _eq(fnx.jit(lambda x, b: fnp.digitize(x, b, right=right))(fnp.asarray(x), fnp.asarray(np.array([3., 1., 0.]))),
        np.digitize(x, [3., 1., 0.], right=right))
    with pytest.raises(ValueError, match="monoton"):
        fnp.digitize(fnp.asarray(x), fnp.asarray(np.array([1., 3., 2.])))
    with pytest.raises(ShapeError, match="digitize"):
        fnp.digitize(fnp.asarray(x), fnp.ones((2, 2)))


def test_lexsort_matches_numpy():
    rng = np.random.default_rng(0)
    k = rng.integers(0, 3, size=(3, 4, 5))
    for axis in (-1, 0, 1):
        _eq(fnp.lexsort(fnp.asarray(k), axis=axis), np.lexsort(k, axis=axis))
        _eq(fnp.lexsort([fnp.asarray(k[0]), fnp.asarray(k[1].astype(float))], axis=axis),
            np.lexsort([k[0], k[1].astype(float)], axis=axis))
    _eq(fnp.lexsort((fnp.asarray(np.array([1, 0, 2])),)), np.lexsort((np.array([1, 0, 2]),)))
    with pytest.raises(ShapeError, match="lexsort"):
        fnp.lexsort((fnp.ones(2), fnp.ones(3)))


def test_extract_matches_numpy():
    x = np.arange(12.).reshape(3, 4)
    for cond in (x % 3 == 0, (x % 2).astype(int), np.zeros_like(x, bool), np.array([1, 0, 1])):
        _eq(fnp.extract(fnp.asarray(cond), fnp.asarray(x)), np.extract(cond, x))
    out = fnx.jit(lambda c, x: fnp.extract(c, x, size=5, fill_value=-1.))(fnp.asarray(x % 3 == 0), fnp.asarray(x))
    _eq(out, np.array([0., 3., 6., 9., -1.]))
    check_grads(lambda x: fnp.extract(fnp.asarray(np.arange(12).reshape(3, 4) % 3 == 0), x), (fnp.asarray(x),))
    with pytest.raises(TracerError, match="extract"):
        fnx.jit(fnp.extract)(fnp.asarray(x > 3), fnp.asarray(x))
