"""Every primitive in the registry: value vs NumPy, shape rule, derivatives vs central differences."""
import importlib
import pathlib

import numpy as np
import pytest
from hypothesis import assume, given, strategies as st

import fnx
import fnx.numpy as fnp
from fnx.core import registry
from fnx.testing import check_grads

_HERE = pathlib.Path(__file__).parent
CASES = []
for path in sorted(_HERE.glob("test_*.py")):
    if path.stem == "test_registry":
        continue
    mod = importlib.import_module(f"tests.numpy.{path.stem}" if (_HERE.parent / "__init__.py").exists()
                                  else path.stem)
    CASES.extend(getattr(mod, "CASES", []))

# Primitives covered by another primitive's checks, with the reason.
COVERED_ELSEWHERE = {
    "slice_transpose": "the VJP of slice; checked by slice's second-order gradient test",
}


def test_every_primitive_has_a_case():
    covered = {c.prim for c in CASES} | set(COVERED_ELSEWHERE)
    missing = sorted(set(registry) - covered)
    assert not missing, f"primitives without a test case: {missing}"


def test_every_primitive_has_its_rules():
    for prim in registry.values():
        assert callable(prim.impl) and callable(prim.shape), prim.name
        assert prim.jvp is not None and prim.vjp is not None, prim.name


def _run(case, args):
    return case.fun(*[fnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args])


@pytest.mark.parametrize("case", CASES, ids=repr)
@given(data=st.data())
def test_value_matches_numpy(case, data):
    args = data.draw(case.args)
    out = _run(case, args)
    expected = case.ref(*args)
    for o, e in zip(fnx.tree.leaves(out), fnx.tree.leaves(expected)):
        e = np.asarray(e)
        assert o.shape == e.shape, (o.shape, e.shape)
        assert o.dtype == e.dtype, (o.dtype, e.dtype)
        np.testing.assert_allclose(np.asarray(o), e, rtol=case.rtol, atol=case.atol)


@pytest.mark.parametrize("case", [c for c in CASES if c.grad], ids=repr)
@given(data=st.data())
def test_derivatives_match_central_differences(case, data):
    args = list(data.draw(case.args))
    if case.valid is not None:
        assume(case.valid(*args))
    diff = case.diff

    def f(*dargs):
        full = list(args)
        for i, a in zip(diff, dargs):
            full[i] = a
        return _run(case, full)

    order = case.order if case.order is not None else (2 if registry[case.prim].smooth else 1)
    check_grads(f, tuple(fnp.asarray(args[i]) for i in diff), order=order)


@pytest.mark.parametrize("case", CASES, ids=repr)
@given(data=st.data())
def test_shape_rule_matches_output(case, data):
    """Each equation of the traced call: the primitive's shape rule predicts its output."""
    args = data.draw(case.args)
    arrays = [i for i, a in enumerate(args) if isinstance(a, np.ndarray)]

    def f(*xs):
        full = list(args)
        for i, x in zip(arrays, xs):
            full[i] = x
        return case.fun(*[fnp.asarray(a) if isinstance(a, np.ndarray) else a for a in full])

    graph = fnx.make_graph(f)(*[fnp.asarray(args[i]) for i in arrays])
    for eqn in graph.eqns:
        predicted = eqn.prim.shape(*[a.aval for a in eqn.inputs], **eqn.params)
        predicted = predicted if eqn.prim.multiple_results else (predicted,)
        actual = tuple(v.aval for v in eqn.outputs)
        assert tuple(predicted) == actual, f"{eqn.prim.name}: shape rule says {predicted}, got {actual}"
