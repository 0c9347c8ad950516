"""``ToyGANLab``: GAN Lab (Kahng et al., 2019) inside the notebook, with ipywidgets and matplotlib only.

A toy GAN on 2-D data (``ring`` of 8 or ``grid`` of 25 Gaussians) trained by the book's one
training loop, :class:`gantutor.train.Trainer`. Every knob of GAN Lab is a control: data shape,
loss, optimiser and learning rate per network, D steps per G step, hidden width and depth,
latent dimension, batch size; buttons play / pause / step / reset. The view updates live:
D's decision surface as a heat-map under the real and fake points, G's gradient arrows,
the loss curves and the number of modes covered.

How it stays fast and portable
------------------------------
- The figure is drawn off-screen (matplotlib's Agg canvas, never ``pyplot``), its artists are
  updated in place, and each frame is sent as one PNG into an ``ipywidgets.Image``. This uses
  only what ipywidgets 7.7 (Colab) and 8.x share, and shows the same in JupyterLab, classic
  Notebook, VS Code and Colab: no custom front-end code, no flicker.
- **Play** runs as an ``asyncio`` task on the kernel's event loop: a bounded number of training
  steps per frame, then a redraw, then it yields, so the kernel still handles clicks (pause!)
  and other cells. Without a running event loop (a script, a test) play runs a bounded number
  of frames and returns.
- Training is :meth:`Trainer.fit <gantutor.train.Trainer.fit>` for ``steps per frame`` steps, and the
  curves are ``trainer.history``.
- Every control and button calls a plain method (:meth:`step_clicked`, :meth:`play_clicked`,
  :meth:`pause_clicked`, :meth:`reset`, :meth:`render`), so tests drive the lab without a browser.

Changing the data or the architecture (hidden width, depth, latent dimension) resets the lab
with new networks; changing the loss, an optimiser, D steps or the batch size rebuilds the
Trainer around the *same* networks (training goes on from where it is, with fresh optimiser
state); a learning rate is changed in place.
"""
from __future__ import annotations

import asyncio
import contextlib
import io
import math
import time

import numpy as np
import torch

from ..data import load_domain
from ..losses import LOSSES
from ..metrics import mode_coverage
from ..nets import MLPDiscriminator, MLPGenerator
from ..train import Trainer
from ..viz import decision_surface, generator_gradients

__all__ = ["ToyGANLab", "DEFAULTS"]

DEFAULTS = dict(data="ring", loss="non-saturating", optimizer_g="adam", optimizer_d="adam", lr_g=1e-3, lr_d=1e-3,
                d_steps=1, hidden=64, depth=2, latent_dim=2, batch_size=256, steps_per_frame=25)
_STRUCTURAL = ("data", "hidden", "depth", "latent_dim")        # new networks: reset
_TRAINING = ("loss", "optimizer_g", "optimizer_d", "d_steps", "batch_size")  # new Trainer, same networks
_EXTENT = (-1.7, 1.7, -1.7, 1.7)


class ToyGANLab:
    """GAN Lab in the notebook. Display it as the last expression of a cell: ``ToyGANLab()``.

    Args:
        settings: the starting values of the controls, by name: ``data``, ``loss``, ``optimizer_g``,
            ``optimizer_d``, ``lr_g``, ``lr_d``, ``d_steps``, ``hidden``, ``depth``, ``latent_dim``,
            ``batch_size``, ``steps_per_frame`` (see :data:`DEFAULTS`).
        seed: seeds the networks, the data and the noise; reset starts from it again.
        device: where to train; default the CPU, which beats a GPU at these tiny networks.
        num_points: fake (and real) points drawn; mode coverage is measured on them.
        num_arrows: fake points that carry a gradient arrow.
        resolution: side of the grid on which D's heat-map is evaluated.
        max_frames: frames one press of play runs at most before pausing itself.
        dpi: resolution of the PNG sent to the browser (lower is faster).
        threads: CPU threads PyTorch uses while the lab trains and draws (restored afterwards);
            networks this small run fastest on one, and a busy machine makes a thread pool
            stall badly. ``None`` leaves PyTorch's setting alone.
    """

    def __init__(self, *, seed: int = 0, device: str | torch.device = "cpu", num_points: int = 512,
                 num_arrows: int = 64, resolution: int = 48, max_frames: int = 2000, dpi: int = 72,
                 threads: int | None = 1, **settings) -> None:
        import ipywidgets as widgets

        unknown = set(settings) - set(DEFAULTS)
        if unknown:
            raise TypeError(f"unknown setting(s) {sorted(unknown)}; the lab's settings are {sorted(DEFAULTS)}")
        start = {**DEFAULTS, **settings}
        self.seed, self.device = seed, torch.device(device)
        self.num_points, self.num_arrows, self.resolution = num_points, num_arrows, resolution
        self.max_frames, self.dpi, self.threads = max_frames, dpi, threads
        self.playing = False
        self._task = None
        self._rebuilds = 0
        self.trainer: Trainer | None = None
        self.renders: dict[str, list[int]] = {"step": [], "modes": []}  # mode coverage at each redraw
        self.coverage: dict | None = None
        self.message = ""
        self.note = ""  # the last change of a control, shown in the status line

        wide = {"description_width": "110px"}
        row = widgets.Layout(width="300px")
        self.controls = {
            "data": widgets.Dropdown(options=["ring", "grid"], value=start["data"], description="data", style=wide, layout=row),
            "loss": widgets.Dropdown(options=list(LOSSES), value=start["loss"], description="loss", style=wide, layout=row),
            "optimizer_g": widgets.Dropdown(options=["adam", "sgd", "rmsprop"], value=start["optimizer_g"],
                                            description="G optimiser", style=wide, layout=row),
            "lr_g": widgets.FloatLogSlider(value=start["lr_g"], base=10, min=-5, max=-1, step=0.1, readout_format=".1e",
                                           description="G learning rate", continuous_update=False, style=wide, layout=row),
            "optimizer_d": widgets.Dropdown(options=["adam", "sgd", "rmsprop"], value=start["optimizer_d"],
                                            description="D optimiser", style=wide, layout=row),
            "lr_d": widgets.FloatLogSlider(value=start["lr_d"], base=10, min=-5, max=-1, step=0.1, readout_format=".1e",
                                           description="D learning rate", continuous_update=False, style=wide, layout=row),
            "d_steps": widgets.IntSlider(value=start["d_steps"], min=1, max=10, description="D steps per G step",
                                         continuous_update=False, style=wide, layout=row),
            "hidden": widgets.Dropdown(options=[8, 16, 32, 64, 128, 256], value=start["hidden"], description="hidden width",
                                       style=wide, layout=row),
            "depth": widgets.IntSlider(value=start["depth"], min=1, max=4, description="hidden layers",
                                       continuous_update=False, style=wide, layout=row),
            "latent_dim": widgets.IntSlider(value=start["latent_dim"], min=1, max=16, description="latent dim",
                                            continuous_update=False, style=wide, layout=row),
            "batch_size": widgets.Dropdown(options=[16, 32, 64, 128, 256, 512], value=start["batch_size"],
                                           description="batch size", style=wide, layout=row),
            "steps_per_frame": widgets.IntSlider(value=start["steps_per_frame"], min=1, max=200,
                                                 description="steps per frame", continuous_update=False, style=wide,
                                                 layout=row),
        }
        for name, control in self.controls.items():
            control.observe(lambda change, name=name: self.setting_changed(name, change["new"]), names="value")

        button = widgets.Layout(width="90px")
        self.buttons = {
            # Font Awesome icons (ipywidgets 7.7 and 8 both ship them): a symbol like ⏸ is missing from many fonts
            "play": widgets.Button(description="play", icon="play", tooltip="train and redraw until paused", layout=button),
            "pause": widgets.Button(description="pause", icon="pause", tooltip="stop after the current frame",
                                    layout=button),
            "step": widgets.Button(description="step", icon="step-forward",
                                   tooltip="one frame: steps-per-frame training steps", layout=button),
            "reset": widgets.Button(description="reset", icon="refresh", tooltip="new networks from the seed",
                                    layout=button),
        }
        self.buttons["play"].on_click(lambda _: self.play_clicked())
        self.buttons["pause"].on_click(lambda _: self.pause_clicked())
        self.buttons["step"].on_click(lambda _: self.step_clicked())
        self.buttons["reset"].on_click(lambda _: self.reset())
        self.status = widgets.HTML(value="")
        self.image = widgets.Image(format="png", layout=widgets.Layout(width="620px"))
        self.widget = widgets.VBox([
            widgets.HBox(list(self.buttons.values()) + [self.status]),
            widgets.HBox([widgets.VBox(list(self.controls.values())), self.image]),
        ])
        self._build_figure()
        self.reset()

    # ---------------------------------------------------------------- display

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def snapshot(self):
        """The current view as an ``IPython.display.Image`` (shows in the static book too)."""
        from IPython.display import Image

        return Image(data=self.image.value, format="png")

    # ---------------------------------------------------------------- state

    @property
    def settings(self) -> dict:
        """The current value of every control."""
        return {name: control.value for name, control in self.controls.items()}

    @property
    def step_count(self) -> int:
        """Training steps since the last reset."""
        return self.trainer.step_count if self.trainer is not None else 0

    @property
    def history(self) -> dict[str, list[float]]:
        """The trainer's history since the last reset, plus the modes covered at each redraw
        (``render_step``, ``modes``)."""
        return {**self.trainer.history, "render_step": self.renders["step"], "modes": self.renders["modes"]}

    def reset(self, note: str = "") -> None:
        """New networks and a new Trainer from the seed, with the current settings; clears the history.

        ``note`` is shown in the status line (what changed); the reset button leaves it empty.
        """
        self.pause_clicked()
        self.note = note
        settings = self.settings
        torch.manual_seed(self.seed)
        self.domain = load_domain(settings["data"], verbose=False)
        self.generator = MLPGenerator(settings["latent_dim"], self.domain.dim, settings["hidden"], settings["depth"])
        self.discriminator = MLPDiscriminator(self.domain.dim, settings["hidden"], settings["depth"])
        self._rebuilds = 0
        self.trainer = None
        self._build_trainer()
        self.fixed_z = torch.randn(self.num_points, settings["latent_dim"],
                                   generator=torch.Generator().manual_seed(self.seed + 7))
        self.real = self.domain.sample(self.num_points, generator=torch.Generator().manual_seed(self.seed + 8))
        self.renders = {"step": [], "modes": []}
        self.message = ""
        self._real_points.set_offsets(self.real.numpy())
        self.render()

    def _build_trainer(self) -> None:
        """A Trainer around the current networks with the current training settings.

        After a reset it starts at step 0; otherwise it takes over the previous trainer's step
        count and history, so that the curves go on across a change of loss or optimiser.
        """
        s = self.settings
        previous = self.trainer
        self.trainer = Trainer(self.generator, self.discriminator, self.domain, loss=s["loss"],
                               batch_size=s["batch_size"], lr_g=s["lr_g"], lr_d=s["lr_d"],
                               optimizer=(s["optimizer_g"], s["optimizer_d"]), d_steps=s["d_steps"],
                               device=self.device, seed=self.seed + 1000 * self._rebuilds)
        if previous is not None:
            self.trainer.step_count, self.trainer.history = previous.step_count, previous.history
        self._rebuilds += 1

    def setting_changed(self, name: str, value) -> None:
        """A control moved: reset (data, architecture), rebuild the Trainer (training knobs) or set a learning rate."""
        label = self.controls[name].description
        shown = f"{value:.1e}" if name in ("lr_g", "lr_d") else str(value)
        if name in _STRUCTURAL:
            self.reset(note=f"{label} {shown}: new networks from the seed")
            return
        self.note = f"{label} {shown}" + (": new Trainer, same networks" if name in _TRAINING else "")
        if name in _TRAINING:
            self._build_trainer()
        elif name in ("lr_g", "lr_d"):
            optimiser = self.trainer.opt_g if name == "lr_g" else self.trainer.opt_d
            for group in optimiser.param_groups:
                group["lr"] = float(value)
            self.trainer.config = self.trainer.config.replace(**{name: float(value)})
        self.render()

    # ---------------------------------------------------------------- training

    @contextlib.contextmanager
    def _threads(self):
        """Run the body with ``self.threads`` PyTorch CPU threads, then restore the previous number."""
        previous = torch.get_num_threads()
        if self.threads is not None and self.threads != previous:
            torch.set_num_threads(self.threads)
        try:
            yield
        finally:
            if torch.get_num_threads() != previous:
                torch.set_num_threads(previous)

    def train_frame(self, steps: int | None = None) -> int:
        """Run ``steps`` training steps (default: the steps-per-frame control); returns how many ran.

        If training diverges (a loss becomes NaN or infinite) the lab pauses and says so instead
        of raising: press reset, or lower the learning rates.
        """
        steps = self.controls["steps_per_frame"].value if steps is None else steps
        with self._threads():
            return self._train(steps)

    def _train(self, steps: int) -> int:
        before = len(self.trainer.history["step"])
        try:
            self.trainer.fit(steps, progress=False)
        except FloatingPointError as error:  # the trainer's message names the step and the loss
            self.message = f"{str(error).split('. ')[0]}: press reset or lower the learning rates"
            self.playing = False
        return len(self.trainer.history["step"]) - before

    def step_clicked(self) -> dict:
        """The step button: one frame of training, then a redraw. Returns the mode coverage."""
        self.train_frame()
        return self.render()

    def run(self, frames: int) -> None:
        """Train and redraw ``frames`` frames, here and now (blocking); stops early on divergence."""
        for _ in range(frames):
            if self.message:
                break
            self.train_frame()
            self.render()

    def play_clicked(self) -> None:
        """The play button: train and redraw until paused (at most ``max_frames`` frames).

        Inside a running event loop (a notebook kernel) this starts a background task and returns
        at once; without one it runs ``min(max_frames, 10)`` frames and returns.
        """
        if self.playing:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        self.playing = True
        self._update_buttons()
        if loop is None:
            try:
                self.run(min(self.max_frames, 10))
            finally:
                self.playing = False
                self._update_buttons()
            return
        self._task = loop.create_task(self._play())

    async def _play(self) -> None:
        frames = 0
        try:
            while self.playing and frames < self.max_frames and not self.message:
                self.train_frame()
                self.render()
                frames += 1
                await asyncio.sleep(0.001)  # let the kernel handle clicks between frames
        finally:
            self.playing = False
            self._update_buttons()
            self.render()

    def pause_clicked(self) -> None:
        """The pause button: the play loop stops after its current frame."""
        self.playing = False
        self._update_buttons()

    def _update_buttons(self) -> None:
        if hasattr(self, "buttons"):
            self.buttons["play"].disabled = self.playing
            self.buttons["step"].disabled = self.playing

    # ---------------------------------------------------------------- drawing

    def _build_figure(self) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(8.6, 4))
        self._canvas = FigureCanvasAgg(fig)
        grid = fig.add_gridspec(2, 2, width_ratios=(1.25, 1), hspace=0.55, wspace=0.25,
                                left=0.01, right=0.98, top=0.91, bottom=0.12)
        self._ax_main = fig.add_subplot(grid[:, 0])
        self._ax_loss = fig.add_subplot(grid[0, 1])
        self._ax_modes = fig.add_subplot(grid[1, 1])
        ax = self._ax_main
        self._surface = ax.imshow(np.full((self.resolution, self.resolution), 0.5), origin="lower", extent=_EXTENT,
                                  cmap="RdBu", vmin=0, vmax=1, interpolation="bilinear", alpha=0.85)
        colorbar = fig.colorbar(self._surface, ax=ax, fraction=0.046, pad=0.03, ticks=[0, 0.5, 1])
        colorbar.ax.tick_params(labelsize=7)
        colorbar.set_label("D(x)", fontsize=8)
        ax.set_xticks([])  # tick labels are most of matplotlib's drawing time: keep only the few that matter
        ax.set_yticks([])
        self._real_points = ax.scatter([], [], s=4, c="#1a9641", alpha=0.6, label="real")
        self._fake_points = ax.scatter([], [], s=4, c="#7b3294", alpha=0.7, label="fake")
        self._arrows = None
        ax.set_xlim(_EXTENT[0], _EXTENT[1])
        ax.set_ylim(_EXTENT[2], _EXTENT[3])
        ax.set_aspect("equal")
        ax.legend(loc="upper right", fontsize=7, markerscale=3)
        self._title = ax.set_title("", fontsize=9)
        (self._d_line,) = self._ax_loss.plot([], [], lw=1, label="D loss")
        (self._g_line,) = self._ax_loss.plot([], [], lw=1, label="G loss")
        self._ax_loss.set_title("losses", fontsize=9)
        self._ax_loss.legend(loc="upper right", fontsize=7)
        (self._modes_line,) = self._ax_modes.plot([], [], "o-", ms=2, lw=1, color="#7b3294")
        self._ax_modes.set_title("modes covered", fontsize=9)
        self._ax_modes.set_xlabel("step", fontsize=8)
        from matplotlib.ticker import MaxNLocator

        for axis in (self._ax_loss, self._ax_modes):
            axis.tick_params(labelsize=7)
            axis.xaxis.set_major_locator(MaxNLocator(4))
            axis.yaxis.set_major_locator(MaxNLocator(3, integer=axis is self._ax_modes))
        self._figure = fig

    @torch.no_grad()
    def _fakes(self) -> torch.Tensor:
        return self.trainer.sample(z=self.fixed_z)

    def render(self) -> dict:
        """Redraw the view from the current networks and send it to the image; returns the mode coverage."""
        with self._threads():
            return self._render()

    def _render(self) -> dict:
        fake = self._fakes()
        coverage = mode_coverage(fake, self.domain.centres, self.domain.sigma)
        self.coverage = coverage
        self._surface.set_data(decision_surface(self.discriminator, _EXTENT, self.resolution))
        self._fake_points.set_offsets(fake.numpy())
        if self._arrows is not None:
            self._arrows.remove()
        pushed = fake[: self.num_arrows]
        arrows = generator_gradients(self.discriminator, pushed, self.trainer.loss)
        longest = float(arrows.norm(dim=1).max()) if len(arrows) else 0.0
        arrows = arrows * (0.25 / longest) if longest > 0 and math.isfinite(longest) else arrows * 0
        self._arrows = self._ax_main.quiver(pushed[:, 0], pushed[:, 1], arrows[:, 0], arrows[:, 1], angles="xy",
                                            scale_units="xy", scale=1, width=0.004, color="black", alpha=0.6)
        step = self.step_count
        if not self.renders["step"] or self.renders["step"][-1] != step:
            self.renders["step"].append(step)
            self.renders["modes"].append(coverage["modes_covered"])
        history = self.trainer.history
        steps = history["step"]
        self._d_line.set_data(steps, history["d_loss"])
        self._g_line.set_data(steps, history["g_loss"])
        self._modes_line.set_data(self.renders["step"], self.renders["modes"])
        self._ax_modes.set_xlim(0, max(1, step))
        self._ax_modes.set_ylim(-0.5, coverage["num_modes"] + 0.5)
        if steps:
            self._ax_loss.relim()
            self._ax_loss.autoscale_view()
            self._ax_loss.set_xlim(0, max(1, step))
        else:  # fixed limits before training: a reset draws exactly what a new lab draws
            self._ax_loss.set_xlim(0, 1)
            self._ax_loss.set_ylim(0, 1)
        s = self.settings
        self._title.set_text(f"step {step} · {s['loss']} · {coverage['modes_covered']}/{coverage['num_modes']} modes, "
                             f"{coverage['high_quality']:.0%} within 3σ")
        buffer = io.BytesIO()
        self._figure.savefig(buffer, format="png", dpi=self.dpi)
        self.image.value = buffer.getvalue()
        state = "playing" if self.playing else "paused"
        self.status.value = (f"<b>step {step}</b> · {state} · {coverage['modes_covered']} of "
                             f"{coverage['num_modes']} modes" + (f" · <i>{self.note}</i>" if self.note else "")
                             + (f" · <span style='color:#b00'>{self.message}</span>" if self.message else ""))
        return coverage

    # ---------------------------------------------------------------- measuring

    def benchmark(self, frames: int = 20) -> dict:
        """Measure training steps/s (frames of training only) and redraws/s on this machine."""
        train_seconds = draw_seconds = 0.0
        steps = 0
        for _ in range(frames):
            start = time.perf_counter()
            steps += self.train_frame()
            middle = time.perf_counter()
            self.render()
            draw_seconds += time.perf_counter() - middle
            train_seconds += middle - start
        return {"steps_per_second": steps / train_seconds, "redraws_per_second": frames / draw_seconds,
                "frames_per_second": frames / (train_seconds + draw_seconds),
                "steps_per_frame": self.controls["steps_per_frame"].value, "batch_size": self.settings["batch_size"]}
