"""fnx.lax's operations (jax.lax's names): C-style integer division, lax's rounding, padding with
interior and negative edges, dynamic slices (clamped, traced starts), windows, dot_general, convolutions in
any layout, scans and sorts. Semantics are written out in NumPy below; the last test runs a table of 70
calls on fnx and on jax.lax side by side where jax is installed (float64 there)."""

import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx import lax
from fnx.errors import DTypeError, ShapeError
from fnx.testing import check_grads


def test_integer_division_and_remainder_are_c_style():
    i, j = fnp.asarray(np.array([-7, 7, 9, -9, 0])), fnp.asarray(np.array([2, -2, 4, 4, 3]))
    assert lax.div(i, j).tolist() == [-3, -3, 2, -2, 0]  # toward zero, not floor
    assert lax.rem(i, j).tolist() == [-1, 1, 1, -1, 0]  # the dividend's sign
    np.testing.assert_allclose(lax.div(fnp.asarray(np.array([1.0, -3.0])), 2.0), [0.5, -1.5])


def test_rounding_and_bit_operations():
    x = fnp.asarray(np.array([0.5, 1.5, -0.5, -2.5, 2.4]))
    assert lax.round(x).tolist() == [1.0, 2.0, -1.0, -3.0, 2.0]
    assert lax.round(x, lax.RoundingMethod.TO_NEAREST_EVEN).tolist() == [0.0, 2.0, -0.0, -2.0, 2.0]
    n = fnp.asarray(np.array([-8, 8, 1, 0, -1], np.int32))
    assert lax.shift_right_logical(n, fnp.ones(5, "int32")).tolist() == [2147483644, 4, 0, 0, 2147483647]
    assert lax.shift_right_arithmetic(n, fnp.ones(5, "int32")).tolist() == [-4, 4, 0, 0, -1]
    assert lax.population_count(n).tolist() == [29, 1, 1, 0, 32]
    assert lax.clz(n).tolist() == [0, 28, 31, 32, 0]
    assert lax.convert_element_type(fnp.asarray([-1.7, 2.7]), "int32").tolist() == [-1, 2]
    np.testing.assert_allclose(lax.integer_pow(fnp.asarray([2.0, 4.0]), -2), [0.25, 0.0625])


def test_binary_operations_refuse_mixed_dtypes():
    with pytest.raises(DTypeError, match="lax.add requires arguments to have the same dtypes, got float32, float64"):
        lax.add(fnp.ones(2, "float32"), fnp.ones(2, "float64"))
    np.testing.assert_allclose(lax.add(fnp.ones(2, "float32"), 1.0), [2.0, 2.0])  # Python scalars are weak
    assert lax.max(fnp.asarray([1.0, np.nan]), fnp.asarray([2.0, 1.0])).tolist()[0] == 2.0
    assert np.isnan(lax.max(fnp.asarray([1.0, np.nan]), fnp.asarray([2.0, 1.0]))[1])


def test_pad_interior_and_negative_edges():
    np.testing.assert_array_equal(lax.pad(fnp.arange(1.0, 4.0), 0.0, [(1, 2, 1)]), [0, 1, 0, 2, 0, 3, 0, 0])
    np.testing.assert_array_equal(lax.pad(fnp.arange(1.0, 6.0), -1.0, [(-1, -2, 0)]), [2, 3])
    a = np.arange(6.0).reshape(2, 3)
    out = lax.pad(fnp.asarray(a), 9.0, [(1, -1, 1), (0, 2, 2)])
    expected = np.full((3 + 1 - 1, 3 + 2 * 2 + 2), 9.0)
    spread = np.full((3, 7), 9.0)
    spread[::2, ::3] = a
    expected = np.concatenate([np.full((1, 7), 9.0), spread[:-1]], 0)
    expected = np.concatenate([expected, np.full((3, 2), 9.0)], 1)
    np.testing.assert_array_equal(out, expected)
    check_grads(lambda v: lax.pad(v, 0.5, [(2, -1, 1), (1, 0, 0)]), (fnp.asarray(a),), order=2)
    with pytest.raises(ShapeError, match="one \\(low, high, interior >= 0\\) per axis"):
        lax.pad(fnp.asarray(a), 0.0, [(0, 0, 0)])


def test_dynamic_slices_clamp_wrap_and_trace():
    a = np.arange(12.0).reshape(3, 4)
    x = fnp.asarray(a)
    np.testing.assert_array_equal(lax.dynamic_slice(x, (2, 3), (2, 2)), a[1:3, 2:4])  # moved back to fit
    np.testing.assert_array_equal(lax.dynamic_slice(fnp.arange(10.0), (-3,), (2,)), [7.0, 8.0])  # from the end
    np.testing.assert_array_equal(lax.dynamic_update_slice(fnp.arange(5.0), fnp.ones(2), (4,)), [0, 1, 2, 1, 1])
    np.testing.assert_array_equal(lax.dynamic_index_in_dim(x, 2, 0, keepdims=False), a[2])
    np.testing.assert_array_equal(
        lax.dynamic_update_index_in_dim(x, fnp.zeros(4, x.dtype), 1, 0), np.where(np.arange(3)[:, None] == 1, 0.0, a)
    )
    np.testing.assert_array_equal(fnx.jit(lambda v, i: lax.dynamic_slice(v, (i, 0), (2, 4)))(x, 1), a[1:3])
    starts = fnp.asarray(np.array([0, 4, 9]))
    got = fnx.vmap(lambda i: lax.dynamic_slice_in_dim(fnp.arange(10.0), i, 3))(starts)
    np.testing.assert_array_equal(got, [[0, 1, 2], [4, 5, 6], [7, 8, 9]])
    g = fnx.grad(lambda v: fnp.sum(lax.dynamic_slice(v, (1, 1), (2, 2)) ** 2))(x)
    expected = np.zeros_like(a)
    expected[1:3, 1:3] = 2 * a[1:3, 1:3]
    np.testing.assert_array_equal(g, expected)


def _pool_reference(x, window, stride, op):
    out = np.empty(tuple((n - k) // s + 1 for n, k, s in zip(x.shape, window, stride)))
    for idx in np.ndindex(out.shape):
        region = x[tuple(slice(i * s, i * s + k) for i, s, k in zip(idx, stride, window))]
        out[idx] = op(region)
    return out


def test_reduce_window_pools_in_any_layout():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 6, 5, 3))
    got = lax.reduce_window(fnp.asarray(x), -np.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
    np.testing.assert_allclose(got, _pool_reference(x, (1, 2, 2, 1), (1, 2, 2, 1), np.max))
    got = lax.reduce_window(fnp.asarray(x), 0.0, lax.add, (1, 3, 3, 1), (1, 1, 2, 1), "VALID")
    np.testing.assert_allclose(got, _pool_reference(x, (1, 3, 3, 1), (1, 1, 2, 1), np.sum))
    np.testing.assert_array_equal(
        lax.reduce_window(fnp.arange(6.0), -np.inf, lax.max, (3,), (1,), "SAME"), [1, 2, 3, 4, 5, 5]
    )
    np.testing.assert_array_equal(
        lax.reduce_window(fnp.arange(5.0), 0.0, lax.add, (2,), (1,), [(1, 1)], base_dilation=(2,)),
        [0, 0, 1, 1, 2, 2, 3, 3, 4, 4],
    )
    # Any associative function, not only lax's monoids.
    got = lax.reduce_window(fnp.arange(1.0, 7.0), 1.0, lambda a, b: a * b, (2,), (2,), "VALID")
    np.testing.assert_array_equal(got, [2, 12, 30])
    check_grads(
        lambda v: lax.reduce_window(v, 0.0, lax.add, (1, 2, 2, 1), (1, 1, 1, 1), "SAME"),
        (fnp.asarray(x[:1, :3, :3, :1]),),
        order=2,
    )


def test_dot_general_layout():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 4, 5))
    got = lax.dot_general(fnp.asarray(a), fnp.asarray(b), (((2,), (1,)), ((0,), (0,))))
    np.testing.assert_allclose(got, np.einsum("bij,bjk->bik", a, b))
    c = rng.normal(size=(4, 3, 2))
    got = lax.dot_general(fnp.asarray(c), fnp.asarray(a), (((0, 1), (2, 1)), ((), ())))
    np.testing.assert_allclose(got, np.einsum("jik,bij->kb", c, a))
    with pytest.raises(ShapeError, match="do not match"):
        lax.dot_general(fnp.asarray(a), fnp.asarray(b), (((1,), (1,)), ((), ())))


def test_convolutions_match_the_nchw_reference():
    rng = np.random.default_rng(3)
    x, k = rng.normal(size=(2, 6, 5, 3)), rng.normal(size=(3, 2, 3, 4))  # NHWC, HWIO
    got = lax.conv_general_dilated(
        fnp.asarray(x), fnp.asarray(k), (2, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
    # SAME: out = ceil(n / s), the odd padding at the end; checked against PyTorch-layout conv2d.
    pads = lax.padtype_to_pads((6, 5), (3, 2), (2, 1), "SAME")
    assert pads == [(0, 1), (0, 1)]
    xp = np.pad(x, ((0, 0), (0, 1), (0, 1), (0, 0)))
    ref = fnx.nn.functional.conv2d(
        fnp.asarray(xp.transpose(0, 3, 1, 2)), fnp.asarray(k.transpose(3, 2, 0, 1)), stride=(2, 1)
    )
    np.testing.assert_allclose(got, np.asarray(ref).transpose(0, 2, 3, 1), rtol=1e-12)
    assert lax.padtype_to_pads((6,), (3,), (2,), "SAME_LOWER") == [(1, 0)]
    dn = lax.conv_dimension_numbers((1, 5, 5, 2), (3, 3, 2, 4), ("NHWC", "HWIO", "NHWC"))
    assert tuple(dn) == ((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))
    with pytest.raises(ValueError, match="string padding is not implemented with lhs_dilation"):
        lax.conv_general_dilated(
            fnp.asarray(x),
            fnp.asarray(k),
            (1, 1),
            "SAME",
            lhs_dilation=(2, 2),
            dimension_numbers=("NHWC", "HWIO", "NHWC"),
        )
    check_grads(
        lambda a, b: lax.conv_general_dilated(a, b, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")),
        (fnp.asarray(x[:1, :3, :3, :2]), fnp.asarray(k[:, :, :2, :2])),
        order=1,
    )


def test_conv_transpose_is_the_gradient_of_conv():
    """With transpose_kernel, conv_transpose of a cotangent is conv's input gradient (TensorFlow layouts)."""
    rng = np.random.default_rng(4)
    x, k = rng.normal(size=(1, 6, 6, 2)), rng.normal(size=(3, 3, 2, 4))
    dims = ("NHWC", "HWIO", "NHWC")
    y, pull = fnx.vjp(
        lambda v: lax.conv_general_dilated(v, fnp.asarray(k), (2, 2), "SAME", dimension_numbers=dims), fnp.asarray(x)
    )
    ct = fnp.asarray(rng.normal(size=y.shape))
    got = lax.conv_transpose(ct, fnp.asarray(k), (2, 2), "SAME", dimension_numbers=dims, transpose_kernel=True)
    np.testing.assert_allclose(got, pull(ct)[0], rtol=1e-10, atol=1e-12)


def test_scans_sorts_and_the_rest():
    a = np.arange(12.0).reshape(3, 4) - 5
    x = fnp.asarray(a)
    np.testing.assert_array_equal(lax.cummax(fnp.asarray([1.0, 3.0, 2.0, 5.0]), reverse=True), [5, 5, 5, 5])
    np.testing.assert_allclose(lax.cumlogsumexp(x, axis=1), np.logaddexp.accumulate(a, axis=1))
    np.testing.assert_array_equal(lax.cumsum(x, axis=0, reverse=True), np.cumsum(a[::-1], 0)[::-1])
    np.testing.assert_array_equal(lax.associative_scan(fnp.add, fnp.arange(5.0)), [0, 1, 3, 6, 10])
    values, index = lax.top_k(fnp.asarray([1.0, 5.0, 3.0, 5.0]), 2)
    assert values.tolist() == [5.0, 5.0] and index.tolist() == [1, 3] and index.dtype == np.int32
    k, v = lax.sort((fnp.asarray([3.0, 1.0, 3.0, 2.0]), fnp.asarray([0.0, 5.0, -1.0, 2.0])), num_keys=2)
    assert k.tolist() == [1, 2, 3, 3] and v.tolist() == [5, 2, -1, 0]
    np.testing.assert_array_equal(lax.reduce(x, 0.0, lax.add, (1,)), a.sum(1))
    total, biggest = lax.reduce((x, x * 2), (0.0, -np.inf), lambda p, q: (p[0] + q[0], fnp.maximum(p[1], q[1])), (0,))
    np.testing.assert_array_equal(total, a.sum(0))
    np.testing.assert_array_equal(biggest, (2 * a).max(0))
    np.testing.assert_array_equal(
        lax.select_n(fnp.asarray([0, 1, 2]), fnp.zeros(3), fnp.ones(3), 2 * fnp.ones(3)), [0, 1, 2]
    )
    np.testing.assert_array_equal(
        lax.broadcast_in_dim(fnp.arange(3.0), (2, 3, 4), (1,)),
        np.broadcast_to(np.arange(3.0)[None, :, None], (2, 3, 4)),
    )
    np.testing.assert_array_equal(lax.broadcasted_iota("int32", (2, 3), 1), [[0, 1, 2], [0, 1, 2]])
    np.testing.assert_array_equal(lax.reshape(x, (4, 3), dimensions=(1, 0)), a.T.reshape(4, 3))
    rolled = fnx.vmap(lambda v: lax.ppermute(v, "i", [(0, 1), (1, 2), (2, 0)]), axis_name="i")(fnp.arange(1.0, 4.0))
    np.testing.assert_array_equal(rolled, [3, 1, 2])
    assert fnx.vmap(lambda v: v * lax.axis_size("i"), axis_name="i")(fnp.ones(4)).tolist() == [4.0] * 4


def _cases(lax, jnp, grad, vmap, jit):
    R = np.random.default_rng(0)
    A = jnp.asarray(np.arange(12.0).reshape(3, 4) - 5)
    I = jnp.asarray(np.array([-7, 7, 9, -9, 0]))
    J = jnp.asarray(np.array([2, -2, 4, 4, 3]))
    X4 = jnp.asarray(R.normal(size=(2, 6, 5, 3)))
    K4 = jnp.asarray(R.normal(size=(3, 2, 3, 4)))
    return {
        "rsqrt": lambda: lax.rsqrt(jnp.abs(A) + 1),
        "logistic": lambda: lax.logistic(A),
        "div": lambda: lax.div(I, J),
        "rem": lambda: lax.rem(I, J),
        "divf": lambda: lax.div(A, 3.0),
        "round": lambda: lax.round(jnp.asarray([0.5, 1.5, -0.5, -2.5, 2.4])),
        "round_even": lambda: lax.round(jnp.asarray([0.5, 1.5, -0.5, -2.5]), lax.RoundingMethod.TO_NEAREST_EVEN),
        "cvt": lambda: lax.convert_element_type(jnp.asarray([-1.7, 2.7]), jnp.int32),
        "ipow": lambda: lax.integer_pow(A + 0.5, -2),
        "ipow3": lambda: lax.integer_pow(A, 3),
        "srl": lambda: lax.shift_right_logical(
            jnp.asarray(np.array([-8, 8], np.int32)), jnp.asarray(np.array([1, 1], np.int32))
        ),
        "sra": lambda: lax.shift_right_arithmetic(
            jnp.asarray(np.array([-8, 8], np.int32)), jnp.asarray(np.array([1, 1], np.int32))
        ),
        "popc": lambda: lax.population_count(jnp.asarray(np.array([7, -1, 0], np.int32))),
        "clz": lambda: lax.clz(jnp.asarray(np.array([1, 0, -1, 255], np.int32))),
        "maxnan": lambda: lax.max(jnp.asarray([1.0, np.nan]), jnp.asarray([2.0, 1.0])),
        "bid": lambda: lax.broadcast_in_dim(jnp.arange(3.0), (2, 3, 4), (1,)),
        "bcast": lambda: lax.broadcast(jnp.arange(3.0), (2,)),
        "reshape_dims": lambda: lax.reshape(A, (4, 3), dimensions=(1, 0)),
        "pad1": lambda: lax.pad(jnp.arange(1.0, 4.0), 0.0, [(1, 2, 1)]),
        "pad2": lambda: lax.pad(jnp.arange(1.0, 6.0), -1.0, [(-1, -2, 0)]),
        "pad3": lambda: lax.pad(A, 9.0, [(1, -1, 1), (0, 2, 2)]),
        "ds": lambda: lax.dynamic_slice(A, (2, 3), (2, 2)),
        "ds_neg": lambda: lax.dynamic_slice(jnp.arange(10.0), (-3,), (2,)),
        "dus": lambda: lax.dynamic_update_slice(jnp.arange(10.0), jnp.ones(3), (9,)),
        "dsid": lambda: lax.dynamic_slice_in_dim(A, 1, 2, axis=1),
        "diid": lambda: lax.dynamic_index_in_dim(A, 2, 0, False),
        "dusid": lambda: lax.dynamic_update_index_in_dim(A, jnp.zeros(4, A.dtype), 1, 0),
        "ds_jit": lambda: jit(lambda a, i: lax.dynamic_slice(a, (i, 0), (2, 4)))(A, 2),
        "ds_vmap": lambda: vmap(lambda i: lax.dynamic_slice_in_dim(jnp.arange(10.0), i, 3))(
            jnp.asarray(np.array([0, 4, 9]))
        ),
        "ds_grad": lambda: grad(lambda a: jnp.sum(lax.dynamic_slice(a, (1, 1), (2, 2)) ** 2))(A),
        "slice": lambda: lax.slice(jnp.arange(10.0), (1,), (8,), (3,)),
        "sid": lambda: lax.slice_in_dim(A, 1, 3, axis=1),
        "iid": lambda: lax.index_in_dim(A, -1, 1, False),
        "iota": lambda: lax.broadcasted_iota(jnp.int32, (2, 3), 1),
        "topk": lambda: lax.top_k(jnp.asarray([1.0, 5.0, 3.0, 5.0]), 2),
        "sort2": lambda: lax.sort(
            (jnp.asarray([3.0, 1.0, 3.0, 2.0]), jnp.asarray([0.0, 5.0, -1.0, 2.0])), num_keys=2
        ),
        "sortkv": lambda: lax.sort_key_val(jnp.asarray([3.0, 1.0, 2.0]), jnp.asarray([0, 1, 2])),
        "argmax": lambda: lax.argmax(A, 1, jnp.int32),
        "rw_sum": lambda: lax.reduce_window(jnp.arange(6.0), 0.0, lax.add, (2,), (2,), 'VALID'),
        "rw_max_same": lambda: lax.reduce_window(jnp.arange(6.0), -np.inf, lax.max, (3,), (1,), 'SAME'),
        "rw_base": lambda: lax.reduce_window(jnp.arange(5.0), 0.0, lax.add, (2,), (1,), [(1, 1)], base_dilation=(2,)),
        "rw_2d": lambda: lax.reduce_window(X4, -np.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), 'SAME'),
        "rw_grad": lambda: grad(
            lambda x: jnp.sum(lax.reduce_window(x, 0.0, lax.add, (1, 3, 3, 1), (1, 1, 1, 1), 'VALID') ** 2)
        )(X4)[0, :, :, 0],
        "dg": lambda: lax.dot_general(
            jnp.asarray(R.normal(size=(2, 3, 4))), jnp.asarray(R.normal(size=(2, 4, 5))), (((2,), (1,)), ((0,), (0,)))
        ),
        "dg2": lambda: lax.dot_general(A, A, (((0,), (0,)), ((), ()))),
        "conv_nhwc": lambda: lax.conv_general_dilated(
            X4, K4, (2, 1), 'SAME', dimension_numbers=('NHWC', 'HWIO', 'NHWC')
        ),
        "conv_nchw": lambda: lax.conv_general_dilated(
            jnp.arange(5.0).reshape(1, 1, 5), jnp.ones((1, 1, 2)), (2,), 'SAME'
        ),
        "conv_lower": lambda: lax.conv_general_dilated(
            jnp.arange(6.0).reshape(1, 1, 6), jnp.ones((1, 1, 3)), (2,), 'SAME_LOWER'
        ),
        "conv_dil": lambda: lax.conv_general_dilated(
            X4,
            K4,
            (1, 1),
            [(0, 0), (1, 2)],
            lhs_dilation=(2, 1),
            rhs_dilation=(1, 2),
            dimension_numbers=('NHWC', 'HWIO', 'NHWC'),
        ),
        "conv_grad": lambda: grad(
            lambda k: jnp.sum(
                lax.conv_general_dilated(X4, k, (1, 1), 'SAME', dimension_numbers=('NHWC', 'HWIO', 'NHWC')) ** 2
            )
        )(K4),
        "convT_same": lambda: lax.conv_transpose(X4, jnp.asarray(R.normal(size=(3, 3, 3, 2))), (2, 2), 'SAME'),
        "convT_valid": lambda: lax.conv_transpose(X4, jnp.asarray(R.normal(size=(2, 3, 3, 2))), (2, 1), 'VALID'),
        "convT_tk": lambda: lax.conv_transpose(
            X4, jnp.asarray(R.normal(size=(3, 3, 2, 3))), (2, 2), 'SAME', transpose_kernel=True
        ),
        "cdn": lambda: tuple(lax.conv_dimension_numbers((1, 5, 5, 2), (3, 3, 2, 4), ('NHWC', 'HWIO', 'NHWC'))),
        "cummax": lambda: lax.cummax(jnp.asarray([1.0, 3.0, 2.0, 5.0]), reverse=True),
        "cumlse": lambda: lax.cumlogsumexp(A, axis=1),
        "cumsum": lambda: lax.cumsum(A, axis=0, reverse=True),
        "assoc": lambda: lax.associative_scan(jnp.add, jnp.arange(5.0)),
        "assoc_rev": lambda: lax.associative_scan(
            lambda a, b: (a[0] * b[0], a[1] + b[1]), (jnp.arange(1.0, 4.0), jnp.ones(3)), reverse=True
        ),
        "reduce": lambda: lax.reduce(A, 0.0, lax.add, (1,)),
        "reduce_custom": lambda: lax.reduce(
            (A, A * 2), (0.0, 0.0), lambda a, b: (a[0] + b[0], jnp.maximum(a[1], b[1])), (0,)
        ),
        "select_n": lambda: lax.select_n(jnp.asarray([0, 1, 2]), jnp.zeros(3), jnp.ones(3), 2 * jnp.ones(3)),
        "select_b": lambda: lax.select_n(jnp.asarray([True, False]), jnp.zeros(2), jnp.ones(2)),
        "collapse": lambda: lax.collapse(X4, 1, 3).shape,
        "split": lambda: lax.split(jnp.arange(6.0), (2, 4)),
        "rev": lambda: lax.rev(A, (0, 1)),
        "expand": lambda: lax.expand_dims(A, (0, 3)).shape,
        "full_like": lambda: lax.full_like(A, 2, jnp.int32, (2,)),
        "ppermute": lambda: vmap(lambda x: lax.ppermute(x, 'i', [(0, 1), (1, 2), (2, 0)]), axis_name='i')(
            jnp.arange(3.0) + 1
        ),
        "axis_size": lambda: vmap(lambda x: x * lax.axis_size('i'), axis_name='i')(jnp.arange(3.0)),
        "complex": lambda: lax.complex(jnp.ones(2), jnp.arange(2.0)),
        "erf_inv": lambda: lax.erf_inv(jnp.asarray([0.1, -0.5])),
    }


def test_against_jax_lax():
    """The same 70 calls on fnx and jax.lax (x64): same dtype kinds and values."""
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp
    from jax import config

    def run(table):
        out = {}
        for name, call in table.items():
            value = call()
            leaves = list(value) if isinstance(value, (tuple, list)) else [value]
            out[name] = [np.asarray(v) for v in leaves]
        return out

    ours = run(_cases(lax, fnp, fnx.grad, fnx.vmap, fnx.jit))
    config.update("jax_enable_x64", True)
    try:
        theirs = run(_cases(jax.lax, jnp, jax.grad, jax.vmap, jax.jit))
    finally:
        config.update("jax_enable_x64", False)
    for name in ours:
        for a, b in zip(ours[name], theirs[name]):
            assert a.dtype.kind == b.dtype.kind, name
            tol = 1e-6 if np.float32 in (a.dtype, b.dtype) else 1e-9  # a Python float list is float32 in fnx
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=name)


def test_special_functions_under_their_lax_names():
    sc = pytest.importorskip("scipy.special")
    x, a = np.array([0.5, 1.5, 3.0]), np.array([1.0, 2.0, 0.5])
    for name, args, ref in [("polygamma", (np.array([1.0, 2.0, 3.0]), x), sc.polygamma),
                            ("zeta", (np.array([2.0, 3.0, 4.0]), x), sc.zeta), ("igamma", (a, x), sc.gammainc),
                            ("igammac", (a, x), sc.gammaincc), ("bessel_i0e", (x,), sc.i0e),
                            ("bessel_i1e", (x,), sc.i1e)]:
        got = getattr(lax, name)(*[fnp.asarray(v) for v in args])
        np.testing.assert_allclose(np.asarray(got), ref(*args), rtol=1e-10, err_msg=name)
    with pytest.raises(DTypeError, match="lax.igamma requires arguments to have the same dtypes"):
        lax.igamma(fnp.asarray(a, dtype="float32"), fnp.asarray(x))
    check_grads(lambda v: lax.polygamma(fnp.asarray(np.array([1.0, 2.0, 1.0])), v), (fnp.asarray(x),), order=2)


def test_polygamma_takes_an_array_of_orders():
    sc = pytest.importorskip("scipy.special")
    x = np.array([0.5, 1.5, 3.0])
    for orders in (np.array([0, 1, 2]), np.array([[1], [3]]), np.array([2.0, 2.0, 0.0])):
        np.testing.assert_allclose(np.asarray(fnx.scipy.special.polygamma(orders, fnp.asarray(x))),
                                   sc.polygamma(orders, x), rtol=1e-12)
    for bad in (-1, 1.5, True, np.array([1, -2])):
        with pytest.raises(ValueError, match="polygamma: the order n must be a non-negative integer"):
            fnx.scipy.special.polygamma(bad, 1.0)


@pytest.mark.parametrize("name", ["approx_max_k", "approx_min_k"])
def test_approx_top_k_is_the_exact_top_k(name):
    m = np.random.default_rng(0).standard_normal((3, 6))
    for dim in (-1, 0):
        values, indices = getattr(lax, name)(fnp.asarray(m), 2, reduction_dimension=dim)
        order = np.argsort(-m if name == "approx_max_k" else m, axis=dim, kind="stable")
        expected = np.take(order, [0, 1], axis=dim)
        assert indices.dtype == np.int32
        np.testing.assert_array_equal(np.asarray(indices), expected)
        np.testing.assert_array_equal(np.asarray(values), np.take_along_axis(m, expected, dim))
    check_grads(lambda v: getattr(lax, name)(v, 2)[0], (fnp.asarray(m),), order=1)


def test_broadcast_shapes():
    assert lax.broadcast_shapes((2, 1), (3,)) == (2, 3) and lax.broadcast_shapes() == ()
    with pytest.raises(ShapeError, match=r"lax.broadcast_shapes: shapes \(2,\), \(3,\) do not broadcast"):
        lax.broadcast_shapes((2,), (3,))


def test_betainc_and_comb_match_scipy():
    sc = pytest.importorskip("scipy.special")
    a, b, x = np.array([0.5, 2.0, 3.0]), np.array([1.5, 3.0, 0.7]), np.array([0.2, 0.4, 0.9])
    for fn in (fnx.scipy.special.betainc, lax.betainc):
        np.testing.assert_allclose(np.asarray(fn(fnp.asarray(a), fnp.asarray(b), fnp.asarray(x))),
                                   sc.betainc(a, b, x), rtol=1e-10)
    n, k = np.array([5.0, 10.0, 3.0, 4.0]), np.array([2.0, 3.0, 5.0, -1.0])
    for repetition in (False, True):
        np.testing.assert_allclose(np.asarray(fnx.scipy.special.comb(fnp.asarray(n), fnp.asarray(k),
                                                                     repetition=repetition)),
                                   sc.comb(n, k, repetition=repetition), rtol=1e-10)
    with pytest.raises(ValueError, match="exact=True"):
        fnx.scipy.special.comb(5, 2, exact=True)
    check_grads(lambda v: fnx.scipy.special.betainc(2.0, 3.0, v), (fnp.asarray(x),), order=1)


def test_clamp_has_jaxs_derivative_at_its_bounds():
    # jax.lax.clamp's rule: the operand strictly inside, min where the operand is below it (min < max), max
    # where it is above, nobody at a tie; values as JAX's, integers kept.
    grads = lambda lo, x, hi: [float(g) for g in fnx.grad(fnx.lax.clamp, argnums=(0, 1, 2))(  # noqa: E731
        fnp.asarray(lo), fnp.asarray(x), fnp.asarray(hi))]
    assert grads(0.0, 0.5, 1.0) == [0, 1, 0] and grads(1.0, 0.0, 2.0) == [1, 0, 0] and grads(0.0, 3.0, 2.0) == [0, 0, 1]
    assert grads(0.0, 0.0, 1.0) == [0, 0, 0] and grads(0.0, 1.0, 1.0) == [0, 0, 0]  # ties: nobody
    assert grads(2.0, 1.0, 1.0) == [0, 0, 0] and grads(2.0, 0.0, 1.0) == [0, 0, 0]  # (JAX: min >= max)
    assert fnx.lax.clamp(0, fnp.asarray([-1, 5, 3]), 4).tolist() == [0, 4, 3]


# ----- XLA's semantics where NumPy's differ (the values are jax 0.10's) ------------------------------------


def test_products_accumulate_in_the_preferred_element_type():
    a, b = np.full((1, 64), 100, np.int8), np.ones((64, 1), np.int8)
    assert lax.dot(a, b, preferred_element_type=np.int32).tolist() == [[6400]]
    assert lax.dot_general(a, b, (((1,), (0,)), ((), ())), preferred_element_type=np.int32).tolist() == [[6400]]
    image, kernel = np.full((1, 1, 2, 2), 100, np.int8), np.full((1, 1, 2, 2), 100, np.int8)
    out = lax.conv_general_dilated(image, kernel, (1, 1), "VALID", preferred_element_type=np.int32)
    assert out.dtype == np.int32 and out.tolist() == [[[[40000]]]]
    half = np.full((1, 4096), 1.0 + 2.0 ** -10, np.float16)  # float16 sums would lose the 2**-10 parts
    assert float(lax.dot(half, half.T, preferred_element_type=np.float32)[0, 0]) == pytest.approx(4104.0, abs=0.1)


def test_round_away_from_zero_does_not_round_the_half_it_adds():
    x = np.float32([0.49999997, -0.49999997, 8388609.0, 2.5, -2.5, -0.3])
    got = np.asarray(lax.round(x))
    np.testing.assert_array_equal(got, [0.0, -0.0, 8388609.0, 3.0, -3.0, -0.0])
    assert np.signbit(got[[1, 5]]).all()


def test_float_to_integer_conversion_saturates_and_sends_nan_to_zero():
    assert lax.convert_element_type(np.float32([1.7, np.nan, 1e10, -1e10, -1.7]), np.int32).tolist() == \
        [1, 0, 2147483647, -2147483648, -1]
    assert lax.convert_element_type(np.float32([300, -5, 1.5]), np.uint8).tolist() == [255, 0, 1]


def test_integer_sums_and_products_keep_the_operand_dtype():
    small = np.int8([100, 100, 100])
    total = lax.reduce_sum(small, (0,))
    assert total.dtype == np.int8 and int(total) == 44
    assert lax.cumsum(small).tolist() == [100, -56, 44] and lax.cumsum(small).dtype == np.int8
    assert lax.reduce_prod(np.int32([1, 2, 3]), (0,)).dtype == np.int32
    m = np.arange(12, dtype=np.int32).reshape(3, 4)
    assert lax.reduce(m, np.int32(0), lax.add, (1,)).tolist() == [6, 22, 38]
    windows = lax.reduce_window(m, np.int32(0), lax.add, (1, 2), (1, 1), "VALID")
    assert windows.dtype == np.int32 and windows.shape == (3, 3)


def test_max_pooling_by_reduce_window_sends_the_gradient_to_the_first_maximum():
    t = np.array([[[[2.0, 2.0, 0.0, 0.0], [1.0, 2.0, 0.0, 0.0]]]], np.float32)
    pooled = lambda v: fnp.sum(lax.reduce_window(v, -np.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID"))  # noqa
    np.testing.assert_array_equal(fnx.grad(pooled)(t), [[[[1, 0, 1, 0], [0, 0, 0, 0]]]])


def test_same_padding_of_a_base_dilated_window_is_worked_out_from_the_operand():
    x = np.arange(2 * 6 * 7 * 3, dtype=np.float32).reshape(2, 6, 7, 3)
    out = lax.reduce_window(x, 0.0, lax.add, (1, 3, 2, 1), (1, 2, 1, 1), "SAME", base_dilation=(1, 2, 2, 1))
    assert out.shape == (2, 5, 13, 3)


def test_top_k_orders_nan_first_and_positive_zero_before_negative():
    values, index = lax.top_k(np.float32([3, np.nan, 1, np.inf]), 2)
    assert np.isnan(values[0]) and float(values[1]) == np.inf and index.tolist() == [1, 3]
    assert lax.top_k(np.float32([-0.0, 0.0, -0.0, 0.0]), 2)[1].tolist() == [1, 3]
    assert lax.top_k(np.int32([-2 ** 31, 5, 2 ** 31 - 1]), 3)[1].tolist() == [2, 1, 0]


def test_integer_division_by_zero_is_xlas():
    assert lax.div(np.int32([7, -7]), np.int32(0)).tolist() == [-1, -1]
    assert lax.rem(np.int32([7, -7]), np.int32(0)).tolist() == [7, -7]
    assert lax.div(np.uint8([7]), np.uint8(0)).tolist() == [255]


def test_clamp_keeps_the_operand_dtype_and_refuses_mixed_ones():
    assert lax.clamp(0, np.int32([-3, 4, 20]), 10).dtype == np.int32
    with pytest.raises(DTypeError, match="lax.clamp requires arguments to have the same dtypes"):
        lax.clamp(np.int32(0), np.float32([1.0]), np.int32(10))


def test_pow_takes_an_integer_exponent_array_for_a_floating_base_as_jax():
    got = lax.pow(np.float32([2.0, 3.0]), np.int32([3, -1]))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, [8.0, 1 / 3], rtol=1e-7)
    with pytest.raises(DTypeError, match="lax.pow requires arguments to have the same dtypes"):
        lax.pow(np.int32([2]), np.float32([1.0]))
