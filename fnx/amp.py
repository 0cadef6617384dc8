"""``torch.amp``: automatic mixed precision, ``autocast`` and ``GradScaler``.

Inside ``autocast(device_type, dtype)``, products, linear layers and
convolutions of float32 arrays on that kind of device run in ``dtype``
(float16), and losses run in float32 (on CUDA also softmax, log_softmax,
layer_norm, group_norm and cosine_similarity), as PyTorch's op lists say.
Gradients flow back through the casts, so float32 Parameters get float32
gradients. ``GradScaler`` scales the loss so that small float16 gradients do
not underflow, unscales them before the optimizer step, skips steps whose
gradients overflowed and adapts the scale.

fnx has no bfloat16 (NumPy has none): asking for it, or for CPU autocast
without a dtype (PyTorch's CPU default is bfloat16), warns and leaves autocast
off, as PyTorch does for a dtype a device does not support. Elementwise
operations of PyTorch's float32 list (exp, log, pow...) run in their inputs'
dtype.
"""
import functools
import math
import warnings

import numpy as np

from . import cuda as _cuda, numpy as fnp
from .core import autocast as _state
from .core.dtypes import float16 as _float16

__all__ = ["autocast", "GradScaler", "is_autocast_available", "is_autocast_enabled", "custom_fwd", "custom_bwd"]

_SUPPORTED = {"cpu": (np.dtype(np.float16),), "cuda": (np.dtype(np.float16),)}


def is_autocast_available(device_type):
    """Whether ``autocast`` can be used for ``device_type`` (``"cpu"`` or ``"cuda"``)."""
    return device_type in _SUPPORTED


class autocast:
    """Runs eligible operations in lower precision (``torch.autocast``); a context manager and a decorator.

    ``enabled=False`` turns autocast off inside (for a float32 region of an
    autocast block); regions nest and restore what was there on exit.

    >>> import fnx, fnx.numpy as fnp
    >>> w = fnp.ones((3, 2))
    >>> with fnx.autocast("cpu", dtype=fnx.float16):
    ...     y = fnp.ones((4, 3)) @ w
    ...     loss = fnx.nn.functional.mse_loss(y, fnp.zeros((4, 2)))
    >>> y.dtype, loss.dtype
    (dtype('float16'), dtype('float32'))
    """

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"autocast: expected a device type string ('cpu' or 'cuda'), got {device_type!r}")
        device_type = device_type.split(":")[0]
        if device_type not in _SUPPORTED:
            raise ValueError(f"autocast: unsupported device_type {device_type!r}; fnx supports 'cpu' and 'cuda'")
        self.device = device_type
        self.fast_dtype = None if dtype is None else np.dtype(dtype)
        self._enabled = bool(enabled)
        if self._enabled:
            if self.fast_dtype is None and device_type == "cuda":
                self.fast_dtype = np.dtype(np.float16)
            if self.fast_dtype not in _SUPPORTED[device_type]:
                wanted = "bfloat16 (PyTorch's CPU default)" if self.fast_dtype is None else str(self.fast_dtype)
                warnings.warn(f"autocast: {device_type} autocast in {wanted} is not supported by fnx (NumPy has no "
                              f"bfloat16); autocast is disabled. Pass dtype=fnx.float16.", UserWarning, stacklevel=2)
                self._enabled = False

    def __enter__(self):
        self._prev = _state.state.get(self.device)
        if self._enabled:
            _state.state[self.device] = self.fast_dtype
        else:
            _state.state.pop(self.device, None)
        return self

    def __exit__(self, *exc):
        if self._prev is None:
            _state.state.pop(self.device, None)
        else:
            _state.state[self.device] = self._prev
        return False

    def __call__(self, fn):
        from .transforms.autodiff import decorate_with
        return decorate_with(lambda: autocast(self.device, self.fast_dtype, self._enabled), fn)


def is_autocast_enabled(device_type="cuda"):
    """Whether autocast is on for ``device_type`` here (``torch.is_autocast_enabled``)."""
    return device_type in _state.state


def custom_fwd(fwd=None, *, device_type="cuda", cast_inputs=None):
    """``torch.amp.custom_fwd``: runs ``fwd`` with autocast off and, with ``cast_inputs``, its floating array
    arguments cast to that dtype when autocast was on."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def wrapper(*args, **kwargs):
        if cast_inputs is None or device_type not in _state.state:
            return fwd(*args, **kwargs)
        from .core.array import Array

        def cast(x):
            return x.astype(cast_inputs) if isinstance(x, Array) and x.dtype.kind == "f" else x
        with autocast(device_type, enabled=False):
            return fwd(*[cast(a) for a in args], **{k: cast(v) for k, v in kwargs.items()})
    return wrapper


def custom_bwd(bwd=None, *, device_type="cuda"):
    """``torch.amp.custom_bwd``: runs ``bwd`` with the autocast state of the forward pass (off here, as fnx's
    backward passes run after the autocast region)."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    return bwd


# ----- GradScaler -----------------------------------------------------------------------------------------

_READY, _UNSCALED, _STEPPED = "ready", "unscaled", "stepped"


class GradScaler:
    """Scales the loss and unscales the gradients for float16 training (``torch.amp.GradScaler``).

    ``scaler.scale(loss).backward()`` then ``scaler.step(optimizer)`` (which
    unscales the gradients, unless ``unscale_`` already did, and skips the step
    when any of them is infinite or NaN) then ``scaler.update()`` (which halves
    the scale after a skipped step, by ``backoff_factor``, and doubles it, by
    ``growth_factor``, after ``growth_interval`` steps in a row without one).
    A scaler for ``device="cuda"`` on a machine without a usable GPU warns and
    disables itself, as in PyTorch: it then passes everything through.

    >>> import fnx
    >>> w = fnx.nn.Parameter(fnx.numpy.array([1.0, 2.0]))
    >>> opt = fnx.optim.SGD([w], lr=0.1)
    >>> scaler = fnx.amp.GradScaler("cpu", init_scale=1024.0)
    >>> scaler.scale((w * w).sum()).backward()
    >>> w.grad
    Array([2048., 4096.], dtype=float32)
    >>> scaler.step(opt); scaler.update()
    >>> w.grad, w.detach()
    (Array([2., 4.], dtype=float32), Array([0.8, 1.6], dtype=float32))
    """

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        self._device = device
        self._enabled = bool(enabled)
        if self._enabled and str(device).split(":")[0] == "cuda" and not _cuda.is_available():
            warnings.warn("GradScaler is enabled, but CUDA is not available. Disabling.", UserWarning, stacklevel=2)
            self._enabled = False
        if self._enabled:
            if not growth_factor > 1.0:
                raise ValueError(f"GradScaler: the growth factor must be > 1.0, got {growth_factor}")
            if not backoff_factor < 1.0:
                raise ValueError(f"GradScaler: the backoff factor must be < 1.0, got {backoff_factor}")
        self._init_scale = float(init_scale)
        self._scale = None  # set at the first scale(), as in PyTorch
        self._growth_factor, self._backoff_factor = float(growth_factor), float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0
        self._optimizers = {}  # id(optimizer) -> {"stage": ..., "found_inf": bool}

    def is_enabled(self):
        return self._enabled

    def scale(self, outputs):
        """``outputs`` times the current scale (an array, or a list/tuple of them); unchanged when disabled."""
        if not self._enabled:
            return outputs
        if self._scale is None:
            self._scale = self._init_scale
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        return outputs * np.float32(self._scale)

    def _state(self, optimizer):
        return self._optimizers.setdefault(id(optimizer), {"stage": _READY, "found_inf": None})

    def _check_scaled(self, what):
        if self._scale is None:
            raise RuntimeError(f"Attempted {what} but _scale is None. This may indicate your script did not use "
                               f"scaler.scale(loss or outputs) earlier in the iteration.")

    def unscale_(self, optimizer):
        """Divides the gradients of ``optimizer``'s parameters by the scale, in place of their ``.grad``
        (to clip them, for instance), and records whether any is infinite or NaN."""
        if not self._enabled:
            return
        self._check_scaled("unscale_")
        state = self._state(optimizer)
        if state["stage"] == _UNSCALED:
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if state["stage"] == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv = np.float32(1.0 / self._scale)
        found_inf = False
        for group in optimizer.param_groups:
            for p in group["params"]:
                g = getattr(p, "grad", None)
                if g is None:
                    continue
                if g.dtype == _float16:
                    raise ValueError("Attempting to unscale FP16 gradients.")
                g = g * inv
                p._write_grad(g)
                if not found_inf and not bool(fnp.all(fnp.isfinite(g))):
                    found_inf = True
        state["found_inf"], state["stage"] = found_inf, _UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """Unscales (unless ``unscale_`` did) and runs ``optimizer.step()`` unless a gradient is infinite or
        NaN; returns what the step returned (None when skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scaled("step")
        state = self._state(optimizer)
        if state["stage"] == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] == _READY:
            self.unscale_(optimizer)
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return result

    def update(self, new_scale=None):
        """Sets the scale for the next iteration: ``new_scale`` when given, else backed off after an
        overflow, grown after ``growth_interval`` clean steps in a row."""
        if not self._enabled:
            return
        self._check_scaled("update")
        if new_scale is not None:
            self._scale = float(new_scale)
        else:
            found = [s["found_inf"] for s in self._optimizers.values() if s["found_inf"] is not None]
            if not found:
                raise RuntimeError("No inf checks were recorded prior to update.")
            if any(found):
                self._scale *= self._backoff_factor
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    grown = self._scale * self._growth_factor
                    if math.isfinite(float(np.float32(grown))):
                        self._scale = grown
                    self._growth_tracker = 0
        self._optimizers = {}

    def get_scale(self):
        """The current scale as a Python float (1.0 when disabled)."""
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else float(np.float32(self._scale))

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = int(new_interval)

    def state_dict(self):
        """The scale and its schedule (empty when disabled), for a checkpoint."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict):
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved from a disabled "
                               "instance of GradScaler.")
        self._init_scale = float(state_dict["scale"])
        if self._scale is not None:
            self._scale = self._init_scale
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])
