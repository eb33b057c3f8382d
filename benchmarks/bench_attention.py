"""Time companion.attention.scaled_dot_product_attention against F.scaled_dot_product_attention
(a script, not a test).

Run it from the repository root:

    .venv/bin/python benchmarks/bench_attention.py            # N=8, nh=4, L=256, d_k=32, 20 repeats
    .venv/bin/python benchmarks/bench_attention.py --quick    # tiny sizes, 1 repeat (the smoke test)

On one CPU thread and in float32 it times, on the same tensors, ours (two matmuls around an
explicit softmax, materialising the (L, L) weights that it also returns) and torch's fused kernel
(which never stores the weights), for the forward pass alone and for the forward and backward
pass, without a mask and with a causal mask, after checking that outputs and gradients agree. It
prints the best-of-``repeats`` times and their ratios. Timings vary with the machine and its load:
nothing here asserts a time.

The forward ratio is bimodal from one run to the next on Linux: about 1.5-1.9x, or 3-4.5x. Ours
allocates the (N, nh, L, L) weights (8 MiB here) on every call, and glibc serves a block that large
either from its heap or from fresh zeroed pages (mmap), depending on its adaptive threshold; the
page faults then cost more than the softmax. Running with ``MALLOC_MMAP_THRESHOLD_=4294967296``
keeps it on the heap and gives the lower figure every time. Torch's fused kernel never stores the
weights, which is also why it cannot return them.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from companion.attention import causal_mask, scaled_dot_product_attention
from timing import best_time, one_thread, parse_args  # benchmarks/timing.py, next to this script


def ours(q, k, v, mask):
    return scaled_dot_product_attention(q, k, v, mask)[0]


def reference(q, k, v, mask):
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


def forward_backward(fn, q, k, v, mask):
    """One forward and one backward pass of sum(out); returns out and the three gradients."""
    q, k, v = (t.detach().requires_grad_() for t in (q, k, v))
    out = fn(q, k, v, mask)
    out.sum().backward()
    return [out, q.grad, k.grad, v.grad]


def compare(N, nh, L, d_k, mask, repeats, seed=0):
    """{(pass, function): seconds} for one shape; checks outputs and gradients agree first."""
    g = torch.Generator().manual_seed(seed)
    q, k, v = (torch.randn(N, nh, L, d_k, generator=g) for _ in range(3))
    for a, b in zip(forward_backward(ours, q, k, v, mask), forward_backward(reference, q, k, v, mask)):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)  # float32
    times = {}
    for name, fn in (("ours", ours), ("torch", reference)):
        with torch.no_grad():
            times["forward", name] = best_time(lambda: fn(q, k, v, mask), repeats)
        times["forward + backward", name] = best_time(lambda: forward_backward(fn, q, k, v, mask), repeats)
    return times


def main(argv=None) -> dict:
    args = parse_args(__doc__.splitlines()[0], argv)
    repeats = args.repeats
    N, nh, L, d_k = (2, 2, 8, 4) if args.quick else (8, 4, 256, 32)
    results = {}
    print(f"scaled dot-product attention N={N}, nh={nh}, L={L}, d_k={d_k}, float32, one thread, "
          f"best of {repeats}:")
    with one_thread():
        for label, mask in (("no mask", None), ("causal mask", causal_mask(L))):
            times = compare(N, nh, L, d_k, mask, repeats)
            for kind in ("forward", "forward + backward"):
                t_ours, t_torch = times[kind, "ours"], times[kind, "torch"]
                key = f"{label}, {kind}"
                results[key] = t_ours / t_torch
                print(f"  {key:32s} ours {1e3 * t_ours:8.3f} ms   F.sdpa {1e3 * t_torch:8.3f} ms   "
                      f"ratio {results[key]:5.2f}")
    return results


if __name__ == "__main__":
    main()
