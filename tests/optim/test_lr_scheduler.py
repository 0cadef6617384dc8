"""Schedulers: lr sequences against PyTorch's documented closed forms (and against torch when installed)."""
import math

import numpy as np
import pytest

import fnx.numpy as fnp
from fnx import optim
from fnx.nn import Parameter
from fnx.optim import lr_scheduler as S


def _opt(lr=0.1, groups=1, cls=optim.SGD, **kw):
    return cls([{"params": [Parameter(fnp.zeros(1))]} for _ in range(groups)], lr=lr, **kw)


def _lrs(sched, n):
    """The lr in force at steps 0..n-1 (read before each step, as a training loop sees it)."""
    out = []
    for _ in range(n):
        out.append(sched.get_last_lr()[0])
        sched.optimizer.step()
        sched.step()
    return out


def test_step_lr():
    got = _lrs(S.StepLR(_opt(0.05), step_size=3, gamma=0.1), 10)
    assert got == pytest.approx([0.05 * 0.1 ** (t // 3) for t in range(10)])
    assert got == pytest.approx([S.step_decay(t, 0.05, 3, 0.1) for t in range(10)])


def test_multistep_lr_with_repeated_milestone():
    got = _lrs(S.MultiStepLR(_opt(1.0), milestones=[2, 5, 5], gamma=0.5), 8)
    assert got == pytest.approx([1, 1, 0.5, 0.5, 0.5, 0.125, 0.125, 0.125])
    assert got == pytest.approx([S.multistep_decay(t, 1.0, [2, 5, 5], 0.5) for t in range(8)])


def test_exponential_lr():
    got = _lrs(S.ExponentialLR(_opt(0.1), gamma=0.9), 6)
    assert got == pytest.approx([0.1 * 0.9 ** t for t in range(6)])


@pytest.mark.parametrize("T_max,eta_min", [(10, 0.0), (4, 0.01), (3, 0.05)])
def test_cosine_annealing_recursive_equals_closed_form_over_several_periods(T_max, eta_min):
    n = 3 * T_max + 2  # past T_max the cosine climbs back (PyTorch's behaviour)
    got = _lrs(S.CosineAnnealingLR(_opt(0.1), T_max=T_max, eta_min=eta_min), n)
    closed = [eta_min + (0.1 - eta_min) * (1 + math.cos(math.pi * t / T_max)) / 2 for t in range(n)]
    assert got == pytest.approx(closed, rel=1e-9, abs=1e-12)
    assert got == pytest.approx([S.cosine_annealing(t, 0.1, T_max, eta_min) for t in range(n)], abs=1e-12)


def test_cosine_annealing_is_recursive_so_external_changes_carry_through():
    opt = _opt(1.0)
    sched = S.CosineAnnealingLR(opt, T_max=10)
    opt.step(), sched.step()
    opt.param_groups[0]["lr"] *= 0.5  # someone else halves the lr
    opt.step(), sched.step()
    t = 2
    expected = (1 + math.cos(math.pi * t / 10)) / (1 + math.cos(math.pi * (t - 1) / 10)) * (
        0.5 * S.cosine_annealing(1, 1.0, 10))
    assert sched.get_last_lr()[0] == pytest.approx(expected)


def test_resuming_from_last_epoch_keeps_the_restored_lr():
    opt = _opt(1.0)
    opt.param_groups[0]["initial_lr"] = 1.0
    # The constructor's step makes last_epoch 3 and leaves the lr the optimizer holds (torch 2.13: [1.0]);
    # the recursion goes on from there.
    sched = S.CosineAnnealingLR(opt, T_max=10, last_epoch=2)
    assert sched.last_epoch == 3 and sched.get_last_lr() == [1.0]
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(_opt(), step_size=2, last_epoch=4)


def test_step_with_epoch_argument_uses_closed_form_and_warns():
    sched = S.StepLR(_opt(1.0), step_size=2, gamma=0.5)
    with pytest.warns(UserWarning, match="deprecated"):
        sched.step(5)
    assert sched.get_last_lr() == [0.25]


def test_lambda_lr_per_group_and_state_dict():
    class Warmup:
        def __init__(self, n):
            self.n = n

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.n)

    opt = _opt(0.1, groups=2)
    opt.param_groups[1]["lr"] = 1.0
    sched = S.LambdaLR(opt, [Warmup(4), lambda e: 0.5 ** e])
    for _ in range(3):
        opt.step(), sched.step()
    assert sched.get_last_lr() == pytest.approx([0.1, 0.125])
    sd = sched.state_dict()
    assert sd["lr_lambdas"][0] == {"n": 4} and sd["lr_lambdas"][1] is None and "optimizer" not in sd
    other = S.LambdaLR(_opt(0.1, groups=2), [Warmup(100), lambda e: 1.0])
    other.load_state_dict(sd)
    assert other.lr_lambdas[0].n == 4 and other.last_epoch == 3
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        S.LambdaLR(_opt(groups=2), [lambda e: 1.0])


def test_scheduler_state_dict_round_trip():
    opt = _opt(1.0)
    sched = S.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        opt.step(), sched.step()
    sd = sched.state_dict()
    assert sd["last_epoch"] == 3 and sd["base_lrs"] == [1.0] and "optimizer" not in sd
    opt2 = _opt(0.5)
    opt2.param_groups[0]["initial_lr"] = 1.0
    sched2 = S.StepLR(opt2, step_size=7, last_epoch=0)
    sched2.load_state_dict(sd)
    assert sched2.step_size == 2 and sched2.last_epoch == 3
    opt2.step(), sched2.step()
    assert sched2.get_last_lr() == [0.25]


def test_schedulers_need_an_optimizer():
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        S.StepLR([], step_size=1)


# ----- OneCycleLR ------------------------------------------------------------------------------

def test_one_cycle_cos_hand_computed():
    opt = _opt(cls=optim.SGD, momentum=0.9)
    sched = S.OneCycleLR(opt, max_lr=1.0, total_steps=10)  # phases end at steps 2 and 9
    lrs, moms = [], []
    for _ in range(10):
        lrs.append(sched.get_last_lr()[0])
        moms.append(opt.param_groups[0]["momentum"])
        opt.step(), sched.step()
    lo = 0.04 / 1e4

    def cos(a, b, pct):
        return b + (a - b) / 2 * (1 + math.cos(math.pi * pct))
    assert lrs == pytest.approx([cos(0.04, 1.0, t / 2) for t in range(3)] +
                                [cos(1.0, lo, (t - 2) / 7) for t in range(3, 10)])
    assert moms == pytest.approx([cos(0.95, 0.85, t / 2) for t in range(3)] +
                                 [cos(0.85, 0.95, (t - 2) / 7) for t in range(3, 10)])
    assert lrs[0] == pytest.approx(0.04) and lrs[2] == 1.0 and lrs[9] == pytest.approx(4e-6)
    assert lrs == pytest.approx([S.one_cycle(t, 1.0, 10) for t in range(10)])
    assert moms == pytest.approx([S.one_cycle_momentum(t, 10) for t in range(10)])
    assert sched.last_epoch == 10  # stepping to total_steps is allowed, one more is not
    with pytest.raises(ValueError, match="Tried to step 11 times"):
        sched.step()


def test_one_cycle_linear_three_phase_with_adam_betas():
    opt = _opt(cls=optim.Adam, betas=(0.9, 0.99))
    sched = S.OneCycleLR(opt, max_lr=2.0, epochs=2, steps_per_epoch=5, anneal_strategy="linear",
                         three_phase=True, div_factor=4.0, final_div_factor=10.0)
    lrs, b1 = [], []
    for _ in range(10):
        lrs.append(sched.get_last_lr()[0])
        b1.append(opt.param_groups[0]["betas"][0])
        assert opt.param_groups[0]["betas"][1] == 0.99
        opt.step(), sched.step()
    # phases end at 2, 4, 9: 0.5 -> 2 -> 0.5 -> 0.05 linearly; beta1 0.95 -> 0.85 -> 0.95 -> 0.95
    assert lrs == pytest.approx([0.5, 1.25, 2.0, 1.25, 0.5, 0.41, 0.32, 0.23, 0.14, 0.05])
    assert b1 == pytest.approx([0.95, 0.9, 0.85, 0.9, 0.95, 0.95, 0.95, 0.95, 0.95, 0.95])
    assert lrs == pytest.approx([S.one_cycle(t, 2.0, 10, anneal_strategy="linear", three_phase=True,
                                             div_factor=4.0, final_div_factor=10.0) for t in range(10)])


def test_one_cycle_per_group_max_lr_and_checks():
    opt = _opt(groups=2, momentum=0.9)
    S.OneCycleLR(opt, max_lr=[1.0, 10.0], total_steps=5, cycle_momentum=False)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.04, 0.4])
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.9]
    with pytest.raises(ValueError, match="max_lr must have the same length"):
        S.OneCycleLR(_opt(groups=2), max_lr=[1.0], total_steps=5, cycle_momentum=False)
    with pytest.raises(ValueError, match="total_steps OR"):
        S.OneCycleLR(_opt(), max_lr=1.0)
    with pytest.raises(ValueError, match="positive integer total_steps, but got 0"):
        S.OneCycleLR(_opt(), max_lr=1.0, total_steps=0)
    with pytest.raises(ValueError, match="pct_start, but got 1.5"):
        S.OneCycleLR(_opt(), max_lr=1.0, total_steps=5, pct_start=1.5)
    with pytest.raises(ValueError, match="anneal_strategy must be one of"):
        S.OneCycleLR(_opt(), max_lr=1.0, total_steps=5, anneal_strategy="exp")
    with pytest.raises(ValueError, match="must support momentum or beta1"):
        S.OneCycleLR(_opt(cls=optim.Adagrad), max_lr=1.0, total_steps=5)


# ----- ReduceLROnPlateau --------------------------------------------------------------------------

def _plateau(metrics, **kw):
    opt = _opt(1.0)
    sched = S.ReduceLROnPlateau(opt, **kw)
    out = []
    for m in metrics:
        sched.step(m)
        out.append(sched.get_last_lr()[0])
    return out


def test_plateau_patience_and_factor():
    # best 1.0 at epoch 1; epochs 2, 3, 4 are bad; the third bad one (> patience 2) reduces
    assert _plateau([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], patience=2, factor=0.5) == [1, 1, 1, 0.5, 0.5, 0.5, 0.25]


def test_plateau_takes_a_loss_of_one_element_as_pytorch_does():
    import fnx
    losses = [fnx.tensor([1.0]), fnx.tensor(1.0), fnx.tensor([[1.0]]), 1.0, 1.0]
    assert _plateau(losses, patience=2, factor=0.5) == [1, 1, 1, 0.5, 0.5]


def test_plateau_threshold_modes():
    # rel: 0.9995 is not better than 1.0 * (1 - 1e-3), 0.998 is; abs: both beat the best by more than 1e-4
    assert _plateau([1.0, 0.9995, 0.998], patience=0, threshold=1e-3) == [1, 0.1, 0.1]
    assert _plateau([1.0, 0.9995, 0.998], patience=0, threshold=1e-4, threshold_mode="abs") == [1, 1, 1]


def test_plateau_max_mode_cooldown_and_min_lr():
    got = _plateau([1, 1, 1, 1, 1, 1, 1, 1], mode="max", patience=0, cooldown=2, factor=0.5, min_lr=0.2)
    # reduce at 2; cooldown swallows 3, 4; reduce at 5 (0.25); cooldown 6, 7; then min_lr caps at 0.2
    assert got == [1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2]


def test_plateau_eps_skips_tiny_reductions_and_metrics_can_be_arrays():
    opt = _opt(1e-9)
    sched = S.ReduceLROnPlateau(opt, patience=0, eps=1e-8)
    for m in [fnp.array(1.0), fnp.array(2.0)]:
        sched.step(m)
    assert sched.get_last_lr() == [1e-9]


def test_plateau_checks_and_state_dict():
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        S.ReduceLROnPlateau(_opt(), factor=1.0)
    with pytest.raises(ValueError, match="mode avg is unknown"):
        S.ReduceLROnPlateau(_opt(), mode="avg")
    with pytest.raises(ValueError, match="threshold mode x is unknown"):
        S.ReduceLROnPlateau(_opt(), threshold_mode="x")
    with pytest.raises(ValueError, match="min_lr must have the same length"):
        S.ReduceLROnPlateau(_opt(groups=2), min_lr=[0.1])
    sched = S.ReduceLROnPlateau(_opt(), patience=3)
    sched.step(1.0), sched.step(2.0)
    sd = sched.state_dict()
    other = S.ReduceLROnPlateau(_opt(), mode="max")
    other.load_state_dict(sd)
    assert other.mode == "min" and other.best == 1.0 and other.num_bad_epochs == 1 and other.mode_worse == math.inf


# ----- against torch, when it is installed -------------------------------------------------------------

def _torch_lrs(torch, make, n, **opt_kw):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1, **opt_kw)
    sched = make(torch.optim.lr_scheduler, opt)
    out = []
    for _ in range(n):
        out.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    return out


@pytest.mark.parametrize("make", [
    lambda m, o: m.StepLR(o, step_size=3, gamma=0.3),
    lambda m, o: m.MultiStepLR(o, milestones=[1, 4, 4], gamma=0.5),
    lambda m, o: m.ExponentialLR(o, gamma=0.9),
    lambda m, o: m.CosineAnnealingLR(o, T_max=5, eta_min=0.001),
    lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=20, three_phase=True),
    lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=20, anneal_strategy="linear", pct_start=0.25),
])
def test_against_torch(make):
    torch = pytest.importorskip("torch")
    want = _torch_lrs(torch, make, 18, momentum=0.9)
    got = _lrs(make(S, _opt(0.1, momentum=0.9)), 18)
    np.testing.assert_allclose(got, want, rtol=1e-12)
