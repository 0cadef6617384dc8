"""The Array surface: operators, promotion, immutability, conversions, repr, interop."""
import copy
import operator

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import fnx
import fnx.numpy as fnp
from fnx.errors import ImmutableError


def same(out, expected):
    """``out`` is an fnx Array equal to the numpy ``expected`` in value and dtype."""
    assert isinstance(out, fnx.Array), type(out)
    expected = np.asarray(expected)
    assert out.dtype == expected.dtype, (out.dtype, expected.dtype)
    np.testing.assert_array_equal(np.asarray(out), expected)


# ----- operators against numpy ------------------------------------------------------

ARITHMETIC = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv, operator.mod,
              operator.pow]
COMPARISONS = [operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge]
BITWISE = [operator.and_, operator.or_, operator.xor, operator.lshift, operator.rshift]
_FNX_NAME = {operator.floordiv: "floor_divide", operator.mod: "remainder", operator.and_: "bitwise_and",
             operator.or_: "bitwise_or", operator.xor: "bitwise_xor", operator.lshift: "left_shift",
             operator.rshift: "right_shift", operator.abs: "absolute", operator.invert: "invert"}


def needs(op):
    """Skips while the fnx.numpy function behind ``op`` is not written yet (operators find it by name)."""
    name = _FNX_NAME.get(op)
    if name and not hasattr(fnp, name):
        pytest.skip(f"fnx.numpy.{name} does not exist yet")


X = {"float32": np.array([[0.5, 1.5, 2.0], [3.0, 0.25, 4.0]], np.float32),
     "float64": np.array([0.5, 1.5, 2.0]),
     "int64": np.array([[1, 2, 7], [3, 4, 5]]),
     "int32": np.array([6, 2, 9], np.int32),
     "uint8": np.array([1, 2, 3], np.uint8),
     "bool": np.array([True, False, True])}
Y = {"float32": np.array([1.5, 2.0, 0.5], np.float32),
     "float64": np.array([[2.0], [0.5]]),
     "int64": np.array([3, 1, 2]),
     "int32": np.array([[2], [3]], np.int32),
     "uint8": np.array([2], np.uint8),
     "bool": np.array([False, True, True])}
FLOAT_PAIRS = [("float32", "float32"), ("float32", "float64"), ("float64", "int64"), ("int64", "float32"),
               ("int64", "int64"), ("int32", "int64"), ("uint8", "int32"), ("bool", "float32")]
INT_PAIRS = [("int64", "int64"), ("int32", "int64"), ("uint8", "uint8"), ("uint8", "int32"), ("bool", "bool")]


@pytest.mark.parametrize("op", ARITHMETIC + COMPARISONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("dx,dy", FLOAT_PAIRS)
def test_binary_operators_match_numpy(op, dx, dy):
    needs(op)
    if op is operator.pow and "bool" in (dx, dy):
        return  # numpy has no boolean power either
    x, y = X[dx], Y[dy]
    with np.errstate(all="ignore"):
        expected = op(x, y)
    same(op(fnp.asarray(x), fnp.asarray(y)), expected)
    same(op(fnp.asarray(x), y), expected)  # numpy array on the right
    same(op(x, fnp.asarray(y)), expected)  # numpy array on the left: numpy defers to fnx


@pytest.mark.parametrize("op", BITWISE, ids=lambda f: f.__name__)
@pytest.mark.parametrize("dx,dy", INT_PAIRS)
def test_bitwise_operators_match_numpy(op, dx, dy):
    needs(op)
    if op in (operator.lshift, operator.rshift) and "bool" in (dx, dy):
        return  # shifts are not defined on booleans
    x, y = X[dx], Y[dy]
    expected = op(x, y)
    same(op(fnp.asarray(x), fnp.asarray(y)), expected)
    same(op(x, fnp.asarray(y)), expected)


@pytest.mark.parametrize("op", ARITHMETIC + COMPARISONS + BITWISE, ids=lambda f: f.__name__)
@pytest.mark.parametrize("scalar", [2, 3.5, True])
@pytest.mark.parametrize("dx", ["float32", "float64", "int64", "uint8"])
def test_python_scalars_on_either_side(op, scalar, dx):
    needs(op)
    x = X[dx]
    if op in BITWISE and (dx.startswith("float") or isinstance(scalar, float)):
        return
    with np.errstate(all="ignore"):
        for out, expected in ((op(fnp.asarray(x), scalar), op(x, scalar)), (op(scalar, fnp.asarray(x)), op(scalar, x))):
            same(out, expected)


@pytest.mark.parametrize("op", [operator.neg, operator.pos, operator.abs, operator.invert],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("dx", ["float32", "int64", "bool"])
def test_unary_operators_match_numpy(op, dx):
    needs(op)
    x = X[dx]
    if (op is operator.invert and dx == "float32") or (op in (operator.neg, operator.pos) and dx == "bool"):
        return  # numpy refuses these too
    same(op(fnp.asarray(x)), op(x))


def test_divmod():
    needs(operator.floordiv)
    needs(operator.mod)
    x, y = np.array([7., -7., 5.5]), np.array([2., 2., -1.5])
    q, r = divmod(fnp.asarray(x), fnp.asarray(y))
    same(q, x // y)
    same(r, x % y)
    q, r = divmod(7, fnp.asarray(y))
    same(q, 7 // y)
    same(r, 7 % y)


def test_operators_on_tracers():
    f = lambda x: fnp.sum(2.0 * x - x / 4 + x ** 2 + np.ones(2) * x)
    g = fnx.grad(f)(fnp.array([1.0, 2.0]))
    np.testing.assert_allclose(np.asarray(g), [2 - 0.25 + 2 + 1, 2 - 0.25 + 4 + 1])
    assert g.dtype == np.float32


def test_foreign_operands_defer():
    x = fnp.array([1.0, 2.0])
    assert (x == None) is False and (x != None) is True  # noqa: E711
    assert x.__add__("a") is NotImplemented

    class Other:
        def __radd__(self, other):
            return "radd"
    assert x + Other() == "radd"
    with pytest.raises(TypeError):
        x + object()


# ----- promotion (NEP 50) --------------------------------------------------------------

@pytest.mark.parametrize("make,dtype", [
    (lambda: fnp.ones(2, "float32") * 2.0, "float32"),        # Python scalars are weak
    (lambda: fnp.ones(2, "float16") + 1, "float16"),
    (lambda: fnp.ones(2, "int8") + 1, "int8"),
    (lambda: fnp.ones(2, "int64") / 2, "float64"),
    (lambda: fnp.ones(2, "int32") * 1.5, "float64"),
    (lambda: fnp.ones(2, "float32") + fnp.ones(2, "float64"), "float64"),  # arrays are never downcast
    (lambda: fnp.ones(2, "float32") + fnp.ones(2, "int64"), "float64"),
    (lambda: fnp.ones(2, "int32") + fnp.ones(2, "float32"), "float64"),
    (lambda: fnp.ones(2, "uint8") + fnp.ones(2, "int8"), "int16"),
    (lambda: fnp.ones(2, "float32") * np.float64(2.0), "float64"),  # numpy scalars are strong
    (lambda: fnp.ones(2, "bool") + 1, "int64"),
    (lambda: fnp.ones(2, "bool") + 1.0, "float64"),  # as numpy: only a float on its own is float32
    (lambda: fnp.ones(2, "float32") * 1j, "complex64"),
    (lambda: fnp.array(2.0), "float32"),
    (lambda: fnp.array(2), "int64"),
    (lambda: fnp.array(True), "bool"),
    (lambda: fnp.array(1j), "complex64"),
    (lambda: fnp.array([1, 2.5]), "float32"),
])
def test_promotion(make, dtype):
    assert make().dtype == np.dtype(dtype)


def test_default_dtype_float64_and_back():
    try:
        fnx.set_default_dtype("float64")
        assert fnp.array(1.5).dtype == np.float64
        assert fnp.zeros(3).dtype == np.float64
        assert fnp.array([1.0, 2.0]).dtype == np.float64
        assert fnp.arange(0.0, 1.0, 0.5).dtype == np.float64
        assert fnp.array(1j).dtype == np.complex128
        assert fnp.array([1, 2]).dtype == np.int64
    finally:
        fnx.set_default_dtype("float32")
    assert fnp.array(1.5).dtype == np.float32
    assert fnp.zeros(3).dtype == np.float32
    assert fnp.array([1.0, 2.0]).dtype == np.float32


@pytest.mark.parametrize("dtype", ["float64", "float16", "int32", "uint8", "bool", "complex128"])
def test_numpy_input_keeps_its_dtype(dtype):
    a = np.ones(3, dtype)
    assert fnp.asarray(a).dtype == a.dtype
    assert fnp.array(a).dtype == a.dtype
    assert fnx.Array(a).dtype == a.dtype
    assert fnp.asarray(np.float64(1.5)).dtype == np.float64


# ----- immutability ------------------------------------------------------------------------

def test_setitem_raises_and_points_to_at():
    x = fnp.zeros(3)
    with pytest.raises(ImmutableError, match=r"\.at\[") as info:
        x[0] = 1.0
    assert isinstance(info.value, TypeError)


def test_unhashable():
    with pytest.raises(TypeError, match="unhashable"):
        hash(fnp.zeros(3))
    with pytest.raises(TypeError):
        {fnp.zeros(()): 1}


@pytest.mark.parametrize("make", [fnx.Array, fnp.asarray, fnp.array, fnx.array],
                         ids=["Array", "fnp.asarray", "fnp.array", "fnx.array"])
def test_creation_from_numpy_copies(make):
    a = np.array([1.0, 2.0, 3.0])
    x = make(a)
    a[0] = 99.0
    same(x, [1.0, 2.0, 3.0])


def test_array_constructor():
    x = fnp.array([1.0, 2.0])
    assert fnx.Array(x).dtype == np.float32
    same(fnx.Array([1, 2]), np.array([1, 2]))
    same(fnx.Array(2.5), np.float32(2.5))
    with pytest.raises(fnx.errors.TracerError, match="traced"):
        fnx.grad(lambda x: fnx.Array(x))(1.0)


def test_numpy_views_are_read_only():
    x = fnp.array([1.0, 2.0])
    view = np.asarray(x)
    assert not view.flags.writeable
    with pytest.raises(ValueError):
        view[0] = 5.0
    assert np.shares_memory(view, np.asarray(x))  # no copy on the way out
    assert np.array(x).flags.writeable  # np.array copies, so its result is the caller's
    same(x, np.array([1.0, 2.0], np.float32))


def test_copies_are_the_array_itself():
    x = fnp.array([1.0, 2.0])
    assert copy.copy(x) is x and copy.deepcopy(x) is x and x.copy() is x
    assert fnp.array(x) is x and fnp.asarray(x) is x


# ----- conversions -------------------------------------------------------------------------

def test_python_scalars():
    assert float(fnp.array(1.5)) == 1.5 and type(float(fnp.array(1.5))) is float
    assert int(fnp.array(7)) == 7
    assert complex(fnp.array(1 + 2j)) == 1 + 2j
    assert bool(fnp.array(True)) and not bool(fnp.array([0]))
    assert fnp.array([[3]]).item() == 3 and fnp.array([1.5, 2.5]).item(1) == 2.5
    assert fnp.array([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert [10, 20, 30][fnp.array(1)] == 20
    assert f"{fnp.array(1.25):.1f}" == "1.2"


def _numpy_error(f, a):
    try:
        f(a)
    except Exception as e:  # noqa: BLE001
        return type(e)
    raise AssertionError("numpy accepted it")


@pytest.mark.parametrize("f,a,match", [
    (bool, np.ones(2), "more than one element is ambiguous"),
    (bool, np.ones(0), "empty"),
    (float, np.ones(2), "0-dimensional"),
    (float, np.ones(1), "0-dimensional"),
    (int, np.ones((1, 1), int), "0-dimensional"),
    (operator.index, np.array(1.0), "integer scalar"),
    (operator.index, np.array([1]), "integer scalar"),
    (operator.index, np.array(True), "integer scalar"),
    (len, np.array(1.0), "unsized"),
    (iter, np.array(1.0), "0-d"),
])
def test_conversion_errors_match_numpy(f, a, match):
    with pytest.raises(_numpy_error(f, a), match=match):
        f(fnp.asarray(a))


def test_len_and_iteration():
    x = fnp.array([[1, 2], [3, 4], [5, 6]])
    assert len(x) == 3
    rows = list(x)
    assert len(rows) == 3
    same(rows[1], np.array([3, 4]))


def test_metadata():
    x = fnp.zeros((2, 3), "float64")
    assert (x.shape, x.ndim, x.size, x.itemsize, x.nbytes) == ((2, 3), 2, 6, 8, 48)
    assert str(x.device) == "cpu:0"


# ----- interop -------------------------------------------------------------------------------

def test_array_namespace():
    x = fnp.zeros(2)
    assert x.__array_namespace__() is fnp
    xp = x.__array_namespace__()
    same(xp.sin(x) + xp.ones(2), np.ones(2, np.float32))


def test_dlpack():
    x = fnp.array([[1.0, 2.0], [3.0, 4.0]])
    y = np.from_dlpack(x)
    np.testing.assert_array_equal(y, np.asarray(x))
    assert y.dtype == np.float32
    assert not y.flags.writeable  # shared memory stays immutable
    assert x.__dlpack_device__() == (1, 0)  # kDLCPU
    z = np.from_dlpack(fnp.array(2.5))  # 0-d payloads are numpy scalars
    assert z.shape == () and z == 2.5


def test_dlpack_legacy_consumers_get_a_copy():
    x = fnp.array([1.0, 2.0])
    capsule = x.__dlpack__()  # no max_version: such consumers cannot see a read-only flag
    assert capsule is not None
    with pytest.raises(BufferError, match="copy"):
        x.__dlpack__(copy=False)


def test_numpy_functions_accept_arrays():
    x = fnp.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(np.sin(x), np.sin([1.0, 2.0, 3.0]), rtol=1e-6)
    assert float(np.sum(x)) == 6.0  # np.sum calls x.sum(axis=None, out=None)
    with pytest.raises(ImmutableError, match="out="):
        x.sum(out=np.zeros(()))


# ----- repr -----------------------------------------------------------------------------------

def test_repr_examples():
    assert repr(fnp.array([1.0, 2.0])) == "Array([1., 2.], dtype=float32)"
    assert repr(fnp.array([[1, 2], [3, 4]])) == "Array([[1, 2],\n       [3, 4]], dtype=int64)"
    assert repr(fnp.array(2.5, "float64")) == "Array(2.5, dtype=float64)"
    assert repr(fnp.array([True, False])) == "Array([ True, False], dtype=bool)"
    assert repr(fnp.zeros((0, 3))) == "Array([], shape=(0, 3), dtype=float32)"
    assert str(fnp.array([1.0, 2.0])) == "[1. 2.]"


_SHOWN = st.sampled_from([np.float32, np.float16, np.int32, np.int8, np.uint16, np.complex64])


@given(hnp.arrays(_SHOWN, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=30)))
def test_repr_is_numpys_layout(a):
    # For these dtypes numpy shows the dtype too, so the two reprs agree character for character.
    assert repr(fnp.asarray(a)) == repr(a).replace("array(", "Array(", 1)


def test_repr_of_large_arrays_is_summarised():
    a = np.arange(2000, dtype=np.float32)
    assert repr(fnp.asarray(a)) == repr(a).replace("array(", "Array(", 1)
    assert "..." in repr(fnp.asarray(a))


# ----- method forms ---------------------------------------------------------------------------

A = np.array([[3.0, -1.0, 2.0], [0.5, 4.0, -2.5]])

METHODS = [
    ("sum", (), {}), ("sum", (1,), {"keepdims": True}), ("mean", (0,), {}), ("prod", (), {}),
    ("max", (1,), {}), ("min", (), {}), ("argmax", (), {}), ("argmin", (1,), {}), ("var", (), {}),
    ("std", (0,), {}), ("all", (), {}), ("any", (1,), {}), ("cumsum", (1,), {}), ("cumprod", (0,), {}),
    ("reshape", (3, 2), {}), ("reshape", ((3, 2),), {}), ("reshape", (-1,), {}), ("transpose", (), {}),
    ("transpose", (1, 0), {}), ("transpose", ((1, 0),), {}), ("ravel", (), {}), ("flatten", (), {}),
    ("swapaxes", (0, 1), {}), ("clip", (-1.0, 2.0), {}), ("round", (), {}), ("conj", (), {}),
    ("conjugate", (), {}), ("take", ([2, 0],), {"axis": 1}), ("repeat", (2,), {"axis": 0}),
    ("argsort", (), {}), ("diagonal", (), {}), ("trace", (), {}), ("astype", ("int32",), {}),
    ("dot", (A.T,), {}), ("nonzero", (), {}),
]


@pytest.mark.parametrize("name,args,kwargs", METHODS, ids=[f"{m[0]}{m[1]}" for m in METHODS])
def test_methods_match_numpy(name, args, kwargs):
    fname = {"flatten": "ravel", "conjugate": "conj"}.get(name, name)
    if not hasattr(fnp, fname):
        pytest.skip(f"fnx.numpy.{fname} does not exist yet")
    x = fnp.asarray(A)
    out, expected = getattr(x, name)(*args, **kwargs), getattr(A, name)(*args, **kwargs)
    if isinstance(expected, tuple):
        for o, e in zip(out, expected):
            same(o, e)
    else:
        np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-12)
        assert out.dtype == np.asarray(expected).dtype


def test_sort_returns_a_new_array():
    if not hasattr(fnp, "sort"):
        pytest.skip("fnx.numpy.sort does not exist yet")
    x = fnp.array([3, 1, 2])
    same(x.sort(), np.array([1, 2, 3]))
    same(x, np.array([3, 1, 2]))


def test_jax_array_methods_round_to_device_tobytes_view_and_sort_keywords():
    x = fnp.array([[3.25, 1.0], [0.5, 2.75]])
    r = round(fnp.array(2.7))  # jax.Array's __round__: integers without ndigits
    assert r.dtype.kind == "i" and int(r) == 3
    np.testing.assert_array_equal(np.asarray(round(x, 1)), np.round(np.asarray(x), 1))
    assert x.to_device(fnx.devices()[0]) is x and x.view() is x
    assert x.tobytes() == np.asarray(x).tobytes()
    # NumPy/JAX keywords beside descending keep jax.Array's meaning (an array), PyTorch's alone a pair
    np.testing.assert_array_equal(np.asarray(x.sort(axis=0, descending=True)), [[3.25, 2.75], [0.5, 1.0]])
    np.testing.assert_array_equal(np.asarray(x.argsort(axis=1, descending=True)), [[0, 1], [1, 0]])
    values, indices = x.sort(descending=True)
    np.testing.assert_array_equal(np.asarray(indices), [[0, 1], [1, 0]])


def test_squeeze_and_properties():
    x = fnp.asarray(np.arange(6.0).reshape(1, 2, 3))
    same(x.squeeze(), np.arange(6.0).reshape(2, 3))
    same(x.squeeze(0), np.arange(6.0).reshape(2, 3))
    same(x.T, np.arange(6.0).reshape(1, 2, 3).T)
    same(x.mT, np.arange(6.0).reshape(1, 2, 3).swapaxes(-1, -2))


def test_real_and_imag_are_properties():
    if not hasattr(fnp, "real"):
        pytest.skip("fnx.numpy.real does not exist yet")
    z = np.array([1 + 2j, 3 - 1j], np.complex64)
    same(fnp.asarray(z).real, z.real)
    same(fnp.asarray(z).imag, z.imag)
    same(fnp.asarray(A).real, A)


def test_methods_on_tracers():
    g = fnx.grad(lambda x: x.reshape(3, 2).T.sum() * 2.0 + x.mean())(fnp.asarray(A))
    np.testing.assert_allclose(np.asarray(g), np.full(A.shape, 2.0 + 1 / 6))


def test_python_numbers_become_shared_read_only_constants_that_keep_their_sign():
    from fnx.core.backend import CPU
    from fnx.numpy._base import constant
    a = constant(1.5, np.dtype("float32"), (3,), CPU)
    assert a is constant(1.5, np.dtype("float32"), (3,), CPU)  # cached: the same view again
    assert a is not constant(1.5, np.dtype("float64"), (3,), CPU)
    np.testing.assert_array_equal(np.asarray(a), np.full(3, 1.5, np.float32))
    assert not np.asarray(a).flags.writeable
    # -0.0 == 0.0, but they are different constants: a traced x * -0.0 keeps numpy's signs
    x = fnx.numpy.array([1.0, -2.0])
    out, _ = fnx.vjp(lambda x: fnx.numpy.copysign(1.0, x * -0.0), x)
    np.testing.assert_array_equal(np.asarray(out), np.copysign(1.0, np.array([1.0, -2.0]) * -0.0))
    out, _ = fnx.vjp(lambda x: fnx.numpy.copysign(1.0, x * 0.0), x)
    np.testing.assert_array_equal(np.asarray(out), np.copysign(1.0, np.array([1.0, -2.0]) * 0.0))
    # boolean and integer zeros have no sign: they are cached too, apart from each other and from 0.0
    f = constant(False, np.dtype(bool), (2,), CPU)
    assert f is constant(False, np.dtype(bool), (2,), CPU) and np.asarray(f).dtype == bool
    z = constant(0, np.dtype("int32"), (2,), CPU)
    assert z is constant(0, np.dtype("int32"), (2,), CPU) and z is not f
    assert constant(0.0, np.dtype("float32"), (2,), CPU) is not constant(0.0, np.dtype("float32"), (2,), CPU)
    np.testing.assert_array_equal(np.asarray(constant(True, np.dtype(bool), (2,), CPU)), [True, True])
