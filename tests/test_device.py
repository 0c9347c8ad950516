import random

import numpy as np
import pytest
import torch

from gantutor.device import describe_machine, on_colab, pick_device, seed_everything


def test_pick_device_prefers_accelerators_and_falls_back_to_cpu():
    device = pick_device()
    if torch.cuda.is_available():
        assert device.type == "cuda"
    elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        assert device.type == "mps"
    else:
        assert device.type == "cpu"
    assert pick_device("cpu").type == "cpu"


def test_pick_device_names_an_unavailable_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available"):
        pick_device("cuda")


def test_pick_device_honours_environment(monkeypatch):
    monkeypatch.setenv("GANTUTOR_DEVICE", "cpu")
    assert pick_device().type == "cpu"


def test_seed_everything_repeats_every_generator():
    def draw():
        return random.random(), np.random.rand(), torch.rand(3)

    g = seed_everything(7)
    a = draw() + (torch.rand(2, generator=g),)
    g = seed_everything(7)
    b = draw() + (torch.rand(2, generator=g),)
    assert a[0] == b[0] and a[1] == b[1]
    assert torch.equal(a[2], b[2]) and torch.equal(a[3], b[3])
    with pytest.raises(ValueError, match="non-negative int"):
        seed_everything(-1)


def test_on_colab_reads_the_environment(monkeypatch):
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    assert on_colab() is False
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab_20260101")
    assert on_colab() is True


def test_describe_machine_names_the_device():
    assert describe_machine("cpu").startswith("cpu (")


def test_set_threads_defaults_to_one_and_honours_the_environment(monkeypatch):
    from gantutor.device import set_threads

    before = torch.get_num_threads()
    try:
        monkeypatch.delenv("GANTUTOR_THREADS", raising=False)
        assert set_threads() == 1 and torch.get_num_threads() == 1
        assert set_threads(2) == 2 and torch.get_num_threads() == 2
        monkeypatch.setenv("GANTUTOR_THREADS", "3")
        assert set_threads() == 3 and set_threads(1) == 3, "the environment wins, for a whole run"
        monkeypatch.setenv("GANTUTOR_THREADS", "0")
        with pytest.raises(ValueError, match="at least 1"):
            set_threads()
    finally:
        torch.set_num_threads(before)


def test_set_threads_says_what_it_chose(monkeypatch, capsys):
    from gantutor.device import set_threads

    before = torch.get_num_threads()
    monkeypatch.delenv("GANTUTOR_THREADS", raising=False)
    try:
        set_threads(verbose=True)
    finally:
        torch.set_num_threads(before)
    assert "1 CPU thread" in capsys.readouterr().out
