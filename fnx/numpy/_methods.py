"""Python operators and method forms of fnx arrays, attached to ``Array`` once.

Every operator calls the public fnx.numpy function, so tracers (which subclass
Array) take the same path as concrete arrays.
"""
from ..core.array import Array
from . import creation, elementwise as el, indexing, reductions as red, shape as sh


def _swap(f):
    return lambda x, y: f(y, x)


_operators = {
    "__add__": el.add, "__radd__": _swap(el.add),
    "__sub__": el.subtract, "__rsub__": _swap(el.subtract),
    "__mul__": el.multiply, "__rmul__": _swap(el.multiply),
    "__truediv__": el.true_divide, "__rtruediv__": _swap(el.true_divide),
    "__pow__": el.power, "__rpow__": _swap(el.power),
    "__neg__": el.negative, "__pos__": el.positive,
    "__eq__": el.equal, "__ne__": el.not_equal, "__lt__": el.less, "__le__": el.less_equal,
    "__gt__": el.greater, "__ge__": el.greater_equal,
    "__getitem__": indexing.getitem,
}

_methods = {
    "sum": red.sum, "mean": red.mean, "reshape": lambda x, *shape, **kw: sh.reshape(
        x, shape[0] if len(shape) == 1 else shape, **kw),
    "astype": el.astype, "transpose": lambda x, *axes: sh.transpose(
        x, axes[0] if len(axes) == 1 else (axes or None)),
    "ravel": sh.ravel, "flatten": sh.ravel, "squeeze": sh.squeeze, "swapaxes": sh.swapaxes,
}

for _name, _fn in {**_operators, **_methods}.items():
    setattr(Array, _name, _fn)

Array.T = property(lambda x: sh.transpose(x))
Array.mT = property(lambda x: sh.swapaxes(x, -1, -2))
