"""torch's top-level names for functional ops, scatters, splits, histograms and Cholesky solves (fnx/tensor.py):
checked against their documented semantics written with numpy, for gradients, and against PyTorch itself where
it is installed."""
import numpy as np
import pytest

import fnx
import fnx.nn.functional as F
import fnx.numpy as fnp
from fnx.errors import ShapeError
from fnx.tensor import _FUNCTIONAL
from fnx.testing import check_grads

rng = np.random.default_rng(0)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


def close(got, want, rtol=1e-6, atol=1e-9):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


@pytest.mark.parametrize("name", _FUNCTIONAL)
def test_functional_names_forward_every_argument_to_fnx_nn_functional(name, monkeypatch):
    monkeypatch.setattr(F, name, lambda *args, **kwargs: (name, args, kwargs))
    assert getattr(fnx, name)(1, 2, k=3) == (name, (1, 2), {"k": 3})


def test_functional_names_compute_what_functional_computes():
    x, w = fnp.asarray(rng.standard_normal((2, 4, 5, 5))), fnp.asarray(rng.standard_normal((3, 4, 2, 2)))
    close(fnx.conv2d(x, w, None, 1, 1), F.conv2d(x, w, padding=1))
    close(fnx.pixel_shuffle(x, 2), F.pixel_shuffle(x, 2))
    close(fnx.layer_norm(x, (5,)), F.layer_norm(x, (5,)))


def test_renorm_scales_only_the_slices_over_maxnorm_and_differentiates_through_the_norm():
    x = rng.standard_normal((3, 4, 2))
    for p, dim in ((2, 0), (1, 1), (3, -1)):
        norms = (np.abs(x) ** p).sum(axis=tuple(k for k in range(3) if k != dim % 3), keepdims=True) ** (1 / p)
        maxnorm = float(np.median(norms))
        want = x * np.where(norms > maxnorm, maxnorm / (norms + 1e-7), 1.0)
        close(fnx.renorm(fnp.asarray(x), p, dim, maxnorm), want)
        close(fnp.asarray(x).renorm(p, dim, maxnorm), want)
    check_grads(lambda v: fnx.renorm(v, 2, 0, 1.0), (fnp.asarray(x),), order=1)


def test_scatters_replace_the_selected_part():
    x = fnp.asarray(rng.standard_normal((3, 4, 5)))
    want = np.asarray(x).copy()
    want[:, 2] = 7.0
    close(fnx.select_scatter(x, fnp.full((3, 5), 7.0, dtype=x.dtype), 1, 2), want)
    want = np.asarray(x).copy()
    want[..., 1:5:2] = 0.0
    close(fnx.slice_scatter(x, fnp.zeros((3, 4, 2), dtype=x.dtype), 2, 1, 5, 2), want)
    want = np.asarray(x).copy()
    want[np.arange(3), :, np.arange(3) + 1] = -1.0  # offset 1 over dims 0 and 2: the diagonal last in src
    close(fnx.diagonal_scatter(x, -fnp.ones((4, 3), dtype=x.dtype), 1, 0, 2), want)
    with pytest.raises(ShapeError, match="select_scatter: src has shape"):
        fnx.select_scatter(x, fnp.zeros((3, 4)), 1, 0)
    check_grads(lambda a, s: fnx.diagonal_scatter(a, s, -1, 1, 2), (x, fnp.ones((3, 3), dtype=x.dtype)), order=1)


def test_splits_name_their_axis_and_need_even_sections():
    x = fnp.arange(24.0).reshape(2, 3, 4)
    assert [p.shape for p in fnx.vsplit(x, 2)] == [(1, 3, 4)] * 2
    assert [p.shape for p in fnx.hsplit(x, [1])] == [(2, 1, 4), (2, 2, 4)]
    assert [p.shape for p in fnx.dsplit(x, 4)] == [(2, 3, 1)] * 4
    assert [p.shape for p in fnx.hsplit(fnp.arange(6.0), 3)] == [(2,)] * 3  # 1-d: along axis 0
    assert isinstance(x.vsplit(2), tuple)
    with pytest.raises(ShapeError, match="hsplit: 2 sections do not evenly divide axis 1"):
        fnx.hsplit(x, 2)
    with pytest.raises(ShapeError, match="dsplit: needs at least 3 dimensions"):
        fnx.dsplit(x[0], 2)


def test_histogram_counts_in_the_input_dtype():
    x = fnp.asarray([1.0, 2.0, 1.0, 5.0], dtype="float32")
    hist, edges = fnx.histogram(x, 4)
    assert hist.dtype == edges.dtype == np.float32
    close(hist, [2, 1, 0, 1])
    close(edges, [1, 2, 3, 4, 5])
    hist, _ = fnx.histogram(x, fnp.asarray([0.0, 1.5, 3.0, 6.0]), weight=fnp.asarray([1.0, 2, 3, 4]), density=True)
    close(hist, np.histogram([1, 2, 1, 5], [0, 1.5, 3, 6], weights=[1, 2, 3, 4], density=True)[0], rtol=1e-6)
    with pytest.raises(TypeError, match="histogram: input must be floating point"):
        fnx.histogram(fnp.arange(3), 2)


def test_gradient_is_one_array_per_dimension_with_torchs_spacings():
    y = rng.standard_normal((4, 5))
    for got, want in zip(fnx.gradient(fnp.asarray(y)), np.gradient(y)):
        close(got, want)
    got = fnx.gradient(fnp.asarray(y), spacing=[2.0, 3.0], edge_order=2)
    for g, w in zip(got, np.gradient(y, 2.0, 3.0, edge_order=2)):
        close(g, w)
    (got,) = fnx.gradient(fnp.asarray(y), spacing=(fnp.asarray([0.0, 1, 3, 4]),), dim=0)
    close(got, np.gradient(y, [0.0, 1, 3, 4], axis=0))
    with pytest.raises(ShapeError, match="gradient: axis 0 of shape"):
        fnx.gradient(fnp.ones((1, 3)))


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_and_inverse(upper):
    a = rng.standard_normal((2, 3, 3))
    a = a @ a.transpose(0, 2, 1) + 3 * np.eye(3)
    b = rng.standard_normal((2, 3, 2))
    factor = np.linalg.cholesky(a)
    factor = factor.transpose(0, 2, 1) if upper else factor
    close(fnx.cholesky_solve(fnp.asarray(b), fnp.asarray(factor), upper), np.linalg.solve(a, b), rtol=1e-10)
    close(fnx.cholesky_inverse(fnp.asarray(factor[0]), upper), np.linalg.inv(a[0]), rtol=1e-10)
    check_grads(lambda rhs, f: fnx.cholesky_solve(rhs, f, upper), (fnp.asarray(b), fnp.asarray(factor)), order=1)


def test_small_functions():
    assert fnx.frexp(fnp.asarray([8.0, 0.3])).exponent.dtype == np.int32
    m, e = fnx.frexp(fnp.asarray([8.0, 0.3]))
    close(m * 2.0 ** e, [8.0, 0.3])
    close(fnx.msort(fnp.asarray([[3.0, 1], [1, 2]])), [[1.0, 1], [3, 2]])
    close(fnx.diagflat(fnp.asarray([[1.0, 2]]), 1), np.diagflat([1.0, 2], 1))
    close(fnx.chain_matmul(fnp.ones((2, 3)), fnp.ones((3, 4)), fnp.ones((4, 1))), np.full((2, 1), 12.0))
    close(fnx.ger(fnp.asarray([1.0, 2]), fnp.asarray([3.0, 4, 5])), np.outer([1, 2], [3, 4, 5]))
    close(fnx.adjoint(fnp.asarray([[1 + 2j, 3j]])), [[1 - 2j], [-3j]])
    assert [fnx.is_signed(fnp.ones(1, dtype=d)) for d in ("uint8", "bool", "int8", "float32")] == \
        [False, False, True, True]
    assert fnx.is_same_size(fnp.ones((2, 3)), fnp.zeros((2, 3))) and not fnx.is_same_size(fnp.ones(2), fnp.ones(3))
    assert fnx.typename(fnp.ones(2, dtype="float32")) == "fnx.FloatTensor" and fnx.typename(3) == "int"
    assert fnx.uint16 == np.uint16 and fnx.uint64 == np.uint64


def test_against_torch(torch):
    x = rng.standard_normal((3, 4, 5))
    t, a = torch.tensor(x), fnp.asarray(x)
    close(fnx.renorm(a, 2, 1, 1.5), torch.renorm(t, 2, 1, 1.5))
    close(fnx.diagonal_scatter(a, -fnp.ones((3, 4)), -1, 2, 1),
          torch.diagonal_scatter(t, -torch.ones(3, 4, dtype=torch.float64), -1, 2, 1))
    zeros = torch.zeros(1, 4, 5, dtype=torch.float64)
    close(fnx.slice_scatter(a, fnp.zeros((1, 4, 5)), 0, -1), torch.slice_scatter(t, zeros, 0, -1))
    for got, want in zip(fnx.gradient(a, spacing=2.0, dim=(0, 2)), torch.gradient(t, spacing=2.0, dim=(0, 2))):
        close(got, want)
    for got, want in zip(fnx.histogram(fnp.asarray(x.ravel()), 6, range=(-1.0, 1.0)),
                         torch.histogram(t.ravel(), 6, range=(-1.0, 1.0))):
        close(got, want)
    for got, want in zip(fnx.frexp(a), torch.frexp(t)):
        close(got, want)
    close(fnx.mvlgamma(fnp.asarray([2.5, 3.0]), 2), torch.mvlgamma(torch.tensor([2.5, 3.0], dtype=torch.float64), 2))
    s, v = fnp.asarray([2.5, 3.0]), fnp.asarray([1.0, 2.0])
    ts, tv = torch.tensor([2.5, 3.0], dtype=torch.float64), torch.tensor([1.0, 2.0], dtype=torch.float64)
    close(fnx.igamma(s, v), torch.igamma(ts, tv))
    close(fnx.igammac(s, v), torch.igammac(ts, tv))
    assert fnx.typename(fnx.nn.Linear(1, 1)).endswith(".Linear")
    w = rng.standard_normal((2, 4, 3))
    close(fnx.conv1d(a, fnp.asarray(w), None, 2, 1), torch.conv1d(t, torch.tensor(w), None, 2, 1))
    close(fnx.pdist(a[0]), torch.pdist(t[0]))
    close(fnx.prelu(a, fnp.asarray([0.25])), torch.prelu(t, torch.tensor([0.25], dtype=torch.float64)))


def test_numpy_argument_names_are_aliases_as_in_torch(torch):
    # PyTorch's parser reads axis as dim and keepdims as keepdim, in functions and methods alike.
    x = rng.standard_normal((3, 4))
    t, a = torch.tensor(x), fnp.asarray(x)
    close(fnx.sum(a, axis=0, keepdims=True), torch.sum(t, axis=0, keepdims=True))
    assert fnx.sum(a, axis=0, keepdims=True).shape == (1, 4)
    close(fnx.std(a, axis=1), torch.std(t, axis=1))  # Bessel-corrected: the torch function, not NumPy's
    close(fnx.softmax(a, axis=1), torch.softmax(t, axis=1))
    close(a.softmax(axis=0), t.softmax(axis=0))
    close(fnx.logsumexp(a, axis=1, keepdims=True), torch.logsumexp(t, axis=1, keepdims=True))
    for got, want in zip(fnx.max(a, axis=1), torch.max(t, axis=1)):
        close(got, want)
    close(fnx.topk(a, 2, axis=0).values, torch.topk(t, 2, axis=0).values)
    close(fnx.cumsum(a, axis=1), torch.cumsum(t, axis=1))
    assert fnx.unsqueeze(a, axis=1).shape == tuple(torch.unsqueeze(t, axis=1).shape)
    with pytest.raises(TypeError, match="'dim' and its alias 'axis'"):
        fnx.sum(a, dim=0, axis=1)


def test_day_to_day_torch_spellings():
    # torch 2.14's results for each spelling.
    x = fnx.tensor([1, 2])
    assert fnx.reciprocal(x).tolist() == [1.0, 0.5] and x.reciprocal().dtype == np.float32  # ints promote
    assert fnp.reciprocal(fnp.asarray([1, 2])).tolist() == [1, 0]  # (NumPy's divides as integers)
    with pytest.raises(ShapeError, match="1-d vectors"):
        fnx.outer(fnx.ones((2, 2)), fnx.ones(2))
    a = fnx.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 7.0]])
    std, mean = fnx.std_mean(a, False)  # the old std_mean(input, unbiased) form: over everything
    close(std, np.std([1, 2, 3, 4, 5, 7]))
    close(mean, 11 / 3)
    close(fnx.var_mean(a, 1, unbiased=False)[0], np.var(np.asarray(a), axis=1))
    assert fnx.randint(10, size=(3,)).shape == (3,) and fnx.randint(2, 10, (3,)).min() >= 2
    assert fnx.randint(10, size=(3,), dtype=fnx.float32).dtype == np.float32
    assert fnx.linspace(-1, 1, 4, dtype=fnx.int32).tolist() == [-1, 0, 0, 1]  # toward zero, as torch
    with pytest.raises(ValueError, match="chunks must be a positive int"):
        fnx.chunk(a, 0)
    assert a.size().numel() == 6 and a.size() == (2, 3) and a.size(1) == 3
    assert 3.0 in a and 6.0 not in a
    assert a.to(float).dtype == a.to(dtype=float).dtype == np.float64  # torch's float is float64 in .to
