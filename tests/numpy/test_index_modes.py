"""JAX's out-of-bounds modes of x.at[...] and take, nonzero/where/argwhere with size=, jax.ops' segment
reductions, and the jax.Array methods devices() and block_until_ready(). The expectations are NumPy
computations; each call was also compared with jax 0.10 in a scratch script (same values)."""
import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx.errors import TracerError
from fnx.testing import check_grads

A = np.arange(12.0).reshape(3, 4)
I = np.array([0, 5, -1, -9])


def test_at_get_modes():
    x = fnp.asarray(A)
    with pytest.raises(IndexError):
        x.at[fnp.asarray(I)].get()  # no mode: out of bounds is an error, as in NumPy
    got = x.at[fnp.asarray(I)].get(mode="fill", fill_value=-1)
    np.testing.assert_array_equal(got, [A[0], [-1] * 4, A[-1], [-1] * 4])
    got = x.at[1, fnp.asarray(I)].get(mode="fill")  # NaN by default for floats
    np.testing.assert_array_equal(got, [4, np.nan, 7, np.nan])
    np.testing.assert_array_equal(x.at[fnp.asarray(I), 2].get(mode="clip"), A[[0, 2, 2, 0], 2])
    np.testing.assert_array_equal(x.at[5].get(mode="fill", fill_value=3.0), [3.0] * 4)
    np.testing.assert_array_equal(x.at[..., 9].get(mode="fill", fill_value=1.0), [1.0] * 3)
    ints = fnp.arange(3)
    assert ints.at[7].get(mode="fill").tolist() == np.iinfo(np.int64).min
    with pytest.raises(ValueError, match="'drop' is for updates"):
        x.at[0].get(mode="drop")
    with pytest.raises(ValueError, match="mode must be one of"):
        x.at[0].get(mode="wrap")


def test_at_update_modes():
    x = fnp.asarray(A)
    expected = A.copy()
    expected[[0, 2], 1] = 100.0  # 5 and -9 are out of bounds: dropped
    np.testing.assert_array_equal(x.at[fnp.asarray(I), 1].set(100.0, mode="drop"), expected)
    expected = A.copy()
    np.add.at(expected, (1, [0, 3, 3, 0]), 1.0)  # clipped: 5 -> 3, -9 -> 0
    np.testing.assert_array_equal(x.at[1, fnp.asarray(I)].add(1.0, mode="clip"), expected)
    expected = A.copy()
    expected[[0, 2]] = 7.0
    np.testing.assert_array_equal(x.at[fnp.asarray(I)].set(7.0, mode="fill"), expected)  # fill drops for updates
    rows, cols = fnp.asarray([[0, 7]]), fnp.asarray([[1], [3]])
    expected = A.copy()
    expected[0, [1, 3]] = np.maximum(A[0, [1, 3]], 50.0)
    np.testing.assert_array_equal(x.at[rows, cols].max(50.0, mode="drop"), expected)
    expected = A.copy()
    expected[0, 1:3] *= 10
    np.testing.assert_array_equal(x.at[0, 1:3].apply(lambda v: v * 10), expected)
    expected = A.copy()
    expected[[0, 2], 0] += 100
    np.testing.assert_array_equal(x.at[fnp.asarray(I), 0].apply(lambda v: v + 100, mode="drop"), expected)
    np.testing.assert_array_equal(x.at[1, 1].power(2.0), np.where(np.arange(12).reshape(3, 4) == 5, 25.0, A))
    # Traced indices under jit, and derivatives through a dropped update.
    np.testing.assert_array_equal(fnx.jit(lambda a, j: a.at[j].set(0.0, mode="drop"))(x, fnp.asarray([2, 3])),
                                  np.where(np.arange(3)[:, None] == 2, 0.0, A))
    check_grads(lambda a, v: a.at[fnp.asarray(I), 1].add(v, mode="drop"), (x, fnp.asarray(np.arange(4.0))),
                order=2)


def test_take_fill_and_searchsorted_method():
    np.testing.assert_array_equal(fnp.take(fnp.asarray([1.0, 2.0]), fnp.asarray([1, 5, -1, -3]), mode="fill"),
                                  [2.0, np.nan, 2.0, np.nan])
    got = fnp.take(fnp.asarray(A), fnp.asarray([2, 4]), axis=1, mode="fill", fill_value=-7)
    np.testing.assert_array_equal(got, np.stack([A[:, 2], np.full(3, -7.0)], 1))
    assert int(fnp.searchsorted(fnp.asarray([1.0, 2.0, 3.0]), 2.5, method="compare_all")) == 2
    with pytest.raises(ValueError, match="method must be"):
        fnp.searchsorted(fnp.asarray([1.0]), 1.0, method="fast")


def test_nonzero_family_with_a_size():
    m = np.array([[0, 3, 0], [4, 0, 5]])
    x = fnp.asarray(m)
    rows, cols = fnp.nonzero(x, size=4)
    assert rows.tolist() == [0, 1, 1, 0] and cols.tolist() == [1, 0, 2, 0]
    rows, cols = fnp.nonzero(x, size=2, fill_value=(-1, -2))
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]  # truncated to size
    assert [c.tolist() for c in fnp.where(x > 3, size=3, fill_value=9)] == [[1, 1, 9], [0, 2, 9]]
    assert fnp.argwhere(x, size=4, fill_value=-1).tolist() == [[0, 1], [1, 0], [1, 2], [-1, -1]]
    assert fnp.flatnonzero(x, size=4, fill_value=-1).tolist() == [1, 3, 5, -1]
    # Fixed shapes work where values cannot decide one.
    assert [c.tolist() for c in fnx.jit(lambda a: fnp.nonzero(a, size=3))(x)] == [[0, 1, 1], [1, 0, 2]]
    assert fnx.vmap(lambda r: fnp.nonzero(r, size=2, fill_value=-1)[0])(x).tolist() == [[1, -1], [0, 2]]
    with pytest.raises(TracerError):
        fnx.jit(lambda a: fnp.nonzero(a))(x)
    with pytest.raises(TypeError, match="one-argument form"):
        fnp.where(x > 0, 1, 0, size=2)


def test_segment_reductions():
    data = np.arange(12.0).reshape(6, 2) - 4
    ids = np.array([0, 2, 2, 5, 0, 1])
    d, i = fnp.asarray(data), fnp.asarray(ids)
    for name, ufunc, empty in (("segment_sum", np.add, 0.0), ("segment_prod", np.multiply, 1.0),
                               ("segment_max", np.maximum, -np.inf), ("segment_min", np.minimum, np.inf)):
        expected = np.full((4, 2), empty)
        keep = ids < 4  # id 5 is out of range: dropped
        ufunc.at(expected, ids[keep], data[keep])
        np.testing.assert_array_equal(getattr(fnx.ops, name)(d, i, num_segments=4), expected, err_msg=name)
        assert getattr(fnx.ops, name)(d, i).shape == (6, 2)  # num_segments from the largest id
    check_grads(lambda v: fnx.ops.segment_sum(v, i, num_segments=3), (d,), order=2)
    check_grads(lambda v: fnx.ops.segment_prod(v, i, num_segments=3), (d + 0.5,), order=1)
    np.testing.assert_array_equal(fnx.jit(lambda v, j: fnx.ops.segment_sum(v, j, num_segments=3))(d, i),
                                  [[0, 2], [6, 7], [-2, 0]])
    with pytest.raises(TracerError, match="pass num_segments"):
        fnx.jit(lambda v, j: fnx.ops.segment_sum(v, j))(d, i)
    with pytest.raises(ValueError, match="one id per row"):
        fnx.ops.segment_sum(d, fnp.asarray([0, 1]), num_segments=2)


def test_array_devices_and_block_until_ready():
    x = fnp.ones(3)
    assert x.devices() == {x.device}
    assert x.block_until_ready() is x
