"""fnx.scipy.linalg: factorizations checked by what defines them (P L U = A with L unit lower and U upper, a solve
solves), expm against its series and its identities, derivatives against central differences, vmap and jit against
a loop, and (where installed) SciPy and JAX; fnx.linalg.matrix_exp and fnx.matrix_exp are expm under PyTorch's name.

SciPy and JAX are test oracles only: a comparison that needs one skips when it is missing."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import fnx
import fnx.numpy as fnp
import fnx.scipy.linalg as sl
from fnx.errors import DTypeError, ShapeError
from fnx.testing import check_grads, check_vmap

rng = np.random.default_rng(0)


def eq(got, want, rtol=1e-10, atol=1e-12):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def matrices(min_side=1, max_side=5, square=False, batch=False):
    """(seed, shape) pairs for float64 standard-normal matrices."""
    side = st.integers(min_side, max_side)
    shape = side.map(lambda n: (n, n)) if square else st.tuples(side, side)
    if batch:
        shape = st.tuples(st.integers(1, 3), shape).map(lambda p: (p[0],) + p[1])
    return st.tuples(st.integers(0, 2 ** 16), shape).map(lambda p: np.random.default_rng(p[0]).standard_normal(p[1]))


# ----- LU -------------------------------------------------------------------------------------------


@given(matrices(batch=st.booleans()))
def test_lu_reconstructs_with_partial_pivoting(a):
    p, low, up = (np.asarray(m) for m in sl.lu(a))
    m, n = a.shape[-2:]
    k = min(m, n)
    assert p.shape == a.shape[:-2] + (m, m) and low.shape == a.shape[:-2] + (m, k) and up.shape == a.shape[:-2] + (k, n)
    eq(p @ low @ up, a, atol=1e-12)
    eq(np.sort(p, axis=-1)[..., -1], np.ones(a.shape[:-1]))  # a permutation: one 1 per row and column
    eq(p.sum(axis=-2), np.ones(a.shape[:-2] + (m,)))
    eq(np.triu(low[..., :k, :], 1), np.zeros(low[..., :k, :].shape))
    eq(np.diagonal(low, axis1=-2, axis2=-1), np.ones(a.shape[:-2] + (k,)))
    eq(np.tril(up, -1), np.zeros(up.shape))
    assert np.all(np.abs(low) <= 1 + 1e-12)  # partial pivoting keeps the multipliers at most 1
    pl, up2 = sl.lu(a, permute_l=True)
    eq(pl, p @ low)
    eq(up2, up)


@given(matrices(batch=st.booleans()))
def test_lu_factor_packs_lu(a):
    packed, piv = sl.lu_factor(a)
    assert piv.dtype == np.int32 and piv.shape == a.shape[:-2] + (min(a.shape[-2:]),)
    p, low, up = (np.asarray(m) for m in sl.lu(a))
    k = min(a.shape[-2:])
    packed = np.asarray(packed)
    eq(np.tril(packed, -1)[..., :, :k], np.tril(low, -1))
    eq(np.triu(packed)[..., :k, :], up)
    rows = np.broadcast_to(np.arange(a.shape[-2]), a.shape[:-1]).copy()  # LAPACK's swaps, one by one
    for j in range(k):
        for r, pv in zip(rows.reshape(-1, a.shape[-2]), np.asarray(piv).reshape(-1, k)):
            r[[j, pv[j]]] = r[[pv[j], j]]
    eq(np.take_along_axis(a, rows[..., None], axis=-2), low @ up, atol=1e-12)


def test_lu_pivots_like_lapack():
    """The first largest entry of the column is the pivot; a zero column is skipped, as getrf does."""
    packed, piv = sl.lu_factor(np.array([[1.0, 2.0], [-3.0, 4.0], [3.0, 0.0]]))
    eq(piv, [1, 2])
    eq(packed, [[-3.0, 4.0], [-1.0, 4.0], [-1 / 3, 10 / 12]])
    packed, piv = sl.lu_factor(np.array([[0.0, 1.0], [0.0, 2.0]]))
    eq(piv, [0, 1])
    eq(packed, [[0.0, 1.0], [0.0, 2.0]])


@given(matrices(square=True, batch=st.booleans()), st.sampled_from([0, 1, 2, "N", "T", "C"]), st.booleans())
def test_lu_solve(a, trans, vector):
    a = a + 3 * np.eye(a.shape[-1])
    b = rng.standard_normal(a.shape[-1:] if vector else a.shape[:-1] + (2,))
    x = np.asarray(sl.lu_solve(sl.lu_factor(a), b, trans=trans))
    op = a if trans in (0, "N") else np.swapaxes(a, -1, -2)
    eq(op @ x if not vector else (op @ x[..., None])[..., 0], np.broadcast_to(b, x.shape), atol=1e-10)


# ----- triangular and Cholesky solves -----------------------------------------------------------------


@given(matrices(square=True, batch=st.booleans()), st.sampled_from([0, 1, 2]), st.booleans(), st.booleans(),
       st.booleans())
def test_solve_triangular(a, trans, lower, unit, vector):
    a = a + 4 * np.eye(a.shape[-1]) * np.sign(np.diagonal(a, axis1=-2, axis2=-1) + 1e-3)[..., None]
    t = np.tril(a) if lower else np.triu(a)
    if unit:
        t = t - np.eye(a.shape[-1]) * t + np.eye(a.shape[-1])
    op = t if trans == 0 else np.swapaxes(t, -1, -2)
    b = rng.standard_normal(a.shape[-1:] if vector else a.shape[:-1] + (3,))
    want = np.linalg.solve(op, b if not vector else np.broadcast_to(b, a.shape[:-1])[..., None])
    got = sl.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit)
    eq(got, want[..., 0] if vector else want, rtol=1e-9, atol=1e-11)


@given(matrices(square=True, batch=st.booleans()), st.booleans())
def test_cholesky_and_cho_solve(m, lower):
    n = m.shape[-1]
    a = m @ np.swapaxes(m, -1, -2) + n * np.eye(n)
    c = np.asarray(sl.cholesky(a, lower=lower))
    eq(c, np.tril(c) if lower else np.triu(c))
    ct = np.swapaxes(c, -1, -2)
    eq(c @ ct if lower else ct @ c, a, rtol=1e-10)
    factor = sl.cho_factor(a, lower=lower)
    assert factor[1] is lower
    b = rng.standard_normal(a.shape[:-1] + (2,))
    eq(sl.cho_solve(factor, b), np.linalg.solve(a, b), rtol=1e-9)
    eq(sl.cho_solve(factor, b[..., 0]) if a.ndim == 2 else np.linalg.solve(a, b)[..., 0], np.linalg.solve(a, b)[..., 0],
       rtol=1e-9)


def test_solve_and_its_arguments():
    a = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    spd = a @ a.T
    b = rng.standard_normal((3, 2))
    for assume_a in ("gen", "sym", "her", "pos", "general", "positive definite"):
        eq(sl.solve(spd, b, assume_a=assume_a), np.linalg.solve(spd, b), rtol=1e-9)
    eq(sl.solve(a, b[:, 0]), np.linalg.solve(a, b[:, 0]), rtol=1e-10)
    with pytest.raises(ValueError, match="assume_a"):
        sl.solve(a, b, assume_a="banana")
    with pytest.raises(ShapeError, match="rows"):
        sl.solve(a, np.ones(4))
    with pytest.raises(ShapeError, match="square"):
        sl.solve_triangular(np.ones((2, 3)), np.ones(2))
    with pytest.raises(ValueError, match="trans"):
        sl.solve_triangular(a, b, trans=3)
    eq(sl.inv(a), np.linalg.inv(a))
    eq(sl.det(a), np.linalg.det(a))


# ----- eigh, svd, qr, block_diag ------------------------------------------------------------------------


def test_eigh_svd_qr():
    m = rng.standard_normal((4, 4))
    s = m + m.T
    w, v = sl.eigh(s)
    eq(np.asarray(v) @ np.diag(np.asarray(w)) @ np.asarray(v).T, s, rtol=1e-10)
    eq(sl.eigh(s, eigvals_only=True), np.linalg.eigvalsh(s))
    eq(sl.eigh(s, lower=False, eigvals_only=True), np.linalg.eigvalsh(s))
    with pytest.raises(NotImplementedError):
        sl.eigh(s, b=np.eye(4))
    a = rng.standard_normal((5, 3))
    u, sv, vh = sl.svd(a)
    assert (u.shape, sv.shape, vh.shape) == ((5, 5), (3,), (3, 3))
    eq(np.asarray(u)[:, :3] * np.asarray(sv) @ np.asarray(vh), a)
    eq(sl.svd(a, compute_uv=False), np.linalg.svd(a, compute_uv=False))
    assert [x.shape for x in sl.svd(a, full_matrices=False)] == [(5, 3), (3,), (3, 3)]
    q, r = sl.qr(a)
    assert (q.shape, r.shape) == ((5, 5), (5, 3))
    eq(np.asarray(q) @ np.asarray(r), a)
    q, r = sl.qr(a, mode="economic")
    assert (q.shape, r.shape) == ((5, 3), (3, 3))
    (r_only,) = sl.qr(a, mode="r")
    assert r_only.shape == (5, 3)
    with pytest.raises(NotImplementedError):
        sl.qr(a, pivoting=True)


def test_block_diag():
    got = sl.block_diag(np.ones((2, 3)), 2.0, np.arange(3.0))
    want = np.zeros((4, 7))
    want[:2, :3], want[2, 3], want[3, 4:] = 1.0, 2.0, np.arange(3.0)
    eq(got, want)
    assert sl.block_diag().shape == (1, 0)
    assert sl.block_diag(np.ones(2, dtype=np.int64), np.ones(1, dtype=np.float32)).dtype == np.float64
    with pytest.raises(ShapeError):
        sl.block_diag(np.ones((2, 2, 2)))


# ----- expm ---------------------------------------------------------------------------------------------


def _expm_taylor(a):
    """exp(a) by scaling, a 30-term Taylor series and squaring, in numpy: an oracle independent of Padé."""
    s = max(0, int(math.ceil(math.log2(max(np.abs(a).sum(axis=0).max(), 1e-300)))) + 1)
    x = a / 2.0 ** s
    term, out = np.eye(a.shape[-1]), np.eye(a.shape[-1])
    for k in range(1, 31):
        term = term @ x / k
        out = out + term
    for _ in range(s):
        out = out @ out
    return out


# every Padé degree (3, 5, 7, 9, 13, and 13 with squarings) in double, and (3, 5, 7) in single precision
NORMS = [1e-3, 0.1, 0.6, 1.5, 3.0, 40.0]


@pytest.mark.parametrize("norm", NORMS)
@given(seed=st.integers(0, 2 ** 16), n=st.integers(1, 5))
def test_expm_matches_a_taylor_series(norm, seed, n):
    m = np.random.default_rng(seed).standard_normal((n, n))
    a = m * norm / np.abs(m).sum(axis=0).max()
    want = _expm_taylor(a)
    scale = np.abs(want).max()
    eq(sl.expm(a), want, rtol=1e-12 * max(1, norm), atol=1e-12 * scale * max(1, norm))
    eq(sl.expm(a.astype(np.float32)), want, rtol=0, atol=2e-5 * scale * max(1, norm))


def test_expm_closed_forms():
    t = 0.7
    eq(sl.expm(np.array([[0.0, t], [-t, 0.0]])), [[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]])
    eq(sl.expm(np.diag([-2.0, 0.0, 3.0])), np.diag(np.exp([-2.0, 0.0, 3.0])), rtol=1e-13)
    nil = np.triu(rng.standard_normal((4, 4)), 1)  # nilpotent: the series stops at nil^3
    eq(sl.expm(nil), np.eye(4) + nil + nil @ nil / 2 + nil @ nil @ nil / 6, rtol=1e-13, atol=1e-14)
    eq(sl.expm(nil, upper_triangular=True), sl.expm(nil), rtol=1e-13, atol=1e-14)
    eq(sl.expm(np.zeros((0, 0))), np.zeros((0, 0)))
    eq(sl.expm(np.zeros((3, 3))), np.eye(3))


@given(matrices(square=True))
def test_expm_identities(a):
    e = np.asarray(sl.expm(a))
    eq(np.asarray(sl.expm(-a)) @ e, np.eye(a.shape[0]), rtol=1e-9, atol=1e-9)
    eq(np.linalg.det(e), np.exp(np.trace(a)), rtol=1e-9)
    eq(sl.expm(2 * a), e @ e, rtol=1e-9, atol=1e-9 * np.abs(e @ e).max())


def test_expm_batches_per_matrix_and_gives_nans_past_max_squarings():
    a = rng.standard_normal((5, 3, 3)) * np.array([1e-3, 0.5, 3.0, 50.0, 1e6])[:, None, None]
    a[4] -= a[4].T  # skew-symmetric: its exponential is a rotation, so more squarings give finite values
    got = np.asarray(sl.expm(a))
    for i in range(4):
        eq(got[i], sl.expm(a[i]), rtol=1e-12, atol=0)
    assert np.isnan(got[4]).all()
    rotation = np.asarray(sl.expm(a[4], max_squarings=40))
    eq(rotation @ rotation.T, np.eye(3), atol=1e-6)
    check_vmap(sl.expm, (a[:4],), rtol=1e-12, atol=1e-12)
    vm = np.asarray(fnx.vmap(sl.expm)(a))  # under vmap every degree is computed and the right one selected
    eq(vm[:4], got[:4], rtol=1e-12, atol=1e-12 * np.abs(got[:4]).max())
    assert np.isnan(vm[4]).all()
    eq(fnx.jit(sl.expm)(a[:4]), got[:4], rtol=1e-12, atol=1e-12 * np.abs(got[:4]).max())


def test_expm_dtypes():
    assert sl.expm(np.eye(2, dtype=np.float32)).dtype == np.float32
    assert sl.expm(np.eye(2, dtype=np.int64)).dtype == np.float64
    assert sl.expm(np.eye(2, dtype=np.complex128)).dtype == np.complex128
    eq(sl.expm(np.array([[1j * math.pi]])), [[-1.0 + 0j]], atol=1e-14)
    with pytest.raises(DTypeError):
        sl.expm(np.eye(2, dtype=np.float16))
    with pytest.raises(ShapeError):
        sl.expm(np.ones((2, 3)))


@pytest.mark.parametrize("norm", [0.01, 0.6, 3.0, 40.0])
def test_expm_derivatives(norm):
    m = np.random.default_rng(1).standard_normal((3, 3))
    a = m * norm / np.abs(m).sum(axis=0).max()
    check_grads(sl.expm, (a,), order=2 if norm < 5 else 1, rtol=1e-5 * max(1, norm))


@pytest.mark.parametrize("norm", [0.01, 0.6, 3.0, 40.0])
def test_expm_frechet_is_the_block_exponential(norm):
    """expm([[A, E], [0, A]]) = [[expm(A), L(A, E)], [0, expm(A)]] (Higham): an independent check of the JVP."""
    r = np.random.default_rng(2)
    a = r.standard_normal((3, 3)) * norm / 3
    e = r.standard_normal((3, 3))
    big = np.asarray(sl.expm(np.block([[a, e], [np.zeros((3, 3)), a]])))
    value, deriv = sl.expm_frechet(a, e)
    scale = np.abs(big).max()
    eq(value, big[:3, :3], rtol=1e-9, atol=1e-12 * scale)
    eq(deriv, big[:3, 3:], rtol=1e-8, atol=1e-11 * scale)
    eq(sl.expm_frechet(a, e, compute_expm=False), deriv)


def test_matrix_exp_is_expm():
    a = rng.standard_normal((2, 3, 3))
    eq(fnx.linalg.matrix_exp(a), sl.expm(a), rtol=0, atol=0)
    x = fnx.tensor(a.astype(np.float32))
    eq(fnx.matrix_exp(x), sl.expm(x), rtol=0, atol=0)
    eq(x.matrix_exp(), sl.expm(x), rtol=0, atol=0)


# ----- derivatives and vmap of the factorizations ----------------------------------------------------------

A = rng.standard_normal((3, 3)) + np.diag([3.0, -3.0, 3.0])
B = rng.standard_normal((3, 2))
SPD = A @ A.T + np.eye(3)


@pytest.mark.parametrize("name,f,args", [
    ("lu", lambda a: sl.lu(a)[1] + sl.lu(a)[2], (A,)),
    ("lu_wide", lambda a: fnp.sum(sl.lu(a, permute_l=True)[1] ** 2), (rng.standard_normal((2, 4)),)),
    ("lu_solve", lambda a, b: sl.lu_solve(sl.lu_factor(a), b), (A, B)),
    ("lu_solve_T", lambda a, b: sl.lu_solve(sl.lu_factor(a), b, trans=1), (A, B)),
    ("solve_triangular", lambda a, b: sl.solve_triangular(a, b, trans=1, lower=True), (A, B)),
    # cho_factor reads one triangle and, as JAX's and PyTorch's factorizations, differentiates as for a matrix
    # known to be symmetric: checked through a symmetric matrix, where the two agree
    ("cho_solve", lambda a, b: sl.cho_solve(sl.cho_factor((a + a.T) / 2), b), (SPD, B)),
    ("cho_solve_lower", lambda a, b: sl.cho_solve(sl.cho_factor((a + a.T) / 2, lower=True), b), (SPD, B)),
    ("solve_pos", lambda a, b: sl.solve(a, b, assume_a="pos"), (SPD, B)),
], ids=lambda v: v if isinstance(v, str) else "")
def test_factorization_derivatives(name, f, args):
    check_grads(f, args, order=2 if name in ("cho_solve", "lu_solve") else 1)


def test_factorizations_vmap_and_jit():
    a = rng.standard_normal((3, 4, 4))
    b = rng.standard_normal((3, 4))
    check_vmap(lambda a: sl.lu(a), (a,))
    check_vmap(lambda a: sl.lu_factor(a), (a,))
    check_vmap(lambda a, b: sl.lu_solve(sl.lu_factor(a), b), (a, b))
    check_vmap(lambda a, b: sl.solve_triangular(a, b, lower=True), (a + 4 * np.eye(4), b))
    eq(fnx.jit(lambda a: sl.lu(a)[2])(a[0]), sl.lu(a[0])[2])


# ----- oracles: SciPy and JAX, where installed ---------------------------------------------------------


def test_against_scipy():
    spl = pytest.importorskip("scipy.linalg")
    for shape in ((4, 4), (5, 3), (3, 5)):
        a = rng.standard_normal(shape)
        for got, want in zip(sl.lu(a), spl.lu(a)):
            eq(got, want, rtol=1e-12, atol=1e-14)
        eq(sl.lu_factor(a)[0], spl.lu_factor(a)[0], rtol=1e-12, atol=1e-14)
        eq(sl.lu_factor(a)[1], spl.lu_factor(a)[1])
    a, b = A, B
    for trans in (0, 1, 2):
        eq(sl.lu_solve(sl.lu_factor(a), b, trans=trans), spl.lu_solve(spl.lu_factor(a), b, trans=trans), rtol=1e-10)
        for lower in (True, False):
            eq(sl.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=lower),
               spl.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=lower), rtol=1e-10)
    for lower in (True, False):
        eq(sl.cholesky(SPD, lower=lower), spl.cholesky(SPD, lower=lower), rtol=1e-12)
        eq(sl.cho_solve(sl.cho_factor(SPD, lower=lower), b), spl.cho_solve(spl.cho_factor(SPD, lower=lower), b),
           rtol=1e-10)
    for norm in NORMS + [300.0]:
        m = rng.standard_normal((5, 5))
        m = m * norm / np.abs(m).sum(axis=0).max()
        want = spl.expm(m)
        eq(sl.expm(m), want, rtol=1e-11 * max(1, norm), atol=1e-12 * np.abs(want).max())
    eq(sl.expm_frechet(A, B @ B.T)[1], spl.expm_frechet(A, B @ B.T)[1], rtol=1e-9)
    eq(sl.block_diag(np.ones((2, 3)), 2.0, [[1.0], [2.0]]), spl.block_diag(np.ones((2, 3)), 2.0, [[1.0], [2.0]]))


def test_against_jax():
    jax = pytest.importorskip("jax")
    jsl = pytest.importorskip("jax.scipy.linalg")
    with jax.enable_x64(True):
        for shape in ((4, 4), (5, 3)):
            a = rng.standard_normal(shape)
            for got, want in zip(sl.lu(a), jsl.lu(a)):
                eq(got, np.asarray(want), rtol=1e-12, atol=1e-14)
            eq(sl.lu_factor(a)[1], np.asarray(jsl.lu_factor(a)[1]))
        for trans in (0, 1):
            eq(sl.lu_solve(sl.lu_factor(A), B, trans=trans), np.asarray(jsl.lu_solve(jsl.lu_factor(A), B, trans=trans)),
               rtol=1e-10)
        eq(sl.cho_solve(sl.cho_factor(SPD), B), np.asarray(jsl.cho_solve(jsl.cho_factor(SPD), B)), rtol=1e-10)
        eq(sl.solve(SPD, B, assume_a="pos"), np.asarray(jsl.solve(SPD, B, assume_a="pos")), rtol=1e-10)
        for dt in (np.float64, np.float32):
            m = rng.standard_normal((6, 4, 4)) * np.array([1e-3, 0.1, 0.6, 1.5, 3.0, 40.0])[:, None, None]
            m = m.astype(dt)
            want = np.asarray(jsl.expm(m))
            tol = 1e-12 if dt == np.float64 else 1e-5
            eq(sl.expm(m), want, rtol=tol * 50, atol=tol * np.abs(want).max())
        # the same derivative as JAX's (its expm is differentiated by composition too)
        g_jax = np.asarray(jax.grad(lambda a: jax.numpy.sum(jsl.expm(a) ** 2))(A))
        g_fnx = fnx.grad(lambda a: fnp.sum(sl.expm(a) ** 2))(A)
        eq(g_fnx, g_jax, rtol=1e-9)


@pytest.mark.parametrize("name, args", [
    ("toeplitz", ([1.0, 2.0, 3.0], [9.0, 4.0, 5.0, 6.0])), ("toeplitz", ([1.0, 2.0, 3.0],)),
    ("toeplitz", ([1.0 + 1j, 2.0, 3.0 - 2j],)), ("hankel", ([1.0, 2.0, 3.0], [9.0, 4.0, 5.0, 6.0])),
    ("hankel", ([1.0, 2.0, 3.0],)), ("circulant", ([1.0, 2.0, 3.0, 4.0],)), ("companion", ([2.0, 3.0, 4.0, 5.0],)),
    ("hilbert", (4,)), ("dft", (4,)), ("hadamard", (8,)),
])
def test_special_matrices_match_scipy(name, args):
    sp = pytest.importorskip("scipy.linalg")
    ours = getattr(sl, name)(*[fnp.asarray(np.asarray(a)) if isinstance(a, list) else a for a in args])
    theirs = getattr(sp, name)(*[np.asarray(a) if isinstance(a, list) else a for a in args])
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(np.asarray(ours), theirs, rtol=1e-6, atol=1e-7)


def test_special_matrices_differentiate_and_batch():
    c, r = fnp.asarray(np.array([1.0, 2.0, 3.0])), fnp.asarray(np.array([9.0, 4.0, 5.0, 6.0]))
    check_grads(lambda c, r: sl.toeplitz(c, r), (c, r), order=2)
    check_grads(lambda c: sl.circulant(c), (c,), order=2)
    assert sl.toeplitz(fnp.ones((2, 3))).shape == (2, 3, 3) and sl.hankel(fnp.ones((2, 3))).shape == (2, 3, 3)
    assert sl.dft(4, "sqrtn").dtype == np.complex64 and sl.hilbert(3).dtype == np.float32  # the default precision
    with pytest.raises(ValueError, match="hadamard: n must be a positive integer power of 2"):
        sl.hadamard(6)
    with pytest.raises(ValueError, match="companion: the leading coefficient"):
        sl.companion(fnp.array([0.0, 1.0]))


@pytest.mark.parametrize("side", ["right", "left"])
def test_polar_decomposition(side):
    a = np.random.default_rng(0).standard_normal((4, 3))
    u, p = sl.polar(fnp.asarray(a), side)
    np.testing.assert_allclose(np.asarray(u @ p if side == "right" else p @ u), a, atol=1e-12)
    np.testing.assert_allclose(np.asarray(fnp.conj(u).T @ u), np.eye(3), atol=1e-12)  # a tall u: orthonormal columns
    assert (np.linalg.eigvalsh(np.asarray(p)) > -1e-12).all()
    sp = pytest.importorskip("scipy.linalg")
    U, P = sp.polar(a, side)
    np.testing.assert_allclose(np.asarray(u), U, atol=1e-12)
    np.testing.assert_allclose(np.asarray(p), P, atol=1e-12)
    check_grads(lambda m: sl.polar(m, side)[1], (fnp.asarray(a),), order=1)


def test_cholesky_reads_one_triangle_as_scipy():
    a = np.array([[4., 2.], [100., 3.]])  # the lower triangle alone is not positive definite
    spl = pytest.importorskip("scipy.linalg")
    eq(sl.cholesky(fnp.asarray(a)), spl.cholesky(a))
    eq(sl.cholesky(fnp.asarray(a.T), lower=True), spl.cholesky(a.T, lower=True))

