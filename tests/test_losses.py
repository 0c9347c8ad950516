import math

import pytest
import torch

from gantutor.losses import LOSSES, get_loss

LOGITS = torch.tensor([-3.0, -0.5, 0.0, 0.7, 2.5])
D = torch.sigmoid(LOGITS)


def test_formulas_match_their_docstrings():
    real, fake = LOGITS, LOGITS.flip(0)
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
    bce = -(torch.log(d_real).mean() + torch.log(1 - d_fake).mean())
    assert torch.allclose(LOSSES["non-saturating"].d_loss(real, fake), bce, atol=1e-6)
    assert torch.allclose(LOSSES["saturating"].d_loss(real, fake), bce, atol=1e-6)
    assert torch.allclose(LOSSES["saturating"].g_loss(fake), torch.log(1 - d_fake).mean(), atol=1e-6)
    assert torch.allclose(LOSSES["non-saturating"].g_loss(fake), -torch.log(d_fake).mean(), atol=1e-6)
    assert torch.allclose(LOSSES["least-squares"].d_loss(real, fake),
                          0.5 * ((real - 1) ** 2).mean() + 0.5 * (fake**2).mean())
    assert torch.allclose(LOSSES["least-squares"].g_loss(fake), 0.5 * ((fake - 1) ** 2).mean())
    assert torch.allclose(LOSSES["hinge"].d_loss(real, fake),
                          torch.clamp(1 - real, min=0).mean() + torch.clamp(1 + fake, min=0).mean())
    assert torch.allclose(LOSSES["hinge"].g_loss(fake), -fake.mean())


def test_hand_checked_values():
    zero = torch.zeros(4)
    assert math.isclose(LOSSES["non-saturating"].d_loss(zero, zero).item(), 2 * math.log(2), rel_tol=1e-6)
    assert math.isclose(LOSSES["non-saturating"].g_loss(zero).item(), math.log(2), rel_tol=1e-6)
    assert math.isclose(LOSSES["hinge"].d_loss(zero, zero).item(), 2.0)
    assert math.isclose(LOSSES["least-squares"].d_loss(zero, zero).item(), 0.5)


@pytest.mark.parametrize("name", list(LOSSES))
def test_generator_gradient_pushes_fake_logits_up(name):
    fake = LOGITS.clone().requires_grad_(True)
    get_loss(name).g_loss(fake).backward()
    # descending the loss raises every fake logit (least-squares: only those below its target 1)
    if name == "least-squares":
        assert torch.all(fake.grad[LOGITS < 1] < 0) and torch.all(fake.grad[LOGITS > 1] > 0)
    else:
        assert torch.all(fake.grad < 0)


@pytest.mark.parametrize("name", list(LOSSES))
def test_discriminator_gradient_separates_real_from_fake(name):
    real = torch.zeros(5, requires_grad=True)
    fake = torch.zeros(5, requires_grad=True)
    get_loss(name).d_loss(real, fake).backward()
    assert torch.all(real.grad < 0), "descending D's loss raises real logits"
    if name != "least-squares":
        assert torch.all(fake.grad > 0), "and lowers fake logits"


def test_saturating_gradient_vanishes_where_non_saturating_does_not():
    confident_rejection = torch.tensor([-8.0], requires_grad=True)
    get_loss("saturating").g_loss(confident_rejection).backward()
    saturating = confident_rejection.grad.abs().item()
    confident_rejection.grad = None
    get_loss("non-saturating").g_loss(confident_rejection).backward()
    assert saturating < 1e-3 < 0.99 < confident_rejection.grad.abs().item()


def test_stable_at_extreme_logits():
    extreme = torch.tensor([-100.0, 100.0])
    for loss in LOSSES.values():
        assert torch.isfinite(loss.d_loss(extreme, extreme)) and torch.isfinite(loss.g_loss(extreme))


def test_names_and_errors():
    assert get_loss("NS").name == "non-saturating" and get_loss("least_squares").name == "least-squares"
    with pytest.raises(ValueError, match="unknown loss 'wasserstein'.*hinge"):
        get_loss("wasserstein")


def test_r1_penalty_is_the_squared_input_gradient():
    from gantutor.losses import r1_penalty

    w = torch.tensor([[0.5, -2.0, 1.0]])
    x = torch.randn(4, 3, requires_grad=True)
    logits = (x * w).sum(1) + (x ** 2).sum(1)  # gradient w + 2x, by hand
    expected = (w + 2 * x.detach()).pow(2).sum(1).mean()
    assert torch.allclose(r1_penalty(logits, x), expected)
    # kept in the graph: the penalty trains D (here d/dx of mean ||w + 2x||^2 = 4 (w + 2x) / N)
    (grad,) = torch.autograd.grad(r1_penalty(logits, x), x)
    assert torch.allclose(grad, 4 * (w + 2 * x.detach()) / 4)
    with pytest.raises(ValueError, match="requires_grad_"):
        r1_penalty(logits.detach(), x.detach())


def test_info_loss_is_the_cross_entropy_of_the_code():
    from gantutor.losses import info_loss

    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]])
    codes = torch.tensor([0, 2])
    by_hand = -(torch.log_softmax(logits, 1)[torch.arange(2), codes]).mean()
    assert torch.allclose(info_loss(logits, codes), by_hand)
    # a head that reads every code with certainty pays nothing; a uniform one pays log K (= H(c))
    assert info_loss(torch.eye(3) * 50, torch.arange(3)) < 1e-6
    assert torch.allclose(info_loss(torch.zeros(5, 4), torch.arange(5) % 4), torch.log(torch.tensor(4.0)))
