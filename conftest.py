"""Root pytest configuration, shared by the unit tests and the nbval notebook run."""
import os

# Library code reads these; the Makefile sets them too, this makes a bare `pytest` behave alike.
os.environ.setdefault("COURSE_PROGRESS", "0")
os.environ.setdefault("COURSE_THREADS", "1")
