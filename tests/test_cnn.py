"""Tests for companion.cnn: output shapes, parameter counts against closed forms written out here,
the residual blocks' shortcuts (identity, projection, none), gradient flow, input checks.

Where a block's output is compared with a hand-built expression of the same float64 operations,
the tolerance is float64's (rtol=1e-6, atol=1e-12).
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from companion.cnn import (Bottleneck, DenseBlock, InceptionBlock, LeNet, MNIST1DCNN, ResidualBlock,
                           VGGBlock, count_parameters, deep_cnn)
from torch_helpers import F64, TOL64, close, randn

FAST = settings(max_examples=25, deadline=None)


def n_params(module):
    return sum(p.numel() for p in module.parameters())


def double(make, seed=0):
    """make() built after seeding (so its weights do not depend on the test order), in float64."""
    torch.manual_seed(seed)
    return make().double()


def zero_last_bn(bn):
    """Make a BatchNorm output exactly 0: gamma = beta = 0."""
    with torch.no_grad():
        bn.weight.zero_()
        bn.bias.zero_()


# ================================================================ LeNet

def lenet_params(C, K, s):
    return (25 * C * 6 + 6) + (25 * 6 * 16 + 16) + (16 * s * s * 120 + 120) + (120 * 84 + 84) + (84 * K + K)


def test_lenet5_feature_maps_and_parameter_count_at_32x32():
    net = LeNet()
    x = randn(2, 1, 32, 32, dtype=torch.float32)
    shapes = []
    for layer in net.features:
        x = layer(x)
        shapes.append(tuple(x.shape[1:]))
    assert shapes == [(6, 28, 28)] * 2 + [(6, 14, 14), (16, 10, 10), (16, 10, 10), (16, 5, 5)]
    assert count_parameters(net) == lenet_params(1, 10, 5) == 61_706


@FAST
@given(size=st.integers(4, 40), C=st.integers(1, 3), K=st.integers(1, 12), N=st.integers(1, 3))
def test_lenet_any_image_size_gives_logits(size, C, K, N):
    net = LeNet(C, K, image_size=size)
    out = net(torch.zeros(N, C, size, size))
    assert out.shape == (N, K)
    # valid convolutions for >= 32 (the paper), 'same' ones (padding 2) below
    p = 0 if size >= 32 else 2
    s = ((size + 2 * p - 4) // 2 + 2 * p - 4) // 2
    assert count_parameters(net) == lenet_params(C, K, s)


def test_lenet_on_8x8_digits_shapes():
    net = LeNet(image_size=8)
    assert net.features(torch.zeros(3, 1, 8, 8)).shape == (3, 16, 2, 2)
    assert count_parameters(net) == lenet_params(1, 10, 2) == 21_386


# ================================================================ VGG

@FAST
@given(c_in=st.integers(1, 4), c_out=st.integers(1, 5), L=st.integers(1, 3), bn=st.booleans(),
       pool=st.booleans(), H=st.integers(2, 9), W=st.integers(2, 9))
def test_vgg_block_shape_and_parameters(c_in, c_out, L, bn, pool, H, W):
    block = VGGBlock(c_in, c_out, num_convs=L, batch_norm=bn, pool=pool)
    out = block(torch.rand(2, c_in, H, W))
    assert out.shape == ((2, c_out, H // 2, W // 2) if pool else (2, c_out, H, W))
    weights = 9 * c_in * c_out + 9 * (L - 1) * c_out ** 2
    assert count_parameters(block) == weights + (2 if bn else 1) * L * c_out


@pytest.mark.parametrize("L", [1, 2, 3])
def test_stacked_3x3_convs_see_a_window_of_2L_plus_1(L):
    block = double(lambda: VGGBlock(1, 8, num_convs=L, pool=False))
    x = torch.rand(1, 1, 15, 15, dtype=F64, requires_grad=True)
    block(x)[0, :, 7, 7].sum().backward()
    rows, cols = np.nonzero(x.grad[0, 0].numpy())
    assert rows.min() == cols.min() == 7 - L and rows.max() == cols.max() == 7 + L


# ================================================================ residual blocks

def residual_params(c_in, c_out, projection):
    return 9 * c_in * c_out + 9 * c_out ** 2 + 4 * c_out + (c_in * c_out + 2 * c_out) * projection


@FAST
@given(c_in=st.integers(1, 5), c_out=st.integers(1, 5), stride=st.integers(1, 3),
       H=st.integers(1, 9), W=st.integers(1, 9), skip=st.booleans())
def test_residual_block_shape_and_parameters(c_in, c_out, stride, H, W, skip):
    block = ResidualBlock(c_in, c_out, stride=stride, skip=skip)
    out = block(torch.rand(2, c_in, H, W))
    assert out.shape == (2, c_out, (H - 1) // stride + 1, (W - 1) // stride + 1)
    projection = skip and (stride != 1 or c_in != c_out)
    assert count_parameters(block) == residual_params(c_in, c_out, projection)
    assert (out >= 0).all()  # a ReLU ends the block


def test_residual_block_is_relu_of_f_plus_x_with_identity_shortcut():
    block = double(lambda: ResidualBlock(4, 4))
    assert isinstance(block.shortcut, nn.Identity)
    captured = {}
    block.bn2.register_forward_hook(lambda m, i, o: captured.update(F=o))  # F(x): the branch's end
    x = randn(3, 4, 6, 6)
    close(block(x), torch.relu(captured["F"] + x))
    # with the residual branch silenced (last BN's gamma = beta = 0) the block is relu(x)
    zero_last_bn(block.bn2)
    close(block(x), torch.relu(x))


@pytest.mark.parametrize("c_in, c_out, stride", [(3, 5, 1), (4, 4, 2), (2, 6, 2)])
def test_residual_block_projects_when_the_shape_changes(c_in, c_out, stride):
    block = double(lambda: ResidualBlock(c_in, c_out, stride=stride))
    conv, bn = block.shortcut
    assert conv.kernel_size == (1, 1) and conv.stride == (stride, stride) and conv.bias is None
    zero_last_bn(block.bn2)
    x = randn(3, c_in, 7, 7)
    # training mode: BN normalises with the batch statistics of the 1x1 conv's output
    z = F.conv2d(x, conv.weight, stride=stride)
    mean, var = z.mean(dim=(0, 2, 3), keepdim=True), z.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    expected = (z - mean) / torch.sqrt(var + bn.eps) * bn.weight.view(1, -1, 1, 1) + bn.bias.view(1, -1, 1, 1)
    close(block(x), torch.relu(expected), TOL64)


def test_plain_block_has_no_shortcut_and_only_its_branch():
    block = double(lambda: ResidualBlock(4, 6, stride=2, skip=False))
    assert block.shortcut is None
    x = randn(2, 4, 6, 6)
    close(block(x), torch.relu(block.residual(x)))
    zero_last_bn(block.bn2)
    assert torch.equal(block(x), torch.zeros(2, 6, 3, 3, dtype=F64))


@FAST
@given(c_in=st.integers(1, 6), mid=st.integers(1, 4), c_out=st.integers(1, 6), stride=st.integers(1, 2),
       H=st.integers(1, 8), skip=st.booleans())
def test_bottleneck_shape_and_parameters(c_in, mid, c_out, stride, H, skip):
    block = Bottleneck(c_in, mid, c_out, stride=stride, skip=skip)
    assert block(torch.rand(2, c_in, H, H)).shape == (2, c_out, (H - 1) // stride + 1, (H - 1) // stride + 1)
    projection = skip and (stride != 1 or c_in != c_out)
    expected = c_in * mid + 9 * mid * mid + mid * c_out + 4 * mid + 2 * c_out
    assert count_parameters(block) == expected + (c_in * c_out + 2 * c_out) * projection


def test_bottleneck_identity_shortcut_and_the_saving_over_two_3x3_convs():
    block = double(lambda: Bottleneck(8, 2, 8))
    assert isinstance(block.shortcut, nn.Identity)
    zero_last_bn(block.expand[1])
    x = randn(2, 8, 5, 5)
    close(block(x), torch.relu(x))
    assert isinstance(Bottleneck(8, 2, 16).shortcut, nn.Sequential)
    assert Bottleneck(8, 2, 8, skip=False).shortcut is None
    # the 3x3 convolution is the one that carries the stride
    assert Bottleneck(8, 2, 8, stride=2).conv[0].stride == (2, 2)
    conv_weights = sum(m.weight.numel() for m in Bottleneck(256, 64, 256).modules() if isinstance(m, nn.Conv2d))
    assert conv_weights == 69_632 and 2 * 9 * 256 * 256 == 1_179_648


# ================================================================ Inception, dense blocks

@FAST
@given(sizes=st.lists(st.integers(1, 4), min_size=7, max_size=7), H=st.integers(1, 7))
def test_inception_block_shape_and_parameters(sizes, H):
    c_in, c1, c3r, c3, c5r, c5, pp = sizes
    block = InceptionBlock(c_in, c1, c3r, c3, c5r, c5, pp)
    assert block(torch.rand(2, c_in, H, H)).shape == (2, c1 + c3 + c5 + pp, H, H)
    assert block.out_channels == c1 + c3 + c5 + pp
    weights = c_in * (c1 + c3r + c5r + pp) + 9 * c3r * c3 + 25 * c5r * c5
    assert count_parameters(block) == weights + c1 + c3r + c3 + c5r + c5 + pp


def test_inception_block_concatenates_its_branches_in_order():
    block = double(lambda: InceptionBlock(3, 2, 2, 3, 1, 4, 5))
    x = randn(2, 3, 6, 6)
    out = block(x)
    parts = [block.branch1(x), block.branch3(x), block.branch5(x), block.branch_pool(x)]
    assert torch.equal(out, torch.cat(parts, dim=1))
    # GoogLeNet's "inception (3a)": 256 output channels
    assert InceptionBlock(192, 64, 96, 128, 16, 32, 32).out_channels == 256


@FAST
@given(c_in=st.integers(1, 5), g=st.integers(1, 4), L=st.integers(1, 4), H=st.integers(1, 6))
def test_dense_block_shape_parameters_and_kept_input(c_in, g, L, H):
    block = DenseBlock(c_in, g, L)
    x = torch.rand(2, c_in, H, H)
    out = block(x)
    assert out.shape == (2, c_in + L * g, H, H) and block.out_channels == c_in + L * g
    assert torch.equal(out[:, :c_in], x)  # the input is passed on unchanged
    assert count_parameters(block) == sum((c_in + l * g) * (9 * g + 2) for l in range(L))


# ================================================================ deep_cnn and MNIST1DCNN

@pytest.mark.parametrize("depth", [1, 5])
def test_deep_cnn_residual_and_plain_have_the_same_parameters(depth):
    res, plain = deep_cnn(depth, channels=4), deep_cnn(depth, channels=4, residual=False)
    blocks = [m for m in res if isinstance(m, ResidualBlock)]
    assert len(blocks) == depth and all(isinstance(b.shortcut, nn.Identity) for b in blocks)
    assert all(b.shortcut is None for b in plain if isinstance(b, ResidualBlock))
    C, K = 4, 10
    assert count_parameters(res) == count_parameters(plain) == 9 * C + 2 * C + depth * (18 * C * C + 4 * C) + C * K + K
    x = torch.rand(3, 1, 8, 8)
    assert res(x).shape == plain(x).shape == (3, 10)
    # global average pooling: the linear head reads each channel's mean over the 8x8 positions
    close(res[-2](res[:-2](x)), res[:-2](x).mean(dim=(2, 3)), dict(rtol=0, atol=0))


def test_mnist1d_cnn_accepts_both_layouts_and_counts_parameters():
    net = MNIST1DCNN()
    x = randn(5, 40, dtype=torch.float32)
    close(net(x), net(x.unsqueeze(1)), dict(rtol=0, atol=0))
    assert net(x).shape == (5, 10)
    C, K = 25, 10
    assert count_parameters(net) == 6 * C + 2 * (3 * C * C + C) + 19 * C * K + K == 8710
    assert count_parameters(MNIST1DCNN(channels=3, num_classes=4)) == 18 + 2 * 30 + 19 * 3 * 4 + 4


MODELS = [lambda: LeNet(image_size=8), lambda: VGGBlock(1, 3, batch_norm=True), lambda: ResidualBlock(1, 3, 2),
          lambda: Bottleneck(1, 2, 3), lambda: InceptionBlock(1, 3, 3, 3, 3, 3, 4), lambda: DenseBlock(1, 2, 2),
          lambda: deep_cnn(3, channels=3), lambda: MNIST1DCNN(channels=3)]


@pytest.mark.parametrize("make", MODELS, ids=["LeNet", "VGG", "Residual", "Bottleneck", "Inception",
                                              "Dense", "deep_cnn", "MNIST1DCNN"])
def test_gradients_reach_every_parameter_and_the_input(make):
    model = double(make, seed=1)
    shape = (4, 40) if isinstance(model, MNIST1DCNN) else (4, 1, 8, 8)
    x = randn(*shape, grad=True)
    model(x).square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, f"{name} gets no gradient"


def test_count_parameters_matches_numel_and_skips_frozen_parameters_and_buffers():
    net = deep_cnn(2, channels=4)
    assert count_parameters(net) == n_params(net)
    stem = net[0]
    stem.weight.requires_grad_(False)
    assert count_parameters(net) == n_params(net) - stem.weight.numel()
    bn = nn.BatchNorm2d(7)
    assert count_parameters(bn) == 14  # running mean / var are buffers
    with pytest.raises(TypeError, match=r"count_parameters: model must be a torch.nn.Module; got list"):
        count_parameters([torch.zeros(3)])


# ================================================================ bad input

@pytest.mark.parametrize("make, x, match", [
    (lambda: ResidualBlock(3, 4), torch.zeros(2, 2, 5, 5),
     r"ResidualBlock.forward: x must have shape \(N, 3, H, W\) \(in_channels=3\); got \(2, 2, 5, 5\)"),
    (lambda: ResidualBlock(3, 4), torch.zeros(3, 5, 5),
     r"ResidualBlock.forward: x must have 4 dimensions \(N, C, H, W\); got shape \(3, 5, 5\)"),
    (lambda: VGGBlock(1, 2), torch.zeros(1, 3, 4, 4), r"VGGBlock.forward: x must have shape \(N, 1, H, W\)"),
    (lambda: Bottleneck(2, 1, 2), torch.zeros(1, 3, 4, 4), r"Bottleneck.forward: x must have shape \(N, 2, H, W\)"),
    (lambda: InceptionBlock(2, 1, 1, 1, 1, 1, 1), torch.zeros(2, 4, 4),
     r"InceptionBlock.forward: x must have 4 dimensions"),
    (lambda: DenseBlock(2, 1, 1), torch.zeros(1, 1, 4, 4), r"DenseBlock.forward: x must have shape \(N, 2, H, W\)"),
    (lambda: LeNet(image_size=8), torch.zeros(2, 1, 9, 9),
     r"LeNet.forward: x must have shape \(N, 1, 8, 8\) \(image_size=8\); got \(2, 1, 9, 9\)"),
    (lambda: LeNet(in_channels=3), torch.zeros(2, 1, 32, 32), r"LeNet.forward: x must have shape \(N, 3, H, W\)"),
    (lambda: MNIST1DCNN(), torch.zeros(2, 41),
     r"MNIST1DCNN.forward: x must have shape \(N, 40\) or \(N, 1, 40\); got \(2, 41\)"),
    (lambda: MNIST1DCNN(), torch.zeros(2, 2, 40), r"MNIST1DCNN.forward: x must have shape \(N, 40\) or \(N, 1, 40\)"),
    (lambda: MNIST1DCNN(), torch.zeros(40), r"MNIST1DCNN.forward: x must have 2 or 3 dimensions"),
])
def test_forward_rejects_bad_shapes(make, x, match):
    with pytest.raises(ValueError, match=match):
        make()(x)


def test_forward_rejects_integer_tensors_and_arrays():
    with pytest.raises(TypeError, match=r"ResidualBlock.forward: x must be a floating-point tensor; got dtype torch.int64"):
        ResidualBlock(1, 1)(torch.zeros(1, 1, 3, 3, dtype=torch.int64))
    with pytest.raises(TypeError, match=r"MNIST1DCNN.forward: x must be a torch.Tensor; got ndarray"):
        MNIST1DCNN()(np.zeros((2, 40), dtype=np.float32))


@pytest.mark.parametrize("make, error, match", [
    (lambda: ResidualBlock(0, 4), ValueError, r"ResidualBlock: in_channels must be an integer >= 1; got 0"),
    (lambda: ResidualBlock(2, 4, stride=0), ValueError, r"ResidualBlock: stride must be an integer >= 1; got 0"),
    (lambda: ResidualBlock(2, 4, skip=1), TypeError, r"ResidualBlock: skip must be bool; got int"),
    (lambda: ResidualBlock(2, 4.0), TypeError, r"ResidualBlock: out_channels must be an integer; got float"),
    (lambda: LeNet(image_size=3), ValueError, r"LeNet: image_size must be an integer >= 4; got 3"),
    (lambda: VGGBlock(1, 2, num_convs=0), ValueError, r"VGGBlock: num_convs must be an integer >= 1; got 0"),
    (lambda: VGGBlock(1, 2, pool="yes"), TypeError, r"VGGBlock: pool must be bool; got str"),
    (lambda: Bottleneck(4, 0, 4), ValueError, r"Bottleneck: mid_channels must be an integer >= 1; got 0"),
    (lambda: InceptionBlock(4, 1, 1, 1, 1, 1, 0), ValueError, r"InceptionBlock: pool_proj must be an integer >= 1; got 0"),
    (lambda: DenseBlock(4, 2, 0), ValueError, r"DenseBlock: num_layers must be an integer >= 1; got 0"),
    (lambda: deep_cnn(0), ValueError, r"deep_cnn: depth must be an integer >= 1; got 0"),
    (lambda: deep_cnn(2, residual=None), TypeError, r"deep_cnn: residual must be bool; got NoneType"),
    (lambda: MNIST1DCNN(channels=0), ValueError, r"MNIST1DCNN: channels must be an integer >= 1; got 0"),
])
def test_constructor_checks(make, error, match):
    with pytest.raises(error, match=match):
        make()
