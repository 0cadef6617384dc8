"""The newer ``fnx.nn.functional`` functions against numpy references of PyTorch's documented formulas.

interpolate (every mode), pixel_shuffle/unshuffle, channel_shuffle, local_response_norm, pdist,
gumbel_softmax and the triplet / multi-margin losses: values against independent numpy code,
derivatives against central differences (``check_grads``, float64), and, when torch is installed,
values and input gradients against torch itself.
"""
import math

import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx.errors import ShapeError
from fnx.nn import functional as F
from fnx.testing import check_grads


def _rand(*shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ----- interpolate: numpy references ---------------------------------------------------------------

def _ref_nearest(n_in, n_out, scale=None, exact=False):
    s = np.float32(1.0 / scale) if scale else np.float32(n_in) / np.float32(n_out)
    dst = np.arange(n_out, dtype=np.float32) + (np.float32(0.5) if exact else np.float32(0))
    return np.minimum(np.floor(dst * s).astype(int), n_in - 1) if n_in != n_out else np.arange(n_in)


def _ref_linear_matrix(n_in, n_out, align_corners, scale=None):
    """The (n_out, n_in) matrix of PyTorch's linear interpolation along one axis."""
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        if align_corners:
            src = i * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        else:
            s = 1.0 / scale if scale else n_in / n_out
            src = max((i + 0.5) * s - 0.5, 0.0)
        i0 = int(math.floor(src))
        i1 = min(i0 + 1, n_in - 1)
        lam = src - i0
        m[i, i0] += 1 - lam
        m[i, i1] += lam
    return m


def _ref_cubic_matrix(n_in, n_out, align_corners, scale=None):
    a = -0.75

    def w(x):
        x = abs(x)
        if x <= 1:
            return ((a + 2) * x - (a + 3)) * x * x + 1
        if x < 2:
            return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
        return 0.0
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        if align_corners:
            src = i * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        else:
            s = 1.0 / scale if scale else n_in / n_out
            src = (i + 0.5) * s - 0.5
        i0 = math.floor(src)
        t = src - i0
        for k in range(-1, 3):
            m[i, min(max(i0 + k, 0), n_in - 1)] += w(k - t)
    return m


def _apply(x, mats):
    """Applies one matrix per spatial axis (axes 2...)."""
    for ax, m in enumerate(mats, start=2):
        x = np.moveaxis(np.tensordot(m, np.moveaxis(x, ax, 0), axes=1), 0, ax)
    return x


@pytest.mark.parametrize("shape,size", [((2, 3, 5), (9,)), ((1, 2, 4, 6), (7, 3)), ((1, 1, 3, 4, 2), (5, 2, 5)),
                                        ((1, 2, 6), (6,)), ((1, 1, 6, 9), (2, 3))])
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
def test_nearest_modes(shape, size, mode):
    x = _rand(*shape)
    got = np.asarray(F.interpolate(fnp.asarray(x), size=size, mode=mode))
    want = x
    for ax, n in enumerate(size, start=2):
        want = np.take(want, _ref_nearest(shape[ax], n, exact=mode == "nearest-exact"), axis=ax)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("shape,size,mode", [((2, 3, 5), (9,), "linear"), ((1, 2, 4, 6), (7, 3), "bilinear"),
                                             ((1, 1, 3, 4, 2), (5, 2, 5), "trilinear"),
                                             ((1, 2, 4, 5), (8, 3), "bicubic"), ((1, 1, 5, 5), (1, 1), "bilinear")])
def test_interpolating_modes_against_their_matrices(shape, size, mode, align_corners):
    x = _rand(*shape)
    got = np.asarray(F.interpolate(fnp.asarray(x), size=size, mode=mode, align_corners=align_corners))
    ref = _ref_cubic_matrix if mode == "bicubic" else _ref_linear_matrix
    want = _apply(x, [ref(shape[2 + i], n, align_corners) for i, n in enumerate(size)])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_scale_factor_maps_indices_with_the_given_scale_unless_recomputed():
    # in 5, factor 1.5: output floor(7.5) = 7; index scale 1/1.5 (given) versus 5/7 (recomputed)
    x = _rand(1, 1, 5)
    got = np.asarray(F.interpolate(fnp.asarray(x), scale_factor=1.5, mode="linear"))
    np.testing.assert_allclose(got, _apply(x, [_ref_linear_matrix(5, 7, False, scale=1.5)]), rtol=1e-6)
    got = np.asarray(F.interpolate(fnp.asarray(x), scale_factor=1.5, mode="linear", recompute_scale_factor=True))
    np.testing.assert_allclose(got, _apply(x, [_ref_linear_matrix(5, 7, False)]), rtol=1e-6)
    got = np.asarray(F.interpolate(fnp.asarray(x), scale_factor=1.5))
    np.testing.assert_array_equal(got, np.take(x, _ref_nearest(5, 7, scale=1.5), axis=2))


def test_area_mode_is_adaptive_average_pooling():
    x = _rand(2, 3, 6, 4)
    got = np.asarray(F.interpolate(fnp.asarray(x), size=(3, 2), mode="area"))
    np.testing.assert_allclose(got, x.reshape(2, 3, 3, 2, 2, 2).mean(axis=(3, 5)), rtol=1e-12)


def test_interpolate_errors():
    x = fnp.ones((1, 1, 4))
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, size=2, align_corners=True)
    with pytest.raises(ShapeError, match="bilinear"):
        F.interpolate(x, size=2, mode="bilinear")
    with pytest.raises(ValueError, match="unknown mode"):
        F.interpolate(x, size=2, mode="cubic")
    with pytest.raises(ValueError, match="length 1"):
        F.interpolate(x, size=(2, 3))
    with pytest.raises(NotImplementedError, match="antialias"):
        F.interpolate(fnp.ones((1, 1, 4, 4)), size=2, mode="bilinear", antialias=True)


def test_deprecated_upsample_aliases_warn():
    x = fnp.asarray(_rand(1, 1, 2, 3))
    with pytest.warns(UserWarning, match="deprecated"):
        got = F.upsample_bilinear(x, scale_factor=2)
    np.testing.assert_array_equal(np.asarray(got), np.asarray(F.interpolate(x, scale_factor=2, mode="bilinear",
                                                                              align_corners=True)))
    with pytest.warns(UserWarning, match="deprecated"):
        F.upsample_nearest(x, size=(3, 3))
    with pytest.warns(UserWarning, match="deprecated"):
        F.upsample(x, size=(3, 3))


@pytest.mark.parametrize("mode,kw", [("bilinear", dict(size=(3, 5))), ("bicubic", dict(scale_factor=1.5)),
                                     ("bilinear", dict(size=(2, 2), align_corners=True)),
                                     ("nearest", dict(scale_factor=2)), ("area", dict(size=(2, 3)))])
def test_interpolate_gradients(mode, kw):
    x = fnp.asarray(_rand(1, 2, 4, 6))
    check_grads(lambda x: F.interpolate(x, mode=mode, **kw), (x,), order=1)


# ----- rearranging ----------------------------------------------------------------------------------------

def test_pixel_shuffle_formula_and_round_trip():
    r = 3
    x = _rand(2, 2 * r * r, 4, 5)
    y = np.asarray(F.pixel_shuffle(fnp.asarray(x), r))
    assert y.shape == (2, 2, 12, 15)
    n, c, h, w, i, j = 1, 1, 2, 3, 2, 1
    assert y[n, c, h * r + i, w * r + j] == x[n, c * r * r + i * r + j, h, w]
    want = np.empty_like(y)
    for c in range(2):
        for i in range(r):
            for j in range(r):
                want[:, c, i::r, j::r] = x[:, c * r * r + i * r + j]
    np.testing.assert_array_equal(y, want)
    back = np.asarray(F.pixel_unshuffle(fnp.asarray(y), r))
    np.testing.assert_array_equal(back, x)
    # extra leading dimensions are carried along
    assert F.pixel_shuffle(fnp.ones((2, 3, 4, 1, 1)), 2).shape == (2, 3, 1, 2, 2)
    with pytest.raises(ShapeError, match="pixel_shuffle"):
        F.pixel_shuffle(fnp.ones((1, 3, 2, 2)), 2)
    with pytest.raises(ShapeError, match="pixel_unshuffle"):
        F.pixel_unshuffle(fnp.ones((1, 1, 3, 2)), 2)
    with pytest.raises(ValueError, match="upscale_factor"):
        F.pixel_shuffle(fnp.ones((1, 4, 2, 2)), 0)
    check_grads(lambda x: F.pixel_shuffle(x, 2), (fnp.asarray(_rand(1, 4, 2, 3)),))


def test_channel_shuffle():
    x = _rand(2, 6, 3)
    got = np.asarray(F.channel_shuffle(fnp.asarray(x), 3))
    want = x.reshape(2, 3, 2, 3).transpose(0, 2, 1, 3).reshape(2, 6, 3)
    np.testing.assert_array_equal(got, want)
    with pytest.raises(ShapeError, match="divisible"):
        F.channel_shuffle(fnp.ones((1, 5, 2)), 2)


# ----- local response norm, pdist --------------------------------------------------------------------

def _ref_lrn(x, size, alpha, beta, k):
    c = x.shape[1]
    out = np.empty_like(x)
    for i in range(c):
        lo, hi = max(0, i - size // 2), min(c, i + (size - 1) // 2 + 1)
        s = (x[:, lo:hi] ** 2).sum(axis=1)
        out[:, i] = x[:, i] / (k + alpha / size * s) ** beta
    return out


@pytest.mark.parametrize("shape,size", [((2, 5, 3), 3), ((1, 4, 2, 3), 2), ((2, 3, 2, 2, 2), 5), ((1, 6, 4), 1)])
def test_local_response_norm(shape, size):
    x = _rand(*shape)
    got = np.asarray(F.local_response_norm(fnp.asarray(x), size, alpha=0.1, beta=0.6, k=2.0))
    np.testing.assert_allclose(got, _ref_lrn(x, size, 0.1, 0.6, 2.0), rtol=1e-12)
    check_grads(lambda x: F.local_response_norm(x, size, alpha=0.1, beta=0.6, k=2.0), (fnp.asarray(x),))
    with pytest.raises(ShapeError, match="3D or higher"):
        F.local_response_norm(fnp.ones((2, 3)), 2)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, math.inf, 0.5])
def test_pdist(p):
    x = _rand(5, 3)
    got = np.asarray(F.pdist(fnp.asarray(x), p))
    want = [np.linalg.norm(x[i] - x[j], ord=p) if p >= 1 else (np.abs(x[i] - x[j]) ** p).sum() ** (1 / p)
            for i in range(5) for j in range(i + 1, 5)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    if p != math.inf:
        check_grads(lambda x: F.pdist(x, p), (fnp.asarray(x),))


def test_pdist_gradient_is_finite_at_repeated_rows():
    x = fnp.asarray(np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 0.0]]))
    g = fnx.grad(lambda x: fnp.sum(F.pdist(x)))(x)
    assert np.all(np.isfinite(np.asarray(g)))
    with pytest.raises(ShapeError, match="2D"):
        F.pdist(fnp.ones(3))


# ----- gumbel softmax --------------------------------------------------------------------------------

def test_gumbel_softmax_is_softmax_of_logits_plus_the_keys_gumbel_noise():
    key = fnx.random.key(3)
    logits = fnp.asarray(_rand(4, 5, dtype=np.float32))
    g = np.asarray(fnx.random.gumbel(key, (4, 5), "float32"))
    y = np.asarray(F.gumbel_softmax(logits, tau=0.5, key=key))
    z = (np.asarray(logits) + g) / 0.5
    want = np.exp(z - z.max(-1, keepdims=True))
    np.testing.assert_allclose(y, want / want.sum(-1, keepdims=True), rtol=1e-5)
    # along another dim
    y0 = np.asarray(F.gumbel_softmax(logits, key=key, dim=0))
    np.testing.assert_allclose(y0.sum(0), np.ones(5), rtol=1e-6)


def test_gumbel_softmax_hard_is_one_hot_with_the_soft_gradient():
    key = fnx.random.key(1)
    logits = fnp.asarray(_rand(3, 4))
    hard = np.asarray(F.gumbel_softmax(logits, hard=True, key=key))
    soft = np.asarray(F.gumbel_softmax(logits, key=key))
    np.testing.assert_array_equal(hard, np.eye(4)[soft.argmax(-1)])
    w = fnp.asarray(_rand(3, 4, seed=5))
    g_hard = fnx.grad(lambda x: fnp.sum(F.gumbel_softmax(x, hard=True, key=key) * w))(logits)
    g_soft = fnx.grad(lambda x: fnp.sum(F.gumbel_softmax(x, key=key) * w))(logits)
    np.testing.assert_allclose(np.asarray(g_hard), np.asarray(g_soft), rtol=1e-12)
    check_grads(lambda x: F.gumbel_softmax(x, tau=0.7, key=key), (logits,))


def test_gumbel_softmax_draws_from_the_global_generator():
    fnx.manual_seed(0)
    a = np.asarray(F.gumbel_softmax(fnp.zeros((2, 3))))
    fnx.manual_seed(0)
    b = np.asarray(F.gumbel_softmax(fnp.zeros((2, 3))))
    c = np.asarray(F.gumbel_softmax(fnp.zeros((2, 3))))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)


# ----- losses ----------------------------------------------------------------------------------------

def _reduce(x, reduction):
    return x.mean() if reduction == "mean" else x.sum() if reduction == "sum" else x


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("p,swap", [(2, False), (1, True), (3, False)])
def test_triplet_margin_loss(reduction, p, swap):
    a, pos, neg = _rand(4, 3, seed=1), _rand(4, 3, seed=2), _rand(4, 3, seed=3)
    d = lambda x, y: (np.abs(x - y + 1e-6) ** p).sum(-1) ** (1 / p)  # noqa: E731
    dn = np.minimum(d(a, neg), d(pos, neg)) if swap else d(a, neg)
    want = _reduce(np.maximum(0.5 + d(a, pos) - dn, 0), reduction)
    got = F.triplet_margin_loss(fnp.asarray(a), fnp.asarray(pos), fnp.asarray(neg), margin=0.5, p=p, swap=swap,
                                reduction=reduction)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12)
    check_grads(lambda a, b, c: F.triplet_margin_loss(a, b, c, margin=2.0, p=p, swap=swap, reduction=reduction),
                (fnp.asarray(a), fnp.asarray(pos), fnp.asarray(neg)))
    # unbatched
    got1 = F.triplet_margin_loss(fnp.asarray(a[0]), fnp.asarray(pos[0]), fnp.asarray(neg[0]), margin=0.5, p=p,
                                 swap=swap, reduction="none")
    np.testing.assert_allclose(np.asarray(got1), np.maximum(0.5 + d(a, pos) - dn, 0)[0], rtol=1e-12)


def test_triplet_margin_with_distance_loss_and_checks():
    a, pos, neg = _rand(4, 3, seed=1), _rand(4, 3, seed=2), _rand(4, 3, seed=3)
    cos = lambda x, y: 1.0 - F.cosine_similarity(x, y, dim=-1)  # noqa: E731
    got = F.triplet_margin_with_distance_loss(fnp.asarray(a), fnp.asarray(pos), fnp.asarray(neg),
                                              distance_function=cos, margin=0.3, reduction="sum")
    c = lambda x, y: 1 - (x * y).sum(-1) / np.linalg.norm(x, axis=-1) / np.linalg.norm(y, axis=-1)  # noqa: E731
    np.testing.assert_allclose(np.asarray(got), np.maximum(0.3 + c(a, pos) - c(a, neg), 0).sum(), rtol=1e-12)
    default = F.triplet_margin_with_distance_loss(fnp.asarray(a), fnp.asarray(pos), fnp.asarray(neg))
    np.testing.assert_allclose(np.asarray(default), np.asarray(F.triplet_margin_loss(
        fnp.asarray(a), fnp.asarray(pos), fnp.asarray(neg))), rtol=1e-12)
    with pytest.raises(ShapeError, match="all be 1D"):
        F.triplet_margin_loss(fnp.ones((2, 3)), fnp.ones(3), fnp.ones((2, 3)))
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        F.triplet_margin_with_distance_loss(fnp.ones(3), fnp.ones(3), fnp.ones(3), margin=0.0)


def _ref_multi_margin(x, y, p, margin, w):
    n, c = x.shape
    out = np.zeros(n)
    for i in range(n):
        for j in range(c):
            if j != y[i]:
                h = max(0.0, margin - x[i, y[i]] + x[i, j]) ** p
                out[i] += (w[y[i]] if w is not None else 1.0) * h
    return out / c


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("p,margin,weighted", [(1, 1.0, False), (2, 0.5, True), (1, 2.0, True)])
def test_multi_margin_loss(reduction, p, margin, weighted):
    x, y = _rand(5, 4), np.array([0, 3, 1, 1, 2])
    w = np.array([0.5, 1.0, 2.0, 1.5]) if weighted else None
    got = F.multi_margin_loss(fnp.asarray(x), fnp.asarray(y), p=p, margin=margin,
                              weight=None if w is None else fnp.asarray(w), reduction=reduction)
    np.testing.assert_allclose(np.asarray(got), _reduce(_ref_multi_margin(x, y, p, margin, w), reduction),
                               rtol=1e-12)
    check_grads(lambda x: F.multi_margin_loss(x, fnp.asarray(y), p=p, margin=margin, reduction=reduction),
                (fnp.asarray(x),))
    one = F.multi_margin_loss(fnp.asarray(x[1]), fnp.asarray(y[1:2]), p=p, margin=margin, reduction="none")
    assert one.shape == () and float(one) == pytest.approx(_ref_multi_margin(x[1:2], y[1:2], p, margin, None)[0])


def _ref_multilabel_margin(x, y):
    n, c = x.shape
    out = np.zeros(n)
    for i in range(n):
        targets = []
        for t in y[i]:
            if t == -1:
                break
            targets.append(t)
        for j in targets:
            for k in range(c):
                if k not in targets:
                    out[i] += max(0.0, 1 - (x[i, j] - x[i, k]))
    return out / c


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_multilabel_margin_loss(reduction):
    x = _rand(4, 5)
    y = np.array([[3, 0, -1, 1, 2], [-1, 1, 1, 1, 1], [0, 1, 2, 3, 4], [4, 4, -1, -1, -1]])
    got = F.multilabel_margin_loss(fnp.asarray(x), fnp.asarray(y), reduction=reduction)
    np.testing.assert_allclose(np.asarray(got), _reduce(_ref_multilabel_margin(x, y), reduction), rtol=1e-12)
    check_grads(lambda x: F.multilabel_margin_loss(x, fnp.asarray(y), reduction=reduction), (fnp.asarray(x),))
    with pytest.raises(IndexError, match="target values"):
        F.multilabel_margin_loss(fnp.asarray(x), fnp.asarray(np.full((4, 5), 7)))
    with pytest.raises(ShapeError, match="inconsistent target size"):
        F.multilabel_margin_loss(fnp.asarray(x), fnp.asarray(y[:, :3]))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_multilabel_soft_margin_loss(reduction):
    x, y = _rand(4, 3), (np.random.default_rng(1).random((4, 3)) > 0.5).astype(np.float64)
    w = np.array([0.2, 1.0, 3.0])
    sig = 1 / (1 + np.exp(-x))
    want = -(y * np.log(sig) + (1 - y) * np.log(1 - sig)) * w
    got = F.multilabel_soft_margin_loss(fnp.asarray(x), fnp.asarray(y), weight=fnp.asarray(w), reduction=reduction)
    np.testing.assert_allclose(np.asarray(got), _reduce(want.mean(-1), reduction), rtol=1e-12)
    check_grads(lambda x: F.multilabel_soft_margin_loss(x, fnp.asarray(y), reduction=reduction), (fnp.asarray(x),))


# ----- against torch itself --------------------------------------------------------------------------

INTERP_CASES = [
    ((2, 3, 7), dict(size=12, mode="nearest")), ((2, 3, 7), dict(scale_factor=0.6, mode="nearest")),
    ((1, 2, 5, 6), dict(scale_factor=(1.7, 0.8), mode="nearest-exact")),
    ((1, 2, 5, 6), dict(size=(9, 4), mode="nearest")), ((2, 3, 7), dict(scale_factor=2.3, mode="linear")),
    ((2, 3, 7), dict(size=4, mode="linear", align_corners=True)),
    ((1, 2, 5, 6), dict(size=(9, 4), mode="bilinear")), ((1, 2, 5, 6), dict(scale_factor=1.5, mode="bilinear",
                                                                           align_corners=True)),
    ((1, 2, 5, 6), dict(scale_factor=(2.5, 0.7), mode="bilinear", recompute_scale_factor=True)),
    ((1, 2, 5, 6), dict(size=(9, 4), mode="bicubic")), ((1, 2, 5, 6), dict(size=(3, 11), mode="bicubic",
                                                                          align_corners=True)),
    ((1, 2, 5, 6), dict(scale_factor=1.3, mode="bicubic")),
    ((1, 1, 3, 4, 5), dict(size=(5, 2, 7), mode="trilinear")), ((1, 1, 3, 4, 5), dict(scale_factor=1.5,
                                                                                      mode="trilinear",
                                                                                      align_corners=True)),
    ((1, 2, 7, 5), dict(size=(3, 2), mode="area")), ((1, 1, 3, 4, 5), dict(scale_factor=2, mode="nearest")),
    # a scale that leaves an axis' size unchanged: mapped in the cubic mode, copied in the linear ones
    ((1, 1, 3), dict(scale_factor=1.3, mode="linear")), ((1, 1, 3, 4), dict(scale_factor=1.3, mode="bilinear")),
    ((1, 1, 3, 4), dict(scale_factor=1.3, mode="bicubic")),
    ((1, 1, 2, 3, 4), dict(scale_factor=1.3, mode="trilinear", align_corners=True)),
]


@pytest.mark.parametrize("shape,kw", INTERP_CASES, ids=[f"{s}-{k}" for s, k in INTERP_CASES])
def test_interpolate_against_torch(shape, kw):
    torch = pytest.importorskip("torch")
    x = _rand(*shape, dtype=np.float32)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.interpolate(tx, **kw)
    fy = F.interpolate(fnp.asarray(x), **kw)
    np.testing.assert_allclose(np.asarray(fy), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    w = _rand(*ty.shape, seed=9, dtype=np.float32)
    (ty * torch.tensor(w)).sum().backward()
    g = fnx.grad(lambda x: fnp.sum(F.interpolate(x, **kw) * fnp.asarray(w)))(fnp.asarray(x))
    np.testing.assert_allclose(np.asarray(g), tx.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_rearranging_and_normalising_against_torch():
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    x = _rand(2, 12, 3, 4, dtype=np.float32)
    for f, t in [(lambda a: F.pixel_shuffle(a, 2), lambda a: TF.pixel_shuffle(a, 2)),
                 (lambda a: F.pixel_unshuffle(a[:, :, :2], 2),
                  lambda a: TF.pixel_unshuffle(a[:, :, :2], 2)),
                 (lambda a: F.channel_shuffle(a, 4), lambda a: TF.channel_shuffle(a, 4)),
                 (lambda a: F.local_response_norm(a, 5, 1e-2, 0.8, 1.5),
                  lambda a: TF.local_response_norm(a, 5, 1e-2, 0.8, 1.5)),
                 (lambda a: F.pdist(a.reshape(6, -1)), lambda a: TF.pdist(a.reshape(6, -1))),
                 (lambda a: F.pdist(a.reshape(6, -1), 1.5), lambda a: TF.pdist(a.reshape(6, -1), 1.5))]:
        np.testing.assert_allclose(np.asarray(f(fnp.asarray(x))), t(torch.tensor(x)).numpy(), rtol=1e-5, atol=1e-6)


LOSS_CASES = {
    "triplet": (lambda m, a, p, n, y, z: m.triplet_margin_loss(a, p, n, margin=0.7, swap=True)),
    "triplet-p1": (lambda m, a, p, n, y, z: m.triplet_margin_loss(a, p, n, p=1, reduction="none")),
    "multi-margin": (lambda m, a, p, n, y, z: m.multi_margin_loss(a, y, margin=0.8)),
    "multi-margin-p2-w": (lambda m, a, p, n, y, z: m.multi_margin_loss(a, y, p=2, weight=p[0].abs() if hasattr(
        p, "abs") else fnp.abs(p[0]), reduction="sum")),
    "multilabel-margin": (lambda m, a, p, n, y, z: m.multilabel_margin_loss(a, z, reduction="none")),
    "multilabel-soft": (lambda m, a, p, n, y, z: m.multilabel_soft_margin_loss(a, (z >= 0) * 1.0)),
}


@pytest.mark.parametrize("name", list(LOSS_CASES))
def test_losses_against_torch(name):
    torch = pytest.importorskip("torch")
    a, p, n = _rand(5, 4, seed=1), _rand(5, 4, seed=2), _rand(5, 4, seed=3)
    y = np.array([0, 3, 1, 2, 2])
    z = np.array([[1, 2, -1, 0], [3, -1, 0, 0], [0, 1, 2, 3], [-1, 0, 0, 0], [2, 2, 1, -1]])
    f = LOSS_CASES[name]
    ta = torch.tensor(a, requires_grad=True)
    tl = f(torch.nn.functional, ta, torch.tensor(p), torch.tensor(n), torch.tensor(y), torch.tensor(z))
    fl = f(F, fnp.asarray(a), fnp.asarray(p), fnp.asarray(n), fnp.asarray(y), fnp.asarray(z))
    np.testing.assert_allclose(np.asarray(fl), tl.detach().numpy(), rtol=1e-10, atol=1e-12)
    tl.sum().backward()
    g = fnx.grad(lambda x: fnp.sum(f(F, x, fnp.asarray(p), fnp.asarray(n), fnp.asarray(y), fnp.asarray(z))))(
        fnp.asarray(a))
    np.testing.assert_allclose(np.asarray(g), ta.grad.numpy(), rtol=1e-10, atol=1e-12)


# ----- affine_grid and grid_sample -----------------------------------------------------------------------

def _ref_bilinear_zeros(x, grid, align_corners):
    """grid_sample with bilinear taps and zero padding, by loops (PyTorch's documented unnormalisation)."""
    n, c, h, w = x.shape
    out = np.zeros((n, c) + grid.shape[1:3])
    for b in range(n):
        for i in range(grid.shape[1]):
            for j in range(grid.shape[2]):
                gx, gy = grid[b, i, j]
                if align_corners:
                    px, py = (gx + 1) / 2 * (w - 1), (gy + 1) / 2 * (h - 1)
                else:
                    px, py = ((gx + 1) * w - 1) / 2, ((gy + 1) * h - 1) / 2
                x0, y0 = math.floor(px), math.floor(py)
                for yy, wy in ((y0, 1 - (py - y0)), (y0 + 1, py - y0)):
                    for xx, wx in ((x0, 1 - (px - x0)), (x0 + 1, px - x0)):
                        if 0 <= yy < h and 0 <= xx < w:
                            out[b, :, i, j] += wy * wx * x[b, :, yy, xx]
    return out


@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_bilinear_zeros_against_loops(align_corners):
    x = _rand(2, 3, 4, 5)
    grid = np.random.default_rng(1).uniform(-1.3, 1.3, (2, 3, 4, 2))
    got = np.asarray(F.grid_sample(fnp.asarray(x), fnp.asarray(grid), align_corners=align_corners))
    np.testing.assert_allclose(got, _ref_bilinear_zeros(x, grid, align_corners), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_identity_affine_grid_samples_the_input_back(mode, align_corners):
    x = _rand(2, 3, 4, 5)
    theta = np.tile(np.array([[1.0, 0, 0], [0, 1.0, 0]]), (2, 1, 1))
    grid = F.affine_grid(fnp.asarray(theta), (2, 3, 4, 5), align_corners=align_corners)
    assert grid.shape == (2, 4, 5, 2)
    got = np.asarray(F.grid_sample(fnp.asarray(x), grid, mode=mode, align_corners=align_corners))
    np.testing.assert_allclose(got, x, rtol=1e-12, atol=1e-12)


def test_affine_grid_points_and_checks():
    theta = np.array([[[2.0, 0.0, 0.5], [0.0, -1.0, 0.25]]])
    grid = np.asarray(F.affine_grid(fnp.asarray(theta), (1, 1, 2, 3), align_corners=True))
    xs, ys = np.meshgrid([-1.0, 0.0, 1.0], [-1.0, 1.0])
    np.testing.assert_allclose(grid[0, ..., 0], 2 * xs + 0.5)
    np.testing.assert_allclose(grid[0, ..., 1], -ys + 0.25)
    grid = np.asarray(F.affine_grid(fnp.asarray(theta), (1, 1, 2, 3), align_corners=False))
    np.testing.assert_allclose(grid[0, 0, :, 0], 2 * np.array([-2 / 3, 0, 2 / 3]) + 0.5, rtol=1e-12)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.affine_grid(fnp.asarray(theta), (1, 1, 2, 3))
    with pytest.raises(ValueError, match="Nx2x3"):
        F.affine_grid(fnp.ones((1, 3, 4)), (1, 1, 2, 3), align_corners=False)
    with pytest.raises(NotImplementedError, match="4D and 5D"):
        F.affine_grid(fnp.ones((1, 2, 3)), (1, 1, 3), align_corners=False)
    with pytest.raises(ValueError, match="floating point"):
        F.affine_grid(fnp.ones((1, 2, 3), dtype="int32"), (1, 1, 2, 3), align_corners=False)
    with pytest.raises(ValueError, match="padding_mode"):
        F.grid_sample(fnp.ones((1, 1, 2, 2)), fnp.zeros((1, 1, 1, 2)), padding_mode="wrap", align_corners=False)
    with pytest.raises(ValueError, match="bicubic interpolation only supports 4D"):
        F.grid_sample(fnp.ones((1, 1, 2, 2, 2)), fnp.zeros((1, 1, 1, 1, 3)), mode="bicubic", align_corners=False)
    with pytest.raises(ShapeError, match="grid_sample"):
        F.grid_sample(fnp.ones((1, 1, 2, 2)), fnp.zeros((1, 1, 1, 3)), align_corners=False)


@pytest.mark.parametrize("mode,padding_mode", [("bilinear", "zeros"), ("bilinear", "reflection"),
                                               ("bicubic", "border")])
def test_grid_sample_gradients_in_input_and_grid(mode, padding_mode):
    x = fnp.asarray(_rand(1, 2, 3, 4))
    # points away from the kinks of floor and of the padding
    grid = fnp.asarray(np.array([[[[0.13, -0.41], [0.77, 0.29]], [[-0.62, 0.55], [1.31, -1.17]]]]))
    check_grads(lambda x, g: F.grid_sample(x, g, mode=mode, padding_mode=padding_mode, align_corners=False),
                (x, grid))


GRID_CASES = [(nd, mode, pm, ac) for nd in (2, 3) for mode in ("bilinear", "nearest", "bicubic")
              for pm in ("zeros", "border", "reflection") for ac in (False, True) if not (nd == 3 and mode == "bicubic")]


@pytest.mark.parametrize("nd,mode,padding_mode,align_corners", GRID_CASES)
def test_grid_sample_against_torch(nd, mode, padding_mode, align_corners):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 5) if nd == 2 else (2, 3, 3, 4, 5))
    g = rng.uniform(-1.4, 1.4, (2, 3, 4, 2) if nd == 2 else (2, 2, 3, 4, 3))
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    tx, tg = torch.tensor(x, requires_grad=True), torch.tensor(g, requires_grad=True)
    ty = torch.nn.functional.grid_sample(tx, tg, **kw)
    np.testing.assert_allclose(np.asarray(F.grid_sample(fnp.asarray(x), fnp.asarray(g), **kw)), ty.detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    w = rng.standard_normal(ty.shape)
    (ty * torch.tensor(w)).sum().backward()
    gx, gg = fnx.grad(lambda a, b: fnp.sum(F.grid_sample(a, b, **kw) * fnp.asarray(w)), argnums=(0, 1))(
        fnp.asarray(x), fnp.asarray(g))
    np.testing.assert_allclose(np.asarray(gx), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.asarray(gg), tg.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 3, 2, 4, 5)])
@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_against_torch(size, align_corners):
    torch = pytest.importorskip("torch")
    theta = np.random.default_rng(0).standard_normal((2, 2, 3) if len(size) == 4 else (2, 3, 4))
    want = torch.nn.functional.affine_grid(torch.tensor(theta), size, align_corners=align_corners).numpy()
    np.testing.assert_allclose(np.asarray(F.affine_grid(fnp.asarray(theta), size, align_corners)), want,
                               rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("align_corners,padding_mode,want", [
    # x = 1.2 -> pixel 3.9 (edges at -0.5, 3.5) mirrors to 3.1, clipped to 3; x = -1.3 -> -1.1 mirrors to 0.1;
    # x = 3 -> 7.5 mirrors twice to -0.5, clipped to 0
    (False, "reflection", [3.0, 0.1, 0.0]),
    # with aligned corners (edges at the centres 0 and 3): 3.3 -> 2.7, -0.45 -> 0.45, 6 -> 0
    (True, "reflection", [2.7, 0.45, 0.0]),
    (False, "border", [3.0, 0.0, 3.0]), (True, "border", [3.0, 0.0, 3.0]),
    # zeros: 3.9 takes 0.1 of pixel 3 and 0.9 of the outside zero; -1.1 and 7.5 only the outside
    (False, "zeros", [0.3, 0.0, 0.0]),
])
def test_grid_sample_padding_modes_by_hand(align_corners, padding_mode, want):
    x = fnp.asarray(np.array([[[[0.0, 1.0, 2.0, 3.0]]]]))
    grid = fnp.asarray(np.array([[[[1.2, 0.0], [-1.3, 0.0], [3.0, 0.0]]]]))
    got = F.grid_sample(x, grid, padding_mode=padding_mode, align_corners=align_corners)
    np.testing.assert_allclose(np.asarray(got)[0, 0, 0], want, rtol=1e-12, atol=1e-12)


# ----- property tests ---------------------------------------------------------------------------------

from hypothesis import given, strategies as st  # noqa: E402


@given(r=st.integers(1, 3), c=st.integers(1, 3), h=st.integers(1, 3), w=st.integers(1, 3),
       lead=st.lists(st.integers(1, 2), max_size=2))
def test_pixel_shuffle_unshuffle_round_trip_any_shape(r, c, h, w, lead):
    x = np.arange(int(np.prod(lead + [c * r * r, h, w])), dtype=np.float64).reshape(lead + [c * r * r, h, w])
    y = np.asarray(F.pixel_shuffle(fnp.asarray(x), r))
    assert y.shape == tuple(lead) + (c, h * r, w * r)
    ci, hi, wi = c - 1, h - 1, w - 1
    assert y[..., ci, hi * r + r - 1, wi * r].tolist() == x[..., ci * r * r + (r - 1) * r, hi, wi].tolist()
    np.testing.assert_array_equal(np.asarray(F.pixel_unshuffle(fnp.asarray(y), r)), x)


@given(n_in=st.integers(1, 9), n_out=st.integers(1, 12), align=st.booleans(),
       mode=st.sampled_from(["linear", "nearest", "nearest-exact"]))
def test_interpolate_1d_any_sizes(n_in, n_out, align, mode):
    x = _rand(1, 2, n_in)
    kw = dict(align_corners=align) if mode == "linear" else {}
    got = np.asarray(F.interpolate(fnp.asarray(x), size=n_out, mode=mode, **kw))
    if mode == "linear":
        want = _apply(x, [_ref_linear_matrix(n_in, n_out, align)])
    else:
        want = np.take(x, _ref_nearest(n_in, n_out, exact=mode == "nearest-exact"), axis=2)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


# ----- lp pooling and feature alpha dropout ----------------------------------------------------------------

@pytest.mark.parametrize("p", [1.0, 2.0, 3.5])
def test_lp_pool_is_the_p_norm_of_each_window(p):
    x = np.abs(_rand(2, 3, 6, 4)) + 0.1
    got = np.asarray(F.lp_pool2d(fnp.asarray(x), p, (3, 2)))
    win = x.reshape(2, 3, 2, 3, 2, 2)
    np.testing.assert_allclose(got, ((win ** p).sum(axis=(3, 5))) ** (1 / p), rtol=1e-12)
    got1 = np.asarray(F.lp_pool1d(fnp.asarray(x[:, :, :, 0]), p, 2, stride=1))
    pairs = np.stack([x[:, :, :-1, 0], x[:, :, 1:, 0]], -1)
    np.testing.assert_allclose(got1, ((pairs ** p).sum(-1)) ** (1 / p), rtol=1e-12)
    got3 = np.asarray(F.lp_pool3d(fnp.asarray(x[:, :, None]), p, (1, 2, 2)))
    np.testing.assert_allclose(got3[:, :, 0], ((x.reshape(2, 3, 3, 2, 2, 2) ** p).sum(axis=(3, 5))) ** (1 / p),
                               rtol=1e-12)
    check_grads(lambda x: F.lp_pool2d(x, p, 2), (fnp.asarray(x[:, :, :4]),))
    layer = fnx.nn.LPPool2d(p, 2, stride=1, ceil_mode=True)
    np.testing.assert_array_equal(np.asarray(layer(fnp.asarray(x))),
                                  np.asarray(F.lp_pool2d(fnp.asarray(x), p, 2, 1, True)))
    assert repr(layer) == f"LPPool2d(norm_type={p}, kernel_size=2, stride=1, ceil_mode=True)"


def test_feature_alpha_dropout_keeps_channels_whole_and_the_selu_statistics():
    key = fnx.random.key(2)
    x = fnp.asarray(_rand(64, 32, 8))
    y = np.asarray(F.feature_alpha_dropout(x, 0.3, training=True, key=key))
    p, alpha = 0.3, -1.0507009873554805 * 1.6732632423543772
    a = ((1 - p) * (1 + p * alpha ** 2)) ** -0.5
    kept = np.isclose(y, a * np.asarray(x) - a * alpha * p)
    dropped = np.isclose(y, a * alpha - a * alpha * p)
    assert np.all(kept | dropped)
    assert np.all(kept.all(-1) | dropped.all(-1))  # whole channels
    assert abs(dropped.all(-1).mean() - p) < 0.05
    # standard normal input keeps (about) mean 0 and variance 1
    assert abs(y.mean()) < 0.05 and abs(y.var() - 1) < 0.1
    np.testing.assert_array_equal(np.asarray(F.feature_alpha_dropout(x, 0.3)), np.asarray(x))  # not training
    layer = fnx.nn.FeatureAlphaDropout(0.3)
    np.testing.assert_array_equal(np.asarray(layer(x, key=key)), y)
    with pytest.raises(ShapeError, match="at least 2 dimensions"):
        F.feature_alpha_dropout(fnp.ones(3), 0.5, training=True)


def test_lp_pool_against_torch():
    torch = pytest.importorskip("torch")
    x = np.abs(_rand(2, 3, 7, 5, dtype=np.float32))
    for p, k, s, ceil in [(2, 2, None, False), (3.0, (3, 2), 2, True), (1.5, 3, 1, False)]:
        want = torch.nn.functional.lp_pool2d(torch.tensor(x), p, k, s, ceil).numpy()
        np.testing.assert_allclose(np.asarray(F.lp_pool2d(fnp.asarray(x), p, k, s, ceil)), want, rtol=1e-5)
    want = torch.nn.functional.lp_pool1d(torch.tensor(x[..., 0]), 2, 3, 2, True).numpy()
    np.testing.assert_allclose(np.asarray(F.lp_pool1d(fnp.asarray(x[..., 0]), 2, 3, 2, True)), want, rtol=1e-5)
    assert repr(fnx.nn.LPPool1d(2, 3)) == repr(torch.nn.LPPool1d(2, 3))
    assert repr(fnx.nn.FeatureAlphaDropout(0.2)) == repr(torch.nn.FeatureAlphaDropout(0.2))


# ----- max unpooling -------------------------------------------------------------------------------------

def test_max_unpool_puts_each_maximum_back_in_place():
    x = _rand(2, 3, 4, 6)
    y, idx = F.max_pool2d(fnp.asarray(x), 2, return_indices=True)
    up = np.asarray(F.max_unpool2d(y, idx, 2))
    # every window keeps exactly its maximum, at the maximum's position
    win = x.reshape(2, 3, 2, 2, 3, 2).transpose(0, 1, 2, 4, 3, 5)
    upw = up.reshape(2, 3, 2, 2, 3, 2).transpose(0, 1, 2, 4, 3, 5)
    is_max = win == win.max(axis=(-2, -1), keepdims=True)
    np.testing.assert_array_equal(upw, np.where(is_max, win, 0.0))
    # larger output (within one stride of the default), unbatched input, and the with_indices aliases
    y1, i1 = F.max_pool1d_with_indices(fnp.asarray(x[0, :, 0]), 2)
    up1 = np.asarray(F.max_unpool1d(y1, i1, 2, output_size=[7]))
    assert up1.shape == (3, 7) and np.all(up1[:, 6] == 0)
    np.testing.assert_array_equal(np.take_along_axis(up1, np.asarray(i1), axis=1), np.asarray(y1))
    assert np.count_nonzero(up1) == np.asarray(y1).size
    y3, i3 = F.max_pool3d_with_indices(fnp.asarray(x[:, :, None]), (1, 2, 2))
    np.testing.assert_array_equal(np.asarray(F.max_unpool3d(y3, i3, (1, 2, 2)))[:, :, 0], up)
    ya, ia = F.adaptive_max_pool2d_with_indices(fnp.asarray(x), (2, 3))
    np.testing.assert_array_equal(np.asarray(ya), np.asarray(y))
    layer = fnx.nn.MaxUnpool2d(2)
    np.testing.assert_array_equal(np.asarray(layer(y, idx)), up)
    assert repr(layer) == "MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))"
    check_grads(lambda v: F.max_unpool2d(v, idx, 2), (y,))
    with pytest.raises(ValueError, match="invalid output_size"):
        F.max_unpool2d(y, idx, 2, output_size=(8, 12))
    with pytest.raises(IndexError, match="invalid max index"):
        F.max_unpool1d(fnp.ones((1, 1, 2)), fnp.asarray(np.array([[[0, 9]]])), 2)
    with pytest.raises(ShapeError, match="indices of the same shape"):
        F.max_unpool1d(fnp.ones((1, 1, 2)), fnp.asarray(np.array([[0, 1]])), 2)


def test_max_unpool_against_torch():
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    x = _rand(2, 3, 5, 7, dtype=np.float32)
    ty, ti = TF.max_pool2d(torch.tensor(x), 3, stride=2, padding=1, return_indices=True)
    fy, fi = F.max_pool2d(fnp.asarray(x), 3, stride=2, padding=1, return_indices=True)
    np.testing.assert_array_equal(np.asarray(fi), ti.numpy())
    for out in (None, (5, 7), (2, 3, 6, 6)):
        want = TF.max_unpool2d(ty, ti, 3, 2, 1, output_size=out).numpy()
        np.testing.assert_array_equal(np.asarray(F.max_unpool2d(fy, fi, 3, 2, 1, output_size=out)), want)
    assert repr(fnx.nn.MaxUnpool1d(3, stride=2, padding=1)) == repr(torch.nn.MaxUnpool1d(3, stride=2, padding=1))


# ----- embedding_bag -----------------------------------------------------------------------------------

def _ref_bag(idx, w, bounds, mode, psw=None, padding_idx=None):
    out = np.zeros((len(bounds), w.shape[1]))
    for b, (s, e) in enumerate(bounds):
        take = [k for k in range(s, e) if idx[k] != padding_idx]
        if not take:
            continue
        rows = w[idx[take]] * (psw[take][:, None] if psw is not None else 1.0)
        out[b] = rows.sum(0) if mode == "sum" else rows.mean(0) if mode == "mean" else rows.max(0)
    return out


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_bag_with_offsets(mode, padding_idx):
    w = _rand(6, 3)
    idx = np.array([1, 2, 4, 5, 4, 3, 2, 0, 2])
    offsets = np.array([0, 2, 2, 7])  # the second bag is empty
    bounds = [(0, 2), (2, 2), (2, 7), (7, 9)]
    got = F.embedding_bag(fnp.asarray(idx), fnp.asarray(w), fnp.asarray(offsets), mode=mode, padding_idx=padding_idx)
    np.testing.assert_allclose(np.asarray(got), _ref_bag(idx, w, bounds, mode, padding_idx=padding_idx), rtol=1e-12)
    last = F.embedding_bag(fnp.asarray(idx), fnp.asarray(w), fnp.asarray(np.array([0, 2, 2, 7, 9])), mode=mode,
                           include_last_offset=True, padding_idx=padding_idx)
    np.testing.assert_array_equal(np.asarray(last), np.asarray(got))
    check_grads(lambda w: F.embedding_bag(fnp.asarray(idx), w, fnp.asarray(offsets), mode=mode,
                                          padding_idx=padding_idx), (fnp.asarray(w),))


def test_embedding_bag_2d_input_and_per_sample_weights():
    w = _rand(5, 4)
    idx = np.array([[0, 1, 4], [2, 2, 3]])
    psw = _rand(2, 3, seed=7)
    got = F.embedding_bag(fnp.asarray(idx), fnp.asarray(w), mode="sum", per_sample_weights=fnp.asarray(psw))
    want = _ref_bag(idx.ravel(), w, [(0, 3), (3, 6)], "sum", psw=psw.ravel())
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12)
    check_grads(lambda w, p: F.embedding_bag(fnp.asarray(idx), w, mode="sum", per_sample_weights=p),
                (fnp.asarray(w), fnp.asarray(psw)))
    with pytest.raises(ValueError, match="offsets has to be None"):
        F.embedding_bag(fnp.asarray(idx), fnp.asarray(w), fnp.asarray(np.array([0])))
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(fnp.asarray(idx.ravel()), fnp.asarray(w))
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        F.embedding_bag(fnp.asarray(idx), fnp.asarray(w), per_sample_weights=fnp.asarray(psw))
    with pytest.raises(ValueError, match="offsets\\[0\\] has to be 0"):
        F.embedding_bag(fnp.asarray(idx.ravel()), fnp.asarray(w), fnp.asarray(np.array([1, 3])))
    with pytest.raises(ValueError, match="mode has to be one of"):
        F.embedding_bag(fnp.asarray(idx), fnp.asarray(w), mode="min")


def test_embedding_bag_layer():
    fnx.manual_seed(0)
    bag = fnx.nn.EmbeddingBag(7, 3, mode="max", padding_idx=1)
    assert [(k, v.shape) for k, v in bag.state_dict().items()] == [("weight", (7, 3))]
    np.testing.assert_array_equal(np.asarray(bag.weight)[1], np.zeros(3))
    idx, off = fnp.asarray(np.array([0, 1, 5, 6])), fnp.asarray(np.array([0, 3]))
    np.testing.assert_array_equal(np.asarray(bag(idx, off)),
                                  np.asarray(F.embedding_bag(idx, bag.weight, off, mode="max", padding_idx=1)))
    assert repr(bag) == "EmbeddingBag(7, 3, mode='max', padding_idx=1)"
    pre = fnx.nn.EmbeddingBag.from_pretrained(fnp.eye(3), mode="sum")
    np.testing.assert_array_equal(np.asarray(pre(fnp.asarray(np.array([[0, 2]])))), [[1.0, 0.0, 1.0]])
    assert not pre.weight.requires_grad


def test_embedding_bag_scale_grad_by_freq_divides_each_rows_gradient_by_its_count():
    # PyTorch documents the division by each index's frequency in the mini-batch; its CPU embedding_bag
    # backward (2.13) divides some rows by another index's count (pytorch/pytorch#190063), so this is checked
    # against the documented rule rather than against torch
    idx, off = np.array([1, 3, 2, 2, 3, 3, 0]), np.array([0, 4])
    w = fnp.asarray(_rand(4, 2))
    g = fnx.grad(lambda w: fnp.sum(F.embedding_bag(fnp.asarray(idx), w, fnp.asarray(off), mode="sum",
                                                   scale_grad_by_freq=True)))(w)
    np.testing.assert_allclose(np.asarray(g)[:, 0], [1.0, 1.0, 1.0, 1.0], rtol=1e-12)
    g = fnx.grad(lambda w: fnp.sum(F.embedding_bag(fnp.asarray(idx), w, fnp.asarray(off), mode="mean",
                                                   scale_grad_by_freq=True)))(w)
    # bag 0 = [1, 3, 2, 2] (mean: 1/4 each), bag 1 = [3, 3, 0] (1/3 each); counts 1: 1, 3: 3, 2: 2, 0: 1
    np.testing.assert_allclose(np.asarray(g)[:, 0], [1 / 3, 1 / 4, 2 / 4 / 2, (1 / 4 + 2 / 3) / 3], rtol=1e-12)


@pytest.mark.parametrize("kw", [dict(mode="sum"), dict(mode="mean", padding_idx=3), dict(mode="max"),
                                dict(mode="sum", per_sample_weights=True), dict(mode="max", padding_idx=4),
                                dict(mode="mean", include_last_offset=True)], ids=str)
def test_embedding_bag_against_torch(kw):
    torch = pytest.importorskip("torch")
    kw = dict(kw)
    w = _rand(8, 3)
    idx = np.array([1, 3, 4, 4, 7, 3, 0, 2, 2, 5])
    offsets = np.array([0, 3, 3, 6, 10]) if kw.get("include_last_offset") else np.array([0, 3, 3, 6])
    psw = _rand(10, seed=3) if kw.pop("per_sample_weights", False) else None
    tw = torch.tensor(w, requires_grad=True)
    ty = torch.nn.functional.embedding_bag(torch.tensor(idx), tw, torch.tensor(offsets),
                                           per_sample_weights=None if psw is None else torch.tensor(psw), **kw)
    fy = F.embedding_bag(fnp.asarray(idx), fnp.asarray(w), fnp.asarray(offsets),
                         per_sample_weights=None if psw is None else fnp.asarray(psw), **kw)
    np.testing.assert_allclose(np.asarray(fy), ty.detach().numpy(), rtol=1e-12, atol=1e-14)
    g = _rand(*ty.shape, seed=4)
    (ty * torch.tensor(g)).sum().backward()
    fg = fnx.grad(lambda w: fnp.sum(F.embedding_bag(fnp.asarray(idx), w, fnp.asarray(offsets),
                                                    per_sample_weights=None if psw is None else fnp.asarray(psw),
                                                    **kw) * fnp.asarray(g)))(fnp.asarray(w))
    np.testing.assert_allclose(np.asarray(fg), tw.grad.numpy(), rtol=1e-12, atol=1e-14)


# ----- CTC loss ------------------------------------------------------------------------------------------

def _ref_ctc(probs, target, blank=0):
    """-log of the total probability of every path that collapses to ``target`` (brute force over C^T)."""
    import itertools
    t_len, c = probs.shape
    total = 0.0
    for path in itertools.product(range(c), repeat=t_len):
        collapsed = [k for i, k in enumerate(path) if (i == 0 or k != path[i - 1]) and k != blank]
        if collapsed == list(target):
            total += np.prod([probs[i, k] for i, k in enumerate(path)])
    return -np.log(total) if total > 0 else np.inf


@pytest.mark.parametrize("blank", [0, 2])
def test_ctc_loss_against_brute_force(blank):
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((5, 4, 3))
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    labels = [k for k in range(3) if k != blank]
    targets = [[labels[0], labels[1]], [labels[0], labels[0]], [], [labels[1], labels[0], labels[1]]]
    in_len = [5, 4, 3, 5]
    tg_len = [len(t) for t in targets]
    padded = np.array([t + [labels[0]] * (3 - len(t)) for t in targets])
    want = np.array([_ref_ctc(probs[:in_len[i], i], targets[i], blank) for i in range(4)])
    lp = fnp.asarray(np.log(probs))
    got = F.ctc_loss(lp, fnp.asarray(padded), in_len, tg_len, blank=blank, reduction="none")
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-10)
    flat = np.array(sum(targets, []))
    got_flat = F.ctc_loss(lp, fnp.asarray(flat), np.array(in_len), fnp.asarray(np.array(tg_len)), blank=blank,
                          reduction="none")
    np.testing.assert_allclose(np.asarray(got_flat), want, rtol=1e-10)
    mean = F.ctc_loss(lp, fnp.asarray(padded), in_len, tg_len, blank=blank)
    np.testing.assert_allclose(float(mean), np.mean(want / np.maximum(tg_len, 1)), rtol=1e-10)
    one = F.ctc_loss(lp[:, 0], fnp.asarray(np.array(targets[0])), 5, 2, blank=blank, reduction="none")
    assert one.shape == () and float(one) == pytest.approx(want[0], rel=1e-10)
    check_grads(lambda x: F.ctc_loss(F.log_softmax(x, 2), fnp.asarray(padded), in_len, tg_len, blank=blank),
                (fnp.asarray(logits),))


def test_ctc_loss_impossible_alignments_and_checks():
    lp = fnp.asarray(np.log(np.full((2, 2, 3), 1 / 3)))
    # "aa" needs a blank between the two a's: three steps at least
    loss = F.ctc_loss(lp, fnp.asarray(np.array([[1, 1], [1, 2]])), [2, 2], [2, 2], reduction="none")
    assert np.isinf(np.asarray(loss)[0]) and np.isfinite(np.asarray(loss)[1])
    zero = F.ctc_loss(lp, fnp.asarray(np.array([[1, 1], [1, 2]])), [2, 2], [2, 2], reduction="none",
                      zero_infinity=True)
    assert float(zero[0]) == 0.0
    g = fnx.grad(lambda x: fnp.sum(F.ctc_loss(x, fnp.asarray(np.array([[1, 1], [1, 2]])), [2, 2], [2, 2],
                                              zero_infinity=True)))(lp)
    assert np.all(np.asarray(g)[:, 0] == 0) and np.all(np.isfinite(np.asarray(g)))
    empty = F.ctc_loss(lp, fnp.asarray(np.array([[1], [1]])), [0, 2], [0, 0], reduction="none")
    np.testing.assert_allclose(np.asarray(empty), [0.0, -2 * np.log(1 / 3)], rtol=1e-12)
    with pytest.raises(ValueError, match="differ from blank"):
        F.ctc_loss(lp, fnp.asarray(np.array([[0], [1]])), [2, 2], [1, 1])
    with pytest.raises(ValueError, match="input_lengths must lie"):
        F.ctc_loss(lp, fnp.asarray(np.array([[1], [1]])), [3, 2], [1, 1])
    with pytest.raises(ShapeError, match="one length per batch entry"):
        F.ctc_loss(lp, fnp.asarray(np.array([[1], [1]])), [2], [1, 1])
    layer = fnx.nn.CTCLoss(blank=0, reduction="sum")
    np.testing.assert_array_equal(np.asarray(layer(lp, fnp.asarray(np.array([[1], [2]])), [2, 2], [1, 1])),
                                  np.asarray(F.ctc_loss(lp, fnp.asarray(np.array([[1], [2]])), [2, 2], [1, 1],
                                                        reduction="sum")))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("flat", [False, True])
def test_ctc_loss_against_torch(reduction, flat):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    T, N, C = 10, 4, 5
    logits = rng.standard_normal((T, N, C))
    in_len, tg_len = np.array([10, 7, 9, 2]), np.array([4, 0, 3, 3])  # the last is impossible
    tg = rng.integers(1, C, (N, 4))
    tg[2, :3] = 3  # repeated labels
    targets = np.concatenate([tg[i, :tg_len[i]] for i in range(N)]) if flat else tg
    for zero_infinity in (False, True):
        tl = torch.tensor(logits, requires_grad=True)
        tloss = torch.nn.functional.ctc_loss(tl.log_softmax(2), torch.tensor(targets), torch.tensor(in_len),
                                             torch.tensor(tg_len), reduction=reduction, zero_infinity=zero_infinity)
        loss = lambda x: F.ctc_loss(F.log_softmax(x, 2), fnp.asarray(targets), in_len, tg_len,  # noqa: E731
                                    reduction=reduction, zero_infinity=zero_infinity)
        np.testing.assert_allclose(np.asarray(loss(fnp.asarray(logits))), tloss.detach().numpy(), rtol=1e-10)
        if zero_infinity:  # torch's gradient of an infinite loss is NaN; with zero_infinity both are finite
            w = rng.standard_normal(tloss.shape)
            (tloss * torch.tensor(w)).sum().backward()
            g = fnx.grad(lambda x: fnp.sum(loss(x) * fnp.asarray(w)))(fnp.asarray(logits))
            np.testing.assert_allclose(np.asarray(g), tl.grad.numpy(), rtol=1e-8, atol=1e-12)
    assert repr(fnx.nn.CTCLoss()) == repr(torch.nn.CTCLoss())


def test_interpolate_nearest_keeps_integer_images_and_other_modes_need_floats():
    from fnx.errors import DTypeError
    x = fnp.asarray(np.array([[[[1, 2], [3, 4]]]], dtype=np.uint8))
    y = F.interpolate(x, scale_factor=2)
    assert y.dtype == np.uint8
    np.testing.assert_array_equal(np.asarray(y), np.repeat(np.repeat(np.asarray(x), 2, 2), 2, 3))
    with pytest.raises(DTypeError, match="needs a floating input"):
        F.interpolate(x, scale_factor=2, mode="bilinear")


# ----- multi_head_attention_forward ------------------------------------------------------------------

def _mha_args(seed, e=6, kdim=None, bias_kv=False):
    rng = np.random.default_rng(seed)
    args = dict(in_proj_weight=rng.standard_normal((3 * e, e)) * 0.3, in_proj_bias=rng.standard_normal(3 * e) * 0.1,
                bias_k=rng.standard_normal((1, 1, e)) if bias_kv else None,
                bias_v=rng.standard_normal((1, 1, e)) if bias_kv else None,
                out_proj_weight=rng.standard_normal((e, e)) * 0.3, out_proj_bias=rng.standard_normal(e) * 0.1)
    if kdim is not None:
        args.update(use_separate_proj_weight=True, q_proj_weight=rng.standard_normal((e, e)) * 0.3,
                    k_proj_weight=rng.standard_normal((e, kdim)) * 0.3,
                    v_proj_weight=rng.standard_normal((e, kdim)) * 0.3, in_proj_weight=None)
    return args


def test_multi_head_attention_forward_equals_the_module():
    args = _mha_args(0, bias_kv=True)
    mha = fnx.nn.MultiheadAttention(6, 2, add_bias_kv=True, add_zero_attn=True).double()
    mha.load_state_dict({"in_proj_weight": args["in_proj_weight"], "in_proj_bias": args["in_proj_bias"],
                         "bias_k": args["bias_k"], "bias_v": args["bias_v"],
                         "out_proj.weight": args["out_proj_weight"], "out_proj.bias": args["out_proj_bias"]})
    q, kv = fnp.asarray(_rand(4, 3, 6)), fnp.asarray(_rand(5, 3, 6, seed=1))
    pad = fnp.asarray(np.array([[False] * 5, [False] * 4 + [True], [True] + [False] * 4]))
    want = mha(q, kv, kv, key_padding_mask=pad, average_attn_weights=False)
    got = F.multi_head_attention_forward(q, kv, kv, 6, 2, *[fnp.asarray(args[k]) for k in (
        "in_proj_weight", "in_proj_bias", "bias_k", "bias_v")], True, 0.0,
        fnp.asarray(args["out_proj_weight"]), fnp.asarray(args["out_proj_bias"]), key_padding_mask=pad,
        average_attn_weights=False)
    for a, b in zip(got, want):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12)
    with pytest.raises(ShapeError, match="embedding dimension of 8"):
        F.multi_head_attention_forward(q, kv, kv, 8, 2, None, None, None, None, False, 0.0, fnp.eye(6), None)
    with pytest.raises(NotImplementedError, match="static_k"):
        F.multi_head_attention_forward(q, kv, kv, 6, 2, fnp.ones((18, 6)), None, None, None, False, 0.0,
                                       fnp.eye(6), None, static_k=fnp.ones((6, 5, 3)))


@pytest.mark.parametrize("case", ["plain", "bias_kv_zero_attn", "separate", "unbatched"])
def test_multi_head_attention_forward_against_torch(case):
    torch = pytest.importorskip("torch")
    kdim = 4 if case == "separate" else None
    args = _mha_args(2, kdim=kdim, bias_kv=case == "bias_kv_zero_attn")
    shape_q, shape_kv = ((5, 6), (7, kdim or 6)) if case == "unbatched" else ((5, 2, 6), (7, 2, kdim or 6))
    q, kv = _rand(*shape_q, seed=3), _rand(*shape_kv, seed=4)
    mask = np.triu(np.full((5, 7), -np.inf), 3)
    kw = dict(add_zero_attn=case == "bias_kv_zero_attn", dropout_p=0.0, attn_mask=mask,
              average_attn_weights=case != "plain")
    t = {k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in {**args, **kw}.items()}
    want = torch.nn.functional.multi_head_attention_forward(torch.tensor(q), torch.tensor(kv), torch.tensor(kv), 6,
                                                            3, **t)
    f = {k: (fnp.asarray(v) if isinstance(v, np.ndarray) else v) for k, v in {**args, **kw}.items()}
    got = F.multi_head_attention_forward(fnp.asarray(q), fnp.asarray(kv), fnp.asarray(kv), 6, 3, **f)
    for a, b in zip(got, want):
        np.testing.assert_allclose(np.asarray(a), b.numpy(), rtol=1e-10, atol=1e-12)


def test_multi_head_attention_forward_dropout_follows_key_rng_and_training():
    args = {k: (fnp.asarray(v) if isinstance(v, np.ndarray) else v) for k, v in _mha_args(5).items()}
    x = fnp.asarray(_rand(4, 2, 6))

    def run(key, training=True):
        return np.asarray(F.multi_head_attention_forward(x, x, x, 6, 2, dropout_p=0.5, training=training,
                                                         add_zero_attn=False, key_rng=key, **args)[0])
    k1, k2 = fnx.random.key(1), fnx.random.key(2)
    np.testing.assert_array_equal(run(k1), run(k1))
    assert not np.allclose(run(k1), run(k2))
    np.testing.assert_array_equal(run(k1, training=False), run(k2, training=False))


def test_interpolate_maps_or_copies_an_axis_a_scale_leaves_unchanged_as_pytorch():
    """The nearest modes map it through the scale (PyTorch's forward; its backward copies the gradient there
    instead, which is not the derivative of its forward: fnx differentiates what it computes)."""
    x = fnp.asarray([[[0.0, 10.0, 20.0]]])
    expected = {"nearest": [0.0, 0.0, 10.0], "nearest-exact": [0.0, 10.0, 10.0], "linear": [0.0, 10.0, 20.0]}
    for mode, want in expected.items():  # PyTorch 2.14's values
        np.testing.assert_allclose(np.asarray(F.interpolate(x, scale_factor=1.3, mode=mode))[0, 0], want)
    g = fnx.grad(lambda v: fnp.sum(F.interpolate(v, scale_factor=1.3, mode="nearest") * fnp.asarray([1.0, 2.0, 4.0])))
    np.testing.assert_allclose(np.asarray(g(x))[0, 0], [3.0, 4.0, 0.0])  # index 0 is read twice, index 2 never


@pytest.mark.parametrize("padding_mode", ["border", "reflection"])
def test_grid_sample_counts_the_edges_as_outside_for_the_grid_gradient(padding_mode):
    """PyTorch's clip_coordinates_set_grad: a point exactly on the edge (an identity grid's corners) gets no
    gradient through the clipping, as one beyond it does not."""
    x = fnp.arange(6.0).reshape(1, 1, 2, 3)
    grid = fnp.asarray([[[[1.0, 0.0], [-1.0, 0.0]]]])
    g = fnx.grad(lambda v: fnp.sum(F.grid_sample(x, v, padding_mode=padding_mode, align_corners=True)))(grid)
    np.testing.assert_allclose(np.asarray(g).ravel(), [0.0, 1.5, 0.0, 1.5])  # PyTorch 2.14's values
    torch = pytest.importorskip("torch")
    tg = torch.tensor(np.asarray(grid), requires_grad=True)
    torch.nn.functional.grid_sample(torch.tensor(np.asarray(x)), tg, padding_mode=padding_mode,
                                    align_corners=True).sum().backward()
    np.testing.assert_allclose(np.asarray(g), tg.grad.numpy())


def test_max_unpool_passes_the_gradient_to_every_window_that_picked_a_maximum():
    """PyTorch's backward gathers the output's gradient at each index: overlapping windows that chose the
    same element each get it (the 5 below is the maximum of two windows)."""
    x = fnp.asarray([[[0.0, 5.0, 1.0, 0.0, 2.0]]])

    def unpooled(v):
        pooled, idx = F.max_pool1d(v, 3, stride=1, return_indices=True)
        return F.max_unpool1d(pooled, idx, 3, stride=1)
    np.testing.assert_allclose(np.asarray(unpooled(x)).ravel(), [0.0, 5.0, 0.0, 0.0, 2.0])
    np.testing.assert_allclose(np.asarray(fnx.grad(lambda v: fnp.sum(unpooled(v)))(x)).ravel(), [0, 2, 0, 0, 1])


def test_half_precision_norms_and_softmax_round_once_from_float32():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((8, 64)) * 3).astype(np.float16)
    w, b = rng.standard_normal(64).astype(np.float16), rng.standard_normal(64).astype(np.float16)
    wide = [fnp.asarray(a.astype(np.float32)) for a in (x, w, b)]
    got = F.layer_norm(fnp.asarray(x), (64,), fnp.asarray(w), fnp.asarray(b))
    assert got.dtype == np.float16
    np.testing.assert_array_equal(np.asarray(got), np.asarray(F.layer_norm(wide[0], (64,), wide[1], wide[2]))
                                  .astype(np.float16))
    for fn in (F.softmax, F.log_softmax):
        np.testing.assert_array_equal(np.asarray(fn(fnp.asarray(x), 1)), np.asarray(fn(wide[0], 1)).astype(np.float16))
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(np.asarray(got), torch.nn.functional.layer_norm(
        torch.tensor(x), (64,), torch.tensor(w), torch.tensor(b)).numpy())
    np.testing.assert_array_equal(np.asarray(F.softmax(fnp.asarray(x), 1)),
                                  torch.nn.functional.softmax(torch.tensor(x), 1).numpy())


@pytest.mark.parametrize("name,args,want", [
    ("threshold", (0, 0.5), [0, 0, 0, 0, 1, 2, 3]), ("hardtanh", (), [-1, -1, -1, 0, 1, 1, 1]),
    ("relu6", (), [0, 0, 0, 0, 1, 2, 3]), ("hardtanh", (-2.5, 1.7), [-2, -2, -1, 0, 1, 1, 1])])
def test_clamping_activations_keep_integer_arrays_integer(name, args, want):
    got = getattr(F, name)(fnp.arange(-3, 4), *args)  # PyTorch 2.14's values: the bounds cast to int64
    assert got.dtype == np.int64 and np.asarray(got).tolist() == want
