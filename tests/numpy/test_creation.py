"""Creation functions: values and dtypes against NumPy.

They are not primitives, so they have no registry cases: the tests compare
with NumPy directly, expecting NumPy's dtype except where fnx differs on
purpose (a Python float on its own becomes the default float, float32).
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import fnx
import fnx.numpy as fnp
from fnx.testing import check_grads

F32 = np.float32


def same(out, expected, dtype=None, **tol):
    assert isinstance(out, fnx.Array), type(out)
    expected = np.asarray(expected)
    assert out.dtype == (expected.dtype if dtype is None else np.dtype(dtype)), (out.dtype, expected.dtype)
    if tol:
        np.testing.assert_allclose(np.asarray(out), expected.astype(out.dtype), **tol)
    else:
        np.testing.assert_array_equal(np.asarray(out), expected.astype(out.dtype))


shapes = st.one_of(st.integers(0, 4), st.lists(st.integers(0, 3), max_size=3).map(tuple))
dtypes = st.sampled_from([None, "float32", "float64", "int32", "int64", "bool", "complex64", int, float, bool])


def fnx_dtype(dtype, default):
    """The dtype fnx gives for ``dtype`` (``float`` and None mean the default float)."""
    return np.dtype(default if dtype is None else F32 if dtype is float else dtype)


# ----- from shapes -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
@given(shape=shapes, dtype=dtypes)
def test_zeros_ones_empty(name, shape, dtype):
    out = getattr(fnp, name)(shape, dtype)
    ref = np.zeros if name == "empty" else getattr(np, name)
    same(out, ref(shape, fnx_dtype(dtype, F32)))


@given(shape=shapes,
       fill=st.one_of(st.integers(-5, 5), st.floats(-3, 3), st.booleans(), st.complex_numbers(max_magnitude=3)),
       dtype=st.sampled_from([None, "float64", "int32"]))
def test_full_with_python_scalars(shape, fill, dtype):
    if dtype == "int32" and isinstance(fill, complex):
        return
    expected = np.full(shape, fill, dtype)
    if dtype is None and isinstance(fill, float):
        expected = expected.astype(F32)  # a Python float on its own: the default float
    if dtype is None and isinstance(fill, complex):
        expected = expected.astype(np.complex64)
    same(fnp.full(shape, fill, dtype), expected)


def test_full_dtypes():
    assert fnp.full((2,), 3).dtype == np.int64
    assert fnp.full((2,), 3.0).dtype == np.float32
    assert fnp.full((2,), True).dtype == np.bool_
    assert fnp.full((2,), np.float64(3.0)).dtype == np.float64
    assert fnp.full((2,), np.int8(3)).dtype == np.int8


def test_full_of_negative_zero_keeps_its_sign():
    # full() of 0 is made zeroed by the allocator; -0.0 must not take that path
    assert np.signbit(np.asarray(fnp.full((3,), -0.0))).all()
    assert not np.signbit(np.asarray(fnp.full((3,), 0.0))).any()
    assert not np.signbit(np.asarray(fnp.zeros_like(fnp.ones(2)))).any()


def test_full_with_an_array_fill():
    fill = np.array([1.0, 2.0, 3.0])
    same(fnp.full((2, 3), fill), np.full((2, 3), fill))
    same(fnp.full((2, 3), fnp.asarray(fill), dtype="float32"), np.full((2, 3), fill, F32))
    # the fill keeps its derivative: d/da sum(full((2, 3), a)) = 6
    assert float(fnx.grad(lambda a: fnp.sum(fnp.full((2, 3), a)))(1.0)) == 6.0


@pytest.mark.parametrize("like", [np.ones((2, 3), np.int32), np.ones(4, np.float64), [1.5, 2.5], 3])
@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like"])
def test_like_functions(name, like):
    base = fnp.asarray(like)
    ref = np.zeros_like if name == "empty_like" else getattr(np, name)
    same(getattr(fnp, name)(like), ref(np.asarray(base)))
    same(getattr(fnp, name)(like, dtype="float64"), ref(np.asarray(base), dtype="float64"))
    same(getattr(fnp, name)(like, shape=(3, 1)), ref(np.asarray(base), shape=(3, 1)))


def test_full_like():
    a = np.arange(4, dtype=np.int32)
    same(fnp.full_like(a, 7), np.full_like(a, 7))
    same(fnp.full_like(a, 2.7), np.full_like(a, 2.7))  # the dtype of ``a`` wins, as in numpy
    same(fnp.full_like(a, 2.5, dtype="float32"), np.full_like(a, 2.5, dtype="float32"))
    same(fnp.full_like(fnp.zeros((2, 2)), 1.5), np.full((2, 2), 1.5, F32))


def test_like_functions_read_only_the_shape_and_dtype_of_tracers():
    def f(x):
        z, o, e, fl = fnp.zeros_like(x), fnp.ones_like(x), fnp.empty_like(x), fnp.full_like(x, 2.0)
        assert z.shape == o.shape == e.shape == fl.shape == x.shape
        assert z.dtype == o.dtype == fl.dtype == x.dtype
        return fnp.sum(x * o + z + fl)
    same(fnx.grad(f)(fnp.ones(3)), np.ones(3, F32))
    out, t = fnx.jvp(f, (fnp.ones(2),), (fnp.ones(2),))
    assert float(t) == 2.0


@given(n=st.integers(0, 5), m=st.one_of(st.none(), st.integers(0, 5)), k=st.integers(-5, 5),
       dtype=st.sampled_from([None, "float64", "int64", bool]))
def test_eye_and_tri(n, m, k, dtype):
    dt = fnx_dtype(dtype, F32)
    same(fnp.eye(n, m, k, dtype), np.eye(n, m, k, dt))
    same(fnp.tri(n, m, k, dtype), np.tri(n, m, k, dt))


def test_identity():
    same(fnp.identity(3), np.identity(3, F32))
    same(fnp.identity(2, dtype=int), np.identity(2, int))


def test_shape_errors():
    with pytest.raises(ValueError, match="zeros: negative dimensions"):
        fnp.zeros((2, -1))
    with pytest.raises(TypeError, match="ones: shape must be"):
        fnp.ones((2.5,))


# ----- from data --------------------------------------------------------------------------

def test_array_ndmin_and_copy():
    same(fnp.array([1, 2], ndmin=3), np.array([1, 2], ndmin=3))
    same(fnp.array(5.0, ndmin=1), np.array([5.0], F32))
    x = fnp.ones(2)
    assert fnp.array(x, copy=True) is x  # immutable: a copy would be indistinguishable
    assert fnp.array(x, ndmin=1) is x
    same(fnp.array(x, dtype="float64"), np.ones(2))


def test_asarray_copy_false():
    x = fnp.ones(2)
    assert fnp.asarray(x, copy=False) is x
    with pytest.raises(ValueError, match="copy=False"):
        fnp.asarray(np.ones(2), copy=False)
    with pytest.raises(ValueError, match="copy=False"):
        fnp.asarray(x, dtype="float64", copy=False)


def test_array_of_lists_and_numpy_scalars():
    same(fnp.array([[1, 2], [3, 4]]), np.array([[1, 2], [3, 4]]))
    same(fnp.array([1.0, 2.0]), np.array([1.0, 2.0], F32))
    same(fnp.array([np.float64(1.0), 2.0]), np.array([1.0, 2.0]))  # a float64 element keeps float64
    same(fnp.array([fnp.array(1.0), fnp.array(2.0)]), np.array([1.0, 2.0], F32))


def test_device_argument():
    assert str(fnp.zeros(2, device="cpu").device) == "cpu:0"
    assert str(fnp.asarray([1.0], device="cpu:0").device) == "cpu:0"


# ----- ranges -------------------------------------------------------------------------------

@given(start=st.integers(-10, 10), stop=st.one_of(st.none(), st.integers(-10, 10)),
       step=st.integers(-3, 3).filter(bool))
def test_arange_ints(start, stop, step):
    same(fnp.arange(start, stop, step), np.arange(start, stop, step))  # stop=None: start is the stop, step kept


@given(start=st.floats(-5, 5), stop=st.floats(-5, 5), step=st.floats(0.1, 2).map(lambda s: round(s, 2)),
       dtype=st.sampled_from([None, "float64", "float32"]))
def test_arange_floats(start, stop, step, dtype):
    # numpy computes the float64 range; fnx returns it in the default float dtype unless told otherwise
    expected = np.arange(start, stop, step, dtype=dtype) if dtype else np.arange(start, stop, step).astype(F32)
    same(fnp.arange(start, stop, step, dtype), expected)


def test_arange_dtypes():
    assert fnp.arange(5).dtype == np.int64
    assert fnp.arange(0.0, 1.0, 0.1).dtype == np.float32
    assert len(fnp.arange(0.0, 1.0, 0.1)) == len(np.arange(0.0, 1.0, 0.1))
    assert fnp.arange(np.float64(3)).dtype == np.float64
    assert fnp.arange(np.int32(3)).dtype == np.int32
    assert fnp.arange(fnp.array(3)).dtype == np.int64
    same(fnp.arange(5, dtype="float64"), np.arange(5.0))
    with pytest.raises(ZeroDivisionError, match="arange"):
        fnp.arange(0, 3, 0)


@given(start=st.floats(-10, 10), stop=st.floats(-10, 10), num=st.integers(0, 12), endpoint=st.booleans())
def test_linspace_scalars(start, stop, num, endpoint):
    # Computed in float64 like numpy, then cast: the float32 values are numpy's, bit for bit.
    same(fnp.linspace(start, stop, num, endpoint), np.linspace(start, stop, num, endpoint).astype(F32))
    same(fnp.linspace(start, stop, num, endpoint, dtype="float64"), np.linspace(start, stop, num, endpoint))
    same(fnp.linspace(start, stop, num, endpoint, dtype="int64"),
         np.linspace(start, stop, num, endpoint, dtype="int64"))


@given(num=st.integers(0, 6), endpoint=st.booleans(), axis=st.integers(-2, 1))
def test_linspace_arrays_and_axis(num, endpoint, axis):
    start, stop = np.array([0.0, 1.0, -2.0]), np.array([[1.0], [5.0]])
    same(fnp.linspace(start, stop, num, endpoint, axis=axis), np.linspace(start, stop, num, endpoint, axis=axis),
         rtol=1e-15, atol=1e-15)


def test_linspace_retstep_and_dtypes():
    y, step = fnp.linspace(0, 1, 5, retstep=True)
    ry, rstep = np.linspace(0, 1, 5, retstep=True)
    same(y, ry.astype(F32))
    assert step.dtype == F32 and float(step) == rstep
    _, step = fnp.linspace(0, 1, 1, retstep=True)
    assert np.isnan(float(step))
    assert fnp.linspace(0, 1).shape == (50,)
    assert fnp.linspace(fnp.zeros(2, "float64"), 1.0, 3).dtype == np.float64
    assert fnp.linspace(np.zeros(2, F32), np.ones(2, F32), 3).dtype == F32
    assert fnp.linspace(0, 1j, 3).dtype == np.complex64
    with pytest.raises(ValueError, match="linspace: number of samples"):
        fnp.linspace(0, 1, -1)


def test_linspace_is_differentiable():
    def f(a, b):
        return fnp.sum(fnp.linspace(a, b, 5) ** 2)
    t = np.linspace(0.0, 1.0, 5)
    ga, gb = fnx.grad(f, argnums=(0, 1))(1.0, 2.0)
    y = 1.0 + t  # linspace(1, 2, 5)
    np.testing.assert_allclose([float(ga), float(gb)], [np.sum(2 * y * (1 - t)), np.sum(2 * y * t)], rtol=1e-6)
    assert ga.dtype == F32


@given(num=st.integers(0, 8), endpoint=st.booleans(), base=st.sampled_from([10.0, 2.0, np.e]))
def test_logspace(num, endpoint, base):
    same(fnp.logspace(-1, 2, num, endpoint, base), np.logspace(-1, 2, num, endpoint, base).astype(F32))
    same(fnp.logspace(-1, 2, num, endpoint, base, dtype="float64"),
         np.logspace(-1, 2, num, endpoint, base), rtol=1e-14)


def test_logspace_array_base():
    base = np.array([2.0, 10.0])
    for axis in (0, 1, -1):
        same(fnp.logspace(0, 3, 4, base=base, axis=axis), np.logspace(0, 3, 4, base=base, axis=axis), rtol=1e-14)


# ----- grids and diagonals -----------------------------------------------------------------

@pytest.mark.parametrize("indexing", ["xy", "ij"])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_meshgrid(indexing, sparse, n):
    xs = [np.arange(2.0), np.arange(3), np.array([1.5, 2.5, 3.5, 4.5], F32)][:n]
    out = fnp.meshgrid(*xs, sparse=sparse, indexing=indexing)
    ref = np.meshgrid(*xs, sparse=sparse, indexing=indexing)
    assert isinstance(out, tuple) and len(out) == len(ref)
    for o, r in zip(out, ref):
        same(o, r)


def test_meshgrid_errors_and_gradient():
    with pytest.raises(ValueError, match="meshgrid: indexing"):
        fnp.meshgrid(fnp.ones(2), indexing="yx")
    g = fnx.grad(lambda x: fnp.sum(fnp.meshgrid(x, fnp.arange(3.0))[0]))(fnp.ones(2))
    same(g, np.full(2, 3.0, F32))


@given(n=st.integers(0, 4), k=st.integers(-5, 5))
def test_diag_builds(n, k):
    v = np.arange(1, n + 1, dtype=np.float64)
    same(fnp.diag(v, k), np.diag(v, k))
    same(fnp.diag(v > 2, k), np.diag(v > 2, k))


def test_diag_extracts_and_diagflat():
    a = np.arange(12.0).reshape(3, 4)
    if hasattr(fnp, "diagonal"):
        for k in (-3, -1, 0, 2, 5):
            same(fnp.diag(a, k), np.diag(a, k))
    same(fnp.diagflat([[1, 2], [3, 4]]), np.diagflat([[1, 2], [3, 4]]))
    same(fnp.diagflat([1.0, 2.0], -1), np.diagflat([1.0, 2.0], -1).astype(F32))
    with pytest.raises(ValueError, match="diag: input must be 1-d or 2-d"):
        fnp.diag(np.ones((2, 2, 2)))


def test_diag_gradient():
    w = np.arange(9.0).reshape(3, 3)
    g = fnx.grad(lambda v: fnp.sum(fnp.diag(v, 0) * w))(fnp.ones(3, "float64"))
    same(g, np.diag(w))


# ----- copy, geomspace and index grids ---------------------------------------------------------------


def test_copy_is_detached_from_numpy_input():
    a = np.arange(3.)
    c = fnp.copy(a)
    a[0] = 9.0
    np.testing.assert_array_equal(c, [0.0, 1.0, 2.0])
    assert c.dtype == np.float64
    g = fnx.grad(lambda x: fnp.sum(fnp.copy(x) * x))(fnp.array([1.0, 2.0]))
    np.testing.assert_array_equal(g, [2.0, 4.0])


def test_geomspace_matches_numpy():
    for start, stop, kw in [(1, 1000, {"num": 4}), (-2.0, -512.0, {"num": 5}), (1, 256, {"num": 9, "endpoint": False}),
                            (3.0, 3.0, {"num": 1}), (1, 5, {"num": 0}), (1, 100, {"num": 3, "dtype": int})]:
        out, expected = fnp.geomspace(start, stop, **kw), np.geomspace(start, stop, **kw)
        assert out.shape == expected.shape
        assert out.dtype == (np.float32 if "dtype" not in kw else expected.dtype)  # Python numbers: default float
        np.testing.assert_allclose(out, expected, rtol=1e-6)
    s, e = np.array([1.0, 10.0]), np.array([100.0, 1000.0])
    for axis in (0, 1, -1):
        out, expected = fnp.geomspace(fnp.asarray(s), fnp.asarray(e), 3, axis=axis), np.geomspace(s, e, 3, axis=axis)
        assert out.shape == expected.shape and out.dtype == expected.dtype
        np.testing.assert_allclose(out, expected)
    with pytest.raises(ValueError, match="geomspace"):
        fnp.geomspace(0, 10)
    check_grads(lambda a, b: fnp.geomspace(a, b, 5), (fnp.array([1.5, 2.0], dtype="float64"),
                                                      fnp.array([30.0, 0.5], dtype="float64")), order=1)


def test_index_grids_match_numpy():
    for args in [(3,), (4, 1), (3, -1, 5), (2, 0, 4)]:
        for name in ("tril_indices", "triu_indices"):
            out, expected = getattr(fnp, name)(*args), getattr(np, name)(*args)
            for o, e in zip(out, expected):
                assert o.dtype == e.dtype
                np.testing.assert_array_equal(o, e)
    np.testing.assert_array_equal(fnp.indices((2, 3)), np.indices((2, 3)))
    for o, e in zip(fnp.indices((2, 3), dtype="int32", sparse=True), np.indices((2, 3), dtype="int32", sparse=True)):
        assert o.dtype == e.dtype and o.shape == e.shape
        np.testing.assert_array_equal(o, e)


def test_arange_takes_stop_by_keyword_as_numpy_2():
    assert fnp.arange(stop=4).tolist() == [0, 1, 2, 3] and fnp.arange(1, stop=3).tolist() == [1, 2]
    with pytest.raises(TypeError, match="stop must be given"):
        fnp.arange()
