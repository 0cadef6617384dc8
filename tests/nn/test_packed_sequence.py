"""PackedSequence and the recurrent layers on packed input, against PyTorch's documented semantics.

Packing is checked by hand on PyTorch's documentation examples, and by round
trips over generated batches. The recurrent layers on a PackedSequence are
checked against their definition: each sequence run alone, unbatched, for its
own length, gives the rows of the packed output that belong to it and its
column of ``h_n`` (and ``c_n``), in the caller's order. The tables at the end
compare with PyTorch itself, with the weights copied.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fnx
import fnx.numpy as fnp
from fnx import nn
from fnx.nn.utils.rnn import (PackedSequence, invert_permutation, pack_padded_sequence, pack_sequence,
                              pad_packed_sequence, pad_sequence, unpack_sequence)
from fnx.testing import check_grads


def _np(x):
    return np.asarray(x.detach() if hasattr(x, "detach") else x)


def _rand(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# ----- packing by hand ----------------------------------------------------------------------------------

def test_pack_sequence_documented_example():
    packed = pack_sequence([fnp.array([1, 2, 3]), fnp.array([4, 5]), fnp.array([6])])
    assert isinstance(packed, PackedSequence) and isinstance(packed, tuple)
    assert packed.data.tolist() == [1, 4, 6, 2, 5, 3]
    assert packed.batch_sizes.tolist() == [3, 2, 1] and packed.batch_sizes.dtype == fnp.int64
    assert packed.sorted_indices is None and packed.unsorted_indices is None
    assert [s.tolist() for s in unpack_sequence(packed)] == [[1, 2, 3], [4, 5], [6]]


def test_pack_padded_unsorted_documented_example():
    seq = fnp.array([[1, 2, 0], [3, 0, 0], [4, 5, 6]])
    packed = pack_padded_sequence(seq, [2, 1, 3], batch_first=True, enforce_sorted=False)
    assert packed.data.tolist() == [4, 1, 3, 5, 2, 6]
    assert packed.batch_sizes.tolist() == [3, 2, 1]
    assert packed.sorted_indices.tolist() == [2, 0, 1]
    assert packed.unsorted_indices.tolist() == [1, 2, 0]
    padded, lengths = pad_packed_sequence(packed, batch_first=True)
    assert padded.tolist() == [[1, 2, 0], [3, 0, 0], [4, 5, 6]]
    assert lengths.tolist() == [2, 1, 3] and lengths.dtype == fnp.int64
    # time-major, a padding value and a longer total length
    padded, _ = pad_packed_sequence(packed, padding_value=-1, total_length=4)
    assert padded.tolist() == [[1, 3, 4], [2, -1, 5], [-1, -1, 6], [-1, -1, -1]]


def test_ties_keep_their_order_and_steps_past_the_length_are_dropped():
    x = fnp.asarray(np.arange(12.0).reshape(4, 3))  # (T=4, B=3)
    packed = pack_padded_sequence(x, [2, 3, 2], enforce_sorted=False)
    assert packed.sorted_indices.tolist() == [1, 0, 2]  # a stable descending sort, as PyTorch's
    assert packed.batch_sizes.tolist() == [3, 3, 1]
    assert packed.data.tolist() == [1.0, 0.0, 2.0, 4.0, 3.0, 5.0, 7.0]


def test_packed_sequence_is_torchs_namedtuple():
    data, bs = fnp.array([1.0, 2.0, 3.0]), fnp.array([2, 1])
    p = PackedSequence(data, bs, fnp.array([1, 0]))
    assert p.unsorted_indices.tolist() == [1, 0]  # filled in as the inverse permutation
    d, b, s, u = p  # iterates as its four fields
    assert d is data and b is bs and s.tolist() == [1, 0]
    assert PackedSequence((data, bs)).batch_sizes is bs
    assert PackedSequence(data, bs).sorted_indices is None
    assert repr(PackedSequence(data, bs)).startswith("PackedSequence(data=Array([1., 2., 3.]")
    assert p.to(fnp.float32) is p and p.float() is p  # nothing changes: the same object
    q = p.double()
    assert q.data.dtype == fnp.float64 and q.batch_sizes is bs and q.sorted_indices.tolist() == [1, 0]
    assert p.long().data.dtype == fnp.int64 and p.half().data.dtype == fnp.float16
    assert p.int().data.dtype == fnp.int32 and p.byte().data.dtype == fnp.uint8
    assert not p.is_cuda
    with pytest.raises(TypeError, match="list or tuple"):
        PackedSequence(data)
    assert invert_permutation(None) is None
    assert invert_permutation(fnp.array([2, 0, 3, 1])).tolist() == [1, 3, 0, 2]


def test_to_moves_indices_with_the_data():
    devices = fnx.devices("cpu")
    if len(devices) < 2:
        pytest.skip("needs two CPU devices (FNX_CPU_DEVICES=2)")
    p = pack_sequence([fnp.ones(2), fnp.ones(3)], enforce_sorted=False)
    q = p.to(devices[1])
    assert q.data.device == devices[1] and q.sorted_indices.device == devices[1]
    assert q.unsorted_indices.device == devices[1] and q.batch_sizes is p.batch_sizes


def test_errors_are_torchs():
    x = fnp.ones((3, 2))
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order when `enforce_sorted` is True"):
        pack_padded_sequence(x, [1, 3])
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        pack_sequence([fnp.ones(1), fnp.ones(2)])
    with pytest.raises(RuntimeError, match="Length of all samples has to be greater than 0"):
        pack_padded_sequence(x, [3, 0])
    with pytest.raises(RuntimeError, match="Length of all samples has to be greater than 0"):
        pack_padded_sequence(x, [0, 3], enforce_sorted=False)
    with pytest.raises(RuntimeError, match=r"Expected `len\(lengths\)` to be equal to batch_size, but got 1"):
        pack_padded_sequence(x, [3])
    with pytest.raises(RuntimeError, match="Cannot pack empty tensors"):
        pack_padded_sequence(fnp.ones((0, 2)), [1, 1])
    with pytest.raises(RuntimeError, match="1D CPU int64 tensor"):
        pack_padded_sequence(x, fnp.array([[3, 1]]))
    with pytest.raises(RuntimeError, match="longer than the input's 3 time steps"):
        pack_padded_sequence(x, [4, 1])
    packed = pack_padded_sequence(x, [3, 2])
    with pytest.raises(ValueError, match="total_length=2 and max sequence length being 3"):
        pad_packed_sequence(packed, total_length=2)


# ----- round trips over generated batches -----------------------------------------------------------------

@st.composite
def _batches(draw):
    lengths = draw(st.lists(st.integers(1, 5), min_size=1, max_size=5))
    trailing = draw(st.sampled_from([(), (2,), (2, 1)]))
    batch_first = draw(st.booleans())
    extra = draw(st.integers(0, 2))  # padded steps past the longest sequence
    seed = draw(st.integers(0, 2 ** 16))
    return lengths, trailing, batch_first, extra, seed


@given(_batches(), st.floats(-3, 3, allow_nan=False, width=32))
def test_pack_pad_round_trip(batch, padding_value):
    lengths, trailing, batch_first, extra, seed = batch
    seqs = [_rand(n, *trailing, seed=seed + i) for i, n in enumerate(lengths)]
    T = max(lengths) + extra
    padded_np = np.zeros((len(lengths), T) + trailing, np.float32)
    for i, s in enumerate(seqs):
        padded_np[i, :len(s)] = s
    x = padded_np if batch_first else np.swapaxes(padded_np, 0, 1)
    packed = pack_padded_sequence(fnp.asarray(x), lengths, batch_first=batch_first, enforce_sorted=False)
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    assert packed.sorted_indices.tolist() == order
    assert packed.batch_sizes.tolist() == [sum(n > t for n in lengths) for t in range(max(lengths))]
    want = [seqs[i][t] for t in range(max(lengths)) for i in order if lengths[i] > t]
    np.testing.assert_array_equal(_np(packed.data), np.stack(want))
    out, out_lengths = pad_packed_sequence(packed, batch_first, padding_value, total_length=T)
    assert out_lengths.tolist() == lengths
    expect = np.full_like(padded_np, padding_value)
    for i, s in enumerate(seqs):
        expect[i, :len(s)] = s
    np.testing.assert_array_equal(_np(out), expect if batch_first else np.swapaxes(expect, 0, 1))
    for got, s in zip(unpack_sequence(pack_sequence([fnp.asarray(s) for s in seqs], enforce_sorted=False)), seqs):
        np.testing.assert_array_equal(_np(got), s)


def test_gradients_through_packing_and_padding():
    x = fnp.asarray(_rand(4, 3, 2, dtype=np.float64))

    def f(x):
        packed = pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False)
        padded, _ = pad_packed_sequence(packed, batch_first=True, padding_value=0.5)
        return padded * packed.data[0]
    check_grads(f, (x,), order=2)
    check_grads(lambda a, b: pack_sequence([a, b]).data ** 2, (x[:, 0], x[:2, 1]), order=1)
    # the gradient of the sum of the packed data is the mask of real steps
    g = fnx.grad(lambda x: fnp.sum(pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False).data))(x)
    mask = (np.arange(4)[:, None] < np.array([2, 4, 1])[None, :]).astype(float)
    np.testing.assert_array_equal(_np(g), np.broadcast_to(mask[..., None], (4, 3, 2)))


# ----- recurrent layers on packed input ---------------------------------------------------------------

def _layer(kind, dtype=None, **kw):
    layer = getattr(nn, kind)(3, 4, **kw)
    if dtype is not None:
        layer.to(dtype)
    return layer


def _states(out):
    return out if isinstance(out, tuple) else (out,)


def _check_against_each_sequence(layer, seqs, h0=None, enforce_sorted=False, atol=1e-5):
    """The packed run equals running every sequence alone (its h0 column), in the caller's order."""
    lstm = isinstance(layer, nn.LSTM)
    packed = pack_sequence([fnp.asarray(s) for s in seqs], enforce_sorted=enforce_sorted)
    out, hn = layer(packed, h0)
    assert isinstance(out, PackedSequence)
    assert out.batch_sizes is packed.batch_sizes and out.sorted_indices is packed.sorted_indices
    padded, lengths = pad_packed_sequence(out, batch_first=True)
    assert lengths.tolist() == [len(s) for s in seqs]
    for i, s in enumerate(seqs):
        hx = None if h0 is None else tuple(h[:, i] for h in _states(h0))
        want_out, want_h = layer(fnp.asarray(s), None if hx is None else (hx if lstm else hx[0]))
        np.testing.assert_allclose(_np(padded[i, :len(s)]), _np(want_out), atol=atol)
        assert not np.any(_np(padded[i, len(s):]))  # padded with zeros past the end
        for got, want in zip(_states(hn), _states(want_h)):
            np.testing.assert_allclose(_np(got[:, i]), _np(want), atol=atol)


_CONFIGS = [("RNN", {}), ("RNN", {"nonlinearity": "relu", "num_layers": 2}), ("LSTM", {}),
            ("LSTM", {"num_layers": 2, "bidirectional": True}), ("LSTM", {"proj_size": 2}),
            ("GRU", {"bidirectional": True}), ("GRU", {"num_layers": 2, "bias": False})]


@pytest.mark.parametrize("kind,kw", _CONFIGS, ids=[f"{k}-{'-'.join(kw) or 'plain'}" for k, kw in _CONFIGS])
def test_packed_run_is_each_sequence_run_alone(kind, kw):
    layer = _layer(kind, **kw)
    seqs = [_rand(n, 3, seed=n) for n in (3, 5, 1, 5, 2)]
    _check_against_each_sequence(layer, seqs)
    d = (2 if kw.get("bidirectional") else 1) * kw.get("num_layers", 1)
    h0 = fnp.asarray(_rand(d, 5, kw.get("proj_size") or 4, seed=9))
    c0 = fnp.asarray(_rand(d, 5, 4, seed=10))
    _check_against_each_sequence(layer, seqs, (h0, c0) if kind == "LSTM" else h0)
    sorted_seqs = sorted(seqs, key=len, reverse=True)
    _check_against_each_sequence(layer, sorted_seqs, enforce_sorted=True)


@given(st.lists(st.integers(1, 4), min_size=1, max_size=4), st.sampled_from(["RNN", "LSTM", "GRU"]),
       st.booleans(), st.integers(0, 1000))
def test_packed_run_over_generated_lengths(lengths, kind, bidirectional, seed):
    layer = _layer(kind, bidirectional=bidirectional)
    seqs = [_rand(n, 3, seed=seed + i) for i, n in enumerate(lengths)]
    d = 2 if bidirectional else 1
    h0 = fnp.asarray(_rand(d, len(lengths), 4, seed=seed + 99))
    _check_against_each_sequence(layer, seqs, (h0, h0 * 0.5) if kind == "LSTM" else h0)


def test_batch_first_does_not_change_packed_input():
    plain, first = _layer("GRU"), _layer("GRU", batch_first=True)
    first.load_state_dict(plain.state_dict())
    packed = pack_sequence([fnp.asarray(_rand(n, 3, seed=n)) for n in (2, 4)], enforce_sorted=False)
    (a, ha), (b, hb) = plain(packed), first(packed)
    np.testing.assert_array_equal(_np(a.data), _np(b.data))
    np.testing.assert_array_equal(_np(ha), _np(hb))


def test_packed_errors():
    lstm = _layer("LSTM")
    packed = pack_sequence([fnp.ones((3, 3)), fnp.ones((2, 3))])
    with pytest.raises(ValueError, match=r"expected hidden\[0\] size \(1, 2, 4\), got \(1, 3, 4\)"):
        lstm(packed, (fnp.zeros((1, 3, 4)), fnp.zeros((1, 3, 4))))
    with pytest.raises(ValueError, match="must be equal to input_size. Expected 3, got 2"):
        lstm(pack_sequence([fnp.ones((3, 2))]))
    with pytest.raises(ValueError, match="must have 2 dimensions"):
        lstm(PackedSequence(fnp.ones((3, 1, 3)), fnp.array([1, 1, 1])))


def test_gradients_through_packed_lstm():
    lstm = _layer("LSTM", dtype="float64", bidirectional=True)
    params = {k: v.data for k, v in lstm.named_parameters()}
    x = fnp.asarray(_rand(4, 3, 3, dtype=np.float64))
    h0 = fnp.asarray(_rand(2, 3, 4, seed=1, dtype=np.float64))

    def f(params, x, h0):
        packed = pack_padded_sequence(x, [2, 4, 3], enforce_sorted=False)
        out, (h, c) = nn.functional_call(lstm, params, (packed, (h0, h0 * 0.5)))
        padded, _ = pad_packed_sequence(out, batch_first=True, total_length=5)
        return fnp.sum(padded ** 2) + fnp.sum(h * c)
    check_grads(f, (params, x, h0), order=1, modes=("rev",))
    check_grads(lambda x: f(params, x, h0), (x,), order=1, modes=("fwd",))
    # loss.backward() fills the same gradients fnx.grad computes
    g = fnx.grad(f)(params, x, h0)
    packed = pack_padded_sequence(x, [2, 4, 3], enforce_sorted=False)
    out, (h, c) = lstm(packed, (h0, h0 * 0.5))
    loss = fnp.sum(pad_packed_sequence(out, batch_first=True)[0] ** 2) + fnp.sum(h * c)
    loss.backward()
    for name, p in lstm.named_parameters():
        np.testing.assert_allclose(_np(p.grad), _np(g[name]), rtol=1e-10, atol=1e-12)


def test_training_on_packed_batches_lowers_the_loss():
    gru, head = _layer("GRU"), nn.Linear(4, 1)
    opt = fnx.optim.Adam(list(gru.parameters()) + list(head.parameters()), lr=0.05)
    seqs = [fnp.asarray(_rand(n, 3, seed=n)) for n in (5, 2, 4, 1)]
    target = fnp.asarray([[1.0], [-1.0], [0.5], [0.0]])
    losses = []
    for _ in range(15):
        _, h = gru(pack_sequence(seqs, enforce_sorted=False))
        loss = fnp.mean((head(h[-1]) - target) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0]


def test_pad_sequence_still_works_with_packing():
    seqs = [fnp.asarray(_rand(n, 2, seed=n)) for n in (3, 1)]
    padded = pad_sequence(seqs)
    packed = pack_padded_sequence(padded, [3, 1])
    np.testing.assert_array_equal(_np(pad_packed_sequence(packed)[0]), _np(padded))


# ----- against PyTorch -------------------------------------------------------------------------------------

_TORCH_CONFIGS = [(kind, kw) for kind in ("RNN", "LSTM", "GRU")
                  for kw in ({}, {"batch_first": True}, {"num_layers": 2, "bidirectional": True},
                             {"batch_first": True, "bidirectional": True})]
_TORCH_CONFIGS += [("LSTM", {"proj_size": 2, "num_layers": 2, "batch_first": True}),
                   ("RNN", {"nonlinearity": "relu", "batch_first": True})]


@pytest.mark.parametrize("kind,kw", _TORCH_CONFIGS, ids=[f"{k}-{'-'.join(kw) or 'plain'}" for k, kw in _TORCH_CONFIGS])
def test_packed_layers_against_torch(kind, kw):
    torch = pytest.importorskip("torch")
    from torch.nn.utils import rnn as trnn
    ours = _layer(kind, **kw)
    theirs = getattr(torch.nn, kind)(3, 4, **kw)
    theirs.load_state_dict({k: torch.tensor(_np(v)) for k, v in ours.state_dict().items()})
    lengths = [3, 5, 1, 5, 2]
    bf = kw.get("batch_first", False)
    x = _rand(5, 5, 3, seed=3)  # (B, T, 3) or (T, B, 3): both 5
    d = (2 if kw.get("bidirectional") else 1) * kw.get("num_layers", 1)
    h0, c0 = _rand(d, 5, kw.get("proj_size") or 4, seed=4), _rand(d, 5, 4, seed=5)
    for with_h in (False, True):
        hx_ours = hx_theirs = None
        if with_h:
            hx_ours = (fnp.asarray(h0), fnp.asarray(c0)) if kind == "LSTM" else fnp.asarray(h0)
            hx_theirs = (torch.tensor(h0), torch.tensor(c0)) if kind == "LSTM" else torch.tensor(h0)
        p_ours = pack_padded_sequence(fnp.asarray(x), lengths, batch_first=bf, enforce_sorted=False)
        p_theirs = trnn.pack_padded_sequence(torch.tensor(x), lengths, batch_first=bf, enforce_sorted=False)
        for a, b in zip(p_ours, p_theirs):
            np.testing.assert_array_equal(_np(a), b.numpy())
        out, hn = ours(p_ours, hx_ours)
        with torch.no_grad():
            want, want_hn = theirs(p_theirs, hx_theirs)
        np.testing.assert_allclose(_np(out.data), want.data.numpy(), atol=2e-6)
        for a, b in zip(out[1:], want[1:]):
            np.testing.assert_array_equal(_np(a), b.numpy())
        for a, b in zip(_states(hn), _states(want_hn)):
            np.testing.assert_allclose(_np(a), b.numpy(), atol=2e-6)
        padded, lens = pad_packed_sequence(out, batch_first=bf, total_length=6)
        want_padded, want_lens = trnn.pad_packed_sequence(want, batch_first=bf, total_length=6)
        np.testing.assert_allclose(_np(padded), want_padded.numpy(), atol=2e-6)
        np.testing.assert_array_equal(_np(lens), want_lens.numpy())


@given(st.lists(st.integers(1, 4), min_size=1, max_size=30), st.booleans(), st.booleans())
def test_packing_against_torch(lengths, batch_first, sort):
    torch = pytest.importorskip("torch")
    from torch.nn.utils import rnn as trnn
    if sort:
        lengths = sorted(lengths, reverse=True)
    T, B = max(lengths), len(lengths)
    x = _rand(*((B, T, 2) if batch_first else (T, B, 2)), seed=B)
    ours = pack_padded_sequence(fnp.asarray(x), lengths, batch_first, enforce_sorted=sort)
    theirs = trnn.pack_padded_sequence(torch.tensor(x), lengths, batch_first, enforce_sorted=sort)
    for a, b in zip(ours, theirs):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(_np(a), b.numpy())
    for a, b in zip(pad_packed_sequence(ours, batch_first, 7.0), trnn.pad_packed_sequence(theirs, batch_first, 7.0)):
        np.testing.assert_array_equal(_np(a), b.numpy())
    seqs = [x[i, :n] if batch_first else x[:n, i] for i, n in enumerate(lengths)]
    for a, b in zip(unpack_sequence(pack_sequence([fnp.asarray(s) for s in seqs], enforce_sorted=False)),
                    trnn.unpack_sequence(trnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False))):
        np.testing.assert_array_equal(_np(a), b.numpy())


def test_errors_against_torch():
    torch = pytest.importorskip("torch")
    from torch.nn.utils import rnn as trnn
    x = np.ones((3, 2), np.float32)
    for lengths, kw in (([1, 3], {}), ([3, 0], {}), ([0, 3], {"enforce_sorted": False}), ([3], {})):
        with pytest.raises(RuntimeError) as theirs:
            trnn.pack_padded_sequence(torch.tensor(x), lengths, **kw)
        with pytest.raises(RuntimeError) as ours:
            pack_padded_sequence(fnp.asarray(x), lengths, **kw)
        assert str(ours.value) == str(theirs.value).split("\n")[0]
    packed = trnn.pack_padded_sequence(torch.tensor(x), [3, 2])
    with pytest.raises(ValueError) as theirs:
        trnn.pad_packed_sequence(packed, total_length=2)
    with pytest.raises(ValueError) as ours:
        pad_packed_sequence(pack_padded_sequence(fnp.asarray(x), [3, 2]), total_length=2)
    assert str(ours.value) == str(theirs.value)
