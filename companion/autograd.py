r"""A scalar reverse-mode automatic differentiation engine, and numerical gradient checks.

Every arithmetic operation on a :class:`Value` returns a new ``Value`` that remembers its inputs
(its *children*) and a small closure, ``_backward``, holding the operation's local derivative.
Together they form a computational graph. :meth:`Value.backward` visits the graph from the output
back to the inputs in reverse topological order and applies the chain rule at each node:

.. math::
    \frac{\partial L}{\partial x} \mathrel{+}= \frac{\partial L}{\partial z}\,
    \frac{\partial z}{\partial x} \quad \text{for every node } z \text{ that uses } x.

The ``+=`` matters: a value used twice (``x * x``) collects a contribution from each use.

The graph is walked with an explicit stack, not recursion, so chains of many thousands of
operations work. Gradients of leaves accumulate across calls of ``backward()``, as in
``torch.Tensor.backward``; call :meth:`Value.zero_grad` first to start again from zero.

:func:`numerical_gradient` estimates a gradient by central differences and :func:`gradient_check`
compares it with an analytic one, the standard test of any hand-written backward pass.

Reference: ``torch.autograd`` (same gradients in float64); the design follows Karpathy's micrograd.
"""
from __future__ import annotations

import math
import numbers
from typing import Callable

import numpy as np

from .validation import check_positive

__all__ = ["Value", "trace", "numerical_gradient", "gradient_check"]


def _is_real(x) -> bool:
    """A real Python or NumPy number, but not a bool (``True + x`` is almost always a mistake)."""
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


class Value:
    """One scalar in a computational graph: its value ``data`` and the gradient ``grad`` of the
    output of the last :meth:`backward` call with respect to it.

    Args:
        data: a real number (stored as a Python float, i.e. float64).
        label: an optional name, used when the graph is drawn.

    Operations: ``+ - * /`` with Values or plain numbers on either side, ``-v``, ``v ** k`` for a
    constant number ``k``, and the methods :meth:`exp`, :meth:`log`, :meth:`tanh`, :meth:`relu`,
    :meth:`sigmoid`.

    Example::

        x = Value(2.0, "x")
        y = x * x + 3 * x      # y = x^2 + 3x
        y.backward()
        x.grad                 # 7.0 = 2x + 3
    """

    def __init__(self, data, label: str = "", _children: tuple = (), _op: str = ""):
        if not _is_real(data):
            raise TypeError(f"Value: data must be a real number (int or float); "
                            f"got {type(data).__name__}")
        if not isinstance(label, str):
            raise TypeError(f"Value: label must be a str; got {type(label).__name__}")
        self.data = float(data)
        self.grad = 0.0
        self.label = label
        self.op = _op  # the operation that made this node ("" for an input or a constant)
        self._children = tuple(_children)
        self._backward: Callable[[], None] = lambda: None  # a leaf passes nothing further back

    @property
    def children(self) -> tuple[Value, ...]:
        """The Values this one was computed from (empty for a leaf)."""
        return self._children

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{label})"

    # ------------------------------------------------------------ binary operations
    @staticmethod
    def _operand(other, op: str) -> Value:
        """Wrap a plain number as a constant leaf; reject anything else with a clear message."""
        if isinstance(other, Value):
            return other
        if _is_real(other):
            return Value(other)
        raise TypeError(f"Value.{op}: the other operand must be a Value or a real number; "
                        f"got {type(other).__name__}")

    def __add__(self, other) -> Value:
        other = self._operand(other, "__add__")
        # z = a + b
        out = Value(self.data + other.data, _children=(self, other), _op="+")

        def _backward():
            # dz/da = 1, dz/db = 1: addition passes the gradient through unchanged
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __sub__(self, other) -> Value:
        other = self._operand(other, "__sub__")
        # z = a - b
        out = Value(self.data - other.data, _children=(self, other), _op="-")

        def _backward():
            # dz/da = 1, dz/db = -1
            self.grad += out.grad
            other.grad -= out.grad
        out._backward = _backward
        return out

    def __mul__(self, other) -> Value:
        other = self._operand(other, "__mul__")
        # z = a b
        out = Value(self.data * other.data, _children=(self, other), _op="*")

        def _backward():
            # dz/da = b, dz/db = a: each factor's gradient is the other factor
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __truediv__(self, other) -> Value:
        other = self._operand(other, "__truediv__")
        if other.data == 0:
            raise ZeroDivisionError(f"Value.__truediv__: division by zero "
                                    f"({self.data:.6g} / 0.0)")
        # z = a / b
        out = Value(self.data / other.data, _children=(self, other), _op="/")

        def _backward():
            # dz/da = 1 / b, dz/db = -a / b^2
            self.grad += out.grad / other.data
            other.grad -= self.data / other.data ** 2 * out.grad
        out._backward = _backward
        return out

    # a number on the left: 2 + v, 2 - v, 2 * v, 2 / v
    def __radd__(self, other) -> Value:
        return self._operand(other, "__radd__") + self

    def __rsub__(self, other) -> Value:
        return self._operand(other, "__rsub__") - self

    def __rmul__(self, other) -> Value:
        return self._operand(other, "__rmul__") * self

    def __rtruediv__(self, other) -> Value:
        return self._operand(other, "__rtruediv__") / self

    def __neg__(self) -> Value:
        # z = -a
        out = Value(-self.data, _children=(self,), _op="neg")

        def _backward():
            # dz/da = -1
            self.grad -= out.grad
        out._backward = _backward
        return out

    def __pow__(self, k) -> Value:
        if isinstance(k, Value):
            raise TypeError("Value.__pow__: the exponent must be a constant int or float, not a "
                            "Value; for a variable exponent write (k * a.log()).exp()")
        if not _is_real(k):
            raise TypeError(f"Value.__pow__: the exponent must be an int or float; "
                            f"got {type(k).__name__}")
        if self.data == 0 and k < 0:
            raise ZeroDivisionError(f"Value.__pow__: 0.0 ** {k} is undefined (division by zero)")
        if self.data < 0 and k != int(k):
            raise ValueError(f"Value.__pow__: a negative base ({self.data:.6g}) needs an integer "
                             f"exponent; got {k}")
        # z = a^k
        out = Value(self.data ** k, _children=(self,), _op=f"**{k:g}")

        def _backward():
            # dz/da = k a^(k-1)  (at a = 0: 0 for k = 0, infinite for 0 < k < 1, as torch)
            if k == 0 or (self.data == 0 and k < 1):
                local = 0.0 if k == 0 else math.inf
            else:
                local = k * self.data ** (k - 1)
            self.grad += local * out.grad
        out._backward = _backward
        return out

    def __rpow__(self, base):
        raise TypeError("Value.__rpow__: the exponent must be a constant int or float, not a "
                        "Value; for c ** v write (v * math.log(c)).exp()")

    # ------------------------------------------------------------ functions of one value
    def exp(self) -> Value:
        try:
            e = math.exp(self.data)
        except OverflowError:
            raise OverflowError(f"Value.exp: exp({self.data:.6g}) overflows float64 "
                                f"(the largest argument is about 709.78)") from None
        # z = e^a
        out = Value(e, _children=(self,), _op="exp")

        def _backward():
            # dz/da = e^a = z: the exponential is its own derivative
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def log(self) -> Value:
        if not self.data > 0:
            raise ValueError(f"Value.log: the natural log needs data > 0; got {self.data:.6g}")
        # z = ln a
        out = Value(math.log(self.data), _children=(self,), _op="log")

        def _backward():
            # dz/da = 1 / a
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def tanh(self) -> Value:
        # z = tanh a  (math.tanh saturates to +-1 without overflow)
        out = Value(math.tanh(self.data), _children=(self,), _op="tanh")

        def _backward():
            # dz/da = 1 - tanh(a)^2 = 1 - z^2
            self.grad += (1.0 - out.data ** 2) * out.grad
        out._backward = _backward
        return out

    def relu(self) -> Value:
        # z = max(0, a)
        out = Value(self.data if self.data > 0 else 0.0, _children=(self,), _op="relu")

        def _backward():
            # dz/da = 1 if a > 0 else 0 (0 at a == 0, as torch)
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad
        out._backward = _backward
        return out

    def sigmoid(self) -> Value:
        # z = 1 / (1 + e^-a); for a < 0 use e^a / (1 + e^a), the same number:
        # exp of a negative argument never overflows
        if self.data >= 0:
            s = 1.0 / (1.0 + math.exp(-self.data))
        else:
            s = math.exp(self.data) / (1.0 + math.exp(self.data))
        out = Value(s, _children=(self,), _op="sigmoid")

        def _backward():
            # dz/da = sigma(a) (1 - sigma(a)) = z (1 - z)
            self.grad += out.data * (1.0 - out.data) * out.grad
        out._backward = _backward
        return out

    # ------------------------------------------------------------ the backward pass
    def backward(self) -> None:
        """Fill ``.grad`` of every node of the graph with d(self)/d(node), by the chain rule.

        Interior nodes are reset to 0 first; leaves (inputs, parameters) *accumulate*, as in
        torch: two calls without :meth:`zero_grad` in between add the gradients twice.
        """
        order = _topological_order(self)  # every node after all of its children
        for node in order:
            if node._children:
                node.grad = 0.0
        # dL/dL = 1 seeds the chain rule
        self.grad += 1.0
        for node in reversed(order):  # from the output back to the inputs
            node._backward()

    def zero_grad(self) -> None:
        """Set ``.grad`` to 0 on every node of this graph (inputs and parameters included)."""
        for node in _topological_order(self):
            node.grad = 0.0


def _topological_order(root: Value) -> list[Value]:
    """All nodes reachable from ``root``, each listed after all of its children.

    An iterative depth-first search: a node is pushed once to expand its children and once more
    to be emitted after them (post-order), so the Python recursion limit never applies.
    """
    order: list[Value] = []
    visited: set[int] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        stack.extend((child, False) for child in node._children if id(child) not in visited)
    return order


def trace(root: Value) -> tuple[list[Value], list[tuple[Value, Value]]]:
    """The graph below ``root``, for drawing.

    Args:
        root: the output Value.
    Returns:
        ``(nodes, edges)``: nodes in topological order (inputs first, ``root`` last) and edges
        ``(child, parent)`` pointing in the direction of the forward pass.
    """
    if not isinstance(root, Value):
        raise TypeError(f"trace: root must be a Value; got {type(root).__name__}")
    nodes = _topological_order(root)
    edges = [(child, node) for node in nodes for child in node._children]
    return nodes, edges


# ---------------------------------------------------------------- numerical gradients

def _as_float64(func: str, x) -> np.ndarray:
    """A float64 copy of ``x`` (so the caller's array is never touched)."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{func}: x must be an array of real numbers; got dtype {arr.dtype}")
    return np.array(arr, dtype=np.float64)  # always a copy


def _scalar(func: str, value) -> float:
    if np.ndim(value) != 0:
        raise ValueError(f"{func}: f must return a scalar; got shape {np.shape(value)}")
    return float(value)


def numerical_gradient(f: Callable[[np.ndarray], float], x, eps: float = 1e-6) -> np.ndarray:
    r"""Estimate the gradient of a scalar function by central differences.

    .. math::
        \frac{\partial f}{\partial x_i} \approx
        \frac{f(x + \epsilon e_i) - f(x - \epsilon e_i)}{2\epsilon}

    The error is :math:`O(\epsilon^2)` (one-sided differences give :math:`O(\epsilon)`); rounding
    error grows like :math:`1/\epsilon`, so ``eps`` around 1e-6 suits float64.

    Args:
        f: maps an array shaped like ``x`` to a scalar; it gets a fresh float64 copy each call.
        x: array (any shape) of real numbers; converted to float64 and never modified.
        eps: the step :math:`\epsilon` (> 0).
    Returns:
        float64 array, the shape of ``x``. Costs ``2 x.size`` calls of ``f``.
    """
    if not callable(f):
        raise TypeError(f"numerical_gradient: f must be callable; got {type(f).__name__}")
    check_positive("numerical_gradient", "eps", eps)
    x = _as_float64("numerical_gradient", x)
    grad = np.empty_like(x)
    for i in range(x.size):
        plus, minus = x.copy(), x.copy()
        plus.flat[i] += eps
        minus.flat[i] -= eps
        # (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)
        f_plus = _scalar("numerical_gradient", f(plus))
        f_minus = _scalar("numerical_gradient", f(minus))
        grad.flat[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def gradient_check(f: Callable[[np.ndarray], float], grad, x, eps: float = 1e-6) -> float:
    r"""The largest relative error between an analytic gradient and a central-difference one.

    .. math::
        \text{err} = \max_i \frac{|a_i - n_i|}{\max(10^{-12}, |a_i| + |n_i|)}

    with :math:`a` the analytic and :math:`n` the numerical gradient. In float64 a correct
    gradient typically gives below 1e-7; a wrong one gives something near 1. Entries where both
    gradients are tiny (below about 1e-6) can show a large relative error from rounding alone:
    look at them before blaming the backward pass.

    Args:
        f: scalar function of an array shaped like ``x``.
        grad: the analytic gradient at ``x``: an array shaped like ``x``, or a function of ``x``
            returning one (called on a copy).
        x: the point to check at; never modified.
        eps: central-difference step (> 0).
    Returns:
        the maximum relative error, a float.
    """
    x = _as_float64("gradient_check", x)
    if callable(grad):
        grad = grad(x.copy())
    analytic = _as_float64("gradient_check", grad)
    if analytic.shape != x.shape:
        raise ValueError(f"gradient_check: grad must have the shape of x {x.shape}; "
                         f"got {analytic.shape}")
    numeric = numerical_gradient(f, x, eps)
    # |a - n| / max(1e-12, |a| + |n|): the floor avoids 0 / 0 where both gradients vanish
    rel = np.abs(analytic - numeric) / np.maximum(1e-12, np.abs(analytic) + np.abs(numeric))
    return float(rel.max()) if rel.size else 0.0
