"""fnx.testing.assert_close: torch.testing.assert_close's defaults, checks and messages, and PyTorch itself on a table
of cases where it is installed."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import fnx
import fnx.numpy as fnp
from fnx.testing import assert_close

DEFAULTS = {"float16": (1e-3, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7), "complex64": (1.3e-6, 1e-5),
            "complex128": (1e-7, 1e-7)}


def fails(actual, expected, match=None, error=AssertionError, **kwargs):
    with pytest.raises(error, match=match):
        assert_close(actual, expected, **kwargs)


@pytest.mark.parametrize("dtype", list(DEFAULTS))
@given(x=hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=4), elements=st.floats(-100, 100)),
       inside=st.booleans())
def test_default_tolerances_by_dtype(dtype, x, inside):
    """Just inside atol + rtol |expected| passes; twice as far fails."""
    rtol, atol = DEFAULTS[dtype]
    expected = fnp.asarray(x.astype(dtype))
    e = np.asarray(expected).astype(np.complex128 if "complex" in dtype else np.float64)
    step = (atol + rtol * np.abs(e)) * (0.5 if inside else 2.5)
    moved = fnp.asarray((e + step).astype(dtype))
    if inside or np.array_equal(np.asarray(moved), np.asarray(expected)):  # float16 may round the step away
        assert_close(moved, expected)
    else:
        fails(moved, expected, match="Tensor-likes are not close|Scalars are not close")


@given(hnp.arrays(hnp.integer_dtypes() | hnp.floating_dtypes(sizes=(32, 64)) | hnp.boolean_dtypes(),
                  hnp.array_shapes(min_dims=0, max_dims=3)))
def test_an_array_is_close_to_itself(x):
    assert_close(fnp.asarray(x), fnp.asarray(x), equal_nan=True)
    assert_close(x, x.copy(), equal_nan=True)


def test_integers_and_booleans_must_be_equal():
    fails(fnp.array([1, 2]), fnp.array([1, 3]), match="Tensor-likes are not equal!")
    fails(fnp.array([True, False]), fnp.array([True, True]), match="not equal")
    fails(fnp.asarray(5), fnp.asarray(3), match="Scalars are not equal!\n\nExpected 3 but got 5.")
    assert_close(fnp.array([1, 2]), fnp.array([1, 2]))


def test_the_message_is_pytorchs():
    with pytest.raises(AssertionError) as info:
        assert_close(fnp.array([[1.0, 2.0], [3.0, 4.0]], dtype="float64"),
                     fnp.array([[1.0, 2.5], [3.0, 4.5]], dtype="float64"))
    assert str(info.value) == ("Tensor-likes are not close!\n\n"
                               "Mismatched elements: 2 / 4 (50.0%)\n"
                               "Greatest absolute difference: 0.5 at index (0, 1) (up to 1e-07 allowed)\n"
                               "Greatest relative difference: 0.2 at index (0, 1) (up to 1e-07 allowed)")


def test_non_finite_values():
    inf, nan = np.inf, np.nan
    assert_close(fnp.array([1.0, inf, -inf]), fnp.array([1.0, inf, -inf]))
    fails(fnp.array([inf]), fnp.array([-inf]))
    fails(fnp.array([nan]), fnp.array([nan]), match="nan")
    assert_close(fnp.array([nan, 1.0]), fnp.array([nan, 1.0]), equal_nan=True)
    fails(fnp.array([nan]), fnp.array([1.0]), equal_nan=True)


def test_attributes_come_first():
    fails(fnp.ones(2), fnp.ones((2, 1)), match="attribute 'shape' do not match: \\(2,\\) != \\(2, 1\\)")
    fails(fnp.ones(2), fnp.ones(2, dtype="float64"), match="attribute 'dtype' do not match: float32 != float64")
    assert_close(fnp.ones(2), fnp.ones(2, dtype="float64"), check_dtype=False)
    # without check_dtype the looser dtype's tolerances apply
    assert_close(fnp.array([1.0]), fnp.array([1.0 + 5e-6], dtype="float64"), check_dtype=False)
    cpus = fnx.devices("cpu")
    if len(cpus) > 1:
        a, b = fnx.device_put(fnp.ones(2), cpus[0]), fnx.device_put(fnp.ones(2), cpus[1])
        fails(a, b, match="attribute 'device' do not match")
        assert_close(a, b, check_device=False)


def test_tolerances_and_msg():
    assert_close(fnp.array([1.0]), fnp.array([1.1]), rtol=0.2, atol=0.0)
    fails(fnp.array([1.0]), fnp.array([1.1]), match="must be either specified or omitted", error=ValueError, rtol=0.2)
    fails(fnp.array([1.0]), fnp.array([1.1]), match="^custom$", msg="custom")
    fails(fnp.array([1.0]), fnp.array([1.1]), match="^>>Tensor-likes", msg=lambda m: ">>" + m)


def test_numbers_sequences_and_mappings():
    assert_close(1.0, 1.0 + 1e-8)
    fails(1, 1.0, match=r"The \(d\)types do not match")
    assert_close(1, 1.0, check_dtype=False)
    fails(1.0, 1.1, match="Scalars are not close!\n\nExpected 1.1 but got 1.0.")
    fails(True, False, match="Booleans mismatch: True is not False")
    assert_close(None, None)
    assert_close((1.0, fnp.ones(2)), [1.0, fnp.ones(2)])
    fails([1.0, 2.0], [1.0, 2.1], match=r"The failure occurred for item \[1\]$")
    fails([1.0, 2.0], [1.0, 2.0, 3.0], match="The length of the sequences mismatch: 2 != 3")
    fails({"a": [fnp.ones(1), 2.0]}, {"a": [fnp.ones(1), 2.5]}, match=r"item \['a'\]\[1\]$")
    fails({"a": 1.0}, {"b": 1.0}, match="keys of the mappings do not match")
    fails(fnp.ones(1), [1.0], error=TypeError, match="No comparison pair")
    fails(fnp.ones(1), np.ones(1, dtype=np.float32), error=TypeError, match="No comparison pair")


# ----- PyTorch itself, where installed -------------------------------------------------------------

CASES = [
    ([1.0, 2.0, 3.0], [1.0, 2.5, 3.0], "float32", {}), ([1.0, 2.0], [1.0, 2.0 + 1e-6], "float64", {}),
    ([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.1], [3.0, 4.2]], "float32", {}), ([1, 2], [1, 3], "int64", {}),
    ([np.nan], [np.nan], "float32", {}), ([np.nan], [np.nan], "float32", dict(equal_nan=True)),
    ([1.0, np.inf], [1.0, -np.inf], "float32", {}), (0.0, 1e-4, "float32", {}), (5, 3, "int64", {}),
    ([1.0], [1.1], "float32", dict(rtol=0.2, atol=0.0)), ([1.0, 2.0], [1.0, 2.001], "float16", {}),
    ([True, False], [True, True], "bool", {}), (1 + 1j, 1 + 2j, "complex64", {}),
    ([0.0, 1.0], [0.0, 3.0], "float32", dict(rtol=0.0, atol=0.0)),
]


@pytest.mark.parametrize("actual,expected,dtype,kwargs", CASES)
def test_against_torch(actual, expected, dtype, kwargs):
    torch = pytest.importorskip("torch")

    def outcome(fn, a, b):
        try:
            fn(a, b, **kwargs)
            return None
        except AssertionError as e:
            return str(e).replace("torch.", "")
    want = outcome(torch.testing.assert_close, torch.tensor(np.asarray(actual, dtype=dtype)),
                   torch.tensor(np.asarray(expected, dtype=dtype)))
    got = outcome(assert_close, fnp.asarray(np.asarray(actual, dtype=dtype)), fnp.asarray(np.asarray(expected,
                                                                                                    dtype=dtype)))
    assert got == want
