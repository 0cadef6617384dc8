"""Handwritten digits with a small MLP, in fnx's functional style.

The model is a pure function of its parameters, which are a plain dict of
arrays (a pytree). The loss is ordinary ``fnx.numpy`` code, ``fnx.value_and_grad``
differentiates it with respect to the whole dict at once, and one SGD step is a
single ``fnx.tree.map`` that builds new parameters: nothing is mutated.

The data is scikit-learn's bundled digits set (1797 8x8 images, no download).
Run with ``make demo`` or ``python examples/digits_functional.py``.
"""
import time

import numpy as np
from sklearn.datasets import load_digits

import fnx
import fnx.numpy as fnp

SIZES = (64, 64, 10)
EPOCHS, BATCH, LR = 20, 32, 0.2


def init_params(rng, sizes=SIZES):
    """Scaled-normal weights and zero biases, one ``w{i}``/``b{i}`` pair per layer."""
    params = {}
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        # Switch to fnx.random keys here once fnx.random is available (it is being written):
        # params[f"w{i}"] = fnx.random.normal(key_i, (n_in, n_out)) / np.sqrt(n_in)
        params[f"w{i}"] = fnp.asarray(rng.standard_normal((n_in, n_out), np.float32) / np.sqrt(n_in))
        params[f"b{i}"] = fnp.zeros(n_out)
    return params


def predict(params, x):
    """Logits of the MLP: tanh hidden layers, a linear output layer."""
    n_layers = len(params) // 2
    for i in range(n_layers - 1):
        x = fnp.tanh(x @ params[f"w{i}"] + params[f"b{i}"])
    return x @ params[f"w{n_layers - 1}"] + params[f"b{n_layers - 1}"]


def cross_entropy(params, x, labels):
    """Mean softmax cross-entropy; log-sum-exp shifted by the row maximum for stability."""
    logits = predict(params, x)
    shift = fnx.stop_gradient(fnp.max(logits, axis=1, keepdims=True))  # a constant: changes no gradient
    log_probs = logits - shift - fnp.log(fnp.sum(fnp.exp(logits - shift), axis=1, keepdims=True))
    one_hot = labels[:, None] == fnp.arange(SIZES[-1])
    return -fnp.mean(fnp.sum(fnp.where(one_hot, log_probs, 0.0), axis=1))


def sgd_step(params, x, labels, lr=LR):
    loss, grads = fnx.value_and_grad(cross_entropy)(params, x, labels)
    return fnx.tree.map(lambda p, g: p - lr * g, params, grads), loss


def accuracy(params, x, labels):
    return float(fnp.mean(fnp.argmax(predict(params, x), axis=1) == labels))


def main(seed=0):
    digits = load_digits()
    images = (digits.data / 16.0).astype(np.float32)  # pixel values 0..16 scaled to [0, 1]
    targets = digits.target.astype(np.int64)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(images))
    n_test = len(images) // 5
    test, train = order[:n_test], order[n_test:]
    x_test, y_test = fnp.asarray(images[test]), fnp.asarray(targets[test])

    params = init_params(rng)
    start = time.perf_counter()
    for epoch in range(1, EPOCHS + 1):
        batches = rng.permutation(train)
        losses = []
        for i in range(0, len(batches), BATCH):
            idx = batches[i:i + BATCH]
            params, loss = sgd_step(params, fnp.asarray(images[idx]), fnp.asarray(targets[idx]))
            losses.append(float(loss))
        print(f"epoch {epoch:2d}  loss {np.mean(losses):.4f}")
    print(f"trained in {time.perf_counter() - start:.1f}s on {len(train)} images")
    acc = accuracy(params, x_test, y_test)
    print(f"test accuracy: {acc:.1%} on {n_test} held-out images")
    return acc


if __name__ == "__main__":
    main()
