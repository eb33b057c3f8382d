r"""Transformer blocks: the encoder block (self-attention + feed-forward, each wrapped in a
residual connection and a layer norm) and the decoder block (causal self-attention,
cross-attention over the encoder's output, feed-forward).

Post-norm (the original transformer, torch's default ``norm_first=False``):
:math:`x \leftarrow \mathrm{LN}(x + \mathrm{SA}(x))`, :math:`x \leftarrow \mathrm{LN}(x + \mathrm{FF}(x))`.
Pre-norm (GPT-2 and most modern models, ``norm_first=True``):
:math:`x \leftarrow x + \mathrm{SA}(\mathrm{LN}(x))`, :math:`x \leftarrow x + \mathrm{FF}(\mathrm{LN}(x))`;
the residual path stays an identity from input to output, which makes deep stacks easier to train.

Inputs are batch-first (N, L, E). Boolean masks mean True = may attend (see
:mod:`companion.attention`); torch's layers use the opposite. Reference:
``nn.TransformerEncoderLayer`` / ``nn.TransformerDecoderLayer`` with ``batch_first=True``
(:meth:`TransformerEncoderBlock.from_torch`, :meth:`TransformerDecoderBlock.from_torch`).

The language models built from these blocks (:class:`TinyGPT`, :class:`MaskedLanguageModel` and
their helpers) live in :mod:`companion.language_model` and are re-exported here.
"""
from __future__ import annotations

import torch.nn.functional as F
from torch import nn

from .attention import MultiHeadAttention, causal_mask
from .validation import check_int, check_ndim, check_probability, check_tensor, check_type

_BLOCKS = ["TransformerEncoderBlock", "TransformerDecoderBlock"]
_LANGUAGE_MODEL = ["CharTokenizer", "get_batch", "random_batches", "TinyGPT", "language_model_loss",
                   "bits_per_char", "generate", "bigram_bits_per_char", "mask_tokens",
                   "MaskedLanguageModel", "mlm_loss"]
__all__ = _BLOCKS + _LANGUAGE_MODEL

_ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu}


def __getattr__(name):
    """Re-export companion.language_model's names lazily (it imports this module's blocks)."""
    if name in _LANGUAGE_MODEL:
        from . import language_model

        return getattr(language_model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))


def _check_sizes(func, d_model, nhead, dim_feedforward, dropout, activation):
    check_int(func, "d_model", d_model, 1)
    check_int(func, "nhead", nhead, 1)
    check_int(func, "dim_feedforward", dim_feedforward, 1)
    check_probability(func, "dropout", dropout)
    if activation not in _ACTIVATIONS:
        raise ValueError(f"{func}: activation must be 'relu' or 'gelu'; got {activation!r}")


def _torch_activation(func, layer):
    """'relu' or 'gelu' from a torch layer's activation (function or module)."""
    act = layer.activation
    for name, fn, module in (("relu", F.relu, nn.ReLU), ("gelu", F.gelu, nn.GELU)):
        if act is fn or isinstance(act, module) and getattr(act, "approximate", "none") == "none":
            return name
    raise ValueError(f"{func}: only relu and gelu activations are supported; got {act!r}")


class _FeedForward(nn.Module):
    """Shared by both blocks: the position-wise feed-forward FF(x) = W_2 act(W_1 x + b_1) + b_2,
    and the copy of a torch layer's weights."""

    def _ff(self, x):
        return self.linear2(self.dropout(self.act(self.linear1(x))))

    def _build_ff(self, d_model, dim_feedforward, dropout, activation, bias):
        self.activation, self.act = activation, _ACTIVATIONS[activation]
        self.linear1 = nn.Linear(d_model, dim_feedforward, bias=bias)
        self.dropout = nn.Dropout(dropout)  # inside FF (torch's name)
        self.linear2 = nn.Linear(dim_feedforward, d_model, bias=bias)

    @classmethod
    def _copy_of(cls, func, layer, layer_type, attentions, norms):
        """A block equal to the torch ``layer``: same sizes, mode, device and dtype; the attention
        modules named in ``attentions``, linear1/2 and the layer norms ``norms`` copied."""
        check_type(func, "layer", layer, layer_type, f"a torch.nn.{layer_type.__name__}")
        if not layer.self_attn.batch_first:
            raise ValueError(f"{func}: layer must be built with batch_first=True")
        ours = cls(layer.self_attn.embed_dim, layer.self_attn.num_heads, layer.linear1.out_features,
                   layer.dropout.p, _torch_activation(func, layer), layer.norm1.eps, layer.norm_first,
                   layer.linear1.bias is not None)
        p = layer.linear1.weight
        ours.to(device=p.device, dtype=p.dtype)
        for name in attentions:
            setattr(ours, name, MultiHeadAttention.from_torch(getattr(layer, name)))
        for name in ("linear1", "linear2") + norms:
            getattr(ours, name).load_state_dict(getattr(layer, name).state_dict())
        return ours.train(layer.training)


class TransformerEncoderBlock(_FeedForward):
    r"""One encoder block: multi-head self-attention and a position-wise feed-forward network.

    .. math::
        \text{post-norm:}\quad x \leftarrow \mathrm{LN}_1(x + \mathrm{SA}(x)),\quad
        x \leftarrow \mathrm{LN}_2(x + \mathrm{FF}(x)) \\
        \text{pre-norm:}\quad x \leftarrow x + \mathrm{SA}(\mathrm{LN}_1(x)),\quad
        x \leftarrow x + \mathrm{FF}(\mathrm{LN}_2(x)) \\
        \mathrm{FF}(x) = W_2\,\mathrm{act}(W_1 x + b_1) + b_2

    Args: d_model (E), nhead, dim_feedforward, dropout, activation ("relu" or "gelu"),
        layer_norm_eps, norm_first (pre-norm if True), bias. Names as in nn.TransformerEncoderLayer.
    Reference: ``nn.TransformerEncoderLayer(batch_first=True)`` via :meth:`from_torch`.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, norm_first=False, bias=True):
        super().__init__()
        _check_sizes("TransformerEncoderBlock", d_model, nhead, dim_feedforward, dropout, activation)
        self.norm_first = bool(norm_first)
        self.self_attn = MultiHeadAttention(d_model, nhead, bias=bias, dropout=dropout)
        self._build_ff(d_model, dim_feedforward, dropout, activation, bias)
        self.norm1 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.norm2 = nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias)
        self.dropout1, self.dropout2 = nn.Dropout(dropout), nn.Dropout(dropout)  # after SA, after FF

    @classmethod
    def from_torch(cls, layer):
        """A copy of ``layer``, an nn.TransformerEncoderLayer built with ``batch_first=True``."""
        return cls._copy_of("TransformerEncoderBlock.from_torch", layer, nn.TransformerEncoderLayer,
                            ("self_attn",), ("norm1", "norm2"))

    def _sa(self, x, mask, key_padding_mask):
        return self.dropout1(self.self_attn(x, x, x, mask, key_padding_mask, need_weights=False)[0])

    def forward(self, x, mask=None, key_padding_mask=None):
        """x (N, L, E); mask bool (L, L) or broadcastable to (N, nh, L, L), True = may attend (e.g.
        :func:`~companion.attention.causal_mask`); key_padding_mask (N, L), True = real token.
        Returns (N, L, E)."""
        check_tensor("TransformerEncoderBlock", "x", x)
        check_ndim("TransformerEncoderBlock", "x", x, 3, "(N, L, E)")
        if self.norm_first:
            # x = x + SA(LN(x));  x = x + FF(LN(x))
            x = x + self._sa(self.norm1(x), mask, key_padding_mask)
            return x + self.dropout2(self._ff(self.norm2(x)))
        # x = LN(x + SA(x));  x = LN(x + FF(x))
        x = self.norm1(x + self._sa(x, mask, key_padding_mask))
        return self.norm2(x + self.dropout2(self._ff(x)))


class TransformerDecoderBlock(_FeedForward):
    r"""One decoder block: causal self-attention, cross-attention over ``memory``, feed-forward.

    .. math::
        \text{post-norm:}\ x \leftarrow \mathrm{LN}_1(x + \mathrm{SA}_{causal}(x)),\
        x \leftarrow \mathrm{LN}_2(x + \mathrm{CA}(x, m)),\ x \leftarrow \mathrm{LN}_3(x + \mathrm{FF}(x))

    (pre-norm: :math:`x \leftarrow x + f(\mathrm{LN}(x))` for each of the three.) The causal mask
    lets position t see positions 0..t only, so the block can be trained on whole sequences and
    still never look at the future; the queries of the cross-attention come from the decoder, its
    keys and values from the encoder's output ``memory``.
    Reference: ``nn.TransformerDecoderLayer(batch_first=True)`` with
    ``tgt_mask = ~causal_mask(L)`` (torch's True = not allowed), via :meth:`from_torch`.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, norm_first=False, bias=True):
        super().__init__()
        _check_sizes("TransformerDecoderBlock", d_model, nhead, dim_feedforward, dropout, activation)
        self.norm_first = bool(norm_first)
        self.self_attn = MultiHeadAttention(d_model, nhead, bias=bias, dropout=dropout)
        self.multihead_attn = MultiHeadAttention(d_model, nhead, bias=bias, dropout=dropout)
        self._build_ff(d_model, dim_feedforward, dropout, activation, bias)
        for i in (1, 2, 3):
            setattr(self, f"norm{i}", nn.LayerNorm(d_model, eps=layer_norm_eps, bias=bias))
        # after SA, after CA, after FF (torch's names)
        self.dropout1, self.dropout2, self.dropout3 = (nn.Dropout(dropout) for _ in range(3))

    @classmethod
    def from_torch(cls, layer):
        """A copy of ``layer``, an nn.TransformerDecoderLayer built with ``batch_first=True``."""
        return cls._copy_of("TransformerDecoderBlock.from_torch", layer, nn.TransformerDecoderLayer,
                            ("self_attn", "multihead_attn"), ("norm1", "norm2", "norm3"))

    def _sa(self, x, mask, key_padding_mask):
        return self.dropout1(self.self_attn(x, x, x, mask, key_padding_mask, need_weights=False)[0])

    def _ca(self, x, memory, memory_key_padding_mask):
        out = self.multihead_attn(x, memory, memory, None, memory_key_padding_mask, need_weights=False)
        return self.dropout2(out[0])

    def forward(self, x, memory, *, memory_key_padding_mask=None, tgt_key_padding_mask=None, causal=True):
        """x (N, T, E) decoder input; memory (N, S, E) encoder output; memory_key_padding_mask
        (N, S) and tgt_key_padding_mask (N, T), True = real token; causal: mask future positions.
        Returns (N, T, E)."""
        func = "TransformerDecoderBlock"
        for name, t in (("x", x), ("memory", memory)):
            check_ndim(func, name, check_tensor(func, name, t), 3, "(N, L, E)")
        mask = causal_mask(x.shape[1], device=x.device) if causal else None  # (T, T)
        if self.norm_first:
            # x = x + SA(LN(x));  x = x + CA(LN(x), m);  x = x + FF(LN(x))
            x = x + self._sa(self.norm1(x), mask, tgt_key_padding_mask)
            x = x + self._ca(self.norm2(x), memory, memory_key_padding_mask)
            return x + self.dropout3(self._ff(self.norm3(x)))
        # x = LN(x + SA(x));  x = LN(x + CA(x, m));  x = LN(x + FF(x))
        x = self.norm1(x + self._sa(x, mask, tgt_key_padding_mask))
        x = self.norm2(x + self._ca(x, memory, memory_key_padding_mask))
        return self.norm3(x + self.dropout3(self._ff(x)))
