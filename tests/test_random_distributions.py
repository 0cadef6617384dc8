"""fnx.random's further distributions (as jax.random's): shapes, dtypes, determinism, the distributions
themselves (moments and Kolmogorov-Smirnov distances on fixed keys), jit, vmap, derivatives and errors."""
import math

import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx import random as fr
from fnx.errors import TracerError, DTypeError, ShapeError
from fnx.testing import check_grads, check_vmap

stats = pytest.importorskip("scipy.stats")

K = fr.key(0)
N = 20_000


def _np(x):
    return np.asarray(x)


def _ks(x, cdf):
    """The Kolmogorov-Smirnov distance between the sample ``x`` and a continuous ``cdf``."""
    x = np.sort(_np(x).ravel())
    f = cdf(x)
    n = x.size
    return max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n))


# The 0.1% critical value of the KS distance for 20000 samples is 1.95 / sqrt(N) = 0.0138: a correct
# sampler stays below it with these fixed keys, a wrong one (a moment off by a few percent) does not.
KS_BOUND = 0.0138

# ----- shapes, dtypes, determinism ------------------------------------------------------------------------

FLOAT_SAMPLERS = {
    "laplace": lambda k, s, d: fr.laplace(k, s, d),
    "logistic": lambda k, s, d: fr.logistic(k, s, d),
    "cauchy": lambda k, s, d: fr.cauchy(k, s, d),
    "lognormal": lambda k, s, d: fr.lognormal(k, 0.5, s, d),
    "pareto": lambda k, s, d: fr.pareto(k, 2.0, s, d),
    "weibull_min": lambda k, s, d: fr.weibull_min(k, 1.0, 2.0, s, d),
    "triangular": lambda k, s, d: fr.triangular(k, 0.0, 0.3, 1.0, s, d),
    "gamma": lambda k, s, d: fr.gamma(k, 0.7, s, d),
    "loggamma": lambda k, s, d: fr.loggamma(k, 0.7, s, d),
    "chisquare": lambda k, s, d: fr.chisquare(k, 3.0, s, d),
    "t": lambda k, s, d: fr.t(k, 4.0, s, d),
    "beta": lambda k, s, d: fr.beta(k, 2.0, 3.0, s, d),
    "generalized_normal": lambda k, s, d: fr.generalized_normal(k, 1.5, s, d),
}


@pytest.mark.parametrize("name", FLOAT_SAMPLERS)
def test_float_samplers_shape_dtype_and_determinism(name):
    f = FLOAT_SAMPLERS[name]
    x = f(K, (2, 3), None)
    assert x.shape == (2, 3) and x.dtype == np.float32
    assert f(K, (4,), "float64").dtype == np.float64 and f(K, (), None).shape == ()
    np.testing.assert_array_equal(_np(f(fr.key(0), (5,), "float64")), _np(f(K, (5,), "float64")))
    a, b = fr.split(fr.key(1))
    assert not np.any(_np(f(a, (5,), "float64")) == _np(f(b, (5,), "float64")))
    assert np.all(np.isfinite(_np(f(K, (1000,), None))))


def test_other_samplers_shapes_and_dtypes():
    assert fr.rademacher(K, (2, 3)).dtype == np.int64 and fr.rademacher(K, 4, "int8").dtype == np.int8
    assert fr.poisson(K, 3.0, (2, 3)).dtype == np.int64 and fr.poisson(K, [1.0, 20.0], dtype="int32").shape == (2,)
    assert fr.geometric(K, 0.5, (2, 3)).dtype == np.int64 and fr.geometric(K, np.full((3, 1), 0.5)).shape == (3, 1)
    assert fr.dirichlet(K, np.ones((2, 4))).shape == (2, 4)
    assert fr.dirichlet(K, np.ones(4), (3, 2)).shape == (3, 2, 4)
    assert fr.multivariate_normal(K, np.zeros(3), np.eye(3)).shape == (3,)
    assert fr.multivariate_normal(K, np.zeros((2, 3)), np.eye(3), dtype="float64").dtype == np.float64
    assert fr.multivariate_normal(K, np.zeros(3), np.eye(3), (4, 2)).shape == (4, 2, 3)
    assert fr.orthogonal(K, 3, (2,)).shape == (2, 3, 3) and fr.orthogonal(K, 2, m=5).shape == (2, 5)
    assert fr.ball(K, 4, 1, (2, 3), "float64").shape == (2, 3, 4)
    # parameters broadcast to the shape, and give it when it is left out
    assert fr.gamma(K, np.ones((3, 1)), (2, 3, 4)).shape == (2, 3, 4)
    assert fr.beta(K, np.ones(3), np.ones((2, 1))).shape == (2, 3)
    assert fr.triangular(K, 0.0, np.full(3, 0.5), 1.0).shape == (3,)
    # weibull_min's shape broadcasts with its parameters, as in JAX
    assert fr.weibull_min(K, np.ones((3, 1)), 2.0, (4,)).shape == (3, 4)
    # float16 is drawn in float32 and rounded
    assert fr.gamma(K, 2.0, (3,), "float16").dtype == np.float16
    fnx.set_default_dtype("float64")
    try:
        assert fr.gamma(K, 2.0).dtype == fr.laplace(K).dtype == np.float64
    finally:
        fnx.set_default_dtype("float32")

# ----- the distributions ----------------------------------------------------------------------------------

CONTINUOUS = {
    "laplace": (lambda k: fr.laplace(k, (N,), "float64"), stats.laplace()),
    "logistic": (lambda k: fr.logistic(k, (N,), "float64"), stats.logistic()),
    "cauchy": (lambda k: fr.cauchy(k, (N,), "float64"), stats.cauchy()),
    "lognormal": (lambda k: fr.lognormal(k, 0.7, (N,), "float64"), stats.lognorm(0.7)),
    "pareto": (lambda k: fr.pareto(k, 3.0, (N,), "float64"), stats.pareto(3.0)),
    "weibull_min": (lambda k: fr.weibull_min(k, 2.0, 1.5, (N,), "float64"), stats.weibull_min(1.5, scale=2.0)),
    "triangular": (lambda k: fr.triangular(k, -1.0, 0.5, 3.0, (N,), "float64"), stats.triang(0.375, -1.0, 4.0)),
    "gamma_small": (lambda k: fr.gamma(k, 0.3, (N,), "float64"), stats.gamma(0.3)),
    "gamma_one": (lambda k: fr.gamma(k, 1.0, (N,), "float64"), stats.gamma(1.0)),
    "gamma_float32": (lambda k: fr.gamma(k, 7.5, (N,)), stats.gamma(7.5)),
    "gamma_large": (lambda k: fr.gamma(k, 1e4, (N,), "float64"), stats.gamma(1e4)),
    "chisquare": (lambda k: fr.chisquare(k, 3.0, (N,), "float64"), stats.chi2(3.0)),
    "t": (lambda k: fr.t(k, 2.5, (N,), "float64"), stats.t(2.5)),
    "beta": (lambda k: fr.beta(k, 0.5, 2.0, (N,), "float64"), stats.beta(0.5, 2.0)),
    "beta_small": (lambda k: fr.beta(k, 0.05, 0.1, (N,), "float64"), stats.beta(0.05, 0.1)),
    "generalized_normal": (lambda k: fr.generalized_normal(k, 2.0, (N,), "float64"), stats.norm(0, math.sqrt(0.5))),
}


@pytest.mark.parametrize("name", CONTINUOUS)
def test_continuous_distributions(name):
    draw, dist = CONTINUOUS[name]
    x = _np(draw(fr.key(1)))
    assert _ks(x, dist.cdf) < KS_BOUND
    mean, var = dist.stats()
    if np.isfinite(var) and name != "gamma_large":  # (its variance is checked relative to the mean below)
        assert abs(x.mean() - mean) < 5 * math.sqrt(var / N)
        if name not in ("lognormal", "pareto", "t"):  # heavy fourth moments make the variance too noisy
            assert abs(x.var() / var - 1) < 0.06


def test_gamma_family_moments():
    x = _np(fr.gamma(fr.key(2), np.array([0.01, 1e4]), (N, 2), "float64"))
    assert abs(x[:, 1].mean() - 1e4) < 5 * math.sqrt(1e4 / N) and abs(x[:, 1].var() / 1e4 - 1) < 0.06
    assert abs(x[:, 0].mean() - 0.01) < 0.003
    # loggamma stays accurate where the samples underflow: E log G(a) = digamma(a), var = trigamma(a)
    from scipy.special import polygamma, psi
    lg = _np(fr.loggamma(fr.key(3), 0.001, (N,), "float64"))
    assert np.isfinite(lg).all() and abs(lg.mean() - psi(0.001)) < 5 * math.sqrt(polygamma(1, 0.001) / N)
    assert _np(fr.gamma(fr.key(3), 0.001, (100,))).min() == 0.0  # those samples underflow in float32
    # Dirichlet: mean alpha / sum, marginals Beta(alpha_i, sum - alpha_i), rows on the simplex
    alpha = np.array([0.5, 1.0, 3.0])
    d = _np(fr.dirichlet(fr.key(4), alpha, (N,), "float64"))
    np.testing.assert_allclose(d.sum(-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(d.mean(0), alpha / alpha.sum(), atol=0.005)
    assert _ks(d[:, 0], stats.beta(0.5, 4.0).cdf) < KS_BOUND


def test_poisson():
    lam = np.array([0.0, 0.3, 4.0, 10.0, 25.0, 1e7])
    x = _np(fr.poisson(fr.key(5), lam, (N // 2, lam.size)))
    assert np.all(x[:, 0] == 0) and x.min() >= 0
    for j, lj in enumerate(lam[1:], 1):
        assert abs(x[:, j].mean() - lj) < 5 * math.sqrt(2 * lj / N), lj
        assert abs(x[:, j].var() / lj - 1) < 0.08, lj
    for j in (2, 3, 4):  # the frequencies of the likeliest values, either side of the switch of method at 10
        values = np.arange(int(lam[j]) - 3, int(lam[j]) + 4)
        freq = (x[:, j][:, None] == values).mean(0)
        np.testing.assert_allclose(freq, stats.poisson(lam[j]).pmf(values), atol=0.012)


def test_binomial():
    n, p = np.array([0.0, 10.0, 100.0, 20.0, 1000.0, 50.0, 7.0]), np.array([0.3, 0.3, 0.05, 0.5, 0.3, 0.9, 1.0])
    x = _np(fr.binomial(fr.key(14), n, p, (N // 4, n.size), "float64"))
    assert x.dtype == np.float64 and np.all(x == np.floor(x)) and np.all((0 <= x) & (x <= n))
    assert np.all(x[:, 0] == 0) and np.all(x[:, -1] == 7)
    mean, var = n * p, n * p * (1 - p)
    for j in range(1, n.size - 1):  # inversion (n min(p, 1 - p) < 10) and rejection (above), and p > 1/2
        assert abs(x[:, j].mean() - mean[j]) < 5 * math.sqrt(4 * var[j] / N), j
        assert abs(x[:, j].var() / var[j] - 1) < 0.1, j
    for j in (1, 3):
        values = np.arange(int(mean[j]) - 2, int(mean[j]) + 3)
        freq = (x[:, j][:, None] == values).mean(0)
        np.testing.assert_allclose(freq, stats.binom(n[j], p[j]).pmf(values), atol=0.02)
    assert fr.binomial(K, 5, 0.5, (2, 3)).dtype == np.float32


def test_geometric_and_rademacher():
    p = np.array([0.01, 0.3, 1.0])
    x = _np(fr.geometric(fr.key(6), p, (N, 3)))
    assert x.min() == 1 and np.all(x[:, 2] == 1)
    for j in range(2):
        mean, var = 1 / p[j], (1 - p[j]) / p[j] ** 2
        assert abs(x[:, j].mean() - mean) < 5 * math.sqrt(var / N) and abs(x[:, j].var() / var - 1) < 0.1
    np.testing.assert_allclose(np.bincount(x[:, 1])[1:5] / N, stats.geom(0.3).pmf(np.arange(1, 5)), atol=0.01)
    r = _np(fr.rademacher(fr.key(7), (N,)))
    assert set(r.tolist()) == {-1, 1} and abs(r.mean()) < 5 / math.sqrt(N)


@pytest.mark.parametrize("method", ["cholesky", "eigh", "svd"])
def test_multivariate_normal(method):
    mean, cov = np.array([1.0, -1.0, 0.5]), np.array([[2.0, 0.5, 0.0], [0.5, 1.0, -0.3], [0.0, -0.3, 0.5]])
    x = _np(fr.multivariate_normal(fr.key(8), mean, cov, (N,), "float64", method=method))
    np.testing.assert_allclose(x.mean(0), mean, atol=0.05)
    np.testing.assert_allclose(np.cov(x.T), cov, atol=0.06)
    # a batch of covariances: each batch entry uses its own
    covs = np.stack([cov, 4 * np.eye(3)])
    y = _np(fr.multivariate_normal(fr.key(9), np.zeros(3), covs, (N, 2), "float64", method=method))
    np.testing.assert_allclose(y[:, 1].var(0), 4.0, rtol=0.06)


def test_orthogonal_and_ball():
    q = _np(fr.orthogonal(fr.key(10), 3, (N // 5,), "float64"))
    np.testing.assert_allclose(np.einsum("bij,bkj->bik", q, q), np.broadcast_to(np.eye(3), q.shape), atol=1e-12)
    # Haar measure on O(3): half the determinants are -1, and the trace has mean 0 and variance 1
    tr = np.trace(q, axis1=1, axis2=2)
    assert abs(np.mean(np.linalg.det(q) > 0) - 0.5) < 0.03 and abs(tr.mean()) < 0.06 and abs(tr.var() - 1) < 0.06
    wide = _np(fr.orthogonal(fr.key(10), 2, (), "float64", m=4))
    np.testing.assert_allclose(wide @ wide.T, np.eye(2), atol=1e-12)
    # uniform in the unit ball: the norm's distribution function is r**d
    for p, d in [(2, 2), (1, 3)]:
        x = _np(fr.ball(fr.key(11), d, p, (N // 2,), "float64"))
        r = np.sum(np.abs(x) ** p, axis=-1) ** (1 / p)
        assert r.max() <= 1.0 and _ks(r, lambda s: np.clip(s, 0, 1) ** d) < 1.95 / math.sqrt(N // 2)
        np.testing.assert_allclose(np.mean(x > 0, axis=0), 0.5, atol=0.02)

# ----- jit and vmap ---------------------------------------------------------------------------------------

KEYS = fr.split(fr.key(13), 3)

BATCHED = {
    "laplace": lambda k: fr.laplace(k, (3,)),
    "rademacher": lambda k: fr.rademacher(k, (3,)),
    "lognormal": lambda k: fr.lognormal(k, fnp.asarray([0.5, 1.0]), dtype="float64"),
    "triangular": lambda k: fr.triangular(k, 0.0, 1.0, 2.0, (3,), "float64"),
    "weibull_min": lambda k: fr.weibull_min(k, 1.0, 2.0, (3,), "float64"),
    "gamma": lambda k: fr.gamma(k, fnp.asarray([0.3, 2.0, 50.0]), dtype="float64"),
    "beta": lambda k: fr.beta(k, 0.5, 2.0, (2,), "float64"),
    "dirichlet": lambda k: fr.dirichlet(k, fnp.ones(3), (2,), "float64"),
    "t": lambda k: fr.t(k, 3.0, (2,), "float64"),
    "poisson": lambda k: fr.poisson(k, fnp.asarray([0.0, 3.0, 40.0])),
    "binomial": lambda k: fr.binomial(k, 30.0, fnp.asarray([0.1, 0.6]), dtype="float64"),
    "geometric": lambda k: fr.geometric(k, 0.2, (3,)),
    "multivariate_normal": lambda k: fr.multivariate_normal(k, fnp.zeros(2), fnp.eye(2), (3,), "float64"),
    "orthogonal": lambda k: fr.orthogonal(k, 3, (), "float64"),
    "ball": lambda k: fr.ball(k, 3, 2, (2,), "float64"),
}


@pytest.mark.parametrize("name", BATCHED)
def test_jit_and_vmap_over_keys(name):
    f = BATCHED[name]
    check_vmap(f, (KEYS,))  # vmap equals the loop over keys
    rows = _np(fnx.vmap(f)(KEYS))
    assert not np.array_equal(rows[0], rows[1])  # each key draws its own
    np.testing.assert_allclose(_np(fnx.jit(f)(KEYS[0])), rows[0], rtol=1e-12, atol=1e-15)


def test_vmap_over_parameters():
    check_vmap(lambda a: fr.gamma(K, a, (3,), "float64"), (fnp.asarray([0.2, 1.0, 9.0]),))
    check_vmap(lambda lam: fr.poisson(K, lam, (3,)), (fnp.asarray([0.5, 12.0, 300.0]),))
    check_vmap(lambda m: fr.multivariate_normal(K, m, fnp.eye(2), dtype="float64"), (fnp.ones((3, 2)),))

# ----- derivatives --------------------------------------------------------------------------------------------


def test_reparameterised_derivatives():
    s = fnp.asarray(0.7, dtype="float64")
    x = _np(fr.lognormal(K, s, (5,), "float64"))
    # d/dsigma exp(sigma z) = z exp(sigma z) = x log(x) / sigma
    g = fnx.grad(lambda s: fnp.sum(fr.lognormal(K, s, (5,), "float64")))(s)
    np.testing.assert_allclose(float(g), np.sum(x * np.log(x) / 0.7), rtol=1e-10)
    b = fnp.asarray(3.0, dtype="float64")
    y = _np(fr.pareto(K, b, (5,), "float64"))
    # d/db exp(e / b) = -(e / b**2) exp(e / b) = -y log(y) / b
    g = fnx.grad(lambda b: fnp.sum(fr.pareto(K, b, (5,), "float64")))(b)
    np.testing.assert_allclose(float(g), np.sum(-y * np.log(y) / 3.0), rtol=1e-10)
    check_grads(lambda sc, c: fr.weibull_min(K, sc, c, (4,), "float64"), (fnp.asarray(1.5, dtype="float64"),
                                                               fnp.asarray([2.0, 0.8, 1.0, 3.0], dtype="float64")))
    check_grads(lambda lo, m, hi: fr.triangular(K, lo, m, hi, (6,), "float64"),
                tuple(fnp.asarray(v, dtype="float64") for v in (-1.0, 0.3, 2.0)))


def test_multivariate_normal_is_differentiable_in_mean_and_cov():
    def f(mean, a):
        return fr.multivariate_normal(K, mean, a @ a.T + fnp.eye(3), (2,), "float64", method="cholesky")
    a = fnp.asarray(np.random.default_rng(0).normal(size=(3, 3)))
    check_grads(f, (fnp.asarray([0.5, -1.0, 2.0], dtype="float64"), a))
    g = fnx.grad(lambda m: fnp.sum(fr.multivariate_normal(K, m, np.eye(3), (4,), "float64")))(fnp.zeros(3, dtype="float64"))
    np.testing.assert_allclose(_np(g), 4.0)


def test_shape_parameters_refuse_to_be_differentiated():
    """gamma's implicit derivative is not implemented: differentiating the samplers built on it through
    their shape parameters raises, rather than returning a wrong zero; vmap, jit and stop_gradient work."""
    a = fnp.asarray(2.0, dtype="float64")
    samplers = {"gamma": lambda a: fr.gamma(K, a, (3,)), "beta": lambda a: fr.beta(K, 2.0, a, (3,)),
                "t": lambda a: fr.t(K, a, (3,)), "chisquare": lambda a: fr.chisquare(K, a, (3,)),
                "loggamma": lambda a: fr.loggamma(K, a, (3,)),
                "dirichlet": lambda a: fr.dirichlet(K, fnp.reshape(a, (1,)) * fnp.ones(2, dtype="float64"))}
    for name, f in samplers.items():
        with pytest.raises(TracerError, match=f"{name}: no derivative"):
            fnx.grad(lambda a: fnp.sum(f(a)))(a)
        with pytest.raises(TracerError, match=f"{name}: no derivative"):
            fnx.jvp(lambda a: fnp.sum(f(a)), (a,), (a,))
        if name != "dirichlet":  # the escape: the parameter itself stopped
            assert float(fnx.grad(lambda a: fnp.sum(f(fnx.stop_gradient(a))) * a)(a)) != 0.0
        np.testing.assert_array_equal(_np(fnx.vmap(f)(fnp.stack([a, a]))[0]), _np(f(a)))
        np.testing.assert_array_equal(_np(fnx.jit(f)(a)), _np(f(a)))
    alpha = fnp.asarray([2.0, 3.0], dtype="float64")
    assert fnx.grad(lambda a: fnp.sum(fr.dirichlet(K, fnx.stop_gradient(a))[0] * a))(alpha).shape == (2,)

# ----- errors -----------------------------------------------------------------------------------------------


def test_errors():
    with pytest.raises(DTypeError, match="gamma: dtype must be a floating dtype, got int32"):
        fr.gamma(K, 1.0, (2,), "int32")
    with pytest.raises(DTypeError, match="laplace: dtype must be a floating dtype"):
        fr.laplace(K, (2,), "int64")
    with pytest.raises(DTypeError, match="poisson: dtype must be a signed integer dtype, got float32"):
        fr.poisson(K, 1.0, dtype="float32")
    with pytest.raises(DTypeError, match="rademacher: dtype must be a signed integer dtype"):
        fr.rademacher(K, (2,), "uint8")
    with pytest.raises(ShapeError, match=r"gamma: a of shape \(3,\) does not broadcast to shape \(2,\)"):
        fr.gamma(K, np.ones(3), (2,))
    with pytest.raises(ShapeError, match=r"beta: shapes \(3,\), \(2,\) cannot be broadcast"):
        fr.beta(K, np.ones(3), np.ones(2))
    with pytest.raises(ShapeError, match=r"dirichlet: alpha of shape \(2, 3\) does not broadcast"):
        fr.dirichlet(K, np.ones((2, 3)), (4,))
    with pytest.raises(ShapeError, match="dirichlet: alpha must have at least one dimension"):
        fr.dirichlet(K, 1.0)
    with pytest.raises(ShapeError, match=r"multivariate_normal: mean must have shape \(..., n\) and cov"):
        fr.multivariate_normal(K, np.zeros(3), np.eye(2))
    with pytest.raises(ShapeError, match=r"multivariate_normal: the batch shapes \(2,\)"):
        fr.multivariate_normal(K, np.zeros((2, 3)), np.eye(3), (4,))
    with pytest.raises(ValueError, match="multivariate_normal: method must be"):
        fr.multivariate_normal(K, np.zeros(3), np.eye(3), method="qr")
    with pytest.raises(ValueError, match="gamma: a must be non-negative"):
        fr.gamma(K, [1.0, -1.0])
    with pytest.raises(ValueError, match="poisson: lam must be non-negative"):
        fr.poisson(K, -0.5)
    with pytest.raises(ValueError, match="binomial: n must be a non-negative integer"):
        fr.binomial(K, 2.5, 0.5)
    with pytest.raises(ValueError, match=r"binomial: p must lie in \[0, 1\]"):
        fr.binomial(K, 3, 1.5)
    with pytest.raises(ValueError, match=r"geometric: p must lie in \(0, 1\]"):
        fr.geometric(K, 0.0)
    with pytest.raises(ValueError, match="triangular: need left <= mode <= right"):
        fr.triangular(K, 0.0, 2.0, 1.0)
    with pytest.raises(ValueError, match="ball: p must be a positive number"):
        fr.ball(K, 3, p=0)
    with pytest.raises(ValueError, match="orthogonal: n must be a non-negative integer"):
        fr.orthogonal(K, -1)
    with pytest.raises(TypeError, match="weibull_min: expected a key"):
        fr.weibull_min(np.zeros(2), 1.0, 1.0)


def test_traced_invalid_parameters_give_nan_or_minus_one():
    """Checks on values need concrete parameters; under a transform invalid ones give NaN (or -1), as in JAX."""
    assert np.isnan(_np(fnx.jit(lambda a: fr.gamma(K, a, dtype="float64"))(fnp.asarray(-1.0))))
    assert int(fnx.jit(lambda lam: fr.poisson(K, lam))(fnp.asarray(-1.0))) == -1


def test_a_shape_parameter_of_zero_samples_zero_as_jax_so_dirichlet_can_mask_a_category():
    # jax 0.10: gamma(0) = 0, loggamma(0) = -inf, beta(0, 1) = 0, beta(1, 0) = 1, a 0 in dirichlet's alpha a 0 draw
    g = fr.gamma(K, np.array([0.0, 1.0, 0.5]))
    assert float(g[0]) == 0.0 and (np.asarray(g[1:]) > 0).all()
    assert float(fr.loggamma(K, np.array([0.0, 1.0]))[0]) == -np.inf
    assert float(fr.beta(K, 0.0, 1.0)) == 0.0 and float(fr.beta(K, 1.0, 0.0)) == 1.0
    for draw in (fr.dirichlet(K, np.array([1.0, 0.0, 1.0])),
                 fnx.jit(lambda a: fr.dirichlet(K, a))(np.array([1.0, 0.0, 1.0]))):
        assert float(draw[1]) == 0.0 and float(draw.sum()) == pytest.approx(1.0)
