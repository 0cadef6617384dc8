"""Parametrizations built on :mod:`fnx.nn.utils.parametrize` (``torch.nn.utils.parametrizations``).

``weight_norm`` and ``spectral_norm`` are PyTorch's current forms of the two
reparametrisations that ``fnx.nn.utils.weight_norm``/``spectral_norm`` implement
with forward pre-hooks (PyTorch deprecates those); ``orthogonal`` keeps a weight
orthogonal (or unitary) through the matrix exponential, the Cayley map or
Householder reflectors. The parameters' names, shapes and ``state_dict`` keys
are PyTorch's, and so are the weights they start from, except where PyTorch draws
at random too (spectral_norm's singular-vector estimates, orthogonal's completion
of a non-square weight), which fnx draws from its own generator.
"""
import numpy as np

from ... import linalg
from ... import numpy as fnp
from ...core.array import Array
from ...transforms.autodiff import no_grad
from ..module import Module
from . import _norm_except_dim, parametrize

__all__ = ["weight_norm", "spectral_norm", "orthogonal"]


def _tensor_named(module, name):
    weight = getattr(module, name, None)
    if not isinstance(weight, Array):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    return weight


def _mT(x):
    return fnp.swapaxes(x, -1, -2)


# ----- weight_norm ----------------------------------------------------------------------------------------


class _WeightNorm(Module):
    """``w = g v / ||v||``, the norm over every axis but ``dim`` (all of them for ``dim=None``)."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_v * (weight_g / _norm_except_dim(weight_v, self.dim))

    def right_inverse(self, weight):
        return _norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    r"""Weight normalisation as a parametrization (``torch.nn.utils.parametrizations.weight_norm``):
    :math:`w = g \, v / \lVert v \rVert`, with ``parametrizations.<name>.original0`` the magnitude ``g``
    (the norms over every axis but ``dim``, kept as size-1 axes; a scalar for ``dim=None``) and
    ``original1`` the direction ``v``, initially the weight. Salimans and Kingma, NeurIPS 2016. A checkpoint
    of the deprecated ``fnx.nn.utils.weight_norm`` (keys ``<name>_g``, ``<name>_v``) loads into it.

    Returns:
      ``module``, its class now ``Parametrized<Class>``.

    >>> import fnx
    >>> m = fnx.nn.utils.parametrizations.weight_norm(fnx.nn.Linear(20, 40))
    >>> m.parametrizations.weight.original0.shape, m.parametrizations.weight.original1.shape
    ((40, 1), (40, 20))
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def load_old_names(state_dict, prefix, *_):
        # A checkpoint of the deprecated hook-based weight_norm names g and v ``<name>_g``/``<name>_v``.
        g, v = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g in state_dict and v in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v)
    module._register_load_state_dict_pre_hook(load_old_names)
    return module


# ----- spectral_norm --------------------------------------------------------------------------------------


class _SpectralNorm(Module):
    """``W / sigma(W)``, ``sigma`` the largest singular value of ``W`` as a matrix with ``dim`` first, estimated by
    power iteration on the buffers ``_u`` and ``_v`` (one or more steps per forward in training mode)."""

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got {dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:  # a vector is normalised exactly: nothing to estimate
            from ... import random
            from .. import functional as F
            self.n_power_iterations = n_power_iterations
            with no_grad():
                mat = self._reshape_weight_to_matrix(parametrize._value(weight))
                h, w = mat.shape
                ku, kv = random.split(random.next_key(), 2)
                self.register_buffer("_u", F.normalize(random.normal(ku, (h,), mat.dtype), dim=0, eps=eps))
                self.register_buffer("_v", F.normalize(random.normal(kv, (w,), mat.dtype), dim=0, eps=eps))
                self._power_method(mat, 15)  # start from reasonable singular vectors, as PyTorch does

    def _reshape_weight_to_matrix(self, weight):
        if self.dim != 0:
            weight = fnp.moveaxis(weight, self.dim, 0)
        return fnp.reshape(weight, (weight.shape[0], -1))

    def _power_method(self, mat, n_power_iterations):
        from .. import functional as F
        with no_grad():
            fixed = fnp.stop_gradient(mat)  # the estimates are not differentiated, under any transform
            for _ in range(n_power_iterations):
                self._u = F.normalize(fnp.matmul(fixed, self._v), dim=0, eps=self.eps)
                self._v = F.normalize(fnp.matmul(fnp.conj(fixed.T), self._u), dim=0, eps=self.eps)

    def forward(self, weight):
        from .. import functional as F
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(mat, self.n_power_iterations)
        sigma = fnp.vdot(self._u, fnp.matmul(mat, self._v))
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    r"""Spectral normalisation as a parametrization (``torch.nn.utils.parametrizations.spectral_norm``):
    ``module.<name>`` reads :math:`W / \sigma(W)`, with :math:`\sigma` estimated by power iteration on the
    buffers ``parametrizations.<name>.0._u`` and ``._v`` (15 steps at registration, then
    ``n_power_iterations`` per forward in training mode). ``dim`` is the output axis: 1 for transposed
    convolutions, 0 otherwise. Miyato et al., ICLR 2018.

    Raises:
      ValueError: ``module`` has no parameter or buffer ``name``, or ``n_power_iterations`` is not positive.
      IndexError: ``dim`` is out of range.

    >>> import fnx
    >>> m = fnx.nn.utils.parametrizations.spectral_norm(fnx.nn.Linear(20, 40))
    >>> list(m.state_dict())
    ['bias', 'parametrizations.weight.original', 'parametrizations.weight.0._u', 'parametrizations.weight.0._v']
    """
    from ..layers.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
    weight = _tensor_named(module, name)
    if dim is None:
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


# ----- orthogonal -----------------------------------------------------------------------------------------


def _geqrf(A):
    """LAPACK's ``geqrf`` (``torch.geqrf``): the Householder vectors below R's diagonal, and their ``tau``."""
    xp = A.device.xp
    h, tau = xp.linalg.qr(A._value, mode="raw")  # h comes back transposed, as Fortran sees it
    return (fnp.asarray(xp.ascontiguousarray(xp.swapaxes(h, -1, -2)), device=A.device),
            fnp.asarray(tau, device=A.device))


def _is_orthogonal(Q):
    n, k = Q.shape[-2:]
    eye = fnp.eye(k, dtype=Q.dtype, device=Q.device)
    return bool(fnp.allclose(fnp.conj(_mT(Q)) @ Q, eye, atol=10.0 * n * np.finfo(Q.dtype).eps))


def _make_orthogonal(A):
    """The Q of ``A = QR`` (``A`` tall) with R's diagonal made real and non-negative."""
    X, tau = _geqrf(A)
    Q = linalg.householder_product(X, tau)
    return Q * fnp.sign(fnp.diagonal(X, axis1=-2, axis2=-1))[..., None, :]


_MAPS = ("matrix_exp", "cayley", "householder")


class _Orthogonal(Module):
    """A tall (or transposed wide) matrix mapped onto the orthogonal (unitary) ones; with ``use_trivialization``
    the map is applied around the buffer ``base``, an orthogonal matrix that ``right_inverse`` sets."""

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        if fnp.iscomplexobj(weight) and orthogonal_map == "householder":
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        n, k = X.shape[-2:]
        transposed = n < k
        if transposed:
            X, n, k = _mT(X), k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            X = fnp.tril(X)
            if n != k:  # embedded in a square matrix
                X = fnp.concatenate([X, fnp.zeros(X.shape[:-2] + (n, n - k), X.dtype, device=X.device)], axis=-1)
            A = X - fnp.conj(_mT(X))  # skew-symmetric (skew-Hermitian)
            if self.orthogonal_map == "matrix_exp":
                Q = linalg.matrix_exp(A)
            else:  # the Cayley retraction (I + A/2)(I - A/2)^-1
                eye = fnp.eye(n, dtype=A.dtype, device=A.device)
                Q = linalg.solve(eye - 0.5 * A, eye + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = fnp.tril(X, -1)
            tau = 2.0 / (1.0 + fnp.sum(A * A, axis=-2))
            Q = linalg.householder_product(A, tau)
            # X's diagonal holds signs (+-1): read, never differentiated or trained (PyTorch casts it to int)
            Q = Q * fnp.trunc(fnp.stop_gradient(fnp.diagonal(X, axis1=-2, axis2=-1)))[..., None, :]
        base = self._buffers.get("base")
        if base is not None:
            Q = base @ Q
        return _mT(Q) if transposed else Q

    def right_inverse(self, Q):
        with no_grad():
            Q = parametrize._value(fnp.asarray(Q))
            if Q.shape != self.shape:
                raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. "
                                 f"Got a tensor of shape {Q.shape}.")
            Q_init = Q
            n, k = Q.shape[-2:]
            transpose = n < k
            if transpose:
                Q, n, k = _mT(Q), k, n
            if "base" not in self._buffers:
                if self.orthogonal_map in ("matrix_exp", "cayley"):
                    raise NotImplementedError("It is not possible to assign to the matrix exponential or the "
                                              "Cayley parametrizations when use_trivialization=False.")
                # Householder: the reflectors of Q's QR, with R's diagonal signs on the diagonal (a reflection
                # LAPACK skipped, tau == 0, flips it) so that forward gives Q back
                A, tau = _geqrf(Q)
                signs = fnp.sign(fnp.diagonal(A, axis1=-2, axis2=-1))
                signs = fnp.where(tau == 0.0, -signs, signs)
                on_diagonal = fnp.eye(n, k, dtype=bool, device=A.device)
                A = fnp.where(on_diagonal, signs[..., None, :], A)
                return _mT(A) if transpose else A
            if n == k:
                Q = Q if _is_orthogonal(Q) else _make_orthogonal(Q)
            else:  # completed into a full n x n orthogonal matrix
                from ... import random
                extra = random.normal(random.next_key(), Q.shape[:-2] + (n, n - k), Q.dtype).to(Q.device)
                Q = _make_orthogonal(fnp.concatenate([Q, extra], axis=-1))
            self.base = Q
            # -I: so that householder(zeros) is the identity, with the diagonal carrying the signs
            return fnp.broadcast_to(-fnp.eye(*Q_init.shape[-2:], dtype=Q_init.dtype, device=Q_init.device),
                                    Q_init.shape)


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    r"""Keeps ``module.<name>`` orthogonal (unitary for complex weights)
    (``torch.nn.utils.parametrizations.orthogonal``): :math:`Q^H Q = I` for a tall matrix, :math:`Q Q^H = I`
    for a wide one, batched over leading axes.

    Args:
      orthogonal_map: ``"matrix_exp"`` or ``"cayley"`` (of a skew-symmetric matrix) or ``"householder"``
        (a product of reflectors). Default: ``"matrix_exp"`` for square or complex matrices, else
        ``"householder"``.
      use_trivialization: apply the map around the buffer ``base``, an orthogonal matrix that assigning to
        ``module.<name>`` sets (Lezcano-Casado, "Trivializations for Gradient-Based Optimization on
        Manifolds", NeurIPS 2019). At registration the weight is made orthogonal by QR.

    Raises:
      ValueError: no such parameter or buffer, fewer than 2 dimensions, an unknown map, or Householder
        reflectors for a complex weight.

    >>> import fnx, fnx.numpy as fnp
    >>> m = fnx.nn.utils.parametrizations.orthogonal(fnx.nn.Linear(3, 5))
    >>> Q = m.weight
    >>> bool(fnp.allclose(Q.T @ Q, fnp.eye(3), atol=1e-5))
    True
    """
    weight = _tensor_named(module, name)
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square or fnp.iscomplexobj(weight) else "householder"
    if orthogonal_map not in _MAPS:
        raise ValueError(f'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                         f"Got: {orthogonal_map}")
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module
