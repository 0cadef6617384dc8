"""Per-example gradients with ``vmap(grad(...))``, against a Python loop of ``grad``.

A 64-128-10 MLP on a batch of 256 random inputs: one vmapped call computes all
256 gradients; the loop computes them one by one. Prints both times and checks
they agree. (``make bench`` measures this properly.)
"""
import time

import numpy as np

import fnx
import fnx.numpy as fnp


def init(key, sizes=(64, 128, 10)):
    params = []
    for k, (m, n) in zip(fnx.random.split(key, len(sizes) - 1), zip(sizes[:-1], sizes[1:])):
        params.append({"w": fnx.random.normal(k, (m, n)) / np.sqrt(m), "b": fnp.zeros(n)})
    return params


def loss(params, x, y):
    h = x
    for layer in params[:-1]:
        h = fnp.maximum(h @ layer["w"] + layer["b"], 0.0)
    logits = h @ params[-1]["w"] + params[-1]["b"]
    return fnx.scipy.special.logsumexp(logits) - logits[y]


def main(batch=256):
    key_p, key_x, key_y = fnx.random.split(fnx.random.key(0), 3)
    params = init(key_p)
    xs = fnx.random.normal(key_x, (batch, 64))
    ys = fnx.random.randint(key_y, (batch,), 0, 10)
    per_example = fnx.vmap(fnx.grad(loss), in_axes=(None, 0, 0))
    per_example(params, xs[:2], ys[:2])  # warm up
    t0 = time.perf_counter()
    batched = per_example(params, xs, ys)
    t_vmap = time.perf_counter() - t0
    t0 = time.perf_counter()
    looped = [fnx.grad(loss)(params, xs[i], ys[i]) for i in range(batch)]
    t_loop = time.perf_counter() - t0
    for i in (0, batch // 2, batch - 1):
        for a, b in zip(fnx.tree.leaves(batched), fnx.tree.leaves(looped[i])):
            np.testing.assert_allclose(np.asarray(a[i]), np.asarray(b), rtol=1e-4, atol=1e-6)
    print(f"{batch} per-example gradients: vmap(grad) {t_vmap * 1e3:.1f} ms, loop of grad {t_loop * 1e3:.1f} ms "
          f"({t_loop / t_vmap:.1f}x)")
    return t_loop / t_vmap


if __name__ == "__main__":
    main()
