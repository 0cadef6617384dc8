"""fnx.optim.swa_utils: AveragedModel, the averaging functions, SWALR and update_bn.

Running means, moving averages, annealed learning rates and BatchNorm
statistics are written out by hand first, then generated inputs are checked
against closed forms, and the tables at the end compare with
``torch.optim.swa_utils`` itself, with the same weights and data.
"""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fnx
import fnx.numpy as fnp
from fnx import nn
from fnx.optim import swa_utils
from fnx.optim.swa_utils import (SWALR, AveragedModel, get_ema_avg_fn, get_ema_multi_avg_fn, get_swa_avg_fn,
                                 get_swa_multi_avg_fn, update_bn)
from fnx.transforms.autodiff import ReverseTracer


def _np(x):
    return np.asarray(x.detach() if hasattr(x, "detach") else x)


def _linear(w, b=0.0, dtype="float32"):
    lin = nn.Linear(1, 1).to(dtype)
    lin.weight.data = fnp.array([[w]], dtype=dtype)
    lin.bias.data = fnp.array([b], dtype=dtype)
    return lin


def _set(lin, w, b=0.0):
    lin.weight.data = fnp.array([[w]], dtype=lin.weight.dtype)
    lin.bias.data = fnp.array([b], dtype=lin.bias.dtype)


def _sgd(lr=1.0, groups=1):
    return fnx.optim.SGD([{"params": [nn.Parameter(fnp.zeros(1))]} for _ in range(groups)], lr=lr)


# ----- AveragedModel, by hand ----------------------------------------------------------------------------

def test_swa_is_the_running_mean():
    model = _linear(1.0, 10.0)
    swa = AveragedModel(model)
    assert swa.module is not model and swa.module.weight is not model.weight
    assert swa.n_averaged.dtype == fnp.int64 and int(swa.n_averaged) == 0
    for w, b in [(1.0, 10.0), (2.0, 0.0), (6.0, -4.0), (3.0, 2.0)]:
        _set(model, w, b)
        swa.update_parameters(model)
    # (1 + 2 + 6 + 3) / 4 = 3, (10 + 0 - 4 + 2) / 4 = 2
    assert swa.module.weight.data.tolist() == [[3.0]] and swa.module.bias.data.tolist() == [2.0]
    assert int(swa.n_averaged) == 4
    assert float(swa(fnp.array([[2.0]]))[0, 0]) == 8.0  # forward is the averaged module's: 3 * 2 + 2


def test_first_update_copies_then_ema():
    model = _linear(2.0)
    ema = AveragedModel(model, avg_fn=get_ema_avg_fn(0.5))
    _set(model, 100.0)  # the copy made at construction does not count: the first update copies
    for w in (2.0, 4.0, 8.0):
        _set(model, w)
        ema.update_parameters(model)
    # 2, then 0.5 * 2 + 0.5 * 4 = 3, then 0.5 * 3 + 0.5 * 8 = 5.5
    assert ema.module.weight.data.tolist() == [[5.5]]
    multi = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.75))
    for w in (4.0, 8.0, 0.0):
        _set(model, w)
        multi.update_parameters(model)
    # 4, then 4 + 0.25 * (8 - 4) = 5, then 5 + 0.25 * (0 - 5) = 3.75
    assert multi.module.weight.data.tolist() == [[3.75]]


def test_buffers_follow_the_model_unless_averaged():
    model = nn.Sequential(nn.Linear(1, 1), nn.BatchNorm1d(1))
    synced = AveragedModel(model)
    averaged = AveragedModel(model, use_buffers=True)
    stats = [(2.0, 1.0, 3), (4.0, 3.0, 4), (9.0, 5.0, 8)]
    for mean, var, count in stats:
        model[1].running_mean = fnp.array([mean])
        model[1].running_var = fnp.array([var])
        model[1].num_batches_tracked = fnp.array(count)
        synced.update_parameters(model)
        averaged.update_parameters(model)
    bn = synced.module[1]
    assert (bn.running_mean.tolist(), bn.running_var.tolist(), int(bn.num_batches_tracked)) == ([9.0], [5.0], 8)
    bn = averaged.module[1]
    # running means: (2 + 4 + 9) / 3 = 5, (1 + 3 + 5) / 3 = 3; the int64 count is averaged and truncated as
    # PyTorch's copy_ truncates: 3, 3 + (4 - 3) / 2 = 3.5 -> 3, 3 + (8 - 3) / 3 = 4.67 -> 4
    assert bn.running_mean.tolist() == [5.0] and bn.running_var.tolist() == [3.0]
    assert bn.num_batches_tracked.dtype == fnp.int64 and int(bn.num_batches_tracked) == 4


def test_builtin_functions_by_hand():
    a, c = fnp.array([1.0, 2.0]), fnp.array([5.0, 10.0])
    assert get_swa_avg_fn()(a, c, fnp.array(3)).tolist() == [2.0, 4.0]  # a + (c - a) / 4
    assert get_swa_avg_fn()(a, c, 3).dtype == fnp.float32  # a Python count or an int64 one keeps float32
    assert get_swa_avg_fn()(a, c, fnp.array(3)).dtype == fnp.float32
    assert get_ema_avg_fn(0.75)(a, c, 1).tolist() == [2.0, 4.0]  # 0.75 a + 0.25 c
    assert [x.tolist() for x in get_swa_multi_avg_fn()([a, a], [c, a], fnp.array(1))] == [[3.0, 6.0], [1.0, 2.0]]
    assert [x.tolist() for x in get_ema_multi_avg_fn(0.5)([a], [c], 0)] == [[3.0, 6.0]]
    ints = get_ema_multi_avg_fn(0.9)([fnp.array([5, 7])], [fnp.array([9, 2])], 0)[0]
    assert ints.dtype == fnp.int64 and ints.tolist() == [5, 6]  # 5.4 and 6.5, truncated
    swa_int = get_swa_multi_avg_fn()([fnp.array([5, 7])], [fnp.array([9, 2])], fnp.array(2))[0]
    assert swa_int.dtype == fnp.int64 and swa_int.tolist() == [6, 5]  # 5 + 4/3, 7 - 5/3, truncated
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match=rf"Invalid decay value {bad} provided. Please provide a value in \[0,1\]"):
            get_ema_avg_fn(bad)
        with pytest.raises(ValueError, match="Invalid decay value"):
            get_ema_multi_avg_fn(bad)


def test_multi_avg_fn_contract():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1).to("float64"))
    calls = []

    def mean_of_two(averaged, current, n):
        calls.append(([a.dtype for a in averaged], n.dtype, int(n)))
        return [(a + c) / 2 for a, c in zip(averaged, current)]
    avg = AveragedModel(model, multi_avg_fn=mean_of_two)
    avg.update_parameters(model)
    assert calls == []  # the first update only copies
    avg.update_parameters(model)
    # one call per (device, dtype) group, with n_averaged as a 0-d int64 array
    assert calls == [([fnp.float32, fnp.float32], fnp.int64, 1), ([fnp.float64, fnp.float64], fnp.int64, 1)]
    assert avg.module[1].weight.dtype == fnp.float64 and avg.module[0].weight.dtype == fnp.float32

    def in_place(averaged, current, n):
        for a, c in zip(averaged, current):
            a += c  # noqa: F841 - what a PyTorch function does; an fnx array only rebinds the local name
    bad = AveragedModel(model, multi_avg_fn=in_place)
    bad.update_parameters(model)
    with pytest.raises(TypeError, match="multi_avg_fn returned None. fnx arrays are immutable"):
        bad.update_parameters(model)
    short = AveragedModel(model, multi_avg_fn=lambda a, c, n: a[:1])
    short.update_parameters(model)
    with pytest.raises(ValueError, match="must return a list of 2 arrays"):
        short.update_parameters(model)
    none = AveragedModel(model, avg_fn=lambda a, c, n: None)
    none.update_parameters(model)
    with pytest.raises(TypeError, match="avg_fn returned None"):
        none.update_parameters(model)
    with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn should be provided"):
        AveragedModel(model, avg_fn=get_ema_avg_fn(), multi_avg_fn=get_ema_multi_avg_fn())


def test_state_dict_round_trip():
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    swa = AveragedModel(model)
    for step in range(3):
        for p in model.parameters():
            p.data = p.data + step
        swa.update_parameters(model)
    sd = swa.state_dict()
    assert list(sd)[0] == "n_averaged" and int(sd["n_averaged"]) == 3
    assert [k for k in sd][1:] == ["module." + k for k in model.state_dict()]
    other = AveragedModel(nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3)))
    other.load_state_dict(sd)
    assert int(other.n_averaged) == 3 and other.n_averaged.dtype == fnp.int64
    for k, v in sd.items():
        np.testing.assert_array_equal(_np(other.state_dict()[k]), _np(v))
    # both go on alike: the loaded count weights the next model by 1/4
    swa.update_parameters(model)
    other.update_parameters(model)
    for k, v in swa.state_dict().items():
        np.testing.assert_array_equal(_np(other.state_dict()[k]), _np(v))


def test_averaged_parameters_carry_no_gradient_history():
    model = nn.Linear(2, 1)
    swa = AveragedModel(model, avg_fn=get_ema_avg_fn(0.5))
    x = fnp.array([[1.0, 2.0]])
    for _ in range(3):
        loss = fnp.sum(model(x) ** 2)
        loss.backward()  # the model's parameters hold gradients when they are averaged
        for p in model.parameters():
            p.data = p.data - 0.1 * p.grad
        swa.update_parameters(model)
    for p in swa.parameters():
        assert type(p.primal) is fnx.Array and not isinstance(p.data, ReverseTracer)
        assert p.grad is None
    assert type(swa._buffers["n_averaged"]) is fnx.Array and not swa.n_averaged.requires_grad
    model.zero_grad()
    fnp.sum(swa(x)).backward()  # the averaged model trains on its own
    assert all(p.grad is not None for p in swa.parameters())
    assert all(p.grad is None for p in model.parameters())
    g = fnx.grad(lambda m: fnp.sum(m(x)), allow_int=True)(swa)  # a pytree like any Module (n_averaged: int)
    np.testing.assert_allclose(_np(g.module.weight), _np(x))


def test_tied_weights_stay_tied_and_device():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    model[1].weight = model[0].weight
    swa = AveragedModel(model)
    assert len(list(swa.parameters())) == len(list(model.parameters())) == 3
    assert swa.module[0].weight is swa.module[1].weight
    swa.update_parameters(model)
    devices = fnx.devices("cpu")
    if len(devices) > 1:
        moved = AveragedModel(model, device=devices[1])
        assert moved.n_averaged.device == devices[1]
        assert all(p.device == devices[1] for p in moved.parameters())
        moved.update_parameters(model)
        moved.update_parameters(model)  # the model's arrays are brought over, as PyTorch's .to(device)
        assert all(p.device == devices[1] for p in moved.parameters()) and int(moved.n_averaged) == 2


@given(st.lists(st.floats(-100, 100, allow_nan=False), min_size=1, max_size=8),
       st.floats(0, 1, allow_nan=False))
def test_running_mean_and_ema_match_closed_forms(weights, decay):
    model = _linear(0.0, dtype="float64")
    swa, ema = AveragedModel(model), AveragedModel(model, avg_fn=get_ema_avg_fn(decay))
    ema_multi = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay))
    want = weights[0]
    for i, w in enumerate(weights):
        _set(model, w, -w)
        for m in (swa, ema, ema_multi):
            m.update_parameters(model)
        if i:
            want = decay * want + (1 - decay) * w
    assert int(swa.n_averaged) == len(weights)
    np.testing.assert_allclose(float(swa.module.weight.data[0, 0]), np.mean(weights), rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(float(swa.module.bias.data[0]), -np.mean(weights), rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(float(ema.module.weight.data[0, 0]), want, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(float(ema_multi.module.weight.data[0, 0]), want, rtol=1e-12, atol=1e-10)


# ----- SWALR ---------------------------------------------------------------------------------------------

def _lrs(sched, opt, steps):
    out = []
    for _ in range(steps):
        out.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    return out


def test_swalr_by_hand():
    opt = _sgd(1.0)
    lin = _lrs(SWALR(opt, swa_lr=0.2, anneal_epochs=4, anneal_strategy="linear"), opt, 7)
    np.testing.assert_allclose(lin, [1.0, 0.8, 0.6, 0.4, 0.2, 0.2, 0.2], rtol=1e-12)
    opt = _sgd(1.0)
    cos = _lrs(SWALR(opt, swa_lr=0.0, anneal_epochs=2), opt, 4)  # alpha = (1 - cos(pi t)) / 2 at t = 0, 1/2, 1
    np.testing.assert_allclose(cos, [1.0, 0.5, 0.0, 0.0], atol=1e-15)
    opt = _sgd(1.0)
    assert _lrs(SWALR(opt, swa_lr=0.3, anneal_epochs=0), opt, 3) == [0.3, 0.3, 0.3]
    assert opt.param_groups[0]["swa_lr"] == 0.3 and opt.param_groups[0]["initial_lr"] == 1.0


@given(st.floats(1e-3, 10), st.floats(0, 10), st.integers(0, 6), st.sampled_from(["cos", "linear"]))
def test_swalr_closed_form(lr, swa_lr, epochs, strategy):
    opt = _sgd(lr)
    got = _lrs(SWALR(opt, swa_lr=swa_lr, anneal_epochs=epochs, anneal_strategy=strategy), opt, epochs + 3)
    curve = (lambda t: (1 - math.cos(math.pi * t)) / 2) if strategy == "cos" else (lambda t: t)
    want = [swa_lr * curve(min(1, max(s, epochs == 0) / max(1, epochs))) +
            lr * (1 - curve(min(1, max(s, epochs == 0) / max(1, epochs)))) for s in range(epochs + 3)]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_swalr_groups_checks_warning_and_state():
    opt = _sgd(1.0, groups=2)
    sched = SWALR(opt, swa_lr=[0.1, 0.5], anneal_epochs=1)
    opt.step()
    sched.step()
    assert sched.get_last_lr() == [0.1, 0.5]
    with pytest.raises(ValueError, match="swa_lr must have the same length as optimizer.param_groups"):
        SWALR(opt, swa_lr=[0.1])
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear', instead got exp"):
        SWALR(opt, 0.1, anneal_strategy="exp")
    for bad in (-1, 2.0):
        with pytest.raises(ValueError, match=f"anneal_epochs must be equal or greater than 0, got {bad}"):
            SWALR(opt, 0.1, anneal_epochs=bad)
    with pytest.raises(TypeError, match="is not an Optimizer"):
        SWALR(object(), 0.1)
    with pytest.warns(UserWarning, match=r"please use `get_last_lr\(\)`"):
        sched.get_lr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched.step()  # no warning from inside step()
    state = sched.state_dict()
    assert "optimizer" not in state and "anneal_func" not in state and state["_anneal_strategy"] == "cos"
    other = SWALR(_sgd(1.0, groups=2), swa_lr=0.2, anneal_strategy="linear")
    other.load_state_dict(state)
    assert other.anneal_func(0.5) == pytest.approx(0.5) and other.anneal_epochs == 1
    assert other.anneal_func is SWALR._cosine_anneal


def test_swalr_inside_sequential_lr_does_not_warn():
    opt = _sgd(1.0)
    first = fnx.optim.lr_scheduler.ConstantLR(opt, factor=1.0, total_iters=1)
    swa = SWALR(opt, swa_lr=0.5, anneal_epochs=2, anneal_strategy="linear")
    sched = fnx.optim.lr_scheduler.SequentialLR(opt, [first, swa], milestones=[2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _lrs(sched, opt, 5)


# ----- update_bn --------------------------------------------------------------------------------------------

def test_update_bn_by_hand():
    model = nn.Sequential(nn.Linear(1, 1), nn.BatchNorm1d(1, momentum=0.3)).eval()
    model[0].weight.data = fnp.array([[1.0]])
    model[0].bias.data = fnp.array([0.0])
    model[1].running_mean = fnp.array([50.0])
    loader = [fnp.array([[0.0], [2.0]]), [fnp.array([[4.0], [6.0], [8.0]]), "label"], (fnp.array([[1.0], [3.0]]),)]
    update_bn(loader, model)
    bn = model[1]
    # batch means 1, 6, 2 and unbiased variances 2, 4, 2, averaged with equal weights
    np.testing.assert_allclose(_np(bn.running_mean), [3.0], rtol=1e-6)
    np.testing.assert_allclose(_np(bn.running_var), [8.0 / 3.0], rtol=1e-6)
    assert int(bn.num_batches_tracked) == 3
    assert bn.momentum == 0.3 and not model.training and not bn.training


def test_update_bn_without_batchnorm_and_when_the_loader_fails():
    model = nn.Linear(1, 1).eval()
    update_bn([fnp.ones((2, 1))], model)
    assert not model.training
    model = nn.Sequential(nn.BatchNorm1d(1))

    def failing():
        yield fnp.ones((2, 1))
        raise RuntimeError("loader broke")
    with pytest.raises(RuntimeError, match="loader broke"):
        update_bn(failing(), model)
    assert model[0].momentum == 0.1 and model.training


def test_batchnorm_momentum_none_is_the_cumulative_average():
    bn = nn.BatchNorm1d(1, momentum=None)
    for batch in ([[1.0], [3.0]], [[10.0], [20.0]]):
        bn(fnp.array(batch))
    # (2 + 15) / 2 and (2 + 50) / 2: the unbiased variances, averaged with equal weights
    np.testing.assert_allclose(_np(bn.running_mean), [8.5])
    np.testing.assert_allclose(_np(bn.running_var), [26.0])
    assert int(bn.num_batches_tracked) == 2
    assert swa_utils.__all__ == ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn",
                                 "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]


# ----- against PyTorch ---------------------------------------------------------------------------------------

def _pair(torch):
    def build(lib):
        return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
    theirs, ours = build(torch), build(fnx)
    ours.load_state_dict({k: fnp.asarray(v.numpy()) for k, v in theirs.state_dict().items()})
    return theirs, ours


_AVERAGING = ["swa", "ema", "ema_multi", "swa_multi", "ema_buffers", "swa_buffers"]


@pytest.mark.parametrize("how", _AVERAGING)
def test_averaged_model_against_torch(how):
    torch = pytest.importorskip("torch")
    from torch.optim import swa_utils as tswa
    fns = {"ema": ("avg_fn", "get_ema_avg_fn", (0.9,)), "ema_multi": ("multi_avg_fn", "get_ema_multi_avg_fn", (0.8,)),
           "swa_multi": ("multi_avg_fn", "get_swa_multi_avg_fn", ()),
           "ema_buffers": ("multi_avg_fn", "get_ema_multi_avg_fn", (0.7,))}
    kw_t, kw_o = {}, {}
    if how in fns:
        arg, name, params = fns[how]
        kw_t[arg], kw_o[arg] = getattr(tswa, name)(*params), getattr(swa_utils, name)(*params)
    if how.endswith("buffers"):
        kw_t["use_buffers"] = kw_o["use_buffers"] = True
    theirs, ours = _pair(torch)
    t_avg, o_avg = tswa.AveragedModel(theirs, **kw_t), AveragedModel(ours, **kw_o)
    rng = np.random.default_rng(0)
    for _ in range(5):
        x = rng.standard_normal((6, 3)).astype(np.float32)
        theirs(torch.tensor(x))  # moves the BatchNorm statistics
        with torch.no_grad():
            for p in theirs.parameters():
                p.add_(torch.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
        ours.load_state_dict({k: fnp.asarray(v.numpy()) for k, v in theirs.state_dict().items()})
        t_avg.update_parameters(theirs)
        o_avg.update_parameters(ours)
    want, got = t_avg.state_dict(), o_avg.state_dict()
    assert list(got) == list(want)
    for k in want:
        assert _np(got[k]).dtype == want[k].numpy().dtype, k
        # PyTorch's lerp uses fused multiply-adds, so the multi functions may differ in the last bit
        np.testing.assert_allclose(_np(got[k]), want[k].numpy(), rtol=1e-6, atol=1e-7, err_msg=k)
        if how in ("swa", "ema", "swa_buffers"):
            np.testing.assert_array_equal(_np(got[k]), want[k].numpy(), err_msg=k)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    t_avg.eval()
    o_avg.eval()
    with torch.no_grad():
        np.testing.assert_allclose(_np(o_avg(fnp.asarray(x))), t_avg(torch.tensor(x)).numpy(), rtol=1e-5, atol=1e-6)


_SCHEDULES = [(strategy, epochs) for strategy in ("cos", "linear") for epochs in (0, 1, 3, 10)]


@pytest.mark.parametrize("strategy,epochs", _SCHEDULES)
def test_swalr_against_torch(strategy, epochs):
    torch = pytest.importorskip("torch")
    from torch.optim.swa_utils import SWALR as TSWALR
    t_opt = torch.optim.SGD([{"params": [torch.nn.Parameter(torch.zeros(1))], "lr": lr} for lr in (0.5, 2.0)])
    o_opt = fnx.optim.SGD([{"params": [nn.Parameter(fnp.zeros(1))], "lr": lr} for lr in (0.5, 2.0)])
    t_s = TSWALR(t_opt, swa_lr=[0.05, 0.3], anneal_epochs=epochs, anneal_strategy=strategy)
    o_s = SWALR(o_opt, swa_lr=[0.05, 0.3], anneal_epochs=epochs, anneal_strategy=strategy)
    for step in range(14):
        assert o_s.get_last_lr() == t_s.get_last_lr(), step
        assert [g["lr"] for g in o_opt.param_groups] == [g["lr"] for g in t_opt.param_groups]
        if step == 4:  # someone else changes the lr: the recursive form carries it through
            for g in (*t_opt.param_groups, *o_opt.param_groups):
                g["lr"] *= 3.0
        t_opt.step()
        o_opt.step()
        t_s.step()
        o_s.step()
    assert o_s.last_epoch == t_s.last_epoch and o_s._step_count == t_s._step_count


def test_update_bn_against_torch():
    torch = pytest.importorskip("torch")
    from torch.optim.swa_utils import update_bn as t_update_bn

    def build(lib):
        nn_ = lib.nn
        return nn_.Sequential(nn_.Conv2d(2, 3, 3), nn_.BatchNorm2d(3, momentum=0.3), nn_.ReLU(), nn_.Flatten(),
                              nn_.Linear(12, 4), nn_.BatchNorm1d(4))
    theirs, ours = build(torch), build(fnx)
    ours.load_state_dict({k: fnp.asarray(v.numpy()) for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(1)
    data = [rng.standard_normal((n, 2, 4, 4)).astype(np.float32) for n in (5, 3, 7)]
    theirs.eval()
    ours.eval()
    t_update_bn([(torch.tensor(d), 0) for d in data], theirs)
    update_bn([(fnp.asarray(d), 0) for d in data], ours)
    want = theirs.state_dict()
    for k, v in ours.state_dict().items():
        np.testing.assert_allclose(_np(v), want[k].numpy(), rtol=1e-5, atol=1e-6, err_msg=k)
    assert ours.training == theirs.training and ours[1].momentum == theirs[1].momentum == 0.3
