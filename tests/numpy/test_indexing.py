"""Indexing: gather and the scatter family, x[idx] against NumPy, x.at[idx] semantics, errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import fnx
import fnx.numpy as fnp
from fnx.errors import ImmutableError, ShapeError, TracerError
from fnx.testing import check_grads, check_vmap
from fnx.testing.strategies import elements
from .harness import Case, numpy_arrays, shapes

# ----- strategies ------------------------------------------------------------------------
# An index is drawn as a template (slices, ints, None, ..., and ARR placeholders) plus the
# integer arrays that fill the placeholders, so the arrays can be passed (and traced) as
# arguments while the rest stays static.

ARR = "array"


def _fill(template, arrays):
    it = iter(arrays)
    return tuple(next(it) if e is ARR else e for e in template)


def _slice(d):
    bound = st.none() | st.integers(-d - 1, d + 1)
    return st.builds(slice, bound, bound, st.sampled_from([None, 1, 2, -1]))


@st.composite
def index_templates(draw, shape, arrays=True):
    """(template, index arrays) for an array of ``shape``; at least one array when ``arrays``."""
    ndim = len(shape)
    k = draw(st.integers(1 if arrays else 0, ndim))
    kinds = draw(st.lists(st.sampled_from(["slice", "int", ARR]), min_size=k, max_size=k))
    if arrays and ARR not in kinds:
        kinds[draw(st.integers(0, k - 1))] = ARR
    trailing = k < ndim and draw(st.booleans())  # a leading ... makes the entries index the last axes
    dims = shape[ndim - k:] if trailing else shape[:k]
    n = kinds.count(ARR)
    bshapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=n, max_dims=2, max_side=3)).input_shapes if n else ()
    template, index_arrays = [], []
    for kind, d in zip(kinds, dims):
        if kind == "slice":
            template.append(draw(_slice(d)))
        elif kind == "int":
            template.append(draw(st.integers(-d, d - 1)))
        else:
            s = bshapes[len(index_arrays)]
            index_arrays.append(draw(hnp.arrays(np.int64, s, elements=st.integers(-d, d - 1))))
            template.append(ARR)
    if draw(st.booleans()):
        template.insert(draw(st.integers(0, len(template))), None)
    if trailing:
        template.insert(0, Ellipsis)
    return tuple(template), index_arrays


def _x(max_dims=3):
    return numpy_arrays(shapes(min_dims=1, max_dims=max_dims, max_side=3))


def _gather_args(x):
    return index_templates(x.shape).map(lambda t: (x, t[0], *t[1]))


def _unique_values(n, domain="real"):
    """``n`` distinct values, so min/max have no ties."""
    return hnp.arrays(np.float64, (n,), elements=elements(domain), unique=True)


def _scatter_args(arrays=True, domain="real", unique=False):
    """(x, v, template, *index arrays) with v of the indexed shape, or of a trailing part of it (broadcast)."""
    def with_index(x):
        def with_values(t):
            target = np.empty(x.shape)[_fill(*t)].shape
            drop = st.integers(0, len(target))
            vshape = drop.map(lambda k: target[k:])
            if unique:
                def split(vs):
                    vals = _unique_values(x.size + int(np.prod(vs, dtype=int)), domain)
                    return vals.map(lambda a: (a[:x.size].reshape(x.shape), a[x.size:].reshape(vs)))
                return vshape.flatmap(split).map(lambda p: (p[0], p[1], t[0], *t[1]))
            return vshape.flatmap(lambda s: numpy_arrays(st.just(s), domain=domain)).map(
                lambda v: (x, v, t[0], *t[1]))
        return index_templates(x.shape, arrays).flatmap(with_values)
    return _x().flatmap(with_index)


def _mask_args(x):
    k = st.integers(1, x.ndim)
    return k.flatmap(lambda k: hnp.arrays(np.bool_, x.shape[:k])).map(lambda m: (x, m.tolist()))


def _take_args(x):
    def build(axis):
        n = x.size if axis is None else x.shape[axis]
        lo, hi = -n, n - 1
        return st.tuples(hnp.arrays(np.int64, shapes(max_dims=2, max_side=3), elements=st.integers(lo - 2, hi + 2)),
                         st.sampled_from(["raise", "clip", "wrap"])).map(
            lambda p: (x, p[0] if p[1] != "raise" else np.clip(p[0], lo, hi), axis, p[1]))
    return (st.none() | st.integers(-x.ndim, x.ndim - 1)).flatmap(build)


def _take_along_args(x):
    def build(axis):
        shape = tuple(s if i == axis % x.ndim else 1 for i, s in enumerate(x.shape))
        n = x.shape[axis]
        return st.integers(1, 3).flatmap(lambda m: hnp.arrays(
            np.int64, shape[:axis % x.ndim] + (m,) + shape[axis % x.ndim + 1:], elements=st.integers(-n, n - 1))).map(
            lambda i: (x, i, axis))
    return st.integers(-x.ndim, x.ndim - 1).flatmap(build)


# ----- NumPy references of the updates -------------------------------------------------------------

def _ref_update(ufunc):
    def ref(x, v, template, *arrays):
        out = x.copy()
        idx = _fill(template, arrays)
        if ufunc is None:
            out[idx] = v
        else:
            ufunc.at(out, idx, v)
        return out
    return ref


def _update(method):
    return lambda x, v, template, *arrays: getattr(x.at[_fill(template, arrays)], method)(v)


def _apart(x, v, *rest):
    vals = np.sort(np.concatenate([x.ravel(), v.ravel()]))
    return vals.size < 2 or np.diff(vals).min() > 1e-3


# ----- cases ---------------------------------------------------------------------------------

CASES = [
    Case("gather", lambda x, t, *a: x[_fill(t, a)], lambda x, t, *a: x[_fill(t, a)], _x().flatmap(_gather_args)),
    Case("gather", lambda x, m: x[m], lambda x, m: x[np.asarray(m, bool)], _x().flatmap(_mask_args), name="mask"),
    Case("gather", lambda x, i, ax, mode: fnp.take(x, i, ax, mode=mode),
         lambda x, i, ax, mode: np.take(x, i, ax, mode=mode), _x().flatmap(_take_args), name="take"),
    Case("gather", fnp.take_along_axis, np.take_along_axis, _x().flatmap(_take_along_args), name="take_along_axis"),
    Case("scatter_add", _update("add"), _ref_update(np.add), _scatter_args(), diff=(0, 1)),
    Case("scatter", _update("set"), _ref_update(None), _scatter_args(), diff=(0, 1)),
    Case("scatter", _update("set"), _ref_update(None), _scatter_args(arrays=False), diff=(0, 1), name="set_basic"),
    Case("scatter_mul", _update("multiply"), _ref_update(np.multiply), _scatter_args(domain="nonzero"), diff=(0, 1)),
    Case("scatter_min", _update("min"), _ref_update(np.minimum), _scatter_args(unique=True), diff=(0, 1),
         valid=_apart),
    Case("scatter_max", _update("max"), _ref_update(np.maximum), _scatter_args(unique=True), diff=(0, 1),
         valid=_apart),
]


# ----- x[idx] against NumPy -------------------------------------------------------------------

A = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
TABLE = [
    0, -1, (1, 2), (slice(None), 1), (Ellipsis, 2), (None, 0), (slice(None, None, -1),), (slice(1, None, 2), -1),
    [1, 0], [[0, 1], [1, 1]], np.array([-1, 0]), (0, [0, 2]), ([0, 1], [2, 0]), ([0, 1], slice(None), [2, 0]),
    (slice(None), [0, 2], [1, 3]), (slice(None), [0, 2], slice(None), [1, 3]), (0, slice(None), [1, 3]),
    ([0, 1], None, [0, 1]), (slice(None), [0, 1], None, [0, 1]), (Ellipsis, [0, 4]), (Ellipsis, [0, 1], 0),
    (None, Ellipsis, None, [0, 1]), (A[:, :, 0, 0] > 5,), (Ellipsis, A[0, 0] % 2 == 0), (0, A[0, :, 0, 0] > 12),
    (slice(None), [True, False, True]), (True,), (False,), (0, True), ([[0], [1]], [0, 1, 2]), ([],),
    (slice(None), np.zeros((0,), int)), (np.array(1), slice(None), np.array([0, 1])), (np.int64(1), -2),
    (fnp.array([1, 0]), slice(None, 2)), ([1, 0], Ellipsis, fnp.array([True, False, False, False, True])),
]


@pytest.mark.parametrize("idx", TABLE, ids=[str(i) if len(str(i)) < 60 else f"expr{k}" for k, i in enumerate(TABLE)])
def test_getitem_matches_numpy(idx):
    np_idx = tuple(np.asarray(i) if isinstance(i, fnx.Array) else i for i in idx) if isinstance(idx, tuple) else idx
    out, expected = fnp.asarray(A)[idx], A[np_idx]
    assert out.shape == expected.shape and out.dtype == expected.dtype
    np.testing.assert_array_equal(np.asarray(out), expected)


@given(data=st.data())
def test_getitem_shapes_match_numpy_on_random_indices(data):
    x = data.draw(numpy_arrays(shapes(min_dims=1, max_dims=4, max_side=3)))
    template, arrays = data.draw(index_templates(x.shape, arrays=data.draw(st.booleans())))
    idx = _fill(template, arrays)
    np.testing.assert_array_equal(np.asarray(fnp.asarray(x)[idx]), x[idx])
    np.testing.assert_array_equal(np.asarray(fnp.asarray(x).at[idx].get()), x[idx])


def test_getitem_zero_dimensional():
    x = fnp.asarray(np.float64(3.0))
    for idx in [(), Ellipsis, None, True, False, (None, Ellipsis)]:
        np.testing.assert_array_equal(np.asarray(x[idx]), np.float64(3.0)[idx])


# ----- x.at[idx] ---------------------------------------------------------------------------------

def test_at_duplicates():
    x = fnp.zeros(4)
    i = [0, 2, 0, 0]
    v = fnp.array([1., 2., 3., 4.])
    np.testing.assert_array_equal(np.asarray(x.at[i].add(v)), [8., 0., 2., 0.])
    assert np.asarray(x.at[i].set(v))[0] in (1., 3., 4.)  # one of them, as in JAX (the last on NumPy)
    np.testing.assert_array_equal(np.asarray(fnp.ones(4).at[i].multiply(v)), [12., 1., 2., 1.])
    np.testing.assert_array_equal(np.asarray(x.at[i].min(v - 2.)), [-1., 0., 0., 0.])
    np.testing.assert_array_equal(np.asarray(x.at[i].max(v - 2.)), [2., 0., 0., 0.])
    np.testing.assert_array_equal(np.asarray(fnp.ones(4).at[i].subtract(1.)), [-2., 1., 0., 1.])
    np.testing.assert_array_equal(np.asarray(fnp.ones(4).at[1].divide(4.)), [1., .25, 1., 1.])


def test_divide_and_power_at_repeated_indices_follow_jax():
    # jax: x / d and x ** e with d, e one but the product of the values given at each index
    v, i = fnp.arange(5.), fnp.array([0, 2, 2])
    np.testing.assert_array_equal(np.asarray(v.at[i].power(2.)), [0., 1., 16., 3., 4.])
    np.testing.assert_array_equal(np.asarray(v.at[i].divide(2.)), [0., 1., .5, 3., 4.])
    x, d = np.float32(0.7151893377304077), np.float32(0.4834415316581726)
    assert np.asarray(fnp.array([x]).at[0].divide(d))[0] == x / d  # a division, not a reciprocal's product
    out = fnp.arange(3).at[1].divide(2)  # an integer x gives a true division's float, as in jax
    assert out.dtype.kind == "f" and np.asarray(out).tolist() == [0., .5, 2.]
    np.testing.assert_array_equal(np.asarray(fnp.arange(4.).at[fnp.array([1, 1, 7])].divide(2., mode="drop")),
                                  [0., .25, 2., 3.])


@given(st.lists(st.integers(0, 4), max_size=12), st.sampled_from(["set", "multiply", "maximum", "minimum"]))
def test_scatter_in_rounds_combines_repeats_in_numpys_order(positions, op):
    # The GPU path of x.at[...]: checked here with numpy as the backend, against numpy itself.
    from fnx.numpy.indexing import scatter_in_rounds
    pos = np.asarray(positions, dtype=np.int64)
    vals = np.arange(1.0, len(pos) + 1) * np.where(np.arange(len(pos)) % 2, -1.0, 1.5)
    expected, got = np.linspace(-2.0, 2.0, 5), np.linspace(-2.0, 2.0, 5)
    if op == "set":
        expected[pos] = vals
    else:
        getattr(np, op).at(expected, pos, vals)
    scatter_in_rounds(np, op, got, pos, vals)
    np.testing.assert_array_equal(got, expected)


def test_at_is_functional_and_broadcasts():
    x = fnp.arange(6.).reshape(2, 3)
    y = x.at[:, 1].set(fnp.array([[7.], [8.]]).reshape(2))
    np.testing.assert_array_equal(np.asarray(x), np.arange(6.).reshape(2, 3))  # unchanged
    np.testing.assert_array_equal(np.asarray(y), [[0., 7., 2.], [3., 8., 5.]])
    np.testing.assert_array_equal(np.asarray(x.at[0].set(1.)), [[1., 1., 1.], [3., 4., 5.]])
    np.testing.assert_array_equal(np.asarray(x.at[x > 2].set(0.)), [[0., 1., 2.], [0., 0., 0.]])
    np.testing.assert_array_equal(np.asarray(x.at[None, 1, [0, 2]].add([[1., 2.]])), [[0., 1., 2.], [4., 4., 7.]])
    assert x.at[0, 0].set(2).dtype == x.dtype  # values take x's dtype
    assert fnp.arange(3).at[0].set(2.7).tolist() == [2, 1, 2]


def test_at_gradients_with_duplicates():
    x = fnp.asarray(np.linspace(0.5, 2.0, 4))
    v = fnp.asarray(np.array([1.5, -0.5, 2.5, 0.7]))
    i = [0, 2, 0, 0]
    for method in ["add", "set", "multiply", "min", "max"]:
        order = 1 if method in ("min", "max") else 2
        check_grads(lambda x, v: getattr(x.at[i], method)(v) ** 2, (x, v), order=order)


def test_set_gradient_goes_to_the_winner_only():
    i = [1, 1]
    gx, gv = fnx.grad(lambda x, v: (x.at[i].set(v) * fnp.arange(3.)).sum(), argnums=(0, 1))(fnp.ones(3), fnp.ones(2))
    np.testing.assert_array_equal(np.asarray(gx), [0., 0., 2.])
    assert sorted(np.asarray(gv).tolist()) == [0., 1.]


def test_multiply_gradient_with_a_zero_update():
    i = [0, 0, 0]
    v = fnp.asarray(np.array([0., 2., 3.]))
    g = fnx.grad(lambda v: fnp.ones(1).at[i].multiply(v).sum())(v)
    np.testing.assert_array_equal(np.asarray(g), [6., 0., 0.])


def test_min_max_ties_share_the_gradient():
    g = fnx.grad(lambda x, v: x.at[[0, 0]].max(v).sum(), argnums=(0, 1))(fnp.ones(1), fnp.ones(2))
    np.testing.assert_allclose(np.asarray(g[0]), [1 / 3])
    np.testing.assert_allclose(np.asarray(g[1]), [1 / 3, 1 / 3])


def test_gradients_through_indexing():
    x = fnp.asarray(np.linspace(-1, 1, 24).reshape(2, 3, 4))
    for idx in [([0, 1, 1], slice(None), [3, 0, 3]), (slice(None), [0, 0]), (Ellipsis, [1, -1]),
                (np.asarray(x) > 0,), (1, slice(None, None, -1), None)]:
        check_grads(lambda x: x[idx] ** 2, (x,), order=2)
    check_grads(lambda x: fnp.take(x, [[0, 5], [5, 5]]), (x,), order=2)


def test_second_derivative_graph_alternates_gather_and_scatter_add():
    x, w = fnp.arange(3.), fnp.arange(2.)
    f = fnx.grad(lambda x: (x[[0, 0]] * w).sum())
    prims = fnx.make_graph(lambda x, w: fnx.grad(lambda x: (x[[0, 0]] * w).sum())(x))(x, w).primitives()
    assert "scatter_add" in prims
    prims = fnx.make_graph(lambda c, w: fnx.vjp(lambda c: fnp.zeros(3).at[[0, 0]].add(c), c)[1](w))(w, x).primitives()
    assert "gather" in prims
    np.testing.assert_array_equal(np.asarray(f(x)), [1., 0., 0.])


def test_float32_gradients_keep_their_dtype():
    x = fnp.ones((3, 3), dtype="float32")
    for f in [lambda x: x[[0, 2]], lambda x: x.at[[0, 0]].add(2.0), lambda x: x.at[1].set(0.0),
              lambda x: x.at[[0, 0]].multiply(2.0), lambda x: x.at[0].max(0.5), lambda x: fnp.take(x, [1, 1])]:
        assert fnx.grad(lambda x: fnp.sum(f(x)))(x).dtype == np.float32
    g = fnx.grad(lambda v: x.at[[0, 0]].set(v).sum())(fnp.ones(3, dtype="float64"))
    assert g.dtype == np.float64


# ----- take, take_along_axis, nonzero ------------------------------------------------------------

def test_take_modes_and_errors():
    a = np.arange(12.).reshape(3, 4)
    for mode in ["raise", "clip", "wrap"]:
        for axis in [None, 0, 1, -1]:
            idx = [[0, 2], [1, 0]] if mode == "raise" else [[-5, 2], [7, 13]]
            np.testing.assert_array_equal(np.asarray(fnp.take(a, idx, axis, mode=mode)),
                                          np.take(a, idx, axis, mode=mode))
    assert fnp.take(a, 5).shape == ()
    with pytest.raises(IndexError, match="take: index 12 is out of bounds for axis 0 with size 12"):
        fnp.take(a, 12)
    with pytest.raises(ValueError, match="take: mode must be"):
        fnp.take(a, 1, mode="nearest")


def test_take_along_axis_matches_numpy():
    a = np.random.default_rng(0).standard_normal((3, 4, 2))
    for axis in [0, 1, 2, -1]:
        idx = np.argsort(a, axis=axis)
        np.testing.assert_array_equal(np.asarray(fnp.take_along_axis(a, idx, axis)), np.take_along_axis(a, idx, axis))
    np.testing.assert_array_equal(np.asarray(fnp.take_along_axis(a, np.array([0, 23]), None)), a.ravel()[[0, 23]])
    with pytest.raises(ShapeError, match="take_along_axis: indices of shape"):
        fnp.take_along_axis(a, np.zeros((2, 2), int), 0)


def test_take_along_axis_takes_jaxs_modes():
    # jax.numpy.take_along_axis's values: negative indices from the end, then clamped or filled
    x, i = fnp.array([[10., 30., 20.], [60., 40., 50.]]), fnp.array([[0, 5], [-1, 2]])
    assert fnp.take_along_axis(x, i, axis=1, mode="clip").tolist() == [[10., 20.], [50., 50.]]
    assert fnp.take_along_axis(x, i, axis=1, mode="fill", fill_value=-1.).tolist() == [[10., -1.], [50., 50.]]
    assert np.isnan(np.asarray(fnp.take_along_axis(x, i, axis=1, mode="fill"))[0, 1])
    with pytest.raises(IndexError):
        fnp.take_along_axis(x, i, axis=1)


def test_nonzero_family():
    a = np.array([[0, 1, 0], [2, 0, 3]])
    for out, expected in zip(fnp.nonzero(a), np.nonzero(a)):
        np.testing.assert_array_equal(np.asarray(out), expected)
        assert out.dtype == expected.dtype
    np.testing.assert_array_equal(np.asarray(fnp.argwhere(a)), np.argwhere(a))
    np.testing.assert_array_equal(np.asarray(fnp.flatnonzero(a)), np.flatnonzero(a))
    np.testing.assert_array_equal(np.asarray(fnp.compress([True, False, True], a, axis=1)),
                                  np.compress([True, False, True], a, axis=1))
    np.testing.assert_array_equal(np.asarray(fnp.where(a > 0)[1]), np.where(a > 0)[1])
    with pytest.raises(ValueError, match="nonzero: calling nonzero on a 0-d array"):
        fnp.nonzero(fnp.asarray(1.0))


def test_nonzero_and_masks_refuse_traced_values():
    with pytest.raises(TracerError, match="nonzero: the value is traced by make_graph.*shape"):
        fnx.make_graph(fnp.nonzero)(fnp.ones(3))
    with pytest.raises(TracerError, match="getitem: a boolean mask traced by make_graph"):
        fnx.make_graph(lambda x: x[x > 0])(fnp.ones(3))
    with pytest.raises(TracerError, match="x.at\\[idx\\].set: a boolean mask traced"):
        fnx.make_graph(lambda x: x.at[x > 0].set(0.))(fnp.ones(3))
    # A mask computed from a differentiated value is concrete: comparisons carry no derivative.
    g = fnx.grad(lambda x: (x[x > 0] ** 2).sum())(fnp.array([-1., 2., 3.]))
    np.testing.assert_array_equal(np.asarray(g), [0., 4., 6.])


# ----- errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("idx,match", [
    (3, "index 3 is out of bounds for axis 0 with size 3"),
    ((0, -5), "index -5 is out of bounds for axis 1 with size 4"),
    (([0, 3],), "index 3 is out of bounds for axis 0 with size 3"),
    ((slice(None), [[-5]]), "index -5 is out of bounds for axis 1"),
    ((0, 0, 0), "too many indices"),
    ((Ellipsis, Ellipsis), "single ellipsis"),
    (([0, 1], [0, 1, 2]), r"shape mismatch: indexing arrays could not be broadcast together with shapes \(2,\) \(3,\)"),
    (([True, False],), "boolean index did not match indexed array along axis 0; size of axis is 3"),
    (([0.5],), "arrays used as indices must be of integer"),
    ("a", "only integers, slices"),
    (1.0, "only integers, slices"),
])
def test_index_errors(idx, match):
    x = fnp.ones((3, 4))
    with pytest.raises(IndexError, match=match):
        x[idx]
    with pytest.raises(IndexError, match=match):
        x.at[idx].set(0.)


def test_setitem_points_to_at():
    x = fnp.ones(3)
    with pytest.raises(ImmutableError, match=r"x.at\[idx\].set\(y\)") as info:
        x[0] = 2.
    assert isinstance(info.value, TypeError)


def test_update_value_shape_errors():
    with pytest.raises(ShapeError, match=r"x.at\[idx\].add: values of shape \(3,\) cannot be broadcast to the "
                                         r"indexed shape \(2,\)"):
        fnp.zeros(4).at[[0, 1]].add(fnp.ones(3))


# ----- vmap ------------------------------------------------------------------------------------
# Per-example x has shape (4, 5, 2); index values in [-2, 1] are valid on every axis. The batch
# (of 3) goes on x, the index arrays and the values in every combination, at various axes.

VMAP_INDICES = [(ARR,), (slice(None), ARR), (ARR, slice(None), 1), (1, slice(None), ARR), (slice(None), 1, ARR),
                (Ellipsis, ARR), (ARR, None), (ARR, ARR), (slice(1, None), ARR, ARR), (ARR, slice(None), ARR),
                (None, ARR, slice(None, None, -1), ARR), (slice(None), ARR, ARR), (0, ARR, 1)]


def _vmap_inputs(template, seed=0):
    rng = np.random.default_rng(seed)
    n = template.count(ARR)
    arrays = [rng.integers(-2, 2, (3, 2, 3) if k == 0 else (3, 3)) for k in range(n)]
    return rng.standard_normal((3, 4, 5, 2)), arrays


def _moved(a, ax):
    return fnp.asarray(a if ax is None or ax == 0 else np.moveaxis(a, 0, ax))


def _example(a, ax):
    return fnp.asarray(a[0] if ax is None else a)


@pytest.mark.parametrize("template", VMAP_INDICES, ids=str)
def test_vmap_getitem_matches_a_loop(template):
    x, arrays = _vmap_inputs(template)

    def f(x, *a):
        return x[_fill(template, a)]
    for x_ax in [None, 0, 2, -1]:
        for i_ax in [None, 0, -1]:
            for first_only in [False, True]:
                if x_ax is None and i_ax is None:
                    continue
                i_axes = [i_ax if k == 0 or not first_only else None for k in range(len(arrays))]
                args = [_moved(x, x_ax) if x_ax is not None else fnp.asarray(x[0])]
                args += [_moved(a, ax) if ax is not None else fnp.asarray(a[0]) for a, ax in zip(arrays, i_axes)]
                check_vmap(f, tuple(args), in_axes=(x_ax, *i_axes))


_AXES = [(0, None, None), (None, 0, None), (None, None, 0), (1, 0, None), (None, -1, 0), (-1, None, -1), (2, 0, 0),
         (0, -1, 0), (None, 0, 0)]


@pytest.mark.parametrize("method", ["set", "add", "multiply", "min", "max"])
@pytest.mark.parametrize("template", VMAP_INDICES, ids=str)
def test_vmap_at_updates_match_a_loop(template, method):
    x, arrays = _vmap_inputs(template)
    rng = np.random.default_rng(1)
    v = rng.standard_normal((3,) + np.empty(x.shape[1:])[_fill(template, [a[0] for a in arrays])].shape)

    def f(x, v, *a):
        return getattr(x.at[_fill(template, a)], method)(v)
    for x_ax, v_ax, i_ax in _AXES:
        args = [x[0] if x_ax is None else _moved(x, x_ax), v[0] if v_ax is None else _moved(v, v_ax)]
        args += [a[0] if i_ax is None else _moved(a, i_ax) for a in arrays]
        check_vmap(f, tuple(fnp.asarray(a) for a in args), in_axes=(x_ax, v_ax) + (i_ax,) * len(arrays))


def test_vmap_take_and_take_along_axis():
    x = fnp.asarray(np.random.default_rng(0).standard_normal((3, 4, 5)))
    i = fnp.asarray(np.array([[0, 3, -1], [2, 2, 1], [3, 0, -4]]))
    far = fnp.asarray(np.array([[0, 9, -7], [2, 4, 1], [3, 0, -40]]))
    for mode, i in [("raise", i), ("clip", far), ("wrap", far)]:
        check_vmap(lambda x, i: fnp.take(x, i, axis=1, mode=mode), (x, i), in_axes=(0, 0))
        check_vmap(lambda x, i: fnp.take(x, i, mode=mode), (fnp.moveaxis(x, 0, 2), fnp.transpose(i)), in_axes=(2, 1))
    order = fnp.asarray(np.argsort(np.asarray(x), axis=-1))
    check_vmap(lambda x, i: fnp.take_along_axis(x, i, axis=-1), (x, order), in_axes=(1, 1))
    rows = fnp.asarray(np.moveaxis(np.argsort(np.asarray(x), axis=1), 0, 2))
    check_vmap(lambda x, i: fnp.take_along_axis(x, i, axis=0), (x[0], rows), in_axes=(None, 2))


def test_vmap_of_an_index_is_one_gather_or_scatter():
    x, i = fnp.ones((3, 4, 5)), fnp.asarray(np.array([[0, 1], [2, 3], [1, 1]]))
    prims = fnx.make_graph(fnx.vmap(lambda x, i: x[:, i]))(x, i).primitives()
    assert prims.count("gather") == 1, prims
    prims = fnx.make_graph(fnx.vmap(lambda x, i: x.at[1, i].add(1.0), in_axes=(2, 0)))(fnp.ones((4, 5, 3)),
                                                                                        i).primitives()
    assert prims.count("scatter_add") == 1 and "gather" not in prims, prims


def test_nested_vmap_of_indexing():
    rng = np.random.default_rng(0)
    x = fnp.asarray(rng.standard_normal((2, 3, 4, 5)))
    i = fnp.asarray(rng.integers(0, 4, (2, 3, 6)))
    v = fnp.asarray(rng.standard_normal((3, 6, 5)))

    def f(x, i, v):
        return x[i] * 2.0 + x.at[i].add(v)[0]

    inner = fnx.vmap(f, in_axes=(0, 0, 0))
    check_vmap(inner, (x, i, v), in_axes=(0, 0, None))
    check_vmap(fnx.vmap(f, in_axes=(0, None, 0)), (fnp.moveaxis(x, 0, 2), i[0, 0], v), in_axes=(2, None, None))


def _indexing_loss(x, i, v):
    y = x[i] * v + x.at[i].multiply(v)[:3] - x.at[i].set(v ** 2)[-1]
    return fnp.sum(fnp.sin(y) + x.at[i].max(v)[1] ** 2)


def test_vmap_of_grad_of_indexing_matches_a_loop():
    rng = np.random.default_rng(0)
    x = fnp.asarray(rng.standard_normal((3, 4, 2)))
    i = fnp.asarray(rng.integers(0, 4, (3, 3)))
    v = fnp.asarray(rng.standard_normal((3, 3, 2)))
    grads = fnx.grad(_indexing_loss, argnums=(0, 2))
    check_vmap(grads, (x, i, v), in_axes=(0, 0, 0))
    check_vmap(grads, (x[0], i, v), in_axes=(None, 0, 0))
    check_vmap(grads, (x, i[0], v), in_axes=(0, None, 0))
    check_vmap(grads, (x, i, v[0]), in_axes=(0, 0, None))


def test_grad_of_vmap_of_indexing():
    rng = np.random.default_rng(1)
    x = fnp.asarray(rng.standard_normal((3, 4, 2)))
    i = fnp.asarray(rng.integers(0, 4, (3, 3)))
    v = fnp.asarray(rng.standard_normal((3, 3, 2)))
    for in_axes in [(0, 0, 0), (None, 0, 0), (0, None, 0), (0, 0, None)]:
        batched = fnx.vmap(_indexing_loss, in_axes=in_axes)
        xs, vs = (x[0] if in_axes[0] is None else x), (v[0] if in_axes[2] is None else v)
        is_ = i[0] if in_axes[1] is None else i
        check_grads(lambda x, v: batched(x, is_, v), (xs, vs), order=1)
        check_grads(lambda x: fnp.sum(fnx.vmap(lambda x, i: x[i] ** 2, in_axes=in_axes[:2])(x, is_)), (xs,), order=2)


def test_boolean_masks_under_vmap_name_vmap():
    x = fnp.ones((3, 4))
    m = fnp.asarray(np.array([[True, False, True, True]] * 3))
    with pytest.raises(TracerError, match="getitem: a boolean mask traced by vmap .*each example could select"):
        fnx.vmap(lambda x, m: x[m])(x, m)
    with pytest.raises(TracerError, match=r"x.at\[idx\].set: a boolean mask traced by vmap.*where\(mask, values, x\)"):
        fnx.vmap(lambda x, m: x.at[m].set(0.0))(x, m)
    with pytest.raises(TracerError, match="nonzero: the value is traced by vmap"):
        fnx.vmap(fnp.nonzero)(m)
    # A mask that is the same for every example is concrete, and works.
    mask = np.array([True, False, True, True])
    check_vmap(lambda x: x[mask] + x.at[mask].set(2.0)[:3], (fnp.asarray(np.arange(12.).reshape(3, 4)),))


# ----- put_along_axis, unravel_index, ravel_multi_index, bincount ----------------------------------------


def _numpy_put(x, i, v, axis):
    out = x.copy()
    np.put_along_axis(out, i, v, axis)
    return out


def test_put_along_axis_matches_numpy():
    x = np.arange(12.).reshape(3, 4)
    for i, v, axis in [(np.array([[1], [0], [3]]), 99., 1),
                       (np.array([[0, 2, 1, 1]]), np.array([[-1., -2., -3., -4.]]), 0),
                       (np.array([[0, 3], [1, 2], [2, 1]]), np.array([[5.], [6.], [7.]]), -1),
                       (np.array([0, 5, 11]), 7., None)]:
        out = fnp.put_along_axis(fnp.asarray(x), fnp.asarray(i), v, axis, inplace=False)
        assert out.shape == x.shape and out.dtype == x.dtype
        np.testing.assert_array_equal(out, _numpy_put(x, i, v, axis))
    with pytest.raises(ImmutableError, match="inplace=False"):
        fnp.put_along_axis(fnp.asarray(x), fnp.asarray(np.array([[1], [0], [3]])), 1., 1)
    with pytest.raises(ShapeError, match="put_along_axis"):
        fnp.put_along_axis(fnp.asarray(x), fnp.array([1, 2]), 1., 1, inplace=False)


def test_put_along_axis_gradients():
    i = fnp.array([[1], [0], [3]])
    x = fnp.asarray(np.arange(12.).reshape(3, 4) / 5)
    check_grads(lambda x, v: fnp.put_along_axis(x, i, v, axis=1, inplace=False),
                (x, fnp.asarray(np.array([[0.5], [1.5], [-2.0]]))), order=2)
    g = fnx.grad(lambda x: fnp.sum(fnp.put_along_axis(x, i, 0., axis=1, inplace=False)))(x)
    np.testing.assert_array_equal(g, np.ones((3, 4)) - (np.arange(4) == np.array([[1], [0], [3]])))


def test_unravel_and_ravel_multi_index_match_numpy():
    flat = np.array([0, 5, 11, 23, 17])
    for order in ("C", "F"):
        out, expected = fnp.unravel_index(fnp.asarray(flat), (2, 3, 4), order=order), np.unravel_index(flat, (2, 3, 4),
                                                                                                        order=order)
        for o, e in zip(out, expected):
            assert o.dtype == e.dtype
            np.testing.assert_array_equal(o, e)
        back = fnp.ravel_multi_index(out, (2, 3, 4), order=order)
        np.testing.assert_array_equal(back, np.ravel_multi_index(expected, (2, 3, 4), order=order))
    idx = (np.array([-1, 5, 2]), np.array([2, 7, -3]))
    for mode in ("wrap", "clip", ("clip", "wrap")):
        np.testing.assert_array_equal(fnp.ravel_multi_index(tuple(map(fnp.asarray, idx)), (3, 4), mode=mode),
                                      np.ravel_multi_index(idx, (3, 4), mode=mode))
    np.testing.assert_array_equal(fnp.unravel_index(7, (3, 4)), np.unravel_index(7, (3, 4)))
    with pytest.raises(ValueError, match="unravel_index"):
        fnp.unravel_index(fnp.array([12]), (3, 4))
    with pytest.raises(ValueError, match="ravel_multi_index"):
        fnp.ravel_multi_index((fnp.array([3]), fnp.array([0])), (3, 4))
    check_vmap(lambda i: fnp.unravel_index(i, (3, 4)), (fnp.array([[1, 7], [11, 0]]),))


def test_bincount_matches_numpy():
    x = np.array([0, 1, 1, 5, 3, 1])
    w = np.array([0.5, 1.0, 2.0, 3.0, -1.0, 0.25])
    for kw in ({}, {"minlength": 9}, {"minlength": 2}):
        out, expected = fnp.bincount(fnp.asarray(x), **kw), np.bincount(x, **kw)
        assert out.dtype == expected.dtype
        np.testing.assert_array_equal(out, expected)
        np.testing.assert_allclose(fnp.bincount(fnp.asarray(x), fnp.asarray(w), **kw), np.bincount(x, w, **kw))
    assert fnp.bincount(fnp.asarray(x), fnp.asarray(w.astype(np.float32))).dtype == np.float32  # kept, not float64
    np.testing.assert_array_equal(fnp.bincount(fnp.asarray(x), length=3), [1, 3, 0])  # values past length dropped
    np.testing.assert_array_equal(fnp.bincount(fnp.zeros(0, dtype="int64")), np.bincount(np.zeros(0, np.int64)))
    with pytest.raises(ValueError, match="non-negative"):
        fnp.bincount(fnp.array([1, -1]))
    with pytest.raises(TypeError, match="bincount"):
        fnp.bincount(fnp.array([1., 2.]))


def test_bincount_under_transforms():
    x = fnp.array([[0, 1, 1], [2, 2, 0]])
    np.testing.assert_array_equal(fnx.vmap(lambda v: fnp.bincount(v, length=3))(x), [[1, 2, 0], [1, 0, 2]])
    with pytest.raises(TracerError, match="bincount.*length="):
        fnx.vmap(fnp.bincount)(x)
    g = fnx.grad(lambda w: fnp.sum(fnp.bincount(fnp.array([0, 2, 2]), w) ** 2))(fnp.array([1., 2., 3.]))
    np.testing.assert_array_equal(g, [2., 10., 10.])


def test_a_range_indexes_as_numpy_reads_it():
    a = np.arange(12.0).reshape(3, 4)
    x, labels = fnp.asarray(a), [1, 0, 3]
    for idx in ((range(3), labels), range(2), (slice(None), range(1, 3)), range(0), (range(2, -1, -1),)):
        np.testing.assert_array_equal(np.asarray(x[idx]), a[idx])
    g = fnx.grad(lambda v: -v[range(3), fnp.asarray(labels)].mean())(x)  # the hand-written NLL of PyTorch's tutorial
    want = np.zeros_like(a)
    want[range(3), labels] = -1 / 3
    np.testing.assert_allclose(np.asarray(g), want)


def test_compress_choose_and_argpartition_methods_as_numpys():
    a, n = fnp.asarray([3, 1, 2]), np.array([3, 1, 2])
    assert a.compress([True, False, True]).tolist() == n.compress([True, False, True]).tolist()  # condition first
    choices = [[1, 2, 3], [4, 5, 6]]
    assert fnp.asarray([0, 1, 0]).choose(fnp.asarray(choices)).tolist() == np.array([0, 1, 0]).choose(choices).tolist()
    assert int(a[a.argpartition(1)[1]]) == 2
