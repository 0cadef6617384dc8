"""Reductions: cases for the registry-wide checks, dtypes against NumPy, ties, zeros and NaNs."""
import numpy as np
import pytest
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fnx
import fnx.numpy as fnp
from fnx.errors import ImmutableError, ShapeError
from fnx.testing import check_grads, check_vmap
from .harness import Case, numpy_arrays, shapes, two_broadcasting


def reduced(arrays=None, keepdims=True, single=False):
    """Args strategy: the arrays of ``arrays`` (one float64 array by default), an axis and keepdims.

    The axis is valid for the arrays' broadcast shape: None, an int (possibly
    negative) or, unless ``single``, a tuple whose entries may be negative too.
    """
    arrays = st.tuples(numpy_arrays()) if arrays is None else arrays

    def build(xs):
        nd = len(np.broadcast_shapes(*[x.shape for x in xs]))
        axis = st.none()
        if nd:
            ints = st.integers(-nd, nd - 1)
            axis = st.one_of(st.none(), ints) if single else st.one_of(
                st.none(), ints, st.lists(ints, min_size=1, max_size=nd, unique_by=lambda a: a % nd).map(tuple))
        return st.tuples(*map(st.just, xs), axis, st.booleans() if keepdims else st.just(False))
    return arrays.flatmap(build)


def _slices(x, axis):
    """``x`` with the reduced axes moved last and flattened: one row per reduced slice."""
    axes = tuple(range(x.ndim)) if axis is None else tuple(np.atleast_1d(np.array(axis)) % max(x.ndim, 1))
    kept = [i for i in range(x.ndim) if i not in axes]
    return np.transpose(x, kept + list(axes)).reshape(int(np.prod([x.shape[i] for i in kept])), -1)


def _apart(x, *rest):
    """No two values closer than 1e-3, so max, min and sort are differentiable at the draw."""
    v = np.sort(x.ravel())
    return bool(np.all(np.diff(v) > 1e-3))


def _prod_regular(x, axis, keepdims):
    """Where prod's second derivative is exact: at most one zero per slice, and no tiny nonzero values.

    Near a tiny ``x`` its ``out / x`` form adds two terms of size 1/x that cancel,
    which drowns the rest of the sum in rounding (exact zeros are handled apart).
    """
    return bool(np.all((_slices(x, axis) == 0).sum(axis=1) <= 1)) and bool(np.all((x == 0) | (np.abs(x) > 1e-3)))


def _spread(x, axis, keepdims, ddof=0):
    """Every slice varies (std's derivative blows up at zero variance) and has more than ddof elements."""
    s = _slices(x, axis)
    return s.shape[1] > ddof + 1 and bool(np.all(s.var(axis=1) > 1e-2))


def _some_number(x, axis, keepdims):
    return bool(np.all((~np.isnan(_slices(x, axis))).any(axis=1)))


def _with_nans():
    elements = st.one_of(st.floats(-3, 3), st.just(np.nan))
    return st.tuples(hnp.arrays(np.float64, shapes(), elements=elements))


def _distinct():
    return st.tuples(hnp.arrays(np.float64, shapes(), elements=st.floats(-3, 3), unique=True))


_NONZERO = st.tuples(st.floats(0.3, 2), st.booleans()).map(lambda p: -p[0] if p[1] else p[0])


def _small(min_dims=0, elements=st.floats(-2, 2)):
    """Arrays of at most 9 elements (in [-2, 2] by default): products small enough for finite differences."""
    shape = st.one_of(shapes(min_dims, max_dims=3, max_side=2), shapes(min_dims, max_dims=2, max_side=3))
    return hnp.arrays(np.float64, shape, elements=elements)


def _cumulative(arrays=None):
    def build(x):
        axis = st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1))
        return st.tuples(st.just(x), axis)
    return (numpy_arrays(min_dims=1) if arrays is None else arrays).flatmap(build)


def _weighted():
    def build(x):
        axis = st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1))
        return st.tuples(st.just(x), numpy_arrays(st.just(x.shape), domain="positive"), axis)
    return numpy_arrays(min_dims=1).flatmap(build)


def _logical():
    values = st.sampled_from([0.0, 1.0, -2.5])
    return reduced(st.tuples(hnp.arrays(np.float64, shapes(), elements=values)))


CASES = [
    Case("reduce_sum", lambda x, ax, kd: fnp.sum(x, ax, keepdims=kd),
         lambda x, ax, kd: np.sum(x, ax, keepdims=kd), reduced()),
    Case("reduce_sum", lambda x, y, ax, kd: fnp.sum(x * y, ax, keepdims=kd),
         lambda x, y, ax, kd: np.sum(x * y, ax, keepdims=kd), reduced(two_broadcasting()), diff=(0, 1),
         name="sum_of_broadcast"),
    Case("reduce_sum", lambda x, ax, kd: fnp.mean(x, ax, keepdims=kd),
         lambda x, ax, kd: np.mean(x, ax, keepdims=kd), reduced(), name="mean"),
    Case("reduce_sum", lambda x, ax, kd, ddof: fnp.var(x, ax, ddof=ddof, keepdims=kd),
         lambda x, ax, kd, ddof: np.var(x, ax, ddof=ddof, keepdims=kd),
         reduced().flatmap(lambda a: st.tuples(*map(st.just, a), st.integers(0, 1))),
         valid=_spread, name="var"),
    Case("reduce_sum", lambda x, ax, kd, ddof: fnp.std(x, ax, ddof=ddof, keepdims=kd),
         lambda x, ax, kd, ddof: np.std(x, ax, ddof=ddof, keepdims=kd),
         reduced().flatmap(lambda a: st.tuples(*map(st.just, a), st.integers(0, 1))),
         valid=_spread, name="std"),
    Case("reduce_sum", lambda x, ax, kd: fnp.nansum(x, ax, keepdims=kd),
         lambda x, ax, kd: np.nansum(x, ax, keepdims=kd), reduced(_with_nans()), name="nansum"),
    Case("reduce_sum", lambda x, ax, kd: fnp.nanmean(x, ax, keepdims=kd),
         lambda x, ax, kd: np.nanmean(x, ax, keepdims=kd), reduced(_with_nans()),
         valid=_some_number, name="nanmean"),
    Case("reduce_sum", lambda x, w, ax: fnp.average(x, ax, weights=w),
         lambda x, w, ax: np.average(x, ax, weights=w), _weighted(), diff=(0, 1), name="average"),
    Case("reduce_sum", lambda x, ax, kd: fnp.count_nonzero(x, ax, keepdims=kd),
         lambda x, ax, kd: np.asarray(np.count_nonzero(x, ax, keepdims=kd), np.int64), _logical(),
         grad=False, name="count_nonzero"),
    Case("reduce_prod", lambda x, ax, kd: fnp.prod(x, ax, keepdims=kd),
         lambda x, ax, kd: np.prod(x, ax, keepdims=kd), reduced(st.tuples(_small())), valid=_prod_regular),
    Case("reduce_max", lambda x, ax, kd: fnp.max(x, ax, keepdims=kd),
         lambda x, ax, kd: np.max(x, ax, keepdims=kd), reduced(_distinct()), valid=_apart, order=2),
    Case("reduce_min", lambda x, ax, kd: fnp.min(x, ax, keepdims=kd),
         lambda x, ax, kd: np.min(x, ax, keepdims=kd), reduced(_distinct()), valid=_apart, order=2),
    Case("reduce_max", lambda x, ax, kd: fnp.ptp(x, ax, keepdims=kd),
         lambda x, ax, kd: np.ptp(x, ax, keepdims=kd), reduced(_distinct()), valid=_apart, order=2, name="ptp"),
    Case("argmax", lambda x, ax, kd: fnp.argmax(x, ax, keepdims=kd),
         lambda x, ax, kd: np.argmax(x, ax, keepdims=kd), reduced(single=True), grad=False),
    Case("argmin", lambda x, ax, kd: fnp.argmin(x, ax, keepdims=kd),
         lambda x, ax, kd: np.argmin(x, ax, keepdims=kd), reduced(single=True), grad=False),
    Case("reduce_all", lambda x, ax, kd: fnp.all(x, ax, keepdims=kd),
         lambda x, ax, kd: np.all(x, ax, keepdims=kd), _logical(), grad=False),
    Case("reduce_any", lambda x, ax, kd: fnp.any(x, ax, keepdims=kd),
         lambda x, ax, kd: np.any(x, ax, keepdims=kd), _logical(), grad=False),
    Case("cumsum", fnp.cumsum, np.cumsum, _cumulative()),
    Case("cumprod", fnp.cumprod, np.cumprod, _cumulative(_small(1))),  # zeros too: its rules divide by nothing
]

# ----- dtypes ---------------------------------------------------------------------------------

DTYPES = ["bool", "int8", "int32", "uint8", "uint32", "int64", "float16", "float32", "float64"]

FUNCTIONS = {
    "sum": {}, "prod": {}, "mean": {}, "var": {}, "std": {}, "max": {}, "min": {}, "amax": {}, "amin": {},
    "argmax": {}, "argmin": {}, "all": {}, "any": {}, "cumsum": {}, "cumprod": {}, "nansum": {},
    "nanmean": {}, "ptp": {}, "average": {}, "count_nonzero": {"axis": 0},
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_dtype_matches_numpy(name, dtype):
    x = np.array([[1, 0, 1], [1, 1, 0]]).astype(dtype)
    try:
        expected = np.asarray(getattr(np, name)(x, **FUNCTIONS[name]))
    except TypeError:
        with pytest.raises(TypeError):
            getattr(fnp, name)(fnp.asarray(x), **FUNCTIONS[name])
        return
    for axis in ({}, {"axis": 1}) if name != "count_nonzero" else ({},):
        out = getattr(fnp, name)(fnp.asarray(x), **{**FUNCTIONS[name], **axis})
        expected = np.asarray(getattr(np, name)(x, **{**FUNCTIONS[name], **axis}))
        assert out.dtype == expected.dtype and out.shape == expected.shape, (out.dtype, expected.dtype)
        np.testing.assert_allclose(np.asarray(out, np.float64), expected.astype(np.float64), rtol=1e-3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
def test_fast_path_and_traced_path_agree(name, dtype):
    """sum, mean, max and min skip bind for plain arrays; traced, they bind primitives. Same answer."""
    x = fnp.asarray(np.array([[1, 0, 1], [1, 1, 0]]).astype(dtype))
    for axis in (None, 0, (0, -1)):
        def f(x):
            return getattr(fnp, name)(x, axis=axis, keepdims=True)
        eager, graph = f(x), fnx.make_graph(f)(x)
        traced = graph(x)
        assert len(graph) > 0 and traced.dtype == eager.dtype and traced.shape == eager.shape
        np.testing.assert_allclose(np.asarray(traced, np.float64), np.asarray(eager, np.float64), rtol=1e-3)


@pytest.mark.parametrize("dtype", ["int32", "float32", "bool"])
def test_dtype_argument(dtype):
    x = np.arange(6).reshape(2, 3) % 3
    for name in ("sum", "prod", "mean", "var", "std", "cumsum", "cumprod"):
        if dtype == "bool" and name in ("var", "std"):
            continue  # numpy subtracts booleans there; fnx refuses, as numpy.subtract does
        for axis in (None, 0):
            try:
                expected = getattr(np, name)(x, axis=axis, dtype=dtype)
            except TypeError:  # numpy's std cannot write the root of an int32 array back as int32
                continue
            out = getattr(fnp, name)(fnp.asarray(x), axis=axis, dtype=dtype)
            assert out.dtype == expected.dtype, name
            np.testing.assert_allclose(out, expected, rtol=1e-6, err_msg=name)


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "max", "min", "var", "std", "nansum", "nanmean", "ptp",
                                  "cumsum", "average"])
def test_float32_gradient_keeps_float32(name):
    x = fnp.array([[1.5, -2.0, 0.5], [3.0, 1.0, -1.0]], dtype="float32")
    g = fnx.grad(lambda x: fnp.sum(getattr(fnp, name)(x, axis=1)))(x)
    assert g.dtype == np.float32, g.dtype

# ----- sum and mean -------------------------------------------------------------------------


def test_sum_options():
    x = np.arange(12.).reshape(3, 4)
    w = x % 3 != 0
    np.testing.assert_allclose(fnp.sum(fnp.asarray(x), axis=(0, -1), keepdims=True), np.sum(x, (0, -1), keepdims=True))
    np.testing.assert_allclose(fnp.sum(fnp.asarray(x), axis=1, initial=5.), np.sum(x, 1, initial=5.))
    np.testing.assert_allclose(fnp.sum(fnp.asarray(x), axis=0, where=w), np.sum(x, 0, where=w))
    np.testing.assert_allclose(fnp.mean(fnp.asarray(x), axis=1, where=w), np.mean(x, 1, where=w))
    assert fnp.mean(fnp.asarray(x.astype(np.float32)), axis=1, where=w).dtype == np.float32


def test_sum_where_gradient_is_the_mask():
    w = fnp.array([True, False, True])
    g = fnx.grad(lambda x: fnp.sum(x, where=w))(fnp.array([1., 2., 3.]))
    np.testing.assert_array_equal(g, [1., 0., 1.])


def test_reductions_of_0d_arrays():
    x = fnp.array(2.5)
    assert fnp.sum(x, axis=0).shape == () and fnp.max(x).shape == () and fnp.var(x) == 0
    assert fnp.cumsum(x).shape == (1,)


def test_out_is_refused():
    for name in ("sum", "mean", "prod", "max", "argmax", "var", "all", "cumsum"):
        with pytest.raises(ImmutableError, match=name):
            getattr(fnp, name)(fnp.ones(3), out=np.empty(()))


def test_bad_axis_names_the_op():
    with pytest.raises(np.exceptions.AxisError, match="sum"):
        fnp.sum(fnp.ones((2, 3)), axis=2)
    with pytest.raises(np.exceptions.AxisError, match="prod"):
        fnp.prod(fnp.ones((2, 3)), axis=-3)
    with pytest.raises(ValueError, match="max: repeated axis"):
        fnp.max(fnp.ones((2, 3)), axis=(1, -1))
    with pytest.raises(TypeError, match="argmax"):
        fnp.argmax(fnp.ones((2, 3)), axis=(0, 1))
    with pytest.raises(ValueError, match="argmin"):
        fnp.argmin(fnp.ones((0,)))
    with pytest.raises(ValueError, match="max: reducing an empty axis"):
        fnp.max(fnp.ones((0, 2)))


def test_extrema_of_empty_axes():
    x = np.ones((0, 2))
    for axis in (None, 0, 1):
        for kd in (False, True):
            out = fnp.min(fnp.asarray(x), axis=axis, keepdims=kd, initial=3.)
            expected = np.min(x, axis=axis, keepdims=kd, initial=3.)
            assert out.shape == expected.shape and out.dtype == expected.dtype
            np.testing.assert_array_equal(out, expected)
    assert fnp.max(fnp.asarray(x), axis=1).shape == (0,)

# ----- extrema: ties share the gradient ---------------------------------------------------------


def test_max_ties_split_the_gradient():
    np.testing.assert_array_equal(fnx.grad(fnp.max)(fnp.array([1., 1.])), [0.5, 0.5])
    np.testing.assert_allclose(fnx.grad(fnp.min)(fnp.array([2., 1., 1., 1.])), [0., 1 / 3, 1 / 3, 1 / 3], rtol=1e-6)
    x = fnp.array([[1., 3., 3.], [2., 0., -1.]])
    g = fnx.grad(lambda x: fnp.sum(fnp.max(x, axis=1) * fnp.array([1., 10.])))(x)
    np.testing.assert_array_equal(g, [[0., 0.5, 0.5], [10., 0., 0.]])


def test_max_tie_forward_mode_averages_the_tangents():
    _, t = fnx.jvp(fnp.max, (fnp.array([4., 4., 1.]),), (fnp.array([1., 3., 7.]),))
    assert float(t) == 2.0


def test_max_initial_and_where():
    x = np.array([[1., 5.], [-3., 2.]])
    w = np.array([[True, False], [False, False]])
    np.testing.assert_array_equal(fnp.max(fnp.asarray(x), axis=1, initial=0.), np.max(x, 1, initial=0.))
    np.testing.assert_array_equal(fnp.min(fnp.asarray(x), axis=1, where=w, initial=9.),
                                  np.min(x, 1, where=w, initial=9.))
    with pytest.raises(ValueError, match="max: where= needs initial="):
        fnp.max(fnp.asarray(x), where=w)


def test_argmax_keepdims_and_first_occurrence():
    x = np.array([[1, 7, 7], [9, 0, 9]])
    for axis in (None, 0, 1, -1):
        for kd in (False, True):
            out = fnp.argmax(fnp.asarray(x), axis=axis, keepdims=kd)
            np.testing.assert_array_equal(out, np.argmax(x, axis=axis, keepdims=kd))
            assert out.dtype == np.int64


def test_argmax_inside_grad_is_a_constant():
    def f(x):
        return fnp.sum(x) * fnp.argmax(x).astype("float32")
    np.testing.assert_array_equal(fnx.grad(f)(fnp.array([1., 5., 2.])), [1., 1., 1.])

# ----- prod: zeros ---------------------------------------------------------------------------------


def test_prod_gradient_with_one_zero():
    np.testing.assert_array_equal(fnx.grad(fnp.prod)(fnp.array([2., 0., 3.])), [0., 6., 0.])
    x = fnp.array([[2., 0., 3.], [1., 4., -2.]], dtype="float64")
    g = fnx.grad(lambda x: fnp.sum(fnp.prod(x, axis=1)))(x)
    np.testing.assert_array_equal(g, [[0., 6., 0.], [-8., -2., 4.]])
    check_grads(lambda x: fnp.prod(x, axis=1), (x,), order=2)
    check_grads(lambda x: fnp.prod(x, axis=0), (x,), order=2)


def test_prod_gradient_with_several_zeros():
    np.testing.assert_array_equal(fnx.grad(fnp.prod)(fnp.array([0., 5., 0.])), [0., 0., 0.])
    check_grads(fnp.prod, (fnp.array([0., 5., 0., 2.], dtype="float64"),), order=1)
    check_grads(lambda x: fnp.prod(x, axis=0), (fnp.array([[0., 1.], [0., 3.]], dtype="float64"),), order=1)


def test_prod_initial_and_where():
    x = np.array([[2., 3.], [4., 5.]])
    w = np.array([[True, False], [True, True]])
    np.testing.assert_array_equal(fnp.prod(fnp.asarray(x), axis=1, initial=2.), np.prod(x, 1, initial=2.))
    np.testing.assert_array_equal(fnp.prod(fnp.asarray(x), axis=1, where=w), np.prod(x, 1, where=w))

# ----- statistics ------------------------------------------------------------------------------------


def test_var_options():
    x = np.array([[1., 2., 4.], [3., 3., 9.]])
    w = np.array([[True, False, True], [True, True, True]])
    fx = fnp.asarray(x)
    np.testing.assert_allclose(fnp.var(fx, axis=1, ddof=1), np.var(x, 1, ddof=1))
    np.testing.assert_allclose(fnp.var(fx, correction=1), np.var(x, correction=1))
    np.testing.assert_allclose(fnp.var(fx, axis=1, where=w, keepdims=True), np.var(x, 1, where=w, keepdims=True))
    np.testing.assert_allclose(fnp.std(fx, axis=0, where=w, ddof=1), np.std(x, 0, where=w, ddof=1))
    mu = np.mean(x, axis=1, keepdims=True)
    np.testing.assert_allclose(fnp.var(fx, axis=1, mean=fnp.asarray(mu)), np.var(x, 1, mean=mu))
    with pytest.raises(ValueError, match="var: give ddof or correction"):
        fnp.var(fx, ddof=1, correction=1)


def test_var_of_complex_is_real():
    x = np.array([1 + 1j, 2 - 1j, 0.5j], np.complex64)
    out = fnp.var(fnp.asarray(x))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, np.var(x), rtol=1e-6)


def test_nansum_and_nanmean_keep_nan_out_of_gradients():
    x = fnp.array([[np.nan, 2., 3.], [1., np.nan, np.nan]])
    np.testing.assert_array_equal(fnx.grad(fnp.nansum)(x), [[0., 1., 1.], [1., 0., 0.]])
    g = fnx.grad(lambda x: fnp.sum(fnp.nanmean(x, axis=1)))(x)
    np.testing.assert_array_equal(g, [[0., 0.5, 0.5], [1., 0., 0.]])
    _, t = fnx.jvp(fnp.nansum, (x,), (fnp.ones_like(x),))
    assert float(t) == 3.0


def test_nanmean_of_all_nan_slice_is_nan_without_nan_gradients():
    x = fnp.array([[np.nan, np.nan], [1., 3.]])
    with np.errstate(all="ignore"):
        out = fnp.nanmean(x, axis=1)
        g = fnx.grad(lambda x: fnp.nansum(fnp.nanmean(x, axis=1)))(x)
    assert np.isnan(np.asarray(out)[0]) and float(out[1]) == 2.0
    np.testing.assert_array_equal(g, [[0., 0.], [0.5, 0.5]])


def test_average_weights_along_an_axis():
    x = np.arange(6.).reshape(2, 3)
    w = np.array([1., 2., 3.])
    avg, scl = fnp.average(fnp.asarray(x), axis=1, weights=fnp.asarray(w), returned=True)
    e_avg, e_scl = np.average(x, axis=1, weights=w, returned=True)
    np.testing.assert_allclose(avg, e_avg)
    np.testing.assert_allclose(scl, e_scl)
    avg, scl = fnp.average(fnp.asarray(x), axis=0, returned=True)
    np.testing.assert_allclose(scl, np.average(x, axis=0, returned=True)[1])
    assert fnp.average(fnp.asarray(x.astype(np.int32)), weights=fnp.asarray(x)).dtype == np.float64
    with pytest.raises(ShapeError, match="average"):
        fnp.average(fnp.asarray(x), weights=fnp.asarray(w))
    with pytest.raises(ShapeError, match="average"):
        fnp.average(fnp.asarray(x), axis=0, weights=fnp.asarray(w))


def test_all_any_where():
    x = np.array([[1., 0.], [2., 3.]])
    w = np.array([[True, False], [False, True]])
    np.testing.assert_array_equal(fnp.all(fnp.asarray(x), axis=1, where=w), np.all(x, 1, where=w))
    np.testing.assert_array_equal(fnp.any(fnp.asarray(x) - 2, where=w), np.any(x - 2, where=w))

# ----- cumulative -----------------------------------------------------------------------------------


def test_cumsum_gradient_runs_backwards():
    g = fnx.grad(lambda x: fnp.sum(fnp.cumsum(x) * fnp.array([1., 10., 100.])))(fnp.array([1., 2., 3.]))
    np.testing.assert_array_equal(g, [111., 110., 100.])
    x = fnp.array([[1., -2.], [3., 0.5]], dtype="float64")
    check_grads(lambda x: fnp.cumsum(x, axis=0), (x,), order=2)


def test_cumprod_gradient_with_nonzero_inputs():
    x = fnp.array([[1.5, -2.], [3., 0.5]], dtype="float64")
    for axis in (None, 0, 1):
        check_grads(lambda x: fnp.cumprod(x, axis=axis), (x,), order=2)


def test_cumprod_derivatives_where_inputs_are_zero():
    # d/dx_i sum_j prod_{k<=j} x_k = sum_{j>=i} prod_{k<=j, k!=i} x_k: finite at zeros, as JAX's and PyTorch's
    g = fnx.grad(lambda a: fnp.sum(fnp.cumprod(a)))(fnp.array([2.0, 0.0, 3.0]))
    assert g.tolist() == [1.0, 8.0, 0.0]
    _, t = fnx.jvp(fnp.cumprod, (fnp.array([2.0, 0.0, 3.0]),), (fnp.array([1.0, 1.0, 1.0]),))
    assert t.tolist() == [1.0, 2.0, 6.0]
    assert fnx.grad(lambda a: fnp.sum(fnx.lax.cumprod(a, reverse=True)))(fnp.array([2.0, 0.0, 3.0])).tolist() == \
        [0.0, 9.0, 1.0]
    x = fnp.array([[0.0, -2.0, 0.0], [3.0, 0.0, 0.5]], dtype="float64")
    for axis in (None, 0, 1):
        check_grads(lambda x: fnp.cumprod(x, axis=axis), (x,), order=2)


def test_cumulative_dtype_and_flattening():
    x = np.arange(6, dtype=np.int32).reshape(2, 3)
    out = fnp.cumsum(fnp.asarray(x))
    assert out.shape == (6,) and out.dtype == np.int64
    assert fnp.cumprod(fnp.asarray(x.astype(np.uint8)), axis=0).dtype == np.uint64
    assert fnp.cumsum(fnp.asarray(x), axis=-1, dtype=np.float32).dtype == np.float32

# ----- vmap ------------------------------------------------------------------------------------------


def _reduction_loss(x):
    """A scalar through every differentiable reduction primitive: x of shape (3, 4), distinct and nonzero."""
    s = fnp.sum(x * fnp.max(x, axis=0), axis=1)
    c = fnp.cumprod(x, axis=1)[:, -1] + fnp.cumsum(x, axis=0)[-1, 1:]
    return fnp.sum(s * fnp.min(x, axis=1)) + fnp.prod(x[:2], axis=(0, 1)) + fnp.var(x) + fnp.sum(c ** 2)


def _batch(*shape, seed=0):
    return fnp.asarray(np.random.default_rng(seed).standard_normal(shape))


def test_vmap_of_grad_of_reductions_matches_a_loop():
    x = _batch(2, 3, 4)
    grad = fnx.grad(_reduction_loss)
    check_vmap(grad, (x,))
    check_vmap(grad, (fnp.moveaxis(x, 0, 2),), in_axes=2, out_axes=-1)
    check_vmap(grad, (fnp.moveaxis(x, 0, 1),), in_axes=1, out_axes=1)


def test_grad_of_vmap_of_reductions():
    x = _batch(2, 3, 4, seed=1)
    for ax in (0, 1, 2):
        check_grads(fnx.vmap(_reduction_loss, in_axes=ax), (fnp.moveaxis(x, 0, ax),), order=2)


def test_nested_vmap_of_reductions():
    x = _batch(2, 3, 4, 5, seed=2)

    def f(x):
        return fnp.max(x, axis=0) * fnp.sum(x, keepdims=True) + fnp.argmin(x, axis=-1, keepdims=True)
    check_vmap(fnx.vmap(f, in_axes=1), (x,), in_axes=2, out_axes=1)
    check_vmap(fnx.vmap(fnx.grad(lambda x: fnp.prod(fnp.sum(x, axis=0))), in_axes=1), (x,), in_axes=3)


@pytest.mark.parametrize("in_axes", [0, 1, 3, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_vmap_argmax_over_all_axes_indexes_each_example(in_axes, keepdims):
    """With axis=None each example's index is into its own flattened array, whatever the batch axis."""
    x = _batch(2, 3, 4, 5, seed=3)
    check_vmap(lambda x: fnp.argmax(x, keepdims=keepdims), (x,), in_axes=in_axes)
    check_vmap(lambda x: fnp.argmin(x, keepdims=keepdims), (x,), in_axes=in_axes, out_axes=-1)


@pytest.mark.parametrize("fun,out_axes,expected", [
    (lambda x: fnp.sum(x, axis=(0, 2)), 0, ["reduce_sum"]),
    (lambda x: fnp.max(x, axis=-1), 1, ["reduce_max"]),
    (lambda x: fnp.all(x, axis=0), 0, ["reduce_all"]),
    (lambda x: fnp.argmax(x, axis=1, keepdims=True), 1, ["argmax"]),
    (lambda x: fnp.cumsum(x, axis=0), 1, ["cumsum"]),
])
def test_vmap_reductions_leave_the_batch_axis_in_place(fun, out_axes, expected):
    """No transpose: the reduced axes are renumbered around the batch axis (at 1 here), which stays put."""
    x = _batch(3, 2, 4, 5, seed=4)
    assert fnx.make_graph(fnx.vmap(fun, in_axes=1, out_axes=out_axes))(x).primitives() == expected
    check_vmap(fun, (x,), in_axes=1, out_axes=out_axes)


# ----- devices ---------------------------------------------------------------------------------------


@pytest.mark.skipif(len(fnx.devices()) < 2, reason="needs a second device (FNX_CPU_DEVICES=2 or a GPU)")
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
def test_fast_paths_keep_the_device(name):
    d = fnx.devices()[-1]
    x = fnx.device_put(fnp.asarray(np.arange(6.).reshape(2, 3)), d)
    for axis in (None, 1):
        assert getattr(fnp, name)(x, axis=axis).device == d


# ----- array-API cumulative functions, NaN-aware extrema and statistics, comparisons -------------------


@pytest.mark.parametrize("name", ["cumulative_sum", "cumulative_prod"])
@pytest.mark.parametrize("dtype", ["int8", "uint32", "bool", "float32", "float64"])
def test_cumulative_api_matches_numpy(name, dtype):
    x = (np.arange(1, 7).reshape(2, 3) % 3).astype(dtype)
    for kw in ({"axis": 0}, {"axis": 1}, {"axis": -1, "include_initial": True}, {"axis": 0, "dtype": "float64"}):
        out, expected = getattr(fnp, name)(fnp.asarray(x), **kw), getattr(np, name)(x, **kw)
        assert out.shape == expected.shape and out.dtype == expected.dtype, (kw, out.dtype, expected.dtype)
        np.testing.assert_allclose(np.asarray(out, np.float64), expected.astype(np.float64))
    flat = getattr(fnp, name)(fnp.asarray(x[0]), include_initial=True)
    np.testing.assert_array_equal(flat, getattr(np, name)(x[0], include_initial=True))
    with pytest.raises(ValueError, match=name):
        getattr(fnp, name)(fnp.asarray(x))


def test_cumulative_sum_gradient():
    x = fnp.array([[1.5, -2.0, 0.5], [3.0, 1.0, -1.0]], dtype="float64")
    check_grads(lambda x: fnp.cumulative_sum(x, axis=1, include_initial=True), (x,), order=2)
    check_grads(lambda x: fnp.cumulative_prod(x, axis=0, include_initial=True), (x,), order=1)


_WITH_NANS = np.array([[1.0, np.nan, -2.0, 4.0], [np.nan, np.nan, np.nan, np.nan], [np.nan, -np.inf, 3.0, 0.5]])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy warns about the slice of NaNs only
@pytest.mark.parametrize("name", ["nanmax", "nanmin", "nanvar", "nanstd"])
def test_nan_statistics_match_numpy(name):
    for dtype in ("float32", "float64"):
        x = _WITH_NANS.astype(dtype)
        for axis in (None, 0, 1, -1, (0, 1)):
            for keepdims in (False, True):
                expected = getattr(np, name)(x, axis=axis, keepdims=keepdims)
                out = getattr(fnp, name)(fnp.asarray(x), axis=axis, keepdims=keepdims)
                assert out.shape == expected.shape and out.dtype == expected.dtype, (axis, out.dtype, expected.dtype)
                np.testing.assert_allclose(out, expected, rtol=1e-6)
    ints = np.array([[3, 1, 2], [0, 5, 5]])
    np.testing.assert_allclose(getattr(fnp, name)(fnp.asarray(ints), axis=1), getattr(np, name)(ints, axis=1))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_statistics_options():
    x = _WITH_NANS
    w = np.array([[True, True, False, True], [True, False, False, False], [False, True, True, True]])
    fx = fnp.asarray(x)
    np.testing.assert_allclose(fnp.nanvar(fx, axis=1, ddof=1), np.nanvar(x, axis=1, ddof=1))
    np.testing.assert_allclose(fnp.nanstd(fx, axis=1, where=w), np.nanstd(x, axis=1, where=w))
    np.testing.assert_allclose(fnp.nanvar(fx, axis=0, correction=1), np.nanvar(x, axis=0, correction=1))
    np.testing.assert_allclose(fnp.nanmax(fx, axis=1, initial=10.), np.nanmax(x, axis=1, initial=10.))
    np.testing.assert_allclose(fnp.nanmin(fx, axis=1, where=w, initial=10.), np.nanmin(x, axis=1, where=w, initial=10.))


def test_nanargmax_nanargmin_match_numpy_and_give_minus_one_for_nan_slices():
    x = np.array([[1.0, np.nan, -2.0, 4.0], [np.nan, 0.0, np.nan, 7.0], [np.nan, -np.inf, 3.0, -np.inf]])
    for name in ("nanargmax", "nanargmin"):
        for axis in (None, 0, 1, -1):
            for keepdims in (False, True):
                out = getattr(fnp, name)(fnp.asarray(x), axis=axis, keepdims=keepdims)
                expected = getattr(np, name)(x, axis=axis, keepdims=keepdims)
                assert out.shape == expected.shape and out.dtype == expected.dtype
                np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(fnp.nanargmin(fnp.array([np.nan, -np.inf])), 1)  # a real -inf still counts
    np.testing.assert_array_equal(fnp.nanargmax(fnp.asarray(_WITH_NANS), axis=1), [3, -1, 2])
    check_vmap(lambda r: fnp.nanargmax(r), (fnp.asarray(_WITH_NANS),))


def test_nan_statistics_gradients_ignore_nans():
    x = fnp.array([[1.0, np.nan, -2.0, 4.0], [np.nan, 0.5, 2.0, np.nan]], dtype="float64")
    for name in ("nanmax", "nanmin", "nanvar", "nanstd"):
        g = fnx.grad(lambda x: fnp.sum(getattr(fnp, name)(x, axis=1)))(x)
        assert np.all(np.isfinite(g)) and np.all(np.asarray(g)[np.isnan(np.asarray(x))] == 0), name

        numbers = ~np.isnan(np.asarray(x))  # differentiate the numbers, with the NaNs held in place

        def at_numbers(v, name=name):
            return getattr(fnp, name)(x.at[numbers].set(v), axis=1)
        check_grads(at_numbers, (fnp.asarray(np.asarray(x)[numbers]),), order=1)


def test_allclose_array_equal_array_equiv():
    a = np.array([[1.0, 2.0], [3.0, np.nan]])
    fa = fnp.asarray(a)
    assert not fnp.allclose(fa, a) and fnp.allclose(fa, a, equal_nan=True)
    assert bool(fnp.allclose(fa, a + 1e-9, equal_nan=True)) and not bool(fnp.allclose(fa, a + 1e-3, equal_nan=True))
    assert fnp.allclose(fa, a).dtype == np.bool_ and fnp.allclose(fa, a).shape == ()
    for x, y, kw in [(a, a, {}), (a, a, {"equal_nan": True}), (a, a[:1], {}), (np.arange(3), np.arange(3.), {}),
                     (np.arange(3), np.arange(4), {}), (np.ones((2, 2)), np.ones(2), {})]:
        assert bool(fnp.array_equal(fnp.asarray(x), fnp.asarray(y), **kw)) == np.array_equal(x, y, **kw), (x, y, kw)
    for x, y in [(np.ones((2, 2)), np.ones(2)), (np.ones((2, 2)), np.ones(3)),
                 (np.arange(2), np.array([[0, 1], [0, 2]]))]:
        assert bool(fnp.array_equiv(fnp.asarray(x), fnp.asarray(y))) == np.array_equiv(x, y)
    assert fnx.jit(lambda x, y: fnp.allclose(x, y))(fnp.ones(3), fnp.ones(3))


ZERO_D_REDUCTIONS = ["mean", "std", "var", "average", "median", "sum", "prod", "max", "min", "ptp", "any", "all",
                     "count_nonzero", "argmax", "argmin", "cumsum", "cumprod", "nanmean", "nanstd", "nanvar",
                     "nansum", "nanmax", "nanmedian", "nanargmax", "nancumsum"]


@pytest.mark.parametrize("name", ZERO_D_REDUCTIONS)
def test_an_axis_of_a_0d_array_is_what_numpy_makes_of_it(name):
    # NumPy's ufunc reductions take an int 0 / -1 for a 0-d array's one element; its statistics refuse any axis,
    # and every reduction refuses a tuple axis or another int.
    for axis in (0, -1, (0,), (), 1, -2):
        try:
            expected = getattr(np, name)(np.array(2.5), axis=axis)
        except (np.exceptions.AxisError, TypeError) as e:
            # a tuple where one int is expected: numpy's arg-reductions raise one or the other by function
            with pytest.raises((np.exceptions.AxisError, TypeError) if isinstance(axis, tuple) else type(e)):
                getattr(fnp, name)(fnp.asarray(np.array(2.5)), axis=axis)
            continue
        got = getattr(fnp, name)(fnp.asarray(np.array(2.5)), axis=axis)
        assert got.shape == np.shape(expected), (name, axis)
        np.testing.assert_allclose(np.asarray(got), expected)
