"""rankdata, sem and mode (jax.scipy.stats's), against scipy.stats."""
import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
import fnx.scipy.stats as st

RNG = np.random.default_rng(0)
SAMPLES = [RNG.integers(0, 4, (5, 6)).astype(float), RNG.integers(0, 3, (7,)).astype(float), RNG.integers(0, 3, (2, 3, 4))]


@pytest.mark.parametrize("method", ["average", "min", "max", "dense", "ordinal"])
def test_rankdata_matches_scipy(method):
    ss = pytest.importorskip("scipy.stats")
    for a in SAMPLES:
        for axis in [None] + list(range(-a.ndim, a.ndim)):
            ours, theirs = st.rankdata(fnp.asarray(a), method, axis=axis), ss.rankdata(a, method, axis=axis)
            assert ours.shape == theirs.shape and ours.dtype == theirs.dtype, (method, axis)
            np.testing.assert_array_equal(np.asarray(ours), theirs)
    with pytest.raises(ValueError, match="rankdata: unknown method 'first'"):
        st.rankdata(fnp.ones(3), "first")


def test_mode_and_sem_match_scipy():
    ss = pytest.importorskip("scipy.stats")
    for a in SAMPLES:
        for axis in [None] + list(range(a.ndim)):
            for keepdims in (False, True):
                ours, theirs = st.mode(fnp.asarray(a), axis=axis, keepdims=keepdims), ss.mode(a, axis=axis,
                                                                                             keepdims=keepdims)
                assert ours.mode.shape == np.shape(theirs.mode), (a.shape, axis, keepdims)
                np.testing.assert_array_equal(np.asarray(ours.mode), theirs.mode)
                np.testing.assert_array_equal(np.asarray(ours.count), theirs.count)
                sem = st.sem(fnp.asarray(a), axis=axis, keepdims=keepdims)
                np.testing.assert_allclose(np.asarray(sem), ss.sem(a, axis=axis, keepdims=keepdims), rtol=1e-12)


def test_summaries_under_jit_and_their_contract():
    x = fnp.array([[1, 2, 2], [3, 3, 1]])
    assert fnx.jit(lambda v: st.mode(v, axis=1))(x).mode.tolist() == [2, 3]  # the smallest of tied values too
    assert fnx.jit(st.rankdata)(fnp.array([3.0, 1.0, 3.0])).tolist() == [2.5, 1.0, 2.5]
    g = fnx.grad(lambda v: st.sem(v))(fnp.array([1.0, 2.0, 4.0]))
    assert np.isfinite(np.asarray(g)).all()
    with pytest.raises(NotImplementedError, match="only nan_policy='propagate'"):
        st.sem(fnp.ones(3), nan_policy="omit")
    with pytest.raises(ValueError, match="mode: the axis 0 of shape \\(0,\\) is empty"):
        st.mode(fnp.zeros(0))
