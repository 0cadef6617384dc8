"""Datasets: indexable collections of samples, as in ``torch.utils.data``.

A map-style :class:`Dataset` is anything with ``__getitem__(i)`` and
``__len__()``; a sample is any pytree (an array, a tuple ``(x, y)``, a dict).
Datasets compose without copying data: :class:`Subset` re-indexes one,
:class:`ConcatDataset` (or ``a + b``) chains several, and :func:`random_split`
cuts one into random disjoint subsets. An :class:`IterableDataset` is a stream
instead, for data that cannot be indexed.

:class:`ArrayDataset` (``TensorDataset`` in PyTorch, also exported under that
name) holds arrays sharing their first dimension. Besides the per-sample
protocol it can gather a whole batch with one ``take`` per array
(``_collated``), which :class:`~fnx.data.DataLoader` uses with its default
collate function: the batch is the same as stacking the samples one by one,
built with a couple of operations instead of a few per sample.

Randomness follows fnx's convention: ``random_split`` takes an explicit
``seed`` (an int or an ``fnx.random`` key); without one it draws a key from
the global source that ``fnx.manual_seed`` seeds, as PyTorch draws from its
default generator.
"""
import bisect
import math
import warnings
from typing import Generic, TypeVar

import numpy as np

from ..core.array import Array

__all__ = ["Dataset", "IterableDataset", "ArrayDataset", "TensorDataset", "Subset", "ConcatDataset",
           "ChainDataset", "StackDataset", "random_split"]


_T_co = TypeVar("_T_co", covariant=True)


class Dataset(Generic[_T_co]):
    """A map-style dataset: subclasses define ``__getitem__(index)`` and (for a loader to know the
    epoch's size) ``__len__()``, which this class leaves undefined, as PyTorch's does.

    ``a + b`` is ``ConcatDataset([a, b])``. As PyTorch's, the class is generic in its
    sample type (``class Pairs(Dataset[tuple])``). Iterating visits indices ``0 ..
    len - 1``, or without a length, indices from 0 until one raises IndexError.

    >>> import fnx.data
    >>> class Squares(fnx.data.Dataset):
    ...     def __len__(self): return 4
    ...     def __getitem__(self, i): return i * i
    >>> list(Squares() + Squares())
    [0, 1, 4, 9, 0, 1, 4, 9]
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} is a Dataset but does not define __getitem__")

    def __iter__(self):
        # The old sequence protocol probes indices until IndexError, which a dataset with a length is not
        # obliged to raise: such a dataset yields exactly ``len(self)`` samples.
        try:
            n = len(self)
        except TypeError:
            return _probed(self)
        return (self[i] for i in range(n))

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset[_T_co]):
    """A stream of samples: subclasses define ``__iter__`` (``__len__`` is optional).

    A :class:`~fnx.data.DataLoader` batches the stream in order; it cannot shuffle it.

    >>> import fnx.data
    >>> class Count(fnx.data.IterableDataset):
    ...     def __iter__(self): return iter(range(5))
    >>> [b.tolist() for b in fnx.data.DataLoader(Count(), batch_size=2)]
    [[0, 1], [2, 3], [4]]
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} is an IterableDataset but does not define __iter__")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: iterate over it instead of indexing")

    def __add__(self, other):
        return ChainDataset([self, other])  # one stream after the other, as PyTorch's


class ArrayDataset(Dataset):
    """Samples ``(a[i], b[i], ...)`` of arrays sharing their first dimension (PyTorch's ``TensorDataset``).

    Args:
      *arrays: fnx arrays, or anything ``fnx.numpy.asarray`` takes (numpy arrays
        keep their dtype, so convert float64 data to float32 first if the model
        is float32).

    Raises:
      ShapeError: when the arrays differ in their first dimension, or one is 0-d.

    >>> import fnx, fnx.data
    >>> ds = fnx.data.ArrayDataset(fnx.numpy.arange(6.0).reshape(3, 2), fnx.numpy.array([0, 1, 0]))
    >>> len(ds), ds[1]
    (3, (Array([2., 3.], dtype=float32), Array(1, dtype=int64)))
    """

    def __init__(self, *arrays):
        from ..errors import ShapeError
        from ..numpy import asarray
        if not arrays:
            raise ValueError("ArrayDataset: give at least one array")
        arrays = tuple(asarray(a) for a in arrays)
        for i, a in enumerate(arrays):
            if a.ndim == 0:
                raise ShapeError(f"ArrayDataset: array {i} is 0-d; every array needs a first (sample) dimension")
        sizes = [a.shape[0] for a in arrays]
        if len(set(sizes)) > 1:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise ShapeError(f"ArrayDataset: size mismatch between arrays: first dimensions {sizes} "
                             f"(shapes {shapes}); every array must hold one row per sample")
        self.arrays = arrays

    @property
    def tensors(self):
        """:attr:`arrays` under PyTorch's name; assigning it replaces the data, as for a ``TensorDataset``."""
        return self.arrays

    @tensors.setter
    def tensors(self, arrays):
        self.arrays = tuple(arrays)

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)

    def __len__(self):
        return self.arrays[0].shape[0]

    def _collated(self, indices):
        """The default-collated batch of ``indices``: one gather per array."""
        from ..numpy import asarray, take
        n = len(self)
        idx = np.asarray(indices, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            bad = idx[(idx < -n) | (idx >= n)][0]
            raise IndexError(f"ArrayDataset: index {bad} is out of range for {n} samples")
        # a list, as default_collate makes of tuple samples (PyTorch's): batch[0] = batch[0].to(device) works
        return [take(a, asarray(idx % n if n else idx, device=a.device), axis=0) for a in self.arrays]


TensorDataset = ArrayDataset


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    >>> import fnx.data
    >>> ds = fnx.data.ArrayDataset(fnx.numpy.arange(5))
    >>> [int(s[0]) for s in fnx.data.Subset(ds, [4, 0, 2])]
    [4, 0, 2]
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    def __getitem__(self, index):
        if isinstance(index, list):  # the dataset indexed with the list, as PyTorch's Subset does
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __getitems__(self, indices):
        """The samples at ``indices``, fetched by the dataset's own ``__getitems__`` when it has one (batched
        reads survive a split, as in PyTorch)."""
        getitems = getattr(self.dataset, "__getitems__", None)
        if callable(getitems):
            return getitems([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self):
        return len(self.indices)

    def _collated(self, indices):
        return self.dataset._collated([self.indices[i] for i in indices])


def _has_collated(dataset):
    """Whether ``dataset`` can gather a default-collated batch at once: its class's ``_collated`` is not
    undercut by a subclass's own ``__getitem__`` or ``__getitems__`` (augmentation must run), and a Subset's
    base can too."""
    for cls in type(dataset).__mro__:
        if "_collated" in vars(cls):
            break
        if "__getitem__" in vars(cls) or "__getitems__" in vars(cls):
            return False
    else:
        return False
    return _has_collated(dataset.dataset) if isinstance(dataset, Subset) else callable(dataset._collated)


class ConcatDataset(Dataset):
    """Several datasets one after another; negative indices count from the end.

    >>> import fnx.data
    >>> a, b = fnx.data.ArrayDataset(fnx.numpy.arange(2)), fnx.data.ArrayDataset(fnx.numpy.arange(10, 13))
    >>> cat = fnx.data.ConcatDataset([a, b])
    >>> len(cat), int(cat[2][0]), int(cat[-1][0])
    (5, 10, 12)
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        n = len(self)
        if index < 0:
            if -index > n:
                raise ValueError(f"ConcatDataset: index {index} is out of range for length {n}")
            index += n
        if index >= n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for length {n}")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][index - start]


class ChainDataset(IterableDataset):
    """Several iterable datasets one after another (``torch.utils.data.ChainDataset``).

    >>> import fnx.data
    >>> class Count(fnx.data.IterableDataset):
    ...     def __init__(self, n): self.n = n
    ...     def __iter__(self): return iter(range(self.n))
    >>> list(fnx.data.ChainDataset([Count(2), Count(3)]))
    [0, 1, 0, 1, 2]
    """

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise TypeError(f"ChainDataset only supports IterableDataset, got {type(d).__name__}")
            yield from d

    def __len__(self):
        return sum(len(d) for d in self.datasets)


class StackDataset(Dataset):
    """Samples of several datasets side by side: ``StackDataset(a, b)[i]`` is ``(a[i], b[i])`` and
    ``StackDataset(x=a, y=b)[i]`` is ``{"x": a[i], "y": b[i]}`` (``torch.utils.data.StackDataset``).

    >>> import fnx.data
    >>> fnx.data.StackDataset(x=[1, 2], y=["a", "b"])[1]
    {'x': 2, 'y': 'b'}
    """

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("StackDataset: supported either tuple-like (positional) or dict-like (keyword) "
                             "input/output, but both types are given")
        parts = list(args) or list(kwargs.values())
        if not parts:
            raise ValueError("StackDataset: at least one dataset should be passed")
        lengths = {len(p) for p in parts}
        if len(lengths) != 1:
            raise ValueError(f"StackDataset: size mismatch between datasets, lengths {sorted(lengths)}")
        self._length = lengths.pop()
        self.datasets = args if args else kwargs

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __getitems__(self, indices):
        """The samples at ``indices``, each dataset read for all of them at once (through its own
        ``__getitems__`` where it has one), as PyTorch's loader asks."""
        parts = self.datasets.values() if isinstance(self.datasets, dict) else self.datasets
        columns = [_items_of(d, indices) for d in parts]
        rows = zip(*columns)
        if isinstance(self.datasets, dict):
            return [dict(zip(self.datasets, row)) for row in rows]
        return [tuple(row) for row in rows]

    def __len__(self):
        return self._length


def _items_of(dataset, indices):
    """``[dataset[i] for i in indices]``, by the dataset's own ``__getitems__`` where it has one."""
    getitems = getattr(dataset, "__getitems__", None)
    items = getitems(list(indices)) if getitems is not None else [dataset[i] for i in indices]
    if len(items) != len(indices):
        raise ValueError(f"{type(dataset).__name__}.__getitems__ returned {len(items)} samples for "
                         f"{len(indices)} indices")
    return items


def _probed(dataset):
    """``dataset[0], dataset[1], ...`` until an index raises IndexError (Python's sequence protocol)."""
    i = 0
    while True:
        try:
            sample = dataset[i]
        except IndexError:
            return
        yield sample
        i += 1


def _base_key(opname, seed):
    """An fnx key from ``seed``: None (the global source), an :class:`fnx.Generator` (its next key: the
    generator advances, as a ``torch.Generator`` does), an int, or a key itself."""
    from .. import random
    if seed is None:
        return random.next_key()
    if isinstance(seed, random.Generator):
        return seed.next_key()
    if isinstance(seed, Array) or isinstance(seed, np.ndarray):
        if tuple(seed.shape) != (2,) or seed.dtype != np.uint32:
            raise TypeError(f"{opname}: a key must be a uint32 array of shape (2,) from fnx.random.key, got "
                            f"{seed.dtype} of shape {tuple(seed.shape)}")
        return seed if isinstance(seed, Array) else random._as_array(seed)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{opname}: seed must be None, an fnx.Generator, an int or an fnx.random key, got {seed!r}")
    return random._key_words(random.torch_seed(opname, int(seed)))


def _check_seed(opname, seed):
    """Rejects a bad ``seed`` now, without drawing from a generator (which would advance it)."""
    from .. import random
    if seed is not None and not isinstance(seed, random.Generator):
        _base_key(opname, seed)


def random_split(dataset, lengths, generator=None, *, seed=None):
    """Splits ``dataset`` into random disjoint :class:`Subset` s of the given lengths.

    Args:
      dataset: a map-style dataset.
      lengths: sample counts summing to ``len(dataset)``, or fractions summing
        to 1; with fractions each split gets ``floor(len * f)`` samples and the
        remainder is dealt out one by one from the first split on (PyTorch's
        rule), so ``[0.5, 0.5]`` of 5 samples gives lengths 3 and 2.
      generator: an :class:`fnx.Generator` (as PyTorch's ``torch.Generator``;
        the split advances it), an int or an ``fnx.random`` key.
      seed: an int seed or key, as an alternative spelling of ``generator``.
        With neither, the key comes from the global source (``fnx.manual_seed``).

    Raises:
      ValueError: fractions outside [0, 1], or lengths that do not add up.

    >>> import fnx.data
    >>> train, test = fnx.data.random_split(fnx.data.ArrayDataset(fnx.numpy.arange(10)), [0.8, 0.2], seed=0)
    >>> len(train), len(test), sorted(train.indices + test.indices) == list(range(10))
    (8, 2, True)
    """
    from .. import random
    if generator is not None and seed is not None:
        raise TypeError("random_split: give either generator or seed, not both")
    n = len(dataset)
    lengths = list(lengths)
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        sizes = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1 (got {frac})")
            sizes.append(int(math.floor(n * frac)))
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"random_split: length of split at index {i} is 0; this gives an empty dataset")
        lengths = sizes
    if any(isinstance(x, float) and not float(x).is_integer() or x < 0 for x in lengths) or sum(lengths) != n:
        raise ValueError(f"random_split: the lengths {lengths} do not sum to the dataset's length {n} "
                         "(give counts that add up to it, or fractions that add up to 1)")
    key = _base_key("random_split", generator if generator is not None else seed)
    order = np.asarray(random.permutation(key, n)).tolist() if n else []
    out, offset = [], 0
    for length in lengths:
        length = int(length)
        out.append(Subset(dataset, order[offset:offset + length]))
        offset += length
    return out
