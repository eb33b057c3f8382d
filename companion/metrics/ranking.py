r"""Metrics from scores ranked by a threshold: ROC and precision-recall curves, AUC, average
precision, the KS statistic and the lift table.

Each sweeps a threshold down the distinct scores: at threshold :math:`t` everything with score
:math:`\ge t` is called positive, which gives one (FPR, TPR) or (recall, precision) point.
Reference: ``sklearn.metrics`` and ``scipy.stats.ks_2samp``; conventions in :mod:`companion.metrics`.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..validation import check_int, check_ndim
from ._common import _array, _classes, _divide, _is_in, _resolve_pos_label, _scores

__all__ = [
    "roc_curve", "roc_auc", "pairwise_auc", "precision_recall_curve", "average_precision",
    "KSResult", "ks_statistic", "LiftTable", "lift_table",
]


def _desc_order(s):
    """Indices sorting s in descending order, ties kept in input order (stable)."""
    r = np.argsort(s[::-1], kind="stable")[::-1]  # stable ascending on the reversed array
    return len(s) - 1 - r


def _threshold_counts(func, y_true, y_score, pos_label):
    """fps, tps (float64) and thresholds (descending distinct scores, the score dtype):
    counts of negatives / positives with score >= each threshold, as sklearn."""
    t, s = _scores(func, y_true, y_score)
    pos_label = _resolve_pos_label(func, t, pos_label)
    order = _desc_order(s)
    s, y = s[order], (t[order] == pos_label).astype(np.float64)
    # a threshold at the last sample of each group of tied scores: ties move together
    idx = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tps = np.cumsum(y)[idx]
    fps = 1.0 + idx - tps  # samples above the threshold that are not positive
    return fps, tps, s[idx]


def _keep_corners(a, b):
    """Mask keeping the first and last point and every point where a or b bends."""
    return np.r_[True, np.logical_or(np.diff(a, 2), np.diff(b, 2)), True]


def roc_curve(y_true, y_score, *, pos_label=None, drop_intermediate=True):
    r"""Receiver operating characteristic: (FPR, TPR) at every distinct score threshold.

    A sample counts as positive when its score is >= the threshold. Tied scores move together,
    so a group of ties is one diagonal step. The first threshold is +inf (the point (0, 0)).

    Args:
        y_true: (N,) binary labels; y_score: (N,) scores (higher = more positive).
        pos_label: the positive class; None means 1 for labels in {0, 1} or {-1, 1}.
        drop_intermediate: drop points collinear with their neighbours (they do not change the
            drawn curve or its area).
    Returns:
        fpr, tpr: (M,) float64, increasing; thresholds: (M,) float64, decreasing, thresholds[0]=inf.
    Raises:
        ValueError if y_true holds only one class (sklearn warns and returns nan rates).
    Reference: sklearn.metrics.roc_curve.
    """
    fps, tps, thr = _threshold_counts("roc_curve", y_true, y_score, pos_label)
    if fps[-1] == 0 or tps[-1] == 0:
        raise ValueError("roc_curve: y_true must hold both classes (positives and negatives); "
                         f"got {int(tps[-1])} positives and {int(fps[-1])} negatives")
    if drop_intermediate and len(fps) > 2:
        keep = _keep_corners(fps, tps)
        fps, tps, thr = fps[keep], tps[keep], thr[keep]
    fps, tps = np.r_[0.0, fps], np.r_[0.0, tps]
    thr = np.r_[np.inf, thr.astype(np.float64)]
    # TPR = TP / P, FPR = FP / N_neg
    return fps / fps[-1], tps / tps[-1], thr


def _binary_auc(func, t, s, pos_label):
    fps, tps, _ = _threshold_counts(func, t, s, pos_label)
    if fps[-1] == 0 or tps[-1] == 0:
        raise ValueError(f"{func}: AUC is undefined when y_true holds only one class; got "
                         f"{int(tps[-1])} positives and {int(fps[-1])} negatives")
    fpr, tpr, _ = roc_curve(t, s, pos_label=pos_label)
    # area under the piecewise-linear curve: trapezoids (a tie group counts 1/2)
    return float(np.trapezoid(tpr, fpr))


def roc_auc(y_true, y_score, *, multi_class="raise", average="macro", labels=None) -> float:
    r"""Area under the ROC curve.

    Binary: the trapezoidal area under :func:`roc_curve`. It equals the probability that a
    random positive outscores a random negative, ties counting 1/2:
    :math:`\text{AUC} = U / (n_+ n_-)` with U the Mann-Whitney statistic (see
    :func:`pairwise_auc`). The positive class is the larger of the two labels (as sklearn).

    Multi-class, (N, K) probabilities with ``multi_class="ovr"``: one binary AUC per class
    (class k against the rest, column k), then "macro" (mean), "weighted" (by support),
    "micro" (one AUC over all flattened one-vs-rest pairs) or None ((K,) array).

    Args:
        y_true: (N,) labels; y_score: (N,) scores or (N, K) rows summing to 1.
        labels: (K,) sorted classes naming the columns; default the sorted classes of y_true.
    Raises:
        ValueError if a class (binary: either class) is absent from y_true: sklearn warns and
        returns nan there, we say that the AUC is undefined.
    Reference: sklearn.metrics.roc_auc_score (multi_class="ovo" is not provided).
    """
    func = "roc_auc"
    t, s = _scores(func, y_true, y_score, ndim=(1, 2))
    if s.ndim == 1:
        classes = np.unique(t)
        if len(classes) != 2:
            raise ValueError(f"{func}: AUC is undefined unless y_true holds exactly 2 classes "
                             f"for 1-D scores; got classes {classes.tolist()}")
        return _binary_auc(func, t, s, classes[1])
    if multi_class != "ovr":
        raise ValueError(f"{func}: (N, K) scores need multi_class='ovr' (one-vs-rest); got "
                         f"{multi_class!r} (binary y_true: pass the positive column only)")
    if average not in ("micro", "macro", "weighted", None):
        raise ValueError(f"{func}: average must be 'micro', 'macro', 'weighted' or None; "
                         f"got {average!r}")
    classes = _classes(func, t, labels, s.shape[1])
    if not np.allclose(s.sum(axis=1), 1.0):
        raise ValueError(f"{func}: (N, K) scores must be probabilities whose rows sum to 1")
    Y = t[:, None] == classes[None, :]  # (N, K) one-vs-rest targets
    if average == "micro":
        return _binary_auc(func, Y.ravel(), s.ravel(), True)
    aucs = np.array([_binary_auc(func, Y[:, k], s[:, k], True) for k in range(len(classes))])
    if average is None:
        return aucs
    return float(np.average(aucs, weights=Y.sum(axis=0) if average == "weighted" else None))


def pairwise_auc(y_true, y_score, *, pos_label=1) -> float:
    r"""AUC by its definition: the share of (positive, negative) pairs ranked correctly.

    .. math::
        \text{AUC} = \frac{1}{n_+ n_-} \sum_{i \in +} \sum_{j \in -}
            \left([s_i > s_j] + \tfrac{1}{2}[s_i = s_j]\right)

    O(n+ n-) time and memory: a check of :func:`roc_auc`, not a replacement.
    Args: y_true: (N,) labels; y_score: (N,) scores; pos_label: the positive class.
    Reference: scipy.stats.mannwhitneyu(s_pos, s_neg).statistic / (n+ n-).
    """
    t, s = _scores("pairwise_auc", y_true, y_score)
    pos = t == pos_label
    if pos.all() or not pos.any():
        raise ValueError("pairwise_auc: AUC is undefined unless y_true holds both positives "
                         f"(pos_label={pos_label!r}) and negatives")
    diff = s[pos][:, None] - s[~pos][None, :]  # (n+, n-)
    return float(np.mean((diff > 0) + 0.5 * (diff == 0)))


def precision_recall_curve(y_true, y_score, *, pos_label=None, drop_intermediate=False):
    r"""Precision and recall at every distinct score threshold (score >= threshold = positive).

    Args:
        y_true: (N,) binary labels; y_score: (N,) scores; pos_label as in :func:`roc_curve`.
        drop_intermediate: keep only the first and last threshold of each recall level.
    Returns:
        precision, recall: (M + 1,) float64 with recall decreasing, ending at the point
        (recall 0, precision 1), which has no threshold; thresholds: (M,) increasing, in the
        dtype of y_score. Precision is 0 where nothing is predicted positive; with no positives
        in y_true recall is 1 everywhere (both sklearn's rules; sklearn warns for the latter).
    Reference: sklearn.metrics.precision_recall_curve.
    """
    fps, tps, thr = _threshold_counts("precision_recall_curve", y_true, y_score, pos_label)
    if drop_intermediate and len(fps) > 2:
        keep = np.r_[True, np.logical_or(np.diff(tps[:-1]), np.diff(tps[1:])), True]
        fps, tps, thr = fps[keep], tps[keep], thr[keep]
    # precision = TP / (TP + FP), recall = TP / P
    prec = _divide(tps, tps + fps, 0.0)
    rec = tps / tps[-1] if tps[-1] > 0 else np.ones_like(tps)
    return np.r_[prec[::-1], 1.0], np.r_[rec[::-1], 0.0], thr[::-1]


def average_precision(y_true, y_score, *, pos_label=1) -> float:
    r"""Average precision, the step-wise area under the precision-recall curve.

    .. math:: \text{AP} = \sum_n (R_n - R_{n-1}) P_n

    each recall increment weighted by the precision reached there. Not the trapezoid rule:
    precision does not vary linearly between two PR points, so joining them with straight lines
    overstates the area (Davis and Goadrich, 2006). With no positive in y_true it is 0.0 (sklearn's
    value; sklearn warns).

    Args: y_true: (N,) binary labels; y_score: (N,) scores; pos_label: the positive class.
    Reference: sklearn.metrics.average_precision_score.
    """
    func = "average_precision"
    t = check_ndim(func, "y_true", _array(y_true), 1, "(N,)")
    classes = np.unique(t)
    if len(classes) > 2:
        raise ValueError(f"{func}: y_true must be binary; got classes {classes.tolist()}")
    if len(classes) == 2 and not _is_in(pos_label, classes):
        raise ValueError(f"{func}: pos_label={pos_label!r} is not one of the labels "
                         f"{classes.tolist()}; pass pos_label=<the positive class>")
    P, R, _ = precision_recall_curve(t, y_score, pos_label=pos_label)
    # recall decreases along the arrays: -diff gives R_n - R_{n-1} >= 0
    return float(max(0.0, -np.sum(np.diff(R) * P[:-1])))


class KSResult(NamedTuple):
    """What :func:`ks_statistic` returns."""

    statistic: float  # max |TPR - FPR| = sup |F_pos - F_neg|
    threshold: float  # the score threshold (score >= threshold = positive) where it is reached


def ks_statistic(y_true, y_score, *, pos_label=1) -> KSResult:
    r"""Kolmogorov-Smirnov statistic: the largest gap between the score distributions of the
    positives and the negatives.

    .. math:: D = \sup_x |F_+(x) - F_-(x)| = \max_\theta |TPR(\theta) - FPR(\theta)|

    with :math:`F_\pm` the empirical CDFs of the scores of each class; on the ROC curve it is the
    largest vertical distance to the diagonal. ``threshold`` is the first (highest) ROC
    threshold where it is reached; +inf only when D = 0.

    Args: y_true: (N,) labels; y_score: (N,) scores; pos_label: the positive class.
    Reference: scipy.stats.ks_2samp(s_pos, s_neg).statistic (two-sided).
    """
    fps, tps, thr = _threshold_counts("ks_statistic", y_true, y_score, pos_label)
    if fps[-1] == 0 or tps[-1] == 0:
        raise ValueError("ks_statistic: y_true must hold both positives and negatives; got "
                         f"{int(tps[-1])} positives and {int(fps[-1])} negatives")
    n_pos, n_neg = int(tps[-1]), int(fps[-1])
    # below threshold j lie n+ - tps_j positives and n- - fps_j negatives, so
    # |F+ - F-| = |(n+ - tps_j) n- - (n- - fps_j) n+| / (n+ n-): exact integers, one rounding
    num = np.abs((n_pos - tps.astype(np.int64)) * n_neg - (n_neg - fps.astype(np.int64)) * n_pos)
    num = np.r_[0, num]  # point 0: threshold +inf, both CDFs at 1
    best, g = int(np.argmax(num)), np.gcd(n_pos, n_neg)
    D = float(num[best] // g) / float(n_pos * n_neg // g)
    return KSResult(D, float(np.r_[np.inf, thr][best]))


class LiftTable(NamedTuple):
    """What :func:`lift_table` returns: one (n_bins,) array per column, bin 1 first."""

    bin: np.ndarray  # (B,) 1 = the highest scores
    count: np.ndarray  # samples in the bin
    positives: np.ndarray  # positives in the bin
    rate: np.ndarray  # positives / count
    cumulative_positives: np.ndarray
    gain: np.ndarray  # cumulative share of all positives captured (cumulative gain curve)
    lift: np.ndarray  # rate / base rate
    cumulative_lift: np.ndarray  # (cumulative positives / cumulative count) / base rate


def lift_table(y_true, y_score, *, n_bins=10, pos_label=1) -> LiftTable:
    r"""Lift and cumulative gain by score bin (deciles with ``n_bins=10``).

    Samples are sorted by score, highest first (stable: tied scores keep their input order),
    and cut into ``n_bins`` bins of sizes as ``np.array_split`` (the first ``N % n_bins`` bins
    get one extra sample). Bins are cut by position, so a group of tied scores straddling an
    edge is split between two bins in input order.

    .. math::
        \text{gain}_b = \frac{\sum_{j \le b} \text{pos}_j}{\sum_j \text{pos}_j} \qquad
        \text{lift}_b = \frac{\text{pos}_b / \text{count}_b}{\text{base rate}} \qquad
        \text{base rate} = \frac{\#\text{pos}}{N}

    A random ordering has lift 1 in every bin; gain reaches 1 and cumulative lift 1 in the
    last bin. Args: y_true: (N,) labels; y_score: (N,) scores; n_bins: 1 <= n_bins <= N.
    Returns: a :class:`LiftTable` of (n_bins,) arrays. Reference: none in sklearn; the
    cumulative gain chart of marketing analytics (tested against a brute-force version).
    """
    func = "lift_table"
    t, s = _scores(func, y_true, y_score)
    n_bins = check_int(func, "n_bins", n_bins, 1)
    if n_bins > len(t):
        raise ValueError(f"{func}: n_bins must be <= the number of samples {len(t)}; got {n_bins}")
    y = (t[_desc_order(s)] == pos_label).astype(np.int64)
    if y.sum() == 0:
        raise ValueError(f"{func}: y_true holds no positive (pos_label={pos_label!r}): "
                         "lift is undefined")
    count = np.array([len(b) for b in np.array_split(y, n_bins)], dtype=np.int64)
    positives = np.add.reduceat(y, np.r_[0, np.cumsum(count)[:-1]])  # (B,)
    base = y.sum() / len(y)
    cum_pos, cum_count = np.cumsum(positives), np.cumsum(count)
    return LiftTable(bin=np.arange(1, n_bins + 1), count=count, positives=positives,
                     rate=positives / count, cumulative_positives=cum_pos,
                     gain=cum_pos / y.sum(), lift=positives / count / base,
                     cumulative_lift=cum_pos / cum_count / base)
