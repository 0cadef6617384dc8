"""``lax.cond`` and ``lax.switch`` on a traced predicate: one ``cond`` operation whose branches are graphs.

Under jit the branch is chosen when the compiled graph runs, and derivatives are conds of the branches'
derivatives, so (as in JAX) an untaken branch neither runs nor spoils a gradient with its infinite partials.
Each jit test compares with the function run without jit; the expected numbers were also checked against
jax 0.10's jax.lax in a scratch script (and are compared with jax here when it is installed)."""
import numpy as np
import pytest
from hypothesis import strategies as st

import fnx
import fnx.numpy as fnp
from fnx import lax
from fnx.errors import TreeError
from .harness import Case, numpy_arrays, shapes


def _sin_or_cos(x):
    return lax.cond(fnp.sum(x) > 0, fnp.sin, lambda v: fnp.cos(v) * 2.0, x)


def _ref_sin_or_cos(x):
    return np.sin(x) if x.sum() > 0 else np.cos(x) * 2.0


CASES = [
    # Under jit the predicate is traced, so the call is one cond operation; the registry checks its value,
    # shape rule, derivatives to second order (conds of the branches' JVPs and VJPs) and its batching rule
    # (vmap batches the predicate: every branch, then a per-example select).
    Case("cond", fnx.jit(_sin_or_cos), _ref_sin_or_cos,
         st.tuples(numpy_arrays(shapes(min_dims=1, max_dims=2, min_side=1, max_side=3))),
         valid=lambda x: abs(x.sum()) > 1e-3),
]


def _sqrt_or_zero(x):
    return lax.cond(x > 0, fnp.sqrt, lambda v: 0.0 * v, x)


def test_jit_runs_only_the_taken_branch():
    singular = fnp.zeros((2, 2))
    f = fnx.jit(lambda a, p: lax.cond(p > 0, lambda m: fnp.linalg.inv(m), lambda m: m + 1.0, a))
    # inv of a singular matrix raises in fnx: had jit run both branches, this call would fail.
    np.testing.assert_array_equal(f(singular, fnp.asarray(-1.0)), np.ones((2, 2)))
    np.testing.assert_allclose(f(fnp.eye(2) * 2.0, fnp.asarray(1.0)), np.eye(2) / 2.0)
    assert fnx.make_jaxpr(f)(singular, fnp.asarray(-1.0)).primitives().count("cond") == 1


@pytest.mark.parametrize("x", [-1.0, 4.0])
def test_gradients_do_not_meet_the_untaken_branchs_infinite_partials(x):
    expected = 0.0 if x < 0 else 0.25  # JAX: 0.0 at -1 (the zero branch), 1 / (2 sqrt(4)) at 4
    x = fnp.asarray(x)
    for g in (fnx.grad(_sqrt_or_zero), fnx.jit(fnx.grad(_sqrt_or_zero)), fnx.grad(fnx.jit(_sqrt_or_zero))):
        assert float(g(x)) == expected
    xs = fnp.asarray([-1.0, 4.0])
    np.testing.assert_array_equal(fnx.vmap(fnx.grad(_sqrt_or_zero))(xs), [0.0, 0.25])
    np.testing.assert_array_equal(fnx.jit(fnx.vmap(fnx.grad(_sqrt_or_zero)))(xs), [0.0, 0.25])


def _pytree_with_closure(x, y):
    return lax.cond(fnp.sum(x) > 0,
                    lambda d: {"a": d["u"] * y, "b": fnp.sin(d["u"])},
                    lambda d: {"a": d["u"] + y, "b": fnp.cos(d["u"])}, {"u": x})


def _three_way(x):
    return lax.switch(fnp.int32(fnp.round(fnp.sum(x))) % 3, [lambda v: v * 2.0, fnp.exp, lambda v: -v], x)


def _closure_only(x):
    return lax.cond(x[0] > 0, lambda: x * 3.0, lambda: x ** 2)


def _with_integer_output(x):
    return lax.cond(x[0] > 0, lambda v: (fnp.sum(v), fnp.argmax(v)), lambda v: (fnp.prod(v), fnp.argmin(v)), x)


_X = np.array([0.5, -1.0, 2.0], np.float32)


def _same(a, b):
    la, lb = fnx.tree.leaves(a), fnx.tree.leaves(b)
    assert len(la) == len(lb)
    for u, v in zip(la, lb):
        assert np.asarray(u).dtype == np.asarray(v).dtype
        np.testing.assert_allclose(np.asarray(u), np.asarray(v), rtol=1e-6)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_jit_of_cond_and_switch_matches_the_function_without_jit(sign):
    x, y = fnp.asarray(sign * _X), fnp.asarray(np.float32(1.5))
    _same(fnx.jit(_pytree_with_closure)(x, y), _pytree_with_closure(x, y))
    loss = lambda a, b: fnp.sum(_pytree_with_closure(a, b)["a"] * _pytree_with_closure(a, b)["b"])  # noqa: E731
    _same(fnx.jit(fnx.grad(loss, argnums=(0, 1)))(x, y), fnx.grad(loss, argnums=(0, 1))(x, y))
    for f in (_three_way, _closure_only):
        _same(fnx.jit(f)(x), f(x))
        _same(fnx.jit(fnx.jacfwd(f))(x), fnx.jacfwd(f)(x))
        _same(fnx.jit(fnx.jacrev(f))(x), fnx.jacrev(f)(x))
        total = lambda a, f=f: fnp.sum(f(a))  # noqa: E731
        _same(fnx.jit(fnx.hessian(total))(x), fnx.hessian(total)(x))
        _same(fnx.hessian(fnx.jit(total))(x), fnx.hessian(total)(x))
    _same(fnx.jit(_with_integer_output)(x), _with_integer_output(x))
    _same(fnx.jit(fnx.grad(lambda a: _with_integer_output(a)[0]))(x), fnx.grad(lambda a: _with_integer_output(a)[0])(x))


def test_vmap_with_a_batched_or_an_unbatched_predicate_matches_a_loop():
    xs = fnp.asarray(np.stack([_X, -_X, 2 * _X]))
    for f in (_three_way, _closure_only):
        _same(fnx.vmap(f)(xs), fnp.stack([f(x) for x in xs]))
        _same(fnx.jit(fnx.vmap(fnx.grad(lambda a, f=f: fnp.sum(f(a)))))(xs),
              fnp.stack([fnx.grad(lambda a, f=f: fnp.sum(f(a)))(x) for x in xs]))
    # Inside jit the predicate is traced but not batched: one branch for the whole batch, chosen at run time.
    per_row = fnx.jit(lambda p, rows: fnx.vmap(
        lambda r: lax.cond(p > 0, lambda v: v * 2.0, lambda v: v - 1.0, r))(rows))
    for p in (1.0, -1.0):
        expected = xs * 2.0 if p > 0 else xs - 1.0
        _same(per_row(fnp.asarray(p), xs), expected)
        _same(fnx.grad(lambda rows: fnp.sum(per_row(fnp.asarray(p), rows) ** 2))(xs),
              2 * expected * (2.0 if p > 0 else 1.0))


def test_jvp_and_eval_shape_of_a_traced_cond():
    x = fnp.asarray(_X)
    out, t = fnx.jit(lambda a: fnx.jvp(_closure_only, (a,), (fnp.ones_like(a),)))(x)
    _same((out, t), fnx.jvp(_closure_only, (x,), (fnp.ones_like(x),)))
    assert fnx.eval_shape(_closure_only, fnx.ShapeDtypeStruct((3,), "float32")) == \
        fnx.ShapeDtypeStruct((3,), fnp.float32)


def test_a_parameter_read_inside_a_branch_gets_its_gradient_under_jit():
    w = fnx.nn.Parameter(fnp.asarray([2.0, 3.0]))
    f = fnx.jit(lambda x: lax.cond(fnp.sum(x) > 0, lambda v: v * w, lambda v: v - w, x))
    fnp.sum(f(fnp.asarray([1.0, 1.0]))).backward()
    np.testing.assert_array_equal(w.grad, [1.0, 1.0])
    w.grad = None
    fnp.sum(f(fnp.asarray([-1.0, -1.0]))).backward()
    np.testing.assert_array_equal(w.grad, [-1.0, -1.0])


def test_branches_must_agree_and_a_python_number_takes_the_other_branchs_dtype():
    x = fnp.asarray(_X)
    with pytest.raises(TypeError, match=r"cond: the branches must return the same shapes and dtypes; output 0 "
                                        r"is float32\[3\] and float32\[2\]"):
        fnx.jit(lambda a: lax.cond(a[0] > 0, lambda v: v[:2], lambda v: v, a))(x)
    with pytest.raises(TreeError, match="cond: the branches must return the same structure"):
        fnx.jit(lambda a: lax.cond(a[0] > 0, lambda v: v, lambda v: (v, v), a))(x)
    out = fnx.jit(lambda a: lax.cond(a[0] > 0, lambda v: fnp.sum(v), lambda v: 0.0, a))(x.astype("float64"))
    assert out.dtype == np.float64 and float(out) == float(np.sum(_X.astype(np.float64)))


def test_a_python_number_operand_promotes_as_in_the_python_branch():
    x = fnp.asarray(_X)
    f = lambda a: lax.cond(a[0] > 0, lambda v, k: fnp.sum(v ** 3) * k, lambda v, k: fnp.sum(v), a, 2)  # noqa: E731
    assert fnx.jit(f)(x).dtype == f(x).dtype == np.float32  # 2 is weak: float32 * 2 stays float32
    _same(fnx.jit(fnx.hessian(f))(x), fnx.hessian(f)(x))


def test_switch_clamps_a_traced_index_as_jax():
    f = fnx.jit(lambda i, v: lax.switch(i, [lambda u: u + 1.0, lambda u: u * 10.0], v))
    one = fnp.asarray(1.0)
    assert [float(f(fnp.asarray(i), one)) for i in (-5, 0, 1, 9)] == [2.0, 2.0, 10.0, 10.0]


def test_against_jax_when_installed():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    xs = np.stack([_X, -_X])
    ours = fnx.jit(fnx.vmap(fnx.grad(lambda a: fnp.sum(_three_way(a)))))(fnp.asarray(xs))
    theirs = jax.jit(jax.vmap(jax.grad(lambda a: jnp.sum(jax.lax.switch(
        jnp.int32(jnp.round(jnp.sum(a))) % 3, [lambda v: v * 2.0, jnp.exp, lambda v: -v], a)))))(xs)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-6)
    ours = fnx.jit(fnx.grad(_sqrt_or_zero))(fnp.asarray(-1.0))
    theirs = jax.jit(jax.grad(lambda v: jax.lax.cond(v > 0, jnp.sqrt, lambda u: 0.0 * u, v)))(-1.0)
    assert float(ours) == float(theirs) == 0.0


# ----- while_loop (and fori_loop with traced bounds) inside jit: one while operation ---------------------

def _three_sines(x):
    return lax.while_loop(lambda c: c[1] < 3, lambda c: (fnp.sin(c[0]) * 1.5, c[1] + 1), (x, 0))[0]


def _ref_three_sines(x):
    for _ in range(3):
        x = np.sin(x) * 1.5
    return x


def _newton_sqrt(a):
    """sqrt(a) by Newton's steps, while the residual is large: a loop count that depends on the value."""
    return lax.while_loop(lambda c: fnp.abs(c[0] * c[0] - a) > 1e-4 * a, lambda c: (0.5 * (c[0] + a / c[0]), c[1] + 1),
                          (a, 0))


CASES.append(
    # Under jit the loop's predicate is traced, so the loop is one while operation: the registry checks its
    # value, shape rule and batching rule; reverse mode is refused (as JAX's), so its derivatives are
    # checked in forward mode below.
    Case("while", fnx.jit(_three_sines), _ref_three_sines,
         st.tuples(numpy_arrays(shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))), grad=False))


def test_while_loop_under_jit_matches_the_python_loop():
    a = fnp.asarray([4.0, 9.0, 100.0])
    for x in a:
        _same(fnx.jit(_newton_sqrt)(x), _newton_sqrt(x))
        root, steps = fnx.jit(_newton_sqrt)(x)
        np.testing.assert_allclose(root, np.sqrt(np.asarray(x)), rtol=1e-4)
        assert int(steps) > 1
    # a vmap that batches the predicate: each example stops at its own step (100 takes the most)
    roots, steps = fnx.jit(fnx.vmap(_newton_sqrt))(a)
    _same((roots, steps), fnx.vmap(_newton_sqrt)(a))
    assert len(set(np.asarray(steps).tolist())) > 1
    _same(fnx.vmap(fnx.jit(_newton_sqrt))(a), fnx.vmap(_newton_sqrt)(a))


def test_while_loop_under_jit_differentiates_in_forward_mode_only():
    from fnx.testing import check_grads
    x = fnp.asarray(np.array([0.3, -1.2], np.float64))
    check_grads(fnx.jit(_three_sines), (x,), order=2, modes=("fwd",))
    root = lambda a: _newton_sqrt(a)[0]  # noqa: E731
    a = fnp.asarray(9.0)
    _same(fnx.jit(fnx.jacfwd(root))(a), fnx.jacfwd(root)(a))
    np.testing.assert_allclose(fnx.jit(fnx.jacfwd(root))(a), 1 / 6, rtol=1e-3)  # the last step's derivative
    _same(fnx.grad(root)(a), fnx.jit(fnx.jacfwd(root))(a))  # outside jit the Python loop reverses
    with pytest.raises(ValueError, match="while_loop: reverse-mode differentiation .* not supported, as in JAX"):
        fnx.jit(fnx.grad(root))(a)  # (a ValueError, as JAX's; a TypeError too)
    with pytest.raises(ValueError, match="while_loop: reverse-mode differentiation"):
        fnx.grad(fnx.jit(root))(a)


def test_a_loop_closing_over_traced_values_and_fori_loop_with_traced_bounds():
    grow = lambda x, k: lax.while_loop(lambda v: v < 100.0, lambda v: v * k, x)  # noqa: E731
    one, three = fnp.asarray(1.0), fnp.asarray(3.0)
    _same(fnx.jit(grow)(one, three), grow(one, three))
    assert float(fnx.jit(grow)(one, three)) == 243.0
    _same(fnx.jit(lambda k: fnx.jvp(lambda k: grow(one, k), (k,), (fnp.ones_like(k),)))(three),
          fnx.jvp(lambda k: grow(one, k), (three,), (fnp.ones_like(three),)))  # d(k^5)/dk = 5 k^4 = 405
    ks = fnp.asarray([2.0, 3.0, 50.0])
    _same(fnx.jit(fnx.vmap(grow, in_axes=(None, 0)))(one, ks), fnx.vmap(grow, in_axes=(None, 0))(one, ks))
    # JAX's fori_loop runs a loop with traced bounds as a while_loop; its index promotes as a Python int.
    doubling = fnx.jit(lambda n, x: lax.fori_loop(0, n, lambda i, v: v * 2 + i, x))
    for n in (0, 1, 5):
        out = doubling(fnp.asarray(n), fnp.asarray(1.0))
        assert out.dtype == np.float32 and float(out) == float(lax.fori_loop(0, n, lambda i, v: v * 2 + i, 1.0))
    # what the index makes with numbers stays weak too (JAX's weak types in the staged body): i * 2 + 1
    odd = fnx.jit(lambda n, x: lax.fori_loop(0, n, lambda i, v: v + (i * 2 + 1), x))
    out = odd(fnp.asarray(4), fnp.asarray(0.0))
    assert out.dtype == np.float32 and float(out) == 16.0


def test_a_staged_loop_checks_what_its_functions_return():
    x = fnp.asarray(1.0)
    with pytest.raises(TypeError, match=r"while_loop: body_fun must return leaves of the shapes and dtypes it was "
                                        r"given: leaf 0 went in as float32\[\] and came out as float32\[2\]"):
        fnx.jit(lambda v: lax.while_loop(lambda s: s < 10.0, lambda s: fnp.stack([s, s]), v))(x)
    with pytest.raises(TypeError, match="while_loop: cond_fun must return a boolean scalar"):
        fnx.jit(lambda v: lax.while_loop(lambda s: s * 2.0, lambda s: s + 1.0, v))(x)


def test_fori_loop_with_a_batched_upper_bound_gives_the_body_a_weak_index():
    counts = fnp.asarray([1, 3, 0])
    doubling = lambda n, x: lax.fori_loop(0, n, lambda i, v: v * 2 + i, x)  # noqa: E731
    expected = [float(doubling(int(n), 1.0)) for n in counts]  # 2, 12 and 1, each in float32 as JAX gives
    for f in (fnx.vmap(doubling, in_axes=(0, None)), fnx.jit(fnx.vmap(doubling, in_axes=(0, None)))):
        out = f(counts, fnp.asarray(1.0))
        assert out.dtype == np.float32 and out.tolist() == expected
    # each example runs its own number of steps, and reverse mode goes through the Python loop: n x^(n - 1)
    grads = fnx.vmap(fnx.grad(lambda x, n: lax.fori_loop(0, n, lambda i, v: v * x, 1.0)), in_axes=(None, 0))
    assert grads(fnp.asarray(2.0), fnp.asarray([1, 2, 3])).tolist() == [1.0, 4.0, 12.0]


# ----- Python numbers as the loop's start: JAX's weakly typed inputs take the body's dtype ------------------

_F64 = np.arange(4.0)


@pytest.mark.parametrize("how", ["eager", "jit", "vmap_upper", "vmap_lower", "vmap_both"])
def test_a_python_number_start_takes_the_bodys_dtype_as_jax(how):
    x = fnp.asarray(_F64)
    run = {"eager": lambda: lax.fori_loop(0, 4, lambda i, acc: acc + x[i], 0),
           "jit": lambda: fnx.jit(lambda n: lax.fori_loop(0, n, lambda i, acc: acc + x[i], 0))(4),
           "vmap_upper": lambda: fnx.vmap(lambda n: lax.fori_loop(0, n, lambda i, acc: acc + x[i], 0))(
               fnp.asarray([2, 4])),
           "vmap_lower": lambda: fnx.vmap(lambda lo: lax.fori_loop(lo, 4, lambda i, acc: acc + x[i], 0))(
               fnp.asarray([2, 1])),
           "vmap_both": lambda: fnx.vmap(lambda lo, hi: lax.fori_loop(lo, hi, lambda i, acc: acc + x[i], 0))(
               fnp.asarray([2, 1]), fnp.asarray([4, 3]))}[how]
    expected = {"eager": 6.0, "jit": 6.0, "vmap_upper": [1.0, 6.0], "vmap_lower": [5.0, 6.0],
                "vmap_both": [5.0, 3.0]}[how]
    out = run()
    assert out.dtype == np.float64
    np.testing.assert_array_equal(np.asarray(out), expected)
    jax = pytest.importorskip("jax")
    if how == "eager":  # jax without x64 promotes to its float32, which fnx's float64 holds exactly here
        xs = jax.numpy.asarray(_F64)
        assert float(jax.lax.fori_loop(0, 4, lambda i, acc: acc + xs[i], 0)) == float(out)


def test_a_python_number_start_of_while_loop_and_pytrees_and_the_first_step_again():
    half = fnp.asarray(0.5, dtype="float64")
    out = lax.while_loop(lambda c: c < 3, lambda c: c + half, 0)
    assert out.dtype == np.float64 and float(out) == 3.0
    jitted = fnx.jit(lambda n: lax.while_loop(lambda c: c < n, lambda c: c + half, 0))(3)
    assert jitted.dtype == np.float64 and float(jitted) == 3.0
    # A first step taken in Python (its predicate concrete), the rest staged once the carry is traced.
    staged = fnx.jit(lambda x: lax.while_loop(lambda c: c < 5, lambda c: c + x, 0.0))(fnp.asarray(1.0))
    assert staged.dtype == np.float32 and float(staged) == 5.0
    newton = fnx.jit(lambda a: lax.while_loop(lambda s: s[1] > 1e-6, lambda s: (0.5 * (s[0] + a / s[0]),
                                              fnp.abs(0.5 * (s[0] + a / s[0]) - s[0])), (a, 1.0))[0])
    np.testing.assert_allclose(newton(fnp.asarray(2.0)), np.sqrt(2.0), rtol=1e-6)  # jax.jit: 1.4142135
    total, count = lax.fori_loop(0, 4, lambda i, c: (c[0] + fnp.asarray(_F64)[i], c[1] + 1), (0, 0))
    assert (total.dtype, float(total), count.dtype, int(count)) == (np.float64, 6.0, np.int64, 4)
    seen = []

    def body(i, acc):
        seen.append(str(acc.dtype))
        return acc + fnp.asarray(_F64)[i]
    lax.fori_loop(0, 3, body, 0)
    assert seen == ["int64", "float64", "float64", "float64"]  # the first step runs again from the promoted value
    with pytest.raises(TypeError, match="leaf 0 went in as int64"):  # an array start is not a Python number
        lax.fori_loop(0, 4, lambda i, acc: acc + fnp.asarray(_F64)[i], fnp.asarray(0))
    with pytest.raises(TypeError, match="went in as float"):  # and a float does not become an int
        lax.fori_loop(0, 4, lambda i, acc: fnp.astype(acc * 2, "int64"), 1.0)


def test_cond_reads_a_number_as_true_where_it_is_not_zero_as_jax():
    # jax.lax.cond(0.5, ...) takes the true branch (pred != 0); truncating to an int took the false one.
    branches = (lambda a: a, lambda a: -a)
    for pred, want in ((0.5, 1.0), (-0.3, 1.0), (0.0, -1.0), (float("nan"), 1.0), (2, 1.0), (0, -1.0)):
        assert float(lax.cond(fnp.asarray(pred), *branches, 1.0)) == want
        assert float(fnx.jit(lambda p: lax.cond(p, *branches, 1.0))(fnp.asarray(pred))) == want
    np.testing.assert_array_equal(fnx.vmap(lambda p: lax.cond(p, *branches, 1.0))(fnp.asarray([0.5, 0.0])), [1, -1])
    with pytest.raises(TypeError, match="predicate must be a boolean or a real number, got complex64"):
        lax.cond(fnp.asarray(1j, "complex64"), *branches, 1.0)


def test_cond_takes_jaxs_operand_keyword():
    x = fnp.asarray(2.0)
    assert float(lax.cond(True, lambda v: v * 10, lambda v: v, operand=x)) == 20.0
    assert float(fnx.jit(lambda p, v: lax.cond(p > 0, lambda u: u * 10, lambda u: u, operand=v))(-1.0, x)) == 2.0
    with pytest.raises(TypeError, match="not both"):
        lax.cond(True, lambda v: v, lambda v: v, x, operand=x)
