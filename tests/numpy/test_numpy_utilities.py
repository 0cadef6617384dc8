"""fabs, nextafter, spacing, sort_complex, matvec, vecmat, bitwise_count, packbits/unpackbits, einsum_path,
iterable, mask_indices, frombuffer/fromiter/fromstring, array_str/array_repr and print options, place,
save/savez/load, unwrap, kaiser, i0 and fft.hfft/ihfft: values and dtypes against NumPy, gradients, errors."""
import io

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import fnx
import fnx.numpy as fnp
from fnx.errors import DTypeError, ImmutableError, ShapeError, TracerError
from fnx.testing import check_grads, check_vmap


def _same(out, expected):
    expected = np.asarray(expected)
    assert out.dtype == expected.dtype and out.shape == expected.shape, (out.dtype, expected.dtype, out.shape)
    np.testing.assert_array_equal(out, expected)


def test_float_neighbours():
    x = np.array([0., -0., 1., -1., np.inf, -np.inf, np.nan, 1e-310, 3.5, -2.0 ** 60])
    _same(fnp.spacing(fnp.asarray(x)), np.spacing(x))
    _same(fnp.spacing(fnp.asarray(x.astype(np.float32))), np.spacing(x.astype(np.float32)))
    _same(fnp.spacing(fnp.asarray(np.array([1, 2], np.int8))), np.spacing(np.array([1, 2], np.int8)))
    y = np.array([1., -np.inf, 0., 2., 0., np.nan, 0., 3.5, 7., 0.])
    _same(fnp.nextafter(fnp.asarray(x), fnp.asarray(y)), np.nextafter(x, y))
    _same(fnp.nextafter(fnp.asarray(x.astype(np.float32)), 0.), np.nextafter(x.astype(np.float32), np.float32(0)))
    _same(fnp.fabs(fnp.asarray(np.array([-1.5, 2.]))), np.fabs(np.array([-1.5, 2.])))
    _same(fnp.fabs(fnp.asarray(np.array([-3, 2]))), np.fabs(np.array([-3, 2])))
    check_grads(fnp.fabs, (fnp.asarray(np.array([-1.5, 2.])),), order=2)
    np.testing.assert_array_equal(fnx.grad(lambda v: fnp.sum(fnp.spacing(v)))(fnp.ones(2)), 0.)
    with pytest.raises(DTypeError, match="fabs"):
        fnp.fabs(fnp.asarray(np.array([1j])))
    with pytest.raises(DTypeError, match="nextafter"):
        fnp.nextafter(fnp.asarray(np.array([1j])), 1.)


def test_sort_complex_matvec_vecmat():
    for x in (np.array([5, 3, 6, 2, 1], np.int8), np.array([3., 1., 2.], np.float32), np.arange(4)[::-1],
              np.array([1 + 2j, 1 + 1j, -1 + 5j, 1 - 1j])):
        _same(fnp.sort_complex(fnp.asarray(x)), np.sort_complex(x))
    rng = np.random.default_rng(0)
    a, v = rng.normal(size=(2, 1, 3, 4)), rng.normal(size=(5, 4))
    np.testing.assert_allclose(fnp.matvec(fnp.asarray(a), fnp.asarray(v)), np.matvec(a, v), rtol=1e-13)
    w = rng.normal(size=(5, 3)) + 1j * rng.normal(size=(5, 3))
    np.testing.assert_allclose(fnp.vecmat(fnp.asarray(w), fnp.asarray(a)), np.vecmat(w, a), rtol=1e-13)
    assert fnp.matvec(fnp.asarray(a), fnp.asarray(v)).shape == np.matvec(a, v).shape
    check_grads(fnp.matvec, (fnp.asarray(a), fnp.asarray(v)))
    check_grads(fnp.vecmat, (fnp.asarray(v[:, :3]), fnp.asarray(a)))
    with pytest.raises(ShapeError, match="matvec"):
        fnp.matvec(fnp.ones((2, 3)), fnp.ones(2))
    with pytest.raises(ShapeError, match="vecmat"):
        fnp.vecmat(fnp.ones(2), fnp.ones((3, 2)))


@given(x=hnp.arrays(st.sampled_from([np.int8, np.uint8, np.int16, np.int32, np.int64, np.uint64, np.bool_]),
                    hnp.array_shapes(max_dims=2, max_side=5)))
def test_bitwise_count_matches_numpy(x):
    _same(fnp.bitwise_count(fnp.asarray(x)), np.bitwise_count(x))


def test_bitwise_count_extremes_and_errors():
    x = np.array([np.iinfo(np.int64).min, -1, np.iinfo(np.int64).max, 0])
    _same(fnp.bitwise_count(fnp.asarray(x)), np.bitwise_count(x))
    with pytest.raises(DTypeError, match="bitwise_count"):
        fnp.bitwise_count(fnp.ones(2))


@given(x=hnp.arrays(st.sampled_from([np.uint8, np.int64, np.bool_]), hnp.array_shapes(max_dims=3, max_side=11),
                    elements=st.integers(0, 1)), data=st.data())
def test_packbits_unpackbits_match_numpy(x, data):
    axis = data.draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)))
    order = data.draw(st.sampled_from(["big", "little"]))
    packed = fnp.packbits(fnp.asarray(x), axis=axis, bitorder=order)
    _same(packed, np.packbits(x, axis=axis, bitorder=order))
    p = np.packbits(x, axis=axis, bitorder=order)
    bits = 8 * (p.size if axis is None else p.shape[axis])
    count = data.draw(st.one_of(st.none(), st.integers(-bits - 2, bits + 5)))
    if count is not None and count < -bits:  # more bits dropped than there are: NumPy refuses, so must fnx
        with pytest.raises(ValueError):
            np.unpackbits(p, axis=axis, count=count, bitorder=order)
        with pytest.raises(ValueError, match="unpackbits"):
            fnp.unpackbits(fnp.asarray(p), axis=axis, count=count, bitorder=order)
        return
    _same(fnp.unpackbits(fnp.asarray(p), axis=axis, count=count, bitorder=order),
          np.unpackbits(p, axis=axis, count=count, bitorder=order))


def test_packbits_errors():
    with pytest.raises(DTypeError, match="packbits"):
        fnp.packbits(fnp.ones(3))
    with pytest.raises(DTypeError, match="unpackbits: expected a uint8"):
        fnp.unpackbits(fnp.arange(3))
    with pytest.raises(ValueError, match="bitorder"):
        fnp.packbits(fnp.arange(3), bitorder="middle")


def test_einsum_path_and_small_helpers():
    ops = [fnp.ones((2, 3)), fnp.ones((3, 40)), fnp.ones((40, 2))]
    path, info = fnp.einsum_path("ij,jk,kl->il", *ops)
    expected = np.einsum_path("ij,jk,kl->il", *[np.ones(o.shape) for o in ops], optimize="optimal")[0][1:]
    assert path == expected
    assert "Optimized scaling" in str(info)
    assert fnp.einsum_path("ij,jk,kl->il", *ops, optimize=False)[0] == [(0, 1), (0, 1)]
    with pytest.raises(ValueError, match="einsum_path"):
        fnp.einsum_path("ij,jk->ik", fnp.ones((2, 3)), fnp.ones((4, 5)))
    assert fnp.iterable([1]) and fnp.iterable(fnp.ones(2)) and not fnp.iterable(fnp.array(1.)) and not fnp.iterable(3)
    for func, k in ((fnp.triu, 0), (fnp.triu, 1), (fnp.tril, -1)):
        rows, cols = fnp.mask_indices(4, func, k)
        erows, ecols = np.mask_indices(4, np.triu if func is fnp.triu else np.tril, k)
        _same(rows, erows)
        _same(cols, ecols)
    assert fnp.euler_gamma == np.euler_gamma
    buf = np.arange(5, dtype=np.float64).tobytes()
    _same(fnp.frombuffer(buf), np.frombuffer(buf))
    _same(fnp.frombuffer(buf, dtype=np.int32, count=2, offset=8), np.frombuffer(buf, np.int32, 2, 8))
    _same(fnp.fromiter(range(5), dtype=np.int16), np.fromiter(range(5), np.int16))
    _same(fnp.fromstring("1, 2, 3.5", sep=","), np.fromstring("1, 2, 3.5", sep=","))
    with pytest.raises(ValueError, match="fromstring: binary mode"):
        fnp.fromstring("abc", sep="")
    assert fnp.pi == np.pi


def test_printing():
    x = np.array([1e-6, 4e-7, 2., 3.])
    assert fnp.array_str(fnp.asarray(x), precision=3, suppress_small=True) == np.array_str(x, precision=3,
                                                                                         suppress_small=True)
    assert fnp.array_repr(fnp.asarray(x), precision=2) == "Array(" + np.array_repr(x, precision=2)[6:-1] + \
        ", dtype=float64)"
    old = fnp.get_printoptions()["precision"]
    with fnp.printoptions(precision=2):
        assert fnp.get_printoptions()["precision"] == 2
        assert repr(fnp.asarray(np.array([1.23456]))) == "Array([1.23], dtype=float64)"
    assert fnp.get_printoptions()["precision"] == old
    fnp.set_printoptions(precision=3)
    try:
        assert np.get_printoptions()["precision"] == 3
    finally:
        fnp.set_printoptions(precision=old)


def test_place():
    x = np.arange(6.)
    mask = x % 2 == 1
    out = fnp.place(fnp.asarray(x), fnp.asarray(mask), fnp.array([10., 20.]), inplace=False)
    expected = x.copy()
    np.place(expected, mask, [10., 20.])
    _same(out, expected)
    m2 = np.array([[True, False], [True, True]])
    out = fnp.place(fnp.asarray(np.zeros((2, 2))), fnp.asarray(m2), fnp.array([1., 2., 3., 4., 5.]), inplace=False)
    expected = np.zeros((2, 2))
    np.place(expected, m2, [1., 2., 3., 4., 5.])
    _same(out, expected)
    vals = fnp.asarray(np.array([10., 20.]))
    check_grads(lambda a, v: fnp.place(a, fnp.asarray(mask), v, inplace=False), (fnp.asarray(x), vals))
    with pytest.raises(ImmutableError, match="place"):
        fnp.place(fnp.asarray(x), fnp.asarray(mask), vals)
    with pytest.raises(ValueError, match="empty vals"):
        fnp.place(fnp.asarray(x), fnp.asarray(mask), fnp.zeros(0), inplace=False)
    with pytest.raises(ShapeError, match="place"):
        fnp.place(fnp.asarray(x), fnp.ones(3, dtype=bool), vals, inplace=False)


def test_save_savez_load(tmp_path):
    a = fnp.asarray(np.arange(6.).reshape(2, 3))
    path = tmp_path / "a.npy"
    fnp.save(path, a)
    back = fnp.load(path)
    assert isinstance(back, fnx.Array)
    _same(back, np.arange(6.).reshape(2, 3))
    fnp.savez(tmp_path / "b.npz", a, fnp.arange(3), weights=fnp.ones(2, dtype=fnp.float32))
    loaded = fnp.load(tmp_path / "b.npz")
    assert sorted(loaded) == ["arr_0", "arr_1", "weights"]
    assert all(isinstance(v, fnx.Array) for v in loaded.values())
    _same(loaded["weights"], np.ones(2, np.float32))
    buf = io.BytesIO()
    fnp.save(buf, fnp.arange(3))
    buf.seek(0)
    _same(fnp.load(buf), np.arange(3))
    pickled = tmp_path / "p.npy"
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="load"):
        fnp.load(pickled)
    with pytest.raises(ValueError, match="never unpickles"):
        fnp.load(path, allow_pickle=True)
    with pytest.raises(ValueError, match="never pickles"):
        fnp.save(path, a, allow_pickle=True)


@given(p=hnp.arrays(np.float64, st.integers(1, 8), elements=st.floats(-12, 12)),
       period=st.sampled_from([2 * np.pi, 4.0, 1.5]), discont=st.sampled_from([None, 1.0, 5.0]))
def test_unwrap_matches_numpy(p, period, discont):
    np.testing.assert_allclose(fnp.unwrap(fnp.asarray(p), discont, period=period),
                               np.unwrap(p, discont, period=period), rtol=1e-12, atol=1e-12)


def test_unwrap_axes_ints_and_gradients():
    rng = np.random.default_rng(3)
    p = rng.uniform(-10, 10, size=(3, 5))
    for axis in (0, 1, -1):
        np.testing.assert_allclose(fnp.unwrap(fnp.asarray(p), axis=axis), np.unwrap(p, axis=axis), rtol=1e-12)
    ints = np.array([0, 1, 2, 7, 8, 3, 9])
    for period in (6, 5):
        _same(fnp.unwrap(fnp.asarray(ints), period=period), np.unwrap(ints, period=period))
    assert fnp.unwrap(fnp.asarray(p.astype(np.float32))).dtype == np.float32
    np.testing.assert_allclose(fnx.grad(lambda v: fnp.sum(fnp.unwrap(v) ** 2))(fnp.asarray(p[0])),
                               2 * np.unwrap(p[0]), rtol=1e-12)
    check_vmap(fnp.unwrap, (fnp.asarray(p),))
    with pytest.raises(ShapeError, match="unwrap"):
        fnp.unwrap(fnp.array(1.))


def test_kaiser_and_i0():
    for M in (0, 1, 2, 5, 12):
        for beta in (0., 5., 14.):  # the default float dtype for a Python beta, a float64 beta's dtype for one
            out = fnp.kaiser(M, beta)
            assert out.dtype == np.float32 and out.shape == (M,)
            np.testing.assert_allclose(out, np.kaiser(M, beta).astype(np.float32), rtol=1e-6)
            np.testing.assert_allclose(fnp.kaiser(M, fnp.asarray(np.float64(beta))), np.kaiser(M, beta), rtol=1e-14)
    check_grads(lambda b: fnp.kaiser(6, b), (fnp.asarray(np.array(3.0)),), order=2)
    with pytest.raises(ShapeError, match="kaiser"):
        fnp.kaiser(4, fnp.ones(2))
    x = np.linspace(-30, 30, 121)
    np.testing.assert_allclose(fnp.i0(fnp.asarray(x)), np.i0(x), rtol=1e-14)
    check_grads(fnp.i0, (fnp.asarray(x[::10]),), order=2)


@pytest.mark.parametrize("shape,axis", [((5,), -1), ((3, 4), 0), ((3, 4), 1)])
def test_hfft_ihfft_match_numpy(shape, axis):
    rng = np.random.default_rng(4)
    a = rng.normal(size=shape) + 1j * rng.normal(size=shape)
    r = rng.normal(size=shape)
    for n in (None, 3, 8):
        for norm in (None, "backward", "ortho", "forward"):
            out, expected = fnp.fft.hfft(fnp.asarray(a), n, axis, norm), np.fft.hfft(a, n, axis, norm)
            assert out.dtype == expected.dtype and out.shape == expected.shape
            np.testing.assert_allclose(out, expected, atol=1e-12)
            out, expected = fnp.fft.ihfft(fnp.asarray(r), n, axis, norm), np.fft.ihfft(r, n, axis, norm)
            assert out.dtype == expected.dtype and out.shape == expected.shape
            np.testing.assert_allclose(out, expected, atol=1e-12)
    assert fnp.fft.hfft(fnp.ones(3)).dtype == np.float32 and fnp.fft.ihfft(fnp.ones(4)).dtype == np.complex64
    check_grads(lambda v: fnp.fft.hfft(v, 6), (fnp.asarray(r[..., :3] if r.ndim == 1 else r),))
    check_grads(lambda v: fnp.real(fnp.fft.ihfft(v)) + fnp.imag(fnp.fft.ihfft(v)), (fnp.asarray(r),))
    with pytest.raises(ValueError, match="hfft: norm"):
        fnp.fft.hfft(fnp.asarray(a), norm="sideways")
    with pytest.raises(ValueError, match="ihfft: norm"):
        fnp.fft.ihfft(fnp.asarray(r), norm="sideways")


def test_value_dependent_helpers_refuse_vmap():
    with pytest.raises(TracerError):
        fnx.vmap(lambda m: fnp.place(fnp.zeros(3), m, fnp.ones(1), inplace=False))(fnp.ones((2, 3), dtype=bool))
