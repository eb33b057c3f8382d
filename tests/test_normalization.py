"""Tests for companion.normalization: batch_norm / BatchNorm1d against nn.BatchNorm1d (outputs,
running statistics, gradients, eval mode) and layer_norm / LayerNorm against F.layer_norm and
nn.LayerNorm, properties with hypothesis, and every validation message.

Tolerances (STYLE.md): float64 rtol=1e-6 (with atol=1e-12 where values cross zero, e.g. normalised
outputs); float32 rtol=1e-4, atol=1e-5.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from companion import normalization as norm
from torch_helpers import F64, TOL32, TOL64, close, randn



# ================================================================ batch normalization

def bn_pair(C, seed=0, dtype=F64, momentum=0.1):
    """torch's BatchNorm1d with random affine parameters, and ours loaded with its state dict."""
    ref = nn.BatchNorm1d(C, momentum=momentum, dtype=dtype)
    with torch.no_grad():
        ref.weight.copy_(randn(C, seed=seed, dtype=dtype).abs() + 0.5)
        ref.bias.copy_(randn(C, seed=seed + 1, dtype=dtype))
    ours = norm.BatchNorm1d(C, momentum=momentum, dtype=dtype)
    ours.load_state_dict(ref.state_dict())
    return ours, ref


@pytest.mark.parametrize("shape", [(16, 4), (8, 4, 5)], ids=["NC", "NCL"])
@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_batchnorm1d_matches_torch_over_training_steps_then_in_eval(shape, momentum):
    ours, ref = bn_pair(shape[1], momentum=momentum)
    for step in range(5):
        # batches with a channel-dependent shift and scale, as a layer's pre-activations
        x = 3 * randn(*shape, seed=10 + step) + step
        xo, xr = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
        yo, yr = ours(xo), ref(xr)
        close(yo, yr)
        g = randn(*shape, seed=100 + step)
        ours.zero_grad(), ref.zero_grad()
        yo.backward(g)
        yr.backward(g)
        close(xo.grad, xr.grad)
        close(ours.weight.grad, ref.weight.grad)
        close(ours.bias.grad, ref.bias.grad)
        close(ours.running_mean, ref.running_mean)
        close(ours.running_var, ref.running_var)
        assert int(ours.num_batches_tracked) == int(ref.num_batches_tracked) == step + 1
    ours.eval(), ref.eval()
    x = randn(*shape, seed=99)
    close(ours(x), ref(x))


def test_batchnorm1d_float32_within_float32_tolerance():
    ours, ref = bn_pair(6, dtype=torch.float32)
    for step in range(3):
        x = randn(10, 6, seed=step, dtype=torch.float32) * 2 + 1
        close(ours(x), ref(x), TOL32)
    close(ours.running_var, ref.running_var, TOL32)


def test_running_variance_is_unbiased_and_normalisation_uses_the_biased_one():
    x = randn(5, 3, seed=1)
    layer = norm.BatchNorm1d(3, dtype=F64)
    y = layer(x)
    close(layer.running_var, 0.9 * torch.ones(3, dtype=F64) + 0.1 * x.var(dim=0, correction=1))
    close(layer.running_mean, 0.1 * x.mean(dim=0))
    close(y, (x - x.mean(0)) / torch.sqrt(x.var(0, correction=0) + 1e-5))


def test_functional_batch_norm_matches_f_batch_norm_and_modifies_nothing():
    x = randn(12, 3, 4, seed=2) + 1
    rm, rv = randn(3, seed=3), randn(3, seed=4).abs() + 0.5
    w, b = randn(3, seed=5), randn(3, seed=6)
    rm_t, rv_t = rm.clone(), rv.clone()
    ref = F.batch_norm(x, rm_t, rv_t, w, b, training=True, momentum=0.2, eps=1e-3)  # in place on rm_t, rv_t
    before = [t.clone() for t in (x, rm, rv, w, b)]
    y, new_rm, new_rv = norm.batch_norm(x, rm, rv, w, b, training=True, momentum=0.2, eps=1e-3)
    close(y, ref)
    close(new_rm, rm_t)
    close(new_rv, rv_t)
    assert all(torch.equal(t, u) for t, u in zip((x, rm, rv, w, b), before))
    # evaluation: the running statistics, returned unchanged
    y, same_rm, same_rv = norm.batch_norm(x, rm, rv, w, b, training=False)
    close(y, F.batch_norm(x, rm.clone(), rv.clone(), w, b, training=False))
    assert same_rm is rm and same_rv is rv
    # no running statistics: always the batch's (track_running_stats=False)
    y, none_m, none_v = norm.batch_norm(x, None, None, training=False)
    close(y, F.batch_norm(x, None, None, training=True))
    assert none_m is None and none_v is None


def test_batch_norm_momentum_edges():
    x = randn(7, 2, seed=8)
    rm, rv = torch.zeros(2, dtype=F64), torch.ones(2, dtype=F64)
    _, m0, v0 = norm.batch_norm(x, rm, rv, training=True, momentum=0.0)
    close(m0, rm), close(v0, rv)
    _, m1, v1 = norm.batch_norm(x, rm, rv, training=True, momentum=1.0)
    close(m1, x.mean(0)), close(v1, x.var(0, correction=1))


def test_eval_output_of_one_example_does_not_depend_on_the_batch_but_training_output_does():
    layer = norm.BatchNorm1d(3, dtype=F64)
    a, b = randn(8, 3, seed=1), randn(8, 3, seed=2)
    a2 = torch.cat([a[:1], b[1:]])  # same first example, other companions
    assert not torch.allclose(layer(a)[0], layer(a2)[0])
    layer.eval()
    close(layer(a)[0], layer(a2)[0])


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(2, 12), st.integers(1, 5))
def test_batch_norm_training_output_is_standardised_per_channel(seed, N, C):
    x = randn(N, C, seed=seed) * 3 + 2
    before = x.clone()
    y, _, _ = norm.batch_norm(x, None, None, training=True, eps=1e-12)
    np.testing.assert_allclose(y.mean(0).numpy(), 0, atol=1e-9)
    np.testing.assert_allclose(y.var(0, correction=0).numpy(), 1, rtol=1e-6)
    assert torch.equal(x, before)


def test_batch_norm_errors():
    x = randn(4, 3)
    ones, zeros = torch.ones(3, dtype=F64), torch.zeros(3, dtype=F64)
    with pytest.raises(ValueError, match=r"batch_norm: x must have 2 or 3 dimensions \(N, C\) or \(N, C, L\); got shape \(4,\)"):
        norm.batch_norm(randn(4), None, None)
    with pytest.raises(ValueError, match=r"batch_norm: running_mean must have shape \(3,\); got \(2,\)"):
        norm.batch_norm(x, torch.zeros(2, dtype=F64), ones)
    with pytest.raises(ValueError, match=r"batch_norm: weight must have shape \(3,\); got \(3, 1\)"):
        norm.batch_norm(x, zeros, ones, weight=torch.ones(3, 1, dtype=F64))
    with pytest.raises(ValueError, match="batch_norm: running_mean and running_var must both be tensors or both be None"):
        norm.batch_norm(x, zeros, None)
    with pytest.raises(ValueError, match=r"batch_norm: momentum must be in \[0, 1\]; got 1.5"):
        norm.batch_norm(x, zeros, ones, momentum=1.5)
    with pytest.raises(ValueError, match="batch_norm: eps must be finite and > 0; got 0"):
        norm.batch_norm(x, zeros, ones, eps=0)
    with pytest.raises(ValueError, match=r"batch_norm: training needs more than 1 value per channel .* got x of shape \(1, 3\)"):
        norm.batch_norm(x[:1], zeros, ones, training=True)
    with pytest.raises(TypeError, match="batch_norm: x must be a floating-point tensor; got dtype torch.int64"):
        norm.batch_norm(torch.ones(4, 3, dtype=torch.long), None, None)
    with pytest.raises(ValueError, match=r"BatchNorm1d: x must have shape \(N, 3\) or \(N, 3, L\) \(num_features=3\); got \(4, 5\)"):
        norm.BatchNorm1d(3)(torch.ones(4, 5))
    with pytest.raises(ValueError, match="BatchNorm1d: num_features must be an integer >= 1; got 0"):
        norm.BatchNorm1d(0)
    with pytest.raises(ValueError, match=r"BatchNorm1d: momentum must be in \[0, 1\]; got -0.1"):
        norm.BatchNorm1d(3, momentum=-0.1)
    with pytest.raises(ValueError, match="BatchNorm1d: eps must be finite and > 0; got -1"):
        norm.BatchNorm1d(3, eps=-1)


# ================================================================ layer normalization

@pytest.mark.parametrize("shape,normalized", [((4, 6), 6), ((3, 5, 6), (6,)), ((2, 3, 4, 5), (4, 5))])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_matches_f_layer_norm_with_gradients(shape, normalized, affine):
    ns = (normalized,) if isinstance(normalized, int) else normalized
    x = [randn(*shape, seed=1, grad=True) for _ in range(2)]
    params = [[randn(*ns, seed=s, grad=True) if affine else None for s in (2, 3)] for _ in range(2)]
    ours = norm.layer_norm(x[0], normalized, *params[0], eps=1e-5)
    ref = F.layer_norm(x[1], ns, *params[1], eps=1e-5)
    close(ours, ref)
    g = randn(*shape, seed=4)
    ours.backward(g)
    ref.backward(g)
    close(x[0].grad, x[1].grad)
    if affine:
        for a, b in zip(params[0], params[1]):
            close(a.grad, b.grad)


@pytest.mark.parametrize("affine", [True, False])
def test_layernorm_module_matches_nn_layernorm(affine):
    ref = nn.LayerNorm((3, 4), elementwise_affine=affine, dtype=F64)
    if affine:
        with torch.no_grad():
            ref.weight.copy_(randn(3, 4, seed=1))
            ref.bias.copy_(randn(3, 4, seed=2))
    ours = norm.LayerNorm((3, 4), elementwise_affine=affine, dtype=F64)
    ours.load_state_dict(ref.state_dict())
    x = randn(5, 3, 4, seed=3)
    close(ours(x), ref(x))
    close(ours.eval()(x), ref.eval()(x))  # no difference between train and eval
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]


def test_layer_norm_treats_each_example_alone_even_a_batch_of_one():
    x = randn(6, 8, seed=0)
    full = norm.layer_norm(x, 8)
    close(norm.layer_norm(x[2:3], 8), full[2:3])


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 6), st.integers(2, 9))
def test_layer_norm_output_is_standardised_per_example(seed, N, D):
    x = randn(N, D, seed=seed) * 5 - 1
    before = x.clone()
    y = norm.layer_norm(x, D, eps=1e-12)
    np.testing.assert_allclose(y.mean(-1).numpy(), 0, atol=1e-9)
    np.testing.assert_allclose(y.var(-1, correction=0).numpy(), 1, rtol=1e-6)
    assert torch.equal(x, before)


def test_layer_norm_errors():
    x = randn(4, 5)
    with pytest.raises(ValueError, match=r"layer_norm: x must end with normalized_shape \(6,\); got shape \(4, 5\)"):
        norm.layer_norm(x, 6)
    with pytest.raises(ValueError, match=r"layer_norm: x must end with normalized_shape \(3, 4, 5\); got shape \(4, 5\)"):
        norm.layer_norm(x, (3, 4, 5))
    with pytest.raises(ValueError, match=r"layer_norm: weight must have shape \(5,\); got \(4,\)"):
        norm.layer_norm(x, 5, weight=torch.ones(4, dtype=F64))
    with pytest.raises(ValueError, match=r"layer_norm: normalized_shape must be a non-empty tuple of ints >= 1; got \(\)"):
        norm.layer_norm(x, ())
    with pytest.raises(ValueError, match="layer_norm: normalized_shape must be a non-empty tuple of ints >= 1; got 0"):
        norm.layer_norm(x, 0)
    with pytest.raises(TypeError, match="layer_norm: normalized_shape must be an int or a tuple of ints; got float"):
        norm.layer_norm(x, 5.0)
    with pytest.raises(ValueError, match="layer_norm: eps must be finite and > 0; got 0"):
        norm.layer_norm(x, 5, eps=0)
    with pytest.raises(ValueError, match="LayerNorm: normalized_shape must be a non-empty tuple of ints >= 1; got -2"):
        norm.LayerNorm(-2)
