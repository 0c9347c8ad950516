import pytest
import torch

from gantutor.nets import Discriminator, Generator

pytest.importorskip("ipywidgets")


def small_source():
    torch.manual_seed(0)
    return Generator(latent_dim=16, base_width=8), Discriminator(base_width=8)


def test_transfer_lab_runs_and_draws(monkeypatch):
    from gantutor.widgets import TransferLab

    lab = TransferLab(small_source(), steps=50, redraw_every=10, eval_n=60, num_samples=4, device="cpu")
    assert lab.image.value[:8] == b"\x89PNG\r\n\x1a\n", "the initial view is a PNG"
    assert "mnist-edges" in lab.target_box.options and "mnist" not in lab.target_box.options
    lab.target_box.value, lab.size_box.value, lab.strategy_box.value = "glyphs", 10, "affine"
    lab.steps_box.value = 50
    lab.run_button.click()  # the button calls run()
    assert [step for step, _ in lab.frames] == [10, 20, 30, 40, 50]
    assert lab.fd_steps[0] == 0 and lab.fd_steps[-1] == 50 and len(lab.fd_values) == len(lab.fd_steps)
    assert "final FD" in lab.status.value
    lab.reset_button.click()
    assert lab.frames == [] and lab.fd_values == []
    assert {"ewc", "minegan"} <= set(lab.strategy_box.options), "the lab offers every strategy"
    lab.strategy_box.value, lab.steps_box.value = "minegan", 50
    lab.run()
    assert [step for step, _ in lab.frames] == [10, 20, 30, 40, 50] and "minegan" in lab.status.value


def test_transfer_lab_status_echoes_the_controls():
    from gantutor.widgets import TransferLab

    lab = TransferLab(small_source(), steps=100, redraw_every=10, eval_n=60, num_samples=4, device="cpu")
    assert "mnist-edges (100 images) with freeze_d, 100 steps" in lab.status.value
    lab.target_box.value, lab.size_box.value, lab.strategy_box.value, lab.steps_box.value = "glyphs", 10, "affine", 50
    assert "Run adapts it to glyphs (10 images) with affine, 50 steps" in lab.status.value
