"""Lazy layers (torch.nn.LazyLinear, LazyConv*): shapes from the first input."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import fnx
import fnx.numpy as fnp
from fnx import nn
from .torch_reference import import_torch


@given(st.integers(1, 6), st.integers(1, 6), st.booleans(), st.integers(0, 2 ** 16))
def test_lazy_linear_becomes_the_linear_the_same_seed_would_build(n_in, n_out, bias, seed):
    fnx.manual_seed(seed)
    eager = nn.Linear(n_in, n_out, bias=bias)
    fnx.manual_seed(seed)
    lazy = nn.LazyLinear(n_out, bias=bias)
    assert repr(lazy) == f"LazyLinear(in_features=0, out_features={n_out}, bias={bias})"
    assert lazy.has_uninitialized_params()
    x = fnp.ones((2, n_in))
    np.testing.assert_array_equal(lazy(x), eager(x))
    assert type(lazy) is nn.Linear and repr(lazy) == repr(eager)
    for (name, p), (name2, q) in zip(lazy.named_parameters(), eager.named_parameters(), strict=True):
        assert name == name2 and type(p) is nn.Parameter
        np.testing.assert_array_equal(p, q)


def test_an_optimizer_built_before_the_first_call_trains_the_materialized_parameters():
    model = nn.Sequential(nn.LazyLinear(4), nn.Tanh(), nn.LazyLinear(1))
    opt = fnx.optim.SGD(model.parameters(), lr=0.1)
    x, y = fnp.ones((8, 3)), fnp.zeros((8, 1))
    before = None
    for _ in range(3):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        before = float(loss) if before is None else before
    assert float(nn.functional.mse_loss(model(x), y)) < before
    assert [tuple(p.shape) for p in model.parameters()] == [(4, 3), (4,), (1, 4), (1,)]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


@pytest.mark.parametrize("kind, shape, expected_weight", [
    ("LazyConv1d", (2, 3, 9), (6, 3, 3)), ("LazyConv2d", (2, 3, 5, 5), (6, 3, 3, 3)),
    ("LazyConv3d", (3, 4, 4, 4), (6, 3, 3, 3, 3)),  # unbatched: channels first
    ("LazyConvTranspose1d", (2, 3, 9), (3, 6, 3)), ("LazyConvTranspose2d", (2, 3, 5, 5), (3, 6, 3, 3))])
def test_lazy_convolutions_read_their_input_channels(kind, shape, expected_weight):
    x = fnx.randn(*shape)
    lazy = getattr(nn, kind)(6, 3)
    fnx.manual_seed(1)
    out = lazy(x)  # initialised here, from the generator's state at the call
    eager_cls = getattr(nn, kind[4:])
    assert type(lazy) is eager_cls and lazy.weight.shape == expected_weight and lazy.in_channels == 3
    fnx.manual_seed(1)
    eager = eager_cls(3, 6, 3)
    np.testing.assert_array_equal(out, eager(x))


def test_bad_inputs_and_uninitialized_use_are_explained():
    with pytest.raises(ValueError, match="must be divisible by groups"):
        nn.LazyConv2d(5, 3, groups=2)
    lazy = nn.LazyConv2d(4, 3, groups=2)
    with pytest.raises(ValueError, match="in_channels \\(3\\) must be divisible by groups \\(2\\)"):
        lazy(fnp.ones((1, 3, 5, 5)))
    with pytest.raises(ValueError, match="expected a 3-d \\(unbatched\\) or 4-d"):
        nn.LazyConv2d(4, 3)(fnp.ones((5, 5)))
    with pytest.raises(ValueError, match="no shape yet"):
        nn.LazyLinear(2).weight.shape


def test_against_torch():
    torch = pytest.importorskip("torch")
    for ours, theirs, x in ((nn.LazyLinear(3), torch.nn.LazyLinear(3), np.ones((2, 5), np.float32)),
                            (nn.LazyConv2d(4, 3, 1, 1), torch.nn.LazyConv2d(4, 3, 1, 1), np.ones((1, 2, 6, 6), np.float32)),
                            (nn.LazyConvTranspose2d(4, 3, 2), torch.nn.LazyConvTranspose2d(4, 3, 2),
                             np.ones((1, 2, 6, 6), np.float32))):
        assert repr(ours) == repr(theirs)
        a, b = ours(fnp.asarray(x)), theirs(torch.tensor(x))
        assert a.shape == tuple(b.shape) and repr(ours) == repr(theirs)
        assert [tuple(p.shape) for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]


@pytest.mark.parametrize("kind,shape", [("LazyBatchNorm1d", (4, 3)), ("LazyBatchNorm1d", (4, 3, 5)),
                                        ("LazyBatchNorm2d", (4, 3, 2, 2)), ("LazyBatchNorm3d", (2, 3, 2, 2, 2)),
                                        ("LazyInstanceNorm1d", (2, 3, 5)), ("LazyInstanceNorm2d", (2, 3, 4, 4)),
                                        ("LazyInstanceNorm3d", (2, 3, 2, 3, 3))])
def test_lazy_norms_become_the_norm_built_with_the_input_channels(kind, shape):
    rng = np.random.default_rng(1)
    x = fnp.asarray(rng.standard_normal(shape).astype(np.float32))
    lazy = getattr(nn, kind)(momentum=0.2)
    assert lazy.has_uninitialized_params() and lazy.num_features == 0
    opt = fnx.optim.SGD(lazy.parameters(), lr=0.5)  # built before the shapes are known
    eager = getattr(nn, kind[4:])(3, momentum=0.2, affine=True, track_running_stats=True)
    assert type(lazy).__name__ == kind
    out = lazy(x)
    assert type(lazy) is type(eager) and repr(lazy) == repr(eager)
    np.testing.assert_allclose(np.asarray(out.detach()), np.asarray(eager(x).detach()), rtol=1e-6, atol=1e-6)
    for (k, a), (k2, b) in zip(lazy.state_dict().items(), eager.state_dict().items()):
        assert k == k2
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)
    (out * x).sum().backward()
    before = np.asarray(lazy.weight.detach())
    opt.step()
    assert not np.allclose(np.asarray(lazy.weight.detach()), before)
    with pytest.raises(ValueError, match="UninitializedBuffer has no shape yet"):
        getattr(nn, kind)().running_mean.shape


def test_lazy_norms_without_state_and_against_torch():
    plain = nn.LazyBatchNorm1d(affine=False, track_running_stats=False)
    assert not plain.has_uninitialized_params()
    assert plain(fnp.ones((2, 4))).shape == (2, 4) and type(plain) is nn.BatchNorm1d
    torch = import_torch(norms=True)
    x = np.random.default_rng(2).standard_normal((4, 3, 5)).astype(np.float32)
    for kind in ("LazyBatchNorm1d", "LazyInstanceNorm1d"):
        ours, theirs = getattr(nn, kind)(), getattr(torch.nn, kind)()
        assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
        a, b = ours(fnp.asarray(x)), theirs(torch.tensor(x))
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(np.asarray(a.detach()), b.detach().numpy(), rtol=1e-5, atol=1e-5)
        for (k, u), (k2, v) in zip(ours.state_dict().items(), theirs.state_dict().items()):
            assert k == k2
            np.testing.assert_allclose(np.asarray(u), v.numpy(), rtol=1e-5, atol=1e-6)
