"""Checkers that compare fnx's derivatives with numerical ones.

``check_grads`` builds the full Jacobian of a function three ways: by central
differences, by forward mode (one JVP per input element) and by reverse mode
(one VJP per output element), and compares them element by element. Higher
orders recurse on the derivative functions themselves, as ``jax.test_util``
does: at order 2 the JVP and VJP of ``f`` are checked, each in both modes.

Numbers here are compared in numpy: this is a test oracle, not array maths.
"""
import numpy as np

from ..core import tree as tree_util
from ..errors import GradientCheckError


def _default_tols(dtype):
    """``(eps, atol, rtol)`` for central differences in ``dtype``.

    float32's step keeps the rounding of ``f`` (about ``6e-8 |f| / eps``) well below the
    tolerance for values up to the hundreds, while a rule 10% off, or a missing one, is
    caught wherever the derivative exceeds about 0.1 (tests/testing/test_failure_messages.py plants them).
    """
    if dtype == np.float64 or dtype == np.complex128:
        return 1e-6, 1e-5, 1e-5
    if dtype == np.float32 or dtype == np.complex64:
        return 1e-3, 1e-2, 1e-2
    return 1e-2, 5e-2, 5e-2  # float16: one step is about 1e-3 at 1


def _as_np(x):
    return np.asarray(x)


def _flat_args(args):
    import fnx.numpy as fnp
    leaves, treedef = tree_util.flatten(tuple(args))
    return [fnp.asarray(x) for x in leaves], treedef


def _flat_out(out):
    leaves, treedef = tree_util.flatten(out)
    return [_as_np(o) for o in leaves], treedef


def _numeric_jacobian(f, leaves, treedef, eps):
    """Central-difference Jacobian columns: one per (input leaf, element)."""
    import fnx.numpy as fnp
    cols = []
    for i, x in enumerate(leaves):
        xv = np.array(x, dtype=x.dtype)
        for j in np.ndindex(xv.shape):
            def at(delta):
                moved = xv.copy()
                moved[j] += delta
                args = list(leaves)
                args[i] = fnp.asarray(moved, device=x.device)
                return _flat_out(f(*treedef.unflatten(args)))[0]
            plus, minus = at(eps), at(-eps)
            cols.append(((i, j), [(_wide(p) - _wide(m)) / (2 * eps) for p, m in zip(plus, minus)]))
    return cols


def _wide(x):
    """``x`` in float64, or complex128 for a complex output (whose imaginary part is checked too)."""
    return x.astype(np.complex128 if x.dtype.kind == "c" else np.float64)


def _shown(leaves):
    """The drawn inputs, as a failure message shows them."""
    return "\n".join(f"  input {k}: shape {tuple(np.shape(x))} {np.asarray(_as_np(x)).dtype}\n    " +
                     np.array2string(np.asarray(_as_np(x)), precision=6, threshold=20).replace("\n", "\n    ")
                     for k, x in enumerate(leaves))


def _worst(bad, got, want):
    """The index of the worst of the mismatching elements ``bad`` (by |difference|; the first, for exact dtypes)."""
    if not bad.ndim:
        return ()
    if got.dtype.kind in "fc" and want.dtype.kind in "fc":
        with np.errstate(invalid="ignore"):
            gap = np.where(bad, np.abs(got.astype(np.complex128) - want.astype(np.complex128)), -1.0)
        gap = np.where(np.isnan(gap), np.inf, gap)  # a NaN on one side only is the worst there is
        return np.unravel_index(np.argmax(gap), bad.shape)
    return np.unravel_index(np.argmax(bad), bad.shape)


def _fail(kind, order, where, analytic, numeric, atol, rtol, leaves):
    (in_leaf, in_idx), (out_leaf, out_idx) = where
    shown = _shown(leaves)
    raise GradientCheckError(
        f"check_grads: {kind} derivative (order {order}) disagrees with central differences.\n"
        f"  worst element: d output[{out_leaf}]{list(out_idx)} / d input[{in_leaf}]{list(in_idx)}\n"
        f"  analytic {analytic!r}, numeric {numeric!r}, |difference| {abs(analytic - numeric):.3g} "
        f"(atol {atol:g}, rtol {rtol:g})\n"
        f"drawn inputs:\n{shown}")


def _compare(kind, order, analytic_cols, numeric_cols, atol, rtol, leaves):
    """Finds the worst element over all Jacobian entries and raises if it is out of tolerance."""
    worst, worst_excess = None, 0.0
    for (key, a_outs), (_, n_outs) in zip(analytic_cols, numeric_cols):
        for k, (a, n) in enumerate(zip(a_outs, n_outs)):
            a = np.asarray(a, dtype=np.complex128 if np.iscomplexobj(a) else np.float64)
            n = np.asarray(n)
            if a.shape != n.shape:
                raise GradientCheckError(f"check_grads: {kind} derivative has shape {a.shape}, "
                                         f"the numerical one {n.shape}")
            with np.errstate(invalid="ignore"):
                excess = np.abs(a - n) - (atol + rtol * np.abs(n))
            excess = np.where(np.isnan(a) != np.isnan(n), np.inf, np.nan_to_num(excess, nan=0.0))
            if excess.size and excess.max() > worst_excess:
                idx = np.unravel_index(np.argmax(excess), excess.shape)
                worst_excess = excess.max()
                worst = ((key, (k, tuple(int(i) for i in idx))), a[idx].item(), n[idx].item())
    if worst is not None:
        (in_key, out_key), a, n = worst
        _fail(kind, order, (in_key, out_key), a, n, atol, rtol, leaves)


def _fwd_cols(f, leaves, treedef):
    import fnx
    import fnx.numpy as fnp
    cols = []
    for i, x in enumerate(leaves):
        for j in np.ndindex(x.shape):
            t = np.zeros(x.shape, x.dtype)
            t[j] = 1
            tangents = [fnp.asarray(t, device=x.device) if k == i else fnp.zeros_like(y)
                        for k, y in enumerate(leaves)]
            _, t_out = fnx.jvp(f, tuple(treedef.unflatten(leaves)), tuple(treedef.unflatten(tangents)))
            cols.append(((i, j), _flat_out(t_out)[0]))
    return cols


def _rev_cols(f, leaves, treedef):
    """Reverse-mode Jacobian, rearranged into the same columns as the forward one."""
    import fnx
    import fnx.numpy as fnp
    out, f_vjp = fnx.vjp(f, *treedef.unflatten(leaves))
    outs, out_tree = tree_util.flatten(out)
    outs = [fnp.asarray(o) for o in outs]
    jac = [[np.zeros(o.shape + x.shape, np.result_type(o.dtype, x.dtype)) for x in leaves] for o in outs]
    def pull(k, oi, value):
        cts = [np.zeros(oo.shape, oo.dtype) for oo in outs]
        cts[k][oi] = value
        return [_as_np(g) for g in tree_util.leaves(f_vjp(out_tree.unflatten([fnp.asarray(c, device=o.device)
                                                                              for c, o in zip(cts, outs)])))]
    for k, o in enumerate(outs):
        for oi in np.ndindex(o.shape):
            grads = pull(k, oi, 1)
            if o.dtype.kind == "c":  # a real input's cotangent keeps Re(ct J): the imaginary part comes from ct = 1j
                grads = [g - 1j * h for g, h in zip(grads, pull(k, oi, 1j))]
            for i, g in enumerate(grads):
                jac[k][i][oi] = g
    cols = []
    for i, x in enumerate(leaves):
        for j in np.ndindex(x.shape):
            cols.append(((i, j), [jac[k][i][(Ellipsis,) + j] for k in range(len(outs))]))
    return cols


def _random_like(tree, rng):
    import fnx.numpy as fnp
    def draw(x):
        x = fnp.asarray(x)
        return fnp.asarray(rng.standard_normal(x.shape).astype(x.dtype), device=x.device)
    return tree_util.map(draw, tree)


def check_grads(f, args, order=1, modes=("fwd", "rev"), atol=None, rtol=None, eps=None, seed=0):
    """Checks ``f``'s derivatives against central differences, up to ``order``, as ``jax.test_util.check_grads``.

    Args:
      f: a function of ``*args`` returning a pytree of arrays.
      args: a tuple of the arguments to differentiate at: pytrees of floating
        arrays. A complex leaf is checked through its real and imaginary parts,
        which a failure message counts as two inputs. Integer and boolean leaves
        (an index, a count) are held fixed.
      order: 1 checks first derivatives; 2 also checks the derivatives of the
        JVP and the VJP of ``f`` (every mode over every mode), and so on.
      modes: any of ``"fwd"`` (JVPs) and ``"rev"`` (VJPs), or one of them as a string.
      atol, rtol: tolerances, or JAX's dicts of them by dtype; eps: the step. The
        defaults follow the least precise floating dtype among the arguments and
        the outputs (1e-5, 1e-5 and 1e-6 in float64; 1e-2, 1e-2 and 1e-3 in float32; 5e-2, 5e-2
        and 1e-2 in float16).
      seed: for the random tangents and cotangents of the higher orders.

    At each order the value ``f`` gives under ``jvp`` and ``vjp`` is also checked
    against ``f`` itself, so a custom rule that returns a wrong value is caught too.

    Raises:
      GradientCheckError: with the worst element, its index, the analytic and
        numerical values, and the inputs.

    >>> import fnx.numpy as fnp
    >>> from fnx.testing import check_grads
    >>> check_grads(fnp.sin, (fnp.array([0.5, 1.0], dtype="float64"),), order=2)
    """
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    for m in modes:
        if m not in ("fwd", "rev"):
            raise ValueError(f"check_grads: unknown mode {m!r}; use 'fwd' and/or 'rev'")
    if not isinstance(args, (tuple, list)):
        raise TypeError("check_grads: args must be a tuple of arguments")
    import fnx.numpy as fnp
    leaves, treedef = _flat_args(args)
    moving = [i for i, x in enumerate(leaves) if x.dtype.kind in "fc"]
    if not moving:
        raise TypeError("check_grads: no floating argument to differentiate with respect to")
    fixed = list(leaves)
    # A complex leaf is checked through its real and imaginary parts, as two real inputs (in that order): the
    # derivatives in both directions of the plane are what its rules must get right, holomorphic or not.
    floats = []
    for i in moving:
        x = leaves[i]
        floats += [fnp.real(x), fnp.imag(x)] if x.dtype.kind == "c" else [x]

    def of_floats(*parts):  # f of the floating leaves (complex ones from their parts), the others held fixed
        full, parts = list(fixed), list(parts)
        for i in moving:
            full[i] = parts.pop(0) + parts.pop(0) * 1j if leaves[i].dtype.kind == "c" else parts.pop(0)
        return f(*treedef.unflatten(full))
    # The least precise floating dtype among the arguments and the outputs: a float64 argument computed in
    # float32 inside has float32's precision, and central differences must step and compare as for float32.
    outputs = [o for o in tree_util.leaves(of_floats(*floats)) if np.dtype(getattr(o, "dtype", "O")).kind in "fc"]
    least = min([x.dtype for x in floats] + [_real(np.dtype(o.dtype)) for o in outputs], key=lambda d: d.itemsize)
    d_eps, d_atol, d_rtol = _default_tols(least)
    atol, rtol = _tolerance(atol, least, d_atol), _tolerance(rtol, least, d_rtol)
    eps = d_eps if eps is None else eps
    rng = np.random.default_rng(seed)
    flat_tree = tree_util.structure(tuple(range(len(floats))))
    _check(of_floats, floats, flat_tree, order, modes, eps, atol, rtol, rng, 1)


def _real(dtype):
    """The real dtype of a complex one's parts (complex64's precision is float32's)."""
    return np.dtype(np.float32 if dtype == np.complex64 else np.float64) if dtype.kind == "c" else dtype


def _tolerance(given, dtype, default):
    """``atol``/``rtol`` as given: None (the default), a number, or JAX's dict by dtype."""
    if given is None:
        return default
    if isinstance(given, dict):
        for key, value in given.items():
            if np.dtype(key) == dtype:
                return value
        return default
    return float(given)


def _check_value(kind, order, got, f, args, atol, rtol, leaves):
    """The value ``f`` gives under a transform must be ``f``'s own (a custom rule's forward can differ)."""
    want, want_tree = _flat_out(f(*args))
    got, got_tree = _flat_out(got)
    if got_tree != want_tree:
        raise GradientCheckError(f"check_grads: under {kind} (order {order}) f returns a value of structure "
                                 f"{got_tree}, called directly {want_tree}")
    for k, (g, w) in enumerate(zip(got, want)):
        if g.shape != w.shape or not np.allclose(g, w, rtol=rtol, atol=atol, equal_nan=True):
            raise GradientCheckError(
                f"check_grads: under {kind} (order {order}) f returns another value than called directly, at "
                f"output[{k}]: {np.array2string(g, precision=6, threshold=10)} against "
                f"{np.array2string(w, precision=6, threshold=10)} (a custom rule's forward computes something "
                f"else)\ndrawn inputs:\n{_shown(leaves)}")


def _check(f, leaves, treedef, order, modes, eps, atol, rtol, rng, level):
    import fnx
    numeric = _numeric_jacobian(f, leaves, treedef, eps)
    args = treedef.unflatten(leaves)
    if "fwd" in modes:
        zeros = tuple(tree_util.map(lambda x: x * 0, args))
        _check_value("jvp", level, fnx.jvp(f, tuple(args), zeros)[0], f, args, atol, rtol, leaves)
        _compare("forward-mode (jvp)", level, _fwd_cols(f, leaves, treedef), numeric, atol, rtol, leaves)
        if order > 1:
            tangents = _random_like(args, rng)

            def f_jvp(*a):
                return fnx.jvp(f, tuple(a), tuple(tangents))[1]
            _check(f_jvp, leaves, treedef, order - 1, modes, eps, atol, rtol, rng, level + 1)
    if "rev" in modes:
        _check_value("vjp", level, fnx.vjp(f, *args)[0], f, args, atol, rtol, leaves)
        _compare("reverse-mode (vjp)", level, _rev_cols(f, leaves, treedef), numeric, atol, rtol, leaves)
        if order > 1:
            ct = _random_like(f(*args), rng)

            def f_vjp(*a):
                return fnx.vjp(f, *a)[1](ct)
            _check(f_vjp, leaves, treedef, order - 1, modes, eps, atol, rtol, rng, level + 1)


def _tolerance_for(leaves):
    dts = [np.asarray(x).dtype for x in leaves if hasattr(x, "dtype")]
    if any(d in (np.float16, np.float32, np.complex64) for d in dts):
        return 1e-5, 1e-6
    return 1e-10, 1e-12


def check_vmap(f, args, in_axes=0, out_axes=0, rtol=None, atol=None):
    """Checks that ``vmap(f, in_axes, out_axes)(*args)`` equals stacking ``f`` over the examples.

    Integer and boolean results must agree exactly; floating ones to ``rtol``/``atol``
    (defaults tight for float64, looser for float32).

    Raises:
      AssertionError: naming the output leaf, the example and the worst element.

    >>> import fnx.numpy as fnp
    >>> from fnx.testing import check_vmap
    >>> check_vmap(lambda x, y: fnp.sum(x * y), (fnp.ones((3, 2)), fnp.ones(2)), in_axes=(0, None))
    """
    import fnx
    import fnx.numpy as fnp
    args = _as_args("check_vmap", args)
    prefix = tuple(in_axes) if isinstance(in_axes, (tuple, list)) else (in_axes,) * len(args)
    flat, tree = tree_util.flatten(args)
    axes = tree_util.broadcast_prefix(prefix, args, "check_vmap in_axes")
    sizes = {fnp.asarray(x).shape[ax] for x, ax in zip(flat, axes) if ax is not None}
    if len(sizes) != 1:
        raise ValueError(f"check_vmap: batched arguments must share one batch size, got {sorted(sizes)}")
    size = sizes.pop()
    batched = fnx.vmap(f, in_axes=in_axes if not isinstance(in_axes, list) else tuple(in_axes),
                       out_axes=out_axes)(*args)
    b_flat, b_tree = tree_util.flatten(batched)
    o_axes = tree_util.broadcast_prefix(out_axes, batched, "check_vmap out_axes")
    d_rtol, d_atol = _tolerance_for(flat)
    rtol = d_rtol if rtol is None else rtol
    atol = d_atol if atol is None else atol
    for i in range(size):
        example = [fnp.take(fnp.asarray(x), i, axis=ax) if ax is not None else x for x, ax in zip(flat, axes)]
        expected, e_tree = tree_util.flatten(f(*tree.unflatten(example)))
        if e_tree != b_tree:
            raise AssertionError(f"check_vmap: vmapped output structure {b_tree} differs from {e_tree}")
        for k, (b, e, ax) in enumerate(zip(b_flat, expected, o_axes)):
            got = np.asarray(b) if ax is None else np.take(np.asarray(b), i, axis=ax)
            want = np.asarray(e)
            if got.shape != want.shape or got.dtype != want.dtype:
                raise AssertionError(f"check_vmap: output {k}, example {i}: vmap gives {got.dtype}{list(got.shape)}, "
                                     f"the loop {want.dtype}{list(want.shape)}")
            if want.dtype.kind in "fc":
                bad = ~np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
            else:
                bad = got != want
            if np.any(bad):
                idx = _worst(bad, got, want)
                raise AssertionError(
                    f"check_vmap: output {k}, example {i}, worst element {list(int(j) for j in idx)}: vmap gives "
                    f"{got[idx]!r}, the loop over examples gives {want[idx]!r}\ndrawn inputs:\n{_shown(flat)}")


def _inner(a, b):
    return sum(float(np.vdot(np.asarray(x, np.float64), np.asarray(y, np.float64)))
               for x, y in zip(tree_util.leaves(a), tree_util.leaves(b)))


def _defaults(args, rtol, atol, float64):
    """``rtol``/``atol`` as given, else the float64 ones or, with a less precise floating argument, looser ones."""
    low = any(np.asarray(x).dtype in (np.float16, np.float32, np.complex64) for x in tree_util.leaves(tuple(args))
              if hasattr(x, "dtype"))
    d_rtol, d_atol = (1e-4, 1e-5) if low else float64
    return (d_rtol if rtol is None else rtol), (d_atol if atol is None else atol)


def _as_args(fname, args, real=False):
    if not isinstance(args, (tuple, list)):
        raise TypeError(f"{fname}: args must be a tuple of arguments, got {type(args).__name__}")
    if real:
        complex_leaves = [i for i, x in enumerate(tree_util.leaves(tuple(args)))
                          if np.dtype(getattr(x, "dtype", np.result_type(x))).kind == "c"]
        if complex_leaves:  # the random directions and inner products here are real: a wrong rule would pass
            raise TypeError(f"{fname}: input leaf {complex_leaves[0]} is complex; this check takes real floating "
                            f"inputs (pass the real and imaginary parts as two real arguments)")
    return tuple(args)


def check_jvp_vjp_consistent(f, args, seed=0, rtol=None, atol=None):
    """Checks the transpose identity ``<vjp(u), v> == <u, jvp(v)>`` for random ``u``, ``v``.

    The two sides use different rules (forward and reverse), so a wrong rule in
    either shows up, without any numerical differentiation.

    >>> import fnx.numpy as fnp
    >>> from fnx.testing import check_jvp_vjp_consistent
    >>> check_jvp_vjp_consistent(lambda x: fnp.sin(x) * x, (fnp.array([0.1, 0.7], dtype="float64"),))
    """
    import fnx
    rng = np.random.default_rng(seed)
    args = _as_args("check_jvp_vjp_consistent", args, real=True)
    rtol, atol = _defaults(args, rtol, atol, (1e-6, 1e-9))
    v = _random_like(args, rng)
    out, t_out = fnx.jvp(f, args, v)
    u = _random_like(out, rng)
    cts = fnx.vjp(f, *args)[1](u)
    lhs, rhs = _inner(cts, v), _inner(u, t_out)
    if not abs(lhs - rhs) <= atol + rtol * max(abs(lhs), abs(rhs)):
        raise GradientCheckError(
            f"check_jvp_vjp_consistent: <vjp(u), v> = {lhs!r} but <u, jvp(v)> = {rhs!r} "
            f"(|difference| {abs(lhs - rhs):.3g}); the forward and reverse rules of this function disagree"
            f"{_worst_output_element(f, args, v, t_out)}\ndrawn inputs:\n{_shown(tree_util.leaves(args))}")


def _worst_output_element(f, args, v, t_out):
    """Where the rules disagree: for each output element, its jvp against the vjp of a one-hot cotangent
    dotted with ``v`` (one vjp per element, so only for outputs of up to 1,000 elements)."""
    import fnx
    out_leaves, out_tree = tree_util.flatten(fnx.eval_shape(f, *args))
    total = sum(int(np.prod(o.shape)) for o in out_leaves)
    if total > 1000:
        return ""
    pull = fnx.vjp(f, *args)[1]
    t_flat = [np.asarray(t, np.complex128).ravel() for t in tree_util.leaves(t_out)]
    worst = None
    for k, o in enumerate(out_leaves):
        for j in range(int(np.prod(o.shape))):
            onehot = [np.zeros(q.shape, q.dtype) for q in out_leaves]
            onehot[k].reshape(-1)[j] = 1
            by_vjp = _inner(pull(out_tree.unflatten([fnx.numpy.asarray(e) for e in onehot])), v)
            gap = abs(by_vjp - t_flat[k][j])
            if worst is None or gap > worst[0]:
                worst = (gap, k, np.unravel_index(j, o.shape), by_vjp, t_flat[k][j])
    if worst is None:
        return ""
    gap, k, idx, by_vjp, by_jvp = worst
    return (f"\n  worst element: output[{k}]{[int(i) for i in idx]}: the reverse rule gives {by_vjp!r}, the "
            f"forward rule {complex(by_jvp) if np.iscomplexobj(by_jvp) and by_jvp.imag else float(by_jvp.real)!r} "
            f"(|difference| {gap:.3g})")


def check_jacobians(f, args, argnums=None, rtol=None, atol=None):
    """Checks that ``jacfwd(f)`` and ``jacrev(f)`` agree element by element (to 1e-7 and 1e-10 in float64,
    looser with a less precise argument), with respect to the arguments ``argnums`` (by default every
    argument whose leaves are all floating: integer and boolean arguments are held fixed).

    >>> import fnx.numpy as fnp
    >>> from fnx.testing import check_jacobians
    >>> check_jacobians(lambda x: fnp.exp(x) * x[0], (fnp.array([0.1, 0.7], dtype="float64"),))
    """
    import fnx
    args = _as_args("check_jacobians", args, real=True)
    rtol, atol = _defaults(args, rtol, atol, (1e-7, 1e-10))
    if argnums is None:
        argnums = tuple(i for i, a in enumerate(args) if tree_util.leaves(a) and all(
            np.dtype(getattr(leaf, "dtype", np.result_type(leaf))).kind in "fc" for leaf in tree_util.leaves(a)))
        if not argnums:
            raise TypeError("check_jacobians: no argument has floating leaves to differentiate")
    fwd = tree_util.leaves(fnx.jacfwd(f, argnums)(*args))
    rev = tree_util.leaves(fnx.jacrev(f, argnums)(*args))
    for k, (a, b) in enumerate(zip(fwd, rev)):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            raise GradientCheckError(f"check_jacobians: block {k}: jacfwd gives shape {a.shape}, jacrev {b.shape}")
        bad = ~np.isclose(a, b, rtol=rtol, atol=atol)
        if np.any(bad):
            idx = _worst(bad, a, b)
            raise GradientCheckError(
                f"check_jacobians: block {k}, worst element {[int(i) for i in idx]}: jacfwd gives {a[idx]!r}, "
                f"jacrev gives {b[idx]!r}\ndrawn inputs:\n{_shown(tree_util.leaves(tuple(args)))}")


def check_custom_vjp(f, args, rtol=None, atol=None):
    """Checks a ``custom_vjp`` function's rule against the VJP derived from its forward code.

    The reference differentiates ``f.fun`` (the undecorated function) with fnx's
    own rules, so a mistake in ``bwd`` (or ``fwd``'s residuals) shows up, and the
    value the rule's forward returns must be ``f.fun``'s.

    >>> import fnx, fnx.numpy as fnp
    >>> from fnx.testing import check_custom_vjp
    >>> @fnx.custom_vjp
    ... def square(x):
    ...     return x * x
    >>> square.defvjp(lambda x: (x * x, x), lambda x, g: (2.0 * x * g,))
    >>> check_custom_vjp(square, (fnp.array([1.5, -2.0], dtype="float64"),))
    """
    import fnx
    from ..transforms.custom import custom_jvp, custom_vjp
    if not isinstance(f, (custom_vjp, custom_jvp)):
        raise TypeError(f"check_custom_vjp: expected a fnx.custom_vjp or custom_jvp function, got {type(f).__name__}")
    rng = np.random.default_rng(0)
    args = _as_args("check_custom_vjp", args)
    rtol, atol = _defaults(args, rtol, atol, (1e-6, 1e-9))
    static = getattr(f, "nondiff_argnums", ())
    if static:  # the rule differentiates the other arguments only: hold these fixed, as its caller does
        held = {i: args[i] for i in static}
        args = tuple(a for i, a in enumerate(args) if i not in held)

        def with_held(g):
            def call(*dyn):
                it = iter(dyn)
                return g(*[held[i] if i in held else next(it) for i in range(len(dyn) + len(held))])
            return call
        f_call, fun_call = with_held(f), with_held(f.fun)
    else:
        f_call, fun_call = f, f.fun
    out, custom = fnx.vjp(f_call, *args)
    plain, derived = fnx.vjp(fun_call, *args)
    for k, (a, b) in enumerate(zip(tree_util.leaves(out), tree_util.leaves(plain))):
        if np.shape(a) != np.shape(b) or not np.allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol):
            raise GradientCheckError(f"check_custom_vjp: output leaf {k}: the rule's forward returns "
                                     f"{np.asarray(a)!r}, the function itself {np.asarray(b)!r}"
                                     f"\ndrawn inputs:\n{_shown(tree_util.leaves(args))}")
    u = _random_like(out, rng)
    got, want = custom(u), derived(u)
    for k, (a, b) in enumerate(zip(tree_util.leaves(got), tree_util.leaves(want))):
        a, b = np.asarray(a), np.asarray(b)
        bad = ~np.isclose(a, b, rtol=rtol, atol=atol)
        if a.shape != b.shape or np.any(bad):
            idx = _worst(bad, a, b) if a.shape == b.shape else ()
            raise GradientCheckError(
                f"check_custom_vjp: cotangent of argument leaf {k}"
                + (f", worst element {[int(i) for i in idx]}: custom rule gives {a[idx]!r}, the forward code's "
                   f"derivative is {b[idx]!r}" if a.shape == b.shape else
                   f": custom rule gives shape {a.shape}, expected {b.shape}")
                + f"\ndrawn inputs:\n{_shown(tree_util.leaves(args))}")
