"""Tests for companion.perceptron: logic gates, XOR, the update rule, sklearn, bad input."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Perceptron as SkPerceptron

from companion.perceptron import Perceptron

GATE_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
GATES = {"AND": np.array([0, 0, 0, 1]), "OR": np.array([0, 1, 1, 1]),
         "NAND": np.array([1, 1, 1, 0])}
XOR = np.array([0, 1, 1, 0])


def separable(n=200, seed=0, margin=0.1):
    """Points in [-1, 1]^2 labelled by a known line u . x + c > 0, with a gap of `margin`."""
    rng = np.random.default_rng(seed)
    u, c = np.array([1.5, -2.0]), 0.3
    X = rng.uniform(-1, 1, size=(4 * n, 2))
    z = (X @ u + c) / np.linalg.norm(np.r_[u, c])
    keep = np.abs(z) > margin
    return X[keep][:n], (z[keep][:n] > 0).astype(int), np.r_[u, c]


# ---------------------------------------------------------------- what it can and cannot learn
@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("gate", GATES)
def test_learns_linearly_separable_gates(gate, seed, shuffle):
    p = Perceptron(2, lr=1.0, random_state=seed, shuffle=shuffle)
    mistakes = p.fit(GATE_X, GATES[gate], epochs=20)
    assert len(mistakes) == 20 and mistakes[0] > 0 and mistakes[-1] == 0
    np.testing.assert_array_equal(p.predict(GATE_X), GATES[gate])


@pytest.mark.parametrize("lr", [0.1, 1.0, 3.0])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_never_learns_xor(seed, lr):
    p = Perceptron(2, lr=lr, random_state=seed)
    mistakes = p.fit(GATE_X, XOR, epochs=200)
    # no line separates XOR, so every epoch contains at least one mistake
    assert min(mistakes) >= 1
    assert not np.array_equal(p.predict(GATE_X), XOR)


def test_mistakes_respect_the_convergence_theorem_bound():
    # Novikoff: with zero initial weights, total mistakes <= (R / gamma)^2, where R bounds the
    # augmented inputs [x, 1] and gamma is the margin of any separating unit vector
    X, y, u = separable(seed=4)
    Xa = np.c_[X, np.ones(len(X))]
    R = np.linalg.norm(Xa, axis=1).max()
    gamma = np.min((2 * y - 1) * (Xa @ u)) / np.linalg.norm(u)
    assert gamma > 0
    for lr in (0.01, 1.0):
        mistakes = Perceptron(2, lr=lr, random_state=0).fit(X, y, epochs=50)
        assert mistakes[-1] == 0 and sum(mistakes) <= (R / gamma) ** 2


def test_one_update_by_hand():
    p = Perceptron(2, lr=0.5, shuffle=False)
    # from w = 0, b = 0: y_hat = H(0) = 0 but y = 1, so w += 0.5 * 1 * x, b += 0.5
    assert p.fit(np.array([[2.0, -1.0]]), np.array([1]), epochs=1) == [1]
    np.testing.assert_array_equal(p.w, [1.0, -0.5])
    assert p.b == 0.5
    np.testing.assert_allclose(p.decision_function([[2.0, -1.0]]), [3.0])


def test_agrees_with_sklearn_on_a_separable_set():
    X, y, _ = separable(seed=5)
    ours = Perceptron(2, lr=1.0, random_state=0)
    mistakes = ours.fit(X, y, epochs=100)
    sk = SkPerceptron(eta0=1.0, max_iter=1000, tol=None, random_state=0).fit(X, y)
    # both separate the training set perfectly (their lines differ: the order of updates does)
    assert mistakes[-1] == 0
    np.testing.assert_array_equal(ours.predict(X), y)
    np.testing.assert_array_equal(sk.predict(X), y)
    # on fresh points from the same distribution both stay close to the true line
    X_new, y_new, _ = separable(n=500, seed=6)
    assert (ours.predict(X_new) == y_new).mean() > 0.95
    assert (sk.predict(X_new) == y_new).mean() > 0.95


# ---------------------------------------------------------------- determinism, dtypes, inputs
def test_same_seed_same_run_and_fit_restarts_from_zero():
    X, y, _ = separable(n=60, seed=7)
    a, b = Perceptron(2, random_state=3), Perceptron(2, random_state=3)
    assert a.fit(X, y, epochs=5) == b.fit(X, y, epochs=5)
    np.testing.assert_array_equal(a.w, b.w)
    first = (a.w.copy(), a.b)
    a.fit(X, y, epochs=5)  # a second fit starts again from w = 0 with the same seed
    np.testing.assert_array_equal(a.w, first[0])
    assert a.b == first[1]


def test_accepts_a_generator_as_random_state():
    p = Perceptron(2, random_state=np.random.default_rng(0))
    assert p.fit(GATE_X, GATES["AND"], epochs=20)[-1] == 0


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 1000), n=st.integers(2, 30))
def test_predictions_are_binary_and_inputs_unchanged(seed, n):
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(n, 3)), rng.integers(0, 2, size=n)
    X0, y0 = X.copy(), y.copy()
    p = Perceptron(3, random_state=seed)
    mistakes = p.fit(X, y, epochs=3)
    pred = p.predict(X)
    assert pred.dtype == np.int64 and pred.shape == (n,) and set(pred) <= {0, 1}
    assert all(0 <= m <= n for m in mistakes)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_repr():
    assert repr(Perceptron(3, lr=0.5)) == "Perceptron(n_inputs=3, lr=0.5)"


# ---------------------------------------------------------------- bad input
def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match=r"Perceptron: n_inputs must be an integer >= 1; got 0"):
        Perceptron(0)
    with pytest.raises(TypeError, match=r"Perceptron: n_inputs must be an integer; got float"):
        Perceptron(2.0)
    with pytest.raises(ValueError, match=r"Perceptron: lr must be finite and > 0; got -0.1"):
        Perceptron(2, lr=-0.1)
    with pytest.raises(TypeError, match=r"Perceptron: lr must be a number; got str"):
        Perceptron(2, lr="1")
    with pytest.raises(ValueError, match=r"Perceptron: random_state must be an int >= 0; got -1"):
        Perceptron(2, random_state=-1)
    with pytest.raises(TypeError, match=r"Perceptron: random_state must be None, an int seed or a "
                                        r"np.random.Generator; got str"):
        Perceptron(2, random_state="0")


def test_bad_fit_and_predict_arguments():
    p = Perceptron(2)
    with pytest.raises(ValueError, match=r"Perceptron.fit: X must have 2 dimensions "
                                         r"\(N, n_inputs\); got shape \(4,\)"):
        p.fit(np.ones(4), XOR)
    with pytest.raises(ValueError, match=r"Perceptron.fit: X must have shape \(N, 2\) with "
                                         r"n_inputs=2; got \(4, 3\)"):
        p.fit(np.ones((4, 3)), XOR)
    with pytest.raises(TypeError, match=r"Perceptron.fit: X must be a numeric array; got dtype <U1"):
        p.fit(np.full((4, 2), "a"), XOR)
    with pytest.raises(ValueError, match=r"Perceptron.fit: y must hold labels 0 and 1; "
                                         r"got \[-1, 1\]"):
        p.fit(GATE_X, np.array([-1, 1, 1, -1]))
    with pytest.raises(ValueError, match=r"Perceptron.fit: y must hold labels 0 and 1; "
                                         r"got dtype <U1"):
        p.fit(GATE_X, np.array(list("abba")))
    with pytest.raises(ValueError, match=r"Perceptron.fit: y must have 1 dimensions \(N,\); "
                                         r"got shape \(4, 1\)"):
        p.fit(GATE_X, XOR[:, None])
    with pytest.raises(ValueError, match=r"Perceptron.fit: arrays must have the same length; "
                                         r"got X has 4, y has 3"):
        p.fit(GATE_X, XOR[:3])
    with pytest.raises(ValueError, match=r"Perceptron.fit: epochs must be an integer >= 1; got 0"):
        p.fit(GATE_X, XOR, epochs=0)
    with pytest.raises(ValueError, match=r"Perceptron.predict: X must have shape \(N, 2\) with "
                                         r"n_inputs=2; got \(3, 1\)"):
        p.predict(np.ones((3, 1)))
    with pytest.raises(ValueError, match=r"Perceptron.decision_function: X must have 2 "
                                         r"dimensions"):
        p.decision_function(np.ones(2))
