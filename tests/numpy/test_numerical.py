"""diff, gradient, cross, interp, polyval, vander, convolve, correlate: against NumPy, with derivatives."""

import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx.errors import ShapeError
from fnx.testing import check_grads, check_vmap

RNG = np.random.default_rng(0)
X = RNG.normal(size=(4, 5))


def test_diff_matches_numpy():
    for n in (0, 1, 2, 3, 6):
        for axis in (0, 1, -1):
            out, expected = fnp.diff(fnp.asarray(X), n, axis), np.diff(X, n, axis)
            assert out.shape == expected.shape
            np.testing.assert_allclose(out, expected)
    kw = {"axis": 0, "prepend": 0.0, "append": np.ones((1, 5))}
    np.testing.assert_allclose(fnp.diff(fnp.asarray(X), **kw), np.diff(X, **kw))
    for x in (np.array([True, False, False, True]), np.array([1, 4, 9], np.int8), np.array([1., 4.], np.float32)):
        out, expected = fnp.diff(fnp.asarray(x)), np.diff(x)
        assert out.dtype == expected.dtype
        np.testing.assert_array_equal(out, expected)
    with pytest.raises(ValueError, match="diff"):
        fnp.diff(fnp.ones(3), -1)
    with pytest.raises(ValueError, match="diff"):
        fnp.diff(fnp.array(1.0))
    check_grads(lambda x: fnp.diff(x, 2, axis=0, append=x[:1]), (fnp.asarray(X),), order=2)


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_matches_numpy(edge_order):
    coords = np.array([0., 1., 1.5, 3., 3.2])
    for args, kw in [((), {}), ((0.5,), {}), ((2.0, coords), {}), ((np.array([0., 1., 1.5, 3.]),), {"axis": 0}),
                     ((), {"axis": -1}), ((0.25, 2.0), {"axis": (1, 0)})]:
        out, expected = fnp.gradient(fnp.asarray(X), *args, edge_order=edge_order, **kw), \
            np.gradient(X, *args, edge_order=edge_order, **kw)
        assert type(out) is type(expected) or (isinstance(out, fnx.Array) and isinstance(expected, np.ndarray))
        outs, expecteds = (out, expected) if isinstance(out, tuple) else ((out,), (expected,))
        for o, e in zip(outs, expecteds):
            assert o.shape == e.shape and o.dtype == e.dtype
            np.testing.assert_allclose(o, e, rtol=1e-10, atol=1e-12)
    assert fnp.gradient(fnp.arange(5) ** 2).dtype == np.float64
    assert fnp.gradient(fnp.asarray(np.float32([1, 2, 4]))).dtype == np.float32
    with pytest.raises(ValueError, match="gradient"):
        fnp.gradient(fnp.ones(2), edge_order=2)
    with pytest.raises(TypeError, match="gradient"):
        fnp.gradient(fnp.asarray(X), 1.0, 2.0, 3.0)
    check_grads(lambda f, c: fnp.gradient(f, c, axis=1, edge_order=edge_order),
                (fnp.asarray(X), fnp.asarray(coords)), order=1)


def _cross_of_2_vectors(a, b):
    """numpy's old meaning of 2-vectors (a zero z component), which jnp and fnx keep and numpy 2.5 removed."""
    def pad(v):
        return v if v.shape[-1] == 3 else np.concatenate([v, np.zeros(v.shape[:-1] + (1,))], -1)
    out = np.cross(pad(a), pad(b))
    return out[..., 2] if a.shape[-1] == b.shape[-1] == 2 else out


def test_cross_matches_numpy():
    for sa, sb in [((3,), (3,)), ((4, 3), (3,)), ((2,), (3,)), ((3,), (2,)), ((5, 2), (5, 2)), ((2, 1, 3), (4, 3))]:
        a, b = RNG.normal(size=sa), RNG.normal(size=sb)
        out = fnp.cross(fnp.asarray(a), fnp.asarray(b))
        expected = np.cross(a, b) if 2 not in (sa[-1], sb[-1]) else _cross_of_2_vectors(a, b)
        assert out.shape == expected.shape
        np.testing.assert_allclose(out, expected)
    a, b = RNG.normal(size=(3, 4)), RNG.normal(size=(4, 3))
    np.testing.assert_allclose(fnp.cross(fnp.asarray(a), fnp.asarray(b), axisa=0, axisb=1, axisc=0),
                               np.cross(a, b, axisa=0, axisb=1, axisc=0))
    np.testing.assert_allclose(fnp.cross(fnp.asarray(a.T), fnp.asarray(b), axis=1), np.cross(a.T, b, axis=1))
    assert fnp.cross(fnp.array([1, 0, 0]), fnp.array([0, 1, 0])).dtype == np.int64
    with pytest.raises(ShapeError, match="cross"):
        fnp.cross(fnp.ones(4), fnp.ones(3))
    check_grads(fnp.cross, (fnp.asarray(RNG.normal(size=(2, 3))), fnp.asarray(RNG.normal(size=3))), order=2)


def test_interp_matches_numpy():
    xp, fp = np.array([0., 1., 2.5, 4.]), np.array([1., -1., 3., 0.5])
    x = np.array([-1., 0., 0.3, 1., 2.5, 3.9, 4., 5., np.nan])
    for kw in ({}, {"left": -9.0, "right": 9.0}):
        np.testing.assert_allclose(fnp.interp(fnp.asarray(x), fnp.asarray(xp), fnp.asarray(fp), **kw),
                                   np.interp(x, xp, fp, **kw))
    np.testing.assert_allclose(fnp.interp(fnp.asarray(x[:-1] * 3), fnp.asarray(xp), fnp.asarray(fp), period=3.5),
                               np.interp(x[:-1] * 3, xp, fp, period=3.5))
    assert float(fnp.interp(2.0, fnp.array([1.0]), fnp.array([5.0]))) == np.interp(2.0, [1.0], [5.0])
    assert fnp.interp(fnp.asarray(x), fnp.asarray(xp), fnp.asarray(fp)).dtype == np.float64
    assert fnp.interp(fnp.asarray(x), fnp.asarray(xp), fnp.asarray(fp + 1j)).dtype == np.complex128
    # fnx keeps float32 (NumPy's interp always gives float64)
    assert fnp.interp(fnp.asarray(np.float32([.5])), fnp.asarray(np.float32([0, 1])),
                      fnp.asarray(np.float32([0, 2]))).dtype == np.float32
    with pytest.raises(ShapeError, match="interp"):
        fnp.interp(fnp.ones(2), fnp.ones(3), fnp.ones(2))
    check_grads(lambda x, xp, fp: fnp.interp(x, xp, fp),
                (fnp.asarray(np.array([-0.5, 0.3, 1.7, 3.1, 4.5])), fnp.asarray(xp), fnp.asarray(fp)), order=1)


def test_polyval_and_vander_match_numpy():
    p = np.array([1., -2., 3., 4.])
    np.testing.assert_allclose(fnp.polyval(fnp.asarray(p), fnp.asarray(X)), np.polyval(p, X))
    assert fnp.polyval(fnp.array([1, 2]), 3).dtype == np.asarray(np.polyval(np.array([1, 2]), 3)).dtype
    np.testing.assert_array_equal(fnp.polyval(fnp.array([1, 2]), 3), np.polyval(np.array([1, 2]), 3))
    for x in (np.array([1, 2, 3]), np.array([0.5, -1.5], np.float64), np.array([True, False])):
        for N in (None, 0, 1, 4):
            for increasing in (False, True):
                out, expected = fnp.vander(fnp.asarray(x), N, increasing), np.vander(x, N, increasing)
                assert out.shape == expected.shape and out.dtype == expected.dtype
                np.testing.assert_array_equal(out, expected)
    with pytest.raises(ShapeError, match="vander"):
        fnp.vander(fnp.ones((2, 2)))
    check_grads(fnp.polyval, (fnp.asarray(p), fnp.asarray(X[0])), order=2)
    check_grads(lambda x: fnp.vander(x, 4), (fnp.asarray(np.array([0., 1.5, -2.])),), order=2)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_convolve_and_correlate_match_numpy(mode):
    for n, m in [(5, 3), (5, 4), (3, 5), (4, 5), (2, 6), (6, 2), (1, 1), (4, 4)]:
        a, v = RNG.normal(size=n), RNG.normal(size=m)
        for name in ("convolve", "correlate"):
            out, expected = getattr(fnp, name)(fnp.asarray(a), fnp.asarray(v), mode), getattr(np, name)(a, v, mode)
            assert out.shape == expected.shape, (name, n, m)
            np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    a, v = RNG.normal(size=4) + 1j * RNG.normal(size=4), RNG.normal(size=3) + 1j
    np.testing.assert_allclose(fnp.correlate(fnp.asarray(a), fnp.asarray(v), mode), np.correlate(a, v, mode))
    ints = fnp.convolve(fnp.array([1, 2]), fnp.array([1, 1]), mode)
    assert ints.dtype == np.int64
    np.testing.assert_array_equal(ints, np.convolve([1, 2], [1, 1], mode))
    check_grads(lambda a, v: fnp.convolve(a, v, mode), (fnp.asarray(RNG.normal(size=5)),
                                                        fnp.asarray(RNG.normal(size=3))), order=2)


def test_convolve_errors_and_vmap():
    with pytest.raises(ValueError, match="convolve: mode"):
        fnp.convolve(fnp.ones(3), fnp.ones(2), "circular")
    with pytest.raises(ValueError, match="correlate"):
        fnp.correlate(fnp.ones(0), fnp.ones(2))
    with pytest.raises(ShapeError, match="convolve"):
        fnp.convolve(fnp.ones((2, 2)), fnp.ones(2))
    check_vmap(lambda a: fnp.convolve(a, fnp.asarray(np.array([1., -1., 0.5])), "same"), (fnp.asarray(X),))
