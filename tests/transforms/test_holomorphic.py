"""JAX's dtype contract of the differentiation transforms: ``holomorphic`` and ``allow_int``."""
import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx.core.dtypes import float0
from fnx.errors import DTypeError

Z = np.array([1 + 2j, -0.5 + 0.25j])


def test_complex_outputs_need_holomorphic():
    z = fnp.asarray(Z)
    with pytest.raises(DTypeError, match="grad requires real-valued outputs, but got complex128.*holomorphic=True"):
        fnx.grad(lambda z: fnp.sum(z * z))(z)
    with pytest.raises(TypeError, match="jacrev requires real-valued outputs"):
        fnx.jacrev(lambda z: z * z)(z)
    # A real output of complex inputs is fine without it (JAX's convention: the conjugate of df/dz-bar times 2).
    np.testing.assert_allclose(fnx.grad(lambda z: fnp.sum(fnp.abs(z) ** 2))(z), 2 * np.conj(Z))


def test_holomorphic_derivatives_are_the_complex_derivative():
    z = fnp.asarray(Z)
    np.testing.assert_allclose(fnx.grad(lambda z: fnp.sum(z ** 3), holomorphic=True)(z), 3 * Z ** 2)
    np.testing.assert_allclose(fnx.jacrev(lambda z: fnp.exp(z), holomorphic=True)(z), np.diag(np.exp(Z)))
    np.testing.assert_allclose(fnx.jacfwd(lambda z: fnp.sin(z), holomorphic=True)(z), np.diag(np.cos(Z)))
    np.testing.assert_allclose(fnx.hessian(lambda z: fnp.sum(z ** 3), holomorphic=True)(z), np.diag(6 * Z))


def test_holomorphic_refuses_real_values():
    with pytest.raises(DTypeError, match="grad with holomorphic=True requires inputs with complex dtype"):
        fnx.grad(lambda x: fnp.sum(x * x), holomorphic=True)(fnp.ones(2))
    with pytest.raises(DTypeError, match="grad with holomorphic=True requires outputs with complex dtype"):
        fnx.grad(lambda z: fnp.sum(fnp.abs(z)), holomorphic=True)(fnp.asarray(Z))
    with pytest.raises(DTypeError, match="jacfwd with holomorphic=True requires outputs with complex dtype"):
        fnx.jacfwd(lambda z: fnp.abs(z), holomorphic=True)(fnp.asarray(Z))


def test_jacfwd_refuses_complex_and_integer_inputs():
    with pytest.raises(DTypeError, match="jacfwd requires real-valued inputs.*complex128"):
        fnx.jacfwd(lambda z: z * z)(fnp.asarray(Z))
    with pytest.raises(DTypeError, match="jacfwd requires real-valued inputs.*int"):
        fnx.jacfwd(lambda n: n * 2.0)(fnp.arange(3))


def test_integer_outputs_are_refused():
    with pytest.raises(DTypeError, match="grad requires a floating output.*int"):
        fnx.grad(lambda x: fnp.sum(x > 0).astype("int32"))(fnp.ones(2))


def test_allow_int_gives_float0_zeros():
    x, n = fnp.asarray(np.array([0.5, 2.0])), fnp.arange(2)
    with pytest.raises(DTypeError, match="allow_int=True"):
        fnx.grad(lambda x, n: fnp.sum(x * n), argnums=(0, 1))(x, n)
    gx, gn = fnx.grad(lambda x, n: fnp.sum(x * n), argnums=(0, 1), allow_int=True)(x, n)
    np.testing.assert_allclose(gx, [0.0, 1.0])
    assert isinstance(gn, np.ndarray) and gn.dtype == float0 and gn.shape == (2,)
    value, gb = fnx.value_and_grad(lambda b: fnp.sum(fnp.where(b, 1.0, 2.0)), allow_int=True)(fnp.asarray([True, False]))
    assert float(value) == 3.0 and gb.dtype == float0
    jx, jn = fnx.jacrev(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(x, n)
    np.testing.assert_allclose(jx, np.diag([0.0, 1.0]))
    assert jn.dtype == float0 and jn.shape == (2, 2)
