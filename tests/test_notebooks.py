"""Lint every stored notebook: the conventions of shared/NOTEBOOKS.md, checked without running it.

(nbval runs the notebooks and compares outputs; this checks what a stored notebook must hold.)
"""
import json
import re
from pathlib import Path

import nbformat
import pytest

from companion.course import find_notebooks, notebooks_dir

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = find_notebooks(notebooks_dir(ROOT))
MAX_BYTES = 1_500_000
MACHINE_PATH = re.compile(r"/(root|home|Users|work|tmp)/|ipykernel_\d+|[A-Z]:\\\\Users")
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]{6,}")
CHECK_CALL = re.compile(r"\bcheck_\w*\(")
ids = [str(p.relative_to(ROOT)) for p in NOTEBOOKS]


def _code(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def _tags(cell):
    return set(cell.get("metadata", {}).get("tags", []))


def test_there_is_at_least_the_welcome_notebook():
    assert (ROOT / "notebooks" / "00_welcome.ipynb") in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_valid_small_and_clean_metadata(path):
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size} bytes; keep figures small"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert "widgets" not in nb.metadata, "widget state is stored; clear it"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
    for cell in _code(nb):
        assert "execution" not in cell.metadata, "per-cell timing metadata is stored"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_executed_top_to_bottom_without_errors_or_machine_details(path):
    nb = nbformat.read(path, as_version=4)
    counts = [c.execution_count for c in _code(nb) if c.source.strip()]
    assert counts == list(range(1, len(counts) + 1)), "not run top to bottom in one fresh kernel"
    for cell in _code(nb):
        for out in cell.outputs:
            assert out.output_type != "error", f"stored error: {out.get('ename')}"
            assert out.get("name") != "stderr", f"stderr stored (a warning?): {out.get('text', '')[:200]}"
            text = json.dumps(out.get("text", "")) + json.dumps(out.get("data", {}).get("text/plain", ""))
            assert not MACHINE_PATH.search(text), f"machine path in output: {text[:200]}"
            assert not ADDRESS.search(text), f"object address in output: {text[:200]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_has_objectives_setup_exercises_and_flashcards(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert "objectives" in nb.cells[0].source.lower()
    setup = _code(nb)[0].source
    assert setup.startswith("# NBVAL_IGNORE_OUTPUT") and "companion.setup(" in setup
    code = _code(nb)
    solutions = [i for i, c in enumerate(code) if "solution" in _tags(c)]
    assert len(solutions) >= 3, "needs at least three exercises"
    for i in solutions:
        assert "### BEGIN SOLUTION" in code[i].source and "### END SOLUTION" in code[i].source
        after = code[i + 1].source if i + 1 < len(code) else ""
        assert CHECK_CALL.search(after), f"solution cell {i} is not followed by a checker call"
    cards = [c for c in nb.cells if c.cell_type == "markdown" and "flashcards" in _tags(c)]
    assert cards and "# Front" in cards[0].source and "# Back" in cards[0].source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_listed_in_the_readme_chapter_table(path):
    readme = (ROOT / "README.md").read_text()
    assert f"`{path.relative_to(ROOT).as_posix()}`" in readme
