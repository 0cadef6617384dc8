"""jax.checkpoint's policies: the same derivatives as without checkpointing, and only the unkept operations rerun."""
import contextlib

import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx.core.primitive import registry
from fnx.testing import check_grads

policies = fnx.checkpoint_policies
rng = np.random.default_rng(0)
W1, W2, X = (fnp.asarray(rng.standard_normal(s)) for s in ((4, 5), (5, 3), (6, 4)))


def block(w1, w2, x):
    h = fnx.checkpoint_name(fnp.tanh(x @ w1), "hidden")
    return fnp.sum(fnp.exp(0.1 * (h @ w2)) * fnp.sin(h @ w2))


ALL = [policies.everything_saveable, policies.nothing_saveable, policies.dots_saveable,
       policies.checkpoint_dots, policies.dots_with_no_batch_dims_saveable,
       policies.save_only_these_names("hidden"), policies.save_any_names_but_these("other"),
       policies.save_anything_except_these_names("hidden"),
       policies.save_from_both_policies(policies.dots_saveable, policies.save_only_these_names("hidden")),
       policies.offload_dot_with_no_batch_dims("device", "pinned_host"),
       policies.save_and_offload_only_these_names(names_which_can_be_saved=["hidden"],
                                                  names_which_can_be_offloaded=[], offload_src="device",
                                                  offload_dst="pinned_host")]


@contextlib.contextmanager
def counting(*names):
    """Counts how often each named primitive's implementation runs."""
    counts = dict.fromkeys(names, 0)
    originals = {n: registry[n].impl for n in names}

    def counted(name):
        def impl(*args, **params):
            counts[name] += 1
            return originals[name](*args, **params)
        return impl
    for n in names:
        registry[n].impl = counted(n)
    try:
        yield counts
    finally:
        for n in names:
            registry[n].impl = originals[n]


@pytest.mark.parametrize("policy", ALL)
def test_every_policy_gives_the_uncheckpointed_derivatives(policy):
    f = fnx.checkpoint(block, policy=policy)
    expected = fnx.grad(block, argnums=(0, 1))(W1, W2, X)
    for got, want in zip(fnx.grad(f, argnums=(0, 1))(W1, W2, X), expected):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(fnx.hessian(lambda w: f(w, W2, X))(W1)),
                               np.asarray(fnx.hessian(lambda w: block(w, W2, X))(W1)), rtol=1e-10, atol=1e-12)
    check_grads(lambda w1, w2: f(w1, w2, X), (W1, W2), order=2, modes=("fwd", "rev"))
    per_example = fnx.vmap(fnx.grad(lambda w, x: f(w, W2, x[None])), in_axes=(None, 0))
    np.testing.assert_allclose(np.asarray(per_example(W1, X)),
                               np.asarray(fnx.vmap(fnx.grad(lambda w, x: block(w, W2, x[None])),
                                                   in_axes=(None, 0))(W1, X)), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(fnx.jit(fnx.grad(f))(W1, W2, X)), np.asarray(expected[0]), rtol=1e-12)


@pytest.mark.parametrize("policy", ALL)
def test_policies_with_arguments_the_gradient_does_not_trace(policy):
    # The forward pass sees a NumPy (or Python) argument concretely and the recomputation traces it, and a
    # 1-d matmul decomposes differently on a traced vector (a reshape first): kept outputs must still go
    # to their own operations. They went to the wrong ones, silently.
    rng = np.random.default_rng(7)
    w, a = rng.normal(size=(4, 4)), rng.normal(size=4)
    for f in (lambda w, a: fnp.sum(fnp.tanh(a @ w)), lambda w, a: fnp.sum(fnp.tanh(fnp.tanh(a @ w) @ w)),
              lambda w, a: fnp.sum(fnp.sin(w @ a) @ w), lambda w, a: fnp.sum(fnp.sin(w * a))):
        want = np.asarray(fnx.grad(f)(w, a))
        for args in ((w, a), (fnp.asarray(w), a), (w, fnp.asarray(a))):
            np.testing.assert_allclose(np.asarray(fnx.grad(fnx.checkpoint(f, policy=policy))(*args)), want,
                                       rtol=1e-12, atol=1e-14)


def _forward_runs(policy, names):
    f = fnx.checkpoint(block, policy=policy) if policy != "plain" else block
    with counting(*names) as counts:
        fnx.grad(f, argnums=(0, 1))(W1, W2, X)
    return counts


def test_kept_outputs_are_not_recomputed():
    names = ("matmul", "tanh", "exp")
    everything = _forward_runs(policies.everything_saveable, names)
    nothing = _forward_runs(policies.nothing_saveable, names)
    dots = _forward_runs(policies.dots_saveable, names)
    named = _forward_runs(policies.save_only_these_names("hidden"), names)
    # With nothing kept, the block's three products, its tanh and its exp all run again in the backward pass.
    assert nothing == {"matmul": everything["matmul"] + 3, "tanh": everything["tanh"] + 1,
                       "exp": everything["exp"] + 1}
    assert dots == {"matmul": everything["matmul"], "tanh": nothing["tanh"], "exp": nothing["exp"]}
    # The function runs again op by op, so the product feeding the kept tanh runs again too (JAX would prune it).
    assert named == {"matmul": nothing["matmul"], "tanh": everything["tanh"], "exp": nothing["exp"]}
    plain = _forward_runs("plain", names)
    assert {k: v for k, v in everything.items() if k != "matmul"} == {k: v for k, v in plain.items() if k != "matmul"}


def test_policies_read_shapes_and_names():
    matmul, einsum, linear, sin = (registry[n] for n in ("matmul", "einsum", "linear", "sin"))
    a2, a3 = fnx.ShapeDtypeStruct((3, 4), "float32"), fnx.ShapeDtypeStruct((2, 3, 4), "float32")
    assert policies.dots_saveable(matmul, a3, a3) and not policies.dots_saveable(sin, a2)
    assert policies.dots_with_no_batch_dims_saveable(matmul, a2, a2)
    assert not policies.dots_with_no_batch_dims_saveable(matmul, a3, a3)
    assert policies.dots_with_no_batch_dims_saveable(einsum, a2, a2, spec="ij,jk->ik")
    assert not policies.dots_with_no_batch_dims_saveable(einsum, a3, a3, spec="bij,bjk->bik")
    assert policies.dots_with_no_batch_dims_saveable(linear, a2, a2, a2)
    name = registry["name"]
    assert policies.save_only_these_names("h")(name, a2, name="h")
    assert not policies.save_only_these_names("h")(name, a2, name="g") and not policies.save_only_these_names("h")(sin)
    assert policies.save_any_names_but_these("h")(name, a2, name="g") and not policies.save_any_names_but_these("h")(sin)
    assert policies.save_anything_except_these_names("h")(sin) and not policies.save_anything_except_these_names(
        "h")(name, a2, name="h")
    with pytest.raises(ValueError, match="should be a boolean"):
        policies.save_from_both_policies(lambda *a, **k: 1, policies.nothing_saveable)(sin)
    with pytest.raises(ValueError, match="should not intersect"):
        policies.save_and_offload_only_these_names(names_which_can_be_saved=["a"], names_which_can_be_offloaded=["a"])


def test_checkpoint_name_is_the_identity_under_every_transform():
    x = fnp.asarray(rng.standard_normal(3))
    np.testing.assert_array_equal(np.asarray(fnx.checkpoint_name(x, "x")), np.asarray(x))
    np.testing.assert_allclose(np.asarray(fnx.grad(lambda v: fnp.sum(fnx.checkpoint_name(v, "v") ** 2))(x)),
                               2 * np.asarray(x))
    assert fnx.vmap(lambda v: fnx.checkpoint_name(v, "v"))(fnp.ones((2, 3))).shape == (2, 3)
    assert fnx.jit(lambda v: fnx.checkpoint_name(v, "v"))(x).shape == (3,)
    assert fnx.ad_checkpoint.checkpoint is fnx.checkpoint and fnx.ad_checkpoint.remat is fnx.remat
    assert fnx.checkpoint(block, prevent_cse=False)(W1, W2, X).shape == ()


@pytest.fixture
def jax_x64():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    yield jax
    jax.config.update("jax_enable_x64", False)  # other tests compare with jax's default dtypes


def test_policy_names_and_gradients_match_jax(jax_x64):
    jax = jax_x64
    pytest.importorskip("jax.ad_checkpoint")
    ours = {n for n in dir(policies) if not n.startswith("_")}
    # jax 0.11 also exports the classes its policies are made of (SaveOnlyTheseNames...)
    assert ours == {n for n in dir(jax.checkpoint_policies) if n[0].islower()}
    jnp = jax.numpy

    def jblock(w1, w2, x):
        h = jax.ad_checkpoint.checkpoint_name(jnp.tanh(x @ w1), "hidden")
        return jnp.sum(jnp.exp(0.1 * (h @ w2)) * jnp.sin(h @ w2))
    for name in ("dots_saveable", "nothing_saveable"):
        f = fnx.checkpoint(block, policy=getattr(policies, name))
        g = jax.checkpoint(jblock, policy=getattr(jax.checkpoint_policies, name))
        args = [np.asarray(a) for a in (W1, W2, X)]
        np.testing.assert_allclose(np.asarray(fnx.grad(f)(W1, W2, X)), np.asarray(jax.grad(g)(*args)), rtol=1e-12)


def test_checkpoint_and_custom_rules_of_callables_without_a_name():
    import functools

    def cell(p, c, x):
        return c * p + fnp.sin(x)

    class Block:
        def __call__(self, x):
            return fnp.tanh(x) * 2.0
    step = fnx.checkpoint(functools.partial(cell, 2.0))
    xs = fnp.ones(3, dtype="float64")
    got = fnx.grad(lambda x: fnx.lax.scan(lambda c, xi: (step(c, xi), None), 0.0, x)[0])(xs)
    want = fnx.grad(lambda x: fnx.lax.scan(lambda c, xi: (cell(2.0, c, xi), None), 0.0, x)[0])(xs)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(fnx.grad(lambda x: fnp.sum(fnx.checkpoint(Block())(x)))(xs)),
                               2.0 * (1 - np.tanh(1.0) ** 2) * np.ones(3), rtol=1e-12)
    assert fnx.custom_vjp(functools.partial(cell, 2.0)).__name__ == "partial"


@pytest.mark.parametrize("policy", [None, policies.dots_saveable])
def test_checkpoint_of_a_closure_over_values_jit_traces_as_jax(policy):
    # jax.checkpoint(lambda h: block(params, h)): the closure holds values jit traces or grad differentiates
    # (they raised, as an escaped tracer or an AttributeError); the function then runs without recomputation.
    a, x = 2.0, fnp.asarray(np.array([0.1, 0.5, -0.3]))

    def loss(a, x):
        return fnp.sum(fnx.checkpoint(lambda x: fnp.sin(a * x) @ fnp.ones((3, 3)), policy=policy)(x))

    def plain(a, x):
        return fnp.sum(fnp.sin(a * x) @ fnp.ones((3, 3)))
    np.testing.assert_allclose(float(fnx.jit(loss)(a, x)), float(plain(a, x)), rtol=1e-12)
    for argnums in (0, 1, (0, 1)):
        want = fnx.grad(plain, argnums=argnums)(a, x)
        for got in (fnx.jit(fnx.grad(loss, argnums=argnums))(a, x), fnx.grad(fnx.jit(loss), argnums=argnums)(a, x),
                    fnx.grad(loss, argnums=argnums)(a, x)):
            for g, w in zip(fnx.tree.leaves(got), fnx.tree.leaves(want)):
                np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-12)
    step = fnx.checkpoint(lambda c, xi: (c + fnp.sin(xi * a), None), policy=policy)
    scanned = fnx.jit(lambda a, x: fnx.lax.scan(lambda c, xi: step(c, xi * a), 0.0, x)[0])
    np.testing.assert_allclose(float(scanned(a, x)), float(np.sum(np.sin(np.asarray(x) * a * a))), rtol=1e-12)
    assert float(fnx.grad(plain)(a, x)) != 0.0  # the closed-over parameter's gradient is checked, not zero


def test_a_custom_rule_closing_over_a_value_jit_traces_says_what_to_do():
    def f(s, x):
        @fnx.custom_vjp
        def g(x):
            return fnp.sin(x) * s
        g.defvjp(lambda x: (g(x), fnp.cos(x)), lambda c, ct: (c * s * ct,))
        return fnp.sum(g(x))
    x = fnp.asarray([0.1, 0.2])
    assert float(fnx.grad(f, argnums=1)(2.0, x)[0]) == pytest.approx(2 * np.cos(0.1))  # eager: fine
    with pytest.raises(fnx.errors.TracerError, match="closes over a value traced by jit.*as an argument"):
        fnx.jit(f)(2.0, x)


@pytest.mark.parametrize("policy", [None, "nothing_saveable", "everything_saveable"])
def test_the_recomputation_draws_the_same_dropout_mask_as_the_first_run(policy):
    # stateful randomness (the global source dropout draws from) is replayed, as torch.utils.checkpoint's
    # preserve_rng_state does: the gradient is the one of the value computed (it had taken a fresh mask)
    import fnx.nn.functional as F
    pol = None if policy is None else getattr(fnx.checkpoint_policies, policy)
    x = fnp.asarray(np.linspace(0.1, 1.0, 16))

    def f(x):
        return fnp.sum(F.dropout(x, 0.5, training=True) * x)
    fnx.manual_seed(0)
    value, grad = fnx.value_and_grad(fnx.checkpoint(f, policy=pol))(x)
    after = fnx.random.next_key()
    fnx.manual_seed(0)
    np.testing.assert_array_equal(np.asarray(fnx.grad(f)(x)), np.asarray(grad))
    assert bool((fnx.random.next_key() == after).all())  # and the stream goes on from the same place

