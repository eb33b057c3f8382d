r"""Computer vision with torch ops: seeded, batch-aware data augmentation (and detection, re-exported).

Images are float tensors (N, C, H, W), pixel values in [0, 1]. Every random function takes
``generator`` (a ``torch.Generator``, or None for torch's global RNG) and draws one set of
parameters *per image*; draws happen on the generator's device and are then moved to the images',
so a CPU generator gives the same augmentation for CPU and GPU inputs. Inputs are never modified.
The first augmentation, :func:`companion.regularization.augment_shift`, lives in chapter 02's
module and can be an op of :class:`Augment`.

Boxes, IoU, NMS and the tiny detector are a topic of their own, in :mod:`companion.detection`;
they are re-exported here so the whole chapter reads ``vision.iou``, ``vision.TinyDetector``.
Reference: ``torchvision.transforms.v2`` (not installed here).
"""
from __future__ import annotations

import math
import numbers

import torch
import torch.nn.functional as F
from torch import nn

from .detection import (TinyDetector, box_area, decode_boxes, detect, detector_loss, encode_boxes,
                        grid_anchors, iou, nms)
from .validation import (check_generator, check_int, check_ndim, check_positive, check_probability,
                         check_tensor, check_type)

__all__ = [
    "rotate", "zoom", "adjust_color",
    "random_flip", "random_rotation", "random_scale", "random_crop", "color_jitter", "Augment",
    "box_area", "iou", "nms", "encode_boxes", "decode_boxes",
    "grid_anchors", "TinyDetector", "detector_loss", "detect",
]


# ---------------------------------------------------------------- augmentations

def _check_images(func: str, images) -> torch.Tensor:
    check_tensor(func, "images", images)
    return check_ndim(func, "images", images, 4, "(N, C, H, W)")


def _per_image(func: str, name: str, value, images, bound: str = "") -> torch.Tensor:
    """One finite number or one per image, each satisfying ``bound`` ("", ">= 0", "> 0") -> (N,)."""
    if not isinstance(value, torch.Tensor):
        check_type(func, name, value, numbers.Real, "a number or a tensor")
    v = torch.as_tensor(value, dtype=images.dtype).to(images.device).reshape(-1)  # (1,) or (N,)
    ok = torch.isfinite(v) & (v >= 0 if bound == ">= 0" else v > 0 if bound == "> 0" else True)
    if len(v) not in (1, len(images)) or not ok.all():
        raise ValueError(f"{func}: {name} must be one number or {len(images)} (one per image), finite"
                         f"{' and ' + bound if bound else ''}; got {v.tolist()}")
    return v.expand(len(images))  # (N,)


def _uniform(func: str, images, generator, low: float, high: float) -> torch.Tensor:
    """(N,) draws from U[low, high), one per image, in the images' dtype and on their device."""
    device = check_generator(func, generator, images.device)
    u = torch.rand(images.shape[0], generator=generator, device=device, dtype=torch.float64)
    return (low + (high - low) * u).to(device=images.device, dtype=images.dtype)  # (N,)


def _affine(images, A: torch.Tensor, fill: float) -> torch.Tensor:
    r"""Output pixel at :math:`p = (u, v)` (column, row, from the image centre) reads the input at
    :math:`A_n p` by bilinear interpolation; points outside the input get ``fill``. A: (N, 2, 2)."""
    N, _, H, W = images.shape
    # affine_grid works in [-1, 1] coordinates: theta = S^-1 A S with S = diag(W/2, H/2)
    S = torch.tensor([W / 2, H / 2], dtype=images.dtype, device=images.device)
    theta = torch.zeros(N, 2, 3, dtype=images.dtype, device=images.device)
    theta[:, :, :2] = A * S[None, None, :] / S[None, :, None]
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)  # (N, H, W, 2)
    # grid_sample pads with 0, so sample x - fill and add fill back: outside becomes fill
    out = F.grid_sample(images - fill, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out + fill


def rotate(images, angle, *, fill: float = 0.0) -> torch.Tensor:
    r"""Rotate each image about its centre by ``angle`` degrees, counter-clockwise on screen.

    The output pixel at :math:`(u, v)` (column, row, measured from the centre; rows go down) reads
    the input at :math:`(u', v') = (u\cos a - v\sin a,\ u\sin a + v\cos a)` by bilinear
    interpolation ("inverse mapping": every output pixel gets exactly one value); what comes from
    outside the image is ``fill``. 90 degrees on a square image is ``torch.rot90``.
    Args: images (N, C, H, W); angle: a number or (N,) tensor. Returns (N, C, H, W).
    Reference: ``torchvision.transforms.v2.functional.rotate`` (bilinear), ``torch.rot90``.
    """
    a = _per_image("rotate", "angle", angle, _check_images("rotate", images)) * (math.pi / 180)  # (N,)
    cos, sin = torch.cos(a), torch.sin(a)  # (N,)
    A = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)  # (N, 2, 2)
    return _affine(images, A, fill)


def zoom(images, factor, *, fill: float = 0.0) -> torch.Tensor:
    r"""Scale each image about its centre by ``factor`` s (> 1 enlarges, < 1 shrinks).

    .. math:: y(u, v) = x(u / s,\ v / s) \quad\text{(bilinear; } \texttt{fill} \text{ outside)}

    Zooming by 2 equals ``F.interpolate(scale_factor=2, mode="bilinear")`` and a centre crop.
    Args: images (N, C, H, W); factor: a number or (N,) tensor, > 0. Reference: ``RandomAffine(scale)``.
    """
    _check_images("zoom", images)
    s = _per_image("zoom", "factor", factor, images, "> 0")
    A = (1 / s)[:, None, None] * torch.eye(2, dtype=images.dtype, device=images.device)  # (N, 2, 2)
    return _affine(images, A, fill)


_GREY = (0.299, 0.587, 0.114)  # ITU-R 601 luma weights, as PIL's convert("L") and torchvision


def adjust_color(images, brightness=1.0, contrast=1.0, saturation=1.0) -> torch.Tensor:
    r"""Blend each image with a "degenerate" version of itself, in this order, clamping to [0, 1]:

    .. math::
        \text{brightness: } y = f_b\, x, \qquad
        \text{contrast: } y = f_c\, x + (1 - f_c)\, \overline{g(x)}, \qquad
        \text{saturation: } y = f_s\, x + (1 - f_s)\, g(x)

    with :math:`g` the grey image :math:`0.299R + 0.587G + 0.114B` (the image itself if C = 1) and
    :math:`\overline{g}` its mean. Factor 1 changes nothing, 0 gives black, flat grey, grey.
    Args: images (N, C, H, W) in [0, 1], C = 1 or 3 (saturation needs C = 3); each factor a
    number or (N,) tensor, >= 0. Reference: PIL's ``ImageEnhance.Brightness``, ``Contrast``, ``Color``
    (which round to uint8 after each step), torchvision's ``adjust_brightness`` etc.
    """
    func = "adjust_color"
    C = _check_images(func, images).shape[1]
    if C not in (1, 3):
        raise ValueError(f"{func}: images must have 1 or 3 channels (N, C, H, W); got C={C}")
    factors = {"brightness": brightness, "contrast": contrast, "saturation": saturation}
    f_b, f_c, f_s = (_per_image(func, k, v, images, ">= 0")[:, None, None, None] for k, v in factors.items())
    if C != 3 and bool((f_s != 1).any()):
        raise ValueError(f"{func}: saturation needs colour images with C=3; got C={C}")
    weights = torch.tensor(_GREY, dtype=images.dtype, device=images.device)[:, None, None]  # (3, 1, 1)

    def grey(x):  # (N, C, H, W) -> (N, 1, H, W)
        return (x * weights).sum(1, keepdim=True) if C == 3 else x

    x = (f_b * images).clamp(0, 1)
    x = (f_c * x + (1 - f_c) * grey(x).mean((2, 3), keepdim=True)).clamp(0, 1)
    return (f_s * x + (1 - f_s) * grey(x)).clamp(0, 1)


def random_flip(images, p: float = 0.5, *, horizontal: bool = True, generator=None) -> torch.Tensor:
    r"""Mirror each image with probability ``p``: left-right (:math:`y[i, j] = x[i, W-1-j]`) with
    ``horizontal``, else upside down. Reference: ``RandomHorizontalFlip`` / ``RandomVerticalFlip``."""
    _check_images("random_flip", images)
    check_probability("random_flip", "p", p)
    flip = _uniform("random_flip", images, generator, 0.0, 1.0) < p  # (N,) bool
    return torch.where(flip[:, None, None, None], images.flip(-1 if horizontal else -2), images)


def random_rotation(images, max_degrees: float, *, generator=None, fill: float = 0.0) -> torch.Tensor:
    r""":func:`rotate` each image by its own angle :math:`a \sim U[-d, d]` degrees, d = ``max_degrees``.
    Reference: ``torchvision.transforms.v2.RandomRotation(d, interpolation=BILINEAR)``."""
    _check_images("random_rotation", images)
    check_positive("random_rotation", "max_degrees", max_degrees, allow_zero=True)
    angles = _uniform("random_rotation", images, generator, -max_degrees, max_degrees)  # (N,)
    return rotate(images, angles, fill=fill)


def random_scale(images, scale_range=(0.9, 1.1), *, generator=None, fill: float = 0.0) -> torch.Tensor:
    r""":func:`zoom` each image by its own factor :math:`s \sim U[s_{lo}, s_{hi}]`, ``scale_range``
    = (low, high) with 0 < low <= high. Reference: the ``scale`` of ``RandomAffine``."""
    _check_images("random_scale", images)
    ok = isinstance(scale_range, (tuple, list)) and len(scale_range) == 2 and all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in scale_range)
    if not ok or not 0 < scale_range[0] <= scale_range[1] < math.inf:
        raise ValueError(f"random_scale: scale_range must be a pair (low, high) with 0 < low <= high; "
                         f"got {scale_range!r}")
    return zoom(images, _uniform("random_scale", images, generator, *scale_range), fill=fill)


def random_crop(images, size, padding: int = 0, *, generator=None) -> torch.Tensor:
    r"""Pad each image with ``padding`` zeros on every side, then cut out a random window.

    The window's top-left corner :math:`(r, c)` is uniform over all positions that fit:
    :math:`y[i, j] = \tilde x[r + i,\ c + j]`, :math:`\tilde x` the padded image.
    Args: images (N, C, H, W); size: an int (square window) or a pair (h, w), at most the padded
    size; padding: an int >= 0. Returns (N, C, h, w). Reference: ``RandomCrop(size, padding)``.
    """
    func = "random_crop"
    _check_images(func, images)
    h, w = size if isinstance(size, (tuple, list)) else (size, size)
    p = check_int(func, "padding", padding, 0)
    N, C, H, W = images.shape
    if check_int(func, "size", h, 1) > H + 2 * p or check_int(func, "size", w, 1) > W + 2 * p:
        raise ValueError(f"{func}: size must fit in the padded image ({H + 2 * p}, {W + 2 * p}); "
                         f"got ({h}, {w})")
    device = check_generator(func, generator, images.device)
    r = torch.randint(0, H + 2 * p - h + 1, (N, 1), generator=generator, device=device).to(images.device)
    c = torch.randint(0, W + 2 * p - w + 1, (N, 1), generator=generator, device=device).to(images.device)
    padded = F.pad(images, (p, p, p, p))  # (N, C, H + 2p, W + 2p)
    rows = r + torch.arange(h, device=images.device)  # (N, h)
    cols = c + torch.arange(w, device=images.device)  # (N, w)
    n = torch.arange(N, device=images.device)[:, None, None]  # (N, 1, 1)
    out = padded[n, :, rows[:, :, None], cols[:, None, :]]  # (N, h, w, C): advanced indices first
    return out.permute(0, 3, 1, 2).contiguous()  # (N, C, h, w)


def color_jitter(images, brightness: float = 0.0, contrast: float = 0.0, saturation: float = 0.0,
                 *, generator=None) -> torch.Tensor:
    r""":func:`adjust_color` with factors :math:`f \sim U[\max(0, 1-b), 1+b]` drawn per image.

    Three factors are always drawn (brightness, contrast, saturation), so a strength of 0 (factor 1)
    leaves the others' random stream unchanged. Convention difference: torchvision's
    ``ColorJitter`` applies the three in a random order; here the order is fixed.
    """
    strengths = {"brightness": brightness, "contrast": contrast, "saturation": saturation}
    for name, b in strengths.items():
        check_positive("color_jitter", name, b, allow_zero=True)
    if _check_images("color_jitter", images).shape[1] != 3 and saturation > 0:
        raise ValueError(f"color_jitter: saturation needs colour images with C=3; got C={images.shape[1]}")
    return adjust_color(images, **{name: _uniform("color_jitter", images, generator, max(0.0, 1 - b), 1 + b)
                                   for name, b in strengths.items()})


class Augment(nn.Module):
    """A pipeline of random ops with its own seeded CPU generator; identity in ``eval()`` mode.

    Each op is called as ``op(images, generator=g)``: pass the functions above with their settings
    bound, e.g. ``functools.partial(random_rotation, max_degrees=15)`` or
    ``functools.partial(regularization.augment_shift, max_shift=1)``. As an ``nn.Module`` it can be
    the first layer of a model: ``model.train()`` augments, ``model.eval()`` passes images through.
    The same seed gives the same sequence of augmented batches.
    """

    def __init__(self, *ops, seed: int = 0):
        super().__init__()
        for i, op in enumerate(ops):
            if not callable(op):
                raise TypeError(f"Augment: ops[{i}] must be callable; got {type(op).__name__}")
        self.ops, self.seed = ops, check_int("Augment", "seed", seed, 0)
        self.generator = torch.Generator().manual_seed(self.seed)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return images
        for op in self.ops:
            images = op(images, generator=self.generator)
        return images

    def extra_repr(self) -> str:
        return f"{len(self.ops)} ops, seed={self.seed}"
