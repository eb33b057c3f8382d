r"""Explaining a classifier: LIME adapters, gradient attributions, global views, faithfulness.

* **LIME**: perturb one input, ask the model, fit a weighted linear model :math:`g(z) = w_0 +
  w^\top z` near it; ``w`` is the explanation. ``*_predict_fn`` turn a torch model into the
  ``(n, K)`` probability function lime expects; ``lime_*`` build a fresh explainer seeded with
  ``random_state`` on every call, so a call reproduces (lime draws every perturbation from one
  ``np.random.RandomState`` per explainer; reusing an explainer continues that stream).
* **Gradients** (:func:`saliency`, :func:`integrated_gradients`, :func:`grad_cam`) explain the
  target's *logit*; they are a topic of their own in :mod:`companion.attribution`, re-exported here.
* **Global / faithfulness**: :func:`permutation_importance` (scikit-learn's),
  :func:`surrogate_tree`, :func:`deletion_curve`, :func:`area_under_deletion`.

References: Ribeiro, Singh, Guestrin (2016) "Why should I trust you?" (LIME); Simonyan, Vedaldi,
Zisserman (2014) (saliency); Sundararajan, Taly, Yan (2017) (integrated gradients); Selvaraju et
al. (2017) (Grad-CAM); Breiman (2001) (permutation importance); Samek et al. (2017) (deletion).
"""
from __future__ import annotations

import numbers
from typing import Callable
from unittest import mock

import numpy as np

from .attribution import (_check_model, _eval_mode, completeness_gap, grad_cam, integrated_gradients,
                          saliency)
from .validation import check_int, check_ndim, check_type

__all__ = ["tabular_predict_fn", "text_predict_fn", "image_predict_fn", "grid_segments",
           "lime_tabular", "lime_text", "lime_image", "lime_weights", "saliency",
           "integrated_gradients", "completeness_gap", "grad_cam", "permutation_importance",
           "surrogate_tree", "deletion_curve", "area_under_deletion"]


# ------------------------------------------------------------------ model -> probability functions

def _device_of(model, device):
    import torch

    if device is not None:
        return torch.device(device)
    return next((p.device for p in model.parameters()), torch.device("cpu"))


def _probabilities(model, inputs) -> np.ndarray:
    r"""(n, K) float64: softmax of K >= 2 logits; [1 - p, p], p = sigmoid(z), for one logit."""
    import torch

    with _eval_mode(model), torch.no_grad():
        z = model(inputs).double()
    if z.ndim == 1 or z.shape[1] == 1:
        p = torch.sigmoid(z.reshape(-1, 1))
        return torch.cat([1 - p, p], dim=1).cpu().numpy()  # (n, 1) -> (n, 2)
    return torch.softmax(z, dim=1).cpu().numpy()  # softmax subtracts the max: exp cannot overflow


def tabular_predict_fn(model, *, device=None, scaler=None) -> Callable[[np.ndarray], np.ndarray]:
    r"""``fn(X) -> (n, K)`` class probabilities of a torch model, for LimeTabularExplainer.

    Args:
        model: torch module, (n, D) float32 -> (n, K) logits (K = 1: :math:`p = \sigma(z)`).
        device: where to run; default the model's.
        scaler: applied to the raw rows first (lime perturbs raw values): an object with
            ``transform`` (a fitted StandardScaler) or a callable.
    Returns ``fn(X: (n, D)) -> (n, K)`` float64 rows summing to 1, computed under ``no_grad`` in
    eval mode (the model's mode is restored afterwards). Same for the two adapters below.
    """
    import torch

    _check_model("tabular_predict_fn", model)
    transform = getattr(scaler, "transform", scaler)
    if transform is not None and not callable(transform):
        raise TypeError("tabular_predict_fn: scaler must have a transform method or be callable; "
                        f"got {type(scaler).__name__}")

    def predict_proba(X):
        X = check_ndim("tabular_predict_fn", "X", np.asarray(X, dtype=np.float64), 2, "(n, D)")
        X = X if transform is None else np.asarray(transform(X))
        return _probabilities(model, torch.as_tensor(X, dtype=torch.float32,
                                                     device=_device_of(model, device)))
    return predict_proba


def text_predict_fn(model, encode: Callable, *, device=None) -> Callable[[list], np.ndarray]:
    """``fn(texts) -> (n, K)`` probabilities for LimeTextExplainer.

    ``encode`` turns a list of n strings (lime passes the text with words removed) into the
    model's input tensor, e.g. (n, T) token ids or (n, V) word counts.
    """
    import torch

    _check_model("text_predict_fn", model)
    if not callable(encode):
        raise TypeError(f"text_predict_fn: encode must be callable; got {type(encode).__name__}")

    def predict_proba(texts):
        if isinstance(texts, str):
            raise TypeError("text_predict_fn: expected a list of strings; got one str")
        inputs = encode(list(texts))
        check_type("text_predict_fn", "encode(texts)", inputs, torch.Tensor, "a torch.Tensor")
        return _probabilities(model, inputs.to(_device_of(model, device)))
    return predict_proba


def image_predict_fn(model, *, device=None, channels_first: bool = True,
                     in_channels: int | None = None, dtype=None) -> Callable[[np.ndarray], np.ndarray]:
    r"""``fn(images) -> (n, K)`` probabilities for LimeImageExplainer.

    lime passes RGB batches (n, H, W, 3) (it applies ``gray2rgb`` to a 2-D image). A 1-channel
    model gets grey :math:`= (R + G + B) / 3` (exact for images that were grey); the layout becomes
    (n, C, H, W) when ``channels_first``. ``in_channels``: C, default ``model.in_channels`` or the
    first Conv2d's. ``dtype``: the floating torch dtype the model receives, float32 by default
    (``torch.float64`` for a float64 model).
    """
    import torch
    from torch import nn

    _check_model("image_predict_fn", model)
    conv = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    C = in_channels or getattr(model, "in_channels", None) or getattr(conv, "in_channels", 3)
    if C not in (1, 3):
        raise ValueError(f"image_predict_fn: in_channels must be 1 or 3; got {C}")
    np_dtypes = {torch.float16: np.float16, torch.float32: np.float32, torch.float64: np.float64}
    np_dtype = np_dtypes.get(torch.float32 if dtype is None else dtype)  # the images' NumPy dtype
    if np_dtype is None:
        raise TypeError("image_predict_fn: dtype must be torch.float16, torch.float32 or "
                        f"torch.float64; got {dtype!r}")

    def predict_proba(images):
        images = np.asarray(images, dtype=np_dtype)
        if images.ndim != 4 or images.shape[-1] != 3:
            raise ValueError("image_predict_fn: images must have shape (n, H, W, 3); "
                             f"got {images.shape}")
        if C == 1:
            images = images.mean(axis=-1, keepdims=True)                  # -> (n, H, W, 1)
        if channels_first:
            images = np.ascontiguousarray(images.transpose(0, 3, 1, 2))   # -> (n, C, H, W)
        return _probabilities(model, torch.as_tensor(images, device=_device_of(model, device)))
    return predict_proba


def grid_segments(image, size: int) -> np.ndarray:
    """(H, W) int labels of ``size`` x ``size`` blocks, row by row (a lime_image segmentation_fn).

    lime's default, quickshift, finds a single superpixel in an 8x8 digit; a grid does not.
    """
    image = check_ndim("grid_segments", "image", np.asarray(image), (2, 3), "(H, W) or (H, W, C)")
    size = check_int("grid_segments", "size", size, 1)
    rows, cols = np.arange(image.shape[0]) // size, np.arange(image.shape[1]) // size
    return rows[:, None] * (cols[-1] + 1) + cols[None, :]   # (H, W)


# -------------------------------------------------------------------------------- LIME wrappers

def _check_lime_args(func, num_features, num_samples, random_state):
    check_int(func, "num_features", num_features, 1)
    check_int(func, "num_samples", num_samples, 2)
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise TypeError(f"{func}: random_state must be an int seed (a fresh explainer is seeded "
                        f"with it on every call); got {type(random_state).__name__}")


def lime_tabular(model_fn, X_train, x, *, feature_names=None, class_names=None, num_features=5,
                 num_samples=2000, random_state=0, label=1):
    r"""LIME explanation of ``model_fn`` at one row ``x``: ``(pairs, explanation)``.

    lime's defaults: features are discretised into training quartiles; perturbations are drawn from
    the training distribution; sample weights :math:`\pi(z) = \exp(-d^2 / 2\sigma^2)`,
    :math:`\sigma = 0.75\sqrt{D}` on standardised distances; features chosen by forward selection
    (num_features <= 6) or largest weights, then a weighted ridge fit.

    ``model_fn``: (n, D) -> (n, K) probabilities; ``X_train``: (N, D) rows giving the quartiles
    and the sampling distribution; ``x``: (D,) the row; ``label``: the class explained.
    ``pairs``: [(feature index, weight)], largest |weight| first (readable conditions such as
    ``"worst radius > 16.8"``: ``explanation.as_list(label)``); ``explanation``: lime's.
    """
    from lime.lime_tabular import LimeTabularExplainer

    _check_lime_args("lime_tabular", num_features, num_samples, random_state)
    X_train, x = np.asarray(X_train, dtype=np.float64), np.asarray(x, dtype=np.float64)
    check_ndim("lime_tabular", "X_train", X_train, 2, "(N, D)")
    if x.shape != X_train.shape[1:]:
        raise ValueError(f"lime_tabular: x must have shape ({X_train.shape[1]},) (from X_train); "
                         f"got {x.shape}")
    explainer = LimeTabularExplainer(X_train, feature_names=feature_names,
                                     class_names=class_names, random_state=random_state)
    exp = explainer.explain_instance(x, model_fn, labels=(label,), num_features=num_features,
                                     num_samples=num_samples)
    return [(int(i), float(w)) for i, w in exp.as_map()[label]], exp


def lime_text(model_fn, text: str, *, class_names=None, num_features=6, num_samples=1000,
              random_state=0, label=1):
    r"""LIME explanation of one text: ``(pairs, explanation)``, pairs = [(word, weight), ...].

    Perturbations remove random subsets of the words (bag of words: every occurrence of a word
    goes together); weights :math:`\pi = \exp(-d^2/2\sigma^2)` with :math:`d` 100 x the cosine
    distance of the on/off vectors, :math:`\sigma = 25`. Words are split on ``\W+``.
    """
    from lime.lime_text import LimeTextExplainer

    _check_lime_args("lime_text", num_features, num_samples, random_state)
    check_type("lime_text", "text", text, str, "a str")
    explainer = LimeTextExplainer(class_names=class_names, random_state=random_state)
    exp = explainer.explain_instance(text, model_fn, labels=(label,), num_features=num_features,
                                     num_samples=num_samples)
    return [(str(word), float(w)) for word, w in exp.as_list(label)], exp


def lime_image(model_fn, image, *, segmentation_fn=None, num_samples=500, random_state=0,
               label=None, num_features=5, hide_color=None):
    r"""LIME explanation of one image: ``(weights, explanation)``.

    Superpixels (``segmentation_fn(image) -> (H, W)`` int labels; lime's default is skimage's
    quickshift, use e.g. ``functools.partial(grid_segments, size=2)`` for tiny images) are switched
    off at random (replaced by their mean colour, or ``hide_color``), and a weighted ridge fits
    the class probability to the on/off pattern.

    ``image``: (H, W) grey or (H, W, 3) float. ``label``: default the model's prediction on it
    (stored as ``explanation.label``). Returns ``weights`` (H, W): each pixel holds its
    superpixel's weight (0 outside the top ``num_features``), and lime's ImageExplanation
    (``.segments``, ``.get_image_and_mask(label)``). A superpixel of one colour is unchanged by
    the default mean-colour hiding: pass ``hide_color=0.0`` for digits. lime's sampling loop
    shows a ``tqdm`` bar on stderr; ``lime.lime_image.tqdm`` is the identity during this call.
    """
    import lime.lime_image
    from lime.lime_image import LimeImageExplainer

    _check_lime_args("lime_image", num_features, num_samples, random_state)
    image = np.asarray(image, dtype=np.float64)
    check_ndim("lime_image", "image", image, (2, 3), "(H, W) or (H, W, 3)")
    explainer = LimeImageExplainer(random_state=random_state)
    kwargs = dict(labels=(label,), top_labels=None) if label is not None else dict(top_labels=1)
    with mock.patch.object(lime.lime_image, "tqdm", lambda rows: rows):
        exp = explainer.explain_instance(image, model_fn, num_features=num_features,
                                         num_samples=num_samples, batch_size=num_samples,
                                         segmentation_fn=segmentation_fn, hide_color=hide_color,
                                         random_seed=random_state, **kwargs)
    label = exp.top_labels[0] if label is None else label
    exp.label = int(label)  # the class explained, for the caller
    seg_weights = lime_weights(exp, int(exp.segments.max()) + 1, label)
    return seg_weights[exp.segments], exp


def lime_weights(explanation, size: int, label=None) -> np.ndarray:
    """Dense (size,) float array of an explanation's weights by feature index (0 if not chosen).

    ``size`` is D for tabular explanations, the number of superpixels for images; ``label``
    defaults to the explanation's only explained label.
    """
    size = check_int("lime_weights", "size", size, 1)
    if label is None:
        if len(explanation.local_exp) != 1:
            raise ValueError("lime_weights: label is needed, the explanation has labels "
                             f"{sorted(explanation.local_exp)}")
        label = next(iter(explanation.local_exp))
    w = np.zeros(size)
    for i, weight in explanation.local_exp[label]:
        w[int(i)] = weight
    return w


# --------------------------------------------------------------------------------- global views

class _FunctionClassifier:
    """A fitted-looking scikit-learn classifier around ``fn(X) -> (n, K)`` probabilities."""

    def __init__(self, fn, n_classes):
        self.fn, self.classes_ = fn, np.arange(n_classes)

    def fit(self, X, y=None):  # never called: scikit-learn's parameter check asks for fit
        return self

    def predict_proba(self, X):
        return np.asarray(self.fn(X))

    def predict(self, X):
        return self.predict_proba(X).argmax(axis=1)

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags, Tags, TargetTags

        return Tags(estimator_type="classifier", target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags())


def permutation_importance(model_fn, X, y, *, scoring="accuracy", n_repeats=10, random_state=0):
    r"""Drop in score when one feature's column is shuffled: (mean, std) over repeats, each (D,).

    .. math:: I_j = s(X, y) - \frac{1}{R}\sum_{r} s(X^{(j, r)}, y)

    with :math:`X^{(j,r)}` = X with column j permuted. Computed by
    ``sklearn.inspection.permutation_importance`` on ``model_fn`` wrapped as a classifier
    (``predict`` = argmax of the probabilities), so any scikit-learn scoring name works.

    ``model_fn``: (n, D) -> (n, K) probabilities; ``X``: (n, D); ``y``: (n,) class labels.
    """
    from sklearn.inspection import permutation_importance as sk_permutation_importance

    X, y = np.asarray(X), np.asarray(y)
    check_ndim("permutation_importance", "X", X, 2, "(n, D)")
    if y.shape != (len(X),):
        raise ValueError(f"permutation_importance: y must have shape ({len(X)},); got {y.shape}")
    check_int("permutation_importance", "n_repeats", n_repeats, 1)
    n_classes = np.asarray(model_fn(X[:1])).shape[1]
    result = sk_permutation_importance(_FunctionClassifier(model_fn, n_classes), X, y,
                                       scoring=scoring, n_repeats=n_repeats,
                                       random_state=random_state)
    return result.importances_mean, result.importances_std


def surrogate_tree(model_fn, X, *, max_depth=3, random_state=0):
    r"""A decision tree fitted to the model's predicted classes, and its fidelity on X.

    .. math:: \text{fidelity} = \frac{1}{n}\sum_i [\,\text{tree}(x_i) = \arg\max_k f_k(x_i)\,]

    (agreement with the model, not accuracy on true labels). Returns (DecisionTreeClassifier,
    fidelity float).
    """
    from sklearn.tree import DecisionTreeClassifier

    X = np.asarray(X)
    check_ndim("surrogate_tree", "X", X, 2, "(n, D)")
    max_depth = check_int("surrogate_tree", "max_depth", max_depth, 1)
    y_model = np.asarray(model_fn(X)).argmax(axis=1)
    tree = DecisionTreeClassifier(max_depth=max_depth, random_state=random_state).fit(X, y_model)
    return tree, float(np.mean(tree.predict(X) == y_model))


# --------------------------------------------------------------------------------- faithfulness

def deletion_curve(score_fn, x, attributions, *, baseline=0.0, steps=None):
    r"""Delete features in order of decreasing attribution; record the score after each step.

    Features are ranked by their signed attribution (largest first; ties keep index order), and
    after deleting the top :math:`k` (set to ``baseline``) the model is scored. A faithful
    attribution makes the score fall fast: a small :func:`area_under_deletion`.

    ``score_fn``: (n, *x.shape) -> (n,) scores (e.g. the explained class's probability), called
    once on the stack of copies; ``x``: one example of any shape (D values); ``attributions``:
    x's shape; ``baseline``: the value a deleted feature takes (number or x's shape); ``steps``:
    default D. Returns fractions deleted (steps + 1,) from 0 to 1 and scores (steps + 1,).
    """
    x, a = np.asarray(x, dtype=np.float64), np.asarray(attributions, dtype=np.float64)
    if a.shape != x.shape:
        raise ValueError(f"deletion_curve: attributions must have x's shape {x.shape}; "
                         f"got {a.shape}")
    D = x.size
    steps = D if steps is None else check_int("deletion_curve", "steps", steps, 1)
    base = np.broadcast_to(np.asarray(baseline, dtype=np.float64), x.shape).ravel()
    order = np.argsort(-a.ravel(), kind="stable")
    counts = np.round(np.linspace(0, D, steps + 1)).astype(int)   # features deleted per step
    batch = np.repeat(x.reshape(1, -1), steps + 1, axis=0)        # (steps + 1, D)
    for row, k in enumerate(counts):
        batch[row, order[:k]] = base[order[:k]]
    scores = np.asarray(score_fn(batch.reshape(steps + 1, *x.shape)), dtype=np.float64)
    if scores.shape != (steps + 1,):
        raise ValueError(f"deletion_curve: score_fn must return shape ({steps + 1},); "
                         f"got {scores.shape}")
    return counts / D, scores


def area_under_deletion(fractions, scores) -> float:
    r"""Trapezoid area under a deletion curve, :math:`\int_0^1 s\,df` (lower = more faithful)."""
    f, s = np.asarray(fractions, dtype=np.float64), np.asarray(scores, dtype=np.float64)
    if f.ndim != 1 or f.shape != s.shape:
        raise ValueError(f"area_under_deletion: fractions and scores must be 1-D of equal length; "
                         f"got {f.shape} and {s.shape}")
    return float(np.trapezoid(s, f))
