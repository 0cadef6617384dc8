"""JAX's precision= and preferred_element_type= on fnx.numpy's products."""
import numpy as np
import pytest

import fnx
import fnx.numpy as fnp

A = np.arange(6, dtype=np.int8).reshape(2, 3) * 40
B = np.arange(12, dtype=np.int8).reshape(3, 4) * 30

PRODUCTS = [("matmul", lambda m, a, b, **kw: m.matmul(a, b, **kw)),
            ("dot", lambda m, a, b, **kw: m.dot(a, b, **kw)),
            ("tensordot", lambda m, a, b, **kw: m.tensordot(a, b, axes=1, **kw)),
            ("einsum", lambda m, a, b, **kw: m.einsum("ij,jk->ik", a, b, **kw)),
            ("inner", lambda m, a, b, **kw: m.inner(a, b.T, **kw))]


@pytest.mark.parametrize("name,product", PRODUCTS, ids=[p[0] for p in PRODUCTS])
def test_preferred_element_type_accumulates_in_that_dtype(name, product):
    out = product(fnp, fnp.asarray(A), fnp.asarray(B), preferred_element_type=fnp.int32)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(np.asarray(out), product(np, A.astype(np.int32), B.astype(np.int32)))
    for precision in (None, "highest", fnx.lax.Precision.HIGHEST, (fnx.lax.Precision.DEFAULT, "high")):
        same = product(fnp, fnp.asarray(A), fnp.asarray(B), precision=precision)
        np.testing.assert_array_equal(np.asarray(same), np.asarray(product(fnp, fnp.asarray(A), fnp.asarray(B))))
    with pytest.raises(ValueError, match=f"{name}: precision"):
        product(fnp, fnp.asarray(A), fnp.asarray(B), precision="extreme")


def test_matches_jax():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    a, b = np.ones((2, 3), np.float16), np.ones((3, 2), np.float16)
    ours = fnp.matmul(fnp.asarray(a), fnp.asarray(b), precision=fnx.lax.Precision.HIGHEST,
                      preferred_element_type=fnp.float32)
    theirs = jnp.matmul(a, b, precision=jax.lax.Precision.HIGHEST, preferred_element_type=jnp.float32)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    assert [p.name for p in fnx.lax.Precision] == [p.name for p in jax.lax.Precision if p.name in
                                                   ("DEFAULT", "HIGH", "HIGHEST")]
