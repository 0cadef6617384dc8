"""``make bench``: check that every implementation agrees, then time them side by side.

For each workload of :mod:`bench.workloads` the runner

1. builds every implementation and runs it once at full size, comparing each
   output with the hand-written numpy floor (``allclose`` relative to the
   output's scale); any disagreement stops the run with a message, because a
   fast wrong answer measures nothing (``--keep-going`` marks the row instead);
2. times the implementations round-robin (one sample of each in turn, so a
   load that comes and goes on this shared machine hits them all alike), each
   sample being enough back-to-back calls to last a few milliseconds, with a
   warm-up call first, until each has used its time budget (at least 3
   samples), and keeps the median;
3. for the rows marked ``one_thread`` times a second copy under
   ``threadpoolctl.threadpool_limits(1)``, so the floor and fnx are measured
   both with the BLAS's default thread count and with one thread;
4. for W6 measures the peak of numpy's allocations during one call with
   tracemalloc (numpy reports its buffers to it).

Then it prints one table per workload (medians; ratios to the floor and to the
peers), checks the issue's targets against the measured ratios, and writes all
of it, with the machine, the BLAS and the versions, to ``bench/RESULTS.md``.

Run as ``python -m bench`` from the repository root (``make bench`` does, in the
project's virtual environment); ``--only W1,W3`` runs a subset, ``--budget``
sets the seconds spent timing each row.
"""
import argparse
import contextlib
import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc

import numpy as np

if __package__ in (None, ""):  # run as a script: python bench/run.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "bench"

from bench import workloads as wl  # noqa: E402

ONE_THREAD = " [1 BLAS thread]"
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS.md")
RESULTS_CUDA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "RESULTS-cuda.md")


class Mismatch(AssertionError):
    pass


# ----- agreement -------------------------------------------------------------------------------

def to_numpy(x):
    """A numpy copy of an output of any backend (fnx, torch, jax, numpy, cupy, Python scalar)."""
    module = type(x).__module__
    if module.startswith("torch"):
        return x.detach().cpu().numpy().copy()
    if module.startswith("cupy"):
        return x.get()
    if module.startswith("fnx"):
        x = x.detach()
    return np.array(x, copy=True)


def compare(ref, got, rtol):
    """Problems between two output lists (empty when they agree)."""
    if len(ref) != len(got):
        return [f"{len(got)} outputs, the floor has {len(ref)}"]
    problems = []
    for k, (r, g) in enumerate(zip(ref, got)):
        if r.shape != g.shape:
            problems.append(f"output {k}: shape {g.shape}, the floor's is {r.shape}")
            continue
        scale = float(np.max(np.abs(r))) if r.size else 1.0
        if not np.allclose(g, r, rtol=rtol, atol=rtol * max(scale, 1e-30)):
            err = float(np.max(np.abs(g.astype(np.float64) - r)))
            problems.append(f"output {k} {r.shape}: max |error| {err:.3g}, scale {scale:.3g}, rtol {rtol:g}")
    return problems


def synced(step, place):
    """``step`` followed by waiting for the GPU, so that a timed call includes the work it queued."""
    if not place.gpu:
        return step

    def run():
        out = step()
        place.synchronize()
        return out
    return run


def check(workload, impls=None, keep_going=False, log=print, place=wl.CPU):
    """Runs each implementation once and compares it with the floor; returns {label: step} of those that agree.

    Raises :class:`Mismatch` on the first disagreement (or failure) unless ``keep_going``.
    """
    impls = [i for i in (impls or workload.impls) if i.make is not None]
    floor = workload.impl("numpy floor")
    steps, failed = {}, {}
    ref = None
    for impl in [floor] + [i for i in impls if i is not floor]:
        try:
            step = synced(impl.make(), place)
            t0 = time.perf_counter()
            out = step()
            step.first_call = time.perf_counter() - t0
            out = [to_numpy(o) for o in out]
        except Exception as e:  # noqa: BLE001 - reported, and fatal unless --keep-going
            problems = [f"raised {type(e).__name__}: {e}"]
        else:
            if ref is None:
                ref = out
            problems = compare(ref, out, workload.rtol)
        if problems:
            message = f"{workload.key} {impl.label} disagrees with the numpy floor: " + "; ".join(problems)
            if not keep_going or impl is floor:
                raise Mismatch(message)
            log("  FAILED " + message)
            failed[impl.label] = "; ".join(problems)
            continue
        steps[impl.label] = step
    return steps, failed


# ----- timing --------------------------------------------------------------------------------

def initial_blas_threads():
    """The BLAS thread count numpy starts with (read before fnx is imported, which may change it)."""
    if not have_threadpoolctl():
        return None
    from threadpoolctl import threadpool_info
    counts = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    return max(counts) if counts else None


DEFAULT_THREADS = [None]  # set by main(): the floor's "default" rows run with numpy's own default


def blas_limit(threads):
    if threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits
    return threadpool_limits(limits=threads, user_api="blas")


def time_rows(rows, budget, min_samples=3, max_samples=200, sample_s=0.01, warm_below=1.0):
    """Round-robin medians: ``rows`` is a list of (label, step, threads); returns {label: [seconds per call]}.

    A step that the agreement check has run already (it set ``step.first_call``) is warm; any
    other gets one warm-up call. One timed call then sets how many calls make a sample (enough to
    last ``sample_s``) and how many samples fit in ``budget``; when one call is a sample by
    itself, that call counts as the first. Every sample of a step shorter than ``warm_below``
    seconds follows one untimed call of the same step: the rows in between let thread pools
    (OpenBLAS's, torch's OpenMP, XLA's) fall asleep, and waking them took up to 70 ms on this
    machine, a cost that back-to-back calls in real use do not pay.
    """
    plan, times = [], {}
    for label, step, threads in rows:
        with blas_limit(threads):
            if not hasattr(step, "first_call"):
                step()
            t0 = time.perf_counter()
            step()
            once = time.perf_counter() - t0
        inner = max(1, int(sample_s / max(once, 1e-9)))
        samples = min(max_samples, max(min_samples, int(budget / (once * (inner + (once < warm_below))))))
        times[label] = [once] if inner == 1 else []
        plan.append((label, step, threads, inner, samples, once < warm_below))
    for rnd in range(max(p[4] for p in plan)):
        for label, step, threads, inner, samples, warm in plan:
            if len(times[label]) >= samples:
                continue
            with blas_limit(threads):
                if warm:
                    step()
                t0 = time.perf_counter()
                for _ in range(inner):
                    step()
                times[label].append((time.perf_counter() - t0) / inner)
    return times


def peak_memory(step):
    """Peak bytes of Python and numpy allocations during one call of ``step``."""
    gc.collect()
    tracemalloc.start()
    try:
        out = step()
        del out
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def have_threadpoolctl():
    try:
        import threadpoolctl  # noqa: F401
    except ImportError:
        return False
    return True


# ----- the run -----------------------------------------------------------------------------

class Result:
    def __init__(self, workload):
        self.workload = workload
        self.median, self.spread, self.peak, self.status = {}, {}, {}, {}
        self.order = []

    def add(self, label, samples):
        self.median[label] = statistics.median(samples)
        q = statistics.quantiles(samples, n=4) if len(samples) >= 2 else [samples[0]] * 3
        self.spread[label] = (q[2] - q[0]) / 2 / self.median[label]

    def value(self, label):
        """The median in the workload's unit (ms per call, or us per op)."""
        t = self.median.get(label)
        if t is None:
            return None
        w = self.workload
        return t * 1e6 / w.ops if w.unit == "us/op" else t * 1e3


def run_workload(workload, budget, keep_going, log, place=wl.CPU):
    log(f"\n{workload.key}: {workload.title}" + (" on cuda:0" if place.gpu else ""))
    workload.device = place.device
    res = Result(workload)
    steps, failed = check(workload, keep_going=keep_going, log=log, place=place)
    log(f"  agreement with the numpy floor: {len(steps)} implementations OK"
        + (f", {len(failed)} FAILED" if failed else ""))
    rows = []
    threads_ok = have_threadpoolctl()
    for impl in workload.impls:
        res.order.append(impl.label)
        if impl.make is None:
            res.status[impl.label] = impl.note
            continue
        if impl.label in failed:
            res.status[impl.label] = "FAILED the agreement check"
            continue
        # The floor's default is numpy's own thread count, whatever fnx's policy did to the BLAS.
        rows.append((impl.label, steps[impl.label], DEFAULT_THREADS[0] if impl.backend == "numpy" else None))
        if impl.one_thread and threads_ok and not place.gpu:
            label = impl.label + ONE_THREAD
            res.order.append(label)
            rows.append((label, impl.make(), 1))  # a fresh instance: time_rows warms it up
    times = time_rows(rows, budget)
    for label, samples in times.items():
        res.add(label, samples)
    if workload.memory:
        for label, step, threads in rows:
            if not label.endswith(ONE_THREAD) and workload.impl(label).backend in ("numpy", "fnx"):
                res.peak[label] = peak_memory(step)
    log(table(res))
    return res


def _ratio(a, b):
    return None if a is None or b is None else a / b


def _fmt_ratio(r):
    return "" if r is None else f"{r:.2f}x" if r >= 0.095 else f"{r:.2g}x"


def _fmt_value(v, unit):
    if v is None:
        return ""
    if v >= 100:
        return f"{v:,.0f}"
    return f"{v:.3g}" if v >= 1 else f"{v:.3f}"


def _first(res, backend, jit=False):
    for impl in res.workload.impls:
        if impl.backend == backend and ("jit" in impl.label) == jit and impl.label in res.median:
            return impl.label
    return None


def table(res):
    w = res.workload
    unit = "µs/op" if w.unit == "us/op" else "ms"
    torch_row, jax_row, jax_jit = _first(res, "torch"), _first(res, "jax"), _first(res, "jax", jit=True)
    head = ["implementation", f"median {unit}", "± (IQR/2)", "× floor"]
    peers = [(torch_row, f"× {torch_row}"), (jax_row, f"× {jax_row}"), (jax_jit, f"× {jax_jit}")]
    peers = [(label, title) for label, title in peers if label is not None]
    head += [title for _, title in peers]
    if res.peak:
        head += ["peak MiB", "peak × floor"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    floor_t = res.median.get("numpy floor")
    for label in res.order:
        shown = "floor (cupy)" if label == "numpy floor" and w.device == "cuda" else label
        if label not in res.median:
            lines.append(f"| {shown} | {res.status.get(label, '')} |" + " |" * (len(head) - 2))
            continue
        t = res.median[label]
        cells = [shown, _fmt_value(res.value(label), w.unit), f"{res.spread[label]:.0%}",
                 _fmt_ratio(_ratio(t, floor_t))]
        cells += [_fmt_ratio(_ratio(t, res.median[p])) for p, _ in peers]
        if res.peak:
            p = res.peak.get(label)
            cells += ["" if p is None else f"{p / 2 ** 20:.1f}",
                      "" if p is None else _fmt_ratio(_ratio(p, res.peak.get("numpy floor")))]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# ----- targets -------------------------------------------------------------------------------

W3_OBJECT, W3_FUNCTIONAL = "fnx object (backward + SGD)", "fnx functional (value_and_grad + sgd)"

# (workload, what is promised, numerator row, denominator row, bound, measure); the ratio
# numerator/denominator must be <= bound ("time" and "peak") or >= bound ("speedup").
TARGETS = [
    ("W1", "eager: per op no slower than torch eager", "fnx", "torch", 1.0, "time"),
    ("W1", "jit: per op at most 0.5x torch eager", "fnx jit", "torch", 0.5, "time"),
    ("W2", "within 1.10x of the numpy floor", "fnx", "numpy floor", 1.10, "time"),
    ("W3", "object-style within 1.2x of the floor", W3_OBJECT, "numpy floor", 1.2, "time"),
    ("W3", "functional within 1.2x of the floor", W3_FUNCTIONAL, "numpy floor", 1.2, "time"),
    ("W3", "object-style no slower than torch eager", W3_OBJECT, "torch", 1.0, "time"),
    ("W3", "functional no slower than torch eager", W3_FUNCTIONAL, "torch", 1.0, "time"),
    ("W3", "jit within 1.1x of the floor", W3_FUNCTIONAL + " jit", "numpy floor", 1.1, "time"),
    ("W4", "vmap(grad) at least 10x faster than the loop of grad", "fnx loop of grad", "fnx vmap(grad)", 10.0,
     "speedup"),
    ("W4", "vmap(grad) within 1.5x of torch.func", "fnx vmap(grad)", "torch.func vmap(grad)", 1.5, "time"),
    ("W5", "no slower than jax eager", "fnx", "jax", 1.0, "time"),
    ("W6", "within 1.05x of the numpy floor", "fnx", "numpy floor", 1.05, "time"),
    ("W6", "peak memory within 1.2x of the floor's", "fnx", "numpy floor", 1.2, "peak"),
    ("W7", "within 1.1x of einsum(optimize=True) + hand-written gradients", "fnx", "numpy floor", 1.1, "time"),
]


def evaluate_targets(results):
    """Rows ``(target, ratio text, one-thread ratio text, verdict)``.

    Where the one-thread ratio exists too (fnx and the floor each limited to one BLAS thread),
    a target is met only when it is met in both settings: a ratio that passes only because the
    other side's BLAS threads fight over two busy cores says nothing about fnx.
    """
    out = []
    for key, what, num, den, bound, measure in TARGETS:
        name = f"{key} {what}"
        res = results.get(key)
        if res is None:
            out.append((name, "", "", "not run"))
            continue
        table_ = res.peak if measure == "peak" else res.median
        a, b = table_.get(num), table_.get(den)
        if a is None or b is None:
            missing = num if a is None else den
            why = res.status.get(missing, "not measured")
            out.append((name, "", "", f"n/a ({missing}: {why})"))
            continue
        def meets(r):
            return r >= bound if measure == "speedup" else r <= bound
        ratio = a / b
        sign = ">=" if measure == "speedup" else "<="
        text = f"{ratio:.2f}x (bound {sign} {bound:g}x)"
        verdict = "PASS" if meets(ratio) else "MISS"
        one = ""
        a1, b1 = res.median.get(num + ONE_THREAD), res.median.get(den + ONE_THREAD, res.median.get(den))
        if measure == "time" and a1 is not None and b1 is not None:
            one = f"{a1 / b1:.2f}x"
            if meets(a1 / b1) != meets(ratio):
                verdict = ("MISS (met with default threads only)" if meets(ratio)
                           else "MISS (met with one BLAS thread only)")
        out.append((name, text, one, verdict))
    return out


# ----- the report -----------------------------------------------------------------------------

def machine_info():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
        mem = f", {kb / 2 ** 20:.0f} GiB memory"
    except (OSError, ValueError, IndexError):
        pass
    return f"{model}; {os.cpu_count()} logical CPUs ({usable} usable){mem}; {platform.platform()}"


def gpu_info():
    import cupy
    props = cupy.cuda.runtime.getDeviceProperties(0)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    return (f"{name}, {props['totalGlobalMem'] / 2 ** 30:.0f} GiB; cupy {cupy.__version__}, CUDA runtime "
            f"{cupy.cuda.runtime.runtimeGetVersion()}; timed calls end with cudaDeviceSynchronize")


def blas_info():
    if have_threadpoolctl():
        import threadpoolctl
        lines = []
        for lib in threadpoolctl.threadpool_info():
            lines.append(f"{lib.get('user_api')}: {lib.get('internal_api')} {lib.get('version') or ''} "
                         f"({os.path.basename(lib.get('filepath', ''))}), {lib.get('num_threads')} threads"
                         + (f", {lib['threading_layer']} threading" if lib.get("threading_layer") else "")
                         + (f", {lib['architecture']} kernels" if lib.get("architecture") else ""))
        return lines
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return [f"numpy built with {blas.get('name')} {blas.get('version')} (threadpoolctl not installed: "
                f"thread counts unknown)"]
    except Exception:  # noqa: BLE001 - numpy's config layout is not a stable API
        return ["unknown (threadpoolctl not installed)"]


def versions():
    import fnx
    out = [f"python {platform.python_version()}", f"numpy {np.__version__}", f"fnx {fnx.__version__}"]
    torch = wl.torch_module()
    out.append(f"torch {torch.__version__} ({torch.get_num_threads()} threads)" if torch else "torch not installed")
    jax = wl.jax_module()
    if jax:
        import jaxlib
        out.append(f"jax {jax.__version__} (jaxlib {jaxlib.__version__})")
    else:
        out.append("jax not installed")
    for name in ("threadpoolctl", "opt_einsum", "sklearn"):
        try:
            out.append(f"{name} {__import__(name).__version__}")
        except ImportError:
            out.append(f"{name} not installed")
    return out


ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def report(results, targets, started, load_before, load_after, args):
    gpu = args.device == "cuda"
    lines = ["# fnx benchmark results" + (" on a GPU (cuda:0)" if gpu else ""), ""]
    if gpu:
        lines += ["Written by `python -m bench --device cuda`: the floor is the same hand-written code run with "
                  "cupy, fnx runs on `cuda:0` (its jit rows fuse chains of elementwise ops into cupy kernels), "
                  "torch on CUDA when it has it; jax is measured on the CPU only. Every timed call ends with "
                  "`cudaDeviceSynchronize`. The targets below were set for the CPU run; they are evaluated here "
                  "as the same ratios, for comparison.", ""]
    lines += [f"Written by `make bench` (`python -m bench`) on {time.strftime('%Y-%m-%d %H:%M', started)}, "
             f"{args.budget:g} s of timing per row. Medians of round-robin samples; each ratio divides two medians "
             "of this run. `± (IQR/2)` is half the interquartile range over the median. Rows marked "
             f"`{ONE_THREAD.strip()}` ran under `threadpoolctl.threadpool_limits(1)`; the floor's other rows "
             f"with numpy's default BLAS thread count ({DEFAULT_THREADS[0]}), fnx's and the peers' with "
             "whatever they set themselves. Each sample follows one untimed call of the same row, so "
             "thread pools are awake, as in a training loop. A target with a one-thread ratio is met only "
             "if it is met with both settings. See bench/NOTES.md for the profile and what to change.", "",
             "## Targets", "",
             "| target | measured (default threads) | with 1 BLAS thread | verdict |", "|---|---|---|---|"]
    lines += [f"| {name} | {text} | {one} | {verdict} |" for name, text, one, verdict in targets]
    passed = sum(v == "PASS" for *_, v in targets)
    missed = sum(v.startswith("MISS") for *_, v in targets)
    lines += ["", f"{passed} met, {missed} missed, {len(targets) - passed - missed} not measurable in this run.", ""]
    for key, res in results.items():
        w = res.workload
        lines += [f"## {key}: {w.title}", "", table(res), ""]
        lines += [n for n in w.notes] + [""]
    load = ", ".join(f"{x:.2f}" for x in load_before)
    lines += ["## Machine", "", f"- CPU: {machine_info()}"] + ([f"- GPU: {gpu_info()}"] if gpu else [])
    lines += [f"- load average (1, 5, 15 min) before the run: {load}; after: "
              + ", ".join(f"{x:.2f}" for x in load_after)
              + " (other jobs share this machine; round-robin sampling spreads their effect over all rows)",
              "- BLAS:"]
    lines += [f"  - {b}" for b in blas_info()]
    env = [f"{k}={os.environ[k]}" for k in ENV_VARS if k in os.environ]
    lines += [f"- environment: {', '.join(env) if env else 'none of ' + ', '.join(ENV_VARS) + ' set'}",
              "- versions: " + ", ".join(versions()), ""]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated workloads (W1,...,W7); default all")
    parser.add_argument("--budget", type=float, default=1.2, help="seconds of timing per row (default 1.2)")
    parser.add_argument("--keep-going", action="store_true", help="mark disagreeing rows instead of stopping")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="cuda: the floor in cupy, fnx and torch on the GPU (default cpu)")
    parser.add_argument("--out", default=None, help=f"markdown report (default {os.path.relpath(RESULTS)} "
                        "for a full run; nothing for --only unless given)")
    args = parser.parse_args(argv)
    keys = list(wl.WORKLOADS) if not args.only else [k.strip().upper() for k in args.only.split(",")]
    unknown = [k for k in keys if k not in wl.WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {list(wl.WORKLOADS)}")
    out_path = args.out or ((RESULTS_CUDA if args.device == "cuda" else RESULTS) if not args.only else None)
    place = wl.Place(args.device)
    if place.gpu:
        import fnx
        if not fnx.devices("cuda"):
            parser.error("--device cuda: no usable CUDA GPU (cupy missing or no device)")
    DEFAULT_THREADS[0] = initial_blas_threads()
    env = [f"{k}={os.environ[k]}" for k in ENV_VARS if k in os.environ]
    print(f"fnx bench: {', '.join(keys)}; {machine_info()}" + (f"; {' '.join(env)}" if env else ""), flush=True)
    if not have_threadpoolctl():
        print("threadpoolctl is not installed: no one-thread rows (pip install threadpoolctl)")
    started, load_before = time.localtime(), os.getloadavg()
    t0 = time.perf_counter()
    results = {}
    try:
        for key in keys:
            results[key] = run_workload(wl.WORKLOADS[key](place=place), args.budget, args.keep_going,
                                        lambda s: print(s, flush=True), place)
    except Mismatch as e:
        print(f"\nbench: STOPPED, implementations disagree: {e}", file=sys.stderr)
        return 1
    targets = [t for t in evaluate_targets(results) if t[3] != "not run"]
    print("\nTargets:")
    for name, text, one, verdict in targets:
        head, _, tail = verdict.partition(" ")
        print(f"  {head:4s} {name}: {text}" + (f" (1 BLAS thread: {one})" if one else "") + (f" {tail}" if tail else ""))
    print(f"\nbench took {time.perf_counter() - t0:.0f} s")
    if out_path:
        with open(out_path, "w") as f:
            f.write(report(results, targets, started, load_before, os.getloadavg(), args))
        print(f"wrote {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
