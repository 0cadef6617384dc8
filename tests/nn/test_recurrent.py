"""RNN, LSTM, GRU and their cells against a numpy loop over PyTorch's documented equations.

The reference below is written from PyTorch's documentation, independently of
fnx/nn/layers/recurrent.py: one explicit loop over layers, directions and time
steps, in float64. The tests also train over sequences of different lengths in
one step (the Python loop being the whole mechanism), and check gradients
against ``fnx.grad`` and central differences.
"""
import math

import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx import nn
from fnx.testing import check_grads


def _np(x):
    return np.asarray(x.detach() if hasattr(x, "detach") else x)


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_step(mode, x, h, c, p):
    """One step of PyTorch's documented cell equations; ``p`` holds w_ih, w_hh, b_ih, b_hh, w_hr."""
    gi = x @ p["w_ih"].T + p.get("b_ih", 0.0)
    gh = h @ p["w_hh"].T + p.get("b_hh", 0.0)
    if mode == "RNN_TANH":
        return np.tanh(gi + gh), None
    if mode == "RNN_RELU":
        return np.maximum(gi + gh, 0.0), None
    if mode == "GRU":
        ir, iz, i_n = np.split(gi, 3, axis=-1)
        hr, hz, hn = np.split(gh, 3, axis=-1)
        r, z = _sigmoid(ir + hr), _sigmoid(iz + hz)
        n = np.tanh(i_n + r * hn)
        return (1 - z) * n + z * h, None
    i, f, g, o = np.split(gi + gh, 4, axis=-1)
    c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    h = _sigmoid(o) * np.tanh(c)
    if "w_hr" in p:
        h = h @ p["w_hr"].T
    return h, c


def np_rnn(module, x, h0=None, c0=None):
    """``(output, h_n, c_n)`` of ``module`` on ``x`` of shape (L, N, H_in), by loops."""
    sd = {k: _np(v).astype(np.float64) for k, v in module.state_dict().items()}
    d = 2 if module.bidirectional else 1
    length, n = x.shape[:2]
    hsize = module.proj_size or module.hidden_size
    h0 = np.zeros((d * module.num_layers, n, hsize)) if h0 is None else h0
    c0 = np.zeros((d * module.num_layers, n, module.hidden_size)) if c0 is None else c0
    layer_in = x.astype(np.float64)
    hn, cn = [], []
    for layer in range(module.num_layers):
        outs = []
        for direction in range(d):
            sfx = f"l{layer}" + ("_reverse" if direction else "")
            p = {short: sd[f"{long}_{sfx}"] for short, long in
                 (("w_ih", "weight_ih"), ("w_hh", "weight_hh"), ("b_ih", "bias_ih"), ("b_hh", "bias_hh"),
                  ("w_hr", "weight_hr")) if f"{long}_{sfx}" in sd}
            h, c = h0[layer * d + direction], c0[layer * d + direction]
            out = [None] * length
            for t in (reversed(range(length)) if direction else range(length)):
                h, c = np_step(module.mode, layer_in[t], h, c, p)
                out[t] = h
            outs.append(np.stack(out))
            hn.append(h)
            cn.append(c)
        layer_in = np.concatenate(outs, axis=-1)
    return layer_in, np.stack(hn), (np.stack(cn) if module.mode == "LSTM" else None)


# ----- names, shapes, init, reprs ---------------------------------------------------------------------------

NAMES = [
    ("nn.RNN(3, 4)", [("weight_ih_l0", (4, 3)), ("weight_hh_l0", (4, 4)), ("bias_ih_l0", (4,)),
                      ("bias_hh_l0", (4,))]),
    ("nn.GRU(3, 4, bias=False)", [("weight_ih_l0", (12, 3)), ("weight_hh_l0", (12, 4))]),
    ("nn.LSTM(3, 5, num_layers=2, bidirectional=True)", [
        ("weight_ih_l0", (20, 3)), ("weight_hh_l0", (20, 5)), ("bias_ih_l0", (20,)), ("bias_hh_l0", (20,)),
        ("weight_ih_l0_reverse", (20, 3)), ("weight_hh_l0_reverse", (20, 5)), ("bias_ih_l0_reverse", (20,)),
        ("bias_hh_l0_reverse", (20,)),
        ("weight_ih_l1", (20, 10)), ("weight_hh_l1", (20, 5)), ("bias_ih_l1", (20,)), ("bias_hh_l1", (20,)),
        ("weight_ih_l1_reverse", (20, 10)), ("weight_hh_l1_reverse", (20, 5)), ("bias_ih_l1_reverse", (20,)),
        ("bias_hh_l1_reverse", (20,))]),
    ("nn.LSTM(3, 5, proj_size=2, num_layers=2)", [
        ("weight_ih_l0", (20, 3)), ("weight_hh_l0", (20, 2)), ("bias_ih_l0", (20,)), ("bias_hh_l0", (20,)),
        ("weight_hr_l0", (2, 5)), ("weight_ih_l1", (20, 2)), ("weight_hh_l1", (20, 2)), ("bias_ih_l1", (20,)),
        ("bias_hh_l1", (20,)), ("weight_hr_l1", (2, 5))]),
    ("nn.RNNCell(3, 4)", [("weight_ih", (4, 3)), ("weight_hh", (4, 4)), ("bias_ih", (4,)), ("bias_hh", (4,))]),
    ("nn.LSTMCell(3, 4, bias=False)", [("weight_ih", (16, 3)), ("weight_hh", (16, 4))]),
    ("nn.GRUCell(3, 4)", [("weight_ih", (12, 3)), ("weight_hh", (12, 4)), ("bias_ih", (12,)), ("bias_hh", (12,))]),
]

REPRS = [
    ("nn.RNN(3, 4)", "RNN(3, 4)"),
    ("nn.RNN(3, 4, 2, 'relu', batch_first=True)", "RNN(3, 4, num_layers=2, batch_first=True)"),
    ("nn.LSTM(3, 4, 2, proj_size=2, dropout=0.5, bias=False)",
     "LSTM(3, 4, proj_size=2, num_layers=2, bias=False, dropout=0.5)"),
    ("nn.GRU(3, 4, bidirectional=True)", "GRU(3, 4, bidirectional=True)"),
    ("nn.RNNCell(3, 4, bias=False, nonlinearity='relu')", "RNNCell(3, 4, bias=False, nonlinearity=relu)"),
    ("nn.LSTMCell(3, 4)", "LSTMCell(3, 4)"),
    ("nn.GRUCell(3, 4)", "GRUCell(3, 4)"),
]


def _build(expr, lib=None):
    return eval(expr, {"nn": nn if lib is None else lib.nn})


@pytest.mark.parametrize("expr, expected", NAMES, ids=[e for e, _ in NAMES])
def test_parameter_names_and_shapes(expr, expected):
    assert [(k, tuple(v.shape)) for k, v in _build(expr).state_dict().items()] == expected


@pytest.mark.parametrize("expr, expected", REPRS, ids=[e for e, _ in REPRS])
def test_reprs(expr, expected):
    assert repr(_build(expr)) == expected


@pytest.mark.parametrize("expr, expected", NAMES + REPRS, ids=[e for e, _ in NAMES + REPRS])
def test_names_and_reprs_are_torchs(expr, expected):
    torch = pytest.importorskip("torch")
    m = _build(expr, torch)
    got = repr(m) if isinstance(expected, str) else [(k, tuple(v.shape)) for k, v in m.state_dict().items()]
    assert got == expected


def test_default_init_is_uniform_in_inverse_sqrt_hidden():
    fnx.manual_seed(3)
    for module in (nn.LSTM(30, 64, num_layers=2), nn.GRUCell(20, 100)):
        bound = 1 / math.sqrt(module.hidden_size)
        values = np.concatenate([_np(p).ravel() for p in module.parameters()])
        assert np.abs(values).max() <= bound
        assert abs(values.std() / (bound / math.sqrt(3)) - 1) < 0.02


def test_constructor_errors():
    with pytest.raises(ValueError, match="Select from 'tanh' or 'relu'"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="proj_size \\(4\\) has to be smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(ValueError, match="hidden_size must be greater than zero"):
        nn.GRU(3, 0)
    with pytest.raises(ValueError, match="dropout should be a number in range"):
        nn.LSTM(3, 4, dropout=2)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.5)


# ----- forward passes against the numpy loop -------------------------------------------------------------------

CONFIGS = [
    ("nn.RNN(3, 4)", dict()),
    ("nn.RNN(3, 4, num_layers=2, nonlinearity='relu', bidirectional=True)", dict()),
    ("nn.LSTM(3, 4)", dict()),
    ("nn.LSTM(3, 4, num_layers=2, bidirectional=True, bias=False)", dict()),
    ("nn.LSTM(3, 5, num_layers=2, proj_size=2)", dict()),
    ("nn.GRU(3, 4)", dict()),
    ("nn.GRU(3, 4, num_layers=3, bidirectional=True)", dict()),
]


@pytest.mark.parametrize("expr, _", CONFIGS, ids=[e for e, _ in CONFIGS])
@pytest.mark.parametrize("given_state", [False, True])
def test_matches_numpy_loop(expr, _, given_state):
    fnx.manual_seed(0)
    module = _build(expr)
    x = _rand(6, 2, 3)
    d, hs = 2 if module.bidirectional else 1, module.proj_size or module.hidden_size
    h0 = _rand(d * module.num_layers, 2, hs, seed=1) if given_state else None
    c0 = _rand(d * module.num_layers, 2, module.hidden_size, seed=2) if given_state else None
    want_out, want_h, want_c = np_rnn(module, x, h0, c0)
    hx = None
    if given_state:
        hx = (fnp.asarray(h0), fnp.asarray(c0)) if module.mode == "LSTM" else fnp.asarray(h0)
    out, state = module(fnp.asarray(x), hx)
    np.testing.assert_allclose(_np(out), want_out, rtol=1e-4, atol=1e-5)
    if module.mode == "LSTM":
        np.testing.assert_allclose(_np(state[0]), want_h, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(_np(state[1]), want_c, rtol=1e-4, atol=1e-5)
    else:
        np.testing.assert_allclose(_np(state), want_h, rtol=1e-4, atol=1e-5)


def test_batch_first_and_unbatched_inputs():
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    x = _rand(2, 5, 3)  # (N, L, H_in)
    want_out, want_h, want_c = np_rnn(lstm, x.swapaxes(0, 1))
    out, (h, c) = lstm(fnp.asarray(x))
    np.testing.assert_allclose(_np(out), want_out.swapaxes(0, 1), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(h), want_h, rtol=1e-4, atol=1e-5)
    out1, (h1, c1) = lstm(fnp.asarray(x[1]))  # unbatched (L, H_in), batch_first does not apply
    assert out1.shape == (5, 8) and h1.shape == (4, 4)
    np.testing.assert_allclose(_np(out1), want_out[:, 1], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(c1), want_c[:, 1], rtol=1e-4, atol=1e-5)
    gru = nn.GRU(3, 4)
    h0 = _rand(1, 4, seed=5)
    out2, h2 = gru(fnp.asarray(x[0]), fnp.asarray(h0))
    np.testing.assert_allclose(_np(out2), np_rnn(gru, x[0][:, None], h0[:, None])[0][:, 0], rtol=1e-4, atol=1e-5)


def test_forward_errors():
    lstm = nn.LSTM(3, 4)
    with pytest.raises(fnx.errors.ShapeError, match="input.size\\(-1\\) must be equal to input_size"):
        lstm(fnp.ones((5, 2, 4)))
    with pytest.raises(ValueError, match="2D \\(unbatched\\) or 3D"):
        lstm(fnp.ones((5, 2, 3, 1)))
    with pytest.raises(fnx.errors.ShapeError, match="expected hidden\\[0\\] size \\(1, 2, 4\\), got \\(1, 3, 4\\)"):
        lstm(fnp.ones((5, 2, 3)), (fnp.zeros((1, 3, 4)), fnp.zeros((1, 2, 4))))
    with pytest.raises(ValueError, match="hx should also be 3-D"):
        nn.GRU(3, 4)(fnp.ones((5, 2, 3)), fnp.zeros((1, 4)))
    with pytest.raises(TypeError, match="floating"):
        nn.RNN(3, 4)(fnp.ones((5, 2, 3), dtype=fnp.int64))


# ----- cells ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls, mode", [(nn.RNNCell, "RNN_TANH"), (nn.LSTMCell, "LSTM"), (nn.GRUCell, "GRU")])
def test_cells_match_numpy_and_unbatched(cls, mode):
    cell = cls(3, 4)
    p = {k: _np(v).astype(np.float64) for k, v in zip(("w_ih", "w_hh", "b_ih", "b_hh"), cell.parameters())}
    x, h, c = _rand(2, 3), _rand(2, 4, seed=1), _rand(2, 4, seed=2)
    want_h, want_c = np_step(mode, x, h, c, p)
    if mode == "LSTM":
        got_h, got_c = cell(fnp.asarray(x), (fnp.asarray(h), fnp.asarray(c)))
        np.testing.assert_allclose(_np(got_c), want_c, rtol=1e-5, atol=1e-6)
        u_h, u_c = cell(fnp.asarray(x[0]), (fnp.asarray(h[0]), fnp.asarray(c[0])))
        np.testing.assert_allclose(_np(u_c), want_c[0], rtol=1e-5, atol=1e-6)
        zero_h, _ = cell(fnp.asarray(x))
    else:
        got_h = cell(fnp.asarray(x), fnp.asarray(h))
        u_h = cell(fnp.asarray(x[0]), fnp.asarray(h[0]))
        zero_h = cell(fnp.asarray(x))
    np.testing.assert_allclose(_np(got_h), want_h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(u_h), want_h[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(zero_h), np_step(mode, x, 0 * h, 0 * c, p)[0], rtol=1e-5, atol=1e-6)


def test_cell_loop_equals_layer_with_shared_weights():
    gru = nn.GRU(3, 4)
    cell = nn.GRUCell(3, 4)
    cell.load_state_dict({k[:-3]: v for k, v in gru.state_dict().items()})  # weight_ih_l0 -> weight_ih
    x = fnp.asarray(_rand(7, 2, 3))
    h = fnp.zeros((2, 4))
    outs = []
    for t in range(7):
        h = cell(x[t], h)
        outs.append(h)
    out, hn = gru(x)
    np.testing.assert_allclose(_np(fnp.stack(outs)), _np(out), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(_np(h), _np(hn[0]), rtol=1e-6, atol=1e-7)


# ----- dropout between layers ---------------------------------------------------------------------------------------


def test_dropout_between_layers_only_in_training():
    fnx.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    x = fnp.asarray(_rand(5, 2, 3))
    a, _ = lstm(x, key=fnx.random.key(1))
    b, _ = lstm(x, key=fnx.random.key(1))
    c, _ = lstm(x, key=fnx.random.key(2))
    np.testing.assert_array_equal(_np(a), _np(b))
    assert not np.allclose(_np(a), _np(c))
    lstm.eval()
    np.testing.assert_allclose(_np(lstm(x)[0]), np_rnn(lstm, _np(x))[0], rtol=1e-4, atol=1e-5)
    one = nn.GRU(3, 4, num_layers=1)  # no dropout after the last layer: training equals eval
    np.testing.assert_array_equal(_np(one(x)[0]), _np(one.eval()(x)[0]))


# ----- gradients and variable-length training -------------------------------------------------------------------


def _params(model):
    return {k: v.detach() for k, v in model.named_parameters()}


@pytest.mark.parametrize("expr", ["nn.RNN(2, 3, num_layers=2)", "nn.LSTM(2, 3, bidirectional=True)",
                                  "nn.LSTM(2, 3, proj_size=2)", "nn.GRU(2, 3, batch_first=True)"])
def test_gradients_backward_grad_and_finite_differences(expr):
    fnx.manual_seed(0)
    model = _build(expr).to(fnp.float64)
    x = fnp.asarray(np.random.default_rng(1).standard_normal((3, 4, 2)))

    def loss(p, inp):
        out, state = nn.functional_call(model, p, (inp,))
        h = state[0] if isinstance(state, tuple) else state
        return fnp.sum(out ** 2) + fnp.sum(fnp.sin(h))
    loss({k: v for k, v in model.named_parameters()}, x).backward()
    g = fnx.grad(loss)(_params(model), x)
    for k, p in model.named_parameters():
        np.testing.assert_allclose(_np(p.grad), _np(g[k]), rtol=1e-10, atol=1e-12)
    check_grads(loss, (_params(model), x), order=1, modes=("rev",))


def test_cells_second_order():
    cell = nn.LSTMCell(2, 2).to(fnp.float64)
    x = fnp.asarray(np.random.default_rng(0).standard_normal((3, 2)))
    check_grads(lambda p, inp: nn.functional_call(cell, p, (inp,))[1], (_params(cell), x), order=2)


def test_variable_length_sequences_in_one_training_step():
    """Sequences of lengths 2 to 6, each run by the Python loop, summed into one loss and one backward."""
    fnx.manual_seed(0)
    lstm, head = nn.LSTM(3, 5), nn.Linear(5, 1)
    model = nn.ModuleDict({"lstm": lstm, "head": head}).to(fnp.float64)
    rng = np.random.default_rng(0)
    seqs = [fnp.asarray(rng.standard_normal((n, 3))) for n in (2, 6, 3, 5)]
    targets = fnp.asarray(rng.standard_normal(4))

    def loss_fn(params):
        preds = []
        for s in seqs:  # each sequence unbatched (L, H_in), its own length
            _, (h, _) = nn.functional_call(lstm, {k[5:]: v for k, v in params.items() if k.startswith("lstm.")},
                                           (s,))
            preds.append(nn.functional_call(head, {k[5:]: v for k, v in params.items() if k.startswith("head.")},
                                            (h[-1],))[0])
        return fnp.mean((fnp.stack(preds) - targets) ** 2)

    live = {k: v for k, v in model.named_parameters()}
    before = float(loss_fn(_params(model)))
    loss_fn(live).backward()
    g = fnx.grad(loss_fn)(_params(model))
    for k, p in model.named_parameters():
        np.testing.assert_allclose(_np(p.grad), _np(g[k]), rtol=1e-10, atol=1e-12)
    with fnx.no_grad():
        for p in model.parameters():
            p.set_(p.detach() - 0.1 * p.grad)
    assert float(loss_fn(_params(model))) < before
    # each sequence alone equals the numpy loop on it
    out, _ = lstm(seqs[1])
    np.testing.assert_allclose(_np(out), np_rnn(lstm, _np(seqs[1])[:, None])[0][:, 0], rtol=1e-10)


def test_vmap_over_a_batch_of_sequences_equals_batched_call():
    gru = nn.GRU(3, 4).to(fnp.float64)
    x = fnp.asarray(np.random.default_rng(0).standard_normal((5, 2, 3)))  # (L, N, H_in)
    per = fnx.vmap(lambda s: nn.functional_call(gru, _params(gru), (s,))[0], in_axes=1, out_axes=1)(x)
    np.testing.assert_allclose(_np(per), _np(gru(x)[0]), rtol=1e-12)


# ----- optional: PyTorch with the same state_dict ------------------------------------------------------------------

TORCH_CASES = ["nn.RNN(3, 4, num_layers=2, nonlinearity='relu')", "nn.LSTM(3, 4, num_layers=2, bidirectional=True)",
               "nn.LSTM(3, 5, proj_size=2, batch_first=True)", "nn.GRU(3, 4, num_layers=2, bidirectional=True)"]


@pytest.mark.parametrize("expr", TORCH_CASES)
def test_same_outputs_as_torch(expr):
    torch = pytest.importorskip("torch")
    ours, theirs = _build(expr), _build(expr, torch)
    theirs.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in ours.state_dict().items()})
    x = _rand(6, 2, 3)
    with torch.no_grad():
        want_out, want_state = theirs(torch.tensor(x))
    got_out, got_state = ours(fnp.asarray(x))
    np.testing.assert_allclose(_np(got_out), want_out.numpy(), rtol=1e-4, atol=1e-5)
    for g, w in zip(got_state if isinstance(got_state, tuple) else (got_state,),
                    want_state if isinstance(want_state, tuple) else (want_state,)):
        np.testing.assert_allclose(_np(g), w.numpy(), rtol=1e-4, atol=1e-5)
