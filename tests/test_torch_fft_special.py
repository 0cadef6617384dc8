"""fnx.fft and fnx.special: torch.fft's and torch.special's names and arguments, checked against numpy.fft and
Python's math module (with PyTorch's argument names mapped onto NumPy's), for derivatives and vmap, and against
PyTorch itself where it is installed."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import fnx
import fnx.numpy as fnp
from fnx.testing import check_grads, check_vmap
from fnx.testing.strategies import elements

F, S = fnx.fft, fnx.special
rng = np.random.default_rng(0)
X = rng.standard_normal((3, 4, 6))
C = X + 1j * rng.standard_normal(X.shape)


def eq(got, want, rtol=1e-10, atol=1e-12, dtype=None):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    if dtype is not None:
        assert got.dtype == dtype, (got.dtype, dtype)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


# ----- fnx.fft against numpy.fft -------------------------------------------------------------------

ONE_D = ["fft", "ifft", "rfft", "irfft", "hfft", "ihfft"]
N_D = ["fft2", "ifft2", "fftn", "ifftn", "rfft2", "irfft2", "rfftn", "irfftn"]


@pytest.mark.parametrize("name", ONE_D)
@given(n=st.none() | st.integers(2, 9), dim=st.integers(-3, 2), norm=st.sampled_from([None, "backward", "ortho",
                                                                                       "forward"]))
def test_one_dimensional_transforms_are_numpys(name, n, dim, norm):
    x = X if name in ("rfft", "ihfft") else C
    eq(getattr(F, name)(x, n=n, dim=dim, norm=norm), getattr(np.fft, name)(x, n=n, axis=dim, norm=norm))


@pytest.mark.parametrize("name", N_D)
@given(case=st.sampled_from([(None, None), ((5, 4), (0, 2)), ((3, 3), None), (None, (1,)), ((4,), (-1,))]),
       norm=st.sampled_from([None, "ortho", "forward"]))
def test_n_dimensional_transforms_are_numpys(name, case, norm):
    s, dim = case
    x = X if name.startswith("rfft") else C
    if name.endswith("2") and (dim is None or len(dim) != 2):
        dim = (-2, -1) if s is None or len(s) == 2 else None
        if dim is None:
            return
    kw = dict(s=s) if s is not None else {}
    want = getattr(np.fft, name)(x, axes=dim, norm=norm, **kw)
    eq(getattr(F, name)(x, dim=dim, norm=norm, **kw), want)


@given(s=st.sampled_from([None, (4, 6), (3, 5)]), norm=st.sampled_from([None, "ortho", "forward"]))
def test_hermitian_n_dimensional_transforms(s, norm):
    """hfftn of x is the n-d transform of the Hermitian signal x is half of: irfftn of conj(x) scaled the other way;
    ihfftn inverts it."""
    swapped = {None: "forward", "ortho": "ortho", "forward": "backward"}[norm]
    want = np.fft.irfftn(np.conj(C), s=s, axes=(1, 2), norm=swapped)
    eq(F.hfftn(C, s=s, dim=(1, 2), norm=norm), want)
    eq(F.hfft2(C, s=s, dim=(1, 2), norm=norm), want)
    eq(F.ihfftn(X, s=s, dim=(1, 2), norm=norm), np.conj(np.fft.rfftn(X, s=s, axes=(1, 2), norm=swapped)))
    real = rng.standard_normal((4, 6))
    eq(F.hfftn(F.ihfftn(real), s=real.shape), real)
    eq(F.ihfft2(real), F.ihfftn(real, dim=(-2, -1)))


def test_dtypes_follow_pytorch():
    assert F.fft(np.arange(4)).dtype == np.complex64  # integers: the default float
    assert F.rfft(np.arange(4, dtype=np.int32)).dtype == np.complex64
    assert F.fft(np.ones(4)).dtype == np.complex128
    assert F.irfft(F.rfft(np.ones(4, dtype=np.float32))).dtype == np.float32
    eq(F.fftfreq(5, 0.5), np.fft.fftfreq(5, 0.5).astype(np.float32), dtype=np.float32)
    eq(F.rfftfreq(6), np.fft.rfftfreq(6).astype(np.float32), dtype=np.float32)
    eq(F.fftfreq(4, dtype=np.float64), np.fft.fftfreq(4), dtype=np.float64)


@given(dim=st.none() | st.integers(-3, 2) | st.sampled_from([(0, 2), [1, 2]]))
def test_shifts(dim):
    axes = tuple(dim) if isinstance(dim, list) else dim
    eq(F.fftshift(X, dim=dim), np.fft.fftshift(X, axes=axes))
    eq(F.ifftshift(X, dim=dim), np.fft.ifftshift(X, axes=axes))
    eq(F.ifftshift(F.fftshift(X, dim=dim), dim=dim), X)


def test_fft_derivatives_and_vmap():
    x = rng.standard_normal((2, 5))
    check_grads(lambda x: fnp.abs(F.rfft(x, n=6, dim=0)) ** 2, (x,), order=2)
    check_grads(lambda x: F.irfft(F.rfft(x, norm="ortho") * 1.5, n=5), (x,))
    check_grads(lambda x: F.hfftn(x, s=(2, 6)), (x,))
    check_grads(lambda x: fnp.real(F.fft2(x)) + fnp.imag(F.ifftn(x, s=(3, 5))[:2]), (x,))
    check_vmap(lambda x: F.fftn(x, dim=(0, 1)), (rng.standard_normal((3, 4, 5)),))
    check_vmap(lambda x: F.ihfft(x, n=7), (rng.standard_normal((3, 4)),))


# ----- fnx.special against formulas -------------------------------------------------------------------

def reals(n=6, domain="real"):
    return hnp.arrays(np.float64, (n,), elements=elements(domain))


_erf, _erfc, _lgamma = np.vectorize(math.erf), np.vectorize(math.erfc), np.vectorize(math.lgamma)


@given(reals())
def test_special_formulas(x):
    eq(S.erf(x), _erf(x), rtol=1e-14)
    eq(S.erfc(x), _erfc(x), rtol=1e-14)
    eq(S.expit(x), 1 / (1 + np.exp(-x)), rtol=1e-14)
    eq(S.ndtr(x), 0.5 * _erfc(-x / math.sqrt(2)), rtol=1e-14)
    eq(S.log_ndtr(x), np.log(0.5 * _erfc(-x / math.sqrt(2))), rtol=1e-13)
    eq(S.exp2(x), 2.0 ** x, rtol=1e-14)
    eq(S.expm1(x), np.expm1(x))
    eq(S.log1p(np.abs(x)), np.log1p(np.abs(x)))
    eq(S.sinc(x), np.sinc(x))
    eq(S.spherical_bessel_j0(x), np.where(x == 0, 1.0, np.sin(x) / np.where(x == 0, 1.0, x)), rtol=1e-14)
    eq(S.erfinv(S.erf(x / 3)), x / 3, rtol=1e-10, atol=1e-14)
    eq(S.ndtri(S.ndtr(x)), x, rtol=1e-9, atol=1e-12)
    eq(S.logit(S.expit(x)), x, rtol=1e-9, atol=1e-12)
    eq(S.erfcx(x), np.exp(x * x) * _erfc(x), rtol=1e-13)


@given(reals(domain="positive"))
def test_gamma_family(a):
    eq(S.gammaln(a), _lgamma(a), rtol=1e-13)
    eq(S.digamma(a), S.polygamma(0, a))
    eq(S.psi(a), S.digamma(a))
    h = 1e-5
    eq(S.digamma(a), (_lgamma(a + h) - _lgamma(a - h)) / (2 * h), rtol=1e-7)
    eq(S.multigammaln(a + 2, 3), 3 * math.log(math.pi) / 2 + _lgamma(a + 2) + _lgamma(a + 1.5) + _lgamma(a + 1),
       rtol=1e-13)
    eq(S.gammainc(1.0, a), 1 - np.exp(-a), rtol=1e-13)
    eq(S.gammaincc(1.0, a), np.exp(-a), rtol=1e-13)
    n = a[:, None] + np.arange(50.0)
    big = a + 50.0  # Euler-Maclaurin for the tail of sum_k (a + k)^-2
    tail = 1 / big + 1 / (2 * big ** 2) + 1 / (6 * big ** 3) - 1 / (30 * big ** 5)
    eq(S.zeta(2.0, a), np.sum(n ** -2.0, axis=1) + tail, rtol=1e-11)
    eq(S.i0e(a), S.i0(a) * np.exp(-a), rtol=1e-13)
    eq(S.i1e(a), S.i1(a) * np.exp(-a), rtol=1e-13)
    eq(S.modified_bessel_i0(a), S.i0(a))
    eq(S.modified_bessel_i1(a), S.i1(a))
    eq(S.xlogy(a, a[::-1]), a * np.log(a[::-1]))
    eq(S.xlog1py(a, a[::-1]), a * np.log1p(a[::-1]))
    eq(S.entr(a), -a * np.log(a))


def test_erfcx_far_out_and_near_its_switch():
    x = np.array([6.9999, 7.0, 7.0001, 26.0, 1e4, 1e200, -26.0, -30.0])
    with np.errstate(over="ignore"):
        direct = np.exp(x[:4] ** 2) * _erfc(x[:4])
    eq(S.erfcx(x[:4]), direct, rtol=1e-13)
    eq(S.erfcx(x[4:6]), 1 / (x[4:6] * math.sqrt(math.pi)), rtol=1e-8)  # leading term of the series
    eq(S.erfcx(x[6:7]), [2 * np.exp(676.0)], rtol=1e-13)
    assert np.asarray(S.erfcx(x[7:]))[0] == np.inf
    assert S.erfcx(np.float32(3.0)).dtype == np.float32


def test_torch_surface():
    x = fnp.asarray(rng.standard_normal((3, 4)))
    eq(S.logit(np.array([0.0, 0.5, 1.0]), eps=0.1), [math.log(1 / 9), 0.0, math.log(9)])
    eq(S.round(np.array([1.25, 2.5, -0.35]), decimals=1), [1.2, 2.5, -0.4])
    eq(S.round(np.array([0.5, 1.5, 2.5])), [0.0, 2.0, 2.0])
    for dim in (0, 1, -1):
        e = np.exp(np.asarray(x))
        eq(S.softmax(x, dim), e / e.sum(axis=dim, keepdims=True))
        eq(S.log_softmax(x, dim), np.log(e / e.sum(axis=dim, keepdims=True)))
        eq(S.logsumexp(x, dim, keepdim=True), np.log(e.sum(axis=dim, keepdims=True)))
    eq(S.logsumexp(x, (0, 1)), np.log(np.exp(np.asarray(x)).sum()))
    eq(S.logsumexp(x, [0, 1]), S.logsumexp(x, (0, 1)))
    assert S.softmax(np.ones(3, dtype=np.float32), 0, dtype=np.float64).dtype == np.float64
    assert S.log_softmax(np.arange(3), 0).dtype == np.float32
    for f in (S.erf, S.expit, S.gammaln, S.exp2, S.sinc, S.i0, S.ndtr, S.erfcx):
        assert f(np.arange(3)).dtype == np.float32, f.__name__  # integers compute in the default float
    assert S.xlogy(2, np.array([3, 4])).dtype == np.float32
    assert S.xlogy(2.0, np.array([3.0], dtype=np.float32)).dtype == np.float32  # Python scalars are weak
    eq(S.xlogy(0.0, np.array([0.0])), [0.0])
    eq(S.zeta(np.array([2.0, 4.0]), 1.0), [math.pi ** 2 / 6, math.pi ** 4 / 90], rtol=1e-13)


@pytest.mark.parametrize("name,f,args", [
    ("erfcx", S.erfcx, (np.array([-2.0, 0.3, 6.5, 7.5, 30.0]),)),
    ("spherical_bessel_j0", S.spherical_bessel_j0, (np.array([-2.0, 0.05, 0.09, 3.0]),)),
    ("logit", lambda x: S.logit(x, eps=0.01), (np.array([0.2, 0.5, 0.9]),)),
    ("log_softmax", lambda x: S.log_softmax(x, 1), (rng.standard_normal((2, 3)),)),
    ("logsumexp", lambda x: S.logsumexp(x, (0, 1)), (rng.standard_normal((2, 3)),)),
    ("xlog1py", S.xlog1py, (np.array([0.5, 2.0]), np.array([0.3, 1.5]))),
    ("polygamma", lambda x: S.polygamma(2, x), (np.array([0.7, 2.5]),)),
], ids=lambda v: v if isinstance(v, str) else "")
def test_special_derivatives(name, f, args):
    check_grads(f, args, order=2)


def test_erfcx_derivative_is_its_ode():
    """erfcx' = 2 x erfcx - 2 / sqrt(pi), on both sides of the switch."""
    x = fnp.asarray(np.array([-3.0, 0.0, 1.0, 6.99, 7.01, 50.0]))
    d = fnx.vmap(fnx.grad(S.erfcx))(x)
    eq(d, 2 * np.asarray(x) * np.asarray(S.erfcx(x)) - 2 / math.sqrt(math.pi), rtol=1e-9, atol=1e-12)


# ----- PyTorch itself, where installed ---------------------------------------------------------------------


def _torch():
    return pytest.importorskip("torch")


def _agree(got, want, rtol=1e-6, atol=1e-6):
    want = want.detach().resolve_conj().numpy()
    got = np.asarray(got)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, want.dtype, got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_fft_against_torch(dt):
    torch = _torch()
    x, c = X.astype(dt), C.astype(np.complex64 if dt == np.float32 else np.complex128)
    tol = 1e-4 if dt == np.float32 else 1e-10
    for norm in (None, "ortho", "forward"):
        for name in ONE_D:
            arg = x if name in ("rfft", "ihfft") else c
            for n in (None, 5):
                _agree(getattr(F, name)(arg, n=n, dim=1, norm=norm),
                       getattr(torch.fft, name)(torch.tensor(arg), n=n, dim=1, norm=norm), tol, tol)
        for name in N_D + ["hfft2", "ihfft2", "hfftn", "ihfftn"]:
            arg = x if name.startswith(("rfft", "ihfft")) else c
            for s, dim in ((None, (0, 2)), ((5, 4), (0, 2)), ((3, 3), (-2, -1))):
                _agree(getattr(F, name)(arg, s=s, dim=dim, norm=norm),
                       getattr(torch.fft, name)(torch.tensor(arg), s=s, dim=dim, norm=norm), tol, tol)
    _agree(F.fft(np.arange(5)), torch.fft.fft(torch.arange(5)))
    for n in (1, 4, 7):
        _agree(F.fftfreq(n, 0.3), torch.fft.fftfreq(n, 0.3))
        _agree(F.rfftfreq(n), torch.fft.rfftfreq(n))
    for dim in (None, 0, (1, 2)):
        _agree(F.fftshift(x, dim=dim), torch.fft.fftshift(torch.tensor(x), dim=dim))
        _agree(F.ifftshift(x, dim=dim), torch.fft.ifftshift(torch.tensor(x), dim=dim))


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_special_against_torch(dt):
    torch = _torch()
    T = torch.special
    tol = 3e-5 if dt == np.float32 else 1e-10
    x = np.concatenate([rng.standard_normal(20) * 4, [0.0, -30.0, 7.0, 6.99, 30.0, 1e5]]).astype(dt)
    u = rng.uniform(0.001, 0.999, 20).astype(dt)
    p = rng.uniform(0.1, 8, 20).astype(dt)
    clipped = np.clip(x, -20, 20)
    for name, arg in [("expit", x), ("erf", x), ("erfc", x), ("erfcx", x), ("i0e", x), ("i1e", x), ("ndtr", x),
                      ("log_ndtr", x), ("sinc", x), ("spherical_bessel_j0", x), ("entr", x), ("i0", clipped),
                      ("i1", clipped), ("exp2", clipped), ("expm1", clipped), ("log1p", np.abs(x)),
                      ("modified_bessel_i0", clipped), ("modified_bessel_i1", clipped), ("erfinv", u), ("ndtri", u),
                      ("logit", u), ("gammaln", p), ("digamma", p), ("psi", p)]:
        _agree(getattr(S, name)(arg), getattr(T, name)(torch.tensor(arg)), tol * 10, tol)
    _agree(S.logit(u, eps=0.1), T.logit(torch.tensor(u), eps=0.1), tol, tol)
    for n in (0, 1, 3):
        _agree(S.polygamma(n, p), T.polygamma(n, torch.tensor(p)), tol * 100, tol)
    _agree(S.multigammaln(p + 2, 3), T.multigammaln(torch.tensor(p + 2), 3), tol * 10, tol)
    q = p[::-1].copy()
    for name in ("gammainc", "gammaincc", "xlogy", "xlog1py"):
        _agree(getattr(S, name)(p, q), getattr(T, name)(torch.tensor(p), torch.tensor(q)), tol * 10, tol)
    _agree(S.zeta(p + 1, q), T.zeta(torch.tensor(p + 1), torch.tensor(q)), tol * 10, tol)
    m = rng.standard_normal((3, 4)).astype(dt)
    for d in (0, 1):
        _agree(S.softmax(m, d), T.softmax(torch.tensor(m), d), tol, tol)
        _agree(S.log_softmax(m, d), T.log_softmax(torch.tensor(m), d), tol, tol)
        _agree(S.logsumexp(m, d, keepdim=True), T.logsumexp(torch.tensor(m), d, keepdim=True), tol, tol)
    _agree(S.log_softmax(m, 0, dtype=fnx.float64), T.log_softmax(torch.tensor(m), 0, dtype=torch.float64), tol, tol)
    _agree(S.round(x * 10, decimals=1), T.round(torch.tensor(x * 10), decimals=1), tol, tol)
    _agree(S.erf(np.arange(3)), T.erf(torch.arange(3)))
    _agree(S.xlogy(2, np.array([3, 4])), T.xlogy(2, torch.tensor([3, 4])))


def test_matrix_exp_against_torch():
    torch = _torch()
    for scale in (0.1, 1.0, 10.0):
        a = rng.standard_normal((2, 4, 4)) * scale
        _agree(fnx.linalg.matrix_exp(a), torch.linalg.matrix_exp(torch.tensor(a)), 1e-10, 1e-10)
        a32 = a.astype(np.float32)
        _agree(fnx.matrix_exp(a32), torch.matrix_exp(torch.tensor(a32)), 1e-4, 1e-4 * scale ** 2)
        _agree(fnx.tensor(a32).matrix_exp(), torch.tensor(a32).matrix_exp(), 1e-4, 1e-4 * scale ** 2)
    a = torch.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    torch.linalg.matrix_exp(a).pow(2).sum().backward()
    g = fnx.grad(lambda a: fnp.sum(fnx.linalg.matrix_exp(a) ** 2))(a.detach().numpy())
    _agree(g, a.grad, 1e-9, 1e-9)


def test_logit_with_eps_passes_the_whole_gradient_at_the_ends_of_its_interval_as_pytorch():
    # torch.special.logit(x, eps)'s derivative: 1 / (x (1 - x)) on [eps, 1 - eps], its ends included; 0 outside.
    grads = fnx.grad(lambda v: fnp.sum(fnx.special.logit(v, 0.1)))(np.array([0.1, 0.5, 0.9, 0.05, 0.95]))
    np.testing.assert_allclose(grads, [1 / 0.09, 4.0, 1 / 0.09, 0.0, 0.0])


def test_n_dimensional_transforms_take_one_int_size_and_no_frequencies_of_zero_points_as_pytorch():
    x = fnp.ones((4, 3))
    assert fnx.fft.fftn(x, s=4, dim=0).shape == (4, 3) and fnx.fft.fftn(x, s=4).shape == (4, 4)
    assert fnx.fft.rfftn(x, s=4).shape == (4, 3) and fnx.fft.hfftn(x, s=4).shape == (4, 4)
    assert fnx.fft.ihfftn(x, s=4).shape == (4, 3) and fnx.fft.irfftn(x, s=6).shape == (4, 6)
    assert fnx.fft.fftfreq(0).shape == (0,)
    assert fnx.fft.rfftfreq(0).shape == (1,) and np.isnan(fnx.fft.rfftfreq(0)[0])
