"""Every real data set of the course, loaded offline with a deterministic split.

Nothing here opens a network connection: each set is bundled inside an installed package
(scikit-learn, scikit-image, gensim, networkx) or generated locally (MNIST-1D). Each packaged
file is checked against the size and SHA-256 recorded in :data:`PACKAGED_FILES` before it is
read, so a corrupted or unexpected file fails loudly, naming the file and the fix, instead of
silently giving other numbers. Synthetic sets live in :mod:`companion.synthetic`.

Supervised loaders return a :class:`~companion.splits.Split` (float32 inputs; int64 class
labels or float32 regression targets) cut with ``random_state``; the same seed always gives
the same split.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .splits import Split, train_val_test_split

__all__ = [
    "PACKAGED_FILES", "MissingDependencyError", "DataIntegrityError", "packaged_file",
    "TABULAR", "load_tabular", "load_mnist1d", "load_lee_corpus", "load_polarity",
    "load_wordsim353", "load_analogies", "IMAGES", "load_image", "load_faces",
    "load_karate_club", "WordPairs", "Graph",
]

#: (package, path inside it) -> (size in bytes, SHA-256), for the pinned package versions.
PACKAGED_FILES: dict[tuple[str, str], tuple[int, str]] = {
    ("gensim", "test/test_data/lee_background.cor"): (360082, "5d78d6dafd953bbf65797bef09a9ffb9ec430583381be705f8fd460000f370fb"),
    ("gensim", "test/test_data/lee.cor"): (24658, "a878f9a58f6743c32985c56c2f2f75988386216b38a4023a01fd3bcf7884d93e"),
    ("gensim", "test/test_data/pang_lee_polarity.cor"): (26105, "662c1b7c3bd0612eaaaf3f0c694cbd3897e30c0d87d2940b46c9fd0d15ed70c1"),
    ("gensim", "test/test_data/wordsim353.tsv"): (7186, "f92a022fc2537793a15bc3a8c162ebcd74990e033a228bb6388cb71e4c0b1e1d"),
    ("gensim", "test/test_data/questions-words.txt"): (603955, "8c29b3332afc46f3fb8be04cb5297bf96f39aa7131272dff57869b4485b22a36"),
    ("skimage", "data/camera.png"): (139512, "b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a"),
    ("skimage", "data/astronaut.png"): (791555, "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5"),
    ("skimage", "data/coffee.png"): (466706, "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7"),
    ("skimage", "data/chelsea.png"): (240512, "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb"),
    ("skimage", "data/coins.png"): (75825, "f8d773fc9cfa6f4d8e5942dc34d0a0788fcaed2a4fefbbed0aef5398d7ef4cba"),
    ("skimage", "data/lfw_subset.npy"): (1000080, "9560ec2f5edfac01973f63a8a99d00053fecd11e21877e18038fbe500f8e872c"),
    ("sklearn", "datasets/data/digits.csv.gz"): (57523, "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"),
    ("sklearn", "datasets/data/breast_cancer.csv"): (119913, "fed3eb72d0575ef6192293f5093c6e801b1476b577d0386bf4455504522172ed"),
    ("sklearn", "datasets/data/wine_data.csv"): (11157, "10e8a802908b34f86e5da8ce962f3c806694bc98450a18f61851af59f324bede"),
    ("sklearn", "datasets/data/iris.csv"): (2734, "f13ffa8fdd56fd8e6c8d16d4081a3fbd3114bcd0aae4256c43205169cd9d1449"),
    ("sklearn", "datasets/data/diabetes_data_raw.csv.gz"): (7073, "7fc0ded571454b1982210d3bb43f0aca44eae01a0b8654a3b24022bdb6b38009"),
    ("sklearn", "datasets/data/diabetes_target.csv.gz"): (1050, "8e53f65eb811df43c206f3534bb3af0e5fed213bc37ed6ba36310157d6023803"),
    ("sklearn", "datasets/images/china.jpg"): (196653, "8378025ad2519d649d02e32bd98990db4ab572357d9f09841c2fbfbb4fefad29"),
    ("sklearn", "datasets/images/flower.jpg"): (142987, "a77f6ec41e353afdf8bdff2ea981b2955535d8d83294f8cfa49cf4e423dd5638"),
}
_PIP_NAMES = {"sklearn": "scikit-learn", "skimage": "scikit-image"}


class MissingDependencyError(ImportError):
    """An optional package that a loader needs is not installed."""


class DataIntegrityError(OSError):
    """A bundled data file is missing, or differs from the recorded size and checksum."""


def _require(package: str, needed_by: str):
    """Import ``package`` or raise :class:`MissingDependencyError` saying how to install it."""
    try:
        return importlib.import_module(package)
    except ImportError as err:
        pip_name = _PIP_NAMES.get(package, package)
        raise MissingDependencyError(
            f"{needed_by} needs the package '{pip_name}', which is not installed; install it with "
            f"`pip install -c constraints.txt {pip_name}` (or run `make install`)") from err


def packaged_file(package: str, relpath: str, needed_by: str = "companion.data") -> Path:
    """Path of a data file inside an installed package, after checking its size and SHA-256.

    Raises:
        MissingDependencyError: the package is not installed.
        DataIntegrityError: the file is missing or its size or checksum is not the recorded one.
        KeyError: the file is not in :data:`PACKAGED_FILES` (a course bug, not a user error).
    """
    size, sha256 = PACKAGED_FILES[(package, relpath)]
    _require(package, needed_by)
    path = Path(importlib.util.find_spec(package).origin).parent / relpath
    _verify(path, size, sha256, _PIP_NAMES.get(package, package))
    return path


@lru_cache(maxsize=None)
def _verify(path: Path, size: int, sha256: str, pip_name: str) -> None:
    fix = (f"reinstall the pinned version: `pip install --force-reinstall --no-deps "
           f"-c constraints.txt {pip_name}`")
    if not path.is_file():
        raise DataIntegrityError(f"data file {path} is missing from the installed {pip_name}; {fix}")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if len(data) != size or digest != sha256:
        raise DataIntegrityError(
            f"data file {path} is corrupted or from another {pip_name} version: expected "
            f"{size} bytes with sha256 {sha256[:12]}…, got {len(data)} bytes with sha256 "
            f"{digest[:12]}…; {fix}")


# --- tabular (scikit-learn) ----------------------------------------------------------------

#: name -> (scikit-learn loader, the bundled files it reads, task)
TABULAR = {
    "digits": ("load_digits", ("digits.csv.gz",), "classification"),
    "breast_cancer": ("load_breast_cancer", ("breast_cancer.csv",), "classification"),
    "wine": ("load_wine", ("wine_data.csv",), "classification"),
    "iris": ("load_iris", ("iris.csv",), "classification"),
    "diabetes": ("load_diabetes", ("diabetes_data_raw.csv.gz", "diabetes_target.csv.gz"), "regression"),
}


def load_tabular(name: str, *, val_size: float = 0.15, test_size: float = 0.15,
                 random_state: int = 0) -> Split:
    """One of scikit-learn's bundled tables: digits, breast_cancer, wine, iris or diabetes.

    Returns a Split with X (N, D) float32 as stored (no scaling: that is a lesson of its own;
    digits' pixels are 0..16), y (N,) int64 classes (stratified split) or float32 targets
    (diabetes), ``feature_names`` and, for classification, ``target_names``.
    """
    if name not in TABULAR:
        raise ValueError(f"load_tabular: name must be one of {', '.join(TABULAR)}; got {name!r}")
    loader_name, files, task = TABULAR[name]
    for f in files:
        packaged_file("sklearn", f"datasets/data/{f}", needed_by=f"load_tabular({name!r})")
    datasets = _require("sklearn.datasets", f"load_tabular({name!r})")
    bunch = getattr(datasets, loader_name)()
    classify = task == "classification"
    y = bunch.target.astype(np.int64 if classify else np.float32)
    names = [str(t) for t in bunch.target_names] if classify else []
    return train_val_test_split(
        bunch.data.astype(np.float32), y, val_size=val_size, test_size=test_size,
        random_state=random_state, stratify=classify, feature_names=list(map(str, bunch.feature_names)),
        target_names=names, description=f"scikit-learn {name}")


# --- MNIST-1D (generated) -----------------------------------------------------------------

@lru_cache(maxsize=4)
def _mnist1d_arrays(shuffle_seq: bool, num_samples: int):
    mnist1d_data = _require("mnist1d.data", "load_mnist1d")
    args = mnist1d_data.get_dataset_args()  # the paper's settings, seed 42
    args.shuffle_seq, args.num_samples = shuffle_seq, num_samples
    # make_dataset builds the set locally; get_dataset would try to download it
    d = mnist1d_data.make_dataset(args)
    return (d["x"].astype(np.float32), d["y"].astype(np.int64),
            d["x_test"].astype(np.float32), d["y_test"].astype(np.int64))


def load_mnist1d(*, shuffle_seq: bool = False, num_samples: int = 5000, val_size: float = 0.1,
                 random_state: int = 0) -> Split:
    """MNIST-1D (Greydanus 2020), generated locally with the paper's settings.

    Ten 1-D digit templates, padded, scaled, sheared, shifted and noised into sequences of
    length 40. The generator's own 80/20 train/test cut is kept (so the test set is the
    paper's); ``val_size`` of the training part becomes validation, chosen by ``random_state``.
    ``shuffle_seq=True`` applies one fixed permutation to the time axis of every example: the
    paper's test of spatial inductive bias.

    Returns a Split: X (N, 40) float32, y (N,) int64 in 0..9.
    """
    if not 100 <= num_samples <= 100_000:
        raise ValueError(f"load_mnist1d: num_samples must be in [100, 100000]; got {num_samples}")
    x, y, x_test, y_test = _mnist1d_arrays(bool(shuffle_seq), int(num_samples))
    part = train_val_test_split(x, y, val_size=val_size, test_size=0.0, random_state=random_state,
                                stratify=True)
    kind = "shuffled " if shuffle_seq else ""
    return Split(part.X_train, part.y_train, part.X_val, part.y_val, x_test.copy(), y_test.copy(),
                 feature_names=[f"t{i}" for i in range(x.shape[1])],
                 target_names=[str(i) for i in range(10)], description=f"{kind}MNIST-1D")


# --- text (files shipped in the gensim wheel) ---------------------------------------------

def _gensim_lines(filename: str, needed_by: str, encoding: str = "utf-8") -> list[str]:
    path = packaged_file("gensim", f"test/test_data/{filename}", needed_by=needed_by)
    return path.read_text(encoding=encoding).splitlines()


def load_lee_corpus(which: str = "background") -> list[str]:
    """The Lee news corpus from gensim's test data, one string per document.

    ``which="background"``: the 300 documents of ``lee_background.cor``; ``"test"``: the 50 of
    ``lee.cor`` (the set whose pairwise similarity people rated).
    """
    files = {"background": "lee_background.cor", "test": "lee.cor"}
    if which not in files:
        raise ValueError(f"load_lee_corpus: which must be 'background' or 'test'; got {which!r}")
    # lee.cor is Windows-1252 encoded (the pound sign is byte 0xA3), not UTF-8
    lines = _gensim_lines(files[which], "load_lee_corpus", encoding="cp1252")
    return [line.strip() for line in lines if line.strip()]


def load_polarity(*, val_size: float = 0.15, test_size: float = 0.3, random_state: int = 0) -> Split:
    """Movie-review sentences labelled negative (0) or positive (1): 200 from Pang & Lee.

    X parts are lists of lower-cased, pre-tokenised sentences; y (N,) int64; stratified split.
    """
    texts, labels = [], []
    # Windows-1252 encoded: accents and the em dash (byte 0x97) are not UTF-8
    for line in _gensim_lines("pang_lee_polarity.cor", "load_polarity", encoding="cp1252"):
        label, _, text = line.strip().partition(" ")
        texts.append(text)
        labels.append({"__label__neg": 0, "__label__pos": 1}[label])
    return train_val_test_split(texts, np.array(labels, dtype=np.int64), val_size=val_size,
                                test_size=test_size, random_state=random_state, stratify=True,
                                target_names=["negative", "positive"],
                                description="Pang & Lee movie-review polarity (gensim sample)")


class WordPairs(NamedTuple):
    """Word pairs with a human similarity score (WordSim-353: 0 unrelated .. 10 same)."""

    word1: list[str]
    word2: list[str]
    score: np.ndarray


def load_wordsim353() -> WordPairs:
    """WordSim-353 as shipped by gensim: 353 word pairs and their mean human rating."""
    w1, w2, scores = [], [], []
    for line in _gensim_lines("wordsim353.tsv", "load_wordsim353"):
        if line.startswith("#") or not line.strip():
            continue
        a, b, s = line.split("\t")
        w1.append(a)
        w2.append(b)
        scores.append(float(s))
    return WordPairs(w1, w2, np.array(scores))


def load_analogies() -> dict[str, list[tuple[str, str, str, str]]]:
    """Mikolov's analogy questions ``a : b :: c : d`` grouped by section (``capital-common-countries``…)."""
    sections: dict[str, list[tuple[str, str, str, str]]] = {}
    current = None
    for line in _gensim_lines("questions-words.txt", "load_analogies"):
        if line.startswith(":"):
            current = line[1:].strip()
            sections[current] = []
        elif line.strip():
            sections[current].append(tuple(line.split()))
    return sections


# --- images ----------------------------------------------------------------------------------

#: name -> (package, path inside it)
IMAGES = {
    "camera": ("skimage", "data/camera.png"), "astronaut": ("skimage", "data/astronaut.png"),
    "coffee": ("skimage", "data/coffee.png"), "chelsea": ("skimage", "data/chelsea.png"),
    "coins": ("skimage", "data/coins.png"), "china": ("sklearn", "datasets/images/china.jpg"),
    "flower": ("sklearn", "datasets/images/flower.jpg"),
}


def load_image(name: str) -> np.ndarray:
    """A bundled photograph as uint8: (H, W) for grey images, (H, W, 3) for colour ones."""
    if name not in IMAGES:
        raise ValueError(f"load_image: name must be one of {', '.join(IMAGES)}; got {name!r}")
    path = packaged_file(*IMAGES[name], needed_by=f"load_image({name!r})")
    pil = _require("PIL.Image", "load_image")
    with pil.open(path) as img:
        grey = img.mode in ("1", "L", "I;16")
        return np.asarray(img.convert("L" if grey else "RGB"), dtype=np.uint8)


def load_faces(*, val_size: float = 0.15, test_size: float = 0.25, random_state: int = 0) -> Split:
    """Faces vs non-faces: scikit-image's 200-image LFW subset, 25x25 grey.

    Returns a Split with X (N, 25, 25) float32 in [0, 1] and y (N,) int64: 1 face, 0 non-face.
    """
    path = packaged_file("skimage", "data/lfw_subset.npy", needed_by="load_faces")
    images = np.load(path).astype(np.float32)
    labels = np.repeat(np.array([1, 0], dtype=np.int64), len(images) // 2)  # first half faces
    return train_val_test_split(images, labels, val_size=val_size, test_size=test_size,
                                random_state=random_state, stratify=True,
                                target_names=["non-face", "face"],
                                description="LFW subset: faces vs non-faces")


# --- graphs ----------------------------------------------------------------------------------

class Graph(NamedTuple):
    """A small labelled graph: adjacency (V, V) float32, edges (E, 2) int64, labels (V,) int64."""

    adjacency: np.ndarray
    edges: np.ndarray
    labels: np.ndarray
    label_names: list[str]


def load_karate_club() -> Graph:
    """Zachary's karate club (34 members, 78 friendships) from networkx; labels: the club each
    member joined after the split (0 "Mr. Hi", 1 "Officer")."""
    nx = _require("networkx", "load_karate_club")
    g = nx.karate_club_graph()
    names = ["Mr. Hi", "Officer"]
    labels = np.array([names.index(g.nodes[v]["club"]) for v in g.nodes], dtype=np.int64)
    edges = np.array(sorted(g.edges()), dtype=np.int64)
    adjacency = np.zeros((g.number_of_nodes(),) * 2, dtype=np.float32)
    adjacency[edges[:, 0], edges[:, 1]] = adjacency[edges[:, 1], edges[:, 0]] = 1.0
    return Graph(adjacency, edges, labels, names)
