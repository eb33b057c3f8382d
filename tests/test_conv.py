"""Tests for companion.conv: every function against torch.nn.functional on many shapes, strides and
paddings (square and not, ints and pairs), the hand-written backward pass against autograd and
central differences, the output-size formula against the shapes torch produces, properties with
hypothesis, and every validation message.

Tolerances: float64 ``rtol=1e-10, atol=1e-12`` (outputs are sums of a few dozen products and cross
zero, so a tiny atol is needed; the observed differences are ~1e-15); float32 ``rtol=1e-4,
atol=1e-5`` (STYLE.md); central differences in float64 with h=1e-6: ``rtol=1e-6, atol=1e-8``
(the objective is linear in each variable, so only round-off ~ eps * |L| / h ~ 1e-9 remains).
"""
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from companion import conv

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-4, atol=1e-5)}
FD_TOL = dict(rtol=1e-6, atol=1e-8)

# (x shape, weight shape, stride, padding): square and non-square, ints and pairs
CONV_CASES = [
    ((2, 3, 8, 8), (4, 3, 3, 3), 1, 0),
    ((2, 3, 8, 8), (4, 3, 3, 3), 1, 1),
    ((1, 1, 7, 9), (2, 1, 3, 2), 2, 1),
    ((3, 2, 10, 6), (5, 2, 4, 3), (2, 1), (1, 2)),
    ((2, 4, 5, 5), (3, 4, 1, 1), 1, 0),             # 1x1 convolution
    ((1, 2, 6, 7), (2, 2, 6, 7), 1, 0),             # kernel as large as the input: one output
    ((2, 1, 9, 9), (1, 1, 5, 5), 3, 2),
    ((1, 3, 4, 11), (2, 3, 2, 5), (1, 3), (0, 2)),
]
ids = [f"x{c[0]}-w{c[1]}-s{c[2]}-p{c[3]}" for c in CONV_CASES]


def arrays(*shapes, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=s).astype(dtype) for s in shapes]


def t(a, grad=False):
    return torch.tensor(a, requires_grad=grad)


# ================================================================ forward vs torch

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CONV_CASES, ids=ids)
def test_conv2d_and_the_loop_version_match_f_conv2d(x_shape, w_shape, stride, padding, dtype):
    x, w, b = arrays(x_shape, w_shape, w_shape[:1], dtype=dtype)
    ref = F.conv2d(t(x), t(w), t(b), stride=stride, padding=padding).numpy()
    for fn in (conv.conv2d, conv.conv2d_naive):
        for bias in (b, None):
            out = fn(x, w, bias, stride=stride, padding=padding)
            assert out.shape == ref.shape and out.dtype == dtype
            np.testing.assert_allclose(out, ref - (0 if bias is not None else b[:, None, None]),
                                       **TOL[dtype])


@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CONV_CASES, ids=ids)
def test_im2col_matches_unfold_and_col2im_matches_fold(x_shape, w_shape, stride, padding):
    (x,) = arrays(x_shape)
    kernel = w_shape[2:]
    ref = F.unfold(t(x), kernel, stride=stride, padding=padding).numpy()
    cols = conv.im2col(x, kernel, stride, padding)
    assert cols.shape == ref.shape and cols.dtype == np.float64
    np.testing.assert_array_equal(cols, ref)  # a pure copy: exact
    (c,) = arrays(ref.shape, seed=1)
    folded = conv.col2im(c, x_shape[2:], kernel, stride, padding)
    ref_fold = F.fold(t(c), x_shape[2:], kernel, stride=stride, padding=padding).numpy()
    assert folded.shape == x_shape
    np.testing.assert_allclose(folded, ref_fold, **TOL[np.float64])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape, k, stride, padding", [
    ((2, 3, 10), 3, 1, 0), ((2, 3, 10), 3, 2, 1), ((1, 1, 40), 5, 2, 1), ((3, 2, 7), 7, 1, 0),
    ((2, 4, 9), 1, 3, 0), ((1, 2, 5), 4, 1, 3)])
def test_conv1d_matches_f_conv1d(shape, k, stride, padding, dtype):
    x, w, b = arrays(shape, (5, shape[1], k), (5,), dtype=dtype)
    ref = F.conv1d(t(x), t(w), t(b), stride=stride, padding=padding).numpy()
    out = conv.conv1d(x, w, b, stride=stride, padding=padding)
    assert out.shape == ref.shape and out.dtype == dtype
    np.testing.assert_allclose(out, ref, **TOL[dtype])


POOL_CASES = [((2, 3, 8, 8), 2, None, 0), ((2, 3, 8, 8), 3, 1, 1), ((1, 2, 7, 9), 3, 2, 1),
              ((2, 1, 9, 6), (3, 2), (2, 1), (1, 0)), ((1, 2, 5, 5), 5, None, 2),
              ((3, 2, 6, 10), (2, 4), None, (1, 2))]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape, k, stride, padding", POOL_CASES)
def test_max_and_avg_pool_match_torch(shape, k, stride, padding, dtype):
    (x,) = arrays(shape, dtype=dtype, seed=3)
    for ours, ref_fn in ((conv.max_pool2d, F.max_pool2d), (conv.avg_pool2d, F.avg_pool2d)):
        ref = ref_fn(t(x), k, stride=stride, padding=padding).numpy()
        out = ours(x, k, stride=stride, padding=padding)
        assert out.shape == ref.shape and out.dtype == dtype
        np.testing.assert_allclose(out, ref, **TOL[dtype])


def test_max_pool_padding_never_wins_and_avg_pool_counts_padded_zeros():
    x = -np.ones((1, 1, 2, 2))   # all negative: a zero pad would win the max
    np.testing.assert_array_equal(conv.max_pool2d(x, 3, stride=1, padding=1), -np.ones((1, 1, 2, 2)))
    # count_include_pad=True: a corner window of a 3x3 kernel holds 4 ones and 5 zeros
    np.testing.assert_allclose(conv.avg_pool2d(-x, 3, stride=1, padding=1), np.full((1, 1, 2, 2), 4 / 9))


@pytest.mark.parametrize("shape", [(2, 3, 5, 7), (1, 1, 1, 1), (4, 2, 8, 8)])
def test_global_avg_pool_matches_adaptive_avg_pool(shape):
    for dtype in (np.float64, np.float32):
        (x,) = arrays(shape, dtype=dtype)
        ref = F.adaptive_avg_pool2d(t(x), 1).numpy()[:, :, 0, 0]
        out = conv.global_avg_pool2d(x)
        assert out.shape == shape[:2] and out.dtype == dtype
        np.testing.assert_allclose(out, ref, **TOL[dtype])


def test_conv_output_size_matches_the_shapes_torch_produces():
    agree = 0
    for n, k, s, p, d in itertools.product(range(1, 13), range(1, 6), range(1, 4), range(3),
                                           (1, 2)):
        try:
            expected = F.conv1d(torch.zeros(1, 1, n), torch.zeros(1, 1, k), stride=s, padding=p,
                                dilation=d).shape[-1]
        except RuntimeError:  # torch refuses a kernel larger than the padded input
            with pytest.raises(ValueError, match="output size would be"):
                conv.conv_output_size(n, k, s, p, d)
            continue
        assert conv.conv_output_size(n, k, s, p, d) == expected
        agree += 1
    assert agree > 500


# ================================================================ backward pass

@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CONV_CASES, ids=ids)
def test_conv2d_backward_matches_autograd(x_shape, w_shape, stride, padding):
    x, w, b = arrays(x_shape, w_shape, w_shape[:1])
    xt, wt, bt = t(x, True), t(w, True), t(b, True)
    out = F.conv2d(xt, wt, bt, stride=stride, padding=padding)
    (G,) = arrays(tuple(out.shape), seed=5)
    out.backward(t(G))
    grad_x, grad_w, grad_b = conv.conv2d_backward(G, x, w, stride=stride, padding=padding)
    for ours, ref in ((grad_x, xt.grad), (grad_w, wt.grad), (grad_b, bt.grad)):
        assert ours.shape == tuple(ref.shape) and ours.dtype == np.float64
        np.testing.assert_allclose(ours, ref.numpy(), **TOL[np.float64])


def test_conv2d_backward_float32_keeps_dtype_and_matches_autograd():
    x, w, b = arrays((2, 3, 6, 6), (4, 3, 3, 3), (4,), dtype=np.float32)
    xt, wt, bt = t(x, True), t(w, True), t(b, True)
    out = F.conv2d(xt, wt, bt, stride=2, padding=1)
    (G,) = arrays(tuple(out.shape), dtype=np.float32, seed=5)
    out.backward(t(G))
    for ours, ref in zip(conv.conv2d_backward(G, x, w, stride=2, padding=1), (xt, wt, bt)):
        assert ours.dtype == np.float32
        np.testing.assert_allclose(ours, ref.grad.numpy(), **TOL[np.float32])


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 1), ((2, 1), (0, 2))])
def test_conv2d_backward_matches_central_differences(stride, padding):
    x, w, b = arrays((2, 2, 5, 4), (3, 2, 3, 2), (3,), seed=7)
    G = arrays(conv.conv2d(x, w, b, stride, padding).shape, seed=8)[0]

    def loss(x_, w_, b_):  # L = <G, conv2d(x, w, b)>, so dL/dout = G
        return np.sum(G * conv.conv2d(x_, w_, b_, stride, padding))

    h = 1e-6
    numeric = []
    for i, a in enumerate((x, w, b)):
        grad = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            plus, minus = [list((x, w, b)) for _ in range(2)]
            plus[i], minus[i] = a.copy(), a.copy()
            plus[i][idx] += h
            minus[i][idx] -= h
            grad[idx] = (loss(*plus) - loss(*minus)) / (2 * h)
        numeric.append(grad)
    for ours, num in zip(conv.conv2d_backward(G, x, w, stride, padding), numeric):
        np.testing.assert_allclose(ours, num, **FD_TOL)


# ================================================================ properties

small = st.integers(1, 3)


@st.composite
def conv_setting(draw):
    N, C, F_ = draw(small), draw(small), draw(small)
    kh, kw = draw(small), draw(small)
    sh, sw, ph, pw = draw(small), draw(small), draw(st.integers(0, 2)), draw(st.integers(0, 2))
    H, W = draw(st.integers(max(1, kh - 2 * ph), 7)), draw(st.integers(max(1, kw - 2 * pw), 7))
    seed = draw(st.integers(0, 2**16))
    x, w, b = arrays((N, C, H, W), (F_, C, kh, kw), (F_,), seed=seed)
    return x, w, b, (sh, sw), (ph, pw)


@settings(max_examples=40, deadline=None)
@given(conv_setting())
def test_im2col_version_equals_loop_version_with_the_formula_shape(setting):
    x, w, b, stride, padding = setting
    x_before = x.copy()
    out = conv.conv2d(x, w, b, stride, padding)
    np.testing.assert_allclose(out, conv.conv2d_naive(x, w, b, stride, padding), **TOL[np.float64])
    expected = tuple(conv.conv_output_size(n, k, s, p) for n, k, s, p in
                     zip(x.shape[2:], w.shape[2:], stride, padding))
    assert out.shape == (x.shape[0], w.shape[0], *expected)
    np.testing.assert_array_equal(x, x_before)  # input unchanged


@settings(max_examples=40, deadline=None)
@given(conv_setting(), st.floats(-3, 3), st.floats(-3, 3))
def test_conv2d_is_linear_in_x(setting, a, c):
    x, w, _, stride, padding = setting
    (x2,) = arrays(x.shape, seed=11)
    lhs = conv.conv2d(a * x + c * x2, w, None, stride, padding)
    rhs = a * conv.conv2d(x, w, None, stride, padding) + c * conv.conv2d(x2, w, None, stride, padding)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(conv_setting())
def test_col2im_is_the_adjoint_of_im2col(setting):
    # <im2col(x), c> = <x, col2im(c)>: the identity that makes col2im the input gradient
    x, w, _, stride, padding = setting
    kernel = w.shape[2:]
    cols = conv.im2col(x, kernel, stride, padding)
    (c,) = arrays(cols.shape, seed=12)
    lhs = np.sum(cols * c)
    rhs = np.sum(x * conv.col2im(c, x.shape[2:], kernel, stride, padding))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-10)


def test_shifting_the_input_shifts_the_feature_map_away_from_the_border():
    x, w = arrays((1, 2, 12, 12), (3, 2, 3, 3))
    shifted = np.roll(x, (2, 3), axis=(2, 3))
    out, out_shifted = conv.conv2d(x, w, padding=1), conv.conv2d(shifted, w, padding=1)
    # interior positions whose windows avoid both the border and the wrapped-around pixels
    np.testing.assert_allclose(out_shifted[..., 3:11, 4:11], out[..., 1:9, 1:8], **TOL[np.float64])


# ================================================================ bad input

def test_conv_output_size_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"conv_output_size: the kernel spans 5 but the padded "
                                         r"input has only 3 \+ 2\*0 = 3; output size would be"):
        conv.conv_output_size(3, 5)
    with pytest.raises(ValueError, match="conv_output_size: stride must be an integer >= 1; got 0"):
        conv.conv_output_size(8, 3, stride=0)
    with pytest.raises(ValueError, match="conv_output_size: padding must be an integer >= 0; got -1"):
        conv.conv_output_size(8, 3, padding=-1)
    with pytest.raises(TypeError, match="conv_output_size: size must be an integer; got float"):
        conv.conv_output_size(8.0, 3)


@pytest.mark.parametrize("fn", [conv.conv2d, conv.conv2d_naive])
def test_conv2d_rejects_bad_inputs(fn):
    name = fn.__name__
    x, w, b = arrays((2, 3, 8, 8), (4, 3, 3, 3), (4,))
    with pytest.raises(ValueError, match=rf"{name}: x must have 4 dimensions \(N, C_in, H, W\); got shape \(3, 8, 8\)"):
        fn(x[0], w)
    with pytest.raises(ValueError, match=rf"{name}: weight must have 4 dimensions \(C_out, C_in, kh, kw\)"):
        fn(x, w[0])
    with pytest.raises(ValueError, match=rf"{name}: x must have shape \(N, C_in, H, W\) with C_in=2 "
                                         r"\(from weight\); got \(2, 3, 8, 8\)"):
        fn(x, w[:, :2])
    with pytest.raises(ValueError, match=rf"{name}: the kernel \(width\) spans 9 but the padded input "
                                         r"has only 8 \+ 2\*0 = 8"):
        fn(x, np.zeros((4, 3, 3, 9)))
    with pytest.raises(ValueError, match=rf"{name}: stride\[1\] must be an integer >= 1; got 0"):
        fn(x, w, stride=(1, 0))
    with pytest.raises(ValueError, match=rf"{name}: stride must be an integer >= 1; got -2"):
        fn(x, w, stride=-2)
    with pytest.raises(ValueError, match=rf"{name}: padding must be an integer >= 0; got -1"):
        fn(x, w, padding=-1)
    with pytest.raises(ValueError, match=rf"{name}: padding must be an int or a pair \(h, w\); got \(1, 1, 1\)"):
        fn(x, w, padding=(1, 1, 1))
    with pytest.raises(TypeError, match=rf"{name}: stride must be an int or a pair of ints; got float"):
        fn(x, w, stride=1.5)
    with pytest.raises(ValueError, match=rf"{name}: bias must have shape \(4,\); got \(3,\)"):
        fn(x, w, b[:3])
    with pytest.raises(TypeError, match=rf"{name}: x must be a floating-point array; got dtype int64"):
        fn(x.astype(np.int64), w)
    with pytest.raises(TypeError, match=rf"{name}: weight must have the dtype of x \(float64\); got float32"):
        fn(x, w.astype(np.float32))
    with pytest.raises(TypeError, match=rf"{name}: bias must have the dtype of x \(float32\); got float64"):
        fn(x.astype(np.float32), w.astype(np.float32), b)


def test_other_functions_reject_bad_inputs():
    x, w = arrays((2, 3, 8, 8), (4, 3, 3, 3))
    with pytest.raises(ValueError, match=r"im2col: x must have 4 dimensions \(N, C, H, W\)"):
        conv.im2col(x[0], 3)
    with pytest.raises(ValueError, match=r"im2col: the kernel \(height\) spans 11 but the padded input has only 8 \+ 2\*1 = 10"):
        conv.im2col(x, 11, padding=1)
    with pytest.raises(ValueError, match=r"col2im: cols must have shape \(N, C\*9, 36\) for kernel \(3, 3\) "
                                         r"and output_size \(8, 8\) \(L = 6\*6\); got \(2, 27, 35\)"):
        conv.col2im(np.zeros((2, 27, 35)), 8, 3)
    with pytest.raises(ValueError, match=r"col2im: cols must have 3 dimensions \(N, C\*kh\*kw, L\)"):
        conv.col2im(np.zeros((27, 36)), 8, 3)
    with pytest.raises(ValueError, match=r"conv2d_backward: grad_out must have shape \(2, 4, 6, 6\); got \(2, 4, 8, 8\)"):
        conv.conv2d_backward(np.zeros((2, 4, 8, 8)), x, w)
    with pytest.raises(TypeError, match=r"conv2d_backward: grad_out must have the dtype of x \(float64\); got float32"):
        conv.conv2d_backward(np.zeros((2, 4, 6, 6), np.float32), x, w)
    with pytest.raises(ValueError, match=r"conv2d_backward: x must have shape \(N, C_in, H, W\) with C_in=3"):
        conv.conv2d_backward(np.zeros((2, 4, 6, 6)), x[:, :2], w)
    with pytest.raises(ValueError, match=r"conv1d: x must have 3 dimensions \(N, C_in, L\); got shape \(2, 3, 8, 8\)"):
        conv.conv1d(x, w[:, :, 0])
    with pytest.raises(ValueError, match=r"conv1d: x must have shape \(N, C_in, L\) with C_in=2 \(from weight\)"):
        conv.conv1d(x[:, :, 0], w[:, :2, 0])
    with pytest.raises(ValueError, match=r"conv1d: the kernel spans 9 but the padded input has only 8 \+ 2\*0 = 8"):
        conv.conv1d(x[:, :, 0], np.zeros((2, 3, 9)))
    with pytest.raises(ValueError, match=r"conv1d: stride must be an integer >= 1; got 0"):
        conv.conv1d(x[:, :, 0], w[:, :, 0], stride=0)
    for pool in (conv.max_pool2d, conv.avg_pool2d):
        name = pool.__name__
        with pytest.raises(ValueError, match=rf"{name}: x must have 4 dimensions \(N, C, H, W\)"):
            pool(x[0], 2)
        with pytest.raises(ValueError, match=rf"{name}: padding must be at most half the kernel size "
                                             r"\(kernel_size=\(3, 3\)\); got padding=\(2, 2\)"):
            pool(x, 3, padding=2)
        with pytest.raises(ValueError, match=rf"{name}: the kernel \(height\) spans 9 but the padded input has only 8"):
            pool(x, 9)
        with pytest.raises(ValueError, match=rf"{name}: kernel_size must be an integer >= 1; got 0"):
            pool(x, 0)
        with pytest.raises(TypeError, match=rf"{name}: x must be a floating-point array; got dtype int64"):
            pool(x.astype(np.int64), 2)
    with pytest.raises(ValueError, match=r"global_avg_pool2d: x must have 4 dimensions \(N, C, H, W\)"):
        conv.global_avg_pool2d(x[0])


def test_pool_padding_rule_is_torchs():
    x = torch.zeros(1, 1, 8, 8)
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(x, 3, padding=2)
    assert F.max_pool2d(x, 4, padding=2).shape == conv.max_pool2d(x.numpy(), 4, padding=2).shape
