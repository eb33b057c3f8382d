r"""Backpropagation through time: the vanilla RNN's gradients by hand in NumPy, and truncated BPTT.

An RNN unrolled over T steps is a T-layer network whose layers share one set of weights, so its
gradient is ordinary backpropagation through that unrolled graph, summed over the copies of each
weight. :func:`rnn_forward_numpy` / :func:`rnn_backward_numpy` write it out (full, or truncated to
k steps back); :func:`truncated_bptt` trains a torch model on a long sequence chunk by chunk.
The recurrent cells and modules are in :mod:`companion.recurrent`, which re-exports these names.
Reference: ``torch.autograd`` on the same computation (``nn.RNN`` with copied weights).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .validation import check_floating, check_int, check_ndim, check_shape, check_tensor, check_type

__all__ = ["rnn_forward_numpy", "rnn_backward_numpy", "truncated_bptt"]


# ---------------------------------------------------------------- BPTT by hand (NumPy)

def rnn_forward_numpy(x, h0, W_xh, W_hh, b):
    r"""Vanilla RNN forward in NumPy, keeping what the backward pass needs.

    .. math:: h_t = \tanh(x_t W_{xh} + h_{t-1} W_{hh} + b), \quad t = 0, \dots, T-1

    Args: x (T, N, I); h0 (N, H), the state before step 0; W_xh (I, H); W_hh (H, H); b (H,).
        (``W_xh = weight_ih.T``, ``W_hh = weight_hh.T``, ``b = bias_ih + bias_hh`` of torch's.)
    Returns: (hs (T, N, H), cache) where ``hs[t]`` is :math:`h_t`.
    """
    func = "rnn_forward_numpy"
    x, h0, W_xh, W_hh, b = (np.asarray(a) for a in (x, h0, W_xh, W_hh, b))
    for name, a in (("x", x), ("h0", h0), ("W_xh", W_xh), ("W_hh", W_hh), ("b", b)):
        check_floating(func, name, a)
    check_ndim(func, "x", x, 3, "(T, N, I)")
    check_ndim(func, "W_hh", W_hh, 2, "(H, H)")
    T, N, I = x.shape
    H = W_hh.shape[1]
    check_shape(func, "W_hh", W_hh, (H, H))
    check_shape(func, "W_xh", W_xh, (I, H))
    check_shape(func, "h0", h0, (N, H))
    check_shape(func, "b", b, (H,))
    hs = np.empty((T, N, H), dtype=np.result_type(x, h0, W_xh, W_hh, b))
    h = h0
    for t in range(T):
        # h_t = tanh(x_t W_xh + h_{t-1} W_hh + b)
        h = hs[t] = np.tanh(x[t] @ W_xh + h @ W_hh + b)
    return hs, (x, h0, W_xh, W_hh, hs)


def _step_back(dh, t, cache, grads):
    """Push dL/dh_t back through step t: add to the gradients, return dL/dh_{t-1}."""
    x, h0, W_xh, W_hh, hs = cache
    h_prev = hs[t - 1] if t > 0 else h0
    # da_t = dL/dh_t * (1 - h_t^2): the derivative of tanh at the pre-activation a_t
    da = dh * (1.0 - hs[t] ** 2)  # (N, H)
    grads["W_xh"] += x[t].T @ da
    grads["W_hh"] += h_prev.T @ da
    grads["b"] += da.sum(axis=0)
    grads["x"][t] += da @ W_xh.T
    # dL/dh_{t-1} = da_t W_hh^T
    return da @ W_hh.T


def rnn_backward_numpy(dhs, cache, truncate=None):
    r"""Backpropagation through time for :func:`rnn_forward_numpy`.

    Full BPTT (``truncate=None``) runs backwards once, adding each step's own gradient:
    :math:`\bar h_t = \partial L/\partial h_t + \bar a_{t+1} W_{hh}^\top`,
    :math:`\bar a_t = \bar h_t \odot (1 - h_t^2)`; then :math:`\bar W_{xh} = \sum_t x_t^\top
    \bar a_t`, :math:`\bar W_{hh} = \sum_t h_{t-1}^\top \bar a_t`, :math:`\bar b = \sum_t
    \sum_n \bar a_t`, :math:`\bar x_t = \bar a_t W_{xh}^\top`, :math:`\bar h_0 = \bar a_0
    W_{hh}^\top`.

    Truncated (``truncate=k``, int >= 1): the gradient ``dhs[t]`` flows back through the k steps
    t, t-1, ..., t-k+1 only (into their inputs x_s and the weights); the state h_{t-k} they start
    from is treated as a constant, except that h0 (an input) receives the gradient when
    t-k+1 <= 0. Equivalently: autograd on :math:`\sum_t \langle dhs_t, h_t\rangle` with each
    :math:`h_t` recomputed from a detached :math:`h_{t-k}`. Costs O(T k); k >= T is full BPTT.
    Args: dhs (T, N, H) = :math:`\partial L/\partial h_t` from the loss terms at each step;
        cache from :func:`rnn_forward_numpy`.
    Returns: dict with keys "x", "h0", "W_xh", "W_hh", "b", gradients shaped like those inputs.
    """
    func = "rnn_backward_numpy"
    x, h0, W_xh, W_hh, hs = cache
    dhs = check_floating(func, "dhs", np.asarray(dhs))
    check_shape(func, "dhs", dhs, hs.shape)  # (T, N, H)
    grads = {name: np.zeros_like(a, dtype=hs.dtype) for name, a in
             (("x", x), ("h0", h0), ("W_xh", W_xh), ("W_hh", W_hh), ("b", W_hh[0]))}
    if truncate is None:
        dh = np.zeros_like(grads["h0"])
        for t in reversed(range(len(hs))):
            dh = _step_back(dhs[t] + dh, t, cache, grads)
        grads["h0"] = dh
        return grads
    k = check_int(func, "truncate", truncate, 1)
    for t in range(len(hs)):
        dh, first = dhs[t], max(t - k + 1, 0)
        for s in range(t, first - 1, -1):
            dh = _step_back(dh, s, cache, grads)
        if first == 0:  # the window reached the initial state
            grads["h0"] += dh
    return grads


# ---------------------------------------------------------------- training on long sequences

def _detach(state):
    if state is None or isinstance(state, torch.Tensor):
        return None if state is None else state.detach()
    return tuple(s.detach() for s in state)


def truncated_bptt(model, x, y, loss_fn, optimizer, k):
    """Train on one long sequence in chunks of k steps, carrying the state but not its gradient.

    For each chunk ``x[:, j:j+k]``: ``output, state = model(chunk, state)``, ``loss =
    loss_fn(output, y[:, j:j+k])``, one optimizer step; the state is then detached, so the next
    chunk starts from its value and no gradient flows across the boundary (the last chunk may
    be shorter). The state starts as None.
    Args: model: called ``model(x_chunk, state) -> (output, state)`` like ``nn.RNN``/``nn.LSTM``/
        ``nn.GRU`` or ours (batch_first=True), or a module wrapping one with a read-out; x
        (N, T, I); y (N, T, ...) aligned with x per step; loss_fn(output, y_chunk) -> scalar;
        optimizer: a ``torch.optim`` optimizer over the model's parameters; k: int >= 1.
    Returns: list of the chunks' losses (floats), ceil(T / k) of them.
    """
    func = "truncated_bptt"
    check_type(func, "model", model, nn.Module, "a torch.nn.Module")
    check_type(func, "optimizer", optimizer, torch.optim.Optimizer, "a torch.optim.Optimizer")
    check_ndim(func, "x", check_tensor(func, "x", x), 3, "(N, T, input_size) (batch_first)")
    check_tensor(func, "y", y, floating=False)
    if tuple(y.shape[:2]) != tuple(x.shape[:2]):
        raise ValueError(f"{func}: y must start with x's (N, T) = {tuple(x.shape[:2])}; "
                         f"got shape {tuple(y.shape)}")
    if not getattr(model, "batch_first", True):
        raise ValueError(f"{func}: model must take batch_first inputs; got batch_first=False")
    k = check_int(func, "k", k, 1)
    state, losses = None, []
    for j in range(0, x.shape[1], k):
        output, state = model(x[:, j:j + k], state)
        loss = loss_fn(output, y[:, j:j + k])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        # cut the graph: the next chunk starts from the state's value only
        state = _detach(state)
        losses.append(float(loss.detach()))
    return losses
