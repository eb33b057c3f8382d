"""Tests for companion.explain: LIME adapters and wrappers, gradient attributions (companion.attribution,
re-exported by explain and tested here through it, sharing these fixtures), global views, faithfulness.

References: torch.softmax for the adapters; closed forms for a linear model (saliency = |w|,
integrated gradients = (x - x') * w); a hand computation of Grad-CAM on a tiny CNN;
sklearn.inspection.permutation_importance called directly; accuracy_score for fidelity.
Tolerances: float32 rtol=1e-4, atol=1e-5 (per STYLE.md); float64 rtol=1e-6 unless said.
"""
import functools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.inspection import permutation_importance as sk_permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from torch import nn

from companion import attribution
from companion import explain as E


def _mlp(d=5, k=3, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, 8), nn.Tanh(), nn.Linear(8, k))


def _linear(d=6, k=2, seed=0):
    torch.manual_seed(seed)
    return nn.Linear(d, k)


class _TinyCNN(nn.Module):
    """conv(1->2, 3x3, stride 2, pad 1) -> ReLU -> global mean -> linear(2->3); in_channels = 1."""

    in_channels = 1

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = nn.Conv2d(1, 2, 3, stride=2, padding=1)
        self.fc = nn.Linear(2, 3)

    def forward(self, x):
        return self.fc(F.relu(self.conv(x)).mean(dim=(2, 3)))


# ------------------------------------------------------------------------------- predict adapters

def test_tabular_predict_fn_is_softmax_of_logits_and_restores_mode():
    model = _mlp().train()
    X = np.random.default_rng(0).normal(size=(7, 5))
    X_before = X.copy()
    P = E.tabular_predict_fn(model)(X)
    with torch.no_grad():
        expected = torch.softmax(model(torch.tensor(X, dtype=torch.float32)), dim=1).double()
    assert P.shape == (7, 3) and P.dtype == np.float64
    np.testing.assert_allclose(P, expected.numpy(), rtol=1e-4, atol=1e-5)  # float32 logits
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    assert model.training and np.array_equal(X, X_before)


def test_tabular_predict_fn_one_logit_and_scaler():
    model = _linear(d=4, k=1)
    X = np.random.default_rng(1).normal(size=(5, 4)) * 10 + 3
    mean, std = X.mean(axis=0), X.std(axis=0)
    P = E.tabular_predict_fn(model, scaler=lambda A: (A - mean) / std)(X)
    with torch.no_grad():
        p = torch.sigmoid(model(torch.tensor((X - mean) / std, dtype=torch.float32)))[:, 0]
    np.testing.assert_allclose(P[:, 1], p.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(P[:, 0], 1 - p.numpy(), rtol=1e-4, atol=1e-5)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 6), st.floats(-1e4, 1e4))
def test_tabular_predict_fn_rows_sum_to_one(n, scale):
    X = np.random.default_rng(n).normal(size=(n, 5)) * scale
    P = E.tabular_predict_fn(_mlp())(X)
    assert P.shape == (n, 3) and np.all(np.isfinite(P)) and np.all(P >= 0)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)


def _bag_of_words(vocab):
    def encode(texts):
        out = torch.zeros(len(texts), len(vocab))
        for n, text in enumerate(texts):
            for word in text.split():
                if word in vocab:
                    out[n, vocab[word]] += 1
        return out
    return encode


VOCAB = {w: i for i, w in enumerate("good bad movie great awful the plot".split())}


def _sentiment_model():
    model = nn.Linear(len(VOCAB), 2, bias=False)
    with torch.no_grad():
        model.weight.zero_()
        model.weight[1, VOCAB["great"]] = 3.0   # class 1 (positive) is driven by "great"
        model.weight[1, VOCAB["bad"]] = -1.0
    return model


def test_text_predict_fn_shapes_and_probabilities():
    fn = E.text_predict_fn(_sentiment_model(), _bag_of_words(VOCAB))
    P = fn(["a great movie", "bad plot", ""])
    assert P.shape == (3, 2)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(P[2], [0.5, 0.5], rtol=1e-12)
    assert P[0, 1] > 0.9 > 0.5 > P[1, 1]


def test_image_predict_fn_converts_rgb_to_grey_and_layout():
    model = _TinyCNN()
    grey = np.random.default_rng(2).uniform(size=(4, 6, 6)).astype(np.float32)
    rgb = np.repeat(grey[..., None], 3, axis=-1)              # as lime passes it: (n, H, W, 3)
    P = E.image_predict_fn(model)(rgb)
    with torch.no_grad():
        expected = torch.softmax(model(torch.tensor(grey)[:, None]), dim=1).double().numpy()
    np.testing.assert_allclose(P, expected, rtol=1e-4, atol=1e-5)
    # channels_last model: a permute in front of the same network
    last = nn.Sequential(_Permute(), _TinyCNN())
    P_last = E.image_predict_fn(last, channels_first=False, in_channels=1)(rgb)
    np.testing.assert_allclose(P_last, expected, rtol=1e-4, atol=1e-5)


def test_image_predict_fn_dtype_keyword():
    model = _TinyCNN().double()
    grey = np.random.default_rng(3).uniform(size=(3, 6, 6))
    rgb = np.repeat(grey[..., None], 3, axis=-1)
    P = E.image_predict_fn(model, dtype=torch.float64)(rgb)  # a float64 model gets float64 images
    with torch.no_grad():
        expected = torch.softmax(model(torch.tensor(grey)[:, None]), dim=1).numpy()
    np.testing.assert_allclose(P, expected, rtol=1e-12, atol=1e-15)
    with pytest.raises(TypeError, match=r"^image_predict_fn: dtype must be torch.float16, torch.float32 "
                                        r"or torch.float64; got torch.int64$"):
        E.image_predict_fn(model, dtype=torch.int64)


class _Permute(nn.Module):
    def forward(self, x):
        return x.permute(0, 3, 1, 2)


def test_grid_segments():
    seg = E.grid_segments(np.zeros((5, 6)), 2)
    assert seg.shape == (5, 6)
    assert seg[0, 0] == seg[1, 1] == 0 and seg[0, 2] == 1 and seg[2, 0] == 3 and seg[4, 5] == 8
    assert np.array_equal(np.unique(seg), np.arange(9))
    assert np.array_equal(E.grid_segments(np.zeros((4, 4, 3)), 4), np.zeros((4, 4), int))


# --------------------------------------------------------------------------------- LIME wrappers

def _tabular_setup():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    model = nn.Linear(4, 1)
    with torch.no_grad():                                     # class 1 depends on feature 2 only
        model.weight.copy_(torch.tensor([[0.0, 0.0, 4.0, 0.0]]))
        model.bias.zero_()
    return E.tabular_predict_fn(model), X


def test_lime_tabular_reproducible_and_finds_the_feature():
    fn, X = _tabular_setup()
    pairs, exp = E.lime_tabular(fn, X, X[0], num_features=4, num_samples=300)
    again, _ = E.lime_tabular(fn, X, X[0], num_features=4, num_samples=300)
    other, _ = E.lime_tabular(fn, X, X[0], num_features=4, num_samples=300, random_state=1)
    assert pairs == again and pairs != other
    assert pairs[0][0] == 2 and abs(pairs[0][1]) > 5 * abs(pairs[1][1])
    assert sorted(i for i, _ in pairs) == [0, 1, 2, 3]
    np.testing.assert_allclose(exp.predict_proba, fn(X[:1])[0], rtol=1e-12)
    dense = E.lime_weights(exp, 4)
    assert dense.shape == (4,) and dense[2] == pairs[0][1]


def test_lime_text_reproducible_and_finds_the_word():
    fn = E.text_predict_fn(_sentiment_model(), _bag_of_words(VOCAB))
    text = "the plot was great but the movie was long"
    pairs, _ = E.lime_text(fn, text, num_features=3, num_samples=300)
    again, _ = E.lime_text(fn, text, num_features=3, num_samples=300)
    assert pairs == again and pairs[0][0] == "great" and pairs[0][1] > 0
    assert all(isinstance(w, str) for w, _ in pairs) and len(pairs) == 3


class _CornerModel(nn.Module):
    """Two logits; class 1's logit is 20 x (mean of the top-left 2x2 block - 0.5)."""

    in_channels = 1

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(20.0))

    def forward(self, x):
        z = self.scale * (x[:, 0, :2, :2].mean(dim=(1, 2)) - 0.5)
        return torch.stack([torch.zeros_like(z), z], dim=1)


def test_lime_image_reproducible_grid_and_top_segment():
    image = np.zeros((6, 6))
    image[:2, :2] = 1.0
    fn = E.image_predict_fn(_CornerModel())
    seg = functools.partial(E.grid_segments, size=2)
    kw = dict(segmentation_fn=seg, num_samples=200, hide_color=0.0)
    weights, exp = E.lime_image(fn, image, num_features=3, **kw)
    again, _ = E.lime_image(fn, image, num_features=3, **kw)
    assert weights.shape == (6, 6) and np.array_equal(weights, again)
    assert exp.label == 1 and exp.local_exp[1][0][0] == 0       # top segment: the corner block
    assert np.all(weights[:2, :2] == weights.max()) and weights.max() > 0
    assert np.array_equal(exp.segments, seg(image))
    w0, exp0 = E.lime_image(fn, image, label=0, **kw)
    assert exp0.label == 0 and w0[0, 0] < 0
    # lime's default hides a superpixel by its mean colour: a uniform block then changes nothing
    flat, _ = E.lime_image(fn, image, segmentation_fn=seg, num_samples=200)
    assert np.abs(flat).max() < 1e-12


def test_lime_weights_needs_label_when_ambiguous():
    class Fake:
        local_exp = {0: [(1, 0.5)], 1: [(0, -0.2)]}
    np.testing.assert_array_equal(E.lime_weights(Fake(), 3, label=1), [-0.2, 0.0, 0.0])
    with pytest.raises(ValueError, match=r"lime_weights: label is needed"):
        E.lime_weights(Fake(), 3)


# ------------------------------------------------------------------------- gradient attributions

def test_explain_re_exports_the_attribution_names():
    for name in attribution.__all__:
        assert getattr(E, name) is getattr(attribution, name) and name in E.__all__


def test_saliency_of_linear_model_is_abs_weight():
    model = _linear(d=6, k=3).double()
    x = torch.randn(4, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    target = torch.tensor([0, 2, 1, 2])
    s = E.saliency(model, x, target)
    expected = model.weight.detach()[target].abs()
    torch.testing.assert_close(s, expected, rtol=1e-6, atol=0)
    assert model.weight.grad is None                           # only the input is differentiated


def test_integrated_gradients_linear_closed_form():
    model = _linear(d=6, k=3).double()
    g = torch.Generator().manual_seed(1)
    x, x0 = torch.randn(5, 6, dtype=torch.float64, generator=g), torch.randn(6, dtype=torch.float64,
                                                                             generator=g)
    ig = E.integrated_gradients(model, x, 2, baseline=x0, steps=3)
    torch.testing.assert_close(ig, (x - x0) * model.weight.detach()[2], rtol=1e-6, atol=1e-12)
    gap = E.completeness_gap(model, x, 2, ig, baseline=x0)
    torch.testing.assert_close(gap, torch.zeros(5, dtype=torch.float64), rtol=0, atol=1e-12)


def test_integrated_gradients_completeness_on_mlp_improves_with_steps():
    model = _mlp(d=5, k=3).double()
    x = torch.randn(6, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(2)) * 2
    gaps = [E.completeness_gap(model, x, 1, E.integrated_gradients(model, x, 1, steps=m))
            .abs().max() for m in (4, 64)]
    assert gaps[1] < 1e-3 and gaps[1] < gaps[0]


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 4), st.integers(0, 1))
def test_integrated_gradients_shape_and_input_unchanged(n, target):
    model = _TinyCNN()
    x = torch.rand(n, 1, 6, 6, generator=torch.Generator().manual_seed(n))
    before = x.clone()
    ig = E.integrated_gradients(model, x, target, steps=8)
    assert ig.shape == x.shape and ig.dtype == x.dtype and torch.equal(x, before)


def test_grad_cam_matches_hand_computation_and_removes_hook():
    model = _TinyCNN()
    x = torch.randn(3, 1, 8, 8, generator=torch.Generator().manual_seed(3))
    cam = E.grad_cam(model, model.conv, x, 2)
    # by hand: S = sum_c w_c mean_ij ReLU(A_cij), so dS/dA_cij = w_c [A_cij > 0] / (h w)
    with torch.no_grad():
        A = model.conv(x)                                       # (3, 2, 4, 4)
        dA = model.fc.weight[2][None, :, None, None] * (A > 0) / (4 * 4)
        L = F.relu((dA.mean(dim=(2, 3), keepdim=True) * A).sum(dim=1, keepdim=True))
        L = F.interpolate(L, size=(8, 8), mode="bilinear", align_corners=False)[:, 0]
        top = L.amax(dim=(1, 2), keepdim=True)
        expected = torch.where(top > 0, L / top, 0.0)           # an all-zero map stays 0
    assert cam.shape == (3, 8, 8) and bool(torch.all(top > 0))
    torch.testing.assert_close(cam, expected, rtol=1e-4, atol=1e-5)
    assert float(cam.min()) >= 0 and float(cam.max()) == 1.0
    assert not model.conv._forward_hooks and not model.conv._backward_hooks
    # inputs in [0, 1] switch this CNN's evidence off for two of three images: maps stay 0
    bright = torch.rand(3, 1, 8, 8, generator=torch.Generator().manual_seed(3))
    dark = E.grad_cam(model, model.conv, bright, 2)
    assert torch.equal(dark.amax(dim=(1, 2)), torch.tensor([1.0, 0.0, 0.0]))


# ------------------------------------------------------------------------------ global views

def _logistic():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] - 0.5 * X[:, 2] + 0.3 * rng.normal(size=120) > 0).astype(int)
    return LogisticRegression().fit(X, y), X, y


@pytest.mark.parametrize("scoring", ["accuracy", "roc_auc"])
def test_permutation_importance_matches_sklearn(scoring):
    lr, X, y = _logistic()
    mean, std = E.permutation_importance(lr.predict_proba, X, y, scoring=scoring, n_repeats=5)
    ref = sk_permutation_importance(lr, X, y, scoring=scoring, n_repeats=5, random_state=0)
    np.testing.assert_allclose(mean, ref.importances_mean, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(std, ref.importances_std, rtol=1e-6, atol=1e-12)
    assert mean.shape == (4,) and np.argmax(mean) == 0


def test_surrogate_tree_fidelity_is_agreement_with_model():
    model_fn = E.tabular_predict_fn(_mlp(d=5, k=3))
    X = np.random.default_rng(4).normal(size=(150, 5))
    tree, fidelity = E.surrogate_tree(model_fn, X, max_depth=2)
    expected = accuracy_score(model_fn(X).argmax(axis=1), tree.predict(X))
    assert fidelity == expected and tree.get_depth() <= 2
    deeper = E.surrogate_tree(model_fn, X, max_depth=6)[1]
    assert deeper >= fidelity


# ----------------------------------------------------------------------------- faithfulness

def test_deletion_curve_exact_attributions_fall_fastest():
    rng = np.random.default_rng(5)
    w, x = rng.normal(size=12), rng.normal(size=12)
    score_fn = lambda batch: batch @ w                       # noqa: E731  (n, 12) -> (n,)
    exact = x * w                                             # IG with baseline 0, exact here
    f, s = E.deletion_curve(score_fn, x, exact)
    assert f.shape == s.shape == (13,) and f[0] == 0 and f[-1] == 1
    np.testing.assert_allclose(s[[0, -1]], [x @ w, 0.0], rtol=1e-12, atol=1e-12)
    # step k removes the k-th largest term x_i w_i of the score
    np.testing.assert_allclose(np.diff(s), -np.sort(exact)[::-1], rtol=1e-12, atol=1e-12)
    best = E.area_under_deletion(f, s)
    for _ in range(5):  # the k largest terms are the most any k deletions can remove
        other = E.deletion_curve(score_fn, x, rng.permutation(exact))[1]
        assert np.all(s <= other + 1e-12) and best <= E.area_under_deletion(f, other) + 1e-12
    assert best < E.area_under_deletion(*E.deletion_curve(score_fn, x, -exact))


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 10), st.integers(1, 12), st.floats(-2, 2))
def test_deletion_curve_properties(steps, d, baseline):
    x = np.random.default_rng(d).normal(size=(d,))
    before = x.copy()
    f, s = E.deletion_curve(lambda b: b.sum(axis=1), x, np.ones(d), baseline=baseline, steps=steps)
    assert f.shape == s.shape == (steps + 1,) and np.all(np.diff(f) >= 0)
    np.testing.assert_allclose(s[-1], d * baseline, rtol=1e-12, atol=1e-12)
    assert np.array_equal(x, before)


def test_deletion_curve_images_and_area():
    x = np.arange(4.0).reshape(2, 2)
    f, s = E.deletion_curve(lambda b: b.reshape(len(b), -1).sum(axis=1), x, x, steps=2)
    np.testing.assert_array_equal(f, [0, 0.5, 1])
    np.testing.assert_array_equal(s, [6, 1, 0])                 # deletes 3 and 2, then 1 and 0
    assert E.area_under_deletion(f, s) == pytest.approx(0.5 * (6 + 1) / 2 + 0.5 * (1 + 0) / 2)


# ------------------------------------------------------------------------------- bad input

def test_bad_inputs():
    model, cnn = _mlp(), _TinyCNN()
    fn = E.tabular_predict_fn(model)
    X = np.zeros((10, 5))
    cases = [
        (TypeError, r"tabular_predict_fn: model must be a torch.nn.Module; got str",
         lambda: E.tabular_predict_fn("m")),
        (TypeError, r"tabular_predict_fn: scaler must have a transform method",
         lambda: E.tabular_predict_fn(model, scaler=3)),
        (ValueError, r"tabular_predict_fn: X must have 2 dimensions \(n, D\); got shape \(5,\)",
         lambda: fn(np.zeros(5))),
        (TypeError, r"text_predict_fn: encode must be callable; got int",
         lambda: E.text_predict_fn(model, 3)),
        (TypeError, r"text_predict_fn: expected a list of strings; got one str",
         lambda: E.text_predict_fn(model, str.split)("a text")),
        (TypeError, r"text_predict_fn: encode\(texts\) must be a torch.Tensor; got list",
         lambda: E.text_predict_fn(model, lambda t: t)(["a"])),
        (ValueError, r"image_predict_fn: in_channels must be 1 or 3; got 2",
         lambda: E.image_predict_fn(model, in_channels=2)),
        (ValueError, r"image_predict_fn: images must have shape \(n, H, W, 3\); got \(2, 4, 4\)",
         lambda: E.image_predict_fn(_TinyCNN())(np.zeros((2, 4, 4)))),
        (ValueError, r"grid_segments: image must have 2 or 3 dimensions",
         lambda: E.grid_segments(np.zeros(4), 2)),
        (ValueError, r"grid_segments: size must be an integer >= 1; got 0",
         lambda: E.grid_segments(np.zeros((4, 4)), 0)),
        (ValueError, r"lime_tabular: x must have shape \(5,\) \(from X_train\); got \(4,\)",
         lambda: E.lime_tabular(fn, X, np.zeros(4))),
        (ValueError, r"lime_tabular: X_train must have 2 dimensions",
         lambda: E.lime_tabular(fn, np.zeros(5), np.zeros(5))),
        (TypeError, r"lime_tabular: random_state must be an int seed",
         lambda: E.lime_tabular(fn, X, X[0], random_state=np.random.RandomState(0))),
        (ValueError, r"lime_text: num_samples must be an integer >= 2; got 1",
         lambda: E.lime_text(fn, "a b", num_samples=1)),
        (TypeError, r"lime_text: text must be a str; got list",
         lambda: E.lime_text(fn, ["a", "b"])),
        (ValueError, r"lime_image: num_features must be an integer >= 1; got 0",
         lambda: E.lime_image(fn, np.zeros((4, 4)), num_features=0)),
        (ValueError, r"lime_image: image must have 2 or 3 dimensions",
         lambda: E.lime_image(fn, np.zeros(4))),
        (TypeError, r"saliency: x must be a torch.Tensor; got ndarray",
         lambda: E.saliency(model, X, 0)),
        (ValueError, r"saliency: x must be a batch \(N, ...\) with 2 or more dimensions",
         lambda: E.saliency(model, torch.zeros(5), 0)),
        (ValueError, r"saliency: target must be an int or have shape \(10,\); got \(3,\)",
         lambda: E.saliency(model, torch.zeros(10, 5), [0, 1, 2])),
        (ValueError, r"integrated_gradients: baseline must broadcast to x's shape \(10, 5\)",
         lambda: E.integrated_gradients(model, torch.zeros(10, 5), 0, baseline=torch.zeros(3))),
        (ValueError, r"integrated_gradients: steps must be an integer >= 1; got 0",
         lambda: E.integrated_gradients(model, torch.zeros(10, 5), 0, steps=0)),
        (ValueError, r"completeness_gap: attributions must have x's shape \(10, 5\); got \(10,\)",
         lambda: E.completeness_gap(model, torch.zeros(10, 5), 0, torch.zeros(10))),
        (ValueError, r"grad_cam: x must have 4 dimensions \(N, C, H, W\); got shape \(10, 5\)",
         lambda: E.grad_cam(model, model[0], torch.zeros(10, 5), 0)),
        (TypeError, r"grad_cam: layer must be a torch.nn.Module \(a layer of model\); got int",
         lambda: E.grad_cam(model, 3, torch.zeros(10, 5), 0)),
        (ValueError, r"grad_cam: layer was not called in model's forward pass",
         lambda: E.grad_cam(_TinyCNN(), nn.Conv2d(1, 1, 1), torch.zeros(1, 1, 4, 4), 0)),
        (ValueError, r"grad_cam: layer output must be \(N, C, h, w\) feature maps; got shape "
                     r"\(1, 3\)",
         lambda: E.grad_cam(cnn, cnn.fc, torch.zeros(1, 1, 4, 4), 0)),
        (ValueError, r"permutation_importance: y must have shape \(10,\); got \(9,\)",
         lambda: E.permutation_importance(fn, X, np.zeros(9))),
        (ValueError, r"permutation_importance: n_repeats must be an integer >= 1; got 0",
         lambda: E.permutation_importance(fn, X, np.zeros(10), n_repeats=0)),
        (ValueError, r"surrogate_tree: max_depth must be an integer >= 1; got 0",
         lambda: E.surrogate_tree(fn, X, max_depth=0)),
        (ValueError, r"surrogate_tree: X must have 2 dimensions \(n, D\)",
         lambda: E.surrogate_tree(fn, np.zeros(3))),
        (ValueError, r"deletion_curve: attributions must have x's shape \(3,\); got \(4,\)",
         lambda: E.deletion_curve(np.sum, np.zeros(3), np.zeros(4))),
        (ValueError, r"deletion_curve: score_fn must return shape \(4,\); got \(\)",
         lambda: E.deletion_curve(np.sum, np.zeros(3), np.zeros(3))),
        (ValueError, r"area_under_deletion: fractions and scores must be 1-D of equal length",
         lambda: E.area_under_deletion([0, 1], [1, 2, 3])),
    ]
    for error, message, call in cases:
        with pytest.raises(error, match=message):
            call()
