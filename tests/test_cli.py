"""The command line and the course registry."""
import subprocess
import sys

import pytest

from companion import cli, course


def test_registry_matches_the_course_map():
    names = [n for ch in course.CHAPTERS for n in ch.notebooks]
    assert len(names) == 29 and len(set(names)) == 29
    # numbered 01..28 in course order after the welcome notebook
    assert [n[:2] for n in names[1:]] == [f"{i:02d}" for i in range(1, 29)]
    assert course.notebooks_dir().name == "notebooks"


def test_every_existing_notebook_is_in_the_registry():
    planned = {path.resolve() for _, _, path in course.planned_notebooks()}
    for nb in course.find_notebooks():
        assert nb.resolve() in planned, f"{nb} is not in companion.course.CHAPTERS"


def test_notebooks_dir_error(tmp_path, monkeypatch):
    monkeypatch.setattr(course, "__file__", str(tmp_path / "x" / "course.py"))
    with pytest.raises(FileNotFoundError, match="no course notebooks/ folder found above"):
        course.notebooks_dir(tmp_path)


def test_list_shows_ready_and_planned(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "00 Welcome" in out and "ready   notebooks/00_welcome.ipynb" in out
    assert "companion.activations" in out


def test_doctor_reports_versions_device_threads_and_data(capsys):
    code = cli.main(["doctor"])
    out = capsys.readouterr().out
    for word in ("torch", "gensim", "device", "threads", "data", "notebooks"):
        assert word in out
    assert code == 0 and "All good." in out


def test_doctor_flags_a_corrupted_file(monkeypatch, capsys):
    from companion import data

    key = ("sklearn", "datasets/data/iris.csv")
    monkeypatch.setitem(data.PACKAGED_FILES, key, (1, "0" * 64))
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "PROBLEM: data file" in out and "iris.csv" in out


def test_student_and_flashcards_commands(tmp_path, capsys):
    assert cli.main(["student", "--out", str(tmp_path / "student")]) == 0
    assert (tmp_path / "student" / "00_welcome.ipynb").is_file()
    assert cli.main(["flashcards", "--out", str(tmp_path / "cards")]) == 0
    assert (tmp_path / "cards" / "flashcards.csv").is_file()
    assert "card(s)" in capsys.readouterr().out


def test_module_entry_point_runs():
    result = subprocess.run([sys.executable, "-m", "companion", "list"], capture_output=True, text=True)
    assert result.returncode == 0 and "Fundamentals" in result.stdout
    bad = subprocess.run([sys.executable, "-m", "companion", "fly"], capture_output=True, text=True)
    assert bad.returncode == 2 and "invalid choice: 'fly'" in bad.stderr
