"""histogram, histogram_bin_edges, histogram2d and histogramdd: counts, edges and dtypes against NumPy,
the traced (vmap) path, gradients in the weights, errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import fnx
import fnx.numpy as fnp
from fnx.errors import DTypeError, ShapeError
from fnx.testing import check_grads, check_vmap


def _same(out, expected, exact=True):
    assert out.dtype == expected.dtype and out.shape == expected.shape, (out.dtype, expected.dtype)
    if exact:
        np.testing.assert_array_equal(out, expected)
    else:
        np.testing.assert_allclose(out, expected, rtol=1e-6)


@given(a=hnp.arrays(st.sampled_from([np.float64, np.float32, np.int64]), hnp.array_shapes(max_dims=2, max_side=12),
                    elements=st.integers(-20, 20)),
       bins=st.one_of(st.integers(1, 7), st.sampled_from(["auto", "fd", "doane", "scott", "stone", "rice",
                                                          "sturges", "sqrt"]),
                      st.lists(st.integers(-25, 25), min_size=2, max_size=6, unique=True).map(sorted)),
       rng_=st.one_of(st.none(), st.tuples(st.integers(-10, 0), st.integers(0, 10))), density=st.booleans())
def test_histogram_matches_numpy(a, bins, rng_, density):
    out, edges = fnp.histogram(fnp.asarray(a), bins, rng_, density)
    expected, expected_edges = np.histogram(a, bins, rng_, density=density)
    _same(edges, expected_edges)
    _same(out, expected, exact=not density)
    _same(fnp.histogram_bin_edges(fnp.asarray(a), bins, rng_), np.histogram_bin_edges(a, bins, rng_))


def test_histogram_weights_dtypes_and_edge_values():
    a = np.array([0., 1., 1., 2., 3., 3., 3., 5., -1., 6.])  # right edge inclusive, values outside dropped
    for w in (np.arange(10.), np.arange(10.).astype(np.float32), np.arange(10), np.arange(10) * (1 + 2j)):
        for density in (False, True):
            out, _ = fnp.histogram(fnp.asarray(a), [0, 1, 3, 5], weights=fnp.asarray(w), density=density)
            expected, _ = np.histogram(a, [0, 1, 3, 5], weights=w, density=density)
            _same(out, expected, exact=False)
    out, edges = fnp.histogram(fnp.asarray(np.array([2., 2., 2.])), 4)  # an empty extent is widened by 1/2
    _same(edges, np.histogram(np.array([2., 2., 2.]), 4)[1])
    out, edges = fnp.histogram(fnp.asarray(np.zeros(0)), 3)
    _same(out, np.histogram(np.zeros(0), 3)[0])
    _same(edges, np.histogram(np.zeros(0), 3)[1])
    out, _ = fnp.histogram(fnp.asarray(a), np.array([0, 0, 1, 1, 5]))  # repeated edges: empty bins
    _same(out, np.histogram(a, np.array([0, 0, 1, 1, 5]))[0])


def test_histogram_under_vmap_and_gradients_in_weights():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 30))
    batched = fnx.vmap(lambda v: fnp.histogram(v, 5)[0])(fnp.asarray(x))
    np.testing.assert_array_equal(batched, np.stack([np.histogram(r, 5)[0] for r in x]))
    batched = fnx.vmap(lambda v: fnp.histogram(v, 5, range=(-1, 1), density=True)[0])(fnp.asarray(x))
    np.testing.assert_allclose(batched, np.stack([np.histogram(r, 5, (-1, 1), density=True)[0] for r in x]))
    check_vmap(lambda v: fnp.histogram(v, [-1., 0., 0.5, 2.])[0], (fnp.asarray(x),))
    a, w = fnp.asarray(x[0]), fnp.asarray(rng.random(30))
    check_grads(lambda w: fnp.histogram(a, 4, weights=w, density=True)[0], (w,))
    check_grads(lambda w: fnp.histogramdd(fnp.asarray(x[:2].T), 3, weights=w)[0], (w,))
    np.testing.assert_array_equal(fnx.grad(lambda v: fnp.sum(fnp.histogram(v, 3, weights=w)[0]))(a), 0.)


@pytest.mark.parametrize("density", [False, True])
def test_histogramdd_and_histogram2d_match_numpy(density):
    rng = np.random.default_rng(1)
    s, w = rng.normal(size=(40, 3)), rng.random(40)
    for bins in (4, [2, 3, 4], [np.array([-1., 0., 1.]), 3, np.array([-2, 0, 2])]):
        for range_ in (None, [(-1, 1), None, (0, 2)]):
            for weights in (None, w):
                H, E = fnp.histogramdd(fnp.asarray(s), bins, range_, density,
                                       None if weights is None else fnp.asarray(weights))
                H2, E2 = np.histogramdd(s, bins, range_, density, weights)
                _same(H, H2, exact=False)
                for e, e2 in zip(E, E2):
                    _same(e, e2)
    H, E = fnp.histogramdd([fnp.asarray(s[:, 0]), fnp.asarray(s[:, 1])], 3, density=density)
    _same(H, np.histogramdd([s[:, 0], s[:, 1]], 3, density=density)[0], exact=False)
    for sample in ([0.5, 1.5, 1.5, 3.], [[0., 1., 2.], [2., 2., 0.]]):  # Python lists: one dimension, or one per row
        H, E = fnp.histogramdd(sample, 2, density=density)
        H2, E2 = np.histogramdd(sample, 2, density=density)
        _same(H, H2, exact=False)
        for e, e2 in zip(E, E2):
            _same(e, e2)
    for bins in (3, [3, 4], np.array([-1., 0., .5, 1.]), [np.array([-1., 0., 1.]), np.array([0., 2.])]):
        H, xe, ye = fnp.histogram2d(fnp.asarray(s[:, 0]), fnp.asarray(s[:, 1]), bins, density=density)
        H2, xe2, ye2 = np.histogram2d(s[:, 0], s[:, 1], bins, density=density)
        _same(H, H2, exact=False)
        _same(xe, xe2)
        _same(ye, ye2)
    batched = fnx.vmap(lambda v: fnp.histogramdd(v, 3, density=density)[0])(fnp.asarray(rng.normal(size=(3, 20, 2))))
    assert batched.shape == (3, 3, 3)


def test_histogram_errors():
    a = fnp.asarray(np.arange(5.))
    with pytest.raises(ValueError, match="histogram: bins must be positive"):
        fnp.histogram(a, 0)
    with pytest.raises(ValueError, match="increase monotonically"):
        fnp.histogram(a, [0., 2., 1.])
    with pytest.raises(ValueError, match="max must be larger than min"):
        fnp.histogram(a, 3, range=(2, 1))
    with pytest.raises(ValueError, match="not finite"):
        fnp.histogram(a, 3, range=(0, np.inf))
    with pytest.raises(ValueError, match="not finite"):
        fnp.histogram(fnp.asarray(np.array([0., np.nan])), 3)
    with pytest.raises(ValueError, match="histogram"):
        fnp.histogram(a, "bogus")
    with pytest.raises(TypeError, match="not supported for weighted data"):
        fnp.histogram(a, "auto", weights=a)
    with pytest.raises(TypeError, match="bins must be an integer"):
        fnp.histogram(a, 2.5)
    with pytest.raises(ShapeError, match="weights of shape"):
        fnp.histogram(a, 3, weights=fnp.ones(4))
    with pytest.raises(DTypeError, match="complex"):
        fnp.histogram(a + 1j, 3)
    with pytest.raises(TypeError, match="concrete"):
        fnx.vmap(lambda v: fnp.histogram(v, "auto")[0])(fnp.ones((2, 3)))
    with pytest.raises(ValueError, match="histogramdd: bins must have one entry per dimension"):
        fnp.histogramdd(fnp.ones((4, 2)), [2, 3, 4])
    with pytest.raises(ValueError, match="histogramdd: range"):
        fnp.histogramdd(fnp.ones((4, 2)), 2, range=[(0, 1)])
    with pytest.raises(ValueError, match=r"bins\[1\] must be positive"):
        fnp.histogramdd(fnp.ones((4, 2)), [2, 0])
    with pytest.raises(ShapeError, match="histogram2d"):
        fnp.histogram2d(fnp.ones(3), fnp.ones(4))
