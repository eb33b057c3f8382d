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
