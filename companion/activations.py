r"""Activation functions and their derivatives, in NumPy, each forward pass beside its derivative.

Every function takes an array ``x`` of any shape and returns an array of the same shape (softmax
and log-softmax normalise along ``axis``). Every ``*_grad(x)`` is the elementwise derivative
:math:`f'(x)` evaluated at the *input* ``x``, same shape as ``x``; softmax and log-softmax, whose
outputs couple the entries of a row, have a Jacobian instead: ``(..., C) -> (..., C, C)``.

Conventions shared by every public function:

* dtype: floating inputs keep their dtype (float32 stays float32); integer and bool inputs are
  converted to float64; anything else (strings, objects, complex) raises ``TypeError``.
* inputs are never modified in place.
* numerically stable: results are finite and agree with torch for inputs as large as ``±1e4``,
  and no overflow warning is raised. Each trick is named in a comment where it is used.

Reference: ``torch.sigmoid``, ``torch.tanh``, ``torch.nn.functional.relu / leaky_relu / prelu /
elu``, ``torch.softmax``, ``torch.log_softmax``; derivatives agree with ``torch.autograd``.
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "sigmoid", "sigmoid_grad",
    "tanh", "tanh_grad",
    "relu", "relu_grad",
    "leaky_relu", "leaky_relu_grad",
    "prelu", "prelu_grad",
    "elu", "elu_grad",
    "softmax", "softmax_jacobian",
    "log_softmax", "log_softmax_jacobian",
    "identity", "identity_grad",
    "ACTIVATIONS",
]


# ---------------------------------------------------------------- input checks

def _as_float(func: str, x, name: str = "x") -> np.ndarray:
    """``x`` as a floating array: floats keep their dtype, ints and bools become float64."""
    arr = np.asarray(x)
    if arr.dtype.kind == "f":
        return arr
    if arr.dtype.kind in "iub":
        return arr.astype(np.float64)
    raise TypeError(f"{func}: {name} must be a numeric array (float, int or bool); "
                    f"got dtype {arr.dtype}")


def _as_scalar(func: str, name: str, value) -> float:
    """A finite real number (not a bool), e.g. a slope or an ``alpha``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{func}: {name} must be a real number; got {type(value).__name__}")
    if not np.isfinite(value):
        raise ValueError(f"{func}: {name} must be finite; got {value}")
    return float(value)


def _check_last_axis(func: str, x: np.ndarray) -> None:
    if x.ndim < 1:
        raise ValueError(f"{func}: x must have at least 1 dimension (..., C); got shape {x.shape}")


def _check_axis(func: str, x: np.ndarray, axis) -> int:
    """A valid axis of ``x``, in ``[-ndim, ndim)``, returned non-negative."""
    _check_last_axis(func, x)
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{func}: axis must be an integer; got {type(axis).__name__}")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"{func}: axis must be in [-{x.ndim}, {x.ndim}) for x with shape "
                         f"{x.shape}; got {axis}")
    return int(axis) % x.ndim


# ---------------------------------------------------------------- sigmoid

def sigmoid(x):
    r"""Logistic sigmoid, :math:`\sigma(x) = 1 / (1 + e^{-x})`, range :math:`(0, 1)`.

    Args:
        x: array of any shape.
    Returns:
        array, same shape and (floating) dtype as ``x``.
    Reference: ``torch.sigmoid``. For ``-745 < x < -709.8`` (float64) ours returns the tiny
    subnormal value :math:`e^{x}` where torch, whose :math:`e^{-x}` overflows there, returns 0.
    """
    x = _as_float("sigmoid", x)
    # stability: e = exp(-|x|) lies in (0, 1], so nothing can overflow for any finite x
    e = np.exp(-np.abs(x))
    # sigma(x) = 1 / (1 + e^{-x}) for x >= 0,   = e^{x} / (1 + e^{x}) for x < 0
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_grad(x):
    r"""Derivative of the sigmoid, :math:`\sigma'(x) = \sigma(x)(1 - \sigma(x))`, at most 1/4.

    Computed as :math:`e^{-|x|} / (1 + e^{-|x|})^2` (the derivative is even), which keeps full
    relative precision in the tails where :math:`1 - \sigma(x)` would round to 0. torch's
    autograd forms :math:`\sigma(1-\sigma)` from the rounded output, so for :math:`|x| > 30` the
    two differ by up to about 1e-16 in absolute terms.
    """
    x = _as_float("sigmoid_grad", x)
    # stability: exp(-|x|) <= 1 never overflows; no cancellation in 1 - sigma
    e = np.exp(-np.abs(x))
    # sigma'(x) = sigma(x) (1 - sigma(x)) = e^{-|x|} / (1 + e^{-|x|})^2
    # near x = 0 the rounded quotient can land one ulp above the true maximum 1/4: clip to it
    return np.minimum(e / (1 + e) ** 2, x.dtype.type(0.25))


# ---------------------------------------------------------------- tanh

def tanh(x):
    r"""Hyperbolic tangent, :math:`\tanh(x) = (e^x - e^{-x}) / (e^x + e^{-x})`, range :math:`(-1, 1)`.

    Zero-centred, and :math:`\tanh(x) = 2\sigma(2x) - 1`. Reference: ``torch.tanh``.
    """
    x = _as_float("tanh", x)
    # np.tanh is stable for every finite x (it saturates to +-1 without overflow)
    return np.tanh(x)


def tanh_grad(x):
    r"""Derivative of tanh, :math:`\tanh'(x) = 1 - \tanh^2(x) = \operatorname{sech}^2(x)`, at most 1.

    Computed as :math:`4e^{-2|x|} / (1 + e^{-2|x|})^2`: no overflow (``cosh`` would overflow past
    ``|x| = 710``) and no cancellation in :math:`1 - \tanh^2` for large ``|x|``.
    """
    x = _as_float("tanh_grad", x)
    # stability: exp(-2|x|) <= 1 never overflows
    e = np.exp(-2 * np.abs(x))
    # tanh'(x) = sech^2(x) = 4 / (e^x + e^{-x})^2 = 4 e^{-2|x|} / (1 + e^{-2|x|})^2
    # near x = 0 the rounded quotient can land one ulp above the true maximum 1: clip to it
    return np.minimum(4 * e / (1 + e) ** 2, x.dtype.type(1))


# ---------------------------------------------------------------- ReLU

def relu(x):
    r"""Rectified linear unit, :math:`\mathrm{ReLU}(x) = \max(0, x)`, range :math:`[0, \infty)`.

    Reference: ``torch.nn.functional.relu`` (NaN propagates, as in torch).
    """
    x = _as_float("relu", x)
    # ReLU(x) = max(0, x)
    return np.maximum(x, 0)


def relu_grad(x):
    r"""Derivative of ReLU: 1 where :math:`x > 0`, else 0 (0 at :math:`x = 0`, as torch)."""
    x = _as_float("relu_grad", x)
    # ReLU'(x) = 1[x > 0]
    return (x > 0).astype(x.dtype)


# ---------------------------------------------------------------- Leaky ReLU

def leaky_relu(x, negative_slope=0.01):
    r"""Leaky ReLU: :math:`x` for :math:`x > 0`, else :math:`a x` with ``a = negative_slope``.

    A small slope for negative inputs keeps a gradient flowing, so a unit cannot "die".
    Reference: ``torch.nn.functional.leaky_relu``.
    """
    x = _as_float("leaky_relu", x)
    a = x.dtype.type(_as_scalar("leaky_relu", "negative_slope", negative_slope))
    # LeakyReLU(x) = x if x > 0 else a x
    return np.where(x > 0, x, a * x)


def leaky_relu_grad(x, negative_slope=0.01):
    r"""Derivative of Leaky ReLU: 1 where :math:`x > 0`, else ``negative_slope`` (also at 0, as torch)."""
    x = _as_float("leaky_relu_grad", x)
    a = x.dtype.type(_as_scalar("leaky_relu_grad", "negative_slope", negative_slope))
    # LeakyReLU'(x) = 1 if x > 0 else a
    return np.where(x > 0, x.dtype.type(1), a)


# ---------------------------------------------------------------- PReLU

def _prelu_weight(func: str, x: np.ndarray, weight) -> np.ndarray:
    """``weight`` cast to ``x``'s dtype and shaped to broadcast along axis 1 of ``x``."""
    w = _as_float(func, weight, "weight")
    if w.size == 1 and w.ndim <= 1:  # () or (1,): one slope shared by every channel
        return w.reshape(()).astype(x.dtype)
    if w.ndim != 1 or x.ndim < 2 or w.shape[0] != x.shape[1]:
        raise ValueError(f"{func}: weight must have shape () or (C,) with C = x.shape[1] "
                         f"(x has shape {x.shape}); got {w.shape}")
    return w.astype(x.dtype).reshape((-1,) + (1,) * (x.ndim - 2))  # (C, 1, ..., 1)


def prelu(x, weight):
    r"""Parametric ReLU: :math:`x` for :math:`x > 0`, else :math:`a_c x`, with a *learned* slope.

    Args:
        x: (N, C, ...) input, or any shape when ``weight`` is a single slope.
        weight: the slope(s) :math:`a`: shape ``()`` or ``(1,)`` (one slope for all channels,
            torch's ``nn.PReLU()``), or ``(C,)``, one per channel along axis 1
            (``nn.PReLU(num_parameters=C)``). Cast to ``x``'s dtype.
    Returns:
        array, same shape and dtype as ``x``.
    Reference: ``torch.nn.functional.prelu``.
    """
    x = _as_float("prelu", x)
    a = _prelu_weight("prelu", x, weight)
    # PReLU(x) = x if x > 0 else a_c x
    return np.where(x > 0, x, a * x)


def prelu_grad(x, weight, dout=None):
    r"""Gradients of PReLU with respect to its input and its slope.

    .. math::
        \frac{\partial f}{\partial x} = \begin{cases} 1 & x > 0 \\ a_c & x \le 0 \end{cases}
        \qquad
        \frac{\partial L}{\partial a_c} = \sum_{i \in c} \delta_i \,\min(x_i, 0)

    Args:
        x, weight: as in :func:`prelu`.
        dout: optional upstream gradient :math:`\delta = \partial L / \partial f`, same shape as
            ``x``; default all ones, so ``dx`` is the elementwise derivative and ``dweight`` is
            :math:`\partial (\sum f) / \partial a`.
    Returns:
        ``(dx, dweight)``: ``dx`` same shape as ``x`` (:math:`\delta \odot f'(x)`), ``dweight``
        summed to ``weight``'s shape, both in ``x``'s dtype.
    """
    x = _as_float("prelu_grad", x)
    a = _prelu_weight("prelu_grad", x, weight)
    delta = np.ones_like(x) if dout is None else _as_float("prelu_grad", dout, "dout")
    if delta.shape != x.shape:
        raise ValueError(f"prelu_grad: dout must have the shape of x {x.shape}; got {delta.shape}")
    # df/dx = 1 if x > 0 else a_c
    dx = delta * np.where(x > 0, x.dtype.type(1), a)
    # df/da_c = x if x <= 0 else 0, summed over every position of channel c
    local = delta * np.where(x > 0, x.dtype.type(0), x)
    if a.ndim == 0:
        dweight = local.sum()
    else:
        dweight = local.sum(axis=tuple(i for i in range(x.ndim) if i != 1))  # (C,)
    return dx.astype(x.dtype), np.asarray(dweight, dtype=x.dtype).reshape(np.shape(weight))


# ---------------------------------------------------------------- ELU

def elu(x, alpha=1.0):
    r"""Exponential linear unit: :math:`x` for :math:`x > 0`, else :math:`\alpha (e^x - 1)`.

    Smooth for ``alpha = 1``, saturates to :math:`-\alpha` for very negative inputs, range
    :math:`(-\alpha, \infty)`. Reference: ``torch.nn.functional.elu``.
    """
    x = _as_float("elu", x)
    alpha = x.dtype.type(_as_scalar("elu", "alpha", alpha))
    # stability: exp only sees min(x, 0) <= 0, so the unused branch of `where` cannot overflow;
    # expm1 keeps precision for tiny |x| where e^x - 1 would cancel
    neg = alpha * np.expm1(np.minimum(x, 0))
    # ELU(x) = x if x > 0 else alpha (e^x - 1)
    return np.where(x > 0, x, neg)


def elu_grad(x, alpha=1.0):
    r"""Derivative of ELU: 1 where :math:`x > 0`, else :math:`\alpha e^x` (``alpha`` at 0, as torch)."""
    x = _as_float("elu_grad", x)
    alpha = x.dtype.type(_as_scalar("elu_grad", "alpha", alpha))
    # stability: exp only sees min(x, 0) <= 0
    neg = alpha * np.exp(np.minimum(x, 0))
    # ELU'(x) = 1 if x > 0 else alpha e^x
    return np.where(x > 0, x.dtype.type(1), neg)


# ---------------------------------------------------------------- softmax and log-softmax

def softmax(x, axis=-1):
    r"""Softmax along ``axis``: :math:`s_i = e^{x_i} / \sum_j e^{x_j}`, entries in (0, 1), sum 1.

    Args:
        x: array with at least one dimension, e.g. (N, C) logits.
        axis: the axis that sums to 1 (default the last, as ``torch.softmax(x, dim=-1)``).
    Returns:
        array, same shape and dtype as ``x``.
    """
    x = _as_float("softmax", x)
    axis = _check_axis("softmax", x, axis)
    # stability: subtract the max (softmax is shift-invariant), so every exponent is <= 0
    z = x - x.max(axis=axis, keepdims=True)
    e = np.exp(z)
    # s_i = e^{z_i} / sum_j e^{z_j}
    return e / e.sum(axis=axis, keepdims=True)


def softmax_jacobian(x):
    r"""Jacobian of softmax over the last axis: :math:`J_{ij} = s_i (\delta_{ij} - s_j)`.

    Args:
        x: (..., C) logits.
    Returns:
        (..., C, C) array ``J`` with ``J[..., i, j]`` :math:`= \partial s_i / \partial x_j`.
    Reference: ``torch.autograd.functional.jacobian`` of ``torch.softmax(x, -1)``.
    """
    x = _as_float("softmax_jacobian", x)
    _check_last_axis("softmax_jacobian", x)
    s = softmax(x, axis=-1)  # (..., C)
    # J = diag(s) - s s^T
    return s[..., :, None] * np.eye(x.shape[-1], dtype=x.dtype) - s[..., :, None] * s[..., None, :]


def log_softmax(x, axis=-1):
    r"""Log of the softmax along ``axis``: :math:`x_i - \log \sum_j e^{x_j}`.

    Computed directly (never as ``log(softmax(x))``, which gives ``-inf`` once a probability
    underflows to 0). Same arguments as :func:`softmax`. Reference: ``torch.log_softmax``.
    """
    x = _as_float("log_softmax", x)
    axis = _check_axis("log_softmax", x, axis)
    # stability: log-sum-exp with the max m taken out, so every exponent is <= 0
    m = x.max(axis=axis, keepdims=True)
    # log s_i = x_i - m - log sum_j e^{x_j - m}
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def log_softmax_jacobian(x):
    r"""Jacobian of log-softmax over the last axis: :math:`J_{ij} = \delta_{ij} - s_j`.

    Args:
        x: (..., C) logits.
    Returns:
        (..., C, C) array ``J`` with ``J[..., i, j]`` :math:`= \partial \log s_i / \partial x_j`.
    """
    x = _as_float("log_softmax_jacobian", x)
    _check_last_axis("log_softmax_jacobian", x)
    s = softmax(x, axis=-1)  # (..., C)
    # J = I - 1 s^T: every row i is the same s, subtracted from the identity's row
    return np.eye(x.shape[-1], dtype=x.dtype) - s[..., None, :]


# ---------------------------------------------------------------- identity and the registry

def identity(x):
    """The identity, :math:`f(x) = x` (a linear output layer); returns a float copy."""
    return _as_float("identity", x).copy()


def identity_grad(x):
    """Derivative of the identity: ones, same shape and dtype as ``x``."""
    return np.ones_like(_as_float("identity_grad", x))


#: name -> (forward, derivative) for the elementwise activations, used by ``companion.mlp``.
ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_grad),
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "elu": (elu, elu_grad),
    "identity": (identity, identity_grad),
}
