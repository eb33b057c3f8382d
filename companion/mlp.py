r"""A multilayer perceptron in NumPy: Dense layers, activations, and one training loop.

A :class:`Dense` layer computes :math:`\text{out} = xW + b`; an :class:`Activation` applies a
function elementwise; an :class:`MLP` stacks them. Each layer has ``forward`` (caches what its
backward pass needs) and ``backward`` (takes :math:`\partial L/\partial\text{out}`, stores its
parameter gradients, returns :math:`\partial L/\partial x`).

:func:`train` is gradient descent, :math:`\theta \leftarrow \theta - \eta \nabla_\theta L`, over
shuffled mini-batches. Batch, stochastic and mini-batch gradient descent are the *same* loop:
``batch_size=len(X)`` is batch GD (one update per epoch), ``batch_size=1`` is SGD (``len(X)``
updates per epoch), anything between is mini-batch GD (``ceil(len(X) / batch_size)`` updates).

Conventions: ``W`` has shape ``(in_features, out_features)`` and maps ``x @ W``, the transpose of
torch's ``nn.Linear.weight``; parameters are float64 (float32 inputs are promoted). The last
layer outputs logits / raw values; the loss applies the sigmoid or softmax.
Reference: ``torch.nn.Linear``, ``torch.nn.Sequential``, ``torch.optim.SGD``,
``torch.nn.utils.clip_grad_norm_``.
"""
from __future__ import annotations

import numpy as np

from . import losses
from .activations import ACTIVATIONS
from .init import INITIALIZERS
from .validation import (check_floating, check_int, check_ndim, check_positive, check_random_state,
                         check_type)

__all__ = ["Dense", "Activation", "MLP", "LOSSES", "clip_grad_norm", "train_step", "evaluate",
           "train"]


def _choice(func: str, name: str, value, options) -> str:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{func}: {name} must be one of {', '.join(options)}; got {value!r}")
    return value


class Dense:
    r"""A fully connected layer, :math:`\text{out} = xW + b`.

    Args:
        in_features, out_features: sizes :math:`D_{in}`, :math:`D_{out}` (ints >= 1).
        init: a name from ``companion.init.INITIALIZERS`` for ``W``; ``b`` starts at zero.
        random_state: None, an int seed or a ``np.random.Generator`` for ``init``.
    Attributes:
        W: (in_features, out_features) float64, the transpose of ``nn.Linear.weight``.
        b: (out_features,) float64. dW, db: their gradients after :meth:`backward`.
    Reference: ``torch.nn.Linear`` (``W = linear.weight.T``, ``b = linear.bias``).
    """

    def __init__(self, in_features: int, out_features: int, *, init: str = "he_normal",
                 random_state=None):
        self.in_features = check_int("Dense", "in_features", in_features, 1)
        self.out_features = check_int("Dense", "out_features", out_features, 1)
        self.init = _choice("Dense", "init", init, INITIALIZERS)
        self.W = INITIALIZERS[init]((self.in_features, self.out_features), random_state=random_state)
        self.b = np.zeros(self.out_features)
        self.dW, self.db = np.zeros_like(self.W), np.zeros_like(self.b)
        self._x = None

    def __repr__(self) -> str:
        return f"Dense({self.in_features}, {self.out_features}, init={self.init!r})"

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x: (N, in_features) floats -> (N, out_features); caches x for :meth:`backward`."""
        x = np.asarray(x)
        check_floating("Dense.forward", "x", x)
        check_ndim("Dense.forward", "x", x, 2, "(N, in_features)")
        if x.shape[1] != self.in_features:
            raise ValueError(f"Dense.forward: x must have shape (N, {self.in_features}) "
                             f"(in_features={self.in_features}); got {x.shape}")
        self._x = x
        # out = x W + b                          (N, D_in) @ (D_in, D_out) + (D_out,) -> (N, D_out)
        return x @ self.W + self.b

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dout: (N, out_features) = dL/dout -> dx (N, in_features); stores ``dW``, ``db``."""
        if self._x is None:
            raise RuntimeError("Dense.backward: call forward first; no input is cached")
        dout = np.asarray(dout)
        expected = (len(self._x), self.out_features)
        if dout.shape != expected:
            raise ValueError(f"Dense.backward: dout must have shape {expected} (N from the "
                             f"cached x, out_features); got {dout.shape}")
        # dW = x^T dout                           (D_in, N) @ (N, D_out) -> (D_in, D_out)
        self.dW = self._x.T @ dout
        # db = sum over the batch of dout         (N, D_out) -> (D_out,)
        self.db = dout.sum(axis=0)
        # dx = dout W^T                           (N, D_out) @ (D_out, D_in) -> (N, D_in)
        return dout @ self.W.T

    def parameters(self) -> list[np.ndarray]:
        return [self.W, self.b]

    def gradients(self) -> list[np.ndarray]:
        return [self.dW, self.db]


class Activation:
    r"""An elementwise activation layer, :math:`a = f(z)`; backward :math:`dz = da \odot f'(z)`.

    Args:
        name: a key of ``companion.activations.ACTIVATIONS`` (sigmoid, tanh, relu, leaky_relu,
            elu, identity), with those functions' default parameters.
    """

    def __init__(self, name: str):
        self.name = _choice("Activation", "name", name, ACTIVATIONS)
        self.f, self.f_grad = ACTIVATIONS[name]
        self._z = None

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"

    def forward(self, z: np.ndarray) -> np.ndarray:
        """z: any shape -> f(z), same shape; caches z."""
        self._z = np.asarray(z)
        return self.f(self._z)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dout = dL/da, the shape of z -> dL/dz = dout * f'(z)."""
        if self._z is None:
            raise RuntimeError("Activation.backward: call forward first; no input is cached")
        dout = np.asarray(dout)
        if dout.shape != self._z.shape:
            raise ValueError(f"Activation.backward: dout must have shape {self._z.shape} (the "
                             f"cached input's); got {dout.shape}")
        # dL/dz = dL/da * f'(z)   (chain rule, elementwise)
        return dout * self.f_grad(self._z)

    def parameters(self) -> list[np.ndarray]:
        return []

    def gradients(self) -> list[np.ndarray]:
        return []


class MLP:
    """Dense layers with an activation between each pair; the last Dense outputs raw values.

    Args:
        layer_sizes: ``[D_in, H_1, ..., D_out]``, at least two ints >= 1.
        activation: the hidden activation's name (see :class:`Activation`).
        init: the weight initialiser's name for every Dense layer (biases start at zero).
        random_state: None, an int seed or a ``np.random.Generator``; one generator is passed
            through the layers in order, so the layers differ and the model is reproducible.
    Attributes:
        layers: ``[Dense, Activation, Dense, ..., Dense]``.
    Reference: ``torch.nn.Sequential(nn.Linear, nn.ReLU, ..., nn.Linear)``.
    """

    def __init__(self, layer_sizes, activation: str = "relu", *, init: str = "he_normal",
                 random_state=0):
        check_type("MLP", "layer_sizes", layer_sizes, (list, tuple), "a list of ints")
        if len(layer_sizes) < 2:
            raise ValueError(f"MLP: layer_sizes must hold at least 2 sizes (inputs, outputs); "
                             f"got {list(layer_sizes)}")
        sizes = [check_int("MLP", f"layer_sizes[{i}]", s, 1) for i, s in enumerate(layer_sizes)]
        self.layer_sizes, self.activation, self.init = sizes, activation, init
        _choice("MLP", "activation", activation, ACTIVATIONS)
        rng = check_random_state("MLP", random_state)
        self.layers = []
        for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            self.layers.append(Dense(d_in, d_out, init=init, random_state=rng))
            if i < len(sizes) - 2:  # no activation after the output layer
                self.layers.append(Activation(activation))

    def __repr__(self) -> str:
        return f"MLP({self.layer_sizes}, activation={self.activation!r}, init={self.init!r})"

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x: (N, D_in) -> (N, D_out) logits / raw outputs."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    __call__ = forward

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dout: (N, D_out) = dL/d(output) -> dL/dx (N, D_in); fills every layer's gradients."""
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def parameters(self) -> list[np.ndarray]:
        """``[W_1, b_1, W_2, b_2, ...]``: the arrays themselves (updated in place by training)."""
        return [p for layer in self.layers for p in layer.parameters()]

    def gradients(self) -> list[np.ndarray]:
        """``[dW_1, db_1, ...]``, the same order as :meth:`parameters`."""
        return [g for layer in self.layers for g in layer.gradients()]

    @property
    def dense_layers(self) -> list[Dense]:
        return [layer for layer in self.layers if isinstance(layer, Dense)]


# ---------------------------------------------------------------- losses, clipping, one step

#: name -> (loss, gradient, task). Every loss takes the model's raw output.
LOSSES = {
    "sparse_categorical_cross_entropy": (losses.sparse_categorical_cross_entropy,
                                         losses.sparse_categorical_cross_entropy_grad,
                                         "multiclass"),
    "binary_cross_entropy_with_logits": (losses.binary_cross_entropy_with_logits,
                                         losses.binary_cross_entropy_with_logits_grad, "binary"),
    "mse": (losses.mse, losses.mse_grad, "regression"),
}


def _loss_and_grad(loss: str, out: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """The mean loss of the batch and dL/d(out), shape (N, D_out)."""
    fn, fn_grad, task = LOSSES[loss]
    if task != "multiclass" and y.ndim == 1:  # one output column against a 1-D target
        return float(fn(out[:, 0], y)), fn_grad(out[:, 0], y)[:, None]  # (N,) -> (N, 1)
    return float(fn(out, y)), fn_grad(out, y)


def _accuracy(loss: str, out: np.ndarray, y: np.ndarray) -> float | None:
    task = LOSSES[loss][2]
    if task == "multiclass":
        return float(np.mean(out.argmax(axis=1) == y))
    if task == "binary":  # p > 0.5 exactly when the logit > 0
        return float(np.mean((out[:, 0] > 0) == (y > 0.5)))
    return None


def clip_grad_norm(grads: list[np.ndarray], max_norm: float) -> tuple[list[np.ndarray], float]:
    r"""Clip by global norm, as ``torch.nn.utils.clip_grad_norm_``: one scale for all gradients.

    .. math::
        \|g\| = \sqrt{\textstyle\sum_k \|g_k\|_2^2}, \qquad
        g_k \leftarrow g_k \cdot \min\!\left(1, \frac{\text{max\_norm}}{\|g\| + 10^{-6}}\right)

    The direction of the full gradient is kept; only its length is capped at ``max_norm``.
    Returns ``(new gradients, the norm before clipping)``; the inputs are not modified (torch
    clips in place).
    """
    check_positive("clip_grad_norm", "max_norm", max_norm)
    total = float(np.sqrt(sum(float(np.sum(g * g)) for g in grads)))
    # coef = max_norm / (||g|| + 1e-6), never above 1 (torch adds the same 1e-6)
    coef = min(1.0, max_norm / (total + 1e-6))
    return [g * coef for g in grads], total


def train_step(model: MLP, X, y, *, loss: str = "sparse_categorical_cross_entropy",
               lr: float = 0.1, max_grad_norm: float | None = None) -> tuple[float, float]:
    r"""One gradient-descent update on the batch ``(X, y)``: :math:`\theta \leftarrow \theta - \eta\nabla_\theta L`.

    Forward, loss, backward, optional clipping by global norm, then the update, in place on the
    model's parameters. Arguments as :func:`train`. Returns ``(the batch's loss before the
    update, the global gradient norm before clipping)``.
    """
    X, y = _check_step("train_step", model, X, y, loss, lr, max_grad_norm)
    out = model.forward(X)  # (B, D_out)
    value, dout = _loss_and_grad(loss, out, y)  # dL/d(out): (B, D_out)
    model.backward(dout)  # fills every layer's dW, db
    grads = model.gradients()
    norm = float(np.sqrt(sum(float(np.sum(g * g)) for g in grads)))
    if max_grad_norm is not None:
        grads, norm = clip_grad_norm(grads, max_grad_norm)
    for theta, g in zip(model.parameters(), grads):
        # theta <- theta - lr * dL/dtheta   (in place: the model's own arrays)
        theta -= lr * g
    return value, norm


# ---------------------------------------------------------------- checks, evaluation, the training loop

def _check_data(func: str, model: MLP, X, y, loss: str, names=("X", "y")):
    """Validate a data set against the model and the loss; returns arrays ``(X, y)``."""
    X, y = np.asarray(X), np.asarray(y)
    check_floating(func, names[0], X)
    check_ndim(func, names[0], X, 2, "(N, D)")
    check_ndim(func, names[1], y, (1, 2), "(N,) or (N, D_out)")
    if len(y) != len(X):
        raise ValueError(f"{func}: {names[1]} must have one entry per row of {names[0]} "
                         f"({len(X)}); got {len(y)}")
    if len(X) == 0:
        raise ValueError(f"{func}: {names[0]} must not be empty; got shape {X.shape}")
    d_in, d_out = model.layer_sizes[0], model.layer_sizes[-1]
    if X.shape[1] != d_in:
        raise ValueError(f"{func}: {names[0]} must have {d_in} features (the model's first layer); "
                         f"got {X.shape[1]}")
    task = LOSSES[loss][2]
    if task == "multiclass" and (y.ndim != 1 or y.dtype.kind not in "iu"):
        raise ValueError(f"{func}: {names[1]} must be a 1-D array of integer class labels for "
                         f"{loss}; got shape {y.shape}, dtype {y.dtype}")
    if task == "multiclass" and (y.min() < 0 or y.max() >= d_out):
        raise ValueError(f"{func}: {names[1]} must hold labels in [0, {d_out - 1}] (the model has "
                         f"{d_out} outputs); got labels in [{y.min()}, {y.max()}]")
    if task != "multiclass" and (y.shape[1:] if y.ndim > 1 else (1,)) != (d_out,):
        raise ValueError(f"{func}: {names[1]} must have shape (N,) for a single output or "
                         f"(N, {d_out}) for {loss} (the model has {d_out} outputs); got {y.shape}")
    return X, y


def _check_step(func: str, model, X, y, loss, lr, max_grad_norm):
    """Validate the arguments shared by :func:`train_step` and :func:`train`; returns (X, y)."""
    _choice(func, "loss", loss, LOSSES)
    X, y = _check_data(func, model, X, y, loss)
    check_positive(func, "lr", lr)
    if max_grad_norm is not None:
        check_positive(func, "max_grad_norm", max_grad_norm)
    return X, y


def evaluate(model: MLP, X, y, *, loss: str = "sparse_categorical_cross_entropy") -> dict:
    """``{"loss": mean loss, "accuracy": ...}`` on ``(X, y)``; accuracy for classification only."""
    _choice("evaluate", "loss", loss, LOSSES)
    X, y = _check_data("evaluate", model, X, y, loss)
    out = model.forward(X)
    result = {"loss": _loss_and_grad(loss, out, y)[0]}
    if (acc := _accuracy(loss, out, y)) is not None:
        result["accuracy"] = acc
    return result


def _log_epoch(history: dict, model: MLP, loss: str, data: dict) -> None:
    """Append the epoch's loss (and accuracy) on each data set: ``data = {prefix: (X, y)}``."""
    for prefix, (X, y) in data.items():
        for key, value in evaluate(model, X, y, loss=loss).items():
            history.setdefault(prefix + key, []).append(value)


def train(model: MLP, X, y, *, loss: str = "sparse_categorical_cross_entropy", lr: float = 0.1,
          epochs: int = 10, batch_size: int = 32, random_state=0, X_val=None, y_val=None,
          max_grad_norm: float | None = None) -> dict:
    """Train ``model`` in place by mini-batch gradient descent; return the history.

    Each epoch shuffles the rows with a generator seeded by ``random_state`` and walks through
    them in batches of ``batch_size`` (the last one may be smaller): ``ceil(N / batch_size)``
    updates per epoch. ``batch_size >= N`` is batch gradient descent, ``1`` is stochastic.

    Args:
        model: an :class:`MLP` whose first size is ``D`` and last size fits the loss.
        X: (N, D) floats. y: (N,) int labels for "sparse_categorical_cross_entropy" (logits
            (N, C)); (N,) 0/1 targets for "binary_cross_entropy_with_logits" (one logit);
            (N,) or (N, D_out) floats for "mse" (regression).
        lr: learning rate > 0. epochs, batch_size: ints >= 1.
        X_val, y_val: optional validation set, scored after every epoch.
        max_grad_norm: if given, clip the global gradient norm to it before every update
            (:func:`clip_grad_norm`, like ``torch.nn.utils.clip_grad_norm_``).
    Returns:
        dict of lists. Per epoch: "loss" (on the whole training set after the epoch, so curves
        of different batch sizes are comparable), "accuracy" (classification), "val_loss" and
        "val_accuracy" (with a validation set), "iterations" (cumulative updates). Per update:
        "batch_loss" (the batch's loss before the update) and "grad_norm" (before clipping).
    """
    X, y = _check_step("train", model, X, y, loss, lr, max_grad_norm)
    if (X_val is None) != (y_val is None):
        raise ValueError("train: give both X_val and y_val, or neither")
    data = {"": (X, y)}
    if X_val is not None:
        data["val_"] = _check_data("train", model, X_val, y_val, loss, ("X_val", "y_val"))
    check_int("train", "epochs", epochs, 1)
    check_int("train", "batch_size", batch_size, 1)
    rng = check_random_state("train", random_state)
    history = {"iterations": [], "batch_loss": [], "grad_norm": []}
    for _ in range(epochs):
        order = rng.permutation(len(X))  # a new shuffle every epoch
        # batch GD: one batch of N; SGD: N batches of 1; mini-batch: ceil(N / batch_size)
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]  # (B,) row indices, B <= batch_size
            value, norm = train_step(model, X[idx], y[idx], loss=loss, lr=lr,
                                     max_grad_norm=max_grad_norm)
            history["batch_loss"].append(value)
            history["grad_norm"].append(norm)
        history["iterations"].append(len(history["batch_loss"]))
        _log_epoch(history, model, loss, data)
    return history
