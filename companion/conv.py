r"""Convolution and pooling in NumPy: the loop definition, the im2col version, the backward pass.

A 2-D convolution layer slides ``C_out`` filters over an input of ``C_in`` channels. What
deep-learning libraries call "convolution" is the *cross-correlation* (the kernel is not flipped):

.. math::
    \text{out}[n, f, i, j] = b_f + \sum_{c=0}^{C_{in}-1} \sum_{m=0}^{k_h-1} \sum_{k=0}^{k_w-1}
        x_p[n, c, i s_h + m, j s_w + k]\; w[f, c, m, k],

where :math:`x_p` is the input with ``padding`` zeros on each side. The mathematical convolution
flips the kernel (:math:`w[f, c, k_h-1-m, k_w-1-k]`); for learned filters the difference is only a
relabelling of the weights. Each output side has
:math:`\lfloor (n + 2p - d(k-1) - 1)/s \rfloor + 1` positions (:func:`conv_output_size`).

Functions: :func:`conv2d_naive` (the formula, with Python loops), :func:`im2col` / :func:`col2im`
(windows as columns, and the adjoint that sums them back), :func:`conv2d` (im2col and one matrix
product), :func:`conv2d_backward` (gradients by hand), :func:`conv1d`, and the pools
:func:`max_pool2d`, :func:`avg_pool2d`, :func:`global_avg_pool2d`.

Conventions (torch's): ``x`` is ``(N, C, H, W)``, ``weight`` ``(C_out, C_in, kh, kw)``, ``bias``
``(C_out,)``; ``stride`` and ``padding`` are an int or a pair ``(h, w)``; zero padding (``-inf`` for
max pooling); float32 or float64 in, the same dtype out; inputs are never modified.
Reference: ``torch.nn.functional.conv2d``, ``unfold``, ``fold``, ``conv1d``, ``max_pool2d``,
``avg_pool2d``, ``adaptive_avg_pool2d(x, 1)``.
"""
from __future__ import annotations

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .validation import check_floating, check_int, check_ndim, check_shape

__all__ = ["conv_output_size", "conv2d_naive", "im2col", "col2im", "conv2d", "conv2d_backward",
           "conv1d", "max_pool2d", "avg_pool2d", "global_avg_pool2d"]


# ---------------------------------------------------------------- argument checks and sizes

def _pair(func: str, name: str, value, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints (each >= minimum) as a pair ``(h, w)``."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{func}: {name} must be an int or a pair (h, w); got {value!r}")
        return (check_int(func, f"{name}[0]", value[0], minimum),
                check_int(func, f"{name}[1]", value[1], minimum))
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = check_int(func, name, value, minimum)
        return value, value
    raise TypeError(f"{func}: {name} must be an int or a pair of ints; got {type(value).__name__}")


def _output_size(func: str, size: int, kernel_size: int, stride: int, padding: int,
                 dilation: int = 1, where: str = "") -> int:
    """floor((size + 2p - d(k-1) - 1)/s) + 1, or a ValueError with the numbers when it is < 1."""
    # the last window starts at most at size + 2p - d(k-1) - 1; windows start every s positions
    out = (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1
    if out < 1:
        span = dilation * (kernel_size - 1) + 1
        raise ValueError(
            f"{func}: the kernel{where} spans {span} but the padded input has only "
            f"{size} + 2*{padding} = {size + 2 * padding}; output size would be "
            f"floor(({size} + 2*{padding} - {dilation}*({kernel_size}-1) - 1)/{stride}) + 1 "
            f"= {out} < 1")
    return out


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                     dilation: int = 1) -> int:
    r"""Number of positions a kernel takes along one side of the input.

    .. math::
        n_{out} = \left\lfloor \frac{n + 2p - d(k - 1) - 1}{s} \right\rfloor + 1

    Args:
        size: input length :math:`n` (int >= 1); kernel_size: :math:`k` (>= 1); stride: :math:`s`
            (>= 1); padding: :math:`p` zeros on each side (>= 0); dilation: :math:`d` (>= 1).
    Returns:
        int >= 1, the output length (torch's formula for conv and pooling, ``ceil_mode=False``).
    Raises:
        ValueError: when the (dilated) kernel is larger than the padded input (the output would
            be empty), with the numbers; or an argument out of range.
    """
    func = "conv_output_size"
    args = [check_int(func, "size", size, 1), check_int(func, "kernel_size", kernel_size, 1),
            check_int(func, "stride", stride, 1), check_int(func, "padding", padding, 0),
            check_int(func, "dilation", dilation, 1)]
    return _output_size(func, *args)


def _as_array(func: str, name: str, x, ndim: int, layout: str) -> np.ndarray:
    x = np.asarray(x)
    check_floating(func, name, x)
    return check_ndim(func, name, x, ndim, layout)


def _check_conv(func: str, x, weight, bias, stride, padding):
    """Validate conv2d's arguments; return arrays and (sh, sw), (ph, pw), (oh, ow)."""
    x = _as_array(func, "x", x, 4, "(N, C_in, H, W)")
    weight = _as_array(func, "weight", weight, 4, "(C_out, C_in, kh, kw)")
    if weight.dtype != x.dtype:
        raise TypeError(f"{func}: weight must have the dtype of x ({x.dtype}); got {weight.dtype}")
    C_out, C_in, kh, kw = weight.shape
    if x.shape[1] != C_in:
        raise ValueError(f"{func}: x must have shape (N, C_in, H, W) with C_in={C_in} "
                         f"(from weight); got {x.shape}")
    if bias is not None:
        bias = check_shape(func, "bias", np.asarray(bias), (C_out,))
        if bias.dtype != x.dtype:
            raise TypeError(f"{func}: bias must have the dtype of x ({x.dtype}); got {bias.dtype}")
    stride, padding = _pair(func, "stride", stride, 1), _pair(func, "padding", padding, 0)
    out_hw = tuple(_output_size(func, n, k, s, p, where=f" ({axis})") for n, k, s, p, axis in
                   zip(x.shape[2:], (kh, kw), stride, padding, ("height", "width")))
    return x, weight, bias, stride, padding, out_hw


def _pad(x: np.ndarray, padding: tuple[int, int], value: float = 0.0) -> np.ndarray:
    """A padded copy of (N, C, H, W) -> (N, C, H + 2ph, W + 2pw); x itself when no padding."""
    ph, pw = padding
    if ph == pw == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def _windows(xp: np.ndarray, kernel: tuple[int, int], stride, out_hw) -> np.ndarray:
    """A read-only strided view (N, C, oh, ow, kh, kw) of every window of the padded input."""
    (sh, sw), (oh, ow) = stride, out_hw
    view = sliding_window_view(xp, kernel, axis=(2, 3))     # (N, C, Hp-kh+1, Wp-kw+1, kh, kw)
    return view[:, :, : (oh - 1) * sh + 1 : sh, : (ow - 1) * sw + 1 : sw]  # (N, C, oh, ow, kh, kw)


# ---------------------------------------------------------------- convolution

def conv2d_naive(x, weight, bias=None, stride=1, padding=0) -> np.ndarray:
    r"""2-D cross-correlation straight from its definition, one output number at a time.

    .. math::
        \text{out}[n, f, i, j] = b_f + \sum_{c, m, k} x_p[n, c, i s_h + m, j s_w + k]\, w[f, c, m, k]

    Args:
        x: (N, C_in, H, W) float32 or float64.
        weight: (C_out, C_in, kh, kw), the dtype of x. bias: (C_out,) or None.
        stride, padding: int or pair (h, w); zero padding.
    Returns:
        (N, C_out, oh, ow), the dtype of x, with oh, ow from :func:`conv_output_size`.
    Explicit Python loops over n, f, i, j: the slow reference for :func:`conv2d`.
    Reference: ``torch.nn.functional.conv2d``.
    """
    x, weight, bias, (sh, sw), padding, (oh, ow) = _check_conv(
        "conv2d_naive", x, weight, bias, stride, padding)
    (N, _, _, _), (C_out, _, kh, kw) = x.shape, weight.shape
    xp = _pad(x, padding)
    out = np.zeros((N, C_out, oh, ow), dtype=x.dtype)
    for n in range(N):
        for f in range(C_out):
            for i in range(oh):
                for j in range(ow):
                    # the receptive field of out[n, f, i, j]: all channels, a kh x kw window
                    window = xp[n, :, i * sh : i * sh + kh, j * sw : j * sw + kw]  # (C_in, kh, kw)
                    out[n, f, i, j] = np.sum(window * weight[f])
    if bias is not None:
        out += bias[None, :, None, None]
    return out


def im2col(x, kernel_size, stride=1, padding=0) -> np.ndarray:
    r"""Every kernel-sized window of ``x`` as a column: the same layout as ``F.unfold``.

    .. math::
        \text{cols}[n,\; c k_h k_w + m k_w + k,\; i\,o_w + j] = x_p[n, c, i s_h + m, j s_w + k]

    Args:
        x: (N, C, H, W) floats. kernel_size, stride, padding: int or pair (h, w); zero padding.
    Returns:
        (N, C*kh*kw, L) with L = oh*ow, a new array of x's dtype. A convolution is then one
        matrix product: ``weight.reshape(C_out, -1) @ cols`` (see :func:`conv2d`).
    Reference: ``torch.nn.functional.unfold`` (``dilation=1``).
    """
    func = "im2col"
    x = _as_array(func, "x", x, 4, "(N, C, H, W)")
    kernel = _pair(func, "kernel_size", kernel_size, 1)
    stride, padding = _pair(func, "stride", stride, 1), _pair(func, "padding", padding, 0)
    out_hw = tuple(_output_size(func, n, k, s, p, where=f" ({axis})") for n, k, s, p, axis in
                   zip(x.shape[2:], kernel, stride, padding, ("height", "width")))
    return _im2col(x, kernel, stride, padding, out_hw)


def _im2col(x, kernel, stride, padding, out_hw) -> np.ndarray:
    (N, C), (kh, kw), (oh, ow) = x.shape[:2], kernel, out_hw
    win = _windows(_pad(x, padding), kernel, stride, out_hw)   # (N, C, oh, ow, kh, kw), a view
    # one copy into the unfold layout: rows (c, m, k), columns (i, j)
    return win.transpose(0, 1, 4, 5, 2, 3).reshape(N, C * kh * kw, oh * ow)  # (N, C*kh*kw, L)


def col2im(cols, output_size, kernel_size, stride=1, padding=0) -> np.ndarray:
    r"""Sum columns back into an image: the adjoint of :func:`im2col` (= ``F.fold``).

    .. math::
        x[n, c, h, w] = \sum_{(i, j, m, k):\; i s_h + m - p_h = h,\; j s_w + k - p_w = w}
            \text{cols}[n, c k_h k_w + m k_w + k, i\,o_w + j]

    Overlapping windows add up, so ``col2im(im2col(x))`` is x times the number of windows that
    cover each pixel, not x. This sum is exactly what the input gradient of a convolution needs.

    Args:
        cols: (N, C*kh*kw, L) floats, L = oh*ow.
        output_size: (H, W) of the image (int or pair). kernel_size, stride, padding: as im2col.
    Returns:
        (N, C, H, W), cols' dtype; padding positions are dropped.
    Reference: ``torch.nn.functional.fold``.
    """
    func = "col2im"
    cols = _as_array(func, "cols", cols, 3, "(N, C*kh*kw, L)")
    H, W = _pair(func, "output_size", output_size, 1)
    (kh, kw), stride = _pair(func, "kernel_size", kernel_size, 1), _pair(func, "stride", stride, 1)
    padding = _pair(func, "padding", padding, 0)
    oh, ow = (_output_size(func, n, k, s, p, where=f" ({axis})") for n, k, s, p, axis in
              zip((H, W), (kh, kw), stride, padding, ("height", "width")))
    N, rows, L = cols.shape
    if rows % (kh * kw) or L != oh * ow:
        raise ValueError(f"{func}: cols must have shape (N, C*{kh * kw}, {oh * ow}) for kernel "
                         f"{(kh, kw)} and output_size {(H, W)} (L = {oh}*{ow}); got {cols.shape}")
    return _col2im(cols, (H, W), (kh, kw), stride, padding, (oh, ow))


def _col2im(cols, size, kernel, stride, padding, out_hw) -> np.ndarray:
    (H, W), (kh, kw), (sh, sw), (ph, pw), (oh, ow) = size, kernel, stride, padding, out_hw
    N, C = cols.shape[0], cols.shape[1] // (kh * kw)
    cols = cols.reshape(N, C, kh, kw, oh, ow)              # rows -> (c, m, k), columns -> (i, j)
    xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=cols.dtype)
    for m in range(kh):          # one vectorised strided add per kernel offset: kh*kw of them
        for k in range(kw):
            rows = slice(m, m + (oh - 1) * sh + 1, sh)     # the oh rows that offset m touches
            columns = slice(k, k + (ow - 1) * sw + 1, sw)
            xp[:, :, rows, columns] += cols[:, :, m, k]
    return xp[:, :, ph : ph + H, pw : pw + W].copy()            # drop the padding: (N, C, H, W)


def conv2d(x, weight, bias=None, stride=1, padding=0) -> np.ndarray:
    r"""2-D cross-correlation as im2col followed by one matrix product.

    .. math::
        \text{out}[n] = W_{mat}\, \text{cols}[n] + b, \qquad
        W_{mat} = \text{weight.reshape}(C_{out}, C_{in} k_h k_w)

    Args and returns: as :func:`conv2d_naive`: x (N, C_in, H, W), weight (C_out, C_in, kh, kw),
    bias (C_out,) or None -> (N, C_out, oh, ow), x's dtype.
    Reference: ``torch.nn.functional.conv2d`` (which also computes cross-correlation).
    """
    return _conv2d("conv2d", x, weight, bias, stride, padding)


def _conv2d(func, x, weight, bias, stride, padding) -> np.ndarray:
    x, weight, bias, stride, padding, (oh, ow) = _check_conv(func, x, weight, bias, stride, padding)
    C_out, kernel = weight.shape[0], weight.shape[2:]
    cols = _im2col(x, kernel, stride, padding, (oh, ow))    # (N, C_in*kh*kw, L)
    # out = W_mat @ cols: (C_out, C_in*kh*kw) @ (N, C_in*kh*kw, L) -> (N, C_out, L)
    out = np.matmul(weight.reshape(C_out, -1), cols)
    if bias is not None:
        out += bias[None, :, None]
    return out.reshape(x.shape[0], C_out, oh, ow)           # (N, C_out, oh, ow)


def conv2d_backward(grad_out, x, weight, stride=1, padding=0):
    r"""Gradients of a loss through :func:`conv2d`, by hand, from :math:`G = \partial L/\partial\,\text{out}`.

    With ``cols = im2col(x)`` (N, K, L), K = C_in*kh*kw, and :math:`G` reshaped to (N, C_out, L):

    .. math::
        \frac{\partial L}{\partial b_f} = \sum_{n, l} G[n, f, l], \qquad
        \frac{\partial L}{\partial W_{mat}} = \sum_n G[n]\, \text{cols}[n]^\top, \qquad
        \frac{\partial L}{\partial x} = \text{col2im}\big(W_{mat}^\top G\big)

    (the input gradient routes each column's gradient back to the pixels of its window, summing
    where windows overlap; that sum is :func:`col2im`).

    Args:
        grad_out: (N, C_out, oh, ow), the dtype of x.
        x, weight, stride, padding: as in :func:`conv2d`.
    Returns:
        (grad_x (N, C_in, H, W), grad_weight (C_out, C_in, kh, kw), grad_bias (C_out,)).
    The arguments are the forward's inputs rather than STYLE's ``(dout, cache)`` pair: the only
    cache needed is x and weight. Reference: ``torch.autograd`` through ``F.conv2d``.
    """
    func = "conv2d_backward"
    x, weight, _, stride, padding, (oh, ow) = _check_conv(func, x, weight, None, stride, padding)
    (N, _, H, W), (C_out, _, kh, kw) = x.shape, weight.shape
    grad_out = _as_array(func, "grad_out", grad_out, 4, "(N, C_out, oh, ow)")
    check_shape(func, "grad_out", grad_out, (N, C_out, oh, ow))
    if grad_out.dtype != x.dtype:
        raise TypeError(f"{func}: grad_out must have the dtype of x ({x.dtype}); "
                        f"got {grad_out.dtype}")
    cols = _im2col(x, (kh, kw), stride, padding, (oh, ow))        # (N, K, L)
    G = grad_out.reshape(N, C_out, oh * ow)                       # (N, C_out, L)
    # dL/db_f = sum over the batch and every output position
    grad_bias = G.sum(axis=(0, 2))                                # (C_out,)
    # dL/dW_mat = sum_n G[n] cols[n]^T
    grad_weight = np.tensordot(G, cols, axes=([0, 2], [0, 2]))   # (C_out, K)
    # dL/dcols[n] = W_mat^T G[n]; col2im adds each window's gradient back onto its pixels
    grad_cols = np.matmul(weight.reshape(C_out, -1).T, G)        # (N, K, L)
    grad_x = _col2im(grad_cols, (H, W), (kh, kw), stride, padding, (oh, ow))
    return grad_x, grad_weight.reshape(weight.shape), grad_bias


def conv1d(x, weight, bias=None, stride=1, padding=0) -> np.ndarray:
    r"""1-D cross-correlation, the same sliding window along one axis.

    .. math::
        \text{out}[n, f, i] = b_f + \sum_{c, k} x_p[n, c, i s + k]\, w[f, c, k]

    Args:
        x: (N, C_in, L) floats; weight: (C_out, C_in, k); bias: (C_out,) or None;
        stride, padding: ints.
    Returns:
        (N, C_out, L_out), L_out from :func:`conv_output_size`; computed as :func:`conv2d` on
        images of height 1.
    Reference: ``torch.nn.functional.conv1d``.
    """
    func = "conv1d"
    x = _as_array(func, "x", x, 3, "(N, C_in, L)")
    weight = _as_array(func, "weight", weight, 3, "(C_out, C_in, k)")
    if x.shape[1] != weight.shape[1]:
        raise ValueError(f"{func}: x must have shape (N, C_in, L) with C_in={weight.shape[1]} "
                         f"(from weight); got {x.shape}")
    stride, padding = check_int(func, "stride", stride, 1), check_int(func, "padding", padding, 0)
    _output_size(func, x.shape[2], weight.shape[2], stride, padding)
    out = _conv2d(func, x[:, :, None, :], weight[:, :, None, :], bias, (1, stride), (0, padding))
    return out[:, :, 0, :]                                        # (N, C_out, L_out)


# ---------------------------------------------------------------- pooling

def _check_pool(func: str, x, kernel_size, stride, padding):
    x = _as_array(func, "x", x, 4, "(N, C, H, W)")
    kernel = _pair(func, "kernel_size", kernel_size, 1)
    stride = kernel if stride is None else _pair(func, "stride", stride, 1)
    padding = _pair(func, "padding", padding, 0)
    for p, k in zip(padding, kernel):
        if p > k // 2:  # torch's rule: a window must never lie entirely in the padding
            raise ValueError(f"{func}: padding must be at most half the kernel size "
                             f"(kernel_size={kernel}); got padding={padding}")
    out_hw = tuple(_output_size(func, n, k, s, p, where=f" ({axis})") for n, k, s, p, axis in
                   zip(x.shape[2:], kernel, stride, padding, ("height", "width")))
    return x, kernel, stride, padding, out_hw


def max_pool2d(x, kernel_size, stride=None, padding=0) -> np.ndarray:
    r"""Max pooling: :math:`\text{out}[n, c, i, j] = \max_{m, k} x_p[n, c, i s_h + m, j s_w + k]`.

    Args:
        x: (N, C, H, W) floats. kernel_size: int or pair. stride: int, pair, or None (= kernel_size,
            non-overlapping windows). padding: int or pair, at most half the kernel; padded
            positions are :math:`-\infty`, so they never win (as torch).
    Returns:
        (N, C, oh, ow), x's dtype (``ceil_mode=False``, ``dilation=1``).
    Reference: ``torch.nn.functional.max_pool2d``.
    """
    x, kernel, stride, padding, out_hw = _check_pool("max_pool2d", x, kernel_size, stride, padding)
    win = _windows(_pad(x, padding, -np.inf), kernel, stride, out_hw)   # (N, C, oh, ow, kh, kw)
    return win.max(axis=(4, 5))


def avg_pool2d(x, kernel_size, stride=None, padding=0) -> np.ndarray:
    r"""Average pooling: the mean of each window.

    .. math::
        \text{out}[n, c, i, j] = \frac{1}{k_h k_w}\sum_{m, k} x_p[n, c, i s_h + m, j s_w + k]

    Padded zeros count in the average (torch's default ``count_include_pad=True``): a window
    half in the padding averages its pixels with zeros.

    Args and returns: as :func:`max_pool2d` (zero padding here).
    Reference: ``torch.nn.functional.avg_pool2d`` (``ceil_mode=False``, ``count_include_pad=True``).
    """
    x, kernel, stride, padding, out_hw = _check_pool("avg_pool2d", x, kernel_size, stride, padding)
    win = _windows(_pad(x, padding), kernel, stride, out_hw)            # (N, C, oh, ow, kh, kw)
    return win.mean(axis=(4, 5))


def global_avg_pool2d(x) -> np.ndarray:
    r"""Global average pooling: :math:`\text{out}[n, c] = \frac{1}{HW}\sum_{h, w} x[n, c, h, w]`.

    Args:
        x: (N, C, H, W) floats.
    Returns:
        (N, C), x's dtype: one number per feature map, whatever H and W are.
    Reference: ``torch.nn.functional.adaptive_avg_pool2d(x, 1)`` (which keeps shape (N, C, 1, 1)).
    """
    x = _as_array("global_avg_pool2d", "x", x, 4, "(N, C, H, W)")
    return x.mean(axis=(2, 3))
