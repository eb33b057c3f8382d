r"""Two word-embedding models written from scratch: skip-gram with negative sampling, and GloVe.

**SGNS** (Mikolov et al. 2013, "Distributed Representations of Words and Phrases and their
Compositionality"): every word has an input vector :math:`v_w` and an output vector :math:`u_w`;
a logistic regression tells the (centre, context) pairs of the corpus from K noise pairs
(:func:`sgns_loss`). The word vectors are the :math:`v_w`.

**GloVe** (Pennington, Socher & Manning 2014): count co-occurrences :math:`X_{ij}` once
(:func:`cooccurrence_matrix`), then fit :math:`w_i^\top \tilde w_j + b_i + \tilde b_j \approx
\log X_{ij}` by weighted least squares with AdaGrad (:func:`glove_loss`); the vectors are
:math:`W + \tilde W`.

Sentences are lists of str tokens; vocabularies are sorted by decreasing count, ties
alphabetical; trained vectors come back as gensim ``KeyedVectors`` (:func:`to_keyed_vectors`),
so that :mod:`companion.embeddings` evaluates them exactly as it evaluates gensim's.
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from torch import nn

from .validation import (check_int, check_ndim, check_positive, check_random_state, check_shape,
                         check_tensor)

__all__ = ["to_keyed_vectors", "build_vocab", "skipgram_pairs", "negative_sampling_distribution", "sgns_loss",
           "SkipGramNS", "train_sgns", "cooccurrence_matrix", "glove_weight", "glove_loss",
           "GloVe", "train_glove"]


# ---------------------------------------------------------------- shared: vocabulary and ids

def build_vocab(sentences, min_count=1):
    """(words, counts): words seen >= min_count times, by decreasing count then alphabetically.

    ``counts`` is an int64 array (V,) aligned with ``words``.
    """
    check_int("build_vocab", "min_count", min_count, 1)
    counter = Counter(t for s in sentences for t in s)
    kept = sorted((w for w, n in counter.items() if n >= min_count), key=lambda w: (-counter[w], w))
    return kept, np.array([counter[w] for w in kept], dtype=np.int64)


def check_sentences(func, sentences):
    """A list of token lists (a str would be read as a list of characters) with some token."""
    if isinstance(sentences, str) or not hasattr(sentences, "__iter__"):
        raise TypeError(f"{func}: sentences must be a list of token lists; got {type(sentences).__name__}")
    sentences = list(sentences)
    for i, s in enumerate(sentences):
        if isinstance(s, str) or not all(isinstance(t, str) for t in s):
            raise TypeError(f"{func}: sentences must be a list of token lists (list[list[str]]); "
                            f"sentence {i} is {type(s).__name__} {str(s)[:40]!r} (tokenize it first)")
    if not any(sentences):
        raise ValueError(f"{func}: sentences must hold at least one token; got {len(sentences)} "
                         "sentences, all empty")
    return sentences


def _encode(sentences, stoi):
    """Token ids per sentence, out-of-vocabulary tokens dropped (as word2vec and GloVe do)."""
    return [np.array([stoi[t] for t in s if t in stoi], dtype=np.int64) for s in sentences]


def _flatten(ids):
    """(tokens (T,), sentence index (T,)) of a list of id arrays."""
    ids = [np.zeros(0, np.int64)] + [np.asarray(s, dtype=np.int64).reshape(-1) for s in ids]
    return np.concatenate(ids), np.repeat(np.arange(-1, len(ids) - 1), [len(s) for s in ids])


# ---------------------------------------------------------------- skip-gram with negative sampling

def skipgram_pairs(ids, window, *, random_state=None, dynamic=True):
    r"""All (centre, context) pairs with the context at most ``window`` tokens away, same sentence.

    With ``dynamic=True`` each centre position t gets its own window :math:`b_t \sim
    U\{1..\mathrm{window}\}`, drawn as ``rng.integers(1, window + 1, size=T)`` over the T tokens
    in corpus order, as word2vec's "reduced window" does: near neighbours are used more often
    than far ones (distance d is kept with probability (window - d + 1) / window).

    Args: ``ids`` sentences, each a sequence of int token ids; ``window`` >= 1.
    Returns: (P, 2) int64 (centre id, context id), ordered by centre position, then context
    position (the order of the plain double loop).
    """
    func = "skipgram_pairs"
    check_int(func, "window", window, 1)
    rng = check_random_state(func, random_state)
    flat, sent = _flatten(ids)
    T = len(flat)
    b = rng.integers(1, window + 1, size=T) if dynamic else np.full(T, window)  # (T,)
    centre_pos, context_pos = [], []
    for d in range(1, window + 1):
        t = np.arange(T - d)  # pairs of positions (t, t + d)
        same = sent[t] == sent[t + d]
        right = t[same & (b[t] >= d)]  # centre t, context t + d
        left = t[same & (b[t + d] >= d)] + d  # centre t + d, context t
        centre_pos += [right, left]
        context_pos += [right + d, left - d]
    c, o = np.concatenate(centre_pos), np.concatenate(context_pos)
    order = np.lexsort((o, c))  # by centre position, then context position
    return np.stack([flat[c[order]], flat[o[order]]], axis=1)  # (P, 2)


def negative_sampling_distribution(counts, power=0.75):
    r"""Noise distribution :math:`P(w) = c_w^{p} / \sum_v c_v^{p}` (p = 3/4 in word2vec), (V,) float64.

    The power < 1 flattens the unigram distribution: rare words are drawn more often than their
    frequency, frequent words less.
    """
    func = "negative_sampling_distribution"
    counts = np.asarray(counts, dtype=np.float64)
    check_ndim(func, "counts", counts, 1, "(V,)")
    check_positive(func, "power", power, allow_zero=True)
    if len(counts) == 0 or np.any(counts < 0) or counts.sum() <= 0:
        raise ValueError(f"{func}: counts must be non-negative with a positive sum; got {counts[:5]}...")
    weights = counts ** power
    return weights / weights.sum()


def sgns_loss(center_vecs, context_vecs, negative_vecs):
    r"""Mean skip-gram negative-sampling loss of N pairs.

    .. math::
        \ell = \frac{1}{N}\sum_{n}\Big[-\log\sigma(u_{o_n}^\top v_{c_n})
               - \sum_{k=1}^{K}\log\sigma(-u_{n,k}^\top v_{c_n})\Big]

    Args: ``center_vecs`` (N, D) input vectors :math:`v_c`; ``context_vecs`` (N, D) output
    vectors :math:`u_o` of the true contexts; ``negative_vecs`` (N, K, D) those of K noise words.
    Returns a scalar tensor. Stable: ``F.logsigmoid`` (log σ(x) = -softplus(-x)) stays finite
    for scores of magnitude 1e4, where log(sigmoid(x)) would give log 0 = -inf.
    """
    func = "sgns_loss"
    for name, t in (("center_vecs", center_vecs), ("context_vecs", context_vecs),
                    ("negative_vecs", negative_vecs)):
        check_tensor(func, name, t)
    check_ndim(func, "center_vecs", center_vecs, 2, "(N, D)")
    N, D = center_vecs.shape
    check_shape(func, "context_vecs", context_vecs, (N, D))
    check_ndim(func, "negative_vecs", negative_vecs, 3, "(N, K, D)")
    check_shape(func, "negative_vecs", negative_vecs, (N, None, D))
    # u_o . v_c for the true pair, u_k . v_c for each noise word
    positive = (context_vecs * center_vecs).sum(-1)  # (N,)
    negative = (negative_vecs * center_vecs.unsqueeze(1)).sum(-1)  # (N, K); faster than bmm here
    # -log sigma(u_o.v_c) - sum_k log sigma(-u_k.v_c)
    return -(F.logsigmoid(positive) + F.logsigmoid(-negative).sum(-1)).mean()


class SkipGramNS(nn.Module):
    """Skip-gram with negative sampling: input vectors ``in_embed`` (V, D), output ``out_embed``.

    Initialised as word2vec: input vectors uniform in [-0.5/D, 0.5/D), output vectors zero.
    """

    def __init__(self, vocab_size, embedding_dim, *, generator=None):
        super().__init__()
        check_int("SkipGramNS", "vocab_size", vocab_size, 1)
        check_int("SkipGramNS", "embedding_dim", embedding_dim, 1)
        init = (torch.rand(vocab_size, embedding_dim, generator=generator) - 0.5) / embedding_dim
        self.in_embed = nn.Embedding.from_pretrained(init, freeze=False)  # (V, D)
        self.out_embed = nn.Embedding.from_pretrained(torch.zeros_like(init), freeze=False)

    def forward(self, center, context, negatives):
        """Loss of N pairs: center (N,), context (N,), negatives (N, K) int64 ids -> scalar."""
        check_ndim("SkipGramNS.forward", "center", center, 1, "(N,)")
        check_shape("SkipGramNS.forward", "context", context, (center.shape[0],))
        check_shape("SkipGramNS.forward", "negatives", negatives, (center.shape[0], None))
        return sgns_loss(self.in_embed(center), self.out_embed(context), self.out_embed(negatives))

    def vectors(self):
        """The input embeddings (V, D) as a NumPy array (a copy, on the CPU)."""
        return self.in_embed.weight.detach().cpu().numpy().copy()


def _check_training(func, sentences, lr, min_count, **sizes):
    """The sentences, validated; the vocabulary (words, counts); every size checked."""
    for name, value in dict(sizes, min_count=min_count).items():
        check_int(func, name, value, 1)
    check_positive(func, "lr", lr)
    words, counts = build_vocab(check_sentences(func, sentences), min_count)
    if not words:
        raise ValueError(f"{func}: no word occurs min_count={min_count} times")
    return words, counts


def _epoch(optimizer, batch_loss, tensors, batch_size):
    """One pass over the rows of ``tensors`` in batches; the mean loss per row.

    ``batch_loss(*batch) -> (loss to minimise, its weight in the epoch's total)``.
    """
    n, total = len(tensors[0]), 0.0
    for start in range(0, n, batch_size):
        loss, weight = batch_loss(*(t[start:start + batch_size] for t in tensors))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * weight
    return total / max(n, 1)


def to_keyed_vectors(words, vectors):
    """Wrap V words and their (V, D) vectors as a gensim ``KeyedVectors`` (float32, as gensim).

    Row i of ``vectors`` belongs to ``words[i]``; the order is kept (put the most frequent words
    first: ``restrict_vocab`` in the evaluations takes the first rows). Raises ValueError for
    duplicate words or mismatched sizes. The input array is copied, never modified.
    """
    from gensim.models import KeyedVectors

    func = "to_keyed_vectors"
    words = list(words)
    if not all(isinstance(w, str) for w in words):
        raise TypeError(f"{func}: words must be a list of str")
    vectors = np.asarray(vectors)
    check_ndim(func, "vectors", vectors, 2, "(V, D)")
    if vectors.shape[0] != len(words):
        raise ValueError(f"{func}: vectors must have one row per word: {len(words)} words; "
                         f"got shape {vectors.shape}")
    if len(set(words)) != len(words):
        dup = next(w for i, w in enumerate(words) if w in words[:i])
        raise ValueError(f"{func}: words must be unique; {dup!r} appears more than once")
    kv = KeyedVectors(vector_size=vectors.shape[1], count=0, dtype=np.float32)
    kv.add_vectors(words, vectors.astype(np.float32, copy=True))
    return kv


def _subsample(ids, counts, sample, rng):
    r"""word2vec's down-sampling of frequent words: keep w with prob. (sqrt(f/s) + 1) s / f.

    f = count(w) / total and s = ``sample``; words with f <= s are always kept.
    """
    if not sample:
        return ids
    f = counts / counts.sum()  # (V,)
    keep = np.minimum(1.0, (np.sqrt(f / sample) + 1) * sample / f)  # (V,)
    return [s[rng.random(len(s)) < keep[s]] for s in ids]


def train_sgns(sentences, *, vector_size=100, window=5, negative=5, min_count=2, epochs=5,
               lr=0.02, batch_size=4096, sample=1e-4, seed=0, device=None):
    r"""Train :class:`SkipGramNS` on tokenised sentences with Adam on mini-batches.

    Each epoch: subsample frequent words (``sample``, as word2vec; 0 switches it off), build the
    pairs with a dynamic window (:func:`skipgram_pairs`), draw ``negative`` noise words per pair
    from :func:`negative_sampling_distribution`, shuffle, and take Adam steps on batches of
    ``batch_size`` pairs. (word2vec uses plain SGD with a decaying rate, one pair at a time;
    Adam on batches is faster in torch and needs fewer epochs.)

    Returns (KeyedVectors (V, vector_size) of the input vectors, mean loss per epoch).
    Deterministic for a seed on a given device: NumPy draws the data, a seeded
    ``torch.Generator`` the initial vectors.
    """
    func = "train_sgns"
    words, counts = _check_training(func, sentences, lr, min_count, vector_size=vector_size,
                                    window=window, negative=negative, epochs=epochs,
                                    batch_size=batch_size)
    check_positive(func, "sample", sample, allow_zero=True)
    rng = check_random_state(func, seed)
    ids = _encode(sentences, {w: i for i, w in enumerate(words)})
    noise = negative_sampling_distribution(counts)
    device = torch.device(device or "cpu")
    model = SkipGramNS(len(words), vector_size, generator=torch.Generator().manual_seed(seed)).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    # a batch's loss is the mean over its pairs: weight it by the batch size in the epoch's mean
    def batch_loss(pairs, negatives):
        return model(pairs[:, 0], pairs[:, 1], negatives), len(pairs)

    losses = []
    for _ in range(epochs):
        pairs = skipgram_pairs(_subsample(ids, counts, sample, rng), window, random_state=rng)
        pairs = pairs[rng.permutation(len(pairs))]  # (P, 2) shuffled
        negatives = rng.choice(len(words), size=(len(pairs), negative), p=noise)  # (P, K)
        tensors = [torch.from_numpy(a).to(device) for a in (pairs, negatives)]
        losses.append(_epoch(optimizer, batch_loss, tensors, batch_size))
    return to_keyed_vectors(words, model.vectors()), losses


# ---------------------------------------------------------------- GloVe

def _vocab_index(func, vocab):
    if isinstance(vocab, dict):
        stoi = dict(vocab)
    elif isinstance(vocab, (list, tuple)):
        stoi = {w: i for i, w in enumerate(vocab)}
    else:
        raise TypeError(f"{func}: vocab must be a dict word -> index or a list of words; "
                        f"got {type(vocab).__name__}")
    if sorted(stoi.values()) != list(range(len(stoi))):
        raise ValueError(f"{func}: vocab indices must be 0..{len(stoi) - 1}, each once")
    return stoi


def cooccurrence_matrix(sentences, vocab, window=5, *, symmetric=True, weighting="harmonic"):
    r"""Word-word co-occurrence counts :math:`X_{ij}` within ``window`` tokens, as GloVe counts them.

    .. math::
        X_{ij} = \sum_{\text{occurrences of } j \text{ at distance } 1 \le d \le \mathrm{window}
                 \text{ left of } i} \mathrm{weight}(d), \qquad \mathrm{weight}(d) = 1/d
                 \ (\texttt{"harmonic"}) \text{ or } 1 \ (\texttt{"uniform"})

    ``symmetric=True`` counts right contexts too (:math:`X + X^\top` of the left counts), as
    GloVe's default. Out-of-vocabulary tokens are dropped before counting (GloVe's cooccur.c
    does the same), and windows never cross sentence boundaries.

    Args: ``sentences`` N token lists; ``vocab`` dict word -> index (0..V-1) or list of V words.
    Returns: scipy.sparse.csr_matrix (V, V) float64.
    """
    func = "cooccurrence_matrix"
    sentences = check_sentences(func, sentences)
    check_int(func, "window", window, 1)
    if weighting not in ("harmonic", "uniform"):
        raise ValueError(f"{func}: weighting must be 'harmonic' or 'uniform'; got {weighting!r}")
    stoi = _vocab_index(func, vocab)
    flat, sent = _flatten(_encode(sentences, stoi))
    rows, cols, vals = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0)]
    for d in range(1, window + 1):
        t = np.arange(len(flat) - d)
        t = t[sent[t] == sent[t + d]]  # word flat[t + d] has word flat[t] at distance d on its left
        rows.append(flat[t + d])
        cols.append(flat[t])
        vals.append(np.full(len(t), 1.0 / d if weighting == "harmonic" else 1.0))
    V = len(stoi)
    X = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(V, V)).tocsr()  # duplicates are summed
    X = X + X.T if symmetric else X
    X.sum_duplicates()  # canonical: sorted indices, no repeated entries
    return X


def glove_weight(x, x_max=100, alpha=0.75):
    r""":math:`f(x) = (x / x_{\max})^{\alpha}` for :math:`x < x_{\max}`, else 1 (NumPy or torch).

    f(0) = 0 (pairs never seen cost nothing), grows slowly for rare pairs (whose counts are
    noisy) and caps at 1 so that very frequent pairs ("of the") do not dominate.
    """
    check_positive("glove_weight", "x_max", x_max)
    check_positive("glove_weight", "alpha", alpha)
    if isinstance(x, torch.Tensor):
        return (x / x_max).clamp(max=1.0) ** alpha
    return np.minimum(np.asarray(x, dtype=np.float64) / x_max, 1.0) ** alpha


def glove_loss(w, w_tilde, b, b_tilde, x, *, x_max=100, alpha=0.75, reduction="mean"):
    r"""GloVe's weighted least-squares cost over N non-zero co-occurrences (i_n, j_n).

    .. math::
        J = \frac{1}{N}\sum_{n} f(x_n)\,(w_{i_n}^\top \tilde w_{j_n} + b_{i_n} + \tilde b_{j_n}
            - \log x_n)^2

    Args: ``w``, ``w_tilde`` (N, D) word and context vectors of each pair; ``b``, ``b_tilde`` (N,)
    their biases; ``x`` (N,) the counts, all > 0; ``reduction`` "mean" (above) or "sum" (the
    paper's J). Returns a scalar tensor.
    """
    func = "glove_loss"
    for name, t in (("w", w), ("w_tilde", w_tilde), ("b", b), ("b_tilde", b_tilde), ("x", x)):
        check_tensor(func, name, t)
    check_ndim(func, "w", w, 2, "(N, D)")
    check_shape(func, "w_tilde", w_tilde, tuple(w.shape))
    for name, t in (("b", b), ("b_tilde", b_tilde), ("x", x)):
        check_shape(func, name, t, (w.shape[0],))
    if reduction not in ("mean", "sum"):
        raise ValueError(f"{func}: reduction must be 'mean' or 'sum'; got {reduction!r}")
    if bool((x <= 0).any()):
        raise ValueError(f"{func}: x must hold positive counts (only non-zero X_ij enter the cost)")
    # w_i . w~_j + b_i + b~_j - log X_ij
    residual = (w * w_tilde).sum(-1) + b + b_tilde - torch.log(x)  # (N,)
    cost = glove_weight(x, x_max, alpha) * residual ** 2  # (N,)
    return cost.mean() if reduction == "mean" else cost.sum()


class GloVe(nn.Module):
    """GloVe parameters: W, W̃ (V, D) uniform in [-0.5/D, 0.5/D) as the reference code, b, b̃ (V,) zero."""

    def __init__(self, vocab_size, embedding_dim, *, generator=None):
        super().__init__()
        check_int("GloVe", "vocab_size", vocab_size, 1)
        check_int("GloVe", "embedding_dim", embedding_dim, 1)
        init = (torch.rand(2, vocab_size, embedding_dim, generator=generator) - 0.5) / embedding_dim
        self.W, self.W_tilde = nn.Parameter(init[0].clone()), nn.Parameter(init[1].clone())
        self.b, self.b_tilde = nn.Parameter(torch.zeros(vocab_size)), nn.Parameter(torch.zeros(vocab_size))

    def forward(self, i, j, x, *, x_max=100, alpha=0.75, reduction="mean"):
        """Cost of the pairs (i (N,), j (N,)) with counts x (N,)."""
        # F.embedding: the row lookup W[i], whose backward sums repeated rows deterministically
        return glove_loss(F.embedding(i, self.W), F.embedding(j, self.W_tilde), self.b[i],
                          self.b_tilde[j], x, x_max=x_max, alpha=alpha, reduction=reduction)

    def vectors(self):
        """W + W̃ (V, D) as NumPy: the paper sums both sets (they play symmetric roles)."""
        return (self.W + self.W_tilde).detach().cpu().numpy().copy()


def train_glove(sentences, *, vector_size=50, window=5, min_count=2, epochs=20, lr=0.05,
                x_max=100, alpha=0.75, batch_size=16384, words=None, seed=0, device=None):
    r"""Fit :class:`GloVe` with AdaGrad, as the paper (lr 0.05, accumulators start at 1).

    ``sentences`` is a list of token lists (the counts come from :func:`cooccurrence_matrix`,
    vocabulary of words seen ``min_count`` times) or an already counted (V, V) sparse matrix,
    then with ``words`` (V,) naming its rows. Each epoch visits every non-zero X_ij once in a
    shuffled order, in batches of ``batch_size``, minimising the summed cost of the batch (the
    reference code updates one pair at a time).

    Returns (KeyedVectors of W + W̃ (V, vector_size), mean cost per non-zero X_ij per epoch).
    """
    func = "train_glove"
    if sp.issparse(sentences):
        if words is None or len(words) != sentences.shape[0]:
            raise ValueError(f"{func}: a co-occurrence matrix needs words, one per row")
        X, words = sp.csr_matrix(sentences), list(words)
        _check_training(func, [words], lr, 1, vector_size=vector_size, epochs=epochs,
                        batch_size=batch_size)
    else:
        words, _ = _check_training(func, sentences, lr, min_count, vector_size=vector_size,
                                   window=window, epochs=epochs, batch_size=batch_size)
        X = cooccurrence_matrix(sentences, words, window)
    rng, device, coo = check_random_state(func, seed), torch.device(device or "cpu"), X.tocoo()
    i, j, x = (torch.from_numpy(a).to(device) for a in
               (coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data.astype(np.float32)))
    model = GloVe(len(words), vector_size, generator=torch.Generator().manual_seed(seed)).to(device)
    optimizer = torch.optim.Adagrad(model.parameters(), lr=lr, initial_accumulator_value=1.0)
    # a batch's cost is the sum over its entries (as the reference's per-entry updates add up)
    def batch_loss(rows, cols, counts):
        return model(rows, cols, counts, x_max=x_max, alpha=alpha, reduction="sum"), 1

    losses = []
    for _ in range(epochs):
        order = torch.from_numpy(rng.permutation(len(x))).to(device)  # a shuffled pass
        losses.append(_epoch(optimizer, batch_loss, (i[order], j[order], x[order]), batch_size))
    return to_keyed_vectors(words, model.vectors()), losses
