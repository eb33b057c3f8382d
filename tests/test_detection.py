"""Tests for companion.detection: IoU against a brute-force pixel count, NMS against a brute-force
greedy loop, box encoding round trips, the tiny detector (shapes, loss, assignment, detect), and
every validation message.

Tolerances (STYLE.md): float64 rtol=1e-6 with atol=1e-12; float32 rtol=1e-4, atol=1e-5.
NMS tie convention: equal scores are visited in index order (a stable sort), earlier index first.
"""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from companion import detection as D
from companion import vision
from torch_helpers import F64, TOL32, close

HYP = settings(max_examples=30, deadline=None)


def test_vision_re_exports_the_detection_names():
    for name in D.__all__:
        assert getattr(vision, name) is getattr(D, name)
        assert name in vision.__all__


# ================================================================ boxes and IoU

def mask_iou(a, b, size=12):
    """IoU of two integer boxes by counting the pixels of their masks."""
    ma, mb = np.zeros((size, size), bool), np.zeros((size, size), bool)
    ma[a[1]:a[3], a[0]:a[2]] = True
    mb[b[1]:b[3], b[0]:b[2]] = True
    union = (ma | mb).sum()
    return (ma & mb).sum() / union if union else 0.0


int_box = st.tuples(st.integers(0, 11), st.integers(0, 11), st.integers(0, 11), st.integers(0, 11)).map(
    lambda t: (min(t[0], t[2]), min(t[1], t[3]), max(t[0], t[2]), max(t[1], t[3])))


@HYP
@given(st.lists(int_box, min_size=1, max_size=5), st.lists(int_box, min_size=1, max_size=5))
def test_iou_equals_the_pixel_count_and_is_symmetric(boxes_a, boxes_b):
    a, b = torch.tensor(boxes_a, dtype=F64), torch.tensor(boxes_b, dtype=F64)
    ours = D.iou(a, b)
    ref = torch.tensor([[mask_iou(p, q) for q in boxes_b] for p in boxes_a], dtype=F64)
    close(ours, ref)
    close(D.iou(b, a), ours.T)
    assert ours.min() >= 0 and ours.max() <= 1


def test_iou_hand_example_identity_and_disjoint():
    a = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    b = torch.tensor([[1.0, 1.0, 3.0, 3.0], [0.0, 0.0, 2.0, 2.0], [2.0, 0.0, 4.0, 2.0], [5.0, 5.0, 6.0, 9.0]])
    # overlap 1x1 = 1, union 4 + 4 - 1 = 7; itself: 1; touching edge: 0; far away: 0
    close(D.iou(a, b), torch.tensor([[1 / 7, 1.0, 0.0, 0.0]]), TOL32)
    close(D.box_area(b), torch.tensor([4.0, 4.0, 4.0, 4.0]), TOL32)
    empty = torch.tensor([[1.0, 1.0, 1.0, 1.0]])
    assert D.iou(empty, empty).item() == 0.0  # 0 / 0 is defined as 0 here (torchvision: NaN)


float_box = st.tuples(st.floats(0, 50), st.floats(0, 50), st.floats(0.5, 30), st.floats(0.5, 30)).map(
    lambda t: (t[0], t[1], t[0] + t[2], t[1] + t[3]))


@HYP
@given(float_box, st.floats(0, 40), st.floats(0, 40))
def test_iou_of_a_box_with_itself_is_1_and_with_a_disjoint_box_0(box, gap_x, gap_y):
    a = torch.tensor([box], dtype=F64)
    close(D.iou(a, a), torch.ones(1, 1, dtype=F64))
    w = box[2] - box[0]
    right = torch.tensor([[box[2] + gap_x, box[1] + gap_y, box[2] + gap_x + w, box[3] + gap_y]], dtype=F64)
    assert D.iou(a, right).item() == 0.0


# ================================================================ NMS

def py_iou(a, b):
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union > 0 else 0.0


def greedy_nms(boxes, scores, threshold):
    """The definition, by brute force: by decreasing score (ties: earlier index first), keep a box
    unless it overlaps an already kept box by IoU > threshold."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    kept = []
    for i in order:
        if all(py_iou(boxes[i], boxes[j]) <= threshold for j in kept):
            kept.append(i)
    return kept


@HYP
@given(st.lists(st.tuples(float_box, st.sampled_from([0.1, 0.5, 0.5, 0.7, 0.9])), max_size=12),
       st.sampled_from([0.0, 0.3, 0.5, 0.7, 1.0]))
def test_nms_equals_the_brute_force_greedy_loop_including_ties(items, threshold):
    boxes = [b for b, _ in items]
    scores = [s for _, s in items]  # repeated values: ties are common
    b = torch.tensor(boxes, dtype=F64).reshape(-1, 4)
    kept = D.nms(b, torch.tensor(scores, dtype=F64), threshold)
    assert kept.dtype == torch.int64
    assert kept.tolist() == greedy_nms(boxes, scores, threshold)


def test_nms_hand_example():
    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10.0]])
    scores = torch.tensor([0.8, 0.9, 0.5, 0.8])
    # box 1 wins, suppresses 0 and 3 (IoU 81/119 = 0.68); box 2 is far away
    assert D.nms(boxes, scores, 0.5).tolist() == [1, 2]
    assert D.nms(boxes, scores, 0.7).tolist() == [1, 0, 2]  # 0 and 3 tie: 0 first, then 3 is its copy
    assert D.nms(boxes, scores, 1.0).tolist() == [1, 0, 3, 2]  # IoU > 1 never: nothing suppressed
    assert D.nms(torch.zeros(0, 4), torch.zeros(0), 0.5).tolist() == []


# ================================================================ box encoding

@HYP
@given(st.lists(st.tuples(float_box, float_box), min_size=1, max_size=6))
def test_encode_decode_round_trip(pairs):
    boxes = torch.tensor([b for b, _ in pairs], dtype=F64)
    anchors = torch.tensor([a for _, a in pairs], dtype=F64)
    deltas = D.encode_boxes(boxes, anchors)
    close(D.decode_boxes(deltas, anchors), boxes, dict(rtol=1e-6, atol=1e-9))
    close(D.encode_boxes(D.decode_boxes(deltas, anchors), anchors), deltas, dict(rtol=1e-6, atol=1e-9))


def test_encoding_hand_example_and_clamp():
    anchor = torch.tensor([[0.0, 0.0, 8.0, 8.0]])  # centre (4, 4), size 8
    box = torch.tensor([[2.0, 4.0, 18.0, 8.0]])  # centre (10, 6), size 16 x 4
    close(D.encode_boxes(box, anchor), torch.tensor([[6 / 8, 2 / 8, math.log(2), math.log(0.5)]]), TOL32)
    huge = D.decode_boxes(torch.tensor([[0.0, 0.0, 100.0, 100.0]]), anchor)
    assert torch.isfinite(huge).all()
    close(huge[:, 2] - huge[:, 0], 8 * torch.tensor([1000 / 16]), TOL32)  # d_w clamped at log(1000/16)


# ================================================================ the detector

def shapes_batch():
    targets = torch.tensor([[[0, 2, 3, 8, 9], [1, 20, 20, 27, 27], [-1, -1, -1, -1, -1]],
                            [[2, 12, 0, 18, 6], [-1, -1, -1, -1, -1], [-1, -1, -1, -1, -1]]], dtype=torch.float32)
    x = torch.zeros(2, 1, 32, 32)
    for n, rows in enumerate(targets):
        for c, x0, y0, x1, y1 in rows.tolist():
            if c >= 0:
                x[n, 0, int(y0):int(y1), int(x0):int(x1)] = 0.5 + 0.2 * c
    return x, targets


def test_grid_anchors_and_forward_shapes():
    anchors = D.grid_anchors(32, 4, 8.0)
    assert anchors.shape == (16, 4)
    close(anchors[5], torch.tensor([8.0, 8.0, 16.0, 16.0]), TOL32)  # cell (1, 1)
    torch.manual_seed(0)
    model = D.TinyDetector(num_classes=3)
    assert model.grid_size == 4 and torch.equal(model.anchors, anchors)
    assert model(torch.zeros(5, 1, 32, 32)).shape == (5, 16, 8)
    assert D.TinyDetector(num_classes=2, image_size=64, channels=(8, 8)).forward(torch.zeros(1, 1, 64, 64)).shape == (1, 256, 7)


def test_detector_loss_is_finite_and_falls_on_a_tiny_batch():
    torch.manual_seed(0)
    model = D.TinyDetector()
    x, targets = shapes_batch()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(15):
        optimizer.zero_grad()
        loss = D.detector_loss(model(x), targets, model.anchors)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert all(math.isfinite(v) for v in losses) and losses[-1] < 0.5 * losses[0]
    # (N, 5) targets (one object each) and images without any object work too
    single = D.detector_loss(model(x), targets[:, 0], model.anchors)
    nothing = D.detector_loss(model(x), torch.full((2, 5), -1.0), model.anchors)
    assert math.isfinite(single.item()) and math.isfinite(nothing.item())


def test_detector_loss_assigns_each_object_to_the_cell_holding_its_centre():
    # an output that is right everywhere: objectness +-20 logits, exact offsets, the true class
    anchors = D.grid_anchors(32, 4, 8.0)
    target = torch.tensor([[[1, 9, 17, 15, 23]]], dtype=torch.float32)  # centre (12, 20): cell (2, 1) = 9
    out = torch.zeros(1, 16, 8)
    out[0, :, 0] = -20.0
    out[0, 9, 0], out[0, 9, 6] = 20.0, 20.0
    out[0, 9, 1:5] = D.encode_boxes(target[0, :, 1:], anchors[9:10])[0]
    assert D.detector_loss(out, target, anchors).item() < 1e-6


def test_detect_returns_boxes_inside_the_image_sorted_by_score():
    torch.manual_seed(0)
    model = D.TinyDetector()
    with torch.no_grad():
        model.head.bias[0] = 5.0  # every cell confident: many boxes, some outside the image
        model.head.bias[3:5] = 1.5
    model.train()
    x, _ = shapes_batch()
    results = D.detect(model, x, score_threshold=0.5, iou_threshold=0.3)
    assert model.training and len(results) == 2
    for boxes, scores, labels in results:
        assert len(boxes) >= 1 and boxes.shape[1] == 4
        assert boxes.min() >= 0 and boxes.max() <= 32
        assert (scores >= 0.5).all() and torch.equal(scores, scores.sort(descending=True).values)
        assert labels.dtype == torch.int64 and labels.min() >= 0 and labels.max() < 3
        assert (D.iou(boxes, boxes) - torch.eye(len(boxes))).max() <= 0.3  # NMS: no pair overlaps more
    assert all(len(b) == 0 for b, _, _ in D.detect(model, x, score_threshold=1.0))


# ================================================================ bad input

def test_box_errors():
    good = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    flipped = torch.tensor([[0.0, 0.0, 2.0, 2.0], [3.0, 0.0, 1.0, 2.0]])
    with pytest.raises(ValueError, match=r"iou: boxes_b must have x_min <= x_max and y_min <= y_max; got \[3.0, 0.0, 1.0, 2.0\] in row 1"):
        D.iou(good, flipped)
    with pytest.raises(ValueError, match=r"box_area: boxes must have shape \(\*, 4\); got \(4,\)"):
        D.box_area(good[0])
    with pytest.raises(ValueError, match=r"nms: arrays must have the same length; got boxes has 1, scores has 2"):
        D.nms(good, torch.tensor([0.5, 0.4]), 0.5)
    with pytest.raises(ValueError, match=r"nms: iou_threshold must be in \[0, 1\]; got 1.5"):
        D.nms(good, torch.tensor([0.5]), 1.5)
    with pytest.raises(ValueError, match=r"nms: scores must have 1 dimensions \(B,\); got shape \(1, 1\)"):
        D.nms(good, torch.tensor([[0.5]]), 0.5)
    with pytest.raises(ValueError, match=r"encode_boxes: boxes must have x_min < x_max and y_min < y_max; got \[1.0, 1.0, 1.0, 3.0\] in row 0"):
        D.encode_boxes(torch.tensor([[1.0, 1.0, 1.0, 3.0]]), good)
    with pytest.raises(ValueError, match="encode_boxes: arrays must have the same length; got boxes has 1, anchors has 2"):
        D.encode_boxes(good, torch.cat([good, good]))
    with pytest.raises(ValueError, match=r"decode_boxes: deltas must have shape \(\*, 4\); got \(1, 3\)"):
        D.decode_boxes(torch.zeros(1, 3), good)


def test_detector_errors():
    model = D.TinyDetector()
    with pytest.raises(ValueError, match=r"TinyDetector: images must have shape \(\*, 1, 32, 32\); got \(2, 1, 28, 28\)"):
        model(torch.zeros(2, 1, 28, 28))
    with pytest.raises(ValueError, match="TinyDetector: image_size must be divisible by 2\\*\\*len\\(channels\\) = 8; got 36"):
        D.TinyDetector(image_size=36)
    with pytest.raises(ValueError, match="TinyDetector: num_classes must be an integer >= 1; got 0"):
        D.TinyDetector(num_classes=0)
    with pytest.raises(ValueError, match="TinyDetector: anchor_size must be finite and > 0; got -8"):
        D.TinyDetector(anchor_size=-8)
    with pytest.raises(ValueError, match=r"TinyDetector: channels\[1\] must be an integer >= 1; got 0"):
        D.TinyDetector(channels=(8, 0, 8))
    out = torch.zeros(2, 16, 8)
    with pytest.raises(ValueError, match=r"detector_loss: targets must have 2 or 3 dimensions \(N, 5\) or \(N, M, 5\); got shape \(5,\)"):
        D.detector_loss(out, torch.zeros(5), model.anchors)
    with pytest.raises(ValueError, match="detector_loss: arrays must have the same length; got outputs has 2, targets has 3"):
        D.detector_loss(out, torch.zeros(3, 5), model.anchors)
    with pytest.raises(ValueError, match=r"detector_loss: outputs must have one row per anchor \(16\); got shape \(2, 9, 8\)"):
        D.detector_loss(torch.zeros(2, 9, 8), torch.zeros(2, 5), model.anchors)
    with pytest.raises(ValueError, match="detector_loss: target boxes must have x_min < x_max and y_min < y_max"):
        D.detector_loss(out, torch.tensor([[0, 5, 5, 2, 9.0], [0, 1, 1, 3, 3]]), model.anchors)
    x = torch.zeros(1, 1, 32, 32)
    with pytest.raises(ValueError, match=r"detect: score_threshold must be in \[0, 1\]; got -0.1"):
        D.detect(model, x, score_threshold=-0.1)
    with pytest.raises(ValueError, match=r"detect: iou_threshold must be in \[0, 1\]; got 2"):
        D.detect(model, x, iou_threshold=2)
    with pytest.raises(TypeError, match="detect: model must be a TinyDetector; got Linear"):
        D.detect(torch.nn.Linear(2, 2), x)
