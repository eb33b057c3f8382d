r"""Language models from transformer blocks: a character-level GPT (predict the next character,
causal) and a BERT-style masked language model (recover hidden characters, bidirectional).

A language model factorises the probability of a text as
:math:`p(x_1, \dots, x_T) = \prod_t p(x_t \mid x_{<t})` and is trained by minimising the mean
cross-entropy :math:`-\frac1T \sum_t \log p(x_t \mid x_{<t})` (nats; divide by :math:`\ln 2` for
bits per character). :class:`TinyGPT` computes all T predictions of a sequence in one pass: the
causal mask stops position t from seeing t+1, t+2, … . :class:`MaskedLanguageModel` sees the whole
sequence (no mask) and is trained on :func:`mask_tokens`'s corrupted inputs instead.

The blocks come from :mod:`companion.transformer` (which re-exports every name here).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .attention import causal_mask
from .transformer import TransformerEncoderBlock
from .validation import (check_generator, check_int, check_ndim, check_positive, check_probability,
                         check_tensor, check_type)

__all__ = ["CharTokenizer", "get_batch", "random_batches", "TinyGPT", "language_model_loss",
           "bits_per_char", "generate", "bigram_bits_per_char", "mask_tokens", "MaskedLanguageModel",
           "mlm_loss"]

IGNORE_INDEX = -100  # F.cross_entropy's default ignore_index: positions without a label


# ---------------------------------------------------------------- characters <-> ids

class CharTokenizer:
    """Characters to integer ids and back; the vocabulary is the sorted set of characters seen.

    Use ``CharTokenizer.fit(text)``; ``encode(str) -> LongTensor (T,)``, ``decode(ids) -> str``.
    """

    def __init__(self, chars):
        self.chars = list(chars)
        self.stoi = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def fit(cls, text):
        """The tokenizer whose vocabulary is ``sorted(set(text))``."""
        check_type("CharTokenizer.fit", "text", text, str, "a str")
        if not text:
            raise ValueError("CharTokenizer.fit: text must not be empty")
        return cls(sorted(set(text)))

    @property
    def vocab_size(self):
        return len(self.chars)

    def encode(self, text):
        """(T,) int64 ids of the characters of ``text``; an unseen character raises ValueError."""
        check_type("CharTokenizer.encode", "text", text, str, "a str")
        unknown = sorted(set(text) - self.stoi.keys())
        if unknown:
            raise ValueError(f"CharTokenizer.encode: unknown characters {unknown[:10]} (not among the "
                             f"{self.vocab_size} characters seen by fit)")
        return torch.tensor([self.stoi[c] for c in text], dtype=torch.long)

    def decode(self, ids):
        """The string of the ids (a 1-d tensor or a list of ints)."""
        ids = torch.as_tensor(ids).reshape(-1).tolist()
        bad = [i for i in ids if not 0 <= i < self.vocab_size]
        if bad:
            raise ValueError(f"CharTokenizer.decode: ids must be in 0..{self.vocab_size - 1}; got {bad[:10]}")
        return "".join(self.chars[i] for i in ids)


# ---------------------------------------------------------------- batches

def get_batch(data, block_size, batch_size, *, generator=None):
    """``batch_size`` random windows of ``data``: inputs x and next-character targets y.

    Args:
        data: (T,) int64 ids of the whole text, T > block_size.
        generator: a torch.Generator for the start positions (seeded -> reproducible).
    Returns:
        (x, y), each (batch_size, block_size) int64 on data's device, y[:, t] = x[:, t + 1]
        (the character that follows x[:, t] in the text).
    """
    func = "get_batch"
    check_tensor(func, "data", data, floating=False)
    check_ndim(func, "data", data, 1, "(T,)")
    block_size = check_int(func, "block_size", block_size, 1)
    batch_size = check_int(func, "batch_size", batch_size, 1)
    if len(data) <= block_size:
        raise ValueError(f"{func}: data must be longer than block_size={block_size}; got {len(data)} ids")
    where = check_generator(func, generator, data.device)
    starts = torch.randint(len(data) - block_size, (batch_size,), generator=generator, device=where)
    index = starts.to(data.device)[:, None] + torch.arange(block_size, device=data.device)  # (N, block_size)
    return data[index], data[index + 1]


def random_batches(data, block_size, batch_size, num_batches, *, generator=None):
    """Yield ``num_batches`` batches ``(x, y)`` of :func:`get_batch` (an iterator for a training loop)."""
    num_batches = check_int("random_batches", "num_batches", num_batches, 0)
    for _ in range(num_batches):
        yield get_batch(data, block_size, batch_size, generator=generator)


# ---------------------------------------------------------------- models

class _TokenTransformer(nn.Module):
    """Token + learned position embeddings -> pre-norm blocks -> LayerNorm -> linear head."""

    causal = True

    def __init__(self, vocab_size, block_size, d_model, nhead, num_layers, dim_feedforward, dropout):
        super().__init__()
        func = type(self).__name__
        self.vocab_size = check_int(func, "vocab_size", vocab_size, 1)
        self.block_size = check_int(func, "block_size", block_size, 1)
        check_int(func, "num_layers", num_layers, 1)
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(block_size, d_model)  # learned positional encoding
        self.drop = nn.Dropout(check_probability(func, "dropout", dropout))
        self.blocks = nn.ModuleList(
            TransformerEncoderBlock(d_model, nhead, dim_feedforward, dropout, "gelu", norm_first=True)
            for _ in range(num_layers))
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)
        # PyTorch's default initialisation (GPT-2's std 0.02 for *every* weight trains far too
        # slowly for the few hundred steps of a CPU budget: the model sits at the unigram level)
        if self.causal:
            # a small position table, N(0, 0.02^2): the causal mask already tells a position how
            # many tokens precede it, and whatever structure the table has later was learned.
            # Without the mask (MaskedLanguageModel) attention is blind to order until position
            # vectors differ, so there they keep nn.Embedding's N(0, 1).
            nn.init.normal_(self.pos_emb.weight, std=0.02)

    def forward(self, idx, key_padding_mask=None):
        """idx (N, T) int64 token ids, T <= block_size -> logits (N, T, vocab_size)."""
        func = type(self).__name__
        check_tensor(func, "idx", idx, floating=False)
        check_ndim(func, "idx", idx, 2, "(N, T)")
        T = idx.shape[1]
        if T > self.block_size:
            raise ValueError(f"{func}: sequence length T={T} exceeds block_size={self.block_size}; "
                             f"crop the context to the last {self.block_size} tokens")
        # x_t = E_tok[idx_t] + E_pos[t]
        x = self.drop(self.tok_emb(idx) + self.pos_emb(torch.arange(T, device=idx.device)))  # (N, T, E)
        mask = causal_mask(T, device=idx.device) if self.causal else None  # (T, T): t sees 0..t
        for block in self.blocks:
            x = block(x, mask, key_padding_mask)
        return self.head(self.ln_f(x))  # (N, T, V)


class TinyGPT(_TokenTransformer):
    """A decoder-only (GPT-style) character model: pre-norm transformer blocks with a causal mask.

    Position t's logits depend on idx[:, :t+1] only, so one forward pass trains T next-token
    predictions at once. Args: vocab_size, block_size (longest context), d_model, nhead,
    num_layers, dim_feedforward, dropout. forward(idx (N, T)) -> logits (N, T, vocab_size).
    """

    def __init__(self, vocab_size, block_size, d_model=64, nhead=4, num_layers=2, dim_feedforward=256,
                 dropout=0.0):
        super().__init__(vocab_size, block_size, d_model, nhead, num_layers, dim_feedforward, dropout)


class MaskedLanguageModel(_TokenTransformer):
    """A BERT-style encoder: the same blocks WITHOUT the causal mask, so every position sees the
    whole sequence (left and right context); trained with :func:`mask_tokens` and :func:`mlm_loss`.

    vocab_size counts the mask token too (e.g. characters + 1). forward(idx (N, T),
    key_padding_mask=None (N, T) True = real token) -> logits (N, T, vocab_size).
    """

    causal = False

    def __init__(self, vocab_size, block_size, d_model=64, nhead=4, num_layers=2, dim_feedforward=256,
                 dropout=0.0):
        super().__init__(vocab_size, block_size, d_model, nhead, num_layers, dim_feedforward, dropout)


# ---------------------------------------------------------------- losses and baselines

def _check_logits_and_labels(func, logits, name, labels):
    """logits (N, T, V) floating and integer labels (N, T)."""
    check_ndim(func, "logits", check_tensor(func, "logits", logits), 3, "(N, T, V)")
    check_tensor(func, name, labels, floating=False)
    if tuple(labels.shape) != tuple(logits.shape[:2]):
        raise ValueError(f"{func}: {name} must have shape (N, T) = {tuple(logits.shape[:2])}; got "
                         f"{tuple(labels.shape)}")


def language_model_loss(logits, targets):
    r"""Mean next-token cross-entropy in nats, :math:`-\frac{1}{NT}\sum \log p(y_{n,t})`.

    Args: logits (N, T, V); targets (N, T) int64. Reference: F.cross_entropy (log-softmax
    subtracts the max inside, so logits of any size stay finite).
    """
    _check_logits_and_labels("language_model_loss", logits, "targets", targets)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def bits_per_char(nats):
    r"""A cross-entropy in nats per character converted to bits: :math:`\mathrm{nats} / \ln 2`."""
    return nats / math.log(2)


def bigram_bits_per_char(train_ids, val_ids, vocab_size, *, alpha=1.0):
    r"""Validation cross-entropy (bits per character) of an add-alpha character bigram model.

    .. math:: p(b \mid a) = \frac{C(a, b) + \alpha}{\sum_{b'} C(a, b') + \alpha V}

    where C counts the pairs (a, b) of consecutive ids in ``train_ids``; the result is the mean of
    :math:`-\log_2 p(x_{t+1} \mid x_t)` over the consecutive pairs of ``val_ids``. The baseline a
    language model must beat. Args: train_ids, val_ids 1-d int tensors with values in
    0..vocab_size-1 (at least 2 ids each); alpha > 0.
    """
    func = "bigram_bits_per_char"
    V = check_int(func, "vocab_size", vocab_size, 1)
    check_positive(func, "alpha", alpha)
    for name, ids in (("train_ids", train_ids), ("val_ids", val_ids)):
        check_ndim(func, name, check_tensor(func, name, ids, floating=False), 1, "(T,)")
        if len(ids) < 2 or int(ids.min()) < 0 or int(ids.max()) >= V:
            raise ValueError(f"{func}: {name} must hold at least 2 ids in 0..{V - 1}")
    a, b = train_ids[:-1].cpu(), train_ids[1:].cpu()
    # C(a, b): one bincount of the flat index a V + b
    counts = torch.bincount(a * V + b, minlength=V * V).reshape(V, V).double()  # (V, V)
    probs = (counts + alpha) / (counts.sum(1, keepdim=True) + alpha * V)
    va, vb = val_ids[:-1].cpu(), val_ids[1:].cpu()
    return float(-torch.log2(probs[va, vb]).mean())


# ---------------------------------------------------------------- sampling

def _check_generate(model, idx, max_new_tokens, temperature, top_k):
    func = "generate"
    check_type(func, "model", model, nn.Module, "a torch.nn.Module with a block_size")
    if not hasattr(model, "block_size"):
        raise TypeError(f"{func}: model must have a block_size attribute (e.g. TinyGPT)")
    check_ndim(func, "idx", check_tensor(func, "idx", idx, floating=False), 2, "(N, T)")
    check_int(func, "max_new_tokens", max_new_tokens, 0)
    check_positive(func, "temperature", temperature)
    if top_k is not None:
        check_int(func, "top_k", top_k, 1)
        V = getattr(model, "vocab_size", top_k)
        if top_k > V:
            raise ValueError(f"{func}: top_k must be in 1..vocab_size={V}; got {top_k}")


@torch.no_grad()
def generate(model, idx, max_new_tokens, *, temperature=1.0, top_k=None, generator=None):
    r"""Extend ``idx`` by sampling one token at a time from the model's next-token distribution.

    .. math:: p(v) \propto \exp(z_v / \tau) \text{ over the top-k logits } z

    Args:
        model: a causal language model with ``block_size`` (TinyGPT); idx (N, T) int64 context.
        max_new_tokens: how many tokens to append; the context is cropped to the last
            ``block_size`` tokens before each step.
        temperature: tau > 0; below 1 sharpens, above 1 flattens the distribution.
        top_k: keep only the k largest logits (1..vocab_size); top_k=1 is greedy (argmax).
        generator: torch.Generator for the draws; the same seed gives the same text.
    Returns:
        (N, T + max_new_tokens) int64. The model is put in eval mode and restored afterwards.
    """
    _check_generate(model, idx, max_new_tokens, temperature, top_k)
    where = check_generator("generate", generator, idx.device)
    was_training = model.training
    model.eval()
    try:
        for _ in range(max_new_tokens):
            # only the last position's logits matter: p(x_{T+1} | x_{<=T})
            logits = model(idx[:, -model.block_size:])[:, -1, :] / temperature  # (N, V)
            if top_k is not None:
                kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]  # (N, 1): the k-th largest
                logits = logits.masked_fill(logits < kth, float("-inf"))
            probs = torch.softmax(logits, dim=-1)
            nxt = torch.multinomial(probs.to(where), 1, generator=generator).to(idx.device)  # (N, 1)
            idx = torch.cat([idx, nxt], dim=1)
    finally:
        model.train(was_training)
    return idx


# ---------------------------------------------------------------- masked language modelling

def mask_tokens(ids, *, mask_id, vocab_size, p=0.15, generator=None):
    """BERT's corruption: choose a fraction ``p`` of the positions to predict; of those, 80 %
    become ``mask_id``, 10 % a random token from 0..vocab_size-1, 10 % stay unchanged.

    Args:
        ids: (N, T) or (T,) int64 token ids (not modified).
        mask_id: the id of the mask token (usually vocab_size: one past the characters).
        vocab_size: random replacements are drawn from 0..vocab_size-1 (the ordinary tokens).
        p: probability that a position is chosen; generator: torch.Generator (seeded).
    Returns:
        (inputs, labels), each like ids: inputs the corrupted ids; labels the original id at the
        chosen positions and -100 (F.cross_entropy's ignore_index) everywhere else.
    """
    func = "mask_tokens"
    check_tensor(func, "ids", ids, floating=False)
    check_int(func, "mask_id", mask_id, 0)
    check_int(func, "vocab_size", vocab_size, 1)
    check_probability(func, "p", p)
    where = check_generator(func, generator, ids.device)
    u = torch.rand((2,) + tuple(ids.shape), generator=generator, device=where).to(ids.device)
    random_ids = torch.randint(vocab_size, ids.shape, generator=generator, device=where).to(ids.device)
    chosen = u[0] < p
    # of the chosen: u < 0.8 -> [MASK]; 0.8 <= u < 0.9 -> a random token; u >= 0.9 -> unchanged
    inputs = torch.where(chosen & (u[1] < 0.8), torch.full_like(ids, mask_id), ids)
    inputs = torch.where(chosen & (u[1] >= 0.8) & (u[1] < 0.9), random_ids, inputs)
    labels = torch.where(chosen, ids, torch.full_like(ids, IGNORE_INDEX))
    return inputs, labels


def mlm_loss(logits, labels):
    """Mean cross-entropy (nats) over the chosen positions only (labels != -100).

    Args: logits (N, T, V); labels (N, T) from :func:`mask_tokens`. With no chosen position the
    mean would be over nothing: F.cross_entropy returns NaN, which would then poison every weight
    through the gradient, so this raises ValueError instead.
    """
    func = "mlm_loss"
    _check_logits_and_labels(func, logits, "labels", labels)
    if not bool((labels != IGNORE_INDEX).any()):
        raise ValueError(f"{func}: labels choose no position (all {IGNORE_INDEX}): nothing to score; "
                         "use a larger batch or a larger p in mask_tokens")
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                           ignore_index=IGNORE_INDEX)
