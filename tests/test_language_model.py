"""Tests for companion.language_model: the character tokenizer, batches, TinyGPT (shapes,
causality, a short training that lowers the loss), sampling (seeded, top_k=1 = greedy,
context cropping), the losses against F.cross_entropy and formulas, the bigram baseline against
a counting loop, BERT's masking recipe on statistics, the masked language model (bidirectional),
and every bad-input message.

Tolerances: float64 ``rtol=1e-10`` for formulas; the masking proportions on ~100 000 chosen
positions within 0.01 (about 4 standard deviations of a proportion near 0.1).
"""
import math

import pytest
import torch

from companion import language_model as LM

TEXT = "the cat sat on the mat. the dog sat on the log. a cat and a dog met.\n" * 4


def gen(seed):
    return torch.Generator().manual_seed(seed)


def tiny_gpt(V=7, block_size=8, seed=0, **kw):
    torch.manual_seed(seed)
    return LM.TinyGPT(V, block_size, d_model=16, nhead=2, num_layers=2, dim_feedforward=32, **kw)


# ---------------------------------------------------------------- tokenizer and batches

def test_char_tokenizer_round_trip_and_sorted_vocabulary():
    tok = LM.CharTokenizer.fit(TEXT)
    assert tok.chars == sorted(set(TEXT)) and tok.vocab_size == len(set(TEXT))
    ids = tok.encode("a cat")
    assert ids.dtype == torch.long and ids.tolist() == [tok.chars.index(c) for c in "a cat"]
    assert tok.decode(ids) == "a cat" and tok.decode(ids.tolist()) == "a cat"


def test_get_batch_targets_are_inputs_shifted_by_one_and_seeded():
    data = torch.arange(100)
    x, y = LM.get_batch(data, 8, 5, generator=gen(0))
    assert x.shape == y.shape == (5, 8) and x.dtype == torch.long
    assert torch.equal(y, x + 1)  # data[i] = i: each window is contiguous, y one step ahead
    assert torch.equal(x[:, 1:], x[:, :-1] + 1)
    x2, _ = LM.get_batch(data, 8, 5, generator=gen(0))
    assert torch.equal(x, x2)
    assert len(list(LM.random_batches(data, 8, 5, 3, generator=gen(0)))) == 3


# ---------------------------------------------------------------- TinyGPT

def test_tiny_gpt_shapes_and_initial_loss_near_log_vocab():
    model = tiny_gpt()
    idx = torch.randint(7, (3, 8), generator=gen(0))
    logits = model(idx)
    assert logits.shape == (3, 8, 7)
    # at initialisation the predictions are nearly uniform: loss ~ ln V
    assert abs(LM.language_model_loss(logits, idx).item() - math.log(7)) < 0.1
    assert model(idx[:, :3]).shape == (3, 3, 7)  # shorter contexts work too


def test_tiny_gpt_is_causal():
    model = tiny_gpt()
    idx = torch.randint(7, (2, 8), generator=gen(0))
    changed = idx.clone()
    changed[:, 5:] = (idx[:, 5:] + 1) % 7  # change the future
    a, b = model(idx), model(changed)
    torch.testing.assert_close(a[:, :5], b[:, :5], rtol=0, atol=1e-6)
    assert (a[:, 5:] - b[:, 5:]).abs().max() > 1e-4


def test_masked_language_model_is_bidirectional():
    torch.manual_seed(0)
    model = LM.MaskedLanguageModel(8, 8, d_model=16, nhead=2, num_layers=1, dim_feedforward=32)
    idx = torch.randint(7, (2, 8), generator=gen(0))
    changed = idx.clone()
    changed[:, 7] = (idx[:, 7] + 1) % 7
    assert (model(idx)[:, 0] - model(changed)[:, 0]).abs().max() > 1e-4  # position 0 sees the end


def test_a_short_training_lowers_the_loss():
    tok = LM.CharTokenizer.fit(TEXT)
    data = tok.encode(TEXT)
    model = tiny_gpt(tok.vocab_size, 16)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    g = gen(0)
    losses = []
    for _ in range(60):
        x, y = LM.get_batch(data, 16, 16, generator=g)
        loss = LM.language_model_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[0] > 2.5 and sum(losses[-5:]) / 5 < 0.6 * losses[0]


# ---------------------------------------------------------------- losses and the bigram baseline

def test_language_model_loss_and_bits_per_char():
    g = gen(0)
    logits = torch.randn(2, 3, 5, generator=g, dtype=torch.float64)
    targets = torch.randint(5, (2, 3), generator=g)
    log_p = torch.log_softmax(logits, -1)
    expected = -sum(log_p[n, t, targets[n, t]] for n in range(2) for t in range(3)) / 6
    torch.testing.assert_close(LM.language_model_loss(logits, targets), expected, rtol=1e-10, atol=0)
    assert LM.bits_per_char(math.log(2)) == pytest.approx(1.0)
    assert LM.bits_per_char(math.log(8)) == pytest.approx(3.0)


def test_mlm_loss_averages_over_the_chosen_positions_only():
    g = gen(0)
    logits = torch.randn(2, 4, 5, generator=g, dtype=torch.float64)
    labels = torch.tensor([[-100, 2, -100, 4], [0, -100, -100, -100]])
    chosen = [(0, 1), (0, 3), (1, 0)]
    expected = -sum(torch.log_softmax(logits[n, t], -1)[labels[n, t]] for n, t in chosen) / 3
    torch.testing.assert_close(LM.mlm_loss(logits, labels), expected, rtol=1e-10, atol=0)


@pytest.mark.parametrize("alpha", [1.0, 0.1])
def test_bigram_baseline_matches_a_counting_loop(alpha):
    train, val, V = torch.tensor([0, 1, 2, 1, 0, 1, 1, 2]), torch.tensor([1, 2, 0, 3, 1]), 4
    counts = [[0] * V for _ in range(V)]
    for a, b in zip(train.tolist(), train.tolist()[1:]):
        counts[a][b] += 1
    bits = [-math.log2((counts[a][b] + alpha) / (sum(counts[a]) + alpha * V))
            for a, b in zip(val.tolist(), val.tolist()[1:])]
    ours = LM.bigram_bits_per_char(train, val, V, alpha=alpha)
    assert ours == pytest.approx(sum(bits) / len(bits), rel=1e-10)


# ---------------------------------------------------------------- sampling

def test_generate_is_seeded_crops_the_context_and_restores_the_mode():
    model = tiny_gpt().train()
    idx = torch.zeros(2, 1, dtype=torch.long)
    a = LM.generate(model, idx, 20, generator=gen(5))  # 21 tokens > block_size 8: cropped
    b = LM.generate(model, idx, 20, generator=gen(5))
    assert a.shape == (2, 21) and torch.equal(a, b) and torch.equal(a[:, :1], idx)
    assert not torch.equal(a, LM.generate(model, idx, 20, generator=gen(6)))
    assert model.training


def test_top_k_1_is_greedy_argmax():
    model = tiny_gpt()
    idx = torch.randint(7, (2, 3), generator=gen(0))
    greedy = idx.clone()
    with torch.no_grad():
        for _ in range(10):
            nxt = model(greedy[:, -8:])[:, -1].argmax(-1, keepdim=True)
            greedy = torch.cat([greedy, nxt], 1)
    out = LM.generate(model, idx, 10, top_k=1, temperature=0.7, generator=gen(1))
    assert torch.equal(out, greedy)


def test_top_k_restricts_the_draws_to_the_k_most_likely():
    model = tiny_gpt()
    idx = torch.zeros(200, 4, dtype=torch.long)
    with torch.no_grad():
        top2 = set(model(idx[:1])[0, -1].topk(2).indices.tolist())
    drawn = set(LM.generate(model, idx, 1, top_k=2, temperature=5.0, generator=gen(0))[:, -1].tolist())
    assert drawn == top2


# ---------------------------------------------------------------- masked language modelling

def test_mask_tokens_follows_berts_80_10_10_recipe():
    V, mask_id = 10, 10
    ids = torch.randint(V, (1000, 500), generator=gen(0))
    before = ids.clone()
    inputs, labels = LM.mask_tokens(ids, mask_id=mask_id, vocab_size=V, p=0.2, generator=gen(1))
    assert torch.equal(ids, before)
    chosen = labels != -100
    assert torch.equal(labels[chosen], ids[chosen])  # labels: the original id where chosen ...
    assert torch.equal(inputs[~chosen], ids[~chosen])  # ... elsewhere -100 and the input unchanged
    assert abs(chosen.float().mean().item() - 0.2) < 0.01
    x, orig = inputs[chosen], ids[chosen]
    masked = (x == mask_id).float().mean().item()
    same = (x == orig).float().mean().item()  # 10 % kept + random draws that hit the original (1/V)
    assert abs(masked - 0.8) < 0.01 and abs(same - (0.1 + 0.1 / V)) < 0.01
    assert abs(1 - masked - same - 0.1 * (1 - 1 / V)) < 0.01  # changed to another token
    again = LM.mask_tokens(ids, mask_id=mask_id, vocab_size=V, p=0.2, generator=gen(1))
    assert torch.equal(again[0], inputs) and torch.equal(again[1], labels)


# ---------------------------------------------------------------- bad input

def test_bad_inputs_of_tokenizer_and_batches():
    tok = LM.CharTokenizer.fit("abc")
    with pytest.raises(ValueError, match=r"CharTokenizer.encode: unknown characters \['z'\]"):
        tok.encode("abz")
    with pytest.raises(ValueError, match=r"CharTokenizer.decode: ids must be in 0..2; got \[3\]"):
        tok.decode([0, 3])
    with pytest.raises(ValueError, match="CharTokenizer.fit: text must not be empty"):
        LM.CharTokenizer.fit("")
    with pytest.raises(TypeError, match="CharTokenizer.fit: text must be a str"):
        LM.CharTokenizer.fit(["a"])
    with pytest.raises(ValueError, match="get_batch: data must be longer than block_size=8; got 8 ids"):
        LM.get_batch(torch.arange(8), 8, 2)
    with pytest.raises(TypeError, match="get_batch: generator must be a torch.Generator or None"):
        LM.get_batch(torch.arange(20), 8, 2, generator=0)
    with pytest.raises(ValueError, match=r"get_batch: data must have 1 dimensions \(T,\)"):
        LM.get_batch(torch.zeros(2, 20, dtype=torch.long), 8, 2)


def test_bad_inputs_of_models_and_losses():
    model = tiny_gpt()
    with pytest.raises(ValueError, match="TinyGPT: sequence length T=9 exceeds block_size=8"):
        model(torch.zeros(1, 9, dtype=torch.long))
    with pytest.raises(ValueError, match=r"TinyGPT: idx must have 2 dimensions \(N, T\)"):
        model(torch.zeros(9, dtype=torch.long))
    with pytest.raises(ValueError, match="TinyGPT: vocab_size must be an integer >= 1; got 0"):
        LM.TinyGPT(0, 8)
    with pytest.raises(ValueError, match=r"language_model_loss: targets must have shape \(N, T\) = \(2, 3\)"):
        LM.language_model_loss(torch.zeros(2, 3, 5), torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"mlm_loss: labels must have shape \(N, T\) = \(2, 3\)"):
        LM.mlm_loss(torch.zeros(2, 3, 5), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"mlm_loss: labels choose no position \(all -100\)"):
        LM.mlm_loss(torch.zeros(2, 3, 5), torch.full((2, 3), -100))
    with pytest.raises(ValueError, match="bigram_bits_per_char: val_ids must hold at least 2 ids in 0..3"):
        LM.bigram_bits_per_char(torch.tensor([0, 1, 2]), torch.tensor([0, 4]), 4)
    with pytest.raises(ValueError, match="bigram_bits_per_char: alpha must be finite and > 0"):
        LM.bigram_bits_per_char(torch.tensor([0, 1, 2]), torch.tensor([0, 1]), 4, alpha=0.0)


def test_bad_inputs_of_generate_and_mask_tokens():
    model, idx = tiny_gpt(), torch.zeros(1, 2, dtype=torch.long)
    with pytest.raises(ValueError, match="generate: temperature must be finite and > 0; got 0"):
        LM.generate(model, idx, 3, temperature=0)
    with pytest.raises(ValueError, match="generate: top_k must be in 1..vocab_size=7; got 8"):
        LM.generate(model, idx, 3, top_k=8)
    with pytest.raises(ValueError, match="generate: top_k must be an integer >= 1; got 0"):
        LM.generate(model, idx, 3, top_k=0)
    with pytest.raises(TypeError, match="generate: model must have a block_size attribute"):
        LM.generate(torch.nn.Linear(2, 2), idx, 3)
    with pytest.raises(TypeError, match="mask_tokens: ids must be a torch.Tensor"):
        LM.mask_tokens([1, 2], mask_id=3, vocab_size=3)
    with pytest.raises(ValueError, match=r"mask_tokens: p must be in \[0, 1\]; got 1.5"):
        LM.mask_tokens(idx, mask_id=3, vocab_size=3, p=1.5)
    with pytest.raises(ValueError, match="mask_tokens: mask_id must be an integer >= 0; got -1"):
        LM.mask_tokens(idx, mask_id=-1, vocab_size=3)
