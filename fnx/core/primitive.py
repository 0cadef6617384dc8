"""Primitives: each operation defined once, with every rule it needs.

A primitive is a named operation that transforms know how to handle without
knowing which operation it is. Its definition carries:

* ``impl(xp, *values, **params)``: the computation, against the array namespace
  ``xp`` of the operands' backend (numpy or cupy). The only code that does maths
  on payloads.
* ``shape(*avals, **params)``: the output's ``ShapedArray`` (shape and dtype)
  from the inputs' avals, without computing anything.
* ``jvp(primals, tangents, **params) -> (out, tangent_out)``: forward mode. A
  tangent of ``None`` is a symbolic zero.
* ``vjp(ct, *primals, out=..., **params) -> tuple``: reverse mode, one
  cotangent (or ``None``) per input.
* ``batch(values, bdims, **params) -> (out, out_bdim)``: the vmap rule.

Rules are written with fnx operations, never with numpy, so that a rule can be
traced again: that is what makes ``grad(grad(f))`` and ``jvp(vjp)`` work.

Operations whose outputs carry no derivative (comparisons, ``argmax``) say so
with ``jvp=vjp=NOT_DIFFERENTIABLE``; a rule that does not exist yet is an
explicit :class:`Missing` marker with a reason, never a silent gap.
"""
from types import MappingProxyType


class ShapedArray:
    """The abstract value of an array: its shape and dtype."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape = tuple(shape)
        self.dtype = dtype

    @property
    def ndim(self):
        return len(self.shape)

    def __eq__(self, other):
        return isinstance(other, ShapedArray) and self.shape == other.shape and self.dtype == other.dtype

    def __hash__(self):
        return hash((self.shape, self.dtype))

    def __repr__(self):
        return f"{self.dtype}{list(self.shape)}"


class Abstract(ShapedArray):
    """A value reverse mode did not keep: its shape, dtype and device, no data.

    A VJP rule that declared (through ``residuals``) that it does not read an
    operand receives this in its place; reading data from it fails loudly.
    """

    __slots__ = ("device",)

    def __init__(self, shape, dtype, device):
        self.shape, self.dtype, self.device = shape, dtype, device

    @property
    def size(self):
        n = 1
        for d in self.shape:
            n *= d
        return n

    def __repr__(self):
        return f"Abstract({self.dtype}{list(self.shape)} on {self.device})"


class _NotDifferentiable:
    """Marks a primitive whose outputs are integers, booleans or piecewise constant."""

    def __repr__(self):
        return "NOT_DIFFERENTIABLE"


NOT_DIFFERENTIABLE = _NotDifferentiable()


class Missing:
    """A rule that is deliberately absent; calling it raises with the reason."""

    def __init__(self, reason):
        self.reason = reason

    def __call__(self, *args, **kwargs):
        raise NotImplementedError(self.reason)

    def __repr__(self):
        return f"Missing({self.reason!r})"


class Primitive:
    """A named operation with its implementation and transformation rules.

    ``smooth`` says whether second derivatives exist almost everywhere (used by
    the test-suite and by ``fnx.testing`` to decide which orders to check), and
    ``domain`` names the inputs it is defined on (``"real"``, ``"positive"``,
    ``"unit_interval"``, ...), so random programs can draw valid inputs.
    ``kind`` is ``"unary"`` or ``"binary"`` for elementwise operations without
    parameters on same-shape operands: such a primitive can be dropped into a
    random program (``fnx.testing.strategies.programs``) with no further help.

    ``kinks(xp, *values, **params)``, for a primitive that is not smooth, gives
    how far its operands are from the nearest point where it has no derivative
    (or jumps): an array whose smallest entry is that distance. Gradient checks
    use it to keep central differences from straddling a kink.

    ``residuals`` says what the VJP rule reads, so reverse mode keeps only that
    (``None``: everything). A set of ``"inputs"`` (every input), ``"partners"``
    (an input only when another input is traced: ``x * y`` needs ``y`` for
    ``x``'s cotangent), ``"out"`` and, for a primitive with several outputs,
    ``"out0"``, ``"out1"``... (that output only). An input not kept reaches the
    rule as an :class:`Abstract` value (a shape, dtype and device, no data), a
    single output not kept as None.

    ``ufunc``, for an elementwise primitive whose impl is one call of the
    backend's ufunc of that name (``"add"``), lets ``jit`` pass it an ``out=``
    buffer: a dead input's memory, reused when the graph proves nobody sees it.

    ``transfers`` marks a primitive whose output lives on the device named by
    its ``device`` parameter rather than on its operands' (``device_put``).

    ``collective`` marks a primitive that communicates across a named ``vmap``
    axis (``fnx.lax.psum``), or runs functions that may (``cond``'s branches, a
    custom function's body): its batching rule is also handed the batch's
    ``(axis_name, axis_size)``, to tell its own axis from the ones it passes through.

    ``symbolic_zeros``, for a primitive with several outputs, hands its VJP rule
    None (rather than an array of zeros) as the cotangent of an output nobody
    differentiated, as JAX's ``custom_vjp(symbolic_zeros=True)`` does.

    ``piecewise_constant`` marks a primitive with a floating output whose derivative
    is zero wherever it exists (``floor``, ``sign``): it is declared not differentiable,
    so the transforms treat its output as a constant, while the ``backward()`` tape,
    as PyTorch does, still makes its output require grad, with a zero gradient.

    ``relabels`` marks a primitive whose output is its first operand's value unchanged
    (``checkpoint_name``'s tag): a checkpoint policy that keeps its output keeps what
    computed its operand too.
    """

    __slots__ = ("name", "impl", "shape", "jvp", "vjp", "batch", "multiple_results",
                 "smooth", "domain", "kind", "kinks", "residuals", "ufunc", "transfers", "collective",
                 "symbolic_zeros", "relabels", "piecewise_constant", "__weakref__")

    def __init__(self, name, impl, shape, jvp=None, vjp=None, batch=None,
                 multiple_results=False, smooth=True, domain="real", kind=None, kinks=None, residuals=None,
                 ufunc=None, transfers=False, collective=False, symbolic_zeros=False, relabels=False,
                 piecewise_constant=False):
        self.name = name
        self.impl = impl
        self.shape = shape
        self.jvp = jvp if jvp is not None else Missing(f"{name}: no JVP rule")
        self.vjp = vjp if vjp is not None else Missing(f"{name}: no VJP rule")
        self.batch = batch if batch is not None else Missing(f"{name}: no batching rule")
        self.multiple_results = multiple_results
        self.smooth = smooth
        self.domain = domain
        self.kind = kind
        self.kinks = kinks
        self.ufunc = ufunc
        self.transfers = transfers
        self.collective = collective
        self.symbolic_zeros = symbolic_zeros
        self.relabels = relabels
        self.piecewise_constant = piecewise_constant
        self.residuals = None if residuals is None else frozenset(residuals)
        if self.residuals is not None and any(r not in ("inputs", "partners", "out") and not
                                              (multiple_results and r[:3] == "out" and r[3:].isdigit())
                                              for r in self.residuals):
            raise ValueError(f"primitive {name}: residuals must name 'inputs', 'partners', 'out' or (with "
                             f"several outputs) 'out0', 'out1'..., got {sorted(self.residuals)}")

    @property
    def differentiable(self):
        return self.vjp is not NOT_DIFFERENTIABLE

    def bind(self, *args, **params):
        return _bind(self, args, params)

    def __repr__(self):
        return f"<primitive {self.name}>"


_registry = {}
_frozen = [False]

#: Every primitive fnx defines, by name. Read-only once fnx has been imported.
registry = MappingProxyType(_registry)


def defprim(name, impl, shape, jvp=None, vjp=None, batch=None, **flags):
    """Defines and registers a primitive; see :class:`Primitive` for the fields."""
    if _frozen[0]:
        raise RuntimeError(f"defprim({name!r}): the primitive registry is frozen after import; "
                           "build a throw-away fnx.core.Primitive instead")
    if name in _registry:
        raise ValueError(f"defprim: primitive {name!r} is already defined")
    prim = Primitive(name, impl, shape, jvp, vjp, batch, **flags)
    _registry[name] = prim
    return prim


def freeze_registry():
    for prim in _registry.values():
        for rule in ("impl", "shape"):
            if not callable(getattr(prim, rule)):
                raise TypeError(f"primitive {prim.name}: {rule} is not callable")
    _frozen[0] = True


def _bind(prim, args, params):  # replaced by trace.bind once trace.py is imported
    raise RuntimeError("fnx.core.trace is not initialised")
