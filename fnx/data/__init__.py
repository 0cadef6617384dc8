"""fnx.data: datasets and batch loading, with the names and semantics of ``torch.utils.data``.

>>> import fnx, fnx.data
>>> ds = fnx.data.ArrayDataset(fnx.numpy.ones((5, 2)), fnx.numpy.arange(5))
>>> [x.shape for x, y in fnx.data.DataLoader(ds, batch_size=2)]
[(2, 2), (2, 2), (1, 2)]
"""
from .dataset import (ArrayDataset, ChainDataset, ConcatDataset, Dataset, IterableDataset, StackDataset, Subset,
                      TensorDataset, random_split)
from .loader import DataLoader, WorkerInfo, default_collate, default_convert, get_worker_info
from . import loader as dataloader  # ``torch.utils.data.dataloader``'s path, for import statements too
import sys as _sys  # noqa: E402
_sys.modules[__name__ + ".dataloader"] = dataloader
from .sampler import (BatchSampler, DistributedSampler, RandomSampler, Sampler, SequentialSampler,
                      SubsetRandomSampler, WeightedRandomSampler)
import types as _types  # noqa: E402

distributed = _types.ModuleType(__name__ + ".distributed", "``torch.utils.data.distributed``: DistributedSampler.")
distributed.DistributedSampler = DistributedSampler
_sys.modules[distributed.__name__] = distributed

__all__ = ["Dataset", "IterableDataset", "ArrayDataset", "TensorDataset", "Subset", "ConcatDataset", "ChainDataset",
           "StackDataset", "random_split", "DataLoader", "default_collate", "default_convert", "get_worker_info",
           "WorkerInfo", "Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler", "DistributedSampler"]
