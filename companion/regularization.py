r"""Regularization for torch models, each technique written from its equation.

Weight penalties (with the L1 proximal step), inverted dropout, early stopping as a
:func:`companion.training.fit` callback, gradient clipping and random-shift augmentation. Batch
and layer normalization, taught in the same notebook, live in :mod:`companion.normalization`.
Inputs are never modified in place, except where torch does the same (``clip_grad_norm`` scales
``.grad``; ``EarlyStopping`` restores the model's weights).
Random functions take a ``torch.Generator``; draws happen on its device and are then moved to the
input's, so a CPU generator gives the same draw for CPU and GPU inputs.
Reference: ``nn.Dropout``, ``F.softshrink``,
``nn.utils.clip_grad_norm_``, ``weight_decay`` of ``torch.optim.SGD``.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .validation import (check_generator, check_int, check_ndim, check_positive, check_probability,
                         check_tensor, check_type)

__all__ = [
    "l1_penalty", "l2_penalty", "soft_threshold",
    "dropout", "Dropout",
    "EarlyStopping",
    "clip_grad_norm",
    "augment_shift",
]


# ---------------------------------------------------------------- checks shared by this module

def _tensors(func: str, params) -> list[torch.Tensor]:
    """A list from one tensor or an iterable of tensors (e.g. ``model.parameters()``)."""
    params = [params] if isinstance(params, torch.Tensor) else list(params)
    if not params:
        raise ValueError(f"{func}: params must hold at least one tensor; got none")
    for i, p in enumerate(params):
        check_tensor(func, f"params[{i}]", p)
    return params


# ---------------------------------------------------------------- weight penalties

def l1_penalty(params, lam: float) -> torch.Tensor:
    r"""L1 penalty :math:`\lambda \sum_k \sum_i |w_{k,i}|` to add to a loss ("lasso").

    Its (sub)gradient :math:`\lambda\,\mathrm{sign}(w)` (0 at 0, as torch's ``abs``) pulls
    equally hard on every weight, so subgradient descent makes small weights oscillate around 0
    rather than land on it; exact zeros need the proximal step :func:`soft_threshold`.

    Args: params: a tensor or an iterable of tensors (the weights to penalise; usually not the
    biases); lam: :math:`\lambda \ge 0`. Returns: a 0-d tensor, differentiable in ``params``.
    """
    params = _tensors("l1_penalty", params)
    check_positive("l1_penalty", "lam", lam, allow_zero=True)
    # lambda * sum_k sum_i |w_ki|
    return lam * sum(p.abs().sum() for p in params)


def l2_penalty(params, lam: float) -> torch.Tensor:
    r"""L2 penalty :math:`\frac{\lambda}{2} \sum_k \sum_i w_{k,i}^2` to add to a loss ("ridge").

    The :math:`\tfrac12` makes the gradient exactly :math:`\lambda w`, what
    ``torch.optim.SGD(weight_decay=lam)`` adds to each gradient: with SGD (with or without
    momentum) ``loss + l2_penalty(model.parameters(), lam)`` gives the same steps as
    ``weight_decay=lam``, each shrinking the weights by :math:`1 - \eta\lambda` ("weight decay").
    Without the :math:`\tfrac12` (Keras's ``l2(l)``), :math:`l` = torch's ``weight_decay / 2``.
    In Adam this L2 term equals ``Adam(weight_decay=lam)``, not AdamW's decoupled decay.

    Args: params: a tensor or an iterable of tensors; lam: :math:`\lambda \ge 0`.
    Returns: a 0-d tensor, differentiable in ``params``.
    """
    params = _tensors("l2_penalty", params)
    check_positive("l2_penalty", "lam", lam, allow_zero=True)
    # lambda / 2 * sum_k sum_i w_ki^2   (gradient: lambda * w)
    return lam / 2 * sum((p * p).sum() for p in params)


def soft_threshold(w: torch.Tensor, threshold: float) -> torch.Tensor:
    r"""The proximal operator of :math:`t\,|w|`: shrink towards 0 by ``t``, and stop *at* 0.

    .. math::
        \mathrm{prox}_{t|\cdot|}(w) = \mathrm{sign}(w)\,\max(|w| - t,\ 0)

    After a gradient step on the data loss, ``w = soft_threshold(w, lr * lam)`` is the L1 part of
    the step (proximal gradient descent, ISTA): weights with :math:`|w| \le \eta\lambda` become
    exactly 0. Returns a new tensor, same shape and dtype. Reference: ``F.softshrink(w, t)``.
    """
    check_tensor("soft_threshold", "w", w)
    check_positive("soft_threshold", "threshold", threshold, allow_zero=True)
    # sign(w) * max(|w| - t, 0)
    return torch.sign(w) * torch.clamp(w.abs() - threshold, min=0)


# ---------------------------------------------------------------- dropout

def dropout(x: torch.Tensor, p: float = 0.5, training: bool = True, generator=None) -> torch.Tensor:
    r"""Inverted dropout: zero each entry with probability ``p``, scale the kept ones by :math:`1/(1-p)`.

    .. math::
        m_i \sim \mathrm{Bernoulli}(1 - p), \qquad y_i = \frac{m_i\, x_i}{1 - p}
        \quad\text{(training)}, \qquad y = x \quad\text{(evaluation)}

    Why the scaling: :math:`\mathbb E[y_i] = (1-p)\cdot x_i/(1-p) = x_i`, so the next layer sees
    inputs of the same expected size in training and at inference, and inference needs no change.
    The original paper (Srivastava et al., 2014) scaled at *test* time instead: no scaling in
    training (:math:`\mathbb E[m_i x_i] = (1-p)\,x_i`), and at test time every outgoing weight
    multiplied by the *keep* probability :math:`1-p` (not by ``p``), which gives the test-time
    input the same expectation :math:`(1-p)\,x_i`. The two networks compute the same function up to
    a constant factor absorbed in the weights; the inverted form is what torch and Keras use.

    Args:
        x: tensor of any shape.
        p: drop probability, in [0, 1).
        training: False returns ``x`` itself (identity).
        generator: a ``torch.Generator`` for a reproducible mask; None uses torch's global RNG.
    Returns:
        a new tensor like ``x`` (``x`` itself in evaluation or when ``p == 0``). The gradient is
        the same mask times :math:`1/(1-p)`.
    Reference: ``torch.nn.functional.dropout`` (same distribution, different random stream).
    """
    check_tensor("dropout", "x", x)
    _check_drop_probability("dropout", p)
    device = check_generator("dropout", generator, x.device)
    if not training or p == 0:
        return x
    u = torch.rand(x.shape, generator=generator, device=device, dtype=torch.float32)
    # m ~ Bernoulli(1 - p): keep where u < 1 - p
    mask = (u < 1 - p).to(device=x.device, dtype=x.dtype)
    # y = m * x / (1 - p)
    return x * mask / (1 - p)


def _check_drop_probability(func: str, p) -> None:
    check_probability(func, "p", p)
    if p == 1:
        raise ValueError(f"{func}: p must be in [0, 1) (p = 1 drops everything and the 1/(1-p) "
                         f"scaling is undefined); got {p}")


class Dropout(nn.Module):
    """Inverted dropout as a module; ``seed`` gives it its own CPU ``torch.Generator``.

    ``model.train()`` / ``model.eval()`` switch between masking and identity, as ``nn.Dropout``.
    With a seed, the sequence of masks is reproducible whatever else uses torch's global RNG.
    """

    def __init__(self, p: float = 0.5, seed: int | None = None):
        super().__init__()
        _check_drop_probability("Dropout", p)
        self.p = float(p)
        self.seed = seed
        self.generator = None if seed is None else torch.Generator().manual_seed(
            check_int("Dropout", "seed", seed, 0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(x, self.p, self.training, self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}, seed={self.seed}"


# ---------------------------------------------------------------- early stopping

class EarlyStopping:
    """Stop training when ``monitor`` has not improved for ``patience`` epochs in a row.

    A :func:`companion.training.fit` callback: ``callback(epoch, history, model) -> bool``.
    An epoch *improves* when the value beats the best so far by more than ``min_delta``
    (``value < best - min_delta`` in mode "min", ``value > best + min_delta`` in mode "max");
    NaN never improves. Each improvement stores a deep copy of ``model.state_dict()`` (cloned
    tensors, not references that later steps would overwrite). After ``patience`` epochs
    without improvement the callback returns True and, with ``restore_best``, loads the best
    state back into the model; if training ends without a stop, ``fit`` calls
    :meth:`on_train_end`, which restores them too. Epoch 0 starts afresh, so one instance can
    serve several fits.

    Attributes: ``best_value``, ``best_epoch``, ``wait`` (epochs since the best),
    ``stopped_epoch`` (None until it stops), ``best_state``.
    """

    def __init__(self, patience: int = 5, min_delta: float = 0.0, monitor: str = "val_loss",
                 mode: str = "min", restore_best: bool = True):
        self.patience = check_int("EarlyStopping", "patience", patience, 1)
        self.min_delta = check_positive("EarlyStopping", "min_delta", min_delta, allow_zero=True)
        self.monitor = check_type("EarlyStopping", "monitor", monitor, str)
        if mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'min' or 'max'; got {mode!r}")
        self.mode, self.restore_best = mode, bool(restore_best)
        self.reset()

    def reset(self) -> None:
        self.best_value = math.inf if self.mode == "min" else -math.inf
        self.best_epoch, self.wait, self.stopped_epoch, self.best_state = None, 0, None, None

    def _improves(self, value: float) -> bool:
        if self.mode == "min":
            return value < self.best_value - self.min_delta
        return value > self.best_value + self.min_delta

    def __call__(self, epoch: int, history, model) -> bool:
        records = getattr(history, "records", history)
        if self.monitor not in records:
            raise KeyError(f"EarlyStopping: history has no {self.monitor!r} (monitor); it has "
                           f"{sorted(records)} (pass val_loader to fit for val_* keys)")
        if epoch == 0:
            self.reset()
        value = float(records[self.monitor][-1])
        if self._improves(value):
            self.best_value, self.best_epoch, self.wait = value, epoch, 0
            # a deep copy: clone every tensor, so later updates do not reach the saved state
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            return False
        self.wait += 1
        if self.wait < self.patience:
            return False
        self.stopped_epoch = epoch
        if self.restore_best:
            self.restore(model)
        return True

    def on_train_end(self, history, model) -> None:
        """Called by ``fit`` after the last epoch: with ``restore_best``, load the best weights."""
        if self.restore_best:
            self.restore(model)

    def restore(self, model) -> None:
        """Load the best weights seen so far into ``model`` (no-op before the first epoch)."""
        if self.best_state is not None:
            model.load_state_dict(self.best_state)


# ---------------------------------------------------------------- gradient clipping

def clip_grad_norm(parameters, max_norm: float, norm_type: float = 2.0) -> torch.Tensor:
    r"""Rescale all gradients together so that their total norm is at most ``max_norm``.

    .. math::
        \|g\|_p = \Big(\sum_k \|g_k\|_p^p\Big)^{1/p} \ (\max_k \|g_k\|_\infty \text{ for } p=\infty),
        \qquad g_k \leftarrow g_k \cdot \min\!\Big(1, \frac{\text{max\_norm}}{\|g\|_p + 10^{-6}}\Big)

    One factor for every gradient keeps the direction of the full gradient; only its length is
    capped. Like ``torch.nn.utils.clip_grad_norm_`` the ``.grad`` tensors are scaled in place
    (parameters without a gradient are skipped) and the norm *before* clipping is returned.
    ``companion.mlp.clip_grad_norm`` is chapter 01's NumPy version (returns new arrays).

    Args:
        parameters: a tensor or an iterable of tensors (e.g. ``model.parameters()``).
        max_norm: > 0. norm_type: p > 0, or ``inf`` (``float("inf")`` or ``"inf"``).
    Returns:
        a 0-d tensor, the total norm before clipping (0 when no parameter has a gradient).
    """
    params = [parameters] if isinstance(parameters, torch.Tensor) else list(parameters)
    check_positive("clip_grad_norm", "max_norm", max_norm)
    p = _norm_type(norm_type)
    grads = [q.grad for q in params if q.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    device = grads[0].device
    norms = torch.stack([torch.linalg.vector_norm(g, p).to(device) for g in grads])  # (K,)
    # ||g||_p = (sum_k ||g_k||_p^p)^(1/p): the p-norm of the per-tensor norms (max for p = inf)
    total = torch.linalg.vector_norm(norms, p)
    # coef = min(1, max_norm / (||g|| + 1e-6))
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    with torch.no_grad():
        for g in grads:
            g.mul_(coef.to(g.device, g.dtype))
    return total


def _norm_type(norm_type) -> float:
    try:
        p = float(norm_type)
    except (TypeError, ValueError):
        raise TypeError(f"clip_grad_norm: norm_type must be a number or 'inf'; got {norm_type!r}") from None
    if not p > 0:  # also rejects NaN
        raise ValueError(f"clip_grad_norm: norm_type must be > 0 or inf; got {norm_type!r}")
    return p


# ---------------------------------------------------------------- data augmentation

def augment_shift(images: torch.Tensor, max_shift: int = 1, generator=None, *,
                  return_shifts: bool = False):
    r"""Translate each image by a random integer offset, filling the uncovered border with zeros.

    .. math::
        (dy, dx) \sim \mathcal U\{-s, \dots, s\}^2, \qquad
        y[i, j] = x[i - dy,\ j - dx] \ (0 \text{ outside the image})

    A small shift does not change what a digit is, so the label is kept: the network sees a new
    variant of each image in every epoch. (Chapter 03 adds flips, crops, rotations and colour.)

    Args:
        images: (N, H, W) or (N, C, H, W); all channels of an image move together.
        max_shift: s, an int with 0 <= s < min(H, W).
        generator: a ``torch.Generator`` for reproducible shifts; None uses torch's global RNG.
        return_shifts: also return the (N, 2) int64 tensor of (dy, dx).
    Returns:
        a new tensor like ``images`` (and the shifts).
    """
    check_tensor("augment_shift", "images", images, floating=False)
    check_ndim("augment_shift", "images", images, (3, 4), "(N, H, W) or (N, C, H, W)")
    H, W = images.shape[-2:]
    s = check_int("augment_shift", "max_shift", max_shift, 0)
    if s >= min(H, W):
        raise ValueError(f"augment_shift: max_shift must be < min(H, W) = {min(H, W)}; got {s}")
    x = images if images.ndim == 4 else images.unsqueeze(1)  # (N, C, H, W)
    N = x.shape[0]
    device = check_generator("augment_shift", generator, x.device)
    shifts = torch.randint(-s, s + 1, (N, 2), generator=generator, device=device).to(x.device)  # (N, 2)
    padded = nn.functional.pad(x, (s, s, s, s))  # (N, C, H + 2s, W + 2s), zeros around
    # y[i, j] = x[i - dy, j - dx] = padded[i + s - dy, j + s - dx]
    rows = torch.arange(H, device=x.device) + s - shifts[:, :1]  # (N, H)
    cols = torch.arange(W, device=x.device) + s - shifts[:, 1:]  # (N, W)
    n = torch.arange(N, device=x.device)[:, None, None]  # (N, 1, 1)
    out = padded[n, :, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W)
    out = out.reshape(images.shape).contiguous()
    return (out, shifts) if return_shifts else out
