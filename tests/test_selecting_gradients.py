"""Derivatives of selecting operations at the points where a multiplication by a 0/1 mask would give NaN.

relu, maximum/minimum/clip and torch's clamp choose one operand; the one not chosen gets no derivative
at all, as in PyTorch and JAX, even when the cotangent arriving is inf or NaN (``sqrt`` at 0). The norms
and ``std`` have a subgradient of 0 where they are 0, as PyTorch's.
"""
import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
import fnx.nn.functional as F

XS = [0.0, 1.0, -1.0, 4.0]


def grad_of(f, xs=XS):
    x = fnx.tensor(xs, requires_grad=True)
    fnp.sum(f(x)).backward()
    return np.asarray(x.grad)


@pytest.mark.parametrize("name, f, expected", [
    ("relu", lambda x: fnp.sqrt(F.relu(x)), [0.0, 0.5, 0.0, 0.25]),
    ("clamp", lambda x: fnp.sqrt(x.clamp(min=0)), [0.0, 0.5, 0.0, 0.25]),
    ("clamp_min", lambda x: fnp.sqrt(fnx.clamp_min(x, 0.0)), [0.0, 0.5, 0.0, 0.25]),
    ("where", lambda x: fnp.sqrt(fnp.where(x > 0, x, 0.0)), [0.0, 0.5, 0.0, 0.25]),
    ("maximum", lambda x: fnp.sqrt(fnp.maximum(x, 0.0)), [np.inf, 0.5, 0.0, 0.25]),  # a tie at 0 splits: inf / 2
    ("clip", lambda x: fnp.sqrt(fnp.clip(x, 0.0, 9.0)), [np.inf, 0.5, 0.0, 0.25]),
    ("minimum", lambda x: fnp.sqrt(0.0 - fnp.minimum(-x, 0.0)), [np.inf, 0.5, 0.0, 0.25]),  # 0 - (-0) is +0
])
def test_the_operand_not_chosen_gets_no_nan(name, f, expected):
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_array_equal(grad_of(f), expected)


def test_clamp_has_torchs_gradient_at_its_bounds():
    xs = [0.0, 1.0, -1.0, 2.0, 3.0]
    np.testing.assert_array_equal(grad_of(lambda x: x.clamp(min=0, max=2), xs), [0, 1, 0, 0, 0])
    np.testing.assert_array_equal(grad_of(lambda x: x.clamp(min=0), xs), [0, 1, 0, 1, 1])
    np.testing.assert_array_equal(grad_of(lambda x: fnx.clamp(x, max=2), xs), [1, 1, 1, 0, 0])
    lo = fnx.tensor([0.5] * 4, requires_grad=True)
    x = fnx.tensor(XS, requires_grad=True)
    fnp.sum(fnx.clamp(x, lo)).backward()  # an array bound gets the gradient where it is the output
    assert x.grad.tolist() == [0, 1, 0, 1] and lo.grad.tolist() == [1, 0, 1, 0]
    assert fnx.clamp(fnx.tensor([1, 5, 9]), 2, 6).tolist() == [2, 5, 6]
    np.testing.assert_array_equal(grad_of(lambda x: fnp.clip(x, 0.0, 1.0), [0.0, 1.0]), [0.5, 0.5])  # JAX's ties


def test_clamp_with_array_bounds_has_torchs_gradient_at_ties():
    # torch 2.14's gradients (input, min, max) for each (input, min, max): a tie splits evenly, all to the input
    # where both bounds equal it, and max takes it all where min > max.
    table = {(3, 3, 5): (0.5, 0.5, 0), (3, 1, 3): (0.5, 0, 0.5), (3, 3, 3): (1, 0, 0), (2, 3, 1): (0, 0, 1),
             (0, 1, 1): (0, 1, 0), (2, 1, 3): (1, 0, 0), (np.inf, 1, np.inf): (0.5, 0, 0.5)}
    a, lo, hi = (fnx.tensor([float(k[i]) for k in table], requires_grad=True) for i in range(3))
    out = fnx.clamp(a, min=lo, max=hi)
    out.sum().backward()
    np.testing.assert_array_equal(out, [3, 3, 3, 1, 1, 2, np.inf])
    for i, got in enumerate((a.grad, lo.grad, hi.grad)):
        np.testing.assert_array_equal(got, [v[i] for v in table.values()])
    a, lo = fnx.tensor([1.0, 2.0], requires_grad=True), fnx.tensor([1.0, 0.0], requires_grad=True)
    a.clamp(min=lo).sum().backward()  # one array bound: a tie splits, as torch's
    assert a.grad.tolist() == [0.5, 1.0] and lo.grad.tolist() == [0.5, 0.0]


def test_norms_and_std_of_a_zero_or_constant_row_have_zero_gradient():
    rows = [[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]]
    norm_grad = grad_of(lambda x: x.norm(dim=1), rows)
    np.testing.assert_allclose(norm_grad, [[0, 0, 0], [1 / 3, 2 / 3, 2 / 3]], rtol=1e-6)
    assert not np.isnan(grad_of(lambda x: x.norm(p=3, dim=1), rows)).any()
    assert not np.isnan(grad_of(lambda x: fnp.linalg.norm(x, "fro", axis=(0, 1)), [[0.0, 0.0]])).any()
    assert grad_of(lambda x: x.std(dim=1), [[1.0, 1.0, 1.0]]).tolist() == [[0, 0, 0]]
    assert fnx.grad(fnp.linalg.norm)(fnp.zeros(3)).tolist() == [0, 0, 0]
    # a NaN still shows, in the value and the gradient
    assert np.isnan(float(fnp.linalg.norm(fnp.array([0.0, np.nan])))) and np.isnan(float(fnp.std(fnp.array([np.nan]))))


def test_against_torch():
    torch = pytest.importorskip("torch")
    rows = [[0.0, 0.0, 0.0], [1.0, 2.0, 2.0], [3.0, 3.0, 3.0]]
    # (the p-norms' gradient at 0 changed across torch releases: inf in 2.11, 0 in 2.14; fnx gives 0)
    for ours, theirs in [(lambda x: x.norm(dim=1), lambda x: x.norm(dim=1)),
                         (lambda x: x.std(dim=1), lambda x: x.std(dim=1)),
                         (lambda x: fnp.sqrt(x.clamp(min=0, max=2.5)), lambda x: x.clamp(min=0, max=2.5).sqrt()),
                         (lambda x: fnp.sqrt(F.relu(x - 1)), lambda x: torch.relu(x - 1).sqrt())]:
        t = torch.tensor(rows, requires_grad=True)
        theirs(t).sum().backward()
        with np.errstate(divide="ignore", invalid="ignore"):
            np.testing.assert_allclose(grad_of(ours, rows), t.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_any_shape_and_width(dtype):
    for x in (fnp.asarray(-1.0, dtype), fnp.asarray([[-1.0, 4.0]], dtype)):  # 0-d takes another path
        with np.errstate(divide="ignore", invalid="ignore"):
            g = fnx.grad(lambda v: fnp.sum(fnp.sqrt(F.relu(v))))(x)
        assert g.dtype == np.dtype(dtype) and np.asarray(g).ravel().tolist() == ([0.0] if x.ndim == 0 else [0.0, 0.25])


def test_a_full_median_spreads_its_gradient_over_ties_as_torch():
    # torch 2.14: median() (and nanmedian()) of all elements divides the gradient evenly among the elements
    # equal to the median, NaN ones for a NaN median; along a dim it picks one, as before.
    for values, want in (([1.0, 2.0, 2.0, 3.0], [0, 0.5, 0.5, 0]), ([2.0, 2.0, 2.0], [1 / 3] * 3),
                         ([1.0, np.nan, 2.0], [0, 1, 0]), ([3.0, 1.0, 2.0], [0, 0, 1])):
        np.testing.assert_allclose(grad_of(lambda x: x.median(), values), want, rtol=1e-6)
    np.testing.assert_allclose(grad_of(lambda x: x.nanmedian(), [1.0, 2.0, np.nan, np.nan]), [1, 0, 0, 0])
    np.testing.assert_allclose(grad_of(lambda x: fnx.nanmedian(x), [np.nan, np.nan]), [0.5, 0.5])
    assert fnx.median(fnx.tensor([[1, 2], [3, 4]])).dtype == np.int64  # integers stay integers
    assert float(fnx.tensor([0.1, 0.1, 0.1]).median()) == np.float32(0.1)  # the value itself, not a rounded mean
