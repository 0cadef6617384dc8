"""Lazy layers (torch.nn.LazyLinear, LazyConv*): shapes from the first input."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import fnx
import fnx.numpy as fnp
from fnx import nn


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
