"""fnx.autograd: torch.autograd's grad, backward, Function and functional over fnx's tape, checked against
the calculus written in numpy and against PyTorch itself where it is installed."""
import numpy as np
import pytest

import fnx
import fnx.autograd.functional as AF
import fnx.numpy as fnp
from fnx.errors import GraphError, ShapeError

rng = np.random.default_rng(0)
X = rng.standard_normal(3)
W = rng.standard_normal((2, 3))


def eq(got, want, rtol=1e-5):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-6)


# ----- autograd.grad -----------------------------------------------------------------------------

def test_grad_of_leaves_and_intermediates_without_touching_dot_grad():
    x = fnx.tensor(X, requires_grad=True)
    h = x * x  # an intermediate
    y = fnp.sin(h).sum() + (3.0 * x).sum()
    gx, gh = fnx.autograd.grad(y, (x, h))
    eq(gh, np.cos(X * X))  # the cotangent arriving at h
    eq(gx, np.cos(X * X) * 2 * X + 3)  # x's full gradient, through h and directly: nothing is cut
    assert x.grad is None


def test_grad_of_one_output_of_a_multiple_output_operation():
    a = fnx.tensor(np.arange(4.0), requires_grad=True)
    p, q = fnx.split(a * 1.0, 2)  # one node, two outputs
    out = (p * 3.0).sum() + (q * q).sum()
    gq, gp, ga = fnx.autograd.grad(out, [q, p, a])
    eq(gq, 2 * np.array([2.0, 3.0]))
    eq(gp, [3.0, 3.0])
    eq(ga, [3.0, 3.0, 4.0, 6.0])


def test_grad_outputs_unused_inputs_and_freed_graphs():
    x = fnx.tensor(X, requires_grad=True)
    y = fnx.tensor(X, requires_grad=True)
    out = x * 2.0
    (g,) = fnx.autograd.grad(out, x, grad_outputs=fnx.tensor(X), retain_graph=True)
    eq(g, 2 * X)
    with pytest.raises(ShapeError, match="grad can be implicitly created only for scalar outputs"):
        fnx.autograd.grad(out, x, retain_graph=True)
    with pytest.raises(ShapeError, match="has shape"):
        fnx.autograd.grad(out, x, grad_outputs=fnx.ones(2), retain_graph=True)
    with pytest.raises(GraphError, match="allow_unused"):
        fnx.autograd.grad(out.sum(), [x, y], retain_graph=True)
    assert fnx.autograd.grad(out.sum(), [x, y], allow_unused=True, retain_graph=True)[1] is None
    eq(fnx.autograd.grad(out.sum(), [x, y], materialize_grads=True)[1], np.zeros(3))
    with pytest.raises(GraphError, match="second time"):  # the last call freed the graph
        fnx.autograd.grad(out.sum(), x)
    with pytest.raises(ValueError, match="materialize_grads"):
        fnx.autograd.grad((x * 2.0).sum(), x, allow_unused=False, materialize_grads=True)


def test_grad_refuses_what_is_not_on_the_tape():
    x = fnx.tensor(X, requires_grad=True)
    with pytest.raises(GraphError, match=r"outputs\[0\]"):
        fnx.autograd.grad(fnx.tensor(X).sum(), x)
    with pytest.raises(GraphError, match=r"inputs\[0\]"):
        fnx.autograd.grad((x * 2.0).sum(), fnx.tensor(X))
    with fnx.no_grad():
        y = (x * 2.0).sum()
    with pytest.raises(GraphError, match="no_grad"):
        fnx.autograd.grad(y, x)


def test_create_graph_differentiates_again():
    x = fnx.tensor(X, requires_grad=True)
    h = fnp.sin(x)
    gx, gh = fnx.autograd.grad((h ** 3).sum(), (x, h), create_graph=True)
    eq(gx, 3 * np.sin(X) ** 2 * np.cos(X))
    v = fnx.tensor(rng.standard_normal(3))
    (hv,) = fnx.autograd.grad(gx, x, grad_outputs=v, retain_graph=True)  # a Hessian-vector product
    second = 6 * np.sin(X) * np.cos(X) ** 2 - 3 * np.sin(X) ** 3
    eq(hv, second * np.asarray(v))
    (ghh,) = fnx.autograd.grad(gh.sum(), x)  # d/dx of 3 sin(x)^2
    eq(ghh, 6 * np.sin(X) * np.cos(X))
    w = fnx.tensor(X, requires_grad=True)
    fnx.autograd.backward([(w ** 3).sum(), (w * w).sum()], create_graph=True)
    eq(fnx.autograd.grad(w.grad.sum(), w)[0], 6 * X + 2)  # .grad itself is recorded


# ----- autograd.backward -------------------------------------------------------------------------

def test_backward_accumulates_several_outputs_and_honours_inputs():
    w = fnx.tensor(X, requires_grad=True)
    v = fnx.tensor(X, requires_grad=True)
    fnx.autograd.backward([(w * w).sum(), w * v], [None, fnx.ones(3)])
    eq(w.grad, 2 * X + X)
    eq(v.grad, X)
    fnx.autograd.backward((w * v).sum(), inputs=[v])
    eq(v.grad, 2 * X)
    eq(w.grad, 3 * X)  # not an input this time: unchanged
    with pytest.raises(GraphError, match="only leaves"):
        h = w * 2.0
        fnx.autograd.backward((h * h).sum(), inputs=[h])


# ----- autograd.Function -------------------------------------------------------------------------

class ScaledExp(fnx.autograd.Function):
    """exp(k * x) with a deliberately marked backward (times 10), to see which rule ran."""

    @staticmethod
    def forward(ctx, x, k):
        y = fnp.exp(x * k)
        ctx.save_for_backward(y)
        ctx.k = k
        ctx.seen = ctx.needs_input_grad
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return 10.0 * g * y * ctx.k, None


class MulAdd(fnx.autograd.Function):
    """(x * y, x + y) in the setup_context form: two outputs, two gradients."""

    @staticmethod
    def forward(x, y):
        return x * y, x + y

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(*inputs)

    @staticmethod
    def backward(ctx, g_mul, g_add):
        x, y = ctx.saved_tensors
        return g_mul * y + g_add, g_mul * x + g_add


def test_function_on_the_tape_uses_its_backward():
    x = fnx.tensor(X, requires_grad=True)
    ScaledExp.apply(x, 2.0).sum().backward()
    eq(x.grad, 10 * 2 * np.exp(2 * X))
    a, b = fnx.tensor(X, requires_grad=True), fnx.tensor(X[::-1].copy(), requires_grad=True)
    m, s = MulAdd.apply(a, b)
    eq(m, X * X[::-1])
    (m.sum() + 2.0 * s.sum()).backward()
    eq(a.grad, X[::-1] + 2)
    eq(b.grad, X + 2)
    m, s = MulAdd.apply(a, b)
    ga, = fnx.autograd.grad(m.sum(), a)  # an unused output gets a zero gradient
    eq(ga, X[::-1])
    m, s = MulAdd.apply(a, a * a)
    ga, = fnx.autograd.grad(m.sum(), a, create_graph=True)  # backward's operations are recorded too
    eq(ga, 3 * X ** 2)
    eq(fnx.autograd.grad(ga.sum(), a)[0], 6 * X)


def test_function_under_transforms():
    x = fnp.asarray(X)
    eq(fnx.grad(lambda v: ScaledExp.apply(v, 2.0).sum())(x), 20 * np.exp(2 * X))  # reverse mode: backward
    eq(fnx.jvp(lambda v: ScaledExp.apply(v, 2.0), (x,), (fnp.ones_like(x),))[1], 2 * np.exp(2 * X))  # forward: forward's
    eq(fnx.vmap(lambda v: ScaledExp.apply(v, 2.0))(x), np.exp(2 * X))
    eq(ScaledExp.apply(x, 1.0), np.exp(X))  # no transform: forward only


def test_function_needs_input_grad_and_checks():
    seen = {}

    class Probe(fnx.autograd.Function):
        @staticmethod
        def forward(ctx, x, y, k):
            seen["needs"] = ctx.needs_input_grad
            return x * y * k

        @staticmethod
        def backward(ctx, g):
            return g, g, None

    w = fnx.tensor(X, requires_grad=True)
    Probe.apply(w, fnx.tensor(X), 2.0)
    assert seen["needs"] == (True, False, False)
    fnx.grad(lambda v: Probe.apply(fnp.asarray(X), v, 2.0).sum())(fnp.asarray(X))
    assert seen["needs"] == (False, True, False)

    class WrongCount(fnx.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            return g, g

    with pytest.raises(TypeError, match="returned 2 gradients, expected 1"):
        WrongCount.apply(fnx.tensor(X, requires_grad=True)).sum().backward()

    class WrongShape(fnx.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(ShapeError, match="shape"):
        fnx.grad(lambda v: WrongShape.apply(v))(fnp.asarray(X))


# ----- autograd.functional -----------------------------------------------------------------------

def f_two(x, w):
    return fnp.tanh(w @ x), (x * x).sum()


def test_functional_jacobian_layouts():
    x, w = fnp.asarray(X), fnp.asarray(W)
    t = np.tanh(W @ X)
    d_tanh = (1 - t ** 2)
    jac = AF.jacobian(lambda v: fnp.tanh(w @ v), x)
    eq(jac, d_tanh[:, None] * W)  # one input, one output: an array of shape out + in
    jx, jw = AF.jacobian(lambda v, m: fnp.tanh(m @ v), (x, w))
    eq(jx, d_tanh[:, None] * W)
    eq(jw, d_tanh[:, None, None] * np.eye(2)[:, :, None] * X[None, None, :])
    (a, b), (c, d) = AF.jacobian(f_two, (x, w))  # tuple out, tuple in: [output][input]
    eq(c, 2 * X)
    eq(d, np.zeros((2, 3)))
    fwd = AF.jacobian(f_two, (x, w), strategy="forward-mode", vectorize=True)
    eq(fwd[0][1], jw)
    single = AF.jacobian(lambda v: (v * 2.0, v.sum()), x)  # tuple out, one input: one entry per output
    eq(single[0], 2 * np.eye(3))
    eq(single[1], np.ones(3))
    with pytest.raises(ValueError, match="strict"):
        AF.jacobian(f_two, (x, w), strict=True)
    with pytest.raises(TypeError, match="tuple of arrays"):
        AF.jacobian(lambda v: [v], x)


def test_functional_hessian_and_products():
    x = fnp.asarray(X)

    def f(v):
        return (v ** 3).sum() + v[0] * v[1]

    H = np.diag(6 * X)
    H[0, 1] += 1
    H[1, 0] += 1
    eq(AF.hessian(f, x), H)
    hxx = AF.hessian(lambda a, b: (a * a * b).sum(), (x, x * 2.0))
    eq(hxx[0][0], np.diag(2 * 2 * X))
    eq(hxx[0][1], np.diag(2 * X))
    eq(AF.hessian(f, x, outer_jacobian_strategy="forward-mode"), H)
    v = fnp.asarray(rng.standard_normal(3))
    out, hv = AF.hvp(f, x, v)
    eq(out, (X ** 3).sum() + X[0] * X[1])
    eq(hv, H @ np.asarray(v))
    eq(AF.vhp(f, x, v)[1], np.asarray(v) @ H)
    out, g = AF.vjp(lambda a: a * a, x, v)
    eq(g, 2 * X * np.asarray(v))
    eq(AF.vjp(f, x)[1], 3 * X ** 2 + np.array([X[1], X[0], 0]))  # v left out for a one-element output
    eq(AF.jvp(lambda a: a * a, x, v)[1], 2 * X * np.asarray(v))
    with pytest.raises(ShapeError, match="single element"):
        AF.jvp(lambda a: a * a, x)
    with pytest.raises(ShapeError, match="single element"):
        AF.hessian(lambda a: a * a, x)


def test_functional_create_graph_keeps_the_tape():
    w = fnx.tensor(X, requires_grad=True)
    H = AF.hessian(lambda v: (v ** 3).sum(), w, create_graph=True)
    H.sum().backward()
    eq(w.grad, 6 * np.ones(3))  # d/dw of sum(diag(6 w))
    assert not AF.hessian(lambda v: (v ** 3).sum(), w).requires_grad  # cut from the tape by default


# ----- against PyTorch itself ----------------------------------------------------------------------

def _grads(L, AG):
    x = L.tensor(X, requires_grad=True)
    h = x * x
    y = L.sin(h).sum() + (3.0 * x).sum()
    gx, gh = AG.grad(y, (x, h))
    jac = AG.functional.jacobian(lambda a, b: (a * b, a.sum() * b), (L.tensor(X), L.tensor(X)))
    hes = AG.functional.hessian(lambda a: (a ** 3).sum() * a[0], L.tensor(X))
    x2 = L.tensor(X, requires_grad=True)
    g2, = AG.grad((L.sin(x2) ** 3).sum(), x2, create_graph=True)
    hv, = AG.grad(g2, x2, grad_outputs=L.tensor(X))
    return {"gx": gx, "gh": gh, "hv": hv, "jac00": jac[0][0], "jac11": jac[1][1], "hes": hes,
            "vhp": AG.functional.vhp(lambda a: (a ** 3).sum(), L.tensor(X), L.tensor(X))[1]}


def test_against_pytorch():
    torch = pytest.importorskip("torch")
    want, got = _grads(torch, torch.autograd), _grads(fnx, fnx.autograd)
    for key, w in want.items():
        eq(got[key], w.detach().numpy())


def test_gradcheck_and_gradgradcheck():
    x = fnx.tensor(X, requires_grad=True)
    c = fnx.tensor(X)  # no requires_grad: a constant to the check
    assert fnx.autograd.gradcheck(lambda v, k: (fnp.sin(v) * v * k).sum(), (x, c))
    assert fnx.autograd.gradgradcheck(lambda v: fnp.tanh(v) * v, x)

    @fnx.custom_vjp
    def wrong(v):
        return v * 2.0
    wrong.defvjp(lambda v: (v * 2.0, None), lambda res, g: (g * 3.0,))
    assert fnx.autograd.gradcheck(wrong, x, raise_exception=False) is False
    with pytest.raises(AssertionError, match="central differences"):
        fnx.autograd.gradcheck(wrong, x)

    @fnx.custom_vjp
    def wrong_second(v):
        return fnp.sin(v)
    wrong_second.defvjp(lambda v: (fnp.sin(v), v), lambda v, g: (g * fnp.cos(fnp.stop_gradient(v)),))
    assert fnx.autograd.gradcheck(wrong_second, x)  # first derivatives right...
    assert not fnx.autograd.gradgradcheck(wrong_second, x, raise_exception=False)  # ...second ones not
    with pytest.raises(ValueError, match="requires grad"):
        fnx.autograd.gradcheck(fnp.sin, c)


@pytest.mark.parametrize("lib", ["fnx", "torch"])
def test_grad_modes_decorate_with_and_without_parentheses_as_torch(lib):
    torch = pytest.importorskip("torch") if lib == "torch" else None
    m = torch if lib == "torch" else fnx
    w = torch.ones(2, requires_grad=True) if torch else fnx.nn.Parameter(fnp.ones(2))

    @m.no_grad
    def bare(x):
        return x * 2

    @m.enable_grad
    def bare_enable(x):
        return x * 2

    @m.inference_mode
    def bare_inference(x):
        return x * 2

    @m.no_grad()
    def steps(x):
        yield x * 2
        yield x * 3  # the mode holds between the steps too

    assert not bare(w).requires_grad and bare.__name__ == "bare"
    with m.no_grad():
        assert bare_enable(w).requires_grad
    assert not bare_inference(w).requires_grad
    assert [y.requires_grad for y in steps(w)] == [False, False]
    assert m.is_grad_enabled()
    with m.inference_mode(False):
        assert m.is_grad_enabled() and not m.is_inference_mode_enabled()
    with m.inference_mode():
        assert not m.is_grad_enabled() and m.is_inference_mode_enabled()
        with m.inference_mode(False):
            assert not m.is_inference_mode_enabled()
    assert m.is_grad_enabled() and not m.is_inference_mode_enabled()


def test_a_decorated_generator_runs_each_step_in_the_mode_and_passes_send_throw_and_return():
    w = fnx.nn.Parameter(fnp.ones(2))
    seen = []

    @fnx.no_grad()
    def echo(x):
        try:
            while True:
                got = yield x * 2
                seen.append((got, fnx.is_grad_enabled()))
        except KeyError:
            yield "caught"
        return "done"

    steps = echo(w)
    assert not next(steps).requires_grad
    assert fnx.is_grad_enabled()  # outside a step, the caller's mode
    steps.send(5)
    assert steps.throw(KeyError()) == "caught"
    with pytest.raises(StopIteration) as finished:
        next(steps)
    assert finished.value.value == "done" and seen == [(5, False)]


def test_grad_takes_only_inputs_and_batched_grad_outputs_as_torch():
    torch = pytest.importorskip("torch")
    x, tx = fnx.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    y, ty = x ** 2, tx ** 2
    ours = fnx.autograd.grad(y, x, fnx.eye(2), retain_graph=True, is_grads_batched=True)
    theirs = torch.autograd.grad(ty, tx, torch.eye(2), retain_graph=True, is_grads_batched=True)
    np.testing.assert_array_equal(np.asarray(ours[0]), theirs[0].numpy())  # the Jacobian, one row per vector
    penalty = fnx.autograd.grad(outputs=(x ** 3).sum(), inputs=x, create_graph=True, retain_graph=True,
                                only_inputs=True)[0]  # WGAN-GP's compute_gradient_penalty passes only_inputs
    np.testing.assert_array_equal(np.asarray(penalty), [3.0, 12.0])
    with pytest.raises(ValueError, match="is_grads_batched=True needs grad_outputs"):
        fnx.autograd.grad(y, x, is_grads_batched=True)


# ----- torch.autograd.forward_ad -------------------------------------------------------------------

def test_forward_ad_dual_tensors_carry_tangents_as_jvp_does():
    import fnx.autograd.forward_ad as fwAD
    x, t = fnp.array([0.3, -1.2, 2.0]), fnp.array([1.0, 0.5, -2.0])
    f = lambda v: fnp.sin(v) * fnp.exp(v / 3)
    with fwAD.dual_level() as level:
        assert level == 0
        out = fwAD.unpack_dual(f(fwAD.make_dual(x, t)))
        assert fwAD.unpack_dual(x) == (x, None)
    want_out, want_t = fnx.jvp(f, (x,), (t,))
    np.testing.assert_allclose(np.asarray(out.primal), np.asarray(want_out), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(out.tangent), np.asarray(want_t), rtol=1e-6)
    assert type(out).__name__ == "UnpackedDualTensor" and out._fields == ("primal", "tangent")


def test_forward_ad_with_module_parameters_as_in_pytorchs_tutorial():
    import fnx.autograd.forward_ad as fwAD
    fnx.manual_seed(0)
    model, x = fnx.nn.Linear(5, 5), fnx.randn(16, 5)
    params = dict(model.named_parameters())
    tangents = {name: fnx.rand_like(p) for name, p in params.items()}
    want = np.asarray(x @ tangents["weight"].T + tangents["bias"])
    with fwAD.dual_level():
        duals = {name: fwAD.make_dual(p, tangents[name]) for name, p in params.items()}
        got = fwAD.unpack_dual(fnx.func.functional_call(model, duals, (x,))).tangent
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6)
    with fwAD.dual_level():
        for name, p in params.items():
            delattr(model, name)
            setattr(model, name, fwAD.make_dual(p, tangents[name]))
        got = fwAD.unpack_dual(model(x)).tangent
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6)


def test_forward_ad_errors_match_pytorchs():
    import fnx.autograd.forward_ad as fwAD
    from fnx.errors import GraphError, ShapeError, TangentDTypeError
    with pytest.raises(GraphError, match="make_dual: no forward AD level exists"):
        fwAD.make_dual(fnp.ones(2), fnp.ones(2))
    with fwAD.dual_level():
        with pytest.raises(GraphError, match="nested forward mode AD is not supported"):
            fwAD.enter_dual_level()
        with pytest.raises(ShapeError, match="make_dual: primal 0 has shape"):
            fwAD.make_dual(fnp.ones(2), fnp.ones(3))
        with pytest.raises(TangentDTypeError):
            fwAD.make_dual(fnp.ones(2, dtype="float32"), fnp.ones(2, dtype="float64"))
        with pytest.raises(fnx.errors.DTypeError, match="floating point or complex"):
            fwAD.make_dual(fnp.arange(2), fnp.arange(2))
        dual = fwAD.make_dual(fnp.ones(2), fnp.ones(2))
        with pytest.raises(GraphError, match="already has a forward gradient"):
            fwAD.make_dual(dual, fnp.ones(2))
    assert isinstance(GraphError("x"), RuntimeError)
    with pytest.raises(fnx.errors.EscapedTracerError, match="forward_ad.dual_level, which has already returned"):
        dual * 2  # a dual value used after its level ended


# ----- autograd.Function: PyTorch's ctx helpers, keywords and no_grad -------------------------------------

class _SortWithIndices(fnx.autograd.Function):
    @staticmethod
    def forward(x):
        idx = fnp.argsort(x)
        return x[idx], idx.astype("float32")

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.mark_non_differentiable(output[1])
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(output[1])

    @staticmethod
    def backward(ctx, g, g_idx):
        (idx,) = ctx.saved_tensors
        return fnp.zeros_like(g).at[idx.astype("int64")].set(g)


class _Scale(fnx.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale=2.0, shift=0.0):
        ctx.scale = scale
        return x * scale + shift

    @staticmethod
    def backward(ctx, g):
        return (g * ctx.scale).astype("float64"), None, None  # the wrong dtype: cast back to x's


def test_function_marks_non_differentiable_outputs_and_binds_keywords():
    x = fnx.tensor([3.0, 1.0, 2.0], requires_grad=True)
    values, idx = _SortWithIndices.apply(x)
    assert values.requires_grad and not idx.requires_grad
    (values * fnp.array([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), [100.0, 1.0, 10.0])
    x = fnx.tensor([1.0, 2.0], requires_grad=True)
    y = _Scale.apply(x, shift=1.0, scale=3.0)
    np.testing.assert_allclose(np.asarray(y), [4.0, 7.0])
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(np.asarray(x.grad), [3.0, 3.0])


def test_function_under_no_grad_records_nothing():
    x = fnx.tensor([1.0, 2.0], requires_grad=True)
    with fnx.no_grad():
        y = _Scale.apply(x)
    assert not y.requires_grad and y.is_leaf
    with pytest.raises(GraphError):
        y.sum().backward()


def test_once_differentiable_and_the_function_module_path():
    from fnx.autograd.function import Function, once_differentiable

    class Square(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g
    x = fnx.tensor([1.5, -2.0], requires_grad=True)
    (g,) = fnx.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
    np.testing.assert_allclose(np.asarray(g), [3.0, -4.0])
    assert not g.requires_grad  # its backward ran with gradients off


def test_gradcheck_takes_pytorchs_arguments():
    x = fnx.tensor([0.3, -0.7], dtype=fnx.float64, requires_grad=True)
    f = lambda v: fnp.sin(v) * v
    assert fnx.autograd.gradcheck(f, [x])
    assert fnx.autograd.gradcheck(f, (x,), fast_mode=True, check_forward_ad=True)
    assert fnx.autograd.gradgradcheck(f, (x,), (fnx.tensor([1.0, -2.0], dtype=fnx.float64),))
    scaled = lambda v: _Scale.apply(v, 2.0)  # linear: its second derivative, 0, is checked too
    assert fnx.autograd.gradgradcheck(scaled, (x,))
    with pytest.raises(ValueError, match="nothing to check"):
        fnx.autograd.gradcheck(f, (x,), check_backward_ad=False)


def test_function_helpers_match_torch():
    torch = pytest.importorskip("torch")

    class TorchScale(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale=2.0, shift=0.0):
            ctx.scale = scale
            return x * scale + shift

        @staticmethod
        def backward(ctx, g):
            return (g * ctx.scale).double(), None, None
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    TorchScale.apply(t, shift=1.0, scale=3.0).sum().backward()
    x = fnx.tensor([1.0, 2.0], requires_grad=True)
    _Scale.apply(x, shift=1.0, scale=3.0).sum().backward()
    assert str(t.grad.dtype).split(".")[-1] == str(x.grad.dtype)
    np.testing.assert_allclose(np.asarray(x.grad), t.grad.numpy())
    with torch.no_grad():
        assert not TorchScale.apply(t).requires_grad


class _HostExp(fnx.autograd.Function):
    """exp computed outside fnx (NumPy): only its rules make it differentiable."""

    @staticmethod
    def forward(ctx, x, gain):
        y = fnp.asarray(np.exp(np.asarray(x)))
        ctx.save_for_backward(y)
        ctx.save_for_forward(y)
        ctx.gain = gain
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y * ctx.gain, None

    @staticmethod
    def jvp(ctx, x_t, gain_t):
        assert gain_t is None
        (y,) = ctx.saved_tensors
        return x_t * y * ctx.gain


def test_function_jvp_is_forward_modes_rule():
    import fnx.autograd.forward_ad as fwAD
    x, t = fnp.array([0.0, 1.0]), fnp.array([1.0, -2.0])
    want = np.asarray(t) * np.exp([0.0, 1.0]) * 7
    _, got = fnx.func.jvp(lambda v: _HostExp.apply(v, 7.0), (x,), (t,))
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6)
    with fwAD.dual_level():
        got = fwAD.unpack_dual(_HostExp.apply(fwAD.make_dual(x, t), 7.0)).tangent
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(fnx.grad(lambda v: _HostExp.apply(v, 7.0).sum())(x)),
                               np.exp([0.0, 1.0]) * 7, rtol=1e-6)
    x64 = fnx.tensor([0.2, -0.4], dtype=fnx.float64, requires_grad=True)
    assert fnx.autograd.gradcheck(lambda v: _HostExp.apply(v, 1.0), (x64,), check_forward_ad=True,
                                  check_backward_ad=False)
    with pytest.raises(RuntimeError) as mismatch:  # the jvp rule scales by 2, forward does not
        fnx.autograd.gradcheck(lambda v: _HostExp.apply(v, 2.0) / 2.0 + 0 * v, (x64,), check_forward_ad=True,
                               check_backward_ad=False)
    assert isinstance(mismatch.value, fnx.errors.GradientCheckError)


def test_backward_inputs_may_be_computed_values_whose_grad_is_filled():
    x = fnx.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    (h ** 2).sum().backward(inputs=[h])
    np.testing.assert_allclose(np.asarray(h.grad), [6.0, 12.0])
    assert x.grad is None
    kept = x * 3
    kept.retain_grad()
    (kept ** 2).sum().backward(inputs=[kept, x])  # one pass: the retained gradient is not counted twice
    np.testing.assert_allclose(np.asarray(kept.grad), [6.0, 12.0])
    np.testing.assert_allclose(np.asarray(x.grad), [18.0, 36.0])
    again = x * 3
    y = (again ** 2).sum()
    y.backward(inputs=[again], retain_graph=True)
    y.backward(inputs=[again])
    np.testing.assert_allclose(np.asarray(again.grad), [12.0, 24.0])  # accumulated, as PyTorch's


def test_gradcheck_warns_of_single_precision_inputs_as_pytorch_does():
    x = fnx.tensor([0.5, 1.5], requires_grad=True)  # float32
    with pytest.warns(UserWarning, match="Input #0 requires gradient and is not a double precision"):
        fnx.autograd.gradcheck(lambda v: v * 2, (x,), raise_exception=False)  # (eps 1e-6 is too fine for float32)


# ----- complex values: PyTorch's convention ------------------------------------------------------------
#
# PyTorch's gradient of a real loss in a complex value is the conjugate of JAX's (the conjugate Wirtinger
# derivative), and its vector-Jacobian product is conj(vjp(conj(v))). The expected values are what torch
# 2.14 computes for the same code.

Z0 = np.array([1 + 2j, -0.5 + 0.3j], dtype=np.complex64)
V = np.array([1 + 1j, 2 - 0.5j], dtype=np.complex64)


def _cubic(z):
    return z ** 2 * fnp.conj(z) + 3 * z


def test_complex_gradients_follow_pytorchs_convention():
    z = fnx.nn.Parameter(fnp.asarray(Z0))
    (fnp.abs(z) ** 2).sum().backward()
    eq(z.grad, [2 + 4j, -1 + 0.6j])  # 2z, where fnx.grad (JAX's convention) gives 2 conj(z)
    eq(fnx.grad(lambda z: (fnp.abs(z) ** 2).sum())(fnp.asarray(Z0)), [2 - 4j, -1 - 0.6j])
    want = [14 + 20j, 7.83 - 2.36j]
    z = fnx.tensor(Z0, requires_grad=True)
    eq(fnx.autograd.grad(_cubic(z), z, fnp.asarray(V))[0], want)
    _cubic(z).backward(fnp.asarray(V))
    eq(z.grad, want)
    eq(fnx.func.vjp(_cubic, fnp.asarray(Z0))[1](fnp.asarray(V))[0], want)
    eq(AF.vjp(_cubic, fnp.asarray(Z0), fnp.asarray(V))[1], want)
    eq(fnx.func.grad(lambda z: fnp.real(z ** 2).sum())(fnp.asarray(Z0)), [2 - 4j, -1 - 0.6j])
    with pytest.raises(RuntimeError, match="real scalar outputs"):
        (z * 1j).sum().backward()


def test_complex_hooks_and_functions_see_pytorchs_convention():
    z = fnx.tensor(Z0, requires_grad=True)
    y = z * (2 + 1j)
    seen = []
    y.register_hook(lambda g: seen.append(g) or g * (1 + 1j))
    y.retain_grad()
    (fnp.abs(y) ** 2).sum().backward()
    eq(seen[0], [10j, -2.6 + 0.2j])  # 2y
    eq(y.grad, [-10 + 10j, -2.8 - 2.4j])
    eq(z.grad, [-10 + 30j, -8 - 2j])

    class Square(fnx.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):  # written as for PyTorch: the conjugate of the derivative
            x, = ctx.saved_tensors
            return g * 2 * fnp.conj(x)

    z = fnx.tensor(Z0, requires_grad=True)
    (fnp.abs(Square.apply(z)) ** 2).sum().backward()
    eq(z.grad, [20 + 40j, -0.68 + 0.408j])


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "NAdam", "RAdam",
                                  "Adadelta", "ASGD", "Rprop"])
def test_optimizers_update_a_complex_parameter_as_its_real_view(name):
    # PyTorch's rule: a complex parameter steps exactly as its view_as_real would, and its state stays complex.
    kwargs = {"SGD": {"momentum": 0.9}, "RMSprop": {"centered": True, "momentum": 0.5}}.get(name, {})
    z = fnx.nn.Parameter(fnp.asarray(Z0))
    r = fnx.nn.Parameter(fnx.view_as_real(fnp.asarray(Z0)))
    opt_z = getattr(fnx.optim, name)([z], lr=0.1, **kwargs)
    opt_r = getattr(fnx.optim, name)([r], lr=0.1, **kwargs)
    for _ in range(4):
        opt_z.zero_grad()
        (fnp.abs(z) ** 2 + fnp.real(z * (0.7 + 2j))).sum().backward()  # (no gradient entry exactly 0: Rprop
        opt_z.step()                                                     # and Adamax would step on its rounding)
        opt_r.zero_grad()
        (r ** 2 + r * fnp.asarray([0.7, -2.0])).sum().backward()  # the same loss of the real and imaginary parts
        opt_r.step()
    assert z.dtype == np.complex64
    eq(fnx.view_as_real(z.detach()), r.detach())
    for key, value in opt_z.state[z].items():
        if getattr(value, "shape", ()) == z.shape:
            assert value.dtype == np.complex64, key


def test_plain_sgd_steps_real_and_complex_parameters_of_one_group_and_skips_those_without_grad():
    z = fnx.nn.Parameter(fnp.asarray(Z0))
    w = fnx.nn.Parameter(fnp.asarray([1.0, -2.0]))
    idle = fnx.nn.Parameter(fnp.asarray([3.0]))
    opt = fnx.optim.SGD([w, z, idle], lr=0.1)
    (fnp.abs(z) ** 2 + w * w).sum().backward()
    opt.step()
    eq(w.detach(), np.asarray([1.0, -2.0]) * 0.8)
    eq(z.detach(), np.asarray(Z0) * 0.8)  # d|z|^2, PyTorch's convention: 2z
    eq(idle.detach(), [3.0])
    assert z.dtype == np.complex64 and not opt.state[w] and not opt.state[z]


def test_backward_refuses_an_empty_inputs_list_as_pytorch():
    x = fnx.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="inputs argument cannot be empty"):
        x.sum().backward(inputs=[])
    with pytest.raises(RuntimeError, match="inputs argument cannot be empty"):
        fnx.autograd.backward([(x * x).sum()], inputs=[])
    assert x.grad is None


def test_gradcheck_takes_pytorchs_keywords_and_checks_what_they_ask():
    x = fnx.tensor(X, requires_grad=True)
    assert fnx.autograd.gradcheck(lambda v: (fnp.sin(v) * v).sum(), (x,), nondet_tol=1e-9,
                                  check_undefined_grad=True, check_grad_dtypes=True, check_batched_grad=True,
                                  check_batched_forward_grad=True)
    assert fnx.autograd.gradgradcheck(lambda v: fnp.sin(v) * v, (x,), check_batched_grad=True,
                                      gen_non_contig_grad_outputs=True)
    assert fnx.autograd.gradcheck(lambda v: (v ** 2).sum(), (x * 2,))  # a computed input that requires grad
    with pytest.raises(NotImplementedError, match="masked"):
        fnx.autograd.gradcheck(lambda v: v.sum(), (x,), masked=True)
