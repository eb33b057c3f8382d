r"""Loss functions and their gradients, in NumPy, checked against ``torch.nn.functional``.

Every loss takes ``(prediction, target, ..., reduction="mean")`` with ``reduction`` one of
``"mean"``, ``"sum"`` or ``"none"`` (per element or per sample, as torch). Where the MLP of
chapter 01 needs it, ``<loss>_grad(...)`` returns :math:`\partial L / \partial \text{pred}` of the
*reduced* loss (``"mean"`` or ``"sum"``), with the shape and dtype of the prediction. Targets
are cast to the prediction's dtype; inputs are never modified.

Two averaging conventions, both torch's:

- elementwise losses (mse, mae, huber, binary cross-entropies) average over **all elements**;
- categorical / sparse categorical cross-entropy, hinge, triplet and contrastive average over the
  **batch** ``N`` (one loss per sample), as ``F.cross_entropy`` does.

Stability: cross-entropies go through a shifted log-softmax and never exponentiate a large
positive number, so logits of magnitude 1e4 give finite, exact results without warnings.
"""
from __future__ import annotations

import numpy as np

from companion.activations import log_softmax, sigmoid, softmax
from companion.validation import check_floating, check_ndim, check_positive

__all__ = [
    "mse", "mse_grad", "mae", "mae_grad", "huber", "huber_grad",
    "binary_cross_entropy", "binary_cross_entropy_grad",
    "binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits_grad",
    "categorical_cross_entropy", "categorical_cross_entropy_grad",
    "sparse_categorical_cross_entropy", "sparse_categorical_cross_entropy_grad",
    "hinge", "hinge_grad", "triplet", "contrastive", "kl_divergence",
]

REDUCTIONS = ("mean", "sum", "none")
_LOG_CLAMP = -100.0  # torch's F.binary_cross_entropy clamps each log at -100
_BCE_EPS = 1e-12  # torch's binary_cross_entropy backward divides by max(p (1 - p), 1e-12)
_TRIPLET_EPS = 1e-6  # torch's F.pairwise_distance adds eps to the difference vector


# ---------------------------------------------------------------- shared plumbing

def _check_reduction(func, reduction, allowed=REDUCTIONS):
    if reduction not in allowed:
        raise ValueError(f"{func}: reduction must be one of {', '.join(map(repr, allowed))}; "
                         f"got {reduction!r}")
    return reduction


def _pair(func, pred, target, pred_name="pred", target_name="target"):
    """``pred`` as a floating array; ``target`` as an array of the same shape and dtype."""
    pred = np.asarray(check_floating(func, pred_name, np.asarray(pred)))
    target = np.asarray(target)
    if target.shape != pred.shape:
        raise ValueError(f"{func}: {target_name} must have the shape of {pred_name} {pred.shape}; "
                         f"got {target.shape}")
    if pred.size == 0:
        raise ValueError(f"{func}: {pred_name} must not be empty; got shape {pred.shape}")
    return pred, target.astype(pred.dtype, copy=False)


def _check_range(func, name, x, low, high):
    if not np.all((x >= low) & (x <= high)):  # also catches NaN
        bad = x[~((x >= low) & (x <= high))].ravel()[0]
        raise ValueError(f"{func}: {name} must hold values in [{low:g}, {high:g}]; got {bad:g}")


def _reduce(loss, reduction, n=None):
    """'sum': total; 'mean': total / n (default: every element); 'none': unchanged."""
    if reduction == "none":
        return loss
    total = loss.sum()
    return total if reduction == "sum" else total / (loss.size if n is None else n)


def _grad_scale(func, reduction, n):
    """d(reduced)/d(element loss): 1 for 'sum', 1/n for 'mean'; a gradient needs a scalar."""
    _check_reduction(func, reduction, ("mean", "sum"))
    return 1.0 if reduction == "sum" else 1.0 / n


# ---------------------------------------------------------------- regression

def mse(pred, target, reduction="mean"):
    r"""Mean squared error :math:`\frac{1}{n}\sum_i (\hat y_i - y_i)^2`.

    Args:
        pred: (*) floating predictions. target: (*) same shape.
        reduction: "mean" (over all elements, as torch), "sum" or "none" (shape (*)).
    Reference: ``torch.nn.functional.mse_loss``.
    """
    pred, target = _pair("mse", pred, target)
    _check_reduction("mse", reduction)
    # l_i = (yhat_i - y_i)^2
    return _reduce((pred - target) ** 2, reduction)


def mse_grad(pred, target, reduction="mean"):
    r"""Gradient of :func:`mse`: :math:`\partial L/\partial \hat y_i = 2(\hat y_i - y_i)/n`.

    ``n`` is the number of elements for "mean"; "sum" drops the ``1/n``. Same shape as ``pred``.
    """
    pred, target = _pair("mse_grad", pred, target)
    scale = _grad_scale("mse_grad", reduction, pred.size)
    return (2.0 * scale) * (pred - target)


def mae(pred, target, reduction="mean"):
    r"""Mean absolute error :math:`\frac{1}{n}\sum_i |\hat y_i - y_i|` (L1 loss).

    Shapes and reductions as :func:`mse`. Reference: ``torch.nn.functional.l1_loss``.
    """
    pred, target = _pair("mae", pred, target)
    _check_reduction("mae", reduction)
    # l_i = |yhat_i - y_i|
    return _reduce(np.abs(pred - target), reduction)


def mae_grad(pred, target, reduction="mean"):
    r"""Subgradient of :func:`mae`: :math:`\operatorname{sign}(\hat y_i - y_i)/n`.

    At the kink :math:`\hat y_i = y_i` we take 0 (as torch's ``l1_loss`` backward).
    """
    pred, target = _pair("mae_grad", pred, target)
    scale = _grad_scale("mae_grad", reduction, pred.size)
    return scale * np.sign(pred - target)


def huber(pred, target, delta=1.0, reduction="mean"):
    r"""Huber loss: quadratic for small errors, linear (slope ``delta``) for large ones.

    .. math::
        l_i = \tfrac12 r_i^2 \text{ if } |r_i| < \delta,
        \text{ else } \delta(|r_i| - \tfrac12\delta), \quad r_i = \hat y_i - y_i

    Args:
        pred, target: (*) same shape. delta: > 0, where the quadratic turns linear.
        reduction: as :func:`mse`.
    Reference: ``torch.nn.functional.huber_loss`` (``smooth_l1_loss`` is huber / delta).
    """
    pred, target = _pair("huber", pred, target)
    check_positive("huber", "delta", delta)
    _check_reduction("huber", reduction)
    r = pred - target
    a = np.abs(r)
    # l = r^2 / 2 inside |r| < delta, delta (|r| - delta / 2) outside
    # (the two pieces meet with equal value and slope at |r| = delta)
    return _reduce(np.where(a < delta, 0.5 * r**2, delta * (a - 0.5 * delta)), reduction)


def huber_grad(pred, target, delta=1.0, reduction="mean"):
    r"""Gradient of :func:`huber`: the error clipped to :math:`[-\delta, \delta]`, / n for "mean".

    :math:`\partial l_i/\partial \hat y_i = r_i` if :math:`|r_i| \le \delta`, else
    :math:`\delta \operatorname{sign}(r_i)`.
    """
    pred, target = _pair("huber_grad", pred, target)
    check_positive("huber_grad", "delta", delta)
    scale = _grad_scale("huber_grad", reduction, pred.size)
    return scale * np.clip(pred - target, -delta, delta)


# ---------------------------------------------------------------- binary classification

def binary_cross_entropy(p, y, reduction="mean"):
    r"""Binary cross-entropy on probabilities, :math:`-[y\log p + (1-y)\log(1-p)]`.

    Each log is clamped at -100 exactly like ``torch.nn.functional.binary_cross_entropy``, so
    ``p`` of exactly 0 or 1 gives a finite loss (at most 100 per element), identical to torch.

    Args:
        p: (*) predicted probabilities in [0, 1]. y: (*) targets in [0, 1] (soft labels allowed).
        reduction: "mean" (over all elements), "sum" or "none".
    Prefer :func:`binary_cross_entropy_with_logits`: a sigmoid that rounds to 0 or 1 loses the
    information the clamp cannot give back.
    """
    p, y = _pair("binary_cross_entropy", p, y, "p", "y")
    _check_range("binary_cross_entropy", "p", p, 0, 1)
    _check_range("binary_cross_entropy", "y", y, 0, 1)
    _check_reduction("binary_cross_entropy", reduction)
    with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped at -100 (torch's trick)
        log_p = np.maximum(np.log(p), _LOG_CLAMP)
        log_1mp = np.maximum(np.log1p(-p), _LOG_CLAMP)
    # l = -(y log p + (1 - y) log(1 - p))
    return _reduce(-(y * log_p + (1 - y) * log_1mp), reduction)


def binary_cross_entropy_grad(p, y, reduction="mean"):
    r"""Gradient of :func:`binary_cross_entropy`: :math:`(p - y) / \max(p(1-p), 10^{-12})`, / n.

    The floor 1e-12 on the denominator is torch's, so p of exactly 0 or 1 gives a large but finite
    gradient equal to torch.autograd's.
    """
    p, y = _pair("binary_cross_entropy_grad", p, y, "p", "y")
    _check_range("binary_cross_entropy_grad", "p", p, 0, 1)
    _check_range("binary_cross_entropy_grad", "y", y, 0, 1)
    scale = _grad_scale("binary_cross_entropy_grad", reduction, p.size)
    # d/dp -(y log p + (1 - y) log(1 - p)) = (p - y) / (p (1 - p)); floor the denominator (torch)
    return scale * (p - y) / np.maximum(p * (1 - p), _BCE_EPS)


def binary_cross_entropy_with_logits(logits, y, reduction="mean"):
    r"""Binary cross-entropy on logits :math:`z`, with :math:`p = \sigma(z)` folded in stably.

    .. math::
        l = -[y\log\sigma(z) + (1-y)\log(1-\sigma(z))] = \max(z, 0) - z y + \log(1 + e^{-|z|})

    Args:
        logits: (*) real scores z. y: (*) targets in [0, 1].
        reduction: "mean" (over all elements), "sum" or "none".
    Reference: ``torch.nn.functional.binary_cross_entropy_with_logits`` (no ``pos_weight``).
    """
    z, y = _pair("binary_cross_entropy_with_logits", logits, y, "logits", "y")
    _check_range("binary_cross_entropy_with_logits", "y", y, 0, 1)
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    # l = max(z, 0) - z y + log1p(exp(-|z|)): exp of a non-positive number never overflows,
    # and log1p keeps precision when exp(-|z|) is tiny
    return _reduce(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))), reduction)


def binary_cross_entropy_with_logits_grad(logits, y, reduction="mean"):
    r""":math:`\partial l/\partial z = \sigma(z) - y` (the sigmoid computed stably)."""
    z, y = _pair("binary_cross_entropy_with_logits_grad", logits, y, "logits", "y")
    _check_range("binary_cross_entropy_with_logits_grad", "y", y, 0, 1)
    scale = _grad_scale("binary_cross_entropy_with_logits_grad", reduction, z.size)
    return scale * (sigmoid(z) - y)


def _scores_signs(func, scores, y):
    s, y = _pair(func, scores, y, "scores", "y")
    check_ndim(func, "scores", s, 1, "(N,)")
    if not np.all((y == 1) | (y == -1)):
        bad = y[~((y == 1) | (y == -1))][0]
        raise ValueError(f"{func}: y must hold labels -1 or +1; got {bad:g}")
    return s, y


def hinge(scores, y, reduction="mean"):
    r"""Binary hinge loss :math:`\max(0, 1 - y s)` for labels :math:`y \in \{-1, +1\}`.

    Zero once a sample is on the right side with margin 1; linear in the violation otherwise.

    Args:
        scores: (N,) real scores s. y: (N,) labels, each -1 or +1.
        reduction: "mean" (over N), "sum" or "none" ((N,)).
    Reference: ``sklearn.metrics.hinge_loss(y, s)`` (the mean). In torch it equals
    ``2 * F.multi_margin_loss(stack([0, s], 1), (y + 1) / 2)`` (two classes, and torch divides by
    C = 2); ``F.hinge_embedding_loss`` is a different loss (its input is a distance, not a score).
    """
    s, y = _scores_signs("hinge", scores, y)
    _check_reduction("hinge", reduction)
    # l = max(0, 1 - y s)
    return _reduce(np.maximum(0, 1 - y * s), reduction)


def hinge_grad(scores, y, reduction="mean"):
    r"""Subgradient of :func:`hinge`: :math:`-y` where :math:`y s < 1`, else 0, / N for "mean".

    At the kink :math:`y s = 1` we take 0 (the right derivative; any value in [-1, 0]·y is valid).
    """
    s, y = _scores_signs("hinge_grad", scores, y)
    scale = _grad_scale("hinge_grad", reduction, s.size)
    return scale * np.where(y * s < 1, -y, 0).astype(s.dtype)


# ---------------------------------------------------------------- multi-class

def _logits_targets(func, logits, target):
    z, t = _pair(func, logits, target, "logits", "target_probs")
    check_ndim(func, "logits", z, 2, "(N, C)")
    _check_range(func, "target_probs", t, 0, 1)
    return z, t


def categorical_cross_entropy(logits, target_probs, reduction="mean"):
    r"""Cross-entropy of softmax(logits) against one-hot or probability targets.

    .. math:: l_n = -\sum_c t_{nc} \log \operatorname{softmax}(z_n)_c

    Args:
        logits: (N, C) raw scores. target_probs: (N, C) one-hot rows or probabilities in [0, 1].
        reduction: "mean" (over the batch N, as F.cross_entropy), "sum" or "none" ((N,)).
    Reference: ``F.cross_entropy(logits, target_probs)`` (probability targets).
    """
    z, t = _logits_targets("categorical_cross_entropy", logits, target_probs)
    _check_reduction("categorical_cross_entropy", reduction)
    # l_n = -sum_c t_nc log_softmax(z_n)_c; log-softmax (max subtracted, never log(softmax))
    # stays finite for any finite logits
    return _reduce(-(t * log_softmax(z)).sum(axis=1), reduction, len(z))


def categorical_cross_entropy_grad(logits, target_probs, reduction="mean"):
    r""":math:`\partial l_n/\partial z_{nc} = \operatorname{softmax}(z_n)_c \sum_k t_{nk} - t_{nc}`
    (= softmax - t for targets summing to 1), divided by N for "mean"."""
    z, t = _logits_targets("categorical_cross_entropy_grad", logits, target_probs)
    scale = _grad_scale("categorical_cross_entropy_grad", reduction, len(z))
    return scale * (softmax(z) * t.sum(axis=1, keepdims=True) - t)


def _logits_labels(func, logits, labels):
    z = np.asarray(check_floating(func, "logits", np.asarray(logits)))
    check_ndim(func, "logits", z, 2, "(N, C)")
    labels = np.asarray(labels)
    if labels.shape != (len(z),):
        raise ValueError(f"{func}: labels must have shape ({len(z)},) (N from logits); "
                         f"got {labels.shape}")
    if labels.dtype.kind not in "iu":
        raise TypeError(f"{func}: labels must be an integer array; got dtype {labels.dtype}")
    if len(z) == 0:
        raise ValueError(f"{func}: logits must not be empty; got shape {z.shape}")
    if labels.min() < 0 or labels.max() >= z.shape[1]:
        bad = labels[(labels < 0) | (labels >= z.shape[1])][0]
        raise ValueError(f"{func}: labels must be in [0, {z.shape[1] - 1}] (C={z.shape[1]}); "
                         f"got {bad}")
    return z, labels


def sparse_categorical_cross_entropy(logits, labels, reduction="mean"):
    r"""Cross-entropy with integer labels, :math:`l_n = -\log \operatorname{softmax}(z_n)_{y_n}`.

    The same number as :func:`categorical_cross_entropy` with one-hot targets, without them.

    Args:
        logits: (N, C) raw scores. labels: (N,) integers in [0, C).
        reduction: "mean" (over N), "sum" or "none" ((N,)).
    Reference: ``F.cross_entropy(logits, labels)``.
    """
    z, labels = _logits_labels("sparse_categorical_cross_entropy", logits, labels)
    _check_reduction("sparse_categorical_cross_entropy", reduction)
    # l_n = -log_softmax(z_n)[y_n], the stable log-sum-exp form (max subtracted)
    return _reduce(-log_softmax(z)[np.arange(len(z)), labels], reduction)


def sparse_categorical_cross_entropy_grad(logits, labels, reduction="mean"):
    r"""Gradient of the sparse cross-entropy, (N, C), divided by N for "mean".

    :math:`\partial l_n/\partial z_n = \operatorname{softmax}(z_n) - \text{onehot}(y_n)`.
    """
    z, labels = _logits_labels("sparse_categorical_cross_entropy_grad", logits, labels)
    scale = _grad_scale("sparse_categorical_cross_entropy_grad", reduction, len(z))
    g = softmax(z)  # stable: max subtracted inside softmax
    g[np.arange(len(z)), labels] -= 1  # g is a new array: the input is untouched
    return scale * g


# ---------------------------------------------------------------- metric learning

def _embeddings(func, **arrays):
    first_name, first = next(iter(arrays.items()))
    first = np.asarray(check_floating(func, first_name, np.asarray(first)))
    check_ndim(func, first_name, first, 2, "(N, D)")
    rest = list(arrays.items())[1:]
    return [first] + [_pair(func, first, x, first_name, name)[1] for name, x in rest]


def triplet(anchor, positive, negative, margin=1.0, reduction="mean"):
    r"""Triplet margin loss: the positive must be nearer the anchor than the negative, by a margin.

    .. math::
        l_n = \max(d(a_n, p_n) - d(a_n, n_n) + \text{margin}, 0),
        \quad d(x, y) = \lVert x - y + \epsilon \rVert_2,\ \epsilon = 10^{-6}

    The ``eps`` inside the norm is torch's (``F.pairwise_distance``): it keeps the gradient of the
    norm defined when two embeddings coincide.

    Args:
        anchor, positive, negative: (N, D) embeddings. margin: > 0 (as torch).
        reduction: "mean" (over N), "sum" or "none" ((N,)).
    Reference: ``F.triplet_margin_loss(a, p, n, margin=margin)`` (p=2, eps=1e-6, swap=False).
    """
    a, p, n = _embeddings("triplet", anchor=anchor, positive=positive, negative=negative)
    check_positive("triplet", "margin", margin)  # torch also requires margin > 0
    _check_reduction("triplet", reduction)
    # d(x, y) = ||x - y + eps||_2, eps added to every coordinate as torch does
    d_ap = np.sqrt(((a - p + _TRIPLET_EPS) ** 2).sum(axis=1))
    d_an = np.sqrt(((a - n + _TRIPLET_EPS) ** 2).sum(axis=1))
    # l_n = max(d(a, p) - d(a, n) + margin, 0)
    return _reduce(np.maximum(d_ap - d_an + margin, 0), reduction)


def contrastive(x1, x2, same, margin=1.0, reduction="mean"):
    r"""Contrastive loss (Hadsell, Chopra & LeCun, 2006) on pairs of embeddings.

    .. math::
        l_n = s_n d_n^2 + (1 - s_n) \max(0, \text{margin} - d_n)^2,
        \quad d_n = \lVert x_{1n} - x_{2n} \rVert_2

    Similar pairs (s = 1) are pulled together; dissimilar ones (s = 0) pushed apart until they are
    ``margin`` away, after which they cost nothing. Convention: **no factor 1/2** (the paper writes
    ½ before each term, so its loss is half of ours); no eps in the distance.

    Args:
        x1, x2: (N, D) embeddings. same: (N,) 1 for a similar pair, 0 for a dissimilar one.
        margin: > 0. reduction: "mean" (over the N pairs), "sum" or "none" ((N,)).
    Reference: none in torch; tested against the same formula in torch autograd.
    """
    x1, x2 = _embeddings("contrastive", x1=x1, x2=x2)
    same = np.asarray(same)
    if same.shape != (len(x1),):
        raise ValueError(f"contrastive: same must have shape ({len(x1)},) (N from x1); "
                         f"got {same.shape}")
    if not np.all((same == 0) | (same == 1)):
        bad = same[(same != 0) & (same != 1)][0]
        raise ValueError(f"contrastive: same must hold 0 or 1; got {bad}")
    check_positive("contrastive", "margin", margin)
    _check_reduction("contrastive", reduction)
    s = same.astype(x1.dtype)
    d = np.sqrt(((x1 - x2) ** 2).sum(axis=1))
    # l = s d^2 + (1 - s) max(0, margin - d)^2
    return _reduce(s * d**2 + (1 - s) * np.maximum(0, margin - d) ** 2, reduction)


# ---------------------------------------------------------------- distributions

def kl_divergence(p, q, reduction="batchmean"):
    r"""Kullback-Leibler divergence :math:`KL(p \Vert q) = \sum_c p_c \log(p_c / q_c)` per row.

    With :math:`0 \log(0/q) = 0`; :math:`p_c > 0 = q_c` gives ``inf``. Not symmetric:
    KL(p‖q) ≠ KL(q‖p) in general, and :math:`H(p, q) = H(p) + KL(p \Vert q)`.

    Args:
        p, q: (N, C) rows of probabilities in [0, 1] (or (C,), one distribution).
        reduction: "batchmean" (sum / N: the mean KL per row, the default), "sum",
            "mean" (sum / number of elements, torch's — not a mean KL) or "none" ((N, C) terms).
    Reference: ``F.kl_div(q.log(), p, reduction=...)`` (note torch's argument order: log q first);
    per row ``scipy.stats.entropy(p_n, q_n)``. For a (C,) input "batchmean" is the KL itself
    (torch would divide by C).
    """
    p, q = _pair("kl_divergence", p, q, "p", "q")
    check_ndim("kl_divergence", "p", p, (1, 2), "(N, C) or (C,)")
    _check_range("kl_divergence", "p", p, 0, 1)
    _check_range("kl_divergence", "q", q, 0, 1)
    _check_reduction("kl_divergence", reduction, ("batchmean", "sum", "mean", "none"))
    # take logs only where p > 0 (log 1 = 0 elsewhere): 0 log(0 / q) := 0, its limit
    p_pos, q_pos = np.where(p > 0, p, 1), np.where(p > 0, q, 1)
    with np.errstate(divide="ignore"):  # q = 0 < p: log q = -inf, and KL is +inf
        # p log(p / q) = p (log p - log q)
        terms = p * (np.log(p_pos) - np.log(q_pos))
    if reduction == "batchmean":
        return _reduce(terms, "mean", len(p) if p.ndim == 2 else 1)
    return _reduce(terms, reduction)
