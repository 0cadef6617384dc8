"""Dtype and shape questions: result_type, promote_types, can_cast, issubdtype, isdtype, isscalar, ..."""
import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx.errors import DTypeError

DTYPES = ["bool", "int8", "uint8", "int32", "uint64", "int64", "float16", "float32", "float64", "complex64"]


@pytest.mark.parametrize("a", DTYPES)
@pytest.mark.parametrize("b", DTYPES)
def test_promotion_matches_numpy(a, b):
    assert fnp.promote_types(a, b) == np.promote_types(a, b)
    assert fnp.result_type(a, b) == np.result_type(a, b)
    x, y = np.zeros(2, a), np.zeros(2, b)
    assert fnp.result_type(fnp.asarray(x), y) == np.result_type(x, y)
    for casting in ("safe", "same_kind", "unsafe"):
        assert fnp.can_cast(fnp.asarray(x), b, casting) == np.can_cast(x, b, casting)
        assert fnp.can_cast(a, b, casting) == np.can_cast(a, b, casting)


def test_result_type_with_python_scalars():
    f32, i8 = fnp.ones(2, dtype="float32"), np.zeros(2, np.int8)
    for arrays in [(f32, 2.0), (f32, 1), (i8, 3), (i8, 2.5), (f32, 1j), (np.float64, 2.0), (i8, True)]:
        assert fnp.result_type(*arrays) == np.result_type(*arrays), arrays
    assert fnp.result_type(1.0) == np.float32  # fnx: a lone Python float takes the default float dtype
    assert fnp.result_type(1, 2) == np.int64 and fnp.result_type(1, 2.0, 1j) == np.complex64
    assert fnp.result_type(float) == fnp.float32 and fnp.result_type(int) == fnp.int64
    with pytest.raises(DTypeError, match="promote_types"):
        fnp.promote_types("float32", "M8[s]")
    with pytest.raises(DTypeError, match="can_cast"):
        fnp.can_cast(1.0, "float32")


def test_issubdtype_and_isdtype():
    for a in DTYPES:
        for kind in (fnp.floating, fnp.integer, fnp.signedinteger, fnp.unsignedinteger, fnp.inexact, fnp.number,
                     fnp.complexfloating, fnp.generic, np.float32):
            assert fnp.issubdtype(a, kind) == np.issubdtype(a, kind), (a, kind)
        for kind in ("bool", "signed integer", "unsigned integer", "integral", "real floating", "complex floating",
                     "numeric", ("bool", "real floating"), np.dtype(a)):
            assert fnp.isdtype(np.dtype(a), kind) == np.isdtype(np.dtype(a), kind), (a, kind)
    assert fnp.isdtype("float32", "real floating") and fnp.isdtype(fnp.ones(2).dtype, fnp.float32)


def test_isscalar_iscomplexobj_isrealobj():
    for v, expected in [(3.0, True), (1, True), (True, True), (np.float32(2), True), ("s", True), (1j, True),
                        ([1.0], False), (np.ones(2), False), (fnp.ones(2), False),
                        (fnp.array(1.0), True), (np.array(1.0), True), (fnp.sum(fnp.ones(3)), True)]:
        assert fnp.isscalar(v) is expected, v
    assert fnx.jit(lambda x: fnp.ones(2) * fnp.isscalar(x))(fnp.array(2.0)).tolist() == [1.0, 1.0]
    for v in (1.0, 1j, [1, 2j], np.ones(2, np.complex64), fnp.ones(2), fnp.ones(2, dtype="complex64"), 3, True):
        assert fnp.iscomplexobj(v) == np.iscomplexobj(v), v
        assert fnp.isrealobj(v) == np.isrealobj(v), v


def test_shape_ndim_size():
    for v in (fnp.ones((2, 3)), np.ones((4,)), [[1, 2, 3]], 2.0, fnp.array(1.0)):
        assert fnp.shape(v) == np.shape(v) and type(fnp.shape(v)) is tuple
        assert fnp.ndim(v) == np.ndim(v) and type(fnp.ndim(v)) is int
        assert fnp.size(v) == np.size(v) and type(fnp.size(v)) is int
    x = fnp.ones((2, 3, 4))
    assert fnp.size(x, 1) == 3 and fnp.size(x, -1) == 4 and fnp.size(x, (0, 2)) == 8
    with pytest.raises(np.exceptions.AxisError, match="size"):
        fnp.size(x, 3)
    with pytest.raises(np.exceptions.AxisError, match="size"):
        fnp.size(2.0, 0)
    assert fnx.vmap(lambda r: r * fnp.size(r))(x).shape == (2, 3, 4)  # traced values have static shapes


def test_shape_function_leaves_the_shape_module_importable():
    from fnx.numpy.shape import reshape
    assert callable(fnp.shape) and reshape is fnp.reshape
