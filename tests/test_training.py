"""Tests for companion.training: loaders, the fit loop's bookkeeping, evaluate, predict, History."""
import os
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from companion.training import History, accuracy, evaluate, fit, make_loader, predict


def separable(n=200, seed=0):
    """Linearly separable 2-D points: label 1 above the line x0 + x1 = 0, with a margin."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(3 * n, 2))
    X = X[np.abs(X.sum(1)) > 0.3][:n]
    return X.astype(np.float32), (X.sum(1) > 0).astype(np.int64)


def small_classification(n=10, D=3, C=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, D)).astype(np.float32), rng.integers(0, C, size=n)


def loader_order(loader):
    return torch.cat([yb for _, yb in loader]).tolist()


# ---------------------------------------------------------------- make_loader
def test_make_loader_dtypes():
    X = np.random.default_rng(0).normal(size=(6, 3))  # float64 in
    xb, yb = next(iter(make_loader(X, np.arange(6, dtype=np.int32), batch_size=6, shuffle=False)))
    assert xb.dtype == torch.float32 and yb.dtype == torch.int64  # class labels
    np.testing.assert_allclose(xb.numpy(), X, rtol=1e-6)  # float32 rounding only
    _, yb = next(iter(make_loader(X, np.linspace(0, 1, 6), batch_size=6)))
    assert yb.dtype == torch.float32  # regression targets
    tokens = np.arange(12).reshape(6, 2)  # integer inputs (token ids) stay integers
    xb, _ = next(iter(make_loader(tokens, np.zeros(6, np.int64), batch_size=6)))
    assert xb.dtype == torch.int64


def test_make_loader_dtype_keyword():
    X = np.random.default_rng(0).normal(size=(6, 3))
    xb, yb = next(iter(make_loader(X, np.linspace(0, 1, 6), batch_size=6, shuffle=False, dtype=torch.float64)))
    assert xb.dtype == yb.dtype == torch.float64
    np.testing.assert_array_equal(xb.numpy(), X)  # no float32 rounding
    _, yb = next(iter(make_loader(X, np.arange(6), batch_size=6, dtype=torch.float64)))
    assert yb.dtype == torch.int64  # class labels stay int64
    with pytest.raises(TypeError, match=r"^make_loader: dtype must be a floating torch dtype; got torch.int64$"):
        make_loader(X, np.arange(6), dtype=torch.int64)


def test_make_loader_accepts_tensors_and_lists():
    xb, yb = next(iter(make_loader(torch.ones(4, 2, dtype=torch.float64), [0, 1, 1, 0],
                                   batch_size=4, shuffle=False)))
    assert xb.dtype == torch.float32 and yb.tolist() == [0, 1, 1, 0]


def test_make_loader_batches_cover_every_sample_with_an_uneven_last_batch():
    loader = make_loader(np.zeros((10, 1), np.float32), np.arange(10), batch_size=4)
    assert [len(yb) for _, yb in loader] == [4, 4, 2]
    assert sorted(loader_order(loader)) == list(range(10))
    in_order = make_loader(np.zeros((10, 1)), np.arange(10), shuffle=False)
    assert loader_order(in_order) == list(range(10))


def test_make_loader_seeded_shuffling():
    X, y = np.zeros((30, 1), np.float32), np.arange(30)
    a, b = make_loader(X, y, batch_size=8, seed=0), make_loader(X, y, batch_size=8, seed=0)
    c = make_loader(X, y, batch_size=8, seed=1)
    first = loader_order(a)
    assert first == loader_order(b)  # same seed, same batch order
    assert first != list(range(30))  # shuffled
    assert first != loader_order(c)  # other seed, other order
    # each epoch draws a new order, and the sequence of epochs is itself reproducible
    second = loader_order(a)
    assert second != first and second == loader_order(b)


def test_make_loader_ignores_the_global_torch_seed():
    X, y = np.zeros((20, 1), np.float32), np.arange(20)
    torch.manual_seed(0)
    a = loader_order(make_loader(X, y, seed=5))
    torch.manual_seed(1)
    assert loader_order(make_loader(X, y, seed=5)) == a


@pytest.mark.parametrize("X, y, kwargs, error, match", [
    (np.zeros((4, 2)), np.zeros(3), {}, ValueError,
     r"^make_loader: arrays must have the same length; got X has 4, y has 3$"),
    (np.zeros((4, 2)), np.zeros(4), dict(batch_size=0), ValueError,
     r"^make_loader: batch_size must be an integer >= 1; got 0$"),
    (np.zeros((4, 2)), np.zeros(4), dict(batch_size=True), TypeError,
     r"^make_loader: batch_size must be an integer; got bool$"),
    (np.zeros((4, 2)), np.zeros(4), dict(batch_size=2.5), TypeError,
     r"^make_loader: batch_size must be an integer; got float$"),
])
def test_make_loader_bad_input(X, y, kwargs, error, match):
    with pytest.raises(error, match=match):
        make_loader(X, y, **kwargs)


# ---------------------------------------------------------------- accuracy
def test_accuracy_is_the_share_of_correct_argmax():
    logits = torch.tensor([[2.0, 1.0], [0.0, 3.0], [5.0, -1.0], [0.1, 0.2]])
    assert accuracy(logits, torch.tensor([0, 1, 1, 0])) == pytest.approx(0.5)
    assert accuracy(logits, torch.tensor([0, 1, 0, 1])) == pytest.approx(1.0)
    assert isinstance(accuracy(logits, torch.tensor([0, 0, 0, 0])), float)


# ---------------------------------------------------------------- fit
def test_fit_learns_a_separable_problem():
    X, y = separable()
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    loader = make_loader(X, y, batch_size=32, seed=0)
    history = fit(model, loader, loss_fn=F.cross_entropy, epochs=15,
                  optimizer=torch.optim.SGD(model.parameters(), lr=0.5), metrics={"acc": accuracy})
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["acc"][-1] >= 0.95
    pred = predict(model, X).argmax(1).numpy()
    assert (pred == y).mean() >= 0.95


def test_fit_history_keys_and_lengths():
    X, y = separable(60)
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    history = fit(model, make_loader(X[:40], y[:40], batch_size=16), loss_fn=F.cross_entropy,
                  optimizer=torch.optim.SGD(model.parameters(), lr=0.1), epochs=4,
                  val_loader=make_loader(X[40:], y[40:], shuffle=False), metrics={"acc": accuracy})
    assert isinstance(history, History)
    assert set(history.records) == {"loss", "acc", "val_loss", "val_acc"}
    assert all(len(history[k]) == 4 for k in history.records)
    assert history.epochs == 4 and history.stopped_epoch is None
    assert all(0 <= a <= 1 for a in history["acc"] + history["val_acc"])
    # without a validation loader or metrics only the training loss is logged
    history = fit(model, make_loader(X, y), loss_fn=F.cross_entropy, epochs=2,
                  optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    assert set(history.records) == {"loss"} and len(history["loss"]) == 2


def test_fit_logged_loss_is_the_batch_size_weighted_mean():
    # lr = 0: the model never changes, so every epoch's training loss is the full-data loss
    X, y = small_classification(n=10)
    torch.manual_seed(0)
    model = nn.Linear(3, 4)
    with torch.no_grad():
        full_loss = float(F.cross_entropy(model(torch.from_numpy(X)), torch.from_numpy(y)))
        full_acc = float((model(torch.from_numpy(X)).argmax(1).numpy() == y).mean())
    loader = make_loader(X, y, batch_size=4, seed=0)  # batches of 4, 4 and 2
    history = fit(model, loader, loss_fn=F.cross_entropy, epochs=2, metrics={"acc": accuracy},
                  optimizer=torch.optim.SGD(model.parameters(), lr=0.0),
                  val_loader=make_loader(X, y, batch_size=3, shuffle=False))  # 3, 3, 3, 1
    # float32 tolerance
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(history[key], [full_loss] * 2, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(history["acc"], [full_acc] * 2, rtol=1e-6)
    np.testing.assert_allclose(history["val_acc"], [full_acc] * 2, rtol=1e-6)
    # the check has power: the plain mean of the three batch means is clearly different
    with torch.no_grad():
        batch_means = [float(F.cross_entropy(model(xb), yb))
                       for xb, yb in make_loader(X, y, batch_size=4, seed=0)]
    assert abs(np.mean(batch_means) - full_loss) > 1e-3


def test_callback_stops_training_and_every_callback_runs_each_epoch():
    X, y = separable(40)
    torch.manual_seed(0)
    model = nn.Linear(2, 2)
    seen = {"stopper": [], "logger": []}

    def stopper(epoch, history, m):
        seen["stopper"].append(epoch)
        assert m is model and len(history["loss"]) == epoch + 1  # called after logging
        return epoch == 2

    def logger(epoch, history, m):
        seen["logger"].append((epoch, history.epochs))

    history = fit(model, make_loader(X, y), loss_fn=F.cross_entropy, epochs=10,
                  optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                  callbacks=(stopper, logger))
    assert history.stopped_epoch == 2
    assert history.epochs == 3 and len(history["loss"]) == 3
    assert seen["stopper"] == [0, 1, 2]
    # the logger runs even in the epoch where the first callback already asked to stop
    assert seen["logger"] == [(0, 1), (1, 2), (2, 3)]


def run_seeded(seed):
    X, y = separable(80)
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 2))
    history = fit(model, make_loader(X, y, batch_size=16, seed=0), loss_fn=F.cross_entropy,
                  optimizer=torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), epochs=3,
                  metrics={"acc": accuracy})
    return history.records, [p.detach().clone() for p in model.parameters()]


def test_fit_is_deterministic_given_the_torch_seed():
    (h1, p1), (h2, p2) = run_seeded(0), run_seeded(0)
    assert h1 == h2  # exactly equal, not merely close
    for a, b in zip(p1, p2):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    h3, _ = run_seeded(1)
    assert h3["loss"] != h1["loss"]


@pytest.mark.parametrize("epochs, error, message", [
    (0, ValueError, "fit: epochs must be an integer >= 1; got 0"),
    (-1, ValueError, "fit: epochs must be an integer >= 1; got -1"),
    (2.5, TypeError, "fit: epochs must be an integer; got float"),
    (True, TypeError, "fit: epochs must be an integer; got bool"),
    ("3", TypeError, "fit: epochs must be an integer; got str"),
    (None, TypeError, "fit: epochs must be an integer; got NoneType")])
def test_fit_bad_epochs(epochs, error, message):
    model = nn.Linear(2, 2)
    before = [p.detach().clone() for p in model.parameters()]
    loader = make_loader(np.ones((4, 2), np.float32), np.zeros(4, np.int64))
    with pytest.raises(error, match="^" + re.escape(message) + "$"):
        fit(model, loader, loss_fn=F.cross_entropy, epochs=epochs,
            optimizer=torch.optim.SGD(model.parameters(), lr=1.0))
    for a, b in zip(before, model.parameters()):  # nothing was trained
        torch.testing.assert_close(a, b.detach(), rtol=0, atol=0)


# ---------------------------------------------------------------- progress bar
def quick_fit(progress):
    model = nn.Linear(2, 2)
    fit(model, make_loader(np.ones((4, 2), np.float32), np.zeros(4, np.int64)),
        loss_fn=F.cross_entropy, optimizer=torch.optim.SGD(model.parameters(), lr=0.1), epochs=2,
        progress=progress)


@pytest.mark.parametrize("env, progress, shown", [
    ("0", None, False),  # the root conftest's setting: quiet tests by default
    ("1", None, True),
    ("0", True, True),  # an explicit argument wins over the environment
    ("1", False, False),
])
def test_progress_bar(monkeypatch, capsys, env, progress, shown):
    monkeypatch.setenv("COURSE_PROGRESS", env)
    quick_fit(progress)
    out, err = capsys.readouterr()
    assert out == ""  # library code never prints
    assert ("epochs" in err) == shown
    if not shown:
        assert err == ""


def test_root_conftest_turns_the_bar_off(capsys):
    assert os.environ.get("COURSE_PROGRESS") == "0"
    quick_fit(None)
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------- evaluate
def test_evaluate_weights_batches_by_size():
    X, y = small_classification(n=10)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5))  # eval mode makes dropout inert
    model.train()
    with torch.no_grad():
        logits = model.eval()(torch.from_numpy(X))
    model.train()
    result = evaluate(model, make_loader(X, y, batch_size=4, shuffle=False), F.cross_entropy,
                      {"acc": accuracy})  # batches 4, 4, 2
    assert set(result) == {"loss", "acc"}
    expected = float(F.cross_entropy(logits, torch.from_numpy(y)))
    np.testing.assert_allclose(result["loss"], expected, rtol=1e-4, atol=1e-5)  # float32
    np.testing.assert_allclose(result["acc"], (logits.argmax(1).numpy() == y).mean(), rtol=1e-6)
    assert not model.training


def test_evaluate_regression_mse_with_uneven_batches():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(7, 2)).astype(np.float32), rng.normal(size=7).astype(np.float32)
    model = nn.Linear(2, 1)
    loss_fn = lambda out, t: F.mse_loss(out[:, 0], t)  # noqa: E731
    result = evaluate(model, make_loader(X, y, batch_size=3, shuffle=False), loss_fn)
    with torch.no_grad():
        expected = float(F.mse_loss(model(torch.from_numpy(X))[:, 0], torch.from_numpy(y)))
    np.testing.assert_allclose(result["loss"], expected, rtol=1e-4, atol=1e-5)  # float32


# ---------------------------------------------------------------- predict
def test_predict_uses_eval_mode_and_keeps_order():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 16), nn.Dropout(0.5), nn.Linear(16, 2))
    model.train()
    X = np.random.default_rng(0).normal(size=(10, 3))  # float64 in
    a = predict(model, X, batch_size=4)  # batches 4, 4, 2
    b = predict(model, X, batch_size=4)
    torch.testing.assert_close(a, b, rtol=0, atol=0)  # dropout is off: identical outputs
    assert not model.training
    with torch.no_grad():
        expected = model(torch.from_numpy(X).float())
    torch.testing.assert_close(a, expected, rtol=1e-4, atol=1e-5)  # float32
    assert a.shape == (10, 2) and a.dtype == torch.float32
    assert not a.requires_grad and a.device.type == "cpu"


def test_predict_accepts_tensors_and_parameterless_models():
    X = torch.arange(6.0).reshape(3, 2)
    torch.testing.assert_close(predict(nn.Flatten(), X, batch_size=2), X, rtol=0, atol=0)


# ---------------------------------------------------------------- History
def test_history_records_and_best():
    h = History()
    assert h.epochs == 0 and "loss" not in h
    rows = [(1.0, 0.9, 0.5), (0.7, 0.6, 0.8), (0.5, 0.65, 0.9), (0.4, 0.6, 0.7)]
    for loss, val_loss, acc in rows:
        h.log(loss=loss, val_loss=val_loss, acc=np.float32(acc))
    assert "val_loss" in h and h.epochs == 4
    assert h["loss"] == [1.0, 0.7, 0.5, 0.4]
    assert all(type(v) is float for v in h["acc"])
    assert h.best() == (1, 0.6)  # default val_loss, min; a tie keeps the first epoch
    assert h.best("loss") == (3, 0.4)
    i, value = h.best("acc", mode="max")
    assert i == 2 and value == pytest.approx(0.9)
    with pytest.raises(KeyError):
        h.best("val_acc")


def test_history_best_rejects_an_unknown_mode():
    h = History()
    h.log(val_loss=1.0)
    with pytest.raises(ValueError, match="^History.best: mode must be 'min' or 'max'; got 'minimum'$"):
        h.best(mode="minimum")


def test_tensors_that_require_grad_are_accepted():
    X = torch.randn(10, 2, requires_grad=True)
    model = nn.Linear(2, 3)
    np.testing.assert_allclose(predict(model, X).numpy(), model(X).detach().numpy(), rtol=1e-6)
    xb, _ = next(iter(make_loader(X, torch.arange(10), batch_size=10, shuffle=False)))
    assert not xb.requires_grad and torch.equal(xb, X.detach())


def test_on_train_end_is_called_once_after_the_last_epoch_stopped_or_not():
    class Recorder:
        def __init__(self, stop_at=None):
            self.stop_at, self.ends = stop_at, []

        def __call__(self, epoch, history, model):
            return epoch == self.stop_at

        def on_train_end(self, history, model):
            self.ends.append(history.epochs)

    X, y = np.ones((8, 2), np.float32), np.zeros(8, np.int64)
    for stop_at, epochs_run in ((None, 3), (1, 2)):
        model, rec = nn.Linear(2, 2), Recorder(stop_at)
        fit(model, make_loader(X, y, batch_size=4), loss_fn=F.cross_entropy, epochs=3,
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1), callbacks=(rec,))
        assert rec.ends == [epochs_run]
