"""Exercise checkers for the course notebooks.

A :class:`Checker` runs a learner's function and the library's reference on the same seeded inputs
and returns a :class:`Verdict`, whose ``repr`` is the message, so a notebook cell that ends in
``check(fn)`` shows it (library code never prints). Answers that are values use :func:`check_value`.
Instructor mistakes (a bad ``rtol``, a reference that fails on its own inputs) raise; learner
mistakes (a wrong value, an exception, a changed input) give a failing verdict. In a notebook::

    check_tanh = Checker("tanh", reference=np.tanh,
                         make_inputs=lambda rng: rng.normal(size=(4, 3)),
                         hint="tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x))")

    def tanh(x):
        raise NotImplementedError

    check_tanh(tanh)   # shows: Not done yet: tanh raised NotImplementedError on case 1 of 5. ...
"""
from __future__ import annotations

import copy
import inspect
import numbers
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable

import numpy as np

from companion.validation import check_positive, check_type

__all__ = ["Checker", "Verdict", "check_value"]

_KIND_NAMES = {"f": "floating point", "c": "complex", "i": "integer", "u": "unsigned integer",
               "b": "boolean"}


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check: truthy when passed; its ``repr`` is the message, for notebooks."""

    name: str
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:  # what a notebook cell shows
        return self.message

    __str__ = __repr__


# ---------------------------------------------------------------- describing and comparing values

def _is_tensor(x) -> bool:
    # torch is never imported here: a tensor is known by its class's module (torch, torch.nn...)
    return type(x).__module__.startswith("torch") and hasattr(x, "detach")


def _is_array(x) -> bool:
    return isinstance(x, np.ndarray) or _is_tensor(x)


def _to_numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if _is_tensor(x) else np.asarray(x)


def _fmt(v, digits: int = 8) -> str:
    v = v.item() if hasattr(v, "item") else v
    if isinstance(v, float):  # round to `digits`, but keep 1.0 looking like a float
        return repr(float(f"{v:.{digits}g}"))
    return f"{v:.{digits}g}" if isinstance(v, complex) else repr(v)


def _describe(x) -> str:
    """A one-line summary: type, and for arrays shape, dtype and the first few values."""
    if _is_array(x):
        flat = _to_numpy(x).ravel()
        values = ", ".join(_fmt(v, 4) for v in flat[:4]) + (", ..." if flat.size > 4 else "")
        return f"{type(x).__name__} {tuple(x.shape)} {x.dtype} [{values}]"
    if isinstance(x, (list, tuple)) and any(_is_array(v) for v in x):
        more = ", ..." if len(x) > 3 else ""
        return f"{type(x).__name__} of {len(x)}: ({', '.join(map(_describe, x[:3]))}{more})"
    text = repr(x)
    return f"{type(x).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _kind(x) -> str:
    if isinstance(x, (bool, np.bool_)):
        return "bool"
    if isinstance(x, numbers.Integral):  # also np.int64
        return "int"
    if isinstance(x, numbers.Number):  # also np.float32, complex
        return "number"
    if _is_array(x):
        return "array"
    if isinstance(x, (list, tuple)):
        return "sequence"
    return "dict" if isinstance(x, dict) else "other"


def _difference(got, expected, rtol: float, atol: float, path: str) -> str | None:
    """Describe the first way ``got`` differs from ``expected``; ``None`` if they agree."""
    kind = _kind(expected)
    if kind in ("bool", "int", "number") and _is_array(got) and got.ndim == 0:
        got = got.item()  # a 0-d array or tensor stands for its number
    if _kind(got) != kind and (kind, _kind(got)) != ("number", "int"):
        return f"{path}: type mismatch: expected {type(expected).__name__}, got {_describe(got)}"
    if kind == "array":
        return _array_difference(_to_numpy(got), _to_numpy(expected), rtol, atol, path)
    if kind == "number":
        if np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True):
            return None
        diff = abs(complex(got) - complex(expected))
        return (f"{path}: expected {_fmt(expected)}, got {_fmt(got)} "
                f"(abs difference {diff:.3g}; rtol={rtol:g}, atol={atol:g})")
    if kind in ("sequence", "dict"):
        return _container_difference(got, expected, rtol, atol, path)
    # ints, bools, strings, None and anything else: exact (an int is equal to an np.int64)
    same_type = kind in ("int", "bool") or type(got) is type(expected)
    if got is expected or (same_type and bool(got == expected)):
        return None
    return f"{path}: expected {_describe(expected)}, got {_describe(got)}"


def _container_difference(got, expected, rtol, atol, path) -> str | None:
    """Tuples and lists: same length; dicts: same keys; then element by element."""
    if isinstance(expected, dict):
        missing = [k for k in expected if k not in got]
        extra = [k for k in got if k not in expected]
        if missing or extra:
            return f"{path}: dict keys differ: missing {missing}, unexpected {extra}"
    elif len(got) != len(expected):
        return (f"{path}: expected a {type(expected).__name__} of length {len(expected)}, "
                f"got length {len(got)}")
    for key in expected if isinstance(expected, dict) else range(len(expected)):
        if problem := _difference(got[key], expected[key], rtol, atol, f"{path}[{key!r}]"):
            return problem
    return None


def _array_difference(g: np.ndarray, e: np.ndarray, rtol, atol, path) -> str | None:
    if g.shape != e.shape:
        return f"{path}: shape mismatch: expected {e.shape}, got {g.shape}"
    if g.dtype != e.dtype:
        kinds = [_KIND_NAMES.get(dtype.kind, dtype.kind) for dtype in (e.dtype, g.dtype)]
        why = "same kind, different precision" if kinds[0] == kinds[1] else " vs ".join(kinds)
        return f"{path}: dtype mismatch: expected {e.dtype}, got {g.dtype} ({why})"
    if e.dtype.kind in "fc":
        # |got - expected| <= atol + rtol * |expected|, NaN only where the reference has NaN
        close = np.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True)
    else:
        close = np.asarray(g == e)
    if close.all():
        return None
    first = tuple(int(i) for i in np.argwhere(~close)[0])
    text = f"{path}: values differ at {(~close).sum()} of {close.size} positions"
    if e.dtype.kind in "fciu":
        with np.errstate(all="ignore"):  # inf - inf is NaN here, and that is fine
            diff = np.abs(g.astype(np.complex128) - e.astype(np.complex128))[~close]
        diff = diff[~np.isnan(diff)]
        text += f" (rtol={rtol:g}, atol={atol:g})" if e.dtype.kind in "fc" else ""
        text += f"; max abs difference {diff.max():.3g}" if diff.size else ""
    return text + f"\n  first at index {first}: expected {_fmt(e[first])}, got {_fmt(g[first])}"


def _changed(before, after) -> bool:
    """Whether an input was modified in place: arrays, tensors, lists, dicts and their items."""
    if _is_array(before):
        b, a = _to_numpy(before), _to_numpy(after)
        if b.shape != a.shape or b.dtype != a.dtype:
            return True
        return not np.array_equal(b, a, equal_nan=b.dtype.kind in "fc")
    if isinstance(before, (list, tuple)):
        return len(before) != len(after) or any(map(_changed, before, after))
    if isinstance(before, dict):
        return before.keys() != after.keys() or any(_changed(before[k], after[k]) for k in before)
    if _kind(before) in ("bool", "int", "number") or isinstance(before, str):  # inside a list
        return bool(before != after) and not (before != before and after != after)  # NaN stays NaN
    return False  # other objects: not looked at


# ---------------------------------------------------------------- the public checkers

def _checked_owner(func: str, name, rtol, atol, hint) -> str:
    """Validate the settings shared by ``Checker`` and ``check_value``; return ``func(name)``."""
    check_type(func, "name", name, str, "a non-empty str")
    if not name.strip():
        raise ValueError(f"{func}: name must be a non-empty str; got {name!r}")
    owner = f"{func}({name!r})"
    check_positive(owner, "rtol", rtol, allow_zero=True)
    check_positive(owner, "atol", atol, allow_zero=True)
    check_type(owner, "hint", hint, str)
    return owner


def _with_hint(message: str, hint: str) -> str:
    return f"{message}\nHint: {hint}" if hint else message


def _as_call(inputs) -> tuple[tuple, dict]:
    """``make_inputs`` gives a tuple of positional args, a dict of kwargs, or one positional arg."""
    if isinstance(inputs, tuple):
        return inputs, {}
    return ((), inputs) if isinstance(inputs, dict) else ((inputs,), {})


def _labelled(func: Callable, args: tuple, kwargs: dict) -> dict[str, Any]:
    """Name each input after ``func``'s parameters, or ``args[i]`` when they cannot be bound."""
    try:
        return dict(inspect.signature(func).bind(*args, **kwargs).arguments)
    except (TypeError, ValueError):
        return {**{f"args[{i}]": a for i, a in enumerate(args)}, **kwargs}


class Checker:
    """Check a learner's function against a reference on ``n_cases`` seeded inputs.

    Args:
        name: the exercise name used in messages, e.g. ``"standardize"``.
        reference: the library's implementation.
        make_inputs: ``rng -> inputs``; a tuple is positional args, a dict is kwargs, anything
            else is one positional arg (so pass one dict argument as ``(d,)``). Case ``i`` gets
            ``np.random.default_rng([seed, i])``.
        n_cases: how many seeded inputs to try; the check stops at the first that fails.
        seed: first entropy word of every case's generator (an int >= 0).
        rtol, atol: float tolerances, as ``np.allclose``; state them when loosened.
        hint: shown after a failing verdict.

    Example, in a notebook::

        check = Checker("tanh", np.tanh, lambda rng: rng.normal(size=(4, 3)))
        check(my_tanh)   # -> Correct: tanh agrees with the reference on 5 of 5 seeded inputs.

    Each call of the candidate and of the reference gets its own deep copy of the inputs.
    """

    def __init__(self, name: str, reference: Callable, make_inputs: Callable, *,
                 n_cases: int = 5, seed: int = 0, rtol: float = 1e-6, atol: float = 1e-8,
                 hint: str = ""):
        owner = _checked_owner("Checker", name, rtol, atol, hint)
        for arg, value in (("reference", reference), ("make_inputs", make_inputs)):
            if not callable(value):
                raise TypeError(f"{owner}: {arg} must be callable; got {type(value).__name__}")
        for arg, value, low in (("n_cases", n_cases, 1), ("seed", seed, 0)):
            check_type(owner, arg, value, numbers.Integral, "an int")
            if value < low:
                raise ValueError(f"{owner}: {arg} must be an int >= {low}; got {value}")
        self.name, self.reference, self.make_inputs = name, reference, make_inputs
        self.n_cases, self.seed, self.rtol, self.atol, self.hint = n_cases, seed, rtol, atol, hint

    def __repr__(self) -> str:
        return f"Checker({self.name!r}, n_cases={self.n_cases}, seed={self.seed})"

    @cached_property
    def _cases(self) -> list[tuple[tuple, dict, Any]]:
        """Inputs and reference outputs, made on first use; a failure here is the checker's bug."""
        cases = []
        for i in range(self.n_cases):
            step = "make_inputs"
            try:
                args, kwargs = _as_call(self.make_inputs(np.random.default_rng([self.seed, i])))
                step = "the reference"
                expected = self.reference(*copy.deepcopy(args), **copy.deepcopy(kwargs))
            except Exception as exc:
                raise RuntimeError(
                    f"Checker({self.name!r}): {step} raised {type(exc).__name__}: {exc} on case "
                    f"{i + 1}; expected it to run on the checker's own inputs. The checker is "
                    f"broken, not the learner's code.") from exc
            cases.append((args, kwargs, expected))
        return cases

    def __call__(self, candidate) -> Verdict:
        """Run ``candidate`` on every case; return the verdict of the first failure, or a pass."""
        if not callable(candidate):
            return self._verdict(
                f"Not yet: {self.name} expects a function: pass the function itself, without "
                f"calling it (no parentheses after its name); got {_describe(candidate)}.")
        for i, (args, kwargs, expected) in enumerate(self._cases):
            failure = self._run_case(candidate, args, kwargs, expected)
            if failure is not None:
                status, what, detail = failure
                lines = [f"{status}: {self.name} {what} on case {i + 1} of {self.n_cases}."]
                inputs = _labelled(self.reference, args, kwargs)
                lines += [f"  input  {label} = {_describe(v)}" for label, v in inputs.items()]
                return self._verdict("\n".join(lines + [f"  {detail}"]))
        n = self.n_cases
        message = f"Correct: {self.name} agrees with the reference on {n} of {n} seeded inputs."
        return Verdict(self.name, True, message)

    def _run_case(self, candidate, args, kwargs, expected) -> tuple[str, str, str] | None:
        """``(status, what, detail)`` telling how ``candidate`` fails this case, or ``None``."""
        given_args, given_kwargs = copy.deepcopy((args, kwargs))
        try:
            got = candidate(*given_args, **given_kwargs)
        except NotImplementedError:
            return ("Not done yet", "raised NotImplementedError",
                    "Replace the `raise NotImplementedError` with your code, then run this cell "
                    "again.")
        except Exception as exc:
            return "Not yet", f"raised {type(exc).__name__}", f"{type(exc).__name__}: {exc}"
        before = _labelled(self.reference, args, kwargs)
        after = _labelled(self.reference, given_args, given_kwargs)
        changed = [label for label in before if _changed(before[label], after[label])]
        if changed:
            return ("Not yet", f"changed its input {', '.join(changed)} in place",
                    "Work on a copy and return it (`x = x - m`, not `x -= m`).")
        if got is None and expected is not None:
            return ("Not yet", "returned None",
                    "Did you forget a `return` statement at the end of the function?")
        problem = _difference(got, expected, self.rtol, self.atol, "output")
        return None if problem is None else ("Not yet", "differs from the reference", problem)

    def _verdict(self, message: str) -> Verdict:
        return Verdict(self.name, False, _with_hint(message, self.hint))


def check_value(name: str, got, expected, *, rtol: float = 1e-6, atol: float = 1e-8,
                hint: str = "") -> Verdict:
    """Check an answer that is a value (a count, a shape, an array) against the expected one.

    Example, in a notebook::

        n_params = None   # your answer: how many parameters has nn.Linear(784, 10)?
        check_value("n_params", n_params, 784 * 10 + 10)   # -> Not answered yet: ...

    Comparison and messages are the same as :class:`Checker`'s; note that a failing message shows
    the expected value at the first place it differs.
    """
    _checked_owner("check_value", name, rtol, atol, hint)
    if got is None and expected is not None:
        return Verdict(name, False, _with_hint(
            f"Not answered yet: {name} is still None. Replace the None with your answer, then "
            f"run this cell again.", hint))
    problem = _difference(got, expected, rtol, atol, name)
    if problem is None:
        return Verdict(name, True, f"Correct: {name} matches the expected value.")
    return Verdict(name, False, _with_hint(
        f"Not yet: {name} differs from the expected value.\n  {problem}", hint))
