"""fnx.scipy.linalg: SciPy's linear algebra, as ``jax.scipy.linalg`` has it, differentiable.

Most of it is ``fnx.numpy.linalg`` under SciPy's names and conventions:
``cholesky`` returns the *upper* factor unless ``lower=True``, ``qr`` the complete
factorization (``mode="full"``), ``eigh`` the eigenvalues first. Arguments that
only matter to LAPACK (``overwrite_a``, ``check_finite``, ``lapack_driver``...)
are accepted and ignored, as in JAX.

Three pieces are new, each written with fnx operations so that derivatives,
``vmap`` and ``jit`` come by composition:

* **Triangular solves** (``solve_triangular``, ``cho_solve``, ``lu_solve``) read
  one triangle of the matrix (with a unit diagonal if asked) and hand it to the
  general solver, so the derivative reaches that triangle only, as JAX's
  ``triangular_solve`` does.
* **LU with partial pivoting** (``lu``, ``lu_factor``) is Doolittle's elimination,
  one column per step: the pivot is the largest entry in magnitude at or below the
  diagonal (the first one on a tie, as LAPACK's ``getrf`` chooses), its row is
  swapped up with a gather, and a rank-one update eliminates below it. The pivot
  choice is piecewise constant, so the derivative is that of the elimination
  with the pivots held fixed.
* **The matrix exponential** (``expm``) is the scaling-and-squaring method with
  Padé approximants (Higham 2005, "The scaling and squaring method for the matrix
  exponential revisited"), with JAX's choices: the 1-norm of ``A`` picks a
  diagonal Padé approximant of degree 3, 5, 7, 9 or 13 (3, 5 or 7 in single
  precision) and a number ``s`` of squarings, ``A / 2^s`` goes into
  ``r(A) = q(A)^-1 p(A)``, and ``r`` is squared ``s`` times. ``s`` is Higham's
  ``ceil(log2(|A|_1 / theta))``, which brings the norm under the highest degree's
  bound ``theta``; JAX rounds it down, which leaves norms up to ``2 theta`` and
  loses about half the digits of a float64 result once ``|A|_1`` passes
  ``theta`` (``expm([[40.]])`` is off by 9e-8 relative there). Where the values
  are known (plain arrays, and under ``grad``) only the approximant and the squarings
  that are needed are computed; under ``vmap`` and ``jit`` every approximant is
  computed and the right one selected, and ``max_squarings`` masked squarings
  run, so one program serves every input. A matrix that needs more than
  ``max_squarings`` squarings gives NaNs, as in JAX.

Leading axes are batch axes throughout.
"""
import numpy as np

from .. import numpy as fnp
from ..core import dtypes
from ..errors import DTypeError, ShapeError, TracerError
from ..numpy._base import is_traced
from ..numpy.linalg import triangle_read

__all__ = ["cholesky", "cho_factor", "cho_solve", "solve_triangular", "solve", "lu", "lu_factor", "lu_solve",
           "inv", "det", "eigh", "svd", "qr", "expm", "expm_frechet", "block_diag", "toeplitz", "hankel", "circulant",
           "companion", "hilbert", "dft", "hadamard", "polar"]


# ----- argument checks ---------------------------------------------------------------------------


def _concrete(x):
    """``x`` as a numpy array when its value is known here (not under ``vmap`` or ``jit``), else None."""
    try:
        return np.asarray(x)
    except TracerError:
        return None


def _inexact(opname, *arrays):
    """The arrays in one floating (or complex) dtype; integers compute in float64, as NumPy's linalg does."""
    arrays = [fnp.asarray(a) for a in arrays]
    dt = dtypes.result_type(*arrays)
    if dt.kind in "biu":
        dt = dtypes.float64
    elif dt.kind not in "fc":
        raise DTypeError(f"{opname}: expected numeric arrays, got {', '.join(str(a.dtype) for a in arrays)}")
    return [a if a.dtype == dt else a.astype(dt) for a in arrays]


def _square(opname, a):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"{opname}: expected a square matrix or a stack of them in the last two axes, "
                         f"got shape {a.shape}")
    return a


def _rhs(opname, a, b):
    """Checks that ``b`` (a vector when 1-d, else a stack of matrices) has as many rows as ``a``; returns ``b``
    as a matrix (a vector becomes one column) and whether it was a vector."""
    rows = b.shape[0] if b.ndim == 1 else b.shape[-2] if b.ndim >= 2 else None
    if rows != a.shape[-1]:
        raise ShapeError(f"{opname}: a of shape {a.shape} and b of shape {b.shape} do not match: b needs "
                         f"{a.shape[-1]} rows (its only axis if 1-d, otherwise axis -2)")
    return (b[:, None], True) if b.ndim == 1 else (b, False)


def _unvector(x, vector):
    return x[..., 0] if vector else x


# ----- triangular solves ----------------------------------------------------------------------------


def _triangle(a, lower, unit_diagonal):
    """The lower (or upper) triangle of ``a``, with ones on the diagonal if ``unit_diagonal``."""
    t = fnp.tril(a) if lower else fnp.triu(a)
    if unit_diagonal:
        eye = fnp.eye(a.shape[-1], dtype=a.dtype)
        t = t * (1 - eye) + eye
    return t


def _tri_solve(a, b, lower, unit_diagonal=False, trans=0):
    """``op(T)^-1 b`` for the triangle ``T`` of ``a``; ``op`` is the identity, the transpose (1) or the
    conjugate transpose (2)."""
    t = _triangle(a, lower, unit_diagonal)
    if trans:
        t = fnp.swapaxes(t, -1, -2)
        if trans == 2 and t.dtype.kind == "c":
            t = fnp.conj(t)
    return fnp.linalg.solve(t, b)


def _trans(opname, trans):
    codes = {0: 0, "N": 0, 1: 1, "T": 1, 2: 2, "C": 2}
    if isinstance(trans, bool) or trans not in codes:
        raise ValueError(f"{opname}: trans must be 0/'N', 1/'T' or 2/'C', got {trans!r}")
    return codes[trans]


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False, debug=None,
                     check_finite=True):
    """The solution ``x`` of ``op(a) x = b`` for triangular ``a``, as ``scipy.linalg.solve_triangular``.

    Only the lower (``lower=True``) or upper triangle of ``a`` is read, and its
    diagonal is taken as ones with ``unit_diagonal``; ``trans`` is 0 (``'N'``:
    ``a x = b``), 1 (``'T'``: ``a^T x = b``) or 2 (``'C'``: ``a^H x = b``). ``b`` is a
    vector when 1-d, else a (stack of) matrices.

    >>> import fnx.numpy as fnp, fnx.scipy.linalg as sl
    >>> sl.solve_triangular(fnp.array([[2., 0.], [1., 1.]]), fnp.array([2., 3.]), lower=True)
    Array([1., 2.], dtype=float32)
    """
    del overwrite_b, debug, check_finite
    code = _trans("solve_triangular", trans)
    a, b = _inexact("solve_triangular", a, b)
    b, vector = _rhs("solve_triangular", _square("solve_triangular", a), b)
    return _unvector(_tri_solve(a, b, lower, unit_diagonal, code), vector)


# ----- Cholesky -------------------------------------------------------------------------------------


def cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    """The Cholesky factor of a symmetric (Hermitian) positive-definite matrix, as ``scipy.linalg.cholesky``:
    upper ``U`` with ``a = U^H U`` by default, lower ``L`` with ``a = L L^H`` when ``lower``. As SciPy's, it
    reads only that triangle of ``a``.

    >>> import fnx.numpy as fnp, fnx.scipy.linalg as sl
    >>> sl.cholesky(fnp.array([[4., 2.], [2., 2.]]))
    Array([[2., 1.],
           [0., 1.]], dtype=float32)
    """
    del overwrite_a, check_finite
    (a,) = _inexact("cholesky", a)
    return fnp.linalg.cholesky(triangle_read(_square("cholesky", a), "L" if lower else "U"), upper=not lower)


def cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    """``(c, lower)`` for :func:`cho_solve`, as ``scipy.linalg.cho_factor``; ``c`` is the Cholesky factor
    with zeros in its other triangle (SciPy leaves arbitrary values there)."""
    del overwrite_a, check_finite
    return cholesky(a, lower=lower), lower


def cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    """The solution of ``a x = b`` from ``(c, lower) = cho_factor(a)``, as ``scipy.linalg.cho_solve``:
    two triangular solves.

    >>> import fnx.numpy as fnp, fnx.scipy.linalg as sl
    >>> sl.cho_solve(sl.cho_factor(fnp.array([[4., 2.], [2., 2.]])), fnp.array([2., 2.]))
    Array([0., 1.], dtype=float32)
    """
    del overwrite_b, check_finite
    c, lower = c_and_lower
    c, b = _inexact("cho_solve", c, b)
    b, vector = _rhs("cho_solve", _square("cho_solve", c), b)
    # a = L L^H: solve L y = b, then L^H x = y (a = U^H U: U^H y = b, then U x = y).
    y = _tri_solve(c, b, lower, trans=0 if lower else 2)
    return _unvector(_tri_solve(c, y, lower, trans=2 if lower else 0), vector)


# ----- solve, inverse, determinant ------------------------------------------------------------------

_ASSUME_A = ("gen", "sym", "her", "pos", "general", "symmetric", "hermitian", "positive definite")


def solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, debug=False, check_finite=True, assume_a="gen"):
    """The solution ``x`` of ``a x = b`` for square ``a``, as ``scipy.linalg.solve``.

    ``assume_a`` (``"gen"``, ``"sym"``, ``"her"``, ``"pos"`` or their long
    names) is checked and, as in JAX, every case is solved with the whole of
    ``a`` by the general LU solver; so values and derivatives are JAX's, and
    ``lower`` has no effect. ``b`` is a vector when 1-d, else a (stack of) matrices.

    >>> import fnx.numpy as fnp, fnx.scipy.linalg as sl
    >>> sl.solve(fnp.array([[2., 1.], [1., 2.]]), fnp.array([3., 3.]), assume_a="pos")
    Array([1., 1.], dtype=float32)
    """
    del lower, overwrite_a, overwrite_b, debug, check_finite
    if assume_a not in _ASSUME_A:
        raise ValueError(f"solve: assume_a must be one of {', '.join(map(repr, _ASSUME_A))}; got {assume_a!r}")
    a, b = _inexact("solve", a, b)
    b, vector = _rhs("solve", _square("solve", a), b)
    return _unvector(fnp.linalg.solve(a, b), vector)


def inv(a, overwrite_a=False, check_finite=True):
    """The inverse of a square matrix (or of each in a stack), as ``scipy.linalg.inv``."""
    del overwrite_a, check_finite
    return fnp.linalg.inv(a)


def det(a, overwrite_a=False, check_finite=True):
    """The determinant of a square matrix (or of each in a stack), as ``scipy.linalg.det``."""
    del overwrite_a, check_finite
    return fnp.linalg.det(a)


# ----- LU with partial pivoting -----------------------------------------------------------------------


def _lu(a):
    """Packed LU of ``a`` (..., m, n) with partial pivoting: ``(lu, pivots, perm)`` with ``a[perm] = L U``,
    ``L`` unit lower (below the diagonal of ``lu``) and ``U`` upper (on and above it)."""
    m, n = a.shape[-2:]
    batch = a.shape[:-2]
    rows, cols = fnp.arange(m), fnp.arange(n)
    below_rows = rows[:, None]
    perm = fnp.broadcast_to(rows, batch + (m,))
    pivots = []
    for j in range(min(m, n)):
        col = fnp.stop_gradient(a[..., :, j])
        mag = fnp.abs(fnp.real(col)) + fnp.abs(fnp.imag(col)) if col.dtype.kind == "c" else fnp.abs(col)
        p = fnp.argmax(fnp.where(rows >= j, mag, -1.0), axis=-1)  # LAPACK's choice: the first largest
        pivots.append(p)
        pe = p[..., None]
        swap = fnp.where(rows == j, pe, fnp.where(rows == pe, j, rows))  # rows j and p exchanged
        a = fnp.take_along_axis(a, fnp.broadcast_to(swap[..., None], batch + (m, n)), axis=-2)
        perm = fnp.take_along_axis(perm, swap, axis=-1)
        pivot = a[..., j:j + 1, j:j + 1]
        zero = pivot == 0  # a zero column: nothing to eliminate (LAPACK leaves it, and so do we)
        mult = fnp.where(below_rows > j, a[..., :, j:j + 1] / fnp.where(zero, 1.0, pivot), 0.0)
        a = a - mult * fnp.where(cols > j, a[..., j:j + 1, :], 0.0)
        a = fnp.where((below_rows > j) & (cols == j), mult, a)
    piv = fnp.stack(pivots, axis=-1) if pivots else fnp.zeros(batch + (0,), dtype=np.int32)
    return a, piv.astype(np.int32), perm


def _permutation_matrix(perm, dtype):
    """``P`` with ``P[i, j] = (perm[j] == i)``, so that ``P^T a = a[perm]``."""
    m = perm.shape[-1]
    return (perm[..., None, :] == fnp.arange(m)[:, None]).astype(dtype)


def lu_factor(a, overwrite_a=False, check_finite=True):
    """``(lu, piv)`` for :func:`lu_solve`, as ``scipy.linalg.lu_factor``: ``L`` (unit diagonal, not stored)
    below the diagonal of ``lu`` and ``U`` on and above it; row ``i`` was swapped with row ``piv[i]`` (int32).

    >>> import fnx.numpy as fnp, fnx.scipy.linalg as sl
    >>> lu, piv = sl.lu_factor(fnp.array([[1., 2.], [3., 4.]]))
    >>> piv
    Array([1, 1], dtype=int32)
    """
    del overwrite_a, check_finite
    (a,) = _inexact("lu_factor", a)
    if a.ndim < 2:
        raise ShapeError(f"lu_factor: expected a matrix or a stack of them, got shape {a.shape}")
    lu_, piv, _ = _lu(a)
    return lu_, piv


def lu(a, permute_l=False, overwrite_a=False, check_finite=True):
    """The LU decomposition with partial pivoting ``a = P L U``, as ``scipy.linalg.lu``.

    Returns ``(P, L, U)`` (``P`` a permutation matrix, ``L`` unit lower
    triangular ``(m, k)``, ``U`` upper triangular ``(k, n)``, ``k = min(m, n)``),
    or ``(P L, U)`` with ``permute_l``. Differentiable where the pivots do not change.

    >>> import fnx.numpy as fnp, fnx.scipy.linalg as sl
    >>> P, L, U = sl.lu(fnp.array([[1., 2.], [3., 4.]]))
    >>> U
    Array([[3.       , 4.       ],
           [0.       , 0.6666666]], dtype=float32)
    """
    del overwrite_a, check_finite
    (a,) = _inexact("lu", a)
    if a.ndim < 2:
        raise ShapeError(f"lu: expected a matrix or a stack of them, got shape {a.shape}")
    m, n = a.shape[-2:]
    k = min(m, n)
    packed, _, perm = _lu(a)
    p = _permutation_matrix(perm, a.dtype)
    low = fnp.tril(packed, -1)[..., :, :k] + fnp.eye(m, k, dtype=a.dtype)
    up = fnp.triu(packed)[..., :k, :]
    if permute_l:
        return fnp.matmul(p, low), up
    return p, low, up


def _pivots_to_permutation(piv, m):
    """The row order ``perm`` (``a[perm] = L U``) that LAPACK's successive swaps ``piv`` make."""
    rows = fnp.arange(m)
    perm = fnp.broadcast_to(rows, piv.shape[:-1] + (m,))
    for j in range(piv.shape[-1]):
        p = piv[..., j:j + 1]
        at_j = fnp.sum(fnp.where(rows == j, perm, 0), axis=-1, keepdims=True)
        at_p = fnp.sum(fnp.where(rows == p, perm, 0), axis=-1, keepdims=True)
        perm = fnp.where(rows == j, at_p, fnp.where(rows == p, at_j, perm))
    return perm


def lu_solve(lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    """The solution of ``op(a) x = b`` from ``(lu, piv) = lu_factor(a)``, as ``scipy.linalg.lu_solve``;
    ``trans`` as in :func:`solve_triangular`.

    >>> import fnx.numpy as fnp, fnx.scipy.linalg as sl
    >>> sl.lu_solve(sl.lu_factor(fnp.array([[2., 0.], [0., 4.]])), fnp.array([2., 2.]))
    Array([1. , 0.5], dtype=float32)
    """
    del overwrite_b, check_finite
    code = _trans("lu_solve", trans)
    packed, piv = lu_and_piv
    packed, b = _inexact("lu_solve", packed, b)
    b, vector = _rhs("lu_solve", _square("lu_solve", packed), b)
    p = _permutation_matrix(_pivots_to_permutation(fnp.asarray(piv), packed.shape[-1]), packed.dtype)
    if code == 0:  # P L U x = b
        y = fnp.matmul(fnp.swapaxes(p, -1, -2), b)
        x = _tri_solve(packed, _tri_solve(packed, y, True, True), False)
    else:  # (P L U)^T x = U^T L^T P^T x = b (conjugated for trans=2)
        y = _tri_solve(packed, b, False, trans=code)
        x = fnp.matmul(p, _tri_solve(packed, y, True, True, trans=code))
    return _unvector(x, vector)


# ----- symmetric eigenproblem, SVD, QR --------------------------------------------------------------


def eigh(a, b=None, lower=True, eigvals_only=False, overwrite_a=False, overwrite_b=False, turbo=True, eigvals=None,
         type=1, check_finite=True):
    """Eigenvalues (ascending) and eigenvectors ``(w, v)`` of a symmetric (Hermitian) matrix, as
    ``scipy.linalg.eigh``; ``w`` alone with ``eigvals_only``. As in JAX, only the standard problem
    (``b=None``, ``type=1``, ``eigvals=None``) is supported.

    >>> import fnx.numpy as fnp, fnx.scipy.linalg as sl
    >>> sl.eigh(fnp.array([[2., 1.], [1., 2.]]), eigvals_only=True)
    Array([1., 3.], dtype=float32)
    """
    del overwrite_a, overwrite_b, turbo, check_finite
    if b is not None:
        raise NotImplementedError("eigh: only the standard problem b=None is supported (as in JAX)")
    if type != 1 or eigvals is not None:
        raise NotImplementedError("eigh: only type=1 and eigvals=None are supported (as in JAX)")
    (a,) = _inexact("eigh", a)
    uplo = "L" if lower else "U"
    if eigvals_only:
        return fnp.linalg.eigvalsh(a, UPLO=uplo)
    w, v = fnp.linalg.eigh(a, UPLO=uplo)
    return w, v


def svd(a, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True, lapack_driver="gesdd"):
    """The singular value decomposition ``a = U diag(s) Vh``, as ``scipy.linalg.svd``: ``(U, s, Vh)``, or
    ``s`` alone when ``compute_uv`` is False."""
    del overwrite_a, check_finite
    if lapack_driver not in ("gesdd", "gesvd"):
        raise ValueError(f"svd: lapack_driver must be 'gesdd' or 'gesvd', got {lapack_driver!r}")
    (a,) = _inexact("svd", a)
    out = fnp.linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)
    return out if not compute_uv else tuple(out)


def qr(a, overwrite_a=False, lwork=None, mode="full", pivoting=False, check_finite=True):
    """The QR decomposition, as ``scipy.linalg.qr``: ``(Q, R)`` complete (``mode="full"``) or reduced
    (``"economic"``), or ``(R,)`` (``"r"``, the complete ``R``). Column pivoting is not supported.

    >>> import fnx.numpy as fnp, fnx.scipy.linalg as sl
    >>> [x.shape for x in sl.qr(fnp.ones((3, 2)))]
    [(3, 3), (3, 2)]
    """
    del overwrite_a, lwork, check_finite
    if pivoting:
        raise NotImplementedError("qr: pivoting=True is not supported in fnx")
    if mode not in ("full", "economic", "r"):
        raise ValueError(f"qr: mode must be 'full', 'economic' or 'r', got {mode!r}")
    (a,) = _inexact("qr", a)
    if a.ndim < 2:
        raise ShapeError(f"qr: expected a matrix or a stack of them, got shape {a.shape}")
    q, r = fnp.linalg.qr(a, mode="reduced" if mode == "economic" else "complete")
    return (r,) if mode == "r" else (q, r)


# ----- the matrix exponential -------------------------------------------------------------------------
#
# The coefficients b_k of the degree-m diagonal Padé approximant p_m(x) / p_m(-x) of exp(x), and, per
# precision, the 1-norm thresholds below which each degree is accurate (Higham 2005, table 2.3).

_PADE = {
    3: (120.0, 60.0, 12.0, 1.0),
    5: (30240.0, 15120.0, 3360.0, 420.0, 30.0, 1.0),
    7: (17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0, 56.0, 1.0),
    9: (17643225600.0, 8821612800.0, 2075673600.0, 302702400.0, 30270240.0, 2162160.0, 110880.0, 3960.0, 90.0,
        1.0),
    13: (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0, 129060195264000.0,
         10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0, 40840800.0, 960960.0, 16380.0, 182.0, 1.0),
}
# (the norm scaled down to by squaring, the thresholds between degrees, the degrees)
_DOUBLE = (5.371920351148152, (1.495585217958292e-2, 2.539398330063230e-1, 9.504178996162932e-1,
                               2.097847961257068), (3, 5, 7, 9, 13))
_SINGLE = (3.925724783138660, (4.258730016922831e-1, 1.880152677804762), (3, 5, 7))


def _pade(A, powers, m):
    """``(U, V)`` with ``p_m(A) = V + U`` and ``p_m(-A) = V - U``; ``powers`` caches ``A^2, A^4, ...``."""
    b = _PADE[m]
    eye = fnp.eye(A.shape[-1], dtype=A.dtype)

    def power(k):
        if k not in powers:
            powers[k] = fnp.matmul(power(2), power(2)) if k == 4 else fnp.matmul(power(k - 2), power(2))
        return powers[k]

    if m == 13:
        a2, a4, a6 = power(2), power(4), power(6)
        u = fnp.matmul(a6, b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye
        v = fnp.matmul(a6, b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye
        return fnp.matmul(A, u), v
    u = b[m] * power(m - 1)
    v = b[m - 1] * power(m - 1)
    for k in range(m - 2, 0, -2):  # highest degree first, as JAX sums
        u = u + b[k] * (power(k - 1) if k > 1 else eye)
        v = v + b[k - 1] * (power(k - 1) if k > 1 else eye)
    return fnp.matmul(A, u), v


def _select(idx, values):
    """``values[idx]`` per matrix: ``idx`` (...,) picks among the (..., n, n) arrays of ``values`` (a dict)."""
    keys = sorted(values)
    out = values[keys[-1]]
    for i in keys[:-1]:
        out = fnp.where((idx == i)[..., None, None], values[i], out)
    return out


def expm(A, *, upper_triangular=False, max_squarings=16):
    """The matrix exponential ``sum_k A^k / k!`` of a square matrix (or of each in a stack), as
    ``jax.scipy.linalg.expm``: Padé approximation with scaling and squaring (see the module notes).

    ``upper_triangular=True`` says that ``A`` is upper triangular (the Padé
    denominator is then solved as triangular). Differentiable (by composition),
    batched over leading axes.

    >>> import fnx.numpy as fnp, fnx.scipy.linalg as sl
    >>> sl.expm(fnp.zeros((2, 2)))
    Array([[1., 0.],
           [0., 1.]], dtype=float32)
    >>> sl.expm(fnp.array([[0., 1.], [0., 0.]]))
    Array([[1., 1.],
           [0., 1.]], dtype=float32)
    """
    (A,) = _inexact("expm", A)
    _square("expm", A)
    if A.dtype in (dtypes.float64, dtypes.complex128):
        maxnorm, conds, degrees = _DOUBLE
    elif A.dtype in (dtypes.float32, dtypes.complex64):
        maxnorm, conds, degrees = _SINGLE
    else:
        raise DTypeError(f"expm: expected float32, float64, complex64 or complex128, got {A.dtype}")
    n = A.shape[-1]
    if n == 0:
        return A
    # The degree and the squarings are piecewise constant in A: chosen outside the derivative.
    norm1 = fnp.stop_gradient(fnp.max(fnp.sum(fnp.abs(A), axis=-2), axis=-1))
    tiny = float(np.finfo(norm1.dtype).tiny)
    s = fnp.maximum(0.0, fnp.ceil(fnp.log2(fnp.maximum(norm1, tiny) / maxnorm)))  # Higham's s: |A / 2^s| <= theta
    idx = fnp.digitize(norm1, np.asarray(conds, dtype=norm1.dtype))
    A = A / fnp.exp2(s).astype(A.dtype)[..., None, None]

    known_idx, known_s = _concrete(idx), _concrete(s)
    needed = range(len(degrees)) if known_idx is None else sorted({int(i) for i in known_idx.ravel()})
    powers, us, vs = {2: fnp.matmul(A, A)}, {}, {}
    for i in needed:
        us[i], vs[i] = _pade(A, powers, degrees[i])
    U, V = _select(idx, us), _select(idx, vs)
    P, Q = U + V, V - U
    R = _tri_solve(Q, P, lower=False) if upper_triangular else fnp.linalg.solve(Q, P)

    if known_s is None:
        steps, uniform = max_squarings, False
    else:
        steps = int(min(known_s.max(initial=0.0), max_squarings))
        uniform = bool(np.all(known_s == known_s.max(initial=0.0)))
    eye = fnp.eye(n, dtype=A.dtype)
    for i in range(steps):
        if uniform:
            R = fnp.matmul(R, R)
        else:  # square only the matrices that still need it; the others square I, so nothing overflows
            go = (s > i)[..., None, None]
            half = fnp.where(go, R, eye)
            R = fnp.where(go, fnp.matmul(half, half), R)
    if known_s is None or known_s.max(initial=0.0) > max_squarings:
        R = fnp.where((s > max_squarings)[..., None, None], np.nan, R)
    return R


def expm_frechet(A, E, *, method=None, compute_expm=True):
    """The Fréchet derivative of :func:`expm` at ``A`` in the direction ``E``, as
    ``scipy.linalg.expm_frechet``: ``(expm(A), L(A, E))``, or ``L(A, E)`` alone without ``compute_expm``.
    Computed as the JVP of :func:`expm` (``method`` is ignored, as in JAX)."""
    del method
    from ..transforms.autodiff import jvp
    A, E = _inexact("expm_frechet", A, E)
    if A.shape != E.shape:
        raise ShapeError(f"expm_frechet: A and E must have the same shape, got {A.shape} and {E.shape}")
    out, tangent = jvp(expm, (_square("expm_frechet", A),), (E,))
    return (out, tangent) if compute_expm else tangent


# ----- constructions -------------------------------------------------------------------------------


def block_diag(*arrs):
    """The block-diagonal matrix with the given blocks (scalars and vectors are 1 x 1 and 1 x n blocks), as
    ``scipy.linalg.block_diag``; with no blocks, an empty ``(1, 0)`` matrix.

    >>> import fnx.numpy as fnp, fnx.scipy.linalg as sl
    >>> sl.block_diag(fnp.array([[1., 2.]]), fnp.array(3.))
    Array([[1., 2., 0.],
           [0., 0., 3.]], dtype=float32)
    """
    if not arrs:
        return fnp.zeros((1, 0))
    blocks = [fnp.atleast_2d(fnp.asarray(a)) for a in arrs]
    for i, blk in enumerate(blocks):
        if blk.ndim > 2:
            raise ShapeError(f"block_diag: argument {i} has shape {blk.shape}; blocks have at most two dimensions")
    dt = dtypes.result_type(*blocks)
    total = sum(blk.shape[1] for blk in blocks)
    rows, start = [], 0
    for blk in blocks:
        r, c = blk.shape
        rows.append(fnp.concatenate([fnp.zeros((r, start), dtype=dt), blk.astype(dt),
                                     fnp.zeros((r, total - start - c), dtype=dt)], axis=1))
        start += c
    return fnp.concatenate(rows, axis=0)


def _by_index(values, index):
    """``values[..., index]``: the matrices below are gathers, so they differentiate in their data."""
    return fnp.take(values, fnp.asarray(index, device=values.device), axis=-1)


def toeplitz(c, r=None):
    """The Toeplitz matrix with first column ``c`` and first row ``r`` (``conj(c)`` by default; ``r[0]`` is
    ignored), as ``scipy.linalg.toeplitz``; leading axes of ``c`` and ``r`` are batch axes, as in JAX.

    >>> import fnx.numpy as fnp, fnx.scipy.linalg as sl
    >>> sl.toeplitz(fnp.array([1, 2, 3]), fnp.array([1, 4, 5]))
    Array([[1, 4, 5],
           [2, 1, 4],
           [3, 2, 1]], dtype=int64)
    """
    c = fnp.atleast_1d(fnp.asarray(c))
    r = fnp.conj(c) if r is None else fnp.atleast_1d(fnp.asarray(r))
    m, n = c.shape[-1], r.shape[-1]
    values = fnp.concatenate(_joined(c[..., ::-1], r[..., 1:]), axis=-1)
    return _by_index(values, (m - 1) - np.arange(m)[:, None] + np.arange(n)[None, :])


def _joined(a, b):
    """``a`` and ``b`` with their leading (batch) axes broadcast together and one result dtype, for joining."""
    lead = np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
    dt = dtypes.result_type(a, b)
    return [fnp.broadcast_to(a, lead + a.shape[-1:]).astype(dt), fnp.broadcast_to(b, lead + b.shape[-1:]).astype(dt)]


def hankel(c, r=None):
    """The Hankel matrix with first column ``c`` and last row ``r`` (zeros by default; ``r[0]`` is ignored), as
    ``scipy.linalg.hankel``; leading axes are batch axes."""
    c = fnp.atleast_1d(fnp.asarray(c))
    r = fnp.zeros_like(c) if r is None else fnp.atleast_1d(fnp.asarray(r))
    m, n = c.shape[-1], r.shape[-1]
    values = fnp.concatenate(_joined(c, r[..., 1:]), axis=-1)
    return _by_index(values, np.arange(m)[:, None] + np.arange(n)[None, :])


def circulant(c):
    """The circulant matrix with first column ``c`` (each column the one before rolled down by one), as
    ``scipy.linalg.circulant``; leading axes are batch axes."""
    c = fnp.atleast_1d(fnp.asarray(c))
    n = c.shape[-1]
    return _by_index(c, (np.arange(n)[:, None] - np.arange(n)[None, :]) % n)


def companion(a):
    """The companion matrix of the polynomial with coefficients ``a`` (highest power first), as
    ``scipy.linalg.companion``: first row ``-a[1:] / a[0]``, ones below the diagonal."""
    a = fnp.asarray(a)
    if a.ndim != 1 or a.shape[0] < 2:
        raise ShapeError(f"companion: expected a 1-d array of at least two coefficients, got shape {a.shape}")
    if not is_traced(a) and float(np.asarray(a[0])) == 0:
        raise ValueError("companion: the leading coefficient a[0] must not be zero")
    n = a.shape[0] - 1
    first = -a[1:] / a[0]
    below = fnp.eye(n - 1, n, dtype=first.dtype) if n > 1 else fnp.zeros((0, n), dtype=first.dtype)
    return fnp.concatenate([first[None, :], below], axis=0)


def hilbert(n):
    """The ``n`` x ``n`` Hilbert matrix ``1 / (i + j + 1)``, as ``scipy.linalg.hilbert`` (default float dtype)."""
    index = np.arange(n)
    return fnp.asarray(1.0 / (index[:, None] + index[None, :] + 1), dtype=dtypes.default_float())


def dft(n, scale=None, *, dtype=None):
    """The ``n``-point discrete Fourier transform matrix ``exp(-2 pi i j k / n)``, as ``scipy.linalg.dft``;
    ``scale`` ``'sqrtn'`` divides by ``sqrt(n)``, ``'n'`` by ``n``. Complex, of the default precision."""
    if scale not in (None, "sqrtn", "n"):
        raise ValueError(f"dft: scale must be None, 'sqrtn' or 'n', got {scale!r}")
    jk = np.outer(np.arange(n), np.arange(n))
    m = np.exp(-2j * np.pi * (jk % max(n, 1)) / max(n, 1))
    m = m / {None: 1.0, "sqrtn": np.sqrt(n), "n": float(n)}[scale]
    return fnp.asarray(m, dtype=dtypes.default_complex() if dtype is None else dtype)


def hadamard(n, dtype=int):
    """The ``n`` x ``n`` Hadamard matrix of Sylvester's construction (``n`` a power of 2), as
    ``scipy.linalg.hadamard``."""
    if not isinstance(n, (int, np.integer)) or n < 1 or n & (n - 1):
        raise ValueError(f"hadamard: n must be a positive integer power of 2, got {n!r}")
    h = np.ones((1, 1), dtype=np.int64)
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return fnp.asarray(h, dtype=dtype)


def polar(a, side="right", *, method="qdwh", eps=None, max_iterations=None):
    """The polar decomposition ``a = u p`` (``side='right'``) or ``a = p u`` (``'left'``), ``u`` with
    orthonormal columns or rows and ``p`` Hermitian positive semi-definite, as ``jax.scipy.linalg.polar``
    and ``scipy.linalg.polar``. Computed from the SVD whatever ``method`` names ('qdwh' or 'svd'); the
    result is the same decomposition. Differentiable where the singular values are distinct."""
    if side not in ("right", "left"):
        raise ValueError(f"polar: side must be 'right' or 'left', got {side!r}")
    if method not in ("qdwh", "svd"):
        raise ValueError(f"polar: method must be 'qdwh' or 'svd', got {method!r}")
    a = fnp.asarray(a)
    if a.ndim != 2:
        raise ShapeError(f"polar: expected a matrix, got shape {a.shape}")
    w, s, vh = fnp.linalg.svd(a, full_matrices=False)
    u = w @ vh
    if side == "right":
        p = (fnp.conj(vh).T * s) @ vh
    else:
        p = (w * s) @ fnp.conj(w).T
    return u, p
