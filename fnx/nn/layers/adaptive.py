"""``AdaptiveLogSoftmaxWithLoss``: the adaptive softmax of Grave et al. for large vocabularies.

The ``head`` scores the ``cutoffs[0]`` most frequent classes (the shortlist)
and one entry per tail cluster; each cluster's classes are scored by a
two-layer projection of reduced size (``in_features / div_value ** (i + 1)``).
PyTorch runs each cluster on the rows whose target falls in it; here every
cluster scores every row and ``where`` picks the target's entry, so the shapes
do not depend on the target values, at the cost of the
tail projections of the rows that do not need them.
"""
from collections import namedtuple

from ... import numpy as fnp
from ...errors import ShapeError
from .. import functional as F
from ..module import Module
from .containers import ModuleList, Sequential
from .linear import Linear

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Efficient softmax approximation for many classes (``torch.nn.AdaptiveLogSoftmaxWithLoss``).

    Grave, Joulin, Cissé, Grangier and Jégou, "Efficient softmax approximation
    for GPUs" (ICML 2017). ``forward(input, target)`` returns ``(output,
    loss)``: the log-probability of each target and the mean negative of them.
    ``log_prob(input)`` gives every class's log-probability, ``predict(input)``
    the most likely class. Parameter names are PyTorch's (``head.weight``,
    ``tail.0.0.weight``, ``tail.0.1.weight``...).

    Raises:
      ValueError: cutoffs that are not unique increasing integers in ``[1, n_classes - 1]``.

    >>> import fnx, fnx.numpy as fnp
    >>> asm = fnx.nn.AdaptiveLogSoftmaxWithLoss(16, 10, cutoffs=[4, 7])
    >>> out, loss = asm(fnp.ones((3, 16)), fnp.array([0, 5, 9]))
    >>> out.shape, loss.shape, asm.log_prob(fnp.ones((3, 16))).shape
    ((3,), (), (3, 10))
    """

    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False, device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in an increasing "
                             "order, where each value is between 1 and n_classes-1")
        kw = dict(device=device, dtype=dtype)
        self.in_features, self.n_classes = in_features, n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value, self.head_bias = div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, **kw)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(in_features // (div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hsz, bias=False, **kw),
                                        Linear(hsz, osz, bias=False, **kw)))

    def reset_parameters(self):
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input, target):
        x, t = fnp.asarray(input), fnp.asarray(target)
        if t.ndim == 1:
            if x.ndim != 2 or x.shape[0] != t.shape[0]:
                raise ShapeError(f"AdaptiveLogSoftmaxWithLoss: a 1D target needs a 2D input of the same batch size, "
                                 f"got input {x.shape} and target {t.shape}")
        elif t.ndim == 0:
            if x.ndim != 1:
                raise ShapeError(f"AdaptiveLogSoftmaxWithLoss: a 0D target needs a 1D input, got input {x.shape}")
        else:
            raise ShapeError(f"AdaptiveLogSoftmaxWithLoss: 0D or 1D target tensor expected, multi-target not "
                             f"supported (got shape {t.shape})")
        batched = t.ndim > 0
        if not batched:
            x, t = fnp.expand_dims(x, 0), fnp.expand_dims(t, 0)
        values = F._peek(t)
        if values is not None and values.size and (values.min() < 0 or values.max() >= self.n_classes):
            raise IndexError(f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                             f"[{values.min()}, {values.max()}] were found.")
        head_logprob = F.log_softmax(self.head(x), dim=1)
        gather = t  # a shortlist target reads its own head entry; a tail target its cluster's
        output = fnp.zeros(t.shape, dtype=head_logprob.dtype, device=head_logprob.device)
        for i in range(self.n_clusters):
            low, high = self.cutoffs[i], self.cutoffs[i + 1]
            inside = (t >= low) & (t < high)
            local = fnp.where(inside, t - low, 0)
            cluster_logprob = F.log_softmax(self.tail[i](x), dim=1)
            picked = fnp.take_along_axis(cluster_logprob, local[:, None], axis=1)[:, 0]
            output = output + fnp.where(inside, picked, 0.0)
            gather = fnp.where(inside, self.shortlist_size + i, gather)
        output = output + fnp.take_along_axis(head_logprob, gather[:, None], axis=1)[:, 0]
        loss = fnp.mean(-output)
        return _ASMoutput(output if batched else output[0], loss)

    def log_prob(self, input):
        """The log-probability of every class, ``(N, n_classes)``."""
        x = fnp.asarray(input)
        head_logprob = F.log_softmax(self.head(x), dim=1)
        parts = [head_logprob[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster_logprob = F.log_softmax(self.tail[i](x), dim=1)
            parts.append(cluster_logprob + head_logprob[:, self.shortlist_size + i][:, None])
        return fnp.concatenate(parts, axis=1)

    def predict(self, input):
        """The most likely class of each row (the head's choice when it is in the shortlist, which then wins
        over every tail class as well)."""
        return fnp.argmax(self.log_prob(input), axis=1)


