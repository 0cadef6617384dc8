"""fnx.nn.functional (layers, activations, dropout, normalisation, attention) against PyTorch's documented formulas.

Each reference is the documented formula written again in numpy, in float64,
inside the test; hypothesis draws the shapes and values. Derivatives are checked
against central differences with ``fnx.testing.check_grads`` in float64, away from
kinks (to order 2 where the function is smooth). Losses live in test_losses.py.
Comparisons with PyTorch itself run only where it is installed.
"""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import fnx
import fnx.numpy as fnp
import fnx.nn.functional as F
from fnx.errors import DTypeError, ShapeError
from fnx.testing import check_grads

_erf = np.vectorize(math.erf)
_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def arrays(min_dims=0, max_dims=3, max_side=4, lo=-5.0, hi=5.0, avoid=(), shape=None):
    """float64 numpy arrays with elements in [lo, hi], at least 0.05 away from each point of ``avoid``."""
    el = st.floats(lo, hi).filter(lambda v: all(abs(v - k) > 0.05 for k in avoid))
    shp = hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side) \
        if shape is None else st.just(shape)
    return hnp.arrays(np.float64, shp, elements=el)


def small(**kw):
    """Arrays small enough for second-order derivative checks."""
    return arrays(max_dims=2, max_side=3, **kw)


def _np(x):
    return np.asarray(x)


def close(actual, expected, rtol=1e-7, atol=1e-10):
    np.testing.assert_allclose(_np(actual), expected, rtol=rtol, atol=atol)


def _needs_batching():
    """Skips a vmap test while the primitives it uses have no batching rules yet."""
    try:
        fnx.vmap(lambda x: fnp.sum(fnp.max(x) * x))(fnp.ones((2, 3)))
    except NotImplementedError as e:
        pytest.skip(f"vmap batching rules are not available yet ({e})")


# ----- activations -------------------------------------------------------------------------------
#
# (name, fnx function, numpy reference, kinks to stay away from in derivative checks, smooth)

ACTIVATIONS = [
    ("relu", F.relu, lambda x: np.maximum(x, 0), (0,), False),
    ("relu6", F.relu6, lambda x: np.minimum(np.maximum(x, 0), 6), (0, 6), False),
    ("leaky_relu", F.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x), (0,), False),
    ("leaky_relu_0.2", lambda x: F.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x), (0,), False),
    ("elu", F.elu, lambda x: np.where(x > 0, x, np.exp(x) - 1), (0,), False),
    ("elu_2", lambda x: F.elu(x, alpha=2.0), lambda x: np.where(x > 0, x, 2 * (np.exp(x) - 1)), (0,), False),
    ("selu", F.selu, lambda x: _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * (np.exp(x) - 1)), (0,), False),
    ("celu", lambda x: F.celu(x, 0.5),
     lambda x: np.maximum(0, x) + np.minimum(0, 0.5 * (np.exp(x / 0.5) - 1)), (0,), False),
    ("gelu", F.gelu, lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2))), (), True),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"),
     lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))), (), True),
    ("silu", F.silu, lambda x: x * _sig(x), (), True),
    ("mish", F.mish, lambda x: x * np.tanh(np.log1p(np.exp(x))), (), True),
    ("sigmoid", F.sigmoid, _sig, (), True),
    ("tanh", F.tanh, np.tanh, (), True),
    ("softplus", F.softplus, lambda x: np.log1p(np.exp(x)), (), True),
    ("softplus_beta", lambda x: F.softplus(x, beta=2.0, threshold=4.0),
     lambda x: np.where(2 * x > 4, x, np.log1p(np.exp(2 * x)) / 2), (2,), False),
    ("softsign", F.softsign, lambda x: x / (1 + np.abs(x)), (0,), False),
    ("hardtanh", F.hardtanh, lambda x: np.clip(x, -1, 1), (-1, 1), False),
    ("hardtanh_range", lambda x: F.hardtanh(x, -2.0, 0.5), lambda x: np.clip(x, -2, 0.5), (-2, 0.5), False),
    ("hardsigmoid", F.hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1), (-3, 3), False),
    ("hardswish", F.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6, (-3, 3), False),
    ("logsigmoid", F.logsigmoid, lambda x: -np.log1p(np.exp(-x)), (), True),
    ("threshold", lambda x: F.threshold(x, 0.5, -2.0), lambda x: np.where(x > 0.5, x, -2.0), (0.5,), False),
    ("hardshrink", F.hardshrink, lambda x: np.where(np.abs(x) > 0.5, x, 0.0), (-0.5, 0.5), False),
    ("softshrink", F.softshrink, lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0.0)),
     (-0.5, 0.5), False),
    ("tanhshrink", F.tanhshrink, lambda x: x - np.tanh(x), (), True),
    ("rrelu_eval", lambda x: F.rrelu(x, 0.1, 0.3), lambda x: np.where(x >= 0, x, 0.2 * x), (0,), False),
]
_ids = [a[0] for a in ACTIVATIONS]


@pytest.mark.parametrize("name,fn,ref,kinks,smooth", ACTIVATIONS, ids=_ids)
@given(x=arrays())
def test_activation_values(name, fn, ref, kinks, smooth, x):
    out = fn(fnp.asarray(x))
    assert out.dtype == np.float64 and out.shape == x.shape
    close(out, ref(x), rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("name,fn,ref,kinks,smooth", ACTIVATIONS, ids=_ids)
@given(x=small(lo=-4.0, hi=4.0, avoid=(-3, -1, -0.5, 0, 0.5, 1, 2, 3, 6)))
def test_activation_grads(name, fn, ref, kinks, smooth, x):
    check_grads(fn, (fnp.asarray(x),), order=2 if smooth else 1)


@pytest.mark.parametrize("name,fn,ref,kinks,smooth", ACTIVATIONS, ids=_ids)
def test_activation_float32(name, fn, ref, kinks, smooth):
    x = fnp.array([-4.0, -2.0, -0.25, 0.25, 2.0, 4.0, 7.0])
    assert fn(x).dtype == np.float32
    assert fnx.grad(lambda x: fnp.sum(fn(x)))(x).dtype == np.float32


def test_activations_promote_integers_like_torch():
    assert F.sigmoid(fnp.array([0, 1])).dtype == np.float32
    assert F.gelu(fnp.array([1])).dtype == np.float32
    assert F.relu(fnp.array([-1, 2])).dtype == np.int64  # relu keeps integer input integer
    close(F.relu(fnp.array([-1, 2])), [0, 2])


@pytest.mark.parametrize("shape", [(), (5,), (3, 7), (2, 3, 4), (2, 70000)])  # the last beyond the cached rows
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int8", "int64"])
def test_relu_is_numpys_maximum_against_zero(shape, dtype):
    x = np.random.default_rng(0).integers(-3, 4, shape).astype(dtype)
    if x.dtype.kind == "f":
        x.flat[:3] = [np.nan, -np.inf, np.inf][:x.size]
    ref = np.maximum(x, 0)
    out, traced = F.relu(fnp.asarray(x)), fnx.vjp(F.relu, fnp.asarray(x))[0] if x.dtype.kind == "f" else None
    for got in (out, traced) if traced is not None else (out,):
        assert got.dtype == ref.dtype and got.shape == ref.shape
        np.testing.assert_array_equal(np.asarray(got), ref)
    from fnx.numpy.elementwise import _zero_row
    if x.ndim and shape[-1] <= 1 << 16:
        row = _zero_row(shape[-1], x.dtype)  # shared by every call: all zeros and read-only
        assert not row.any() and not row.flags.writeable


def test_kinks_take_pytorchs_side():
    x = fnp.array([0.0, -1.0, 1.0, -3.0, 3.0])
    g = lambda f: _np(fnx.grad(lambda x: fnp.sum(f(x)))(x))  # noqa: E731
    close(g(F.relu)[0], 0.0)
    close(g(F.leaky_relu)[0], 0.01)
    close(g(F.hardtanh)[1:3], [0.0, 0.0])  # the gradient passes strictly inside (min_val, max_val)
    close(g(F.relu6)[0], 0.0)


def test_extreme_inputs_stay_finite():
    x = fnp.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    for fn in (F.elu, F.selu, F.celu, F.silu, F.mish, F.softplus, F.logsigmoid, F.sigmoid, F.gelu):
        out = _np(fn(x))
        grad = _np(fnx.grad(lambda x: fnp.sum(fn(x)))(x))
        assert np.isfinite(out).all() and np.isfinite(grad).all(), fn.__name__
    close(F.logsigmoid(fnp.array([-1000.0])), [-1000.0])
    close(F.softplus(fnp.array([25.0, -1000.0])), [25.0, 0.0])


def test_relu_untraced_computes_what_its_primitive_and_the_traced_path_compute():
    from fnx.numpy.elementwise import relu_p
    x = fnp.array([-1.0, -0.0, 0.0, 2.0, np.nan, -np.inf, np.inf])
    expected = np.asarray(relu_p.bind(x)[0])
    np.testing.assert_array_equal(_np(F.relu(x)), expected)  # nan stays nan, as torch.relu
    np.testing.assert_array_equal(_np(fnx.vjp(F.relu, x)[0]), expected)
    np.testing.assert_array_equal(np.signbit(_np(F.relu(x))), np.signbit(expected))


def test_inplace_is_accepted_and_returns_a_new_array():
    x = fnp.array([-1.0, 1.0])
    y = F.relu(x, inplace=True)
    close(y, [0.0, 1.0])
    close(x, [-1.0, 1.0])


def test_activation_argument_errors():
    with pytest.raises(ValueError, match="gelu"):
        F.gelu(fnp.ones(2), approximate="fast")
    with pytest.raises(ValueError, match="hardtanh"):
        F.hardtanh(fnp.ones(2), 1.0, -1.0)
    with pytest.raises(ValueError, match="softshrink"):
        F.softshrink(fnp.ones(2), -1.0)


@given(x=arrays(min_dims=1), data=st.data())
def test_prelu(x, data):
    per_channel = x.ndim >= 2 and data.draw(st.booleans())
    c = x.shape[1] if per_channel else 1
    w = data.draw(hnp.arrays(np.float64, (c,), elements=st.floats(-1, 1)))
    wb = w.reshape((c,) + (1,) * (x.ndim - 2)) if per_channel else w[0]
    close(F.prelu(fnp.asarray(x), fnp.asarray(w)), np.where(x >= 0, x, wb * x))


def test_prelu_grads_and_errors():
    x = fnp.asarray(np.array([[-1.0, 2.0, -0.5], [0.7, -2.0, 1.5]]))
    check_grads(F.prelu, (x, fnp.asarray(np.array([0.1, 0.2, 0.3]))))
    gx, gw = fnx.grad(lambda x, w: fnp.sum(F.prelu(x, w)), argnums=(0, 1))(fnp.array([0.0, 1.0, -1.0]),
                                                                          fnp.array([0.25]))
    close(gx, np.array([0.25, 1.0, 0.25]))  # the slope's side at 0, as torch's (x > 0 ? 1 : w)
    close(gw, np.array([-1.0]))
    with pytest.raises(ShapeError, match="prelu"):
        F.prelu(x, fnp.ones(2))


def test_rrelu_training_draws_slopes_in_range():
    x = -fnp.ones(2000)
    y = _np(F.rrelu(x, 0.1, 0.3, training=True, key=fnx.random.key(0)))
    assert ((-y >= 0.1) & (-y <= 0.3)).all() and np.std(y) > 0.03
    close(F.rrelu(x, training=True, key=fnx.random.key(1)), _np(F.rrelu(x, training=True, key=fnx.random.key(1))))


# ----- softmax family, glu, normalize ----------------------------------------------------------------


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@given(x=arrays(min_dims=1, lo=-30, hi=30), data=st.data())
def test_softmax_family(x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    a = fnp.asarray(x)
    close(F.softmax(a, dim), _softmax(x, dim), rtol=1e-6, atol=1e-12)
    close(F.log_softmax(a, dim), np.log(_softmax(x, dim)), rtol=1e-6, atol=1e-9)
    close(F.softmin(a, dim), _softmax(-x, dim), rtol=1e-6, atol=1e-12)


@given(x=small(min_dims=1), data=st.data())
def test_softmax_grads(x, data):
    dim = data.draw(st.integers(0, x.ndim - 1))
    check_grads(lambda a: F.softmax(a, dim), (fnp.asarray(x),), order=2)
    check_grads(lambda a: F.log_softmax(a, dim), (fnp.asarray(x),), order=2)


def test_softmax_dtype_and_implicit_dim():
    x = fnp.array([[1.0, 2.0], [3.0, 5.0]])
    assert F.softmax(x, 1, dtype="float64").dtype == np.float64
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = F.softmax(x)  # 2-d input: PyTorch's implicit choice is dim 1
    close(y, _softmax(_np(x).astype(np.float64), 1), rtol=1e-6)
    with pytest.warns(UserWarning):
        close(F.log_softmax(fnp.zeros((2, 3, 4))).sum(), np.log(0.5) * 24, rtol=1e-6)  # 3-d: dim 0
    close(F.softmax(fnp.array(3.0), 0), 1.0)


@given(x=arrays(min_dims=1), data=st.data())
def test_glu(x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    x = np.concatenate([x, x[::-1] * 0.5], axis=dim)
    a, b = np.split(x, 2, axis=dim)
    close(F.glu(fnp.asarray(x), dim), a * _sig(b), rtol=1e-6)


def test_glu_errors():
    with pytest.raises(ShapeError, match="glu.*even"):
        F.glu(fnp.ones((2, 3)))


def _pnorm(x, p, axis, keepdims=True):
    if p == np.inf:
        return np.abs(x).max(axis=axis, keepdims=keepdims)
    return (np.abs(x) ** p).sum(axis=axis, keepdims=keepdims) ** (1 / p)


@given(x=arrays(min_dims=2), p=st.sampled_from([1.0, 2.0, 3.0, np.inf]), data=st.data())
def test_normalize(x, p, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    close(F.normalize(fnp.asarray(x), p, dim), x / np.maximum(_pnorm(x, p, dim), 1e-12), rtol=1e-6)


def test_normalize_zero_vector_and_grads():
    z = fnp.zeros((2, 3), dtype="float64")
    close(F.normalize(z), np.zeros((2, 3)))
    g = fnx.grad(lambda x: fnp.sum(F.normalize(x) * fnp.arange(3.0)))(z)
    assert np.isfinite(_np(g)).all()
    x = fnp.asarray(np.array([[1.0, -2.0, 0.5], [0.3, 0.2, -0.1]]))
    for p in (1.0, 2.0, 3.0):
        check_grads(lambda a: F.normalize(a, p), (x,), order=2 if p != 1.0 else 1)


@given(x=arrays(shape=(3, 4)), y=arrays(shape=(3, 4)), dim=st.sampled_from([0, 1, -1]))
def test_cosine_similarity(x, y, dim):
    num = (x * y).sum(dim)
    den = np.maximum(np.linalg.norm(x, axis=dim), 1e-8) * np.maximum(np.linalg.norm(y, axis=dim), 1e-8)
    close(F.cosine_similarity(fnp.asarray(x), fnp.asarray(y), dim), num / den, rtol=1e-6, atol=1e-12)


def test_cosine_similarity_broadcasts_and_grads():
    x = fnp.asarray(np.array([[1.0, 2.0, -1.0]]))
    y = fnp.asarray(np.array([[0.5, -1.0, 2.0], [1.0, 1.0, 1.0]]))
    assert F.cosine_similarity(x, y).shape == (2,)
    check_grads(F.cosine_similarity, (x, y), order=2)


@given(x=arrays(shape=(3, 4)), y=arrays(shape=(3, 4)), p=st.sampled_from([1.0, 2.0, 3.0]),
       keepdim=st.booleans())
def test_pairwise_distance(x, y, p, keepdim):
    ref = _pnorm(x - y + 1e-6, p, -1, keepdims=keepdim)
    close(F.pairwise_distance(fnp.asarray(x), fnp.asarray(y), p, keepdim=keepdim), ref, rtol=1e-6)


# ----- linear maps -----------------------------------------------------------------------------------


@given(data=st.data(), batch=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
       n_in=st.integers(1, 4), n_out=st.integers(1, 4), with_bias=st.booleans())
def test_linear(data, batch, n_in, n_out, with_bias):
    x = data.draw(arrays(shape=batch + (n_in,)))
    w = data.draw(arrays(shape=(n_out, n_in)))
    b = data.draw(arrays(shape=(n_out,))) if with_bias else None
    out = F.linear(fnp.asarray(x), fnp.asarray(w), None if b is None else fnp.asarray(b))
    close(out, x @ w.T + (0 if b is None else b), rtol=1e-6, atol=1e-9)


def test_linear_grads_1d_weight_and_errors():
    rng = np.random.default_rng(0)
    x, w, b = (fnp.asarray(rng.normal(size=s)) for s in [(2, 3), (4, 3), (4,)])
    check_grads(F.linear, (x, w, b), order=2)
    close(F.linear(x, fnp.asarray(rng.normal(size=3))).shape, (2,))
    with pytest.raises(ShapeError, match=r"linear.*\(2, 3\).*\(4, 5\)"):
        F.linear(x, fnp.ones((4, 5)))


def test_linear_records_on_the_tape():
    w = fnx.nn.Parameter(fnp.asarray(np.arange(6.0).reshape(2, 3)))
    b = fnx.nn.Parameter(fnp.zeros(2, dtype="float64"))
    x = fnp.asarray(np.ones((5, 3)))
    fnp.sum(F.linear(x, w, b) ** 2).backward()
    gw, gb = fnx.grad(lambda w, b: fnp.sum(F.linear(x, w, b) ** 2), argnums=(0, 1))(w.data, b.data)
    close(w.grad, _np(gw))
    close(b.grad, _np(gb))


@given(data=st.data(), n=st.integers(1, 3), i1=st.integers(1, 3), i2=st.integers(1, 3), o=st.integers(1, 3))
def test_bilinear(data, n, i1, i2, o):
    x1, x2 = data.draw(arrays(shape=(n, i1))), data.draw(arrays(shape=(n, i2)))
    w, b = data.draw(arrays(shape=(o, i1, i2))), data.draw(arrays(shape=(o,)))
    ref = np.array([[x1[k] @ w[j] @ x2[k] for j in range(o)] for k in range(n)]) + b
    close(F.bilinear(*(fnp.asarray(a) for a in (x1, x2, w, b))), ref, rtol=1e-6, atol=1e-9)


def test_bilinear_grads_and_errors():
    rng = np.random.default_rng(1)
    args = [fnp.asarray(rng.normal(size=s)) for s in [(2, 2), (2, 3), (2, 2, 3), (2,)]]
    check_grads(F.bilinear, tuple(args), order=2)
    with pytest.raises(ShapeError, match="bilinear"):
        F.bilinear(args[0], args[1], fnp.ones((2, 3, 3)))


# ----- dropout ---------------------------------------------------------------------------------------


def test_dropout_is_inverted_and_keyed():
    x = fnp.ones((200, 50))
    y = _np(F.dropout(x, 0.3, key=fnx.random.key(0)))
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.7)}
    assert abs((y == 0).mean() - 0.3) < 0.02 and abs(y.mean() - 1.0) < 0.03
    close(F.dropout(x, 0.3, key=fnx.random.key(0)), y)
    assert not np.array_equal(_np(F.dropout(x, 0.3, key=fnx.random.key(1))), y)


def test_dropout_global_generator_and_manual_seed():
    x = fnp.ones(100)
    fnx.manual_seed(3)
    a, b = _np(F.dropout(x)), _np(F.dropout(x))
    fnx.manual_seed(3)
    c = _np(F.dropout(x))
    assert np.array_equal(a, c) and not np.array_equal(a, b)


@pytest.mark.parametrize("fn", [F.dropout, F.alpha_dropout, F.rrelu])
def test_random_layers_draw_on_the_inputs_device(fn):
    # The global generator's key lives on the default device; the mask is drawn where x is (as in PyTorch).
    other = fnx.devices("cpu")[-1]
    x = fnx.device_put(fnp.linspace(-1.0, 1.0, 8), other)
    y = fn(x, training=True)
    assert y.device == other
    key = fnx.random.key(3)
    np.testing.assert_array_equal(np.asarray(fn(x, training=True, key=key)),
                                  np.asarray(fn(fnx.device_put(x, "cpu:0"), training=True, key=key)))


def test_dropout_modes_and_errors():
    x = fnp.asarray(np.arange(1.0, 7.0))
    close(F.dropout(x, 0.5, training=False), _np(x))
    close(F.dropout(x, 0.0), _np(x))
    close(F.dropout(x, 1.0), np.zeros(6))
    for bad in (-0.1, 1.5, "0.5"):
        with pytest.raises(ValueError, match="dropout probability"):
            F.dropout(x, bad)


def test_dropout_gradient_is_the_mask():
    x = fnp.asarray(np.linspace(1.0, 2.0, 40))
    k = fnx.random.key(5)
    y = _np(F.dropout(x, 0.25, key=k))
    g = _np(fnx.grad(lambda x: fnp.sum(F.dropout(x, 0.25, key=k)))(x))
    close(g, np.where(y != 0, 1 / 0.75, 0.0))
    assert F.dropout(fnp.ones(3), 0.5, key=k).dtype == np.float32


@pytest.mark.parametrize("fn,shape,per", [
    (F.dropout1d, (4, 6, 5), (4, 6, 1)), (F.dropout1d, (6, 5), (6, 1)),
    (F.dropout2d, (4, 6, 3, 3), (4, 6, 1, 1)), (F.dropout3d, (2, 6, 2, 2, 2), (2, 6, 1, 1, 1)),
    (F.dropout3d, (6, 2, 2, 2), (6, 1, 1, 1))])
def test_channel_dropout_drops_whole_channels(fn, shape, per):
    y = _np(fn(fnp.ones(shape), 0.5, key=fnx.random.key(2)))
    axes = tuple(i for i, d in enumerate(per) if d == 1)
    assert ((y == 0).all(axis=axes) | (y == 2).all(axis=axes)).all()
    assert 0 < (y == 0).mean() < 1


def test_channel_dropout_errors_and_3d_dropout2d():
    with pytest.raises(ShapeError, match="dropout1d"):
        F.dropout1d(fnp.ones((2, 3, 4, 5)))
    with pytest.warns(UserWarning, match=r"\(N, C, L\)"):
        y = _np(F.dropout2d(fnp.ones((4, 6, 5)), key=fnx.random.key(0)))
    assert ((y == 0).all(axis=2) | (y == 2).all(axis=2)).all()


def test_alpha_dropout_keeps_selu_statistics():
    x = fnx.random.normal(fnx.random.key(0), (200000,))
    y = _np(F.alpha_dropout(x, 0.2, training=True, key=fnx.random.key(1)))
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01
    close(F.alpha_dropout(x, 0.2), _np(x))  # training=False by default


# ----- normalisation -----------------------------------------------------------------------------------


def _standardize(x, axes, eps):
    m = x.mean(axis=axes, keepdims=True)
    return (x - m) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)


@given(x=arrays(min_dims=1, max_dims=4, max_side=3), data=st.data(), affine=st.booleans())
def test_layer_norm(x, data, affine):
    k = data.draw(st.integers(1, x.ndim))
    shape = x.shape[x.ndim - k:]
    w = data.draw(arrays(shape=shape)) if affine else None
    b = data.draw(arrays(shape=shape)) if affine else None
    ref = _standardize(x, tuple(range(x.ndim - k, x.ndim)), 1e-5)
    if affine:
        ref = ref * w + b
    out = F.layer_norm(fnp.asarray(x), shape, None if w is None else fnp.asarray(w),
                       None if b is None else fnp.asarray(b))
    close(out, ref, rtol=1e-6, atol=1e-9)


@given(x=arrays(min_dims=1, max_dims=3, max_side=3), data=st.data())
def test_rms_norm(x, data):
    k = data.draw(st.integers(1, x.ndim))
    shape = x.shape[x.ndim - k:]
    w = data.draw(arrays(shape=shape))
    axes = tuple(range(x.ndim - k, x.ndim))
    ref = x / np.sqrt((x * x).mean(axis=axes, keepdims=True) + np.finfo(np.float64).eps) * w
    close(F.rms_norm(fnp.asarray(x), shape, fnp.asarray(w)), ref, rtol=1e-6, atol=1e-9)


@given(data=st.data(), n=st.integers(1, 3), g=st.integers(1, 3), per=st.integers(1, 2),
       spatial=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
def test_group_norm(data, n, g, per, spatial):
    c = g * per
    x = data.draw(arrays(shape=(n, c) + spatial))
    w, b = data.draw(arrays(shape=(c,))), data.draw(arrays(shape=(c,)))
    view = (1, c) + (1,) * len(spatial)
    grouped = x.reshape(n, g, -1)
    ref = _standardize(grouped, (2,), 1e-5).reshape(x.shape) * w.reshape(view) + b.reshape(view)
    close(F.group_norm(fnp.asarray(x), g, fnp.asarray(w), fnp.asarray(b)), ref, rtol=1e-6, atol=1e-9)


@given(data=st.data(), n=st.integers(2, 4), c=st.integers(1, 3),
       spatial=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3), training=st.booleans())
def test_batch_norm(data, n, c, spatial, training):
    x = data.draw(arrays(shape=(n, c) + spatial))
    w, b, rm = (data.draw(arrays(shape=(c,))) for _ in range(3))
    rv = data.draw(arrays(shape=(c,), lo=0.1, hi=3.0))
    view = (1, c) + (1,) * len(spatial)
    axes = (0,) + tuple(range(2, x.ndim))
    if training:
        ref = _standardize(x, axes, 1e-3)
    else:
        ref = (x - rm.reshape(view)) / np.sqrt(rv.reshape(view) + 1e-3)
    ref = ref * w.reshape(view) + b.reshape(view)
    out = F.batch_norm(*(fnp.asarray(a) for a in (x, rm, rv, w, b)), training=training, eps=1e-3)
    close(out, ref, rtol=1e-6, atol=1e-9)


@given(data=st.data(), n=st.integers(2, 4), c=st.integers(1, 3),
       spatial=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3), momentum=st.floats(0.0, 1.0))
def test_batch_norm_stats(data, n, c, spatial, momentum):
    x = data.draw(arrays(shape=(n, c) + spatial))
    rm = data.draw(arrays(shape=(c,)))
    rv = data.draw(arrays(shape=(c,), lo=0.1, hi=3.0))
    axes = (0,) + tuple(range(2, x.ndim))
    mean, var = F.batch_norm_stats(fnp.asarray(x), fnp.asarray(rm), fnp.asarray(rv), momentum)
    close(mean, (1 - momentum) * rm + momentum * x.mean(axis=axes), rtol=1e-6, atol=1e-9)
    close(var, (1 - momentum) * rv + momentum * x.var(axis=axes, ddof=1), rtol=1e-6, atol=1e-9)  # unbiased


def test_batch_norm_stats_details():
    x = fnx.nn.Parameter(fnp.array([[1.0, 2.0], [3.0, 6.0]]))
    mean, var = F.batch_norm_stats(x, fnp.zeros(2), None)
    assert var is None and type(mean) is fnx.Array and mean.dtype == np.float32  # no gradient, no tape
    close(mean, [0.2, 0.4])
    m16, _ = F.batch_norm_stats(x, fnp.zeros(2, dtype="float16"), None)
    assert m16.dtype == np.float16  # the running statistics keep their dtype
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm_stats(fnp.ones((1, 2)), fnp.zeros(2), fnp.ones(2))
    with pytest.raises(TypeError, match="num_batches_tracked"):
        F.batch_norm_stats(x, fnp.zeros(2), fnp.ones(2), momentum=None)


def test_batch_norm_updates_a_modules_buffers_in_training_as_pytorch():
    class MyBatchNorm(fnx.nn.Module):  # written with F.batch_norm, as custom PyTorch batch norms are
        def __init__(self, c):
            super().__init__()
            self.register_buffer("running_mean", fnp.zeros(c))
            self.register_buffer("running_var", fnp.ones(c))

        def forward(self, x):
            return F.batch_norm(x, self.running_mean, self.running_var, training=self.training, momentum=0.1)

    m, x = MyBatchNorm(2), fnp.array([[1., 2.], [3., 5.], [0., -1.]])
    m(x)
    m(x)
    close(m.running_mean, [0.76 / 3, 0.38], rtol=1e-6)  # torch 2.14's after the same two steps
    close(m.running_var, [3.76 / 3, 2.52], rtol=1e-6)
    m.eval()
    m(x)
    close(m.running_mean, [0.76 / 3, 0.38], rtol=1e-6)
    plain = fnp.zeros(2)
    F.batch_norm(x, plain, fnp.ones(2), training=True)  # an array is immutable: left as it was
    close(plain, [0., 0.])
    bn = fnx.nn.BatchNorm1d(2)
    bn(x)
    bn(x)
    close(bn.running_mean, [0.76 / 3, 0.38], rtol=1e-6)  # the layer updates once per step, as before


def test_batch_norm_errors():
    x = fnp.ones((2, 3))
    with pytest.raises(ValueError, match="evaluation mode"):
        F.batch_norm(x, None, None)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(fnp.ones((1, 3)), None, None, training=True)
    with pytest.raises(ShapeError, match="batch_norm: running_mean must have shape"):
        F.batch_norm(x, fnp.zeros(2), fnp.ones(3))
    with pytest.raises(ShapeError, match="layer_norm.*normalized_shape"):
        F.layer_norm(x, (2,))
    with pytest.raises(ShapeError, match="group_norm.*divisible"):
        F.group_norm(x, 2)


@given(data=st.data(), n=st.integers(1, 3), c=st.integers(1, 3),
       spatial=hnp.array_shapes(min_dims=1, max_dims=2, min_side=2, max_side=3))
def test_instance_norm(data, n, c, spatial):
    x = data.draw(arrays(shape=(n, c) + spatial))
    w, b = data.draw(arrays(shape=(c,))), data.draw(arrays(shape=(c,)))
    view = (1, c) + (1,) * len(spatial)
    ref = _standardize(x, tuple(range(2, x.ndim)), 1e-5) * w.reshape(view) + b.reshape(view)
    close(F.instance_norm(fnp.asarray(x), weight=fnp.asarray(w), bias=fnp.asarray(b)), ref, rtol=1e-6, atol=1e-9)
    rm, rv = np.linspace(-1, 1, c), np.linspace(0.5, 2, c)
    ref = (x - rm.reshape(view)) / np.sqrt(rv.reshape(view) + 1e-5)
    close(F.instance_norm(fnp.asarray(x), fnp.asarray(rm), fnp.asarray(rv), use_input_stats=False), ref, rtol=1e-6)


def test_normalisation_grads():
    rng = np.random.default_rng(2)
    x = fnp.asarray(rng.normal(size=(3, 2, 2)))
    w, b = fnp.asarray(rng.normal(size=2)), fnp.asarray(rng.normal(size=2))
    check_grads(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (x, w, b), order=2)
    check_grads(lambda x, w, b: F.group_norm(x, 2, w, b), (x, w, b), order=2)
    check_grads(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), (x, w, b), order=2)
    w2, b2 = fnp.asarray(rng.normal(size=(2, 2))), fnp.asarray(rng.normal(size=(2, 2)))
    check_grads(lambda x, w, b: F.layer_norm(x, (2, 2), w, b), (x, w2, b2), order=2)
    check_grads(lambda x, w: F.rms_norm(x, (2,), w), (x, b), order=2)
    rm, rv = fnp.asarray(rng.normal(size=2)), fnp.asarray(rng.uniform(0.5, 2, size=2))
    check_grads(lambda x, m, v: F.batch_norm(x, m, v, w, b), (x, rm, rv), order=2)


# ----- embedding, one_hot, pad -----------------------------------------------------------------------


@given(data=st.data(), n=st.integers(1, 5), d=st.integers(1, 3),
       shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3))
def test_embedding(data, n, d, shape):
    w = data.draw(arrays(shape=(n, d)))
    idx = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(0, n - 1)))
    close(F.embedding(fnp.asarray(idx), fnp.asarray(w)), w[idx])


def test_embedding_padding_idx_gets_no_gradient():
    w = fnp.asarray(np.arange(8.0).reshape(4, 2))
    idx = fnp.array([[0, 2, 2], [1, 0, 3]])
    g = _np(fnx.grad(lambda w: fnp.sum(F.embedding(idx, w, padding_idx=-4) ** 2))(w))
    ref = np.zeros((4, 2))
    for i in _np(idx).ravel():
        if i != 0:
            ref[i] += 2 * _np(w)[i]
    close(g, ref)
    close(F.embedding(idx, w, padding_idx=0), _np(w)[_np(idx)])  # the padding row's value is returned as is


def test_embedding_max_norm_and_scale_grad_by_freq():
    w = fnp.asarray(np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]]))
    idx = fnp.array([0, 1, 2, 2])
    out = _np(F.embedding(idx, w, max_norm=1.0))
    norms = np.linalg.norm(out, axis=1)
    assert np.all(norms <= 1.0 + 1e-6) and np.isclose(norms[1], 0.5)
    g = _np(fnx.grad(lambda w: fnp.sum(F.embedding(idx, w, max_norm=1.0)))(w))
    close(g, [[1, 1], [1, 1], [2, 2]])  # the renormalisation is not differentiated, as in PyTorch
    g = _np(fnx.grad(lambda w: fnp.sum(F.embedding(idx, w, scale_grad_by_freq=True)))(w))
    close(g, [[1, 1], [1, 1], [1, 1]])  # row 2 occurs twice: its summed gradient is divided by 2
    close(F.embedding(idx, w, scale_grad_by_freq=True), _np(w)[[0, 1, 2, 2]])


def test_embedding_errors():
    w = fnp.ones((3, 2))
    with pytest.raises(IndexError, match="embedding: index 3"):
        F.embedding(fnp.array([0, 3]), w)
    with pytest.raises(DTypeError, match="embedding"):
        F.embedding(fnp.array([0.0]), w)
    with pytest.raises(ValueError, match="padding_idx"):
        F.embedding(fnp.array([0]), w, padding_idx=3)


@given(idx=hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=3), elements=st.integers(0, 4)),
       extra=st.integers(0, 2))
def test_one_hot(idx, extra):
    n = int(idx.max()) + 1 + extra
    out = F.one_hot(fnp.asarray(idx), n)
    assert out.dtype == np.int64
    close(out, np.eye(n, dtype=np.int64)[idx])
    close(F.one_hot(fnp.asarray(idx)), np.eye(int(idx.max()) + 1, dtype=np.int64)[idx])


def test_one_hot_errors():
    with pytest.raises(ValueError, match="smaller than num_classes"):
        F.one_hot(fnp.array([0, 3]), 3)
    with pytest.raises(ValueError, match="non-negative"):
        F.one_hot(fnp.array([-1, 0]))
    with pytest.raises(DTypeError, match="one_hot"):
        F.one_hot(fnp.array([0.0]))
    with pytest.raises(ValueError, match="empty"):
        F.one_hot(fnp.zeros(0, dtype="int64"))


_NP_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


@given(x=arrays(min_dims=1, max_dims=3, max_side=4), mode=st.sampled_from(list(_NP_MODES)), data=st.data())
def test_pad(x, mode, data):
    k = data.draw(st.integers(1, x.ndim))
    widths = []
    for i in range(k):  # PyTorch order: the last dimension first
        size = x.shape[x.ndim - 1 - i]
        top = size - 1 if mode == "reflect" else size if mode == "circular" else 3
        widths += [data.draw(st.integers(0, top)), data.draw(st.integers(0, top))]
    pairs = [(0, 0)] * (x.ndim - k) + [(widths[2 * i], widths[2 * i + 1]) for i in reversed(range(k))]
    if mode == "constant":
        out = F.pad(fnp.asarray(x), tuple(widths), value=2.5)
        ref = np.pad(x, pairs, constant_values=2.5)
    else:
        out = F.pad(fnp.asarray(x), tuple(widths), mode=mode)
        ref = np.pad(x, pairs, mode=_NP_MODES[mode])
    close(out, ref)


def test_pad_negative_crops_and_grads():
    x = fnp.asarray(np.arange(12.0).reshape(3, 4))
    close(F.pad(x, (-1, 2, 1, -2)), np.pad(_np(x)[:1, 1:], ((1, 0), (0, 2))))
    check_grads(lambda x: F.pad(x, (1, 2), mode="reflect"), (x,))
    check_grads(lambda x: F.pad(x, (2, 1, 1, 0), mode="circular"), (x,))
    check_grads(lambda x: F.pad(x, (1, 1), value=3.0), (x,))


def test_pad_errors():
    x = fnp.ones((2, 3))
    with pytest.raises(ValueError, match="even"):
        F.pad(x, (1,))
    with pytest.raises(ValueError, match="reflect padding"):
        F.pad(x, (3, 0), mode="reflect")
    with pytest.raises(ValueError, match="value argument"):
        F.pad(x, (1, 1), mode="replicate", value=1.0)
    with pytest.raises(ValueError, match="unknown padding mode"):
        F.pad(x, (1, 1), mode="edge")


# ----- attention -------------------------------------------------------------------------------------


def _sdpa_ref(q, k, v, mask=None, causal=False, scale=None):
    L, S = q.shape[-2], k.shape[-2]
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    bias = np.zeros((L, S))
    if causal:
        bias = np.where(np.tril(np.ones((L, S), bool)), 0.0, -np.inf)
    if mask is not None:
        bias = np.where(mask, bias, -np.inf) if mask.dtype == bool else bias + mask
    s = q @ np.swapaxes(k, -1, -2) * scale + bias
    return _softmax(s, -1) @ v


@given(data=st.data(), batch=hnp.array_shapes(min_dims=0, max_dims=2, max_side=2), L=st.integers(1, 4),
       S=st.integers(1, 4), E=st.integers(1, 3), Ev=st.integers(1, 3),
       kind=st.sampled_from(["none", "bool", "float", "causal"]), scale=st.sampled_from([None, 0.3]))
def test_scaled_dot_product_attention(data, batch, L, S, E, Ev, kind, scale):
    q, k, v = (data.draw(arrays(shape=batch + s, lo=-2, hi=2)) for s in [(L, E), (S, E), (S, Ev)])
    mask = None
    if kind == "bool":
        mask = data.draw(hnp.arrays(bool, (L, S)))
        mask[:, 0] = True  # every query attends somewhere
    elif kind == "float":
        mask = data.draw(arrays(shape=(L, S)))
    out = F.scaled_dot_product_attention(*(fnp.asarray(a) for a in (q, k, v)),
                                         attn_mask=None if mask is None else fnp.asarray(mask),
                                         is_causal=kind == "causal", scale=scale)
    close(out, _sdpa_ref(q, k, v, mask, kind == "causal", scale), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_attention_of_a_query_with_nothing_to_attend_is_zero_as_torch(kind):
    rng = np.random.default_rng(5)
    q, k, v = (rng.normal(size=(2, 3, 2)) for _ in range(3))
    allowed = np.array([[True, False, True], [False, False, False], [True, True, True]])
    mask = allowed if kind == "bool" else np.where(allowed, 0.5, -np.inf)
    f = lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=fnp.asarray(mask))
    out = f(*map(fnp.asarray, (q, k, v)))
    assert np.all(_np(out)[:, 1] == 0) and np.isfinite(_np(out)).all()
    rows = [0, 2]
    close(_np(out)[:, rows], _sdpa_ref(q, k, v, mask)[:, rows], rtol=1e-6)
    check_grads(f, tuple(map(fnp.asarray, (q, k, v))), order=1)
    torch = pytest.importorskip("torch")
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    tout = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, attn_mask=torch.tensor(mask))
    grads = fnx.grad(lambda *a: fnp.sum(f(*a) ** 2), argnums=(0, 1, 2))(*map(fnp.asarray, (q, k, v)))
    (tout ** 2).sum().backward()
    close(out, tout.detach().numpy(), rtol=1e-6)
    for g, t in zip(grads, (tq, tk, tv)):
        close(g, t.grad.numpy(), rtol=1e-6, atol=1e-12)


def test_attention_gqa_dropout_grads_and_errors():
    rng = np.random.default_rng(3)
    q = fnp.asarray(rng.normal(size=(1, 4, 3, 2)))
    k, v = fnp.asarray(rng.normal(size=(1, 2, 5, 2))), fnp.asarray(rng.normal(size=(1, 2, 5, 2)))
    out = F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    ref = _sdpa_ref(_np(q), np.repeat(_np(k), 2, axis=1), np.repeat(_np(v), 2, axis=1))
    close(out, ref, rtol=1e-6)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5, enable_gqa=True, key_rng=fnx.random.key(0))
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5, enable_gqa=True, key_rng=fnx.random.key(0))
    close(a, _np(b))
    assert not np.allclose(_np(a), ref)
    q2, k2, v2 = (fnp.asarray(rng.normal(size=(2, 3, 2))) for _ in range(3))
    check_grads(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), (q2, k2, v2), order=2)
    with pytest.raises(ValueError, match="is_causal"):
        F.scaled_dot_product_attention(q2, k2, v2, attn_mask=fnp.ones((3, 3), dtype=bool), is_causal=True)
    with pytest.raises(ShapeError, match="scaled_dot_product_attention"):
        F.scaled_dot_product_attention(q2, fnp.ones((2, 3, 4)), v2)


def test_vmap_composes_with_layers():
    _needs_batching()
    rng = np.random.default_rng(4)
    x = fnp.asarray(rng.normal(size=(5, 3)))
    w, b = fnp.asarray(rng.normal(size=(2, 3))), fnp.asarray(rng.normal(size=2))

    def f(x):
        return F.layer_norm(F.gelu(F.linear(x, w, b)), (2,))
    close(fnx.vmap(f)(x), np.stack([_np(f(x[i])) for i in range(5)]), rtol=1e-6)
    g = fnx.vmap(fnx.grad(lambda x: fnp.sum(F.softmax(F.linear(x, w, b), -1) ** 2)))(x)
    ref = [fnx.grad(lambda x: fnp.sum(F.softmax(F.linear(x, w, b), -1) ** 2))(x[i]) for i in range(5)]
    close(g, np.stack([_np(r) for r in ref]), rtol=1e-6)


def test_conv_and_pool_are_reexported():
    from fnx.nn import _conv
    for name in ("conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d",
                 "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d"):
        assert getattr(F, name) is getattr(_conv, name) and name in F.__all__


def test_dropout_under_vmap_with_a_batch_of_keys():
    _needs_batching()
    keys = fnx.random.split(fnx.random.key(0), 4)
    y = _np(fnx.vmap(lambda x, k: F.dropout(x, 0.5, key=k))(fnp.ones((4, 50)), keys))
    assert len({tuple(r) for r in (y != 0)}) == 4  # a different mask per example
    close(y[2], _np(F.dropout(fnp.ones(50), 0.5, key=keys[2])))


# ----- PyTorch itself (optional) -----------------------------------------------------------------------

_TORCH_ACTIVATIONS = ["relu", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish", "softplus",
                      "softsign", "hardtanh", "hardsigmoid", "hardswish", "logsigmoid", "tanhshrink",
                      "hardshrink", "softshrink"]


@pytest.mark.parametrize("name", _TORCH_ACTIVATIONS)
def test_activations_match_torch(name):
    torch = pytest.importorskip("torch")
    x = np.linspace(-8, 8, 101)
    ref = getattr(torch.nn.functional, name)(torch.from_numpy(x)).numpy()
    close(getattr(F, name)(fnp.asarray(x)), ref, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("name,xs", [("relu", [0.0, 1, -1]), ("hardtanh", [-1.0, 1.0, 0.0]), ("relu6", [0.0, 6, 3]),
                                     ("leaky_relu", [0.0]), ("hardswish", [-3.0, 3, 0]), ("elu", [0.0, -1]),
                                     ("hardsigmoid", [-3.0, 3, 0]), ("softshrink", [0.5, -0.5]),
                                     ("hardshrink", [0.5, -0.5]), ("celu", [0.0])])
def test_gradients_at_kinks_match_torch(name, xs):
    torch = pytest.importorskip("torch")
    xt = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    getattr(torch.nn.functional, name)(xt).sum().backward()
    close(fnx.grad(lambda z: fnp.sum(getattr(F, name)(z)))(fnp.asarray(np.array(xs))), xt.grad.numpy())


def test_more_layers_match_torch():
    torch = pytest.importorskip("torch")
    tF, t, a = torch.nn.functional, torch.from_numpy, fnp.asarray
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(4, 3, 5)), rng.normal(size=(4, 3, 5))
    rm, rv, w, b = rng.normal(size=3), rng.uniform(0.5, 2, 3), rng.normal(size=3), rng.normal(size=3)
    trm, trv = t(rm.copy()), t(rv.copy())
    tF.batch_norm(t(x), trm, trv, training=True, momentum=0.3)
    m, v = F.batch_norm_stats(a(x), a(rm), a(rv), 0.3)
    idx, emb = rng.integers(0, 6, size=(3, 4)), rng.normal(size=(6, 3)) * 3
    q, k, v4 = rng.normal(size=(2, 4, 3, 8)), rng.normal(size=(2, 2, 5, 8)), rng.normal(size=(2, 2, 5, 6))
    mask = rng.uniform(size=(3, 5)) > 0.3
    mask[:, 0] = True
    pairs = [
        (m, trm), (v, trv),
        (F.batch_norm(a(x), a(rm), a(rv), a(w), a(b), True), tF.batch_norm(t(x), t(rm), t(rv), t(w), t(b), True)),
        (F.batch_norm(a(x), a(rm), a(rv), a(w), a(b)), tF.batch_norm(t(x), t(rm), t(rv), t(w), t(b))),
        (F.instance_norm(a(x), weight=a(w), bias=a(b)), tF.instance_norm(t(x), weight=t(w), bias=t(b))),
        (F.normalize(a(x), 3, 2), tF.normalize(t(x), 3.0, 2)),
        (F.cosine_similarity(a(x), a(y[:1])), tF.cosine_similarity(t(x), t(y[:1]))),
        (F.pairwise_distance(a(x), a(y), 1.5, keepdim=True), tF.pairwise_distance(t(x), t(y), 1.5, keepdim=True)),
        (F.bilinear(a(x[:, :, 0]), a(y[:, 0]), a(emb[:2, :, None] * y[:1, :1]), a(b[:2])),
         tF.bilinear(t(x[:, :, 0]), t(y[:, 0]), t(emb[:2, :, None] * y[:1, :1]), t(b[:2]))),
        (F.prelu(a(x), a(w)), tF.prelu(t(x), t(w))),
        (F.embedding(a(idx), a(emb), max_norm=1.5, norm_type=1.0), tF.embedding(t(idx), t(emb.copy()), max_norm=1.5,
                                                                              norm_type=1.0)),
        (F.one_hot(a(idx), 7), tF.one_hot(t(idx), 7)),
        (F.pad(a(x), (-1, 2, 0, -1), value=3.0), tF.pad(t(x), (-1, 2, 0, -1), value=3.0)),
        (F.scaled_dot_product_attention(a(q), a(k), a(v4), enable_gqa=True, scale=0.2),
         tF.scaled_dot_product_attention(t(q), t(k), t(v4), enable_gqa=True, scale=0.2)),
        (F.scaled_dot_product_attention(a(q), a(k[:, :1]), a(v4[:, :1]), attn_mask=a(mask)),
         tF.scaled_dot_product_attention(t(q), t(k[:, :1]), t(v4[:, :1]), attn_mask=t(mask))),
    ]
    for mode in ("constant", "reflect", "replicate", "circular"):
        for widths in ((1, 2), (2, 1, 1, 2)):
            pairs.append((F.pad(a(x), widths, mode), tF.pad(t(x), widths, mode)))
    for mine, ref in pairs:
        close(mine, ref.numpy(), rtol=1e-6, atol=1e-9)
    et = torch.tensor(emb, requires_grad=True)
    (tF.embedding(t(idx), et, padding_idx=2, scale_grad_by_freq=True) ** 2).sum().backward()
    g = fnx.grad(lambda e: fnp.sum(F.embedding(a(idx), e, padding_idx=2, scale_grad_by_freq=True) ** 2))(a(emb))
    close(g, et.grad.numpy())


def test_layers_match_torch():
    torch = pytest.importorskip("torch")
    tF = torch.nn.functional
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4, 6, 5))
    t = torch.from_numpy
    w = rng.normal(size=6)
    close(F.group_norm(fnp.asarray(x), 3, fnp.asarray(w)), tF.group_norm(t(x), 3, t(w)).numpy(), rtol=1e-6)
    close(F.layer_norm(fnp.asarray(x), (5,)), tF.layer_norm(t(x), (5,)).numpy(), rtol=1e-6)
    close(F.pad(fnp.asarray(x), (2, 1), mode="reflect"), tF.pad(t(x), (2, 1), mode="reflect").numpy())
    q = rng.normal(size=(2, 3, 4))
    close(F.scaled_dot_product_attention(*[fnp.asarray(q)] * 3, is_causal=True),
          tF.scaled_dot_product_attention(*[t(q)] * 3, is_causal=True).numpy(), rtol=1e-6)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_crops_negative_widths_in_every_mode_as_torch(mode):
    torch = pytest.importorskip("torch")
    x = np.arange(10.0).reshape(1, 2, 5)
    for widths in ((-1, 2), (2, -1), (-2, -1), (1, -1, -1, 1)):
        want = torch.nn.functional.pad(torch.tensor(x), widths, mode=mode).numpy()
        got = F.pad(fnp.asarray(x), widths, mode=mode)
        np.testing.assert_array_equal(_np(got), want, err_msg=f"{mode} {widths}")
    check_grads(lambda v: F.pad(v, (-1, 2), mode=mode), (fnp.asarray(x),), order=1)
