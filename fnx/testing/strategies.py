"""Hypothesis strategies for fnx: shapes, arrays inside named domains, pytrees.

Built on ``hypothesis.extra.numpy``. Domains keep inputs away from the places
where a function or its derivative is undefined, so that gradient checks test
the rule and not the singularity:

``"real"``            moderate reals, [-3, 3]
``"positive"``        [0.2, 4]
``"nonzero"``         |x| in [0.3, 3]
``"unit_interval"``   (0.05, 0.95)
``"open_unit_ball"``  (-0.9, 0.9), for arcsin/arctanh
``"above_one"``       [1.2, 4], for arccosh
``"away_from_integers"`` reals at least 0.1 from an integer (floor, round...)
"""
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

_BOUNDS = {
    "real": (-3.0, 3.0),
    "positive": (0.2, 4.0),
    "unit_interval": (0.05, 0.95),
    "open_unit_ball": (-0.9, 0.9),
    "above_one": (1.2, 4.0),
}

DOMAINS = tuple(_BOUNDS) + ("nonzero", "away_from_integers")


def elements(domain="real", dtype=np.float64):
    """A strategy for one scalar inside ``domain``."""
    width = 32 if np.dtype(dtype) == np.float32 else 64
    if domain in _BOUNDS:
        lo, hi = _BOUNDS[domain]
        return st.floats(lo, hi, width=width)
    if domain == "nonzero":
        mag = st.floats(0.3, 3.0, width=width)
        return st.tuples(mag, st.booleans()).map(lambda p: -p[0] if p[1] else p[0])
    if domain == "away_from_integers":
        return st.tuples(st.integers(-3, 2), st.floats(0.1, 0.9, width=width)).map(lambda p: p[0] + p[1])
    raise ValueError(f"unknown domain {domain!r}; choose from {DOMAINS}")


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def numpy_arrays(shape=None, dtype=np.float64, domain="real", **shape_kw):
    """numpy arrays of ``dtype`` with elements in ``domain`` (shape drawn when None)."""
    shape = shapes(**shape_kw) if shape is None else shape
    return hnp.arrays(dtype, shape, elements=elements(domain, dtype))


def arrays(shape=None, dtype=np.float64, domain="real", **shape_kw):
    """fnx arrays of ``dtype`` with elements in ``domain``."""
    import fnx.numpy as fnp
    return numpy_arrays(shape, dtype, domain, **shape_kw).map(fnp.asarray)


def broadcastable_shapes(shape, num_shapes=2, min_dims=0, max_dims=3):
    """Tuples of ``num_shapes`` shapes that broadcast against ``shape`` (hypothesis's mutually_broadcastable)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, base_shape=shape, min_dims=min_dims,
                                             max_dims=max_dims, max_side=4).map(lambda b: b.input_shapes)
