"""fnx exceptions.

Each one subclasses the builtin a user would catch for the same mistake, so
``except ValueError`` keeps working, while ``except fnx.errors.FnxError``
catches everything fnx raises on purpose.
"""
import numpy as np


class FnxError(Exception):
    """Base class of every error fnx raises deliberately."""


class ShapeError(FnxError, ValueError, RuntimeError):
    """Operands whose shapes do not fit the operation: a ValueError, as NumPy and JAX raise, and a RuntimeError,
    as PyTorch raises for the same mistakes (a wrong number of channels, a mask of the wrong shape)."""


class ImplicitGradError(ShapeError, RuntimeError):
    """``backward()`` of an output of several elements with no gradient given: a ShapeError, and the
    RuntimeError PyTorch raises there, so that either ``except`` catches it."""


class ValueRangeError(FnxError, ValueError, RuntimeError):
    """Values outside what the operation accepts (class indices past num_classes, probabilities outside
    [0, 1]): a ValueError, and a RuntimeError as PyTorch raises."""


class DTypeError(FnxError, TypeError):
    """Operands whose dtypes do not fit the operation."""


class DTypeArgumentError(DTypeError, ValueError):
    """A ``dtype=`` argument the operation cannot produce (``fnx.random.uniform(key, dtype="int32")``): a
    DTypeError, and the ValueError JAX raises for it."""


class GradDTypeError(DTypeError, RuntimeError):
    """An array of a dtype without derivatives (integers, bools) asked to require gradients; also a
    RuntimeError, as PyTorch raises one."""


class DeviceError(FnxError, ValueError, RuntimeError):
    """Operands on different devices, or an unknown device: a ValueError, as JAX raises, and a RuntimeError, as
    PyTorch raises ("Expected all tensors to be on the same device")."""


class UnknownBackendError(DeviceError, RuntimeError):
    """A platform that is unknown or has no usable device (``jit(backend="tpu")``); a RuntimeError as JAX's."""


class TracerError(FnxError, TypeError):
    """A traced value used where a concrete one is needed."""


class EscapedTracerError(TracerError):
    """A traced value used after the transform that made it returned (JAX's ``UnexpectedTracerError``)."""


UnexpectedTracerError = EscapedTracerError


# JAX's classes for a traced value turned into a concrete one, by the conversion asked for; each is a
# TracerError, so ``except TypeError`` and ``except fnx.errors.TracerError`` catch them all.

class ConcretizationTypeError(TracerError):
    """A traced value needed as a concrete one: ``int()``, ``float()``, ``.item()``, or a shape that would depend
    on its values (JAX's ``ConcretizationTypeError``)."""


class TracerBoolConversionError(ConcretizationTypeError):
    """``bool()`` of a traced value, as an ``if`` or a ``while`` asks for it (JAX's ``TracerBoolConversionError``)."""


class TracerIntegerConversionError(TracerError):
    """A traced value used as a Python index, through ``__index__`` (JAX's ``TracerIntegerConversionError``)."""


class NonConcreteSliceError(TracerIntegerConversionError, IndexError):
    """A traced value as a slice's start, stop or step (``x[:n]`` with ``n`` traced): an IndexError, as JAX
    raises for slice entries that are not static integers."""


class TracerArrayConversionError(TracerError):
    """A traced value converted to a NumPy array (JAX's ``TracerArrayConversionError``)."""


class NonConcreteBooleanIndexError(TracerError, IndexError):
    """A traced boolean mask used as an index, whose result's shape would depend on its values; an IndexError,
    as JAX's ``NonConcreteBooleanIndexError`` is."""


_CONVERSION_ERRORS = {"bool()": TracerBoolConversionError, "__index__": TracerIntegerConversionError,
                      "numpy.asarray": TracerArrayConversionError, "__dlpack__": TracerArrayConversionError}


def conversion_error(what, message):
    """The error for the conversion ``what`` (``"bool()"``, ``"int()"``, ...) of a traced value: JAX's class
    for it, or a ConcretizationTypeError."""
    return _CONVERSION_ERRORS.get(what, ConcretizationTypeError)(message)


class TangentDTypeError(DTypeError, ValueError):
    """A tangent or cotangent whose dtype is not its primal's (JAX raises TypeError from ``jvp`` and
    ValueError from a ``vjp`` pullback: this is both)."""


class ArgnumsError(FnxError, ValueError, TypeError):
    """``argnums`` that name an argument the call did not pass positionally: a TypeError, as JAX raises, and a
    ValueError, as fnx raised before."""


class StaticArgumentError(FnxError, ValueError, TypeError):
    """A static argument of ``jit`` that cannot be part of its cache key (not hashable).

    Python raises TypeError for an unhashable value and ``jax.jit`` a ValueError: this is both.
    """


class ImmutableError(FnxError, TypeError):
    """An attempt to mutate an immutable fnx array."""


class InPlaceError(ImmutableError, AttributeError):
    """PyTorch's in-place method (``x.mul_(2)``) called on an immutable array; an AttributeError too, as
    code written for arrays without such methods expects."""


class LoopDifferentiationError(FnxError, ValueError, TypeError):
    """Reverse mode through a loop that keeps no iterations to go back through (a ``while_loop`` inside
    ``jit``): a ValueError, as in JAX."""


class TreeError(FnxError, ValueError):
    """Pytrees whose structures do not match."""


class CarryTypeError(FnxError, TypeError):
    """A loop body (scan, fori_loop, while_loop) returned a carry of another structure, shape or dtype than it
    was given: a TypeError, as JAX raises."""


class ShapeTypeError(ShapeError, TypeError):
    """Shapes that do not fit where the reference library raises TypeError (NumPy's ``average`` of weights
    shaped unlike ``a`` without an axis): a ShapeError and a TypeError."""


class NonScalarOutputError(ShapeTypeError):
    """``grad`` of a function whose output is not a scalar: a ShapeError, and a TypeError as JAX raises."""


class AxisNameError(FnxError, NameError):
    """A collective (``fnx.lax.psum``...) naming an axis no enclosing ``vmap`` defines."""


class FactorizationError(FnxError, np.linalg.LinAlgError, RuntimeError):
    """A factorization that could not be completed (a matrix not positive-definite, or singular): NumPy's
    ``LinAlgError`` and, as PyTorch's ``torch.linalg.LinAlgError``, a RuntimeError."""


class GraphError(FnxError, RuntimeError):
    """A backward pass over a graph that was already freed, and similar misuse."""


class CheckpointError(FnxError, ValueError):
    """A checkpoint file that is truncated, corrupt or not written by fnx."""


class GradientCheckError(FnxError, AssertionError):
    """Analytic and numerical derivatives disagree (raised by fnx.testing)."""


class GradcheckError(GradientCheckError, RuntimeError):
    """``fnx.autograd.gradcheck``'s mismatch: also a RuntimeError, as PyTorch's ``GradcheckError`` is."""
