"""Tests for companion.optim: step-by-step agreement with torch.optim, groups, hooks, bad input.

Tolerances (STYLE.md): float64 ``rtol=1e-6`` on every parameter after every step, with
``atol=1e-12`` only so that entries crossing zero (where a relative test means nothing) are
compared absolutely; the observed differences are about 1e-15. float32: ``rtol=1e-4, atol=1e-5``.
"""
import itertools
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from companion import optim as O

F64 = dict(rtol=1e-6, atol=1e-12)
F32 = dict(rtol=1e-4, atol=1e-5)
STEPS = 25
NAMES = ["SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW"]
SHAPES = [(4, 3), (3,), ()]  # a matrix, a bias and a scalar parameter
STATE_KEYS = ["momentum_buffer", "sum", "square_avg", "acc_delta", "grad_avg", "exp_avg",
              "exp_avg_sq", "max_exp_avg_sq"]


def _grid(**axes):
    """Every combination of the keyword axes, as a list of dicts."""
    return [dict(zip(axes, values)) for values in itertools.product(*axes.values())]


CONFIGS = (
    [("SGD", kw) for kw in _grid(lr=[0.05], momentum=[0.0, 0.9], dampening=[0.0, 0.3],
                                 weight_decay=[0.0, 0.1], nesterov=[False])]
    + [("SGD", kw) for kw in _grid(lr=[0.05], momentum=[0.5, 0.9], weight_decay=[0.0, 0.1],
                                   nesterov=[True])]
    + [("SGD", {})]  # every default
    + [("Adagrad", kw) for kw in _grid(lr=[0.1], lr_decay=[0.0, 0.05], weight_decay=[0.0, 0.1],
                                       initial_accumulator_value=[0.0, 0.5])]
    + [("Adagrad", {})]
    + [("Adadelta", kw) for kw in _grid(lr=[1.0, 0.5], rho=[0.9, 0.5], weight_decay=[0.0, 0.1])]
    + [("Adadelta", {"eps": 1e-3})]
    + [("RMSprop", kw) for kw in _grid(lr=[0.01], alpha=[0.99, 0.9], weight_decay=[0.0, 0.1],
                                       momentum=[0.0, 0.9], centered=[False, True])]
    + [("RMSprop", {})]
    + [("Adam", kw) for kw in _grid(lr=[0.01], betas=[(0.9, 0.999), (0.5, 0.9)],
                                    weight_decay=[0.0, 0.1], amsgrad=[False, True])]
    + [("Adam", {}), ("Adam", {"eps": 1e-3, "lr": 0.1})]
    + [("AdamW", kw) for kw in _grid(lr=[0.01], betas=[(0.9, 0.999), (0.5, 0.9)],
                                     weight_decay=[0.0, 0.01, 0.5], amsgrad=[False, True])]
    + [("AdamW", {})]
)


def _ids(config):
    name, kw = config
    return name + "(" + ",".join(f"{k}={v}" for k, v in kw.items()) + ")"


def twin_params(shapes=SHAPES, dtype=torch.float64, seed=0):
    """Two lists of identical leaf tensors (ours, torch's), seeded."""
    g = torch.Generator().manual_seed(seed)
    init = [torch.randn(s, dtype=dtype, generator=g) for s in shapes]
    return ([p.clone().requires_grad_() for p in init], [p.clone().requires_grad_() for p in init])


def assert_same_params(ours, theirs, tol=F64, step=None):
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), **tol,
                                   err_msg=f"parameter {i} after step {step}")


def run_beside_torch(name, kwargs, steps=STEPS, dtype=torch.float64, tol=F64, seed=0):
    """Feed the same seeded gradients to ours and torch's for ``steps`` steps; compare each."""
    ours, theirs = twin_params(dtype=dtype, seed=seed)
    opt, ref = getattr(O, name)(ours, **kwargs), getattr(torch.optim, name)(theirs, **kwargs)
    g = torch.Generator().manual_seed(seed + 1)
    for step in range(steps):
        for a, b in zip(ours, theirs):
            grad = torch.randn(a.shape, dtype=dtype, generator=g) * 3.0
            a.grad, b.grad = grad.clone(), grad.clone()
        opt.step()
        ref.step()
        assert_same_params(ours, theirs, tol, step)
    return opt, ref, ours, theirs


# ---------------------------------------------------------------- agreement with torch.optim
@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
def test_matches_torch_step_by_step_float64(config):
    name, kwargs = config
    opt, ref, ours, theirs = run_beside_torch(name, kwargs)
    for a, b in zip(ours, theirs):  # the internal state agrees too, key by key
        for key in STATE_KEYS:
            if key in ref.state[b]:
                np.testing.assert_allclose(opt.state[a][key].numpy(), ref.state[b][key].numpy(),
                                           **F64, err_msg=key)


@pytest.mark.parametrize("name", NAMES)
def test_matches_torch_float32(name):
    run_beside_torch(name, {"lr": 0.01} if name != "Adadelta" else {}, dtype=torch.float32, tol=F32)


def mlp(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 3)).double()


@pytest.mark.parametrize("config", [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=1e-3)),
    ("Adadelta", dict(weight_decay=1e-3)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=1e-3)),
    ("Adam", dict(lr=0.01, weight_decay=1e-3, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
], ids=_ids)
def test_matches_torch_on_a_real_model(config):
    """Train two copies of a small MLP on the same mini-batches; gradients come from the loss."""
    name, kwargs = config
    ours_model, ref_model = mlp(0), mlp(0)
    opt = getattr(O, name)(ours_model.parameters(), **kwargs)
    ref = getattr(torch.optim, name)(ref_model.parameters(), **kwargs)
    rng = np.random.default_rng(0)
    X, y = torch.tensor(rng.normal(size=(64, 5))), torch.tensor(rng.integers(0, 3, 64))
    losses = []
    for step in range(30):
        batch = slice(16 * (step % 4), 16 * (step % 4 + 1))
        for model, optimizer in ((ours_model, opt), (ref_model, ref)):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(X[batch]), y[batch])
            loss.backward()
            optimizer.step()
        losses.append(loss.item())
        assert_same_params(list(ours_model.parameters()), list(ref_model.parameters()), F64, step)
    assert losses[-1] < losses[0]  # and it is really training


@pytest.mark.parametrize("name", NAMES)
def test_param_groups_with_their_own_lr(name):
    lr = 1.0 if name == "Adadelta" else 0.05
    ours, theirs = twin_params()
    groups = lambda ps: [{"params": ps[:1], "lr": lr / 10}, {"params": ps[1:]}]  # noqa: E731
    opt, ref = getattr(O, name)(groups(ours), lr=lr), getattr(torch.optim, name)(groups(theirs), lr=lr)
    assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in ref.param_groups]
    assert opt.param_groups[0].keys() == ref.param_groups[0].keys() - {
        "maximize", "foreach", "capturable", "differentiable", "fused", "decoupled_weight_decay"}
    g = torch.Generator().manual_seed(3)
    for step in range(STEPS):
        if step == 10:  # a scheduler changes group["lr"]; both must follow
            for group in opt.param_groups + ref.param_groups:
                group["lr"] *= 0.5
        for a, b in zip(ours, theirs):
            grad = torch.randn(a.shape, dtype=torch.float64, generator=g)
            a.grad, b.grad = grad.clone(), grad.clone()
        opt.step()
        ref.step()
        assert_same_params(ours, theirs, F64, step)


def test_adamw_decoupled_decay_differs_from_l2_inside_adam():
    """Same λ: AdamW equals torch's AdamW and differs measurably from Adam(weight_decay=λ)."""
    kwargs = dict(lr=0.01, weight_decay=0.1)
    adamw, ref, adamw_params, _ = run_beside_torch("AdamW", kwargs)  # equal to torch's AdamW
    _, _, adam_params, _ = run_beside_torch("Adam", kwargs)
    gap = max((a - b).abs().max().item() for a, b in zip(adamw_params, adam_params))
    assert gap > 1e-4  # a measurable difference after 25 steps
    _, _, plain, _ = run_beside_torch("Adam", dict(lr=0.01))  # AdamW with λ = 0 is Adam
    _, _, no_decay, _ = run_beside_torch("AdamW", dict(lr=0.01, weight_decay=0.0))
    assert_same_params(plain, no_decay)


def test_adamw_one_step_is_decay_then_adam():
    theta, g = torch.tensor([2.0, -1.0], dtype=torch.float64), torch.tensor([0.3, 0.3], dtype=torch.float64)
    p = theta.clone().requires_grad_()
    p.grad = g.clone()
    O.AdamW([p], lr=0.1, weight_decay=0.5).step()
    # first Adam step: m̂ = g, v̂ = g², so the step is lr · g / (|g| + eps)
    expected = theta * (1 - 0.1 * 0.5) - 0.1 * g / (g.abs() + 1e-8)
    np.testing.assert_allclose(p.detach().numpy(), expected.numpy(), **F64)


# ---------------------------------------------------------------- optimizer mechanics
def test_zero_grad_sets_none_by_default_and_zeros_on_request():
    ours, _ = twin_params()
    opt = O.SGD(ours, lr=0.1)
    for p in ours:
        p.grad = torch.ones_like(p)
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.any() for p in ours)
    opt.zero_grad()
    assert all(p.grad is None for p in ours)


@pytest.mark.parametrize("name", NAMES)
def test_params_without_grad_are_skipped(name):
    ours, _ = twin_params()
    before = [p.detach().clone() for p in ours]
    opt = getattr(O, name)(ours, weight_decay=0.5)  # decay must not touch them either
    ours[0].grad = torch.ones_like(ours[0])
    opt.step()
    assert not torch.equal(ours[0], before[0])
    assert all(torch.equal(p, b) for p, b in zip(ours[1:], before[1:]))
    assert all(len(opt.state[p]) == 0 for p in ours[1:])


@pytest.mark.parametrize("name", NAMES)
def test_sparse_gradients_raise(name):
    p = torch.zeros(3, 2, dtype=torch.float64, requires_grad=True)
    p.grad = torch.eye(3, 2, dtype=torch.float64).to_sparse()
    with pytest.raises(RuntimeError, match=f"{name} does not support sparse gradients"):
        getattr(O, name)([p]).step()


def test_step_hooks_run_in_order_and_can_be_removed():
    ours, _ = twin_params()
    opt, calls = O.SGD(ours, lr=0.1), []
    for p in ours:
        p.grad = torch.ones_like(p)
    pre = opt.register_step_pre_hook(lambda o, a, k: calls.append(("pre", ours[2].item())))
    post = opt.register_step_post_hook(lambda o, a, k: calls.append(("post", ours[2].item())))
    start = ours[2].item()
    opt.step()
    assert calls == [("pre", start), ("post", pytest.approx(start - 0.1))]
    pre.remove()
    post.remove()
    opt.step()
    assert len(calls) == 2


def test_step_with_closure_returns_its_loss():
    p = torch.tensor([3.0], dtype=torch.float64, requires_grad=True)
    opt = O.SGD([p], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (p ** 2).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 9.0 and p.item() == 3.0 - 0.25 * 6.0


def test_defaults_and_repr():
    p = [torch.zeros(2, requires_grad=True)]
    for name in NAMES:
        ours, ref = getattr(O, name)(p), getattr(torch.optim, name)(p)
        for key, value in ours.defaults.items():
            assert ref.defaults[key] == value, (name, key)
    assert repr(O.SGD(p, lr=0.5)) == ("SGD([{'lr': 0.5, 'momentum': 0, 'dampening': 0, "
                                      "'weight_decay': 0, 'nesterov': False}])")


def test_a_generator_of_parameters_is_accepted():
    model = mlp(0)
    opt = O.Adam(model.parameters())  # a generator, consumed once
    assert len(opt.param_groups[0]["params"]) == 4


# ---------------------------------------------------------------- bad input
BAD = [
    (O.SGD, dict(lr=-0.1), "Invalid learning rate: -0.1"),
    (O.SGD, dict(momentum=-0.5), "Invalid momentum value: -0.5"),
    (O.SGD, dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    (O.SGD, dict(nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (O.SGD, dict(nesterov=True, momentum=0.9, dampening=0.1),
     "Nesterov momentum requires a momentum and zero dampening"),
    (O.Adagrad, dict(lr=-0.1), "Invalid learning rate: -0.1"),
    (O.Adagrad, dict(lr_decay=-0.1), "Invalid lr_decay value: -0.1"),
    (O.Adagrad, dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    (O.Adagrad, dict(initial_accumulator_value=-1.0), "Invalid initial_accumulator_value value: -1.0"),
    (O.Adagrad, dict(eps=-1e-10), "Invalid epsilon value: -1e-10"),
    (O.Adadelta, dict(lr=-1.0), "Invalid learning rate: -1.0"),
    (O.Adadelta, dict(rho=1.5), "Invalid rho value: 1.5"),
    (O.Adadelta, dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    (O.Adadelta, dict(weight_decay=-1.0), "Invalid weight_decay value: -1.0"),
    (O.RMSprop, dict(lr=-0.1), "Invalid learning rate: -0.1"),
    (O.RMSprop, dict(eps=-0.1), "Invalid epsilon value: -0.1"),
    (O.RMSprop, dict(momentum=-0.1), "Invalid momentum value: -0.1"),
    (O.RMSprop, dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    (O.RMSprop, dict(alpha=-0.1), "Invalid alpha value: -0.1"),
    (O.Adam, dict(lr=-0.1), "Invalid learning rate: -0.1"),
    (O.Adam, dict(eps=-0.1), "Invalid epsilon value: -0.1"),
    (O.Adam, dict(betas=(1.5, 0.999)), "Invalid beta parameter at index 0: 1.5"),
    (O.Adam, dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    (O.Adam, dict(weight_decay=-0.1), "Invalid weight_decay value: -0.1"),
    (O.AdamW, dict(lr=float("nan")), "Invalid learning rate: nan"),
    (O.AdamW, dict(betas=(-0.1, 0.999)), "Invalid beta parameter at index 0: -0.1"),
    (O.AdamW, dict(weight_decay=-0.01), "Invalid weight_decay value: -0.01"),
]


@pytest.mark.parametrize("cls, kwargs, message", BAD,
                         ids=[f"{c.__name__}-{m}" for c, _, m in BAD])
def test_bad_hyperparameters(cls, kwargs, message):
    p = [torch.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError, match=re.escape(message)):
        cls(p, **kwargs)
    with pytest.raises(ValueError, match=re.escape(message)):  # torch says the same
        getattr(torch.optim, cls.__name__)(p, **kwargs)


def test_bad_params():
    p = torch.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="should be an iterable of Tensors or dicts, but got torch.FloatTensor"):
        O.SGD(p)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        O.SGD([])
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors, but one of the params is"):
        O.SGD([p, np.zeros(2)])
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        O.SGD([p * 2])
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        O.SGD([{"params": [p]}, {"params": [p]}])
    with pytest.raises(TypeError, match="param_group must be a dict, but got list"):
        O.SGD([p]).add_param_group([p])


def test_base_class_needs_an_update_rule():
    p = torch.zeros(2, requires_grad=True)
    p.grad = torch.ones(2)
    with pytest.raises(NotImplementedError, match="Optimizer must implement _update"):
        O.Optimizer([p], {"lr": 0.1}).step()


# ---------------------------------------------------------------- hypothesis properties
floats = st.floats(-10, 10, allow_nan=False)
vectors = st.lists(floats, min_size=1, max_size=6)


@settings(max_examples=40, deadline=None)
@given(theta=vectors, seed=st.integers(0, 2**16), name=st.sampled_from(NAMES))
def test_zero_learning_rate_leaves_params_unchanged(theta, seed, name):
    p = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    opt = getattr(O, name)([p], lr=0.0)  # weight decay included: AdamW's factor is 1 - 0·λ
    g = torch.Generator().manual_seed(seed)
    for _ in range(3):
        p.grad = torch.randn(p.shape, dtype=torch.float64, generator=g)
        opt.step()
    assert torch.equal(p.detach(), torch.tensor(theta, dtype=torch.float64))


@settings(max_examples=60, deadline=None)
@given(theta=vectors, data=st.data(), lr=st.floats(0, 1), lam=st.floats(0, 1))
def test_one_sgd_step_is_theta_minus_lr_times_gradient(theta, data, lr, lam):
    grad = data.draw(st.lists(floats, min_size=len(theta), max_size=len(theta)))
    t, g = np.array(theta), np.array(grad)
    p = torch.tensor(t, requires_grad=True)
    p.grad = torch.tensor(g)
    O.SGD([p], lr=lr, weight_decay=lam, momentum=0.9).step()  # momentum: b_1 = g, same step
    np.testing.assert_allclose(p.detach().numpy(), t - lr * (g + lam * t), rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(grad=st.lists(floats.filter(lambda x: abs(x) > 1e-3), min_size=1, max_size=6),
       lr=st.floats(1e-4, 1))
def test_adams_first_step_has_size_lr_whatever_the_gradient(grad, lr):
    """Bias correction makes m̂_1 = g and √v̂_1 = |g|: the first step is lr·sign(g)."""
    g = torch.tensor(grad, dtype=torch.float64)
    p = torch.zeros_like(g, requires_grad=True)
    p.grad = g.clone()
    O.Adam([p], lr=lr, eps=0.0).step()
    np.testing.assert_allclose(p.detach().numpy(), -lr * np.sign(grad), rtol=1e-12, atol=0)
