"""Property-based testing of your own gradients with fnx.testing and hypothesis.

Run it with ``python examples/property_testing.py``. It tests two functions a
researcher might write: a numerically careful softplus with a hand-written
``custom_vjp``, and the same function with a deliberately wrong rule, to show
what a failure looks like (the worst element, its index, both values, the input).
"""
import fnx
import fnx.numpy as fnp
from hypothesis import given, settings
from fnx.testing import check_custom_vjp, check_grads, check_vmap
from fnx.testing.strategies import arrays, shapes


@fnx.custom_vjp
def softplus(x):
    return fnp.logaddexp(x, 0.0)


def softplus_fwd(x):
    return softplus(x), x


def softplus_bwd(x, g):
    return (g * fnx.scipy.special.expit(x),)  # d/dx log(1 + e^x) = sigmoid(x)


softplus.defvjp(softplus_fwd, softplus_bwd)


@fnx.custom_vjp
def softplus_wrong(x):
    return fnp.logaddexp(x, 0.0)


softplus_wrong.defvjp(softplus_fwd, lambda x, g: (g * fnx.scipy.special.expit(-x),))  # sign slip


@settings(max_examples=50, deadline=None)
@given(arrays(shape=shapes(max_dims=2), domain="real"))
def test_softplus(x):
    check_grads(softplus, (x,), order=2)  # custom rule vs central differences, both modes, 2nd order
    check_custom_vjp(softplus, (x,))      # custom rule vs the rule derived from the forward code
    check_vmap(softplus, (fnp.stack([x, 2.0 * x]),))


@settings(max_examples=50, deadline=None, database=None)
@given(arrays(shape=shapes(min_dims=1, max_dims=1), domain="real"))
def test_softplus_wrong(x):
    check_custom_vjp(softplus_wrong, (x,))


def main():
    test_softplus()
    print("softplus: gradients, custom rule and vmap all agree on 50 drawn inputs")
    try:
        test_softplus_wrong()
    except AssertionError as failure:
        print("softplus_wrong: hypothesis found a counterexample, as it should:")
        print(str(failure).splitlines()[0])
        print(str(failure).splitlines()[1])
    else:
        raise SystemExit("the wrong rule was not caught")


if __name__ == "__main__":
    main()
