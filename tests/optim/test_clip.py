"""fnx.nn.utils: gradient clipping and flat parameter vectors, against PyTorch's formulas."""
import math

import numpy as np
import pytest

import fnx
import fnx.nn.utils
import fnx.optim
import fnx.numpy as fnp
from fnx.errors import ShapeError
from fnx.nn import Parameter
from fnx.nn.utils import clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters


def _params_with_grads(grads):
    params = []
    for g in grads:
        p = Parameter(fnp.zeros(np.shape(g)))
        p.grad = None if g is None else fnp.asarray(np.asarray(g, np.float32))
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_values(norm_type, max_norm):
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=(3, 2)), rng.normal(size=4), None]
    params = _params_with_grads(grads)
    flat = np.concatenate([g.ravel() for g in grads if g is not None])
    total = np.max(np.abs(flat)) if norm_type == math.inf else np.sum(np.abs(flat) ** norm_type) ** (1 / norm_type)
    got = clip_grad_norm_(params, max_norm, norm_type=norm_type)
    assert float(got) == pytest.approx(total, rel=1e-5)
    coef = min(max_norm / (total + 1e-6), 1.0)
    for p, g in zip(params, grads):
        if g is None:
            assert p.grad is None
        else:
            np.testing.assert_allclose(np.asarray(p.grad), g * coef, rtol=1e-5)
            assert p.grad.dtype == np.float32


def test_clip_grad_norm_hand_computed_and_single_parameter():
    p = Parameter(fnp.zeros(2))
    p.grad = fnp.array([3.0, 4.0])
    assert float(clip_grad_norm_(p, 1.0)) == 5.0
    np.testing.assert_allclose(np.asarray(p.grad), [3 / (5 + 1e-6), 4 / (5 + 1e-6)], rtol=1e-6)
    q = Parameter(fnp.zeros(2))
    assert float(clip_grad_norm_([q], 1.0)) == 0.0  # no gradients at all


def test_clip_grad_norm_nonfinite():
    params = _params_with_grads([[1.0, np.inf]])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert math.isinf(float(clip_grad_norm_(params, 1.0)))


def test_clip_grad_value():
    params = _params_with_grads([[-3.0, 0.25, 2.0], None])
    assert clip_grad_value_(params, 1) is None
    np.testing.assert_array_equal(np.asarray(params[0].grad), [-1.0, 0.25, 1.0])
    assert params[1].grad is None


def test_clipping_inside_a_training_step():
    w = Parameter(fnp.array([10.0, -10.0]))
    opt = fnx.optim.SGD([w], lr=1.0)
    fnp.sum(w * w).backward()
    total = clip_grad_norm_([w], max_norm=1.0)
    opt.step()
    assert float(total) == pytest.approx(math.sqrt(800.0))
    np.testing.assert_allclose(np.asarray(w.data), [10 - 1 / math.sqrt(2), -10 + 1 / math.sqrt(2)], rtol=1e-5)


def test_parameters_to_vector_and_back():
    ps = [Parameter(fnp.asarray(np.arange(6.0, dtype=np.float32).reshape(2, 3))), Parameter(fnp.array([7.0]))]
    vec = parameters_to_vector(ps)
    np.testing.assert_array_equal(np.asarray(vec), [0, 1, 2, 3, 4, 5, 7])
    # the vector is recorded on the tape, as in PyTorch
    fnp.sum(vec * vec).backward()
    np.testing.assert_array_equal(np.asarray(ps[1].grad), [14.0])
    vector_to_parameters(fnp.arange(7.0), ps)
    assert ps[0].shape == (2, 3) and type(ps[0].primal) is fnx.Array
    np.testing.assert_array_equal(np.asarray(ps[0].data), [[0, 1, 2], [3, 4, 5]])
    np.testing.assert_array_equal(np.asarray(ps[1].data), [6.0])
    with pytest.raises(ShapeError, match="length 7"):
        vector_to_parameters(fnp.zeros(6), ps)
    with pytest.raises(TypeError, match="expected an fnx array"):
        vector_to_parameters([0.0] * 7, ps)
