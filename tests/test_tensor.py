"""PyTorch's tensor vocabulary on fnx arrays (fnx/tensor.py): what a training loop ported by changing
imports calls, checked against PyTorch's documented semantics written in numpy, and against PyTorch
itself where it is installed."""
import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx.errors import ShapeError
from fnx.testing import check_grads

rng = np.random.default_rng(0)
A = rng.standard_normal((3, 4)).astype(np.float32)
B = rng.standard_normal((2, 3, 4)).astype(np.float32)
I = rng.integers(-5, 5, (3, 4))


def eq(got, want, dtype=None):
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape
    assert got.dtype == (want.dtype if dtype is None else dtype)
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=1e-5, atol=1e-6)


def test_size_is_numpys_count_and_pytorchs_shape_when_called():
    a = fnx.tensor(A)
    assert a.size == 12 and isinstance(a.size, int)
    assert a.size() == (3, 4) and a.size(0) == 3 and a.size(-1) == 4
    assert fnx.grad(lambda x: x.sum() * x.size(1))(a).shape == (3, 4)  # also on traced arrays
    assert a.dim() == 2 and a.numel() == 12 == fnx.numel(a)


def test_creation_follows_pytorchs_dtypes():
    assert fnx.tensor([1, 2]).dtype == np.int64 and fnx.tensor([1.0]).dtype == np.float32
    assert fnx.tensor([1, 2], dtype=fnx.float32).dtype == np.float32
    assert fnx.long == np.int64 and fnx.float == np.float32 and fnx.double == np.float64 and fnx.half == np.float16
    assert fnx.zeros(2, 3).shape == (2, 3) == fnx.ones((2, 3)).shape == fnx.empty([2, 3]).shape
    assert fnx.zeros(2, dtype=fnx.long).dtype == np.int64
    assert fnx.arange(5).dtype == np.int64 and fnx.arange(0, 1, 0.25).dtype == np.float32
    eq(fnx.arange(0, 1, 0.25), np.arange(0, 1, 0.25, dtype=np.float32))
    assert fnx.full((2,), 1).dtype == np.int64 and fnx.full((2,), 1.5).dtype == np.float32
    eq(fnx.linspace(0, 1, 5), np.linspace(0, 1, 5, dtype=np.float32))
    eq(fnx.eye(2, 3), np.eye(2, 3, dtype=np.float32))
    eq(fnx.full_like(fnx.tensor(A), 7), np.full((3, 4), 7, np.float32))
    eq(fnx.tensor(A).new_zeros((2, 2)), np.zeros((2, 2), np.float32))
    eq(fnx.tensor(I).new_ones(2), np.ones(2, np.int64))
    eq(fnx.tensor(A).new_tensor([1, 2]), np.array([1, 2], np.float32))
    assert fnx.is_tensor(fnx.tensor(A)) and not fnx.is_tensor(A) and isinstance(fnx.tensor(A), fnx.Tensor)


def test_from_numpy_copies():
    x = np.ones(3)
    t = fnx.from_numpy(x)
    x[0] = 5.0
    assert t.dtype == np.float64 and float(t[0]) == 1.0
    with pytest.raises(TypeError, match="from_numpy"):
        fnx.from_numpy([1.0])


def test_random_functions_use_the_global_generator():
    fnx.manual_seed(3)
    a, b, c, d = fnx.randn(2, 3), fnx.rand(4), fnx.randint(0, 10, (5,)), fnx.randperm(6)
    fnx.manual_seed(3)
    assert np.array_equal(fnx.randn(2, 3), a) and np.array_equal(fnx.rand(4), b)
    assert a.shape == (2, 3) and a.dtype == np.float32 and b.dtype == np.float32
    assert np.all((np.asarray(b) >= 0) & (np.asarray(b) < 1))
    assert c.dtype == np.int64 and np.all((np.asarray(c) >= 0) & (np.asarray(c) < 10))
    assert sorted(np.asarray(d).tolist()) == list(range(6)) and d.dtype == np.int64
    assert fnx.randint(3, (4,)).shape == (4,)  # randint(high, size)
    assert fnx.randn_like(fnx.tensor(A)).shape == (3, 4)


def test_requires_grad_makes_a_leaf_with_grad():
    x = fnx.tensor([1.0, 2.0], requires_grad=True)
    (x ** 2).sum().backward()
    eq(x.grad, np.array([2.0, 4.0], np.float32))
    w = fnx.zeros(2, requires_grad=True)
    assert w.requires_grad
    y = x * 3
    assert y.requires_grad and not y.data.requires_grad and type(y.data) is fnx.Array  # .data: detached
    eq(y.data, np.array([3.0, 6.0], np.float32))
    a = fnx.tensor(A)
    assert a.data is a


def test_reductions_take_pytorchs_meaning_with_dim():
    a = fnx.tensor(A)
    eq(a.sum(dim=1), A.sum(1))
    eq(a.sum(dim=(0, 1), keepdim=True), A.sum((0, 1), keepdims=True))
    eq(fnx.mean(a, 0, True), A.mean(0, keepdims=True))
    eq(a.argmax(dim=1, keepdim=True), A.argmax(1)[:, None])
    eq(fnx.argmin(a, dim=0), A.argmin(0))
    eq(a.std(dim=0), A.std(0, ddof=1))  # PyTorch's default: Bessel-corrected
    eq(fnx.std(a), A.std(ddof=1))
    eq(a.var(dim=1, unbiased=False), A.var(1))
    eq(fnx.var(a, dim=1, correction=0), A.var(1))
    eq(a.cumsum(dim=1), A.cumsum(1))
    eq(fnx.prod(a, 1), A.prod(1))
    eq((a > 0).all(dim=1), (A > 0).all(1))
    eq(fnx.any(a > 1, dim=0), (A > 1).any(0))
    # without PyTorch-only keywords the methods keep NumPy's meaning
    eq(a.sum(1), A.sum(1))
    eq(a.std(), A.std())
    eq(a.max(1), A.max(1))


def test_max_min_sort_topk_return_values_and_indices():
    a = fnx.tensor(A)
    values, indices = a.max(dim=1)
    eq(values, A.max(1))
    eq(indices, A.argmax(1))
    assert a.max(dim=1).values is not None and a.min(dim=0, keepdim=True).indices.shape == (1, 4)
    eq(fnx.max(a, 1)[0], A.max(1))
    eq(fnx.max(a), A.max())
    eq(fnx.max(a, fnx.zeros_like(a)), np.maximum(A, 0))
    eq(a.min(a * 0), np.minimum(A, 0))
    ties = fnx.tensor([[1.0, 3.0, 3.0]])
    assert int(ties.max(dim=1).indices[0]) == 1  # the first extreme, as PyTorch documents
    v, i = a.sort(dim=1, descending=True)
    eq(v, -np.sort(-A, 1))
    eq(i, np.argsort(-A, 1, kind="stable"))
    eq(fnx.sort(a, 0)[1], np.argsort(A, 0, kind="stable"))
    eq(fnx.tensor([[2, 1, 2, 1]]).argsort(dim=1, descending=True), [[0, 2, 1, 3]])  # equal keys keep their order
    v, i = a.topk(2, dim=1)
    eq(v, -np.sort(-A, 1)[:, :2])
    eq(i, np.argsort(-A, 1, kind="stable")[:, :2])
    eq(fnx.topk(a, 2, largest=False)[0], np.sort(A, 1)[:, :2])
    with pytest.raises(ShapeError, match="topk"):
        a.topk(5)


def test_shape_functions():
    a, b = fnx.tensor(A), fnx.tensor(B)
    eq(a.view(-1, 2), A.reshape(-1, 2))
    eq(a.view((2, 6)), A.reshape(2, 6))
    eq(a.view(fnx.float64), A.view(np.float64))  # the same bytes, as torch's view(dtype)
    with pytest.raises(TypeError, match="view"):
        a.view("not a dtype")
    eq(a.unsqueeze(1), A[:, None])
    eq(fnx.unsqueeze(a, -1), A[..., None])
    eq(a.unsqueeze(0).squeeze(dim=1), A[None])  # not of size 1: kept, as in PyTorch
    eq(fnx.squeeze(a[None], 0), A)
    eq(b.permute(2, 0, 1), B.transpose(2, 0, 1))
    eq(b.permute((1, 2, 0)), B.transpose(1, 2, 0))
    eq(b.transpose(0, 1), B.swapaxes(0, 1))  # two axes of a 3-d array: swapped
    eq(a.transpose(0, 1), A)  # of a matrix: NumPy's permutation, as documented
    eq(a.repeat(2, 1), A.repeat(2, 1))  # NumPy's repeat, not PyTorch's tile
    eq(fnx.transpose(a, 0, 1), A.T)
    eq(a.transpose(1, 0), A.T)
    eq(a.t(), A.T)
    with pytest.raises(ShapeError, match="t:"):
        b.t()
    eq(b.flatten(1), B.reshape(2, -1))
    eq(b.flatten(start_dim=1), B.reshape(2, -1))
    eq(fnx.flatten(b), B.ravel())
    eq(fnx.flatten(b, 0, 1), B.reshape(6, 4))
    eq(b.flatten(), B.ravel())  # NumPy's flatten
    eq(a[:1].expand(3, -1), np.broadcast_to(A[:1], (3, 4)))
    eq(a.expand(2, 3, 4), np.broadcast_to(A, (2, 3, 4)))
    eq(a[:1].expand_as(a), np.broadcast_to(A[:1], (3, 4)))
    eq(a.view_as(fnx.zeros(4, 3)), A.reshape(4, 3))
    eq(fnx.cat([a, a], dim=1), np.concatenate([A, A], 1))
    eq(fnx.stack([a, a], dim=2), np.stack([A, A], 2))
    assert [c.shape for c in a.chunk(3, dim=1)] == [(3, 2), (3, 2)]  # ceil(4 / 3) = 2 per chunk
    assert [c.shape for c in fnx.chunk(a, 2)] == [(2, 4), (1, 4)]
    assert [c.shape for c in a.split(3, dim=1)] == [(3, 3), (3, 1)]
    eq(a.split([1, 3], dim=1)[1], A[:, 1:])
    with pytest.raises(ShapeError, match="split"):
        a.split([1, 2], dim=1)
    eq(a.unbind(1)[2], A[:, 2])
    eq(a.contiguous(), A)


def test_indexing_functions():
    a = fnx.tensor(A)
    index = np.array([[0, 1], [2, 0], [1, 1]])
    eq(a.gather(1, fnx.tensor(index)), np.take_along_axis(A, index, 1))
    eq(fnx.gather(a, 0, fnx.tensor([[0, 1, 2, 0]])), A[[0, 1, 2, 0], [0, 1, 2, 3]][None])
    eq(fnx.gather(a, 0, fnx.tensor([[2]])), A[2:3, :1])  # index smaller than the input elsewhere
    with pytest.raises(ShapeError, match="gather"):
        a.gather(1, fnx.tensor([0, 1]))
    eq(a.index_select(1, fnx.tensor([0, 2])), A[:, [0, 2]])
    eq(a.masked_fill(a > 0, 0.0), np.where(A > 0, 0, A))
    eq(fnx.tensor(I).masked_fill(fnx.tensor(I) > 0, 1.5), np.where(I > 0, 1, I))  # value cast to the dtype


def test_elementwise_and_conversions():
    a, i = fnx.tensor(A), fnx.tensor(I)
    eq(i.float(), I.astype(np.float32))
    eq(a.long(), A.astype(np.int64))
    eq(a.double(), A.astype(np.float64))
    eq(i.bool(), I.astype(bool))
    eq(a.half(), A.astype(np.float16))
    eq(a.add(a, alpha=2), A + 2 * A)
    eq(fnx.sub(a, 1), A - 1)
    eq(a.mul(2).pow(2), (2 * A) ** 2)
    eq(i.div(2), I / 2, dtype=np.float32)  # PyTorch's true division of integers: the default float
    eq(i.div(2, rounding_mode="floor"), I // 2)
    eq(i.div(2, rounding_mode="trunc"), np.trunc(I / 2).astype(np.int64))
    eq(a.div(2, rounding_mode="trunc"), np.trunc(A / 2))
    with pytest.raises(ValueError, match="rounding_mode"):
        a.div(2, rounding_mode="up")
    eq(a.clamp(-0.5, 0.5), np.clip(A, -0.5, 0.5))
    eq(fnx.clamp(a, min=0), np.maximum(A, 0))
    with pytest.raises(ValueError, match="clamp"):
        a.clamp()
    eq(a.sigmoid(), 1 / (1 + np.exp(-A)))
    eq(fnx.relu(a), np.maximum(A, 0))
    eq(a.abs().rsqrt(), 1 / np.sqrt(np.abs(A)))
    eq(a.eq(a), np.ones((3, 4), bool))
    eq(a.gt(0), A > 0)
    eq(a.softmax(dim=1), np.exp(A) / np.exp(A).sum(1, keepdims=True))
    eq(fnx.log_softmax(a, 0), A - np.log(np.exp(A).sum(0, keepdims=True)))
    eq(a.logsumexp(dim=1), np.log(np.exp(A).sum(1)))
    eq(fnx.where(a > 0, a, fnx.tensor(0.0)), np.where(A > 0, A, 0))
    eq(a.norm(), np.sqrt((A ** 2).sum()))
    eq(a.norm(dim=1), np.sqrt((A ** 2).sum(1)))
    eq(a.norm(p=1, dim=0, keepdim=True), np.abs(A).sum(0, keepdims=True))
    eq(fnx.norm(fnx.tensor(B), keepdim=True), np.sqrt((B ** 2).sum()).reshape(1, 1, 1))
    eq(fnx.mm(a, a.t()), A @ A.T)
    eq(fnx.bmm(fnx.tensor(B), fnx.tensor(B).transpose(1, 2)), B @ B.swapaxes(1, 2))
    with pytest.raises(ShapeError, match="mm"):
        fnx.mm(fnx.tensor(B), a)
    with pytest.raises(ShapeError, match="bmm"):
        fnx.bmm(a, a)
    assert fnx.allclose(a, a + 1e-9) and not fnx.allclose(a, a + 1)
    assert fnx.allclose(fnx.tensor([np.inf, np.nan]), fnx.tensor([np.inf, np.nan]), equal_nan=True)
    assert fnx.equal(a, a) and not fnx.equal(a, a[:1]) and not fnx.equal(a, a + 1)


def test_clone_of_a_parameter_is_a_snapshot_that_stays_differentiable():
    p = fnx.nn.Parameter(fnp.ones(2))
    snapshot = p.clone()
    p.data = fnp.zeros(2)
    eq(snapshot, np.ones(2, np.float32))
    q = fnx.nn.Parameter(fnp.array([1.0, 2.0]))
    (q.clone() * q).sum().backward()
    eq(q.grad, np.array([2.0, 4.0], np.float32))
    a = fnx.tensor(A)
    assert a.clone() is a  # an immutable array is its own copy


def test_grad_modes():
    w = fnx.tensor([1.0], requires_grad=True)
    with fnx.set_grad_enabled(False):
        y = w * 2
    with pytest.raises(Exception):
        y.backward()
    with fnx.inference_mode():
        assert not fnx.is_grad_enabled()
    with fnx.set_grad_enabled(True):
        (w * 2).sum().backward()
    eq(w.grad, np.array([2.0], np.float32))


def test_pytorch_style_ops_differentiate():
    from fnx.testing import check_grads
    x = fnp.asarray(rng.standard_normal((3, 4)))
    check_grads(lambda a: a.max(dim=1).values.sum() + a.topk(2, dim=0).values.sum(), (x,), order=1)
    check_grads(lambda a: (a.sort(dim=1, descending=True)[0] * fnx.arange(4)).sum(), (x,), order=1)
    check_grads(lambda a: a.std(dim=0).sum() + a.norm(dim=1).sum() + a.logsumexp(dim=1).sum(), (x,), order=2)
    check_grads(lambda a: a.gather(1, fnx.tensor([[0, 3], [1, 1], [2, 0]])).pow(2).sum(), (x,), order=2)
    check_grads(lambda a: (a.view(2, 6).unsqueeze(0).flatten(1) * a.reshape(1, 12)).sum(), (x,), order=2)


# ----- against PyTorch itself ----------------------------------------------------------------------

def _table(L):
    t = L.tensor
    a, b, i = t(A), t(B), t(I)
    return {
        "size": a.size(), "size1": a.size(1), "view": a.view(-1, 2), "float": i.float(), "long": a.long(),
        "argmax": a.argmax(dim=1, keepdim=True), "sum": a.sum(dim=(0, 1), keepdim=True), "mean": a.mean(dim=0),
        "max v": a.max(dim=1).values, "max i": a.max(dim=1).indices, "min": a.min(dim=0, keepdim=True)[0],
        "L.max": L.max(a, 1)[1], "L.max all": L.max(a), "std": a.std(dim=0), "std all": L.std(a),
        "var": a.var(dim=1, unbiased=False), "unsqueeze": a.unsqueeze(-1), "squeeze": a.unsqueeze(0).squeeze(dim=1),
        "permute": b.permute(2, 0, 1), "transpose3": b.transpose(0, 1), "L.transpose": L.transpose(a, 0, 1),
        "t": a.t(), "add": a.add(a, alpha=2), "div int": i.div(2), "div trunc": i.div(3, rounding_mode="trunc"),
        "div floor": i.div(3, rounding_mode="floor"), "clamp": a.clamp(min=0), "softmax": a.softmax(dim=1),
        "expand": a[:1].expand(3, -1), "chunk": a.chunk(3, dim=1)[1], "split": a.split([1, 3], dim=1)[1],
        "topk": a.topk(2, dim=1)[1], "sort": a.sort(dim=1, descending=True)[1], "argsort": i.argsort(dim=1),
        "norm": a.norm(dim=1), "norm1": a.norm(p=1), "masked_fill": a.masked_fill(a > 0, 0.0),
        "index_select": a.index_select(1, t([0, 2])), "gather": a.gather(1, t([[0, 1], [2, 0], [1, 1]])),
        "flatten": b.flatten(1), "L.flatten": L.flatten(b, 0, 1), "cat": L.cat([a, a], dim=1),
        "stack": L.stack([a, a], dim=2), "bmm": L.bmm(b, b.transpose(1, 2)), "cumsum": a.cumsum(dim=1),
        "arange": L.arange(5), "arange f": L.arange(0, 1, 0.25), "full": L.full((2,), 1), "tensor": t([1.0, 2.0]),
        "zeros": L.zeros(2, 3, dtype=L.long), "new_full": a.new_full((2,), 3.0), "logsumexp": a.logsumexp(dim=1),
        "unbind": a.unbind(1)[2], "numel": a.numel(), "dim": a.dim(),
    }


def test_against_pytorch():
    torch = pytest.importorskip("torch")
    want, got = _table(torch), _table(fnx)
    for key, w in want.items():
        g = got[key]
        if isinstance(w, torch.Tensor):
            w = w.detach().numpy()
            g = np.asarray(g)
            assert g.shape == w.shape and g.dtype == w.dtype, key
            np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=1e-5, atol=1e-6,
                                       err_msg=key)
        else:
            assert tuple(g) == tuple(w) if isinstance(w, tuple) else g == w, key


def test_to_takes_a_device_a_dtype_or_another_array():
    x = fnx.ones(2)
    assert x.to("cpu") is x and x.to("cpu", non_blocking=True) is x
    assert x.to(fnx.float64).dtype == np.float64
    assert x.to("cpu", fnx.float16).dtype == np.float16
    assert x.to(device="cpu", dtype="int32").dtype == np.int32
    assert x.to(fnx.zeros(1, dtype=fnx.int64)).dtype == np.int64
    assert fnx.grad(lambda v: v.to(fnx.float64).sum())(x).dtype == np.float32  # differentiable across dtypes


def test_pytorch_style_ops_under_vmap_and_jit():
    def f(a):
        values, indices = a.max(dim=1)
        return a.softmax(dim=1).sum(dim=0) + values.sum() + indices.float().mean() + a.std(dim=0)
    batch = fnp.asarray(rng.standard_normal((5, 3, 4)))
    want = np.stack([np.asarray(f(batch[i])) for i in range(5)])
    np.testing.assert_allclose(np.asarray(fnx.vmap(f)(batch)), want, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(fnx.jit(f)(batch[0])), want[0], rtol=1e-6)


@pytest.mark.parametrize("shape, dim, size, step", [((7,), 0, 2, 2), ((7,), 0, 3, 1), ((7,), -1, 7, 3),
                                                    ((4, 6), 1, 2, 3), ((4, 6), 0, 4, 1), ((3, 4, 5), 1, 0, 2),
                                                    ((2, 3, 5), -1, 2, 1)])
def test_unfold_gives_torchs_windows_and_their_gradients(shape, dim, size, step):
    x = np.random.default_rng(0).standard_normal(shape)
    # numpy's windows of every start, thinned to every step-th: torch.Tensor.unfold's definition
    windows = np.lib.stride_tricks.sliding_window_view(x, size, axis=dim)
    d = dim % len(shape)  # the window axis is appended last, so a negative dim would name it
    expected = np.take(windows, np.arange(0, windows.shape[d], step), axis=d)
    got = fnp.asarray(x).unfold(dim, size, step)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(np.asarray(got), expected)
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(np.asarray(got), torch.tensor(x).unfold(dim, size, step).numpy())


def test_unfold_edges_and_errors():
    assert fnp.asarray(5.0).unfold(0, 1, 1).tolist() == [5.0]  # a 0-d array: one window, as torch
    check_grads(lambda x: x.unfold(0, 3, 2), (fnp.asarray(np.random.default_rng(1).standard_normal((7, 3))),),
                order=2)
    with pytest.raises(fnx.errors.ShapeError, match="unfold: size 8 does not fit dimension 0 of length 7"):
        fnp.arange(7.0).unfold(0, 8, 1)
    with pytest.raises(ValueError, match="unfold: step must be positive, got 0"):
        fnp.arange(7.0).unfold(0, 2, 0)


def test_size_is_a_plain_weak_int_in_arithmetic():
    # x.size is also torch's x.size(): it must still act as NumPy's int (weak, no shape of its own)
    e = fnp.ones((2, 3))
    assert e.size == 6 and e.size() == (2, 3) and e.size(1) == 3
    mean = fnp.sum(e) / e.size
    assert mean.shape == () and mean.dtype == np.float32 and float(mean) == 1.0
    assert (e.size * fnp.ones(2)).shape == (2,) and fnp.maximum(e.size, fnp.ones(2)).dtype == np.float32
    assert (fnp.ones(2, dtype="int8") + e.size).dtype == np.int8
    g = fnx.grad(lambda v: fnp.sum(v ** 2) / v.size)(fnp.ones(3))
    np.testing.assert_allclose(np.asarray(g), [2 / 3] * 3, rtol=1e-6)
    assert fnx.jit(lambda v: fnp.sum(v) / v.size)(fnp.ones(4)).dtype == np.float32


def test_tensor_is_every_array_and_torchs_legacy_constructor():
    x = fnx.ones(2)
    assert isinstance(x, fnx.Tensor) and isinstance(fnx.nn.Parameter(x), fnx.Tensor)
    assert issubclass(fnx.Array, fnx.Tensor) and not isinstance(np.ones(2), fnx.Tensor)
    assert fnx.Tensor([1, 2]).dtype == np.float32 and fnx.Tensor([1, 2]).tolist() == [1.0, 2.0]
    assert fnx.Tensor(2, 3).shape == (2, 3) and fnx.Tensor().shape == (0,)
    assert fnx.Tensor(x) is x and float(fnx.Tensor.sum(fnp.ones(3))) == 3.0
    with pytest.raises(TypeError, match="expected sizes or one sequence of data"):
        fnx.Tensor(2.5)


def test_an_integer_array_cannot_require_grad_and_the_error_is_pytorchs_class_too():
    from fnx.errors import DTypeError
    for make in (lambda: fnx.tensor([1, 2], requires_grad=True), lambda: fnx.nn.Parameter(fnx.tensor([1, 2])),
                 lambda: fnx.arange(3).requires_grad_()):
        with pytest.raises(DTypeError, match="only floating point and complex arrays can require gradients, got "
                                             "int64") as error:
            make()
        assert isinstance(error.value, RuntimeError) and isinstance(error.value, TypeError)


def test_sizes_may_be_zero_dimensional_integer_arrays_as_in_pytorch():
    n = fnx.tensor(5)
    assert fnx.randint(1, 4, size=(n,)).shape == (5,) and fnx.zeros(fnx.tensor(2), 3).shape == (2, 3)
    assert fnx.randn((fnx.tensor(2), 4)).shape == (2, 4) and fnx.ones([n]).shape == (5,)
    with pytest.raises(TypeError):
        fnx.zeros(fnx.tensor(2.5))
