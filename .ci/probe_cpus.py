"""The CPU probe: run the strict notebook lane under kernel settings that stand in for other CPUs.

Stored outputs are made under the kernel pins of ``companion/kernels.py``. On another x86-64 CPU the
same pins run the same kernels, but a difference could still slip in (a library that ignores a pin,
a path that depends on the cache size). This probe changes one kernel choice at a time, on this
machine, and counts the notebook cells whose outputs no longer match. Goal: 0 in every row, which
shows that no stored output hinges on the last bit of a float.

    make test-cpus                       # every row (about 40 minutes on 2 cores)
    make test-cpus PROBE="aten-default"  # some rows, by name
    .venv/bin/python .ci/probe_cpus.py --notebook notebooks/00_welcome.ipynb aten-default

Prints one table row per setting and exits non-zero if any row has a failing cell. A setting this
CPU cannot run (AVX-512 on an AVX2-only CPU) is reported as such, not run.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from companion.kernels import KERNEL_PINS  # noqa: E402  (stdlib-only module)

#: name -> (what it stands in for, the variables changed from the pins, CPU flag it needs)
SETTINGS = {
    "pinned": ("the strict lane itself: ATen avx2, oneDNN AVX2, MKL AVX2, OpenBLAS Haswell", {}, None),
    "aten-default": ("ATen without vectorisation (a CPU without AVX2 kernels)",
                     {"ATEN_CPU_CAPABILITY": "default"}, None),
    "aten-avx512": ("ATen AVX-512 kernels (torch's own choice on AVX-512 CPUs)",
                    {"ATEN_CPU_CAPABILITY": "avx512"}, "avx512f"),
    "onednn-avx512": ("oneDNN AVX-512 convolutions", {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE"}, "avx512f"),
    "openblas-skylakex": ("OpenBLAS SkylakeX core (AVX-512)", {"OPENBLAS_CORETYPE": "SkylakeX"}, "avx512f"),
    "openblas-sandybridge": ("OpenBLAS Sandybridge core (AVX)", {"OPENBLAS_CORETYPE": "Sandybridge"}, None),
    "mkl-compatible": ("MKL's COMPATIBLE branch (SSE2 code paths, any x86-64)",
                       {"MKL_CBWR": "COMPATIBLE", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"}, None),
}

#: Cells left out of the probe (never out of the strict lane): nbval id -> why. They rely on the
#: pins alone. The README lists them with the same reasons (tests/test_packaging.py checks it).
EXCLUDED: dict[str, str] = {}


def cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def run_setting(name: str, workers: int, notebooks: list[str]) -> tuple[list[str], int, float]:
    """Failing cell ids, cells run, and seconds, for one setting."""
    env = dict(os.environ)
    env.update(KERNEL_PINS)
    env.update(SETTINGS[name][1])
    env.update(COURSE_DEVICE="cpu", COURSE_PROGRESS="0", PYTHONHASHSEED="0", COURSE_THREADS="1",
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               JUPYTER_PLATFORM_DIRS="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.xml"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-n", str(workers),
                   "--dist", "loadfile", "--nbval", "--nbval-current-env",
                   "--nbval-sanitize-with", "nbval_sanitize.cfg", f"--junitxml={report}",
                   *[f"--deselect={cell}" for cell in EXCLUDED], *notebooks]
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)
        seconds = time.perf_counter() - start
        if not report.exists():
            raise RuntimeError(f"probe {name}: pytest wrote no report; run it by hand to see why")
        failing, total = [], 0
        for case in ET.parse(report).getroot().iter("testcase"):
            total += 1
            if case.find("failure") is not None or case.find("error") is not None:
                # junit writes notebooks/a/b.ipynb as the class name notebooks.a.b.ipynb
                path = case.get("classname").removesuffix(".ipynb").replace(".", "/") + ".ipynb"
                failing.append(f"{path}::{case.get('name')}")
    return failing, total, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rows", nargs="*", help=f"settings to run (default all): {', '.join(SETTINGS)}")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--notebook", action="append", dest="notebooks",
                        help="a notebook or folder to probe (repeatable; default: notebooks/)")
    args = parser.parse_args(argv)
    unknown = [r for r in args.rows if r not in SETTINGS]
    if unknown:
        parser.error(f"unknown setting(s) {unknown}; expected some of {list(SETTINGS)}")
    flags, bad = cpu_flags(), 0
    print(f"{'setting':<22}{'stands in for':<66}{'failing cells':>14}{'cells':>7}{'time':>8}")
    for name in args.rows or SETTINGS:
        what, _, needs = SETTINGS[name]
        if needs and needs not in flags:
            print(f"{name:<22}{what:<66}{'not run: this CPU lacks ' + needs:>29}", flush=True)
            continue
        failing, total, seconds = run_setting(name, args.workers, args.notebooks or ["notebooks"])
        if total == 0:
            raise RuntimeError(f"probe {name}: no notebook cell ran; check the --notebook paths")
        bad += len(failing)
        print(f"{name:<22}{what:<66}{len(failing):>14}{total:>7}{seconds:>7.0f}s", flush=True)
        for cell in failing:
            print(f"    {cell}", flush=True)
    if EXCLUDED:
        print(f"left out of the probe (the strict lane still checks them): {len(EXCLUDED)} cell(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
