"""DataLoader: batches of samples, in a reproducible order, optionally prepared in the background.

A loader turns a dataset into an iterable of batches. Each pass (an *epoch*)
picks an order, cuts it into batches of ``batch_size`` indices, fetches those
samples and merges them with ``collate_fn``. The default collate function
stacks corresponding leaves of the samples' pytrees, so samples ``(x, y)``
become a batch ``(xs, ys)`` whose arrays have one more leading axis.

Shuffling is a pure function of a seed and the epoch number: the order of
epoch ``e`` is ``fnx.random.permutation(fold_in(key(seed), e), n)``. Two
loaders with the same seed therefore agree epoch by epoch, successive epochs
differ, and a resumed run can set ``loader.epoch`` to continue the sequence.
Without a seed each epoch draws a key from the global source, which
``fnx.manual_seed`` makes reproducible (PyTorch's behaviour with its default
generator).

``prefetch=N`` moves fetching and collating to a background thread that keeps
up to ``N`` batches ready in a bounded queue, so slow ``__getitem__`` calls
(disk, decoding, augmentation) overlap with the training step. A thread rather
than processes: the samples need no pickling, and numpy and I/O release the
GIL. An exception in the thread is raised again in the consumer, and
abandoning the iteration (``break``, or dropping the iterator) stops the
thread.
"""
import collections.abc
import copy
import math
import queue
import threading

import numpy as np

from ..core.array import Array
from ..core.backend import default_device, get_default_device
from .dataset import IterableDataset, _base_key, _check_seed, _has_collated

__all__ = ["DataLoader", "default_collate", "default_convert", "get_worker_info", "WorkerInfo"]


def default_collate(batch):
    """Merges a list of samples into a batch, leaf by leaf (``torch.utils.data.default_collate``).

    * fnx and numpy arrays (and numpy scalars) are stacked on a new first axis,
      keeping their dtype;
    * Python ``int`` becomes int64 (the default float dtype where a later sample
      is a float, as ``torch.tensor`` would infer), ``float`` float64, ``bool``
      bool, ``complex`` complex128, all as in PyTorch;
    * strings and bytes stay as they come (a list of them; a tuple inside a tuple);
    * dicts, namedtuples and lists are collated per key or position and keep
      their type; tuples become lists, as in PyTorch.

    Raises:
      RuntimeError: sequences of different lengths in one batch.
      TypeError: a leaf of an unsupported type.

    >>> import fnx.data
    >>> fnx.data.default_collate([(1, 0.5), (2, 1.5)])
    [Array([1, 2], dtype=int64), Array([0.5, 1.5], dtype=float64)]
    >>> fnx.data.default_collate([{"x": [1, 2]}, {"x": [3, 4.5]}])["x"]
    [Array([1, 3], dtype=int64), Array([2. , 4.5], dtype=float32)]
    """
    from .. import numpy as fnp
    from ..core import dtypes
    if not isinstance(batch, collections.abc.Sequence) or not len(batch):
        raise TypeError(f"default_collate: expected a non-empty list of samples, got {type(batch).__name__}")
    elem = batch[0]
    if isinstance(elem, Array):
        return fnp.stack(batch)
    if isinstance(elem, (str, bytes)):  # numpy's str_ and bytes_ among them, as in PyTorch
        return batch
    if isinstance(elem, (np.ndarray, np.generic)):
        if elem.dtype.kind in "OUSV":
            raise TypeError(f"default_collate: numpy arrays of dtype {elem.dtype} cannot be collated; "
                            "pass a collate_fn for such samples")
        return fnp.asarray(np.stack([np.asarray(b) for b in batch]))
    if isinstance(elem, int):  # bool among them: the dtype torch.tensor(batch) infers
        if all(isinstance(b, bool) for b in batch):
            return fnp.asarray(np.array(batch, dtype=bool))
        exact = all(isinstance(b, int) for b in batch)
        return fnp.asarray(np.array(batch, dtype=np.int64 if exact else dtypes.default_float()))
    if isinstance(elem, float):
        return fnp.asarray(np.array(batch, dtype=np.float64))
    if isinstance(elem, complex):
        return fnp.asarray(np.array(batch, dtype=np.complex128))
    if isinstance(elem, collections.abc.Mapping):
        out = {key: default_collate([d[key] for d in batch]) for key in elem}
        if isinstance(elem, collections.abc.MutableMapping):  # a copy keeps its type and state (a defaultdict's
            clone = copy.copy(elem)                           # factory), as PyTorch's
            clone.update(out)
            return clone
        try:
            return type(elem)(out)
        except TypeError:  # a mapping type that cannot be built from a dict
            return out
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(s) != size for s in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of equal size, got "
                               f"lengths {sorted({len(s) for s in batch})}")
        parts = [default_collate(s) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return parts
        try:
            return type(elem)(parts)
        except TypeError:
            return parts
    raise TypeError(f"default_collate: batch must contain arrays, numbers, strings, dicts or lists; "
                    f"found {type(elem).__name__}")


def default_convert(data):
    """Turns numpy arrays inside ``data`` into fnx arrays, leaving everything else as it is, but tuples
    (not namedtuples) become lists, as PyTorch's ``default_convert`` makes them.

    The loader applies it to single samples when ``batch_size=None``.

    >>> import numpy as np, fnx.data
    >>> fnx.data.default_convert({"x": np.zeros(2), "label": 3})
    {'x': Array([0., 0.], dtype=float64), 'label': 3}
    """
    from .. import numpy as fnp
    if isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind not in "OUSV":
        return fnp.asarray(data)
    if isinstance(data, collections.abc.Mapping):
        out = {k: default_convert(v) for k, v in data.items()}
        try:
            return type(data)(out)
        except TypeError:
            return out
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, (tuple, list)):
        parts = [default_convert(d) for d in data]
        return parts if isinstance(data, tuple) or type(data) is list else type(data)(parts)
    return data


class DataLoader:
    """Iterates over ``dataset`` in batches (``torch.utils.data.DataLoader``).

    Args:
      dataset: a map-style :class:`~fnx.data.Dataset` (anything with
        ``__getitem__`` and ``__len__``) or an :class:`~fnx.data.IterableDataset`.
      batch_size: samples per batch; ``None`` yields single samples, uncollated
        (numpy arrays converted), as PyTorch does.
      shuffle: a new random order every epoch (see ``seed``).
      drop_last: drop the last batch when it is smaller than ``batch_size``.
      collate_fn: merges a list of samples into a batch; default
        :func:`default_collate`.
      seed: an int or an ``fnx.random`` key fixing the shuffling: epoch ``e``
        uses the permutation of ``fold_in(key, e)``. ``None`` draws a key per
        epoch from the global source (``fnx.manual_seed``).
      prefetch: how many batches a background thread prepares ahead; 0 (the
        default) prepares each batch when it is asked for.
      num_workers: PyTorch's loading in the background. Here one thread loads,
        so ``num_workers=N`` means ``prefetch=2 * N`` unless ``prefetch`` is
        given: PyTorch's two batches per worker ahead. An IterableDataset is
        read as PyTorch's N workers read it: N copies, each told by
        :func:`get_worker_info` which worker it is (so it can read its shard),
        each batching its own samples, yielding one batch each in turn.
      pin_memory, persistent_workers: accepted so PyTorch loops run unchanged;
        neither changes what the loader yields (fnx has no page-locked host
        memory, and its loading thread lives for one epoch).

      sampler: an iterable of indices giving the order instead of ``shuffle``
        (a :class:`~fnx.data.RandomSampler`, a list...); batch_sampler: an
        iterable of index lists, instead of ``batch_size``, ``shuffle``,
        ``sampler`` and ``drop_last``. Giving both sides raises ValueError, as
        in PyTorch.
      generator: an :class:`fnx.Generator`, as PyTorch's ``torch.Generator``:
        each shuffled epoch takes its next key, so loaders given generators
        seeded alike shuffle alike; or, as ``seed``, an int or an ``fnx.random`` key.
      worker_init_fn: with ``num_workers > 0``, called at the start of each
        epoch as ``worker_init_fn(k)`` for each worker ``k`` of an
        IterableDataset, and as ``worker_init_fn(0)`` in the loading thread of
        a map-style one; :func:`get_worker_info` describes the worker inside it.
      prefetch_factor: batches loaded ahead per worker (needs ``num_workers > 0``).
      timeout: seconds to wait for a batch from the loading thread before a
        RuntimeError (0: wait forever).
      multiprocessing_context, in_order, pin_memory_device: accepted so PyTorch
        loops run unchanged; batches always come in order.

    ``len(loader)`` is the number of batches per epoch; ``loader.epoch`` the
    number of the next epoch (set it to resume a seeded sequence). Unknown
    parameters raise a TypeError rather than being ignored.

    >>> import fnx, fnx.data
    >>> ds = fnx.data.ArrayDataset(fnx.numpy.arange(10.0), fnx.numpy.arange(10))
    >>> loader = fnx.data.DataLoader(ds, batch_size=4, shuffle=True, seed=0)
    >>> len(loader), [y.shape for x, y in loader]
    (3, [(4,), (4,), (2,)])
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True, seed=None, prefetch=None):
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers should be a non-negative integer, got {num_workers!r}")
        if prefetch_factor is not None:
            if num_workers == 0:
                raise ValueError("DataLoader: prefetch_factor option could only be specified in multiprocessing; "
                                 "let num_workers > 0 to enable it, otherwise set prefetch_factor to None")
            if isinstance(prefetch_factor, bool) or not isinstance(prefetch_factor, int) or prefetch_factor <= 0:
                raise ValueError(f"DataLoader: prefetch_factor should be a positive integer, got "
                                 f"{prefetch_factor!r}")
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        if prefetch is None:
            prefetch = (2 if prefetch_factor is None else prefetch_factor) * num_workers
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout!r}")
        if generator is not None:
            if seed is not None:
                raise TypeError("DataLoader: give either generator or seed, not both")
            seed = generator
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, and drop_last")
        shuffle = bool(shuffle)
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int)
                                       or batch_size <= 0):
            raise ValueError(f"DataLoader: batch_size should be a positive integer or None, got {batch_size!r}")
        if batch_sampler is not None:
            batch_size = None  # the batch sampler decides each batch (PyTorch's loader.batch_size is None too)
        if batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None disables batching, so drop_last must be False")
        if batch_size is not None and not isinstance(drop_last, bool):
            raise ValueError(f"DataLoader: drop_last should be a boolean value, but got drop_last={drop_last!r}")
        if isinstance(prefetch, bool) or not isinstance(prefetch, int) or prefetch < 0:
            raise ValueError(f"DataLoader: prefetch should be a non-negative integer, got {prefetch!r}")
        if isinstance(dataset, IterableDataset) and (shuffle or sampler is not None or batch_sampler is not None):
            raise ValueError("DataLoader: shuffle, sampler and batch_sampler need a map-style dataset; an "
                             "IterableDataset has no indices to order (shuffle inside its __iter__ instead)")
        _check_seed("DataLoader", seed)  # reject a bad seed now rather than at the first epoch
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self._sampler = sampler
        self._batch_sampler = batch_sampler
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.seed = seed
        self.prefetch = prefetch
        self.num_workers = num_workers
        self.worker_init_fn = worker_init_fn
        self.timeout = timeout
        self.epoch = 0
        # PyTorch's attributes, as given (they change nothing here beyond what the docstring says)
        self.generator, self.prefetch_factor = generator, prefetch_factor
        self.pin_memory, self.persistent_workers = bool(pin_memory), bool(persistent_workers)
        self._described = {}  # the samplers made to describe the order, made once (PyTorch's loader has them)

    @property
    def sampler(self):
        """The sampler given, or (as PyTorch's loader has one) a Sequential/RandomSampler of the dataset that
        describes the order: ``len(loader.sampler)`` is the number of samples per epoch. The loader orders a
        shuffled epoch itself (see ``seed``). None for an IterableDataset."""
        if self._sampler is not None or isinstance(self.dataset, IterableDataset):
            return self._sampler
        if "sampler" not in self._described:
            from .sampler import RandomSampler, SequentialSampler
            self._described["sampler"] = RandomSampler(self.dataset) if self.shuffle else SequentialSampler(
                self.dataset)
        return self._described["sampler"]

    @property
    def batch_sampler(self):
        """The batch sampler given, or a BatchSampler over :attr:`sampler` with the loader's ``batch_size`` and
        ``drop_last`` (None without batching, as in PyTorch)."""
        if self._batch_sampler is not None or self.batch_size is None or isinstance(self.dataset, IterableDataset):
            return self._batch_sampler
        if "batch_sampler" not in self._described:
            from .sampler import BatchSampler
            self._described["batch_sampler"] = BatchSampler(self.sampler, self.batch_size, self.drop_last)
        return self._described["batch_sampler"]

    def __len__(self):
        if self._batch_sampler is not None:
            return len(self._batch_sampler)
        n = len(self.dataset) if self._sampler is None else len(self._sampler)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _order(self):
        """The sample indices of the next epoch (advancing the epoch counter): an iterable that a given sampler
        fills as it is read, as PyTorch reads one (which may never end)."""
        from .. import random
        epoch, self.epoch = self.epoch, self.epoch + 1
        if self._sampler is not None:  # the sampler alone gives the order: the dataset need not have a length
            return iter(self._sampler)
        n = len(self.dataset)
        if not self.shuffle or n == 0:
            return list(range(n))
        if self.seed is None or isinstance(self.seed, random.Generator):
            key = random.next_key(self.seed)
        else:
            key = random.fold_in(_base_key("DataLoader", self.seed), epoch)
        return np.asarray(random.permutation(key, n)).tolist()

    def _index_batches(self, order):
        """The index lists of the batches, taken from ``order`` one batch at a time."""
        if self.batch_size is None:
            return ([i] for i in order)
        from .sampler import BatchSampler
        return iter(BatchSampler(order, self.batch_size, self.drop_last))

    def _fetch(self, indices):
        if self.batch_size is None and self._batch_sampler is None:
            sample = self.dataset[indices[0]]
            return self.collate_fn(sample) if self.collate_fn is not None else default_convert(sample)
        if self.collate_fn is None and _has_collated(self.dataset):
            return self.dataset._collated(indices)
        getitems = getattr(self.dataset, "__getitems__", None)
        samples = getitems(indices) if getitems is not None else [self.dataset[i] for i in indices]
        return (self.collate_fn or default_collate)(samples)

    def _batches_of(self, index_batches):
        for indices in index_batches:
            yield self._fetch(indices)

    def _stream(self, dataset=None):
        """Batches of an IterableDataset (``dataset``, a worker's copy, or the loader's), in its own order."""
        if dataset is None:
            self.epoch += 1
            dataset = self.dataset
        convert = self.collate_fn or (default_convert if self.batch_size is None else default_collate)
        if self.batch_size is None:
            for sample in dataset:
                yield convert(sample)
            return
        batch = []
        for sample in dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield convert(batch)
                batch = []
        if batch and not self.drop_last:
            yield convert(batch)

    def _worker_streams(self):
        """An IterableDataset read as PyTorch's ``num_workers`` processes read it: each worker iterates its own
        copy of the dataset (which :func:`get_worker_info` describes, and ``worker_init_fn`` may change), makes
        batches of its own samples, and the workers take turns, one batch each, until all are done."""
        n, seed = self.num_workers, self.epoch
        streams = []
        for k in range(n):
            info = WorkerInfo(id=k, num_workers=n, seed=seed + k, dataset=copy.copy(self.dataset))
            with _as_worker(info):
                if self.worker_init_fn is not None:
                    self.worker_init_fn(k)
            streams.append((info, self._stream(info.dataset)))
        self.epoch = seed + 1
        while streams:
            for entry in list(streams):
                info, stream = entry
                with _as_worker(info):
                    batch = next(stream, _DONE)
                if batch is _DONE:
                    streams.remove(entry)
                else:
                    yield batch

    def __iter__(self):
        if isinstance(self.dataset, IterableDataset):
            if self.num_workers:  # the workers' batches, in turn: the thread below only loads them ahead
                return self._worker_streams() if not self.prefetch else _prefetched(
                    self._worker_streams(), self.prefetch, None, None, self.timeout)
            batches = self._stream()
        elif self._batch_sampler is not None:
            self.epoch += 1
            batches = self._batches_of(list(b) for b in iter(self._batch_sampler))
        else:
            batches = self._batches_of(self._index_batches(self._order()))
        if not self.prefetch:
            return batches
        info = WorkerInfo(id=0, num_workers=max(self.num_workers, 1), seed=self.epoch, dataset=self.dataset)
        return _prefetched(batches, self.prefetch, info, self.worker_init_fn if self.num_workers else None,
                           self.timeout)

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, seed={self.seed!r}, prefetch={self.prefetch})")


_DONE = object()


WorkerInfo = collections.namedtuple("WorkerInfo", ["id", "num_workers", "seed", "dataset"])
_worker = threading.local()


def get_worker_info():
    """Inside the loader's background thread, a ``WorkerInfo(id, num_workers, seed, dataset)``; elsewhere
    None (``torch.utils.data.get_worker_info``), so a dataset can tell where it is being read."""
    return getattr(_worker, "info", None)


class _as_worker:
    """Inside the block, :func:`get_worker_info` (in this thread) describes the worker ``info``."""

    def __init__(self, info):
        self.info = info

    def __enter__(self):
        self.prev, _worker.info = getattr(_worker, "info", None), self.info

    def __exit__(self, *exc):
        _worker.info = self.prev


def _prefetched(batches, depth, info=None, worker_init_fn=None, timeout=0):
    """Runs the generator ``batches`` in a thread, ``depth`` items ahead of the consumer."""
    q = queue.Queue(maxsize=depth)
    stop = threading.Event()
    device = get_default_device()  # a default_device block is per thread: the batches land where the consumer's would

    def put(item):
        # A timed put, so that a consumer that went away (stop set) cannot leave us blocked forever.
        while not stop.is_set():
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                pass
        return False

    def work():
        _worker.info = info
        try:
            with default_device(device):
                if worker_init_fn is not None:
                    worker_init_fn(0)
                for batch in batches:
                    if not put((batch, None)):
                        return
            put((_DONE, None))
        except BaseException as e:  # handed to the consumer, which raises it
            put((None, e))
        finally:
            batches.close()

    thread = threading.Thread(target=work, name="fnx-data-prefetch", daemon=True)
    thread.start()
    return _PrefetchIterator(q, stop, thread, timeout)


class _PrefetchIterator:
    """The consumer's end of the queue. ``close()``, exhaustion, an error or garbage collection stop
    the thread (a class, not a generator, so that even an iterator never advanced stops it)."""

    def __init__(self, q, stop, thread, timeout=0):
        self._q, self._stop, self._thread, self._timeout = q, stop, thread, timeout

    def __iter__(self):
        return self

    def __next__(self):
        if self._stop.is_set():
            raise StopIteration
        try:
            batch, error = self._q.get(timeout=self._timeout or None)
        except queue.Empty:
            self.close()
            raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds waiting for a batch") from None
        if error is not None or batch is _DONE:
            self.close()
            if error is not None:
                raise error
            raise StopIteration
        return batch

    def close(self):
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    def __del__(self):
        try:
            self.close()
        except Exception:  # at interpreter shutdown threading may already be torn down
            pass
