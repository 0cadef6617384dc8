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
    """impl, shape, jvp, vjp and a batching rule: none may be a Missing marker."""
    from fnx.core.primitive import Missing
    for prim in registry.values():
        assert callable(prim.impl) and callable(prim.shape), prim.name
        for rule in ("jvp", "vjp", "batch"):
            assert not isinstance(getattr(prim, rule), Missing), f"{prim.name} has no {rule} rule"


def _run(case, args):
    """Runs the case on fnx arrays made from the numpy inputs, on the default device."""
    return case.fun(*[fnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args])


@pytest.mark.parametrize("case", CASES, ids=repr)
@given(data=st.data())
def test_value_matches_numpy(case, data, device):
    """On every device: the value and dtype NumPy gives, on the inputs' device."""
    args = data.draw(case.args)
    with fnx.default_device(device):
        out = _run(case, args)
    expected = case.ref(*args)
    for o, e in zip(fnx.tree.leaves(out), fnx.tree.leaves(expected)):
        e = np.asarray(e)
        if isinstance(o, fnx.Array) and case.prim != "device_put":
            assert o.device == device, (o.device, device)
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


@pytest.mark.parametrize("case", [c for c in CASES if c.grad], ids=repr)
@given(data=st.data())
def test_first_derivatives_on_every_device(case, data, device):
    """First-order forward and reverse derivatives agree with differences on each device."""
    args = list(data.draw(case.args))
    if case.valid is not None:
        assume(case.valid(*args))

    def f(*dargs):
        full = list(args)
        for i, a in zip(case.diff, dargs):
            full[i] = a
        with fnx.default_device(device):
            return _run(case, full)
    check_grads(f, tuple(fnp.asarray(args[i], device=device) for i in case.diff), order=1)


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


def _batch_of(x, size, rng, structured):
    """``size`` examples like ``x`` (same shape, same domain): permutations of its entries.

    For structured inputs (SPD or well-conditioned matrices) rows and columns are
    permuted together, which keeps those properties.
    """
    out = [x]
    for _ in range(size - 1):
        if structured and x.ndim >= 2 and x.shape[-1] == x.shape[-2]:
            p = rng.permutation(x.shape[-1])
            out.append(x[..., p, :][..., :, p])
        else:
            out.append(rng.permutation(x.reshape(-1)).reshape(x.shape))
    return np.stack(out)


@pytest.mark.parametrize("case", CASES, ids=repr)
@given(data=st.data())
def test_vmap_matches_a_loop(case, data):
    """vmap(f) over random in_axes/out_axes equals stacking f over the examples."""
    from fnx.testing import check_vmap
    args = data.draw(case.args)
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 16)))
    size = data.draw(st.integers(1, 3))
    positions = [i for i, a in enumerate(args) if isinstance(a, np.ndarray)]
    batched = data.draw(st.lists(st.sampled_from(positions), min_size=1, unique=True)) if positions else []
    call_args, in_axes = [], []
    for i, a in enumerate(args):
        if i in batched:
            b = _batch_of(a, size, rng, case.extra.get("structured", False))
            ax = data.draw(st.integers(-(a.ndim + 1), a.ndim))
            call_args.append(fnp.asarray(np.moveaxis(b, 0, ax)))
            in_axes.append(ax)
        elif isinstance(a, np.ndarray):
            call_args.append(fnp.asarray(a))
            in_axes.append(None)
        else:
            call_args.append(a)
            in_axes.append(None)
    static = {i: a for i, a in enumerate(args) if not isinstance(a, np.ndarray)}
    dyn_positions = [i for i in range(len(args)) if i not in static]

    def f(*dyn):
        full = dict(static)
        full.update(zip(dyn_positions, dyn))
        return case.fun(*[full[i] for i in range(len(args))])

    out_ndim = [o.ndim for o in fnx.tree.leaves(f(*[call_args[i] if in_axes[i] is None else
                                                    fnp.take(call_args[i], 0, axis=in_axes[i])
                                                    for i in dyn_positions]))]
    out_axes = data.draw(st.integers(-(min(out_ndim) + 1), min(out_ndim))) if out_ndim else 0
    check_vmap(f, tuple(call_args[i] for i in dyn_positions), in_axes=tuple(in_axes[i] for i in dyn_positions),
               out_axes=out_axes)
