"""Tests for companion.tuning: searches, expected improvement and ensemble votes.

References: itertools.product / sklearn's ParameterGrid (grid order), scipy.stats.loguniform
(random search's distribution), numerical integration and a Monte-Carlo estimate (expected
improvement), scipy.stats.mode (majority vote).

Statistical tolerances (every draw is seeded, so the tests are deterministic):
- uniform / log-uniform: n = 4,000 draws; the mean of u = (ln x - ln low) / (ln high - ln low)
  must be within 6 standard errors of 1/2 (SE = sqrt(1/12 / n) = 0.0046), the share of each
  decade within 6 binomial SEs, and a Kolmogorov-Smirnov test p > 1e-3 (against the exact CDF and
  two-sample against scipy's loguniform).
- expected improvement vs Monte Carlo: 10^6 normal draws, |EI - estimate| < 6 SE of the mean.
"""
import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from companion.tuning import (SearchResult, average_probabilities, bayesian_optimization,
                              expected_improvement, fit_surrogate, grid_search, majority_vote,
                              random_search)


def bowl(x, y=0.7):
    """A smooth 2-D bowl with its minimum 0 at (0.3, 0.7)."""
    return (x - 0.3) ** 2 + (y - 0.7) ** 2


# ---------------------------------------------------------------- SearchResult

def test_search_result_best_and_best_so_far():
    trials = [({"a": 1}, 3.0), ({"a": 2}, 1.0), ({"a": 3}, 2.0), ({"a": 4}, 1.0)]
    result = SearchResult(trials)
    assert result.best_params == {"a": 2} and result.best_value == 1.0  # first of the tie
    np.testing.assert_array_equal(result.best_so_far, [3.0, 1.0, 1.0, 1.0])
    assert result.trials is trials


# ---------------------------------------------------------------- grid search

def test_grid_search_visits_the_cartesian_product_in_order():
    grid = {"x": [0.0, 0.25, 0.5], "y": [0.1, 0.7], "z": ["a", "b"]}
    seen = []

    def objective(x, y, z):
        seen.append((x, y, z))
        return bowl(x, y) + (z == "b")

    result = grid_search(objective, grid)
    expected = list(itertools.product(*grid.values()))  # the last name varies fastest
    assert seen == expected and len(result.trials) == 12
    assert [tuple(p.values()) for p, _ in result.trials] == expected
    assert [v for _, v in result.trials] == [bowl(x, y) + (z == "b") for x, y, z in expected]
    assert result.best_params == {"x": 0.25, "y": 0.7, "z": "a"}
    assert result.best_value == pytest.approx(0.05**2)
    np.testing.assert_array_equal(result.best_so_far, np.minimum.accumulate([v for _, v in result.trials]))


def test_grid_search_covers_sklearn_parameter_grid():
    from sklearn.model_selection import ParameterGrid

    grid = {"lr": [1e-3, 1e-2, 1e-1], "width": [16, 64]}
    result = grid_search(lambda lr, width: lr * width, grid)
    ours = sorted(tuple(sorted(p.items())) for p, _ in result.trials)
    ref = sorted(tuple(sorted(p.items())) for p in ParameterGrid(grid))
    assert ours == ref


# ---------------------------------------------------------------- random search

SPACE = {"lr": (1e-5, 1e-1, "log"), "momentum": (0.5, 0.99, "linear"), "width": [16, 32, 64]}


def _record(space, n, seed):
    return random_search(lambda **p: 0.0, space, n, random_state=seed)


def test_random_search_is_seeded_and_within_bounds():
    a, b, c = _record(SPACE, 200, 0), _record(SPACE, 200, 0), _record(SPACE, 200, 1)
    assert [p for p, _ in a.trials] == [p for p, _ in b.trials]
    assert [p for p, _ in a.trials] != [p for p, _ in c.trials]
    for params, _ in a.trials:
        assert list(params) == ["lr", "momentum", "width"]
        assert 1e-5 <= params["lr"] <= 1e-1 and 0.5 <= params["momentum"] <= 0.99
        assert params["width"] in (16, 32, 64)


def test_random_search_accepts_a_generator_and_continues_its_stream():
    rng = np.random.default_rng(7)
    first = random_search(lambda x: x, {"x": (0.0, 1.0, "linear")}, 3, random_state=rng)
    second = random_search(lambda x: x, {"x": (0.0, 1.0, "linear")}, 3, random_state=rng)
    expected = np.random.default_rng(7).uniform(size=6)
    np.testing.assert_allclose([p["x"] for p, _ in first.trials + second.trials], expected, rtol=1e-12)


def test_random_search_log_scale_is_log_uniform():
    n, low, high = 4000, 1e-5, 1e-1
    lr = np.array([p["lr"] for p, _ in _record(SPACE, n, 0).trials])
    u = (np.log(lr) - np.log(low)) / (np.log(high) - np.log(low))
    assert abs(u.mean() - 0.5) < 6 * np.sqrt(1 / 12 / n)
    # each of the four decades gets a quarter of the draws (a linear sampler would put 90% in the last)
    share = np.histogram(np.log10(lr), bins=[-5, -4, -3, -2, -1])[0] / n
    assert np.all(np.abs(share - 0.25) < 6 * np.sqrt(0.25 * 0.75 / n)), share
    assert stats.kstest(lr, stats.loguniform(low, high).cdf).pvalue > 1e-3
    ref = stats.loguniform(low, high).rvs(size=n, random_state=np.random.default_rng(1))
    assert stats.ks_2samp(lr, ref).pvalue > 1e-3


def test_random_search_linear_scale_and_choices_statistics():
    n = 4000
    trials = _record(SPACE, n, 0).trials
    m = np.array([p["momentum"] for p, _ in trials])
    assert abs((m.mean() - 0.745) / 0.49) < 6 * np.sqrt(1 / 12 / n)
    assert stats.kstest(m, stats.uniform(0.5, 0.49).cdf).pvalue > 1e-3
    counts = np.array([sum(p["width"] == w for p, _ in trials) for w in (16, 32, 64)])
    assert stats.chisquare(counts).pvalue > 1e-3


# ---------------------------------------------------------------- Bayesian optimisation

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bayesian_optimization_finds_the_minimum_of_a_1d_function(seed):
    # tolerance: within 0.01 of the minimiser 0.3 (value < 1e-4) after 12 trials, 5 of them random
    result = bayesian_optimization(lambda x: (x - 0.3) ** 2, {"x": (0.0, 1.0, "linear")}, 12,
                                   random_state=seed)
    assert len(result.trials) == 12
    assert abs(result.best_params["x"] - 0.3) < 0.01 and result.best_value < 1e-4


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bayesian_optimization_finds_the_minimum_of_a_2d_function(seed):
    # tolerance: within 0.02 of (0.3, 0.7) in each coordinate after 20 trials
    space = {"x": (0.0, 1.0, "linear"), "y": (0.0, 1.0, "linear")}
    result = bayesian_optimization(bowl, space, 20, random_state=seed)
    assert abs(result.best_params["x"] - 0.3) < 0.02 and abs(result.best_params["y"] - 0.7) < 0.02
    assert result.best_value < 1e-3


def test_bayesian_optimization_on_a_log_scale():
    # the loss is smooth in log10(lr), minimal at lr = 1e-2: BO finds it within a factor 1.1
    space = {"lr": (1e-6, 1.0, "log")}
    result = bayesian_optimization(lambda lr: (np.log10(lr) + 2) ** 2, space, 12, random_state=0)
    assert abs(np.log10(result.best_params["lr"]) + 2) < np.log10(1.1)
    assert all(1e-6 <= p["lr"] <= 1.0 for p, _ in result.trials)


def test_bayesian_optimization_beats_random_search_on_a_smooth_function():
    # margin: averaged over 3 seeds, BO's best after 15 trials is at least 100x lower than random
    # search's best after the same 15 trials (measured: 1.9e-5 vs 2.9e-2).
    space = {"x": (0.0, 1.0, "linear"), "y": (0.0, 1.0, "linear")}
    bo = [bayesian_optimization(bowl, space, 15, random_state=s).best_so_far for s in range(3)]
    rs = [random_search(bowl, space, 15, random_state=s).best_so_far for s in range(3)]
    assert np.mean(bo, axis=0)[-1] * 100 < np.mean(rs, axis=0)[-1]


def test_bayesian_optimization_starts_with_random_searchs_trials():
    space = {"x": (0.0, 1.0, "linear"), "lr": (1e-4, 1.0, "log")}
    objective = lambda x, lr: bowl(x) + np.log10(lr) ** 2
    bo = bayesian_optimization(objective, space, 7, n_initial=4, random_state=3)
    rs = random_search(objective, space, 4, random_state=3)
    assert bo.trials[:4] == rs.trials
    only_random = bayesian_optimization(objective, space, 3, n_initial=5, random_state=3)
    assert only_random.trials == random_search(objective, space, 3, random_state=3).trials


def test_bayesian_optimization_is_reproducible_and_warning_free():
    space = {"x": (0.0, 1.0, "linear")}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a noise-free objective drives the GP noise to its bound
        a = bayesian_optimization(lambda x: (x - 0.3) ** 2, space, 8, random_state=0)
        b = bayesian_optimization(lambda x: (x - 0.3) ** 2, space, 8, random_state=0)
        bayesian_optimization(lambda x: 1.0, space, 8, random_state=0)  # a flat objective, too
    assert a.trials == b.trials


def test_fit_surrogate_interpolates_and_learns_which_dimension_matters():
    # y depends on u_0 only: the fitted length scale of u_1 must be longer (ARD), the posterior
    # mean must reproduce the data (tolerance 1e-3 of the data's range of 1) and the posterior
    # std must be small at the data and larger between them.
    rng = np.random.default_rng(0)
    U = rng.uniform(size=(15, 2))
    y = np.sin(3 * U[:, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gp = fit_surrogate(U, y)
    mu, sd = gp.predict(U, return_std=True)
    np.testing.assert_allclose(mu, y, atol=1e-3)
    length_scales = gp.kernel_.k1.k2.length_scale
    assert length_scales[1] > 3 * length_scales[0]
    _, sd_far = gp.predict(np.array([[2.0, 2.0]]), return_std=True)
    assert sd.max() < 0.05 and sd_far[0] > 10 * sd.max()


# ---------------------------------------------------------------- expected improvement

def _ei_by_integration(mu, sigma, best, xi):
    # E[max(best - xi - f, 0)], f ~ N(mu, sigma^2), integrated numerically over f < best - xi
    integrand = lambda f: (best - xi - f) * stats.norm.pdf(f, mu, sigma)
    return integrate.quad(integrand, mu - 40 * sigma, best - xi, epsabs=1e-13, epsrel=1e-10)[0]


@pytest.mark.parametrize("mu, sigma, best, xi", [(0.0, 1.0, 0.0, 0.0), (1.0, 0.5, 0.2, 0.0),
                                                 (-0.3, 2.0, 0.5, 0.1), (0.4, 0.1, 0.5, 0.01)])
def test_expected_improvement_matches_integration_and_monte_carlo(mu, sigma, best, xi):
    ei = expected_improvement(mu, sigma, best, xi)
    assert isinstance(ei, float)
    np.testing.assert_allclose(ei, _ei_by_integration(mu, sigma, best, xi), rtol=1e-6, atol=1e-12)
    n = 1_000_000
    f = np.random.default_rng(0).normal(mu, sigma, size=n)
    improvement = np.maximum(best - xi - f, 0.0)
    assert abs(ei - improvement.mean()) < 6 * improvement.std() / np.sqrt(n)


def test_expected_improvement_limits():
    mu, best = np.array([0.2, 0.5, 0.8]), 0.5
    # sigma -> 0: the improvement becomes certain, max(best - mu, 0)
    np.testing.assert_allclose(expected_improvement(mu, np.full(3, 1e-12), best), [0.3, 0.0, 0.0],
                               atol=1e-12)
    np.testing.assert_array_equal(expected_improvement(mu, np.zeros(3), best), [0.3, 0.0, 0.0])
    np.testing.assert_allclose(expected_improvement(mu, np.zeros(3), best, xi=0.1), [0.2, 0.0, 0.0], rtol=1e-12)
    # mu << best: Phi(z) -> 1, phi(z) -> 0, so EI -> best - mu - xi
    np.testing.assert_allclose(expected_improvement(-100.0, 1.0, 0.0, 0.5), 99.5, rtol=1e-12)
    # mu >> best: no hope of improving
    assert expected_improvement(100.0, 1.0, 0.0) == 0.0
    # at mu = best, xi = 0: EI = sigma * phi(0)
    np.testing.assert_allclose(expected_improvement(1.0, 2.0, 1.0), 2 / np.sqrt(2 * np.pi), rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(mu=st.floats(-5, 5), sigma=st.floats(0, 5), best=st.floats(-5, 5), xi=st.floats(0, 1))
def test_expected_improvement_properties(mu, sigma, best, xi):
    ei = expected_improvement(mu, sigma, best, xi)
    # EI >= 0, and (Jensen) at least the improvement of the mean
    assert ei >= max(best - mu - xi, 0.0) - 1e-12
    # more uncertainty never hurts, a worse mean never helps
    assert expected_improvement(mu, sigma + 0.1, best, xi) >= ei - 1e-12
    assert expected_improvement(mu + 0.1, sigma, best, xi) <= ei + 1e-12


def test_expected_improvement_keeps_the_shape_and_inputs():
    mu, sigma = np.linspace(-1, 1, 12).reshape(3, 4), np.full((3, 4), 0.5)
    before = mu.copy(), sigma.copy()
    ei = expected_improvement(mu, sigma, 0.0)
    assert ei.shape == (3, 4) and ei.dtype == np.float64
    np.testing.assert_array_equal(mu, before[0])
    np.testing.assert_array_equal(sigma, before[1])


# ---------------------------------------------------------------- ensembles

def _probas(rng, k, n, c, dtype=np.float64):
    logits = rng.normal(size=(k, n, c))
    p = np.exp(logits - logits.max(axis=2, keepdims=True))  # softmax, max subtracted for stability
    return [row.astype(dtype) for row in p / p.sum(axis=2, keepdims=True)]


@settings(max_examples=40, deadline=None)
@given(k=st.integers(1, 6), n=st.integers(1, 20), c=st.integers(2, 6), seed=st.integers(0, 2**16))
def test_average_probabilities_is_the_mean_and_rows_sum_to_one(k, n, c, seed):
    probas = _probas(np.random.default_rng(seed), k, n, c)
    copies = [p.copy() for p in probas]
    avg = average_probabilities(probas)
    assert avg.shape == (n, c) and avg.dtype == np.float64
    np.testing.assert_allclose(avg, np.mean(probas, axis=0), rtol=1e-12)
    np.testing.assert_allclose(avg.sum(axis=1), 1.0, rtol=1e-12)
    for p, q in zip(probas, copies):
        np.testing.assert_array_equal(p, q)


def test_average_probabilities_keeps_float32():
    probas = _probas(np.random.default_rng(0), 3, 5, 4, np.float32)
    avg = average_probabilities(probas)
    assert avg.dtype == np.float32
    np.testing.assert_allclose(avg.sum(axis=1), 1.0, rtol=1e-4, atol=1e-5)


def _scipy_mode(labels):
    return stats.mode(np.stack(labels), axis=0, keepdims=False).mode


@settings(max_examples=60, deadline=None)
@given(k=st.integers(1, 7), n=st.integers(1, 30), c=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_majority_vote_matches_scipy_mode(k, n, c, seed):
    rng = np.random.default_rng(seed)
    labels = [rng.integers(0, c, size=n) for _ in range(k)]
    votes = majority_vote(labels)
    assert votes.shape == (n,) and votes.dtype == np.int64
    np.testing.assert_array_equal(votes, _scipy_mode(labels))


def test_majority_vote_breaks_ties_with_the_smallest_label():
    labels = [np.array([3, 1, 2, 0]), np.array([1, 3, 2, 4]), np.array([2, 2, 5, 4])]
    # column 0: 3, 1, 2 all once -> 1; column 1: 1, 3, 2 -> 1; column 2: 2 twice; column 3: 4 twice
    np.testing.assert_array_equal(majority_vote(labels), [1, 1, 2, 4])
    np.testing.assert_array_equal(majority_vote(labels), _scipy_mode(labels))
    np.testing.assert_array_equal(majority_vote([np.array([7, 0]), np.array([2, 9])]), [2, 0])


# ---------------------------------------------------------------- bad input

OK = {"x": (0.0, 1.0, "linear")}


@pytest.mark.parametrize("space, error, match", [
    ({}, ValueError, r"random_search: space must name at least one hyperparameter; got an empty dict"),
    ([("x", 0, 1)], TypeError, r"random_search: space must be dict; got list"),
    ({"x": (1.0, 1.0, "linear")}, ValueError, r"space\['x'\] needs low < high; got low=1.0, high=1.0"),
    ({"x": (2.0, 1.0, "log")}, ValueError, r"space\['x'\] needs low < high; got low=2.0, high=1.0"),
    ({"x": (0.0, 1.0, "log")}, ValueError, r"space\['x'\] is on a log scale, so low must be > 0; got low=0.0"),
    ({"x": (-1.0, 1.0, "log")}, ValueError, r"so low must be > 0; got low=-1.0"),
    ({"x": (0.0, 1.0, "exp")}, ValueError, r"space\['x'\] scale must be 'linear' or 'log'; got 'exp'"),
    ({"x": (0.0, 1.0)}, ValueError, r"space\['x'\] must be \(low, high, 'linear' or 'log'\); got \(0.0, 1.0\)"),
    ({"x": (0.0, np.inf, "linear")}, ValueError, r"space\['x'\] bounds must be finite numbers"),
    ({"x": []}, ValueError, r"space\['x'\] must list at least one choice; got \[\]"),
    ({"x": 3.0}, TypeError, r"space\['x'\] must be a \(low, high, scale\) tuple or a list of choices; got float"),
])
def test_random_search_rejects_bad_spaces(space, error, match):
    with pytest.raises(error, match=match):
        random_search(lambda **p: 0.0, space, 3, random_state=0)


def test_random_search_rejects_bad_trials_seed_objective_and_values():
    with pytest.raises(ValueError, match=r"random_search: n_trials must be an integer >= 1; got 0"):
        random_search(lambda x: x, OK, 0)
    with pytest.raises(TypeError, match=r"random_search: n_trials must be an integer; got float"):
        random_search(lambda x: x, OK, 2.0)
    with pytest.raises(TypeError, match=r"random_search: random_state must be None, an int seed"):
        random_search(lambda x: x, OK, 2, random_state="zero")
    with pytest.raises(TypeError, match=r"random_search: objective must be callable as objective\(\*\*params\)"):
        random_search(None, OK, 2)
    with pytest.raises(ValueError, match=r"random_search: objective must return a finite number; got nan"):
        random_search(lambda x: float("nan"), OK, 2, random_state=0)
    with pytest.raises(TypeError, match=r"random_search: objective must return a real number; got list"):
        random_search(lambda x: [x], OK, 2, random_state=0)


def test_grid_search_rejects_bad_grids():
    with pytest.raises(ValueError, match=r"grid_search: grid must name at least one hyperparameter"):
        grid_search(lambda: 0.0, {})
    with pytest.raises(ValueError, match=r"grid_search: grid\['lr'\] must be a non-empty list of values; got \[\]"):
        grid_search(lambda lr: lr, {"lr": []})
    with pytest.raises(ValueError, match=r"grid_search: grid\['lr'\] must be a non-empty list of values; got 0.1"):
        grid_search(lambda lr: lr, {"lr": 0.1})
    with pytest.raises(TypeError, match=r"grid_search: grid must be dict; got list"):
        grid_search(lambda lr: lr, [0.1])
    with pytest.raises(ValueError, match=r"grid_search: objective must return a finite number; got inf"):
        grid_search(lambda lr: float("inf"), {"lr": [0.1]})


def test_bayesian_optimization_rejects_bad_arguments():
    f = lambda x: x
    with pytest.raises(TypeError, match=r"bayesian_optimization: space\['w'\] must be a \(low, high, scale\) tuple; got list"):
        bayesian_optimization(lambda x, w: x, {**OK, "w": [16, 32]}, 5)
    with pytest.raises(ValueError, match=r"bayesian_optimization: space must name at least one"):
        bayesian_optimization(f, {}, 5)
    with pytest.raises(ValueError, match=r"bayesian_optimization: space\['x'\] is on a log scale"):
        bayesian_optimization(f, {"x": (0.0, 1.0, "log")}, 5)
    with pytest.raises(ValueError, match=r"bayesian_optimization: n_trials must be an integer >= 1; got 0"):
        bayesian_optimization(f, OK, 0)
    with pytest.raises(ValueError, match=r"bayesian_optimization: n_initial must be an integer >= 1; got 0"):
        bayesian_optimization(f, OK, 5, n_initial=0)
    with pytest.raises(ValueError, match=r"bayesian_optimization: xi must be a number >= 0; got -0.1"):
        bayesian_optimization(f, OK, 5, xi=-0.1)


def test_expected_improvement_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"expected_improvement: mu and sigma must have the same shape; got \(3,\) and \(2,\)"):
        expected_improvement(np.zeros(3), np.ones(2), 0.0)
    with pytest.raises(ValueError, match=r"expected_improvement: sigma must be finite and >= 0 everywhere; got -1.0"):
        expected_improvement(np.zeros(2), np.array([1.0, -1.0]), 0.0)
    with pytest.raises(ValueError, match=r"expected_improvement: sigma must be finite and >= 0 everywhere; got nan"):
        expected_improvement(0.0, float("nan"), 0.0)
    with pytest.raises(ValueError, match=r"expected_improvement: best must be finite and xi >= 0; got best=0.0, xi=-1"):
        expected_improvement(0.0, 1.0, 0.0, xi=-1)


def test_fit_surrogate_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"fit_surrogate: U must have 2 dimensions \(n, d\); got shape \(5,\)"):
        fit_surrogate(np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match=r"fit_surrogate: y must have 1 dimensions \(n,\); got shape \(5, 1\)"):
        fit_surrogate(np.zeros((5, 1)), np.zeros((5, 1)))
    with pytest.raises(ValueError, match=r"fit_surrogate: arrays must have the same length; got U has 5, y has 4"):
        fit_surrogate(np.zeros((5, 1)), np.zeros(4))


def test_ensembles_reject_bad_inputs():
    p = _probas(np.random.default_rng(0), 2, 4, 3)
    with pytest.raises(ValueError, match=r"average_probabilities: probas must hold at least one model's predictions; got an empty list"):
        average_probabilities([])
    with pytest.raises(ValueError, match=r"every array in probas must have the same shape; got \(4, 3\) for probas\[0\] and \(4, 2\) for probas\[1\]"):
        average_probabilities([p[0], p[1][:, :2]])
    with pytest.raises(ValueError, match=r"average_probabilities: probas\[1\] must have 2 dimensions \(N, C\); got shape \(3,\)"):
        average_probabilities([p[0], p[1][0]])
    with pytest.raises(ValueError, match=r"average_probabilities: probas\[1\] must hold probabilities \(>= 0, rows summing to 1; apply softmax to logits\)"):
        average_probabilities([p[0], np.log(p[1])])
    with pytest.raises(TypeError, match=r"average_probabilities: probas must be a list of arrays, one per model; got ndarray"):
        average_probabilities(np.stack(p))
    with pytest.raises(ValueError, match=r"majority_vote: labels must hold at least one model's predictions"):
        majority_vote([])
    with pytest.raises(ValueError, match=r"majority_vote: every array in labels must have the same shape; got \(3,\) for labels\[0\] and \(4,\) for labels\[1\]"):
        majority_vote([np.zeros(3, int), np.zeros(4, int)])
    with pytest.raises(TypeError, match=r"majority_vote: labels must be integer class indices; got dtype float64"):
        majority_vote([np.zeros(3), np.zeros(3)])
    with pytest.raises(ValueError, match=r"majority_vote: labels must be class indices >= 0; got -1"):
        majority_vote([np.array([0, -1])])
