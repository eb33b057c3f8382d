"""Install paths: pyproject, environment.yml, constraints, Makefile and CI stay consistent."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONDA_TO_PYPI = {"pytorch": "torch"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower()


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _conda_dependencies() -> set[str]:
    names, in_pip = set(), False
    text = (ROOT / "environment.yml").read_text()
    for line in text[text.index("dependencies:"):].splitlines():
        stripped = line.strip()
        if stripped.startswith("- pip:"):
            in_pip = True
            continue
        if not stripped.startswith("- ") or stripped.startswith("- -e"):
            continue
        name = _name(stripped[2:])
        if name in ("python", "pip") and not in_pip:
            continue
        names.add(CONDA_TO_PYPI.get(name, name))
    return names


def test_environment_yml_lists_the_runtime_dependencies_of_pyproject():
    runtime = {_name(r) for r in _pyproject()["project"]["dependencies"]}
    assert _conda_dependencies() == runtime


def test_every_dependency_is_pinned_in_constraints():
    pins = {_name(line): line for line in (ROOT / "constraints.txt").read_text().splitlines()
            if line and not line.startswith("#")}
    project = _pyproject()["project"]
    wanted = project["dependencies"] + [r for extra in project["optional-dependencies"].values()
                                        for r in extra]
    for requirement in wanted:
        assert "==" in pins.get(_name(requirement), ""), f"{requirement} is not pinned in constraints.txt"
    assert pins["torch"] == "torch==2.13.0"


def test_install_path_pins_torch_before_anything_else():
    makefile = (ROOT / "Makefile").read_text()
    torch_line = makefile.index("pip install --quiet torch==2.13.0")
    assert torch_line < makefile.index("pip install --quiet -c constraints.txt")


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme
    assert re.search(r"^make test$", ci, re.M)


def test_every_companion_subpackage_is_in_the_distribution():
    from setuptools import find_packages

    include = _pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]
    packaged = set(find_packages(where=ROOT, include=include))
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "companion").rglob("__init__.py")}
    assert on_disk <= packaged, f"not packaged: {sorted(on_disk - packaged)}"
    assert packaged <= on_disk, f"packaged but not companion: {sorted(packaged - on_disk)}"
