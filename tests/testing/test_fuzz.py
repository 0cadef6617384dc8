"""Fuzzing fnx's differentiator with random programs drawn from its own registry.

Every drawn program is checked four ways: derivatives against central
differences (forward and reverse, second order when smooth), the transpose
identity between JVP and VJP, jacfwd against jacrev, and vmap against a loop.
Programs include non-smooth operations (maximum, abs, remainder, max
reductions); their inputs are drawn at least ``KINK_MARGIN`` from any kink, so
central differences stay valid. The three checks that use no differences hold
at kinks as well, as long as forward and reverse mode pick the same derivative
there: a second test draws programs on inputs full of ties to check that.
The CI profile runs a bounded number of programs; FNX_HYPOTHESIS_PROFILE=thorough
runs thousands. Planted wrong rules in throw-away primitives show that each
check catches what it is meant to catch.
"""
import os

import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st

import fnx
import fnx.numpy as fnp
from fnx.core.primitive import Primitive
from fnx.numpy._base import batch_elementwise, same_shape
from fnx.testing import check_grads, check_jacobians, check_jvp_vjp_consistent, check_vmap, kink_distance
from fnx.testing.strategies import programs


def run_all_checks(program, differences=True):
    inputs = tuple(fnp.asarray(x) for x in program.inputs)
    if differences:
        check_grads(program, inputs, order=2 if program.smooth else 1)
    check_jvp_vjp_consistent(program, inputs)
    check_jacobians(program, inputs, argnums=tuple(range(len(inputs))))
    batch = tuple(fnp.stack([x, x * 0.5 + 0.25, -x]) for x in inputs)
    check_vmap(program, batch)


# CI draws a bounded number of programs; the thorough profile draws thousands.
FUZZ_EXAMPLES = 2500 if os.environ.get("FNX_HYPOTHESIS_PROFILE") == "thorough" else 25


# filter_too_much stays on: draws rejected for lying near a kink must remain rare.
_FUZZ = settings(max_examples=FUZZ_EXAMPLES, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@_FUZZ
@given(programs())
def test_random_programs_pass_every_check(program):
    event("smooth" if program.smooth else "non-smooth")
    run_all_checks(program)


@_FUZZ
@given(programs(kink_margin=0, elements=st.sampled_from([-1.0, -0.5, 0.0, 0.5, 1.0])))
def test_random_programs_at_ties_agree_in_both_modes(program):
    at_kink = kink_distance(program, *(fnp.asarray(x) for x in program.inputs)).distance == 0
    event("at a kink" if at_kink else "smooth" if program.smooth else "non-smooth, clear of kinks")
    run_all_checks(program, differences=False)


# ----- planted bugs: each check must catch its kind of wrong rule ---------------------------------

def _sin_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return fnp.sin(x), t * fnp.cos(x)


def _planted(jvp=_sin_jvp, vjp=lambda ct, x, *, out: (ct * fnp.cos(x),), batch=None):
    prim = Primitive("planted_sin", impl=lambda xp, x: xp.sin(x), shape=same_shape, jvp=jvp, vjp=vjp,
                     kind="unary")
    prim.batch = batch or (lambda vals, bdims: batch_elementwise(prim, vals, bdims, {}))
    return prim


def _fuzz_only(prim, max_examples=40):
    @settings(max_examples=max_examples, derandomize=True, deadline=None, database=None, report_multiple_bugs=False)
    @given(programs(primitives=[prim], include_registry=False, structural=False))
    def fuzz(program):
        run_all_checks(program)
    return fuzz


def test_the_planted_primitive_itself_passes():
    _fuzz_only(_planted(), max_examples=10)()


def test_fuzzer_catches_a_wrong_vjp():
    bad = _planted(vjp=lambda ct, x, *, out: (ct * fnp.cos(x) * 1.01,))
    with pytest.raises(AssertionError, match="reverse-mode|vjp"):
        _fuzz_only(bad)()


def test_fuzzer_catches_a_wrong_jvp():
    def wrong_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return fnp.sin(x), t * fnp.cos(x) + 0.01 * t
    with pytest.raises(AssertionError, match="forward-mode|jvp"):
        _fuzz_only(_planted(jvp=wrong_jvp))()


def _planted_max(tie_for_x_in_jvp):
    """maximum whose JVP gives x ``tie_for_x_in_jvp`` of the derivative at a tie, its VJP half."""
    def weights(x, y, tie):
        return (fnp.where(x > y, 1.0, fnp.where(x == y, tie, 0.0)),
                fnp.where(y > x, 1.0, fnp.where(x == y, 1.0 - tie, 0.0)))

    def jvp(primals, tangents):
        (x, y), (tx, ty) = primals, [fnp.zeros_like(p) if t is None else t for p, t in zip(primals, tangents)]
        wx, wy = weights(x, y, tie_for_x_in_jvp)
        return prim.bind(x, y), tx * wx + ty * wy

    def vjp(ct, x, y, *, out):
        wx, wy = weights(x, y, 0.5)
        return ct * wx, ct * wy

    prim = Primitive("planted_max", impl=lambda xp, x, y: xp.maximum(x, y), shape=same_shape, jvp=jvp, vjp=vjp,
                     kind="binary", smooth=False, kinks=lambda xp, x, y: xp.abs(x - y))
    prim.batch = lambda vals, bdims: batch_elementwise(prim, vals, bdims, {})
    return prim


def _fuzz_at_ties(prim, max_examples=40):
    @settings(max_examples=max_examples, derandomize=True, deadline=None, database=None, report_multiple_bugs=False)
    @given(programs(primitives=[prim], include_registry=False, structural=False, kink_margin=0,
                    elements=st.sampled_from([-1.0, 0.0, 1.0])))
    def fuzz(program):
        run_all_checks(program, differences=False)
    return fuzz


def test_the_planted_maximum_itself_passes_everywhere():
    _fuzz_only(_planted_max(0.5), max_examples=10)()
    _fuzz_at_ties(_planted_max(0.5), max_examples=10)()


def test_fuzzer_catches_forward_and_reverse_mode_disagreeing_at_a_tie():
    with pytest.raises(AssertionError, match="jvp|jacfwd"):
        _fuzz_at_ties(_planted_max(1.0))()


def test_fuzzer_catches_a_wrong_batching_rule():
    def wrong_batch(vals, bdims):
        (x,), (d,) = vals, bdims
        return fnp.sin(fnp.flip(x, axis=d)), d  # mixes up the examples
    with pytest.raises(AssertionError, match="check_vmap"):
        _fuzz_only(_planted(batch=wrong_batch))()
