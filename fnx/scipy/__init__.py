"""fnx.scipy: differentiable SciPy functions."""
from . import special
