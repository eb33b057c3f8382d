r"""Rosenblatt's perceptron: one neuron with a step activation and its error-driven learning rule.

.. math::
    \hat y = H(w \cdot x + b), \qquad H(z) = \begin{cases} 1 & z > 0 \\ 0 & z \le 0 \end{cases}

    w \leftarrow w + \eta\,(y - \hat y)\,x, \qquad b \leftarrow b + \eta\,(y - \hat y)

The update is zero when the prediction is right, so the neuron only moves on a mistake, towards
the example's side of the line. If the two classes can be split by a line (a hyperplane), the
perceptron convergence theorem guarantees a finite number of mistakes; if they cannot (XOR), some
example is misclassified in every epoch, forever.

Reference: ``sklearn.linear_model.Perceptron`` (``eta0`` is ``lr``) makes the same step,
:math:`\pm\eta x`, on each mistake, with labels :math:`\{-1, +1\}` instead of :math:`\{0, 1\}`;
it also counts a point exactly on the line (:math:`z = 0`) as a mistake for both classes, and it
stops early once the loss stops improving, where this class always runs every epoch.
"""
from __future__ import annotations

import numpy as np

from companion.validation import (check_int, check_ndim, check_positive, check_random_state,
                                  check_same_length)

__all__ = ["Perceptron"]


def _as_features(func: str, X, n_inputs: int) -> np.ndarray:
    """``X`` as a float64 (N, n_inputs) array; a TypeError if it is not numeric."""
    X = np.asarray(X)
    if X.dtype.kind not in "fiub":
        raise TypeError(f"{func}: X must be a numeric array; got dtype {X.dtype}")
    check_ndim(func, "X", X, 2, "(N, n_inputs)")
    if X.shape[1] != n_inputs:
        raise ValueError(f"{func}: X must have shape (N, {n_inputs}) with n_inputs={n_inputs}; "
                         f"got {X.shape}")
    return X.astype(np.float64)


class Perceptron:
    r"""A single threshold neuron trained with the perceptron rule.

    Args:
        n_inputs: number of input features :math:`D`.
        lr: learning rate :math:`\eta > 0`.
        random_state: int seed (>= 0) or ``np.random.Generator`` for the order in which each
            epoch visits the examples.
        shuffle: visit the examples in a fresh random order every epoch (default), or in the
            given order.

    Attributes:
        w: (D,) weights, ``b``: bias; both start at zero (Rosenblatt's choice) on every ``fit``.
    """

    def __init__(self, n_inputs: int, lr: float = 1.0, random_state=0, *, shuffle: bool = True):
        self.n_inputs = check_int("Perceptron", "n_inputs", n_inputs, 1)
        self.lr = float(check_positive("Perceptron", "lr", lr))
        check_random_state("Perceptron", random_state)  # validated now, used in fit
        self.random_state = random_state
        self.shuffle = bool(shuffle)
        self.w = np.zeros(self.n_inputs)
        self.b = 0.0

    def decision_function(self, X) -> np.ndarray:
        r"""The pre-activation :math:`z = X w + b`, shape (N,)."""
        X = _as_features("Perceptron.decision_function", X, self.n_inputs)
        return X @ self.w + self.b

    def predict(self, X) -> np.ndarray:
        r"""Class labels :math:`\hat y = H(Xw + b) \in \{0, 1\}`, shape (N,), dtype int64."""
        X = _as_features("Perceptron.predict", X, self.n_inputs)
        # step activation: 1 if z > 0 else 0
        return (X @ self.w + self.b > 0).astype(np.int64)

    def fit(self, X, y, epochs: int = 10) -> list[int]:
        r"""Train from zero weights with the perceptron rule, one example at a time.

        Args:
            X: (N, D) inputs.
            y: (N,) labels in {0, 1}.
            epochs: number of passes over the data (all are run, even after a perfect epoch).
        Returns:
            the number of mistakes (updates) in each epoch, a list of ``epochs`` ints; a 0
            means that epoch classified every example correctly.
        """
        X = _as_features("Perceptron.fit", X, self.n_inputs)
        y = self._labels(y)
        check_same_length("Perceptron.fit", X=X, y=y)
        epochs = check_int("Perceptron.fit", "epochs", epochs, 1)
        rng = check_random_state("Perceptron.fit", self.random_state)
        self.w, self.b = np.zeros(self.n_inputs), 0.0
        mistakes = []
        for _ in range(epochs):
            order = rng.permutation(len(X)) if self.shuffle else np.arange(len(X))
            count = 0
            for i in order:
                # y_hat = H(w . x + b)
                y_hat = int(X[i] @ self.w + self.b > 0)
                # w <- w + lr (y - y_hat) x ;  b <- b + lr (y - y_hat)  (no change when right)
                error = y[i] - y_hat
                if error != 0:
                    self.w = self.w + self.lr * error * X[i]
                    self.b = self.b + self.lr * error
                    count += 1
            mistakes.append(count)
        return mistakes

    @staticmethod
    def _labels(y) -> np.ndarray:
        y = np.asarray(y)
        check_ndim("Perceptron.fit", "y", y, 1, "(N,)")
        if y.dtype.kind not in "fiub" or not np.isin(y, (0, 1)).all():
            found = np.unique(y)[:5].tolist() if y.dtype.kind in "fiub" else f"dtype {y.dtype}"
            raise ValueError(f"Perceptron.fit: y must hold labels 0 and 1; got {found}")
        return y.astype(np.int64)

    def __repr__(self) -> str:
        return f"Perceptron(n_inputs={self.n_inputs}, lr={self.lr:g})"
