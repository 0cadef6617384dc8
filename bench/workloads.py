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
    device: str = "cpu"              # "cuda": the floor is written with cupy, fnx and torch run on the GPU
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


def _fnx_rows(rows, key, make, one_thread=False, jit_make=None):
    """The fnx rows: eager (optionally also with one BLAS thread) and, when fnx has it, jit."""
    rows.append(Impl(key, "fnx", make, one_thread))
    if jit_make is not None:
        rows.append(Impl(key + " jit", "fnx", jit_make if has_jit() else None, False,
                         "" if has_jit() else "fnx.jit not available"))


class Place:
    """Where a workload runs: ``"cpu"`` (numpy floor, fnx on the CPU, every peer) or ``"cuda"`` (the same
    floor written with cupy, fnx on ``cuda:0``, torch on CUDA when it has it; jax stays on the CPU and
    is left out). Each backend's arrays are made by its method here, from the workload's numpy data."""

    def __init__(self, device="cpu"):
        if device not in ("cpu", "cuda"):
            raise ValueError(f"bench: device must be 'cpu' or 'cuda', got {device!r}")
        self.device = device
        self.gpu = device == "cuda"

    @property
    def xp(self):
        if self.gpu:
            import cupy
            return cupy
        return np

    def floor(self, a):
        return self.xp.asarray(a)

    @property
    def fnx_device(self):
        import fnx
        return fnx.device("cuda:0") if self.gpu else fnx.default_device()

    def fnx(self, a):
        import fnx
        return fnx.asarray(a, device=self.fnx_device)

    def torch(self, a, **kw):
        return torch_module().tensor(a, device="cuda" if self.gpu else "cpu", **kw)

    def peer(self, label, backend, make, one_thread=False):
        """A peer's row: torch on this device when it can reach it; jax on the CPU only."""
        if self.gpu and backend == "jax":
            return Impl(label, backend, None, note="not run on cuda (jax is measured on the CPU)")
        if self.gpu and backend == "torch" and torch_module() is not None and not torch_module().cuda.is_available():
            return Impl(label, backend, None, note="torch has no CUDA here")
        return _peer(label, backend, make, one_thread and not self.gpu)

    def synchronize(self):
        """Waits for the device's queued work (every stream, so torch's as well as cupy's)."""
        if self.gpu:
            self.xp.cuda.runtime.deviceSynchronize()


CPU = Place()


# ----- W1, W2: a chain of elementwise ops ----------------------------------------------------

def _chain(n, links, key, title, unit, small, place):
    x = np.random.default_rng(1).uniform(-1.0, 1.0, n)
    xp = place.xp

    def floor():
        x_ = place.floor(x)

        def step():
            saved, y = [], x_
            for _ in range(links):
                saved.append(y)
                y = xp.sin(y) * 1.01 + 0.1
            value = y.sum()
            g = xp.ones_like(y)
            while saved:
                g = xp.cos(saved.pop()) * (g * 1.01)
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
        vg, xf = fnx.value_and_grad(fnx_fun()), place.fnx(x)
        return lambda: list(vg(xf))

    def fnx_jit():
        import fnx
        vg, xf = fnx.jit(fnx.value_and_grad(fnx_fun())), place.fnx(x)
        return lambda: list(vg(xf))

    def torch_eager():
        torch = torch_module()
        xt = place.torch(x, requires_grad=True)

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
    rows.append(place.peer("torch", "torch", torch_eager))
    if small or n < 100_000 or place.gpu:
        rows.append(place.peer("jax", "jax", functools.partial(jax_make, False)))
    else:  # seconds per call: jax eager's dispatch cost is W1's, and its kernels are those of jax jit
        rows.append(Impl("jax", "jax", None, note="not run on W2 (too slow to time here; see W1 and jax jit)"))
    rows.append(place.peer("jax jit", "jax", functools.partial(jax_make, True)))
    return Workload(key, title, rows, unit=unit, ops=3 * links, rtol=1e-9,
                    notes=[f"{links} links of `y = sin(y) * 1.01 + 0.1` (3 ops each) on {n:,} float64 values, "
                           f"then the gradient of `sum(y)`; the floor saves each link's input for `cos` in the "
                           f"backward pass. Elementwise only: no BLAS, so no one-thread rows."])


def w1(small=False, place=CPU):
    return _chain(16 if not small else 4, 200 if not small else 10, "W1",
                  "per-op overhead: chain of 200 elementwise ops on 16 float64, forward+backward", "us/op", small,
                  place)


def w2(small=False, place=CPU):
    return _chain(1_000_000 if not small else 1000, 200 if not small else 10, "W2",
                  "the same chain on 1,000,000 float64, forward+backward", "ms", small, place)


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


def w3(small=False, place=CPU):
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
        xp = place.xp
        p = {k: place.floor(v).copy() for k, v in init.items()}
        nxt = cycle([(place.floor(x), place.floor(y)) for x, y in batches])
        row_numbers = {len(y): xp.arange(len(y)) for _, y in batches}

        def step():
            x, y = nxt()
            n = len(y)
            h1 = x @ p["w1"].T + p["b1"]
            r1 = xp.maximum(h1, 0)
            h2 = r1 @ p["w2"].T + p["b2"]
            r2 = xp.maximum(h2, 0)
            z = r2 @ p["w3"].T + p["b3"]
            z = z - z.max(axis=1, keepdims=True)
            e = xp.exp(z)
            s = e.sum(axis=1, keepdims=True)
            rows = row_numbers[n]
            loss = (xp.log(s[:, 0]) - z[rows, y]).mean()
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
                              nn.Linear(sizes[2], sizes[3])).to(place.fnx_device)
        model.load_state_dict({f"{2 * (int(k[1]) - 1)}.{'weight' if k[0] == 'w' else 'bias'}": place.fnx(v)
                               for k, v in init.items()})
        opt = fnx.optim.SGD(model.parameters(), lr=lr)
        loss_fn = nn.CrossEntropyLoss()
        nxt = cycle([(place.fnx(x), place.fnx(y)) for x, y in batches])

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
        params = {k: place.fnx(v) for k, v in init.items()}
        st = [params, rule.init(params)]
        nxt = cycle([(place.fnx(x), place.fnx(y)) for x, y in batches])

        def step():
            loss, st[0], st[1] = train_step(st[0], st[1], *nxt())
            return [loss] + [st[0][k] for k in keys]
        return step

    def torch_eager():
        torch = torch_module()
        nn = torch.nn
        model = nn.Sequential(nn.Linear(sizes[0], sizes[1]), nn.ReLU(), nn.Linear(sizes[1], sizes[2]), nn.ReLU(),
                              nn.Linear(sizes[2], sizes[3])).to(place.device)
        with torch.no_grad():
            for k, v in init.items():
                layer = model[2 * (int(k[1]) - 1)]
                (layer.weight if k[0] == "w" else layer.bias).copy_(place.torch(v))
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        loss_fn = nn.CrossEntropyLoss()
        nxt = cycle([(place.torch(x), place.torch(y)) for x, y in batches])

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
    rows += [place.peer("torch", "torch", torch_eager, one_thread=True),
             place.peer("jax", "jax", functools.partial(jax_make, False)),
             place.peer("jax jit", "jax", functools.partial(jax_make, True))]
    return Workload("W3", f"one SGD step, {'-'.join(map(str, sizes))} ReLU MLP, softmax cross-entropy, "
                    f"batches of {batch} digits (float32)", rows, rtol=2e-4,
                    notes=[f"Cycles through {nb} fixed batches; each step returns the loss and the updated "
                           f"parameters (lr={lr})."])


# ----- W4: per-example gradients ------------------------------------------------------------

def w4(small=False, place=CPU):
    sizes = (64, 128, 10) if not small else (64, 8, 10)
    batch = 256 if not small else 4
    x, y = digits(batch)
    onehot = np.eye(10, dtype=np.float32)[y]
    init = _mlp_params(sizes, 4)
    keys = ["w1", "b1", "w2", "b2"]

    def floor():
        xp = place.xp
        p = {k: place.floor(v) for k, v in init.items()}
        x_, onehot_ = place.floor(x), place.floor(onehot)

        def step():
            h = x_ @ p["w1"].T + p["b1"]
            r = xp.maximum(h, 0)
            z = r @ p["w2"].T + p["b2"]
            e = xp.exp(z - z.max(axis=1, keepdims=True))
            dz = e / e.sum(axis=1, keepdims=True) - onehot_
            dh = (dz @ p["w2"]) * (h > 0)
            return [dh[:, :, None] * x_[:, None, :], dh, dz[:, :, None] * r[:, None, :], dz]
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
        p = {k: place.fnx(v) for k, v in init.items()}
        xf, tf = place.fnx(x), place.fnx(onehot)

        def step():
            g = per_example(p, xf, tf)
            return [g[k] for k in keys]
        return step

    def fnx_loop():
        import fnx
        import fnx.numpy as fnp
        grad = fnx.grad(fnx_loss())
        p = {k: place.fnx(v) for k, v in init.items()}
        examples = [(place.fnx(x[i]), place.fnx(onehot[i])) for i in range(batch)]

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
        p, xt, tt = {k: place.torch(v) for k, v in init.items()}, place.torch(x), place.torch(onehot)

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
             place.peer("torch.func vmap(grad)", "torch", torch_func),
             place.peer("jax vmap(grad)", "jax", functools.partial(jax_make, False)),
             place.peer("jax jit(vmap(grad))", "jax", functools.partial(jax_make, True))]
    return Workload("W4", f"per-example gradients, {'-'.join(map(str, sizes))} ReLU MLP, batch of {batch} "
                    f"(float32)", rows, rtol=2e-4,
                    notes=["Per-example softmax cross-entropy against one-hot labels; the floor computes all "
                           "per-example gradients at once as outer products."])


# ----- W5: a Hessian ------------------------------------------------------------------------

def w5(small=False, place=CPU):
    n = 100 if not small else 5
    rng = np.random.default_rng(5)
    a = rng.normal(0.0, 1.0 / np.sqrt(n), (n, n))
    x = rng.normal(0.0, 1.0, n)

    def floor():
        xp, a_, x_ = place.xp, place.floor(a), place.floor(x)

        def step():
            t = xp.tanh(a_ @ x_)
            w = (2.0 - 6.0 * t * t) * (1.0 - t * t)  # d2/dz2 of tanh(z)**2
            return [a_.T @ (w[:, None] * a_)]
        return step

    def fnx_make(jit=False):
        import fnx
        import fnx.numpy as fnp
        af, xf = place.fnx(a), place.fnx(x)
        h = fnx.hessian(lambda v, m: fnp.sum(fnp.tanh(m @ v) ** 2))
        h = fnx.jit(h) if jit else h
        return lambda: [h(xf, af)]

    def torch_func():
        torch = torch_module()
        at, xt = place.torch(a), place.torch(x)
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
    rows += [place.peer("torch.func", "torch", torch_func),
             place.peer("jax", "jax", functools.partial(jax_make, False)),
             place.peer("jax jit", "jax", functools.partial(jax_make, True))]
    return Workload("W5", f"hessian of sum(tanh(A @ x) ** 2), A {n}x{n}, x of size {n} (float64)", rows,
                    rtol=1e-9, notes=["The floor is the closed form `A.T @ diag((2 - 6 t^2)(1 - t^2)) @ A`."])


# ----- W6: a big two-layer forward+backward, with memory -----------------------------------------

def w6(small=False, place=CPU):
    n, d, h, o = (2048, 1024, 1024, 256) if not small else (32, 16, 16, 8)
    rng = np.random.default_rng(6)
    xs = rng.normal(0.0, 1.0, (n, d)).astype(np.float32)
    w1 = rng.normal(0.0, 1.0 / np.sqrt(d), (d, h)).astype(np.float32)
    w2 = rng.normal(0.0, 1.0 / np.sqrt(h), (h, o)).astype(np.float32)

    def floor():
        xp, xs_, w1_, w2_ = place.xp, place.floor(xs), place.floor(w1), place.floor(w2)

        def step():
            r = xp.maximum(xs_ @ w1_, 0)
            out = r @ w2_
            value = out.sum()
            g = xp.ones_like(out)
            del out
            dw2 = r.T @ g
            dh = g @ w2_.T
            del g
            dh *= r > 0
            del r
            return [value, xs_.T @ dh, dw2]
        return step

    def fnx_make(jit=False):
        import fnx
        import fnx.numpy as fnp
        import fnx.nn.functional as F
        vg = fnx.value_and_grad(lambda a, b, x: fnp.sum(F.relu(x @ a) @ b), argnums=(0, 1))
        vg = fnx.jit(vg) if jit else vg
        a, b, x = place.fnx(w1), place.fnx(w2), place.fnx(xs)

        def step():
            value, (ga, gb) = vg(a, b, x)
            return [value, ga, gb]
        return step

    def torch_eager():
        torch = torch_module()
        a, b = place.torch(w1, requires_grad=True), place.torch(w2, requires_grad=True)
        x = place.torch(xs)

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
    rows += [place.peer("torch", "torch", torch_eager),
             place.peer("jax", "jax", functools.partial(jax_make, False)),
             place.peer("jax jit", "jax", functools.partial(jax_make, True))]
    return Workload("W6", f"forward+backward of sum(relu(X @ W1) @ W2), X {n}x{d}, W1 {d}x{h}, W2 {h}x{o} "
                    f"(float32), gradients for W1 and W2", rows, rtol=1e-4, memory=not place.gpu,
                    notes=["The floor backpropagates a cotangent of ones (as any autodiff does) and keeps only "
                           "`relu(X @ W1)` for the backward pass. Peak memory is what tracemalloc sees of "
                           "numpy's allocations during one call (numpy and fnx only; torch and jax allocate "
                           "outside it)."])


# ----- W7: einsum with gradients ----------------------------------------------------------------

def w7(small=False, place=CPU):
    i, j = (64, 2048) if not small else (4, 16)
    rng = np.random.default_rng(7)
    shapes = [(i, j), (j, i), (i, j), (j, i)]
    ops = [rng.normal(0.0, 1.0 / np.sqrt(s[0]), s) for s in shapes]
    spec = "ij,jk,kl,lm->im"

    def floor():
        xp, ops_ = place.xp, [place.floor(o) for o in ops]

        def step():
            a, b, c, d = ops_
            value = xp.einsum(spec, a, b, c, d, optimize=True).sum()
            g = xp.ones((i, i))
            ab, cd = a @ b, c @ d
            gcd = g @ cd.T
            return [value, gcd @ b.T, a.T @ gcd, (ab.T @ g) @ d.T, (ab @ c).T @ g]
        return step

    def fnx_make(jit=False):
        import fnx
        import fnx.numpy as fnp
        vg = fnx.value_and_grad(lambda *xs: fnp.sum(fnp.einsum(spec, *xs)), argnums=(0, 1, 2, 3))
        vg = fnx.jit(vg) if jit else vg
        xs = [place.fnx(o) for o in ops]

        def step():
            value, grads = vg(*xs)
            return [value, *grads]
        return step

    def torch_eager():
        torch = torch_module()
        xs = [place.torch(o, requires_grad=True) for o in ops]

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
    rows += [place.peer("torch", "torch", torch_eager),
             place.peer("jax", "jax", functools.partial(jax_make, False)),
             place.peer("jax jit", "jax", functools.partial(jax_make, True))]
    return Workload("W7", f'forward+grad of einsum("{spec}"), shapes {shapes} (float64)', rows, rtol=1e-9,
                    notes=["The floor is `np.einsum(..., optimize=True)` (its path found at every call) plus "
                           "hand-written gradients as four cheap matrix chains."])


WORKLOADS = {"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5, "W6": w6, "W7": w7}
