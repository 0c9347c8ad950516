"""Time to quality: the book's two MNIST recipes against two DCGAN recipes people copy, on this CPU.

    python benchmarks/peers.py           # 4 recipes x 600 s of training + 2 more cGAN seeds (58 min at load 5-12)
    python benchmarks/peers.py --peer-budget 2400   # the peers train 2,400 s: long enough to decide "10x sooner"
    python benchmarks/peers.py --quick   # every code path in seconds, written only with --out (CI)

The four recipes train on the same data (``load_domain("mnist")``: 4,000 real digits), through
the book's one :class:`~gantutor.train.Trainer` (non-saturating loss, one D step per G step, G
through the updated D), and are measured the same way:

1. ``chapter-5``: the book's unconditional DCGAN (``gantutor.recipes.recipe("chapter-5")``);
2. ``chapter-5-cgan``: the book's class-conditional DCGAN (one-hot label into G, projection D);
3. ``pytorch-examples-dcgan``: pytorch/examples ``dcgan/main.py`` with its defaults for MNIST:
   the digits resized to 64x64 (bilinear), nz 100, ngf = ndf = 64, its G and D layer for layer
   (D's last Sigmoid + BCELoss as logits + BCE-with-logits, the same loss), its init
   (conv weights N(0, 0.02), BatchNorm weights N(1, 0.02)), Adam 2e-4 with betas (0.5, 0.999),
   batch 64, no EMA. Its 64x64 samples are measured downsampled to 28x28 (bilinear, antialiased);
4. ``tensorflow-dcgan-tutorial``: tensorflow/docs ``site/en/tutorials/generative/dcgan.ipynb``:
   G Dense(7*7*256)-BN-LeakyReLU, ConvT 128/64/1 of kernel 5 ('same'), D two 5x5 stride-2 convs
   with LeakyReLU and Dropout(0.3), Dense(1); Keras's defaults where the tutorial takes them:
   LeakyReLU slope 0.3, BatchNormalization momentum 0.99 and epsilon 1e-3, Glorot-uniform
   weights and zero biases, Adam 1e-4 with betas (0.9, 0.999) and epsilon 1e-7; batch 256; z of
   length 100; no EMA. (The tutorial updates G through the D of *before* D's step, from one
   forward pass; the Trainer uses the updated D, as the other three recipes do.)

Every recipe gets the same **training time**, ``--budget`` seconds (600) with one thread, or
the two peers ``--peer-budget`` seconds: a peer that has not reached a ratio within the common
budget only gives "more than budget / the book's time" as a factor, and a claim of "at least
10x sooner" needs the peer to train 10x as long as the book's recipe takes to get there:

1. probe: each recipe trains for ``--probe-seconds`` with one thread, one recipe at a time, in
   ``--probe-rounds`` interleaved rounds; its speed is the median steps/s, its budget in steps
   ``round(speed x budget)`` (seconds measured during a long run on a shared machine are noise);
2. train: each recipe for its budget of steps, from seed 0, two at a time in processes of one
   thread each; ``--extra-seeds`` (1 and 2) of the book's conditional recipe show its spread;
3. evaluate at log-spaced steps (0, 25, 35, 50, 71, 100, ... a factor sqrt(2) apart, and the
   budget): 1,000 samples of the EMA generator where the recipe has one, else of G (the
   conditional one asked for every digit 100 times, with the trainer's fixed evaluation noise):
   the **confident-share ratio** (share of samples the feature network calls an MNIST digit with
   probability >= 0.9, over the same share of 1,000 held-out real digits, about 0.884), the
   Fréchet distance to those digits in the feature network's space (real vs real: about 30),
   and for the conditional recipe the share drawn as the digit asked for. The evaluations are not
   counted as training time: a point's seconds are its steps / the probed speed.

Headline: per recipe the seconds (and steps) to reach a ratio of 0.6 and 0.8, interpolated
linearly between evaluations, or "not within the budget" (then more than the budget); and how
many times sooner the book's conditional recipe reaches 0.8 than each peer recipe (a lower
bound when the peer does not get there). Writes benchmarks/results/peers.json.
"""
from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gantutor.recipes import recipe as book_recipe
from gantutor.results import BenchmarkRun

RESULTS = Path(__file__).resolve().parent / "results"
BOOK, BOOK_CGAN, TORCH_PEER, TF_PEER = ("chapter-5", "chapter-5-cgan", "pytorch-examples-dcgan",
                                        "tensorflow-dcgan-tutorial")
SOURCES = {
    BOOK: "gantutor.recipes.recipe('chapter-5')",
    BOOK_CGAN: "gantutor.recipes.recipe('chapter-5-cgan')",
    TORCH_PEER: "https://github.com/pytorch/examples/blob/main/dcgan/main.py",
    TF_PEER: "https://github.com/tensorflow/docs/blob/master/site/en/tutorials/generative/dcgan.ipynb",
}
NAMES = [BOOK, BOOK_CGAN, TORCH_PEER, TF_PEER]
PEERS = [TORCH_PEER, TF_PEER]
GOALS = (0.6, 0.8)
CLAIM_FACTOR = 10.0
NUM_EVAL, CONFIDENCE, SEED = 1000, 0.9, 0
QUICK_EVAL, QUICK_STEPS = 100, 2  # --quick: 100 samples per evaluation, 2 steps per recipe
FIRST_EVAL = 25  # the first evaluation after step 0 (1 with --quick)
_HELD_OUT: dict = {}


# --------------------------------------------------------------------------- the peer recipes

def _pytorch_examples_init(module: nn.Module) -> None:
    """pytorch/examples dcgan ``weights_init``: conv weights N(0, 0.02), BatchNorm weights N(1, 0.02), biases 0."""
    name = type(module).__name__
    if name.find("Conv") != -1:
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif name.find("BatchNorm") != -1:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class TorchExamplesGenerator(nn.Module):
    """pytorch/examples ``dcgan/main.py``'s G: ``z (N, nz) -> (N, nc, 64, 64)``."""

    def __init__(self, nz: int = 100, ngf: int = 64, nc: int = 1) -> None:
        super().__init__()
        self.latent_dim = nz
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh(),
        )
        self.apply(_pytorch_examples_init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z[:, :, None, None])


class TorchExamplesDiscriminator(nn.Module):
    """pytorch/examples ``dcgan/main.py``'s D without its last Sigmoid: ``(N, nc, 64, 64) -> logits (N,)``."""

    def __init__(self, ndf: int = 64, nc: int = 1) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
        )
        self.apply(_pytorch_examples_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).view(-1)


def _keras_init(module: nn.Module) -> None:
    """Keras's defaults: Glorot-uniform kernels, zero biases (BatchNormalization: gamma 1, beta 0, as PyTorch)."""
    if isinstance(module, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.xavier_uniform_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def _keras_bn(kind, features: int) -> nn.Module:
    """Keras BatchNormalization: momentum 0.99 (PyTorch's momentum is 1 - that), epsilon 1e-3."""
    return kind(features, eps=1e-3, momentum=0.01)


KERAS_LEAKY = 0.3  # tf.keras.layers.LeakyReLU() default slope (alpha in Keras 2, negative_slope in Keras 3)


class TFTutorialGenerator(nn.Module):
    """The TensorFlow DCGAN tutorial's ``make_generator_model``: ``z (N, 100) -> (N, 1, 28, 28)``."""

    def __init__(self, noise_dim: int = 100) -> None:
        super().__init__()
        self.latent_dim = noise_dim
        self.dense = nn.Sequential(nn.Linear(noise_dim, 7 * 7 * 256, bias=False),
                                   _keras_bn(nn.BatchNorm1d, 7 * 7 * 256), nn.LeakyReLU(KERAS_LEAKY))
        self.convs = nn.Sequential(  # 'same': padding 2 for kernel 5; stride 2 adds output_padding 1 (7 -> 14 -> 28)
            nn.ConvTranspose2d(256, 128, 5, 1, 2, bias=False), _keras_bn(nn.BatchNorm2d, 128),
            nn.LeakyReLU(KERAS_LEAKY),
            nn.ConvTranspose2d(128, 64, 5, 2, 2, output_padding=1, bias=False), _keras_bn(nn.BatchNorm2d, 64),
            nn.LeakyReLU(KERAS_LEAKY),
            nn.ConvTranspose2d(64, 1, 5, 2, 2, output_padding=1, bias=False), nn.Tanh(),
        )
        self.apply(_keras_init)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        # Keras reshapes to (7, 7, 256) channels-last; BatchNorm1d is per feature, so the order is immaterial
        return self.convs(self.dense(z).view(-1, 256, 7, 7))


class TFTutorialDiscriminator(nn.Module):
    """The TensorFlow DCGAN tutorial's ``make_discriminator_model``: ``(N, 1, 28, 28) -> logits (N,)``."""

    def __init__(self) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, 64, 5, 2, 2), nn.LeakyReLU(KERAS_LEAKY), nn.Dropout(0.3),
            nn.Conv2d(64, 128, 5, 2, 2), nn.LeakyReLU(KERAS_LEAKY), nn.Dropout(0.3),
            nn.Flatten(), nn.Linear(128 * 7 * 7, 1),
        )
        self.apply(_keras_init)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).view(-1)


#: Each peer recipe's settings, as its source has them.
PEER_SETTINGS = {
    TORCH_PEER: {"image_size": 64, "latent_dim": 100, "ngf": 64, "ndf": 64, "batch_size": 64, "lr_g": 2e-4,
                 "lr_d": 2e-4, "betas": [0.5, 0.999], "adam_eps": 1e-8, "ema_decay": None},
    TF_PEER: {"image_size": 28, "latent_dim": 100, "batch_size": 256, "lr_g": 1e-4, "lr_d": 1e-4,
              "betas": [0.9, 0.999], "adam_eps": 1e-7, "leaky_slope": KERAS_LEAKY, "dropout": 0.3,
              "batchnorm_momentum_keras": 0.99, "batchnorm_eps": 1e-3, "ema_decay": None},
}


def settings(name: str, seed: int = SEED) -> dict:
    """What recipe ``name`` trains with (plain values, for the JSON)."""
    if name in (BOOK, BOOK_CGAN):
        return book_recipe(name, seed=seed).to_dict()
    return {**PEER_SETTINGS[name], "seed": seed}


def make_trainer(name: str, seed: int = SEED, data=None):
    """A fresh Trainer of recipe ``name`` on the CPU, seeded with ``seed`` (networks, data order, noise)."""
    from gantutor.data import load_domain
    from gantutor.train import Trainer

    domain = data if data is not None else load_domain("mnist", verbose=False)
    if name in (BOOK, BOOK_CGAN):
        return Trainer.from_recipe(book_recipe(name, seed=seed), domain, device="cpu")
    config = PEER_SETTINGS[name]
    torch.manual_seed(seed)
    if name == TORCH_PEER:
        generator, discriminator = TorchExamplesGenerator(config["latent_dim"]), TorchExamplesDiscriminator()
        images = F.interpolate(domain.images, size=config["image_size"], mode="bilinear", align_corners=False)
    else:
        generator, discriminator = TFTutorialGenerator(config["latent_dim"]), TFTutorialDiscriminator()
        images = domain.images
    trainer = Trainer(generator, discriminator, images, loss="non-saturating", batch_size=config["batch_size"],
                      lr_g=config["lr_g"], lr_d=config["lr_d"], betas=tuple(config["betas"]),
                      ema_decay=config["ema_decay"], device="cpu", seed=seed)
    for optimizer in (trainer.opt_g, trainer.opt_d):
        for group in optimizer.param_groups:
            group["eps"] = config["adam_eps"]
    return trainer


# --------------------------------------------------------------------------- speed

def probe(name: str, seconds: float, warmup: int, min_steps: int = 3, data=None) -> tuple[float, float]:
    """Steps per second of recipe ``name`` with one thread, by the wall clock and by the process's CPU time.

    After ``warmup`` steps, it trains one step at a time until ``seconds`` have passed and at
    least ``min_steps`` steps were timed (a peer recipe's step takes seconds).
    """
    torch.set_num_threads(1)
    trainer = make_trainer(name, data=data)
    trainer.fit(warmup, progress=False)
    started, cpu_started, before = time.perf_counter(), time.process_time(), trainer.step_count
    while time.perf_counter() - started < seconds or trainer.step_count - before < min_steps:
        trainer.fit(1, progress=False)
    steps = trainer.step_count - before
    return steps / (time.perf_counter() - started), steps / (time.process_time() - cpu_started)


def probe_all(names: list[str], seconds: float, rounds: int, warmup: int, min_steps: int) -> dict[str, dict]:
    """Each recipe's median steps/s over ``rounds`` rounds that visit every recipe in turn, and every round's rates.

    Interleaving the rounds spreads a passing load on the machine over all recipes instead of
    charging it to the one that happened to run then. The wall-clock rate sets the budgets; the
    CPU-time rate (how fast the process ran while it had the CPU) is recorded beside it.
    """
    from gantutor.data import load_domain

    data = load_domain("mnist", verbose=False)
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):
        for name in names:
            rate, cpu_rate = probe(name, seconds, warmup, min_steps, data)
            wall[name].append(rate)
            cpu[name].append(cpu_rate)
    median = lambda values: sorted(values)[len(values) // 2]  # noqa: E731
    return {name: {"rate": median(wall[name]), "rates": wall[name], "cpu_rate": median(cpu[name]),
                   "cpu_rates": cpu[name]} for name in names}


# --------------------------------------------------------------------------- evaluation

def eval_steps(budget: int, first: int = FIRST_EVAL) -> list[int]:
    """0, then ``first`` x sqrt(2)^k rounded (25, 35, 50, 71, 100, 141, ...) below ``budget``, then ``budget``."""
    steps, k = [0], 0
    while True:
        step = round(first * 2 ** (k / 2))
        if step >= budget:
            break
        if step > steps[-1]:
            steps.append(step)
        k += 1
    return steps + ([budget] if budget > 0 else [])


def load_held_out(num_eval: int = NUM_EVAL) -> None:
    """Once per process: one thread, the held-out real digits, their confident share and features."""
    torch.set_num_threads(1)
    from gantutor.data import load_domain
    from gantutor.metrics import confident_share, features

    images = load_domain("mnist", split="test", verbose=False).images[:num_eval]
    _HELD_OUT.update(n=num_eval, share=confident_share(images, "mnist", threshold=CONFIDENCE),
                     features=features(images))


def generate(trainer, n: int, chunk: int = 250) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``n`` evaluation samples as 28x28 images (EMA G if any; every class equally often), and their labels."""
    z = trainer.eval_noise(n)
    labels = trainer.eval_labels(n) if trainer.num_classes is not None else None
    images = torch.cat([trainer.sample(len(z[i: i + chunk]), z=z[i: i + chunk],
                                       labels=None if labels is None else labels[i: i + chunk])
                        for i in range(0, n, chunk)])
    if images.shape[-1] != 28:
        images = F.interpolate(images, size=28, mode="bilinear", antialias=True, align_corners=False)
    return images, labels


def evaluate(trainer, rate: float) -> dict:
    """One point of a curve: steps, seconds (steps / probed speed), ratio, FD (and label accuracy)."""
    from gantutor.metrics import confident_share, features, frechet_distance, label_accuracy

    images, labels = generate(trainer, _HELD_OUT["n"])
    share = confident_share(images, "mnist", threshold=CONFIDENCE)
    point = {"step": trainer.step_count, "seconds": round(trainer.step_count / rate, 2),
             "ratio": round(share / _HELD_OUT["share"], 4), "share": round(share, 4),
             "fd": round(frechet_distance(features(images), _HELD_OUT["features"]), 2)}
    if labels is not None:
        point["label_accuracy"] = round(label_accuracy(images, labels, "mnist"), 4)
    return point


def train(job: tuple[str, int, int, float, int]) -> dict:
    """Train recipe ``name`` from ``seed`` for ``steps`` steps on one thread, evaluating at :func:`eval_steps`."""
    name, seed, steps, rate, first = job
    torch.set_num_threads(1)
    started = time.perf_counter()
    trainer = make_trainer(name, seed)
    curve = []
    for target in eval_steps(steps, first):
        trainer.fit(target - trainer.step_count, progress=False)
        curve.append(evaluate(trainer, rate))
    measured = trainer.history["time"][-1] if trainer.history["time"] else 0.0
    result = {"recipe": name, "seed": seed, "steps": trainer.step_count, "curve": curve,
              "train_seconds_measured": round(measured, 1), "wall_seconds": round(time.perf_counter() - started, 1)}
    last = curve[-1]
    print(f"{name:26s} seed {seed}: {last['step']:6d} steps  ratio {last['ratio']:.3f}  FD {last['fd']:7.1f}  "
          f"({result['wall_seconds']:.0f} s wall)", flush=True)
    return result


# --------------------------------------------------------------------------- headlines

def crossing(curve: list[dict], goal: float, key: str) -> float | None:
    """The ``key`` (``"step"`` or ``"seconds"``) where the ratio first reaches ``goal``, linear between points."""
    for i, point in enumerate(curve):
        if point["ratio"] >= goal:
            if i == 0:
                return float(point[key])
            before = curve[i - 1]
            fraction = (goal - before["ratio"]) / (point["ratio"] - before["ratio"])
            return before[key] + fraction * (point[key] - before[key])
    return None


def time_to(run: dict) -> dict:
    """Seconds and steps to each goal ratio, or not within the budget: then more than the seconds trained."""
    out = {}
    for goal in GOALS:
        steps, seconds = crossing(run["curve"], goal, "step"), crossing(run["curve"], goal, "seconds")
        out[f"{goal}"] = {"reached": steps is not None,
                          "steps": None if steps is None else round(steps, 1),
                          "seconds": None if seconds is None else round(seconds, 2),
                          "seconds_more_than": None if seconds is not None else run["curve"][-1]["seconds"]}
    return out


def factor(fast: dict, slow: dict, goal: float, claimed: float = CLAIM_FACTOR) -> dict:
    """How many times sooner ``fast`` reaches ``goal`` than ``slow`` (a lower bound if only ``fast`` gets there).

    The verdict on "at least ``claimed`` times sooner": ``"holds"`` (the factor, or its lower
    bound, is at least that), ``"fails"`` (a measured factor below it, or only ``slow`` gets there)
    or ``"undecided"`` (the budget is too short to tell).
    """
    a, b = fast[f"{goal}"], slow[f"{goal}"]
    if not a["reached"]:
        return {"factor": None, "lower_bound": None, "verdict": "fails" if b["reached"] else "undecided",
                "text": "the book's conditional recipe does not reach it within the budget"}
    if b["reached"]:
        value = b["seconds"] / a["seconds"] if a["seconds"] > 0 else None
        return {"factor": None if value is None else round(value, 2), "lower_bound": None,
                "verdict": "holds" if value is None or value >= claimed else "fails",
                "text": "both at step 0" if value is None else f"{value:.1f}x"}
    bound = b["seconds_more_than"] / a["seconds"]
    return {"factor": None, "lower_bound": round(bound, 2), "verdict": "holds" if bound >= claimed else "undecided",
            "text": f"more than {bound:.1f}x (the peer does not get there within the budget)"}


def verdict(verdicts: list[str]) -> str:
    """All hold: ``"holds"``; any fails: ``"fails"``; else ``"undecided"``."""
    if "fails" in verdicts:
        return "fails"
    return "holds" if all(v == "holds" for v in verdicts) else "undecided"


def main(argv: list[str] | None = None) -> None:
    def configure(parser):
        parser.add_argument("--budget", type=float, default=600.0, help="seconds of training with one thread")
        parser.add_argument("--peer-budget", type=float, default=None,
                            help="seconds for the two peer recipes (default: --budget); a longer one can decide "
                                 "a claim of 'N times sooner' that the common budget leaves open")
        parser.add_argument("--probe-seconds", type=float, default=6.0, help="length of one speed probe of one recipe")
        parser.add_argument("--probe-rounds", type=int, default=3, help="rounds of probes; each recipe's median counts")
        parser.add_argument("--extra-seeds", type=int, nargs="*", default=[1, 2],
                            help="more seeds of the book's conditional recipe (its spread)")

    run = BenchmarkRun("peers", __doc__, RESULTS, argv, configure)
    args = run.args
    peer_budget = args.budget if args.peer_budget is None else args.peer_budget
    for flag, value in (("--budget", args.budget), ("--peer-budget", peer_budget)):
        if not value > 0:
            raise SystemExit(f"peers.py: {flag} must be a positive number of seconds, got {value:g}")
    load = {"before_probes": _load()}
    probe_seconds, probe_rounds, warmup, min_steps = ((0.1, 1, 0, 1) if run.quick else
                                                      (args.probe_seconds, args.probe_rounds, 2, 3))
    probes = probe_all(NAMES, probe_seconds, probe_rounds, warmup, min_steps)
    rates = {name: round(probes[name]["rate"], 5) for name in NAMES}  # as stored: the budgets follow from it
    load["after_probes"] = _load()
    train_seconds = {name: peer_budget if name in PEERS else args.budget for name in NAMES}
    budgets = {name: QUICK_STEPS if run.quick else round(rate * train_seconds[name]) for name, rate in rates.items()}
    for name in NAMES:
        print(f"{name:26s} {rates[name]:7.2f} steps/s with 1 thread -> {budgets[name]:6d} steps", flush=True)
    extra = args.extra_seeds[:1] if run.quick else args.extra_seeds
    first = 1 if run.quick else FIRST_EVAL
    jobs = [(name, SEED, budgets[name], rates[name], first) for name in NAMES]
    jobs += [(BOOK_CGAN, seed, budgets[BOOK_CGAN], rates[BOOK_CGAN], first) for seed in extra]
    num_eval = QUICK_EVAL if run.quick else NUM_EVAL
    # the slowest evaluations (64x64 samples) first, so that the two processes finish together
    jobs.sort(key=lambda job: (job[0] != TORCH_PEER, job[0] in (BOOK, BOOK_CGAN), job[1]))
    with multiprocessing.get_context("spawn").Pool(2, initializer=load_held_out, initargs=(num_eval,)) as pool:
        runs = pool.map(train, jobs, chunksize=1)
    load["after_training"] = _load()
    load_held_out(num_eval)
    share_real = _HELD_OUT["share"]
    by_key = {(r["recipe"], r["seed"]): r for r in runs}
    recipes = {}
    for name in NAMES:
        r = by_key[(name, SEED)]
        recipes[name] = {"source": SOURCES[name], "settings": settings(name),
                         "steps_per_s_one_thread": round(rates[name], 5),
                         "probe_steps_per_s": [round(x, 5) for x in probes[name]["rates"]],
                         "steps_per_cpu_s_one_thread": round(probes[name]["cpu_rate"], 5),
                         "probe_steps_per_cpu_s": [round(x, 5) for x in probes[name]["cpu_rates"]],
                         "budget_steps": budgets[name], "time_to": time_to(r),
                         "final": {k: v for k, v in r["curve"][-1].items()},
                         "train_seconds_measured": r["train_seconds_measured"], "wall_seconds": r["wall_seconds"],
                         "curve": r["curve"]}
    cgan = recipes[BOOK_CGAN]["time_to"]
    factors = {peer: {f"{goal}": factor(cgan, recipes[peer]["time_to"], goal) for goal in GOALS}
               for peer in [BOOK, *PEERS]}
    goal = f"{GOALS[-1]}"
    claim = verdict([factors[peer][goal]["verdict"] for peer in PEERS])
    headline = {name: {"steps_per_s": round(rates[name], 2), "budget_steps": budgets[name],
                       **{f"seconds_to_{g}": _shown(recipes[name]["time_to"][f"{g}"]) for g in GOALS},
                       **{f"steps_to_{g}": recipes[name]["time_to"][f"{g}"]["steps"] for g in GOALS},
                       "final_ratio": recipes[name]["final"]["ratio"], "final_fd": recipes[name]["final"]["fd"]}
                for name in NAMES}
    seeds = [{"seed": r["seed"], "steps": r["steps"],
              **{f"seconds_to_{g}": _shown(time_to(r)[f"{g}"]) for g in GOALS},
              "final_ratio": r["curve"][-1]["ratio"], "final_fd": r["curve"][-1]["fd"],
              "final_label_accuracy": r["curve"][-1]["label_accuracy"], "curve": r["curve"]}
             for r in sorted((r for r in runs if r["recipe"] == BOOK_CGAN), key=lambda r: r["seed"])]
    for name, row in headline.items():
        print(f"{name:26s} " + "  ".join(f"{k} {v}" for k, v in row.items()))
    for peer, f in factors.items():
        print(f"{BOOK_CGAN} reaches {goal} sooner than {peer}: {f[goal]['text']}")
    run.finish({"budget_seconds": args.budget, "peer_budget_seconds": peer_budget, "threads": 1, "processes": 2,
                "load_average_1min": load,
                "probe_seconds": probe_seconds, "probe_rounds": probe_rounds, "probe_warmup_steps": warmup,
                "probe_min_steps": min_steps, "seed": SEED, "num_eval": num_eval,
                "confidence": CONFIDENCE, "share_real": round(share_real, 4), "goals": list(GOALS),
                "claim": f"{BOOK_CGAN} reaches ratio {goal} at least {CLAIM_FACTOR:g}x sooner than either peer recipe",
                "claim_verdict": claim, "headline": headline, "factors_cgan_sooner": factors,
                "recipes": recipes, "cgan_seeds": seeds})


def _load() -> float | None:
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def _shown(entry: dict) -> float | str:
    return entry["seconds"] if entry["reached"] else f"> {entry['seconds_more_than']:g} (not within the budget)"


if __name__ == "__main__":
    main()
