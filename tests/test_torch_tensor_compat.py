"""PyTorch's top-level tensor functions, compared with torch where it is installed."""
import numpy as np
import pytest

import fnx

torch = pytest.importorskip("torch")

A = np.arange(24.0).reshape(2, 3, 4) - 7.5


@pytest.mark.parametrize("kwargs", [{}, {"p": 2}, {"p": 1, "dim": 1}, {"dim": (1, 2)}, {"p": 2, "dim": (0, 1)},
                                    {"p": "fro", "dim": (1, 2), "keepdim": True}, {"p": "nuc", "dim": (0, 2)},
                                    {"p": float("inf"), "dim": (1, 2)}, {"p": 3, "dim": -1, "keepdim": True},
                                    {"dim": [0, 2]}, {"p": 0}, {"p": 1, "keepdim": True}])
def test_norm_over_several_dims_is_one_vectors_as_torch(kwargs):
    expected = torch.norm(torch.tensor(A), **kwargs)
    for got in (fnx.norm(fnx.tensor(A), **kwargs), fnx.tensor(A).norm(**kwargs)):
        assert got.shape == tuple(expected.shape)
        np.testing.assert_allclose(np.asarray(got), expected.numpy(), rtol=1e-12)
    if kwargs.get("p") == 0:
        return  # a count: fnx records nothing to differentiate, where torch gives zeros
    w, tw = fnx.nn.Parameter(fnx.tensor(A)), torch.tensor(A, requires_grad=True)
    fnx.norm(w, **kwargs).sum().backward()
    torch.norm(tw, **kwargs).sum().backward()
    np.testing.assert_allclose(np.asarray(w.grad), tw.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_norm_nuc_of_a_matrix_and_its_errors():
    np.testing.assert_allclose(np.asarray(fnx.norm(fnx.tensor(A[0]), p="nuc")),
                               torch.norm(torch.tensor(A[0]), p="nuc").numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="matrix_norm"):  # as torch: over all three dims of A
        fnx.norm(fnx.tensor(A), p="nuc")
    with pytest.raises(ValueError, match="norm"):
        fnx.norm(fnx.tensor(A), p="spectral")
    assert fnx.norm(fnx.tensor(A, dtype=fnx.float32), dtype=fnx.float64).dtype == np.float64


def test_einsum_takes_its_operands_as_one_list_as_torch():
    a, b = np.arange(24.0).reshape(2, 3, 4), np.arange(24.0).reshape(2, 4, 3)
    expected = torch.einsum("bij,bjk->bik", [torch.tensor(a), torch.tensor(b)]).numpy()
    for operands in ([fnx.tensor(a), fnx.tensor(b)], (fnx.tensor(a), fnx.tensor(b))):
        np.testing.assert_allclose(np.asarray(fnx.einsum("bij,bjk->bik", operands)), expected)
    # One term: a nested list is one array, as in NumPy
    np.testing.assert_allclose(np.asarray(fnx.einsum("ij->ji", [[1.0, 2.0], [3.0, 4.0]])), [[1.0, 3.0], [2.0, 4.0]])


def test_tensor_of_a_tensor_that_requires_grad_is_a_new_detached_leaf_as_torch():
    w, tw = fnx.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch suggests clone().detach()
        copied, tcopied = fnx.tensor(w * 2), torch.tensor(tw * 2)
        leaf, tleaf = fnx.tensor(w * 2, requires_grad=True), torch.tensor(tw * 2, requires_grad=True)
    assert copied.requires_grad is tcopied.requires_grad is False
    (leaf * leaf).sum().backward()
    (tleaf * tleaf).sum().backward()
    np.testing.assert_array_equal(np.asarray(leaf.grad), tleaf.grad.numpy())
    assert w.grad is None and tw.grad is None  # the new leaf does not lead back to w


def test_rotary_embedding_through_complex_views_matches_torch():
    # LLaMA's apply_rotary_emb: pairs of features as complex numbers, rotated by polar(1, angles).
    rng = np.random.default_rng(0)
    x, angles = rng.normal(size=(2, 5, 8)).astype(np.float32), rng.normal(size=(5, 4)).astype(np.float32)

    def rope(lib, x, angles):
        rot = lib.polar(lib.ones_like(angles), angles)
        xc = lib.view_as_complex(x.reshape(*x.shape[:-1], -1, 2))
        return lib.view_as_real(xc * rot).flatten(2)
    ours_x, theirs_x = fnx.nn.Parameter(fnx.tensor(x)), torch.tensor(x, requires_grad=True)
    ours, theirs = rope(fnx, ours_x, fnx.tensor(angles)), rope(torch, theirs_x, torch.tensor(angles))
    assert ours.dtype == np.float32 and ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(np.asarray(ours), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
    (ours ** 2 * fnx.tensor(np.arange(8.0, dtype=np.float32))).sum().backward()
    (theirs ** 2 * torch.arange(8.0)).sum().backward()
    np.testing.assert_allclose(np.asarray(ours_x.grad), theirs_x.grad.numpy(), rtol=1e-4, atol=1e-5)
    assert fnx.complex(fnx.tensor([1.0]), fnx.tensor([2.0])).tolist() == [1 + 2j]
    with pytest.raises(ValueError, match="view_as_complex"):
        fnx.view_as_complex(fnx.ones((3, 3)))


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window", "bartlett_window",
                                  "kaiser_window"])
def test_windows_match_torch(name):
    for n in (0, 1, 2, 5, 8):
        for periodic in (True, False):
            ours, theirs = getattr(fnx, name)(n, periodic=periodic), getattr(torch, name)(n, periodic=periodic)
            assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == "float32"
            np.testing.assert_allclose(np.asarray(ours), theirs.numpy(), atol=1e-6)


def test_old_svd_unflatten_and_methods_match_torch():
    a = np.arange(12.0).reshape(4, 3) + np.eye(4, 3)
    for some in (True, False):
        u, s, v = fnx.svd(fnx.tensor(a), some=some)
        tu, ts, tv = torch.svd(torch.tensor(a), some=some)
        assert (u.shape, v.shape) == (tuple(tu.shape), tuple(tv.shape))
        k = len(np.asarray(s))
        np.testing.assert_allclose(np.asarray(u)[:, :k] * np.asarray(s) @ np.asarray(v)[:, :k].T, a, atol=1e-10)
        np.testing.assert_allclose(np.asarray(s), ts.numpy(), rtol=1e-12)
    u, s, v = fnx.svd(fnx.tensor(a), compute_uv=False)
    assert (u.shape, v.shape) == ((4, 4), (3, 3)) and not np.any(np.asarray(u))
    assert fnx.unflatten(fnx.ones((2, 12)), 1, (3, -1)).shape == tuple(torch.unflatten(torch.ones(2, 12), 1,
                                                                                        (3, -1)).shape)
    x, t = fnx.tensor([1, 2, 3]), torch.tensor([1, 2, 3])
    for name in ("bitwise_and", "bitwise_or", "bitwise_xor"):
        assert getattr(x, name)(2).tolist() == getattr(t, name)(2).tolist()
    assert x.bitwise_not().tolist() == t.bitwise_not().tolist()
    assert (x.is_cpu, x.get_device()) == (t.is_cpu, t.get_device())
    np.testing.assert_allclose(np.asarray(fnx.tensor([1j, -1.0]).angle()), torch.tensor([1j, -1.0]).angle().numpy())
    assert isinstance(x.dtype, fnx.dtype)


def test_set_printoptions_as_torch():
    import numpy
    before = numpy.get_printoptions()
    try:
        fnx.set_printoptions(precision=2)
        assert repr(fnx.tensor([1.23456])) == "Array([1.23], dtype=float32)"
        fnx.set_printoptions(profile="full")
        assert numpy.get_printoptions()["threshold"] > 10 ** 9
        with pytest.raises(ValueError, match="profile"):
            fnx.set_printoptions(profile="long")
    finally:
        numpy.set_printoptions(**before)


def test_view_as_another_dtype_reads_the_same_bytes_as_torch():
    x, t = fnx.tensor([1.0, -2.0]), torch.tensor([1.0, -2.0])
    for ours, theirs in ((fnx.int32, torch.int32), (fnx.uint8, torch.uint8), (fnx.float16, torch.float16)):
        np.testing.assert_array_equal(np.asarray(x.view(ours)), t.view(theirs).numpy())
    np.testing.assert_array_equal(np.asarray(fnx.tensor([1, 2], dtype=fnx.int32).view(fnx.int64)),
                                  torch.tensor([1, 2], dtype=torch.int32).view(torch.int64).numpy())
    with pytest.raises(ValueError, match="not a multiple of 8"):
        fnx.tensor([1.0, 2.0, 3.0]).view(fnx.float64)
    with pytest.raises(TypeError, match="no derivative"):
        (fnx.nn.Parameter(fnx.ones(2)) * 2).view(fnx.int32)
    p = fnx.nn.Parameter(fnx.ones(2))
    assert p.data.view(fnx.int32).tolist() == [1065353216, 1065353216]


def test_random_likes_take_torchs_keywords():
    x = fnx.ones((2, 3))
    assert fnx.randint_like(x, 10).dtype == np.float32 == torch.randint_like(torch.ones(2, 3), 10).numpy().dtype
    assert fnx.randint_like(fnx.ones(3, dtype=fnx.int32), 2, 5).dtype == np.int32
    assert fnx.randn_like(x, requires_grad=True).requires_grad and fnx.rand_like(x, requires_grad=True).requires_grad
    g = fnx.Generator().manual_seed(3)
    a = fnx.randn_like(x, generator=g)
    assert a.shape == (2, 3) and a.dtype == np.float32
