"""Discrete Fourier transforms: ``fnx.numpy.fft``, differentiable.

Three primitives carry every transform, as in JAX: ``fft`` (complex to complex,
forward or inverse, over any set of axes), ``rfft`` (real to the half spectrum
along the last transformed axis) and ``irfft`` (its inverse, back to reals). The
public functions first crop or zero-pad the input to the requested lengths
(``n``, ``s``) with differentiable slicing and concatenation, so the primitives
only ever transform arrays of their final size.

Derivatives follow JAX's convention for complex numbers: a cotangent is
propagated through the *transpose* of a linear map, not its adjoint, and
``real``/``imag`` supply the conjugations. With that convention every real
function of real inputs gets its true gradient. The rules are then short:

* the DFT matrix is symmetric, so the transpose of ``fft`` is ``fft`` with the
  same normalisation (and likewise for the inverse);
* ``rfft`` is "convert to complex, ``fft``, keep the first ``n//2+1`` bins", so
  its transpose is "pad with zeros, ``fft``, take the real part";
* ``irfft`` reads the half spectrum as a Hermitian full one, counting every bin
  except the first (and the Nyquist bin of an even length) twice, so its
  transpose is an inverse ``fft`` of the real cotangent, cut to the half
  spectrum and weighted 1, 2, ..., 2, 1.

Under ``vmap`` the batch axis stays where it is and the transformed axes are
renumbered around it, so a batch of transforms is one call with no transpose.

Dtypes follow NumPy 2: float32 and complex64 inputs stay single precision
(complex64 spectra, float32 inverses); float64, integer and boolean inputs give
complex128 (float64 after ``irfft``). float16 is computed in single precision.
"""
import numpy as np

from ..core import dtypes
from ..core.primitive import ShapedArray, defprim
from ..errors import DTypeError, ShapeError
from ._base import asarray, linear_jvp, normalize_axis, same_shape

__all__ = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2", "rfftn",
           "irfftn", "hfft", "ihfft", "fftfreq", "rfftfreq", "fftshift", "ifftshift"]

_NORMS = ("backward", "ortho", "forward")


def _complex_dtype(dt):
    return dtypes.complex64 if dt in (dtypes.float16, dtypes.float32, dtypes.complex64) else dtypes.complex128


def _real_dtype(dt):
    return dtypes.float32 if dt in (dtypes.float16, dtypes.float32, dtypes.complex64) else dtypes.float64


def _resize(x, axis, n):
    """``x`` cropped or zero-padded at the end of ``axis`` to length ``n`` (differentiable)."""
    d = x.shape[axis]
    if n == d:
        return x
    if n < d:
        from .indexing import slice_axis
        return slice_axis(x, axis, 0, n)
    from .creation import zeros
    from .shape import concatenate
    pad = list(x.shape)
    pad[axis] = n - d
    return concatenate([x, zeros(tuple(pad), x.dtype, device=x.device)], axis=axis)


# ----- primitives ------------------------------------------------------------------------


def _batch_over(prim):
    """The vmap rule of a transform: the batch axis stays where it is and ``axes`` step over it,
    so a batch costs one call and no transpose."""
    def rule(vals, bdims, *, axes, **params):
        (x,), (d,) = vals, bdims
        return prim.bind(x, axes=tuple(a + (a >= d) for a in axes), **params), d
    return rule


def _fft_vjp(ct, x, *, out, axes, inverse, norm):
    return (fft_p.bind(ct, axes=axes, inverse=inverse, norm=norm),)


fft_p = defprim(
    "fft",
    impl=lambda xp, x, *, axes, inverse, norm: (xp.fft.ifftn if inverse else xp.fft.fftn)(x, axes=axes, norm=norm),
    shape=same_shape, vjp=_fft_vjp)
fft_p.jvp, fft_p.batch = linear_jvp(fft_p), _batch_over(fft_p)


def _rfft_shape(x, *, axes, norm):
    shape = list(x.shape)
    shape[axes[-1]] = shape[axes[-1]] // 2 + 1
    return ShapedArray(shape, _complex_dtype(x.dtype))


def _rfft_vjp(ct, x, *, out, axes, norm):
    from .elementwise import real
    full = fft_p.bind(_resize(ct, axes[-1], x.shape[axes[-1]]), axes=axes, inverse=False, norm=norm)
    return (real(full),)


rfft_p = defprim("rfft", impl=lambda xp, x, *, axes, norm: xp.fft.rfftn(x, axes=axes, norm=norm),
                 shape=_rfft_shape, vjp=_rfft_vjp)
rfft_p.jvp, rfft_p.batch = linear_jvp(rfft_p), _batch_over(rfft_p)


def _irfft_shape(x, *, axes, n, norm):
    shape = list(x.shape)
    shape[axes[-1]] = n
    return ShapedArray(shape, _real_dtype(x.dtype))


def _irfft_vjp(ct, x, *, out, axes, n, norm):
    from .creation import asarray as place
    from .elementwise import astype
    from .indexing import slice_axis
    from .shape import reshape
    axis, m = axes[-1], x.shape[axes[-1]]
    spectrum = fft_p.bind(astype(ct, x.dtype), axes=axes, inverse=True, norm=norm)
    weights = np.full(m, 2.0, _real_dtype(x.dtype))
    weights[0] = 1.0
    if n % 2 == 0:
        weights[-1] = 1.0
    weights = reshape(place(weights, device=x.device), tuple(m if i == axis else 1 for i in range(x.ndim)))
    return (slice_axis(spectrum, axis, 0, m) * weights,)


irfft_p = defprim(
    "irfft",
    impl=lambda xp, x, *, axes, n, norm: xp.fft.irfftn(x, s=[x.shape[a] for a in axes[:-1]] + [n], axes=axes,
                                                        norm=norm),
    shape=_irfft_shape, vjp=_irfft_vjp)
irfft_p.jvp, irfft_p.batch = linear_jvp(irfft_p), _batch_over(irfft_p)

# ----- argument handling -----------------------------------------------------------------


def _norm(opname, norm):
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise ValueError(f"{opname}: invalid norm {norm!r}; use None, 'backward', 'ortho' or 'forward'")
    return norm


def _length(opname, n):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{opname}: invalid number of data points ({n!r}); it must be an integer >= 1")
    return int(n)


def _axes_and_lengths(opname, x, s, axes):
    """NumPy's rules for ``s`` and ``axes`` of the n-dimensional transforms."""
    if axes is None:
        axes = tuple(range(x.ndim)) if s is None else tuple(range(x.ndim - len(s), x.ndim))
    elif isinstance(axes, (int, np.integer)):
        axes = (axes,)
    axes = tuple(normalize_axis(opname, a, x.ndim) for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{opname}: repeated axis in axes {axes}")
    if not axes:
        raise ValueError(f"{opname}: at least one axis is needed (got axes=()) for an array of shape {x.shape}")
    if s is None:
        s = tuple(x.shape[a] for a in axes)
    else:
        s = tuple(s)
        if len(s) != len(axes):
            raise ShapeError(f"{opname}: s {s} and axes {axes} must have the same length")
    return axes, tuple(_length(opname, n) for n in s)


def _as_complex(opname, a):
    x = asarray(a)
    if x.dtype.kind not in "biufc":
        raise DTypeError(f"{opname}: expected a numeric array, got {x.dtype}")
    if x.ndim == 0:
        raise ShapeError(f"{opname}: the input must have at least one dimension, got a 0-d array")
    dt = _complex_dtype(x.dtype)
    return x if x.dtype == dt else x.astype(dt)


def _as_real(opname, a):
    x = asarray(a)
    if x.dtype.kind not in "biuf":
        raise DTypeError(f"{opname}: expected a real array, got {x.dtype}; use fft for complex input")
    if x.ndim == 0:
        raise ShapeError(f"{opname}: the input must have at least one dimension, got a 0-d array")
    dt = _real_dtype(x.dtype)
    return x if x.dtype == dt else x.astype(dt)


def _cfftn(opname, a, s, axes, norm, inverse):
    x = _as_complex(opname, a)
    axes, s = _axes_and_lengths(opname, x, s, axes)
    for ax, n in zip(axes, s):
        x = _resize(x, ax, n)
    return fft_p.bind(x, axes=axes, inverse=inverse, norm=_norm(opname, norm))


def _rfftn(opname, a, s, axes, norm):
    x = _as_real(opname, a)
    axes, s = _axes_and_lengths(opname, x, s, axes)
    for ax, n in zip(axes, s):
        x = _resize(x, ax, n)
    return rfft_p.bind(x, axes=axes, norm=_norm(opname, norm))


def _irfftn(opname, a, s, axes, norm):
    x = _as_complex(opname, a)
    if s is None:  # NumPy's default: the last axis holds a half spectrum of 2 * (m - 1) points
        axes, s = _axes_and_lengths(opname, x, None, axes)
        if s[-1] < 2:
            raise ValueError(f"{opname}: invalid number of data points (0) from an input of shape {x.shape}; "
                             f"pass n (or s) explicitly")
        s = s[:-1] + (2 * (s[-1] - 1),)
    else:
        axes, s = _axes_and_lengths(opname, x, s, axes)
    for ax, n in zip(axes[:-1], s[:-1]):
        x = _resize(x, ax, n)
    x = _resize(x, axes[-1], s[-1] // 2 + 1)
    return irfft_p.bind(x, axes=axes, n=s[-1], norm=_norm(opname, norm))


def _one_axis(opname, a, n, axis):
    x = asarray(a)
    if x.ndim == 0:
        raise ShapeError(f"{opname}: the input must have at least one dimension, got a 0-d array")
    axis = normalize_axis(opname, axis, x.ndim)
    return x, (axis,), None if n is None else (_length(opname, n),)

# ----- public functions ---------------------------------------------------------------------


def fft(a, n=None, axis=-1, norm=None):
    """One-dimensional discrete Fourier transform along ``axis``, as ``numpy.fft.fft``.

    ``n`` crops or zero-pads the input first; ``norm`` is ``"backward"`` (default),
    ``"ortho"`` or ``"forward"``. Differentiable (JAX's convention for complex values).

    >>> import fnx.numpy as fnp
    >>> fnp.fft.fft(fnp.array([1., 0., 0., 0.]))
    Array([1.+0.j, 1.+0.j, 1.+0.j, 1.+0.j], dtype=complex64)
    """
    x, axes, s = _one_axis("fft", a, n, axis)
    return _cfftn("fft", x, s, axes, norm, False)


def ifft(a, n=None, axis=-1, norm=None):
    """One-dimensional inverse discrete Fourier transform, as ``numpy.fft.ifft``."""
    x, axes, s = _one_axis("ifft", a, n, axis)
    return _cfftn("ifft", x, s, axes, norm, True)


def fftn(a, s=None, axes=None, norm=None):
    """N-dimensional discrete Fourier transform over ``axes`` (all by default), as ``numpy.fft.fftn``."""
    return _cfftn("fftn", a, s, axes, norm, False)


def ifftn(a, s=None, axes=None, norm=None):
    """N-dimensional inverse discrete Fourier transform, as ``numpy.fft.ifftn``."""
    return _cfftn("ifftn", a, s, axes, norm, True)


def fft2(a, s=None, axes=(-2, -1), norm=None):
    """Two-dimensional discrete Fourier transform over the last two axes, as ``numpy.fft.fft2``."""
    return _cfftn("fft2", a, s, axes, norm, False)


def ifft2(a, s=None, axes=(-2, -1), norm=None):
    """Two-dimensional inverse discrete Fourier transform, as ``numpy.fft.ifft2``."""
    return _cfftn("ifft2", a, s, axes, norm, True)


def rfft(a, n=None, axis=-1, norm=None):
    """Fourier transform of real input: the ``n//2 + 1`` non-negative frequencies, as ``numpy.fft.rfft``.

    >>> import fnx, fnx.numpy as fnp
    >>> fnp.fft.rfft(fnp.array([1., 2., 3., 4.]))
    Array([10.+0.j, -2.+2.j, -2.+0.j], dtype=complex64)
    >>> fnx.grad(lambda x: fnp.sum(fnp.abs(fnp.fft.rfft(x)) ** 2))(fnp.array([1., 2., 3., 4.]))
    Array([12., 20., 20., 28.], dtype=float32)
    """
    x, axes, s = _one_axis("rfft", a, n, axis)
    return _rfftn("rfft", x, s, axes, norm)


def irfft(a, n=None, axis=-1, norm=None):
    """Inverse of :func:`rfft`: ``n`` real points (default ``2 * (len - 1)``), as ``numpy.fft.irfft``.

    The imaginary parts of the zero-frequency bin (and of the Nyquist bin, for
    even ``n``) are ignored, as in NumPy, and receive zero gradient.
    """
    x, axes, s = _one_axis("irfft", a, n, axis)
    return _irfftn("irfft", x, s, axes, norm)


def _swap_direction(opname, norm):
    """The norm of the opposite transform: a Hermitian transform is an inverse real one, scaled the other way."""
    swapped = {None: "forward", "backward": "forward", "ortho": "ortho", "forward": "backward"}
    if norm not in swapped:
        raise ValueError(f"{opname}: norm must be 'backward', 'ortho' or 'forward', got {norm!r}")
    return swapped[norm]


def hfft(a, n=None, axis=-1, norm=None):
    """Fourier transform of a Hermitian-symmetric signal given by its first half, as ``numpy.fft.hfft``:
    ``n`` real points (default ``2 * (len - 1)``); ``irfft`` of ``conj(a)`` with the opposite scaling.
    Differentiable.

    >>> import fnx.numpy as fnp
    >>> fnp.fft.hfft(fnp.array([1., 2., 3.]))
    Array([ 8., -2.,  0., -2.], dtype=float32)
    """
    from .elementwise import conjugate
    x = asarray(a)
    axis_ = normalize_axis("hfft", axis, x.ndim) if x.ndim else axis
    if n is None and x.ndim:
        n = 2 * (x.shape[axis_] - 1)
    return irfft(conjugate(x), n, axis, _swap_direction("hfft", norm))


def ihfft(a, n=None, axis=-1, norm=None):
    """Inverse of :func:`hfft`: the ``n//2 + 1`` non-negative frequencies of a real signal, conjugated and
    scaled by ``1/n``, as ``numpy.fft.ihfft``. Differentiable.

    >>> import fnx.numpy as fnp
    >>> fnp.fft.ihfft(fnp.array([8., -2., 0., -2.]))
    Array([1.-0.j, 2.-0.j, 3.-0.j], dtype=complex64)
    """
    from .elementwise import conjugate
    return conjugate(rfft(a, n, axis, _swap_direction("ihfft", norm)))


def rfftn(a, s=None, axes=None, norm=None):
    """N-dimensional Fourier transform of real input (halved along the last axis), as ``numpy.fft.rfftn``."""
    return _rfftn("rfftn", a, s, axes, norm)


def irfftn(a, s=None, axes=None, norm=None):
    """Inverse of :func:`rfftn`, as ``numpy.fft.irfftn``."""
    return _irfftn("irfftn", a, s, axes, norm)


def rfft2(a, s=None, axes=(-2, -1), norm=None):
    """Two-dimensional :func:`rfftn`, as ``numpy.fft.rfft2``."""
    return _rfftn("rfft2", a, s, axes, norm)


def irfft2(a, s=None, axes=(-2, -1), norm=None):
    """Two-dimensional :func:`irfftn`, as ``numpy.fft.irfft2``."""
    return _irfftn("irfft2", a, s, axes, norm)


def fftfreq(n, d=1.0, *, dtype=None, device=None):
    """Sample frequencies of an ``n``-point :func:`fft` with spacing ``d``, as ``jax.numpy.fft.fftfreq``: NumPy's
    values, in ``dtype`` (default: the default float dtype, as JAX's); a constant.

    >>> import fnx.numpy as fnp
    >>> fnp.fft.fftfreq(4, d=0.5)
    Array([ 0. ,  0.5, -1. , -0.5], dtype=float32)
    """
    return _frequencies(np.fft.fftfreq(_length("fftfreq", n), d), dtype, device)


def rfftfreq(n, d=1.0, *, dtype=None, device=None):
    """Sample frequencies of an ``n``-point :func:`rfft`, as :func:`fftfreq` gives them."""
    return _frequencies(np.fft.rfftfreq(_length("rfftfreq", n), d), dtype, device)


def _frequencies(values, dtype, device):
    from .creation import asarray as place
    return place(values, dtype=dtypes.default_float() if dtype is None else dtype, device=device)


def _roll_half(opname, x, axes, inverse):
    from .shape import concatenate
    from .indexing import slice_axis
    x = asarray(x)
    axes = tuple(range(x.ndim)) if axes is None else (axes,) if isinstance(axes, (int, np.integer)) else axes
    for ax in axes:
        ax = normalize_axis(opname, ax, x.ndim)
        d = x.shape[ax]
        k = (d + 1) // 2 if inverse else d // 2  # the first d - k entries move to the end
        if d > 1 and k % d:
            x = concatenate([slice_axis(x, ax, d - k, d), slice_axis(x, ax, 0, d - k)], axis=ax)
    return x


def fftshift(x, axes=None):
    """Moves the zero frequency to the centre of ``axes`` (all by default), as ``numpy.fft.fftshift``.

    >>> import fnx.numpy as fnp
    >>> fnp.fft.fftshift(fnp.fft.fftfreq(5))
    Array([-0.4, -0.2,  0. ,  0.2,  0.4], dtype=float32)
    """
    return _roll_half("fftshift", x, axes, False)


def ifftshift(x, axes=None):
    """Inverse of :func:`fftshift`, as ``numpy.fft.ifftshift``."""
    return _roll_half("ifftshift", x, axes, True)
