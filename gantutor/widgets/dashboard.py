"""A live dashboard for :meth:`gantutor.train.Trainer.fit` (chapter 5).

``TrainingDashboard`` is a trainer callback. While ``fit`` runs it shows, every ``every``
steps, the loss curves, the mean of D(x) and D(G(z)), and G's samples of a fixed noise
batch, in one picture inside an ``ipywidgets.Image`` with a status line above it. At the end of ``fit``
it replaces the live widget with a static picture of its final state, so that a saved
notebook (and the rendered book) shows how training ended.

Only ipywidgets features shared by 7.7 (Colab) and 8.x are used: ``Image``, ``HTML``,
``VBox`` and ``Layout``. The drawing logic lives in plain methods (:meth:`on_step_end`,
:meth:`render`) that tests call without a browser.
"""
from __future__ import annotations

import io


import numpy as np
from matplotlib.figure import Figure

from ..train import Callback
from ..viz import image_grid, smooth

__all__ = ["TrainingDashboard"]


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


class TrainingDashboard(Callback):
    """Live loss curves and fixed-noise samples while a trainer trains.

    Args:
        every: redraw every ``every`` steps (drawing costs tens of milliseconds: keep it rare).
        num: samples of the fixed noise batch shown (a square number looks best).
        window: moving-average window of the curves.
        display: show the widget in the notebook; ``None`` means "when running in a notebook".
        replace_at_end: at the end of ``fit``, replace the live widget by a static picture
            (clears the cell's output, so call ``fit`` in a cell of its own).

    Example::

        dashboard = TrainingDashboard(every=200)
        trainer.fit(3000, callbacks=[dashboard])
    """

    def __init__(self, every: int = 200, num: int = 36, window: int = 25, display: bool | None = None,
                 replace_at_end: bool = True, dpi: int = 72) -> None:
        if every < 1:
            raise ValueError(f"every must be at least 1, got {every}")
        if num < 1:
            raise ValueError(f"num must be at least 1, got {num}")
        self.every, self.num, self.window = every, num, window
        self.display = display
        self.replace_at_end = replace_at_end
        self.dpi = dpi
        self.redraws = 0
        self.status = ""
        self.samples = None
        self.png: bytes = b""
        self._widget = None
        self._figure = None

    # ---------------------------------------------------------------- widgets

    @property
    def widget(self):
        """The ipywidgets view: a status line above the picture (built on first use)."""
        if self._widget is None:
            import ipywidgets as widgets

            # built from the last redraw: the view shows the start of training, not a blank picture
            self._status = widgets.HTML(value=f"<code>{self.status}</code>" if self.status else "")
            self._image = widgets.Image(value=self.png, format="png",
                                        layout=widgets.Layout(width="100%", max_width="900px"))
            self._widget = widgets.VBox([self._status, self._image])
        return self._widget

    def _show(self, obj) -> None:
        from IPython.display import display

        display(obj)

    # ---------------------------------------------------------------- callback hooks

    def on_fit_start(self, trainer) -> None:
        self._live = self.display if self.display is not None else _in_notebook()
        self.redraw(trainer)
        if self._live:
            self._show(self.widget)

    def on_step_end(self, trainer) -> None:
        if trainer.step_count % self.every == 0:
            self.redraw(trainer)

    def on_fit_end(self, trainer) -> None:
        self.redraw(trainer)
        if self._live and self.replace_at_end:
            from IPython.display import Image, clear_output

            self.widget.close()
            clear_output(wait=False)
            self._show(Image(data=self.png, format="png"))
            print(self.status)

    # ---------------------------------------------------------------- drawing

    def redraw(self, trainer) -> None:
        """Take fresh samples of the fixed noise, draw the picture, update the widget."""
        self.samples = trainer.sample(z=trainer.fixed_noise(self.num))
        history = trainer.history
        if history["step"]:
            seconds = history["time"][-1]
            self.status = (f"step {trainer.step_count:,} | D loss {history['d_loss'][-1]:.3f} | "
                           f"G loss {history['g_loss'][-1]:.3f} | D(x) {history['d_real'][-1]:.2f} | "
                           f"D(G(z)) {history['d_fake'][-1]:.2f} | {seconds:.0f} s of training")
        else:
            self.status = f"step {trainer.step_count:,} | not trained yet"
        self.png = self.render(history, self.samples)
        self.redraws += 1
        if self._widget is not None:
            self._status.value = f"<code>{self.status}</code>"
            self._image.value = self.png

    def figure(self, history: dict, samples) -> Figure:
        """The dashboard's picture as a matplotlib ``Figure`` (not attached to pyplot)."""
        fig = Figure(figsize=(12, 3.4), dpi=self.dpi)
        losses, outputs, grid = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.3, 1.3, 1]})
        steps = np.asarray(history["step"])
        if len(steps):
            losses.plot(steps, smooth(history["d_loss"], self.window), label="D loss")
            losses.plot(steps, smooth(history["g_loss"], self.window), label="G loss")
            outputs.plot(steps, smooth(history["d_real"], self.window), label="D(x), real")
            outputs.plot(steps, smooth(history["d_fake"], self.window), label="D(G(z)), fake")
            losses.legend(loc="upper right")
            outputs.legend(loc="upper right")
        outputs.axhline(0.5, color="grey", lw=0.8, ls="--")
        outputs.set_ylim(0, 1)
        for ax, title in ((losses, "losses"), (outputs, "discriminator outputs")):
            ax.set_xlabel("step")
            ax.set_title(title)
        nrow = max(1, int(round(len(samples) ** 0.5)))
        grid.imshow(image_grid(samples, nrow=nrow), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        grid.set_axis_off()
        grid.set_title(f"G(z_fixed) at step {history['step'][-1] if len(steps) else 0}")
        fig.tight_layout()
        return fig

    def render(self, history: dict, samples) -> bytes:
        """The picture as PNG bytes (Agg, independent of the notebook's backend)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        fig = self.figure(history, samples)
        FigureCanvasAgg(fig)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        return buffer.getvalue()


