r"""Evaluation metrics in NumPy, each checked against ``sklearn.metrics`` (KS: ``scipy.stats``).

One topic in three modules, all re-exported here (``from companion import metrics``):

- :mod:`~companion.metrics.classification`: the confusion matrix and its ratios (accuracy,
  precision, recall, F1, specificity, FPR, MCC), log loss and top-k accuracy;
- :mod:`~companion.metrics.ranking`: ROC and precision-recall curves, ROC AUC, average precision,
  the KS statistic and the lift table;
- :mod:`~companion.metrics.regression`: MSE, RMSE, MAE and R².

Inputs are array-likes: lists, NumPy arrays or torch tensors (on any device; they are copied with
``.detach().cpu()``). Labels may be ints, bools or strings; inputs are never modified. Scalars
come back as Python floats, per-class results and curves as NumPy arrays.

Conventions that differ from scikit-learn (1.9), because library code here never warns:

- A 0/0 ratio becomes ``zero_division`` (0.0, 1.0 or nan) *silently*; sklearn's default
  ``"warn"`` gives 0.0 with an ``UndefinedMetricWarning``.
- Where sklearn warns and returns nan or a meaningless value (ROC AUC or an ROC curve with a
  single class, ``top_k_accuracy`` with ``k >= K``, ``r2_score`` with one sample, ``log_loss``
  rows not summing to 1), we raise a ``ValueError`` that says why.
- ``pos_label`` is ignored (sklearn warns) when ``average`` is not ``"binary"``.
"""

from .classification import (accuracy, confusion_matrix, f1_score, false_positive_rate, log_loss,
                             matthews_corrcoef, precision, recall, specificity, top_k_accuracy)
from .ranking import (KSResult, LiftTable, average_precision, ks_statistic, lift_table, pairwise_auc,
                      precision_recall_curve, roc_auc, roc_curve)
from .regression import mae, mse, r2_score, rmse

__all__ = [
    "confusion_matrix", "accuracy", "precision", "recall", "f1_score", "specificity",
    "false_positive_rate", "roc_curve", "roc_auc", "pairwise_auc", "precision_recall_curve",
    "average_precision", "KSResult", "ks_statistic", "LiftTable", "lift_table", "log_loss",
    "matthews_corrcoef", "top_k_accuracy", "mse", "rmse", "mae", "r2_score",
]
