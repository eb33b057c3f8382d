"""Tests for companion.regularization: each function against torch (nn.Dropout, F.softshrink,
clip_grad_norm_, SGD/Adam weight_decay), gradients against autograd,
random code on statistics, properties with hypothesis, and every validation message.

Tolerances (STYLE.md): float64 rtol=1e-6 (with atol=1e-12 where values cross zero, e.g. normalised
outputs); float32 rtol=1e-4, atol=1e-5. Statistical tests use 5 standard deviations of the
binomial (or multinomial) sampling error, so a correct implementation fails about once in 3.5
million runs while a wrong rate (e.g. keeping with probability p instead of 1 - p) fails always.
"""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from companion import regularization as R
from companion.training import evaluate, fit, make_loader
from torch_helpers import F64, TOL32, TOL64, close, randn



# ================================================================ L1 / L2 penalties

def two_params(seed=0):
    return [randn(3, 4, seed=seed, grad=True), randn(5, seed=seed + 1, grad=True)]


@pytest.mark.parametrize("lam", [0.0, 0.01, 1.5])
def test_l1_penalty_value_and_gradient_match_autograd(lam):
    ours_p, ref_p = two_params(), two_params()
    ours = R.l1_penalty(ours_p, lam)
    ref = lam * sum(torch.linalg.vector_norm(p, ord=1) for p in ref_p)
    close(ours, ref)
    ours.backward()
    ref.backward()
    for a, b in zip(ours_p, ref_p):
        close(a.grad, b.grad)
        close(a.grad, lam * torch.sign(a.detach()))  # the subgradient lam * sign(w)


@pytest.mark.parametrize("lam", [0.0, 0.01, 1.5])
def test_l2_penalty_value_and_gradient_match_autograd(lam):
    ours_p, ref_p = two_params(), two_params()
    ours = R.l2_penalty(ours_p, lam)
    ref = lam / 2 * sum(torch.linalg.vector_norm(p) ** 2 for p in ref_p)
    close(ours, ref)
    ours.backward()
    ref.backward()
    for a, b in zip(ours_p, ref_p):
        close(a.grad, b.grad)
        close(a.grad, lam * a.detach())  # the 1/2 makes the gradient exactly lam * w


def small_net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).double()


def train_steps(net, make_optimizer, lam_in_loss, steps=20):
    X, y = randn(16, 4, seed=3), torch.arange(16) % 3
    opt = make_optimizer(net.parameters())
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(net(X), y)
        if lam_in_loss:
            loss = loss + R.l2_penalty(net.parameters(), lam_in_loss)
        loss.backward()
        opt.step()
    return [p.detach() for p in net.parameters()]


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_l2_penalty_in_the_loss_equals_sgd_weight_decay(momentum):
    lam = 0.05
    ours = train_steps(small_net(), lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=momentum), lam)
    ref = train_steps(small_net(), lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=momentum,
                                                              weight_decay=lam), 0.0)
    for a, b in zip(ours, ref):
        close(a, b)


def test_l2_penalty_in_the_loss_equals_adam_weight_decay_but_not_adamw():
    lam = 0.05
    ours = train_steps(small_net(), lambda ps: torch.optim.Adam(ps, lr=0.01), lam)
    adam = train_steps(small_net(), lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=lam), 0.0)
    adamw = train_steps(small_net(), lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=lam), 0.0)
    for a, b in zip(ours, adam):
        close(a, b)
    assert max(float((a - b).abs().max()) for a, b in zip(ours, adamw)) > 1e-4  # decoupled decay differs


def test_penalties_accept_one_tensor_or_a_generator_and_keep_the_dtype():
    w = randn(3, 3, dtype=torch.float32)
    assert R.l2_penalty(w, 0.1).dtype == torch.float32
    net = small_net()
    close(R.l1_penalty(net.parameters(), 0.1), R.l1_penalty(list(net.parameters()), 0.1))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1), st.floats(0.0, 10.0), st.floats(-3.0, 3.0))
def test_penalty_properties(seed, lam, c):
    w = randn(4, 3, seed=seed)
    before = w.clone()
    l1, l2 = R.l1_penalty(w, lam), R.l2_penalty(w, lam)
    assert l1 >= 0 and l2 >= 0
    np.testing.assert_allclose(float(R.l1_penalty(c * w, lam)), abs(c) * float(l1), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(float(R.l2_penalty(c * w, lam)), c * c * float(l2), rtol=1e-9, atol=1e-12)
    assert torch.equal(w, before)


@pytest.mark.parametrize("func", [R.l1_penalty, R.l2_penalty])
def test_penalty_errors(func):
    name = func.__name__
    with pytest.raises(ValueError, match=rf"{name}: params must hold at least one tensor; got none"):
        func([], 0.1)
    with pytest.raises(TypeError, match=rf"{name}: params\[1\] must be a torch.Tensor; got ndarray"):
        func([randn(2), np.ones(2)], 0.1)
    with pytest.raises(TypeError, match=rf"{name}: params\[0\] must be a floating-point tensor; got dtype torch.int64"):
        func([torch.ones(2, dtype=torch.long)], 0.1)
    with pytest.raises(ValueError, match=rf"{name}: lam must be finite and >= 0; got -0.1"):
        func(randn(2), -0.1)
    with pytest.raises(TypeError, match=rf"{name}: lam must be a number; got str"):
        func(randn(2), "0.1")


# ---------------------------------------------------------------- soft thresholding (L1 prox)

@pytest.mark.parametrize("dtype,tol", [(F64, TOL64), (torch.float32, TOL32)])
@pytest.mark.parametrize("t", [0.0, 0.3, 2.0])
def test_soft_threshold_matches_softshrink(dtype, tol, t):
    w = randn(6, 5, dtype=dtype)
    close(R.soft_threshold(w, t), F.softshrink(w, t), tol)


def test_soft_threshold_gives_exact_zeros_and_only_shrinks():
    w = torch.tensor([-2.0, -0.5, -0.1, 0.0, 0.2, 0.5, 1.5], dtype=F64)
    out = R.soft_threshold(w, 0.5)
    assert (out == 0).tolist() == [False, True, True, True, True, True, False]
    close(out, torch.tensor([-1.5, 0, 0, 0, 0, 0, 1.0], dtype=F64))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1), st.floats(0.0, 3.0))
def test_soft_threshold_properties(seed, t):
    w = randn(10, seed=seed)
    out = R.soft_threshold(w, t)
    assert torch.all(out.abs() <= w.abs())
    assert torch.all(out * w >= 0)  # never crosses zero
    assert torch.all((out == 0) == (w.abs() <= t))


def test_soft_threshold_errors():
    with pytest.raises(ValueError, match="soft_threshold: threshold must be finite and >= 0; got -1"):
        R.soft_threshold(randn(3), -1)
    with pytest.raises(TypeError, match="soft_threshold: w must be a torch.Tensor; got list"):
        R.soft_threshold([1.0], 0.1)


# ================================================================ dropout

N_STAT = 200_000


def five_sigma_fraction(p, n=N_STAT):
    return 5 * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_zeroes_a_fraction_p_and_preserves_the_mean(p):
    x = torch.ones(N_STAT, dtype=F64)
    y = R.dropout(x, p, generator=torch.Generator().manual_seed(1))
    dropped = float((y == 0).double().mean())
    assert abs(dropped - p) < five_sigma_fraction(p)
    # a kept value is 1/(1-p) with probability 1-p: mean 1, variance p/(1-p)
    assert abs(float(y.mean()) - 1) < 5 * math.sqrt(p / (1 - p) / N_STAT)
    close(y[y != 0], torch.full_like(y[y != 0], 1 / (1 - p)))


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout_matches_nn_dropout_in_distribution(p):
    x = randn(N_STAT)
    ours = R.dropout(x, p, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    ref = nn.Dropout(p)(x)
    # the two random streams differ, so compare the distributions: the zero fractions agree
    # within 5 standard deviations of their difference, the kept values are the same function
    f_ours, f_ref = float((ours == 0).double().mean()), float((ref == 0).double().mean())
    assert abs(f_ours - f_ref) < 5 * math.sqrt(2 * p * (1 - p) / N_STAT)
    for out in (ours, ref):
        kept = out != 0
        close(out[kept], x[kept] / (1 - p))


def test_dropout_is_the_identity_in_eval_and_with_p_zero():
    x = randn(4, 5)
    assert R.dropout(x, 0.5, training=False) is x
    assert R.dropout(x, 0.0) is x
    layer = R.Dropout(0.5, seed=0).eval()
    assert torch.equal(layer(x), nn.Dropout(0.5).eval()(x))


def test_dropout_is_reproducible_with_a_seed():
    x = randn(50, 40)
    a = R.dropout(x, 0.3, generator=torch.Generator().manual_seed(7))
    b = R.dropout(x, 0.3, generator=torch.Generator().manual_seed(7))
    c = R.dropout(x, 0.3, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)
    # the module owns its generator: the same seed gives the same sequence of masks
    m1, m2 = R.Dropout(0.3, seed=3), R.Dropout(0.3, seed=3)
    assert all(torch.equal(m1(x), m2(x)) for _ in range(3))
    assert not torch.equal(m1(x), m1(x))  # a new mask at every call
    # without a generator, torch's global RNG decides
    torch.manual_seed(5)
    d = R.dropout(x, 0.3)
    torch.manual_seed(5)
    assert torch.equal(d, R.dropout(x, 0.3))


def test_dropout_gradient_is_the_same_mask_scaled():
    p = 0.4
    x = randn(30, 20, grad=True)
    y = R.dropout(x, p, generator=torch.Generator().manual_seed(0))
    g = randn(30, 20, seed=9)
    y.backward(g)
    mask = (y.detach() != 0).to(F64)  # x has no exact zeros
    close(x.grad, g * mask / (1 - p))


@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_dropout_keeps_shape_and_dtype_and_leaves_the_input_alone(dtype):
    x = randn(3, 4, 5, dtype=dtype)
    before = x.clone()
    y = R.dropout(x, 0.5, generator=torch.Generator().manual_seed(0))
    assert y.shape == x.shape and y.dtype == dtype and torch.equal(x, before)


def test_dropout_module_switches_with_train_and_eval():
    layer = R.Dropout(0.5, seed=0)
    x = torch.ones(1000, dtype=F64)
    assert (layer(x) == 0).any()
    layer.eval()
    assert torch.equal(layer(x), x)
    assert repr(layer) == "Dropout(p=0.5, seed=0)"


def test_dropout_errors():
    x = randn(3)
    with pytest.raises(ValueError, match=r"dropout: p must be in \[0, 1\) \(p = 1 drops everything"):
        R.dropout(x, 1.0)
    with pytest.raises(ValueError, match=r"dropout: p must be in \[0, 1\]; got -0.1"):
        R.dropout(x, -0.1)
    with pytest.raises(ValueError, match=r"dropout: p must be in \[0, 1\]; got 1.5"):
        R.dropout(x, 1.5)
    with pytest.raises(TypeError, match="dropout: p must be a number; got str"):
        R.dropout(x, "0.5")
    with pytest.raises(TypeError, match="dropout: x must be a floating-point tensor; got dtype torch.int64"):
        R.dropout(torch.ones(3, dtype=torch.long))
    with pytest.raises(TypeError, match="dropout: x must be a torch.Tensor; got ndarray"):
        R.dropout(np.ones(3))
    with pytest.raises(TypeError, match="dropout: generator must be a torch.Generator or None; got int"):
        R.dropout(x, 0.5, generator=0)
    with pytest.raises(ValueError, match=r"Dropout: p must be in \[0, 1\) \(p = 1"):
        R.Dropout(1)
    with pytest.raises(ValueError, match="Dropout: seed must be an integer >= 0; got -1"):
        R.Dropout(0.5, seed=-1)


# ================================================================ early stopping

class Counter(nn.Module):
    """A one-weight model whose weight we set to the epoch number, to see which epoch is restored."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1, dtype=F64))


def replay(losses, key="val_loss", **kwargs):
    """Feed a fake history epoch by epoch; returns (callback, model, stop epoch, saved copies)."""
    es, model, saved = R.EarlyStopping(**kwargs), Counter(), {}
    records = {key: []}
    for epoch, value in enumerate(losses):
        with torch.no_grad():
            model.w.fill_(epoch)
        saved[epoch] = {k: v.clone() for k, v in model.state_dict().items()}
        records[key].append(value)
        if es(epoch, records, model):
            return es, model, epoch, saved
    return es, model, None, saved


LOSSES = [1.0, 0.8, 0.7, 0.72, 0.71, 0.69, 0.75, 0.76, 0.77, 0.6]


def test_early_stopping_patience_and_restore_best_weights():
    es, model, stop, saved = replay(LOSSES, patience=3)
    assert (stop, es.best_epoch, es.stopped_epoch, es.best_value) == (8, 5, 8, 0.69)
    assert torch.equal(model.state_dict()["w"], saved[5]["w"])  # the weights of epoch 5 are back


def test_early_stopping_min_delta_ignores_small_improvements():
    es, _, stop, _ = replay(LOSSES, patience=3, min_delta=0.02)
    # 0.72, 0.71, 0.69 do not beat 0.7 by more than 0.02: three epochs without improvement
    assert (stop, es.best_epoch) == (5, 2)


def test_early_stopping_needs_strictly_more_than_min_delta():
    es, _, stop, _ = replay([1.0, 1.0, 1.0], patience=2)  # equal is not better
    assert (stop, es.best_epoch) == (2, 0)
    es, _, stop, _ = replay([1.0, 0.5, 0.75, 0.6], patience=2, min_delta=0.5)  # exactly 0.5 better: not enough
    assert (stop, es.best_epoch) == (2, 0)


def test_early_stopping_without_restore_keeps_the_last_weights():
    _, model, stop, _ = replay(LOSSES, patience=2, restore_best=False)
    assert stop == 4 and model.w.detach().item() == 4.0


def test_early_stopping_saves_a_deep_copy_not_a_reference():
    es, model = R.EarlyStopping(patience=2), Counter()
    es(0, {"val_loss": [1.0]}, model)
    with torch.no_grad():
        model.w.add_(10.0)  # an optimizer step after the best epoch
    assert float(es.best_state["w"]) == 0.0
    es.restore(model)
    assert model.w.detach().item() == 0.0


def test_early_stopping_mode_max_nan_and_reset():
    es, _, stop, _ = replay([0.5, 0.6, 0.55, 0.58], key="val_acc", monitor="val_acc", mode="max", patience=2)
    assert (stop, es.best_epoch) == (3, 1)
    es, _, stop, _ = replay([1.0, float("nan"), float("nan")], patience=2)
    assert (stop, es.best_epoch) == (2, 0)  # NaN never counts as an improvement
    model = Counter()
    es(0, {"val_loss": [5.0]}, model)  # epoch 0 again: a new run starts afresh
    assert (es.best_epoch, es.best_value, es.wait, es.stopped_epoch) == (0, 5.0, 0, None)


def test_early_stopping_never_stopping_and_restore_at_the_end():
    es, model, stop, saved = replay([3.0, 2.0, 1.0, 1.5], patience=5)
    assert stop is None and model.w.detach().item() == 3.0
    es.on_train_end({}, model)  # what fit calls after the last epoch
    assert torch.equal(model.state_dict()["w"], saved[2]["w"])
    R.EarlyStopping().restore(model)  # nothing saved yet: no-op


def fit_with_early_stopping(seed, patience, epochs):
    """Train a tiny net whose validation loss rises (flipped labels) with EarlyStopping in fit."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(64, 5)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    train = make_loader(X, y, batch_size=16, seed=0)
    val = make_loader(X[:32], 1 - y[:32], batch_size=32, shuffle=False)  # flipped labels: val loss rises
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Linear(8, 2))
    es = R.EarlyStopping(patience=patience)
    history = fit(model, train, loss_fn=F.cross_entropy, optimizer=torch.optim.SGD(model.parameters(), lr=0.5),
                  epochs=epochs, val_loader=val, callbacks=(es,), progress=False)
    restored = evaluate(model, val, F.cross_entropy)["loss"]
    return es, history, restored


def test_early_stopping_inside_fit_stops_and_restores_the_best_epoch():
    es, history, restored = fit_with_early_stopping(seed=0, patience=3, epochs=50)
    best_epoch, best_value = history.best("val_loss")
    assert history.stopped_epoch == es.stopped_epoch == best_epoch + 3 < 49
    assert es.best_epoch == best_epoch
    np.testing.assert_allclose(restored, best_value, rtol=1e-6)  # the model holds the best epoch's weights


def test_fit_restores_the_best_epoch_when_training_ends_without_a_stop():
    es, history, restored = fit_with_early_stopping(seed=1, patience=100, epochs=8)  # never stops
    best_epoch, best_value = history.best("val_loss")
    assert history.stopped_epoch is None and best_epoch < 7  # the last epoch is not the best one
    np.testing.assert_allclose(restored, best_value, rtol=1e-6)  # on_train_end restored the best


def test_early_stopping_errors():
    with pytest.raises(ValueError, match="EarlyStopping: patience must be an integer >= 1; got -1"):
        R.EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="EarlyStopping: patience must be an integer >= 1; got 0"):
        R.EarlyStopping(patience=0)
    with pytest.raises(TypeError, match="EarlyStopping: patience must be an integer; got float"):
        R.EarlyStopping(patience=2.5)
    with pytest.raises(ValueError, match="EarlyStopping: min_delta must be finite and >= 0; got -0.1"):
        R.EarlyStopping(min_delta=-0.1)
    with pytest.raises(ValueError, match="EarlyStopping: mode must be 'min' or 'max'; got 'avg'"):
        R.EarlyStopping(mode="avg")
    with pytest.raises(TypeError, match="EarlyStopping: monitor must be str; got int"):
        R.EarlyStopping(monitor=3)
    with pytest.raises(KeyError, match=r"EarlyStopping: history has no 'val_loss' \(monitor\); it has \['loss'\]"):
        R.EarlyStopping()(0, {"loss": [1.0]}, Counter())


# ================================================================ gradient clipping

def params_with_grads(scale, seed=0):
    """Three float64 parameters with seeded gradients, one more without a gradient."""
    ps = [randn(3, 4, seed=seed), randn(4, seed=seed + 1), randn(2, 2, 2, seed=seed + 2), randn(3)]
    for i, p in enumerate(ps[:3]):
        p.requires_grad_(True)
        p.grad = scale * randn(*p.shape, seed=seed + 10 + i)
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, ref = params_with_grads(3.0), params_with_grads(3.0)
    n_ours = R.clip_grad_norm(ours, max_norm, norm_type)
    n_ref = torch.nn.utils.clip_grad_norm_(ref, max_norm, norm_type)
    close(n_ours, n_ref)
    for a, b in zip(ours[:3], ref[:3]):
        close(a.grad, b.grad)
    assert ours[3].grad is None


def test_clip_grad_norm_keeps_the_direction_and_caps_the_length():
    ps = params_with_grads(5.0)
    before = torch.cat([p.grad.flatten() for p in ps[:3]])
    total = R.clip_grad_norm(ps, 1.0)
    after = torch.cat([p.grad.flatten() for p in ps[:3]])
    close(total, torch.linalg.vector_norm(before))
    np.testing.assert_allclose(float(torch.linalg.vector_norm(after)), 1.0, rtol=1e-5)  # 1e-6 in the divisor
    np.testing.assert_allclose(float(F.cosine_similarity(before, after, dim=0)), 1.0, rtol=1e-12)


def test_clip_grad_norm_single_tensor_and_no_gradients():
    w = randn(4, grad=True)
    w.grad = torch.full((4,), 2.0, dtype=F64)
    close(R.clip_grad_norm(w, 1.0), torch.tensor(4.0, dtype=F64))
    assert float(R.clip_grad_norm([randn(3)], 1.0)) == 0.0


def test_clip_grad_norm_errors():
    ps = params_with_grads(1.0)
    with pytest.raises(ValueError, match="clip_grad_norm: max_norm must be finite and > 0; got 0"):
        R.clip_grad_norm(ps, 0)
    with pytest.raises(ValueError, match="clip_grad_norm: norm_type must be > 0 or inf; got -1"):
        R.clip_grad_norm(ps, 1.0, -1)
    with pytest.raises(ValueError, match="clip_grad_norm: norm_type must be > 0 or inf; got nan"):
        R.clip_grad_norm(ps, 1.0, float("nan"))
    with pytest.raises(TypeError, match="clip_grad_norm: norm_type must be a number or 'inf'; got 'two'"):
        R.clip_grad_norm(ps, 1.0, "two")


# ================================================================ augment_shift

def shift_reference(x, dy, dx):
    """out[i, j] = x[i - dy, j - dx] inside the image, 0 outside, by explicit loops. x (..., H, W)."""
    out = torch.zeros_like(x)
    H, W = x.shape[-2:]
    for i in range(H):
        for j in range(W):
            if 0 <= i - dy < H and 0 <= j - dx < W:
                out[..., i, j] = x[..., i - dy, j - dx]
    return out


@pytest.mark.parametrize("shape", [(6, 5, 7), (4, 3, 6, 5)], ids=["NHW", "NCHW"])
@pytest.mark.parametrize("max_shift", [0, 1, 2])
def test_augment_shift_equals_the_loop_reference(shape, max_shift):
    x = randn(*shape, seed=1)
    before = x.clone()
    out, shifts = R.augment_shift(x, max_shift, torch.Generator().manual_seed(0), return_shifts=True)
    assert out.shape == x.shape and out.dtype == x.dtype and shifts.shape == (shape[0], 2)
    assert shifts.abs().max() <= max_shift
    for n, (dy, dx) in enumerate(shifts.tolist()):
        close(out[n], shift_reference(x[n], dy, dx))  # all channels move together; zeros fill in
    assert torch.equal(x, before)


def test_augment_shift_preserves_the_digit_when_it_fits_in_the_margin():
    s = 2
    x = torch.zeros(50, 12, 12, dtype=F64)
    x[:, s:-s, s:-s] = randn(50, 8, 8, seed=3).abs() + 0.1  # content inside a zero margin of width s
    out, shifts = R.augment_shift(x, s, torch.Generator().manual_seed(1), return_shifts=True)
    close(out.sum((1, 2)), x.sum((1, 2)))  # nothing is cut off: the same digit, moved
    for n, (dy, dx) in enumerate(shifts.tolist()):
        assert torch.equal(out[n, s + dy:s + dy + 8, s + dx:s + dx + 8], x[n, s:-s, s:-s])


def test_augment_shift_draws_every_offset_uniformly_and_is_seeded():
    s, N = 1, 9000
    x = torch.zeros(N, 4, 4)
    _, shifts = R.augment_shift(x, s, torch.Generator().manual_seed(0), return_shifts=True)
    counts = torch.bincount((shifts[:, 0] + s) * 3 + shifts[:, 1] + s, minlength=9).numpy()
    p = 1 / 9  # each count is binomial(N, 1/9): within 5 standard deviations of N/9
    assert np.all(np.abs(counts - N * p) < 5 * math.sqrt(N * p * (1 - p)))
    a = R.augment_shift(randn(5, 6, 6), 2, torch.Generator().manual_seed(4))
    b = R.augment_shift(randn(5, 6, 6), 2, torch.Generator().manual_seed(4))
    assert torch.equal(a, b)
    assert torch.equal(R.augment_shift(randn(5, 6, 6), 0), randn(5, 6, 6))  # s = 0: identity


def test_augment_shift_keeps_integer_images():
    x = torch.arange(2 * 4 * 4).reshape(2, 4, 4)
    out = R.augment_shift(x, 1, torch.Generator().manual_seed(0))
    assert out.dtype == torch.int64 and out.shape == x.shape


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(3, 7), st.integers(3, 7), st.integers(0, 2), st.integers(0, 2**31 - 1))
def test_augment_shift_property_against_the_reference(N, H, W, s, seed):
    x = randn(N, H, W, seed=seed)
    out, shifts = R.augment_shift(x, s, torch.Generator().manual_seed(seed), return_shifts=True)
    for n, (dy, dx) in enumerate(shifts.tolist()):
        assert torch.equal(out[n], shift_reference(x[n], dy, dx))


def test_augment_shift_errors():
    with pytest.raises(ValueError, match=r"augment_shift: images must have 3 or 4 dimensions \(N, H, W\) or \(N, C, H, W\); got shape \(8, 8\)"):
        R.augment_shift(torch.zeros(8, 8))
    with pytest.raises(ValueError, match="augment_shift: max_shift must be an integer >= 0; got -1"):
        R.augment_shift(torch.zeros(2, 8, 8), -1)
    with pytest.raises(ValueError, match=r"augment_shift: max_shift must be < min\(H, W\) = 5; got 5"):
        R.augment_shift(torch.zeros(2, 5, 8), 5)
    with pytest.raises(TypeError, match="augment_shift: images must be a torch.Tensor; got ndarray"):
        R.augment_shift(np.zeros((2, 8, 8)))
    with pytest.raises(TypeError, match="augment_shift: generator must be a torch.Generator or None; got int"):
        R.augment_shift(torch.zeros(2, 8, 8), 1, 0)
