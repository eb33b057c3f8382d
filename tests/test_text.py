"""Tests for companion.text: TF-IDF against scikit-learn's TfidfVectorizer over the whole settings
grid and over hypothesis-generated corpora, bag of words against CountVectorizer, cosine
similarity against sklearn (dense, sparse, zero rows), one-hot against torch, the vocabulary's
order and round trip, search, and every validation message.

Tolerances: TF-IDF and cosine values must agree with scikit-learn to atol=1e-12 (rtol=0): both
compute the same float64 formula; counts and one-hot vectors must be exactly equal.
"""
import functools
import itertools
import re

import numpy as np
import pytest
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer as SkTfidf
from sklearn.metrics.pairwise import cosine_similarity as sk_cosine

from companion import text as T
from companion import text_augment

TOL = dict(rtol=0, atol=1e-12)


@pytest.fixture(scope="module")
def lee():
    from companion import data

    docs = data.load_lee_corpus("background")
    return docs[:40], data.load_lee_corpus("test")[:10]


def sklearn_tfidf(**kwargs):
    return SkTfidf(tokenizer=T.tokenize, token_pattern=None, lowercase=False, **kwargs)


def assert_same_tfidf(ours, ref, fit_docs, new_docs):
    """Same vocabulary, idf, feature names and matrices (on the fit docs and on new docs)."""
    X, X_ref = ours.fit_transform(fit_docs), ref.fit_transform(fit_docs)
    assert ours.vocabulary_ == {t: int(j) for t, j in ref.vocabulary_.items()}
    assert list(ours.get_feature_names_out()) == list(ref.get_feature_names_out())
    if ref.use_idf:
        np.testing.assert_allclose(ours.idf_, ref.idf_, **TOL)
    for A, B in ((X, X_ref), (ours.transform(new_docs), ref.transform(new_docs))):
        assert sp.isspmatrix_csr(A) and A.dtype == np.float64 and A.shape == B.shape
        np.testing.assert_allclose(A.toarray(), B.toarray(), **TOL)


# ================================================================ tokenize

def test_tokenize_words_numbers_and_internal_apostrophes():
    text = "Don't panic: the U.S. won 3-1 in 1990, 'quoted' rock'n'roll_fans!"
    assert T.tokenize(text) == ["don't", "panic", "the", "u", "s", "won", "3", "1", "in", "1990",
                                "quoted", "rock'n'roll", "fans"]
    assert T.tokenize("The Cat", lowercase=False) == ["The", "Cat"]
    assert T.tokenize("Café naïve") == ["café", "naïve"]
    assert T.tokenize("") == []


def test_tokenize_custom_pattern_str_or_compiled():
    assert T.tokenize("a-b c", pattern=r"\S+") == ["a-b", "c"]
    assert T.tokenize("a-b c", pattern=re.compile(r"[a-z]")) == ["a", "b", "c"]


def test_tokenize_bad_input():
    with pytest.raises(TypeError, match="tokenize: text must be str; got list"):
        T.tokenize(["a b"])
    with pytest.raises(TypeError, match="tokenize: pattern must be a str or compiled regex; got int"):
        T.tokenize("a", pattern=3)


# ================================================================ Vocabulary

CORPUS = [["the", "cat", "sat"], ["the", "dog", "sat"], ["a", "cat"], ["the", "end"]]


def test_vocabulary_order_specials_counts_and_unknown():
    v = T.Vocabulary.build(CORPUS)
    # specials, then decreasing count (the 3, cat 2, sat 2), ties alphabetical
    assert v.itos == ["<pad>", "<unk>", "the", "cat", "sat", "a", "dog", "end"]
    assert v.stoi == {t: i for i, t in enumerate(v.itos)} and len(v) == 8
    assert (v.pad_index, v.unk_index) == (0, 1)
    assert v["cat"] == 3 and v["zebra"] == 1 and "cat" in v and "zebra" not in v
    assert v.counts == {"the": 3, "cat": 2, "sat": 2, "a": 1, "dog": 1, "end": 1}
    assert v.encode(["the", "zebra"]) == [2, 1] and v.decode([2, 1]) == ["the", "<unk>"]


def test_vocabulary_min_freq_max_size_and_custom_specials():
    v = T.Vocabulary.build(CORPUS, min_freq=2)
    assert v.itos == ["<pad>", "<unk>", "the", "cat", "sat"]
    assert v.counts["dog"] == 1  # counts are taken before the cut-off
    assert T.Vocabulary.build(CORPUS, max_size=2).itos == ["<pad>", "<unk>", "the", "cat"]
    assert T.Vocabulary.build(CORPUS, max_size=0).itos == ["<pad>", "<unk>"]
    v = T.Vocabulary.build(CORPUS, specials=("<unk>",))
    assert v.unk_index == 0 and v.pad_index is None and v["zebra"] == 0
    v = T.Vocabulary.build(CORPUS + [["<unk>"]], specials=["<unk>"])  # a special is never repeated
    assert v.itos.count("<unk>") == 1


def test_vocabulary_coverage():
    v = T.Vocabulary.build(CORPUS, min_freq=2)
    assert v.coverage(CORPUS) == pytest.approx(7 / 10)  # the x3, cat x2, sat x2 of 10 tokens
    assert v.coverage([["the", "zebra"]]) == 0.5


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from(list("abcdefgh")), max_size=8), min_size=1, max_size=6),
       st.integers(1, 3))
def test_vocabulary_encode_decode_round_trip(token_lists, min_freq):
    before = [list(t) for t in token_lists]
    v = T.Vocabulary.build(token_lists, min_freq=min_freq)
    assert token_lists == before  # the input is not modified
    for tokens in token_lists:
        decoded = v.decode(v.encode(tokens))
        assert decoded == [t if v.counts[t] >= min_freq else "<unk>" for t in tokens]
    counts = [v.counts[t] for t in v.itos[2:]]
    assert counts == sorted(counts, reverse=True)  # decreasing count


def test_vocabulary_bad_input():
    with pytest.raises(TypeError, match=r"Vocabulary.build: token_lists must be a list of token lists"):
        T.Vocabulary.build("the cat")
    with pytest.raises(TypeError, match=r"Vocabulary.build: token_lists\[0\] must be a list of str tokens .*; got str"):
        T.Vocabulary.build(["the", "cat"])
    with pytest.raises(TypeError, match=r"Vocabulary.build: token_lists\[0\] items must be str; got int"):
        T.Vocabulary.build([[1, 2]])
    with pytest.raises(ValueError, match="Vocabulary.build: min_freq must be an integer >= 1; got 0"):
        T.Vocabulary.build(CORPUS, min_freq=0)
    with pytest.raises(ValueError, match="Vocabulary.build: max_size must be an integer >= 0; got -1"):
        T.Vocabulary.build(CORPUS, max_size=-1)
    with pytest.raises(ValueError, match="Vocabulary: itos must not repeat a token; got 1 duplicate"):
        T.Vocabulary(["a", "b", "a"])
    v = T.Vocabulary.build(CORPUS)
    with pytest.raises(ValueError, match=r"Vocabulary.decode: ids must be in \[0, 8\); got min 0, max 8"):
        v.decode([0, 8])
    with pytest.raises(TypeError, match="Vocabulary.decode: ids must be integers; got dtype float64"):
        v.decode([1.0])
    with pytest.raises(ValueError, match="Vocabulary.decode: ids must have 1 dimensions"):
        v.decode([[1]])
    with pytest.raises(TypeError, match=r"Vocabulary.encode: tokens must be a list of str tokens .*; got str"):
        v.encode("the")
    with pytest.raises(ValueError, match="Vocabulary.coverage: token_lists must hold at least one token"):
        v.coverage([[]])
    with pytest.raises(KeyError, match="token 'zebra' is unknown and there is no '<unk>' token"):
        T.Vocabulary.build(CORPUS, specials=())["zebra"]


# ================================================================ one-hot

@pytest.mark.parametrize("shape", [(), (7,), (3, 5)])
def test_one_hot_matches_torch(shape):
    ids = np.random.default_rng(0).integers(0, 6, size=shape)
    ours = T.one_hot(ids, 6)
    ref = F.one_hot(torch.as_tensor(ids), 6).numpy()
    assert ours.dtype == np.float64 and ours.shape == shape + (6,)
    np.testing.assert_array_equal(ours, ref)
    assert np.all(ours.sum(-1) == 1)


def test_one_hot_bad_input():
    with pytest.raises(ValueError, match=r"one_hot: ids must be in \[0, vocab_size=3\); got min -1, max 2"):
        T.one_hot([-1, 2], 3)
    with pytest.raises(ValueError, match=r"one_hot: ids must be in \[0, vocab_size=3\); got min 0, max 3"):
        T.one_hot([0, 3], 3)
    with pytest.raises(TypeError, match="one_hot: ids must be integers; got dtype float64"):
        T.one_hot([0.0], 3)
    with pytest.raises(ValueError, match="one_hot: vocab_size must be an integer >= 1; got 0"):
        T.one_hot([0], 0)


# ================================================================ bag of words

@pytest.mark.parametrize("binary", [False, True])
def test_bag_of_words_matches_count_vectorizer_unknown_in_unk_column(binary):
    v = T.Vocabulary.build(CORPUS, min_freq=2)
    docs = CORPUS + [["zebra", "the", "the", "yak"], []]
    ours = T.bag_of_words(docs, v, binary=binary)
    with_unk = [[t if t in v else "<unk>" for t in tokens] for tokens in docs]
    ref = CountVectorizer(vocabulary=v.stoi, analyzer=lambda tokens: tokens, binary=binary)
    ref = ref.fit_transform(with_unk)
    assert sp.isspmatrix_csr(ours) and ours.dtype == np.int64 and ours.shape == (6, len(v))
    np.testing.assert_array_equal(ours.toarray(), ref.toarray())
    assert ours[4, v.unk_index] == (1 if binary else 2)


def test_bag_of_words_with_a_dict_drops_unknown_tokens_like_sklearn():
    stoi = {"cat": 0, "the": 1}
    docs = [["the", "cat", "the", "dog"]]
    ref = CountVectorizer(vocabulary=stoi, analyzer=lambda tokens: tokens).fit_transform(docs)
    np.testing.assert_array_equal(T.bag_of_words(docs, stoi).toarray(), ref.toarray())


def test_bag_of_words_bad_input():
    with pytest.raises(TypeError, match="bag_of_words: vocab must be a Vocabulary or a dict; got list"):
        T.bag_of_words(CORPUS, ["a"])
    with pytest.raises(TypeError, match="bag_of_words: token_lists must be a list of token lists"):
        T.bag_of_words("the cat", T.Vocabulary.build(CORPUS))


# ================================================================ TF-IDF vs scikit-learn

GRID = list(itertools.product(["l2", "l1", None], [True, False], [True, False], [False, True],
                              [1, 2, 0.05]))


@pytest.mark.parametrize("norm, use_idf, smooth_idf, sublinear_tf, min_df", GRID)
def test_tfidf_matches_sklearn_on_the_lee_corpus(lee, norm, use_idf, smooth_idf, sublinear_tf,
                                                 min_df):
    fit_docs, new_docs = lee
    kwargs = dict(norm=norm, use_idf=use_idf, smooth_idf=smooth_idf, sublinear_tf=sublinear_tf,
                  min_df=min_df)
    assert_same_tfidf(T.TfidfVectorizer(**kwargs), sklearn_tfidf(**kwargs), fit_docs, new_docs)


@pytest.mark.parametrize("max_df", [1.0, 0.5, 10, 0.99])
def test_tfidf_max_df_matches_sklearn(lee, max_df):
    fit_docs, new_docs = lee
    assert_same_tfidf(T.TfidfVectorizer(max_df=max_df), sklearn_tfidf(max_df=max_df),
                      fit_docs, new_docs)


WORDS = st.sampled_from(["a", "b", "c", "dog", "Dog", "don't", "1990", "zz"])
DOCS = st.lists(st.lists(WORDS, max_size=7).map(" ".join), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(DOCS, DOCS, st.sampled_from(["l2", "l1", None]), st.booleans(), st.booleans(),
       st.booleans(), st.sampled_from([1, 2, 0.3]), st.sampled_from([1.0, 0.7, 3]))
def test_tfidf_matches_sklearn_on_generated_corpora(docs, new_docs, norm, use_idf, smooth_idf,
                                                    sublinear_tf, min_df, max_df):
    kwargs = dict(norm=norm, use_idf=use_idf, smooth_idf=smooth_idf, sublinear_tf=sublinear_tf,
                  min_df=min_df, max_df=max_df)
    ref = sklearn_tfidf(**kwargs)
    try:
        ref.fit(docs)
    except ValueError:  # empty vocabulary, nothing left after pruning or max_df < min_df
        with pytest.raises(ValueError, match="TfidfVectorizer.fit: "):
            T.TfidfVectorizer(**kwargs).fit(docs)
        return
    assert_same_tfidf(T.TfidfVectorizer(**kwargs), ref, docs, new_docs)


@pytest.mark.parametrize("lowercase", [False, True])
def test_tfidf_case_preserving_tokenizer_matches_sklearn(lee, lowercase):
    fit_docs, new_docs = lee
    keep_case = functools.partial(T.tokenize, lowercase=False)
    ours = T.TfidfVectorizer(tokenizer=keep_case, lowercase=lowercase)
    ref = SkTfidf(tokenizer=keep_case, token_pattern=None, lowercase=lowercase)
    assert_same_tfidf(ours, ref, fit_docs, new_docs)
    assert any(t[0].isupper() for t in ours.vocabulary_) == (not lowercase)


def test_tfidf_formula_by_hand():
    docs = ["a a b", "a c"]  # n = 2; df(a) = 2, df(b) = df(c) = 1
    vec = T.TfidfVectorizer(norm=None)
    X = vec.fit_transform(docs).toarray()
    idf = np.log(3 / np.array([3, 2, 2])) + 1  # smooth: ln((1 + n) / (1 + df)) + 1
    np.testing.assert_allclose(vec.idf_, idf, **TOL)
    np.testing.assert_allclose(X, [[2 * idf[0], idf[1], 0], [idf[0], 0, idf[2]]], **TOL)
    # without smoothing a term in every document gets idf exactly 1: the +1 keeps it
    assert T.TfidfVectorizer(smooth_idf=False).fit(docs).idf_[0] == 1.0
    X2 = T.TfidfVectorizer().fit_transform(docs).toarray()
    np.testing.assert_allclose(np.linalg.norm(X2, axis=1), 1.0, **TOL)  # l2: unit rows
    X1 = T.TfidfVectorizer(norm="l1").fit_transform(docs).toarray()
    np.testing.assert_allclose(np.abs(X1).sum(axis=1), 1.0, **TOL)


def test_tfidf_inputs_are_not_modified_and_unknown_only_docs_give_zero_rows():
    docs = ["The cat", "the dog"]
    vec = T.TfidfVectorizer().fit(docs)
    assert docs == ["The cat", "the dog"]
    assert vec.transform(["zebra yak", ""]).nnz == 0


def test_tfidf_bad_input():
    with pytest.raises(ValueError, match="TfidfVectorizer: norm must be 'l1', 'l2' or None; got 'l3'"):
        T.TfidfVectorizer(norm="l3")
    with pytest.raises(ValueError, match=r"TfidfVectorizer: min_df must be an int >= 0 or a float in \[0, 1\]; got 1.5"):
        T.TfidfVectorizer(min_df=1.5)
    with pytest.raises(ValueError, match=r"TfidfVectorizer: max_df must be an int >= 0 or a float in \[0, 1\]; got -1"):
        T.TfidfVectorizer(max_df=-1)
    with pytest.raises(TypeError, match=r"TfidfVectorizer: min_df must be an int \(documents\)"):
        T.TfidfVectorizer(min_df="1")
    with pytest.raises(TypeError, match="TfidfVectorizer: tokenizer must be callable"):
        T.TfidfVectorizer(tokenizer="split")
    with pytest.raises(TypeError, match="TfidfVectorizer.fit: docs must be a list of str documents; got str"):
        T.TfidfVectorizer().fit("the cat")
    with pytest.raises(TypeError, match=r"TfidfVectorizer.fit: docs\[1\] must be str; got list"):
        T.TfidfVectorizer().fit(["a", ["b"]])
    with pytest.raises(ValueError, match="TfidfVectorizer.fit: empty vocabulary"):
        T.TfidfVectorizer().fit(["", "!!"])
    with pytest.raises(ValueError, match="TfidfVectorizer.fit: after pruning, no terms remain"):
        T.TfidfVectorizer(min_df=2).fit(["a", "b", "c"])
    with pytest.raises(ValueError, match="TfidfVectorizer.fit: max_df=1 corresponds to fewer documents than min_df=2"):
        T.TfidfVectorizer(min_df=2, max_df=1).fit(["a", "b"])
    with pytest.raises(RuntimeError, match="TfidfVectorizer.transform: not fitted yet"):
        T.TfidfVectorizer().transform(["a"])
    with pytest.raises(RuntimeError, match="TfidfVectorizer.get_feature_names_out: not fitted yet"):
        T.TfidfVectorizer().get_feature_names_out()


# ================================================================ cosine similarity

def matrices(seed=0):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(5, 4)) * (rng.random((5, 4)) < 0.5)
    B = rng.normal(size=(3, 4))
    A[1], B[2] = 0.0, 0.0  # zero rows: similarity 0 with everything
    return A, B


@pytest.mark.parametrize("kind", ["dense", "sparse", "mixed"])
def test_cosine_similarity_matches_sklearn(kind):
    A, B = matrices()
    a = sp.csr_matrix(A) if kind in ("sparse", "mixed") else A
    b = sp.csr_matrix(B) if kind == "sparse" else B
    ours = T.cosine_similarity(a, b)
    assert isinstance(ours, np.ndarray) and ours.dtype == np.float64 and ours.shape == (5, 3)
    np.testing.assert_allclose(ours, sk_cosine(A, B), **TOL)
    np.testing.assert_allclose(T.cosine_similarity(a), sk_cosine(A), **TOL)
    assert np.all(ours[1] == 0) and np.all(ours[:, 2] == 0)


def test_cosine_similarity_does_not_modify_inputs():
    A, B = matrices()
    A0, B0 = A.copy(), B.copy()
    T.cosine_similarity(A, B)
    np.testing.assert_array_equal(A, A0)
    np.testing.assert_array_equal(B, B0)


def test_cosine_similarity_bad_input():
    with pytest.raises(ValueError, match="cosine_similarity: A and B must have the same number of columns; got 4 and 3"):
        T.cosine_similarity(np.ones((2, 4)), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"cosine_similarity: A must have 2 dimensions \(n, D\); got shape \(4,\)"):
        T.cosine_similarity(np.ones(4))


# ================================================================ search

def test_search_ranks_by_cosine_best_first_ties_by_index():
    docs = ["cats purr", "dogs bark loudly", "cats and dogs", "cats purr", "weather report"]
    vec = T.TfidfVectorizer()
    X = vec.fit_transform(docs)
    hits = T.search("purring cats purr", vec, X, k=3)
    assert [i for i, _ in hits] == [0, 3, 2]  # 0 and 3 tie: lower index first
    assert hits[0][1] == hits[1][1] > hits[2][1] > 0
    scores = T.cosine_similarity(vec.transform(["purring cats purr"]), X)[0]
    np.testing.assert_allclose([s for _, s in hits], scores[[0, 3, 2]], **TOL)


def test_search_returns_only_matching_documents_and_empty_for_unknown_words():
    docs = ["cats purr", "dogs bark", "weather report"]
    vec = T.TfidfVectorizer()
    X = vec.fit_transform(docs)
    assert [i for i, _ in T.search("dogs", vec, X, k=5)] == [1]
    assert T.search("zebra yak", vec, X) == []


def test_search_on_the_lee_corpus_finds_the_document_it_quotes(lee):
    docs, _ = lee
    vec = T.TfidfVectorizer(sublinear_tf=True)
    X = vec.fit_transform(docs)
    for i in (0, 17, 33):
        query = " ".join(docs[i].split()[:12])
        assert T.search(query, vec, X, k=1)[0][0] == i


def test_search_bad_input():
    vec = T.TfidfVectorizer()
    X = vec.fit_transform(["cats purr", "dogs bark"])
    with pytest.raises(ValueError, match="search: k must be an integer >= 1; got 0"):
        T.search("cats", vec, X, k=0)
    with pytest.raises(TypeError, match="search: query must be str; got list"):
        T.search(["cats"], vec, X)
    with pytest.raises(TypeError, match="search: vectorizer must be fitted and have a transform method"):
        T.search("cats", object(), X)
    with pytest.raises(ValueError, match=r"search: doc_matrix must have 4 columns \(the vectorizer's vocabulary\); got shape \(2, 3\)"):
        T.search("cats", vec, X[:, :3])


# ================================================================ module surface

def test_all_names_exist_and_augmentations_are_re_exported():
    for module in (T, text_augment):
        assert all(hasattr(module, name) for name in module.__all__)
    for name in ("embedding_synonyms", "synonym_replacement", "random_insertion",
                 "random_deletion", "random_swap"):
        assert getattr(T, name) is getattr(text_augment, name) and name in T.__all__
