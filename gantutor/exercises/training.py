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
    loss = get_loss("non-saturating")
    with torch.no_grad():
        reference = copy.deepcopy(discriminator)
        real_logits, fake_logits = reference(real), reference(generator(z))
        want = loss.d_loss(real_logits, fake_logits).item()
        swapped = loss.d_loss(fake_logits, real_logits).item()
    opt_d = torch.optim.Adam(discriminator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    g_before, d_before = _params(generator), _params(discriminator)
    try:
        returned = d_step(generator, discriminator, opt_d, real, z)
        value = float(returned.item() if isinstance(returned, torch.Tensor) else returned)
        moved_d, moved_g = _moved(d_before, discriminator), _moved(g_before, generator)
        v.compare(moved_d > 0, "D's weights after the step", "changed", "unchanged",
                  "call opt_d.step() after d_loss.backward()")
        v.compare(moved_g == 0, "G's weights after the step", "unchanged", f"changed by up to {moved_g:.3g}",
                  "D's step updates D only: do not call an optimiser of G here")
        grads = [p for p in generator.parameters() if p.grad is not None and p.grad.abs().sum() > 0]
        v.compare(not grads, "gradients in G after D's step", "none (the fakes are detached)",
                  f"gradients in {len(grads)} of G's {len(list(generator.parameters()))} tensors",
                  "compute D's loss on fake.detach() (or make the fakes under torch.no_grad())")
        with torch.no_grad():
            after = loss.d_loss(discriminator(real), discriminator(generator(z))).item()
        hint = ""
        if math.isclose(value, swapped, rel_tol=1e-4, abs_tol=1e-5):
            hint = "the labels are swapped: D's real logits go with label 1, its fake logits with label 0"
        elif math.isclose(value, after, rel_tol=1e-4, abs_tol=1e-5) and not math.isclose(after, want, rel_tol=1e-4):
            hint = "that is the loss after the update: return the value computed before opt_d.step()"
        elif math.isclose(value, want / 2, rel_tol=1e-4, abs_tol=1e-5):
            hint = "that is the average of the two terms: the D loss is their sum"
        v.compare(math.isclose(value, want, rel_tol=1e-4, abs_tol=1e-5), "the returned loss",
                  f"{want:.4f} (softplus(-D(real)).mean() + softplus(D(fake)).mean(), before the step)",
                  f"{value:.4f}", hint)
    except Exception as error:  # noqa: BLE001
        v.compare(False, "d_step(generator, discriminator, opt_d, real, z)", "it to run",
                  f"{type(error).__name__}: {error}")
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
        logits = copy.deepcopy(discriminator)(copy.deepcopy(generator)(z))
        want = get_loss("non-saturating").g_loss(logits).item()
        saturating = get_loss("saturating").g_loss(logits).item()
    opt_g = torch.optim.Adam(generator.parameters(), lr=1e-3, betas=(0.5, 0.999))
    g_before, d_before = _params(generator), _params(discriminator)
    try:
        returned = g_step(generator, discriminator, opt_g, z)
        value = float(returned.item() if isinstance(returned, torch.Tensor) else returned)
        moved_g, moved_d = _moved(g_before, generator), _moved(d_before, discriminator)
        v.compare(moved_g > 0, "G's weights after the step", "changed", "unchanged",
                  "call opt_g.step() after g_loss.backward()")
        v.compare(moved_d == 0, "D's weights after the step", "unchanged", f"changed by up to {moved_d:.3g}",
                  "G's step updates G only: do not call an optimiser of D here")
        hint = ""
        if math.isclose(value, saturating, rel_tol=1e-4, abs_tol=1e-5):
            hint = "that is the saturating loss mean log(1 - D(G(z))): use -log D(G(z)) = softplus(-logits)"
        elif math.isclose(value, -want, rel_tol=1e-4, abs_tol=1e-5):
            hint = "the sign is flipped: the loss is softplus(-logits).mean(), minimised by raising D's logits"
        v.compare(math.isclose(value, want, rel_tol=1e-4, abs_tol=1e-5), "the returned loss",
                  f"{want:.4f} (softplus(-D(G(z))).mean(), before the step)", f"{value:.4f}", hint)
    except Exception as error:  # noqa: BLE001
        v.compare(False, "g_step(generator, discriminator, opt_g, z)", "it to run", f"{type(error).__name__}: {error}")
    return v.done(verbose)
