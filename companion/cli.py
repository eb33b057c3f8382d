"""The course's command line: ``python -m companion doctor | lane | list | student | flashcards``."""
from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import sys
from pathlib import Path

from .course import CHAPTERS, find_notebooks, notebooks_dir, planned_notebooks

__all__ = ["main", "doctor_report"]

_PACKAGES = ("torch", "numpy", "scipy", "scikit-learn", "scikit-image", "matplotlib", "gensim",
             "lime", "mnist1d", "networkx", "tqdm", "genanki", "nbval", "jupyterlab")


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _data_problems() -> list[str]:
    """Try every packaged file and generated set without loading them all into memory."""
    from . import data

    problems = []
    for (package, relpath) in data.PACKAGED_FILES:
        try:
            data.packaged_file(package, relpath, needed_by="doctor")
        except (ImportError, OSError) as err:
            problems.append(str(err))
    for module in ("mnist1d.data", "networkx"):
        try:
            data._require(module, "doctor")
        except ImportError as err:
            problems.append(str(err))
    return problems


def doctor_report() -> tuple[list[str], list[str]]:
    """Lines describing this installation, and the problems found (empty when all is well)."""
    import torch

    from .utils import get_device

    lines = [f"python        {platform.python_version()} ({sys.executable})"]
    lines += [f"{name:<14}{_version(name)}" for name in _PACKAGES]
    problems = [f"{n} is not installed; run `make install`" for n in _PACKAGES[:-2]
                if _version(n) == "not installed"]
    try:
        device = str(get_device())
    except (ValueError, RuntimeError) as err:
        device, problems = "unusable", problems + [str(err)]
    lines += [f"device        {device} (COURSE_DEVICE={os.environ.get('COURSE_DEVICE', 'auto')}, "
              f"CUDA available: {torch.cuda.is_available()})",
              f"threads       torch uses {torch.get_num_threads()}; COURSE_THREADS="
              f"{os.environ.get('COURSE_THREADS', 'unset')}, OMP_NUM_THREADS="
              f"{os.environ.get('OMP_NUM_THREADS', 'unset')}"]
    from .kernels import choose_lane, pin_problems

    pins = pin_problems()
    # not a problem by itself: the pins belong to the Makefile's commands, not to every shell
    lines.append("kernels       " + ("pinned to AVX2 (ATen, oneDNN, MKL, OpenBLAS)" if not pins
                                     else "not pinned in this process (make lab and make test pin "
                                     "them): " + "; ".join(pins)))
    lines.append(f"test lane     {choose_lane()}")
    data_problems = _data_problems()
    lines.append(f"data          {'all data sets available offline' if not data_problems else 'PROBLEMS'}")
    try:
        lines.append(f"notebooks     {len(find_notebooks())} found under {notebooks_dir()}")
    except FileNotFoundError as err:
        lines.append(f"notebooks     {err}")
    return lines, problems + data_problems


def _doctor(args) -> int:
    lines, problems = doctor_report()
    print("\n".join(lines))
    for p in problems:
        print(f"PROBLEM: {p}")
    print("All good." if not problems else f"{len(problems)} problem(s) found.")
    return 1 if problems else 0


def _lane(args) -> int:
    from .kernels import choose_lane

    print(choose_lane())
    return 0


def _list(args) -> int:
    root = notebooks_dir()
    current = None
    for chapter, name, path in planned_notebooks(root):
        if chapter is not current:
            current = chapter
            modules = ", ".join(f"companion.{m}" for m in chapter.modules)
            print(f"{chapter.number} {chapter.title}" + (f"  [{modules}]" if modules else ""))
        status = "ready  " if path.exists() else "planned"
        print(f"   {status} {path.relative_to(root.parent)}")
    return 0


def _student(args) -> int:
    from .student import build_student_notebooks

    written = build_student_notebooks(notebooks_dir(), Path(args.out))
    print(f"wrote {len(written)} student notebook(s) to {args.out}")
    return 0


def _flashcards(args) -> int:
    from .flashcards import collect_cards, export

    paths = find_notebooks()
    written = export(paths, Path(args.out))
    print(f"exported {len(collect_cards(paths))} card(s) from {len(paths)} notebook(s):")
    for path in written.values():
        print(f"   {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m companion", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="versions, device, threads, data availability")
    sub.add_parser("lane", help="how make test compares notebooks here: strict or lax, and why")
    sub.add_parser("list", help="chapters and notebooks")
    student = sub.add_parser("student", help="write student notebooks (solutions stripped)")
    student.add_argument("--out", default="build/student")
    cards = sub.add_parser("flashcards", help="export flashcards as Markdown, CSV and Anki")
    cards.add_argument("--out", default="build/flashcards")
    args = parser.parse_args(argv)
    handlers = {"doctor": _doctor, "lane": _lane, "list": _list, "student": _student, "flashcards": _flashcards}
    return handlers[args.command](args)
