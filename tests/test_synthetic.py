"""Tests for companion.synthetic: shapes, seeding, the generating equations, and bad input."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_moons

from companion.splits import Split
from companion.synthetic import (SHAPE_THRESHOLD, adding_problem, gaussian_mixture, moons,
                                 shapes_with_boxes, sine_waves, spirals)

PARTS = ["X_train", "y_train", "X_val", "y_val", "X_test", "y_test"]


def all_X(split):
    return np.concatenate([split.X_train, split.X_val, split.X_test])


def all_y(split):
    return np.concatenate([split.y_train, split.y_val, split.y_test])


# (generator, small kwargs, X sample shape, y sample shape, y dtype)
CASES = [
    (moons, dict(n_samples=60), (2,), (), np.int64),
    (spirals, dict(n_samples=61, n_classes=3), (2,), (), np.int64),
    (gaussian_mixture, dict(n_samples=50, n_components=5), (2,), (), np.int64),
    (shapes_with_boxes, dict(n_samples=20, image_size=16), (1, 16, 16), (5,), np.float32),
    (shapes_with_boxes, dict(n_samples=20, image_size=16, max_shapes=3), (1, 16, 16), (3, 5),
     np.float32),
    (adding_problem, dict(n_samples=40, seq_len=7), (7, 2), (), np.float32),
    (sine_waves, dict(n_samples=40, seq_len=9, horizon=3), (9, 1), (3,), np.float32),
]
IDS = ["moons", "spirals", "mixture", "shapes", "shapes-multi", "adding", "sine"]


# ---------------------------------------------------------------- shapes, dtypes, seeding
@pytest.mark.parametrize("gen, kwargs, x_shape, y_shape, y_dtype", CASES, ids=IDS)
def test_shapes_dtypes_and_total(gen, kwargs, x_shape, y_shape, y_dtype):
    split = gen(**kwargs)
    assert isinstance(split, Split) and split.description
    assert sum(split.sizes.values()) == kwargs["n_samples"]
    for name in PARTS:
        a = getattr(split, name)
        assert isinstance(a, np.ndarray)
        if name.startswith("X"):
            assert a.dtype == np.float32 and a.shape[1:] == x_shape, name
        else:
            assert a.dtype == y_dtype and a.shape[1:] == y_shape, name
        assert len(a) == len(getattr(split, "X" + name[1:]))


@pytest.mark.parametrize("gen, kwargs, x_shape, y_shape, y_dtype", CASES, ids=IDS)
def test_same_seed_same_arrays_other_seed_other_arrays(gen, kwargs, x_shape, y_shape, y_dtype):
    a, b = gen(**kwargs, random_state=3), gen(**kwargs, random_state=3)
    c = gen(**kwargs, random_state=4)
    for name in PARTS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.X_train, c.X_train)
    # the generator state, not only the split order, depends on the seed
    assert not np.array_equal(np.sort(all_X(a), axis=0), np.sort(all_X(c), axis=0))


def test_global_numpy_state_is_not_used():
    np.random.seed(0)
    before = np.random.get_state()[1].copy()
    a = gaussian_mixture(n_samples=40)
    np.random.seed(123)
    b = gaussian_mixture(n_samples=40)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.random.seed(0)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


# ---------------------------------------------------------------- classification sets
@pytest.mark.parametrize("gen, kwargs, n_classes", [
    (moons, dict(n_samples=101), 2),
    (spirals, dict(n_samples=301, n_classes=4), 4),
    (gaussian_mixture, dict(n_samples=203, n_components=6), 6),
])
def test_classes_balanced_and_stratified(gen, kwargs, n_classes):
    split = gen(**kwargs)
    counts = np.bincount(all_y(split), minlength=n_classes)
    assert len(counts) == n_classes
    assert np.all(np.abs(counts - kwargs["n_samples"] / n_classes) <= 2), counts
    assert len(split.target_names) == n_classes
    for part in (split.y_train, split.y_val, split.y_test):  # stratified: every class everywhere
        assert set(np.unique(part)) == set(range(n_classes))


def test_moons_without_noise_are_sklearns_points():
    split = moons(n_samples=101, noise=0.0)
    X, y = all_X(split), all_y(split)
    X_ref, y_ref = make_moons(n_samples=101, noise=0.0, shuffle=False)
    def by_position(P):  # sort on rounded coordinates so float32 round-off cannot reorder
        return P[np.lexsort(np.round(P, 3).T)]

    for k in (0, 1):  # same point set per class; float32 tolerance
        np.testing.assert_allclose(by_position(X[y == k]), by_position(X_ref[y_ref == k]),
                                   rtol=1e-4, atol=1e-5)


def test_moons_noise_has_the_stated_std():
    noisy, clean = moons(n_samples=4000, noise=0.1), moons(n_samples=4000, noise=0.0)
    np.testing.assert_array_equal(all_y(noisy), all_y(clean))  # same seed: same split order
    # the residual is the noise alone: std 0.1 within 0.005 (about 8 standard errors)
    assert abs(np.std(all_X(noisy) - all_X(clean)) - 0.1) < 0.005


def test_spirals_lie_on_their_arms():
    turns, C = 1.5, 3
    split = spirals(n_samples=300, n_classes=C, noise=0.0, turns=turns)
    X, y = all_X(split).astype(np.float64), all_y(split)
    r = np.linalg.norm(X, axis=1)
    assert r.max() <= 1 + 1e-6
    far = r > 0.05  # the angle is undefined at the origin
    theta = np.arctan2(X[far, 1], X[far, 0])
    # theta - 2 pi turns r - 2 pi k / C must be a multiple of 2 pi
    resid = np.angle(np.exp(1j * (theta - 2 * np.pi * turns * r[far] - 2 * np.pi * y[far] / C)))
    np.testing.assert_allclose(resid, 0, atol=1e-4)


def test_spirals_noise_keeps_the_radius():
    X_clean = all_X(spirals(n_samples=200, noise=0.0))
    X_noisy = all_X(spirals(n_samples=200, noise=0.5))
    np.testing.assert_allclose(np.linalg.norm(X_noisy, axis=1), np.linalg.norm(X_clean, axis=1),
                               rtol=1e-4, atol=1e-5)
    assert not np.allclose(X_noisy, X_clean)


def test_mixture_points_are_near_their_centres():
    K, std, n = 4, 0.5, 4000
    split = gaussian_mixture(n_samples=n, n_components=K, std=std)
    X, y = all_X(split).astype(np.float64), all_y(split)
    angle = 2 * np.pi * np.arange(K) / K
    mu = 2.0 * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    for k in range(K):
        Xk = X[y == k]
        # class mean within 5 standard errors of its centre, spread within 10% of std
        np.testing.assert_allclose(Xk.mean(0), mu[k], atol=5 * std / np.sqrt(len(Xk)))
        assert abs(Xk.std(0).mean() / std - 1) < 0.1
    # every point is nearer its own centre than 5 std
    assert np.linalg.norm(X - mu[y], axis=1).max() < 5 * std


def test_mixture_with_given_centres():
    centers = [[0.0, 0.0], [10.0, 0.0], [0.0, -10.0]]
    kept = np.array(centers)
    split = gaussian_mixture(n_samples=90, centers=centers, std=0.0)
    X, y = all_X(split), all_y(split)
    np.testing.assert_array_equal(X, np.asarray(centers, dtype=np.float32)[y])  # std 0: exact
    assert np.bincount(y).tolist() == [30, 30, 30] and len(split.target_names) == 3
    np.testing.assert_array_equal(np.array(centers), kept)  # input unchanged


# ---------------------------------------------------------------- shapes with boxes
def check_boxes(image, targets):
    """Every bright pixel is inside a box, and each box is tight around its bright pixels."""
    bright = image > SHAPE_THRESHOLD  # (H, W)
    covered = np.zeros_like(bright)
    for cls, x0, y0, x1, y1 in targets:
        if cls < 0:
            assert np.all(np.array([x0, y0, x1, y1]) == -1)
            continue
        assert cls in (0, 1, 2)
        x0, y0, x1, y1 = (int(v) for v in (x0, y0, x1, y1))
        inside = bright[y0:y1, x0:x1]
        rows, cols = np.nonzero(inside)
        assert (rows.min(), cols.min()) == (0, 0)  # tight at the top-left
        assert (rows.max() + 1, cols.max() + 1) == inside.shape  # tight at the bottom-right
        covered[y0:y1, x0:x1] = True
    assert not np.any(bright & ~covered)


@pytest.mark.parametrize("max_shapes", [1, 3])
def test_boxes_are_tight_and_cover_every_shape_pixel(max_shapes):
    split = shapes_with_boxes(n_samples=120, image_size=20, max_shapes=max_shapes)
    X, y = all_X(split), all_y(split)
    assert X.min() >= 0 and X.max() <= 1
    y = y[:, None] if max_shapes == 1 else y
    for image, targets in zip(X[:, 0], y):
        check_boxes(image, targets)
    classes = y[..., 0]
    assert set(np.unique(classes[classes >= 0])) == {0, 1, 2}
    assert split.target_names == ["square", "disk", "triangle"]
    if max_shapes > 1:  # some images hold more than one shape
        assert np.any((classes >= 0).sum(1) > 1)


def test_shape_pixels_and_background_are_separated():
    X = all_X(shapes_with_boxes(n_samples=50, image_size=16))
    assert X[X > SHAPE_THRESHOLD].min() >= 0.4 - 1e-6
    assert X[X <= SHAPE_THRESHOLD].max() <= 0.1 + 1e-6


def test_square_fills_its_box():
    split = shapes_with_boxes(n_samples=60, image_size=16)
    X, y = all_X(split), all_y(split)
    for image, (cls, x0, y0, x1, y1) in zip(X[:, 0], y):
        area = (x1 - x0) * (y1 - y0)
        n_bright = (image > SHAPE_THRESHOLD).sum()
        if cls == 0:
            assert n_bright == area and x1 - x0 == y1 - y0
        else:  # disks and triangles leave the box's corners empty
            assert n_bright < area


# ---------------------------------------------------------------- sequences
@pytest.mark.parametrize("seq_len", [2, 3, 50])
def test_adding_problem_markers_and_target(seq_len):
    split = adding_problem(n_samples=300, seq_len=seq_len)
    X, y = all_X(split), all_y(split)
    v, m = X[..., 0], X[..., 1]
    assert v.min() >= 0 and v.max() < 1
    assert set(np.unique(m)) <= {0.0, 1.0}
    half = seq_len // 2
    np.testing.assert_array_equal(m[:, :half].sum(1), 1)
    np.testing.assert_array_equal(m[:, half:].sum(1), 1)
    np.testing.assert_allclose(y, (v.astype(np.float64) * m).sum(1), rtol=0, atol=1e-6)


def test_sine_target_continues_the_window():
    seq_len, horizon = 20, 5
    split = sine_waves(n_samples=200, seq_len=seq_len, horizon=horizon, noise=0.0)
    X, y = all_X(split)[..., 0].astype(np.float64), all_y(split).astype(np.float64)
    # a noiseless sine obeys s[t+1] = c s[t] - s[t-1] with c = 2 cos(2 pi f): fit c on the window
    c = ((X[:, 2:] + X[:, :-2]) * X[:, 1:-1]).sum(1) / (X[:, 1:-1] ** 2).sum(1)  # (N,)
    np.testing.assert_allclose(X[:, 2:], c[:, None] * X[:, 1:-1] - X[:, :-2], atol=1e-5)
    s = list(X[:, -2:].T)
    for _ in range(horizon):  # extrapolate past the window with the fitted recurrence
        s.append(c * s[-1] - s[-2])
    np.testing.assert_allclose(np.stack(s[2:], axis=1), y, atol=1e-4)
    assert np.abs(X).max() <= 1.5 + 1e-6


def test_sine_noise_has_the_stated_std():
    clean = sine_waves(n_samples=500, seq_len=20, noise=0.0)
    noisy = sine_waves(n_samples=500, seq_len=20, noise=0.1)
    resid = np.concatenate([(noisy.X_train - clean.X_train).ravel(),
                            (noisy.y_train - clean.y_train).ravel()])
    assert abs(resid.std() - 0.1) < 0.005


# ---------------------------------------------------------------- properties
@settings(max_examples=25, deadline=None)
@given(n=st.integers(6, 40), T=st.integers(2, 12), horizon=st.integers(1, 4),
       C=st.integers(2, 4), seed=st.integers(0, 2**16))
def test_shape_formulas(n, T, horizon, C, seed):
    H, box_shape = 8 + T, (5,) if horizon == 1 else (horizon, 5)
    expected = [
        (moons(n_samples=n, random_state=seed), (2,), ()),
        (spirals(n_samples=n, n_classes=C, random_state=seed), (2,), ()),
        (gaussian_mixture(n_samples=n, n_components=C, random_state=seed), (2,), ()),
        (shapes_with_boxes(n_samples=n, image_size=H, random_state=seed, max_shapes=horizon),
         (1, H, H), box_shape),
        (adding_problem(n_samples=n, seq_len=T, random_state=seed), (T, 2), ()),
        (sine_waves(n_samples=n, seq_len=T, horizon=horizon, random_state=seed), (T, 1),
         (horizon,)),
    ]
    for split, x_shape, y_shape in expected:
        assert sum(split.sizes.values()) == n
        for name in PARTS:
            want = x_shape if name.startswith("X") else y_shape
            assert getattr(split, name).shape[1:] == want


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("gen, kwargs, error, match", [
    (moons, dict(n_samples=1), ValueError, r"moons: n_samples must be an integer >= 2; got 1"),
    (moons, dict(n_samples=10.0), TypeError, r"moons: n_samples must be an integer; got float"),
    (moons, dict(n_samples=True), TypeError, r"moons: n_samples must be an integer; got bool"),
    (moons, dict(noise=-0.1), ValueError, r"moons: noise must be finite and >= 0; got -0.1"),
    (moons, dict(noise="0.1"), TypeError, r"moons: noise must be a number; got str"),
    (moons, dict(random_state=-1), ValueError, r"moons: random_state must be an integer >= 0"),
    (moons, dict(random_state=None), TypeError,
     r"moons: random_state must be an integer; got NoneType"),
    (spirals, dict(n_classes=1), ValueError, r"spirals: n_classes must be an integer >= 2; got 1"),
    (spirals, dict(n_samples=3, n_classes=4), ValueError,
     r"spirals: n_samples must be an integer >= 4; got 3"),
    (spirals, dict(turns=0), ValueError, r"spirals: turns must be finite and > 0; got 0"),
    (spirals, dict(noise=float("nan")), ValueError, r"spirals: noise must be finite"),
    (gaussian_mixture, dict(n_components=0), ValueError,
     r"gaussian_mixture: n_components must be an integer >= 1; got 0"),
    (gaussian_mixture, dict(std=-1.0), ValueError,
     r"gaussian_mixture: std must be finite and >= 0; got -1.0"),
    (gaussian_mixture, dict(n_samples=2, centers=[[0, 0], [1, 1], [2, 2]]), ValueError,
     r"gaussian_mixture: n_samples must be an integer >= 3; got 2"),
    (gaussian_mixture, dict(centers=[[0, 0, 0]]), ValueError,
     r"gaussian_mixture: centers must have shape \(\*, 2\); got \(1, 3\)"),
    (gaussian_mixture, dict(centers=np.zeros((0, 2))), ValueError,
     r"gaussian_mixture: centers must be a non-empty \(K, 2\) array of finite numbers"),
    (gaussian_mixture, dict(centers=[[0, np.inf]]), ValueError,
     r"gaussian_mixture: centers must be a non-empty .* got shape \(1, 2\)"),
    (gaussian_mixture, dict(centers=[["a", "b"]]), TypeError,
     r"gaussian_mixture: centers must be a real array; got dtype <U1"),
    (shapes_with_boxes, dict(image_size=7), ValueError,
     r"shapes_with_boxes: image_size must be an integer >= 8; got 7"),
    (shapes_with_boxes, dict(max_shapes=0), ValueError,
     r"shapes_with_boxes: max_shapes must be an integer >= 1; got 0"),
    (shapes_with_boxes, dict(n_samples=0), ValueError,
     r"shapes_with_boxes: n_samples must be an integer >= 1; got 0"),
    (adding_problem, dict(seq_len=1), ValueError,
     r"adding_problem: seq_len must be an integer >= 2; got 1"),
    (adding_problem, dict(n_samples=2.5), TypeError,
     r"adding_problem: n_samples must be an integer; got float"),
    (sine_waves, dict(seq_len=0), ValueError,
     r"sine_waves: seq_len must be an integer >= 1; got 0"),
    (sine_waves, dict(horizon=0), ValueError,
     r"sine_waves: horizon must be an integer >= 1; got 0"),
    (sine_waves, dict(noise=-1), ValueError, r"sine_waves: noise must be finite and >= 0; got -1"),
])
def test_bad_input(gen, kwargs, error, match):
    with pytest.raises(error, match=match):
        gen(**kwargs)


def test_numpy_integers_are_accepted():
    split = adding_problem(n_samples=np.int64(10), seq_len=np.int32(4), random_state=np.int64(1))
    assert split.X_train.shape[1:] == (4, 2)
