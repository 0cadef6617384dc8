"""Fourier transforms: cases for the registry-wide checks, and the dtype, convention and error tests.

The registry checks real functions of real arrays, so each case builds its
complex input as ``x + 1j * y`` from two drawn arrays and returns the real and
imaginary parts of a complex output stacked: the derivative checks then see
every real and imaginary part of the complex Jacobian.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import fnx
import fnx.numpy as fnp
from fnx.errors import DTypeError, ShapeError
from fnx.testing import check_grads, check_vmap
from .harness import Case, numpy_arrays, shapes

_NORMS = st.sampled_from([None, "backward", "ortho", "forward"])


def _parts(z):
    return fnp.stack([fnp.real(z), fnp.imag(z)])


def _np_parts(z):
    return np.stack([z.real, z.imag])


@st.composite
def _one_axis(draw, pair, min_side=1):
    """(x[, y], n, axis, norm) for the one-axis transforms."""
    shape = draw(shapes(min_dims=1, max_dims=2, min_side=min_side, max_side=4))
    arrays = tuple(draw(numpy_arrays(st.just(shape))) for _ in range(2 if pair else 1))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    n = draw(st.none() | st.integers(1, 6))
    return arrays + (n, axis, draw(_NORMS))


@st.composite
def _many_axes(draw, pair):
    """(x[, y], s, axes, norm) for the n-dimensional transforms."""
    shape = draw(shapes(min_dims=1, max_dims=3, min_side=2, max_side=3))
    arrays = tuple(draw(numpy_arrays(st.just(shape))) for _ in range(2 if pair else 1))
    axes = tuple(draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=len(shape), unique=True)))
    s = draw(st.none() | st.tuples(*[st.integers(1, 4) for _ in axes]))
    return arrays + (s, axes, draw(_NORMS))


CASES = [
    Case("fft", lambda x, y, n, axis, norm: _parts(fnp.fft.fft(x + 1j * y, n, axis, norm)),
         lambda x, y, n, axis, norm: _np_parts(np.fft.fft(x + 1j * y, n, axis, norm)),
         _one_axis(True), diff=(0, 1)),
    Case("fft", lambda x, y, n, axis, norm: _parts(fnp.fft.ifft(x + 1j * y, n, axis, norm)),
         lambda x, y, n, axis, norm: _np_parts(np.fft.ifft(x + 1j * y, n, axis, norm)),
         _one_axis(True), diff=(0, 1), name="ifft"),
    Case("fft", lambda x, y, s, axes, norm: _parts(fnp.fft.fftn(x + 1j * y, s, axes, norm)),
         lambda x, y, s, axes, norm: _np_parts(np.fft.fftn(x + 1j * y, s, axes, norm)),
         _many_axes(True), diff=(0, 1), name="fftn"),
    Case("fft", lambda x, n, axis, norm: _parts(fnp.fft.ifft(x, n, axis, norm)),
         lambda x, n, axis, norm: _np_parts(np.fft.ifft(x, n, axis, norm)),
         _one_axis(False), name="ifft_of_real"),
    Case("rfft", lambda x, n, axis, norm: _parts(fnp.fft.rfft(x, n, axis, norm)),
         lambda x, n, axis, norm: _np_parts(np.fft.rfft(x, n, axis, norm)), _one_axis(False)),
    Case("rfft", lambda x, s, axes, norm: _parts(fnp.fft.rfftn(x, s, axes, norm)),
         lambda x, s, axes, norm: _np_parts(np.fft.rfftn(x, s, axes, norm)), _many_axes(False), name="rfftn"),
    Case("irfft", lambda x, y, n, axis, norm: fnp.fft.irfft(x + 1j * y, n, axis, norm),
         lambda x, y, n, axis, norm: np.fft.irfft(x + 1j * y, n, axis, norm), _one_axis(True, min_side=2),
         diff=(0, 1)),
    Case("irfft", lambda x, y, s, axes, norm: fnp.fft.irfftn(x + 1j * y, s, axes, norm),
         lambda x, y, s, axes, norm: np.fft.irfftn(x + 1j * y, s, axes, norm), _many_axes(True),
         diff=(0, 1), name="irfftn"),
]


# ----- values, dtypes and conventions ---------------------------------------------------------


@pytest.mark.parametrize("dtype, spectrum, inverse", [
    ("float32", "complex64", "float32"), ("float64", "complex128", "float64"), ("int64", "complex128", "float64"),
    ("complex64", "complex64", "float32"), ("bool", "complex128", "float64")])
def test_dtypes_follow_numpy(dtype, spectrum, inverse):
    x = np.arange(6).astype(dtype)
    assert fnp.fft.fft(x).dtype == np.fft.fft(x).dtype == spectrum
    assert fnp.fft.irfft(x).dtype == np.fft.irfft(x).dtype == inverse
    if dtype != "complex64":
        assert fnp.fft.rfft(x).dtype == np.fft.rfft(x).dtype == spectrum


def test_two_dimensional_forms_match_numpy():
    x = np.random.default_rng(0).standard_normal((3, 4, 5))
    for name, args in [("fft2", {}), ("ifft2", {"s": (2, 7)}), ("rfft2", {"axes": (0, 2)}),
                       ("irfft2", {"s": (3, 6)}), ("fftn", {"axes": (1,)}), ("ifftn", {}), ("rfftn", {}),
                       ("irfftn", {"axes": (0, 1)})]:
        np.testing.assert_allclose(getattr(fnp.fft, name)(x, **args), getattr(np.fft, name)(x, **args),
                                   rtol=1e-12, atol=1e-12, err_msg=name)


def test_round_trips():
    x = fnp.asarray(np.random.default_rng(1).standard_normal((4, 7)))
    np.testing.assert_allclose(fnp.fft.ifft(fnp.fft.fft(x)), x, atol=1e-13)
    np.testing.assert_allclose(fnp.fft.irfft(fnp.fft.rfft(x), n=7), x, atol=1e-13)
    np.testing.assert_allclose(fnp.fft.irfftn(fnp.fft.rfftn(x), s=x.shape), x, atol=1e-13)


def test_frequencies_and_shifts_match_numpy():
    for n in (1, 4, 5):  # NumPy's values in the default float dtype, or the one asked for (jax.numpy's rule)
        np.testing.assert_array_equal(fnp.fft.fftfreq(n, 0.1), np.fft.fftfreq(n, 0.1).astype(np.float32))
        np.testing.assert_array_equal(fnp.fft.rfftfreq(n, 0.1), np.fft.rfftfreq(n, 0.1).astype(np.float32))
        np.testing.assert_array_equal(fnp.fft.fftfreq(n, 0.1, dtype="float64"), np.fft.fftfreq(n, 0.1))
        assert fnp.fft.rfftfreq(n, dtype=fnp.float16).dtype == np.float16
    x = np.arange(30.).reshape(5, 6)
    for axes in (None, 0, 1, (0, 1), (-1,)):
        np.testing.assert_array_equal(fnp.fft.fftshift(x, axes), np.fft.fftshift(x, axes))
        np.testing.assert_array_equal(fnp.fft.ifftshift(x, axes), np.fft.ifftshift(x, axes))
    assert fnp.fft.fftfreq(4).dtype == np.float32


def test_vjp_is_the_transpose_as_in_jax():
    """JAX's convention: the cotangent goes through the transpose (the DFT matrix itself), not the adjoint."""
    rng = np.random.default_rng(2)
    z = rng.standard_normal(5) + 1j * rng.standard_normal(5)
    ct = rng.standard_normal(5) + 1j * rng.standard_normal(5)
    _, f_vjp = fnx.vjp(fnp.fft.fft, fnp.asarray(z))
    np.testing.assert_allclose(f_vjp(fnp.asarray(ct))[0], np.fft.fft(ct), rtol=1e-12)
    _, f_vjp = fnx.vjp(lambda z: fnp.fft.ifft(z, norm="ortho"), fnp.asarray(z))
    np.testing.assert_allclose(f_vjp(fnp.asarray(ct))[0], np.fft.ifft(ct, norm="ortho"), rtol=1e-12)


def test_power_spectrum_gradient():
    """d/dx sum |rfft(x)|^2 against the closed form from Parseval's identity."""
    x = np.random.default_rng(3).standard_normal(6)
    g = fnx.grad(lambda x: fnp.sum(fnp.abs(fnp.fft.rfft(x)) ** 2))(fnp.asarray(x))
    # sum over the half spectrum = (N * sum x^2 + |X_0|^2 + |X_3|^2) / 2 for N = 6
    signs = (-1.0) ** np.arange(6)
    expected = 6 * x + np.sum(x) + np.sum(signs * x) * signs
    np.testing.assert_allclose(g, expected, rtol=1e-12)


def test_real_weighted_spectrum_gradient_second_order():
    w = fnp.asarray(np.random.default_rng(4).standard_normal(8))
    x = fnp.asarray(np.random.default_rng(5).standard_normal(8))

    def f(x):
        z = fnp.fft.fft(x * x, n=8)
        return fnp.sum(fnp.real(z) * w) + fnp.sum(fnp.imag(z) ** 2)
    check_grads(f, (x,), order=2)
    check_grads(lambda x: fnp.fft.irfft(fnp.fft.rfft(x) * fnp.fft.rfft(x), n=5), (x[:5],), order=2)


def test_float32_gradient_keeps_its_dtype():
    x = fnp.asarray(np.arange(5, dtype=np.float32))
    g = fnx.grad(lambda x: fnp.sum(fnp.abs(fnp.fft.rfft(x)) ** 2))(x)
    assert g.dtype == np.float32
    g = fnx.grad(lambda x: fnp.sum(fnp.fft.irfft(x.astype("complex64"), n=8)))(x)
    assert g.dtype == np.float32


# ----- errors -------------------------------------------------------------------------------------


def test_errors_name_the_operation():
    x = fnp.ones(4)
    with pytest.raises(DTypeError, match="rfft: expected a real array"):
        fnp.fft.rfft(x.astype("complex64"))
    with pytest.raises(ValueError, match="fft: invalid norm 'unitary'"):
        fnp.fft.fft(x, norm="unitary")
    with pytest.raises(ValueError, match="ifft: invalid number of data points"):
        fnp.fft.ifft(x, n=0)
    with pytest.raises(ShapeError, match="fft: the input must have at least one dimension"):
        fnp.fft.fft(fnp.asarray(1.0))
    with pytest.raises(ShapeError, match="fftn: s .* and axes .* must have the same length"):
        fnp.fft.fftn(fnp.ones((2, 2)), s=(2, 2), axes=(0,))
    with pytest.raises(ValueError, match="fft2: repeated axis"):
        fnp.fft.fft2(fnp.ones((2, 2)), axes=(0, 0))
    with pytest.raises(np.exceptions.AxisError, match="fft: axis 3"):
        fnp.fft.fft(x, axis=3)
    with pytest.raises(ValueError, match="irfft: invalid number of data points"):
        fnp.fft.irfft(fnp.ones(1))


@given(numpy_arrays(shapes(min_dims=1, max_dims=2, max_side=5)), st.integers(1, 7))
def test_irfft_of_rfft_recovers_any_length(x, n):
    out = fnp.fft.irfft(fnp.fft.rfft(fnp.asarray(x), n=n), n=n)
    np.testing.assert_allclose(out, np.fft.irfft(np.fft.rfft(x, n=n), n=n), atol=1e-12)


# ----- vmap ------------------------------------------------------------------------------------------


def _spectral_loss(x):
    """A real function of a (3, 5) array touching the three primitives, over several axes."""
    z = fnp.fft.rfftn(x, axes=(0, 1))
    w = fnp.fft.ifft(z, axis=0, norm="ortho")
    return fnp.sum(fnp.abs(w) ** 2) + fnp.sum(fnp.fft.irfft(z, n=6, axis=1) ** 3)


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_vmap_of_grad_is_the_loop_of_grads(axis):
    """The batch axis may sit before, between or after the transformed axes."""
    xs = fnp.moveaxis(fnp.asarray(np.random.default_rng(6).standard_normal((4, 3, 5))), 0, axis)
    check_vmap(fnx.grad(_spectral_loss), (xs,), in_axes=axis)
    check_vmap(lambda x: fnp.fft.fft2(x + 0j, s=(4, 4)), (xs,), in_axes=axis, out_axes=-1)


def test_grad_of_vmap_and_nested_vmap():
    xs = fnp.asarray(np.random.default_rng(7).standard_normal((3, 2, 5)))
    check_grads(lambda xs: fnp.sum(fnx.vmap(_spectral_loss, in_axes=1)(xs) ** 2), (fnp.moveaxis(xs, 0, 1),),
                order=2)
    inner = fnx.vmap(lambda x: fnp.fft.irfft(fnp.fft.rfft(x) * fnp.fft.rfft(x), n=5))
    check_vmap(inner, (xs,))
    check_grads(lambda xs: fnx.vmap(inner, in_axes=2, out_axes=1)(xs), (fnp.moveaxis(xs, 0, 2),), order=1)
