r"""Learning-rate schedules: the learning rate as a plain function of the step.

Each schedule is a pure function ``f(t, ...) -> lr`` of the step ``t = 0, 1, 2, ...`` (an epoch or
an iteration, whichever the caller counts), written in closed form with the equation above the
line that computes it, and equal over 100 steps to its ``torch.optim.lr_scheduler`` counterpart:

=========================  =====================================================================
ours                        torch
=========================  =====================================================================
step_decay                  ``StepLR(step_size, gamma)``
exponential_decay           ``ExponentialLR(gamma)``
cosine_annealing            ``CosineAnnealingLR(T_max, eta_min)``
cyclical                    ``CyclicLR(base_lr, max_lr, step_size_up, step_size_down,
                            mode="triangular", cycle_momentum=False)``
cosine_warm_restarts        ``CosineAnnealingWarmRestarts(T_0, T_mult, eta_min)``
linear_warmup               ``LinearLR(start_factor, end_factor=1.0, total_iters=warmup_steps)``
=========================  =====================================================================

torch's schedulers are stateful: most of them multiply the previous learning rate by a factor at
each ``step()`` (a recursive form). The closed forms here give the same numbers up to rounding
(measured: relative differences below 3e-14 over 100 steps; the tests check ``rtol=1e-6``).

:class:`Scheduler` drives any optimizer that has ``param_groups`` (``torch.optim`` or
``companion.optim``) with such a function: ``Scheduler(opt, lambda t: cosine_annealing(t, 0.1, 50))``.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Callable

from .validation import check_int, check_positive, check_type

__all__ = [
    "step_decay",
    "exponential_decay",
    "cosine_annealing",
    "cyclical",
    "cosine_warm_restarts",
    "linear_warmup",
    "Scheduler",
]


def _check_rate(func: str, name: str, value) -> float:
    """A learning rate: a finite real number >= 0 (torch's optimizers accept lr = 0 too)."""
    return float(check_positive(func, name, value, allow_zero=True))


def _check_eta_min(func: str, eta_min, lr: float) -> float:
    eta_min = _check_rate(func, "eta_min", eta_min)
    if eta_min > lr:
        raise ValueError(f"{func}: eta_min must be <= lr (the schedule anneals from lr down to "
                         f"eta_min); got eta_min={eta_min} > lr={lr}")
    return eta_min


def step_decay(t: int, lr: float, step_size: int, gamma: float = 0.1) -> float:
    r"""Step decay: multiply the learning rate by ``gamma`` every ``step_size`` steps.

    .. math:: \eta_t = \eta_0\, \gamma^{\lfloor t / s \rfloor}

    Args:
        t: the step, an int >= 0.
        lr: :math:`\eta_0`, the learning rate of the first ``step_size`` steps (>= 0).
        step_size: :math:`s`, steps between two decays (int >= 1).
        gamma: the factor applied at each decay (> 0; 0.1 divides the rate by ten).
    Returns:
        The learning rate at step ``t`` (float).
    Reference: ``torch.optim.lr_scheduler.StepLR(optimizer, step_size, gamma)``, which multiplies
    the current rate by ``gamma`` whenever ``t`` is a non-zero multiple of ``step_size``.
    """
    func = "step_decay"
    t = check_int(func, "t", t, 0)
    lr = _check_rate(func, "lr", lr)
    step_size = check_int(func, "step_size", step_size, 1)
    gamma = check_positive(func, "gamma", gamma)
    # eta_t = eta_0 * gamma ** floor(t / s)
    return lr * gamma ** (t // step_size)


def exponential_decay(t: int, lr: float, gamma: float) -> float:
    r"""Exponential decay: multiply the learning rate by ``gamma`` at every step.

    .. math:: \eta_t = \eta_0\, \gamma^{t} = \eta_0\, e^{-k t} \quad\text{with } k = -\ln\gamma

    Args:
        t: the step, an int >= 0.
        lr: :math:`\eta_0` (>= 0).
        gamma: the factor per step (> 0; below 1 it decays, e.g. 0.95 halves the rate in ~14
            steps; above 1 it grows, as in a learning-rate range test).
    Returns:
        The learning rate at step ``t`` (float).
    Reference: ``torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma)``, which multiplies the
    previous rate by ``gamma`` at each ``step()``; the power here is the same number up to rounding.
    """
    func = "exponential_decay"
    t = check_int(func, "t", t, 0)
    lr = _check_rate(func, "lr", lr)
    gamma = check_positive(func, "gamma", gamma)
    # eta_t = eta_0 * gamma ** t
    return lr * gamma**t


def cosine_annealing(t: int, lr: float, T_max: int, eta_min: float = 0.0) -> float:
    r"""Cosine annealing: half a cosine wave from ``lr`` down to ``eta_min`` over ``T_max`` steps.

    .. math::
        \eta_t = \eta_{\min} + \tfrac12 (\eta_0 - \eta_{\min})
                 \left(1 + \cos\frac{\pi t}{T_{\max}}\right)

    Flat at the start, steepest in the middle, flat again at the end. After ``T_max`` the formula
    is simply continued, so the rate climbs back to ``lr`` at ``2 T_max`` (a period of
    ``2 T_max``): that is what torch's ``CosineAnnealingLR`` does if stepped past ``T_max``.
    Usually one sets ``T_max`` to the length of training and never gets there.

    Args:
        t: the step, an int >= 0.
        lr: :math:`\eta_0`, the rate at ``t = 0`` (>= 0).
        T_max: steps from ``lr`` down to ``eta_min`` (int >= 1).
        eta_min: the lowest rate (0 <= eta_min <= lr).
    Returns:
        The learning rate at step ``t`` (float).
    Reference: ``torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max, eta_min)``. torch
    updates the rate recursively, :math:`\eta_{t} = \eta_{\min} + (\eta_{t-1} - \eta_{\min})
    \frac{1 + \cos(\pi t / T_{\max})}{1 + \cos(\pi (t-1) / T_{\max})}`, with an additive step where
    that ratio would be 0/0 (just after ``T_max``); the ratio telescopes to the closed form above,
    and the two agree to about 1e-14 relative over 100 steps. Floating point: we evaluate the
    formula as the weighted average :math:`w_t \eta_0 + (1 - w_t) \eta_{\min}`, which gives exactly
    ``lr`` at ``t = 0`` and exactly ``eta_min`` at ``t = T_max``, as torch's recursion does.
    """
    func = "cosine_annealing"
    t = check_int(func, "t", t, 0)
    lr = _check_rate(func, "lr", lr)
    T_max = check_int(func, "T_max", T_max, 1)
    eta_min = _check_eta_min(func, eta_min, lr)
    # w_t = (1 + cos(pi t / T_max)) / 2, the share of eta_0: 1 at t = 0, 0 at t = T_max
    w = (1 + math.cos(math.pi * t / T_max)) / 2
    # eta_t = eta_min + (eta_0 - eta_min) w_t, written as a weighted average: exact at both ends
    return w * lr + (1 - w) * eta_min


def cyclical(t: int, base_lr: float, max_lr: float, step_size_up: int = 2000,
             step_size_down: int | None = None) -> float:
    r"""Cyclical learning rate, triangular policy (Smith 2017): up and down between two bounds.

    The rate climbs linearly from ``base_lr`` to ``max_lr`` in ``step_size_up`` steps, falls back
    linearly in ``step_size_down`` steps, and repeats. With the position in the cycle
    :math:`p = t \bmod (s_{up} + s_{down})`:

    .. math::
        \eta_t = \eta_{base} + (\eta_{max} - \eta_{base}) \cdot
        \begin{cases} p / s_{up} & p \le s_{up} \\
                      (s_{up} + s_{down} - p) / s_{down} & p > s_{up} \end{cases}

    Args:
        t: the step (an iteration: cyclical schedules are stepped per batch), an int >= 0.
        base_lr: the lower bound, reached at the start of each cycle (>= 0).
        max_lr: the upper bound, reached after ``step_size_up`` steps (>= base_lr).
        step_size_up: steps of the rising half (int >= 1).
        step_size_down: steps of the falling half (int >= 1); default ``step_size_up``.
    Returns:
        The learning rate at step ``t`` (float).
    Reference: ``torch.optim.lr_scheduler.CyclicLR(optimizer, base_lr, max_lr, step_size_up,
    step_size_down, mode="triangular", cycle_momentum=False)``; torch finds the position from
    ``t / (s_up + s_down)`` in floating point, we from the integer remainder (same numbers up to
    rounding). torch does not check ``max_lr >= base_lr``; we do.
    """
    func = "cyclical"
    t = check_int(func, "t", t, 0)
    base_lr = _check_rate(func, "base_lr", base_lr)
    max_lr = _check_rate(func, "max_lr", max_lr)
    if max_lr < base_lr:
        raise ValueError(f"{func}: max_lr must be >= base_lr; got max_lr={max_lr} < base_lr={base_lr}")
    up = check_int(func, "step_size_up", step_size_up, 1)
    down = up if step_size_down is None else check_int(func, "step_size_down", step_size_down, 1)
    # p = t mod (s_up + s_down): the position inside the current cycle
    p = t % (up + down)
    # rising: p / s_up;  falling: (s_up + s_down - p) / s_down
    height = p / up if p <= up else (up + down - p) / down
    # eta_t = eta_base + (eta_max - eta_base) * height
    return base_lr + (max_lr - base_lr) * height


def _restart(t: int, T_0: int, T_mult: int) -> tuple[int, int]:
    r"""``(T_cur, T_i)``: steps since the last restart and the length of the current cycle.

    Cycle ``n`` (from 0) has length :math:`T_0 T_{mult}^n` and starts at
    :math:`T_0 (T_{mult}^n - 1)/(T_{mult} - 1)` (at :math:`n T_0` when :math:`T_{mult} = 1`).
    """
    if T_mult == 1:
        # n = floor(t / T_0); T_cur = t mod T_0
        return t % T_0, T_0

    def start(k: int) -> int:
        # first step of cycle k: T_0 (T_mult^k - 1) / (T_mult - 1), exact in integers
        return T_0 * (T_mult**k - 1) // (T_mult - 1)

    # n = floor(log_{T_mult}(1 + t (T_mult - 1) / T_0)): cycles completed before step t
    n = int(math.log(1 + t * (T_mult - 1) / T_0, T_mult))
    # the float log can land one off at a cycle boundary: settle n with exact integer tests
    while start(n + 1) <= t:
        n += 1
    while start(n) > t:
        n -= 1
    # T_cur = t - T_0 (T_mult^n - 1) / (T_mult - 1);  T_i = T_0 T_mult^n
    return t - start(n), T_0 * T_mult**n


def cosine_warm_restarts(t: int, lr: float, T_0: int, T_mult: int = 1, eta_min: float = 0.0) -> float:
    r"""Cosine annealing with warm restarts (SGDR, Loshchilov & Hutter 2017).

    A cosine from ``lr`` down towards ``eta_min`` over a cycle of :math:`T_i` steps, then a jump
    ("restart") back to ``lr``; each cycle is ``T_mult`` times longer than the one before
    (:math:`T_i = T_0 T_{mult}^i`). With :math:`T_{cur}` the steps since the last restart:

    .. math::
        \eta_t = \eta_{\min} + \tfrac12 (\eta_0 - \eta_{\min})
                 \left(1 + \cos\frac{\pi\, T_{cur}}{T_i}\right)

    Args:
        t: the step, an int >= 0.
        lr: :math:`\eta_0`, the rate at each restart (>= 0).
        T_0: length of the first cycle (int >= 1).
        T_mult: growth factor of the cycle length (int >= 1; 1 keeps all cycles equal).
        eta_min: the floor the cosine aims at (0 <= eta_min <= lr).
    Returns:
        The learning rate at step ``t`` (float).
    Reference: ``torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0, T_mult,
    eta_min)``. torch counts :math:`T_{cur}` and :math:`T_i` step by step in integers; we find the
    cycle from the closed form (a logarithm, corrected at cycle boundaries with exact integer
    arithmetic), so the two give the same integers and hence the same rates.
    """
    func = "cosine_warm_restarts"
    t = check_int(func, "t", t, 0)
    lr = _check_rate(func, "lr", lr)
    T_0 = check_int(func, "T_0", T_0, 1)
    T_mult = check_int(func, "T_mult", T_mult, 1)
    eta_min = _check_eta_min(func, eta_min, lr)
    T_cur, T_i = _restart(t, T_0, T_mult)
    # w_t = (1 + cos(pi T_cur / T_i)) / 2: 1 at each restart, falling towards 0 within a cycle
    w = (1 + math.cos(math.pi * T_cur / T_i)) / 2
    # eta_t = eta_min + (eta_0 - eta_min) w_t, as a weighted average (exactly lr at a restart)
    return w * lr + (1 - w) * eta_min


def linear_warmup(t: int, lr: float, warmup_steps: int, start_factor: float = 1 / 3) -> float:
    r"""Linear warm-up: ramp from ``start_factor * lr`` up to ``lr`` over ``warmup_steps`` steps.

    .. math::
        \eta_t = \eta_0 \left(f_0 + (1 - f_0)\,\frac{\min(t, T_w)}{T_w}\right)

    and :math:`\eta_t = \eta_0` from step :math:`T_w` on. Multiply it by a decay (e.g.
    ``cosine_annealing``) to get the common "warm-up then decay" schedule.

    Args:
        t: the step, an int >= 0.
        lr: :math:`\eta_0`, the rate after the warm-up (>= 0).
        warmup_steps: :math:`T_w` (int >= 0; 0 means no warm-up: the rate is ``lr`` throughout).
        start_factor: :math:`f_0`, the fraction of ``lr`` used at ``t = 0`` (0 < f_0 <= 1).
    Returns:
        The learning rate at step ``t`` (float).
    Reference: ``torch.optim.lr_scheduler.LinearLR(optimizer, start_factor, end_factor=1.0,
    total_iters=warmup_steps)``, which multiplies the previous rate by
    :math:`1 + (1 - f_0) / (T_w f_0 + (t - 1)(1 - f_0))`: the product telescopes to the formula
    above. One convention differs: with ``total_iters=0`` torch stays at ``start_factor * lr``
    forever, while ``warmup_steps=0`` here means no warm-up at all.
    """
    func = "linear_warmup"
    t = check_int(func, "t", t, 0)
    lr = _check_rate(func, "lr", lr)
    warmup_steps = check_int(func, "warmup_steps", warmup_steps, 0)
    check_positive(func, "start_factor", start_factor)
    if start_factor > 1:
        raise ValueError(f"{func}: start_factor must be in (0, 1]; got {start_factor}")
    if warmup_steps == 0:
        return lr
    # eta_t = eta_0 * (f_0 + (1 - f_0) * min(t, T_w) / T_w)
    return lr * (start_factor + (1 - start_factor) * min(t, warmup_steps) / warmup_steps)


class Scheduler:
    """Drive an optimizer's learning rate with a schedule function ``t -> lr``.

    Works with any optimizer holding ``param_groups`` (a list of dicts with an ``"lr"`` entry):
    ``torch.optim`` and ``companion.optim`` alike. At construction every group's ``"lr"`` is set
    to ``schedule(0)``; after ``t`` calls of :meth:`step` it is ``schedule(t)``. Call ``step()``
    after ``optimizer.step()``, once per epoch or once per batch, whichever ``t`` counts::

        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        sched = Scheduler(opt, lambda t: cosine_annealing(t, lr=0.1, T_max=epochs))
        for epoch in range(epochs):
            train_one_epoch(model, opt)
            sched.step()

    Args:
        optimizer: an object with ``param_groups``.
        schedule: a function ``t -> lr``, or a list of them, one per parameter group.
    Attributes:
        t: the number of ``step()`` calls so far.
    Reference: ``torch.optim.lr_scheduler.LambdaLR``, which multiplies each group's initial
    rate by ``lr_lambda(t)``; here the function returns the rate itself. No ``state_dict``.
    """

    def __init__(self, optimizer, schedule: Callable[[int], float] | list[Callable[[int], float]]):
        groups = getattr(optimizer, "param_groups", None)
        if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
            raise TypeError("Scheduler: optimizer must have param_groups (a list of dicts, as "
                            f"torch.optim and companion.optim optimizers); got {type(optimizer).__name__}")
        schedules = list(schedule) if isinstance(schedule, (list, tuple)) else [schedule] * len(groups)
        if len(schedules) != len(groups):
            raise ValueError(f"Scheduler: schedule must be one function or one per param group "
                             f"({len(groups)}); got {len(schedules)} functions")
        for s in schedules:
            check_type("Scheduler", "schedule", s, Callable, "a function t -> lr (or a list of them)")
        self.optimizer, self.schedules, self.t = optimizer, schedules, 0
        self._apply(0)

    def _apply(self, t: int) -> None:
        """Set every group's ``"lr"`` to its schedule's value at step ``t``; then ``self.t = t``.

        Every rate is computed and checked before any is written, so a failing schedule leaves
        the optimizer and ``t`` as they were.
        """
        lrs = []
        for s in self.schedules:
            lr = s(t)
            is_rate = isinstance(lr, numbers.Real) and not isinstance(lr, bool)
            if not (is_rate and math.isfinite(lr) and lr >= 0):
                raise ValueError(f"Scheduler: schedule({t}) must return a finite learning rate "
                                 f">= 0; got {lr!r}")
            lrs.append(float(lr))
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self.t, self._last_lr = t, lrs

    def step(self) -> None:
        """Advance one step: ``t += 1`` and every group's rate becomes ``schedule(t)``."""
        self._apply(self.t + 1)

    def get_last_lr(self) -> list[float]:
        """The rates last set, one per parameter group (a new list, as torch's ``get_last_lr``)."""
        return list(self._last_lr)

    def __repr__(self) -> str:
        return f"Scheduler(t={self.t}, lr={self._last_lr})"
