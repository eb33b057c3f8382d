"""Tests for companion.autograd: every Value operation's value and gradient against torch.autograd
(float64), composite graphs, gradient accumulation, numerical gradients, and bad-input messages.

Tolerances: forward values and gradients vs torch in float64, rtol=1e-6 with atol=1e-12 (both
compute in double precision; the atol only covers results that are exactly or nearly 0). Central
differences vs exact gradients: rtol=1e-6, atol=1e-8 (the O(eps^2) truncation and the
O(1e-16 / eps) rounding error are both about 1e-10 for eps=1e-6 on these functions).
"""
import math
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from companion.autograd import Value, gradient_check, numerical_gradient, trace

RTOL, ATOL = 1e-6, 1e-12
NUM_RTOL, NUM_ATOL = 1e-6, 1e-8

finite = st.floats(-5.0, 5.0, allow_nan=False, allow_infinity=False)
positive = st.floats(0.1, 10.0, allow_nan=False, allow_infinity=False)
away_from_zero = st.one_of(st.floats(-5.0, -0.1), st.floats(0.1, 5.0))


def run_both(expression, *inputs):
    """Feed the same inputs to our engine and to torch.autograd (float64); compare value and grads.

    ``expression`` is written once and used on both, since Value and torch.Tensor share the
    operators and the method names exp/log/tanh/relu/sigmoid.
    """
    ours = [Value(x) for x in inputs]
    out = expression(*ours)
    out.backward()
    theirs = [torch.tensor(float(x), dtype=torch.float64, requires_grad=True) for x in inputs]
    ref = expression(*theirs)
    ref.backward()
    np.testing.assert_allclose(out.data, ref.item(), rtol=RTOL, atol=ATOL)
    for v, t in zip(ours, theirs):
        expected = 0.0 if t.grad is None else t.grad.item()
        np.testing.assert_allclose(v.grad, expected, rtol=RTOL, atol=ATOL)
    return out, ours


# ---------------------------------------------------------------- each operation vs torch
UNARY_ANY = {
    "neg": lambda a: -a,
    "exp": lambda a: a.exp(),
    "tanh": lambda a: a.tanh(),
    "relu": lambda a: a.relu(),
    "sigmoid": lambda a: a.sigmoid(),
    "square": lambda a: a ** 2,
    "cube": lambda a: a ** 3,
    "power 0": lambda a: a ** 0,
}
UNARY_POSITIVE = {
    "log": lambda a: a.log(),
    "sqrt": lambda a: a ** 0.5,
    "power -2.5": lambda a: a ** -2.5,
    "power 1.7": lambda a: a ** 1.7,
}
UNARY_NONZERO = {
    "reciprocal": lambda a: a ** -1,
    "power -2": lambda a: a ** -2,
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}
WITH_NUMBERS = {
    "v + 2": lambda a: a + 2, "2 + v": lambda a: 2 + a,
    "v - 2": lambda a: a - 2, "2 - v": lambda a: 2 - a,
    "v * 2.5": lambda a: a * 2.5, "2.5 * v": lambda a: 2.5 * a,
    "v / 4": lambda a: a / 4, "4 / v": lambda a: 4 / a,
}


@pytest.mark.parametrize("name", UNARY_ANY)
@settings(max_examples=40, deadline=None)
@given(a=finite)
def test_unary_operation_matches_torch(name, a):
    run_both(UNARY_ANY[name], a)


@pytest.mark.parametrize("name", UNARY_POSITIVE)
@settings(max_examples=40, deadline=None)
@given(a=positive)
def test_operation_on_positive_inputs_matches_torch(name, a):
    run_both(UNARY_POSITIVE[name], a)


@pytest.mark.parametrize("name", UNARY_NONZERO)
@settings(max_examples=40, deadline=None)
@given(a=away_from_zero)
def test_negative_integer_power_matches_torch(name, a):
    run_both(UNARY_NONZERO[name], a)


@pytest.mark.parametrize("name", BINARY)
@settings(max_examples=40, deadline=None)
@given(a=finite, b=away_from_zero)
def test_binary_operation_matches_torch(name, a, b):
    run_both(BINARY[name], a, b)


@pytest.mark.parametrize("name", WITH_NUMBERS)
@settings(max_examples=30, deadline=None)
@given(a=away_from_zero)
def test_plain_numbers_on_either_side_match_torch(name, a):
    out, _ = run_both(WITH_NUMBERS[name], a)
    assert isinstance(out, Value)


@pytest.mark.parametrize("x", [-1e4, -800.0, -40.0, 0.0, 40.0, 800.0, 1e4])
@pytest.mark.parametrize("name", ["tanh", "sigmoid", "relu"])
def test_saturating_activations_are_stable_for_huge_inputs(name, x):
    out, _ = run_both(UNARY_ANY[name], x)
    assert math.isfinite(out.data)


def test_relu_gradient_at_zero_is_zero_as_torch():
    x = Value(0.0)
    x.relu().backward()
    assert x.grad == 0.0


# ---------------------------------------------------------------- composite expressions
@settings(max_examples=30, deadline=None)
@given(st.lists(finite, min_size=7, max_size=7))
def test_neuron_tanh_of_weighted_sum_matches_torch(values):
    # inputs x1..x3, weights w1..w3, bias b: y = tanh(w . x + b)
    def neuron(x1, x2, x3, w1, w2, w3, b):
        return (w1 * x1 + w2 * x2 + w3 * x3 + b).tanh()
    run_both(neuron, *values)


def tiny_mlp_loss(*p):
    """A 2-3-1 tanh network, squared error on one example; works on Values and on tensors."""
    x, target = (0.5, -1.5), 0.25
    W1, b1, W2, b2 = p[0:6], p[6:9], p[9:12], p[12]
    hidden = [(W1[2 * j] * x[0] + W1[2 * j + 1] * x[1] + b1[j]).tanh() for j in range(3)]
    out = sum(w * h for w, h in zip(W2, hidden)) + b2
    return (out - target) ** 2


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(-2.0, 2.0), min_size=13, max_size=13))
def test_tiny_two_layer_mlp_matches_torch(params):
    run_both(tiny_mlp_loss, *params)


def test_every_operation_together_matches_torch():
    def expression(a, b, c):
        d = (a * b + c).sigmoid() / (1 + a ** 2) - (b - c).relu()
        return (d.exp() + (c * c).log()).tanh() * 3 - 1 / (b + 4)
    run_both(expression, 0.7, -1.3, 2.1)


def test_deep_chain_of_5000_operations_is_sorted_iteratively():
    depth = 5000
    assert depth > sys.getrecursionlimit()  # a recursive topological sort would fail here
    chain = lambda x: _chain(x, depth)  # noqa: E731
    out, (x,) = run_both(chain, 0.3)
    nodes, _ = trace(out)
    assert len(nodes) >= depth and x.grad != 0.0


def _chain(x, depth):
    for i in range(depth):  # alternate ops so every backward closure is exercised
        x = (x * 1.001).tanh() + 0.01 if i % 2 else x + 0.001 * x * x
    return x


# ---------------------------------------------------------------- accumulation and reuse
def test_a_value_used_twice_collects_both_contributions():
    x = Value(3.0)
    (x * x).backward()
    assert x.grad == 6.0  # d(x^2)/dx = 2x
    a = Value(-1.5)
    (a + a).backward()
    assert a.grad == 2.0
    b = Value(2.0)
    (b - b).backward()
    assert b.grad == 0.0
    run_both(lambda x, y: x * y + x.exp() * x, 0.4, -0.8)


def test_leaves_accumulate_across_backward_calls_as_torch_and_zero_grad_resets():
    x, y = Value(1.5), Value(-2.0)
    out = (x * y).tanh() + x
    out.backward()
    first = (x.grad, y.grad)
    out.backward()  # leaves add up (torch with retain_graph=True does the same)
    np.testing.assert_allclose((x.grad, y.grad), 2 * np.array(first), rtol=RTOL)
    out.zero_grad()
    assert x.grad == y.grad == out.grad == 0.0
    out.backward()  # the same graph reused after zero_grad gives the first gradients again
    np.testing.assert_allclose((x.grad, y.grad), first, rtol=RTOL)


def test_repr_shows_data_grad_and_label_without_an_address():
    x = Value(2.0, label="x")
    (x * 3).backward()
    assert repr(x) == "Value(data=2, grad=3, label='x')"
    assert repr(Value(0.125)) == "Value(data=0.125, grad=0)"


def test_trace_lists_nodes_inputs_first_and_forward_edges():
    a, b, c = Value(2.0, "a"), Value(-3.0, "b"), Value(10.0, "c")
    ab = a * b
    e = ab + c
    nodes, edges = trace(e)
    assert len(nodes) == 5 and nodes[-1] is e
    assert {(id(u), id(v)) for u, v in edges} == {(id(a), id(ab)), (id(b), id(ab)),
                                                 (id(ab), id(e)), (id(c), id(e))}
    position = {id(n): i for i, n in enumerate(nodes)}
    assert all(position[id(u)] < position[id(v)] for u, v in edges)
    assert (ab.op, e.op, a.op) == ("*", "+", "") and ab.children == (a, b)


# ---------------------------------------------------------------- numerical gradients
NUMPY_FUNCTIONS = {
    # name: (f, exact gradient)
    "sum of squares": (lambda x: np.sum(x ** 2), lambda x: 2 * x),
    "x sin x": (lambda x: np.sum(x * np.sin(x)), lambda x: np.sin(x) + x * np.cos(x)),
    "log-sum-exp": (lambda x: np.log(np.sum(np.exp(x))), lambda x: np.exp(x) / np.sum(np.exp(x))),
    "tanh then mean": (lambda x: np.mean(np.tanh(x)), lambda x: (1 - np.tanh(x) ** 2) / x.size),
}


@pytest.mark.parametrize("name", NUMPY_FUNCTIONS)
@settings(max_examples=30, deadline=None)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=4),
                    elements=st.floats(-3.0, 3.0)))
def test_numerical_gradient_matches_exact_gradient(name, x):
    f, exact = NUMPY_FUNCTIONS[name]
    before = x.copy()
    grad = numerical_gradient(f, x)
    assert grad.shape == x.shape and grad.dtype == np.float64
    np.testing.assert_allclose(grad, exact(x), rtol=NUM_RTOL, atol=NUM_ATOL)
    np.testing.assert_array_equal(x, before)  # input unchanged


def test_numerical_gradient_of_a_matrix_quadratic_form():
    rng = np.random.default_rng(0)
    A, x = rng.normal(size=(5, 5)), rng.normal(size=5)
    grad = numerical_gradient(lambda v: v @ A @ v, x)
    # d(x^T A x)/dx = (A + A^T) x
    np.testing.assert_allclose(grad, (A + A.T) @ x, rtol=NUM_RTOL, atol=NUM_ATOL)


def test_numerical_gradient_agrees_with_the_engine():
    def f(p):  # the engine's forward pass only
        return tiny_mlp_loss(*map(Value, p)).data
    p = np.linspace(-1.0, 1.0, 13)
    values = [Value(v) for v in p]
    tiny_mlp_loss(*values).backward()
    engine = np.array([v.grad for v in values])
    np.testing.assert_allclose(numerical_gradient(f, p), engine, rtol=NUM_RTOL, atol=NUM_ATOL)
    assert gradient_check(f, engine, p) < 1e-6


def test_numerical_gradient_never_modifies_its_input_even_if_f_does():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = x.copy()

    def greedy(v):
        v *= 2  # a badly behaved f that writes into its argument
        return float(np.sum(v))
    grad = numerical_gradient(greedy, x)
    np.testing.assert_allclose(grad, np.full((2, 2), 2.0), rtol=NUM_RTOL)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_converts_ints_and_float32_to_float64():
    f = lambda v: np.sum(v ** 3)  # noqa: E731
    for x in (np.array([1, 2, 3]), np.array([1.0, 2.0, 3.0], np.float32), [1.0, 2.0, 3.0]):
        grad = numerical_gradient(f, x)
        assert grad.dtype == np.float64
        np.testing.assert_allclose(grad, [3.0, 12.0, 27.0], rtol=NUM_RTOL)


def test_gradient_check_catches_a_wrong_gradient_and_accepts_a_right_one():
    f = lambda v: np.sum(v ** 2)  # noqa: E731
    x = np.array([0.3, -1.2, 2.0, 0.0])
    before = x.copy()
    assert gradient_check(f, 2 * x, x) < 1e-8
    assert gradient_check(f, lambda v: 2 * v, x) < 1e-8  # a callable gradient works too
    assert gradient_check(f, x, x) > 0.3  # forgot the factor 2: |x - 2x| / (|x| + |2x|) = 1/3
    wrong_sign = gradient_check(f, -2 * x, x)
    assert wrong_sign > 0.99
    np.testing.assert_array_equal(x, before)
    assert gradient_check(lambda v: 0.0, np.zeros(3), np.ones(3)) == 0.0  # 0 / 0 avoided


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("make, error, match", [
    (lambda: Value("2"), TypeError,
     r"^Value: data must be a real number \(int or float\); got str$"),
    (lambda: Value(True), TypeError, r"^Value: data must be a real number .*; got bool$"),
    (lambda: Value(np.array([1.0, 2.0])), TypeError, r"^Value: data must be .*; got ndarray$"),
    (lambda: Value(1.0, label=3), TypeError, r"^Value: label must be a str; got int$"),
    (lambda: Value(1.0) + "a", TypeError,
     r"^Value\.__add__: the other operand must be a Value or a real number; got str$"),
    (lambda: "a" + Value(1.0), TypeError, r"^Value\.__radd__: the other operand .*; got str$"),
    (lambda: Value(1.0) * [2], TypeError, r"^Value\.__mul__: the other operand .*; got list$"),
    (lambda: Value(1.0) - None, TypeError, r"^Value\.__sub__: .*; got NoneType$"),
    (lambda: Value(1.0) / "x", TypeError, r"^Value\.__truediv__: .*; got str$"),
    (lambda: Value(2.0) ** Value(3.0), TypeError,
     r"^Value\.__pow__: the exponent must be a constant int or float, not a Value"),
    (lambda: Value(2.0) ** "3", TypeError,
     r"^Value\.__pow__: the exponent must be an int or float; got str$"),
    (lambda: 2 ** Value(3.0), TypeError, r"^Value\.__rpow__: the exponent must be a constant"),
    (lambda: Value(-1.0).log(), ValueError,
     r"^Value\.log: the natural log needs data > 0; got -1$"),
    (lambda: Value(0.0).log(), ValueError, r"^Value\.log: the natural log needs data > 0; got 0$"),
    (lambda: Value(1.0) / 0, ZeroDivisionError,
     r"^Value\.__truediv__: division by zero \(1 / 0\.0\)$"),
    (lambda: Value(0.0) ** -1, ZeroDivisionError, r"^Value\.__pow__: 0\.0 \*\* -1 is undefined"),
    (lambda: Value(-2.0) ** 0.5, ValueError,
     r"^Value\.__pow__: a negative base \(-2\) needs an integer exponent; got 0\.5$"),
    (lambda: Value(1000.0).exp(), OverflowError, r"^Value\.exp: exp\(1000\) overflows float64"),
    (lambda: trace(3.0), TypeError, r"^trace: root must be a Value; got float$"),
    (lambda: numerical_gradient(3, np.ones(2)), TypeError,
     r"^numerical_gradient: f must be callable; got int$"),
    (lambda: numerical_gradient(np.sum, np.ones(2), eps=0.0), ValueError,
     r"^numerical_gradient: eps must be finite and > 0; got 0\.0$"),
    (lambda: numerical_gradient(np.sum, np.ones(2), eps=-1e-6), ValueError,
     r"^numerical_gradient: eps must be finite and > 0; got -1e-06$"),
    (lambda: numerical_gradient(np.sum, np.array(["a", "b"])), TypeError,
     r"^numerical_gradient: x must be an array of real numbers; got dtype <U1$"),
    (lambda: numerical_gradient(lambda v: v * 2, np.ones(3)), ValueError,
     r"^numerical_gradient: f must return a scalar; got shape \(3,\)$"),
    (lambda: gradient_check(np.sum, np.ones(3), np.ones((3, 1))), ValueError,
     r"^gradient_check: grad must have the shape of x \(3, 1\); got \(3,\)$"),
    (lambda: gradient_check(np.sum, np.ones(2), np.array([1 + 1j, 2])), TypeError,
     r"^gradient_check: x must be an array of real numbers; got dtype complex128$"),
])
def test_bad_input_messages(make, error, match):
    with pytest.raises(error, match=match):
        make()
