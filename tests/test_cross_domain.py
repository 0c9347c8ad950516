"""Coupled GANs, the translation losses, DTN and CycleGAN, and the TranslationLab widget (chapter 8)."""
import pytest
import torch

from gantutor import coupled, losses, translation
from gantutor.data import ImageDomain, load_domain
from gantutor.data.images import mnist_edges
from gantutor.nets import FeatureNet
from gantutor.recipes import TrainConfig
from gantutor.train import Trainer


def _shared_ids(net_a, net_b):
    return {id(p) for p in net_a.parameters()} & {id(p) for p in net_b.parameters()}


@pytest.mark.parametrize("shared", [0, 1, 2, 3])
def test_coupled_generator_shares_exactly_its_first_layers(shared):
    G = coupled.CoupledGenerator(shared=shared, base_width=8)
    assert len(G.trunk) == shared and len(G.heads[0]) == len(G.heads[1]) == 4 - shared
    assert not _shared_ids(G.heads[0], G.heads[1])  # the heads are two networks
    z = torch.randn(6, 64)
    domains = torch.tensor([0, 1, 0, 1, 1, 0])
    G.eval()
    out = G(z, domains)
    assert out.shape == (6, 1, 28, 28) and out.abs().max() <= 1
    with torch.no_grad():  # each sample went through the trunk, then its own head
        h = G.trunk(z[:, :, None, None])
        assert torch.allclose(out[domains == 1], G.heads[1](h[domains == 1]))
    # a loss on domain 0 alone reaches the trunk and head 0, never head 1
    G.train()
    G(z[:3], torch.zeros(3, dtype=torch.long)).mean().backward()
    assert all(p.grad is not None for p in G.heads[0].parameters())
    assert all(p.grad is None for p in G.heads[1].parameters())
    assert all(p.grad is not None for p in G.trunk.parameters())


def test_sharing_layers_saves_their_parameters():
    counts = [sum(p.numel() for p in coupled.CoupledGenerator(shared=s, base_width=8).parameters()) for s in range(4)]
    assert counts[0] > counts[1] > counts[2] > counts[3]


@pytest.mark.parametrize("shared", [0, 1, 2])
def test_coupled_discriminator_shares_its_last_layers(shared):
    D = coupled.CoupledDiscriminator(shared=shared, base_width=8)
    assert len(D.back) == shared and not _shared_ids(D.fronts[0], D.fronts[1])
    x, domains = torch.rand(4, 1, 28, 28) * 2 - 1, torch.tensor([0, 1, 1, 0])
    D.eval()
    logits = D(x, domains)
    assert logits.shape == (4,)
    with torch.no_grad():
        assert torch.allclose(logits[1:3], D.back(D.fronts[1](x[1:3])).flatten(), atol=1e-6)


def test_bad_coupled_arguments_say_what_to_pass():
    with pytest.raises(ValueError, match="shared must lie in 0..3"):
        coupled.CoupledGenerator(shared=4)
    with pytest.raises(ValueError, match="shared must lie in 0..2"):
        coupled.CoupledDiscriminator(shared=3)
    G = coupled.CoupledGenerator(base_width=8)
    with pytest.raises(ValueError, match="domain \\(0 or 1\\) of every sample"):
        G(torch.randn(2, 64), None)
    with pytest.raises(ValueError, match="must be 0 .* or 1"):
        G(torch.randn(2, 64), torch.tensor([0, 2]))
    with pytest.raises(ValueError, match="one of mnist-edges, mnist-negative"):
        coupled.disjoint_pair("glyphs")
    with pytest.raises(ValueError, match="pass n <= 2000"):
        coupled.disjoint_pair("mnist-edges", n=2001)


def test_disjoint_pair_holds_two_halves_that_never_correspond():
    data = coupled.disjoint_pair("mnist-edges", n=50)
    mnist = load_domain("mnist", verbose=False)
    assert data.classes == ["mnist", "mnist-edges"] and data.labels.tolist() == [0] * 50 + [1] * 50
    assert torch.equal(data.images[:50], mnist.images[:50])
    assert torch.equal(data.images[50:], mnist_edges(mnist.images[50:100]))  # the other half's outlines


def test_the_one_trainer_trains_a_coupled_gan():
    torch.manual_seed(0)
    G, D = coupled.CoupledGenerator(base_width=8), coupled.CoupledDiscriminator(base_width=8)
    trainer = Trainer(G, D, coupled.disjoint_pair("mnist-negative", n=64), TrainConfig(batch_size=16), device="cpu")
    before = [p.detach().clone() for p in G.parameters()]
    trainer.fit(3, progress=False)
    assert trainer.num_classes == 2
    assert all(not torch.equal(a, b) for a, b in zip(before, G.parameters()))
    first, second = coupled.pairs(G, 5)
    assert first.shape == second.shape == (5, 1, 28, 28)


def test_a_coupled_generator_keeps_its_prior_through_training_pairs_and_checkpoints():
    from gantutor.latent import MixturePrior
    from gantutor.nets import build, describe

    trainer = coupled.coupled_trainer("mnist-negative", base_width=8, n=64, device="cpu", prior=coupled.MIXTURE)
    G = trainer.generator
    assert trainer.latent is G.prior and G.prior.describe() == coupled.MIXTURE
    rebuilt = build(describe(G))  # what a checkpoint or a shipped asset rebuilds
    assert torch.equal(rebuilt.prior.centres, MixturePrior(64, components=50).centres)
    rebuilt.load_state_dict(G.state_dict())
    first, second = coupled.pairs(rebuilt, 6, seed=3)  # z from the mixture, not from N(0, I)
    z = MixturePrior(64, components=50).sample(6, generator=torch.Generator().manual_seed(3))
    rebuilt.eval()
    with torch.no_grad():
        assert torch.equal(first, rebuilt(z, torch.zeros(6, dtype=torch.long)))
        assert torch.equal(second, rebuilt(z, torch.ones(6, dtype=torch.long)))
        assert not torch.equal(first, rebuilt(torch.randn(6, 64, generator=torch.Generator().manual_seed(3)),
                                              torch.zeros(6, dtype=torch.long)))
    plain = coupled.CoupledGenerator(base_width=8)  # the default stays N(0, I), and pairs draws as before
    assert "prior" not in plain.config and plain.prior.describe()["name"] == "StandardNormal"
    with pytest.raises(ValueError, match="a prior's description"):
        coupled.CoupledGenerator(prior=MixturePrior(64))
    with pytest.raises(ValueError, match="build the prior with latent_dim=32"):
        coupled.CoupledGenerator(latent_dim=32, prior=coupled.MIXTURE)


def test_correspondence_of_real_pairs_and_of_shuffled_ones():
    mnist = load_domain("mnist", split="test", verbose=False).images[:300]
    for domain in coupled.PAIR_DOMAINS:
        real = coupled.correspondence(mnist, coupled.render(mnist, domain), domain)
        assert real["iou"] == 1.0 and real["label_agreement"] > 0.9
        assert real["rendered_label_agreement"] == real["label_agreement"], "a real pair is the perfect rendering"
        assert real["shuffled_iou"] < 0.4 and real["shuffled_label_agreement"] < 0.2
    blank = coupled.correspondence(mnist[:50], torch.ones(50, 1, 28, 28), "mnist-negative")
    assert blank["label_agreement"] < 0.5 < blank["rendered_label_agreement"], "the ceiling ignores the second images"
    edges = coupled.render(mnist, "mnist-edges")
    strict = coupled.correspondence(mnist, edges, "mnist-edges")
    loose = coupled.correspondence(mnist, edges, "mnist-edges", tolerance=1)
    assert loose["iou"] == 1.0  # real pairs still match exactly
    assert loose["shuffled_iou"] > strict["shuffled_iou"] + 0.1  # a tolerance lets unrelated outlines overlap more
    with pytest.raises(ValueError, match="pass pairs"):
        coupled.correspondence(mnist[:3], mnist[:2], "mnist-negative")


def test_iou_counts_overlap_over_union():
    a = torch.zeros(2, 1, 4, 4, dtype=torch.bool)
    b = a.clone()
    a[0, 0, 0, :2] = True
    b[0, 0, 0, 1:3] = True
    assert coupled.iou(a, b).tolist() == [pytest.approx(1 / 3), 1.0]  # the second pair: both empty


def test_translation_losses_follow_their_formulas():
    x, y = torch.rand(3, 1, 5, 5), torch.rand(3, 1, 5, 5)
    assert losses.cycle_loss(x, y) == pytest.approx(float((x - y).abs().mean()))
    assert losses.identity_loss(x, y) == pytest.approx(float(((x - y) ** 2).mean()))
    assert losses.cycle_loss(x, x) == 0 and losses.identity_loss(x, x) == 0
    assert losses.total_variation(torch.ones(2, 1, 4, 4)) == 0
    stripes = torch.zeros(1, 1, 4, 4)
    stripes[..., ::2] = 1  # columns alternate: every horizontal step changes by 1, no vertical one
    assert losses.total_variation(stripes) == pytest.approx(1.0)
    f_a, f_b = torch.zeros(2, 4), torch.ones(2, 4) * 2
    assert losses.f_constancy(f_a, f_b) == pytest.approx(4.0)


def test_augment_shapes_keeps_shape_and_background():
    digits = load_domain("digits", split="test", verbose=False).images[:8]
    out = translation.augment_shapes(digits, torch.Generator().manual_seed(0))
    assert out.shape == digits.shape and out.min() >= -1 - 1e-6 and out.max() <= 1 + 1e-6
    assert (out[:, :, 0, :] < -0.9).float().mean() > 0.9  # the border stays background
    assert not torch.allclose(out, digits)


def _tiny_domain(n=32, seed=0, name="digits"):
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(n, 1, 28, 28, generator=g) * 2 - 1
    return ImageDomain(images, torch.arange(n) % 10, name=name, split="train", source="random", classes=list("0123456789"))


def test_train_classifier_gives_a_frozen_classifier_that_learned():
    data = load_domain("digits", verbose=False)
    f = translation.train_classifier(data, steps=150, seed=0)
    test = load_domain("digits", split="test", verbose=False)
    assert not f.training and not any(p.requires_grad for p in f.parameters())
    assert float((f(test.images).argmax(1) == test.labels).float().mean()) > 0.6
    with pytest.raises(ValueError, match="labelled images"):
        translation.train_classifier(test.images)


def test_perturb_raises_the_loss_within_eps_and_leaves_the_net_alone():
    data = load_domain("digits", split="test", verbose=False)
    f = translation.train_classifier(load_domain("digits", verbose=False), steps=60, seed=0)
    x, y = data.images[:64], data.labels[:64]
    adv = translation.perturb(f, x, y, eps=0.1, steps=3, generator=torch.Generator().manual_seed(0))
    assert adv.shape == x.shape and (adv - x).abs().max() <= 0.1 + 1e-6 and adv.min() >= -1 and adv.max() <= 1
    loss = lambda images: float(torch.nn.functional.cross_entropy(f(images), y))
    assert loss(adv) > loss(x) + 0.05
    trainable = FeatureNet(f.classes)  # weights that take gradients: the attack must leave them none
    translation.perturb(trainable, x, y, eps=0.1, steps=2)
    assert all(p.grad is None for p in trainable.parameters())


def test_robust_training_attacks_every_batch_and_checks_eps():
    source = _tiny_domain()
    plain = translation.train_classifier(source, steps=3, seed=2)
    robust = translation.train_classifier(source, steps=3, seed=2, robust=0.1)
    assert not all(torch.equal(a, b) for a, b in zip(plain.parameters(), robust.parameters()))
    assert not robust.training and not any(p.requires_grad for p in robust.parameters())
    for bad in (-0.1, 1.0, True, "0.1"):
        with pytest.raises(ValueError, match="robust"):
            translation.train_classifier(source, steps=1, robust=bad)


def test_self_train_with_no_rounds_is_the_source_classifier():
    source = _tiny_domain()
    a = translation.self_train(source, _tiny_domain(seed=3, name="mnist"), rounds=0, steps=5, seed=4)
    b = translation.train_classifier(source, steps=5, seed=4)
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))


def test_self_train_learns_from_the_confident_guesses_of_the_previous_round():
    source, target = _tiny_domain(n=40), _tiny_domain(n=60, seed=5, name="mnist")
    history = []
    f = translation.self_train(source, target, rounds=2, per_class=2, steps=4, batch_size=8, seed=1, history=history)
    assert [h["round"] for h in history] == [1, 2]
    assert not f.training and not any(p.requires_grad for p in f.parameters()) and f.classes == [f"digits:{c}" for c in "0123456789"]
    first = translation.train_classifier(source, steps=4, batch_size=8, seed=1)
    with torch.no_grad():
        p = first(target.images).softmax(1)
    confidence, guess = p.max(1)
    chosen, labels = history[0]["target_images"], history[0]["pseudo_labels"]
    assert torch.equal(labels, guess[chosen])  # the pseudo-label is round 0's guess
    for c in labels.unique():
        members = (guess == c).nonzero().squeeze(1)
        picked = chosen[labels == c]
        assert len(picked) == min(2, len(members))
        rest = members[~torch.isin(members, picked)]
        if len(rest):  # the chosen ones are the surest of their class
            assert confidence[picked].min() >= confidence[rest].max()
    # round r keeps r * per_class per class: 60 images in at most 10 classes, so one class has 4 to give
    assert int(history[1]["pseudo_labels"].bincount().max()) == 4
    assert not all(torch.equal(x, y) for x, y in zip(f.parameters(), first.parameters()))


def test_self_train_from_a_given_start_trains_round_0_once():
    source, target = _tiny_domain(n=40), _tiny_domain(n=60, seed=5, name="mnist")
    start = translation.train_classifier(source, steps=4, batch_size=8, seed=1)
    a = translation.self_train(source, target, rounds=1, per_class=2, steps=4, batch_size=8, seed=1)
    b = translation.self_train(source, target, rounds=1, per_class=2, steps=4, batch_size=8, seed=1, start=start)
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))
    assert translation.self_train(source, target, rounds=0, start=start) is start
    robust = translation.self_train(source, target, rounds=1, per_class=2, steps=4, batch_size=8, seed=1, robust=0.1)
    assert not all(torch.equal(x, y) for x, y in zip(a.parameters(), robust.parameters()))


def test_self_train_says_what_it_needs():
    with pytest.raises(ValueError, match="labelled source"):
        translation.self_train(_tiny_domain().images, _tiny_domain())
    with pytest.raises(ValueError, match="must be even"):
        translation.self_train(_tiny_domain(), _tiny_domain(), batch_size=7)
    with pytest.raises(ValueError, match="rounds >= 0"):
        translation.self_train(_tiny_domain(), _tiny_domain(), rounds=-1)
    with pytest.raises(ValueError, match="start is round 0"):
        translation.self_train(_tiny_domain(), _tiny_domain(), start="f")
    with pytest.raises(ValueError, match="robust"):
        translation.self_train(_tiny_domain(), _tiny_domain(), robust=2.0)


@pytest.mark.parametrize("constancy", ["features", "logits"])
def test_dtn_step_trains_g_and_d_but_never_f(constancy):
    f = translation.train_classifier(_tiny_domain(), steps=2)
    f_before = [p.clone() for p in f.parameters()]
    dtn = translation.DTN(f, _tiny_domain(seed=1), _tiny_domain(seed=2, name="mnist"), base_width=8, batch_size=8,
                          constancy=constancy, gamma=0.1)
    g_before = [p.detach().clone() for p in dtn.g.parameters()]
    record = dtn.step()
    assert set(record) == {"d_loss", "gan", "const", "tid", "tv"}
    assert all(torch.equal(a, b) for a, b in zip(f_before, f.parameters()))
    assert all(not torch.equal(a, b) for a, b in zip(g_before, dtn.g.parameters()))
    out = dtn.translate(_tiny_domain(n=3).images)
    assert out.shape == (3, 1, 28, 28) and dtn.g.training


def test_dtn_is_deterministic_and_checks_its_weights():
    f = translation.train_classifier(_tiny_domain(), steps=2)
    source, target = _tiny_domain(seed=1), _tiny_domain(seed=2, name="mnist")
    a = translation.DTN(f, source, target, alpha=0, beta=0, base_width=8, batch_size=8, seed=3)
    b = translation.DTN(f, source, target, alpha=0, beta=0, base_width=8, batch_size=8, seed=3)
    a.step(), b.step()  # the same run twice: the same numbers
    assert all(torch.equal(p, q) for p, q in zip(a.g.parameters(), b.g.parameters()))
    with pytest.raises(ValueError, match="alpha >= 0"):
        translation.DTN(f, source, target, alpha=-1)
    with pytest.raises(ValueError, match="'features' or on its class 'logits'"):
        translation.DTN(f, source, target, constancy="pixels")


@pytest.mark.parametrize("num_classes", [None, 10])
def test_dtn_with_a_trained_generator_trains_only_the_map(num_classes):
    from gantutor.nets import Generator

    f = translation.train_classifier(_tiny_domain(), steps=2)
    torch.manual_seed(0)
    G = Generator(base_width=8, num_classes=num_classes)
    G.train()
    G(torch.randn(16, 64), None if num_classes is None else torch.arange(16) % 10)  # BatchNorm statistics of "training"
    G_before = {k: v.clone() for k, v in G.state_dict().items()}
    dtn = translation.DTN(f, _tiny_domain(seed=1), _tiny_domain(seed=2, name="mnist"), base_width=8, batch_size=8,
                          decoder=G)
    assert isinstance(dtn.g, translation.GeneratorDecoder) and dtn.g.generator is G
    plain = translation.DTN(f, _tiny_domain(seed=1), _tiny_domain(seed=2, name="mnist"), base_width=8, batch_size=8)
    assert all(torch.equal(p, q) for p, q in zip(dtn.D.parameters(), plain.D.parameters()))  # the same D to start
    map_before = [p.detach().clone() for p in dtn.g.map.parameters()]
    assert dtn.g.map[-1].out_features == 64 + (num_classes or 0)
    dtn.step()
    assert all(not torch.equal(a, b) for a, b in zip(map_before, dtn.g.map.parameters()))
    # the generator is untouched: weights and BatchNorm statistics (it runs in eval mode even while g trains)
    assert all(torch.equal(G_before[k], v) for k, v in G.state_dict().items())
    assert dtn.g.training and not G.training
    h = f.features(_tiny_domain(n=3).images)
    u = dtn.g.map(h)
    if num_classes:  # the class slot is a distribution over the classes, where the one-hot label goes
        u = torch.cat([u[:, :64], u[:, 64:].softmax(1)], 1)
    with torch.no_grad():
        assert torch.allclose(dtn.g(h), G.blocks(u[:, :, None, None]))
    with pytest.raises(ValueError, match="trained gantutor Generator"):
        translation.GeneratorDecoder(torch.nn.Linear(3, 3), 128)


def test_dtn_with_f_labels_gives_the_generator_f_s_class_and_learns_only_the_style():
    from gantutor.nets import Generator

    f = translation.train_classifier(_tiny_domain(), steps=2)
    torch.manual_seed(0)
    G = Generator(base_width=8, num_classes=10)
    dtn = translation.DTN(f, _tiny_domain(seed=1), _tiny_domain(seed=2, name="mnist"), base_width=8, batch_size=8,
                          decoder=G, labels="f")
    assert dtn.g.head is f.head and dtn.g.map[-1].out_features == 64  # z only: the class is f's
    head_before = [p.detach().clone() for p in f.head.parameters()]
    map_before = [p.detach().clone() for p in dtn.g.map.parameters()]
    dtn.step()
    assert all(not torch.equal(a, b) for a, b in zip(map_before, dtn.g.map.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(head_before, f.head.parameters()))  # f's head stays f's
    x = _tiny_domain(n=3).images
    h = f.features(x)
    with torch.no_grad():
        expected = G.blocks(torch.cat([dtn.g.map(h), f(x).softmax(1)], 1)[:, :, None, None])
        assert torch.allclose(dtn.g(h), expected, atol=1e-6)
    with pytest.raises(ValueError, match="'map' or 'f'"):
        translation.DTN(f, _tiny_domain(seed=1), _tiny_domain(seed=2), decoder=G, labels="judge")
    with pytest.raises(ValueError, match="class-conditional decoder"):
        translation.DTN(f, _tiny_domain(seed=1), _tiny_domain(seed=2), labels="f")
    with pytest.raises(ValueError, match="class-conditional decoder"):
        translation.DTN(f, _tiny_domain(seed=1), _tiny_domain(seed=2), decoder=Generator(base_width=8), labels="f")
    with pytest.raises(ValueError, match=r"nn.Linear\(128, 10\)"):
        translation.GeneratorDecoder(G, 128, head=torch.nn.Linear(128, 3))


def test_cycle_gan_step_and_cycle_error():
    cyc = translation.CycleGAN(_tiny_domain(seed=1), _tiny_domain(seed=2), width=8, batch_size=8)
    before = [p.detach().clone() for p in cyc.G.parameters()]
    record = cyc.step()
    assert set(record) == {"d_loss", "gan", "cycle"} and record["cycle"] > 0
    assert all(not torch.equal(a, b) for a, b in zip(before, cyc.G.parameters()))
    x = _tiny_domain(n=4).images
    assert cyc.translate(x).shape == cyc.translate(x, back=True).shape == (4, 1, 28, 28)
    assert 0 < cyc.cycle_error(x) <= 2


def test_label_preservation_of_real_images():
    mnist = load_domain("mnist", split="test", verbose=False)
    real = translation.label_preservation(mnist.images[:200], mnist.labels[:200])
    assert real["accuracy"] > 0.9 and real["in_domain"] > 0.95
    digits = load_domain("digits", split="test", verbose=False)
    untranslated = translation.label_preservation(digits.images, digits.labels)
    assert untranslated["in_domain"] < 0.05 and untranslated["accuracy"] < 0.05  # still scikit-learn's digits
    assert untranslated["label_accuracy"] > 0.5  # ... whose digit the MNIST classes still read, mostly


def test_translation_lab_shows_verdicts_and_filters_digits():
    pytest.importorskip("ipywidgets")
    from gantutor.widgets import TranslationLab

    digits = load_domain("digits", split="test", verbose=False)
    mnist = load_domain("mnist", split="test", verbose=False)
    perfect = lambda x: mnist.images[[int(torch.nonzero(mnist.labels == label)[0])  # noqa: E731
                                      for label in digits.labels[:len(x)]]]
    lab = TranslationLab({"identity": lambda x: x, "lookup": perfect}, digits)
    rows = lab.show(0)
    assert [r["name"] for r in rows] == ["identity", "lookup"]
    assert rows[0]["class"].startswith("digits:") and not rows[0]["correct"]
    assert rows[1]["correct"] and "1 of 2" in lab.status.value
    assert lab.image.value[:4] == b"\x89PNG"
    lab.digit_box.value = "7"
    assert int(digits.labels[lab.index]) == 7
    with pytest.raises(ValueError, match="index must lie"):
        lab.show(len(digits))
    with pytest.raises(ValueError, match="name: function"):
        TranslationLab({}, digits)


def test_a_code_prior_puts_a_one_hot_code_after_the_noise():
    from gantutor.latent import CodePrior, build_prior

    prior = CodePrior(16, categories=5)
    z = prior.sample(400, generator=torch.Generator().manual_seed(0))
    assert z.shape == (400, 16)
    codes = prior.code(z)
    assert torch.equal(z[:, 11:], torch.nn.functional.one_hot(codes, 5).float())  # the code, one-hot, last
    assert torch.bincount(codes, minlength=5).min() > 50  # every value drawn, about equally often
    assert torch.equal(prior.code(prior.with_code(torch.zeros(3, 11), torch.tensor([4, 0, 2]))), torch.tensor([4, 0, 2]))
    assert build_prior(prior.describe()).describe() == prior.describe() == {"name": "CodePrior", "latent_dim": 16,
                                                                            "categories": 5}
    with pytest.raises(ValueError, match="at least 2 categories"):
        CodePrior(16, categories=1)
    with pytest.raises(ValueError, match="leaves no noise"):
        CodePrior(10, categories=10)
    with pytest.raises(ValueError, match="codes must lie in 0..4"):
        prior.with_code(torch.zeros(2, 11), torch.tensor([0, 5]))


def test_the_code_head_reads_the_shared_features_of_both_domains():
    D = coupled.CoupledDiscriminator(base_width=8, code_classes=7)
    x, domains = torch.rand(4, 1, 28, 28) * 2 - 1, torch.tensor([0, 1, 1, 0])
    D.eval()
    logits, code_logits = D(x, domains, code=True)
    assert code_logits.shape == (4, 7) and torch.equal(logits, D(x, domains))  # the verdict is unchanged
    with torch.no_grad():  # one head on the shared back, under the logit layer, for both domains
        assert torch.allclose(code_logits[1:3], D.code_head(D.back[:-1](D.fronts[1](x[1:3]))).flatten(1), atol=1e-6)
    assert D.config["code_classes"] == 7 and "code_classes" not in coupled.CoupledDiscriminator(base_width=8).config
    with pytest.raises(ValueError, match="no code head: build it with code_classes"):
        coupled.CoupledDiscriminator(base_width=8)(x, domains, code=True)
    with pytest.raises(ValueError, match="shared >= 1"):
        coupled.CoupledDiscriminator(shared=0, code_classes=7)


def test_info_weight_trains_g_and_the_code_head_to_read_the_code():
    """InfoGAN's term: after a few steps the head reads the code of new fakes far better than chance;
    info_weight=0 (the default) changes nothing, and a prior or a D without a code is refused."""
    from gantutor.latent import CodePrior

    prior = CodePrior(64, categories=4).describe()
    trainer = coupled.coupled_trainer("mnist-negative", base_width=8, n=64, device="cpu", prior=prior, info_weight=1.0)
    assert trainer.discriminator.code_classes == 4 and trainer.config.info_weight == 1.0

    def read_share():
        z = trainer.latent.sample(256, generator=torch.Generator().manual_seed(5))
        domains = torch.arange(256) % 2
        trainer.generator.eval(), trainer.discriminator.eval()
        with torch.no_grad():
            _, code_logits = trainer.discriminator(trainer.generator(z, domains), domains, code=True)
        trainer.generator.train(), trainer.discriminator.train()
        return float((code_logits.argmax(1) == trainer.latent.code(z)).float().mean())

    before = read_share()
    trainer.fit(60, progress=False)
    assert read_share() >= max(0.6, before + 0.3), (before, read_share())
    # without the term the same networks train exactly as before the term existed
    a = coupled.coupled_trainer("mnist-negative", base_width=8, n=64, device="cpu")
    torch.manual_seed(0)
    b = Trainer(coupled.CoupledGenerator(base_width=8), coupled.CoupledDiscriminator(base_width=8),
                coupled.disjoint_pair("mnist-negative", n=64), coupled.TRAINING, device="cpu")
    a.fit(3, progress=False), b.fit(3, progress=False)
    assert all(torch.equal(p, q) for p, q in zip(a.generator.parameters(), b.generator.parameters()))
    with pytest.raises(ValueError, match="pass a prior with one .gantutor.latent.CodePrior.*StandardNormal"):
        coupled.coupled_trainer("mnist-negative", base_width=8, n=64, device="cpu", info_weight=1.0)
    with pytest.raises(ValueError, match="the code head reads None .build it with code_classes=4"):
        Trainer(coupled.CoupledGenerator(base_width=8, prior=prior), coupled.CoupledDiscriminator(base_width=8),
                coupled.disjoint_pair("mnist-negative", n=64), coupled.TRAINING.replace(info_weight=1.0),
                device="cpu", latent=prior)
    with pytest.raises(ValueError, match="info_weight must be a number >= 0"):
        coupled.TRAINING.replace(info_weight=-1)
