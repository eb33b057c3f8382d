"""Which compute kernels run, and whether stored notebook outputs can be compared strictly here.

The same float program can print different last digits on two x86-64 CPUs: torch's ATen picks
vectorised kernels by instruction set, MKL takes other code paths on Intel and AMD, oneDNN picks
by ISA, and the OpenBLAS inside NumPy and SciPy picks a "core type". :data:`KERNEL_PINS` fixes
each of those choices to AVX2, which every x86-64 CPU of the last decade has. The Makefile exports
the pins, the root ``conftest.py`` sets them for a bare ``pytest``, and :func:`pin_problems` says
whether they are in effect in a running process (``companion.setup()`` and ``python -m companion
doctor`` report it).

:func:`choose_lane` decides how ``make test`` compares notebooks: ``strict`` (every output
against the stored one) where the outputs were made to hold (Linux on x86-64 with AVX2 and the
versions of ``constraints.txt``), else ``lax`` (in-cell assertions only), with the reason.

This module imports only the standard library at the top: the root ``conftest.py`` reads
:data:`KERNEL_PINS` before NumPy or torch is loaded, since the pins work only if they are set
before those libraries start.
"""
from __future__ import annotations

import importlib.metadata
import os
import platform
import re
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["KERNEL_PINS", "Lane", "pin_problems", "choose_lane", "version_drift",
           "read_constraints"]

#: Environment variables that fix each library's kernel choice to AVX2 paths.
#: ATEN_CPU_CAPABILITY: torch's vectorised ATen kernels; ONEDNN_MAX_CPU_ISA: oneDNN (torch's
#: convolutions); MKL_ENABLE_INSTRUCTIONS and MKL_CBWR: MKL (torch's matrix products), the latter
#: asking for MKL's "conditional numerical reproducibility" branch, the same on Intel and AMD;
#: OPENBLAS_CORETYPE: the OpenBLAS shipped inside NumPy and SciPy (Haswell = AVX2 kernels).
KERNEL_PINS = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "MKL_ENABLE_INSTRUCTIONS": "AVX2",
    "MKL_CBWR": "AVX2",
    "OPENBLAS_CORETYPE": "Haswell",
}

_X86_64 = ("x86_64", "amd64")
_REPO = Path(__file__).resolve().parents[1]


def _is_x86_64(machine: str | None = None) -> bool:
    return (machine if machine is not None else platform.machine()).lower() in _X86_64


def pin_problems(environ=None, torch_capability: str | None = None,
                 openblas_cores: list[str] | None = None) -> list[str]:
    """What keeps the kernel pins from being in effect in this process; empty when all hold.

    Checks the environment variables and, where the libraries are already loaded, what they
    actually picked: torch's ATen capability and each OpenBLAS pool's core type (read with
    threadpoolctl). On a CPU that is not x86-64 the pins do not apply and nothing is reported.
    The keyword arguments stand in for the live values (tests use them).
    """
    if not _is_x86_64():
        return []
    env = os.environ if environ is None else environ
    problems = [f"{name}={env.get(name, '<unset>')} (expected {value})"
                for name, value in KERNEL_PINS.items() if env.get(name) != value]
    if torch_capability is None and "torch" in sys.modules:
        torch_capability = sys.modules["torch"].backends.cpu.get_cpu_capability()
    if torch_capability is not None and torch_capability != "AVX2":
        problems.append(f"torch runs {torch_capability} kernels (expected AVX2: "
                        "ATEN_CPU_CAPABILITY must be set before torch is imported)")
    if openblas_cores is None and "numpy" in sys.modules:
        from threadpoolctl import threadpool_info

        openblas_cores = [info.get("architecture", "?") for info in threadpool_info()
                          if info.get("internal_api") == "openblas"]
    for core in openblas_cores or []:
        if core != KERNEL_PINS["OPENBLAS_CORETYPE"]:
            problems.append(f"OpenBLAS runs {core} kernels (expected Haswell: "
                            "OPENBLAS_CORETYPE must be set before NumPy is imported)")
            break
    return problems


def read_constraints(path: Path | None = None) -> dict[str, str]:
    """``{normalised name: version}`` of every ``name==version`` line of ``constraints.txt``."""
    path = _REPO / "constraints.txt" if path is None else Path(path)
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[_normalise(name)] = version.strip()
    return pins


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).strip().lower()


def _installed_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def version_drift(pins: dict[str, str] | None = None, installed=_installed_version) -> list[str]:
    """``"name installed (pinned X)"`` for each pinned package installed at another version.

    A local build label is ignored (torch ``2.13.0+cpu`` matches ``2.13.0``); a pinned package
    that is not installed is not drift (the tests that need it say so themselves).
    """
    pins = read_constraints() if pins is None else pins
    drift = []
    for name, wanted in sorted(pins.items()):
        have = installed(name)
        if have is not None and have.split("+", 1)[0] != wanted.split("+", 1)[0]:
            drift.append(f"{name} {have} (pinned {wanted})")
    return drift


@dataclass(frozen=True)
class Lane:
    """How notebooks are compared: ``mode`` is ``"strict"`` or ``"lax"``; ``reason`` says why."""

    mode: str
    reason: str

    @property
    def nbval_flag(self) -> str:
        return "--nbval" if self.mode == "strict" else "--nbval-lax"

    def __str__(self) -> str:
        return f"{self.mode}: {self.reason}"


def choose_lane(system: str | None = None, machine: str | None = None,
                torch_capability: str | None = None, drift: list[str] | None = None) -> Lane:
    """Strict where the stored outputs were made to hold, lax (with the reason) elsewhere.

    Strict needs Linux, an x86-64 CPU with AVX2 (torch reports ``AVX2`` or ``AVX512`` kernels)
    and the package versions of ``constraints.txt``. The arguments stand in for the live values
    (tests use them to simulate other machines).
    """
    system = platform.system() if system is None else system
    machine = platform.machine() if machine is None else machine
    if system != "Linux" or not _is_x86_64(machine):
        return Lane("lax", f"stored outputs are compared on Linux x86-64 only; this is {system} "
                           f"{machine}, whose math kernels round differently")
    if torch_capability is None:
        import torch

        torch_capability = torch.backends.cpu.get_cpu_capability()
    if torch_capability not in ("AVX2", "AVX512"):
        return Lane("lax", f"this CPU has no AVX2 (torch runs {torch_capability} kernels), so "
                           "the pinned AVX2 kernels cannot run")
    drift = version_drift() if drift is None else drift
    if drift:
        shown = ", ".join(drift[:6]) + (f" and {len(drift) - 6} more" if len(drift) > 6 else "")
        return Lane("lax", f"installed versions differ from constraints.txt: {shown}")
    return Lane("strict", "Linux x86-64 with AVX2 and the pinned versions")
