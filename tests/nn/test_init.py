"""fnx.nn.init: PyTorch's scales and bounds, rebinding semantics, and reproducibility under fnx.manual_seed.

Statistics are checked on tensors large enough (tens of thousands of draws)
that the standard deviation of a sample std is a fraction of a percent, with
tolerances of several of those standard errors.
"""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis.extra import numpy as hnp

import fnx
import fnx.numpy as fnp
import fnx.nn.init as init
from fnx.nn import Parameter


def _np(x):
    return np.asarray(x)


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == 5 / 3
    assert init.calculate_gain("relu") == math.sqrt(2)
    assert init.calculate_gain("leaky_relu") == math.sqrt(2 / (1 + 0.01 ** 2))
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2 / (1 + 0.04))
    assert init.calculate_gain("leaky_relu", 1) == 1.0
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="negative_slope True"):
        init.calculate_gain("leaky_relu", True)


@given(shape=hnp.array_shapes(min_dims=2, max_dims=5, max_side=5))
def test_fans_follow_pytorch(shape):
    rf = math.prod(shape[2:])
    assert init._calculate_fan_in_and_fan_out(fnp.zeros(shape)) == (shape[1] * rf, shape[0] * rf)


def test_fan_errors():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(fnp.zeros(5))
    with pytest.raises(ValueError, match="fan_avg"):
        init.kaiming_normal_(fnp.zeros((3, 4)), mode="fan_avg")


# ----- rebinding semantics ------------------------------------------------------------------------------

ALL = [
    ("uniform_", lambda t: init.uniform_(t, -0.5, 0.5)), ("normal_", lambda t: init.normal_(t, 1.0, 0.1)),
    ("trunc_normal_", lambda t: init.trunc_normal_(t, std=0.02)), ("constant_", lambda t: init.constant_(t, 0.3)),
    ("ones_", init.ones_), ("zeros_", init.zeros_), ("eye_", init.eye_),
    ("xavier_uniform_", init.xavier_uniform_), ("xavier_normal_", init.xavier_normal_),
    ("kaiming_uniform_", lambda t: init.kaiming_uniform_(t, a=math.sqrt(5))),
    ("kaiming_normal_", init.kaiming_normal_), ("orthogonal_", init.orthogonal_),
    ("sparse_", lambda t: init.sparse_(t, 0.5)),
]


@pytest.mark.parametrize("name,fn", ALL, ids=[a[0] for a in ALL])
def test_parameter_is_rebound_and_returned(name, fn):
    p = Parameter(fnp.full((6, 4), 7.0))
    p.grad = fnp.ones((6, 4))
    out = fn(p)
    assert out is p and p.shape == (6, 4) and p.dtype == np.float32
    assert not np.all(_np(p.data) == 7.0)
    assert p.grad is not None and p.requires_grad  # only the value changes
    fnp.sum(p * p).backward()  # still a live leaf of the tape


@pytest.mark.parametrize("name,fn", ALL, ids=[a[0] for a in ALL])
def test_array_gives_a_new_array(name, fn):
    x = fnp.full((6, 4), 7.0, dtype="float64")
    y = fn(x)
    assert type(y) is fnx.Array and y.shape == x.shape and y.dtype == np.float64
    assert np.all(_np(x) == 7.0)


def test_init_records_nothing_on_the_tape():
    p = Parameter(fnp.ones((3, 3)))
    init.normal_(p)
    assert type(p.primal) is fnx.Array  # the new value is a plain array, not a tracer of the tape


def test_rejects_non_arrays():
    with pytest.raises(TypeError, match="init.normal_"):
        init.normal_(np.zeros(3))


# ----- reproducibility ----------------------------------------------------------------------------------

RANDOM = [a for a in ALL if a[0] not in ("constant_", "ones_", "zeros_", "eye_")]


@pytest.mark.parametrize("name,fn", RANDOM, ids=[a[0] for a in RANDOM])
def test_manual_seed_determinism(name, fn):
    shape = (8, 5)
    fnx.manual_seed(123)
    a, b = _np(fn(fnp.empty(shape))), _np(fn(fnp.empty(shape)))
    fnx.manual_seed(123)
    c = _np(fn(fnp.empty(shape)))
    fnx.manual_seed(124)
    d = _np(fn(fnp.empty(shape)))
    assert np.array_equal(a, c)
    assert not np.array_equal(a, b) and not np.array_equal(a, d)


def test_explicit_key_ignores_the_global_generator():
    k = fnx.random.key(9)
    a = _np(init.kaiming_uniform_(fnp.empty((4, 4)), key=k))
    fnx.manual_seed(5)
    b = _np(init.kaiming_uniform_(fnp.empty((4, 4)), key=k))
    assert np.array_equal(a, b)
    fnx.manual_seed(5)
    n1 = fnx.random.next_key()
    fnx.manual_seed(5)
    init.normal_(fnp.empty(3), key=k)  # an explicit key leaves the global generator untouched
    assert np.array_equal(_np(fnx.random.next_key()), _np(n1))


# ----- distributions: PyTorch's scales --------------------------------------------------------------------


def _key(i):
    return fnx.random.key(i)


def test_uniform_and_normal_statistics():
    u = _np(init.uniform_(fnp.empty((100_000,)), -2.0, 3.0, key=_key(0)))
    assert u.min() >= -2.0 and u.max() < 3.0
    assert abs(u.mean() - 0.5) < 0.03 and abs(u.std() - 5 / math.sqrt(12)) < 0.02
    n = _np(init.normal_(fnp.empty((100_000,)), 2.0, 0.5, key=_key(1)))
    assert abs(n.mean() - 2.0) < 0.01 and abs(n.std() - 0.5) < 0.005


@pytest.mark.parametrize("shape", [(256, 384), (64, 32, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier(shape, gain):
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(fnp.empty(shape))
    std = gain * math.sqrt(2 / (fan_in + fan_out))
    u = _np(init.xavier_uniform_(fnp.empty(shape), gain, key=_key(2)))
    assert np.abs(u).max() <= math.sqrt(3) * std and np.abs(u).max() > 0.99 * math.sqrt(3) * std
    assert abs(u.std() / std - 1) < 0.02
    n = _np(init.xavier_normal_(fnp.empty(shape), gain, key=_key(3)))
    assert abs(n.std() / std - 1) < 0.02 and abs(n.mean()) < 0.01 * std * 10


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize("nonlinearity,a", [("relu", 0), ("leaky_relu", 0), ("leaky_relu", math.sqrt(5)),
                                            ("tanh", 0), ("linear", 0)])
def test_kaiming(mode, nonlinearity, a):
    shape = (128, 64, 3, 3)
    fan = 64 * 9 if mode == "fan_in" else 128 * 9
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    u = _np(init.kaiming_uniform_(fnp.empty(shape), a, mode, nonlinearity, key=_key(4)))
    assert np.abs(u).max() <= math.sqrt(3) * std and np.abs(u).max() > 0.99 * math.sqrt(3) * std
    assert abs(u.std() / std - 1) < 0.02
    n = _np(init.kaiming_normal_(fnp.empty(shape), a, mode, nonlinearity, key=_key(5)))
    assert abs(n.std() / std - 1) < 0.02


def test_kaiming_zero_element_tensor_warns():
    with pytest.warns(UserWarning, match="zero-element"):
        x = init.kaiming_uniform_(fnp.empty((0, 3)))
    assert x.shape == (0, 3)


def test_trunc_normal():
    a, b, mean, std = -0.3, 0.5, 0.1, 0.4
    x = _np(init.trunc_normal_(fnp.empty((200_000,)), mean, std, a, b, key=_key(6)))
    assert x.min() >= a and x.max() <= b
    # moments of the truncated normal: alpha, beta in standard units, Z the mass between them
    from math import erf, exp, pi, sqrt
    al, be = (a - mean) / std, (b - mean) / std
    phi = lambda z: exp(-z * z / 2) / sqrt(2 * pi)  # noqa: E731
    Z = 0.5 * (erf(be / sqrt(2)) - erf(al / sqrt(2)))
    m = mean + std * (phi(al) - phi(be)) / Z
    v = std ** 2 * (1 + (al * phi(al) - be * phi(be)) / Z - ((phi(al) - phi(be)) / Z) ** 2)
    assert abs(x.mean() - m) < 0.002 and abs(x.std() - sqrt(v)) < 0.002
    with pytest.raises(ValueError, match="trunc_normal_"):
        init.trunc_normal_(fnp.empty(3), a=1.0, b=0.0)


def test_constant_ones_zeros_eye():
    assert np.all(_np(init.constant_(fnp.empty((2, 3)), 2.5)) == 2.5)
    assert np.all(_np(init.ones_(fnp.empty((2, 3)))) == 1)
    assert np.all(_np(init.zeros_(Parameter(fnp.ones(4))).data) == 0)
    assert np.array_equal(_np(init.eye_(fnp.empty((3, 5)))), np.eye(3, 5))
    assert init.zeros_(fnp.ones(3, dtype="int64")).dtype == np.int64
    with pytest.raises(ValueError, match="2 dimensions"):
        init.eye_(fnp.empty((2, 2, 2)))


@pytest.mark.parametrize("shape,groups", [((4, 4, 3), 1), ((6, 3, 3, 3), 2), ((2, 5, 3, 3, 3), 1), ((3, 2, 5), 1)])
def test_dirac(shape, groups):
    w = _np(init.dirac_(fnp.empty(shape), groups))
    ref = np.zeros(shape)
    per = shape[0] // groups
    centre = tuple(k // 2 for k in shape[2:])
    for g in range(groups):
        for d in range(min(per, shape[1])):
            ref[(g * per + d, d) + centre] = 1
    assert np.array_equal(w, ref)
    with pytest.raises(ValueError, match="divisible by groups"):
        init.dirac_(fnp.empty((3, 3, 3)), 2)


@pytest.mark.parametrize("shape", [(5, 5), (8, 3), (3, 8), (6, 2, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_orthogonal(shape, gain):
    q = _np(init.orthogonal_(fnp.empty(shape, dtype="float64"), gain, key=_key(7))).reshape(shape[0], -1) / gain
    r, c = q.shape
    gram = q.T @ q if r >= c else q @ q.T
    np.testing.assert_allclose(gram, np.eye(min(r, c)), atol=1e-10)


def test_orthogonal_is_haar_distributed():
    # With the sign correction, the diagonal of Q is symmetric about 0 (without it Q[0, 0] would be mostly < 0
    # or > 0 depending on the QR convention); check the sign balance over many draws.
    signs = [np.sign(_np(init.orthogonal_(fnp.empty((3, 3)), key=_key(100 + i)))[0, 0]) for i in range(200)]
    assert abs(np.mean(signs)) < 0.25
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(fnp.empty(3))


def test_sparse():
    w = _np(init.sparse_(fnp.empty((20, 300)), 0.25, std=0.5, key=_key(8)))
    assert np.all((w == 0).sum(axis=0) == 5)
    nz = w[w != 0]
    assert abs(nz.std() - 0.5) < 0.02
    with pytest.raises(ValueError, match="2 dimensions"):
        init.sparse_(fnp.empty((2, 2, 2)), 0.1)


# ----- PyTorch itself (optional) ----------------------------------------------------------------------------


def test_fans_and_gains_match_torch():
    torch = pytest.importorskip("torch")
    for shape in [(3, 4), (8, 3, 5, 5), (2, 6, 3)]:
        assert init._calculate_fan_in_and_fan_out(fnp.empty(shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    for nl, p in [("tanh", None), ("relu", None), ("leaky_relu", 0.3), ("selu", None)]:
        assert init.calculate_gain(nl, p) == pytest.approx(torch.nn.init.calculate_gain(nl, p))


def test_init_through_data_fills_the_parameter():
    p = Parameter(fnp.zeros((4, 5)))
    out = init.normal_(p.data, 0.0, 0.02)
    assert float(fnp.std(p.primal)) > 0 and np.array_equal(np.asarray(out), np.asarray(p.primal))
    init.constant_(p.data, 0.5)
    assert np.all(np.asarray(p.primal) == 0.5)


def test_the_random_initialisers_take_pytorchs_generator():
    gen = fnx.Generator().manual_seed(0)
    w = fnx.nn.Parameter(fnp.zeros((4, 3)))
    for init_fn in (lambda: init.normal_(w, generator=gen), lambda: init.kaiming_uniform_(w, generator=gen),
                    lambda: init.xavier_normal_(w, 1.0, gen), lambda: init.trunc_normal_(w, generator=gen),
                    lambda: init.orthogonal_(w, generator=gen)):
        gen.manual_seed(7)
        first = np.asarray(init_fn().detach())
        gen.manual_seed(7)
        np.testing.assert_array_equal(init_fn().detach(), first)  # the generator decides the draw
    with fnx.no_grad():
        gen.manual_seed(1)
        w.normal_(0.0, 1.0, generator=gen)
        w.uniform_(**{"from": -0.5, "to": 0.5})  # Tensor.uniform_'s own names
    assert float(w.detach().min()) >= -0.5 and float(w.detach().max()) < 0.5
