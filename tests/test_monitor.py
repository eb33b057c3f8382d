"""Tests for companion.monitor.Monitor: every recorded number recomputed by hand.

Gradient norms against ``torch.linalg.vector_norm(p.grad)`` read right after backward, update
ratios against ``||theta_after - theta_before|| / ||theta_before||`` computed around one step,
activation statistics against the module's output captured by our own forward hook. Everything
runs in float64, so the comparisons use rtol=1e-12 (the same operations in the same order; only
the final division may round differently).
"""
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from companion import optim as companion_optim
from companion.monitor import Monitor
from companion.training import fit, make_loader


def make_net(seed=0, activation=torch.nn.ReLU):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(5, 8), activation(), torch.nn.Linear(8, 3)).double()


def batch(seed=0, n=16):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 5, generator=g, dtype=torch.float64), torch.randint(0, 3, (n,), generator=g)


def loss_of(net, x, y):
    return torch.nn.functional.cross_entropy(net(x), y)


# ---------------------------------------------------------------- gradient norms

def test_gradient_norms_equal_the_norm_of_grad_after_backward():
    net = make_net()
    x, y = batch()
    with Monitor(net) as monitor:
        loss_of(net, x, y).backward()
        for name, p in net.named_parameters():
            expected = torch.linalg.vector_norm(p.grad).item()
            np.testing.assert_allclose(monitor.history[f"grad_norm/{name}"], [expected], rtol=1e-12)
    assert set(monitor.series("grad_norm")) == {"0.weight", "0.bias", "2.weight", "2.bias"}


def test_gradient_norms_of_accumulated_gradients():
    # a second backward without zero_grad accumulates: the hook sees the sum
    net = make_net()
    (x1, y1), (x2, y2) = batch(0), batch(1)
    with Monitor(net) as monitor:
        loss_of(net, x1, y1).backward()
        first = net[0].weight.grad.clone()
        loss_of(net, x2, y2).backward()
    values = monitor.history["grad_norm/0.weight"]
    np.testing.assert_allclose(values, [torch.linalg.vector_norm(first).item(),
                                        torch.linalg.vector_norm(net[0].weight.grad).item()], rtol=1e-12)


# ---------------------------------------------------------------- update ratios

def _ratios_by_hand(net, step):
    before = {n: p.detach().clone() for n, p in net.named_parameters()}
    step()
    return {n: (torch.linalg.vector_norm(p.detach() - before[n]) / torch.linalg.vector_norm(before[n])).item()
            for n, p in net.named_parameters()}


@pytest.mark.parametrize("optimizer_class", [torch.optim.SGD, companion_optim.SGD])
def test_update_ratios_around_one_sgd_step(optimizer_class):
    net = make_net()
    optimizer = optimizer_class(net.parameters(), lr=0.1)
    x, y = batch()
    with Monitor(net, optimizer) as monitor:
        assert monitor.uses_step_hooks
        loss_of(net, x, y).backward()
        grads = {n: p.grad.clone() for n, p in net.named_parameters()}
        weights = {n: p.detach().clone() for n, p in net.named_parameters()}
        expected = _ratios_by_hand(net, optimizer.step)
    assert monitor.steps == 1
    for name in expected:
        # plain SGD: the update is lr * g, so the ratio is also lr ||g|| / ||theta||
        np.testing.assert_allclose(monitor.history[f"update_ratio/{name}"], [expected[name]], rtol=1e-12)
        by_formula = 0.1 * torch.linalg.vector_norm(grads[name]) / torch.linalg.vector_norm(weights[name])
        np.testing.assert_allclose(expected[name], by_formula.item(), rtol=1e-12)


def test_update_ratio_is_nan_for_a_zero_parameter_and_skips_parameters_without_grad():
    net = make_net()
    torch.nn.init.zeros_(net[0].bias)
    net[2].bias.requires_grad_(False)  # frozen: not watched at all
    optimizer = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.1)
    x, y = batch()
    with Monitor(net, optimizer) as monitor:
        loss_of(net, x, y).backward()
        optimizer.step()
    assert math.isnan(monitor.history["update_ratio/0.bias"][0])
    assert "update_ratio/2.bias" not in monitor.history and "grad_norm/2.bias" not in monitor.history


class HooklessSGD:
    """A minimal optimizer without torch's step hooks."""

    def __init__(self, params, lr):
        self.params, self.lr = list(params), lr

    def step(self):
        with torch.no_grad():
            for p in self.params:
                p -= self.lr * p.grad


def test_manual_before_and_after_step_for_an_optimizer_without_hooks():
    net = make_net()
    optimizer = HooklessSGD(net.parameters(), lr=0.1)
    x, y = batch()
    with Monitor(net, optimizer) as monitor:
        assert not monitor.uses_step_hooks
        loss_of(net, x, y).backward()
        optimizer.step()
        assert "update_ratio/0.weight" not in monitor.history  # nothing without the hooks
        net.zero_grad()
        loss_of(net, x, y).backward()
        monitor.before_step()
        expected = _ratios_by_hand(net, optimizer.step)
        monitor.after_step()
    np.testing.assert_allclose(monitor.history["update_ratio/0.weight"], [expected["0.weight"]], rtol=1e-12)
    with pytest.raises(RuntimeError, match=r"Monitor.after_step: call before_step\(\) before optimizer.step\(\)"):
        monitor.after_step()


# ---------------------------------------------------------------- activation statistics

def _stats(a, saturation=0.99):
    dead = (a == 0).transpose(0, 1).reshape(a.shape[1], -1).all(dim=1)
    return {"act_mean": a.mean().item(), "act_std": a.std(correction=0).item(),
            "act_zero": (a == 0).double().mean().item(), "act_dead": dead.double().mean().item(),
            "act_saturated": (a.abs() >= saturation).double().mean().item()}


def _capture(module):
    outputs = []
    handle = module.register_forward_hook(lambda m, i, o: outputs.append(o.detach().clone()))
    return outputs, handle


@pytest.mark.parametrize("activation", [torch.nn.ReLU, torch.nn.Tanh])
def test_activation_stats_equal_the_output_statistics(activation):
    net = make_net(activation=activation)
    with torch.no_grad():
        net[0].bias[:3] = -100.0  # three dead units for ReLU, three saturated ones for tanh
    outputs, handle = _capture(net[1])
    x, _ = batch()
    with Monitor(net, modules=["1"]) as monitor:
        net(x)
        net(2 * x)
    handle.remove()
    for key in ["act_mean", "act_std", "act_zero", "act_dead", "act_saturated"]:
        np.testing.assert_allclose(monitor.history[f"{key}/1"], [_stats(o)[key] for o in outputs], rtol=1e-12)
    if activation is torch.nn.ReLU:
        assert monitor.history["act_dead/1"][0] == pytest.approx(3 / 8)
    else:
        assert monitor.history["act_saturated/1"][0] >= 3 / 8


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 6), c=st.integers(1, 4), h=st.integers(1, 5), seed=st.integers(0, 1000))
def test_activation_stats_of_conv_outputs_count_dead_channels(n, c, h, seed):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Conv2d(2, c, 3, padding=1), torch.nn.ReLU()).double()
    outputs, handle = _capture(net[1])
    with Monitor(net, modules=["1"]) as monitor:
        net(torch.randn(n, 2, h, h, dtype=torch.float64))
    handle.remove()
    expected = _stats(outputs[0])
    for key, value in expected.items():
        np.testing.assert_allclose(monitor.history[f"{key}/1"], [value], rtol=1e-12)


def test_default_modules_are_the_leaf_modules():
    net = torch.nn.Sequential(torch.nn.Sequential(torch.nn.Linear(5, 4), torch.nn.ReLU()), torch.nn.Linear(4, 2))
    with Monitor(net) as monitor:
        assert monitor.module_names == ["0.0", "0.1", "1"]
        net(torch.randn(3, 5))
    assert set(monitor.series("act_mean")) == {"0.0", "0.1", "1"}


def test_nothing_is_recorded_in_eval_mode_or_without_grad():
    net = make_net()
    x, _ = batch()
    with Monitor(net) as monitor:
        with torch.no_grad():
            net(x)  # training mode, but no gradients: an evaluation pass
        net.eval()
        net(x)  # eval mode with gradients: not recorded either
        assert monitor.history == {}
        net.train()
        net(x)
    assert all(len(v) == 1 for v in monitor.history.values()) and monitor.history


def test_one_entry_per_training_batch_inside_fit():
    torch.manual_seed(0)
    X, y = torch.randn(40, 5), torch.randint(0, 3, (40,))
    net = torch.nn.Sequential(torch.nn.Linear(5, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    train, val = make_loader(X, y, batch_size=16), make_loader(X, y, batch_size=16, shuffle=False)
    with Monitor(net, optimizer) as monitor:
        fit(net, train, loss_fn=torch.nn.functional.cross_entropy, optimizer=optimizer, epochs=2,
            val_loader=val, progress=False)
    steps = 2 * 3  # 2 epochs of ceil(40 / 16) = 3 batches; the validation passes add nothing
    assert monitor.steps == steps
    assert all(len(v) == steps for v in monitor.history.values())
    assert {k.split("/")[0] for k in monitor.history} == {"grad_norm", "update_ratio", "act_mean", "act_std",
                                                         "act_zero", "act_dead", "act_saturated"}


# ---------------------------------------------------------------- removing the hooks

def test_remove_detaches_every_hook():
    net = make_net()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    x, y = batch()
    monitor = Monitor(net, optimizer)
    loss_of(net, x, y).backward()
    optimizer.step()
    recorded = {k: list(v) for k, v in monitor.history.items()}
    monitor.remove()
    monitor.remove()  # harmless the second time
    assert all(not m._forward_hooks for m in net.modules())
    assert not optimizer._optimizer_step_pre_hooks and not optimizer._optimizer_step_post_hooks
    optimizer.zero_grad()
    loss_of(net, x, y).backward()
    optimizer.step()
    assert monitor.history == recorded  # kept, and nothing new


def test_context_manager_removes_the_hooks_and_returns_the_monitor():
    net = make_net()
    optimizer = companion_optim.Adam(net.parameters())
    with Monitor(net, optimizer) as monitor:
        assert isinstance(monitor, Monitor)
    x, y = batch()
    loss_of(net, x, y).backward()
    optimizer.step()
    assert monitor.history == {} and not optimizer._pre_hooks and not optimizer._post_hooks


# ---------------------------------------------------------------- bad input

def test_bad_arguments():
    net = make_net()
    with pytest.raises(TypeError, match=r"Monitor: model must be a torch.nn.Module; got list"):
        Monitor([net])
    with pytest.raises(ValueError, match=r"Monitor: modules must be names from model.named_modules\(\) \('0', '1', '2'\); got unknown 'fc9'"):
        Monitor(net, modules=["0", "fc9"])
    with pytest.raises(TypeError, match=r"Monitor: modules must be a list of module names; got the str '0'"):
        Monitor(net, modules="0")
    with pytest.raises(ValueError, match=r"Monitor: saturation must be a number > 0; got -1"):
        Monitor(net, saturation=-1)
    assert all(not m._forward_hooks for m in net.modules())  # a failed constructor attaches nothing
