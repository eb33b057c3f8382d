r"""Gradient attributions: which input pixels or features a network's output is most sensitive to.

:func:`saliency` (the size of the input gradient), :func:`integrated_gradients` (gradients
averaged along a straight path from a baseline, which sum to the change in the output:
:func:`completeness_gap` checks it) and :func:`grad_cam` (gradient-weighted feature maps of a
convolution layer). All explain the target's *logit* :math:`f_t(x)`; a one-logit model has
:math:`f_1 = z`, :math:`f_0 = -z`. Part of the explainability chapter: :mod:`companion.explain`
re-exports these names next to the LIME adapters and the global views.
References: Simonyan, Vedaldi, Zisserman (2014) (saliency); Sundararajan, Taly, Yan (2017)
(integrated gradients); Selvaraju et al. (2017) (Grad-CAM).
"""
from __future__ import annotations

import contextlib

from .validation import check_int, check_ndim, check_tensor, check_type

__all__ = ["saliency", "integrated_gradients", "completeness_gap", "grad_cam"]


@contextlib.contextmanager
def _eval_mode(model):
    """Eval mode inside the block; the model's previous train/eval flag is restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def _check_model(func: str, model) -> None:
    from torch import nn

    check_type(func, "model", model, nn.Module, "a torch.nn.Module")


# -------------------------------------------------------------------------- gradient attributions

def _targets(func, x, target):
    import torch

    check_tensor(func, "x", x)
    if x.ndim < 2:
        raise ValueError(f"{func}: x must be a batch (N, ...) with 2 or more dimensions; "
                         f"got shape {tuple(x.shape)}")
    t = torch.as_tensor(target, device=x.device).long().reshape(-1)
    if t.numel() == 1:
        t = t.expand(len(x))
    if t.shape != (len(x),):
        raise ValueError(f"{func}: target must be an int or have shape ({len(x)},); "
                         f"got {tuple(torch.as_tensor(target).shape)}")
    return t


def _target_logit(model, x, t):
    """f_t(x) per example: (N,) logits of the target classes."""
    z = model(x)
    if z.ndim == 1 or z.shape[1] == 1:  # one logit: class 1 is z, class 0 is -z
        z = z.reshape(-1, 1)
        return z[:, 0] * (2.0 * t - 1)
    return z.gather(1, t[:, None])[:, 0]  # (N, K) -> (N,)


def _input_grad(model, x, t):
    import torch

    x = x.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(_target_logit(model, x, t).sum(), x)
    return grad


def saliency(model, x, target):
    r"""Vanilla gradient saliency :math:`|\partial f_t(x) / \partial x|`, same shape as ``x``.

    ``model``: (N, ...) -> (N, K) logits, run in eval mode (restored after); ``x``: (N, ...) float
    tensor; ``target``: int or (N,) classes. Examples are independent in eval mode, so the
    gradient of :math:`\sum_n f_{t_n}(x_n)` gives every example's own gradient at once.
    """
    _check_model("saliency", model)
    t = _targets("saliency", x, target)
    with _eval_mode(model):
        return _input_grad(model, x, t).abs()


def _baseline(func, x, baseline):
    import torch

    if baseline is None:
        return torch.zeros_like(x)
    b = torch.as_tensor(baseline, dtype=x.dtype, device=x.device)
    try:
        return torch.broadcast_to(b, x.shape)
    except RuntimeError:
        raise ValueError(f"{func}: baseline must broadcast to x's shape {tuple(x.shape)}; "
                         f"got {tuple(b.shape)}") from None


def integrated_gradients(model, x, target, baseline=None, steps: int = 64):
    r"""Integrated gradients along the straight path from ``baseline`` :math:`x'` to ``x``.

    .. math::
        IG_i(x) = (x_i - x'_i) \int_0^1 \frac{\partial f_t(x' + \alpha (x - x'))}{\partial x_i}
        d\alpha \approx (x_i - x'_i) \frac{1}{m} \sum_{k=0}^{m-1}
        \frac{\partial f_t}{\partial x_i}\Big|_{x' + \frac{k + 1/2}{m}(x - x')}

    (midpoint Riemann sum, m = ``steps``). Completeness: :math:`\sum_i IG_i = f_t(x) - f_t(x')`
    up to the quadrature error; see :func:`completeness_gap`. Exact for a linear model.

    ``x``: (N, ...) float tensor; ``target``: int or (N,); ``baseline``: None (zeros), a number
    or a tensor broadcastable to x. Returns attributions of x's shape.
    """
    import torch

    _check_model("integrated_gradients", model)
    t = _targets("integrated_gradients", x, target)
    steps = check_int("integrated_gradients", "steps", steps, 1)
    x0 = _baseline("integrated_gradients", x, baseline)
    total = torch.zeros_like(x)
    with _eval_mode(model):
        for k in range(steps):
            alpha = (k + 0.5) / steps
            total += _input_grad(model, x0 + alpha * (x.detach() - x0), t)
    return (x.detach() - x0) * total / steps


def completeness_gap(model, x, target, attributions, baseline=None):
    r""":math:`f_t(x) - f_t(x') - \sum_i A_i` per example, (N,): 0 for a complete attribution."""
    import torch

    _check_model("completeness_gap", model)
    t = _targets("completeness_gap", x, target)
    if tuple(attributions.shape) != tuple(x.shape):
        raise ValueError(f"completeness_gap: attributions must have x's shape {tuple(x.shape)}; "
                         f"got {tuple(attributions.shape)}")
    x0 = _baseline("completeness_gap", x, baseline)
    with _eval_mode(model), torch.no_grad():
        delta = _target_logit(model, x, t) - _target_logit(model, x0, t)
    return delta - attributions.detach().reshape(len(x), -1).sum(dim=1)


def grad_cam(model, layer, x, target):
    r"""Grad-CAM heat maps (N, H, W) over the input, each normalised to [0, 1] by its maximum.

    .. math::
        \alpha_c = \frac{1}{hw}\sum_{i,j} \frac{\partial f_t}{\partial A_{cij}}, \qquad
        L = \mathrm{ReLU}\Big(\sum_c \alpha_c A_c\Big)

    with :math:`A` = ``layer``'s output (N, C, h, w), captured by a forward hook (removed
    afterwards) and differentiated with ``torch.autograd.grad`` (no backward hook needed). L is
    upsampled bilinearly (align_corners=False) to the input's (H, W), then divided by its
    maximum (an all-zero map stays 0).
    """
    import torch
    import torch.nn.functional as F
    from torch import nn

    _check_model("grad_cam", model)
    check_type("grad_cam", "layer", layer, nn.Module, "a torch.nn.Module (a layer of model)")
    t = _targets("grad_cam", x, target)
    check_ndim("grad_cam", "x", x, 4, "(N, C, H, W)")
    captured = []
    handle = layer.register_forward_hook(lambda module, inputs, output: captured.append(output))
    try:
        with _eval_mode(model):
            score = _target_logit(model, x.detach().clone().requires_grad_(True), t).sum()
    finally:
        handle.remove()
    if not captured:
        raise ValueError("grad_cam: layer was not called in model's forward pass")
    A = captured[-1]
    if A.ndim != 4:
        raise ValueError(f"grad_cam: layer output must be (N, C, h, w) feature maps; "
                         f"got shape {tuple(A.shape)}")
    (dA,) = torch.autograd.grad(score, A)
    alpha = dA.mean(dim=(2, 3), keepdim=True)                     # (N, C, 1, 1)
    cam = torch.relu((alpha * A).sum(dim=1, keepdim=True)).detach()  # (N, 1, h, w)
    cam = F.interpolate(cam, size=x.shape[2:], mode="bilinear", align_corners=False)[:, 0]
    top = cam.amax(dim=(1, 2), keepdim=True)
    return torch.where(top > 0, cam / torch.where(top > 0, top, 1.0), torch.zeros_like(cam))
