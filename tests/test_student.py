"""Tests for companion.student: solution stripping and student-notebook builds."""
from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from companion import course
from companion.student import build_student_notebooks, make_student_notebook, strip_solutions

EXERCISE = '''import numpy as np


def relu(x):
    """Elementwise max(0, x)."""
    ### BEGIN SOLUTION
    secret = np.maximum(x, 0)
    return secret
    ### END SOLUTION


check_relu(relu)
'''

STUB = ('    # YOUR CODE HERE\n'
        '    raise NotImplementedError("Exercise: write your solution here")\n')


def instructor_notebook():
    solution = new_code_cell(EXERCISE, metadata={"tags": ["solution"], "execution": {
        "iopub.execute_input": "2024-01-01T00:00:00Z"}}, execution_count=3,
        outputs=[new_output("stream", name="stdout", text="relu: correct\n")])
    plain = new_code_cell("print(1 + 1)", execution_count=4,
                          outputs=[new_output("stream", name="stdout", text="2\n")])
    return new_notebook(cells=[new_markdown_cell("# Lesson"), solution, plain])


# ----------------------------------------------------------------------------- strip_solutions

def test_region_replaced_at_its_indentation():
    stripped = strip_solutions(EXERCISE)
    assert STUB in stripped
    assert "secret" not in stripped
    assert "SOLUTION" not in stripped
    assert stripped.startswith('import numpy as np\n\n\ndef relu(x):\n    """Elementwise')
    assert stripped.endswith("\n\ncheck_relu(relu)\n")


def test_top_level_and_several_regions():
    source = "a = 1\n### BEGIN SOLUTION\nb = 2\n### END SOLUTION\nc = 3\n" \
             "if c:\n        ### BEGIN SOLUTION\n        d = 4\n        ### END SOLUTION"
    assert strip_solutions(source) == (
        'a = 1\n# YOUR CODE HERE\nraise NotImplementedError("Exercise: write your solution here")'
        '\nc = 3\nif c:\n        # YOUR CODE HERE\n'
        '        raise NotImplementedError("Exercise: write your solution here")')


def test_source_without_markers_is_unchanged():
    source = "x = 1\n# BEGIN SOLUTION is mentioned in a comment\nprint('### END')\n"
    assert strip_solutions(source) == source


@pytest.mark.parametrize("source, message", [
    ("x = 1\n  ### BEGIN SOLUTION\ny = 2\n",
     r"line 2: '### BEGIN SOLUTION' is never closed; expected '### END SOLUTION'"),
    ("x = 1\ny = 2\n### END SOLUTION\n",
     r"line 3: found '### END SOLUTION' with no open region; expected a '### BEGIN SOLUTION'"),
    ("### BEGIN SOLUTION\nx\n### BEGIN SOLUTION\ny\n### END SOLUTION\n### END SOLUTION\n",
     r"line 3: found another '### BEGIN SOLUTION' inside the region opened on line 1; "
     r"expected '### END SOLUTION' first"),
])
def test_unbalanced_markers_raise(source, message):
    with pytest.raises(ValueError, match=message):
        strip_solutions(source)


# ----------------------------------------------------------------------------- notebooks

def test_student_notebook_strips_and_clears_without_touching_input():
    nb = instructor_notebook()
    before = copy.deepcopy(nb)
    student = make_student_notebook(nb)
    assert nb == before
    assert student is not nb
    assert isinstance(student, nbformat.NotebookNode)
    solution = student.cells[1]
    assert "secret" not in solution.source and STUB in solution.source
    assert solution.metadata == {"tags": ["solution"]}
    for cell in student.cells[1:]:
        assert cell.outputs == [] and cell.execution_count is None
    assert student.cells[2].source == "print(1 + 1)"
    assert student.cells[0] == nb.cells[0]
    nbformat.validate(student)


def test_solution_tagged_cell_without_region_raises():
    nb = new_notebook(cells=[new_code_cell("answer = 42", metadata={"tags": ["solution"]})])
    with pytest.raises(ValueError, match=r"cell 0 is tagged 'solution' but has no "
                                         r"'### BEGIN SOLUTION' \.\.\. '### END SOLUTION' region"):
        make_student_notebook(nb)


def test_notebook_error_names_the_cell():
    nb = new_notebook(cells=[new_markdown_cell("hi"), new_code_cell("### END SOLUTION")])
    with pytest.raises(ValueError, match=r"make_student_notebook: cell 1: strip_solutions: line 1"):
        make_student_notebook(nb)


def test_build_over_a_tree_keeps_relative_paths(tmp_path):
    src = tmp_path / "notebooks"
    for rel in ("00_welcome.ipynb", "01_fundamentals/02_loss_functions.ipynb"):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(instructor_notebook(), src / rel)
    written = build_student_notebooks(src, tmp_path / "student")
    assert [p.relative_to(tmp_path / "student").as_posix() for p in written] == [
        "00_welcome.ipynb", "01_fundamentals/02_loss_functions.ipynb"]
    for path in written:
        nb = nbformat.read(path, as_version=4)
        assert "secret" not in nb.cells[1].source and STUB in nb.cells[1].source
        assert all(c.get("outputs", []) == [] for c in nb.cells)
    assert "secret" in (src / "00_welcome.ipynb").read_text(encoding="utf-8")


def test_build_error_names_the_file(tmp_path):
    src = tmp_path / "notebooks"
    src.mkdir()
    nbformat.write(new_notebook(cells=[new_code_cell("### BEGIN SOLUTION\nx = 1")]),
                   src / "07_reg.ipynb")
    with pytest.raises(ValueError, match=r"build_student_notebooks: .*07_reg\.ipynb: .*line 1"):
        build_student_notebooks(src, tmp_path / "out")
    (src / "07_reg.ipynb").write_text("not json", encoding="utf-8")
    with pytest.raises(ValueError, match=r"build_student_notebooks: .*07_reg\.ipynb"):
        build_student_notebooks(src, tmp_path / "out")


def test_build_refuses_to_write_inside_the_sources(tmp_path):
    with pytest.raises(ValueError, match=r"out_dir must be outside src_root"):
        build_student_notebooks(tmp_path, tmp_path / "student")
    with pytest.raises(ValueError, match=r"out_dir must be outside src_root"):
        build_student_notebooks(tmp_path, tmp_path)


# ----------------------------------------------------------------------------- real course

_MARKER = re.compile(r"(BEGIN|END) SOLUTION")


def solution_regions(nb) -> list[list[str]]:
    """The lines inside each marked region, found independently of companion.student."""
    regions, current = [], None
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for line in cell.source.splitlines():
            marker = _MARKER.search(line)
            if marker and marker.group(1) == "BEGIN":
                current = []
            elif marker:
                regions.append(current or [])
                current = None
            elif current is not None:
                current.append(line.strip())
    return regions


def notebook_lines(nb) -> set[str]:
    """Every stripped line of every source and text output of the notebook."""
    texts = [cell.source for cell in nb.cells]
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            texts.append(str(output.get("text", "")) + str(output.get("data", {})))
    return {line.strip() for text in texts for line in text.splitlines()}


def solution_problems(root: Path, out: Path) -> list[str]:
    """Build the student notebooks of ``root`` into ``out``; list every leak or missing region."""
    build_student_notebooks(root, out)
    problems = []
    for original_path in course.find_notebooks(root):
        student_path = out / original_path.relative_to(root)
        original = nbformat.read(original_path, as_version=4)
        student = nbformat.read(student_path, as_version=4)
        regions = solution_regions(original)
        if not regions and any("solution" in c.metadata.get("tags", []) for c in original.cells):
            problems.append(f"{original_path}: a 'solution' cell but no solution region")
        # a line that also occurs outside every region (`return out`) may stay in the student copy
        new_lines = notebook_lines(student) - notebook_lines(copy_without_regions(original))
        leaked = {line for region in regions for line in region
                  if line and not line.startswith("#")} & new_lines
        if leaked:
            problems.append(f"{student_path}: solution lines survive: {sorted(leaked)}")
    return problems


def test_leak_checker_catches_an_unrecognised_marker(tmp_path):
    src = tmp_path / "notebooks"
    (src / "01").mkdir(parents=True)
    nbformat.write(instructor_notebook(), src / "01" / "good.ipynb")
    leaky = EXERCISE.replace("### BEGIN", "#### BEGIN").replace("### END", "#### END")
    nbformat.write(new_notebook(cells=[new_code_cell(leaky)]), src / "01" / "leaky.ipynb")
    (problem,) = solution_problems(src, tmp_path / "student")
    assert "leaky.ipynb: solution lines survive" in problem and "return secret" in problem


def test_no_solution_text_survives_in_course_notebooks(tmp_path):
    try:
        root = course.notebooks_dir(Path(__file__).parent)
    except FileNotFoundError:
        pytest.skip("no course notebooks/ folder yet")
    assert solution_problems(root, tmp_path / "student") == []


def copy_without_regions(nb):
    """The notebook's sources with every marked region's lines removed (outputs dropped)."""
    kept = []
    for cell in nb.cells:
        inside, lines = False, []
        for line in cell.source.splitlines():
            marker = _MARKER.search(line) if cell.cell_type == "code" else None
            if marker:
                inside = marker.group(1) == "BEGIN"
            elif not inside:
                lines.append(line)
        kept.append(new_markdown_cell("\n".join(lines)))
    return new_notebook(cells=kept)
