"""Seeded synthetic data sets for lessons a real data set cannot show.

Each generator draws from its own ``np.random.default_rng(random_state)``, never the global state,
and returns a :class:`~companion.splits.Split` cut with the same seed (stratified for classes).
X is float32; class labels are int64; regression targets are float32.
"""
from __future__ import annotations


import numpy as np

from .splits import Split, train_val_test_split
from .validation import check_int, check_positive, check_shape

__all__ = ["moons", "spirals", "gaussian_mixture", "shapes_with_boxes", "adding_problem",
           "sine_waves"]

SHAPE_NAMES = ["square", "disk", "triangle"]
SHAPE_THRESHOLD = 0.25  # in shapes_with_boxes, pixels above it are exactly the shapes' pixels


def _per_class(n_samples: int, n_classes: int) -> np.ndarray:
    """(C,) class sizes that sum to ``n_samples`` and differ by at most one."""
    return n_samples // n_classes + (np.arange(n_classes) < n_samples % n_classes)


def moons(n_samples: int = 600, noise: float = 0.2, random_state: int = 0) -> Split:
    r"""Two interleaving half-circles, the classic non-linearly-separable toy problem.

    .. math::
        t \in \mathrm{linspace}(0, \pi), \quad
        x^{(0)} = (\cos t, \sin t), \quad x^{(1)} = (1 - \cos t, \tfrac12 - \sin t),
        \quad X = x + \epsilon, \ \epsilon \sim \mathcal N(0, \mathrm{noise}^2 I)

    Args:
        n_samples: total number of points N (>= 2); class 0 gets ``N // 2``.
        noise: standard deviation of the Gaussian added to each coordinate (>= 0).
        random_state: seed (integer >= 0).
    Returns:
        Split with X (N, 2) float32 and y (N,) int64 in {0, 1}, stratified.
    Reference: sklearn.datasets.make_moons (same points when ``noise=0``).
    """
    func = "moons"
    n_samples = check_int(func, "n_samples", n_samples, 2)
    check_positive(func, "noise", noise, allow_zero=True)
    rng = np.random.default_rng(check_int(func, "random_state", random_state, 0))
    n_out = n_samples // 2
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_samples - n_out)
    # x0 = (cos t, sin t) on top, x1 = (1 - cos t, 1/2 - sin t) below and shifted right
    x0 = np.stack([np.cos(t_out), np.sin(t_out)], axis=1)  # (N // 2, 2)
    x1 = np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], axis=1)  # (N - N // 2, 2)
    X = np.concatenate([x0, x1]) + rng.normal(0.0, noise, size=(n_samples, 2))
    y = np.repeat([0, 1], [n_out, n_samples - n_out]).astype(np.int64)
    return train_val_test_split(
        X.astype(np.float32), y, random_state=random_state, stratify=True,
        feature_names=["x1", "x2"], target_names=["upper moon", "lower moon"],
        description=f"two moons (synthetic, noise={noise})")


def spirals(n_samples: int = 600, n_classes: int = 2, noise: float = 0.2, turns: float = 1.5,
            random_state: int = 0) -> Split:
    r"""Interleaved spiral arms, one per class (the CS231n toy problem).

    .. math::
        r \in \mathrm{linspace}(0, 1), \quad
        \theta = 2\pi \cdot \mathrm{turns} \cdot r + \frac{2\pi k}{C} + \epsilon, \
        \epsilon \sim \mathcal N(0, \mathrm{noise}^2), \quad x = r (\cos\theta, \sin\theta)

    The noise jitters the angle (radians), not the radius, so ``|x| <= 1``, as in the original.

    Args:
        n_samples: total number of points N (>= n_classes); class sizes differ by at most one.
        n_classes: number of arms C (>= 2).
        noise: standard deviation of the angle jitter in radians (>= 0).
        turns: how many full turns each arm makes (> 0).
        random_state: seed (integer >= 0).
    Returns:
        Split with X (N, 2) float32 and y (N,) int64 in {0, ..., C-1}, stratified.
    Reference: https://cs231n.github.io/neural-networks-case-study/
    """
    func = "spirals"
    n_classes = check_int(func, "n_classes", n_classes, 2)
    n_samples = check_int(func, "n_samples", n_samples, n_classes)
    check_positive(func, "noise", noise, allow_zero=True)
    check_positive(func, "turns", turns)
    rng = np.random.default_rng(check_int(func, "random_state", random_state, 0))
    sizes = _per_class(n_samples, n_classes)  # (C,)
    y = np.repeat(np.arange(n_classes), sizes).astype(np.int64)  # (N,)
    r = np.concatenate([np.linspace(0, 1, n) for n in sizes])  # (N,)
    # theta = 2 pi turns r + 2 pi k / C + eps
    theta = 2 * np.pi * turns * r + 2 * np.pi * y / n_classes + rng.normal(0, noise, n_samples)
    X = r[:, None] * np.stack([np.cos(theta), np.sin(theta)], axis=1)  # (N, 2)
    return train_val_test_split(
        X.astype(np.float32), y, random_state=random_state, stratify=True,
        feature_names=["x1", "x2"], target_names=[f"arm {k}" for k in range(n_classes)],
        description=f"{n_classes} spirals (synthetic, {turns} turns, noise={noise})")


def _mixture_centers(func: str, n_components: int, centers) -> np.ndarray:
    """(K, 2) float64 centres: the given ones, or K evenly spaced on the circle of radius 2."""
    if centers is None:
        angle = 2 * np.pi * np.arange(n_components) / n_components  # (K,)
        return 2.0 * np.stack([np.cos(angle), np.sin(angle)], axis=1)  # (K, 2)
    centers = np.asarray(centers)
    if not (np.issubdtype(centers.dtype, np.integer) or np.issubdtype(centers.dtype, np.floating)):
        raise TypeError(f"{func}: centers must be a real array; got dtype {centers.dtype}")
    check_shape(func, "centers", centers, (None, 2))
    if len(centers) == 0 or not np.all(np.isfinite(centers)):
        raise ValueError(f"{func}: centers must be a non-empty (K, 2) array of finite numbers; "
                         f"got shape {centers.shape}")
    return centers.astype(np.float64)


def gaussian_mixture(n_samples: int = 600, n_components: int = 4, std: float = 0.5,
                     random_state: int = 0, centers=None) -> Split:
    r"""Isotropic Gaussian blobs in the plane; the label is the component a point came from.

    .. math::
        x = \mu_k + \sigma z, \quad z \sim \mathcal N(0, I_2), \quad
        \mu_k = 2 (\cos \tfrac{2\pi k}{K}, \sin \tfrac{2\pi k}{K}) \ \text{unless given}

    Args:
        n_samples: total number of points N (>= K); component sizes differ by at most one.
        n_components: number of components K (>= 1); ignored when ``centers`` is given.
        std: standard deviation sigma of every component (>= 0).
        random_state: seed (integer >= 0).
        centers: optional (K, 2) component means; K = len(centers) then.
    Returns:
        Split with X (N, 2) float32 and y (N,) int64 in {0, ..., K-1}, stratified.
    Reference: sklearn.datasets.make_blobs (which draws the centres at random instead).
    """
    func = "gaussian_mixture"
    n_components = check_int(func, "n_components", n_components, 1)
    mu = _mixture_centers(func, n_components, centers)  # (K, 2)
    n_samples = check_int(func, "n_samples", n_samples, len(mu))
    check_positive(func, "std", std, allow_zero=True)
    rng = np.random.default_rng(check_int(func, "random_state", random_state, 0))
    y = np.repeat(np.arange(len(mu)), _per_class(n_samples, len(mu))).astype(np.int64)  # (N,)
    # x = mu_k + sigma z
    X = mu[y] + std * rng.standard_normal((n_samples, 2))  # (N, 2)
    return train_val_test_split(
        X.astype(np.float32), y, random_state=random_state, stratify=True,
        feature_names=["x1", "x2"], target_names=[f"component {k}" for k in range(len(mu))],
        description=f"mixture of {len(mu)} Gaussians (synthetic, std={std})")


def _shape_mask(kind: int, s: int, r0: int, c0: int, size: int) -> np.ndarray:
    """(H, W) bool mask of one filled shape inside the s-by-s square whose top-left is (r0, c0)."""
    rr, cc = np.ogrid[:size, :size]
    i, j = rr - r0, cc - c0  # coordinates inside the square, 0 .. s-1
    inside = (i >= 0) & (i < s) & (j >= 0) & (j < s)  # (H, W)
    mid = (s - 1) / 2
    if kind == 0:  # square: the whole s-by-s square
        return inside
    if kind == 1:  # disk: (i - mid)^2 + (j - mid)^2 <= (s/2)^2
        return inside & ((i - mid) ** 2 + (j - mid) ** 2 <= (s / 2) ** 2)
    # triangle, apex up: half-width grows linearly from 1/4 (top row) to s/2 (bottom row)
    return inside & (np.abs(j - mid) <= (i + 0.5) / 2)


def _draw_image(rng: np.random.Generator, size: int, max_shapes: int):
    """One (H, W) image in [0, 1] and its (max_shapes, 5) targets; unused rows are -1."""
    image, targets = np.zeros((size, size)), np.full((max_shapes, 5), -1.0)
    lo = max(4, size // 6)
    hi = max(lo, size // (1 + max_shapes))
    n_shapes, placed = rng.integers(1, max_shapes + 1), []
    for _ in range(50 * max_shapes):  # rejection sampling: shapes' squares never overlap
        if len(placed) == n_shapes:
            break
        s = int(rng.integers(lo, hi + 1))
        r0, c0 = (int(v) for v in rng.integers(0, size - s + 1, size=2))
        if any(r0 < r + t and r < r0 + s and c0 < c + t and c < c0 + s for r, c, t in placed):
            continue
        placed.append((r0, c0, s))
        kind = int(rng.integers(0, 3))
        mask = _shape_mask(kind, s, r0, c0, size)  # (H, W)
        rows, cols = np.nonzero(mask)
        image[mask] = rng.uniform(0.5, 1.0)  # one grey level per shape
        # box [x_min, x_max) x [y_min, y_max), x = column, tight around the drawn pixels
        targets[len(placed) - 1] = [kind, cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]
    # light noise, bounded so that background <= 0.1 < SHAPE_THRESHOLD < 0.4 <= shape pixels
    image = np.clip(image + rng.uniform(-0.1, 0.1, size=image.shape), 0.0, 1.0)
    return image, targets


def shapes_with_boxes(n_samples: int = 300, image_size: int = 32, random_state: int = 0,
                      max_shapes: int = 1) -> Split:
    r"""Grayscale images of filled shapes with their class and bounding box (detection toy set).

    Each image holds 1 to ``max_shapes`` shapes (one by default): class 0 square, 1 disk,
    2 triangle, of random side s >= 4 pixels, position and grey level in [0.5, 1]; their s-by-s
    squares never overlap. Noise ~ U[-0.1, 0.1] is added and the result clipped to [0, 1], so
    ``X > SHAPE_THRESHOLD`` (0.25) is exactly the shapes' pixels.

    Args:
        n_samples: number of images N (>= 1).
        image_size: side H = W of the square images (>= 8).
        random_state: seed (integer >= 0).
        max_shapes: largest number of shapes per image (>= 1).
    Returns:
        Split with X (N, 1, H, W) float32 in [0, 1] and float32 targets
        ``[class, x_min, y_min, x_max, y_max]`` in pixel coordinates, x the column and y the row,
        half-open: the shape's pixels are ``X[n, 0, y_min:y_max, x_min:x_max]`` and the box is
        tight around them. y is (N, 5) when ``max_shapes == 1``, else (N, max_shapes, 5) with
        unused rows filled with -1. Not stratified.
    """
    func = "shapes_with_boxes"
    n_samples = check_int(func, "n_samples", n_samples, 1)
    image_size = check_int(func, "image_size", image_size, 8)
    max_shapes = check_int(func, "max_shapes", max_shapes, 1)
    rng = np.random.default_rng(check_int(func, "random_state", random_state, 0))
    drawn = [_draw_image(rng, image_size, max_shapes) for _ in range(n_samples)]
    X = np.stack([image for image, _ in drawn])[:, None].astype(np.float32)  # (N, 1, H, W)
    y = np.stack([targets for _, targets in drawn]).astype(np.float32)  # (N, max_shapes, 5)
    if max_shapes == 1:
        y = y[:, 0]  # (N, 5)
    return train_val_test_split(
        X, y, random_state=random_state, feature_names=["intensity"], target_names=SHAPE_NAMES,
        description=f"{image_size}x{image_size} shapes with bounding boxes (synthetic)")


def adding_problem(n_samples: int = 2000, seq_len: int = 50, random_state: int = 0) -> Split:
    r"""The adding problem: a long-range memory test for recurrent networks.

    Channel 0 holds values :math:`v_t \sim U[0, 1)`; channel 1 is a marker :math:`m_t` that is 1
    at exactly two steps, one drawn from the first half ``[0, T // 2)`` and one from the second
    half ``[T // 2, T)``, and 0 elsewhere. The target is

    .. math::
        y = \sum_{t=0}^{T-1} m_t v_t

    A model that always answers 1 scores a mean squared error of about 1/6.

    Args:
        n_samples: number of sequences N (>= 1).
        seq_len: sequence length T (>= 2).
        random_state: seed (integer >= 0).
    Returns:
        Split with X (N, T, 2) float32 and y (N,) float32 in [0, 2).
    Reference: Hochreiter & Schmidhuber (1997), Long short-term memory, experiment 4; the
    first-half / second-half markers follow Le, Jaitly & Hinton (2015).
    """
    func = "adding_problem"
    n_samples = check_int(func, "n_samples", n_samples, 1)
    seq_len = check_int(func, "seq_len", seq_len, 2)
    rng = np.random.default_rng(check_int(func, "random_state", random_state, 0))
    v = rng.random((n_samples, seq_len)).astype(np.float32)  # (N, T)
    half, rows = seq_len // 2, np.arange(n_samples)
    first = rng.integers(0, half, n_samples)  # (N,) one marker in [0, T // 2)
    second = rng.integers(half, seq_len, n_samples)  # (N,) one marker in [T // 2, T)
    m = np.zeros((n_samples, seq_len), dtype=np.float32)
    m[rows, first] = m[rows, second] = 1.0
    # y = sum_t m_t v_t: the two marked values
    y = v[rows, first] + v[rows, second]  # (N,) float32
    X = np.stack([v, m], axis=-1)  # (N, T, 2)
    return train_val_test_split(
        X, y, random_state=random_state, feature_names=["value", "marker"],
        description=f"adding problem (synthetic, T={seq_len})")


def sine_waves(n_samples: int = 1000, seq_len: int = 50, horizon: int = 1, random_state: int = 0,
               noise: float = 0.0) -> Split:
    r"""Windows of random sine waves and the values that follow them (next-step forecasting).

    .. math::
        s_t = A \sin(2\pi f t + \varphi) + \epsilon_t, \quad
        A \sim U[0.5, 1.5], \ f \sim U[0.02, 0.1], \ \varphi \sim U[0, 2\pi), \
        \epsilon_t \sim \mathcal N(0, \mathrm{noise}^2)

    for t = 0 .. T + horizon - 1, one (A, f, phi) per sequence, f in cycles per step. Without
    noise :math:`s_{t+1} = 2\cos(2\pi f) s_t - s_{t-1}`: the future is perfectly predictable.

    Args:
        n_samples: number of sequences N (>= 1).
        seq_len: window length T (>= 1).
        horizon: how many following values to predict (>= 1).
        random_state: seed (integer >= 0).
        noise: standard deviation of the Gaussian added to every value, X and y alike (>= 0).
    Returns:
        Split with X (N, T, 1) float32 (s_0 .. s_{T-1}) and y (N, horizon) float32
        (s_T .. s_{T+horizon-1}).
    """
    func = "sine_waves"
    n_samples = check_int(func, "n_samples", n_samples, 1)
    seq_len = check_int(func, "seq_len", seq_len, 1)
    horizon = check_int(func, "horizon", horizon, 1)
    check_positive(func, "noise", noise, allow_zero=True)
    rng = np.random.default_rng(check_int(func, "random_state", random_state, 0))
    A, f = rng.uniform(0.5, 1.5, (n_samples, 1)), rng.uniform(0.02, 0.1, (n_samples, 1))
    phi = rng.uniform(0, 2 * np.pi, (n_samples, 1))  # (N, 1)
    t = np.arange(seq_len + horizon)  # (T + horizon,)
    # s_t = A sin(2 pi f t + phi) + eps_t
    s = A * np.sin(2 * np.pi * f * t + phi) + rng.normal(0, noise, (n_samples, len(t)))
    s = s.astype(np.float32)  # (N, T + horizon)
    return train_val_test_split(
        s[:, :seq_len, None], s[:, seq_len:], random_state=random_state,  # (N, T, 1), (N, horizon)
        feature_names=["value"], description=f"sine waves (synthetic, T={seq_len}, "
                                             f"horizon={horizon}, noise={noise})")
