"""vectorize, apply_along_axis, apply_over_axes, piecewise and fromfunction: values and shapes against NumPy,
gradients and vmap, errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import fnx
import fnx.numpy as fnp
from fnx.errors import ShapeError
from fnx.testing import check_grads, check_vmap


def _cross(a, b):
    assert a.shape == b.shape == (3,)  # vectorize hands over core dimensions only
    return fnp.stack([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]])


@given(sa=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3), data=st.data())
def test_vectorize_signature_broadcasts_like_numpy(sa, data):
    sb = data.draw(hnp.broadcastable_shapes(sa, min_dims=0, max_dims=3, max_side=3))
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=sa + (3,)), rng.normal(size=sb + (3,))
    out = fnp.vectorize(_cross, signature="(k),(k)->(k)")(fnp.asarray(a), fnp.asarray(b))
    expected = np.vectorize(np.cross, signature="(k),(k)->(k)")(a, b)
    assert out.shape == expected.shape and out.dtype == expected.dtype
    np.testing.assert_allclose(out, expected, rtol=1e-12)


def test_vectorize_scalar_functions_multiple_outputs_and_excluded():
    x = np.arange(6.).reshape(2, 3)
    out = fnp.vectorize(lambda v: v * 2 + 1)(fnp.asarray(x))
    np.testing.assert_array_equal(out, x * 2 + 1)
    assert fnp.vectorize(lambda v: v + 1)(fnp.ones((1, 3, 1))).shape == (1, 3, 1)  # unmapped size-1 loop axes
    mv = fnp.vectorize(lambda m, v: m @ v, signature="(n,m),(m)->(n)")
    assert mv(fnp.ones((2, 3)), fnp.ones((4, 3))).shape == (4, 2)
    stats = fnp.vectorize(lambda v: (fnp.mean(v), fnp.max(v)), signature="(n)->(),()")
    mean, mx = stats(fnp.asarray(x))
    np.testing.assert_allclose(mean, x.mean(1))
    np.testing.assert_array_equal(mx, x.max(1))
    power = fnp.vectorize(lambda v, n, *, shift: v ** n + shift, excluded={1, "shift"})
    np.testing.assert_array_equal(power(fnp.asarray(x), 2, shift=1.), x ** 2 + 1)
    np.testing.assert_array_equal(fnp.vectorize(lambda v, w: v if w is None else v + w)(fnp.asarray(x), None), x)
    scaled = fnp.vectorize(lambda v, *, scale: v * scale)  # keyword arguments not excluded pass through as given
    np.testing.assert_array_equal(scaled(fnp.asarray(x), scale=3.), x * 3.)


def test_vectorize_gradients_and_vmap():
    norm = fnp.vectorize(lambda v: fnp.sqrt(fnp.sum(v * v)), signature="(n)->()")
    x = fnp.asarray(np.array([[0.3, -1.2, 2.5], [1.7, 0.1, -0.4]]))
    check_grads(norm, (x,), order=2)
    check_vmap(norm, (fnp.asarray(np.random.default_rng(1).normal(size=(4, 2, 3))),))
    np.testing.assert_allclose(fnx.grad(lambda v: fnp.sum(norm(v)))(x), x / np.linalg.norm(x, axis=1)[:, None])


def test_vectorize_errors():
    dot = fnp.vectorize(lambda a, b: fnp.sum(a * b), signature="(n),(n)->()")
    with pytest.raises(ShapeError, match="core dimension 'n' has size 4"):
        dot(fnp.ones(3), fnp.ones(4))
    with pytest.raises(ShapeError, match="fewer dimensions than its core dimensions"):
        fnp.vectorize(lambda m: m, signature="(n,m)->(n,m)")(fnp.ones(3))
    with pytest.raises(ShapeError, match="do not broadcast"):
        dot(fnp.ones((2, 3)), fnp.ones((4, 3)))
    with pytest.raises(ShapeError, match="output 0 has shape"):
        fnp.vectorize(lambda a: a, signature="(n)->()")(fnp.ones(3))
    with pytest.raises(TypeError, match="takes 2 array arguments, got 1"):
        dot(fnp.ones(3))
    with pytest.raises(TypeError, match="must return a tuple"):
        fnp.vectorize(lambda a: a, signature="()->(),()")(fnp.ones(3))
    with pytest.raises(ValueError, match="not a valid gufunc signature"):
        fnp.vectorize(lambda a: a, signature="(n)->")
    with pytest.raises(ValueError, match="negative"):
        fnp.vectorize(lambda a: a, excluded={-1})


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_apply_along_axis_matches_numpy(axis):
    x = np.random.default_rng(2).normal(size=(2, 3, 4))
    for f_np, f_fnx in ((lambda v: v.sum() * v[0], lambda v: fnp.sum(v) * v[0]),
                        (lambda v: np.stack([v, 2 * v]), lambda v: fnp.stack([v, 2 * v])),
                        (lambda v, k: np.sort(v)[k:], lambda v, k: fnp.sort(v)[k:])):
        args = (1,) if f_np.__code__.co_argcount == 2 else ()
        out = fnp.apply_along_axis(f_fnx, axis, fnp.asarray(x), *args)
        expected = np.apply_along_axis(f_np, axis, x, *args)
        assert out.shape == expected.shape
        np.testing.assert_allclose(out, expected, rtol=1e-12)
    check_grads(lambda a: fnp.apply_along_axis(lambda v: fnp.sum(v ** 2) * v, axis, a), (fnp.asarray(x),))
    with pytest.raises(Exception, match="apply_along_axis"):
        fnp.apply_along_axis(fnp.sum, 3, fnp.asarray(x))


def test_apply_over_axes_matches_numpy():
    x = np.arange(24.).reshape(2, 3, 4)
    for axes in ([0, 2], (1,), 2, [-1, 0]):
        out = fnp.apply_over_axes(fnp.sum, fnp.asarray(x), axes)
        expected = np.apply_over_axes(np.sum, x, axes)
        assert out.shape == expected.shape
        np.testing.assert_array_equal(out, expected)
    out = fnp.apply_over_axes(lambda a, ax: fnp.cumsum(a, axis=ax), fnp.asarray(x), [1])
    np.testing.assert_array_equal(out, np.cumsum(x, axis=1))
    check_grads(lambda a: fnp.apply_over_axes(fnp.max, a, [0, 1]), (fnp.asarray(x + np.sin(x)),))
    with pytest.raises(ShapeError, match="apply_over_axes"):
        fnp.apply_over_axes(lambda a, ax: fnp.sum(a), fnp.asarray(x), [0])


def test_piecewise_matches_numpy():
    x = np.linspace(-2.5, 2.5, 11)
    conds_np = [x < 0, x >= 0]
    funcs_np = [lambda v: -v, lambda v: v ** 2]
    funcs = [lambda v: -v, lambda v: v ** 2]
    out = fnp.piecewise(fnp.asarray(x), [fnp.asarray(c) for c in conds_np], funcs)
    np.testing.assert_allclose(out, np.piecewise(x, conds_np, funcs_np))
    # constants, an 'otherwise' function, overlapping conditions (the last wins), extra arguments
    conds = [x < -1, x > 1, np.abs(x) < 2]
    for funclist in ([1., 2., 3.], [1., 2., 3., lambda v, k: k * v], [lambda v, k: v + k, 0, 5]):
        out = fnp.piecewise(fnp.asarray(x), [fnp.asarray(c) for c in conds], funclist, 10.)
        expected = np.piecewise(x, conds, funclist, 10.)
        assert out.dtype == expected.dtype
        np.testing.assert_allclose(out, expected)
    ints = np.arange(-3, 4)
    out = fnp.piecewise(fnp.asarray(ints), [fnp.asarray(ints) < 0], [lambda v: v * 1.5, 7.9])
    expected = np.piecewise(ints, [ints < 0], [lambda v: v * 1.5, 7.9])
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(fnp.piecewise(fnp.asarray(3.), fnp.asarray(True), [lambda v: v + 1, 0.]), 4.)
    xs = fnp.asarray(x)
    check_grads(lambda v: fnp.piecewise(v, [v < 0, v >= 0], [lambda a: fnp.sin(a), lambda a: a ** 3]), (xs + 0.1,))
    with pytest.raises(ValueError, match="piecewise: with 2 condition"):
        fnp.piecewise(xs, [xs < 0, xs > 0], [1.])
    with pytest.raises(ShapeError, match="piecewise"):
        fnp.piecewise(xs, [fnp.ones(3, dtype=bool)], [1.])


def test_fromfunction():
    out = fnp.fromfunction(lambda i, j: i + 10 * j, (2, 3), dtype=int)
    expected = np.fromfunction(lambda i, j: i + 10 * j, (2, 3), dtype=int)
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out, expected)
    out = fnp.fromfunction(lambda i, j, k, scale: scale * (i - j * k), (2, 3, 4), dtype=fnp.float64, scale=2.)
    np.testing.assert_array_equal(out, np.fromfunction(lambda i, j, k: 2. * (i - j * k), (2, 3, 4)))
    assert fnp.fromfunction(lambda i: i, 4).dtype == fnp.float32  # float means fnx's default float
    assert fnp.fromfunction(lambda i, j: 1., (2, 2)).shape == (2, 2)  # always the full shape, as in JAX
    with pytest.raises(ValueError, match="negative"):
        fnp.fromfunction(lambda i: i, (-1,))
