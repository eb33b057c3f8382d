r"""Weight initialisation: where a network starts decides whether it can learn at all.

Every initialiser returns a new float64 array. The fan-based ones (Xavier, He, orthogonal) take a
2-D ``shape = (fan_in, fan_out)``: in this library a weight ``W`` maps ``x @ W``, so ``W`` has
shape ``(in_features, out_features)``, the **transpose** of torch's ``nn.Linear.weight``
``(out_features, in_features)``. With that layout in mind the variances are torch.nn.init's:

- ``zeros``: all 0 (variance 0).
- ``uniform``: U(a, b), variance (b - a)^2 / 12.
- ``xavier_uniform``: U(-r, r) with r = g sqrt(6 / (fan_in + fan_out)); variance g^2 2 / (fan_in + fan_out).
- ``xavier_normal``: N(0, sigma^2) with the same variance g^2 2 / (fan_in + fan_out).
- ``he_uniform``: U(-r, r) with r = sqrt(6 / fan_in); variance 2 / fan_in.
- ``he_normal``: N(0, 2 / fan_in).
- ``orthogonal``: g Q, Q from the QR decomposition of a Gaussian matrix; every entry has
  variance g^2 / max(fan_in, fan_out).

Xavier keeps the variance of activations and of gradients roughly constant through a layer of
a symmetric activation (tanh); He doubles it to make up for ReLU zeroing half its inputs.

Reference: torch.nn.init (``zeros_``, ``uniform_``, ``xavier_uniform_``, ``xavier_normal_``,
``kaiming_uniform_`` / ``kaiming_normal_`` with ``mode="fan_in", nonlinearity="relu"``,
``orthogonal_``); Glorot & Bengio (2010); He et al. (2015); Saxe et al. (2014).
Convention differences: our layout is torch's transpose (above); ``uniform``'s default range is
(-0.05, 0.05) (Keras's) where torch's ``uniform_`` defaults to (0, 1).
"""
from __future__ import annotations

import numbers

import numpy as np

from .validation import check_positive, check_random_state, check_type

__all__ = [
    "zeros",
    "uniform",
    "xavier_uniform",
    "xavier_normal",
    "he_uniform",
    "he_normal",
    "orthogonal",
    "INITIALIZERS",
]


# ---------------------------------------------------------------- argument checks

def _shape(func: str, shape, *, two_d: bool) -> tuple[int, ...]:
    """Validate ``shape``: a tuple/list of positive ints; exactly two of them when ``two_d``."""
    check_type(func, "shape", shape, (tuple, list), "a tuple of ints")
    if any(isinstance(s, bool) or not isinstance(s, numbers.Integral) for s in shape):
        raise TypeError(f"{func}: shape must be a tuple of ints; got {tuple(shape)!r}")
    if two_d and len(shape) != 2:
        raise ValueError(f"{func}: shape must be 2-D (fan_in, fan_out); got {tuple(shape)!r}")
    if len(shape) == 0 or any(s < 1 for s in shape):
        raise ValueError(f"{func}: shape must hold one or more positive sizes; got {tuple(shape)!r}")
    return tuple(int(s) for s in shape)


# ---------------------------------------------------------------- the initialisers

def zeros(shape, random_state=None) -> np.ndarray:
    """All zeros: the classic *bad* weight initialisation (and the usual bias initialisation).

    Every hidden unit of a zero-initialised layer computes the same thing and receives the same
    gradient, so the units stay identical forever (the symmetry problem).

    Args:
        shape: any tuple of positive ints (a bias ``(out,)`` or a weight ``(fan_in, fan_out)``).
        random_state: accepted and ignored, so every initialiser has the same call signature.
    Returns:
        float64 array of ``shape``. Reference: torch.nn.init.zeros_.
    """
    check_random_state("zeros", random_state)
    return np.zeros(_shape("zeros", shape, two_d=False))


def uniform(shape, a: float = -0.05, b: float = 0.05, random_state=None) -> np.ndarray:
    r"""Independent draws from :math:`U(a, b)`; variance :math:`(b - a)^2 / 12`.

    The scale ignores the layer's size: fine for small nets, too small or too large for deep ones.

    Args:
        shape: any tuple of positive ints.
        a, b: the interval, ``a < b``. Default (-0.05, 0.05) as Keras; torch's ``uniform_``
            defaults to (0, 1).
        random_state: None, an int seed or a ``np.random.Generator``.
    Returns:
        float64 array of ``shape``. Reference: torch.nn.init.uniform_.
    """
    shape = _shape("uniform", shape, two_d=False)
    for name, value in (("a", a), ("b", b)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
            raise ValueError(f"uniform: {name} must be a finite number; got {value!r}")
    if not a < b:
        raise ValueError(f"uniform: need a < b; got a={a}, b={b}")
    return check_random_state("uniform", random_state).uniform(a, b, size=shape)


def xavier_uniform(shape, gain: float = 1.0, random_state=None) -> np.ndarray:
    r"""Glorot/Xavier uniform: :math:`U(-r, r)` with :math:`r = g \sqrt{6 / (n_{in} + n_{out})}`.

    Var :math:`= r^2 / 3 = g^2 \cdot 2 / (n_{in} + n_{out})`, the compromise between keeping the
    forward variance (:math:`1/n_{in}`) and the backward variance (:math:`1/n_{out}`) constant.

    Args:
        shape: ``(fan_in, fan_out)``, 2-D only; the transpose of torch's ``(out, in)`` layout.
        gain: :math:`g > 0` (torch's ``calculate_gain``: 1 for linear/sigmoid, 5/3 for tanh).
        random_state: None, an int seed or a ``np.random.Generator``.
    Returns:
        float64 array ``(fan_in, fan_out)``. Reference: torch.nn.init.xavier_uniform_.
    """
    fan_in, fan_out = _shape("xavier_uniform", shape, two_d=True)
    check_positive("xavier_uniform", "gain", gain)
    # r = g * sqrt(6 / (fan_in + fan_out)), so that Var = r^2 / 3 = g^2 * 2 / (fan_in + fan_out)
    r = gain * np.sqrt(6.0 / (fan_in + fan_out))
    rng = check_random_state("xavier_uniform", random_state)
    return rng.uniform(-r, r, size=(fan_in, fan_out))


def xavier_normal(shape, gain: float = 1.0, random_state=None) -> np.ndarray:
    r"""Glorot/Xavier normal: :math:`N(0, \sigma^2)`, :math:`\sigma = g\sqrt{2 / (n_{in} + n_{out})}`.

    Args, returns: as :func:`xavier_uniform`. Reference: torch.nn.init.xavier_normal_.
    """
    fan_in, fan_out = _shape("xavier_normal", shape, two_d=True)
    check_positive("xavier_normal", "gain", gain)
    # Var = g^2 * 2 / (fan_in + fan_out)
    sigma = gain * np.sqrt(2.0 / (fan_in + fan_out))
    rng = check_random_state("xavier_normal", random_state)
    return rng.normal(0.0, sigma, size=(fan_in, fan_out))


def he_uniform(shape, random_state=None) -> np.ndarray:
    r"""He/Kaiming uniform for ReLU: :math:`U(-r, r)` with :math:`r = \sqrt{6 / n_{in}}`.

    Var :math:`= r^2 / 3 = 2 / n_{in}`: ReLU zeroes half of its inputs, which halves the second
    moment, so the weights' variance is twice Xavier's forward-only :math:`1 / n_{in}`.

    Args:
        shape: ``(fan_in, fan_out)``, 2-D only; the transpose of torch's ``(out, in)`` layout.
        random_state: None, an int seed or a ``np.random.Generator``.
    Returns:
        float64 array ``(fan_in, fan_out)``. Reference: torch.nn.init.kaiming_uniform_ with
        ``mode="fan_in", nonlinearity="relu"`` (gain :math:`\sqrt 2`; torch's default for
        ``kaiming_uniform_`` is ``leaky_relu`` with ``a=0``, which gives the same gain).
    """
    fan_in, fan_out = _shape("he_uniform", shape, two_d=True)
    # r = sqrt(6 / fan_in), so that Var = r^2 / 3 = 2 / fan_in
    r = np.sqrt(6.0 / fan_in)
    return check_random_state("he_uniform", random_state).uniform(-r, r, size=(fan_in, fan_out))


def he_normal(shape, random_state=None) -> np.ndarray:
    r"""He/Kaiming normal for ReLU: :math:`N(0, 2 / n_{in})` (not truncated, as torch).

    Args, returns: as :func:`he_uniform`. Reference: torch.nn.init.kaiming_normal_ with
    ``mode="fan_in", nonlinearity="relu"``.
    """
    fan_in, fan_out = _shape("he_normal", shape, two_d=True)
    # Var = 2 / fan_in
    sigma = np.sqrt(2.0 / fan_in)
    return check_random_state("he_normal", random_state).normal(0.0, sigma, size=(fan_in, fan_out))


def orthogonal(shape, gain: float = 1.0, random_state=None) -> np.ndarray:
    r"""A (semi-)orthogonal matrix times ``gain``: :math:`W^T W = g^2 I` or :math:`W W^T = g^2 I`.

    Draw :math:`A \sim N(0, 1)` of shape ``(max, min)``, factor :math:`A = QR`, and multiply each
    column of :math:`Q` by :math:`\operatorname{sign}(R_{ii})`, which makes :math:`Q` uniformly
    (Haar) distributed rather than biased by the QR routine's sign choice (as torch does). An
    orthogonal map preserves the norm of every vector, so deep linear stacks neither shrink nor
    blow up their input.

    Args:
        shape: ``(fan_in, fan_out)``, 2-D only. Tall (``fan_in >= fan_out``): orthonormal columns,
            :math:`W^T W = g^2 I`; wide: orthonormal rows, :math:`W W^T = g^2 I`.
        gain: :math:`g > 0`.
        random_state: None, an int seed or a ``np.random.Generator``.
    Returns:
        float64 array ``(fan_in, fan_out)``. Reference: torch.nn.init.orthogonal_ (the transpose
        of a Haar matrix is Haar, so the distribution is the same in either layout).
    """
    rows, cols = _shape("orthogonal", shape, two_d=True)
    check_positive("orthogonal", "gain", gain)
    rng = check_random_state("orthogonal", random_state)
    A = rng.normal(size=(max(rows, cols), min(rows, cols)))  # tall
    Q, R = np.linalg.qr(A)  # Q (max, min) with orthonormal columns, R (min, min) upper-triangular
    # sign correction: Q diag(sign(R_ii)) is Haar-distributed
    Q = Q * np.sign(np.diag(R))
    W = Q if rows >= cols else Q.T  # (rows, cols)
    return gain * W


#: name -> initialiser, each callable as ``INITIALIZERS[name](shape, random_state=...)``.
INITIALIZERS = {
    "zeros": zeros,
    "uniform": uniform,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "orthogonal": orthogonal,
}
