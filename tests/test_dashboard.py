"""TrainingDashboard, driven through its callback methods (no browser)."""
from __future__ import annotations

import pytest
import torch

from gantutor.nets import Discriminator, Generator
from gantutor.train import Trainer
from gantutor.widgets import TrainingDashboard


@pytest.fixture()
def trainer():
    torch.manual_seed(0)
    data = torch.rand(32, 1, 28, 28) * 2 - 1
    return Trainer(Generator(latent_dim=8, base_width=4), Discriminator(base_width=4), data,
                   batch_size=8, device="cpu", seed=0)


def test_redraws_every_n_steps_and_updates_the_widget(trainer):
    dashboard = TrainingDashboard(every=3, num=9, display=False)
    widget = dashboard.widget  # built as in a notebook
    dashboard.on_fit_start(trainer)
    assert dashboard.redraws == 1 and "not trained yet" in dashboard.status
    first = dashboard.png
    for _ in range(7):
        trainer.step()
        dashboard.on_step_end(trainer)
    assert dashboard.redraws == 1 + 2  # steps 3 and 6
    assert dashboard.png.startswith(b"\x89PNG") and dashboard.png != first
    assert widget.children[1].value == dashboard.png
    assert "step 6" in dashboard.status and "step 6" in widget.children[0].value
    assert dashboard.samples.shape == (9, 1, 28, 28)
    dashboard.on_fit_end(trainer)
    assert dashboard.redraws == 4 and "step 7" in dashboard.status


def test_samples_are_the_fixed_noise_and_fit_runs_with_it(trainer):
    dashboard = TrainingDashboard(every=5, num=4, display=False)
    trainer.fit(10, progress=False, callbacks=[dashboard])
    assert dashboard.redraws == 1 + 2 + 1  # start, steps 5 and 10, end
    assert torch.equal(dashboard.samples, trainer.sample(z=trainer.fixed_noise(4)))
    assert trainer.step_count == 10


def test_figure_has_curves_and_grid(trainer):
    trainer.fit(4, progress=False)
    dashboard = TrainingDashboard(num=4, display=False)
    fig = dashboard.figure(trainer.history, trainer.sample(4))
    losses, outputs, grid = fig.axes
    assert len(losses.lines) == 2 and len(outputs.lines) == 3  # two curves each, plus the 0.5 line
    assert grid.images and grid.get_title() == "G(z_fixed) at step 4"


def test_bad_arguments():
    with pytest.raises(ValueError, match="every"):
        TrainingDashboard(every=0)
    with pytest.raises(ValueError, match="num"):
        TrainingDashboard(num=0)


def test_the_live_view_starts_with_the_first_picture(trainer, monkeypatch):
    """In a notebook the widget is built after the first redraw: it must show it, not a blank picture."""
    dashboard = TrainingDashboard(every=3, num=4, display=True, replace_at_end=False)
    shown = []
    monkeypatch.setattr(dashboard, "_show", shown.append)
    dashboard.on_fit_start(trainer)
    status, image = shown[0].children
    assert bytes(image.value) == dashboard.png and dashboard.png.startswith(b"\x89PNG")
    assert "not trained yet" in status.value
