"""The seven workloads of issue 7, each written once per implementation.

A workload builder (``w1(small=False)`` ... ``w7``) draws its data from a fixed
seed and returns a :class:`Workload`: a list of :class:`Impl`, one per way of
computing it. ``Impl.make()`` does the set-up that is not timed (converting the
data to the framework's arrays, building modules, jit-compiling) and returns a
``step`` callable; one ``step()`` is one timed unit and returns a list of
arrays (the value and the gradients, or the updated parameters), which the
runner compares with the hand-written numpy floor before timing anything.

The floor is plain numpy written by hand: the forward pass as one would write
it, the backward pass derived by hand, intermediates let go as soon as they
are dead. It is what fnx is measured against; torch (CPU, eager and
``torch.func``) and jax (eager and jit) are the peers, present only when they
can be imported. ``small=True`` shrinks every size so that the whole suite runs
in a second or two (the smoke test).
"""
import functools
import importlib.util
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np


@dataclass
class Impl:
    label: str                       # row name in the table ("numpy floor", "fnx", "torch", ...)
    backend: str                     # "numpy", "fnx", "torch" or "jax"
    make: Optional[Callable]         # () -> step; None when the backend is not installed
    one_thread: bool = False         # also time it with BLAS limited to one thread
    note: str = ""                   # why it is missing, or what it measures


@dataclass
class Workload:
    key: str
    title: str
    impls: list
    unit: str = "ms"                 # "ms" per call, or "us/op" (then divided by ``ops``)
    ops: int = 1
    rtol: float = 1e-6               # tolerance of the agreement check (relative to each output's scale)
    memory: bool = False             # also measure peak numpy memory with tracemalloc
    notes: list = field(default_factory=list)

    def impl(self, label):
        return next(i for i in self.impls if i.label == label)


# ----- peers, imported only when present ---------------------------------------------------

@functools.lru_cache(None)
def torch_module():
    try:
        import torch
    except ImportError:
        return None
    return torch


@functools.lru_cache(None)
def jax_module():
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)  # W1, W2, W5 and W7 are float64
    jax.config.update("jax_platforms", "cpu")
    return jax


def has_jit():
    import fnx
    return hasattr(fnx, "jit")


def _peer(label, backend, make, one_thread=False):
    present = importlib.util.find_spec(backend) is not None  # imported only when the row is built
    return Impl(label, backend, make if present else None, one_thread, "" if present else "not installed")


def _jax_ready(out):
    return [o.block_until_ready() for o in out]


def _torch_tensors(torch, arrays):
    return {k: torch.tensor(v) for k, v in arrays.items()}


def _fnx_rows(rows, key, make, one_thread=False, jit_make=None):
    """The fnx rows: eager (optionally also with one BLAS thread) and, when fnx has it, jit."""
    rows.append(Impl(key, "fnx", make, one_thread))
    if jit_make is not None:
        rows.append(Impl(key + " jit", "fnx", jit_make if has_jit() else None, False,
                         "" if has_jit() else "fnx.jit not available"))


# ----- W1, W2: a chain of elementwise ops ----------------------------------------------------

def _chain(n, links, key, title, unit, small):
    x = np.random.default_rng(1).uniform(-1.0, 1.0, n)

    def floor():
        def step():
            saved, y = [], x
            for _ in range(links):
                saved.append(y)
                y = np.sin(y) * 1.01 + 0.1
            value = y.sum()
            g = np.ones_like(y)
            while saved:
                g = np.cos(saved.pop()) * (g * 1.01)
            return [value, g]
        return step

    def fnx_fun():
        import fnx.numpy as fnp

        def f(y):
            for _ in range(links):
                y = fnp.sin(y) * 1.01 + 0.1
            return fnp.sum(y)
        return f

    def fnx_eager():
        import fnx
        vg, xf = fnx.value_and_grad(fnx_fun()), fnx.asarray(x)
        return lambda: list(vg(xf))

    def fnx_jit():
        import fnx
        vg, xf = fnx.jit(fnx.value_and_grad(fnx_fun())), fnx.asarray(x)
        return lambda: list(vg(xf))

    def torch_eager():
        torch = torch_module()
        xt = torch.tensor(x, requires_grad=True)

        def step():
            y = xt
            for _ in range(links):
                y = torch.sin(y) * 1.01 + 0.1
            value = y.sum()
            return [value, torch.autograd.grad(value, xt)[0]]
        return step

    def jax_make(jit):
        jax = jax_module()
        jnp = jax.numpy

        def f(y):
            for _ in range(links):
                y = jnp.sin(y) * 1.01 + 0.1
            return jnp.sum(y)
        vg = jax.value_and_grad(f)
        vg = jax.jit(vg) if jit else vg
        xj = jnp.asarray(x)
        return lambda: _jax_ready(vg(xj))

    rows = [Impl("numpy floor", "numpy", floor)]
    _fnx_rows(rows, "fnx", fnx_eager, jit_make=fnx_jit)
    rows.append(_peer("torch", "torch", torch_eager))
    if small or n < 100_000:
        rows.append(_peer("jax", "jax", functools.partial(jax_make, False)))
    else:  # seconds per call: jax eager's dispatch cost is W1's, and its kernels are those of jax jit
        rows.append(Impl("jax", "jax", None, note="not run on W2 (too slow to time here; see W1 and jax jit)"))
    rows.append(_peer("jax jit", "jax", functools.partial(jax_make, True)))
    return Workload(key, title, rows, unit=unit, ops=3 * links, rtol=1e-9,
                    notes=[f"{links} links of `y = sin(y) * 1.01 + 0.1` (3 ops each) on {n:,} float64 values, "
                           f"then the gradient of `sum(y)`; the floor saves each link's input for `cos` in the "
                           f"backward pass. Elementwise only: no BLAS, so no one-thread rows."])


def w1(small=False):
    return _chain(16 if not small else 4, 200 if not small else 10, "W1",
                  "per-op overhead: chain of 200 elementwise ops on 16 float64, forward+backward", "us/op", small)


def w2(small=False):
    return _chain(1_000_000 if not small else 1000, 200 if not small else 10, "W2",
                  "the same chain on 1,000,000 float64, forward+backward", "ms", small)


# ----- W3: one SGD step of an MLP on digits ---------------------------------------------------

def digits(n=None, seed=0):
    """Standardised float32 digit images (N, 64) and int64 labels; random data of that shape without sklearn."""
    try:
        from sklearn.datasets import load_digits
        x, y = load_digits(return_X_y=True)
    except ImportError:
        rng = np.random.default_rng(seed)
        x, y = rng.uniform(0, 16, (1797, 64)), rng.integers(0, 10, 1797)
    x = (x - x.mean(0)) / (x.std(0) + 1e-3)
    x, y = x.astype(np.float32), y.astype(np.int64)
    return (x, y) if n is None else (x[:n], y[:n])


def _mlp_params(sizes, seed):
    """PyTorch's Linear initialisation, float32: ``w{i}`` (out, in) and ``b{i}``."""
    rng = np.random.default_rng(seed)
    params = {}
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), 1):
        bound = 1.0 / np.sqrt(fan_in)
        params[f"w{i}"] = rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32)
        params[f"b{i}"] = rng.uniform(-bound, bound, fan_out).astype(np.float32)
    return params


def _object_step(model, opt, loss_fn, nxt):
    """One PyTorch-style training step (fnx object-style and torch share it, letter for letter)."""
    def step():
        x, y = nxt()
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return [loss] + list(model.parameters())
    return step


def w3(small=False):
    sizes = (64, 256, 256, 10) if not small else (64, 16, 16, 10)
    batch, lr = (128, 0.05) if not small else (8, 0.05)
    x_all, y_all = digits()
    nb = len(x_all) // batch if not small else 2
    batches = [(x_all[i * batch:(i + 1) * batch], y_all[i * batch:(i + 1) * batch]) for i in range(nb)]
    init = _mlp_params(sizes, 3)
    keys = ["w1", "b1", "w2", "b2", "w3", "b3"]

    def cycle(converted):
        it = iter(range(10 ** 12))
        return lambda: converted[next(it) % len(converted)]

    def floor():
        p = {k: v.copy() for k, v in init.items()}
        nxt = cycle(batches)

        def step():
            x, y = nxt()
            n = len(y)
            h1 = x @ p["w1"].T + p["b1"]
            r1 = np.maximum(h1, 0)
            h2 = r1 @ p["w2"].T + p["b2"]
            r2 = np.maximum(h2, 0)
            z = r2 @ p["w3"].T + p["b3"]
            z = z - z.max(axis=1, keepdims=True)
            e = np.exp(z)
            s = e.sum(axis=1, keepdims=True)
            rows = np.arange(n)
            loss = (np.log(s[:, 0]) - z[rows, y]).mean()
            dz = e / s
            dz[rows, y] -= 1.0
            dz /= n
            g = {"w3": dz.T @ r2, "b3": dz.sum(0)}
            dh = (dz @ p["w3"]) * (h2 > 0)
            g["w2"], g["b2"] = dh.T @ r1, dh.sum(0)
            dh = (dh @ p["w2"]) * (h1 > 0)
            g["w1"], g["b1"] = dh.T @ x, dh.sum(0)
            for k in keys:
                p[k] -= lr * g[k]
            return [loss] + [p[k] for k in keys]
        return step

    def fnx_object():
        import fnx
        import fnx.nn as nn
        model = nn.Sequential(nn.Linear(sizes[0], sizes[1]), nn.ReLU(), nn.Linear(sizes[1], sizes[2]), nn.ReLU(),
                              nn.Linear(sizes[2], sizes[3]))
        model.load_state_dict({f"{2 * (int(k[1]) - 1)}.{'weight' if k[0] == 'w' else 'bias'}": fnx.asarray(v)
                               for k, v in init.items()})
        opt = fnx.optim.SGD(model.parameters(), lr=lr)
        loss_fn = nn.CrossEntropyLoss()
        nxt = cycle([(fnx.asarray(x), fnx.asarray(y)) for x, y in batches])

        return _object_step(model, opt, loss_fn, nxt)

    def fnx_functional(jit=False):
        import fnx
        import fnx.nn.functional as F

        def loss_fn(p, x, y):
            h = F.relu(F.linear(x, p["w1"], p["b1"]))
            h = F.relu(F.linear(h, p["w2"], p["b2"]))
            return F.cross_entropy(F.linear(h, p["w3"], p["b3"]), y)
        vg, rule = fnx.value_and_grad(loss_fn), fnx.optim.sgd(lr=lr)

        def train_step(p, s, x, y):
            loss, g = vg(p, x, y)
            p, s = rule.update(g, s, p)
            return loss, p, s
        train_step = fnx.jit(train_step) if jit else train_step
        params = {k: fnx.asarray(v) for k, v in init.items()}
        st = [params, rule.init(params)]
        nxt = cycle([(fnx.asarray(x), fnx.asarray(y)) for x, y in batches])

        def step():
            loss, st[0], st[1] = train_step(st[0], st[1], *nxt())
            return [loss] + [st[0][k] for k in keys]
        return step

    def torch_eager():
        torch = torch_module()
        nn = torch.nn
        model = nn.Sequential(nn.Linear(sizes[0], sizes[1]), nn.ReLU(), nn.Linear(sizes[1], sizes[2]), nn.ReLU(),
                              nn.Linear(sizes[2], sizes[3]))
        with torch.no_grad():
            for k, v in init.items():
                layer = model[2 * (int(k[1]) - 1)]
                (layer.weight if k[0] == "w" else layer.bias).copy_(torch.tensor(v))
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        loss_fn = nn.CrossEntropyLoss()
        nxt = cycle([(torch.tensor(x), torch.tensor(y)) for x, y in batches])

        return _object_step(model, opt, loss_fn, nxt)

    def jax_make(jit):
        jax = jax_module()
        jnp = jax.numpy

        def loss_fn(p, x, y):
            h = jax.nn.relu(x @ p["w1"].T + p["b1"])
            h = jax.nn.relu(h @ p["w2"].T + p["b2"])
            logp = jax.nn.log_softmax(h @ p["w3"].T + p["b3"])
            return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

        def train_step(p, x, y):
            loss, g = jax.value_and_grad(loss_fn)(p, x, y)
            return loss, jax.tree_util.tree_map(lambda a, b: a - lr * b, p, g)
        train_step = jax.jit(train_step) if jit else train_step
        st = [{k: jnp.asarray(v) for k, v in init.items()}]
        nxt = cycle([(jnp.asarray(x), jnp.asarray(y)) for x, y in batches])

        def step():
            loss, st[0] = train_step(st[0], *nxt())
            return _jax_ready([loss] + [st[0][k] for k in keys])
        return step

    rows = [Impl("numpy floor", "numpy", floor, one_thread=True),
            Impl("fnx object (backward + SGD)", "fnx", fnx_object, one_thread=True)]
    _fnx_rows(rows, "fnx functional (value_and_grad + sgd)", fnx_functional, one_thread=True,
              jit_make=functools.partial(fnx_functional, True))
    rows += [_peer("torch", "torch", torch_eager, one_thread=True),
             _peer("jax", "jax", functools.partial(jax_make, False)),
             _peer("jax jit", "jax", functools.partial(jax_make, True))]
    return Workload("W3", f"one SGD step, {'-'.join(map(str, sizes))} ReLU MLP, softmax cross-entropy, "
                    f"batches of {batch} digits (float32)", rows, rtol=2e-4,
                    notes=[f"Cycles through {nb} fixed batches; each step returns the loss and the updated "
                           f"parameters (lr={lr})."])


# ----- W4: per-example gradients ------------------------------------------------------------

def w4(small=False):
    sizes = (64, 128, 10) if not small else (64, 8, 10)
    batch = 256 if not small else 4
    x, y = digits(batch)
    onehot = np.eye(10, dtype=np.float32)[y]
    init = _mlp_params(sizes, 4)
    keys = ["w1", "b1", "w2", "b2"]

    def floor():
        p = init

        def step():
            h = x @ p["w1"].T + p["b1"]
            r = np.maximum(h, 0)
            z = r @ p["w2"].T + p["b2"]
            e = np.exp(z - z.max(axis=1, keepdims=True))
            dz = e / e.sum(axis=1, keepdims=True) - onehot
            dh = (dz @ p["w2"]) * (h > 0)
            return [dh[:, :, None] * x[:, None, :], dh, dz[:, :, None] * r[:, None, :], dz]
        return step

    def fnx_loss():
        import fnx.numpy as fnp
        import fnx.nn.functional as F

        def loss(p, xi, ti):
            h = F.relu(p["w1"] @ xi + p["b1"])
            return -fnp.sum(ti * F.log_softmax(p["w2"] @ h + p["b2"], dim=-1))
        return loss

    def fnx_vmap(jit=False):
        import fnx
        per_example = fnx.vmap(fnx.grad(fnx_loss()), in_axes=(None, 0, 0))
        per_example = fnx.jit(per_example) if jit else per_example
        p = {k: fnx.asarray(v) for k, v in init.items()}
        xf, tf = fnx.asarray(x), fnx.asarray(onehot)

        def step():
            g = per_example(p, xf, tf)
            return [g[k] for k in keys]
        return step

    def fnx_loop():
        import fnx
        import fnx.numpy as fnp
        grad = fnx.grad(fnx_loss())
        p = {k: fnx.asarray(v) for k, v in init.items()}
        examples = [(fnx.asarray(x[i]), fnx.asarray(onehot[i])) for i in range(batch)]

        def step():
            gs = [grad(p, xi, ti) for xi, ti in examples]
            return [fnp.stack([g[k] for g in gs]) for k in keys]
        return step

    def torch_func():
        torch = torch_module()
        from torch.func import grad, vmap

        def loss(p, xi, ti):
            h = torch.relu(p["w1"] @ xi + p["b1"])
            return -(ti * torch.log_softmax(p["w2"] @ h + p["b2"], dim=-1)).sum()
        per_example = vmap(grad(loss), in_dims=(None, 0, 0))
        p, xt, tt = _torch_tensors(torch, init), torch.tensor(x), torch.tensor(onehot)

        def step():
            g = per_example(p, xt, tt)
            return [g[k] for k in keys]
        return step

    def jax_make(jit):
        jax = jax_module()
        jnp = jax.numpy

        def loss(p, xi, ti):
            h = jax.nn.relu(p["w1"] @ xi + p["b1"])
            return -jnp.sum(ti * jax.nn.log_softmax(p["w2"] @ h + p["b2"]))
        per_example = jax.vmap(jax.grad(loss), in_axes=(None, 0, 0))
        per_example = jax.jit(per_example) if jit else per_example
        p = {k: jnp.asarray(v) for k, v in init.items()}
        xj, tj = jnp.asarray(x), jnp.asarray(onehot)

        def step():
            g = per_example(p, xj, tj)
            return _jax_ready([g[k] for k in keys])
        return step

    rows = [Impl("numpy floor", "numpy", floor, one_thread=True)]
    _fnx_rows(rows, "fnx vmap(grad)", fnx_vmap, one_thread=True, jit_make=functools.partial(fnx_vmap, True))
    rows += [Impl("fnx loop of grad", "fnx", fnx_loop),
             _peer("torch.func vmap(grad)", "torch", torch_func),
             _peer("jax vmap(grad)", "jax", functools.partial(jax_make, False)),
             _peer("jax jit(vmap(grad))", "jax", functools.partial(jax_make, True))]
    return Workload("W4", f"per-example gradients, {'-'.join(map(str, sizes))} ReLU MLP, batch of {batch} "
                    f"(float32)", rows, rtol=2e-4,
                    notes=["Per-example softmax cross-entropy against one-hot labels; the floor computes all "
                           "per-example gradients at once as outer products."])


# ----- W5: a Hessian ------------------------------------------------------------------------

def w5(small=False):
    n = 100 if not small else 5
    rng = np.random.default_rng(5)
    a = rng.normal(0.0, 1.0 / np.sqrt(n), (n, n))
    x = rng.normal(0.0, 1.0, n)

    def floor():
        def step():
            t = np.tanh(a @ x)
            w = (2.0 - 6.0 * t * t) * (1.0 - t * t)  # d2/dz2 of tanh(z)**2
            return [a.T @ (w[:, None] * a)]
        return step

    def fnx_make(jit=False):
        import fnx
        import fnx.numpy as fnp
        af, xf = fnx.asarray(a), fnx.asarray(x)
        h = fnx.hessian(lambda v, m: fnp.sum(fnp.tanh(m @ v) ** 2))
        h = fnx.jit(h) if jit else h
        return lambda: [h(xf, af)]

    def torch_func():
        torch = torch_module()
        at, xt = torch.tensor(a), torch.tensor(x)
        h = torch.func.hessian(lambda v: (torch.tanh(at @ v) ** 2).sum())
        return lambda: [h(xt)]

    def jax_make(jit):
        jax = jax_module()
        jnp = jax.numpy
        aj, xj = jnp.asarray(a), jnp.asarray(x)
        h = jax.hessian(lambda v, m: jnp.sum(jnp.tanh(m @ v) ** 2))
        h = jax.jit(h) if jit else h
        return lambda: _jax_ready([h(xj, aj)])

    rows = [Impl("numpy floor", "numpy", floor, one_thread=True)]
    _fnx_rows(rows, "fnx", fnx_make, one_thread=True, jit_make=functools.partial(fnx_make, True))
    rows += [_peer("torch.func", "torch", torch_func),
             _peer("jax", "jax", functools.partial(jax_make, False)),
             _peer("jax jit", "jax", functools.partial(jax_make, True))]
    return Workload("W5", f"hessian of sum(tanh(A @ x) ** 2), A {n}x{n}, x of size {n} (float64)", rows,
                    rtol=1e-9, notes=["The floor is the closed form `A.T @ diag((2 - 6 t^2)(1 - t^2)) @ A`."])


# ----- W6: a big two-layer forward+backward, with memory -----------------------------------------

def w6(small=False):
    n, d, h, o = (2048, 1024, 1024, 256) if not small else (32, 16, 16, 8)
    rng = np.random.default_rng(6)
    xs = rng.normal(0.0, 1.0, (n, d)).astype(np.float32)
    w1 = rng.normal(0.0, 1.0 / np.sqrt(d), (d, h)).astype(np.float32)
    w2 = rng.normal(0.0, 1.0 / np.sqrt(h), (h, o)).astype(np.float32)

    def floor():
        def step():
            r = np.maximum(xs @ w1, 0)
            out = r @ w2
            value = out.sum()
            g = np.ones_like(out)
            del out
            dw2 = r.T @ g
            dh = g @ w2.T
            del g
            dh *= r > 0
            del r
            return [value, xs.T @ dh, dw2]
        return step

    def fnx_make(jit=False):
        import fnx
        import fnx.numpy as fnp
        import fnx.nn.functional as F
        vg = fnx.value_and_grad(lambda a, b, x: fnp.sum(F.relu(x @ a) @ b), argnums=(0, 1))
        vg = fnx.jit(vg) if jit else vg
        a, b, x = fnx.asarray(w1), fnx.asarray(w2), fnx.asarray(xs)

        def step():
            value, (ga, gb) = vg(a, b, x)
            return [value, ga, gb]
        return step

    def torch_eager():
        torch = torch_module()
        a, b = torch.tensor(w1, requires_grad=True), torch.tensor(w2, requires_grad=True)
        x = torch.tensor(xs)

        def step():
            value = (torch.relu(x @ a) @ b).sum()
            return [value, *torch.autograd.grad(value, (a, b))]
        return step

    def jax_make(jit):
        jax = jax_module()
        jnp = jax.numpy
        vg = jax.value_and_grad(lambda a, b, x: jnp.sum(jax.nn.relu(x @ a) @ b), argnums=(0, 1))
        vg = jax.jit(vg) if jit else vg
        a, b, x = jnp.asarray(w1), jnp.asarray(w2), jnp.asarray(xs)

        def step():
            value, (ga, gb) = vg(a, b, x)
            return _jax_ready([value, ga, gb])
        return step

    rows = [Impl("numpy floor", "numpy", floor, one_thread=True)]
    _fnx_rows(rows, "fnx", fnx_make, one_thread=True, jit_make=functools.partial(fnx_make, True))
    rows += [_peer("torch", "torch", torch_eager),
             _peer("jax", "jax", functools.partial(jax_make, False)),
             _peer("jax jit", "jax", functools.partial(jax_make, True))]
    return Workload("W6", f"forward+backward of sum(relu(X @ W1) @ W2), X {n}x{d}, W1 {d}x{h}, W2 {h}x{o} "
                    f"(float32), gradients for W1 and W2", rows, rtol=1e-4, memory=True,
                    notes=["The floor backpropagates a cotangent of ones (as any autodiff does) and keeps only "
                           "`relu(X @ W1)` for the backward pass. Peak memory is what tracemalloc sees of "
                           "numpy's allocations during one call (numpy and fnx only; torch and jax allocate "
                           "outside it)."])


# ----- W7: einsum with gradients ----------------------------------------------------------------

def w7(small=False):
    i, j = (64, 2048) if not small else (4, 16)
    rng = np.random.default_rng(7)
    shapes = [(i, j), (j, i), (i, j), (j, i)]
    ops = [rng.normal(0.0, 1.0 / np.sqrt(s[0]), s) for s in shapes]
    spec = "ij,jk,kl,lm->im"

    def floor():
        def step():
            a, b, c, d = ops
            value = np.einsum(spec, a, b, c, d, optimize=True).sum()
            g = np.ones((i, i))
            ab, cd = a @ b, c @ d
            gcd = g @ cd.T
            return [value, gcd @ b.T, a.T @ gcd, (ab.T @ g) @ d.T, (ab @ c).T @ g]
        return step

    def fnx_make(jit=False):
        import fnx
        import fnx.numpy as fnp
        vg = fnx.value_and_grad(lambda *xs: fnp.sum(fnp.einsum(spec, *xs)), argnums=(0, 1, 2, 3))
        vg = fnx.jit(vg) if jit else vg
        xs = [fnx.asarray(o) for o in ops]

        def step():
            value, grads = vg(*xs)
            return [value, *grads]
        return step

    def torch_eager():
        torch = torch_module()
        xs = [torch.tensor(o, requires_grad=True) for o in ops]

        def step():
            value = torch.einsum(spec, *xs).sum()
            return [value, *torch.autograd.grad(value, xs)]
        return step

    def jax_make(jit):
        jax = jax_module()
        jnp = jax.numpy
        vg = jax.value_and_grad(lambda *xs: jnp.sum(jnp.einsum(spec, *xs)), argnums=(0, 1, 2, 3))
        vg = jax.jit(vg) if jit else vg
        xs = [jnp.asarray(o) for o in ops]

        def step():
            value, grads = vg(*xs)
            return _jax_ready([value, *grads])
        return step

    rows = [Impl("numpy floor", "numpy", floor, one_thread=True)]
    _fnx_rows(rows, "fnx", fnx_make, one_thread=True, jit_make=functools.partial(fnx_make, True))
    rows += [_peer("torch", "torch", torch_eager),
             _peer("jax", "jax", functools.partial(jax_make, False)),
             _peer("jax jit", "jax", functools.partial(jax_make, True))]
    return Workload("W7", f'forward+grad of einsum("{spec}"), shapes {shapes} (float64)', rows, rtol=1e-9,
                    notes=["The floor is `np.einsum(..., optimize=True)` (its path found at every call) plus "
                           "hand-written gradients as four cheap matrix chains."])


WORKLOADS = {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5, "W6": w6, "W7": w7}
