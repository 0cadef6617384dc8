"""The gamma-function family, Bessel functions i0/i0e/i1/i1e, incomplete gamma, Hurwitz zeta, log_ndtr,
kl_div and rel_entr in fnx.scipy.special (and numpy's i0): registry cases, values against SciPy over wide
ranges, dtypes, gradients, errors.

SciPy is a test oracle only: references that need it skip when it is missing.
"""
import warnings

import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
import fnx.scipy.special as fsp
from fnx.errors import DTypeError
from fnx.testing import check_grads, check_vmap
from hypothesis import strategies as st

from .harness import Case, numpy_arrays, one, two_broadcasting


def _scipy(name):
    def ref(*args):
        sps = pytest.importorskip("scipy.special")
        return getattr(sps, name)(*args)
    ref.__name__ = name
    return ref


def _sps():
    return pytest.importorskip("scipy.special")


CASES = [
    Case("i0", fsp.i0, _scipy("i0"), one()),
    Case("i1", fsp.i1, _scipy("i1"), one()),
    Case("i0e", fsp.i0e, _scipy("i0e"), one(domain="nonzero")),
    Case("i1e", fsp.i1e, _scipy("i1e"), one(domain="nonzero")),
    Case("gammainc", fsp.gammainc, _scipy("gammainc"), two_broadcasting("positive", "positive"), diff=(1,),
         rtol=1e-12),
    Case("gammaincc", fsp.gammaincc, _scipy("gammaincc"), two_broadcasting("positive", "positive"), diff=(1,),
         rtol=1e-12),
    Case("zeta", fsp.zeta, _scipy("zeta"), two_broadcasting("above_one", "positive"), diff=(1,), rtol=1e-12),
    Case("nextafter", fnp.nextafter, np.nextafter, two_broadcasting(), grad=False),
    Case("exp1", fsp.exp1, _scipy("exp1"), one(domain="positive"), rtol=1e-13),
    Case("expi", fsp.expi, _scipy("expi"), one(domain="positive"), rtol=1e-12),
    Case("expn", lambda x, n: fsp.expn(n, x), lambda x, n: _scipy("expn")(n, x),
         st.tuples(numpy_arrays(domain="positive", max_dims=2), st.integers(0, 4)), rtol=1e-13),
]


def _compare(out, expected, rtol):
    out = np.asarray(out)
    assert out.shape == expected.shape
    np.testing.assert_array_equal(np.isnan(out), np.isnan(expected))
    inf = np.isinf(expected)
    np.testing.assert_array_equal(out[inf], expected[inf])
    finite = np.isfinite(expected) & (np.abs(expected) > 1e-290)
    np.testing.assert_allclose(out[finite], expected[finite], rtol=rtol)


def test_gamma_family_matches_scipy():
    sps = _sps()
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-10, 10, 300), rng.uniform(0, 180, 100),
                        [0., -0., -1., -2., 1., 2., 0.5, -0.5, 171.5, 172., np.inf, -np.inf, np.nan]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _compare(fsp.gamma(x), sps.gamma(x), 1e-12)
        _compare(fsp.gammasgn(x), sps.gammasgn(x), 0)
        _compare(fsp.loggamma(x), sps.loggamma(x), 1e-12)
        _compare(fsp.factorial(x[:400]), sps.factorial(x[:400]), 1e-12)
        a, b = rng.uniform(-5, 5, 400), rng.uniform(-5, 5, 400)
        _compare(fsp.beta(a, b), sps.beta(a, b), 1e-12)
        _compare(fsp.betaln(a, b), sps.betaln(a, b), 1e-11)
        _compare(fsp.poch(a, b), sps.poch(a, b), 1e-12)
        for d in (1, 2, 3, 5):
            v = rng.uniform((d - 1) / 2 + 0.01, 20, 50)
            _compare(fsp.multigammaln(v, d), sps.multigammaln(v, d), 1e-12)
    assert fsp.gamma(np.float32(3.)).dtype == np.float32
    assert fsp.gamma(np.arange(4)).dtype == fsp.beta(1, 2).dtype == np.float64
    np.testing.assert_allclose(fsp.gamma(np.array([5., 0.5])), [24., np.sqrt(np.pi)], rtol=1e-14)


def test_bessel_match_scipy_and_numpy():
    sps = _sps()
    x = np.concatenate([np.linspace(-50, 50, 2001), [0., 8., -8., 1e-300, 700., -700., np.inf, np.nan]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name in ("i0", "i0e", "i1", "i1e"):
            _compare(getattr(fsp, name)(x), getattr(sps, name)(x), 1e-14)
    np.testing.assert_allclose(fnp.i0(x[:2001]), np.i0(x[:2001]), rtol=1e-14)
    assert fnp.i0(fnp.arange(3)).dtype == np.float64 and fsp.i1e(fnp.ones(2)).dtype == np.float32
    with pytest.raises(DTypeError, match="i0"):
        fnp.i0(fnp.asarray(np.array([1j])))


def test_incomplete_gamma_and_zeta_match_scipy():
    sps = _sps()
    rng = np.random.default_rng(1)
    a = np.concatenate([rng.uniform(0, 30, 1000), [0., 0., 1., -1., 2., 1e-3, 500., 1000.], rng.uniform(0, 1, 50)])
    x = np.concatenate([rng.uniform(0, 60, 1000), [0., 1., 0., 1., np.inf, 1e-3, 510., 990.],
                        rng.uniform(0, 0.01, 50)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _compare(fsp.gammainc(a, x), sps.gammainc(a, x), 1e-11)
        _compare(fsp.gammaincc(a, x), sps.gammaincc(a, x), 1e-11)
        s = np.concatenate([rng.uniform(1, 20, 500), [1., 0.5, 2., 3., 2., 2., 50.]])
        q = np.concatenate([rng.uniform(0.01, 30, 500), [1., 1., 0., -1., -1.5, 1e-3, 1.]])
        _compare(fsp.zeta(s, q), sps.zeta(s, q), 1e-13)
        riemann = np.concatenate([np.linspace(-30, 40, 3001), [0., 1e-8, 0.5, -0.5, 1., np.nan, -np.inf]])
        out, expected = np.asarray(fsp.zeta(riemann)), sps.zeta(riemann)
        np.testing.assert_allclose(out, expected, rtol=1e-11, atol=1e-15)
    assert fsp.gammainc(np.float32(1.), np.float32(2.)).dtype == np.float32
    assert fsp.zeta(2, 1).dtype == np.float64


def test_exponential_integrals_match_scipy():
    sps = _sps()
    x = np.concatenate([np.linspace(-50, 50, 1001), np.geomspace(1e-12, 700, 300),
                        [0., 1., 40., 40.0001, 709.5, 710., 800., np.inf, -np.inf, np.nan, -1e-300]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        _compare(fsp.exp1(x), sps.exp1(x), 1e-14)
        near_root = np.abs(x - 0.3725) < 0.01  # Ei's zero: relative error means nothing there
        _compare(fsp.expi(x[~near_root]), sps.expi(x[~near_root]), 3e-14)  # scipy's own error near 40
        for n in (0, 1, 2, 3, 7, 30):
            _compare(fsp.expn(n, x), sps.expn(n, x), 1e-14)
    assert fsp.expn(2, np.float32(1.)).dtype == fsp.expi(np.float32(1.)).dtype == np.float32
    check_grads(lambda v: fsp.expn(0, v), (fnp.asarray(np.array([0.3, 1.7, 4.])),), order=2)
    check_grads(lambda v: fsp.expn(3, v), (fnp.asarray(np.array([0.3, 1.7, 4.])),), order=2)
    check_grads(fsp.expi, (fnp.asarray(np.array([-2., 0.3, 1.7, 45.])),), order=2)
    check_grads(fsp.exp1, (fnp.asarray(np.array([0.3, 1.7, 45.])),), order=2)
    with pytest.raises(ValueError, match="expn: the order n"):
        fsp.expn(-1, 1.0)
    with pytest.raises(ValueError, match="expn: the order n"):
        fsp.expn(1.5, 1.0)


def test_log_ndtr_and_entropies_match_scipy():
    sps = _sps()
    z = np.concatenate([np.linspace(-60, 40, 1001), [np.inf, -np.inf, np.nan]])
    _compare(fsp.log_ndtr(z), sps.log_ndtr(z), 1e-12)
    z32 = np.linspace(-30, 15, 451).astype(np.float32)
    out = fsp.log_ndtr(z32)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, sps.log_ndtr(z32.astype(np.float64)), rtol=1e-5, atol=1e-37)  # subnormals
    rng = np.random.default_rng(2)
    u = np.concatenate([rng.uniform(-1, 3, 300), [0., 0., 1., np.nan, 0.]])
    v = np.concatenate([rng.uniform(-1, 3, 300), [0., 1., 0., 1., -1.]])
    _compare(fsp.kl_div(u, v), sps.kl_div(u, v), 1e-12)
    _compare(fsp.rel_entr(u, v), sps.rel_entr(u, v), 1e-12)


def test_gradients():
    x = fnp.asarray(np.array([0.7, 2.5, -1.5, 4.2]))
    check_grads(fsp.gamma, (x,), order=2)
    check_grads(fsp.gamma, (x,), order=2)
    a, b = fnp.asarray(np.array([0.6, 2.5, 3.1])), fnp.asarray(np.array([1.4, 0.3, 2.2]))
    for f in (fsp.beta, fsp.betaln, fsp.poch):
        check_grads(f, (a, b), order=2)
    check_grads(fsp.factorial, (a,))
    check_grads(fsp.loggamma, (a,))
    check_grads(lambda v: fsp.multigammaln(v, 3), (a + 1.5,))
    check_grads(fsp.log_ndtr, (fnp.asarray(np.array([-45., -21., -3., 0.5, 7., 9.])),), order=2)
    check_grads(fsp.kl_div, (a, b), order=2)
    check_grads(fsp.rel_entr, (a, b), order=2)
    check_grads(lambda v: fsp.gammainc(a, v), (b,), order=2)
    check_grads(lambda q: fsp.zeta(a + 1.5, q), (b,), order=2)
    for name in ("i0", "i1", "i0e", "i1e"):
        check_grads(getattr(fsp, name), (fnp.asarray(np.array([-9., -2., 0.4, 3., 12.])),), order=2)
    np.testing.assert_allclose(fnx.grad(fsp.i1)(0.), 0.5)
    np.testing.assert_allclose(fnx.grad(fnp.i0)(1.), fsp.i1(1.), rtol=1e-6)
    check_vmap(lambda v: fsp.gammaincc(2.0, v), (fnp.asarray(np.array([[0.5, 1.], [3., 9.]])),))
    check_vmap(lambda v: fsp.zeta(v, 2.0), (fnp.asarray(np.array([[1.5, 2.], [3., 9.]])),))


def test_errors():
    with pytest.raises(NotImplementedError, match="gammainc: the derivative in a"):
        fnx.grad(lambda v: fsp.gammainc(v, 1.0))(2.0)
    with pytest.raises(NotImplementedError, match="zeta: the derivative in x"):
        fnx.grad(lambda v: fsp.zeta(v, 1.0))(2.0)
    with pytest.raises(ValueError, match="multigammaln: condition"):
        fsp.multigammaln(np.array([0.4]), 3)
    with pytest.raises(ValueError, match="multigammaln: d"):
        fsp.multigammaln(3.0, 0)
    with pytest.raises(NotImplementedError, match="factorial: exact"):
        fsp.factorial(3, exact=True)
    with pytest.raises(DTypeError, match="gamma"):
        fsp.gamma(np.array([1j]))
    with pytest.raises(DTypeError, match="kl_div"):
        fsp.kl_div(np.array([1j]), 1.0)


def test_piecewise_functions_differentiate_whole_at_their_branch_points():
    # log_ndtr switches formulas at 0 and -20 (-10 in float32), laplace.cdf at loc: the derivative there is
    # the function's, not half of it (minimum/clip had split it between the two branches)
    import fnx
    import fnx.scipy.special as fsp
    import fnx.scipy.stats as stats
    from scipy.stats import norm
    for x in (0.0, -20.0):
        g = float(fnx.grad(fsp.log_ndtr)(fnp.asarray(np.float64(x))))
        np.testing.assert_allclose(g, norm.pdf(x) / norm.cdf(x), rtol=1e-9)
    g32 = float(fnx.grad(fsp.log_ndtr)(fnp.asarray(np.float32(-10.0))))
    np.testing.assert_allclose(g32, norm.pdf(-10.0) / norm.cdf(-10.0), rtol=1e-5)
    assert float(fnx.grad(stats.laplace.cdf)(fnp.asarray(np.float64(0.0)))) == 0.5
    check_grads(fsp.log_ndtr, (fnp.asarray(np.array([-30.0, -20.0, -3.0, 0.0, 2.0])),), order=2)


def test_gammaln_combinations_keep_float32_accuracy_for_large_arguments():
    # Each gammaln of 1e7 rounded to float32 first would leave nothing of their difference. Values: scipy's
    # (float64), which jax.scipy.special.betaln matches in float32.
    a = np.array([1e4, 1e5, 1e6, 1e7], np.float32)
    betaln = fsp.betaln(a, np.float32(0.5))
    assert betaln.dtype == np.float32
    np.testing.assert_allclose(betaln, [-4.0327928, -5.1840964, -6.3353900, -7.4866832], rtol=1e-6)
    np.testing.assert_allclose(fsp.beta(a, np.float32(0.5)), np.exp([-4.0327928, -5.1840964, -6.33539, -7.4866832]),
                               rtol=1e-5)
    np.testing.assert_allclose(fsp.poch(a, np.float32(0.5)), [99.998750, 316.22737, 1000.0, 3162.2776], rtol=1e-5)
    np.testing.assert_allclose(fsp.comb(np.float32(1e5), np.float32(2.0)), 4.99995e9, rtol=1e-5)


def test_gammainc_derivative_in_x_at_zero_is_the_limit():
    # x^(a-1) e^-x / Gamma(a) as x -> 0: inf below a = 1, 1 at a = 1, 0 above (JAX gives inf and 0; at a = 1 NaN).
    grad = fnx.grad(lambda x, a: fsp.gammainc(a, x))
    assert [float(grad(np.float64(0.0), np.float64(a))) for a in (0.5, 1.0, 2.0)] == [np.inf, 1.0, 0.0]
    assert float(fnx.grad(lambda x: fsp.gammaincc(np.float64(0.5), x))(np.float64(0.0))) == -np.inf


def test_erfcx_is_also_a_jax_scipy_special_name():
    x = np.array([-3.0, 0.0, 1.5, 30.0, 1e4])  # scipy.special.erfcx's values
    np.testing.assert_allclose(fsp.erfcx(x), [1.62059889e+04, 1.0, 3.21585416e-01, 1.87958889e-02, 5.64189581e-05],
                               rtol=1e-7)
