"""fnx.linalg: torch.linalg's names, arguments and results, checked against numpy's linear algebra, for
gradients, and against PyTorch itself where it is installed."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import fnx
import fnx.numpy as fnp
from fnx.errors import ShapeError
from fnx.testing import check_grads, check_vmap

L = fnx.linalg
rng = np.random.default_rng(0)
A = rng.standard_normal((3, 3)) + 3 * np.eye(3)
M = rng.standard_normal((5, 3))
X3 = rng.standard_normal((2, 3, 4))


def eq(got, want, rtol=1e-6, atol=1e-8):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


@given(st.sampled_from([2, 1, 0, 3.5, np.inf, -np.inf]), st.sampled_from([None, 0, 1, -1, (0, 2)]), st.booleans())
def test_vector_norm(ord, dim, keepdim):
    got = L.vector_norm(fnp.asarray(X3), ord=ord, dim=dim, keepdim=keepdim)
    flat = dim is None
    axes = tuple(range(3)) if flat else (dim if isinstance(dim, tuple) else (dim,))
    moved = np.moveaxis(X3, axes, tuple(range(-len(axes), 0))).reshape(
        tuple(s for i, s in enumerate(X3.shape) if i not in [a % 3 for a in axes]) + (-1,))
    want = np.linalg.norm(moved, ord=ord, axis=-1)
    if keepdim:
        want = np.expand_dims(want, tuple(sorted(a % 3 for a in axes)))
    eq(got, want)


@given(st.sampled_from(["fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf]), st.sampled_from([(-2, -1), (0, 2), (2, 0)]),
       st.booleans())
def test_matrix_norm(ord, dim, keepdim):
    got = L.matrix_norm(fnp.asarray(X3), ord=ord, dim=dim, keepdim=keepdim)
    eq(got, np.linalg.norm(X3, ord=ord, axis=dim, keepdims=keepdim))


def test_norm_dispatch():
    x = fnp.asarray(M)
    eq(L.norm(x), np.linalg.norm(M.ravel()))  # no ord, no dim: every element
    eq(L.norm(x, ord=2), np.linalg.norm(M, 2))  # 2-d with ord: the matrix norm
    eq(L.norm(x, dim=1), np.linalg.norm(M, axis=1))
    eq(L.norm(x, ord=1, dim=(0, 1)), np.linalg.norm(M, 1))
    eq(L.norm(fnp.asarray(X3), ord=np.inf, dim=-1, keepdim=True), np.linalg.norm(X3, np.inf, axis=-1, keepdims=True))
    with pytest.raises(ShapeError, match="1-d or 2-d"):
        L.norm(fnp.asarray(X3), ord=2)
    with pytest.raises(ShapeError, match="two"):
        L.matrix_norm(fnp.asarray(X3), dim=(1, 1))


def test_two_norm_gradient_is_zero_at_zero():
    g = fnx.grad(lambda v: L.vector_norm(v, dim=1).sum() + L.norm(v * 0.0))(fnp.zeros((2, 3)))
    assert np.isfinite(np.asarray(g)).all() and float(np.abs(np.asarray(g)).sum()) == 0.0


def test_solve_vectors_matrices_and_left():
    B = rng.standard_normal((3, 2))
    a = fnp.asarray(A)
    eq(L.solve(a, fnp.asarray(B)), np.linalg.solve(A, B))
    eq(L.solve(a, fnp.asarray(B[:, 0])), np.linalg.solve(A, B[:, 0]))
    eq(L.solve(a, fnp.asarray(B.T), left=False), B.T @ np.linalg.inv(A))
    AA = rng.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    bv = rng.standard_normal((2, 3))  # shape A.shape[:-1]: a batch of vectors
    eq(L.solve(fnp.asarray(AA), fnp.asarray(bv)), np.stack([np.linalg.solve(AA[i], bv[i]) for i in range(2)]))
    eq(L.solve(fnp.asarray(AA), fnp.asarray(B[:, 0])), np.stack([np.linalg.solve(AA[i], B[:, 0]) for i in range(2)]))
    with pytest.raises(ShapeError, match="square"):
        L.solve(fnp.asarray(M), fnp.asarray(M))


def test_solve_triangular_reads_one_triangle():
    B = rng.standard_normal((3, 2))
    upper = np.triu(A)
    eq(L.solve_triangular(fnp.asarray(A), fnp.asarray(B), upper=True), np.linalg.solve(upper, B))
    unit = np.tril(A, -1) + np.eye(3)
    eq(L.solve_triangular(fnp.asarray(A), fnp.asarray(B), upper=False, unitriangular=True), np.linalg.solve(unit, B))
    eq(L.solve_triangular(fnp.asarray(A), fnp.asarray(B.T), upper=True, left=False), B.T @ np.linalg.inv(upper))


def test_decompositions_return_pytorchs_named_tuples():
    a = fnp.asarray(A)
    sign, logabsdet = L.slogdet(-a)
    assert L.slogdet(a)._fields == ("sign", "logabsdet")
    eq(sign, np.linalg.slogdet(-A)[0])
    eq(logabsdet, np.linalg.slogdet(-A)[1])
    sym = A @ A.T
    w, v = L.eigh(fnp.asarray(sym))
    eq(w, np.linalg.eigvalsh(sym))
    eq(np.asarray(v) @ np.diag(np.asarray(w)) @ np.asarray(v).T, sym)
    eq(L.eigvalsh(fnp.asarray(sym), UPLO="U"), np.linalg.eigvalsh(sym, UPLO="U"))
    U, S, Vh = L.svd(fnp.asarray(M))  # full_matrices=True by default
    assert U.shape == (5, 5) and Vh.shape == (3, 3) and L.svd(fnp.asarray(M))._fields == ("U", "S", "Vh")
    eq(np.asarray(U)[:, :3] * np.asarray(S) @ np.asarray(Vh), M)
    assert L.svd(fnp.asarray(M), full_matrices=False).U.shape == (5, 3)
    eq(L.svdvals(fnp.asarray(M)), np.linalg.svd(M, compute_uv=False))
    Q, R = L.qr(fnp.asarray(M))
    assert Q.shape == (5, 3) and R.shape == (3, 3)
    eq(np.asarray(Q) @ np.asarray(R), M)
    assert L.qr(fnp.asarray(M), mode="complete").Q.shape == (5, 5)
    Q, R = L.qr(fnp.asarray(M), mode="r")
    assert Q.shape == (0,)  # PyTorch's empty Q
    eq(np.abs(np.asarray(R)), np.abs(np.linalg.qr(M, mode="r")))
    eq(L.cholesky(fnp.asarray(sym), upper=True), np.linalg.cholesky(sym).T)
    assert L.eigvals(fnp.asarray(A)).dtype == np.complex128
    eq(np.sort_complex(np.asarray(L.eig(fnp.asarray(A)).eigenvalues)), np.sort_complex(np.linalg.eigvals(A)))
    with pytest.raises(ValueError, match="driver"):
        L.svd(fnp.asarray(M), driver="gesvd")


def test_inverse_family():
    a = fnp.asarray(A)
    eq(L.inv(a), np.linalg.inv(A))
    eq(L.det(a), np.linalg.det(A))
    eq(L.matrix_power(a, -2), np.linalg.matrix_power(A, -2))
    eq(L.pinv(fnp.asarray(M)), np.linalg.pinv(M))
    eq(L.cond(a), np.linalg.cond(A))
    with pytest.raises(L.LinAlgError):
        L.inv(fnx.zeros(2, 2, dtype=fnx.float64))
    with pytest.raises(ShapeError, match="matrix"):
        L.inv(fnx.ones(3))


def test_rank_and_pinv_tolerances():
    s = np.array([4.0, 1.0, 0.1])
    U, _ = np.linalg.qr(rng.standard_normal((5, 3)))
    V, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    m = U * s @ V.T
    x = fnp.asarray(m)
    assert int(L.matrix_rank(x)) == 3 and L.matrix_rank(x).dtype == np.int64
    assert int(L.matrix_rank(x, atol=0.5)) == 2
    assert int(L.matrix_rank(x, atol=0.05)) == 3  # atol alone: rtol is 0, so 0.1 counts
    assert int(L.matrix_rank(x, rtol=0.2)) == 2  # 0.2 * 4 = 0.8
    assert int(L.matrix_rank(x, atol=2.0, rtol=0.2)) == 1  # the larger of the two
    assert int(L.matrix_rank(fnp.asarray(m.T @ m), hermitian=True, atol=0.5)) == 2
    eq(L.pinv(x, atol=0.5), V[:, :2] / s[:2] @ U[:, :2].T)
    eq(L.pinv(x, rtol=0.2), V[:, :2] / s[:2] @ U[:, :2].T)


def test_lstsq_reports_what_each_driver_reports():
    B = rng.standard_normal((5, 2))
    x, res, rank, sv = np.linalg.lstsq(M, B, rcond=None)
    got = L.lstsq(fnp.asarray(M), fnp.asarray(B))  # gelsy: rank, no residuals, no singular values
    eq(got.solution, x)
    assert got.residuals.shape == (0,) and got.singular_values.shape == (0,) and int(got.rank) == 3
    got = L.lstsq(fnp.asarray(M), fnp.asarray(B), driver="gelsd")
    eq(got.residuals, res)
    eq(got.singular_values, sv)
    got = L.lstsq(fnp.asarray(M), fnp.asarray(B), driver="gels")
    assert got.rank.shape == (0,) and got.rank.dtype == np.int64
    got = L.lstsq(fnp.asarray(M), fnp.asarray(B[:, 0]), driver="gelss")
    eq(got.solution, x[:, 0])
    eq(got.residuals, res[:1])  # a vector B still reports one column's residual
    deficient = np.concatenate([M[:, :2], M[:, :1]], axis=1)
    got = L.lstsq(fnp.asarray(deficient), fnp.asarray(B), driver="gelsd")
    assert got.residuals.shape == (0,) and int(got.rank) == 2  # not full rank: no residuals
    eq(got.solution, np.linalg.pinv(deficient) @ B)  # the minimum-norm solution
    with pytest.raises(ValueError, match="driver"):
        L.lstsq(fnp.asarray(M), fnp.asarray(B), driver="magic")


def test_small_helpers():
    x = fnp.asarray(X3)
    eq(L.vander(fnx.tensor([1, 2, 3])), np.vander([1, 2, 3], increasing=True))
    assert L.vander(fnx.tensor([1, 2, 3])).dtype == np.int64
    eq(L.vander(fnp.asarray(M), N=4), np.stack([np.vander(r, 4, increasing=True) for r in M]))
    eq(L.diagonal(x, offset=1, dim1=0, dim2=2), np.diagonal(X3, 1, 0, 2))
    eq(L.vecdot(x, x, dim=1), (X3 * X3).sum(1))
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((1, 3))
    eq(L.cross(fnp.asarray(a), fnp.asarray(b)), np.cross(a, b))
    eq(L.multi_dot([fnp.asarray(M), fnp.asarray(A), fnp.asarray(M.T)]), M @ A @ M.T)
    eq(L.matmul(fnp.asarray(M), fnp.asarray(A)), M @ A)
    c = rng.standard_normal((2, 3)) + 1j * rng.standard_normal((2, 3))
    eq(L.vecdot(fnp.asarray(c), fnp.asarray(c[::-1].copy())), (np.conj(c) * c[::-1]).sum(-1))  # x conjugated
    t = rng.standard_normal((2, 3, 6)) + np.eye(6).reshape(2, 3, 6) * 3
    eq(L.tensorinv(fnp.asarray(t), ind=2), np.linalg.tensorinv(t, ind=2))
    eq(L.tensorsolve(fnp.asarray(t), fnp.asarray(M[:2, :3].copy())), np.linalg.tensorsolve(t, M[:2, :3]))


def test_gradients():
    a, m = fnp.asarray(A), fnp.asarray(M)
    sym = fnp.asarray(A @ A.T)
    check_grads(lambda x: L.solve(x, x[:, 0]) + L.inv(x).sum() + L.slogdet(x).logabsdet, (a,), order=2)
    check_grads(lambda x: L.norm(x) + L.matrix_norm(x, ord="nuc") + L.vector_norm(x, ord=3, dim=0).sum(), (m,))
    check_grads(lambda x: L.eigh(x @ x.T).eigenvalues + L.cholesky(x @ x.T + 3 * fnp.eye(3)).sum(), (a,))
    check_grads(lambda x: L.lstsq(x, x[:, :1] ** 2).solution + L.pinv(x, atol=1e-3).sum(), (m,))
    check_grads(lambda x: L.vander(x[0], N=4) + L.solve_triangular(x, x, upper=True).sum(), (a,), order=2)
    check_grads(lambda x: L.svdvals(x), (sym + fnp.diag(fnp.arange(3.0)),))


def test_vmap():
    check_vmap(lambda x: L.solve(x, x[:, 0]), (fnp.asarray(np.stack([A, A.T])),))
    check_vmap(lambda x: L.vector_norm(x, dim=0) + L.matrix_norm(x)[None], (fnp.asarray(X3),))


# ----- against PyTorch itself ----------------------------------------------------------------------

def _table(T):
    t = T.tensor
    a, m, x = t(A), t(M), t(X3)
    B = t(rng.standard_normal((5, 2)))
    return {
        "norm": T.linalg.norm(m), "norm2": T.linalg.norm(m, ord=2), "norm d": T.linalg.norm(x, dim=(0, 2)),
        "vector_norm": T.linalg.vector_norm(x, ord=0, dim=(0, 1), keepdim=True),
        "matrix_norm": T.linalg.matrix_norm(x, ord=-2, dim=(2, 0)), "solve": T.linalg.solve(a, m.T, left=True),
        "solve left": T.linalg.solve(a, m, left=False), "solve v": T.linalg.solve(a, a[0]),
        "slogdet": T.linalg.slogdet(-a).sign, "eigvalsh": T.linalg.eigvalsh(a @ a.T),
        "svdvals": T.linalg.svdvals(m), "qr r": T.linalg.qr(m, mode="r").R.abs(), "pinv": T.linalg.pinv(m, atol=1.0),
        "rank": T.linalg.matrix_rank(m, rtol=0.4), "lstsq": T.linalg.lstsq(m, B, driver="gelsd").residuals,
        "lstsq sol": T.linalg.lstsq(m, B).solution, "lstsq rank": T.linalg.lstsq(m, B).rank,
        "vander": T.linalg.vander(t([1, 2, 3]), N=5), "cross": T.linalg.cross(m[:1], m),
        "diagonal": T.linalg.diagonal(x, offset=-1, dim1=2, dim2=0), "vecdot": T.linalg.vecdot(x, x, dim=0),
        "solve_triangular": T.linalg.solve_triangular(a, m.T, upper=False, unitriangular=True),
        "cholesky": T.linalg.cholesky(a @ a.T, upper=True), "matrix_power": T.linalg.matrix_power(a, 3),
    }


def test_against_pytorch():
    torch = pytest.importorskip("torch")
    state = rng.bit_generator.state
    want = _table(torch)
    rng.bit_generator.state = state  # one B for both
    got = _table(fnx)
    for key, w in want.items():
        w = w.detach().numpy()
        g = np.asarray(got[key])
        assert g.shape == w.shape and g.dtype == w.dtype, (key, g.shape, w.shape, g.dtype, w.dtype)
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-8, err_msg=key)


def test_factorizations_read_one_triangle_and_give_hermitian_gradients_as_pytorch():
    # torch reads the lower triangle (the upper with UPLO='U' / upper=True) and its gradients are Hermitian
    A = np.array([[4., 100.], [2., 3.]])  # the upper triangle alone is not positive definite
    np.testing.assert_allclose(np.asarray(L.cholesky(fnx.tensor(A))), [[2., 0.], [1., np.sqrt(2.)]])
    np.testing.assert_allclose(np.asarray(L.cholesky(fnx.tensor(A.T), upper=True)), [[2., 1.], [0., np.sqrt(2.)]])
    np.testing.assert_allclose(np.asarray(L.eigvalsh(fnx.tensor(A))), np.linalg.eigvalsh(A, UPLO="L"))
    np.testing.assert_allclose(np.asarray(L.eigh(fnx.tensor(A), UPLO="U").eigenvalues), np.linalg.eigvalsh(A, UPLO="U"))
    x = fnx.tensor(np.array([[4., 1.], [1., 3.]]), requires_grad=True)
    L.cholesky(x).sum().backward()
    np.testing.assert_allclose(np.asarray(x.grad), [[0.20634446, 0.17462216], [0.17462216, 0.30151134]], rtol=1e-7)


def test_lu_family_with_pytorchs_pivots():
    # torch 2.14's values for [[1, 2], [3, 4]]: pivots count from 1, int32.
    a = fnp.asarray([[1.0, 2.0], [3.0, 4.0]], dtype="float64")
    LU, pivots = fnx.linalg.lu_factor(a)
    np.testing.assert_allclose(LU, [[3.0, 4.0], [1 / 3, 2 / 3]])
    assert pivots.tolist() == [2, 2] and pivots.dtype == np.int32
    assert fnx.linalg.lu_factor_ex(a).info.tolist() == 0
    P, L, U = fnx.linalg.lu(a)
    np.testing.assert_allclose(np.asarray(P) @ np.asarray(L) @ np.asarray(U), a)
    b = fnp.asarray([[1.0], [2.0]], dtype="float64")
    np.testing.assert_allclose(fnx.linalg.lu_solve(LU, pivots, b), [[0.0], [0.5]], atol=1e-15)
    np.testing.assert_allclose(fnx.linalg.lu_solve(LU, pivots, b, adjoint=True), [[1.0], [0.0]], atol=1e-15)
    np.testing.assert_allclose(fnx.linalg.lu_solve(LU, pivots, fnp.asarray([[1.0, 2.0]], dtype="float64"),
                                                   left=False), [[1.0, 0.0]], atol=1e-15)
    x = fnx.tensor(np.asarray(a), requires_grad=True)  # differentiable through the factorisation, as torch's
    fnx.linalg.lu_solve(*fnx.linalg.lu_factor(x), b).sum().backward()
    np.testing.assert_allclose(x.grad, -np.linalg.inv(np.asarray(a)).T @ np.ones((2, 1)) @ np.array([[0.0, 0.5]]),
                               atol=1e-12)


# ----- the _ex forms: LAPACK's info instead of an error -------------------------------------------
#
# The expected values are PyTorch 2.14's (CPU): info per matrix, and what LAPACK leaves in the result of a
# matrix that failed (the partial Cholesky factor with its pivot unrooted; a singular solve's infinities).

NOT_PD = np.array([[[1.0, 2.0], [2.0, 1.0]], [[2.0, 0.0], [0.0, 2.0]], [[1.0, 0.0], [0.0, -1.0]]], np.float32)
SINGULAR = np.array([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 0.0], [0.0, 2.0]], [[0.0, 0.0], [0.0, 1.0]],
                     [[1.0, 1.0], [0.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]]], np.float32)
RHS = np.arange(20.0, dtype=np.float32).reshape(5, 2, 2)


def test_cholesky_ex_gives_info_and_lapacks_partial_factor_as_pytorch():
    L_, info = L.cholesky_ex(fnp.asarray(NOT_PD))
    assert info.dtype == np.int32 and info.tolist() == [2, 0, 2]
    eq(L_, [[[1, 0], [2, -3]], [[2 ** 0.5, 0], [0, 2 ** 0.5]], [[1, 0], [0, -1]]])
    eq(L.cholesky_ex(fnp.asarray(NOT_PD), upper=True).L, np.swapaxes(np.asarray(L_), -1, -2))
    ok = L.cholesky_ex(fnp.asarray(A @ A.T))
    assert ok.info.shape == () and int(ok.info) == 0
    eq(ok.L, np.linalg.cholesky(A @ A.T))
    with pytest.raises(RuntimeError, match=r"linalg.cholesky_ex: \(Batch element 0\): .*leading minor of order 2 is "
                                           r"not positive-definite"):
        L.cholesky_ex(fnp.asarray(NOT_PD), check_errors=True)


def test_factorizations_that_fail_in_a_stack_keep_lapacks_values_for_the_others():
    # A failing matrix sends the whole stack through fnx's own LAPACK steps: the others must still be right.
    spd = np.stack([m @ m.T + np.eye(4) for m in rng.standard_normal((3, 4, 4))])
    spd[1, 2, 2] = -50.0
    info, factor = fnp.linalg.cholesky_info_p.bind(fnp.asarray(spd))
    assert info.tolist() == [0, 3, 0]
    eq(np.asarray(factor)[[0, 2]], np.linalg.cholesky(spd[[0, 2]]), rtol=1e-12)
    square = rng.standard_normal((3, 4, 4))
    square[1, 2] = 0.0  # exactly singular: its last pivot is exactly 0
    b = rng.standard_normal((3, 4, 2))
    for transpose in (False, True):
        info, x = fnp.linalg.solve_info_p.bind(fnp.asarray(square), fnp.asarray(b), transpose=transpose)
        assert info.tolist() == [0, 4, 0]
        good = np.swapaxes(square, -1, -2)[[0, 2]] if transpose else square[[0, 2]]
        eq(np.asarray(x)[[0, 2]], np.linalg.solve(good, b[[0, 2]]), rtol=1e-10)


def test_inv_ex_and_solve_ex_give_info_and_lapacks_infinities_as_pytorch():
    inverse, info = L.inv_ex(fnp.asarray(SINGULAR[:3]))
    assert info.dtype == np.int32 and info.tolist() == [2, 0, 1]
    eq(inverse, [[[-np.inf, np.inf], [np.inf, -np.inf]], [[0.5, 0], [0, 0.5]], [[np.inf, np.nan], [0, 1]]])
    result, info = L.solve_ex(fnp.asarray(SINGULAR), fnp.asarray(RHS))
    assert info.tolist() == [2, 0, 1, 2, 1]
    eq(result, np.array([np.inf, np.inf, -np.inf, -np.inf, 2, 2.5, 3, 3.5, np.inf, np.inf, 10, 11, -np.inf, -np.inf,
                         np.inf, np.inf, -np.inf, -np.inf, 18, 19]).reshape(5, 2, 2))
    result, info = L.solve_ex(fnp.asarray(SINGULAR), fnp.asarray(RHS), left=False)  # A is factored, not A^T
    assert info.tolist() == [2, 0, 1, 2, 1]
    eq(result, np.array([np.inf, -np.inf, -np.inf, np.inf, 2, 2.5, 3, 3.5, np.nan, np.nan, np.nan, np.nan, np.nan,
                         np.inf, np.nan, np.inf, np.nan, -np.inf, np.nan, -np.inf]).reshape(5, 2, 2))
    vector, info = L.solve_ex(fnp.asarray(A), fnp.asarray([1.0, 2.0, 3.0]))
    eq(vector, np.linalg.solve(A, [1.0, 2.0, 3.0]))
    assert int(info) == 0
    with pytest.raises(RuntimeError, match=r"linalg.inv_ex: \(Batch element 0\): The diagonal element 2 is zero"):
        L.inv_ex(fnp.asarray(SINGULAR), check_errors=True)
    with pytest.raises(RuntimeError, match=r"linalg.solve_ex: \(Batch element 0\): The solver failed"):
        L.solve_ex(fnp.asarray(SINGULAR), fnp.asarray(RHS), check_errors=True)


def test_failed_factorizations_raise_pytorchs_errors_naming_the_minor_or_pivot():
    from fnx.errors import FactorizationError
    with pytest.raises(FactorizationError, match=r"^linalg.cholesky: The factorization .* order 2 is not"):
        L.cholesky(fnp.asarray(NOT_PD[0]))
    with pytest.raises(RuntimeError, match=r"^linalg.inv: \(Batch element 1\): The diagonal element 1 is zero"):
        L.inv(fnp.asarray(SINGULAR[1:]))
    with pytest.raises(np.linalg.LinAlgError, match=r"^linalg.solve: The solver failed because the input matrix is "
                                                    r"singular"):
        L.solve(fnp.asarray(SINGULAR[0]), fnp.ones(2))


def test_ex_forms_differentiate_where_they_succeed_and_map_under_vmap_and_jit():
    spd = fnp.asarray(A @ A.T)
    check_grads(lambda a: L.cholesky_ex((a + a.T) / 2).L, (spd,), order=1)
    check_grads(lambda a: L.inv_ex(a).inverse, (fnp.asarray(A),), order=1)
    check_grads(lambda a, b: L.solve_ex(a, b, left=False).result, (fnp.asarray(A), fnp.asarray(M)), order=1)
    stack = fnp.asarray(NOT_PD.astype(np.float64))
    for f in (lambda a: L.cholesky_ex(a), lambda a: L.inv_ex(a)):
        want = f(stack)
        for got in (fnx.vmap(f)(stack), fnx.jit(f)(stack)):
            for g, w in zip(got, want):
                np.testing.assert_array_equal(g, w)
