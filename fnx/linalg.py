"""``torch.linalg``: PyTorch's linear algebra names, arguments and results over ``fnx.numpy.linalg``.

The maths is ``fnx.numpy.linalg``'s (so everything here is differentiable where the
maths is, batched over leading axes, and works under every transform); what
changes is PyTorch's surface:

- axes are ``dim=`` and ``keepdim=``; the matrix arguments are ``A`` and ``B``;
- :func:`solve` takes ``B`` as a batch of vectors when ``B.ndim == 1`` or
  ``B.shape == A.shape[:-1]``, and solves ``X A = B`` with ``left=False``;
- :func:`svd` returns ``(U, S, Vh)`` with ``full_matrices=True`` by default, :func:`qr`
  ``(Q, R)`` (``mode="r"`` gives an empty Q), :func:`slogdet` ``(sign, logabsdet)``,
  :func:`eigh` ``(eigenvalues, eigenvectors)`` and :func:`lstsq`
  ``(solution, residuals, rank, singular_values)``, as PyTorch's named tuples;
- :func:`vander` has increasing powers (NumPy's ``vander`` decreasing);
- :func:`matrix_rank` and :func:`pinv` take ``atol``/``rtol``;
- the 2-norm of a zero vector has gradient 0 (a subgradient, as PyTorch gives),
  not NaN.
"""
import builtins
import functools
from collections import namedtuple

import numpy as np

from . import numpy as fnp
from .core.backend import data_device
from .errors import FactorizationError, ShapeError
from .numpy.linalg import LinAlgError, cholesky_info_p, solve_info_p, triangle_read

__all__ = ["norm", "vector_norm", "matrix_norm", "solve", "solve_triangular", "inv", "det", "slogdet", "eig",
           "eigvals", "eigh", "eigvalsh", "svd", "svdvals", "qr", "cholesky", "lstsq", "matrix_rank", "pinv",
           "cross", "vander", "matrix_power", "multi_dot", "diagonal", "vecdot", "matmul", "cond", "tensorinv",
           "tensorsolve", "matrix_exp", "householder_product", "LinAlgError", "cholesky_ex", "inv_ex", "solve_ex"]

SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])
QRResult = namedtuple("QRResult", ["Q", "R"])
SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
EigResult = namedtuple("EigResult", ["eigenvalues", "eigenvectors"])
LstsqResult = namedtuple("LstsqResult", ["solution", "residuals", "rank", "singular_values"])
CholeskyExResult = namedtuple("CholeskyExResult", ["L", "info"])
InvExResult = namedtuple("InvExResult", ["inverse", "info"])
SolveExResult = namedtuple("SolveExResult", ["result", "info"])


def _cast(A, dtype):
    A = fnp.asarray(A)
    return A if dtype is None else A.astype(dtype)


def _dims(dim):
    return tuple(dim) if isinstance(dim, (tuple, list)) else dim


def _matrix(fname, A):
    A = fnp.asarray(A)
    if A.ndim < 2:
        raise ShapeError(f"linalg.{fname}: expected a matrix or a batch of matrices, got shape {A.shape}")
    return A


def accumulates_half_in_float32(norm):
    """``norm`` of a float16 ``x`` computed in float32 and given back in float16, as PyTorch's norms accumulate
    (a float16 square overflows from 256 on: the norm of ``[300.]`` would be inf)."""
    @functools.wraps(norm)
    def wrapped(x, *args, **kwargs):
        if x.dtype == np.float16:
            return fnp.astype(norm(fnp.astype(x, np.float32), *args, **kwargs), np.float16)
        return norm(x, *args, **kwargs)
    return wrapped


@accumulates_half_in_float32
def _safe_two_norm(x, dim, keepdim):
    """sqrt(sum |x|²), whose gradient at a zero vector is 0 rather than NaN."""
    sq = fnp.sum(fnp.real(x * fnp.conj(x)) if x.dtype.kind == "c" else x * x, axis=dim, keepdims=keepdim)
    nonzero = sq > 0
    return fnp.where(nonzero, fnp.sqrt(fnp.where(nonzero, sq, 1)), 0)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The ``ord``-norm of ``x``'s vectors along ``dim`` (an int or a tuple), or of all its elements
    (``torch.linalg.vector_norm``). ``ord`` is a number, ``inf`` or ``-inf``; 0 counts the nonzeros.

    >>> import fnx
    >>> fnx.linalg.vector_norm(fnx.tensor([[3.0, 4.0], [0.0, 0.0]]), dim=1)
    Array([5., 0.], dtype=float32)
    """
    x = _cast(x, dtype)
    dim = _dims(dim)
    if ord == 2 and x.dtype.kind in "fc":
        if dim is None:
            dim = tuple(range(x.ndim))
        return _safe_two_norm(x, dim, keepdim)
    if dim is None:
        out = fnp.linalg.vector_norm(x, axis=None, ord=ord)
        return fnp.reshape(out, (1,) * x.ndim) if keepdim else out
    return fnp.linalg.vector_norm(x, axis=dim, keepdims=keepdim, ord=ord)


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The ``ord``-norm of the matrices over the two axes ``dim`` (``torch.linalg.matrix_norm``):
    ``"fro"``, ``"nuc"``, ``inf``, ``-inf``, 1, -1, 2 or -2.

    >>> import fnx
    >>> fnx.linalg.matrix_norm(fnx.tensor([[1.0, -2.0], [3.0, 4.0]]), ord=1)
    Array(6., dtype=float32)
    """
    A = _cast(A, dtype)
    dim = tuple(dim)
    if len(dim) != 2:
        raise ShapeError(f"linalg.matrix_norm: dim must name two axes, got {dim}")
    d0, d1 = (d % builtins.max(A.ndim, 1) for d in dim)
    if A.ndim < 2 or d0 == d1:
        raise ShapeError(f"linalg.matrix_norm: dim {dim} does not name two distinct axes of shape {A.shape}")
    if ord == "fro":
        return _safe_two_norm(A, (d0, d1), keepdim)
    out = fnp.linalg.matrix_norm(fnp.moveaxis(A, (d0, d1), (-2, -1)), ord=ord)
    if keepdim:
        out = fnp.expand_dims(out, tuple(sorted((d0, d1))))
    return out


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """``torch.linalg.norm``: a vector norm when ``dim`` is an int (or ``A`` is 1-d), a matrix norm when
    ``dim`` names two axes (or ``A`` is 2-d and ``ord`` is given); with neither ``dim`` nor ``ord``, the
    2-norm of all elements.

    >>> import fnx
    >>> fnx.linalg.norm(fnx.tensor([[1.0, 2.0], [2.0, 4.0]]))
    Array(5., dtype=float32)
    """
    A = _cast(A, dtype)
    if isinstance(dim, (tuple, list)) and len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim)
    if dim is not None:
        return vector_norm(A, 2 if ord is None else ord, dim, keepdim)
    if ord is None:
        return vector_norm(A, 2, None, keepdim)
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim)
    raise ShapeError(f"linalg.norm: with ord={ord!r} and no dim, A must be 1-d or 2-d, got shape {A.shape}")


def _vector_rhs(A, B):
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and B.shape == A.shape[:-1])


def solve(A, B, *, left=True):
    """The solution ``X`` of ``A X = B`` (or ``X A = B`` with ``left=False``) for square invertible ``A``
    (``torch.linalg.solve``). ``B`` is a batch of vectors when it is 1-d or of shape ``A.shape[:-1]``.

    >>> import fnx
    >>> fnx.linalg.solve(fnx.tensor([[2.0, 0.0], [0.0, 4.0]]), fnx.tensor([2.0, 2.0]))
    Array([1. , 0.5], dtype=float32)
    """
    A, B, transpose, back = _system("solve", A, B, left)
    try:
        return back(fnp.linalg.solve(fnp.swapaxes(A, -1, -2) if transpose else A, B))
    except LinAlgError as error:
        _explain("solve", A, solve_info_p.bind(fnp.stop_gradient(A), fnp.stop_gradient(B), transpose=transpose)[0],
                 _singular, error)


def _system(fname, A, B, left):
    """``(A', B', transpose, back)``: the system ``A' X' = B'`` (``A'ᵀ X' = B'`` with ``transpose``) of stacked
    matrices, batch dimensions broadcast, that ``solve(A, B, left=left)`` stands for, and ``back(X')``, its
    solution in ``B``'s layout. ``A'`` is ``A``: it is ``A`` that is factored, as in PyTorch."""
    A, B = _matrix(fname, A), fnp.asarray(B)
    if A.shape[-1] != A.shape[-2]:
        raise ShapeError(f"linalg.{fname}: A must be square, got shape {A.shape}")
    back, transpose = (lambda X: X), False
    if _vector_rhs(A, B):
        if not left:
            raise ShapeError(f"linalg.{fname}: left=False needs B to be a matrix, got shape {B.shape}")
        if B.shape[-1] != A.shape[-1]:
            raise ShapeError(f"linalg.{fname}: A of shape {A.shape} and vector B of shape {B.shape} do not match")
        B, back = B[..., None], (lambda X: X[..., 0])
    elif not left:  # X A = B is Aᵀ Xᵀ = Bᵀ
        B, transpose, back = fnp.swapaxes(B, -1, -2), True, (lambda X: fnp.swapaxes(X, -1, -2))
    if B.ndim < 2 or B.shape[-2] != A.shape[-1]:
        raise ShapeError(f"linalg.{fname}: A of shape {A.shape} and B of shape {B.shape} do not match")
    batch = builtins.tuple(np.broadcast_shapes(A.shape[:-2], B.shape[:-2]))
    return fnp.broadcast_to(A, batch + A.shape[-2:]), fnp.broadcast_to(B, batch + B.shape[-2:]), transpose, back


def _failed(info):
    """``info != 0`` shaped to select whole matrices."""
    return (info != 0)[..., None, None]


def _where_solvable(info, A):
    """``A`` with each matrix that failed replaced by the identity (which every factorization takes)."""
    return fnp.where(_failed(info), fnp.eye(A.shape[-1], dtype=A.dtype), A)


def _raise_on_failure(fname, A, info, reason):
    """PyTorch's error for the first matrix whose ``info`` is not 0; ``reason(k)`` says why, from its info ``k``."""
    info = np.asarray(info)
    failing = np.flatnonzero(info.reshape(-1))
    if failing.size:
        first = failing[0]
        where = f"(Batch element {first}): " if A.ndim > 2 else ""
        raise FactorizationError(f"linalg.{fname}: {where}{reason(int(info.reshape(-1)[first]))}")


def _explain(fname, A, info, reason, error):
    """Raises PyTorch's error for a factorization NumPy refused (``error``, raised again if ``info`` finds
    nothing to say)."""
    _raise_on_failure(fname, A, info, reason)
    raise error


def _not_positive_definite(k):
    return (f"The factorization could not be completed because the input is not positive-definite (the leading "
            f"minor of order {k} is not positive-definite).")


def _singular_pivot(k):
    return (f"The diagonal element {k} is zero, the inversion could not be completed because the input matrix is "
            f"singular.")


def _singular(k):
    return "The solver failed because the input matrix is singular."


def cholesky_ex(A, *, upper=False, check_errors=False):
    """``(L, info)``: :func:`cholesky` without raising (``torch.linalg.cholesky_ex``). ``info`` (int32, one per
    matrix) is 0 where the factorization succeeded, else the order of the leading minor that is not
    positive-definite; ``L`` then holds LAPACK's partial factor, whose pivot at that order is left unrooted.
    With ``check_errors`` a failure raises as :func:`cholesky` does.

    >>> import fnx
    >>> fnx.linalg.cholesky_ex(fnx.tensor([[1.0, 2.0], [2.0, 1.0]]))
    CholeskyExResult(L=Array([[ 1.,  0.],
           [ 2., -3.]], dtype=float32), info=Array(2, dtype=int32))
    """
    A = _matrix("cholesky_ex", A)
    if A.shape[-1] != A.shape[-2]:
        raise ShapeError(f"linalg.cholesky_ex: A must be square, got shape {A.shape}")
    read = triangle_read(A, "U" if upper else "L")
    info, partial = cholesky_info_p.bind(fnp.stop_gradient(read))
    if check_errors:
        _raise_on_failure("cholesky_ex", A, info, _not_positive_definite)
    L = fnp.where(_failed(info), partial, fnp.linalg.cholesky(_where_solvable(info, read)))
    return CholeskyExResult(fnp.conj(fnp.swapaxes(L, -1, -2)) if upper else L, info)


def inv_ex(A, *, check_errors=False):
    """``(inverse, info)``: :func:`inv` without raising (``torch.linalg.inv_ex``). ``info`` (int32, one per
    matrix) is 0 where ``A`` is invertible, else the first zero pivot of its LU factorization, counted from 1;
    that matrix's inverse then holds the infinities and NaNs of dividing by it, as LAPACK's. With
    ``check_errors`` a singular matrix raises as :func:`inv` does.

    >>> import fnx
    >>> fnx.linalg.inv_ex(fnx.tensor([[2.0, 0.0], [0.0, 4.0]]))
    InvExResult(inverse=Array([[0.5 , 0.  ],
           [0.  , 0.25]], dtype=float32), info=Array(0, dtype=int32))
    """
    A = _matrix("inv_ex", A)
    if A.shape[-1] != A.shape[-2]:
        raise ShapeError(f"linalg.inv_ex: A must be square, got shape {A.shape}")
    eye = fnp.broadcast_to(fnp.eye(A.shape[-1], dtype=A.dtype), A.shape)
    info, partial = solve_info_p.bind(fnp.stop_gradient(A), eye, transpose=False)
    if check_errors:
        _raise_on_failure("inv_ex", A, info, _singular_pivot)
    return InvExResult(fnp.where(_failed(info), partial, fnp.linalg.inv(_where_solvable(info, A))), info)


def solve_ex(A, B, *, left=True, check_errors=False):
    """``(result, info)``: :func:`solve` without raising (``torch.linalg.solve_ex``); ``info`` as
    :func:`inv_ex`'s, and a singular matrix's result holds LAPACK's infinities and NaNs. With ``check_errors``
    a singular matrix raises as :func:`solve` does.

    >>> import fnx
    >>> fnx.linalg.solve_ex(fnx.tensor([[2.0, 0.0], [0.0, 4.0]]), fnx.tensor([2.0, 2.0]))
    SolveExResult(result=Array([1. , 0.5], dtype=float32), info=Array(0, dtype=int32))
    """
    A, B, transpose, back = _system("solve_ex", A, B, left)
    info, partial = solve_info_p.bind(fnp.stop_gradient(A), fnp.stop_gradient(B), transpose=transpose)
    if check_errors:
        _raise_on_failure("solve_ex", A, info, _singular)
    solvable = _where_solvable(info, A)
    solved = fnp.linalg.solve(fnp.swapaxes(solvable, -1, -2) if transpose else solvable, B)
    return SolveExResult(back(fnp.where(_failed(info), partial, solved)), info)


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """The solution of ``A X = B`` (``X A = B`` with ``left=False``) reading only the upper (or lower)
    triangle of ``A``, and taking its diagonal as ones with ``unitriangular``
    (``torch.linalg.solve_triangular``). ``B`` is a matrix (or a batch).

    >>> import fnx
    >>> fnx.linalg.solve_triangular(fnx.tensor([[2.0, 1.0], [9.0, 1.0]]), fnx.tensor([[3.0], [1.0]]), upper=True)
    Array([[1.],
           [1.]], dtype=float32)
    """
    A, B = _matrix("solve_triangular", A), _matrix("solve_triangular", B)
    T = fnp.triu(A) if upper else fnp.tril(A)
    if unitriangular:
        eye = fnp.eye(A.shape[-1], dtype=A.dtype)
        T = T * (1 - eye) + eye
    return solve(T, B, left=left)


def inv(A):
    """The inverse of square matrices (``torch.linalg.inv``); a singular one raises ``LinAlgError`` (a
    RuntimeError too, as PyTorch's), naming its first zero pivot."""
    A = _matrix("inv", A)
    try:
        return fnp.linalg.inv(A)
    except LinAlgError as error:
        eye = fnp.broadcast_to(fnp.eye(A.shape[-1], dtype=A.dtype), A.shape)
        _explain("inv", A, solve_info_p.bind(fnp.stop_gradient(A), eye, transpose=False)[0], _singular_pivot, error)


def det(A):
    """The determinant (``torch.linalg.det``)."""
    return fnp.linalg.det(_matrix("det", A))


def slogdet(A):
    """``(sign, logabsdet)`` of the determinant (``torch.linalg.slogdet``): ``det = sign * exp(logabsdet)``.

    >>> import fnx
    >>> fnx.linalg.slogdet(fnx.tensor([[-2.0, 0.0], [0.0, 1.0]]))
    SlogdetResult(sign=Array(-1., dtype=float32), logabsdet=Array(0.6931472, dtype=float32))
    """
    sign, logabsdet = fnp.linalg.slogdet(_matrix("slogdet", A))
    return SlogdetResult(sign, logabsdet)


def eig(A):
    """``(eigenvalues, eigenvectors)`` of a general square matrix, complex (``torch.linalg.eig``)."""
    w, v = fnp.linalg.eig(_matrix("eig", A))
    return EigResult(w, v)


def eigvals(A):
    """The eigenvalues of a general square matrix, complex (``torch.linalg.eigvals``)."""
    return fnp.linalg.eigvals(_matrix("eigvals", A))


def eigh(A, UPLO="L"):
    """``(eigenvalues, eigenvectors)`` of a symmetric (Hermitian) matrix, the eigenvalues ascending
    (``torch.linalg.eigh``); only the ``UPLO`` triangle is read."""
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    w, v = fnp.linalg.eigh(triangle_read(_matrix("eigh", A), UPLO))
    return EighResult(w, v)


def eigvalsh(A, UPLO="L"):
    """The eigenvalues of a symmetric (Hermitian) matrix, ascending (``torch.linalg.eigvalsh``); only the
    ``UPLO`` triangle is read."""
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.eigvalsh: UPLO must be 'L' or 'U', got {UPLO!r}")
    return fnp.linalg.eigvalsh(triangle_read(_matrix("eigvalsh", A), UPLO))


def svd(A, full_matrices=True, *, driver=None):
    """``(U, S, Vh)`` with ``A = U[..., :k] @ diag(S) @ Vh[..., :k, :]`` (``torch.linalg.svd``); with
    ``full_matrices`` (the default) ``U`` and ``Vh`` are square. ``driver`` (a CUDA option) must be None."""
    if driver is not None:
        raise ValueError(f"linalg.svd: driver={driver!r} is a cuSOLVER option; fnx takes driver=None")
    A = _matrix("svd", A)
    U, S, Vh = fnp.linalg.svd(A, full_matrices=False)
    m, n = A.shape[-2:]
    if full_matrices and m != n:
        # The extra columns of U (rows of Vh) are any basis of the complement: PyTorch ignores their gradient,
        # so they come from a full decomposition as constants, beside the differentiable reduced one.
        U_full, _, Vh_full = fnp.linalg.svd(fnp.stop_gradient(A), full_matrices=True)
        k = min(m, n)
        U = fnp.concatenate([U, U_full[..., :, k:]], axis=-1) if m > k else U
        Vh = fnp.concatenate([Vh, Vh_full[..., k:, :]], axis=-2) if n > k else Vh
    return SVDResult(U, S, Vh)


def svdvals(A, *, driver=None):
    """The singular values, descending (``torch.linalg.svdvals``)."""
    if driver is not None:
        raise ValueError(f"linalg.svdvals: driver={driver!r} is a cuSOLVER option; fnx takes driver=None")
    return fnp.linalg.svdvals(_matrix("svdvals", A))


def qr(A, mode="reduced"):
    """``(Q, R)`` with ``A = Q R`` (``torch.linalg.qr``): ``mode`` ``"reduced"``, ``"complete"``, or ``"r"``
    (``R`` only; ``Q`` is then an empty array, as in PyTorch)."""
    A = _matrix("qr", A)
    if mode == "r":
        R = fnp.linalg.qr(A, mode="r")
        return QRResult(fnp.zeros((0,), dtype=A.dtype), R)
    if mode not in ("reduced", "complete"):
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    Q, R = fnp.linalg.qr(A, mode=mode)
    return QRResult(Q, R)


def cholesky(A, *, upper=False):
    """The Cholesky factor of a symmetric positive-definite matrix: lower ``L`` with ``A = L Lᴴ``, or upper
    ``U = Lᴴ`` (``torch.linalg.cholesky``). As PyTorch's, it reads only the lower triangle of ``A`` (the upper
    one with ``upper=True``). A matrix that is not positive-definite raises ``LinAlgError`` (a RuntimeError
    too, as PyTorch's), naming its first leading minor that is not."""
    A = _matrix("cholesky", A)
    read = triangle_read(A, "U" if upper else "L")
    try:
        return fnp.linalg.cholesky(read, upper=upper)
    except LinAlgError as error:
        _explain("cholesky", A, cholesky_info_p.bind(fnp.stop_gradient(read))[0], _not_positive_definite, error)



def _rtol(A, atol, rtol):
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else np.finfo(A.dtype).eps * builtins.max(A.shape[-2:])
    return rtol


def _tolerance(S, A, atol, rtol):
    """PyTorch's ``max(atol, rtol * σ₁)``, per matrix, shaped to compare with ``S``."""
    tol = _rtol(A, atol, rtol) * S[..., :1] if S.shape[-1] else fnp.zeros(S.shape[:-1] + (1,), S.dtype)
    return fnp.maximum(tol, atol) if atol is not None else tol


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False):
    """The number of singular values above ``max(atol, rtol * σ₁)`` (``torch.linalg.matrix_rank``), int64.
    With neither, ``rtol`` is ``eps * max(m, n)``; with ``atol`` alone, ``rtol`` is 0."""
    A = _matrix("matrix_rank", A)
    S = fnp.abs(fnp.linalg.eigvalsh(A)) if hermitian else fnp.linalg.svdvals(A)
    return fnp.sum(S > _tolerance(S, A, atol, rtol), axis=-1).astype(np.int64)


def pinv(A, *, atol=None, rtol=None, hermitian=False):
    """The Moore-Penrose pseudo-inverse, with singular values at or below ``max(atol, rtol * σ₁)`` treated
    as zero (``torch.linalg.pinv``); the default tolerances as in :func:`matrix_rank`."""
    A = _matrix("pinv", A)
    if atol is None:
        return fnp.linalg.pinv(A, hermitian=hermitian, rtol=_rtol(A, atol, rtol))
    U, S, Vh = fnp.linalg.svd(A, full_matrices=False)
    keep = S > _tolerance(S, A, atol, rtol)
    inv_s = fnp.where(keep, 1 / fnp.where(keep, S, 1), 0)
    return fnp.matmul(fnp.swapaxes(fnp.conj(Vh), -1, -2) * inv_s[..., None, :], fnp.swapaxes(fnp.conj(U), -1, -2))


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution of ``A X = B`` (``torch.linalg.lstsq``), as
    ``(solution, residuals, rank, singular_values)``.

    ``solution`` is the minimum-norm least-squares solution, with singular values at or below
    ``rcond * σ₁`` (default ``eps * max(m, n)``) treated as zero. As PyTorch's CPU drivers report:
    ``rank`` for ``driver`` ``"gelsy"`` (the default), ``"gelsd"`` and ``"gelss"``; ``singular_values``
    for ``"gelsd"`` and ``"gelss"``; ``residuals`` (the squared residual of each column) for every driver
    but ``"gelsy"`` when ``m > n`` and every matrix has full rank. What is not reported is an empty array.

    >>> import fnx
    >>> fnx.linalg.lstsq(fnx.tensor([[1.0], [1.0]]), fnx.tensor([[1.0], [3.0]]), driver="gelsd").residuals
    Array([2.], dtype=float32)
    """
    driver = "gelsy" if driver is None else driver
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise ValueError(f"linalg.lstsq: driver must be 'gels', 'gelsy', 'gelsd' or 'gelss', got {driver!r}")
    A, B = _matrix("lstsq", A), fnp.asarray(B)
    vector = B.ndim == A.ndim - 1
    Bm = B[..., None] if vector else B
    if Bm.shape[-2] != A.shape[-2]:
        raise ShapeError(f"linalg.lstsq: A of shape {A.shape} and B of shape {B.shape} have different row counts")
    m, n = A.shape[-2:]
    S = fnp.linalg.svdvals(A)
    rtol = np.finfo(A.dtype).eps * builtins.max(m, n) if rcond is None else rcond
    rank = fnp.sum(S > rtol * S[..., :1], axis=-1).astype(np.int64) if S.shape[-1] else fnp.zeros(S.shape[:-1],
                                                                                                   np.int64)
    X = fnp.matmul(fnp.linalg.pinv(A, rtol=rtol), Bm)
    empty = fnp.zeros((0,), dtype=A.dtype)
    residuals = empty
    if driver != "gelsy" and m > n and builtins.bool(fnp.all(rank == n)):
        r = fnp.matmul(A, X) - Bm
        residuals = fnp.sum(fnp.real(r * fnp.conj(r)), axis=-2)  # (..., 1) for a vector B too, as in PyTorch
    return LstsqResult(X[..., 0] if vector else X, residuals,
                       rank if driver != "gels" else fnp.zeros((0,), np.int64),
                       S if driver in ("gelsd", "gelss") else fnp.zeros((0,), dtype=S.dtype))


def cross(input, other, *, dim=-1):
    """The cross product of 3-vectors along ``dim``, broadcasting the other axes (``torch.linalg.cross``)."""
    a, b = fnp.asarray(input), fnp.asarray(other)
    shape = fnp.broadcast_shapes(a.shape, b.shape)
    return fnp.linalg.cross(fnp.broadcast_to(a, shape), fnp.broadcast_to(b, shape), axis=dim)


def vander(x, *, N=None):
    """``[x⁰, x¹, ..., x^(N-1)]`` along a new last axis (``torch.linalg.vander``: increasing powers, unlike
    NumPy's ``vander``); ``N`` defaults to ``x.shape[-1]``.

    >>> import fnx
    >>> fnx.linalg.vander(fnx.tensor([1, 2, 3]))
    Array([[1, 1, 1],
           [1, 2, 4],
           [1, 3, 9]], dtype=int64)
    """
    x = fnp.asarray(x)
    if x.ndim < 1:
        raise ShapeError(f"linalg.vander: x must have at least one dimension, got shape {x.shape}")
    N = x.shape[-1] if N is None else N
    if N < 1:
        raise ValueError(f"linalg.vander: N must be positive, got {N}")
    powers = [fnp.ones_like(x)]
    for _ in range(1, N):  # repeated products: exact for integers, and differentiable at 0
        powers.append(powers[-1] * x)
    return fnp.stack(powers, axis=-1)


def matrix_power(A, n):
    """``A`` multiplied by itself ``n`` times (``n`` < 0: of its inverse; 0: the identity)."""
    return fnp.linalg.matrix_power(_matrix("matrix_power", A), n)


def multi_dot(tensors):
    """The product of matrices in the cheapest order; the first and last may be vectors
    (``torch.linalg.multi_dot``)."""
    return fnp.linalg.multi_dot(list(tensors))


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The ``offset`` diagonal over axes ``dim1`` and ``dim2``, as the last axis (``torch.linalg.diagonal``)."""
    return fnp.diagonal(A, offset, dim1, dim2)


def vecdot(x, y, *, dim=-1):
    """``sum(conj(x) * y)`` along ``dim``, broadcasting the other axes (``torch.linalg.vecdot``)."""
    return fnp.linalg.vecdot(x, y, axis=dim)


def matmul(input, other):
    return fnp.matmul(input, other)


def cond(A, p=None):
    """The condition number in the ``p``-norm (2 by default) (``torch.linalg.cond``)."""
    return fnp.linalg.cond(_matrix("cond", A), p)


def tensorinv(A, ind=2):
    return fnp.linalg.tensorinv(A, ind)


def tensorsolve(A, B, dims=None):
    return fnp.linalg.tensorsolve(A, B, axes=dims)


def matrix_exp(A):
    """The matrix exponential of square matrices, batched over leading axes (``torch.linalg.matrix_exp``):
    ``fnx.scipy.linalg.expm``'s Padé approximation with scaling and squaring, differentiable.

    >>> import fnx
    >>> fnx.linalg.matrix_exp(fnx.tensor([[0.0, 1.0], [0.0, 0.0]]))
    Array([[1., 1.],
           [0., 1.]], dtype=float32)
    """
    with data_device(A):
        return _matrix_exp_here(A)


def _matrix_exp_here(A):
    from .scipy.linalg import expm
    return expm(_matrix("matrix_exp", A))


def householder_product(A, tau):
    r"""The first ``n`` columns of the product of Householder reflectors :math:`H_1 \cdots H_k`,
    :math:`H_i = I - \tau_i v_i v_i^H` (``torch.linalg.householder_product``, LAPACK's ``orgqr``).

    ``A`` is ``(..., m, n)`` with ``m >= n``; column ``i`` below the diagonal holds
    :math:`v_i` (its entry ``i`` is an implicit 1, those above are 0), and ``tau`` is
    ``(..., k)`` with ``k <= n``. Written with fnx operations, so it is
    differentiable in both arguments and batched like them.

    Raises:
      ShapeError: ``m < n``, ``k > n``, or batch shapes that differ.

    >>> import fnx, fnx.numpy as fnp
    >>> Q = fnx.linalg.householder_product(fnp.array([[1.0], [1.0]]), fnp.array([1.0]))
    >>> Q  # I - v v^T with v = (1, 1): its first column
    Array([[ 0.],
           [-1.]], dtype=float32)
    """
    with data_device(A):
        return _householder_product_here(A, tau)


def _householder_product_here(A, tau):
    A, tau = fnp.asarray(A), fnp.asarray(tau)
    if A.ndim < 2:
        raise ShapeError(f"householder_product: A must have at least 2 dimensions, got shape {A.shape}")
    m, n = A.shape[-2:]
    if m < n:
        raise ShapeError(f"householder_product: input.shape[-2] must be greater than or equal to "
                         f"input.shape[-1], got A of shape {A.shape}")
    if tau.ndim != A.ndim - 1 or tau.shape[:-1] != A.shape[:-2] or tau.shape[-1] > n:
        raise ShapeError(f"householder_product: tau must have shape A.shape[:-2] + (k,) with k <= "
                         f"{n}, got A of shape {A.shape} and tau of shape {tau.shape}")
    dtype = fnp.result_type(A, tau)
    A, tau = A.astype(dtype), tau.astype(dtype)
    rows = fnp.arange(m, device=A.device)[:, None]
    Q = fnp.broadcast_to(fnp.eye(m, n, dtype=dtype, device=A.device), A.shape)
    for i in reversed(range(tau.shape[-1])):  # Q <- H_i Q, the last reflector first
        v = fnp.where(rows == i, fnp.ones((), dtype), fnp.where(rows > i, A[..., :, i:i + 1], 0))
        w = fnp.sum(fnp.conj(v) * Q, axis=-2, keepdims=True)  # v^H Q, one row
        Q = Q - tau[..., i, None, None] * v * w
    return Q


# ----- LU, with PyTorch's pivot convention (1-based, int32), over fnx.scipy.linalg's -----------------------

LUFactorResult = namedtuple("LUFactorResult", ["LU", "pivots"])
LUFactorExResult = namedtuple("LUFactorExResult", ["LU", "pivots", "info"])
LUResult = namedtuple("LUResult", ["P", "L", "U"])


def _pivoting(fname, pivot):
    if not pivot:
        raise ValueError(f"linalg.{fname}: pivot=False is a CUDA-only option in PyTorch; fnx pivots")


def lu_factor(A, *, pivot=True):
    """``(LU, pivots)`` (``torch.linalg.lu_factor``): ``L`` (unit diagonal) below the diagonal of ``LU`` and
    ``U`` on and above it; row ``i`` was swapped with row ``pivots[i]``, counted from 1 as LAPACK and PyTorch
    count (``fnx.scipy.linalg.lu_factor`` counts from 0)."""
    from .scipy import linalg as sl
    _pivoting("lu_factor", pivot)
    packed, piv = sl.lu_factor(_matrix("lu_factor", A))
    return LUFactorResult(packed, piv + np.int32(1))


def lu_factor_ex(A, *, pivot=True, check_errors=False):
    """:func:`lu_factor` and ``info`` (zeros: partial pivoting always completes; a singular ``U`` shows in
    :func:`lu_solve`), as ``torch.linalg.lu_factor_ex``."""
    packed, piv = lu_factor(A, pivot=pivot)
    return LUFactorExResult(packed, piv, fnp.zeros(packed.shape[:-2], dtype="int32"))


def lu(A, *, pivot=True):
    """``(P, L, U)`` with ``A = P L U`` (``torch.linalg.lu``); differentiable where the pivots do not change."""
    from .scipy import linalg as sl
    _pivoting("lu", pivot)
    return LUResult(*sl.lu(_matrix("lu", A)))


def lu_solve(LU, pivots, B, *, left=True, adjoint=False):
    """The solution ``X`` of ``A X = B`` (or ``X A = B`` without ``left``; ``A`` conjugate-transposed with
    ``adjoint``) from ``lu_factor(A)`` (``torch.linalg.lu_solve``)."""
    from .scipy import linalg as sl
    factors = (LU, fnp.asarray(pivots) - np.int32(1))
    B = fnp.asarray(B)
    if left:
        return sl.lu_solve(factors, B, trans=2 if adjoint else 0)
    # X A = B is A^T X^T = B^T (and X A^H = B is A X^H = B^H)
    if adjoint:
        return fnp.conj(fnp.swapaxes(sl.lu_solve(factors, fnp.conj(fnp.swapaxes(B, -1, -2))), -1, -2))
    return fnp.swapaxes(sl.lu_solve(factors, fnp.swapaxes(B, -1, -2), trans=1), -1, -2)


__all__ += ["lu_factor", "lu_factor_ex", "lu", "lu_solve"]
