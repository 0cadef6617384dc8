"""fnx.nn: PyTorch-style modules over the functional core."""
from .parameter import Parameter
