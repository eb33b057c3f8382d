"""Kernel pins and the choice of notebook lane (strict or lax), on simulated machines."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from companion import kernels, utils
from companion.kernels import KERNEL_PINS, Lane, choose_lane, pin_problems, version_drift

ROOT = Path(__file__).resolve().parents[1]
PINNED = {"numpy": "2.3.5", "torch": "2.13.0"}


def test_strict_on_linux_x86_64_with_avx2_and_the_pinned_versions():
    for capability in ("AVX2", "AVX512"):
        lane = choose_lane("Linux", "x86_64", capability, drift=[])
        assert lane.mode == "strict" and lane.nbval_flag == "--nbval"


@pytest.mark.parametrize("system, machine", [("Darwin", "arm64"), ("Linux", "aarch64"),
                                             ("Windows", "AMD64"), ("Darwin", "x86_64")])
def test_lax_elsewhere_with_the_platform_named(system, machine):
    lane = choose_lane(system, machine, "AVX2", drift=[])
    assert lane.mode == "lax" and lane.nbval_flag == "--nbval-lax"
    assert f"{system} {machine}" in lane.reason and str(lane).startswith("lax: ")


def test_lax_on_an_x86_64_cpu_without_avx2():
    lane = choose_lane("Linux", "x86_64", "DEFAULT", drift=[])
    assert lane.mode == "lax" and "no AVX2" in lane.reason and "DEFAULT" in lane.reason


def test_lax_on_version_drift_names_the_packages():
    installed = {"numpy": "2.5.2", "torch": "2.11.0+cu130"}.get
    drift = version_drift(PINNED, installed=installed)
    assert drift == ["numpy 2.5.2 (pinned 2.3.5)", "torch 2.11.0+cu130 (pinned 2.13.0)"]
    lane = choose_lane("Linux", "x86_64", "AVX512", drift=drift)
    assert lane.mode == "lax" and "numpy 2.5.2 (pinned 2.3.5)" in lane.reason
    many = [f"pkg{i} 1 (pinned 2)" for i in range(9)]
    assert "and 3 more" in choose_lane("Linux", "x86_64", "AVX2", drift=many).reason


def test_drift_ignores_build_labels_and_missing_packages():
    installed = {"numpy": "2.3.5", "torch": "2.13.0+cpu"}.get
    assert version_drift(PINNED, installed=installed) == []
    assert version_drift({"not-a-package": "1.0"}) == []


def test_constraints_are_read_with_normalised_names():
    pins = kernels.read_constraints()
    assert pins["torch"] == "2.13.0" and "scikit-learn" in pins and "jupyter-client" in pins


@pytest.mark.skipif(Path(sys.prefix).resolve() != (ROOT / ".venv").resolve(),
                    reason="only the Makefile's .venv is installed from constraints.txt")
def test_the_makefile_environment_has_no_drift():
    assert version_drift() == [], "make install should give exactly constraints.txt"


def test_pin_problems_name_each_missing_variable_and_wrong_kernel():
    assert pin_problems(dict(KERNEL_PINS), "AVX2", ["Haswell"]) == []
    problems = pin_problems({}, "AVX512", ["SkylakeX", "SkylakeX"])
    assert len(problems) == len(KERNEL_PINS) + 2
    assert "ATEN_CPU_CAPABILITY=<unset> (expected avx2)" in problems
    assert any("torch runs AVX512 kernels" in p for p in problems)
    assert any("OpenBLAS runs SkylakeX kernels" in p for p in problems)


def test_pins_are_in_effect_in_this_test_process():
    # the root conftest.py sets them before NumPy and torch load, as the Makefile does
    assert pin_problems() == []
    assert all(os.environ[name] == value for name, value in KERNEL_PINS.items())


def test_makefile_exports_the_same_pins():
    makefile = (ROOT / "Makefile").read_text()
    exported = dict(re.findall(r"^export (\w+) := (\S+)$", makefile, flags=re.M))
    assert {k: exported.get(k) for k in KERNEL_PINS} == KERNEL_PINS
    # make test picks the nbval flag from `python -m companion lane`
    assert "-m companion lane" in makefile and "strict*) mode=--nbval" in makefile


def test_setup_warns_when_the_pins_are_not_in_effect(monkeypatch):
    monkeypatch.setattr(kernels, "pin_problems", lambda: ["ATEN_CPU_CAPABILITY=<unset>"])
    with pytest.warns(utils.KernelPinWarning, match="ATEN_CPU_CAPABILITY=<unset>.*make lab"):
        utils.setup()


def test_lane_command_prints_one_line():
    result = subprocess.run([sys.executable, "-m", "companion", "lane"], capture_output=True,
                            text=True, cwd=ROOT)
    assert result.returncode == 0 and result.stdout.startswith(("strict: ", "lax: "))
    assert result.stdout.count("\n") == 1


def test_lane_is_a_value():
    assert str(Lane("strict", "why")) == "strict: why"
