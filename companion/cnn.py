r"""Convolutional network architectures as small torch modules, from LeNet to dense blocks.

Every module takes images ``x`` of shape (N, C, H, W) (MNIST1DCNN: sequences (N, 40) or
(N, 1, 40)), checks them in ``forward`` and returns logits or feature maps. Parameter counts are
given in closed form in each docstring, with :math:`k` the kernel size, :math:`C_{in}`,
:math:`C_{out}` the channels; a convolution has :math:`k^2 C_{in} C_{out}` weights plus
:math:`C_{out}` biases, a batch norm :math:`2C` (its running statistics are buffers, not
parameters). Convolutions followed by batch norm have no bias (BN's shift replaces it), as in
ResNet.

Reference: ``torchvision.models`` (not a dependency here) has the full-size networks.
"""
from __future__ import annotations

import torch
from torch import nn

from .conv import conv_output_size
from .validation import check_int, check_ndim, check_tensor, check_type

__all__ = ["LeNet", "VGGBlock", "ResidualBlock", "Bottleneck", "InceptionBlock", "DenseBlock",
           "deep_cnn", "MNIST1DCNN", "count_parameters"]


def _check_images(owner: str, x, in_channels: int) -> None:
    """x must be a floating tensor of shape (N, in_channels, H, W)."""
    check_tensor(owner, "x", x)
    check_ndim(owner, "x", x, 4, "(N, C, H, W)")
    if x.shape[1] != in_channels:
        raise ValueError(f"{owner}: x must have shape (N, {in_channels}, H, W) "
                         f"(in_channels={in_channels}); got {tuple(x.shape)}")


def _conv_bn(c_in: int, c_out: int, k: int, stride: int = 1) -> list[nn.Module]:
    """A k x k convolution with 'same' padding (for odd k) and no bias, then batch norm."""
    return [nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, bias=False),
            nn.BatchNorm2d(c_out)]


def count_parameters(model) -> int:
    """Number of trainable parameters: the sum of ``p.numel()`` over ``p.requires_grad``.

    Frozen parameters (``requires_grad=False``) and buffers (BN running statistics) do not count.
    """
    check_type("count_parameters", "model", model, nn.Module, "a torch.nn.Module")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class LeNet(nn.Module):
    r"""LeNet-5: conv(5x5, 6) - pool - conv(5x5, 16) - pool - fc 120 - fc 84 - fc classes.

    The pattern Input -> [Conv -> ReLU -> Pool] x 2 -> Flatten -> FC x 3. For a 32x32 input the
    maps are 6@28x28 -> 6@14x14 -> 16@10x10 -> 16@5x5 -> 400 -> 120 -> 84 -> classes.

    Parameters, with :math:`s` the final map size (5 for 32x32) and :math:`C` = in_channels:
    :math:`(25C\cdot6 + 6) + (25\cdot6\cdot16 + 16) + (16s^2\cdot120 + 120) + (120\cdot84 + 84)
    + (84K + K)` for K classes: 61,706 for one channel, 32x32, ten classes.

    Args:
        in_channels: C of the input images.
        num_classes: K, the number of logits.
        image_size: H = W of the inputs (>= 4). For ``image_size >= 32`` the convolutions are
            unpadded, as in the paper; for smaller images (8x8 digits, 28x28 MNIST) both use
            padding 2 ("same"), so an 8x8 input gives 6@8x8 -> 6@4x4 -> 16@4x4 -> 16@2x2 -> 64.
    Input (N, C, image_size, image_size) float; output (N, K) logits.

    Reference: LeCun, Bottou, Bengio, Haffner (1998), "Gradient-based learning applied to
    document recognition". Adaptations: ReLU and max pooling instead of the scaled tanh and
    the trainable average-pooling "subsampling"; C3 connects to all six maps (the paper used a
    sparse connection table, 1,516 weights instead of 2,416); the output is a linear layer
    (cross-entropy on logits) instead of Euclidean RBF units.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, image_size: int = 32):
        super().__init__()
        self.in_channels = check_int("LeNet", "in_channels", in_channels, 1)
        self.num_classes = check_int("LeNet", "num_classes", num_classes, 1)
        self.image_size = check_int("LeNet", "image_size", image_size, 4)
        p = 0 if image_size >= 32 else 2
        s = image_size
        for _ in range(2):  # side of the maps after [5x5 conv (padding p), 2x2 max-pool (stride 2)] x 2
            s = conv_output_size(conv_output_size(s, 5, padding=p), 2, stride=2)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=p), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5, padding=p), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(
            nn.Flatten(),                                   # (N, 16, s, s) -> (N, 16 s^2)
            nn.Linear(16 * s * s, 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_images("LeNet.forward", x, self.in_channels)
        if tuple(x.shape[2:]) != (self.image_size, self.image_size):
            raise ValueError(f"LeNet.forward: x must have shape (N, {self.in_channels}, "
                             f"{self.image_size}, {self.image_size}) (image_size={self.image_size}); "
                             f"got {tuple(x.shape)}")
        return self.classifier(self.features(x))


class VGGBlock(nn.Module):
    r"""``num_convs`` 3x3 convolutions (padding 1) with ReLU, then a 2x2 max-pool.

    Two stacked 3x3 convolutions see a 5x5 window and three see 7x7 (receptive field
    :math:`1 + 2L`), with :math:`9LC^2` weights instead of :math:`(2L+1)^2C^2` and one more
    non-linearity per layer.

    Parameters: :math:`9C_{in}C_{out} + 9(L-1)C_{out}^2` weights plus :math:`LC_{out}` biases,
    or, with ``batch_norm`` (conv without bias, BN after it), plus :math:`2LC_{out}` instead.

    Args:
        in_channels, out_channels: :math:`C_{in}`, :math:`C_{out}`.
        num_convs: L >= 1. batch_norm: add BatchNorm2d before each ReLU. pool: end with
            ``MaxPool2d(2)`` (halves H and W, rounding down).
    Input (N, C_in, H, W); output (N, C_out, H // 2, W // 2), or (N, C_out, H, W) without pool.

    Reference: Simonyan, Zisserman (2015), "Very deep convolutional networks for large-scale
    image recognition" (VGG; their nets had no batch norm, a later addition).
    """

    def __init__(self, in_channels: int, out_channels: int, num_convs: int = 2,
                 batch_norm: bool = False, pool: bool = True):
        super().__init__()
        self.in_channels = check_int("VGGBlock", "in_channels", in_channels, 1)
        check_int("VGGBlock", "out_channels", out_channels, 1)
        check_int("VGGBlock", "num_convs", num_convs, 1)
        check_type("VGGBlock", "batch_norm", batch_norm, bool)
        check_type("VGGBlock", "pool", pool, bool)
        layers = []
        for i in range(num_convs):
            c_in = in_channels if i == 0 else out_channels
            if batch_norm:
                layers += _conv_bn(c_in, out_channels, 3)
            else:
                layers.append(nn.Conv2d(c_in, out_channels, 3, padding=1))
            layers.append(nn.ReLU())
        if pool:
            layers.append(nn.MaxPool2d(2))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_images("VGGBlock.forward", x, self.in_channels)
        return self.layers(x)


def _shortcut(in_channels: int, out_channels: int, stride: int, skip: bool) -> nn.Module | None:
    """Identity when shapes match, else a 1x1 conv (stride s) + BN projection; None without skip."""
    if not skip:
        return None
    if stride == 1 and in_channels == out_channels:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                         nn.BatchNorm2d(out_channels))


class ResidualBlock(nn.Module):
    r"""The basic ResNet block: :math:`y = \mathrm{ReLU}(F(x) + \mathrm{shortcut}(x))`.

    .. math::
        F(x) = \mathrm{BN}(W_2 * \mathrm{ReLU}(\mathrm{BN}(W_1 *_s x)))

    with two 3x3 convolutions (the first with stride s). The shortcut is the identity when
    ``stride == 1`` and ``in_channels == out_channels``; otherwise a projection, a 1x1
    convolution with stride s and BN ("option B" of the paper). Since
    :math:`\partial y/\partial x` contains :math:`I` through the identity path, gradients reach
    early layers even when :math:`\partial F/\partial x` is small. ``skip=False`` is the "plain"
    twin: the same layers, :math:`y = \mathrm{ReLU}(F(x))`, no shortcut (``self.shortcut`` is None).

    Parameters: :math:`9C_{in}C_{out} + 9C_{out}^2 + 4C_{out}`, plus
    :math:`C_{in}C_{out} + 2C_{out}` for a projection shortcut.

    Args:
        in_channels, out_channels: :math:`C_{in}`, :math:`C_{out}`; stride: s >= 1; skip: bool.
    Input (N, C_in, H, W); output (N, C_out, floor((H-1)/s)+1, floor((W-1)/s)+1).

    Reference: He, Zhang, Ren, Sun (2016), "Deep residual learning for image recognition";
    torchvision's ``BasicBlock``.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, skip: bool = True):
        super().__init__()
        self.in_channels = check_int("ResidualBlock", "in_channels", in_channels, 1)
        check_int("ResidualBlock", "out_channels", out_channels, 1)
        check_int("ResidualBlock", "stride", stride, 1)
        self.skip = check_type("ResidualBlock", "skip", skip, bool)
        self.conv1, self.bn1 = _conv_bn(in_channels, out_channels, 3, stride)
        self.conv2, self.bn2 = _conv_bn(out_channels, out_channels, 3)
        self.relu = nn.ReLU()
        self.shortcut = _shortcut(in_channels, out_channels, stride, skip)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        """F(x), the residual branch, before the addition and the last ReLU."""
        return self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_images("ResidualBlock.forward", x, self.in_channels)
        out = self.residual(x)
        if self.shortcut is not None:
            # y = F(x) + shortcut(x)
            out = out + self.shortcut(x)
        return self.relu(out)


class Bottleneck(nn.Module):
    r"""The ResNet-50 block: 1x1 reduce -> 3x3 -> 1x1 expand, each with BN, plus the shortcut.

    .. math::
        y = \mathrm{ReLU}\big(\mathrm{BN}(W_3 * \mathrm{ReLU}(\mathrm{BN}(W_2 *_s
            \mathrm{ReLU}(\mathrm{BN}(W_1 * x))))) + \mathrm{shortcut}(x)\big)

    The expensive 3x3 convolution works on :math:`C_{mid} < C_{in}` channels. Parameters:
    :math:`C_{in}C_{mid} + 9C_{mid}^2 + C_{mid}C_{out} + 4C_{mid} + 2C_{out}`, plus
    :math:`C_{in}C_{out} + 2C_{out}` for a projection shortcut (same rule as ResidualBlock);
    e.g. 256 -> 64 -> 256 needs 69,632 conv weights where two 3x3 256-channel convs need 1,179,648.

    Args:
        in_channels, mid_channels, out_channels: channel counts; stride: s, applied by the 3x3
            convolution (torchvision's "ResNet v1.5"; the paper put it on the first 1x1);
        skip: False removes the shortcut.
    Input (N, C_in, H, W); output (N, C_out, floor((H-1)/s)+1, floor((W-1)/s)+1).

    Reference: He et al. (2016), section 4.1 "Deeper bottleneck architectures".
    """

    def __init__(self, in_channels: int, mid_channels: int, out_channels: int, stride: int = 1,
                 skip: bool = True):
        super().__init__()
        for name, value in [("in_channels", in_channels), ("mid_channels", mid_channels),
                            ("out_channels", out_channels), ("stride", stride)]:
            check_int("Bottleneck", name, value, 1)
        self.in_channels = in_channels
        self.skip = check_type("Bottleneck", "skip", skip, bool)
        self.reduce = nn.Sequential(*_conv_bn(in_channels, mid_channels, 1), nn.ReLU())
        self.conv = nn.Sequential(*_conv_bn(mid_channels, mid_channels, 3, stride), nn.ReLU())
        self.expand = nn.Sequential(*_conv_bn(mid_channels, out_channels, 1))
        self.relu = nn.ReLU()
        self.shortcut = _shortcut(in_channels, out_channels, stride, skip)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_images("Bottleneck.forward", x, self.in_channels)
        out = self.expand(self.conv(self.reduce(x)))
        if self.shortcut is not None:
            out = out + self.shortcut(x)
        return self.relu(out)


class InceptionBlock(nn.Module):
    r"""GoogLeNet's Inception module: four parallel branches, concatenated along channels.

    1. 1x1 conv (``c1``);
    2. 1x1 conv to ``c3_reduce``, then 3x3 conv (padding 1) to ``c3``;
    3. 1x1 conv to ``c5_reduce``, then 5x5 conv (padding 2) to ``c5``;
    4. 3x3 max-pool (stride 1, padding 1), then 1x1 conv to ``pool_proj``.

    Each conv has a bias and is followed by ReLU. Every branch keeps H x W, so the outputs stack
    to :math:`c_1 + c_3 + c_5 + c_{pool}` channels: the block looks at several scales at once and
    lets training weigh them. The 1x1 "reduce" convolutions keep the 3x3 and 5x5 ones cheap.
    Parameters: :math:`C_{in}(c_1 + c_{3r} + c_{5r} + c_{pool}) + 9c_{3r}c_3 + 25c_{5r}c_5`
    weights plus :math:`c_1 + c_{3r} + c_3 + c_{5r} + c_5 + c_{pool}` biases.

    Input (N, C_in, H, W); output (N, c1 + c3 + c5 + pool_proj, H, W).

    Reference: Szegedy et al. (2015), "Going deeper with convolutions" (GoogLeNet's block
    "inception (3a)" is ``InceptionBlock(192, 64, 96, 128, 16, 32, 32)``).
    """

    def __init__(self, in_channels: int, c1: int, c3_reduce: int, c3: int, c5_reduce: int,
                 c5: int, pool_proj: int):
        super().__init__()
        sizes = dict(in_channels=in_channels, c1=c1, c3_reduce=c3_reduce, c3=c3,
                     c5_reduce=c5_reduce, c5=c5, pool_proj=pool_proj)
        for name, value in sizes.items():
            check_int("InceptionBlock", name, value, 1)
        self.in_channels = in_channels
        self.out_channels = c1 + c3 + c5 + pool_proj
        relu = nn.ReLU
        self.branch1 = nn.Sequential(nn.Conv2d(in_channels, c1, 1), relu())
        self.branch3 = nn.Sequential(nn.Conv2d(in_channels, c3_reduce, 1), relu(),
                                     nn.Conv2d(c3_reduce, c3, 3, padding=1), relu())
        self.branch5 = nn.Sequential(nn.Conv2d(in_channels, c5_reduce, 1), relu(),
                                     nn.Conv2d(c5_reduce, c5, 5, padding=2), relu())
        self.branch_pool = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1),
                                         nn.Conv2d(in_channels, pool_proj, 1), relu())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_images("InceptionBlock.forward", x, self.in_channels)
        branches = [self.branch1, self.branch3, self.branch5, self.branch_pool]
        return torch.cat([b(x) for b in branches], dim=1)   # (N, c1 + c3 + c5 + pool_proj, H, W)


class DenseBlock(nn.Module):
    r"""A DenseNet block: each layer sees the concatenation of all earlier feature maps.

    .. math::
        x_\ell = H_\ell([x_0, x_1, \dots, x_{\ell-1}]),\qquad
        H_\ell = \text{Conv}_{3\times3}\circ\mathrm{ReLU}\circ\mathrm{BN}

    Layer :math:`\ell` (0-based) reads :math:`C_{in} + \ell g` channels and adds g
    (``growth_rate``) new ones; the output is :math:`[x_0, \dots, x_L]` with
    :math:`C_{in} + Lg` channels. Parameters:
    :math:`\sum_{\ell=0}^{L-1} (C_{in} + \ell g)(9g + 2)` (conv weights without bias, and BN).

    Input (N, C_in, H, W); output (N, C_in + num_layers * growth_rate, H, W).

    Reference: Huang, Liu, van der Maaten, Weinberger (2017), "Densely connected convolutional
    networks" (the basic layer, without the 1x1 bottleneck of DenseNet-B).
    """

    def __init__(self, in_channels: int, growth_rate: int, num_layers: int):
        super().__init__()
        self.in_channels = check_int("DenseBlock", "in_channels", in_channels, 1)
        check_int("DenseBlock", "growth_rate", growth_rate, 1)
        check_int("DenseBlock", "num_layers", num_layers, 1)
        self.out_channels = in_channels + num_layers * growth_rate
        self.layers = nn.ModuleList(
            nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, growth_rate, 3, padding=1, bias=False))
            for c in range(in_channels, self.out_channels, growth_rate))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_images("DenseBlock.forward", x, self.in_channels)
        features = [x]
        for layer in self.layers:
            # x_l = H_l([x_0, ..., x_{l-1}])
            features.append(layer(torch.cat(features, dim=1)))
        return torch.cat(features, dim=1)          # (N, C_in + L g, H, W)


class _GlobalAvgPool(nn.Module):
    """(N, C, H, W) -> (N, C): mean over positions (unlike AdaptiveAvgPool2d, deterministic on CUDA)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3))


def deep_cnn(depth: int, channels: int = 16, in_channels: int = 1, num_classes: int = 10,
             residual: bool = True) -> nn.Sequential:
    r"""A deep CNN of ``depth`` ResidualBlocks: the plain-vs-residual experiment's network.

    stem (3x3 conv ``in_channels`` -> ``channels``, BN, ReLU) -> ``depth`` x
    ``ResidualBlock(channels, channels, skip=residual)`` -> global average pool -> linear.
    That is :math:`2\,\text{depth} + 2` weight layers. All blocks keep the shape, so their
    shortcuts are identities and ``residual=True`` and ``residual=False`` have exactly the same
    parameters: :math:`9C_{in}C + 2C + \text{depth}(18C^2 + 4C) + CK + K`.

    Input (N, in_channels, H, W); output (N, num_classes) logits.

    Reference: the plain vs residual comparison of He et al. (2016), figures 1 and 4.
    """
    for name, value in [("depth", depth), ("channels", channels), ("in_channels", in_channels),
                        ("num_classes", num_classes)]:
        check_int("deep_cnn", name, value, 1)
    check_type("deep_cnn", "residual", residual, bool)
    blocks = [ResidualBlock(channels, channels, skip=residual) for _ in range(depth)]
    return nn.Sequential(*_conv_bn(in_channels, channels, 3), nn.ReLU(), *blocks,
                         _GlobalAvgPool(),                        # (N, C, H, W) -> (N, C)
                         nn.Linear(channels, num_classes))


class MNIST1DCNN(nn.Module):
    r"""The three-layer 1-D CNN for MNIST-1D (sequences of length 40).

    Conv1d(1, C, 5, stride 2, padding 1) - ReLU - Conv1d(C, C, 3, padding 1) - ReLU -
    Conv1d(C, C, 3, padding 1) - ReLU - Flatten - Linear(19C, K). Lengths: 40 -> 19 -> 19 -> 19.
    Parameters: :math:`(5C + C) + 2(3C^2 + C) + 19CK + K`; 8,710 for C = 25, K = 10.

    Args:
        channels: C; num_classes: K.
    Input (N, 40) or (N, 1, 40) float; output (N, K) logits.

    Reference: Greydanus (2020), "Scaling down deep learning" (MNIST-1D; the paper's CNN has
    25 channels and reaches about 94% test accuracy, 56% on the shuffled sequences). The
    repository's ``ConvBase`` uses stride 2 in all three convolutions (flattening 5C features);
    here the second and third keep stride 1, which reached the paper's accuracy in 2,000 Adam steps.
    """

    #: the sequence length of MNIST-1D (the linear layer depends on it)
    length = 40

    def __init__(self, channels: int = 25, num_classes: int = 10):
        super().__init__()
        check_int("MNIST1DCNN", "channels", channels, 1)
        check_int("MNIST1DCNN", "num_classes", num_classes, 1)
        L = conv_output_size(self.length, 5, stride=2, padding=1)   # 19: after the strided conv
        self.net = nn.Sequential(
            nn.Conv1d(1, channels, 5, stride=2, padding=1), nn.ReLU(),
            nn.Conv1d(channels, channels, 3, padding=1), nn.ReLU(),
            nn.Conv1d(channels, channels, 3, padding=1), nn.ReLU(),
            nn.Flatten(),                                   # (N, C, 19) -> (N, 19 C)
            nn.Linear(channels * L, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        owner = "MNIST1DCNN.forward"
        check_tensor(owner, "x", x)
        check_ndim(owner, "x", x, (2, 3), "(N, 40) or (N, 1, 40)")
        if x.shape[-1] != self.length or (x.ndim == 3 and x.shape[1] != 1):
            raise ValueError(f"{owner}: x must have shape (N, {self.length}) or (N, 1, {self.length}); "
                             f"got {tuple(x.shape)}")
        if x.ndim == 2:
            x = x.unsqueeze(1)                              # (N, 40) -> (N, 1, 40)
        return self.net(x)
