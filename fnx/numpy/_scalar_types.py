"""jax.numpy's scalar types: ``fnp.float32`` is a dtype wherever one is expected and, called, an array.

``jnp.float32(1.5)`` and ``jnp.int32(x)`` are everyday JAX; NumPy's ``np.float32(1.5)``
makes a scalar the same way. Each name here stands for one dtype: NumPy reads it as
that dtype (through its ``dtype`` attribute), it compares and hashes as the dtype, and
calling it converts its argument to an fnx array of that dtype (a differentiable cast
for arrays, as ``astype``).
"""
import numpy as np


class ScalarType:
    """A dtype that converts what it is called with: ``fnp.float32(1.5)`` is ``Array(1.5, dtype=float32)``.

    >>> import numpy as np, fnx.numpy as fnp
    >>> fnp.float32(1.5), fnp.int32([1.7, -2.2])
    (Array(1.5, dtype=float32), Array([ 1, -2], dtype=int32))
    >>> fnp.zeros(2, fnp.float64).dtype == fnp.float64, np.dtype(fnp.int8), fnp.finfo(fnp.float16).bits
    (True, dtype('int8'), 16)
    """

    __slots__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    def __call__(self, x):
        from ..core.array import Array
        from .creation import asarray
        from .elementwise import astype
        if isinstance(x, Array):
            return astype(x, self.dtype)
        if type(x) is int:  # out of the dtype's range: OverflowError, as numpy.uint8(300) and jnp.uint8(300) raise
            return asarray(np.asarray(x, dtype=self.dtype))
        # Python numbers and lists straight to the dtype: through the default float32 they would lose digits
        with np.errstate(invalid="ignore"):  # float to int truncates, as numpy's and JAX's conversions do
            return asarray(np.asarray(x).astype(self.dtype))

    def __eq__(self, other):
        if isinstance(other, ScalarType):
            return self.dtype == other.dtype
        try:
            return self.dtype == np.dtype(other)
        except TypeError:
            return NotImplemented

    def __hash__(self):
        return hash(self.dtype)

    def __getattr__(self, name):  # itemsize, kind, name, char...: the dtype's
        return getattr(self.dtype, name)

    def __repr__(self):
        return f"<class 'fnx.numpy.{self.dtype.name}'>"

    def __reduce__(self):
        return ScalarType, (self.dtype,)


bool_, int8, int16, int32, int64, uint8, uint16, uint32, uint64, float16, float32, float64, complex64, complex128 = (
    ScalarType(t) for t in (np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
                            np.uint64, np.float16, np.float32, np.float64, np.complex64, np.complex128))
