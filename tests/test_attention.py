"""Tests for companion.attention: scaled dot-product attention against
F.scaled_dot_product_attention (boolean, float and causal masks; outputs and gradients),
MultiHeadAttention against nn.MultiheadAttention with copied weights (outputs, head-averaged
weights, gradients w.r.t. the inputs and every parameter; torch's inverted mask convention),
additive and multiplicative attention against plain loops, the masks, the sinusoidal encoding
against its formula, fully masked rows (zero, never NaN, finite gradients), properties with
hypothesis, and every bad-input message.

Tolerances: float64 ``rtol=1e-10, atol=1e-12`` (observed differences ~1e-15); float32
``rtol=1e-5, atol=1e-5`` against torch's fused kernel (observed ~1e-7).
"""
import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from companion import attention as A

F64, F32 = torch.float64, torch.float32
TOL = {F64: dict(rtol=1e-10, atol=1e-12), F32: dict(rtol=1e-5, atol=1e-5)}


def randn(*shape, seed=0, dtype=F64, grad=False):
    t = torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)
    return t.requires_grad_(grad)


def close(ours, ref, dtype=F64):
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    torch.testing.assert_close(ours, ref, **TOL[dtype])


def outputs_and_grads(fn, *inputs):
    """fn's output and the gradients of a fixed random projection of it w.r.t. the inputs."""
    inputs = [t.detach().clone().requires_grad_() for t in inputs]
    out = fn(*inputs)
    loss = (out * randn(*out.shape, seed=99, dtype=out.dtype)).sum()
    return [out, *torch.autograd.grad(loss, inputs)]


def qkv(dtype=F64, N=2, nh=3, Lq=5, Lk=6, dk=4, dv=7):
    return randn(N, nh, Lq, dk, seed=1, dtype=dtype), randn(N, nh, Lk, dk, seed=2, dtype=dtype), \
        randn(N, nh, Lk, dv, seed=3, dtype=dtype)


def make_mask(kind, dtype, Lq=5, Lk=6):
    g = torch.Generator().manual_seed(4)
    if kind == "bool":
        m = torch.rand(2, 1, Lq, Lk, generator=g) > 0.4  # broadcast over heads
        m[..., 0] = True  # every row keeps a key (fully masked rows are tested apart)
        return m
    if kind == "float":
        m = torch.randn(Lq, Lk, generator=g, dtype=dtype)
        m[1, 2] = m[3, 0] = float("-inf")
        return m
    return {"none": None, "causal": A.causal_mask(Lk)[-Lq:]}[kind]


# ---------------------------------------------------------------- scaled dot-product attention

@pytest.mark.parametrize("dtype", [F64, F32])
@pytest.mark.parametrize("kind", ["none", "bool", "float", "causal"])
def test_sdpa_matches_torch_outputs_and_gradients(dtype, kind):
    mask = make_mask(kind, dtype)
    ours = outputs_and_grads(lambda q, k, v: A.scaled_dot_product_attention(q, k, v, mask)[0], *qkv(dtype))
    ref = outputs_and_grads(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask),
                            *qkv(dtype))
    for a, b in zip(ours, ref):
        close(a, b, dtype)


def test_sdpa_is_causal_equals_torch_is_causal():
    q, k, v = qkv(Lq=6, Lk=6)
    out, w = A.scaled_dot_product_attention(q, k, v, A.causal_mask(6))
    close(out, F.scaled_dot_product_attention(q, k, v, is_causal=True))
    assert torch.all(w.triu(1) == 0)


@pytest.mark.parametrize("kind", ["none", "bool", "float"])
def test_sdpa_weights_are_the_softmax_of_the_scaled_logits(kind):
    q, k, v = qkv()
    mask = make_mask(kind, F64)
    logits = q @ k.transpose(-2, -1) / math.sqrt(4)
    if kind == "bool":
        logits = logits.masked_fill(~mask, float("-inf"))
    elif kind == "float":
        logits = logits + mask
    out, w = A.scaled_dot_product_attention(q, k, v, mask)
    close(w, torch.softmax(logits, -1))
    close(out, torch.softmax(logits, -1) @ v)


def test_sdpa_scale_matches_torch():
    q, k, v = qkv()
    close(A.scaled_dot_product_attention(q, k, v, scale=0.3)[0],
          F.scaled_dot_product_attention(q, k, v, scale=0.3))


@pytest.mark.parametrize("kind", ["bool", "float"])
def test_fully_masked_rows_give_zeros_not_nan_and_finite_gradients(kind):
    mask = torch.ones(5, 6, dtype=torch.bool)
    mask[2] = False  # query 2 may attend to nothing
    if kind == "float":
        mask = torch.zeros(5, 6, dtype=F64).masked_fill(~mask, float("-inf"))
    q, k, v = qkv()
    out, w = A.scaled_dot_product_attention(q, k, v, mask)
    assert torch.all(w[..., 2, :] == 0) and torch.all(out[..., 2, :] == 0)
    torch.testing.assert_close(w[..., [0, 1, 3, 4], :].sum(-1), torch.ones(2, 3, 4, dtype=F64))
    ours = outputs_and_grads(lambda q, k, v: A.scaled_dot_product_attention(q, k, v, mask)[0], q, k, v)
    assert all(torch.isfinite(g).all() for g in ours)
    # the convention is F.scaled_dot_product_attention's: zeros there too, same gradients
    ref = outputs_and_grads(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask), q, k, v)
    for a, b in zip(ours, ref):
        close(a, b)


def test_sdpa_is_stable_for_huge_logits_and_leaves_inputs_unchanged():
    q, k, v = qkv()
    q = 1e4 * q
    before = [t.clone() for t in (q, k, v)]
    out, w = A.scaled_dot_product_attention(q, k, v, make_mask("bool", F64))
    assert torch.isfinite(out).all() and torch.isfinite(w).all()
    close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=make_mask("bool", F64)))
    assert all(torch.equal(a, b) for a, b in zip(before, (q, k, v)))


@settings(max_examples=25, deadline=None)
@given(L=st.integers(1, 6), dk=st.integers(1, 5), seed=st.integers(0, 100))
def test_weights_sum_to_one_where_a_key_is_allowed_else_zero(L, dk, seed):
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(2, L, dk, generator=g, dtype=F64) for _ in range(3))
    mask = torch.rand(2, L, L, generator=g) > 0.5
    out, w = A.scaled_dot_product_attention(q, k, v, mask)
    assert out.shape == (2, L, dk) and w.shape == (2, L, L) and w.dtype == F64
    torch.testing.assert_close(w.sum(-1), mask.any(-1).to(F64))
    assert torch.all(w[~mask] == 0)


def test_masked_softmax_without_mask_is_torch_softmax():
    s = randn(3, 4)
    close(A.masked_softmax(s), torch.softmax(s, -1))


# ---------------------------------------------------------------- additive and multiplicative

def loop_attention(score, query, keys, values, mask=None):
    """Context and weights by a loop over the batch and the keys: softmax of score(q, k_j)."""
    N, L = keys.shape[:2]
    contexts, weights = [], []
    for n in range(N):
        e = torch.stack([score(query[n], keys[n, j]) for j in range(L)])
        if mask is not None:
            e = e.masked_fill(~mask[n], float("-inf"))
        a = torch.exp(e - e.max()) / torch.exp(e - e.max()).sum()
        weights.append(a)
        contexts.append(sum(a[j] * values[n, j] for j in range(L)))
    return torch.stack(contexts), torch.stack(weights)


def test_additive_attention_matches_a_loop():
    query, keys, values = randn(2, 3, seed=1), randn(2, 4, 5, seed=2), randn(2, 4, 6, seed=3)
    W_q, W_k, v = randn(7, 3, seed=4), randn(7, 5, seed=5), randn(7, seed=6)
    mask = torch.tensor([[True, True, False, True], [True, False, False, False]])
    ours = A.additive_attention(query, keys, values, W_q, W_k, v, mask)
    ref = loop_attention(lambda q, k: v @ torch.tanh(W_q @ q + W_k @ k), query, keys, values, mask)
    for a, b in zip(ours, ref):
        close(a, b)


@pytest.mark.parametrize("general", [True, False])
def test_multiplicative_attention_matches_a_loop(general):
    query, values = randn(2, 3, seed=1), randn(2, 4, 6, seed=3)
    keys = randn(2, 4, 5 if general else 3, seed=2)
    W = randn(3, 5, seed=4) if general else None
    ours = A.multiplicative_attention(query, keys, values, W)
    score = (lambda q, k: q @ W @ k) if general else (lambda q, k: q @ k)
    for a, b in zip(ours, loop_attention(score, query, keys, values)):
        close(a, b)


# ---------------------------------------------------------------- masks

def test_causal_mask_is_lower_triangular():
    m = A.causal_mask(4)
    assert m.dtype == torch.bool and m.shape == (4, 4)
    assert all(bool(m[i, j]) == (j <= i) for i in range(4) for j in range(4))


def test_padding_mask_marks_real_tokens_and_works_as_a_key_mask():
    m = A.padding_mask([3, 1, 0], max_len=4)
    assert m.tolist() == [[True, True, True, False], [True, False, False, False], [False] * 4]
    assert A.padding_mask(torch.tensor([2, 1])).shape == (2, 2)
    q, k, v = randn(3, 2, 4, seed=1), randn(3, 4, 4, seed=2), randn(3, 4, 4, seed=3)
    out, w = A.scaled_dot_product_attention(q, k, v, m[:, None, :])
    assert torch.all(w[~m[:, None, :].expand_as(w)] == 0) and torch.all(out[2] == 0)


# ---------------------------------------------------------------- multi-head attention

def torch_grads_in_our_names(mha, prefix=""):
    """{our parameter name: torch's gradient}, splitting in_proj into q, k, v."""
    grads = {}
    for name, p in mha.named_parameters():
        if name.endswith("in_proj_weight") or name.endswith("in_proj_bias"):
            kind = "weight" if name.endswith("weight") else "bias"
            base = name[: -len(f"in_proj_{kind}")]
            for part, g in zip("qkv", p.grad.chunk(3)):
                grads[f"{prefix}{base}{part}_proj.{kind}"] = g
        else:
            grads[prefix + name] = p.grad
    return grads


def run_both(ref, ours, query, key, value, ref_kw, our_kw):
    outs = []
    for module, kw in ((ours, our_kw), (ref, ref_kw)):
        q, k, v = (t.detach().clone().requires_grad_() for t in (query, key, value))
        out, w = module(q, k, v, **kw)
        (out * randn(*out.shape, seed=99)).sum().backward()
        outs.append((out, w, q.grad, k.grad, v.grad))
    return outs


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("masks", ["none", "padding", "attn", "both"])
def test_mha_from_torch_matches_outputs_weights_and_gradients(bias, masks):
    torch.manual_seed(0)
    ref = nn.MultiheadAttention(8, 2, bias=bias, batch_first=True).double()
    ours = A.MultiHeadAttention.from_torch(ref)
    query, key = randn(3, 4, 8, seed=1), randn(3, 5, 8, seed=2)  # cross-attention: Lq=4, Lk=5
    keep = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 0, 0, 0]], dtype=torch.bool)
    attn = torch.rand(4, 5, generator=torch.Generator().manual_seed(3)) > 0.3
    attn[:, 0] = True
    our_kw, ref_kw = {}, {}
    if masks in ("padding", "both"):  # ours: True = real token; torch's: True = padding
        our_kw["key_padding_mask"], ref_kw["key_padding_mask"] = keep, ~keep
    if masks in ("attn", "both"):  # ours: True = may attend; torch's: True = not allowed
        our_kw["mask"], ref_kw["attn_mask"] = attn, ~attn
    (o, w, *g), (ro, rw, *rg) = run_both(ref, ours, query, key, key.clone(), ref_kw, our_kw)
    close(o, ro)
    assert w.shape == (3, 2, 4, 5)
    close(w.mean(1), rw)  # torch averages over the heads (average_attn_weights=True)
    for a, b in zip(g, rg):
        close(a, b)
    torch_grads = torch_grads_in_our_names(ref)
    assert set(torch_grads) == {n for n, _ in ours.named_parameters()}
    for name, p in ours.named_parameters():
        close(p.grad, torch_grads[name])


def test_mha_float_mask_and_need_weights():
    torch.manual_seed(0)
    ref = nn.MultiheadAttention(8, 4, batch_first=True).double()
    ours = A.MultiHeadAttention.from_torch(ref)
    x = randn(2, 5, 8)
    mask = randn(5, 5, seed=7)
    out, w = ours(x, x, x, mask=mask, need_weights=False)
    assert w is None
    close(out, ref(x, x, x, attn_mask=mask, need_weights=False)[0])


def test_mha_fully_padded_sequence_gives_zeros_not_nan():
    ours = A.MultiHeadAttention(8, 2, bias=False).double()
    x = randn(2, 3, 8, grad=True)
    out, w = ours(x, x, x, key_padding_mask=torch.tensor([[True, True, False], [False] * 3]))
    assert torch.all(out[1] == 0) and torch.all(w[1] == 0) and torch.isfinite(out).all()
    out.sum().backward()
    assert torch.isfinite(x.grad).all()


# ---------------------------------------------------------------- positional encoding

@pytest.mark.parametrize("d_model", [6, 7])
def test_sinusoidal_encoding_matches_the_formula(d_model):
    pe = A.sinusoidal_positional_encoding(20, d_model)
    assert pe.shape == (20, d_model) and pe.dtype == F32
    for p in range(20):
        for j in range(d_model):
            angle = p / 10000 ** ((j - j % 2) / d_model)
            expected = math.sin(angle) if j % 2 == 0 else math.cos(angle)
            assert abs(float(pe[p, j]) - expected) < 1e-6


def test_sinusoidal_encoding_shifts_by_a_fixed_rotation():
    """PE[p + k] = R_k PE[p] for every p: R_k rotates each (sin, cos) pair by k * omega_i."""
    d, k = 8, 5
    pe = A.sinusoidal_positional_encoding(50, d).double()
    omega = 10000.0 ** (-torch.arange(0, d, 2, dtype=F64) / d)
    R = torch.zeros(d, d, dtype=F64)
    for i, w in enumerate(omega):
        c, s = math.cos(k * w), math.sin(k * w)
        # sin(a + b) = sin a cos b + cos a sin b;  cos(a + b) = cos a cos b - sin a sin b
        R[2 * i: 2 * i + 2, 2 * i: 2 * i + 2] = torch.tensor([[c, s], [-s, c]], dtype=F64)
    torch.testing.assert_close(pe[:-k] @ R.T, pe[k:], rtol=0, atol=1e-6)  # float32 storage


# ---------------------------------------------------------------- bad input

def test_bad_inputs_of_scaled_dot_product_attention():
    q, k, v = qkv()
    sdpa = A.scaled_dot_product_attention
    with pytest.raises(TypeError, match="scaled_dot_product_attention: q must be a torch.Tensor"):
        sdpa(q.numpy(), k, v)
    with pytest.raises(ValueError, match="q must have 2 or 3 or"):
        sdpa(q[0, 0, 0], k, v)
    with pytest.raises(ValueError, match="q and k must have the same last dimension"):
        sdpa(q[..., :3], k, v)
    with pytest.raises(ValueError, match="k and v must have the same length Lk"):
        sdpa(q, k, v[..., :5, :])
    with pytest.raises(TypeError, match="q, k and v must have the same dtype"):
        sdpa(q, k, v.float())
    with pytest.raises(ValueError, match=r"mask must broadcast to the scores' shape \(2, 3, 5, 6\)"):
        sdpa(q, k, v, torch.ones(5, 5, dtype=torch.bool))
    with pytest.raises(TypeError, match="mask must be a bool tensor .* got dtype torch.int64"):
        sdpa(q, k, v, torch.ones(5, 6, dtype=torch.long))
    with pytest.raises(TypeError, match="mask must be a torch.Tensor or None"):
        sdpa(q, k, v, [[True]])
    with pytest.raises(ValueError, match="scale must be finite and > 0"):
        sdpa(q, k, v, scale=0.0)


def test_bad_inputs_of_additive_and_multiplicative_attention():
    query, keys, values = randn(2, 3), randn(2, 4, 3), randn(2, 4, 6)
    with pytest.raises(ValueError, match="additive_attention: query must have 2 dimensions"):
        A.additive_attention(keys, keys, values, randn(7, 3), randn(7, 3), randn(7))
    with pytest.raises(ValueError, match="must agree in N and L"):
        A.multiplicative_attention(query, keys, values[:, :3])
    with pytest.raises(ValueError, match=r"need W_q \(A, d_q\), W_k \(A, d_k\), v \(A,\)"):
        A.additive_attention(query, keys, values, randn(7, 3), randn(6, 3), randn(7))
    with pytest.raises(ValueError, match=r"mask must be a bool tensor of shape \(N, L\) = \(2, 4\)"):
        A.additive_attention(query, keys, values, randn(7, 3), randn(7, 3), randn(7), torch.ones(2, 3))
    with pytest.raises(ValueError, match="the dot score needs d_q == d_k; got 3 and 5"):
        A.multiplicative_attention(query, randn(2, 4, 5), values)
    with pytest.raises(ValueError, match=r"W must have shape \(d_q, d_k\) = \(3, 3\)"):
        A.multiplicative_attention(query, keys, values, W=randn(3, 4))


def test_bad_inputs_of_masks_and_encoding():
    with pytest.raises(ValueError, match="causal_mask: L must be an integer >= 1; got 0"):
        A.causal_mask(0)
    with pytest.raises(ValueError, match="padding_mask: lengths must be a 1-d sequence of integers"):
        A.padding_mask([1.5, 2.0])
    with pytest.raises(ValueError, match="padding_mask: lengths must be >= 0"):
        A.padding_mask([2, -1])
    with pytest.raises(ValueError, match="padding_mask: max_len must be >= the longest length 3; got 2"):
        A.padding_mask([3, 1], max_len=2)
    with pytest.raises(ValueError, match="sinusoidal_positional_encoding: d_model must be an integer >= 1"):
        A.sinusoidal_positional_encoding(4, 0)
    with pytest.raises(TypeError, match="masked_softmax: scores must be a floating-point tensor"):
        A.masked_softmax(torch.ones(3, dtype=torch.long))


def test_bad_inputs_of_multi_head_attention():
    with pytest.raises(ValueError, match="embed_dim must be divisible by num_heads; got 10 and 4"):
        A.MultiHeadAttention(10, 4)
    with pytest.raises(ValueError, match=r"MultiHeadAttention: dropout must be in \[0, 1\]"):
        A.MultiHeadAttention(8, 2, dropout=1.5)
    with pytest.raises(TypeError, match="from_torch: mha must be a torch.nn.MultiheadAttention"):
        A.MultiHeadAttention.from_torch(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="kdim/vdim different from embed_dim"):
        A.MultiHeadAttention.from_torch(nn.MultiheadAttention(8, 2, kdim=4, vdim=4))
    mha, x = A.MultiHeadAttention(8, 2).double(), randn(2, 3, 8)
    with pytest.raises(ValueError, match=r"MultiHeadAttention: query must have shape \(N, L, E\) with E=8"):
        mha(x[..., :4], x, x)
    with pytest.raises(ValueError, match="MultiHeadAttention: key must have 3 dimensions"):
        mha(x, x[0], x)
    with pytest.raises(ValueError, match=r"key and value must have shape \(N, Lk, E\) with N=2"):
        mha(x, x, x[:, :2])
    with pytest.raises(ValueError, match=r"key_padding_mask must be a bool tensor of shape \(N, Lk\)"):
        mha(x, x, x, key_padding_mask=torch.ones(2, 4, dtype=torch.bool))
