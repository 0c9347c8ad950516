"""TransferLab: adapt the pretrained MNIST GAN to another domain and watch it happen.

Pick a target domain, a number of target images and a strategy, press *Run*: the
same latent vectors go through the adapted generator every few steps, so the samples
morph from source to target, while the Fréchet distance to held-out target images is
plotted live. Uses only widgets that ipywidgets 7.7 and 8.x share.

The logic lives in plain methods (:meth:`run`, :meth:`reset`, :meth:`render`) that the
tests call directly; the buttons only call them.
"""
from __future__ import annotations

import io

from ..data import list_domains, load_domain
from ..device import on_colab, pick_device
from ..train import Callback
from ..transfer import STRATEGIES, Evaluator, adapt, few_shot

__all__ = ["TransferLab"]


def _target_domains() -> list[str]:
    """Image domains that work here (online-only ones are offered on Colab)."""
    names = [d.name for d in list_domains() if d.kind == "image" and d.name != "mnist"]
    offline = {d.name for d in list_domains() if d.offline}
    return [n for n in names if n in offline or on_colab()]


class _LiveView(Callback):
    def __init__(self, lab: "TransferLab", every: int) -> None:
        self.lab, self.every = lab, every

    def on_step_end(self, trainer) -> None:
        if trainer.step_count % self.every == 0:
            self.lab._frame(trainer)


class TransferLab:
    """A widget to adapt ``source`` = (generator, discriminator) to a target domain live.

    Args:
        source: the pretrained pair, e.g. ``gantutor.pretrained.load("dcgan-mnist")``.
        steps: training steps per run.
        redraw_every: steps between two redraws (also the FD evaluation interval).
        eval_n: held-out target images for the FD.
        num_samples: how many fixed latent vectors are shown.
    """

    def __init__(self, source, steps: int = 300, redraw_every: int = 50, eval_n: int = 300,
                 num_samples: int = 16, device=None) -> None:
        import ipywidgets as widgets

        self.generator, self.discriminator = source
        self.redraw_every, self.eval_n, self.num_samples = redraw_every, eval_n, num_samples
        self.device = device or pick_device()
        self.target_box = widgets.Dropdown(options=_target_domains(), value="mnist-edges", description="target")
        self.size_box = widgets.Dropdown(options=[10, 100, 1000], value=100, description="images")
        self.strategy_box = widgets.Dropdown(options=list(STRATEGIES), value="freeze_d", description="strategy")
        self.steps_box = widgets.IntSlider(value=steps, min=50, max=2000, step=50, description="steps")
        self.run_button = widgets.Button(description="Run", button_style="success", icon="play")
        self.reset_button = widgets.Button(description="Reset", icon="refresh")
        self.status = widgets.HTML(value="")
        self.image = widgets.Image(format="png")
        self.run_button.on_click(lambda _: self.run())
        self.reset_button.on_click(lambda _: self.reset())
        for box in (self.target_box, self.size_box, self.strategy_box, self.steps_box):
            box.observe(lambda _: self._show_choice(), names="value")
        self.widget = widgets.VBox([
            widgets.HBox([self.target_box, self.size_box, self.strategy_box]),
            widgets.HBox([self.steps_box, self.run_button, self.reset_button]),
            self.status, self.image,
        ])
        self.reset()

    def _ipython_display_(self):  # ipywidgets 7.7 and 8 both honour this
        from IPython.display import display

        display(self.widget)

    def reset(self) -> None:
        """Forget the current run: show the source generator's samples again."""
        self.frames: list[tuple[int, "torch.Tensor"]] = []
        self.fd_steps: list[int] = []
        self.fd_values: list[float] = []
        self.result = None
        self._show_choice()
        import torch

        generator = torch.Generator().manual_seed(0)
        self.z = torch.randn(self.num_samples, self.generator.latent_dim, generator=generator)
        was_training = self.generator.training
        self.generator.eval()
        with torch.no_grad():
            self.source_samples = self.generator(self.z.to(next(self.generator.parameters()).device)).cpu()
        self.generator.train(was_training)
        self.render()

    def _choice(self) -> str:
        return (f"{self.target_box.value} ({self.size_box.value} images) with {self.strategy_box.value}, "
                f"{self.steps_box.value} steps")

    def _show_choice(self) -> None:
        """The status line before a run: the source, and what Run will do with the current controls."""
        self.status.value = f"Source generator (MNIST). Run adapts it to {self._choice()}."

    def _frame(self, trainer) -> None:
        self.frames.append((trainer.step_count, trainer.sample(z=self.z)))
        evaluator = next((c for c in trainer.callbacks if isinstance(c, Evaluator)), None)
        if evaluator is not None and evaluator.records["step"]:
            self.fd_steps, self.fd_values = list(evaluator.records["step"]), list(evaluator.records["fd"])
        self.status.value = f"step {trainer.step_count}: FD {self.fd_values[-1]:.1f}" if self.fd_values else ""
        self.render()

    def run(self) -> None:
        """Adapt with the chosen target, number of images, strategy and steps (blocks while training)."""
        self.reset()
        target = few_shot(self.target_box.value, self.size_box.value, seed=0)  # the chapter's subset (seed 0)
        held_out = load_domain(self.target_box.value, "test", verbose=False).images[: self.eval_n]
        self.status.value = f"adapting to {self._choice()}..."
        self.result = adapt(self.generator, self.discriminator, target, self.strategy_box.value,
                            self.steps_box.value, held_out=held_out, eval_every=self.redraw_every,
                            eval_n=self.eval_n, batch_size=32, device=self.device,
                            callbacks=[_LiveView(self, self.redraw_every)])
        self.fd_steps, self.fd_values = list(self.result.evaluation["step"]), list(self.result.evaluation["fd"])
        self.status.value = (f"done: {self.strategy_box.value} on {self.target_box.value} ({len(target)} images), "
                             f"{self.result.trainer.step_count} steps, final FD {self.fd_values[-1]:.1f}")
        self.render()

    def render(self) -> bytes:
        """Draw source samples, current samples and the FD curve into the image widget; returns the PNG."""
        from matplotlib.figure import Figure

        from ..viz import image_grid

        figure = Figure(figsize=(9, 3), dpi=80)
        axes = figure.subplots(1, 3)
        axes[0].imshow(image_grid(self.source_samples, nrow=4), cmap="gray", vmin=0, vmax=1)
        axes[0].set_title("source G(z)")
        current = self.frames[-1] if self.frames else (0, self.source_samples)
        axes[1].imshow(image_grid(current[1], nrow=4), cmap="gray", vmin=0, vmax=1)
        axes[1].set_title(f"adapted G(z), step {current[0]}")
        for ax in axes[:2]:
            ax.set_axis_off()
        axes[2].plot(self.fd_steps, self.fd_values, marker="o")
        axes[2].set_xlabel("step")
        axes[2].set_title("FD to held-out target images")
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        self.image.value = buffer.getvalue()
        return self.image.value
