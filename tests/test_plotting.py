"""Tests for companion.plotting: return values, what is drawn, and every bad-input message."""
import re

import matplotlib

matplotlib.use("Agg")  # no display under tests

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from companion.plotting import (confusion_matrix_plot, decision_boundary, image_grid,  # noqa: E402
                                learning_curves)
from companion.training import History  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------- learning_curves
RECORDS = {"loss": [1.0, 0.6, 0.4], "val_loss": [1.1, 0.8, 0.7], "acc": [0.5, 0.7, 0.9]}


@pytest.mark.parametrize("keys", [("loss",), ("loss", "val_loss"), ("loss", "val_loss", "acc")])
def test_learning_curves_one_line_per_key(keys):
    ax = learning_curves(RECORDS, keys)
    assert isinstance(ax, Axes)
    assert len(ax.lines) == len(keys)
    for line, key in zip(ax.lines, keys):
        assert line.get_label() == key
        np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])  # epochs count from 1
        np.testing.assert_array_equal(line.get_ydata(), RECORDS[key])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(keys)
    assert ax.get_xlabel() == "epoch"


def test_learning_curves_default_keys_from_a_history_on_a_given_axes():
    history = History()
    for loss, val_loss in [(1.0, 1.2), (0.5, 0.9)]:
        history.log(loss=loss, val_loss=val_loss, acc=0.5)
    _, ax = plt.subplots()
    assert learning_curves(history, ax=ax, title="run 1") is ax  # draws where it is told
    assert [line.get_label() for line in ax.lines] == ["loss", "val_loss"]
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), [1.2, 0.9])
    assert ax.get_title() == "run 1"


def test_learning_curves_missing_key():
    message = "learning_curves: history has no ['val_acc']; it has ['acc', 'loss', 'val_loss']"
    with pytest.raises(KeyError, match=re.escape(message)):
        learning_curves(RECORDS, ("loss", "val_acc"))


# ---------------------------------------------------------------- decision_boundary
def make_points():
    X = np.array([[0.0, 0.0], [2.0, 1.0], [1.0, 3.0], [-1.0, 2.0], [0.5, -1.0]])
    return X, np.array([0, 1, 1, 0, 1])


def test_decision_boundary_calls_predict_on_a_float32_grid():
    X, y = make_points()
    calls = []

    def spy(grid):
        calls.append(grid.copy())
        return (grid[:, 0] > 0.5).astype(np.int64)

    ax = decision_boundary(spy, X, y, resolution=7, title="boundary")
    assert isinstance(ax, Axes)
    assert len(calls) == 1
    grid = calls[0]
    assert grid.shape == (49, 2) and grid.dtype == np.float32  # resolution**2 points (M, 2)
    # the grid spans the data's box plus 10% padding on each side
    pad = 0.1 * (X.max(0) - X.min(0))
    np.testing.assert_allclose(grid.min(0), X.min(0) - pad, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(grid.max(0), X.max(0) + pad, rtol=1e-6, atol=1e-6)
    assert len(np.unique(grid[:, 0])) == 7 and len(np.unique(grid[:, 1])) == 7
    # the points are scattered on top of the filled contours
    scatters = [c for c in ax.collections if len(c.get_offsets()) == len(X)]
    assert len(scatters) == 1
    np.testing.assert_allclose(np.asarray(scatters[0].get_offsets()), X)
    assert ax.get_title() == "boundary"


def test_decision_boundary_accepts_lists_and_a_given_axes():
    X, y = make_points()
    _, ax = plt.subplots()
    out = decision_boundary(lambda g: np.zeros(len(g)), X.tolist(), y.tolist(), resolution=3, ax=ax)
    assert out is ax


@pytest.mark.parametrize("X, y, match", [
    (np.zeros((5, 3)), np.zeros(5),
     r"^decision_boundary: X must have shape \(N, 2\); got \(5, 3\)$"),
    (np.zeros(5), np.zeros(5),
     r"^decision_boundary: X must have 2 dimensions \(N, 2\); got shape \(5,\)$"),
    (np.zeros((5, 2, 1)), np.zeros(5), r"^decision_boundary: X must have 2 dimensions"),
    (np.zeros((5, 2)), np.zeros(4),
     r"^decision_boundary: arrays must have the same length; got X has 5, y has 4$"),
])
def test_decision_boundary_bad_input(X, y, match):
    calls = []
    with pytest.raises(ValueError, match=match):
        decision_boundary(lambda g: calls.append(g) or np.zeros(len(g)), X, y, resolution=3)
    assert calls == []  # rejected before any work


# ---------------------------------------------------------------- image_grid
def images_shown(fig):
    return [im for ax in fig.axes for im in ax.images]


def test_image_grid_draws_one_image_per_sample():
    images = np.random.default_rng(0).random((10, 5, 6))
    fig = image_grid(images, labels=list("abcdefghij"), ncols=4, title="digits")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 12  # 3 rows of 4
    shown = images_shown(fig)
    assert len(shown) == 10
    np.testing.assert_array_equal(shown[3].get_array(), images[3])
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[:10] == list("abcdefghij") and titles[10:] == ["", ""]
    assert not any(ax.axison for ax in fig.axes)
    assert fig._suptitle.get_text() == "digits"


@pytest.mark.parametrize("shape, image_shape", [
    ((3, 1, 4, 4), (4, 4)),  # (N, 1, H, W) channel is dropped
    ((3, 4, 4, 3), (4, 4, 3)),  # RGB
])
def test_image_grid_layouts(shape, image_shape):
    fig = image_grid(np.zeros(shape), ncols=8)
    assert len(fig.axes) == 3  # fewer images than ncols: one row of N
    shown = images_shown(fig)
    assert len(shown) == 3 and shown[0].get_array().shape == image_shape
    assert [ax.get_title() for ax in fig.axes] == ["", "", ""]


@pytest.mark.parametrize("images, labels, match", [
    (np.zeros((4, 4)), None, re.escape(
        "image_grid: images must have 3 or 4 dimensions (N, H, W), (N, H, W, 3) or (N, 1, H, W); "
        "got shape (4, 4)")),
    (np.zeros((2, 3, 4, 4, 1)), None, r"^image_grid: images must have 3 or 4 dimensions"),
    (np.zeros((3, 4, 4)), [0, 1],
     r"^image_grid: arrays must have the same length; got images has 3, labels has 2$"),
])
def test_image_grid_bad_input(images, labels, match):
    with pytest.raises(ValueError, match=match):
        image_grid(images, labels)


# ---------------------------------------------------------------- confusion_matrix_plot
CM = np.array([[5, 1, 0], [2, 7, 1], [0, 3, 9]])


def texts_as_matrix(ax, C):
    """The numbers written in the cells, placed by their (x=column, y=row) position."""
    M = np.full((C, C), np.nan)
    for t in ax.texts:
        j, i = t.get_position()
        M[int(i), int(j)] = float(t.get_text())
    return M


def test_confusion_matrix_counts_one_text_per_cell():
    kept = CM.copy()
    ax = confusion_matrix_plot(CM, ["cat", "dog", "owl"], title="cm")
    assert isinstance(ax, Axes)
    assert len(ax.texts) == 9  # C * C
    np.testing.assert_array_equal(texts_as_matrix(ax, 3), CM)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog", "owl"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["cat", "dog", "owl"]
    assert len(ax.images) == 1
    np.testing.assert_array_equal(ax.images[0].get_array(), CM)
    np.testing.assert_array_equal(CM, kept)  # input unchanged


def test_confusion_matrix_normalized_rows_sum_to_one():
    cm = np.array([[5, 1, 0, 0], [2, 7, 1, 0], [0, 3, 9, 1], [0, 0, 0, 0]])  # an empty last row
    ax = confusion_matrix_plot(cm, normalize=True)
    assert len(ax.texts) == 16
    shown = texts_as_matrix(ax, 4)
    expected = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    np.testing.assert_allclose(shown, expected, atol=0.005)  # written with 2 decimals
    # each non-empty row sums to 1 up to the rounding of its C cells
    np.testing.assert_allclose(shown[:3].sum(1), 1, atol=4 * 0.005)
    np.testing.assert_array_equal(shown[3], 0)  # an empty row stays 0, no division by zero
    assert all(re.fullmatch(r"\d\.\d\d", t.get_text()) for t in ax.texts)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "3"]


def test_confusion_matrix_on_a_given_axes():
    _, ax = plt.subplots()
    assert confusion_matrix_plot(np.eye(2), ax=ax) is ax


@pytest.mark.parametrize("cm, names, match", [
    (np.zeros((2, 3)), None,
     r"^confusion_matrix_plot: cm must be square \(C, C\); got shape \(2, 3\)$"),
    (np.zeros(4), None, r"^confusion_matrix_plot: cm must be square \(C, C\); got shape \(4,\)$"),
    (np.zeros((2, 2, 2)), None, r"cm must be square \(C, C\); got shape \(2, 2, 2\)$"),
    (np.zeros((3, 3)), ["a", "b"], r"^confusion_matrix_plot: 3 classes in cm but 2 class_names$"),
    (np.zeros((2, 2)), ["a", "b", "c"],
     r"^confusion_matrix_plot: 2 classes in cm but 3 class_names$"),
])
def test_confusion_matrix_bad_input(cm, names, match):
    with pytest.raises(ValueError, match=match):
        confusion_matrix_plot(cm, names)
