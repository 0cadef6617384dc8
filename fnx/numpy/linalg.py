"""Linear algebra: products, einsum, solvers and decompositions.

This module is both halves of NumPy's linear algebra: the products that live at
the top of ``numpy`` (``matmul``, ``dot``, ``einsum``...; they are this module's
``__all__``) and the ``numpy.linalg`` namespace itself (``fnp.linalg.inv``).

Two primitives carry every product. ``matmul`` multiplies stacks of matrices
whose batch dimensions the public function has already broadcast, so its rules
are one line each: the tangent of ``A @ B`` is ``dA @ B + A @ dB`` and the
cotangents are ``ct @ B^T`` and ``A^T @ ct``. ``einsum`` contracts any number of
operands under an explicit, ellipsis-free subscript string such as
``"ab,bc->ac"``. It is linear in each operand, so its JVP is a sum of einsums,
and its VJP for operand ``k`` is again an einsum: contract the cotangent with
the other operands into ``k``'s subscripts. Two things einsum cannot write
directly are added around it: a repeated index (``"ii->"``) puts the cotangent
on a diagonal, which is an extra identity-matrix operand, and an index summed
away inside one operand (``"ij->i"``) spreads the cotangent along it, which is a
``broadcast_to``. The public :func:`einsum` plans the contraction order with
opt_einsum once per subscripts and shapes, and binds one pairwise ``einsum``
per step, so reverse mode retraces the same cheap path. ``dot``,
``tensordot``, ``inner``, ``trace`` and friends are einsums or matmuls.

The decompositions follow the standard matrix-calculus results (Giles 2008,
"Collected matrix derivative results"; Murray 2016 for Cholesky; Townsend 2016
for the SVD), written with fnx operations (``matmul``, ``solve``, transposes) so
that they can be differentiated again. ``cholesky``, ``eigh`` and ``eigvalsh``
work on the symmetric part ``(A + A^T)/2`` of their input, as JAX does; NumPy
reads only the lower triangle. The two agree on symmetric input, and only the
symmetric version has a derivative that does not depend on which triangle was
read. Derivatives of ``eigh`` and ``svd`` exist where the eigen- and singular
values are distinct; ``qr`` and ``svd`` are differentiable in their reduced
forms. Complex input differentiates as in JAX: the Hermitian solvers
(``eigh``, ``eigvalsh``, ``cholesky``), ``svd``, ``qr`` and ``slogdet`` use
conjugate transposes (their real outputs, eigen- and singular values and
``log|det|``, have real tangents), and each VJP is the transpose of its JVP
under ``sum(a * b)``. Numerical failure (a singular matrix) raises NumPy's
``LinAlgError``.

Every primitive here already maps over leading dimensions, so its vmap rule
moves the batch axis to the front; einsum's gives the batch axis an index of
its own.

This module is both ``fnx.numpy``'s linear-algebra family and the
``fnp.linalg`` namespace. One name means two things, as in NumPy:
``fnp.linalg.trace`` is ``numpy.linalg.trace`` (the last two axes) while
``fnp.trace`` is ``numpy.trace`` (axes 0 and 1 by default), defined here as
``numpy_trace``.
"""
import functools
import itertools
import math
import operator
from collections import namedtuple

import numpy as np
import opt_einsum

from ..core import autocast as _autocast, dtypes
from ..core.array import Array, wrap
from ..core.backend import data_device
from ..core.primitive import ShapedArray, defprim
from ..errors import ShapeError
from . import creation, elementwise as el, reductions as red, shape as sh
from ._base import (asarray, broadcast_shapes, canonicalize, move_to_front, normalize_axis, not_differentiable,
                    same_shape)

__all__ = ["matmul", "dot", "vdot", "inner", "outer", "tensordot", "einsum", "trace", "kron", "vecdot",
           "matrix_transpose"]

LinAlgError = np.linalg.LinAlgError
SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])
EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
QRResult = namedtuple("QRResult", ["Q", "R"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])

# ----- helpers used by the rules ------------------------------------------------------------


def _T(x):
    """The last two axes swapped (the rules' operands have at least two, so nothing needs checking)."""
    if type(x) is Array:  # a concrete operand (a rule run outside every transform): the view transpose_p makes
        return wrap(x._value.swapaxes(-1, -2), x._device)
    nd = x.ndim
    return sh.transpose_p.bind(x, axes=_SWAP_LAST.get(nd) or _swap_last(nd))


def _swap_last(nd):
    axes = _SWAP_LAST[nd] = (*range(nd - 2), nd - 1, nd - 2)
    return axes


_SWAP_LAST = {}


def _mm(x, y):
    """``x @ y`` for operands with equal batch dimensions (what the rules always have)."""
    return matmul_p.bind(x, y)


def _hermitian_part(xp, x):
    """``(x + x^H) / 2`` of a payload: the matrix the symmetric solvers see (plain transposes for real ``x``)."""
    xt = xp.swapaxes(x, -1, -2)
    return (x + (xp.conj(xt) if x.dtype.kind == "c" else xt)) / 2


def _sym(x):
    return (x + _T(x)) * 0.5


def _H(x):
    """The conjugate transpose of the last two axes (the plain transpose of a real stack)."""
    return el.conj(_T(x)) if x.dtype.kind == "c" else _T(x)


def _hsym(x):
    """``(x + x^H) / 2``: the Hermitian part (the symmetric part of a real stack)."""
    return (x + _H(x)) * 0.5


def _conj(x):
    return el.conj(x) if x.dtype.kind == "c" else x


def _real(x):
    return el.real(x) if x.dtype.kind == "c" else x


def _letters(n, skip=""):
    """``n`` einsum index symbols that are not in ``skip``."""
    return "".join(itertools.islice((c for c in map(opt_einsum.get_symbol, itertools.count()) if c not in skip), n))


def _diag(x):
    """The diagonal of each matrix in a stack, as einsum ``'...ii->...i'``."""
    b = _letters(x.ndim - 2, "ij")
    return einsum_p.bind(x, spec=f"{b}ii->{b}i")


def _tr(x):
    b = _letters(x.ndim - 2, "ij")
    return einsum_p.bind(x, spec=f"{b}ii->{b}")


def _diag_embed(v):
    """Stack of diagonal matrices from a stack of vectors."""
    return sh.expand_dims(v, -1) * creation.eye(v.shape[-1], dtype=v.dtype, device=v.device)


def _tri(n, k, dtype, device=None):
    """The (n, n) mask of ``tril(ones, k)`` (ones where column <= row + k)."""
    i = creation.arange(n, device=device)
    return el.astype(el.greater_equal(sh.reshape(i, (n, 1)) + k, i), dtype)


def _inv_gaps(w):
    """``F[..., i, j] = 1 / (w_j - w_i)`` off the diagonal, 0 on it."""
    eye = creation.eye(w.shape[-1], dtype=w.dtype, device=w.device)
    return 1.0 / (eye + sh.expand_dims(w, -2) - sh.expand_dims(w, -1)) - eye


def _lazy(f):
    """A zero-argument cotangent computed at most once (shared by two cotangents)."""
    return functools.lru_cache(maxsize=1)(f)


def _add(x, y):
    return y if x is None else x + y


def _front(prim, vals, bdims, params):
    """Batch rule of a primitive that already maps over leading dimensions: batch axis to the front."""
    out = prim.bind(*move_to_front(vals, bdims), **params)
    return out, ((0,) * len(out) if prim.multiple_results else 0)


# ----- matmul -------------------------------------------------------------------------------


def _matmul_jvp(primals, tangents):
    (x, y), (tx, ty) = primals, tangents
    out = matmul_p.bind(x, y)
    t = None if tx is None else _mm(tx, y)
    if ty is not None:
        t = _add(t, _mm(x, ty))
    return out, t


def _matmul_impl(xp, x, y):
    if x.shape[-1] == 1:  # outer products (per-example weight gradients): nothing to sum, so no GEMM
        return xp.multiply(x, y)
    return xp.matmul(x, y)


def _matmul_batch(vals, bdims):
    (x, y), (dx, dy) = vals, bdims
    if dy is None and y.ndim == 2:
        # A batch of stacks times one matrix is one tall product: no copies of y, one GEMM.
        x = sh.moveaxis(x, dx, 0)
        out = matmul_p.bind(sh.reshape(x, (-1, x.shape[-1])), y)
        return sh.reshape(out, x.shape[:-1] + y.shape[-1:]), 0
    return _front(matmul_p, vals, bdims, {})


matmul_p = defprim(
    "matmul", impl=_matmul_impl,
    shape=lambda x, y: ShapedArray(x.shape[:-1] + y.shape[-1:], x.dtype),
    jvp=_matmul_jvp, batch=_matmul_batch,
    vjp=lambda ct, x, y, *, out: ((lambda: _mm(ct, _T(y))), (lambda: _mm(_T(x), ct))), residuals=("partners",))


# ----- linear: the dense layer ------------------------------------------------------------------
#
# ``x @ w.T + b`` for a (rows, in) input, an (out, in) weight and an (out,) bias, as one
# primitive (PyTorch's addmm): composed, it is a transpose, a product, a broadcast and an
# add, and twice as many steps backward, for a layer that training loops run at every step.


def _linear_impl(xp, x, w, b):
    out = xp.matmul(x, w.T)
    out += b  # out is fresh: no second (rows, out) buffer
    return out


def _linear_jvp(primals, tangents):
    (x, w, b), (tx, tw, tb) = primals, tangents
    t = None if tx is None else _mm(tx, _T(w))
    if tw is not None:
        t = _add(t, _mm(x, _T(tw)))
    if tb is not None:
        t = _add(t, sh.broadcast_to(tb, (x.shape[0],) + tb.shape))
    return linear_p.bind(x, w, b), t


def _linear_batch(vals, bdims):
    (x, w, b), (dx, dw, db) = vals, bdims
    if dw is None and db is None:  # a batch of inputs is one taller input
        x = sh.moveaxis(x, dx, 0)
        out = linear_p.bind(sh.reshape(x, (-1, x.shape[-1])), w, b)
        return sh.reshape(out, x.shape[:2] + w.shape[:1]), 0
    x, w, b = move_to_front((x, w, b), bdims)
    return _mm(x, _T(w)) + sh.expand_dims(b, 1), 0


linear_p = defprim(
    "linear", impl=_linear_impl, shape=lambda x, w, b: ShapedArray((x.shape[0], w.shape[0]), x.dtype),
    jvp=_linear_jvp, batch=_linear_batch, residuals=("partners",),
    vjp=lambda ct, x, w, b, *, out: ((lambda: _mm(ct, w)), (lambda: _mm(_T(ct), x)),
                                     (lambda: red.sum(ct, axis=0))))


def _promote(*arrays, floating=False):
    dt = dtypes.result_type(*arrays)
    if floating and dt.kind not in "fc":
        dt = dtypes.float64  # NumPy's linear algebra computes integers in float64
    return [a if a.dtype == dt else el.astype(a, dt) for a in arrays]


# JAX's ``precision`` names (``jax.lax.Precision`` members by name, or strings). They choose between
# reduced-precision passes on TPUs and tensor cores; numpy and cupy compute every product in the
# operands' own dtype, the highest precision there is, so each is accepted and changes nothing.
_PRECISIONS = {"default", "high", "highest", "fastest", "bfloat16", "tensorfloat32", "float32", "bfloat16_3x",
               "tensorfloat32_3x"}


def _jax_product_options(opname, arrays, precision, preferred_element_type):
    """The operands of a product after JAX's ``precision`` and ``preferred_element_type`` options: the
    latter makes the product accumulate and return in that dtype."""
    for p in precision if isinstance(precision, (tuple, list)) else (precision,):
        if p is not None and str(getattr(p, "name", p)).lower() not in _PRECISIONS:
            raise ValueError(f"{opname}: precision must be None, a fnx.lax.Precision or one of "
                             f"{sorted(_PRECISIONS)} (or a pair of them), got {p!r}")
    if preferred_element_type is None:
        return arrays
    dt = dtypes.canonical(preferred_element_type)
    return [a if a.dtype == dt else el.astype(a, dt) for a in arrays]


def matmul(x1, x2, /, *, precision=None, preferred_element_type=None):
    """Matrix product with NumPy's rules, also the ``@`` operator.

    1-d operands are promoted to a row (left) or column (right) and the added
    axis removed again; leading dimensions broadcast as a stack of matrices.
    ``precision`` and ``preferred_element_type`` are JAX's: the first changes
    nothing here (numpy and cupy multiply in the operands' full precision), the
    second is the dtype the product accumulates in and returns.

    Raises:
      ShapeError: a 0-d operand, or inner dimensions that do not match.

    >>> import fnx.numpy as fnp
    >>> fnp.array([[1., 2.], [3., 4.]]) @ fnp.array([1., 1.])
    Array([3., 7.], dtype=float32)
    """
    if precision is None and preferred_element_type is None and not _autocast.state \
            and isinstance(x1, Array) and isinstance(x2, Array):
        # Matrices (or a vector, taken as a row or a column as below) of one dtype, the common case, skip
        # the checks and promotion below; a concrete pair computes what the general path's bind would.
        if type(x1) is Array and type(x2) is Array:
            a, b = x1._value, x2._value
            if type(a) is np.ndarray and type(b) is np.ndarray and a.dtype == b.dtype and x1._device is x2._device \
                    and 0 < a.ndim <= 2 and 0 < b.ndim <= 2 and a.shape[-1] == b.shape[0]:
                if a.ndim == 2 and b.ndim == 2:
                    return wrap(_matmul_impl(np, a, b), x1._device)
                out = _matmul_impl(np, a.reshape(-1, a.shape[-1]), b.reshape(b.shape[0], -1))
                return wrap(out.reshape(a.shape[:-1] + b.shape[1:]), x1._device)
        else:
            sa, sb = x1.shape, x2.shape
            if len(sa) == 2 and len(sb) == 2 and sa[1] == sb[0] and x1.dtype == x2.dtype \
                    and not x1.weak_type and not x2.weak_type:
                return matmul_p.bind(x1, x2)
    a, b = asarray(x1), asarray(x2)
    if precision is not None or preferred_element_type is not None:
        a, b = _jax_product_options("matmul", (a, b), precision, preferred_element_type)
    if _autocast.state:
        a, b = _autocast.lower(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError(f"matmul: operands must have at least one dimension, got shapes {a.shape} and {b.shape} "
                         f"(use multiply for scalars)")
    sa, sb = a.shape, b.shape
    a, b = _promote(a, b)
    if a.ndim == 1:
        a = sh.reshape(a, (1, sa[0]))
    if b.ndim == 1:
        b = sh.reshape(b, (sb[0], 1))
    if a.shape[-1] != b.shape[-2]:
        raise ShapeError(f"matmul: shapes {sa} and {sb} do not align: {sa[-1]} (axis {len(sa) - 1}) != "
                         f"{b.shape[-2]} (axis {max(len(sb) - 2, 0)})")
    try:
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    except ValueError:
        raise ShapeError(f"matmul: the stacks of shapes {sa} and {sb} do not broadcast: batch dimensions "
                         f"{a.shape[:-2]} and {b.shape[:-2]}") from None
    out = _matmul(a, b)
    if len(sa) == 1:
        out = sh.reshape(out, out.shape[:-2] + out.shape[-1:])
    if len(sb) == 1:
        out = sh.reshape(out, out.shape[:-1])
    return out


def _matmul(a, b):
    """``a @ b`` for operands of ndim >= 2 with matching inner dimensions."""
    ba, bb = a.shape[:-2], b.shape[:-2]
    if ba == bb:
        return matmul_p.bind(a, b)
    if not bb:  # a stack times one matrix: one tall product, no copies of b
        rows = int(np.prod(ba, dtype=np.int64)) * a.shape[-2]
        out = matmul_p.bind(sh.reshape(a, (rows, a.shape[-1])), b)
        return sh.reshape(out, ba + (a.shape[-2], b.shape[-1]))
    batch = np.broadcast_shapes(ba, bb)
    return matmul_p.bind(sh.broadcast_to(a, batch + a.shape[-2:]), sh.broadcast_to(b, batch + b.shape[-2:]))


# ----- einsum -------------------------------------------------------------------------------


def _split(spec):
    ins, out = spec.split("->")
    return ins.split(","), out


def _einsum_shape(*ops, spec):
    ins, out = _split(spec)
    sizes = {}
    for s, op in zip(ins, ops):
        sizes.update(zip(s, op.shape))
    return ShapedArray(tuple(sizes[c] for c in out), ops[0].dtype)


def _einsum_jvp(primals, tangents, *, spec):
    out = einsum_p.bind(*primals, spec=spec)
    t_out = None
    for k, t in enumerate(tangents):
        if t is not None:
            t_out = _add(t_out, einsum_p.bind(*primals[:k], t, *primals[k + 1:], spec=spec))
    return out, t_out


def _einsum_transpose(spec, k, ct, ops):
    """The cotangent of operand ``k``: the cotangent contracted with the other operands."""
    ins, out = _split(spec)
    target, x = ins[k], ops[k]
    fresh = iter(_letters(len(target), spec))
    renamed, eyes, seen = "", [], set()
    for c, d in zip(target, x.shape):
        if c in seen:  # a repeated index: the cotangent lives on the diagonal of (c, f)
            f = next(fresh)
            eyes.append((c + f, creation.eye(d, dtype=ct.dtype, device=ct.device)))
            renamed += f
        else:
            seen.add(c)
            renamed += c
    others = [(s, op) for i, (s, op) in enumerate(zip(ins, ops)) if i != k]
    reachable = set(out).union(*[s for s, _ in others + eyes])
    kept = "".join(c for c in renamed if c in reachable)
    terms = [out] + [s for s, _ in others] + [s for s, _ in eyes]
    g = _einsum_bind(",".join(terms) + "->" + kept, ct, *[op for _, op in others], *[e for _, e in eyes])
    if kept != renamed:  # indices summed inside operand k alone: spread the cotangent along them
        g = sh.reshape(g, tuple(d if c in reachable else 1 for c, d in zip(renamed, x.shape)))
        g = sh.broadcast_to(g, x.shape)
    return g


def _einsum_batch(vals, bdims, *, spec):
    # A fresh index for the batch axis, on the batched operands and in front of the output.
    ins, out = _split(spec)
    b = _letters(1, spec)
    terms = [t if d is None else b + t for t, d in zip(ins, bdims)]
    ops = [v if d in (None, 0) else sh.moveaxis(v, d, 0) for v, d in zip(vals, bdims)]
    return einsum_p.bind(*ops, spec=",".join(terms) + "->" + b + out), 0


@functools.lru_cache(maxsize=1024)
def _as_matmul(spec, shape_a, shape_b):
    """How to run two-operand ``spec`` as one (batched) matrix product, or None.

    Every index of such a spec is a batch index (in both operands and the
    output), a contracted one (both operands only) or a free one (one operand
    and the output). The plan: the transpose and shape that make each operand
    ``(batch, rows, k)`` / ``(batch, k, cols)``, the product's shape before the
    final transpose, and that transpose.
    """
    (a, b), out = _split(spec)
    if len(set(a)) != len(a) or len(set(b)) != len(b):
        return None
    if any(c not in b and c not in out for c in a) or any(c not in a and c not in out for c in b):
        return None
    size = dict(zip(a, shape_a)) | dict(zip(b, shape_b))
    if any(size[c] != d for c, d in zip(a, shape_a)):
        return None  # an index broadcast along one operand
    batch = [c for c in out if c in a and c in b]
    rows = [c for c in a if c in out and c not in b]
    cols = [c for c in b if c in out and c not in a]
    k = [c for c in a if c not in out]

    def prod(cs):
        return int(np.prod([size[c] for c in cs], dtype=np.int64))
    nb, m, n, nk = prod(batch), prod(rows), prod(cols), prod(k)
    perm_a = tuple(a.index(c) for c in batch + rows + k)
    perm_b = tuple(b.index(c) for c in batch + k + cols)
    mid = batch + rows + cols
    return (perm_a, (nb, m, nk), perm_b, (nb, nk, n), tuple(size[c] for c in mid),
            tuple(mid.index(c) for c in out))


def _einsum_impl(xp, *ops, spec):
    if len(ops) == 2:
        plan = _as_matmul(spec, ops[0].shape, ops[1].shape)
        if plan is not None:
            perm_a, shape_a, perm_b, shape_b, mid, perm_out = plan
            prod = xp.matmul(xp.transpose(ops[0], perm_a).reshape(shape_a),
                             xp.transpose(ops[1], perm_b).reshape(shape_b))
            return xp.transpose(prod.reshape(mid), perm_out)
    return opt_einsum.contract(spec, *ops, backend=xp.__name__)


einsum_p = defprim(
    "einsum", impl=_einsum_impl,
    shape=_einsum_shape, jvp=_einsum_jvp, batch=_einsum_batch,
    vjp=lambda ct, *ops, out, spec: tuple((lambda k=k: _einsum_transpose(spec, k, ct, ops))
                                          for k in range(len(ops))), residuals=("partners",))


def _einsum_bind(spec, *ops):
    """einsum on canonical operands, as a plain transpose (or nothing) where it is one."""
    ins, out = _split(spec)
    if len(ops) == 1 and len(set(ins[0])) == len(ins[0]) == len(out) and set(out) == set(ins[0]):
        return sh.transpose(ops[0], tuple(ins[0].index(c) for c in out))
    return einsum_p.bind(*ops, spec=spec)


@functools.lru_cache(maxsize=512)
def _canonical_subscripts(subscripts, shapes):
    """``'...ij,jk'`` and the operand shapes -> ``('Aij,jk->Aik', target shape of each operand)``.

    Ellipses become explicit indices, the implicit output is made explicit
    (ellipsis indices first, then the indices seen once, sorted), and every
    index gets one size: operands of size 1 along it are broadcast.
    """
    s = subscripts.replace(" ", "")
    ins, arrow, out = s.partition("->")
    terms = ins.split(",")
    if len(terms) != len(shapes):
        raise ShapeError(f"einsum: {subscripts!r} names {len(terms)} operand(s) but {len(shapes)} were given")
    named = [t.replace("...", "") for t in terms]
    for t, n in zip(terms + [out], named + [out.replace("...", "")]):
        if not all(c.isalpha() for c in n) or t.count("...") > 1:
            raise ValueError(f"einsum: invalid subscripts {subscripts!r}: use letters and at most one '...' per term")
    n_ell = 0
    for i, (t, n, shp) in enumerate(zip(terms, named, shapes)):
        extra = len(shp) - len(n)
        if extra < 0 or (extra and "..." not in t):
            raise ShapeError(f"einsum: operand {i} has shape {shp} but its subscripts {t!r} name {len(n)} axes")
        n_ell = max(n_ell, extra)
    ell = _letters(n_ell, s)
    terms = [t.replace("...", ell[n_ell - (len(shp) - len(n)):]) for t, n, shp in zip(terms, named, shapes)]
    if arrow:
        if n_ell and "..." not in out:
            raise ShapeError(f"einsum: the operands of {subscripts!r} have axes under '...' but the output has no "
                             f"'...' to keep them")
        out = out.replace("...", ell)
        for c in out:
            if out.count(c) > 1 or all(c not in t for t in terms):
                raise ValueError(f"einsum: output index {c!r} in {subscripts!r} is repeated or not in any input")
    else:
        counts = {}
        for c in "".join(terms):
            counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    sizes = {}
    for i, (t, shp) in enumerate(zip(terms, shapes)):
        within = {}
        for c, d in zip(t, shp):
            if within.setdefault(c, d) != d:
                raise ShapeError(f"einsum: index {c!r} repeats in operand {i} (shape {shp}) with sizes "
                                 f"{within[c]} and {d}")
            prev = sizes.get(c)
            if prev is None or prev == 1:
                sizes[c] = d
            elif d not in (1, prev):
                raise ShapeError(f"einsum: index {c!r} has size {prev} in one operand and {d} in operand {i}; "
                                 f"shapes {', '.join(map(str, shapes))}")
    targets = tuple(tuple(sizes[c] for c in t) for t in terms)
    return ",".join(terms) + "->" + out, targets


@functools.lru_cache(maxsize=512)
def _plan(spec, shapes, optimize):
    """The pairwise steps ``(positions, step subscripts)``, planned by opt_einsum once per spec and shapes.

    Each step pops the operands at ``positions`` (in that order) and appends its result.
    """
    opt = "auto" if optimize is True else list(optimize) if isinstance(optimize, tuple) else optimize
    _, info = opt_einsum.contract_path(spec, *shapes, shapes=True, optimize=opt)
    return tuple((tuple(c[0]), c[2]) for c in info.contraction_list)


def _interleaved(args):
    """``einsum(op0, sublist0, op1, sublist1, ..., [out])`` -> subscripts and operands."""
    def term(sub):
        return "".join("..." if i is Ellipsis else opt_einsum.get_symbol(operator.index(i)) for i in sub)
    ops, subs = list(args[0::2]), [term(s) for s in args[1::2]]
    if len(args) % 2:
        return ",".join(subs[:len(ops) - 1]) + "->" + term(ops.pop()), ops
    return ",".join(subs), ops


def einsum(subscripts, *operands, dtype=None, optimize=True, precision=None, preferred_element_type=None):
    """Einstein summation, as ``numpy.einsum`` (also in the interleaved ``op, sublist`` form).

    Repeated indices (diagonals, traces), ``...`` and size-1 broadcasting work as
    in NumPy. Unlike NumPy, ``optimize`` defaults to True: the contraction order
    is planned by opt_einsum (``"greedy"``, ``"optimal"``, an explicit path, or
    False for one contraction of all operands) and cached per subscripts and
    shapes; each pairwise step is differentiable. ``out``, ``order`` and
    ``casting`` are not supported; JAX's ``precision`` and
    ``preferred_element_type`` are, as in :func:`matmul`.

    >>> import fnx.numpy as fnp
    >>> a = fnp.array([[1., 2.], [3., 4.]])
    >>> fnp.einsum("ij,jk->ik", a, a)
    Array([[ 7., 10.],
           [15., 22.]], dtype=float32)
    >>> fnp.einsum("ii", a)
    Array(5., dtype=float32)
    """
    if not isinstance(subscripts, str):
        subscripts, operands = _interleaved((subscripts,) + operands)
    elif len(operands) == 1 and isinstance(operands[0], (list, tuple)) and "," in subscripts.split("->")[0]:
        operands = tuple(operands[0])  # torch.einsum's list of operands: subscripts naming several need several
    ops = [asarray(o) for o in operands]
    if precision is not None or preferred_element_type is not None:
        ops = _jax_product_options("einsum", ops, precision, preferred_element_type)
    if _autocast.state and dtype is None:  # an explicit dtype opts out of autocast, as in PyTorch
        ops = _autocast.lower(*ops)
    if not ops:
        raise ValueError("einsum: at least one operand is needed")
    if dtype is not None:
        ops = [el.astype(o, dtype) for o in ops]
    ops = _promote(*ops)
    spec, targets = _canonical_subscripts(subscripts, tuple(o.shape for o in ops))
    ops = [o if o.shape == t else sh.broadcast_to(o, t) for o, t in zip(ops, targets)]
    if isinstance(optimize, (list, tuple)):
        optimize = tuple(tuple(p) for p in optimize if p != "einsum_path")
    if len(ops) <= 2 or optimize is False:
        return _einsum_bind(spec, *ops)
    for positions, step in _plan(spec, targets, optimize):
        args = [ops.pop(i) for i in positions]
        ops.append(_einsum_bind(step, *args))
    return ops[0]


# ----- products built on matmul and einsum ----------------------------------------------------


def tensordot(a, b, axes=2, *, precision=None, preferred_element_type=None):
    """Sum of products over ``axes`` (an int ``n``: the last n of ``a`` and first n of ``b``;
    or a pair of axis sequences), as ``numpy.tensordot``.

    >>> import fnx.numpy as fnp
    >>> fnp.tensordot(fnp.ones((2, 3)), fnp.ones((3, 4)), axes=1).shape
    (2, 4)
    """
    a, b = _jax_product_options("tensordot", (asarray(a), asarray(b)), precision, preferred_element_type)
    a, b = _promote(a, b)
    if isinstance(axes, (int, np.integer)):
        if not 0 <= axes <= min(a.ndim, b.ndim):
            raise ShapeError(f"tensordot: axes={axes} is not valid for shapes {a.shape} and {b.shape}")
        ax_a, ax_b = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        ax_a, ax_b = ([x] if isinstance(x, (int, np.integer)) else list(x) for x in axes)
        if len(ax_a) != len(ax_b):
            raise ShapeError(f"tensordot: axes {axes} pair up {len(ax_a)} axes of a with {len(ax_b)} of b")
        ax_a = [normalize_axis("tensordot", i, a.ndim) for i in ax_a]
        ax_b = [normalize_axis("tensordot", i, b.ndim) for i in ax_b]
    for i, j in zip(ax_a, ax_b):
        if a.shape[i] != b.shape[j]:
            raise ShapeError(f"tensordot: shapes {a.shape} and {b.shape} do not align: {a.shape[i]} (axis {i} of a) "
                             f"!= {b.shape[j]} (axis {j} of b)")
    la = _letters(a.ndim)
    lb = [None] * b.ndim
    for i, j in zip(ax_a, ax_b):
        lb[j] = la[i]
    free_b = iter(_letters(b.ndim, la))
    lb = "".join(c if c is not None else next(free_b) for c in lb)
    out = "".join(c for i, c in enumerate(la) if i not in ax_a) + "".join(c for c in lb if c not in la)
    return _einsum_bind(f"{la},{lb}->{out}", a, b)


def dot(a, b, *, precision=None, preferred_element_type=None):
    """Dot product as ``numpy.dot``: ``matmul`` for 1-d and 2-d operands, otherwise a sum
    over the last axis of ``a`` and the second-to-last of ``b`` (not a batched product).

    >>> import fnx.numpy as fnp
    >>> fnp.dot(fnp.array([1., 2.]), fnp.array([3., 4.]))
    Array(11., dtype=float32)
    """
    a, b = asarray(a), asarray(b)
    if precision is not None or preferred_element_type is not None:
        a, b = _jax_product_options("dot", (a, b), precision, preferred_element_type)
    if a.ndim == 0 or b.ndim == 0:
        return el.multiply(a, b)
    j = 0 if b.ndim == 1 else b.ndim - 2
    if a.shape[-1] != b.shape[j]:
        raise ShapeError(f"dot: shapes {a.shape} and {b.shape} do not align: {a.shape[-1]} (axis {a.ndim - 1}) != "
                         f"{b.shape[j]} (axis {j})")
    if a.ndim <= 2 and b.ndim <= 2 or b.ndim == 1:
        return matmul(a, b)
    return tensordot(a, b, axes=([a.ndim - 1], [j]))


def inner(a, b, *, precision=None, preferred_element_type=None):
    """Sum of products over the last axes of ``a`` and ``b``, as ``numpy.inner``."""
    a, b = asarray(a), asarray(b)
    a, b = _jax_product_options("inner", (a, b), precision, preferred_element_type)
    if a.ndim == 0 or b.ndim == 0:
        return el.multiply(a, b)
    if a.shape[-1] != b.shape[-1]:
        raise ShapeError(f"inner: the last axes of shapes {a.shape} and {b.shape} differ")
    return tensordot(a, b, axes=([-1], [-1]))


def vdot(a, b, /, *, precision=None, preferred_element_type=None):
    """Dot product of the flattened inputs, conjugating the first, as ``numpy.vdot``."""
    a, b = sh.ravel(asarray(a)), sh.ravel(asarray(b))
    a, b = _jax_product_options("vdot", (a, b), precision, preferred_element_type)
    if a.shape != b.shape:
        raise ShapeError(f"vdot: the inputs have {a.size} and {b.size} elements; they must have the same number")
    if a.dtype.kind == "c":
        from . import conj
        a = conj(a)
    return tensordot(a, b, axes=1)


def outer(a, b):
    """``out[i, j] = a.ravel()[i] * b.ravel()[j]``, as ``numpy.outer``."""
    a, b = sh.ravel(asarray(a)), sh.ravel(asarray(b))
    return el.multiply(sh.reshape(a, (a.shape[0], 1)), b)


def vecdot(x1, x2, /, *, axis=-1):
    """Vector dot product over ``axis`` with broadcasting (conjugating ``x1``), as ``numpy.vecdot``."""
    x1, x2 = asarray(x1), asarray(x2)
    if x1.ndim == 0 or x2.ndim == 0:
        raise ShapeError("vecdot: the inputs must have at least one dimension")
    # ``axis`` names each operand's own vector axis (a gufunc's core dimension), before broadcasting.
    a = sh.moveaxis(x1, normalize_axis("vecdot", axis, x1.ndim), -1)
    b = sh.moveaxis(x2, normalize_axis("vecdot", axis, x2.ndim), -1)
    if a.shape[-1] != b.shape[-1]:
        raise ShapeError(f"vecdot: the vectors along axis {axis} of shapes {x1.shape} and {x2.shape} have lengths "
                         f"{a.shape[-1]} and {b.shape[-1]}")
    (a, b), _ = canonicalize("vecdot", a, b)
    if a.dtype.kind == "c":
        from . import conj
        a = conj(a)
    la = _letters(a.ndim)
    return _einsum_bind(f"{la},{la}->{la[:-1]}", a, b)


def kron(a, b):
    """Kronecker product, as ``numpy.kron``: blocks ``a[i, j] * b``."""
    a, b = asarray(a), asarray(b)
    nd = max(a.ndim, b.ndim, 1)
    sa, sb = (1,) * (nd - a.ndim) + a.shape, (1,) * (nd - b.ndim) + b.shape
    x = sh.reshape(a, tuple(d for n in sa for d in (n, 1)))
    y = sh.reshape(b, tuple(d for n in sb for d in (1, n)))
    return sh.reshape(el.multiply(x, y), tuple(p * q for p, q in zip(sa, sb)))


def trace(x, /, *, offset=0, dtype=None):
    """Sum along a diagonal of the matrices in the last two axes, as ``numpy.linalg.trace``.

    >>> import fnx.numpy as fnp
    >>> fnp.linalg.trace(fnp.ones((2, 3, 3)))
    Array([3., 3.], dtype=float32)
    """
    return numpy_trace(x, offset, -2, -1, dtype)


def numpy_trace(a, offset=0, axis1=0, axis2=1, dtype=None):
    """Sum along a diagonal of the ``(axis1, axis2)`` planes, as ``numpy.trace`` (``fnp.trace``).

    Integers and booleans sum as int64 like ``numpy.trace``.

    >>> import fnx.numpy as fnp
    >>> fnp.trace(fnp.array([[1., 2.], [3., 4.]]))
    Array(5., dtype=float32)
    """
    x = asarray(a)
    if x.ndim < 2:
        raise ShapeError(f"trace: needs an array of at least two dimensions, got shape {x.shape}")
    i, j = normalize_axis("trace", axis1, x.ndim), normalize_axis("trace", axis2, x.ndim)
    if i == j:
        raise ValueError(f"trace: axis1 and axis2 must differ, both are {i}")
    if dtype is not None:
        x = el.astype(x, dtype)
    elif x.dtype.kind == "b" or (x.dtype.kind in "iu" and x.dtype.itemsize < 8):
        x = el.astype(x, np.uint64 if x.dtype.kind == "u" else np.int64)
    x = sh.moveaxis(x, (i, j), (-2, -1))
    from .indexing import slice_axis
    n, m = x.shape[-2:]
    k = max(0, min(n + min(offset, 0), m - max(offset, 0)))
    if k == 0:
        return creation.zeros(x.shape[:-2], dtype=x.dtype, device=x.device)
    x = slice_axis(slice_axis(x, x.ndim - 2, max(-offset, 0), max(-offset, 0) + k),
                   x.ndim - 1, max(offset, 0), max(offset, 0) + k)
    return _tr(x)


def multi_dot(arrays):
    """``A @ B @ C @ ...`` multiplied in the order with the fewest operations, as ``numpy.linalg.multi_dot``.

    The first array may be 1-d (a row) and the last 1-d (a column); the others are 2-d.
    """
    arrays = [asarray(x) for x in arrays]
    if len(arrays) < 2:
        raise ValueError("multi_dot: expecting at least two arrays")
    first, last = arrays[0].ndim == 1, arrays[-1].ndim == 1
    if first:
        arrays[0] = sh.reshape(arrays[0], (1, -1))
    if last:
        arrays[-1] = sh.reshape(arrays[-1], (-1, 1))
    for k, x in enumerate(arrays):
        if x.ndim != 2:
            raise ShapeError(f"multi_dot: array {k} has shape {x.shape}; all but the first and last must be 2-d")
    dims = [x.shape[0] for x in arrays] + [arrays[-1].shape[1]]
    n = len(arrays)
    cost, split = {}, {}
    for i in range(n):  # the classic matrix-chain dynamic programme
        cost[i, i] = 0
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i, j], split[i, j] = min((cost[i, k] + cost[k + 1, j] + dims[i] * dims[k + 1] * dims[j + 1], k)
                                          for k in range(i, j))

    def chain(i, j):
        return arrays[i] if i == j else matmul(chain(i, split[i, j]), chain(split[i, j] + 1, j))
    out = chain(0, n - 1)
    if first and last:
        return sh.reshape(out, ())
    if first or last:
        return sh.reshape(out, (-1,))
    return out


def matrix_power(a, n):
    """``a`` multiplied by itself ``n`` times (``n`` < 0 uses ``inv(a)``; 0 gives identities).

    >>> import fnx.numpy as fnp
    >>> fnp.linalg.matrix_power(fnp.array([[1., 1.], [0., 1.]]), 3)
    Array([[1., 3.],
           [0., 1.]], dtype=float32)
    """
    a = _square("matrix_power", asarray(a))
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"matrix_power: the exponent must be an integer, got {n!r}") from None
    if n == 0:
        return sh.broadcast_to(creation.eye(a.shape[-1], dtype=a.dtype, device=a.device), a.shape)
    if n < 0:
        a, n = inv(a), -n
    result, z = None, a
    while True:  # binary powering: square z, multiply it in for each set bit of n
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else matmul(result, z)
        if not n:
            return result
        z = matmul(z, z)


def matrix_transpose(x, /):
    """Transposes the last two axes, as ``numpy.linalg.matrix_transpose``."""
    x = asarray(x)
    if x.ndim < 2:
        raise ShapeError(f"matrix_transpose: needs at least two dimensions, got shape {x.shape}")
    return _T(x)


# ----- inverse, solve, determinants -------------------------------------------------------------


def _square(opname, x, floating=False):
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ShapeError(f"{opname}: expected a square matrix or a stack of them in the last two axes, "
                         f"got shape {x.shape}")
    if floating:
        (x,) = _promote(x, floating=True)
    return x


def _matrix(opname, x):
    if x.ndim < 2:
        raise ShapeError(f"{opname}: expected a matrix or a stack of them, got shape {x.shape}")
    (x,) = _promote(x, floating=True)
    return x


inv_p = defprim(
    "inv", impl=lambda xp, x: xp.linalg.inv(x), shape=same_shape,
    jvp=lambda primals, tangents: _inv_jvp(*primals, *tangents),
    vjp=lambda ct, x, *, out: (-_mm(_mm(_T(out), ct), _T(out)),),
    batch=lambda vals, bdims: _front(inv_p, vals, bdims, {}))


def _inv_jvp(x, t):
    out = inv_p.bind(x)
    return out, -_mm(_mm(out, t), out)


def inv(a):
    """The inverse of a square matrix (or of each in a stack).

    >>> import fnx.numpy as fnp
    >>> fnp.linalg.inv(fnp.array([[2., 0.], [0., 4.]]))
    Array([[0.5 , 0.  ],
           [0.  , 0.25]], dtype=float32)
    """
    return inv_p.bind(_square("inv", asarray(a), floating=True))


def _solve_jvp(primals, tangents):
    (a, b), (ta, tb) = primals, tangents
    out = solve_p.bind(a, b)
    rhs = tb
    if ta is not None:
        rhs = -_mm(ta, out) if rhs is None else rhs - _mm(ta, out)
    return out, solve_p.bind(a, rhs)


def _solve_vjp(ct, a, b, *, out):
    ct_b = _lazy(lambda: solve_p.bind(_T(a), ct))
    return (lambda: -_mm(ct_b(), _T(out))), ct_b


solve_p = defprim("solve", impl=lambda xp, a, b: xp.linalg.solve(a, b),
                  shape=lambda a, b: ShapedArray(b.shape, b.dtype), jvp=_solve_jvp, vjp=_solve_vjp,
                  batch=lambda vals, bdims: _front(solve_p, vals, bdims, {}))


def solve(a, b):
    """The solution ``x`` of ``a @ x = b``, as ``numpy.linalg.solve`` (NumPy 2 rules).

    ``b`` is a vector when it is 1-d, otherwise a (stack of) matrices; leading
    dimensions of ``a`` and ``b`` broadcast.

    >>> import fnx.numpy as fnp
    >>> fnp.linalg.solve(fnp.array([[2., 0.], [0., 4.]]), fnp.array([2., 2.]))
    Array([1. , 0.5], dtype=float32)
    """
    a, b = asarray(a), asarray(b)
    _square("solve", a)
    a, b = _promote(a, b, floating=True)
    vector = b.ndim == 1
    if vector:
        b = sh.reshape(b, (b.shape[0], 1))
    if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
        raise ShapeError(f"solve: a has shape {a.shape} and b has shape {b.shape}: b needs {a.shape[-1]} rows "
                         f"(its only axis if 1-d, otherwise axis -2)")
    batch = broadcast_shapes("solve", a.shape[:-2], b.shape[:-2])
    a, b = sh.broadcast_to(a, batch + a.shape[-2:]), sh.broadcast_to(b, batch + b.shape[-2:])
    out = solve_p.bind(a, b)
    return sh.reshape(out, out.shape[:-1]) if vector else out


def _expand2(x):
    return sh.expand_dims(x, (-2, -1))


# det's derivative is the cofactor matrix ``det(x) x^-T``, which is defined at a singular x too (a rank
# n-1 matrix has a nonzero one): its own primitive computes it from the SVD ``x = u diag(s) vh`` as
# ``det(u) det(vh) u diag(p) vh`` (conjugated for complex x), ``p_i`` the product of the other singular
# values, so no inverse is formed (JAX's det gradient is the same there).


def _cofactor_impl(xp, x):
    u, s, vh = xp.linalg.svd(x)
    ones = xp.ones(s.shape[:-1] + (1,), s.dtype)
    before = xp.cumprod(xp.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    after = xp.flip(xp.cumprod(xp.flip(xp.concatenate([s[..., 1:], ones], axis=-1), axis=-1), axis=-1), axis=-1)
    others = (before * after).astype(x.dtype)
    phase = xp.linalg.det(u) * xp.linalg.det(vh)
    if x.dtype.kind == "c":
        u, vh = xp.conj(u), xp.conj(vh)
    return xp.matmul(u * others[..., None, :], vh) * phase[..., None, None]


# The cofactor's own derivative, d(det x x^-T) = C tr(x^-1 dx) - C dx^T x^-T, needs the inverse: second
# derivatives of det are taken where x is invertible.
def _cofactor_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    out, x_inv = cofactor_p.bind(x), inv_p.bind(x)
    return out, out * _expand2(_tr(_mm(x_inv, t))) - _mm(_mm(out, _T(t)), _T(x_inv))


def _cofactor_vjp(ct, x, *, out):
    x_inv_t = _T(inv_p.bind(x))
    return (_expand2(red.sum(ct * out, axis=(-2, -1))) * x_inv_t - _mm(_mm(x_inv_t, _T(ct)), out),)


cofactor_p = defprim("det_cofactor", impl=_cofactor_impl, shape=same_shape, jvp=_cofactor_jvp, vjp=_cofactor_vjp,
                     batch=lambda vals, bdims: _front(cofactor_p, vals, bdims, {}))

det_p = defprim(
    "det", impl=lambda xp, x: xp.linalg.det(x), shape=lambda x: ShapedArray(x.shape[:-2], x.dtype),
    jvp=lambda primals, tangents: _det_jvp(*primals, *tangents),
    vjp=lambda ct, x, *, out: (_expand2(ct) * cofactor_p.bind(x),),
    batch=lambda vals, bdims: _front(det_p, vals, bdims, {}))


def _det_jvp(x, t):
    return det_p.bind(x), red.sum(cofactor_p.bind(x) * t, axis=(-2, -1))


def det(a):
    """The determinant of a square matrix (or of each in a stack).

    >>> import fnx.numpy as fnp
    >>> fnp.linalg.det(fnp.array([[1., 2.], [3., 4.]]))
    Array(-2., dtype=float32)
    """
    return det_p.bind(_square("det", asarray(a), floating=True))


def _slogdet_impl(xp, x):
    sign, logabsdet = xp.linalg.slogdet(x)
    return sign, logabsdet


# With tau = tr(x^-1 dx): d log|det x| = Re(tau), and for complex x the sign (a phase) turns by
# d sign = sign * i Im(tau), as JAX's rule has it; a real sign is piecewise constant.

def _slogdet_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    sign, logabsdet = slogdet_p.bind(x)
    tau = _tr(solve_p.bind(x, t))
    if x.dtype.kind != "c":
        return (sign, logabsdet), (None, tau)
    return (sign, logabsdet), (sign * (1j * el.imag(tau)), el.real(tau))


def _slogdet_vjp(ct, x, *, out):
    ct_sign, ct_log = ct
    ct_tau = ct_log
    if x.dtype.kind == "c":
        ct_tau = el.astype(ct_log, x.dtype)
        if ct_sign is not None:
            ct_tau = ct_tau - 1j * el.real(1j * out[0] * ct_sign)
    return (_expand2(ct_tau) * _T(inv_p.bind(x)),)


def _slogdet_shape(x):
    # log|det| is real; the sign of a complex matrix is a phase
    return ShapedArray(x.shape[:-2], x.dtype), ShapedArray(x.shape[:-2], el._real_dtype(x.dtype))


slogdet_p = defprim(
    "slogdet", impl=_slogdet_impl, multiple_results=True, shape=_slogdet_shape, jvp=_slogdet_jvp,
    vjp=_slogdet_vjp, batch=lambda vals, bdims: _front(slogdet_p, vals, bdims, {}))


def slogdet(a):
    """``(sign, log|det|)`` of a square matrix (or of each in a stack), as a namedtuple.

    Only ``logabsdet`` carries a derivative; ``sign`` is piecewise constant.

    >>> import fnx.numpy as fnp
    >>> fnp.linalg.slogdet(fnp.array([[0., 2.], [1., 0.]])).sign
    Array(-1., dtype=float32)
    """
    return SlogdetResult(*slogdet_p.bind(_square("slogdet", asarray(a), floating=True)))


# ----- pseudo-inverse ----------------------------------------------------------------------------


def _pinv_jvp(primals, tangents, *, rcond):
    # Golub & Pereyra (1973), for a matrix of constant rank:
    # dP = -P dA P + P P^H dA^H (I - A P) + (I - P A) dA^H P^H P
    (a, ), (t, ) = primals, tangents
    p = pinv_p.bind(a, rcond=rcond)
    tt = _H(t)
    w = _mm(_mm(p, _H(p)), tt)
    z = _mm(tt, _mm(_H(p), p))
    return p, -_mm(_mm(p, t), p) + w - _mm(_mm(w, a), p) + z - _mm(p, _mm(a, z))


def _pinv_vjp(ct, a, *, out, rcond):
    if a.dtype.kind == "c":
        return _transposed_jvp(_pinv_jvp, a, (ct,), (out,), rcond=rcond)
    p, pt = out, _T(out)
    y = _mm(_T(ct), _mm(p, pt))
    v = _mm(_mm(pt, p), _T(ct))
    return (-_mm(_mm(pt, ct), pt) + y - _mm(a, _mm(p, y)) + v - _mm(_mm(v, p), a),)


pinv_p = defprim("pinv", impl=lambda xp, x, *, rcond: xp.linalg.pinv(x, rcond=rcond),
                 shape=lambda x, *, rcond: ShapedArray(x.shape[:-2] + x.shape[:-3:-1], x.dtype),
                 jvp=_pinv_jvp, vjp=_pinv_vjp,
                 batch=lambda vals, bdims, **params: _front(pinv_p, vals, bdims, params))


def pinv(a, rcond=None, hermitian=False, *, rtol=np._NoValue):
    """Moore-Penrose pseudo-inverse, as ``numpy.linalg.pinv``.

    Singular values below ``rcond * largest`` are dropped (NumPy's defaults for
    ``rcond`` and ``rtol``); unlike NumPy, ``rcond`` must be a scalar, and
    ``hermitian`` is accepted but the general algorithm is always used. The
    derivative holds where the rank is locally constant.
    """
    x = _matrix("pinv", asarray(a))
    if rcond is None:
        rcond = 1e-15 if rtol is np._NoValue else (max(x.shape[-2:]) * np.finfo(x.dtype).eps if rtol is None
                                                    else rtol)
    elif rtol is not np._NoValue:
        raise ValueError("pinv: give rcond or rtol, not both")
    try:
        rcond = float(rcond)
    except TypeError:
        raise TypeError(f"pinv: rcond must be a scalar in fnx, got {rcond!r}") from None
    return pinv_p.bind(x, rcond=rcond)


# ----- Cholesky ---------------------------------------------------------------------------------


def _phi(n, dtype, device=None):
    """Mask of Murray's Phi: the lower triangle with the diagonal halved."""
    return _tri(n, -1, dtype, device) + 0.5 * creation.eye(n, dtype=dtype, device=device)


def _cholesky_jvp(primals, tangents):
    # dL = L Phi(L^-1 dA L^-H) (Murray 2016), with dA made Hermitian like the input.
    (x,), (t,) = primals, tangents
    low = cholesky_p.bind(x)
    m = _H(solve_p.bind(low, _H(solve_p.bind(low, _hsym(t)))))
    return low, _mm(low, m * _phi(x.shape[-1], el._real_dtype(x.dtype), x.device))


def _cholesky_vjp(ct, x, *, out):
    # The transpose of the JVP under sum(a * b): hsym(L^-T Phi(L^T ct) conj(L)^-1).
    lt = _T(out)
    z = solve_p.bind(lt, _mm(lt, ct) * _phi(x.shape[-1], el._real_dtype(x.dtype), x.device))
    return (_hsym(_T(solve_p.bind(_H(out), _T(z)))),)


cholesky_p = defprim(
    "cholesky", impl=lambda xp, x: xp.linalg.cholesky(_hermitian_part(xp, x)),
    shape=same_shape, jvp=_cholesky_jvp, vjp=_cholesky_vjp,
    batch=lambda vals, bdims: _front(cholesky_p, vals, bdims, {}))


# ----- where a factorization fails: LAPACK's info ------------------------------------------------
#
# PyTorch's ``*_ex`` functions return LAPACK's ``info`` beside their result instead of raising, and their
# raising forms name the failing minor or pivot. These two primitives give both the info and the values
# LAPACK leaves behind on failure (potf2's partial factor; getrf and getrs's infinities), by running those
# routines' column steps over a whole stack at once. NumPy raises instead, so on the CPU the steps run only
# for a stack NumPy refuses.


def _stack(x):
    return x.reshape((-1,) + x.shape[-2:])


def _potf2_impl(xp, a):
    """``(info, factor)``: LAPACK's unblocked lower Cholesky (potf2) of each matrix of ``a``, which stops at the
    first pivot that is not positive (``info``, counted from 1; 0 when none), leaving it unrooted and the
    columns after it as they were."""
    if xp is np:
        try:
            return np.zeros(a.shape[:-2], np.int32), np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            pass
    work = _stack(xp.tril(a))
    info = xp.zeros(work.shape[0], np.int32)
    for j in range(a.shape[-1]):
        row = work[:, j, :j]
        pivot = work[:, j, j] - (row * row.conj()).sum(-1)
        pivot = pivot.real if pivot.dtype.kind == "c" else pivot
        failed = (info == 0) & ~(pivot > 0)  # (NaN fails too)
        info[failed] = j + 1
        going = info == 0
        root = xp.sqrt(xp.where(going, pivot, 1))
        work[:, j, j] = xp.where(going, root, xp.where(failed, pivot, work[:, j, j]))
        below = work[:, j + 1:, j] - (work[:, j + 1:, :j] @ row.conj()[:, :, None])[:, :, 0]
        work[:, j + 1:, j] = xp.where(going[:, None], below / root[:, None], work[:, j + 1:, j])
    return info.reshape(a.shape[:-2]), work.reshape(a.shape)


def _getrf_solve_impl(xp, a, b, *, transpose=False):
    """``(info, x)``: LAPACK's LU with partial pivoting (getrf) of each matrix of ``a`` and the solution of
    ``a x = b`` from it (getrs; ``aᵀ x = b`` with ``transpose``, from the same factors). ``info`` is the first
    exactly zero pivot, counted from 1 (0 when none); the factorization goes on past it, and the triangular
    solves multiply by its reciprocal, giving the infinities and NaNs that LAPACK's optimised solvers give."""
    if xp is np:
        try:
            return np.zeros(a.shape[:-2], np.int32), np.linalg.solve(np.swapaxes(a, -1, -2) if transpose else a, b)
        except np.linalg.LinAlgError:
            pass
    lu, x = _stack(a).copy(), _stack(b).copy()
    n, rows = a.shape[-1], xp.arange(lu.shape[0])
    info = xp.zeros(lu.shape[0], np.int32)
    swaps = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for j in range(n):
            p = j + xp.argmax(abs(lu[:, j:, j]), axis=1)
            swaps.append(p)
            for m in (lu,) if transpose else (lu, x):
                _swap_rows(m, rows, j, p)
            pivot = lu[:, j, j]
            info[(info == 0) & (pivot == 0)] = j + 1
            scaled = lu[:, j + 1:, j] * (1 / xp.where(pivot == 0, 1, pivot))[:, None]  # a zero pivot's column is 0
            lu[:, j + 1:, j] = scaled
            lu[:, j + 1:, j + 1:] -= scaled[:, :, None] * lu[:, j, None, j + 1:]
        if not transpose:
            for k in range(n):  # L has a unit diagonal
                x[:, k + 1:] -= lu[:, k + 1:, k, None] * x[:, k, None]
            for k in reversed(range(n)):
                x[:, k] *= (1 / lu[:, k, k])[:, None]
                x[:, :k] -= lu[:, :k, k, None] * x[:, k, None]
        else:  # Uᵀ, then Lᵀ, then the row swaps undone
            for k in range(n):
                x[:, k] *= (1 / lu[:, k, k])[:, None]
                x[:, k + 1:] -= lu[:, k, k + 1:, None] * x[:, k, None]
            for k in reversed(range(n)):
                x[:, :k] -= lu[:, k, :k, None] * x[:, k, None]
            for j in reversed(range(n)):
                _swap_rows(x, rows, j, swaps[j])
    return info.reshape(a.shape[:-2]), x.reshape(b.shape)


def _swap_rows(m, rows, j, p):
    """Row ``j`` of each matrix of the stack ``m`` trades places with its row ``p`` (one per matrix)."""
    taken = m[rows, p].copy()
    m[rows, p] = m[:, j]
    m[:, j] = taken


def _info_shape(a, *rest):
    return ShapedArray(a.shape[:-2], dtypes.int32), ShapedArray((rest or (a,))[0].shape, a.dtype)


cholesky_info_p = not_differentiable(
    "cholesky_info", _potf2_impl, _info_shape, multiple_results=True,
    batch=lambda vals, bdims: _front(cholesky_info_p, vals, bdims, {}))
solve_info_p = not_differentiable(
    "solve_info", _getrf_solve_impl, lambda a, b, *, transpose: _info_shape(a, b), multiple_results=True,
    batch=lambda vals, bdims, **params: _front(solve_info_p, vals, bdims, params))


def cholesky(a, /, *, upper=False):
    """Cholesky factor ``L`` (lower triangular, ``a = L @ L^H``) of a Hermitian (real symmetric)
    positive-definite matrix.

    Computed from the Hermitian part ``(a + a^H) / 2`` (NumPy reads only the
    lower triangle; the two agree on Hermitian input). ``upper=True`` returns
    ``L^H``, as NumPy does.

    >>> import fnx.numpy as fnp
    >>> fnp.linalg.cholesky(fnp.array([[4., 2.], [2., 2.]]))
    Array([[2., 0.],
           [1., 1.]], dtype=float32)
    """
    low = cholesky_p.bind(_square("cholesky", asarray(a), floating=True))
    return _H(low) if upper else low


# ----- QR ----------------------------------------------------------------------------------------


def _qr_check(x, complete):
    m, n = x.shape[-2:]
    if m < n or (complete and m != n):
        raise NotImplementedError(f"qr: derivatives need mode='reduced' and rows >= columns; got shape {x.shape}"
                                  f"{' and mode=complete' if complete else ''} (Q is not unique there)")


def _qr_jvp(primals, tangents, *, complete):
    # dQ = C + Q (W - B), dR = (B - W) R with C = dA R^-1, B = Q^H C, W = tril(B, -1) - tril(B, -1)^H
    # (+ i Im diag(B) for complex input, which keeps R's diagonal real, as JAX's rule has it)
    (x,), (t,) = primals, tangents
    _qr_check(x, complete)
    q, r = qr_p.bind(x, complete=complete)
    c = _T(solve_p.bind(_T(r), _T(t)))
    b = _mm(_H(q), c)
    low = b * _tri(b.shape[-1], -1, el._real_dtype(b.dtype), b.device)
    w = low - _H(low)
    if x.dtype.kind == "c":
        w = w + _diag_embed(1j * el.imag(_diag(b)))
    return (q, r), (c + _mm(q, w - b), _mm(b - w, r))


def _qr_vjp(ct, x, *, out, complete):
    # The transpose of the JVP: with M = Q^T ct_Q - ct_R R^T, ct_A = (ct_Q + Q (tril(M - M^T, -1) - M)) R^-T.
    _qr_check(x, complete)
    if x.dtype.kind == "c":
        return _transposed_jvp(_qr_jvp, x, ct, out, complete=complete)
    (ct_q, ct_r), (q, r) = ct, out
    m = _mm(_T(q), ct_q) - _mm(ct_r, _T(r))
    n = (m - _T(m)) * _tri(m.shape[-1], -1, m.dtype, m.device) - m
    return (_T(solve_p.bind(r, _T(ct_q + _mm(q, n)))),)


def _qr_shape(x, *, complete):
    m, n = x.shape[-2:]
    k = m if complete else min(m, n)
    return ShapedArray(x.shape[:-2] + (m, k), x.dtype), ShapedArray(x.shape[:-2] + (k, n), x.dtype)


qr_p = defprim("qr", impl=lambda xp, x, *, complete: tuple(xp.linalg.qr(x, "complete" if complete else "reduced")),
               shape=_qr_shape, jvp=_qr_jvp, vjp=_qr_vjp, multiple_results=True,
               batch=lambda vals, bdims, **params: _front(qr_p, vals, bdims, params))


def qr(a, mode="reduced"):
    """QR decomposition ``a = Q @ R`` of a matrix (or a stack), as ``numpy.linalg.qr``.

    ``mode`` is ``"reduced"`` (a namedtuple ``(Q, R)``), ``"complete"`` or
    ``"r"`` (``R`` alone). Differentiable in reduced mode, also for wide
    matrices (``Q R`` of the leading square block, then ``Q^T`` times the rest);
    ``"complete"`` with more rows than columns has no derivative.

    >>> import fnx.numpy as fnp
    >>> q, r = fnp.linalg.qr(fnp.array([[3., 0.], [4., 5.]]))
    >>> fnp.abs(r[0, 0])
    Array(5., dtype=float32)
    """
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    x = _matrix("qr", asarray(a))
    m, n = x.shape[-2:]
    if m < n:  # a wide matrix: Q comes from the leading square block alone
        from .indexing import slice_axis
        q, r1 = qr_p.bind(slice_axis(x, x.ndim - 1, 0, m), complete=False)
        r = sh.concatenate([r1, _mm(_H(q), slice_axis(x, x.ndim - 1, m, n))], axis=-1)
    else:
        q, r = qr_p.bind(x, complete=mode == "complete" and m > n)
    return r if mode == "r" else QRResult(q, r)


# ----- symmetric eigenproblem --------------------------------------------------------------------


def _eigh_impl(xp, x):
    w, v = xp.linalg.eigh(_hermitian_part(xp, x))
    return w, v


# For a Hermitian x = V diag(w) V^H and a tangent t (its Hermitian part, as the solver reads x), with
# K = V^H t V: dw = Re diag(K), dV = V (F * K). The VJP is that map's transpose under sum(a * b), in which
# the conjugations transpose to themselves: hsym(conj(V) (diag(ct_w) + F * (V^T ct_V)) V^T).

def _eigh_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    w, v = eigh_p.bind(x)
    k = _mm(_mm(_H(v), _hsym(t)), v)
    return (w, v), (_real(_diag(k)), _mm(v, _inv_gaps(w) * k))


def _eigh_vjp(ct, x, *, out):
    (ct_w, ct_v), (w, v) = ct, out
    inner = _diag_embed(ct_w) + _inv_gaps(w) * _mm(_T(v), ct_v)
    return (_hsym(_mm(_mm(_conj(v), inner), _T(v))),)


def _eigh_shape(x):
    # a Hermitian matrix's eigenvalues are real
    return ShapedArray(x.shape[:-1], el._real_dtype(x.dtype)), ShapedArray(x.shape, x.dtype)


eigh_p = defprim("eigh", impl=_eigh_impl, multiple_results=True, shape=_eigh_shape,
                 jvp=_eigh_jvp, vjp=_eigh_vjp, batch=lambda vals, bdims: _front(eigh_p, vals, bdims, {}))


def _eigvalsh_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    w, v = eigh_p.bind(x)
    return w, _real(_diag(_mm(_mm(_H(v), _hsym(t)), v)))


def _eigvalsh_vjp(ct, x, *, out):
    _, v = eigh_p.bind(x)
    return (_hsym(_mm(_conj(v) * sh.expand_dims(ct, -2), _T(v))),)


eigvalsh_p = defprim("eigvalsh", impl=lambda xp, x: xp.linalg.eigvalsh(_hermitian_part(xp, x)),
                     shape=lambda x: _eigh_shape(x)[0], jvp=_eigvalsh_jvp, vjp=_eigvalsh_vjp,
                     batch=lambda vals, bdims: _front(eigvalsh_p, vals, bdims, {}))


def eigh(a, UPLO="L", symmetrize_input=True):
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix (or a stack), as a namedtuple.

    Computed from the symmetric part ``(a + a.T) / 2``, so ``UPLO`` makes no
    difference (NumPy reads one triangle; the two agree on symmetric input).
    JAX's ``symmetrize_input=False`` reads the ``UPLO`` triangle instead (None is
    ``"L"``), as NumPy does. Derivatives exist where the eigenvalues are distinct;
    for eigenvalues alone use :func:`eigvalsh`, whose derivative needs no such condition.

    >>> import fnx.numpy as fnp
    >>> fnp.linalg.eigh(fnp.array([[2., 1.], [1., 2.]])).eigenvalues
    Array([1., 3.], dtype=float32)
    """
    UPLO = "L" if UPLO is None else UPLO
    if UPLO not in ("L", "U"):
        raise ValueError(f"eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    a = _square("eigh", asarray(a), floating=True)
    if not symmetrize_input:
        a = triangle_mirrored(a, UPLO)
    return EighResult(*eigh_p.bind(a))


def triangle_read(a, UPLO):
    """``a``'s ``UPLO`` triangle mirrored (what PyTorch's and SciPy's factorizations read), differentiated as
    ``a``'s Hermitian part: their gradients are Hermitian, as for a matrix known to be symmetric."""
    hermitian = (a + el.conj(sh.swapaxes(a, -1, -2))) * 0.5
    return hermitian + el.stop_gradient(triangle_mirrored(a, UPLO) - hermitian)


def triangle_mirrored(a, UPLO):
    """The Hermitian matrix that the ``UPLO`` triangle of ``a`` stands for, mirrored across the diagonal: what
    the input means to NumPy, LAPACK and PyTorch, which read that triangle alone."""
    part = sh.tril(a) if UPLO == "L" else sh.triu(a)
    return part + el.conj(sh.swapaxes(sh.tril(a, -1) if UPLO == "L" else sh.triu(a, 1), -1, -2))


def eigvalsh(a, UPLO="L"):
    """Eigenvalues (ascending) of a symmetric matrix (or a stack), from its symmetric part."""
    if UPLO not in ("L", "U"):
        raise ValueError(f"eigvalsh: UPLO must be 'L' or 'U', got {UPLO!r}")
    return eigvalsh_p.bind(_square("eigvalsh", asarray(a), floating=True))


# ----- singular value decomposition --------------------------------------------------------------


def _svd_check(x, full_matrices):
    if full_matrices and x.shape[-1] != x.shape[-2]:
        raise NotImplementedError(f"svd: derivatives of a non-square matrix (shape {x.shape}) need "
                                  f"full_matrices=False (the extra singular vectors are not unique)")


def _svd_jvp(primals, tangents, *, full_matrices):
    # Townsend (2016): with S = U^H dA V and F_ij = 1/(s_j^2 - s_i^2), ds = Re diag(S),
    # dU = U (F o (S D + (S D)^H) + i Im diag(S) D^-1) [+ (I - U U^H) dA V D^-1 when tall],
    # dV = V (F o (D S + (D S)^H)) [+ (I - V V^H) dA^H U D^-1 when wide]; the imaginary diagonal term (the
    # phase that U and V share) is JAX's choice for complex input, and vanishes for real input.
    (x,), (t,) = primals, tangents
    _svd_check(x, full_matrices)
    u, s, vh = svd_p.bind(x, full_matrices=full_matrices)
    v = _H(vh)
    st = _mm(_mm(_H(u), t), v)
    row, col = sh.expand_dims(s, -2), sh.expand_dims(s, -1)
    f = _inv_gaps(s * s)
    du = _mm(u, f * (st * row + _H(st * row)))
    dv = _mm(v, f * (col * st + _H(col * st)))
    if x.dtype.kind == "c":
        du = du + _mm(u, _diag_embed(1j * el.imag(_diag(st)) / s))
    m, n = x.shape[-2:]
    if m > n:
        tv = _mm(t, v)
        du = du + (tv - _mm(u, _mm(_H(u), tv))) / row
    if n > m:
        tu = _mm(_H(t), u)
        dv = dv + (tu - _mm(v, _mm(vh, tu))) / row
    return (u, s, vh), (du, _real(_diag(st)), _H(dv))


def _transposed_jvp(jvp_rule, x, ct, out, **params):
    """The VJP at ``x`` as the transpose of ``jvp_rule``'s tangent map, which is linear over the reals (the
    complex rules of svd, qr and pinv, whose conjugations the hand-written real transposes leave out); ``ct``
    and ``out`` hold one entry per output."""
    from ..transforms.extras import linear_transpose

    def tangents(t):
        t_out = jvp_rule((x,), (t,), **params)[1]
        return list(t_out) if isinstance(t_out, tuple) else [t_out]
    return linear_transpose(tangents, x)([creation.zeros_like(o) if c is None else c for c, o in zip(ct, out)])


def _svd_vjp(ct, x, *, out, full_matrices):
    _svd_check(x, full_matrices)
    if x.dtype.kind == "c":
        return _transposed_jvp(_svd_jvp, x, ct, out, full_matrices=full_matrices)
    (ct_u, ct_s, ct_vh), (u, s, vh) = ct, out
    v, ct_v = _T(vh), _T(ct_vh)
    row, col = sh.expand_dims(s, -2), sh.expand_dims(s, -1)
    f = _inv_gaps(s * s)
    j = f * _mm(_T(u), ct_u)
    k = f * _mm(vh, ct_v)
    g = _mm(_mm(u, _diag_embed(ct_s) + (j + _T(j)) * row + col * (k + _T(k))), vh)
    m, n = x.shape[-2:]
    if m > n:
        g = g + _mm((ct_u - _mm(u, _mm(_T(u), ct_u))) / row, vh)
    if n > m:
        g = g + _mm(u, _T((ct_v - _mm(v, _mm(vh, ct_v))) / row))
    return (g,)


def _svd_shape(x, *, full_matrices):
    m, n = x.shape[-2:]
    k, b = min(m, n), x.shape[:-2]
    return (ShapedArray(b + (m, m if full_matrices else k), x.dtype), ShapedArray(b + (k,), el._real_dtype(x.dtype)),
            ShapedArray(b + (n if full_matrices else k, n), x.dtype))


svd_p = defprim("svd", impl=lambda xp, x, *, full_matrices: tuple(xp.linalg.svd(x, full_matrices=full_matrices)),
                shape=_svd_shape, jvp=_svd_jvp, vjp=_svd_vjp, multiple_results=True,
                batch=lambda vals, bdims, **params: _front(svd_p, vals, bdims, params))


def _svdvals_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    u, s, vh = svd_p.bind(x, full_matrices=False)
    b = _letters(x.ndim - 2, "aik")
    return s, _real(einsum_p.bind(_conj(u), t, _conj(vh), spec=f"{b}ai,{b}ak,{b}ik->{b}i"))  # Re diag(U^H dA V)


def _svdvals_vjp(ct, x, *, out):
    u, _, vh = svd_p.bind(x, full_matrices=False)
    return (_conj(_mm(u * sh.expand_dims(ct, -2), vh)),)


svdvals_p = defprim("svdvals", impl=lambda xp, x: xp.linalg.svd(x, compute_uv=False),
                    shape=lambda x: ShapedArray(x.shape[:-2] + (min(x.shape[-2:]),), el._real_dtype(x.dtype)),
                    jvp=_svdvals_jvp, vjp=_svdvals_vjp,
                    batch=lambda vals, bdims: _front(svdvals_p, vals, bdims, {}))


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """Singular value decomposition ``a = U @ diag(S) @ Vh``, as ``numpy.linalg.svd``.

    Returns a namedtuple ``(U, S, Vh)``, or ``S`` alone when ``compute_uv`` is
    False. Derivatives of ``U`` and ``Vh`` need ``full_matrices=False`` (for
    non-square input) and distinct singular values; ``S`` alone is always
    differentiable. ``hermitian`` is accepted; the general algorithm is used.

    >>> import fnx.numpy as fnp
    >>> fnp.linalg.svd(fnp.array([[3., 0.], [0., -4.]]), compute_uv=False)
    Array([4., 3.], dtype=float32)
    """
    x = _matrix("svd", asarray(a))
    if not compute_uv:
        return svdvals_p.bind(x)
    # A square matrix's full and reduced forms agree; binding the reduced one keeps it differentiable.
    return SVDResult(*svd_p.bind(x, full_matrices=bool(full_matrices) and x.shape[-1] != x.shape[-2]))


def svdvals(x, /):
    """Singular values, descending, as ``numpy.linalg.svdvals``."""
    return svdvals_p.bind(_matrix("svdvals", asarray(x)))


# ----- norms -----------------------------------------------------------------------------------


def _abs(x):
    from . import abs as _abs_fn
    return _abs_fn(x)


def _reduce(name, x, axis, keepdims=False):
    from . import max as _max, min as _min
    return (_max if name == "max" else _min)(x, axis=axis, keepdims=keepdims)


def _abs_squared(x):
    """``|x|**2``, real for complex ``x``, as the norms need."""
    return x * x if x.dtype.kind != "c" else el.real(x * el.conj(x))


def _vector_norm(x, ord, axis, keepdims):
    if ord is None or ord == 2:
        return red.zero_safe_root(red.sum(_abs_squared(x), axis=axis, keepdims=keepdims), 2)
    if ord == np.inf:
        return _reduce("max", _abs(x), axis, keepdims)
    if ord == -np.inf:
        return _reduce("min", _abs(x), axis, keepdims)
    if ord == 0:  # the count of nonzero entries, in the real dtype a norm has (complex input too)
        return red.sum(el.astype(el.not_equal(x, 0), _abs(x).dtype), axis=axis, keepdims=keepdims)
    if ord == 1:
        return red.sum(_abs(x), axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"norm: invalid norm order {ord!r} for vectors")
    powers = red.sum(_abs(x) ** float(ord), axis=axis, keepdims=keepdims)
    return red.zero_safe_root(powers, float(ord)) if float(ord) > 0 else powers ** (1.0 / float(ord))


def _matrix_norm(x, ord, axes, keepdims):
    r, c = axes
    if ord in (None, "fro"):
        out = red.zero_safe_root(red.sum(_abs_squared(x), axis=axes), 2)
    elif ord in ("nuc", 2, -2):
        s = svdvals_p.bind(sh.moveaxis(x, (r, c), (-2, -1)))
        out = red.sum(s, axis=-1) if ord == "nuc" else _reduce("max" if ord == 2 else "min", s, -1)
    elif ord in (1, -1, np.inf, -np.inf):
        along, across = (r, c) if ord in (1, -1) else (c, r)
        sums = red.sum(_abs(x), axis=along)
        out = _reduce("max" if ord > 0 else "min", sums, across - (across > along))
    else:
        raise ValueError(f"norm: invalid norm order {ord!r} for matrices")
    if keepdims:
        out = sh.expand_dims(out, (r, c))
    return out


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm, as ``numpy.linalg.norm``.

    ``axis`` None (the whole array: 2-norm of the flattened array when ``ord`` is
    None), an int (vector norms: ord None/2, 1, inf, -inf, 0, any p) or a pair of
    ints (matrix norms: 'fro', 'nuc', 1, -1, 2, -2, inf, -inf; 2 and 'nuc' via
    singular values). Integer input gives float64, as NumPy.

    >>> import fnx.numpy as fnp
    >>> fnp.linalg.norm(fnp.array([3., 4.]))
    Array(5., dtype=float32)
    """
    x = asarray(x)
    (x,) = _promote(x, floating=True)
    if axis is None:
        if ord is None:
            out = red.zero_safe_root(red.sum(_abs_squared(x)), 2)
            return sh.reshape(out, (1,) * x.ndim) if keepdims else out
        if x.ndim not in (1, 2):
            raise ShapeError(f"norm: ord={ord!r} needs a 1-d or 2-d array when axis is None, got shape {x.shape}")
        axis = tuple(range(x.ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    axis = tuple(normalize_axis("norm", a, x.ndim) for a in axis)
    if len(axis) == 1:
        return _vector_norm(x, ord, axis[0], keepdims)
    if len(axis) == 2 and axis[0] != axis[1]:
        return _matrix_norm(x, ord, axis, keepdims)
    raise ValueError(f"norm: axis must be an int or a pair of distinct ints, got {axis}")


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """Vector norm over ``axis`` (None: all elements), as ``numpy.linalg.vector_norm``."""
    x = asarray(x)
    (x,) = _promote(x, floating=True)
    if axis is None:
        out = _vector_norm(sh.ravel(x), ord, 0, False)
        return sh.reshape(out, (1,) * x.ndim) if keepdims else out
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if len(axes) == 1:
        return _vector_norm(x, ord, normalize_axis("vector_norm", axes[0], x.ndim), keepdims)
    axes = tuple(sorted(normalize_axis("vector_norm", a, x.ndim) for a in axes))
    rest = tuple(i for i in range(x.ndim) if i not in axes)
    flat = sh.reshape(sh.transpose(x, rest + axes), tuple(x.shape[i] for i in rest) + (-1,))
    out = _vector_norm(flat, ord, -1, False)
    return sh.expand_dims(out, axes) if keepdims else out


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """Matrix norm over the last two axes, as ``numpy.linalg.matrix_norm``."""
    x = _matrix("matrix_norm", asarray(x))
    return _matrix_norm(x, ord, (x.ndim - 2, x.ndim - 1), keepdims)


# ----- built from the above: rank, condition number, least squares, tensor solves --------------


def matrix_rank(A, tol=None, hermitian=False, *, rtol=None):
    """The number of singular values above a tolerance, as ``numpy.linalg.matrix_rank``.

    ``tol`` is an absolute threshold; ``rtol`` a relative one (times the
    largest singular value); by default ``S.max() * max(M, N) * eps``. A 1-d
    (or 0-d) ``A`` has rank 1 unless all zero. Integer (int64) result; works
    on stacks. ``hermitian`` is accepted; the general algorithm is used.

    >>> import fnx.numpy as fnp
    >>> fnp.linalg.matrix_rank(fnp.array([[1., 2.], [2., 4.]]))
    Array(1, dtype=int64)
    """
    with data_device(A):
        return _matrix_rank_here(A, tol, hermitian, rtol=rtol)


def _matrix_rank_here(A, tol=None, hermitian=False, *, rtol=None):
    x = asarray(A)
    if x.ndim < 2:
        return el.astype(red.any(el.not_equal(x, 0)), dtypes.int64)
    if tol is not None and rtol is not None:
        raise ValueError("matrix_rank: give tol or rtol, not both")
    (x,) = _promote(x, floating=True)
    s = svdvals_p.bind(x)
    top = _reduce("max", s, -1, keepdims=True) if s.shape[-1] else s
    if tol is None:
        scale = max(x.shape[-2:]) * np.finfo(x.dtype).eps if rtol is None else rtol
        tol = top * asarray(scale, x.dtype)
    else:
        tol = sh.expand_dims(asarray(tol, x.dtype), -1)
    return red.sum(el.astype(s > tol, dtypes.int64), axis=-1)


def cond(x, p=None):
    """The condition number of a matrix (or a stack) in norm ``p``, as ``numpy.linalg.cond``.

    ``p`` None, 2 or -2 is the ratio of extreme singular values; 'fro', 'nuc',
    1, -1, inf and -inf use ``norm(x, p) * norm(inv(x), p)`` (square input).
    A singular matrix gives inf, as NumPy's (in a stack, just its entry).
    Differentiable where the matrix is regular.

    >>> import fnx.numpy as fnp
    >>> fnp.linalg.cond(fnp.array([[2., 0.], [0., 0.5]]))
    Array(4., dtype=float32)
    """
    a = _matrix("cond", asarray(x))
    if p in (None, 2, -2):
        s = svdvals_p.bind(a)
        first, last = sh.slice_axis(s, -1, 0, 1), sh.slice_axis(s, -1, s.shape[-1] - 1, s.shape[-1])
        out = sh.squeeze(first / last if p != -2 else last / first, -1)
    else:
        a = _square("cond", a)
        axes = (a.ndim - 2, a.ndim - 1)
        try:
            a_inv = inv_p.bind(a)
        except np.linalg.LinAlgError:  # a singular matrix: inf, as NumPy's (each of a stack on its own)
            if a.ndim == 2:
                return asarray(np.inf, dtype=_matrix_norm(a, p, axes, False).dtype)
            flat = sh.reshape(a, (-1,) + a.shape[-2:])
            return sh.reshape(sh.stack([cond(flat[i], p) for i in range(flat.shape[0])]), a.shape[:-2])
        out = _matrix_norm(a, p, axes, False) * _matrix_norm(a_inv, p, axes, False)
    return el.where(el.isnan(out) & ~red.any(el.isnan(a), axis=(-2, -1)), np.inf, out)


LstsqResult = namedtuple("LstsqResult", ["x", "residuals", "rank", "singular_values"])


def lstsq(a, b, rcond=None, *, numpy_resid=False):
    """The least-squares solution ``x`` of ``a @ x = b`` and numpy's 4-tuple ``(x, residuals, rank, s)``.

    As ``jax.numpy.linalg.lstsq``: singular values below ``rcond * s.max()`` are
    treated as zero, with ``rcond`` defaulting to ``eps * max(M, N)``;
    ``residuals`` (the squared 2-norm of each column of ``b - a @ x``) are
    always returned, shape ``(K,)`` (``(1,)`` for 1-d ``b``). With
    ``numpy_resid=True`` they are empty, as NumPy's, where the rank is below N
    or M <= N (that needs a concrete ``a``). ``x`` is ``pinv(a) @ b``:
    differentiable where the rank is locally constant. ``rank`` is int32, as NumPy's.

    >>> import fnx.numpy as fnp
    >>> x, resid, rank, s = fnp.linalg.lstsq(fnp.array([[1., 0.], [0., 2.], [0., 0.]]), fnp.array([1., 2., 3.]))
    >>> x, resid, rank
    (Array([1., 1.], dtype=float32), Array([9.], dtype=float32), Array(2, dtype=int32))
    """
    a, b = asarray(a), asarray(b)
    if a.ndim != 2 or b.ndim not in (1, 2):
        raise ShapeError(f"lstsq: a must be 2-d and b 1-d or 2-d, got shapes {a.shape} and {b.shape}")
    if a.shape[0] != b.shape[0]:
        raise ShapeError(f"lstsq: a of shape {a.shape} and b of shape {b.shape} differ in rows "
                         f"({a.shape[0]} != {b.shape[0]})")
    a, b = _promote(a, b, floating=True)
    m, n = a.shape
    if rcond is None or rcond < 0:  # numpy and jax: a negative rcond means machine precision
        rcond = np.finfo(a.dtype).eps * max(m, n)
    s = svdvals_p.bind(a)
    b2 = sh.reshape(b, (m, 1)) if b.ndim == 1 else b
    if m == 0 or n == 0:
        x = creation.zeros((n, b2.shape[1]), dtype=a.dtype)
        rank = asarray(0, dtypes.int32)
    else:
        x = _mm(pinv_p.bind(a, rcond=float(rcond)), b2)
        cutoff = _reduce("max", s, -1, keepdims=True) * rcond
        rank = el.astype(red.sum(el.astype(s > cutoff, dtypes.int32)), dtypes.int32)
    r = b2 - _mm(a, x) if m and n else b2
    resid = red.sum(_abs_squared(r), axis=0)
    if numpy_resid:
        from .indexing import _concrete
        if int(np.asarray(_concrete("lstsq", rank, "NumPy's residuals are empty or not depending on the rank, "
                                    "which a traced matrix does not have")._value)) < n or m <= n:
            resid = creation.zeros((0,), dtype=a.dtype)
    if b.ndim == 1:
        x = sh.reshape(x, (n,))
    return LstsqResult(x, resid, rank, s)


def tensorinv(a, ind=2):
    """The inverse of ``a`` under ``tensordot(., ., ind)``, as ``numpy.linalg.tensorinv``.

    ``a.shape[:ind]`` and ``a.shape[ind:]`` must have equal products; the result
    has shape ``a.shape[ind:] + a.shape[:ind]``. Differentiable.

    >>> import fnx.numpy as fnp
    >>> fnp.linalg.tensorinv(fnp.reshape(2. * fnp.eye(4), (4, 2, 2)), ind=1).shape
    (2, 2, 4)
    """
    x = asarray(a)
    ind = operator.index(ind)
    if ind <= 0:
        raise ValueError(f"tensorinv: ind must be a positive integer, got {ind}")
    rows, cols = x.shape[:ind], x.shape[ind:]
    if math.prod(rows) != math.prod(cols):
        raise ShapeError(f"tensorinv: a of shape {x.shape} is not square under ind={ind}: "
                         f"prod{rows} != prod{cols}")
    return sh.reshape(inv(sh.reshape(x, (math.prod(rows), -1))), cols + rows)


def tensorsolve(a, b, axes=None):
    """The ``x`` with ``tensordot(a, x, x.ndim) == b``, as ``numpy.linalg.tensorsolve``.

    ``axes`` names axes of ``a`` to move to the end first. Differentiable.

    >>> import fnx.numpy as fnp
    >>> fnp.linalg.tensorsolve(fnp.reshape(2. * fnp.eye(4), (2, 2, 4)), fnp.ones((2, 2))).shape
    (4,)
    """
    x, y = asarray(a), asarray(b)
    if axes is not None:
        axes = [normalize_axis("tensorsolve", k, x.ndim) for k in np.atleast_1d(axes)]
        rest = [k for k in range(x.ndim) if k not in axes]
        x = sh.transpose(x, rest + axes)
    sol = x.shape[y.ndim:]
    n = math.prod(sol)
    if math.prod(x.shape) != n * n or math.prod(y.shape) != n:
        raise ShapeError(f"tensorsolve: a of shape {x.shape} and b of shape {y.shape} do not make a square "
                         f"system: the solution's shape would be {sol} ({n} unknowns)")
    return sh.reshape(solve(sh.reshape(x, (n, n)), sh.reshape(y, (n,))), sol)


# ----- general eigenproblem (concrete input, no derivative) ---------------------------------------
#
# Not primitives: ``eig`` has no derivative here, so it is computed on the concrete value
# (as ``unique`` is) and raises under every transform rather than return a silent zero.

EigResult = namedtuple("EigResult", ["eigenvalues", "eigenvectors"])


def _eig(opname, a, vectors):
    from ..core.array import wrap
    from ..core.backend import xp_of
    from .indexing import _concrete
    x = _square(opname, _concrete(opname, a, "A general matrix's eigendecomposition has no derivative or "
                                  "batching rule here, so it runs on concrete matrices only; for a symmetric "
                                  "(Hermitian) matrix use eigh or eigvalsh, which differentiate"), floating=True)
    value = x._value
    dt = np.result_type(value.dtype, np.complex64)
    xp = xp_of(value)
    if not vectors:
        return wrap(xp.linalg.eigvals(value).astype(dt, copy=False), x.device)
    w, v = xp.linalg.eig(value)
    return EigResult(wrap(w.astype(dt, copy=False), x.device), wrap(v.astype(dt, copy=False), x.device))


def eig(a):
    """Eigenvalues and right eigenvectors of a square matrix (or a stack), as ``numpy.linalg.eig``.

    As in JAX the results are always complex (complex64 for float32 input,
    complex128 for float64), where NumPy returns real arrays when every
    eigenvalue is real. Computed on the concrete value: not differentiable
    (use :func:`eigh` for symmetric matrices), and under a transform it raises
    ``TracerError``.

    >>> import fnx.numpy as fnp
    >>> fnp.linalg.eig(fnp.array([[2., 0.], [0., 3.]])).eigenvalues
    Array([2.+0.j, 3.+0.j], dtype=complex64)
    """
    return _eig("eig", a, True)


def eigvals(a):
    """Eigenvalues of a square matrix (or a stack), always complex as in JAX; concrete input only, as :func:`eig`.

    >>> import fnx.numpy as fnp
    >>> fnp.linalg.eigvals(fnp.array([[0., -1.], [1., 0.]]))
    Array([0.+1.j, 0.-1.j], dtype=complex64)
    """
    return _eig("eigvals", a, False)


# ----- numpy.linalg's own versions of top-level functions -------------------------------------


def diagonal(x, /, *, offset=0):
    """The diagonals of the last two axes, as ``numpy.linalg.diagonal`` (``numpy.diagonal`` uses axes 0, 1).

    >>> import fnx.numpy as fnp
    >>> fnp.linalg.diagonal(fnp.reshape(fnp.arange(8), (2, 2, 2)))
    Array([[0, 3],
           [4, 7]], dtype=int64)
    """
    return sh.diagonal(x, offset=offset, axis1=-2, axis2=-1)


def cross(x1, x2, /, *, axis=-1):
    """The cross product of 3-vectors along ``axis``, as ``numpy.linalg.cross`` (both must have length 3).

    >>> import fnx.numpy as fnp
    >>> fnp.linalg.cross(fnp.array([1., 0., 0.]), fnp.array([0., 1., 0.]))
    Array([0., 0., 1.], dtype=float32)
    """
    from .numerical import cross as _cross
    a, b = asarray(x1), asarray(x2)
    if a.ndim == 0 or b.ndim == 0 or a.shape[axis] != 3 or b.shape[axis] != 3:
        raise ShapeError(f"cross: both operands need length 3 along axis {axis}, got shapes {a.shape} and {b.shape}")
    return _cross(a, b, axis=axis)


# The ``@`` operator.
Array.__matmul__ = matmul
Array.__rmatmul__ = lambda x, y: matmul(y, x)
