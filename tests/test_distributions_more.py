"""fnx.distributions.more (Geometric, NegativeBinomial, Multinomial, Pareto, Weibull, Kumaraswamy, InverseGamma,
LowRankMultivariateNormal, VonMises, ContinuousBernoulli) against closed forms and, where installed, PyTorch.

Without PyTorch:
* log densities against closed forms written with ``math`` and numpy (dense matrix algebra for the low-rank
  normal, ``numpy.i0`` for the von Mises normaliser);
* draws: shapes, dtypes, support, moments against ``mean``/``variance`` and Kolmogorov-Smirnov distances against
  ``cdf`` (fixed keys); draws under ``jit`` and ``vmap``;
* entropies, means and KL divergences against sums and quadratures of the densities; modes against a grid;
* ``rsample`` derivatives against central differences; validation errors.
With PyTorch (each such test skips without it):
* every attribute, ``log_prob`` at PyTorch's draws, ``entropy``, ``cdf``, ``icdf``, shapes and ``expand``;
* derivatives of ``log_prob`` and ``entropy`` in every parameter against PyTorch's autograd;
* every registered KL pair; that PyTorch raises where fnx does.
"""
import math

import numpy as np
import pytest

import fnx
import fnx.distributions as D
import fnx.numpy as fnp
from fnx.distributions import kl_divergence
from fnx.testing import check_grads


def a64(x):
    return fnp.asarray(np.asarray(x, dtype=np.float64))


def close(actual, expected, rtol=1e-9, atol=1e-11):
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64),
                               rtol=rtol, atol=atol, equal_nan=True)


R = np.random.default_rng(0)
POS, POS_B, REAL = R.uniform(0.3, 3, 3), R.uniform(0.3, 3, 3), R.normal(size=3)
PROBS = R.uniform(0.05, 0.95, 3)
SIMPLEX = R.dirichlet(np.ones(4), size=3)
W1, D1 = R.normal(size=(2, 3, 2)), R.uniform(0.5, 2, (2, 3))
W2, D2 = R.normal(size=(3, 1)), R.uniform(0.5, 2, 3)
A = R.normal(size=(2, 3, 3))
COV = A @ A.transpose(0, 2, 1) + np.eye(3)

# Each case builds the same distribution from a module of distributions (fnx's or PyTorch's) and an array maker.
CASES = {
    "Geometric": lambda M, W: M.Geometric(W(PROBS)),
    "Geometric(logits)": lambda M, W: M.Geometric(logits=W(REAL)),
    "NegativeBinomial": lambda M, W: M.NegativeBinomial(W(POS * 3), W(PROBS)),
    "NegativeBinomial(logits)": lambda M, W: M.NegativeBinomial(W(POS), logits=W(REAL)),
    "Multinomial": lambda M, W: M.Multinomial(7, W(SIMPLEX)),
    "Multinomial(logits)": lambda M, W: M.Multinomial(5, logits=W(np.log(SIMPLEX) + 1)),
    "Pareto": lambda M, W: M.Pareto(W(POS), W([0.7, 1.5, 3.0])),
    "Weibull": lambda M, W: M.Weibull(W(POS), W([1.0, 1.5, 3.0])),
    "Kumaraswamy": lambda M, W: M.Kumaraswamy(W(POS), W(POS_B)),
    "InverseGamma": lambda M, W: M.InverseGamma(W([0.7, 1.5, 3.0]), W(POS_B)),
    "LowRankMultivariateNormal": lambda M, W: M.LowRankMultivariateNormal(W(REAL), W(W1), W(D1)),
    "VonMises": lambda M, W: M.VonMises(W(REAL), W([0.5, 2.0, 5.0])),
    "ContinuousBernoulli": lambda M, W: M.ContinuousBernoulli(W([0.2, 0.4995, 0.9])),
    "ContinuousBernoulli(logits)": lambda M, W: M.ContinuousBernoulli(logits=W(REAL)),
}
ATTRIBUTES = ("mean", "mode", "variance", "stddev", "probs", "logits", "total_count", "scale", "alpha",
              "concentration", "rate", "concentration1", "concentration0", "concentration_reciprocal", "loc",
              "cov_factor", "cov_diag", "covariance_matrix", "precision_matrix", "scale_tril", "param_shape")
# PyTorch's Kumaraswamy mode is nan everywhere (test_torch_modes_that_fnx_corrects); its Multinomial entropy takes
# lgamma(total_count + 1) in float32 (torch.lgamma of an int64 tensor).
SKIP = {("Kumaraswamy", "mode")}
ENTROPY_RTOL = {"Multinomial": 1e-6, "Multinomial(logits)": 1e-6}


@pytest.mark.parametrize("name", CASES)
def test_against_torch(name):
    torch = pytest.importorskip("torch")
    TD = torch.distributions
    d, t = CASES[name](D, a64), CASES[name](TD, lambda x: torch.tensor(np.array(x, dtype=np.float64)))
    assert d.batch_shape == tuple(t.batch_shape) and d.event_shape == tuple(t.event_shape)
    assert (d.has_rsample, d.has_enumerate_support) == (t.has_rsample, t.has_enumerate_support)
    torch.manual_seed(0)
    value = t.sample((5,))
    close(d.log_prob(a64(value.numpy())), t.log_prob(value).numpy())
    for attr in ATTRIBUTES:
        try:
            want = getattr(t, attr)
        except (AttributeError, NotImplementedError):
            continue
        if (name, attr) in SKIP:
            continue
        got = getattr(d, attr)
        if isinstance(want, torch.Tensor):
            close(got, want.detach().numpy())
        else:
            assert tuple(got) == tuple(want) if attr == "param_shape" else got == want, (name, attr)
    try:
        want = t.entropy()
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            d.entropy()
    else:
        close(d.entropy(), want.numpy(), rtol=ENTROPY_RTOL.get(name, 1e-9))
    for method, v in (("cdf", value), ("icdf", torch.tensor([0.1, 0.5, 0.9], dtype=torch.float64))):
        try:
            want = getattr(t, method)(v)
        except NotImplementedError:
            with pytest.raises(NotImplementedError):
                getattr(d, method)(a64(v.numpy()))
            continue
        close(getattr(d, method)(a64(v.numpy())), want.numpy())
    for sample_shape in [(), (4, 1)]:
        x = d.sample(sample_shape, key=fnx.random.key(1))
        assert x.shape == tuple(t.sample(sample_shape).shape) and x.dtype == np.float64
        assert bool(fnp.all(d.support.check(x)))
        assert d.log_prob(x).shape == tuple(t.log_prob(t.sample(sample_shape)).shape)
    e, te = d.expand((2,) + d.batch_shape), t.expand((2,) + tuple(t.batch_shape))
    assert type(e) is type(d) and e.batch_shape == tuple(te.batch_shape) and e.event_shape == d.event_shape
    assert e.sample((3,)).shape == tuple(te.sample((3,)).shape)
    close(e.log_prob(a64(value.numpy()[:1])), te.log_prob(value[:1]).numpy())
    assert repr(d).split("(")[0] == repr(t).split("(")[0]


def test_torch_modes_that_fnx_corrects():
    """PyTorch's Kumaraswamy mode is nan everywhere and its Weibull mode is wrong below concentration 1; fnx
    gives the argmax of the density (0 for a Weibull density unbounded there), nan where there is none."""
    torch = pytest.importorskip("torch")
    a, b = [3.0, 1.0, 3.0, 0.5, 1.0], [1.0, 3.0, 5.0, 2.0, 1.0]
    assert torch.isnan(torch.distributions.Kumaraswamy(torch.tensor(a), torch.tensor(b)).mode).all()
    close(D.Kumaraswamy(a64(a), a64(b)).mode, [1.0, 0.0, (2 / 14) ** (1 / 3), math.nan, math.nan])
    assert float(torch.distributions.Weibull(torch.tensor(2.0), torch.tensor(0.5)).mode) == 2.0
    close(D.Weibull(a64([2.0, 2.0, 2.0]), a64([0.5, 1.0, 3.0])).mode, [0.0, 0.0, 2 * (2 / 3) ** (1 / 3)])

# ----- derivatives against PyTorch's autograd --------------------------------------------------------------


# name: (make(M, *params), params, value); log_prob's derivatives in every parameter
GRAD_CASES = {
    "Geometric": (lambda M, p: M.Geometric(p), ([0.3, 0.8, 1.0],), [2.0, 0.0, 0.0]),
    "Geometric(logits)": (lambda M, lg: M.Geometric(logits=lg), ([0.3, -1.2],), [2.0, 5.0]),
    "NegativeBinomial": (lambda M, n, p: M.NegativeBinomial(n, p), ([2.5, 4.0], [0.3, 0.6]), [1.0, 6.0]),
    "NegativeBinomial(logits)": (lambda M, n, lg: M.NegativeBinomial(n, logits=lg), ([2.5, 0.7], [0.3, -0.6]),
                                 [0.0, 3.0]),
    "Multinomial": (lambda M, p: M.Multinomial(3, p), ([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]],),
                    [[1.0, 2.0, 0.0], [0.0, 0.0, 3.0]]),
    "Multinomial(logits)": (lambda M, lg: M.Multinomial(3, logits=lg), ([[0.2, -0.3, 1.5], [0.6, 0.1, 0.3]],),
                            [[1.0, 2.0, 0.0], [0.0, 0.0, 3.0]]),
    "Pareto": (lambda M, s, a: M.Pareto(s, a), ([1.0, 0.5], [2.0, 0.7]), [1.5, 3.0]),
    "Weibull": (lambda M, s, c: M.Weibull(s, c), ([1.0, 0.5], [2.0, 0.7]), [1.5, 0.3]),
    "Kumaraswamy": (lambda M, a, b: M.Kumaraswamy(a, b), ([1.0, 0.5, 3.0], [2.0, 0.7, 1.2]), [0.5, 0.3, 0.9]),
    "InverseGamma": (lambda M, c, r: M.InverseGamma(c, r), ([1.0, 0.5], [2.0, 0.7]), [1.5, 0.3]),
    "LowRankMultivariateNormal": (lambda M, m, w, d: M.LowRankMultivariateNormal(m, w, d),
                                  ([0.3, -1.0, 0.5], [[1.0, 0.2], [0.5, -0.3], [0.0, 0.8]], [0.5, 1.5, 1.0]),
                                  [[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]]),
    "VonMises": (lambda M, m, k: M.VonMises(m, k), ([0.3, -1.0, 2.0], [0.5, 3.0, 7.0]), [1.5, 0.3, -2.5]),
    "ContinuousBernoulli": (lambda M, p: M.ContinuousBernoulli(p), ([0.2, 0.4995, 0.8],), [0.3, 0.6, 0.95]),
    "ContinuousBernoulli(logits)": (lambda M, lg: M.ContinuousBernoulli(logits=lg), ([-1.2, 0.001, 2.0],),
                                    [0.3, 0.6, 0.95]),
}
NO_ENTROPY = {"NegativeBinomial", "NegativeBinomial(logits)", "VonMises"}


def _torch_grads(torch, make, params, score):
    tps = [torch.tensor(np.array(p, dtype=np.float64), requires_grad=True) for p in params]
    score(make(torch.distributions, *tps)).sum().backward()
    return [np.zeros(tp.shape) if tp.grad is None else tp.grad.numpy() for tp in tps]  # None: no dependence


@pytest.mark.parametrize("name", GRAD_CASES)
def test_derivatives_match_torch(name):
    torch = pytest.importorskip("torch")
    make, params, value = GRAD_CASES[name]
    argnums = tuple(range(len(params)))
    scores = {"log_prob": lambda d, v: d.log_prob(v)}
    if name not in NO_ENTROPY:
        scores["entropy"] = lambda d, v: d.entropy()
    for what, score in scores.items():
        got = fnx.grad(lambda *ps: fnp.sum(score(make(D, *ps), a64(value))), argnums=argnums)(*map(a64, params))
        want = _torch_grads(torch, make, params, lambda d: score(d, torch.tensor(np.array(value))))
        for g, w in zip(got, want):
            close(g, w, rtol=1e-8, atol=1e-12)


def test_backward_on_parameters_matches_torch():
    torch = pytest.importorskip("torch")
    loc, w, diag = np.array([0.3, -1.0]), np.array([[1.0], [0.5]]), np.array([0.5, 1.5])
    x = np.array([[0.2, 0.1], [1.0, -2.0]])
    params = [fnx.nn.Parameter(a64(p)) for p in (loc, w, diag)]
    (-D.LowRankMultivariateNormal(*params).log_prob(a64(x)).sum()).backward()
    want = _torch_grads(torch, lambda M, *ps: M.LowRankMultivariateNormal(*ps), (loc, w, diag),
                        lambda d: -d.log_prob(torch.tensor(x)))
    for p, g in zip(params, want):
        close(p.grad, g, rtol=1e-10)


KEY = fnx.random.key(3)
RSAMPLE_CASES = {
    "Pareto": (lambda s, a: D.Pareto(s, a).rsample((3,), key=KEY), ([1.0, 0.5], [2.0, 0.7])),
    "Weibull": (lambda s, c: D.Weibull(s, c).rsample((3,), key=KEY), ([1.0, 0.5], [2.0, 0.7])),
    "Kumaraswamy": (lambda a, b: D.Kumaraswamy(a, b).rsample((3,), key=KEY), ([1.0, 3.0], [2.0, 0.7])),
    "InverseGamma (rate)": (lambda r: D.InverseGamma(a64([1.5, 4.0]), r).rsample((3,), key=KEY), ([2.0, 0.7],)),
    "LowRankMultivariateNormal": (lambda m, w, d: D.LowRankMultivariateNormal(m, w, d).rsample((3,), key=KEY),
                                  ([0.3, -1.0], [[1.0], [0.5]], [0.5, 1.5])),
    "ContinuousBernoulli": (lambda lg: D.ContinuousBernoulli(logits=lg).rsample((3,), key=KEY), ([-1.2, 2.0],)),
}


@pytest.mark.parametrize("name", RSAMPLE_CASES)
def test_rsample_derivatives(name):
    f, args = RSAMPLE_CASES[name]
    check_grads(f, tuple(a64(a) for a in args))


def test_samples_are_constants():
    for make in (lambda p: D.Geometric(p), lambda p: D.NegativeBinomial(3.0, p), lambda p: D.VonMises(0.0, 1 / p),
                 lambda p: D.Multinomial(4, fnp.stack([p, 1 - p]))):
        g = fnx.grad(lambda p: fnp.sum(make(p).sample((3,), key=KEY)))(a64(0.4))
        assert float(g) == 0.0

# ----- closed forms (no PyTorch) -----------------------------------------------------------------------------


def _lgamma(x):
    return np.vectorize(math.lgamma)(x)


def test_log_prob_closed_forms():
    k = np.array([0.0, 1.0, 4.0])
    p, lg = np.array([0.3, 0.6, 0.9]), np.array([0.4, -1.0, 2.0])
    close(D.Geometric(a64(p)).log_prob(a64(k)), k * np.log1p(-p) + np.log(p), rtol=1e-12)
    close(D.Geometric(logits=a64(lg)).log_prob(a64(k)),
          k * np.log(1 / (1 + np.exp(lg))) + np.log(1 / (1 + np.exp(-lg))), rtol=1e-12)
    r = np.array([0.5, 2.0, 7.5])
    close(D.NegativeBinomial(a64(r), a64(p)).log_prob(a64(k)),
          _lgamma(k + r) - _lgamma(k + 1) - _lgamma(r) + r * np.log1p(-p) + k * np.log(p), rtol=1e-12)
    close(D.NegativeBinomial(a64([0.0, 0.0]), a64([0.5, 0.5])).log_prob(a64([0.0, 2.0])), [0.0, -math.inf])
    q = np.array([0.2, 0.3, 0.5])
    x = np.array([[2.0, 0.0, 3.0], [1.0, 1.0, 1.0]])
    close(D.Multinomial(5, a64(q * 4)).log_prob(a64(x)),
          _lgamma(x.sum(-1) + 1) - _lgamma(x + 1).sum(-1) + (x * np.log(q)).sum(-1), rtol=1e-12)
    close(D.Multinomial(3, a64([0.5, 0.5, 0.0])).log_prob(a64([1.0, 2.0, 0.0])), math.log(3 / 8), rtol=1e-12)
    s, a, v = np.array([1.0, 0.5, 2.0]), np.array([2.0, 0.7, 5.0]), np.array([1.5, 3.0, 2.0])
    close(D.Pareto(a64(s), a64(a)).log_prob(a64(v)), np.log(a) + a * np.log(s) - (a + 1) * np.log(v), rtol=1e-12)
    close(D.Weibull(a64(s), a64(a)).log_prob(a64(v)),
          np.log(a / s) + (a - 1) * np.log(v / s) - (v / s) ** a, rtol=1e-12)
    u = np.array([0.2, 0.5, 0.95])
    close(D.Kumaraswamy(a64(s), a64(a)).log_prob(a64(u)),
          np.log(s * a) + (s - 1) * np.log(u) + (a - 1) * np.log1p(-u ** s), rtol=1e-12)
    close(D.InverseGamma(a64(a), a64(s)).log_prob(a64(v)),
          a * np.log(s) - _lgamma(a) - (a + 1) * np.log(v) - s / v, rtol=1e-12)
    lam = np.array([0.1, 0.3, 0.8])
    norm = 2 * np.arctanh(1 - 2 * lam) / (1 - 2 * lam)
    close(D.ContinuousBernoulli(a64(lam)).log_prob(a64(u)),
          np.log(norm) + u * np.log(lam) + (1 - u) * np.log1p(-lam), rtol=1e-12)
    close(D.ContinuousBernoulli(a64(0.5)).log_prob(a64(u)), np.zeros(3), atol=1e-12)  # the uniform
    loc, kappa, th = np.array([0.3, -1.0, 2.0]), np.array([0.5, 3.0, 7.0]), np.array([1.5, 0.3, 9.0])
    # I0 by PyTorch's polynomials: relative error below 2e-7
    close(D.VonMises(a64(loc), a64(kappa)).log_prob(a64(th)),
          kappa * np.cos(th - loc) - np.log(2 * np.pi * np.i0(kappa)), rtol=1e-6)


def test_low_rank_against_dense_algebra():
    x = R.normal(size=(4, 2, 3))
    d = D.LowRankMultivariateNormal(a64(REAL), a64(W1), a64(D1))
    cov = W1 @ W1.transpose(0, 2, 1) + np.eye(3) * D1[:, None, :]
    close(d.covariance_matrix, cov, rtol=1e-12)
    close(d.precision_matrix, np.linalg.inv(cov), rtol=1e-10)
    close(np.asarray(d.scale_tril) @ np.asarray(d.scale_tril).transpose(0, 2, 1), cov, rtol=1e-10)
    close(d.variance, np.diagonal(cov, 0, -2, -1), rtol=1e-12)
    diff = x - REAL
    maha = np.einsum("sbi,bij,sbj->sb", diff, np.linalg.inv(cov), diff)
    logdet = np.linalg.slogdet(cov)[1]
    close(d.log_prob(a64(x)), -0.5 * (3 * np.log(2 * np.pi) + logdet + maha), rtol=1e-10)
    close(d.entropy(), 0.5 * (3 * (1 + np.log(2 * np.pi)) + logdet), rtol=1e-12)
    mvn = D.MultivariateNormal(a64(REAL), covariance_matrix=a64(cov))
    close(d.log_prob(a64(x)), mvn.log_prob(a64(x)), rtol=1e-10)
    q = D.LowRankMultivariateNormal(a64(REAL[::-1]), a64(W2), a64(D2))
    q_mvn = D.MultivariateNormal(a64(REAL[::-1]), covariance_matrix=q.covariance_matrix)
    close(kl_divergence(d, q), kl_divergence(mvn, q_mvn), rtol=1e-9)
    close(kl_divergence(mvn, q), kl_divergence(mvn, q_mvn), rtol=1e-9)
    close(kl_divergence(d, q_mvn), kl_divergence(mvn, q_mvn), rtol=1e-9)
    assert d.expand((5, 2)).log_prob(a64(x[:1])).shape == (5, 2)


def _integrate(y, t):
    """Simpson's rule along axis 0 on a uniform grid ``t`` of an odd number of points."""
    h = (t[1] - t[0]).squeeze()
    return h / 3 * (y[0] + y[-1] + 4 * y[1:-1:2].sum(0) + 2 * y[2:-1:2].sum(0))


def _quad(d, t, to_x, log_jac):
    """Entropy, mean and total mass of a univariate batch ``d`` by Simpson's rule in ``t``, ``x = to_x(t)``
    (``t`` of shape (n, 1) or (n, batch))."""
    x = to_x(t) + np.zeros(d.batch_shape)
    lp = np.asarray(d.log_prob(a64(x)))
    w = np.exp(lp + log_jac(t))  # the density in t
    return _integrate(-w * lp, t), _integrate(w * x, t), _integrate(w, t)


_LOG = (np.exp, lambda t: t)  # x = e^t: (0, inf)
_LOGIT = (lambda t: 1 / (1 + np.exp(-t)), lambda t: -np.logaddexp(0, t) - np.logaddexp(0, -t))  # (0, 1)
_LINE = (lambda t: t, lambda t: np.zeros_like(t))
QUAD_CASES = {  # name: (distribution, t grid, transform, rtol of the mean)
    # alpha > 1 for a finite mean; the tail beyond 1e12 scales holds ~1e-6 of the mean at alpha = 1.5
    "Pareto": (lambda: D.Pareto(a64([1.0, 0.5, 2.0]), a64([1.5, 3.0, 6.0])),
               np.log([1.0, 0.5, 2.0]) + np.linspace(0.0, np.log(1e12), 200001)[:, None], _LOG, 1e-5),
    "Weibull": (lambda: D.Weibull(a64([1.0, 0.5, 2.0]), a64([1.5, 3.0, 0.8])),
                np.linspace(-80.0, 7.0, 200001)[:, None], _LOG, 1e-6),
    # from x**a = 1e-11 (below, 1 - x**a rounds to 1 and the density to 0, in PyTorch's transforms too)
    "Kumaraswamy": (lambda: D.Kumaraswamy(a64([1.5, 3.0, 2.0]), a64([1.5, 0.8, 5.0])),
                    np.linspace(np.log(1e-11) / np.array([1.5, 3.0, 2.0]), 30.0, 200001), _LOGIT, 1e-6),
    "InverseGamma": (lambda: D.InverseGamma(a64([3.0, 5.0, 8.0]), a64([1.0, 0.5, 2.0])),
                     np.linspace(-10.0, 20.0, 200001)[:, None], _LOG, 1e-6),
    "ContinuousBernoulli": (lambda: D.ContinuousBernoulli(a64([0.1, 0.4999, 0.8])),
                            np.linspace(0.0, 1.0, 200001)[:, None], _LINE, 1e-6),
}


@pytest.mark.parametrize("name", QUAD_CASES)
def test_entropy_and_mean_by_quadrature(name):
    make, t, (to_x, log_jac), rtol = QUAD_CASES[name]
    d = make()
    h, m, total = _quad(d, t, to_x, log_jac)
    close(total, 1.0, rtol=1e-6)
    close(h, d.entropy(), rtol=1e-6, atol=1e-8)
    close(m, d.mean, rtol=rtol)


def test_von_mises_moments_by_quadrature():
    d = D.VonMises(a64([0.3, -1.0, 2.0]), a64([0.5, 3.0, 7.0]))
    x = np.linspace(-np.pi, np.pi, 200001)[:, None]
    p = np.exp(np.asarray(d.log_prob(a64(x + np.zeros(3)))))
    close(_integrate(p, x), 1.0, rtol=1e-6)  # PyTorch's approximate I0 normalises to within 2e-7
    resultant = _integrate(p * np.exp(1j * x), x)
    close(np.angle(resultant), d.mean, rtol=1e-9)
    close(1 - np.abs(resultant), d.variance, rtol=1e-5)


def test_discrete_entropy_and_moments_by_sums():
    k = np.arange(3000.0)[:, None]
    for d in (D.Geometric(a64([0.05, 0.3, 0.9])), D.NegativeBinomial(a64([0.5, 3.0, 20.0]), a64([0.8, 0.4, 0.1]))):
        lp = np.asarray(d.log_prob(a64(k)))
        p = np.exp(lp)
        close(p.sum(0), 1.0, rtol=1e-10)
        close((p * k).sum(0), d.mean, rtol=1e-9)
        close((p * (k - np.asarray(d.mean)) ** 2).sum(0), d.variance, rtol=1e-9)
        if isinstance(d, D.Geometric):
            close(-(p * lp).sum(0), d.entropy(), rtol=1e-9)
    # Multinomial: every count vector of 4 draws among 3 categories
    probs = np.array([0.2, 0.3, 0.5])
    counts = np.array([[i, j, 4 - i - j] for i in range(5) for j in range(5 - i)], dtype=np.float64)
    d = D.Multinomial(4, a64(probs))
    lp = np.asarray(d.log_prob(a64(counts)))
    close(np.exp(lp).sum(), 1.0, rtol=1e-12)
    close(-(np.exp(lp) * lp).sum(), d.entropy(), rtol=1e-12)
    close((np.exp(lp)[:, None] * counts).sum(0), d.mean, rtol=1e-12)


def test_modes_on_a_grid():
    x = np.linspace(1e-4, 1 - 1e-4, 20001)[:, None]
    d = D.Kumaraswamy(a64([2.0, 3.0, 1.5]), a64([2.0, 5.0, 1.2]))
    close(x[np.argmax(np.asarray(d.log_prob(a64(x))), 0), 0], d.mode, atol=1e-4)
    y = np.linspace(1e-4, 5.0, 50001)[:, None]
    d = D.Weibull(a64([1.0, 2.0]), a64([1.5, 3.0]))
    close(y[np.argmax(np.asarray(d.log_prob(a64(y))), 0), 0], d.mode, atol=1e-4)
    close(D.InverseGamma(a64(3.0), a64(2.0)).mode, 0.5)
    close(D.NegativeBinomial(a64([5.0, 0.5]), a64([0.5, 0.5])).mode, [4.0, 0.0])

# ----- draws (no PyTorch) -----------------------------------------------------------------------------------


N = 10_000
# The 0.1% critical value of the Kolmogorov-Smirnov distance for N draws is 1.95 / sqrt(N) = 0.0195.
KS_BOUND = 1.95 / math.sqrt(N)


def _make(name, dtype="float64"):
    A_ = lambda x: fnp.asarray(np.asarray(x, dtype=dtype))  # noqa: E731
    return {
        "Geometric": lambda: D.Geometric(A_([0.2, 0.7])),
        "NegativeBinomial": lambda: D.NegativeBinomial(A_([2.5, 30.0]), A_([0.4, 0.7])),
        "Multinomial": lambda: D.Multinomial(10, A_([[0.2, 0.3, 0.5], [0.6, 0.4, 0.0]])),
        "Pareto": lambda: D.Pareto(A_([1.0, 0.5]), A_([5.0, 9.0])),
        "Weibull": lambda: D.Weibull(A_([1.0, 2.0]), A_([0.8, 3.0])),
        "Kumaraswamy": lambda: D.Kumaraswamy(A_([0.5, 3.0]), A_([2.0, 0.7])),
        "InverseGamma": lambda: D.InverseGamma(A_([5.0, 9.0]), A_([1.0, 2.0])),
        "LowRankMultivariateNormal": lambda: D.LowRankMultivariateNormal(A_([[0.0, 1.0, -1.0], [2.0, 0.0, 0.5]]),
                                                                         A_(W1), A_(D1)),
        "VonMises": lambda: D.VonMises(A_([3.0, -1.0]), A_([1e-6, 4.0])),
        "ContinuousBernoulli": lambda: D.ContinuousBernoulli(A_([0.1, 0.4999])),
    }[name]()


NAMES = ["Geometric", "NegativeBinomial", "Multinomial", "Pareto", "Weibull", "Kumaraswamy", "InverseGamma",
         "LowRankMultivariateNormal", "VonMises", "ContinuousBernoulli"]


@pytest.mark.parametrize("name", NAMES)
def test_sample_shapes_dtypes_and_moments(name):
    d = _make(name, "float32")
    assert d.batch_shape == (2,)
    for sample_shape in [(), (4, 1)]:
        x = d.sample(sample_shape)
        assert x.shape == sample_shape + d.batch_shape + d.event_shape and x.dtype == np.float32
        assert bool(fnp.all(d.support.check(x)))
        lp = d.log_prob(x)
        assert lp.shape == sample_shape + d.batch_shape and lp.dtype == np.float32
        if d.has_rsample:
            assert d.rsample(sample_shape).shape == x.shape
    e = d.expand((5, 2))
    assert type(e) is type(d) and e.batch_shape == (5, 2) and e.sample((3,)).shape == (3, 5, 2) + d.event_shape
    d = _make(name)
    x = np.asarray(d.sample((N,), key=fnx.random.key(7)))
    assert x.dtype == np.float64
    mean, var = np.asarray(d.mean), np.asarray(d.variance)
    if name == "VonMises":  # circular: the mean angle, and 1 - the mean resultant length
        z = np.exp(1j * x).mean(0)
        assert abs(np.angle(z[1]) - mean[1]) < 0.02 and abs(abs(z[0])) < 0.03
        np.testing.assert_allclose(1 - np.abs(z), var, atol=0.02)
        return
    np.testing.assert_array_less(np.abs(x.mean(0) - mean), 5 * np.sqrt(var / N) + 1e-12)
    np.testing.assert_allclose(x.var(0), var, rtol=0.1)
    if name == "LowRankMultivariateNormal":
        c = np.einsum("nbi,nbj->bij", x - mean, x - mean) / N
        np.testing.assert_allclose(c, np.asarray(d.covariance_matrix), atol=0.15)
    if name == "Multinomial":
        assert np.all(x.sum(-1) == 10) and np.all(x[..., 1, 2] == 0)


@pytest.mark.parametrize("name", ["Pareto", "Weibull", "Kumaraswamy", "InverseGamma", "ContinuousBernoulli",
                                  "Geometric", "VonMises"])
def test_draws_follow_the_distribution_function(name):
    d = _make(name)
    x = np.sort(np.asarray(d.sample((N,), key=fnx.random.key(8))), axis=0)
    if name == "Geometric":  # discrete: the empirical frequencies of 0..9 against the mass function
        k = np.arange(10.0)[:, None]
        freq = (x[None] == k[:, None]).mean(1)
        p = np.exp(np.asarray(d.log_prob(a64(k))))
        np.testing.assert_array_less(np.abs(freq - p), 5 * np.sqrt(p * (1 - p) / N) + 1e-12)
        return
    if name == "VonMises":  # the distribution function by cumulative quadrature of the density from -pi
        grid = np.linspace(-np.pi, np.pi, 100001)[:, None]
        dens = np.exp(np.asarray(d.log_prob(a64(grid + np.zeros(2)))))
        cum = np.concatenate([np.zeros((1, 2)), np.cumsum((dens[1:] + dens[:-1]) / 2 * np.diff(grid, axis=0), 0)])
        f = np.stack([np.interp(x[:, b], grid[:, 0], cum[:, b]) for b in range(2)], 1)
    else:
        f = np.asarray(d.cdf(a64(x)))
    n = np.arange(N + 1)[:, None] / N
    assert np.max(np.maximum(n[1:] - f, f - n[:-1])) < KS_BOUND


def test_draws_under_jit_and_vmap():
    f = fnx.jit(lambda k, key: D.VonMises(0.5, k).sample((4,), key=key))
    a, b = f(fnp.asarray([0.5, 30.0]), fnx.random.key(0)), f(fnp.asarray([0.5, 30.0]), fnx.random.key(1))
    assert a.shape == (4, 2) and not np.array_equal(np.asarray(a), np.asarray(b))
    assert np.array_equal(np.asarray(a), np.asarray(D.VonMises(0.5, fnp.asarray([0.5, 30.0])).sample(
        (4,), key=fnx.random.key(0))))
    keys = fnx.random.split(fnx.random.key(2), 3)
    draws = fnx.vmap(lambda key: D.NegativeBinomial(4.0, probs=0.5).sample((2,), key=key))(keys)
    assert draws.shape == (3, 2) and draws.dtype == np.float32
    g = fnx.jit(lambda p, key: D.Multinomial(6, p).sample((), key=key))(fnp.asarray([0.5, 0.5]), fnx.random.key(3))
    assert float(g.sum()) == 6.0
    lp = fnx.vmap(lambda s: D.Pareto(s, 2.0).log_prob(fnp.asarray(3.0)))(fnp.asarray([1.0, 2.0]))
    close(lp, [math.log(2.0) - 3 * math.log(3.0), math.log(2.0) + 2 * math.log(2.0) - 3 * math.log(3.0)], rtol=1e-6)

# ----- KL divergences (no PyTorch) -------------------------------------------------------------------------


def test_kl_against_sums_and_quadrature():
    p, q = D.Geometric(a64([0.2, 0.7])), D.Geometric(logits=a64([0.5, -1.0]))
    k = np.arange(2000.0)[:, None]
    lp, lq = np.asarray(p.log_prob(a64(k))), np.asarray(q.log_prob(a64(k)))
    close(kl_divergence(p, q), (np.exp(lp) * (lp - lq)).sum(0), rtol=1e-9)
    # Pareto: x = scale_p * exp(t); infinite where q's support starts above p's
    p = D.Pareto(a64([1.0, 1.0]), a64([2.0, 3.0]))
    q = D.Pareto(a64([0.5, 1.5]), a64([1.0, 2.0]), validate_args=False)
    t = np.linspace(0.0, 40.0, 400001)
    x = np.exp(t)[:, None] + np.zeros(2)
    lp, lq = np.asarray(p.log_prob(a64(x))), np.asarray(q.log_prob(a64(x)))
    close(kl_divergence(p, q)[0], _integrate(np.exp(lp[:, 0] + t) * (lp[:, 0] - lq[:, 0]), t), rtol=1e-6)
    assert float(kl_divergence(p, q)[1]) == math.inf
    # continuous Bernoulli against itself, a uniform, a normal and an exponential, over [0, 1]
    x = np.linspace(0.0, 1.0, 200001)
    p = D.ContinuousBernoulli(a64([0.1, 0.4999, 0.8]))
    lp = np.asarray(p.log_prob(a64(x[:, None])))
    for q in (D.ContinuousBernoulli(logits=a64([1.0, -2.0, 0.0])), D.Normal(a64([0.0, 1.0, 0.5]), a64(0.7)),
              D.Exponential(a64([0.5, 1.0, 3.0])), D.Uniform(a64(-0.5), a64(1.5))):
        lq = np.asarray(q.log_prob(a64(x[:, None] + np.zeros(3))))
        close(kl_divergence(p, q), _integrate(np.exp(lp) * (lp - lq), x), rtol=1e-6, atol=1e-9)
    b = D.Beta(a64([2.0, 3.0, 1.5]), a64([2.0, 1.5, 4.0]))
    lb = np.asarray(b.log_prob(a64(x[1:-1, None] + np.zeros(3))))
    lq = np.asarray(D.ContinuousBernoulli(a64([0.3, 0.6, 0.5])).log_prob(a64(x[1:-1, None] + np.zeros(3))))
    close(kl_divergence(b, D.ContinuousBernoulli(a64([0.3, 0.6, 0.5]))),
          _integrate(np.exp(lb) * (lb - lq), x[1:-1]), rtol=1e-5)
    for p, q in ((D.Normal(0.0, 1.0), D.Pareto(1.0, 1.0)), (D.Pareto(1.0, 1.0), D.Uniform(0.0, 5.0)),
                 (D.Gamma(1.0, 1.0), D.ContinuousBernoulli(0.3)), (D.ContinuousBernoulli(0.3), D.Pareto(1.0, 1.0))):
        assert float(kl_divergence(p, q)) == math.inf


def _kl_pairs():
    def one(kind, M, W):
        return {"Beta": lambda: M.Beta(W(POS), W(POS_B)), "Pareto": lambda: M.Pareto(W(POS), W(POS_B)),
                "ContinuousBernoulli": lambda: M.ContinuousBernoulli(W(PROBS)),
                "Exponential": lambda: M.Exponential(W(POS)), "Normal": lambda: M.Normal(W(REAL), W(POS)),
                "Uniform": lambda: M.Uniform(W(REAL), W(REAL + 1)), "Gumbel": lambda: M.Gumbel(W(REAL), W(POS)),
                "Laplace": lambda: M.Laplace(W(REAL), W(POS)), "Gamma": lambda: M.Gamma(W(POS), W(POS_B))}[kind]()
    pairs = {
        "Geometric": lambda M, W: (M.Geometric(W(PROBS)), M.Geometric(logits=W(REAL))),
        "Pareto": lambda M, W: (M.Pareto(W(POS), W(POS_B)), M.Pareto(W([0.1, 5.0, 1.0]), W(POS))),
        "LowRank": lambda M, W: (M.LowRankMultivariateNormal(W(REAL), W(W1), W(D1)),
                                 M.LowRankMultivariateNormal(W(REAL[::-1]), W(W2), W(D2))),
        "MVN-LowRank": lambda M, W: (M.MultivariateNormal(W(REAL), W(COV)),
                                     M.LowRankMultivariateNormal(W(REAL[::-1]), W(W2), W(D2))),
        "LowRank-MVN": lambda M, W: (M.LowRankMultivariateNormal(W(REAL), W(W1), W(D1)),
                                     M.MultivariateNormal(W(REAL[::-1]), W(COV[0]))),
        "CB": lambda M, W: (M.ContinuousBernoulli(W([0.2, 0.4995, 0.9])), M.ContinuousBernoulli(logits=W(REAL))),
        "Beta-CB": lambda M, W: (M.Beta(W(POS), W(POS_B)), M.ContinuousBernoulli(W(PROBS))),
        "CB-Exponential": lambda M, W: (M.ContinuousBernoulli(W(PROBS)), M.Exponential(W(POS))),
        "CB-Normal": lambda M, W: (M.ContinuousBernoulli(W(PROBS)), M.Normal(W(REAL), W(POS))),
        "CB-Uniform": lambda M, W: (M.ContinuousBernoulli(W(PROBS)),
                                    M.Uniform(W([-1.0, 0.0, -0.5]), W([2.0, 2.0, 0.9]))),
        "Uniform-CB": lambda M, W: (M.Uniform(W([0.1, 0.0, 0.5]), W([0.9, 0.5, 1.0])),
                                    M.ContinuousBernoulli(W(PROBS))),
        "Pareto-Exponential": lambda M, W: (M.Pareto(W(POS), W([0.5, 1.5, 3.0])), M.Exponential(W(POS_B))),
        "Pareto-Gamma": lambda M, W: (M.Pareto(W(POS), W([0.5, 1.5, 3.0])), M.Gamma(W(POS_B), W(POS))),
        "Pareto-Normal": lambda M, W: (M.Pareto(W(POS), W([1.5, 2.5, 3.0])), M.Normal(W(REAL), W(POS_B))),
        "Uniform-Pareto": lambda M, W: (M.Uniform(W([0.5, 1.0, 2.0]), W([3.0, 4.0, 5.0])),
                                        M.Pareto(W([0.4, 1.5, 1.0]), W(POS))),
        "Weibull (transformed)": lambda M, W: (M.Weibull(W(POS), W(POS_B)), M.Weibull(W(POS), W(POS_B))),
    }
    for a, b in [("Beta", "Pareto"), ("ContinuousBernoulli", "Pareto"), ("Exponential", "ContinuousBernoulli"),
                 ("Exponential", "Pareto"), ("Gamma", "ContinuousBernoulli"), ("Gamma", "Pareto"),
                 ("Gumbel", "ContinuousBernoulli"), ("Gumbel", "Pareto"), ("Laplace", "ContinuousBernoulli"),
                 ("Laplace", "Pareto"), ("Normal", "ContinuousBernoulli"), ("Normal", "Pareto"), ("Pareto", "Beta"),
                 ("Pareto", "ContinuousBernoulli"), ("Pareto", "Uniform")]:
        pairs[f"{a}-{b}"] = lambda M, W, a=a, b=b: (one(a, M, W), one(b, M, W))
    return pairs


def test_kl_against_torch():
    torch = pytest.importorskip("torch")
    TD = torch.distributions
    for name, make in _kl_pairs().items():
        (p, q), (tp, tq) = make(D, a64), make(TD, lambda x: torch.tensor(np.array(x, dtype=np.float64)))
        want = TD.kl_divergence(tp, tq).numpy()
        got = kl_divergence(p, q)
        assert got.shape == want.shape, name
        close(got, want, rtol=1e-10, atol=1e-12)


def test_kl_derivatives():
    check_grads(lambda a, b: kl_divergence(D.Pareto(1.0, a), D.Pareto(0.5, b)), (a64([1.5, 3.0]), a64([0.7, 2.0])))
    check_grads(lambda a, b: kl_divergence(D.ContinuousBernoulli(logits=a), D.ContinuousBernoulli(logits=b)),
                (a64([-1.0, 0.3]), a64([1.5, 0.002])))
    check_grads(lambda w, d: kl_divergence(D.LowRankMultivariateNormal(a64([0.0, 1.0]), w, d),
                                           D.LowRankMultivariateNormal(a64([1.0, 0.0]), a64([[0.3], [1.0]]),
                                                                       a64([1.0, 2.0]))),
                (a64([[1.0], [0.5]]), a64([0.5, 1.5])))

# ----- validation --------------------------------------------------------------------------------------------


# make(M, W) -> a call that raises ValueError, in fnx and in PyTorch
INVALID = {
    "Geometric probs 0": lambda M, W: M.Geometric(W(0.0)),
    "Geometric probs > 1": lambda M, W: M.Geometric(W([0.5, 1.5])),
    "Geometric non-integer": lambda M, W: M.Geometric(W(0.5)).log_prob(W(1.5)),
    "Geometric negative": lambda M, W: M.Geometric(W(0.5)).log_prob(W(-1.0)),
    "NegativeBinomial count": lambda M, W: M.NegativeBinomial(W(-1.0), W(0.5)),
    "NegativeBinomial probs 1": lambda M, W: M.NegativeBinomial(W(2.0), W(1.0)),
    "NegativeBinomial value": lambda M, W: M.NegativeBinomial(W(2.0), W(0.5)).log_prob(W(0.5)),
    "Multinomial probs": lambda M, W: M.Multinomial(3, W([-0.5, 1.5])),
    "Multinomial negative": lambda M, W: M.Multinomial(3, W([0.5, 0.5])).log_prob(W([-1.0, 2.0])),
    "Multinomial too many": lambda M, W: M.Multinomial(3, W([0.5, 0.5])).log_prob(W([3.0, 2.0])),
    "Multinomial event": lambda M, W: M.Multinomial(3, W([0.5, 0.5])).log_prob(W([1.0, 1.0, 1.0])),
    "Pareto scale": lambda M, W: M.Pareto(W(-1.0), W(1.0)),
    "Pareto alpha": lambda M, W: M.Pareto(W(1.0), W(0.0)),
    "Pareto value": lambda M, W: M.Pareto(W([1.0, 2.0]), W(2.0)).log_prob(W([1.5, 1.5])),
    "Weibull concentration": lambda M, W: M.Weibull(W(1.0), W(-1.0)),
    "Weibull value": lambda M, W: M.Weibull(W(1.0), W(2.0)).log_prob(W(-1.0)),
    "Kumaraswamy concentration": lambda M, W: M.Kumaraswamy(W(-1.0), W(1.0)),
    "Kumaraswamy value": lambda M, W: M.Kumaraswamy(W(1.0), W(2.0)).log_prob(W(1.5)),
    "InverseGamma rate": lambda M, W: M.InverseGamma(W(1.0), W(-1.0)),
    "InverseGamma value": lambda M, W: M.InverseGamma(W(1.0), W(2.0)).log_prob(W(-1.0)),
    "LowRank diag": lambda M, W: M.LowRankMultivariateNormal(W([0.0, 0.0]), W([[1.0], [0.0]]), W([1.0, -1.0])),
    "LowRank factor shape": lambda M, W: M.LowRankMultivariateNormal(W([0.0, 0.0]), W([[1.0, 0.0, 2.0]]),
                                                                     W([1.0, 1.0])),
    "LowRank diag shape": lambda M, W: M.LowRankMultivariateNormal(W([0.0, 0.0]), W([[1.0], [0.0]]), W([1.0])),
    "LowRank loc": lambda M, W: M.LowRankMultivariateNormal(W(0.0), W([[1.0]]), W([1.0])),
    "LowRank batch": lambda M, W: M.LowRankMultivariateNormal(W(np.zeros((2, 2))), W(np.ones((3, 2, 1))),
                                                              W([1.0, 1.0])),
    "LowRank value": lambda M, W: M.LowRankMultivariateNormal(W([0.0, 0.0]), W([[1.0], [0.0]]),
                                                              W([1.0, 1.0])).log_prob(W([1.0, 2.0, 3.0])),
    "VonMises concentration": lambda M, W: M.VonMises(W(0.0), W(-1.0)),
    "VonMises value": lambda M, W: M.VonMises(W(0.0), W(1.0)).log_prob(W(math.nan)),
    "ContinuousBernoulli probs": lambda M, W: M.ContinuousBernoulli(W(1.5), validate_args=True),
    "ContinuousBernoulli value": lambda M, W: M.ContinuousBernoulli(W(0.3)).log_prob(W(1.5)),
}


@pytest.mark.parametrize("case", INVALID)
def test_invalid_arguments_and_values_raise(case):
    with pytest.raises(ValueError):
        INVALID[case](D, a64)


def test_torch_raises_the_same():
    torch = pytest.importorskip("torch")
    for case, make in INVALID.items():
        with pytest.raises(ValueError):
            make(torch.distributions, lambda x: torch.tensor(np.array(x, dtype=np.float64)))


def test_other_errors_and_edges():
    with pytest.raises(NotImplementedError, match="inhomogeneous total_count"):
        D.Multinomial(2.5, a64([0.5, 0.5]))
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        D.Geometric()
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        D.NegativeBinomial(2.0, probs=0.5, logits=0.0)
    with pytest.raises(NotImplementedError):
        D.Geometric(0.5).rsample()
    with pytest.raises(NotImplementedError):
        D.InverseGamma(2.0, 1.0).icdf(fnp.asarray(0.5))
    # without validation nothing is checked, and PyTorch's formulas run
    assert float(D.Geometric(a64(0.5), validate_args=False).log_prob(a64(-1.0))) == 0.0  # -log(1/2) + log(1/2)
    close(D.Geometric(a64([1.0, 1.0])).log_prob(a64([0.0, 2.0])), [0.0, -math.inf])
    close(D.Pareto(a64([1.0, 1.0, 1.0]), a64([0.5, 1.5, 2.5])).mean, [math.inf, 3.0, 5 / 3])
    close(D.Pareto(a64([1.0, 1.0]), a64([1.5, 3.0])).variance, [math.inf, 0.75])
    close(D.InverseGamma(a64([0.5, 1.5, 3.0]), a64(1.0)).variance, [math.inf, math.inf, 0.25])
    close(D.InverseGamma(a64([0.5, 1.5]), a64(1.0)).mean, [math.inf, 2.0])
    assert repr(D.Multinomial(3, a64([0.5, 0.5])).support) == "Multinomial(upper_bound=3)"
    assert D.Multinomial(3, a64([0.5, 0.5])).expand((4,)).sample().shape == (4, 2)
    # tiny concentrations draw (nearly) uniform angles
    x = np.asarray(D.VonMises(a64(0.0), a64(1e-8)).sample((N,), key=fnx.random.key(4)))
    assert x.min() >= -np.pi and x.max() < np.pi and abs(x.mean()) < 0.05


def test_torch_submodule_paths_import():
    from fnx.distributions.continuous_bernoulli import ContinuousBernoulli
    from fnx.distributions.lowrank_multivariate_normal import LowRankMultivariateNormal
    from fnx.distributions.von_mises import VonMises
    assert ContinuousBernoulli is D.ContinuousBernoulli and VonMises is D.VonMises
    assert LowRankMultivariateNormal is D.LowRankMultivariateNormal
    import fnx.distributions.more as more
    for name in more.__all__:
        assert getattr(D, name) is getattr(more, name) and name in D.__all__
