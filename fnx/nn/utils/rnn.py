"""``torch.nn.utils.rnn``: sequences of different lengths as one padded batch, or packed, and back.

A padded batch ``(L_max, B, *)`` wastes the steps after each sequence's end; a
:class:`PackedSequence` keeps only the real steps, time-major: ``data`` holds
step 0 of every sequence, then step 1 of every sequence still running, and so
on, with the sequences sorted by decreasing length, and ``batch_sizes[t]``
says how many sequences run at step ``t``. For ``abc`` and ``x``, ``data`` is
``a x b c`` and ``batch_sizes`` ``[2, 1, 1]``. ``sorted_indices`` remembers the
sort (``None`` when the input was sorted already) and ``unsorted_indices`` its
inverse, which ``pad_packed_sequence`` and the recurrent layers use to give
results back in the caller's order. ``fnx.nn.RNN``, ``LSTM`` and ``GRU`` take a
PackedSequence and step each sequence only while it runs.

Every function here is a composition of ``fnx.numpy`` (pads and stacks; one
gather to pack and one to unpad), so gradients flow to the sequences; the
lengths, batch sizes and indices are integers, known when the call is made.

>>> import fnx, fnx.numpy as fnp
>>> from fnx.nn.utils.rnn import pack_sequence, pad_packed_sequence, pad_sequence
>>> pad_sequence([fnp.ones(2), fnp.ones(3)], batch_first=True)
Array([[1., 1., 0.],
       [1., 1., 1.]], dtype=float32)
>>> packed = pack_sequence([fnp.array([1, 2, 3]), fnp.array([4, 5]), fnp.array([6])])
>>> packed.data, packed.batch_sizes
(Array([1, 4, 6, 2, 5, 3], dtype=int64), Array([3, 2, 1], dtype=int64))
>>> pad_packed_sequence(packed, batch_first=True)[0]
Array([[1, 2, 3],
       [4, 5, 0],
       [6, 0, 0]], dtype=int64)
"""
from collections import namedtuple

from ... import numpy as fnp
from ...core.array import Array
from ...errors import ShapeError

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stacks sequences of shapes ``(L_i, *)`` into ``(L_max, B, *)`` (``(B, L_max, *)`` with
    ``batch_first``), filling with ``padding_value`` after each sequence (before it with
    ``padding_side="left"``), as ``torch.nn.utils.rnn.pad_sequence``."""
    if isinstance(sequences, Array):
        sequences = list(sequences)
    seqs = [fnp.asarray(s) for s in sequences]
    if not seqs:
        raise ValueError("pad_sequence: received an empty list of sequences")
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got {padding_side!r}")
    trailing = {s.shape[1:] for s in seqs}
    if any(s.ndim == 0 for s in seqs) or len(trailing) > 1:
        raise ShapeError(f"pad_sequence: every sequence needs a length axis and the same trailing shape; got "
                         f"shapes {[s.shape for s in seqs]}")
    longest = max(s.shape[0] for s in seqs)
    padded = []
    for s in seqs:
        room = longest - s.shape[0]
        widths = [(0, room) if padding_side == "right" else (room, 0)] + [(0, 0)] * (s.ndim - 1)
        padded.append(fnp.pad(s, widths, constant_values=padding_value) if room else s)
    return fnp.stack(padded, axis=0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The sequences of a right-padded batch, each cut to its length (``torch.nn.utils.rnn.unpad_sequence``)."""
    x = fnp.asarray(padded_sequences)
    if not batch_first:
        x = fnp.swapaxes(x, 0, 1)
    lengths = [int(n) for n in (lengths.tolist() if isinstance(lengths, Array) else lengths)]
    if len(lengths) != x.shape[0] or any(not 0 <= n <= x.shape[1] for n in lengths):
        raise ShapeError(f"unpad_sequence: lengths {lengths} do not fit a batch of {x.shape[0]} sequences of at "
                         f"most {x.shape[1]} steps")
    return [x[i, :n] for i, n in enumerate(lengths)]


# ----- packed sequences -------------------------------------------------------------------------------

def _index_array(values, device=None):
    return fnp.asarray(list(values), dtype=fnp.int64, device=device)


def _ints(x):
    """A list of Python ints from an int array, a list or a tuple (floats are truncated, as PyTorch's cast)."""
    return [int(v) for v in (x.tolist() if isinstance(x, Array) else x)]


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """A batch of sequences packed by time step (``torch.nn.utils.rnn.PackedSequence``).

    A namedtuple of ``data`` (the real steps, ``(sum of lengths, *)``),
    ``batch_sizes`` (int64, how many sequences run at each step), and
    ``sorted_indices`` / ``unsorted_indices`` (int64 permutations, or None);
    it unpacks and iterates as those four, as in PyTorch. Build one with
    :func:`pack_padded_sequence` or :func:`pack_sequence` rather than by hand.
    ``PackedSequence(data, batch_sizes, sorted_indices)`` fills
    ``unsorted_indices`` with the inverse permutation, and
    ``PackedSequence((data, batch_sizes))`` is accepted too.

    >>> import fnx.numpy as fnp
    >>> p = pack_padded_sequence(fnp.array([[1.0, 0.0], [2.0, 3.0]]), [1, 2], batch_first=True, enforce_sorted=False)
    >>> data, batch_sizes, sorted_indices, unsorted_indices = p
    >>> data, batch_sizes, sorted_indices
    (Array([2., 1., 3.], dtype=float32), Array([2, 1], dtype=int64), Array([1, 0], dtype=int64))
    >>> p.to(fnp.float64).data.dtype
    dtype('float64')
    """
    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise TypeError("PackedSequence: expected data to be a list or tuple (data, batch_sizes) when "
                                "batch_sizes is not given")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """``data.to(...)`` (a device and/or a dtype), with the indices following it to its device; itself
        when nothing changes. ``batch_sizes`` stays where it is, as in PyTorch."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        move = lambda t: None if t is None else t.to(data.device)  # noqa: E731
        return type(self)(data, self.batch_sizes, move(self.sorted_indices), move(self.unsorted_indices))

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        from ...core import backend
        return self.to(backend.cuda_device(device))

    def double(self):
        return self.to(dtype=fnp.float64)

    def float(self):
        return self.to(dtype=fnp.float32)

    def half(self):
        return self.to(dtype=fnp.float16)

    def long(self):
        return self.to(dtype=fnp.int64)

    def int(self):
        return self.to(dtype=fnp.int32)

    def short(self):
        return self.to(dtype=fnp.int16)

    def char(self):
        return self.to(dtype=fnp.int8)

    def byte(self):
        return self.to(dtype=fnp.uint8)

    @property
    def is_cuda(self):
        """Whether ``data`` is on a GPU."""
        return self.data.device.platform == "cuda"


def invert_permutation(permutation):
    """The inverse of a 1-D int permutation (None for None), as ``torch.nn.utils.rnn.invert_permutation``.

    >>> import fnx.numpy as fnp
    >>> invert_permutation(fnp.array([2, 0, 1]))
    Array([1, 2, 0], dtype=int64)
    """
    if permutation is None:
        return None
    perm = _ints(permutation)
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    return _index_array(inverse, permutation.device if isinstance(permutation, Array) else None)


def _batch_sizes(lengths):
    """``batch_sizes[t]``: how many of the (decreasing) ``lengths`` exceed ``t``."""
    return [sum(1 for n in lengths if n > t) for t in range(lengths[0])]


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Packs a padded batch ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) of sequences with the given
    ``lengths`` (``torch.nn.utils.rnn.pack_padded_sequence``).

    With ``enforce_sorted`` the lengths must decrease; otherwise the batch is
    sorted by decreasing length first (a stable sort, as PyTorch's) and the
    permutation kept in ``sorted_indices``. Steps past a sequence's length are
    dropped. Differentiable with respect to ``input``.

    Raises:
      RuntimeError: an empty input, lengths that are not one per sequence (1-D), a length <= 0,
        lengths that do not decrease with ``enforce_sorted`` (PyTorch's messages), or a length
        longer than the input (where PyTorch packs garbage).

    >>> import fnx.numpy as fnp
    >>> padded = fnp.array([[1, 2, 0], [3, 0, 0], [4, 5, 6]])
    >>> pack_padded_sequence(padded, [2, 1, 3], batch_first=True, enforce_sorted=False)
    PackedSequence(data=Array([4, 1, 3, 5, 2, 6], dtype=int64), batch_sizes=Array([3, 2, 1], dtype=int64), \
sorted_indices=Array([2, 0, 1], dtype=int64), unsorted_indices=Array([1, 2, 0], dtype=int64))
    """
    x = fnp.asarray(input)
    if isinstance(lengths, Array) and lengths.ndim != 1:
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got {lengths.ndim}D "
                           f"{lengths.device} {lengths.dtype} tensor")
    lengths = _ints(lengths)
    batch_axis = 0 if batch_first else 1
    sorted_indices = None
    if not enforce_sorted:
        order = sorted(range(len(lengths)), key=lambda i: -lengths[i])  # stable: ties keep their order
        lengths = [lengths[i] for i in order]
        sorted_indices = _index_array(order, x.device)
        x = fnp.take(x, sorted_indices, axis=batch_axis)
    data, batch_sizes = _pack(x, lengths, batch_first)
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def _pack(x, lengths, batch_first):
    """PyTorch's ``_pack_padded_sequence``: its checks, then one gather of the real steps, time-major."""
    if x.size == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    if x.ndim < 2:
        raise RuntimeError(f"pack_padded_sequence: expected an input of at least 2 dimensions (T, B, *), got "
                           f"shape {x.shape}")
    steps, batch = (x.shape[1], x.shape[0]) if batch_first else x.shape[:2]
    if len(lengths) != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {len(lengths)} "
                           f"(batch_size={batch})")
    if lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    if any(a < b for a, b in zip(lengths, lengths[1:])):
        raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You "
                           "can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep "
                           "this requirement if you do not need ONNX exportability.")
    if lengths[0] > steps:
        raise RuntimeError(f"pack_padded_sequence: a length of {lengths[0]} is longer than the input's {steps} "
                           f"time steps")
    sizes = _batch_sizes(lengths)
    rows = [b * steps + t if batch_first else t * batch + b for t, size in enumerate(sizes) for b in range(size)]
    flat = fnp.reshape(x, (steps * batch,) + x.shape[2:])
    return fnp.take(flat, _index_array(rows, x.device), axis=0), _index_array(sizes)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Pads a :class:`PackedSequence` back into ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``), with
    ``T`` the longest length or ``total_length`` (``torch.nn.utils.rnn.pad_packed_sequence``).

    Returns ``(padded, lengths)``, in the order the sequences had before
    packing (``lengths`` an int64 array). Differentiable with respect to
    ``sequence.data``.

    Raises:
      ValueError: ``total_length`` shorter than the longest sequence.

    >>> import fnx.numpy as fnp
    >>> packed = pack_padded_sequence(fnp.array([[1.0, 2.0], [3.0, 0.0]]), [2, 1], batch_first=True)
    >>> pad_packed_sequence(packed, batch_first=True, padding_value=-1.0, total_length=3)
    (Array([[ 1.,  2., -1.],
           [ 3., -1., -1.]], dtype=float32), Array([2, 1], dtype=int64))
    """
    sizes = _ints(sequence.batch_sizes)
    max_seq_length = len(sizes)
    if total_length is not None:
        if total_length < max_seq_length:
            raise ValueError(f"Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {max_seq_length}")
        max_seq_length = total_length
    data = fnp.asarray(sequence.data)
    batch = sizes[0]
    # one gather from the data with a padding row appended: each (t, b) reads its step, or the padding
    pad_row = data.shape[0]
    offsets = [0]
    for size in sizes:
        offsets.append(offsets[-1] + size)
    pos = lambda t, b: offsets[t] + b if t < len(sizes) and b < sizes[t] else pad_row  # noqa: E731
    rows = ([pos(t, b) for b in range(batch) for t in range(max_seq_length)] if batch_first else
            [pos(t, b) for t in range(max_seq_length) for b in range(batch)])
    padding = fnp.full((1,) + data.shape[1:], padding_value, dtype=data.dtype, device=data.device)
    gathered = fnp.take(fnp.concatenate([data, padding]), _index_array(rows, data.device), axis=0)
    shape = (batch, max_seq_length) if batch_first else (max_seq_length, batch)
    padded = fnp.reshape(gathered, shape + data.shape[1:])
    lengths = [sum(1 for size in sizes if size > b) for b in range(batch)]
    unsorted = sequence.unsorted_indices
    if unsorted is not None:
        padded = fnp.take(padded, unsorted, axis=0 if batch_first else 1)
        lengths = [lengths[i] for i in _ints(unsorted)]
    return padded, _index_array(lengths)


def pack_sequence(sequences, enforce_sorted=True):
    """Packs a list of sequences ``(L_i, *)``: :func:`pad_sequence` then :func:`pack_padded_sequence`
    (``torch.nn.utils.rnn.pack_sequence``); with ``enforce_sorted`` they must come longest first.

    >>> import fnx.numpy as fnp
    >>> pack_sequence([fnp.array([1.0]), fnp.array([2.0, 3.0])], enforce_sorted=False).data
    Array([2., 1., 3.], dtype=float32)
    """
    lengths = [fnp.asarray(s).shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences in a :class:`PackedSequence`, in their original order
    (``torch.nn.utils.rnn.unpack_sequence``).

    >>> import fnx.numpy as fnp
    >>> seqs = unpack_sequence(pack_sequence([fnp.array([1, 2]), fnp.array([3, 4, 5])], enforce_sorted=False))
    >>> [s.tolist() for s in seqs]
    [[1, 2], [3, 4, 5]]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
