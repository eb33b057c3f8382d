"""Tests for companion.bptt: the NumPy vanilla-RNN forward against nn.RNN, hand BPTT (full and
truncated) against autograd on the same computation and against central differences,
truncated_bptt against a training loop written out, and every validation message.

Tolerances: float64 ``rtol=1e-10, atol=1e-12`` (observed differences ~1e-16); central differences
in float64 with h=1e-6: ``rtol=1e-6, atol=1e-9`` (truncation error O(h^2) ~1e-12, round-off
~eps*|L|/h ~1e-10).
"""
import copy

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from companion import bptt as B
from companion import recurrent as R
from torch_helpers import close, randn

F32 = torch.float32
TIGHT = dict(rtol=1e-10, atol=1e-12)
FD_TOL = dict(rtol=1e-6, atol=1e-9)


def test_recurrent_re_exports_the_bptt_names():
    for name in B.__all__:
        assert getattr(R, name) is getattr(B, name) and name in R.__all__


# ================================================================ NumPy BPTT

def numpy_problem(T=6, N=3, I=4, H=5, seed=0, scale=0.5):
    rng = np.random.default_rng(seed)
    x, h0 = rng.normal(size=(T, N, I)), rng.normal(size=(N, H))
    W_xh, W_hh, b = scale * rng.normal(size=(I, H)), scale * rng.normal(size=(H, H)), rng.normal(size=H)
    return [x, h0, W_xh, W_hh, b], rng.normal(size=(T, N, H))


def torch_forward(x, h0, W_xh, W_hh, b, start=0, stop=None, h=None):
    """h_t for t in [start, stop) from h (h0 if None): the same recurrence with torch ops."""
    h = h0 if h is None else h
    hs = []
    for t in range(start, len(x) if stop is None else stop):
        h = torch.tanh(x[t] @ W_xh + h @ W_hh + b)
        hs.append(h)
    return hs


def autograd_grads(args, dhs, truncate=None):
    """Gradients of sum_t <dhs_t, h_t> by autograd; with truncate=k, each h_t is recomputed from
    h_{t-k} detached (a constant), or from h0 when t-k+1 <= 0 (h0 is an input, it gets gradient)."""
    leaves = [torch.tensor(a, requires_grad=True) for a in args]
    with torch.no_grad():
        full = torch_forward(*leaves)
    loss = 0
    for t in range(len(dhs)):
        first = 0 if truncate is None else max(t - truncate + 1, 0)
        h = None if first == 0 else full[first - 1].detach()
        h_t = torch_forward(*leaves, start=first, stop=t + 1, h=h)[-1]
        loss = loss + (torch.from_numpy(dhs[t]) * h_t).sum()
    loss.backward()
    return dict(zip(["x", "h0", "W_xh", "W_hh", "b"], [leaf.grad.numpy() for leaf in leaves]))


def test_numpy_forward_matches_nn_rnn():
    args, _ = numpy_problem()
    torch.manual_seed(0)
    ref = nn.RNN(4, 5).double()
    W_xh, W_hh = ref.weight_ih_l0.detach().T.numpy(), ref.weight_hh_l0.detach().T.numpy()
    b = (ref.bias_ih_l0 + ref.bias_hh_l0).detach().numpy()
    hs, _ = B.rnn_forward_numpy(args[0], args[1], W_xh, W_hh, b)
    want, _ = ref(torch.from_numpy(args[0]), torch.from_numpy(args[1])[None])
    np.testing.assert_allclose(hs, want.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("truncate", [None, 1, 2, 4])
def test_numpy_bptt_matches_autograd(truncate):
    args, dhs = numpy_problem()
    copies = [a.copy() for a in args] + [dhs.copy()]
    _, cache = B.rnn_forward_numpy(*args)
    got = B.rnn_backward_numpy(dhs, cache, truncate=truncate)
    want = autograd_grads(args, dhs, truncate)
    for name in want:
        assert got[name].shape == want[name].shape
        np.testing.assert_allclose(got[name], want[name], rtol=1e-10, atol=1e-12, err_msg=name)
    assert all(np.array_equal(a, c) for a, c in zip(args + [dhs], copies))  # inputs unchanged


def test_numpy_bptt_matches_central_differences():
    args, dhs = numpy_problem(T=4, N=2, I=3, H=3, seed=1)
    _, cache = B.rnn_forward_numpy(*args)
    grads = B.rnn_backward_numpy(dhs, cache)
    rng, h = np.random.default_rng(2), 1e-6

    def loss(a):
        return float((B.rnn_forward_numpy(*a)[0] * dhs).sum())

    for i, name in enumerate(["x", "h0", "W_xh", "W_hh", "b"]):
        for _ in range(3):
            idx = tuple(rng.integers(s) for s in args[i].shape)
            plus, minus = [a.copy() for a in args], [a.copy() for a in args]
            plus[i][idx] += h
            minus[i][idx] -= h
            np.testing.assert_allclose(grads[name][idx], (loss(plus) - loss(minus)) / (2 * h),
                                       **FD_TOL, err_msg=f"{name}{idx}")


def test_truncation_changes_the_gradient_and_reaches_h0_only_within_k_steps():
    args, dhs = numpy_problem(T=8)
    _, cache = B.rnn_forward_numpy(*args)
    full, k2 = B.rnn_backward_numpy(dhs, cache), B.rnn_backward_numpy(dhs, cache, truncate=2)
    assert np.abs(full["W_hh"] - k2["W_hh"]).max() > 1e-3
    only_first = np.zeros_like(dhs)
    only_first[5:] = dhs[5:]  # losses at t >= 5 only: more than 2 steps after h0
    assert np.all(B.rnn_backward_numpy(only_first, cache, truncate=2)["h0"] == 0)
    assert np.any(B.rnn_backward_numpy(only_first, cache)["h0"] != 0)


# ================================================================ truncated_bptt

class Tagger(nn.Module):
    """Our LSTM with a linear read-out per step; returns (prediction, state) like an RNN."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.rnn, self.head = R.LSTM(2, 4, batch_first=True).double(), nn.Linear(4, 1).double()
        self.batch_first = True

    def forward(self, x, state=None):
        out, state = self.rnn(x, state)
        return self.head(out).squeeze(-1), state


class Recorder(torch.optim.SGD):
    """SGD that records the gradients it is given at each step."""

    def step(self, closure=None):
        self.seen = getattr(self, "seen", []) + [[p.grad.clone() for p in self.param_groups[0]["params"]]]
        return super().step(closure)


def test_truncated_bptt_losses_match_a_training_loop_written_out():
    x, y = randn(3, 10, 2), randn(3, 10, seed=1)
    model = Tagger()
    twin = copy.deepcopy(model)
    losses = B.truncated_bptt(model, x, y, nn.functional.mse_loss,
                              torch.optim.SGD(model.parameters(), lr=0.1), k=4)
    assert len(losses) == 3  # chunks of 4, 4 and 2 steps
    opt, state, want = torch.optim.SGD(twin.parameters(), lr=0.1), None, []
    for j in (0, 4, 8):
        out, state = twin(x[:, j:j + 4], state)
        loss = nn.functional.mse_loss(out, y[:, j:j + 4])
        opt.zero_grad()
        loss.backward()
        opt.step()
        state = tuple(s.detach() for s in state)
        want.append(loss.item())
    np.testing.assert_allclose(losses, want, rtol=1e-12)
    for a, b in zip(model.parameters(), twin.parameters()):
        close(a, b, TIGHT)


def test_truncated_bptt_gradient_stops_at_the_chunk_boundary():
    torch.manual_seed(0)
    model = nn.GRU(2, 3, batch_first=True).double()
    x, y = randn(2, 6, 2), randn(2, 6, 3, seed=1)
    x0 = x.clone()
    opt = Recorder(model.parameters(), lr=0.0)  # parameters stay fixed: the references are easy
    losses = B.truncated_bptt(model, x, y, nn.functional.mse_loss, opt, k=3)
    out1, h1 = model(x[:, :3])
    for h, detached in ((h1.detach(), True), (h1, False)):
        out2, _ = model(x[:, 3:], h)
        loss2 = nn.functional.mse_loss(out2, y[:, 3:])
        grads = torch.autograd.grad(loss2, list(model.parameters()), retain_graph=True)
        same = all(torch.allclose(a, b, rtol=1e-10, atol=1e-12) for a, b in zip(opt.seen[1], grads))
        assert same == detached  # the recorded gradient is the detached one, not the full one
    assert losses[1] == pytest.approx(loss2.item(), rel=1e-12) and torch.equal(x, x0)


@settings(max_examples=25, deadline=None)
@given(T=st.integers(1, 6), N=st.integers(1, 3), I=st.integers(1, 3), H=st.integers(1, 3),
       extra=st.integers(0, 3), seed=st.integers(0, 1000))
def test_truncation_at_least_T_is_full_bptt(T, N, I, H, extra, seed):
    args, dhs = numpy_problem(T, N, I, H, seed)
    hs, cache = B.rnn_forward_numpy(*args)
    assert hs.shape == (T, N, H) and hs.dtype == np.float64
    full = B.rnn_backward_numpy(dhs, cache)
    trunc = B.rnn_backward_numpy(dhs, cache, truncate=T + extra)
    for name in full:
        np.testing.assert_allclose(trunc[name], full[name], rtol=1e-10, atol=1e-12)


# ================================================================ bad input

def test_numpy_bptt_and_helper_errors():
    args, dhs = numpy_problem()
    x, h0, W_xh, W_hh, b = args
    _, cache = B.rnn_forward_numpy(*args)
    model, opt = nn.GRU(2, 3), None
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    bf = nn.GRU(2, 3, batch_first=True)
    cases = [
        (lambda: B.rnn_forward_numpy(x[0], h0, W_xh, W_hh, b), ValueError,
         r"rnn_forward_numpy: x must have 3 dimensions \(T, N, I\); got shape \(3, 4\)"),
        (lambda: B.rnn_forward_numpy(x, h0, W_xh.T, W_hh, b), ValueError,
         r"rnn_forward_numpy: W_xh must have shape \(4, 5\); got \(5, 4\)"),
        (lambda: B.rnn_forward_numpy(x, h0[:2], W_xh, W_hh, b), ValueError,
         r"rnn_forward_numpy: h0 must have shape \(3, 5\); got \(2, 5\)"),
        (lambda: B.rnn_forward_numpy(x.astype(int), h0, W_xh, W_hh, b), TypeError,
         "rnn_forward_numpy: x must be a floating-point array; got dtype int64"),
        (lambda: B.rnn_backward_numpy(dhs[1:], cache), ValueError,
         r"rnn_backward_numpy: dhs must have shape \(6, 3, 5\); got \(5, 3, 5\)"),
        (lambda: B.rnn_backward_numpy(dhs, cache, truncate=0), ValueError,
         "rnn_backward_numpy: truncate must be an integer >= 1; got 0"),
        (lambda: B.rnn_backward_numpy(dhs, cache, truncate=2.0), TypeError,
         "rnn_backward_numpy: truncate must be an integer; got float"),
        (lambda: B.truncated_bptt(bf, randn(2, 6, 2, dtype=F32), randn(2, 6, 3, dtype=F32),
                                  nn.functional.mse_loss, opt, k=0), ValueError,
         "truncated_bptt: k must be an integer >= 1; got 0"),
        (lambda: B.truncated_bptt(bf, randn(2, 6, 2, dtype=F32), randn(2, 5, dtype=F32),
                                  nn.functional.mse_loss, opt, k=2), ValueError,
         r"truncated_bptt: y must start with x's \(N, T\) = \(2, 6\); got shape \(2, 5\)"),
        (lambda: B.truncated_bptt(model, randn(2, 6, 2, dtype=F32), randn(2, 6, 3, dtype=F32),
                                  nn.functional.mse_loss, opt, k=2), ValueError,
         "truncated_bptt: model must take batch_first inputs; got batch_first=False"),
        (lambda: B.truncated_bptt(bf, randn(6, 2, dtype=F32), randn(6, 2, dtype=F32),
                                  nn.functional.mse_loss, opt, k=2), ValueError,
         r"truncated_bptt: x must have 3 dimensions \(N, T, input_size\)"),
        (lambda: B.truncated_bptt(lambda x, s: (x, s), randn(2, 6, 2), randn(2, 6, 2),
                                  nn.functional.mse_loss, opt, k=2), TypeError,
         "truncated_bptt: model must be a torch.nn.Module; got function"),
        (lambda: B.truncated_bptt(bf, randn(2, 6, 2), randn(2, 6, 2), nn.functional.mse_loss,
                                  "sgd", k=2), TypeError,
         "truncated_bptt: optimizer must be a torch.optim.Optimizer; got str"),
    ]
    for call, error, match in cases:
        with pytest.raises(error, match=match):
            call()
