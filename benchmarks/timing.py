"""Timing shared by the benchmark scripts (run them as ``python benchmarks/bench_*.py``)."""
import argparse
import contextlib
import time

import torch
from threadpoolctl import threadpool_limits


def parse_args(description: str, argv=None) -> argparse.Namespace:
    """The options every benchmark takes: ``--quick`` (tiny sizes, 1 repeat: the smoke test) and
    ``--repeats``; ``args.repeats`` is already 1 under ``--quick``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="tiny sizes and 1 repeat (smoke test)")
    parser.add_argument("--repeats", type=int, default=20, help="timed calls per function (best kept)")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats = 1
    return args


@contextlib.contextmanager
def one_thread():
    """torch and NumPy's BLAS on one thread inside the block; torch's setting is restored after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        torch.set_num_threads(threads)


def best_time(fn, repeats: int) -> float:
    """The fastest of ``repeats`` calls of ``fn()`` in seconds, after one warm-up call.

    The minimum, not the mean: on a shared machine every disturbance only adds time, so the
    fastest run is the best estimate of what the code itself costs.
    """
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)
