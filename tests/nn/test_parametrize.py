"""torch.nn.utils.parametrize and parametrizations: behaviour, gradients, and agreement with torch."""
import copy

import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx.nn.utils import parametrizations as Z
from fnx.nn.utils import parametrize as P
from fnx.testing import check_grads

rng = np.random.default_rng(0)


def A(x):
    return np.asarray(x.detach() if hasattr(x, "detach") else x)


class Symmetric(fnx.nn.Module):
    def forward(self, X):
        return fnp.triu(X) + fnp.triu(X, 1).T

    def right_inverse(self, X):
        return fnp.triu(X)


class Scale(fnx.nn.Module):
    def __init__(self, c, shift=0.0):
        super().__init__()
        self.c, self.shift = c, shift

    def forward(self, X):
        return X * self.c + self.shift

    def right_inverse(self, X):
        return (X - self.shift) / self.c


def linear(n_in=3, n_out=3, dtype="float64"):
    return fnx.nn.Linear(n_in, n_out).to(getattr(fnx, dtype))


def test_register_swaps_the_class_keeps_the_parameter_and_reads_the_parametrized_value():
    m = linear()
    weight = m.weight
    P.register_parametrization(m, "weight", Symmetric())
    assert type(m).__name__ == "ParametrizedLinear" and P.type_before_parametrizations(m) is fnx.nn.Linear
    assert isinstance(m, fnx.nn.Linear)
    assert m.parametrizations.weight.original is weight  # an optimizer built before still holds it
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]
    W = A(m.weight)
    np.testing.assert_array_equal(W, W.T)
    np.testing.assert_array_equal(np.triu(W), np.triu(A(weight)))  # right_inverse kept the upper triangle
    assert P.is_parametrized(m) and P.is_parametrized(m, "weight") and not P.is_parametrized(m, "bias")
    assert not P.is_parametrized(linear())
    other = linear()
    assert not hasattr(type(other), "weight")  # the property lives on this module's own class only


def test_backward_reaches_the_original_and_assignment_goes_through_right_inverse():
    m = linear()
    P.register_parametrization(m, "weight", Symmetric())
    x = fnp.asarray(rng.standard_normal((4, 3)))
    m(x).sum().backward()
    original = m.parametrizations.weight.original

    def loss(u):  # the same model written out: weight = triu(u) + triu(u, 1).T
        return fnp.sum(x @ (fnp.triu(u) + fnp.triu(u, 1).T).T + m.bias)
    np.testing.assert_allclose(A(original.grad), A(fnx.grad(loss)(original.detach())), rtol=1e-12)
    S = rng.standard_normal((3, 3))
    S = S + S.T
    m.weight = fnp.asarray(S)
    np.testing.assert_allclose(A(original), np.triu(S))
    np.testing.assert_allclose(A(m.weight), S)
    with pytest.raises(RuntimeError, match="does not implement right_inverse"):
        P.register_parametrization(linear(), "weight", type("NoInverse", (fnx.nn.Module,), {
            "forward": lambda self, X: X * 2.0})()).weight = fnp.ones((3, 3))


def test_parametrizations_chain_in_registration_order_and_unwind_in_reverse():
    m = linear()
    w0 = A(m.weight)
    P.register_parametrization(m, "weight", Scale(2.0, shift=1.0))
    P.register_parametrization(m, "weight", Symmetric())
    expected = np.triu(w0) + np.triu(w0, 1).T  # Symmetric applied to Scale's output, from the original (w0 - 1) / 2
    np.testing.assert_allclose(A(m.weight), expected, rtol=1e-12)
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original"]
    original = m.parametrizations.weight.original
    np.testing.assert_allclose(A(original), (w0 - 1.0) / 2.0, rtol=1e-12)  # appending does not touch it
    S = rng.standard_normal((3, 3))
    m.weight = fnp.asarray(S + S.T)  # through the right inverses, the last registered first
    np.testing.assert_allclose(A(original), (np.triu(S + S.T) - 1.0) / 2.0, rtol=1e-12)


def test_remove_parametrizations_leaves_the_value_or_the_original():
    m = linear()
    weight = m.weight
    P.register_parametrization(m, "weight", Scale(3.0))
    P.remove_parametrizations(m, "weight")
    assert type(m) is fnx.nn.Linear and m.weight is weight and "parametrizations" not in m._modules
    assert list(m.state_dict()) == ["bias", "weight"]  # re-registered last, as in PyTorch
    w = A(m.weight)
    P.register_parametrization(m, "weight", Scale(3.0))
    np.testing.assert_allclose(A(m.weight), w, rtol=1e-12)
    P.remove_parametrizations(m, "weight", leave_parametrized=False)
    np.testing.assert_allclose(A(m.weight), w / 3.0, rtol=1e-12)
    with pytest.raises(ValueError, match="does not have a parametrization on weight"):
        P.remove_parametrizations(m, "weight")
    Z.weight_norm(m)
    with pytest.raises(ValueError, match="Cannot leave unparametrized"):
        P.remove_parametrizations(m, "weight", leave_parametrized=False)
    w = A(m.weight)
    P.remove_parametrizations(m, "weight")
    np.testing.assert_allclose(A(m.weight), w, rtol=1e-12)
    assert isinstance(m.weight, fnx.nn.Parameter)


def test_errors_name_the_module_and_what_changed():
    with pytest.raises(ValueError, match="does not have a parameter, a buffer, or a parametrized element with name "
                                         "'foo'"):
        P.register_parametrization(linear(), "foo", Symmetric())

    class FirstRow(fnx.nn.Module):
        def forward(self, X):
            return X[0]
    with pytest.raises(ValueError, match=r"may not change the shape of the tensor.*\nunparametrized shape: \(3, 3\)"):
        P.register_parametrization(linear(), "weight", FirstRow())
    P.register_parametrization(linear(), "weight", FirstRow(), unsafe=True)  # allowed, as in PyTorch

    class ToFloat32(fnx.nn.Module):
        def forward(self, X):
            return X.astype("float32")

        def right_inverse(self, X):
            return X.astype("float32")
    with pytest.raises(ValueError, match="When `right_inverse` outputs one tensor, it may not change the dtype"):
        P.register_parametrization(linear(), "weight", ToFloat32())
    m = P.register_parametrization(linear(), "weight", Symmetric())
    with pytest.raises(ValueError, match=r"module.weight.shape: \(3, 3\)"):
        P.register_parametrization(m, "weight", FirstRow())


def test_a_buffer_can_be_parametrized_and_stays_a_buffer():
    m = fnx.nn.Module()
    m.register_buffer("table", fnp.asarray(rng.standard_normal((3, 3))))
    P.register_parametrization(m, "table", Symmetric())
    assert list(m.state_dict()) == ["parametrizations.table.original"]
    assert list(m.parameters()) == []
    np.testing.assert_array_equal(A(m.table), A(m.table).T)


def test_cached_computes_each_parametrized_value_once():
    calls = []

    class Counting(Scale):
        def forward(self, X):
            calls.append(1)
            return super().forward(X)
    m = P.register_parametrization(linear(), "weight", Counting(2.0))
    calls.clear()
    with P.cached():
        first, second = m.weight, m.weight
    assert first is second and len(calls) == 1
    m.weight, m.weight
    assert len(calls) == 3


def test_functional_call_jit_deepcopy_and_load_state_dict_see_the_parametrization():
    def model():
        m = fnx.nn.Sequential(fnx.nn.Linear(3, 4), fnx.nn.Tanh(), fnx.nn.Linear(4, 2)).to(fnx.float64)
        Z.orthogonal(m[0])
        Z.weight_norm(m[2])
        return m
    m = model()
    x = fnp.asarray(rng.standard_normal((5, 3)))
    params = dict(m.named_parameters())
    assert list(params) == ["0.bias", "0.parametrizations.weight.original", "2.bias",
                            "2.parametrizations.weight.original0", "2.parametrizations.weight.original1"]

    def f(p):
        return fnx.nn.functional_call(m, p, (x,)).sum()
    grads = fnx.grad(f)(params)
    m(x).sum().backward()
    for name, p in m.named_parameters():
        np.testing.assert_allclose(A(grads[name]), A(p.grad), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(A(fnx.jit(f)(params)), A(f(params)), rtol=1e-12)
    twin = copy.deepcopy(m)
    np.testing.assert_allclose(A(twin(x)), A(m(x)), rtol=1e-12)
    fresh = model()
    fresh.load_state_dict(m.state_dict())
    np.testing.assert_allclose(A(fresh(x)), A(m(x)), rtol=1e-12)


# ----- the parametrizations --------------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_splits_magnitude_and_direction(dim):
    m = linear(3, 4)
    w = A(m.weight)
    Z.weight_norm(m, dim=dim)
    g, v = m.parametrizations.weight.original0, m.parametrizations.weight.original1
    expected_g = (np.linalg.norm(w) if dim is None else
                  np.linalg.norm(w, axis=1 - dim, keepdims=True))
    np.testing.assert_allclose(A(g), expected_g, rtol=1e-12)
    np.testing.assert_allclose(A(v), w)
    np.testing.assert_allclose(A(m.weight), w, rtol=1e-12)
    m.parametrizations.weight.original0.set_(A(g) * 2.0)
    np.testing.assert_allclose(A(m.weight), 2.0 * w, rtol=1e-12)
    check_grads(lambda g, v: fnp.sum(fnp.sin(Z._WeightNorm(dim)(g, v))), (fnp.asarray(A(g)), fnp.asarray(w)),
                order=2)


def test_spectral_norm_divides_by_the_largest_singular_value():
    fnx.manual_seed(0)  # power iteration's speed depends on the draw (the ratio of the two largest singular values)
    m = linear(6, 4)
    Z.spectral_norm(m)
    assert list(m.state_dict()) == ["bias", "parametrizations.weight.original", "parametrizations.weight.0._u",
                                    "parametrizations.weight.0._v"]
    for _ in range(30):  # each training-mode read refines u and v
        W = A(m.weight)
    np.testing.assert_allclose(np.linalg.svd(W, compute_uv=False)[0], 1.0, rtol=1e-6)
    m.eval()
    u = A(m.parametrizations.weight[0]._u)
    m.weight
    np.testing.assert_array_equal(A(m.parametrizations.weight[0]._u), u)  # no power iteration in eval mode
    conv_t = Z.spectral_norm(fnx.nn.ConvTranspose1d(2, 5, 3).to(fnx.float64))
    assert conv_t.parametrizations.weight[0].dim == 1
    with pytest.raises(ValueError, match="n_power_iterations"):
        Z.spectral_norm(linear(), n_power_iterations=0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        Z.spectral_norm(linear(), dim=2)
    with pytest.raises(ValueError, match="has no parameter or buffer with name 'kernel'"):
        Z.spectral_norm(linear(), name="kernel")


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (4, 4), (2, 4, 3)])
@pytest.mark.parametrize("orthogonal_map", ["matrix_exp", "cayley", "householder"])
def test_orthogonal_weights_stay_orthogonal_through_training(shape, orthogonal_map):
    m = fnx.nn.Module()
    m.weight = fnx.nn.Parameter(fnp.asarray(rng.standard_normal(shape)))
    Z.orthogonal(m, orthogonal_map=orthogonal_map)
    opt = fnx.optim.SGD(m.parameters(), lr=0.1)
    target = fnp.asarray(rng.standard_normal(shape))
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = fnp.sum((m.weight - target) ** 2)
        loss.backward()
        opt.step()
        losses.append(float(loss))
        Q = A(m.weight)
        gram = np.swapaxes(Q, -1, -2) @ Q if shape[-2] >= shape[-1] else Q @ np.swapaxes(Q, -1, -2)
        np.testing.assert_allclose(gram, np.broadcast_to(np.eye(min(shape[-2:])), gram.shape), atol=1e-12)
    assert losses[-1] < losses[0]


def test_orthogonal_assignment_and_errors():
    m = Z.orthogonal(linear(4, 4))
    Q, _ = np.linalg.qr(rng.standard_normal((4, 4)))
    m.weight = fnp.asarray(Q)
    np.testing.assert_allclose(A(m.weight), Q, atol=1e-12)
    h = Z.orthogonal(linear(4, 4), orthogonal_map="householder", use_trivialization=False)
    h.weight = fnp.asarray(Q)
    np.testing.assert_allclose(A(h.weight), Q, atol=1e-12)
    with pytest.raises(NotImplementedError, match="use_trivialization=False"):
        Z.orthogonal(linear(4, 4), use_trivialization=False).weight = fnp.asarray(Q)
    with pytest.raises(ValueError, match="Expected a matrix or batch of matrices. Got a tensor of 1 dimensions"):
        Z.orthogonal(linear(), name="bias")
    with pytest.raises(ValueError, match="orthogonal_map has to be one of"):
        Z.orthogonal(linear(), orthogonal_map="qr")
    with pytest.raises(ValueError, match="householder parametrization does not support complex"):
        m = fnx.nn.Module()
        m.weight = fnx.nn.Parameter(fnp.ones((3, 3), dtype="complex128"))
        Z.orthogonal(m, orthogonal_map="householder")


def test_householder_product_builds_orthogonal_columns_and_differentiates():
    a = fnp.asarray(rng.standard_normal((5, 3)))
    tau = 2.0 / (1.0 + fnp.sum(fnp.tril(a, -1) ** 2, axis=0))
    Q = A(fnx.linalg.householder_product(fnp.tril(a, -1), tau))
    np.testing.assert_allclose(Q.T @ Q, np.eye(3), atol=1e-12)
    check_grads(lambda a, t: fnp.sum(fnp.cos(fnx.linalg.householder_product(a, t))),
                (a, fnp.asarray(rng.random(3))), order=2)
    with pytest.raises(ValueError, match="greater than or equal to"):
        fnx.linalg.householder_product(fnp.ones((2, 3)), fnp.ones(2))
    with pytest.raises(ValueError, match="tau must have shape"):
        fnx.linalg.householder_product(fnp.ones((4, 3)), fnp.ones(4))


# ----- against torch ---------------------------------------------------------------------------------------


def _torch():
    return pytest.importorskip("torch")


def _pair(torch, shape):
    m = fnx.nn.Linear(shape[1], shape[0]).to(fnx.float64)
    t = torch.nn.Linear(shape[1], shape[0]).double()
    with torch.no_grad():
        t.weight.copy_(torch.tensor(A(m.weight)))
        t.bias.copy_(torch.tensor(A(m.bias)))
    return m, t


def _same_step(m, t, torch, x):
    np.testing.assert_allclose(A(m(fnp.asarray(x))), t(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-12)
    m(fnp.asarray(x)).sum().backward()
    t(torch.tensor(x)).sum().backward()
    for (name, p), (tname, tp) in zip(m.named_parameters(), t.named_parameters()):
        assert name == tname
        np.testing.assert_allclose(A(p.grad), tp.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_matches_torch(dim):
    torch = _torch()
    m, t = _pair(torch, (4, 3))
    Z.weight_norm(m, dim=dim)
    torch.nn.utils.parametrizations.weight_norm(t, dim=dim)
    assert [(k, A(v).shape) for k, v in m.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in t.state_dict().items()]
    _same_step(m, t, torch, rng.standard_normal((2, 3)))


@pytest.mark.parametrize("shape", [(4, 3), (3, 5)])
def test_spectral_norm_matches_torch_from_the_same_singular_vectors(shape):
    torch = _torch()
    m, t = _pair(torch, shape)
    Z.spectral_norm(m)
    torch.nn.utils.parametrizations.spectral_norm(t)
    assert list(m.state_dict()) == list(t.state_dict())
    mine, theirs = m.parametrizations.weight[0], t.parametrizations.weight[0]
    mine._u, mine._v = fnp.asarray(theirs._u.numpy()), fnp.asarray(theirs._v.numpy())
    _same_step(m, t, torch, rng.standard_normal((2, shape[1])))  # training mode: one power iteration each
    np.testing.assert_allclose(A(mine._u), theirs._u.numpy(), rtol=1e-10)
    m.eval()
    t.eval()
    _same_step(m, t, torch, rng.standard_normal((2, shape[1])))


@pytest.mark.parametrize("orthogonal_map,trivial", [("matrix_exp", True), ("cayley", True), ("householder", True),
                                                    ("householder", False)])
def test_orthogonal_matches_torch_on_square_weights(orthogonal_map, trivial):
    # Square weights need no random completion, so both start from the same QR of the same weight.
    torch = _torch()
    m, t = _pair(torch, (3, 3))
    Z.orthogonal(m, orthogonal_map=orthogonal_map, use_trivialization=trivial)
    torch.nn.utils.parametrizations.orthogonal(t, orthogonal_map=orthogonal_map, use_trivialization=trivial)
    assert list(m.state_dict()) == list(t.state_dict())
    np.testing.assert_allclose(A(m.weight), t.weight.detach().numpy(), atol=1e-12)
    X = rng.standard_normal((3, 3)) * 0.3 + np.diag([1.0, -1.0, 1.0])  # householder reads the diagonal's signs
    m.parametrizations.weight.original.set_(fnp.asarray(X))
    with torch.no_grad():
        t.parametrizations.weight.original.copy_(torch.tensor(X))
    _same_step(m, t, torch, rng.standard_normal((2, 3)))


def test_householder_product_matches_torch():
    torch = _torch()
    for shape, k in [((4, 3), 3), ((4, 3), 2), ((2, 5, 5), 5)]:
        a, tau = rng.standard_normal(shape), rng.random(shape[:-2] + (k,))
        np.testing.assert_allclose(A(fnx.linalg.householder_product(fnp.asarray(a), fnp.asarray(tau))),
                                   torch.linalg.householder_product(torch.tensor(a), torch.tensor(tau)).numpy(),
                                   atol=1e-14)


def test_weight_norm_loads_a_checkpoint_of_the_hook_based_weight_norm():
    with pytest.warns(FutureWarning):
        old = fnx.nn.utils.weight_norm(linear(3, 2))
    checkpoint = old.state_dict()
    new = Z.weight_norm(linear(3, 2))
    assert new.load_state_dict(checkpoint) == ([], [])
    assert list(checkpoint) == ["bias", "weight_g", "weight_v"]  # the caller's dict is not rewritten
    x = fnp.asarray(rng.standard_normal((4, 3)))
    np.testing.assert_allclose(A(new(x)), A(old(x)), rtol=1e-12)


def test_load_state_dict_pre_hooks_see_each_modules_prefix_and_may_rename_keys():
    seen = []

    def rename(module, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
        seen.append((type(module).__name__, prefix))
        if prefix + "w" in state_dict:
            state_dict[prefix + "weight"] = state_dict.pop(prefix + "w")
    net = fnx.nn.Sequential(linear(2, 2), fnx.nn.Sequential(linear(2, 2)))
    handle = net[1][0].register_load_state_dict_pre_hook(rename)
    values = {k: v + 1.0 for k, v in net.state_dict().items()}
    values["1.0.w"] = values.pop("1.0.weight")
    net.load_state_dict(values)
    assert seen == [("Linear", "1.0.")]
    np.testing.assert_array_equal(A(net[1][0].weight), A(values["1.0.w"]))
    handle.remove()
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "1.0.w"'):
        net.load_state_dict(values)

    def complain(state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
        errors.append(f"{prefix}: refused")
    net._register_load_state_dict_pre_hook(complain)
    with pytest.raises(RuntimeError, match=": refused"):
        net.load_state_dict(net.state_dict())
