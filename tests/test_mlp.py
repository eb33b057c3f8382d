"""Tests for companion.mlp: Dense and MLP against torch with copied weights, gradients against
torch.autograd and central differences, the training loop's bookkeeping, clipping and bad input.

Tolerances: float64 comparisons use rtol=1e-6 (the course's float64 tolerance; the actual
differences are ~1e-13). Central differences (eps=1e-6) carry O(eps^2) truncation plus ~1e-10
rounding error, so they are compared with rtol=1e-6, atol=1e-8. float32 inputs: rtol=1e-4,
atol=1e-5.
"""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from companion import mlp
from companion.autograd import numerical_gradient
from companion.mlp import (LOSSES, MLP, Activation, Dense, clip_grad_norm, evaluate, train,
                           train_step)

RTOL64 = 1e-6
TORCH_ACT = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
             "leaky_relu": lambda: nn.LeakyReLU(0.01), "elu": nn.ELU, "identity": nn.Identity}


def to_torch(model: MLP) -> nn.Sequential:
    """A float64 torch copy of ``model``: Linear.weight = W.T, Linear.bias = b."""
    layers = []
    for layer in model.layers:
        if isinstance(layer, Dense):
            linear = nn.Linear(layer.in_features, layer.out_features, dtype=torch.float64)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(layer.W.T))
                linear.bias.copy_(torch.from_numpy(layer.b))
            layers.append(linear)
        else:
            layers.append(TORCH_ACT[layer.name]())
    return nn.Sequential(*layers)


def torch_grads(net: nn.Sequential) -> list[np.ndarray]:
    """Gradients in our order and layout: [dW_1 (in, out), db_1, ...]."""
    grads = []
    for m in net:
        if isinstance(m, nn.Linear):
            grads += [m.weight.grad.T.numpy(), m.bias.grad.numpy()]
    return grads


def blobs(n=120, d=4, c=3, seed=0):
    """c well-separated Gaussian blobs in d dimensions: float64 X, int64 y."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, size=(c, d))
    y = rng.integers(0, c, size=n)
    return centers[y] + rng.normal(size=(n, d)), y


def loss_value(model, X, y, loss):
    return mlp._loss_and_grad(loss, model.forward(X), y)[0]


# ---------------------------------------------------------------- Dense vs torch.nn.Linear
def test_dense_forward_backward_match_torch_linear():
    rng = np.random.default_rng(0)
    layer = Dense(5, 3, init="xavier_uniform", random_state=0)
    layer.b = rng.normal(size=3)
    x = rng.normal(size=(7, 5))
    dout = rng.normal(size=(7, 3))

    linear = nn.Linear(5, 3, dtype=torch.float64)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(layer.W.T))  # torch's weight is (out, in) = W^T
        linear.bias.copy_(torch.from_numpy(layer.b))
    xt = torch.from_numpy(x).requires_grad_()
    out_t = linear(xt)
    out_t.backward(torch.from_numpy(dout))

    out = layer.forward(x)
    dx = layer.backward(dout)
    assert out.shape == (7, 3) and out.dtype == np.float64
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=RTOL64)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=RTOL64)
    np.testing.assert_allclose(layer.dW, linear.weight.grad.T.numpy(), rtol=RTOL64)
    np.testing.assert_allclose(layer.db, linear.bias.grad.numpy(), rtol=RTOL64)


def test_dense_float32_input_matches_torch_float32():
    layer = Dense(6, 4, random_state=1)
    x = np.random.default_rng(1).normal(size=(5, 6)).astype(np.float32)
    linear = nn.Linear(6, 4)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(layer.W.T.astype(np.float32)))
        linear.bias.zero_()
    out = layer.forward(x)
    assert out.dtype == np.float64  # parameters are float64; float32 inputs are promoted
    np.testing.assert_allclose(out, linear(torch.from_numpy(x)).detach().numpy(), rtol=1e-4, atol=1e-5)


def test_dense_backward_matches_central_differences():
    rng = np.random.default_rng(2)
    layer = Dense(4, 3, random_state=2)
    layer.b = rng.normal(size=3)
    x, R = rng.normal(size=(6, 4)), rng.normal(size=(6, 3))
    # L = sum(out * R), so dL/dout = R
    layer.forward(x)
    dx = layer.backward(R)
    W, b = layer.W.copy(), layer.b.copy()
    num_W = numerical_gradient(lambda W_: float(np.sum((x @ W_ + b) * R)), W)
    num_b = numerical_gradient(lambda b_: float(np.sum((x @ W + b_) * R)), b)
    num_x = numerical_gradient(lambda x_: float(np.sum((x_ @ W + b) * R)), x)
    np.testing.assert_allclose(layer.dW, num_W, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(layer.db, num_b, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dx, num_x, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", sorted(TORCH_ACT))
def test_activation_layer_matches_torch(name):
    rng = np.random.default_rng(3)
    z = rng.normal(size=(5, 4)) * 2
    z[0, 0] = 0.0  # the kink: relu'(0) = 0 as torch
    dout = rng.normal(size=(5, 4))
    act = Activation(name)
    zt = torch.from_numpy(z).requires_grad_()
    out_t = TORCH_ACT[name]()(zt)
    out_t.backward(torch.from_numpy(dout))
    np.testing.assert_allclose(act.forward(z), out_t.detach().numpy(), rtol=RTOL64, atol=1e-12)
    np.testing.assert_allclose(act.backward(dout), zt.grad.numpy(), rtol=RTOL64, atol=1e-12)
    assert act.parameters() == [] and act.gradients() == []


# ---------------------------------------------------------------- whole-MLP gradients
def _targets(loss, n, rng):
    if loss == "sparse_categorical_cross_entropy":
        return rng.integers(0, 3, size=n), 3
    if loss == "binary_cross_entropy_with_logits":
        return rng.integers(0, 2, size=n).astype(np.float64), 1
    return rng.normal(size=n), 1


def _torch_loss(loss, out, y):
    if loss == "sparse_categorical_cross_entropy":
        return F.cross_entropy(out, torch.from_numpy(y))
    if loss == "binary_cross_entropy_with_logits":
        return F.binary_cross_entropy_with_logits(out[:, 0], torch.from_numpy(y))
    return F.mse_loss(out[:, 0], torch.from_numpy(y))


@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu", "elu"])
def test_mlp_gradients_match_torch_autograd(loss, activation):
    rng = np.random.default_rng(4)
    y, n_out = _targets(loss, 9, rng)
    model = MLP([5, 8, 6, n_out], activation, init="xavier_normal", random_state=4)
    for layer in model.dense_layers:
        layer.b = rng.normal(size=layer.b.shape) * 0.1  # non-zero biases test db too
    X = rng.normal(size=(9, 5))
    net = to_torch(model)
    Xt = torch.from_numpy(X).requires_grad_()
    out_t = net(Xt)
    value_t = _torch_loss(loss, out_t, y)
    value_t.backward()

    out = model.forward(X)
    value, dout = mlp._loss_and_grad(loss, out, y)
    dX = model.backward(dout)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=RTOL64)
    np.testing.assert_allclose(value, value_t.item(), rtol=RTOL64)
    np.testing.assert_allclose(dX, Xt.grad.numpy(), rtol=RTOL64, atol=1e-12)
    for ours, ref in zip(model.gradients(), torch_grads(net), strict=True):
        np.testing.assert_allclose(ours, ref, rtol=RTOL64, atol=1e-12)


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_mlp_gradients_match_central_differences(loss):
    rng = np.random.default_rng(5)
    y, n_out = _targets(loss, 6, rng)
    model = MLP([3, 5, n_out], "tanh", init="xavier_uniform", random_state=5)
    X = rng.normal(size=(6, 3))
    value, dout = mlp._loss_and_grad(loss, model.forward(X), y)
    model.backward(dout)
    for p, g in zip(model.parameters(), model.gradients()):
        def f(v, p=p):
            saved = p.copy()
            p[...] = v
            result = loss_value(model, X, y, loss)
            p[...] = saved
            return result

        np.testing.assert_allclose(g, numerical_gradient(f, p.copy()), rtol=1e-6, atol=1e-8)


def test_mlp_structure_parameters_and_repr():
    model = MLP([4, 7, 5, 2], "tanh", init="orthogonal", random_state=0)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Dense", "Activation", "Dense", "Activation", "Dense"]  # none after the last
    assert [p.shape for p in model.parameters()] == [(4, 7), (7,), (7, 5), (5,), (5, 2), (2,)]
    assert [g.shape for g in model.gradients()] == [p.shape for p in model.parameters()]
    assert repr(model) == "MLP([4, 7, 5, 2], activation='tanh', init='orthogonal')"
    W1, W2 = model.dense_layers[0].W, model.dense_layers[1].W
    assert not np.allclose(W1[:4, :5], W2[:4, :5])  # one generator passed through: layers differ
    again = MLP([4, 7, 5, 2], "tanh", init="orthogonal", random_state=0)
    for a, b in zip(model.parameters(), again.parameters()):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- training
def test_training_reduces_the_loss_and_learns():
    X, y = blobs()
    model = MLP([4, 16, 3], random_state=0)
    before = evaluate(model, X, y)["loss"]
    history = train(model, X, y, lr=0.1, epochs=20, batch_size=16)
    assert history["loss"][-1] < 0.2 * before
    assert history["accuracy"][-1] > 0.95
    # the per-epoch "loss" is the training set's loss after the epoch
    np.testing.assert_allclose(history["loss"][-1], evaluate(model, X, y)["loss"], rtol=1e-12)


@pytest.mark.parametrize("batch_size", [1, 3, 4, 10, 32])
def test_iterations_per_epoch_is_ceil_n_over_batch_size(batch_size):
    X, y = blobs(n=10)
    history = train(MLP([4, 5, 3]), X, y, lr=0.01, epochs=3, batch_size=batch_size)
    k = math.ceil(10 / batch_size)
    assert history["iterations"] == [k, 2 * k, 3 * k]
    assert len(history["batch_loss"]) == len(history["grad_norm"]) == 3 * k
    assert len(history["loss"]) == len(history["accuracy"]) == 3


def test_the_10000_over_100_example():
    X = np.zeros((10_000, 2))
    y = np.zeros(10_000, dtype=np.int64)
    history = train(MLP([2, 2]), X, y, lr=0.01, epochs=2, batch_size=100)
    assert history["iterations"] == [100, 200]


def manual_gd(model, X, y, loss, lr, batches):
    """Plain gradient descent over the given list of index batches (the loop written out)."""
    for idx in batches:
        value, dout = mlp._loss_and_grad(loss, model.forward(X[idx]), y[idx])
        model.backward(dout)
        for p, g in zip(model.parameters(), model.gradients()):
            p -= lr * g


def test_batch_gd_and_sgd_are_the_same_loop():
    X, y = blobs(n=12)
    for batch_size in (12, 1, 5):
        ours = MLP([4, 6, 3], random_state=1)
        ref = MLP([4, 6, 3], random_state=1)
        train(ours, X, y, lr=0.05, epochs=2, batch_size=batch_size, random_state=3)
        rng = np.random.default_rng(3)  # the same shuffles, written out by hand
        batches = [order[s:s + batch_size] for order in (rng.permutation(12), rng.permutation(12))
                   for s in range(0, 12, batch_size)]
        manual_gd(ref, X, y, "sparse_categorical_cross_entropy", 0.05, batches)
        for a, b in zip(ours.parameters(), ref.parameters()):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_training_matches_torch_sgd_step_by_step():
    X, y = blobs(n=20)
    model = MLP([4, 8, 3], "tanh", random_state=2)
    net = to_torch(model)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    train(model, X, y, lr=0.1, epochs=3, batch_size=6, random_state=0)
    rng = np.random.default_rng(0)
    for _ in range(3):
        order = rng.permutation(20)
        for s in range(0, 20, 6):
            idx = order[s:s + 6]
            opt.zero_grad()
            F.cross_entropy(net(torch.from_numpy(X[idx])), torch.from_numpy(y[idx])).backward()
            opt.step()
    ref = [t.detach().numpy() for m in net if isinstance(m, nn.Linear) for t in (m.weight.T, m.bias)]
    for a, b in zip(model.parameters(), ref, strict=True):
        np.testing.assert_allclose(a, b, rtol=RTOL64, atol=1e-12)


@pytest.mark.parametrize("loss", ["binary_cross_entropy_with_logits", "mse"])
def test_binary_and_regression_training(loss):
    rng = np.random.default_rng(6)
    X = rng.normal(size=(200, 3))
    target = X @ np.array([1.0, -2.0, 0.5])
    y = (target > 0).astype(np.float64) if loss != "mse" else target
    model = MLP([3, 16, 1], random_state=0)
    before = evaluate(model, X, y, loss=loss)
    history = train(model, X, y, loss=loss, lr=0.05, epochs=30, batch_size=20)
    assert history["loss"][-1] < 0.3 * before["loss"]
    assert ("accuracy" in history) == (loss != "mse")
    if loss != "mse":
        assert history["accuracy"][-1] > 0.95
    # a 2-D (N, 1) target works too
    y2 = y[:, None]
    np.testing.assert_allclose(evaluate(model, X, y2, loss=loss)["loss"], history["loss"][-1],
                               rtol=1e-12)


def test_history_keys_with_validation():
    X, y = blobs(n=30)
    history = train(MLP([4, 5, 3]), X, y, epochs=2, batch_size=8, X_val=X[:10], y_val=y[:10])
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy", "iterations",
                            "batch_loss", "grad_norm"}
    assert all(len(history[k]) == 2 for k in ("loss", "accuracy", "val_loss", "val_accuracy"))


def test_deterministic_with_the_seed():
    X, y = blobs(n=40)
    runs = []
    for seed in (0, 0, 1):
        model = MLP([4, 6, 3], random_state=0)
        runs.append((train(model, X, y, epochs=3, batch_size=7, random_state=seed), model))
    (h0, m0), (h1, m1), (h2, _) = runs
    assert h0 == h1
    for a, b in zip(m0.parameters(), m1.parameters()):
        np.testing.assert_array_equal(a, b)
    assert h0["batch_loss"] != h2["batch_loss"]  # another seed, another shuffle
    gen = train(MLP([4, 6, 3], random_state=0), X, y, epochs=3, batch_size=7,
                random_state=np.random.default_rng(0))
    assert gen == h0  # a Generator seeded 0 shuffles as the seed 0 does


def test_inputs_are_not_modified():
    X, y = blobs(n=20)
    X0, y0 = X.copy(), y.copy()
    model = MLP([4, 5, 3])
    train(model, X, y, epochs=2, batch_size=5)
    model.forward(X)
    model.backward(np.ones((20, 3)) / 20)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_zero_init_keeps_hidden_units_identical():
    X, y = blobs(n=60)
    model = MLP([4, 6, 3], "sigmoid", init="zeros")
    train(model, X, y, lr=0.5, epochs=5, batch_size=10)
    W1, W2 = model.dense_layers[0].W, model.dense_layers[1].W
    assert np.abs(W2).max() > 0  # the weights did move...
    np.testing.assert_allclose(W1, W1[:, :1].repeat(6, axis=1), rtol=1e-12)  # ...but every unit
    np.testing.assert_allclose(W2, W2[:1].repeat(6, axis=0), rtol=1e-12)  # moved the same way


# ---------------------------------------------------------------- clipping
def test_clip_grad_norm_matches_torch():
    rng = np.random.default_rng(7)
    grads = [rng.normal(size=(4, 3)) * 5, rng.normal(size=3)]
    before = [g.copy() for g in grads]
    for max_norm in (0.5, 3.0, 1e3):
        clipped, total = clip_grad_norm(grads, max_norm)
        params = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
        for p, g in zip(params, grads):
            p.grad = torch.from_numpy(g.copy())
        total_t = nn.utils.clip_grad_norm_(params, max_norm)
        np.testing.assert_allclose(total, total_t.item(), rtol=RTOL64)
        for c, p in zip(clipped, params):
            np.testing.assert_allclose(c, p.grad.numpy(), rtol=RTOL64)
        new_norm = np.sqrt(sum(np.sum(c**2) for c in clipped))
        assert new_norm <= max_norm * (1 + 1e-12)
    for g, b in zip(grads, before):
        np.testing.assert_array_equal(g, b)  # not in place


def test_train_step_with_clipping_caps_the_update():
    X, y = blobs(n=30)
    X = X * 50  # huge inputs: a huge gradient
    model = MLP([4, 8, 3], random_state=0)
    before = [p.copy() for p in model.parameters()]
    value, norm = train_step(model, X, y, lr=0.1, max_grad_norm=1.0)
    assert norm > 10  # the reported norm is the one before clipping
    step = np.sqrt(sum(np.sum((p - b) ** 2) for p, b in zip(model.parameters(), before)))
    np.testing.assert_allclose(step, 0.1 * 1.0, rtol=1e-5)  # lr * max_norm (up to torch's 1e-6)
    history = train(MLP([4, 8, 3], random_state=0), X, y, lr=0.1, epochs=2, batch_size=10,
                    max_grad_norm=1.0)
    assert all(np.isfinite(history["loss"]))


# ---------------------------------------------------------------- properties
@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 6), d_in=st.integers(1, 5), d_out=st.integers(1, 5),
       seed=st.integers(0, 1000))
def test_property_dense_shapes_and_inputs_untouched(n, d_in, d_out, seed):
    rng = np.random.default_rng(seed)
    layer = Dense(d_in, d_out, random_state=seed)
    x = rng.normal(size=(n, d_in))
    dout = rng.normal(size=(n, d_out))
    x0, dout0 = x.copy(), dout.copy()
    assert layer.forward(x).shape == (n, d_out)
    assert layer.backward(dout).shape == (n, d_in)
    assert layer.dW.shape == (d_in, d_out) and layer.db.shape == (d_out,)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(dout, dout0)


@settings(max_examples=20, deadline=None)
@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=5), n=st.integers(1, 5))
def test_property_mlp_output_shape(sizes, n):
    model = MLP(sizes, "tanh")
    x = np.ones((n, sizes[0]))
    assert model.forward(x).shape == (n, sizes[-1])
    assert model.backward(np.ones((n, sizes[-1]))).shape == (n, sizes[0])
    assert len(model.parameters()) == 2 * (len(sizes) - 1)


# ---------------------------------------------------------------- bad input
def test_dense_bad_input():
    with pytest.raises(ValueError, match=r"Dense: in_features must be an integer >= 1; got 0"):
        Dense(0, 3)
    with pytest.raises(ValueError, match=r"Dense: init must be one of zeros, uniform, .*; got 'glorot'"):
        Dense(2, 3, init="glorot")
    layer = Dense(4, 3)
    with pytest.raises(RuntimeError, match=r"Dense.backward: call forward first"):
        layer.backward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"Dense.forward: x must have shape \(N, 4\) \(in_features=4\); got \(2, 5\)"):
        layer.forward(np.ones((2, 5)))
    with pytest.raises(ValueError, match=r"Dense.forward: x must have 2 dimensions \(N, in_features\); got shape \(4,\)"):
        layer.forward(np.ones(4))
    with pytest.raises(TypeError, match=r"Dense.forward: x must be a floating-point array; got dtype int64"):
        layer.forward(np.ones((2, 4), dtype=np.int64))
    layer.forward(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"Dense.backward: dout must have shape \(2, 3\) .*; got \(3, 3\)"):
        layer.backward(np.ones((3, 3)))


def test_activation_and_mlp_bad_input():
    with pytest.raises(ValueError, match=r"Activation: name must be one of sigmoid, .*; got 'swish'"):
        Activation("swish")
    act = Activation("relu")
    with pytest.raises(RuntimeError, match=r"Activation.backward: call forward first"):
        act.backward(np.ones(3))
    act.forward(np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"Activation.backward: dout must have shape \(2, 2\) .*; got \(2,\)"):
        act.backward(np.ones(2))
    with pytest.raises(ValueError, match=r"MLP: layer_sizes must hold at least 2 sizes .*; got \[4\]"):
        MLP([4])
    with pytest.raises(TypeError, match=r"MLP: layer_sizes must be a list of ints; got int"):
        MLP(4)
    with pytest.raises(ValueError, match=r"MLP: layer_sizes\[1\] must be an integer >= 1; got 0"):
        MLP([4, 0, 2])
    with pytest.raises(ValueError, match=r"MLP: activation must be one of .*; got 'softmax'"):
        MLP([4, 2], "softmax")
    with pytest.raises(ValueError, match=r"MLP: random_state must be an int >= 0; got -3"):
        MLP([4, 2], random_state=-3)


def test_train_bad_data():
    X, y = blobs(n=10)
    model = MLP([4, 5, 3])
    with pytest.raises(ValueError, match=r"train: X must have 4 features \(the model's first layer\); got 3"):
        train(model, X[:, :3], y)
    with pytest.raises(ValueError, match=r"train: X must have 2 dimensions \(N, D\); got shape \(10,\)"):
        train(model, X[:, 0], y)
    with pytest.raises(TypeError, match=r"train: X must be a floating-point array; got dtype int64"):
        train(model, X.astype(np.int64), y)
    with pytest.raises(ValueError, match=r"train: y must have one entry per row of X \(10\); got 9"):
        train(model, X, y[:9])
    with pytest.raises(ValueError, match=r"train: X must not be empty; got shape \(0, 4\)"):
        train(model, X[:0], y[:0])
    with pytest.raises(ValueError, match=r"train: y must be a 1-D array of integer class labels .*got shape \(10,\), dtype float64"):
        train(model, X, y.astype(np.float64))
    with pytest.raises(ValueError, match=r"train: y must hold labels in \[0, 2\] \(the model has 3 outputs\); got labels in \[1, 5\]"):
        train(model, X, np.where(y == 0, 5, y))
    with pytest.raises(ValueError, match=r"train: y must have shape \(N,\) for a single output or \(N, 3\) for mse .*got \(10,\)"):
        train(model, X, y.astype(float), loss="mse")
    with pytest.raises(ValueError, match=r"train: y_val must have one entry per row of X_val \(10\); got 4"):
        train(model, X, y, X_val=X, y_val=y[:4])
    with pytest.raises(ValueError, match=r"train: X_val must have 4 features"):
        train(model, X, y, X_val=X[:, :2], y_val=y)
    with pytest.raises(ValueError, match=r"train: give both X_val and y_val, or neither"):
        train(model, X, y, X_val=X)


def test_train_bad_settings():
    X, y = blobs(n=10)
    model = MLP([4, 5, 3])
    with pytest.raises(ValueError, match=r"train: loss must be one of sparse_categorical_cross_entropy, .*; got 'hinge'"):
        train(model, X, y, loss="hinge")
    with pytest.raises(ValueError, match=r"train: lr must be finite and > 0; got -0.1"):
        train(model, X, y, lr=-0.1)
    with pytest.raises(ValueError, match=r"train: epochs must be an integer >= 1; got 0"):
        train(model, X, y, epochs=0)
    with pytest.raises(TypeError, match=r"train: batch_size must be an integer; got float"):
        train(model, X, y, batch_size=32.0)
    with pytest.raises(ValueError, match=r"train: max_grad_norm must be finite and > 0; got 0"):
        train(model, X, y, max_grad_norm=0)
    with pytest.raises(TypeError, match=r"train: random_state must be None, an int seed or a np.random.Generator; got str"):
        train(model, X, y, random_state="0")
    with pytest.raises(ValueError, match=r"train_step: lr must be finite and > 0; got 0"):
        train_step(model, X, y, lr=0)
    with pytest.raises(ValueError, match=r"evaluate: loss must be one of .*; got 'mae'"):
        evaluate(model, X, y, loss="mae")
    with pytest.raises(ValueError, match=r"clip_grad_norm: max_norm must be finite and > 0; got -1"):
        clip_grad_norm([np.ones(2)], -1)
