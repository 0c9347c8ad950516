"""TranslationLab: pick a source image, see what each translator makes of it and what a classifier reads.

One row per translator (DTN, CycleGAN, ...): the input, its translation, and the book's
feature network's verdict on the translation (its most likely class and probability), in
green when it is the input's digit drawn in the target domain, red otherwise. A slider and a
*Random* button choose the input; a dropdown filters the inputs to one digit. Uses only
widgets that ipywidgets 7.7 and 8.x share.

The logic lives in plain methods (:meth:`show`, :meth:`verdicts`, :meth:`render`) that the
tests call directly; the widgets only call them.
"""
from __future__ import annotations

import io

import torch

__all__ = ["TranslationLab"]


class TranslationLab:
    """A widget to browse translations of ``source`` images by one or more translators.

    Args:
        translators: ``{name: translate}``, each a function (or an object with ``.translate``)
            from ``(N, 1, 28, 28)`` source images to target-domain images.
        source: the labelled source images (an ``ImageDomain``, e.g. the test split of ``digits``).
        domain: the target domain whose classes the verdict reads (default ``"mnist"``).
        seed: of the *Random* button's stream.
    """

    def __init__(self, translators: dict, source, domain: str = "mnist", seed: int = 0) -> None:
        import ipywidgets as widgets

        if not isinstance(translators, dict) or not translators:
            raise ValueError("TranslationLab needs translators as {name: function}, e.g. {'DTN': dtn.translate}")
        self.translators = {name: getattr(t, "translate", t) for name, t in translators.items()}
        for name, t in self.translators.items():
            if not callable(t):
                raise ValueError(f"the translator {name!r} is neither a function nor has a .translate method")
        if not hasattr(source, "images") or not hasattr(source, "labels"):
            raise ValueError("TranslationLab needs labelled source images: an ImageDomain such as "
                             "gantutor.data.load_domain('digits', split='test')")
        self.source, self.domain = source, domain
        self.generator = torch.Generator().manual_seed(seed)
        digits = ["any"] + [str(c) for c in source.classes]
        self.digit_box = widgets.Dropdown(options=digits, value="any", description="digit")
        self.index_box = widgets.IntSlider(value=0, min=0, max=len(source) - 1, description="image")
        self.random_button = widgets.Button(description="Random", icon="random")
        self.status = widgets.HTML(value="")
        self.image = widgets.Image(format="png")
        self.index_box.observe(lambda change: self.show(change["new"]), names="value")
        self.digit_box.observe(lambda _: self.random(), names="value")
        self.random_button.on_click(lambda _: self.random())
        self.widget = widgets.VBox([widgets.HBox([self.digit_box, self.index_box, self.random_button]),
                                    self.status, self.image])
        self.show(0)

    def _ipython_display_(self):  # ipywidgets 7.7 and 8 both honour this
        from IPython.display import display

        display(self.widget)

    def candidates(self) -> torch.Tensor:
        """Indices of the source images the digit filter allows."""
        if self.digit_box.value == "any":
            return torch.arange(len(self.source))
        label = list(self.source.classes).index(self.digit_box.value)
        return torch.nonzero(self.source.labels == label).flatten()

    def random(self) -> int:
        """Show a random allowed image; returns its index."""
        pool = self.candidates()
        index = int(pool[torch.randint(len(pool), (1,), generator=self.generator)])
        if index == self.index_box.value:
            self.show(index)
        else:
            self.index_box.value = index  # the observer calls show
        return index

    @torch.no_grad()
    def verdicts(self, index: int) -> list[dict]:
        """Per translator: the translation of source image ``index`` and the feature network's reading."""
        from ..metrics import class_probabilities, feature_net

        net = feature_net()
        x = self.source.images[index: index + 1]
        label = int(self.source.labels[index])
        wanted = f"{self.domain}:{self.source.classes[label]}"
        rows = []
        for name, translate in self.translators.items():
            y = translate(x).detach().float().cpu()
            probs = class_probabilities(y, net)[0]
            top = int(probs.argmax())
            rows.append({"name": name, "image": y[0, 0], "class": net.classes[top], "probability": float(probs[top]),
                         "correct": net.classes[top] == wanted})
        return rows

    def show(self, index: int) -> list[dict]:
        """Translate source image ``index`` with every translator and draw the rows."""
        if not 0 <= index < len(self.source):
            raise ValueError(f"index must lie in 0..{len(self.source) - 1}, got {index}")
        self.index = index
        rows = self.verdicts(index)
        label = self.source.classes[int(self.source.labels[index])]
        right = sum(r["correct"] for r in rows)
        self.status.value = (f"source image {index} shows a <b>{label}</b>; {right} of {len(rows)} translations "
                             f"are read as a {self.domain} {label}")
        self.image.value = self.render(rows)
        return rows

    def render(self, rows: list[dict]) -> bytes:
        """PNG: the input, then each translation with its verdict."""
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(rows) + 1, figsize=(1.9 * (len(rows) + 1), 2.3))
        axes[0].imshow(self.source.images[self.index, 0].numpy(), cmap="gray", vmin=-1, vmax=1)
        axes[0].set_title("input", fontsize=9)
        for ax, row in zip(axes[1:], rows):
            ax.imshow(row["image"].numpy(), cmap="gray", vmin=-1, vmax=1)
            ax.set_title(f"{row['name']}\n{row['class']} ({row['probability']:.2f})", fontsize=9,
                         color="tab:green" if row["correct"] else "tab:red")
        for ax in axes:
            ax.axis("off")
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=80)
        plt.close(fig)
        return buffer.getvalue()
