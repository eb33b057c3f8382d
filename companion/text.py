r"""Text as numbers: tokens, a vocabulary, one-hot vectors, bag of words, TF-IDF and search.

Notebook 14's pipeline: :func:`tokenize` -> :class:`Vocabulary` (ids, ``<unk>`` for unseen
words) -> :func:`one_hot` / :func:`bag_of_words` (sparse, vocabulary-wide) ->
:class:`TfidfVectorizer` (words common to every document count less) -> :func:`search`.
The augmentations live in :mod:`companion.text_augment` and are re-exported here.
References: torch ``F.one_hot``, scikit-learn's ``CountVectorizer``, ``TfidfVectorizer`` and
``cosine_similarity``; each function states its convention. Inputs are never modified.
"""
from __future__ import annotations

import numbers
import re
from collections import Counter
from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp

from .text_augment import (_check_tokens, embedding_synonyms, random_deletion, random_insertion,
                           random_swap, synonym_replacement)
from .validation import check_int, check_ndim, check_type

__all__ = [
    "TOKEN_PATTERN", "tokenize", "Vocabulary", "one_hot", "bag_of_words", "TfidfVectorizer",
    "cosine_similarity", "search", "embedding_synonyms", "synonym_replacement",
    "random_insertion", "random_deletion", "random_swap",
]

#: The default token: a run of letters or digits (any alphabet; the underscore is not a letter),
#: optionally joined to further runs by single internal apostrophes, so ``"don't"``,
#: ``"o'clock"`` and ``"1990"`` are one token each, while punctuation, a leading or trailing
#: apostrophe (``'quoted'``) and hyphens split. ``"U.S."`` gives ``["u", "s"]``.
TOKEN_PATTERN = r"[^\W_]+(?:'[^\W_]+)*"


# ---------------------------------------------------------------- checks shared by this module

def _check_token_lists(func: str, token_lists) -> list[list[str]]:
    """A list of token lists (copies); a bare string or a flat list of strings is a TypeError."""
    if isinstance(token_lists, str) or not hasattr(token_lists, "__iter__"):
        raise TypeError(f"{func}: token_lists must be a list of token lists such as [['a', 'b']]; "
                        f"got {type(token_lists).__name__}")
    return [_check_tokens(func, tokens, f"token_lists[{i}]")
            for i, tokens in enumerate(token_lists)]


def _check_docs(func: str, docs) -> list[str]:
    """A list of documents (str); a bare string is refused, as scikit-learn does."""
    if isinstance(docs, str) or not hasattr(docs, "__iter__"):
        raise TypeError(f"{func}: docs must be a list of str documents; "
                        f"got {type(docs).__name__}")
    docs = list(docs)
    for i, doc in enumerate(docs):
        check_type(func, f"docs[{i}]", doc, str, "str")
    return docs


def _count_matrix(id_lists: list[list[int]], n_cols: int, binary: bool = False) -> sp.csr_matrix:
    """(N, n_cols) int64 CSR matrix: entry (i, j) = how often id j occurs in ``id_lists[i]``."""
    indptr, indices, data = [0], [], []
    for ids in id_lists:
        counts = Counter(ids)
        cols = sorted(counts)                       # sorted column indices, as scikit-learn's
        indices.extend(cols)
        data.extend(1 if binary else counts[j] for j in cols)
        indptr.append(len(indices))
    return sp.csr_matrix((np.asarray(data, dtype=np.int64), np.asarray(indices, dtype=np.int64),
                          np.asarray(indptr, dtype=np.int64)), shape=(len(id_lists), n_cols))


# ---------------------------------------------------------------- tokens and vocabulary

def tokenize(text: str, *, lowercase: bool = True, pattern=TOKEN_PATTERN) -> list[str]:
    r"""Split ``text`` into the tokens matched by ``pattern`` (:data:`TOKEN_PATTERN`).

    Lower-casing happens first (``"The"`` and ``"the"`` become one token). Any regex (str or
    compiled) may replace the pattern; ``re.findall`` semantics, so use non-capturing groups.

    Args: text: a string. Returns: list[str], in order of appearance.
    """
    check_type("tokenize", "text", text, str, "str")
    check_type("tokenize", "pattern", pattern, (str, re.Pattern), "a str or compiled regex")
    return re.findall(pattern, text.lower() if lowercase else text)


class Vocabulary:
    r"""A two-way map token <-> integer id, with special tokens and an unknown-token id.

    Build it with :meth:`build`. Order (deterministic): the ``specials`` first, in the given
    order, then the corpus tokens by decreasing count, ties alphabetical. Tokens seen fewer than
    ``min_freq`` times are cut, and at most ``max_size`` corpus tokens are kept (specials are
    not counted in ``max_size``, as in torchtext's legacy ``Vocab``); cut tokens map to
    ``unk_index`` when ``"<unk>"`` is among the specials.

    Attributes: itos (list: id -> token), stoi (dict: token -> id), counts (``Counter`` of the
    whole corpus, before the cut-off), pad_index / unk_index (ids of ``"<pad>"`` / ``"<unk>"``,
    ``None`` when absent).
    """

    def __init__(self, itos, counts=None, *, pad_token: str = "<pad>", unk_token: str = "<unk>"):
        self.itos = list(itos)
        self.stoi = {token: i for i, token in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError("Vocabulary: itos must not repeat a token; got "
                             f"{len(self.itos) - len(self.stoi)} duplicate(s)")
        self.counts = Counter(counts or {})
        self.pad_index = self.stoi.get(pad_token)
        self.unk_index = self.stoi.get(unk_token)

    @classmethod
    def build(cls, token_lists, *, min_freq: int = 1, max_size: int | None = None,
              specials=("<pad>", "<unk>")) -> Vocabulary:
        """The vocabulary of ``token_lists`` (a list of token lists); see the class docstring."""
        func = "Vocabulary.build"
        token_lists = _check_token_lists(func, token_lists)
        check_int(func, "min_freq", min_freq, 1)
        if max_size is not None:
            check_int(func, "max_size", max_size, 0)
        specials = [specials] if isinstance(specials, str) else list(specials)
        counts = Counter(token for tokens in token_lists for token in tokens)
        kept = [t for t, c in counts.items() if c >= min_freq and t not in specials]
        kept.sort(key=lambda t: (-counts[t], t))    # decreasing count, ties alphabetical
        if max_size is not None:
            kept = kept[:max_size]
        return cls(specials + kept, counts)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token) -> bool:
        return token in self.stoi

    def __getitem__(self, token: str) -> int:
        """The id of ``token``; an unknown token gets ``unk_index`` (KeyError without ``<unk>``)."""
        index = self.stoi.get(token, self.unk_index)
        if index is None:
            raise KeyError(f"Vocabulary: token {token!r} is unknown and there is no '<unk>' token")
        return index

    def __repr__(self) -> str:
        return f"Vocabulary(size={len(self)}, first={self.itos[:5]})"

    def encode(self, tokens) -> list[int]:
        """Ids of ``tokens`` (a list of str); unknown tokens -> ``unk_index``."""
        return [self[token] for token in _check_tokens("Vocabulary.encode", tokens)]

    def decode(self, ids) -> list[str]:
        """Tokens of ``ids`` (integers in ``[0, len(self))``)."""
        ids = np.asarray(ids)
        if ids.size and not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"Vocabulary.decode: ids must be integers; got dtype {ids.dtype}")
        check_ndim("Vocabulary.decode", "ids", ids, 1, "(T,)")
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"Vocabulary.decode: ids must be in [0, {len(self)}); "
                             f"got min {ids.min()}, max {ids.max()}")
        return [self.itos[i] for i in ids.tolist()]

    def coverage(self, token_lists) -> float:
        """Fraction of the tokens of ``token_lists`` that are in the vocabulary (not ``<unk>``)."""
        token_lists = _check_token_lists("Vocabulary.coverage", token_lists)
        total = sum(len(tokens) for tokens in token_lists)
        if total == 0:
            raise ValueError("Vocabulary.coverage: token_lists must hold at least one token; got 0")
        known = sum(token in self.stoi for tokens in token_lists for token in tokens)
        return known / total


# ---------------------------------------------------------------- one-hot and bag of words

def one_hot(ids, vocab_size: int) -> np.ndarray:
    r"""One-hot vectors: :math:`e_{\mathrm{id}} \in \{0, 1\}^V`, a single 1 at position ``id``.

    Args: ids: integer array of any shape (...); vocab_size: V >= 1. Returns: float64 (..., V),
    each vector sums to 1: V numbers per token, all but one zero (a fraction 1 - 1/V is zero).
    Reference: ``torch.nn.functional.one_hot(ids, V)`` (int64 there; float64 here, for matmuls).
    """
    ids = np.asarray(ids)
    if not np.issubdtype(ids.dtype, np.integer):
        raise TypeError(f"one_hot: ids must be integers; got dtype {ids.dtype}")
    V = check_int("one_hot", "vocab_size", vocab_size, 1)
    if ids.size and (ids.min() < 0 or ids.max() >= V):
        raise ValueError(f"one_hot: ids must be in [0, vocab_size={V}); "
                         f"got min {ids.min()}, max {ids.max()}")
    out = np.zeros(ids.shape + (V,), dtype=np.float64)           # (..., V)
    np.put_along_axis(out, ids[..., None], 1.0, axis=-1)
    return out


def bag_of_words(token_lists, vocab, *, binary: bool = False) -> sp.csr_matrix:
    r"""Bag-of-words counts :math:`X_{ij}` = number of times token j occurs in document i.

    Word order is lost; only counts remain. Unknown tokens: with a :class:`Vocabulary` that has
    ``"<unk>"`` they are counted in ``<unk>``'s column; with a plain dict token -> column (or a
    vocabulary without ``<unk>``) they are dropped, as scikit-learn does.

    Args: token_lists: N lists of str tokens; vocab: a :class:`Vocabulary` or a dict;
    binary: 1 for presence instead of the count.
    Returns: scipy.sparse.csr_matrix (N, len(vocab)) int64.
    Reference: ``CountVectorizer(vocabulary=vocab.stoi, analyzer=lambda tokens: tokens)`` fed
    the tokens with unknown ones replaced by ``"<unk>"``.
    """
    token_lists = _check_token_lists("bag_of_words", token_lists)
    check_type("bag_of_words", "vocab", vocab, (Vocabulary, Mapping), "a Vocabulary or a dict")
    is_vocab = isinstance(vocab, Vocabulary)
    stoi, unk = (vocab.stoi, vocab.unk_index) if is_vocab else (vocab, None)
    n_cols = len(vocab) if is_vocab else max(stoi.values(), default=-1) + 1
    id_lists = [[stoi.get(t, unk) for t in tokens if t in stoi or unk is not None]
                for tokens in token_lists]
    return _count_matrix(id_lists, n_cols, binary)


# ---------------------------------------------------------------- TF-IDF

class TfidfVectorizer:
    r"""TF-IDF document vectors written from the formula; same numbers as scikit-learn's.

    For term t in document d of a corpus of n documents, with df(t) = number of documents
    containing t:

    .. math::
        \mathrm{tf}(t, d) = \mathrm{count}(t, d)
            \quad(\text{or } 1 + \ln \mathrm{count}(t, d) \text{ with sublinear\_tf, for count} > 0)

        \mathrm{idf}(t) = \ln\frac{1 + n}{1 + \mathrm{df}(t)} + 1 \quad(\text{smooth\_idf}),
        \qquad \ln\frac{n}{\mathrm{df}(t)} + 1 \quad(\text{otherwise})

        x_d = \frac{v_d}{\lVert v_d \rVert}, \quad v_{d,t} = \mathrm{tf}(t, d)\,\mathrm{idf}(t)

    Conventions (scikit-learn's; the textbook idf is :math:`\ln(n/\mathrm{df})`): the **+1**
    keeps a weight for terms found in every document (textbook idf 0 would erase them). The
    **smooth** idf pretends one extra document contains every term once: no df can be 0, so
    there is never a division by zero (a term in no training document, possible when the
    vocabulary is given by hand, gets a finite idf), and idf shrinks a little for rare terms.
    Here the vocabulary comes from the fitted documents (df >= 1); words unseen at fit time are
    ignored by ``transform``. ``norm``: "l2" (unit length: a dot product is a cosine), "l1"
    (absolute values sum to 1) or None; all-zero rows stay zero. ``use_idf=False``: tf only
    (``idf_`` is still computed, for inspection). Terms are the ``tokenizer``'s tokens (after
    lower-casing with ``lowercase``) with min_df <= df <= max_df (an int counts documents, a
    float in [0, 1] is a fraction of n), columns in alphabetical order as scikit-learn.

    Reference: ``sklearn.feature_extraction.text.TfidfVectorizer(tokenizer=tokenize,
    token_pattern=None, lowercase=False, ...same settings)``: equal to 1e-12.
    """

    def __init__(self, *, tokenizer=tokenize, lowercase: bool = True, min_df=1, max_df=1.0,
                 norm: str | None = "l2", use_idf: bool = True, smooth_idf: bool = True,
                 sublinear_tf: bool = False):
        func = "TfidfVectorizer"
        if not callable(tokenizer):
            raise TypeError(f"{func}: tokenizer must be callable (str -> list[str]); "
                            f"got {type(tokenizer).__name__}")
        if norm not in ("l1", "l2", None):
            raise ValueError(f"{func}: norm must be 'l1', 'l2' or None; got {norm!r}")
        _check_df_bound(func, "min_df", min_df)
        _check_df_bound(func, "max_df", max_df)
        self.tokenizer, self.lowercase = tokenizer, lowercase
        self.min_df, self.max_df, self.norm = min_df, max_df, norm
        self.use_idf, self.smooth_idf, self.sublinear_tf = use_idf, smooth_idf, sublinear_tf

    def _analyze(self, doc: str) -> list[str]:
        return self.tokenizer(doc.lower() if self.lowercase else doc)

    def _check_fitted(self, method: str) -> None:
        if not hasattr(self, "vocabulary_"):
            raise RuntimeError(f"TfidfVectorizer.{method}: not fitted yet; call fit(docs) first")

    def fit(self, docs) -> TfidfVectorizer:
        """Learn the vocabulary and idf from ``docs`` (a list of str). Returns self."""
        docs = _check_docs("TfidfVectorizer.fit", docs)
        token_lists = [self._analyze(doc) for doc in docs]
        terms = sorted({t for tokens in token_lists for t in tokens})
        if not terms:
            raise ValueError("TfidfVectorizer.fit: empty vocabulary; the documents hold no tokens")
        index = {t: j for j, t in enumerate(terms)}
        counts = _count_matrix([[index[t] for t in tokens] for tokens in token_lists], len(terms))
        df = np.bincount(counts.indices, minlength=len(terms))       # (V,) documents per term
        n = len(docs)
        low = self.min_df if isinstance(self.min_df, numbers.Integral) else self.min_df * n
        high = self.max_df if isinstance(self.max_df, numbers.Integral) else self.max_df * n
        if high < low:
            raise ValueError(f"TfidfVectorizer.fit: max_df={self.max_df} corresponds to fewer "
                             f"documents than min_df={self.min_df} (n={n})")
        keep = (df >= low) & (df <= high)
        if not keep.any():
            raise ValueError("TfidfVectorizer.fit: after pruning, no terms remain; "
                             "try a lower min_df or a higher max_df")
        self.vocabulary_ = {t: j for j, t in enumerate(np.asarray(terms)[keep].tolist())}
        df = df[keep].astype(np.float64)
        # smooth: one phantom document containing every term -> n + 1 and df + 1
        n_s, df_s = (n + 1, df + 1.0) if self.smooth_idf else (n, df)
        # idf = ln(n / df) + 1   (the + 1 keeps terms that occur in every document)
        self.idf_ = np.log(n_s / df_s) + 1.0                         # (V,)
        return self

    def transform(self, docs) -> sp.csr_matrix:
        """TF-IDF matrix (N, V) float64 CSR of ``docs`` with the fitted vocabulary and idf."""
        self._check_fitted("transform")
        docs = _check_docs("TfidfVectorizer.transform", docs)
        voc = self.vocabulary_
        ids = [[voc[t] for t in self._analyze(doc) if t in voc] for doc in docs]
        X = _count_matrix(ids, len(voc)).astype(np.float64)          # (N, V) raw counts
        if self.sublinear_tf:
            # tf = 1 + ln(count), only for the stored (count > 0) entries
            X.data = 1.0 + np.log(X.data)
        if self.use_idf:
            # v_dt = tf(t, d) * idf(t)
            X.data = X.data * self.idf_[X.indices]
        return _normalize_rows(X, self.norm)

    def fit_transform(self, docs) -> sp.csr_matrix:
        """``fit(docs)`` then ``transform(docs)``."""
        return self.fit(docs).transform(docs)

    def get_feature_names_out(self) -> np.ndarray:
        """The terms, in column order (alphabetical), as an array of str."""
        self._check_fitted("get_feature_names_out")
        return np.asarray(sorted(self.vocabulary_, key=self.vocabulary_.get), dtype=object)


def _check_df_bound(func: str, name: str, value) -> None:
    """min_df / max_df: an int >= 0 (a document count) or a float in [0, 1] (a fraction)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{func}: {name} must be an int (documents) or a float in [0, 1]; "
                        f"got {type(value).__name__}")
    if value < 0 or (not isinstance(value, numbers.Integral) and value > 1):
        raise ValueError(f"{func}: {name} must be an int >= 0 or a float in [0, 1]; got {value}")


def _normalize_rows(X: sp.csr_matrix, norm: str | None) -> sp.csr_matrix:
    """Divide each row by its l1 or l2 norm (rows of zeros stay zero); ``None``: unchanged."""
    if norm is None:
        return X
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))       # row of each stored value
    if norm == "l2":
        # ||v||_2 = sqrt(sum_t v_t^2)
        norms = np.sqrt(np.bincount(rows, weights=X.data ** 2, minlength=X.shape[0]))
    else:
        # ||v||_1 = sum_t |v_t|
        norms = np.bincount(rows, weights=np.abs(X.data), minlength=X.shape[0])
    norms[norms == 0.0] = 1.0                                        # zero rows: divide by 1
    out = X.copy()
    out.data = X.data / norms[rows]
    return out


# ---------------------------------------------------------------- similarity and search

def cosine_similarity(A, B=None) -> np.ndarray:
    r"""Cosine of the angle between every row of A and every row of B.

    .. math::
        S_{ij} = \frac{a_i \cdot b_j}{\lVert a_i \rVert\,\lVert b_j \rVert}

    Rows of zeros have no direction: their similarity is 0 with everything (even another zero
    row), as in scikit-learn.
    Args: A: (n_A, D) dense array or scipy sparse matrix; B: (n_B, D) likewise, or None for A.
    Returns: (n_A, n_B) float64 ndarray. Reference: ``sklearn.metrics.pairwise.cosine_similarity``.
    """
    A_hat = _unit_rows("A", A)
    B_hat = A_hat if B is None else _unit_rows("B", B)
    if A_hat.shape[1] != B_hat.shape[1]:
        raise ValueError("cosine_similarity: A and B must have the same number of columns; "
                         f"got {A_hat.shape[1]} and {B_hat.shape[1]}")
    S = A_hat @ B_hat.T                                              # (n_A, n_B)
    return np.asarray(S.toarray() if sp.issparse(S) else S, dtype=np.float64)


def _unit_rows(name: str, X):
    """Rows scaled to unit l2 norm (zero rows stay zero); sparse stays CSR, dense is float64."""
    if sp.issparse(X):
        check_ndim("cosine_similarity", name, X, 2, "(n, D)")
        return _normalize_rows(sp.csr_matrix(X, dtype=np.float64), "l2")
    X = np.asarray(X, dtype=np.float64)
    check_ndim("cosine_similarity", name, X, 2, "(n, D)")
    norms = np.linalg.norm(X, axis=1, keepdims=True)                  # (n, 1)
    return X / np.where(norms == 0.0, 1.0, norms)


def search(query: str, vectorizer, doc_matrix, *, k: int = 5) -> list[tuple[int, float]]:
    r"""The ``k`` documents most similar to ``query``: cosine of TF-IDF vectors, best first.

    The query is vectorised with the fitted ``vectorizer`` (so it gets the corpus's idf) and
    compared with each row of ``doc_matrix``. Only documents sharing at least one word with the
    query (score > 0) are returned, ties broken by the lower index; a query with no known word
    therefore returns an empty list (never arbitrary zero-score documents).
    Args: query: str; vectorizer: a fitted :class:`TfidfVectorizer` (or anything with
    ``transform``); doc_matrix: (N, V) the vectorizer's output on the corpus; k >= 1.
    Returns: list of (document index, cosine score), at most k, scores decreasing.
    """
    check_type("search", "query", query, str, "str")
    k = check_int("search", "k", k, 1)
    if not callable(getattr(vectorizer, "transform", None)):
        raise TypeError("search: vectorizer must be fitted and have a transform method; "
                        f"got {type(vectorizer).__name__}")
    q = vectorizer.transform([query])                                # (1, V)
    if q.shape[1] != doc_matrix.shape[1]:
        raise ValueError(f"search: doc_matrix must have {q.shape[1]} columns (the vectorizer's "
                         f"vocabulary); got shape {doc_matrix.shape}")
    scores = cosine_similarity(q, doc_matrix)[0]                     # (N,)
    order = np.lexsort((np.arange(len(scores)), -scores))            # best first, then lower index
    return [(int(i), float(scores[i])) for i in order[:k] if scores[i] > 0.0]
