"""Hooks on the tape: Tensor.register_hook, retain_grad, grad_fn, and a module's backward hooks (PyTorch's)."""
import warnings

import numpy as np
import pytest
from hypothesis import given, strategies as st

import fnx
import fnx.numpy as fnp
from fnx.errors import GraphError


def leaf(values):
    return fnx.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def test_a_hook_replaces_the_gradient_that_flows_on():
    x = leaf([1.0, 2.0])
    y = x * 2.0
    y.register_hook(lambda g: g * 10.0)
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * (2 * np.array([2.0, 4.0])) * 10)


def test_a_hook_that_returns_none_only_observes():
    x = leaf([1.0, -3.0])
    seen = []
    y = fnp.sin(x)
    y.register_hook(seen.append)
    y.sum().backward()
    np.testing.assert_allclose(seen[0], [1.0, 1.0])
    np.testing.assert_allclose(x.grad, np.cos([1.0, -3.0]))


@given(st.floats(-4, 4), st.floats(-4, 4), st.integers(1, 5))
def test_hooks_run_in_order_and_compose(a, b, n):
    x = leaf(np.linspace(-1.0, 1.0, n))
    y = fnp.tanh(x)
    order = []
    y.register_hook(lambda g: order.append(1) or g * a)
    y.register_hook(lambda g: order.append(2) or g + b)
    y.sum().backward()
    assert order == [1, 2]
    np.testing.assert_allclose(x.grad, (a + b) * (1 - np.tanh(np.linspace(-1.0, 1.0, n)) ** 2))


def test_a_leaf_hook_runs_before_accumulation():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g + 1.0)
    (x * 1.0).sum().backward()
    np.testing.assert_allclose(x.grad, [2.0, 2.0])
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(x.grad, [2.0 + 4.0, 2.0 + 4.0])


def test_a_value_used_twice_gets_its_hook_once_with_the_summed_gradient():
    x = leaf([1.0, 2.0])
    y = x * 1.0
    seen = []
    y.register_hook(lambda g: seen.append(np.asarray(g)))
    (y * 2.0 + y * 3.0).sum().backward()
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], [5.0, 5.0])


def test_removed_hooks_do_not_run():
    x = leaf([1.0])
    y = x * 1.0
    handle = y.register_hook(lambda g: g * 100.0)
    handle.remove()
    with y.register_hook(lambda g: g * 7.0):
        pass  # leaving the with removes it too
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1.0])


def test_a_hook_may_not_change_the_shape():
    x = leaf([1.0, 2.0])
    y = x * 2.0
    y.register_hook(lambda g: g.sum())
    with pytest.raises(GraphError, match=r"shape \(\) for a value of shape \(2,\)"):
        y.sum().backward()


def test_hooks_need_a_value_that_requires_grad():
    for what in (lambda a: a.register_hook(lambda g: g), lambda a: a.retain_grad()):
        with pytest.raises(GraphError, match="does not require grad"):
            what(fnp.ones(2))
        with pytest.raises(RuntimeError):
            with fnx.no_grad():
                what(leaf([1.0]) * 2.0)


def test_retain_grad_keeps_and_accumulates_the_gradient_after_the_hooks():
    x = leaf([1.0, 2.0])
    y = x * 2.0
    y.retain_grad()
    assert y.retains_grad and not x.retains_grad
    y.register_hook(lambda g: g * 10.0)
    z = (y * y).sum()
    z.backward(retain_graph=True)
    np.testing.assert_allclose(y.grad, [40.0, 80.0])
    z.backward()
    np.testing.assert_allclose(y.grad, [80.0, 160.0])
    np.testing.assert_allclose(x.grad, [160.0, 320.0])
    y.grad = None
    assert y.grad is None


def test_the_grad_of_a_computed_value_is_none_with_a_warning_unless_retained():
    x = leaf([1.0])
    y = x * 3.0
    y.sum().backward()
    with pytest.warns(UserWarning, match="retain_grad"):
        assert y.grad is None
    assert fnp.ones(2).grad is None


def test_retain_grad_and_hooks_in_autograd_grad():
    x = leaf([1.0, 2.0])
    y = x * 2.0
    y.retain_grad()
    y.register_hook(lambda g: g * 2.0)
    (g,) = fnx.autograd.grad(y.sum(), [x])
    np.testing.assert_allclose(g, [4.0, 4.0])
    np.testing.assert_allclose(y.grad, [2.0, 2.0])
    assert x.grad is None


def test_hooks_see_differentiable_gradients_under_create_graph():
    x = leaf([1.5])
    y = x * x
    y.register_hook(lambda g: g * x)  # d/dy scaled by x: the gradient of x is 2x * x
    y.sum().backward(create_graph=True)
    np.testing.assert_allclose(x.grad, [2 * 1.5 ** 2])
    (g2,) = fnx.autograd.grad(x.grad.sum(), [x])
    np.testing.assert_allclose(g2, [4 * 1.5])


def test_post_accumulate_grad_hook_sees_the_leaf_after_accumulation():
    p = leaf([1.0, 2.0])
    seen = []
    handle = p.register_post_accumulate_grad_hook(lambda t: seen.append(np.array(t.grad)))
    (p * 3.0).sum().backward()
    (p * 3.0).sum().backward()
    np.testing.assert_allclose(seen, [[3.0, 3.0], [6.0, 6.0]])
    handle.remove()
    (p * 3.0).sum().backward()
    assert len(seen) == 2
    with pytest.raises(GraphError, match="only a leaf"):
        (p * 2.0).register_post_accumulate_grad_hook(lambda t: None)


def test_is_leaf_and_grad_fn():
    x = leaf([1.0, 2.0])
    y = x * 2.0 + 1.0
    assert x.is_leaf and fnp.ones(2).is_leaf and not y.is_leaf
    assert x.grad_fn is None and fnp.ones(2).grad_fn is None
    assert y.grad_fn.name() == "AddBackward0"
    (mul, index), (const, _) = y.grad_fn.next_functions
    assert mul.name() == "MulBackward0" and index == 0 and const is None
    (acc, _), _ = mul.next_functions
    assert acc.name() == "AccumulateGrad" and acc.variable is x
    assert "grad_fn=<AddBackward0>" in repr(y)


# ----- a module's backward hooks ----------------------------------------------------------------------


def linear_of_ones():
    lin = fnx.nn.Linear(2, 3)
    fnx.nn.init.constant_(lin.weight, 1.0)
    fnx.nn.init.zeros_(lin.bias)
    return lin


def test_full_backward_hook_sees_grad_input_and_grad_output_and_pre_hook_can_replace():
    lin = linear_of_ones()
    calls = []
    lin.register_full_backward_pre_hook(lambda m, go: calls.append(("pre", go)) or (go[0] * 2.0,))
    lin.register_full_backward_hook(lambda m, gi, go: calls.append(("full", m, gi, go)))
    x = fnx.tensor([[1.0, 2.0]], requires_grad=True)
    lin(x).sum().backward()
    (pre, go0), (full, module, gi, go) = calls
    assert (pre, full, module) == ("pre", "full", lin)
    np.testing.assert_allclose(go0[0], [[1.0, 1.0, 1.0]])
    np.testing.assert_allclose(go[0], [[2.0, 2.0, 2.0]])
    np.testing.assert_allclose(gi[0], [[6.0, 6.0]])
    np.testing.assert_allclose(x.grad, [[6.0, 6.0]])
    np.testing.assert_allclose(lin.weight.grad, [[2.0, 4.0]] * 3)


def test_full_backward_hook_can_replace_grad_input():
    lin = linear_of_ones()
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0.5,))
    x = fnx.tensor([[1.0, 2.0]], requires_grad=True)
    lin(x).sum().backward()
    np.testing.assert_allclose(x.grad, [[1.5, 1.5]])
    np.testing.assert_allclose(lin.weight.grad, [[1.0, 2.0]] * 3)  # the parameters are not the inputs


def test_full_backward_hook_entries_for_arrays_that_do_not_require_grad_and_for_unused_outputs():
    class Two(fnx.nn.Module):
        def forward(self, a, b, k=1):
            return a * b * k, a + b

    seen = []
    m = Two()
    m.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go)))
    a = fnx.tensor([1.0, 2.0], requires_grad=True)
    first, _ = m(a, fnx.tensor([3.0, 4.0]), 3)
    first.sum().backward()
    (gi, go), = seen
    np.testing.assert_allclose(gi[0], [9.0, 12.0])
    np.testing.assert_allclose(gi[1], [0.0, 0.0])
    assert gi[2] is None
    np.testing.assert_allclose(go[0], [1.0, 1.0])
    assert go[1] is None


def test_full_backward_hook_when_no_input_requires_grad_runs_on_the_outputs_with_a_warning():
    seq = fnx.nn.Sequential(linear_of_ones(), fnx.nn.Tanh(), fnx.nn.Linear(3, 1))
    seen = []
    handles = [layer.register_full_backward_hook(
        lambda m, gi, go, i=i: seen.append((i, [None if g is None else g.shape for g in gi], [g.shape for g in go])))
        for i, layer in enumerate(seq)]
    with pytest.warns(UserWarning, match="no input requires grad"):
        seq(fnp.ones((4, 2))).sum().backward()
    assert seen == [(2, [(4, 3)], [(4, 1)]), (1, [(4, 3)], [(4, 3)]), (0, [None], [(4, 3)])]
    for h in handles:
        h.remove()
    seen.clear()
    seq(fnp.ones((4, 2))).sum().backward()
    assert seen == []


def test_module_backward_hooks_check_what_they_return():
    lin = linear_of_ones()
    lin.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
    with pytest.raises(ValueError, match="returned 2 values for grad_input, which has 1"):
        lin(fnx.tensor([[1.0, 2.0]], requires_grad=True)).sum().backward()
    lin = linear_of_ones()
    lin.register_full_backward_pre_hook(lambda m, go: (go[0].sum(),))
    with pytest.raises(ValueError, match=r"grad_output entry of shape \(\)"):
        lin(fnx.tensor([[1.0, 2.0]], requires_grad=True)).sum().backward()


def test_prepend_puts_a_hook_first():
    lin = linear_of_ones()
    order = []
    lin.register_full_backward_pre_hook(lambda m, go: order.append("second"))
    lin.register_full_backward_pre_hook(lambda m, go: order.append("first"), prepend=True)
    lin(fnx.tensor([[1.0, 2.0]], requires_grad=True)).sum().backward()
    assert order == ["first", "second"]


def test_no_hooks_no_extra_nodes():
    lin = linear_of_ones()
    y = lin(fnx.tensor([[1.0, 2.0]], requires_grad=True))
    assert y.grad_fn.name() != "BackwardHookFunctionBackward0"
    lin.register_full_backward_hook(lambda m, gi, go: None)
    assert lin(fnx.tensor([[1.0, 2.0]], requires_grad=True)).grad_fn.name() == "BackwardHookFunctionBackward0"


def test_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w1, w2, xv = rng.normal(size=(3, 4)), rng.normal(size=(2, 3)), rng.normal(size=(5, 4))

    def run(lib, tensor, make):
        model = lib.nn.Sequential(lib.nn.Linear(4, 3, bias=False), lib.nn.Tanh(), lib.nn.Linear(3, 2, bias=False))
        model[0].weight = lib.nn.Parameter(make(w1))
        model[2].weight = lib.nn.Parameter(make(w2))
        log = []
        model[1].register_full_backward_pre_hook(lambda m, go: (go[0] * 3.0,))
        model[1].register_full_backward_hook(lambda m, gi, go: log.append(np.array(gi[0].detach())))
        x = make(xv)
        x = x.requires_grad_()
        h = model[0](x)
        h.retain_grad()
        h.register_hook(lambda g: g + 1.0)
        out = model[2](model[1](h))
        (out ** 2).sum().backward()
        return [np.array(t.detach()) for t in (x.grad, h.grad, model[0].weight.grad, model[2].weight.grad)] + log

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = run(fnx, fnx.tensor, lambda v: fnx.tensor(v))
        theirs = run(torch, torch.tensor, lambda v: torch.tensor(v))
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def _named_ops(lib, F, x, targets):
    return {"AddBackward0": lambda: x + 1, "SubBackward0": lambda: x - 1, "MulBackward0": lambda: x * 2,
            "DivBackward0": lambda: x / 2, "PowBackward0": lambda: x ** 2, "NegBackward0": lambda: -x,
            "ExpBackward0": lambda: x.exp(), "SumBackward0": lambda: x.sum(), "MmBackward0": lambda: x @ x,
            "ReluBackward0": lambda: F.relu(x), "SigmoidBackward0": lambda: x.sigmoid(),
            "ViewBackward0": lambda: x.view(4), "CatBackward0": lambda: lib.cat([x, x]),
            "NllLossBackward0": lambda: F.cross_entropy(x, targets), "LogSoftmaxBackward0": lambda: F.log_softmax(x, 1)}


def test_grad_fn_names_and_types_follow_pytorchs():
    import fnx.nn.functional as F
    x = fnx.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    for name, make in _named_ops(fnx, F, x, fnx.tensor([0, 1])).items():
        node = make().grad_fn
        assert node.name() == name == type(node).__name__ and repr(node) == f"<{name} object>"


def test_grad_fn_names_match_torchs():
    torch = pytest.importorskip("torch")
    t = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    for name, make in _named_ops(torch, torch.nn.functional, t, torch.tensor([0, 1])).items():
        assert make().grad_fn.name() == name
