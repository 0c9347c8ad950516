"""The command line (python -m gantutor.train) and distributed training with torchrun.

Two CPU processes with gloo are started by ``torchrun`` on the loopback interface; they
must end with identical parameters, only rank 0 may write files, a resumed run must
continue the step count, and two processes with batch B must train like one with 2B.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from gantutor.cli import main, train
from gantutor.nets import Discriminator, Generator
from gantutor.batches import TensorBatches
from gantutor.distributed import ShardedBatches, convert_sync_batchnorm
from gantutor.train import Trainer, load_checkpoint

ROOT = Path(__file__).resolve().parents[1]

# Run under torchrun: train through gantutor.cli.train and report, per rank, what it computed
# and which files it wrote (every file the command writes goes through os.replace).
RANK_SCRIPT = textwrap.dedent('''
    import hashlib, json, os, sys
    from pathlib import Path

    written = []
    _replace = os.replace

    def recording_replace(src, dst, *args, **kwargs):
        written.append(str(dst))
        return _replace(src, dst, *args, **kwargs)

    os.replace = recording_replace

    from gantutor.cli import train

    def digest(tensors):
        h = hashlib.sha256()
        for name, tensor in tensors:
            h.update(name.encode())
            h.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return h.hexdigest()

    report_dir, runs = Path(sys.argv[1]), json.loads(sys.argv[2])
    reports = []
    for argv in runs:
        written.clear()
        trainer = train(argv)
        nets = {"G": trainer.generator, "D": trainer.discriminator, "EMA": trainer.ema_generator}
        params = [(f"{k}.{n}", p) for k, net in nets.items() if net is not None for n, p in net.named_parameters()]
        buffers = [(f"{k}.{n}", b) for k, net in nets.items() if net is not None for n, b in net.named_buffers()]
        reports.append({"rank": trainer.rank, "world_size": trainer.world_size, "step": trainer.step_count,
                        "global_batch_size": trainer.global_batch_size, "params": digest(params),
                        "buffers": digest(buffers), "history": {k: v for k, v in trainer.history.items() if k != "time"},
                        "written": list(written)})
    (report_dir / f"rank{trainer.rank}.json").write_text(json.dumps(reports))
''')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "GANTUTOR_DEVICE": "cpu", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}


def torchrun(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "torch.distributed.run", "--nnodes=1", "--nproc_per_node=2",
               "--master_addr=127.0.0.1", f"--master_port={free_port()}", *args]
    result = subprocess.run(command, env=env(), capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"torchrun failed ({result.returncode}):\n{result.stdout}\n{result.stderr[-4000:]}"
    return result


def quiet_args(out: Path, *extra: str) -> list[str]:
    return ["--out", str(out), "--log-every", "1000", *extra]


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    """One torchrun launch, several runs: the DCGAN on MNIST (dry-run sizes), the toy GAN on the ring, a conditional GAN."""
    tmp = tmp_path_factory.mktemp("ddp")
    script = tmp / "rank_script.py"
    script.write_text(RANK_SCRIPT)
    runs = [
        ["--domain", "mnist", "--dry-run", "--steps", "3", "--d-steps", "2", "--ema-decay", "0.9",
         *quiet_args(tmp / "mnist")],
        ["--domain", "mnist", "--dry-run", "--steps", "5", "--d-steps", "2", "--ema-decay", "0.9",
         *quiet_args(tmp / "mnist-straight")],
        ["--domain", "mnist", "--dry-run", "--steps", "3", "--sync-batchnorm", *quiet_args(tmp / "mnist-sync")],
        ["--domain", "mnist", "--dry-run", "--steps", "3", *quiet_args(tmp / "mnist-nosync")],
        ["--domain", "ring", "--steps", "20", "--batch-size", "32", "--hidden", "32", "--checkpoint-every", "10",
         "--sample-every", "1000", *quiet_args(tmp / "ring2")],
        # the R1 penalty: its gradient (a gradient of a gradient) goes through DDP like the loss's
        ["--domain", "ring", "--steps", "20", "--batch-size", "32", "--hidden", "32", "--r1-gamma", "1",
         "--checkpoint-every", "10", "--sample-every", "1000", *quiet_args(tmp / "ring2-r1")],
        # a class-conditional GAN: the labels of the global batch are shared out like the images and the noise
        ["--domain", "mnist", "--recipe", "chapter-5-cgan", "--dry-run", "--steps", "3", *quiet_args(tmp / "mnist-cgan")],
    ]
    torchrun(str(script), str(tmp), json.dumps(runs))
    reports = [json.loads((tmp / f"rank{r}.json").read_text()) for r in (0, 1)]
    return tmp, reports


@pytest.mark.slow
def test_two_processes_end_identical_and_only_rank_0_writes(two_ranks):
    tmp, (rank0, rank1) = two_ranks
    for run0, run1 in zip(rank0, rank1):
        assert (run0["rank"], run1["rank"], run0["world_size"]) == (0, 1, 2)
        assert run0["step"] == run1["step"] > 0
        assert run0["params"] == run1["params"], "the ranks' parameters (G, D, EMA) differ after training"
        assert run0["buffers"] == run1["buffers"], "the ranks' BatchNorm statistics differ after training"
        assert run0["history"] == run1["history"], "every rank must record the same (global) history"
        assert run1["written"] == [], f"rank 1 wrote files: {run1['written']}"
    mnist = rank0[0]
    assert mnist["global_batch_size"] == 16 and mnist["history"]["step"] == [1, 2, 3]
    on_disk = sorted(str(p) for p in (tmp / "mnist").rglob("*") if p.is_file())
    assert sorted(set(mnist["written"])) == on_disk, "files on disk that rank 0 did not write"
    names = {Path(p).relative_to(tmp / "mnist").as_posix() for p in on_disk}
    assert {"checkpoint.pt", "history.json", "samples/step_000000.png", "samples/step_000003.png"} <= names
    state = load_checkpoint(tmp / "mnist" / "checkpoint.pt")
    assert state["step"] == 3 and state["world_size"] == 2


@pytest.mark.slow
def test_resume_under_torchrun_continues_the_step_count(two_ranks):
    tmp, (rank0, _) = two_ranks
    result = torchrun("-m", "gantutor.train", "--domain", "mnist", "--dry-run", "--steps", "5", "--resume",
                      *quiet_args(tmp / "mnist"))
    assert "resumed" in result.stdout and "at step 3" in result.stdout, result.stdout
    record = json.loads((tmp / "mnist" / "history.json").read_text())
    assert record["step"] == 5 and record["world_size"] == 2 and record["global_batch_size"] == 16
    assert record["history"]["step"] == [1, 2, 3, 4, 5]
    assert record["history"]["d_loss"][:3] == rank0[0]["history"]["d_loss"], "resume rewrote the past"
    resumed = load_checkpoint(tmp / "mnist" / "checkpoint.pt")
    straight = load_checkpoint(tmp / "mnist-straight" / "checkpoint.pt")
    assert resumed["step"] == straight["step"] == 5
    for part in ("generator", "discriminator"):  # 3 steps, resume, 2 steps == 5 steps, bit for bit
        assert all(torch.equal(v, straight[part]["state"][k]) for k, v in resumed[part]["state"].items()), part
    assert all(torch.equal(v, straight["ema"][k]) for k, v in resumed["ema"].items())
    assert resumed["history"]["d_loss"] == straight["history"]["d_loss"]


@pytest.mark.slow
@pytest.mark.parametrize("r1", [[], ["--r1-gamma", "1"]], ids=["plain", "r1"])
def test_two_processes_of_batch_b_train_like_one_of_batch_2b(two_ranks, tmp_path, r1):
    """No BatchNorm in the toy MLPs, so DDP's averaged gradients must equal one big batch's (with R1 too)."""
    tmp, _ = two_ranks
    train(["--domain", "ring", "--steps", "20", "--batch-size", "64", "--hidden", "32", "--checkpoint-every", "10",
           "--sample-every", "1000", "--device", "cpu", *r1, *quiet_args(tmp_path / "ring1")])
    one = load_checkpoint(tmp_path / "ring1" / "checkpoint.pt")
    two = load_checkpoint(tmp / ("ring2-r1" if r1 else "ring2") / "checkpoint.pt")
    assert one["config"]["r1_gamma"] == two["config"]["r1_gamma"] == (1.0 if r1 else 0.0)
    assert one["step"] == two["step"] == 20
    for net in ("generator", "discriminator"):
        for name, tensor in one[net]["state"].items():
            other = two[net]["state"][name]
            assert torch.allclose(tensor, other, atol=1e-4), \
                f"{net}.{name}: 2x32 differs from 1x64 by {(tensor - other).abs().max():.2e}"
    assert torch.allclose(torch.tensor(one["history"]["d_loss"]), torch.tensor(two["history"]["d_loss"]), atol=1e-4)


@pytest.mark.slow
def test_with_sync_batchnorm_two_processes_of_batch_b_train_like_one_of_batch_2b(two_ranks, tmp_path):
    """SyncBatchNorm normalises over the global batch: the DCGAN then trains as in one process."""
    tmp, _ = two_ranks
    train(["--domain", "mnist", "--dry-run", "--steps", "3", "--batch-size", "16", "--device", "cpu",
           *quiet_args(tmp_path / "one")])
    one = load_checkpoint(tmp_path / "one" / "checkpoint.pt")

    def largest_difference(run: str) -> float:
        two = load_checkpoint(tmp / run / "checkpoint.pt")
        return max((tensor.float() - two[net]["state"][name].float()).abs().max().item()
                   for net in ("generator", "discriminator") for name, tensor in one[net]["state"].items())

    synced, unsynced = largest_difference("mnist-sync"), largest_difference("mnist-nosync")
    assert synced < 1e-4, f"2x8 with SyncBatchNorm differs from 1x16 by {synced:.2e}"
    assert unsynced > 1e-4, f"2x8 without SyncBatchNorm should differ from 1x16, but only by {unsynced:.2e}"
    print(f"largest weight difference from 1x16 after 3 steps: synced {synced:.1e}, per-process BN {unsynced:.1e}")


def test_sharded_batches_split_the_global_batch():
    data = torch.arange(40, dtype=torch.float32)[:, None]
    single = TensorBatches(data, 8, seed=3, device=torch.device("cpu"))
    shards = [ShardedBatches(TensorBatches(data, 4, seed=3, device=torch.device("cpu")), rank, 2) for rank in (0, 1)]
    for _ in range(7):  # runs across epochs
        whole = single.next()
        parts = [shard.next() for shard in shards]
        assert all(part.shape == (4, 1) for part in parts)
        assert torch.equal(torch.cat(parts), whole)
    assert shards[0].state_dict()["position"] == single.state_dict()["position"]


def test_distributed_needs_a_process_group():
    images = torch.zeros(8, 1, 28, 28)
    with pytest.raises(RuntimeError, match="torchrun"):
        Trainer(Generator(base_width=8), Discriminator(base_width=8), images, device="cpu", distributed=True)
    trainer = Trainer(Generator(base_width=8), Discriminator(base_width=8), images, device="cpu", batch_size=4,
                      sync_batchnorm=True)  # one process: nothing to synchronise
    assert (trainer.world_size, trainer.global_batch_size, trainer.is_main_process) == (1, 4, True)
    assert not any("Sync" in type(m).__name__ for m in trainer.generator.modules())


def test_sync_batchnorm_keeps_the_checkpoint_format():
    plain = Generator(base_width=8)
    synced = convert_sync_batchnorm(Generator(base_width=8), torch.device("cpu"))
    assert sum("Sync" in type(m).__name__ for m in synced.modules()) == 2
    assert synced.state_dict().keys() == plain.state_dict().keys()
    plain.load_state_dict(synced.state_dict())  # a synced run's checkpoint loads into the plain networks
    z = torch.randn(4, 64)
    torch.testing.assert_close(synced(z), plain(z))  # without a process group: plain BatchNorm
    assert torch.equal(synced.blocks[0][1].running_mean, plain.blocks[0][1].running_mean)


@pytest.mark.slow
def test_one_process_writes_checkpoint_history_and_samples_and_resumes(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["--domain", "mnist", "--dry-run", "--device", "cpu", *quiet_args(out)]) == 0
    record = json.loads((out / "history.json").read_text())
    assert record["step"] == 2 and record["world_size"] == 1 and record["history"]["step"] == [1, 2]
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["step_000000.png", "step_000001.png",
                                                                   "step_000002.png"]
    assert load_checkpoint(out / "checkpoint.pt")["step"] == 2
    mixture = tmp_path / "mixture"
    assert main(["--domain", "ring", "--dry-run", "--latent-components", "4", "--device", "cpu",
                 *quiet_args(mixture)]) == 0
    assert load_checkpoint(mixture / "checkpoint.pt")["latent"] == {
        "name": "MixturePrior", "latent_dim": 2, "components": 4, "scale": 1.0, "seed": 0}
    toy = tmp_path / "toy"  # resuming: the toy GAN, which loads in no time
    assert main(["--domain", "ring", "--dry-run", "--resume", "--device", "cpu", *quiet_args(toy)]) == 0
    assert "no checkpoint" in capsys.readouterr().out
    assert main(["--domain", "ring", "--dry-run", "--steps", "4", "--resume", "--device", "cpu",
                 *quiet_args(toy)]) == 0
    assert "resumed" in capsys.readouterr().out
    assert load_checkpoint(toy / "checkpoint.pt")["step"] == 4
    assert json.loads((toy / "history.json").read_text())["history"]["step"] == [1, 2, 3, 4]
    assert main(["--domain", "grid", "--dry-run", "--resume", "--device", "cpu", *quiet_args(toy)]) == 1
    assert "trained on 'ring', not 'grid'" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--domain", "mnist", "--out", "x", "--steps", "5", "--bogus"], "unrecognized arguments: --bogus"),
    (["--domain", "atlantis", "--out", "x", "--steps", "5"], "unknown domain 'atlantis'; known domains: mnist"),
    (["--domain", "mnist", "--out", "x"], "--steps is required"),
    (["--domain", "mnist", "--out", "x", "--steps", "5", "--batch-size", "0"], "--batch-size must be positive"),
    (["--domain", "mnist", "--out", "x", "--steps", "5", "--loss", "wasserstein"], "invalid choice: 'wasserstein'"),
    (["--domain", "mnist", "--out", "x", "--steps", "5", "--latent-components", "0"],
     "--latent-components must be positive, got 0"),
])
def test_bad_arguments_exit_non_zero_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_unknown_domain_from_the_shell(tmp_path):
    result = subprocess.run([sys.executable, "-m", "gantutor.train", "--domain", "atlantis", "--steps", "1",
                             "--out", str(tmp_path / "x")], env=env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "unknown domain 'atlantis'; known domains: mnist" in result.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_a_killed_run_leaves_its_last_checkpoint_readable(tmp_path):
    out = tmp_path / "run"
    process = subprocess.Popen([sys.executable, "-m", "gantutor.train", "--domain", "ring", "--dry-run",
                                "--steps", "100000", "--sample-every", "100000", *quiet_args(out)],
                               env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while not (out / "checkpoint.pt").exists():
            assert process.poll() is None, f"the run ended early: {process.stderr.read().decode()[-2000:]}"
            assert time.monotonic() < deadline, "no checkpoint after 90 s"
            time.sleep(0.05)
        time.sleep(0.5)  # it is now writing a checkpoint every step
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    state = load_checkpoint(out / "checkpoint.pt")
    assert state["step"] >= 1
    resumed = Trainer.resume(out / "checkpoint.pt", device="cpu")
    assert resumed.step_count == state["step"]
