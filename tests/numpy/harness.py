"""The shared shape of a primitive test case.

Every family test module lists ``CASES``: one :class:`Case` per primitive (or
more). ``tests/numpy/test_registry.py`` collects them all and, for each case,
checks the value against NumPy, the primitive's shape rule against the actual
output, and the derivatives against central differences (forward and reverse,
second order for smooth primitives) on hypothesis-drawn float64 inputs. It
also fails when a registered primitive has no case.
"""
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np
from hypothesis import strategies as st

from fnx.testing.strategies import numpy_arrays, shapes  # noqa: F401  (re-exported for case modules)


@dataclass
class Case:
    """``fun(*args)`` runs fnx, ``ref(*args)`` runs NumPy, on numpy inputs drawn from ``args``.

    ``args`` is a hypothesis strategy of a tuple of numpy arrays (and plain Python values).
    ``diff`` lists the positions of the arguments to differentiate (float arrays).
    ``order`` overrides the derivative order (default: 2 when the primitive is smooth).
    ``valid(*args) -> bool`` rejects draws too close to a kink for the derivative
    checks (``maximum`` at ties); it is applied with hypothesis ``assume``.
    """
    prim: str
    fun: Callable
    ref: Callable
    args: st.SearchStrategy
    diff: tuple = (0,)
    order: Optional[int] = None
    grad: bool = True
    rtol: float = 1e-7
    atol: float = 1e-9
    name: str = ""
    valid: Optional[Callable] = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        self.name = self.name or self.prim

    def __repr__(self):
        return self.name


def one(shape_strategy=None, domain="real", **kw):
    """Args strategy: a single float64 array."""
    return st.tuples(numpy_arrays(shape_strategy, domain=domain, **kw))


def two_broadcasting(domain_x="real", domain_y="real"):
    """Args strategy: two float64 arrays whose shapes broadcast together."""
    from hypothesis.extra import numpy as hnp

    def build(b):
        sx, sy = b.input_shapes
        return st.tuples(numpy_arrays(st.just(sx), domain=domain_x), numpy_arrays(st.just(sy), domain=domain_y))
    return hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3).flatmap(build)


def with_axis(arr_strategy, keepdims=True):
    """Args strategy: (array, axis, keepdims) with axis None, an int or a tuple valid for the array."""
    def build(x):
        nd = x.ndim
        ax = st.none()
        if nd:
            ax = st.one_of(st.none(), st.integers(-nd, nd - 1),
                           st.lists(st.integers(0, nd - 1), unique=True, min_size=1, max_size=nd).map(tuple))
        return st.tuples(st.just(x), ax, st.booleans() if keepdims else st.just(False))
    return arr_strategy.flatmap(build)
