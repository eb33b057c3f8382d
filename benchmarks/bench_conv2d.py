"""Time companion.conv's NumPy convolutions against torch.nn.functional.conv2d (a script, not a test).

Run it from the repository root:

    .venv/bin/python benchmarks/bench_conv2d.py            # the full sizes, 20 repeats
    .venv/bin/python benchmarks/bench_conv2d.py --quick    # tiny sizes, 1 repeat (the smoke test)

It prints, for float32 inputs on one CPU thread (torch and NumPy's BLAS both limited to one):
the best-of-``repeats`` time of ``conv.conv2d`` (im2col + one matmul) and of ``F.conv2d`` on a batch
of 32x3x32x32 images with 16 filters 3x3, padding 1, and their ratio; then the same for the loop
version ``conv.conv2d_naive`` on a smaller input (it is orders of magnitude slower), relative to
both. Timings vary with the machine and its load: nothing here asserts a time.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from companion import conv
from timing import best_time, one_thread, parse_args  # benchmarks/timing.py, next to this script


def compare(shape, filters, kernel, padding, repeats, *, naive=False, seed=0):
    """Times (ours, torch) in seconds for one input shape; checks the outputs agree first."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape, dtype=np.float32)
    w = rng.standard_normal((filters, shape[1], kernel, kernel), dtype=np.float32)
    b = rng.standard_normal(filters, dtype=np.float32)
    xt, wt, bt = map(torch.from_numpy, (x, w, b))
    ours = conv.conv2d_naive if naive else conv.conv2d
    ref = F.conv2d(xt, wt, bt, padding=padding).numpy()
    np.testing.assert_allclose(ours(x, w, b, padding=padding), ref, rtol=1e-4, atol=1e-5)  # float32
    t_ours = best_time(lambda: ours(x, w, b, padding=padding), repeats)
    with torch.no_grad():
        t_torch = best_time(lambda: F.conv2d(xt, wt, bt, padding=padding), repeats)
    return t_ours, t_torch


def main(argv=None) -> dict:
    args = parse_args(__doc__.splitlines()[0], argv)
    repeats = args.repeats
    big = (2, 3, 8, 8) if args.quick else (32, 3, 32, 32)
    small = (1, 3, 6, 6) if args.quick else (4, 3, 16, 16)
    with one_thread():
        t_im2col, t_torch = compare(big, 16, 3, 1, repeats)
        t_naive, t_torch_small = compare(small, 16, 3, 1, max(1, repeats // 10), naive=True)
        t_im2col_small, _ = compare(small, 16, 3, 1, repeats)
    results = {"im2col_vs_torch": t_im2col / t_torch, "naive_vs_torch": t_naive / t_torch_small,
               "naive_vs_im2col": t_naive / t_im2col_small}
    print(f"input {big}, 16 filters 3x3, padding 1, float32, one thread, best of {repeats}:")
    print(f"  conv.conv2d (im2col + matmul) {1e3 * t_im2col:9.3f} ms")
    print(f"  F.conv2d                      {1e3 * t_torch:9.3f} ms")
    print(f"  ratio conv2d / F.conv2d       {results['im2col_vs_torch']:9.2f}")
    print(f"loop version on input {small}:")
    print(f"  conv.conv2d_naive             {1e3 * t_naive:9.3f} ms")
    print(f"  ratio naive / F.conv2d        {results['naive_vs_torch']:9.0f}")
    print(f"  ratio naive / conv.conv2d     {results['naive_vs_im2col']:9.0f}")
    return results


if __name__ == "__main__":
    main()
