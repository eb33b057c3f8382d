r"""Hyperparameter search (grid, random, Bayesian) and ensemble helpers.

Every search **minimises** ``objective(**params) -> float`` (a validation loss, an error rate) and
returns a :class:`SearchResult` holding every trial in the order it was run. Search spaces are
dicts: ``{"lr": (1e-4, 1.0, "log"), "width": [16, 32, 64]}``:

- ``(low, high, "linear")``: a real number drawn uniformly from ``[low, high)``;
- ``(low, high, "log")``: log-uniformly, :math:`\exp(U(\ln low, \ln high))`, so each decade gets
  the same share of the trials (the right scale for learning rates and penalty strengths);
- a list: one of the choices, each equally likely (``random_search`` only; ``grid_search`` takes
  a list for every name).

Bayesian optimisation follows Snoek, Larochelle & Adams, "Practical Bayesian Optimization of
Machine Learning Algorithms" (2012): a Gaussian-process surrogate (scikit-learn's
``GaussianProcessRegressor``, Matérn ν = 5/2 kernel) and the expected-improvement acquisition.
Random search's case is Bergstra & Bengio, "Random Search for Hyper-Parameter Optimization"
(JMLR 2012).
"""
from __future__ import annotations

import itertools
import numbers
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.stats import norm

from .validation import check_int, check_ndim, check_random_state, check_same_length, check_type

__all__ = [
    "SearchResult",
    "grid_search",
    "random_search",
    "bayesian_optimization",
    "expected_improvement",
    "fit_surrogate",
    "average_probabilities",
    "majority_vote",
]

_SCALES = ("linear", "log")


@dataclass
class SearchResult:
    """The outcome of a search: every trial in order, and the best one (lowest value).

    Attributes:
        trials: ``[(params, value), ...]`` in the order they were evaluated.
        best_params, best_value: the trial with the lowest value (the first one on ties).
        best_so_far: (n_trials,) array; entry ``i`` is the lowest value among trials ``0..i``.
    """

    trials: list[tuple[dict, float]]
    best_params: dict = field(init=False)
    best_value: float = field(init=False)
    best_so_far: np.ndarray = field(init=False)

    def __post_init__(self):
        values = np.array([value for _, value in self.trials], dtype=np.float64)
        i = int(np.argmin(values))  # argmin returns the first minimum: ties go to the earlier trial
        self.best_params, self.best_value = dict(self.trials[i][0]), float(values[i])
        self.best_so_far = np.minimum.accumulate(values)


# ---------------------------------------------------------------- checking and running trials

def _evaluate(func: str, objective: Callable, params: dict) -> float:
    """``objective(**params)`` as a float; NaN or inf would break the best-so-far and the GP."""
    raw = objective(**params)
    try:  # a Python or NumPy number, or a 0-d array or tensor
        value = float(raw) if np.ndim(raw) == 0 and not isinstance(raw, (bool, str)) else None
    except (TypeError, ValueError):
        value = None
    if value is None:
        raise TypeError(f"{func}: objective must return a real number; got {type(raw).__name__} "
                        f"for params {params}")
    if not np.isfinite(value):
        raise ValueError(f"{func}: objective must return a finite number; got {value} for params "
                         f"{params} (return a large finite loss for a diverged run)")
    return value


def _check_objective(func: str, objective) -> None:
    if not callable(objective):  # a clear message now beats a TypeError deep inside a search
        raise TypeError(f"{func}: objective must be callable as objective(**params) -> float; "
                        f"got {type(objective).__name__}")


def _check_range(func: str, name: str, spec) -> tuple[float, float, str]:
    """Validate one ``(low, high, scale)`` range and return it with float bounds."""
    if len(spec) != 3:
        raise ValueError(f"{func}: space[{name!r}] must be (low, high, 'linear' or 'log'); got {spec!r}")
    low, high, scale = spec
    for bound in (low, high):
        if isinstance(bound, bool) or not isinstance(bound, numbers.Real) or not np.isfinite(bound):
            raise ValueError(f"{func}: space[{name!r}] bounds must be finite numbers; got {spec!r}")
    if scale not in _SCALES:
        raise ValueError(f"{func}: space[{name!r}] scale must be 'linear' or 'log'; got {scale!r}")
    if not low < high:
        raise ValueError(f"{func}: space[{name!r}] needs low < high; got low={low}, high={high}")
    if scale == "log" and low <= 0:
        raise ValueError(f"{func}: space[{name!r}] is on a log scale, so low must be > 0; got low={low}")
    return float(low), float(high), scale


def _check_space(func: str, space, *, choices: bool) -> dict:
    """Validate a search space; ranges become ``(low, high, scale)`` tuples, choices stay lists."""
    check_type(func, "space", space, dict)
    if not space:
        raise ValueError(f"{func}: space must name at least one hyperparameter; got an empty dict")
    checked = {}
    for name, spec in space.items():
        if isinstance(spec, list) and choices:
            if not spec:
                raise ValueError(f"{func}: space[{name!r}] must list at least one choice; got []")
            checked[name] = list(spec)
        elif isinstance(spec, tuple):
            checked[name] = _check_range(func, name, spec)
        else:
            expected = "a (low, high, scale) tuple" + (" or a list of choices" if choices else "")
            raise TypeError(f"{func}: space[{name!r}] must be {expected}; got {type(spec).__name__}")
    return checked


# ---------------------------------------------------------------- grid and random search

def grid_search(objective: Callable, grid: dict) -> SearchResult:
    """Evaluate ``objective`` at every point of the Cartesian product of ``grid``'s lists.

    Args:
        objective: ``objective(**params) -> float``, minimised.
        grid: name -> non-empty list of values, e.g. ``{"lr": [1e-3, 1e-2], "width": [16, 64]}``.
    Returns:
        A :class:`SearchResult` with ``prod(len(values))`` trials, in ``itertools.product`` order:
        the first name varies slowest, the last fastest.
    Reference: ``sklearn.model_selection.ParameterGrid`` (which sorts the names; we keep the
    dict's order).
    """
    _check_objective("grid_search", objective)
    check_type("grid_search", "grid", grid, dict)
    if not grid:
        raise ValueError("grid_search: grid must name at least one hyperparameter; got an empty dict")
    for name, values in grid.items():
        if not isinstance(values, (list, tuple)) or len(values) == 0:
            raise ValueError(f"grid_search: grid[{name!r}] must be a non-empty list of values; "
                             f"got {values!r}")
    names = list(grid)
    trials = []
    for combo in itertools.product(*grid.values()):
        params = dict(zip(names, combo))
        trials.append((params, _evaluate("grid_search", objective, params)))
    return SearchResult(trials)


def _sample(space: dict, rng: np.random.Generator) -> dict:
    """One random point of a checked space, names drawn in the dict's order."""
    params = {}
    for name, spec in space.items():
        if isinstance(spec, list):
            params[name] = spec[int(rng.integers(len(spec)))]
        else:
            params[name] = _from_unit(rng.uniform(), *spec)  # one uniform draw per range
    return params


def _from_unit(u: float, low: float, high: float, scale: str) -> float:
    """Map u in [0, 1] to the range: x = low + u (high - low), or ln x = ln low + u ln(high / low)."""
    if scale == "log":  # u ~ U(0, 1) gives ln x ~ U(ln low, ln high): each decade equally likely
        return float(np.exp(np.log(low) + u * (np.log(high) - np.log(low))))
    return float(low + u * (high - low))


def _to_unit(x: float, low: float, high: float, scale: str) -> float:
    """The inverse of :func:`_from_unit`."""
    if scale == "log":
        return float((np.log(x) - np.log(low)) / (np.log(high) - np.log(low)))
    return float((x - low) / (high - low))


def random_search(objective: Callable, space: dict, n_trials: int,
                  random_state=None) -> SearchResult:
    """Evaluate ``objective`` at ``n_trials`` points drawn independently from ``space``.

    Args:
        objective: ``objective(**params) -> float``, minimised.
        space: name -> ``(low, high, "linear" | "log")`` or a list of choices (see the module
            docstring); log ranges are sampled log-uniformly.
        n_trials: number of evaluations (>= 1).
        random_state: an int seed, a ``np.random.Generator`` or ``None``; the same seed gives the
            same points. Each trial draws one uniform number per name, in the dict's order.
    Returns: a :class:`SearchResult`.
    Reference: Bergstra & Bengio (2012); ``sklearn.model_selection.ParameterSampler`` with
    ``scipy.stats.loguniform`` draws from the same distributions (not the same numbers).
    """
    _check_objective("random_search", objective)
    space = _check_space("random_search", space, choices=True)
    check_int("random_search", "n_trials", n_trials, 1)
    rng = check_random_state("random_search", random_state)
    trials = []
    for _ in range(n_trials):
        params = _sample(space, rng)
        trials.append((params, _evaluate("random_search", objective, params)))
    return SearchResult(trials)


# ---------------------------------------------------------------- Bayesian optimisation

def expected_improvement(mu, sigma, best: float, xi: float = 0.0):
    r"""Expected improvement below ``best`` of a Gaussian prediction :math:`N(\mu, \sigma^2)`.

    For **minimisation**, the improvement is :math:`\max(\text{best} - \xi - f, 0)` with
    :math:`f \sim N(\mu, \sigma^2)`; its expectation is

    .. math::
        z = \frac{\text{best} - \mu - \xi}{\sigma}, \qquad
        \mathrm{EI} = (\text{best} - \mu - \xi)\,\Phi(z) + \sigma\,\varphi(z),

    with :math:`\Phi, \varphi` the standard normal CDF and density. Where :math:`\sigma = 0`
    the improvement is certain and EI is its limit :math:`\max(\text{best} - \mu - \xi, 0)`
    (0 at an already observed point of a noise-free model, where :math:`\mu \ge \text{best}`).

    Args:
        mu, sigma: arrays of the same shape (or scalars): predicted mean and standard deviation
            (>= 0) at the candidate points.
        best: the lowest value observed so far.
        xi: >= 0, a margin that asks for improvements larger than ``xi`` (more exploration).
    Returns:
        EI >= 0 with the shape of ``mu`` (a float for scalar inputs), float64.
    Reference: Jones, Schonlau & Welch (1998), eq. 15, written for minimisation; scikit-optimize's
    ``gaussian_ei`` returns 0 where sigma = 0 instead of the limit.
    """
    mu, sigma = np.asarray(mu, dtype=np.float64), np.asarray(sigma, dtype=np.float64)
    if mu.shape != sigma.shape:
        raise ValueError(f"expected_improvement: mu and sigma must have the same shape; got "
                         f"{mu.shape} and {sigma.shape}")
    bad = ~(np.isfinite(sigma) & (sigma >= 0))
    if np.any(bad):
        raise ValueError(f"expected_improvement: sigma must be finite and >= 0 everywhere; got "
                         f"{sigma[bad].ravel()[0]}")
    if not np.isfinite(best) or xi < 0:
        raise ValueError(f"expected_improvement: best must be finite and xi >= 0; got best={best}, "
                         f"xi={xi}")
    gain = best - mu - xi  # improvement of the predicted mean
    safe = np.where(sigma > 0, sigma, 1.0)  # avoid 0 / 0; those entries are replaced below
    with np.errstate(over="ignore"):  # a tiny sigma gives |z| = inf; clipped just below
        z = np.clip(gain / safe, -40.0, 40.0)  # Phi(40) = 1 and phi(40) = 0 in float64
    ei = np.where(sigma > 0, gain * norm.cdf(z) + sigma * norm.pdf(z), np.maximum(gain, 0.0))
    ei = np.maximum(ei, 0.0)  # rounding can give -1e-17 far below the best
    return float(ei) if ei.ndim == 0 else ei


def fit_surrogate(U, y):
    r"""Fit the Gaussian-process surrogate of :func:`bayesian_optimization` to trials in the unit cube.

    .. math::
        k(u, u') = c\,\mathrm{Matern}_{5/2}\Big(\sqrt{\textstyle\sum_j (u_j - u'_j)^2 / \ell_j^2}\Big)
                   + s^2\,[u = u']

    with one length scale :math:`\ell_j \in [0.01, 10]` per dimension (a dimension that does
    not matter gets a long one), amplitude :math:`c \in [0.01, 100]` and noise
    :math:`s^2 \in [10^{-8}, 0.1]`, fitted by maximising the marginal likelihood (one L-BFGS
    run, no random restarts: fast and deterministic) on targets normalised to mean 0, std 1.

    Args:
        U: (n, d) trial points scaled to [0, 1] (log ranges through ln).
        y: (n,) objective values.
    Returns:
        A fitted ``sklearn.gaussian_process.GaussianProcessRegressor``; ``gp.predict(U_new,
        return_std=True)`` gives the posterior mean and standard deviation.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

    U, y = np.asarray(U, dtype=np.float64), np.asarray(y, dtype=np.float64)
    check_ndim("fit_surrogate", "U", U, 2, "(n, d)")
    check_ndim("fit_surrogate", "y", y, 1, "(n,)")
    check_same_length("fit_surrogate", U=U, y=y)
    kernel = (ConstantKernel(1.0, (1e-2, 1e2)) * Matern(np.full(U.shape[1], 0.3), (1e-2, 1e1), nu=2.5)
              + WhiteKernel(noise_level=1e-4, noise_level_bounds=(1e-8, 1e-1)))
    # alpha: a small jitter on the diagonal keeps the Cholesky factorisation stable
    gp = GaussianProcessRegressor(kernel, alpha=1e-8, normalize_y=True, n_restarts_optimizer=0)
    with warnings.catch_warnings():
        # A hyperparameter that ends on its bound (the noise level of a noise-free objective
        # at 1e-8, the length scale of an irrelevant dimension at 10) makes scikit-learn warn.
        # The fit is still a valid GP with that value, so the warning carries no information.
        warnings.simplefilter("ignore", ConvergenceWarning)
        gp.fit(U, y)
    return gp


def _candidates(U: np.ndarray, y: np.ndarray, n_candidates: int, rng) -> np.ndarray:
    """Points where EI is evaluated: uniform ones, plus Gaussian steps around the best (clipped)."""
    d = U.shape[1]
    uniform = rng.uniform(size=(n_candidates, d))
    # local search: 10% of the budget, steps of std 0.05 (5% of each range) around the best point
    local = U[np.argmin(y)] + 0.05 * rng.normal(size=(max(n_candidates // 10, 1), d))
    return np.vstack([uniform, np.clip(local, 0.0, 1.0)])


def bayesian_optimization(objective: Callable, space: dict, n_trials: int, n_initial: int = 5,
                          random_state=None, *, xi: float = 0.0,
                          n_candidates: int = 2000) -> SearchResult:
    r"""Minimise ``objective`` with a Gaussian-process surrogate and expected improvement.

    1. Draw ``n_initial`` random points exactly as :func:`random_search` does with the same
       ``random_state`` (so both searches start from the same trials).
    2. Until ``n_trials``: map the trials to :math:`[0, 1]^d` (log ranges through :math:`\ln`);
       fit the GP of :func:`fit_surrogate`; maximise :func:`expected_improvement` (with ``xi``)
       over ``n_candidates`` uniform points of the cube plus ``n_candidates // 10`` Gaussian
       perturbations (std 0.05) of the best trial; run the objective at the arg-max.

    Args:
        objective: ``objective(**params) -> float``, minimised.
        space: name -> ``(low, high, "linear" | "log")``; no lists of choices.
        n_trials: total evaluations (>= 1), initial ones included.
        n_initial: random trials before the surrogate is used (>= 1; capped at ``n_trials``).
        random_state: int seed, ``np.random.Generator`` or ``None``; a seed gives the same
            trials on the same machine (the GP fit is deterministic).
        xi: EI's exploration margin (>= 0), in the objective's units.
        n_candidates: uniform candidates per step (>= 1).
    Returns: a :class:`SearchResult`.
    Reference: Snoek et al. (2012); scikit-optimize's ``gp_minimize`` is a fuller version.
    """
    func = "bayesian_optimization"
    _check_objective(func, objective)
    space = _check_space(func, space, choices=False)
    check_int(func, "n_trials", n_trials, 1)
    check_int(func, "n_initial", n_initial, 1)
    check_int(func, "n_candidates", n_candidates, 1)
    if isinstance(xi, bool) or not isinstance(xi, numbers.Real) or not xi >= 0:
        raise ValueError(f"{func}: xi must be a number >= 0; got {xi!r}")
    rng = check_random_state(func, random_state)
    trials = []
    for _ in range(min(n_initial, n_trials)):
        params = _sample(space, rng)
        trials.append((params, _evaluate(func, objective, params)))
    while len(trials) < n_trials:
        # each point in the unit cube: U[i, j] = (x - low) / (high - low), on ln x for log ranges
        U = np.array([[_to_unit(p[name], *spec) for name, spec in space.items()] for p, _ in trials])
        y = np.array([value for _, value in trials])
        gp = fit_surrogate(U, y)
        cand = _candidates(U, y, n_candidates, rng)
        mu, sigma = gp.predict(cand, return_std=True)
        u_next = cand[int(np.argmax(expected_improvement(mu, sigma, y.min(), xi)))]
        params = {name: _from_unit(u, *spec) for u, (name, spec) in zip(u_next, space.items())}
        trials.append((params, _evaluate(func, objective, params)))
    return SearchResult(trials)


# ---------------------------------------------------------------- ensembles

def _stack(func: str, name: str, arrays, ndim: int) -> np.ndarray:
    """Stack a non-empty list of same-shape arrays into (K, ...) after checking them."""
    if isinstance(arrays, np.ndarray) or not isinstance(arrays, (list, tuple)):
        raise TypeError(f"{func}: {name} must be a list of arrays, one per model; got "
                        f"{type(arrays).__name__}")
    if len(arrays) == 0:
        raise ValueError(f"{func}: {name} must hold at least one model's predictions; got an empty list")
    arrays = [np.asarray(a) for a in arrays]
    for k, a in enumerate(arrays):
        if a.ndim != ndim:
            layout = "(N, C)" if ndim == 2 else "(N,)"
            raise ValueError(f"{func}: {name}[{k}] must have {ndim} dimensions {layout}; got shape {a.shape}")
        if a.shape != arrays[0].shape:
            raise ValueError(f"{func}: every array in {name} must have the same shape; got "
                             f"{arrays[0].shape} for {name}[0] and {a.shape} for {name}[{k}]")
    return np.stack(arrays)


def average_probabilities(probas) -> np.ndarray:
    r"""Soft voting: the mean of K models' class probabilities.

    .. math:: \bar p_{nc} = \frac1K \sum_{k=1}^K p^{(k)}_{nc}

    Args:
        probas: list of K arrays (N, C), each row a probability vector (softmax outputs, not
            logits: rows must be >= 0 and sum to 1 within 1e-4).
    Returns:
        (N, C) array, rows summing to 1, dtype of the inputs (float64 for integer inputs).
    Reference: ``sklearn.ensemble.VotingClassifier(voting="soft")`` without weights.
    """
    P = _stack("average_probabilities", "probas", probas, ndim=2)  # (K, N, C)
    if not np.issubdtype(P.dtype, np.floating):
        P = P.astype(np.float64)
    sums = P.sum(axis=2)  # (K, N)
    if np.any(P < 0) or not np.allclose(sums, 1.0, rtol=0, atol=1e-4):
        k = int(np.argmax(np.any(P < 0, axis=(1, 2)) | np.any(np.abs(sums - 1) > 1e-4, axis=1)))
        raise ValueError(f"average_probabilities: probas[{k}] must hold probabilities (>= 0, rows "
                         f"summing to 1; apply softmax to logits); got row sums in "
                         f"[{sums[k].min():.4g}, {sums[k].max():.4g}], min value {P[k].min():.4g}")
    return P.mean(axis=0)  # (N, C)


def majority_vote(labels) -> np.ndarray:
    """Hard voting: the most frequent label per example across K models.

    Ties go to the **smallest** label, as ``scipy.stats.mode`` and ``np.argmax`` over the counts
    do (so with two models that disagree, the smaller class wins).

    Args:
        labels: list of K integer arrays (N,), class indices >= 0.
    Returns:
        (N,) int64 array of voted labels.
    Reference: ``scipy.stats.mode(np.stack(labels), axis=0).mode``.
    """
    L = _stack("majority_vote", "labels", labels, ndim=1)  # (K, N)
    if not np.issubdtype(L.dtype, np.integer):
        raise TypeError(f"majority_vote: labels must be integer class indices; got dtype {L.dtype}")
    if L.size and L.min() < 0:
        raise ValueError(f"majority_vote: labels must be class indices >= 0; got {L.min()}")
    K, N = L.shape
    counts = np.zeros((N, int(L.max(initial=0)) + 1), dtype=np.int64)  # (N, C) votes per class
    np.add.at(counts, (np.tile(np.arange(N), K), L.ravel()), 1)
    return counts.argmax(axis=1).astype(np.int64)  # argmax takes the first (smallest) maximum
