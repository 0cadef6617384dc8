"""Elementwise primitives: cases for the registry-wide checks, and named regressions."""
import numpy as np

import fnx.numpy as fnp
from .harness import Case, one, two_broadcasting



def _apart(x, y):
    return bool(np.all(np.abs(x - y) > 1e-3))


CASES = [
    Case("add", fnp.add, np.add, two_broadcasting(), diff=(0, 1)),
    Case("subtract", fnp.subtract, np.subtract, two_broadcasting(), diff=(0, 1)),
    Case("multiply", fnp.multiply, np.multiply, two_broadcasting(), diff=(0, 1)),
    Case("true_divide", fnp.true_divide, np.true_divide, two_broadcasting("real", "nonzero"), diff=(0, 1)),
    Case("power", fnp.power, np.power, two_broadcasting("positive", "real"), diff=(0, 1)),
    Case("negative", fnp.negative, np.negative, one()),
    Case("exp", fnp.exp, np.exp, one()),
    Case("log", fnp.log, np.log, one(domain="positive")),
    Case("sqrt", fnp.sqrt, np.sqrt, one(domain="positive")),
    Case("sin", fnp.sin, np.sin, one()),
    Case("cos", fnp.cos, np.cos, one()),
    Case("tanh", fnp.tanh, np.tanh, one()),
    Case("maximum", fnp.maximum, np.maximum, two_broadcasting(), diff=(0, 1), valid=_apart),
    Case("minimum", fnp.minimum, np.minimum, two_broadcasting(), diff=(0, 1), valid=_apart),
]
