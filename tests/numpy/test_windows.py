"""Window primitives (conv, patches, patches_transpose, max_pool): registry cases against loop references,
batching composed with derivatives, errors."""
import itertools

import numpy as np
import pytest
from hypothesis import assume, strategies as st
from hypothesis.extra import numpy as hnp

import fnx
import fnx.numpy as fnp
from fnx.errors import DTypeError, ShapeError
from fnx.numpy import windows as W
from fnx.testing import check_grads, check_vmap
from .harness import Case, numpy_arrays

# ----- references: the definitions, element by element --------------------------------------


def conv_ref(x, w, strides, padding, lhs_dilation, rhs_dilation, groups):
    """out[n, o, p] = sum over c, k of x[n, g*Cg + c, i] w[o, c, k], where the input index i sits at
    i*lhs_dilation - low = p*stride + k*rhs_dilation in dilated, padded coordinates."""
    nd = x.ndim - 2
    n, c = x.shape[:2]
    o, cg = w.shape[:2]
    og = o // groups
    out_sp = tuple(max(0, ((m - 1) * b + 1 + lo + hi - (k - 1) * d - 1) // s + 1)
                   for m, k, s, (lo, hi), b, d in zip(x.shape[2:], w.shape[2:], strides, padding, lhs_dilation,
                                                      rhs_dilation))
    y = np.zeros((n, o) + out_sp, np.result_type(x, w))
    for e, oo, *p in np.ndindex(n, o, *out_sp):
        g = oo // og
        for cc, k in itertools.product(range(cg), np.ndindex(*w.shape[2:])):
            idx = []
            for j in range(nd):
                q = p[j] * strides[j] + k[j] * rhs_dilation[j] - padding[j][0]
                if q % lhs_dilation[j] or not 0 <= q // lhs_dilation[j] < x.shape[2 + j]:
                    break
                idx.append(q // lhs_dilation[j])
            else:
                y[(e, oo) + tuple(p)] += x[(e, g * cg + cc) + tuple(idx)] * w[(oo, cc) + k]
    return y


def _windows_ref(x, window, strides, dilation, fill=None):
    """Every window of x's trailing axes: a dict from (lead index, out index) to the window's values."""
    nd = len(window)
    lead, sp = x.shape[:x.ndim - nd], x.shape[x.ndim - nd:]
    out = tuple(max(0, (n - (k - 1) * d - 1) // s + 1) for n, k, s, d in zip(sp, window, strides, dilation))
    res = {}
    for li in np.ndindex(*lead):
        for oi in np.ndindex(*out):
            res[li, oi] = np.array([x[li + tuple(o * s + a * d for o, s, a, d in zip(oi, strides, k, dilation))]
                                    for k in np.ndindex(*window)]).reshape(window)
    return lead, out, res


def patches_ref(x, window, strides, dilation):
    lead, out, res = _windows_ref(x, window, strides, dilation)
    y = np.zeros(lead + out + tuple(window), x.dtype)
    for (li, oi), v in res.items():
        y[li + oi] = v
    return y


def patches_transpose_ref(cols, shape, window, strides, dilation):
    nd = len(window)
    y = np.zeros(shape, cols.dtype)
    lead, out = cols.shape[:cols.ndim - 2 * nd], cols.shape[cols.ndim - 2 * nd:cols.ndim - nd]
    for li, oi, k in itertools.product(np.ndindex(*lead), np.ndindex(*out), np.ndindex(*window)):
        y[li + tuple(o * s + a * d for o, s, a, d in zip(oi, strides, k, dilation))] += cols[li + oi + k]
    return y


def max_pool_ref(x, window, strides, padding, dilation):
    lead = x.ndim - len(window)
    xp = np.pad(x, ((0, 0),) * lead + tuple(padding), constant_values=-np.inf)
    lead_shape, out, res = _windows_ref(xp, window, strides, dilation)
    y = np.zeros(lead_shape + out, x.dtype)
    for (li, oi), v in res.items():
        y[li + oi] = v.max()
    return y


def max_pool_argmax_ref(x, window, strides, padding, dilation):
    lead = x.ndim - len(window)
    xp = np.pad(x, ((0, 0),) * lead + tuple(padding), constant_values=-np.inf)
    lead_shape, out, res = _windows_ref(xp, window, strides, dilation)
    y = np.zeros(lead_shape + out, np.int64)
    for (li, oi), v in res.items():
        y[li + oi] = next(i for i, e in enumerate(v.reshape(-1)) if e == v.max())
    return y


# ----- strategies --------------------------------------------------------------------------------


@st.composite
def conv_args(draw, nd=None, max_side=4):
    """(x, w, strides, padding, lhs_dilation, rhs_dilation, groups), with at least one output position."""
    nd = draw(st.sampled_from([1, 2])) if nd is None else nd
    n, groups, cg, og = (draw(st.integers(1, 2)) for _ in range(4))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    strides, lhs_dil, rhs_dil = (tuple(draw(st.integers(1, 2)) for _ in range(nd)) for _ in range(3))
    padding = tuple((draw(st.integers(-1, 2)), draw(st.integers(-1, 2))) for _ in range(nd))
    sizes = []
    for kk, (lo, hi), b, d in zip(k, padding, lhs_dil, rhs_dil):
        need = (kk - 1) * d + 1 - lo - hi  # the dilated input must be at least this long
        smallest = max(1, -(-(need - 1) // b) + 1)
        sizes.append(draw(st.integers(smallest, max(smallest, max_side))))
    x = draw(numpy_arrays(st.just((n, groups * cg) + tuple(sizes))))
    w = draw(numpy_arrays(st.just((groups * og, cg) + k)))
    return x, w, strides, padding, lhs_dil, rhs_dil, groups


def _touches_input(size, window, stride, padding, dilation):
    """Whether every window along one axis holds at least one element of the input."""
    lo, hi = padding
    count = (size + lo + hi - (window - 1) * dilation - 1) // stride + 1
    return all(any(0 <= o * stride - lo + j * dilation < size for j in range(window)) for o in range(count))


@st.composite
def window_args(draw, lead_dims=(0, 2), pad=False, distinct=False, ties=False):
    """(x, window, strides, [padding,] dilation) with at least one window."""
    nd = draw(st.sampled_from([1, 2]))
    lead = tuple(draw(st.lists(st.integers(1, 2), min_size=lead_dims[0], max_size=lead_dims[1])))
    window = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    strides, dilation = (tuple(draw(st.integers(1, 2)) for _ in range(nd)) for _ in range(2))
    padding = tuple((draw(st.integers(0, k // 2)), draw(st.integers(0, k // 2))) for k in window) if pad else \
        ((0, 0),) * nd
    sizes = tuple(draw(st.integers(max(1, (k - 1) * d + 1 - lo - hi), 5))
                  for k, d, (lo, hi) in zip(window, dilation, padding))
    shape = lead + sizes
    if pad:  # a window of padding only has no input to differentiate (max_pool gives -inf there)
        assume(all(_touches_input(n, k, s, p, d) for n, k, s, p, d in zip(sizes, window, strides, padding, dilation)))
    if distinct:  # well-separated values, so a window's maximum is unique under central differences
        perm = draw(st.permutations(range(int(np.prod(shape)))))
        x = np.asarray(perm, np.float64).reshape(shape) * 0.37 - 1.0
    elif ties:  # few distinct values: the first maximum must win
        x = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 0.0, 2.0])))
    else:
        x = draw(numpy_arrays(st.just(shape)))
    return (x, window, strides) + ((padding,) if pad else ()) + (dilation,)


@st.composite
def patches_transpose_args(draw):
    x, window, strides, dilation = draw(window_args())
    cols = draw(numpy_arrays(st.just(patches_ref(x, window, strides, dilation).shape)))
    return cols, x.shape, window, strides, dilation


CASES = [
    Case("conv", lambda x, w, *p: W.conv_general_dilated(x, w, *p), conv_ref, conv_args(nd=1, max_side=5),
         diff=(0, 1), name="conv1d"),
    Case("conv", lambda x, w, *p: W.conv_general_dilated(x, w, *p), conv_ref, conv_args(nd=2, max_side=3),
         diff=(0, 1), name="conv2d"),
    Case("patches", W.patches, patches_ref, window_args()),
    Case("patches_transpose", W.patches_transpose, patches_transpose_ref, patches_transpose_args()),
    Case("max_pool", W.max_pool, max_pool_ref, window_args(pad=True, distinct=True)),
    Case("max_pool_argmax", W.max_pool_argmax, max_pool_argmax_ref, window_args(pad=True, ties=True), grad=False),
]

# ----- values beyond the registry's draws ------------------------------------------------------------


def test_conv_3d_and_float32():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 4, 5, 3)).astype(np.float32)
    w = rng.standard_normal((6, 2, 2, 3, 2)).astype(np.float32)
    p = ((1, 0), (0, 2), (1, 1)), (2, 1, 1), (1, 2, 1), 2
    y = W.conv_general_dilated(x, w, (1, 2, 1), p[0], p[1], p[2], p[3])
    assert y.dtype == np.float32
    np.testing.assert_allclose(np.asarray(y), conv_ref(x, w, (1, 2, 1), *p), rtol=1e-4, atol=1e-4)


def test_max_pool_routes_ties_to_the_first_maximum():
    x = fnp.array([[2.0, 2.0, 1.0, 2.0]])
    g = fnx.grad(lambda x: fnp.sum(W.max_pool(x, (3,), (1,))))(x)
    np.testing.assert_array_equal(np.asarray(g), [[1.0, 1.0, 0.0, 0.0]])  # windows (2, 2, 1), (2, 1, 2)
    t = fnx.jvp(lambda x: W.max_pool(x, (2,), (2,)), (x,), (fnp.array([[1.0, 2.0, 3.0, 4.0]]),))[1]
    np.testing.assert_array_equal(np.asarray(t), [[1.0, 4.0]])


def test_max_pool_of_integers():
    x = fnp.array([[3, -1, 7], [0, 2, 2]])
    np.testing.assert_array_equal(np.asarray(W.max_pool(x, (2, 2), (1, 1), [(0, 1), (1, 0)])), [[3, 3, 7], [0, 2, 2]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradients_keep_the_input_dtype(dtype):
    x = fnp.asarray(np.ones((1, 2, 4, 4), dtype))
    w = fnp.asarray(np.ones((3, 2, 2, 2), dtype))
    gx, gw = fnx.grad(lambda x, w: fnp.sum(W.conv_general_dilated(x, w, (2, 1), [(1, 0), (0, 1)])), (0, 1))(x, w)
    assert gx.dtype == gw.dtype == dtype
    assert fnx.grad(lambda x: fnp.sum(W.max_pool(x, (2, 2), (2, 2))))(x).dtype == dtype


def test_conv_hessian_vector_product_with_strides_and_transposition():
    rng = np.random.default_rng(1)
    x = fnp.asarray(rng.standard_normal((1, 2, 4)))
    w = fnp.asarray(rng.standard_normal((2, 1, 3)))

    def f(x, w):
        y = W.conv_general_dilated(x, w, (2,), [(2, 1)], (2,), (1,), 2)
        return fnp.sum(fnp.sin(y))
    check_grads(f, (x, w), order=3, modes=("rev",))


# ----- vmap composed with derivatives -------------------------------------------------------------


def _conv(x, w):
    return W.conv_general_dilated(x, w, (2, 1), [(1, 1), (0, 1)], (1, 1), (1, 2), 2)


def test_vmap_of_conv_in_each_argument_and_both():
    rng = np.random.default_rng(2)
    xs = fnp.asarray(rng.standard_normal((3, 2, 4, 5, 4)))
    ws = fnp.asarray(rng.standard_normal((3, 6, 2, 2, 2)))
    check_vmap(_conv, (xs, ws[0]), in_axes=(0, None))
    check_vmap(_conv, (fnp.moveaxis(xs, 0, 2), ws[0]), in_axes=(2, None))
    check_vmap(_conv, (xs[0], fnp.moveaxis(ws, 0, -1)), in_axes=(None, -1))
    check_vmap(_conv, (fnp.moveaxis(xs, 0, 1), ws), in_axes=(1, 0), out_axes=2)


def test_vmap_of_grad_and_grad_of_vmap():
    rng = np.random.default_rng(3)
    xs = fnp.asarray(rng.standard_normal((3, 1, 2, 4, 4)))
    w = fnp.asarray(rng.standard_normal((4, 1, 3, 3)))

    def loss(x, w):
        y = W.max_pool(fnp.tanh(_conv(x, w)), (2, 2), (1, 1), [(0, 1), (1, 0)])
        return fnp.sum(y * y)

    per_example = fnx.vmap(fnx.grad(loss, (0, 1)), in_axes=(0, None))(xs, w)
    for i in range(3):
        gx, gw = fnx.grad(loss, (0, 1))(xs[i], w)
        np.testing.assert_allclose(np.asarray(per_example[0][i]), np.asarray(gx), rtol=1e-10)
        np.testing.assert_allclose(np.asarray(per_example[1][i]), np.asarray(gw), rtol=1e-10)
    check_grads(lambda w: fnp.sum(fnx.vmap(loss, in_axes=(0, None))(xs, w)), (w,), order=1)
    x = fnp.moveaxis(xs, 0, 1)[:, :, :, :3, :3]
    check_grads(lambda x: fnx.vmap(lambda x: _conv(x, w), in_axes=1, out_axes=1)(x), (x,), order=2, modes=("rev",))


# ----- errors ------------------------------------------------------------------------------------


def test_errors_name_the_operation():
    x, w = fnp.ones((1, 4, 5)), fnp.ones((2, 3, 2))
    with pytest.raises(ShapeError, match="conv_general_dilated: lhs has 4 channels"):
        W.conv_general_dilated(x, w)
    with pytest.raises(DTypeError, match="conv_general_dilated: lhs is float32 but rhs is float64"):
        W.conv_general_dilated(x, fnp.ones((2, 4, 2), dtype="float64"))
    with pytest.raises(ShapeError, match="conv_general_dilated: padding has 2 pairs for 1 spatial axes"):
        W.conv_general_dilated(x, fnp.ones((2, 4, 2)), padding=[(0, 0), (1, 1)])
    with pytest.raises(ValueError, match="window_strides must be 1 positive ints"):
        W.conv_general_dilated(x, fnp.ones((2, 4, 2)), window_strides=(0,))
    with pytest.raises(ShapeError, match="patches_transpose: windows of shape"):
        W.patches_transpose(fnp.ones((3, 2)), (5,), (2,))
    with pytest.raises(ValueError, match="max_pool: padding must be non-negative"):
        W.max_pool(fnp.ones(4), (2,), padding=[(-1, 0)])


def test_regression_crop_reaching_into_padding():
    """Found by CI: padding (2, -1) on one element must keep one padded zero (pad first, then crop)."""
    import fnx.numpy.windows as W
    from fnx.testing import check_grads
    x = fnp.asarray(np.array([[[0.3]]]))
    w = fnp.asarray(np.array([[[0.7]]]))
    f = lambda x, w: W.conv_general_dilated(x, w, (2,), ((2, -1),), (1,), (1,), 1)
    assert np.asarray(f(x, w)).tolist() == [[[0.0]]]
    check_grads(f, (x, w), order=2)
