r"""LatentExplorer: walk a generator's latent space and watch what it draws.

Two ways to move, both on the same picture:

- **a plane**: the image of :math:`z_0 + a\,u + b\,v`, where :math:`u` and :math:`v` are two random
  unit directions and the sliders set :math:`a` and :math:`b`; around it, a grid of the
  neighbouring points of the plane, so you see which way the digit changes;
- **a path**: the image of :math:`(1 - t)\,z_0 + t\,z_1` on the straight line to a second point,
  with the whole strip from :math:`z_0` to :math:`z_1` below.

For a class-conditional generator a menu picks the class: the label stays fixed while z moves,
so the picture shows what z controls (style, slant, thickness) once the class is given. Under
every image the book's feature network gives its verdict (its most likely class and the
probability). Uses only widgets that ipywidgets 7.7 and 8.x share; every control calls a plain
method (:meth:`set_label`, :meth:`move`, :meth:`new_points`, :meth:`render`) that tests call directly.
"""
from __future__ import annotations

import io

import torch

__all__ = ["LatentExplorer"]


class LatentExplorer:
    """A widget over ``generator``'s latent space. Display it as the last expression of a cell.

    Args:
        generator: a gantutor :class:`~gantutor.nets.Generator` (or a shipped
            :class:`~gantutor.pretrained.PretrainedGAN`), conditional or not.
        label: the class to draw (conditional generators only; default 0).
        span: the sliders run over ``[-span, span]``.
        grid: points per side of the neighbourhood grid (odd, so the current point is in the middle).
        path_points: images on the strip from :math:`z_0` to :math:`z_1`.
        seed: seeds :math:`z_0`, :math:`z_1` and the two directions; :meth:`new_points` draws the next ones.
        classifier: the feature network that judges each image (default: the shipped one); ``False``
            for no verdicts.
        domain: the feature network's domain whose classes count as a verdict (default ``"mnist"``).
    """

    def __init__(self, generator, *, label: int = 0, span: float = 3.0, grid: int = 5, path_points: int = 9,
                 seed: int = 0, classifier=None, domain: str = "mnist") -> None:
        import ipywidgets as widgets

        self.generator = getattr(generator, "generator", generator)
        if not hasattr(self.generator, "latent_dim"):
            raise TypeError(f"{type(generator).__name__} has no .latent_dim: pass a gantutor Generator")
        if grid < 1 or grid % 2 == 0:
            raise ValueError(f"grid must be an odd number of points per side, got {grid}")
        if not span > 0 or path_points < 2:
            raise ValueError(f"span must be positive and path_points at least 2, got {span} and {path_points}")
        self.num_classes = getattr(self.generator, "num_classes", None)
        self.span, self.grid, self.path_points, self.seed, self.domain = float(span), grid, path_points, seed, domain
        if classifier is None:
            from ..metrics import feature_net

            classifier = feature_net()
        self.classifier = classifier or None
        self.device = next(self.generator.parameters()).device
        self._draws = 0
        self.label = 0
        self.a = self.b = self.t = 0.0

        slider = dict(min=-span, max=span, step=span / 20, continuous_update=False, readout_format=".2f")
        self.controls = {
            "a": widgets.FloatSlider(value=0.0, description="a (along u)", **slider),
            "b": widgets.FloatSlider(value=0.0, description="b (along v)", **slider),
            "t": widgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.05, continuous_update=False,
                                     description="t (z0 → z1)"),
        }
        if self.num_classes is not None:
            self.controls["label"] = widgets.Dropdown(options=list(range(self.num_classes)), value=0,
                                                      description="class")
            self.controls["label"].observe(lambda change: self.set_label(change["new"]), names="value")
        for name in ("a", "b", "t"):
            self.controls[name].observe(lambda change, name=name: self.move(**{name: change["new"]}), names="value")
        self.new_button = widgets.Button(description="new points", tooltip="draw new z0, z1 and directions")
        self.new_button.on_click(lambda _: self.new_points())
        self.status = widgets.HTML(value="")
        self.image = widgets.Image(format="png")
        self.widget = widgets.VBox([
            widgets.HBox(list(self.controls.values()) + [self.new_button]), self.status, self.image])
        self.new_points()
        if self.num_classes is not None:
            self.set_label(label)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def snapshot(self):
        """The current picture as an ``IPython.display.Image`` (shows in the static book too)."""
        from IPython.display import Image

        return Image(data=self.image.value, format="png")

    # ---------------------------------------------------------------- state

    def new_points(self) -> None:
        """Draw a new :math:`z_0`, :math:`z_1` and two orthonormal directions :math:`u, v`; redraw."""
        generator = torch.Generator().manual_seed(self.seed + 1000 * self._draws)
        self._draws += 1
        dim = self.generator.latent_dim
        self.z0, self.z1 = torch.randn(2, dim, generator=generator)
        directions, _ = torch.linalg.qr(torch.randn(dim, 2, generator=generator))  # orthonormal columns
        self.u, self.v = directions[:, 0], directions[:, 1]
        self.render()

    def set_label(self, label: int) -> None:
        """Draw class ``label`` (a conditional generator); redraw."""
        if self.num_classes is None:
            raise ValueError("this generator is unconditional: it has no class to choose")
        if not 0 <= int(label) < self.num_classes:
            raise ValueError(f"label must lie in 0..{self.num_classes - 1}, got {label}")
        self.label = int(label)
        if "label" in self.controls and self.controls["label"].value != self.label:
            self.controls["label"].value = self.label  # calls set_label again, which is harmless
        self.render()

    def move(self, a: float | None = None, b: float | None = None, t: float | None = None) -> None:
        """Move to the point ``a, b`` of the plane and ``t`` of the path (any subset); redraw."""
        for name, value in (("a", a), ("b", b), ("t", t)):
            if value is not None:
                setattr(self, name, float(value))
        self.render()

    def point(self) -> torch.Tensor:
        """The current point of the plane, :math:`z_0 + a u + b v`."""
        return self.z0 + self.a * self.u + self.b * self.v

    # ---------------------------------------------------------------- drawing

    @torch.no_grad()
    def images(self, z: torch.Tensor) -> torch.Tensor:
        """``G(z)`` in eval mode, for the current class if the generator is conditional; on the CPU."""
        was_training = self.generator.training
        self.generator.eval()
        try:
            z = z.to(self.device)
            if self.num_classes is None:
                return self.generator(z).cpu()
            return self.generator(z, torch.full((len(z),), self.label, device=self.device)).cpu()
        finally:
            self.generator.train(was_training)

    def verdicts(self, images: torch.Tensor) -> list[str]:
        """The feature network's most likely class and probability for each image, as short text."""
        if self.classifier is None:
            return ["" for _ in images]
        from ..metrics import class_probabilities

        top, index = class_probabilities(images, self.classifier).max(dim=1)
        names = [self.classifier.classes[int(k)] for k in index]
        return [f"{n.split(':', 1)[1] if n.startswith(self.domain + ':') else n} {p:.2f}" for n, p in zip(names, top)]

    def render(self) -> dict:
        """Redraw the picture; returns what it shows (the current verdicts and the strip's)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        from ..viz import image_grid

        half = self.grid // 2
        offsets = torch.arange(-half, half + 1, dtype=torch.float32) * (self.span / max(half, 1) / 2)
        plane = torch.stack([self.point() + db * self.v + da * self.u for db in offsets for da in offsets])
        ts = torch.linspace(0, 1, self.path_points)
        strip = torch.stack([(1 - t) * self.z0 + t * self.z1 for t in ts])
        on_path = ((1 - self.t) * self.z0 + self.t * self.z1)[None]
        current = self.images(torch.cat([self.point()[None], on_path]))
        plane_images, strip_images = self.images(plane), self.images(strip)
        current_verdicts, strip_verdicts = self.verdicts(current), self.verdicts(strip_images)

        figure = Figure(figsize=(10, 5.2), dpi=72)
        FigureCanvasAgg(figure)
        axes = figure.subplot_mosaic([["now", "grid", "path"], ["strip", "strip", "strip"]],
                                     height_ratios=[3, 1.1])
        axes["now"].imshow(current[0, 0].numpy(), cmap="gray", vmin=-1, vmax=1)
        axes["now"].set_title(f"z0 + {self.a:.2f}u + {self.b:.2f}v\n{current_verdicts[0]}", fontsize=9)
        axes["grid"].imshow(image_grid(plane_images, nrow=self.grid), cmap="gray", vmin=0, vmax=1)
        axes["grid"].set_title("neighbours in the (u, v) plane", fontsize=9)
        axes["path"].imshow(current[1, 0].numpy(), cmap="gray", vmin=-1, vmax=1)
        axes["path"].set_title(f"t = {self.t:.2f} on z0 → z1\n{current_verdicts[1]}", fontsize=9)
        axes["strip"].imshow(image_grid(strip_images, nrow=self.path_points), cmap="gray", vmin=0, vmax=1)
        axes["strip"].set_title("z0 → z1:  " + " | ".join(strip_verdicts), fontsize=8)
        for ax in axes.values():
            ax.set_axis_off()
        label = f"class {self.label} · " if self.num_classes is not None else ""
        self.status.value = (f"{label}a = {self.a:.2f}, b = {self.b:.2f}, t = {self.t:.2f}"
                             + (f" · verdict: {current_verdicts[0]}" if current_verdicts[0] else ""))
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        self.image.value = buffer.getvalue()
        return {"point": current_verdicts[0], "path": current_verdicts[1], "strip": strip_verdicts}
