"""The benchmark suite still runs: every fnx workload, once, at a tiny size, agrees with the numpy floor.

This is not a timing test (the ratios are `make bench`'s business); it keeps
bench/ from rotting as fnx changes, and checks the hand-written floors against
fnx's derivatives, which is what makes the floors worth comparing with.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import run, workloads  # noqa: E402


@pytest.mark.parametrize("key", list(workloads.WORKLOADS))
def test_fnx_agrees_with_the_floor(key):
    w = workloads.WORKLOADS[key](small=True)
    rows = [i for i in w.impls if i.backend in ("numpy", "fnx") and i.make is not None]
    steps, failed = run.check(w, rows)
    assert not failed
    assert set(steps) == {i.label for i in rows}
    assert any(i.backend == "fnx" for i in rows)


@pytest.mark.gpu
@pytest.mark.skipif(not __import__("fnx").devices("cuda"), reason="no usable CUDA GPU (cupy missing or no device)")
@pytest.mark.parametrize("key", list(workloads.WORKLOADS))
def test_fnx_agrees_with_the_cupy_floor_on_the_gpu(key):
    place = workloads.Place("cuda")
    w = workloads.WORKLOADS[key](small=True, place=place)
    rows = [i for i in w.impls if i.backend in ("numpy", "fnx") and i.make is not None]
    steps, failed = run.check(w, rows, place=place)
    assert not failed and set(steps) == {i.label for i in rows}


def test_targets_name_existing_rows():
    for key, _, num, den, _, measure in run.TARGETS:
        labels = {i.label for i in workloads.WORKLOADS[key](small=True).impls}
        assert num in labels and den in labels, (key, num, den)
        assert measure in ("time", "peak", "speedup")


def test_timing_and_report_on_a_tiny_workload(tmp_path):
    w = workloads.w1(small=True)
    rows = [i for i in w.impls if i.backend in ("numpy", "fnx") and i.make is not None]
    steps, _ = run.check(w, rows)
    times = run.time_rows([(label, step, None) for label, step in steps.items()], budget=0.01)
    assert all(len(t) >= 3 and min(t) > 0 for t in times.values())
    res = run.Result(w)
    for label, t in times.items():
        res.order.append(label)
        res.add(label, t)
    assert "numpy floor" in run.table(res) and "1.00x" in run.table(res)


def test_dispatch_table_compares_equal_computations(capsys):
    import numpy as np
    from bench import dispatch
    env = dispatch.environment()
    for rows, same_values in ((dispatch.OPS, True), (dispatch.RANDOM_OPS, False)):
        for name, numpy_stmt, fnx_stmt, _ in rows:
            expected, got = eval(numpy_stmt, env), eval(fnx_stmt, env)
            pairs = zip(expected, got) if isinstance(expected, tuple) else [(expected, got)]
            for e, g in pairs:
                assert g.shape == np.shape(e) and g.dtype == np.asarray(e).dtype, name
                if same_values:
                    np.testing.assert_allclose(np.asarray(g), e, rtol=1e-5, atol=1e-6, err_msg=name)  # float32 sums
    dispatch.main(["--number", "2", "--repeat", "1"])
    assert capsys.readouterr().out.count("\n") == len(dispatch.OPS) + len(dispatch.RANDOM_OPS) + 2
