"""Tests for companion.splits: partition, sizes, seeding, stratification, lists, bad input."""
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from companion.splits import Split, train_val_test_split

PARTS = ("train", "val", "test")


def indexed(n, d=3):
    """X (n, d) whose column 0 is the sample index; y (n,) = 10 * index, so alignment is visible."""
    X = np.column_stack([np.arange(n), np.random.default_rng(0).normal(size=(n, d - 1))])
    return X, 10 * np.arange(n)


def index_parts(split):
    return {p: getattr(split, f"X_{p}")[:, 0].astype(int) for p in PARTS}


def check_partition(split, n):
    """The parts are disjoint, hold every index once, and each y is aligned with its X."""
    idx = index_parts(split)
    everything = np.concatenate([idx[p] for p in PARTS])
    np.testing.assert_array_equal(np.sort(everything), np.arange(n))  # each sample exactly once
    for p in PARTS:
        np.testing.assert_array_equal(getattr(split, f"y_{p}"), 10 * idx[p])


# ---------------------------------------------------------------- partition and sizes
def test_parts_are_disjoint_and_cover_every_sample_once():
    X, y = indexed(50)
    split = train_val_test_split(X, y, val_size=0.2, test_size=0.3, random_state=1)
    check_partition(split, 50)
    idx = index_parts(split)
    assert not set(idx["train"]) & set(idx["val"])
    assert not set(idx["train"]) & set(idx["test"])
    assert not set(idx["val"]) & set(idx["test"])
    # rows travel whole: the other columns still belong to their index
    for p in PARTS:
        np.testing.assert_array_equal(getattr(split, f"X_{p}"), X[idx[p]])


@pytest.mark.parametrize("n, val_size, test_size, expected", [
    (10, 0.2, 0.3, {"train": 5, "val": 2, "test": 3}),
    (100, 0.15, 0.15, {"train": 70, "val": 15, "test": 15}),
    (7, 0.1, 0.3, {"train": 4, "val": 1, "test": 2}),  # 0.7 -> 1, 2.1 -> 2
    (13, 0.0, 0.26, {"train": 10, "val": 0, "test": 3}),  # 3.38 -> 3; an empty part is allowed
    (20, 0.33, 0.0, {"train": 13, "val": 7, "test": 0}),  # 6.6 -> 7
])
def test_sizes_are_the_rounded_fractions(n, val_size, test_size, expected):
    X, y = indexed(n)
    split = train_val_test_split(X, y, val_size=val_size, test_size=test_size)
    assert split.sizes == expected
    check_partition(split, n)


def test_default_fractions_are_15_percent():
    X, y = indexed(200)
    assert train_val_test_split(X, y).sizes == {"train": 140, "val": 30, "test": 30}


def test_parts_are_shuffled_not_slices():
    X, y = indexed(60)
    idx = index_parts(train_val_test_split(X, y, random_state=0))
    for p in PARTS:
        assert not np.all(np.diff(idx[p]) > 0), p  # not kept in input order
    # the test part is not simply the first block of the input
    assert set(idx["test"]) != set(range(len(idx["test"])))


# ---------------------------------------------------------------- seeding
def test_same_seed_same_split_other_seed_other_split():
    X, y = indexed(50)
    a = train_val_test_split(X, y, random_state=7)
    b = train_val_test_split(X, y, random_state=7)
    c = train_val_test_split(X, y, random_state=8)
    for name in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert not np.array_equal(a.y_train, c.y_train)
    assert set(a.y_test) != set(c.y_test)  # different samples, not only a different order


def test_global_numpy_state_is_neither_used_nor_changed():
    X, y = indexed(40)
    np.random.seed(0)
    state = np.random.get_state()[1].copy()
    a = train_val_test_split(X, y, random_state=3)
    np.testing.assert_array_equal(np.random.get_state()[1], state)
    np.random.seed(99)
    b = train_val_test_split(X, y, random_state=3)
    np.testing.assert_array_equal(a.y_train, b.y_train)


# ---------------------------------------------------------------- stratification
COUNTS = [40, 25, 13]  # deliberately unbalanced
FRACTIONS = {"train": 0.5, "val": 0.2, "test": 0.3}


def worst_class_deviation(split):
    """Largest |count of class c in part p - N_c * fraction_p| over classes and parts."""
    return max(abs(np.sum(getattr(split, f"y_{p}") == c) - n_c * f)
               for p, f in FRACTIONS.items() for c, n_c in enumerate(COUNTS))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stratify_keeps_class_shares_within_one_sample(seed):
    y = np.repeat(np.arange(3), COUNTS)
    X = np.arange(len(y))[:, None]
    split = train_val_test_split(X, y, val_size=0.2, test_size=0.3, random_state=seed,
                                 stratify=True)
    assert worst_class_deviation(split) <= 1
    # still a partition, still aligned
    everything = np.concatenate([split.X_train[:, 0], split.X_val[:, 0], split.X_test[:, 0]])
    np.testing.assert_array_equal(np.sort(everything), np.arange(len(y)))
    for p in PARTS:
        np.testing.assert_array_equal(getattr(split, f"y_{p}"), y[getattr(split, f"X_{p}")[:, 0]])
    # the check has power: an unstratified split with the same seed misses it
    plain = train_val_test_split(X, y, val_size=0.2, test_size=0.3, random_state=seed)
    assert worst_class_deviation(plain) > 1


def test_stratify_interleaves_classes_inside_each_part():
    y = np.repeat(np.arange(2), [30, 30])
    split = train_val_test_split(np.arange(60)[:, None], y, test_size=0.3, stratify=True)
    # classes were cut one after the other; the parts must not stay sorted by class
    assert not np.all(np.diff(split.y_train) >= 0)
    assert not np.all(np.diff(split.y_test) >= 0)


# ---------------------------------------------------------------- lists and extras
def test_list_inputs_stay_lists_aligned_with_y():
    docs = [f"doc {i}" for i in range(30)]
    y = list(range(30))
    split = train_val_test_split(docs, y, val_size=0.2, test_size=0.2, random_state=4)
    for p in PARTS:
        X_p, y_p = getattr(split, f"X_{p}"), getattr(split, f"y_{p}")
        assert isinstance(X_p, list)
        assert X_p == [f"doc {i}" for i in y_p]
    assert sorted(split.X_train + split.X_val + split.X_test) == sorted(docs)
    assert docs == [f"doc {i}" for i in range(30)]  # input unchanged


def test_inputs_are_not_modified():
    X, y = indexed(25)
    X_kept, y_kept = X.copy(), y.copy()
    train_val_test_split(X, y, stratify=False)
    train_val_test_split(X, y % 3, stratify=True)
    np.testing.assert_array_equal(X, X_kept)
    np.testing.assert_array_equal(y, y_kept)


def test_info_is_passed_to_the_split():
    X, y = indexed(10)
    split = train_val_test_split(X, y, feature_names=["i", "a", "b"], target_names=["t"],
                                 description="toy")
    assert split.feature_names == ["i", "a", "b"]
    assert split.target_names == ["t"]
    assert split.description == "toy"
    plain = train_val_test_split(X, y)
    assert plain.feature_names == [] and plain.target_names == [] and plain.description == ""


def test_multi_column_targets_stay_aligned():
    X, _ = indexed(20)
    Y = np.column_stack([np.arange(20), -np.arange(20)])  # (N, 2) targets
    split = train_val_test_split(X, Y, random_state=2)
    for p in PARTS:
        np.testing.assert_array_equal(getattr(split, f"y_{p}"), Y[index_parts(split)[p]])


# ---------------------------------------------------------------- Split container
def test_split_sizes_and_repr():
    split = Split(np.zeros((5, 4)), np.zeros(5), np.zeros((2, 4)), np.zeros(2), np.zeros((3, 4)),
                  np.zeros(3), description="toy")
    assert split.sizes == {"train": 5, "val": 2, "test": 3}
    assert repr(split) == "Split(toy: train=5, val=2, test=3, sample shape=(4,))"
    images = Split(np.zeros((6, 1, 8, 8)), np.zeros(6), np.zeros((0, 1, 8, 8)), np.zeros(0),
                   np.zeros((1, 1, 8, 8)), np.zeros(1))
    assert images.sizes == {"train": 6, "val": 0, "test": 1}
    assert repr(images) == "Split(data: train=6, val=0, test=1, sample shape=(1, 8, 8))"


def test_split_sizes_of_lists():
    split = Split(["a", "b"], np.zeros(2), ["c"], np.zeros(1), [], np.zeros(0))
    assert split.sizes == {"train": 2, "val": 1, "test": 0}
    assert repr(split) == "Split(data: train=2, val=1, test=0, sample shape=())"


# ---------------------------------------------------------------- properties
@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 80),
       val_size=st.floats(0, 0.49, allow_nan=False),
       test_size=st.floats(0, 0.49, allow_nan=False),
       seed=st.integers(0, 2**16), stratify=st.booleans(), n_classes=st.integers(1, 4))
@example(n=55, val_size=0.3, test_size=0.3, seed=0, stratify=False, n_classes=1)  # 16.5 -> 16 twice
def test_partition_and_size_properties(n, val_size, test_size, seed, stratify, n_classes):
    X = np.arange(n)[:, None]
    y = np.arange(n) % n_classes
    split = train_val_test_split(X, y, val_size=val_size, test_size=test_size,
                                 random_state=seed, stratify=stratify)
    everything = np.concatenate([split.X_train[:, 0], split.X_val[:, 0], split.X_test[:, 0]])
    np.testing.assert_array_equal(np.sort(everything), np.arange(n))
    for p in PARTS:
        np.testing.assert_array_equal(getattr(split, f"y_{p}"), y[getattr(split, f"X_{p}")[:, 0]])
    assert sum(split.sizes.values()) == n
    # each class's rounding is off by at most half a sample per part
    groups = n_classes if stratify else 1
    tol = 0.5 * groups + 1e-9  # plus float round-off in n * fraction
    assert abs(split.sizes["test"] - n * test_size) <= tol
    assert abs(split.sizes["val"] - n * val_size) <= tol
    # train takes what val and test leave, so both roundings add up in it
    assert abs(split.sizes["train"] - n * (1 - val_size - test_size)) <= 2 * tol
    if not stratify:
        assert split.sizes["test"] == round(n * test_size)
        assert split.sizes["val"] == round(n * val_size)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("X, y, kwargs, error, match", [
    (np.zeros((5, 2)), np.zeros(4), {}, ValueError,
     r"^train_val_test_split: arrays must have the same length; got X has 5, y has 4$"),
    (["a", "b"], [0, 1, 2], {}, ValueError, r"got X has 2, y has 3$"),
    (np.zeros((5, 2)), np.zeros(5), dict(val_size=-0.1), ValueError,
     r"^train_val_test_split: val_size must be finite and >= 0; got -0.1$"),
    (np.zeros((5, 2)), np.zeros(5), dict(test_size=float("nan")), ValueError,
     r"^train_val_test_split: test_size must be finite and >= 0; got nan$"),
    (np.zeros((5, 2)), np.zeros(5), dict(val_size=0.5, test_size=0.5), ValueError,
     r"^train_val_test_split: val_size \+ test_size must be < 1; got 1.0$"),
    (np.zeros((5, 2)), np.zeros(5), dict(test_size=1.2, val_size=0.0), ValueError,
     r"val_size \+ test_size must be < 1; got 1.2$"),
    (np.zeros((5, 2)), np.zeros(5), dict(test_size=True), TypeError,
     r"^train_val_test_split: test_size must be a number; got bool$"),
    (np.zeros((5, 2)), np.zeros(5), dict(val_size="0.1"), TypeError,
     r"^train_val_test_split: val_size must be a number; got str$"),
])
def test_bad_input(X, y, kwargs, error, match):
    with pytest.raises(error, match=match):
        train_val_test_split(X, y, **kwargs)
