"""Tests for companion.metrics: every metric against sklearn.metrics (KS: scipy.stats.ks_2samp,
AUC's ranking meaning: scipy.stats.mannwhitneyu), on hypothesis-drawn labels (int, negative int,
bool, string; imbalanced, a class never predicted, a single class) and tied scores; properties;
every bad-input message.

Tolerances: these are exact counting computations in float64, so references are compared with
rtol=1e-12 (curves: exact equality); float32 log loss with rtol=1e-6. Every warning is an error
in this file: the library must never warn, and sklearn is always given zero_division explicitly.
"""
import warnings

import numpy as np
import pytest
import scipy.stats
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st

from companion import metrics as M

pytestmark = pytest.mark.filterwarnings("error")
EXACT = dict(rtol=1e-12, atol=1e-15)
AVERAGES = ["binary", "micro", "macro", "weighted", None]
ZERO_DIVISION = [0.0, 1.0, np.nan]
NAMES = {"int": np.array([0, 1, 2, 3]), "signed": np.array([-1, 1, 5, 9]),
         "bool": np.array([False, True]), "str": np.array(["ant", "bee", "cat", "dog"])}
SK = {M.precision: skm.precision_score, M.recall: skm.recall_score, M.f1_score: skm.f1_score}
FEW_SCORES = st.sampled_from([0.0, 0.2, 0.5, 0.5, 0.9, 1.0])  # heavy ties


@st.composite
def label_pairs(draw, max_classes=4, kinds=tuple(NAMES), min_size=1):
    """(y_true, y_pred, names): labels drawn from up to ``max_classes`` names of one kind.
    y_pred only uses a drawn subset of the classes, so a class is often never predicted."""
    names = NAMES[draw(st.sampled_from(kinds))]
    K = draw(st.integers(1, min(max_classes, len(names))))
    n = draw(st.integers(min_size, 25))
    idx = st.integers(0, K - 1)
    t = draw(st.lists(idx, min_size=n, max_size=n))
    used = draw(st.lists(idx, min_size=1, max_size=K, unique=True))
    p = draw(st.lists(st.sampled_from(used), min_size=n, max_size=n))
    return names[t], names[p], names[:K]


@st.composite
def scored_binary(draw, both=True, kinds=("int", "signed", "bool", "str")):
    """(y_true, y_score, pos_label): binary labels, scores with many ties; both classes if asked."""
    names = NAMES[draw(st.sampled_from(kinds))][:2]
    n = draw(st.integers(2 if both else 1, 30))
    t = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n).filter(
        lambda v: not both or len(set(v)) == 2))
    score = draw(st.one_of(st.lists(FEW_SCORES, min_size=n, max_size=n),
                           st.lists(st.floats(-5, 5), min_size=n, max_size=n)))
    return names[t], np.array(score), names[1]


def ref(fn, *args, **kwargs):
    """Call a reference function, silencing ITS warnings (e.g. sklearn 1.9's UserWarning for a
    1 x 1 confusion matrix); ours run outside this, where any warning fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def brute_specificity(t, p, classes):
    """Per class k: TN / (TN + FP) with TN, FP from sklearn's multilabel_confusion_matrix."""
    mcm = ref(skm.multilabel_confusion_matrix, t, p, labels=classes)  # (K, 2, 2): [[TN, FP], [FN, TP]]
    return mcm[:, 0, 0], mcm[:, 0, 1], mcm[:, 1, 0] + mcm[:, 1, 1]


# ---------------------------------------------------------------- counting metrics vs sklearn

@settings(max_examples=40, deadline=None)
@given(label_pairs())
def test_confusion_matrix_and_accuracy_match_sklearn(data):
    t, p, names = data
    C = M.confusion_matrix(t, p)
    np.testing.assert_array_equal(C, ref(skm.confusion_matrix, t, p))
    assert C.dtype == np.int64 and C.sum() == len(t)
    assert M.accuracy(t, p) == ref(skm.accuracy_score, t, p)
    if np.isin(names, t).any():  # sklearn refuses labels none of which is in y_true
        order = names[::-1]  # a given label order, possibly with an absent class
        np.testing.assert_array_equal(M.confusion_matrix(t, p, labels=order),
                                      ref(skm.confusion_matrix, t, p, labels=order))


@settings(max_examples=80, deadline=None)
@given(label_pairs(), st.sampled_from(AVERAGES), st.sampled_from(ZERO_DIVISION),
       st.sampled_from([M.precision, M.recall, M.f1_score]))
def test_precision_recall_f1_match_sklearn(data, average, zero_division, ours):
    t, p, names = data
    present = np.union1d(t, p)
    if average == "binary" and len(present) > 2:
        return  # refused by both: tested among the bad inputs
    pos = names[min(1, len(names) - 1)]
    kw = dict(average=average, zero_division=zero_division)
    if average == "binary":
        kw["pos_label"] = pos
    if average == "binary" and not any(pos == v for v in present.tolist()) and len(present) == 2:
        return
    got, want = ours(t, p, **kw), ref(SK[ours], t, p, **kw)
    np.testing.assert_allclose(got, want, **EXACT)
    assert isinstance(got, float) if average is not None else got.dtype == np.float64


@settings(max_examples=40, deadline=None)
@given(label_pairs(), st.sampled_from(ZERO_DIVISION), st.sampled_from(AVERAGES[1:]))
def test_precision_recall_f1_with_given_labels_match_sklearn(data, zero_division, average):
    t, p, names = data
    labels = NAMES["str"][[2, 0]] if names.dtype.kind == "U" else names[:2][::-1]
    for ours in SK:
        kw = dict(average=average, labels=labels, zero_division=zero_division)
        np.testing.assert_allclose(ours(t, p, **kw), ref(SK[ours], t, p, **kw), **EXACT)


@settings(max_examples=50, deadline=None)
@given(label_pairs(), st.sampled_from(ZERO_DIVISION), st.sampled_from(AVERAGES[1:]))
def test_specificity_and_fpr_match_the_confusion_counts(data, zero_division, average):
    t, p, _ = data
    classes = np.union1d(t, p)
    tn, fp, support = brute_specificity(t, p, classes)
    if average == "micro":
        tn, fp = tn.sum(keepdims=True), fp.sum(keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        spec = np.where(tn + fp > 0, tn / (tn + fp), zero_division)
        fpr = np.where(tn + fp > 0, fp / (tn + fp), zero_division)
    for ours, per_class in ((M.specificity, spec), (M.false_positive_rate, fpr)):
        got = ours(t, p, average=average, zero_division=zero_division)
        if average is None:
            np.testing.assert_allclose(got, per_class, **EXACT)
        elif np.isnan(per_class).all():
            assert np.isnan(got)
        else:
            keep = ~np.isnan(per_class)
            w = support[keep] if average == "weighted" and support[keep].sum() else None
            np.testing.assert_allclose(got, np.average(per_class[keep], weights=w), **EXACT)


@settings(max_examples=40, deadline=None)
@given(label_pairs(max_classes=2, min_size=2), st.sampled_from(ZERO_DIVISION))
def test_binary_specificity_is_recall_of_the_other_class(data, zero_division):
    t, p, names = data
    if len(names) < 2:
        return
    kw = dict(zero_division=zero_division)
    spec = M.specificity(t, p, pos_label=names[1], **kw)
    np.testing.assert_allclose(spec, ref(skm.recall_score, t, p, pos_label=names[0], **kw), **EXACT)
    fpr = M.false_positive_rate(t, p, pos_label=names[1], **kw)
    if np.any(t == names[0]):  # TN + FP > 0: both defined, and they add up to 1
        np.testing.assert_allclose(spec + fpr, 1.0, **EXACT)


@settings(max_examples=40, deadline=None)
@given(label_pairs())
def test_matthews_corrcoef_matches_sklearn_and_is_symmetric(data):
    t, p, _ = data
    mcc = M.matthews_corrcoef(t, p)
    np.testing.assert_allclose(mcc, ref(skm.matthews_corrcoef, t, p), **EXACT)
    np.testing.assert_allclose(M.matthews_corrcoef(p, t), mcc, **EXACT)
    assert -1 - 1e-12 <= mcc <= 1 + 1e-12


# ---------------------------------------------------------------- properties of the counting metrics

@settings(max_examples=40, deadline=None)
@given(label_pairs(max_classes=2, kinds=("int",)))
def test_f1_is_the_harmonic_mean_of_precision_and_recall(data):
    t, p, _ = data
    P, R = M.precision(t, p), M.recall(t, p)
    for value in (P, R, M.f1_score(t, p)):
        assert 0.0 <= value <= 1.0
    if P + R > 0:
        np.testing.assert_allclose(M.f1_score(t, p), 2 * P * R / (P + R), **EXACT)


@settings(max_examples=40, deadline=None)
@given(label_pairs(kinds=("int",)), st.permutations([0, 1, 2, 3]))
def test_macro_averages_do_not_depend_on_the_class_names(data, perm):
    t, p, _ = data
    rename = np.array(perm)
    for ours in (M.precision, M.recall, M.f1_score, M.specificity):
        np.testing.assert_allclose(ours(rename[t], rename[p], average="macro"),
                                   ours(t, p, average="macro"), **EXACT)
    np.testing.assert_allclose(M.matthews_corrcoef(rename[t], rename[p]),
                               M.matthews_corrcoef(t, p), **EXACT)


def test_accuracy_trap_on_imbalanced_data():
    t = np.r_[np.zeros(99, int), 1]
    p = np.zeros(100, int)  # the always-negative model
    assert M.accuracy(t, p) == 0.99
    assert M.recall(t, p) == 0.0 and M.f1_score(t, p) == 0.0 and M.matthews_corrcoef(t, p) == 0.0
    assert np.isnan(M.precision(t, p, zero_division=np.nan))  # nothing predicted positive


def test_torch_tensors_and_lists_give_the_same_results_and_inputs_are_unchanged():
    import torch  # here only: the rest of the file does not need its import time

    rng = np.random.default_rng(0)
    t, p = rng.integers(0, 3, 40), rng.integers(0, 3, 40)
    t0 = t.copy()
    for f in (M.accuracy, M.matthews_corrcoef):
        assert f(torch.tensor(t), torch.tensor(p)) == f(t.tolist(), p.tolist()) == f(t, p)
    np.testing.assert_array_equal(M.confusion_matrix(torch.tensor(t), p), M.confusion_matrix(t, p))
    s = rng.random(40)
    s0 = s.copy()
    assert M.roc_auc(torch.tensor(t == 1), torch.tensor(s)) == M.roc_auc(t == 1, s)
    M.lift_table(t == 1, s, n_bins=4)
    np.testing.assert_array_equal(t, t0)
    np.testing.assert_array_equal(s, s0)


# ---------------------------------------------------------------- curves and ranking metrics

@settings(max_examples=50, deadline=None)
@given(scored_binary(), st.booleans())
def test_roc_and_pr_curves_equal_sklearn(data, drop_intermediate):
    t, s, pos = data
    for ours, sk_fn in ((M.roc_curve, skm.roc_curve),
                        (M.precision_recall_curve, skm.precision_recall_curve)):
        got = ours(t, s, pos_label=pos, drop_intermediate=drop_intermediate)
        want = ref(sk_fn, t, s, pos_label=pos, drop_intermediate=drop_intermediate)
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)
    fpr, tpr, thr = M.roc_curve(t, s, pos_label=pos)
    assert thr[0] == np.inf and fpr[0] == tpr[0] == 0 and fpr[-1] == tpr[-1] == 1


@settings(max_examples=25, deadline=None)
@given(scored_binary(both=False, kinds=("int",)))
def test_pr_curve_without_positives_follows_sklearn_silently(data):
    t, s, _ = data
    t = np.zeros_like(t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns "No positive class found"; we do not
        want = ref(skm.precision_recall_curve, t, s)
        ap = ref(skm.average_precision_score, t, s)
    for a, b in zip(M.precision_recall_curve(t, s), want):
        np.testing.assert_array_equal(a, b)
    assert M.average_precision(t, s) == ap


@settings(max_examples=50, deadline=None)
@given(scored_binary())
def test_roc_auc_ap_and_ks_match_the_references(data):
    t, s, pos = data
    y = t == pos
    np.testing.assert_allclose(M.roc_auc(y, s), ref(skm.roc_auc_score, y, s), **EXACT)
    np.testing.assert_allclose(M.average_precision(t, s, pos_label=pos),
                               ref(skm.average_precision_score, t, s, pos_label=pos), **EXACT)
    # AUC = P(score+ > score-) + P(tie) / 2 = U / (n+ n-)
    u = scipy.stats.mannwhitneyu(s[y], s[~y]).statistic
    np.testing.assert_allclose(M.pairwise_auc(t, s, pos_label=pos), u / (y.sum() * (~y).sum()),
                               **EXACT)
    np.testing.assert_allclose(M.pairwise_auc(t, s, pos_label=pos), M.roc_auc(y, s), **EXACT)
    # reversing the scores reverses every pair's order
    np.testing.assert_allclose(M.roc_auc(y, -s), 1 - M.roc_auc(y, s), **EXACT)
    ks = M.ks_statistic(t, s, pos_label=pos)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy's p-value for tiny samples; the statistic is fine
        d = scipy.stats.ks_2samp(s[y], s[~y]).statistic
    np.testing.assert_allclose(ks.statistic, d, **EXACT)  # scipy rounds D to k / lcm(n+, n-)
    tpr, fpr = np.mean(s[y] >= ks.threshold), np.mean(s[~y] >= ks.threshold)
    np.testing.assert_allclose(abs(tpr - fpr), ks.statistic, **EXACT)
    assert isinstance(ks.statistic, float) and isinstance(ks.threshold, float)


@settings(max_examples=30, deadline=None)
@given(st.integers(3, 4), st.integers(8, 30), st.integers(0, 2 ** 32 - 1),
       st.sampled_from(["macro", "weighted", "micro", None]), st.booleans())
def test_multiclass_ovr_auc_matches_sklearn(K, n, seed, average, tied):
    rng = np.random.default_rng(seed)
    t = np.r_[np.arange(K), rng.integers(0, K, n - K)]  # every class present
    s = rng.integers(1, 4, (n, K)).astype(float) if tied else rng.random((n, K))
    s /= s.sum(axis=1, keepdims=True)
    kw = dict(multi_class="ovr", average=average)
    np.testing.assert_allclose(M.roc_auc(t, s, **kw), ref(skm.roc_auc_score, t, s, **kw), **EXACT)
    names = NAMES["str"][:K]
    np.testing.assert_allclose(M.roc_auc(names[t], s, labels=names, **kw),
                               ref(skm.roc_auc_score, names[t], s, labels=names, **kw), **EXACT)


def brute_lift(y, s, n_bins):
    """Sort by score (descending, stable), cut like np.array_split, count in loops."""
    order = sorted(range(len(s)), key=lambda i: -s[i])  # Python's sort is stable
    bins = np.array_split(np.array([y[i] for i in order]), n_bins)
    rows, cum, cum_n, base = [], 0, 0, sum(y) / len(y)
    for b in bins:
        cum, cum_n = cum + b.sum(), cum_n + len(b)
        rows.append((len(b), b.sum(), b.mean(), cum, cum / sum(y), b.mean() / base,
                     cum / cum_n / base))
    return np.array(rows, dtype=float).T


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.booleans(), FEW_SCORES), min_size=1, max_size=40)
       .filter(lambda v: any(y for y, _ in v)), st.integers(1, 12))
def test_lift_table_matches_a_brute_force_count(rows, n_bins):
    y, s = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    n_bins = min(n_bins, len(y))
    table = M.lift_table(y, s, n_bins=n_bins, pos_label=True)
    want = brute_lift(y.astype(int), s, n_bins)
    got = np.array([table.count, table.positives, table.rate, table.cumulative_positives,
                    table.gain, table.lift, table.cumulative_lift], dtype=float)
    np.testing.assert_allclose(got, want, **EXACT)
    np.testing.assert_array_equal(table.bin, np.arange(1, n_bins + 1))
    assert table.count.sum() == len(y)
    np.testing.assert_allclose([table.gain[-1], table.cumulative_lift[-1]], [1.0, 1.0], **EXACT)


# ---------------------------------------------------------------- log loss and top-k

@settings(max_examples=40, deadline=None)
@given(st.integers(2, 30), st.integers(0, 2 ** 32 - 1), st.sampled_from(["int", "str", "bool"]))
def test_binary_log_loss_with_exact_zeros_and_ones_matches_sklearn(n, seed, kind):
    rng = np.random.default_rng(seed)
    names = NAMES[kind][:2]
    t = names[np.r_[0, 1, rng.integers(0, 2, n - 2)]]
    p = rng.choice([0.0, 1.0, 0.3, 0.8], n)  # certain predictions, right and wrong
    loss = M.log_loss(t, p)
    assert np.isfinite(loss)
    np.testing.assert_allclose(loss, ref(skm.log_loss, t, p), **EXACT)
    np.testing.assert_allclose(M.log_loss(t, np.c_[1 - p, p]), loss, **EXACT)  # (N, 2) form
    np.testing.assert_allclose(M.log_loss(t, p.astype(np.float32)),
                               ref(skm.log_loss, t, p.astype(np.float32)), rtol=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.integers(3, 5), st.integers(5, 30), st.integers(0, 2 ** 32 - 1))
def test_multiclass_log_loss_matches_sklearn(K, n, seed):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, K, n)
    P = rng.random((n, K)) * (rng.random((n, K)) > 0.3)  # exact zeros
    P[np.arange(n), rng.integers(0, K, n)] += 1.0
    P /= P.sum(axis=1, keepdims=True)
    labels = np.arange(K)  # y_true may miss a class
    np.testing.assert_allclose(M.log_loss(t, P, labels=labels),
                               ref(skm.log_loss, t, P, labels=labels), **EXACT)


def test_log_loss_eps_clips_certain_mistakes():
    assert M.log_loss([0, 1], [1.0, 0.0], eps=1e-3) == pytest.approx(-np.log(1e-3), rel=1e-12)
    assert M.log_loss([0, 1], [1.0, 0.0]) == pytest.approx(-np.log(np.finfo(float).eps), rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 6), st.integers(5, 30), st.integers(0, 2 ** 32 - 1), st.integers(1, 5))
def test_top_k_accuracy_matches_sklearn_with_ties(K, n, seed, k):
    rng = np.random.default_rng(seed)
    k = min(k, K - 1)
    t = np.r_[np.arange(K), rng.integers(0, K, n)]
    s = rng.integers(0, 3, (len(t), K)).astype(float)  # many ties within a row
    np.testing.assert_allclose(M.top_k_accuracy(t, s, k=k), ref(skm.top_k_accuracy_score, t, s, k=k))
    names = NAMES["str"][:K] if K <= 4 else None
    if names is not None:
        assert M.top_k_accuracy(names[t], s, k=k, labels=names) == ref(skm.top_k_accuracy_score, 
            names[t], s, k=k, labels=names)
    smooth = rng.random((len(t), K))  # no ties: top-1 is the argmax
    assert M.top_k_accuracy(t, smooth, k=1) == M.accuracy(t, smooth.argmax(axis=1))


@pytest.mark.parametrize("scores", [[0.2, 0.7, 0.5, 0.9, 0.1], [-1.0, 2.0, 0.3, -0.2, 4.0]])
def test_top_1_accuracy_of_binary_scores_matches_sklearn(scores):
    t = [0, 1, 1, 0, 1]
    assert M.top_k_accuracy(t, scores, k=1) == ref(skm.top_k_accuracy_score, t, scores, k=1)


# ---------------------------------------------------------------- regression

@settings(max_examples=40, deadline=None)
@given(st.integers(2, 30), st.integers(1, 3), st.integers(0, 2 ** 32 - 1), st.booleans())
def test_regression_metrics_match_sklearn(n, D, seed, flat):
    rng = np.random.default_rng(seed)
    shape = (n,) if flat else (n, D)
    y, y_hat = rng.normal(size=shape), rng.normal(size=shape)
    pairs = [(M.mse, skm.mean_squared_error), (M.rmse, skm.root_mean_squared_error),
             (M.mae, skm.mean_absolute_error), (M.r2_score, skm.r2_score)]
    for ours, sk_fn in pairs:
        got = ours(y, y_hat)
        assert isinstance(got, float)
        np.testing.assert_allclose(got, ref(sk_fn, y, y_hat), **EXACT)
    np.testing.assert_allclose(M.r2_score(y, y), 1.0, **EXACT)


def test_r2_is_negative_for_a_model_worse_than_the_mean():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    bad = y[::-1]
    assert M.r2_score(y, bad) == pytest.approx(ref(skm.r2_score, y, bad), rel=1e-12) == -3.0
    assert M.r2_score(y, np.full(4, y.mean())) == 0.0


@pytest.mark.parametrize("y_pred, expected", [([2.0, 2.0, 2.0], 1.0), ([2.0, 2.0, 3.0], 0.0)])
def test_r2_of_constant_targets_follows_force_finite(y_pred, expected):
    y = [2.0, 2.0, 2.0]
    assert M.r2_score(y, y_pred) == ref(skm.r2_score, y, y_pred) == expected


# ---------------------------------------------------------------- bad input: every message

@pytest.mark.parametrize("call, error, match", [
    (lambda: M.accuracy([0, 1], [0, 1, 1]), ValueError,
     r"^accuracy: arrays must have the same length; got y_true has 2, y_pred has 3$"),
    (lambda: M.precision([], []), ValueError, r"^precision: y_true must not be empty"),
    (lambda: M.recall([[0, 1]], [[0, 1]]), ValueError,
     r"^recall: y_true must have 1 dimensions \(N,\); got shape \(1, 2\)$"),
    (lambda: M.f1_score([0, 1], ["a", "b"]), ValueError,
     r"^f1_score: y_true and y_pred mix string and numeric labels"),
    (lambda: M.precision([0, 1, 2], [0, 1, 2]), ValueError,
     r"^precision: average='binary' needs at most 2 classes; got 3"),
    (lambda: M.recall(["a", "b"], ["a", "a"]), ValueError,
     r"^recall: pos_label=1 is not one of the labels \['a', 'b'\]"),
    (lambda: M.f1_score([0, 1], [0, 1], average="samples"), ValueError,
     r"^f1_score: average must be one of 'binary', 'micro', 'macro', 'weighted' or None; "
     r"got 'samples'$"),
    (lambda: M.specificity([0, 1], [0, 1], zero_division="warn"), ValueError,
     r"^specificity: zero_division must be 0.0, 1.0 or nan; got 'warn'$"),
    (lambda: M.confusion_matrix([0, 1], [0, 1], labels=[0, 0]), ValueError,
     r"^confusion_matrix: labels must be unique"),
    (lambda: M.confusion_matrix([0, 1], [0, 1], labels=[5, 6]), ValueError,
     r"^confusion_matrix: at least one of labels \[5, 6\] must be in y_true$"),
    (lambda: M.roc_curve([1, 1, 1], [0.1, 0.2, 0.3]), ValueError,
     r"^roc_curve: y_true must hold both classes .* got 3 positives and 0 negatives$"),
    (lambda: M.roc_curve(["a", "b"], [0.1, 0.2]), ValueError,
     r"^roc_curve: pos_label must be given unless y_true's labels are \{0, 1\} or \{-1, 1\}"),
    (lambda: M.roc_curve([0, 1], [0.1, np.nan]), ValueError,
     r"^roc_curve: y_score must be finite"),
    (lambda: M.roc_curve([0, 1], ["a", "b"]), TypeError,
     r"^roc_curve: y_score must hold numbers; got dtype <U1$"),
    (lambda: M.roc_auc([0, 0, 0], [0.1, 0.2, 0.3]), ValueError,
     r"^roc_auc: AUC is undefined unless y_true holds exactly 2 classes"),
    (lambda: M.roc_auc([0, 1, 2], np.eye(3)), ValueError,
     r"^roc_auc: \(N, K\) scores need multi_class='ovr'"),
    (lambda: M.roc_auc([0, 1, 2], np.eye(3), multi_class="ovr", average="binary"), ValueError,
     r"^roc_auc: average must be 'micro', 'macro', 'weighted' or None; got 'binary'$"),
    (lambda: M.roc_auc([0, 1, 2], np.full((3, 2), 0.5), multi_class="ovr"), ValueError,
     r"^roc_auc: y_score must have one column per class \(3: \[0, 1, 2\]\); got 2 columns$"),
    (lambda: M.roc_auc([0, 1, 2], np.ones((3, 3)), multi_class="ovr"), ValueError,
     r"^roc_auc: \(N, K\) scores must be probabilities whose rows sum to 1$"),
    (lambda: M.roc_auc([0, 1, 1], np.eye(3), multi_class="ovr", labels=[0, 1, 2]), ValueError,
     r"^roc_auc: AUC is undefined when y_true holds only one class; got 0 positives"),
    (lambda: M.pairwise_auc([1, 1], [0.1, 0.2]), ValueError,
     r"^pairwise_auc: AUC is undefined unless y_true holds both positives"),
    (lambda: M.average_precision([0, 1, 2], [0.1, 0.2, 0.3]), ValueError,
     r"^average_precision: y_true must be binary; got classes \[0, 1, 2\]$"),
    (lambda: M.average_precision(["a", "b"], [0.1, 0.2]), ValueError,
     r"^average_precision: pos_label=1 is not one of the labels \['a', 'b'\]"),
    (lambda: M.ks_statistic([0, 0], [0.1, 0.2]), ValueError,
     r"^ks_statistic: y_true must hold both positives and negatives; got 0 positives"),
    (lambda: M.lift_table([0, 1], [0.1, 0.2], n_bins=3), ValueError,
     r"^lift_table: n_bins must be <= the number of samples 2; got 3$"),
    (lambda: M.lift_table([0, 1], [0.1, 0.2], n_bins=0), ValueError,
     r"^lift_table: n_bins must be an integer >= 1; got 0$"),
    (lambda: M.lift_table([0, 0], [0.1, 0.2], n_bins=2), ValueError,
     r"^lift_table: y_true holds no positive \(pos_label=1\): lift is undefined$"),
    (lambda: M.log_loss([0, 1], [0.5, 1.5]), ValueError,
     r"^log_loss: y_prob must be in \[0, 1\]; got values in \[0.5, 1.5\]$"),
    (lambda: M.log_loss([0, 1], [-0.1, 0.5]), ValueError, r"^log_loss: y_prob must be in \[0, 1\]"),
    (lambda: M.log_loss([0, 1], [np.nan, 0.5]), ValueError,
     r"^log_loss: y_prob must be finite \(no NaN or inf\)$"),
    (lambda: M.log_loss([0, 1], [[0.5, 0.5, 0.0]] * 2), ValueError,
     r"^log_loss: y_prob must have one column per class \(2: \[0, 1\]\); got 3 columns$"),
    (lambda: M.log_loss([0, 1], [[0.5, 0.6], [0.1, 0.9]]), ValueError,
     r"^log_loss: each row of y_prob must sum to 1 \(probabilities, not logits\)"),
    (lambda: M.log_loss([1, 1], [0.5, 0.6]), ValueError,
     r"^log_loss: needs at least 2 classes; got \[1\] \(pass labels= with every class\)$"),
    (lambda: M.log_loss([0, 1], [[0.5, 0.5]] * 2, labels=[1, 0]), ValueError,
     r"^log_loss: labels must be unique and sorted"),
    (lambda: M.log_loss([0, 3], [[0.5, 0.5]] * 2, labels=[0, 1]), ValueError,
     r"^log_loss: y_true holds labels not in labels \[0, 1\]$"),
    (lambda: M.log_loss([0, 1], [0.5, 0.5], eps=0.7), ValueError,
     r"^log_loss: eps must be 'auto' or a number in \(0, 0.5\); got 0.7$"),
    (lambda: M.top_k_accuracy([0, 1, 2], np.eye(3), k=0), ValueError,
     r"^top_k_accuracy: k must be an integer >= 1; got 0$"),
    (lambda: M.top_k_accuracy([0, 1, 2], np.eye(3), k=3), ValueError,
     r"^top_k_accuracy: k must be < the number of classes 3 \(else every sample is a hit\); "
     r"got k=3$"),
    (lambda: M.top_k_accuracy([0, 1, 2], np.eye(3), k=1.5), TypeError,
     r"^top_k_accuracy: k must be an integer; got float$"),
    (lambda: M.top_k_accuracy([0, 1, 2], np.eye(3)[:, :2], k=1), ValueError,
     r"^top_k_accuracy: y_score must have one column per class \(3: \[0, 1, 2\]\); got 2"),
    (lambda: M.mse([1.0, 2.0], [1.0]), ValueError,
     r"^mse: y_pred must have the shape of y_true \(2,\); got \(1,\)$"),
    (lambda: M.mae([], []), ValueError, r"^mae: y_true must not be empty; got shape \(0,\)$"),
    (lambda: M.rmse(np.zeros((2, 2, 2)), np.zeros((2, 2, 2))), ValueError,
     r"^rmse: y_true must have 1 or 2 dimensions \(N,\) or \(N, D\); got shape \(2, 2, 2\)$"),
    (lambda: M.mse([1.0, np.inf], [1.0, 2.0]), ValueError, r"^mse: y_true must be finite"),
    (lambda: M.mae(["a"], ["b"]), TypeError, r"^mae: y_true must hold numbers; got dtype <U1$"),
    (lambda: M.r2_score([1.0], [1.0]), ValueError,
     r"^r2_score: needs at least 2 samples; got 1$"),
])
def test_bad_input_messages(call, error, match):
    with pytest.raises(error, match=match):
        call()
