"""companion.utils: seeding, device choice, threads, print options, show."""
import numpy as np
import pytest
import torch

import companion
from companion import utils


def test_seed_everything_reproduces_every_generator():
    import random

    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()

    companion.seed_everything(3)
    first = draw()
    rng = companion.seed_everything(3)
    assert draw() == first
    assert isinstance(rng, np.random.Generator)
    assert rng.random() == np.random.default_rng(3).random()


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True])
def test_seed_rejects_bad_values(bad):
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        companion.seed_everything(bad)


def test_get_device_honours_course_device(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert companion.get_device() == torch.device("cpu")
    monkeypatch.setenv("COURSE_DEVICE", "auto")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert companion.get_device().type == expected
    assert companion.get_device("CPU").type == "cpu"  # an argument wins over the variable


def test_get_device_errors(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "tpu")
    with pytest.raises(ValueError, match="COURSE_DEVICE must be one of auto, cpu, cuda; got 'tpu'"):
        companion.get_device()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="CUDA was asked for but torch sees no CUDA GPU"):
        companion.get_device("cuda")


def test_set_threads(monkeypatch):
    before = torch.get_num_threads()
    try:
        assert companion.set_threads(1) == 1 and torch.get_num_threads() == 1
        monkeypatch.setenv("COURSE_THREADS", "2")
        assert companion.set_threads() == 2 and torch.get_num_threads() == 2
        monkeypatch.setenv("COURSE_THREADS", "many")
        with pytest.raises(ValueError, match="COURSE_THREADS must be a positive integer; got 'many'"):
            companion.set_threads()
        with pytest.raises(ValueError, match="n must be a positive integer; got 0"):
            companion.set_threads(0)
    finally:
        torch.set_num_threads(before)


def test_setup_returns_device_and_sets_print_options(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    device = companion.setup(seed=1, threads=1)
    assert device == torch.device("cpu")
    assert np.get_printoptions()["precision"] == 4
    assert str(torch.tensor([1 / 3])) == "tensor([0.3333])"
    assert torch.backends.cuda.matmul.allow_tf32 is False


def test_show_returns_library_source():
    code = companion.show(utils.seed_everything)
    assert "def seed_everything" in repr(code)
    with pytest.raises(TypeError, match="show: expected a function, class or module; got int"):
        companion.show(3)
