"""LatentExplorer driven through its methods and controls, no browser (the front-end test clicks it)."""
import pytest
import torch

from gantutor.nets import Generator

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture()
def conditional():
    torch.manual_seed(0)
    return Generator(latent_dim=8, base_width=4, num_classes=10)


def test_conditional_explorer_has_a_class_menu_and_every_control_changes_the_picture(conditional):
    from gantutor.widgets import LatentExplorer

    explorer = LatentExplorer(conditional, label=3)
    assert set(explorer.controls) == {"a", "b", "t", "label"} and explorer.label == 3
    assert explorer.image.value[:8] == PNG and "class 3" in explorer.status.value
    seen = {explorer.image.value}
    explorer.controls["a"].value = 1.5
    assert explorer.a == 1.5 and torch.allclose(explorer.point(), explorer.z0 + 1.5 * explorer.u)
    seen.add(explorer.image.value)
    explorer.controls["b"].value = -1.0
    seen.add(explorer.image.value)
    explorer.controls["t"].value = 0.5
    seen.add(explorer.image.value)
    explorer.controls["label"].value = 7
    assert explorer.label == 7 and "class 7" in explorer.status.value
    seen.add(explorer.image.value)
    explorer.new_button.click()
    seen.add(explorer.image.value)
    assert len(seen) == 6, "every control should change the picture"


def test_the_label_is_fixed_while_z_moves(conditional):
    from gantutor.widgets import LatentExplorer

    explorer = LatentExplorer(conditional, label=2, classifier=False)
    z = torch.randn(4, 8)
    expected = conditional.eval()(z, torch.full((4,), 2))
    assert torch.allclose(explorer.images(z), expected)
    assert explorer.verdicts(expected) == ["", "", "", ""]


def test_unconditional_generator_and_verdicts_of_the_feature_network():
    from gantutor.pretrained import load
    from gantutor.widgets import LatentExplorer

    explorer = LatentExplorer(load("dcgan-mnist"))
    assert "label" not in explorer.controls
    shown = explorer.render()
    assert len(shown["strip"]) == explorer.path_points and shown["point"]
    with pytest.raises(ValueError, match="unconditional"):
        explorer.set_label(1)


def test_bad_arguments_are_named(conditional):
    from gantutor.widgets import LatentExplorer

    with pytest.raises(ValueError, match="odd"):
        LatentExplorer(conditional, grid=4, classifier=False)
    with pytest.raises(ValueError, match="0..9"):
        LatentExplorer(conditional, label=12, classifier=False)
    with pytest.raises(TypeError, match="latent_dim"):
        LatentExplorer(torch.nn.Linear(2, 2))
