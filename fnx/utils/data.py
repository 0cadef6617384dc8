"""``torch.utils.data`` under its own path: the same objects as :mod:`fnx.data`.

>>> import fnx.utils.data, fnx.data
>>> fnx.utils.data.DataLoader is fnx.data.DataLoader
True
"""
from ..data import *  # noqa: F401,F403
from ..data import __all__  # noqa: F401

# ``torch.utils.data``'s submodule paths that scripts import from: the same objects.
import sys as _sys  # noqa: E402

from ..data import dataset, distributed, loader as _loader, sampler  # noqa: E402

dataloader = _loader  # ``torch.utils.data.dataloader``: DataLoader, default_collate...
_sys.modules[__name__ + ".distributed"] = distributed  # ``torch.utils.data.distributed``: DistributedSampler
_sys.modules[__name__ + ".dataloader"] = dataloader
_sys.modules[__name__ + ".dataset"] = dataset  # ``torch.utils.data.dataset``: Dataset, Subset, random_split...
_sys.modules[__name__ + ".sampler"] = sampler  # ``torch.utils.data.sampler``: Sampler, RandomSampler...
