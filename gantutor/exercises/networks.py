"""Checks for chapters 3 and 4: building the generator and the discriminator."""
from __future__ import annotations

import torch
from torch import nn

from .verdict import Verdict, _close


def _shape(t) -> tuple | str:
    return tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__


def _leaves(net: nn.Module) -> list[nn.Module]:
    return [m for m in net.modules() if not list(m.children())]


def _last_module(net: nn.Module) -> nn.Module | None:
    leaves = _leaves(net)
    return leaves[-1] if leaves else None


def _name(module: nn.Module | None) -> str:
    if isinstance(module, nn.LeakyReLU):
        return f"LeakyReLU({module.negative_slope:g})"
    return type(module).__name__ if module is not None else "nothing"


def check_generator(net: nn.Module, latent_dim: int = 64, channels: int = 1, image_size: int = 28,
                    batch: int = 8, verbose: bool = True) -> bool:
    """Check a DCGAN-style generator: ``z (N, latent_dim, 1, 1)`` (or ``(N, latent_dim)``) to
    images ``(N, channels, image_size, image_size)`` in ``[-1, 1]``, built from transposed
    convolutions with BatchNorm in the hidden blocks and a final ``tanh``."""
    v = Verdict(f"generator for {channels}x{image_size}x{image_size} images")
    if not v.compare(isinstance(net, nn.Module), "the generator", "an nn.Module", f"a {type(net).__name__}"):
        return v.done(verbose)
    modules = list(net.modules())
    convts = [m for m in modules if isinstance(m, nn.ConvTranspose2d)]
    v.compare(len(convts) >= 2, "transposed convolutions (nn.ConvTranspose2d) that grow the image",
              "at least 2", f"{len(convts)}")
    norms = [m for m in modules if isinstance(m, nn.BatchNorm2d)]
    v.compare(bool(norms), "BatchNorm2d layers in the hidden blocks", "at least one", "none")
    last = _last_module(net)
    v.compare(isinstance(last, nn.Tanh), "the last layer", "nn.Tanh (the images lie in [-1, 1])", _name(last))
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
        v.compare(False, f"the generator on z of shape {(batch, latent_dim, 1, 1)}", "it to run",
                  f"{type(error).__name__}: {error}")
    finally:
        net.train(was_training)
    if out is not None:
        want = (batch, channels, image_size, image_size)
        got = _shape(out)
        hint = ""
        if isinstance(got, tuple) and len(got) == 4 and got[:2] == want[:2] and got[2:] != want[2:]:
            hint = (f"the side is {got[-1]} instead of {image_size}: check each block with "
                    "n_out = (n_in - 1)s - 2p + k")
        elif isinstance(got, tuple) and len(got) == 4 and got[1] != channels:
            hint = f"the last layer makes {got[1]} channels: give it out_channels={channels}"
        v.compare(got == want, "the shape of the output", want, got, hint)
        if isinstance(out, torch.Tensor) and out.numel():
            span = f"values from {out.min():.3f} to {out.max():.3f}"
            v.compare(bool(out.min() >= -1 and out.max() <= 1), "the range of the output", "every value in [-1, 1]", span)
            v.compare(bool(out.min() < 0 < out.max()), "the signs of the output",
                      "negative and positive values (the background is -1)", span)
    return v.done(verbose)


def check_upsampling_layer(layer: nn.Module, in_size: int, out_size: int, verbose: bool = True) -> bool:
    """Check a transposed convolution that maps an ``in_size`` side to ``out_size`` and whose
    kernel size is a multiple of its stride (even overlap, no checkerboard)."""
    v = Verdict(f"upsampling layer {in_size} -> {out_size}")
    if not v.compare(isinstance(layer, nn.ConvTranspose2d), "the layer", "an nn.ConvTranspose2d",
                     f"an {type(layer).__name__}"):
        return v.done(verbose)
    with torch.no_grad():
        out = layer(torch.zeros(1, layer.in_channels, in_size, in_size))
    (k, _), (s, _), (p, _) = layer.kernel_size, layer.stride, layer.padding
    op = layer.output_padding[0]
    v.compare(out.shape[-1] == out_size, f"the side it makes of a {in_size}x{in_size} input",
              f"{out_size}x{out_size}", f"{out.shape[-2]}x{out.shape[-1]}",
              f"with kernel {k}, stride {s}, padding {p}" + (f", output_padding {op}" if op else "")
              + f": ({in_size} - 1)·{s} - 2·{p} + {k}" + (f" + {op}" if op else "") + f" = {out.shape[-1]}")
    v.compare(k % s == 0, "the kernel size against the stride", "a kernel size that is a multiple of the stride "
              "(even overlap, no checkerboard)", f"kernel {k} and stride {s}")
    return v.done(verbose)


def check_parameter_count(answer: int, net: nn.Module, verbose: bool = True) -> bool:
    """Check a hand-computed number of parameters against ``net``'s."""
    true = sum(p.numel() for p in net.parameters())
    conv_biases = sum(m.bias.numel() for m in net.modules()
                      if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)) and m.bias is not None)
    norm = sum(p.numel() for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
               for p in m.parameters(recurse=False))
    hint = ""
    if answer != true:
        if conv_biases and answer == true - conv_biases:
            hint = f"you left out the {conv_biases:,} biases (one per output channel of each layer that has them)"
        elif not conv_biases and answer - true == sum(m.out_channels for m in net.modules()
                                                     if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))):
            hint = "you counted biases, but these convolutions have none (bias=False)"
        elif norm and answer == true - norm:
            hint = f"you left out BatchNorm's {norm:,} parameters (a weight and a bias per channel)"
        elif norm and answer == true + norm:
            hint = "BatchNorm has 2 trainable parameters per channel, not 4 (its running mean and variance are buffers)"
    v = Verdict("parameter count")
    v.compare(answer == true, f"the number of parameters of {type(net).__name__}", f"{true:,} (counted by PyTorch)",
              f"your {answer:,} (off by {answer - true:+,})", hint)
    return v.done(verbose)


# --------------------------------------------------------------------------- chapter 4 (discriminator)

def check_discriminator(net: nn.Module, channels: int = 1, image_size: int = 28, batch: int = 8,
                        verbose: bool = True) -> bool:
    """Check a DCGAN-style discriminator: images ``(N, C, S, S)`` to one logit per image,
    strided convolutions, LeakyReLU(0.2), no BatchNorm on the input layer, no sigmoid."""
    v = Verdict(f"discriminator for {channels}x{image_size}x{image_size} images")
    if not v.compare(isinstance(net, nn.Module), "the discriminator", "an nn.Module", f"a {type(net).__name__}"):
        return v.done(verbose)
    leaves = _leaves(net)
    convs = [m for m in leaves if isinstance(m, nn.Conv2d)]
    v.compare(any(c.stride[0] == 2 for c in convs), "the strides of the convolutions",
              "at least one stride-2 convolution (it shrinks the image)", f"strides {[c.stride[0] for c in convs]}")
    pools = [_name(m) for m in leaves if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d))]
    v.compare(not pools, "pooling layers", "none (strided convolutions learn their own downsampling)", ", ".join(pools))
    activations = [m for m in leaves if "ReLU" in type(m).__name__ or "ELU" in type(m).__name__]
    good = bool(activations) and all(isinstance(m, nn.LeakyReLU) and abs(m.negative_slope - 0.2) < 1e-9
                                     for m in activations)
    v.compare(good, "the activations", "LeakyReLU(0.2) everywhere",
              ", ".join(dict.fromkeys(_name(m) for m in activations)) or "none")
    first_conv = next((i for i, m in enumerate(leaves) if isinstance(m, nn.Conv2d)), None)
    if first_conv is not None:
        after = leaves[first_conv + 1] if first_conv + 1 < len(leaves) else None
        v.compare(not isinstance(after, nn.BatchNorm2d), "the layer after the first convolution",
                  "no BatchNorm (it would hide each batch's brightness and contrast from D)", _name(after))
    last = leaves[-1] if leaves else None
    v.compare(not isinstance(last, nn.Sigmoid), "the last layer",
              "a layer that outputs a logit (no sigmoid: the loss applies it, stably)", "a Sigmoid")
    torch.manual_seed(0)
    x = torch.rand(batch, channels, image_size, image_size) * 2 - 1
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            out = net(x)
        v.compare(out.numel() == batch and out.shape[0] == batch, f"the output for {batch} images",
                  f"{batch} logits, shape ({batch},) or ({batch}, 1)", f"shape {_shape(out)}",
                  "flatten the last feature map and end with one output (e.g. a conv with 1 channel over the "
                  "whole map)" if out.shape[0] == batch and out.numel() > batch else "")
    except Exception as error:  # noqa: BLE001
        v.compare(False, f"the discriminator on images of shape {(batch, channels, image_size, image_size)}",
                  "it to run", f"{type(error).__name__}: {error}")
    finally:
        net.train(was_training)
    return v.done(verbose)


def _conv_layers(layers) -> list[tuple[int, int]]:
    pairs = []
    for layer in layers:
        if isinstance(layer, nn.Module):
            if isinstance(layer, nn.Conv2d):
                pairs.append((layer.kernel_size[0], layer.stride[0]))
        else:
            pairs.append(tuple(layer))
    return pairs


def receptive_field(layers) -> int:
    r"""Receptive field of the last of ``layers`` (convolutions ``(kernel, stride)``; other layers are ignored).

    .. math:: r_\ell = r_{\ell-1} + (k_\ell - 1)\,j_{\ell-1}, \qquad j_\ell = j_{\ell-1} s_\ell,
              \qquad r_0 = j_0 = 1
    """
    r, j = 1, 1
    for k, s in _conv_layers(layers):
        r += (k - 1) * j
        j *= s
    return r


def check_receptive_field(answer: int, net_or_layers, verbose: bool = True) -> bool:
    """Check a hand-computed receptive field of a stack of convolutions (an ``nn.Module`` or ``(k, s)`` pairs)."""
    layers = list(net_or_layers.modules()) if isinstance(net_or_layers, nn.Module) else list(net_or_layers)
    pairs = _conv_layers(layers)
    true = receptive_field(layers)
    steps, r, j = ["1"], 1, 1
    for k, s in pairs:
        r += (k - 1) * j
        j *= s
        steps.append(str(r))
    hint = ""
    if answer != true:
        if answer == 1 + sum(k - 1 for k, _ in pairs):
            hint = "you added k - 1 per layer without the jump: multiply by the product of the earlier strides"
        elif answer == sum(k for k, _ in pairs):
            hint = "adding the kernel sizes ignores the strides: r <- r + (k - 1)·j, then j <- j·s"
    v = Verdict("receptive field")
    v.compare(answer == true, "the receptive field of the last layer", f"{true}x{true} input pixels "
              f"(layer by layer: {' -> '.join(steps)})", f"your {answer}x{answer}", hint)
    return v.done(verbose)


def check_d_loss(d_loss, verbose: bool = True) -> bool:
    """Check a discriminator loss ``d_loss(real_logits, fake_logits)``: the binary cross-entropy
    of real logits against 1 and fake logits against 0 (means, summed), stable for large logits."""
    import torch.nn.functional as F

    v = Verdict("discriminator loss")
    torch.manual_seed(0)
    real, fake = torch.randn(16), torch.randn(16)
    bce = F.binary_cross_entropy_with_logits
    want = (bce(real, torch.ones(16)) + bce(fake, torch.zeros(16))).item()
    swapped = (bce(real, torch.zeros(16)) + bce(fake, torch.ones(16))).item()
    averaged = want / 2
    try:
        got = torch.as_tensor(d_loss(real, fake), dtype=torch.float32)
        one = v.compare(got.numel() == 1, "d_loss on 16 real and 16 fake logits", "one number",
                        f"{got.numel()} numbers (shape {tuple(got.shape)})",
                        "take the mean of each term" if got.numel() == 16 else "")
        if one:
            value = float(got.reshape(()))
            hint = ""
            if _close(value, swapped, 1e-5):
                hint = "the labels are swapped: real logits go with label 1, fake logits with label 0"
            elif _close(value, averaged, 1e-5):
                hint = "that is the average of the two terms: the D loss is their sum"
            v.compare(_close(value, want, 1e-5), "d_loss on 16 random real and 16 random fake logits",
                      f"{want:.4f}", f"{value:.4f}", hint)
        extreme = torch.as_tensor(d_loss(torch.tensor([-200.0]), torch.tensor([200.0])), dtype=torch.float32)
        value = float(extreme.reshape(-1)[0]) if extreme.numel() else float("nan")
        hint = ""
        if not torch.isfinite(extreme).all():
            hint = "sigmoid then log overflows at such logits: use F.binary_cross_entropy_with_logits (or softplus)"
        elif abs(value - 200.0) < 1e-2:
            hint = "BCELoss clamps each log at -100: use F.binary_cross_entropy_with_logits on the logits"
        elif one and _close(float(got.reshape(())), swapped, 1e-5):
            hint = "with the labels swapped, these confident answers look right to your loss"
        v.compare(bool(torch.isfinite(extreme).all()) and abs(value - 400.0) < 1e-2,
                  "d_loss for a confident wrong D (real logit -200, fake logit 200)",
                  "400.0 (finite, not clamped)", f"{extreme.flatten().tolist()}", hint)
    except Exception as error:  # noqa: BLE001
        v.compare(False, "d_loss on two tensors of logits", "it to run", f"{type(error).__name__}: {error}")
    return v.done(verbose)
