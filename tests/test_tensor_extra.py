"""More of PyTorch's top-level functions and tensor methods (fnx/tensor.py): each checked against PyTorch's
documented semantics written with numpy, for gradients where differentiable, and against PyTorch itself
where it is installed."""
import collections
import itertools

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import fnx
import fnx.numpy as fnp
from fnx.errors import ShapeError
from fnx.testing import check_grads, check_vmap

rng = np.random.default_rng(0)


def eq(got, want, dtype=None, rtol=1e-5, atol=1e-6):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert got.dtype == (want.dtype if dtype is None else dtype), (got.dtype, want.dtype)
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=rtol, atol=atol)


floats = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
                    elements=st.floats(-10, 10, allow_nan=False, width=32))
small_ints = hnp.arrays(np.int64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=6), elements=st.integers(-2, 2))


# ----- order statistics: the lower median, k-th values, running extremes, modes ----------------------

@given(floats, st.data())
def test_median_and_kthvalue_are_ranks_of_a_stable_sort(x, data):
    n = x.size
    assert float(fnx.median(fnp.asarray(x))) == np.sort(x.ravel())[(n - 1) // 2]  # the lower median
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    k = data.draw(st.integers(1, x.shape[dim]))
    for (values, indices), rank in ((fnx.median(fnp.asarray(x), dim), (x.shape[dim] - 1) // 2),
                                    (fnx.kthvalue(fnp.asarray(x), k, dim), k - 1)):
        eq(values, np.take(np.sort(x, axis=dim), rank, axis=dim))
        assert np.asarray(indices).dtype == np.int64
        eq(np.take_along_axis(x, np.expand_dims(np.asarray(indices), dim), dim).squeeze(dim), values)
    values, indices = fnx.kthvalue(fnp.asarray(x), k, dim, keepdim=True)
    assert values.shape == indices.shape == tuple(1 if i == dim % x.ndim else s for i, s in enumerate(x.shape))


def test_median_nan_and_nanmedian():
    x = np.array([[1.0, np.nan, 3.0, 0.0], [4.0, 1.0, 2.0, 3.0], [np.nan, np.nan, np.nan, np.nan]])
    assert np.isnan(float(fnx.median(fnp.asarray(x))))
    values, indices = fnx.median(fnp.asarray(x), dim=1)
    eq(values, np.array([np.nan, 2.0, np.nan]))
    assert np.asarray(indices).tolist() == [1, 2, 0]  # a NaN row points at a NaN
    eq(fnx.nanmedian(fnp.asarray(x), 1).values, np.array([1.0, 2.0, np.nan]))  # lower median of the rest
    assert float(fnx.nanmedian(fnp.asarray(x))) == 2.0  # of [0, 1, 1, 2, 3, 3, 4]: rank 3


def _running(x, better):
    values, indices = np.empty_like(x), np.empty(x.shape, np.int64)
    best = 0
    for i in range(x.size):
        if not better(x[best], x[i]):  # the later index wins a tie
            best = i
        values[i], indices[i] = x[best], best
    return values, indices


@given(small_ints.filter(lambda a: a.ndim == 1), st.sampled_from(["cummax", "cummin"]))
def test_cummax_cummin_keep_the_latest_index_of_a_tie(x, name):
    better = np.greater if name == "cummax" else np.less
    values, indices = getattr(fnx, name)(fnp.asarray(x), 0)
    want_v, want_i = _running(x, better)
    eq(values, want_v)
    eq(indices, want_i)


def test_cummax_along_an_axis_and_nan():
    x = rng.standard_normal((3, 6))
    values, indices = fnx.cummax(fnp.asarray(x), dim=1)
    eq(values, np.maximum.accumulate(x, axis=1))
    eq(np.take_along_axis(x, np.asarray(indices), 1), np.maximum.accumulate(x, axis=1))
    values, indices = fnx.cummin(fnp.asarray(np.array([2.0, np.nan, 1.0])), 0)
    assert np.isnan(np.asarray(values)[1:]).all() and np.asarray(indices).tolist() == [0, 1, 1]  # a NaN wins


@given(floats, st.data())
def test_logcumsumexp_matches_logaddexp_accumulate(x, data):
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    eq(fnx.logcumsumexp(fnp.asarray(x), dim), np.logaddexp.accumulate(x, axis=dim), rtol=1e-6)


def test_logcumsumexp_neither_overflows_nor_underflows():
    x = np.array([-1000.0, 0.0, 1000.0, -5.0])
    eq(fnx.logcumsumexp(fnp.asarray(x), 0), np.logaddexp.accumulate(x))


@given(small_ints)
def test_mode_is_the_smallest_most_frequent_value_at_its_last_index(x):
    values, indices = fnx.mode(fnp.asarray(x), -1)
    for row, v, i in zip(x.reshape(-1, x.shape[-1]), np.asarray(values).ravel(), np.asarray(indices).ravel()):
        counts = collections.Counter(row.tolist())
        top = max(counts.values())
        assert v == min(k for k, c in counts.items() if c == top)
        assert i == max(j for j, r in enumerate(row) if r == v)


def test_quantile_and_nan_reductions():
    x = rng.standard_normal((4, 5))
    eq(fnx.quantile(fnp.asarray(x), 0.3), np.quantile(x, 0.3))
    eq(fnx.quantile(fnp.asarray(x), fnp.asarray([0.2, 0.9]), dim=1, keepdim=True),
       np.quantile(x, [0.2, 0.9], axis=1, keepdims=True))
    eq(fnx.quantile(fnp.asarray(x), 0.4, dim=0, interpolation="lower"), np.quantile(x, 0.4, axis=0, method="lower"))
    xn = x.copy()
    xn[1, 2] = np.nan
    eq(fnx.nanmean(fnp.asarray(xn), dim=1), np.nanmean(xn, axis=1))
    eq(fnx.nansum(fnp.asarray(xn)), np.nansum(xn))
    eq(fnx.nanquantile(fnp.asarray(xn), 0.5, dim=1), np.nanquantile(xn, 0.5, axis=1))
    with pytest.raises(ValueError, match="interpolation"):
        fnx.quantile(fnp.asarray(x), 0.5, interpolation="cubic")
    with pytest.raises(TypeError, match="floating"):
        fnx.quantile(fnx.tensor([1, 2]), 0.5)


def test_amax_amin_aminmax():
    x = rng.standard_normal((2, 3, 4))
    eq(fnx.amax(fnp.asarray(x)), x.max())
    eq(fnx.amax(fnp.asarray(x), dim=(0, 2)), x.max(axis=(0, 2)))
    eq(fnp.asarray(x).amin(1, keepdim=True), x.min(axis=1, keepdims=True))
    lo, hi = fnx.aminmax(fnp.asarray(x), dim=2)
    eq(lo, x.min(axis=2))
    eq(hi, x.max(axis=2))


# ----- searching, sets, counting ----------------------------------------------------------------

@given(hnp.arrays(np.int64, (2, 5), elements=st.integers(-4, 4)),
       hnp.arrays(np.int64, (2, 3), elements=st.integers(-5, 5)), st.booleans())
def test_searchsorted_row_by_row_and_bucketize(seq, values, right):
    seq = np.sort(seq, axis=1)
    side = "right" if right else "left"
    want = np.stack([np.searchsorted(s, v, side=side) for s, v in zip(seq, values)])
    eq(fnx.searchsorted(fnp.asarray(seq), fnp.asarray(values), right=right), want)
    eq(fnx.searchsorted(fnp.asarray(seq[0]), fnp.asarray(values), side=side), np.searchsorted(seq[0], values, side))
    eq(fnx.searchsorted(fnp.asarray(seq[0]), fnp.asarray(values), side=side, out_int32=True),
       np.searchsorted(seq[0], values, side).astype(np.int32))
    # bucketize's right=False is boundaries[i-1] < x <= boundaries[i]: searchsorted's left side
    eq(fnx.bucketize(fnp.asarray(values), fnp.asarray(seq[0]), right=right), np.searchsorted(seq[0], values, side))


def test_searchsorted_errors():
    with pytest.raises(ValueError, match="contradict"):
        fnx.searchsorted(fnx.tensor([1, 2]), fnx.tensor([1]), right=True, side="left")
    with pytest.raises(ShapeError, match="leading axes"):
        fnx.searchsorted(fnx.zeros(2, 3), fnx.zeros(3, 1))


@given(small_ints)
def test_unique_sorted_with_inverse_and_counts(x):
    values, inverse, counts = fnx.unique(fnp.asarray(x), return_inverse=True, return_counts=True)
    want, want_inv, want_counts = np.unique(x, return_inverse=True, return_counts=True)
    eq(values, want)
    eq(inverse, want_inv.reshape(x.shape))  # PyTorch: the inverse has the input's shape
    eq(counts, want_counts)
    eq(fnx.unique(fnp.asarray(x)), want)


def test_unique_along_a_dim_and_unique_consecutive():
    x = np.array([[1, 2], [1, 2], [0, 1]])
    values, inverse = fnx.unique(fnp.asarray(x), dim=0, return_inverse=True)
    eq(values, np.array([[0, 1], [1, 2]]))
    eq(inverse, np.array([1, 1, 0]))
    y = np.array([1, 1, 2, 2, 3, 1, 1, 2])
    values, inverse, counts = fnx.unique_consecutive(fnp.asarray(y), return_inverse=True, return_counts=True)
    eq(values, np.array([1, 2, 3, 1, 2]))
    eq(inverse, np.array([0, 0, 1, 1, 2, 3, 3, 4]))
    eq(counts, np.array([2, 2, 1, 2, 1]))


@given(small_ints)
def test_nonzero_layouts(x):
    eq(fnx.nonzero(fnp.asarray(x)), np.argwhere(x))  # (N, ndim), int64
    for got, want in zip(fnx.nonzero(fnp.asarray(x), as_tuple=True), np.nonzero(x)):
        eq(got, want)
    eq(fnp.asarray(x).nonzero(as_tuple=False), np.argwhere(x))
    assert isinstance(fnp.asarray(x).nonzero(), tuple)  # the method without a PyTorch keyword is NumPy's


def test_histc():
    x = np.array([1.0, 2.0, 1.0, 4.0, -1.0, 3.0], np.float32)
    eq(fnx.histc(fnp.asarray(x), bins=4, min=0, max=3), np.array([0, 2, 1, 1], np.float32))  # outside ignored
    eq(fnx.histc(fnp.asarray(x), bins=5), np.histogram(x, 5, range=(-1, 4))[0].astype(np.float32))
    eq(fnx.histc(fnx.tensor([2.0, 2.0]), bins=4), np.array([0, 0, 2, 0], np.float32))  # one value: widened by 1


def test_counting_and_membership():
    x = rng.integers(-2, 3, (3, 4))
    eq(fnx.count_nonzero(fnp.asarray(x), dim=1), np.count_nonzero(x, axis=1).astype(np.int64))
    eq(fnx.isin(fnp.asarray(x), fnx.tensor([0, 1]), invert=True), ~np.isin(x, [0, 1]))
    eq(fnx.isclose(fnx.tensor([1.0, 2.0]), fnx.tensor([1.0 + 1e-7, 2.1])), np.array([True, False]))
    # nan is nan_to_num's second positional argument in PyTorch (NumPy's is copy)
    eq(fnx.nan_to_num(fnx.tensor([np.nan, np.inf, 1.0]), 2.0),
       np.nan_to_num(np.array([np.nan, np.inf, 1.0], np.float32), nan=2.0))


# ----- building and cutting arrays -----------------------------------------------------------------

def test_meshgrid_defaults_to_ij():
    a, b = fnx.meshgrid(fnx.tensor([1, 2]), fnx.tensor([3, 4, 5]))
    want_a, want_b = np.meshgrid([1, 2], [3, 4, 5], indexing="ij")
    eq(a, want_a)
    eq(b, want_b)
    eq(fnx.meshgrid([fnx.tensor([1, 2]), fnx.tensor([3, 4, 5])], indexing="xy")[0], np.meshgrid([1, 2], [3, 4, 5])[0])


def test_block_diag_cartesian_prod_combinations():
    got = fnx.block_diag(fnx.tensor([[1, 2]]), fnx.tensor(3), fnx.tensor([4, 5]))
    eq(got, np.array([[1, 2, 0, 0, 0], [0, 0, 3, 0, 0], [0, 0, 0, 4, 5]]))
    eq(fnx.cartesian_prod(fnx.tensor([1, 2]), fnx.tensor([3, 4, 5])),
       np.array(list(itertools.product([1, 2], [3, 4, 5]))))
    eq(fnx.cartesian_prod(fnx.tensor([1, 2])), np.array([1, 2]))  # one array: returned as is
    eq(fnx.combinations(fnx.tensor([1, 2, 3, 4]), r=3), np.array(list(itertools.combinations([1, 2, 3, 4], 3))))
    eq(fnx.combinations(fnx.tensor([1, 2]), with_replacement=True),
       np.array(list(itertools.combinations_with_replacement([1, 2], 2))))
    assert fnx.combinations(fnx.tensor([1, 2]), r=3).shape == (0, 3)
    with pytest.raises(ShapeError, match="block_diag"):
        fnx.block_diag(fnx.zeros(2, 2, 2))


def test_atleast_and_broadcasting_helpers():
    assert fnx.atleast_1d(fnx.tensor(1.0)).shape == (1,)
    assert [t.shape for t in fnx.atleast_2d(fnx.tensor([1, 2]), fnx.tensor(3))] == [(1, 2), (1, 1)]
    assert [t.shape for t in fnx.atleast_3d((fnx.tensor([1, 2]),))] == [(1, 2, 1)]  # a sequence gives a tuple
    assert fnx.broadcast_shapes((3, 1), (4,), (1, 4)) == (3, 4)
    assert fnx.broadcast_shapes(5, (3, 1)) == (3, 5)  # an int is a 1-d shape
    assert [t.shape for t in fnx.broadcast_tensors(fnx.zeros(3, 1), fnx.zeros(4))] == [(3, 4), (3, 4)]


def test_narrow_tensor_split_take_along_dim_masked_select():
    x = np.arange(12.0).reshape(3, 4)
    a = fnp.asarray(x)
    eq(fnx.narrow(a, 1, 1, 2), x[:, 1:3])
    eq(a.narrow(0, -2, 2), x[1:])
    with pytest.raises(ShapeError, match="narrow"):
        fnx.narrow(a, 1, 3, 2)
    assert [p.shape[0] for p in fnx.tensor_split(fnx.arange(7), 3)] == [3, 2, 2]
    assert [p.shape[1] for p in fnx.tensor_split(a, fnx.tensor([1, 3]), dim=1)] == [1, 2, 1]
    eq(fnx.take_along_dim(a, fnx.tensor([[2, 0]]), dim=1), np.take_along_axis(x, np.array([[2, 0]] * 3), 1))
    eq(fnx.take_along_dim(a, fnx.tensor([11, 0])), np.array([11.0, 0.0]))
    eq(fnx.masked_select(a, fnx.tensor([True, False, True, False])), x[:, [0, 2]].ravel())
    with pytest.raises(TypeError, match="boolean"):
        fnx.masked_select(a, fnx.tensor([1, 0, 1, 0]))


def _scatter_ref(x, dim, index, src, op):
    out = x.copy()
    for pos in np.ndindex(*index.shape):
        target = list(pos)
        target[dim] = index[pos]
        out[tuple(target)] = op(out[tuple(target)], src[pos])
    return out


@given(st.integers(0, 1), st.data())
def test_scatter_family_against_loops(dim, data):
    x = rng.standard_normal((3, 4))
    shape = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 4)))
    index = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(0, x.shape[dim] - 1)))
    src = rng.standard_normal((3, 4))
    a, i, s = fnp.asarray(x), fnp.asarray(index), fnp.asarray(src)
    eq(fnx.scatter_add(a, dim, i, s), _scatter_ref(x, dim, index, src, np.add))
    eq(fnx.scatter(a, dim, i, s, reduce="multiply"), _scatter_ref(x, dim, index, src, np.multiply))
    eq(fnx.scatter_reduce(a, dim, i, s, "amax"), _scatter_ref(x, dim, index, src, np.maximum))
    eq(fnx.scatter_reduce(a, dim, i, s, "amin", include_self=False),
       _scatter_ref(_scatter_ref(x, dim, index, np.full(src.shape, np.inf), lambda o, n: n), dim, index, src,
                    np.minimum))
    ones = np.ones_like(src)
    count = _scatter_ref(np.ones_like(x), dim, index, ones, np.add)
    eq(fnx.scatter_reduce(a, dim, i, s, "mean"), _scatter_ref(x, dim, index, src, np.add) / count)
    if len(np.unique(index)) == index.size:
        eq(fnx.scatter(a, dim, i, s), _scatter_ref(x, dim, index, src, lambda o, n: n))  # no repeats: defined


def test_scatter_value_and_errors():
    eq(fnx.scatter(fnx.zeros(2, 3), 1, fnx.tensor([[2], [0]]), 7.0), np.array([[0, 0, 7], [7, 0, 0]], np.float32))
    with pytest.raises(ShapeError, match="dimensions"):
        fnx.scatter_add(fnx.zeros(2, 3), 1, fnx.tensor([0]), fnx.ones(2, 3))
    with pytest.raises(ShapeError, match="larger"):
        fnx.scatter_add(fnx.zeros(2, 3), 1, fnx.zeros((3, 1), dtype=fnx.long), fnx.ones(3, 3))
    with pytest.raises(ValueError, match="reduce"):
        fnx.scatter_reduce(fnx.zeros(2), 0, fnx.tensor([0]), fnx.ones(1), "median")


def test_index_add_copy_fill():
    x = rng.standard_normal((3, 4))
    src = rng.standard_normal((3, 2))
    want = x.copy()
    np.add.at(want, (slice(None), [3, 3]), 2 * src)  # repeated indices add up
    eq(fnx.index_add(fnp.asarray(x), 1, fnx.tensor([3, 3]), fnp.asarray(src), alpha=2), want)
    want = x.copy()
    want[:, [3, 0]] = src
    eq(fnp.asarray(x).index_copy(1, fnx.tensor([3, 0]), fnp.asarray(src)), want)
    want = x.copy()
    want[[0, 2]] = -1
    eq(fnx.index_fill(fnp.asarray(x), 0, fnx.tensor([0, 2]), -1.0), want)
    with pytest.raises(ShapeError, match="source"):
        fnx.index_add(fnp.asarray(x), 1, fnx.tensor([0]), fnp.asarray(src))


def test_flips_rolls_diagonals():
    x = np.arange(24.0).reshape(2, 3, 4)
    a = fnp.asarray(x)
    eq(fnx.flip(a, [0, 2]), x[::-1, :, ::-1])
    eq(a.flip(1), x[:, ::-1])
    eq(a.flip(0, 1), x[::-1, ::-1])
    eq(a.flip(dims=(2,)), x[..., ::-1])
    eq(fnx.rot90(a, -1, [1, 2]), np.rot90(x, -1, axes=(1, 2)))
    eq(fnx.roll(a, (1, -1), (0, 2)), np.roll(x, (1, -1), (0, 2)))
    eq(fnx.roll(a, 2), np.roll(x, 2))
    eq(fnx.tril(a[0], diagonal=1), np.tril(x[0], 1))
    eq(a[0].triu(diagonal=-1), np.triu(x[0], -1))
    eq(fnx.diag(a[0], diagonal=1), np.diag(x[0], 1))
    d = rng.standard_normal((2, 3))
    want = np.zeros((2, 4, 4))
    for b in range(2):
        want[b] = np.diag(d[b], -1)
    eq(fnx.diag_embed(fnp.asarray(d), offset=-1), want)
    eq(fnx.diag_embed(fnp.asarray(d), dim1=0, dim2=2), np.stack([np.diag(r) for r in d], axis=1))


def test_trapezoid_and_cumulative_trapezoid():
    y = rng.standard_normal((3, 5))
    x = np.cumsum(rng.random(5))
    eq(fnx.trapezoid(fnp.asarray(y)), np.trapezoid(y))
    eq(fnx.trapezoid(fnp.asarray(y), dx=0.5, dim=0), np.trapezoid(y, dx=0.5, axis=0))
    eq(fnx.trapezoid(fnp.asarray(y), fnp.asarray(x)), np.trapezoid(y, x))
    running = np.stack([np.trapezoid(y[:, :k + 1], x[:k + 1]) for k in range(1, 5)], axis=1)
    eq(fnx.cumulative_trapezoid(fnp.asarray(y), fnp.asarray(x)), running)
    with pytest.raises(TypeError, match="not both"):
        fnx.trapezoid(fnp.asarray(y), fnp.asarray(x), dx=1.0)


def test_repeat_interleave():
    x = np.array([[1, 2], [3, 4]])
    eq(fnx.repeat_interleave(fnp.asarray(x), 2), np.repeat(x.ravel(), 2))
    eq(fnx.repeat_interleave(fnp.asarray(x), fnx.tensor([1, 2]), dim=0), np.repeat(x, [1, 2], axis=0))
    eq(fnx.repeat_interleave(fnx.tensor([2, 0, 1])), np.array([0, 0, 2]))
    with pytest.raises(ShapeError, match="output_size"):
        fnx.repeat_interleave(fnp.asarray(x), 2, dim=1, output_size=3)


# ----- linear algebra and arithmetic with PyTorch's argument names ----------------------------------

def test_matrix_products_with_beta_and_alpha():
    m, a, b = (rng.standard_normal(s) for s in ((3, 2), (3, 4), (4, 2)))
    eq(fnx.addmm(fnp.asarray(m), fnp.asarray(a), fnp.asarray(b), beta=0.5, alpha=2), 0.5 * m + 2 * a @ b)
    nan = np.full((3, 2), np.nan)
    eq(fnx.addmm(fnp.asarray(nan), fnp.asarray(a), fnp.asarray(b), beta=0), a @ b)  # beta=0 ignores input
    eq(fnx.mv(fnp.asarray(a), fnp.asarray(b[:, 0])), a @ b[:, 0])
    eq(fnx.addr(fnp.asarray(a), fnp.asarray(a[:, 0]), fnp.asarray(a[0])), a + np.outer(a[:, 0], a[0]))
    bb = rng.standard_normal((2, 3, 4))
    eq(fnx.baddbmm(fnp.asarray(m[None]), fnp.asarray(bb), fnp.asarray(np.stack([b, b])), alpha=0.3),
       m + 0.3 * bb @ b)
    eq(fnx.addcdiv(fnp.asarray(a), fnp.asarray(a), fnp.asarray(a + 10), value=2), a + 2 * a / (a + 10))
    eq(fnx.addcmul(fnp.asarray(a), fnp.asarray(a), fnp.asarray(a), value=0.5), a + 0.5 * a * a)
    with pytest.raises(ShapeError, match="mv"):
        fnx.mv(fnp.asarray(a), fnp.asarray(a))


def test_det_family():
    s = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    eq(fnx.det(fnp.asarray(s)), np.linalg.det(s))
    eq(fnx.inverse(fnp.asarray(s)), np.linalg.inv(s))
    eq(fnx.logdet(fnp.asarray(s)), np.log(np.linalg.det(s)))
    assert np.isnan(float(fnx.logdet(fnx.tensor(np.diag([-1.0, 2.0])))))
    assert float(fnx.logdet(fnx.zeros(2, 2))) == -np.inf
    sign, logabsdet = fnx.slogdet(fnp.asarray(-s))
    eq(sign, np.linalg.slogdet(-s)[0])
    eq(logabsdet, np.linalg.slogdet(-s)[1])


def test_cdist_cosine_similarity_lerp():
    a, b = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 5, 3))
    for p in (2.0, 1.0, 0.0, np.inf, 3.0):
        want = np.linalg.norm(a[:, :, None] - b[:, None], ord=p, axis=-1)
        eq(fnx.cdist(fnp.asarray(a), fnp.asarray(b), p=p), want)
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((1, 3))
    want = (x * y).sum(1) / (np.maximum(np.linalg.norm(x, axis=1), 1e-8) * np.maximum(np.linalg.norm(y, axis=1), 1e-8))
    eq(fnx.cosine_similarity(fnp.asarray(x), fnp.asarray(y)), want)
    eq(fnx.lerp(fnp.asarray(x), fnp.asarray(y), 0.25), x + 0.25 * (y - x))
    start, end = np.array([0.1, 1e3, -7.3], np.float32), np.array([0.3, 1e-3, 1e-5], np.float32)
    np.testing.assert_array_equal(np.asarray(fnx.lerp(fnx.tensor(start), fnx.tensor(end), 1.0)), end)  # exactly end
    with pytest.raises(ShapeError, match="cdist"):
        fnx.cdist(fnp.asarray(a), fnp.asarray(b[..., :2]))


def test_special_functions():
    import math
    x = np.array([0.3, 1.5, 4.0])
    gamma = 0.5772156649015329  # Euler's constant
    eq(fnx.lgamma(fnp.asarray(x)), np.array([math.lgamma(v) for v in x]))
    eq(fnx.digamma(fnx.tensor([1.0, 0.5], dtype=fnx.float64)), np.array([-gamma, -gamma - 2 * math.log(2)]))
    eq(fnx.polygamma(1, fnx.tensor([1.0, 0.5], dtype=fnx.float64)), np.array([math.pi ** 2 / 6, math.pi ** 2 / 2]))
    eq(fnx.erfc(fnp.asarray(x)), np.array([math.erfc(v) for v in x]))
    y = x / 5
    eq(np.array([math.erf(v) for v in np.asarray(fnx.erfinv(fnp.asarray(y)))]), y)
    eq(fnx.xlogy(fnx.tensor([0.0, 2.0]), fnx.tensor([0.0, 3.0])), np.array([0.0, 2 * np.log(3)], np.float32))
    eq(fnx.logit(fnp.asarray(y)), np.log(y / (1 - y)))
    eq(fnx.logit(fnx.tensor([0.0, 1.0]), eps=0.1), np.log(np.array([1 / 9, 9], np.float32)))
    eq(fnx.sinc(fnp.asarray(x)), np.sinc(x))


# ----- dtypes and introspection ----------------------------------------------------------------------

def test_dtype_helpers():
    assert fnx.get_default_dtype() == np.float32
    assert fnx.finfo().eps == np.finfo(np.float32).eps and fnx.finfo(fnx.float16).tiny == np.finfo(np.float16).tiny
    assert fnx.iinfo(fnx.int8).max == 127
    assert fnx.can_cast(fnx.float64, fnx.float32) and fnx.can_cast(fnx.int32, fnx.uint8)  # within a kind
    assert not fnx.can_cast(fnx.float32, fnx.int64) and not fnx.can_cast(fnx.complex64, fnx.float64)
    assert fnx.promote_types(fnx.int8, fnx.uint8) == np.int16
    assert fnx.promote_types(fnx.int64, fnx.float16) == np.float64  # fnx's (NumPy's) rule; PyTorch says float16
    assert (fnx.ones(1, dtype=fnx.int64) + fnx.ones(1, dtype=fnx.float16)).dtype == fnx.promote_types(fnx.int64,
                                                                                                    fnx.float16)
    assert fnx.result_type(fnx.ones(2), 1.0) == np.float32  # a Python scalar is weak
    assert fnx.is_floating_point(fnx.ones(2)) and not fnx.is_floating_point(fnx.tensor([1]))
    assert fnx.is_complex(fnx.ones(1).cfloat()) and fnx.tensor([2]).is_nonzero()
    with pytest.raises(ShapeError, match="one element"):
        fnx.is_nonzero(fnx.ones(2))
    assert (fnx.pi, fnx.e, fnx.inf) == (np.pi, np.e, np.inf) and np.isnan(fnx.nan) and fnx.newaxis is None
    assert fnx.true_divide(fnx.tensor([3]), 2).dtype == np.float32  # PyTorch's default float, as div


def test_more_linear_algebra_and_statistics():
    x = rng.standard_normal((3, 4))
    a = fnp.asarray(x)
    eq(fnx.triu_indices(3, 4, 1), np.stack(np.triu_indices(3, 1, 4)))
    eq(fnx.tril_indices(4, 3), np.stack(np.tril_indices(4, 0, 3)))
    std, mean = fnx.std_mean(a, dim=1)
    eq(std, x.std(axis=1, ddof=1))
    eq(mean, x.mean(axis=1))
    eq(fnx.var_mean(a, correction=0)[0], x.var())
    eq(fnx.dist(a, a[0]), np.linalg.norm(x - x[0]))
    eq(fnx.cov(a), np.cov(x))
    eq(fnx.tensordot(a, a, dims=([1], [1])), x @ x.T)
    b = rng.standard_normal((3, 2, 3))
    eq(fnx.cross(fnp.asarray(b), fnp.asarray(b[::-1].copy())), np.cross(b, b[::-1], axis=0))  # first axis of size 3
    eq(fnx.vander(fnx.tensor([1, 2, 3])), np.vander([1, 2, 3]))  # decreasing, as NumPy
    eq(fnx.select(a, 1, 2), x[:, 2])
    eq(a.diagonal(offset=1, dim1=1, dim2=0), np.diagonal(x, 1, 1, 0))
    eq(a.diagonal(1), np.diagonal(x, 1))
    eq(fnx.sgn(fnx.tensor([3 + 4j, 0j])), np.array([0.6 + 0.8j, 0j], np.complex64))
    eq(a.mH, x.T)
    with pytest.raises(ShapeError, match="size 3"):
        fnx.cross(fnx.ones(2, 2), fnx.ones(2, 2))


def test_tensor_methods():
    x = fnx.tensor(rng.standard_normal((2, 3, 4)).astype(np.float32))
    assert x.stride() == (12, 4, 1) and x.stride(1) == 4 and x.is_contiguous()
    assert x.element_size() == 4 and x.ndimension() == 3 and x.nelement() == 24
    assert x.unflatten(2, (2, -1)).shape == (2, 3, 2, 2)
    with pytest.raises(ShapeError, match="unflatten"):
        x.unflatten(2, (3, -1, 2))
    eq(x.where(x > 0, 0.0 * x), np.where(np.asarray(x) > 0, np.asarray(x), 0))
    assert fnx.tensor([1, 2]).type_as(x).dtype == np.float32
    eq(x.clamp_min(0.1), np.maximum(np.asarray(x), 0.1))
    eq(x.clamp_max(0.2), np.minimum(np.asarray(x), 0.2))
    assert x.is_floating_point() and not x.is_complex()
    eq(x.lerp(x * 3, 0.5), np.asarray(x) * 2)
    eq(x.masked_select(x > 0), np.asarray(x)[np.asarray(x) > 0])


# ----- sampling from the global generator ------------------------------------------------------------

def test_normal_forms_and_gradients():
    fnx.manual_seed(0)
    z = fnx.normal(2.0, 3.0, size=(20000,))
    assert z.shape == (20000,) and z.dtype == np.float32
    assert abs(float(z.mean()) - 2) < 0.1 and abs(float(z.std()) - 3) < 0.1
    mean, std = fnx.zeros(3, dtype=fnx.float64), fnx.ones(2, 1, dtype=fnx.float64)
    assert fnx.normal(mean, std).shape == (2, 3) and fnx.normal(mean, std).dtype == np.float64
    g_mean, g_std = fnx.grad(lambda m, s: fnx.normal(m, s).sum(), argnums=(0, 1))(fnx.tensor([1.0]), fnx.tensor([2.0]))
    assert float(g_mean[0]) == 1.0 and np.isfinite(float(g_std[0]))
    with pytest.raises(ValueError, match="std"):
        fnx.normal(0.0, -1.0, size=(2,))


def test_bernoulli_and_multinomial():
    fnx.manual_seed(1)
    p = fnx.tensor([0.1, 0.5, 0.9]) * fnx.ones(4000, 3)
    draws = fnx.bernoulli(p)
    assert draws.dtype == np.float32 and set(np.unique(np.asarray(draws))) <= {0.0, 1.0}
    np.testing.assert_allclose(np.asarray(draws).mean(0), [0.1, 0.5, 0.9], atol=0.03)
    assert abs(float(fnx.bernoulli(fnx.zeros(4000), 0.3).mean()) - 0.3) < 0.03
    w = fnx.tensor([[0.0, 1.0, 3.0, 0.0], [2.0, 2.0, 0.0, 4.0]])
    picks = np.asarray(fnx.multinomial(w, 2))
    assert picks.dtype == np.int64 and picks.shape == (2, 2)
    assert set(picks[0]) == {1, 2} and len(set(picks[1])) == 2 and 2 not in picks[1]  # no repeats, no zeros
    many = np.asarray(fnx.multinomial(w, 6000, replacement=True))
    np.testing.assert_allclose(np.bincount(many[1], minlength=4) / 6000, [0.25, 0.25, 0, 0.5], atol=0.03)
    with pytest.raises(ValueError, match="positive weight"):
        fnx.multinomial(w, 3)


# ----- gradients ------------------------------------------------------------------------------------

def test_gradients_of_the_differentiable_ones():
    x = fnp.asarray(rng.standard_normal((3, 4)))
    y = fnp.asarray(rng.standard_normal((2, 4)))
    s = fnp.asarray(rng.standard_normal((3, 3)) + 3 * np.eye(3))
    check_grads(lambda a: fnx.median(a) + fnx.median(a, 1).values.sum() + fnx.kthvalue(a, 2, 0).values.sum(), (x,))
    check_grads(lambda a: fnx.cummax(a, 1).values.sum() + fnx.cummin(a, 0).values.sum(), (x,))
    check_grads(lambda a: fnx.logcumsumexp(a, 1), (x,), order=2)
    check_grads(lambda a, b: fnx.cdist(a, b) + fnx.cdist(a, b, p=1.0), (x, y))
    check_grads(lambda a, b: fnx.cosine_similarity(a, b[:1]), (x, y), order=2)
    check_grads(lambda a, b: fnx.lerp(a, b[:1], 0.3) + fnx.addcdiv(a, a, b[:1] + 5.0, value=2), (x, y), order=2)
    check_grads(lambda a: fnx.addmm(a[:, :3], a, a.T[:, :3], beta=0.5, alpha=2.0), (x,), order=2)
    check_grads(lambda m: fnx.logdet(m) + fnx.det(m) + fnx.inverse(m).sum(), (s,), order=2)
    check_grads(lambda a: fnx.scatter_add(a, 1, fnx.tensor([[0, 0], [2, 1], [3, 3]]), a * a), (x,), order=2)
    check_grads(lambda a: fnx.index_add(a, 0, fnx.tensor([2, 2]), a[:2] * 3.0, alpha=2), (x,), order=2)
    check_grads(lambda a: fnx.quantile(a, 0.3, dim=1) + fnx.amax(a, 0).sum(), (x,))
    check_grads(lambda a: fnx.diag_embed(a, offset=1) * 2.0 + fnx.block_diag(a, a[:1]).sum(), (x,), order=2)
    check_grads(lambda a: fnx.trapezoid(a, dim=0) + fnx.cumulative_trapezoid(a).sum() + fnx.masked_select(a, a > 0)
                .sum(), (x,), order=2)
    check_grads(lambda a: fnx.lgamma(a * a + 1) + fnx.xlogy(a * a, a * a + 1.0), (x,), order=2)


def test_cdist_gradient_is_zero_at_zero_distance():
    x = fnx.tensor([[1.0, 2.0]])
    g = fnx.grad(lambda a: fnx.cdist(a, x).sum())(x)
    assert np.isfinite(np.asarray(g)).all() and float(np.abs(np.asarray(g)).sum()) == 0.0


def test_vmap_of_the_scans_and_order_statistics():
    x = fnp.asarray(rng.standard_normal((5, 3, 4)))
    check_vmap(lambda a: fnx.cummax(a, 1).values + fnx.logcumsumexp(a, 0), (x,))
    check_vmap(lambda a: fnx.median(a, 1).values + fnx.kthvalue(a, 2, 1).values, (x,))


# ----- against PyTorch itself ---------------------------------------------------------------------

A = rng.standard_normal((3, 4)).astype(np.float32)
B3 = rng.standard_normal((2, 3, 4)).astype(np.float32)
S = (rng.standard_normal((3, 3)) + 3 * np.eye(3)).astype(np.float32)
I = rng.integers(-3, 3, (3, 5))
AN = A.copy()
AN[1, 2] = np.nan


def _table(L):
    t = L.tensor
    a, b, s, i, an = t(A), t(B3), t(S), t(I), t(AN)
    return {
        "eq": L.eq(i, 0), "ne m": i.ne(0), "lt": L.lt(a, 0.0), "greater": L.greater(a, 0.1),
        "nonzero": L.nonzero(i), "nonzero m": i.nonzero(as_tuple=False), "nonzero t": L.nonzero(i, as_tuple=True)[1],
        "argwhere": L.argwhere(i), "reshape": L.reshape(a, (2, -1)), "clone": L.clone(a),
        "meshgrid": L.meshgrid(t([1, 2]), t([3, 4, 5]), indexing="ij")[0],
        "searchsorted": L.searchsorted(t([1.0, 3.0, 5.0]), t([[0.0, 3.0], [5.0, 6.0]]), right=True),
        "searchsorted nd": L.searchsorted(t([[1, 3, 5], [2, 4, 6]]), t([[3, 0], [4, 7]])),
        "searchsorted sorter": L.searchsorted(t([5, 1, 3]), t([3, 4]), sorter=t([1, 2, 0])),
        "bucketize": L.bucketize(t([1, 3, 5, 0]), t([1, 3])), "cdist": L.cdist(a, a[:2]),
        "cdist inf": L.cdist(b, b, p=float("inf")), "lerp": L.lerp(a, a * 2, 0.7),
        "cos": L.cosine_similarity(a, a[:1] * 2 + 1, dim=1), "rep": L.repeat_interleave(a, t([1, 0, 2]), dim=0),
        "rep only": L.repeat_interleave(t([2, 0, 1])), "rep m": a.repeat_interleave(2, dim=1),
        "diff": L.diff(a, n=2, append=a[:, :1]), "clip": L.clip(a, -0.5, 0.5), "concatenate": L.concatenate([a, a], 1),
        "hstack": L.hstack([a, a]), "dstack": L.dstack([a, a]), "column_stack": L.column_stack([a[0], a[1]]),
        "atleast_3d": L.atleast_3d(t([1, 2])), "block_diag": L.block_diag(a, s, t(2.0)),
        "cartesian_prod": L.cartesian_prod(t([1, 2]), t([3, 4, 5])), "combinations": L.combinations(t([1, 2, 3, 4])),
        "combinations none": L.combinations(t([1, 2]), r=3), "count_nonzero": L.count_nonzero(i, dim=(0, 1)),
        "isin": L.isin(i, t([0, 1])), "nan_to_num": L.nan_to_num(t([float("nan"), float("inf"), 1.0]), 2.0),
        "finfo": L.finfo(L.float16).eps, "iinfo": L.iinfo(L.int8).min,
        "scatter val": L.scatter(L.zeros(3, 5), 1, t([[0, 2], [1, 3]]), 7.0),
        "scatter add": L.scatter(L.ones(3, 5), 1, t([[0, 0], [1, 1]]), t([[1.0, 2.0], [3.0, 4.0]]), reduce="add"),
        "scatter_add m": a.scatter_add(0, t([[0, 1], [2, 0]]), a[:2, :2]),
        "scatter_reduce": L.scatter_reduce(a, 1, t([[0, 0, 1], [3, 3, 3], [2, 1, 0]]), a, "mean", include_self=False),
        "scatter_reduce amax": L.scatter_reduce(a, 0, t([[0, 1], [0, 1]]), a, "amax"),
        "index_add": L.index_add(a, 0, t([0, 0, 2]), L.ones(3, 4), alpha=2),
        "index_fill": L.index_fill(a, 1, t([1, 2]), -1.0),
        "masked_select": L.masked_select(a, a > 0), "take_along_dim": L.take_along_dim(a, t([[2, 0]]), dim=1),
        "tensor_split": L.tensor_split(a, [1, 3], dim=1)[1], "narrow": L.narrow(a, 0, -2, 2),
        "movedim": L.movedim(b, (0, 1), (2, 0)), "swapdims m": b.swapdims(0, 2),
        "logdet": L.logdet(s), "slogdet": L.slogdet(-s)[0], "inverse m": s.inverse(),
        "median": L.median(a), "median d": L.median(a, 1)[0], "median nan d": L.median(an, 1).values,
        "nanmedian d": L.nanmedian(an, 1)[0], "median m": a.median(dim=1).indices,
        "quantile": L.quantile(a, t([0.25, 0.5]), dim=1, keepdim=True),
        "quantile near": L.quantile(a, t([0.5, 0.2, 0.9]), dim=0, interpolation="nearest"),
        "quantile mid": L.quantile(a, 0.4, dim=0, interpolation="midpoint"),
        "nanquantile": L.nanquantile(an, 0.5, dim=1),
        "nanmean": L.nanmean(an, dim=1, keepdim=True), "nansum": L.nansum(an, 0),
        "cummax": L.cummax(t([1, 3, 3, 2, 5, 5]), 0)[1], "cummin m": b.cummin(dim=1)[1],
        "kthvalue i": L.kthvalue(t([[3.0, 1, 2, 1]]), 2, 1)[1], "kthvalue k": L.kthvalue(a, 3, 0, True)[1],
        "mode": L.mode(t([[1, 2, 2, 3, 3], [4, 4, 1, 1, 0]]), 1)[1], "mode f": L.mode(t([1.0, 5, 5, 1, 2]))[1],
        "amax": L.amax(b, dim=(0, 2)), "aminmax": L.aminmax(a, dim=1).max,
        "addmm": L.addmm(a[:, :3], a, a.T[:, :3], beta=0.5, alpha=2), "addcdiv": L.addcdiv(a, a, a + 10, value=2),
        "baddbmm": L.baddbmm(b[:, :, :3], b, b.transpose(1, 2), alpha=0.3), "addmv": L.addmv(a[:, 0], a, a[0], beta=2),
        "addbmm": L.addbmm(a[:, :3], b, b.transpose(1, 2)), "logcumsumexp": L.logcumsumexp(a, 1),
        "xlogy": L.xlogy(t([0.0, 1.0, 2.0]), t([0.0, 3.0, 4.0])), "logit eps": L.logit(t([0.0, 0.25, 1.0]), eps=0.1),
        "erfinv": L.erfinv(t([-0.5, 0.0, 0.9])), "polygamma": L.polygamma(1, t([0.5, 3.0])),
        "unique inv": L.unique(i, return_inverse=True)[1], "unique dim": L.unique(t([[1, 2], [1, 2], [0, 1]]), dim=0),
        "unique m": i.unique(return_counts=True, return_inverse=True)[2],
        "unique_consecutive": L.unique_consecutive(t([1, 1, 2, 2, 3, 1, 1, 2]), return_counts=True)[1],
        "histc": L.histc(a, bins=5), "histc one": L.histc(t([2.0, 2.0]), bins=4),
        "flip": L.flip(b, [0, 2]), "flip m": b.flip(0, 1), "rot90": L.rot90(b, -1, [1, 2]),
        "trapezoid x": L.trapezoid(a, t([0.0, 1.0, 3.0, 4.0])), "trapezoid dx": L.trapezoid(a, dx=0.5, dim=0),
        "cumulative_trapezoid": L.cumulative_trapezoid(a, t([0.0, 1.0, 3.0]), dim=0),
        "type_as": i.type_as(a), "unflatten": b.unflatten(2, (2, -1)), "stride": b.stride(),
        "element_size": i.element_size(),
        "diag_embed": L.diag_embed(a, offset=-1, dim1=0, dim2=2), "roll": L.roll(a, (1, -1), (0, 1)),
        "diag": L.diag(a, diagonal=1), "frac": L.frac(a * 3), "true_divide": L.true_divide(i, 2),
        "can_cast": tuple(L.can_cast(x, y) for x in (L.float64, L.float32, L.int32, L.uint8, L.bool, L.complex64)
                          for y in (L.float64, L.int64, L.uint8, L.bool, L.complex128)),
        "promote": str(L.promote_types(L.int8, L.uint8)).replace("torch.", ""),
        "unbind": L.unbind(b, 2)[1], "select": L.select(b, 1, -1), "select m": b.select(2, 0),
        "diagonal": L.diagonal(b, 1, 2, 0), "diagonal m": b.diagonal(offset=-1, dim1=1, dim2=2),
        "tensordot": L.tensordot(b, a, dims=2), "tensordot l": L.tensordot(a, b, dims=([0, 1], [1, 2])),
        "triu_indices": L.triu_indices(3, 4, 1), "tril_indices": L.tril_indices(4, 3, -1),
        "std_mean": L.std_mean(a, dim=1)[0], "var_mean": L.var_mean(b, (0, 2), correction=0, keepdim=True)[0],
        "dist": L.dist(a, a[0], p=1), "cov": L.cov(a), "corrcoef": L.corrcoef(a),
        "cross": L.cross(b[:, :, :3], b[:, :, 1:]),
        "vander": L.vander(t([1.0, 2.0, 3.0]), N=4), "vander inc": L.vander(t([1, 2]), increasing=True),
        "pinverse": L.pinverse(a), "matrix_power": L.matrix_power(s, 2), "sgn": L.sgn(a),
        "sgn c": L.sgn(t([3 + 4j, 0j], dtype=L.complex64)), "clamp_min": L.clamp_min(a, 0.1),
        "bincount": L.bincount(t([0, 3, 3, 1]), minlength=6), "logspace": L.logspace(0, 2, 5),
        "mH": b.mH, "H": a.H, "adjoint": b.adjoint(),
    }


def test_against_pytorch():
    torch = pytest.importorskip("torch")
    want, got = _table(torch), _table(fnx)
    for key, w in want.items():
        g = got[key]
        if isinstance(w, torch.Tensor):
            w = w.detach().numpy()
            g = np.asarray(g)
            assert g.shape == w.shape and g.dtype == w.dtype, (key, g.shape, w.shape, g.dtype, w.dtype)
            np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=1e-5, atol=1e-5, err_msg=key)
        else:
            assert (tuple(g) == tuple(w) if isinstance(w, tuple) else g == w), key


def test_compile_returns_what_runs_eagerly():
    model = fnx.nn.Linear(2, 1)
    assert fnx.compile(model) is model and fnx.compile(model, mode="max-autotune", fullgraph=True) is model

    @fnx.compile
    def double(x):
        return x * 2

    @fnx.compile(dynamic=True)
    def triple(x):
        return x * 3
    assert double(fnx.ones(2)).tolist() == [2.0, 2.0] and triple(fnx.ones(1)).tolist() == [3.0]
    with pytest.raises(TypeError, match="expected a Module or a function"):
        fnx.compile(3)


def test_requires_grad_makes_a_leaf_and_the_flag_is_not_assignable():
    from fnx.errors import GraphError, ImmutableError
    x = fnx.randn(3)
    leaf = x.requires_grad_()
    assert leaf.requires_grad and not x.requires_grad  # a new leaf: the immutable x is unchanged
    (leaf * leaf).sum().backward()
    np.testing.assert_allclose(leaf.grad, 2 * np.asarray(x))
    adv = x.clone().detach().requires_grad_(True)  # the adversarial-example idiom
    (g,) = fnx.autograd.grad((adv ** 3).sum(), adv)
    np.testing.assert_allclose(g, 3 * np.asarray(x) ** 2, rtol=1e-6)
    assert type(x.requires_grad_(False)) is fnx.Array
    h = leaf * 2.0
    assert h.requires_grad_() is h  # already recorded: returned as it is
    with pytest.raises(GraphError, match="only change requires_grad flags of leaf variables"):
        h.requires_grad_(False)
    with pytest.raises(ImmutableError, match=r"use x = x.requires_grad_\(True\)"):
        x.requires_grad = True
    w = fnx.nn.Parameter(fnx.ones(2))
    w.requires_grad = False  # a Parameter's flag is its own, as in PyTorch
    assert not w.requires_grad and w.requires_grad_() is w and w.requires_grad


def test_type_names_and_casts_as_torch():
    t = fnx.arange(6)
    assert t.type() == "fnx.LongTensor" and t.float().type() == "fnx.FloatTensor" and (t > 1).type() == "fnx.BoolTensor"
    assert t.type(fnx.float64).dtype == np.float64 and t.type("torch.HalfTensor").dtype == np.float16
    with pytest.raises(TypeError, match="unknown tensor type 'torch.FooTensor'"):
        t.type("torch.FooTensor")
    torch = pytest.importorskip("torch")
    for dtype in ("float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"):
        theirs = torch.zeros(1, dtype=getattr(torch, dtype)).type()
        assert fnx.zeros(1, dtype=dtype).type() == theirs.replace("torch.", "fnx.")
        assert str(fnx.zeros(1).type(theirs).dtype) == dtype
