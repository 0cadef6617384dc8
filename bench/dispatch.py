"""The cost of one eager operation on a small array: fnx against numpy (and torch when importable).

``python -m bench.dispatch`` prints a markdown table of the best of several timing runs per operation,
in microseconds per call, on 4x4 float32 arrays (so the arithmetic itself is negligible and what is left
is each library's dispatch). It is how bench/NOTES.md (section 21) measured the eager fast paths; it is
not part of ``make bench``'s targets.
"""
import argparse
import timeit

import numpy as np

# (name, numpy statement, fnx statement, torch statement or None); a, b, v, idx, m are numpy operands and
# A, B, V, IDX, M their fnx (T, U, W, TIDX, TM: torch) counterparts. Each row computes the same values in
# every library (tests/test_bench_smoke.py checks it).
OPS = [
    ("x @ y", "a @ b", "A @ B", "T @ U"),
    ("x @ v (matrix-vector)", "a @ v", "A @ V", "T @ W"),
    ("x.T", "a.T", "A.T", "T.T"),
    ("x + y", "a + b", "A + B", "T + U"),
    ("x * 1.01", "a * 1.01", "A * 1.01", "T * 1.01"),
    ("x * v (broadcast)", "a * v", "A * V", "T * W"),
    ("exp(x)", "np.exp(a)", "fnp.exp(A)", "torch.exp(T)"),
    ("x.sum()", "a.sum()", "A.sum()", "T.sum()"),
    ("x.sum(axis=0)", "a.sum(axis=0)", "A.sum(axis=0)", "T.sum(0)"),
    ("x.mean()", "a.mean()", "A.mean()", "T.mean()"),
    ("x.max(axis=1)", "a.max(axis=1)", "A.max(axis=1)", "T.amax(1)"),
    ("x.reshape(16)", "a.reshape(16)", "A.reshape(16)", "T.reshape(16)"),
    ("x[0]", "a[0]", "A[0]", "T[0]"),
    ("x[:, 1]", "a[:, 1]", "A[:, 1]", "T[:, 1]"),
    ("x[int array]", "a[idx]", "A[IDX]", "T[TIDX]"),
    ("concatenate", "np.concatenate([a, b])", "fnp.concatenate([A, B])", "torch.cat([T, U])"),
    ("stack", "np.stack([a, b])", "fnp.stack([A, B])", "torch.stack([T, U])"),
    ("where(x > 0, x, y)", "np.where(a > 0, a, b)", "fnp.where(A > 0, A, B)", "torch.where(T > 0, T, U)"),
    ("where(m, x, 0.0)", "np.where(m, a, 0.0)", "fnp.where(M, A, 0.0)", "torch.where(TM, T, 0.0)"),
    ("x > 0", "a > 0", "A > 0", "T > 0"),
    ("maximum(x, y)", "np.maximum(a, b)", "fnp.maximum(A, B)", "torch.maximum(T, U)"),
    ("astype(float64)", "a.astype(np.float64)", "A.astype(fnp.float64)", "T.to(torch.float64)"),
    ("expand_dims", "np.expand_dims(a, 0)", "fnp.expand_dims(A, 0)", "T.unsqueeze(0)"),
    ("transpose", "np.transpose(a)", "fnp.transpose(A)", "T.permute(1, 0)"),
    ("dot", "np.dot(a, b)", "fnp.dot(A, B)", "T.mm(U)"),
    ("einsum", "np.einsum('ij,jk->ik', a, b)", "fnp.einsum('ij,jk->ik', A, B)", "torch.einsum('ij,jk->ik', T, U)"),
    ("linalg.norm", "np.linalg.norm(a)", "fnp.linalg.norm(A)", "torch.linalg.norm(T)"),
    ("zeros((4, 4))", "np.zeros((4, 4), np.float32)", "fnp.zeros((4, 4))", "torch.zeros(4, 4)"),
    ("x ** 2", "a ** 2", "A ** 2", "T ** 2"),
    ("clip(x, 0, 1)", "np.clip(a, 0, 1)", "fnp.clip(A, 0, 1)", "torch.clamp(T, 0, 1)"),
    ("torch-style max(x, dim=1)", "(a.max(1), a.argmax(1))", "fnx.max(A, dim=1)", "torch.max(T, dim=1)"),
    ("torch-style clamp(min=0)", "np.clip(a, 0, None)", "fnx.clamp(A, min=0)", "torch.clamp(T, min=0)"),
    ("softmax(dim=1)", "np.exp(a - np.log(np.exp(a).sum(1, keepdims=True)))", "F.softmax(A, dim=1)",
     "torch.softmax(T, 1)"),
    ("sigmoid", "1 / (1 + np.exp(-a))", "fnx.sigmoid(A)", "torch.sigmoid(T)"),
]

# Random draws: compared by shape and dtype only (each library has its own generator).
RANDOM_OPS = [
    ("randn(4, 4)", "rng.standard_normal((4, 4), dtype=np.float32)", "fnx.randn(4, 4)", "torch.randn(4, 4)"),
    ("random.split(key)", "np.random.default_rng(0).integers(0, 2 ** 32, (2, 2), dtype=np.uint32)",
     "fnx.random.split(KEY)", None),
]


def best_us(stmt, env, number, repeat):
    return min(timeit.repeat(stmt, globals=env, number=number, repeat=repeat)) / number * 1e6


def environment():
    import fnx
    import fnx.nn.functional as F
    import fnx.numpy as fnp
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4, 4)).astype(np.float32), rng.standard_normal((4, 4)).astype(np.float32)
    v, idx, m = rng.standard_normal(4).astype(np.float32), np.array([0, 2]), a > 0
    env = dict(np=np, fnp=fnp, fnx=fnx, F=F, rng=rng, KEY=fnx.random.key(0), a=a, b=b, v=v, idx=idx, m=m,
               A=fnp.asarray(a), B=fnp.asarray(b), V=fnp.asarray(v), IDX=fnp.asarray(idx), M=fnp.asarray(m))
    try:
        import torch
        torch.set_num_threads(1)
        env.update(torch=torch, T=torch.from_numpy(a), U=torch.from_numpy(b), W=torch.from_numpy(v),
                   TIDX=torch.from_numpy(idx), TM=torch.from_numpy(m))
    except ImportError:
        pass
    return env


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=2000, help="calls per timing run")
    parser.add_argument("--repeat", type=int, default=7, help="timing runs per operation (the best is kept)")
    args = parser.parse_args(argv)
    env = environment()
    have_torch = "torch" in env
    print("| operation | numpy µs | fnx µs | fnx / numpy |" + (" torch µs | fnx / torch |" if have_torch else ""))
    print("|---|---|---|---|" + ("---|---|" if have_torch else ""))
    for name, ns, fs, ts in OPS + RANDOM_OPS:
        tn, tf = best_us(ns, env, args.number, args.repeat), best_us(fs, env, args.number, args.repeat)
        row = f"| {name} | {tn:.2f} | {tf:.2f} | {tf / tn:.1f}x |"
        if have_torch:
            tt = None if ts is None else best_us(ts, env, args.number, args.repeat)
            row += " - | - |" if tt is None else f" {tt:.2f} | {tf / tt:.2f}x |"
        print(row)


if __name__ == "__main__":
    main()
