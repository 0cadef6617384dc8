"""``torch.nn.modules``' import paths: ``from fnx.nn.modules.loss import _Loss``, ``fnx.nn.modules.Linear``,
``fnx.nn.modules.utils._pair``. fnx's layers live in ``fnx.nn.layers`` by family; each submodule here is a view
holding the names PyTorch's file of that name defines."""
import collections
import importlib
import itertools
import pkgutil
import sys
import types

from . import layers as _layers
from . import module as _module

_TORCH_FILES = {
    "activation": "Threshold ReLU RReLU Hardtanh ReLU6 Sigmoid Hardsigmoid Tanh SiLU Mish Hardswish ELU CELU SELU GLU "
                  "GELU Hardshrink LeakyReLU LogSigmoid Softplus Softshrink MultiheadAttention PReLU Softsign "
                  "Tanhshrink Softmin Softmax Softmax2d LogSoftmax",
    "adaptive": "AdaptiveLogSoftmaxWithLoss",
    "batchnorm": "_NormBase _BatchNorm BatchNorm1d LazyBatchNorm1d BatchNorm2d LazyBatchNorm2d BatchNorm3d "
                 "LazyBatchNorm3d SyncBatchNorm",
    "channelshuffle": "ChannelShuffle",
    "container": "Sequential ModuleList ModuleDict ParameterList ParameterDict",
    "conv": "_ConvNd Conv1d Conv2d Conv3d ConvTranspose1d ConvTranspose2d ConvTranspose3d LazyConv1d LazyConv2d "
            "LazyConv3d LazyConvTranspose1d LazyConvTranspose2d LazyConvTranspose3d",
    "distance": "PairwiseDistance CosineSimilarity",
    "dropout": "_DropoutNd Dropout Dropout1d Dropout2d Dropout3d AlphaDropout FeatureAlphaDropout",
    "flatten": "Flatten Unflatten",
    "fold": "Fold Unfold",
    "instancenorm": "_InstanceNorm InstanceNorm1d LazyInstanceNorm1d InstanceNorm2d LazyInstanceNorm2d InstanceNorm3d "
                    "LazyInstanceNorm3d",
    "linear": "Identity Linear Bilinear LazyLinear",
    "loss": "_Loss _WeightedLoss L1Loss NLLLoss PoissonNLLLoss GaussianNLLLoss KLDivLoss MSELoss BCELoss "
            "BCEWithLogitsLoss HingeEmbeddingLoss MultiLabelMarginLoss SmoothL1Loss HuberLoss SoftMarginLoss "
            "CrossEntropyLoss MultiLabelSoftMarginLoss CosineEmbeddingLoss MarginRankingLoss MultiMarginLoss "
            "TripletMarginLoss TripletMarginWithDistanceLoss CTCLoss",
    "module": "Module _IncompatibleKeys",
    "normalization": "LocalResponseNorm CrossMapLRN2d LayerNorm GroupNorm RMSNorm",
    "padding": "CircularPad1d CircularPad2d CircularPad3d _ConstantPadNd ConstantPad1d ConstantPad2d ConstantPad3d "
               "ReflectionPad1d ReflectionPad2d ReflectionPad3d ReplicationPad1d ReplicationPad2d ReplicationPad3d "
               "ZeroPad1d ZeroPad2d ZeroPad3d",
    "pixelshuffle": "PixelShuffle PixelUnshuffle",
    "pooling": "_MaxPoolNd MaxPool1d MaxPool2d MaxPool3d _MaxUnpoolNd MaxUnpool1d MaxUnpool2d MaxUnpool3d _AvgPoolNd "
               "AvgPool1d AvgPool2d AvgPool3d _LPPoolNd LPPool1d LPPool2d LPPool3d _AdaptiveMaxPoolNd "
               "AdaptiveMaxPool1d AdaptiveMaxPool2d AdaptiveMaxPool3d _AdaptiveAvgPoolNd AdaptiveAvgPool1d "
               "AdaptiveAvgPool2d AdaptiveAvgPool3d",
    "rnn": "RNNBase RNN LSTM GRU RNNCellBase RNNCell LSTMCell GRUCell",
    "sparse": "Embedding EmbeddingBag",
    "transformer": "Transformer TransformerEncoder TransformerDecoder TransformerEncoderLayer TransformerDecoderLayer",
    "upsampling": "Upsample UpsamplingNearest2d UpsamplingBilinear2d",
}


def _ntuple(n, name="parse"):
    """``torch.nn.modules.utils._ntuple``: a function repeating a single value ``n`` times (an iterable is kept,
    as a tuple)."""
    def parse(x):
        if isinstance(x, collections.abc.Iterable) and not isinstance(x, str):
            return tuple(x)
        return tuple(itertools.repeat(x, n))
    parse.__name__ = name
    return parse


def _reverse_repeat_tuple(t, n):
    """Each element of ``t`` repeated ``n`` times, in reverse order (``F.pad``'s widths from a conv's padding)."""
    return tuple(x for x in reversed(t) for _ in range(n))


def consume_prefix_in_state_dict_if_present(state_dict, prefix):
    """Strips ``prefix`` from the keys of ``state_dict`` that have it, in place (``"module."`` of a checkpoint
    saved from a DataParallel or DistributedDataParallel model)."""
    for key in list(state_dict):
        if key.startswith(prefix):
            state_dict[key[len(prefix):]] = state_dict.pop(key)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        for key in list(metadata):
            if key and (key == prefix.replace(".", "") or key.startswith(prefix)):
                metadata[key[len(prefix):]] = metadata.pop(key)


def _install():
    package = sys.modules[__name__]
    sources = [sys.modules["fnx.nn"], _module] + [importlib.import_module(f"{_layers.__name__}.{info.name}")
                                                  for info in pkgutil.iter_modules(_layers.__path__)]
    for file, names in _TORCH_FILES.items():
        view = types.ModuleType(f"{__name__}.{file}", f"``torch.nn.modules.{file}``: {names.split()[0]}...")
        for name in names.split():
            setattr(view, name, next(getattr(s, name) for s in sources if hasattr(s, name)))
            if not name.startswith("_"):
                setattr(package, name, getattr(view, name))
        sys.modules[view.__name__] = view
        setattr(package, file, view)
    utils = types.ModuleType(f"{__name__}.utils", "``torch.nn.modules.utils``: argument tuples and state-dict keys.")
    utils._single, utils._pair, utils._triple, utils._quadruple = (_ntuple(n, f"_{w}") for n, w in
                                                                   ((1, "single"), (2, "pair"), (3, "triple"),
                                                                    (4, "quadruple")))
    utils._ntuple, utils._reverse_repeat_tuple = _ntuple, _reverse_repeat_tuple
    utils.consume_prefix_in_state_dict_if_present = consume_prefix_in_state_dict_if_present
    sys.modules[utils.__name__] = utils
    package.utils = utils


_install()
