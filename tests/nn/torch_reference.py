"""The installed torch for the tests that compare with it, skipping where its version cannot be compared."""
import inspect

import pytest

# fnx's norm layers follow torch 2.14, whose BatchNorm/InstanceNorm/GroupNorm take ``bias=`` and print
# it; older releases lack the argument and print other reprs.
NORM_BIAS_SINCE = "2.14"


def import_torch(norms=False):
    """``torch``, or a skip when it is absent or (for a test of norm layers) older than the API fnx follows."""
    torch = pytest.importorskip("torch")
    if norms and "bias" not in inspect.signature(torch.nn.BatchNorm1d.__init__).parameters:
        pytest.skip(f"torch {torch.__version__} predates bias= on its norm layers (fnx follows torch "
                    f"{NORM_BIAS_SINCE}), so their reprs and arguments differ")
    return torch
