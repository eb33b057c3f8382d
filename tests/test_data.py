"""companion.data: every real data set loads offline, with the right shapes and a seeded split."""
import socket
import sys

import numpy as np
import pytest
from pytest_socket import disable_socket, enable_socket

from companion import data


@pytest.mark.parametrize("name, n, d, n_classes", [
    ("digits", 1797, 64, 10), ("breast_cancer", 569, 30, 2), ("wine", 178, 13, 3),
    ("iris", 150, 4, 3), ("diabetes", 442, 10, 0)])
def test_tabular_shapes_dtypes_and_classes(name, n, d, n_classes):
    s = data.load_tabular(name)
    assert sum(s.sizes.values()) == n
    assert s.X_train.shape[1:] == (d,) and s.X_train.dtype == np.float32
    assert len(s.feature_names) == d
    if n_classes:
        assert s.y_train.dtype == np.int64 and len(s.target_names) == n_classes
        assert set(np.unique(s.y_test)) == set(range(n_classes))  # stratified: every class in test
    else:
        assert s.y_train.dtype == np.float32 and s.target_names == []


def test_tabular_matches_scikit_learn_rows():
    from sklearn.datasets import load_iris

    s, ref = data.load_tabular("iris"), load_iris()
    X = np.concatenate([s.X_train, s.X_val, s.X_test])
    y = np.concatenate([s.y_train, s.y_val, s.y_test])
    # same multiset of rows: sort both by all columns
    order = np.lexsort(np.c_[X, y].T)
    ref_order = np.lexsort(np.c_[ref.data, ref.target].T)
    np.testing.assert_allclose(X[order], ref.data[ref_order].astype(np.float32))
    np.testing.assert_array_equal(y[order], ref.target[ref_order])


def test_split_is_deterministic_and_seeded():
    a, b, c = (data.load_tabular("wine", random_state=s) for s in (0, 0, 1))
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert not np.array_equal(a.X_train, c.X_train)


def test_unknown_tabular_name():
    with pytest.raises(ValueError, match=r"load_tabular: name must be one of digits, .*; got 'mnist'"):
        data.load_tabular("mnist")


def test_mnist1d_paper_split_and_shuffled_variant():
    s = data.load_mnist1d()
    assert (len(s.X_train) + len(s.X_val), len(s.X_test)) == (4000, 1000)
    assert s.X_train.shape[1:] == (40,) and s.X_train.dtype == np.float32
    assert set(np.unique(s.y_test)) == set(range(10))
    shuffled = data.load_mnist1d(shuffle_seq=True)
    np.testing.assert_array_equal(shuffled.y_test, s.y_test)
    # one fixed permutation of time: each test sequence has the same values, reordered
    np.testing.assert_allclose(np.sort(shuffled.X_test, axis=1), np.sort(s.X_test, axis=1), rtol=1e-6)
    assert not np.allclose(shuffled.X_test, s.X_test)


def test_mnist1d_bad_size():
    with pytest.raises(ValueError, match=r"num_samples must be in \[100, 100000\]; got 10"):
        data.load_mnist1d(num_samples=10)


def test_text_sets():
    assert len(data.load_lee_corpus()) == 300 and len(data.load_lee_corpus("test")) == 50
    assert any("£" in doc for doc in data.load_lee_corpus("test"))  # decoded as Windows-1252
    pol = data.load_polarity()
    assert sum(pol.sizes.values()) == 200 and isinstance(pol.X_train, list)
    assert np.bincount(np.concatenate([pol.y_train, pol.y_val, pol.y_test])).tolist() == [100, 100]
    ws = data.load_wordsim353()
    assert len(ws.word1) == len(ws.word2) == len(ws.score) == 353
    assert ws.score.min() >= 0 and ws.score.max() <= 10
    analogies = data.load_analogies()
    assert "capital-common-countries" in analogies
    assert all(len(q) == 4 for qs in analogies.values() for q in qs)
    with pytest.raises(ValueError, match="which must be 'background' or 'test'; got 'train'"):
        data.load_lee_corpus("train")


@pytest.mark.parametrize("name", sorted(data.IMAGES))
def test_images(name):
    img = data.load_image(name)
    assert img.dtype == np.uint8 and img.ndim in (2, 3) and min(img.shape[:2]) >= 256
    if img.ndim == 3:
        assert img.shape[2] == 3


def test_image_errors_and_faces():
    with pytest.raises(ValueError, match="load_image: name must be one of camera"):
        data.load_image("lena")
    faces = data.load_faces()
    assert faces.X_train.shape[1:] == (25, 25) and faces.X_train.dtype == np.float32
    assert 0 <= faces.X_train.min() and faces.X_train.max() <= 1
    assert faces.target_names == ["non-face", "face"]


def test_karate_club():
    g = data.load_karate_club()
    assert g.adjacency.shape == (34, 34) and len(g.edges) == 78
    np.testing.assert_array_equal(g.adjacency, g.adjacency.T)
    assert g.adjacency.sum() == 2 * 78 and np.bincount(g.labels).tolist() == [17, 17]


def test_corrupted_file_is_refused(monkeypatch):
    key = ("gensim", "test/test_data/wordsim353.tsv")
    size, _ = data.PACKAGED_FILES[key]
    monkeypatch.setitem(data.PACKAGED_FILES, key, (size, "0" * 64))
    with pytest.raises(data.DataIntegrityError,
                       match=r"wordsim353.tsv is corrupted or from another gensim version.*"
                             r"pip install --force-reinstall --no-deps -c constraints.txt gensim"):
        data.load_wordsim353()


def test_missing_file_is_named(monkeypatch):
    key = ("skimage", "data/no_such_image.png")
    monkeypatch.setitem(data.PACKAGED_FILES, key, (1, "0" * 64))
    monkeypatch.setitem(data.IMAGES, "ghost", key)
    with pytest.raises(data.DataIntegrityError, match=r"no_such_image.png is missing from the installed scikit-image"):
        data.load_image("ghost")


def test_missing_package_names_it_and_the_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, "networkx", None)  # makes `import networkx` fail
    with pytest.raises(data.MissingDependencyError,
                       match=r"load_karate_club needs the package 'networkx'.*pip install"):
        data.load_karate_club()


def test_loaders_open_no_network_connection():
    """Every loader runs with sockets disabled (caches cleared, so files are really re-read)."""
    data._verify.cache_clear()
    data._mnist1d_arrays.cache_clear()
    disable_socket()
    try:
        # the guard itself works (pytest-socket also warns when it blocks a call)
        with pytest.raises(Exception, match="socket"), pytest.warns(UserWarning, match="socket"):
            socket.create_connection(("127.0.0.1", 9))
        for name in data.TABULAR:
            data.load_tabular(name)
        data.load_mnist1d(num_samples=200)
        data.load_lee_corpus(), data.load_polarity(), data.load_wordsim353(), data.load_analogies()
        for name in data.IMAGES:
            data.load_image(name)
        data.load_faces(), data.load_karate_club()
    finally:
        enable_socket()
