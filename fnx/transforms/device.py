"""Device placement: the ``device_put`` primitive and the ``on_device`` transform.

Computation follows data: an operation runs where its operands live, and fnx
refuses operands on two devices rather than moving one silently. Moving data is
explicit, through ``device_put``, and it is a primitive like any other: its JVP
moves the tangent, its VJP moves the cotangent back to where the input was (so
gradients land on the device of the input they belong to), and its batching rule
moves the batch. ``on_device(f, device)`` runs ``f`` on ``device``: it moves
the array inputs there and makes it the default device for arrays ``f`` creates.
"""
import functools

import numpy as np

from ..core import backend, tree as tree_util
from ..core.array import Array
from ..core.primitive import ShapedArray, defprim


def _device_put_impl(xp, x, *, device):
    return backend.transfer(x, device)


def _device_put_jvp(primals, tangents, *, device):
    (x,), (t,) = primals, tangents
    return device_put_p.bind(x, device=device), device_put_p.bind(t, device=device)


device_put_p = defprim(
    "device_put", impl=_device_put_impl,
    shape=lambda x, *, device: ShapedArray(x.shape, x.dtype),
    jvp=_device_put_jvp,
    vjp=lambda ct, x, *, out, device: (device_put_p.bind(ct, device=x.device),),
    batch=lambda vals, bdims, *, device: (device_put_p.bind(vals[0], device=device), bdims[0]),
    transfers=True)


def device_put(tree, device=None):
    """``tree``'s arrays on ``device`` (default: the default device); copies, or a no-op when already there.

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.device_put({"w": fnp.ones(2)}, "cpu")["w"].device
    cpu:0
    """
    from .. import numpy as fnp
    dev = backend.get_default_device() if device is None else backend.parse_device(device)

    def put(x):
        x = x if isinstance(x, Array) else fnp.asarray(x, device=dev)
        return x if x.device is dev else device_put_p.bind(x, device=dev)
    return tree_util.map(put, tree)


def on_device(f, device):
    """``f`` run on ``device``: array inputs moved there, new arrays created there, array outputs returned
    there (an output ``f`` left elsewhere is moved).

    Composes with grad and vmap in any order; under ``grad``, gradients come back
    on the devices the inputs came from.

    >>> import fnx, fnx.numpy as fnp
    >>> fnx.on_device(lambda x: x * 2.0 + fnp.ones(2), "cpu")(fnp.ones(2)).device
    cpu:0
    """
    dev = backend.parse_device(device)

    def move(x):  # arrays move; Python scalars and other static values stay as they are
        return device_put(x, dev) if isinstance(x, (Array, np.ndarray)) else x

    @functools.wraps(f)
    def placed(*args, **kwargs):
        args, kwargs = tree_util.map(move, (args, kwargs))
        with backend.default_device(dev):
            out = f(*args, **kwargs)
        return tree_util.map(move, out)
    return placed
