"""``torch.cuda.amp``: PyTorch's older spelling of ``torch.amp`` for CUDA (``autocast``, ``GradScaler``)."""
from .. import amp as _amp
from ..core.dtypes import float16 as _float16

__all__ = ["autocast", "GradScaler", "custom_fwd", "custom_bwd"]


class autocast(_amp.autocast):
    """``torch.cuda.amp.autocast(enabled, dtype)``: :class:`fnx.amp.autocast` for ``"cuda"``."""

    def __init__(self, enabled=True, dtype=_float16, cache_enabled=True):
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(_amp.GradScaler):
    """``torch.cuda.amp.GradScaler``: :class:`fnx.amp.GradScaler` for ``"cuda"``."""

    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                 enabled=True):
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)


def custom_fwd(fwd=None, *, cast_inputs=None):
    return _amp.custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def custom_bwd(bwd):
    return _amp.custom_bwd(bwd, device_type="cuda")
