r"""Word embeddings with gensim, and their evaluation written from the formulas.

A word embedding maps each word of a vocabulary to a dense vector :math:`v_w \in \mathbb{R}^D`
(D ~ 50-300, against one-hot vectors of size V ~ 10^4-10^6) such that words used in similar
contexts get nearby vectors. This module

* trains gensim's Word2Vec (CBOW, skip-gram) and FastText reproducibly
  (:func:`train_word2vec`, :func:`train_fasttext`: one worker thread and a seed),
* re-exports the from-scratch models of :mod:`companion.embedding_models`, whose vectors come
  back as gensim ``KeyedVectors`` (:func:`to_keyed_vectors`) and so get the same tools,
* evaluates embeddings from the formulas, vectorised with NumPy: WordSim-353 Spearman
  (:func:`wordsim_spearman`), the analogy questions with 3CosAdd (:func:`analogy_accuracy`),
  nearest neighbours (:func:`nearest_neighbours`) and one analogy (:func:`analogy`).

References: gensim 4.4 ``KeyedVectors.evaluate_word_pairs``, ``evaluate_word_analogies`` and
``most_similar`` (the tests check that we give the same numbers); Mikolov et al. 2013,
"Efficient Estimation of Word Representations in Vector Space" (the analogy set) and
"Distributed Representations of Words and Phrases" (skip-gram, negative sampling);
Bojanowski et al. 2017 (FastText); Finkelstein et al. 2002 (WordSim-353).

Conventions (as gensim): vectors are compared by cosine similarity; evaluation is
case-insensitive, and when a vocabulary holds several case variants of a word the first one (the
most frequent, vocabularies being sorted by count) stands for all of them; only the first
``restrict_vocab`` words of the vocabulary take part; questions or pairs with an unknown word are
skipped (and counted).
"""
from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
from scipy import stats

from . import data
from .embedding_models import (GloVe, SkipGramNS, build_vocab, check_sentences, cooccurrence_matrix,
                               glove_loss, glove_weight, negative_sampling_distribution, sgns_loss,
                               skipgram_pairs, to_keyed_vectors, train_glove, train_sgns)
from .validation import check_int, check_type

__all__ = [
    "train_word2vec", "train_fasttext", "WordSimResult", "AnalogyResult",
    "SectionScore", "wordsim_spearman", "analogy_accuracy", "nearest_neighbours", "analogy",
    # from companion.embedding_models
    "to_keyed_vectors", "build_vocab", "skipgram_pairs", "negative_sampling_distribution", "sgns_loss", "SkipGramNS",
    "train_sgns", "cooccurrence_matrix", "glove_weight", "glove_loss", "GloVe", "train_glove",
]


# ---------------------------------------------------------------- training with gensim

def _gensim_options(func, vector_size, window, min_count, epochs, seed):
    check_int(func, "vector_size", vector_size, 1)
    check_int(func, "window", window, 1)
    check_int(func, "min_count", min_count, 1)
    check_int(func, "epochs", epochs, 1)
    check_int(func, "seed", seed, 0)
    return dict(vector_size=vector_size, window=window, min_count=min_count, epochs=epochs,
                seed=seed, workers=1)


def train_word2vec(sentences, *, sg=0, vector_size=100, window=5, min_count=2, negative=5,
                   epochs=20, seed=0, **kwargs):
    r"""Train gensim Word2Vec, CBOW (``sg=0``) or skip-gram (``sg=1``), reproducibly.

    CBOW predicts a word from the mean of its context vectors; skip-gram predicts each context
    word from the centre word. Both are trained with negative sampling (``negative`` noise
    words per positive pair, hs=0):

    .. math::
        \ell = -\log\sigma(u_o^\top v_c) - \sum_{k=1}^{K} \log\sigma(-u_k^\top v_c)

    Args:
        sentences: list of N sentences, each a list of str tokens.
        sg: 0 for CBOW, 1 for skip-gram.
        vector_size, window, min_count, negative, epochs: gensim's options; ``**kwargs`` go to
            ``gensim.models.Word2Vec`` too (``sample``, ``alpha``, ``hs``...).
        seed: seeds the initial vectors and gensim's random draws.
    Returns:
        the trained ``gensim.models.Word2Vec``; its vectors are ``model.wv`` (V, vector_size).

    ``workers=1`` always: with several worker threads, the order in which threads update the
    shared vectors depends on the operating system's scheduling, so two runs with the same seed
    differ (gensim's FAQ). With one thread and a seed the vectors are bit-identical across runs
    and processes. gensim reports progress through ``logging`` (silent unless configured).
    """
    from gensim.models import Word2Vec

    func = "train_word2vec"
    sentences = check_sentences(func, sentences)
    if sg not in (0, 1):
        raise ValueError(f"{func}: sg must be 0 (CBOW) or 1 (skip-gram); got {sg!r}")
    check_int(func, "negative", negative, 1)
    options = _gensim_options(func, vector_size, window, min_count, epochs, seed)
    return Word2Vec(sentences, sg=sg, negative=negative, hs=0, **options, **kwargs)


def train_fasttext(sentences, *, sg=1, vector_size=100, window=5, min_count=2, min_n=3, max_n=6,
                   bucket=100_000, epochs=10, seed=0, **kwargs):
    r"""Train gensim FastText reproducibly (one worker, a seed): words as bags of character n-grams.

    A word's vector is the mean of its own vector and of its character n-grams' vectors
    (n = min_n..max_n, on ``<word>`` with boundary marks), :math:`v_w = \frac{1}{|G_w|}\sum_{g \in
    G_w} z_g`, so an unknown or misspelled word still gets a vector from the n-grams it shares.
    The n-grams are hashed into ``bucket`` rows: gensim's default 2,000,000 rows make training
    slow on a small corpus, so the default here is 100,000 (a few more hash collisions).

    Args:
        sentences: list of N sentences, each a list of str tokens.
        sg: 1 for skip-gram (default, as the FastText paper), 0 for CBOW.
        min_n, max_n: n-gram lengths; ``max_n < min_n`` switches n-grams off.
        bucket: number of hash rows for the n-grams.
        others, ``**kwargs``: as :func:`train_word2vec` (``workers=1`` for the same reason).
    Returns:
        the trained ``gensim.models.FastText``.
    Reference: Bojanowski et al. 2017, "Enriching Word Vectors with Subword Information".
    """
    from gensim.models import FastText

    func = "train_fasttext"
    sentences = check_sentences(func, sentences)
    if sg not in (0, 1):
        raise ValueError(f"{func}: sg must be 0 (CBOW) or 1 (skip-gram); got {sg!r}")
    check_int(func, "min_n", min_n, 1)
    check_int(func, "max_n", max_n, 0)
    check_int(func, "bucket", bucket, 1)
    options = _gensim_options(func, vector_size, window, min_count, epochs, seed)
    return FastText(sentences, sg=sg, min_n=min_n, max_n=max_n, bucket=bucket, **options, **kwargs)


# ---------------------------------------------------------------- evaluation from the formulas

class WordSimResult(NamedTuple):
    """Spearman rank correlation, the number of pairs scored and the number of pairs given."""

    spearman: float
    n_pairs: int
    n_total: int


class SectionScore(NamedTuple):
    """Accuracy of one analogy section on the questions it could answer."""

    accuracy: float
    n_correct: int
    n_total: int


class AnalogyResult(NamedTuple):
    """Overall 3CosAdd accuracy, correct and answered counts, and a SectionScore per section."""

    accuracy: float
    n_correct: int
    n_total: int
    per_section: dict


def _upper_vocab(kv, restrict_vocab):
    """word.upper() -> row of its first (most frequent) case variant, over the first rows."""
    keys = kv.index_to_key[:restrict_vocab]
    return {w.upper(): i for i, w in reversed(list(enumerate(keys)))}


def _unit_rows(M):
    """Rows scaled to length 1 (float64); a zero row stays zero."""
    M = np.asarray(M, dtype=np.float64)
    norms = np.linalg.norm(M, axis=1, keepdims=True)  # (V, 1)
    return M / np.where(norms > 0, norms, 1.0)


def _check_kv(func, kv):
    if not (hasattr(kv, "vectors") and hasattr(kv, "index_to_key")):
        raise TypeError(f"{func}: keyed_vectors must be a gensim KeyedVectors (model.wv); "
                        f"got {type(kv).__name__}")
    if len(kv.index_to_key) == 0:
        raise ValueError(f"{func}: keyed_vectors is empty")


def wordsim_spearman(keyed_vectors, pairs=None, *, restrict_vocab=300_000) -> WordSimResult:
    r"""Spearman correlation between cosine similarities and human ratings of word pairs.

    .. math::
        \rho = \mathrm{Pearson}(\mathrm{rank}(s^{\mathrm{human}}), \mathrm{rank}(\cos(v_a, v_b))),
        \qquad \cos(v_a, v_b) = \frac{v_a^\top v_b}{\lVert v_a\rVert\,\lVert v_b\rVert}

    (ties get their average rank: ``scipy.stats.spearmanr``). Case-insensitive; a pair with a word
    outside the first ``restrict_vocab`` words is skipped. Same numbers as gensim's
    ``evaluate_word_pairs(datapath('wordsim353.tsv'))``: its OOV percentage is
    ``100 * (n_total - n_pairs) / n_total``. One convention differs: we compute the cosines in
    float64, gensim in float32. Two pairs whose cosines differ only past float32's ~7 digits are a
    tie for gensim (averaged ranks) and not here, and then the two Spearman values differ slightly
    (seen at ~1e-4 for vectors whose cosines all crowd near 1); without such ties they are equal.

    Args:
        keyed_vectors: gensim ``KeyedVectors`` (V, D).
        pairs: ``(word1, word2, score)`` sequences of equal length P; default WordSim-353
            (:func:`companion.data.load_wordsim353`).
    Returns:
        WordSimResult(spearman, n_pairs scored, n_total P); spearman is nan if the cosines or
        the scores are all equal. ValueError if fewer than 2 pairs can be scored.
    """
    func = "wordsim_spearman"
    _check_kv(func, keyed_vectors)
    check_int(func, "restrict_vocab", restrict_vocab, 1)
    word1, word2, score = data.load_wordsim353() if pairs is None else pairs
    if not len(word1) == len(word2) == len(score):
        raise ValueError(f"{func}: pairs must be (word1, word2, score) of equal lengths; got "
                         f"{len(word1)}, {len(word2)}, {len(score)}")
    vocab = _upper_vocab(keyed_vectors, restrict_vocab)
    known = [i for i, (a, b) in enumerate(zip(word1, word2))
             if a.upper() in vocab and b.upper() in vocab]
    if len(known) < 2:
        raise ValueError(f"{func}: a correlation needs at least 2 pairs with both words in the "
                         f"vocabulary; got {len(known)} of {len(word1)} pairs")
    U = _unit_rows(keyed_vectors.vectors)  # (V, D)
    ia = np.array([vocab[word1[i].upper()] for i in known])  # (P',)
    ib = np.array([vocab[word2[i].upper()] for i in known])
    # cos(a, b) = u_a . u_b on unit vectors
    cosine = np.einsum("pd,pd->p", U[ia], U[ib])  # (P',)
    human = np.asarray(score, dtype=np.float64)[known]
    with warnings.catch_warnings():  # constant cosines or scores: rho is nan, said in the docstring
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        rho = stats.spearmanr(human, cosine).statistic
    return WordSimResult(float(rho), len(known), len(word1))


def _analogy_hits(U, groups, questions, chunk=512):
    """Boolean (Q,): does 3CosAdd's best word (inputs excluded) answer each (a, b, c, d) row?"""
    hits = np.empty(len(questions), dtype=bool)
    for start in range(0, len(questions), chunk):
        q = questions[start:start + chunk]  # (n, 4) rows of U
        # target = u_b - u_a + u_c (its length does not change the argmax of cosines)
        target = U[q[:, 1]] - U[q[:, 0]] + U[q[:, 2]]  # (n, D)
        scores = target @ U.T  # (n, R): cos up to a positive factor per row, U has unit rows
        g = groups[q]  # (n, 4): the words' case groups
        # exclude the three question words (every case variant of them)
        excluded = (groups[None, :] == g[:, 0:1]) | (groups[None, :] == g[:, 1:2]) | \
                   (groups[None, :] == g[:, 2:3])  # (n, R)
        scores[excluded] = -np.inf
        hits[start:start + chunk] = groups[scores.argmax(axis=1)] == g[:, 3]
    return hits


def analogy_accuracy(keyed_vectors, sections=None, *, restrict_vocab=300_000) -> AnalogyResult:
    r"""Accuracy on analogy questions "a is to b as c is to d", answered with 3CosAdd.

    .. math::
        \hat d = \arg\max_{w \notin \{a, b, c\}} \cos(u_w,\; u_b - u_a + u_c),
        \qquad u = v / \lVert v \rVert

    A question counts as correct when :math:`\hat d = d` (case-insensitive). Questions with a
    word outside the first ``restrict_vocab`` words are skipped; candidates are those words too.
    Vectorised: one matrix product per chunk of questions instead of one ``most_similar`` call
    per question. Same numbers as gensim's ``evaluate_word_analogies(datapath(
    'questions-words.txt'))`` (its score is our accuracy, its 'Total accuracy' lists our counts).

    Args:
        keyed_vectors: gensim ``KeyedVectors`` (V, D).
        sections: dict section name -> list of (a, b, c, d); default Mikolov's 19,544 questions
            (:func:`companion.data.load_analogies`).
    Returns:
        AnalogyResult(accuracy, n_correct, n_total answered, per_section {name: SectionScore});
        accuracy is 0.0 when no question could be answered (as gensim).
    """
    func = "analogy_accuracy"
    _check_kv(func, keyed_vectors)
    check_int(func, "restrict_vocab", restrict_vocab, 1)
    sections = data.load_analogies() if sections is None else sections
    check_type(func, "sections", sections, dict, "a dict section -> list of (a, b, c, d)")
    vocab = _upper_vocab(keyed_vectors, restrict_vocab)
    rows = keyed_vectors.index_to_key[:restrict_vocab]
    groups = np.array([vocab[w.upper()] for w in rows])  # (R,) case group of each row
    U = _unit_rows(keyed_vectors.vectors[:len(rows)])  # (R, D)
    per_section, n_correct, n_total = {}, 0, 0
    for name, questions in sections.items():
        known = [[vocab[w.upper()] for w in q] for q in questions
                 if len(q) == 4 and all(w.upper() in vocab for w in q)]
        q = np.array(known, dtype=np.int64).reshape(-1, 4)  # (Q, 4)
        correct = int(_analogy_hits(U, groups, q).sum()) if len(q) else 0
        per_section[name] = SectionScore(correct / len(q) if len(q) else 0.0, correct, len(q))
        n_correct, n_total = n_correct + correct, n_total + len(q)
    accuracy = n_correct / n_total if n_total else 0.0
    return AnalogyResult(accuracy, n_correct, n_total, per_section)


def _top_k(keyed_vectors, target, exclude, k):
    """The k words of highest cosine with ``target`` (D,), ``exclude`` rows left out."""
    V = np.asarray(keyed_vectors.vectors, dtype=np.float64)  # (V, D)
    u = _unit_rows(target[None, :])[0]  # (D,)
    # cos(w, target) = v_w . u / ||v_w||  (a zero vector gets cosine 0, and no warning)
    norms = np.linalg.norm(V, axis=1)  # (V,)
    cosine = np.divide(V @ u, norms, out=np.zeros(len(V)), where=norms > 0)  # (V,)
    cosine[list(exclude)] = -np.inf
    best = np.argsort(-cosine, kind="stable")[:k]  # ties: lower row first
    return [(keyed_vectors.index_to_key[i], float(cosine[i])) for i in best if np.isfinite(cosine[i])]


def _row(func, keyed_vectors, word):
    index = keyed_vectors.key_to_index.get(word)
    if index is None:
        raise KeyError(f"{func}: word {word!r} is not in the vocabulary of {len(keyed_vectors.index_to_key)} "
                       "words (lookup is case-sensitive)")
    return index


def nearest_neighbours(keyed_vectors, word, k=5) -> list[tuple[str, float]]:
    r"""The k words closest to ``word`` by cosine similarity, best first, the word itself excluded.

    .. math::
        \mathrm{top}_k\; \cos(v_w, v_{\mathrm{word}}), \quad w \ne \mathrm{word}

    Same as gensim's ``keyed_vectors.most_similar(word, topn=k)`` (computed here in float64).
    Raises KeyError naming the word when it is unknown.
    """
    func = "nearest_neighbours"
    _check_kv(func, keyed_vectors)
    check_int(func, "k", k, 1)
    i = _row(func, keyed_vectors, word)
    return _top_k(keyed_vectors, _unit_rows(keyed_vectors.vectors[[i]])[0], [i], k)


def analogy(keyed_vectors, a, b, c, k=1) -> list[tuple[str, float]]:
    r"""Answer "a is to b as c is to ?" with 3CosAdd: the k best words, the inputs excluded.

    .. math::
        \mathrm{top}_k\; \cos(v_w,\; u_b - u_a + u_c), \quad w \notin \{a, b, c\}, \quad u = v/\lVert v\rVert

    ("man" : "king" :: "woman" : ? is ``analogy(kv, "man", "king", "woman")``.) Same as gensim's
    ``most_similar(positive=[b, c], negative=[a], topn=k)``, whose mean of the three unit vectors
    differs from our sum only by a positive factor. KeyError naming any unknown word.
    """
    func = "analogy"
    _check_kv(func, keyed_vectors)
    check_int(func, "k", k, 1)
    rows = [_row(func, keyed_vectors, w) for w in (a, b, c)]
    U = _unit_rows(keyed_vectors.vectors[rows])  # (3, D)
    return _top_k(keyed_vectors, U[1] - U[0] + U[2], rows, k)
