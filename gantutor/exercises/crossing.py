"""Checks for chapter 8: sharing layers between two generators, InfoGAN's information term, the cycle-consistency loss."""
from __future__ import annotations

from .verdict import Verdict, _call


def check_share_layers(share) -> bool:
    """Exercise: ``share(first, second, k) -> (a, b)``: two ``nn.Sequential`` whose first ``k`` layers
    are the *same modules* (``first``'s), the rest each network's own."""
    import torch
    from torch import nn

    v = Verdict("sharing the first layers")

    def nets():
        torch.manual_seed(0)
        return [nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2)) for _ in range(2)]

    for k in (0, 2, 4):
        first, second = nets()
        ran, out = _call(v, f"share(first, second, {k})", share, first, second, k)
        if not ran:
            return v.done()
        if not (isinstance(out, tuple) and len(out) == 2 and all(isinstance(n, nn.Sequential) for n in out)):
            v.compare(False, f"share(first, second, {k})", "a pair of nn.Sequential", type(out).__name__)
            return v.done()
        a, b = out
        v.compare(len(a) == len(b) == 5, f"k={k}: the number of layers of each network", 5, (len(a), len(b)),
                  "keep every layer: the shared ones, then each network's own")
        same = [a[i] is b[i] for i in range(min(len(a), len(b)))]
        v.compare(same[:k] == [True] * k, f"k={k}: the first {k} layers are one module in both", "the same objects",
                  f"shared positions {[i for i, s in enumerate(same) if s]}",
                  "put the very same module in both (b = [first[i] for i < k] + ...), not a copy"
                  if not any(same) and k else "")
        v.compare(not any(same[k:]), f"k={k}: the later layers are each network's own", "distinct modules",
                  f"shared positions {[i for i, s in enumerate(same) if s]}",
                  "share only the first k layers" if any(same[k:]) else "")
        own = [b[i] is second[i] for i in range(k, min(len(b), len(second)))]
        v.compare(all(own), f"k={k}: the second network keeps its own later layers", "second's modules",
                  "other modules" if not all(own) else "")
        x = torch.randn(3, 4)
        with torch.no_grad():
            shared_out = a[:k](x) if k else x
            v.compare(torch.allclose(b[:k](x) if k else x, shared_out), f"k={k}: both compute the same shared features",
                      "equal outputs of the shared part", "different ones")
    return v.done()


def check_cycle_loss(function) -> bool:
    """Exercise: ``function(x, x_back) -> tensor``, CycleGAN's cycle loss: the mean absolute error."""
    import torch

    from ..losses import cycle_loss

    v = Verdict("cycle-consistency loss")
    g = torch.Generator().manual_seed(0)
    x, back = torch.rand(4, 1, 6, 6, generator=g) * 2 - 1, torch.rand(4, 1, 6, 6, generator=g) * 2 - 1
    ran, got = _call(v, "function(x, x_back)", function, x, back)
    if not ran:
        return v.done()
    if not isinstance(got, torch.Tensor) or got.numel() != 1:
        v.compare(False, "function(x, x_back)", "a one-number tensor", type(got).__name__)
        return v.done()
    got, want = float(got), float(cycle_loss(x, back))
    hint = ""
    if abs(got - float((x - back).pow(2).mean())) < 1e-6:
        hint = "that is the mean squared error; CycleGAN uses the L1 distance, the mean of |x - x_back|"
    elif abs(got - float((x - back).abs().sum())) < 1e-4:
        hint = "that is the sum over all pixels; take the mean, so the weight does not depend on the image size"
    elif abs(got - float((x - back).mean().abs())) < 1e-6:
        hint = "take the absolute value of each difference before averaging, not of the average"
    v.compare(abs(got - want) < 1e-6, "the loss of two random batches", f"{want:.6f}", f"{got:.6f}", hint)
    ran, zero = _call(v, "function(x, x)", function, x, x.clone())
    if ran:
        v.compare(abs(float(zero)) < 1e-9, "the loss when the image comes back unchanged", 0, f"{float(zero):.3g}")
    return v.done()


def check_info_loss(function) -> bool:
    """Exercise: ``function(code_logits, codes) -> tensor``, InfoGAN's information term: the mean of
    ``-log Q(c | x)``, the code head's cross-entropy on the codes that made the fakes."""
    import torch

    from ..losses import info_loss

    v = Verdict("InfoGAN's information term")
    g = torch.Generator().manual_seed(0)
    logits, codes = torch.randn(6, 5, generator=g) * 2, torch.randint(5, (6,), generator=g)
    ran, got = _call(v, "function(code_logits, codes)", function, logits, codes)
    if not ran:
        return v.done()
    if not isinstance(got, torch.Tensor) or got.numel() != 1:
        v.compare(False, "function(code_logits, codes)", "a one-number tensor", type(got).__name__)
        return v.done()
    got, want = float(got), float(info_loss(logits, codes))
    picked = logits[torch.arange(6), codes]
    hint = ""
    if abs(got + float(picked.mean())) < 1e-5:
        hint = "that is minus the code's raw logit; take log_softmax first, so the other codes count too"
    elif abs(got - 6 * want) < 1e-4:
        hint = "that is the sum over the batch; take the mean"
    elif abs(got + want) < 1e-5:
        hint = "the sign is flipped: the loss is -log Q(c | x), small when the head reads the code"
    elif abs(got - float(-(torch.softmax(logits, 1)[torch.arange(6), codes]).mean())) < 1e-5:
        hint = "that is minus the probability; take its logarithm (the cross-entropy)"
    v.compare(abs(got - want) < 1e-5, "the term for random logits", f"{want:.6f}", f"{got:.6f}", hint)
    sure = torch.nn.functional.one_hot(codes, 5).float() * 40
    ran, low = _call(v, "function(confident_logits, codes)", function, sure, codes)
    if ran:
        v.compare(abs(float(low)) < 1e-6, "the term when the head reads every code with certainty", 0, f"{float(low):.3g}")
    return v.done()
