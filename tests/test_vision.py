"""Tests for companion.vision: augmentations (exact identities, torch.rot90 / F.interpolate / PIL
references, seeded reproducibility, per-image statistics) and every validation message. Boxes and
the detector, which vision re-exports, are tested in test_detection.py.

Tolerances (STYLE.md): float64 rtol=1e-6 with atol=1e-12 (values cross zero); float32 rtol=1e-4,
atol=1e-5. Against PIL (which rounds to uint8 after each step) the tolerance is 2/255: one unit
from PIL's rounding of its result plus at most one from its rounded grey mean / grey image.
Statistical tests allow 5 standard deviations of the sampling error.
"""
import functools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageEnhance

from companion import regularization as R
from companion import vision as V
from torch_helpers import F64, TOL32, TOL64, close

HYP = settings(max_examples=30, deadline=None)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def images(N=4, C=3, H=9, W=9, seed=0, dtype=F64):
    """Seeded images in [0, 1]."""
    return torch.rand(N, C, H, W, generator=gen(seed), dtype=dtype)


# every random op with settings that change every image; called as op(x, generator=g)
OPS = {
    "flip": functools.partial(V.random_flip, p=0.5),
    "vflip": functools.partial(V.random_flip, p=0.5, horizontal=False),
    "rotation": functools.partial(V.random_rotation, max_degrees=30),
    "scale": functools.partial(V.random_scale, scale_range=(0.7, 1.3)),
    "crop": functools.partial(V.random_crop, size=7, padding=2),
    "jitter": functools.partial(V.color_jitter, brightness=0.4, contrast=0.4, saturation=0.4),
}


# ================================================================ shared properties of the random ops

@pytest.mark.parametrize("name", OPS)
def test_same_seed_same_output_different_seed_different_output(name):
    x = images(N=8)
    a, b = OPS[name](x, generator=gen(3)), OPS[name](x, generator=gen(3))
    assert torch.equal(a, b)
    assert not torch.equal(a, OPS[name](x, generator=gen(4)))


@pytest.mark.parametrize("name", ["rotation", "scale", "crop", "jitter"])
def test_each_image_of_a_batch_gets_its_own_parameters(name):
    x = images(N=1).expand(6, -1, -1, -1)  # six copies of one image
    out = OPS[name](x, generator=gen(0))
    flat = out.reshape(6, -1)
    assert all(not torch.equal(flat[i], flat[j]) for i in range(6) for j in range(i))


@pytest.mark.parametrize("name", OPS)
@pytest.mark.parametrize("dtype", [torch.float32, F64])
def test_dtype_device_kept_and_input_not_modified(name, dtype):
    x = images(dtype=dtype)
    before = x.clone()
    out = OPS[name](x, generator=gen(1))
    assert out.dtype == dtype and out.device == x.device
    assert out.shape == (x.shape if name != "crop" else (4, 3, 7, 7))
    assert torch.equal(x, before)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("name", OPS)
def test_a_cpu_generator_gives_the_same_augmentation_on_the_gpu(name):
    x = images(dtype=torch.float32)
    out = OPS[name](x.cuda(), generator=gen(2))
    assert out.device.type == "cuda"
    close(out.cpu(), OPS[name](x, generator=gen(2)), TOL32)


# ================================================================ flips

def test_flip_with_p_1_is_torch_flip_and_twice_is_the_identity():
    x = images()
    once = V.random_flip(x, p=1.0)
    assert torch.equal(once, torch.flip(x, dims=[-1]))
    assert torch.equal(V.random_flip(x, p=1.0, horizontal=False), torch.flip(x, dims=[-2]))
    assert torch.equal(V.random_flip(once, p=1.0), x)
    assert torch.equal(V.random_flip(x, p=0.0), x)


@HYP
@given(st.integers(1, 6), st.floats(0, 1), st.booleans(), st.integers(0, 2**31 - 1))
def test_flip_twice_with_the_same_seed_is_the_identity(N, p, horizontal, seed):
    x = images(N=N, seed=seed)
    once = V.random_flip(x, p, horizontal=horizontal, generator=gen(seed))
    assert torch.equal(V.random_flip(once, p, horizontal=horizontal, generator=gen(seed)), x)
    for n in range(N):  # each image is either itself or its mirror
        assert torch.equal(once[n], x[n]) or torch.equal(once[n], x[n].flip(-1 if horizontal else -2))


def test_flip_rate_is_p():
    N, p = 4000, 0.3
    x = torch.arange(2.0)[None, None, None].expand(N, 1, 1, 2)  # [0, 1]: flipped reads [1, 0]
    rate = (V.random_flip(x, p, generator=gen(0))[:, 0, 0, 0] == 1).double().mean().item()
    assert abs(rate - p) < 5 * math.sqrt(p * (1 - p) / N)


# ================================================================ rotation and scaling

@pytest.mark.parametrize("dtype, tol", [(F64, TOL64), (torch.float32, TOL32)])
def test_rotation_by_0_and_scale_1_are_the_identity(dtype, tol):
    x = images(H=8, W=11, dtype=dtype)
    close(V.rotate(x, 0.0), x, tol)
    close(V.zoom(x, 1.0), x, tol)
    close(V.random_rotation(x, 0, generator=gen(0)), x, tol)
    close(V.random_scale(x, (1.0, 1.0), generator=gen(0)), x, tol)


@pytest.mark.parametrize("size", [8, 9])
def test_rotation_by_90_degrees_is_rot90(size):
    # on a square image the rotated pixel centres land exactly on pixel centres: no border effect
    x = images(H=size, W=size)
    close(V.rotate(x, 90.0), torch.rot90(x, 1, dims=(-2, -1)))
    close(V.rotate(x, -90.0), torch.rot90(x, -1, dims=(-2, -1)))
    close(V.rotate(x, torch.tensor([90.0, 180.0, 270.0, 0.0])),
          torch.stack([torch.rot90(x[n], n + 1, dims=(-2, -1)) for n in range(4)]))


def test_rotation_by_180_of_a_rectangle_is_rot90_twice():
    x = images(H=6, W=10)
    close(V.rotate(x, 180.0), torch.rot90(x, 2, dims=(-2, -1)))


def test_zoom_by_2_is_bilinear_upsampling_then_a_centre_crop():
    x = images(H=8, W=12)
    up = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)  # (N, C, 16, 24)
    close(V.zoom(x, 2.0), up[..., 4:12, 6:18])


def test_rotation_fills_the_corners_with_fill():
    x = torch.ones(1, 1, 9, 9, dtype=F64)
    out = V.rotate(x, 45.0, fill=0.25)
    assert out[0, 0, 0, 0] == pytest.approx(0.25) and out[0, 0, 4, 4] == pytest.approx(1.0)


def blob_batch(N, radius=5.0, size=21):
    """N copies of a small Gaussian blob at (u, v) = (radius, 0) from the image centre."""
    c = (size - 1) / 2
    v, u = torch.meshgrid(torch.arange(size, dtype=F64) - c, torch.arange(size, dtype=F64) - c, indexing="ij")
    blob = torch.exp(-((u - radius) ** 2 + v ** 2) / 2)
    return blob[None, None].expand(N, 1, size, size), u, v


def centroids(out, u, v):
    mass = out[:, 0].sum((1, 2))
    return (out[:, 0] * u).sum((1, 2)) / mass, (out[:, 0] * v).sum((1, 2)) / mass


def test_rotation_angles_are_uniform_in_the_range():
    N, d = 600, 30.0
    x, u, v = blob_batch(N)
    cu, cv = centroids(V.random_rotation(x, d, generator=gen(0)), u, v)
    # counter-clockwise on screen: the blob at (r, 0) moves to (r cos a, -r sin a) (rows go down)
    angles = torch.rad2deg(torch.atan2(-cv, cu))
    assert angles.abs().max() <= d + 0.5
    sd = d / math.sqrt(3)  # of U[-d, d]
    assert abs(angles.mean().item()) < 5 * sd / math.sqrt(N)
    assert abs(angles.std().item() - sd) < 0.1 * sd


def test_scale_factors_are_uniform_in_the_range():
    N, (lo, hi) = 600, (0.8, 1.2)
    x, u, v = blob_batch(N, radius=4.0)
    cu, _ = centroids(V.random_scale(x, (lo, hi), generator=gen(0)), u, v)
    s = cu / 4.0  # the blob's centre moves from r to s r
    assert s.min() >= lo - 0.01 and s.max() <= hi + 0.01
    assert abs(s.mean().item() - 1.0) < 5 * (hi - lo) / math.sqrt(12 * N)


# ================================================================ random crop

def test_crop_of_the_full_size_without_padding_is_the_identity():
    x = images(H=7, W=10)
    assert torch.equal(V.random_crop(x, (7, 10), generator=gen(0)), x)
    y = images(H=8, W=8)
    assert torch.equal(V.random_crop(y, 8, generator=gen(0)), y)


def windows(padded, h, w):
    """Every h x w window of one padded image (C, Hp, Wp), by explicit loops."""
    Hp, Wp = padded.shape[-2:]
    return [padded[:, r:r + h, c:c + w] for r in range(Hp - h + 1) for c in range(Wp - w + 1)]


@HYP
@given(st.integers(1, 4), st.integers(3, 7), st.integers(3, 7), st.integers(0, 2), st.data())
def test_each_crop_is_a_window_of_the_zero_padded_image(N, H, W, p, data):
    h, w = data.draw(st.integers(1, H + 2 * p)), data.draw(st.integers(1, W + 2 * p))
    x = images(N=N, C=2, H=H, W=W, seed=h)
    out = V.random_crop(x, (h, w), p, generator=gen(w))
    assert out.shape == (N, 2, h, w)
    for n in range(N):
        padded = F.pad(x[n], (p, p, p, p))
        assert any(torch.equal(out[n], win) for win in windows(padded, h, w))


def test_crop_positions_cover_every_offset():
    x = torch.arange(25.0).reshape(1, 1, 5, 5).expand(2000, 1, 5, 5)
    corners = V.random_crop(x, 3, generator=gen(0))[:, 0, 0, 0]  # top-left value = 5 r + c
    counts = torch.bincount(corners.long(), minlength=25).reshape(5, 5)[:3, :3].flatten().double()
    p = 1 / 9
    assert counts.sum() == 2000 and (counts - 2000 * p).abs().max() < 5 * math.sqrt(2000 * p * (1 - p))


# ================================================================ colour

@HYP
@given(st.floats(0, 2), st.floats(0, 2), st.floats(0, 2), st.sampled_from([1, 3]), st.integers(0, 2**31 - 1))
def test_color_jitter_stays_in_the_unit_interval(b, c, s, C, seed):
    x = images(N=3, C=C, H=5, W=4, seed=seed)
    out = V.color_jitter(x, b, c, s if C == 3 else 0.0, generator=gen(seed))
    assert out.min() >= 0 and out.max() <= 1 and out.shape == x.shape


def test_color_jitter_with_zero_strength_is_the_identity():
    for C in (1, 3):
        x = images(C=C)
        assert torch.equal(V.color_jitter(x, generator=gen(0)), x)
        assert torch.equal(V.adjust_color(x), x)


def test_adjust_color_formulas():
    x = images(N=2, C=3, H=4, W=5)
    grey = 0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]  # (N, 1, H, W)
    close(V.adjust_color(x, brightness=0.5), 0.5 * x)
    close(V.adjust_color(x, contrast=0.0), grey.mean((2, 3), keepdim=True).expand_as(x))
    close(V.adjust_color(x, saturation=0.0), grey.expand_as(x))
    f = torch.tensor([0.3, 1.7], dtype=F64)[:, None, None, None]  # one factor per image
    close(V.adjust_color(x, saturation=f.flatten()), (f * x + (1 - f) * grey).clamp(0, 1))
    g = x[:, :1]
    close(V.adjust_color(g, contrast=0.5), 0.5 * g + 0.5 * g.mean((2, 3), keepdim=True))


@pytest.mark.parametrize("kind, enhancer", [("brightness", ImageEnhance.Brightness),
                                            ("contrast", ImageEnhance.Contrast),
                                            ("saturation", ImageEnhance.Color)])
@pytest.mark.parametrize("factor", [0.0, 0.4, 1.0, 1.6])
def test_adjust_color_matches_pil_image_enhance(kind, enhancer, factor):
    rgb = (np.random.default_rng(0).uniform(0, 255, size=(12, 10, 3))).astype(np.uint8)
    ref = np.asarray(enhancer(Image.fromarray(rgb)).enhance(factor), dtype=np.float64) / 255
    x = torch.tensor(rgb, dtype=F64).permute(2, 0, 1)[None] / 255  # (1, 3, H, W)
    ours = V.adjust_color(x, **{kind: factor})[0].permute(1, 2, 0).numpy()
    np.testing.assert_allclose(ours, ref, atol=2 / 255, rtol=0)


def test_color_jitter_factors_are_in_range():
    # brightness only, on a constant image: out / in is the factor, in [1 - b, 1 + b]
    x = torch.full((3000, 1, 1, 1), 0.25, dtype=F64)
    f = V.color_jitter(x, brightness=0.5, generator=gen(0)).flatten() / 0.25
    assert f.min() >= 0.5 and f.max() <= 1.5
    assert abs(f.mean().item() - 1.0) < 5 * (1.0 / math.sqrt(12)) / math.sqrt(3000)


# ================================================================ Augment

def test_augment_applies_ops_in_order_with_its_own_generator():
    x = images(N=5)
    ops = [functools.partial(V.random_rotation, max_degrees=20), functools.partial(R.augment_shift, max_shift=1)]
    aug = V.Augment(*ops, seed=7)
    g = gen(7)
    expected = ops[1](ops[0](x, generator=g), generator=g)
    assert torch.equal(aug(x), expected)
    assert not torch.equal(aug(x), expected)  # the generator has moved on: a new augmentation
    again = V.Augment(*ops, seed=7)
    assert torch.equal(again(x), expected)


def test_augment_is_the_identity_in_eval_mode_and_a_layer_in_a_model():
    aug = V.Augment(OPS["rotation"], seed=0)
    x = images()
    assert aug.eval()(x) is x
    model = torch.nn.Sequential(V.Augment(OPS["flip"]), torch.nn.Flatten())
    assert model(x).shape == (4, 3 * 81)
    assert "1 ops, seed=0" in repr(aug)


def test_augmentation_errors():
    x = images()
    with pytest.raises(ValueError, match=r"random_flip: images must have 4 dimensions \(N, C, H, W\); got shape \(3, 9, 9\)"):
        V.random_flip(x[0])
    with pytest.raises(TypeError, match="random_rotation: images must be a torch.Tensor; got ndarray"):
        V.random_rotation(np.zeros((1, 1, 4, 4)), 10)
    with pytest.raises(TypeError, match="random_scale: images must be a floating-point tensor; got dtype torch.int64"):
        V.random_scale(torch.zeros(1, 1, 4, 4, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"random_flip: p must be in \[0, 1\]; got 1.5"):
        V.random_flip(x, 1.5)
    with pytest.raises(TypeError, match="random_flip: generator must be a torch.Generator or None; got int"):
        V.random_flip(x, generator=0)
    with pytest.raises(ValueError, match="random_rotation: max_degrees must be finite and >= 0; got -5"):
        V.random_rotation(x, -5)
    with pytest.raises(ValueError, match=r"random_scale: scale_range must be a pair \(low, high\) with 0 < low <= high; got \(1.2, 0.8\)"):
        V.random_scale(x, (1.2, 0.8))
    with pytest.raises(ValueError, match=r"random_crop: size must fit in the padded image \(11, 11\); got \(12, 12\)"):
        V.random_crop(x, 12, 1)
    with pytest.raises(ValueError, match="random_crop: padding must be an integer >= 0; got -1"):
        V.random_crop(x, 4, -1)
    with pytest.raises(TypeError, match="random_crop: size must be an integer; got float"):
        V.random_crop(x, 4.0)


def test_color_and_geometry_errors():
    x = images()
    with pytest.raises(ValueError, match="color_jitter: brightness must be finite and >= 0; got -0.1"):
        V.color_jitter(x, brightness=-0.1)
    with pytest.raises(ValueError, match="color_jitter: saturation needs colour images with C=3; got C=1"):
        V.color_jitter(x[:, :1], saturation=0.2)
    with pytest.raises(ValueError, match=r"adjust_color: images must have 1 or 3 channels \(N, C, H, W\); got C=2"):
        V.adjust_color(x[:, :2], brightness=0.5)
    with pytest.raises(ValueError, match="adjust_color: saturation needs colour images with C=3; got C=1"):
        V.adjust_color(x[:, :1], saturation=0.5)
    with pytest.raises(ValueError, match=r"adjust_color: contrast must be one number or 4 \(one per image\), finite and >= 0; got \[-1.0\]"):
        V.adjust_color(x, contrast=-1.0)
    with pytest.raises(ValueError, match=r"zoom: factor must be one number or 4 \(one per image\), finite and > 0; got \[0.0\]"):
        V.zoom(x, 0.0)
    with pytest.raises(ValueError, match=r"rotate: angle must be one number or 4 \(one per image\), finite; got \[1.0, 2.0\]"):
        V.rotate(x, torch.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="rotate: angle must be a number or a tensor; got str"):
        V.rotate(x, "90")
    with pytest.raises(TypeError, match="Augment: ops\\[1\\] must be callable; got int"):
        V.Augment(OPS["flip"], 3)
    with pytest.raises(ValueError, match="Augment: seed must be an integer >= 0; got -1"):
        V.Augment(seed=-1)
