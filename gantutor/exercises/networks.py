"""Checks for chapters 3 and 4: building the generator and the discriminator."""
from __future__ import annotations

import torch
from torch import nn

from .verdict import Verdict


def _shape(t) -> tuple:
    return tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__


def _last_module(net: nn.Module) -> nn.Module | None:
    leaves = [m for m in net.modules() if not list(m.children())]
    return leaves[-1] if leaves else None


def check_generator(net: nn.Module, latent_dim: int = 64, channels: int = 1, image_size: int = 28,
                    batch: int = 8, verbose: bool = True) -> bool:
    """Check a DCGAN-style generator: ``z (N, latent_dim, 1, 1)`` (or ``(N, latent_dim)``) to
    images ``(N, channels, image_size, image_size)`` in ``[-1, 1]``, built from transposed
    convolutions with BatchNorm in the hidden blocks and a final ``tanh``."""
    v = Verdict(f"generator for {channels}x{image_size}x{image_size} images")
    if not v.expect(isinstance(net, nn.Module), "it is an nn.Module", f"got a {type(net).__name__}"):
        return v.done(verbose)
    modules = list(net.modules())
    convts = [m for m in modules if isinstance(m, nn.ConvTranspose2d)]
    v.expect(len(convts) >= 2, "it grows the image with transposed convolutions (nn.ConvTranspose2d)",
             f"found {len(convts)}")
    v.expect(any(isinstance(m, nn.BatchNorm2d) for m in modules), "the hidden blocks use BatchNorm2d", "found none")
    v.expect(isinstance(_last_module(net), nn.Tanh), "the last layer is a tanh (the data lies in [-1, 1])",
             f"the last layer is {type(_last_module(net)).__name__}")
    torch.manual_seed(0)
    z = torch.randn(batch, latent_dim, 1, 1)
    was_training = net.training
    net.eval()
    out = None
    try:
        with torch.no_grad():
            try:
                out = net(z)
            except Exception:  # noqa: BLE001 - a generator may want z as (N, latent_dim)
                out = net(z.flatten(1))
    except Exception as error:  # noqa: BLE001 - the student sees the error in plain words
        v.expect(False, f"it accepts z of shape {(batch, latent_dim, 1, 1)}", f"{type(error).__name__}: {error}")
    finally:
        net.train(was_training)
    if out is not None:
        want = (batch, channels, image_size, image_size)
        v.expect(_shape(out) == want, f"the output has shape {want}", f"got {_shape(out)}")
        if isinstance(out, torch.Tensor) and out.numel():
            v.expect(out.min() >= -1 and out.max() <= 1, "every value lies in [-1, 1]",
                     f"values span [{out.min():.3f}, {out.max():.3f}]")
            v.expect(out.min() < 0 < out.max(), "it makes negative and positive values (the background is -1)",
                     f"values span [{out.min():.3f}, {out.max():.3f}]")
    return v.done(verbose)


def check_upsampling_layer(layer: nn.Module, in_size: int, out_size: int, verbose: bool = True) -> bool:
    """Check a transposed convolution that maps an ``in_size`` side to ``out_size`` and whose
    kernel size is a multiple of its stride (even overlap, no checkerboard)."""
    v = Verdict(f"upsampling layer {in_size} -> {out_size}")
    if not v.expect(isinstance(layer, nn.ConvTranspose2d), "it is an nn.ConvTranspose2d", f"got {type(layer).__name__}"):
        return v.done(verbose)
    with torch.no_grad():
        out = layer(torch.zeros(1, layer.in_channels, in_size, in_size))
    v.expect(out.shape[-1] == out_size, f"it maps {in_size}x{in_size} to {out_size}x{out_size}",
             f"it makes {out.shape[-2]}x{out.shape[-1]}: use n_out = (n_in - 1)s - 2p + k")
    (k, _), (s, _) = layer.kernel_size, layer.stride
    v.expect(k % s == 0, "the kernel size is a multiple of the stride (no checkerboard overlap)",
             f"kernel {k} and stride {s}")
    return v.done(verbose)


def check_parameter_count(answer: int, net: nn.Module, verbose: bool = True) -> bool:
    """Check a hand-computed number of parameters against ``net``'s."""
    true = sum(p.numel() for p in net.parameters())
    v = Verdict("parameter count")
    v.expect(answer == true, f"{type(net).__name__} has {answer:,} parameters",
             f"it has {true:,}; you are off by {answer - true:+,}. Count c_in*c_out*k*k weights per "
             "convolution (+ c_out biases if it has them) and 2 per map for BatchNorm")
    return v.done(verbose)


# --------------------------------------------------------------------------- chapter 4 (discriminator)

def check_discriminator(net: nn.Module, channels: int = 1, image_size: int = 28, batch: int = 8,
                        verbose: bool = True) -> bool:
    """Check a DCGAN-style discriminator: images ``(N, C, S, S)`` to one logit per image,
    strided convolutions, LeakyReLU(0.2), no BatchNorm on the input layer, no sigmoid."""
    v = Verdict(f"discriminator for {channels}x{image_size}x{image_size} images")
    if not v.expect(isinstance(net, nn.Module), "it is an nn.Module", f"got a {type(net).__name__}"):
        return v.done(verbose)
    leaves = [m for m in net.modules() if not list(m.children())]
    convs = [m for m in leaves if isinstance(m, nn.Conv2d)]
    v.expect(any(c.stride[0] == 2 for c in convs), "it shrinks the image with strided convolutions (stride 2)",
             f"strides found: {[c.stride[0] for c in convs]}")
    v.expect(not any(isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)) for m in leaves),
             "it uses no pooling (strided convolutions learn their own downsampling)", "found a pooling layer")
    relus = [m for m in leaves if isinstance(m, nn.LeakyReLU)]
    v.expect(bool(relus) and all(abs(m.negative_slope - 0.2) < 1e-9 for m in relus),
             "its activations are LeakyReLU(0.2)", f"found {[type(m).__name__ for m in leaves if 'ReLU' in type(m).__name__]}")
    first_conv = next((i for i, m in enumerate(leaves) if isinstance(m, nn.Conv2d)), None)
    if first_conv is not None:
        nxt = leaves[first_conv + 1] if first_conv + 1 < len(leaves) else None
        v.expect(not isinstance(nxt, nn.BatchNorm2d), "the input layer has no BatchNorm",
                 "BatchNorm right after the first convolution hides the batch's brightness and contrast from D")
    v.expect(not isinstance(leaves[-1] if leaves else None, nn.Sigmoid),
             "it outputs a logit (no sigmoid: BCEWithLogitsLoss applies it, stably)", "the last layer is a Sigmoid")
    torch.manual_seed(0)
    x = torch.rand(batch, channels, image_size, image_size) * 2 - 1
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            out = net(x)
        v.expect(out.numel() == batch and out.shape[0] == batch, f"one logit per image ({batch} images -> {batch} numbers)",
                 f"got shape {_shape(out)}")
    except Exception as error:  # noqa: BLE001
        v.expect(False, f"it accepts images of shape {(batch, channels, image_size, image_size)}",
                 f"{type(error).__name__}: {error}")
    finally:
        net.train(was_training)
    return v.done(verbose)


def receptive_field(layers) -> int:
    r"""Receptive field of the last of ``layers`` (convolutions ``(kernel, stride)``; other layers are ignored).

    .. math:: r_\ell = r_{\ell-1} + (k_\ell - 1)\,j_{\ell-1}, \qquad j_\ell = j_{\ell-1} s_\ell,
              \qquad r_0 = j_0 = 1
    """
    r, j = 1, 1
    for layer in layers:
        if isinstance(layer, nn.Module):
            if not isinstance(layer, nn.Conv2d):
                continue
            k, s = layer.kernel_size[0], layer.stride[0]
        else:
            k, s = layer
        r += (k - 1) * j
        j *= s
    return r


def check_receptive_field(answer: int, net_or_layers, verbose: bool = True) -> bool:
    """Check a hand-computed receptive field of a stack of convolutions (an ``nn.Module`` or ``(k, s)`` pairs)."""
    layers = list(net_or_layers.modules()) if isinstance(net_or_layers, nn.Module) else list(net_or_layers)
    true = receptive_field(layers)
    v = Verdict("receptive field")
    v.expect(answer == true, f"the last layer sees {answer}x{answer} input pixels",
             f"it sees {true}x{true}; use r <- r + (k - 1) * j, then j <- j * s, layer by layer from r = j = 1")
    return v.done(verbose)


def check_d_loss(d_loss, verbose: bool = True) -> bool:
    """Check a discriminator loss ``d_loss(real_logits, fake_logits)``: the binary cross-entropy
    of real logits against 1 and fake logits against 0 (means, summed), stable for large logits."""
    import torch.nn.functional as F

    v = Verdict("discriminator loss")
    torch.manual_seed(0)
    real, fake = torch.randn(16), torch.randn(16)
    want = F.binary_cross_entropy_with_logits(real, torch.ones(16)) + F.binary_cross_entropy_with_logits(fake, torch.zeros(16))
    try:
        got = d_loss(real, fake)
        got = torch.as_tensor(got, dtype=torch.float32)
        v.expect(got.numel() == 1, "it returns one number", f"got shape {tuple(got.shape)}")
        v.expect(got.numel() == 1 and torch.allclose(got.reshape(()), want, atol=1e-5),
                 f"on random logits it gives {want.item():.4f}",
                 f"got {got.flatten()[:3].tolist()}: real images get label 1, fakes label 0, and the two means add up")
        extreme = torch.as_tensor(d_loss(torch.tensor([-200.0]), torch.tensor([200.0])), dtype=torch.float32)
        v.expect(bool(torch.isfinite(extreme).all()) and abs(float(extreme.reshape(-1)[0]) - 400.0) < 1e-2,
                 "a confident wrong answer (logits of -200 and 200) costs 400, not inf or a clamped 200",
                 f"got {extreme.flatten().tolist()}: use BCEWithLogitsLoss (or softplus), not sigmoid then log")
    except Exception as error:  # noqa: BLE001
        v.expect(False, "it runs on two tensors of logits", f"{type(error).__name__}: {error}")
    return v.done(verbose)
