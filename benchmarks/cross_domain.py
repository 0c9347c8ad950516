"""Measure cross-domain generation: coupled GANs, DTN and CycleGAN, over seeds.

    python benchmarks/cross_domain.py              # the measurement (about an hour on 2 CPU cores, --workers 2)
    python benchmarks/cross_domain.py --quick      # seconds: exercises every code path (CI)
    python benchmarks/cross_domain.py --resume     # continue an interrupted run (finished runs are kept)

The protocol (chapter 8 explains each number):

- **coupled GANs** (:mod:`gantutor.coupled`) on MNIST + outlines and MNIST + negatives, trained
  on disjoint halves of the digits, with 0 to 3 shared generator layers (the discriminators
  share their last 2), and with 3 shared layers also with z from chapter 5's mixture of 50
  islands (:data:`gantutor.coupled.MIXTURE`, arm ``variant: mixture``); then, all with chapter 5's
  R1 penalty (gamma 1) as the shipped models train: z ~ N(0, I) with 3 shared layers (``variant:
  r1``), InfoGAN's categorical code (:data:`gantutor.coupled.CODE`, 50 values) and its information
  term, read by one code head on the discriminators' shared back, with 3 and with 0 shared layers
  (``variant: code``), and the same z without the information term (``variant: code_no_info``,
  3 shared layers): on 1,000 pairs
  ``(G(z, 0), G(z, 1))``, the label agreement of the feature network and the foreground IoU,
  each next to the same figure for shuffled pairs, and the share of the MNIST images the feature
  network is sure of (p >= 0.9);
- **DTN** (:class:`gantutor.translation.DTN`) from scikit-learn's digits to MNIST, with f
  self-trained on the unlabelled MNIST images (:func:`gantutor.translation.self_train`), and its
  ablations: f trained on the source alone; f trained adversarially on the source (PGD,
  :func:`gantutor.translation.perturb`) and its control with the same steps and no attack;
  without f-constancy; without the identity loss; with g built from a shipped MNIST generator
  (conditional ``cgan-mnist`` and unconditional ``dcgan-mnist``, frozen, behind a learned map:
  :class:`gantutor.translation.GeneratorDecoder`): the share of the 360 held-out
  source digits whose translation the feature network reads as the input's digit *drawn as an
  MNIST digit* (``accuracy``), the digit alone (``label_accuracy``), and MNIST-ness alone;
- **CycleGAN** (:class:`gantutor.translation.CycleGAN`) on the same task: the same label figures
  and the cycle error ``|F(G(x)) - x|`` on the held-out digits;
- baselines: chance (0.1), the untranslated digits (source only), real pairs.

Every run seeds its networks, data order and noise. Writes benchmarks/results/cross_domain.json
(or --out); every finished run is also appended to ``<out>.runs.jsonl`` for ``--resume``.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "results"
# Each DTN variant: its loss weights ("loss", DTN's keywords) and how its f is trained ("f"): f is
# self-trained on the unlabelled target unless "rounds" is 0; "robust_f" is trained adversarially on
# the source for twice the steps, "long_f" is its control (the same steps, no attack). "decoder" names
# the shipped generator g is built from (frozen; only its input map learns); "labels": "f" gives that
# generator f's own class (f.head) instead of a class the map learns.
DTN_VARIANTS = {"full": {}, "source_f": {"f": {"rounds": 0}}, "long_f": {"f": {"rounds": 0, "steps_factor": 2}},
                "robust_f": {"f": {"rounds": 0, "steps_factor": 2, "robust": 0.1}},
                "no_constancy": {"loss": {"alpha": 0.0}}, "no_identity": {"loss": {"beta": 0.0}},
                "trained_g": {"decoder": "cgan-mnist"}, "trained_g_uncond": {"decoder": "dcgan-mnist"},
                "f_labels": {"decoder": "cgan-mnist", "labels": "f"},
                "f_labels_no_constancy": {"decoder": "cgan-mnist", "labels": "f", "loss": {"alpha": 0.0}},
                "f_labels_no_identity": {"decoder": "cgan-mnist", "labels": "f", "loss": {"beta": 0.0}}}


# The coupled GANs' variants beside the plain one (z ~ N(0, I), no R1): their prior (a name in
# gantutor.coupled), R1's gamma and the weight of InfoGAN's information term.
COGAN_VARIANTS = {"mixture": {"prior": "MIXTURE"}, "r1": {"r1_gamma": 1.0},
                  "code": {"prior": "CODE", "r1_gamma": 1.0, "info_weight": 1.0},
                  "code_no_info": {"prior": "CODE", "r1_gamma": 1.0}}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--methods", nargs="+", default=["cogan", "dtn", "cyclegan"], choices=["cogan", "dtn", "cyclegan"])
    parser.add_argument("--pairs", nargs="+", default=["mnist-edges", "mnist-negative"])
    parser.add_argument("--shared", nargs="+", type=int, default=[0, 1, 2, 3], help="shared G layers (CoGAN)")
    parser.add_argument("--cogan-steps", type=int, default=2000)
    parser.add_argument("--mixture-shared", nargs="*", type=int, default=[3],
                        help="shared G layers also trained with z from the mixture prior (CoGAN)")
    parser.add_argument("--r1-shared", nargs="*", type=int, default=[3],
                        help="shared G layers also trained with R1 (gamma 1), z ~ N(0, I) (CoGAN)")
    parser.add_argument("--code-shared", nargs="*", type=int, default=[3, 0],
                        help="shared G layers also trained with R1, InfoGAN's code and its information term (CoGAN)")
    parser.add_argument("--code-no-info-shared", nargs="*", type=int, default=[3],
                        help="shared G layers also trained with R1 and the code in z but no information term (CoGAN)")
    parser.add_argument("--dtn-variants", nargs="+", default=list(DTN_VARIANTS), choices=list(DTN_VARIANTS))
    parser.add_argument("--dtn-steps", type=int, default=1000)
    parser.add_argument("--cycle-steps", type=int, default=1500)
    parser.add_argument("--classifier-steps", type=int, default=1200, help="training steps of DTN's f (per round)")
    parser.add_argument("--self-train-rounds", type=int, default=3,
                        help="rounds of self-training of f on the unlabelled target (every variant but source_f)")
    parser.add_argument("--pairs-n", type=int, default=1000, help="pairs a coupled GAN is measured on")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--workers", type=int, default=1, help="runs in parallel, one CPU thread each")
    parser.add_argument("--resume", action="store_true", help="keep the finished runs of <out>.runs.jsonl")


def parse(bench) -> argparse.Namespace:
    args = bench.args
    if args.quick:
        args.pairs, args.shared, args.seeds, args.pairs_n = ["mnist-negative"], [0, 3], [0], 200
        args.mixture_shared, args.r1_shared, args.code_shared, args.code_no_info_shared = [3], [3], [3], [3]
        args.cogan_steps, args.dtn_steps, args.cycle_steps, args.classifier_steps = 20, 10, 5, 20
        args.self_train_rounds = 1
    if min(args.cogan_steps, args.dtn_steps, args.cycle_steps, args.workers, args.classifier_steps) < 1:
        bench.parser.error("steps and workers must be positive")
    if args.self_train_rounds < 0:
        bench.parser.error("--self-train-rounds must be 0 or more")
    if any(not 0 <= s <= 3 for s in args.shared + args.mixture_shared + args.r1_shared + args.code_shared
           + args.code_no_info_shared):
        bench.parser.error("--shared takes layer counts from 0 to 3")
    return args


def jobs(args: argparse.Namespace) -> list[dict]:
    out = []
    for seed in args.seeds:
        if "cogan" in args.methods:
            out += [{"method": "cogan", "pair": pair, "shared_g": s, "seed": seed, "steps": args.cogan_steps,
                     "n": args.pairs_n} for pair in args.pairs for s in args.shared]
            for variant in COGAN_VARIANTS:
                out += [{"method": "cogan", "pair": pair, "shared_g": s, "variant": variant, "seed": seed,
                         "steps": args.cogan_steps, "n": args.pairs_n}
                        for pair in args.pairs for s in getattr(args, f"{variant}_shared")]
        if "dtn" in args.methods:
            for v in args.dtn_variants:
                recipe = DTN_VARIANTS[v].get("f", {})
                job = {"method": "dtn", "variant": v, "seed": seed, "steps": args.dtn_steps,
                       "classifier_steps": args.classifier_steps * recipe.get("steps_factor", 1),
                       "self_train_rounds": recipe.get("rounds", args.self_train_rounds)}
                if recipe.get("robust"):
                    job["robust"] = recipe["robust"]
                out.append(job)
        if "cyclegan" in args.methods:
            out.append({"method": "cyclegan", "seed": seed, "steps": args.cycle_steps})
    return out


def key(job: dict) -> tuple:
    return tuple(job.get(k) for k in ("method", "pair", "shared_g", "variant", "seed", "steps", "self_train_rounds",
                                      "classifier_steps", "robust"))


def run_one(job: dict, threads: int | None = None) -> dict:
    from gantutor import coupled, pretrained, translation
    from gantutor.data import load_domain

    if threads is not None:
        torch.set_num_threads(threads)
    started = time.perf_counter()
    record = dict(job)
    if job["method"] == "cogan":
        from gantutor.metrics import confident_share

        variant = COGAN_VARIANTS.get(job.get("variant"), {})
        trainer = coupled.coupled_trainer(job["pair"], shared_g=job["shared_g"], seed=job["seed"], device="cpu",
                                          prior=getattr(coupled, variant.get("prior", ""), None),
                                          r1_gamma=variant.get("r1_gamma", 0.0), info_weight=variant.get("info_weight", 0.0))
        trainer.fit(job["steps"], progress=False)
        first, second = coupled.pairs(trainer.ema_generator, job["n"], seed=1)
        record.update(coupled.correspondence(first, second, job["pair"]))
        record["sure_first"] = confident_share(first, "mnist")
    else:
        source = load_domain("digits", verbose=False)
        test = load_domain("digits", split="test", verbose=False)
        target = load_domain("mnist", verbose=False)
        if job["method"] == "dtn":
            f = translation.self_train(source, target, rounds=job["self_train_rounds"], steps=job["classifier_steps"],
                                       seed=job["seed"], robust=job.get("robust", 0.0))
            mnist = load_domain("mnist", split="test", verbose=False)
            record["f_accuracy"] = {"source": float((f(test.images).argmax(1) == test.labels).float().mean()),
                                    "mnist": float((f(mnist.images).argmax(1) == mnist.labels).float().mean())}
            variant = DTN_VARIANTS[job["variant"]]
            decoder = pretrained.load(variant["decoder"]).generator if "decoder" in variant else None
            model = translation.DTN(f, source, target, seed=job["seed"], decoder=decoder,
                                    labels=variant.get("labels", "map"), **variant.get("loss", {}))
        else:
            model = translation.CycleGAN(source, target, seed=job["seed"])
        model.fit(job["steps"])
        record.update(translation.label_preservation(model.translate(test.images), test.labels))
        if job["method"] == "cyclegan":
            record["cycle_error"] = model.cycle_error(test.images)
    record["seconds"] = round(time.perf_counter() - started, 1)
    return record


def mean_std(values: list[float]) -> list[float]:
    return [round(statistics.fmean(values), 4), round(statistics.pstdev(values), 4) if len(values) > 1 else 0.0]


def baselines(args: argparse.Namespace) -> dict:
    from gantutor import coupled, translation
    from gantutor.data import load_domain

    test = load_domain("digits", split="test", verbose=False)
    mnist = load_domain("mnist", split="test", verbose=False)
    return {"chance": 0.1,
            "source_only": translation.label_preservation(test.images, test.labels),
            "real_mnist": translation.label_preservation(mnist.images, mnist.labels),
            "real_pairs": {pair: coupled.correspondence(mnist.images, coupled.render(mnist.images, pair), pair)
                           for pair in args.pairs}}


def summarise(records: list[dict]) -> tuple[list[dict], list[str]]:
    groups: dict[tuple, list[dict]] = {}
    for r in records:
        groups.setdefault(tuple(r.get(k) for k in ("method", "pair", "shared_g", "variant")), []).append(r)
    arms = []
    for (method, pair, shared, variant), runs in groups.items():
        arm = {"method": method, "seeds": [r["seed"] for r in runs], "steps": runs[0]["steps"]}
        if method == "cogan":
            arm.update(pair=pair, shared_g=shared, **({"variant": variant} if variant is not None else {}))
            fields = ("label_agreement", "shuffled_label_agreement", "iou", "shuffled_iou")
            fields += tuple(f for f in ("rendered_label_agreement", "sure_first") if all(f in r for r in runs))
        else:
            fields = ("accuracy", "label_accuracy", "in_domain") + (("cycle_error",) if method == "cyclegan" else ())
            if variant is not None:
                arm["variant"] = variant
        for name in fields:
            arm[name] = mean_std([r[name] for r in runs])
            arm[f"{name}_per_seed"] = [round(r[name], 4) for r in runs]
        if method == "dtn":
            arm["self_train_rounds"] = runs[0]["self_train_rounds"]
            arm["classifier_steps"], arm["robust"] = runs[0]["classifier_steps"], runs[0].get("robust", 0.0)
            arm["f_reads_mnist"] = mean_std([r["f_accuracy"]["mnist"] for r in runs])
        arms.append(arm)
    headlines = []
    for arm in arms:
        if arm["method"] == "cogan":
            prior = {"mixture": " (mixture prior)", "r1": " (R1)", "code": " (R1, InfoGAN code)",
                     "code_no_info": " (R1, code in z, no information term)"}.get(arm.get("variant"), "")
            headlines.append(f"CoGAN {arm['pair']} with {arm['shared_g']} shared G layers{prior}: label agreement "
                             f"{arm['label_agreement'][0]:.3f} ± {arm['label_agreement'][1]:.3f} (shuffled "
                             f"{arm['shuffled_label_agreement'][0]:.3f}), IoU {arm['iou'][0]:.3f} (shuffled "
                             f"{arm['shuffled_iou'][0]:.3f})")
        else:
            name = "DTN " + arm["variant"] if arm["method"] == "dtn" else "CycleGAN"
            extra = f", cycle error {arm['cycle_error'][0]:.3f}" if "cycle_error" in arm else ""
            headlines.append(f"{name}: read as the input's digit drawn as MNIST {arm['accuracy'][0]:.3f} ± "
                             f"{arm['accuracy'][1]:.3f} (per seed {arm['accuracy_per_seed']}), digit alone "
                             f"{arm['label_accuracy'][0]:.3f}{extra}"
                             + (f", f reads MNIST {arm['f_reads_mnist'][0]:.3f}" if "f_reads_mnist" in arm else ""))
    return arms, headlines


def main(argv=None) -> int:
    from gantutor.device import describe_machine
    from gantutor.results import BenchmarkRun

    bench = BenchmarkRun("cross_domain", __doc__, RESULTS, argv, configure)
    args = parse(bench)
    def show(record: dict) -> str:
        shown = {k: round(v, 3) for k, v in record.items() if isinstance(v, float) and k != "seconds"}
        return (f"{record['method']} {record.get('pair') or record.get('variant') or ''} "
                f"{'' if record.get('shared_g') is None else record['shared_g']} seed {record['seed']}: {shown} "
                f"({record['seconds']:.0f} s)")

    records = bench.run_jobs(jobs(args), key, run_one, args.workers, args.resume, show)
    arms, headlines = summarise(records)
    settings = {name: getattr(args, name) for name in ("methods", "pairs", "shared", "mixture_shared", "r1_shared", "code_shared",
                                                       "code_no_info_shared", "cogan_steps",
                                                       "dtn_variants",
                                                       "dtn_steps", "cycle_steps", "classifier_steps",
                                                       "self_train_rounds", "pairs_n",
                                                       "seeds")}
    results = bench.finish({"device": describe_machine(torch.device("cpu")), "settings": settings,
                            "baselines": baselines(args), "run_seconds": round(sum(r["seconds"] for r in records), 1),
                            "arms": arms, "headlines": headlines})
    for line in results["headlines"]:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
