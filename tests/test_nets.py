import pytest
import torch

from gantutor.nets import (Discriminator, Generator, MLPDiscriminator, MLPGenerator, build, count_parameters,
                           dcgan_init, describe, load_weights, supported_sizes)


@pytest.mark.parametrize("size", [28, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_is_size_generic(size, channels):
    g = Generator(latent_dim=16, channels=channels, base_width=8, image_size=size)
    d = Discriminator(channels=channels, base_width=8, image_size=size)
    images = g(torch.randn(3, 16))
    assert images.shape == (3, channels, size, size)
    assert images.abs().max() <= 1
    assert d(images).shape == (3,)


def test_generator_28_grows_7_14_28():
    g = Generator(latent_dim=8, base_width=4)
    x = torch.zeros(2, 8, 1, 1)
    sides = []
    for block in g.blocks:
        x = block(x)
        sides.append(x.shape[-1])
    assert sides == [7, 14, 28]


def test_unsupported_size_and_wrong_inputs_fail_clearly():
    with pytest.raises(ValueError, match="image_size=30 is not supported.*28"):
        Generator(image_size=30)
    d = Discriminator()
    with pytest.raises(ValueError, match=r"expects images of shape \(N, 1, 28, 28\), got \(2, 3, 28, 28\)"):
        d(torch.zeros(2, 3, 28, 28))
    with pytest.raises(ValueError, match="expects z of shape"):
        Generator(latent_dim=8)(torch.zeros(2, 9))
    assert 28 in supported_sizes() and 32 in supported_sizes()


def test_dcgan_init_statistics():
    torch.manual_seed(0)
    g = Generator(base_width=32)
    conv = g.blocks[0][0].weight
    assert abs(conv.mean().item()) < 1e-3 and abs(conv.std().item() - 0.02) < 1e-3
    bn = g.blocks[0][1]
    assert abs(bn.weight.mean().item() - 1) < 0.01 and bn.bias.abs().max() == 0
    layer = torch.nn.Linear(3, 3)
    dcgan_init(layer)
    assert layer.bias.abs().max() == 0


def test_discriminator_has_no_batchnorm_on_its_input_block():
    d = Discriminator()
    first = d.blocks[0]
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in first.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in d.modules())
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in Discriminator(batchnorm=False).modules())


def test_toy_mlps_shapes_and_errors():
    g, d = MLPGenerator(latent_dim=3, data_dim=2, hidden=16, depth=3), MLPDiscriminator(2, 16, 2)
    x = g(torch.randn(5, 3))
    assert x.shape == (5, 2) and d(x).shape == (5,)
    with pytest.raises(ValueError, match="depth >= 1"):
        MLPGenerator(depth=0)
    with pytest.raises(ValueError, match="expects x of shape"):
        d(torch.zeros(5, 3))


def test_describe_and_build_round_trip():
    g = Generator(latent_dim=12, base_width=8)
    rebuilt = build(describe(g))
    load_weights(rebuilt, g.state_dict())
    z = torch.randn(4, 12)
    g.eval(), rebuilt.eval()
    assert torch.equal(g(z), rebuilt(z))
    assert count_parameters(rebuilt) == count_parameters(g)


def test_load_weights_names_both_shapes():
    small, large = Generator(base_width=8), Generator(base_width=16)
    with pytest.raises(ValueError, match=r"shape \(64, 32, 7, 7\) in the checkpoint but \(64, 16, 7, 7\) in the model"):
        load_weights(small, large.state_dict())
