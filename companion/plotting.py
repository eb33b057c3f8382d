"""The figures every chapter needs. Each function draws on a new or given axes and returns it;
nothing is shown or saved here, so notebooks decide (``plt.show()``)."""
from __future__ import annotations

from typing import Callable

import numpy as np

from .validation import check_ndim, check_same_length

__all__ = ["learning_curves", "decision_boundary", "image_grid", "confusion_matrix_plot"]


def _axes(ax, figsize=(6, 3.6)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def learning_curves(history, keys: tuple[str, ...] = ("loss", "val_loss"), *, ax=None, title: str = ""):
    """Plot per-epoch curves from a :class:`~companion.training.History` or a dict of lists."""
    records = getattr(history, "records", history)
    missing = [k for k in keys if k not in records]
    if missing:
        raise KeyError(f"learning_curves: history has no {missing}; it has {sorted(records)}")
    ax = _axes(ax)
    for key in keys:
        values = records[key]
        ax.plot(np.arange(1, len(values) + 1), values, label=key)
    ax.set(xlabel="epoch", ylabel=" / ".join(keys), title=title)
    ax.legend()
    return ax


def decision_boundary(predict: Callable, X, y, *, resolution: int = 200, ax=None, title: str = ""):
    """Colour the plane by ``predict`` and scatter the 2-D points ``X`` (N, 2) coloured by ``y``.

    ``predict`` maps an (M, 2) float32 array to M class labels.
    """
    X, y = np.asarray(X), np.asarray(y)
    check_ndim("decision_boundary", "X", X, 2, "(N, 2)")
    if X.shape[1] != 2:
        raise ValueError(f"decision_boundary: X must have shape (N, 2); got {X.shape}")
    check_same_length("decision_boundary", X=X, y=y)
    pad = 0.1 * (X.max(0) - X.min(0))
    lo, hi = X.min(0) - pad, X.max(0) + pad
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.c_[xx.ravel(), yy.ravel()].astype(np.float32)  # (resolution**2, 2)
    zz = np.asarray(predict(grid)).reshape(xx.shape)
    ax = _axes(ax, (4.5, 4))
    ax.contourf(xx, yy, zz, alpha=0.3, cmap="coolwarm")
    ax.scatter(X[:, 0], X[:, 1], c=y, s=12, cmap="coolwarm", edgecolors="k", linewidths=0.3)
    ax.set(title=title, xlabel="$x_1$", ylabel="$x_2$")
    return ax


def image_grid(images, labels=None, *, ncols: int = 8, cmap: str = "gray", title: str = "",
               figsize_per_image: float = 0.9):
    """Show up to a few dozen images (N, H, W), (N, H, W, 3) or (N, 1, H, W) in a grid.

    Returns the figure. ``labels`` (N,) are written above each image.
    """
    import matplotlib.pyplot as plt

    images = np.asarray(images)
    check_ndim("image_grid", "images", images, (3, 4), "(N, H, W), (N, H, W, 3) or (N, 1, H, W)")
    if images.ndim == 4 and images.shape[1] == 1:
        images = images[:, 0]  # (N, 1, H, W) -> (N, H, W)
    if labels is not None:
        check_same_length("image_grid", images=images, labels=labels)
    n = len(images)
    nrows = max(1, -(-n // ncols))
    cols = min(ncols, n)
    fig, axes = plt.subplots(nrows, cols, squeeze=False,
                             figsize=(figsize_per_image * cols, figsize_per_image * nrows + 0.3))
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap=cmap)
            if labels is not None:
                ax.set_title(str(labels[i]), fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def confusion_matrix_plot(cm, class_names=None, *, ax=None, normalize: bool = False, title: str = ""):
    """Draw a confusion matrix (C, C): rows are true classes, columns predicted ones."""
    cm = np.asarray(cm, dtype=float)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"confusion_matrix_plot: cm must be square (C, C); got shape {cm.shape}")
    if normalize:
        cm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)  # each row sums to 1
    names = list(class_names) if class_names is not None else [str(i) for i in range(len(cm))]
    if len(names) != len(cm):
        raise ValueError(f"confusion_matrix_plot: {len(cm)} classes in cm but {len(names)} class_names")
    ax = _axes(ax, (4, 3.6))
    ax.imshow(cm, cmap="Blues")
    for i, j in np.ndindex(cm.shape):
        text = f"{cm[i, j]:.2f}" if normalize else f"{cm[i, j]:.0f}"
        ax.text(j, i, text, ha="center", va="center",
                color="white" if cm[i, j] > cm.max() / 2 else "black", fontsize=8)
    ax.set(xticks=range(len(names)), yticks=range(len(names)), xticklabels=names,
           yticklabels=names, xlabel="predicted", ylabel="true", title=title)
    return ax
