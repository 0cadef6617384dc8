"""torch.utils.data's samplers, DataLoader's sampler/batch_sampler/worker options, ChainDataset,
StackDataset, get_worker_info and the fnx.utils.data path, against PyTorch's documented behaviour."""
import collections
import threading

import numpy as np
import pytest

import fnx
import fnx.utils.data as tud
from fnx.data import (BatchSampler, ChainDataset, DataLoader, Dataset, IterableDataset, RandomSampler,
                      SequentialSampler, StackDataset, SubsetRandomSampler, WeightedRandomSampler, get_worker_info)


class Range(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return i


class Count(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def test_the_torch_path_is_the_same_module():
    assert tud.DataLoader is DataLoader and tud.RandomSampler is RandomSampler
    assert fnx.utils.data.get_worker_info is get_worker_info
    # torch.utils.data's submodules, as scripts import from them
    from fnx.data.dataloader import default_collate
    from fnx.utils.data.dataloader import DataLoader as from_dataloader
    from fnx.utils.data.dataset import Subset, random_split
    from fnx.utils.data.sampler import RandomSampler as from_sampler
    assert from_dataloader is DataLoader and from_sampler is RandomSampler and default_collate is tud.default_collate
    assert Subset is tud.Subset and random_split is tud.random_split


def test_sequential_and_batch_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3] and len(SequentialSampler(range(4))) == 4
    assert list(BatchSampler(SequentialSampler(range(5)), 2, drop_last=False)) == [[0, 1], [2, 3], [4]]
    assert list(BatchSampler(SequentialSampler(range(5)), 2, drop_last=True)) == [[0, 1], [2, 3]]
    assert len(BatchSampler(range(5), 2, False)) == 3 and len(BatchSampler(range(5), 2, True)) == 2
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(range(5), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean"):
        BatchSampler(range(5), 2, 1)


def test_random_samplers_are_permutations_and_reproducible():
    s = RandomSampler(range(10), generator=3)
    first, second = list(s), list(s)
    assert sorted(first) == list(range(10)) and sorted(second) == list(range(10))
    assert first != second  # a new order each pass
    again = RandomSampler(range(10), generator=3)
    assert list(again) == first and list(again) == second  # same seed: same sequence of passes
    long = list(RandomSampler(range(4), num_samples=10, generator=0))  # as many permutations as needed
    assert len(long) == 10 and sorted(long[:4]) == sorted(long[4:8]) == [0, 1, 2, 3]
    draws = list(RandomSampler(range(3), replacement=True, num_samples=300, generator=1))
    assert len(draws) == 300 and set(draws) == {0, 1, 2}
    assert sorted(SubsetRandomSampler([5, 7, 9], generator=2)) == [5, 7, 9]
    fnx.manual_seed(0)
    a = list(RandomSampler(range(6)))
    fnx.manual_seed(0)
    assert list(RandomSampler(range(6))) == a  # the global source, made reproducible by manual_seed
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean"):
        RandomSampler(range(3), replacement=1)


def test_weighted_sampler_follows_the_weights():
    draws = np.array(list(WeightedRandomSampler([1.0, 3.0, 0.0], 4000, generator=0)))
    counts = np.bincount(draws, minlength=3) / 4000
    assert counts[2] == 0 and abs(counts[1] - 0.75) < 0.03
    once = list(WeightedRandomSampler([1.0, 5.0, 2.0, 0.0], 3, replacement=False, generator=1))
    assert sorted(once) == [0, 1, 2]  # each index with a positive weight at most once
    with pytest.raises(ValueError, match="without replacement"):
        WeightedRandomSampler([1.0, 0.0], 2, replacement=False)
    with pytest.raises(ValueError, match="non-negative"):
        WeightedRandomSampler([1.0, -1.0], 2)


def test_loader_with_samplers():
    loader = DataLoader(Range(10), batch_size=3, sampler=[9, 8, 7, 6, 5, 4, 3])
    assert [b.tolist() for b in loader] == [[9, 8, 7], [6, 5, 4], [3]] and len(loader) == 3
    loader = DataLoader(Range(10), batch_sampler=[[0, 1], [4]])
    assert [b.tolist() for b in loader] == [[0, 1], [4]] and len(loader) == 2 and loader.batch_size is None
    loader = DataLoader(Range(7), batch_sampler=BatchSampler(RandomSampler(range(7), generator=0), 3, True))
    batches = [b.tolist() for b in loader]
    assert len(batches) == 2 and all(len(b) == 3 for b in batches)
    seeded = [b.tolist() for b in DataLoader(Range(8), batch_size=4, shuffle=True, generator=5)]
    assert seeded == [b.tolist() for b in DataLoader(Range(8), batch_size=4, shuffle=True, seed=5)]
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(Range(3), sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(Range(3), batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="prefetch_factor option could only be specified"):
        DataLoader(Range(3), prefetch_factor=2)
    with pytest.raises(ValueError, match="need a map-style dataset"):
        DataLoader(Count(3), sampler=[0])


class _Shard(IterableDataset):
    """PyTorch's documented IterableDataset: each worker reads its share of ``range(start, end)``."""

    def __init__(self, start, end, split_in_iter=True):
        self.start, self.end, self.split_in_iter = start, end, split_in_iter

    def __iter__(self):
        info = get_worker_info()
        lo, hi = self.start, self.end
        if info is not None and self.split_in_iter:
            per = -(-(self.end - self.start) // info.num_workers)
            lo = self.start + info.id * per
            hi = min(lo + per, self.end)
        return iter(range(lo, hi))


def _split_in_init(worker_id):  # PyTorch's second pattern: worker_init_fn narrows the worker's own copy
    info = get_worker_info()
    ds = info.dataset
    per = -(-(ds.end - ds.start) // info.num_workers)
    ds.start = ds.start + worker_id * per
    ds.end = min(ds.start + per, ds.end)


@pytest.mark.parametrize("prefetch", [None, 0])
def test_an_iterable_dataset_is_read_by_num_workers_workers_as_in_pytorch(prefetch):
    # The lists are torch 2.14's: each worker batches its own samples, and the workers yield a batch each in turn.
    def batches(ds, **kw):
        return [b.tolist() for b in DataLoader(ds, prefetch=prefetch, **kw)]
    assert batches(_Shard(0, 10), batch_size=2, num_workers=2) == [[0, 1], [5, 6], [2, 3], [7, 8], [4], [9]]
    assert batches(_Shard(0, 9, False), batch_size=2, num_workers=3, worker_init_fn=_split_in_init) == [
        [0, 1], [3, 4], [6, 7], [2], [5], [8]]
    ds = _Shard(0, 9, False)
    assert batches(ds, batch_size=2, num_workers=3, worker_init_fn=_split_in_init) and (ds.start, ds.end) == (0, 9)
    # without sharding every worker reads it all, as PyTorch's do; drop_last applies to each worker's batches
    assert batches(_Shard(0, 5, False), batch_size=2, num_workers=2, drop_last=True) == [[0, 1], [0, 1], [2, 3],
                                                                                       [2, 3]]
    assert batches(_Shard(0, 5), batch_size=2) == [[0, 1], [2, 3], [4]] and get_worker_info() is None


def test_the_loader_has_pytorchs_sampler_and_batch_sampler_attributes():
    loader = DataLoader(list(range(10)), batch_size=4, shuffle=True)
    assert isinstance(loader.sampler, RandomSampler) and len(loader.sampler) == 10
    assert isinstance(loader.batch_sampler, BatchSampler) and loader.batch_sampler.batch_size == 4
    assert len(loader.batch_sampler) == len(loader) == 3
    assert isinstance(DataLoader(list(range(3))).sampler, SequentialSampler)
    assert DataLoader(list(range(3)), batch_size=None).batch_sampler is None
    given = [2, 0, 1]
    assert DataLoader(list(range(3)), sampler=given).sampler is given
    loader = DataLoader(list(range(3)), num_workers=1, prefetch_factor=3, pin_memory=True)
    assert (loader.generator, loader.prefetch_factor, loader.pin_memory, loader.persistent_workers) == (
        None, 3, True, False)


def test_a_sampler_orders_a_dataset_without_a_length():
    class Lazy(Dataset):  # __getitem__ only: torch reads it in the sampler's order
        def __getitem__(self, i):
            return i * 10
    assert [b.tolist() for b in DataLoader(Lazy(), batch_size=2, sampler=[0, 1, 2])] == [[0, 10], [20]]


def test_worker_options_run_in_the_loading_thread():
    seen = collections.defaultdict(list)

    class Where(Range):
        def __getitem__(self, i):
            info = get_worker_info()
            seen["info"].append(None if info is None else (info.id, info.num_workers))
            seen["thread"].append(threading.current_thread() is threading.main_thread())
            return i

    calls = []
    loader = DataLoader(Where(6), batch_size=2, num_workers=2, prefetch_factor=3,
                        worker_init_fn=lambda wid: calls.append((wid, threading.current_thread().name)))
    assert loader.prefetch == 6
    assert [b.tolist() for b in loader] == [[0, 1], [2, 3], [4, 5]]
    assert calls == [(0, "fnx-data-prefetch")]
    assert set(seen["info"]) == {(0, 2)} and not any(seen["thread"])
    assert get_worker_info() is None
    seen.clear()
    list(DataLoader(Where(2), batch_size=2))  # no workers: loaded in the main thread
    assert seen["info"] == [None, None] and all(seen["thread"])


def test_loader_timeout():
    class Slow(Range):
        def __getitem__(self, i):
            threading.Event().wait(0.5)
            return i

    with pytest.raises(RuntimeError, match="timed out after 0.05 seconds"):
        list(DataLoader(Slow(4), batch_size=2, num_workers=1, timeout=0.05))
    with pytest.raises(ValueError, match="timeout option should be non-negative"):
        DataLoader(Range(2), timeout=-1)


def test_chain_and_stack_datasets():
    assert list(ChainDataset([Count(2), Count(3)])) == [0, 1, 0, 1, 2] and len(ChainDataset([Count(2)])) == 2
    with pytest.raises(TypeError, match="only supports IterableDataset"):
        list(ChainDataset([Range(2)]))
    pair = StackDataset(Range(3), ["a", "b", "c"])
    assert pair[1] == (1, "b") and len(pair) == 3
    assert StackDataset(x=Range(2), y=[5, 6])[0] == {"x": 0, "y": 5}
    batch = next(iter(DataLoader(StackDataset(x=Range(4), y=Range(4)), batch_size=4)))
    assert batch["x"].tolist() == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="size mismatch"):
        StackDataset(Range(2), Range(3))
    with pytest.raises(ValueError, match="both types are given"):
        StackDataset(Range(2), y=Range(2))


def test_against_torch():
    torch = pytest.importorskip("torch")
    from torch.utils import data as td
    assert list(td.BatchSampler(td.SequentialSampler(range(5)), 2, True)) == \
        list(BatchSampler(SequentialSampler(range(5)), 2, True))
    assert len(td.DataLoader(list(range(10)), sampler=list(range(7)), batch_size=3)) == \
        len(DataLoader(Range(10), sampler=list(range(7)), batch_size=3))
    assert [t.tolist() for t in td.DataLoader(list(range(5)), batch_sampler=[[0, 1], [4]])] == \
        [b.tolist() for b in DataLoader(Range(5), batch_sampler=[[0, 1], [4]])]
    assert td.StackDataset(x=[1, 2], y=[3, 4])[1] == StackDataset(x=[1, 2], y=[3, 4])[1]
    del torch


@pytest.mark.parametrize("options, expected", [
    (dict(num_replicas=2, rank=1, shuffle=False), [1, 3, 0]),
    (dict(num_replicas=3, rank=0, shuffle=False), [0, 3]),
    (dict(num_replicas=3, rank=2, shuffle=False, drop_last=True), [2]),
    (dict(num_replicas=4, rank=3, shuffle=False), [3, 2]),
])
def test_distributed_sampler_shares_as_torch(options, expected):
    from fnx.utils.data.distributed import DistributedSampler  # torch's import path
    sampler = DistributedSampler(range(5), **options)
    assert list(sampler) == expected and len(sampler) == len(expected)
    pytest.importorskip("torch")
    from torch.utils.data.distributed import DistributedSampler as Theirs
    assert list(Theirs(range(5), **options)) == expected


def test_distributed_sampler_shuffles_by_seed_and_epoch_and_partitions():
    from fnx.utils.data import DistributedSampler
    shares = [DistributedSampler(range(10), num_replicas=2, rank=r, seed=3) for r in (0, 1)]
    assert sorted(list(shares[0]) + list(shares[1])) == list(range(10))  # one order, split between replicas
    first = list(shares[0])
    shares[0].set_epoch(1)
    assert list(shares[0]) != first  # another epoch, another order
    shares[0].set_epoch(0)
    assert list(shares[0]) == first
    assert list(DistributedSampler(range(4))) != [] and len(DistributedSampler(range(4))) == 4  # one replica
    with pytest.raises(ValueError, match=r"invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    loader = fnx.utils.data.DataLoader(list(range(6)), batch_size=2,
                                       sampler=DistributedSampler(range(6), num_replicas=2, rank=0, shuffle=False))
    assert [b.tolist() for b in loader] == [[0, 2], [4]]
    assert not fnx.distributed.is_available() and not fnx.distributed.is_initialized()
