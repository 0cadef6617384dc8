"""Sorting and searching: cases for the registry-wide checks, and the gradient through permutations."""
import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fnx
import fnx.numpy as fnp
from fnx.errors import ShapeError
from fnx.numpy import sorting
from fnx.testing import check_grads, check_vmap
from .harness import Case, numpy_arrays, shapes


def _apart(x, *rest):
    """No two values closer than 1e-3, so sort is differentiable at the draw."""
    return bool(np.all(np.diff(np.sort(x.ravel())) > 1e-3))


def along(arrays, none=True):
    """Args strategy: an array of ``arrays`` (at least 1-D) and an axis: an int, possibly negative, or None."""
    def build(x):
        ints = st.integers(-x.ndim, x.ndim - 1)
        return st.tuples(st.just(x), st.one_of(st.none(), ints) if none else ints)
    return arrays.flatmap(build)


def _distinct():
    return hnp.arrays(np.float64, shapes(min_dims=1), elements=st.floats(-3, 3), unique=True)


def _with_ties():
    return hnp.arrays(np.float64, shapes(min_dims=1), elements=st.sampled_from([-1.0, 0.0, 0.5, 2.0]))


def _permuted():
    """(x, a permutation of each slice of x along axis, axis)."""
    def build(args):
        x, axis, seed = args
        perm = np.argsort(np.random.default_rng(seed).random(x.shape), axis=axis)
        return st.just((x, perm, axis))
    return along(numpy_arrays(min_dims=1), none=False).flatmap(
        lambda a: st.tuples(st.just(a[0]), st.just(a[1]), st.integers(0, 2 ** 32 - 1))).flatmap(build)


def _searched():
    a = numpy_arrays(shapes(min_dims=1, max_dims=1, max_side=6)).map(np.sort)
    return st.tuples(a, numpy_arrays(), st.sampled_from(["left", "right"]))


CASES = [
    Case("sort", fnp.sort, np.sort, along(_distinct()), valid=_apart, order=2),
    Case("argsort", lambda x, ax: fnp.argsort(x, ax, stable=True), lambda x, ax: np.argsort(x, ax, stable=True),
         along(_with_ties()), grad=False),
    Case("permute_along_axis", lambda x, p, ax: sorting.permute_p.bind(x, p, axis=ax % x.ndim),
         lambda x, p, ax: np.take_along_axis(x, p, axis=ax), _permuted()),
    # The table is sorted inside the function: the vmap check permutes a table's entries to build a batch.
    Case("searchsorted", lambda a, v, side: fnp.searchsorted(fnp.sort(a), v, side),
         lambda a, v, side: np.searchsorted(np.sort(a), v, side), _searched(), grad=False),
]


def test_sort_gradient_follows_the_values():
    x = fnp.array([3., 1., 2.])
    g = fnx.grad(lambda x: fnp.sum(fnp.sort(x) * fnp.array([1., 10., 100.])))(x)
    np.testing.assert_array_equal(g, [100., 1., 10.])
    _, t = fnx.jvp(fnp.sort, (x,), (fnp.array([7., 8., 9.]),))
    np.testing.assert_array_equal(t, [8., 9., 7.])


def test_sort_gradient_along_axes_and_to_second_order():
    x = fnp.array([[0.3, -1.2, 2.5], [1.1, 0.7, -0.4]], dtype="float64")
    for axis in (0, 1, -1, None):
        check_grads(lambda x: fnp.sort(x, axis=axis) ** 2, (x,), order=2)


def test_sort_ties_give_each_slot_one_source():
    g = fnx.grad(lambda x: fnp.sum(fnp.sort(x) * fnp.array([1., 10., 100.])))(fnp.array([2., 2., 0.]))
    np.testing.assert_array_equal(np.sort(np.asarray(g)), [1., 10., 100.])
    assert float(g[2]) == 1.0


def test_sort_float32_gradient_keeps_float32():
    g = fnx.grad(lambda x: fnp.sum(fnp.sort(x) ** 2))(fnp.array([[2., -1.], [0.5, 3.]], dtype="float32"))
    assert g.dtype == np.float32


def test_sort_and_argsort_match_numpy():
    x = np.array([[3, 1, 2, 1], [0, 5, 5, -1]])
    for axis in (None, 0, 1, -1):
        np.testing.assert_array_equal(fnp.sort(fnp.asarray(x), axis=axis), np.sort(x, axis=axis))
        for kw in ({"kind": "stable"}, {"kind": "mergesort"}, {"stable": True}):
            out = fnp.argsort(fnp.asarray(x), axis=axis, **kw)
            np.testing.assert_array_equal(out, np.argsort(x, axis=axis, kind="stable"))
            assert out.dtype == np.int64
    assert fnp.sort(fnp.asarray(x)).dtype == x.dtype
    nan = np.array([2., np.nan, -1.])
    np.testing.assert_array_equal(fnp.sort(fnp.asarray(nan)), np.sort(nan))


def test_sort_errors_name_the_op():
    with pytest.raises(ValueError, match="argsort: give kind= or stable="):
        fnp.argsort(fnp.ones(3), kind="stable", stable=True)
    with pytest.raises(ValueError, match="sort: unknown kind"):
        fnp.sort(fnp.ones(3), kind="bogo")
    with pytest.raises(np.exceptions.AxisError, match="sort"):
        fnp.sort(fnp.ones((2, 2)), axis=2)
    with pytest.raises(np.exceptions.AxisError, match="argsort"):
        fnp.argsort(fnp.array(1.))
    with pytest.raises(NotImplementedError, match="order="):
        fnp.sort(fnp.ones(3), order="f")


def test_searchsorted_sides_sorter_and_dtypes():
    a = np.array([1., 2., 2., 3.])
    v = np.array([[2., 0.], [5., 2.5]])
    for side in ("left", "right"):
        out = fnp.searchsorted(fnp.asarray(a), fnp.asarray(v), side=side)
        np.testing.assert_array_equal(out, np.searchsorted(a, v, side=side))
        assert out.dtype == np.int64
    unsorted, sorter = np.array([3., 1., 2.]), np.array([1, 2, 0])
    np.testing.assert_array_equal(fnp.searchsorted(fnp.asarray(unsorted), 2.5, sorter=fnp.asarray(sorter)),
                                  np.searchsorted(unsorted, 2.5, sorter=sorter))
    np.testing.assert_array_equal(fnp.searchsorted(fnp.asarray(a), [[2.5], [0.]]), np.searchsorted(a, [[2.5], [0.]]))
    ints = np.array([1, 3, 5], np.int32)
    assert int(fnp.searchsorted(fnp.asarray(ints), 3.5)) == np.searchsorted(ints, 3.5)
    with pytest.raises(ShapeError, match="searchsorted: a must be 1-D"):
        fnp.searchsorted(fnp.ones((2, 2)), 1.)
    with pytest.raises(ValueError, match="searchsorted: side"):
        fnp.searchsorted(fnp.asarray(a), 1., side="middle")
    with pytest.raises(ShapeError, match="searchsorted: sorter"):
        fnp.searchsorted(fnp.asarray(a), 1., sorter=fnp.array([0, 1]))


def test_searchsorted_inside_grad_is_a_constant():
    def f(x):
        i = fnp.searchsorted(x, fnp.array(1.5))
        return fnp.sum(x) * i.astype(x.dtype)
    np.testing.assert_array_equal(fnx.grad(f)(fnp.array([1., 2., 3.])), [1., 1., 1.])


def test_unique_matches_numpy():
    x = np.array([[3, 1], [3, 2]])
    vals, idx, inv, counts = fnp.unique(fnp.asarray(x), return_index=True, return_inverse=True, return_counts=True)
    e = np.unique(x, return_index=True, return_inverse=True, return_counts=True)
    for o, ee in zip((vals, idx, inv, counts), e):
        np.testing.assert_array_equal(o, ee)
        assert o.dtype == ee.dtype
    np.testing.assert_array_equal(fnp.unique(fnp.asarray(x), axis=0), np.unique(x, axis=0))


def test_unique_under_grad_is_a_constant():
    def f(x):
        return fnp.sum(x) * fnp.sum(fnp.unique(x))
    np.testing.assert_array_equal(fnx.grad(f)(fnp.array([1., 1., 2.])), [3., 3., 3.])

# ----- vmap ------------------------------------------------------------------------------------------


def _sort_loss(x):
    """A scalar through sort along each axis and over the flattened array: x of shape (3, 4), distinct values."""
    w = fnp.arange(1., 5.)
    return fnp.sum(fnp.sort(x, axis=1) * w) + fnp.sum(fnp.sort(x ** 2, axis=0)[1:] * w) + fnp.sort(x, axis=None)[4]


def _batch(*shape, seed=0):
    return fnp.asarray(np.random.default_rng(seed).standard_normal(shape))


def test_vmap_of_grad_of_sort_matches_a_loop():
    x = _batch(2, 3, 4)
    grad = fnx.grad(_sort_loss)
    check_vmap(grad, (x,))
    check_vmap(grad, (fnp.moveaxis(x, 0, 2),), in_axes=2, out_axes=-1)


def test_grad_of_vmap_of_sort():
    x = _batch(2, 3, 4, seed=1)
    for ax in (0, 1, 2):
        check_grads(fnx.vmap(_sort_loss, in_axes=ax), (fnp.moveaxis(x, 0, ax),), order=2)


def test_vmap_permute_with_a_shared_operand():
    """An unbatched values array or permutation is broadcast, and one gather does the whole batch."""
    x = _batch(3, 4, seed=2)
    perms = fnp.argsort(_batch(2, 3, 4, seed=3), axis=-1)
    f = lambda x, p: sorting.permute_p.bind(x, p, axis=1)  # noqa: E731
    check_vmap(f, (x, perms), in_axes=(None, 0))
    check_vmap(f, (fnp.stack([x, -x], axis=-1), perms[0]), in_axes=(-1, None))
    check_vmap(fnx.grad(lambda x, p: fnp.sum(f(x, p) * fnp.arange(12.).reshape(3, 4))), (x, perms),
               in_axes=(None, 0))


_TABLES = np.array([[1., 2., 2., np.nan], [np.nan, np.nan, np.nan, np.nan], [-1., 0., 0., 0.]])
_QUERIES = np.array([[2., np.nan, 0., 5.], [1., np.nan, 0., 0.], [0., -2., np.nan, 0.]])


@pytest.mark.parametrize("side", ["left", "right"])
def test_vmap_searchsorted_with_batched_tables(side):
    """Each example searches its own table: ties go to the side asked for, and NaN sorts last, as numpy."""
    a, v = fnp.asarray(_TABLES), fnp.asarray(_QUERIES)
    f = lambda a, v: fnp.searchsorted(a, v, side=side)  # noqa: E731
    check_vmap(f, (a, v), in_axes=(0, 0))
    check_vmap(f, (a, v.T), in_axes=(0, 1), out_axes=1)
    check_vmap(f, (a, v[0]), in_axes=(0, None))
    check_vmap(f, (a.T, fnp.reshape(v, (2, 2, 3))), in_axes=(1, 2))
    check_vmap(f, (a[0], v), in_axes=(None, 0))
    check_vmap(f, (a, fnp.zeros((3, 0))), in_axes=(0, 0))
    check_vmap(f, (fnp.zeros((3, 0)), v), in_axes=(0, 0))
    check_vmap(fnx.vmap(f), (fnp.stack([a, a[::-1]]), v), in_axes=(0, None))


def test_vmap_searchsorted_is_one_sort_not_a_loop():
    graph = fnx.make_graph(fnx.vmap(fnp.searchsorted))(fnp.asarray(_TABLES), fnp.asarray(_QUERIES))
    assert "searchsorted" not in graph.primitives() and graph.primitives().count("argsort") == 2


def test_vmap_of_grad_through_searchsorted():
    def f(a):
        return fnp.sum(a ** 2) * fnp.searchsorted(fnp.sort(a), 0.5).astype(a.dtype)
    check_vmap(fnx.grad(f), (_batch(3, 5, seed=4),))

# ----- devices ---------------------------------------------------------------------------------------


@pytest.mark.skipif(len(fnx.devices()) < 2, reason="needs a second device (FNX_CPU_DEVICES=2 or a GPU)")
def test_unique_keeps_the_device():
    d = fnx.devices()[-1]
    out = fnp.unique(fnx.device_put(fnp.array([3, 1, 3]), d), return_counts=True)
    assert all(o.device == d for o in out)


# ----- partition -----------------------------------------------------------------------------------


def test_partition_is_a_valid_partition():
    x = np.array([[3., 1., 4., 1., 5.], [9., 2., 6., 5., 3.], [5., 8., 9., 7., 0.], [2., 3., 8., 4., 6.]])
    for kth in (0, 2, -1, (1, 3)):
        for axis in (-1, 0, None):
            out = np.asarray(fnp.partition(fnp.asarray(x), kth, axis=axis))
            idx = np.asarray(fnp.argpartition(fnp.asarray(x), kth, axis=axis))
            expected = np.partition(x, kth, axis=axis)
            assert out.shape == expected.shape and idx.dtype == np.int64
            for k in np.atleast_1d(kth):  # the k-th element is in place, smaller ones before, larger after
                ax = -1 if axis is None else axis
                kk = k % expected.shape[ax]
                np.testing.assert_array_equal(np.take(out, kk, ax), np.take(expected, kk, ax))
                assert np.all(np.take(out, range(kk), ax) <= np.expand_dims(np.take(out, kk, ax), ax))
            flat = x.ravel() if axis is None else x
            np.testing.assert_array_equal(np.take_along_axis(flat, idx, -1 if axis is None else axis), out)
    with pytest.raises(ValueError, match="partition"):
        fnp.partition(fnp.asarray(x), 4, axis=0)
    with pytest.raises(ValueError, match="argpartition"):
        fnp.argpartition(fnp.asarray(x), 1.5)
    distinct = x + np.arange(20).reshape(4, 5) / 100  # no ties: sort is differentiable there
    check_grads(lambda x: fnp.partition(x, 1), (fnp.asarray(distinct),), order=1)


def test_sort_and_argsort_are_stable_by_default_as_jax():
    a = fnp.asarray([[3.0, 1, 2], [0, -1, 5], [4, 4, 1]])
    np.testing.assert_array_equal(np.asarray(fnp.argsort(a, axis=None)), [4, 3, 1, 8, 2, 0, 6, 7, 5])
    b = fnp.asarray([3.0, 1, 4, 1, 5, 9, 2, 6])
    np.testing.assert_array_equal(np.asarray(fnp.argsort(b, descending=True)), [5, 7, 4, 2, 0, 6, 1, 3])
    ties = fnp.asarray(np.repeat([0.0, 1.0], 20))
    np.testing.assert_array_equal(np.asarray(fnp.argsort(ties, descending=True)), np.r_[20:40, 0:20])
    np.testing.assert_array_equal(np.asarray(fnp.argsort(ties)), np.arange(40))
    jax = pytest.importorskip("jax")
    for x in (a, b, ties):
        for descending in (False, True):
            np.testing.assert_array_equal(np.asarray(fnp.argsort(x, axis=None, descending=descending)),
                                          np.asarray(jax.numpy.argsort(np.asarray(x), axis=None,
                                                                       descending=descending)))


def test_torch_sort_topk_argsort_count_nan_as_largest_as_torch():
    nan = float("nan")
    for values in ([1.0, nan, 0.0], [2.0, 1.0, 2.0, nan, 1.0, nan], [3, 1, 3, 0], [True, False, True]):
        x = fnx.tensor(values)
        for descending in (False, True):
            got = x.sort(descending=descending)
            order = np.argsort(-np.nan_to_num(np.asarray(values, float), nan=np.inf) if descending
                               else np.nan_to_num(np.asarray(values, float), nan=np.inf), kind="stable")
            np.testing.assert_array_equal(np.asarray(got.indices), order)
            np.testing.assert_array_equal(np.asarray(fnx.argsort(x, descending=descending)), order)
        if x.dtype != bool:
            np.testing.assert_array_equal(np.asarray(fnx.topk(x, 2).indices),
                                          np.argsort(-np.nan_to_num(np.asarray(values, float), nan=np.inf),
                                                     kind="stable")[:2])
    torch = pytest.importorskip("torch")
    t = torch.tensor([2.0, 1.0, 2.0, nan, 1.0, nan])
    x = fnx.tensor(t.numpy())
    for descending in (False, True):
        np.testing.assert_array_equal(np.asarray(x.sort(descending=descending).indices),
                                      t.sort(descending=descending, stable=True).indices.numpy())
    np.testing.assert_array_equal(np.asarray(fnx.topk(x, 3).indices), t.topk(3).indices.numpy())
