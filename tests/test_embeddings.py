"""Tests for companion.embeddings: reproducible gensim training, and the evaluations written from
the formulas against gensim's own (evaluate_word_pairs, evaluate_word_analogies, most_similar) on
one tiny Word2Vec trained on the Lee corpus (module-scoped fixture), plus every bad-input message.

Tolerances: Spearman to 1e-12 (both rank the same cosines); cosines rtol=1e-5 (ours are float64,
gensim's float32: STYLE.md's float32 tolerance would also do).
"""
import numpy as np
import pytest
from gensim.test.utils import datapath
from gensim.utils import simple_preprocess

from companion import data
from companion import embedding_models as M
from companion import embeddings as E


@pytest.fixture(scope="module")
def sentences():
    return [simple_preprocess(doc) for doc in data.load_lee_corpus()]


@pytest.fixture(scope="module")
def kv(sentences):
    """A tiny skip-gram model: 3 epochs, 16 dimensions (about a second on one thread)."""
    return E.train_word2vec(sentences, sg=1, vector_size=16, epochs=3, seed=0).wv


def _total(sections):
    total = sections[-1]
    return len(total["correct"]), len(total["correct"]) + len(total["incorrect"])


# ---------------------------------------------------------------- agreement with gensim

def test_wordsim_spearman_equals_gensim(kv):
    ours = E.wordsim_spearman(kv)
    _, spearman, oov_percent = kv.evaluate_word_pairs(datapath("wordsim353.tsv"))
    assert abs(ours.spearman - spearman.statistic) <= 1e-12
    assert ours.n_total == 353
    assert 100 * (ours.n_total - ours.n_pairs) / ours.n_total == pytest.approx(oov_percent, abs=1e-12)


def test_wordsim_spearman_restrict_vocab_and_case(kv):
    ours = E.wordsim_spearman(kv, restrict_vocab=500)
    _, spearman, oov = kv.evaluate_word_pairs(datapath("wordsim353.tsv"), restrict_vocab=500)
    assert abs(ours.spearman - spearman.statistic) <= 1e-12
    pairs = data.load_wordsim353()
    upper = data.WordPairs([w.upper() for w in pairs.word1], pairs.word2, pairs.score)
    assert E.wordsim_spearman(kv, upper) == E.wordsim_spearman(kv)  # case-insensitive


def test_analogy_accuracy_equals_gensim(kv):
    ours = E.analogy_accuracy(kv)
    score, sections = kv.evaluate_word_analogies(datapath("questions-words.txt"))
    assert ours.accuracy == score
    assert (ours.n_correct, ours.n_total) == _total(sections)
    for s in sections[:-1]:
        got = ours.per_section[s["section"]]
        assert (got.n_correct, got.n_total) == (len(s["correct"]), len(s["correct"]) + len(s["incorrect"]))


def test_analogy_accuracy_restricted_vocab_equals_gensim(kv):
    ours = E.analogy_accuracy(kv, restrict_vocab=1000)
    score, sections = kv.evaluate_word_analogies(datapath("questions-words.txt"), restrict_vocab=1000)
    assert ours.accuracy == score and (ours.n_correct, ours.n_total) == _total(sections)


def test_analogy_accuracy_on_a_solvable_toy_set():
    # hand-made vectors where b - a + c lands exactly on d
    words = ["man", "woman", "king", "queen", "apple"]
    vectors = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 1], [0, 1, 1], [1, 1, 1]], dtype=float)
    kv = E.to_keyed_vectors(words, vectors)
    res = E.analogy_accuracy(kv, {"royal": [("man", "king", "woman", "queen"),
                                            ("man", "woman", "king", "queen"),
                                            ("man", "unknown", "king", "queen")]})
    assert (res.accuracy, res.n_correct, res.n_total) == (1.0, 2, 2)
    assert E.analogy(kv, "man", "king", "woman")[0][0] == "queen"
    assert E.analogy_accuracy(kv, {"none": [("a", "b", "c", "d")]}).accuracy == 0.0


@pytest.mark.parametrize("word", ["police", "fire", "australia", "said"])
def test_nearest_neighbours_equals_most_similar(kv, word):
    ours = E.nearest_neighbours(kv, word, k=7)
    ref = kv.most_similar(word, topn=7)
    assert [w for w, _ in ours] == [w for w, _ in ref]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in ref], rtol=1e-5)


@pytest.mark.parametrize("a, b, c", [("man", "king", "woman"), ("australia", "sydney", "afghanistan"),
                                     ("good", "better", "bad")])
def test_analogy_equals_most_similar(kv, a, b, c):
    ours = E.analogy(kv, a, b, c, k=5)
    ref = kv.most_similar(positive=[b, c], negative=[a], topn=5)
    assert [w for w, _ in ours] == [w for w, _ in ref]
    np.testing.assert_allclose([s for _, s in ours], [s for _, s in ref], rtol=1e-5)


def test_wordsim_spearman_constant_scores_give_nan_without_warning(kv):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = E.wordsim_spearman(kv, (["fire", "police"], ["police", "said"], [5.0, 5.0]))
    assert np.isnan(res.spearman) and res.n_pairs == 2


def test_to_keyed_vectors_round_trip_and_input_unchanged():
    rng = np.random.default_rng(0)
    V = rng.normal(size=(4, 3))
    before = V.copy()
    kv = E.to_keyed_vectors(["a", "b", "c", "d"], V)
    assert kv.index_to_key == ["a", "b", "c", "d"] and kv.vectors.dtype == np.float32
    np.testing.assert_allclose(kv["c"], V[2].astype(np.float32))
    np.testing.assert_array_equal(V, before)
    assert kv.most_similar("a", topn=3) == [(w, pytest.approx(s, rel=1e-5))
                                           for w, s in E.nearest_neighbours(kv, "a", k=3)]


# ---------------------------------------------------------------- training helpers

def test_train_word2vec_is_reproducible_and_one_worker(sentences):
    small = sentences[:60]
    a = E.train_word2vec(small, vector_size=8, epochs=2, seed=3)
    b = E.train_word2vec(small, vector_size=8, epochs=2, seed=3)
    c = E.train_word2vec(small, vector_size=8, epochs=2, seed=4)
    assert a.workers == 1 and a.sg == 0
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)
    assert not np.array_equal(a.wv.vectors, c.wv.vectors)


def test_train_fasttext_is_reproducible_and_covers_unknown_words(sentences):
    small = sentences[:60]
    a = E.train_fasttext(small, vector_size=8, epochs=1, bucket=2000, seed=0)
    b = E.train_fasttext(small, vector_size=8, epochs=1, bucket=2000, seed=0)
    assert a.workers == 1 and a.sg == 1 and a.wv.bucket == 2000
    np.testing.assert_array_equal(a.wv.vectors, b.wv.vectors)
    assert "policemann" not in a.wv.key_to_index
    assert a.wv["policemann"].shape == (8,)  # from its character n-grams


def test_reexports_from_embedding_models():
    for name in M.__all__:
        assert getattr(E, name) is getattr(M, name)
        assert name in E.__all__


# ---------------------------------------------------------------- bad input

def test_training_messages(sentences):
    with pytest.raises(TypeError, match=r"train_word2vec: sentences must be a list of token lists"):
        E.train_word2vec("a string")
    with pytest.raises(TypeError, match=r"sentence 0 is str 'the cat' \(tokenize it first\)"):
        E.train_word2vec(["the cat"])
    with pytest.raises(ValueError, match="train_word2vec: sentences must hold at least one token; got 0 sentences"):
        E.train_word2vec([])
    with pytest.raises(ValueError, match="train_fasttext: sentences must hold at least one token; got 2 sentences, "
                                         "all empty"):
        E.train_fasttext([[], []])
    with pytest.raises(ValueError, match=r"train_word2vec: sg must be 0 \(CBOW\) or 1 \(skip-gram\); got 2"):
        E.train_word2vec(sentences[:2], sg=2)
    with pytest.raises(ValueError, match="train_fasttext: vector_size must be an integer >= 1; got 0"):
        E.train_fasttext(sentences[:2], vector_size=0)
    with pytest.raises(ValueError, match="train_fasttext: bucket must be an integer >= 1; got 0"):
        E.train_fasttext(sentences[:2], bucket=0)


def test_to_keyed_vectors_messages():
    with pytest.raises(ValueError, match=r"to_keyed_vectors: vectors must have one row per word: 2 words; "
                                         r"got shape \(3, 2\)"):
        E.to_keyed_vectors(["a", "b"], np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"to_keyed_vectors: vectors must have 2 dimensions \(V, D\)"):
        E.to_keyed_vectors(["a"], np.zeros(3))
    with pytest.raises(ValueError, match="to_keyed_vectors: words must be unique; 'a' appears more than once"):
        E.to_keyed_vectors(["a", "a"], np.zeros((2, 2)))
    with pytest.raises(TypeError, match="to_keyed_vectors: words must be a list of str"):
        E.to_keyed_vectors([1, 2], np.zeros((2, 2)))


def test_evaluation_messages(kv):
    with pytest.raises(TypeError, match="wordsim_spearman: keyed_vectors must be a gensim KeyedVectors"):
        E.wordsim_spearman(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="wordsim_spearman: pairs must be .* of equal lengths; got 1, 2, 2"):
        E.wordsim_spearman(kv, (["a"], ["b", "c"], [1.0, 2.0]))
    with pytest.raises(ValueError, match="wordsim_spearman: a correlation needs at least 2 pairs with both words "
                                         "in the vocabulary; got 1 of 2 pairs"):
        E.wordsim_spearman(kv, (["zzzz", "fire"], ["police", "police"], [1.0, 2.0]))
    with pytest.raises(TypeError, match="analogy_accuracy: sections must be a dict section"):
        E.analogy_accuracy(kv, [("a", "b", "c", "d")])
    with pytest.raises(ValueError, match="analogy_accuracy: restrict_vocab must be an integer >= 1; got 0"):
        E.analogy_accuracy(kv, restrict_vocab=0)
    with pytest.raises(KeyError, match="nearest_neighbours: word 'zzzz' is not in the vocabulary"):
        E.nearest_neighbours(kv, "zzzz")
    with pytest.raises(ValueError, match="nearest_neighbours: k must be an integer >= 1; got 0"):
        E.nearest_neighbours(kv, "police", k=0)
    with pytest.raises(KeyError, match="analogy: word 'Police' is not in the vocabulary"):
        E.analogy(kv, "man", "Police", "woman")
