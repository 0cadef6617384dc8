"""``torch.nn.utils.rnn``'s padding helpers: sequences of different lengths as one padded batch and back.

Both are compositions of ``fnx.numpy`` (a pad and a stack; slices), so gradients flow to the sequences.
The recurrent layers take the padded batch; ``PackedSequence`` is not implemented (run the layer on the
padded batch and mask by length, or loop over the sequences, which define-by-run makes cheap to write).

>>> import fnx, fnx.numpy as fnp
>>> from fnx.nn.utils.rnn import pad_sequence
>>> pad_sequence([fnp.ones(2), fnp.ones(3)], batch_first=True)
Array([[1., 1., 0.],
       [1., 1., 1.]], dtype=float32)
"""
from ... import numpy as fnp
from ...core.array import Array
from ...errors import ShapeError

__all__ = ["pad_sequence", "unpad_sequence"]


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
