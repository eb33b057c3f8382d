"""Small shared checks for public entry points.

Every message names the function and the argument, what was expected and what came, e.g.
``conv2d: x must have 4 dimensions (N, C_in, H, W); got shape (8, 32, 32)``.
Shapes and values raise ``ValueError``; wrong types raise ``TypeError``. These are real checks,
not ``assert`` statements, so ``python -O`` cannot strip them.
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "check_type",
    "check_int",
    "check_random_state",
    "check_ndim",
    "check_shape",
    "check_floating",
    "check_tensor",
    "check_generator",
    "check_positive",
    "check_probability",
    "check_same_length",
]


def _shape_of(x):
    return tuple(getattr(x, "shape", np.shape(x)))


def check_type(func: str, name: str, value, types, expected: str | None = None):
    """Raise ``TypeError`` unless ``value`` is an instance of ``types``."""
    if not isinstance(value, types):
        types_ = types if isinstance(types, tuple) else (types,)
        expected = expected or " or ".join(t.__name__ for t in types_)
        raise TypeError(f"{func}: {name} must be {expected}; got {type(value).__name__}")
    return value


def check_int(func: str, name: str, value, minimum: int) -> int:
    """Raise ``TypeError`` unless ``value`` is an integer, ``ValueError`` unless ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{func}: {name} must be an integer; got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{func}: {name} must be an integer >= {minimum}; got {value}")
    return int(value)


def check_random_state(func: str, random_state) -> np.random.Generator:
    """A ``np.random.Generator`` from ``None`` (fresh entropy), an int seed >= 0 or a Generator.

    A Generator is returned as it is (so draws continue its stream), like scikit-learn's
    ``check_random_state``; anything else raises ``TypeError`` naming the function.
    """
    if random_state is None or isinstance(random_state, np.random.Generator):
        return np.random.default_rng(random_state)  # a Generator comes back unchanged
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise TypeError(f"{func}: random_state must be None, an int seed or a np.random.Generator; "
                        f"got {type(random_state).__name__}")
    if random_state < 0:
        raise ValueError(f"{func}: random_state must be an int >= 0; got {random_state}")
    return np.random.default_rng(int(random_state))


def check_ndim(func: str, name: str, x, ndim: int | tuple[int, ...], layout: str = ""):
    """Raise ``ValueError`` unless ``x`` has ``ndim`` dimensions (one of them, if a tuple)."""
    allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    shape = _shape_of(x)
    if len(shape) not in allowed:
        dims = " or ".join(str(d) for d in allowed)
        layout = f" {layout}" if layout else ""
        raise ValueError(f"{func}: {name} must have {dims} dimensions{layout}; got shape {shape}")
    return x


def check_shape(func: str, name: str, x, expected: tuple):
    """Raise ``ValueError`` unless ``x.shape`` matches ``expected``; ``None`` matches any size."""
    shape = _shape_of(x)
    ok = len(shape) == len(expected) and all(e is None or e == s for e, s in zip(expected, shape))
    if not ok:
        sizes = ["*" if e is None else str(e) for e in expected]
        pretty = f"({sizes[0]},)" if len(sizes) == 1 else "(" + ", ".join(sizes) + ")"
        raise ValueError(f"{func}: {name} must have shape {pretty}; got {shape}")
    return x


def check_floating(func: str, name: str, x):
    """Raise ``TypeError`` unless ``x`` holds floating-point numbers (NumPy or torch)."""
    dtype = getattr(x, "dtype", None)
    is_float = getattr(x, "is_floating_point", None)
    if callable(is_float):  # a torch tensor
        ok = is_float()
    else:
        ok = dtype is not None and np.issubdtype(dtype, np.floating)
    if not ok:
        raise TypeError(f"{func}: {name} must be a floating-point array; got dtype {dtype}")
    return x


def check_tensor(func: str, name: str, x, *, floating: bool = True):
    """Raise ``TypeError`` unless ``x`` is a torch tensor (of floating dtype, with ``floating``)."""
    import torch

    check_type(func, name, x, torch.Tensor, "a torch.Tensor")
    if floating and not x.is_floating_point():
        raise TypeError(f"{func}: {name} must be a floating-point tensor; got dtype {x.dtype}")
    return x


def check_generator(func: str, generator, fallback):
    """Where to draw random numbers: ``generator``'s device, or ``fallback`` (the input's) if None.

    Raise ``TypeError`` unless ``generator`` is a ``torch.Generator`` or None. Random draws must
    happen on the generator's device; the caller moves them to the input's device afterwards.
    """
    if generator is None:
        return fallback
    import torch

    check_type(func, "generator", generator, torch.Generator, "a torch.Generator or None")
    return generator.device


def check_positive(func: str, name: str, value, *, allow_zero: bool = False):
    """Raise ``ValueError`` unless ``value`` is a real number > 0 (>= 0 with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{func}: {name} must be a number; got {type(value).__name__}")
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{func}: {name} must be finite and {bound}; got {value}")
    return value


def check_probability(func: str, name: str, value):
    """Raise ``ValueError`` unless ``0 <= value <= 1``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{func}: {name} must be a number; got {type(value).__name__}")
    if not 0 <= value <= 1:
        raise ValueError(f"{func}: {name} must be in [0, 1]; got {value}")
    return value


def check_same_length(func: str, **arrays):
    """Raise ``ValueError`` unless every keyword array has the same first dimension."""
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        got = ", ".join(f"{n} has {k}" for n, k in lengths.items())
        raise ValueError(f"{func}: arrays must have the same length; got {got}")
