"""Time companion.recurrent.LSTM against torch.nn.LSTM, forward + backward (a script, not a test).

Run it from the repository root:

    .venv/bin/python benchmarks/bench_lstm.py            # L=50, N=32, I=32, H=64, 20 repeats
    .venv/bin/python benchmarks/bench_lstm.py --quick    # tiny sizes, 1 repeat (the smoke test)

On one CPU thread and in float32 it times one forward pass and the backward pass of the sum of
the outputs and final states, for ours (a Python loop over time around torch ops: one matmul
for the input projection of all steps, then one matmul and a few elementwise ops per step) and
for ``nn.LSTM`` (a fused C++ kernel), with the same weights, after checking both agree. It prints
the best-of-``repeats`` times and their ratio. Timings vary with the machine and its load:
nothing here asserts a time.
"""
from __future__ import annotations

import torch
from torch import nn

from companion.recurrent import LSTM
from timing import best_time, one_thread, parse_args  # benchmarks/timing.py, next to this script


def forward_backward(module, x):
    """One forward and one backward pass; returns the outputs and gradients for the check."""
    module.zero_grad()
    x = x.detach().requires_grad_()
    output, (h_n, c_n) = module(x)
    (output.sum() + h_n.sum() + c_n.sum()).backward()
    return [output, h_n, c_n, x.grad] + [p.grad for p in module.parameters()]


def compare(L, N, I, H, num_layers, repeats, seed=0):
    """Times (ours, torch) in seconds for one shape; checks outputs and gradients agree first."""
    torch.manual_seed(seed)
    ref = nn.LSTM(I, H, num_layers)
    ours = LSTM.from_torch(ref)
    x = torch.randn(L, N, I)
    for a, b in zip(forward_backward(ours, x), forward_backward(ref, x)):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)  # float32
    return best_time(lambda: forward_backward(ours, x), repeats), \
        best_time(lambda: forward_backward(ref, x), repeats)


def main(argv=None) -> dict:
    args = parse_args(__doc__.splitlines()[0], argv)
    repeats = args.repeats
    L, N, I, H = (5, 2, 3, 4) if args.quick else (50, 32, 32, 64)
    with one_thread():
        t_ours, t_torch = compare(L, N, I, H, 1, repeats)
    results = {"lstm_vs_torch": t_ours / t_torch}
    print(f"LSTM L={L}, N={N}, I={I}, H={H}, float32, forward + backward, one thread, "
          f"best of {repeats}:")
    print(f"  companion.recurrent.LSTM {1e3 * t_ours:9.3f} ms")
    print(f"  nn.LSTM                  {1e3 * t_torch:9.3f} ms")
    print(f"  ratio ours / nn.LSTM     {results['lstm_vs_torch']:9.2f}")
    return results


if __name__ == "__main__":
    main()
