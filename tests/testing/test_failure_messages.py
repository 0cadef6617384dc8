"""Every checker's failure names the worst element, its index, both values and the drawn input (issue 4);
strategies.arrays takes hypothesis's elements=."""
import re

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fnx
import fnx.numpy as fnp
from fnx.core.primitive import Primitive
from fnx.errors import GradientCheckError
from fnx.testing import check_custom_vjp, check_grads, check_jacobians, check_jvp_vjp_consistent, check_vmap, strategies

X = fnp.array([0.3, -1.2, 2.0], dtype="float64")


def _sin_with_wrong_slopes():
    @fnx.custom_vjp
    def f(x):
        return fnp.sin(x)
    # right at element 0, slightly wrong at 1, most wrong at 2: the message must point at 2
    f.defvjp(lambda x: (fnp.sin(x), x), lambda x, g: (g * fnp.cos(x) * fnp.array([1.0, 1.001, 1.5]),))
    return f


@pytest.mark.parametrize("check", [check_custom_vjp, check_jvp_vjp_consistent, check_jacobians],
                         ids=["custom_vjp", "jvp_vjp", "jacobians"])
def test_failures_name_the_worst_element_and_the_inputs(check):
    with pytest.raises(GradientCheckError) as info:
        check(_sin_with_wrong_slopes(), (X,))
    text = str(info.value)
    assert re.search(r"worst element:? (output\[0\])?\[2(, 2)?\]", text), text
    assert "drawn inputs" in text and "[ 0.3 -1.2  2. ]" in text


def test_check_vmap_names_the_worst_element_and_the_inputs():
    # a throw-away primitive whose batching rule is wrong by an amount that grows along the row
    prim = Primitive("scaled_copy", impl=lambda xp, x: x * 1.0, shape=lambda x: x,
                     batch=lambda vals, bdims: (vals[0] * (1.0 + 1e-3 * fnp.arange(vals[0].shape[-1])), bdims[0]))
    with pytest.raises(AssertionError) as info:
        check_vmap(lambda x: prim.bind(x), (fnp.ones((2, 3), dtype="float64"),))
    text = str(info.value)
    assert "worst element [2]" in text and "drawn inputs" in text


@given(strategies.arrays(shape=(4,), elements=st.just(5.0)), strategies.arrays(elements=st.floats(0, 1)))
def test_arrays_take_elements(fives, unit):
    assert isinstance(fives, fnx.Array) and np.all(np.asarray(fives) == 5.0)
    assert np.all((np.asarray(unit) >= 0) & (np.asarray(unit) <= 1))


# ----- what the checks catch beyond the derivatives, and JAX's signature ------------------------------------

_X64 = fnp.asarray([0.3, 0.7], dtype="float64")


def test_a_custom_rule_whose_forward_returns_another_value_is_caught():
    @fnx.custom_vjp
    def doubled_forward(x):
        return fnp.sin(x)
    doubled_forward.defvjp(lambda x: (fnp.sin(x) * 2.0, x), lambda x, g: (g * fnp.cos(x),))
    with pytest.raises(GradientCheckError, match="under vjp .* another value"):
        check_grads(doubled_forward, (_X64,), 1)

    @fnx.custom_jvp
    def shifted(x):
        return fnp.sin(x)

    @shifted.defjvp
    def _(primals, tangents):
        return fnp.sin(primals[0]) + 1.0, fnp.cos(primals[0]) * tangents[0]
    with pytest.raises(GradientCheckError, match="under jvp .* another value"):
        check_grads(shifted, (_X64,), 1, modes=("fwd",))


def test_integer_arguments_are_held_fixed():
    check_grads(lambda x, i: x[i] * 2.0, (_X64, 1), order=2)
    check_grads(lambda x, i: x[i] * 2.0, (_X64, fnp.asarray(1)), order=2)

    @fnx.custom_jvp
    def wrong(x, i):
        return x[i] * 2.0

    @wrong.defjvp
    def _(primals, tangents):
        x, i = primals
        return x[i] * 2.0, tangents[0][i] * 3.0
    with pytest.raises(GradientCheckError, match="d input\\[0\\]"):  # the float argument is still checked
        check_grads(wrong, (_X64, 1), 1, modes="fwd")
    with pytest.raises(TypeError, match="no floating argument"):
        check_grads(lambda i: i * 2, (3,), 1)


def test_mixed_precision_takes_the_least_precise_dtypes_defaults():
    x32 = fnp.asarray([0.3, 0.7], dtype="float32")
    check_grads(lambda x, y: fnp.sum(fnp.exp(x) * fnp.sin(3 * x)) * y, (x32, fnp.asarray(1.0, dtype="float64")), 1)


def test_jax_signature_string_modes_dict_tolerances_and_zero_tolerances():
    check_grads(fnp.sin, (_X64,), 1, "rev")
    check_grads(fnp.sin, (_X64,), 2, ("fwd",), {np.float64: 1e-4}, {np.float64: 1e-4}, 1e-5)

    @fnx.custom_jvp
    def slightly_off(x):
        return fnp.sin(x)

    @slightly_off.defjvp
    def _(primals, tangents):
        return fnp.sin(primals[0]), fnp.cos(primals[0]) * tangents[0] * (1 + 1e-7)
    check_grads(slightly_off, (_X64,), 1, modes="fwd")  # within the default tolerances
    with pytest.raises(GradientCheckError):  # atol=0 is honoured, not replaced by the default
        check_grads(slightly_off, (_X64,), 1, modes="fwd", atol=0.0, rtol=1e-9)


_BOUNDS = {"positive": (0.2, 4.0), "unit_interval": (0.05, 0.95), "open_unit_ball": (-0.9, 0.9),
           "above_one": (1.2, 4.0), "real": (-3.0, 3.0)}


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("domain", ["positive", "unit_interval", "open_unit_ball", "above_one", "nonzero",
                                    "away_from_integers", "real"])
def test_every_domain_draws_in_every_float_dtype(domain, dtype):
    # Bounds such as 0.2 have no exact float32: they are moved inward, not refused by hypothesis.
    @settings(max_examples=20, database=None, deadline=None)
    @given(strategies.arrays(shape=(4,), dtype=np.dtype(dtype), domain=domain))
    def draw(x):
        v = np.asarray(x)
        assert v.dtype == np.dtype(dtype)
        if domain in _BOUNDS:
            lo, hi = _BOUNDS[domain]
            assert np.all((v >= lo) & (v <= hi)), v
        elif domain == "nonzero":
            assert np.all(np.abs(v) >= 0.29)
        else:
            assert np.all(np.abs(v - np.round(v)) >= 0.09)
    draw()


def test_the_other_checkers_take_float32_and_catch_a_wrong_forward_value():
    rng = np.random.default_rng(0)
    w = fnp.asarray(rng.normal(size=(20, 20)).astype(np.float32))
    x = fnp.asarray(rng.normal(size=20).astype(np.float32))
    mlp = lambda x: fnp.tanh(w @ fnp.tanh(w @ x))
    check_jacobians(mlp, (x,))  # float32's rounding, not a disagreement
    check_jvp_vjp_consistent(mlp, (x,))
    with pytest.raises(GradientCheckError):  # explicit tolerances still hold
        check_jacobians(mlp, (x,), rtol=0.0, atol=0.0)

    @fnx.custom_vjp
    def doubled_forward(x):
        return fnp.sin(x)
    doubled_forward.defvjp(lambda x: (fnp.sin(x) * 2.0, x), lambda x, g: (g * fnp.cos(x),))
    with pytest.raises(GradientCheckError, match="the rule's forward returns"):
        check_custom_vjp(doubled_forward, (_X64,))
    for checker, fn in ((check_vmap, fnp.sin), (check_jacobians, fnp.sin), (check_custom_vjp, doubled_forward),
                        (check_jvp_vjp_consistent, fnp.sin)):
        with pytest.raises(TypeError, match="args must be a tuple"):
            checker(fn, fnp.ones((3, 2)))


def test_check_jacobians_checks_every_floating_argument_by_default():
    @fnx.custom_vjp
    def mul(a, b):
        return a * b
    mul.defvjp(lambda a, b: (a * b, (a, b)), lambda r, g: (g * r[1], 2.0 * g * r[0]))  # d/db doubled
    y = fnp.array([1.1, -0.4, 0.5], dtype="float64")
    with pytest.raises(GradientCheckError, match="block 1"):
        check_jacobians(mul, (X, y))
    check_jacobians(lambda x, n: x ** n, (X, 3))  # an integer argument is held fixed


def test_check_custom_vjp_holds_nondiff_arguments_fixed():
    import functools

    @functools.partial(fnx.custom_vjp, nondiff_argnums=(0,))
    def scale(k, x):
        return k * x * x
    scale.defvjp(lambda k, x: (k * x * x, x), lambda k, x, g: (2.0 * k * x * g,))
    check_custom_vjp(scale, (2.0, X))
    scale.defvjp(lambda k, x: (k * x * x, x), lambda k, x, g: (3.0 * k * x * g,))
    with pytest.raises(GradientCheckError, match="custom rule gives"):
        check_custom_vjp(scale, (2.0, X))


@settings(max_examples=60, deadline=None)
@given(strategies.numpy_arrays(shape=st.sampled_from([(1, 1), (2, 2), (4, 4)]), domain="well_conditioned"),
       strategies.numpy_arrays(shape=st.sampled_from([(1, 1), (2, 2), (4, 4)]), domain="spd"))
def test_matrix_domains_are_well_conditioned_and_spd_eigenvalues_are_distinct(a, s):
    assert np.linalg.cond(a, np.inf) <= 3.0 + 1e-9
    eigenvalues = np.linalg.eigvalsh(s)
    assert eigenvalues[0] > 0.99 and (s.shape[0] == 1 or np.min(np.diff(eigenvalues)) > 0.49)
    assert np.allclose(s, s.T)


def test_check_grads_steps_and_compares_at_the_outputs_precision_too():
    """A float64 argument computed in float32 inside: the float32 step and tolerances, as JAX's check_grads
    compares at the outputs' dtype (central differences at float64's step would be float32 rounding noise)."""
    check_grads(lambda x: fnp.sin(x.astype("float32")), (X,), 1)

    @fnx.custom_vjp
    def f(x):
        return fnp.sin(x.astype("float32"))
    f.defvjp(lambda x: (f(x), x), lambda x, g: (g * fnp.cos(x) * 1.5,))  # still caught at float32's tolerance
    with pytest.raises(GradientCheckError):
        check_grads(f, (X,), 1, modes=["rev"])


def test_checks_built_on_real_directions_refuse_complex_inputs():
    z = fnp.array([1.0 + 2.0j, -0.5j])
    for check in (check_jvp_vjp_consistent, check_jacobians):
        with pytest.raises(TypeError, match="input leaf 0 is complex"):
            check(lambda z: z * z, (z,))


def test_check_grads_checks_a_complex_input_through_its_real_and_imaginary_parts():
    z = fnp.asarray(np.array([1.0 + 2.0j, -0.5 + 0.3j]))
    check_grads(lambda z: fnp.sin(z) * fnp.conj(z), (z,), order=2)  # not holomorphic: both directions matter
    check_grads(lambda z, x: fnp.sum(fnp.exp(z) * x), (z, fnp.asarray(np.array([0.3, 0.7]))), order=2)

    def squaring(rule):
        @fnx.custom_vjp
        def square(z):
            return z * z
        square.defvjp(lambda z: (z * z, z), lambda z, g: (rule(z, g),))
        return square
    check_grads(squaring(lambda z, g: g * 2 * z), (z,), modes="rev")  # JAX's convention: ct * f'(z)
    with pytest.raises(GradientCheckError, match="reverse-mode"):  # a conjugate too many is caught
        check_grads(squaring(lambda z, g: g * 2 * fnp.conj(z)), (z,), modes="rev")
    x = fnx.tensor(np.array([1.0 + 2.0j, -0.5j]), requires_grad=True)  # PyTorch's gradcheck takes them too
    assert fnx.autograd.gradcheck(lambda v: (v * v.conj() * v).sum(), (x,))

    class Square(fnx.autograd.Function):  # a backward in PyTorch's convention: the conjugate of the derivative
        @staticmethod
        def forward(v):  # (PyTorch's second form: the context set up apart)
            return v * v

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx, g):
            v, = ctx.saved_tensors
            return g * 2 * fnp.conj(v)

    class Unconjugated(Square):
        @staticmethod
        def backward(ctx, g):
            v, = ctx.saved_tensors
            return g * 2 * v
    assert fnx.autograd.gradcheck(Square.apply, (x,))  # torch.autograd.gradcheck: True and False, as here
    assert not fnx.autograd.gradcheck(Unconjugated.apply, (x,), raise_exception=False)


def _planted(scale):
    @fnx.custom_vjp
    def f(x):
        return fnp.sin(x) * x
    f.defvjp(lambda x: (fnp.sin(x) * x, x), lambda x, g: (g * (fnp.cos(x) * x + fnp.sin(x)) * scale,))
    return f


@pytest.mark.parametrize("scale", [1.1, 0.9, 0.0, -1.0])
def test_float32_defaults_catch_a_rule_ten_percent_off_or_missing(scale):
    # jax.test_util.check_grads catches these in float32; defaults as loose as 5e-2 had let the 10% ones pass
    x = fnp.asarray([0.2, 0.25], dtype="float32")
    with pytest.raises(GradientCheckError):
        check_grads(_planted(scale), (x,))
    check_grads(_planted(1.0), (x,), order=2)  # and the right rule passes


def test_float32_defaults_pass_correct_functions_near_kinks_and_with_large_values():
    import fnx.nn.functional as F
    check_grads(F.relu, (fnp.asarray([0.005, -0.3], dtype="float32"),))  # the step does not reach the kink
    x = fnp.asarray(np.linspace(1.0, 3.0, 6), dtype="float32")
    check_grads(lambda v: fnp.sum(fnp.exp(v) * 30.0), (x,), order=2)  # values of a few thousand



def test_a_complex_output_of_real_inputs_is_checked_whole():
    # As jax.test_util.check_grads: a right function passes, and a rule wrong only in the imaginary part fails.
    x = fnp.asarray([0.3, 1.2], dtype="float64")
    check_grads(lambda a: a * (1 + 2j), (x,), order=2)

    @fnx.custom_vjp
    def scaled(a):
        return a * (1 + 2j)
    scaled.defvjp(lambda a: (a * (1 + 2j), None), lambda _, g: (fnp.real(g * (1 + 3j)),))  # should be (1 + 2j)
    with pytest.raises(GradientCheckError, match=r"(?s)reverse-mode .* analytic \(1\+3j\)"):
        check_grads(scaled, (x,), modes="rev")

    class Wrong(fnx.autograd.Function):  # PyTorch's convention: the backward of a * (1 + 2j) is g * (1 - 2j)
        @staticmethod
        def forward(ctx, a):
            return a * (1 + 2j)

        @staticmethod
        def backward(ctx, g):
            return fnp.real(g * (1 - 3j))
    assert not fnx.autograd.gradcheck(Wrong.apply, (fnx.tensor([0.3, 1.2], dtype=fnx.float64, requires_grad=True),),
                                      raise_exception=False)  # torch's gradcheck says False too
