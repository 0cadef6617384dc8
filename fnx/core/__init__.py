"""The engine: arrays, primitives, tracing, dtypes, backends, pytrees."""
from .primitive import NOT_DIFFERENTIABLE, Missing, Primitive, ShapedArray, registry
