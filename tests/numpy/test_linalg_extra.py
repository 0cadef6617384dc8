"""matrix_rank, cond, lstsq, eig, eigvals, tensorsolve, tensorinv, linalg.diagonal and linalg.cross against NumPy."""
import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx.errors import ShapeError, TracerError
from fnx.testing import check_grads

RNG = np.random.default_rng(0)
A = RNG.normal(size=(4, 3))
SQ = RNG.normal(size=(3, 3)) + 3 * np.eye(3)


def test_matrix_rank_matches_numpy():
    low = A[:, :2] @ RNG.normal(size=(2, 3))
    stack = np.stack([A, low])
    for m in (A, low, A.T, low.T, stack, np.zeros((3, 2)), np.ones(4), np.zeros(3)):
        out = fnp.linalg.matrix_rank(fnp.asarray(m))
        expected = np.linalg.matrix_rank(m)
        assert out.shape == np.shape(expected) and out.dtype == np.int64
        np.testing.assert_array_equal(out, expected)
    for kw in ({"tol": 0.5}, {"rtol": 0.3}, {"tol": 1e-30}):
        np.testing.assert_array_equal(fnp.linalg.matrix_rank(fnp.asarray(A), **kw), np.linalg.matrix_rank(A, **kw))
    assert fnp.linalg.matrix_rank(fnp.asarray(np.eye(3, dtype=np.float32))) == 3
    with pytest.raises(ValueError, match="matrix_rank"):
        fnp.linalg.matrix_rank(fnp.asarray(A), tol=1., rtol=1.)


@pytest.mark.parametrize("p", [None, 2, -2, 1, -1, np.inf, -np.inf, "fro", "nuc"])
def test_cond_matches_numpy(p):
    stack = np.stack([SQ, SQ.T + np.eye(3)])
    for m in (SQ, stack) + ((A,) if p in (None, 2, -2) else ()):
        out = fnp.linalg.cond(fnp.asarray(m), p)
        expected = np.linalg.cond(m, p)
        assert out.shape == np.shape(expected) and out.dtype == np.float64
        np.testing.assert_allclose(out, expected, rtol=1e-10)
    check_grads(lambda x: fnp.linalg.cond(x, p), (fnp.asarray(SQ),))


def test_cond_of_singular_matrix_is_inf():
    with np.errstate(all="ignore"):
        out = fnp.linalg.cond(fnp.asarray(np.zeros((2, 2))))
        assert np.isinf(out) and np.isinf(np.linalg.cond(np.zeros((2, 2))))
    with pytest.raises(ShapeError, match="cond"):
        fnp.linalg.cond(fnp.ones((2, 3)), 1)


@pytest.mark.parametrize("shapes", [((4, 3), (4,)), ((4, 3), (4, 2)), ((3, 3), (3,)), ((2, 4), (2, 3)),
                                    ((4, 3), (4, 1))])
def test_lstsq_matches_numpy(shapes):
    a, b = RNG.normal(size=shapes[0]), RNG.normal(size=shapes[1])
    out = fnp.linalg.lstsq(fnp.asarray(a), fnp.asarray(b), numpy_resid=True)
    expected = np.linalg.lstsq(a, b)
    for o, e in zip(out, expected):
        assert o.shape == np.shape(e) and o.dtype == np.asarray(e).dtype, (o, e)
        np.testing.assert_allclose(o, e, rtol=1e-9, atol=1e-12)
    # jax's default: the residuals always, shape (K,) or (1,)
    resid = fnp.linalg.lstsq(fnp.asarray(a), fnp.asarray(b)).residuals
    r = b - a @ expected[0]
    np.testing.assert_allclose(resid, np.atleast_1d(np.sum(r * r, axis=0)), atol=1e-12)
    check_grads(lambda a, b: fnp.linalg.lstsq(a, b)[0], (fnp.asarray(a), fnp.asarray(b)))


def test_lstsq_rank_deficient_and_rcond():
    a = np.array([[1., 0., 0.], [0., 1e-9, 0.], [0., 0., 2.], [1., 0., 0.]])
    b = np.arange(4.)
    for rcond in (None, 1e-6, -1):
        out = fnp.linalg.lstsq(fnp.asarray(a), fnp.asarray(b), rcond=rcond, numpy_resid=True)
        expected = np.linalg.lstsq(a, b, rcond=rcond)
        for o, e in zip(out, expected):
            assert o.shape == np.shape(e)
            np.testing.assert_allclose(o, e, rtol=1e-8, atol=1e-9)
    with pytest.raises(ShapeError, match="lstsq"):
        fnp.linalg.lstsq(fnp.ones((3, 2)), fnp.ones(2))
    with pytest.raises(ShapeError, match="lstsq"):
        fnp.linalg.lstsq(fnp.ones((2, 3, 2)), fnp.ones(3))
    with pytest.raises(TracerError, match="lstsq"):
        fnx.jit(lambda a, b: fnp.linalg.lstsq(a, b, numpy_resid=True)[1])(fnp.ones((3, 2)), fnp.ones(3))
    fnx.jit(lambda a, b: fnp.linalg.lstsq(a, b)[0])(fnp.asarray(A), fnp.ones(4))


def test_eig_and_eigvals():
    rot = np.array([[0., -1.], [1., 0.]])
    for m in (SQ, rot, np.stack([SQ, SQ.T]), SQ.astype(np.float32), np.eye(3, dtype=int)):
        w, v = fnp.linalg.eig(fnp.asarray(m))
        dt = np.complex64 if m.dtype == np.float32 else np.complex128
        assert w.dtype == v.dtype == dt
        assert w.shape == m.shape[:-1] and v.shape == m.shape
        tol = 1e-4 if m.dtype == np.float32 else 1e-10
        np.testing.assert_allclose(m.astype(dt) @ np.asarray(v), np.asarray(v) * np.asarray(w)[..., None, :],
                                   atol=tol)
        ew = fnp.linalg.eigvals(fnp.asarray(m))
        assert ew.dtype == dt and ew.shape == m.shape[:-1]
        np.testing.assert_allclose(np.sort_complex(np.asarray(ew).ravel()),
                                   np.sort_complex(np.linalg.eigvals(m).ravel()), atol=tol)
    with pytest.raises(ShapeError, match="eig"):
        fnp.linalg.eig(fnp.ones((2, 3)))
    for transform in (fnx.grad, fnx.vmap, fnx.jit):
        with pytest.raises(TracerError, match="eigvals"):
            transform(lambda x: fnp.real(fnp.linalg.eigvals(x)).sum())(fnp.asarray(np.stack([SQ, SQ])))


def test_tensorinv_and_tensorsolve_match_numpy():
    a = (RNG.normal(size=(24, 24)) + 6 * np.eye(24)).reshape(4, 6, 8, 3)
    for ind, t in ((2, a), (1, a.reshape(24, 4, 2, 3)), (3, a.reshape(2, 2, 6, 24))):
        np.testing.assert_allclose(fnp.linalg.tensorinv(fnp.asarray(t), ind=ind), np.linalg.tensorinv(t, ind=ind),
                                   rtol=1e-10)
    b = RNG.normal(size=(4, 6))
    np.testing.assert_allclose(fnp.linalg.tensorsolve(fnp.asarray(a), fnp.asarray(b)), np.linalg.tensorsolve(a, b),
                               rtol=1e-10)
    a3 = (RNG.normal(size=(6, 6)) + 4 * np.eye(6)).reshape(6, 3, 2)
    b3 = RNG.normal(size=6)
    a4 = a3.reshape(3, 2, 6)
    for t, rhs, axes in ((a3, b3, None), (a4, b3.reshape(3, 2), (2,)),
                         (a4, b3.reshape(6), (0, 1))):
        np.testing.assert_allclose(fnp.linalg.tensorsolve(fnp.asarray(t), fnp.asarray(rhs), axes=axes),
                                   np.linalg.tensorsolve(t, rhs, axes=axes), rtol=1e-10)
    check_grads(lambda a, b: fnp.linalg.tensorsolve(a, b), (fnp.asarray(a3), fnp.asarray(b3)))
    check_grads(lambda a: fnp.linalg.tensorinv(a, ind=1), (fnp.asarray(a3),))
    with pytest.raises(ShapeError, match="tensorinv"):
        fnp.linalg.tensorinv(fnp.ones((2, 3)), ind=1)
    with pytest.raises(ValueError, match="tensorinv"):
        fnp.linalg.tensorinv(fnp.ones((2, 2)), ind=0)
    with pytest.raises(ShapeError, match="tensorsolve"):
        fnp.linalg.tensorsolve(fnp.ones((2, 3)), fnp.ones(2))


def test_linalg_diagonal_and_cross():
    x = np.arange(24.).reshape(2, 3, 4)
    for k in (0, 1, -1, 5):
        np.testing.assert_array_equal(fnp.linalg.diagonal(fnp.asarray(x), offset=k), np.linalg.diagonal(x, offset=k))
    a, b = RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))
    np.testing.assert_allclose(fnp.linalg.cross(fnp.asarray(a), fnp.asarray(b)), np.linalg.cross(a, b))
    np.testing.assert_allclose(fnp.linalg.cross(fnp.asarray(a.T), fnp.asarray(b.T), axis=0),
                               np.linalg.cross(a.T, b.T, axis=0))
    check_grads(fnp.linalg.cross, (fnp.asarray(a), fnp.asarray(b)))
    with pytest.raises(ShapeError, match="cross"):
        fnp.linalg.cross(fnp.ones(2), fnp.ones(2))
    # the top-level names keep NumPy's top-level meaning
    assert fnp.diagonal(fnp.asarray(x)).shape == np.diagonal(x).shape


# ----- complex input: derivatives with conjugate transposes, against central differences -----------------

def _complex(rng, *shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def _hpd(rng, n):
    m = _complex(rng, n, n)
    return m @ m.conj().T + n * np.eye(n)


_COMPLEX_CASES = {  # name: (function of fnp, input maker); each output is free of the eigen/singular phases
    "eigh values": (lambda A: fnp.linalg.eigh(A)[0], _hpd),
    "eigh vectors": (lambda A: fnp.abs(fnp.linalg.eigh(A)[1]) ** 2, _hpd),
    "eigvalsh": (fnp.linalg.eigvalsh, _hpd),
    "cholesky": (fnp.linalg.cholesky, _hpd),
    "slogdet": (lambda A: fnp.linalg.slogdet(A)[1], lambda rng, n: _complex(rng, n, n)),
    "slogdet sign": (lambda A: fnp.linalg.slogdet(A)[0], lambda rng, n: _complex(rng, n, n)),
    "svdvals": (lambda A: fnp.linalg.svd(A, compute_uv=False), lambda rng, n: _complex(rng, n + 1, n)),
    "svd tall": (lambda A: (lambda u, s, vh: (u * s[..., None, :]) @ vh)(*fnp.linalg.svd(A, full_matrices=False)),
                 lambda rng, n: _complex(rng, n + 1, n)),
    "svd wide U": (lambda A: fnp.abs(fnp.linalg.svd(A, full_matrices=False)[0]) ** 2,
                   lambda rng, n: _complex(rng, n, n + 2)),
    "qr tall": (lambda A: fnp.linalg.qr(A)[1], lambda rng, n: _complex(rng, n + 1, n)),
    "qr wide": (lambda A: fnp.linalg.qr(A)[0], lambda rng, n: _complex(rng, n, n + 1)),
    "pinv tall": (fnp.linalg.pinv, lambda rng, n: _complex(rng, n + 1, n)),
    "pinv wide": (fnp.linalg.pinv, lambda rng, n: _complex(rng, n, n + 2)),
    "lstsq": (lambda A: fnp.linalg.lstsq(A, fnp.ones((4, 2)))[0], lambda rng, n: _complex(rng, n + 1, n)),
}


@pytest.mark.parametrize("name", sorted(_COMPLEX_CASES))
def test_complex_decompositions_differentiate_as_central_differences_say(name):
    f, make = _COMPLEX_CASES[name]
    rng = np.random.default_rng(len(name))
    x = make(rng, 3)
    t = _complex(rng, *x.shape)
    h = 1e-6
    value = lambda a: np.asarray(f(fnp.asarray(a)))
    numeric = (value(x + h * t) - value(x - h * t)) / (2 * h)
    _, tangent = fnx.jvp(f, (fnp.asarray(x),), (fnp.asarray(t),))
    assert np.asarray(tangent).dtype == value(x).dtype  # real outputs have real tangents
    np.testing.assert_allclose(np.asarray(tangent), numeric, atol=1e-6)
    weights = rng.standard_normal(value(x).shape)
    loss = lambda a: float(np.real(np.sum(value(a) * weights)))
    grad = np.asarray(fnx.grad(lambda a: fnp.real(fnp.sum(f(a) * weights)))(fnp.asarray(x)))
    e = np.zeros(x.shape)
    for idx in np.ndindex(x.shape):  # JAX's convention: d/dRe - i d/dIm
        e[idx] = h
        d_re = (loss(x + e) - loss(x - e)) / (2 * h)
        d_im = (loss(x + 1j * e) - loss(x - 1j * e)) / (2 * h)
        e[idx] = 0
        np.testing.assert_allclose(grad[idx], d_re - 1j * d_im, atol=1e-6, err_msg=str(idx))


def test_complex_decompositions_give_real_eigen_and_singular_values_under_jit():
    a = fnp.asarray(_hpd(np.random.default_rng(0), 3))
    w, _ = fnx.jit(fnp.linalg.eigh)(a)
    assert w.dtype == np.float64 and fnx.jit(fnp.linalg.svd)(a)[1].dtype == np.float64
    assert fnx.jit(lambda m: fnp.linalg.slogdet(m)[1])(a).dtype == np.float64
