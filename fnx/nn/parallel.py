"""``torch.nn.DataParallel`` and ``torch.nn.parallel``: the wrapper scripts put around a model.

fnx runs a module on the device its parameters are on, one device per call, so
the wrapper splits nothing: it calls the module it wraps, and keeps PyTorch's
shape for everything around it, ``model.module`` and the ``module.`` prefix of
the state dict's keys, so that checkpoints and code written for it port.

>>> import fnx
>>> model = fnx.nn.DataParallel(fnx.nn.Linear(2, 1))
>>> sorted(model.state_dict())
['module.bias', 'module.weight']
"""
from .module import Module

__all__ = ["DataParallel"]


class DataParallel(Module):
    """``module`` run as it is (``torch.nn.DataParallel``): ``device_ids``, ``output_device`` and ``dim`` are
    accepted and checked, and fnx computes on one device."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: expected a Module, got {type(module).__name__}")
        if not isinstance(dim, int):
            raise TypeError(f"DataParallel: dim must be an int, got {type(dim).__name__}")
        self.module = module
        self.device_ids = None if device_ids is None else list(device_ids)
        self.output_device = output_device
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
