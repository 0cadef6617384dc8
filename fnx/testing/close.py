"""``torch.testing.assert_close``, for fnx arrays.

Two values are close when, element by element, ``|actual - expected| <= atol +
rtol * |expected|`` (infinities must match exactly; NaNs only with
``equal_nan``). Without tolerances the defaults come from the dtype, as PyTorch
documents them, and the loosest of the two inputs' is used:

=========================  ==========  ==========
dtype                      ``rtol``    ``atol``
=========================  ==========  ==========
float16                    1e-3        1e-5
bfloat16                   1.6e-2      1e-5
float32, complex64         1.3e-6      1e-5
float64, complex128        1e-7        1e-7
anything else              0           0
=========================  ==========  ==========

Before the values, the attributes must match: the shape always, the dtype
(``check_dtype``) and the device (``check_device``). Inputs are compared
recursively: fnx arrays with fnx arrays, NumPy arrays with NumPy arrays, Python
(or NumPy) numbers with numbers, and sequences and mappings item by item. A
mismatch raises ``AssertionError`` with PyTorch's message (the number of
mismatched elements and the greatest absolute and relative differences, with
their indices), or with ``msg`` (a string, or a function of the generated message).

Numbers are compared in NumPy: this is a test oracle, not array maths.
"""
import cmath
from collections.abc import Mapping, Sequence

import numpy as np

from ..core.array import Array
from ..core.dtypes import default_float

__all__ = ["assert_close"]

_TOLERANCES = {np.dtype("float16"): (1e-3, 1e-5), np.dtype("float32"): (1.3e-6, 1e-5),
               np.dtype("float64"): (1e-7, 1e-7), np.dtype("complex64"): (1.3e-6, 1e-5),
               np.dtype("complex128"): (1e-7, 1e-7)}
_NUMBER_DTYPES = {int: np.dtype("int64"), float: np.dtype("float64"), complex: np.dtype("complex128")}


def _tolerance_of(dtype):
    if dtype in _TOLERANCES:
        return _TOLERANCES[dtype]
    if dtype.name == "bfloat16":  # ml_dtypes' bfloat16, if it is around
        return 1.6e-2, 1e-5
    return 0.0, 0.0


def _tolerances(dtypes, rtol, atol):
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                         f"{'rtol' if rtol is None else 'atol'}.")
    if rtol is not None:
        return rtol, atol
    rtols, atols = zip(*[_tolerance_of(d) for d in dtypes])
    return max(rtols), max(atols)


class _Mismatch(Exception):
    """A failed comparison: the error type and message, before the location and ``msg`` are added."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind, self.message = kind, message


def _diff_msg(kind, diff, idx, tol, equality):
    line = f"{kind.title()} difference: {diff}" if idx is None else f"Greatest {kind} difference: {diff} at index {idx}"
    return line + ("" if equality else f" (up to {tol} allowed)") + "\n"


def _mismatch_msg(identifier, extra, abs_diff, abs_idx, rel_diff, rel_idx, rtol, atol):
    equality = rtol == 0 and atol == 0
    msg = f"{identifier} are not {'equal' if equality else 'close'}!\n\n{extra.strip()}\n"
    msg += _diff_msg("absolute", abs_diff, abs_idx, atol, equality)
    msg += _diff_msg("relative", rel_diff, rel_idx, rtol, equality)
    return msg.strip()


def _scalar_msg(actual, expected, rtol, atol):
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _mismatch_msg("Scalars", f"Expected {expected} but got {actual}.", abs_diff, None, rel_diff, None,
                         rtol, atol)


def _compare_numbers(actual, expected, rtol, atol, equal_nan, check_dtype):
    actual, expected = (x.item() if isinstance(x, np.number) else x for x in (actual, expected))
    if check_dtype and type(actual) is not type(expected):
        raise _Mismatch(AssertionError, f"The (d)types do not match: {type(actual)} != {type(expected)}.")
    rtol, atol = _tolerances([_NUMBER_DTYPES[type(x)] for x in (actual, expected)], rtol, atol)
    if actual == expected or (equal_nan and cmath.isnan(actual) and cmath.isnan(expected)):
        return
    abs_diff = abs(actual - expected)
    if cmath.isfinite(abs_diff) and abs_diff <= atol + rtol * abs(expected):
        return
    raise _Mismatch(AssertionError, _scalar_msg(actual, expected, rtol, atol))


def _compare_arrays(actual, expected, rtol, atol, equal_nan, check_dtype, check_device):
    if actual.shape != expected.shape:
        raise _Mismatch(AssertionError, f"The values for attribute 'shape' do not match: {actual.shape} != "
                                        f"{expected.shape}.")
    if check_device and isinstance(actual, Array) and actual.device != expected.device:
        raise _Mismatch(AssertionError, f"The values for attribute 'device' do not match: {actual.device} != "
                                        f"{expected.device}.")
    if check_dtype and actual.dtype != expected.dtype:
        raise _Mismatch(AssertionError, f"The values for attribute 'dtype' do not match: {actual.dtype} != "
                                        f"{expected.dtype}.")
    rtol, atol = _tolerances([actual.dtype, expected.dtype], rtol, atol)
    a, e = np.asarray(actual), np.asarray(expected)
    common = np.result_type(a, e)
    a, e = a.astype(common), e.astype(common)
    if common.kind == "b":
        matches = a == e
    else:
        matches = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if matches.all():
        return
    if a.ndim == 0:
        raise _Mismatch(AssertionError, _scalar_msg(a.item(), e.item(), rtol, atol))
    n, bad = matches.size, int(matches.size - matches.sum())
    extra = f"Mismatched elements: {bad} / {n} ({bad / n:.1%})"
    if common.kind in "biu":
        a, e = a.astype(np.int64), e.astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        abs_diff = np.where(matches, 0, np.abs(a - e))
        # integers divide into the default float dtype, as PyTorch's true division does
        quotient = (abs_diff.astype(default_float()) / np.abs(e).astype(default_float()) if common.kind in "biu"
                    else abs_diff / np.abs(e))
        rel_diff = np.where(matches, 0, quotient)
    abs_at = int(np.argmax(abs_diff)) if not np.isnan(abs_diff).any() else int(np.argmax(np.isnan(abs_diff)))
    rel_at = int(np.argmax(rel_diff)) if not np.isnan(rel_diff).any() else int(np.argmax(np.isnan(rel_diff)))
    def index(flat):
        return tuple(int(i) for i in np.unravel_index(flat, a.shape))
    raise _Mismatch(AssertionError, _mismatch_msg("Tensor-likes", extra, abs_diff.flat[abs_at].item(), index(abs_at),
                                                  rel_diff.flat[rel_at].item(), index(rel_at), rtol, atol))


def _is_number(x):
    return isinstance(x, (int, float, complex, np.number)) and not isinstance(x, (bool, np.bool_))


def _compare(actual, expected, path, options):
    """Compares one pair, recursing into sequences and mappings; raises _Mismatch (with ``path``) on a failure."""
    if actual is None and expected is None:
        return
    if isinstance(actual, (bool, np.bool_)) and isinstance(expected, (bool, np.bool_)):
        if bool(actual) != bool(expected):
            raise _Mismatch(AssertionError, f"Booleans mismatch: {actual} is not {expected}")
        return
    for kind in (Array, np.ndarray):
        if isinstance(actual, kind) and isinstance(expected, kind):
            return _compare_arrays(actual, expected, **options)
    if _is_number(actual) and _is_number(expected):
        return _compare_numbers(actual, expected, **{k: v for k, v in options.items() if k != "check_device"})
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        if set(actual) != set(expected):
            raise _Mismatch(AssertionError, f"The keys of the mappings do not match:\nMissing keys in the actual "
                                            f"mapping: {sorted(map(repr, set(expected) - set(actual)))}\nExtra keys "
                                            f"in the actual mapping: {sorted(map(repr, set(actual) - set(expected)))}")
        for key in expected:
            _located(actual[key], expected[key], path + (key,), options)
        return
    if (isinstance(actual, Sequence) and isinstance(expected, Sequence)
            and not isinstance(actual, (str, bytes)) and not isinstance(expected, (str, bytes))):
        if len(actual) != len(expected):
            raise _Mismatch(AssertionError, f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _located(a, e, path + (i,), options)
        return
    raise _Mismatch(TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} and "
                               f"{type(expected)}.")


def _located(actual, expected, path, options):
    try:
        _compare(actual, expected, path, options)
    except _Mismatch as m:
        if not getattr(m, "located", False):
            m.message += f"\n\nThe failure occurred for item {''.join(str([p]) for p in path)}"
            m.located = True
        raise


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    """Asserts that ``actual`` and ``expected`` are close (``torch.testing.assert_close``).

    Args:
      actual, expected: fnx arrays, NumPy arrays, Python numbers, or sequences
        and mappings of them (compared item by item).
      rtol, atol: the tolerances, both or neither; by default, from the dtypes
        (see the module notes).
      equal_nan: whether two NaNs compare equal.
      check_device, check_dtype: whether the arrays' devices and dtypes must
        match (without ``check_dtype``, the values are compared in their common dtype).
      msg: replaces the generated message; a callable gets the generated one.
      allow_subclasses, check_layout, check_stride: accepted for PyTorch's
        signature; fnx arrays have neither layouts nor strides.

    Raises:
      AssertionError: when a value or an attribute differs.
      TypeError: for inputs that cannot be compared (an fnx array with a list).
      ValueError: when only one of ``rtol`` and ``atol`` is given.

    >>> import fnx
    >>> from fnx.testing import assert_close
    >>> assert_close(fnx.tensor([1.0, 2.0]), fnx.tensor([1.0, 2.0 + 1e-7]))
    >>> assert_close(fnx.tensor([1.0, 2.0]), fnx.tensor([1.0, 2.5]))
    Traceback (most recent call last):
    ...
    AssertionError: Tensor-likes are not close!
    <BLANKLINE>
    Mismatched elements: 1 / 2 (50.0%)
    Greatest absolute difference: 0.5 at index (1,) (up to 1e-05 allowed)
    Greatest relative difference: 0.20000000298023224 at index (1,) (up to 1.3e-06 allowed)
    """
    del allow_subclasses, check_layout, check_stride
    options = dict(rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=check_dtype, check_device=check_device)
    try:
        _compare(actual, expected, (), options)
    except _Mismatch as m:
        if m.kind is AssertionError and msg is not None:
            raise AssertionError(msg(m.message) if callable(msg) else msg) from None
        raise m.kind(m.message) from None
