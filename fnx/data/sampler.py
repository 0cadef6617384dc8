"""Samplers: the orders in which a :class:`~fnx.data.DataLoader` visits a dataset (``torch.utils.data``'s).

A sampler is an iterable of dataset indices with a length; a batch sampler an iterable of lists of
indices. The random ones draw from ``generator``: an int seed or an ``fnx.random`` key fixes the
sequence (iteration ``e`` uses ``fold_in(key, e)``, so successive passes differ and two samplers with
one seed agree pass by pass), an :class:`fnx.Generator` gives its next key at each pass (as a
``torch.Generator`` advances: two samplers with generators seeded alike agree pass by pass), and
``None`` takes a key from the global source at each pass (``fnx.manual_seed`` makes that
reproducible), as PyTorch's default generator does.
"""
from typing import Generic

import numpy as np

from .dataset import _T_co, _base_key, _check_seed

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
           "BatchSampler", "DistributedSampler"]


class Sampler(Generic[_T_co]):
    """Base class: subclasses define ``__iter__`` over indices (and ``__len__`` when they know it); generic in
    what it yields, as PyTorch's (``Sampler[int]``)."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} is a Sampler but does not define __iter__")


def _positive_int(opname, what, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{opname}: {what} should be a positive integer value, but got {what}={value!r}")
    return int(value)


class _Keyed:
    """A key per pass: from ``generator`` (int or key) folded with the pass number, or the next key of an
    fnx.Generator or of the global source."""

    def _next_key(self):
        from .. import random
        passes, self._passes = self._passes, self._passes + 1
        if self.generator is None or isinstance(self.generator, random.Generator):
            return random.next_key(self.generator)
        return random.fold_in(_base_key(type(self).__name__, self.generator), passes)


class SequentialSampler(Sampler):
    """``0, 1, ..., len(data_source) - 1``.

    >>> list(SequentialSampler(range(3)))
    [0, 1, 2]
    """

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler, _Keyed):
    """A random order of ``data_source``'s indices; ``num_samples`` of them (as many permutations as
    needed), or ``num_samples`` independent draws with ``replacement``.

    >>> sorted(RandomSampler(range(4), generator=0))
    [0, 1, 2, 3]
    """

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a boolean value, but got "
                            f"replacement={replacement!r}")
        _check_seed("RandomSampler", generator)
        self.data_source, self.replacement, self.generator = data_source, replacement, generator
        self._num_samples = None if num_samples is None else _positive_int("RandomSampler", "num_samples",
                                                                            num_samples)
        if num_samples is None and len(data_source) == 0:  # as PyTorch's, which checks the count it will draw
            raise ValueError("RandomSampler: num_samples should be a positive integer value, but got num_samples=0 "
                             "(the data source is empty)")
        self._passes = 0

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        from .. import random
        n, count = len(self.data_source), self.num_samples
        if n == 0:
            return iter(())
        key = self._next_key()
        if self.replacement:
            return iter(np.asarray(random.randint(key, (count,), 0, n)).tolist())
        order = []
        for k in range(-(-count // n)):
            order += np.asarray(random.permutation(random.fold_in(key, k), n)).tolist()
        return iter(order[:count])

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler, _Keyed):
    """The given ``indices`` in a random order, a new one each pass.

    >>> sorted(SubsetRandomSampler([5, 7, 9], generator=1))
    [5, 7, 9]
    """

    def __init__(self, indices, generator=None):
        _check_seed("SubsetRandomSampler", generator)
        self.indices, self.generator, self._passes = list(indices), generator, 0

    def __iter__(self):
        from .. import random
        if not self.indices:
            return iter(())
        order = np.asarray(random.permutation(self._next_key(), len(self.indices))).tolist()
        return iter([self.indices[i] for i in order])

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler, _Keyed):
    """``num_samples`` indices drawn with probabilities proportional to ``weights`` (with ``replacement``,
    or each index at most once without it).

    >>> s = WeightedRandomSampler([0.0, 1.0, 0.0], 4, generator=0)
    >>> list(s)
    [1, 1, 1, 1]
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not isinstance(replacement, bool):
            raise ValueError(f"WeightedRandomSampler: replacement should be a boolean value, but got "
                             f"replacement={replacement!r}")
        w = np.asarray(weights, dtype=np.float64)
        if w.ndim != 1 or w.size == 0 or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(f"WeightedRandomSampler: weights must be a non-empty 1-d sequence of non-negative, "
                             f"finite numbers with a positive sum, got {weights!r}")
        self.num_samples = _positive_int("WeightedRandomSampler", "num_samples", num_samples)
        if not replacement and self.num_samples > int(np.count_nonzero(w)):
            raise ValueError(f"WeightedRandomSampler: cannot draw {self.num_samples} indices without replacement "
                             f"from {int(np.count_nonzero(w))} with a positive weight")
        _check_seed("WeightedRandomSampler", generator)
        self.weights, self.replacement, self.generator, self._passes = w, replacement, generator, 0

    def __iter__(self):
        from .. import numpy as fnp
        from .. import random
        key = self._next_key()
        with np.errstate(divide="ignore"):  # a zero weight is a logit of -inf: never drawn
            logits = fnp.log(fnp.asarray(self.weights))
        if self.replacement:
            draws = random.categorical(key, logits, shape=(self.num_samples,))
        else:  # the Gumbel top-k trick: weighted sampling without replacement
            noisy = logits + random.gumbel(key, logits.shape, logits.dtype)
            draws = fnp.argsort(-noisy)[:self.num_samples]
        return iter(np.asarray(draws).tolist())

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter unless
    ``drop_last``).

    >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
    [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler, batch_size, drop_last):
        self.batch_size = _positive_int("BatchSampler", "batch_size", batch_size)
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last should be a boolean value, but got drop_last={drop_last!r}")
        self.sampler, self.drop_last = sampler, drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


class DistributedSampler(Sampler):
    """The share of a dataset's indices that replica ``rank`` of ``num_replicas`` reads
    (``torch.utils.data.distributed.DistributedSampler``), for scripts written for several processes.

    fnx trains in one process with no process group, so ``num_replicas`` is 1 and
    ``rank`` 0 unless given. Each pass shuffles (``shuffle``) with a key from
    ``seed`` and the epoch set by :meth:`set_epoch`, the same for every replica;
    the order is then padded by repeating its start (or cut, with ``drop_last``)
    to a multiple of ``num_replicas``, and replica ``rank`` takes every
    ``num_replicas``-th index from position ``rank``, as PyTorch's does.

    >>> s = DistributedSampler(range(5), num_replicas=2, rank=1, shuffle=False)
    >>> list(s), len(s)
    ([1, 3, 0], 3)
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        num_replicas = 1 if num_replicas is None else _positive_int("DistributedSampler", "num_replicas", num_replicas)
        rank = 0 if rank is None else rank
        if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) or not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: invalid rank {rank!r}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        _check_seed("DistributedSampler", seed)
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, int(rank)
        self.shuffle, self.seed, self.drop_last, self.epoch = bool(shuffle), seed, bool(drop_last), 0
        n = len(dataset)
        if self.drop_last and n % num_replicas:
            self.num_samples = -(-(n - num_replicas) // num_replicas)
        else:
            self.num_samples = -(-n // num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self):
        from .. import random
        n = len(self.dataset)
        if self.shuffle:
            key = random.fold_in(_base_key("DistributedSampler", self.seed), self.epoch)
            indices = np.asarray(random.permutation(key, n)).tolist()
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        elif indices:
            padding = self.total_size - len(indices)
            indices += (indices * -(-padding // len(indices)))[:padding]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Sets the pass number that, with ``seed``, fixes the next pass's order (call it once per epoch)."""
        self.epoch = int(epoch)
