r"""Metrics from predicted labels (the confusion matrix and its ratios), log loss and top-k accuracy.

Counts for one class :math:`c` (one-vs-rest): TP (true c, predicted c), FP (predicted c, true
another), FN (true c, predicted another), TN (the rest):

.. math::
    \text{precision} = \frac{TP}{TP + FP} \quad \text{recall} = \frac{TP}{TP + FN} \quad
    F_1 = \frac{2\,TP}{2\,TP + FP + FN} \quad \text{specificity} = \frac{TN}{TN + FP}

Reference: ``sklearn.metrics``; conventions in :mod:`companion.metrics`.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..validation import check_int, check_ndim
from ._common import (AVERAGES, _array, _check_zero_division, _classes, _divide, _is_in, _labels_pair,
                      _nonempty, _scores)

__all__ = [
    "confusion_matrix", "accuracy", "precision", "recall", "f1_score", "specificity",
    "false_positive_rate", "matthews_corrcoef", "log_loss", "top_k_accuracy",
]


def confusion_matrix(y_true, y_pred, *, labels=None) -> np.ndarray:
    """Counts :math:`C_{ij}` = number of samples of true class i predicted as class j.

    Args:
        y_true, y_pred: (N,) labels (ints, bools or strings).
        labels: (K,) classes giving the row/column order; default the sorted union of both.
            Samples whose true or predicted label is not in ``labels`` are left out (as sklearn).
    Returns:
        (K, K) int64; rows = true class, columns = predicted class (sklearn's convention; some
        textbooks transpose it). The diagonal holds the correct predictions; binary with labels
        (0, 1) reads [[TN, FP], [FN, TP]]. With a single label in both inputs the matrix is
        1 x 1 (sklearn 1.9 warns there; we do not): pass ``labels`` to get every row.
    Reference: sklearn.metrics.confusion_matrix.
    """
    func = "confusion_matrix"
    t, p = _labels_pair(func, y_true, y_pred)
    if labels is None:
        labels = np.union1d(t, p)
    else:
        labels = _nonempty(func, "labels", check_ndim(func, "labels", _array(labels), 1, "(K,)"))
        if len(np.unique(labels)) != len(labels):
            raise ValueError(f"{func}: labels must be unique; got {labels.tolist()}")
        if not np.isin(labels, t).any():
            raise ValueError(f"{func}: at least one of labels {labels.tolist()} must be in y_true")
    # one-hot (N, K) membership of each sample's label; rows of zeros drop unknown labels
    T = t[:, None] == labels[None, :]  # (N, K)
    P = p[:, None] == labels[None, :]  # (N, K)
    # C = T^T P counts every (true i, predicted j) pair
    return (T.T.astype(np.int64) @ P.astype(np.int64)).astype(np.int64)  # (K, K)


def accuracy(y_true, y_pred) -> float:
    r"""Fraction of exact matches, :math:`\frac{1}{N}\sum_n [y_n = \hat y_n]`.

    Args: y_true, y_pred: (N,) labels. Reference: sklearn.metrics.accuracy_score.
    """
    t, p = _labels_pair("accuracy", y_true, y_pred)
    return float(np.mean(t == p))


def _class_counts(func, y_true, y_pred, average, pos_label, labels):
    """Per-class one-vs-rest counts (tp, fp, fn, tn), each (K,), for the classes to report."""
    if average not in AVERAGES:
        raise ValueError(f"{func}: average must be one of 'binary', 'micro', 'macro', "
                         f"'weighted' or None; got {average!r}")
    t, p = _labels_pair(func, y_true, y_pred)
    present = np.union1d(t, p)
    if average == "binary":
        if len(present) > 2:
            raise ValueError(f"{func}: average='binary' needs at most 2 classes; got "
                             f"{len(present)} ({present.tolist()}); use average='micro', "
                             f"'macro', 'weighted' or None")
        if len(present) == 2 and not _is_in(pos_label, present):
            raise ValueError(f"{func}: pos_label={pos_label!r} is not one of the labels "
                             f"{present.tolist()}; pass pos_label=<the positive class>")
        classes = np.asarray([pos_label])
    else:
        classes = present if labels is None else check_ndim(func, "labels", _array(labels), 1)
    T = t[:, None] == classes[None, :]  # (N, K)
    P = p[:, None] == classes[None, :]  # (N, K)
    tp = np.sum(T & P, axis=0)
    fp, fn = np.sum(P, axis=0) - tp, np.sum(T, axis=0) - tp
    return tp, fp, fn, len(t) - tp - fp - fn


def _ratio(func, num, den, support, average, zero_division):
    """num / den per class, then averaged: micro pools counts, macro averages the ratios
    (nan ratios left out, as sklearn's _nanaverage), weighted uses the support as weights."""
    _check_zero_division(func, zero_division)
    if average == "micro":
        num, den = np.sum(num, keepdims=True), np.sum(den, keepdims=True)
    r = _divide(num, den, zero_division)  # (K,)
    if average is None:
        return r
    keep = ~np.isnan(r)
    if not keep.any():
        return float("nan")
    w = support[keep] if average == "weighted" and support[keep].sum() > 0 else None
    return float(np.average(r[keep], weights=w))


# precision, recall, f1_score, specificity and false_positive_rate share these arguments:
#   y_true, y_pred: (N,) labels (ints, bools or strings).
#   average: "binary" (pos_label's score only; at most 2 classes), "micro" (pool the counts of
#     all classes, then divide), "macro" (plain mean of the per-class scores), "weighted" (mean
#     weighted by each class's support TP + FN), or None (the (K,) per-class scores).
#   pos_label: the positive class for "binary" (string labels need it); ignored otherwise.
#   labels: (K,) classes to report or average (not "binary"); default the sorted union.
#   zero_division: what a 0/0 ratio becomes (0.0, 1.0 or nan), silently; nan scores are left
#     out of the macro / weighted mean, as sklearn does.
# They return a float, or a (K,) float64 array with average=None.

def precision(y_true, y_pred, *, average="binary", pos_label=1, labels=None, zero_division=0.0):
    r"""Precision :math:`TP / (TP + FP)`: of the samples predicted as the class, the share that
    truly are. 0/0 (nothing predicted as the class) gives ``zero_division``.
    Arguments: see the comment above. Reference: sklearn.metrics.precision_score.
    """
    tp, fp, fn, _ = _class_counts("precision", y_true, y_pred, average, pos_label, labels)
    return _ratio("precision", tp, tp + fp, tp + fn, average, zero_division)


def recall(y_true, y_pred, *, average="binary", pos_label=1, labels=None, zero_division=0.0):
    r"""Recall (sensitivity, true positive rate) :math:`TP / (TP + FN)`: of the samples of the
    class, the share that is found. 0/0 (the class absent from y_true) gives ``zero_division``.
    Arguments: see the comment above. Reference: sklearn.metrics.recall_score.
    """
    tp, fp, fn, _ = _class_counts("recall", y_true, y_pred, average, pos_label, labels)
    return _ratio("recall", tp, tp + fn, tp + fn, average, zero_division)


def f1_score(y_true, y_pred, *, average="binary", pos_label=1, labels=None, zero_division=0.0):
    r"""F1, the harmonic mean of precision P and recall R, in counts:

    .. math:: F_1 = \frac{2PR}{P + R} = \frac{2\,TP}{2\,TP + FP + FN}

    The count form is 0 (not 0/0) when TP = 0 but FP + FN > 0; only a class neither true nor
    predicted gives ``zero_division`` (sklearn >= 1.3 does the same).
    Arguments: see the comment above. Reference: sklearn.metrics.f1_score.
    """
    tp, fp, fn, _ = _class_counts("f1_score", y_true, y_pred, average, pos_label, labels)
    return _ratio("f1_score", 2 * tp, 2 * tp + fp + fn, tp + fn, average, zero_division)


def specificity(y_true, y_pred, *, average="binary", pos_label=1, labels=None,
                zero_division=0.0):
    r"""Specificity (true negative rate) :math:`TN / (TN + FP)`: of the samples *not* of the
    class, the share called "not the class" (one-vs-rest per class; "weighted" weighs by the
    class's own support TP + FN, like the other scores).
    Arguments: see the comment above. Reference: sklearn has none; binary, it is recall_score
    with the other class as pos_label; per class, from multilabel_confusion_matrix's counts.
    """
    tp, fp, fn, tn = _class_counts("specificity", y_true, y_pred, average, pos_label, labels)
    return _ratio("specificity", tn, tn + fp, tp + fn, average, zero_division)


def false_positive_rate(y_true, y_pred, *, average="binary", pos_label=1, labels=None,
                        zero_division=0.0):
    r"""False positive rate :math:`FP / (FP + TN) = 1 - \text{specificity}` (where TN + FP > 0):
    the share of the other samples wrongly called the class; the x axis of the ROC curve.
    Arguments: see the comment above. Reference: sklearn's confusion-matrix counts.
    """
    tp, fp, fn, tn = _class_counts("false_positive_rate", y_true, y_pred, average, pos_label,
                                   labels)
    return _ratio("false_positive_rate", fp, fp + tn, tp + fn, average, zero_division)


def matthews_corrcoef(y_true, y_pred) -> float:
    r"""Matthews correlation coefficient, binary and multi-class (Gorodkin's :math:`R_K`).

    .. math::
        \text{MCC} = \frac{c\,s - \sum_k p_k t_k}
                          {\sqrt{(s^2 - \sum_k p_k^2)(s^2 - \sum_k t_k^2)}}

    with C the confusion matrix, :math:`c = \operatorname{tr} C` correct predictions, s = N,
    :math:`t_k` the true and :math:`p_k` the predicted counts of class k. Binary, it is
    :math:`(TP\,TN - FP\,FN)/\sqrt{(TP+FP)(TP+FN)(TN+FP)(TN+FN)}`: the correlation of y and
    :math:`\hat y`, in [-1, 1]. Returns 0.0 when the denominator is 0 (one class predicted or
    present), as sklearn. Args: y_true, y_pred: (N,). Reference: sklearn.metrics.matthews_corrcoef.
    """
    C = confusion_matrix(y_true, y_pred).astype(np.float64)
    t_k, p_k, c, s = C.sum(axis=1), C.sum(axis=0), np.trace(C), C.sum()
    cov_tp = c * s - p_k @ t_k
    cov_pp, cov_tt = s ** 2 - p_k @ p_k, s ** 2 - t_k @ t_k
    if cov_pp * cov_tt == 0:
        return 0.0
    return float(cov_tp / np.sqrt(cov_pp * cov_tt))


# ---------------------------------------------------------------- probabilistic and top-k

def log_loss(y_true, y_prob, *, labels=None, eps="auto") -> float:
    r"""Mean negative log-likelihood (cross-entropy) of the true classes.

    .. math:: L = -\frac{1}{N} \sum_n \sum_k y_{nk} \log \operatorname{clip}(p_{nk}, \epsilon,
        1 - \epsilon)

    Args:
        y_true: (N,) labels; y_prob: (N,) probability of the positive (larger) class for
            binary, or (N, K) rows with columns in sorted label order.
        labels: (K,) sorted classes when y_true does not show them all.
        eps: clipping bound; "auto" = machine epsilon of y_prob's dtype (float32 stays float32,
            anything else becomes float64), as sklearn >= 1.5, so 0 and 1 give a finite loss.
    Raises:
        ValueError for probabilities outside [0, 1] or NaN, for one class only, and for rows
        that do not sum to 1 (sklearn's tolerance, rtol=sqrt(eps)): sklearn 1.9 warns and computes the
        loss from the rows as given; we refuse, since such rows are almost always logits or
        scores passed by mistake.
    Reference: sklearn.metrics.log_loss.
    """
    func = "log_loss"
    t, P = _scores(func, y_true, y_prob, ndim=(1, 2), name="y_prob")
    P = P if P.dtype in (np.float32, np.float16) else P.astype(np.float64)
    if P.min() < 0 or P.max() > 1:
        raise ValueError(f"{func}: y_prob must be in [0, 1]; got values in "
                         f"[{P.min()}, {P.max()}]")
    if P.ndim == 1 or P.shape[1] == 1:
        P = np.stack([1 - P.reshape(-1), P.reshape(-1)], axis=1)  # (N, 2): [P(neg), P(pos)]
    classes = np.unique(t) if labels is None else _array(labels)
    if len(classes) < 2:
        raise ValueError(f"{func}: needs at least 2 classes; got {classes.tolist()} "
                         "(pass labels= with every class)")
    classes = _classes(func, t, labels, P.shape[1], "y_prob")
    eps = np.finfo(P.dtype).eps if isinstance(eps, str) and eps == "auto" else eps
    if not isinstance(eps, numbers.Real) or isinstance(eps, bool) or not 0 < eps < 0.5:
        raise ValueError(f"{func}: eps must be 'auto' or a number in (0, 0.5); got {eps!r}")
    # sklearn's test: isclose(row sum, 1, rtol=sqrt(eps of the dtype), atol=1e-8)
    if not np.allclose(P.sum(axis=1), 1.0, rtol=np.sqrt(np.finfo(P.dtype).eps), atol=1e-8):
        raise ValueError(f"{func}: each row of y_prob must sum to 1 (probabilities, not "
                         "logits); apply a softmax first")
    # clip to [eps, 1 - eps]: log(0) would be -inf
    P = np.clip(P, eps, 1 - eps)
    Y = (t[:, None] == classes[None, :]).astype(P.dtype)  # (N, K) one-hot
    return float(np.mean(-np.sum(Y * np.log(P), axis=1)))


def top_k_accuracy(y_true, y_score, *, k=5, labels=None) -> float:
    r"""Fraction of samples whose true class is among the k highest-scored classes.

    Ties: sklearn sorts each row with a stable ascending argsort and reverses it, so among
    equal scores the class with the *larger* column index ranks first; we do the same.
    With 1-D binary scores and k=1 the prediction is score > 0.5 (scores in [0, 1]) or > 0.

    Args:
        y_true: (N,) labels; y_score: (N, K) scores, columns in sorted label order, or (N,)
            binary scores of the larger class. (N, 2) rows for binary y_true are ranked like
            any (N, K) rows (sklearn refuses them).
        k: 1 <= k < K (k >= K would make every sample a hit: sklearn warns, we raise).
        labels: (K,) sorted classes naming the columns, when y_true does not show them all.
    Reference: sklearn.metrics.top_k_accuracy_score (its default is k=2).
    """
    func = "top_k_accuracy"
    t, s = _scores(func, y_true, y_score, ndim=(1, 2))
    k = check_int(func, "k", k, 1)
    classes = _classes(func, t, labels, 2 if s.ndim == 1 else s.shape[1])
    if k >= len(classes):
        raise ValueError(f"{func}: k must be < the number of classes {len(classes)} "
                         f"(else every sample is a hit); got k={k}")
    y = np.searchsorted(classes, t)  # (N,) column of the true class
    if s.ndim == 1:
        threshold = 0.5 if s.min() >= 0 and s.max() <= 1 else 0.0
        return float(np.mean((s > threshold).astype(np.int64) == y))
    top = np.argsort(s, axis=1, kind="stable")[:, ::-1][:, :k]  # (N, k) best first
    return float(np.mean(np.any(top == y[:, None], axis=1)))
