"""Root pytest configuration, shared by the unit tests and the nbval notebook run."""
import os
import runpy
from pathlib import Path

# Library code reads these; the Makefile sets them too, this makes a bare `pytest` behave alike.
os.environ.setdefault("COURSE_PROGRESS", "0")
os.environ.setdefault("COURSE_THREADS", "1")
# one BLAS/OpenMP thread, as `make test` exports (set before any test module imports torch)
os.environ.setdefault("OMP_NUM_THREADS", os.environ["COURSE_THREADS"])
# The CPU kernel pins, as the Makefile exports them. Read from the file, not through
# `import companion`, which would load NumPy before OPENBLAS_CORETYPE is set. The notebook
# kernels that nbval starts inherit this environment.
_PINS = runpy.run_path(str(Path(__file__).parent / "companion" / "kernels.py"))["KERNEL_PINS"]
for _name, _value in _PINS.items():
    os.environ.setdefault(_name, _value)


def pytest_terminal_summary(terminalreporter):
    """After a notebook run, each notebook's time (its cells' setup, call and teardown summed)."""
    seconds = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            path = getattr(report, "nodeid", "").split("::")[0]
            if path.endswith(".ipynb"):
                seconds[path] = seconds.get(path, 0.0) + getattr(report, "duration", 0.0)
    if seconds:
        terminalreporter.section("notebook times")
        for path, total in sorted(seconds.items(), key=lambda item: -item[1]):
            terminalreporter.write_line(f"{total:6.1f} s  {path}")
