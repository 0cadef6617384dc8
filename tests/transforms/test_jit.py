"""jit: every result is compared with the un-jitted function."""
import numpy as np
import pytest

import fnx
import fnx.numpy as fnp
from fnx.errors import TracerError
from fnx.testing import check_grads

rng = np.random.default_rng(0)


def arr(*shape):
    return fnp.asarray(rng.standard_normal(shape))


def close(a, b):
    for x, y in zip(fnx.tree.leaves(a), fnx.tree.leaves(b)):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-12, atol=1e-12)


def mlp(params, x):
    h = fnp.tanh(x @ params["w1"] + params["b1"])
    return fnp.sum((h @ params["w2"]) ** 2)


PARAMS = {"w1": arr(3, 4), "b1": arr(4), "w2": arr(4, 2)}


def test_jit_matches_eager_and_caches_per_signature():
    f = fnx.jit(mlp)
    x = arr(5, 3)
    close(f(PARAMS, x), mlp(PARAMS, x))
    close(f(PARAMS, x + 1.0), mlp(PARAMS, x + 1.0))
    assert len(f._cache) == 1
    y = arr(7, 3)
    close(f(PARAMS, y), mlp(PARAMS, y))
    assert len(f._cache) == 2  # a new shape retraces
    close(f(PARAMS, x.astype("float32")), mlp(PARAMS, x.astype("float32")))
    assert len(f._cache) == 3  # so does a new dtype


def test_jit_of_grad_grad_of_jit_vmap_of_jit():
    x = arr(5, 3)
    g = fnx.grad(mlp)
    close(fnx.jit(g)(PARAMS, x), g(PARAMS, x))
    close(fnx.grad(fnx.jit(mlp))(PARAMS, x), g(PARAMS, x))
    per_example = fnx.vmap(fnx.grad(mlp), in_axes=(None, 0))
    close(fnx.jit(per_example)(PARAMS, x), per_example(PARAMS, x))
    close(fnx.vmap(fnx.jit(mlp), in_axes=(None, 0))(PARAMS, x), fnx.vmap(mlp, in_axes=(None, 0))(PARAMS, x))
    v = arr(3)
    h = fnx.hessian(lambda v: fnp.sum(fnp.sin(v) ** 3))
    close(fnx.jit(h)(v), h(v))
    check_grads(fnx.jit(lambda v: fnp.sum(fnp.tanh(v) * v)), (arr(3),), order=2)


def test_jit_with_on_device():
    f = lambda v: fnp.sum(fnp.sin(v) * fnp.ones(3))
    d = fnx.devices()[-1]
    x = arr(3)
    out = fnx.jit(fnx.on_device(f, d))(x)
    assert out.device is d
    close(out, fnx.on_device(f, d)(x))
    close(fnx.grad(fnx.jit(fnx.on_device(f, d)))(x), fnx.grad(f)(x))


def test_static_arguments():
    def f(x, n, *, mode):
        y = x
        for _ in range(n):  # Python control flow on a static value is fine
            y = fnp.sin(y)
        return y * 2.0 if mode == "double" else y
    jf = fnx.jit(f, static_argnums=1, static_argnames="mode")
    x = arr(4)
    close(jf(x, 3, mode="double"), f(x, 3, mode="double"))
    close(jf(x, 2, mode="single"), f(x, 2, mode="single"))
    assert len(jf._cache) == 2
    assert jf.lower(x, 3, mode="double").primitives().count("sin") == 3


def test_static_arguments_by_position_or_by_name():
    # As in jax.jit: a static argument is static whichever way it is passed.
    def power(x, n):
        return x ** n
    x = arr(3)
    by_name, by_number = fnx.jit(power, static_argnames="n"), fnx.jit(power, static_argnums=1)
    for jf in (by_name, by_number):
        close(jf(x, 3), power(x, 3))
        close(jf(x, n=2), power(x, 2))
        assert len(jf.lower(x, 3).invars) == 1  # n is part of the signature, not an input of the graph
        assert len(jf._cache) == 2
    with pytest.raises(TypeError, match="hashable"):
        by_name(x, [2])
    with pytest.raises(ValueError, match=r"argument 1 \(list\)"):  # jax.jit raises a ValueError
        by_number(x, [2])


def test_python_numbers_returned_come_back_as_arrays():
    def g(x):
        return fnp.sum(x), 2.5, np.arange(2)
    x = arr(3)
    total, number, vector = fnx.jit(g)(x)
    close(total, g(x)[0])
    assert isinstance(number, fnx.Array) and float(number) == 2.5
    assert isinstance(vector, fnx.Array) and vector.tolist() == [0, 1]
    with pytest.raises(TypeError, match="returned a str"):
        fnx.jit(lambda x: "no")(arr(2))


def test_control_flow_on_traced_values_names_jit():
    def f(x):
        if fnp.sum(x) > 0:
            return x
        return -x
    with pytest.raises(TracerError, match=r"bool\(\) of the bool\[\] result of `greater`.*jit.*static_argnums.*where"):
        fnx.jit(f)(arr(3))
    with pytest.raises(TypeError, match=r"float\(\) of a f64\[\] input.*jit"):
        fnx.jit(lambda x: float(x))(arr())
    with pytest.raises(TracerError, match=r"int\(\) of the f64\[\] result of `reduce_sum`"):
        fnx.jit(lambda x: int(fnp.sum(x)))(arr(3))


def test_lower_exposes_the_graph_and_constants_are_kept():
    c = arr(3)
    f = fnx.jit(lambda x: fnp.sum(x * c + fnp.ones(3)))
    graph = f.lower(arr(3))
    assert graph.primitives() == ["multiply", "add", "reduce_sum"]
    assert "lambda" in str(graph)
    x = arr(3)
    close(f(x), fnp.sum(x * c + 1.0))


def test_multiple_outputs_and_literals():
    f = fnx.jit(lambda x: {"sum": fnp.sum(x), "const": fnp.zeros(2), "eig": fnp.linalg.eigh(x @ x.T)[0]})
    x = arr(3, 3)
    out = f(x)
    close(out["sum"], fnp.sum(x))
    close(out["eig"], fnp.linalg.eigh(x @ x.T)[0])
    assert out["const"].shape == (2,)


def _writes_in_place(f):
    """How many replay steps of ``jit(f)`` write their result over a dead input."""
    (compiled,) = f._cache.values()
    return len(compiled.in_place)


def test_buffer_reuse_gives_the_eager_result_and_never_touches_inputs_or_views():
    def chain(x, y):
        a = fnp.exp(x) * 2.0          # fresh, dies at the next step: reused
        b = fnp.sin(a) + y            # reused again
        c = b * b                     # both operands are b: not reused
        return c - 1.0, x

    x, y = arr(4, 3), arr(4, 3)
    x_before, y_before = np.array(x), np.array(y)
    f = fnx.jit(chain)
    for _ in range(3):
        close(f(x, y), chain(x, y))
    np.testing.assert_array_equal(np.asarray(x), x_before)  # the caller's arrays are never written
    np.testing.assert_array_equal(np.asarray(y), y_before)
    assert _writes_in_place(f) >= 3

    def with_view(x):
        a = fnp.exp(x)
        t = a.T                       # a view of a: a must not be overwritten while t lives
        b = a + 1.0
        return t * 1.0, b

    g = fnx.jit(with_view)
    close(g(x), with_view(x))
    assert _writes_in_place(g) == 0  # a is seen through its transpose, and t is a view


def test_buffer_reuse_in_a_training_step_matches_eager():
    def step(p, x):
        g = fnx.grad(mlp)(p, x)
        return fnx.tree.map(lambda w, d: w - 0.1 * d, p, g)

    x = arr(5, 3)
    f = fnx.jit(step)
    close(f(PARAMS, x), step(PARAMS, x))
    close(f(PARAMS, x), step(PARAMS, x))
    assert _writes_in_place(f) > 0


# ----- fusion of elementwise chains (cupy.fuse on a GPU) --------------------------------------------

def _chain(links):
    def f(y):
        for _ in range(links):
            y = fnp.sin(y) * 1.01 + 0.1
        return fnp.sum(y)
    return fnx.value_and_grad(f)


def _compiled(f):
    (compiled,) = f._cache.values()
    return compiled


@pytest.fixture
def fuse_on_cpu(monkeypatch):
    """Fusion planned on the CPU too, with a fuser that runs the generated function as it is (numpy's
    ufuncs): the plan and the generated code are then checked on any machine."""
    from fnx.transforms import jit as jit_module
    monkeypatch.setattr(jit_module, "_kernel_fuser", lambda device: lambda kernel_name: lambda fn: fn)
    return jit_module


def test_no_fusion_on_the_cpu():
    f, x = fnx.jit(_chain(5)), arr(4)
    close(f(x), _chain(5)(x))
    assert _compiled(f).kernels == []


def test_fused_chains_match_the_unjitted_function(fuse_on_cpu):
    x = arr(16)
    for links in (1, 3, 40):
        f = fnx.jit(_chain(links))
        close(f(x), _chain(links)(x))
        kernels = _compiled(f).kernels
        calls = sum(source.count("= xp.") for _, source in kernels)
        # Every ufunc step is in a kernel: 3 per link forward (sin, multiply, add), 2 back (cos, multiply)
        # and the backward's first multiply by 1.01, which meets the broadcast of the sum's cotangent.
        assert calls >= 5 * links - 1, [s for _, s in kernels]
        assert all(source.count("= xp.") >= 2 for _, source in kernels)
        assert len(kernels) <= 2 * (1 + 5 * links // fuse_on_cpu.MAX_KERNEL_ARGS + 1)


def test_the_w1_chain_is_ten_kernels_and_a_sum(fuse_on_cpu):
    # The README's figure: 200 links, forward and backward, 1,199 ufunc steps.
    x = fnp.asarray(np.linspace(-1.0, 1.0, 16))
    f = fnx.jit(_chain(200))
    close(f(x), _chain(200)(x))
    compiled = _compiled(f)
    assert len(compiled.kernels) == 10 and len(compiled.steps) == 11
    assert sum(source.count("= xp.") for _, source in compiled.kernels) == 1199


def test_fused_kernels_respect_the_argument_cap(fuse_on_cpu, monkeypatch):
    monkeypatch.setattr(fuse_on_cpu, "MAX_KERNEL_ARGS", 6)
    x = arr(7)
    f = fnx.jit(_chain(12))
    close(f(x), _chain(12)(x))
    kernels = _compiled(f).kernels
    assert len(kernels) > 2  # the cap splits the chain instead of giving up on fusion
    for name, source in kernels:
        lines = source.splitlines()
        n_in = len(lines[0][lines[0].index("(") + 1:lines[0].index(")")].split(", "))
        n_out = len(lines[-1].removeprefix("    return ").split(", "))
        assert n_in + n_out <= 6, source


def test_fusion_keeps_values_read_later_and_graph_outputs(fuse_on_cpu):
    def f(x, y):
        a = fnp.exp(x) * 2.0       # read again after the run: an output of the kernel
        b = fnp.tanh(a) - y
        c = fnp.sum(b)             # ends the run
        return a * 3.0 + c, b      # b is an output of the graph
    x, y = arr(3, 2), arr(3, 2)
    jf = fnx.jit(f)
    close(jf(x, y), f(x, y))
    close(fnx.jit(fnx.grad(lambda x, y: fnp.sum(f(x, y)[0] * f(x, y)[1])))(x, y),
          fnx.grad(lambda x, y: fnp.sum(f(x, y)[0] * f(x, y)[1]))(x, y))
    assert _compiled(jf).kernels


def _mixed_shapes(s, b, x):
    """Runs of 0-d, broadcast and full-shape steps, and a float32 constant meeting float64."""
    k = (s * 2.0 + 1.0) / 3.0                   # a 0-d run
    y = fnp.exp(b) * x - k                      # b (3,) broadcast against x (2, 3)
    return fnp.sqrt(y * y + 1.0) + fnp.maximum(x, 0.5), k


def test_fusion_of_0d_and_broadcast_runs(fuse_on_cpu):
    args = (fnp.asarray(0.7), arr(3), arr(2, 3))
    f = fnx.jit(_mixed_shapes)
    close(f(*args), _mixed_shapes(*args))
    sources = [source for _, source in _compiled(f).kernels]
    assert len(sources) >= 2, sources


@pytest.mark.gpu
@pytest.mark.skipif(not fnx.devices("cuda"), reason="no usable CUDA GPU (cupy missing or no device)")
def test_jit_fuses_elementwise_chains_into_cupy_kernels():
    gpu = fnx.devices("cuda")[0]
    x = fnx.device_put(arr(1000), gpu)
    for links in (2, 50):
        f = fnx.jit(_chain(links))
        value, grad = f(x)
        ref_value, ref_grad = _chain(links)(x)
        assert value.device == grad.device == gpu and grad.dtype == ref_grad.dtype
        close((value, grad), (ref_value, ref_grad))
        kernels = _compiled(f).kernels
        assert sum(source.count("= xp.") for _, source in kernels) >= 5 * links - 1
        assert len(kernels) <= 2 * (1 + 5 * links // 48 + 1)
    mixed = fnx.jit(_mixed_shapes)
    args = [fnx.device_put(a, gpu) for a in (fnp.asarray(0.7), arr(3), arr(2, 3))]
    close(mixed(*args), _mixed_shapes(*args))
    assert len(_compiled(mixed).kernels) >= 2
    f32 = fnx.jit(lambda v: fnp.tanh(v * 2.0) + 1.0)
    v = fnx.device_put(fnp.linspace(-1.0, 1.0, 9, dtype=fnp.float32), gpu)
    out = f32(v)
    assert out.dtype == fnp.float32 and _compiled(f32).kernels
    np.testing.assert_allclose(np.asarray(out), np.tanh(np.linspace(-1, 1, 9, dtype=np.float32) * 2) + 1, rtol=1e-6)


def test_donation_is_accepted_checked_and_harmless():
    """JAX code that donates its state (``jit(step, donate_argnums=0)``) ports unchanged; a donated array stays valid."""
    import functools
    step = functools.partial(fnx.jit, donate_argnums=(0,))(lambda p, g: p - 0.5 * g)
    p = fnp.asarray(np.array([1.0, 2.0]))
    np.testing.assert_allclose(step(p, p), [0.5, 1.0])
    np.testing.assert_allclose(p, [1.0, 2.0])
    named = fnx.jit(lambda p, g: p * g, donate_argnames="p", keep_unused=True, inline=True)
    np.testing.assert_allclose(named(p, g=p), [1.0, 4.0])
    with pytest.raises(ValueError, match=r"both static and donated"):
        fnx.jit(lambda x, n: x, static_argnums=1, donate_argnums=1)
    with pytest.raises(ValueError, match=r"donate_argnums must be ints"):
        fnx.jit(lambda x: x, donate_argnums="x")


def test_disable_jit_runs_the_python_function_and_clear_caches_retraces():
    traces = []

    def f(x):
        traces.append(1)
        return x * 2 if float(fnp.sum(x)) > 0 else -x  # Python control flow on a value: refused under jit

    jf = fnx.jit(f)
    with pytest.raises(TracerError):
        jf(fnp.ones(2))
    with fnx.disable_jit():
        np.testing.assert_allclose(jf(fnp.ones(2)), [2.0, 2.0])
        np.testing.assert_allclose(jf(-fnp.ones(2)), [1.0, 1.0])
        with fnx.disable_jit(False):  # nested: jit is on again inside
            with pytest.raises(TracerError):
                jf(fnp.ones(2))
    g = fnx.jit(lambda x: (traces.append(1), x + 1)[1])
    traces.clear()
    g(fnp.ones(2))
    g(fnp.ones(2))
    assert len(traces) == 1 and len(g._cache) == 1
    fnx.clear_caches()
    assert len(g._cache) == 0
    np.testing.assert_allclose(g(fnp.ones(2)), [2.0, 2.0])
    assert len(traces) == 2


def test_negative_static_argnums_count_from_the_end_of_each_call():
    # As in jax.jit: static_argnums=-1 is the last positional argument of each call.
    def power(x, n):
        return x ** n
    jf = fnx.jit(power, static_argnums=-1)
    x = arr(3)
    close(jf(x, 2), power(x, 2))
    close(jf(x, 3), power(x, 3))
    assert jf._cache_size() == 2
    variadic = fnx.jit(lambda *a: a[0] ** a[-1], static_argnums=-1)
    close(variadic(x, 2), x ** 2)
    close(variadic(x, 5.0, 3), x ** 3)


def test_static_argnums_beyond_the_signature_are_refused():
    with pytest.raises(ValueError, match=r"static_argnums=\(3,\), but only accepts 1 positional argument"):
        fnx.jit(lambda x: x, static_argnums=3)
    with pytest.raises(TypeError, match="static_argnums must be ints"):
        fnx.jit(lambda x: x, static_argnums=1.5)
    x = arr(2)
    close(fnx.jit(lambda *a: a[0] * a[3], static_argnums=3)(x, 0, 0, 2.0), x * 2.0)  # *args: any position


def test_lowered_and_compiled_stages_match_the_unjitted_function():
    def f(x, n, *, scale):
        return fnp.sum(fnp.sin(x) ** n) * scale
    jf = fnx.jit(f, static_argnums=1, static_argnames="scale")
    x = arr(4)
    lowered = jf.lower(x, 3, scale=2.0)
    assert lowered.as_text() == str(lowered.graph) and "sin" in lowered.as_text()
    assert lowered.primitives() == lowered.graph.primitives()
    compiled = lowered.compile()
    for v in (x, x + 1.0, -x):
        close(compiled(v), f(v, 3, scale=2.0))  # the static arguments are baked in
    close(fnx.grad(compiled)(x), fnx.grad(lambda v: f(v, 3, scale=2.0))(x))
    with pytest.raises(TypeError, match=r"compiled as f64\[4\].*called with f64\[5\]"):
        compiled(arr(5))
    with pytest.raises(TypeError, match="structure"):
        compiled(x, 3)


def test_stages_describe_their_inputs_and_outputs_as_jax():
    jitted = fnx.jit(lambda x, y=1.0: (x.sum(), {"a": x * y}))
    lowered = jitted.lower(fnp.ones(3), y=fnp.float32(2))
    want = (fnx.ShapeDtypeStruct((), "float32"), {"a": fnx.ShapeDtypeStruct((3,), "float32")})
    for stage in (lowered, lowered.compile(), jitted.trace(fnp.ones(3), y=fnp.float32(2))):
        assert stage.out_info == want
    for stage in (lowered, lowered.compile()):
        assert stage.args_info == ((fnx.ShapeDtypeStruct((3,), "float32"),), {"y": fnx.ShapeDtypeStruct((), "float32")})
        assert (stage.in_tree, stage.out_tree) == (lowered.graph.in_tree, lowered.graph.out_tree)
    avals = jitted.trace(fnp.ones(3)).out_avals
    assert (avals[0].shape, avals[1]["a"].shape, avals[1]["a"].dtype) == ((), (3,), np.float32)


def test_eval_shape_of_a_jitted_function_computes_nothing_and_traces_nothing():
    def f(x, k):
        return fnp.stack([x] * k) @ fnp.ones((x.shape[-1], 2))
    jf = fnx.jit(f, static_argnums=1)
    spec = jf.eval_shape(fnx.ShapeDtypeStruct((5,), "float64"), 3)
    assert (spec.shape, spec.dtype) == (f(arr(5), 3).shape, np.dtype("float64"))
    assert jf._cache_size() == 0


def test_jit_of_a_module_reads_its_parameters_anew_and_backward_reaches_them():
    # As torch.compile(model): the parameters are not arguments, yet an optimizer step must be seen by the
    # next call and loss.backward() must fill their .grad.
    model = fnx.nn.Sequential(fnx.nn.Linear(3, 4), fnx.nn.Tanh(), fnx.nn.Linear(4, 2))
    x = fnp.asarray(rng.standard_normal((5, 3)).astype("float32"))
    jitted = fnx.jit(model)
    compiled = jitted.lower(x).compile()
    opt = fnx.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        close(jitted(x).detach(), model(x).detach())
        close(compiled(x).detach(), model(x).detach())
        jitted(x).sum().backward()
        jit_grads = [p.grad for p in model.parameters()]
        opt.zero_grad()
        model(x).sum().backward()
        close(jit_grads, [p.grad for p in model.parameters()])
        opt.step()
        opt.zero_grad()


def test_jit_closing_over_a_value_of_an_enclosing_transform():
    x, w = arr(3), arr(3)

    def outer(w):
        return fnx.jit(lambda v: fnp.sum(fnp.sin(v * w)))(x)
    close(fnx.grad(outer)(w), fnx.grad(lambda w: fnp.sum(fnp.sin(x * w)))(w))
    state = {}
    reads_state = fnx.jit(lambda v: fnp.sum(v * state["w"]))  # one jitted function, a new traced w per call
    for w in (arr(3), arr(3)):
        def through_global(w):
            state["w"] = w
            return reads_state(x)
        close(fnx.grad(through_global)(w), x)


def test_python_numbers_are_traced_weak_as_in_jax():
    f = fnx.jit(lambda x, n: x * n)
    assert f(fnp.ones(2), 2).dtype == np.float32  # a strong int64 would have made it float64
    assert f(fnp.ones(2, dtype="float16"), 2.0).dtype == np.float16
    assert f(fnp.ones(2, dtype="int8"), 3).dtype == np.int8
    assert f(fnp.ones(2), np.int64(2)).dtype == np.float64  # a NumPy scalar is strong, as in JAX
    # what is computed from numbers alone stays weak; a comparison's bool does not make its select weak
    g = fnx.jit(lambda x, n: x * (n + 1) - (2 * n) ** 2 / 3 + fnp.where(n > 1, x, 0))
    out = g(fnp.ones(2, dtype="float16"), 2)
    assert out.dtype == np.float16
    np.testing.assert_allclose(np.asarray(out), 3 - 16 / 3 + 1, rtol=1e-3)
    assert fnx.jit(lambda x, t: x * 0.9 ** t)(fnp.ones(2), 3).dtype == np.float32
    assert fnx.jit(lambda x, n: x * fnp.asarray(n))(fnp.ones(2), 2).dtype == np.float32
    grads = fnx.grad(fnx.jit(lambda x, n: fnp.sum(x * n)))(fnp.ones(2, dtype="float16"), 2.0)
    assert grads.dtype == np.float16 and grads.tolist() == [2.0, 2.0]
    # a new value of the same Python type reuses the trace; another type, or a NumPy scalar, traces anew
    f(fnp.ones(2), 5)
    assert f._cache_size() == 4
    f(fnp.ones(2), 5.0)
    assert f._cache_size() == 5


def test_weak_numbers_match_jax():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    cases = [(lambda x, n: x * n, False), (lambda x, n: x * (n + 1) - (2 * n) ** 2 / 3, True),
             (lambda x, n: x / n + n * 0.5, True)]
    for fn, divides in cases:
        for x in (np.ones(2, np.float16), np.ones(2, np.float32), np.arange(2, dtype=np.int8)):
            for n in (2, 2.5):
                if x.dtype.kind == "i" and (isinstance(n, float) or divides):
                    continue  # ints meeting a float or a division: NumPy's float64 (NEP 50), JAX's float32
                ours, theirs = fnx.jit(fn)(fnp.asarray(x), n), jax.jit(fn)(jnp.asarray(x), n)
                assert ours.dtype == theirs.dtype, (x.dtype, n)
                np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-3)


def test_lower_takes_shape_dtype_structs_and_trace_is_the_stage_before_as_jax():
    f = fnx.jit(lambda x, y: fnp.sum(x * y) + 1)
    x, y = fnp.asarray([1.0, 2.0]), fnp.ones(2)
    lowered = f.lower(fnx.ShapeDtypeStruct((2,), fnp.float32), y)
    assert lowered.primitives() == ["multiply", "reduce_sum", "add"]
    assert lowered.in_avals[0][:2] == ((2,), np.float32)
    compiled = lowered.compile()
    assert float(compiled(x, y)) == float(f(x, y)) == 4.0
    with pytest.raises(TypeError, match="compiled"):
        compiled(fnp.ones(3), fnp.ones(3))
    traced = f.trace(x, y)
    assert traced.jaxpr.primitives() == lowered.primitives()
    assert float(traced.lower().compile()(x, y)) == 4.0
    # A stand-in is never computed with: a large one costs nothing.
    assert fnx.jit(lambda v: v.sum()).lower(fnx.ShapeDtypeStruct((1 << 28,), "float32")).primitives() == ["reduce_sum"]
    jax = pytest.importorskip("jax")
    theirs = jax.jit(lambda x, y: (x * y).sum() + 1).lower(jax.ShapeDtypeStruct((2,), np.float32),
                                                           np.ones(2, np.float32))
    assert float(theirs.compile()(np.asarray([1.0, 2.0], np.float32), np.ones(2, np.float32))) == 4.0


def test_a_cast_of_a_weak_number_is_strong_as_jax():
    # JAX's convert_element_type gives a strongly typed result: astype fixes the dtype even of a Python int's.
    f = fnx.jit(lambda n: fnp.stack([fnp.astype(n, "uint32"), fnp.astype(n + 1, "uint32")]))
    assert f(3).dtype == np.uint32 and f(3).tolist() == [3, 4]
    assert fnx.jit(lambda n: fnp.astype(n, "float16") + 1.0)(2).dtype == np.float16  # weak 1.0 follows it
    assert fnx.jit(lambda n: n * 2.0)(2).dtype == fnp.asarray(2.0).dtype  # without the cast, still weak
    weak, strong = fnx.jit(lambda n: (n * 2.0, fnp.astype(n, "int64") * 2.0))(2)  # the cast leaves n weak
    assert weak.dtype == fnp.asarray(2.0).dtype and strong.dtype == np.float64


def test_a_jit_traced_inside_another_is_staged_once():
    """The inner function's first trace records nothing on the outer trace: its operations are in the outer graph
    once, and a callback inside runs once per call, as in JAX."""
    calls = []

    def callback(v):
        calls.append(1)
        return np.asarray(v)

    inner = fnx.jit(lambda x: fnx.pure_callback(callback, fnx.ShapeDtypeStruct(x.shape, x.dtype), x) * 2.0)
    outer = fnx.jit(lambda x: inner(x) + 1.0)
    x = arr(2)
    close(outer(x), np.asarray(x) * 2.0 + 1.0)
    assert len(calls) == 1
    outer(x)
    assert len(calls) == 2
    nested = fnx.jit(lambda x: fnx.jit(lambda y: fnp.sin(y) * 2.0)(x) + 1.0)
    assert nested.lower(x).primitives() == ["sin", "multiply", "add"]
    close(fnx.grad(lambda x: fnp.sum(fnx.jit(fnp.sin)(x)))(x), np.cos(np.asarray(x)))


def test_static_arguments_are_keyed_by_type_as_in_jax():
    f = fnx.jit(lambda x, flag: x * 2.0 if flag is True else x * 3.0, static_argnums=1)
    x = arr(2)
    close(f(x, 1), np.asarray(x) * 3.0)
    close(f(x, True), np.asarray(x) * 2.0)  # 1 == True in Python, yet another entry
    fill = fnx.jit(lambda n: fnp.full(2, n), static_argnums=0)
    assert [fill(n).dtype.kind for n in (1, True, 1.0)] == ["i", "b", "f"]
    assert fill._cache_size() == 3


def test_jit_of_the_same_function_shares_its_cache_as_in_jax():
    traces = []

    def g(x):
        traces.append(1)
        return x + 1.0

    x = arr(3)
    for _ in range(3):
        close(fnx.jit(g)(x), np.asarray(x) + 1.0)
    assert len(traces) == 1
    fnx.jit(g, static_argnames=())(x)  # the same options: the same cache
    assert len(traces) == 1
    fnx.clear_caches()  # also the caches of jitted functions already collected
    fnx.jit(g)(x)
    assert len(traces) == 2


def test_print_of_a_traced_value_shows_what_it_stands_for(capsys):
    fnx.jit(lambda x: print("x is", x) or x)(fnp.ones(2))
    fnx.vmap(lambda x: print(f"row {x}") or x)(fnp.ones((2, 3)))
    out = capsys.readouterr().out
    assert "x is Traced<float32[2]> by jit" in out and "row Batched<float32[3], axis 0> by vmap" in out


def test_conversion_errors_are_jaxs_classes():
    from fnx import errors
    x = fnp.ones(3)
    cases = [(lambda x: bool(x[0] > 0), errors.TracerBoolConversionError),
             (lambda x: int(x[0]), errors.ConcretizationTypeError),
             (lambda x: float(x[0]), errors.ConcretizationTypeError),
             (lambda x: x[0].item(), errors.ConcretizationTypeError),
             (lambda x: [1, 2][x[0].astype(int)], errors.TracerIntegerConversionError),
             (lambda x: np.asarray(x), errors.TracerArrayConversionError),
             (lambda x: x[x > 0], errors.NonConcreteBooleanIndexError),
             (lambda x: x[:x[0].astype(int)], errors.NonConcreteSliceError),
             (lambda x: fnp.nonzero(x), errors.ConcretizationTypeError)]
    for transform in (fnx.jit, fnx.vmap):
        for fn, expected in cases:
            with pytest.raises(expected) as info:
                transform(fn)(x if transform is fnx.jit else x[None])
            assert isinstance(info.value, (TracerError, TypeError))
    assert issubclass(errors.TracerBoolConversionError, errors.ConcretizationTypeError)
    assert issubclass(errors.NonConcreteBooleanIndexError, IndexError)
    with pytest.raises(IndexError, match="slice entries must be static integers"):  # JAX's class for it
        fnx.jit(lambda x, n: x[:n])(x, 2)
    assert errors.UnexpectedTracerError is errors.EscapedTracerError
    with pytest.raises(errors.ConcretizationTypeError, match=r"astype"):
        fnx.jit(lambda x: int(x[0]))(x)
    jax = pytest.importorskip("jax")
    for name in ("ConcretizationTypeError", "TracerBoolConversionError", "TracerIntegerConversionError",
                 "TracerArrayConversionError", "NonConcreteBooleanIndexError", "UnexpectedTracerError"):
        theirs, ours = getattr(jax.errors, name), getattr(errors, name)
        for builtin in (TypeError, IndexError):
            if issubclass(theirs, builtin):
                assert issubclass(ours, builtin), (name, builtin)


def test_placement_and_compiler_keywords_of_jax_jit():
    x = arr(3)
    for f in (fnx.jit(fnp.sin, device="cpu"), fnx.jit(fnp.sin, backend="cpu"),
              fnx.jit(fnp.sin, compiler_options={"xla_cpu_enable_fast_math": False}),
              fnx.jit(fnp.sin, in_shardings=None, out_shardings=None)):
        close(f(x), np.sin(np.asarray(x)))
    made = fnx.jit(lambda: fnp.ones(2), device="cpu")()
    assert str(made.device) == "cpu:0"
    with pytest.raises(ValueError, match="both a device and a backend"):
        fnx.jit(fnp.sin, device="cpu", backend="cpu")
    with pytest.raises(RuntimeError, match=r"unknown or unavailable backend 'tpu'.*\['cpu"):
        fnx.jit(fnp.sin, backend="tpu")
    with pytest.raises(ValueError, match="in_shardings must be None"):
        fnx.jit(fnp.sin, in_shardings=object())


def test_jit_arguments_are_checked_against_the_signature_as_by_jax():
    with pytest.raises(TypeError, match="expected a callable value, got 3"):
        fnx.jit(3)
    with pytest.raises(ValueError, match=r"invalid argnames \['zzz'\] in static_argnames"):
        fnx.jit(lambda x, n: x, static_argnames="zzz")
    with pytest.raises(ValueError, match=r"donate_argnums=\(5,\), but only accepts 1 positional argument"):
        fnx.jit(lambda x: x, donate_argnums=5)
    with pytest.raises(ValueError, match=r"invalid argnames \['zzz'\] in donate_argnames"):
        fnx.jit(lambda x: x, donate_argnames="zzz")
    y = arr(2)
    close(fnx.jit(lambda x, **kw: x * kw["zzz"], static_argnames="zzz")(y, zzz=2.0), np.asarray(y) * 2.0)
    close(fnx.jit(lambda x: x * 2.0, donate_argnums=-1)(y), np.asarray(y) * 2.0)
