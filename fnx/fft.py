"""``torch.fft``: PyTorch's discrete Fourier transforms, names and arguments, over ``fnx.numpy.fft``.

The transforms themselves are ``fnx.numpy.fft``'s three primitives, so every
function here is differentiable (JAX's convention for complex values), batches
under ``vmap`` and compiles under ``jit``. What changes is PyTorch's surface:

- the input is ``input``, the axes ``dim`` (an int for the one-dimensional
  transforms, a tuple for the others), the lengths ``n`` or ``s``; ``norm`` is
  ``"backward"`` (the default), ``"ortho"`` or ``"forward"``, as in NumPy;
- integer and boolean input is transformed in the default float dtype (float32,
  so complex64 spectra), as PyTorch does, where NumPy would use float64;
- :func:`fftfreq` and :func:`rfftfreq` return the default float dtype (``dtype=``
  to choose), and :func:`fftshift`/:func:`ifftshift` take ``dim``;
- the Hermitian transforms come in one, two and n dimensions (``hfft2``,
  ``ihfftn``...): ``hfftn`` is ``irfftn`` of the conjugate, with the scaling of the
  opposite direction, and ``ihfftn`` the conjugate of ``rfftn`` likewise.
"""
import numpy as np

from . import numpy as fnp
from .core import dtypes
from .numpy import fft as _nfft

__all__ = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2", "rfftn", "irfftn",
           "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn", "fftfreq", "rfftfreq", "fftshift", "ifftshift"]


def _input(x):
    """``x`` as an fnx array, integers and booleans in the default float dtype (PyTorch's promotion)."""
    x = fnp.asarray(x)
    return x.astype(dtypes.default_float()) if x.dtype.kind in "biu" else x


def _dims(dim):
    return tuple(dim) if isinstance(dim, (list, tuple)) else dim


def _sizes(s):
    """``s`` as a tuple of sizes: PyTorch takes one int for a single axis."""
    return (s,) if isinstance(s, int) and not isinstance(s, bool) else _dims(s)


def _swap(opname, norm):
    """The ``norm`` of the opposite direction (a Hermitian transform is a real one, scaled the other way)."""
    swapped = {None: "forward", "backward": "forward", "ortho": "ortho", "forward": "backward"}
    if norm not in swapped:
        raise ValueError(f"{opname}: norm must be 'backward', 'ortho' or 'forward', got {norm!r}")
    return swapped[norm]


# ----- one dimension ---------------------------------------------------------------------------------


def fft(input, n=None, dim=-1, norm=None):
    """The discrete Fourier transform along ``dim`` (``torch.fft.fft``); ``n`` crops or zero-pads first.

    >>> import fnx
    >>> fnx.fft.fft(fnx.tensor([1.0, 0.0, 0.0, 0.0]))
    Array([1.+0.j, 1.+0.j, 1.+0.j, 1.+0.j], dtype=complex64)
    """
    return _nfft.fft(_input(input), n, dim, norm)


def ifft(input, n=None, dim=-1, norm=None):
    """The inverse discrete Fourier transform along ``dim`` (``torch.fft.ifft``)."""
    return _nfft.ifft(_input(input), n, dim, norm)


def rfft(input, n=None, dim=-1, norm=None):
    """The ``n // 2 + 1`` non-negative frequencies of a real signal (``torch.fft.rfft``).

    >>> import fnx
    >>> fnx.fft.rfft(fnx.tensor([1, 2, 3, 4]))
    Array([10.+0.j, -2.+2.j, -2.+0.j], dtype=complex64)
    """
    return _nfft.rfft(_input(input), n, dim, norm)


def irfft(input, n=None, dim=-1, norm=None):
    """The inverse of :func:`rfft`: ``n`` real points, ``2 * (len - 1)`` by default (``torch.fft.irfft``)."""
    return _nfft.irfft(_input(input), n, dim, norm)


def hfft(input, n=None, dim=-1, norm=None):
    """The (real) transform of a Hermitian-symmetric signal given by its first half (``torch.fft.hfft``)."""
    return _nfft.hfft(_input(input), n, dim, norm)


def ihfft(input, n=None, dim=-1, norm=None):
    """The inverse of :func:`hfft`: the half spectrum of a real signal, conjugated (``torch.fft.ihfft``)."""
    return _nfft.ihfft(_input(input), n, dim, norm)


# ----- two and n dimensions --------------------------------------------------------------------------


def fftn(input, s=None, dim=None, norm=None):
    """The n-dimensional transform over ``dim`` (all axes, or the last ``len(s)``, by default)
    (``torch.fft.fftn``)."""
    return _nfft.fftn(_input(input), _sizes(s), _dims(dim), norm)


def ifftn(input, s=None, dim=None, norm=None):
    """The inverse of :func:`fftn` (``torch.fft.ifftn``)."""
    return _nfft.ifftn(_input(input), _sizes(s), _dims(dim), norm)


def fft2(input, s=None, dim=(-2, -1), norm=None):
    """The two-dimensional transform over ``dim`` (``torch.fft.fft2``)."""
    return _nfft.fft2(_input(input), _sizes(s), _dims(dim), norm)


def ifft2(input, s=None, dim=(-2, -1), norm=None):
    """The inverse of :func:`fft2` (``torch.fft.ifft2``)."""
    return _nfft.ifft2(_input(input), _sizes(s), _dims(dim), norm)


def rfftn(input, s=None, dim=None, norm=None):
    """The n-dimensional transform of a real signal, halved along the last of ``dim`` (``torch.fft.rfftn``)."""
    return _nfft.rfftn(_input(input), _sizes(s), _dims(dim), norm)


def irfftn(input, s=None, dim=None, norm=None):
    """The inverse of :func:`rfftn` (``torch.fft.irfftn``)."""
    return _nfft.irfftn(_input(input), _sizes(s), _dims(dim), norm)


def rfft2(input, s=None, dim=(-2, -1), norm=None):
    """The two-dimensional :func:`rfftn` (``torch.fft.rfft2``)."""
    return _nfft.rfft2(_input(input), _sizes(s), _dims(dim), norm)


def irfft2(input, s=None, dim=(-2, -1), norm=None):
    """The two-dimensional :func:`irfftn` (``torch.fft.irfft2``)."""
    return _nfft.irfft2(_input(input), _sizes(s), _dims(dim), norm)


def hfftn(input, s=None, dim=None, norm=None):
    """The n-dimensional transform of a Hermitian-symmetric signal given by its half along the last of ``dim``;
    real (``torch.fft.hfftn``).

    >>> import fnx
    >>> fnx.fft.hfftn(fnx.tensor([[1.0, 2.0], [3.0, 4.0]]))
    Array([[10., -2.],
           [-4.,  0.]], dtype=float32)
    """
    x = _input(input)
    return _nfft.irfftn(fnp.conj(x), _sizes(s), _dims(dim), _swap("hfftn", norm))


def ihfftn(input, s=None, dim=None, norm=None):
    """The inverse of :func:`hfftn`: the conjugated half spectrum of a real signal (``torch.fft.ihfftn``)."""
    return fnp.conj(_nfft.rfftn(_input(input), _sizes(s), _dims(dim), _swap("ihfftn", norm)))


def hfft2(input, s=None, dim=(-2, -1), norm=None):
    """The two-dimensional :func:`hfftn` (``torch.fft.hfft2``)."""
    return hfftn(input, s, dim, norm)


def ihfft2(input, s=None, dim=(-2, -1), norm=None):
    """The two-dimensional :func:`ihfftn` (``torch.fft.ihfft2``)."""
    return ihfftn(input, s, dim, norm)


# ----- frequencies and shifts ------------------------------------------------------------------------


def fftfreq(n, d=1.0, *, dtype=None, device=None, requires_grad=False):
    """The sample frequencies of an ``n``-point :func:`fft` with spacing ``d``, in the default float dtype
    unless ``dtype`` is given (``torch.fft.fftfreq``); a constant.

    >>> import fnx
    >>> fnx.fft.fftfreq(4)
    Array([ 0.  ,  0.25, -0.5 , -0.25], dtype=float32)
    """
    del requires_grad  # a constant: nothing flows back into it
    dt = dtypes.default_float() if dtype is None else dtypes.canonical(dtype)
    if n == 0:  # (numpy divides by n; PyTorch gives no frequencies)
        return fnp.zeros((0,), dt, device=device)
    return fnp.asarray(np.fft.fftfreq(n, d).astype(dt), device=device)


def rfftfreq(n, d=1.0, *, dtype=None, device=None, requires_grad=False):
    """The sample frequencies of an ``n``-point :func:`rfft` (``torch.fft.rfftfreq``); a constant."""
    del requires_grad
    dt = dtypes.default_float() if dtype is None else dtypes.canonical(dtype)
    if n == 0:  # (numpy divides by n; PyTorch's one frequency is 0 / 0)
        return fnp.full((1,), np.nan, dt, device=device)
    return fnp.asarray(np.fft.rfftfreq(n, d).astype(dt), device=device)


def fftshift(input, dim=None):
    """Moves the zero frequency to the middle of ``dim`` (all axes by default) (``torch.fft.fftshift``).

    >>> import fnx
    >>> fnx.fft.fftshift(fnx.fft.fftfreq(5))
    Array([-0.4, -0.2,  0. ,  0.2,  0.4], dtype=float32)
    """
    return _nfft.fftshift(input, _dims(dim))


def ifftshift(input, dim=None):
    """The inverse of :func:`fftshift` (``torch.fft.ifftshift``)."""
    return _nfft.ifftshift(input, _dims(dim))
