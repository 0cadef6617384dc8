"""The eager fast paths: on concrete CPU arrays, matmul (matrices and vectors), transpose, reshape,
indexing, the joins, where, astype, expand_dims, the norms' root, stop_gradient, and torch's max/min with
``dim`` and clamp compute with numpy directly (bench/NOTES.md, section 21). Each must give what the traced
path gives (the same function under jit, which takes the general path) and what NumPy gives, and leave
every error to the general path, which names the operation."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import fnx
import fnx.numpy as fnp
from fnx.errors import ShapeError

DTYPES = [np.float32, np.float64, np.int64, np.int32, np.bool_, np.complex64]


def values(dtype, shape):
    return hnp.arrays(dtype, shape, elements=hnp.from_dtype(np.dtype(dtype), allow_nan=False, allow_infinity=False,
                                                             min_value=-100 if np.dtype(dtype).kind in "iu" else None,
                                                             max_value=100 if np.dtype(dtype).kind in "iu" else None))


def same_as_traced_and_numpy(f, args, expected):
    """``f(*args)`` eagerly equals ``jit(f)(*args)`` (the general path) and NumPy's ``expected``."""
    eager = f(*args)
    traced = fnx.jit(f)(*args)
    for out in (eager, traced):
        assert out.shape == expected.shape and out.dtype == expected.dtype, (out, expected)
        np.testing.assert_array_equal(np.asarray(out), expected)
    return eager


@given(data=st.data(), dtype=st.sampled_from(DTYPES), m=st.integers(1, 4), k=st.integers(1, 4), n=st.integers(1, 4))
def test_matmul_of_two_matrices(data, dtype, m, k, n):
    a, b = data.draw(values(dtype, (m, k))), data.draw(values(dtype, (k, n)))
    if np.dtype(dtype).kind in "fc":
        a, b = np.round(a.clip(-50, 50), 1).astype(dtype), np.round(b.clip(-50, 50), 1).astype(dtype)
    eager, traced = fnp.asarray(a) @ fnp.asarray(b), fnx.jit(lambda x, y: x @ y)(fnp.asarray(a), fnp.asarray(b))
    expected = a @ b
    for out in (eager, traced):
        assert out.shape == expected.shape and out.dtype == expected.dtype
        np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-5, atol=1e-3)
    np.testing.assert_array_equal(np.asarray(eager), np.asarray(traced))


@given(data=st.data(), dtype=st.sampled_from([np.float32, np.float64, np.int64]), k=st.integers(1, 4),
       m=st.none() | st.integers(1, 4), n=st.none() | st.integers(1, 4))
def test_matmul_with_vectors(data, dtype, k, m, n):
    a = data.draw(values(dtype, (k,) if m is None else (m, k))).clip(-50, 50)
    b = data.draw(values(dtype, (k,) if n is None else (k, n))).clip(-50, 50)
    eager, traced = fnp.asarray(a) @ fnp.asarray(b), fnx.jit(lambda x, y: x @ y)(fnp.asarray(a), fnp.asarray(b))
    assert eager.shape == traced.shape == (a @ b).shape and eager.dtype == traced.dtype == (a @ b).dtype
    np.testing.assert_array_equal(np.asarray(eager), np.asarray(traced))  # the same product, bit for bit
    np.testing.assert_allclose(np.asarray(eager), a @ b, rtol=1e-5, atol=1e-3)


def test_matmul_outside_the_fast_path_still_promotes_and_checks():
    a, b = fnp.ones((2, 3), dtype="float32"), fnp.ones((3, 2), dtype="float64")
    assert (a @ b).dtype == np.float64  # promotion, as numpy
    assert (a @ fnp.ones(3)).shape == (2,)
    with pytest.raises(ShapeError, match="matmul: shapes"):
        a @ fnp.ones((2, 2), dtype="float32")
    with pytest.raises(ShapeError, match="at least one dimension"):
        a @ fnp.asarray(2.0)


def test_matmul_of_traced_matrices_differentiates():
    a, b = fnp.asarray(np.arange(6.0).reshape(2, 3)), fnp.asarray(np.arange(12.0).reshape(3, 4) / 7)
    ga, gb = fnx.grad(lambda x, y: fnp.sum(x @ y), argnums=(0, 1))(a, b)
    np.testing.assert_allclose(np.asarray(ga), np.ones((2, 4)) @ np.asarray(b).T, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(gb), np.asarray(a).T @ np.ones((2, 4)), rtol=1e-6)


@given(x=st.sampled_from(DTYPES).flatmap(lambda dt: values(dt, hnp.array_shapes(min_dims=0, max_dims=4, max_side=3))))
def test_transpose_and_T(x):
    same_as_traced_and_numpy(lambda a: a.T, (fnp.asarray(x),), x.T)
    same_as_traced_and_numpy(lambda a: fnp.transpose(a), (fnp.asarray(x),), np.transpose(x))


@given(x=values(np.float32, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4)), data=st.data())
def test_reshape(x, data):
    target = data.draw(st.permutations(list(x.shape)).map(tuple))
    if target and data.draw(st.booleans()):
        target = target[:-1] + (-1,)
    same_as_traced_and_numpy(lambda a: fnp.reshape(a, target), (fnp.asarray(x),), x.reshape(target))
    same_as_traced_and_numpy(lambda a: a.reshape(x.size), (fnp.asarray(x),), x.reshape(x.size))


@pytest.mark.parametrize("shape, error, match", [
    ((4, 2), ShapeError, "cannot reshape an array of shape"), ((-1, -1), ShapeError, "cannot reshape"),
    ((2.0, 3), TypeError, "a shape must be an int"), (None, TypeError, "a shape must be an int")])
def test_reshape_errors_name_reshape(shape, error, match):
    with pytest.raises(error, match=match):
        fnp.reshape(fnp.arange(6), shape)


def basic_keys(shape):
    def one(d):
        return st.integers(-d, d - 1) if d else st.nothing()
    bound = st.none() | st.integers(-5, 5)
    entry = [st.builds(slice, bound, bound, st.sampled_from([None, 1, 2, -1, -3]))]
    return st.tuples(*[st.one_of(*entry, one(d)) for d in shape]).flatmap(
        lambda key: st.sampled_from([key, key + (None,), (None,) + key, key[:1] + (Ellipsis,)]))


@given(x=values(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)), data=st.data())
def test_basic_indexing(x, data):
    key = data.draw(basic_keys(x.shape))
    out = same_as_traced_and_numpy(lambda a: a[key], (fnp.asarray(x),), np.asarray(x[key]))
    assert isinstance(np.asarray(out), np.ndarray)


@given(x=values(np.float32, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4)), data=st.data())
def test_array_indexing(x, data):
    if data.draw(st.booleans()):
        idx = data.draw(hnp.arrays(np.int64, st.integers(0, 5), elements=st.integers(-x.shape[0], x.shape[0] - 1)))
    else:
        idx = data.draw(hnp.arrays(np.bool_, x.shape[:1]))
    out = fnp.asarray(x)[fnp.asarray(idx)]
    assert out.shape == x[idx].shape and out.dtype == x.dtype
    np.testing.assert_array_equal(np.asarray(out), x[idx])
    np.testing.assert_array_equal(np.asarray(fnp.asarray(x).at[fnp.asarray(idx)].get()), x[idx])


def test_indexing_errors_name_getitem():
    x = fnp.arange(12.0).reshape(3, 4)
    with pytest.raises(IndexError, match="getitem: index 5 is out of bounds"):
        x[5]
    with pytest.raises(IndexError, match="getitem: too many indices"):
        x[0, 0, 0]
    with pytest.raises(IndexError, match="getitem: index 3 is out of bounds"):
        x[fnp.asarray([3])]
    with pytest.raises(IndexError, match="getitem: boolean index did not match"):
        x[fnp.asarray([True, False])]
    assert x[fnp.arange(3)[1]].shape == (4,)  # a 0-d index array


@given(data=st.data(), dtype=st.sampled_from(DTYPES), n=st.integers(1, 3), axis=st.integers(-2, 1))
def test_concatenate_and_stack(data, dtype, n, axis):
    parts = [data.draw(values(dtype, (2, 3))) for _ in range(n)]
    same_as_traced_and_numpy(lambda *xs: fnp.concatenate(xs, axis=axis), [fnp.asarray(p) for p in parts],
                             np.concatenate(parts, axis=axis))
    same_as_traced_and_numpy(lambda *xs: fnp.stack(xs, axis=axis), [fnp.asarray(p) for p in parts],
                             np.stack(parts, axis=axis))


def test_joins_outside_the_fast_path_promote_and_check():
    a, b = fnp.ones((2, 3), dtype="float32"), fnp.zeros((2, 3), dtype="int32")
    assert fnp.concatenate([a, b]).dtype == np.float64 and fnp.stack([a, b]).dtype == np.float64
    with pytest.raises(ShapeError, match="concatenate: shapes"):
        fnp.concatenate([a, fnp.ones((2, 2), dtype="float32")])
    with pytest.raises(ShapeError, match="stack: all input arrays must have the same shape"):
        fnp.stack([a, fnp.ones((2, 2), dtype="float32")])
    with pytest.raises(np.exceptions.AxisError, match="concatenate: axis 2"):
        fnp.concatenate([a, a], axis=2)


@given(data=st.data(), dtype=st.sampled_from(DTYPES), shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=3))
def test_where(data, dtype, shape):
    c = data.draw(hnp.arrays(np.bool_, shape))
    x, y = data.draw(values(dtype, shape)), data.draw(values(dtype, shape[1:]))
    same_as_traced_and_numpy(lambda c, x, y: fnp.where(c, x, y), (fnp.asarray(c), fnp.asarray(x), fnp.asarray(y)),
                             np.where(c, x, y))
    if np.dtype(dtype).kind in "fc":
        same_as_traced_and_numpy(lambda c, x: fnp.where(c, x, 0.5), (fnp.asarray(c), fnp.asarray(x)),
                                 np.where(c, x, np.asarray(0.5, dtype)))


def test_where_outside_the_fast_path():
    c = fnp.asarray([True, False])
    assert fnp.where(c, fnp.arange(2), 0.5).dtype == np.float64  # NEP 50: an int array and a float
    assert fnp.where(c, fnp.ones(2, dtype="float32"), fnp.zeros(2, dtype="float64")).dtype == np.float64
    with pytest.raises(ShapeError, match="where: shapes"):
        fnp.where(c, fnp.ones(2), fnp.ones(3))


@given(x=values(np.float64, (3,)), dtype=st.sampled_from(DTYPES + [fnp.float32, "float16", "int8"]))
def test_astype(x, dtype):
    x = np.round(x.clip(-100, 100), 2)
    with np.errstate(invalid="ignore"):
        expected = x.astype(np.dtype(dtype))
    same_as_traced_and_numpy(lambda a: a.astype(dtype), (fnp.asarray(x),), expected)


@given(x=values(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=4)), p=st.sampled_from([1, 2, 3]))
def test_norms_of_concrete_arrays(x, p):
    x = x.clip(-1e100, 1e100)
    eager = fnp.linalg.norm(fnp.asarray(x.ravel()), ord=p)
    traced = fnx.jit(lambda a: fnp.linalg.norm(a, ord=p))(fnp.asarray(x.ravel()))
    np.testing.assert_allclose(np.asarray(eager), np.linalg.norm(x.ravel(), ord=p), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(eager), np.asarray(traced), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(fnp.std(fnp.asarray(x))), np.std(x), rtol=1e-9, atol=1e-300)
    assert float(fnx.grad(lambda a: fnp.linalg.norm(a))(fnp.zeros(3, dtype="float64"))[0]) == 0.0


@given(x=values(np.float32, (3, 4)), dim=st.sampled_from([0, 1, -1]), keepdim=st.booleans(),
       nan=st.booleans())
def test_torch_max_and_min_with_dim(x, dim, keepdim, nan):
    if nan:
        x = x.copy()
        x[1, 2] = np.nan
    for fn, reduce, pick in ((fnx.max, np.max, np.argmax), (fnx.min, np.min, np.argmin)):
        eager = fn(fnp.asarray(x), dim=dim, keepdim=keepdim)
        traced = fnx.jit(lambda a: tuple(fn(a, dim=dim, keepdim=keepdim)))(fnp.asarray(x))
        for got in (eager, traced):
            np.testing.assert_array_equal(np.asarray(got[0]), reduce(x, axis=dim, keepdims=keepdim))
            np.testing.assert_array_equal(np.asarray(got[1]), pick(x, axis=dim, keepdims=keepdim))
            assert got[1].dtype == np.int64


@given(x=values(np.float64, (5,)), lo=st.none() | st.floats(-10, 0), hi=st.none() | st.floats(0, 10))
def test_clamp_of_a_concrete_array(x, lo, hi):
    if lo is None and hi is None:
        hi = 1.0
    eager = fnx.clamp(fnp.asarray(x), min=lo, max=hi)
    traced = fnx.jit(lambda a: fnx.clamp(a, min=lo, max=hi))(fnp.asarray(x))
    np.testing.assert_array_equal(np.asarray(eager), np.clip(x, lo, hi))
    np.testing.assert_array_equal(np.asarray(eager), np.asarray(traced))
    assert eager.dtype == traced.dtype == np.float64


def test_stop_gradient_of_a_concrete_array_and_none_index():
    x = fnp.arange(3.0)
    assert fnx.stop_gradient(x) is x
    assert x[None].shape == (1, 3) and x[...].shape == (3,)
    assert fnx.grad(lambda a: fnp.sum(a * fnx.stop_gradient(a)))(x).tolist() == [0.0, 1.0, 2.0]


@given(x=values(np.float32, hnp.array_shapes(min_dims=0, max_dims=3, max_side=3)), data=st.data())
def test_expand_dims(x, data):
    axis = data.draw(st.integers(-x.ndim - 1, x.ndim))
    same_as_traced_and_numpy(lambda a: fnp.expand_dims(a, axis), (fnp.asarray(x),), np.expand_dims(x, axis))
    with pytest.raises(np.exceptions.AxisError, match="expand_dims: axis"):
        fnp.expand_dims(fnp.asarray(x), x.ndim + 1)
