"""``jax.flatten_util``: a pytree of arrays as one flat vector, and back.

>>> import fnx, fnx.numpy as fnp
>>> from fnx.flatten_util import ravel_pytree
>>> flat, unravel = ravel_pytree({"b": fnp.ones(2), "w": fnp.zeros((2, 2))})
>>> flat
Array([1., 1., 0., 0., 0., 0.], dtype=float32)
>>> unravel(flat * 2)["b"]
Array([2., 2.], dtype=float32)
"""
import math

from . import numpy as fnp
from .core import tree as tree_util
from .errors import DTypeError, ShapeError

__all__ = ["ravel_pytree"]


def ravel_pytree(pytree):
    """``(flat, unravel)``: the leaves of ``pytree`` raveled and concatenated, in ``tree.leaves`` order, in
    their common dtype (NumPy's promotion), and the function that splits such a vector back into the tree,
    each leaf in its own shape and dtype. Differentiable both ways.

    Raises (from ``unravel``):
      ShapeError: a vector of another shape than ``flat``'s.
      DTypeError: a vector of another dtype than ``flat``'s.
    """
    leaves, treedef = tree_util.flatten(pytree)
    leaves = [fnp.asarray(leaf) for leaf in leaves]
    shapes = [leaf.shape for leaf in leaves]
    dtypes = [leaf.dtype for leaf in leaves]
    dtype = fnp.result_type(*dtypes) if dtypes else fnp.zeros(0).dtype
    flat = fnp.concatenate([fnp.ravel(leaf).astype(dtype) for leaf in leaves]) if leaves else fnp.zeros(0, dtype)
    sizes = [math.prod(shape) for shape in shapes]

    def unravel(vector):
        vector = fnp.asarray(vector)
        if vector.shape != flat.shape:
            raise ShapeError(f"ravel_pytree's unravel: expected a vector of shape {flat.shape}, got {vector.shape}")
        if vector.dtype != flat.dtype:
            raise DTypeError(f"ravel_pytree's unravel: expected a vector of dtype {flat.dtype}, got {vector.dtype}")
        out, start = [], 0
        for shape, size, dt in zip(shapes, sizes, dtypes):
            out.append(fnp.reshape(vector[start:start + size], shape).astype(dt))
            start += size
        return treedef.unflatten(out)

    return flat, unravel
