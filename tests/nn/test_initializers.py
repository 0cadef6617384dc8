"""fnx.nn.initializers: JAX's fan convention and distributions, checked statistically."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import fnx
from fnx.errors import DTypeError, ShapeError
from fnx.nn import initializers as I

KEY = fnx.random.key(0)
_erf = np.vectorize(math.erf)


def phi(x):
    """The standard normal distribution function."""
    return 0.5 * (1 + _erf(np.asarray(x) / math.sqrt(2)))


def truncnorm_cdf(lo, hi):
    return lambda x: (phi(np.clip(x, lo, hi)) - phi(lo)) / (phi(hi) - phi(lo))


def uniform_cdf(lo, hi):
    return lambda x: np.clip((np.asarray(x) - lo) / (hi - lo), 0, 1)


def ks(x, cdf):
    """The Kolmogorov-Smirnov distance of the sample ``x`` from ``cdf``."""
    x = np.sort(np.asarray(x).ravel())
    f = cdf(x)
    n = x.size
    return max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n))


def ks_bound(n):
    """The 0.1% critical value of the distance for ``n`` samples."""
    return 1.95 / math.sqrt(n)


def fans(shape, in_axis=-2, out_axis=-1, batch_axis=()):
    """JAX's fans, written out from its documentation."""
    as_tuple = (lambda a: (a,) if isinstance(a, int) else tuple(a))
    size = (lambda axes: math.prod(shape[a] for a in as_tuple(axes)))
    receptive = math.prod(shape) / size(in_axis) / size(out_axis) / size(batch_axis)
    return size(in_axis) * receptive, size(out_axis) * receptive


@pytest.mark.parametrize("name, scale, mode, dist", [
    ("glorot_uniform", 1, "fan_avg", "uniform"), ("glorot_normal", 1, "fan_avg", "truncated_normal"),
    ("xavier_uniform", 1, "fan_avg", "uniform"), ("xavier_normal", 1, "fan_avg", "truncated_normal"),
    ("lecun_uniform", 1, "fan_in", "uniform"), ("lecun_normal", 1, "fan_in", "truncated_normal"),
    ("he_uniform", 2, "fan_in", "uniform"), ("he_normal", 2, "fan_in", "truncated_normal"),
    ("kaiming_uniform", 2, "fan_in", "uniform"), ("kaiming_normal", 2, "fan_in", "truncated_normal"),
])
@pytest.mark.parametrize("shape", [(300, 200), (3, 3, 40, 60)])
def test_named_initializers_have_their_variance_and_distribution(name, scale, mode, dist, shape):
    w = getattr(I, name)()(KEY, shape)
    assert w.shape == shape and w.dtype == np.float32  # fnx's default float
    w = np.asarray(w, np.float64)
    fan_in, fan_out = fans(shape)
    var = scale / {"fan_in": fan_in, "fan_avg": (fan_in + fan_out) / 2}[mode]
    sd = math.sqrt(var)
    x = w.ravel() / sd
    assert abs(x.mean()) < 5 / math.sqrt(x.size)
    assert abs(x.var() - 1) < 0.03
    if dist == "uniform":
        assert ks(x, uniform_cdf(-math.sqrt(3), math.sqrt(3))) < ks_bound(x.size)
    else:
        c = 0.87962566103423978  # the truncated normal's standard deviation
        assert np.abs(x).max() <= 2 / c + 1e-6
        assert ks(x * c, truncnorm_cdf(-2, 2)) < ks_bound(x.size)


@given(shape=st.lists(st.integers(1, 5), min_size=2, max_size=4).map(tuple),
       mode=st.sampled_from(["fan_in", "fan_out", "fan_avg", "fan_geo_avg"]), data=st.data())
def test_variance_scaling_fans(shape, mode, data):
    n = len(shape)
    axes = data.draw(st.permutations(range(n)))
    in_axis, out_axis = axes[0], axes[1]
    batch_axis = tuple(axes[2:3])
    w = I.variance_scaling(3.0, mode, "uniform", in_axis, out_axis, batch_axis, "float64")(KEY, shape)
    fan_in, fan_out = fans(shape, in_axis, out_axis, batch_axis)
    denom = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2,
             "fan_geo_avg": math.sqrt(fan_in * fan_out)}[mode]
    # a uniform on [-b, b) with b = sqrt(3 * 3 / denom): the bound is the scale's fingerprint
    bound = math.sqrt(9.0 / denom)
    u = np.asarray(fnx.random.uniform(KEY, shape, "float64", -1.0))
    np.testing.assert_allclose(np.asarray(w), u * bound, rtol=1e-12)


def test_variance_scaling_normal_and_errors():
    w = np.asarray(I.variance_scaling(0.5, "fan_out", "normal", dtype="float64")(KEY, (100, 400)))
    assert abs(w.var() / (0.5 / 400) - 1) < 0.03
    assert ks(w.ravel() / math.sqrt(0.5 / 400), phi) < ks_bound(w.size)
    with pytest.raises(ValueError, match="mode"):
        I.variance_scaling(1.0, "fan_max", "normal")
    with pytest.raises(ValueError, match="distribution"):
        I.variance_scaling(1.0, "fan_in", "cauchy")
    with pytest.raises(ShapeError, match="at least 2-d"):
        I.glorot_uniform()(KEY, (5,))
    assert I.lecun_normal(in_axis=0, out_axis=0)(KEY, (5,)).shape == (5,)  # explicit axes allow a vector
    with pytest.raises(DTypeError, match="floating"):
        I.he_normal()(KEY, (2, 2), "int32")


def test_simple_initializers():
    assert I.normal()(KEY, (2, 3)).dtype == np.float32
    w = np.asarray(I.normal(0.5, "float64")(KEY, (200, 200)))
    assert abs(w.std() / 0.5 - 1) < 0.02 and ks(w.ravel() / 0.5, phi) < ks_bound(w.size)
    u = np.asarray(I.uniform(0.3)(KEY, (200, 200), "float64"))
    assert u.min() >= 0 and u.max() < 0.3 and ks(u.ravel() / 0.3, uniform_cdf(0, 1)) < ks_bound(u.size)
    t = np.asarray(I.truncated_normal(2.0, lower=-1.0, upper=0.5)(KEY, (200, 200), "float64"))
    assert t.min() > -2.0 and t.max() < 1.0
    assert ks(t.ravel() / 2.0, truncnorm_cdf(-1, 0.5)) < ks_bound(t.size)
    np.testing.assert_array_equal(np.asarray(I.zeros(KEY, (2, 3))), np.zeros((2, 3)))
    np.testing.assert_array_equal(np.asarray(I.ones(KEY, 4, "float64")), np.ones(4))
    c = I.constant(0.25, "float64")(KEY, (2, 2))
    assert c.dtype == np.float64 and np.all(np.asarray(c) == 0.25)
    c = I.constant(fnx.numpy.asarray([1.0, 2.0]))(KEY, (3, 2))
    np.testing.assert_array_equal(np.asarray(c), [[1.0, 2.0]] * 3)


@pytest.mark.parametrize("shape, column_axis", [((5, 3), -1), ((3, 5), -1), ((2, 3, 4), 0), ((4, 4), 1)])
def test_orthogonal(shape, column_axis):
    w = np.asarray(I.orthogonal(2.0, column_axis, "float64")(KEY, shape))
    assert w.shape == shape
    m = np.moveaxis(w, column_axis, -1).reshape(-1, shape[column_axis]) / 2.0
    small = min(m.shape)
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)
    with pytest.raises(ShapeError, match="2-d"):
        I.orthogonal()(KEY, (4,))
    assert I.orthogonal()(KEY, (0, 3)).shape == (0, 3)


def test_orthogonal_is_uniform_over_rotations():
    # Haar measure: the top-left entry of a random 3x3 orthogonal matrix has density prop. to (1 - x^2)^0 on
    # [-1, 1] for n = 3, i.e. it is uniform there.
    keys = fnx.random.split(KEY, 400)
    x = np.array([float(I.orthogonal(dtype="float64")(k, (3, 3))[0, 0]) for k in keys])
    assert ks(x, uniform_cdf(-1, 1)) < ks_bound(x.size)


def test_delta_orthogonal():
    w = np.array(I.delta_orthogonal(dtype="float64")(KEY, (3, 5, 2, 4)))
    centre = w[1, 2]
    np.testing.assert_allclose(centre @ centre.T, np.eye(2), atol=1e-12)
    w[1, 2] = 0
    assert not w.any()
    assert I.delta_orthogonal()(KEY, (4, 3, 3)).shape == (4, 3, 3)
    with pytest.raises(ShapeError, match="must not exceed"):
        I.delta_orthogonal()(KEY, (3, 3, 5, 2))
    with pytest.raises(ShapeError, match="3-d, 4-d or 5-d"):
        I.delta_orthogonal()(KEY, (3, 3))


@pytest.mark.parametrize("name, args, shape", [
    ("glorot_uniform", (), (5, 7)), ("he_uniform", (), (3, 3, 4, 6)), ("lecun_uniform", (), (2, 3, 8)),
    ("normal", (0.5,), (4, 3)), ("uniform", (0.3,), (4, 3)), ("orthogonal", (), (5, 3)),
    ("orthogonal", (2.0, 0), (3, 4, 5)), ("delta_orthogonal", (), (3, 3, 2, 4)),
])
def test_same_numbers_as_jax(name, args, shape):
    jax = pytest.importorskip("jax")
    ours = getattr(I, name)(*args)(fnx.random.key(1), shape, "float32")
    theirs = getattr(jax.nn.initializers, name)(*args)(jax.random.key(1), shape, "float32")
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-5, atol=1e-6)
