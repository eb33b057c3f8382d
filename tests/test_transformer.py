"""Tests for companion.transformer: the encoder block against nn.TransformerEncoderLayer and the
decoder block against nn.TransformerDecoderLayer with copied weights (post-norm and pre-norm,
relu and gelu; outputs and gradients w.r.t. the inputs and every parameter), causality of the
decoder, fully padded sequences, the re-export of companion.language_model, and every bad-input
message.

torch's "fast path": in eval mode, nn.TransformerEncoderLayer skips its Python code for a fused
kernel when autograd is off (torch.no_grad, or no tensor requiring grad). The gradient tests
give the input ``requires_grad=True``, so torch runs its ordinary (slow) path, which we compare
in float64; ``test_encoder_matches_torch_fast_path`` compares the fused path under no_grad in
float32 (it does not support float64 well and differs by ~1e-7), and
``test_encoder_matches_torch_in_train_mode_without_dropout`` uses train mode with dropout=0.

Tolerances: float64 ``rtol=1e-10, atol=1e-12`` (observed ~1e-15); float32 ``rtol=1e-5, atol=1e-5``.
"""
import pytest
import torch
from torch import nn

from companion import transformer as T
from companion.attention import causal_mask

F64, F32 = torch.float64, torch.float32
TOL = {F64: dict(rtol=1e-10, atol=1e-12), F32: dict(rtol=1e-5, atol=1e-5)}
KEEP = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 0, 0, 0]], dtype=torch.bool)


def randn(*shape, seed=0, dtype=F64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def close(ours, ref, dtype=F64):
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    torch.testing.assert_close(ours, ref, **TOL[dtype])


def torch_grads_in_our_names(layer):
    """{our parameter name: torch's gradient}; each in_proj is split into q_proj, k_proj, v_proj."""
    grads = {}
    for name, p in layer.named_parameters():
        for kind in ("weight", "bias"):
            if name.endswith(f"in_proj_{kind}"):
                base = name[: -len(f"in_proj_{kind}")]
                grads.update({f"{base}{part}_proj.{kind}": g for part, g in zip("qkv", p.grad.chunk(3))})
                break
        else:
            grads[name] = p.grad
    return grads


def forward_backward(module, inputs, **kw):
    """Output and the gradients w.r.t. the inputs of a fixed random projection of the output."""
    inputs = [t.detach().clone().requires_grad_() for t in inputs]
    out = module(*inputs, **kw)
    (out * randn(*out.shape, seed=99, dtype=out.dtype)).sum().backward()
    return [out] + [t.grad for t in inputs]


def assert_same(ours, ref, ours_kw, ref_kw, inputs):
    for a, b in zip(forward_backward(ours, inputs, **ours_kw), forward_backward(ref, inputs, **ref_kw)):
        close(a, b)
    grads = torch_grads_in_our_names(ref)
    assert set(grads) == {n for n, _ in ours.named_parameters()}
    for name, p in ours.named_parameters():
        close(p.grad, grads[name])


def encoder_pair(norm_first, activation, dropout=0.1, dtype=F64, seed=0):
    torch.manual_seed(seed)
    ref = nn.TransformerEncoderLayer(8, 2, 16, dropout, activation, batch_first=True,
                                     norm_first=norm_first).to(dtype).eval()
    return T.TransformerEncoderBlock.from_torch(ref), ref


# ---------------------------------------------------------------- encoder block

@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("masks", ["none", "padding", "causal"])
def test_encoder_matches_torch_outputs_and_gradients(norm_first, activation, masks):
    ours, ref = encoder_pair(norm_first, activation)
    assert not ours.training and ours.norm_first == norm_first and ours.activation == activation
    ours_kw, ref_kw = {}, {}
    if masks == "padding":  # ours: True = real token; torch's: True = padding
        ours_kw["key_padding_mask"], ref_kw["src_key_padding_mask"] = KEEP, ~KEEP
    if masks == "causal":  # ours: True = may attend; torch's: True = not allowed
        ours_kw["mask"], ref_kw["src_mask"] = causal_mask(5), ~causal_mask(5)
    # the input requires grad inside forward_backward, so torch takes its ordinary path
    assert_same(ours, ref, ours_kw, ref_kw, [randn(3, 5, 8, seed=1)])


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
def test_encoder_matches_torch_fast_path(norm_first):
    ours, ref = encoder_pair(norm_first, "gelu", dtype=F32)
    x = randn(3, 5, 8, seed=1, dtype=F32)
    with torch.no_grad():  # eval + no autograd: torch runs its fused "fast path" kernel
        close(ours(x), ref(x), F32)


def test_encoder_matches_torch_in_train_mode_without_dropout():
    ours, ref = encoder_pair(True, "relu", dropout=0.0)
    ours.train(), ref.train()
    assert_same(ours, ref, {}, {}, [randn(3, 5, 8, seed=1)])


def test_encoder_dropout_is_active_in_training_only():
    ours, _ = encoder_pair(False, "relu", dropout=0.5)
    x = randn(2, 5, 8)
    assert torch.equal(ours(x), ours(x))
    ours.train()
    torch.manual_seed(1)
    assert not torch.equal(ours(x), ours(x))


def test_encoder_fully_padded_sequence_is_finite():
    ours, _ = encoder_pair(False, "relu")
    x = randn(2, 5, 8).requires_grad_()
    out = ours(x, key_padding_mask=torch.tensor([[True] * 5, [False] * 5]))
    out.sum().backward()
    assert torch.isfinite(out).all() and torch.isfinite(x.grad).all()


# ---------------------------------------------------------------- decoder block

def decoder_pair(norm_first, activation="relu", seed=0):
    torch.manual_seed(seed)
    ref = nn.TransformerDecoderLayer(8, 2, 16, 0.1, activation, batch_first=True,
                                     norm_first=norm_first).double().eval()
    return T.TransformerDecoderBlock.from_torch(ref), ref


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_decoder_matches_torch_with_causal_tgt_mask(norm_first, activation):
    ours, ref = decoder_pair(norm_first, activation)
    x, memory = randn(3, 5, 8, seed=1), randn(3, 4, 8, seed=2)
    memory_keep = KEEP[:, :4] | torch.tensor([False, False, True, False])  # some padded keys
    ours_kw = dict(memory_key_padding_mask=memory_keep)
    # torch's tgt_mask: True = NOT allowed, so the causal mask is inverted
    ref_kw = dict(tgt_mask=~causal_mask(5), memory_key_padding_mask=~memory_keep)
    assert_same(ours, ref, ours_kw, ref_kw, [x, memory])


def test_decoder_without_causal_mask_matches_torch_without_tgt_mask():
    ours, ref = decoder_pair(False)
    x, memory = randn(2, 5, 8, seed=1), randn(2, 3, 8, seed=2)
    close(ours(x, memory, causal=False), ref(x, memory))


def test_decoder_is_causal():
    ours, _ = decoder_pair(True)
    x, memory = randn(2, 6, 8, seed=1), randn(2, 3, 8, seed=2)
    changed = x.clone()
    changed[:, 4:] = randn(2, 2, 8, seed=3)  # change the future (positions 4, 5)
    a, b = ours(x, memory), ours(changed, memory)
    close(a[:, :4], b[:, :4])  # the past does not see it
    assert (a[:, 4:] - b[:, 4:]).abs().max() > 1e-3


# ---------------------------------------------------------------- re-export and bad input

def test_transformer_re_exports_the_language_model():
    from companion import language_model

    for name in language_model.__all__:
        assert getattr(T, name) is getattr(language_model, name)
        assert name in T.__all__ and name in dir(T)
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        T.nothing


def test_bad_inputs():
    with pytest.raises(ValueError, match="EncoderBlock: activation must be 'relu' or 'gelu'; got 'tanh'"):
        T.TransformerEncoderBlock(8, 2, activation="tanh")
    with pytest.raises(ValueError, match="TransformerDecoderBlock: dim_feedforward must be an integer >= 1"):
        T.TransformerDecoderBlock(8, 2, dim_feedforward=0)
    with pytest.raises(TypeError, match="from_torch: layer must be a torch.nn.TransformerEncoderLayer"):
        T.TransformerEncoderBlock.from_torch(nn.TransformerDecoderLayer(8, 2, batch_first=True))
    with pytest.raises(TypeError, match="from_torch: layer must be a torch.nn.TransformerDecoderLayer"):
        T.TransformerDecoderBlock.from_torch(nn.Linear(2, 2))
    for cls, ref in ((T.TransformerEncoderBlock, nn.TransformerEncoderLayer),
                     (T.TransformerDecoderBlock, nn.TransformerDecoderLayer)):
        with pytest.raises(ValueError, match="layer must be built with batch_first=True"):
            cls.from_torch(ref(8, 2))
    with pytest.raises(ValueError, match="only relu and gelu activations are supported"):
        layer = nn.TransformerEncoderLayer(8, 2, activation=nn.Tanh(), batch_first=True)
        T.TransformerEncoderBlock.from_torch(layer)
    with pytest.raises(ValueError, match=r"TransformerEncoderBlock: x must have 3 dimensions \(N, L, E\)"):
        T.TransformerEncoderBlock(8, 2)(randn(5, 8).float())
    with pytest.raises(ValueError, match=r"TransformerDecoderBlock: memory must have 3 dimensions"):
        T.TransformerDecoderBlock(8, 2)(randn(2, 5, 8).float(), randn(5, 8).float())
