"""PyTorch's lazy layers: the input size is read from the first input.

``LazyLinear(out_features)`` holds :class:`UninitializedParameter` slots until
its first call; that call sets ``in_features`` from the input, gives the slots
their shapes, initialises them as the eager layer does, and turns the module
into a :class:`~fnx.nn.Linear` (PyTorch's ``cls_to_become``). The Parameter
objects stay the same, so an optimizer built before the first call updates them.
"""
from ... import numpy as fnp
from ...core.array import Array
from ...core.dtypes import default_float
from ..parameter import Parameter
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .linear import Linear
from .norm import BatchNorm1d, BatchNorm2d, BatchNorm3d, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d

__all__ = ["UninitializedParameter", "UninitializedBuffer", "LazyLinear", "LazyConv1d", "LazyConv2d",
           "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d", "LazyBatchNorm1d",
           "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d"]


class _Unshaped:
    """What an uninitialised parameter or buffer answers before its lazy module has seen an input."""

    __slots__ = ()

    @property
    def shape(self):
        raise ValueError(f"{type(self).__name__} has no shape yet: run a forward pass of its lazy module first "
                         "(or call initialize_parameters)")

    def __repr__(self):
        return f"<{type(self).__name__}>"


class UninitializedParameter(_Unshaped, Parameter):
    """A Parameter without a shape yet (``torch.nn.UninitializedParameter``); :meth:`materialize` gives it one
    and makes it a plain :class:`~fnx.nn.Parameter`."""

    __slots__ = ()  # a Parameter's layout: materialize turns it into one

    def __init__(self, requires_grad=True, device=None, dtype=None):
        # An empty array of the dtype and device the parameter will have.
        super().__init__(fnp.zeros((0,), dtype=dtype or default_float(), device=device), requires_grad)

    def materialize(self, shape, device=None, dtype=None):
        """Gives the parameter ``shape`` (zeros until initialised) and makes it a Parameter."""
        empty = self.primal
        self.primal = fnp.zeros(tuple(shape), dtype=dtype or empty.dtype, device=device or empty.device)
        self.__class__ = Parameter



class UninitializedBuffer(_Unshaped, Array):
    """A buffer without a shape yet (``torch.nn.UninitializedBuffer``): the running statistics of a lazy norm.
    :meth:`materialize` gives it one, filled with zeros, and makes it a plain array: the one time an fnx array
    changes, before anything has read it."""

    __slots__ = ()  # an Array's layout: materialize turns it into one

    def __init__(self, requires_grad=False, device=None, dtype=None):
        empty = fnp.zeros((0,), dtype=dtype or default_float(), device=device)
        self._value, self._device = empty._value, empty._device

    def materialize(self, shape, device=None, dtype=None):
        full = fnp.zeros(tuple(shape), dtype=dtype or self._value.dtype, device=device or self._device)
        self._value, self._device = full._value, full._device
        self.__class__ = Array



class _LazyModule:
    """What every lazy layer adds: a forward pre-hook that infers the shapes at the first call."""

    cls_to_become = None

    def _lazy_init(self, device, dtype):
        # Set before the eager layer's constructor, whose reset_parameters must not initialise empty weights.
        self.__dict__["_lazy"] = (device, dtype)

    def _lazy_setup(self, **slots):
        device, dtype = self._lazy
        for name, wanted in slots.items():
            if wanted:
                setattr(self, name, UninitializedParameter(device=device, dtype=dtype))
            else:
                self.register_parameter(name, None)
        self.__dict__["_lazy_hook"] = self.register_forward_pre_hook(_infer_parameters)

    def has_uninitialized_params(self):
        return any(isinstance(p, (UninitializedParameter, UninitializedBuffer))
                   for table in (self._parameters, self._buffers) for p in table.values())

    def reset_parameters(self):
        if "_lazy" not in self.__dict__ and not self.has_uninitialized_params():
            super().reset_parameters()

    def _materialized(self):
        """Initialises the freshly shaped parameters as the eager layer does."""
        del self.__dict__["_lazy"]
        self.reset_parameters()


def _infer_parameters(module, args):
    module.initialize_parameters(*args)
    if module.has_uninitialized_params():
        raise RuntimeError(f"{type(module).__name__}: module {module._get_name()} has not been fully initialized")
    module.__dict__.pop("_lazy_hook").remove()
    module.__class__ = module.cls_to_become


class LazyLinear(_LazyModule, Linear):
    """A :class:`~fnx.nn.Linear` whose ``in_features`` is the last dimension of its first input
    (``torch.nn.LazyLinear``).

    >>> import fnx
    >>> layer = fnx.nn.LazyLinear(3)
    >>> layer(fnx.numpy.ones((2, 5))).shape, layer.weight.shape, type(layer).__name__
    ((2, 3), (3, 5), 'Linear')
    """

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        self._lazy_init(device, dtype)
        Linear.__init__(self, 0, out_features, bias=False, device=device, dtype=dtype)
        self._lazy_setup(weight=True, bias=bias)

    def initialize_parameters(self, input, *args):
        if self.has_uninitialized_params():
            self.in_features = fnp.asarray(input).shape[-1]
            self.weight.materialize((self.out_features, self.in_features))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
            self._materialized()


class _LazyConv(_LazyModule):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None, output_padding=0):
        self._lazy_init(device, dtype)
        extra = {"output_padding": output_padding} if self.cls_to_become._transposed else {"padding_mode": padding_mode}
        # PyTorch builds the eager layer with in_channels = out_channels = 0 (all divisible by groups), then
        # sets the real out_channels.
        self.cls_to_become.__init__(self, 0, 0, kernel_size, stride=stride, padding=padding, dilation=dilation,
                                    groups=groups, bias=False, device=device, dtype=dtype, **extra)
        self.out_channels = out_channels
        if out_channels % groups:
            raise ValueError(f"{type(self).__name__}: out_channels ({out_channels}) must be divisible by groups "
                             f"({groups})")
        self._lazy_setup(weight=True, bias=bias)

    def initialize_parameters(self, input, *args):
        if not self.has_uninitialized_params():
            return
        x = fnp.asarray(input)
        nd = self._nd
        if x.ndim not in (nd + 1, nd + 2):
            raise ValueError(f"{type(self).__name__}: expected a {nd + 1}-d (unbatched) or {nd + 2}-d (batched) "
                             f"input, got shape {x.shape}")
        self.in_channels = x.shape[1] if x.ndim == nd + 2 else x.shape[0]
        if self.in_channels % self.groups:
            raise ValueError(f"{type(self).__name__}: in_channels ({self.in_channels}) must be divisible by groups "
                             f"({self.groups})")
        shape = ((self.in_channels, self.out_channels // self.groups) if self._transposed else
                 (self.out_channels, self.in_channels // self.groups)) + self.kernel_size
        self.weight.materialize(shape)
        if self.bias is not None:
            self.bias.materialize((self.out_channels,))
        self._materialized()


def _lazy_conv(base, doc):
    def __init__(self, out_channels, kernel_size, stride=1, padding=0, *rest, **kwargs):
        names = (("output_padding", "groups", "bias", "dilation") if base._transposed else
                 ("dilation", "groups", "bias", "padding_mode"))
        kwargs.update(zip(names, rest))  # PyTorch's positional order, which differs between the two kinds
        _LazyConv.__init__(self, out_channels, kernel_size, stride, padding, **kwargs)
    return type("Lazy" + base.__name__, (_LazyConv, base), {"cls_to_become": base, "__init__": __init__,
                                                           "__doc__": doc, "__module__": __name__})


LazyConv1d = _lazy_conv(Conv1d, "A :class:`~fnx.nn.Conv1d` whose ``in_channels`` comes from its first input "
                                "(``torch.nn.LazyConv1d``).")
LazyConv2d = _lazy_conv(Conv2d, "A :class:`~fnx.nn.Conv2d` whose ``in_channels`` comes from its first input "
                                "(``torch.nn.LazyConv2d``).")
LazyConv3d = _lazy_conv(Conv3d, "A :class:`~fnx.nn.Conv3d` whose ``in_channels`` comes from its first input "
                                "(``torch.nn.LazyConv3d``).")
LazyConvTranspose1d = _lazy_conv(ConvTranspose1d, "``torch.nn.LazyConvTranspose1d``.")
LazyConvTranspose2d = _lazy_conv(ConvTranspose2d, "``torch.nn.LazyConvTranspose2d``.")
LazyConvTranspose3d = _lazy_conv(ConvTranspose3d, "``torch.nn.LazyConvTranspose3d``.")


class _LazyNorm(_LazyModule):
    """PyTorch's ``_LazyNormBase``: ``num_features`` is the size of the first input's dimension 1."""

    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None):
        self._lazy_init(device, dtype)
        self.cls_to_become.__init__(self, 0, eps, momentum, False, False, device, dtype)
        self.affine, self.track_running_stats = affine, track_running_stats
        self._lazy_setup(weight=affine, bias=affine)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(device=device, dtype=dtype)
            self.running_var = UninitializedBuffer(device=device, dtype=dtype)
            self.num_batches_tracked = fnp.zeros((), dtype=fnp.int64, device=device)

    def initialize_parameters(self, input, *args):
        if not self.has_uninitialized_params():
            return
        self.num_features = fnp.asarray(input).shape[1]
        for name in ("weight", "bias", "running_mean", "running_var"):
            slot = getattr(self, name)
            if slot is not None:
                slot.materialize((self.num_features,))
        self._materialized()


def _lazy_norm(base, doc):
    return type("Lazy" + base.__name__, (_LazyNorm, base), {"cls_to_become": base, "__doc__": doc,
                                                           "__module__": __name__})


LazyBatchNorm1d = _lazy_norm(BatchNorm1d, "A :class:`~fnx.nn.BatchNorm1d` whose ``num_features`` comes from its "
                                          "first input (``torch.nn.LazyBatchNorm1d``).")
LazyBatchNorm2d = _lazy_norm(BatchNorm2d, "``torch.nn.LazyBatchNorm2d``: see :class:`LazyBatchNorm1d`.")
LazyBatchNorm3d = _lazy_norm(BatchNorm3d, "``torch.nn.LazyBatchNorm3d``: see :class:`LazyBatchNorm1d`.")
LazyInstanceNorm1d = _lazy_norm(InstanceNorm1d, "An :class:`~fnx.nn.InstanceNorm1d` whose ``num_features`` comes "
                                                "from its first input (``torch.nn.LazyInstanceNorm1d``; like "
                                                "PyTorch's, affine and tracking running statistics by default).")
LazyInstanceNorm2d = _lazy_norm(InstanceNorm2d, "``torch.nn.LazyInstanceNorm2d``: see :class:`LazyInstanceNorm1d`.")
LazyInstanceNorm3d = _lazy_norm(InstanceNorm3d, "``torch.nn.LazyInstanceNorm3d``: see :class:`LazyInstanceNorm1d`.")
