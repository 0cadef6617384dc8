"""The newer fnx.nn layers: padding, resampling, instance and local response norm, distances, Fold/Unfold,
Softmax2d, ParameterList/ParameterDict, the margin losses and the Transformer decoder.

Values are checked against numpy formulas of PyTorch's documented behaviour, parameter and buffer names
against PyTorch's (hard-coded here, so ``state_dict``s are interchangeable), and, when torch is installed,
outputs against torch's own layers with the same weights.
"""
import math
from collections import OrderedDict

import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx import nn
from fnx.errors import ShapeError
from fnx.nn import functional as F
from fnx.testing import check_grads
from .torch_reference import import_torch


def _rand(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ----- padding ------------------------------------------------------------------------------------------

PAD_CASES = [
    (nn.ZeroPad1d, 2, "constant", 1), (nn.ZeroPad2d, (1, 0, 2, 1), "constant", 2), (nn.ZeroPad3d, 1, "constant", 3),
    (nn.ReflectionPad1d, (2, 1), "reflect", 1), (nn.ReflectionPad2d, 1, "reflect", 2),
    (nn.ReflectionPad3d, (1, 0, 0, 1, 1, 1), "reflect", 3), (nn.ReplicationPad1d, 3, "edge", 1),
    (nn.ReplicationPad2d, (0, 2, 1, 0), "edge", 2), (nn.ReplicationPad3d, 2, "edge", 3),
    (nn.CircularPad1d, (1, 2), "wrap", 1), (nn.CircularPad2d, 1, "wrap", 2), (nn.CircularPad3d, (0, 1, 1, 0, 2, 1),
                                                                            "wrap", 3),
]


@pytest.mark.parametrize("cls,padding,np_mode,n", PAD_CASES, ids=[c[0].__name__ for c in PAD_CASES])
@pytest.mark.parametrize("batched", [True, False])
def test_padding_layers_match_numpy_pad(cls, padding, np_mode, n, batched):
    shape = (2, 3) + (4,) * n if batched else (3,) + (4,) * n
    x = _rand(*shape)
    widths = (padding,) * (2 * n) if isinstance(padding, int) else padding
    pairs = [(0, 0)] * (x.ndim - n) + [(widths[2 * i], widths[2 * i + 1]) for i in reversed(range(n))]
    got = np.asarray(cls(padding)(fnp.asarray(x)))
    np.testing.assert_array_equal(got, np.pad(x, pairs, mode=np_mode))


def test_constant_pad_value_cropping_and_reprs():
    x = _rand(1, 2, 3)
    got = np.asarray(nn.ConstantPad1d((2, -1), 3.5)(fnp.asarray(x)))
    np.testing.assert_array_equal(got, np.concatenate([np.full((1, 2, 2), 3.5, np.float32), x[..., :2]], -1))
    assert np.asarray(nn.ConstantPad3d(1, -1.0)(fnp.ones((1, 1, 1)))).sum() == 1 - 26
    assert repr(nn.ZeroPad2d(1)) == "ZeroPad2d((1, 1, 1, 1))"
    assert repr(nn.ConstantPad1d((1, 2), 3.5)) == "ConstantPad1d(padding=(1, 2), value=3.5)"
    assert repr(nn.ReflectionPad2d((1, 0, 2, 1))) == "ReflectionPad2d((1, 0, 2, 1))"
    assert repr(nn.ReplicationPad3d(1)) == "ReplicationPad3d((1, 1, 1, 1, 1, 1))"
    assert repr(nn.CircularPad1d(2)) == "CircularPad1d((2, 2))"
    assert nn.ConstantPad2d(2, 0.0).padding == (2, 2, 2, 2)


def test_padding_checks():
    with pytest.raises(ShapeError, match="ReflectionPad1d"):
        nn.ReflectionPad1d(1)(fnp.ones((2, 3, 4, 5)))
    with pytest.raises(ShapeError, match="ReplicationPad2d"):
        nn.ReplicationPad2d(1)(fnp.ones(5))
    with pytest.raises(ValueError, match="reflect padding"):
        nn.ReflectionPad1d(4)(fnp.ones((1, 1, 4)))
    with pytest.raises(TypeError, match="padding must be an int"):
        nn.ZeroPad2d(1.5)
    check_grads(lambda x: nn.ReflectionPad2d((1, 2, 0, 1))(x), (fnp.asarray(_rand(1, 2, 3, 4, dtype=np.float64)),))


# ----- resampling and rearranging layers --------------------------------------------------------------------

def test_upsample_layers_call_interpolate():
    x = fnp.asarray(_rand(1, 2, 3, 4))
    cases = [(nn.Upsample(scale_factor=2), dict(scale_factor=2.0)),
             (nn.Upsample(size=(5, 7), mode="bilinear"), dict(size=(5, 7), mode="bilinear")),
             (nn.Upsample(scale_factor=(1.5, 2), mode="bicubic", align_corners=True),
              dict(scale_factor=(1.5, 2.0), mode="bicubic", align_corners=True)),
             (nn.UpsamplingNearest2d(size=6), dict(size=6)),
             (nn.UpsamplingBilinear2d(scale_factor=2), dict(scale_factor=2.0, mode="bilinear", align_corners=True))]
    for layer, kw in cases:
        np.testing.assert_array_equal(np.asarray(layer(x)), np.asarray(F.interpolate(x, **kw)))
    assert repr(nn.Upsample(scale_factor=2)) == "Upsample(scale_factor=2.0, mode='nearest')"
    assert repr(nn.Upsample(size=(3, 4), mode="bilinear")) == "Upsample(size=(3, 4), mode='bilinear')"
    assert repr(nn.UpsamplingBilinear2d(scale_factor=2)) == "UpsamplingBilinear2d(scale_factor=2.0, mode='bilinear')"
    assert nn.Upsample(scale_factor=(2, 3)).scale_factor == (2.0, 3.0)


def test_pixel_and_channel_shuffle_layers():
    x = fnp.asarray(_rand(2, 8, 3, 3))
    y = nn.PixelShuffle(2)(x)
    assert y.shape == (2, 2, 6, 6)
    np.testing.assert_array_equal(np.asarray(nn.PixelUnshuffle(2)(y)), np.asarray(x))
    np.testing.assert_array_equal(np.asarray(nn.ChannelShuffle(4)(x)), np.asarray(F.channel_shuffle(x, 4)))
    assert repr(nn.PixelShuffle(2)) == "PixelShuffle(upscale_factor=2)"
    assert repr(nn.PixelUnshuffle(3)) == "PixelUnshuffle(downscale_factor=3)"
    assert repr(nn.ChannelShuffle(2)) == "ChannelShuffle(groups=2)"


# ----- instance norm and local response norm ------------------------------------------------------------

def _ref_instance(x, eps=1e-5):
    axes = tuple(range(2, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps)


@pytest.mark.parametrize("cls,shape", [(nn.InstanceNorm1d, (3, 4, 5)), (nn.InstanceNorm2d, (2, 4, 3, 3)),
                                       (nn.InstanceNorm3d, (2, 4, 2, 3, 2))])
def test_instance_norm_normalises_each_channel_of_each_example(cls, shape):
    x = _rand(*shape, dtype=np.float64)
    layer = cls(4)
    assert list(layer.state_dict()) == [] and list(layer.parameters()) == []
    np.testing.assert_allclose(np.asarray(layer(fnp.asarray(x))), _ref_instance(x), rtol=1e-10)
    # unbatched input
    np.testing.assert_allclose(np.asarray(layer(fnp.asarray(x[0]))), _ref_instance(x[:1])[0], rtol=1e-10)
    affine = cls(4, affine=True)
    affine.weight.set_(fnp.asarray(np.arange(1.0, 5.0)))
    affine.bias.set_(fnp.asarray(np.full(4, 0.5)))
    view = (1, 4) + (1,) * (len(shape) - 2)
    want = _ref_instance(x) * np.arange(1.0, 5.0).reshape(view) + 0.5
    np.testing.assert_allclose(np.asarray(affine(fnp.asarray(x))), want, rtol=1e-6)
    check_grads(lambda x: cls(4)(x), (fnp.asarray(x),))


def test_instance_norm_running_stats_and_state_dict():
    layer = nn.InstanceNorm1d(3, affine=True, track_running_stats=True, momentum=0.2)
    assert [(k, tuple(v.shape)) for k, v in layer.state_dict().items()] == [
        ("weight", (3,)), ("bias", (3,)), ("running_mean", (3,)), ("running_var", (3,)), ("num_batches_tracked", ())]
    assert repr(layer) == ("InstanceNorm1d(3, eps=1e-05, momentum=0.2, affine=True, bias=True, "
                           "track_running_stats=True)")
    x = _rand(4, 3, 6, dtype=np.float32)
    layer(fnp.asarray(x))
    mean_n = x.mean(axis=2).mean(axis=0)
    var_n = x.var(axis=2, ddof=1).mean(axis=0)
    np.testing.assert_allclose(np.asarray(layer.running_mean), 0.2 * mean_n, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(layer.running_var), 0.8 + 0.2 * var_n, rtol=1e-5)
    assert int(layer.num_batches_tracked) == 0  # PyTorch's InstanceNorm counts no batches
    layer.eval()
    rm, rv = np.asarray(layer.running_mean), np.asarray(layer.running_var)
    np.testing.assert_allclose(np.asarray(layer(fnp.asarray(x))),
                               (x - rm[:, None]) / np.sqrt(rv[:, None] + 1e-5), rtol=1e-5, atol=1e-6)
    # without tracked statistics, eval mode still normalises with the input's own
    plain = nn.InstanceNorm1d(3).eval()
    np.testing.assert_allclose(np.asarray(plain(fnp.asarray(x))), _ref_instance(x), rtol=1e-4, atol=1e-5)
    frozen = nn.InstanceNorm1d(3, track_running_stats=True, momentum=None)  # PyTorch passes momentum 0 then
    frozen(fnp.asarray(x))
    np.testing.assert_array_equal(np.asarray(frozen.running_mean), np.zeros(3))
    np.testing.assert_array_equal(np.asarray(frozen.running_var), np.ones(3))


def test_instance_norm_checks():
    with pytest.raises(ValueError, match="expected 3D"):
        nn.InstanceNorm2d(3)(fnp.ones((2, 3)))
    with pytest.raises(ValueError, match="match num_features"):
        nn.InstanceNorm1d(3, affine=True)(fnp.ones((2, 4, 5)))
    with pytest.warns(UserWarning, match="num_features"):
        nn.InstanceNorm1d(3)(fnp.ones((2, 4, 5)))


def test_local_response_norm_layer():
    x = fnp.asarray(_rand(2, 6, 3))
    layer = nn.LocalResponseNorm(3, alpha=0.5, beta=0.5, k=2.0)
    np.testing.assert_array_equal(np.asarray(layer(x)), np.asarray(F.local_response_norm(x, 3, 0.5, 0.5, 2.0)))
    assert repr(nn.LocalResponseNorm(3)) == "LocalResponseNorm(3, alpha=0.0001, beta=0.75, k=1.0)"


# ----- distances, Softmax2d, Fold/Unfold ------------------------------------------------------------------

def test_distance_layers():
    a, b = _rand(4, 3, dtype=np.float64), _rand(4, 3, seed=1, dtype=np.float64)
    cos = np.asarray(nn.CosineSimilarity(dim=1)(fnp.asarray(a), fnp.asarray(b)))
    np.testing.assert_allclose(cos, (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1),
                               rtol=1e-12)
    d = np.asarray(nn.PairwiseDistance(p=1.0, eps=0.0, keepdim=True)(fnp.asarray(a), fnp.asarray(b)))
    np.testing.assert_allclose(d, np.abs(a - b).sum(1, keepdims=True), rtol=1e-12)
    assert repr(nn.CosineSimilarity()) == "CosineSimilarity()" and repr(nn.PairwiseDistance()) == "PairwiseDistance()"


def test_softmax2d():
    x = _rand(2, 3, 2, 2, dtype=np.float64)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(np.asarray(nn.Softmax2d()(fnp.asarray(x))), e / e.sum(axis=1, keepdims=True),
                               rtol=1e-12)
    np.testing.assert_allclose(np.asarray(nn.Softmax2d()(fnp.asarray(x[0]))), (e / e.sum(1, keepdims=True))[0],
                               rtol=1e-12)
    with pytest.raises(ShapeError, match="Softmax2d"):
        nn.Softmax2d()(fnp.ones((2, 3)))


def test_fold_and_unfold_layers():
    x = fnp.asarray(_rand(2, 3, 5, 6))
    unfold = nn.Unfold(kernel_size=(2, 3), dilation=1, padding=1, stride=2)
    cols = unfold(x)
    np.testing.assert_array_equal(np.asarray(cols), np.asarray(F.unfold(x, (2, 3), 1, 1, 2)))
    fold = nn.Fold(output_size=(5, 6), kernel_size=(2, 3), padding=1, stride=2)
    np.testing.assert_array_equal(np.asarray(fold(cols)), np.asarray(F.fold(cols, (5, 6), (2, 3), 1, 1, 2)))
    assert repr(nn.Unfold(2)) == "Unfold(kernel_size=2, dilation=1, padding=0, stride=1)"
    assert repr(nn.Fold((4, 5), 2)) == "Fold(output_size=(4, 5), kernel_size=2, dilation=1, padding=0, stride=1)"


# ----- ParameterList and ParameterDict ------------------------------------------------------------------

class _WithParams(nn.Module):
    def __init__(self):
        super().__init__()
        self.scales = nn.ParameterList([fnp.ones(2), nn.Parameter(fnp.zeros((2, 3)))])
        self.shifts = nn.ParameterDict({"a": fnp.zeros(3), "b": nn.Parameter(fnp.ones(1))})

    def forward(self, x):
        return fnp.sum(x * self.scales[0]) + fnp.sum(self.scales[1]) + fnp.sum(self.shifts["a"] * 2)


def test_parameter_containers_register_like_torch():
    m = _WithParams()
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == [
        ("scales.0", (2,)), ("scales.1", (2, 3)), ("shifts.a", (3,)), ("shifts.b", (1,))]
    assert len(list(m.parameters())) == 4
    assert all(isinstance(p, nn.Parameter) for p in m.scales)
    # backward fills the grads; an optimizer updates them in place
    out = m(fnp.asarray(np.array([1.0, 2.0], np.float32)))
    out.backward()
    np.testing.assert_array_equal(np.asarray(m.scales[0].grad), [1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(m.shifts["a"].grad), [2.0, 2.0, 2.0])
    opt = fnx.optim.SGD(m.parameters(), lr=0.5)
    opt.step()
    np.testing.assert_array_equal(np.asarray(m.scales[0].data), [0.5, 0.0])
    # round trip through state_dict, and the pytree view works with fnx.grad
    other = _WithParams()
    other.load_state_dict(m.state_dict())
    np.testing.assert_array_equal(np.asarray(other.scales[0].data), [0.5, 0.0])
    g = fnx.grad(lambda mod: mod(fnp.ones(2)))(m)
    np.testing.assert_array_equal(np.asarray(g.shifts["a"]), [2.0, 2.0, 2.0])


def test_parameter_list_api():
    pl = nn.ParameterList()
    assert len(pl) == 0 and repr(pl) == "ParameterList()"
    pl.append(fnp.ones(2)).extend([fnp.zeros(3), fnp.zeros(1)])
    pl += [fnp.ones((2, 2))]
    assert [tuple(p.shape) for p in pl] == [(2,), (3,), (1,), (2, 2)]
    assert tuple(pl[-1].shape) == (2, 2) and len(pl[1:3]) == 2
    pl[0] = fnp.full(2, 7.0)
    assert isinstance(pl[0], nn.Parameter) and float(pl[0][0]) == 7.0
    assert repr(pl).splitlines()[1] == "  (0): Parameter containing: [float32 of size 2]"
    with pytest.raises(TypeError, match="Parameter or an array"):
        pl.append("weights")
    with pytest.raises(IndexError):
        pl[4]
    with pytest.raises(RuntimeError, match="should not be called"):
        pl(1)


def test_parameter_dict_api():
    pd = nn.ParameterDict([("x", fnp.ones(1)), ("y", fnp.ones(2))])
    assert list(pd) == ["x", "y"] and list(reversed(pd)) == ["y", "x"]
    pd.update({"z": fnp.zeros(3)})
    assert pd.get("w") is None and "z" in pd and len(pd) == 3
    assert pd.setdefault("w", fnp.ones(4)).shape == (4,)
    p = pd.pop("x")
    assert isinstance(p, nn.Parameter) and "x" not in pd
    assert pd.popitem()[0] == "w"
    copy = pd.copy()
    assert list(copy) == ["y", "z"] and copy["y"] is pd["y"]
    del pd["y"]
    assert list(pd.keys()) == ["z"] and len(list(pd.values())) == 1 and list(dict(pd.items())) == ["z"]
    with pytest.raises(TypeError, match="keys must be strings"):
        pd[1] = fnp.ones(1)
    with pytest.raises(KeyError, match="without '.'"):
        pd["a.b"] = fnp.ones(1)
    pd.clear()
    assert len(pd) == 0


# ----- loss modules -------------------------------------------------------------------------------------

def test_margin_loss_modules_call_their_functions():
    a, p, n = (fnp.asarray(_rand(4, 3, seed=s)) for s in (1, 2, 3))
    y, z = fnp.asarray(np.array([0, 2, 1, 1])), fnp.asarray(np.array([[2, -1, 0], [0, 1, 2], [1, 1, -1], [-1, 0, 0]]))
    w = fnp.asarray(np.array([0.5, 1.0, 2.0], np.float32))
    pairs = [
        (nn.TripletMarginLoss(margin=0.5, p=1.0, swap=True)(a, p, n),
         F.triplet_margin_loss(a, p, n, margin=0.5, p=1.0, swap=True)),
        (nn.TripletMarginWithDistanceLoss(margin=0.3, reduction="sum")(a, p, n),
         F.triplet_margin_with_distance_loss(a, p, n, margin=0.3, reduction="sum")),
        (nn.MultiMarginLoss(p=2, margin=0.7, weight=w)(a, y), F.multi_margin_loss(a, y, p=2, margin=0.7, weight=w)),
        (nn.MultiLabelMarginLoss(reduction="none")(a, z), F.multilabel_margin_loss(a, z, reduction="none")),
        (nn.MultiLabelSoftMarginLoss(weight=w)(a, (z >= 0) * 1.0),
         F.multilabel_soft_margin_loss(a, (z >= 0) * 1.0, weight=w)),
    ]
    for got, want in pairs:
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    assert list(nn.MultiMarginLoss(weight=w).state_dict()) == ["weight"]
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="margin to be greater than 0"):
        nn.TripletMarginLoss(margin=0.0)


# ----- the Transformer decoder ------------------------------------------------------------------------

DECODER_KEYS = [("self_attn.in_proj_weight", (12, 4)), ("self_attn.in_proj_bias", (12,)),
                ("self_attn.out_proj.weight", (4, 4)), ("self_attn.out_proj.bias", (4,)),
                ("multihead_attn.in_proj_weight", (12, 4)), ("multihead_attn.in_proj_bias", (12,)),
                ("multihead_attn.out_proj.weight", (4, 4)), ("multihead_attn.out_proj.bias", (4,)),
                ("linear1.weight", (8, 4)), ("linear1.bias", (8,)), ("linear2.weight", (4, 8)), ("linear2.bias", (4,)),
                ("norm1.weight", (4,)), ("norm1.bias", (4,)), ("norm2.weight", (4,)), ("norm2.bias", (4,)),
                ("norm3.weight", (4,)), ("norm3.bias", (4,))]


def test_decoder_layer_state_dict_names_and_shapes_are_torchs():
    layer = nn.TransformerDecoderLayer(4, 2, dim_feedforward=8)
    assert [(k, tuple(v.shape)) for k, v in layer.state_dict().items()] == DECODER_KEYS
    model = nn.Transformer(4, 2, num_encoder_layers=1, num_decoder_layers=2, dim_feedforward=8)
    keys = list(model.state_dict())
    assert keys[:4] == ["encoder.layers.0.self_attn.in_proj_weight", "encoder.layers.0.self_attn.in_proj_bias",
                        "encoder.layers.0.self_attn.out_proj.weight", "encoder.layers.0.self_attn.out_proj.bias"]
    assert "encoder.norm.weight" in keys and "decoder.norm.bias" in keys and "decoder.layers.1.norm3.weight" in keys
    assert len(keys) == 12 + 2 + 2 * 18 + 2


def _ref_layer_norm(x, w, b):
    m = x.mean(-1, keepdims=True)
    return (x - m) / np.sqrt(x.var(-1, keepdims=True) + 1e-5) * w + b


def _ref_mha(q, kv, sd, prefix, heads, mask=None):
    """PyTorch's attention on (L, N, E) inputs, from the state dict's weights."""
    e = q.shape[-1]
    w, b = sd[prefix + "in_proj_weight"], sd[prefix + "in_proj_bias"]
    qp, kp, vp = q @ w[:e].T + b[:e], kv @ w[e:2 * e].T + b[e:2 * e], kv @ w[2 * e:].T + b[2 * e:]
    hd = e // heads
    out = np.zeros_like(qp)
    for n in range(q.shape[1]):
        for h in range(heads):
            s = slice(h * hd, (h + 1) * hd)
            scores = qp[:, n, s] @ kp[:, n, s].T / math.sqrt(hd)
            if mask is not None:
                scores = scores + mask
            p = np.exp(scores - scores.max(-1, keepdims=True))
            out[:, n, s] = (p / p.sum(-1, keepdims=True)) @ vp[:, n, s]
    return out @ sd[prefix + "out_proj.weight"].T + sd[prefix + "out_proj.bias"]


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_matches_the_documented_computation(norm_first):
    fnx.manual_seed(0)
    layer = nn.TransformerDecoderLayer(4, 2, dim_feedforward=8, dropout=0.0, norm_first=norm_first).double()
    # every parameter random, so that no two norms or projections can stand in for each other
    layer.load_state_dict({k: _rand(*v.shape, seed=i + 10, dtype=np.float64)
                           for i, (k, v) in enumerate(layer.state_dict().items())})
    sd = {k: np.asarray(v) for k, v in layer.state_dict().items()}
    tgt, mem = _rand(3, 2, 4, seed=1, dtype=np.float64), _rand(5, 2, 4, seed=2, dtype=np.float64)
    mask = np.triu(np.full((3, 3), -np.inf), 1)
    ln = lambda x, i: _ref_layer_norm(x, sd[f"norm{i}.weight"], sd[f"norm{i}.bias"])  # noqa: E731
    ff = lambda x: np.maximum(x @ sd["linear1.weight"].T + sd["linear1.bias"], 0) @ sd["linear2.weight"].T \
        + sd["linear2.bias"]  # noqa: E731
    x = tgt
    if norm_first:
        x = x + _ref_mha(ln(x, 1), ln(x, 1), sd, "self_attn.", 2, mask)
        x = x + _ref_mha(ln(x, 2), mem, sd, "multihead_attn.", 2)
        x = x + ff(ln(x, 3))
    else:
        x = ln(x + _ref_mha(x, x, sd, "self_attn.", 2, mask), 1)
        x = ln(x + _ref_mha(x, mem, sd, "multihead_attn.", 2), 2)
        x = ln(x + ff(x), 3)
    got = layer(fnp.asarray(tgt), fnp.asarray(mem), tgt_mask=fnp.asarray(mask))
    np.testing.assert_allclose(np.asarray(got), x, rtol=1e-10, atol=1e-12)


def test_decoder_detects_a_causal_mask_and_transformer_checks_shapes():
    from fnx.nn.layers.attention import _detect_is_causal_mask
    causal = nn.Transformer.generate_square_subsequent_mask(4)
    assert _detect_is_causal_mask(causal) and not _detect_is_causal_mask(fnp.zeros((4, 4)))
    assert _detect_is_causal_mask(fnp.triu(fnp.ones((4, 4), bool), 1))
    assert _detect_is_causal_mask(None, True) and not _detect_is_causal_mask(causal, False)
    model = nn.Transformer(8, 2, 1, 1, 16, dropout=0.0)
    with pytest.raises(ShapeError, match="batch number"):
        model(fnp.ones((3, 2, 8)), fnp.ones((3, 4, 8)))
    with pytest.raises(ShapeError, match="d_model"):
        model(fnp.ones((3, 2, 8)), fnp.ones((3, 2, 6)))
    # every matrix was re-drawn with xavier_uniform_: bound sqrt(6 / (fan_in + fan_out))
    w = np.asarray(model.decoder.layers[0].linear1.weight)
    assert np.abs(w).max() <= math.sqrt(6 / (8 + 16)) and np.abs(w).max() > 0.5 * math.sqrt(6 / 24)


def test_transformer_trains_with_dropout_keys():
    model = nn.Transformer(8, 2, 1, 1, 16, dropout=0.1, batch_first=True)
    src, tgt = fnp.asarray(_rand(2, 5, 8)), fnp.asarray(_rand(2, 3, 8, seed=1))
    k = fnx.random.key(0)
    a = model(src, tgt, key=k)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(model(src, tgt, key=k)))
    loss = fnp.sum(a ** 2)
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    model.eval()
    np.testing.assert_array_equal(np.asarray(model(src, tgt)), np.asarray(model(src, tgt)))


# ----- against torch ----------------------------------------------------------------------------------

def _load_from_torch(fmod, tmod):
    fmod.load_state_dict({k: v.detach().numpy() for k, v in tmod.state_dict().items()})


@pytest.mark.parametrize("norm_first,batch_first", [(False, False), (True, True)])
def test_transformer_against_torch(norm_first, batch_first):
    torch = pytest.importorskip("torch")
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16, dropout=0.0,
              norm_first=norm_first, batch_first=batch_first, activation="gelu")
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tmod = torch.nn.Transformer(**kw).eval()
    with torch.no_grad():
        for i, p in enumerate(tmod.parameters()):  # norms too, so that none can stand in for another
            p.copy_(torch.tensor(_rand(*p.shape, seed=i)) * 0.5)
    fmod = nn.Transformer(**kw).eval()
    _load_from_torch(fmod, tmod)
    src = _rand(*((2, 5, 8) if batch_first else (5, 2, 8)), seed=1)
    tgt = _rand(*((2, 4, 8) if batch_first else (4, 2, 8)), seed=2)
    tgt_mask = torch.nn.Transformer.generate_square_subsequent_mask(4)
    pad = np.array([[False] * 5, [False, False, False, True, True]])
    with torch.no_grad():
        want = tmod(torch.tensor(src), torch.tensor(tgt), tgt_mask=tgt_mask, memory_key_padding_mask=torch.tensor(pad),
                    tgt_is_causal=True).numpy()
    got = fmod(fnp.asarray(src), fnp.asarray(tgt), tgt_mask=nn.Transformer.generate_square_subsequent_mask(4),
               memory_key_padding_mask=fnp.asarray(pad), tgt_is_causal=True)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(tgt_mask.numpy(), np.asarray(nn.Transformer.generate_square_subsequent_mask(4)))


def test_layers_against_torch():
    torch = import_torch(norms=True)
    tnn = torch.nn
    x4 = _rand(2, 4, 5, 6)
    cases = [
        (nn.ReflectionPad2d((1, 2, 2, 0)), tnn.ReflectionPad2d((1, 2, 2, 0)), x4),
        (nn.ReplicationPad3d((1, 0, 2, 1, 0, 1)), tnn.ReplicationPad3d((1, 0, 2, 1, 0, 1)), x4),
        (nn.CircularPad2d(2), tnn.CircularPad2d(2), x4), (nn.ZeroPad1d((2, -1)), tnn.ZeroPad1d((2, -1)), x4),
        (nn.Upsample(scale_factor=1.7, mode="bilinear"), tnn.Upsample(scale_factor=1.7, mode="bilinear"), x4),
        (nn.UpsamplingNearest2d(size=(7, 3)), tnn.UpsamplingNearest2d(size=(7, 3)), x4),
        (nn.UpsamplingBilinear2d(size=(3, 9)), tnn.UpsamplingBilinear2d(size=(3, 9)), x4),
        (nn.PixelShuffle(2), tnn.PixelShuffle(2), x4), (nn.LocalResponseNorm(3), tnn.LocalResponseNorm(3), x4),
        (nn.Softmax2d(), tnn.Softmax2d(), x4), (nn.InstanceNorm2d(4), tnn.InstanceNorm2d(4), x4),
        (nn.Unfold(2, padding=1, stride=2), tnn.Unfold(2, padding=1, stride=2), x4),
    ]
    for fmod, tmod, x in cases:
        assert repr(fmod) == repr(tmod)
        np.testing.assert_allclose(np.asarray(fmod(fnp.asarray(x))), tmod(torch.tensor(x)).numpy(), rtol=1e-5,
                                   atol=1e-6, err_msg=repr(fmod))


def test_instance_norm_running_statistics_against_torch():
    torch = import_torch(norms=True)
    for momentum in (0.3, None):
        t = torch.nn.InstanceNorm1d(3, affine=True, track_running_stats=True, momentum=momentum)
        f = nn.InstanceNorm1d(3, affine=True, track_running_stats=True, momentum=momentum)
        for step in range(3):
            x = _rand(4, 3, 5, seed=step)
            np.testing.assert_allclose(np.asarray(f(fnp.asarray(x))), t(torch.tensor(x)).detach().numpy(),
                                       rtol=1e-5, atol=1e-6)
        for key in ("running_mean", "running_var", "num_batches_tracked"):
            np.testing.assert_allclose(np.asarray(f.state_dict()[key]), t.state_dict()[key].numpy(), rtol=1e-5)
        f.eval(), t.eval()
        x = _rand(2, 3, 5, seed=7)
        np.testing.assert_allclose(np.asarray(f(fnp.asarray(x))), t(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
        assert repr(f) == repr(t)


# ----- nn.utils: the total norm and clipping with it ---------------------------------------------------

@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0])
def test_get_total_norm_and_clip_grads_with_norm(norm_type):
    from fnx.nn import utils
    grads = [_rand(3, 2, dtype=np.float64), _rand(4, seed=1, dtype=np.float64)]
    flat = np.concatenate([g.ravel() for g in grads])
    want = np.abs(flat).max() if norm_type == math.inf else (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    total = utils.get_total_norm([fnp.asarray(g) for g in grads], norm_type)
    np.testing.assert_allclose(float(total), want, rtol=1e-12)
    a = [nn.Parameter(fnp.zeros(g.shape, dtype="float64")) for g in grads]
    b = [nn.Parameter(fnp.zeros(g.shape, dtype="float64")) for g in grads]
    for p, q, g in zip(a, b, grads):
        p.grad, q.grad = fnp.asarray(g), fnp.asarray(g)
    utils.clip_grads_with_norm_(a, 0.5, total)
    utils.clip_grad_norm_(b, 0.5, norm_type)
    for p, q, g in zip(a, b, grads):
        np.testing.assert_allclose(np.asarray(p.grad), g * min(0.5 / (want + 1e-6), 1.0), rtol=1e-12)
        np.testing.assert_array_equal(np.asarray(p.grad), np.asarray(q.grad))
    assert float(utils.get_total_norm([])) == 0.0
    with pytest.raises(RuntimeError, match="non-finite"):
        utils.get_total_norm([fnp.asarray([np.inf])], error_if_nonfinite=True)


# ----- weight_norm and spectral_norm -------------------------------------------------------------------

def _weight_norm(module, **kw):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return nn.utils.weight_norm(module, **kw)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_reparametrises_and_trains_g_and_v(dim):
    fnx.manual_seed(0)
    m = nn.Conv1d(3, 4, 2).double()
    w0 = np.asarray(m.weight)
    with pytest.warns(FutureWarning, match="deprecated"):
        nn.utils.weight_norm(m, dim=dim)
    assert [(k, v.shape) for k, v in m.state_dict().items()] == [
        ("bias", (4,)), ("weight_g", {0: (4, 1, 1), 1: (1, 3, 1), None: ()}[dim]), ("weight_v", (4, 3, 2))]
    np.testing.assert_allclose(np.asarray(m.weight), w0, rtol=1e-12)  # g = ||v|| at first: the same weight
    g = _rand(*m.weight_g.shape, seed=1, dtype=np.float64)
    v = _rand(4, 3, 2, seed=2, dtype=np.float64)
    m.weight_g.set_(fnp.asarray(g))
    m.weight_v.set_(fnp.asarray(v))
    axes = tuple(a for a in range(3) if a != dim) if dim is not None else (0, 1, 2)
    want_w = g * v / np.sqrt((v * v).sum(axis=axes, keepdims=dim is not None))
    x = fnp.asarray(_rand(2, 3, 5, seed=3, dtype=np.float64))
    out = m(x)
    np.testing.assert_allclose(np.asarray(m.weight), want_w, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(out), np.asarray(F.conv1d(x, fnp.asarray(want_w), m.bias)), rtol=1e-12)
    fnp.sum(out * out).backward()
    assert m.weight_g.grad.shape == m.weight_g.shape and m.weight_v.grad.shape == (4, 3, 2)
    with pytest.raises(RuntimeError, match="two weight_norm hooks"):
        _weight_norm(m, dim=dim)
    nn.utils.remove_weight_norm(m)
    assert list(m.state_dict()) == ["bias", "weight"] and isinstance(m.weight, nn.Parameter)
    np.testing.assert_allclose(np.asarray(m.weight), want_w, rtol=1e-12)
    with pytest.raises(ValueError, match="weight_norm of 'weight' not found"):
        nn.utils.remove_weight_norm(m)


def test_spectral_norm_divides_by_the_largest_singular_value():
    fnx.manual_seed(0)
    m = nn.Linear(5, 4).double()
    nn.utils.spectral_norm(m, n_power_iterations=3)
    assert [(k, v.shape) for k, v in m.state_dict().items()] == [
        ("bias", (4,)), ("weight_orig", (4, 5)), ("weight_u", (4,)), ("weight_v", (5,))]
    w = np.asarray(m.weight_orig)
    sigma = np.linalg.svd(w, compute_uv=False)[0]
    x = fnp.asarray(_rand(2, 5, dtype=np.float64))
    for _ in range(20):  # the power iteration converges across training forwards
        m(x)
    np.testing.assert_allclose(np.asarray(m.weight), w / sigma, rtol=1e-8)
    u, v = np.asarray(m.weight_u), np.asarray(m.weight_v)
    np.testing.assert_allclose(np.linalg.norm(u), 1.0, rtol=1e-12)
    np.testing.assert_allclose(u @ w @ v, sigma, rtol=1e-10)
    m.eval()
    m(x)  # no iteration in eval mode
    np.testing.assert_array_equal(np.asarray(m.weight_u), u)
    m.train()
    out = m(x)
    fnp.sum(out).backward()
    assert m.weight_orig.grad is not None
    nn.utils.remove_spectral_norm(m)
    assert list(m.state_dict()) == ["bias", "weight"]
    np.testing.assert_allclose(np.asarray(m.weight), w / sigma, rtol=1e-8)
    t = nn.utils.spectral_norm(nn.ConvTranspose2d(3, 2, 2))
    assert t.weight_u.shape == (2,) and t.weight_v.shape == (3 * 2 * 2,)  # dim 1 for transposed convolutions
    with pytest.raises(ValueError, match="n_power_iterations"):
        nn.utils.spectral_norm(nn.Linear(2, 2), n_power_iterations=0)


def test_weight_and_spectral_norm_against_torch():
    torch = pytest.importorskip("torch")
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        tw = torch.nn.utils.weight_norm(torch.nn.Linear(4, 3), dim=1)
    fw = _weight_norm(nn.Linear(4, 3), dim=1)
    _load_from_torch(fw, tw)
    x = _rand(2, 4)
    np.testing.assert_allclose(np.asarray(fw(fnp.asarray(x))), tw(torch.tensor(x)).detach().numpy(), rtol=1e-5)
    ts = torch.nn.utils.spectral_norm(torch.nn.Conv2d(2, 3, 2), n_power_iterations=2)
    fs = nn.utils.spectral_norm(nn.Conv2d(2, 3, 2), n_power_iterations=2)
    _load_from_torch(fs, ts)
    x = _rand(1, 2, 4, 4)
    for _ in range(3):
        np.testing.assert_allclose(np.asarray(fs(fnp.asarray(x))), ts(torch.tensor(x)).detach().numpy(), rtol=1e-5,
                                   atol=1e-6)
    for key in ("weight_u", "weight_v"):
        np.testing.assert_allclose(np.asarray(fs.state_dict()[key]), ts.state_dict()[key].numpy(), rtol=1e-5,
                                   atol=1e-6)


# ----- property tests ---------------------------------------------------------------------------------

from hypothesis import given, strategies as st  # noqa: E402


@given(n=st.integers(1, 3), mode=st.sampled_from(["zero", "reflect", "edge", "wrap"]), data=st.data())
def test_padding_layers_any_widths(n, mode, data):
    spatial = data.draw(st.lists(st.integers(1, 4), min_size=n, max_size=n))
    limit = {"zero": 3, "reflect": None, "edge": 3, "wrap": None}[mode]
    widths = []
    for size in reversed(spatial):  # (left, right) of the last dimension first
        hi = size - 1 if mode == "reflect" else size if mode == "wrap" else limit
        widths += [data.draw(st.integers(0, hi)), data.draw(st.integers(0, hi))]
    cls = {"zero": nn.ZeroPad1d, "reflect": nn.ReflectionPad1d, "edge": nn.ReplicationPad1d,
           "wrap": nn.CircularPad1d}[mode]
    cls = getattr(nn, cls.__name__.replace("1d", f"{n}d"))
    x = np.arange(2 * int(np.prod(spatial)), dtype=np.float64).reshape([2] + spatial)
    pairs = [(0, 0)] + [(widths[2 * i], widths[2 * i + 1]) for i in reversed(range(n))]
    want = np.pad(x, pairs, mode="constant" if mode == "zero" else mode)
    np.testing.assert_array_equal(np.asarray(cls(tuple(widths))(fnp.asarray(x))), want)


# ----- fusing BatchNorm into the layer before it --------------------------------------------------------

def _trained_bn(bn, x):
    bn.weight.set_(fnp.asarray(_rand(*bn.weight.shape, seed=5, dtype=np.float64)))
    bn.bias.set_(fnp.asarray(_rand(*bn.bias.shape, seed=6, dtype=np.float64)))
    for _ in range(3):
        bn(x)  # gather running statistics
    return bn.eval()


@pytest.mark.parametrize("transpose", [False, True])
def test_fuse_conv_bn_eval_equals_conv_then_bn(transpose):
    from fnx.nn import utils
    fnx.manual_seed(0)
    conv = (nn.ConvTranspose2d(3, 4, 2) if transpose else nn.Conv2d(3, 4, 2)).double().eval()
    x = fnp.asarray(_rand(2, 3, 5, 5, seed=1, dtype=np.float64))
    bn = _trained_bn(nn.BatchNorm2d(4).double(), conv(x))
    before = np.asarray(conv.weight).copy()
    fused = utils.fuse_conv_bn_eval(conv, bn, transpose=transpose)
    np.testing.assert_allclose(np.asarray(fused(x)), np.asarray(bn(conv(x))), rtol=1e-10, atol=1e-12)
    assert fused is not conv and isinstance(fused.weight, nn.Parameter)
    np.testing.assert_array_equal(np.asarray(conv.weight), before)  # the original is left as it was
    with pytest.raises(AssertionError, match="only for eval"):
        utils.fuse_conv_bn_eval(conv.train(), bn)


def test_fuse_linear_bn_eval_and_the_deprecated_clip_name():
    from fnx.nn import utils
    fnx.manual_seed(0)
    lin = nn.Linear(3, 4, bias=False).double().eval()
    x = fnp.asarray(_rand(8, 3, seed=1, dtype=np.float64))
    bn = _trained_bn(nn.BatchNorm1d(4).double(), lin(x))
    fused = utils.fuse_linear_bn_eval(lin, bn)
    np.testing.assert_allclose(np.asarray(fused(x)), np.asarray(bn(lin(x))), rtol=1e-10, atol=1e-12)
    assert fused.bias.shape == (4,)
    with pytest.raises(AssertionError, match="To fuse"):
        utils.fuse_linear_bn_eval(nn.Linear(3, 2).eval(), bn)
    w = nn.Parameter(fnp.zeros(2))
    w.grad = fnp.asarray(np.array([3.0, 4.0], np.float32))
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        total = utils.clip_grad_norm(w, 1.0, foreach=True)
    assert float(total) == pytest.approx(5.0)
    np.testing.assert_allclose(np.asarray(w.grad), [0.6, 0.8], rtol=1e-5)
    utils.clip_grad_value_(w, 0.7, foreach=None)
    np.testing.assert_allclose(np.asarray(w.grad), [0.6, 0.7], rtol=1e-6)


def test_fusion_against_torch():
    torch = pytest.importorskip("torch")
    tconv, tbn = torch.nn.Conv2d(3, 4, 3).double().eval(), torch.nn.BatchNorm2d(4).double()
    with torch.no_grad():
        tbn.running_mean.copy_(torch.tensor(_rand(4, seed=3, dtype=np.float64)))
        tbn.running_var.copy_(torch.tensor(np.abs(_rand(4, seed=4, dtype=np.float64)) + 0.5))
        tbn.weight.copy_(torch.tensor(_rand(4, seed=5, dtype=np.float64)))
    tbn.eval()
    fconv, fbn = nn.Conv2d(3, 4, 3).double().eval(), nn.BatchNorm2d(4).double().eval()
    _load_from_torch(fconv, tconv)
    _load_from_torch(fbn, tbn)
    want = torch.nn.utils.fuse_conv_bn_eval(tconv, tbn).state_dict()
    got = nn.utils.fuse_conv_bn_eval(fconv, fbn).state_dict()
    for key in ("weight", "bias"):
        np.testing.assert_allclose(np.asarray(got[key]), want[key].numpy(), rtol=1e-12)


# ----- AdaptiveLogSoftmaxWithLoss -------------------------------------------------------------------------

def test_adaptive_log_softmax_is_a_distribution_and_picks_the_targets():
    fnx.manual_seed(0)
    asm = nn.AdaptiveLogSoftmaxWithLoss(16, 12, cutoffs=[3, 8], div_value=2.0, head_bias=True).double()
    assert [(k, v.shape) for k, v in asm.state_dict().items()] == [
        ("head.weight", (5, 16)), ("head.bias", (5,)), ("tail.0.0.weight", (8, 16)), ("tail.0.1.weight", (5, 8)),
        ("tail.1.0.weight", (4, 16)), ("tail.1.1.weight", (4, 4))]
    x = fnp.asarray(_rand(6, 16, dtype=np.float64))
    target = np.array([0, 2, 3, 7, 8, 11])
    lp = np.asarray(asm.log_prob(x))
    np.testing.assert_allclose(np.exp(lp).sum(1), np.ones(6), rtol=1e-12)
    out, loss = asm(x, fnp.asarray(target))
    np.testing.assert_allclose(np.asarray(out), lp[np.arange(6), target], rtol=1e-12)
    assert float(loss) == pytest.approx(-lp[np.arange(6), target].mean(), rel=1e-12)
    np.testing.assert_array_equal(np.asarray(asm.predict(x)), lp.argmax(1))
    one, _ = asm(x[0], fnp.asarray(np.array(2)))
    assert one.shape == () and float(one) == pytest.approx(lp[0, 2], rel=1e-12)
    loss.backward()
    assert all(p.grad is not None for p in asm.parameters())
    with pytest.raises(IndexError, match="Target values should be in"):
        asm(x, fnp.asarray(np.array([0, 1, 2, 3, 4, 12])))
    with pytest.raises(ValueError, match="cutoffs should be"):
        nn.AdaptiveLogSoftmaxWithLoss(16, 12, cutoffs=[8, 3])


def test_adaptive_log_softmax_against_torch():
    torch = pytest.importorskip("torch")
    tm = torch.nn.AdaptiveLogSoftmaxWithLoss(16, 12, cutoffs=[3, 8], div_value=2.0, head_bias=True).double()
    fm = nn.AdaptiveLogSoftmaxWithLoss(16, 12, cutoffs=[3, 8], div_value=2.0, head_bias=True).double()
    _load_from_torch(fm, tm)
    x, target = _rand(7, 16, dtype=np.float64), np.array([0, 2, 3, 7, 8, 11, 5])
    tout, tloss = tm(torch.tensor(x), torch.tensor(target))
    fout, floss = fm(fnp.asarray(x), fnp.asarray(target))
    np.testing.assert_allclose(np.asarray(fout), tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(float(floss), float(tloss.detach()), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(fm.log_prob(fnp.asarray(x))), tm.log_prob(torch.tensor(x)).detach().numpy(),
                               rtol=1e-12)
    np.testing.assert_array_equal(np.asarray(fm.predict(fnp.asarray(x))), tm.predict(torch.tensor(x)).numpy())
    tloss.backward()
    floss.backward()
    for (name, p), (_, q) in zip(fm.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(np.asarray(p.grad), q.grad.numpy(), rtol=1e-10, atol=1e-14, err_msg=name)
    assert repr(fm) == repr(tm)


def test_nllloss2d_is_the_deprecated_nllloss():
    x = F.log_softmax(fnp.asarray(_rand(2, 3, 4, 4)), 1)
    t = fnp.asarray(np.random.default_rng(0).integers(0, 3, (2, 4, 4)))
    with pytest.warns(FutureWarning, match="NLLLoss2d"):
        old = nn.NLLLoss2d(ignore_index=1)
    np.testing.assert_array_equal(np.asarray(old(x, t)), np.asarray(nn.NLLLoss(ignore_index=1)(x, t)))


def test_cross_map_lrn2d_uses_pytorchs_running_window():
    from fnx.nn.layers.norm import _cross_map_windows
    # size 3: pre_pad 2; each step adds channel c + 1 and drops channel c - 2 only once c > 2, so channel 0
    # stays in every window (PyTorch's recurrence, inherited from Lua torch)
    want = [[1, 1, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 0, 0], [1, 0, 1, 1, 1, 0], [1, 0, 0, 1, 1, 1],
            [1, 0, 0, 0, 1, 1]]
    np.testing.assert_array_equal(_cross_map_windows(6, 3), want)
    x = _rand(2, 6, 2, 2, dtype=np.float64)
    layer = nn.CrossMapLRN2d(3, alpha=0.3, beta=0.6, k=2.0)
    s = np.einsum("dc,nchw->ndhw", np.array(want, float), x * x)
    np.testing.assert_allclose(np.asarray(layer(fnp.asarray(x))), x * (2.0 + 0.1 * s) ** -0.6, rtol=1e-12)
    check_grads(layer, (fnp.asarray(x),))
    with pytest.raises(ValueError, match="Expected input to be 4D"):
        layer(fnp.ones((2, 6, 3)))


def test_cross_map_lrn2d_values_against_torch():
    torch = pytest.importorskip("torch")
    x = _rand(2, 7, 3, 3, dtype=np.float64)
    for size in (1, 2, 3, 4, 6, 9):
        want = torch.nn.CrossMapLRN2d(size, 0.1, 0.75, 1.5)(torch.tensor(x)).numpy()
        np.testing.assert_allclose(np.asarray(nn.CrossMapLRN2d(size, 0.1, 0.75, 1.5)(fnp.asarray(x))), want,
                                   rtol=1e-12)
    assert repr(nn.CrossMapLRN2d(3)) == repr(torch.nn.CrossMapLRN2d(3))


def test_embedding_bag_max_norm_rebinds_the_looked_up_rows():
    bag = nn.EmbeddingBag.from_pretrained(fnp.asarray(np.array([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]])),
                                          freeze=False, max_norm=1.0, mode="sum")
    out = bag(fnp.asarray(np.array([[0, 1]])))
    w = np.asarray(bag.weight)
    np.testing.assert_allclose(np.linalg.norm(w, axis=1), [1.0, 0.5, 10.0], rtol=1e-6)  # row 2 was not looked up
    np.testing.assert_allclose(np.asarray(out), [[0.6 + 0.3, 0.8 + 0.4]], rtol=1e-6)


def test_sync_batch_norm_is_batch_norm_in_one_process_over_any_rank():
    rng = np.random.default_rng(3)
    for shape, eager in (((6, 3), fnx.nn.BatchNorm1d), ((4, 3, 5), fnx.nn.BatchNorm1d),
                         ((2, 3, 4, 4), fnx.nn.BatchNorm2d), ((2, 3, 2, 2, 2), fnx.nn.BatchNorm3d)):
        x = fnp.asarray(rng.standard_normal(shape).astype(np.float32))
        sync, plain = fnx.nn.SyncBatchNorm(3, momentum=0.3), eager(3, momentum=0.3)
        np.testing.assert_allclose(np.asarray(sync(x).detach()), np.asarray(plain(x).detach()), rtol=1e-6)
        for a, b in zip(sync.state_dict().values(), plain.state_dict().values()):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)
    with pytest.raises(ValueError, match="expected at least 2D input \\(got 1D input\\)"):
        fnx.nn.SyncBatchNorm(3)(fnp.ones(3))
    with pytest.raises(ValueError, match="number of input channels should be non-zero"):
        fnx.nn.SyncBatchNorm(0)(fnp.ones((2, 0)))


def test_convert_sync_batchnorm_keeps_parameters_statistics_and_mode():
    net = fnx.nn.Sequential(fnx.nn.Conv2d(2, 3, 1), fnx.nn.BatchNorm2d(3),
                            fnx.nn.Sequential(fnx.nn.BatchNorm1d(4, affine=False)))
    net[:2](fnp.asarray(np.random.default_rng(4).standard_normal((2, 2, 3, 3)).astype(np.float32)))
    net[2].eval()
    weight, stats = net[1].weight, net[1]._buffers["running_mean"]
    converted = fnx.nn.SyncBatchNorm.convert_sync_batchnorm(net, process_group="group")
    assert converted is net and type(net[1]) is fnx.nn.SyncBatchNorm and type(net[2][0]) is fnx.nn.SyncBatchNorm
    assert net[1].weight is weight and net[1]._buffers["running_mean"] is stats and net[1].process_group == "group"
    assert net[2][0].weight is None and not net[2][0].training and int(net[1].num_batches_tracked) == 1
    single = fnx.nn.SyncBatchNorm.convert_sync_batchnorm(fnx.nn.BatchNorm1d(5))
    assert type(single) is fnx.nn.SyncBatchNorm and single.num_features == 5


def test_sync_batch_norm_against_torch():
    torch = import_torch(norms=True)
    x = np.random.default_rng(5).standard_normal((4, 3, 5)).astype(np.float32)
    ours, theirs = fnx.nn.SyncBatchNorm(3), torch.nn.SyncBatchNorm(3)
    assert repr(ours) == repr(theirs)
    np.testing.assert_allclose(np.asarray(ours(fnp.asarray(x)).detach()), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    for a, b in zip(ours.state_dict().values(), theirs.state_dict().values()):
        np.testing.assert_allclose(np.asarray(a), b.numpy(), rtol=1e-5)


def test_parameter_dict_sorts_a_plain_dicts_keys_as_torch():
    built = nn.ParameterDict({"b": fnp.ones(1), "a": fnp.ones(2)})
    built.update({"d": fnp.ones(1), "c": fnp.ones(1)})
    assert list(built) == ["a", "b", "c", "d"]
    assert [k for k, _ in built.named_parameters()] == ["a", "b", "c", "d"]
    ordered = nn.ParameterDict(OrderedDict([("b", fnp.ones(1)), ("a", fnp.ones(1))]))
    ordered.update(nn.ParameterDict(OrderedDict([("z", fnp.ones(1)), ("y", fnp.ones(1))])))
    ordered.update([("x", fnp.ones(1)), ("w", fnp.ones(1))])
    assert list(ordered) == ["b", "a", "z", "y", "x", "w"]  # ordered mappings and pairs keep their order
    torch = pytest.importorskip("torch")
    tbuilt = torch.nn.ParameterDict({"b": torch.nn.Parameter(torch.ones(1)), "a": torch.nn.Parameter(torch.ones(2))})
    assert list(tbuilt) == ["a", "b"]


def test_load_state_dict_prints_and_orders_its_report_as_torch():
    torch = pytest.importorskip("torch")
    bn, tbn = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    assert repr(bn.load_state_dict(bn.state_dict())) == repr(tbn.load_state_dict(tbn.state_dict()))
    assert str(bn.load_state_dict(bn.state_dict())) == "<All keys matched successfully>"
    extra, textra = {"x": fnp.ones(1), **bn.state_dict()}, {"x": torch.ones(1), **tbn.state_dict()}
    assert repr(bn.load_state_dict(extra, strict=False)) == repr(tbn.load_state_dict(textra, strict=False))
    assert bn.load_state_dict(extra, strict=False).unexpected_keys == ["x"]
    with pytest.raises(RuntimeError) as raised:
        bn.load_state_dict({"x": fnp.ones(1)})
    with pytest.raises(RuntimeError) as traised:
        tbn.load_state_dict({"x": torch.ones(1)})
    assert str(raised.value) == str(traised.value)  # missing keys first, then unexpected ones


def test_batch_norm_loads_a_checkpoint_without_its_step_count_as_torch():
    torch = pytest.importorskip("torch")
    bn, tbn = nn.BatchNorm1d(3), torch.nn.BatchNorm1d(3)
    for _ in range(2):
        bn(fnp.asarray(np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)))
    old = {k: v for k, v in tbn.state_dict().items() if k != "num_batches_tracked"}  # PyTorch before 0.4.1
    report = bn.load_state_dict({k: fnp.asarray(v.numpy()) for k, v in old.items()})
    assert repr(report) == repr(tbn.load_state_dict(old)) == "<All keys matched successfully>"
    assert int(bn.num_batches_tracked) == 2  # kept, as torch keeps its own
    assert "num_batches_tracked" not in old
    with pytest.raises(RuntimeError, match='Missing key.*"running_mean"'):  # the others are still required
        bn.load_state_dict({k: fnp.asarray(v.numpy()) for k, v in old.items() if k != "running_mean"})


def _encoder(lib, batch_first=True, nhead=2):
    layer = lib.nn.TransformerEncoderLayer(8, nhead, dim_feedforward=16, dropout=0.0, batch_first=batch_first)
    return lib.nn.TransformerEncoder(layer, 2, norm=lib.nn.LayerNorm(8))


def test_transformer_encoder_zeroes_padded_positions_where_pytorchs_inference_path_does():
    """In eval mode, with nothing to differentiate, PyTorch packs the unpadded tokens (nested tensors) and pads
    the result back with zeros before the final norm; fnx gives the same numbers."""
    fnx.manual_seed(0)
    enc = _encoder(fnx).eval()
    x = fnx.randn(2, 5, 8)
    pad = fnx.tensor([[False] * 5, [False, False, False, True, True]])
    with fnx.no_grad():
        out = enc(x, src_key_padding_mask=pad)
    bias = np.broadcast_to(np.asarray(enc.norm.bias.data), (2, 8))
    np.testing.assert_allclose(np.asarray(out)[1, 3:], bias, rtol=1e-6)  # norm(0) is the norm's bias
    assert not np.allclose(np.asarray(enc.train()(x, src_key_padding_mask=pad))[1, 3:], bias)
    scattered = fnx.tensor([[False, True, False, False, False], [False] * 5])  # not left-aligned: no packing
    with fnx.no_grad():
        assert not np.allclose(np.asarray(enc.eval()(x, src_key_padding_mask=scattered))[0, 1], bias[0])
    with pytest.warns(UserWarning, match="use_nested_tensor is False because encoder_layer.self_attn.batch_first"):
        _encoder(fnx, batch_first=False)


@pytest.mark.parametrize("batch_first,nhead", [(True, 2), (True, 1), (False, 2)])
def test_transformer_encoder_padding_against_torch(batch_first, nhead):
    torch = import_torch()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(0)
        theirs, ours = _encoder(torch, batch_first, nhead), _encoder(fnx, batch_first, nhead)
    ours.load_state_dict({k: fnx.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 5, 8) if batch_first else (5, 2, 8)).astype(np.float32)
    pad = np.array([[False] * 5, [False, False, False, True, True]])
    for train in (False, True):
        for leaf in (False, True):  # an input that requires grad still takes the path under no_grad
            theirs.train(train)
            ours.train(train)
            with torch.no_grad():
                want = theirs(torch.tensor(x, requires_grad=leaf), src_key_padding_mask=torch.tensor(pad)).numpy()
            with fnx.no_grad():
                got = ours(fnx.tensor(x, requires_grad=leaf), src_key_padding_mask=fnx.tensor(pad))
            np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-5)
