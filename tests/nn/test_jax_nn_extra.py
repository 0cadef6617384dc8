"""jax.nn's dot_product_attention, log1mexp, logmeanexp, sparse_plus and sparse_sigmoid, against numpy references."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import fnx
import fnx.numpy as fnp
from fnx.errors import DTypeError, ShapeError
from fnx.testing import check_grads, check_vmap


def attention_reference(q, k, v, bias=None, mask=None, scale=None, is_causal=False, q_len=None, kv_len=None,
                        window=None):
    """One (batch, head, query) at a time, in float64."""
    B, T, N, H = q.shape
    S, K = k.shape[1], k.shape[2]
    scale = 1 / np.sqrt(H) if scale is None else scale
    out = np.zeros((B, T, N, H))
    lse = np.zeros((B, T, N))
    for b in range(B):
        for n in range(N):
            kh = n // (N // K)
            for t in range(T):
                logits = np.array([scale * q[b, t, n] @ k[b, s, kh] for s in range(S)])
                if bias is not None:
                    logits = logits + np.broadcast_to(bias, (B, N, T, S))[b, n, t]
                keep = np.ones(S, bool)
                if mask is not None:
                    keep &= np.broadcast_to(mask, (B, N, T, S))[b, n, t]
                if is_causal:
                    keep &= np.arange(S) <= t
                if window is not None:
                    keep &= (t <= np.arange(S) + window[0]) & (t >= np.arange(S) - window[1])
                if q_len is not None:
                    keep &= t < q_len[b]
                if kv_len is not None:
                    keep &= np.arange(S) < kv_len[b]
                logits = np.where(keep, logits, -0.7 * np.finfo(np.float32).max)
                p = np.exp(logits - logits.max())
                lse[b, t, n] = np.log(p.sum()) + logits.max()
                out[b, t, n] = (p / p.sum()) @ v[b, :, kh]
                if q_len is not None and t >= q_len[b]:
                    out[b, t, n] = 0.0
    return out, lse


dims = st.tuples(st.integers(1, 2), st.integers(1, 4), st.integers(1, 4), st.sampled_from([(1, 1), (2, 1), (2, 2),
                                                                                          (4, 2)]), st.integers(1, 3))


@given(dims=dims, seed=st.integers(0, 2 ** 16), causal=st.booleans(), with_bias=st.booleans(),
       with_mask=st.booleans())
def test_attention_matches_reference(dims, seed, causal, with_bias, with_mask):
    B, T, S, (N, K), H = dims
    rng = np.random.default_rng(seed)
    q, k, v = rng.standard_normal((B, T, N, H)), rng.standard_normal((B, S, K, H)), rng.standard_normal((B, S, K, H))
    bias = rng.standard_normal((1, N, T, S)) if with_bias else None
    mask = rng.random((B, 1, T, S)) > 0.3 if with_mask else None
    out, lse = fnx.nn.dot_product_attention(q, k, v, bias, mask, is_causal=causal, return_residual=True)
    ref, ref_lse = attention_reference(q, k, v, bias, mask, is_causal=causal)
    np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(lse), ref_lse, rtol=1e-10, atol=1e-12)


def test_attention_lengths_windows_scale_and_3d():
    rng = np.random.default_rng(1)
    q, k, v = rng.standard_normal((2, 5, 2, 3)), rng.standard_normal((2, 6, 1, 3)), rng.standard_normal((2, 6, 1, 3))
    q_len, kv_len = np.array([3, 5], np.int32), np.array([6, 2], np.int32)
    out = fnx.nn.dot_product_attention(q, k, v, scale=0.7, query_seq_lengths=q_len, key_value_seq_lengths=kv_len,
                                       local_window_size=1)
    ref, _ = attention_reference(q, k, v, scale=0.7, q_len=q_len, kv_len=kv_len, window=(1, 1))
    np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-10, atol=1e-12)
    out3 = fnx.nn.dot_product_attention(q[0], k[0], v[0], is_causal=True)
    assert out3.shape == (5, 2, 3)
    np.testing.assert_allclose(np.asarray(out3), attention_reference(q[:1], k[:1], v[:1], is_causal=True)[0][0],
                               rtol=1e-10)


def test_attention_dtypes():
    x = fnp.ones((1, 2, 2, 4), "float32")
    assert fnx.nn.dot_product_attention(x, x, x).dtype == np.float32
    h = x.astype("float16")
    assert fnx.nn.dot_product_attention(h, h, h).dtype == np.float16


def test_attention_gradients_and_vmap():
    rng = np.random.default_rng(2)
    q, k, v = (fnp.asarray(rng.standard_normal(s)) for s in ((1, 3, 2, 2), (1, 4, 1, 2), (1, 4, 1, 2)))
    bias = fnp.asarray(rng.standard_normal((1, 2, 3, 4)))
    check_grads(lambda q, k, v, b: fnx.nn.dot_product_attention(q, k, v, b, is_causal=True), (q, k, v, bias),
                order=1)
    check_vmap(lambda q, k, v: fnx.nn.dot_product_attention(q, k, v, is_causal=True),
               (fnp.stack([q, q * 2.0]), fnp.stack([k, -k]), fnp.stack([v, v + 1.0])))


def test_attention_errors():
    q, k = fnp.ones((1, 3, 4, 2)), fnp.ones((1, 5, 3, 2))
    with pytest.raises(ShapeError, match="multiple"):
        fnx.nn.dot_product_attention(q, k, k)
    k = fnp.ones((1, 5, 2, 2))
    with pytest.raises(ShapeError, match="value"):
        fnx.nn.dot_product_attention(q, k, fnp.ones((1, 5, 2, 3)))
    with pytest.raises(DTypeError, match="share a dtype"):
        fnx.nn.dot_product_attention(q, k, k.astype("float64"))
    with pytest.raises(DTypeError, match="mask"):
        fnx.nn.dot_product_attention(q, k, k, mask=fnp.ones((1, 1, 3, 5)))
    with pytest.raises(ShapeError, match="bias"):
        fnx.nn.dot_product_attention(q, k, k, bias=fnp.ones((1, 1, 3, 4)))
    with pytest.raises(ShapeError, match="head size"):
        fnx.nn.dot_product_attention(fnp.ones((1, 3, 4, 3)), k, k)
    with pytest.raises(ShapeError, match="query_seq_lengths"):
        fnx.nn.dot_product_attention(q, k, k, query_seq_lengths=fnp.ones(2, "int32"))
    with pytest.raises(ValueError, match="cuDNN"):
        fnx.nn.dot_product_attention(q, k, k, implementation="cudnn")


def test_attention_matches_jax():
    jax = pytest.importorskip("jax")
    rng = np.random.default_rng(3)
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in ((2, 4, 4, 3), (2, 6, 2, 3), (2, 6, 2, 3)))
    mask = rng.random((2, 4, 4, 6)) > 0.2
    kw = dict(is_causal=True, local_window_size=(2, 0), key_value_seq_lengths=np.array([6, 3], np.int32))
    ours = fnx.nn.dot_product_attention(q, k, v, mask=mask, **kw)
    theirs = jax.nn.dot_product_attention(q, k, v, mask=mask, **kw)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-5, atol=1e-6)

# ----- elementwise functions -------------------------------------------------------------------------


@given(st.floats(1e-6, 60.0))
def test_log1mexp(x):
    expected = np.log(-np.expm1(-x)) if x < np.log(2) else np.log1p(-np.exp(-x))
    np.testing.assert_allclose(float(fnx.nn.log1mexp(fnp.asarray(x, "float64"))), expected, rtol=1e-13)


def test_log1mexp_accuracy_and_gradient():
    # tiny x: log(x) to leading order; large x: -exp(-x), both lost by the naive formula
    np.testing.assert_allclose(float(fnx.nn.log1mexp(fnp.asarray(1e-12, "float64"))), np.log(1e-12), rtol=1e-10)
    np.testing.assert_allclose(float(fnx.nn.log1mexp(fnp.asarray(40.0, "float64"))), -np.exp(-40.0), rtol=1e-10)
    x = fnp.asarray([0.1, 0.5, 1.0, 3.0], "float64")
    check_grads(fnx.nn.log1mexp, (x,), order=2)
    np.testing.assert_allclose(np.asarray(fnx.grad(lambda x: fnx.nn.log1mexp(x).sum())(x)),
                               1 / np.expm1(np.asarray(x)), rtol=1e-12)


@given(seed=st.integers(0, 2 ** 16), axis=st.sampled_from([None, 0, 1, -1, (0, 1)]), keepdims=st.booleans())
def test_logmeanexp(seed, axis, keepdims):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 4)) * 10
    where = rng.random((3, 4)) > 0.3
    where[:, 0] = True  # no empty slice
    got = fnx.nn.logmeanexp(x, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(np.asarray(got), np.log(np.mean(np.exp(x), axis=axis, keepdims=keepdims)), rtol=1e-12)
    got = fnx.nn.logmeanexp(x, axis=axis, where=where, keepdims=keepdims)
    expected = np.log(np.sum(np.exp(x) * where, axis=axis, keepdims=keepdims) /
                      np.sum(where, axis=axis, keepdims=keepdims))
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-12)


def test_logmeanexp_large_values_gradient_and_errors():
    np.testing.assert_allclose(float(fnx.nn.logmeanexp(fnp.asarray([1000.0, 1000.0], "float64"))), 1000.0)
    x = fnp.asarray([[0.5, -1.0, 2.0], [0.0, 1.0, 3.0]], "float64")
    w = fnp.asarray([[True, False, True], [True, True, True]])
    check_grads(lambda x: fnx.nn.logmeanexp(x, axis=1, where=w), (x,), order=1)
    g = fnx.grad(lambda x: fnx.nn.logmeanexp(x, where=w))(x)
    assert float(g[0, 1]) == 0.0  # an excluded entry has no influence
    with pytest.raises(DTypeError, match="boolean"):
        fnx.nn.logmeanexp(x, where=fnp.ones((2, 3)))


@given(st.floats(-3.0, 3.0))
def test_sparse_plus_and_sigmoid(x):
    plus = 0.0 if x <= -1 else x if x >= 1 else (x + 1) ** 2 / 4
    sig = 0.0 if x <= -1 else 1.0 if x >= 1 else (x + 1) / 2
    assert float(fnx.nn.sparse_plus(fnp.asarray(x, "float64"))) == pytest.approx(plus, rel=1e-14, abs=1e-300)
    assert float(fnx.nn.sparse_sigmoid(fnp.asarray(x, "float64"))) == pytest.approx(sig, rel=1e-14, abs=1e-300)


def test_sparse_sigmoid_is_the_derivative_of_sparse_plus():
    x = fnp.asarray([-2.0, -0.5, 0.0, 0.3, 0.9, 1.5], "float64")
    np.testing.assert_allclose(np.asarray(fnx.vmap(fnx.grad(fnx.nn.sparse_plus))(x)),
                               np.asarray(fnx.nn.sparse_sigmoid(x)), rtol=1e-14)
    check_grads(fnx.nn.sparse_plus, (x,), order=1)
