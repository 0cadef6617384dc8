"""Distance layers: ``CosineSimilarity`` and ``PairwiseDistance``, over ``F`` of the same names."""
from .. import functional as F
from ..module import Module

__all__ = ["CosineSimilarity", "PairwiseDistance"]


class CosineSimilarity(Module):
    """``x1 . x2 / (max(||x1||, eps) max(||x2||, eps))`` along ``dim`` (``torch.nn.CosineSimilarity``).

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.nn.CosineSimilarity(dim=1)(fnp.array([[1., 0.]]), fnp.array([[0., 2.]]))
    Array([0.], dtype=float32)
    """

    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """``||x1 - x2 + eps||_p`` along the last dimension (``torch.nn.PairwiseDistance``).

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.nn.PairwiseDistance(eps=0.0)(fnp.array([[3., 0.]]), fnp.array([[0., 4.]]))
    Array([5.], dtype=float32)
    """

    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
