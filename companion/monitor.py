r"""Watch a torch model train: gradient norms, update-to-weight ratios and activation statistics.

A :class:`Monitor` attaches hooks to a model (and optionally to its optimizer) and appends one
number per training step to ``monitor.history``, a dict ``key -> list of floats``; keys are
``"<quantity>/<name>"`` with the parameter's or module's name from ``model.named_parameters()`` /
``model.named_modules()``:

- ``grad_norm/<param>``: :math:`\lVert \nabla_\theta L \rVert_2` of each parameter tensor, read as
  soon as backward has accumulated its gradient (``Tensor.register_post_accumulate_grad_hook``);
- ``update_ratio/<param>``: :math:`\lVert \theta_{t+1} - \theta_t \rVert_2 / \lVert \theta_t
  \rVert_2` around each ``optimizer.step()`` (NaN when :math:`\theta_t = 0`). Rule of thumb
  (Karpathy, CS231n): about 1e-3 is healthy; 1e-1 and above means the learning rate is too
  high, 1e-5 and below that it is too low;
- ``act_mean``, ``act_std`` (population std, over every element of the output), ``act_zero``
  (fraction of exact zeros: inactive ReLUs), ``act_dead`` (fraction of units, i.e. entries of
  dimension 1, that are zero for every example of the batch) and ``act_saturated`` (fraction with
  :math:`|a| \ge` ``saturation``: the flat tails of tanh) of chosen modules' outputs.

Activation statistics are recorded for a forward pass only when the module is in training mode
**and** gradients are enabled, so evaluation passes (``model.eval()`` or ``torch.no_grad()``, as
in :func:`companion.training.evaluate`) add nothing: one entry per training batch.

Update ratios need the optimizer's step hooks (``register_step_pre_hook`` /
``register_step_post_hook``, which every ``torch.optim`` optimizer has). For an optimizer without
them, call ``monitor.before_step()`` and ``monitor.after_step()`` around ``optimizer.step()``.
"""
from __future__ import annotations

import math
from typing import Iterable

from .validation import check_type

__all__ = ["Monitor"]


class Monitor:
    """Record training diagnostics of ``model`` through hooks; detach them with :meth:`remove`.

    Args:
        model: a ``torch.nn.Module``.
        optimizer: optional; its step hooks record update ratios (see the module docstring).
        modules: names of submodules (as in ``model.named_modules()``) whose outputs are
            summarised; default: every leaf module (one without children).
        saturation: threshold of ``act_saturated`` (``|a| >= saturation``), in (0, inf).

    Attributes:
        history: ``"<quantity>/<name>" -> list of floats``, one entry per training step.
        steps: number of optimizer steps seen. ``uses_step_hooks``: ``False`` when the optimizer
            has no step hooks (then call :meth:`before_step` / :meth:`after_step` yourself).

    Example::

        with Monitor(model, optimizer) as monitor:
            fit(model, loader, loss_fn=F.cross_entropy, optimizer=optimizer, epochs=5)
        plt.plot(monitor.history["update_ratio/0.weight"])
    """

    def __init__(self, model, optimizer=None, modules: Iterable[str] | None = None, *,
                 saturation: float = 0.99):
        import torch

        check_type("Monitor", "model", model, torch.nn.Module, "a torch.nn.Module")
        if isinstance(saturation, bool) or not (isinstance(saturation, (int, float)) and 0 < saturation < math.inf):
            raise ValueError(f"Monitor: saturation must be a number > 0; got {saturation!r}")
        self.model, self.optimizer, self.saturation = model, optimizer, float(saturation)
        self.history: dict[str, list[float]] = {}
        self.steps = 0
        self._params = {n: p for n, p in model.named_parameters() if p.requires_grad}
        self._before: dict | None = None
        self._handles = []
        self.module_names = self._check_modules(model, modules)
        self._attach()

    @staticmethod
    def _check_modules(model, modules) -> list[str]:
        named = dict(model.named_modules())
        if modules is None:
            return [n for n, m in named.items() if n and not any(True for _ in m.children())]
        if isinstance(modules, str):
            raise TypeError(f"Monitor: modules must be a list of module names; got the str {modules!r}")
        modules = list(modules)
        unknown = [n for n in modules if n not in named]
        if unknown:
            known = ", ".join(repr(n) for n in named if n)
            raise ValueError(f"Monitor: modules must be names from model.named_modules() ({known}); "
                             f"got unknown {', '.join(map(repr, unknown))}")
        return modules

    def _attach(self) -> None:
        named = dict(self.model.named_modules())
        for name, p in self._params.items():
            self._handles.append(p.register_post_accumulate_grad_hook(self._grad_hook(name)))
        for name in self.module_names:
            self._handles.append(named[name].register_forward_hook(self._forward_hook(name)))
        opt = self.optimizer
        #: whether update ratios are recorded automatically (else call before_step / after_step)
        self.uses_step_hooks = all(hasattr(opt, h) for h in ("register_step_pre_hook", "register_step_post_hook"))
        if self.uses_step_hooks:
            self._handles.append(opt.register_step_pre_hook(lambda *args, **kwargs: self.before_step()))
            self._handles.append(opt.register_step_post_hook(lambda *args, **kwargs: self.after_step()))

    # ------------------------------------------------------------------ recording

    def _log(self, key: str, value: float) -> None:
        self.history.setdefault(key, []).append(float(value))

    def _grad_hook(self, name: str):
        import torch

        def hook(param):  # runs when backward has accumulated param.grad
            self._log(f"grad_norm/{name}", torch.linalg.vector_norm(param.grad.detach()).item())
        return hook

    def _forward_hook(self, name: str):
        import torch

        def hook(module, inputs, output):
            if not (module.training and torch.is_grad_enabled()) or not torch.is_tensor(output):
                return  # evaluation passes are not training steps
            # statistics in at least float32 (half precision would round them), float64 kept
            a = output.detach().to(torch.promote_types(output.dtype, torch.float32))
            zero = a == 0
            self._log(f"act_mean/{name}", a.mean().item())
            self._log(f"act_std/{name}", a.std(correction=0).item())
            self._log(f"act_zero/{name}", zero.double().mean().item())
            # a unit (index along dim 1) is dead on this batch if it is 0 for every example
            dead = zero.transpose(0, 1).reshape(a.shape[1], -1).all(dim=1) if a.ndim >= 2 else zero
            self._log(f"act_dead/{name}", dead.double().mean().item())
            self._log(f"act_saturated/{name}", (a.abs() >= self.saturation).double().mean().item())
        return hook

    def before_step(self) -> None:
        """Remember the parameters that have a gradient (called by the optimizer's pre-hook)."""
        self._before = {n: p.detach().clone() for n, p in self._params.items() if p.grad is not None}

    def after_step(self) -> None:
        """Log ``‖θ_new − θ_old‖ / ‖θ_old‖`` per parameter (called by the optimizer's post-hook)."""
        import torch

        if self._before is None:
            raise RuntimeError("Monitor.after_step: call before_step() before optimizer.step()")
        for name, old in self._before.items():
            # ratio = ||theta_{t+1} - theta_t|| / ||theta_t||, undefined (NaN) when theta_t = 0
            delta = torch.linalg.vector_norm(self._params[name].detach() - old).item()
            scale = torch.linalg.vector_norm(old).item()
            self._log(f"update_ratio/{name}", delta / scale if scale > 0 else math.nan)
        self._before = None
        self.steps += 1

    # ------------------------------------------------------------------ reading and cleaning up

    def series(self, quantity: str) -> dict[str, list[float]]:
        """``{name: values}`` for one quantity, e.g. ``monitor.series("grad_norm")``."""
        prefix = quantity + "/"
        return {k[len(prefix):]: v for k, v in self.history.items() if k.startswith(prefix)}

    def remove(self) -> None:
        """Detach every hook; the history is kept. Calling it twice is harmless."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self) -> "Monitor":
        return self

    def __exit__(self, *exc) -> None:
        self.remove()
