"""Seeded train/validation/test splits and the ``Split`` container every loader returns."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .validation import check_positive, check_same_length

__all__ = ["Split", "train_val_test_split"]


@dataclass
class Split:
    """A data set cut into train, validation and test parts.

    Attributes:
        X_train, X_val, X_test: inputs, first dimension N (samples).
        y_train, y_val, y_test: targets, (N,) or (N, ...), aligned with the inputs.
        feature_names: names of the input columns, when they have names.
        target_names: names of the classes (index i names label i), when classified.
        description: one line saying where the data comes from.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    feature_names: list[str] = field(default_factory=list)
    target_names: list[str] = field(default_factory=list)
    description: str = ""

    @property
    def sizes(self) -> dict[str, int]:
        """Number of samples in each part."""
        return {"train": len(self.X_train), "val": len(self.X_val), "test": len(self.X_test)}

    def __repr__(self) -> str:
        shape = tuple(np.shape(self.X_train)[1:])
        return (f"Split({self.description or 'data'}: train={len(self.X_train)}, "
                f"val={len(self.X_val)}, test={len(self.X_test)}, sample shape={shape})")


def train_val_test_split(X, y, *, val_size: float = 0.15, test_size: float = 0.15,
                         random_state: int = 0, stratify: bool = False, **info) -> Split:
    """Shuffle with a seed and cut ``(X, y)`` into a :class:`Split`.

    Args:
        X: (N, ...) inputs; a list (of documents, say) is kept a list.
        y: (N, ...) targets.
        val_size, test_size: fractions of N in (0, 1), together below 1.
        random_state: seed; the same seed always gives the same split.
        stratify: keep each class's share the same in every part (classification targets).
        **info: ``feature_names``, ``target_names``, ``description`` passed to the Split.
    Returns:
        A Split whose parts together hold every sample exactly once.
    """
    func = "train_val_test_split"
    check_same_length(func, X=X, y=y)
    for name, frac in (("val_size", val_size), ("test_size", test_size)):
        check_positive(func, name, frac, allow_zero=True)
    if val_size + test_size >= 1:
        raise ValueError(f"{func}: val_size + test_size must be < 1; got {val_size + test_size}")
    y = np.asarray(y)
    rng = np.random.default_rng(random_state)
    groups = [np.flatnonzero(y == c) for c in np.unique(y)] if stratify else [np.arange(len(y))]
    parts = {"train": [], "val": [], "test": []}
    for idx in groups:
        idx = rng.permutation(idx)
        n_test, n_val = round(len(idx) * test_size), round(len(idx) * val_size)
        parts["test"].append(idx[:n_test])
        parts["val"].append(idx[n_test:n_test + n_val])
        parts["train"].append(idx[n_test + n_val:])
    # shuffle again so that classes are interleaved inside each part
    order = {k: rng.permutation(np.concatenate(v)) for k, v in parts.items()}
    take = (lambda a, i: [a[j] for j in i]) if isinstance(X, list) else (lambda a, i: np.asarray(a)[i])
    return Split(take(X, order["train"]), y[order["train"]], take(X, order["val"]), y[order["val"]],
                 take(X, order["test"]), y[order["test"]], **info)
