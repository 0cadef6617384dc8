"""poly, polyadd, polysub, polymul, polydiv, polyder, polyint, polyfit, roots and trim_zeros: values and dtypes
against NumPy, gradients, errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import fnx
import fnx.numpy as fnp
from fnx.errors import ShapeError, TracerError
from fnx.testing import check_grads, check_vmap

coeffs = hnp.arrays(np.float64, st.integers(1, 5), elements=st.floats(-4, 4, allow_subnormal=False))


def _a(x):
    return fnp.asarray(np.asarray(x))


@given(a=coeffs, b=coeffs)
def test_arithmetic_matches_numpy(a, b):
    for name in ("polyadd", "polysub", "polymul"):
        out, expected = getattr(fnp, name)(_a(a), _a(b)), getattr(np, name)(a, b)
        if name == "polymul":  # NumPy's polymul drops leading zeros first; JAX's (and fnx's) only when asked
            np.testing.assert_allclose(out, np.convolve(a, b), rtol=1e-12, atol=1e-12)
            out = fnp.polymul(_a(a), _a(b), trim_leading_zeros=True)
        assert out.dtype == expected.dtype and out.shape == expected.shape
        np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    if b[0] != 0 and abs(b[0]) > 1e-3:
        q, r = fnp.polydiv(_a(a), _a(b))
        q2, r2 = np.polydiv(a, b)
        np.testing.assert_allclose(q, q2, rtol=1e-9, atol=1e-9)
        assert r.shape == (a.shape[0],)  # JAX's untrimmed remainder
        np.testing.assert_allclose(r[r.shape[0] - r2.shape[0]:], r2, rtol=1e-9, atol=1e-8)
        back = np.asarray(fnp.polyadd(fnp.polymul(q, _a(b)), r))  # q b + r == a, up to leading zeros
        np.testing.assert_allclose(back, np.pad(a, (back.shape[0] - a.shape[0], 0)), atol=1e-8)
    for m in range(4):
        np.testing.assert_allclose(fnp.polyder(_a(a), m), np.polyder(a, m), rtol=1e-12)
        np.testing.assert_allclose(fnp.polyint(_a(a), m), np.polyint(a, m), rtol=1e-12)
    np.testing.assert_allclose(fnp.poly(_a(a)), np.poly(a), rtol=1e-10, atol=1e-10)


def test_dtypes_and_details():
    ints = fnp.array([1, 2, 3])
    assert fnp.polyadd(ints, fnp.array([1, 2])).dtype == np.int64
    assert fnp.polymul(ints, ints).dtype == np.int64
    np.testing.assert_array_equal(fnp.polymul(ints, ints), np.polymul([1, 2, 3], [1, 2, 3]))
    assert fnp.polyder(ints).dtype == np.int64 and fnp.polyder(fnp.ones(3)).dtype == np.float32
    assert fnp.polyint(ints).dtype == np.float64 and fnp.polyint(fnp.ones(2)).dtype == np.float32
    np.testing.assert_allclose(fnp.polyint(ints, 2, [1, 2]), np.polyint([1, 2, 3], 2, [1, 2]))
    np.testing.assert_allclose(fnp.polyint(ints, 2, 5), np.polyint([1, 2, 3], 2, 5))
    assert fnp.polyder(ints, 5).shape == np.polyder([1, 2, 3], 5).shape == (0,)
    np.testing.assert_array_equal(fnp.polyder(ints, 0), [1, 2, 3])
    q, r = fnp.polydiv(fnp.array([1., 2., 3.]), fnp.array([1., 1.]), trim_leading_zeros=True)
    np.testing.assert_array_equal(r, np.polydiv([1., 2., 3.], [1., 1.])[1])
    np.testing.assert_array_equal(fnp.polymul(fnp.array([0., 1.]), fnp.array([0., 2.]), trim_leading_zeros=True), [2.])
    assert fnp.poly(fnp.array([1, 2])).dtype == np.poly([1, 2]).dtype == np.float64
    assert fnp.poly(fnp.asarray(np.array([1., 2.], np.float32))).dtype == np.float32
    conj = np.array([1 + 2j, 1 - 2j, 3])
    out = fnp.poly(_a(conj))
    assert out.dtype == np.poly(conj).dtype == np.float64  # conjugate pairs give a real polynomial
    np.testing.assert_allclose(out, np.poly(conj))
    m = np.array([[1., 2.], [3., 4.]])
    np.testing.assert_allclose(fnp.poly(_a(m)), np.poly(m))


def test_roots_and_trim_zeros_match_numpy():
    for p in ([0., 1., -3., 2., 0.], [1., 0., 1.], [2., -4., 0., 0.], [1., 2., 3., 4., 5.], [5.], [0., 0.], [3, 1]):
        out, expected = fnp.roots(_a(p)), np.roots(p)
        assert out.dtype.kind == "c" and out.shape == expected.shape
        np.testing.assert_allclose(np.sort_complex(np.asarray(out)), np.sort_complex(expected.astype(complex)),
                                   atol=1e-10)
    np.testing.assert_array_equal(fnp.roots(_a([1., -3., 2., 0.]))[-1], 0.)  # a trailing zero is an exact root
    assert fnp.roots(fnp.array([1., 1.])).dtype == np.complex64
    for x in ([0, 0, 1, 2, 0, 3, 0], [0, 0], [1, 0], [0., 4.5]):
        for trim in ("fb", "f", "b", "FB"):
            out, expected = fnp.trim_zeros(_a(x), trim), np.trim_zeros(np.asarray(x), trim)
            assert out.dtype == expected.dtype
            np.testing.assert_array_equal(out, expected)
    grid = np.array([[0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 2, 0]])
    for axis in (None, 0, 1, -1):
        np.testing.assert_array_equal(fnp.trim_zeros(_a(grid), axis=axis), np.trim_zeros(grid, axis=axis))
    g = fnx.grad(lambda v: fnp.sum(fnp.trim_zeros(v) ** 2))(fnp.array([0., 2., 0., 3., 0.]))
    np.testing.assert_array_equal(g, [0., 4., 0., 6., 0.])


@pytest.mark.parametrize("weighted", [False, True])
def test_polyfit_matches_numpy(weighted):
    rng = np.random.default_rng(0)
    x = np.linspace(-1, 2, 12)
    y = np.stack([np.sin(3 * x), np.cos(x) + x ** 3], axis=1)
    w = rng.random(12) + 0.5 if weighted else None
    wa = None if w is None else _a(w)
    for yy in (y[:, 0], y):
        for deg in (0, 1, 3):
            out = fnp.polyfit(_a(x), _a(yy), deg, w=wa)
            np.testing.assert_allclose(out, np.polyfit(x, yy, deg, w=w), rtol=1e-9, atol=1e-12)
            assert out.shape == np.polyfit(x, yy, deg, w=w).shape
            for kind in (True, "unscaled"):
                c, v = fnp.polyfit(_a(x), _a(yy), deg, w=wa, cov=kind)
                c2, v2 = np.polyfit(x, yy, deg, w=w, cov=kind)
                assert v.shape == v2.shape
                np.testing.assert_allclose(v, v2, rtol=1e-8, atol=1e-14)
        got = fnp.polyfit(_a(x), _a(yy), 2, w=wa, full=True)
        expected = np.polyfit(x, yy, 2, w=w, full=True)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-9)
    assert fnp.polyfit(fnp.arange(5), fnp.arange(5), 1).dtype == np.float64
    assert fnp.polyfit(fnp.arange(5.), fnp.arange(5.), 1).dtype == np.float32


def test_gradients():
    p, q = _a([0.5, -1.2, 2.0]), _a([1.5, 0.3])
    check_grads(fnp.polymul, (p, q), order=2)
    check_grads(fnp.polyadd, (p, q))
    check_grads(lambda a, b: fnp.polydiv(a, b), (p, q))
    check_grads(lambda a: fnp.polyint(fnp.polyder(a), k=1.), (p,))
    check_grads(fnp.poly, (p,), order=2)
    x = _a(np.linspace(0, 1, 8))
    y = _a(np.exp(np.linspace(0, 1, 8)))
    check_grads(lambda x, y: fnp.polyfit(x, y, 2), (x, y))
    check_grads(lambda w: fnp.polyfit(x, y, 2, w=w), (_a(np.linspace(1, 2, 8)),))
    check_vmap(lambda a: fnp.polymul(a, q), (_a(np.random.default_rng(1).normal(size=(3, 4))),))


def test_errors():
    with pytest.raises(ShapeError, match="polyadd: coefficients must be 1-d"):
        fnp.polyadd(fnp.ones((2, 2)), fnp.ones(2))
    with pytest.raises(ZeroDivisionError, match="polydiv"):
        fnp.polydiv(fnp.ones(3), fnp.array([0., 1.]))
    with pytest.raises(ValueError, match="polyder: the order m must be non-negative"):
        fnp.polyder(fnp.ones(3), -1)
    with pytest.raises(ValueError, match="polyint: k must"):
        fnp.polyint(fnp.ones(3), 2, [1.])
    with pytest.raises(ValueError, match="polyfit: the degree"):
        fnp.polyfit(fnp.ones(3), fnp.ones(3), -1)
    with pytest.raises(ShapeError, match="polyfit: y"):
        fnp.polyfit(fnp.ones(3), fnp.ones(4), 1)
    with pytest.raises(ValueError, match="must exceed order"):
        fnp.polyfit(fnp.arange(3.), fnp.ones(3), 2, cov=True)
    with pytest.raises(ShapeError, match="poly: expected"):
        fnp.poly(fnp.ones((2, 3)))
    with pytest.raises(TracerError, match="roots: .*traced by vjp"):
        fnx.grad(lambda p: fnp.sum(fnp.real(fnp.roots(p))))(fnp.array([1., -3., 2.]))
    with pytest.raises(TracerError, match="trim_zeros"):
        fnx.vmap(fnp.trim_zeros)(fnp.ones((2, 3)))
    with pytest.raises(NotImplementedError, match="roots: strip_zeros=False"):
        fnp.roots(fnp.array([0., 1., 2.]), strip_zeros=False)
    with pytest.raises(ValueError, match="trim_zeros: trim"):
        fnp.trim_zeros(fnp.ones(3), "x")
