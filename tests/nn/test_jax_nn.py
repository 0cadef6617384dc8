"""fnx.nn's lower-case functions: jax.nn's names, signatures and defaults, checked against the formulas
jax.nn documents (in numpy) and against jax itself where it is installed."""
import math

import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx.testing import check_grads

X = np.random.default_rng(0).standard_normal((3, 4))
_erf = np.vectorize(math.erf)


def _sig(x):
    return 1 / (1 + np.exp(-x))


FORMULAS = {
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "sigmoid": _sig,
    "log_sigmoid": lambda x: -np.log1p(np.exp(-x)),
    "softplus": lambda x: np.log1p(np.exp(x)),
    "soft_sign": lambda x: x / (1 + np.abs(x)),
    "silu": lambda x: x * _sig(x),
    "swish": lambda x: x * _sig(x),
    "gelu": lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))),  # JAX's default
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "celu": lambda x: np.maximum(x, 0) + np.minimum(0, np.expm1(x)),
    "selu": lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.01 * x),
    "glu": lambda x: x[:, :2] * _sig(x[:, 2:]),
    "hard_tanh": lambda x: np.clip(x, -1, 1),
    "hard_sigmoid": lambda x: np.clip(x + 3, 0, 6) / 6,
    "hard_silu": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "mish": lambda x: x * np.tanh(np.log1p(np.exp(x))),
    "squareplus": lambda x: (x + np.sqrt(x * x + 4)) / 2,
    "tanh": np.tanh,
    "identity": lambda x: x,
    "softmax": lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True),
    "log_softmax": lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True)),
    "logsumexp": lambda x: np.log(np.exp(x).sum()),
    "standardize": lambda x: (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-5),
}


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_matches_the_documented_formula_and_differentiates(name):
    fn = getattr(fnx.nn, name)
    np.testing.assert_allclose(np.asarray(fn(fnp.asarray(X))), FORMULAS[name](X), rtol=1e-7, atol=1e-10)
    check_grads(lambda x: fnp.sum(fn(x) ** 2), (fnp.asarray(X + 0.05),), order=1)  # away from relu's kinks at 0


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_batches_under_vmap(name):
    fn = getattr(fnx.nn, name)
    batch = fnp.asarray(np.stack([X, X[::-1], 2 * X]))
    want = np.stack([np.asarray(fn(batch[i])) for i in range(3)])
    np.testing.assert_allclose(np.asarray(fnx.vmap(fn)(batch)), want, rtol=1e-12, atol=1e-12)


def test_defaults_and_options():
    x = fnp.asarray(X)
    np.testing.assert_allclose(np.asarray(fnx.nn.gelu(x, approximate=False)), 0.5 * X * (1 + _erf(X / np.sqrt(2))))
    np.testing.assert_allclose(np.asarray(fnx.nn.softmax(x, axis=0)), np.exp(X) / np.exp(X).sum(0))
    np.testing.assert_allclose(np.asarray(fnx.nn.log_softmax(x, axis=(0, 1))), X - np.log(np.exp(X).sum()))
    np.testing.assert_allclose(np.asarray(fnx.nn.leaky_relu(x, 0.2)), np.where(X > 0, X, 0.2 * X))
    np.testing.assert_allclose(np.asarray(fnx.nn.standardize(x, axis=0)),
                               (X - X.mean(0)) / np.sqrt(X.var(0) + 1e-5))


def test_one_hot_is_floating_and_zero_outside_the_classes():
    labels = fnp.asarray([0, 2, 5, -1])
    hot = fnx.nn.one_hot(labels, 4)
    assert hot.dtype == np.float32 and hot.shape == (4, 4)
    np.testing.assert_array_equal(np.asarray(hot), [[1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]])
    assert fnx.nn.one_hot(labels, 4, dtype="int32").dtype == np.int32
    np.testing.assert_array_equal(np.asarray(fnx.nn.one_hot(labels, 4, axis=0)), np.asarray(hot).T)


def test_against_jax():
    jax = pytest.importorskip("jax")
    x = X.astype(np.float32)  # jax's default precision: its global x64 switch is left alone
    for name in FORMULAS:
        want = np.asarray(getattr(jax.nn, name)(x))
        got = np.asarray(getattr(fnx.nn, name)(fnp.asarray(x)))
        assert got.dtype == want.dtype, name
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-6, err_msg=name)
    labels = np.array([0, 2, 5, -1])
    want = np.asarray(jax.nn.one_hot(labels, 4, axis=0))
    got = np.asarray(fnx.nn.one_hot(fnp.asarray(labels), 4, axis=0))
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


def test_derivatives_at_the_kinks_are_jaxs():
    points = fnp.asarray([-3.0, -1.0, 0.0, 1.0, 3.0, 6.0])
    expected = {"leaky_relu": [0.01, 0.01, 1.0, 1.0, 1.0, 1.0], "hard_tanh": [0.0, 1.0, 1.0, 1.0, 0.0, 0.0],
                "relu": [0.0, 0.0, 0.0, 1.0, 1.0, 1.0], "relu6": [0.0, 0.0, 0.0, 1.0, 1.0, 0.0]}
    for name, want in expected.items():
        fn = getattr(fnx.nn, name)
        np.testing.assert_allclose(np.asarray(fnx.vmap(fnx.grad(fn))(points)), want, rtol=1e-6, err_msg=name)
    assert fnx.nn.hard_tanh(fnp.asarray([-3, 0, 2])).tolist() == [-1, 0, 1]  # integers stay integers, as in JAX
    jax = pytest.importorskip("jax")
    for name in expected:
        theirs = jax.vmap(jax.grad(getattr(jax.nn, name)))(np.asarray(points))
        np.testing.assert_allclose(np.asarray(theirs), expected[name], rtol=1e-6, err_msg=name)
