"""fnx.data: datasets, random_split, default_collate and the DataLoader (order, length, prefetch)."""
import collections
import threading
import time
import warnings

import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx.data import (ArrayDataset, ConcatDataset, DataLoader, Dataset, IterableDataset, Subset, TensorDataset,
                      default_collate, default_convert, random_split)
from fnx.errors import ShapeError


class Range(Dataset):
    """Samples ``(i, float(i))``; optionally sleeping in __getitem__ or failing at one index."""

    def __init__(self, n, sleep=0.0, fail_at=None):
        self.n, self.sleep, self.fail_at = n, sleep, fail_at

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.fail_at:
            raise KeyError(f"sample {i} is broken")
        if self.sleep:
            time.sleep(self.sleep)
        return i, float(i)


def ids(loader):
    return [b[0].tolist() for b in loader]


def prefetch_threads():
    return [t for t in threading.enumerate() if t.name == "fnx-data-prefetch" and t.is_alive()]


# ----- datasets -------------------------------------------------------------------------------------

def test_array_dataset_items_and_length():
    x, y = fnp.arange(12.0).reshape(4, 3), np.array([3, 1, 4, 1])
    ds = ArrayDataset(x, y)
    assert len(ds) == 4 and TensorDataset is ArrayDataset
    xi, yi = ds[2]
    assert xi.tolist() == [6.0, 7.0, 8.0] and int(yi) == 4 and yi.dtype == np.int64
    assert isinstance(yi, fnx.Array)
    assert ds.tensors is ds.arrays


def test_array_dataset_checks_first_dimension():
    with pytest.raises(ShapeError, match=r"ArrayDataset: size mismatch.*\[3, 4\]"):
        ArrayDataset(fnp.zeros((3, 2)), fnp.zeros(4))
    with pytest.raises(ShapeError, match="0-d"):
        ArrayDataset(fnp.zeros(()))
    with pytest.raises(ValueError, match="at least one"):
        ArrayDataset()


def test_dataset_base_is_abstract_and_concatenates():
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]
    with pytest.raises(TypeError):  # no __len__, as PyTorch's base class
        len(Dataset())
    assert not hasattr(Dataset(), "__len__") and not hasattr(IterableDataset(), "__len__")

    class Listed(Dataset):  # only __getitem__: iterated by the sequence protocol, as in PyTorch
        def __getitem__(self, i):
            if i >= 3:
                raise IndexError(i)
            return i * 10
    assert list(Listed()) == [0, 10, 20]
    both = Range(2) + Range(3)
    assert isinstance(both, ConcatDataset) and len(both) == 5
    assert [s[0] for s in both] == [0, 1, 0, 1, 2]


def test_concat_dataset_indexing():
    cat = ConcatDataset([Range(2), Range(0), Range(3)])
    assert cat.cumulative_sizes == [2, 2, 5]
    assert [cat[i][0] for i in range(5)] == [0, 1, 0, 1, 2]
    assert cat[-1][0] == 2 and cat[-5][0] == 0
    with pytest.raises(IndexError):
        cat[5]
    with pytest.raises(ValueError):
        cat[-6]
    with pytest.raises(ValueError, match="empty"):
        ConcatDataset([])


def test_subset():
    sub = Subset(Range(10), [7, 2, 5])
    assert len(sub) == 3 and [s[0] for s in sub] == [7, 2, 5] and sub[-1][0] == 5


def test_random_split_counts_and_fractions():
    a, b, c = random_split(Range(10), [3, 3, 4], seed=0)
    assert (len(a), len(b), len(c)) == (3, 3, 4)
    assert sorted(a.indices + b.indices + c.indices) == list(range(10))
    # PyTorch's rule: floor of each fraction, remainder dealt from the first split on
    assert [len(s) for s in random_split(Range(5), [0.5, 0.5], seed=0)] == [3, 2]
    assert [len(s) for s in random_split(Range(10), [0.33, 0.33, 0.34], seed=0)] == [4, 3, 3]
    with pytest.raises(ValueError, match="do not sum"):
        random_split(Range(10), [3, 3])
    with pytest.raises(ValueError, match="between 0 and 1"):
        random_split(Range(10), [1.2, -0.2])
    with pytest.warns(UserWarning, match="index 1 is 0"):
        random_split(Range(1), [0.5, 0.5], seed=0)


def test_random_split_is_seeded():
    first = [s.indices for s in random_split(Range(20), [0.5, 0.5], seed=3)]
    assert first == [s.indices for s in random_split(Range(20), [0.5, 0.5], seed=3)]
    assert first == [s.indices for s in random_split(Range(20), [0.5, 0.5], generator=fnx.random.key(3))]
    assert first != [s.indices for s in random_split(Range(20), [0.5, 0.5], seed=4)]
    fnx.manual_seed(1)
    g1 = [s.indices for s in random_split(Range(20), [10, 10])]
    fnx.manual_seed(1)
    assert g1 == [s.indices for s in random_split(Range(20), [10, 10])]
    with pytest.raises(TypeError, match="either"):
        random_split(Range(4), [2, 2], fnx.random.key(0), seed=0)
    with pytest.raises(TypeError, match="seed must be"):
        random_split(Range(4), [2, 2], seed="zero")


# ----- collate --------------------------------------------------------------------------------------

Point = collections.namedtuple("Point", "x y")


def test_default_collate_numbers_and_arrays():
    ints, floats, bools = default_collate([(1, 0.5, True), (2, 1.5, False)])
    assert ints.dtype == np.int64 and ints.tolist() == [1, 2]
    assert floats.dtype == np.float64 and bools.dtype == np.bool_  # torch's default_collate: float64 for floats
    assert default_collate([1, 2.5]).dtype == np.float32  # an int first, then a float: torch.tensor's inference
    assert default_collate([True, 2]).tolist() == [1, 2]
    stacked = default_collate([np.ones((2, 3), np.float16), np.zeros((2, 3), np.float16)])
    assert isinstance(stacked, fnx.Array) and stacked.shape == (2, 2, 3) and stacked.dtype == np.float16
    fx = default_collate([fnp.ones(2), fnp.zeros(2)])
    assert fx.shape == (2, 2) and fx.dtype == np.float32
    scalars = default_collate([np.float64(1.0), np.float64(2.0)])
    assert scalars.dtype == np.float64 and scalars.shape == (2,)


def test_default_collate_containers_keep_their_type():
    batch = default_collate([{"p": Point(1, [2.0, 3.0]), "name": "a"}, {"p": Point(4, [5.0, 6.0]), "name": "b"}])
    assert isinstance(batch["p"], Point) and batch["name"] == ["a", "b"]
    assert batch["p"].x.tolist() == [1, 4]
    assert isinstance(batch["p"].y, list) and [t.tolist() for t in batch["p"].y] == [[2.0, 5.0], [3.0, 6.0]]
    ordered = default_collate([collections.OrderedDict(b=1, a=2)] * 2)
    assert type(ordered) is collections.OrderedDict and list(ordered) == ["b", "a"]
    assert isinstance(default_collate([(1, 2), (3, 4)]), list)  # as torch's


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="found object"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="non-empty"):
        default_collate([])


def test_default_convert():
    out = default_convert((np.arange(3), 1.5, "s", [np.zeros(1)]))
    assert isinstance(out[0], fnx.Array) and out[1] == 1.5 and out[2] == "s" and isinstance(out[3][0], fnx.Array)


# ----- the loader -----------------------------------------------------------------------------------

def test_len_matches_pytorch():
    for n, bs, drop, expected in [(10, 3, False, 4), (10, 3, True, 3), (9, 3, False, 3), (2, 5, True, 0),
                                  (0, 4, False, 0)]:
        loader = DataLoader(Range(n), batch_size=bs, drop_last=drop)
        assert len(loader) == expected
        assert len(list(loader)) == expected
    assert len(DataLoader(Range(7), batch_size=None)) == 7


def test_sequential_batches_and_drop_last():
    assert ids(DataLoader(Range(7), batch_size=3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert ids(DataLoader(Range(7), batch_size=3, drop_last=True)) == [[0, 1, 2], [3, 4, 5]]
    x, y = next(iter(DataLoader(Range(4), batch_size=4)))
    assert x.dtype == np.int64 and y.dtype == np.float64


def test_shuffle_is_seeded_per_epoch():
    a = DataLoader(Range(20), batch_size=5, shuffle=True, seed=7)
    b = DataLoader(Range(20), batch_size=5, shuffle=True, seed=7)
    e0, e1 = ids(a), ids(a)
    assert e0 == ids(b) and e1 == ids(b)  # same seed: the same sequence of epochs
    assert e0 != e1  # epochs differ
    assert sorted(sum(e0, [])) == list(range(20))
    assert ids(DataLoader(Range(20), batch_size=5, shuffle=True, seed=8)) != e0
    resumed = DataLoader(Range(20), batch_size=5, shuffle=True, seed=7)
    resumed.epoch = 1
    assert ids(resumed) == e1
    keyed = DataLoader(Range(20), batch_size=5, shuffle=True, seed=fnx.random.key(7))
    assert ids(keyed) == e0


def test_unseeded_shuffle_follows_manual_seed():
    loader = DataLoader(Range(30), batch_size=30, shuffle=True)
    fnx.manual_seed(5)
    first = ids(loader)
    fnx.manual_seed(5)
    assert ids(loader) == first and first != [list(range(30))]


def test_array_dataset_fast_path_equals_per_sample_collate():
    rng = np.random.default_rng(0)
    ds = ArrayDataset(rng.standard_normal((23, 4)).astype(np.float32), np.arange(23))
    sub = Subset(ds, list(range(22, -1, -2)))
    for data in (ds, sub):
        fast = list(DataLoader(data, batch_size=4, shuffle=True, seed=1))
        slow = list(DataLoader(data, batch_size=4, shuffle=True, seed=1, collate_fn=default_collate))
        assert len(fast) == len(slow)
        for (fx, fy), (sx, sy) in zip(fast, slow):
            assert isinstance(fx, fnx.Array) and fx.dtype == sx.dtype and fy.dtype == sy.dtype
            np.testing.assert_array_equal(fx, sx)
            np.testing.assert_array_equal(fy, sy)


def test_collate_fn_and_getitems():
    class Batched(Range):
        def __getitems__(self, indices):
            return [(i, -i) for i in indices]

    assert [b for b in DataLoader(Range(4), batch_size=2, collate_fn=len)] == [2, 2]
    assert [b[1].tolist() for b in DataLoader(Batched(4), batch_size=2)] == [[0, -1], [-2, -3]]


def test_batch_size_none_yields_samples():
    out = list(DataLoader(ArrayDataset(np.arange(3.0)), batch_size=None))
    assert [float(x[0]) for x in out] == [0.0, 1.0, 2.0]
    with pytest.raises(ValueError, match="drop_last"):
        DataLoader(Range(3), batch_size=None, drop_last=True)


def test_iterable_dataset():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3, drop_last=True, prefetch=2)] == [[0, 1, 2],
                                                                                                  [3, 4, 5]]
    with pytest.raises(ValueError, match="IterableDataset"):
        DataLoader(Stream(), shuffle=True)


def test_bad_arguments():
    for bs in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="batch_size"):
            DataLoader(Range(3), batch_size=bs)
    with pytest.raises(ValueError, match="prefetch"):
        DataLoader(Range(3), prefetch=-1)
    with pytest.raises(TypeError, match="seed"):
        DataLoader(Range(3), shuffle=True, seed=1.5)
    with pytest.raises(TypeError):
        DataLoader(Range(3), sampler_of_my_own=[0, 1, 2])  # an unknown option is not silently ignored
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(Range(3), num_workers=-1)


def test_pytorch_loading_options_keep_the_batches():
    plain = list(DataLoader(Range(10), batch_size=4, shuffle=True, seed=1))
    loader = DataLoader(Range(10), batch_size=4, shuffle=True, seed=1, num_workers=2, pin_memory=True,
                        persistent_workers=True)
    assert loader.prefetch == 4  # two batches ahead per worker, as PyTorch's prefetch_factor
    assert DataLoader(Range(10), num_workers=2, prefetch=1).prefetch == 1
    for (px, py), (ax, ay) in zip(plain, loader):
        np.testing.assert_array_equal(px, ax)
        np.testing.assert_array_equal(py, ay)
    assert not prefetch_threads()


# ----- prefetch -------------------------------------------------------------------------------------

def test_prefetch_gives_identical_batches():
    for shuffle in (False, True):
        plain = list(DataLoader(Range(17), batch_size=4, shuffle=shuffle, seed=2))
        ahead = list(DataLoader(Range(17), batch_size=4, shuffle=shuffle, seed=2, prefetch=3))
        assert len(plain) == len(ahead) == 5
        for (px, py), (ax, ay) in zip(plain, ahead):
            np.testing.assert_array_equal(px, ax)
            np.testing.assert_array_equal(py, ay)
    assert not prefetch_threads()


def test_prefetch_overlaps_loading_and_training():
    n, step = 8, 0.05

    def epoch(prefetch):
        start = time.perf_counter()
        for _ in DataLoader(Range(n, sleep=step), batch_size=1, prefetch=prefetch):
            time.sleep(step)  # the "training step"
        return time.perf_counter() - start

    serial, overlapped = epoch(0), epoch(2)
    assert serial >= 2 * n * step
    # loading and stepping overlap: about max(n, n) steps plus one, instead of 2n
    assert overlapped < 1.5 * n * step, (serial, overlapped)


def test_prefetch_reraises_worker_errors():
    loader = DataLoader(Range(10, fail_at=5), batch_size=2, prefetch=2)
    got = []
    with pytest.raises(KeyError, match="sample 5 is broken"):
        for x, _ in loader:
            got.append(x.tolist())
    assert got == [[0, 1], [2, 3]]
    assert not prefetch_threads()


def test_prefetch_thread_stops_when_abandoned():
    loader = DataLoader(Range(1000), batch_size=1, prefetch=2)
    for _ in loader:
        break
    assert not prefetch_threads()
    it = iter(loader)  # never advanced
    next(iter(DataLoader(Range(1), prefetch=1)))
    it.close()
    assert not prefetch_threads()
    it = iter(loader)
    next(it)
    del it
    assert not prefetch_threads()


def test_default_collate_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate
    for batch in ([1, 2.5], [1.0, 2], [True, 1], [True, False], [(1, 0.5), (2, 1.5)], [{"y": 0.7}, {"y": 1}],
                  [[1, 2.0], [3, 4.0]], [np.float32(1.0), np.float32(2.0)]):
        ours, theirs = default_collate(batch), torch_collate(batch)
        assert type(ours) is type(theirs) or isinstance(theirs, torch.Tensor), batch
        ours_leaves = ours.values() if isinstance(ours, dict) else ours if isinstance(ours, list) else [ours]
        theirs_leaves = theirs.values() if isinstance(theirs, dict) else theirs if isinstance(theirs, list) \
            else [theirs]
        for a, t in zip(ours_leaves, theirs_leaves):
            assert str(a.dtype) == str(t.dtype).replace("torch.", ""), batch
            np.testing.assert_array_equal(np.asarray(a), t.numpy())


def test_batches_of_tuples_are_lists_as_in_pytorch():
    # torch's default_collate (and default_convert) make a list of a tuple sample, so batch[0] = ... works
    from fnx.data import ArrayDataset, default_collate, default_convert
    ds = ArrayDataset(fnp.ones((4, 2)), fnp.zeros(4))
    batch = next(iter(DataLoader(ds, batch_size=2)))
    assert type(batch) is list and batch[0].shape == (2, 2)
    assert type(next(iter(DataLoader(ds, batch_size=None)))) is list
    assert type(default_convert((np.ones(1), 3))) is list
    assert default_collate([(1, "a"), (2, "b")])[1] == ("a", "b")  # strings as they come: a tuple here


def test_the_loader_honours_a_subclass_that_overrides_how_samples_are_read():
    # The batched gather of ArrayDataset must not bypass a subclass's __getitem__ (augmentation), as torch's
    # loader calls it; nor a Subset subclass's own __getitem__/__getitems__.
    class Scaled(fnx.data.TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 10, y

    ds = Scaled(fnp.arange(4.0), fnp.arange(4))
    x, y = next(iter(fnx.data.DataLoader(ds, batch_size=4)))
    assert x.tolist() == [0, 10, 20, 30] and y.tolist() == [0, 1, 2, 3]

    class Noisy(fnx.data.Subset):
        def __getitem__(self, i):
            x, y = self.dataset[self.indices[i]]
            return x + 100, y

        def __getitems__(self, indices):
            return [self[i] for i in indices]

    base = fnx.data.TensorDataset(fnp.arange(4.0), fnp.arange(4))
    assert next(iter(fnx.data.DataLoader(Noisy(base, [0, 2]), batch_size=2)))[0].tolist() == [100, 102]
    plain = next(iter(fnx.data.DataLoader(fnx.data.Subset(base, [3, 1]), batch_size=2)))
    assert plain[0].tolist() == [3, 1]  # the gather still serves the classes that do not override


def test_a_subset_fetches_batches_through_its_datasets_getitems():
    class Store(fnx.data.Dataset):
        def __init__(self):
            self.calls = []

        def __len__(self):
            return 6

        def __getitem__(self, i):
            self.calls.append(("item", i))
            return float(i)

        def __getitems__(self, indices):
            self.calls.append(("batch", list(indices)))
            return [float(i) for i in indices]

    store = Store()
    batch = next(iter(fnx.data.DataLoader(fnx.data.Subset(store, [5, 0, 3]), batch_size=3)))
    assert store.calls == [("batch", [5, 0, 3])] and batch.tolist() == [5, 0, 3]  # one read, as torch's
    ds = fnx.data.TensorDataset(fnp.arange(5.0))
    assert fnx.data.Subset(ds, [4, 0, 2])[[0, 2]][0].tolist() == [4, 2]  # the dataset indexed with the list


def test_datasets_and_samplers_are_generic_and_streams_chain_with_plus():
    class Pairs(fnx.data.Dataset[tuple]):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return i

    class Backwards(fnx.data.Sampler[int]):
        def __iter__(self):
            return iter([1, 0])

        def __len__(self):
            return 2

    assert next(iter(fnx.data.DataLoader(Pairs(), sampler=Backwards(), batch_size=2))).tolist() == [1, 0]

    class Count(fnx.data.IterableDataset[int]):
        def __init__(self, n):
            self.n = n

        def __iter__(self):
            return iter(range(self.n))

    both = Count(2) + Count(3)
    assert isinstance(both, fnx.data.ChainDataset) and list(both) == [0, 1, 0, 1, 2]


def test_pytorchs_submodule_paths_import():
    from fnx.data.distributed import DistributedSampler
    from fnx.nn.utils.clip_grad import clip_grad_norm_
    from fnx.nn.utils.convert_parameters import parameters_to_vector
    from fnx.optim.optimizer import Optimizer, required
    from fnx.utils.data.distributed import DistributedSampler as from_utils
    assert Optimizer is fnx.optim.Optimizer and DistributedSampler is from_utils is fnx.data.DistributedSampler
    assert clip_grad_norm_ is fnx.nn.utils.clip_grad_norm_ and parameters_to_vector is fnx.nn.utils.parameters_to_vector
    assert repr(required) == "<required parameter>"


def test_the_warnings_pytorch_gives_a_misordered_loop():
    p = fnx.nn.Parameter(fnp.ones(2))
    with pytest.warns(UserWarning, match="duplicate parameters"):
        opt = fnx.optim.SGD([p, p], lr=0.1)
    sched = fnx.optim.lr_scheduler.StepLR(opt, 1)
    with pytest.warns(UserWarning, match=r"lr_scheduler.step\(\)` before `optimizer.step\(\)"):
        sched.step()
    opt = fnx.optim.SGD([p], lr=0.1)
    sched = fnx.optim.lr_scheduler.StepLR(opt, 1)
    opt.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()  # the right order: nothing to say


def test_loader_reads_its_sampler_one_batch_at_a_time_so_an_endless_sampler_works():
    drawn = []

    class Endless(fnx.data.Sampler):  # detectron2's InfiniteSampler, in short
        def __iter__(self):
            i = 0
            while True:
                drawn.append(i)
                yield i % 10
                i += 1

    class EndlessBatches(fnx.data.Sampler):
        def __iter__(self):
            while True:
                drawn.append(None)
                yield [1, 2]

    batches = iter(DataLoader(list(range(10)), batch_size=4, sampler=Endless()))
    assert next(batches).tolist() == [0, 1, 2, 3] and len(drawn) == 4
    assert next(batches).tolist() == [4, 5, 6, 7] and len(drawn) == 8
    drawn.clear()
    assert next(iter(DataLoader(list(range(10)), batch_sampler=EndlessBatches()))).tolist() == [1, 2]
    assert len(drawn) == 1
    with_thread = iter(DataLoader(list(range(10)), batch_size=2, sampler=Endless(), num_workers=1))
    assert next(with_thread).tolist() == [0, 1]
    with_thread.close()


def test_loader_sampler_is_one_object_and_arguments_are_checked_as_pytorch():
    loader = DataLoader(list(range(5)), batch_size=2, shuffle=True)
    assert loader.sampler is loader.sampler and loader.batch_sampler is loader.batch_sampler
    assert loader.batch_sampler.sampler is loader.sampler
    with pytest.raises(ValueError, match="persistent_workers option needs num_workers > 0"):
        DataLoader(list(range(5)), persistent_workers=True)
    with pytest.raises(ValueError, match="drop_last should be a boolean value"):
        DataLoader(list(range(5)), batch_size=2, drop_last=1)
    with pytest.raises(ValueError, match="prefetch_factor should be a positive integer"):
        DataLoader(list(range(5)), num_workers=1, prefetch_factor=0)
    with pytest.raises(ValueError, match="num_samples=0"):
        fnx.data.RandomSampler([])


def test_default_collate_keeps_numpy_strings_as_a_list_and_tensors_can_be_reassigned():
    labels = np.array(["cat", "dog"])
    assert fnx.data.default_collate([labels[0], labels[1]]) == ["cat", "dog"]
    counts = fnx.data.default_collate([collections.defaultdict(list, a=1), collections.defaultdict(list, a=2)])
    assert type(counts) is collections.defaultdict and counts.default_factory is list
    assert counts["a"].tolist() == [1, 2]
    ds = TensorDataset(fnp.arange(4))
    ds.tensors = (fnp.arange(4) * 10,)
    assert int(ds[1][0]) == 10
    assert next(iter(DataLoader(ds, batch_size=4)))[0].tolist() == [0, 10, 20, 30]


def test_stack_dataset_reads_its_datasets_a_batch_at_a_time():
    asked = []

    class Batched(Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, i):
            raise AssertionError("read one at a time")

        def __getitems__(self, indices):
            asked.append(list(indices))
            return [i * 10 for i in indices]
    stacked = fnx.data.StackDataset(x=Batched(), y=["a", "b", "c"])
    assert stacked.__getitems__([2, 0]) == [{"x": 20, "y": "c"}, {"x": 0, "y": "a"}]
    batch = next(iter(DataLoader(stacked, batch_size=2)))
    assert batch["x"].tolist() == [0, 10] and batch["y"] == ["a", "b"] and asked == [[2, 0], [0, 1]]
