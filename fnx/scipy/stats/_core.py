"""What the distributions share: argument promotion, a concreteness probe, and the incomplete beta function.

Every distribution promotes its arguments the way the rest of ``fnx.scipy`` does:
Python scalars are weak (they take the dtype of the arrays beside them, the
default float when alone), integers compute in float64 and booleans in the
default float, as NumPy's arithmetic on them would.

The regularized incomplete beta function ``I_x(a, b)`` (behind ``beta.cdf``) is
a composition of fnx operations: the continued fraction of Numerical Recipes
(``betacf``, evaluated by the modified Lentz method), on the side of
``(a + 1) / (a + b + 2)`` where it converges fast, and the symmetry
``I_x(a, b) = 1 - I_(1-x)(b, a)`` on the other. Written in fnx operations, it
differentiates in all three arguments and batches under ``vmap``. On concrete
values (plain arrays, or values seen by ``grad``) it stops as soon as every
element has converged; under ``vmap`` and ``jit``, whose values are not known, it
runs a fixed number of steps (enough for ``a`` and ``b`` up to about 10^4).
"""
import numpy as np

from ... import numpy as fnp
from ...core import dtypes
from ...core.backend import data_device
from ...errors import DTypeError, TracerError
from ..special import betaln

_TRACED_STEPS = 300   # continued-fraction steps when values are not concrete
_MAX_STEPS = 2000     # the most steps on concrete values


def promote_args_inexact(opname, *args):
    """The arguments as fnx arrays of one real floating dtype (weak Python scalars, ints as float64)."""
    vals = [a if isinstance(a, (bool, int, float)) or hasattr(a, "dtype") else fnp.asarray(a) for a in args]
    dt = dtypes.result_type(*vals)
    if dt.kind == "b":
        dt = dtypes.default_float()
    elif dt.kind in "iu":
        dt = dtypes.float64
    elif dt.kind != "f":
        raise DTypeError(f"{opname}: expected real arguments, got {', '.join(str(fnp.asarray(v).dtype) for v in vals)}")
    with data_device(*vals):  # numbers (loc=0, scale=1) join the arrays' device
        return [fnp.asarray(v, dtype=dt) for v in vals]


def concrete(x):
    """``x`` as a numpy array when its value is known here (not under ``vmap`` or ``jit``), else None."""
    try:
        return np.asarray(x)
    except TracerError:
        return None


def _guard(v, tiny):
    """Lentz's guard: a denominator that came out (nearly) zero is replaced by ``tiny``."""
    return fnp.where(fnp.abs(v) < tiny, tiny, v)


def _betacf(a, b, x):
    """The continued fraction of ``I_x(a, b)`` (Numerical Recipes' ``betacf``), for ``x < (a + 1) / (a + b + 2)``."""
    eps = float(np.finfo(x.dtype).eps)
    tiny = 1e-30
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = fnp.ones_like(x)
    d = 1.0 / _guard(1.0 - qab * x / qap, tiny)
    h = d
    adaptive = concrete(fnp.stop_gradient(x)) is not None
    for m in range(1, (_MAX_STEPS if adaptive else _TRACED_STEPS) + 1):
        m2 = 2.0 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))       # the even step
        d = 1.0 / _guard(1.0 + aa * d, tiny)
        c = _guard(1.0 + aa / c, tiny)
        h = h * d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))  # the odd step
        d = 1.0 / _guard(1.0 + aa * d, tiny)
        c = _guard(1.0 + aa / c, tiny)
        delta = d * c
        h = h * delta
        # NaN counts as converged (it stays NaN), so a NaN input does not run every step.
        if adaptive and not bool(fnp.any(fnp.abs(fnp.stop_gradient(delta) - 1.0) >= eps)):
            break
    return h


def betainc(a, b, x):
    """The regularized incomplete beta function ``I_x(a, b)``, as ``scipy.special.betainc``.

    0 for ``x <= 0``, 1 for ``x >= 1``, nan where ``a`` or ``b`` is not positive.
    Differentiable in ``a``, ``b`` and ``x`` (by composition).

    >>> from fnx.scipy.stats._core import betainc
    >>> round(float(betainc(2.0, 3.0, 0.4)), 6)
    0.5248
    """
    a, b, x = promote_args_inexact("betainc", a, b, x)
    a, b, x = fnp.broadcast_arrays(a, b, x)
    low, high = x <= 0, x >= 1
    xs = fnp.where(low | high, 0.5, x)  # a safe point for the branches not taken
    swap = xs > (a + 1.0) / (a + b + 2.0)
    aa, bb = fnp.where(swap, b, a), fnp.where(swap, a, b)
    xx = fnp.where(swap, 1.0 - xs, xs)
    ok = (aa > 0) & (bb > 0)
    aa, bb = fnp.where(ok, aa, 1.0), fnp.where(ok, bb, 1.0)
    front = fnp.exp(aa * fnp.log(xx) + bb * fnp.log1p(-xx) - betaln(aa, bb))
    part = front * _betacf(aa, bb, xx) / aa
    out = fnp.where(swap, 1.0 - part, part)
    out = fnp.where(low, 0.0, fnp.where(high, 1.0, out))
    return fnp.where(ok & ~fnp.isnan(x), out, np.nan)
