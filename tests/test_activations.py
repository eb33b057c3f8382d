"""Tests for companion.activations: torch agreement, gradients, stability, properties, bad input.

Tolerances (STYLE.md): float64 ``rtol=1e-6``; float32 ``rtol=1e-4, atol=1e-5``. Two stated
additions, each used only where its reason applies:

* extreme inputs, float64 forward: ``atol = finfo.tiny`` (2.2e-308). For -745 < x < -709.8
  torch's sigmoid returns exactly 0 (its e^{-x} overflows) while ours returns the subnormal e^x;
  nothing larger is allowed to differ.
* extreme inputs, float64 derivatives of sigmoid and tanh: ``atol = 1e-15``. torch's autograd
  forms s(1 - s) and 1 - t^2 from the rounded outputs, whose absolute error is about 2^-53 once
  the derivative is tiny (|x| > 30); ours keeps full relative precision there.
* central differences: ``atol = 1e-9``: their round-off is about eps_machine * |f| / h = 1e-10 |f|.
"""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from companion import activations as A

TOL = {np.float64: dict(rtol=1e-6, atol=0.0), np.float32: dict(rtol=1e-4, atol=1e-5)}
DTYPES = [np.float64, np.float32]
H = 1e-6  # central-difference step (float64)
FD_TOL = dict(rtol=1e-6, atol=1e-9)

# name -> (ours, our derivative, torch reference, kwargs shared by all three)
ELEMENTWISE = {
    "sigmoid": (A.sigmoid, A.sigmoid_grad, torch.sigmoid, {}),
    "tanh": (A.tanh, A.tanh_grad, torch.tanh, {}),
    "relu": (A.relu, A.relu_grad, F.relu, {}),
    "leaky_relu": (A.leaky_relu, A.leaky_relu_grad, F.leaky_relu, {}),
    "leaky_relu_0.2": (A.leaky_relu, A.leaky_relu_grad, F.leaky_relu, {"negative_slope": 0.2}),
    "elu": (A.elu, A.elu_grad, F.elu, {}),
    "elu_0.5": (A.elu, A.elu_grad, F.elu, {"alpha": 0.5}),
}
EXTREME = np.array([-1e4, -1e3, -800.0, -745.0, -100.0, -30.0, -1.0, -1e-8, 0.0, 1e-8, 1.0,
                    30.0, 100.0, 745.0, 800.0, 1e3, 1e4])


def seeded(shape, dtype=np.float64, seed=0, scale=4.0):
    """Seeded normal input with exact zeros at the corners (the kink of ReLU-like functions)."""
    x = np.random.default_rng(seed).normal(scale=scale, size=shape)
    x.flat[0] = x.flat[-1] = 0.0
    return x.astype(dtype)


def torch_value_and_grad(fn, x, **kwargs):
    """torch's forward and d(sum f)/dx, which is f'(x) elementwise for an elementwise f."""
    t = torch.tensor(x, requires_grad=True)
    y = fn(t, **kwargs)
    y.sum().backward()
    return y.detach().numpy(), t.grad.numpy()


def central_difference(f, x, h=H):
    """Elementwise derivative of an elementwise f by (f(x + h) - f(x - h)) / 2h."""
    return (f(x + h) - f(x - h)) / (2 * h)


def no_float_warnings():
    """Overflow, invalid and divide-by-zero raise (underflow to 0 is benign and allowed)."""
    return np.errstate(over="raise", invalid="raise", divide="raise")


# ---------------------------------------------------------------- elementwise vs torch
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_forward_and_derivative_match_torch(name, dtype):
    ours, ours_grad, ref, kw = ELEMENTWISE[name]
    x = seeded((6, 7), dtype)
    y_ref, g_ref = torch_value_and_grad(ref, x, **kw)
    y, g = ours(x, **kw), ours_grad(x, **kw)
    for got, want in ((y, y_ref), (g, g_ref)):
        assert got.shape == want.shape and got.dtype == want.dtype == dtype
        np.testing.assert_allclose(got, want, **TOL[dtype])


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_central_differences(name):
    ours, ours_grad, _, kw = ELEMENTWISE[name]
    x = seeded((5, 6), seed=1, scale=3.0)
    x = np.where(np.abs(x) < 1e-3, 0.5, x)  # keep h away from the kink at 0
    numeric = central_difference(lambda z: ours(z, **kw), x)
    np.testing.assert_allclose(ours_grad(x, **kw), numeric, **FD_TOL)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("name", ELEMENTWISE)
def test_extreme_inputs_finite_and_equal_to_torch(name, dtype):
    ours, ours_grad, ref, kw = ELEMENTWISE[name]
    x = EXTREME.astype(dtype)
    with warnings.catch_warnings(), no_float_warnings():
        warnings.simplefilter("error")
        y, g = ours(x, **kw), ours_grad(x, **kw)
    y_ref, g_ref = torch_value_and_grad(ref, x, **kw)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(g))
    fwd_tol = dict(TOL[dtype], atol=np.finfo(np.float64).tiny) if dtype == np.float64 else TOL[dtype]
    np.testing.assert_allclose(y, y_ref, **fwd_tol)
    grad_tol = dict(rtol=1e-6, atol=1e-15) if dtype == np.float64 else TOL[dtype]
    np.testing.assert_allclose(g, g_ref, **grad_tol)


def test_sigmoid_and_tanh_derivatives_keep_relative_precision_in_the_tails():
    x = np.array([-40.0, 40.0, 300.0])
    # sigma'(x) = e^{-|x|} / (1 + e^{-|x|})^2 and tanh'(x) = 4 e^{-2|x|} / (1 + e^{-2|x|})^2
    np.testing.assert_allclose(A.sigmoid_grad(x), np.exp(-np.abs(x)), rtol=1e-12)
    np.testing.assert_allclose(A.tanh_grad(x), 4 * np.exp(-2 * np.abs(x)), rtol=1e-12)


def test_kink_conventions_at_zero_follow_torch():
    zero = np.zeros(1)
    assert A.relu_grad(zero)[0] == 0.0
    assert A.leaky_relu_grad(zero, negative_slope=0.1)[0] == pytest.approx(0.1)
    assert A.elu_grad(zero, alpha=0.5)[0] == pytest.approx(0.5)
    assert A.prelu_grad(zero, np.float64(0.3))[0][0] == pytest.approx(0.3)


# ---------------------------------------------------------------- PReLU
PRELU_CASES = [  # (x shape, weight shape); () and (1,) share one slope, (C,) is per channel
    ((4, 3), ()),
    ((4, 3), (1,)),
    ((4, 3), (3,)),
    ((2, 3, 5), (3,)),
    ((2, 3, 4, 4), (3,)),
    ((7,), ()),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("x_shape, w_shape", PRELU_CASES)
def test_prelu_forward_and_gradients_match_torch(x_shape, w_shape, dtype):
    rng = np.random.default_rng(2)
    x = seeded(x_shape, dtype, seed=3)
    w = rng.uniform(0.05, 0.5, size=w_shape).astype(dtype)
    dout = rng.normal(size=x_shape).astype(dtype)
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w.reshape(-1) if w.ndim == 0 else w, requires_grad=True)  # torch wants (1,)
    ty = F.prelu(tx, tw)
    (ty * torch.tensor(dout)).sum().backward()
    y = A.prelu(x, w)
    dx, dw = A.prelu_grad(x, w, dout=dout)
    np.testing.assert_allclose(y, ty.detach().numpy(), **TOL[dtype])
    np.testing.assert_allclose(dx, tx.grad.numpy(), **TOL[dtype])
    assert dw.shape == w.shape and dx.dtype == dw.dtype == y.dtype == dtype
    np.testing.assert_allclose(dw.reshape(-1), tw.grad.numpy(), **TOL[dtype])


def test_prelu_matches_nn_prelu_module_and_default_dout_is_ones():
    m = torch.nn.PReLU(num_parameters=3, init=0.2).double()
    x = seeded((5, 3), seed=4)
    tx = torch.tensor(x, requires_grad=True)
    m(tx).sum().backward()
    w = m.weight.detach().numpy()
    dx, dw = A.prelu_grad(x, w)
    np.testing.assert_allclose(A.prelu(x, w), m(tx).detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(dw, m.weight.grad.numpy(), rtol=1e-6)


def test_prelu_gradients_match_central_differences():
    x = seeded((3, 4, 2), seed=5)
    x = np.where(np.abs(x) < 1e-3, -0.5, x)
    w = np.array([0.1, 0.25, -0.2, 0.4])
    dx, dw = A.prelu_grad(x, w)
    np.testing.assert_allclose(dx, central_difference(lambda z: A.prelu(z, w), x), **FD_TOL)
    numeric_dw = np.empty_like(w)
    for c in range(len(w)):
        e = np.zeros_like(w)
        e[c] = H
        numeric_dw[c] = (A.prelu(x, w + e).sum() - A.prelu(x, w - e).sum()) / (2 * H)
    np.testing.assert_allclose(dw, numeric_dw, **FD_TOL)


# ---------------------------------------------------------------- softmax and log-softmax
@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("axis", [-1, 0, 1, 2, -2])
@pytest.mark.parametrize("ours, ref", [(A.softmax, torch.softmax),
                                       (A.log_softmax, torch.log_softmax)],
                         ids=["softmax", "log_softmax"])
def test_softmax_family_matches_torch_on_every_axis(ours, ref, axis, dtype):
    x = seeded((3, 4, 5), dtype, seed=6)
    y = ours(x, axis=axis)
    want = ref(torch.tensor(x), dim=axis).numpy()
    assert y.shape == want.shape and y.dtype == want.dtype == dtype
    np.testing.assert_allclose(y, want, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("ours, ref", [(A.softmax_jacobian, torch.softmax),
                                       (A.log_softmax_jacobian, torch.log_softmax)],
                         ids=["softmax", "log_softmax"])
def test_jacobians_match_torch_autograd(ours, ref, dtype):
    x = seeded((4, 5), dtype, seed=7)
    full = torch.autograd.functional.jacobian(lambda t: ref(t, dim=-1), torch.tensor(x))
    want = np.stack([full[n, :, n, :].numpy() for n in range(4)])  # rows are independent
    J = ours(x)
    assert J.shape == (4, 5, 5) and J.dtype == dtype
    np.testing.assert_allclose(J, want, **TOL[dtype])
    # rows of x never influence each other: the off-diagonal blocks are exactly zero
    assert torch.count_nonzero(full).item() == np.count_nonzero(want)


@pytest.mark.parametrize("ours, fn", [(A.softmax_jacobian, A.softmax),
                                      (A.log_softmax_jacobian, A.log_softmax)],
                         ids=["softmax", "log_softmax"])
def test_jacobians_match_central_differences(ours, fn):
    x = seeded((2, 3, 4), seed=8, scale=2.0)
    numeric = np.empty(x.shape + (x.shape[-1],))
    for j in range(x.shape[-1]):
        e = np.zeros(x.shape[-1])
        e[j] = H
        numeric[..., j] = (fn(x + e) - fn(x - e)) / (2 * H)  # column j: d out / d x_j
    np.testing.assert_allclose(ours(x), numeric, **FD_TOL)


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
def test_softmax_family_extreme_logits_finite_and_equal_to_torch(dtype):
    x = np.stack([EXTREME, -EXTREME, EXTREME / 10]).astype(dtype)  # (3, 17), spans 2e4
    with warnings.catch_warnings(), no_float_warnings():
        warnings.simplefilter("error")
        s, ls = A.softmax(x), A.log_softmax(x)
        Js, Jl = A.softmax_jacobian(x), A.log_softmax_jacobian(x)
    for got in (s, ls, Js, Jl):
        assert np.all(np.isfinite(got))
    np.testing.assert_allclose(s, torch.softmax(torch.tensor(x), -1).numpy(), **TOL[dtype])
    np.testing.assert_allclose(ls, torch.log_softmax(torch.tensor(x), -1).numpy(), **TOL[dtype])
    assert ls.min() < -1e4  # log-probabilities far below log(tiny) are still represented


# ---------------------------------------------------------------- hypothesis properties
finite = st.floats(-100, 100, allow_nan=False, width=64)
matrices = hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=6),
                      elements=finite)


@settings(max_examples=50, deadline=None)
@given(x=matrices, shift=st.floats(-100, 100))
def test_softmax_is_shift_invariant(x, shift):
    # adding `shift` rounds x + shift by up to 2^-46 absolute, i.e. 1e-14 relative in exp
    np.testing.assert_allclose(A.softmax(x + shift), A.softmax(x), rtol=1e-6)


@settings(max_examples=50, deadline=None)
@given(x=matrices, axis=st.sampled_from([0, 1, -1]))
def test_softmax_rows_sum_to_one_and_match_log_of_softmax(x, axis):
    s, ls = A.softmax(x, axis=axis), A.log_softmax(x, axis=axis)
    assert np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(s.sum(axis=axis), 1.0, rtol=1e-12)
    ok = s > 1e-300  # where softmax has not underflowed; log(s) is then accurate to ~1e-16 abs
    with np.errstate(divide="ignore"):
        np.testing.assert_allclose(ls[ok], np.log(s)[ok], rtol=1e-6, atol=1e-12)


ALL_UNARY = [A.sigmoid, A.sigmoid_grad, A.tanh, A.tanh_grad, A.relu, A.relu_grad, A.leaky_relu,
             A.leaky_relu_grad, A.elu, A.elu_grad, A.softmax, A.log_softmax, A.softmax_jacobian,
             A.log_softmax_jacobian, A.identity, A.identity_grad,
             lambda x: A.prelu(x, np.float64(0.25)), lambda x: A.prelu_grad(x, np.float64(0.25))[0]]


@settings(max_examples=30, deadline=None)
@given(x=hnp.arrays(st.sampled_from([np.float32, np.float64]),
                    hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                    elements=st.floats(-50, 50, width=32)))
def test_dtype_preserved_and_input_unchanged(x):
    before = x.copy()
    for fn in ALL_UNARY:
        out = fn(x)
        assert out.dtype == x.dtype
        np.testing.assert_array_equal(x, before)


@settings(max_examples=50, deadline=None)
@given(x=hnp.arrays(np.float64, st.integers(1, 20), elements=st.floats(-1e4, 1e4)))
@example(x=np.array([1e-12, -1e-12, 1e-9, 0.0]))  # where rounding once gave 0.25 + 1 ulp
def test_ranges_and_derivative_bounds(x):
    s, t = A.sigmoid(x), A.tanh(x)
    assert np.all((s >= 0) & (s <= 1)) and np.all((t >= -1) & (t <= 1))
    assert np.all(A.sigmoid_grad(x) <= 0.25) and np.all(A.tanh_grad(x) <= 1.0)
    assert np.all(A.relu(x) >= 0) and np.all(A.elu(x, alpha=2.0) >= -2.0)
    np.testing.assert_allclose(A.sigmoid(-x), 1 - s, atol=1e-15)  # sigma(-x) = 1 - sigma(x)


def test_integer_and_bool_inputs_become_float64():
    assert A.sigmoid(np.arange(3)).dtype == np.float64
    assert A.relu(np.array([True, False])).dtype == np.float64
    assert A.softmax([1, 2, 3]).dtype == np.float64
    np.testing.assert_allclose(A.softmax([1, 2, 3]), A.softmax(np.array([1.0, 2.0, 3.0])))


def test_registry_pairs_forward_with_derivative():
    assert set(A.ACTIVATIONS) == {"sigmoid", "tanh", "relu", "leaky_relu", "elu", "identity"}
    assert A.ACTIVATIONS["sigmoid"] == (A.sigmoid, A.sigmoid_grad)
    x = seeded((3, 2))
    np.testing.assert_array_equal(A.ACTIVATIONS["identity"][0](x), x)
    np.testing.assert_array_equal(A.ACTIVATIONS["identity"][1](x), np.ones_like(x))


# ---------------------------------------------------------------- bad input
NAMED = {fn.__name__: fn for fn in ALL_UNARY[:16]}


@pytest.mark.parametrize("name", NAMED)
def test_non_numeric_input_is_a_type_error_naming_the_function(name):
    with pytest.raises(TypeError, match=rf"^{name}: x must be a numeric array \(float, int or "
                                        r"bool\); got dtype <U1"):
        NAMED[name](np.array(["a", "b"]))
    with pytest.raises(TypeError, match=rf"^{name}: x must be a numeric array .*got dtype complex"):
        NAMED[name](np.ones(2, dtype=complex))


@pytest.mark.parametrize("fn", [A.softmax, A.log_softmax])
def test_bad_axis(fn):
    name = fn.__name__
    with pytest.raises(ValueError, match=rf"{name}: axis must be in \[-2, 2\) for x with shape "
                                         r"\(3, 4\); got 2"):
        fn(np.ones((3, 4)), axis=2)
    with pytest.raises(ValueError, match=rf"{name}: axis must be in \[-2, 2\).*; got -3"):
        fn(np.ones((3, 4)), axis=-3)
    with pytest.raises(TypeError, match=rf"{name}: axis must be an integer; got float"):
        fn(np.ones((3, 4)), axis=1.0)
    with pytest.raises(ValueError, match=rf"{name}: x must have at least 1 dimension \(\.\.\., C\); "
                                         r"got shape \(\)"):
        fn(np.float64(1.0))


@pytest.mark.parametrize("fn", [A.softmax_jacobian, A.log_softmax_jacobian])
def test_jacobian_of_a_scalar_is_rejected(fn):
    with pytest.raises(ValueError, match=rf"{fn.__name__}: x must have at least 1 dimension"):
        fn(np.float64(2.0))


@pytest.mark.parametrize("fn, arg", [(A.leaky_relu, "negative_slope"),
                                     (A.leaky_relu_grad, "negative_slope"),
                                     (A.elu, "alpha"), (A.elu_grad, "alpha")])
def test_bad_scalar_hyperparameters(fn, arg):
    x = np.ones(3)
    with pytest.raises(TypeError, match=rf"{fn.__name__}: {arg} must be a real number; got str"):
        fn(x, **{arg: "0.1"})
    with pytest.raises(TypeError, match=rf"{fn.__name__}: {arg} must be a real number; got bool"):
        fn(x, **{arg: True})
    with pytest.raises(ValueError, match=rf"{fn.__name__}: {arg} must be finite; got nan"):
        fn(x, **{arg: float("nan")})


@pytest.mark.parametrize("fn", [A.prelu, lambda x, w: A.prelu_grad(x, w)],
                         ids=["prelu", "prelu_grad"])
def test_prelu_weight_shape_and_type(fn):
    name = "prelu_grad" if fn is not A.prelu else "prelu"
    expected = rf"{name}: weight must have shape \(\) or \(C,\) with C = x.shape\[1\]"
    with pytest.raises(ValueError, match=expected + r" \(x has shape \(2, 3\)\); got \(4,\)"):
        fn(np.ones((2, 3)), np.ones(4))
    with pytest.raises(ValueError, match=expected + r" \(x has shape \(3,\)\); got \(3,\)"):
        fn(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match=expected + r".*; got \(3, 1\)"):
        fn(np.ones((2, 3)), np.ones((3, 1)))
    with pytest.raises(TypeError, match=rf"{name}: weight must be a numeric array .*got dtype <U"):
        fn(np.ones((2, 3)), np.array("a"))


def test_prelu_grad_dout_must_match_x():
    with pytest.raises(ValueError, match=r"prelu_grad: dout must have the shape of x \(2, 3\); "
                                         r"got \(3, 2\)"):
        A.prelu_grad(np.ones((2, 3)), 0.25, dout=np.ones((3, 2)))
    with pytest.raises(TypeError, match=r"prelu_grad: dout must be a numeric array"):
        A.prelu_grad(np.ones((2, 3)), 0.25, dout=np.full((2, 3), "x"))
