r"""Attention from its equations: scaled dot-product, additive and multiplicative scores, masks,
multi-head attention and sinusoidal positional encodings.

Attention is a soft dictionary look-up: a query is compared with every key, the scores become
weights through a softmax, and the answer is the weighted average of the values,
:math:`\mathrm{softmax}(QK^\top/\sqrt{d_k})\,V`.

Mask convention (the whole library): a **boolean mask is True where a query may attend** (as
``torch.nn.functional.scaled_dot_product_attention``); a floating mask is *added* to the logits
(``-inf`` forbids). ``torch.nn.MultiheadAttention`` means the **opposite** by its boolean
``attn_mask`` and ``key_padding_mask`` (True = NOT allowed): invert them (``~mask``) when moving
from one to the other. A fully masked query row (no key allowed) gets **zero weights and a zero
output**, never NaN, and its gradients are finite (zero): F.scaled_dot_product_attention returns
zeros there too, while nn.MultiheadAttention returns NaN.

Reference: ``F.scaled_dot_product_attention``, ``nn.MultiheadAttention`` (:meth:`MultiHeadAttention
.from_torch` copies its weights).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .validation import check_int, check_ndim, check_positive, check_probability, check_tensor, check_type

__all__ = ["masked_softmax", "scaled_dot_product_attention", "additive_attention",
           "multiplicative_attention", "causal_mask", "padding_mask", "MultiHeadAttention",
           "sinusoidal_positional_encoding"]


# ---------------------------------------------------------------- softmax with masks

def _additive_mask(func, mask, scores):
    """The mask as a float tensor added to the logits (0 = keep, -inf = forbid), and the bool
    (..., 1) rows that allow no key (their -inf turned to 0; their weights are zeroed later), or
    None. Both are computed on the mask, which is usually much smaller than the scores."""
    check_type(func, "mask", mask, torch.Tensor, "a torch.Tensor or None")
    try:
        torch.broadcast_shapes(mask.shape, scores.shape)
    except RuntimeError:
        raise ValueError(f"{func}: mask must broadcast to the scores' shape {tuple(scores.shape)} "
                         f"(..., Lq, Lk); got {tuple(mask.shape)}") from None
    if mask.dtype == torch.bool:
        # False = may not attend: a logit of -inf gets weight exp(-inf) = 0
        additive = torch.zeros(mask.shape, dtype=scores.dtype, device=scores.device)
        additive = additive.masked_fill(~mask, float("-inf"))
    elif mask.is_floating_point():
        additive = mask.to(scores.dtype)
    else:
        raise TypeError(f"{func}: mask must be a bool tensor (True = may attend) or a float tensor "
                        f"added to the logits; got dtype {mask.dtype}")
    empty = (additive == float("-inf")).all(dim=-1, keepdim=True)  # (..., Lq, 1)
    if not bool(empty.any()):
        return additive, None
    # a row with no allowed key would be all -inf: its max is -inf and (-inf) - (-inf) = NaN
    return additive.masked_fill(empty, 0.0), empty


def masked_softmax(scores, mask=None):
    r"""Softmax over the last dimension that ignores masked entries and never returns NaN.

    .. math:: w_j = \frac{e^{s_j - m}}{\sum_{j'} e^{s_{j'} - m}},\quad m = \max_j s_j
        \quad (\text{masked } s_j = -\infty \Rightarrow w_j = 0)

    Args:
        scores: (..., Lk) logits (any floating dtype).
        mask: None, a bool tensor broadcastable to ``scores`` (True = keep) or a float tensor
            added to the logits (-inf = forbid).
    Returns:
        weights, same shape and dtype as ``scores``. A row whose entries are all masked gets
        all-zero weights with zero (finite) gradients, as F.scaled_dot_product_attention.
    """
    func = "masked_softmax"
    check_tensor(func, "scores", scores)
    empty = None
    if mask is not None:
        additive, empty = _additive_mask(func, mask, scores)
        scores = scores + additive  # (a new tensor: the input is not modified)
    # torch.softmax subtracts the row max m before exp (softmax is shift-invariant): every
    # exponent is <= 0, nothing overflows (the same trick as companion.activations.softmax, fused)
    w = torch.softmax(scores, dim=-1)
    if empty is None:
        return w
    # the rows that allow no key get zero weights (and, through the product, zero gradients)
    return w * (~empty).to(w.dtype)


# ---------------------------------------------------------------- scaled dot-product attention

def _check_qkv(func, q, k, v):
    for name, t in (("q", q), ("k", k), ("v", v)):
        check_tensor(func, name, t)
        check_ndim(func, name, t, tuple(range(2, 9)), "(..., L, d)")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"{func}: q and k must have the same last dimension d_k; got q "
                         f"{tuple(q.shape)} and k {tuple(k.shape)}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"{func}: k and v must have the same length Lk (dimension -2); got k "
                         f"{tuple(k.shape)} and v {tuple(v.shape)}")
    if not q.dtype == k.dtype == v.dtype:
        raise TypeError(f"{func}: q, k and v must have the same dtype; got {q.dtype}, {k.dtype}, "
                        f"{v.dtype}")


def scaled_dot_product_attention(q, k, v, mask=None, *, scale=None):
    r"""Scaled dot-product attention, returning the outputs and the attention weights.

    .. math:: A = \mathrm{softmax}\Big(\frac{Q K^\top}{\sqrt{d_k}} + M\Big),\qquad O = A V

    Why :math:`\sqrt{d_k}`: with unit-variance entries, :math:`q \cdot k` is a sum of
    :math:`d_k` products and has variance :math:`d_k`; dividing by :math:`\sqrt{d_k}` brings the
    logits back to unit variance, so the softmax does not saturate (one-hot weights, vanishing
    gradients) as :math:`d_k` grows.

    Args:
        q: (..., Lq, d_k) queries; k: (..., Lk, d_k) keys; v: (..., Lk, d_v) values.
        mask: None; a bool tensor broadcastable to (..., Lq, Lk), True = may attend (as
            F.scaled_dot_product_attention; nn.MultiheadAttention means the opposite); or a float
            tensor added to the logits. A fully masked query row gets zero weights and output.
        scale: multiplier of the logits; default :math:`1/\sqrt{d_k}`.
    Returns:
        (out, weights): out (..., Lq, d_v), weights (..., Lq, Lk), dtype of q.
    Reference: ``torch.nn.functional.scaled_dot_product_attention`` (same outputs and gradients).
    """
    func = "scaled_dot_product_attention"
    _check_qkv(func, q, k, v)
    if scale is None:
        scale = 1.0 / math.sqrt(q.shape[-1])
    check_positive(func, "scale", scale)
    # S = (Q / sqrt(d_k)) K^T: scaling q costs Lq*d_k multiplications instead of Lq*Lk
    scores = (q * scale) @ k.transpose(-2, -1)  # (..., Lq, Lk)
    weights = masked_softmax(scores, mask)
    # O = A V
    return weights @ v, weights  # (..., Lq, d_v), (..., Lq, Lk)


# ---------------------------------------------------------------- additive and multiplicative scores

def _check_query_keys(func, query, keys, values, mask):
    for name, t in (("query", query), ("keys", keys), ("values", values)):
        check_tensor(func, name, t)
    check_ndim(func, "query", query, 2, "(N, d_q)")
    check_ndim(func, "keys", keys, 3, "(N, L, d_k)")
    check_ndim(func, "values", values, 3, "(N, L, d_v)")
    N, L = keys.shape[:2]
    if query.shape[0] != N or tuple(values.shape[:2]) != (N, L):
        raise ValueError(f"{func}: query (N, d_q), keys (N, L, d_k) and values (N, L, d_v) must agree "
                         f"in N and L; got {tuple(query.shape)}, {tuple(keys.shape)}, "
                         f"{tuple(values.shape)}")
    if mask is not None:
        check_type(func, "mask", mask, torch.Tensor, "a torch.Tensor or None")
        if mask.dtype != torch.bool or tuple(mask.shape) != (N, L):
            raise ValueError(f"{func}: mask must be a bool tensor of shape (N, L) = ({N}, {L}), True "
                             f"= may attend; got {mask.dtype} {tuple(mask.shape)}")


def additive_attention(query, keys, values, W_q, W_k, v, mask=None):
    r"""Additive (Bahdanau) attention: a one-hidden-layer network scores each key.

    .. math:: e_j = v^\top \tanh(W_q q + W_k k_j),\quad a = \mathrm{softmax}(e),\quad
        c = \sum_j a_j v_j

    Args:
        query: (N, d_q) one query per sequence (e.g. the decoder state).
        keys: (N, L, d_k); values: (N, L, d_v).
        W_q: (A, d_q); W_k: (A, d_k); v: (A,) with A the attention hidden size.
        mask: None or bool (N, L), True = may attend (e.g. :func:`padding_mask`).
    Returns:
        (context (N, d_v), weights (N, L)).
    """
    func = "additive_attention"
    _check_query_keys(func, query, keys, values, mask)
    for name, t in (("W_q", W_q), ("W_k", W_k), ("v", v)):
        check_tensor(func, name, t)
    A = v.shape[0] if v.ndim == 1 else -1
    if v.ndim != 1 or tuple(W_q.shape) != (A, query.shape[1]) or tuple(W_k.shape) != (A, keys.shape[2]):
        raise ValueError(f"{func}: need W_q (A, d_q), W_k (A, d_k), v (A,) with d_q={query.shape[1]}, "
                         f"d_k={keys.shape[2]}; got W_q {tuple(W_q.shape)}, W_k {tuple(W_k.shape)}, "
                         f"v {tuple(v.shape)}")
    # e_j = v^T tanh(W_q q + W_k k_j)
    hidden = torch.tanh((query @ W_q.T)[:, None, :] + keys @ W_k.T)  # (N, L, A)
    scores = hidden @ v  # (N, L)
    weights = masked_softmax(scores, mask)
    # c = sum_j a_j v_j
    return (weights[:, None, :] @ values)[:, 0], weights  # (N, d_v), (N, L)


def multiplicative_attention(query, keys, values, W=None, mask=None):
    r"""Multiplicative (Luong) attention: the "general" score :math:`q^\top W k_j`, or "dot"
    :math:`q^\top k_j` when ``W`` is None (then d_q = d_k).

    .. math:: e_j = q^\top W k_j,\quad a = \mathrm{softmax}(e),\quad c = \sum_j a_j v_j

    Args:
        query: (N, d_q); keys: (N, L, d_k); values: (N, L, d_v); W: (d_q, d_k) or None.
        mask: None or bool (N, L), True = may attend.
    Returns:
        (context (N, d_v), weights (N, L)). Unlike scaled dot-product attention there is no
        :math:`1/\sqrt{d_k}` (Luong et al., 2015).
    """
    func = "multiplicative_attention"
    _check_query_keys(func, query, keys, values, mask)
    d_q, d_k = query.shape[1], keys.shape[2]
    if W is None and d_q != d_k:
        raise ValueError(f"{func}: the dot score needs d_q == d_k; got {d_q} and {d_k} (pass W)")
    if W is not None and tuple(check_tensor(func, "W", W).shape) != (d_q, d_k):
        raise ValueError(f"{func}: W must have shape (d_q, d_k) = ({d_q}, {d_k}); got {tuple(W.shape)}")
    q = query if W is None else query @ W  # (N, d_k): q^T W
    # e_j = (q^T W) k_j
    scores = (keys @ q[:, :, None])[:, :, 0]  # (N, L)
    weights = masked_softmax(scores, mask)
    return (weights[:, None, :] @ values)[:, 0], weights  # (N, d_v), (N, L)


# ---------------------------------------------------------------- masks

def causal_mask(L, *, device=None):
    """(L, L) bool mask, True on and below the diagonal: query i may attend to keys 0..i.

    Broadcasts over (N, nh, L, L). nn.MultiheadAttention / nn.Transformer* want the inverse
    (``~causal_mask(L)``, or their float ``generate_square_subsequent_mask``).
    """
    L = check_int("causal_mask", "L", L, 1)
    return torch.ones(L, L, dtype=torch.bool, device=device).tril()


def padding_mask(lengths, max_len=None, *, device=None):
    """(N, max_len) bool mask, True for the real tokens (position < length), False for padding.

    As a key mask for attention scores of shape (N, Lq, Lk) use ``mask[:, None, :]``; with heads,
    (N, nh, Lq, Lk), use ``mask[:, None, None, :]``. ``nn.MultiheadAttention``'s
    ``key_padding_mask`` is the inverse (True = padding). A length of 0 is allowed: that sequence's
    queries see no key and get zero outputs.

    Args:
        lengths: (N,) sequence lengths (ints >= 0), list or integer tensor.
        max_len: the padded length (default: the largest length); must be >= every length.
    """
    func = "padding_mask"
    lengths = torch.as_tensor(lengths, device=device)
    if lengths.is_floating_point() or lengths.dtype == torch.bool or lengths.ndim != 1:
        raise ValueError(f"padding_mask: lengths must be a 1-d sequence of integers; got "
                         f"{lengths.dtype} with shape {tuple(lengths.shape)}")
    if len(lengths) and int(lengths.min()) < 0:
        raise ValueError(f"padding_mask: lengths must be >= 0; got {lengths.tolist()}")
    longest = int(lengths.max()) if len(lengths) else 0
    max_len = longest if max_len is None else check_int(func, "max_len", max_len, 0)
    if max_len < longest:
        raise ValueError(f"padding_mask: max_len must be >= the longest length {longest}; got {max_len}")
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]  # (N, max_len)


# ---------------------------------------------------------------- multi-head attention

class MultiHeadAttention(nn.Module):
    r"""Multi-head attention with batch-first (N, L, E) inputs.

    .. math:: \mathrm{head}_i = \mathrm{Attention}(Q W^Q_i, K W^K_i, V W^V_i),\quad
        \mathrm{MHA} = [\mathrm{head}_1, \dots, \mathrm{head}_{nh}]\, W^O

    Each head works in hs = E / nh dimensions; q_proj, k_proj, v_proj compute every head at once
    and out_proj mixes them. Dropout (training only) acts on the attention weights, as torch's.

    Masks: ``mask`` bool broadcastable to (N, nh, Lq, Lk) (e.g. (Lq, Lk)), True = may attend, or a
    float mask added to the logits; ``key_padding_mask`` (N, Lk) bool, True = real token. Both are
    the **inverse** of nn.MultiheadAttention's boolean masks (True = not allowed). A query that
    sees no key gets a zero output (torch's module gives NaN there).
    Reference: ``nn.MultiheadAttention(batch_first=True)`` via :meth:`from_torch`.
    """

    def __init__(self, embed_dim, num_heads, *, bias=True, dropout=0.0):
        super().__init__()
        func = "MultiHeadAttention"
        self.embed_dim = check_int(func, "embed_dim", embed_dim, 1)
        self.num_heads = check_int(func, "num_heads", num_heads, 1)
        if embed_dim % num_heads:
            raise ValueError(f"{func}: embed_dim must be divisible by num_heads; got {embed_dim} and "
                             f"{num_heads}")
        self.head_dim = embed_dim // num_heads
        self.dropout = check_probability(func, "dropout", dropout)
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.k_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.v_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    @classmethod
    def from_torch(cls, mha):
        """A copy of ``mha`` (an nn.MultiheadAttention): its in_proj split into q, k, v."""
        func = "MultiHeadAttention.from_torch"
        check_type(func, "mha", mha, nn.MultiheadAttention, "a torch.nn.MultiheadAttention")
        if not mha._qkv_same_embed_dim or mha.bias_k is not None or mha.add_zero_attn:
            raise ValueError(f"{func}: kdim/vdim different from embed_dim, add_bias_kv and "
                             f"add_zero_attn are not supported")
        bias = mha.in_proj_bias is not None
        ours = cls(mha.embed_dim, mha.num_heads, bias=bias, dropout=mha.dropout)
        p = mha.in_proj_weight
        ours.to(device=p.device, dtype=p.dtype)
        with torch.no_grad():
            # in_proj_weight stacks W^Q, W^K, W^V: (3E, E)
            for proj, W in zip((ours.q_proj, ours.k_proj, ours.v_proj), p.chunk(3)):
                proj.weight.copy_(W)
            ours.out_proj.weight.copy_(mha.out_proj.weight)
            if bias:
                for proj, b in zip((ours.q_proj, ours.k_proj, ours.v_proj), mha.in_proj_bias.chunk(3)):
                    proj.bias.copy_(b)
                ours.out_proj.bias.copy_(mha.out_proj.bias)
        return ours.train(mha.training)

    def _split(self, x):
        N, L, _ = x.shape
        return x.view(N, L, self.num_heads, self.head_dim).transpose(1, 2)  # (N, nh, L, hs)

    def _combined_mask(self, func, mask, key_padding_mask, N, Lk):
        if key_padding_mask is None:
            return mask
        check_type(func, "key_padding_mask", key_padding_mask, torch.Tensor, "a torch.Tensor or None")
        if key_padding_mask.dtype != torch.bool or tuple(key_padding_mask.shape) != (N, Lk):
            raise ValueError(f"{func}: key_padding_mask must be a bool tensor of shape (N, Lk) = "
                             f"({N}, {Lk}), True = real token; got {key_padding_mask.dtype} "
                             f"{tuple(key_padding_mask.shape)}")
        kpm = key_padding_mask[:, None, None, :]  # (N, 1, 1, Lk)
        if mask is None:
            return kpm
        if mask.dtype == torch.bool:
            return mask & kpm
        return mask.masked_fill(~kpm, float("-inf"))  # float mask: -inf at padded keys

    def forward(self, query, key, value, mask=None, key_padding_mask=None, need_weights=True):
        """Args: query (N, Lq, E), key (N, Lk, E), value (N, Lk, E); masks as in the class doc.

        Returns: (out (N, Lq, E), weights (N, nh, Lq, Lk) or None). Average the weights over
        dim 1 to compare with torch's ``average_attn_weights=True``.
        """
        func = "MultiHeadAttention"
        for name, t in (("query", query), ("key", key), ("value", value)):
            check_tensor(func, name, t)
            check_ndim(func, name, t, 3, "(N, L, E)")
            if t.shape[-1] != self.embed_dim:
                raise ValueError(f"{func}: {name} must have shape (N, L, E) with E={self.embed_dim}; "
                                 f"got {tuple(t.shape)}")
        N, Lq, E = query.shape
        if key.shape[:2] != value.shape[:2] or key.shape[0] != N:
            raise ValueError(f"{func}: key and value must have shape (N, Lk, E) with N={N}; got "
                             f"{tuple(key.shape)} and {tuple(value.shape)}")
        mask = self._combined_mask(func, mask, key_padding_mask, N, key.shape[1])
        q, k, v = (self._split(proj(t)) for proj, t in ((self.q_proj, query), (self.k_proj, key),
                                                         (self.v_proj, value)))
        out, weights = scaled_dot_product_attention(q, k, v, mask)  # (N, nh, Lq, hs), (N, nh, Lq, Lk)
        if self.training and self.dropout > 0:
            # dropout on the attention weights, as torch's module: O = dropout(A) V (recomputed)
            weights = F.dropout(weights, self.dropout)
            out = weights @ v
        out = out.transpose(1, 2).reshape(N, Lq, E)  # concatenate the heads: (N, Lq, nh*hs)
        return self.out_proj(out), (weights if need_weights else None)


# ---------------------------------------------------------------- positional encoding

def sinusoidal_positional_encoding(max_len, d_model):
    r"""The fixed positional encoding of "Attention is all you need", (max_len, d_model) float32.

    .. math:: PE_{p, 2i} = \sin(p / 10000^{2i/d}),\quad PE_{p, 2i+1} = \cos(p / 10000^{2i/d})

    Each pair of columns is a rotation at its own frequency, so :math:`PE_{p+k}` is a fixed linear
    map (a rotation by :math:`k\omega_i` in every pair) of :math:`PE_p`: relative positions are
    linear functions of the encodings. An odd ``d_model`` is allowed: the last column is a sine
    with no cosine partner. Computed in float64, returned as float32.
    """
    func = "sinusoidal_positional_encoding"
    max_len, d = check_int(func, "max_len", max_len, 1), check_int(func, "d_model", d_model, 1)
    p = torch.arange(max_len, dtype=torch.float64)[:, None]  # (max_len, 1)
    two_i = torch.arange(0, d, 2, dtype=torch.float64)  # (ceil(d/2),)
    # omega_i = 1 / 10000^(2i/d)
    omega = 10000.0 ** (-two_i / d)
    pe = torch.empty(max_len, d, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(p * omega)
    pe[:, 1::2] = torch.cos(p * omega[: d // 2])
    return pe.float()
