"""Shape primitives and the functions composed from them: registry cases, NumPy parity, errors."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import fnx
import fnx.numpy as fnp
from fnx.errors import ShapeError, TracerError
from fnx.testing import check_grads, check_vmap
from .harness import Case, numpy_arrays, one, shapes

# ----- strategies ------------------------------------------------------------------------


def _arr(min_dims=0, max_dims=3, max_side=3, min_side=1):
    return numpy_arrays(shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side))


def _then(arr_strategy, build):
    """(x, *build(x)): extra arguments drawn after the array, from its shape."""
    return arr_strategy.flatmap(lambda x: build(x).map(lambda rest: (x,) + tuple(rest)))


def _broadcast_target(x):
    # A target shape that x broadcasts to: x's shape with its 1s widened, after new leading axes.
    lead = st.lists(st.integers(1, 3), max_size=2)
    dims = st.tuples(*[st.integers(1, 3) if d == 1 else st.just(d) for d in x.shape])
    return st.tuples(st.tuples(lead, dims).map(lambda p: tuple(p[0]) + p[1]))


def _reshape_target(x):
    n, shape = x.size, x.shape
    options = [(-1,), (n,), (1, n), (n, 1), shape[::-1], (1,) + shape, shape + (1,)]
    if x.ndim >= 2:
        options += [(shape[0], -1), (-1, shape[-1])]
    return st.tuples(st.sampled_from(options))


def _axis(x, extra=0):
    return st.integers(-(x.ndim + extra), x.ndim + extra - 1)


def _concat_args():
    """(axis, a, b, c): three arrays that agree off ``axis`` (where some may have length 0)."""
    def build(p):
        base, axis, lengths = p
        ax = axis % len(base)
        return st.tuples(st.just(axis), *[numpy_arrays(st.just(base[:ax] + (n,) + base[ax + 1:])) for n in lengths])
    return st.tuples(shapes(min_dims=1, max_side=3), st.integers(-3, 2),
                     st.lists(st.integers(0, 3), min_size=3, max_size=3)).filter(
        lambda p: -len(p[0]) <= p[1] < len(p[0])).flatmap(build)


def _split_spec(x):
    ax = st.integers(-x.ndim, x.ndim - 1)
    sections = st.integers(1, 4)
    cuts = st.lists(st.integers(-1, 5), max_size=3)
    return st.tuples(st.one_of(sections, cuts.map(sorted), cuts), ax)


def _slices(x):
    bound = max(x.shape, default=1) + 1
    one = st.builds(slice, st.none() | st.integers(-bound, bound), st.none() | st.integers(-bound, bound),
                    st.sampled_from([None, 1, 2, -1, -2]))
    return st.tuples(st.tuples(*[one for _ in x.shape]))


def _pad_spec(x):
    pair = st.tuples(st.integers(0, 2), st.integers(0, 2))
    width = st.one_of(st.integers(0, 2), pair, st.tuples(pair), st.tuples(*[pair for _ in x.shape]))
    return st.tuples(width, st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]))


def _const_pad(x):
    pair = st.tuples(st.integers(0, 2), st.integers(0, 2))
    value = st.one_of(st.just(0.0), st.floats(-2, 2), st.tuples(st.floats(-2, 2), st.floats(-2, 2)))
    return st.tuples(st.one_of(pair, st.tuples(*[pair for _ in x.shape])), value)


def _split_fun(x, spec, axis):
    return fnp.array_split(x, spec, axis)


def _split_ref(x, spec, axis):
    return np.array_split(x, spec, axis)


# ----- cases ---------------------------------------------------------------------------------

CASES = [
    Case("broadcast_to", fnp.broadcast_to, np.broadcast_to, _then(_arr(), _broadcast_target)),
    Case("broadcast_to", lambda x: fnp.tile(x, (2, 1, 2)), lambda x: np.tile(x, (2, 1, 2)), one(max_side=3),
         name="tile"),
    Case("broadcast_to", lambda x, r, ax: fnp.repeat(x, r, ax), lambda x, r, ax: np.repeat(x, r, ax),
         _then(_arr(min_dims=1), lambda x: st.tuples(st.integers(0, 3), st.none() | _axis(x))), name="repeat"),
    Case("reshape", fnp.reshape, np.reshape, _then(_arr(), _reshape_target)),
    Case("reshape", lambda x: fnp.atleast_3d(x), np.atleast_3d, _arr(max_dims=2).map(lambda x: (x,)),
         name="atleast_3d"),
    Case("transpose", fnp.transpose, np.transpose,
         _then(_arr(), lambda x: st.tuples(st.permutations(range(x.ndim)).map(tuple)))),
    Case("transpose", fnp.moveaxis, np.moveaxis,
         _then(_arr(min_dims=1), lambda x: st.tuples(_axis(x), _axis(x))), name="moveaxis"),
    Case("concatenate", lambda axis, *xs: fnp.concatenate(xs, axis), lambda axis, *xs: np.concatenate(xs, axis),
         _concat_args(), diff=(1, 2, 3)),
    Case("concatenate", lambda x, y: fnp.hstack([x, y]), lambda x, y: np.hstack([x, y]),
         shapes(max_dims=3, max_side=3).flatmap(lambda s: st.tuples(numpy_arrays(st.just(s)),
                                                                    numpy_arrays(st.just(s)))), diff=(0, 1),
         name="hstack"),
    Case("concatenate", lambda x, s, ax: fnp.roll(x, s, ax), lambda x, s, ax: np.roll(x, s, ax),
         _then(_arr(min_dims=1), lambda x: st.tuples(st.integers(-5, 5), st.none() | _axis(x))), name="roll"),
    Case("split", _split_fun, _split_ref, _then(_arr(min_dims=1), _split_spec)),
    Case("slice", lambda x, sl: x[sl], lambda x, sl: x[sl], _then(_arr(min_dims=1), _slices)),
    Case("slice", lambda x, ax: fnp.flip(x, ax), lambda x, ax: np.flip(x, ax),
         _then(_arr(), lambda x: st.tuples(st.none() | _axis(x) if x.ndim else st.none())), name="flip"),
    Case("slice", lambda x, k, a1, a2: fnp.diagonal(x, k, a1, a2), lambda x, k, a1, a2: np.diagonal(x, k, a1, a2),
         _then(_arr(min_dims=2), lambda x: st.tuples(st.integers(-3, 3), _axis(x), _axis(x)).filter(
             lambda p: p[1] % x.ndim != p[2] % x.ndim)), name="diagonal"),
    Case("slice_transpose", lambda x, w, v: fnp.pad(x, w, constant_values=v),
         lambda x, w, v: np.pad(x, w, constant_values=v), _then(_arr(min_dims=1), _const_pad), name="pad_constant"),
    Case("gather", lambda x, w, mode: fnp.pad(x, w, mode=mode), lambda x, w, mode: np.pad(x, w, mode=mode),
         _then(_arr(min_dims=1), _pad_spec), name="pad_modes"),
    Case("select", lambda x, k: fnp.tril(x, k), lambda x, k: np.tril(x, k),
         _then(_arr(min_dims=1), lambda x: st.tuples(st.integers(-2, 2))), name="tril"),
    Case("select", lambda x, k: fnp.triu(x, k), lambda x, k: np.triu(x, k),
         _then(_arr(min_dims=1), lambda x: st.tuples(st.integers(-2, 2))), name="triu"),
]


# ----- ordinary tests --------------------------------------------------------------------------

def _same(out, expected):
    expected = np.asarray(expected)
    assert out.shape == expected.shape and out.dtype == expected.dtype, (out.shape, out.dtype, expected.shape)
    np.testing.assert_array_equal(np.asarray(out), expected)


@given(x=_arr(min_dims=1), sections=st.integers(1, 4))
def test_split_and_array_split(x, sections):
    for ax in range(x.ndim):
        parts = fnp.array_split(x, sections, ax)
        assert isinstance(parts, list)
        for p, e in zip(parts, np.array_split(x, sections, ax)):
            _same(p, e)
        if x.shape[ax] % sections == 0:
            for p, e in zip(fnp.split(x, sections, ax), np.split(x, sections, ax)):
                _same(p, e)


def test_split_errors():
    with pytest.raises(ShapeError, match="split: an axis of length 5"):
        fnp.split(fnp.arange(5), 2)
    with pytest.raises(ValueError, match="array_split: the number of sections"):
        fnp.array_split(fnp.arange(5), 0)


@pytest.mark.parametrize("fn", ["hstack", "vstack", "dstack", "column_stack"])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 2)])
def test_stacking_functions(fn, shape):
    if fn == "column_stack" and len(shape) > 2 or fn == "hstack" and shape == ():
        shape = (3,)
    a, b = np.arange(np.prod(shape, dtype=int)).reshape(shape), np.ones(shape, np.int32)
    _same(getattr(fnp, fn)([a, b]), getattr(np, fn)([a, b]))


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 1, 3)])
def test_atleast(k, shape):
    a = np.zeros(shape)
    f, g = getattr(fnp, f"atleast_{k}d"), getattr(np, f"atleast_{k}d")
    _same(f(a), g(a))
    out = f(a, 1.0)
    assert isinstance(out, tuple) and [o.shape for o in out] == [e.shape for e in g(a, 1.0)]


@pytest.mark.parametrize("reps", [2, (2, 3), (1, 2, 0), (3, 1, 1, 2)])
def test_tile(reps):
    a = np.arange(6).reshape(2, 3)
    _same(fnp.tile(a, reps), np.tile(a, reps))


def test_repeat_per_element_and_errors():
    a = np.arange(6.).reshape(2, 3)
    _same(fnp.repeat(a, [1, 0, 2], axis=1), np.repeat(a, [1, 0, 2], axis=1))
    _same(fnp.repeat(a, [2], axis=0), np.repeat(a, [2], axis=0))
    _same(fnp.repeat(a, 2), np.repeat(a, 2))
    with pytest.raises(ShapeError, match="repeat: 2 repeats given for an axis of length 3"):
        fnp.repeat(a, [1, 2], axis=1)
    with pytest.raises(ValueError, match="repeat: repeats may not contain negative"):
        fnp.repeat(a, -1)
    with pytest.raises(TracerError, match="repeat: repeats is traced"):
        fnx.make_graph(lambda r: fnp.repeat(fnp.ones(2), r))(fnp.array([1, 2]))
    check_grads(lambda x: fnp.repeat(x, [1, 0, 3], axis=1), (fnp.asarray(a),), order=2)


@pytest.mark.parametrize("shift,axis", [(2, None), (-7, 0), ((1, 2), (0, 1)), ((1, 1), (1, 1)), (3, -1)])
def test_roll(shift, axis):
    a = np.arange(10).reshape(2, 5)
    _same(fnp.roll(a, shift, axis), np.roll(a, shift, axis))


def test_flip_variants():
    a = np.arange(24).reshape(2, 3, 4)
    for axis in [None, 0, -1, (0, 2)]:
        _same(fnp.flip(a, axis), np.flip(a, axis))
    _same(fnp.fliplr(a), np.fliplr(a))
    _same(fnp.flipud(a), np.flipud(a))
    with pytest.raises(ShapeError, match="fliplr"):
        fnp.fliplr(fnp.arange(3))


@pytest.mark.parametrize("width", [1, (1, 2), ((1, 2),), ((0, 1), (2, 0)), [[1, 1], [0, 3]]])
@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric", "wrap", "empty"])
def test_pad_forms(width, mode):
    a = np.arange(6).reshape(2, 3)
    expected = np.pad(a, width, mode=mode)
    if mode == "empty":
        expected = np.pad(a, width)
    _same(fnp.pad(a, width, mode=mode), expected)


def test_pad_constants_and_errors():
    a = np.arange(6.).reshape(2, 3)
    for cv in [1.5, (1, 2), ((1, 2), (3, 4))]:
        _same(fnp.pad(a, ((1, 2), (2, 1)), constant_values=cv), np.pad(a, ((1, 2), (2, 1)), constant_values=cv))
    _same(fnp.pad(np.arange(3), 2, constant_values=7), np.pad(np.arange(3), 2, constant_values=7))
    with pytest.raises(ValueError, match="pad: pad_width cannot contain negative"):
        fnp.pad(a, -1)
    with pytest.raises(TypeError, match="pad: pad_width must be of integral type"):
        fnp.pad(a, 1.5)
    with pytest.raises(NotImplementedError, match="pad: mode 'cubic'"):
        fnp.pad(a, 1, mode="cubic")
    with pytest.raises(NotImplementedError, match="reflect_type='odd' of pads longer than the axis"):
        fnp.pad(a, 4, mode="reflect", reflect_type="odd")
    with pytest.raises(ValueError, match="reflect_type must be 'even' or 'odd'"):
        fnp.pad(a, 1, mode="reflect", reflect_type="sideways")
    with pytest.raises(ValueError, match="pad: cannot extend the empty axis"):
        fnp.pad(np.zeros((0, 2)), 1, mode="edge")


@pytest.mark.parametrize("offset", [-3, -1, 0, 1, 2, 5])
def test_diagonal_and_tri(offset):
    a = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    for a1, a2 in [(0, 1), (1, 2), (2, 0), (-1, -2)]:
        _same(fnp.diagonal(a, offset, a1, a2), np.diagonal(a, offset, a1, a2))
    _same(fnp.tril(a, offset), np.tril(a, offset))
    _same(fnp.triu(a, offset), np.triu(a, offset))
    _same(fnp.tril(np.arange(4), offset), np.tril(np.arange(4), offset))
    b = np.ones((3, 3), bool)
    _same(fnp.triu(b, offset), np.triu(b, offset))


def test_diagonal_errors():
    with pytest.raises(ShapeError, match="diagonal: the input must have at least 2"):
        fnp.diagonal(fnp.arange(3))
    with pytest.raises(ValueError, match="diagonal: axis1 and axis2"):
        fnp.diagonal(fnp.ones((2, 2)), 0, 1, 1)


def test_existing_shape_ops_edge_cases():
    with pytest.raises(ShapeError, match="reshape: cannot reshape"):
        fnp.reshape(fnp.arange(6), (-2, -3))
    with pytest.raises(ShapeError, match="broadcast_to: cannot broadcast"):
        fnp.broadcast_to(fnp.ones(3), (2, 4))
    with pytest.raises(ValueError, match="moveaxis: repeated axis"):
        fnp.moveaxis(fnp.ones((2, 3)), (0, 0), (0, 1))
    with pytest.raises(ShapeError, match="concatenate: shapes"):
        fnp.concatenate([fnp.ones((2, 3)), fnp.ones((3, 2))])
    assert isinstance(fnp.broadcast_arrays(np.ones(2), 1.0), tuple)
    _same(fnp.concatenate([np.ones((2, 0)), np.zeros((2, 0))], axis=1), np.zeros((2, 0)))


def test_split_concatenate_transpose_pair():
    """concatenate's VJP is one split, and split's VJP one concatenate (not slices into zeros)."""
    xs = (fnp.ones(2), fnp.ones(3), fnp.arange(5.))
    g = fnx.make_graph(lambda a, b, ct: fnx.vjp(lambda a, b: fnp.concatenate([a, b]), a, b)[1](ct))(*xs)
    assert "split" in g.primitives() and "slice_transpose" not in g.primitives()
    g = fnx.make_graph(lambda x, w: fnx.grad(lambda x: (fnp.array_split(x, 3)[1] * w).sum())(x))(fnp.ones(7),
                                                                                                   fnp.ones(2))
    assert "concatenate" in g.primitives()


def test_float32_gradients_keep_their_dtype():
    x = fnp.ones((3, 3), dtype="float32")
    for f in [lambda x: fnp.pad(x, 1, constant_values=2.0), lambda x: fnp.pad(x, 1, mode="reflect"),
              lambda x: fnp.tile(x, 2), lambda x: fnp.diagonal(x), lambda x: fnp.roll(x, 1),
              lambda x: fnp.tril(x), lambda x: fnp.array_split(x, 2)[0], lambda x: fnp.flip(x)]:
        assert fnx.grad(lambda x: fnp.sum(f(x)))(x).dtype == np.float32


def test_pad_second_order():
    x = fnp.asarray(np.linspace(-1, 1, 6).reshape(2, 3))
    for mode in ["edge", "reflect", "wrap"]:
        check_grads(lambda x: fnp.pad(x, ((1, 2), (2, 1)), mode=mode) ** 2, (x,), order=2)


# ----- vmap ------------------------------------------------------------------------------------

def _shape_loss(x, y):
    """A scalar through every shape primitive: x of shape (3, 4), y of shape (4,)."""
    z = fnp.concatenate([fnp.transpose(x), fnp.broadcast_to(y, (2, 4)).T], axis=1)  # (4, 5)
    a, b = fnp.array_split(fnp.reshape(z, (5, 4)), [2], axis=0)
    w = fnp.pad(a[:, ::-1], ((1, 0), (0, 2)))[:, 1:-1] * fnp.roll(b, 1, 0)
    return fnp.sum(w ** 2) + fnp.sum(fnp.diagonal(fnp.tile(x, (1, 2)), 1) * fnp.flip(y)[:3])


def test_vmap_of_grad_of_shape_ops_matches_a_loop():
    rng = np.random.default_rng(0)
    x, y = fnp.asarray(rng.standard_normal((2, 3, 4))), fnp.asarray(rng.standard_normal((2, 4)))
    grads = fnx.grad(_shape_loss, argnums=(0, 1))
    check_vmap(grads, (x, y), in_axes=(0, 0))
    check_vmap(grads, (fnp.moveaxis(x, 0, 2), y), in_axes=(2, 0), out_axes=-1)
    check_vmap(grads, (x, y[0]), in_axes=(0, None))
    check_vmap(grads, (x[0], fnp.transpose(y)), in_axes=(None, 1))


def test_grad_of_vmap_of_shape_ops():
    rng = np.random.default_rng(1)
    x, y = fnp.asarray(rng.standard_normal((2, 3, 4))), fnp.asarray(rng.standard_normal((4, 2)))
    for in_axes, xs, ys in [((0, 1), x, y), ((2, None), fnp.moveaxis(x, 0, 2), y[:, 0]), ((None, 1), x[0], y)]:
        check_grads(lambda x, y: fnx.vmap(_shape_loss, in_axes=in_axes)(x, y), (xs, ys), order=2)


def test_nested_vmap_of_shape_ops():
    x = fnp.asarray(np.random.default_rng(2).standard_normal((2, 3, 4, 5)))

    def f(x):
        parts = fnp.split(fnp.transpose(x), [1, 3], axis=0)
        return fnp.concatenate([parts[2], fnp.pad(parts[1][::-1], 1)[1:-1, 1:-1], parts[0]], axis=0)
    check_vmap(fnx.vmap(f, in_axes=1), (x,), in_axes=3, out_axes=1)


@pytest.mark.parametrize("fun,in_axes,out_axes,shape,expected", [
    (lambda x: fnp.transpose(x, (2, 0, 1)), 1, 1, (3, 2, 4, 5), ["transpose"]),
    (lambda x: fnp.broadcast_to(x, (6,) + x.shape), 1, 2, (3, 2, 4), ["broadcast_to"]),
    (lambda x: x[1:, ::-1], 2, 2, (3, 4, 2), ["slice"]),
    (lambda x: fnp.pad(x, 1), 1, 1, (3, 2, 4), ["slice_transpose"]),
    (lambda x: fnp.split(x, 2, axis=-1)[0], 1, 1, (3, 2, 4), ["split"]),
    (lambda x: fnp.concatenate([x, x], axis=0), 1, 1, (3, 2, 4), ["concatenate"]),
])
def test_vmap_leaves_the_batch_axis_in_place(fun, in_axes, out_axes, shape, expected):
    """No transpose is added when the primitive can carry the batch axis where it is."""
    x = fnp.ones(shape)
    assert fnx.make_graph(fnx.vmap(fun, in_axes=in_axes, out_axes=out_axes))(x).primitives() == expected
    check_vmap(fun, (fnp.asarray(np.random.default_rng(0).standard_normal(shape)),), in_axes=in_axes,
               out_axes=out_axes)


def test_vmap_concatenate_broadcasts_unbatched_operands():
    a, b = fnp.asarray(np.arange(12.).reshape(2, 3, 2)), fnp.asarray(np.arange(6.).reshape(2, 3))
    check_vmap(lambda a, b: fnp.concatenate([a, b, a], axis=0), (a, b), in_axes=(2, None))
    check_vmap(lambda a, b: fnp.stack([b, a[0]], axis=-1), (a, b), in_axes=(2, 0))


# ----- array-API names and rot90 ---------------------------------------------------------------------


def test_array_api_aliases_match_numpy():
    x = np.arange(24.).reshape(2, 3, 4)
    fx = fnp.asarray(x)
    for axis in (0, 2, -1, None):
        np.testing.assert_array_equal(fnp.concat([fx, fx], axis=axis), np.concat([x, x], axis=axis))
    np.testing.assert_array_equal(fnp.permute_dims(fx, (2, 0, 1)), np.permute_dims(x, (2, 0, 1)))
    np.testing.assert_array_equal(fnp.matrix_transpose(fx), np.matrix_transpose(x))
    for axis in (0, 1, -1):
        out, expected = fnp.unstack(fx, axis=axis), np.unstack(x, axis=axis)
        assert isinstance(out, tuple) and len(out) == len(expected)
        for o, e in zip(out, expected):
            assert o.shape == e.shape
            np.testing.assert_array_equal(o, e)
    assert fnp.unstack(fnp.zeros((0, 2))) == ()
    with pytest.raises(ShapeError, match="unstack"):
        fnp.unstack(fnp.array(1.0))
    with pytest.raises(ShapeError, match="matrix_transpose"):
        fnp.matrix_transpose(fnp.ones(3))


def test_unstack_and_rot90_gradients():
    x = fnp.asarray(np.arange(12.).reshape(3, 4) / 7)
    check_grads(lambda x: fnp.unstack(x, axis=1), (x,), order=2)
    check_grads(lambda x: fnp.rot90(x, 3), (x,), order=2)
    check_vmap(lambda x: fnp.rot90(x), (fnp.asarray(np.arange(24.).reshape(2, 3, 4)),))


def test_rot90_matches_numpy():
    x = np.arange(24).reshape(2, 3, 4)
    for k in range(-5, 6):
        for axes in [(0, 1), (1, 0), (2, 0), (-1, -2), (1, 2)]:
            out, expected = fnp.rot90(fnp.asarray(x), k, axes), np.rot90(x, k, axes)
            assert out.shape == expected.shape, (k, axes)
            np.testing.assert_array_equal(out, expected)
    with pytest.raises(ValueError, match="rot90"):
        fnp.rot90(fnp.asarray(x), axes=(1, 1))
    with pytest.raises(ValueError, match="rot90"):
        fnp.rot90(fnp.asarray(x), axes=(0, 1, 2))
    with pytest.raises(ShapeError, match="rot90"):
        fnp.rot90(fnp.ones(3))


@pytest.mark.parametrize("mode, options", [("maximum", {}), ("minimum", {}), ("mean", {}), ("median", {}),
                                           ("mean", {"stat_length": 2}), ("maximum", {"stat_length": ((1, 2), (3, 1))}),
                                           ("median", {"stat_length": 3}), ("linear_ramp", {}),
                                           ("linear_ramp", {"end_values": (5, -2)}),
                                           ("reflect", {"reflect_type": "odd"}), ("symmetric", {"reflect_type": "odd"})])
def test_pad_statistic_ramp_and_odd_modes_match_numpy(mode, options):
    rng = np.random.default_rng(0)
    for a in (rng.standard_normal((3, 4)), rng.standard_normal((3, 4)).astype(np.float32),
              np.arange(12).reshape(3, 4) * 3 - 7):  # ints: statistics rounded, ramps floored, as NumPy
        for width in [(2, 1), ((1, 2), (0, 3)), 2, ((0, 0), (3, 3))]:
            out, expected = fnp.pad(fnp.asarray(a), width, mode=mode, **options), np.pad(a, width, mode=mode, **options)
            assert out.shape == expected.shape and out.dtype == expected.dtype
            np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-6)  # a float32 mean, summed otherwise
    check_grads(lambda x: fnp.pad(x, ((1, 2), (2, 1)), mode=mode, **options),
                (fnp.asarray(rng.standard_normal((3, 4))),), order=1)


def test_repeat_with_traced_repeats_and_a_total_length_as_jax():
    f = fnx.jit(lambda r: fnp.repeat(fnp.arange(3.0), r, total_repeat_length=4))
    cases = [([2, 1, 1], [0, 0, 1, 2]), ([1, 1, 1], [0, 1, 2, 2]), ([3, 3, 0], [0, 0, 0, 1])]
    for reps, want in cases:
        assert f(fnp.asarray(reps)).tolist() == want
        assert fnp.repeat(fnp.arange(3.0), reps, total_repeat_length=4).tolist() == want  # the eager path agrees
    assert f(2).tolist() == [0, 0, 1, 1]
    g = fnx.jit(lambda r: fnp.repeat(fnp.arange(6.0).reshape(2, 3), r, axis=1, total_repeat_length=5))
    assert g(fnp.asarray([2, 0, 3])).tolist() == [[0, 0, 2, 2, 2], [3, 3, 5, 5, 5]]
    batched = fnx.vmap(lambda r: fnp.repeat(fnp.arange(3.0), r, total_repeat_length=4))(fnp.asarray([[2, 1, 1],
                                                                                                     [0, 0, 4]]))
    assert batched.tolist() == [[0, 0, 1, 2], [2, 2, 2, 2]]
    grads = fnx.grad(fnx.jit(lambda x, r: fnp.sum(fnp.repeat(x, r, total_repeat_length=4) ** 2)))(
        fnp.arange(3.0), fnp.asarray([2, 1, 1]))  # r traced by jit
    assert grads.tolist() == [0.0, 2.0, 4.0]  # x[0] twice: 2 * 0 * 2; x[1] once: 2 * 1
    with pytest.raises(fnx.errors.TracerError, match="total_repeat_length"):
        fnx.jit(lambda r: fnp.repeat(fnp.arange(3.0), r))(fnp.asarray([1, 1, 1]))


def test_joins_cast_to_dtype_by_numpys_casting_rule():
    with pytest.raises(TypeError, match="cannot cast array data from float64 to int32 according to the rule"):
        fnp.concatenate([np.ones(2), np.ones(2)], dtype="int32")  # numpy refuses it too: same_kind
    for join in (fnp.stack, fnp.vstack, fnp.hstack):
        with pytest.raises(TypeError, match="same_kind"):
            join([np.ones(2), np.ones(2)], dtype="int32")
    assert fnp.concatenate([np.full(2, 1.7), np.ones(2)], dtype="int32", casting="unsafe").tolist() == [1, 1, 1, 1]
    assert fnp.stack([np.ones(2, "int32"), np.ones(2, "int64")], dtype="float32").dtype == np.float32
    assert fnp.bincount(fnp.asarray([True, False, True])).tolist() == [1, 2]  # booleans count, as in numpy
