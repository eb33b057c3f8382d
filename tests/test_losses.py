"""Tests for companion.losses: every loss against torch.nn.functional (or scikit-learn / SciPy),
every gradient against torch.autograd and central differences, extreme inputs, properties, errors.

Tolerances (STYLE.md): float64 rtol=1e-6; float32 rtol=1e-4, atol=1e-5. RuntimeWarnings are errors
(pyproject's filterwarnings), so every test here also checks that nothing overflows or divides by 0.
"""
import numpy as np
import pytest
import scipy.stats
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.metrics import hinge_loss

from companion import losses as L

TOL = {np.float64: dict(rtol=1e-6, atol=0), np.float32: dict(rtol=1e-4, atol=1e-5)}
DTYPES = [np.float64, np.float32]
REDUCTIONS = ["mean", "sum", "none"]


def T(x, grad=False):
    """A CPU tensor sharing ``x``'s dtype (labels stay int64)."""
    t = torch.tensor(np.asarray(x))
    return t.requires_grad_(True) if grad else t


def assert_matches(ours, ref, dtype):
    """Same shape, same dtype, values within the dtype's tolerance."""
    ours, ref = np.asarray(ours), ref.detach().numpy() if torch.is_tensor(ref) else np.asarray(ref)
    assert ours.shape == ref.shape
    assert ours.dtype == dtype
    np.testing.assert_allclose(ours, ref, **TOL[dtype])


# ---------------------------------------------------------------- seeded inputs, one maker per kind

def regression(rng, dtype):
    return rng.normal(size=(4, 5)).astype(dtype), rng.normal(size=(4, 5)).astype(dtype)


def probabilities(rng, dtype, soft=False):
    p = rng.uniform(0.02, 0.98, size=(4, 5))
    y = rng.uniform(0, 1, size=(4, 5)) if soft else rng.integers(0, 2, size=(4, 5))
    return p.astype(dtype), y.astype(dtype)


def logits_binary(rng, dtype):
    return 3 * rng.normal(size=(4, 5)).astype(dtype), rng.integers(0, 2, size=(4, 5)).astype(dtype)


def logits_probs(rng, dtype):
    return rng.normal(size=(6, 4)).astype(dtype), rng.dirichlet(np.ones(4), size=6).astype(dtype)


def logits_labels(rng, dtype):
    return rng.normal(size=(6, 4)).astype(dtype), rng.integers(0, 4, size=6)


def scores_signs(rng, dtype):
    return rng.normal(size=8).astype(dtype), rng.choice([-1.0, 1.0], size=8).astype(dtype)


def torch_hinge(s, y, reduction):
    """Binary hinge through torch: two classes with scores (0, s); torch divides by C = 2."""
    x = torch.stack([torch.zeros_like(s), s], dim=1)
    return 2 * F.multi_margin_loss(x, ((y + 1) / 2).long(), reduction=reduction)


# name: (ours, torch reference taking tensors and reduction, input maker)
FORWARD = {
    "mse": (L.mse, lambda a, b, r: F.mse_loss(a, b, reduction=r), regression),
    "mae": (L.mae, lambda a, b, r: F.l1_loss(a, b, reduction=r), regression),
    "huber": (L.huber, lambda a, b, r: F.huber_loss(a, b, reduction=r, delta=1.0), regression),
    "bce": (L.binary_cross_entropy, lambda a, b, r: F.binary_cross_entropy(a, b, reduction=r),
            probabilities),
    "bce_soft": (L.binary_cross_entropy,
                 lambda a, b, r: F.binary_cross_entropy(a, b, reduction=r),
                 lambda rng, dtype: probabilities(rng, dtype, soft=True)),
    "bce_with_logits": (L.binary_cross_entropy_with_logits,
                        lambda a, b, r: F.binary_cross_entropy_with_logits(a, b, reduction=r),
                        logits_binary),
    "categorical_ce": (L.categorical_cross_entropy,
                       lambda a, b, r: F.cross_entropy(a, b, reduction=r), logits_probs),
    "sparse_categorical_ce": (L.sparse_categorical_cross_entropy,
                              lambda a, b, r: F.cross_entropy(a, b, reduction=r), logits_labels),
    "hinge": (L.hinge, torch_hinge, scores_signs),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", FORWARD)
def test_loss_matches_torch(name, reduction, dtype):
    ours, ref, make = FORWARD[name]
    a, b = make(np.random.default_rng(0), dtype)
    assert_matches(ours(a, b, reduction=reduction), ref(T(a), T(b), reduction), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("delta", [0.3, 1.0, 2.5])
def test_huber_delta_matches_torch(delta, dtype):
    a, b = regression(np.random.default_rng(1), dtype)
    b = 2 * b  # residuals on both sides of delta
    assert_matches(L.huber(a, b, delta=delta), F.huber_loss(T(a), T(b), delta=delta), dtype)


def test_hinge_matches_sklearn():
    s, y = scores_signs(np.random.default_rng(2), np.float64)
    np.testing.assert_allclose(L.hinge(s, y), hinge_loss(y, s), rtol=1e-6)


def test_categorical_with_one_hot_matches_torch_with_labels():
    z, labels = logits_labels(np.random.default_rng(3), np.float64)
    one_hot = np.eye(4)[labels]
    assert_matches(L.categorical_cross_entropy(z, one_hot), F.cross_entropy(T(z), T(labels)),
                   np.float64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.5, 1.0, 2.0])
def test_triplet_matches_torch_including_its_eps(margin, reduction, dtype):
    rng = np.random.default_rng(4)
    a, p, n = (rng.normal(size=(7, 3)).astype(dtype) for _ in range(3))
    ref = F.triplet_margin_loss(T(a), T(p), T(n), margin=margin, reduction=reduction)
    assert_matches(L.triplet(a, p, n, margin=margin, reduction=reduction), ref, dtype)


def test_triplet_eps_is_torchs_for_identical_embeddings():
    # a == p: torch's distance is ||eps 1||_2 = 1e-6 sqrt(D), not 0
    a = np.zeros((1, 4))
    n = np.full((1, 4), 10.0)
    got = L.triplet(a, a, a, margin=1.0)  # d_ap = d_an = 2e-6: loss = margin exactly
    assert got == pytest.approx(1.0, abs=1e-12)
    ref = F.triplet_margin_loss(T(a), T(a), T(n), margin=25.0).item()
    assert L.triplet(a, a, n, margin=25.0) == pytest.approx(ref, rel=1e-12)
    assert ref == pytest.approx(25.0 + 2e-6 - np.sqrt(4 * (10 - 1e-6) ** 2), rel=1e-12)


def torch_contrastive(x1, x2, same, margin, reduction):
    """Independent expression of the convention: s d^2 + (1 - s) max(0, margin - d)^2."""
    d = torch.linalg.vector_norm(x1 - x2, dim=1)
    loss = same * d**2 + (1 - same) * torch.clamp(margin - d, min=0) ** 2
    return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.5, 1.0, 3.0])
def test_contrastive_matches_torch_expression(margin, reduction, dtype):
    rng = np.random.default_rng(5)
    x1, x2 = (rng.normal(size=(9, 2)).astype(dtype) for _ in range(2))
    same = rng.integers(0, 2, size=9)
    ref = torch_contrastive(T(x1), T(x2), T(same.astype(dtype)), margin, reduction)
    assert_matches(L.contrastive(x1, x2, same, margin=margin, reduction=reduction), ref, dtype)


def test_contrastive_hand_computed():
    x1 = np.zeros((4, 2))
    x2 = np.array([[3.0, 4.0], [0.3, 0.4], [3.0, 4.0], [0.0, 0.0]])  # distances 5, 0.5, 5, 0
    same = np.array([1, 0, 0, True])
    # similar at 5: 25; dissimilar at 0.5 < margin 1: (1 - 0.5)^2; dissimilar at 5: 0; equal: 0
    np.testing.assert_allclose(L.contrastive(x1, x2, same, reduction="none"), [25, 0.25, 0, 0])
    assert L.contrastive(x1, x2, same) == pytest.approx(25.25 / 4, rel=1e-12)
    assert L.contrastive(x1, x2, same, margin=6.0, reduction="sum") == pytest.approx(25 + 5.5**2 + 1)


def distributions(rng, dtype, N=5, C=4):
    p, q = rng.dirichlet(np.ones(C), size=N), rng.dirichlet(np.ones(C), size=N)
    return p.astype(dtype), q.astype(dtype)


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides:UserWarning")  # torch's own notice
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "mean", "none"])
def test_kl_divergence_matches_torch(reduction, dtype):
    p, q = distributions(np.random.default_rng(6), dtype)
    ref = F.kl_div(T(q).log(), T(p), reduction=reduction)
    assert_matches(L.kl_divergence(p, q, reduction=reduction), ref, dtype)


def test_kl_divergence_matches_scipy_row_by_row():
    p, q = distributions(np.random.default_rng(7), np.float64)
    rows = [scipy.stats.entropy(pn, qn) for pn, qn in zip(p, q)]
    np.testing.assert_allclose(L.kl_divergence(p, q, reduction="none").sum(axis=1), rows, rtol=1e-6)
    np.testing.assert_allclose(L.kl_divergence(p, q), np.mean(rows), rtol=1e-6)
    np.testing.assert_allclose(L.kl_divergence(p[0], q[0]), rows[0], rtol=1e-6)  # one (C,) row


def test_kl_divergence_zero_probabilities():
    p = np.array([[0.0, 0.5, 0.5], [0.5, 0.5, 0.0]])
    q = np.array([[0.0, 0.25, 0.75], [0.25, 0.75, 0.0]])  # q = 0 only where p = 0
    ref = [scipy.stats.entropy(pn, qn) for pn, qn in zip(p, q)]
    np.testing.assert_allclose(L.kl_divergence(p, q, reduction="sum"), sum(ref), rtol=1e-6)
    assert L.kl_divergence(np.array([0.5, 0.5]), np.array([1.0, 0.0])) == np.inf  # p > 0 = q
    assert L.kl_divergence(np.array([1.0, 0.0]), np.array([0.5, 0.5])) == pytest.approx(np.log(2))


def test_kl_divergence_is_asymmetric_and_links_entropy_and_cross_entropy():
    p, q = np.array([0.9, 0.1]), np.array([0.5, 0.5])
    assert L.kl_divergence(p, q) == pytest.approx(0.9 * np.log(1.8) + 0.1 * np.log(0.2))
    assert abs(L.kl_divergence(p, q) - L.kl_divergence(q, p)) > 0.1
    # H(p, q) = H(p) + KL(p || q), with cross-entropy from logits log q
    ce = L.categorical_cross_entropy(np.log(q)[None], p[None])
    np.testing.assert_allclose(ce, scipy.stats.entropy(p) + L.kl_divergence(p, q), rtol=1e-12)


# ---------------------------------------------------------------- gradients

def torch_bce_logits(z, y, r):
    return F.binary_cross_entropy_with_logits(z, y, reduction=r)


# name: (our gradient, our loss, torch loss taking tensors and reduction, input maker)
GRADS = {
    "mse": (L.mse_grad, L.mse, lambda a, b, r: F.mse_loss(a, b, reduction=r), regression),
    "mae": (L.mae_grad, L.mae, lambda a, b, r: F.l1_loss(a, b, reduction=r), regression),
    "huber": (L.huber_grad, L.huber, lambda a, b, r: F.huber_loss(a, b, reduction=r),
              lambda rng, dtype: tuple(2 * x for x in regression(rng, dtype))),
    "bce": (L.binary_cross_entropy_grad, L.binary_cross_entropy,
            lambda a, b, r: F.binary_cross_entropy(a, b, reduction=r),
            lambda rng, dtype: probabilities(rng, dtype, soft=True)),
    "bce_with_logits": (L.binary_cross_entropy_with_logits_grad,
                        L.binary_cross_entropy_with_logits, torch_bce_logits, logits_binary),
    "categorical_ce": (L.categorical_cross_entropy_grad, L.categorical_cross_entropy,
                       lambda a, b, r: F.cross_entropy(a, b, reduction=r), logits_probs),
    "sparse_categorical_ce": (L.sparse_categorical_cross_entropy_grad,
                              L.sparse_categorical_cross_entropy,
                              lambda a, b, r: F.cross_entropy(a, b, reduction=r), logits_labels),
    "hinge": (L.hinge_grad, L.hinge,
              lambda s, y, r: getattr(torch.clamp(1 - y * s, min=0), r)(), scores_signs),
}


def torch_grad(torch_loss, a, b, reduction):
    a_t = T(a, grad=True)
    torch_loss(a_t, T(b), reduction).backward()
    return a_t.grad


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("name", GRADS)
def test_gradient_matches_torch_autograd(name, reduction, dtype):
    grad, _, torch_loss, make = GRADS[name]
    a, b = make(np.random.default_rng(10), dtype)
    assert_matches(grad(a, b, reduction=reduction), torch_grad(torch_loss, a, b, reduction), dtype)


def central_differences(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        g[i] = (f(up) - f(down)) / (2 * eps)
    return g


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("name", GRADS)
def test_gradient_matches_central_differences(name, reduction):
    grad, loss, _, make = GRADS[name]
    a, b = make(np.random.default_rng(11), np.float64)  # no input within 1e-6 of a kink
    numeric = central_differences(lambda x: loss(x, b, reduction=reduction), a)
    np.testing.assert_allclose(grad(a, b, reduction=reduction), numeric, rtol=1e-5, atol=1e-8)


def test_categorical_gradient_with_targets_not_summing_to_one_matches_torch():
    rng = np.random.default_rng(12)
    z, t = rng.normal(size=(3, 4)), rng.uniform(0, 1, size=(3, 4))
    got = L.categorical_cross_entropy_grad(z, t)
    assert_matches(got, torch_grad(lambda a, b, r: F.cross_entropy(a, b, reduction=r), z, t, "mean"),
                   np.float64)


def test_kinks_follow_the_stated_choices():
    # mae: sign(0) = 0, as torch; hinge: 0 at y s = 1; huber: both pieces give delta at |r| = delta
    x = np.array([1.0, 2.0])
    assert_matches(L.mae_grad(x, x), torch_grad(lambda a, b, r: F.l1_loss(a, b, reduction=r), x, x,
                                                "mean"), np.float64)
    np.testing.assert_array_equal(L.hinge_grad(np.array([1.0, -1.0]), np.array([1.0, -1.0])), 0)
    np.testing.assert_array_equal(L.huber_grad(np.array([1.0, -1.0]), np.zeros(2), reduction="sum"),
                                  [1.0, -1.0])


# ---------------------------------------------------------------- extreme inputs

EXTREME_LOGITS = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0], [1e4, 1e4, -1e4], [0.0, 0.0, 0.0]])


@pytest.mark.parametrize("dtype", DTYPES)
def test_extreme_logits_are_finite_and_equal_torch(dtype):
    z = EXTREME_LOGITS.astype(dtype)
    labels = np.array([1, 1, 2, 0])
    targets = np.eye(3, dtype=dtype)[labels]
    for reduction in REDUCTIONS:
        ours = L.sparse_categorical_cross_entropy(z, labels, reduction=reduction)
        assert np.all(np.isfinite(ours))
        assert_matches(ours, F.cross_entropy(T(z), T(labels), reduction=reduction), dtype)
        assert_matches(L.categorical_cross_entropy(z, targets, reduction=reduction),
                       F.cross_entropy(T(z), T(targets), reduction=reduction), dtype)
        y = (targets > 0).astype(dtype)
        assert_matches(L.binary_cross_entropy_with_logits(z, y, reduction=reduction),
                       F.binary_cross_entropy_with_logits(T(z), T(y), reduction=reduction), dtype)
    ce = lambda a, b, r: F.cross_entropy(a, b, reduction=r)  # noqa: E731
    assert_matches(L.sparse_categorical_cross_entropy_grad(z, labels), torch_grad(ce, z, labels,
                                                                                  "mean"), dtype)
    assert_matches(L.categorical_cross_entropy_grad(z, targets), torch_grad(ce, z, targets, "mean"),
                   dtype)
    y = (targets > 0).astype(dtype)
    assert_matches(L.binary_cross_entropy_with_logits_grad(z, y),
                   torch_grad(torch_bce_logits, z, y, "mean"), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_probabilities_of_exactly_zero_and_one_are_finite_and_equal_torch(dtype):
    p = np.array([0.0, 1.0, 0.0, 1.0, 0.5, 1e-30], dtype=dtype)
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 1.0], dtype=dtype)
    bce = lambda a, b, r: F.binary_cross_entropy(a, b, reduction=r)  # noqa: E731
    for reduction in REDUCTIONS:
        ours = L.binary_cross_entropy(p, y, reduction=reduction)
        assert np.all(np.isfinite(ours))
        assert_matches(ours, bce(T(p), T(y), reduction), dtype)
    none = L.binary_cross_entropy(p, y, reduction="none")
    np.testing.assert_array_equal(none[:4], [100, 100, 0, 0])  # the log clamp at -100
    assert_matches(L.binary_cross_entropy_grad(p, y), torch_grad(bce, p, y, "mean"), dtype)


def test_kl_divergence_of_extreme_but_valid_probabilities():
    p = np.array([[1.0, 0.0], [1e-300, 1 - 1e-300]])
    q = np.array([[1e-300, 1.0], [0.5, 0.5]])
    got = L.kl_divergence(p, q, reduction="none")
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got.sum(axis=1), [scipy.stats.entropy(a, b) for a, b in zip(p, q)],
                               rtol=1e-6)


# ---------------------------------------------------------------- properties

finite = st.floats(-20, 20, allow_nan=False, width=64)


@st.composite
def pairs(draw, max_n=6):
    n = draw(st.integers(1, max_n))
    return draw(hnp.arrays(np.float64, (n, 3), elements=finite)), draw(
        hnp.arrays(np.float64, (n, 3), elements=finite))


@st.composite
def prob_rows(draw):
    n, c = draw(st.integers(1, 4)), draw(st.integers(2, 5))
    raw = draw(hnp.arrays(np.float64, (n, c), elements=st.floats(0, 1)))
    raw = raw + 1e-3  # keep every row's sum positive
    return raw / raw.sum(axis=1, keepdims=True)


def all_losses(a, b):
    """Every loss on inputs derived from two (N, 3) arrays, reduction 'none'."""
    p, y = 1 / (1 + np.exp(-np.clip(a, -30, 30))), (b > 0).astype(float)
    labels = (np.abs(b[:, 0]) * 10).astype(int) % 3
    signs = np.where(b[:, 0] > 0, 1.0, -1.0)
    soft = np.exp(b) / np.exp(b).sum(axis=1, keepdims=True)
    same = (a[:, 0] > b[:, 0]).astype(int)
    return {
        "mse": L.mse(a, b, reduction="none"), "mae": L.mae(a, b, reduction="none"),
        "huber": L.huber(a, b, reduction="none"),
        "bce": L.binary_cross_entropy(p, y, reduction="none"),
        "bce_with_logits": L.binary_cross_entropy_with_logits(a, y, reduction="none"),
        "categorical_ce": L.categorical_cross_entropy(a, soft, reduction="none"),
        "sparse_categorical_ce": L.sparse_categorical_cross_entropy(a, labels, reduction="none"),
        "hinge": L.hinge(a[:, 0], signs, reduction="none"),
        "triplet": L.triplet(a, b, a[::-1], reduction="none"),
        "contrastive": L.contrastive(a, b, same, reduction="none"),
        "kl_divergence": L.kl_divergence(soft, soft[::-1], reduction="none").sum(axis=1),
    }


@settings(max_examples=50, deadline=None)
@given(pairs())
def test_every_loss_is_non_negative_and_finite(ab):
    for name, loss in all_losses(*ab).items():
        assert np.all(np.isfinite(loss)), name
        assert np.all(loss >= -1e-12), name  # KL >= 0 up to rounding (Gibbs' inequality)


@settings(max_examples=50, deadline=None)
@given(prob_rows())
def test_kl_of_a_distribution_with_itself_is_zero(p):
    assert L.kl_divergence(p, p, reduction="sum") == pytest.approx(0, abs=1e-12)


@settings(max_examples=50, deadline=None)
@given(pairs(), st.integers(0, 2**32 - 1))
def test_categorical_with_one_hot_equals_sparse(ab, seed):
    z = ab[0]
    labels = np.random.default_rng(seed).integers(0, 3, size=len(z))
    one_hot = np.eye(3)[labels]
    for r in REDUCTIONS:
        np.testing.assert_allclose(L.categorical_cross_entropy(z, one_hot, reduction=r),
                                   L.sparse_categorical_cross_entropy(z, labels, reduction=r),
                                   rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(L.categorical_cross_entropy_grad(z, one_hot),
                               L.sparse_categorical_cross_entropy_grad(z, labels), atol=1e-15)


@settings(max_examples=30, deadline=None)
@given(pairs())
def test_inputs_are_unchanged(ab):
    a, b = ab
    kept = a.copy(), b.copy()
    all_losses(a, b)
    for grad, _, _, make in GRADS.values():
        x, t = make(np.random.default_rng(0), np.float64)
        x_kept, t_kept = x.copy(), t.copy()
        grad(x, t)
        np.testing.assert_array_equal(x, x_kept)
        np.testing.assert_array_equal(t, t_kept)
    np.testing.assert_array_equal(a, kept[0])
    np.testing.assert_array_equal(b, kept[1])


@pytest.mark.parametrize("name", FORWARD)
def test_dtype_is_preserved(name):
    ours, _, make = FORWARD[name]
    a, b = make(np.random.default_rng(0), np.float32)
    assert np.asarray(ours(a, b)).dtype == np.float32
    assert np.asarray(ours(a, b, reduction="none")).dtype == np.float32


# ---------------------------------------------------------------- bad input

X2 = np.zeros((2, 3))


@pytest.mark.parametrize("call, error, match", [
    (lambda: L.mse(np.zeros(3), np.zeros(2)), ValueError,
     r"^mse: target must have the shape of pred \(3,\); got \(2,\)$"),
    (lambda: L.mae_grad(np.zeros((2, 2)), np.zeros(4)), ValueError,
     r"^mae_grad: target must have the shape of pred \(2, 2\); got \(4,\)$"),
    (lambda: L.mse(np.arange(3), np.zeros(3)), TypeError,
     r"^mse: pred must be a floating-point array; got dtype int64$"),
    (lambda: L.mse(np.zeros(0), np.zeros(0)), ValueError,
     r"^mse: pred must not be empty; got shape \(0,\)$"),
    (lambda: L.mse(X2, X2, reduction="avg"), ValueError,
     r"^mse: reduction must be one of 'mean', 'sum', 'none'; got 'avg'$"),
    (lambda: L.mse_grad(X2, X2, reduction="none"), ValueError,
     r"^mse_grad: reduction must be one of 'mean', 'sum'; got 'none'$"),
    (lambda: L.huber(X2, X2, delta=-1.0), ValueError,
     r"^huber: delta must be finite and > 0; got -1.0$"),
    (lambda: L.huber_grad(X2, X2, delta=0), ValueError,
     r"^huber_grad: delta must be finite and > 0; got 0$"),
    (lambda: L.binary_cross_entropy(np.array([0.5, 1.5]), np.ones(2)), ValueError,
     r"^binary_cross_entropy: p must hold values in \[0, 1\]; got 1.5$"),
    (lambda: L.binary_cross_entropy(np.array([0.5, np.nan]), np.ones(2)), ValueError,
     r"^binary_cross_entropy: p must hold values in \[0, 1\]; got nan$"),
    (lambda: L.binary_cross_entropy_grad(np.array([-0.1]), np.ones(1)), ValueError,
     r"^binary_cross_entropy_grad: p must hold values in \[0, 1\]; got -0.1$"),
    (lambda: L.binary_cross_entropy(np.array([0.5]), np.array([2.0])), ValueError,
     r"^binary_cross_entropy: y must hold values in \[0, 1\]; got 2$"),
    (lambda: L.binary_cross_entropy_with_logits(np.zeros(2), np.array([0, -1])), ValueError,
     r"^binary_cross_entropy_with_logits: y must hold values in \[0, 1\]; got -1$"),
    (lambda: L.binary_cross_entropy_with_logits_grad(np.zeros(2), np.zeros(3)), ValueError,
     r"^binary_cross_entropy_with_logits_grad: y must have the shape of logits \(2,\); got \(3,\)$"),
    (lambda: L.categorical_cross_entropy(np.zeros(3), np.zeros(3)), ValueError,
     r"^categorical_cross_entropy: logits must have 2 dimensions \(N, C\); got shape \(3,\)$"),
    (lambda: L.categorical_cross_entropy(X2, np.full((2, 3), 1.2)), ValueError,
     r"^categorical_cross_entropy: target_probs must hold values in \[0, 1\]; got 1.2$"),
    (lambda: L.categorical_cross_entropy_grad(X2, np.zeros((3, 2))), ValueError,
     r"^categorical_cross_entropy_grad: target_probs must have the shape of logits \(2, 3\); "
     r"got \(3, 2\)$"),
    (lambda: L.sparse_categorical_cross_entropy(X2, np.array([0, 3])), ValueError,
     r"^sparse_categorical_cross_entropy: labels must be in \[0, 2\] \(C=3\); got 3$"),
    (lambda: L.sparse_categorical_cross_entropy_grad(X2, np.array([-1, 0])), ValueError,
     r"^sparse_categorical_cross_entropy_grad: labels must be in \[0, 2\] \(C=3\); got -1$"),
    (lambda: L.sparse_categorical_cross_entropy(X2, np.array([0.0, 1.0])), TypeError,
     r"^sparse_categorical_cross_entropy: labels must be an integer array; got dtype float64$"),
    (lambda: L.sparse_categorical_cross_entropy(X2, np.array([0, 1, 2])), ValueError,
     r"^sparse_categorical_cross_entropy: labels must have shape \(2,\) \(N from logits\); "
     r"got \(3,\)$"),
    (lambda: L.sparse_categorical_cross_entropy(np.zeros((0, 3)), np.zeros(0, int)), ValueError,
     r"^sparse_categorical_cross_entropy: logits must not be empty; got shape \(0, 3\)$"),
    (lambda: L.sparse_categorical_cross_entropy(np.zeros((2, 3), int), [0, 1]), TypeError,
     r"^sparse_categorical_cross_entropy: logits must be a floating-point array; got dtype int64$"),
    (lambda: L.hinge(np.zeros(2), np.array([0, 1])), ValueError,
     r"^hinge: y must hold labels -1 or \+1; got 0$"),
    (lambda: L.hinge_grad(np.zeros(2), np.array([1, 2])), ValueError,
     r"^hinge_grad: y must hold labels -1 or \+1; got 2$"),
    (lambda: L.hinge(X2, X2 + 1), ValueError,
     r"^hinge: scores must have 1 dimensions \(N,\); got shape \(2, 3\)$"),
    (lambda: L.triplet(X2, X2, np.zeros((2, 4))), ValueError,
     r"^triplet: negative must have the shape of anchor \(2, 3\); got \(2, 4\)$"),
    (lambda: L.triplet(np.zeros(3), np.zeros(3), np.zeros(3)), ValueError,
     r"^triplet: anchor must have 2 dimensions \(N, D\); got shape \(3,\)$"),
    (lambda: L.triplet(X2, X2, X2, margin=-0.5), ValueError,
     r"^triplet: margin must be finite and > 0; got -0.5$"),
    (lambda: L.triplet(X2, X2, X2, margin=0.0), ValueError,
     r"^triplet: margin must be finite and > 0; got 0.0$"),
    (lambda: L.triplet(X2, X2, X2, reduction="batchmean"), ValueError,
     r"^triplet: reduction must be one of 'mean', 'sum', 'none'; got 'batchmean'$"),
    (lambda: L.contrastive(X2, X2, np.array([0, 1]), margin=-1), ValueError,
     r"^contrastive: margin must be finite and > 0; got -1$"),
    (lambda: L.contrastive(X2, X2, np.array([0, 2])), ValueError,
     r"^contrastive: same must hold 0 or 1; got 2$"),
    (lambda: L.contrastive(X2, X2, np.array([0, 1, 1])), ValueError,
     r"^contrastive: same must have shape \(2,\) \(N from x1\); got \(3,\)$"),
    (lambda: L.contrastive(X2, np.zeros((3, 3)), np.array([0, 1])), ValueError,
     r"^contrastive: x2 must have the shape of x1 \(2, 3\); got \(3, 3\)$"),
    (lambda: L.kl_divergence(np.array([0.5, 0.5]), np.array([1.5, -0.5])), ValueError,
     r"^kl_divergence: q must hold values in \[0, 1\]; got 1.5$"),
    (lambda: L.kl_divergence(np.array([-0.5, 1.5]), np.array([0.5, 0.5])), ValueError,
     r"^kl_divergence: p must hold values in \[0, 1\]; got -0.5$"),
    (lambda: L.kl_divergence(np.zeros((1, 2, 2)), np.zeros((1, 2, 2))), ValueError,
     r"^kl_divergence: p must have 1 or 2 dimensions \(N, C\) or \(C,\); got shape \(1, 2, 2\)$"),
    (lambda: L.kl_divergence(X2, X2, reduction="avg"), ValueError,
     r"^kl_divergence: reduction must be one of 'batchmean', 'sum', 'mean', 'none'; got 'avg'$"),
])
def test_bad_input_messages(call, error, match):
    with pytest.raises(error, match=match):
        call()
