"""Tests for companion.init: the same distributions as torch.nn.init, checked statistically.

Layout: our W is (fan_in, fan_out); torch's weight is (fan_out, fan_in), so torch's init is run on
the transposed shape and compared with ours (for i.i.d. entries the transpose changes nothing).

Tolerances, from the sample size n = 512 * 384 = 196,608 entries per matrix:
- mean: |mean| < 6 standard errors, 6 * sigma / sqrt(n) (a false alarm has probability ~2e-9;
  the draws are seeded anyway, so the tests are deterministic).
- variance: relative error < 5%. The sample variance's relative standard error is
  sqrt((kurtosis - 1) / n): sqrt(2 / n) = 0.32% for a normal, sqrt(0.8 / n) = 0.20% for a uniform,
  so 5% is more than 15 standard errors: a wrong formula (a factor 2 or 3 off, a missing gain)
  fails by a mile, sampling noise never does.
- the same tolerances are applied to torch's samples, then our variance is compared with torch's
  (ratio within 5%), and a two-sample Kolmogorov-Smirnov test checks the whole distribution
  (p > 1e-3).
"""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from companion import init
from companion.init import (INITIALIZERS, he_normal, he_uniform, orthogonal, uniform, xavier_normal,
                            xavier_uniform, zeros)

FAN_IN, FAN_OUT = 512, 384
N = FAN_IN * FAN_OUT
SEED = 0


def torch_init(fn, **kwargs):
    """torch's initialiser on torch's layout (fan_out, fan_in), transposed back to ours."""
    torch.manual_seed(SEED)
    weight = torch.empty(FAN_OUT, FAN_IN, dtype=torch.float64)
    fn(weight, **kwargs)
    return weight.T.numpy()


def assert_moments(W, var, name):
    sigma = np.sqrt(var)
    assert abs(W.mean()) < 6 * sigma / np.sqrt(W.size), f"{name}: mean {W.mean():.2e}"
    rel = abs(W.var() / var - 1)
    assert rel < 0.05, f"{name}: variance {W.var():.4e} vs expected {var:.4e} ({rel:.1%} off)"


# (ours, torch's, torch kwargs, theoretical variance, uniform bound or None)
XAVIER_VAR = 2 / (FAN_IN + FAN_OUT)
HE_VAR = 2 / FAN_IN
CASES = {
    "uniform": (lambda s, rs: uniform(s, random_state=rs), torch.nn.init.uniform_,
                dict(a=-0.05, b=0.05), 0.1**2 / 12, 0.05),
    "xavier_uniform": (lambda s, rs: xavier_uniform(s, random_state=rs), torch.nn.init.xavier_uniform_,
                       {}, XAVIER_VAR, np.sqrt(6 / (FAN_IN + FAN_OUT))),
    "xavier_uniform_gain": (lambda s, rs: xavier_uniform(s, gain=5 / 3, random_state=rs),
                            torch.nn.init.xavier_uniform_, dict(gain=5 / 3),
                            (5 / 3) ** 2 * XAVIER_VAR, 5 / 3 * np.sqrt(6 / (FAN_IN + FAN_OUT))),
    "xavier_normal": (lambda s, rs: xavier_normal(s, random_state=rs), torch.nn.init.xavier_normal_,
                      {}, XAVIER_VAR, None),
    "xavier_normal_gain": (lambda s, rs: xavier_normal(s, gain=2.0, random_state=rs),
                           torch.nn.init.xavier_normal_, dict(gain=2.0), 4 * XAVIER_VAR, None),
    "he_uniform": (lambda s, rs: he_uniform(s, random_state=rs), torch.nn.init.kaiming_uniform_,
                   dict(mode="fan_in", nonlinearity="relu"), HE_VAR, np.sqrt(6 / FAN_IN)),
    "he_normal": (lambda s, rs: he_normal(s, random_state=rs), torch.nn.init.kaiming_normal_,
                  dict(mode="fan_in", nonlinearity="relu"), HE_VAR, None),
}


# ---------------------------------------------------------------- agreement with torch.nn.init
@pytest.mark.parametrize("name", CASES)
def test_same_distribution_as_torch(name):
    ours_fn, torch_fn, kwargs, var, bound = CASES[name]
    ours = ours_fn((FAN_IN, FAN_OUT), SEED)
    ref = torch_init(torch_fn, **kwargs)
    assert ours.shape == ref.shape == (FAN_IN, FAN_OUT) and ours.dtype == np.float64
    assert_moments(ours, var, f"ours {name}")
    assert_moments(ref, var, f"torch {name}")  # the formula for var is torch's too
    assert abs(ours.var() / ref.var() - 1) < 0.05
    assert stats.ks_2samp(ours.ravel(), ref.ravel()).pvalue > 1e-3
    if bound is not None:  # uniform: inside the bound, and the extremes reach it
        for W in (ours, ref):
            assert np.abs(W).max() <= bound
            assert np.abs(W).max() > 0.999 * bound  # P(all n draws below) = 0.999^n ~ 1e-86
            assert W.min() < -0.999 * bound


def test_uniform_range_a_b():
    W = uniform((300, 400), a=2.0, b=5.0, random_state=1)
    assert W.min() >= 2.0 and W.max() < 5.0
    assert_moments(W - 3.5, 9 / 12, "uniform(2, 5)")


def test_zeros():
    W = zeros((3, 4))
    assert W.shape == (3, 4) and W.dtype == np.float64 and not W.any()
    assert zeros((5,)).shape == (5,)  # a bias
    np.testing.assert_array_equal(W, torch.nn.init.zeros_(torch.empty(4, 3)).T.numpy())


def test_uniform_accepts_a_bias_shape():
    b = uniform((7,), random_state=0)
    assert b.shape == (7,) and np.abs(b).max() <= 0.05


# ---------------------------------------------------------------- orthogonal
@pytest.mark.parametrize("shape", [(64, 64), (100, 30), (30, 100), (1, 5), (5, 1)])
def test_orthogonal_is_orthogonal(shape):
    W = orthogonal(shape, random_state=0)
    assert W.shape == shape and W.dtype == np.float64
    rows, cols = shape
    gram = W.T @ W if rows >= cols else W @ W.T  # tall: orthonormal columns; wide: rows
    np.testing.assert_allclose(gram, np.eye(min(shape)), rtol=0, atol=1e-10)


def test_orthogonal_gain_and_norm_preservation():
    W = orthogonal((50, 50), gain=1.5, random_state=0)
    np.testing.assert_allclose(W.T @ W, 1.5**2 * np.eye(50), rtol=0, atol=1e-10)
    x = np.random.default_rng(1).normal(size=(10, 50))
    np.testing.assert_allclose(np.linalg.norm(x @ W, axis=1), 1.5 * np.linalg.norm(x, axis=1),
                               rtol=1e-10)


def test_orthogonal_matches_torch_statistics():
    ours = orthogonal((FAN_IN, FAN_OUT), random_state=SEED)
    ref = torch_init(torch.nn.init.orthogonal_)
    gram = ref.T @ ref  # torch's transposed result is orthogonal in our layout too
    np.testing.assert_allclose(gram, np.eye(FAN_OUT), rtol=0, atol=1e-10)
    # each entry of a Haar-distributed (max x min) semi-orthogonal matrix has variance 1 / max
    assert_moments(ours, 1 / FAN_IN, "ours orthogonal")
    assert_moments(ref, 1 / FAN_IN, "torch orthogonal")
    assert stats.ks_2samp(ours.ravel(), ref.ravel()).pvalue > 1e-3


def test_orthogonal_sign_correction_makes_it_unbiased():
    # Without multiplying by sign(diag(R)), LAPACK's Householder QR makes W[0, 0] negative in every
    # draw. With it, W[0, 0] is symmetric around 0: 400 draws, mean within 5 standard errors
    # (each entry of a 3x3 Haar matrix has variance 1/3).
    rng = np.random.default_rng(0)
    first = np.array([orthogonal((3, 3), random_state=rng)[0, 0] for _ in range(400)])
    assert abs(first.mean()) < 5 * np.sqrt(1 / 3 / 400)
    assert 0.35 < (first < 0).mean() < 0.65


# ---------------------------------------------------------------- seeds
@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_seeds_and_generators(name):
    fn = INITIALIZERS[name]
    a, b = fn((20, 30), random_state=7), fn((20, 30), random_state=7)
    np.testing.assert_array_equal(a, b)  # same seed, same matrix
    g = np.random.default_rng(7)
    first = fn((20, 30), random_state=g)
    np.testing.assert_array_equal(first, a)  # a Generator seeded 7 draws what the seed 7 draws
    if name != "zeros":
        assert not np.array_equal(fn((20, 30), random_state=g), first)  # the Generator advanced
        assert not np.array_equal(fn((20, 30), random_state=8), a)
        assert not np.array_equal(fn((20, 30)), fn((20, 30)))  # None: fresh entropy


def test_registry_is_complete():
    assert set(INITIALIZERS) == {"zeros", "uniform", "xavier_uniform", "xavier_normal",
                                 "he_uniform", "he_normal", "orthogonal"}
    assert set(init.__all__) == set(INITIALIZERS) | {"INITIALIZERS"}


# ---------------------------------------------------------------- properties
shapes = st.tuples(st.integers(1, 12), st.integers(1, 12))


@settings(max_examples=40, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1), gain=st.floats(0.1, 3.0))
def test_property_shape_dtype_and_bounds(shape, seed, gain):
    fan_in, fan_out = shape
    W = xavier_uniform(shape, gain=gain, random_state=seed)
    assert W.shape == shape and W.dtype == np.float64
    assert np.abs(W).max() <= gain * np.sqrt(6 / (fan_in + fan_out))
    W = he_uniform(shape, random_state=seed)
    assert W.shape == shape and np.abs(W).max() <= np.sqrt(6 / fan_in)
    for fn in (xavier_normal, he_normal):
        assert fn(shape, random_state=seed).shape == shape


@settings(max_examples=40, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2**32 - 1), gain=st.floats(0.1, 3.0))
def test_property_orthogonal(shape, seed, gain):
    W = orthogonal(shape, gain=gain, random_state=seed)
    gram = W.T @ W if shape[0] >= shape[1] else W @ W.T
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(shape)), rtol=0, atol=1e-10)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("name", ["xavier_uniform", "xavier_normal", "he_uniform", "he_normal",
                                  "orthogonal"])
def test_fan_based_need_2d_shapes(name):
    fn = INITIALIZERS[name]
    with pytest.raises(ValueError, match=rf"{name}: shape must be 2-D \(fan_in, fan_out\); got \(3, 4, 5\)"):
        fn((3, 4, 5))
    with pytest.raises(ValueError, match=rf"{name}: shape must be 2-D .*got \(10,\)"):
        fn((10,))
    with pytest.raises(ValueError, match=rf"{name}: shape must hold one or more positive sizes; got \(0, 4\)"):
        fn((0, 4))


@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_bad_shape_types_and_seeds(name):
    fn = INITIALIZERS[name]
    with pytest.raises(TypeError, match=rf"{name}: shape must be a tuple of ints; got int"):
        fn(5)
    with pytest.raises(TypeError, match=rf"{name}: shape must be a tuple of ints; got \(2.0, 3\)"):
        fn((2.0, 3))
    with pytest.raises(TypeError, match=rf"{name}: random_state must be None, an int seed or a "
                                        r"np.random.Generator; got str"):
        fn((2, 3), random_state="0")
    with pytest.raises(ValueError, match=rf"{name}: random_state must be an int >= 0; got -1"):
        fn((2, 3), random_state=-1)


def test_zeros_and_uniform_reject_empty_and_nonpositive_shapes():
    with pytest.raises(ValueError, match=r"zeros: shape must hold one or more positive sizes; got \(\)"):
        zeros(())
    with pytest.raises(ValueError, match=r"uniform: shape must hold one or more positive sizes; got \(3, -1\)"):
        uniform((3, -1))


@pytest.mark.parametrize("fn", [xavier_uniform, xavier_normal, orthogonal])
def test_bad_gain(fn):
    with pytest.raises(ValueError, match=rf"{fn.__name__}: gain must be finite and > 0; got -1.0"):
        fn((3, 3), gain=-1.0)
    with pytest.raises(ValueError, match=rf"{fn.__name__}: gain must be finite and > 0; got nan"):
        fn((3, 3), gain=float("nan"))
    with pytest.raises(TypeError, match=rf"{fn.__name__}: gain must be a number; got str"):
        fn((3, 3), gain="1")


def test_uniform_bad_range():
    with pytest.raises(ValueError, match=r"uniform: need a < b; got a=1.0, b=1.0"):
        uniform((2, 2), a=1.0, b=1.0)
    with pytest.raises(ValueError, match=r"uniform: b must be a finite number; got inf"):
        uniform((2, 2), b=float("inf"))
