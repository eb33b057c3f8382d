r"""Batch and layer normalization for torch models, written from their equations.

Functions that return new tensors and never modify their inputs (``batch_norm`` returns the
updated running statistics instead of writing them in place, unlike ``F.batch_norm``), and
modules holding their parameters and buffers like torch's, with the same names so state dicts
are interchangeable. Reference: ``nn.BatchNorm1d``, ``nn.LayerNorm``.
"""
from __future__ import annotations

import numbers

import torch
from torch import nn

from .validation import (check_int, check_ndim, check_positive, check_probability, check_shape,
                         check_tensor)

__all__ = ["batch_norm", "BatchNorm1d", "layer_norm", "LayerNorm"]


def _vector(func: str, name: str, v, size: int):
    """``None``, or a floating tensor of shape (size,)."""
    if v is not None:
        check_shape(func, name, check_tensor(func, name, v), (size,))
    return v


# ---------------------------------------------------------------- batch normalization

def batch_norm(x: torch.Tensor, running_mean, running_var, weight=None, bias=None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5):
    r"""Batch normalization over the batch (and length) dimension, one statistic per channel.

    .. math::
        \mu_c = \frac1n \sum_{i} x_{ic}, \quad \sigma^2_c = \frac1n \sum_i (x_{ic} - \mu_c)^2,
        \quad y_{ic} = \gamma_c \frac{x_{ic} - \mu_c}{\sqrt{\sigma^2_c + \epsilon}} + \beta_c

    where :math:`i` runs over the :math:`n = N` (or :math:`N L`) values of channel :math:`c`.
    In training, :math:`\mu, \sigma^2` are the batch's (biased variance), and the running
    estimates move towards them with the *unbiased* variance:
    :math:`\hat\mu \leftarrow (1-m)\hat\mu + m\mu`,
    :math:`\hat\sigma^2 \leftarrow (1-m)\hat\sigma^2 + m\frac{n}{n-1}\sigma^2`.
    In evaluation, :math:`\hat\mu, \hat\sigma^2` replace the batch statistics, so each example's
    output no longer depends on the rest of the batch. Note torch's ``momentum`` is the weight of
    the *new* batch (the opposite of an optimizer's momentum).

    Args:
        x: (N, C) or (N, C, L).
        running_mean, running_var: (C,) running estimates, or both None (always use the batch's
            statistics, as ``track_running_stats=False``).
        weight, bias: (C,) :math:`\gamma, \beta`, or None (1 and 0).
        training: use (and update) batch statistics.
        momentum: in [0, 1]; eps: > 0.
    Returns:
        ``(y, new_running_mean, new_running_var)``: y like x; the running estimates are new
        tensors (the given ones when not training). Unlike ``F.batch_norm``, which updates the
        running tensors in place, nothing given is modified.
    Reference: ``torch.nn.BatchNorm1d`` / ``torch.nn.functional.batch_norm``.
    """
    C = _check_batch_norm("batch_norm", x, running_mean, running_var, weight, bias, momentum, eps)
    dims, shape = ((0,), (1, C)) if x.ndim == 2 else ((0, 2), (1, C, 1))
    n = x.numel() // C
    if training or running_mean is None:
        if training and n < 2:
            raise ValueError(f"batch_norm: training needs more than 1 value per channel to estimate "
                             f"a variance; got x of shape {tuple(x.shape)}")
        mean = x.mean(dim=dims)  # (C,)
        # biased variance: divide by n
        var = x.var(dim=dims, correction=0)  # (C,)
    else:
        mean, var = running_mean, running_var
    if training and running_mean is not None:
        with torch.no_grad():
            # running_mean <- (1 - m) running_mean + m mu
            running_mean = (1 - momentum) * running_mean + momentum * mean
            # running_var <- (1 - m) running_var + m n/(n-1) sigma^2   (unbiased)
            running_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)
    # x_hat = (x - mu) / sqrt(sigma^2 + eps)
    y = (x - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + eps)
    if weight is not None:
        y = y * weight.reshape(shape)  # gamma broadcast over N (and L)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y, running_mean, running_var


def _check_batch_norm(func, x, running_mean, running_var, weight, bias, momentum, eps) -> int:
    check_tensor(func, "x", x)
    check_ndim(func, "x", x, (2, 3), "(N, C) or (N, C, L)")
    C = x.shape[1]
    if (running_mean is None) != (running_var is None):
        raise ValueError(f"{func}: running_mean and running_var must both be tensors or both be None")
    for name, v in [("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)]:
        _vector(func, name, v, C)  # C from x
    check_probability(func, "momentum", momentum)
    check_positive(func, "eps", eps)
    return C


class BatchNorm1d(nn.Module):
    """Batch normalization with learnable :math:`\\gamma, \\beta` and running statistics.

    Same parameter and buffer names as ``nn.BatchNorm1d`` (``weight``, ``bias``,
    ``running_mean``, ``running_var``, ``num_batches_tracked``), so state dicts are
    interchangeable. ``model.train()`` uses batch statistics and updates the running ones;
    ``model.eval()`` uses the running ones. Input (N, C) or (N, C, L) with C = ``num_features``.
    Not covered: torch's ``affine=False``, ``track_running_stats=False`` (the function
    :func:`batch_norm` takes None running statistics for that) and ``momentum=None``.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 device=None, dtype=None):
        super().__init__()
        self.num_features = check_int("BatchNorm1d", "num_features", num_features, 1)
        self.eps = check_positive("BatchNorm1d", "eps", eps)
        self.momentum = check_probability("BatchNorm1d", "momentum", momentum)
        kw = dict(device=device, dtype=dtype)
        self.weight = nn.Parameter(torch.ones(num_features, **kw))  # gamma
        self.bias = nn.Parameter(torch.zeros(num_features, **kw))  # beta
        self.register_buffer("running_mean", torch.zeros(num_features, **kw))
        self.register_buffer("running_var", torch.ones(num_features, **kw))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long, device=device))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if isinstance(x, torch.Tensor) and x.ndim in (2, 3) and x.shape[1] != self.num_features:
            C = self.num_features
            raise ValueError(f"BatchNorm1d: x must have shape (N, {C}) or (N, {C}, L) "
                             f"(num_features={C}); got {tuple(x.shape)}")
        y, mean, var = batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                                  self.training, self.momentum, self.eps)
        if self.training:  # the module's own state, updated like nn.BatchNorm1d's
            self.running_mean.copy_(mean)
            self.running_var.copy_(var)
            self.num_batches_tracked += 1
        return y

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"


# ---------------------------------------------------------------- layer normalization

def layer_norm(x: torch.Tensor, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    r"""Layer normalization: normalise each example over its last ``len(normalized_shape)`` dims.

    .. math::
        \mu = \frac1D \sum_j x_j, \quad \sigma^2 = \frac1D \sum_j (x_j - \mu)^2, \quad
        y_j = \gamma_j \frac{x_j - \mu}{\sqrt{\sigma^2 + \epsilon}} + \beta_j

    with :math:`j` over the :math:`D = \prod` ``normalized_shape`` trailing entries of one example
    (one position of a sequence). No batch statistics, no running estimates: training and
    evaluation compute the same thing, and a batch of one is fine.

    Args:
        x: (..., *normalized_shape).
        normalized_shape: an int or a tuple of ints.
        weight, bias: tensors of shape ``normalized_shape``, or None.
    Returns:
        a new tensor like x. Reference: ``torch.nn.functional.layer_norm``, ``nn.LayerNorm``.
    """
    shape = _normalized_shape("layer_norm", normalized_shape)
    check_tensor("layer_norm", "x", x)
    k = len(shape)
    if tuple(x.shape[x.ndim - k:]) != shape or x.ndim < k:
        raise ValueError(f"layer_norm: x must end with normalized_shape {shape}; got shape {tuple(x.shape)}")
    for name, v in [("weight", weight), ("bias", bias)]:
        if v is not None and tuple(check_tensor("layer_norm", name, v).shape) != shape:
            raise ValueError(f"layer_norm: {name} must have shape {shape}; got {tuple(v.shape)}")
    check_positive("layer_norm", "eps", eps)
    dims = tuple(range(-k, 0))
    mean = x.mean(dim=dims, keepdim=True)  # (..., 1, ..., 1)
    # biased variance over the normalised dims
    var = x.var(dim=dims, correction=0, keepdim=True)
    # y = (x - mu) / sqrt(sigma^2 + eps) * gamma + beta
    y = (x - mean) / torch.sqrt(var + eps)
    y = y * weight if weight is not None else y
    return y + bias if bias is not None else y


def _normalized_shape(func: str, normalized_shape) -> tuple[int, ...]:
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) else normalized_shape
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(f"{func}: normalized_shape must be an int or a tuple of ints; "
                        f"got {type(normalized_shape).__name__}") from None
    if not shape or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1
                            for s in shape):
        raise ValueError(f"{func}: normalized_shape must be a non-empty tuple of ints >= 1; "
                         f"got {normalized_shape!r}")
    return tuple(int(s) for s in shape)


class LayerNorm(nn.Module):
    """Layer normalization as a module; parameters ``weight`` (ones) and ``bias`` (zeros) as
    ``nn.LayerNorm`` (shape ``normalized_shape``), absent when ``elementwise_affine=False``."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 device=None, dtype=None):
        super().__init__()
        self.normalized_shape = _normalized_shape("LayerNorm", normalized_shape)
        self.eps = check_positive("LayerNorm", "eps", eps)
        kw = dict(device=device, dtype=dtype)
        self.weight = nn.Parameter(torch.ones(self.normalized_shape, **kw)) if elementwise_affine else None
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape, **kw)) if elementwise_affine else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.weight is not None}"
