"""The toy-data plotting helpers of chapters 1-2 (gantutor.viz)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

from gantutor.nets import MLPDiscriminator
from gantutor.viz import animate_toy, decision_surface, generator_gradients, plot_toy


class LinearD(nn.Module):
    """D(x) = sigmoid(w . x): its surface and gradients are known by hand."""

    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))

    def forward(self, x):
        return x @ self.w


def test_decision_surface_is_sigmoid_of_logits_on_the_grid():
    surface = decision_surface(LinearD([1.0, 0.0]), extent=(-1, 1, -2, 2), resolution=5)
    assert surface.shape == (5, 5)
    # columns run along x from -1 to 1, rows along y: D = sigmoid(x) on every row
    expected = torch.sigmoid(torch.linspace(-1, 1, 5)).numpy()
    assert abs(surface - expected[None, :]).max() < 1e-6


@pytest.mark.parametrize("loss", ["saturating", "non-saturating", "hinge", "least-squares"])
def test_generator_arrows_point_up_the_hill_of_d(loss):
    d = LinearD([2.0, -1.0])
    points = torch.zeros(4, 2)  # logit 0 < 1, so even least-squares wants to raise it
    arrows = generator_gradients(d, points, loss)
    assert arrows.shape == (4, 2)
    direction = torch.tensor([2.0, -1.0]) / 5 ** 0.5
    cosine = (arrows @ direction) / arrows.norm(dim=1)
    assert torch.all(cosine > 0.999), "each arrow is parallel to grad D = w"
    assert d.w.grad is None, "arrows leave D's parameters alone"


def test_non_saturating_arrow_length_is_one_minus_d_times_w():
    d = LinearD([0.0, 3.0])
    point = torch.tensor([[0.0, -1.0]])  # logit -3
    arrow = generator_gradients(d, point, "non-saturating")[0]
    expected = (1 - torch.sigmoid(torch.tensor(-3.0))) * 3.0
    assert torch.allclose(arrow, torch.tensor([0.0, expected.item()]), atol=1e-6)


def test_plot_and_animate_toy():
    torch.manual_seed(0)
    real, fake = torch.randn(50, 2), torch.randn(50, 2)
    d = MLPDiscriminator(2, 8, 1)
    ax = plot_toy(real, fake, d, arrows=generator_gradients(d, fake), title="t")
    assert ax.get_title() == "t"
    plt.close("all")
    html = animate_toy([(0, fake), (10, fake + 1)], real)
    assert "<script" in html.data
    with pytest.raises(ValueError, match="2-D points"):
        animate_toy([(0, torch.zeros(3, 1, 28, 28))])
    with pytest.raises(ValueError, match="no frames"):
        animate_toy([])
