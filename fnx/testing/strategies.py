"""Hypothesis strategies for fnx: shapes, arrays inside named domains, pytrees,
random keys, and random differentiable programs.

Built on ``hypothesis.extra.numpy``. Domains keep inputs away from the places
where a function or its derivative is undefined, so that gradient checks test
the rule and not the singularity:

``"real"``            moderate reals, [-3, 3]
``"positive"``        [0.2, 4]
``"nonzero"``         |x| in [0.3, 3]
``"unit_interval"``   (0.05, 0.95)
``"open_unit_ball"``  (-0.9, 0.9), for arcsin/arctanh
``"above_one"``       [1.2, 4], for arccosh
``"away_from_integers"`` reals at least 0.1 from an integer (floor, round...)
``"well_conditioned"`` square matrices ``M / (3n) + 2 I``, strictly diagonally dominant (solve, inv, det)
``"spd"``             symmetric positive definite, eigenvalues in [1, n + 0.5] at least 0.5 apart (cholesky, eigh)

``programs()`` draws random fnx programs composed from the primitive
registry: every elementwise primitive (``kind`` unary or binary) with its
declared domain, plus relu, sums, maxima and minima broadcast back, cumulative
sums, sorts, max pooling, flips, gathers, scatter-maxima and matrix products.
Inputs may be any reals: each operand is mapped smoothly into its primitive's
domain inside the program, so every drawn program is defined at every drawn
input.

Non-smooth operations (``maximum``, ``abs``, ``remainder``, a ``max``
reduction...) are drawn too. Each declares its kinks (``Primitive.kinks``), and
a draw whose inputs bring some operation within ``KINK_MARGIN`` of a kink or a
jump (measured by :func:`fnx.testing.kink_distance`) is rejected, so central
differences never straddle one. Checks that use no differences (the transpose
identity, jacfwd against jacrev, vmap) hold at kinks too; ``kink_margin=0``
keeps such draws for them.
"""
import numpy as np
from hypothesis import assume, strategies as st
from hypothesis.extra import numpy as hnp

_BOUNDS = {
    "real": (-3.0, 3.0),
    "positive": (0.2, 4.0),
    "unit_interval": (0.05, 0.95),
    "open_unit_ball": (-0.9, 0.9),
    "above_one": (1.2, 4.0),
}

DOMAINS = tuple(_BOUNDS) + ("nonzero", "away_from_integers", "well_conditioned", "spd")


def _floats(lo, hi, dtype):
    """Floats of ``dtype`` in ``[lo, hi]``, the bounds moved inward to values the dtype holds (hypothesis
    refuses a bound such as 0.2 at width 32, where it has no exact float)."""
    dtype = np.dtype(dtype)
    width = {2: 16, 4: 32}.get(dtype.itemsize, 64)
    lo_d, hi_d = dtype.type(lo), dtype.type(hi)
    lo_d = lo_d if lo_d >= lo else np.nextafter(lo_d, dtype.type(np.inf))
    hi_d = hi_d if hi_d <= hi else np.nextafter(hi_d, dtype.type(-np.inf))
    return st.floats(float(lo_d), float(hi_d), width=width)


def elements(domain="real", dtype=np.float64):
    """A strategy for one scalar of ``dtype`` inside ``domain``."""
    if domain in _BOUNDS:
        return _floats(*_BOUNDS[domain], dtype)
    if domain == "nonzero":
        return st.tuples(_floats(0.3, 3.0, dtype), st.booleans()).map(lambda p: -p[0] if p[1] else p[0])
    if domain in ("well_conditioned", "spd"):
        raise ValueError(f"domain {domain!r} describes matrices: use arrays(shape=(..., n, n), domain={domain!r})")
    if domain == "away_from_integers":
        return st.tuples(st.integers(-3, 2), _floats(0.1, 0.9, dtype)).map(lambda p: p[0] + p[1])
    raise ValueError(f"unknown domain {domain!r}; choose from {DOMAINS}")


_domain_elements = elements  # numpy_arrays and arrays take a parameter of that name


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def numpy_arrays(shape=None, dtype=np.float64, domain="real", elements=None, **shape_kw):
    """numpy arrays of ``dtype`` with elements in ``domain`` (shape drawn when None).

    ``elements``, a hypothesis strategy of scalars, replaces the domain's as
    hypothesis's own ``arrays(elements=...)`` does. For the matrix domains the
    last two dimensions must be equal.
    """
    if elements is not None:
        if domain in ("well_conditioned", "spd"):
            raise ValueError(f"numpy_arrays: domain {domain!r} builds its own matrices; give elements= or that "
                             f"domain, not both")
        return hnp.arrays(dtype, shapes(**shape_kw) if shape is None else shape, elements=elements)
    if np.dtype(dtype).kind not in "f":
        raise ValueError(f"numpy_arrays: the domains draw floating values, and dtype {np.dtype(dtype)} is not "
                         f"floating; for other dtypes give elements= (e.g. hypothesis.strategies.integers(0, 9))")
    shape = shapes(**shape_kw) if shape is None else shape
    shape = st.just(tuple(shape)) if isinstance(shape, (tuple, list)) else shape
    if domain in ("well_conditioned", "spd"):
        def build(sh):
            if len(sh) < 2 or sh[-1] != sh[-2]:
                raise ValueError(f"domain {domain!r} needs square matrices, got shape {sh}")
            n = sh[-1]
            eye = np.eye(n, dtype=dtype)
            base = hnp.arrays(dtype, sh, elements=_domain_elements("real", dtype))
            if domain == "spd":
                return base.map(_spd_from)
            # Entries of M / (3n) are at most 1/n: each row's off-diagonal sum stays below 1 and its diagonal
            # above 1, so the matrix is strictly diagonally dominant, never singular, and
            # ||A||_inf <= 3, ||A^-1||_inf <= 1.
            return base.map(lambda m: m / (3 * n) + 2 * eye)
        return shape.flatmap(build)
    return hnp.arrays(dtype, shape, elements=_domain_elements(domain, dtype))


def _spd_from(m):
    """``Q diag(l) Q^T`` with ``Q`` the orthogonal factor of ``m`` and ``l_k = k + 1 + (tanh(m_kk) + 1) / 4``:
    symmetric positive definite with eigenvalues in [1, n + 0.5] at least 0.5 apart, as eigh's derivative needs
    (it has none at a repeated eigenvalue), whatever ``m`` hypothesis shrinks to."""
    n = m.shape[-1]
    q = np.linalg.qr(m.astype(np.float64))[0]
    lam = np.arange(1, n + 1) + (np.tanh(np.diagonal(m, axis1=-2, axis2=-1)) + 1) / 4
    s = (q * lam[..., None, :]) @ np.swapaxes(q, -1, -2)
    return ((s + np.swapaxes(s, -1, -2)) / 2).astype(m.dtype)


def arrays(shape=None, dtype=np.float64, domain="real", elements=None, **shape_kw):
    """fnx arrays of ``dtype`` with elements in ``domain``, or drawn from the strategy ``elements``."""
    import fnx.numpy as fnp
    return numpy_arrays(shape, dtype, domain, elements, **shape_kw).map(fnp.asarray)


def broadcastable_shapes(shape, num_shapes=2, min_dims=0, max_dims=3):
    """Tuples of ``num_shapes`` shapes that broadcast against ``shape`` (hypothesis's mutually_broadcastable)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, base_shape=shape, min_dims=min_dims,
                                             max_dims=max_dims, max_side=4).map(lambda b: b.input_shapes)


def keys(seed_min=0, seed_max=2 ** 32 - 1):
    """``fnx.random`` keys from random seeds."""
    import fnx
    return st.integers(seed_min, seed_max).map(fnx.random.key)


def pytrees(leaves=None, max_leaves=6):
    """Nested dicts, lists and tuples whose leaves come from ``leaves`` (default: float64 arrays)."""
    leaves = arrays(shapes(max_dims=2, max_side=3)) if leaves is None else leaves
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, min_size=1, max_size=3),
            st.tuples(children, children),
            st.dictionaries(st.text("abcdef", min_size=1, max_size=3), children, min_size=1, max_size=3)),
        max_leaves=max_leaves)


# ----- random programs -----------------------------------------------------------------------


def _into_domain(domain, x):
    """``x`` (any reals) mapped smoothly into ``domain``, with fnx operations."""
    import fnx.numpy as fnp
    t = fnp.tanh(x / 3.0)
    if domain in ("real", "away_from_integers"):
        return 3.0 * t
    if domain in ("positive", "nonzero"):
        return fnp.exp(t)
    if domain == "unit_interval":
        return 0.5 + 0.45 * t
    if domain == "open_unit_ball":
        return 0.9 * t
    if domain == "above_one":
        return 2.2 + t
    raise ValueError(f"programs: no map into domain {domain!r}")


def _binary_domains(domain):
    """Domains of the two operands of a binary primitive declaring ``domain``."""
    return {"positive_first": ("positive", "real"), "nonzero_second": ("real", "nonzero"),
            "positive_second": ("real", "positive")}.get(domain, (domain, domain))


def program_primitives(extra=(), include_registry=True):
    """The primitives ``programs()`` draws from: elementwise, differentiable, real to real."""
    from ..core import registry
    from ..core.primitive import NOT_DIFFERENTIABLE, ShapedArray
    pool = list(registry.values()) if include_registry else []
    out = []
    for prim in pool + list(extra):
        if prim.kind not in ("unary", "binary") or prim.vjp is NOT_DIFFERENTIABLE:
            continue
        aval = ShapedArray((2,), np.dtype(np.float64))
        try:
            res = prim.shape(*([aval] * (1 if prim.kind == "unary" else 2)))
        except Exception:  # noqa: BLE001 - a primitive that cannot take float64 is not for programs
            continue
        if res.dtype == np.float64:
            out.append(prim)
    return out


class Program:
    """A drawn program: ``program(*inputs)`` runs it; ``str(program)`` lists its steps."""

    def __init__(self, shape, n_inputs, steps, inputs):
        self.shape, self.n_inputs, self.steps, self.inputs = shape, n_inputs, steps, inputs
        self.smooth = all(step[1] for step in steps)

    def __call__(self, *xs):
        values = list(xs)
        for _, _, _, run in self.steps:
            values.append(run(values))
        out = values[-1]
        for v in values[self.n_inputs:-1]:  # every step reaches the output
            out = out + 0.1 * v
        return out

    def __repr__(self):
        lines = [f"program over {self.n_inputs} input(s) of shape {self.shape}:"]
        for k, (text, _, _, _) in enumerate(self.steps):
            lines.append(f"  v{self.n_inputs + k} = {text}")
        last = self.n_inputs + len(self.steps) - 1
        rest = " + ".join(f"0.1 * v{k}" for k in range(self.n_inputs, last))
        lines.append(f"  output = v{last}" + (f" + {rest}" if rest else ""))
        return "\n".join(lines)


def _elementwise_step(prim, operands):
    if prim.kind == "unary":
        (i,) = operands
        text = f"{prim.name}(into_{prim.domain}(v{i}))"
        return text, prim.smooth, operands, lambda v: prim.bind(_into_domain(prim.domain, v[i]))
    i, j = operands
    di, dj = _binary_domains(prim.domain)
    text = f"{prim.name}(into_{di}(v{i}), into_{dj}(v{j}))"
    return text, prim.smooth, operands, lambda v: prim.bind(_into_domain(di, v[i]), _into_domain(dj, v[j]))


def _structural_steps(draw, shape, n_values):
    """Steps other than ``kind`` primitives, all keeping the shape: relu, reductions broadcast back,
    scans, sorts, pooling, gathers, scatters and products."""
    import fnx.numpy as fnp
    from ..nn.functional import relu
    from ..numpy.windows import max_pool
    i = draw(st.integers(0, n_values - 1))
    # relu's flat zeros would meet each other at the next max: the leak keeps the values apart.
    options = [(f"relu(v{i}) + 0.1 * v{i}", False, lambda v: relu(v[i]) + 0.1 * v[i])]
    if shape:
        axis = draw(st.integers(0, len(shape) - 1))
        options += [
            (f"broadcast(sum(v{i}, axis={axis}, keepdims=True))", True,
             lambda v: fnp.broadcast_to(fnp.sum(v[i], axis=axis, keepdims=True), shape)),
            (f"broadcast(max(v{i}, axis={axis}, keepdims=True))", False,
             lambda v: fnp.broadcast_to(fnp.max(v[i], axis=axis, keepdims=True), shape)),
            (f"cumsum(v{i}, axis={axis}) / {shape[axis]}", True,
             lambda v: fnp.cumsum(v[i], axis=axis) / float(shape[axis])),
            (f"flip(v{i}, axis={axis})", True, lambda v: fnp.flip(v[i], axis=axis)),
        ]
        perm = tuple(draw(st.permutations(range(shape[0]))))
        options.append((f"v{i}[{list(perm)}]", True, lambda v: v[i][np.array(perm)]))
        options += [
            (f"broadcast(min(v{i}, axis={axis}, keepdims=True))", False,
             lambda v: fnp.broadcast_to(fnp.min(v[i], axis=axis, keepdims=True), shape)),
            (f"sort(v{i}, axis={axis})", False, lambda v: fnp.sort(v[i], axis=axis)),
            (f"max_pool(v{i}, window=2, padding=(1, 0))", False, lambda v: max_pool(v[i], (2,), (1,), ((1, 0),))),
        ]
        if n_values > 1:  # v.at[idx].max(v) would tie wherever idx[k] == k
            j = (i + draw(st.integers(1, n_values - 1))) % n_values
            idx = tuple(draw(st.lists(st.integers(0, shape[0] - 1), min_size=shape[0], max_size=shape[0])))
            options.append((f"v{i}.at[{list(idx)}].max(v{j})", False, lambda v: v[i].at[np.array(idx)].max(v[j])))
    if len(shape) == 2 and shape[0] == shape[1]:
        j = draw(st.integers(0, n_values - 1))
        options.append((f"(v{i} @ v{j}) / {shape[0]}", True, lambda v: (v[i] @ v[j]) / float(shape[0])))
    text, smooth, run = draw(st.sampled_from(options))
    return text, smooth, (i,), run


def _generic(xs):
    """The drawn inputs plus offsets (at most 0.05) that set every element apart from 0 and the others.

    Hypothesis favours 0, small integers and repeated values, which would put
    most programs with ``abs`` or ``maximum`` exactly at a kink. The offsets
    are multiples of ``0.05 / n`` for ``n`` elements in all, of alternating
    sign and in a scrambled order, so an all-zero draw keeps every element at
    least ``0.05 / n`` from 0 and from any other, and a shrunk example still
    reads as simple numbers."""
    sizes = [x.size for x in xs]
    n = sum(sizes)
    rank = np.argsort(np.argsort(np.arange(1, n + 1) * 0.6180339887498949 % 1.0))
    offsets = np.split((-1.0) ** rank * (rank + 1) * (0.05 / max(n, 1)), np.cumsum(sizes)[:-1])
    return tuple(x + o.reshape(x.shape) for x, o in zip(xs, offsets))


# check_grads steps one input element by eps = 1e-6 (float64). Elementwise steps see their operands
# through 1-Lipschitz maps into bounded domains, the others are sums, products and selections of
# moderate values, so such a step moves a kink's operands by a few eps (3.5 eps at most over 2,500
# draws; tests/testing/test_kinks.py asserts under 100 eps for every draw). 1e-3, a thousand steps,
# leaves the nearest kink at least ten times further than any difference reaches.
KINK_MARGIN = 1e-3


@st.composite
def programs(draw, max_steps=5, max_inputs=2, primitives=None, include_registry=True, structural=True,
             smooth_only=False, kink_margin=KINK_MARGIN, elements=None):
    """Random differentiable programs built from the primitive registry.

    Args:
      max_steps: at most this many operations after the inputs.
      max_inputs: 1 to this many inputs, all of one drawn shape.
      primitives: extra (e.g. throw-away) primitives with ``kind`` unary/binary.
      include_registry: draw from fnx's own elementwise primitives too.
      structural: also draw relu, reductions, scans, sorts, pooling, flips,
        gathers, scatters and matmuls.
      smooth_only: draw only operations declared smooth (for second-order checks).
      kink_margin: reject inputs that bring an operation closer than this to a
        kink or jump (see :func:`fnx.testing.kink_distance`); 0 keeps them all.
      elements: a strategy for the input elements, used as drawn; by default
        floats in [-2, 2], set apart by small offsets (``_generic``) so that
        exact ties are rare.

    Returns a :class:`Program` with ``.inputs`` (a tuple of float64 numpy
    arrays) and ``.smooth`` (whether every step is smooth, so that second
    derivatives can be checked).
    """
    from .kinks import kink_distance
    pool = [p for p in program_primitives(primitives or (), include_registry) if p.smooth or not smooth_only]
    if not pool:
        raise ValueError("programs: no primitive to draw from")
    first = [p for p in pool if p.kind == "unary" or p.smooth] or pool  # for a step with one value to use
    shape = draw(shapes(min_dims=0, max_dims=2, max_side=3))
    n_inputs = draw(st.integers(1, max_inputs))
    steps = []
    for k in range(draw(st.integers(1, max_steps))):
        n_values = n_inputs + k
        if structural and draw(st.integers(0, 3)) == 0:
            step = _structural_steps(draw, shape, n_values)
            if step[1] or not smooth_only:
                steps.append(step)
                continue
        prim = draw(st.sampled_from(pool if n_values > 1 else first))
        if prim.kind == "unary":
            ops = (draw(st.integers(0, n_values - 1)),)
        elif prim.smooth or n_values == 1:
            ops = tuple(draw(st.integers(0, n_values - 1)) for _ in range(2))
        else:  # maximum(v, v) is v, but at a tie everywhere: a non-smooth step takes two different values
            ops = tuple(draw(st.permutations(range(n_values)))[:2])
        steps.append(_elementwise_step(prim, ops))
    if elements is None:
        inputs = _generic([draw(hnp.arrays(np.float64, shape, elements=st.floats(-2.0, 2.0)))
                           for _ in range(n_inputs)])
    else:
        inputs = tuple(draw(hnp.arrays(np.float64, shape, elements=elements)) for _ in range(n_inputs))
    program = Program(shape, n_inputs, steps, inputs)
    if kink_margin:
        import fnx.numpy as fnp
        assume(kink_distance(program, *(fnp.asarray(x) for x in inputs)).distance >= kink_margin)
    return program
