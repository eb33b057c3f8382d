"""Root pytest configuration, shared by the unit tests and the nbval notebook run."""
import os

# Library code reads these; the Makefile sets them too, this makes a bare `pytest` behave alike.
os.environ.setdefault("COURSE_PROGRESS", "0")
os.environ.setdefault("COURSE_THREADS", "1")
# one BLAS/OpenMP thread, as `make test` exports (set before any test module imports torch)
os.environ.setdefault("OMP_NUM_THREADS", os.environ["COURSE_THREADS"])
