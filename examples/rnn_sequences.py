"""A GRU on variable-length sequences, looping over time steps in Python: the graph is dynamic.

Each sample is a sequence of 4 to 16 numbers drawn uniformly from [-1, 1];
its label says whether their sum is positive. To answer, the network has to
accumulate evidence step by step and stop at the sequence's own end.

Nothing is compiled or declared ahead: ``forward`` is a Python ``for`` loop
that calls a ``GRUCell`` once per time step, and the tape records whatever
ran, so each batch's graph has as many steps as its longest sequence. Two
ways of handling different lengths in one batch are shown:

* **masking** (used for training): a ``collate_fn`` pads the batch to its
  longest sequence and returns the lengths; at step ``t`` the hidden state of
  a sequence that has already ended is carried over unchanged
  (``where(t < length, h_new, h)``), so padding never reaches the result;
* **one sequence at a time**: a loop over the sequences, each run for exactly
  its own number of steps with no padding at all.

Both give the same logits (checked at the end), and ``loss.backward()``
differentiates through either loop like through any other Python code.

Run with ``python examples/rnn_sequences.py [--epochs N]``.
"""
import argparse
import time

import numpy as np

import fnx
import fnx.nn as nn
import fnx.numpy as fnp
import fnx.optim as optim
from fnx.data import DataLoader, Dataset
from _blas import single_threaded_blas  # examples/_blas.py, beside this script

EPOCHS, BATCH, LR, HIDDEN = 8, 64, 1e-2, 32
MIN_LEN, MAX_LEN = 4, 16


class SignOfSum(Dataset):
    """``n`` sequences ``(x, label)``: ``x`` of shape (length, 1), label 1 when ``sum(x) > 0``."""

    def __init__(self, n, seed):
        rng = np.random.default_rng(seed)
        lengths = rng.integers(MIN_LEN, MAX_LEN + 1, size=n)
        self.sequences = [rng.uniform(-1, 1, size=(k, 1)).astype(np.float32) for k in lengths]
        self.labels = [int(s.sum() > 0) for s in self.sequences]

    def __len__(self):
        return len(self.sequences)

    def __getitem__(self, i):
        return self.sequences[i], self.labels[i]


def pad_collate(samples):
    """``(x, lengths, labels)``: sequences zero-padded to the longest, shape (batch, time, 1)."""
    lengths = np.array([len(x) for x, _ in samples])
    padded = np.zeros((len(samples), lengths.max(), 1), np.float32)
    for row, (x, _) in zip(padded, samples):
        row[:len(x)] = x
    return fnp.asarray(padded), fnp.asarray(lengths), fnp.asarray(np.array([y for _, y in samples]))


class SequenceClassifier(nn.Module):
    """A GRU cell stepped by hand, then a linear read-out of the last hidden state."""

    def __init__(self, hidden=HIDDEN, classes=2):
        super().__init__()
        self.hidden = hidden
        self.cell = nn.GRUCell(1, hidden)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x, lengths):
        """Masking: ``x`` (batch, time, 1) padded, ``lengths`` (batch,)."""
        h = fnp.zeros((x.shape[0], self.hidden))
        for t in range(x.shape[1]):  # as many steps as this batch's longest sequence
            still_running = (t < lengths)[:, None]
            h = fnp.where(still_running, self.cell(x[:, t], h), h)
        return self.head(h)

    def forward_one_by_one(self, sequences):
        """No padding: each sequence (time, 1) runs for exactly its own number of steps."""
        finals = []
        for x in sequences:
            h = fnp.zeros((1, self.hidden))
            for t in range(x.shape[0]):
                h = self.cell(x[t:t + 1], h)
            finals.append(h[0])
        return self.head(fnp.stack(finals))


def accuracy(model, loader):
    model.eval()
    correct = total = 0
    with fnx.no_grad():
        for x, lengths, y in loader:
            correct += int((model(x, lengths).argmax(axis=1) == y).sum())
            total += len(y)
    return correct / total


def main(epochs=EPOCHS, quick=False, seed=0):
    """Trains and evaluates; returns per-epoch losses, accuracies and times, and the two-way check.

    ``quick=True`` uses less data and at most 3 epochs (for the tests).
    """
    if quick:
        epochs = min(epochs, 3)
    with single_threaded_blas():
        fnx.manual_seed(seed)
        train = SignOfSum(600 if quick else 3000, seed=seed)
        test = SignOfSum(200 if quick else 1000, seed=seed + 1)
        loader = DataLoader(train, batch_size=BATCH, shuffle=True, seed=seed, collate_fn=pad_collate)
        test_loader = DataLoader(test, batch_size=256, collate_fn=pad_collate)
        model = SequenceClassifier()
        optimizer = optim.Adam(model.parameters(), lr=LR)
        scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
        loss_fn = nn.CrossEntropyLoss()
        print(f"sign of the sum of {MIN_LEN} to {MAX_LEN} numbers: {len(train)} training and {len(test)} test "
              f"sequences; model:\n{model}")

        history = {"loss": [], "test_acc": [], "seconds": []}
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            model.train()
            total = 0.0
            for x, lengths, y in loader:
                optimizer.zero_grad()
                loss = loss_fn(model(x, lengths), y)
                loss.backward()
                optimizer.step()
                total += float(loss) * len(y)
            scheduler.step()
            seconds = time.perf_counter() - start
            acc = accuracy(model, test_loader)
            for name, value in zip(history, (total / len(train), acc, seconds)):
                history[name].append(value)
            print(f"epoch {epoch:2d}  loss {history['loss'][-1]:.4f}  test accuracy {acc:6.2%}  "
                  f"({seconds:.2f}s/epoch)")

        # The same parameters through the unpadded per-sequence loop: identical logits up to rounding.
        sequences = [fnp.asarray(test[i][0]) for i in range(8)]
        x, lengths, _ = pad_collate([test[i] for i in range(8)])
        with fnx.no_grad():
            gap = float(fnp.max(fnp.abs(model(x, lengths) - model.forward_one_by_one(sequences))))
    print(f"test accuracy: {history['test_acc'][-1]:.2%}   mean time per epoch: {np.mean(history['seconds']):.2f}s")
    print(f"masked batch vs one sequence at a time (lengths {[len(s) for s in sequences]}): "
          f"largest logit difference {gap:.1e}")
    return {**history, "accuracy": history["test_acc"][-1], "masking_gap": gap}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--quick", action="store_true", help="less data and at most 3 epochs")
    args = parser.parse_args()
    main(epochs=args.epochs, quick=args.quick)
