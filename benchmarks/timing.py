"""Timing shared by the benchmark scripts (run them as ``python benchmarks/bench_*.py``)."""
import time


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
