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
