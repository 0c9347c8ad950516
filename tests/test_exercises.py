"""Every exercise check: a right answer passes; a wrong one fails with a line that says what was
expected and what was got, and a hint only when it names the mistake that was made."""
from __future__ import annotations

import math
import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import gantutor.exercises as ex
from gantutor import theory
from gantutor.data import load_domain
from gantutor.metrics import _unbiased_mmd2, frechet_distance
from gantutor.nets import Discriminator, Generator
from gantutor.viz import generator_gradients


def verdict(capsys, check, *args, **kwargs) -> tuple[bool, str]:
    result = check(*args, **kwargs)
    return result, capsys.readouterr().out


def failed_lines(out: str) -> list[str]:
    return [line.strip()[2:] for line in out.splitlines() if line.strip().startswith("✗")]


def assert_fails(out: str, what: str, expected: str, got: str, hint: str | None = None, no_hint: bool = False):
    """One failed line names ``what``, says ``expected ...`` and ``got ...``; its hint is ``hint`` (or absent)."""
    lines = [line for line in failed_lines(out) if line.startswith(what)]
    assert lines, f"no failed line about {what!r} in:\n{out}"
    line = lines[0]
    assert f"expected {expected}" in line and f"got {got}" in line, f"expected/got missing from: {line}"
    assert line.index("expected") < line.index(", got"), line
    if hint is not None:
        assert "Hint:" in line and hint in line.split("Hint:", 1)[1], f"the hint should mention {hint!r}: {line}"
    if no_hint:
        assert "Hint:" not in line, f"no hint applies here: {line}"


def test_every_check_is_tested_here():
    tested = set(re.findall(r"ex\.(check_\w+)", open(__file__).read()))
    assert set(n for n in ex.__all__ if n.startswith("check_")) <= tested


def test_every_failed_line_says_expected_and_got(capsys):
    """Across all the wrong answers below, no failed line lacks "expected" and "got"."""
    ex.check_parameter_count(1, nn.Linear(2, 2))
    ex.check_upsampling_layer(nn.ConvTranspose2d(2, 2, 3, 2, 1), 14, 28)
    for line in failed_lines(capsys.readouterr().out):
        assert "expected " in line and ", got " in line, line


# ---------------------------------------------------------------- chapter 1

def d_star(x, mu):
    return theory.optimal_discriminator(theory.gaussian_density(x), theory.gaussian_density(x, mu))


def test_optimal_discriminator(capsys):
    ok, out = verdict(capsys, ex.check_optimal_discriminator, d_star)
    assert ok and "Well done" in out
    ok, out = verdict(capsys, ex.check_optimal_discriminator, lambda x, mu: 1 - d_star(x, mu))
    assert not ok
    assert_fails(out, "mu=-1.0: D*(x) = p_data / (p_data + p_g)", "D*(", "", hint="probability of 'fake'")


def test_optimal_discriminator_wrong_shape(capsys):
    ok, out = verdict(capsys, ex.check_optimal_discriminator, lambda x, mu: d_star(x, mu)[:10])
    assert not ok
    assert_fails(out, "mu=-1.0: the shape of d_star(x, mu)", "one value per point, shape (1401,)", "shape (10,)",
                 no_hint=True)


def test_jensen_shannon(capsys):
    ok, _ = verdict(capsys, ex.check_jensen_shannon, theory.jensen_shannon)
    assert ok
    ok, out = verdict(capsys, ex.check_jensen_shannon, lambda p, q, x: theory.jensen_shannon(p, q, x) / math.log(2))
    assert not ok
    assert_fails(out, "jsd on half-overlapping boxes", "0.3466 nats", "0.5000", hint="in bits")


def test_generator_loss(capsys):
    ok, _ = verdict(capsys, ex.check_generator_loss, lambda logits: F.softplus(-logits).mean())
    assert ok
    ok, out = verdict(capsys, ex.check_generator_loss, lambda logits: -F.softplus(logits).mean())  # saturating
    assert not ok
    assert_fails(out, "g_loss on the logits", "-mean(log sigmoid(logits)) = ", "", hint="saturating loss")
    ok, out = verdict(capsys, ex.check_generator_loss, lambda logits: F.softplus(-logits))  # no mean
    assert not ok
    assert_fails(out, "g_loss(logits) for 4 logits", "one number (a 0-dim tensor)", "a Tensor of shape (4,)",
                 hint="mean over the batch")


# ---------------------------------------------------------------- chapter 2

def test_gradient_arrows(capsys):
    ok, _ = verdict(capsys, ex.check_gradient_arrows, lambda d, p: generator_gradients(d, p, "non-saturating"))
    assert ok
    ok, out = verdict(capsys, ex.check_gradient_arrows, lambda d, p: -generator_gradients(d, p, "non-saturating"))
    assert not ok
    assert_fails(out, "the arrows, -grad_x of the non-saturating loss", "arrow ", "(", hint="other way")


class SamplerTrainer:
    """Stands in for a trained toy GAN: ``sample`` draws from ``draw``."""

    def __init__(self, draw):
        self.data = load_domain("ring", verbose=False)
        self.draw = draw

    def noise(self, n):
        return torch.zeros(n, 2)

    def sample(self, n, z=None):
        return self.draw(self.data, n)


def test_toy_gan(capsys):
    ok, _ = verdict(capsys, ex.check_toy_gan, SamplerTrainer(lambda data, n: data.sample(n)))
    assert ok
    one_mode = SamplerTrainer(lambda data, n: data.centres[:1].repeat(n, 1) + 0.01 * torch.randn(n, 2))
    ok, out = verdict(capsys, ex.check_toy_gan, one_mode)
    assert not ok
    assert_fails(out, "modes covered by 2500 samples", "at least 8 of 8", "1", hint="mode collapse")
    assert "samples within 3σ" not in "\n".join(failed_lines(out)), "the samples are good: no quality complaint"


# ---------------------------------------------------------------- chapters 3 and 4

def test_generator(capsys):
    ok, _ = verdict(capsys, ex.check_generator, Generator(latent_dim=64, base_width=8))
    assert ok
    sigmoid_end = Generator(latent_dim=64, base_width=8)
    sigmoid_end.blocks[-1][-1] = nn.Sigmoid()
    ok, out = verdict(capsys, ex.check_generator, sigmoid_end)
    assert not ok
    assert_fails(out, "the last layer", "nn.Tanh", "Sigmoid", no_hint=True)
    assert_fails(out, "the signs of the output", "negative and positive values", "values from 0.", no_hint=True)


def test_generator_wrong_size(capsys):
    ok, out = verdict(capsys, ex.check_generator, Generator(latent_dim=64, base_width=8, image_size=32))
    assert not ok
    assert_fails(out, "the shape of the output", "(8, 1, 28, 28)", "(8, 1, 32, 32)", hint="the side is 32")


def test_upsampling_layer(capsys):
    ok, _ = verdict(capsys, ex.check_upsampling_layer, nn.ConvTranspose2d(8, 8, 4, 2, 1), 14, 28)
    assert ok
    ok, out = verdict(capsys, ex.check_upsampling_layer, nn.ConvTranspose2d(8, 8, 3, 2, 1), 14, 28)
    assert not ok
    assert_fails(out, "the side it makes of a 14x14 input", "28x28", "27x27", hint="(14 - 1)·2 - 2·1 + 3 = 27")
    assert_fails(out, "the kernel size against the stride", "a kernel size that is a multiple of the stride",
                 "kernel 3 and stride 2", no_hint=True)


def block2():
    return nn.Sequential(nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU())


def test_parameter_count(capsys):
    ok, _ = verdict(capsys, ex.check_parameter_count, 128 * 64 * 16 + 2 * 64, block2())
    assert ok
    ok, out = verdict(capsys, ex.check_parameter_count, 128 * 64 * 16, block2())
    assert not ok
    assert_fails(out, "the number of parameters of Sequential", "131,200 (counted by PyTorch)",
                 "your 131,072 (off by -128)", hint="BatchNorm's 128 parameters")
    assert "Sequential has 131,072" not in out, "the wrong count is never stated as a fact"
    ok, out = verdict(capsys, ex.check_parameter_count, 128 * 64 * 16 + 64 + 2 * 64, block2())
    assert_fails(out, "the number of parameters of Sequential", "131,200", "your 131,264", hint="bias=False")
    ok, out = verdict(capsys, ex.check_parameter_count, 12345, block2())
    assert_fails(out, "the number of parameters of Sequential", "131,200", "your 12,345", no_hint=True)


def test_discriminator(capsys):
    ok, _ = verdict(capsys, ex.check_discriminator, Discriminator(base_width=8))
    assert ok
    with_sigmoid = nn.Sequential(Discriminator(base_width=8), nn.Sigmoid())
    ok, out = verdict(capsys, ex.check_discriminator, with_sigmoid)
    assert not ok
    assert_fails(out, "the last layer", "a layer that outputs a logit", "a Sigmoid", no_hint=True)
    relu = nn.Sequential(nn.Conv2d(1, 8, 4, 2, 1), nn.ReLU(), nn.Conv2d(8, 1, 14))
    ok, out = verdict(capsys, ex.check_discriminator, relu)
    assert_fails(out, "the activations", "LeakyReLU(0.2) everywhere", "ReLU", no_hint=True)


def test_receptive_field(capsys):
    layers = [(4, 2), (4, 2), (3, 1)]
    ok, _ = verdict(capsys, ex.check_receptive_field, 18, layers)
    assert ok
    ok, out = verdict(capsys, ex.check_receptive_field, 1 + 3 + 3 + 2, layers)
    assert not ok
    assert_fails(out, "the receptive field of the last layer", "18x18 input pixels (layer by layer: 1 -> 4 -> 10 -> 18)",
                 "your 9x9", hint="without the jump")


def good_d_loss(real, fake):
    return F.binary_cross_entropy_with_logits(real, torch.ones_like(real)) + \
        F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))


def test_d_loss(capsys):
    ok, _ = verdict(capsys, ex.check_d_loss, good_d_loss)
    assert ok
    ok, out = verdict(capsys, ex.check_d_loss, lambda real, fake: good_d_loss(fake, real))  # labels swapped
    assert not ok
    assert_fails(out, "d_loss on 16 random real and 16 random fake logits", "1.", "", hint="labels are swapped")
    assert "sigmoid" not in out.lower(), "the sigmoid hint does not apply to swapped labels"
    unstable = lambda real, fake: -(torch.log(torch.sigmoid(real)).mean() + torch.log(1 - torch.sigmoid(fake)).mean())
    ok, out = verdict(capsys, ex.check_d_loss, unstable)
    assert not ok
    assert_fails(out, "d_loss for a confident wrong D", "400.0", "[inf]", hint="sigmoid then log")
    clamped = lambda real, fake: F.binary_cross_entropy(torch.sigmoid(real), torch.ones_like(real)) + \
        F.binary_cross_entropy(torch.sigmoid(fake), torch.zeros_like(fake))
    ok, out = verdict(capsys, ex.check_d_loss, clamped)
    assert_fails(out, "d_loss for a confident wrong D", "400.0", "[200.0]", hint="clamps each log at -100")


# ---------------------------------------------------------------- chapter 5

def d_step(generator, discriminator, opt_d, real, z, detach=True):
    fake = generator(z)
    loss = F.softplus(-discriminator(real)).mean() + F.softplus(discriminator(fake.detach() if detach else fake)).mean()
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item()


def g_step(generator, discriminator, opt_g, z, saturating=False):
    logits = discriminator(generator(z))
    loss = -F.softplus(logits).mean() if saturating else F.softplus(-logits).mean()
    opt_g.zero_grad()
    loss.backward()
    opt_g.step()
    return loss.item()


def test_d_step(capsys):
    ok, _ = verdict(capsys, ex.check_d_step, d_step)
    assert ok
    ok, out = verdict(capsys, ex.check_d_step, lambda *a: d_step(*a, detach=False))
    assert not ok
    assert_fails(out, "gradients in G after D's step", "none (the fakes are detached)", "gradients in ",
                 hint="fake.detach()")
    assert len(failed_lines(out)) == 1, "only the missing detach is wrong"


def test_g_step(capsys):
    ok, _ = verdict(capsys, ex.check_g_step, g_step)
    assert ok
    ok, out = verdict(capsys, ex.check_g_step, lambda *a: g_step(*a, saturating=True))
    assert not ok
    assert_fails(out, "the returned loss", "", "", hint="saturating loss")


# ---------------------------------------------------------------- chapters 6 and 7

def test_frechet_distance(capsys):
    ok, _ = verdict(capsys, ex.check_frechet_distance, frechet_distance)
    assert ok

    def biased(a, b):
        from gantutor.metrics import gaussian_frechet_distance

        cov = lambda x: (x - x.mean(0)).T @ (x - x.mean(0)) / len(x)
        return gaussian_frechet_distance(a.mean(0), cov(a), b.mean(0), cov(b))

    ok, out = verdict(capsys, ex.check_frechet_distance, biased)
    assert not ok
    assert_fails(out, "FD(a, b) against the closed form", "", "", hint="biased covariance")


def test_kernel_distance(capsys):
    ok, _ = verdict(capsys, ex.check_kernel_distance, lambda x, y: _unbiased_mmd2(x, y))
    assert ok
    kernel = lambda p, q: (p @ q.T / p.shape[1] + 1) ** 3
    biased = lambda x, y: kernel(x, x).mean() + kernel(y, y).mean() - 2 * kernel(x, y).mean()
    ok, out = verdict(capsys, ex.check_kernel_distance, biased)
    assert not ok
    assert_fails(out, "MMD² of 50 vs 60 rows against the unbiased estimator", "", "", hint="biased estimate")


def test_strategy_parameters(capsys):
    ok, _ = verdict(capsys, ex.check_strategy_parameters,
                    lambda g, d: (list(g.blocks[-1].parameters()), list(d.head.parameters())))
    assert ok
    ok, out = verdict(capsys, ex.check_strategy_parameters, lambda g, d: (list(g.parameters()), list(d.head.parameters())))
    assert not ok
    assert_fails(out, "G: exactly the parameters of its last block", "the 2 parameters of generator.blocks[-1]",
                 "2 of the 2 wanted;", no_hint=True)
    ok, out = verdict(capsys, ex.check_strategy_parameters, lambda g, d: (g.blocks[-1], d.head))
    assert_fails(out, "g_params and d_params", "two lists of parameters (nn.Parameter)", "a Sequential and a Conv2d",
                 hint="module.parameters()")


def test_a_crash_is_reported_in_words(capsys):
    ok, out = verdict(capsys, ex.check_d_loss, lambda real, fake: 1 / 0)
    assert not ok
    assert_fails(out, "d_loss on two tensors of logits", "it to run", "ZeroDivisionError: division by zero")


@pytest.mark.parametrize("verbose", [False])
def test_verbose_false_prints_nothing(capsys, verbose):
    assert ex.check_parameter_count(1, nn.Linear(2, 2), verbose=verbose) is False
    assert capsys.readouterr().out == ""


# chapter 8: shared layers and the cycle loss

def test_share_layers_passes_a_right_answer_and_names_a_copy(capsys):
    right = lambda first, second, k: (first, nn.Sequential(*list(first)[:k], *list(second)[k:]))  # noqa: E731
    ok, out = verdict(capsys, ex.check_share_layers, right)
    assert ok, out
    import copy
    copied = lambda first, second, k: (first, nn.Sequential(*[copy.deepcopy(m) for m in list(first)[:k]],  # noqa: E731
                                                            *list(second)[k:]))
    ok, out = verdict(capsys, ex.check_share_layers, copied)
    assert not ok
    assert_fails(out, "k=2: the first 2 layers are one module in both", "the same objects", "shared positions []",
                 hint="the very same module")
    everything = lambda first, second, k: (first, first)  # noqa: E731
    ok, out = verdict(capsys, ex.check_share_layers, everything)
    assert not ok and "share only the first k layers" in out


def test_cycle_loss_check_recognises_the_usual_mistakes(capsys):
    ok, out = verdict(capsys, ex.check_cycle_loss, lambda x, y: (x - y).abs().mean())
    assert ok, out
    ok, out = verdict(capsys, ex.check_cycle_loss, lambda x, y: (x - y).pow(2).mean())
    assert not ok
    assert_fails(out, "the loss of two random batches", "", "", hint="mean squared error")
    ok, out = verdict(capsys, ex.check_cycle_loss, lambda x, y: (x - y).abs().sum())
    assert_fails(out, "the loss of two random batches", "", "", hint="sum over all pixels")
    ok, out = verdict(capsys, ex.check_cycle_loss, lambda x, y: 1 / 0)
    assert not ok and "ZeroDivisionError" in out


def test_info_loss_check_recognises_the_usual_mistakes(capsys):
    import torch.nn.functional as F

    ok, out = verdict(capsys, ex.check_info_loss, lambda logits, codes: F.cross_entropy(logits, codes))
    assert ok, out
    ok, out = verdict(capsys, ex.check_info_loss,
                      lambda logits, codes: -logits.gather(1, codes[:, None]).mean())
    assert not ok
    assert_fails(out, "the term for random logits", "", "", hint="take log_softmax first")
    ok, out = verdict(capsys, ex.check_info_loss, lambda logits, codes: -F.cross_entropy(logits, codes))
    assert_fails(out, "the term for random logits", "", "", hint="the sign is flipped")
    ok, out = verdict(capsys, ex.check_info_loss, lambda logits, codes: F.cross_entropy(logits, codes, reduction="sum"))
    assert_fails(out, "the term for random logits", "", "", hint="sum over the batch")
    ok, out = verdict(capsys, ex.check_info_loss, lambda logits, codes: 1 / 0)
    assert not ok and "ZeroDivisionError" in out
