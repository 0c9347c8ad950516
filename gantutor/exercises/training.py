"""Checks for chapter 5: the two parts of a training step."""
from __future__ import annotations

import copy
import math

import torch
from torch import nn

from .verdict import Verdict


def _tiny_gan(seed: int = 0):
    from ..nets import Discriminator, Generator

    torch.manual_seed(seed)
    generator, discriminator = Generator(latent_dim=8, base_width=4), Discriminator(base_width=4)
    real = torch.rand(8, 1, 28, 28) * 2 - 1
    z = torch.randn(8, 8)
    return generator, discriminator, real, z


def _params(net: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in net.parameters()]


def _moved(before: list[torch.Tensor], net: nn.Module) -> float:
    return max((a - p.detach()).abs().max().item() for a, p in zip(before, net.parameters()))


def check_d_step(d_step, verbose: bool = True) -> bool:
    """Check ``d_step(generator, discriminator, opt_d, real, z) -> d_loss``: Part 1 of the loop.

    D's weights must change, G's must not, G's gradients must stay empty (``detach``), and the
    returned loss must be the non-saturating D loss before the update.
    """
    from ..losses import get_loss

    v = Verdict("discriminator step (Part 1)")
    generator, discriminator, real, z = _tiny_gan()
    with torch.no_grad():
        reference = copy.deepcopy(discriminator)
        want = get_loss("non-saturating").d_loss(reference(real), reference(generator(z))).item()
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    g_before, d_before = _params(generator), _params(discriminator)
    try:
        loss = d_step(generator, discriminator, opt_d, real, z)
        value = float(loss.item() if isinstance(loss, torch.Tensor) else loss)
        v.expect(_moved(d_before, discriminator) > 0, "D's weights changed", "they did not: call opt_d.step()")
        v.expect(_moved(g_before, generator) == 0, "G's weights did not change", "G moved during D's step")
        grads = [p.grad for p in generator.parameters() if p.grad is not None and p.grad.abs().sum() > 0]
        v.expect(not grads, "no gradient reached G (the fakes were detached)",
                 f"{len(grads)} of G's tensors got gradients: use fake.detach() in D's loss")
        v.expect(math.isclose(value, want, rel_tol=1e-4, abs_tol=1e-5), f"the returned loss is {want:.4f}",
                 f"got {value:.4f}: softplus(-D(real)).mean() + softplus(D(fake)).mean(), computed before the step")
    except Exception as error:  # noqa: BLE001
        v.expect(False, "it runs", f"{type(error).__name__}: {error}")
    return v.done(verbose)


def check_g_step(g_step, verbose: bool = True) -> bool:
    r"""Check ``g_step(generator, discriminator, opt_g, z) -> g_loss``: Part 2 of the loop.

    G's weights must change, D's must not, and the loss must be the non-saturating
    :math:`-\log D(G(z))` (mean), computed before the update.
    """
    from ..losses import get_loss

    v = Verdict("generator step (Part 2)")
    generator, discriminator, _, z = _tiny_gan()
    with torch.no_grad():
        want = get_loss("non-saturating").g_loss(copy.deepcopy(discriminator)(copy.deepcopy(generator)(z))).item()
        saturating = get_loss("saturating").g_loss(copy.deepcopy(discriminator)(copy.deepcopy(generator)(z))).item()
    opt_g = torch.optim.Adam(generator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    g_before, d_before = _params(generator), _params(discriminator)
    try:
        loss = g_step(generator, discriminator, opt_g, z)
        value = float(loss.item() if isinstance(loss, torch.Tensor) else loss)
        v.expect(_moved(g_before, generator) > 0, "G's weights changed", "they did not: call opt_g.step()")
        v.expect(_moved(d_before, discriminator) == 0, "D's weights did not change", "D moved during G's step")
        hint = (f"got {value:.4f}, the saturating loss log(1 - D(G(z))): use -log D(G(z)) = softplus(-logits)"
                if math.isclose(value, saturating, rel_tol=1e-4) else
                f"got {value:.4f}: the non-saturating loss is softplus(-D(G(z))).mean(), before the step")
        v.expect(math.isclose(value, want, rel_tol=1e-4, abs_tol=1e-5), f"the returned loss is {want:.4f}", hint)
    except Exception as error:  # noqa: BLE001
        v.expect(False, "it runs", f"{type(error).__name__}: {error}")
    return v.done(verbose)
