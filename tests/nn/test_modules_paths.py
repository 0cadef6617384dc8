"""torch.nn.modules' import paths (fnx/nn/modules.py): the submodules, their classes and the utils."""
import importlib

import pytest

import fnx
from fnx.nn.modules import _TORCH_FILES


@pytest.mark.parametrize("file", sorted(_TORCH_FILES))
def test_each_file_holds_fnx_nns_classes(file):
    view = importlib.import_module(f"fnx.nn.modules.{file}")
    for name in _TORCH_FILES[file].split():
        cls = getattr(view, name)
        assert isinstance(cls, type) and issubclass(cls, (fnx.nn.Module, tuple)), (file, name)
        if not name.startswith("_"):
            assert cls is getattr(fnx.nn, name) is getattr(fnx.nn.modules, name)


def test_a_custom_loss_subclasses_loss_as_in_pytorch():
    from fnx.nn.modules.loss import _Loss
    from fnx.nn.modules.batchnorm import _BatchNorm

    class SumOfSquares(_Loss):
        def forward(self, a, b):
            d = (a - b) ** 2
            return d.sum() if self.reduction == "sum" else d.mean()
    assert float(SumOfSquares(reduction="sum")(fnx.ones(3), fnx.zeros(3))) == 3.0
    assert isinstance(fnx.nn.BatchNorm1d(2), _BatchNorm) and not isinstance(fnx.nn.LayerNorm(2), _BatchNorm)


def test_utils():
    from fnx.nn.modules.utils import _pair, _reverse_repeat_tuple, _triple, consume_prefix_in_state_dict_if_present
    assert _pair(3) == (3, 3) and _pair([1, 2]) == (1, 2) and _triple(0) == (0, 0, 0)
    assert _reverse_repeat_tuple((1, 2), 2) == (2, 2, 1, 1)
    model = fnx.nn.Sequential(fnx.nn.Linear(2, 2))
    saved = {f"module.{k}": v for k, v in model.state_dict().items()}
    consume_prefix_in_state_dict_if_present(saved, "module.")
    assert sorted(saved) == ["0.bias", "0.weight"]
    model.load_state_dict(saved)


def test_the_paths_match_pytorchs():
    torch = pytest.importorskip("torch")
    checked = 0
    for file, names in _TORCH_FILES.items():
        theirs = importlib.import_module(f"torch.nn.modules.{file}")
        for name in names.split():
            assert hasattr(theirs, name), (file, name)
            checked += 1
    assert checked > 150
    for name in ("_single", "_pair", "_triple", "_quadruple", "_ntuple", "_reverse_repeat_tuple"):
        ours, theirs = getattr(fnx.nn.modules.utils, name), getattr(torch.nn.modules.utils, name)
        if name == "_ntuple":
            ours, theirs = ours(2), theirs(2)
        if name == "_reverse_repeat_tuple":
            assert ours((1, 2, 3), 2) == theirs((1, 2, 3), 2)
        else:
            assert ours(5) == theirs(5) and ours([1, 2]) == theirs([1, 2])
