"""The examples run end to end: quick versions train (the loss falls) and the checkpoint round trip is exact."""
import importlib.util
import pathlib
import sys

import numpy as np
import pytest

import fnx

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))  # as when a script runs: its folder's helpers (_blas.py) import


def load_example(name):
    pytest.importorskip("sklearn", reason="the examples need scikit-learn (pip install -e .[examples])")
    spec = importlib.util.spec_from_file_location(f"fnx_example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_digits_mlp_quick(tmp_path, capsys):
    pytest.importorskip("tqdm", reason="digits_mlp needs tqdm (pip install -e .[examples])")
    pytest.importorskip("matplotlib", reason="digits_mlp needs matplotlib (pip install -e .[examples])")
    result = load_example("digits_mlp").main(quick=True, out_dir=str(tmp_path))
    assert len(result["loss"]) == 3 and result["loss"][-1] < result["loss"][0]
    assert result["accuracy"] > 0.85
    assert result["reloaded_accuracy"] == result["accuracy"]
    assert pathlib.Path(result["figure"]).stat().st_size > 1000
    # The reloaded model is the trained one, parameter for parameter and output for output.
    original, reloaded = result["model"].state_dict(), result["reloaded_model"].state_dict()
    assert list(original) == list(reloaded)
    for name in original:
        np.testing.assert_array_equal(np.asarray(original[name]), np.asarray(reloaded[name]))
    with fnx.no_grad():
        np.testing.assert_array_equal(np.asarray(result["model"](result["x_test"])),
                                      np.asarray(result["reloaded_model"](result["x_test"])))
    restored = result["restored"]
    assert restored["epoch"] == 3 and set(restored["optimizer"]) == {"state", "param_groups"}
    assert "identical" in capsys.readouterr().out


def test_digits_cnn_quick(capsys):
    result = load_example("digits_cnn").main(quick=True)
    assert len(result["loss"]) == 2 and result["loss"][-1] < result["loss"][0]
    assert result["accuracy"] > 0.5
    assert "time per epoch" in capsys.readouterr().out


def test_rnn_sequences_quick(capsys):
    result = load_example("rnn_sequences").main(quick=True)
    assert len(result["loss"]) == 3 and result["loss"][-1] < result["loss"][0]
    assert result["accuracy"] > 0.8
    assert result["masking_gap"] < 1e-4  # padding + masking == running each sequence on its own
    assert "test accuracy" in capsys.readouterr().out


@pytest.mark.slow
def test_digits_mlp_demo_reaches_97_percent(tmp_path):
    pytest.importorskip("tqdm", reason="digits_mlp needs tqdm (pip install -e .[examples])")
    pytest.importorskip("matplotlib", reason="digits_mlp needs matplotlib (pip install -e .[examples])")
    result = load_example("digits_mlp").main(out_dir=str(tmp_path))
    assert result["accuracy"] >= 0.97
    assert result["reloaded_accuracy"] == result["accuracy"]
