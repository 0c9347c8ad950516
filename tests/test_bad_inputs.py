"""Bad and hostile inputs, as a new user makes them: each is refused with a message that names the
problem (and the fix), nothing is trained on silently, and no work is lost (issue #17).

Sections: data, networks, Trainer, checkpoints, resume, pretrained, metrics, transfer, storage,
the command line (in-process through ``main``), and SIGINT / SIGTERM on a real training process.
"""
from __future__ import annotations

import json
import os
import re
import signal
import struct
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from gantutor.checks import check_images
from gantutor.cli import main
from gantutor.data import load_domain
from gantutor.latent import MixturePrior
from gantutor.metrics import features, precision_recall
from gantutor.nets import Discriminator, FeatureNet, Generator, MLPDiscriminator, MLPGenerator
from gantutor.pretrained import AssetError, verify
from gantutor.pretrained.cli import main as pretrained_main
from gantutor.storage import _HOST, atomic_write_text, remove_stale_temporaries
from gantutor.train import CheckpointError, Trainer, load_checkpoint
from gantutor.train.checkpoints import save_checkpoint
from gantutor.transfer import adapt, diffaugment

ROOT = Path(__file__).resolve().parents[1]


def env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "GANTUTOR_DEVICE": "cpu", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "GANTUTOR_DOWNLOAD": "0"}


def images(n: int = 16, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def tiny_nets(**kwargs):
    torch.manual_seed(0)
    return Generator(latent_dim=8, base_width=4, **kwargs), Discriminator(base_width=4, **kwargs)


def tiny_trainer(data=None, **kwargs) -> Trainer:
    g, d = tiny_nets()
    return Trainer(g, d, images() if data is None else data, batch_size=4, device="cpu", **kwargs)


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[Path, torch.Tensor]:
    """A 2-step checkpoint of a tiny augmented trainer on 16 images, and those images."""
    data = images()
    trainer = tiny_trainer(data, augment=diffaugment)
    trainer.fit(2, progress=False)
    return trainer.save(tmp_path_factory.mktemp("saved") / "checkpoint.pt"), data


# --------------------------------------------------------------------------- data

def write_idx(raw: Path, prefix: str, n: int) -> None:
    pixels = np.zeros((n, 28, 28), dtype=np.uint8)
    (raw / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, n, 28, 28) + pixels.tobytes())
    (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n) + (np.arange(n) % 10).astype(np.uint8).tobytes())


@pytest.mark.parametrize("folder, domain", [("MNIST", "mnist"), ("FashionMNIST", "fashion-mnist")])
def test_truncated_torchvision_files_are_named_not_silently_replaced(folder, domain, tmp_path, monkeypatch):
    raw = tmp_path / folder / "raw"
    raw.mkdir(parents=True)
    for prefix, n in (("train", 12), ("t10k", 6)):
        write_idx(raw, prefix, n)
    whole = (raw / "train-images-idx3-ubyte").read_bytes()
    (raw / "train-images-idx3-ubyte").write_bytes(whole[: len(whole) // 2])  # a download that stopped
    monkeypatch.setenv("GANTUTOR_DATA", str(tmp_path))
    with pytest.raises(ValueError, match=r"are there but cannot be read .*truncated or corrupted.*delete"):
        load_domain(domain, verbose=False)


def test_a_fractional_limit_is_refused():
    with pytest.raises(ValueError, match="limit must be a positive int"):
        load_domain("digits", limit=2.5, verbose=False)


# --------------------------------------------------------------------------- networks

@pytest.mark.parametrize("build, message", [
    (lambda: Generator(latent_dim=0), "Generator needs latent_dim >= 1"),
    (lambda: Generator(channels=0), "Generator needs channels >= 1"),
    (lambda: Generator(latent_dim=64.0), r"latent_dim >= 1 \(a whole number\), got 64.0"),
    (lambda: Generator(base_width=-8), "base_width >= 1"),
    (lambda: Generator(num_classes=0), r"num_classes >= 1 \(a whole number or None\)"),
    (lambda: Generator(image_size=28.0), "image_size must be a whole number of pixels"),
    (lambda: Discriminator(channels=0), "Discriminator needs channels >= 1"),
    (lambda: Discriminator(batchnorm="yes"), "batchnorm True or False"),
    (lambda: MLPGenerator(latent_dim=0), "MLPGenerator needs latent_dim >= 1"),
    (lambda: MLPDiscriminator(hidden=2.5), "hidden >= 1 \\(whole numbers\\)"),
    (lambda: FeatureNet(["mnist:0"], width=0), "FeatureNet needs width >= 1"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_networks_refuse_bad_constructor_arguments(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize("call, error, message", [
    (lambda g, d: g(torch.randn(2, 8, dtype=torch.float64)), ValueError, r"float32 weights but got z of dtype torch.float64.*\.float\(\)"),
    (lambda g, d: g(torch.zeros(2, 8, dtype=torch.int64)), ValueError, "z of dtype torch.float32, got torch.int64"),
    (lambda g, d: g([[0.0] * 8]), TypeError, "expects z as a torch.Tensor"),
    (lambda g, d: d(torch.zeros(2, 1, 28, 28, dtype=torch.uint8)), ValueError, r"torch.uint8.*x / 127.5 - 1"),
    (lambda g, d: d(torch.zeros(2, 1, 28, 28, dtype=torch.float64)), ValueError, "images of dtype torch.float64"),
    (lambda g, d: MLPDiscriminator()(torch.zeros(3, 2, dtype=torch.float64)), ValueError, "x of dtype torch.float64"),
], ids=["G-float64", "G-int64", "G-list", "D-uint8", "D-float64", "MLP-float64"])
def test_networks_refuse_inputs_of_the_wrong_dtype_clearly(call, error, message):
    g, d = tiny_nets()
    with pytest.raises(error, match=message):
        call(g, d)


# --------------------------------------------------------------------------- Trainer

@pytest.mark.parametrize("make, message", [
    (lambda x: (x + 1) * 127.5, r"the training data have values in \[.*, 255\].*x / 127.5 - 1"),
    (lambda x: x.index_fill(0, torch.tensor([3]), float("nan")), r"contain 784 NaN or infinite value\(s\) \(the first in image 3\)"),
    (lambda x: x.index_fill(0, torch.tensor([0]), float("inf")), "NaN or infinite"),
    (lambda x: ((x + 1) * 127.5).to(torch.uint8), r"floating point.*127.5"),
    (lambda x: x[:, 0], r"samples have shape \(28, 28\) but the generator makes \(1, 28, 28\)"),
], ids=["0-255", "nan", "inf", "uint8", "no-channel-axis"])
def test_the_trainer_refuses_bad_image_data(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        tiny_trainer(make(images()))


def test_check_images_names_the_problem():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\), got shape \(28, 28\)"):
        check_images(torch.zeros(28, 28))
    with pytest.raises(ValueError, match=r"x\[:, None\]"):
        check_images(torch.zeros(4, 28, 28))
    with pytest.raises(ValueError, match="must hold at least 2 images"):
        check_images(torch.zeros(1, 1, 28, 28), min_count=2)
    assert check_images(torch.zeros(2, 1, 28, 28)).shape == (2, 1, 28, 28)


# --------------------------------------------------------------------------- checkpoints

def damaged(tmp_path: Path, good: Path, how: str) -> Path:
    path = tmp_path / f"{how}.pt"
    raw = good.read_bytes()
    if how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif how == "flipped":  # one byte in the middle of a tensor
        flipped = bytearray(raw)
        flipped[len(raw) // 2] ^= 0xFF
        path.write_bytes(bytes(flipped))
    elif how == "text":
        path.write_bytes(b"not a checkpoint")
    else:
        state = torch.load(good, weights_only=True)
        if how == "tampered":  # re-saved (the zip's CRCs are right again) with an optimiser tensor off by 1000
            state["opt_d"]["state"][0]["exp_avg"] += 1000.0
            torch.save(state, path)
        elif how == "no-sha256":
            state.pop("sha256")
            torch.save(state, path)
        elif how == "missing-key":
            del state["history"]
            save_checkpoint(state, path)  # a right sha256 of the incomplete contents
        elif how == "older":
            torch.save({"format": "gantutor.trainer/1"}, path)
        elif how == "newer":
            torch.save({"format": "gantutor.trainer/9"}, path)
        elif how == "foreign":
            torch.save({"format": "something else"}, path)
        elif how == "state-dict":
            torch.save(Generator(base_width=4).state_dict(), path)
        elif how == "asset":
            torch.save({"format": "gantutor.pretrained/1", "name": "dcgan-mnist"}, path)
    return path


@pytest.mark.parametrize("how, message", [
    ("empty", r"is empty \(0 bytes\).*delete it and train again"),
    ("truncated", "not a complete PyTorch .zip. file, so it is truncated"),
    ("flipped", "is corrupted: its part .* fails the zip CRC check"),
    ("tampered", "is corrupted: its contents do not match the sha256"),
    ("no-sha256", "has no sha256 of its contents"),
    ("missing-key", "is incomplete or altered: missing history"),
    ("text", "not a complete PyTorch"),
    ("older", r"an older gantutor \(gantutor.trainer/1"),
    ("newer", r"a newer gantutor .*upgrade"),
    ("foreign", "not a gantutor trainer checkpoint"),
    ("state-dict", r"only a network's weights \(a state_dict\).*load_state_dict"),
    ("asset", "shipped pretrained asset.*gantutor.pretrained.load"),
])
def test_every_unreadable_checkpoint_is_one_clear_error_naming_the_file(how, message, saved, tmp_path):
    path = damaged(tmp_path, saved[0], how)
    with pytest.raises(CheckpointError, match=message) as info:
        Trainer.resume(path, data=saved[1], augment=diffaugment, device="cpu")
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_a_missing_checkpoint_or_a_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint at .*missing.pt") as info:
        load_checkpoint(tmp_path / "missing.pt")
    assert isinstance(info.value, ValueError)
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "checkpoint.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"is a folder, not a checkpoint file: pass .*run/checkpoint.pt"):
        load_checkpoint(tmp_path / "run")


def test_a_malicious_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    torch.save({"format": "gantutor.trainer/3", "x": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match="weights-only loading refuses.*does not load it"):
        load_checkpoint(tmp_path / "evil.pt")
    assert not marker.exists()


def test_a_format_2_checkpoint_still_resumes(saved, tmp_path):
    state = torch.load(saved[0], weights_only=True)
    old = {k: v for k, v in state.items() if k not in ("sha256", "run")}
    old["format"] = "gantutor.trainer/2"
    torch.save(old, tmp_path / "old.pt")
    assert Trainer.resume(tmp_path / "old.pt", data=saved[1], device="cpu").step_count == 2


# --------------------------------------------------------------------------- resume: the same run, or a clear error

@pytest.mark.parametrize("change, message", [
    (dict(augment=None), r"trained with augment=gantutor.transfer.diffaugment but is resumed with augment=None: pass augment=diffaugment"),
    (dict(augment=lambda x: x), r"resumed with augment=.*<lambda>"),
    (dict(data=images(8)), "trained on 16 samples but the data passed has 8 samples"),
    (dict(latent=MixturePrior(8, 3)), "trained with the latent prior .*StandardNormal.* but is resumed with .*MixturePrior"),
    (dict(generator=Generator(latent_dim=8, base_width=4, num_classes=10)),
     "holds a GAN that is unconditional but the generator passed is conditioned on 10 classes"),
], ids=["no-augment", "other-augment", "fewer-images", "other-prior", "conditional"])
def test_resume_refuses_a_different_run(change, message, saved):
    kwargs = dict(data=saved[1], augment=diffaugment, device="cpu")
    kwargs.update(change)
    with pytest.raises(ValueError, match=message):
        Trainer.resume(saved[0], **kwargs)


def test_resume_refuses_other_registry_data(tmp_path):
    digits = load_domain("digits", limit=16, verbose=False)
    trainer = tiny_trainer(digits)
    path = trainer.save(tmp_path / "digits.pt")
    with pytest.raises(ValueError, match=r"trained on 'digits' \[train\] \(16 images\) but the data passed is "
                                         r"'digits' \[train\] \(12 images\)"):
        Trainer.resume(path, data=load_domain("digits", limit=12, verbose=False), device="cpu")
    assert Trainer.resume(path, device="cpu").step_count == 0  # reloaded from the registry: the same data


# --------------------------------------------------------------------------- pretrained

def test_verify_refuses_what_it_cannot_vouch_for(tmp_path, capsys):
    with pytest.raises(AssetError, match="no folder .* to verify"):
        verify(root=tmp_path / "nowhere")
    with pytest.raises(AssetError, match="no manifest .*manifest.json"):
        verify(root=tmp_path)
    (tmp_path / "manifest.json").write_text('{"format": "gantutor.pretrained/1", "assets": {}}')
    with pytest.raises(AssetError, match="lists no assets"):
        verify(root=tmp_path)
    (tmp_path / "manifest.json").write_text('{"assets": {"feature-net": {"file": "x.pt"}}}')
    with pytest.raises(AssetError, match="entries without file, sha256 and size: feature-net"):
        verify(root=tmp_path)
    (tmp_path / "manifest.json").write_text('{"assets": {')
    with pytest.raises(AssetError, match=r"not valid JSON \(.* at line 1, column"):
        verify(root=tmp_path)
    assert pretrained_main(["verify", "--root", str(tmp_path)]) == 1
    assert pretrained_main(["verify", "--root", str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err
    assert "not valid JSON" in err and "no folder" in err and "Traceback" not in err


# --------------------------------------------------------------------------- metrics

@pytest.mark.parametrize("call, message", [
    (lambda: features(images(4).index_fill(0, torch.tensor([1]), float("nan"))), "NaN or infinite value.*image 1"),
    (lambda: features(torch.zeros(4, 1, 28, 28, dtype=torch.uint8)), "torch.uint8, not floating point"),
    (lambda: features(images(4) * 127.5 + 127.5), r"must be in \[-1, 1\].*x / 127.5 - 1"),
    (lambda: precision_recall(torch.randn(10, 2), torch.full((10, 2), float("nan"))), "fake contains 20 NaN"),
    (lambda: precision_recall(images(4).index_fill(0, torch.tensor([0]), float("nan")), images(4)),
     "the real images contain .* NaN"),
], ids=["features-nan", "features-uint8", "features-0-255", "pr-points-nan", "pr-images-nan"])
def test_metrics_refuse_nan_and_out_of_range_images(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --------------------------------------------------------------------------- transfer

@pytest.mark.parametrize("kwargs, message", [
    (dict(target=torch.zeros(4, 1, 32, 32)), r"^the target has images of shape \(1, 32, 32\) but the source"),
    (dict(target=torch.zeros(4, 3, 28, 28)), r"^the target has images of shape \(3, 28, 28\)"),
    (dict(target=images(8) * 127.5 + 127.5), r"the target images have values in .*x / 127.5 - 1"),
    (dict(target=images(8), held_out=images(1)), r"held_out must hold at least 2 images \(FD and KID"),
    (dict(target=images(8), held_out=images(4).index_fill(0, torch.tensor([2]), float("nan"))), "held_out contain .*NaN"),
], ids=["32x32", "3-channel", "0-255", "one-held-out", "nan-held-out"])
def test_adapt_names_what_is_wrong_with_the_target(kwargs, message):
    g, d = tiny_nets()
    with pytest.raises(ValueError, match=message) as info:
        adapt(g, d, strategy="finetune", steps=1, device="cpu", **kwargs)
    assert "None has images" not in str(info.value) and "feats_a" not in str(info.value)


def test_adapt_names_a_domain_by_its_name():
    g, _ = tiny_nets()
    from gantutor.transfer import check_compatible

    g32 = Generator(latent_dim=8, base_width=4, image_size=32)
    with pytest.raises(ValueError, match="^the target domain 'digits' has images of shape \\(1, 28, 28\\)"):
        check_compatible(g32, load_domain("digits", limit=4, verbose=False))


# --------------------------------------------------------------------------- storage

@pytest.mark.skipif(sys.platform == "win32", reason="no fcntl: locked() locks nothing on Windows")
def test_a_locked_file_keeps_other_processes_out_until_the_block_ends(tmp_path):
    from gantutor.storage import locked

    lock = tmp_path / "sub" / "timings.lock"
    probe = ("import fcntl, sys\nwith open(sys.argv[1], 'a') as f:\n    try:\n"
             "        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n    except BlockingIOError:\n        sys.exit(3)")
    with locked(lock):
        assert lock.exists()
        assert subprocess.run([sys.executable, "-c", probe, str(lock)], timeout=60).returncode == 3, "another process got in"
    assert subprocess.run([sys.executable, "-c", probe, str(lock)], timeout=60).returncode == 0, "the lock was not released"


def test_stale_temporaries_of_dead_processes_are_removed_and_no_others(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".checkpoint.pt.{dead.pid}@{_HOST}.abcd1234.tmp"
    live = tmp_path / f".checkpoint.pt.{os.getppid()}@{_HOST}.abcd1235.tmp"  # our parent runs
    elsewhere = tmp_path / f".checkpoint.pt.{dead.pid}@another-machine.abcd1236.tmp"
    sample = tmp_path / f".step_000007.png.{dead.pid}@{_HOST}.abcd1237.tmp"
    mine = tmp_path / ".notes.tmp"
    for path in (stale, live, elsewhere, sample, mine):
        path.write_bytes(b"half")
    atomic_write_text(tmp_path / "checkpoint.pt", "new")  # a write of checkpoint.pt sweeps its own stale ones
    assert not stale.exists() and live.exists() and elsewhere.exists() and sample.exists() and mine.exists()
    assert remove_stale_temporaries(tmp_path, "step_*.png") == [sample]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, elsewhere.name, mine.name, "checkpoint.pt"])


# --------------------------------------------------------------------------- the command line

def cli(*argv: str) -> list[str]:
    return ["--log-every", "1000", "--device", "cpu", *argv]


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "ring"
    assert main(cli("--domain", "ring", "--dry-run", "--out", str(out))) == 0
    return out


def test_a_second_run_into_the_same_out_is_refused_without_resume_or_overwrite(toy_run, capsys):
    before = (toy_run / "checkpoint.pt").read_bytes()
    with pytest.raises(SystemExit) as info:
        main(cli("--domain", "ring", "--dry-run", "--steps", "1", "--out", str(toy_run)))
    assert info.value.code == 2
    assert "holds an earlier run (checkpoint.pt, history.json): add --resume to continue it, --overwrite" in \
        capsys.readouterr().err
    assert (toy_run / "checkpoint.pt").read_bytes() == before, "the earlier run must be untouched"
    with pytest.raises(SystemExit):
        main(cli("--domain", "ring", "--dry-run", "--out", str(toy_run), "--resume", "--overwrite"))
    assert "give one of them" in capsys.readouterr().err


def test_overwrite_replaces_the_earlier_run(tmp_path):
    out = tmp_path / "run"
    assert main(cli("--domain", "ring", "--dry-run", "--steps", "3", "--out", str(out))) == 0
    assert main(cli("--domain", "ring", "--dry-run", "--steps", "1", "--out", str(out), "--overwrite")) == 0
    assert load_checkpoint(out / "checkpoint.pt")["step"] == 1
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["step_000000.png", "step_000001.png"]


@pytest.mark.parametrize("where, message", [
    ("file", "is a file, not a folder"),
    ("file/inside", r"cannot write to --out .*file/inside \(Not a directory\)"),
])
def test_a_bad_out_is_refused_before_the_data_is_loaded(where, message, tmp_path, capsys):
    (tmp_path / "file").write_text("mine")
    with pytest.raises(SystemExit) as info:
        main(cli("--domain", "mnist", "--dry-run", "--out", str(tmp_path / where)))
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert re.search(message, captured.err), captured.err
    assert "gantutor.data:" not in captured.out, "the data was loaded before --out was checked"
    assert (tmp_path / "file").read_text() == "mine"


def test_resume_flags_that_contradict_the_checkpoint_are_refused(toy_run, capsys):
    with pytest.raises(SystemExit) as info:
        main(cli("--domain", "ring", "--dry-run", "--resume", "--steps", "3", "--lr-g", "0.5", "--out", str(toy_run)))
    assert info.value.code == 2
    assert "--lr-g 0.5 (the run has 0.001)" in capsys.readouterr().err


def test_resume_with_another_limit_is_refused_and_without_one_keeps_the_runs(tmp_path, capsys):
    out = tmp_path / "mnist"
    assert main(cli("--domain", "mnist", "--dry-run", "--limit", "24", "--out", str(out))) == 0
    with pytest.raises(SystemExit) as info:
        main(cli("--domain", "mnist", "--dry-run", "--limit", "16", "--resume", "--steps", "3", "--out", str(out)))
    assert info.value.code == 2 and "--limit 16 gives 16 images, but the run in" in capsys.readouterr().err
    assert main(cli("--domain", "mnist", "--dry-run", "--limit", "24", "--resume", "--steps", "2", "--out", str(out))) == 0
    assert main(cli("--domain", "mnist", "--steps", "3", "--base-width", "8", "--batch-size", "8", "--resume",
                    "--out", str(out))) == 0
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["step"] == 3 and state["data"]["limit"] == 24 and state["run"]["data_size"] == 24


def test_an_unreadable_checkpoint_is_one_line_not_a_traceback(tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / "checkpoint.pt").write_bytes(b"")
    assert main(cli("--domain", "ring", "--dry-run", "--resume", "--out", str(out))) == 1
    err = capsys.readouterr().err
    assert "gantutor.train: error: the checkpoint" in err and "is empty (0 bytes)" in err and "Traceback" not in err
    with pytest.raises(CheckpointError):  # --debug: the traceback, for bug reports
        main(cli("--domain", "ring", "--dry-run", "--resume", "--debug", "--out", str(out)))


def test_the_command_line_removes_stale_temporaries_of_its_folder(toy_run):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (toy_run / "samples").mkdir(exist_ok=True)
    stale = [toy_run / f".checkpoint.pt.{dead.pid}@{_HOST}.aaaa1111.tmp",
             toy_run / "samples" / f".step_000099.png.{dead.pid}@{_HOST}.bbbb2222.tmp"]
    for path in stale:
        path.write_bytes(b"half")
    assert main(cli("--domain", "ring", "--dry-run", "--resume", "--out", str(toy_run))) == 0  # already at step 2
    assert not any(path.exists() for path in stale)


@pytest.mark.slow
def test_sigint_and_sigterm_stop_after_the_step_write_the_checkpoint_and_the_run_resumes(tmp_path):
    """Signal a real training process once it has logged a step; it must exit 130 / 143 after writing the
    checkpoint of the step it stopped at, with no traceback, and the next --resume must continue from there."""
    out = tmp_path / "run"
    command = [sys.executable, "-m", "gantutor.train", "--domain", "ring", "--dry-run", "--steps", "1000000",
               "--log-every", "3", "--checkpoint-every", "1000000", "--sample-every", "1000000", "--out", str(out),
               "--resume"]
    stopped_at = 0
    for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        process = subprocess.Popen(command, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        watchdog = threading.Timer(300, process.kill)  # only against a hang; nothing is judged by the clock
        watchdog.start()
        try:
            before = []
            for line in process.stdout:
                before.append(line)
                if line.startswith("step "):  # it is training
                    break
            process.send_signal(sig)
            stdout, stderr = process.communicate()
            stdout = "".join(before) + stdout
        finally:
            watchdog.cancel()
            if process.poll() is None:
                process.kill()
        assert process.returncode == code, f"{sig.name}: exit {process.returncode}\n{stderr[-3000:]}"
        assert "Traceback" not in stderr, stderr
        state = load_checkpoint(out / "checkpoint.pt")
        assert state["step"] > stopped_at
        assert f"{sig.name}: stopped at step {state['step']} of 1000000 and wrote {out / 'checkpoint.pt'}" in stderr
        history = json.loads((out / "history.json").read_text())
        assert history["step"] == state["step"] and history["history"]["step"] == list(range(1, state["step"] + 1))
        if stopped_at:
            assert f"resumed {out / 'checkpoint.pt'} at step {stopped_at}" in stdout
        stopped_at = state["step"]
    finish = [*command[:command.index("--steps") + 1], str(stopped_at + 2), *command[command.index("--steps") + 2:]]
    result = subprocess.run(finish, env=env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert load_checkpoint(out / "checkpoint.pt")["step"] == stopped_at + 2


def test_a_second_signal_stops_at_once():
    from gantutor.cli import Interrupted, _StopOnSignal

    stop = _StopOnSignal()
    stop._handle(signal.SIGINT, None)  # the first: stop after this step
    assert stop.received == signal.SIGINT
    with pytest.raises(Interrupted, match="SIGTERM again: stopped at once") as info:
        stop._handle(signal.SIGTERM, None)
    assert info.value.exit_code == 143 and isinstance(info.value, KeyboardInterrupt)


def test_small_slips_get_plain_answers(tmp_path):
    from gantutor.metrics import evaluate, sample_images

    g, d = tiny_nets()
    with pytest.raises(ValueError, match="'ring' is a toy distribution: measure its samples with mode_coverage"):
        evaluate(g, "ring", n=10)
    with pytest.raises(ValueError, match=r"sample_images needs n \(a number of images\) >= 1"):
        sample_images(g, 0)
    with pytest.raises(IsADirectoryError, match="is a folder: give the name of a file in it"):
        tiny_trainer().save(tmp_path)
    assert list(tmp_path.iterdir()) == []
