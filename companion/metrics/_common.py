"""Shared plumbing of :mod:`companion.metrics`: array conversion, label checks, safe division.

Private to the package; the public functions are re-exported by ``companion.metrics``.
"""
from __future__ import annotations

import numpy as np

from ..validation import check_ndim, check_same_length

#: the values of ``average`` that the counting metrics accept
AVERAGES = ("binary", "micro", "macro", "weighted", None)


def _array(x) -> np.ndarray:
    """A NumPy array from a list, an array or a torch tensor (any device)."""
    if type(x).__module__.startswith("torch") and hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _nonempty(func, name, x):
    if x.shape[0] == 0:
        raise ValueError(f"{func}: {name} must not be empty; got shape {x.shape}")
    return x


def _labels_pair(func, y_true, y_pred, pred_name="y_pred"):
    """Two 1-D label arrays of equal, non-zero length; strings are not mixed with numbers."""
    t, p = _array(y_true), _array(y_pred)
    check_ndim(func, "y_true", t, 1, "(N,)")
    check_ndim(func, pred_name, p, 1, "(N,)")
    check_same_length(func, y_true=t, **{pred_name: p})
    _nonempty(func, "y_true", t)
    if (t.dtype.kind in "USO") != (p.dtype.kind in "USO"):
        raise ValueError(f"{func}: y_true and {pred_name} mix string and numeric labels; "
                         f"got dtypes {t.dtype} and {p.dtype}")
    return t, p


def _scores(func, y_true, y_score, ndim=(1,), name="y_score"):
    """1-D labels and finite numeric scores (bools become floats) of the same length."""
    t, s = _array(y_true), _array(y_score)
    check_ndim(func, "y_true", t, 1, "(N,)")
    check_ndim(func, name, s, ndim, "(N,)" if ndim == (1,) else "(N,) or (N, K)")
    check_same_length(func, y_true=t, **{name: s})
    _nonempty(func, "y_true", t)
    if s.dtype.kind == "b":
        s = s.astype(np.float64)
    if s.dtype.kind not in "iuf":
        raise TypeError(f"{func}: {name} must hold numbers; got dtype {s.dtype}")
    if not np.all(np.isfinite(s)):
        raise ValueError(f"{func}: {name} must be finite (no NaN or inf)")
    return t, s


def _is_in(value, values) -> bool:
    # python-level == so that a string array and a number compare as "different", silently
    return any(value == v for v in np.asarray(values).tolist())


def _resolve_pos_label(func, t, pos_label):
    """sklearn's rule: pos_label=None means 1, allowed only for labels in {0, 1} or {-1, 1}."""
    if pos_label is not None:
        return pos_label
    classes = np.unique(t)
    numeric = classes.dtype.kind in "biuf"
    if not (numeric and (set(classes.tolist()) <= {0, 1} or set(classes.tolist()) <= {-1, 1})):
        raise ValueError(f"{func}: pos_label must be given unless y_true's labels are {{0, 1}} "
                         f"or {{-1, 1}}; got labels {classes.tolist()}")
    return 1


def _divide(num, den, zero_division):
    """num / den elementwise, with ``zero_division`` where den == 0 (no warning)."""
    num, den = np.asarray(num, np.float64), np.asarray(den, np.float64)
    out = np.full(np.broadcast(num, den).shape, float(zero_division))
    np.divide(num, den, out=out, where=den != 0)
    return out


def _check_zero_division(func, zero_division):
    ok = isinstance(zero_division, (int, float)) and not isinstance(zero_division, bool) and (
        zero_division in (0, 1) or np.isnan(zero_division))
    if not ok:
        raise ValueError(f"{func}: zero_division must be 0.0, 1.0 or nan; got {zero_division!r}")


def _classes(func, t, labels, n_columns, name="y_score"):
    """Column classes: sorted unique ``labels`` (or y_true's classes), one per score column."""
    if labels is None:
        classes = np.unique(t)
    else:
        classes = check_ndim(func, "labels", _array(labels), 1, "(K,)")
        if len(np.unique(classes)) != len(classes) or np.any(np.unique(classes) != classes):
            raise ValueError(f"{func}: labels must be unique and sorted (they name the columns "
                             f"of {name} in order); got {classes.tolist()}")
        if not np.isin(t, classes).all():
            raise ValueError(f"{func}: y_true holds labels not in labels {classes.tolist()}")
    if len(classes) != n_columns:
        raise ValueError(f"{func}: {name} must have one column per class ({len(classes)}: "
                         f"{classes.tolist()}); got {n_columns} columns")
    return classes
