"""fnx.scipy.special: cases for the registry-wide checks, accuracy against SciPy, compositions, errors.

SciPy is only a test oracle (fnx does not depend on it): a reference that needs
it skips its test when SciPy is missing, while the derivative checks still run.

The cases of fnx.random's two primitives (``random_bits``, ``threefry2x32``) live
here too, since the registry harness collects only tests/numpy; their reference
is Threefry-2x32 written again on Python ints, word by word.
"""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import fnx
import fnx.numpy as fnp
import fnx.scipy.special as fsp
from fnx import random as fr
from fnx.errors import DTypeError
from fnx.testing import check_grads, check_vmap
from .harness import Case, numpy_arrays, one, shapes, two_broadcasting


def _scipy(name):
    def ref(*args):
        sps = pytest.importorskip("scipy.special")
        return getattr(sps, name)(*args)
    ref.__name__ = name
    return ref


def _sps():
    return pytest.importorskip("scipy.special")


def _with_order(domain):
    return st.tuples(numpy_arrays(domain=domain, max_dims=2), st.integers(0, 3))


CASES = [
    Case("erf", fsp.erf, _scipy("erf"), one()),
    Case("erfc", fsp.erfc, _scipy("erfc"), one()),
    Case("erfinv", fsp.erfinv, _scipy("erfinv"), one(domain="open_unit_ball")),
    Case("ndtri", fsp.ndtri, _scipy("ndtri"), one(domain="unit_interval")),
    Case("gammaln", fsp.gammaln, _scipy("gammaln"), one(domain="positive")),
    Case("gammaln", fsp.gammaln, _scipy("gammaln"), one(domain="away_from_integers"), name="gammaln_negative"),
    Case("polygamma", lambda x, n: fsp.polygamma(n, x), lambda x, n: _scipy("polygamma")(n, x),
         _with_order("positive")),
    Case("polygamma", lambda x, n: fsp.polygamma(n, x), lambda x, n: _scipy("polygamma")(n, x),
         _with_order("away_from_integers"), name="polygamma_negative", rtol=1e-6),
    Case("expit", fsp.expit, _scipy("expit"), one()),
    Case("log_expit", fsp.log_expit, _scipy("log_expit"), one()),
    Case("logit", fsp.logit, _scipy("logit"), one(domain="unit_interval")),
    Case("xlogy", fsp.xlogy, _scipy("xlogy"), two_broadcasting("real", "positive"), diff=(0, 1)),
    Case("xlog1py", fsp.xlog1py, _scipy("xlog1py"), two_broadcasting("real", "positive"), diff=(0, 1)),
    Case("log_softmax", lambda x, axis: fsp.log_softmax(x, axis), lambda x, axis: _log_softmax_ref(x, axis),
         shapes(min_dims=1).flatmap(lambda s: st.tuples(
             numpy_arrays(st.just(s)), st.none() | st.integers(-len(s), len(s) - 1)
             | st.lists(st.integers(0, len(s) - 1), min_size=1, max_size=len(s), unique=True).map(tuple)))),
    Case("softmax", lambda x, axis: fsp.softmax(x, axis), lambda x, axis: np.exp(_log_softmax_ref(x, axis)),
         shapes(min_dims=1).flatmap(lambda s: st.tuples(
             numpy_arrays(st.just(s)), st.none() | st.integers(-len(s), len(s) - 1)
             | st.lists(st.integers(0, len(s) - 1), min_size=1, max_size=len(s), unique=True).map(tuple)))),
]


def _class_problem(for_gradient):
    """Logits ``(..., C)``, class indices of shape ``(...)`` and a reduction; for the gradient also a
    per-row ``lse``, the loss cotangent (a scalar unless the reduction is "none") and the lse's cotangent."""
    def build(shape):
        rows = shape[:-1]
        targets = hnp.arrays(np.int64, rows, elements=st.integers(0, shape[-1] - 1))
        reduction = st.sampled_from(["none", "sum", "mean"])
        if not for_gradient:
            return st.tuples(numpy_arrays(st.just(shape)), targets, reduction)
        return st.tuples(numpy_arrays(st.just(shape)), numpy_arrays(st.just(rows)), targets, reduction).flatmap(
            lambda a: st.tuples(*map(st.just, a), numpy_arrays(st.just(rows if a[3] == "none" else ())),
                                numpy_arrays(st.just(rows))))
    return shapes(min_dims=1).filter(lambda s: s[-1] > 0).flatmap(build)


def _cross_entropy_ref(x, t, reduction):
    lse = np.log(np.sum(np.exp(x - x.max(-1, keepdims=True)), -1)) + x.max(-1)
    rows = lse - np.take_along_axis(x, t[..., None], -1)[..., 0]
    return (rows if reduction == "none" else rows.mean() if reduction == "mean" else rows.sum()), lse


def _cross_entropy_grad_ref(x, lse, t, reduction, ct, ct_lse):
    c = ct[..., None] if reduction == "none" else ct / max(t.size, 1) if reduction == "mean" else ct
    return np.exp(x - lse[..., None]) * (c + ct_lse[..., None]) - (t[..., None] == np.arange(x.shape[-1])) * c


CASES += [
    Case("softmax_cross_entropy", lambda x, t, red: fsp.cross_entropy_p.bind(x, t, reduction=red),
         _cross_entropy_ref, _class_problem(False).filter(lambda a: a[2] == "none" or a[1].size)),
    Case("softmax_cross_entropy_grad",
         lambda x, lse, t, red, ct, ct_lse: fsp.cross_entropy_grad_p.bind(x, lse, t, ct, ct_lse, reduction=red),
         _cross_entropy_grad_ref, _class_problem(True), diff=(0, 1, 4, 5)),
    # What the loss's rule binds when nobody differentiated the lse (every training step): no fifth operand.
    Case("softmax_cross_entropy_grad",
         lambda x, lse, t, red, ct: fsp.cross_entropy_grad_p.bind(x, lse, t, ct, reduction=red),
         lambda x, lse, t, red, ct: _cross_entropy_grad_ref(x, lse, t, red, ct, np.zeros_like(lse)),
         _class_problem(True).map(lambda a: a[:5]), diff=(0, 1, 4), name="softmax_cross_entropy_grad without ct_lse"),
]


def _log_softmax_ref(x, axis):
    m = np.max(x, axis=axis, keepdims=True)
    return (x - m) - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))

# ----- fnx.random's primitives ------------------------------------------------------------------

_M32 = 0xFFFFFFFF


def _threefry_words(key, count):
    """Threefry-2x32, 20 rounds, on Python ints (Salmon et al. 2011)."""
    k0, k1 = int(key[0]), int(key[1])
    ks = (k0, k1, k0 ^ k1 ^ 0x1BD11BDA)
    x0, x1 = (int(count[0]) + k0) & _M32, (int(count[1]) + k1) & _M32
    for s in range(1, 6):
        for r in ((13, 15, 26, 6), (17, 29, 16, 24))[(s - 1) % 2]:
            x0 = (x0 + x1) & _M32
            x1 = (((x1 << r) | (x1 >> (32 - r))) & _M32) ^ x0
        x0, x1 = (x0 + ks[s % 3]) & _M32, (x1 + ks[(s + 1) % 3] + s) & _M32
    return x0, x1


def _threefry_ref(key, count):
    key, count = np.broadcast_arrays(key, count)
    out = [_threefry_words(k, c) for k, c in zip(key.reshape(-1, 2), count.reshape(-1, 2))]
    return np.array(out, np.uint32).reshape(key.shape)


def _bits_ref(key, shape, width):
    words = []
    for i in range(math.prod(shape)):
        y0, y1 = _threefry_words(key, (i >> 32, i & _M32))
        words.append(y0 ^ y1 if width == 32 else (y0 << 32) | y1)
    return np.array(words, np.uint32 if width == 32 else np.uint64).reshape(shape)


def _words(shape):
    return hnp.arrays(np.uint32, shape)


@st.composite
def _key_and_count(draw):
    lead_k, lead_c = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3)).input_shapes
    return draw(_words(lead_k + (2,))), draw(_words(lead_c + (2,)))


CASES += [
    Case("random_bits", lambda k, shape, width: fr.bits(k, shape, f"uint{width}"), _bits_ref,
         st.tuples(_words((2,)), shapes(max_dims=2, max_side=3), st.sampled_from([32, 64])), grad=False),
    Case("threefry2x32", fr.threefry2x32, _threefry_ref, _key_and_count(), grad=False),
]

# ----- accuracy against scipy over wide ranges -----------------------------------------------------


def _grid(rng):
    return np.concatenate([rng.uniform(-6, 6, 4000), rng.uniform(-40, 40, 1000), np.logspace(-300, 2, 200),
                           -np.logspace(-300, 2, 200), [0.0, -0.0, 0.46875, 4.0, np.inf, -np.inf, np.nan]])


def _assert_close(actual, expected, rtol, atol=0.0):
    actual, expected = np.asarray(actual), np.asarray(expected)
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected))
    np.testing.assert_array_equal(actual[np.isinf(expected)], expected[np.isinf(expected)])
    fin = np.isfinite(expected)
    np.testing.assert_allclose(actual[fin], expected[fin], rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", ["erf", "erfc"])
def test_error_functions_to_float64_precision(name):
    sps = _sps()
    x = _grid(np.random.default_rng(0))
    # erfc below ~1e-200 is checked loosely: scipy's own relative error there is ~1e-13
    _assert_close(getattr(fsp, name)(x), getattr(sps, name)(x), rtol=1e-13, atol=1e-300)
    x = np.random.default_rng(1).uniform(-5, 5, 2000)
    _assert_close(getattr(fsp, name)(x), getattr(sps, name)(x), rtol=2e-15, atol=1e-300)


def test_quantiles_to_float64_precision():
    sps = _sps()
    rng = np.random.default_rng(2)
    y = np.concatenate([rng.uniform(-1, 1, 4000), 1 - np.logspace(-16, -1, 100), -1 + np.logspace(-16, -1, 100),
                        np.logspace(-300, -1, 100), [-1.0, 1.0, 0.0, 1.5, -2.0, np.nan]])
    _assert_close(fsp.erfinv(y), sps.erfinv(y), rtol=4e-15)
    p = np.concatenate([rng.uniform(0, 1, 4000), np.logspace(-300, -1, 100), 1 - np.logspace(-16, -1, 100),
                        [0.0, 1.0, 0.5, -0.5, 2.0, np.nan]])
    _assert_close(fsp.ndtri(p), sps.ndtri(p), rtol=4e-15)


def test_gammaln_to_float64_precision():
    sps = _sps()
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(-20, 20, 4000), rng.uniform(0, 1e6, 500), np.logspace(-300, 300, 200),
                        -np.arange(0.0, 10.0), [np.inf, -np.inf, np.nan, 1.0, 2.0, 0.5]])
    # near the zeros at 1 and 2 the error is absolute (a few 1e-16), as in any Lanczos-type formula
    _assert_close(fsp.gammaln(x), sps.gammaln(x), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("n", range(6))
def test_polygamma_to_float64_precision(n):
    sps = _sps()
    rng = np.random.default_rng(4 + n)
    x = np.concatenate([rng.uniform(-10, 10, 2000), rng.uniform(0, 1e4, 200), np.logspace(-5, 10, 100),
                        -np.arange(0.0, 5.0), [np.inf, np.nan, 0.5, -0.0]])
    # relative accuracy is lost only next to a zero; next to a pole scipy's own error reaches 5e-13
    _assert_close(fsp.polygamma(n, x), sps.polygamma(n, x), rtol=2e-12, atol=1e-14)


def test_special_values_match_scipy():
    sps = _sps()
    x = np.array([-np.inf, -2.0, -1.0, -0.0, 0.0, 1.0, np.inf, np.nan])
    for name in ["expit", "log_expit", "digamma", "gammaln", "entr", "ndtr"]:
        _assert_close(getattr(fsp, name)(x), getattr(sps, name)(x), rtol=1e-15)
    p = np.array([0.0, 1.0, 0.5, np.nan])
    _assert_close(fsp.logit(p), sps.logit(p), rtol=1e-15)
    y = np.array([0.0, 0.0, 1.0, np.nan, 2.0])
    for name in ["xlogy", "xlog1py"]:
        _assert_close(getattr(fsp, name)(np.array([0.0, 0.0, 0.0, 0.0, 3.0]), y),
                      getattr(sps, name)(np.array([0.0, 0.0, 0.0, 0.0, 3.0]), y), rtol=1e-15)


def test_expit_is_stable_in_the_tails():
    x = fnp.asarray([-1000.0, -40.0, 40.0, 1000.0], dtype="float64")
    np.testing.assert_allclose(fsp.expit(x), [0.0, math.exp(-40.0), 1.0, 1.0], rtol=1e-15)
    np.testing.assert_allclose(fsp.log_expit(x), [-1000.0, -40.0, -math.exp(-40.0), 0.0], rtol=1e-15)
    g = fnx.grad(lambda x: fnp.sum(fsp.log_expit(x)))(x)
    assert np.all(np.isfinite(g))

# ----- dtypes, derivatives of every order --------------------------------------------------------


@pytest.mark.parametrize("f", [fsp.erf, fsp.erfc, fsp.erfinv, fsp.ndtri, fsp.gammaln, fsp.digamma, fsp.expit,
                               fsp.logit, fsp.log_expit, fsp.ndtr, fsp.entr, fsp.softmax, fsp.log_softmax,
                               fsp.logsumexp])
def test_float32_stays_float32_with_its_gradient(f):
    x = fnp.asarray([0.25, 0.5], dtype="float32")
    assert f(x).dtype == np.float32
    assert fnx.grad(lambda x: fnp.sum(f(x)))(x).dtype == np.float32


def test_integers_become_float64_and_complex_is_refused():
    assert fsp.erf(np.arange(3)).dtype == np.float64
    assert fsp.xlogy(np.arange(3), 2).dtype == np.float64
    assert fsp.logsumexp(np.arange(3)).dtype == np.float64
    with pytest.raises(DTypeError, match="erf"):
        fsp.erf(np.ones(2, complex))
    with pytest.raises(DTypeError, match="digamma: expected a real array"):
        fsp.digamma(np.ones(2, complex))


def test_polygamma_order_is_checked():
    for n in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="polygamma: the order n must be a non-negative integer"):
            fsp.polygamma(n, 1.0)
    assert float(fsp.polygamma(np.int64(1), 1.0)) == pytest.approx(math.pi ** 2 / 6)


def test_derivative_chain_gammaln_digamma_polygamma():
    x = fnp.asarray([0.7, 2.5, -1.5], dtype="float64")
    d3 = fnx.grad(lambda x: fnx.grad(lambda x: fnx.grad(lambda x: fnp.sum(fsp.gammaln(x)))(x).sum())(x).sum())(x)
    np.testing.assert_allclose(d3, fsp.polygamma(2, x), rtol=1e-13)
    check_grads(lambda x: fsp.polygamma(3, x), (x,), order=2)


def test_erf_family_derivatives():
    x = fnp.asarray([-1.3, 0.2, 0.9], dtype="float64")
    np.testing.assert_allclose(fnx.grad(lambda x: fnp.sum(fsp.erf(x)))(x),
                               2 / math.sqrt(math.pi) * np.exp(-np.asarray(x) ** 2), rtol=1e-14)
    np.testing.assert_allclose(fnx.grad(lambda x: fnp.sum(fsp.erfinv(fsp.erf(x))))(x), np.ones(3), rtol=1e-12)
    check_grads(fsp.ndtr, (x,), order=2)
    check_grads(fsp.entr, (fnp.asarray([0.3, 1.2, 2.0], dtype="float64"),), order=2)

# ----- logsumexp and softmax ------------------------------------------------------------------------


@st.composite
def _lse_args(draw):
    shape = draw(shapes(min_dims=0, max_dims=3, max_side=3))
    a = draw(numpy_arrays(st.just(shape)))
    nd = len(shape)
    axis = None
    if nd:
        axis = draw(st.none() | st.integers(-nd, nd - 1)
                    | st.lists(st.integers(0, nd - 1), unique=True, min_size=1, max_size=nd).map(tuple))
    b = draw(st.none() | numpy_arrays(st.just(shape), domain="nonzero"))
    return a, axis, b, draw(st.booleans())


@given(_lse_args())
def test_logsumexp_matches_scipy(args):
    sps = _sps()
    a, axis, b, keepdims = args
    for sign in (False, True):
        if not sign and b is not None:
            b = np.abs(b)
        out = fsp.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=sign)
        ref = sps.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=sign)
        for o, r in zip(fnx.tree.leaves(out), fnx.tree.leaves(ref)):
            if a.ndim == 0:  # scipy turns a 0-d input into shape (1,) under keepdims; fnx keeps NumPy's ()
                r = np.reshape(r, ())
            assert o.shape == np.shape(r)
            np.testing.assert_allclose(o, r, rtol=1e-12, atol=1e-12)


@given(_lse_args())
def test_logsumexp_gradients(args):
    a, axis, b, keepdims = args
    b = None if b is None else fnp.asarray(np.abs(b))
    check_grads(lambda a: fsp.logsumexp(a, axis=axis, b=b, keepdims=keepdims), (fnp.asarray(a),), order=2)


def test_logsumexp_neither_overflows_nor_underflows():
    a = fnp.asarray([[1000.0, 1000.0], [-1000.0, -1000.0], [-np.inf, -np.inf]], dtype="float64")
    np.testing.assert_allclose(fsp.logsumexp(a, axis=1), [1000 + math.log(2), -1000 + math.log(2), -np.inf])
    np.testing.assert_allclose(fnx.grad(lambda a: fsp.logsumexp(a[:2], axis=1).sum())(a)[:2], np.full((2, 2), 0.5))
    assert float(fsp.logsumexp(fnp.asarray([np.inf, 0.0]))) == np.inf


def test_cross_entropy_rows_with_infinite_logits():
    # A reduced loss mends an infinite row maximum only once the total shows one: the lse output (and the
    # reduced value) must still be those of the per-row path, which mends every row.
    x = fnp.asarray([[np.inf, 0.0, 0.0], [-np.inf, -np.inf, -np.inf], [1.0, 2.0, 3.0]], dtype="float64")
    t = fnp.asarray([1, 0, 2])
    rows, lse = fsp.cross_entropy_p.bind(x, t, reduction="none")
    np.testing.assert_array_equal(lse, [np.inf, -np.inf, 3 + math.log(1 + math.exp(-1) + math.exp(-2))])
    for reduction, reduce in (("mean", np.mean), ("sum", np.sum)):
        total, lse_reduced = fsp.cross_entropy_p.bind(x, t, reduction=reduction)
        np.testing.assert_array_equal(lse_reduced, lse)
        np.testing.assert_array_equal(total, reduce(np.asarray(rows)))
        finite, lse_finite = fsp.cross_entropy_p.bind(x[2:], t[2:], reduction=reduction)
        np.testing.assert_allclose(finite, rows[2], rtol=1e-15)
        np.testing.assert_array_equal(lse_finite, lse[2:])


def test_softmax_and_log_softmax_match_scipy():
    sps = _sps()
    x = np.random.default_rng(5).standard_normal((3, 4)) * 30
    for axis in (None, 0, 1, (0, 1)):
        np.testing.assert_allclose(fsp.softmax(x, axis=axis), sps.softmax(x, axis=axis), rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(fsp.log_softmax(x, axis=axis), sps.log_softmax(x, axis=axis), rtol=1e-12)
    x = fnp.asarray(x / 30)
    check_grads(lambda x: fsp.softmax(x, axis=1), (x,), order=2)
    check_grads(lambda x: fsp.log_softmax(x, axis=0), (x,), order=2)

# ----- vmap -------------------------------------------------------------------------------------------


def _special_loss(x):
    return fnp.sum(fsp.polygamma(1, x) * fsp.gammaln(x) + fsp.erf(x) * fsp.digamma(x) + fsp.ndtri(x / 4.0) ** 2)


def test_vmap_of_grad_is_the_loop_of_grads():
    xs = fnp.asarray(np.random.default_rng(6).uniform(0.5, 3.0, (4, 3)))
    check_vmap(fnx.grad(_special_loss), (xs,))
    check_vmap(fnx.grad(_special_loss), (fnp.moveaxis(xs, 0, 1),), in_axes=1, out_axes=1)
    check_vmap(lambda x: fsp.polygamma(2, x), (xs,), in_axes=1)


def test_grad_of_vmap():
    xs = fnp.asarray(np.random.default_rng(7).uniform(0.5, 3.0, (3, 4)))
    check_grads(lambda xs: fnp.sum(fnx.vmap(_special_loss, in_axes=1)(xs) ** 2), (xs,), order=2)
    check_grads(lambda xs: fnx.vmap(fnx.vmap(lambda x: fsp.polygamma(1, x)))(xs), (xs,), order=2)
