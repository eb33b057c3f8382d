r"""Gradient-descent optimizers written from their update equations, for torch parameters.

Each class is a drop-in replacement for its ``torch.optim`` namesake: same argument names and
defaults, ``param_groups`` (a list of dicts with ``"params"`` and the hyperparameters, so a
scheduler can change ``group["lr"]``), a per-parameter ``state`` dict, ``step()`` and
``zero_grad()``. The update of one parameter is a short method whose every line carries its
equation in the comment above it. Notation, per parameter tensor and step :math:`t = 1, 2, \dots`:
:math:`\theta` the parameter, :math:`g_t` its gradient (``p.grad``), :math:`\eta` the learning
rate ``lr``, :math:`\lambda` ``weight_decay``; every operation is elementwise.

Conventions, all as in torch:

* weight decay is L2 added to the gradient, :math:`g_t \leftarrow g_t + \lambda\theta_{t-1}`,
  except in :class:`AdamW`, which decays the weights directly (decoupled).
* parameters whose ``.grad`` is ``None`` are skipped (no state, no decay); sparse gradients raise.
* ``zero_grad()`` sets ``.grad`` to ``None`` (torch's default ``set_to_none=True``).
* the update runs under ``torch.no_grad()`` and changes the parameters in place.
* not implemented: ``maximize``, ``foreach``/``fused`` kernels, ``state_dict``, complex tensors.

Reference: ``torch.optim`` (SGD, Adagrad, Adadelta, RMSprop, Adam, AdamW); each agrees with it
to ``rtol=1e-6`` in float64 over 20+ steps (tests/test_optim.py).
"""
from __future__ import annotations

import math
from collections import OrderedDict, defaultdict

import torch
from torch.utils.hooks import RemovableHandle

__all__ = ["Optimizer", "SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW"]


def _check_range(ok: bool, message: str) -> None:
    """Raise torch's ``ValueError`` message for a hyperparameter out of its range."""
    if not ok:
        raise ValueError(message)


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``zero_grad``, ``step`` and hooks.

    Args:
        params: an iterable of tensors, or of dicts ``{"params": [...], "lr": ..., ...}``
            (parameter groups; a key missing from a group takes its value from ``defaults``).
        defaults: the hyperparameters of the subclass, by torch's names.

    Subclasses implement ``_update(p, g, state, group)``: one step for one parameter ``p`` with
    gradient ``g`` (never ``None``), its ``state`` dict (empty at the first step) and its group.
    """

    def __init__(self, params, defaults: dict):
        if isinstance(params, torch.Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {torch.typename(params)}")
        self.defaults = dict(defaults)
        self.state: defaultdict = defaultdict(dict)  # parameter -> its state dict
        self.param_groups: list[dict] = []
        self._pre_hooks: OrderedDict = OrderedDict()
        self._post_hooks: OrderedDict = OrderedDict()
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict) -> None:
        """Add a group; hyperparameters it does not set come from ``defaults``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        params = [params] if isinstance(params, torch.Tensor) else list(params)
        for p in params:
            if not isinstance(p, torch.Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params "
                                f"is {torch.typename(p)}")
            if not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        group = {**self.defaults, **param_group, "params": params}
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every gradient: ``.grad = None`` (default) or fill it with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_().requires_grad_(False)
                    p.grad.zero_()

    def register_step_pre_hook(self, hook) -> RemovableHandle:
        """``hook(optimizer, args, kwargs)`` runs before each ``step``; may return new (args, kwargs)."""
        handle = RemovableHandle(self._pre_hooks)
        self._pre_hooks[handle.id] = hook
        return handle

    def register_step_post_hook(self, hook) -> RemovableHandle:
        """``hook(optimizer, args, kwargs)`` runs after each ``step``."""
        handle = RemovableHandle(self._post_hooks)
        self._post_hooks[handle.id] = hook
        return handle

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        args, kwargs = ((closure,) if closure is not None else ()), {}
        for hook in list(self._pre_hooks.values()):
            result = hook(self, args, kwargs)
            if result is not None:
                args, kwargs = result
        closure = args[0] if args else kwargs.get("closure")
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        with torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if p.grad.is_sparse:
                        raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
                    self._update(p, p.grad, self.state[p], group)
        for hook in list(self._post_hooks.values()):
            hook(self, args, kwargs)
        return loss

    def _update(self, p, g, state: dict, group: dict) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _update")

    def __repr__(self) -> str:
        groups = [{k: v for k, v in g.items() if k != "params"} for g in self.param_groups]
        return f"{type(self).__name__}({groups})"


class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay.

    .. math::
        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        b_t &= g_t \ (t = 1), \qquad b_t = \mu b_{t-1} + (1 - \tau) g_t \ (t > 1) \\
        d_t &= g_t + \mu b_t \ \text{(Nesterov)}, \qquad d_t = b_t \ \text{(otherwise)} \\
        \theta_t &= \theta_{t-1} - \eta\, d_t

    with momentum :math:`\mu` and dampening :math:`\tau`; without momentum :math:`d_t = g_t`.
    Convention (torch's, unlike Sutskever et al.'s :math:`v = \mu v - \eta g`): the learning rate
    multiplies the buffer, and the first buffer is the plain gradient (no dampening).
    Reference: ``torch.optim.SGD``.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False):
        _check_range(0.0 <= lr, f"Invalid learning rate: {lr}")
        _check_range(0.0 <= momentum, f"Invalid momentum value: {momentum}")
        _check_range(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        _check_range(not nesterov or (momentum > 0 and dampening == 0),
                     "Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _update(self, p, g, state, group):
        lr, mu, tau, lam = group["lr"], group["momentum"], group["dampening"], group["weight_decay"]
        if lam != 0:
            # g_t <- g_t + λ θ_{t-1}   (L2 penalty λ/2 ‖θ‖² folded into the gradient)
            g = g + lam * p
        if mu != 0:
            if "momentum_buffer" not in state:
                # b_1 = g_1   (the first buffer is the gradient itself, undamped)
                state["momentum_buffer"] = g.clone()
            else:
                # b_t = μ b_{t-1} + (1 - τ) g_t
                state["momentum_buffer"].mul_(mu).add_(g, alpha=1 - tau)
            b = state["momentum_buffer"]
            # d_t = g_t + μ b_t (Nesterov: look ahead along the buffer)  or  d_t = b_t
            g = g + mu * b if group["nesterov"] else b
        # θ_t = θ_{t-1} - η d_t
        p.add_(g, alpha=-lr)


class Adagrad(Optimizer):
    r"""Adagrad: each coordinate's step is divided by the root of its summed squared gradients.

    .. math::
        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        \tilde\eta_t &= \eta / (1 + (t - 1)\,\delta) \\
        s_t &= s_{t-1} + g_t^2, \qquad s_0 = \text{initial\_accumulator\_value} \\
        \theta_t &= \theta_{t-1} - \tilde\eta_t\, g_t / (\sqrt{s_t} + \epsilon)

    with learning-rate decay :math:`\delta` (``lr_decay``). Since :math:`s_t` only grows, the
    effective step :math:`\eta/\sqrt{s_t}` shrinks towards zero. Reference: ``torch.optim.Adagrad``
    (Duchi, Hazan & Singer 2011).
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10):
        _check_range(0.0 <= lr, f"Invalid learning rate: {lr}")
        _check_range(0.0 <= lr_decay, f"Invalid lr_decay value: {lr_decay}")
        _check_range(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        _check_range(0.0 <= initial_accumulator_value,
                     f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        _check_range(0.0 <= eps, f"Invalid epsilon value: {eps}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps))

    def _update(self, p, g, state, group):
        if not state:
            state["step"] = 0
            # s_0 = initial_accumulator_value
            state["sum"] = torch.full_like(p, group["initial_accumulator_value"])
        state["step"] += 1
        t, lam = state["step"], group["weight_decay"]
        if lam != 0:
            # g_t <- g_t + λ θ_{t-1}
            g = g + lam * p
        # η̃_t = η / (1 + (t - 1) δ)
        clr = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        # s_t = s_{t-1} + g_t²
        state["sum"].add_(g * g)
        # θ_t = θ_{t-1} - η̃_t g_t / (√s_t + ε)
        p.add_(g / (state["sum"].sqrt() + group["eps"]), alpha=-clr)


class Adadelta(Optimizer):
    r"""Adadelta: RMSprop whose step size is the RMS of the past updates (units match θ).

    .. math::
        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        v_t &= \rho v_{t-1} + (1 - \rho) g_t^2 \\
        \Delta_t &= \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t \\
        u_t &= \rho u_{t-1} + (1 - \rho) \Delta_t^2 \\
        \theta_t &= \theta_{t-1} - \eta\, \Delta_t

    with :math:`v_0 = u_0 = 0`. Zeiler's paper has no :math:`\eta` (it is 1, torch's default).
    Reference: ``torch.optim.Adadelta`` (Zeiler 2012).
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0):
        _check_range(0.0 <= lr, f"Invalid learning rate: {lr}")
        _check_range(0.0 <= rho <= 1.0, f"Invalid rho value: {rho}")
        _check_range(0.0 <= eps, f"Invalid epsilon value: {eps}")
        _check_range(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    def _update(self, p, g, state, group):
        rho, eps, lam = group["rho"], group["eps"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["square_avg"] = torch.zeros_like(p)  # v_0 = 0
            state["acc_delta"] = torch.zeros_like(p)  # u_0 = 0
        state["step"] += 1
        v, u = state["square_avg"], state["acc_delta"]
        if lam != 0:
            # g_t <- g_t + λ θ_{t-1}
            g = g + lam * p
        # v_t = ρ v_{t-1} + (1 - ρ) g_t²
        v.mul_(rho).add_(g * g, alpha=1 - rho)
        # Δ_t = √(u_{t-1} + ε) / √(v_t + ε) · g_t
        delta = (u + eps).sqrt() / (v + eps).sqrt() * g
        # u_t = ρ u_{t-1} + (1 - ρ) Δ_t²
        u.mul_(rho).add_(delta * delta, alpha=1 - rho)
        # θ_t = θ_{t-1} - η Δ_t
        p.add_(delta, alpha=-group["lr"])


class RMSprop(Optimizer):
    r"""RMSprop: divide the step by a running root-mean-square of the gradients.

    .. math::
        g_t &\leftarrow g_t + \lambda \theta_{t-1} \\
        v_t &= \alpha v_{t-1} + (1 - \alpha) g_t^2 \\
        \bar g_t &= \alpha \bar g_{t-1} + (1 - \alpha) g_t \quad \text{(centered only)} \\
        r_t &= \sqrt{v_t - \bar g_t^2} + \epsilon \ \text{(centered)}, \qquad
               r_t = \sqrt{v_t} + \epsilon \ \text{(otherwise)} \\
        b_t &= \mu b_{t-1} + g_t / r_t, \qquad \theta_t = \theta_{t-1} - \eta\, b_t
               \quad \text{(momentum } \mu > 0) \\
        \theta_t &= \theta_{t-1} - \eta\, g_t / r_t \quad \text{(otherwise)}

    with :math:`v_0 = \bar g_0 = b_0 = 0` (no bias correction). Centering divides by an estimate
    of the gradient's standard deviation instead of its RMS. Note that :math:`\epsilon` is added
    outside the root (Hinton's lecture and Keras put it elsewhere). Reference:
    ``torch.optim.RMSprop`` (Hinton, Coursera lecture 6e; centered: Graves 2013).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False):
        _check_range(0.0 <= lr, f"Invalid learning rate: {lr}")
        _check_range(0.0 <= eps, f"Invalid epsilon value: {eps}")
        _check_range(0.0 <= momentum, f"Invalid momentum value: {momentum}")
        _check_range(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        _check_range(0.0 <= alpha, f"Invalid alpha value: {alpha}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered))

    def _update(self, p, g, state, group):
        alpha, mu, lam = group["alpha"], group["momentum"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["square_avg"] = torch.zeros_like(p)  # v_0 = 0
            state["grad_avg"] = torch.zeros_like(p)  # ḡ_0 = 0 (used when centered)
            state["momentum_buffer"] = torch.zeros_like(p)  # b_0 = 0 (used when μ > 0)
        state["step"] += 1
        v = state["square_avg"]
        if lam != 0:
            # g_t <- g_t + λ θ_{t-1}
            g = g + lam * p
        # v_t = α v_{t-1} + (1 - α) g_t²
        v.mul_(alpha).add_(g * g, alpha=1 - alpha)
        if group["centered"]:
            # ḡ_t = α ḡ_{t-1} + (1 - α) g_t
            state["grad_avg"].mul_(alpha).add_(g, alpha=1 - alpha)
            # r_t = √(v_t - ḡ_t²) + ε
            r = (v - state["grad_avg"] ** 2).sqrt() + group["eps"]
        else:
            # r_t = √v_t + ε
            r = v.sqrt() + group["eps"]
        if mu > 0:
            # b_t = μ b_{t-1} + g_t / r_t
            state["momentum_buffer"].mul_(mu).add_(g / r)
            # θ_t = θ_{t-1} - η b_t
            p.add_(state["momentum_buffer"], alpha=-group["lr"])
        else:
            # θ_t = θ_{t-1} - η g_t / r_t
            p.add_(g / r, alpha=-group["lr"])


class Adam(Optimizer):
    r"""Adam: momentum on the gradient and RMSprop scaling, both bias-corrected.

    .. math::
        g_t &\leftarrow g_t + \lambda \theta_{t-1} \quad \text{(L2 inside Adam)} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \hat m_t &= m_t / (1 - \beta_1^t), \qquad \hat v_t = v_t / (1 - \beta_2^t)
        \qquad (\hat v_t \leftarrow \max(\hat v_{t-1}^{\max}, v_t)/(1 - \beta_2^t)
        \text{ with amsgrad}) \\
        \theta_t &= \theta_{t-1} - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)

    with :math:`m_0 = v_0 = 0`; the corrections undo the pull towards those zeros in early steps.
    :math:`\epsilon` is added after the root of the *corrected* :math:`\hat v_t`, as torch does.
    With ``weight_decay`` the penalty's gradient :math:`\lambda\theta` is divided by
    :math:`\sqrt{\hat v_t}` too, which is why :class:`AdamW` exists. Reference:
    ``torch.optim.Adam`` (Kingma & Ba 2015; amsgrad: Reddi, Kale & Kumar 2018).
    """

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False):
        _check_range(0.0 <= lr, f"Invalid learning rate: {lr}")
        _check_range(0.0 <= eps, f"Invalid epsilon value: {eps}")
        _check_range(0.0 <= betas[0] < 1.0, f"Invalid beta parameter at index 0: {betas[0]}")
        _check_range(0.0 <= betas[1] < 1.0, f"Invalid beta parameter at index 1: {betas[1]}")
        _check_range(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad))

    def _update(self, p, g, state, group):
        (beta1, beta2), lr, lam = group["betas"], group["lr"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = torch.zeros_like(p)  # m_0 = 0
            state["exp_avg_sq"] = torch.zeros_like(p)  # v_0 = 0
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = torch.zeros_like(p)  # running max of v
        state["step"] += 1
        t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        if lam != 0 and self._decoupled:
            # θ_{t-1} <- θ_{t-1} (1 - η λ)   (AdamW: decay the weights, outside the adaptive step)
            p.mul_(1 - lr * lam)
        elif lam != 0:
            # g_t <- g_t + λ θ_{t-1}   (Adam: L2 gradient, later divided by √v̂_t)
            g = g + lam * p
        # m_t = β1 m_{t-1} + (1 - β1) g_t
        m.mul_(beta1).add_(g, alpha=1 - beta1)
        # v_t = β2 v_{t-1} + (1 - β2) g_t²
        v.mul_(beta2).add_(g * g, alpha=1 - beta2)
        if group["amsgrad"]:
            # v_t^max = max(v_{t-1}^max, v_t): the denominator never shrinks
            torch.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        # m̂_t = m_t / (1 - β1^t)
        m_hat = m / (1 - beta1 ** t)
        # √v̂_t = √v_t / √(1 - β2^t)
        sqrt_v_hat = v.sqrt() / math.sqrt(1 - beta2 ** t)
        # θ_t = θ_{t-1} - η m̂_t / (√v̂_t + ε)
        p.add_(m_hat / (sqrt_v_hat + group["eps"]), alpha=-lr)


class AdamW(Adam):
    r"""Adam with decoupled weight decay: shrink the weights, then take a plain Adam step.

    .. math::
        \theta_{t-1} &\leftarrow \theta_{t-1} (1 - \eta\lambda) \\
        \theta_t &= \theta_{t-1} - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)
        \quad \text{(Adam's step on the raw gradient } g_t)

    Every weight decays at the same relative rate :math:`\eta\lambda` per step, whatever its
    gradient history; in ``Adam(weight_decay=λ)`` the decay is divided by :math:`\sqrt{\hat v_t}`
    and so is weak exactly where gradients are large. torch multiplies :math:`\lambda` by the
    current :math:`\eta` (Loshchilov & Hutter's paper uses a separate schedule multiplier).
    Default ``weight_decay=1e-2``. Reference: ``torch.optim.AdamW`` (Loshchilov & Hutter 2019).
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad)
