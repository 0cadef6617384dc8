"""torch.nn.utils.rnn's pad_sequence and unpad_sequence, against PyTorch's documented layout."""
import numpy as np
import pytest

import fnx.numpy as fnp
from fnx.errors import ShapeError
from fnx.nn.utils.rnn import pad_sequence, unpad_sequence
from fnx.testing import check_grads


def test_pad_sequence_layouts():
    a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(4, 3) + 10
    out = pad_sequence([fnp.asarray(a), fnp.asarray(b)])
    assert out.shape == (4, 2, 3)  # (L_max, B, *) by default
    np.testing.assert_array_equal(out[:, 0], np.concatenate([a, np.zeros((2, 3))]))
    np.testing.assert_array_equal(out[:, 1], b)
    first = pad_sequence([fnp.asarray(a), fnp.asarray(b)], batch_first=True, padding_value=-1.0)
    np.testing.assert_array_equal(first[0], np.concatenate([a, np.full((2, 3), -1.0)]))
    left = pad_sequence([fnp.asarray(a), fnp.asarray(b)], batch_first=True, padding_side="left")
    np.testing.assert_array_equal(left[0], np.concatenate([np.zeros((2, 3)), a]))
    back = unpad_sequence(first, fnp.asarray([2, 4]), batch_first=True)
    np.testing.assert_array_equal(back[0], a)
    np.testing.assert_array_equal(back[1], b)
    assert [s.shape for s in unpad_sequence(out, [2, 4])] == [(2, 3), (4, 3)]


def test_gradients_and_errors():
    check_grads(lambda x, y: pad_sequence([x, y], batch_first=True) ** 2,
                (fnp.asarray(np.arange(2.0)), fnp.asarray(np.arange(3.0) + 1)), order=2)
    with pytest.raises(ShapeError, match="same trailing shape"):
        pad_sequence([fnp.ones((2, 3)), fnp.ones((2, 4))])
    with pytest.raises(ValueError, match="empty list"):
        pad_sequence([])
    with pytest.raises(ShapeError, match="do not fit"):
        unpad_sequence(fnp.ones((3, 2)), [4, 1])


def test_against_torch():
    torch = pytest.importorskip("torch")
    from torch.nn.utils import rnn as trnn
    a, b = np.random.default_rng(0).normal(size=(2, 3)), np.random.default_rng(1).normal(size=(5, 3))
    for kw in ({}, {"batch_first": True}, {"batch_first": True, "padding_side": "left", "padding_value": 7.0}):
        ours = pad_sequence([fnp.asarray(a), fnp.asarray(b)], **kw)
        theirs = trnn.pad_sequence([torch.tensor(a), torch.tensor(b)], **kw)
        np.testing.assert_array_equal(np.asarray(ours), theirs.numpy())

