"""fnx.utils.checkpoint: torch.utils.checkpoint on the tape."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import fnx
import fnx.numpy as fnp
from fnx.utils.checkpoint import checkpoint, checkpoint_sequential


def grads_of(net, x, run):
    net.zero_grad()
    x = fnx.tensor(np.asarray(x), requires_grad=True)
    (run(net, x) ** 2).sum().backward()
    return [np.array(p.grad) for p in net.parameters()] + [np.array(x.grad)]


def mlp(dropout=0.0):
    return fnx.nn.Sequential(fnx.nn.Linear(3, 4), fnx.nn.Tanh(), fnx.nn.Dropout(dropout), fnx.nn.Linear(4, 4),
                             fnx.nn.Sigmoid(), fnx.nn.Linear(4, 2))


@given(st.integers(0, 2 ** 16), st.sampled_from([0.0, 0.5]))
def test_checkpointed_gradients_equal_the_plain_ones(seed, dropout):
    fnx.manual_seed(seed)
    net, x = mlp(dropout), fnx.randn(5, 3)

    def plain(net, x):
        return net(x)

    def checkpointed(net, x):
        return checkpoint(net, x, use_reentrant=False)

    def sequential(net, x):
        return checkpoint_sequential(net, 3, x)

    fnx.manual_seed(seed + 1)
    expected = grads_of(net, x, plain)
    for run in (checkpointed, sequential):
        fnx.manual_seed(seed + 1)  # the same dropout masks: the recomputation replays the first run's draws
        for got, want in zip(grads_of(net, x, run), expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_the_intermediates_are_not_recorded():
    net = mlp()
    out = checkpoint(net, fnx.randn(5, 3, requires_grad=True))
    assert out.grad_fn.name() == "CheckpointFunctionBackward0"
    (leaf, _), = out.grad_fn.next_functions
    assert leaf.name() == "AccumulateGrad"  # straight back to the input: nothing of net's inside is on the tape


def test_parameters_get_gradients_when_no_input_requires_grad():
    lin = fnx.nn.Linear(3, 2)
    checkpoint(lin, fnp.ones((4, 3))).sum().backward()
    np.testing.assert_allclose(lin.bias.grad, [4.0, 4.0])
    np.testing.assert_allclose(lin.weight.grad, np.full((2, 3), 4.0))


def test_several_inputs_outputs_and_keyword_arguments():
    a = fnx.tensor([1.0, 2.0], requires_grad=True)
    b = fnx.tensor([3.0, -1.0], requires_grad=True)

    def f(x, y, *, scale):
        return x * y * scale, fnp.sin(x)

    p, q = checkpoint(f, a, b, scale=2.0)
    (p.sum() + 3 * q.sum()).backward()
    np.testing.assert_allclose(a.grad, 2 * np.array([3.0, -1.0]) + 3 * np.cos([1.0, 2.0]), rtol=1e-6)
    np.testing.assert_allclose(b.grad, [2.0, 4.0])
    a.grad = b.grad = None
    p, _ = checkpoint(f, a, b, scale=2.0)  # an output nobody differentiates
    p.sum().backward()
    np.testing.assert_allclose(a.grad, [6.0, -2.0])


def test_under_no_grad_it_just_runs_and_under_a_transform_it_is_remat():
    lin = fnx.nn.Linear(3, 2)
    with fnx.no_grad():
        out = checkpoint(lin, fnp.ones((1, 3)))
    assert type(out) is fnx.Array
    f = lambda x: checkpoint(lambda v: fnp.sin(v) ** 2, x).sum()  # noqa: E731
    np.testing.assert_allclose(fnx.grad(f)(fnp.array([0.3, 1.2])), np.sin(2 * np.array([0.3, 1.2])), rtol=1e-6)


def test_refuses_what_it_does_not_support():
    with pytest.raises(ValueError, match="context_fn"):
        checkpoint(lambda x: x, fnp.ones(2), context_fn=lambda: None)
    with pytest.raises(ValueError, match="segments"):
        checkpoint_sequential(mlp(), 0, fnp.ones((1, 3)))


def test_against_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.checkpoint import checkpoint_sequential as torch_sequential
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 3))
    ours = mlp()
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Dropout(0.0), torch.nn.Linear(4, 4),
                                 torch.nn.Sigmoid(), torch.nn.Linear(4, 2)).double()
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            q.copy_(torch.tensor(np.array(p.detach()), dtype=torch.float64))
    xt = torch.tensor(x, requires_grad=True)
    (torch_sequential(theirs, 2, xt, use_reentrant=False) ** 2).sum().backward()
    got = grads_of(ours, x.astype(np.float32), lambda net, v: checkpoint_sequential(net, 2, v))
    for g, q in zip(got, list(theirs.parameters()) + [xt]):
        np.testing.assert_allclose(g, q.grad.numpy(), rtol=2e-5, atol=1e-6)
