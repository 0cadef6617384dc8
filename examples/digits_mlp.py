"""Handwritten digits with an MLP, written as a PyTorch user would (the demo of ``make demo``).

This is an ordinary PyTorch training loop with the imports changed: ``torch``
became ``fnx``, ``torch.nn`` ``fnx.nn``, ``torch.optim`` ``fnx.optim`` and
``torch.utils.data`` ``fnx.data``. A ``nn.Sequential`` of ``Linear`` and ``ReLU``
layers (and ``Dropout``) is trained with ``Adam`` on ``CrossEntropyLoss``
(with label smoothing) under a cosine learning-rate schedule: ``zero_grad()``,
a forward pass, ``loss.backward()``, ``step()``. Behind that familiar surface
the arrays are immutable and ``backward()`` runs the same reverse pass as
``fnx.grad``; the optimizer rebinds each Parameter to a new array.

The data is scikit-learn's bundled digits (1797 8x8 images, no download),
standardised per pixel with statistics of the training split. A seeded
``DataLoader`` shuffles it, so every run prints the same numbers. Then:

* a tqdm bar per epoch shows the running loss;
* the test accuracy is printed (it reaches about 98%);
* ``examples/out/digits_mlp.png`` plots the loss and accuracy curves;
* the state_dicts of the model, the optimizer and the scheduler are saved
  with ``fnx.save`` (safetensors, no pickle), loaded into fresh objects with
  ``fnx.load`` and ``load_state_dict``, and the reloaded model is checked to
  score exactly the same.

Run with ``make demo`` or ``python examples/digits_mlp.py [--epochs N]``.
"""
import argparse
import os
import time

import numpy as np

import fnx
import fnx.nn as nn
import fnx.optim as optim
from fnx.data import ArrayDataset, DataLoader
from _blas import single_threaded_blas  # examples/_blas.py, beside this script

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
EPOCHS, BATCH, LR, HIDDEN, DROPOUT = 15, 64, 3e-3, 256, 0.3


def load_data(seed=0):
    """Standardised float32 images (N, 64) and int64 labels, split 80/20 with a fixed seed."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=seed, stratify=y)
    # Pixels that barely vary in training (the borders) are only centred: dividing by a
    # tiny std would blow up test images that happen to use them.
    mean, std = x_train.mean(axis=0), np.maximum(x_train.std(axis=0), 1.0)
    scale = lambda a: ((a - mean) / std).astype(np.float32)  # noqa: E731
    return scale(x_train), y_train.astype(np.int64), scale(x_test), y_test.astype(np.int64)


def make_model(hidden=HIDDEN, dropout=DROPOUT):
    return nn.Sequential(
        nn.Linear(64, hidden), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(hidden, 10),
    )


def accuracy(model, x, y):
    """Fraction of correctly classified samples, with the tape off."""
    model.eval()
    with fnx.no_grad():
        predicted = model(x).argmax(axis=1)
    return float((predicted == y).mean())


def train_epoch(model, progress, optimizer, loss_fn):
    """One pass over the batches of ``progress`` (a tqdm-wrapped loader); returns the mean training loss."""
    model.train()
    total, count = 0.0, 0
    for x, y in progress:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += float(loss) * len(y)
        count += len(y)
        progress.set_postfix(loss=f"{total / count:.4f}")
    return total / count


def plot(history, path):
    import matplotlib
    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt
    epochs = np.arange(1, len(history["loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    ax_loss.plot(epochs, history["loss"], marker="o")
    ax_loss.set(title="training loss (label-smoothed)", xlabel="epoch", ylabel="cross-entropy")
    ax_acc.plot(epochs, np.array(history["test_acc"]) * 100, marker="o", color="tab:green")
    ax_acc.set(title="test accuracy", xlabel="epoch", ylabel="%")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(epochs=EPOCHS, quick=False, out_dir=OUT_DIR, seed=0):
    """Trains, evaluates, plots and checkpoints; returns the history and both accuracies.

    ``quick=True`` trains a smaller model for at most 3 epochs without progress
    bars (for the tests).
    """
    with single_threaded_blas():
        return _main(min(epochs, 3) if quick else epochs, quick, out_dir, seed)


def _main(epochs, quick, out_dir, seed):
    from tqdm import tqdm
    fnx.manual_seed(seed)  # initial weights and dropout masks
    x_train, y_train, x_test, y_test = load_data(seed)
    loader = DataLoader(ArrayDataset(x_train, y_train), batch_size=BATCH, shuffle=True, seed=seed)
    x_test, y_test = fnx.asarray(x_test), fnx.asarray(y_test)
    hidden = 64 if quick else HIDDEN

    def fresh():
        model = make_model(hidden)
        optimizer = optim.Adam(model.parameters(), lr=LR)
        return model, optimizer, optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)

    model, optimizer, scheduler = fresh()
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)  # softer targets: less over-confident, generalises better
    print(f"digits: {len(x_train)} training and {len(x_test)} test images; model:\n{model}")

    history = {"loss": [], "test_acc": [], "seconds": []}
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        bar = tqdm(loader, desc=f"epoch {epoch:2d}/{epochs}", leave=False, disable=quick, ncols=80)
        loss = train_epoch(model, bar, optimizer, loss_fn)
        scheduler.step()
        seconds = time.perf_counter() - start
        acc = accuracy(model, x_test, y_test)
        for name, value in zip(history, (loss, acc, seconds)):
            history[name].append(value)
        print(f"epoch {epoch:2d}  loss {loss:.4f}  test accuracy {acc:6.2%}  ({seconds:.2f}s/epoch)")
    print(f"test accuracy: {history['test_acc'][-1]:.2%}   mean time per epoch: {np.mean(history['seconds']):.2f}s")

    os.makedirs(out_dir, exist_ok=True)
    figure = os.path.join(out_dir, "digits_mlp.png")
    plot(history, figure)
    print(f"saved the loss and accuracy curves to {figure}")

    # Checkpoint every stateful object in one safetensors file, then restore into fresh ones.
    checkpoint = os.path.join(out_dir, "digits_mlp.safetensors")
    fnx.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
              "scheduler": scheduler.state_dict(), "epoch": epochs}, checkpoint)
    restored = fnx.load(checkpoint)
    model2, optimizer2, scheduler2 = fresh()
    model2.load_state_dict(restored["model"])
    optimizer2.load_state_dict(restored["optimizer"])
    scheduler2.load_state_dict(restored["scheduler"])
    reloaded_acc = accuracy(model2, x_test, y_test)
    same = reloaded_acc == history["test_acc"][-1]
    print(f"saved a checkpoint to {checkpoint} (epoch {restored['epoch']}); reloaded into a fresh model: "
          f"test accuracy {reloaded_acc:.2%} ({'identical' if same else 'DIFFERENT'})")
    return {**history, "accuracy": history["test_acc"][-1], "reloaded_accuracy": reloaded_acc,
            "checkpoint": checkpoint, "figure": figure, "restored": restored,
            "model": model, "reloaded_model": model2, "x_test": x_test}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--quick", action="store_true", help="a small model for at most 3 epochs")
    args = parser.parse_args()
    main(epochs=args.epochs, quick=args.quick)
