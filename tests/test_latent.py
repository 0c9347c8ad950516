"""Latent priors: reproducible samples, the mixture's islands, and the Trainer's use of them."""
import pytest
import torch

from gantutor.data import load_domain
from gantutor.latent import MixturePrior, StandardNormal, build_prior
from gantutor.nets import Discriminator, Generator
from gantutor.train import Trainer


def test_standard_normal_draws_what_randn_draws():
    prior = StandardNormal(8)
    a = prior.sample(5, generator=torch.Generator().manual_seed(3))
    b = torch.randn(5, 8, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_mixture_samples_sit_near_their_own_centre():
    prior = MixturePrior(64, components=10, scale=2.0, seed=1)
    z = prior.sample(2000, generator=torch.Generator().manual_seed(0))
    assert z.shape == (2000, 64)
    distances = torch.cdist(z, prior.centres)  # (2000, 10)
    nearest, second = distances.topk(2, dim=1, largest=False).values.T
    # every sample is far closer to one centre than to any other: separate islands
    assert (second / nearest).min() > 1.5, (second / nearest).min()
    counts = torch.bincount(distances.argmin(dim=1), minlength=10)
    assert counts.min() > 120, counts  # the centres are chosen uniformly (200 expected each)


def test_same_arguments_give_the_same_prior_and_describe_round_trips():
    a = MixturePrior(16, components=7, scale=1.5, seed=4)
    b = build_prior(a.describe())
    assert isinstance(b, MixturePrior) and torch.equal(a.centres, b.centres)
    assert not torch.equal(a.centres, MixturePrior(16, components=7, scale=1.5, seed=5).centres)
    assert isinstance(build_prior(StandardNormal(3).describe()), StandardNormal)


def test_bad_priors_fail_clearly():
    with pytest.raises(ValueError, match="components"):
        MixturePrior(8, components=0)
    with pytest.raises(ValueError, match="scale"):
        MixturePrior(8, scale=0)
    with pytest.raises(ValueError, match="unknown latent prior 'Uniform'"):
        build_prior({"name": "Uniform", "latent_dim": 3})
    data = load_domain("mnist", limit=64, verbose=False)
    with pytest.raises(ValueError, match="latent_dim=16"):
        Trainer(Generator(latent_dim=16, base_width=8), Discriminator(base_width=8), data,
                latent=MixturePrior(8), device="cpu")


def test_trainer_trains_on_the_prior_and_resumes_exactly(tmp_path):
    data = load_domain("mnist", limit=128, verbose=False)

    def trainer(**kwargs):
        torch.manual_seed(0)
        return Trainer(Generator(latent_dim=16, base_width=8), Discriminator(base_width=8), data, batch_size=16,
                       device="cpu", latent=MixturePrior(16, components=5, scale=3.0), **kwargs)

    t = trainer()
    fixed = t.fixed_noise(200)
    assert torch.cdist(fixed, t.latent.centres).min(dim=1).values.max() < 7  # drawn from the islands (about 4 from the centre)
    t.fit(3, progress=False)
    t.save(tmp_path / "run.pt")
    t.fit(3, progress=False)
    resumed = Trainer.resume(tmp_path / "run.pt", device="cpu")
    assert isinstance(resumed.latent, MixturePrior) and torch.equal(resumed.latent.centres, t.latent.centres)
    resumed.fit(3, progress=False)
    for name, value in t.generator.state_dict().items():
        assert torch.equal(value, resumed.generator.state_dict()[name]), name
