"""companion.exercises: checkers that compare a learner's function with the reference."""
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from companion.exercises import Checker, Verdict, check_value


def standardize(x):
    """Reference: each column to mean 0 and standard deviation 1. x: (N, D) -> (N, D)."""
    return (x - x.mean(axis=0)) / x.std(axis=0)


def standardize_inputs(rng):
    return rng.normal(2.0, 3.0, size=(8, 3))


@pytest.fixture
def check():
    return Checker("standardize", standardize, standardize_inputs, hint="Use axis=0.")


# ---------------------------------------------------------------- passing and the verdict itself

def test_correct_candidate_passes_with_the_exact_message(check):
    verdict = check(standardize)
    assert isinstance(verdict, Verdict) and verdict and verdict.passed
    assert verdict.name == "standardize"
    expected = "Correct: standardize agrees with the reference on 5 of 5 seeded inputs."
    assert verdict.message == str(verdict) == repr(verdict) == expected


def test_a_different_but_correct_implementation_passes(check):
    def mine(x):
        mu = x.sum(axis=0) / len(x)
        return (x - mu) / np.sqrt(((x - mu) ** 2).mean(axis=0))

    assert check(mine)


def test_n_cases_appears_in_the_message():
    verdict = Checker("tanh", np.tanh, lambda rng: rng.normal(size=4), n_cases=2)(np.tanh)
    assert verdict.message == "Correct: tanh agrees with the reference on 2 of 2 seeded inputs."


# ---------------------------------------------------------------- wrong answers

def test_wrong_values_name_the_case_and_the_max_abs_difference(check):
    verdict = check(lambda x: (x - x.mean()) / x.std())  # forgot axis=0
    assert not verdict
    lines = verdict.message.splitlines()
    assert lines[0] == "Not yet: standardize differs from the reference on case 1 of 5."
    assert lines[1].startswith("  input  x = ndarray (8, 3) float64 [")
    assert "output: values differ at" in lines[2] and "max abs difference" in lines[2]
    assert lines[3].startswith("  first at index (0, 0): expected")
    assert lines[-1] == "Hint: Use axis=0."


def test_the_reported_difference_and_values_are_the_true_ones():
    verdict = check_value("y", np.array([1.0, 2.0, 3.5]), np.array([1.0, 2.0, 3.0]))
    assert verdict.message.splitlines()[1:] == [
        "  y: values differ at 1 of 3 positions (rtol=1e-06, atol=1e-08); max abs difference 0.5",
        "  first at index (2,): expected 3.0, got 3.5"]


def test_the_first_failing_case_is_reported_and_checking_stops():
    calls = []

    def flaky(x):
        calls.append(1)
        return np.tanh(x) + (len(calls) == 3)  # wrong on the third case only

    verdict = Checker("tanh", np.tanh, lambda rng: rng.normal(size=4))(flaky)
    assert "on case 3 of 5." in verdict.message
    assert len(calls) == 3


def test_wrong_shape(check):
    verdict = check(lambda x: standardize(x)[:4])
    assert "output: shape mismatch: expected (8, 3), got (4, 3)" in verdict.message


def test_wrong_dtype_precision(check):
    verdict = check(lambda x: standardize(x).astype(np.float32))
    assert ("output: dtype mismatch: expected float64, got float32 (same kind, different precision)"
            in verdict.message)


def test_wrong_dtype_kind():
    verdict = check_value("counts", np.array([1, 2]), np.array([1.0, 2.0]))
    expected = "dtype mismatch: expected float64, got int64 (floating point vs integer)"
    assert expected in verdict.message


def test_wrong_type_list_instead_of_array(check):
    verdict = check(lambda x: standardize(x).tolist())
    assert "output: type mismatch: expected ndarray, got list [[" in verdict.message


def test_returning_none_suggests_a_missing_return(check):
    def forgot(x):
        (x - x.mean(axis=0)) / x.std(axis=0)

    verdict = check(forgot)
    assert verdict.message.startswith("Not yet: standardize returned None on case 1 of 5.")
    assert "`return` statement" in verdict.message


def test_raising_gives_the_case_type_and_message(check):
    def broken(x):
        raise ValueError("operands could not be broadcast")

    verdict = check(broken)
    assert not verdict
    assert verdict.message.startswith("Not yet: standardize raised ValueError on case 1 of 5.")
    assert "  ValueError: operands could not be broadcast" in verdict.message


def test_an_unfilled_stub_is_not_done_yet(check):
    def stub(x):
        raise NotImplementedError

    verdict = check(stub)
    assert verdict.message.startswith("Not done yet: standardize raised NotImplementedError")
    assert "Replace the `raise NotImplementedError` with your code" in verdict.message


def test_modifying_the_input_in_place_fails(check):
    def in_place(x):
        x -= x.mean(axis=0)
        x /= x.std(axis=0)
        return x  # the right values, but the caller's array is gone

    verdict = check(in_place)
    assert verdict.message.startswith("Not yet: standardize changed its input x in place on case 1")
    assert "Work on a copy" in verdict.message


def test_in_place_change_of_a_list_input_is_caught():
    def ref(xs):
        return sorted(xs)

    check = Checker("sort", ref, lambda rng: [int(v) for v in rng.integers(0, 9, size=5)])
    assert check(sorted)
    verdict = check(lambda xs: (xs.sort(), xs)[1])
    assert "changed its input xs in place" in verdict.message


@pytest.mark.parametrize("not_a_function", [3, np.ones(4)])
def test_a_non_callable_candidate_is_a_failing_verdict(check, not_a_function):
    verdict = check(not_a_function)
    assert not verdict
    assert verdict.message.startswith("Not yet: standardize expects a function")
    assert f"got {type(not_a_function).__name__}" in verdict.message


# ---------------------------------------------------------------- kinds of values

def test_torch_float32_output_against_numpy_reference():
    # float32: rtol=1e-4, atol=1e-5 (the style guide's float32 tolerance)
    check = Checker("tanh", np.tanh, lambda rng: rng.normal(size=(4, 3)).astype(np.float32),
                    rtol=1e-4, atol=1e-5)
    assert check(lambda x: torch.tanh(torch.from_numpy(x)))
    assert check(lambda x: torch.tanh(torch.from_numpy(x).requires_grad_()))  # detached for us
    verdict = check(lambda x: torch.tanh(torch.from_numpy(x)).double())
    assert "dtype mismatch: expected float32, got float64" in verdict.message


def test_torch_tensor_inputs_and_a_torch_reference():
    check = Checker("relu", torch.relu, lambda rng: torch.from_numpy(rng.normal(size=6)))
    assert check(lambda x: torch.clamp(x, min=0))
    verdict = check(lambda x: x.clamp_(min=0))
    assert "changed its input" in verdict.message
    # torch.relu has no Python signature, so the input is named by position
    assert "input  args[0] = Tensor (6,) torch.float64 [" in verdict.message


def test_tuple_outputs_are_compared_element_by_element():
    def mean_std(x):
        return x.mean(axis=0), x.std(axis=0)

    check = Checker("mean_std", mean_std, standardize_inputs)
    assert check(mean_std)
    assert check(lambda x: [x.mean(axis=0), x.std(axis=0)])  # a list is fine too
    swapped = check(lambda x: mean_std(x)[::-1])
    assert "output[0]: values differ" in swapped.message
    longer = check(lambda x: (*mean_std(x), x.var(axis=0)))
    assert "output: expected a tuple of length 2, got length 3" in longer.message


def test_dict_outputs_need_the_same_keys():
    verdict = check_value("stats", {"mean": 1.0}, {"mean": 1.0, "std": 2.0})
    assert "stats: dict keys differ: missing ['std'], unexpected []" in verdict.message
    verdict = check_value("stats", {"mean": 1.0, "std": 2.5}, {"mean": 1.0, "std": 2.0})
    assert "stats['std']: expected 2.0, got 2.5 (abs difference 0.5" in verdict.message


def test_dict_inputs_are_passed_as_keyword_arguments():
    check = Checker("clip", np.clip,
                    lambda rng: {"a": rng.normal(size=5), "a_min": -0.5, "a_max": 0.5})
    assert check(lambda a, a_min, a_max: np.minimum(np.maximum(a, a_min), a_max))
    verdict = check(lambda a, a_min, a_max: np.minimum(a, a_max))  # forgot the lower bound
    assert "input  a_min = float -0.5" in verdict.message
    assert "input  a_max = float 0.5" in verdict.message


def test_tuple_inputs_are_positional_arguments():
    check = Checker("matmul", np.matmul,
                    lambda rng: (rng.normal(size=(2, 3)), rng.normal(size=(3, 4))))
    assert check(lambda a, b: a @ b)
    verdict = check(lambda a, b: (a @ b).T)
    assert "output: shape mismatch: expected (2, 4), got (4, 2)" in verdict.message


def test_nan_positions_must_match():
    assert check_value("y", np.array([np.nan, 1.0]), np.array([np.nan, 1.0]))
    verdict = check_value("y", np.array([1.0, np.nan]), np.array([np.nan, 1.0]))
    assert "values differ at 2 of 2 positions" in verdict.message


def test_ints_bools_and_strings_are_exact():
    assert check_value("n", np.int64(7850), 7850)
    assert "n: expected int 7850, got int 7851" in check_value("n", 7851, 7850).message
    assert "type mismatch: expected int, got float 7850.0" in check_value("n", 7850.0, 7850).message
    assert check_value("flag", np.True_, True)
    assert not check_value("flag", False, True)
    assert "expected str 'tanh', got str 'relu'" in check_value("act", "relu", "tanh").message


def test_floats_use_allclose_tolerances():
    assert check_value("p", 0.1 + 0.2, 0.3)
    assert check_value("p", 1.0005, 1.0, rtol=1e-3)
    assert not check_value("p", 1.0005, 1.0)
    assert check_value("loss", torch.tensor(2.5), 2.5)  # a 0-d tensor stands for its number


# ---------------------------------------------------------------- seeds and copies

def test_verdicts_are_deterministic(check):
    wrong = lambda x: x - x.mean(axis=0)  # noqa: E731
    again = Checker("standardize", standardize, standardize_inputs, hint="Use axis=0.")
    assert check(wrong).message == check(wrong).message == again(wrong).message


def test_case_i_uses_default_rng_seed_i():
    seen = []

    def make_inputs(rng):
        seen.append(rng.random())
        return rng.normal(size=3)

    Checker("tanh", np.tanh, make_inputs, n_cases=3, seed=7)(np.tanh)
    assert seen == [np.random.default_rng([7, i]).random() for i in range(3)]


def test_the_reference_gets_its_own_copy():
    def messy_reference(x):
        x *= 2  # an in-place reference must not change what the candidate sees
        return x

    check = Checker("double", messy_reference, lambda rng: rng.normal(size=4))
    assert check(lambda x: 2 * x)
    assert check(lambda x: 2 * x)  # and not on a second call either


# ---------------------------------------------------------------- check_value

def test_check_value_pass_fail_and_not_answered():
    assert check_value("n_params", 7850, 784 * 10 + 10).message == (
        "Correct: n_params matches the expected value.")
    wrong = check_value("n_params", 7840, 7850, hint="Count the biases.")
    assert wrong.message.startswith("Not yet: n_params differs from the expected value.")
    assert wrong.message.endswith("Hint: Count the biases.")
    missing = check_value("n_params", None, 7850)
    assert not missing and missing.message.startswith("Not answered yet: n_params is still None.")


# ---------------------------------------------------------------- instructor mistakes raise

@pytest.mark.parametrize("kwargs, error, match", [
    ({"name": 3}, TypeError, r"Checker: name must be a non-empty str; got int"),
    ({"name": " "}, ValueError, r"Checker: name must be a non-empty str; got ' '"),
    ({"reference": "tanh"}, TypeError, r"Checker\('tanh'\): reference must be callable; got str"),
    ({"make_inputs": None}, TypeError,
     r"Checker\('tanh'\): make_inputs must be callable; got NoneType"),
    ({"n_cases": 0}, ValueError, r"Checker\('tanh'\): n_cases must be an int >= 1; got 0"),
    ({"n_cases": 2.5}, TypeError, r"Checker\('tanh'\): n_cases must be an int; got float"),
    ({"seed": -1}, ValueError, r"Checker\('tanh'\): seed must be an int >= 0; got -1"),
    ({"rtol": -1e-6}, ValueError, r"Checker\('tanh'\): rtol must be finite and >= 0; got -1e-06"),
    ({"atol": -1.0}, ValueError, r"Checker\('tanh'\): atol must be finite and >= 0; got -1.0"),
    ({"atol": "0"}, TypeError, r"Checker\('tanh'\): atol must be a number; got str"),
    ({"hint": 1}, TypeError, r"Checker\('tanh'\): hint must be str; got int"),
])
def test_checker_misuse_raises(kwargs, error, match):
    good = {"name": "tanh", "reference": np.tanh, "make_inputs": lambda rng: rng.normal(size=3)}
    with pytest.raises(error, match=match):
        Checker(**{**good, **kwargs})


def test_check_value_misuse_raises():
    with pytest.raises(TypeError, match=r"check_value: name must be a non-empty str; got NoneType"):
        check_value(None, 1, 1)
    with pytest.raises(ValueError, match=r"check_value\('n'\): rtol must be finite and >= 0"):
        check_value("n", 1, 1, rtol=-1)


def test_a_reference_that_fails_on_its_own_inputs_raises():
    check = Checker("log", lambda x: np.log(x) if x.min() > 0 else 1 / 0,
                    lambda rng: rng.normal(size=3))
    with pytest.raises(RuntimeError, match=r"Checker\('log'\): the reference raised "
                                           r"ZeroDivisionError: division by zero on case 1"):
        check(np.log)


def test_make_inputs_that_fails_raises():
    check = Checker("tanh", np.tanh, lambda rng: rng.normal(size=-1))
    with pytest.raises(RuntimeError, match=r"Checker\('tanh'\): make_inputs raised ValueError"):
        check(np.tanh)


def test_torch_is_not_imported_by_the_module():
    code = "import sys, companion.exercises; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- properties

float_arrays = hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=4),
                          elements=st.floats(allow_nan=True, allow_infinity=True, width=64))


@settings(max_examples=50, deadline=None)
@given(float_arrays)
def test_any_float_array_matches_a_copy_of_itself(a):
    assert check_value("a", a.copy(), a)
    assert check_value("a", torch.from_numpy(a.copy()), a)


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                  elements=st.floats(-1e3, 1e3)), st.floats(1e-2, 1e3))
def test_a_shifted_array_fails_and_names_the_difference(a, shift):
    # shift >= 1e-2 > atol + rtol * |a| = 1e-8 + 1e-6 * 1e3, so every position is out of tolerance
    verdict = check_value("a", a + shift, a)
    assert not verdict and "max abs difference" in verdict.message
    assert f"values differ at {a.size} of {a.size} positions" in verdict.message
