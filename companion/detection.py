r"""Object detection basics in torch: boxes, IoU, non-maximum suppression and a tiny detector.

Boxes are (B, 4) float ``[x_min, y_min, x_max, y_max]`` in pixels ("xyxy", as ``torchvision.ops``),
x the column and y the row; pixel (i, j) covers the unit square [j, j+1] x [i, i+1], so the
half-open boxes of :func:`companion.synthetic.shapes_with_boxes` are used as they are.
:func:`iou` and :func:`nms` are the two tools every detector needs; :func:`encode_boxes` /
:func:`decode_boxes` turn boxes into regression targets relative to anchors; :class:`TinyDetector`,
:func:`detector_loss` and :func:`detect` put them together into a one-stage detector.
The chapter's augmentations are in :mod:`companion.vision`, which re-exports these names.
Reference: ``torchvision.ops`` (not installed here) and ``torchvision.models.detection``.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .validation import (check_int, check_ndim, check_positive, check_probability, check_same_length,
                         check_shape, check_tensor, check_type)

__all__ = ["box_area", "iou", "nms", "encode_boxes", "decode_boxes",
           "grid_anchors", "TinyDetector", "detector_loss", "detect"]


# ---------------------------------------------------------------- boxes

def _check_boxes(func: str, name: str, boxes, *, strict: bool = False) -> torch.Tensor:
    """A floating (B, 4) tensor with x_min <= x_max and y_min <= y_max (``<`` if ``strict``)."""
    check_tensor(func, name, boxes)
    check_shape(func, name, boxes, (None, 4))
    wh = boxes[:, 2:] - boxes[:, :2]  # (B, 2)
    bad = ((wh <= 0) if strict else (wh < 0)).any(1)
    if bad.any():
        row, op = int(bad.nonzero()[0, 0]), "<" if strict else "<="
        raise ValueError(f"{func}: {name} must have x_min {op} x_max and y_min {op} y_max; "
                         f"got {boxes[row].tolist()} in row {row}")
    return boxes


def box_area(boxes) -> torch.Tensor:
    r"""Area :math:`(x_{max} - x_{min})(y_{max} - y_{min})` of each box. boxes (B, 4) -> (B,)."""
    _check_boxes("box_area", "boxes", boxes)
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def iou(boxes_a, boxes_b) -> torch.Tensor:
    r"""Pairwise intersection over union, (A, 4) x (B, 4) -> (A, B).

    .. math:: \mathrm{IoU}(a, b) = \frac{|a \cap b|}{|a| + |b| - |a \cap b|}

    The intersection is the box ``[max of the mins, min of the maxes]``, empty when that has a
    negative side. Convention difference: where the union is 0 (two empty boxes) we return 0;
    ``torchvision.ops.box_iou`` returns NaN there. Reference: ``torchvision.ops.box_iou``.
    """
    area_a = box_area(_check_boxes("iou", "boxes_a", boxes_a))  # (A,)
    area_b = box_area(_check_boxes("iou", "boxes_b", boxes_b))  # (B,)
    top_left = torch.maximum(boxes_a[:, None, :2], boxes_b[None, :, :2])  # (A, B, 2)
    bottom_right = torch.minimum(boxes_a[:, None, 2:], boxes_b[None, :, 2:])  # (A, B, 2)
    wh = (bottom_right - top_left).clamp(min=0)  # (A, B, 2): 0 where they do not overlap
    inter = wh[..., 0] * wh[..., 1]  # (A, B)
    # |a u b| = |a| + |b| - |a n b|; inter <= union, so where union = 0 the clamp gives 0 / tiny = 0
    union = area_a[:, None] + area_b[None, :] - inter
    return inter / union.clamp(min=torch.finfo(union.dtype).tiny)


def nms(boxes, scores, iou_threshold: float) -> torch.Tensor:
    r"""Greedy non-maximum suppression: keep the best box, drop every box overlapping it, repeat.

    Boxes are visited by decreasing score; a box is dropped when its IoU with an already *kept*
    box is > ``iou_threshold`` (torchvision's rule). Ties in score are broken by a stable sort:
    the earlier index comes first (torchvision leaves tie order unspecified).

    Args: boxes (B, 4); scores (B,); iou_threshold in [0, 1].
    Returns: int64 indices of the kept boxes, by decreasing score. Reference: ``torchvision.ops.nms``.
    """
    _check_boxes("nms", "boxes", boxes)
    check_tensor("nms", "scores", scores)
    check_ndim("nms", "scores", scores, 1, "(B,)")
    check_same_length("nms", boxes=boxes, scores=scores)
    check_probability("nms", "iou_threshold", iou_threshold)
    order = torch.sort(scores, descending=True, stable=True).indices  # (B,)
    overlaps = (iou(boxes[order], boxes[order]) > iou_threshold).cpu()  # (B, B), in visiting order
    suppressed = torch.zeros(len(order), dtype=torch.bool)
    keep = []
    for i in range(len(order)):
        if not suppressed[i]:
            keep.append(i)
            suppressed |= overlaps[i]  # everything this kept box overlaps too much
    return order[torch.tensor(keep, dtype=torch.int64, device=order.device)]


def _centre_size(boxes) -> tuple[torch.Tensor, ...]:
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    return boxes[:, 0] + w / 2, boxes[:, 1] + h / 2, w, h


def _check_anchors(func: str, name: str, values, anchors) -> None:
    _check_boxes(func, "anchors", anchors, strict=True)  # strict: the log of the size is taken
    check_same_length(func, **{name: values, "anchors": anchors})


def encode_boxes(boxes, anchors) -> torch.Tensor:
    r"""Boxes as offsets from their anchors (Faster R-CNN's parametrisation), (B, 4) -> (B, 4).

    .. math::
        d_x = \frac{c_x - c_{x,a}}{w_a},\quad d_y = \frac{c_y - c_{y,a}}{h_a},\quad
        d_w = \log\frac{w}{w_a},\quad d_h = \log\frac{h}{h_a}

    Offsets are small numbers of order 1 whatever the box size: easy targets for a regression.
    Reference: ``torchvision.models.detection._utils.BoxCoder`` with weights (1, 1, 1, 1).
    """
    _check_boxes("encode_boxes", "boxes", boxes, strict=True)
    _check_anchors("encode_boxes", "boxes", boxes, anchors)
    cx, cy, w, h = _centre_size(boxes)
    cxa, cya, wa, ha = _centre_size(anchors)
    return torch.stack([(cx - cxa) / wa, (cy - cya) / ha, torch.log(w / wa), torch.log(h / ha)], dim=1)


#: largest d_w, d_h used by decode_boxes (torchvision's log(1000 / 16)): exp stays finite
BBOX_CLIP = math.log(1000.0 / 16)


def decode_boxes(deltas, anchors) -> torch.Tensor:
    r"""The inverse of :func:`encode_boxes`: (B, 4) offsets and anchors -> (B, 4) xyxy boxes.

    .. math:: c_x = c_{x,a} + d_x w_a,\quad w = w_a e^{d_w} \quad\text{(and the same for y, h)}

    :math:`d_w, d_h` are clamped at :data:`BBOX_CLIP` first, as torchvision does, so a wild
    prediction cannot overflow ``exp``; below it ``decode_boxes(encode_boxes(b, a), a) == b``.
    """
    check_tensor("decode_boxes", "deltas", deltas)
    check_shape("decode_boxes", "deltas", deltas, (None, 4))
    _check_anchors("decode_boxes", "deltas", deltas, anchors)
    cxa, cya, wa, ha = _centre_size(anchors)
    cx, cy = cxa + deltas[:, 0] * wa, cya + deltas[:, 1] * ha
    # w = w_a exp(d_w), h = h_a exp(d_h), with d_w, d_h clamped
    w, h = wa * deltas[:, 2].clamp(max=BBOX_CLIP).exp(), ha * deltas[:, 3].clamp(max=BBOX_CLIP).exp()
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=1)


# ---------------------------------------------------------------- a tiny one-stage detector

def grid_anchors(image_size: int, grid_size: int, anchor_size: float) -> torch.Tensor:
    """A square anchor of side ``anchor_size`` centred in each cell of an S x S grid: (S*S, 4)
    float32 xyxy boxes, cells in row-major order (cell (i, j) is row i*S + j)."""
    cell = image_size / grid_size
    centres = (torch.arange(grid_size, dtype=torch.float32) + 0.5) * cell  # (S,)
    cy, cx = torch.meshgrid(centres, centres, indexing="ij")  # (S, S) each
    half = anchor_size / 2
    return torch.stack([cx - half, cy - half, cx + half, cy + half], dim=-1).reshape(-1, 4)  # (S*S, 4)


class TinyDetector(nn.Module):
    r"""A one-stage detector in the spirit of YOLO v1: a CNN whose every output cell predicts a box.

    Backbone: ``len(channels)`` blocks of conv3x3-ReLU-maxpool2, so an image of side H becomes an
    S x S grid with :math:`S = H / 2^{\text{len(channels)}}` (32 -> 4 by default, cells of 8 pixels);
    a 1x1 conv head then gives, for each cell, ``5 + num_classes`` numbers: an objectness logit,
    the offsets :math:`(d_x, d_y, d_w, d_h)` of a box from the cell's anchor (:func:`encode_boxes`),
    and class logits. A cell is responsible for the objects whose box centre falls in it.

    Forward: images (N, in_channels, H, H) -> (N, S*S, 5 + num_classes), cells row-major.
    Attributes: ``anchors`` (S*S, 4) buffer, ``grid_size`` S, ``image_size`` H.
    """

    def __init__(self, num_classes: int = 3, in_channels: int = 1, image_size: int = 32,
                 channels=(16, 32, 64), anchor_size: float | None = None):
        super().__init__()
        self.num_classes = check_int("TinyDetector", "num_classes", num_classes, 1)
        self.in_channels = check_int("TinyDetector", "in_channels", in_channels, 1)
        self.image_size = check_int("TinyDetector", "image_size", image_size, 2)
        if image_size % 2 ** len(channels):
            raise ValueError(f"TinyDetector: image_size must be divisible by 2**len(channels) = "
                             f"{2 ** len(channels)}; got {image_size}")
        self.grid_size = image_size // 2 ** len(channels)
        if anchor_size is not None:
            check_positive("TinyDetector", "anchor_size", anchor_size)
        layers, c_in = [], in_channels
        for i, c_out in enumerate(channels):
            check_int("TinyDetector", f"channels[{i}]", c_out, 1)
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            c_in = c_out
        self.backbone = nn.Sequential(*layers)
        self.head = nn.Conv2d(c_in, 5 + num_classes, 1)
        with torch.no_grad():  # prior init (RetinaNet): objectness starts at sigmoid(-2) ~ 0.12, not 0.5
            self.head.bias[0] = -2.0
        anchor = anchor_size if anchor_size is not None else image_size / self.grid_size
        self.register_buffer("anchors", grid_anchors(image_size, self.grid_size, anchor))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        size = self.image_size
        check_shape("TinyDetector", "images", images, (None, self.in_channels, size, size))
        out = self.head(self.backbone(images))  # (N, 5 + K, S, S)
        return out.flatten(2).transpose(1, 2)  # (N, S*S, 5 + K)


def detector_loss(outputs, targets, anchors, *, box_weight: float = 1.0) -> torch.Tensor:
    r"""Training loss of :class:`TinyDetector`: objectness + class + box terms.

    .. math::
        L = \underbrace{\mathrm{BCE}(o, \mathbb 1_{\text{object}})}_{\text{all cells}}
          + \underbrace{\mathrm{CE}(\text{class logits}, k)
          + \lambda_{box}\,\mathrm{SmoothL1}_{\beta=1/9}(d, \mathrm{encode}(b, a))}_{
            \text{cells responsible for an object}}

    Args:
        outputs: (N, S*S, 5 + K) from the model. anchors: (S*S, 4), the model's ``anchors``.
        targets: (N, 5) or (N, M, 5) rows ``[class, x_min, y_min, x_max, y_max]`` as
            :func:`companion.synthetic.shapes_with_boxes` gives them; rows with class -1 are padding.
    Returns: the scalar loss (each term a mean). Two objects in one cell share its prediction.
    """
    check_tensor("detector_loss", "outputs", outputs)
    check_ndim("detector_loss", "outputs", outputs, 3, "(N, S*S, 5 + K)")
    check_tensor("detector_loss", "targets", targets)
    check_ndim("detector_loss", "targets", targets, (2, 3), "(N, 5) or (N, M, 5)")
    check_same_length("detector_loss", outputs=outputs, targets=targets)
    if outputs.shape[1] != len(anchors):
        raise ValueError(f"detector_loss: outputs must have one row per anchor ({len(anchors)}); "
                         f"got shape {tuple(outputs.shape)}")
    t = targets.reshape(len(targets), -1, 5)  # (N, M, 5)
    n, m = (t[..., 0] >= 0).nonzero(as_tuple=True)  # one pair (image, object) per real object
    labels, boxes = t[n, m, 0].long(), t[n, m, 1:]  # (P,), (P, 4)
    _check_boxes("detector_loss", "target boxes", boxes, strict=True)
    # the responsible cell holds the box centre: its anchor's centre is the nearest (first on ties)
    centres, anchor_centres = (boxes[:, :2] + boxes[:, 2:]) / 2, (anchors[:, :2] + anchors[:, 2:]) / 2
    k = ((centres[:, None] - anchor_centres[None]) ** 2).sum(-1).argmin(1)  # (P,)
    objectness = torch.zeros_like(outputs[..., 0])  # (N, S*S)
    objectness[n, k] = 1.0
    loss = F.binary_cross_entropy_with_logits(outputs[..., 0], objectness)
    if len(k):
        pred = outputs[n, k]  # (P, 5 + K)
        loss = loss + F.cross_entropy(pred[:, 5:], labels)
        # smooth L1 with Faster R-CNN's beta = 1/9: nearly L1, so small offsets still get pulled in
        target = encode_boxes(boxes, anchors[k])  # (P, 4)
        box_loss = F.smooth_l1_loss(pred[:, 1:5], target, reduction="none", beta=1 / 9)
        loss = loss + box_weight * box_loss.sum(1).mean()
    return loss


def detect(model: TinyDetector, images, score_threshold: float = 0.5, iou_threshold: float = 0.5):
    r"""Boxes found by ``model`` in each image: threshold the objectness, decode, clip, then NMS.

    Score = :math:`\sigma(\text{objectness})`; label = arg-max class; boxes are clipped to the
    image, then class-agnostic :func:`nms` removes duplicates. The model runs in eval mode without
    gradients, and its training mode is restored afterwards.

    Returns: a list with one ``(boxes (D, 4), scores (D,), labels (D,) int64)`` per image.
    """
    check_probability("detect", "score_threshold", score_threshold)
    check_probability("detect", "iou_threshold", iou_threshold)
    check_type("detect", "model", model, TinyDetector, "a TinyDetector")
    was_training = model.training
    model.eval()
    with torch.no_grad():
        out = model(images)  # (N, S*S, 5 + K)
    model.train(was_training)
    N, cells = out.shape[:2]
    scores = torch.sigmoid(out[..., 0])  # (N, S*S)
    boxes = decode_boxes(out[..., 1:5].reshape(-1, 4), model.anchors.repeat(N, 1)).reshape(N, cells, 4)
    boxes = boxes.clamp(0, model.image_size)  # inside the image
    labels = out[..., 5:].argmax(-1)  # (N, S*S)
    results = []
    for i in range(N):
        sure = scores[i] >= score_threshold
        b, s, lab = boxes[i][sure], scores[i][sure], labels[i][sure]
        keep = nms(b, s, iou_threshold)
        results.append((b[keep], s[keep], lab[keep]))
    return results
