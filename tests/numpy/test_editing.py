"""append, delete, insert, resize, choose, put, fill_diagonal, index tricks and block against NumPy."""
import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx.errors import ImmutableError, ShapeError, TracerError
from fnx.testing import check_grads

X = np.arange(12.).reshape(3, 4)


def _eq(out, expected):
    if isinstance(expected, (tuple, list)):
        assert len(out) == len(expected)
        for o, e in zip(out, expected):
            _eq(o, e)
        return
    expected = np.asarray(expected)
    assert out.shape == expected.shape and out.dtype == expected.dtype, (out, expected)
    np.testing.assert_array_equal(np.asarray(out), expected)


def test_append_delete_insert_match_numpy():
    fx = fnp.asarray(X)
    for axis, v in ((None, np.array([1., 2.])), (0, np.ones((1, 4))), (1, np.ones((3, 2)))):
        _eq(fnp.append(fx, fnp.asarray(v), axis=axis), np.append(X, v, axis=axis))
    for obj in (0, -1, [0, 2], slice(0, 4, 2), np.array([True, False, True, False]), [], [1, 1]):
        for axis in (None, 1) if not isinstance(obj, np.ndarray) else (1,):
            _eq(fnp.delete(fx, obj, axis=axis), np.delete(X, obj, axis=axis))
    cases = [(1, 5., None), (1, [7., 8.], None), (2, 9., 1), (2, [1., 2., 3.], 1), ([1, 1, 3], [7., 8., 9.], 1),
             ([0, 3], 5., 0), (slice(1, 3), 6., 1), (-1, np.array([[1., 2., 3., 4.]]), 0), ([2], [[1.], [2.], [3.]], 1),
             (4, [1., 2., 3.], 1), ([], 1., 0)]
    for obj, v, axis in cases:
        _eq(fnp.insert(fx, obj, fnp.asarray(np.asarray(v)), axis=axis), np.insert(X, obj, v, axis=axis))
    _eq(fnp.insert(fnp.asarray(np.arange(3)), 1, 2.7), np.insert(np.arange(3), 1, 2.7))  # cast to arr's dtype
    check_grads(lambda x, v: fnp.insert(x, [1, 3], v, axis=1), (fnp.asarray(X), fnp.asarray(np.ones((3, 2)))))
    check_grads(lambda x: fnp.delete(x, [0, 2], axis=1) ** 2, (fnp.asarray(X),))
    with pytest.raises(IndexError, match="delete"):
        fnp.delete(fx, 7, axis=1)
    with pytest.raises(IndexError, match="insert"):
        fnp.insert(fx, 6, 1., axis=1)
    with pytest.raises(TracerError, match="insert"):
        fnx.jit(lambda i: fnp.insert(fx, i, 1.))(fnp.asarray(1))


def test_resize_choose_put_fill_diagonal_match_numpy():
    for shape in ((2, 7), 5, (0,), (3, 0), ()):
        _eq(fnp.resize(fnp.asarray(X), shape), np.resize(X, shape))
    a = np.array([[0, 2, 1], [1, 0, 2]])
    choices = [np.arange(3), np.arange(10, 13), np.array([[20.], [30.]])]
    _eq(fnp.choose(fnp.asarray(a), [fnp.asarray(c) for c in choices]), np.choose(a, choices))
    for mode in ("wrap", "clip"):
        _eq(fnp.choose(fnp.asarray(a + 2), [fnp.asarray(c) for c in choices], mode=mode),
            np.choose(a + 2, choices, mode=mode))
    with pytest.raises(ValueError, match="choose"):
        fnp.choose(fnp.asarray(a + 2), [fnp.asarray(c) for c in choices])
    check_grads(lambda c0, c1: fnp.choose(fnp.asarray(a[0]), [c0, c1, c0]), (fnp.asarray(X[0, :3]),
                                                                            fnp.asarray(X[1, :3])))
    for ind, v, mode in (([0, 5], [9., 8.], None), ([1, -2, 3], [7.], "raise"), ([13, -20], [1., 2.], "wrap"),
                         ([13, -20], [1., 2.], "clip"), (np.array([[1, 2]]), 4., None)):
        expected = X.copy()
        np.put(expected, ind, v, mode=mode or "raise")
        _eq(fnp.put(fnp.asarray(X), ind, v, mode=mode, inplace=False), expected)
    with pytest.raises(ImmutableError, match="inplace=False"):
        fnp.put(fnp.asarray(X), [0], 1.)
    with pytest.raises(IndexError, match="put"):
        fnp.put(fnp.asarray(X), [12], 1., inplace=False)
    for shape, wrap, val in (((3, 4), False, 5.), ((5, 2), False, [1., 2.]), ((5, 2), True, [1., 2., 3.]),
                             ((3, 3, 3), False, 4.), ((2, 2), False, np.array([[7., 8.]]))):
        expected = np.zeros(shape)
        np.fill_diagonal(expected, val, wrap=wrap)
        _eq(fnp.fill_diagonal(fnp.zeros(shape, dtype="float64"), val, wrap=wrap, inplace=False), expected)
    with pytest.raises(ImmutableError, match="fill_diagonal"):
        fnp.fill_diagonal(fnp.zeros((2, 2)), 1.)
    with pytest.raises(ShapeError, match="fill_diagonal"):
        fnp.fill_diagonal(fnp.zeros((2, 3, 3)), 1., inplace=False)
    check_grads(lambda x, v: fnp.fill_diagonal(x, v, inplace=False), (fnp.asarray(X), fnp.asarray(np.ones(3))))


def test_index_helpers_match_numpy():
    _eq(fnp.diag_indices(3, 3), np.diag_indices(3, 3))
    _eq(fnp.diag_indices_from(fnp.zeros((2, 2, 2))), np.diag_indices_from(np.zeros((2, 2, 2))))
    for k in (0, 1, -1):
        _eq(fnp.tril_indices_from(fnp.asarray(X), k), np.tril_indices_from(X, k))
        _eq(fnp.triu_indices_from(fnp.asarray(X), k=k), np.triu_indices_from(X, k=k))
    with pytest.raises(ShapeError, match="diag_indices_from"):
        fnp.diag_indices_from(fnp.zeros((2, 3)))
    args = (np.array([0, 2]), np.array([True, False, True, True]), np.array([], dtype=int))
    _eq(fnp.ix_(*[fnp.asarray(a) for a in args]), np.ix_(*args))
    _eq(fnp.asarray(X)[fnp.ix_(fnp.asarray(args[0]), fnp.asarray(args[1]))], X[np.ix_(args[0], args[1])])
    assert fnp.s_[1:2, ::2] == np.s_[1:2, ::2] and fnp.index_exp[3] == np.index_exp[3]


def test_grids_and_concatenators_match_numpy():
    _eq(fnp.mgrid[0:3, 1:5:2], np.mgrid[0:3, 1:5:2])
    _eq(fnp.mgrid[0:4], np.mgrid[0:4])
    _eq(fnp.ogrid[0:3, 0:2], np.ogrid[0:3, 0:2])
    np.testing.assert_allclose(fnp.mgrid[0:1:5j, 0:2:3j], np.mgrid[0:1:5j, 0:2:3j])
    assert fnp.mgrid[0:1:5j].dtype == np.float32  # fnx's default float, as jax.numpy
    a, b = np.array([1, 2, 3]), np.array([[4, 5, 6]])
    for key in [(a, 0, 5), (slice(0, 3), a), ("0,2", a, a), ("1,2,0", a, a), ("-1", b, b), ("0,3,1", a, a)]:
        fkey = tuple(fnp.asarray(k) if isinstance(k, np.ndarray) else k for k in key)
        _eq(fnp.r_[fkey], np.r_[key])
    _eq(fnp.c_[fnp.asarray(a), fnp.asarray(a)], np.c_[a, a])
    _eq(fnp.c_[fnp.asarray(b), 7, fnp.asarray(b)], np.c_[b, 7, b])
    with pytest.raises(NotImplementedError, match="matrix"):
        fnp.r_["r", fnp.asarray(a)]


def test_splits_rollaxis_block_broadcast_shapes_match_numpy():
    x = np.arange(24.).reshape(2, 3, 4)
    _eq(fnp.hsplit(fnp.asarray(x), 3), np.hsplit(x, 3))
    _eq(fnp.hsplit(fnp.arange(6), [2]), np.hsplit(np.arange(6), [2]))
    _eq(fnp.vsplit(fnp.asarray(x), [1]), np.vsplit(x, [1]))
    _eq(fnp.dsplit(fnp.asarray(x), 2), np.dsplit(x, 2))
    with pytest.raises(ShapeError, match="dsplit"):
        fnp.dsplit(fnp.asarray(X), 2)
    for axis, start in ((2, 0), (0, 3), (1, -1), (-1, 1), (0, 1)):
        _eq(fnp.rollaxis(fnp.asarray(x), axis, start), np.rollaxis(x, axis, start))
    e, z = np.eye(2), np.zeros((2, 3))
    for blocks in ([[e, z], [np.ones((1, 2)), np.full((1, 3), 2.)]], [e, e], [np.ones((2, 1)), 3 * e], [[[e]]], e):
        fb = fnx.tree.map(fnp.asarray, blocks) if isinstance(blocks, list) else fnp.asarray(blocks)
        _eq(fnp.block(fb), np.block(blocks))
    with pytest.raises(ValueError, match="depth"):
        fnp.block([[e], e])
    with pytest.raises(TypeError, match="tuple"):
        fnp.block((e, e))
    check_grads(lambda a, b: fnp.block([[a, b], [b, a]]), (fnp.asarray(e), fnp.asarray(2 * e)))
    assert fnp.broadcast_shapes((3, 1), (1, 4), ()) == np.broadcast_shapes((3, 1), (1, 4), ())
    with pytest.raises(ShapeError, match="broadcast_shapes"):
        fnp.broadcast_shapes((3,), (4,))
