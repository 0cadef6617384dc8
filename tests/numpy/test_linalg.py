"""Linear algebra: cases for the registry-wide checks, an einsum table, and named regressions.

The strategies build matrices inside the domains where each function and its
derivative are defined: diagonally dominant (invertible, well conditioned)
squares, symmetric positive-definite matrices, symmetric matrices with
distinct eigenvalues, matrices with distinct singular values, and full-rank
rectangles. Eigen- and singular vectors are only defined up to sign, so the
cases compare sign-free products (``v * v[0]``), which are smooth.
"""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import fnx
import fnx.numpy as fnp
import fnx.nn.functional as F
from fnx.errors import ShapeError
from fnx.testing import check_grads
from .harness import Case, numpy_arrays

# ----- strategies -----------------------------------------------------------------------------

_batch = st.sampled_from([(), (2,)])


def _raw(shape):
    return numpy_arrays(st.just(tuple(shape)))


def _square(n_max=3):
    """Diagonally dominant squares (possibly a stack) with random column signs, so det < 0 happens."""
    def build(p):
        batch, n = p
        return st.tuples(_raw(batch + (n, n)), st.lists(st.booleans(), min_size=n, max_size=n)).map(
            lambda r: (0.3 * r[0] + 2.0 * np.eye(n)) * np.where(r[1], -1.0, 1.0))
    return st.tuples(_batch, st.integers(1, n_max)).flatmap(build)


def _spd(n_max=3):
    def make(r):
        b = 0.5 * r
        s = b @ np.swapaxes(b, -1, -2) + np.eye(r.shape[-1])
        return (s + np.swapaxes(s, -1, -2)) / 2
    return st.tuples(_batch, st.integers(1, n_max)).flatmap(lambda p: _raw(p[0] + (p[1], p[1])).map(make))


def _orthonormal(r):
    return np.linalg.qr(r)[0]


def _distinct_eigen(n_max=3):
    """Symmetric ``Q diag(w) Q^T`` with eigenvalues at least 0.6 apart."""
    def make(p):
        r, u = p
        q = _orthonormal(r)
        w = np.arange(u.shape[-1]) - 1.0 + 0.1 * u
        s = (q * w[..., None, :]) @ np.swapaxes(q, -1, -2)
        return (s + np.swapaxes(s, -1, -2)) / 2
    return st.tuples(_batch, st.integers(1, n_max)).flatmap(
        lambda p: st.tuples(_raw(p[0] + (p[1], p[1])), _raw(p[0] + (p[1],))).map(make))


def _distinct_singular(shape=None):
    """``U diag(s) V^T`` with singular values in [1, 3.5], at least 0.4 apart."""
    def make(p):
        r1, r2, u = p
        k = u.shape[-1]
        s = 1.0 + 0.7 * np.arange(k)[::-1] + 0.1 * u
        return (_orthonormal(r1) * s[..., None, :]) @ np.swapaxes(_orthonormal(r2), -1, -2)

    def build(p):
        batch, m, n = p
        k = min(m, n)
        return st.tuples(_raw(batch + (m, k)), _raw(batch + (n, k)), _raw(batch + (k,))).map(make)
    dims = shape if shape is not None else st.tuples(_batch, st.integers(1, 4), st.integers(1, 4))
    return dims.flatmap(build)


def _full_rank(tall=None):
    """0.3 R + 2 I (rectangular): full rank, well conditioned."""
    def build(p):
        batch, m, n = p
        if tall is True and m < n or tall is False and m > n:
            m, n = n, m
        return _raw(batch + (m, n)).map(lambda r: 0.3 * r + 2.0 * np.eye(m, n))
    return st.tuples(_batch, st.integers(1, 4), st.integers(1, 4)).flatmap(build)


def _matmul_args():
    """Operand pairs for matmul: 1-d on either side, broadcasting stacks."""
    def build(p):
        b, m, k, n, vec_a, vec_b = p
        sa = (k,) if vec_a else b.input_shapes[0] + (m, k)
        sb = (k,) if vec_b else b.input_shapes[1] + (k, n)
        return st.tuples(_raw(sa), _raw(sb))
    return st.tuples(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=2),
                     st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
                     st.booleans(), st.booleans()).flatmap(build)


def _einsum_args(n_ops, ellipsis=False):
    """(subscripts, *operands): random indices with repeats, size-1 broadcasting,
    implicit or explicit output, and optionally '...' with broadcasting stacks."""
    letters = "abcd"

    @st.composite
    def build(draw):
        sizes = {c: draw(st.integers(1, 3)) for c in letters}
        terms = [draw(st.lists(st.sampled_from(letters), max_size=3)) for _ in range(n_ops)]
        batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=n_ops, max_dims=2, max_side=2)).input_shapes \
            if ellipsis else [()] * n_ops
        ops, subs = [], []
        for t, b in zip(terms, batch):
            shape = [1 if t.count(c) == 1 and draw(st.integers(0, 4)) == 0 else sizes[c] for c in t]
            ops.append(draw(_raw(tuple(b) + tuple(shape))))
            subs.append(("..." if ellipsis else "") + "".join(t))
        used = sorted(set("".join(subs).replace(".", "")))
        spec = ",".join(subs)
        if draw(st.booleans()):
            out = draw(st.permutations(used).flatmap(lambda p: st.integers(0, len(p)).map(lambda i: p[:i])))
            spec += "->" + ("..." if ellipsis else "") + "".join(out)
        return (spec,) + tuple(ops)
    return build()


def _with_ord(arr, ords):
    return st.tuples(arr, st.sampled_from(ords))


# ----- helpers for cases ----------------------------------------------------------------------------


def _sign_free_eigh(lib):
    def f(a):
        w, v = lib.linalg.eigh(a)
        return w, v * v[..., :1, :]
    return f


def _sign_free_svd(lib):
    def f(a):
        u, s, vh = lib.linalg.svd(a, full_matrices=False)
        return s, u * vh[..., None, :, 0], vh * u[..., 0, :][..., :, None]
    return f


def _qr(lib, mode="reduced"):
    """QR normalised to a positive diagonal of R. LAPACK picks the signs by a rule that jumps
    where a column's subdiagonal is exactly zero (as in 2 I), which central differences straddle."""
    def f(a):
        q, r = lib.linalg.qr(a)
        d = lib.sign(lib.diagonal(r, axis1=-2, axis2=-1))
        r = r * d[..., :, None]
        return r if mode == "r" else (q * d[..., None, :], r)
    return f


def _distinct_magnitudes(ndim):
    """1-d or 2-d arrays whose entries, row sums and column sums of ``|x|`` are all well apart,
    so that abs, max and min meet no kink near the draw."""
    def build(shape):
        m, n = (1,) + shape if len(shape) == 1 else shape

        def make(p):
            noise, neg, rows, cols = p
            mag = 1.0 + np.asarray(cols)[None, :] + 0.3 * np.asarray(rows)[:, None] + 0.02 * noise
            return (mag * np.where(neg, -1.0, 1.0)).reshape(shape)
        return st.tuples(_raw((m, n)), hnp.arrays(bool, (m, n)), st.permutations(range(m)), st.permutations(range(n)))\
            .map(make)
    return hnp.array_shapes(min_dims=ndim, max_dims=ndim, max_side=3).flatmap(build)


# vmap checks batch these inputs by permuting rows and columns together, which keeps their structure.
_STRUCTURED = {"structured": True}

def _linear_args():
    return st.tuples(st.integers(0, 3), st.integers(1, 3), st.integers(1, 3)).flatmap(
        lambda s: st.tuples(numpy_arrays((s[0], s[1])), numpy_arrays((s[2], s[1])), numpy_arrays((s[2],))))


CASES = [
    Case("matmul", fnp.matmul, np.matmul, _matmul_args(), diff=(0, 1)),
    Case("linear", F.linear, lambda x, w, b: x @ w.T + b, _linear_args(), diff=(0, 1, 2)),
    Case("einsum", lambda s, a: fnp.einsum(s, a), lambda s, a: np.einsum(s, a), _einsum_args(1), diff=(1,),
         name="einsum_1"),
    Case("einsum", lambda s, a, b: fnp.einsum(s, a, b), lambda s, a, b: np.einsum(s, a, b), _einsum_args(2),
         diff=(1, 2), name="einsum_2"),
    Case("einsum", lambda s, a, b, c: fnp.einsum(s, a, b, c), lambda s, a, b, c: np.einsum(s, a, b, c),
         _einsum_args(3), diff=(1, 2, 3), name="einsum_3"),
    Case("einsum", lambda s, a, b: fnp.einsum(s, a, b), lambda s, a, b: np.einsum(s, a, b),
         _einsum_args(2, ellipsis=True), diff=(1, 2), name="einsum_ellipsis"),
    Case("inv", fnp.linalg.inv, np.linalg.inv, st.tuples(_square()), extra=_STRUCTURED),
    Case("solve", fnp.linalg.solve, np.linalg.solve,
         _square().flatmap(lambda a: st.tuples(st.just(a), _raw(a.shape[:-1] + (2,)))), diff=(0, 1),
         extra=_STRUCTURED),
    Case("solve", fnp.linalg.solve, np.linalg.solve,
         _square().flatmap(lambda a: st.tuples(st.just(a), _raw(a.shape[-1:]))), diff=(0, 1), name="solve_vector",
         extra=_STRUCTURED),
    Case("det", fnp.linalg.det, np.linalg.det, st.tuples(_square()), extra=_STRUCTURED),
    Case("det_cofactor", fnp.linalg.cofactor_p.bind,
         lambda x: np.linalg.det(x)[..., None, None] * np.swapaxes(np.linalg.inv(x), -1, -2), st.tuples(_square()),
         extra=_STRUCTURED),
    Case("slogdet", fnp.linalg.slogdet, np.linalg.slogdet, st.tuples(_square()), extra=_STRUCTURED),
    Case("cholesky", fnp.linalg.cholesky, np.linalg.cholesky, st.tuples(_spd()), extra=_STRUCTURED),
    Case("cholesky", lambda a: fnp.linalg.cholesky(a, upper=True), lambda a: np.linalg.cholesky(a, upper=True),
         st.tuples(_spd()), name="cholesky_upper", order=1, extra=_STRUCTURED),
    Case("cholesky_info", fnp.linalg.cholesky_info_p.bind,
         lambda a: (np.zeros(a.shape[:-2], np.int32), np.linalg.cholesky(a)), st.tuples(_spd()), grad=False),
    Case("solve_info", lambda a, b: fnp.linalg.solve_info_p.bind(a, b, transpose=False),
         lambda a, b: (np.zeros(a.shape[:-2], np.int32), np.linalg.solve(a, b)),
         _square().flatmap(lambda a: st.tuples(st.just(a), _raw(a.shape[:-1] + (2,)))), grad=False),
    Case("solve_info", lambda a, b: fnp.linalg.solve_info_p.bind(a, b, transpose=True),
         lambda a, b: (np.zeros(a.shape[:-2], np.int32), np.linalg.solve(np.swapaxes(a, -1, -2), b)),
         _square().flatmap(lambda a: st.tuples(st.just(a), _raw(a.shape[:-1] + (2,)))), grad=False,
         name="solve_info_transposed"),
    Case("qr", _qr(fnp), _qr(np), st.tuples(_full_rank(tall=True)), atol=1e-8, extra=_STRUCTURED),
    Case("qr", _qr(fnp), _qr(np), st.tuples(_full_rank(tall=False)), atol=1e-8, name="qr_wide", extra=_STRUCTURED),
    Case("qr", _qr(fnp, "r"), _qr(np, "r"), st.tuples(_full_rank()), atol=1e-8, name="qr_r", order=1,
         extra=_STRUCTURED),
    Case("eigh", _sign_free_eigh(fnp), _sign_free_eigh(np), st.tuples(_distinct_eigen()), atol=1e-8,
         extra=_STRUCTURED),
    Case("eigvalsh", fnp.linalg.eigvalsh, np.linalg.eigvalsh, st.tuples(_distinct_eigen()), atol=1e-8,
         extra=_STRUCTURED),
    Case("svd", _sign_free_svd(fnp), _sign_free_svd(np), st.tuples(_distinct_singular()), atol=1e-8,
         extra=_STRUCTURED),
    Case("svdvals", fnp.linalg.svdvals, np.linalg.svdvals, st.tuples(_distinct_singular()), atol=1e-8,
         extra=_STRUCTURED),
    Case("pinv", fnp.linalg.pinv, np.linalg.pinv, st.tuples(_full_rank()), atol=1e-8, extra=_STRUCTURED),
    # Compositions, checked through the primitives they use.
    Case("einsum", fnp.tensordot, np.tensordot, st.tuples(_raw((2, 3, 2)), _raw((3, 2, 2)), st.just(([1, 0], [0, 2]))),
         diff=(0, 1), name="tensordot"),
    Case("einsum", fnp.tensordot, np.tensordot, st.tuples(_raw((2, 3)), _raw((2, 3)), st.just(2)), diff=(0, 1),
         name="tensordot_int"),
    Case("einsum", fnp.dot, np.dot, st.sampled_from([((2, 3), (3,)), ((3,), (3, 2)), ((2, 2, 3), (2, 3, 2)),
                                                     ((2,), (2,)), ((), (2, 2))]).flatmap(
        lambda s: st.tuples(_raw(s[0]), _raw(s[1]))), diff=(0, 1), name="dot"),
    Case("einsum", fnp.inner, np.inner, st.tuples(_raw((2, 3)), _raw((2, 2, 3))), diff=(0, 1), name="inner"),
    Case("einsum", fnp.vdot, np.vdot, st.tuples(_raw((2, 3)), _raw((3, 2))), diff=(0, 1), name="vdot"),
    Case("multiply", fnp.outer, np.outer, st.tuples(_raw((2, 2)), _raw((3,))), diff=(0, 1), name="outer"),
    Case("multiply", fnp.kron, np.kron, st.tuples(_raw((2, 1, 2)), _raw((2, 3))), diff=(0, 1), name="kron"),
    Case("einsum", lambda x, y: fnp.vecdot(x, y, axis=0), lambda x, y: np.vecdot(x, y, axis=0),
         st.tuples(_raw((3, 1)), _raw((3, 2))), diff=(0, 1), name="vecdot"),
    Case("einsum", fnp.trace, np.trace,
         st.tuples(_raw((2, 3, 4)), st.integers(-3, 4), st.sampled_from([(0, 1), (1, 0), (2, 0), (-1, 1), (0, -1)]))
         .map(lambda p: (p[0], p[1]) + p[2]), name="trace"),
    Case("matmul", fnp.linalg.matrix_power, np.linalg.matrix_power,
         st.tuples(_square(), st.sampled_from([0, 1, 2, 3, 5, -1, -2])), name="matrix_power", extra=_STRUCTURED),
    Case("matmul", lambda *xs: fnp.linalg.multi_dot(xs), lambda *xs: np.linalg.multi_dot(xs),
         st.tuples(_raw((3,)), _raw((3, 1)), _raw((1, 4)), _raw((4,))), diff=(0, 1, 2, 3), name="multi_dot"),
    Case("reduce_sum", fnp.linalg.norm, np.linalg.norm,
         _with_ord(_distinct_magnitudes(1), [None, 0, 1, 2, 3, 0.5, np.inf, -np.inf]), order=1, name="norm_vector"),
    Case("reduce_sum", fnp.linalg.norm, np.linalg.norm,
         _with_ord(_distinct_magnitudes(2), [None, "fro", 1, -1, np.inf, -np.inf]), order=1, name="norm_matrix"),
    Case("svdvals", fnp.linalg.norm, np.linalg.norm,
         _with_ord(st.tuples(_distinct_singular(st.tuples(st.just(()), st.integers(1, 3), st.integers(1, 3)))),
                   ["nuc", 2, -2]).map(lambda p: (p[0][0], p[1])), order=1, atol=1e-8, name="norm_spectral"),
    Case("reduce_sum", lambda x, a, k: fnp.linalg.norm(x, axis=a, keepdims=k),
         lambda x, a, k: np.linalg.norm(x, axis=a, keepdims=k),
         st.tuples(numpy_arrays(st.just((2, 3, 2)), domain="nonzero"), st.sampled_from([0, -1, (0, 2), (2, 1)]),
                   st.booleans()), name="norm_axis"),
]


# ----- einsum against numpy on a table of subscripts -----------------------------------------------

EINSUM_TABLE = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ii", [(3, 3)]), ("ii->i", [(3, 3)]),
    ("ij->ji", [(2, 3)]), ("ij->", [(2, 3)]), ("ij->j", [(2, 3)]), ("i,i->", [(3,), (3,)]), ("i,j->ij", [(2,), (3,)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]), ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 2)]),
    ("...ii->...i", [(2, 3, 3)]), ("i...->...", [(2, 3, 4)]), ("iij,jk->ik", [(2, 2, 3), (3, 2)]),
    ("ijk,kl,lm->ijm", [(2, 2, 3), (3, 4), (4, 2)]), ("ab,bc,cd,de->ae", [(2, 5), (5, 3), (3, 4), (4, 2)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]), ("ij,jk->ik", [(2, 1), (3, 4)]), ("iji->j", [(2, 3, 2)]),
    ("ab,ab,ab->", [(2, 3), (2, 3), (2, 3)]), ("Ba,aC->BC", [(2, 3), (3, 2)]), ("bA", [(2, 3)]),
    (",i->i", [(), (3,)]), ("i,i,i->i", [(3,), (3,), (3,)]), ("ijj->", [(2, 3, 3)]),
    ("...,...->...", [(2, 1), (3,)]), ("ab,cd->abcd", [(2, 1), (1, 2)]),
]


@pytest.mark.parametrize("spec,shapes", EINSUM_TABLE, ids=[s for s, _ in EINSUM_TABLE])
def test_einsum_table(spec, shapes):
    rng = np.random.default_rng(0)
    ops = [rng.standard_normal(s) for s in shapes]
    for optimize in (True, False, "greedy", "optimal"):
        out = fnp.einsum(spec, *map(fnp.asarray, ops), optimize=optimize)
        np.testing.assert_allclose(np.asarray(out), np.einsum(spec, *ops), rtol=1e-12, atol=1e-12)
    check_grads(lambda *xs: fnp.einsum(spec, *xs), tuple(map(fnp.asarray, ops)), order=1)


def test_einsum_second_order_with_diagonals_and_broadcast():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 2, 3)), rng.standard_normal((1, 3))
    check_grads(lambda x, y: fnp.einsum("iij,kj->ik", x, y), (fnp.asarray(a), fnp.asarray(b)), order=2)


def test_einsum_interleaved_and_explicit_path():
    a, b = np.arange(6.).reshape(2, 3), np.arange(12.).reshape(3, 4)
    np.testing.assert_allclose(np.asarray(fnp.einsum(fnp.asarray(a), [0, 1], fnp.asarray(b), [1, 2], [0, 2])), a @ b)
    np.testing.assert_allclose(np.asarray(fnp.einsum(fnp.asarray(a), [Ellipsis, 1], [Ellipsis])), a.sum(-1))
    c = np.ones((4, 2))
    path = ["einsum_path", (1, 2), (0, 1)]
    out = fnp.einsum("ij,jk,kl->il", fnp.asarray(a), fnp.asarray(b), fnp.asarray(c), optimize=path)
    np.testing.assert_allclose(np.asarray(out), a @ b @ c)


def test_einsum_plans_once_per_subscripts_and_shapes():
    from fnx.numpy.linalg import _plan
    ops = [fnp.ones((2, 3)), fnp.ones((3, 4)), fnp.ones((4, 5))]
    fnp.einsum("ij,jk,kl->il", *ops)
    hits = _plan.cache_info().hits
    fnx.grad(lambda x: fnp.einsum("ij,jk,kl->il", x, *ops[1:]).sum())(ops[0])
    assert _plan.cache_info().hits > hits


def test_einsum_errors():
    with pytest.raises(ShapeError, match="einsum: .* names 2 operand"):
        fnp.einsum("ij,jk", fnp.ones((2, 2)))
    with pytest.raises(ShapeError, match="einsum: index 'j' has size 3 .* and 4"):
        fnp.einsum("ij,jk", fnp.ones((2, 3)), fnp.ones((4, 2)))
    with pytest.raises(ShapeError, match="einsum: operand 0 has shape"):
        fnp.einsum("ij", fnp.ones(3))
    with pytest.raises(ShapeError, match="einsum: index 'i' repeats"):
        fnp.einsum("ii", fnp.ones((2, 3)))
    with pytest.raises(ValueError, match="einsum: output index 'k'"):
        fnp.einsum("ij->k", fnp.ones((2, 3)))
    with pytest.raises(ShapeError, match="einsum: .* no '...'"):
        fnp.einsum("i...->i", fnp.ones((2, 3)))


# ----- matmul and products -------------------------------------------------------------------------


def test_matmul_error_names_shapes_and_axes():
    with pytest.raises(ShapeError, match=r"matmul: shapes \(3, 4\) and \(5, 2\) do not align: 4 \(axis 1\) "
                                         r"!= 5 \(axis 0\)"):
        fnp.matmul(fnp.ones((3, 4)), fnp.ones((5, 2)))
    with pytest.raises(ShapeError, match="matmul: operands must have at least one dimension"):
        fnp.matmul(fnp.ones(()), fnp.ones(3))
    with pytest.raises(ShapeError, match=r"matmul: the stacks of shapes \(2, 1, 3\) and \(4, 3, 2\) do not broadcast"):
        fnp.ones((2, 1, 3)) @ fnp.ones((4, 3, 2))
    with pytest.raises(ShapeError, match="dot: shapes"):
        fnp.dot(fnp.ones((2, 3)), fnp.ones(2))
    with pytest.raises(ShapeError, match="tensordot: shapes"):
        fnp.tensordot(fnp.ones((2, 3)), fnp.ones((2, 3)), axes=([0], [1]))


def test_matmul_operator_and_numpy_operands():
    a, b = np.arange(6.).reshape(2, 3), np.arange(3.)
    assert np.allclose(np.asarray(fnp.asarray(a) @ b), a @ b)
    assert np.allclose(np.asarray(a @ fnp.asarray(np.ones((3, 2)))), a @ np.ones((3, 2)))
    assert isinstance(a @ fnp.asarray(np.ones((3, 2))), fnx.Array)


def test_matmul_dtypes_follow_numpy():
    i = fnp.asarray(np.arange(4, dtype=np.int32).reshape(2, 2))
    assert fnp.matmul(i, i).dtype == np.int32
    assert fnp.matmul(i, fnp.ones((2, 2), dtype="float32")).dtype == np.float64
    assert fnp.matmul(fnp.ones((2, 2), dtype="float32"), fnp.ones(2, dtype="float32")).dtype == np.float32


def test_stack_times_matrix_and_broadcast_stacks():
    rng = np.random.default_rng(2)
    a, b, c = rng.standard_normal((2, 1, 4, 5)), rng.standard_normal((5, 2)), rng.standard_normal((3, 5, 2))
    np.testing.assert_allclose(np.asarray(fnp.asarray(a) @ fnp.asarray(b)), a @ b)
    np.testing.assert_allclose(np.asarray(fnp.asarray(a) @ fnp.asarray(c)), a @ c)
    check_grads(fnp.matmul, (fnp.asarray(a[:1, :2, :2, :2]), fnp.asarray(b[:2])), order=2)


def test_trace_dtypes_and_offsets():
    x = np.arange(12).reshape(3, 4).astype(np.int32)
    for off in (-4, -1, 0, 2, 5):
        out = fnp.trace(fnp.asarray(x), off)
        assert out.dtype == np.trace(x, off).dtype and int(out) == np.trace(x, off)
    assert fnp.trace(fnp.asarray(x > 3)).dtype == np.int64
    y = np.arange(24.).reshape(2, 3, 4)
    np.testing.assert_allclose(np.asarray(fnp.linalg.trace(fnp.asarray(y))), np.linalg.trace(y))
    np.testing.assert_allclose(np.asarray(fnp.trace(fnp.asarray(y), axis1=-2, axis2=-1)), np.linalg.trace(y))


def test_linalg_namespace_has_the_products():
    for name in ("matmul", "tensordot", "outer", "trace", "vecdot", "matrix_transpose", "multi_dot", "svdvals",
                 "vector_norm", "matrix_norm", "LinAlgError"):
        assert hasattr(fnp.linalg, name), name
    assert fnp.matmul is fnp.linalg.matmul and fnp.einsum is fnp.linalg.einsum


@pytest.mark.parametrize("shapes, axis", [(((3, 3), (3,)), 0), (((4, 2, 3), (4, 1, 3)), 0), (((2, 5), (5,)), -1),
                                          (((5,), (5, 2)), 0), (((3, 2), (4, 3, 2)), -2)])
def test_vecdot_takes_each_operands_own_axis_as_numpy(shapes, axis):
    # numpy.vecdot is a gufunc: ``axis`` is each operand's core axis, found before the loop axes broadcast
    rng = np.random.default_rng(0)
    x, y = (rng.standard_normal(s) for s in shapes)
    np.testing.assert_allclose(np.asarray(fnp.vecdot(fnp.asarray(x), fnp.asarray(y), axis=axis)),
                               np.vecdot(x, y, axis=axis), rtol=1e-12)
    with pytest.raises(ValueError, match=r"vecdot: .*lengths 3 and 2"):
        fnp.vecdot(fnp.ones(3), fnp.ones((4, 2)))


def test_vector_and_matrix_norm():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 4))
    for ord in (2, 1, np.inf, 3):
        for axis in (None, 1, (0, 2)):
            np.testing.assert_allclose(np.asarray(fnp.linalg.vector_norm(fnp.asarray(x), axis=axis, ord=ord,
                                                                          keepdims=True)),
                                       np.linalg.vector_norm(x, axis=axis, ord=ord, keepdims=True))
    for ord in ("fro", "nuc", 2, 1, -np.inf):
        np.testing.assert_allclose(np.asarray(fnp.linalg.matrix_norm(fnp.asarray(x), ord=ord)),
                                   np.linalg.matrix_norm(x, ord=ord))
    assert fnp.linalg.norm(fnp.asarray([3, 4])).dtype == np.float64
    with pytest.raises(ValueError, match="norm: invalid norm order"):
        fnp.linalg.norm(fnp.ones((2, 2)), "bad")


def test_norm_of_identity_has_a_gradient():
    # Repeated singular values: the values-only rule needs no gap between them.
    g = fnx.grad(lambda x: fnp.linalg.norm(x, "nuc"))(fnp.eye(3, dtype="float64"))
    np.testing.assert_allclose(np.asarray(g), np.eye(3))
    g = fnx.grad(lambda x: fnp.linalg.eigvalsh(x).sum())(fnp.eye(3, dtype="float64"))
    np.testing.assert_allclose(np.asarray(g), np.eye(3))


# ----- solvers and decompositions -------------------------------------------------------------------


def test_square_and_shape_errors():
    with pytest.raises(ShapeError, match=r"inv: expected a square matrix .* \(2, 3\)"):
        fnp.linalg.inv(fnp.ones((2, 3)))
    with pytest.raises(ShapeError, match="solve: a has shape"):
        fnp.linalg.solve(fnp.eye(3), fnp.ones(2))
    with pytest.raises(ShapeError, match="det: expected a square"):
        fnp.linalg.det(fnp.ones(3))
    with pytest.raises(fnp.linalg.LinAlgError):
        fnp.linalg.inv(fnp.zeros((2, 2)))


def test_solve_broadcasts_stacks_like_numpy():
    rng = np.random.default_rng(4)
    a = rng.standard_normal((2, 1, 3, 3)) + 3 * np.eye(3)
    b = rng.standard_normal((4, 3, 2))
    np.testing.assert_allclose(np.asarray(fnp.linalg.solve(fnp.asarray(a), fnp.asarray(b))),
                               np.linalg.solve(a, b), rtol=1e-10)
    check_grads(fnp.linalg.solve, (fnp.asarray(a[:1]), fnp.asarray(b[:2, :, :1])), order=1)


def test_integer_input_computes_in_float64():
    x = fnp.asarray(np.array([[2, 1], [1, 3]]))
    for f in (fnp.linalg.inv, fnp.linalg.det, fnp.linalg.cholesky, fnp.linalg.pinv, fnp.linalg.svdvals):
        assert f(x).dtype == np.float64, f


def test_det_gradient_at_a_singular_matrix_is_the_cofactor_matrix():
    # The values JAX 0.10 gives (jax.grad(jnp.linalg.det)): the cofactor matrix, nonzero at rank n-1 and zero
    # below it; forward mode agrees, and torch's face shares the rule.
    cases = [([[1., 2.], [2., 4.]], [[4., -2.], [-2., 1.]]),
             ([[1., 2., 3.], [4., 5., 6.], [7., 8., 9.]], [[-3., 6., -3.], [6., -12., 6.], [-3., 6., -3.]]),
             (np.diag([1., 0., 0.]), np.zeros((3, 3))), (np.zeros((3, 3)), np.zeros((3, 3)))]
    for a, cofactors in cases:
        a = fnp.asarray(a, dtype="float64")
        np.testing.assert_allclose(fnx.grad(fnp.linalg.det)(a), cofactors, atol=1e-12)
        np.testing.assert_allclose(fnx.grad(fnx.linalg.det)(a), cofactors, atol=1e-12)
        tangent = fnp.asarray(np.arange(a.size).reshape(a.shape), dtype="float64")
        np.testing.assert_allclose(fnx.jvp(fnp.linalg.det, (a,), (tangent,))[1],
                                   np.sum(np.asarray(cofactors) * tangent), atol=1e-11)
    for a, cofactors in (([[1 + 1j, 2], [-1 + 1j, 2j]], [[2j, 1 - 1j], [-2, 1 + 1j]]),  # rank 1 (row 2 = i row 1)
                         ([[1 + 1j, 2], [1j, 2j - 2]], [[2j - 2, -1j], [-2, 1 + 1j]])):  # invertible
        a = fnp.asarray(a, dtype="complex128")
        np.testing.assert_allclose(fnx.vjp(fnp.linalg.det, a)[1](fnp.asarray(1 + 0j, "complex128"))[0], cofactors,
                                   atol=1e-12)


def test_slogdet_is_a_named_pair():
    out = fnp.linalg.slogdet(fnp.asarray([[0., 2.], [1., 0.]]))
    assert float(out.sign) == -1.0 and abs(float(out.logabsdet) - np.log(2)) < 1e-6
    g = fnx.grad(lambda x: fnp.linalg.slogdet(x).logabsdet)(fnp.asarray([[0., 2.], [1., 0.]], dtype="float64"))
    np.testing.assert_allclose(np.asarray(g), np.linalg.inv([[0., 2.], [1., 0.]]).T)


def test_decompositions_use_the_symmetric_part():
    a = np.array([[4., 1.], [3., 5.]])
    sym = (a + a.T) / 2
    np.testing.assert_allclose(np.asarray(fnp.linalg.cholesky(fnp.asarray(a))), np.linalg.cholesky(sym))
    np.testing.assert_allclose(np.asarray(fnp.linalg.eigvalsh(fnp.asarray(a))), np.linalg.eigvalsh(sym))
    g = fnx.grad(lambda x: fnp.linalg.cholesky(x)[1, 1])(fnp.asarray(a))
    np.testing.assert_allclose(np.asarray(g), np.asarray(g).T)


def test_qr_and_svd_modes():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((4, 2))
    q, r = fnp.linalg.qr(fnp.asarray(a), mode="complete")
    assert q.shape == (4, 4) and r.shape == (4, 2)
    np.testing.assert_allclose(np.asarray(q @ r), a, atol=1e-12)
    u, s, vh = fnp.linalg.svd(fnp.asarray(a))
    assert u.shape == (4, 4) and vh.shape == (2, 2)
    np.testing.assert_allclose(np.asarray(s), np.linalg.svd(a, compute_uv=False))
    with pytest.raises(NotImplementedError, match="svd: derivatives .* full_matrices=False"):
        fnx.grad(lambda x: fnp.linalg.svd(x)[0].sum())(fnp.asarray(a))
    with pytest.raises(NotImplementedError, match="qr: derivatives need mode='reduced'"):
        fnx.grad(lambda x: fnp.linalg.qr(x, "complete")[0].sum())(fnp.asarray(a))
    with pytest.raises(ValueError, match="qr: mode"):
        fnp.linalg.qr(fnp.asarray(a), mode="raw")
    square = rng.standard_normal((3, 3))
    check_grads(lambda x: fnp.linalg.svd(x)[1], (fnp.asarray(square),), order=1)


def test_matrix_power_and_pinv_edge_cases():
    a = fnp.asarray([[1., 2.], [3., 4.]], dtype="float64")
    np.testing.assert_allclose(np.asarray(fnp.linalg.matrix_power(a, 0)), np.eye(2))
    with pytest.raises(TypeError, match="matrix_power: the exponent must be an integer"):
        fnp.linalg.matrix_power(a, 1.5)
    np.testing.assert_allclose(np.asarray(fnp.linalg.pinv(a, rtol=None)), np.linalg.pinv(np.asarray(a), rtol=None))
    with pytest.raises(ValueError, match="pinv: give rcond or rtol"):
        fnp.linalg.pinv(a, 1e-3, rtol=1e-3)


@pytest.mark.parametrize("fun", [
    lambda x: (x @ x).sum(),
    lambda x: fnp.einsum("ij,jk->", x, x),
    lambda x: fnp.linalg.inv(x + 3 * fnp.eye(2, dtype=x.dtype)).sum(),
    lambda x: fnp.linalg.det(x + 3 * fnp.eye(2, dtype=x.dtype)),
    lambda x: fnp.linalg.cholesky(x @ x.T + fnp.eye(2, dtype=x.dtype)).sum(),
    lambda x: fnp.linalg.svd(x, compute_uv=False).sum(),
    lambda x: fnp.linalg.norm(x),
], ids=["matmul", "einsum", "inv", "det", "cholesky", "svdvals", "norm"])
def test_float32_gradients_stay_float32(fun):
    x = fnp.asarray([[1.0, 0.5], [0.25, 2.0]], dtype="float32")
    assert fnx.grad(fun)(x).dtype == np.float32


def test_hessian_of_log_det_is_minus_inverse_kronecker():
    # d^2 log det X / dX_ij dX_kl = -inv(X)_li inv(X)_jk
    x = np.array([[3., 1.], [0.5, 2.]])
    h = fnx.hessian(lambda a: fnp.linalg.slogdet(a).logabsdet)(fnp.asarray(x))
    xi = np.linalg.inv(x)
    np.testing.assert_allclose(np.asarray(h), -np.einsum("li,jk->ijkl", xi, xi), rtol=1e-10)


@given(st.tuples(_square(), st.integers(1, 2)))
def test_solve_agrees_with_inverse(p):
    a, k = p
    b = np.ones(a.shape[:-1] + (k,))
    np.testing.assert_allclose(np.asarray(fnp.linalg.solve(fnp.asarray(a), fnp.asarray(b))), np.linalg.inv(a) @ b,
                               rtol=1e-9, atol=1e-12)


def test_unneeded_cotangents_are_not_computed(monkeypatch):
    # Only x is differentiated: reverse mode runs ct @ b^T, never x^T @ ct.
    from fnx.numpy.linalg import einsum_p, matmul_p
    calls = []
    for prim in (matmul_p, einsum_p):
        monkeypatch.setattr(prim, "impl",
                            lambda xp, *a, _f=prim.impl, _p=prim, **k: calls.append(_p) or _f(xp, *a, **k))
    b, c = fnp.ones((3, 4)), fnp.ones((4, 2))
    fnx.grad(lambda x: (x @ b).sum())(fnp.ones((2, 3)))
    assert calls.count(matmul_p) == 2
    # Planned as (b c) first, a constant, then x with it: two forward steps and one backward.
    fnx.grad(lambda x: fnp.einsum("ij,jk,kl->", x, b, c))(fnp.ones((2, 3)))
    assert calls.count(einsum_p) == 3


def test_cond_of_a_singular_matrix_is_inf_in_every_norm_as_numpy():
    singular, regular = np.array([[1.0, 2.0], [2.0, 4.0]]), np.array([[2.0, 0.0], [0.0, 0.5]])
    for p in (1, -1, np.inf, -np.inf, "fro"):
        assert float(fnp.linalg.cond(fnp.asarray(singular), p)) == np.inf
        np.testing.assert_allclose(fnp.linalg.cond(fnp.asarray(np.stack([singular, regular])), p),
                                   np.linalg.cond(np.stack([singular, regular]), p))  # only its own entry
    assert fnp.linalg.norm(fnp.asarray([1 + 1j, 0, 2j]), ord=0).dtype == np.float32  # a count, real


def test_torch_svd_with_full_matrices_differentiates_as_torch():
    # torch.linalg.svd's default (full_matrices=True) on a non-square matrix: the extra vectors carry no gradient.
    a0 = np.random.default_rng(0).standard_normal((4, 3))
    a = fnx.tensor(a0, requires_grad=True)
    U, S, Vh = fnx.linalg.svd(a)
    assert U.shape == (4, 4) and Vh.shape == (3, 3)
    np.testing.assert_allclose(np.asarray(U.detach()).T @ np.asarray(U.detach()), np.eye(4), atol=1e-12)
    (S ** 2).sum().backward()
    np.testing.assert_allclose(a.grad, 2 * a0, rtol=1e-10)  # d sum(s^2) = d ||A||_F^2
