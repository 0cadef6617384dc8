"""``Embedding``: a lookup table of learned vectors, one row per index.

The weight starts ``N(0, 1)`` as in PyTorch, with the ``padding_idx`` row
zeroed; that row also receives no gradient (``F.embedding`` stops it). With
``max_norm``, PyTorch renormalises the looked-up rows of the weight in place;
here the Parameter is rebound to the renormalised weight, which is the same
observable effect.
"""
from ... import numpy as fnp
from ...errors import ShapeError
from ...transforms.autodiff import no_grad
from .. import functional as F
from .. import init
from ..module import Module
from ..parameter import Parameter
from .linear import _empty

__all__ = ["Embedding"]


def _table(module, name, num_embeddings, embedding_dim, padding_idx, weight, device, dtype):
    """Sets the sizes, ``padding_idx`` (checked, made non-negative) and ``weight`` Parameter of a table:
    ``weight`` when given (of shape ``(num_embeddings, embedding_dim)``), else initialised."""
    if padding_idx is not None:
        if not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(f"{name}: padding_idx ({padding_idx}) must be within num_embeddings "
                             f"({num_embeddings})")
        padding_idx %= num_embeddings
    module.num_embeddings, module.embedding_dim, module.padding_idx = num_embeddings, embedding_dim, padding_idx
    if weight is None:
        module.weight = _empty((num_embeddings, embedding_dim), device, dtype)
        module.reset_parameters()
    else:
        w = fnp.asarray(weight)
        if w.shape != (num_embeddings, embedding_dim):
            raise ShapeError(f"{name}: shape of weight {w.shape} does not match num_embeddings and "
                             f"embedding_dim ({num_embeddings}, {embedding_dim})")
        module.weight = Parameter(w)


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, indexed by integer input
    (``torch.nn.Embedding``); the output has shape ``input.shape + (embedding_dim,)``.

    >>> import fnx, fnx.numpy as fnp
    >>> emb = fnx.nn.Embedding(10, 3, padding_idx=0)
    >>> emb
    Embedding(10, 3, padding_idx=0)
    >>> emb(fnp.array([[0, 4], [9, 0]])).shape
    (2, 2, 3)
    >>> emb.weight.data[0]
    Array([0., 0., 0.], dtype=float32)
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None, dtype=None):
        super().__init__()
        _table(self, "Embedding", num_embeddings, embedding_dim, padding_idx, _weight, device, dtype)
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        self.weight.requires_grad_(not _freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self):
        if self.padding_idx is not None:
            with no_grad():
                self.weight.set_(self.weight.primal.at[self.padding_idx].set(0))

    def _renorm(self, idx):
        """Rebinds the rows of the weight that ``idx`` selects to norm at most ``max_norm``."""
        with no_grad():
            w = self.weight.primal
            hit = fnp.zeros(w.shape[0], dtype=bool).at[fnp.reshape(idx, (-1,))].set(True)
            norm = fnp.linalg.norm(w, ord=self.norm_type, axis=1)
            scale = fnp.where(hit & (norm > self.max_norm), self.max_norm / (norm + 1e-7), 1.0)
            self.weight.set_(w * fnp.astype(scale, w.dtype)[:, None])

    def forward(self, input):
        if self.max_norm is not None and isinstance(self.weight, Parameter):
            self._renorm(fnp.asarray(input))
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, sparse=False):
        """An Embedding holding ``embeddings`` (2-d) as its weight; ``freeze`` turns off its gradient.

        >>> import fnx, fnx.numpy as fnp
        >>> emb = fnx.nn.Embedding.from_pretrained(fnp.eye(3))
        >>> emb(fnp.array([2])), emb.weight.requires_grad
        (Array([[0., 0., 1.]], dtype=float32), False)
        """
        w = fnp.asarray(embeddings)
        if w.ndim != 2:
            raise ShapeError(f"Embedding.from_pretrained: embeddings must be 2-dimensional, got shape {w.shape}")
        return cls(w.shape[0], w.shape[1], padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                   _weight=w, _freeze=freeze)


__all__ += ["EmbeddingBag"]


class EmbeddingBag(Module):
    """Sums or averages (or maxes) bags of embeddings without building the per-index rows output
    (``torch.nn.EmbeddingBag``); ``forward(input, offsets=None, per_sample_weights=None)`` as
    ``F.embedding_bag``. The weight starts ``N(0, 1)`` with the ``padding_idx`` row zeroed, and
    ``max_norm`` rebinds the looked-up rows to that norm, as :class:`Embedding` does.

    >>> import fnx, fnx.numpy as fnp
    >>> bag = fnx.nn.EmbeddingBag(10, 3, mode="sum")
    >>> bag
    EmbeddingBag(10, 3, mode='sum')
    >>> bag(fnp.array([1, 2, 4, 5, 4]), fnp.array([0, 2])).shape
    (2, 3)
    """

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None, device=None,
                 dtype=None):
        super().__init__()
        _table(self, "EmbeddingBag", num_embeddings, embedding_dim, padding_idx, _weight, device, dtype)
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset

    reset_parameters = Embedding.reset_parameters
    _fill_padding_idx_with_zero = Embedding._fill_padding_idx_with_zero
    _renorm = Embedding._renorm

    def forward(self, input, offsets=None, per_sample_weights=None):
        if self.max_norm is not None and isinstance(self.weight, Parameter):
            self._renorm(fnp.asarray(input))
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                               self.mode, self.sparse, per_sample_weights, self.include_last_offset,
                               self.padding_idx)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                        mode="mean", sparse=False, include_last_offset=False, padding_idx=None):
        """An EmbeddingBag holding ``embeddings`` (2-d) as its weight; ``freeze`` turns off its gradient."""
        w = fnp.asarray(embeddings)
        if w.ndim != 2:
            raise ShapeError(f"EmbeddingBag.from_pretrained: embeddings must be 2-dimensional, got shape {w.shape}")
        bag = cls(w.shape[0], w.shape[1], max_norm, norm_type, scale_grad_by_freq, mode, sparse, _weight=w,
                  include_last_offset=include_last_offset, padding_idx=padding_idx)
        bag.weight.requires_grad_(not freeze)
        return bag
