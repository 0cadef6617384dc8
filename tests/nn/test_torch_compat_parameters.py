"""PyTorch's ways of changing parameters, checked against torch: in-place updates through ``.data`` and on
the Parameter, state dicts of modules registered under two names, pickling, and ``load_state_dict(assign=True)``."""
import copy
import pickle

import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx import nn
from fnx.errors import DTypeError, InPlaceError, ShapeError


def _np(x):
    return np.asarray(x.detach() if hasattr(x, "detach") else x)


def _pair(values):
    """The same float32 values as an fnx Parameter and a torch Parameter."""
    torch = pytest.importorskip("torch")
    values = np.asarray(values, dtype=np.float32)
    return nn.Parameter(fnp.asarray(values)), torch.nn.Parameter(torch.tensor(values))


# ----- in-place updates through .data ------------------------------------------------------------

def test_data_in_place_writes_through_with_gradients_enabled_as_torch():
    torch = pytest.importorskip("torch")
    p, tp = _pair([[1.0, -3.0], [0.5, 4.0]])
    opt = fnx.optim.SGD([p], lr=0.1)
    for args in [("clamp_", -2.0, 2.0), ("mul_", 0.5), ("add_", 1.0), ("fill_", 0.25), ("zero_",)]:
        name, rest = args[0], args[1:]
        view = getattr(p.data, name)(*rest)
        assert view is not None and _np(view).tolist() == _np(p).tolist()  # the view returns itself, updated
        getattr(tp.data, name)(*rest)
        np.testing.assert_array_equal(_np(p), tp.detach().numpy(), err_msg=name)
    src = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    p.data.copy_(fnp.asarray(src))
    tp.data.copy_(torch.tensor(src))
    np.testing.assert_array_equal(_np(p), tp.detach().numpy())
    # The Parameter object is the one the optimizer holds: it keeps training it.
    fnp.sum(p * p).backward()
    opt.step()
    np.testing.assert_allclose(_np(p), src - 0.1 * 2 * src, rtol=1e-6)
    assert type(p) is nn.Parameter and p.requires_grad and p.dtype == np.float32


def test_dcgan_weights_init_through_data():
    fnx.manual_seed(0)

    def weights_init(m):  # PyTorch's DCGAN tutorial, unchanged
        if isinstance(m, nn.Linear):
            m.weight.data.normal_(0.0, 0.02)
            m.bias.data.fill_(0)

    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 8))
    model.apply(weights_init)
    w = _np(model[0].weight)
    assert abs(w.std() - 0.02) < 0.002 and abs(w.mean()) < 0.002 and w.dtype == np.float32
    assert not _np(model[2].bias).any()
    # The same draws as fnx.nn.init.normal_ from the same seed.
    fnx.manual_seed(1)
    a = nn.Parameter(fnp.zeros((3, 3)))
    a.data.normal_(0.0, 0.02)
    fnx.manual_seed(1)
    b = nn.Parameter(fnp.zeros((3, 3)))
    nn.init.normal_(b, 0.0, 0.02)
    np.testing.assert_array_equal(_np(a), _np(b))
    a.data.uniform_(-1.0, 1.0)
    assert (np.abs(_np(a)) <= 1.0).all() and a.shape == (3, 3)


def test_wgan_clamp_through_data_of_every_parameter():
    torch = pytest.importorskip("torch")
    model = nn.Linear(3, 2)
    tmodel = torch.nn.Linear(3, 2)
    with torch.no_grad():
        tmodel.weight.copy_(torch.tensor(_np(model.weight)))
        tmodel.bias.copy_(torch.tensor(_np(model.bias)))
    for p, tp in zip(model.parameters(), tmodel.parameters()):
        p.data.clamp_(-0.1, 0.1)
        tp.data.clamp_(-0.1, 0.1)
        np.testing.assert_array_equal(_np(p), tp.detach().numpy())


def test_data_view_reads_the_current_value_and_is_outside_autograd():
    p = nn.Parameter(fnp.array([1.0, 2.0]))
    view = p.data
    assert isinstance(view, fnx.Array) and not view.requires_grad
    assert view.shape == p.shape and view.dtype == p.dtype and view.device is p.device
    with fnx.no_grad():
        p.mul_(3.0)  # an update of the parameter is seen through a view taken before, as shared storage is
    np.testing.assert_array_equal(_np(view), [3.0, 6.0])
    view.add_(1.0)
    np.testing.assert_array_equal(_np(p), [4.0, 7.0])
    np.testing.assert_array_equal(_np(fnp.sum(view * 2)), 22.0)  # an array to every operation
    loss = fnp.sum(p * view)  # a constant to backward: only the Parameter factor gets a gradient
    loss.backward()
    np.testing.assert_array_equal(_np(p.grad), [4.0, 7.0])
    view[0] = 0.0
    view += 1.0
    np.testing.assert_array_equal(_np(p), [1.0, 8.0])
    assert p.data.data.mul_(2) is not None and _np(p).tolist() == [2.0, 16.0]


def test_assigning_data_gives_new_storage_as_torch():
    torch = pytest.importorskip("torch")
    p, tp = _pair([1.0, 2.0])
    w, tw = p.data, tp.data
    p.data = fnp.array([5.0, 6.0])
    tp.data = torch.tensor([5.0, 6.0])
    np.testing.assert_array_equal(_np(w), tw.numpy())  # the old value, in both
    w.mul_(10.0)
    tw.mul_(10.0)  # the old storage only: the parameter keeps its new value
    np.testing.assert_array_equal(_np(p), tp.detach().numpy())
    np.testing.assert_array_equal(_np(w), tw.numpy())
    p.data = p.data  # the same value, not a view of itself
    np.testing.assert_array_equal(_np(p), [5.0, 6.0])
    assert type(p.primal) is fnx.Array


def test_views_and_parameters_built_from_views_are_snapshots_where_stored():
    p = nn.Parameter(fnp.array([1.0, 2.0]))
    q = nn.Parameter(p.data)
    assert type(q.primal) is fnx.Array
    assert type(copy.deepcopy(p.data)) is fnx.Array and type(pickle.loads(pickle.dumps(p.data))) is fnx.Array
    snapshot = copy.copy(p.data)
    p.data.fill_(0.0)
    np.testing.assert_array_equal(_np(q), [1.0, 2.0])
    np.testing.assert_array_equal(_np(snapshot), [1.0, 2.0])


# ----- in-place methods on Parameters, with torch's results ---------------------------------------

_X = [[0.5, -1.5, 2.0], [3.0, -0.25, 1.0]]
_Y = [[2.0, 1.0, -4.0], [0.5, 2.0, 1.5]]
_Z = [[1.0, 3.0, 0.5], [-2.0, 4.0, 2.0]]


def _cases(torch):
    """(name, fnx arguments, torch arguments, keywords) for each method compared."""
    y, z = np.asarray(_Y, np.float32), np.asarray(_Z, np.float32)
    mask = np.array([[True, False, True], [False, False, True]])
    idx = np.array([0, 2])
    return [
        ("add_", (fnp.asarray(y),), (torch.tensor(y),), {"alpha": 2.0}),
        ("sub_", (fnp.asarray(y),), (torch.tensor(y),), {"alpha": 0.5}),
        ("div_", (fnp.asarray(y),), (torch.tensor(y),), {}),
        ("div_", (fnp.asarray(y),), (torch.tensor(y),), {"rounding_mode": "floor"}),
        ("div_", (fnp.asarray(y),), (torch.tensor(y),), {"rounding_mode": "trunc"}),
        ("lerp_", (fnp.asarray(y), 0.3), (torch.tensor(y), 0.3), {}),
        ("lerp_", (fnp.asarray(y), 0.8), (torch.tensor(y), 0.8), {}),
        ("addcmul_", (fnp.asarray(y), fnp.asarray(z)), (torch.tensor(y), torch.tensor(z)), {"value": -0.5}),
        ("addcdiv_", (fnp.asarray(y), fnp.asarray(z)), (torch.tensor(y), torch.tensor(z)), {"value": 2.0}),
        ("masked_fill_", (fnp.asarray(mask), -7.0), (torch.tensor(mask), -7.0), {}),
        ("pow_", (2,), (2,), {}),
        ("abs_", (), (), {}),
        ("neg_", (), (), {}),
        ("exp_", (), (), {}),
        ("clip_", (-1.0, 1.0), (-1.0, 1.0), {}),
        ("clamp_min_", (0.0,), (0.0,), {}),
        ("clamp_max_", (0.0,), (0.0,), {}),
        ("index_fill_", (1, fnp.asarray(idx), 9.0), (1, torch.tensor(idx), 9.0), {}),
        ("index_fill_", (0, fnp.asarray([1]), -1.0), (0, torch.tensor([1]), -1.0), {}),
        ("index_add_", (1, fnp.asarray(idx), fnp.asarray(y[:, :2])), (1, torch.tensor(idx), torch.tensor(y[:, :2])),
         {"alpha": 2.0}),
        ("round_", (), (), {}),
        ("sign_", (), (), {}),
        ("floor_", (), (), {}),
        ("tanh_", (), (), {}),
        ("sigmoid_", (), (), {}),
        ("relu_", (), (), {}),
        ("tril_", (), (), {}),
        ("triu_", (1,), (1,), {}),
        ("reciprocal_", (), (), {}),
        ("scatter_", (0, fnp.asarray([[1, 0, 1]]), 1.5), (0, torch.tensor([[1, 0, 1]]), 1.5), {}),
        ("scatter_", (1, fnp.asarray([[2], [0]]), fnp.asarray(y[:, :1])), (1, torch.tensor([[2], [0]]),
                                                                           torch.tensor(y[:, :1])), {}),
        ("scatter_add_", (1, fnp.asarray([[0, 0], [1, 1]]), fnp.asarray(y[:, :2])),
         (1, torch.tensor([[0, 0], [1, 1]]), torch.tensor(y[:, :2])), {}),
        ("index_copy_", (0, fnp.asarray([1]), fnp.asarray(y[:1])), (0, torch.tensor([1]), torch.tensor(y[:1])), {}),
        ("masked_scatter_", (fnp.asarray(mask), fnp.asarray(z)), (torch.tensor(mask), torch.tensor(z)), {}),
    ]


@pytest.mark.parametrize("through_data", [False, True])
def test_in_place_methods_match_torch(through_data):
    torch = pytest.importorskip("torch")
    for name, args, targs, kwargs in _cases(torch):
        p, tp = _pair(_X)
        with fnx.no_grad(), torch.no_grad():
            target = p.data if through_data else p
            assert getattr(target, name)(*args, **kwargs) is target
            getattr(tp, name)(*targs, **kwargs)
        np.testing.assert_allclose(_np(p), tp.detach().numpy(), rtol=1e-6, err_msg=f"{name} {kwargs}")
        assert p.dtype == np.float32 and p.shape == (2, 3)


@pytest.mark.parametrize("through", ["data", "grad"])
def test_basic_indices_of_data_and_grad_are_views_that_write_through_as_torch(through):
    pytest.importorskip("torch")
    p, tp = _grad_pair(_X)
    view, tview = getattr(p, through), getattr(tp, through)
    view[0, 1:].fill_(1.0)  # the LSTM forget-gate idiom: bias.data[h:2 * h].fill_(1.0)
    tview[0, 1:].fill_(1.0)
    view[1].mul_(2.0).add_(0.5)
    tview[1].mul_(2.0).add_(0.5)
    view[:, 0][1].zero_()  # a view of a view
    tview[:, 0][1].zero_()
    row, trow = view[..., None][0], tview[..., None][0]  # read now, follows later writes as torch's views do
    view.add_(3.0)
    tview.add_(3.0)
    np.testing.assert_array_equal(_np(view), tview.detach().numpy())
    np.testing.assert_array_equal(_np(row), trow.detach().numpy())
    assert row.shape == (3, 1)
    picked = view[fnp.asarray([0, 1])]  # an advanced index copies, in PyTorch too: an immutable array here
    with pytest.raises(InPlaceError):
        picked.zero_()
    with pytest.raises(ShapeError):
        view[0].copy_(fnp.ones(4))


def test_embedding_padding_row_zeroed_through_data_as_torch():
    torch = pytest.importorskip("torch")
    emb, temb = nn.Embedding(5, 3), torch.nn.Embedding(5, 3)
    emb.load_state_dict({"weight": fnp.asarray(temb.weight.detach().numpy())})
    emb.weight.data[2].zero_()
    temb.weight.data[2].zero_()
    np.testing.assert_array_equal(_np(emb.weight), temb.weight.detach().numpy())
    assert not np.any(_np(emb.weight)[2]) and np.all(_np(emb.weight)[[0, 1, 3, 4]] != 0)


def test_sqrt_and_fill_diagonal_match_torch():
    for shape, wrap in [((3, 3), False), ((7, 3), False), ((7, 3), True), ((2, 5), False), ((3, 3, 3), False)]:
        values = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
        p, tp = _pair(values)
        p.data.sqrt_().fill_diagonal_(-1.0, wrap=wrap)
        tp.data.sqrt_().fill_diagonal_(-1.0, wrap=wrap)
        np.testing.assert_allclose(_np(p), tp.detach().numpy(), rtol=1e-6, err_msg=str((shape, wrap)))
    with pytest.raises(ShapeError, match="fill_diagonal_"):
        nn.Parameter(fnp.zeros((2, 3, 3))).data.fill_diagonal_(1.0)


def test_integer_division_rounding_modes_match_torch():
    torch = pytest.importorskip("torch")
    a, b = np.array([7, -7, 6, -6]), np.array([2, 2, -4, 4])
    for mode in ("floor", "trunc"):
        p = nn.Parameter(fnp.asarray(a), requires_grad=False)
        p.div_(fnp.asarray(b), rounding_mode=mode)
        expected = torch.tensor(a).div_(torch.tensor(b), rounding_mode=mode)
        np.testing.assert_array_equal(_np(p), expected.numpy())
        assert p.dtype == np.int64
    with pytest.raises(DTypeError, match="div_: result type float64 can't be cast"):
        p.div_(fnp.asarray(b))  # true division of integers gives floats, as torch refuses too
    with pytest.raises(ValueError, match="div_: rounding_mode"):
        p.div_(2, rounding_mode="round")


def test_in_place_methods_raise_torchs_leaf_error_with_gradients_recorded():
    torch = pytest.importorskip("torch")
    p, tp = _pair(_X)
    for name, args, targs, kwargs in _cases(torch)[:10]:
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
            getattr(tp, name)(*targs, **kwargs)
        with pytest.raises(RuntimeError, match=f"{name}: a leaf Variable that requires grad is being used in an "
                                               "in-place operation"):
            getattr(p, name)(*args, **kwargs)
    np.testing.assert_array_equal(_np(p), np.asarray(_X, np.float32))  # nothing changed


def test_refused_and_misused_in_place_methods_say_what_to_write():
    p = nn.Parameter(fnp.zeros((2, 2)))
    for name in ("unsqueeze_", "bernoulli_", "t_"):
        with pytest.raises(InPlaceError, match=f"{name}: a Parameter keeps its shape .* p.data.copy_"):
            getattr(p.data, name)(0)
        with pytest.raises(AttributeError, match=name):  # InPlaceError is an AttributeError too
            getattr(p, name)(0)
    with pytest.raises(DTypeError, match="masked_fill_: the mask must be boolean"):
        p.data.masked_fill_(fnp.ones((2, 2)), 1.0)
    with pytest.raises(ValueError, match="clamp_: at least one of min and max"):
        p.data.clamp_()
    with pytest.raises(ShapeError, match="add_: an in-place result of shape"):
        p.data.add_(fnp.ones((3, 2, 2)))
    # Plain arrays still refuse, and their message now names what a Parameter takes.
    with pytest.raises(InPlaceError, match=r"p.data.mul_\(2\).* so does its .grad \(p.grad.zero_\(\)"):
        fnp.ones(2).clamp_(0.0, 1.0)


# ----- .grad in place: one gradient that backward() adds into ------------------------------------------

def _grad_pair(values):
    """An fnx and a torch Parameter of the same values, each with the gradient of sum(p ** 3)."""
    p, tp = _pair(values)
    (p ** 3).sum().backward()
    (tp ** 3).sum().backward()
    return p, tp


@pytest.mark.parametrize("update", [("zero_",), ("mul_", 0.5), ("clamp_", -1.0, 1.0), ("add_", 2.0), ("fill_", 0.25),
                                    ("neg_",), ("div_", 4.0)])
def test_grad_in_place_methods_match_torch(update):
    p, tp = _grad_pair([[1.0, -0.5], [0.25, 2.0]])
    name, rest = update[0], update[1:]
    returned = getattr(p.grad, name)(*rest)
    getattr(tp.grad, name)(*rest)
    np.testing.assert_array_equal(_np(p.grad), tp.grad.numpy())
    np.testing.assert_array_equal(_np(returned), tp.grad.numpy())  # returns the gradient, updated
    assert p.grad.dtype == p.dtype and p.grad.shape == p.shape


def test_grad_setitem_and_data_and_detach_write_through_as_torch():
    p, tp = _grad_pair([1.0, -2.0, 3.0])
    for t in (p, tp):
        t.grad[t.grad > 5] = 0.0
    np.testing.assert_array_equal(_np(p.grad), tp.grad.numpy())
    for t in (p, tp):
        t.grad.data.mul_(2.0)  # older PyTorch code goes through .data
    np.testing.assert_array_equal(_np(p.grad), tp.grad.numpy())
    for t in (p, tp):  # PyTorch 1.x's zero_grad: detach_() then zero_()
        t.grad.detach_()
        t.grad.zero_()
    np.testing.assert_array_equal(_np(p.grad), tp.grad.numpy())
    np.testing.assert_array_equal(_np(p.grad), [0.0, 0.0, 0.0])


def test_manual_sgd_loop_with_grad_zero_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 3)).astype(np.float32), rng.normal(size=8).astype(np.float32)
    w, tw = _pair(rng.normal(size=3))
    b, tb = _pair([0.0])
    for _ in range(5):  # PyTorch's autograd tutorial, letter for letter
        for lib, (wt, bt), xs, ys in ((fnx, (w, b), fnp.asarray(x), fnp.asarray(y)),
                                      (torch, (tw, tb), torch.tensor(x), torch.tensor(y))):
            loss = ((lib.matmul(xs, wt) + bt - ys) ** 2).mean()
            loss.backward()
            with lib.no_grad():
                wt -= 0.1 * wt.grad
                bt -= 0.1 * bt.grad
                wt.grad.zero_()
                bt.grad.zero_()
    np.testing.assert_allclose(_np(w), tw.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(_np(b), tb.detach().numpy(), rtol=1e-5)
    np.testing.assert_array_equal(_np(w.grad), [0.0, 0.0, 0.0])


def test_grad_read_earlier_follows_accumulation_until_reassigned_as_torch():
    torch = pytest.importorskip("torch")
    p, tp = _grad_pair([1.0, 2.0])
    g, tg = p.grad, tp.grad
    (p ** 2).sum().backward()  # adds into the same gradient: an earlier read sees the sum
    (tp ** 2).sum().backward()
    np.testing.assert_array_equal(_np(g), tg.numpy())
    np.testing.assert_array_equal(_np(g), [5.0, 16.0])
    snapshot, tsnapshot = p.grad.clone(), tp.grad.clone()
    fnx.optim.SGD([p], lr=0.1).zero_grad(set_to_none=False)  # zeros in place
    torch.optim.SGD([tp], lr=0.1).zero_grad(set_to_none=False)
    np.testing.assert_array_equal(_np(g), tg.numpy())
    np.testing.assert_array_equal(_np(snapshot), tsnapshot.numpy())  # clone() is a copy
    p.grad.add_(1.0)
    tp.grad.add_(1.0)
    p.grad, tp.grad = None, None  # a new gradient next time: what was read keeps its value
    (p * 3).sum().backward()
    (tp * 3).sum().backward()
    np.testing.assert_array_equal(_np(g), tg.numpy())
    np.testing.assert_array_equal(_np(g), [1.0, 1.0])
    np.testing.assert_array_equal(_np(p.grad), [3.0, 3.0])


@pytest.mark.parametrize("clip", ["norm", "value", "with_norm", "unscale"])
def test_clipping_and_unscaling_change_grad_in_place_as_torch(clip):
    torch = pytest.importorskip("torch")
    p, tp = _grad_pair([3.0, -4.0])
    (p ** 2).sum().backward()
    (tp ** 2).sum().backward()
    g, tg = p.grad, tp.grad  # read before: PyTorch's utilities scale this same tensor
    if clip == "norm":
        fnx.nn.utils.clip_grad_norm_([p], 1.0)
        torch.nn.utils.clip_grad_norm_([tp], 1.0)
    elif clip == "value":
        fnx.nn.utils.clip_grad_value_([p], 2.5)
        torch.nn.utils.clip_grad_value_([tp], 2.5)
    elif clip == "with_norm":
        fnx.nn.utils.clip_grads_with_norm_([p], 2.0, fnx.nn.utils.get_total_norm([p.grad]))
        torch.nn.utils.clip_grads_with_norm_([tp], 2.0, torch.nn.utils.get_total_norm([tp.grad]))
    else:
        for param, optim in ((p, fnx.optim.SGD), (tp, torch.optim.SGD)):
            scaler = (fnx.amp if param is p else torch.amp).GradScaler("cpu", init_scale=4.0)
            scaler.scale((param * 0).sum())
            scaler.unscale_(optim([param], lr=0.1))
    np.testing.assert_allclose(_np(g), tg.numpy(), rtol=1e-6)
    np.testing.assert_allclose(_np(p.grad), tp.grad.numpy(), rtol=1e-6)
    assert not np.allclose(_np(g), [6.0, -8.0])


def test_grad_copies_are_snapshots_and_module_zero_grad_zeros_in_place():
    lin = nn.Linear(2, 1)
    lin(fnp.ones((1, 2))).sum().backward()
    g = lin.weight.grad
    copies = [g.clone(), g.copy(), fnp.copy(g), copy.copy(g), copy.deepcopy(g), fnx.clone(g)]
    lin.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(_np(g), [[0.0, 0.0]])
    for c in copies:
        np.testing.assert_array_equal(_np(c), [[1.0, 1.0]])
    lin.zero_grad()
    assert lin.weight.grad is None and lin.bias.grad is None


def test_assigning_a_grad_checks_shape_dtype_and_device_as_torch():
    p = nn.Parameter(fnp.zeros(3))
    with pytest.raises(ShapeError, match=r"Parameter.grad: the gradient has shape \(2,\), the parameter \(3,\)"):
        p.grad = fnp.zeros(2)
    with pytest.raises(DTypeError, match="Parameter.grad: the gradient has dtype float64, the parameter float32"):
        p.grad = fnp.zeros(3, dtype=fnp.float64)
    assert p.grad is None
    p.grad = fnp.ones(3)
    np.testing.assert_array_equal(_np(p.grad), [1.0, 1.0, 1.0])


def test_requires_grad_as_a_statement_is_named_by_backwards_error():
    from fnx.errors import GraphError
    x = fnx.randn(3)
    x.requires_grad_()  # PyTorch's in-place flag; an fnx array is immutable, so this made a new leaf
    with pytest.raises(GraphError, match=r"nothing to differentiate .* write x = x.requires_grad_\(\)"):
        (x * x).sum().backward()
    x = x.requires_grad_()
    (x * x).sum().backward()
    np.testing.assert_allclose(_np(x.grad), 2 * _np(x))


def test_grad_under_create_graph_stays_differentiable():
    x = fnx.tensor([1.5], requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad  # 3 x ** 2, recorded: its own gradient is 6 x
    (gx,) = fnx.autograd.grad(x.grad.sum(), [x])
    np.testing.assert_allclose(_np(gx), [9.0])


def test_a_recorded_accumulation_is_a_new_gradient_as_torch():
    torch = pytest.importorskip("torch")
    x, tx = fnx.tensor([1.5], requires_grad=True), torch.tensor([1.5], requires_grad=True)
    for t in (x, tx):
        (t ** 3).sum().backward()
    g, tg = x.grad, tx.grad
    for t in (x, tx):
        (t ** 3).sum().backward(create_graph=True)  # PyTorch sums out of place here: g keeps 6.75
    np.testing.assert_allclose(_np(g), tg.numpy())
    np.testing.assert_allclose(_np(x.grad), tx.grad.detach().numpy())
    np.testing.assert_allclose(_np(g), [6.75])


# ----- state_dict of a module registered under two names ------------------------------------------

class _Shared(nn.Module):  # at module level, so that pickle can find it
    def __init__(self):
        super().__init__()
        self.enc = nn.Linear(2, 2)
        self.body = nn.Sequential(self.enc)


def _shared_pair():
    torch = pytest.importorskip("torch")

    class Torch(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = torch.nn.Linear(2, 2)
            self.body = torch.nn.Sequential(self.enc)

    return _Shared(), Torch(), torch


def test_state_dict_lists_every_path_and_iteration_deduplicates_as_torch():
    m, tm, _ = _shared_pair()
    assert list(m.state_dict()) == list(tm.state_dict())
    assert list(m.state_dict()) == ["enc.weight", "enc.bias", "body.0.weight", "body.0.bias"]
    for method in ("named_parameters", "named_modules", "named_buffers"):
        for flag in (True, False):
            got = [n for n, _ in getattr(m, method)(remove_duplicate=flag)]
            assert got == [n for n, _ in getattr(tm, method)(remove_duplicate=flag)], (method, flag)
    assert [n for n, _ in m.named_parameters()] == ["enc.weight", "enc.bias"]
    assert len(list(m.parameters())) == len(list(tm.parameters())) == 2


def test_load_state_dict_of_a_torch_checkpoint_with_a_shared_module():
    m, tm, torch = _shared_pair()
    sd = {k: v.detach().clone() for k, v in tm.state_dict().items()}
    sd["enc.weight"].fill_(1.0)
    sd["body.0.weight"].fill_(2.0)
    reordered = dict(reversed(list(sd.items())))  # the later path in the module wins, whatever the dict's order
    tm.load_state_dict(reordered)
    result = m.load_state_dict({k: v.numpy() for k, v in reordered.items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(_np(m.enc.weight), tm.enc.weight.detach().numpy())
    assert m.enc.weight is m.body[0].weight and float(_np(m.enc.weight)[0, 0]) == 2.0
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "body.0.weight", "body.0.bias"'):
        m.load_state_dict({"enc.weight": np.zeros((2, 2), np.float32), "enc.bias": np.zeros(2, np.float32)})


def test_load_state_dict_updates_data_views_in_place_and_assign_gives_new_storage():
    m = nn.Linear(2, 2)
    view = m.weight.data
    m.load_state_dict({"weight": np.ones((2, 2), np.float32), "bias": np.zeros(2, np.float32)})
    np.testing.assert_array_equal(_np(view), np.ones((2, 2)))  # PyTorch's copy_: the view sees it
    m.load_state_dict({"weight": np.zeros((2, 2), np.float32), "bias": np.zeros(2, np.float32)}, assign=True)
    np.testing.assert_array_equal(_np(view), np.ones((2, 2)))  # PyTorch's assign: new storage


# ----- load_state_dict(assign=True) ----------------------------------------------------------------

def test_assign_takes_the_state_dicts_dtype_as_torch():
    torch = pytest.importorskip("torch")
    m, tm = nn.Linear(2, 2), torch.nn.Linear(2, 2)
    sd = {"weight": np.ones((2, 2), np.float64), "bias": np.zeros(2, np.float64)}
    tm.load_state_dict({k: torch.tensor(v) for k, v in sd.items()}, assign=True)
    weight = m.weight
    m.load_state_dict(sd, assign=True)
    assert str(m.weight.dtype) == str(tm.weight.dtype).replace("torch.", "") == "float64"
    assert m.weight.requires_grad and tm.weight.requires_grad
    assert m.weight is weight  # fnx keeps the object, so an optimizer built before still trains it
    m.load_state_dict({"weight": np.full((2, 2), 3.0, np.float64), "bias": np.zeros(2, np.float64)})
    assert m.weight.dtype == np.float64  # without assign, the value takes the parameter's (now float64) dtype
    norm = nn.BatchNorm1d(2)
    norm.load_state_dict({**{k: np.asarray(v) for k, v in norm.state_dict().items()},
                          "running_mean": np.zeros(2, np.float64)}, assign=True)
    assert norm.running_mean.dtype == np.float64
    with pytest.raises(RuntimeError, match="weight: assign=True would give a parameter that requires grad the "
                                           "dtype int64"):
        m.load_state_dict({"weight": np.ones((2, 2), np.int64), "bias": np.zeros(2)}, assign=True)
    assert m.weight.dtype == np.float64  # nothing loaded


# ----- pickling ---------------------------------------------------------------------------------------

def test_modules_and_parameters_pickle():
    m = _Shared()
    frozen = nn.Parameter(fnp.array([1.0, 2.0]), requires_grad=False)
    m.frozen = frozen
    m.register_buffer("steps", fnp.array([3]))
    fnp.sum(m.body(fnp.ones((1, 2)))).backward()
    copy_ = pickle.loads(pickle.dumps(m))
    assert type(copy_) is type(m)
    assert copy_.enc.weight is copy_.body[0].weight  # shared within one pickle
    assert copy_.enc.weight is not m.enc.weight
    for (name, a), (_, b) in zip(m.state_dict().items(), copy_.state_dict().items()):
        np.testing.assert_array_equal(_np(a), _np(b), err_msg=name)
        assert a.dtype == b.dtype
    assert copy_.enc.weight.requires_grad and not copy_.frozen.requires_grad
    assert copy_.enc.weight.grad is None  # as in PyTorch, gradients are not pickled
    # A fresh graph node: the copy trains on its own.
    fnp.sum(copy_.body(fnp.ones((1, 2)))).backward()
    np.testing.assert_array_equal(_np(copy_.enc.bias.grad), [1.0, 1.0])
    np.testing.assert_array_equal(_np(m.enc.bias.grad), [1.0, 1.0])
    lone = pickle.loads(pickle.dumps(frozen))
    assert type(lone) is nn.Parameter and _np(lone).tolist() == [1.0, 2.0] and not lone.requires_grad


def test_uninitialized_parameter_pickles_as_itself():
    lazy = nn.LazyLinear(3)
    copy_ = pickle.loads(pickle.dumps(lazy))
    assert type(copy_.weight) is nn.UninitializedParameter
    out = copy_(fnp.ones((2, 4)))
    assert out.shape == (2, 3) and copy_.weight.shape == (3, 4)
