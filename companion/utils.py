"""Reproducibility and notebook plumbing: seeds, threads, device choice, print options, ``show``.

Every notebook's setup cell calls :func:`setup`, which does all of it in one line, so a notebook
gives the same numbers on every run with the same thread count (``COURSE_THREADS``) and device
(``COURSE_DEVICE``).
"""
from __future__ import annotations

import inspect
import os
import random
import warnings

import numpy as np

from . import kernels

__all__ = [
    "DEFAULT_THREADS",
    "seed_everything",
    "get_device",
    "set_threads",
    "set_print_options",
    "setup",
    "show",
    "KernelPinWarning",
]

#: Thread count used when ``COURSE_THREADS`` is unset. Stored outputs are generated with it:
#: float results depend on how many threads split a reduction.
DEFAULT_THREADS = 1
_DEVICES = ("auto", "cpu", "cuda")


class KernelPinWarning(UserWarning):
    """The CPU kernel pins are not in effect: last digits may differ from the stored outputs."""


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python's ``random``, NumPy's global state and torch (CPU and every GPU).

    Also asks torch for deterministic algorithms (``warn_only``: an op with no deterministic
    version warns instead of failing). Returns a fresh ``np.random.Generator(seed)``: pass it
    on explicitly rather than relying on global state.
    """
    import torch

    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed_everything: seed must be a non-negative int; got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    torch.use_deterministic_algorithms(True, warn_only=True)
    return np.random.default_rng(seed)


def get_device(preference: str | None = None):
    """The ``torch.device`` to compute on.

    Args:
        preference: ``"cpu"``, ``"cuda"`` or ``"auto"``; default: the ``COURSE_DEVICE``
            environment variable, else ``"auto"`` (CUDA when available, otherwise CPU).
    Raises:
        ValueError: an unknown preference.
        RuntimeError: ``"cuda"`` asked for on a machine without a usable CUDA GPU.
    """
    import torch

    source = "preference" if preference is not None else "COURSE_DEVICE"
    choice = (preference if preference is not None else os.environ.get("COURSE_DEVICE", "auto"))
    choice = choice.strip().lower()
    if choice not in _DEVICES:
        raise ValueError(f"get_device: {source} must be one of {', '.join(_DEVICES)}; got {choice!r}")
    if choice == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("get_device: CUDA was asked for but torch sees no CUDA GPU "
                           f"(torch {torch.__version__}); set COURSE_DEVICE=cpu or auto")
    if choice == "auto":
        choice = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(choice)


def set_threads(n: int | None = None) -> int:
    """Fix the number of CPU threads of torch and of NumPy's BLAS; returns the count used.

    Default: ``COURSE_THREADS`` from the environment, else :data:`DEFAULT_THREADS`.
    """
    import torch
    from threadpoolctl import threadpool_limits

    if n is None:
        raw = os.environ.get("COURSE_THREADS", str(DEFAULT_THREADS))
        if not raw.isdigit():
            raise ValueError(f"set_threads: COURSE_THREADS must be a positive integer; got {raw!r}")
        n = int(raw)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_threads: n must be a positive integer; got {n!r}")
    torch.set_num_threads(n)
    threadpool_limits(n)  # BLAS pools already loaded by NumPy / SciPy
    return n


def set_print_options(precision: int = 4) -> None:
    """Print arrays and tensors with ``precision`` decimals and no scientific notation."""
    import torch

    np.set_printoptions(precision=precision, suppress=True)
    torch.set_printoptions(precision=precision, sci_mode=False)


def setup(seed: int = 0, threads: int | None = None, device: str | None = None):
    """Everything a notebook's first cell needs; returns the ``torch.device`` to use.

    Seeds everything, fixes the thread count, sets print options, turns TF32 off (so GPU matrix
    products and cuDNN kernels keep float32 precision) and gives matplotlib small PNG figures.
    Warns (:class:`KernelPinWarning`) when the kernel pins of :mod:`companion.kernels` are not in
    effect, for example in a JupyterLab that was not started with ``make lab``.
    """
    import matplotlib
    import torch

    set_threads(threads)
    seed_everything(seed)
    set_print_options()
    # TF32 rounds float32 products to 10 mantissa bits on NVIDIA GPUs: off, for matmul and cuDNN
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    pin_problems = kernels.pin_problems()
    if pin_problems:
        warnings.warn("companion.setup: the kernel pins are not in effect ("
                      + "; ".join(pin_problems) + "). Results may differ from the stored outputs "
                      "in their last digits. Start JupyterLab with `make lab`, or export the "
                      "variables of companion.kernels.KERNEL_PINS before starting it.",
                      KernelPinWarning, stacklevel=2)
    matplotlib.rcParams.update({"figure.dpi": 72, "savefig.dpi": 72, "figure.figsize": (6, 3.6)})
    return get_device(device)


def show(obj):
    """Display the source code of a library function, class or module in a notebook.

    Notebooks use it instead of copying library code. Returns an ``IPython.display.Code``
    (highlighted in Jupyter, plain source as text), or the source string without IPython.
    """
    try:
        source = inspect.getsource(obj)
    except TypeError as err:
        raise TypeError(f"show: expected a function, class or module; got {type(obj).__name__}") from err
    try:
        from IPython.display import Code
    except ImportError:
        return source
    return Code(source, language="python")
