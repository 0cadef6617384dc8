"""Handwritten digits with a small convolutional network, PyTorch style.

The 8x8 digit images are reshaped to ``(N, 1, 8, 8)`` (batch, channels,
height, width: PyTorch's NCHW layout) and fed to two ``Conv2d``/``ReLU``/
``MaxPool2d`` stages followed by a ``Linear`` classifier, trained with
``Adam`` on ``CrossEntropyLoss`` (with label smoothing) under a cosine
learning-rate schedule. The
convolutions are fnx primitives with their own derivative rules, so
``loss.backward()`` differentiates through them like through any other
operation.

Run with ``python examples/digits_cnn.py [--epochs N]``; it prints the time
per epoch and the test accuracy (about 98-99%).
"""
import argparse
import time

import numpy as np

import fnx
import fnx.nn as nn
import fnx.optim as optim
from fnx.data import ArrayDataset, DataLoader
from _blas import single_threaded_blas  # examples/_blas.py, beside this script

EPOCHS, BATCH, LR, CHANNELS = 15, 64, 3e-3, 32


def load_data(seed=0):
    """Images (N, 1, 8, 8) standardised per pixel, int64 labels, a stratified 80/20 split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, random_state=seed, stratify=y)
    # Pixels that barely vary in training (the borders) are only centred: dividing by a
    # tiny std would blow up test images that happen to use them.
    mean, std = x_train.mean(axis=0), np.maximum(x_train.std(axis=0), 1.0)
    scale = lambda a: ((a - mean) / std).astype(np.float32).reshape(-1, 1, 8, 8)  # noqa: E731
    return scale(x_train), y_train.astype(np.int64), scale(x_test), y_test.astype(np.int64)


class DigitsCNN(nn.Module):
    """conv(1->c) - pool - conv(c->2c) - pool - linear - linear: 8x8 -> 4x4 -> 2x2 -> 10 classes."""

    def __init__(self, channels=CHANNELS, dropout=0.0):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, channels, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(channels, 2 * channels, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout),
            nn.Linear(2 * channels * 2 * 2, 64), nn.ReLU(),
            nn.Linear(64, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def accuracy(model, x, y):
    model.eval()
    with fnx.no_grad():
        return float((model(x).argmax(axis=1) == y).mean())


def main(epochs=EPOCHS, quick=False, seed=0):
    """Trains and evaluates; returns the per-epoch losses, accuracies and times.

    ``quick=True`` trains a narrower network for at most 2 epochs (for the tests).
    """
    if quick:
        epochs = min(epochs, 2)
    with single_threaded_blas():
        fnx.manual_seed(seed)
        x_train, y_train, x_test, y_test = load_data(seed)
        loader = DataLoader(ArrayDataset(x_train, y_train), batch_size=BATCH, shuffle=True, seed=seed)
        x_test, y_test = fnx.asarray(x_test), fnx.asarray(y_test)
        model = DigitsCNN(channels=8 if quick else CHANNELS)
        optimizer = optim.Adam(model.parameters(), lr=LR)
        scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
        loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)  # softer targets: less over-confident, generalises better
        print(f"digits as 1x8x8 images: {len(x_train)} training, {len(x_test)} test; model:\n{model}")

        history = {"loss": [], "test_acc": [], "seconds": []}
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            model.train()
            total = 0.0
            for x, y in loader:
                optimizer.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                optimizer.step()
                total += float(loss) * len(y)
            scheduler.step()
            seconds = time.perf_counter() - start
            acc = accuracy(model, x_test, y_test)
            for name, value in zip(history, (total / len(x_train), acc, seconds)):
                history[name].append(value)
            print(f"epoch {epoch:2d}  loss {history['loss'][-1]:.4f}  test accuracy {acc:6.2%}  "
                  f"({seconds:.2f}s/epoch)")
    print(f"test accuracy: {history['test_acc'][-1]:.2%}   mean time per epoch: {np.mean(history['seconds']):.2f}s")
    return {**history, "accuracy": history["test_acc"][-1]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--quick", action="store_true", help="a narrower network for at most 2 epochs")
    args = parser.parse_args()
    main(epochs=args.epochs, quick=args.quick)
