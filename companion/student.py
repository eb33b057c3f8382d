"""Student notebooks: the instructor notebooks with the exercise solutions taken out.

An exercise's solution sits in a code cell (tagged ``solution``) between nbgrader's markers::

    def relu(x):
        ### BEGIN SOLUTION
        return np.maximum(x, 0)
        ### END SOLUTION

The student version replaces each region, markers included, at the marker's indentation with::

        # YOUR CODE HERE
        raise NotImplementedError("Exercise: write your solution here")

and clears every output, execution count and per-cell timing.
"""
from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

from companion.course import find_notebooks

__all__ = ["strip_solutions", "make_student_notebook", "build_student_notebooks"]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
SOLUTION_TAG = "solution"
STUB = ("# YOUR CODE HERE", 'raise NotImplementedError("Exercise: write your solution here")')

_BEGIN = re.compile(r"^(\s*)###\s*BEGIN SOLUTION\b")
_END = re.compile(r"^\s*###\s*END SOLUTION\b")


def strip_solutions(source: str) -> str:
    """Replace every ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region with the stub.

    Args:
        source: the text of one code cell.
    Returns:
        The text with each region (markers included) replaced by ``# YOUR CODE HERE`` and
        ``raise NotImplementedError(...)`` at the indentation of its BEGIN marker; every other
        line is kept as it was.
    Raises:
        ValueError: a BEGIN without END, an END without BEGIN, or a BEGIN inside an open region;
            the message gives the line number (1-based) and what was expected there.
    """
    out: list[str] = []
    opened = None  # (line number, indentation) of the open region's BEGIN marker
    for number, line in enumerate(source.split("\n"), start=1):
        begin = _BEGIN.match(line)
        if begin and opened is not None:
            raise ValueError(f"strip_solutions: line {number}: found another '{BEGIN}' inside the "
                             f"region opened on line {opened[0]}; expected '{END}' first")
        if begin:
            opened = (number, begin.group(1))
        elif _END.match(line):
            if opened is None:
                raise ValueError(f"strip_solutions: line {number}: found '{END}' with no open "
                                 f"region; expected a '{BEGIN}' before it")
            out.extend(opened[1] + stub for stub in STUB)
            opened = None
        elif opened is None:
            out.append(line)
    if opened is not None:
        raise ValueError(f"strip_solutions: line {opened[0]}: '{BEGIN}' is never closed; "
                         f"expected '{END}' before the end of the cell")
    return "\n".join(out)


def _has_region(source: str) -> bool:
    return any(_BEGIN.match(line) for line in source.split("\n"))


def make_student_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student version of an instructor notebook, as a new notebook (``nb`` is untouched).

    Solutions are stripped from every code cell that has markers; outputs, execution counts and
    ``metadata.execution`` timings are cleared.

    Raises:
        ValueError: a cell's markers are unbalanced, or a cell tagged ``solution`` has no
            solution region (its answer would reach the learner); the message names the cell.
    """
    student = copy.deepcopy(nb)
    for index, cell in enumerate(student.cells):
        if cell.cell_type != "code":
            continue
        tagged = SOLUTION_TAG in cell.metadata.get("tags", [])
        if tagged and not _has_region(cell.source):
            raise ValueError(f"make_student_notebook: cell {index} is tagged '{SOLUTION_TAG}' but "
                             f"has no '{BEGIN}' ... '{END}' region; expected one around the answer")
        try:
            cell.source = strip_solutions(cell.source)
        except ValueError as exc:
            raise ValueError(f"make_student_notebook: cell {index}: {exc}") from exc
        cell.outputs = []
        cell.execution_count = None
        cell.metadata.pop("execution", None)
    return student


def build_student_notebooks(src_root, out_dir) -> list[Path]:
    """Write the student version of every notebook under ``src_root`` into ``out_dir``.

    Each notebook keeps its path relative to ``src_root``
    (``01_fundamentals/02_loss_functions.ipynb``). ``out_dir`` must lie outside ``src_root``, so
    the instructor notebooks are never overwritten.

    Returns:
        The written paths, in the order of ``companion.course.find_notebooks(src_root)``.
    Raises:
        ValueError: ``out_dir`` is inside ``src_root``, or a notebook cannot be read or converted
            (the message names the file).
    """
    src, out = Path(src_root), Path(out_dir)
    if out.resolve() == src.resolve() or src.resolve() in out.resolve().parents:
        raise ValueError(f"build_student_notebooks: out_dir must be outside src_root {src}; "
                         f"got {out}")
    written = []
    for path in find_notebooks(src):
        target = out / path.relative_to(src)
        try:
            student = make_student_notebook(nbformat.read(path, as_version=4))
        except (OSError, ValueError) as exc:  # NotJSONError is a ValueError
            raise ValueError(f"build_student_notebooks: {path}: {exc}") from exc
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(student, target)
        written.append(target)
    return written
