"""Class-conditional GANs: a one-hot label into G, a projection head in D, and the Trainer that feeds both."""
import pytest
import torch

from gantutor.batches import TensorBatches
from gantutor.data import load_domain
from gantutor.distributed import ShardedBatches
from gantutor.nets import Discriminator, Generator
from gantutor.recipes import recipe
from gantutor.train import Trainer


@pytest.fixture(scope="module")
def digits():
    return load_domain("mnist", limit=256, verbose=False)


def small_pair(seed=0, **kwargs):
    torch.manual_seed(seed)
    return (Generator(latent_dim=16, base_width=8, num_classes=10),
            Discriminator(base_width=8, num_classes=10, **kwargs))


def test_generator_draws_the_class_it_is_given():
    generator, _ = small_pair()
    z = torch.randn(6, 16)
    a, b = generator.eval()(z, torch.full((6,), 3)), generator(z, torch.full((6,), 8))
    assert a.shape == (6, 1, 28, 28) and not torch.allclose(a, b), "the label changes the image"
    assert generator.config["num_classes"] == 10
    first = generator.blocks[0][0]
    assert first.in_channels == 16 + 10, "z and the one-hot label enter the first block together"


def test_generator_takes_label_probabilities_in_place_of_the_one_hot():
    generator, _ = small_pair()
    generator.eval()
    z, labels = torch.randn(4, 16), torch.tensor([0, 3, 3, 9])
    onehot = torch.nn.functional.one_hot(labels, 10).float()
    torch.testing.assert_close(generator(z, onehot), generator(z, labels))
    mixture = torch.full((4, 10), 0.1)
    assert not torch.allclose(generator(z, mixture), generator(z, labels)), "a soft label is a different input"
    with pytest.raises(ValueError, match=r"shape \(4, 10\)"):
        generator(z, torch.full((4, 9), 1 / 9))


def test_projection_discriminator_computes_its_formula():
    _, discriminator = small_pair()
    x, y = torch.rand(5, 1, 28, 28) * 2 - 1, torch.tensor([0, 1, 2, 3, 9])
    discriminator.eval()
    features = discriminator.blocks(x)
    psi = discriminator.head(features).flatten()
    projection = (discriminator.label_embedding(y) * features.flatten(1)).sum(1)
    torch.testing.assert_close(discriminator(x, y), psi + projection)


def test_unconditional_networks_are_unchanged_by_the_option():
    torch.manual_seed(0)
    plain = Generator(latent_dim=16, base_width=8)
    assert "num_classes" not in plain.config and plain.num_classes is None
    assert not any("label" in name for name, _ in Discriminator(base_width=8).named_parameters())


@pytest.mark.parametrize("call, message", [
    (lambda g, d: g(torch.randn(2, 16)), "pass the class of every sample"),
    (lambda g, d: g(torch.randn(2, 16), torch.tensor([1, 10])), "0..9"),
    (lambda g, d: g(torch.randn(2, 16), torch.tensor([1.0, 2.0])), "int64"),
    (lambda g, d: d(torch.zeros(2, 1, 28, 28), torch.tensor([1])), r"shape \(2,\)"),
    (lambda g, d: Generator(latent_dim=16, base_width=8)(torch.randn(2, 16), torch.tensor([1, 2])), "unconditional"),
])
def test_wrong_labels_are_named(call, message):
    generator, discriminator = small_pair()
    with pytest.raises(ValueError, match=message):
        call(generator, discriminator)


def test_spectral_norm_parametrizes_every_weight_of_d():
    _, discriminator = small_pair(spectral_norm=True)
    parametrized = [name for name, _ in discriminator.named_parameters() if "parametrizations" in name]
    assert len(parametrized) == 4 and discriminator.config["spectral_norm"] is True  # 3 convs + the embedding


def test_trainer_trains_conditionally_and_resumes_exactly(digits, tmp_path):
    generator, discriminator = small_pair()
    trainer = Trainer(generator, discriminator, digits, batch_size=32, ema_decay=0.99, device="cpu")
    assert trainer.num_classes == 10
    trainer.fit(4, progress=False)
    path = trainer.save(tmp_path / "c.pt")
    resumed = Trainer.resume(path, data=digits)
    trainer.fit(3, progress=False)
    resumed.fit(3, progress=False)
    for a, b in zip(trainer.generator.state_dict().values(), resumed.generator.state_dict().values()):
        assert torch.equal(a, b)
    grid = trainer.sample(20)  # each class in turn
    assert grid.shape == (20, 1, 28, 28)
    asked = trainer.sample(3, labels=torch.tensor([7, 7, 7]))
    again = trainer.sample(3, labels=torch.tensor([7, 7, 7]))
    assert torch.equal(asked, again) and torch.equal(trainer.eval_labels(12)[:11], torch.tensor(list(range(10)) + [0]))


def test_fake_labels_follow_the_data_label_distribution():
    images = torch.rand(100, 1, 28, 28) * 2 - 1

    class Skewed(torch.utils.data.Dataset):
        labels = torch.tensor([0] * 90 + [1] * 10)

        def __len__(self):
            return 100

        def __getitem__(self, i):
            return images[i], int(self.labels[i])

    generator, discriminator = small_pair()
    trainer = Trainer(generator, discriminator, Skewed(), batch_size=16, device="cpu")
    drawn = trainer.fake_labels(4000)
    assert abs(float((drawn == 0).float().mean()) - 0.9) < 0.03 and int(drawn.max()) == 1


def test_conditional_networks_need_labelled_data_and_matching_classes(digits):
    generator, discriminator = small_pair()
    with pytest.raises(ValueError, match="labelled data"):
        Trainer(generator, discriminator, digits.images, device="cpu")
    with pytest.raises(ValueError, match="same num_classes"):
        Trainer(generator, Discriminator(base_width=8), digits, device="cpu")
    with pytest.raises(ValueError, match="conditioned on 3 classes"):
        Trainer(Generator(latent_dim=16, base_width=8, num_classes=3), Discriminator(base_width=8, num_classes=3),
                digits, device="cpu")


def test_sharded_batches_split_images_and_labels_alike():
    data, labels = torch.arange(16.0).reshape(16, 1, 1, 1), torch.arange(16)
    whole = TensorBatches(data, 8, seed=3, device=torch.device("cpu"), labels=labels).next()
    parts = [ShardedBatches(TensorBatches(data, 4, seed=3, device=torch.device("cpu"), labels=labels), r, 2).next()
             for r in (0, 1)]
    assert torch.equal(torch.cat([p[0] for p in parts]), whole[0])
    assert torch.equal(torch.cat([p[1] for p in parts]), whole[1])
    assert torch.equal(whole[0].flatten().long(), whole[1]), "every image keeps its own label"


def test_a_conditional_recipe_builds_conditional_networks(digits):
    run = recipe("chapter-5", num_classes=10, width=8, latent_dim=16)
    trainer = Trainer.from_recipe(run, digits, device="cpu")
    assert trainer.generator.num_classes == trainer.discriminator.num_classes == 10


def test_the_command_line_trains_a_conditional_recipe(tmp_path):
    from gantutor.cli import main
    from gantutor.train import load_checkpoint

    out = tmp_path / "cgan"
    assert main(["--domain", "mnist", "--recipe", "chapter-5-cgan", "--dry-run", "--device", "cpu",
                 "--out", str(out), "--log-every", "1000"]) == 0
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["generator"]["config"]["num_classes"] == 10 and state["discriminator"]["config"]["num_classes"] == 10
    assert (out / "samples" / "step_000002.png").exists()
