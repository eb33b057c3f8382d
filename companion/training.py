"""A small, readable training loop for torch models.

``fit`` runs epochs of mini-batch training with a validation pass after each, records a
:class:`History`, moves batches to the model's device, stops when a callback says so, and shows
a tqdm progress bar that is off under tests (``COURSE_PROGRESS=0``, set by the Makefile).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .validation import check_int, check_same_length

__all__ = ["History", "make_loader", "fit", "evaluate", "predict", "accuracy"]


@dataclass
class History:
    """Per-epoch records: ``history["val_loss"]`` is the list of validation losses."""

    records: dict[str, list[float]] = field(default_factory=dict)
    stopped_epoch: int | None = None

    def log(self, **values: float) -> None:
        for key, value in values.items():
            self.records.setdefault(key, []).append(float(value))

    def __getitem__(self, key: str) -> list[float]:
        return self.records[key]

    def __contains__(self, key: str) -> bool:
        return key in self.records

    @property
    def epochs(self) -> int:
        return len(next(iter(self.records.values()), []))

    def best(self, key: str = "val_loss", mode: str = "min") -> tuple[int, float]:
        """``(epoch index, value)`` of the best entry of ``key``; ``mode`` is "min" or "max"."""
        if mode not in ("min", "max"):
            raise ValueError(f"History.best: mode must be 'min' or 'max'; got {mode!r}")
        values = np.asarray(self.records[key])
        i = int(values.argmin() if mode == "min" else values.argmax())
        return i, float(values[i])


def accuracy(logits, y) -> float:
    """Share of rows whose arg-max logit is the target class. logits (N, C), y (N,) int."""
    return float((logits.argmax(dim=-1) == y).float().mean())


def make_loader(X, y, *, batch_size: int = 64, shuffle: bool = True, seed: int = 0, dtype=None):
    """A ``DataLoader`` over arrays or tensors, shuffled by its own seeded generator.

    Floating inputs (and floating targets) become ``dtype`` tensors, float32 by default (pass
    ``torch.float64`` for a float64 model); integer targets int64 (class labels).
    """
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    check_same_length("make_loader", X=X, y=y)
    check_int("make_loader", "batch_size", batch_size, 1)
    dtype = torch.float32 if dtype is None else dtype
    if not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise TypeError(f"make_loader: dtype must be a floating torch dtype; got {dtype!r}")
    X, y = _as_tensor(X), _as_tensor(y)
    X = X.to(dtype) if X.is_floating_point() else X
    y = y.to(dtype) if y.is_floating_point() else y.long()
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=shuffle,
                      generator=generator, num_workers=0)


def _as_tensor(x):
    """A CPU tensor holding ``x`` (array, list or tensor; a tensor is detached, not copied)."""
    import torch

    return x.detach().cpu() if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))


def _model_device(model):
    import torch

    return next((p.device for p in model.parameters()), torch.device("cpu"))


def evaluate(model, loader, loss_fn: Callable, metrics: dict[str, Callable] | None = None) -> dict:
    """Mean loss (and metrics, weighted by batch size) of ``model`` over ``loader``, in eval mode."""
    import torch

    device, totals, n = _model_device(model), {}, 0
    model.eval()
    with torch.no_grad():
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            out = model(xb)
            values = {"loss": float(loss_fn(out, yb))}
            values.update({k: f(out, yb) for k, f in (metrics or {}).items()})
            for k, v in values.items():
                totals[k] = totals.get(k, 0.0) + v * len(xb)
            n += len(xb)
    return {k: v / n for k, v in totals.items()}


def predict(model, X, *, batch_size: int = 256):
    """Model outputs for ``X`` (array or tensor), in eval mode without gradients, on the CPU."""
    import torch

    device = _model_device(model)
    X = _as_tensor(X).float()
    model.eval()
    with torch.no_grad():
        return torch.cat([model(X[i:i + batch_size].to(device)).cpu()
                          for i in range(0, len(X), batch_size)])


def _progress_enabled(progress: bool | None) -> bool:
    if progress is not None:
        return progress
    return os.environ.get("COURSE_PROGRESS", "1") not in ("0", "false", "False", "")


def fit(model, train_loader, *, loss_fn: Callable, optimizer, epochs: int, val_loader=None,
        metrics: dict[str, Callable] | None = None, callbacks: tuple[Callable, ...] = (),
        progress: bool | None = None) -> History:
    """Train ``model`` for up to ``epochs`` epochs; returns the :class:`History`.

    Each epoch logs ``loss`` (mean training loss over the epoch's batches, weighted by batch
    size), ``val_loss`` and ``val_<metric>`` when ``val_loader`` is given, and ``<metric>`` on the
    training batches. Batches are moved to the device of the model's parameters.

    Args:
        metrics: name -> ``f(outputs, targets) -> float``, e.g. ``{"acc": accuracy}``.
        callbacks: each is called as ``callback(epoch, history, model)`` after an epoch is logged;
            returning ``True`` stops training (early stopping is such a callback). A callback
            with an ``on_train_end(history, model)`` method has it called once at the end,
            stopped or not (early stopping restores the best weights there).
        progress: show a tqdm bar; default from ``COURSE_PROGRESS`` (on unless it is ``0``).
    """
    import torch

    check_int("fit", "epochs", epochs, 1)
    device, history = _model_device(model), History()
    epoch_range = range(epochs)
    if _progress_enabled(progress):
        from tqdm.auto import tqdm  # imported only when shown: it warns without ipywidgets

        epoch_range = tqdm(epoch_range, desc="epochs")
    for epoch in epoch_range:
        model.train()
        totals, n = {}, 0
        for xb, yb in train_loader:
            xb, yb = xb.to(device), yb.to(device)
            optimizer.zero_grad()
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                values = {"loss": float(loss)}
                values.update({k: f(out, yb) for k, f in (metrics or {}).items()})
            for k, v in values.items():
                totals[k] = totals.get(k, 0.0) + v * len(xb)
            n += len(xb)
        history.log(**{k: v / n for k, v in totals.items()})
        if val_loader is not None:
            history.log(**{f"val_{k}": v for k, v in evaluate(model, val_loader, loss_fn, metrics).items()})
        stops = [cb(epoch, history, model) for cb in callbacks]  # every callback sees every epoch
        if any(stops):
            history.stopped_epoch = epoch
            break
    for cb in callbacks:
        if hasattr(cb, "on_train_end"):
            cb.on_train_end(history, model)
    return history
