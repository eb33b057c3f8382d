"""Tests for companion.validation: each helper's pass path (returns its input) and every message."""
import numpy as np
import pytest
import torch

from companion.validation import (check_floating, check_ndim, check_positive, check_probability,
                                  check_same_length, check_shape, check_type)


# ---------------------------------------------------------------- check_type
@pytest.mark.parametrize("value, types", [(3, int), (2.5, (int, float)), ("a", str), ([1], list)])
def test_check_type_passes_and_returns_the_value(value, types):
    assert check_type("f", "x", value, types) is value


@pytest.mark.parametrize("value, types, match", [
    ("3", int, r"^f: x must be int; got str$"),
    (None, (int, float), r"^f: x must be int or float; got NoneType$"),
    (np.zeros(2), list, r"^f: x must be list; got ndarray$"),
])
def test_check_type_message_names_function_argument_expected_and_got(value, types, match):
    with pytest.raises(TypeError, match=match):
        check_type("f", "x", value, types)


def test_check_type_custom_expected_wording():
    with pytest.raises(TypeError, match=r"^loader: data must be a sequence of pairs; got int$"):
        check_type("loader", "data", 5, (list, tuple), expected="a sequence of pairs")


# ---------------------------------------------------------------- check_ndim
@pytest.mark.parametrize("x, ndim", [
    (np.zeros((2, 3)), 2),
    (np.zeros((2, 3, 4)), (3, 4)),
    (np.zeros((2, 3, 4, 5)), (3, 4)),
    (torch.zeros(2, 3), 2),
    ([[1, 2], [3, 4]], 2),  # nested lists are measured too
    (np.float64(1.0), 0),
])
def test_check_ndim_passes_and_returns_the_input(x, ndim):
    assert check_ndim("f", "x", x, ndim) is x


@pytest.mark.parametrize("x, ndim, layout, match", [
    (np.zeros(3), 2, "(N, D)", r"^f: x must have 2 dimensions \(N, D\); got shape \(3,\)$"),
    (np.zeros((2, 2)), (3, 4), "", r"^f: x must have 3 or 4 dimensions; got shape \(2, 2\)$"),
    (torch.zeros(8, 32, 32), 4, "(N, C, H, W)",
     r"^f: x must have 4 dimensions \(N, C, H, W\); got shape \(8, 32, 32\)$"),
    ([1, 2, 3], 2, "", r"^f: x must have 2 dimensions; got shape \(3,\)$"),
])
def test_check_ndim_message(x, ndim, layout, match):
    with pytest.raises(ValueError, match=match):
        check_ndim("f", "x", x, ndim, layout)


# ---------------------------------------------------------------- check_shape
@pytest.mark.parametrize("x, expected", [
    (np.zeros((2, 3)), (2, 3)),
    (np.zeros((7, 3)), (None, 3)),
    (torch.zeros(5, 4, 3), (None, None, 3)),
    (np.zeros(()), ()),
])
def test_check_shape_passes_and_none_matches_any_size(x, expected):
    assert check_shape("f", "x", x, expected) is x


@pytest.mark.parametrize("x, expected, match", [
    (np.zeros((2, 4)), (None, 3), r"^f: x must have shape \(\*, 3\); got \(2, 4\)$"),
    (np.zeros((2, 3, 1)), (None, 3), r"^f: x must have shape \(\*, 3\); got \(2, 3, 1\)$"),
    (np.zeros(6), (2, 3), r"^f: x must have shape \(2, 3\); got \(6,\)$"),
    (torch.zeros(3, 2), (2, 3), r"^f: x must have shape \(2, 3\); got \(3, 2\)$"),
])
def test_check_shape_message(x, expected, match):
    with pytest.raises(ValueError, match=match):
        check_shape("f", "x", x, expected)


# ---------------------------------------------------------------- check_floating
@pytest.mark.parametrize("x", [
    np.zeros(2, np.float16), np.zeros(2, np.float32), np.zeros(2, np.float64), np.float64(1.0),
    torch.zeros(2), torch.zeros(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float16),
    torch.zeros(2, dtype=torch.bfloat16),
], ids=["np16", "np32", "np64", "np-scalar", "t32", "t64", "t16", "bf16"])
def test_check_floating_accepts_numpy_and_torch_floats(x):
    assert check_floating("f", "x", x) is x


@pytest.mark.parametrize("x, match", [
    (np.zeros(2, np.int64), r"^f: x must be a floating-point array; got dtype int64$"),
    (np.zeros(2, bool), r"^f: x must be a floating-point array; got dtype bool$"),
    (np.zeros(2, np.complex128), r"got dtype complex128$"),
    (torch.zeros(2, dtype=torch.int64),
     r"^f: x must be a floating-point array; got dtype torch.int64$"),
    (torch.zeros(2, dtype=torch.bool), r"got dtype torch.bool$"),
    ([1.0, 2.0], r"^f: x must be a floating-point array; got dtype None$"),  # a list has no dtype
    (1.0, r"got dtype None$"),
], ids=["np-int", "np-bool", "np-complex", "t-int", "t-bool", "list", "float"])
def test_check_floating_rejects_everything_else(x, match):
    with pytest.raises(TypeError, match=match):
        check_floating("f", "x", x)


# ---------------------------------------------------------------- check_positive
@pytest.mark.parametrize("value", [1, 0.5, 1e-12, np.float32(2.0), np.int64(3), 1e300])
def test_check_positive_passes(value):
    assert check_positive("f", "lr", value) is value


def test_check_positive_allow_zero():
    assert check_positive("f", "eps", 0, allow_zero=True) == 0
    assert check_positive("f", "eps", 0.0, allow_zero=True) == 0.0
    with pytest.raises(ValueError, match=r"^f: eps must be finite and > 0; got 0$"):
        check_positive("f", "eps", 0)


@pytest.mark.parametrize("value, allow_zero, match", [
    (-0.1, False, r"^f: lr must be finite and > 0; got -0.1$"),
    (-1, True, r"^f: lr must be finite and >= 0; got -1$"),
    (0.0, False, r"^f: lr must be finite and > 0; got 0.0$"),
    (float("inf"), True, r"^f: lr must be finite and >= 0; got inf$"),
    (float("nan"), False, r"^f: lr must be finite and > 0; got nan$"),
    (np.float64(-2.0), False, r"^f: lr must be finite and > 0; got -2.0$"),
])
def test_check_positive_value_messages(value, allow_zero, match):
    with pytest.raises(ValueError, match=match):
        check_positive("f", "lr", value, allow_zero=allow_zero)


@pytest.mark.parametrize("value, match", [
    (True, r"^f: lr must be a number; got bool$"),  # bool is an int in Python: still rejected
    (False, r"^f: lr must be a number; got bool$"),
    (np.True_, r"^f: lr must be a number; got bool"),
    ("0.1", r"^f: lr must be a number; got str$"),
    (None, r"^f: lr must be a number; got NoneType$"),
    (1j, r"^f: lr must be a number; got complex$"),
    (np.array([0.1]), r"^f: lr must be a number; got ndarray$"),
])
def test_check_positive_type_messages(value, match):
    for allow_zero in (False, True):
        with pytest.raises(TypeError, match=match):
            check_positive("f", "lr", value, allow_zero=allow_zero)


# ---------------------------------------------------------------- check_probability
@pytest.mark.parametrize("value", [0, 1, 0.0, 1.0, 0.5, np.float32(0.25), np.int64(1)])
def test_check_probability_passes_bounds_included(value):
    assert check_probability("dropout", "p", value) is value


@pytest.mark.parametrize("value, match", [
    (1.5, r"^dropout: p must be in \[0, 1\]; got 1.5$"),
    (-0.1, r"^dropout: p must be in \[0, 1\]; got -0.1$"),
    (1.0000001, r"^dropout: p must be in \[0, 1\]; got 1.0000001$"),
    (float("nan"), r"^dropout: p must be in \[0, 1\]; got nan$"),
    (float("inf"), r"^dropout: p must be in \[0, 1\]; got inf$"),
])
def test_check_probability_value_messages(value, match):
    with pytest.raises(ValueError, match=match):
        check_probability("dropout", "p", value)


@pytest.mark.parametrize("value, match", [
    (True, r"^dropout: p must be a number; got bool$"),
    (False, r"^dropout: p must be a number; got bool$"),
    ("0.5", r"^dropout: p must be a number; got str$"),
    (None, r"^dropout: p must be a number; got NoneType$"),
])
def test_check_probability_type_messages(value, match):
    with pytest.raises(TypeError, match=match):
        check_probability("dropout", "p", value)


# ---------------------------------------------------------------- check_same_length
def test_check_same_length_passes_for_mixed_containers():
    assert check_same_length("f", X=np.zeros((3, 2)), y=[0, 1, 2], w=torch.zeros(3, 5)) is None
    assert check_same_length("f", X=np.zeros((3, 2))) is None
    assert check_same_length("f") is None


@pytest.mark.parametrize("arrays, match", [
    (dict(X=np.zeros((3, 2)), y=np.zeros(2)),
     r"^f: arrays must have the same length; got X has 3, y has 2$"),
    (dict(a=[1, 2, 3], b=torch.zeros(3), c=np.zeros((4, 3))),
     r"^f: arrays must have the same length; got a has 3, b has 3, c has 4$"),
    (dict(X=np.zeros((0, 2)), y=[1]), r"got X has 0, y has 1$"),
])
def test_check_same_length_message_names_every_argument(arrays, match):
    with pytest.raises(ValueError, match=match):
        check_same_length("f", **arrays)


def test_helpers_do_not_modify_their_input():
    x = np.arange(6.0).reshape(2, 3)
    kept = x.copy()
    check_ndim("f", "x", x, 2)
    check_shape("f", "x", x, (2, 3))
    check_floating("f", "x", x)
    check_same_length("f", x=x, y=x)
    np.testing.assert_array_equal(x, kept)


def test_check_int_accepts_integers_and_names_what_is_wrong():
    from companion.validation import check_int

    assert check_int("f", "n", np.int64(3), 1) == 3 and type(check_int("f", "n", 3, 0)) is int
    with pytest.raises(ValueError, match=r"^f: n must be an integer >= 1; got 0$"):
        check_int("f", "n", 0, 1)
    for bad, kind in ((2.0, "float"), (True, "bool"), ("2", "str")):
        with pytest.raises(TypeError, match=rf"^f: n must be an integer; got {kind}$"):
            check_int("f", "n", bad, 1)


def test_check_random_state_gives_a_generator_and_names_what_is_wrong():
    from companion.validation import check_random_state

    rng = np.random.default_rng(5)
    assert check_random_state("f", rng) is rng  # a Generator is used as it is
    assert check_random_state("f", 3).random() == np.random.default_rng(3).random()
    assert isinstance(check_random_state("f", None), np.random.Generator)
    with pytest.raises(ValueError, match=r"^f: random_state must be an int >= 0; got -1$"):
        check_random_state("f", -1)
    for bad, kind in ((1.5, "float"), (True, "bool"), ("0", "str")):
        with pytest.raises(TypeError, match=rf"^f: random_state must be None, an int seed or a "
                                            rf"np.random.Generator; got {kind}$"):
            check_random_state("f", bad)


def test_check_generator_gives_the_device_to_draw_on():
    from companion.validation import check_generator

    meta = torch.device("meta")
    assert check_generator("f", None, meta) == meta  # no generator: draw where the input is
    assert check_generator("f", torch.Generator().manual_seed(0), meta) == torch.device("cpu")
    with pytest.raises(TypeError, match=r"^f: generator must be a torch.Generator or None; got int$"):
        check_generator("f", 0, meta)


def test_check_tensor_names_the_argument_and_what_came():
    from companion.validation import check_tensor

    t = torch.zeros(2)
    assert check_tensor("f", "x", t) is t
    assert check_tensor("f", "x", torch.zeros(2, dtype=torch.int64), floating=False) is not None
    with pytest.raises(TypeError, match=r"^f: x must be a torch.Tensor; got ndarray$"):
        check_tensor("f", "x", np.zeros(2))
    with pytest.raises(TypeError, match=r"^f: x must be a floating-point tensor; got dtype torch.int64$"):
        check_tensor("f", "x", torch.zeros(2, dtype=torch.int64))
