r"""Regression metrics: MSE, RMSE, MAE and the coefficient of determination R².

Reference: ``sklearn.metrics``; conventions in :mod:`companion.metrics`. One is stricter here:
``y_pred`` must have exactly the shape of ``y_true``. sklearn also accepts a network's (N, 1)
output against (N,) targets; here that is an error (squeeze it first), because in hand-written
NumPy ``y - y_hat`` would silently broadcast those shapes to (N, N).
"""
from __future__ import annotations

import numpy as np

from ..validation import check_ndim
from ._common import _array, _divide, _nonempty

__all__ = ["mse", "rmse", "mae", "r2_score"]


def _targets(func, y_true, y_pred):
    """Float64 targets of shape (N,) or (N, D), equal shapes, finite, non-empty."""
    t, p = _array(y_true), _array(y_pred)
    check_ndim(func, "y_true", t, (1, 2), "(N,) or (N, D)")
    if p.shape != t.shape:
        raise ValueError(f"{func}: y_pred must have the shape of y_true {t.shape}; got {p.shape}")
    _nonempty(func, "y_true", t)
    for name, a in (("y_true", t), ("y_pred", p)):
        if a.dtype.kind not in "biuf":
            raise TypeError(f"{func}: {name} must hold numbers; got dtype {a.dtype}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"{func}: {name} must be finite (no NaN or inf)")
    return t.astype(np.float64), p.astype(np.float64)


def mse(y_true, y_pred) -> float:
    r"""Mean squared error :math:`\frac{1}{N}\sum_n (y_n - \hat y_n)^2`.

    Args: y_true, y_pred: (N,) or (N, D) targets; with D outputs the D errors are averaged
    uniformly. Reference: sklearn.metrics.mean_squared_error.
    """
    t, p = _targets("mse", y_true, y_pred)
    return float(np.mean((t - p) ** 2))


def rmse(y_true, y_pred) -> float:
    r"""Root mean squared error :math:`\sqrt{\text{MSE}}`, in the units of y.

    Args: y_true, y_pred: (N,) or (N, D). With D outputs it is the mean over outputs of each
    output's RMSE (not the root of the overall MSE), as
    sklearn.metrics.root_mean_squared_error with multioutput="uniform_average".
    """
    t, p = _targets("rmse", y_true, y_pred)
    return float(np.mean(np.sqrt(np.mean((t - p) ** 2, axis=0))))


def mae(y_true, y_pred) -> float:
    r"""Mean absolute error :math:`\frac{1}{N}\sum_n |y_n - \hat y_n|` (less swayed by outliers).

    Args: y_true, y_pred: (N,) or (N, D). Reference: sklearn.metrics.mean_absolute_error.
    """
    t, p = _targets("mae", y_true, y_pred)
    return float(np.mean(np.abs(t - p)))


def r2_score(y_true, y_pred) -> float:
    r"""Coefficient of determination :math:`R^2 = 1 - SS_{res} / SS_{tot}`.

    .. math::
        SS_{res} = \sum_n (y_n - \hat y_n)^2 \qquad SS_{tot} = \sum_n (y_n - \bar y)^2

    1 is perfect, 0 is what predicting the mean of y_true scores, and a model worse than that
    mean is negative (there is no lower bound). Constant y_true (:math:`SS_{tot} = 0`) follows
    sklearn's ``force_finite=True``: 1.0 if the predictions are perfect, else 0.0.

    Args:
        y_true, y_pred: (N,) or (N, D), N >= 2; D outputs are averaged uniformly.
    Raises:
        ValueError for N < 2 (sklearn warns and returns nan).
    Reference: sklearn.metrics.r2_score.
    """
    t, p = _targets("r2_score", y_true, y_pred)
    if t.shape[0] < 2:
        raise ValueError(f"r2_score: needs at least 2 samples; got {t.shape[0]}")
    ss_res = np.sum((t - p) ** 2, axis=0)  # (D,) or ()
    ss_tot = np.sum((t - np.average(t, axis=0)) ** 2, axis=0)
    # R^2 = 1 - SS_res / SS_tot; 1.0 where both are 0, 0.0 where only SS_tot is
    r2 = 1.0 - _divide(ss_res, ss_tot, 0.0)
    r2 = np.where((ss_tot == 0) & (ss_res != 0), 0.0, r2)
    return float(np.mean(r2))
