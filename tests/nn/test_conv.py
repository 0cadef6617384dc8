"""Convolution and pooling (fnx.nn._conv, re-exported by fnx.nn.functional) against PyTorch's documented
formulas written as loops, derivatives, vmap, the tape, errors, and torch itself when it is installed."""
import itertools
import math

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import fnx
import fnx.numpy as fnp
from fnx.errors import DTypeError, ShapeError
from fnx.nn import _conv as F
from fnx.testing import check_grads, check_vmap

# ----- references: PyTorch's definitions, element by element -------------------------------------


def conv_ref(x, w, b, stride, padding, dilation, groups):
    """out[n, o, p] = b[o] + sum over c, k of x[n, g(o) Cg + c, p s - pad + k d] w[o, c, k] (zero outside)."""
    n = x.shape[0]
    o, cg = w.shape[:2]
    og = o // groups
    outs = tuple((m + lo + hi - d * (k - 1) - 1) // s + 1
                 for m, k, s, (lo, hi), d in zip(x.shape[2:], w.shape[2:], stride, padding, dilation))
    y = np.zeros((n, o) + outs)
    for e, oo, *p in np.ndindex(n, o, *outs):
        acc = 0.0 if b is None else b[oo]
        for cc, k in itertools.product(range(cg), np.ndindex(*w.shape[2:])):
            pos = tuple(pj * s + kj * d - lo for pj, kj, s, d, (lo, _) in zip(p, k, stride, dilation, padding))
            if all(0 <= q < m for q, m in zip(pos, x.shape[2:])):
                acc += x[(e, (oo // og) * cg + cc) + pos] * w[(oo, cc) + k]
        y[(e, oo) + tuple(p)] = acc
    return y


def conv_transpose_ref(x, w, b, stride, padding, output_padding, groups, dilation):
    """Each input element scatters ``x * w`` to positions ``i s - pad + k d`` of the output."""
    nd = x.ndim - 2
    n, c = x.shape[:2]
    og = w.shape[1]
    cg = c // groups
    outs = tuple((m - 1) * s - 2 * p + d * (k - 1) + q + 1
                 for m, s, p, d, k, q in zip(x.shape[2:], stride, padding, dilation, w.shape[2:], output_padding))
    y = np.zeros((n, og * groups) + outs)
    for e, ci, *i in np.ndindex(n, c, *x.shape[2:]):
        g = ci // cg
        for oo, k in itertools.product(range(og), np.ndindex(*w.shape[2:])):
            pos = tuple(ij * s - p + kj * d for ij, kj, s, p, d in zip(i, k, stride, padding, dilation))
            if all(0 <= q < m for q, m in zip(pos, outs)):
                y[(e, g * og + oo) + pos] += x[(e, ci) + tuple(i)] * w[(ci, oo) + k]
    if b is not None:
        y += b.reshape((-1,) + (1,) * nd)
    return y


def pool_out(n, k, s, p, d, ceil_mode):
    span = n + 2 * p - d * (k - 1) - 1
    out = (math.ceil(span / s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def max_pool_ref(x, k, s, p, d, ceil_mode):
    """Values and flat indices of the first maximum over the in-bounds elements of each window
    (None when a dilated window holds padding only, where PyTorch's index is meaningless)."""
    nd = len(k)
    sp = x.shape[-nd:]
    outs = tuple(pool_out(*a, ceil_mode) for a in zip(sp, k, s, p, d))
    y = np.zeros(x.shape[:-nd] + outs)
    idx = np.zeros(y.shape, np.int64)
    for lead in np.ndindex(*x.shape[:-nd]):
        for o in np.ndindex(*outs):
            best, arg = -np.inf, None
            for kk in np.ndindex(*k):
                pos = tuple(oj * sj - pj + kj * dj for oj, sj, pj, kj, dj in zip(o, s, p, kk, d))
                if all(0 <= q < m for q, m in zip(pos, sp)) and (arg is None or x[lead + pos] > best):
                    best, arg = x[lead + pos], np.ravel_multi_index(pos, sp)
            if arg is None:
                return None
            y[lead + o], idx[lead + o] = best, arg
    return y, idx


def avg_pool_ref(x, k, s, p, ceil_mode, count_include_pad, divisor_override=None):
    """PyTorch's kernel: the sum over in-bounds elements divided by the window clipped to the padded
    input (count_include_pad), or to the input, or by divisor_override."""
    nd = len(k)
    sp = x.shape[-nd:]
    outs = tuple(pool_out(n, kk, ss, pp, 1, ceil_mode) for n, kk, ss, pp in zip(sp, k, s, p))
    y = np.zeros(x.shape[:-nd] + outs)
    for lead in np.ndindex(*x.shape[:-nd]):
        for o in np.ndindex(*outs):
            start = [oj * sj - pj for oj, sj, pj in zip(o, s, p)]
            end = [min(a + kk, n + pj) for a, kk, n, pj in zip(start, k, sp, p)]
            pool_size = math.prod(b - a for a, b in zip(start, end))
            start = [max(a, 0) for a in start]
            end = [min(b, n) for b, n in zip(end, sp)]
            region = x[lead + tuple(slice(a, b) for a, b in zip(start, end))]
            div = divisor_override or (pool_size if count_include_pad else region.size)
            y[lead + o] = region.sum() / div
    return y


def adaptive_ref(x, outs, reduce):
    nd = len(outs)
    sp = x.shape[-nd:]
    y = np.zeros(x.shape[:-nd] + tuple(outs))
    for lead in np.ndindex(*x.shape[:-nd]):
        for o in np.ndindex(*outs):
            sl = tuple(slice(math.floor(i * n / m), math.ceil((i + 1) * n / m)) for i, n, m in zip(o, sp, outs))
            y[lead + o] = reduce(x[lead + sl])
    return y


def unfold_ref(x, k, d, p, s):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    oh, ow = ((h + 2 * p[0] - d[0] * (k[0] - 1) - 1) // s[0] + 1, (w + 2 * p[1] - d[1] * (k[1] - 1) - 1) // s[1] + 1)
    y = np.zeros((n, c * k[0] * k[1], oh * ow))
    for e, ci, a, b, i, j in np.ndindex(n, c, k[0], k[1], oh, ow):
        y[e, (ci * k[0] + a) * k[1] + b, i * ow + j] = xp[e, ci, i * s[0] + a * d[0], j * s[1] + b * d[1]]
    return y


# ----- strategies ------------------------------------------------------------------------------------


def _arr(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@st.composite
def conv_cases(draw, nd):
    groups, cg, og, n = (draw(st.integers(1, 2)) for _ in range(4))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    stride, dilation = (tuple(draw(st.integers(1, 2)) for _ in range(nd)) for _ in range(2))
    padding = draw(st.one_of(st.integers(0, 2), st.tuples(*[st.integers(0, 2)] * nd), st.just("valid"),
                             st.just("same")))
    if padding == "same":
        stride = (1,) * nd
    pads = [(0, 0)] * nd if padding == "valid" else \
        [(d * (kk - 1) // 2, d * (kk - 1) - d * (kk - 1) // 2) for kk, d in zip(k, dilation)] if padding == "same" \
        else [(p, p) for p in ((padding,) * nd if isinstance(padding, int) else padding)]
    smallest = [max(1, d * (kk - 1) + 1 - lo - hi) for kk, d, (lo, hi) in zip(k, dilation, pads)]
    sizes = tuple(draw(st.integers(m, max(m, 6 - nd))) for m in smallest)
    seed = draw(st.integers(0, 1000))
    x = _arr((n, groups * cg) + sizes, seed=seed)
    w = _arr((groups * og, cg) + k, seed=seed + 1)
    b = _arr((groups * og,), seed=seed + 2) if draw(st.booleans()) else None
    unbatched = n == 1 and draw(st.booleans())
    return x, w, b, stride, padding, pads, dilation, groups, unbatched


@given(st.sampled_from([1, 2]).flatmap(conv_cases))
def test_conv_matches_the_definition(case):
    x, w, b, stride, padding, pads, dilation, groups, unbatched = case
    nd = x.ndim - 2
    fn = F.conv1d if nd == 1 else F.conv2d
    arg = lambda v: v if nd == 1 or len(set(v)) > 1 else v[0]  # noqa: E731  (ints and tuples both)
    y = fn(fnp.asarray(x[0] if unbatched else x), fnp.asarray(w), None if b is None else fnp.asarray(b),
           stride=arg(stride), padding=padding, dilation=arg(dilation), groups=groups)
    want = conv_ref(x, w, b, stride, pads, dilation, groups)
    np.testing.assert_allclose(np.asarray(y), want[0] if unbatched else want, rtol=1e-10, atol=1e-12)


@st.composite
def transpose_cases(draw, nd):
    groups, cg, og, n = (draw(st.integers(1, 2)) for _ in range(4))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    stride, dilation = (tuple(draw(st.integers(1, 3)) for _ in range(nd)) for _ in range(2))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(nd))
    out_pad = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    sizes = tuple(draw(st.integers(1, 4)) for _ in range(nd))
    outs = [(m - 1) * s - 2 * p + d * (kk - 1) + q + 1
            for m, s, p, d, kk, q in zip(sizes, stride, padding, dilation, k, out_pad)]
    padding = tuple(p if o >= 1 else 0 for p, o in zip(padding, outs))
    seed = draw(st.integers(0, 1000))
    x = _arr((n, groups * cg) + sizes, seed=seed)
    w = _arr((groups * cg, og) + k, seed=seed + 1)
    b = _arr((groups * og,), seed=seed + 2) if draw(st.booleans()) else None
    return x, w, b, stride, padding, out_pad, groups, dilation


@given(st.sampled_from([1, 2]).flatmap(transpose_cases))
def test_conv_transpose_matches_the_definition(case):
    x, w, b, *params = case
    fn = F.conv_transpose1d if x.ndim == 3 else F.conv_transpose2d
    y = fn(fnp.asarray(x), fnp.asarray(w), None if b is None else fnp.asarray(b), *params)
    np.testing.assert_allclose(np.asarray(y), conv_transpose_ref(x, w, b, *params), rtol=1e-10, atol=1e-12)


def test_conv_transpose_is_the_input_gradient_of_conv():
    x, w = fnp.asarray(_arr((2, 4, 7, 6))), fnp.asarray(_arr((6, 2, 3, 2), seed=1))
    ct = fnp.asarray(_arr((2, 6, 4, 2), seed=2))
    _, f_vjp = fnx.vjp(lambda x: F.conv2d(x, w, stride=2, padding=(1, 0), dilation=(1, 2), groups=2), x)
    want = f_vjp(ct)[0]
    got = F.conv_transpose2d(ct, w, stride=2, padding=(1, 0), output_padding=(0, 1), dilation=(1, 2), groups=2)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12)


@st.composite
def pool_cases(draw, nd, dilation=True):
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    s = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    p = tuple(draw(st.integers(0, kk // 2)) for kk in k)
    d = tuple(draw(st.integers(1, 2)) for _ in range(nd)) if dilation else (1,) * nd
    ceil_mode = draw(st.booleans())
    sizes = tuple(draw(st.integers(max(1, dd * (kk - 1) + 1 - 2 * pp), 6)) for kk, pp, dd in zip(k, p, d))
    lead = tuple(draw(st.lists(st.integers(1, 2), min_size=1, max_size=2)))
    perm = np.random.default_rng(draw(st.integers(0, 1000))).permutation(math.prod(lead + sizes))
    x = perm.reshape(lead + sizes) * 0.25 - 1.0  # distinct values: one maximum per window
    if draw(st.booleans()):
        x = np.round(x / 2)  # ...or plenty of ties, where the first maximum must win
    stride = draw(st.sampled_from([s, None])) if s == k else s
    return x, k, stride, p, d, ceil_mode


@given(st.sampled_from([1, 2]).flatmap(pool_cases))
def test_max_pool_matches_the_definition(case):
    x, k, stride, p, d, ceil_mode = case
    fn = F.max_pool1d if len(k) == 1 else F.max_pool2d
    ref = max_pool_ref(x, k, stride or k, p, d, ceil_mode)
    assume(ref is not None)
    want, want_i = ref
    y, i = fn(fnp.asarray(x), k, stride, p, d, ceil_mode, return_indices=True)
    np.testing.assert_array_equal(np.asarray(y), want)
    np.testing.assert_array_equal(np.asarray(i), want_i)
    np.testing.assert_array_equal(np.asarray(fn(fnp.asarray(x), k, stride, p, d, ceil_mode)), want)


@given(st.sampled_from([1, 2]).flatmap(lambda nd: pool_cases(nd, dilation=False)), st.booleans(),
       st.sampled_from([None, 3]))
def test_avg_pool_matches_the_definition(case, count_include_pad, divisor):
    x, k, stride, p, _, ceil_mode = case
    if len(k) == 1:
        y = F.avg_pool1d(fnp.asarray(x), k, stride, p, ceil_mode, count_include_pad)
        divisor = None
    else:
        y = F.avg_pool2d(fnp.asarray(x), k, stride, p, ceil_mode, count_include_pad, divisor)
    want = avg_pool_ref(x, k, stride or k, p, ceil_mode, count_include_pad, divisor)
    np.testing.assert_allclose(np.asarray(y), want, rtol=1e-12, atol=1e-12)


@given(st.sampled_from([1, 2, 3]), st.data())
def test_adaptive_pools_match_the_definition(nd, data):
    sizes = tuple(data.draw(st.integers(1, 7)) for _ in range(nd))
    outs = tuple(data.draw(st.integers(1, 5)) for _ in range(nd))
    x = np.random.default_rng(data.draw(st.integers(0, 99))).permutation(2 * math.prod(sizes)).reshape(
        (1, 2) + sizes) * 0.5
    avg = getattr(F, f"adaptive_avg_pool{nd}d")(fnp.asarray(x), outs if nd > 1 else outs[0])
    np.testing.assert_allclose(np.asarray(avg), adaptive_ref(x, outs, np.mean), rtol=1e-12)
    y, i = getattr(F, f"adaptive_max_pool{nd}d")(fnp.asarray(x), outs, return_indices=True)
    np.testing.assert_array_equal(np.asarray(y), adaptive_ref(x, outs, np.max))
    flat = x.reshape(x.shape[:2] + (-1,))
    np.testing.assert_array_equal(np.take_along_axis(flat, np.asarray(i).reshape(x.shape[:2] + (-1,)), -1),
                                  np.asarray(y).reshape(x.shape[:2] + (-1,)))


def test_adaptive_output_size_none_keeps_the_axis_and_ties_go_first():
    x = fnp.asarray(_arr((3, 5, 4)))
    assert F.adaptive_avg_pool2d(x, (2, None)).shape == (3, 2, 4)
    assert F.adaptive_max_pool2d(x, (None, 3)).shape == (3, 5, 3)
    x = fnp.array([[[1.0, 1.0, 0.0, 1.0, 1.0]]])
    g = fnx.grad(lambda x: fnp.sum(F.adaptive_max_pool1d(x, 2)))(x)  # windows [0, 3) and [2, 5)
    np.testing.assert_array_equal(np.asarray(g), [[[1.0, 0.0, 0.0, 1.0, 0.0]]])


@given(st.data())
def test_unfold_and_fold(data):
    k = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    d, p, s = ((data.draw(st.integers(lo, 2)), data.draw(st.integers(lo, 2))) for lo in (1, 0, 1))
    size = tuple(data.draw(st.integers(max(1, dd * (kk - 1) + 1 - 2 * pp), 5)) for kk, dd, pp in zip(k, d, p))
    x = _arr((2, 3) + size, seed=data.draw(st.integers(0, 99)))
    cols = F.unfold(fnp.asarray(x), k, d, p, s)
    np.testing.assert_array_equal(np.asarray(cols), unfold_ref(x, k, d, p, s))
    # fold is unfold's transpose: <fold(c), x> = <c, unfold(x)>
    c = _arr(cols.shape, seed=7)
    folded = F.fold(fnp.asarray(c), size, k, d, p, s)
    assert folded.shape == x.shape
    np.testing.assert_allclose(np.vdot(np.asarray(folded), x), np.vdot(c, np.asarray(cols)), rtol=1e-10)


def test_unbatched_inputs():
    x, w = _arr((3, 6, 5)), _arr((4, 3, 3, 3), seed=1)
    np.testing.assert_allclose(np.asarray(F.conv2d(fnp.asarray(x), fnp.asarray(w), padding="same")),
                               conv_ref(x[None], w, None, (1, 1), [(1, 1), (1, 1)], (1, 1), 1)[0], rtol=1e-12)
    assert F.conv_transpose2d(fnp.asarray(_arr((4, 2, 2))), fnp.asarray(w)).shape == (3, 4, 4)
    assert F.max_pool2d(fnp.asarray(x), 2).shape == (3, 3, 2)
    assert F.avg_pool1d(fnp.asarray(x[0]), 2).shape == (6, 2)
    assert F.unfold(fnp.asarray(x), 2).shape == (12, 20)


def test_same_padding_with_even_kernels_pads_more_at_the_end():
    x, w = _arr((1, 1, 6)), _arr((1, 1, 4), seed=1)
    y = F.conv1d(fnp.asarray(x), fnp.asarray(w), padding="same", dilation=1)
    np.testing.assert_allclose(np.asarray(y), conv_ref(x, w, None, (1,), [(1, 2)], (1,), 1), rtol=1e-12)
    assert F.conv1d(fnp.asarray(x), fnp.asarray(w), padding="same", dilation=2).shape == (1, 1, 6)


# ----- derivatives ------------------------------------------------------------------------------------


def test_conv2d_second_order():
    x, w, b = fnp.asarray(_arr((2, 4, 4, 3))), fnp.asarray(_arr((2, 2, 2, 2), seed=1)), fnp.asarray(_arr(2, seed=2))
    check_grads(lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=2), (x, w, b),
                order=2)


def test_conv_transpose2d_second_order():
    x, w = fnp.asarray(_arr((1, 2, 3, 2))), fnp.asarray(_arr((2, 2, 2, 3), seed=1))
    check_grads(lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=(1, 0), output_padding=1), (x, w), order=2)


def test_pool_derivatives():
    x = fnp.asarray(np.random.default_rng(0).permutation(2 * 5 * 4).reshape(1, 2, 5, 4) * 0.3)
    check_grads(lambda x: F.max_pool2d(x, 3, 2, padding=1, ceil_mode=True), (x,), order=1)
    check_grads(lambda x: F.adaptive_max_pool2d(x, (3, 3)), (x,), order=1)
    check_grads(lambda x: F.avg_pool2d(x, 3, 2, padding=1, ceil_mode=True, count_include_pad=False), (x,), order=2)
    check_grads(lambda x: F.adaptive_avg_pool2d(x, (3, 2)), (x,), order=2)
    check_grads(lambda x: F.fold(F.unfold(x, 2, padding=1), (5, 4), 2, padding=1), (x,), order=1)


def test_float32_gradients_stay_float32():
    x, w = fnp.ones((2, 3, 6, 6)), fnp.ones((4, 3, 3, 3))
    gx, gw = fnx.grad(lambda x, w: fnp.sum(F.avg_pool2d(F.max_pool2d(F.conv2d(x, w, padding=1), 2), 3, 1, 1)),
                      (0, 1))(x, w)
    assert gx.dtype == gw.dtype == np.float32


def test_backward_through_parameters():
    w = fnx.nn.Parameter(fnp.asarray(_arr((4, 3, 3, 3), np.float32)))
    b = fnx.nn.Parameter(fnp.zeros(4))
    x = fnp.asarray(_arr((2, 3, 6, 6), np.float32, seed=1))
    loss = fnp.sum(F.max_pool2d(F.conv2d(x, w, b, padding=1), 2) ** 2)
    loss.backward()
    gw, gb = fnx.grad(lambda w, b: fnp.sum(F.max_pool2d(F.conv2d(x, w, b, padding=1), 2) ** 2), (0, 1))(
        w.detach(), b.detach())
    np.testing.assert_allclose(np.asarray(w.grad), np.asarray(gw), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(b.grad), np.asarray(gb), rtol=1e-5)


def test_results_and_gradients_stay_on_the_inputs_device(device):
    x = fnx.device_put(fnp.asarray(_arr((1, 2, 5, 5))), device)
    w = fnx.device_put(fnp.asarray(_arr((3, 2, 3, 3), seed=1)), device)

    def loss(x, w):
        h = F.conv2d(x, w, padding=1)
        h = F.max_pool2d(h, 2, ceil_mode=True, padding=1) + F.avg_pool2d(h, 3, 2, 1, True, False)
        return fnp.sum(F.adaptive_max_pool2d(h, 2) ** 2) + fnp.sum(F.adaptive_avg_pool2d(h, 2))

    for g in fnx.grad(loss, (0, 1))(x, w):
        assert g.device == device
    outs = [F.conv_transpose2d(x, fnp.moveaxis(w, 0, 1), stride=2), F.max_pool2d(x, 2, return_indices=True)[1],
            F.adaptive_max_pool2d(x, 3, return_indices=True)[1],
            F.fold(F.unfold(x, 2, padding=1), (5, 5), 2, padding=1)]
    assert all(o.device == device for o in outs)


# ----- vmap ---------------------------------------------------------------------------------------------


def test_vmap_over_inputs_weights_and_both():
    xs, ws = fnp.asarray(_arr((3, 2, 4, 5, 5))), fnp.asarray(_arr((3, 6, 2, 3, 3), seed=1))
    conv = lambda x, w: F.conv2d(x, w, stride=(1, 2), padding=1, groups=2)  # noqa: E731
    check_vmap(conv, (xs, ws[0]), in_axes=(0, None))
    check_vmap(conv, (xs[0], ws), in_axes=(None, 0))
    check_vmap(conv, (fnp.moveaxis(xs, 0, 3), ws), in_axes=(3, 0), out_axes=-1)
    check_vmap(lambda x, w: F.conv_transpose2d(x, w, stride=2, groups=2), (xs[:, :, :, :3, :3], ws[:, :4]),
               in_axes=(0, 0))
    check_vmap(lambda x: F.max_pool2d(x, 2, ceil_mode=True), (xs,), in_axes=2)
    check_vmap(lambda x: F.avg_pool2d(x, 3, 2, padding=1, count_include_pad=False), (xs,), in_axes=-1)
    check_vmap(lambda x: F.adaptive_avg_pool2d(x, (2, 3)), (xs,))
    check_vmap(lambda x: F.adaptive_max_pool2d(x, (2, 3)), (xs,))
    check_vmap(lambda x: F.unfold(x, 2, padding=1), (xs,), in_axes=1)


def test_per_example_gradients_of_a_small_cnn():
    rng = np.random.default_rng(0)
    params = {"w1": fnp.asarray(rng.standard_normal((4, 1, 3, 3))),
              "w2": fnp.asarray(rng.standard_normal((3, 4, 2, 2)))}
    xs = fnp.asarray(rng.standard_normal((3, 1, 6, 6)))

    def loss(params, x):
        h = F.max_pool2d(fnp.tanh(F.conv2d(x[None], params["w1"], padding=1)), 2)
        return fnp.sum(F.adaptive_avg_pool2d(F.conv2d(h, params["w2"]), 1) ** 2)

    batched = fnx.vmap(fnx.grad(loss), in_axes=(None, 0))(params, xs)
    for i in range(3):
        one = fnx.grad(loss)(params, xs[i])
        for k in params:
            np.testing.assert_allclose(np.asarray(batched[k][i]), np.asarray(one[k]), rtol=1e-10)
    check_grads(lambda w1: fnp.sum(fnx.vmap(loss, in_axes=(None, 0))({"w1": w1, "w2": params["w2"]}, xs)),
                (params["w1"],), order=1)


# ----- errors --------------------------------------------------------------------------------------------


def test_errors_name_the_operation_and_the_mismatch():
    x = fnp.ones((1, 3, 5, 5))
    with pytest.raises(ShapeError, match=r"conv2d: input has 3 channels but weight expects 4 \(groups=1\)"):
        F.conv2d(x, fnp.ones((2, 4, 3, 3)))
    with pytest.raises(ShapeError, match="conv2d: weight has 3 output channels, which groups=2 does not divide"):
        F.conv2d(fnp.ones((1, 4, 5, 5)), fnp.ones((3, 2, 3, 3)), groups=2)
    with pytest.raises(ShapeError, match="conv2d: expected a 3-d .unbatched. or 4-d .batched. input"):
        F.conv2d(fnp.ones((5, 5)), fnp.ones((2, 3, 3, 3)))
    with pytest.raises(ShapeError, match=r"conv1d: the kernel \(4,\) .* larger than the padded input \(3,\)"):
        F.conv1d(fnp.ones((1, 1, 3)), fnp.ones((1, 1, 4)))
    with pytest.raises(ValueError, match="conv2d: padding='same' is not supported for strided convolutions"):
        F.conv2d(x, fnp.ones((2, 3, 3, 3)), stride=2, padding="same")
    with pytest.raises(ShapeError, match=r"conv2d: bias must have shape \(2,\)"):
        F.conv2d(x, fnp.ones((2, 3, 3, 3)), fnp.ones(3))
    with pytest.raises(DTypeError, match="conv2d: input is float32 but weight is float64"):
        F.conv2d(x, fnp.ones((2, 3, 3, 3), dtype="float64"))
    with pytest.raises(DTypeError, match="conv2d: expected a floating input, got int64"):
        F.conv2d(fnp.ones((1, 3, 5, 5), dtype="int64"), fnp.ones((2, 3, 3, 3), dtype="int64"))
    with pytest.raises(ValueError, match="conv2d: stride must be positive"):
        F.conv2d(x, fnp.ones((2, 3, 3, 3)), stride=0)
    with pytest.raises(ValueError, match="conv2d: stride must be an int or a tuple of 2 ints"):
        F.conv2d(x, fnp.ones((2, 3, 3, 3)), stride=(1, 1, 1))
    with pytest.raises(ValueError, match="conv_transpose2d: output_padding .* must be smaller than either stride"):
        F.conv_transpose2d(x, fnp.ones((3, 2, 3, 3)), stride=2, output_padding=2)
    with pytest.raises(ShapeError, match="conv_transpose2d: input has 3 channels but weight expects 2"):
        F.conv_transpose2d(x, fnp.ones((2, 2, 3, 3)))
    with pytest.raises(ValueError, match="max_pool2d: padding .* should be at most half of kernel size"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ShapeError, match="max_pool2d: input of spatial size .* gives an empty output"):
        F.max_pool2d(fnp.ones((1, 1, 2, 2)), 3)
    with pytest.raises(DTypeError, match="avg_pool2d: expected a floating input"):
        F.avg_pool2d(fnp.ones((1, 1, 2, 2), dtype="int64"), 2)
    with pytest.raises(ShapeError, match="fold: input of shape"):
        F.fold(fnp.ones((1, 4, 5)), (3, 3), 2)


# ----- PyTorch itself (optional) ------------------------------------------------------------------------


def test_against_torch():
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x, w, b = _arr((2, 4, 7, 6)), _arr((6, 2, 3, 2), seed=1), _arr(6, seed=2)
    t = lambda a: torch.tensor(a)  # noqa: E731
    pairs = [
        (F.conv2d(fnp.asarray(x), fnp.asarray(w), fnp.asarray(b), 2, (1, 2), (2, 1), 2),
         tf.conv2d(t(x), t(w), t(b), 2, (1, 2), (2, 1), 2)),
        (F.conv2d(fnp.asarray(x), fnp.asarray(w), None, 1, "same", 2, 2), tf.conv2d(t(x), t(w), None, 1, "same", 2, 2)),
        (F.conv_transpose2d(fnp.asarray(x), fnp.asarray(w[:4]), None, 2, 1, 1, 2, 1),
         tf.conv_transpose2d(t(x), t(w[:4]), None, 2, 1, 1, 2, 1)),
        (F.max_pool2d(fnp.asarray(x), 3, 2, 1, 1, True), tf.max_pool2d(t(x), 3, 2, 1, 1, True)),
        (F.avg_pool2d(fnp.asarray(x), 3, 2, 1, True, False), tf.avg_pool2d(t(x), 3, 2, 1, True, False)),
        (F.avg_pool2d(fnp.asarray(x), 2, 3, 1, True, True), tf.avg_pool2d(t(x), 2, 3, 1, True, True)),
        (F.adaptive_avg_pool2d(fnp.asarray(x), (3, 4)), tf.adaptive_avg_pool2d(t(x), (3, 4))),
        (F.adaptive_max_pool2d(fnp.asarray(x), (4, 5)), tf.adaptive_max_pool2d(t(x), (4, 5))),
        (F.unfold(fnp.asarray(x), (2, 3), 1, 1, 2), tf.unfold(t(x), (2, 3), 1, 1, 2)),
    ]
    for mine, theirs in pairs:
        np.testing.assert_allclose(np.asarray(mine), theirs.numpy(), rtol=1e-10, atol=1e-12)
    tx = t(x).requires_grad_()
    tf.max_pool2d(tx, 2, 1).sum().backward()
    g = fnx.grad(lambda x: fnp.sum(F.max_pool2d(x, 2, 1)))(fnp.asarray(x))
    np.testing.assert_array_equal(np.asarray(g), tx.grad.numpy())
