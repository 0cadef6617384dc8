"""LinearLR, ConstantLR, PolynomialLR, MultiplicativeLR, CosineAnnealingWarmRestarts, CyclicLR, SequentialLR
and ChainedScheduler: lr sequences against PyTorch's documented closed forms (written out here), and
against torch itself when it is installed."""
import math

import numpy as np
import pytest

import fnx.numpy as fnp
from fnx import optim
from fnx.nn import Parameter
from fnx.optim import lr_scheduler as S


def _opt(lr=0.1, groups=1, cls=optim.SGD, **kw):
    return cls([{"params": [Parameter(fnp.zeros(1))]} for _ in range(groups)], lr=lr, **kw)


def _lrs(sched, n, group=0):
    """The lr in force at steps 0..n-1 (read before each step, as a training loop sees it)."""
    out = []
    for _ in range(n):
        out.append(sched.get_last_lr()[group])
        sched.optimizer.step()
        sched.step()
    return out


# ----- each scheduler against its closed form ------------------------------------------------------

@pytest.mark.parametrize("start,end,n", [(1 / 3, 1.0, 5), (0.1, 0.5, 4), (1.0, 0.0, 3), (0.5, 0.5, 2)])
def test_linear_lr(start, end, n):
    got = _lrs(S.LinearLR(_opt(0.2), start_factor=start, end_factor=end, total_iters=n), n + 4)
    want = [0.2 * (start + (end - start) * min(t, n) / n) for t in range(n + 4)]
    assert got == pytest.approx(want, rel=1e-12)
    assert want == pytest.approx([S.linear_lr(t, 0.2, start, end, n) for t in range(n + 4)], rel=1e-12)


@pytest.mark.parametrize("factor,n", [(1 / 3, 5), (0.5, 1), (0.0, 2), (1.0, 3)])
def test_constant_lr(factor, n):
    if factor == 0.0:  # PyTorch divides by the factor at total_iters, and so raises there too
        with pytest.raises(ZeroDivisionError):
            _lrs(S.ConstantLR(_opt(0.2), factor=factor, total_iters=n), n + 3)
        return
    got = _lrs(S.ConstantLR(_opt(0.2), factor=factor, total_iters=n), n + 3)
    want = [0.2 * factor if t < n else 0.2 for t in range(n + 3)]
    assert got == pytest.approx(want, rel=1e-12)
    assert want == pytest.approx([S.constant_lr(t, 0.2, factor, n) for t in range(n + 3)], rel=1e-12)


@pytest.mark.parametrize("n,power", [(5, 1.0), (4, 2.0), (6, 0.5)])
def test_polynomial_lr(n, power):
    got = _lrs(S.PolynomialLR(_opt(0.3), total_iters=n, power=power), n + 3)
    want = [0.3 * (1 - min(t, n) / n) ** power for t in range(n + 3)]
    assert got == pytest.approx(want, rel=1e-12, abs=1e-15)
    assert want == pytest.approx([S.polynomial_decay(t, 0.3, n, power) for t in range(n + 3)], rel=1e-12)


def test_multiplicative_lr_per_group_and_its_checks():
    opt = _opt(1.0, groups=2)
    sched = S.MultiplicativeLR(opt, [lambda e: 0.5, lambda e: 1.0 / (e + 1)])
    got0, got1 = [], []
    for _ in range(5):
        got0.append(sched.get_last_lr()[0])
        got1.append(sched.get_last_lr()[1])
        opt.step()
        sched.step()
    assert got0 == pytest.approx([0.5 ** t for t in range(5)])
    assert got1 == pytest.approx([1 / math.factorial(t + 1) * 1 for t in range(5)])  # prod of 1/(e+1), e=1..t
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas"):
        S.MultiplicativeLR(opt, [lambda e: 1.0])
    with pytest.raises(TypeError, match="lr_lambda should be a function"):
        S.MultiplicativeLR(_opt(), 0.5)


def _sgdr(t, base, T_0, T_mult, eta_min):
    """SGDR's lr at integer step t, walking the periods one by one."""
    T_i, start = T_0, 0
    while t >= start + T_i:
        start += T_i
        T_i *= T_mult
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * (t - start) / T_i)) / 2


@pytest.mark.parametrize("T_0,T_mult,eta_min", [(3, 1, 0.0), (2, 2, 0.01), (1, 3, 0.0), (4, 2, 0.05)])
def test_cosine_warm_restarts(T_0, T_mult, eta_min):
    n = 25
    got = _lrs(S.CosineAnnealingWarmRestarts(_opt(0.1), T_0=T_0, T_mult=T_mult, eta_min=eta_min), n)
    want = [_sgdr(t, 0.1, T_0, T_mult, eta_min) for t in range(n)]
    assert got == pytest.approx(want, rel=1e-12, abs=1e-15)
    assert [S.cosine_warm_restarts(t, 0.1, T_0, T_mult, eta_min) for t in range(n)] == pytest.approx(
        want, rel=1e-12, abs=1e-15)


def test_cosine_warm_restarts_fractional_epochs_without_warning(recwarn):
    opt = _opt(1.0)
    sched = S.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
    for epoch in [0.5, 1.25, 2.5, 5.75]:
        sched.step(epoch)
        assert sched.get_last_lr()[0] == pytest.approx(S.cosine_warm_restarts(epoch, 1.0, 2, 2), rel=1e-12)
        assert sched.last_epoch == math.floor(epoch)
    # epoch 5.75 is 3.75 into the second period, of length 4
    assert sched.T_cur == pytest.approx(3.75) and sched.T_i == 4
    assert not [w for w in recwarn.list if "deprecated" in str(w.message)]
    with pytest.raises(ValueError, match="non-negative epoch"):
        sched.step(-1)
    for kw, msg in [(dict(T_0=0), "positive integer T_0"), (dict(T_0=2, T_mult=0), "T_mult"),
                    (dict(T_0=2, eta_min="0"), "eta_min")]:
        with pytest.raises(ValueError, match=msg):
            S.CosineAnnealingWarmRestarts(opt, **kw)


def _triangle(t, up, down):
    """0 at the start of each cycle, 1 at its peak after ``up`` steps, 0 again after ``down`` more."""
    cycle, x = divmod(t, up + down)
    return (x / up if x <= up else 1 - (x - up) / down), cycle + 1


@pytest.mark.parametrize("mode,up,down,gamma", [("triangular", 2, None, 1.0), ("triangular2", 3, 1, 1.0),
                                                 ("exp_range", 2, 3, 0.9), ("triangular", 4, 2, 1.0)])
def test_cyclic_lr_and_momentum(mode, up, down, gamma):
    opt = _opt(0.5, momentum=0.7)
    sched = S.CyclicLR(opt, base_lr=0.1, max_lr=0.5, step_size_up=up, step_size_down=down, mode=mode, gamma=gamma)
    lrs, moms = [], []
    for _ in range(20):
        lrs.append(sched.get_last_lr()[0])
        moms.append(opt.param_groups[0]["momentum"])
        opt.step()
        sched.step()
    want_lr, want_mom = [], []
    for t in range(20):
        h, cycle = _triangle(t, up, up if down is None else down)
        scale = {"triangular": 1.0, "triangular2": 0.5 ** (cycle - 1), "exp_range": gamma ** t}[mode]
        want_lr.append(0.1 + 0.4 * h * scale)
        want_mom.append(0.9 - 0.1 * h * scale)
    assert lrs == pytest.approx(want_lr, rel=1e-12)
    assert moms == pytest.approx(want_mom, rel=1e-12)
    assert [S.cyclic_lr(t, 0.1, 0.5, up, down, mode, gamma) for t in range(20)] == pytest.approx(want_lr, rel=1e-12)
    assert [S.cyclic_momentum(t, 0.8, 0.9, up, down, mode, gamma) for t in range(20)] == pytest.approx(want_mom,
                                                                                                       rel=1e-12)
    assert opt.param_groups[0]["base_momentum"] == 0.8 and opt.param_groups[0]["max_momentum"] == 0.9


def test_cyclic_lr_on_adam_moves_beta1_and_takes_a_custom_scale():
    opt = _opt(0.5, cls=optim.Adam, betas=(0.5, 0.99))
    sched = S.CyclicLR(opt, base_lr=[0.1], max_lr=[0.3], step_size_up=1, scale_fn=lambda i: 1.0 / (i + 1),
                       scale_mode="iterations")
    seen = []
    for _ in range(4):
        seen.append((sched.get_last_lr()[0], opt.param_groups[0]["betas"]))
        opt.step()
        sched.step()
    # height 0, 1, 0, 1 at steps 0..3; scale 1 / (t + 1)
    assert [lr for lr, _ in seen] == pytest.approx([0.1, 0.1 + 0.2 / 2, 0.1, 0.1 + 0.2 / 4])
    assert [b for b, _ in [betas for _, betas in seen]] == pytest.approx([0.9, 0.9 - 0.1 / 2, 0.9, 0.9 - 0.1 / 4])
    assert all(b2 == 0.99 for _, (_, b2) in seen)
    with pytest.raises(ValueError, match="mode is invalid"):
        S.CyclicLR(_opt(momentum=0.9), 0.1, 0.2, mode="sawtooth")
    with pytest.raises(ValueError, match="must support momentum"):
        S.CyclicLR(_opt(cls=optim.Adagrad), 0.1, 0.2)
    with pytest.raises(ValueError, match="same length"):
        S.CyclicLR(_opt(momentum=0.9), [0.1, 0.2], 0.3)


def test_sequential_lr_warmup_then_cosine():
    opt = _opt(1.0)
    warm = S.LinearLR(opt, start_factor=0.1, total_iters=4)
    cos = S.CosineAnnealingLR(opt, T_max=6)
    got = _lrs(S.SequentialLR(opt, [warm, cos], milestones=[4]), 12)
    want = [0.1 + 0.9 * t / 4 for t in range(4)] + [(1 + math.cos(math.pi * t / 6)) / 2 for t in range(8)]
    assert got == pytest.approx(want, rel=1e-12, abs=1e-15)


def test_sequential_lr_three_phases_and_its_checks():
    opt = _opt(1.0)
    scheds = [S.ConstantLR(opt, factor=0.5, total_iters=10), S.ExponentialLR(opt, gamma=0.5),
              S.MultiplicativeLR(opt, lambda e: 0.9)]
    got = _lrs(S.SequentialLR(opt, scheds, milestones=[2, 4]), 7)
    # MultiplicativeLR has no closed form: at its milestone it multiplies the current lr (0.5) by 0.9
    assert got == pytest.approx([0.5, 0.5, 1.0, 0.5, 0.5 * 0.9, 0.5 * 0.81, 0.5 * 0.729])
    with pytest.raises(ValueError, match="one more than the number of milestone"):
        S.SequentialLR(opt, scheds, milestones=[2])
    with pytest.raises(ValueError, match="same optimizer"):
        S.SequentialLR(opt, [S.ExponentialLR(_opt(), 0.5)], milestones=[])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        S.SequentialLR(opt, [S.ReduceLROnPlateau(opt)], milestones=[])
    with pytest.raises(ValueError, match="at least one"):
        S.SequentialLR(opt, [], milestones=[])


def test_chained_scheduler_compounds():
    opt = _opt(1.0)
    sched = S.ChainedScheduler([S.ConstantLR(opt, factor=0.1, total_iters=2), S.ExponentialLR(opt, gamma=0.9)])
    got = _lrs(sched, 5)
    assert got == pytest.approx([0.1 * 0.9 ** t if t < 2 else 0.9 ** t for t in range(5)], rel=1e-12)
    with pytest.raises(ValueError, match="at least one"):
        S.ChainedScheduler([])
    with pytest.raises(ValueError, match="same optimizer"):
        S.ChainedScheduler([S.ExponentialLR(opt, 0.5), S.ExponentialLR(_opt(), 0.5)])


def test_recursive_forms_let_external_changes_carry_through():
    opt = _opt(1.0)
    sched = S.LinearLR(opt, start_factor=0.5, total_iters=4)
    opt.step(), sched.step()
    opt.param_groups[0]["lr"] *= 2  # someone else doubles the lr: the ramp continues from there
    opt.step(), sched.step()
    assert sched.get_last_lr()[0] == pytest.approx(0.625 * 2 * (0.75 / 0.625))


def test_resumed_linear_and_polynomial_leave_the_lr_alone_on_their_initial_step():
    opt = _opt(1.0)
    for group in opt.param_groups:
        group["initial_lr"] = 1.0
        group["lr"] = 0.7
    assert S.PolynomialLR(opt, total_iters=10, last_epoch=3).get_last_lr() == [0.7]
    assert S.LinearLR(opt, total_iters=10, last_epoch=3).get_last_lr() == [0.7]
    assert S.MultiplicativeLR(opt, lambda e: 0.5, last_epoch=3).get_last_lr() == [0.7]


def _callable_scale(scale):
    class Scale:
        def __init__(self):
            self.scale = scale

        def __call__(self, x):
            return self.scale ** x
    return Scale()


@pytest.mark.parametrize("make", [
    lambda o: S.LinearLR(o, start_factor=0.2, total_iters=6),
    lambda o: S.ConstantLR(o, factor=0.3, total_iters=4),
    lambda o: S.PolynomialLR(o, total_iters=7, power=2.0),
    lambda o: S.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=2, eta_min=0.01),
    lambda o: S.CyclicLR(o, 0.1, 1.0, step_size_up=3, mode="exp_range", gamma=0.95),
    lambda o: S.CyclicLR(o, 0.1, 1.0, step_size_up=2, scale_fn=_callable_scale(0.8)),
    lambda o: S.MultiplicativeLR(o, _callable_scale(0.9)),
    lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.5, total_iters=3), S.ExponentialLR(o, 0.9)], milestones=[3]),
    lambda o: S.ChainedScheduler([S.ConstantLR(o, 0.5, total_iters=5), S.ExponentialLR(o, 0.9)]),
], ids=["linear", "constant", "poly", "sgdr", "cyclic", "cyclic-custom", "mult", "sequential", "chained"])
def test_state_dict_round_trip(make):
    opt_a = _opt(1.0, momentum=0.9)
    a = make(opt_a)
    _lrs(a, 5)
    state = a.state_dict()
    assert "optimizer" not in state
    opt_b = _opt(1.0, momentum=0.9)
    b = make(opt_b)
    b.load_state_dict(state)
    opt_b.load_state_dict(opt_a.state_dict())
    assert _lrs(b, 8) == pytest.approx(_lrs(a, 8), rel=1e-12)


def test_bad_factors():
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        S.LinearLR(_opt(), start_factor=0.0)
    with pytest.raises(ValueError, match="Ending multiplicative factor"):
        S.LinearLR(_opt(), end_factor=1.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        S.ConstantLR(_opt(), factor=2.0)


# ----- against torch itself -----------------------------------------------------------------------------

TORCH_CASES = {
    "linear": lambda m, o: m.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=5),
    "constant": lambda m, o: m.ConstantLR(o, factor=0.4, total_iters=3),
    "poly": lambda m, o: m.PolynomialLR(o, total_iters=6, power=1.5),
    "mult": lambda m, o: m.MultiplicativeLR(o, lambda e: 0.95),
    "sgdr": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=0.001),
    "cyclic": lambda m, o: m.CyclicLR(o, [0.01, 0.02], 0.1, step_size_up=3, step_size_down=2, mode="triangular2"),
    "cyclic-exp": lambda m, o: m.CyclicLR(o, 0.01, [0.1, 0.2], step_size_up=2, mode="exp_range", gamma=0.9),
    "sequential": lambda m, o: m.SequentialLR(o, [m.LinearLR(o, 0.1, total_iters=3), m.CosineAnnealingLR(o, 5),
                                                  m.StepLR(o, 2, 0.5)], milestones=[3, 8]),
    "sequential-mult": lambda m, o: m.SequentialLR(o, [m.ConstantLR(o, 0.5, total_iters=9),
                                                       m.MultiplicativeLR(o, lambda e: 0.8)], milestones=[2]),
    "chained": lambda m, o: m.ChainedScheduler([m.LinearLR(o, 0.25, total_iters=4), m.ExponentialLR(o, 0.9),
                                                m.PolynomialLR(o, total_iters=12)]),
    "sequential-sgdr": lambda m, o: m.SequentialLR(o, [m.LinearLR(o, 0.1, total_iters=3),
                                                       m.CosineAnnealingWarmRestarts(o, 4, 2)], milestones=[3]),
    "chained-sequential": lambda m, o: m.ChainedScheduler([
        m.SequentialLR(o, [m.LinearLR(o, 0.2, total_iters=2), m.ExponentialLR(o, 0.9)], milestones=[2]),
        m.ConstantLR(o, 0.5, total_iters=3)]),
}


@pytest.mark.parametrize("name", list(TORCH_CASES))
@pytest.mark.parametrize("opt_name", ["SGD", "Adam"])
def test_against_torch(name, opt_name):
    torch = pytest.importorskip("torch")
    kw = dict(momentum=0.9) if opt_name == "SGD" else {}
    topt = getattr(torch.optim, opt_name)([{"params": [torch.nn.Parameter(torch.zeros(1))]},
                                           {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.05}],
                                          lr=0.1, **kw)
    fopt = getattr(optim, opt_name)([{"params": [Parameter(fnp.zeros(1))]},
                                     {"params": [Parameter(fnp.zeros(1))], "lr": 0.05}], lr=0.1, **kw)
    ts = TORCH_CASES[name](torch.optim.lr_scheduler, topt)
    fs = TORCH_CASES[name](S, fopt)
    for step in range(20):
        np.testing.assert_allclose(fs.get_last_lr(), ts.get_last_lr(), rtol=1e-12, err_msg=f"step {step}")
        for tg, fg in zip(topt.param_groups, fopt.param_groups):
            key = "momentum" if opt_name == "SGD" else "betas"
            np.testing.assert_allclose(fg[key], tg[key], rtol=1e-12)
            assert fg["lr"] == pytest.approx(tg["lr"], rel=1e-12)
        topt.step()
        fopt.step()
        ts.step()
        fs.step()


# ----- property tests ---------------------------------------------------------------------------------

from hypothesis import given, strategies as st  # noqa: E402


@given(start=st.floats(0.05, 1.0), end=st.floats(0.0, 1.0), n=st.integers(1, 8))
def test_linear_lr_recursion_equals_its_closed_form(start, end, n):
    sched = S.LinearLR(_opt(0.3), start_factor=start, end_factor=end, total_iters=n)
    got = []
    for _ in range(n + 3):  # the scheduler alone: with end 0 the recursion may reach -1e-17, as PyTorch's does
        got.append(sched.get_last_lr()[0])
        sched.step()
    assert got == pytest.approx([S.linear_lr(t, 0.3, start, end, n) for t in range(n + 3)], rel=1e-9, abs=1e-12)


@given(up=st.integers(1, 5), down=st.integers(1, 5), mode=st.sampled_from(["triangular", "triangular2", "exp_range"]),
       gamma=st.floats(0.5, 1.0))
def test_cyclic_lr_stays_between_base_and_max_and_starts_each_cycle_at_base(up, down, mode, gamma):
    n = 3 * (up + down)
    lrs = [S.cyclic_lr(t, 0.1, 0.5, up, down, mode, gamma) for t in range(n)]
    assert all(0.1 - 1e-12 <= lr <= 0.5 + 1e-12 for lr in lrs)
    assert all(lrs[k * (up + down)] == pytest.approx(0.1) for k in range(3))
    assert lrs[up] == pytest.approx(0.1 + 0.4 * (gamma ** up if mode == "exp_range" else 1.0))


@pytest.mark.parametrize("name", ["linear", "poly", "sgdr", "cyclic"])
def test_resuming_from_last_epoch_against_torch(name):
    torch = pytest.importorskip("torch")
    make = {"linear": lambda m, o: m.LinearLR(o, 0.3, total_iters=6, last_epoch=4),
            "poly": lambda m, o: m.PolynomialLR(o, 6, 1.5, last_epoch=4),
            "sgdr": lambda m, o: m.CosineAnnealingWarmRestarts(o, 3, 2, last_epoch=4),
            "cyclic": lambda m, o: m.CyclicLR(o, 0.01, 0.1, 3, last_epoch=4)}[name]
    topt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1, momentum=0.9)
    fopt = optim.SGD([Parameter(fnp.zeros(1))], lr=0.1, momentum=0.9)
    for group in topt.param_groups + fopt.param_groups:  # as a checkpoint leaves them
        group.update(initial_lr=0.1, lr=0.05, max_momentum=0.9, base_momentum=0.8)
    ts, fs = make(torch.optim.lr_scheduler, topt), make(S, fopt)
    for step in range(8):
        np.testing.assert_allclose(fs.get_last_lr(), ts.get_last_lr(), rtol=1e-12, err_msg=f"step {step}")
        topt.step()
        fopt.step()
        ts.step()
        fs.step()


def test_resuming_exponential_and_cosine_schedules_keeps_the_current_lr():
    """With last_epoch >= 0 the constructor's step leaves the lr as it is (PyTorch's _is_initial); the
    expected numbers are torch 2.13's for the same calls."""
    expected = {"ExponentialLR": ({"gamma": 0.5}, [0.05, 0.025, 0.0125, 0.00625]),
                "CosineAnnealingLR": ({"T_max": 10}, [0.05, 0.038197, 0.026393, 0.015745])}
    for name, (kw, lrs) in expected.items():
        w = Parameter(fnp.zeros(1))
        opt = optim.SGD([w], lr=0.1)
        opt.param_groups[0]["initial_lr"] = 0.1
        opt.param_groups[0]["lr"] = 0.05
        sched = getattr(optim.lr_scheduler, name)(opt, last_epoch=3, **kw)
        got = [sched.get_last_lr()[0]]
        for _ in range(3):
            opt.step()
            sched.step()
            got.append(sched.get_last_lr()[0])
        np.testing.assert_allclose(got, lrs, atol=1e-6, err_msg=name)
