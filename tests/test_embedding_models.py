"""Tests for companion.embedding_models: skip-gram pairs and co-occurrence counts against plain
double loops, the SGNS and GloVe losses against NumPy formulas, their gradients against central
differences (float64) and hand-derived formulas, short trainings that lower the loss,
determinism, and every bad-input message.

Tolerances: float64 ``rtol=1e-10`` for losses and gradients against formulas (differences ~1e-15);
central differences with h=1e-6 ``rtol=1e-6, atol=1e-8``.
"""
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from companion import embedding_models as M
from companion.embeddings import to_keyed_vectors

F64 = torch.float64
TOY = [["the", "cat", "sat", "on", "the", "mat"], ["the", "dog", "sat"], ["a", "cat", "and", "a", "dog"],
       ["the", "cat", "ran"]]


def randn(*shape, seed=0, scale=1.0):
    return scale * torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=F64)


# ---------------------------------------------------------------- brute-force references

def pairs_loop(ids, window, widths=None):
    """(centre, context) by a double loop; widths: per-token window in corpus order (dynamic)."""
    out, t = [], 0
    for s in ids:
        for i, c in enumerate(s):
            b = window if widths is None else widths[t]
            t += 1
            for j in range(max(0, i - b), min(len(s), i + b + 1)):
                if j != i:
                    out.append((c, s[j]))
    return np.array(out, dtype=np.int64).reshape(-1, 2)


def cooc_loop(sentences, stoi, window, symmetric=True, harmonic=True):
    X = np.zeros((len(stoi), len(stoi)))
    for s in sentences:
        s = [stoi[t] for t in s if t in stoi]
        for i in range(len(s)):
            for d in range(1, window + 1):
                if i - d < 0:
                    break
                w = 1.0 / d if harmonic else 1.0
                X[s[i], s[i - d]] += w
                if symmetric:
                    X[s[i - d], s[i]] += w
    return X


sentences_ids = st.lists(st.lists(st.integers(0, 6), max_size=9), min_size=1, max_size=5)


@settings(max_examples=40, deadline=None)
@given(ids=sentences_ids, window=st.integers(1, 4), seed=st.integers(0, 100))
def test_skipgram_pairs_match_loops(ids, window, seed):
    fixed = M.skipgram_pairs(ids, window, dynamic=False)
    np.testing.assert_array_equal(fixed, pairs_loop(ids, window))
    widths = np.random.default_rng(seed).integers(1, window + 1, size=sum(map(len, ids)))
    dynamic = M.skipgram_pairs(ids, window, random_state=seed)
    np.testing.assert_array_equal(dynamic, pairs_loop(ids, window, widths))
    assert dynamic.dtype == np.int64 and dynamic.shape[1] == 2


def test_skipgram_dynamic_window_keeps_distance_d_with_probability():
    # one long sentence: distance d is kept with probability (window - d + 1) / window
    T, window = 20000, 4
    ids = [np.arange(T)]
    pairs = M.skipgram_pairs(ids, window, random_state=0)
    distance = np.abs(pairs[:, 0] - pairs[:, 1])
    for d in range(1, window + 1):
        expected = 2 * T * (window - d + 1) / window  # both sides, ignoring the edges
        assert abs((distance == d).sum() / expected - 1) < 0.02


@settings(max_examples=30, deadline=None)
@given(window=st.integers(1, 4), symmetric=st.booleans(), harmonic=st.booleans())
def test_cooccurrence_matrix_matches_loops(window, symmetric, harmonic):
    vocab = ["the", "cat", "sat", "dog", "a"]  # "on", "mat", "and", "ran" are dropped first
    stoi = {w: i for i, w in enumerate(vocab)}
    X = M.cooccurrence_matrix(TOY, stoi, window, symmetric=symmetric,
                              weighting="harmonic" if harmonic else "uniform")
    assert sp.isspmatrix_csr(X) and X.dtype == np.float64 and X.shape == (5, 5)
    np.testing.assert_allclose(X.toarray(), cooc_loop(TOY, stoi, window, symmetric, harmonic), rtol=1e-12)
    np.testing.assert_allclose(M.cooccurrence_matrix(TOY, vocab, window, symmetric=symmetric,
                                                     weighting="harmonic" if harmonic else "uniform").toarray(),
                               X.toarray())


def test_build_vocab_order_and_negative_sampling_distribution():
    words, counts = M.build_vocab(TOY, min_count=2)
    assert words == ["the", "cat", "a", "dog", "sat"] and counts.tolist() == [4, 3, 2, 2, 2]
    p = M.negative_sampling_distribution(counts)
    np.testing.assert_allclose(p, counts ** 0.75 / (counts ** 0.75).sum(), rtol=1e-12)
    assert p.sum() == pytest.approx(1.0) and p[0] / p[-1] < counts[0] / counts[-1]  # flatter
    np.testing.assert_allclose(M.negative_sampling_distribution(counts, power=0), np.full(5, 0.2))


# ---------------------------------------------------------------- SGNS loss and gradients

def log_sigmoid_np(x):
    return -np.logaddexp(0, -x)


def sgns_numpy(v, u, n):
    pos = np.sum(u * v, axis=1)  # (N,)
    neg = np.einsum("nkd,nd->nk", n, v)  # (N, K)
    return np.mean(-log_sigmoid_np(pos) - log_sigmoid_np(-neg).sum(1))


def test_sgns_loss_matches_numpy_and_is_stable():
    v, u, n = randn(6, 4, seed=0), randn(6, 4, seed=1), randn(6, 3, 4, seed=2)
    loss = M.sgns_loss(v, u, n)
    assert loss.dtype == F64 and loss.shape == ()
    np.testing.assert_allclose(loss.item(), sgns_numpy(v.numpy(), u.numpy(), n.numpy()), rtol=1e-10)
    big = M.sgns_loss(100 * v, 100 * u, 100 * n)  # scores of magnitude ~1e4
    assert torch.isfinite(big)
    np.testing.assert_allclose(big.item(), sgns_numpy(100 * v.numpy(), 100 * u.numpy(), 100 * n.numpy()),
                               rtol=1e-10)


def test_sgns_gradients_match_formula_and_central_differences():
    v, u, n = (randn(4, 3, seed=3).requires_grad_(), randn(4, 3, seed=4).requires_grad_(),
               randn(4, 2, 3, seed=5).requires_grad_())
    M.sgns_loss(v, u, n).backward()
    with torch.no_grad():
        # d/dv = [(sigma(u.v) - 1) u + sum_k sigma(n_k.v) n_k] / N; d/du = (sigma(u.v) - 1) v / N
        g_pos = torch.sigmoid((u * v).sum(1)) - 1  # (N,)
        g_neg = torch.sigmoid(torch.einsum("nkd,nd->nk", n, v))  # (N, K)
        N = v.shape[0]
        torch.testing.assert_close(v.grad, (g_pos[:, None] * u + torch.einsum("nk,nkd->nd", g_neg, n)) / N,
                                   rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(u.grad, g_pos[:, None] * v / N, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(n.grad, g_neg[:, :, None] * v[:, None, :] / N, rtol=1e-10, atol=1e-12)
    assert torch.autograd.gradcheck(M.sgns_loss, (v.detach().requires_grad_(), u.detach().requires_grad_(),
                                                   n.detach().requires_grad_()), eps=1e-6, atol=1e-8)


def test_skipgram_module_forward_and_init():
    model = M.SkipGramNS(10, 4, generator=torch.Generator().manual_seed(0))
    assert torch.all(model.out_embed.weight == 0) and model.in_embed.weight.abs().max() <= 0.5 / 4
    c, o, k = torch.tensor([1, 2]), torch.tensor([3, 4]), torch.tensor([[5, 6], [7, 8]])
    expected = M.sgns_loss(model.in_embed(c), model.out_embed(o), model.out_embed(k))
    torch.testing.assert_close(model(c, o, k), expected)
    # zero output vectors: every score is 0, loss = (1 + K) log 2
    assert model(c, o, k).item() == pytest.approx(3 * np.log(2))
    assert model.vectors().shape == (10, 4)


# ---------------------------------------------------------------- GloVe loss

def test_glove_weight_formula_numpy_and_torch():
    x = np.array([0.0, 1.0, 50.0, 100.0, 250.0])
    expected = np.array([0.0, 0.01 ** 0.75, 0.5 ** 0.75, 1.0, 1.0])
    np.testing.assert_allclose(M.glove_weight(x), expected, rtol=1e-12)
    np.testing.assert_allclose(M.glove_weight(torch.tensor(x)).numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(M.glove_weight(x, x_max=10, alpha=1.0), np.minimum(x / 10, 1), rtol=1e-12)


def test_glove_loss_matches_hand_formula_and_gradcheck():
    w, wt, b, bt = randn(7, 3, seed=0), randn(7, 3, seed=1), randn(7, seed=2), randn(7, seed=3)
    x = torch.tensor([0.5, 1.0, 2.0, 30.0, 99.0, 100.0, 400.0], dtype=F64)
    f = np.minimum(x.numpy() / 100, 1) ** 0.75
    r = np.sum(w.numpy() * wt.numpy(), 1) + b.numpy() + bt.numpy() - np.log(x.numpy())
    np.testing.assert_allclose(M.glove_loss(w, wt, b, bt, x).item(), np.mean(f * r ** 2), rtol=1e-10)
    np.testing.assert_allclose(M.glove_loss(w, wt, b, bt, x, reduction="sum").item(), np.sum(f * r ** 2),
                               rtol=1e-10)
    args = [t.clone().requires_grad_() for t in (w, wt, b, bt)]
    assert torch.autograd.gradcheck(lambda *a: M.glove_loss(*a, x), args, eps=1e-6, atol=1e-8)


def test_glove_module_vectors_are_the_sum():
    model = M.GloVe(6, 3, generator=torch.Generator().manual_seed(0))
    np.testing.assert_allclose(model.vectors(), (model.W + model.W_tilde).detach().numpy())
    i, j, x = torch.tensor([0, 1]), torch.tensor([2, 3]), torch.tensor([1.0, 2.0])
    torch.testing.assert_close(model(i, j, x), M.glove_loss(model.W[i], model.W_tilde[j], model.b[i],
                                                            model.b_tilde[j], x))


# ---------------------------------------------------------------- short trainings

@pytest.fixture(scope="module")
def corpus():
    from gensim.utils import simple_preprocess

    from companion import data
    return [simple_preprocess(d) for d in data.load_lee_corpus()[:30]]


def test_train_sgns_lowers_the_loss_and_is_deterministic(corpus):
    kw = dict(vector_size=8, epochs=3, batch_size=2048)
    kv, losses = M.train_sgns(corpus, seed=0, **kw)
    kv2, losses2 = M.train_sgns(corpus, seed=0, **kw)
    kv3, _ = M.train_sgns(corpus, seed=1, **kw)
    assert len(losses) == 3 and losses[-1] < losses[0] < 6 * np.log(2) + 1e-6
    np.testing.assert_array_equal(kv.vectors, kv2.vectors)
    assert losses == losses2 and not np.array_equal(kv.vectors, kv3.vectors)
    words, _ = M.build_vocab(corpus, 2)
    assert kv.index_to_key == words and kv.vectors.shape == (len(words), 8)


def test_train_glove_lowers_the_loss_and_is_deterministic(corpus):
    kv, losses = M.train_glove(corpus, vector_size=8, epochs=4, seed=0)
    kv2, _ = M.train_glove(corpus, vector_size=8, epochs=4, seed=0)
    assert len(losses) == 4 and losses[-1] < losses[0]
    np.testing.assert_array_equal(kv.vectors, kv2.vectors)
    words, _ = M.build_vocab(corpus, 2)
    X = M.cooccurrence_matrix(corpus, words, 5)
    kv3, losses3 = M.train_glove(X, words=words, vector_size=8, epochs=4, seed=0)
    np.testing.assert_array_equal(kv.vectors, kv3.vectors)  # the same counts, the same fit
    assert losses3 == losses


# ---------------------------------------------------------------- bad input

def test_messages():
    v = randn(2, 3)
    with pytest.raises(ValueError, match=r"sgns_loss: context_vecs must have shape \(2, 3\); got \(2, 4\)"):
        M.sgns_loss(v, randn(2, 4), randn(2, 1, 3))
    with pytest.raises(ValueError, match=r"sgns_loss: negative_vecs must have 3 dimensions \(N, K, D\)"):
        M.sgns_loss(v, v, v)
    with pytest.raises(TypeError, match="sgns_loss: center_vecs must be a torch.Tensor; got ndarray"):
        M.sgns_loss(v.numpy(), v, randn(2, 1, 3))
    with pytest.raises(ValueError, match="skipgram_pairs: window must be an integer >= 1; got 0"):
        M.skipgram_pairs([[1, 2]], 0)
    with pytest.raises(ValueError, match="negative_sampling_distribution: counts must be non-negative"):
        M.negative_sampling_distribution([0, 0])
    with pytest.raises(ValueError, match=r"cooccurrence_matrix: weighting must be 'harmonic' or 'uniform'"):
        M.cooccurrence_matrix(TOY, ["the"], weighting="linear")
    with pytest.raises(TypeError, match="cooccurrence_matrix: vocab must be a dict word -> index or a list"):
        M.cooccurrence_matrix(TOY, "the")
    with pytest.raises(ValueError, match=r"cooccurrence_matrix: vocab indices must be 0..1, each once"):
        M.cooccurrence_matrix(TOY, {"the": 0, "cat": 5})
    with pytest.raises(TypeError, match=r"cooccurrence_matrix: sentences must be a list of token lists .* "
                                        r"sentence 0 is str"):
        M.cooccurrence_matrix(["the cat"], ["the"])
    with pytest.raises(ValueError, match="glove_loss: x must hold positive counts"):
        M.glove_loss(v, v, randn(2), randn(2), torch.zeros(2, dtype=F64))
    with pytest.raises(ValueError, match="glove_loss: reduction must be 'mean' or 'sum'; got 'max'"):
        M.glove_loss(v, v, randn(2), randn(2), torch.ones(2, dtype=F64), reduction="max")
    with pytest.raises(ValueError, match=r"glove_loss: b must have shape \(2,\); got \(3,\)"):
        M.glove_loss(v, v, randn(3), randn(2), torch.ones(2, dtype=F64))
    with pytest.raises(ValueError, match="glove_weight: x_max must be finite and > 0; got 0"):
        M.glove_weight(1.0, x_max=0)
    with pytest.raises(ValueError, match="train_sgns: no word occurs min_count=5 times"):
        M.train_sgns(TOY, min_count=5)
    with pytest.raises(ValueError, match="train_sgns: lr must be finite and > 0; got -0.1"):
        M.train_sgns(TOY, lr=-0.1)
    with pytest.raises(ValueError, match="train_glove: a co-occurrence matrix needs words, one per row"):
        M.train_glove(sp.csr_matrix((3, 3)))
    with pytest.raises(ValueError, match="SkipGramNS: vocab_size must be an integer >= 1; got 0"):
        M.SkipGramNS(0, 3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_trainings_run_on_cuda(corpus):
    kv, losses = M.train_sgns(corpus, vector_size=8, epochs=2, device="cuda")
    assert kv.vectors.shape[1] == 8 and losses[-1] < losses[0]
    kv, losses = M.train_glove(corpus, vector_size=8, epochs=2, device="cuda")
    assert kv.vectors.shape[1] == 8 and losses[-1] < losses[0]
