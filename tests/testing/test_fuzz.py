"""Fuzzing fnx's differentiator with random programs drawn from its own registry.

Every drawn program is checked four ways: derivatives against central
differences (forward and reverse, second order when smooth), the transpose
identity between JVP and VJP, jacfwd against jacrev, and vmap against a loop.
The CI profile runs a bounded number of programs; FNX_HYPOTHESIS_PROFILE=thorough
runs thousands. Planted wrong rules in throw-away primitives show that each
check catches what it is meant to catch.
"""
import os

import pytest
from hypothesis import given, settings

import fnx
import fnx.numpy as fnp
from fnx.core.primitive import Primitive
from fnx.numpy._base import batch_elementwise, same_shape
from fnx.testing import check_grads, check_jacobians, check_jvp_vjp_consistent, check_vmap
from fnx.testing.strategies import programs


def run_all_checks(program):
    inputs = tuple(fnp.asarray(x) for x in program.inputs)
    check_grads(program, inputs, order=2 if program.smooth else 1)
    check_jvp_vjp_consistent(program, inputs)
    check_jacobians(program, inputs, argnums=tuple(range(len(inputs))))
    batch = tuple(fnp.stack([x, x * 0.5 + 0.25, -x]) for x in inputs)
    check_vmap(program, batch)


# CI draws a bounded number of programs; the thorough profile draws thousands.
FUZZ_EXAMPLES = 2500 if os.environ.get("FNX_HYPOTHESIS_PROFILE") == "thorough" else 25


@settings(max_examples=FUZZ_EXAMPLES)
@given(programs())
def test_random_programs_pass_every_check(program):
    run_all_checks(program)


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


def test_fuzzer_catches_a_wrong_batching_rule():
    def wrong_batch(vals, bdims):
        (x,), (d,) = vals, bdims
        return fnp.sin(fnp.flip(x, axis=d)), d  # mixes up the examples
    with pytest.raises(AssertionError, match="check_vmap"):
        _fuzz_only(_planted(batch=wrong_batch))()
