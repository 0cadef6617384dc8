"""``jax.debug``'s printing and callbacks: values seen from inside ``jit``, ``vmap`` and ``grad``.

``fnx.debug.print("x = {}", x)`` formats with ``str.format`` on the values
(numpy arrays) each time the code runs: at every call of a jitted function,
once per example under ``vmap``, on the primal values under differentiation.

>>> import fnx, fnx.numpy as fnp
>>> fnx.vmap(lambda x: fnx.debug.print("{}", x))(fnp.arange(2))
0
1
"""
from .transforms.extras import debug_callback as callback, debug_print as print  # noqa: A001

__all__ = ["print", "callback"]
