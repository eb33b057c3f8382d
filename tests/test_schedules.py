"""Tests for companion.schedules: every schedule over 100 steps beside its
torch.optim.lr_scheduler counterpart driving a real torch optimizer, the Scheduler driving
torch.optim and companion.optim optimizers, properties, and every bad-argument message.

Tolerance (STYLE.md): the rates are Python floats (float64), compared with rtol=1e-6, atol=0.
torch's schedulers are recursive (each rate is the previous one times a factor) while ours are
closed forms; measured, the two differ by at most ~2e-14 relative over 100 steps, far inside
rtol=1e-6, so no looser tolerance is needed anywhere.
"""
import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.optim import lr_scheduler

from companion import schedules as S

TOL = dict(rtol=1e-6, atol=0)
STEPS = 100


def torch_rates(make_scheduler, lr=0.1, steps=STEPS, n_groups=1):
    """Rates of group 0 at steps 0..steps-1: a float64 SGD optimizer driven by torch's scheduler.

    Each step runs ``optimizer.step()`` (on a real gradient) before ``scheduler.step()``, the
    order torch expects; any warning torch raises fails the test.
    """
    params = [torch.ones(3, dtype=torch.float64, requires_grad=True) for _ in range(n_groups)]
    opt = torch.optim.SGD([{"params": [p]} for p in params], lr=lr)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sched = make_scheduler(opt)
        rates = []
        for _ in range(steps):
            rates.append(opt.param_groups[0]["lr"])
            opt.zero_grad()
            sum((p**2).sum() for p in params).backward()
            opt.step()
            sched.step()
    return np.array(rates)


def ours(schedule, steps=STEPS):
    return np.array([schedule(t) for t in range(steps)])


# ---------------------------------------------------------------- agreement with torch, 100 steps

@pytest.mark.parametrize("lr, step_size, gamma", [(0.1, 10, 0.1), (0.05, 1, 0.5), (1.0, 30, 0.3),
                                                  (0.2, 7, 1.5)])
def test_step_decay_matches_StepLR(lr, step_size, gamma):
    ref = torch_rates(lambda o: lr_scheduler.StepLR(o, step_size, gamma), lr=lr)
    np.testing.assert_allclose(ours(lambda t: S.step_decay(t, lr, step_size, gamma)), ref, **TOL)


@pytest.mark.parametrize("lr, gamma", [(0.1, 0.95), (0.5, 0.5), (0.01, 1.01), (1.0, 0.99)])
def test_exponential_decay_matches_ExponentialLR(lr, gamma):
    ref = torch_rates(lambda o: lr_scheduler.ExponentialLR(o, gamma), lr=lr)
    np.testing.assert_allclose(ours(lambda t: S.exponential_decay(t, lr, gamma)), ref, **TOL)


@pytest.mark.parametrize("lr, T_max, eta_min", [(0.1, 100, 0.0), (0.1, 10, 0.0), (0.5, 30, 1e-3),
                                                (0.2, 7, 0.05), (0.1, 1, 0.0), (0.3, 150, 0.01)])
def test_cosine_annealing_matches_CosineAnnealingLR(lr, T_max, eta_min):
    # T_max < 100 also checks the continuation past T_max (torch's rate climbs back up)
    ref = torch_rates(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max, eta_min), lr=lr)
    np.testing.assert_allclose(ours(lambda t: S.cosine_annealing(t, lr, T_max, eta_min)), ref, **TOL)


@pytest.mark.parametrize("base_lr, max_lr, up, down", [(0.001, 0.1, 10, None), (0.01, 0.5, 5, 15),
                                                       (0.0, 1.0, 1, 1), (0.1, 0.1, 3, None),
                                                       (0.02, 0.2, 7, 3), (0.001, 0.01, 2000, None)])
def test_cyclical_matches_CyclicLR_triangular(base_lr, max_lr, up, down):
    ref = torch_rates(lambda o: lr_scheduler.CyclicLR(o, base_lr, max_lr, up, down, mode="triangular",
                                                      cycle_momentum=False))
    np.testing.assert_allclose(ours(lambda t: S.cyclical(t, base_lr, max_lr, up, down)), ref, **TOL)


@pytest.mark.parametrize("lr, T_0, T_mult, eta_min", [(0.1, 10, 1, 0.0), (0.1, 3, 2, 1e-3), (0.5, 1, 2, 0.0),
                                                      (0.2, 10, 3, 0.01), (0.1, 2, 1, 0.0), (0.1, 5, 4, 0.0)])
def test_cosine_warm_restarts_matches_CosineAnnealingWarmRestarts(lr, T_0, T_mult, eta_min):
    ref = torch_rates(lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0, T_mult, eta_min), lr=lr)
    mine = ours(lambda t: S.cosine_warm_restarts(t, lr, T_0, T_mult, eta_min))
    np.testing.assert_allclose(mine, ref, **TOL)


@pytest.mark.parametrize("lr, warmup_steps, start_factor", [(0.1, 5, 1 / 3), (0.1, 20, 0.01), (0.5, 1, 0.5),
                                                            (0.1, 99, 0.1), (1.0, 150, 0.2), (0.1, 10, 1.0)])
def test_linear_warmup_matches_LinearLR(lr, warmup_steps, start_factor):
    ref = torch_rates(lambda o: lr_scheduler.LinearLR(o, start_factor, 1.0, warmup_steps), lr=lr)
    np.testing.assert_allclose(ours(lambda t: S.linear_warmup(t, lr, warmup_steps, start_factor)), ref, **TOL)


def test_linear_warmup_zero_steps_means_no_warmup():
    # the documented convention difference: torch's LinearLR(total_iters=0) stays at start_factor * lr
    assert ours(lambda t: S.linear_warmup(t, 0.1, 0, 0.25), steps=5).tolist() == [0.1] * 5


def test_defaults_match_torch_defaults():
    ref = torch_rates(lambda o: lr_scheduler.LinearLR(o), lr=0.3)  # start_factor=1/3, total_iters=5
    np.testing.assert_allclose(ours(lambda t: S.linear_warmup(t, 0.3, 5)), ref, **TOL)
    ref = torch_rates(lambda o: lr_scheduler.StepLR(o, 20), lr=0.3)  # gamma=0.1
    np.testing.assert_allclose(ours(lambda t: S.step_decay(t, 0.3, 20)), ref, **TOL)


def test_warm_restarts_boundaries_are_exact_for_large_steps():
    # far beyond 100 steps the float log lands on both sides of a cycle start: still exact
    for T_0, T_mult in [(1, 2), (3, 3), (7, 2)]:
        starts = [T_0 * (T_mult**k - 1) // (T_mult - 1) for k in range(1, 25)]
        for s in starts:
            assert S.cosine_warm_restarts(s, 1.0, T_0, T_mult) == 1.0  # a restart: back to lr
            assert S._restart(s - 1, T_0, T_mult)[0] == S._restart(s - 1, T_0, T_mult)[1] - 1


def test_returns_python_floats_and_accepts_numpy_ints():
    for value in [S.step_decay(np.int64(3), 0.1, 2), S.cosine_annealing(np.int32(4), 0.1, 10),
                  S.cyclical(np.int64(5), 0.0, 1.0, 4), S.linear_warmup(np.int64(2), 1, 4)]:
        assert type(value) is float


# ---------------------------------------------------------------- Scheduler

def _drive(opt, sched, params, steps):
    rates = []
    for _ in range(steps):
        rates.append([g["lr"] for g in opt.param_groups])
        assert sched.get_last_lr() == rates[-1]
        opt.zero_grad()
        sum((p**2).sum() for p in params).backward()
        opt.step()
        sched.step()
    return np.array(rates)


def test_Scheduler_drives_torch_SGD_like_LambdaLR():
    torch.manual_seed(0)
    make = lambda: [torch.randn(4, dtype=torch.float64, requires_grad=True) for _ in range(2)]
    schedule = lambda t: S.cosine_annealing(t, 0.1, 30, 1e-3)
    p_ours, p_ref = make(), None
    p_ref = [p.detach().clone().requires_grad_() for p in p_ours]
    opt = torch.optim.SGD(p_ours, lr=123.0, momentum=0.9)  # the scheduler overrides lr=123
    sched = S.Scheduler(opt, schedule)
    assert opt.param_groups[0]["lr"] == schedule(0) and sched.t == 0
    rates = _drive(opt, sched, p_ours, 50)
    opt_ref = torch.optim.SGD(p_ref, lr=0.1, momentum=0.9)
    ref = torch_rates(lambda o: lr_scheduler.CosineAnnealingLR(o, 30, 1e-3), steps=50)
    np.testing.assert_allclose(rates[:, 0], ref, **TOL)
    # the same parameters as torch's SGD stepped under LambdaLR (which scales the initial rate)
    ref_sched = lr_scheduler.LambdaLR(opt_ref, lambda t: schedule(t) / 0.1)
    _drive(opt_ref, ref_sched, p_ref, 50)
    for a, b in zip(p_ours, p_ref):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **TOL)
    assert sched.t == 50


def test_Scheduler_one_schedule_per_group():
    params = [torch.ones(2, dtype=torch.float64, requires_grad=True) for _ in range(2)]
    opt = torch.optim.SGD([{"params": [params[0]]}, {"params": [params[1]]}], lr=1.0)
    sched = S.Scheduler(opt, [lambda t: S.exponential_decay(t, 0.1, 0.9),
                              lambda t: S.linear_warmup(t, 0.01, 4)])
    rates = _drive(opt, sched, params, 10)
    np.testing.assert_allclose(rates[:, 0], ours(lambda t: S.exponential_decay(t, 0.1, 0.9), 10), **TOL)
    np.testing.assert_allclose(rates[:, 1], ours(lambda t: S.linear_warmup(t, 0.01, 4), 10), **TOL)
    assert isinstance(sched.get_last_lr(), list) and sched.get_last_lr() is not sched.get_last_lr()


@pytest.mark.parametrize("name, kwargs", [("SGD", dict(lr=1.0, momentum=0.9)),
                                          ("Adam", dict(lr=1.0, betas=(0.8, 0.99)))])
def test_Scheduler_drives_companion_optim_like_torch_optim(name, kwargs):
    from companion import optim  # written from the update equations; the same param_groups as torch

    torch.manual_seed(1)
    p_ours = [torch.randn(3, 2, dtype=torch.float64, requires_grad=True)]
    p_ref = [p_ours[0].detach().clone().requires_grad_()]
    schedule = lambda t: S.linear_warmup(t, 1.0, 5) * S.cyclical(t, 0.01, 0.2, 5, 3)
    opt, opt_ref = getattr(optim, name)(p_ours, **kwargs), getattr(torch.optim, name)(p_ref, **kwargs)
    rates = _drive(opt, S.Scheduler(opt, schedule), p_ours, 40)
    rates_ref = _drive(opt_ref, S.Scheduler(opt_ref, schedule), p_ref, 40)
    np.testing.assert_allclose(rates, rates_ref, **TOL)
    np.testing.assert_allclose(p_ours[0].detach().numpy(), p_ref[0].detach().numpy(), **TOL)


# ---------------------------------------------------------------- properties

rates = st.floats(1e-6, 10.0)
steps = st.integers(0, 10_000)


@settings(max_examples=200, deadline=None)
@given(t=steps, lr=rates, T_max=st.integers(1, 500), frac=st.floats(0.0, 1.0))
def test_cosine_annealing_stays_in_band(t, lr, T_max, frac):
    eta_min = frac * lr
    value = S.cosine_annealing(t, lr, T_max, eta_min)
    assert eta_min * (1 - 1e-12) <= value <= lr * (1 + 1e-12)
    assert S.cosine_annealing(0, lr, T_max, eta_min) == lr
    assert math.isclose(S.cosine_annealing(T_max, lr, T_max, eta_min), eta_min, rel_tol=1e-12, abs_tol=1e-15)


@settings(max_examples=200, deadline=None)
@given(t=steps, lr=rates, T_0=st.integers(1, 50), T_mult=st.integers(1, 4), frac=st.floats(0.0, 1.0))
def test_cosine_warm_restarts_stays_in_band(t, lr, T_0, T_mult, frac):
    eta_min = frac * lr
    value = S.cosine_warm_restarts(t, lr, T_0, T_mult, eta_min)
    assert eta_min * (1 - 1e-12) <= value <= lr * (1 + 1e-12)


@settings(max_examples=200, deadline=None)
@given(t=steps, base=rates, extra=st.floats(0.0, 10.0), up=st.integers(1, 100), down=st.integers(1, 100))
def test_cyclical_in_bounds_and_periodic(t, base, extra, up, down):
    top = base + extra
    value = S.cyclical(t, base, top, up, down)
    assert base * (1 - 1e-12) <= value <= top * (1 + 1e-12)
    assert S.cyclical(t + up + down, base, top, up, down) == value  # period s_up + s_down
    assert S.cyclical(0, base, top, up, down) == base and S.cyclical(up, base, top, up, down) == top


@settings(max_examples=200, deadline=None)
@given(t=steps, lr=rates, step_size=st.integers(1, 100), gamma=st.floats(0.01, 1.0))
def test_step_decay_non_increasing_and_piecewise_constant(t, lr, step_size, gamma):
    assert S.step_decay(t + 1, lr, step_size, gamma) <= S.step_decay(t, lr, step_size, gamma)
    block_start = t - t % step_size
    assert S.step_decay(t, lr, step_size, gamma) == S.step_decay(block_start, lr, step_size, gamma)


@settings(max_examples=200, deadline=None)
@given(t=st.integers(0, 1000), lr=rates, gamma=st.floats(0.5, 1.0))
def test_exponential_decay_ratio_is_gamma(t, lr, gamma):
    ratio = S.exponential_decay(t + 1, lr, gamma) / S.exponential_decay(t, lr, gamma)
    assert math.isclose(ratio, gamma, rel_tol=1e-9)


@settings(max_examples=200, deadline=None)
@given(t=steps, lr=rates, warmup=st.integers(1, 1000), f0=st.floats(0.01, 1.0))
def test_linear_warmup_non_decreasing_and_reaches_lr(t, lr, warmup, f0):
    assert S.linear_warmup(t + 1, lr, warmup, f0) >= S.linear_warmup(t, lr, warmup, f0)
    assert S.linear_warmup(max(t, warmup), lr, warmup, f0) == pytest.approx(lr, rel=1e-12)
    assert S.linear_warmup(0, lr, warmup, f0) == pytest.approx(f0 * lr, rel=1e-12)


# ---------------------------------------------------------------- bad arguments

V, T = ValueError, TypeError
BAD = [  # (call, error, message)
    (lambda: S.step_decay(-1, 0.1, 10), V, r"step_decay: t must be an integer >= 0; got -1"),
    (lambda: S.step_decay(1.5, 0.1, 10), T, r"step_decay: t must be an integer; got float"),
    (lambda: S.step_decay(1, -0.1, 10), V, r"step_decay: lr must be finite and >= 0; got -0.1"),
    (lambda: S.step_decay(1, 0.1, 0), V, r"step_decay: step_size must be an integer >= 1; got 0"),
    (lambda: S.step_decay(1, 0.1, 10, gamma=0), V, r"step_decay: gamma must be finite and > 0; got 0"),
    (lambda: S.exponential_decay(1, 0.1, -0.5), V, r"exponential_decay: gamma must be finite and > 0"),
    (lambda: S.exponential_decay(1, float("nan"), 0.9), V, r"exponential_decay: lr must be finite"),
    (lambda: S.cosine_annealing(1, 0.1, 0), V, r"cosine_annealing: T_max must be an integer >= 1; got 0"),
    (lambda: S.cosine_annealing(1, 0.1, -5), V, r"cosine_annealing: T_max must be an integer >= 1"),
    (lambda: S.cosine_annealing(1, 0.1, 10, eta_min=-1e-3), V,
     r"cosine_annealing: eta_min must be finite and >= 0"),
    (lambda: S.cosine_annealing(1, 0.1, 10, eta_min=0.2), V,
     r"cosine_annealing: eta_min must be <= lr .*; got eta_min=0.2 > lr=0.1"),
    (lambda: S.cyclical(1, 0.1, 0.01), V,
     r"cyclical: max_lr must be >= base_lr; got max_lr=0.01 < base_lr=0.1"),
    (lambda: S.cyclical(1, 0.01, 0.1, step_size_up=0), V,
     r"cyclical: step_size_up must be an integer >= 1; got 0"),
    (lambda: S.cyclical(1, 0.01, 0.1, 10, step_size_down=0), V,
     r"cyclical: step_size_down must be an integer >= 1"),
    (lambda: S.cyclical(-3, 0.01, 0.1), V, r"cyclical: t must be an integer >= 0; got -3"),
    (lambda: S.cosine_warm_restarts(1, 0.1, 0), V,
     r"cosine_warm_restarts: T_0 must be an integer >= 1; got 0"),
    (lambda: S.cosine_warm_restarts(1, 0.1, 10, T_mult=0), V,
     r"cosine_warm_restarts: T_mult must be an integer >= 1; got 0"),
    (lambda: S.cosine_warm_restarts(1, 0.1, 10, T_mult=1.5), T,
     r"cosine_warm_restarts: T_mult must be an integer; got float"),
    (lambda: S.cosine_warm_restarts(1, 0.1, 10, eta_min=1.0), V,
     r"cosine_warm_restarts: eta_min must be <= lr"),
    (lambda: S.linear_warmup(1, 0.1, -1), V, r"linear_warmup: warmup_steps must be an integer >= 0; got -1"),
    (lambda: S.linear_warmup(1, 0.1, 5, start_factor=0), V,
     r"linear_warmup: start_factor must be finite and > 0; got 0"),
    (lambda: S.linear_warmup(1, 0.1, 5, start_factor=1.5), V,
     r"linear_warmup: start_factor must be in \(0, 1\]; got 1.5"),
    (lambda: S.linear_warmup(1, "0.1", 5), T, r"linear_warmup: lr must be a number; got str"),
]


@pytest.mark.parametrize("call, error, match", BAD)
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_Scheduler_bad_arguments():
    opt = torch.optim.SGD([torch.ones(2, requires_grad=True)], lr=0.1)
    with pytest.raises(TypeError, match=r"Scheduler: optimizer must have param_groups .*; got list"):
        S.Scheduler([torch.ones(2)], lambda t: 0.1)
    with pytest.raises(TypeError, match=r"Scheduler: schedule must be a function t -> lr .*; got float"):
        S.Scheduler(opt, 0.1)
    with pytest.raises(ValueError, match=r"Scheduler: schedule must be one function or one per param "
                                         r"group \(1\); got 2"):
        S.Scheduler(opt, [lambda t: 0.1, lambda t: 0.2])
    with pytest.raises(ValueError, match=r"Scheduler: schedule\(0\) must return a finite learning "
                                         r"rate >= 0; got -0.1"):
        S.Scheduler(opt, lambda t: -0.1)
    sched = S.Scheduler(opt, lambda t: 0.1 if t < 2 else float("inf"))
    sched.step()
    with pytest.raises(ValueError, match=r"Scheduler: schedule\(2\) must return .*; got inf"):
        sched.step()
    assert opt.param_groups[0]["lr"] == 0.1 and sched.t == 1  # a failed step changes nothing
