"""PyTorch's global switches that training scripts set at start-up (``torch.set_num_threads`` and the like).

Each does what it says where fnx has the thing it names, and is accepted with
PyTorch's arguments, checked the same way, where it does not:

- ``set_num_threads``/``get_num_threads``: the threads of the BLAS behind
  numpy's products (through threadpoolctl), which is where fnx computes in
  parallel on a CPU;
- ``get_rng_state``/``set_rng_state``: the state of the global generator
  (``fnx.manual_seed``'s), as a uint8 array to save with a checkpoint;
- ``use_deterministic_algorithms``: fnx has no choice of algorithms for it to
  switch, so the flag is kept, read back by
  ``are_deterministic_algorithms_enabled``, and changes nothing (on a GPU,
  scatter-adds with repeated indices may still differ in the last bits, as
  ``fnx.backends.cudnn`` explains);
- ``set_float32_matmul_precision``: the setting is kept and read back, and
  changes nothing: fnx asks numpy and cupy for float32 products, with no
  reduced-precision mode to allow.

>>> import fnx
>>> state = fnx.get_rng_state(); a = fnx.rand(2)
>>> _ = fnx.set_rng_state(state); bool((fnx.rand(2) == a).all())
True
"""
from .random import get_rng_state, set_rng_state  # torch's top-level names of torch.random's

__all__ = ["set_num_threads", "get_num_threads", "get_rng_state", "set_rng_state", "use_deterministic_algorithms",
           "are_deterministic_algorithms_enabled", "is_deterministic_algorithms_warn_only_enabled",
           "set_float32_matmul_precision", "get_float32_matmul_precision"]

_state = {"deterministic": False, "warn_only": False, "matmul_precision": "highest"}
_thread_limit = []  # the threadpoolctl limiter in force, kept so that the limit holds


def set_num_threads(num):
    """Sets how many threads the BLAS under numpy's products uses (``torch.set_num_threads``)."""
    import operator
    from threadpoolctl import threadpool_limits
    num = operator.index(num)
    if num < 1:
        raise ValueError(f"set_num_threads: the number of threads must be positive, got {num}")
    _thread_limit[:] = [threadpool_limits(limits=num, user_api="blas")]


def get_num_threads():
    """How many threads the BLAS under numpy's products uses (``torch.get_num_threads``)."""
    from threadpoolctl import threadpool_info
    counts = [pool["num_threads"] for pool in threadpool_info() if pool.get("user_api") == "blas"]
    return max(counts, default=1)


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Records PyTorch's determinism switch, which changes nothing in fnx (see the module's notes)."""
    if not isinstance(mode, bool) or not isinstance(warn_only, bool):
        raise TypeError(f"use_deterministic_algorithms: mode and warn_only must be bools, got {mode!r} and "
                        f"{warn_only!r}")
    _state.update(deterministic=mode, warn_only=warn_only)


def are_deterministic_algorithms_enabled():
    """The mode last given to :func:`use_deterministic_algorithms` (False at start)."""
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled():
    """The ``warn_only`` last given to :func:`use_deterministic_algorithms` (False at start)."""
    return _state["warn_only"]


def set_float32_matmul_precision(precision):
    """Records ``"highest"``, ``"high"`` or ``"medium"`` (``torch.set_float32_matmul_precision``).

    It changes nothing: fnx asks for float32 products on every device whatever is
    set, and the lower settings allow, and never require, less precision.
    """
    if precision not in ("highest", "high", "medium"):
        raise ValueError(f"set_float32_matmul_precision: expected 'highest', 'high' or 'medium', got {precision!r}")
    _state["matmul_precision"] = precision


def get_float32_matmul_precision():
    """The precision last set with :func:`set_float32_matmul_precision` (``"highest"`` at start)."""
    return _state["matmul_precision"]
