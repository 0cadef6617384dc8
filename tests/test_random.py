"""fnx.random: determinism of keys and streams, shapes and dtypes, bounds, and rough statistics."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import fnx
import fnx.numpy as fnp
from fnx import random as fr
from fnx.errors import DTypeError, ShapeError
from fnx.testing import check_grads, check_vmap

K = fr.key(0)


def _np(x):
    return np.asarray(x)

# ----- keys ---------------------------------------------------------------------------------------------


def test_keys_are_uint32_pairs():
    k = fr.key(2 ** 40 + 7)
    assert k.dtype == np.uint32 and k.shape == (2,)
    assert k.tolist() == [2 ** 8, 7]
    assert fr.PRNGKey(-1).tolist() == [2 ** 32 - 1, 2 ** 32 - 1]
    assert fr.key(np.int64(5)).tolist() == fr.key(5).tolist()


@pytest.mark.parametrize("key, count, expected", [
    # Random123's known-answer vectors for Threefry-2x32, 20 rounds (also in JAX's tests)
    ((0x00000000, 0x00000000), (0x00000000, 0x00000000), (0x6b200159, 0x99ba4efe)),
    ((0xffffffff, 0xffffffff), (0xffffffff, 0xffffffff), (0x1cb996fc, 0xbb002be7)),
    ((0x13198a2e, 0x03707344), (0x243f6a88, 0x85a308d3), (0xc4923a9c, 0x483df7a0)),
])
def test_threefry_known_answers(key, count, expected):
    out = fr.threefry2x32(np.array(key, np.uint32), np.array(count, np.uint32))
    assert out.dtype == np.uint32 and out.tolist() == list(expected)
    # leading axes broadcast: one key against several counters
    many = fr.threefry2x32(np.array(key, np.uint32), np.array([count, (0, 0), count], np.uint32))
    assert many[0].tolist() == many[2].tolist() == list(expected)


def test_same_key_same_numbers_and_fixed_streams():
    np.testing.assert_array_equal(fr.normal(K, (5,)), fr.normal(fr.key(0), (5,)))
    # the stream derivation is part of the API: these values must never change (they are jax.random's too)
    assert fr.split(K).tolist() == [[1797259609, 2579123966], [928981903, 3453687069]]
    assert fr.split(K).tolist() == [fr.threefry2x32(K, np.array([0, i], np.uint32)).tolist() for i in range(2)]
    assert fr.fold_in(K, 3).tolist() == [2467461003, 3840466878]
    assert fr.bits(K, (4,)).tolist() == [4070199207, 4202968722, 1427181096, 2012915765]
    np.testing.assert_array_equal(fr.uniform(K, (4,)), np.float32([0.947667, 0.9785799, 0.33229148, 0.46866846]))
    # bits: y0 ^ y1 (32) or y0 * 2**32 + y1 (64) of the counter (0, i); uniforms keep the top mantissa bits
    y = np.array([fr.threefry2x32(K, np.array([0, i], np.uint32)).tolist() for i in range(3)], np.uint64)
    assert fr.bits(K, (3,)).tolist() == (y[:, 0] ^ y[:, 1]).tolist()
    w = (y[:, 0] << np.uint64(32)) | y[:, 1]
    assert fr.bits(K, (3,), "uint64").tolist() == w.tolist()
    np.testing.assert_array_equal(fr.uniform(K, (3,), "float64"), (w >> np.uint64(12)) * 2.0 ** -52)
    # a longer draw extends a shorter one, whatever the shape
    np.testing.assert_array_equal(_np(fr.normal(K, (2, 3)))[0], _np(fr.normal(K, (3,))))


def test_split_and_fold_in_give_new_streams():
    a, b = fr.split(K)
    keys = [K, a, b, fr.fold_in(a, 0), fr.fold_in(K, 9)] + list(fr.split(K, 5))
    samples = {tuple(_np(fr.normal(k, (4,), "float64")).tolist()) for k in keys}
    assert len(samples) == 5 + 5 - 2  # split(K, 5) starts with the same two keys as split(K)
    assert fr.split(K, 5)[:2].tolist() == fr.split(K).tolist()
    # fold_in(key, i) is the i-th key split from key (as in JAX)
    assert [fr.fold_in(K, i).tolist() for i in range(5)] == fr.split(K, 5).tolist()
    assert fr.fold_in(K, 7).tolist() == fr.fold_in(fr.key(0), 7).tolist()
    assert fr.fold_in(K, 2 ** 32 + 7).tolist() == fr.fold_in(K, 7).tolist()
    assert fr.fold_in(K, np.int64(7)).tolist() == fr.fold_in(K, 7).tolist()
    assert fr.split(K, 0).shape == (0, 2)


def test_bad_keys_and_arguments_are_refused():
    with pytest.raises(TypeError, match="normal: expected a key"):
        fr.normal(np.zeros(2, np.int64))
    with pytest.raises(TypeError, match=r"index a batch of keys"):
        fr.uniform(fr.split(K, 3))
    with pytest.raises(TypeError, match="key: the seed must be an integer"):
        fr.key(1.5)
    with pytest.raises(TypeError, match="fold_in: data must be an integer"):
        fr.fold_in(K, 0.5)
    with pytest.raises(ValueError, match="split: num must be a non-negative integer"):
        fr.split(K, -1)
    with pytest.raises(ValueError, match="normal: each dimension must be a non-negative integer"):
        fr.normal(K, (2, -1))
    with pytest.raises(DTypeError, match="normal: dtype must be a floating dtype"):
        fr.normal(K, (2,), dtype="int32")
    with pytest.raises(DTypeError, match="randint: dtype must be an integer dtype"):
        fr.randint(K, (2,), 0, 3, dtype="float32")
    with pytest.raises(ValueError, match="randint: minval must be below maxval"):
        fr.randint(K, (2,), 3, 3)
    with pytest.raises(ValueError, match="does not fit uint8"):
        fr.randint(K, (2,), 0, 300, dtype="uint8")
    with pytest.raises(ShapeError, match="uniform: minval of shape \\(3,\\) does not broadcast to shape \\(2,\\)"):
        fr.uniform(K, (2,), minval=np.zeros(3))
    with pytest.raises(ShapeError, match="categorical: shape \\(3,\\) must end with a shape that the batch shape \\(2,\\)"):
        fr.categorical(K, np.zeros((2, 4)), shape=(3,))
    with pytest.raises(ValueError, match="truncated_normal: lower must be below upper"):
        fr.truncated_normal(K, 1.0, 0.0)
    with pytest.raises(ValueError, match="without replacement"):
        fr.choice(K, 3, (4,), replace=False)
    with pytest.raises(DTypeError, match="bits: dtype must be uint8, uint16, uint32 or uint64"):
        fr.bits(K, (2,), "int32")
    with pytest.raises(TypeError, match="threefry2x32: count must be a uint32 array"):
        fr.threefry2x32(K, np.zeros(3, np.uint32))

# ----- shapes, dtypes, bounds ----------------------------------------------------------------------------


@pytest.mark.parametrize("sampler", [fr.normal, fr.uniform, fr.gumbel, fr.exponential])
def test_float_samplers_follow_the_default_dtype(sampler):
    assert sampler(K, (2, 3)).dtype == np.float32
    assert sampler(K, (2, 3), dtype="float64").dtype == np.float64
    assert sampler(K, 4).shape == (4,) and sampler(K).shape == ()
    fnx.set_default_dtype("float64")
    try:
        assert sampler(K, (2,)).dtype == np.float64
    finally:
        fnx.set_default_dtype("float32")


def test_integer_and_boolean_samplers():
    assert fr.bits(K, (2, 3)).dtype == np.uint32 and fr.bits(K, (), "uint64").dtype == np.uint64
    assert fr.randint(K, (3,), 0, 5).dtype == np.int64
    assert fr.randint(K, (3,), 0, 5, dtype="uint8").dtype == np.uint8
    assert fr.bernoulli(K, 0.3, (2, 2)).dtype == np.bool_
    assert fr.bernoulli(K, np.full((4, 1), 0.5)).shape == (4, 1)
    assert fr.categorical(K, np.zeros((2, 5))).shape == (2,)
    assert fr.categorical(K, np.zeros((2, 5)), axis=0, shape=(7, 5)).shape == (7, 5)
    assert fr.permutation(K, 6).dtype == np.int64


def test_bounds():
    u = _np(fr.uniform(K, (100_000,), minval=2.0, maxval=2.0000002))  # a float32 range of a few ulps
    assert u.min() >= 2.0 and u.max() < np.float32(2.0000002)
    u = _np(fr.uniform(K, (4, 100_000), "float64", minval=np.array([[-1.0], [0.0], [5.0], [-1e-300]]),
                       maxval=np.array([[1.0], [1e-9], [6.0], [1e-300]])))
    assert np.all(u >= [[-1.0], [0.0], [5.0], [-1e-300]]) and np.all(u < [[1.0], [1e-9], [6.0], [1e-300]])
    r = _np(fr.randint(K, (100_000,), -3, 4))
    assert r.min() == -3 and r.max() == 3
    r = _np(fr.randint(K, (1000,), np.iinfo(np.int64).min, np.iinfo(np.int64).max))
    assert r.dtype == np.int64 and len(set(r.tolist())) == 1000
    for lo, hi in [(-1.0, 1.0), (2.0, 2.5), (-np.inf, -3.0), (6.0, np.inf), (-40.0, -39.0)]:
        t = _np(fr.truncated_normal(K, lo, hi, (20_000,), dtype="float64"))
        assert np.all(t > lo) and np.all(t < hi), (lo, hi)
    t = _np(fr.truncated_normal(K, -2.0, 2.0, (50_000,)))
    assert t.dtype == np.float32 and np.all(np.abs(t) < 2.0)


def test_permutation_is_a_permutation():
    p = _np(fr.permutation(K, 100))
    assert sorted(p.tolist()) == list(range(100)) and p.tolist() != list(range(100))
    x = fnp.arange(12.0).reshape(3, 4)
    for axis in (0, 1, -1):
        y = _np(fr.permutation(K, x, axis=axis))
        assert np.array_equal(np.sort(y, axis=axis), _np(x))
    # shuffling an array is a gather, so gradients flow back to it
    g = fnx.grad(lambda x: fnp.sum(fr.permutation(K, x) * fnp.arange(5.0)))(fnp.zeros(5))
    assert sorted(_np(g).tolist()) == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_choice():
    c = _np(fr.choice(K, 5, (1000,)))
    assert set(c.tolist()) == set(range(5))
    c = _np(fr.choice(K, 10, (10,), replace=False))
    assert sorted(c.tolist()) == list(range(10))
    c = _np(fr.choice(K, 4, (2000,), p=[0.0, 0.5, 0.5, 0.0]))
    assert set(c.tolist()) == {1, 2}
    c = _np(fr.choice(K, 4, (2,), replace=False, p=[0.0, 0.5, 0.5, 0.0]))
    assert sorted(c.tolist()) == [1, 2]
    rows = _np(fr.choice(K, fnp.arange(6.0).reshape(3, 2), (5,)))
    assert rows.shape == (5, 2) and np.all(rows[:, 1] == rows[:, 0] + 1)

# ----- statistics (loose, fixed keys) -------------------------------------------------------------------


def test_normal_statistics():
    z = _np(fr.normal(fr.key(1), (100_000,), "float64"))
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1.0) < 0.02
    assert abs(np.mean(np.abs(z) > 1.96) - 0.05) < 0.005
    a, b = fr.split(fr.key(1))
    za, zb = _np(fr.normal(a, (100_000,), "float64")), _np(fr.normal(b, (100_000,), "float64"))
    assert abs(np.corrcoef(za, zb)[0, 1]) < 0.02


def test_other_distributions_statistics():
    n = 100_000
    u = _np(fr.uniform(fr.key(2), (n,), "float64"))
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.var() - 1 / 12) < 0.005
    assert abs(_np(fr.bernoulli(fr.key(3), 0.3, (n,))).mean() - 0.3) < 0.01
    assert abs(_np(fr.exponential(fr.key(4), (n,), "float64")).mean() - 1.0) < 0.02
    assert abs(_np(fr.gumbel(fr.key(5), (n,), "float64")).mean() - 0.5772156649) < 0.02
    counts = np.bincount(_np(fr.randint(fr.key(6), (n,), 0, 10)), minlength=10) / n
    assert np.all(np.abs(counts - 0.1) < 0.01)
    t = _np(fr.truncated_normal(fr.key(7), 0.0, np.inf, (n,), "float64"))
    assert abs(t.mean() - math.sqrt(2 / math.pi)) < 0.02


def test_categorical_frequencies_follow_softmax():
    logits = np.array([[0.0, 1.0, 2.0, -1.0], [3.0, 0.0, 0.0, 0.0]])
    draws = _np(fr.categorical(fr.key(8), logits, shape=(50_000, 2)))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    for row in range(2):
        freq = np.bincount(draws[:, row], minlength=4) / draws.shape[0]
        np.testing.assert_allclose(freq, probs[row], atol=0.01)
    draws = _np(fr.categorical(fr.key(9), logits.T, axis=0))
    assert draws.shape == (2,)


def test_tail_of_the_truncated_normal_is_accurate():
    t = _np(fr.truncated_normal(fr.key(10), 8.0, 9.0, (20_000,), "float64"))
    # conditional mean of a standard normal above 8 is about 8.1216 (inverse Mills ratio)
    assert 8.0 < t.min() and t.max() < 9.0 and abs(t.mean() - 8.1216) < 0.01

# ----- vmap: a batch of keys gives one independent draw per key -------------------------------------------

KEYS = fr.split(fr.key(11), 8)

SAMPLERS = {
    "bits": lambda k: fr.bits(k, (3,), "uint64"),
    "split": lambda k: fr.split(k, 3),
    "fold_in": lambda k: fr.fold_in(k, 5),
    "normal": lambda k: fr.normal(k, (2, 3)),
    "uniform": lambda k: fr.uniform(k, (3,), "float64", minval=-1.0, maxval=2.0),
    "truncated_normal": lambda k: fr.truncated_normal(k, np.array([-1.0, 8.0, -np.inf]), 9.0, dtype="float64"),
    "bernoulli": lambda k: fr.bernoulli(k, 0.3, (5,)),
    "categorical": lambda k: fr.categorical(k, fnp.zeros((2, 5))),
    "randint": lambda k: fr.randint(k, (4,), -3, 10, dtype="int32"),
    "permutation": lambda k: fr.permutation(k, 6),
    "shuffle": lambda k: fr.permutation(k, fnp.arange(12.0).reshape(3, 4), axis=1),
    "choice": lambda k: fr.choice(k, 5, (3,)),
    "choice_p": lambda k: fr.choice(k, 5, (3,), p=[0.1, 0.2, 0.3, 0.4, 0.0]),
    "choice_without_replacement": lambda k: fr.choice(k, 6, (3,), replace=False),
    "choice_without_replacement_p": lambda k: fr.choice(k, 6, (2,), replace=False, p=[0.1, 0.2, 0.3, 0.1, 0.1, 0.2]),
    "gumbel": lambda k: fr.gumbel(k, (3,)),
    "exponential": lambda k: fr.exponential(k, (3,)),
}


@pytest.mark.parametrize("name", SAMPLERS)
def test_vmap_over_keys_equals_the_loop(name):
    check_vmap(SAMPLERS[name], (KEYS,))
    check_vmap(SAMPLERS[name], (fnp.moveaxis(KEYS, 0, 1),), in_axes=1, out_axes=-1)


def test_vmap_of_normal_is_the_loop_exactly():
    batched = _np(fnx.vmap(lambda k: fr.normal(k, (5,), "float64"))(KEYS))
    np.testing.assert_array_equal(batched, np.stack([_np(fr.normal(k, (5,), "float64")) for k in KEYS]))
    nested = fnx.vmap(fnx.vmap(lambda k: fr.normal(k, (5,), "float64")))(fnp.reshape(KEYS, (2, 4, 2)))
    np.testing.assert_array_equal(_np(nested).reshape(8, 5), batched)


@pytest.mark.parametrize("name", ["normal", "randint", "permutation", "categorical", "split"])
def test_vmap_draws_the_whole_batch_in_one_call(name):
    graph = fnx.make_graph(fnx.vmap(SAMPLERS[name]))(KEYS)
    names = [eqn.prim.name for eqn in graph.eqns]
    rounds = 2 if name == "permutation" else 1  # (a sorting round splits its key, then draws: as JAX's)
    assert names.count("random_bits") + names.count("threefry2x32") == rounds, names


def test_vmap_over_distribution_parameters():
    lo = fnp.asarray([-1.0, 0.0, 5.0], dtype="float64")
    check_vmap(lambda lo: fr.uniform(K, (4,), "float64", minval=lo, maxval=lo + 1.0), (lo,))
    check_vmap(lambda k, lo: fr.truncated_normal(k, lo, lo + 1.0, (4,), "float64"), (KEYS[:3], lo))
    check_vmap(lambda p: fr.bernoulli(K, p, (4,)), (fnp.asarray([0.1, 0.5, 0.9]),))
    logits = fnp.asarray(np.random.default_rng(0).normal(size=(3, 4, 5)))
    check_vmap(lambda logits: fr.categorical(K, logits), (logits,))
    check_vmap(lambda hi: fr.randint(K, (4,), 0, hi), (fnp.asarray([2, 10, 1000]),))
    check_vmap(lambda i: fr.fold_in(K, i), (fnp.arange(4),))


def test_batched_draws_are_independent():
    z = _np(fnx.vmap(lambda k: fr.normal(k, (2000,), "float64"))(fr.split(fr.key(12), 50)))
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1.0) < 0.01
    corr = np.corrcoef(z)[np.triu_indices(50, 1)]
    assert np.abs(corr).max() < 0.1

# ----- samples under differentiation: constants, but for the reparameterised bounds ------------------------


def test_samples_are_constants_but_uniform_and_truncated_normal_follow_their_bounds_as_in_jax():
    x = fnp.asarray(0.5, dtype="float64")
    # jax.random.uniform is minval + u (maxval - minval) and truncated_normal Phi^-1 of a point between
    # Phi(lower) and Phi(upper), for fixed draws: both differentiate in their bounds (they gave zero)
    assert float(fnx.grad(lambda lo: fnp.sum(fr.uniform(K, (3,), "float64", lo, lo + 2.0)))(x)) == 3.0
    check_grads(lambda lo, hi: fr.uniform(K, (4,), "float64", lo, hi), (x, x + 2.0), order=2)
    check_grads(lambda lo, hi: fr.truncated_normal(K, lo, hi, (4,), "float64"), (x - 1.5, x + 1.0), order=1)
    check_grads(lambda lo: fr.truncated_normal(K, lo, lo + 1.0, (4,), "float64"), (x,), order=1)
    assert float(fnx.grad(lambda s: fnp.sum(fr.categorical(K, fnp.stack([s, -s])) * 1.0))(x)) == 0.0
    x = fnp.asarray(np.linspace(-1.0, 1.0, 6))
    check_grads(lambda x: x * fr.bernoulli(K, 0.5, (6,)) + x ** 2 * fr.normal(K, (6,), "float64"), (x,), order=2)


def test_per_example_gradients_with_per_example_keys():
    """vmap(grad) with a random mask drawn from each example's key (dropout-style)."""
    xs = fnp.asarray(np.random.default_rng(1).normal(size=(8, 5)))

    def loss(x, k):
        keep = fr.bernoulli(k, 0.5, x.shape)
        return fnp.sum(fnp.where(keep, x, 0.0) ** 2 * fr.uniform(k, x.shape, "float64"))
    check_vmap(fnx.grad(loss), (xs, KEYS))
    check_grads(lambda xs: fnp.sum(fnx.vmap(loss)(xs, KEYS)), (xs,), order=2)

# ----- the global key source --------------------------------------------------------------------------------


def test_global_keys_are_apart_from_derived_ones():
    fr.manual_seed(5)
    drawn = {tuple(fr.next_key().tolist()) for _ in range(4)}
    root = fr.key(5)
    derived = {tuple(k) for k in fr.split(root, 8).tolist()} | {tuple(root.tolist())}
    assert len(drawn) == 4 and not drawn & derived
    fr.manual_seed(0)


def test_manual_seed_reproducibility():
    fr.manual_seed(123)
    first = [fr.next_key().tolist() for _ in range(3)]
    fr.manual_seed(123)
    again = [fr.next_key().tolist() for _ in range(3)]
    assert first == again and len({tuple(k) for k in first}) == 3
    fr.manual_seed(124)
    assert fr.next_key().tolist() != first[0]
    fr.manual_seed(0)

# ----- devices -------------------------------------------------------------------------------------------


def test_samples_live_on_the_key_device(device):
    """The same key gives the same numbers on every device, and the samples stay there."""
    k = fnx.device_put(fr.key(3), device)
    for f in [lambda k: fr.split(k, 3), lambda k: fr.fold_in(k, 4), lambda k: fr.normal(k, (4,)),
              lambda k: fr.uniform(k, (4,), minval=[0.0, 1.0, 2.0, 3.0], maxval=5.0),
              lambda k: fr.truncated_normal(k, -1.0, np.array(2.0), (4,)), lambda k: fr.bernoulli(k, 0.5, (4,)),
              lambda k: fr.categorical(k, [0.0, 1.0, 2.0]), lambda k: fr.randint(k, (4,), 0, [3, 4, 5, 6]),
              lambda k: fr.permutation(k, [1.0, 2.0, 3.0]), lambda k: fr.choice(k, 3, (2,), p=[0.2, 0.3, 0.5]),
              lambda k: fr.choice(k, 3, (2,), replace=False, p=[0.2, 0.3, 0.5])]:
        out = f(k)
        assert out.device == device
        np.testing.assert_array_equal(_np(out), _np(f(fr.key(3))))
    batched = fnx.vmap(lambda k: fr.normal(k, (3,)))(fr.split(k, 4))
    assert batched.device == device


def test_split_takes_a_shape_as_jax():
    keys = fnx.random.split(fnx.random.key(3), (2, 3))
    assert keys.shape == (2, 3, 2) and keys.dtype == np.uint32
    np.testing.assert_array_equal(np.asarray(keys).reshape(6, 2), np.asarray(fnx.random.split(fnx.random.key(3), 6)))
    jax = pytest.importorskip("jax")
    np.testing.assert_array_equal(np.asarray(keys), np.asarray(jax.random.split(jax.random.PRNGKey(3), (2, 3))))


def test_complex_normal_has_independent_parts_of_variance_one_half():
    z = np.asarray(fnx.random.normal(fnx.random.key(1), (100_000,), "complex128"))
    assert z.dtype == np.complex128
    assert abs(z.real.var() - 0.5) < 0.01 and abs(z.imag.var() - 0.5) < 0.01
    assert abs(np.mean(z.real * z.imag)) < 0.01 and abs(z.mean()) < 0.01
    assert fnx.random.normal(fnx.random.key(1), (2,), fnp.complex64).dtype == np.complex64
    jax = pytest.importorskip("jax")
    np.testing.assert_allclose(np.asarray(fnx.random.normal(fnx.random.PRNGKey(0), (5,), "complex64")),
                               np.asarray(jax.random.normal(jax.random.PRNGKey(0), (5,), "complex64")), rtol=2e-6)


@pytest.mark.parametrize("name", ["uniform", "normal", "exponential", "laplace", "rademacher", "gumbel", "logistic",
                                  "cauchy"])
def test_samplers_equal_jaxs_values(name):
    jax = pytest.importorskip("jax")
    for seed in (0, 3):
        ours = np.asarray(getattr(fr, name)(fr.PRNGKey(seed), (500,)))
        theirs = np.asarray(getattr(jax.random, name)(jax.random.PRNGKey(seed), (500,)))
        np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=2e-6)  # float32 log and tan in the far tails


def test_half_precision_uniforms_and_normals_and_normals_near_zero_are_jaxs():
    # JAX 0.10's values, pinned. float16 reads 16-bit words (the low half of each 32-bit one); a normal is
    # sqrt(2) erfinv(u) of JAX's uniform u in [nextafter(-1, 0), 1), which matters most near zero.
    np.testing.assert_array_equal(np.asarray(fr.uniform(fr.PRNGKey(0), (6,), "float16")).view(np.uint16),
                                  [13560, 13008, 11008, 14656, 13168, 13972])
    np.testing.assert_array_equal(fr.normal(fr.PRNGKey(0), (6,), "float16"),
                                  np.array([-0.49365234375, -0.79541015625, -1.5986328125, 0.40283203125,
                                            -0.72998046875, -0.2239990234375], np.float16))
    z = np.asarray(fr.normal(fr.PRNGKey(0), (20_000,)))
    np.testing.assert_allclose(z[[14467, 7301, 11061]], [-7.881201599957421e-05, -8.060489926720038e-05,
                                                          -8.628235082142055e-05], rtol=1e-6)


def test_permutations_and_draws_without_replacement_are_jaxs():
    # JAX 0.10's values, pinned: one round of sorting for 10 entries, two for 3000 (each on 32-bit words).
    assert fr.permutation(fr.PRNGKey(3), 10).tolist() == [0, 5, 6, 7, 4, 2, 1, 3, 9, 8]
    assert fr.permutation(fr.PRNGKey(3), fnp.asarray(10)).tolist() == [0, 5, 6, 7, 4, 2, 1, 3, 9, 8]  # 0-d: an int
    assert fr.permutation(fr.PRNGKey(3), 3000)[:8].tolist() == [861, 411, 2542, 2416, 949, 1036, 329, 2075]
    x = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(fr.permutation(fr.PRNGKey(0), fnp.asarray(x), axis=1, independent=True),
                                  [[0, 1, 3, 2], [5, 6, 4, 7], [8, 10, 11, 9]])
    assert fr.choice(fr.PRNGKey(0), 5, (3,), replace=False).tolist() == [0, 1, 4]
    assert fr.choice(fr.PRNGKey(0), fnp.asarray(5), (3,), replace=False).tolist() == [0, 1, 4]


def test_categorical_broadcasts_a_batch_dimension_of_one_against_shape_as_jax():
    draws = fr.categorical(fr.PRNGKey(0), fnp.zeros((1, 5)), shape=(4,))
    assert draws.shape == (4,) and draws.tolist() == [1, 3, 0, 0]  # JAX 0.10's draws
    with pytest.raises(ShapeError, match="categorical: shape \\(4,\\) must end with a shape"):
        fr.categorical(fr.PRNGKey(0), fnp.zeros((2, 5)), shape=(4,))


def test_exponential_laplace_and_rademacher_moments():
    key = fr.key(11)
    e, lap, r = (np.asarray(f(key, (200_000,))) for f in (fr.exponential, fr.laplace, fr.rademacher))
    assert (e >= 0).all() and abs(e.mean() - 1) < 0.01 and abs(e.var() - 1) < 0.03
    assert np.isfinite(lap).all() and abs(lap.mean()) < 0.01 and abs(lap.var() - 2) < 0.05
    assert set(np.unique(r)) == {-1, 1} and abs(r.mean()) < 0.01


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "uint32", "uint64"])
def test_bits_of_every_width(dtype):
    words = fr.bits(fr.key(5), (4, 3), dtype)
    assert words.dtype == np.dtype(dtype) and words.shape == (4, 3)
    if np.dtype(dtype).itemsize < 4:  # the low bits of the 32-bit words at the same places
        np.testing.assert_array_equal(np.asarray(words),
                                      np.asarray(fr.bits(fr.key(5), (4, 3), "uint32")).astype(dtype))
    with pytest.raises(DTypeError, match="bits: dtype must be uint8, uint16, uint32 or uint64"):
        fr.bits(fr.key(5), (2,), "int32")
    jax = pytest.importorskip("jax")
    if np.dtype(dtype).itemsize < 8:
        np.testing.assert_array_equal(np.asarray(words), np.asarray(jax.random.bits(jax.random.key(5), (4, 3), dtype)))


@given(words=st.lists(st.integers(0, 2 ** 32 - 1), min_size=4, max_size=4))
def test_threefry_of_one_block_in_python_equals_numpys(words):
    from fnx.random import _threefry, _threefry_words
    k0, k1, x0, x1 = (np.array([w], np.uint32) for w in words)
    expected = _threefry(np, k0, k1, x0, x1)
    assert _threefry_words(*words) == (int(expected[0][0]), int(expected[1][0]))


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_few_blocks_and_many_give_the_same_words(n):
    # Up to four blocks are enciphered one by one in Python, more by numpy's ufuncs: the words must agree.
    key = fnx.random.key(7)
    for dtype in ("uint32", "uint64"):
        assert fnx.random.bits(key, (n,), dtype).tolist() == fnx.random.bits(key, (50,), dtype)[:n].tolist()
    counts = np.arange(2 * 50, dtype=np.uint32).reshape(50, 2)
    many = fnx.random.threefry2x32(key, fnp.asarray(counts))
    assert fnx.random.threefry2x32(key, fnp.asarray(counts[:n])).tolist() == many[:n].tolist()
    keys = fnx.random.split(key, 50)
    assert fnx.random.split(key, n).tolist() == keys[:n].tolist()


def test_key_from_a_traced_seed_under_vmap_and_jit_as_jax():
    seeds = fnp.asarray([0, 1, 7, -1, 2 ** 40 + 5])
    batched = fnx.vmap(fnx.random.PRNGKey)(seeds)
    expected = np.stack([np.asarray(fnx.random.key(int(s))) for s in np.asarray(seeds)])
    np.testing.assert_array_equal(np.asarray(batched), expected)
    assert batched.dtype == np.uint32
    np.testing.assert_array_equal(np.asarray(fnx.jit(fnx.random.key)(7)), np.asarray(fnx.random.key(7)))
    draws = fnx.jit(lambda s: fnx.random.normal(fnx.random.key(s), (3,)))(3)  # a Python int: weakly typed
    np.testing.assert_array_equal(np.asarray(draws), np.asarray(fnx.random.normal(fnx.random.key(3), (3,))))
    per_seed = fnx.vmap(lambda s: fnx.random.uniform(fnx.random.key(s)))(fnp.arange(3))
    np.testing.assert_array_equal(np.asarray(per_seed),
                                  [float(fnx.random.uniform(fnx.random.key(i))) for i in range(3)])
    jax = pytest.importorskip("jax")
    np.testing.assert_array_equal(np.asarray(fnx.vmap(fnx.random.PRNGKey)(fnp.arange(4))),
                                  np.asarray(jax.vmap(jax.random.PRNGKey)(np.arange(4))))


def test_randint_with_traced_bounds_has_jaxs_meaning():
    # Unchecked under jit and vmap, bounds are read as JAX reads them: minval where maxval <= minval, and
    # clipped to the dtype (a maxval past its largest value keeps that value in range).
    k = fnx.random.key(0)
    out = fnx.jit(lambda hi: fnx.random.randint(k, (3,), 0, hi))(fnp.asarray([-3, 4, 2]))
    assert out[0] == 0 and 0 <= out[1] < 4 and 0 <= out[2] < 2
    assert fnx.vmap(lambda lo: fnx.random.randint(k, (3,), lo, 2))(fnp.asarray([0, 5]))[1].tolist() == [5, 5, 5]
    small = fnx.jit(lambda hi: fnx.random.randint(k, (2000,), -5, hi, dtype="int8"))(fnp.asarray(300))
    assert small.dtype == np.int8 and int(small.min()) >= -5 and int(small.max()) == 127
    full = fnx.jit(lambda hi: fnx.random.randint(k, (4000,), 0, hi, dtype="uint8"))(fnp.asarray(256))
    assert int(full.max()) == 255 and int(full.min()) == 0
    np.testing.assert_array_equal(full, fnx.random.randint(k, (4000,), 0, 256, dtype="uint8"))  # as eager


def test_argument_errors_are_the_classes_jax_raises():
    k = fnx.random.key(0)
    for bad in (lambda: fnx.random.uniform(k, dtype="int32"), lambda: fnx.random.normal(k, dtype="int32"),
                lambda: fnx.random.bits(k, dtype="int32"), lambda: fnx.random.split(fnx.random.split(k, 2))):
        with pytest.raises(ValueError):  # jax.random's class (and a TypeError, as before)
            bad()
    with pytest.raises(TypeError, match="integer dtype"):
        fnx.random.randint(k, (2,), 0, 3, dtype="float32")


def test_a_seed_outside_int64_is_refused_as_jax_refuses_it():
    assert fnx.random.key(2 ** 63 - 1).tolist() == [2 ** 31 - 1, 2 ** 32 - 1]  # JAX's words
    assert fnx.random.key(-1).tolist() == [2 ** 32 - 1, 2 ** 32 - 1]  # JAX's with jax_enable_x64
    for seed in (2 ** 63, 2 ** 64, -2 ** 63 - 1):
        with pytest.raises(OverflowError, match="does not fit int64"):
            fnx.random.key(seed)
    for seed in (2 ** 63, 2 ** 64 - 1, -1):  # torch.manual_seed's range is wider: [-2**63, 2**64)
        fnx.manual_seed(seed)
        assert fnx.random.default_generator.initial_seed() == seed % 2 ** 64
    with pytest.raises(ValueError, match="outside"):
        fnx.manual_seed(2 ** 64)
    fnx.manual_seed(0)


def test_categorical_without_replacement_as_jax():
    # jax.random.categorical(key(0), ..., replace=False) gives these draws (the Gumbel noise is JAX's bit for bit).
    k = fnx.random.key(0)
    logits = fnp.log(fnp.asarray([0.1, 0.2, 0.3, 0.4]))
    assert fnx.random.categorical(k, logits, shape=(3,), replace=False).tolist() == [1, 0, 3]
    both = fnx.random.categorical(k, fnp.stack([logits, logits]), shape=(3, 2), replace=False)
    assert both.tolist() == [[1, 3], [0, 2], [3, 0]]
    draws = fnx.random.categorical(k, logits, shape=(4,), replace=False)
    assert sorted(draws.tolist()) == [0, 1, 2, 3]  # each category once
    with pytest.raises(ValueError, match="cannot exceed number of categories"):
        fnx.random.categorical(k, logits, shape=(5,), replace=False)
