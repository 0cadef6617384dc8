"""fnx.nn layers against hand-written numpy formulas and PyTorch's documented names, shapes, inits and reprs.

Each layer is checked three ways: its output against an independent numpy
implementation of the formula PyTorch documents; its parameter names and
shapes against the ones PyTorch gives (hard-coded here, so ``state_dict``s
are interchangeable); and its gradients, ``loss.backward()`` against
``fnx.grad`` through ``functional_call`` and against central differences
(``check_grads``) in float64. Recurrent layers are in test_recurrent.py.
"""
import math
from collections import OrderedDict

import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx import nn
from fnx.nn import functional as F
from fnx.testing import check_grads
from .torch_reference import import_torch


def _np(x):
    return np.asarray(x.detach() if hasattr(x, "detach") else x)


def _rand(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _params(model):
    return {k: v.detach() for k, v in model.named_parameters()}


def _shapes(model):
    return [(k, tuple(v.shape)) for k, v in model.state_dict().items()]


# ----- parameter names and shapes: PyTorch's, hard-coded ----------------------------------------------------

PYTORCH_STATE = [
    ("nn.Linear(3, 4)", [("weight", (4, 3)), ("bias", (4,))]),
    ("nn.Linear(3, 4, bias=False)", [("weight", (4, 3))]),
    ("nn.Bilinear(2, 3, 4)", [("weight", (4, 2, 3)), ("bias", (4,))]),
    ("nn.Conv1d(4, 2, 3, bias=False)", [("weight", (2, 4, 3))]),
    ("nn.Conv2d(3, 6, (3, 5), groups=3)", [("weight", (6, 1, 3, 5)), ("bias", (6,))]),
    ("nn.ConvTranspose2d(4, 6, 3, groups=2)", [("weight", (4, 3, 3, 3)), ("bias", (6,))]),
    ("nn.ConvTranspose1d(2, 5, 4)", [("weight", (2, 5, 4)), ("bias", (5,))]),
    ("nn.BatchNorm2d(5)", [("weight", (5,)), ("bias", (5,)), ("running_mean", (5,)), ("running_var", (5,)),
                           ("num_batches_tracked", ())]),
    ("nn.BatchNorm1d(3, affine=False)", [("running_mean", (3,)), ("running_var", (3,)),
                                         ("num_batches_tracked", ())]),
    ("nn.BatchNorm1d(3, track_running_stats=False)", [("weight", (3,)), ("bias", (3,))]),
    ("nn.LayerNorm((2, 3))", [("weight", (2, 3)), ("bias", (2, 3))]),
    ("nn.LayerNorm(4, bias=False)", [("weight", (4,))]),
    ("nn.LayerNorm(4, elementwise_affine=False)", []),
    ("nn.GroupNorm(2, 4)", [("weight", (4,)), ("bias", (4,))]),
    ("nn.GroupNorm(2, 4, bias=False)", [("weight", (4,))]),
    ("nn.BatchNorm1d(3, bias=False)", [("weight", (3,)), ("running_mean", (3,)), ("running_var", (3,)),
                                       ("num_batches_tracked", ())]),
    ("nn.RMSNorm(4)", [("weight", (4,))]),
    ("nn.Embedding(10, 3)", [("weight", (10, 3))]),
    ("nn.PReLU(3)", [("weight", (3,))]),
    ("nn.MultiheadAttention(8, 2)", [("in_proj_weight", (24, 8)), ("in_proj_bias", (24,)),
                                     ("out_proj.weight", (8, 8)), ("out_proj.bias", (8,))]),
    ("nn.MultiheadAttention(8, 2, bias=False)", [("in_proj_weight", (24, 8)), ("out_proj.weight", (8, 8))]),
    ("nn.MultiheadAttention(8, 2, kdim=4, vdim=6, add_bias_kv=True)",
     [("q_proj_weight", (8, 8)), ("k_proj_weight", (8, 4)), ("v_proj_weight", (8, 6)), ("in_proj_bias", (24,)),
      ("bias_k", (1, 1, 8)), ("bias_v", (1, 1, 8)), ("out_proj.weight", (8, 8)), ("out_proj.bias", (8,))]),
    ("nn.TransformerEncoderLayer(8, 2, 16)",
     [("self_attn.in_proj_weight", (24, 8)), ("self_attn.in_proj_bias", (24,)), ("self_attn.out_proj.weight", (8, 8)),
      ("self_attn.out_proj.bias", (8,)), ("linear1.weight", (16, 8)), ("linear1.bias", (16,)),
      ("linear2.weight", (8, 16)), ("linear2.bias", (8,)), ("norm1.weight", (8,)), ("norm1.bias", (8,)),
      ("norm2.weight", (8,)), ("norm2.bias", (8,))]),
    ("nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 1))",
     [("0.weight", (2, 1, 3, 3)), ("0.bias", (2,)), ("3.weight", (1, 8)), ("3.bias", (1,))]),
    ("nn.CrossEntropyLoss(weight=ones(3))", [("weight", (3,))]),
    ("nn.CrossEntropyLoss()", []),
    ("nn.BCEWithLogitsLoss(pos_weight=ones(2))", [("pos_weight", (2,))]),
]


def _build(expr, lib=None):
    """A module from its constructor expression, in fnx.nn or (given ``lib``, torch) in torch.nn."""
    if lib is None:
        return eval(expr, {"nn": nn, "ones": fnp.ones, "F": F})
    return eval(expr, {"nn": lib.nn, "ones": lib.ones, "F": lib.nn.functional})


@pytest.mark.parametrize("expr, expected", PYTORCH_STATE, ids=[e for e, _ in PYTORCH_STATE])
def test_state_dict_names_and_shapes_match_pytorch(expr, expected):
    assert _shapes(_build(expr)) == expected


@pytest.mark.parametrize("expr, expected", PYTORCH_STATE, ids=[e for e, _ in PYTORCH_STATE])
def test_state_dict_names_and_shapes_are_torchs(expr, expected):
    torch = import_torch(norms="Norm" in expr)
    assert [(k, tuple(v.shape)) for k, v in _build(expr, torch).state_dict().items()] == expected


# ----- default initialisation ------------------------------------------------------------------------------


def _uniform_ok(x, bound):
    x = _np(x).ravel()
    assert np.abs(x).max() <= bound
    # a uniform on [-b, b] has std b / sqrt(3); the sample std errs by about 1 / sqrt(2 n) relatively
    assert abs(x.std() / (bound / math.sqrt(3)) - 1) < 5 / math.sqrt(2 * x.size)


def test_linear_and_conv_default_init():
    fnx.manual_seed(1)
    lin = nn.Linear(400, 300)
    _uniform_ok(lin.weight, 1 / 20)
    assert np.abs(_np(lin.bias)).max() <= 1 / 20 and _np(lin.bias).std() > 0.02
    conv = nn.Conv2d(16, 64, 3, groups=2)  # fan_in = 8 * 3 * 3
    _uniform_ok(conv.weight, 1 / math.sqrt(72))
    assert np.abs(_np(conv.bias)).max() <= 1 / math.sqrt(72)
    convt = nn.ConvTranspose2d(16, 64, 3)  # weight (16, 64, 3, 3): fan_in = 64 * 9, PyTorch's convention
    _uniform_ok(convt.weight, 1 / math.sqrt(64 * 9))
    bil = nn.Bilinear(50, 60, 70)
    _uniform_ok(bil.weight, 1 / math.sqrt(50))


def test_other_default_inits():
    fnx.manual_seed(2)
    emb = nn.Embedding(1000, 64, padding_idx=3)
    w = _np(emb.weight)
    assert not w[3].any()
    assert abs(w.mean()) < 0.02 and abs(w.std() - 1) < 0.02
    for norm in (nn.BatchNorm2d(4), nn.LayerNorm(4), nn.GroupNorm(2, 4)):
        np.testing.assert_array_equal(_np(norm.weight), np.ones(4))
        np.testing.assert_array_equal(_np(norm.bias), np.zeros(4))
    bn = nn.BatchNorm1d(3)
    np.testing.assert_array_equal(_np(bn.running_var), np.ones(3))
    assert bn.num_batches_tracked.dtype == np.int64 and int(bn.num_batches_tracked) == 0
    np.testing.assert_array_equal(_np(nn.PReLU(2, init=0.1).weight), np.full(2, 0.1, np.float32))
    mha = nn.MultiheadAttention(64, 4)
    _uniform_ok(mha.in_proj_weight, math.sqrt(6 / (64 + 192)))  # xavier_uniform_ of (3E, E)
    assert not _np(mha.in_proj_bias).any() and not _np(mha.out_proj.bias).any()
    _uniform_ok(mha.out_proj.weight, 1 / 8)  # Linear's own init


def test_init_reproducible_under_manual_seed():
    fnx.manual_seed(7)
    a = nn.Sequential(nn.Linear(3, 4), nn.Conv1d(2, 2, 3), nn.Embedding(5, 2))
    fnx.manual_seed(7)
    b = nn.Sequential(nn.Linear(3, 4), nn.Conv1d(2, 2, 3), nn.Embedding(5, 2))
    c = nn.Sequential(nn.Linear(3, 4), nn.Conv1d(2, 2, 3), nn.Embedding(5, 2))
    for k in a.state_dict():
        np.testing.assert_array_equal(_np(a.state_dict()[k]), _np(b.state_dict()[k]))
    assert not np.array_equal(_np(a[0].weight), _np(c[0].weight))


def test_factory_dtype_and_device():
    lin = nn.Linear(2, 3, dtype=fnp.float64, device="cpu:1")
    assert lin.weight.dtype == np.float64 and str(lin.bias.device) == "cpu:1"
    bn = nn.BatchNorm1d(2, dtype=fnp.float64, device="cpu:1")
    assert bn.running_mean.dtype == np.float64 and str(bn.num_batches_tracked.device) == "cpu:1"


# ----- reprs -----------------------------------------------------------------------------------------------

REPRS = [
    ("nn.Linear(2, 3)", "Linear(in_features=2, out_features=3, bias=True)"),
    ("nn.Linear(2, 3, bias=False)", "Linear(in_features=2, out_features=3, bias=False)"),
    ("nn.Bilinear(2, 3, 4)", "Bilinear(in1_features=2, in2_features=3, out_features=4, bias=True)"),
    ("nn.Identity()", "Identity()"),
    ("nn.Flatten()", "Flatten(start_dim=1, end_dim=-1)"),
    ("nn.Unflatten(1, (2, 5))", "Unflatten(dim=1, unflattened_size=(2, 5))"),
    ("nn.Conv2d(16, 33, 3, stride=2)", "Conv2d(16, 33, kernel_size=(3, 3), stride=(2, 2))"),
    ("nn.Conv2d(16, 33, (3, 5), stride=(2, 1), padding=(4, 2), dilation=(3, 1))",
     "Conv2d(16, 33, kernel_size=(3, 5), stride=(2, 1), padding=(4, 2), dilation=(3, 1))"),
    ("nn.Conv1d(4, 4, 3, groups=2, bias=False, padding_mode='circular', padding=1)",
     "Conv1d(4, 4, kernel_size=(3,), stride=(1,), padding=(1,), groups=2, bias=False, padding_mode=circular)"),
    ("nn.Conv2d(1, 1, 3, padding='valid')", "Conv2d(1, 1, kernel_size=(3, 3), stride=(1, 1), padding=valid)"),
    ("nn.ConvTranspose2d(16, 33, 3, stride=2, output_padding=1)",
     "ConvTranspose2d(16, 33, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1))"),
    ("nn.MaxPool2d(3, stride=2)", "MaxPool2d(kernel_size=3, stride=2, padding=0, dilation=1, ceil_mode=False)"),
    ("nn.MaxPool1d(2)", "MaxPool1d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"),
    ("nn.AvgPool2d(2)", "AvgPool2d(kernel_size=2, stride=2, padding=0)"),
    ("nn.AvgPool1d(3, stride=2)", "AvgPool1d(kernel_size=(3,), stride=(2,), padding=(0,))"),
    ("nn.AdaptiveAvgPool2d((5, 7))", "AdaptiveAvgPool2d(output_size=(5, 7))"),
    ("nn.AdaptiveAvgPool1d(5)", "AdaptiveAvgPool1d(output_size=5)"),
    ("nn.AdaptiveMaxPool2d(2)", "AdaptiveMaxPool2d(output_size=2)"),
    ("nn.BatchNorm2d(100)",
     "BatchNorm2d(100, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"),
    ("nn.BatchNorm1d(3, momentum=None, affine=False)",
     "BatchNorm1d(3, eps=1e-05, momentum=None, affine=False, bias=False, track_running_stats=True)"),
    ("nn.BatchNorm1d(3, bias=False)",
     "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=False, track_running_stats=True)"),
    ("nn.LayerNorm([5, 10])", "LayerNorm((5, 10), eps=1e-05, elementwise_affine=True, bias=True)"),
    ("nn.LayerNorm(3, elementwise_affine=False)", "LayerNorm((3,), eps=1e-05, elementwise_affine=False, bias=False)"),
    ("nn.GroupNorm(3, 6)", "GroupNorm(3, 6, eps=1e-05, affine=True, bias=True)"),
    ("nn.GroupNorm(3, 6, bias=False)", "GroupNorm(3, 6, eps=1e-05, affine=True, bias=False)"),
    ("nn.RMSNorm(4)", "RMSNorm((4,), eps=None, elementwise_affine=True)"),
    ("nn.Dropout(0.2)", "Dropout(p=0.2, inplace=False)"),
    ("nn.Dropout2d()", "Dropout2d(p=0.5, inplace=False)"),
    ("nn.Embedding(10, 3)", "Embedding(10, 3)"),
    ("nn.Embedding(10, 3, padding_idx=-1, max_norm=1.0)", "Embedding(10, 3, padding_idx=9, max_norm=1.0)"),
    ("nn.ReLU()", "ReLU()"),
    ("nn.ReLU(inplace=True)", "ReLU(inplace=True)"),
    ("nn.LeakyReLU()", "LeakyReLU(negative_slope=0.01)"),
    ("nn.ELU(alpha=0.5, inplace=True)", "ELU(alpha=0.5, inplace=True)"),
    ("nn.CELU()", "CELU(alpha=1.0)"),
    ("nn.SELU()", "SELU()"),
    ("nn.GELU(approximate='tanh')", "GELU(approximate='tanh')"),
    ("nn.SiLU()", "SiLU()"),
    ("nn.Tanh()", "Tanh()"),
    ("nn.Sigmoid()", "Sigmoid()"),
    ("nn.Softplus()", "Softplus(beta=1.0, threshold=20.0)"),
    ("nn.Softmax(dim=1)", "Softmax(dim=1)"),
    ("nn.LogSoftmax(dim=-1)", "LogSoftmax(dim=-1)"),
    ("nn.Hardtanh(-2.0, 2.0)", "Hardtanh(min_val=-2.0, max_val=2.0)"),
    ("nn.ReLU6()", "ReLU6()"),
    ("nn.Hardswish()", "Hardswish()"),
    ("nn.Threshold(0.1, 20.0)", "Threshold(threshold=0.1, value=20.0)"),
    ("nn.Mish()", "Mish()"),
    ("nn.PReLU()", "PReLU(num_parameters=1)"),
    ("nn.Softshrink()", "Softshrink(0.5)"),
    ("nn.GLU()", "GLU(dim=-1)"),
    ("nn.CrossEntropyLoss()", "CrossEntropyLoss()"),
    ("nn.MSELoss(reduction='sum')", "MSELoss()"),
    ("nn.Sequential(nn.Linear(2, 2), nn.ReLU())",
     "Sequential(\n  (0): Linear(in_features=2, out_features=2, bias=True)\n  (1): ReLU()\n)"),
    ("nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU()])",
     "ModuleList(\n  (0-1): 2 x Linear(in_features=2, out_features=2, bias=True)\n  (2): ReLU()\n)"),
    ("nn.MultiheadAttention(4, 2)",
     "MultiheadAttention(\n  (out_proj): NonDynamicallyQuantizableLinear(in_features=4, out_features=4, bias=True)\n)"),
]


@pytest.mark.parametrize("expr, expected", REPRS, ids=[e for e, _ in REPRS])
def test_reprs_match_pytorch(expr, expected):
    assert repr(_build(expr)) == expected


@pytest.mark.parametrize("expr, expected", REPRS, ids=[e for e, _ in REPRS])
def test_reprs_are_torchs(expr, expected):
    torch = import_torch(norms="Norm" in expr)
    assert repr(_build(expr, torch)) == expected


# ----- linear, flatten ---------------------------------------------------------------------------------------


def test_linear_matches_numpy_any_batch_shape():
    lin = nn.Linear(3, 2)
    x = _rand(4, 5, 3)
    want = x @ _np(lin.weight).T + _np(lin.bias)
    np.testing.assert_allclose(_np(lin(fnp.asarray(x))), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(lin(fnp.asarray(x[0, 0]))), want[0, 0], rtol=1e-5, atol=1e-6)
    with pytest.raises(fnx.errors.ShapeError, match="in_features = 3"):
        lin(fnp.ones((2, 4)))


def test_bilinear_matches_numpy():
    bil = nn.Bilinear(2, 3, 4)
    x1, x2 = _rand(5, 2), _rand(5, 3, seed=1)
    want = np.einsum("ni,kij,nj->nk", x1, _np(bil.weight), x2) + _np(bil.bias)
    np.testing.assert_allclose(_np(bil(fnp.asarray(x1), fnp.asarray(x2))), want, rtol=1e-5, atol=1e-6)


def test_identity_flatten_unflatten():
    x = fnp.asarray(_rand(2, 3, 4, 5))
    assert nn.Identity(3, foo=1)(x) is x
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, 2)(x).shape == (24, 5)
    assert nn.Flatten(-2)(x).shape == (2, 3, 20)
    np.testing.assert_array_equal(_np(nn.Unflatten(1, (3, 20))(nn.Flatten()(x))).reshape(x.shape), _np(x))
    assert nn.Unflatten(-1, (-1, 5))(fnp.ones((2, 10))).shape == (2, 2, 5)
    with pytest.raises(fnx.errors.ShapeError, match="Unflatten"):
        nn.Unflatten(1, (3, 3))(fnp.ones((2, 10)))


# ----- convolution and pooling ---------------------------------------------------------------------------------


def np_conv2d(x, w, b, stride=1, padding=0, dilation=1, groups=1):
    """Cross-correlation by its definition: one dot product per output element."""
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, _, hh, ww = x.shape
    o, cg, kh, kw = w.shape
    ho, wo = (hh - dilation * (kh - 1) - 1) // stride + 1, (ww - dilation * (kw - 1) - 1) // stride + 1
    out = np.zeros((n, o, ho, wo), np.float64)
    og = o // groups
    for oc in range(o):
        g = oc // og
        for i in range(ho):
            for j in range(wo):
                patch = x[:, g * cg:(g + 1) * cg, i * stride:i * stride + dilation * (kh - 1) + 1:dilation,
                          j * stride:j * stride + dilation * (kw - 1) + 1:dilation]
                out[:, oc, i, j] = (patch * w[oc]).sum(axis=(1, 2, 3))
    return out + (0 if b is None else b[:, None, None])


def np_conv_transpose2d(x, w, b, stride=1, padding=0, output_padding=0, groups=1):
    """Transposed convolution by its definition: every input element scatters a scaled kernel."""
    n, c, hh, ww = x.shape
    _, og, kh, kw = w.shape
    full = np.zeros((n, og * groups, (hh - 1) * stride + kh + output_padding, (ww - 1) * stride + kw + output_padding))
    cg = c // groups
    for ci in range(c):
        g = ci // cg
        for i in range(hh):
            for j in range(ww):
                full[:, g * og:(g + 1) * og, i * stride:i * stride + kh, j * stride:j * stride + kw] += \
                    x[:, ci, i, j][:, None, None, None] * w[ci][None]
    ho = (hh - 1) * stride - 2 * padding + kh + output_padding
    wo = (ww - 1) * stride - 2 * padding + kw + output_padding
    return full[:, :, padding:padding + ho, padding:padding + wo] + (0 if b is None else b[:, None, None])


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1), dict(dilation=2, padding=2, groups=2),
                                dict(bias=False, padding=1, stride=(1, 2))])
def test_conv2d_matches_numpy(kw):
    fnx.manual_seed(0)
    conv = nn.Conv2d(4, 6, 3, **kw)
    x = _rand(2, 4, 7, 8)
    stride = kw.get("stride", 1)
    got = _np(conv(fnp.asarray(x)))
    if isinstance(stride, tuple):  # numpy reference: a unit-stride result subsampled
        want = np_conv2d(x, _np(conv.weight), None, 1, kw.get("padding", 0))[:, :, ::stride[0], ::stride[1]]
    else:
        want = np_conv2d(x, _np(conv.weight), None if conv.bias is None else _np(conv.bias), stride,
                         kw.get("padding", 0), kw.get("dilation", 1), kw.get("groups", 1))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(conv(fnp.asarray(x[0]))), got[0], rtol=1e-5, atol=1e-6)  # unbatched (C, H, W)


@pytest.mark.parametrize("mode, np_mode", [("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")])
def test_conv_padding_modes(mode, np_mode):
    conv = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode)
    x = _rand(1, 2, 5, 6)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (2, 2)), mode=np_mode)
    want = np_conv2d(xp, _np(conv.weight), _np(conv.bias))
    np.testing.assert_allclose(_np(conv(fnp.asarray(x))), want, rtol=1e-4, atol=1e-5)


def test_conv_same_padding_puts_the_odd_element_last():
    conv = nn.Conv1d(1, 1, 4, padding="same", bias=False)
    x = _rand(1, 1, 9)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 2)))
    w = _np(conv.weight)[0, 0]
    want = np.array([(xp[0, 0, i:i + 4] * w).sum() for i in range(9)])
    np.testing.assert_allclose(_np(conv(fnp.asarray(x)))[0, 0], want, rtol=1e-5, atol=1e-6)
    cr = nn.Conv1d(1, 1, 4, padding="same", padding_mode="reflect", bias=False)
    assert cr(fnp.asarray(x)).shape == (1, 1, 9)


@pytest.mark.parametrize("kw", [dict(), dict(stride=2, padding=1, output_padding=1), dict(groups=2, stride=3)])
def test_conv_transpose2d_matches_numpy(kw):
    convt = nn.ConvTranspose2d(4, 6, 3, **kw)
    x = _rand(2, 4, 4, 5)
    want = np_conv_transpose2d(x, _np(convt.weight), _np(convt.bias), kw.get("stride", 1), kw.get("padding", 0),
                               kw.get("output_padding", 0), kw.get("groups", 1))
    np.testing.assert_allclose(_np(convt(fnp.asarray(x))), want, rtol=1e-4, atol=1e-5)


def test_conv_transpose_output_size():
    up = nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1)
    x = fnp.ones((1, 2, 4, 4))
    assert up(x).shape == (1, 2, 7, 7)
    assert up(x, output_size=(8, 8)).shape == (1, 2, 8, 8)
    assert up(x, output_size=[1, 2, 8, 7]).shape == (1, 2, 8, 7)
    with pytest.raises(ValueError, match=r"valid sizes range from \(7, 7\) to \(8, 8\)"):
        up(x, output_size=(9, 9))


def test_conv_constructor_errors():
    with pytest.raises(ValueError, match="in_channels \\(3\\) must be divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels \\(3\\) must be divisible by groups"):
        nn.Conv2d(4, 3, 3, groups=2)
    with pytest.raises(ValueError, match="not supported for strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="invalid padding string 'full'"):
        nn.Conv2d(1, 1, 3, padding="full")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match='only "zeros" padding mode'):
        nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect")


def test_pooling_layers_match_numpy():
    x = _rand(2, 3, 6, 8)
    blocks = x.reshape(2, 3, 3, 2, 4, 2)
    np.testing.assert_array_equal(_np(nn.MaxPool2d(2)(fnp.asarray(x))), blocks.max(axis=(3, 5)))
    np.testing.assert_allclose(_np(nn.AvgPool2d(2)(fnp.asarray(x))), blocks.mean(axis=(3, 5)), rtol=1e-6)
    np.testing.assert_allclose(_np(nn.AdaptiveAvgPool2d(1)(fnp.asarray(x)))[..., 0, 0], x.mean(axis=(2, 3)),
                               rtol=1e-5, atol=1e-6)
    y = _rand(2, 3, 7)
    np.testing.assert_array_equal(_np(nn.MaxPool1d(3, stride=2)(fnp.asarray(y))),
                                  np.stack([y[..., i:i + 3].max(-1) for i in (0, 2, 4)], -1))
    np.testing.assert_allclose(_np(nn.AvgPool1d(2)(fnp.asarray(y))), y[..., :6].reshape(2, 3, 3, 2).mean(-1),
                               rtol=1e-6)
    # adaptive windows floor(i L / out) .. ceil((i + 1) L / out): for L = 7, out = 3: [0, 3), [2, 5), [4, 7)
    np.testing.assert_allclose(_np(nn.AdaptiveAvgPool1d(3)(fnp.asarray(y))),
                               np.stack([y[..., a:b].mean(-1) for a, b in ((0, 3), (2, 5), (4, 7))], -1), rtol=1e-6)
    out, idx = nn.MaxPool2d(2, return_indices=True)(fnp.asarray(x))
    np.testing.assert_array_equal(_np(out), np.take_along_axis(x.reshape(2, 3, -1), _np(idx).reshape(2, 3, -1),
                                                               -1).reshape(out.shape))
    assert nn.AdaptiveMaxPool2d((2, 3))(fnp.asarray(x)).shape == (2, 3, 2, 3)


# ----- normalisation -----------------------------------------------------------------------------------------


def np_batch_norm(x, mean, var, w, b, eps=1e-5):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps) * w.reshape(shape) + b.reshape(shape)


@pytest.mark.parametrize("cls, shape", [(nn.BatchNorm1d, (8, 3)), (nn.BatchNorm1d, (4, 3, 5)),
                                        (nn.BatchNorm2d, (4, 3, 2, 5))])
def test_batchnorm_train_then_eval(cls, shape):
    bn = cls(3, momentum=0.3)
    nn.init.uniform_(bn.weight, 0.5, 1.5)
    nn.init.uniform_(bn.bias, -1.0, 1.0)
    w, b = _np(bn.weight).astype(np.float64), _np(bn.bias).astype(np.float64)
    axes = (0,) + tuple(range(2, len(shape)))
    rm, rv = np.zeros(3), np.ones(3)
    for step in range(4):
        x = _rand(*shape, seed=step) * (step + 1) + step
        old_mean = bn.running_mean
        y = bn(fnp.asarray(x))
        assert bn.running_mean is not old_mean  # rebound, not mutated
        n = x.size // 3
        mean, var = x.mean(axis=axes), x.var(axis=axes)
        np.testing.assert_allclose(_np(y), np_batch_norm(x, mean, var, w, b), rtol=1e-4, atol=1e-4)
        rm, rv = 0.7 * rm + 0.3 * mean, 0.7 * rv + 0.3 * var * n / (n - 1)  # unbiased variance in the average
        np.testing.assert_allclose(_np(bn.running_mean), rm, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(_np(bn.running_var), rv, rtol=1e-5, atol=1e-6)
        assert int(bn.num_batches_tracked) == step + 1
    bn.eval()
    x = _rand(*shape, seed=9)
    np.testing.assert_allclose(_np(bn(fnp.asarray(x))), np_batch_norm(x, rm, rv, w, b), rtol=1e-4, atol=1e-5)
    assert int(bn.num_batches_tracked) == 4  # eval leaves the statistics alone
    np.testing.assert_allclose(_np(bn.running_mean), rm, rtol=1e-5, atol=1e-6)


def test_batchnorm_cumulative_average_with_momentum_none():
    bn = nn.BatchNorm1d(2, momentum=None)
    xs = [_rand(5, 2, seed=s) + s for s in range(3)]
    for x in xs:
        bn(fnp.asarray(x))
    np.testing.assert_allclose(_np(bn.running_mean), np.mean([x.mean(0) for x in xs], axis=0), rtol=1e-5)
    np.testing.assert_allclose(_np(bn.running_var), np.mean([x.var(0, ddof=1) for x in xs], axis=0), rtol=1e-5)


def test_batchnorm_without_running_stats_and_affine():
    bn = nn.BatchNorm1d(3, affine=False, track_running_stats=False).eval()
    x = _rand(6, 3)
    np.testing.assert_allclose(_np(bn(fnp.asarray(x))), (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5), rtol=1e-4,
                               atol=1e-5)
    assert bn.running_mean is None and list(bn.state_dict()) == []


def test_batchnorm_errors_and_gradients():
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input"):
        nn.BatchNorm2d(3)(fnp.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="2D or 3D"):
        nn.BatchNorm1d(3)(fnp.ones((2, 3, 4, 5)))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(fnp.ones((1, 3)))
    bn = nn.BatchNorm1d(3)
    fnp.sum(bn(fnp.asarray(_rand(4, 3))) ** 3).backward()
    assert bn.weight.grad.shape == (3,) and not bn.running_mean.requires_grad  # buffers carry no graph
    assert type(bn._buffers["running_mean"]) is fnx.Array


def test_layer_group_rms_norm_match_numpy():
    x = _rand(2, 4, 3, 5)
    ln = nn.LayerNorm((3, 5))
    nn.init.normal_(ln.weight)
    nn.init.normal_(ln.bias)
    m, v = x.mean(axis=(2, 3), keepdims=True), x.var(axis=(2, 3), keepdims=True)
    np.testing.assert_allclose(_np(ln(fnp.asarray(x))), (x - m) / np.sqrt(v + 1e-5) * _np(ln.weight) + _np(ln.bias),
                               rtol=1e-4, atol=1e-5)
    gn = nn.GroupNorm(2, 4, eps=1e-3)
    nn.init.normal_(gn.weight)
    g = x.reshape(2, 2, -1)
    want = ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + 1e-3)).reshape(x.shape)
    want = want * _np(gn.weight)[:, None, None] + _np(gn.bias)[:, None, None]
    np.testing.assert_allclose(_np(gn(fnp.asarray(x))), want, rtol=1e-4, atol=1e-5)
    rms = nn.RMSNorm(5, eps=1e-6)
    np.testing.assert_allclose(_np(rms(fnp.asarray(x))), x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-6),
                               rtol=1e-5)
    with pytest.raises(ValueError, match="divisible by num_groups"):
        nn.GroupNorm(3, 4)


# ----- dropout --------------------------------------------------------------------------------------------------


def test_dropout_train_and_eval():
    drop = nn.Dropout(0.3)
    x = fnp.ones((100, 100))
    y = _np(drop(x))
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.7)}
    assert abs((y == 0).mean() - 0.3) < 0.02
    np.testing.assert_array_equal(_np(drop(x, key=fnx.random.key(3))), _np(drop(x, key=fnx.random.key(3))))
    fnx.manual_seed(4)
    a = _np(drop(x))
    fnx.manual_seed(4)
    np.testing.assert_array_equal(a, _np(drop(x)))
    drop.eval()
    assert drop(x) is x or np.array_equal(_np(drop(x)), _np(x))
    d2 = nn.Dropout2d(0.5)(fnp.ones((2, 16, 3, 3)))
    per_channel = _np(d2).reshape(2, 16, 9)
    assert (per_channel.min(-1) == per_channel.max(-1)).all()
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


# ----- embedding -------------------------------------------------------------------------------------------------


def test_embedding_lookup_and_padding_gradient():
    emb = nn.Embedding(6, 3, padding_idx=2)
    idx = np.array([[0, 2, 5], [2, 2, 1]])
    np.testing.assert_array_equal(_np(emb(fnp.asarray(idx))), _np(emb.weight)[idx])
    fnp.sum(emb(fnp.asarray(idx)) ** 2).backward()
    grad = _np(emb.weight.grad)
    assert not grad[2].any() and not grad[3].any()
    np.testing.assert_allclose(grad[0], 2 * _np(emb.weight)[0], rtol=1e-6)
    with pytest.raises(IndexError, match="out of range"):
        emb(fnp.array([6]))
    with pytest.raises(ValueError, match="padding_idx"):
        nn.Embedding(3, 2, padding_idx=3)


def test_embedding_from_pretrained_and_max_norm():
    table = fnp.asarray(np.arange(12.0, dtype=np.float32).reshape(4, 3))
    emb = nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad
    np.testing.assert_array_equal(_np(emb(fnp.array([3, 0]))), _np(table)[[3, 0]])
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    capped = nn.Embedding.from_pretrained(table, max_norm=2.0)
    out = _np(capped(fnp.array([1, 2])))
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 2.0, rtol=1e-5)
    w = _np(capped.weight)  # PyTorch renormalises the looked-up rows of the weight itself
    np.testing.assert_allclose(np.linalg.norm(w[1:3], axis=1), 2.0, rtol=1e-5)
    np.testing.assert_array_equal(w[3], _np(table)[3])


# ----- attention ---------------------------------------------------------------------------------------------------


def _softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def np_mha(q, k, v, mha, attn_mask=None, key_padding_mask=None):
    """PyTorch's documented multi-head attention, one (batch, head) pair at a time, in (L, N, E) layout."""
    e, h = mha.embed_dim, mha.num_heads
    hd = e // h
    if mha.in_proj_weight is not None:
        wq, wk, wv = np.split(_np(mha.in_proj_weight).astype(np.float64), 3)
    else:
        wq, wk, wv = (_np(w).astype(np.float64) for w in (mha.q_proj_weight, mha.k_proj_weight, mha.v_proj_weight))
    bq, bk, bv = np.split(_np(mha.in_proj_bias).astype(np.float64), 3)
    qp, kp, vp = q @ wq.T + bq, k @ wk.T + bk, v @ wv.T + bv
    length, n = q.shape[:2]
    src = k.shape[0]
    out = np.zeros((length, n, e))
    weights = np.zeros((n, h, length, src))
    for b in range(n):
        for j in range(h):
            cols = slice(j * hd, (j + 1) * hd)
            s = qp[:, b, cols] @ kp[:, b, cols].T / math.sqrt(hd)
            if attn_mask is not None:
                m = attn_mask if attn_mask.ndim == 2 else attn_mask[b * h + j]
                s = s + (np.where(m, -np.inf, 0.0) if m.dtype == bool else m)
            if key_padding_mask is not None:
                s = s + np.where(key_padding_mask[b], -np.inf, 0.0)[None, :]
            a = _softmax(s)
            weights[b, j] = a
            out[:, b, cols] = a @ vp[:, b, cols]
    out = out @ _np(mha.out_proj.weight).T.astype(np.float64) + _np(mha.out_proj.bias)
    return out, weights


@pytest.mark.parametrize("batch_first", [False, True])
def test_multihead_attention_matches_numpy(batch_first):
    mha = nn.MultiheadAttention(8, 2, batch_first=batch_first)
    nn.init.normal_(mha.in_proj_bias)
    q, k, v = _rand(5, 3, 8), _rand(7, 3, 8, seed=1), _rand(7, 3, 8, seed=2)
    attn_mask = np.triu(np.ones((5, 7), bool), 3)
    kpm = np.zeros((3, 7), bool)
    kpm[1, 5:] = True
    want, want_w = np_mha(q, k, v, mha, attn_mask, kpm)
    t = (lambda a: fnp.asarray(a.swapaxes(0, 1))) if batch_first else fnp.asarray
    out, w = mha(t(q), t(k), t(v), key_padding_mask=fnp.asarray(kpm), attn_mask=fnp.asarray(attn_mask))
    out = _np(out).swapaxes(0, 1) if batch_first else _np(out)
    np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(w), want_w.mean(1), rtol=1e-4, atol=1e-6)
    _, w_all = mha(t(q), t(k), t(v), key_padding_mask=fnp.asarray(kpm), attn_mask=fnp.asarray(attn_mask),
                   average_attn_weights=False)
    np.testing.assert_allclose(_np(w_all), want_w, rtol=1e-4, atol=1e-6)
    assert mha(t(q), t(k), t(v), need_weights=False)[1] is None


def test_multihead_attention_float_3d_mask_unbatched_and_kvdims():
    mha = nn.MultiheadAttention(6, 3, kdim=4, vdim=5)
    q, k, v = _rand(4, 2, 6), _rand(3, 2, 4, seed=1), _rand(3, 2, 5, seed=2)
    mask = _rand(6, 4, 3, seed=3)  # (N * heads, L, S), batch-major rows
    want, want_w = np_mha(q, k, v, mha, mask)
    out, w = mha(fnp.asarray(q), fnp.asarray(k), fnp.asarray(v), attn_mask=fnp.asarray(mask))
    np.testing.assert_allclose(_np(out), want, rtol=1e-4, atol=1e-5)
    out1, w1 = mha(fnp.asarray(q[:, 1]), fnp.asarray(k[:, 1]), fnp.asarray(v[:, 1]))
    want1, want_w1 = np_mha(q[:, 1:2], k[:, 1:2], v[:, 1:2], mha)
    np.testing.assert_allclose(_np(out1), want1[:, 0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(w1), want_w1[0].mean(0), rtol=1e-4, atol=1e-6)
    with pytest.raises(fnx.errors.ShapeError, match="2D attn_mask"):
        mha(fnp.asarray(q), fnp.asarray(k), fnp.asarray(v), attn_mask=fnp.zeros((4, 4)))
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.MultiheadAttention(6, 4)


def test_multihead_attention_bias_kv_zero_attn_and_dropout():
    mha = nn.MultiheadAttention(4, 2, add_bias_kv=True, add_zero_attn=True, dropout=0.5)
    x = fnp.asarray(_rand(3, 2, 4))
    _, w = mha(x, x, x)
    assert w.shape == (2, 3, 5)  # 3 keys + bias_k + the zero key
    out_a, _ = mha(x, x, x, key_rng=fnx.random.key(0))
    out_b, _ = mha(x, x, x, key_rng=fnx.random.key(0))
    np.testing.assert_array_equal(_np(out_a), _np(out_b))
    mha.eval()
    np.testing.assert_allclose(_np(mha(x, x, x)[1]).sum(-1), 1.0, rtol=1e-6)


def np_layer_norm(x, w, b, eps=1e-5):
    return (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + eps) * w + b


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_encoder_layer_matches_numpy(norm_first):
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, norm_first=norm_first).eval()
    for p in (layer.norm1.weight, layer.norm2.bias, layer.self_attn.in_proj_bias):
        nn.init.normal_(p)
    x = _rand(5, 3, 8)
    p = {k: _np(v).astype(np.float64) for k, v in layer.state_dict().items()}

    def sa(y):
        return np_mha(y, y, y, layer.self_attn)[0]

    def ff(y):
        return np.maximum(y @ p["linear1.weight"].T + p["linear1.bias"], 0) @ p["linear2.weight"].T + p["linear2.bias"]

    def ln(y, i):
        return np_layer_norm(y, p[f"norm{i}.weight"], p[f"norm{i}.bias"])
    if norm_first:
        y = x + sa(ln(x, 1))
        want = y + ff(ln(y, 2))
    else:
        y = ln(x + sa(x), 1)
        want = ln(y + ff(y), 2)
    np.testing.assert_allclose(_np(layer(fnp.asarray(x))), want, rtol=1e-4, atol=1e-4)


def test_transformer_encoder_shapes_masks_and_activation():
    layer = nn.TransformerEncoderLayer(8, 2, 16, activation="gelu", batch_first=True)
    assert layer.activation is F.gelu
    x = fnp.asarray(_rand(3, 5, 8))
    causal = fnp.triu(fnp.ones((5, 5), dtype=bool), 1)
    assert layer(x, src_mask=causal, is_causal=True).shape == (3, 5, 8)
    enc = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8)).eval()
    assert enc(x, src_key_padding_mask=fnp.zeros((3, 5), dtype=bool)).shape == (3, 5, 8)
    assert enc.layers[0].linear1.weight is not enc.layers[1].linear1.weight
    assert len(list(enc.parameters())) == 2 * 12 + 2
    custom = nn.TransformerEncoderLayer(8, 2, 16, activation=nn.SiLU())
    assert "activation" in dict(custom.named_children())
    with pytest.raises(ValueError, match="relu/gelu"):
        nn.TransformerEncoderLayer(8, 2, activation="swish")


# ----- containers ------------------------------------------------------------------------------------------------


def test_sequential_operations():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    sub = seq[1:]
    assert type(sub) is nn.Sequential and list(sub) == [b, c] and list(sub._modules) == ["1", "2"]
    x = fnp.asarray(_rand(4, 2))
    np.testing.assert_allclose(_np(seq(x)), _np(c(b(a(x)))), rtol=1e-6)
    seq.append(nn.Sigmoid())
    assert list(seq._modules) == ["0", "1", "2", "3"]
    seq.insert(1, nn.Identity())
    assert isinstance(seq[1], nn.Identity) and seq[2] is b and len(seq) == 5
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2", "3"] and seq[1] is b
    seq.extend([nn.Tanh()])
    seq[0] = nn.Linear(2, 3)
    assert seq[0] is not a and len(seq) == 5
    assert seq.pop(-1).__class__ is nn.Tanh and len(seq) == 4
    od = nn.Sequential(OrderedDict([("enc", a), ("act", b)]))
    assert list(od._modules) == ["enc", "act"] and od.enc is a
    assert [n for n, _ in od.named_parameters()] == ["enc.weight", "enc.bias"]
    assert len(od + nn.Sequential(c)) == 3
    with pytest.raises(IndexError, match="out of range"):
        seq[10]


def test_modulelist_operations():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(2)])
    layers.append(nn.ReLU())
    layers.extend([nn.Tanh()])
    layers.insert(0, nn.Sigmoid())
    assert [type(m).__name__ for m in layers] == ["Sigmoid", "Linear", "Linear", "ReLU", "Tanh"]
    assert list(layers._modules) == ["0", "1", "2", "3", "4"]
    assert isinstance(layers[-1], nn.Tanh) and type(layers[1:3]) is nn.ModuleList and len(layers[1:3]) == 2
    del layers[0]
    assert list(layers._modules) == ["0", "1", "2", "3"] and isinstance(layers[0], nn.Linear)
    layers[1] = nn.Identity()  # replacing keeps the position
    assert list(layers._modules) == ["0", "1", "2", "3"] and isinstance(layers[1], nn.Identity)
    layers += [nn.GELU()]
    assert len(layers) == 5 and [n for n, _ in layers.named_parameters()] == ["0.weight", "0.bias"]
    with pytest.raises(TypeError, match="iterable"):
        layers.extend(nn.ReLU())
    with pytest.raises(TypeError, match="Module"):
        layers.append(3)
    assert repr(nn.ModuleList()) == "ModuleList()"


def test_moduledict_operations():
    d = nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.ReLU()})
    d["c"] = nn.Tanh()
    assert list(d) == ["a", "b", "c"] and list(d.keys()) == ["a", "b", "c"] and "b" in d and len(d) == 3
    assert isinstance(d.pop("b"), nn.ReLU) and "b" not in d
    d.update([("e", nn.Sigmoid())])
    d["a"] = nn.Linear(2, 2)  # replacing keeps the position
    assert [k for k, _ in d.items()] == ["a", "c", "e"]
    assert [n for n, _ in d.named_parameters()] == ["a.weight", "a.bias"]
    d.clear()
    assert len(d) == 0


# ----- activations and losses --------------------------------------------------------------------------------------

ACTIVATIONS = [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.ELU(), lambda x: np.where(x > 0, x, np.expm1(x))),
    (nn.GELU(), lambda x: x * 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))),
    (nn.GELU("tanh"), lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
    (nn.SiLU(), lambda x: x / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Softplus(beta=2.0), lambda x: np.log1p(np.exp(2 * x)) / 2),
    (nn.Softmax(dim=1), lambda x: _softmax(x.swapaxes(1, -1)).swapaxes(1, -1)),
    (nn.LogSoftmax(dim=-1), lambda x: np.log(_softmax(x))),
    (nn.Hardtanh(-0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5)),
    (nn.ReLU6(), lambda x: np.clip(x, 0, 6)),
    (nn.Mish(), lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    (nn.PReLU(), lambda x: np.where(x > 0, x, 0.25 * x)),
    (nn.Softsign(), lambda x: x / (1 + np.abs(x))),
    (nn.Threshold(0.1, 20.0), lambda x: np.where(x > 0.1, x, 20.0)),
    (nn.GLU(dim=1), lambda x: x[:, :2] / (1 + np.exp(-x[:, 2:]))),
]


@pytest.mark.parametrize("module, ref", ACTIVATIONS, ids=[repr(m) for m, _ in ACTIVATIONS])
def test_activation_modules(module, ref):
    x = _rand(3, 4, 2) * 3
    np.testing.assert_allclose(_np(module(fnp.asarray(x))), ref(x.astype(np.float64)), rtol=1e-5, atol=1e-6)


def test_loss_modules_forward_options():
    rng = np.random.default_rng(0)
    logits = fnp.asarray(rng.standard_normal((6, 4)).astype(np.float32))
    target = fnp.array([0, 3, 1, -100, 2, 2])
    w = fnp.array([1.0, 2.0, 0.5, 1.0])
    pairs = [
        (nn.CrossEntropyLoss(weight=w, ignore_index=-100, label_smoothing=0.1)(logits, target),
         F.cross_entropy(logits, target, weight=w, label_smoothing=0.1)),
        (nn.NLLLoss(reduction="sum")(F.log_softmax(logits, 1), fnp.abs(target) % 4),
         F.nll_loss(F.log_softmax(logits, 1), fnp.abs(target) % 4, reduction="sum")),
        (nn.MSELoss(reduction="none")(logits, logits * 2), (_np(logits) ** 2)),
        (nn.L1Loss()(logits, 0.0 * logits), np.abs(_np(logits)).mean()),
        (nn.SmoothL1Loss(beta=0.5)(logits, 0.0 * logits), F.smooth_l1_loss(logits, 0.0 * logits, beta=0.5)),
        (nn.HuberLoss(delta=0.5)(logits, 0.0 * logits), F.huber_loss(logits, 0.0 * logits, delta=0.5)),
        (nn.BCELoss()(F.sigmoid(logits), fnp.ones((6, 4))), F.binary_cross_entropy(F.sigmoid(logits),
                                                                                  fnp.ones((6, 4)))),
        (nn.BCEWithLogitsLoss(pos_weight=w)(logits, fnp.ones((6, 4))),
         np.mean(-_np(w) * np.log(1 / (1 + np.exp(-_np(logits).astype(np.float64)))))),
        (nn.KLDivLoss(reduction="batchmean")(F.log_softmax(logits, 1), F.softmax(logits * 0.5, 1)),
         F.kl_div(F.log_softmax(logits, 1), F.softmax(logits * 0.5, 1), reduction="batchmean")),
    ]
    for got, want in pairs:
        np.testing.assert_allclose(_np(got), _np(want), rtol=1e-5, atol=1e-6)
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert nn.MSELoss(size_average=False).reduction == "sum"


def test_loss_weight_buffer_follows_to():
    loss = nn.CrossEntropyLoss(weight=fnp.ones(3)).to("cpu:1")
    assert str(loss.weight.device) == "cpu:1"
    assert loss.state_dict()["weight"].shape == (3,)


# ----- gradients: backward() equals grad(functional_call), and central differences in float64 -----------------------

GRAD_CASES = [
    ("linear", lambda: nn.Linear(3, 2), (4, 3)),
    ("conv2d", lambda: nn.Conv2d(2, 3, 3, padding=1, stride=2, groups=1), (2, 2, 5, 5)),
    ("conv_transpose1d", lambda: nn.ConvTranspose1d(2, 2, 3, stride=2), (2, 2, 4)),
    ("batchnorm_train", lambda: nn.BatchNorm1d(3), (5, 3)),
    ("layernorm", lambda: nn.LayerNorm(4), (3, 4)),
    ("groupnorm", lambda: nn.GroupNorm(2, 4), (2, 4, 3)),
    ("prelu", lambda: nn.PReLU(3), (2, 3, 4)),
    ("mlp", lambda: nn.Sequential(nn.Linear(3, 4), nn.GELU(), nn.Linear(4, 2), nn.LogSoftmax(dim=-1)), (5, 3)),
    ("attention", lambda: nn.MultiheadAttention(4, 2), None),
    ("encoder_layer", lambda: nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0), (3, 2, 4)),
]


def _call(model, shape, rng):
    if shape is None:  # attention: three inputs, output and weights
        q = fnp.asarray(rng.standard_normal((3, 2, 4)))
        return lambda p, x: sum(fnp.sum(o * o) for o in nn.functional_call(model, p, (x, q, q))), (3, 2, 4)
    return lambda p, x: fnp.sum(fnp.sin(nn.functional_call(model, p, (x,)))), shape


@pytest.mark.parametrize("name, make, shape", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_backward_matches_grad_and_finite_differences(name, make, shape):
    fnx.manual_seed(0)
    model = make().to(fnp.float64)
    rng = np.random.default_rng(1)
    for p in model.parameters():  # move affine params off their trivial initial values
        p.set_(p.detach() + fnp.asarray(0.1 * rng.standard_normal(p.shape)))
    f, xshape = _call(model, shape, rng)
    x = fnp.asarray(rng.standard_normal(xshape))
    f({k: v for k, v in model.named_parameters()}, x).backward()
    g = fnx.grad(f)(_params(model), x)
    for k, p in model.named_parameters():
        np.testing.assert_allclose(_np(p.grad), _np(g[k]), rtol=1e-10, atol=1e-12)
    check_grads(f, (_params(model), x), order=1, modes=("rev",))


def test_float32_gradients_keep_dtype():
    conv = nn.Conv2d(1, 2, 3)
    fnp.sum(conv(fnp.ones((1, 1, 4, 4)))).backward()
    assert conv.weight.grad.dtype == np.float32 and conv.bias.grad.dtype == np.float32


# ----- optional: the same state_dict in PyTorch gives the same outputs -----------------------------------------------

def _torch_pairs():
    return [
        ("Linear", lambda m: m.Linear(3, 4), (5, 3)),
        ("Conv2d", lambda m: m.Conv2d(2, 4, 3, stride=2, padding=1, groups=2), (2, 2, 7, 7)),
        ("ConvTranspose2d", lambda m: m.ConvTranspose2d(2, 4, 3, stride=2, padding=1, output_padding=1),
         (2, 2, 4, 4)),
        ("BatchNorm2d", lambda m: m.BatchNorm2d(2), (4, 2, 3, 3)),
        ("LayerNorm", lambda m: m.LayerNorm(5), (2, 5)),
        ("GroupNorm", lambda m: m.GroupNorm(2, 4), (2, 4, 3)),
        ("Embedding", lambda m: m.Embedding(7, 3, padding_idx=0), None),
        ("MultiheadAttention", lambda m: m.MultiheadAttention(8, 2), (4, 3, 8)),
        ("TransformerEncoderLayer", lambda m: m.TransformerEncoderLayer(8, 2, 16, norm_first=True), (4, 3, 8)),
    ]


@pytest.mark.parametrize("name, make, shape", _torch_pairs(), ids=[p[0] for p in _torch_pairs()])
def test_same_outputs_as_torch(name, make, shape):
    torch = pytest.importorskip("torch")
    ours = make(nn).eval()
    theirs = make(torch.nn).eval()
    theirs.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in ours.state_dict().items()})
    if shape is None:
        x = np.array([[0, 3, 6], [1, 0, 2]])
        ins_f, ins_t = (fnp.asarray(x),), (torch.tensor(x),)
    else:
        x = _rand(*shape)
        ins_f, ins_t = (fnp.asarray(x),), (torch.tensor(x),)
        if name == "MultiheadAttention":
            ins_f, ins_t = ins_f * 3, ins_t * 3
    with torch.no_grad():
        want = theirs(*ins_t)
    got = ours(*ins_f)
    if isinstance(want, tuple):
        got, want = got[0], want[0]
    np.testing.assert_allclose(_np(got), want.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kw", [dict(kdim=4, vdim=6), dict(add_bias_kv=True, add_zero_attn=True),
                                dict(bias=False, batch_first=True)], ids=str)
def test_attention_variants_same_as_torch(kw):
    torch = pytest.importorskip("torch")
    ours, theirs = nn.MultiheadAttention(8, 2, **kw).eval(), torch.nn.MultiheadAttention(8, 2, **kw).eval()
    theirs.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in ours.state_dict().items()})
    shape = (lambda n, d: (3, n, d)) if kw.get("batch_first") else (lambda n, d: (n, 3, d))
    q, k, v = _rand(*shape(5, 8)), _rand(*shape(7, kw.get("kdim", 8)), seed=1), _rand(*shape(7, kw.get("vdim", 8)),
                                                                                     seed=2)
    mask, kpm = np.triu(np.ones((5, 7), bool), 3), np.zeros((3, 7), bool)
    kpm[1, 5:] = True
    with torch.no_grad():
        want = theirs(*map(torch.tensor, (q, k, v)), key_padding_mask=torch.tensor(kpm), attn_mask=torch.tensor(mask),
                      average_attn_weights=False)
    got = ours(*map(fnp.asarray, (q, k, v)), key_padding_mask=fnp.asarray(kpm), attn_mask=fnp.asarray(mask),
               average_attn_weights=False)
    for g, w in zip(got, want):
        np.testing.assert_allclose(_np(g), w.numpy(), rtol=1e-4, atol=1e-5)


def test_stateful_updates_same_as_torch():
    torch = pytest.importorskip("torch")
    for momentum in (0.1, None):
        ours, theirs = nn.BatchNorm1d(3, momentum=momentum), torch.nn.BatchNorm1d(3, momentum=momentum)
        for step in range(3):
            x = _rand(5, 3, 2, seed=step) + step
            np.testing.assert_allclose(_np(ours(fnp.asarray(x))), theirs(torch.tensor(x)).detach().numpy(),
                                       rtol=1e-4, atol=1e-5)
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            np.testing.assert_allclose(_np(getattr(ours, name)), getattr(theirs, name).numpy(), rtol=1e-5)
    ours, theirs = nn.Embedding(5, 3, max_norm=1.0), torch.nn.Embedding(5, 3, max_norm=1.0)
    theirs.load_state_dict({"weight": torch.tensor(_np(ours.weight))})
    idx = np.array([[1, 2], [2, 4]])
    np.testing.assert_allclose(_np(ours(fnp.asarray(idx))), theirs(torch.tensor(idx)).detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(_np(ours.weight), theirs.weight.detach().numpy(), rtol=1e-6)
