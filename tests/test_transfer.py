import pytest
import torch

from gantutor.train import Trainer

from gantutor.data import load_domain
from gantutor.nets import Discriminator, Generator
from gantutor.metrics import memorisation
from gantutor.transfer import (STRATEGIES, AdaptedGenerator, Evaluator, MinedGenerator, OutputAdapter, adapt, check_compatible, diffaugment, few_shot,
                               fisher_information, log_steps, steps_to, trainable_parameters)


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
    adapted_g = result.generator.generator if strategy in ("minegan", "adapter") else result.generator
    adapted = dict(adapted_g.named_parameters())
    source_params = dict(g.named_parameters())
    conv = "blocks.0.0.weight"
    if strategy == "adapter":
        assert all(torch.equal(adapted[k], v) for k, v in source_params.items()), "the adapter keeps all of G"
        assert not torch.equal(result.generator.adapter.correction[-1].weight, torch.zeros(1, 16, 1, 1))
        assert not torch.equal(result.discriminator.head.weight, d.head.weight), "D trains"
    elif strategy == "affine":
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


def distance(a, b):
    return sum(float((p.detach() - q.detach()).pow(2).sum()) for p, q in zip(a.parameters(), b.parameters()))


def test_fisher_information_is_per_parameter_non_negative_and_normalised(source):
    g, d = source
    before = {k: v.clone() for k, v in g.state_dict().items()}
    fisher = fisher_information(g, d, batches=2, batch_size=8)
    assert list(fisher) == [name for name, _ in g.named_parameters()]
    flat = torch.cat([f.flatten() for f in fisher.values()])
    assert flat.min() >= 0 and abs(float(flat.mean()) - 1) < 1e-5
    assert all(torch.equal(before[k], v) for k, v in g.state_dict().items()), "estimating F must not change G"
    assert g.training, "G's mode is restored"


def test_ewc_pulls_g_toward_the_source_and_is_finetuning_at_weight_zero(source):
    g, d = source
    target = load_domain("mnist-edges", limit=20, verbose=False)
    run = dict(steps=6, batch_size=8, held_out=None, device="cpu", ema_decay=None, seed=1)
    finetune = adapt(g, d, target, "finetune", **run).generator
    free = adapt(g, d, target, "ewc", ewc_weight=0.0, **run).generator
    assert all(torch.equal(p, q) for p, q in zip(finetune.parameters(), free.parameters())), \
        "with weight 0 the penalty adds nothing: EWC is fine-tuning"
    held = adapt(g, d, target, "ewc", ewc_weight=1e4, **run).generator
    assert distance(held, g) < 0.5 * distance(finetune, g), "a strong penalty keeps G near the source weights"
    with pytest.raises(ValueError, match="EWC weight must be a finite number >= 0"):
        adapt(g, d, target, "ewc", ewc_weight=-1.0, **run)


def test_minegan_mines_first_then_trains_g(source):
    g, d = source
    z = torch.randn(4, g.latent_dim)
    g.eval()
    with torch.no_grad():
        assert torch.equal(MinedGenerator(g)(z), g(z)), "the miner starts as the identity"
    g.train()
    target = load_domain("mnist-edges", limit=20, verbose=False)
    run = dict(steps=4, batch_size=8, held_out=None, device="cpu", ema_decay=None)
    mined = adapt(g, d, target, "minegan", mine_steps=4, **run).generator
    assert distance(mined.generator, g) == 0, "while mining, the source G is frozen"
    assert any(p.abs().sum() > 0 for p in mined.miner.net[-1].parameters()), "the miner moved"
    joint = adapt(g, d, target, "minegan", mine_steps=2, **run).generator
    assert distance(joint.generator, g) > 0, "after mine_steps, G trains too"
    with pytest.raises(ValueError, match=r"mine_steps must be between 0 and steps \(4\)"):
        adapt(g, d, target, "minegan", mine_steps=9, **run)


def test_few_shot_draws_a_subset_per_seed():
    a, again, b = few_shot("mnist-edges", 10, seed=0), few_shot("mnist-edges", 10, seed=0), few_shot("mnist-edges", 10, seed=1)
    assert len(a) == 10 and torch.equal(a.images, again.images) and not torch.equal(a.images, b.images)
    full = load_domain("mnist-edges", verbose=False)
    index = [int((full.images == image).flatten(1).all(dim=1).nonzero()[0]) for image in a.images]
    assert torch.equal(full.labels[index], a.labels), "each image keeps its label"
    with pytest.raises(ValueError, match="size must be between 1 and"):
        few_shot("mnist-edges", 0)


def test_log_steps_and_interpolated_thresholds():
    steps = log_steps(2000)
    assert steps[0] == 0 and steps[1] == 10 and steps[-1] == 2000 and steps == sorted(set(steps))
    assert sum(s <= 100 for s in steps) >= 5, "dense early, where the curves move"
    assert log_steps(5) == [0, 5]
    assert steps_to([0, 10, 20], [100, 50, 30], 40) == 15.0  # halfway between the evaluations at 10 and 20
    assert steps_to([0, 10], [10, 5], 20) == 0.0 and steps_to([0, 10], [10, 5], 1) is None


def test_evaluator_measures_at_the_given_steps(source):
    g, d = source
    target = load_domain("mnist-edges", limit=20, verbose=False)
    held = load_domain("mnist-edges", "test", verbose=False).images[:50]
    result = adapt(g, d, target, "finetune", 6, batch_size=8, held_out=held, eval_at=[0, 2, 3], eval_n=50,
                   device="cpu")
    assert result.evaluation["step"] == [0, 2, 3, 6], "the given steps, and the last one"


def test_memorisation_tells_copies_from_new_images():
    train = load_domain("mnist", limit=20, verbose=False).images
    held = load_domain("mnist", "test", verbose=False).images[:100]
    copies = memorisation(train.repeat(3, 1, 1, 1) + 0.01 * torch.randn(60, 1, 28, 28), train, held)
    assert copies["ratio_median"] < 0.05 and copies["copies"] == 1.0
    fresh = memorisation(load_domain("mnist", "test", verbose=False).images[100:160], train, held)
    assert 0.8 < fresh["ratio_median"] < 1.25 and fresh["copies"] < 0.1, fresh
    with pytest.raises(ValueError, match="held_out needs at least as many images as train"):
        memorisation(train, train, held[:5])


def test_the_adapter_starts_as_the_identity_and_can_learn_a_negative(source):
    g, _ = source
    z = torch.randn(5, 16, generator=torch.Generator().manual_seed(0))
    adapted = AdaptedGenerator(g.eval())
    with torch.no_grad():
        assert torch.allclose(adapted(z), g(z), atol=1e-5), "at the start the adapted G draws what G draws"
    g_params, d_params = trainable_parameters(adapted, Discriminator(base_width=8), "adapter")
    assert {id(p) for p in g_params} == {id(p) for p in adapted.adapter.parameters()}, "only the adapter trains"
    assert trainable_parameters(g, Discriminator(base_width=8), "adapter")[0] == [], "a plain G: nothing of it"
    adapter = OutputAdapter()
    with torch.no_grad():
        adapter.alpha.fill_(-1.0)  # the negative is one number away: alpha = -1
        x = torch.rand(3, 1, 28, 28) * 1.8 - 0.9
        assert torch.allclose(adapter(x), -x, atol=1e-4)


def test_the_warmed_up_average_follows_a_fast_generator():
    """With a fixed decay of 0.99 the average still sits near the start after 20 steps; warmed up it has moved on."""
    data = load_domain("mnist-edges", limit=32, verbose=False)
    runs = {}
    for warmup in (False, True):
        torch.manual_seed(0)
        g = Generator(latent_dim=16, base_width=8)
        start = [p.detach().clone() for p in g.parameters()]
        trainer = Trainer(g, Discriminator(base_width=8), data, batch_size=8, lr_g=1e-2, ema_decay=0.99,
                          ema_warmup=warmup, device="cpu")
        trainer.fit(20, progress=False)
        gap = lambda a, b: sum(float((x.detach() - y.detach()).norm()) for x, y in zip(a, b))  # noqa: E731
        moved = gap(start, g.parameters())
        runs[warmup] = gap(trainer.ema_generator.parameters(), g.parameters()) / moved
    assert runs[False] > 0.5, f"a fixed decay of 0.99 should lag far behind after 20 steps: {runs}"
    assert runs[True] < 0.5 * runs[False], f"the warmed-up average should be much closer to G: {runs}"
    with pytest.raises(ValueError, match="ema_warmup must be True or False"):
        Trainer(Generator(latent_dim=16, base_width=8), Discriminator(base_width=8), data, ema_warmup="yes")
