"""fnx.random's maxwell, double_sided_maxwell, rayleigh, wald, f and multinomial (as jax.random's), against
closed-form distribution functions on fixed keys (and scipy.stats for one F, when installed); and clone,
key_data and wrap_key_data."""
import math

import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx import random as fr
from fnx.errors import ShapeError, TracerError
from fnx.testing import check_grads, check_vmap

K = fr.key(0)
KEYS = fr.split(fr.key(1), 3)
N = 20_000
# The 0.1% critical value of the Kolmogorov-Smirnov distance for 20000 samples (see test_random_distributions.py).
KS_BOUND = 0.0138


def _ks(x, cdf):
    x = np.sort(np.asarray(x).ravel())
    f = cdf(x)
    n = x.size
    return max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n))


SAMPLERS = {
    "maxwell": lambda k, s, d: fr.maxwell(k, s, d),
    "double_sided_maxwell": lambda k, s, d: fr.double_sided_maxwell(k, 1.0, 2.0, s, d),
    "rayleigh": lambda k, s, d: fr.rayleigh(k, 2.0, s, d),
    "wald": lambda k, s, d: fr.wald(k, 3.0, s, d),
    "f": lambda k, s, d: fr.f(k, 2.0, 4.0, s, d),
}


@pytest.mark.parametrize("name", SAMPLERS)
def test_shape_dtype_and_determinism(name):
    f = SAMPLERS[name]
    x = f(K, (2, 3), None)
    assert x.shape == (2, 3) and x.dtype == np.float32
    assert f(K, (4,), "float64").dtype == np.float64 and f(K, (), None).shape == ()
    np.testing.assert_array_equal(np.asarray(f(K, (5,), None)), np.asarray(f(K, (5,), None)))
    assert not np.array_equal(np.asarray(f(K, (5,), None)), np.asarray(f(fr.key(1), (5,), None)))


# ----- distribution functions, written out (scipy is not a test dependency) ----------------------------

_erf = np.vectorize(math.erf)


def _phi(x):
    return 0.5 * (1 + _erf(np.asarray(x) / math.sqrt(2)))


def _maxwell_cdf(x):
    x = np.maximum(x, 0)
    return _erf(x / math.sqrt(2)) - math.sqrt(2 / math.pi) * x * np.exp(-x * x / 2)


def _double_sided_maxwell_cdf(x, loc=1.0, scale=2.0):
    z = (x - loc) / scale
    return 0.5 + np.sign(z) * 0.5 * _maxwell_cdf(np.abs(z))


def _wald_cdf(mean):
    """The inverse Gaussian distribution function of mean ``mean`` and shape 1."""
    def cdf(x):
        r = np.sqrt(1 / x)
        return _phi(r * (x / mean - 1)) + np.exp(2 / mean) * _phi(-r * (x / mean + 1))
    return cdf


def _f_2_4_cdf(x):
    """F(2, 4): 2 x / (2 x + 4) is Beta(1, 2), whose distribution function is 1 - (1 - u)**2."""
    u = 2 * x / (2 * x + 4)
    return 1 - (1 - u) ** 2


DISTRIBUTIONS = {
    "maxwell": _maxwell_cdf,
    "double_sided_maxwell": _double_sided_maxwell_cdf,
    "rayleigh": lambda x: 1 - np.exp(-x * x / 8.0),  # scale 2
    "wald": _wald_cdf(3.0),
    "f": _f_2_4_cdf,
}


@pytest.mark.parametrize("name", SAMPLERS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_distributions(name, dtype):
    x = np.asarray(SAMPLERS[name](K, (N,), dtype), np.float64)
    assert np.isfinite(x).all()
    assert _ks(x, DISTRIBUTIONS[name]) < KS_BOUND


def test_wald_stays_accurate_for_large_means():
    # JAX's form mean + mean**2 y / 2 - mean sqrt(...) / 2 cancels when mean * y is large
    x = np.asarray(fr.wald(K, 1e4, (N,), "float32"), np.float64)
    assert (x > 0).all() and np.isfinite(x).all()
    assert _ks(x, _wald_cdf(1e4)) < KS_BOUND


def test_f_against_scipy():
    stats = pytest.importorskip("scipy.stats")
    x = np.asarray(fr.f(K, 3.0, 7.0, (N,), "float64"))
    assert _ks(x, stats.f(3.0, 7.0).cdf) < KS_BOUND


def test_double_sided_maxwell_shapes():
    assert fr.double_sided_maxwell(K, 0.0, fnp.ones(3), (2,)).shape == (2, 3)
    assert fr.double_sided_maxwell(K, fnp.zeros((2, 1)), fnp.ones(3)).shape == (2, 3)
    assert fr.double_sided_maxwell(K, 0.0, 1.0, (4,)).shape == (4,)


def test_multinomial():
    p = fnp.asarray([0.1, 0.0, 0.6, 0.3], "float64")
    keys = fr.split(K, 4000)
    c = np.asarray(fnx.vmap(lambda k: fr.multinomial(k, 20, p, dtype="float64"))(keys))
    assert c.dtype == np.float64 and (c.sum(1) == 20).all() and (c[:, 1] == 0).all()
    pv = np.asarray(p)
    assert np.all(np.abs(c.mean(0) - 20 * pv) <= 4 * np.sqrt(20 * pv * (1 - pv) / 4000) + 1e-12)
    cov = np.cov(c.T)
    expected = 20 * (np.diag(pv) - np.outer(pv, pv))
    np.testing.assert_allclose(cov, expected, atol=0.25)
    # each count's marginal is binomial(20, p_i)
    for i in (0, 2):
        freq = np.bincount(c[:, i].astype(int), minlength=21) / len(c)
        pmf = [math.comb(20, j) * pv[i] ** j * (1 - pv[i]) ** (20 - j) for j in range(21)]
        assert np.abs(freq - pmf).max() < 0.03


def test_multinomial_shapes_dtypes_and_errors():
    c = fr.multinomial(K, fnp.asarray([5.0, 100.0]), fnp.asarray([0.2, 0.3, 0.5]), shape=(2, 3))
    assert c.shape == (2, 3) and c.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(c.sum(-1)), [5.0, 100.0])
    assert fr.multinomial(K, 10, fnp.asarray([0.5, 0.5]), dtype="int32").dtype == np.int32
    with pytest.raises(ShapeError, match="categories"):
        fr.multinomial(K, 10, 0.5)
    with pytest.raises(ShapeError, match="broadcast"):
        fr.multinomial(K, fnp.ones(3), fnp.asarray([0.5, 0.5]))
    with pytest.raises(ValueError, match="p must lie"):
        fr.multinomial(K, 10, fnp.asarray([1.5, -0.5]))


def test_jit_and_vmap_over_keys():
    for name, f in SAMPLERS.items():
        g = (lambda k, f=f: f(k, (3,), "float64"))
        check_vmap(g, (KEYS,))
        rows = np.asarray(fnx.vmap(g)(KEYS))
        assert not np.array_equal(rows[0], rows[1]), name
        np.testing.assert_allclose(np.asarray(fnx.jit(g)(KEYS[0])), rows[0], rtol=1e-12, atol=1e-15)
    g = (lambda k: fr.multinomial(k, 10, fnp.asarray([0.3, 0.7]), dtype="float64"))
    check_vmap(g, (KEYS,))


def test_derivatives():
    # rayleigh is linear in scale: d/dscale = sample / scale
    s = fnp.asarray(2.0, "float64")
    x = np.asarray(fr.rayleigh(K, s, (5,), "float64"))
    np.testing.assert_allclose(float(fnx.grad(lambda s: fnp.sum(fr.rayleigh(K, s, (5,), "float64")))(s)),
                               x.sum() / 2.0, rtol=1e-12)
    check_grads(lambda loc, scale: fr.double_sided_maxwell(K, loc, scale, (4,), "float64"),
                (fnp.asarray(0.5, "float64"), fnp.asarray(1.5, "float64")))
    check_grads(lambda m: fr.wald(K, m, (6,), "float64"), (fnp.asarray(2.0, "float64"),))
    with pytest.raises(TracerError, match="f: no derivative"):
        fnx.grad(lambda d: fnp.sum(fr.f(K, d, 3.0, (3,))))(fnp.asarray(2.0, "float64"))


def test_parameter_errors():
    with pytest.raises(ValueError, match="scale must be positive"):
        fr.rayleigh(K, -1.0, (2,))
    with pytest.raises(ValueError, match="mean must be positive"):
        fr.wald(K, 0.0, (2,))
    with pytest.raises(ValueError, match="must be positive"):
        fr.f(K, 3.0, -1.0, (2,))
    with pytest.raises(ShapeError):
        fr.rayleigh(K, fnp.ones(3), (2,))
    with pytest.raises(TypeError, match="expected a key"):
        fr.maxwell(fnp.ones(3), (2,))


def test_key_data_clone_and_wrap():
    k = fr.key(7)
    keys = fr.split(k, 4)
    assert fr.clone(k) is not None and np.array_equal(np.asarray(fr.clone(k)), np.asarray(k))
    np.testing.assert_array_equal(np.asarray(fr.key_data(keys)), np.asarray(keys))
    assert fr.key_data(keys).dtype == np.uint32 and fr.key_data(keys).shape == (4, 2)
    np.testing.assert_array_equal(np.asarray(fr.normal(fr.wrap_key_data(fr.key_data(k)), (3,))),
                                  np.asarray(fr.normal(k, (3,))))
    assert fr.wrap_key_data(fnp.asarray([0, 7], "uint32"), impl="threefry2x32").shape == (2,)
    with pytest.raises(ValueError, match="threefry2x32"):
        fr.wrap_key_data(keys, impl="rbg")
    with pytest.raises(TypeError, match="uint32"):
        fr.key_data(fnp.ones(2))
    with pytest.raises(TypeError, match="uint32"):
        fr.wrap_key_data(fnp.asarray([1, 2, 3], "uint32"))


def test_key_data_matches_jax():
    jax = pytest.importorskip("jax")
    np.testing.assert_array_equal(np.asarray(fr.key_data(fr.key(3))),
                                  np.asarray(jax.random.key_data(jax.random.key(3))))
    np.testing.assert_allclose(np.asarray(fr.maxwell(fr.key(3), (5,))), np.asarray(jax.random.maxwell(
        jax.random.key(3), (5,))), rtol=1e-6)


def test_moments():
    x = np.asarray(fr.maxwell(K, (N,), "float64"))
    assert abs(x.mean() / (2 * math.sqrt(2 / math.pi)) - 1) < 0.01
    w = np.asarray(fr.wald(K, 3.0, (N,), "float64"))
    assert abs(w.mean() / 3.0 - 1) < 0.05  # mean mu, variance mu**3 = 27
