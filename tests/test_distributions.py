"""fnx.distributions against scipy.stats, closed forms, numerical integration and (where installed) PyTorch.

* Densities, distribution functions, quantiles, entropies and moments of every
  distribution are compared with scipy.stats on hypothesis-drawn float64
  parameters (scipy comes with the test extras; the tests skip without it).
* Each KL divergence is compared with an independent computation: the
  integral of ``p log(p / q)`` by quadrature on a fine grid (or an exact sum),
  built from the distributions' own densities, which the tests above check.
* Draws: shapes (``sample_shape + batch_shape + event_shape``), dtypes, and their
  distribution (moments and Kolmogorov-Smirnov distances, with fixed seeds).
* Derivatives of ``log_prob``, ``entropy``, ``kl_divergence`` and ``rsample``
  against central differences (``fnx.testing.check_grads``); the implicit
  derivatives of gamma draws against ``-dF/da / f``; ``loss.backward()`` on
  ``fnx.nn.Parameter`` arguments.
* Argument and value validation, and the KL registry's errors.
* A table against ``torch.distributions`` for every distribution and KL pair.
"""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import fnx
import fnx.distributions as D
import fnx.numpy as fnp
from fnx.distributions import constraints, kl_divergence, register_kl
from fnx.testing import check_grads

try:
    from scipy import special as ss, stats
except ImportError:  # pragma: no cover - scipy comes with the test extras
    stats = None

needs_scipy = pytest.mark.skipif(stats is None, reason="scipy is not installed")


def a64(x):
    return fnp.asarray(np.asarray(x, dtype=np.float64))


def close(actual, expected, rtol=1e-8, atol=1e-10):
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64),
                               rtol=rtol, atol=atol, equal_nan=True)


real = st.floats(-4.0, 4.0)


def pos(lo=0.2, hi=8.0):
    return st.floats(lo, hi)


def prob(lo=0.02, hi=0.98):
    return st.floats(lo, hi)


def simplex(draw, k, lo=0.05):
    w = np.array([draw(st.floats(lo, 1.0)) for _ in range(k)])
    return w / w.sum()

# ----- against scipy.stats --------------------------------------------------------------------------------
#
# Each case draws scalar float64 parameters and a point, and returns the fnx distribution, the frozen scipy
# distribution, the point, and which of scipy's methods apply ("ppf" draws its own probability).


def _normal(draw):
    loc, scale = draw(real), draw(pos())
    return D.Normal(a64(loc), a64(scale)), stats.norm(loc, scale), draw(st.floats(-8, 8)), \
        ("logpdf", "cdf", "ppf", "entropy", "mean", "var")


def _uniform(draw):
    low, width = draw(real), draw(pos())
    x = low + width * draw(st.floats(0.0, 0.999))
    return D.Uniform(a64(low), a64(low + width)), stats.uniform(low, width), x, \
        ("logpdf", "cdf", "ppf", "entropy", "mean", "var")


def _exponential(draw):
    rate = draw(pos())
    return D.Exponential(a64(rate)), stats.expon(scale=1 / rate), draw(st.floats(0.0, 5.0)), \
        ("logpdf", "cdf", "ppf", "entropy", "mean", "var")


def _laplace(draw):
    loc, scale = draw(real), draw(pos())
    return D.Laplace(a64(loc), a64(scale)), stats.laplace(loc, scale), draw(st.floats(-8, 8)), \
        ("logpdf", "cdf", "ppf", "entropy", "mean", "var")


def _cauchy(draw):
    loc, scale = draw(real), draw(pos())
    return D.Cauchy(a64(loc), a64(scale)), stats.cauchy(loc, scale), draw(st.floats(-8, 8)), \
        ("logpdf", "cdf", "ppf", "entropy")


def _gamma(draw):
    c, r = draw(pos(0.1, 20.0)), draw(pos())
    return D.Gamma(a64(c), a64(r)), stats.gamma(c, scale=1 / r), draw(st.floats(0.01, 10.0)), \
        ("logpdf", "cdf", "entropy", "mean", "var")


def _chi2(draw):
    df = draw(pos(0.2, 20.0))
    return D.Chi2(a64(df)), stats.chi2(df), draw(st.floats(0.01, 20.0)), ("logpdf", "cdf", "entropy", "mean", "var")


def _beta(draw):
    a, b = draw(pos(0.1, 10.0)), draw(pos(0.1, 10.0))
    return D.Beta(a64(a), a64(b)), stats.beta(a, b), draw(st.floats(0.01, 0.99)), ("logpdf", "entropy", "mean", "var")


def _student_t(draw):
    df, loc, scale = draw(pos(0.5, 30.0)), draw(real), draw(pos())
    # where the moments are infinite or undefined, PyTorch's conventions (checked below) differ from scipy's
    moments = ("mean",) * (df > 1) + ("var",) * (df > 2)
    return D.StudentT(a64(df), a64(loc), a64(scale)), stats.t(df, loc, scale), draw(st.floats(-8, 8)), \
        ("logpdf", "entropy") + moments


def _lognormal(draw):
    loc, scale = draw(st.floats(-2, 2)), draw(pos(0.2, 2.0))
    return D.LogNormal(a64(loc), a64(scale)), stats.lognorm(s=scale, scale=math.exp(loc)), \
        draw(st.floats(0.01, 10.0)), ("logpdf", "cdf", "ppf", "entropy", "mean", "var")


def _gumbel(draw):
    loc, scale = draw(real), draw(pos())
    return D.Gumbel(a64(loc), a64(scale)), stats.gumbel_r(loc, scale), draw(st.floats(-6, 12)), \
        ("logpdf", "cdf", "ppf", "entropy", "mean", "var")


def _poisson(draw):
    rate = draw(pos(0.1, 30.0))
    return D.Poisson(a64(rate)), stats.poisson(rate), float(draw(st.integers(0, 40))), ("logpmf", "mean", "var")


def _binomial(draw):
    n, p = draw(st.integers(0, 30)), draw(prob())
    return D.Binomial(a64(float(n)), a64(p)), stats.binom(n, p), float(draw(st.integers(0, n))), \
        ("logpmf", "entropy", "mean", "var")


def _bernoulli(draw):
    p = draw(prob())
    return D.Bernoulli(a64(p)), stats.bernoulli(p), float(draw(st.integers(0, 1))), ("logpmf", "entropy", "mean", "var")


def _dirichlet(draw):
    k = draw(st.integers(2, 4))
    alpha = np.array([draw(pos(0.2, 8.0)) for _ in range(k)])
    return D.Dirichlet(a64(alpha)), stats.dirichlet(alpha), simplex(draw, k), ("logpdf", "entropy", "mean", "var")


def _mvn(draw):
    k = draw(st.integers(1, 3))
    A = np.array([[draw(st.floats(-1, 1)) for _ in range(k)] for _ in range(k)])
    cov, loc = A @ A.T + 0.5 * np.eye(k), np.array([draw(real) for _ in range(k)])
    x = np.array([draw(real) for _ in range(k)])
    form = draw(st.sampled_from(["covariance_matrix", "precision_matrix", "scale_tril"]))
    matrix = {"covariance_matrix": cov, "precision_matrix": np.linalg.inv(cov),
              "scale_tril": np.linalg.cholesky(cov)}[form]
    return D.MultivariateNormal(a64(loc), **{form: a64(matrix)}), stats.multivariate_normal(loc, cov), x, \
        ("logpdf", "entropy")


SCIPY_CASES = {"Normal": _normal, "Uniform": _uniform, "Exponential": _exponential, "Laplace": _laplace,
               "Cauchy": _cauchy, "Gamma": _gamma, "Chi2": _chi2, "Beta": _beta, "StudentT": _student_t,
               "LogNormal": _lognormal, "Gumbel": _gumbel, "Poisson": _poisson, "Binomial": _binomial,
               "Bernoulli": _bernoulli, "Dirichlet": _dirichlet, "MultivariateNormal": _mvn}


@needs_scipy
@pytest.mark.parametrize("name", SCIPY_CASES)
@given(data=st.data())
def test_against_scipy_stats(name, data):
    d, ref, x, methods = SCIPY_CASES[name](data.draw)
    value = a64(x)
    for m in methods:
        if m == "logpdf":
            close(d.log_prob(value), ref.logpdf(x))
        elif m == "logpmf":
            close(d.log_prob(value), ref.logpmf(x))
        elif m == "cdf":
            close(d.cdf(value), ref.cdf(x), atol=1e-12)
        elif m == "ppf":
            u = data.draw(st.floats(0.01, 0.99), label="u")
            close(d.icdf(a64(u)), ref.ppf(u), rtol=1e-7, atol=1e-9)
        elif m == "entropy":
            close(d.entropy(), ref.entropy(), rtol=1e-7, atol=1e-9)
        elif m == "mean":
            close(d.mean, ref.mean())
        elif m == "var":
            close(d.variance, ref.var(), rtol=1e-7)
    assert d.log_prob(value).dtype == np.float64


@given(data=st.data())
def test_categorical_closed_form(data):
    k = data.draw(st.integers(2, 5))
    p = simplex(data.draw, k)
    for d in (D.Categorical(probs=a64(p * 3.0)), D.Categorical(logits=a64(np.log(p) + 1.5))):
        close(d.probs, p)
        close(d.log_prob(a64(np.arange(k))), np.log(p))
        close(d.entropy(), -(p * np.log(p)).sum())
        assert int(d.mode) == int(np.argmax(p))
        oh = D.OneHotCategorical(probs=a64(p))
        close(oh.log_prob(a64(np.eye(k))), np.log(p))
        close(oh.variance, p * (1 - p))


def test_closed_forms_in_float32():
    """A few values worked by hand, in fnx's default float32 (Python-number parameters)."""
    d = D.Normal(1.0, 2.0)
    assert d.batch_shape == () and d.loc.dtype == np.float32
    assert D.Normal(np.zeros(2), 1.0).scale.dtype == np.float64  # arrays, not numbers, choose the dtype
    assert D.Normal(fnp.zeros(2, dtype="float64"), fnp.ones(2)).loc.dtype == np.float64
    x = fnp.array([0.0, 3.0])
    close(d.log_prob(x), [-0.125 - math.log(2.0) - 0.5 * math.log(2 * math.pi),
                          -0.5 - math.log(2.0) - 0.5 * math.log(2 * math.pi)], rtol=1e-6)
    close(d.cdf(fnp.array(1.0)), 0.5, rtol=1e-6)
    close(D.Exponential(2.0).log_prob(fnp.array(1.0)), math.log(2.0) - 2.0, rtol=1e-6)
    close(D.Laplace(0.0, 0.5).cdf(fnp.array(0.5)), 1 - 0.5 * math.exp(-1.0), rtol=1e-6)
    close(D.Poisson(3.0).log_prob(fnp.array(2.0)), 2 * math.log(3.0) - 3.0 - math.log(2.0), rtol=1e-6)
    close(D.Gamma(1.0, 3.0).log_prob(fnp.array(0.5)), D.Exponential(3.0).log_prob(fnp.array(0.5)), rtol=1e-6)
    close(D.Beta(1.0, 1.0).log_prob(fnp.array(0.3)), 0.0, atol=1e-6)
    close(D.Uniform(0.0, 2.0, validate_args=False).log_prob(fnp.array([-1.0, 1.0, 2.0])),
          [-math.inf, -math.log(2.0), -math.inf])
    close(D.Bernoulli(logits=0.0).entropy(), math.log(2.0), rtol=1e-6)
    close(D.Binomial(4, probs=0.5).entropy(), -sum(math.comb(4, k) / 16 * math.log(math.comb(4, k) / 16)
                                                   for k in range(5)), rtol=1e-6)
    close(D.Cauchy(0.0, 1.0).mean, math.nan)
    assert float(D.Cauchy(0.0, 1.0).variance) == math.inf
    close(D.StudentT(fnp.array([0.5, 1.5, 4.0])).variance, [math.nan, math.inf, 2.0])
    close(D.StudentT(fnp.array([0.5, 1.5])).mean, [math.nan, 0.0])
    close(D.Bernoulli(fnp.array([0.2, 0.5, 0.7])).mode, [0.0, math.nan, 1.0])
    close(D.Dirichlet(fnp.array([0.5, 0.7])).mode, [1.0, 0.0])
    close(D.Dirichlet(fnp.array([2.0, 3.0])).mode, [1 / 3, 2 / 3], rtol=1e-6)
    close(D.Gamma(0.5, 1.0).mode, 0.0)

# ----- KL divergences against quadrature ------------------------------------------------------------------


def _simpson(y, h):
    return h / 3 * (y[0] + y[-1] + 4 * y[1:-1:2].sum() + 2 * y[2:-1:2].sum())


def _quad(p, q, breaks, to_x, log_jac, n=4001):
    """The integral of ``p log(p / q)`` by Simpson's rule on each piece between ``breaks`` (points where the
    integrand has a kink), in a variable ``t`` with ``x = to_x(t)``."""
    total = 0.0
    for a, b in zip(breaks[:-1], breaks[1:]):
        t = np.linspace(a, b, n)
        x = to_x(t)
        lp, lq = np.asarray(p.log_prob(a64(x))), np.asarray(q.log_prob(a64(x)))
        total += _simpson(np.exp(lp + log_jac(t)) * (lp - lq), t[1] - t[0])
    return total


_LINE = (lambda t: t, lambda t: np.zeros_like(t))
_EXP = (np.exp, lambda t: t)  # x = e^t: (0, inf)
_LOGIT = (lambda t: 1 / (1 + np.exp(-t)), lambda t: -np.logaddexp(0, t) - np.logaddexp(0, -t))  # (0, 1)


def _locs(*ds):
    return sorted(float(d.loc) for d in ds)


def _kl_normal(draw):
    return (D.Normal(a64(draw(real)), a64(draw(pos(0.3, 3)))), D.Normal(a64(draw(real)), a64(draw(pos(0.3, 3)))),
            [-40, 40], _LINE)


def _kl_laplace(draw):
    p = D.Laplace(a64(draw(real)), a64(draw(pos(0.3, 3))))
    q = D.Laplace(a64(draw(real)), a64(draw(pos(0.3, 3))))
    return p, q, [-60] + _locs(p, q) + [60], _LINE


def _kl_exponential(draw):
    return D.Exponential(a64(draw(pos()))), D.Exponential(a64(draw(pos()))), [-40, 6], _EXP


def _kl_gamma(draw):
    return (D.Gamma(a64(draw(pos(0.3, 10))), a64(draw(pos()))), D.Gamma(a64(draw(pos(0.3, 10))), a64(draw(pos()))),
            [-60, 6], _EXP)


def _kl_beta(draw):
    # x = sigmoid(t) rounds to 1 beyond t = 36, so p's concentration0 stays above 0.6 (tail mass below 1e-9)
    return (D.Beta(a64(draw(pos(0.6, 8))), a64(draw(pos(0.6, 8)))),
            D.Beta(a64(draw(pos(0.3, 8))), a64(draw(pos(0.3, 8)))), [-80, 36], _LOGIT)


def _kl_lognormal(draw):
    return (D.LogNormal(a64(draw(real)), a64(draw(pos(0.3, 2)))), D.LogNormal(a64(draw(real)), a64(draw(pos(0.3, 2)))),
            [-30, 30], _EXP)


def _kl_gumbel(draw):
    return (D.Gumbel(a64(draw(real)), a64(draw(pos(0.3, 2)))), D.Gumbel(a64(draw(real)), a64(draw(pos(0.3, 2)))),
            [-30, 60], _LINE)


def _kl_cauchy(draw):
    # heavy tails: integrate in the angle, x = loc + scale tan(t); tan and cos stay finite at the rounded ends
    loc, scale = draw(real), draw(pos(0.3, 3))
    p, q = D.Cauchy(a64(loc), a64(scale)), D.Cauchy(a64(draw(real)), a64(draw(pos(0.3, 3))))
    return p, q, [-math.pi / 2, math.pi / 2], (lambda t: loc + scale * np.tan(t),
                                               lambda t: np.log(scale) - 2 * np.log(np.cos(t)))


def _kl_uniform(draw):
    lo, w = draw(real), draw(pos(0.5, 3))
    inner = D.Uniform(a64(lo + 0.25 * w), a64(lo + 0.75 * w))
    outer = D.Uniform(a64(lo), a64(lo + w))
    return inner, outer, [lo + 0.25 * w, lo + 0.75 * w - 1e-9], _LINE


def _kl_exponential_gamma(draw):
    return D.Exponential(a64(draw(pos()))), D.Gamma(a64(draw(pos(0.5, 5))), a64(draw(pos()))), [-40, 6], _EXP


def _kl_normal_laplace(draw):
    p = D.Normal(a64(draw(real)), a64(draw(pos(0.3, 3))))
    q = D.Laplace(a64(draw(real)), a64(draw(pos(0.3, 3))))
    return p, q, [-40, float(q.loc), 40], _LINE


KL_QUAD = {"Normal": _kl_normal, "Laplace": _kl_laplace, "Exponential": _kl_exponential, "Gamma": _kl_gamma,
           "Beta": _kl_beta, "LogNormal": _kl_lognormal, "Gumbel": _kl_gumbel, "Cauchy": _kl_cauchy,
           "Uniform": _kl_uniform, "Exponential-Gamma": _kl_exponential_gamma, "Normal-Laplace": _kl_normal_laplace}


@pytest.mark.parametrize("name", KL_QUAD)
@given(data=st.data())
def test_kl_against_quadrature(name, data):
    p, q, breaks, (to_x, log_jac) = KL_QUAD[name](data.draw)
    kl = kl_divergence(p, q)
    assert kl.shape == () and kl.dtype == np.float64
    close(kl, _quad(p, q, breaks, to_x, log_jac), rtol=1e-6, atol=1e-8)


def _exact_sum(p, q, values):
    lp, lq = np.asarray(p.log_prob(values)), np.asarray(q.log_prob(values))
    return (np.exp(lp) * (lp - lq)).sum(0)


@given(data=st.data())
def test_kl_discrete_against_exact_sums(data):
    draw = data.draw
    k = draw(st.integers(2, 5))
    p, q = simplex(draw, k), simplex(draw, k)
    cp, cq = D.Categorical(a64(p)), D.Categorical(logits=a64(np.log(q)))
    close(kl_divergence(cp, cq), _exact_sum(cp, cq, a64(np.arange(k))))
    hp, hq = D.OneHotCategorical(a64(p)), D.OneHotCategorical(a64(q))
    close(kl_divergence(hp, hq), _exact_sum(hp, hq, a64(np.eye(k))))
    bp, bq = D.Bernoulli(a64(draw(prob()))), D.Bernoulli(logits=a64(draw(real)))
    close(kl_divergence(bp, bq), _exact_sum(bp, bq, a64([0.0, 1.0])))
    n = float(draw(st.integers(1, 20)))
    mp, mq = D.Binomial(n, a64(draw(prob()))), D.Binomial(n, a64(draw(prob())))
    close(kl_divergence(mp, mq), _exact_sum(mp, mq, a64(np.arange(n + 1))))
    pp, pq = D.Poisson(a64(draw(pos(0.2, 10)))), D.Poisson(a64(draw(pos(0.2, 10))))
    close(kl_divergence(pp, pq), _exact_sum(pp, pq, a64(np.arange(200.0))))


def test_kl_discrete_edges():
    """Zero-probability events: 0 where p has no mass, inf where q has none."""
    p, q = D.Bernoulli(a64([0.0, 0.3, 1.0, 0.5])), D.Bernoulli(a64([0.2, 0.0, 1.0, 1.0]))
    close(kl_divergence(p, q), [-math.log(0.8), math.inf, 0.0, math.inf])
    p, q = D.Categorical(a64([0.5, 0.5, 0.0])), D.Categorical(a64([0.25, 0.25, 0.5]))
    close(kl_divergence(p, q), math.log(2.0))
    assert float(kl_divergence(q, p)) == math.inf
    close(kl_divergence(D.Uniform(0.0, 2.0), D.Uniform(a64([-1.0, 0.5]), 3.0)), [math.log(2.0), math.inf], rtol=1e-6)
    assert float(kl_divergence(D.Binomial(5, probs=0.5), D.Binomial(4, probs=0.5))) == math.inf


@given(data=st.data())
def test_kl_multivariate_and_independent(data):
    draw = data.draw
    k = draw(st.integers(1, 3))

    def cov():
        A = np.array([[draw(st.floats(-1, 1)) for _ in range(k)] for _ in range(k)])
        return A @ A.T + 0.5 * np.eye(k)
    mp, mq = np.array([draw(real) for _ in range(k)]), np.array([draw(real) for _ in range(k)])
    sp, sq = cov(), cov()
    sq_inv = np.linalg.inv(sq)
    want = 0.5 * (np.trace(sq_inv @ sp) + (mq - mp) @ sq_inv @ (mq - mp) - k
                  + np.log(np.linalg.det(sq) / np.linalg.det(sp)))
    p = D.MultivariateNormal(a64(mp), covariance_matrix=a64(sp))
    q = D.MultivariateNormal(a64(mq), precision_matrix=a64(sq_inv))
    close(kl_divergence(p, q), want, rtol=1e-7)
    # a diagonal multivariate normal is an Independent of normals
    d1, d2 = np.diag(sp), np.diag(sq)
    ip = D.Independent(D.Normal(a64(mp), a64(np.sqrt(d1))), 1)
    iq = D.Independent(D.Normal(a64(mq), a64(np.sqrt(d2))), 1)
    dp = D.MultivariateNormal(a64(mp), covariance_matrix=a64(np.diag(d1)))
    dq = D.MultivariateNormal(a64(mq), scale_tril=a64(np.diag(np.sqrt(d2))))
    close(kl_divergence(ip, iq), kl_divergence(dp, dq), rtol=1e-7)
    close(ip.log_prob(a64(mq)), dp.log_prob(a64(mq)), rtol=1e-9)


@given(data=st.data())
def test_kl_dirichlet(data):
    """KL(p || q) = -H(p) - E_p[log q], with E_p[log x_i] = digamma(a_i) - digamma(sum a)."""
    draw = data.draw
    k = draw(st.integers(2, 4))
    a, b = np.array([draw(pos(0.3, 6)) for _ in range(k)]), np.array([draw(pos(0.3, 6)) for _ in range(k)])
    p, q = D.Dirichlet(a64(a)), D.Dirichlet(a64(b))
    e_log_x = np.asarray(fnx.scipy.special.digamma(a64(a)) - fnx.scipy.special.digamma(a64(a.sum())))
    e_log_q = math.lgamma(b.sum()) - sum(math.lgamma(v) for v in b) + ((b - 1) * e_log_x).sum()
    close(kl_divergence(p, q), -float(p.entropy()) - e_log_q, rtol=1e-8, atol=1e-10)
    if k == 2:  # a two-category Dirichlet is a Beta
        close(kl_divergence(p, q), kl_divergence(D.Beta(a[0], a[1]), D.Beta(b[0], b[1])), rtol=1e-5)

# ----- draws: shapes, dtypes, distribution ------------------------------------------------------------------


def _make(name, dtype="float32"):
    """One distribution of each kind with a batch shape of (2,) (and an event shape where it has one)."""
    A = lambda x: fnp.asarray(np.asarray(x, dtype=dtype))  # noqa: E731
    cov = np.array([[[2.0, 0.3], [0.3, 1.0]], [[1.0, -0.5], [-0.5, 3.0]]])
    return {
        "Normal": lambda: D.Normal(A([0.0, 1.0]), A([1.0, 2.0])),
        "Uniform": lambda: D.Uniform(A([0.0, -1.0]), A([1.0, 3.0])),
        "Exponential": lambda: D.Exponential(A([0.5, 2.0])),
        "Laplace": lambda: D.Laplace(A([0.0, 1.0]), A([1.0, 0.5])),
        "Cauchy": lambda: D.Cauchy(A([0.0, 1.0]), A([1.0, 0.5])),
        "Gamma": lambda: D.Gamma(A([0.3, 4.0]), A([1.0, 2.0])),
        "Chi2": lambda: D.Chi2(A([1.0, 5.0])),
        "Beta": lambda: D.Beta(A([0.5, 3.0]), A([2.0, 0.7])),
        "Dirichlet": lambda: D.Dirichlet(A([[0.5, 1.0, 2.0], [3.0, 3.0, 0.3]])),
        "StudentT": lambda: D.StudentT(A([5.0, 12.0]), A([0.0, 1.0]), A([1.0, 2.0])),
        "LogNormal": lambda: D.LogNormal(A([0.0, 0.5]), A([0.5, 0.25])),
        "Gumbel": lambda: D.Gumbel(A([0.0, 1.0]), A([1.0, 2.0])),
        "Poisson": lambda: D.Poisson(A([0.5, 25.0])),
        "Binomial": lambda: D.Binomial(A([10.0, 60.0]), A([0.3, 0.5])),
        "Bernoulli": lambda: D.Bernoulli(A([0.2, 0.9])),
        "Categorical": lambda: D.Categorical(A([[0.1, 0.2, 0.7], [0.5, 0.0, 0.5]])),
        "OneHotCategorical": lambda: D.OneHotCategorical(logits=A([[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]])),
        "MultivariateNormal": lambda: D.MultivariateNormal(A([[0.0, 1.0], [2.0, -1.0]]), A(cov)),
        "Independent": lambda: D.Independent(D.Normal(A([[0.0, 1.0], [2.0, 3.0]]), A([1.0, 0.5])), 1),
        "RelaxedBernoulli": lambda: D.RelaxedBernoulli(A(0.5), probs=A([0.3, 0.8])),
        "RelaxedOneHotCategorical": lambda: D.RelaxedOneHotCategorical(A(0.5), probs=A([[0.2, 0.8], [0.5, 0.5]])),
        "OneHotCategoricalStraightThrough":
            lambda: D.OneHotCategoricalStraightThrough(A([[0.2, 0.8], [0.5, 0.5]])),
    }[name]()


NAMES = ["Normal", "Uniform", "Exponential", "Laplace", "Cauchy", "Gamma", "Chi2", "Beta", "Dirichlet", "StudentT",
         "LogNormal", "Gumbel", "Poisson", "Binomial", "Bernoulli", "Categorical", "OneHotCategorical",
         "MultivariateNormal", "Independent", "RelaxedBernoulli", "RelaxedOneHotCategorical",
         "OneHotCategoricalStraightThrough"]
REPARAMETERISED = {"Normal", "Uniform", "Exponential", "Laplace", "Cauchy", "Gamma", "Chi2", "Beta", "Dirichlet",
                   "StudentT", "LogNormal", "Gumbel", "MultivariateNormal", "Independent", "RelaxedBernoulli",
                   "RelaxedOneHotCategorical", "OneHotCategoricalStraightThrough"}


@pytest.mark.parametrize("name", NAMES)
def test_sample_shapes_dtypes_and_support(name):
    fnx.manual_seed(0)
    d = _make(name)
    assert d.batch_shape == (2,)
    assert d.has_rsample == (name in REPARAMETERISED)
    for sample_shape in [(), (4, 1)]:
        x = d.sample(sample_shape)
        assert x.shape == sample_shape + d.batch_shape + d.event_shape
        assert x.dtype == (np.int64 if name == "Categorical" else np.float32)
        assert bool(fnp.all(d.support.check(x)))
        lp = d.log_prob(x)
        assert lp.shape == sample_shape + d.batch_shape and lp.dtype == np.float32
        if d.has_rsample:
            assert d.rsample(sample_shape).shape == x.shape
    e = d.expand((5, 2))
    assert type(e) is type(d) and e.batch_shape == (5, 2) and e.event_shape == d.event_shape
    assert e.sample((3,)).shape == (3, 5, 2) + d.event_shape
    assert e.log_prob(d.sample()).shape == (5, 2)
    # float64 parameters give float64 draws and densities
    d64 = _make(name, "float64")
    x = d64.sample((2,))
    assert x.dtype == (np.int64 if name == "Categorical" else np.float64)
    assert d64.log_prob(x).dtype == np.float64
    if name not in ("RelaxedBernoulli", "RelaxedOneHotCategorical", "Poisson", "Binomial"):  # as in PyTorch
        assert np.asarray(d.entropy()).shape == d.batch_shape


def test_sample_determinism_and_keys():
    d = D.Gamma(fnp.array([0.5, 2.0]), 1.0)
    fnx.manual_seed(3)
    a = d.sample((4,))
    fnx.manual_seed(3)
    assert np.array_equal(np.asarray(a), np.asarray(d.sample((4,))))
    k = fnx.random.key(7)
    assert np.array_equal(np.asarray(d.sample((4,), key=k)), np.asarray(d.sample((4,), key=k)))
    assert not np.array_equal(np.asarray(d.sample((4,), key=k)), np.asarray(d.sample((4,), key=fnx.random.key(8))))
    # a key makes rsample a pure function: jit and vmap take it
    f = fnx.jit(lambda loc, key: D.Normal(loc, 1.0).rsample((3,), key=key))
    assert f(fnp.zeros(2), k).shape == (3, 2)
    assert not np.array_equal(np.asarray(f(fnp.zeros(2), k)), np.asarray(f(fnp.zeros(2), fnx.random.key(1))))
    lp = fnx.vmap(lambda m: D.Normal(m, 1.0).log_prob(fnp.array(0.5)))(fnp.array([0.0, 1.0]))
    close(lp, [-0.125 - 0.5 * math.log(2 * math.pi)] * 2, rtol=1e-6)
    keys = fnx.random.split(k, 3)
    draws = fnx.vmap(lambda key: D.Beta(2.0, 3.0).sample((2,), key=key))(keys)
    assert draws.shape == (3, 2) and len(set(np.asarray(draws).ravel().tolist())) == 6


N = 10_000
# The 0.1% critical value of the Kolmogorov-Smirnov distance for N draws is 1.95 / sqrt(N) = 0.0195.
KS_BOUND = 0.0195


@pytest.mark.parametrize("name", ["Normal", "Uniform", "Exponential", "Laplace", "Cauchy", "Gamma", "Chi2",
                                  "LogNormal", "Gumbel"])
def test_draws_follow_the_distribution_function(name):
    fnx.manual_seed(1)
    d = _make(name, "float64")
    x = np.sort(np.asarray(d.sample((N,))), axis=0)  # each column sorted: still draws of its own distribution
    f = np.asarray(d.cdf(a64(x)))
    n = np.arange(N + 1)[:, None] / N
    assert np.max(np.maximum(n[1:] - f, f - n[:-1])) < KS_BOUND


@pytest.mark.parametrize("name", ["Normal", "Uniform", "Exponential", "Laplace", "Gamma", "Chi2", "Beta",
                                  "Dirichlet", "StudentT", "LogNormal", "Gumbel", "Poisson", "Binomial",
                                  "Bernoulli", "OneHotCategorical", "MultivariateNormal", "Independent"])
def test_sample_moments(name):
    fnx.manual_seed(2)
    d = _make(name, "float64")
    x = np.asarray(d.sample((N,)))
    mean, var = np.asarray(d.mean), np.asarray(d.variance)
    np.testing.assert_array_less(np.abs(x.mean(0) - mean), 5 * np.sqrt(var / N) + 1e-12)
    np.testing.assert_allclose(x.var(0), var, rtol=0.15)
    if name == "MultivariateNormal":
        c = np.einsum("nbi,nbj->bij", x - mean, x - mean) / N
        np.testing.assert_allclose(c, np.asarray(d.covariance_matrix), atol=0.1)


def test_categorical_frequencies():
    fnx.manual_seed(4)
    d = _make("Categorical", "float64")
    x = np.asarray(d.sample((N,)))
    p = np.asarray(d.probs)
    for b in range(2):
        freq = np.bincount(x[:, b], minlength=3) / N
        np.testing.assert_array_less(np.abs(freq - p[b]), 5 * np.sqrt(p[b] * (1 - p[b]) / N) + 1e-12)
    assert not (x[:, 1] == 1).any()  # a zero probability is never drawn

# ----- derivatives ------------------------------------------------------------------------------------------


GRAD_CASES = {
    "Normal": (lambda loc, scale, x: D.Normal(loc, scale).log_prob(x), ([0.3, -1.0], [1.5, 0.7], [0.2, 2.0])),
    "Laplace": (lambda loc, scale, x: D.Laplace(loc, scale).log_prob(x), ([0.3, -1.0], [1.5, 0.7], [0.2, 2.0])),
    "Cauchy": (lambda loc, scale, x: D.Cauchy(loc, scale).log_prob(x), ([0.3, -1.0], [1.5, 0.7], [0.2, 2.0])),
    "Exponential": (lambda rate, x: D.Exponential(rate).log_prob(x), ([0.5, 2.0], [0.3, 1.7])),
    "Gamma": (lambda c, r, x: D.Gamma(c, r).log_prob(x), ([0.6, 3.0], [1.5, 0.7], [0.2, 2.0])),
    "Beta": (lambda a, b, x: D.Beta(a, b).log_prob(x), ([0.6, 3.0], [1.5, 0.7], [0.2, 0.9])),
    "StudentT": (lambda df, loc, scale, x: D.StudentT(df, loc, scale).log_prob(x),
                 ([0.8, 5.0], [0.3, -1.0], [1.5, 0.7], [0.2, 2.0])),
    "LogNormal": (lambda loc, scale, x: D.LogNormal(loc, scale).log_prob(x), ([0.3, -1.0], [1.5, 0.7], [0.2, 2.0])),
    "Gumbel": (lambda loc, scale, x: D.Gumbel(loc, scale).log_prob(x), ([0.3, -1.0], [1.5, 0.7], [0.2, 2.0])),
    # central differences step off the simplex and the triangle: no validation there
    "Dirichlet": (lambda c, x: D.Dirichlet(c, validate_args=False).log_prob(x), ([0.6, 3.0, 1.2], [0.2, 0.5, 0.3])),
    "Poisson": (lambda rate: D.Poisson(rate).log_prob(a64([0.0, 3.0])), ([0.5, 2.0],)),
    "Binomial": (lambda logits: D.Binomial(7.0, logits=logits).log_prob(a64([2.0, 6.0])), ([0.5, -2.0],)),
    "Bernoulli": (lambda p: D.Bernoulli(p).log_prob(a64([1.0, 0.0])), ([0.3, 0.6],)),
    "Categorical": (lambda logits: D.Categorical(logits=logits).log_prob(a64([2, 0])),
                    ([[0.1, 0.5, -1.0], [2.0, 0.0, 1.0]],)),
    "MultivariateNormal": (lambda loc, L, x: D.MultivariateNormal(loc, scale_tril=fnp.tril(L)).log_prob(x),
                           ([0.3, -1.0], [[1.2, 0.0], [0.4, 0.8]], [0.5, 0.1])),
    "Uniform": (lambda low, high, x: D.Uniform(low, high).log_prob(x), ([0.0, -1.0], [1.0, 2.0], [0.5, 0.1])),
}


@pytest.mark.parametrize("name", GRAD_CASES)
def test_log_prob_derivatives(name):
    f, args = GRAD_CASES[name]
    check_grads(f, tuple(a64(a) for a in args))


ENTROPY_CASES = {
    "Normal": (lambda loc, scale: D.Normal(loc, scale), ([0.3, -1.0], [1.5, 0.7])),
    "Gamma": (lambda c, r: D.Gamma(c, r), ([0.6, 3.0], [1.5, 0.7])),
    "Beta": (lambda a, b: D.Beta(a, b), ([0.6, 3.0], [1.5, 0.7])),
    "StudentT": (lambda df, scale: D.StudentT(df, 0.0, scale), ([0.8, 5.0], [1.5, 0.7])),
    "Dirichlet": (lambda c: D.Dirichlet(c), ([0.6, 3.0, 1.2],)),
    "Categorical": (lambda logits: D.Categorical(logits=logits), ([[0.1, 0.5, -1.0], [2.0, 0.0, 1.0]],)),
    "Bernoulli": (lambda p: D.Bernoulli(p), ([0.3, 0.6],)),
    "MultivariateNormal": (lambda L: D.MultivariateNormal(a64([0.0, 0.0]), scale_tril=fnp.tril(L)),
                           ([[1.2, 0.0], [0.4, 0.8]],)),
    "Laplace": (lambda scale: D.Laplace(0.0, scale), ([1.5, 0.7],)),
    "Gumbel": (lambda scale: D.Gumbel(0.0, scale), ([1.5, 0.7],)),
}


@pytest.mark.parametrize("name", ENTROPY_CASES)
def test_entropy_derivatives(name):
    make, args = ENTROPY_CASES[name]
    check_grads(lambda *p: make(*p).entropy(), tuple(a64(a) for a in args))


def test_kl_derivatives():
    check_grads(lambda a, b, c, d: kl_divergence(D.Normal(a, b), D.Normal(c, d)),
                (a64([0.3, -1.0]), a64([1.5, 0.7]), a64([0.0, 0.5]), a64([1.0, 2.0])))
    check_grads(lambda a, b: kl_divergence(D.Gamma(a, 2.0), D.Gamma(1.5, b)), (a64([0.6, 3.0]), a64([1.5, 0.7])))
    check_grads(lambda a, b: kl_divergence(D.Dirichlet(a), D.Dirichlet(b)),
                (a64([0.6, 3.0, 1.0]), a64([1.5, 0.7, 2.0])))
    check_grads(lambda l1, l2: kl_divergence(D.Categorical(logits=l1), D.Categorical(logits=l2)),
                (a64([0.6, 3.0, 1.0]), a64([1.5, 0.7, 2.0])))
    check_grads(lambda m, L: kl_divergence(D.MultivariateNormal(m, scale_tril=fnp.tril(L)),
                                           D.MultivariateNormal(a64([0.0, 1.0]), a64([[2.0, 0.5], [0.5, 1.0]]))),
                (a64([0.3, -1.0]), a64([[1.2, 0.0], [0.4, 0.8]])))


KEY = fnx.random.key(11)
RSAMPLE_CASES = {
    "Normal": (lambda loc, scale: D.Normal(loc, scale).rsample((3,), key=KEY), ([0.3, -1.0], [1.5, 0.7])),
    "Uniform": (lambda lo, hi: D.Uniform(lo, hi).rsample((3,), key=KEY), ([0.3, -1.0], [1.5, 0.7])),
    "Exponential": (lambda rate: D.Exponential(rate).rsample((3,), key=KEY), ([0.5, 2.0],)),
    "Laplace": (lambda loc, scale: D.Laplace(loc, scale).rsample((3,), key=KEY), ([0.3, -1.0], [1.5, 0.7])),
    "Cauchy": (lambda loc, scale: D.Cauchy(loc, scale).rsample((3,), key=KEY), ([0.3, -1.0], [1.5, 0.7])),
    "LogNormal": (lambda loc, scale: D.LogNormal(loc, scale).rsample((3,), key=KEY), ([0.3, -1.0], [0.5, 0.7])),
    "Gumbel": (lambda loc, scale: D.Gumbel(loc, scale).rsample((3,), key=KEY), ([0.3, -1.0], [1.5, 0.7])),
    "Gamma (rate)": (lambda rate: D.Gamma(a64([0.5, 3.0]), rate).rsample((3,), key=KEY), ([1.5, 0.7],)),
    "StudentT (loc, scale)": (lambda loc, scale: D.StudentT(a64([2.0, 7.0]), loc, scale).rsample((3,), key=KEY),
                              ([0.3, -1.0], [1.5, 0.7])),
    "MultivariateNormal": (lambda loc, L: D.MultivariateNormal(loc, scale_tril=fnp.tril(L)).rsample((3,), key=KEY),
                           ([0.3, -1.0], [[1.2, 0.0], [0.4, 0.8]])),
    "Independent": (lambda loc: D.Independent(D.Normal(loc, 1.0), 1).rsample((3,), key=KEY), ([0.3, -1.0],)),
    "RelaxedBernoulli": (lambda logits: D.RelaxedBernoulli(a64(0.7), logits=logits).rsample((3,), key=KEY),
                         ([0.3, -1.0],)),
    "RelaxedOneHotCategorical": (lambda logits, t: D.RelaxedOneHotCategorical(t, logits=logits).rsample((3,), key=KEY),
                                 ([0.3, -1.0, 0.5], 0.8)),
}


@pytest.mark.parametrize("name", RSAMPLE_CASES)
def test_rsample_derivatives(name):
    f, args = RSAMPLE_CASES[name]
    check_grads(f, tuple(a64(a) for a in args))


def test_sample_is_a_constant():
    g = fnx.grad(lambda loc: D.Normal(loc, 1.0).sample((3,), key=KEY).sum())(a64(0.5))
    assert float(g) == 0.0
    g = fnx.grad(lambda loc: D.Normal(loc, 1.0).rsample((3,), key=KEY).sum())(a64(0.5))
    assert float(g) == 3.0


@needs_scipy
@pytest.mark.parametrize("concentration", [[0.05, 0.4, 1.0], [2.5, 9.0, 60.0]])
def test_gamma_rsample_implicit_derivative(concentration):
    """d x / d a = -(dF/da) / f at the draw (F, f: the gamma distribution function and density)."""
    a, rate = np.array(concentration), 1.7
    draws = lambda c: D.Gamma(c, rate).rsample((4,), key=KEY)  # noqa: E731
    x = np.asarray(draws(a64(a)))
    jac = np.asarray(fnx.jacrev(draws)(a64(a)))  # (4, 3, 3): each draw depends on its own concentration
    got = np.einsum("nii->ni", jac)
    g = x * rate
    h = 1e-6 * a
    dF = (ss.gammainc(a + h, g) - ss.gammainc(a - h, g)) / (2 * h)
    want = -dF / stats.gamma.pdf(g, a) / rate
    close(got, want, rtol=2e-5, atol=1e-12)
    # forward mode gives the same
    _, t = fnx.jvp(draws, (a64(a),), (a64(np.ones(3)),))
    close(t, want, rtol=2e-5, atol=1e-12)


@pytest.mark.parametrize("case", ["Gamma", "Chi2", "Beta", "Dirichlet", "StudentT"])
def test_implicit_derivatives_average_to_the_derivative_of_the_mean(case):
    """E[d x / d theta] = d E[x] / d theta, for the gamma family's reparameterised draws."""
    key = fnx.random.key(5)
    n = 4000
    if case == "Gamma":  # E x = a / r
        f = lambda a: D.Gamma(a, 2.0).rsample((n,), key=key).mean(0)  # noqa: E731
        theta, want = a64([0.3, 4.0]), np.array([0.5, 0.5])
    elif case == "Chi2":  # E x = df
        f = lambda df: D.Chi2(df).rsample((n,), key=key).mean(0)  # noqa: E731
        theta, want = a64([0.7, 5.0]), np.array([1.0, 1.0])
    elif case == "Beta":  # E x = a / (a + b)
        f = lambda a: D.Beta(a, a64([2.0, 0.5])).rsample((n,), key=key).mean(0)  # noqa: E731
        theta = a64([0.5, 3.0])
        want = np.array([2.0, 0.5]) / (np.asarray(theta) + [2.0, 0.5]) ** 2
    elif case == "Dirichlet":  # E x_0 = a_0 / sum(a)
        f = lambda c: D.Dirichlet(c).rsample((n,), key=key).mean(0)[0]  # noqa: E731
        theta, s = a64([0.5, 1.0, 2.0]), 3.5
        want = np.array([(s - 0.5) / s ** 2, -0.5 / s ** 2, -0.5 / s ** 2])
    else:  # E g(t) for a bounded g, its derivative in df by quadrature of the (differentiable) density
        g = lambda t: 1.0 / (1.0 + t ** 2)  # noqa: E731
        f = lambda df: g(D.StudentT(df).rsample((n,), key=key)).mean(0)  # noqa: E731
        theta, grid = a64([1.5, 6.0]), a64(np.linspace(-400, 400, 400001))

        def expectation(df):  # the rectangle rule, step 0.002 (the tails beyond 400 hold below 1e-8)
            return fnp.sum(g(grid)[:, None] * fnp.exp(D.StudentT(df).log_prob(grid[:, None])), axis=0) * 0.002
        want = np.diag(np.asarray(fnx.jacrev(expectation)(theta)))
    got = np.asarray(fnx.jacrev(f)(theta))
    got = np.diag(got) if got.ndim == 2 else got
    np.testing.assert_allclose(got, want, rtol=0.06, atol=1e-3)  # the estimates here are within 4%


def test_parameters_and_backward():
    """The object face: Parameters in, loss.backward() fills .grad, and a distribution built once follows
    the parameter after an update."""
    loc = fnx.nn.Parameter(fnp.array([0.5, -1.0]))
    scale = fnx.nn.Parameter(fnp.array([1.0, 2.0]))
    d = D.Normal(loc, scale)
    x = fnp.array([1.0, 0.0])
    (-d.log_prob(x).sum()).backward()
    close(loc.grad, -(np.array([1.0, 0.0]) - [0.5, -1.0]) / np.array([1.0, 4.0]), rtol=1e-6)
    close(scale.grad, 1 / np.array([1.0, 2.0]) - (np.array([0.5, 1.0]) ** 2) / np.array([1.0, 8.0]), rtol=1e-6)
    loc.grad = scale.grad = None
    d.rsample((1000,), key=KEY).mean(0).sum().backward()
    close(loc.grad, [1.0, 1.0], rtol=1e-5)  # a float32 mean of 1000 ones
    eps = (np.asarray(D.Normal(0.0, 1.0).sample((1000, 2), key=KEY))).mean(0)
    close(scale.grad, eps, rtol=1e-5, atol=1e-6)
    loc.data = fnp.array([1.0, 0.0])
    close(d.log_prob(x), [-math.log(1.0) - 0.5 * math.log(2 * math.pi), -math.log(2.0) - 0.5 * math.log(2 * math.pi)],
          rtol=1e-6)
    # implicit reparameterisation through backward(), and a KL loss
    c = fnx.nn.Parameter(fnp.array([0.5, 2.0]))
    fnx.manual_seed(0)
    D.Gamma(c, 1.0).rsample((4,)).sum().backward()
    fnx.manual_seed(0)
    want = fnx.grad(lambda a: D.Gamma(a, 1.0).rsample((4,)).sum())(fnp.array([0.5, 2.0]))
    close(c.grad, want, rtol=1e-6)
    logits = fnx.nn.Parameter(fnp.zeros(3))
    kl_divergence(D.Categorical(logits=logits), D.Categorical(fnp.array([0.2, 0.3, 0.5]))).backward()
    assert logits.grad.shape == (3,) and np.isfinite(np.asarray(logits.grad)).all()

# ----- validation and errors -----------------------------------------------------------------------------


def test_invalid_arguments_raise():
    with pytest.raises(ValueError, match="Expected parameter scale"):
        D.Normal(0.0, -1.0)
    with pytest.raises(ValueError, match="Expected parameter probs"):
        D.Bernoulli(probs=1.5)
    with pytest.raises(ValueError, match="Expected parameter probs"):
        D.Categorical(probs=fnp.array([-0.5, 1.5]))
    with pytest.raises(ValueError, match="Expected parameter concentration"):
        D.Dirichlet(fnp.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="Expected parameter rate"):
        D.Exponential(fnp.array([1.0, math.nan]))
    with pytest.raises(ValueError, match="Expected parameter low"):
        D.Uniform(1.0, 0.0)
    with pytest.raises(ValueError, match="Expected parameter covariance_matrix"):
        D.MultivariateNormal(fnp.zeros(2), fnp.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="Expected parameter scale_tril"):
        D.MultivariateNormal(fnp.zeros(2), scale_tril=fnp.array([[1.0, 1.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="Expected parameter total_count"):
        D.Binomial(2.5, probs=0.5)
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        D.Bernoulli()
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        D.Categorical(probs=fnp.ones(2), logits=fnp.ones(2))
    with pytest.raises(ValueError, match="at least one-dimensional"):
        D.Categorical(probs=fnp.array(1.0))
    with pytest.raises(ValueError, match="at least one-dimensional"):
        D.Dirichlet(fnp.array(1.0))
    with pytest.raises(ValueError, match="Exactly one of"):
        D.MultivariateNormal(fnp.zeros(2))
    with pytest.raises(ValueError, match="loc must be at least one-dimensional"):
        D.MultivariateNormal(fnp.array(0.0), fnp.eye(1))
    with pytest.raises(ValueError, match="reinterpreted_batch_ndims"):
        D.Independent(D.Normal(fnp.zeros(2), 1.0), 2)
    # without validation, nothing is checked
    with np.errstate(invalid="ignore"):
        assert np.isnan(float(D.Normal(0.0, -1.0, validate_args=False).log_prob(fnp.array(0.0))))


def test_invalid_values_raise():
    with pytest.raises(ValueError, match="within the support"):
        D.Exponential(1.0).log_prob(fnp.array(-1.0))
    with pytest.raises(ValueError, match="within the support"):
        D.Bernoulli(0.5).log_prob(fnp.array(0.5))
    with pytest.raises(ValueError, match="within the support"):
        D.Categorical(fnp.ones(3)).log_prob(fnp.array(3))
    with pytest.raises(ValueError, match="within the support"):
        D.Beta(1.0, 1.0).log_prob(fnp.array(1.5))
    with pytest.raises(ValueError, match="within the support"):
        D.Dirichlet(fnp.ones(2)).log_prob(fnp.array([0.5, 0.6]))
    with pytest.raises(ValueError, match="right-most size of value must match event_shape"):
        D.MultivariateNormal(fnp.zeros(2), fnp.eye(2)).log_prob(fnp.zeros(3))
    with pytest.raises(ValueError, match="not broadcastable with batch_shape"):
        D.Normal(fnp.zeros(3), 1.0).log_prob(fnp.zeros(2))
    with pytest.raises(ValueError, match="must be a Tensor"):
        D.Normal(0.0, 1.0).log_prob(0.5)
    d = D.Exponential(1.0, validate_args=False)
    assert float(d.log_prob(-1.0)) == 1.0  # PyTorch's formula, unchecked


def test_default_validation_switch():
    with pytest.raises(ValueError):
        D.Distribution.set_default_validate_args("yes")
    D.Distribution.set_default_validate_args(False)
    try:
        D.Normal(0.0, -1.0)  # no error
        with pytest.raises(ValueError):
            D.Normal(0.0, -1.0, validate_args=True)
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Normal(0.0, -1.0)


def test_validation_under_transforms():
    """Checks see every example under vmap and the values under grad; abstract evaluation skips them."""
    out = fnx.vmap(lambda s: D.Normal(0.0, s).log_prob(fnp.array(0.0)))(fnp.array([1.0, 2.0]))
    close(out, [-0.5 * math.log(2 * math.pi), -math.log(2.0) - 0.5 * math.log(2 * math.pi)], rtol=1e-6)
    with pytest.raises(ValueError, match="Expected parameter scale"):
        fnx.vmap(lambda s: D.Normal(0.0, s).log_prob(fnp.array(0.0)))(fnp.array([1.0, -2.0]))
    with pytest.raises(ValueError, match="within the support"):
        fnx.grad(lambda r: D.Exponential(r).log_prob(fnp.array(-1.0)))(fnp.array(1.0))
    out = fnx.eval_shape(lambda s: D.Normal(0.0, s).sample((2,)), fnx.ShapeDtypeStruct((3,), "float32"))
    assert out.shape == (2, 3)


def test_kl_registry():
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p type Normal and q "
                                                  "type Categorical"):
        kl_divergence(D.Normal(0.0, 1.0), D.Categorical(fnp.ones(2)))
    with pytest.raises(NotImplementedError):
        kl_divergence(D.Independent(D.Normal(fnp.zeros((2, 2)), 1.0), 1),
                      D.Independent(D.Normal(fnp.zeros((2, 2)), 1.0), 2))
    with pytest.raises(TypeError, match="Distribution subclass"):
        register_kl(int, D.Normal)

    class MyNormal(D.Normal):
        pass

    # subclasses use their parents' entry until they register their own
    close(kl_divergence(MyNormal(0.0, 1.0), D.Normal(1.0, 1.0)), 0.5)

    @register_kl(MyNormal, D.Normal)
    def _kl_mine(p, q):
        return fnp.array(42.0)
    try:
        assert float(kl_divergence(MyNormal(0.0, 1.0), D.Normal(1.0, 1.0))) == 42.0
        assert float(kl_divergence(D.Normal(0.0, 1.0), D.Normal(1.0, 1.0))) == 0.5
    finally:
        from fnx.distributions import kl as kl_module
        del kl_module._KL_REGISTRY[MyNormal, D.Normal]
        kl_module._KL_MEMOIZE.clear()


def test_other_errors_and_helpers():
    with pytest.raises(NotImplementedError, match="Inhomogeneous total count"):
        D.Binomial(fnp.array([2.0, 3.0]), probs=0.5).entropy()
    with pytest.raises(NotImplementedError, match="cartesian product"):
        D.Independent(D.Bernoulli(fnp.ones((2, 2)) * 0.5), 1).enumerate_support()
    with pytest.raises(NotImplementedError):
        D.Poisson(1.0).rsample()
    with pytest.raises(ValueError, match="dependent constraint"):
        constraints.dependent.check(fnp.zeros(2))
    assert constraints.is_dependent(D.Uniform.support) and not constraints.is_dependent(constraints.real)
    assert D.Uniform(0.0, 1.0).support.check(fnp.array(0.5))
    close(constraints.lower_cholesky.check(fnp.array([[[1.0, 0.0], [2.0, 3.0]], [[1.0, 0.0], [2.0, -3.0]]])),
          [True, False])
    close(constraints.positive_definite.check(fnp.array([[2.0, 1.0], [1.0, 2.0]])), True)
    close(constraints.positive_definite.check(fnp.array([[1.0, 2.0], [3.0, 1.0]])), False)
    close(constraints.simplex.check(fnp.array([[0.3, 0.7], [0.3, 0.6]])), [True, False])
    close(constraints.nonnegative_integer.check(fnp.array([0.0, 2.0, 1.5, -1.0])), [True, True, False, False])
    close(constraints.interval(0.0, 2.0).check(fnp.array([0.0, 2.0, 2.5])), [True, True, False])
    close(constraints.boolean.check(fnp.array([0.0, 1.0, 0.5])), [True, True, False])
    close(constraints.unit_interval.check(fnp.array([0.0, 1.0, 1.5])), [True, True, False])
    close(constraints.independent(constraints.positive, 1).check(fnp.array([[1.0, 2.0], [1.0, -2.0]])),
          [True, False])
    assert repr(constraints.interval(0.0, 1.0)) == "Interval(lower_bound=0.0, upper_bound=1.0)"
    assert repr(D.Normal(0.0, 1.0)) == "Normal(loc: 0.0, scale: 1.0)"
    assert repr(D.Independent(D.Normal(fnp.zeros(2), 1.0), 1)) == "Independent(Normal(loc: (2,), scale: (2,)), 1)"
    close(D.Categorical(fnp.ones(3)).enumerate_support(), [0, 1, 2])
    assert D.Bernoulli(fnp.ones((2, 3)) * 0.5).enumerate_support(expand=False).shape == (2, 1, 1)
    assert D.Binomial(3, probs=fnp.ones(2) * 0.5).enumerate_support().shape == (4, 2)
    assert D.OneHotCategorical(fnp.ones((2, 3))).enumerate_support().shape == (3, 2, 3)
    close(D.Normal(0.0, 1.0).perplexity(), math.exp(0.5 + 0.5 * math.log(2 * math.pi)), rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing here divides by zero or takes log(0) with a warning
        D.Uniform(0.0, 1.0, validate_args=False).log_prob(fnp.array(2.0))
        D.Categorical(fnp.array([0.5, 0.0, 0.5])).sample((3,))
        kl_divergence(D.Bernoulli(fnp.array([0.0, 1.0])), D.Bernoulli(fnp.array([0.5, 0.5])))

# ----- against PyTorch --------------------------------------------------------------------------------------


def test_against_torch():
    torch = pytest.importorskip("torch")
    TD = torch.distributions
    r = np.random.default_rng(0)
    p, q = r.dirichlet(np.ones(4), size=3), r.dirichlet(np.ones(4), size=3)
    pos3, pos3b, real3 = r.uniform(0.3, 3, 3), r.uniform(0.3, 3, 3), r.normal(size=3)
    probs3 = r.uniform(0.05, 0.95, 3)
    A = r.normal(size=(2, 3, 3))
    cov = A @ A.transpose(0, 2, 1) + np.eye(3)
    T = lambda x: torch.tensor(np.array(x, dtype=np.float64))  # noqa: E731
    X = a64

    def both(make):
        return make(D, X), make(TD, T)

    table = {
        "Normal": both(lambda M, W: M.Normal(W(real3), W(pos3))),
        "Uniform": both(lambda M, W: M.Uniform(W(real3), W(real3 + pos3))),
        "Exponential": both(lambda M, W: M.Exponential(W(pos3))),
        "Laplace": both(lambda M, W: M.Laplace(W(real3), W(pos3))),
        "Cauchy": both(lambda M, W: M.Cauchy(W(real3), W(pos3))),
        "Gamma": both(lambda M, W: M.Gamma(W(pos3), W(pos3b))),
        "Chi2": both(lambda M, W: M.Chi2(W(pos3))),
        "Beta": both(lambda M, W: M.Beta(W(pos3), W(pos3b))),
        "Dirichlet": both(lambda M, W: M.Dirichlet(W(p * 3))),
        "StudentT": both(lambda M, W: M.StudentT(W([0.8, 1.5, 4.0]), W(real3), W(pos3))),
        "LogNormal": both(lambda M, W: M.LogNormal(W(real3), W(pos3))),
        "Gumbel": both(lambda M, W: M.Gumbel(W(real3), W(pos3))),
        "Poisson": both(lambda M, W: M.Poisson(W(pos3 * 3))),
        "Binomial": both(lambda M, W: M.Binomial(W([6.0, 6.0, 6.0]), W(probs3))),
        "Binomial(logits)": both(lambda M, W: M.Binomial(W([6.0, 6.0, 6.0]), logits=W(real3))),
        "Bernoulli": both(lambda M, W: M.Bernoulli(W(probs3))),
        "Bernoulli(logits)": both(lambda M, W: M.Bernoulli(logits=W(real3))),
        "Categorical": both(lambda M, W: M.Categorical(W(p))),
        "Categorical(logits)": both(lambda M, W: M.Categorical(logits=W(np.log(p) + 1))),
        "OneHotCategorical": both(lambda M, W: M.OneHotCategorical(W(p))),
        "MultivariateNormal(cov)": both(lambda M, W: M.MultivariateNormal(W(real3), W(cov))),
        "MultivariateNormal(prec)": both(lambda M, W: M.MultivariateNormal(W(np.zeros((2, 3))),
                                                                         precision_matrix=W(cov))),
        "MultivariateNormal(tril)": both(lambda M, W: M.MultivariateNormal(W(real3),
                                                                         scale_tril=W(np.linalg.cholesky(cov)))),
        "Independent": both(lambda M, W: M.Independent(M.Normal(W(p), W(q + 0.5)), 1)),
        "RelaxedBernoulli": both(lambda M, W: M.RelaxedBernoulli(W(0.7), W(probs3))),
        "RelaxedOneHotCategorical": both(lambda M, W: M.RelaxedOneHotCategorical(W(0.7), W(p))),
    }
    for name, (d, t) in table.items():
        assert d.batch_shape == tuple(t.batch_shape) and d.event_shape == tuple(t.event_shape), name
        torch.manual_seed(0)
        value = t.sample((5,))
        close(d.log_prob(X(value.numpy())), t.log_prob(value).numpy(), rtol=1e-9, atol=1e-10)
        assert bool(fnp.all(d.support.check(d.sample((5,))))), name
        for attr in ("mean", "mode", "variance", "stddev", "probs", "logits", "covariance_matrix",
                     "precision_matrix", "scale_tril"):
            try:
                want = getattr(t, attr)
            except (AttributeError, NotImplementedError):
                continue
            close(getattr(d, attr), want.numpy(), rtol=1e-9, atol=1e-10)
        try:
            want = t.entropy()
        except NotImplementedError:
            want = None
        if want is not None:
            close(d.entropy(), want.numpy(), rtol=1e-9, atol=1e-10)
        for m, v in (("cdf", value), ("icdf", T([0.1, 0.5, 0.9]))):
            try:
                want = getattr(t, m)(v)
            except NotImplementedError:
                continue
            close(getattr(d, m)(X(v.numpy())), want.numpy(), rtol=1e-9, atol=1e-10)
        if t.has_enumerate_support:
            for expand in (True, False):
                close(d.enumerate_support(expand), t.enumerate_support(expand).numpy())
        assert d.has_rsample == t.has_rsample, name
        e, te = d.expand((2,) + d.batch_shape), t.expand((2,) + tuple(t.batch_shape))
        assert e.batch_shape == tuple(te.batch_shape) and e.sample().shape == tuple(te.sample().shape), name
        assert repr(d).split("(")[0] == repr(t).split("(")[0]

    pairs = {
        "Normal": lambda M, W: (M.Normal(W(real3), W(pos3)), M.Normal(W(real3[::-1]), W(pos3b))),
        "Bernoulli": lambda M, W: (M.Bernoulli(W([0.0, 0.3, 1.0])), M.Bernoulli(W([0.2, 0.0, 1.0]))),
        "Categorical": lambda M, W: (M.Categorical(W(p)), M.Categorical(logits=W(np.log(q)))),
        "OneHotCategorical": lambda M, W: (M.OneHotCategorical(W(p)), M.OneHotCategorical(W(q))),
        "Uniform": lambda M, W: (M.Uniform(W([0.0, 0.0, 1.0]), W([1.0, 2.0, 2.0])),
                                 M.Uniform(W([-1.0, 0.5, 0.0]), 3.0)),
        "Exponential": lambda M, W: (M.Exponential(W(pos3)), M.Exponential(W(pos3b))),
        "Gamma": lambda M, W: (M.Gamma(W(pos3), W(pos3b)), M.Gamma(W(pos3b), W(pos3))),
        "Beta": lambda M, W: (M.Beta(W(pos3), W(pos3b)), M.Beta(W(pos3b), W(pos3))),
        "Dirichlet": lambda M, W: (M.Dirichlet(W(p * 3)), M.Dirichlet(W(q * 2))),
        "Laplace": lambda M, W: (M.Laplace(W(real3), W(pos3)), M.Laplace(W(real3[::-1]), W(pos3b))),
        "MultivariateNormal": lambda M, W: (M.MultivariateNormal(W(real3), W(cov[0])),
                                            M.MultivariateNormal(W(np.zeros((2, 3))), W(cov))),
        "Independent": lambda M, W: (M.Independent(M.Normal(W(p), W(q + 0.5)), 1),
                                     M.Independent(M.Normal(W(q), 1.0), 1)),
        "Poisson": lambda M, W: (M.Poisson(W(pos3)), M.Poisson(W(pos3b))),
        "Binomial": lambda M, W: (M.Binomial(5, W(probs3)), M.Binomial(5, W(probs3[::-1]))),
        "Cauchy": lambda M, W: (M.Cauchy(W(real3), W(pos3)), M.Cauchy(W(real3[::-1]), W(pos3b))),
        "Gumbel": lambda M, W: (M.Gumbel(W(real3), W(pos3)), M.Gumbel(W(real3[::-1]), W(pos3b))),
        "LogNormal": lambda M, W: (M.LogNormal(W(real3), W(pos3)), M.LogNormal(W(real3[::-1]), W(pos3b))),
        "Exponential-Gamma": lambda M, W: (M.Exponential(W(pos3)), M.Gamma(W(pos3b), W(pos3))),
        "Gamma-Exponential": lambda M, W: (M.Gamma(W(pos3b), W(pos3)), M.Exponential(W(pos3))),
        "Normal-Laplace": lambda M, W: (M.Normal(W(real3), W(pos3)), M.Laplace(W(real3[::-1]), W(pos3b))),
        "Uniform-Normal": lambda M, W: (M.Uniform(W(real3), W(real3 + pos3)), M.Normal(W(real3[::-1]), W(pos3b))),
    }
    for name, make in pairs.items():
        (p_, q_), (tp, tq) = make(D, X), make(TD, T)
        close(kl_divergence(p_, q_), TD.kl_divergence(tp, tq).numpy(), rtol=1e-9, atol=1e-10)
    with pytest.raises(NotImplementedError):
        TD.kl_divergence(TD.Normal(0.0, 1.0), TD.Categorical(torch.ones(2)))


@pytest.mark.parametrize("name", ["HalfNormal", "HalfCauchy"])
def test_half_distributions_match_torch(name):
    torch = pytest.importorskip("torch")
    TD = torch.distributions
    scale, value, probs = np.array([0.5, 2.0]), np.array([0.3, 1.7]), np.array([0.2, 0.9])
    ours, theirs = getattr(D, name)(fnp.asarray(scale)), getattr(TD, name)(torch.tensor(scale))
    for attr in ("mean", "variance", "mode"):
        np.testing.assert_allclose(np.asarray(getattr(ours, attr)), getattr(theirs, attr).numpy(), rtol=1e-12)
    for method, arg in (("log_prob", value), ("cdf", value), ("icdf", probs)):
        np.testing.assert_allclose(np.asarray(getattr(ours, method)(fnp.asarray(arg))),
                                   getattr(theirs, method)(torch.tensor(arg)).numpy(), rtol=1e-10)
    np.testing.assert_allclose(np.asarray(ours.entropy()), theirs.entropy().numpy(), rtol=1e-12)
    draws = ours.rsample((4000,), key=fnx.random.key(0)) if name == "HalfNormal" else None
    if draws is not None:
        assert float(fnp.min(draws)) >= 0 and abs(float(fnp.mean(draws[:, 0])) - 0.5 * np.sqrt(2 / np.pi)) < 0.02
        g = fnx.grad(lambda s: fnp.mean(D.HalfNormal(s).rsample((100,), key=fnx.random.key(1))))(fnp.asarray(1.0))
        assert 0.5 < float(g) < 1.1  # d/ds E|s z| = sqrt(2 / pi), by the reparameterisation
    with pytest.raises(ValueError, match="support"):
        ours.log_prob(fnp.asarray([-1.0, 1.0]))


@pytest.mark.parametrize("event", [False, True])
def test_mixture_same_family_matches_torch(event):
    torch = pytest.importorskip("torch")
    TD = torch.distributions
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(3, 4))
    loc, scale = rng.normal(size=(3, 4, 2)), np.exp(rng.normal(size=(3, 4, 2)))
    x = rng.normal(size=(5, 3, 2))
    if not event:
        loc, scale, x = loc[..., 0], scale[..., 0], x[..., 0]

    def build(lib, arr, lg):
        comp = lib.Normal(arr(loc), arr(scale))
        return lib.MixtureSameFamily(lib.Categorical(logits=lg), lib.Independent(comp, 1) if event else comp)
    ours, theirs = build(D, fnp.asarray, fnp.asarray(logits)), build(TD, torch.tensor, torch.tensor(logits))
    assert (ours.batch_shape, ours.event_shape) == (tuple(theirs.batch_shape), tuple(theirs.event_shape))
    np.testing.assert_allclose(np.asarray(ours.log_prob(fnp.asarray(x))), theirs.log_prob(torch.tensor(x)).numpy(),
                               rtol=1e-10)
    for attr in ("mean", "variance"):
        np.testing.assert_allclose(np.asarray(getattr(ours, attr)), getattr(theirs, attr).numpy(), rtol=1e-10)
    if not event:
        np.testing.assert_allclose(np.asarray(ours.cdf(fnp.asarray(x))), theirs.cdf(torch.tensor(x)).numpy(),
                                   rtol=1e-10)
    assert ours.sample((6,)).shape == tuple(theirs.sample((6,)).shape)
    draws = ours.sample((20000,), key=fnx.random.key(0))
    np.testing.assert_allclose(np.asarray(fnp.mean(draws, axis=0)), np.asarray(ours.mean), atol=0.08)
    tl = torch.tensor(logits, requires_grad=True)
    build(TD, torch.tensor, tl).log_prob(torch.tensor(x)).sum().backward()
    g = fnx.grad(lambda lg: fnp.sum(build(D, fnp.asarray, lg).log_prob(fnp.asarray(x))))(fnp.asarray(logits))
    np.testing.assert_allclose(np.asarray(g), tl.grad.numpy(), rtol=1e-8)
    assert ours.expand((2, 3)).batch_shape == (2, 3)
    with pytest.raises(ValueError, match="components"):
        D.MixtureSameFamily(D.Categorical(logits=fnp.zeros(3)), D.Normal(fnp.zeros(4), 1.0))


def test_torch_submodule_paths_import():
    import importlib
    from fnx.distributions.normal import Normal
    from fnx.distributions.relaxed_categorical import RelaxedOneHotCategorical
    assert Normal is fnx.distributions.Normal
    assert RelaxedOneHotCategorical is fnx.distributions.RelaxedOneHotCategorical
    torch = pytest.importorskip("torch")
    import pkgutil
    checked = 0
    for info in pkgutil.iter_modules(torch.distributions.__path__):
        theirs = importlib.import_module(f"torch.distributions.{info.name}")
        shared = [n for n in getattr(theirs, "__all__", []) if n in fnx.distributions.__all__]
        if not shared:
            continue
        ours = importlib.import_module(f"fnx.distributions.{info.name}")
        for name in shared:
            assert getattr(ours, name) is getattr(fnx.distributions, name), (info.name, name)
            checked += 1
    assert checked >= 30


def test_a_negative_category_is_refused_and_a_0d_affine_scale_counts_per_element():
    import fnx.distributions as D
    with pytest.raises(IndexError, match="index -1 is out of bounds"):  # torch raises too; it scored class 2
        D.Categorical(fnp.asarray([0.2, 0.3, 0.5]), validate_args=False).log_prob(fnp.asarray([-1, 0]))
    x = fnp.arange(5.0)
    for scale in (fnp.asarray(2.0), 2.0):  # 5 log 2 both ways (it crashed for the 0-d array)
        t = D.transforms.AffineTransform(fnp.zeros(5), scale, event_dim=1)
        np.testing.assert_allclose(t.log_abs_det_jacobian(x, t(x)), 5 * np.log(2.0), rtol=1e-6)
