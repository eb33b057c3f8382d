"""Every benchmark script runs (in its --quick mode): a broken benchmark is found by the tests.

Nothing here measures speed; the scripts print timings and ratios for `make bench`.
"""
import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
SCRIPTS = sorted(BENCHMARKS.glob("bench_*.py"))


def _load(path: Path):
    if str(BENCHMARKS) not in sys.path:  # the scripts import their shared timing.py as run directly
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_there_are_benchmarks():
    assert SCRIPTS, "benchmarks/ holds no bench_*.py script"


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.stem)
def test_benchmark_runs_quick(path, capsys):
    _load(path).main(["--quick"])
    out = capsys.readouterr().out
    assert "ratio" in out, f"{path.name} should print its ratio to the reference"
