"""Every checker's failure names the worst element, its index, both values and the drawn input (issue 4);
strategies.arrays takes hypothesis's elements=."""
import re

import numpy as np
import pytest
from hypothesis import given, strategies as st

import fnx
import fnx.numpy as fnp
from fnx.core.primitive import Primitive
from fnx.errors import GradientCheckError
from fnx.testing import check_custom_vjp, check_jacobians, check_jvp_vjp_consistent, check_vmap, strategies

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
