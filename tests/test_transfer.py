import pytest
import torch

from gantutor.data import load_domain
from gantutor.nets import Discriminator, Generator
from gantutor.transfer import STRATEGIES, adapt, check_compatible, diffaugment, trainable_parameters


@pytest.fixture(scope="module")
def source():
    torch.manual_seed(0)
    return Generator(latent_dim=16, base_width=8), Discriminator(base_width=8)


def ids(params):
    return {id(p) for p in params}


def test_strategies_choose_their_parameters(source):
    g, d = source
    g_all, d_all = trainable_parameters(g, d, "finetune")
    assert ids(g_all) == ids(g.parameters()) and ids(d_all) == ids(d.parameters())
    g_f, d_f = trainable_parameters(g, d, "freeze_d", freeze_blocks=1)
    assert ids(g_f) == ids(g.parameters())
    assert ids(d.blocks[0].parameters()).isdisjoint(ids(d_f)) and ids(d.head.parameters()) <= ids(d_f)
    g_a, d_a = trainable_parameters(g, d, "affine")
    bn = [p for m in g.modules() if isinstance(m, torch.nn.BatchNorm2d) for p in m.parameters()]
    assert ids(g_a) == ids(bn)
    assert ids(d_a) == ids(list(d.blocks[-1].parameters()) + list(d.head.parameters()))
    with pytest.raises(ValueError, match="unknown strategy 'dreamboth'.*finetune"):
        trainable_parameters(g, d, "dreamboth")
    with pytest.raises(ValueError, match="freeze_blocks must be between 0 and 2"):
        trainable_parameters(g, d, "freeze_d", freeze_blocks=5)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_adapt_moves_only_what_the_strategy_trains(source, strategy):
    g, d = source
    before_g = {k: v.clone() for k, v in g.state_dict().items()}
    target = load_domain("mnist-edges", limit=20, verbose=False)
    result = adapt(g, d, target, strategy, steps=3, batch_size=8, held_out=None, device="cpu", ema_decay=None)
    assert all(torch.equal(before_g[k], v) for k, v in g.state_dict().items()), "the source G must not change"
    adapted = dict(result.generator.named_parameters())
    source_params = dict(g.named_parameters())
    conv = "blocks.0.0.weight"
    if strategy == "affine":
        assert torch.equal(adapted[conv], source_params[conv]), "affine keeps G's convolutions"
        assert not torch.equal(adapted["blocks.0.1.weight"], source_params["blocks.0.1.weight"])
    elif strategy == "scratch":
        assert not torch.equal(adapted[conv], source_params[conv])
    else:
        assert not torch.equal(adapted[conv], source_params[conv])
    if strategy == "freeze_d":
        assert torch.equal(result.discriminator.blocks[0][0].weight, d.blocks[0][0].weight)
    assert result.trainer.step_count == 3


def test_mismatched_target_is_refused_clearly(source):
    g, _ = source
    with pytest.raises(ValueError, match=r"shape \(3, 32, 32\) but the source generator makes \(1, 28, 28\)"):
        check_compatible(g, torch.zeros(4, 3, 32, 32))


def test_diffaugment_is_differentiable_and_keeps_the_range():
    x = (torch.rand(6, 1, 28, 28) * 2 - 1).requires_grad_(True)
    y = diffaugment(x, generator=torch.Generator().manual_seed(0))
    assert y.shape == x.shape and y.min() >= -1 and y.max() <= 1
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_diffaugment_translation_shifts_content():
    x = -torch.ones(1, 1, 28, 28)
    x[0, 0, 14, 14] = 1.0
    moved = diffaugment(x, generator=torch.Generator().manual_seed(3), cutout=0.0)
    assert moved.eq(1.0).sum() <= 1  # the bright pixel moved (or left the frame), nothing else appeared
    assert moved.eq(-1.0).sum() >= 28 * 28 - 1


def test_strategy_exercise_check_accepts_the_solution_and_explains_mistakes(capsys):
    from gantutor.exercises import check_strategy_parameters

    def solution(g, d):
        return list(g.blocks[-1].parameters()), list(d.head.parameters())

    assert check_strategy_parameters(solution) is True
    assert "Well done" in capsys.readouterr().out

    def wrong(g, d):
        return list(g.parameters()), list(d.head.parameters())

    assert check_strategy_parameters(wrong) is False
    out = capsys.readouterr().out
    assert "G: exactly the parameters of its last block" in out and "others" in out
    assert check_strategy_parameters(lambda g, d: 1 / 0) is False
    assert "ZeroDivisionError" in capsys.readouterr().out
