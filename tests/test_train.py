import math

import pytest
import torch

from gantutor.data import load_domain
from gantutor.nets import Discriminator, Generator, MLPDiscriminator, MLPGenerator
from gantutor.storage import atomic_save
from gantutor.train import Checkpoint, Snapshots, Trainer, load_checkpoint


@pytest.fixture(scope="module")
def digits():
    return load_domain("mnist", limit=256, verbose=False)


def small_trainer(data, seed=0, **kwargs):
    torch.manual_seed(seed)
    return Trainer(Generator(latent_dim=16, base_width=8), Discriminator(base_width=8), data,
                   batch_size=32, device="cpu", seed=seed, **kwargs)


def states_equal(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def flat_optimizer_state(opt):
    return {f"{i}.{k}": v for i, s in opt.state_dict()["state"].items() for k, v in s.items()}


def test_training_changes_weights_and_records_history(digits):
    trainer = small_trainer(digits)
    before = {k: v.clone() for k, v in trainer.generator.state_dict().items()}
    history = trainer.fit(6, progress=False)
    assert trainer.step_count == 6 and history["step"] == list(range(1, 7))
    assert not states_equal(before, trainer.generator.state_dict())
    for key in ("d_loss", "g_loss", "d_real", "d_fake", "time"):
        assert len(history[key]) == 6 and all(math.isfinite(v) for v in history[key])
    assert all(0 <= v <= 1 for v in history["d_real"] + history["d_fake"])
    assert history["time"] == sorted(history["time"])


def test_resume_is_exact(digits, tmp_path):
    straight = small_trainer(digits, ema_decay=0.9)
    straight.fit(5, progress=False)
    straight.fit(4, progress=False)

    first = small_trainer(digits, ema_decay=0.9)
    first.fit(5, progress=False)
    first.save(tmp_path / "run.pt")
    resumed = Trainer.resume(tmp_path / "run.pt", device="cpu")
    assert resumed.step_count == 5
    resumed.fit(4, progress=False)

    assert states_equal(straight.generator.state_dict(), resumed.generator.state_dict())
    assert states_equal(straight.discriminator.state_dict(), resumed.discriminator.state_dict())
    assert states_equal(straight.ema_generator.state_dict(), resumed.ema_generator.state_dict())
    assert states_equal(flat_optimizer_state(straight.opt_g), flat_optimizer_state(resumed.opt_g))
    assert states_equal(flat_optimizer_state(straight.opt_d), flat_optimizer_state(resumed.opt_d))
    assert straight.history == {**resumed.history, "time": straight.history["time"]}


def test_resume_keeps_a_frozen_subset(digits, tmp_path):
    trainer = small_trainer(digits)
    bn = [p for n, p in trainer.generator.named_parameters() if ".1." in n]
    trainer = Trainer(trainer.generator, trainer.discriminator, digits, batch_size=32, device="cpu", g_params=bn)
    frozen_before = trainer.generator.blocks[0][0].weight.clone()
    trainer.fit(2, progress=False)
    assert torch.equal(frozen_before, trainer.generator.blocks[0][0].weight), "frozen weights must not move"
    trainer.save(tmp_path / "subset.pt")
    resumed = Trainer.resume(tmp_path / "subset.pt", device="cpu")
    assert resumed.g_param_names == trainer.g_param_names


def test_checkpoints_are_atomic_and_weights_only(digits, tmp_path, monkeypatch):
    trainer = small_trainer(digits)
    path = tmp_path / "ckpt.pt"
    trainer.fit(2, progress=False, callbacks=[Checkpoint(path, every=1)])
    good = path.read_bytes()
    state = torch.load(path, weights_only=True)  # loads with the safe unpickler
    assert state["step"] == 2

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        atomic_save({"x": torch.zeros(1)}, path)
    assert path.read_bytes() == good, "a failed write must leave the old checkpoint intact"
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"], "no temporary file may be left behind"


def test_checkpoint_from_another_architecture_names_both_shapes(digits, tmp_path):
    small_trainer(digits).save(tmp_path / "small.pt")
    with pytest.raises(ValueError, match=r"shape \(16, 16, 7, 7\) in the checkpoint .* but \(16, 32, 7, 7\) in the model"):
        Trainer.resume(tmp_path / "small.pt", generator=Generator(latent_dim=16, base_width=16),
                       discriminator=Discriminator(base_width=8), device="cpu")
    (tmp_path / "other.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(Exception):
        load_checkpoint(tmp_path / "other.pt")
    torch.save({"format": "something else"}, tmp_path / "foreign.pt")
    with pytest.raises(ValueError, match="not a gantutor trainer checkpoint"):
        load_checkpoint(tmp_path / "foreign.pt")
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.pt")


def test_nan_stops_training_with_step_and_loss_and_keeps_the_checkpoint(digits, tmp_path):
    trainer = small_trainer(digits)
    path = tmp_path / "good.pt"
    trainer.fit(3, progress=False, callbacks=[Checkpoint(path, every=1)])
    good = path.read_bytes()
    with torch.no_grad():
        trainer.discriminator.head.weight.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="diverged at step 4: d_loss is nan"):
        trainer.fit(3, progress=False, callbacks=[Checkpoint(path, every=1)])
    assert path.read_bytes() == good
    assert load_checkpoint(path)["step"] == 3


def test_wrong_inputs_fail_early():
    with pytest.raises(ValueError, match=r"shape \(3, 28, 28\) but the generator makes \(1, 28, 28\)"):
        Trainer(Generator(base_width=8), Discriminator(base_width=8), torch.zeros(10, 3, 28, 28), device="cpu")
    with pytest.raises(ValueError, match="empty"):
        Trainer(Generator(base_width=8), Discriminator(base_width=8), torch.zeros(0, 1, 28, 28), device="cpu")
    with pytest.raises(ValueError, match="batch_size"):
        Trainer(Generator(base_width=8), Discriminator(base_width=8), torch.zeros(4, 1, 28, 28), batch_size=0)
    with pytest.raises(ValueError, match="unknown optimizer"):
        Trainer(Generator(base_width=8), Discriminator(base_width=8), torch.zeros(4, 1, 28, 28), optimizer="lbfgs")


def test_batches_larger_than_the_data_set_cycle(digits):
    tiny = load_domain("mnist", limit=10, verbose=False)
    trainer = small_trainer(tiny)
    batch = trainer.batches.next()
    assert batch.shape == (32, 1, 28, 28)
    assert len({bytes(x.numpy().tobytes()) for x in batch}) == 10


def test_toy_training_and_snapshots():
    torch.manual_seed(0)
    snaps = Snapshots(every=5, num=16)
    trainer = Trainer(MLPGenerator(2, 2, 32, 2), MLPDiscriminator(2, 32, 2), load_domain("ring"),
                      batch_size=64, lr_g=1e-3, lr_d=1e-3, device="cpu", callbacks=[snaps])
    trainer.fit(10, progress=False)
    assert [step for step, _ in snaps.frames] == [0, 5, 10]
    assert all(frame.shape == (16, 2) for _, frame in snaps.frames)


def test_stop_request_and_time_budget(digits):
    trainer = small_trainer(digits)

    def stop_at_three(t):
        if t.step_count == 3:
            t.stop_requested = True

    trainer.fit(10, progress=False, callbacks=[stop_at_three])
    assert trainer.step_count == 3
    trainer.fit(1000, progress=False, max_seconds=0.0)
    assert trainer.step_count == 4, "max_seconds=0 stops after one step"


def test_r1_penalty_flattens_d_around_the_real_images(digits):
    """With r1_gamma, D's verdict on the real images gets flat (small input gradient); 0 is the old step."""
    def input_gradient(trainer):
        x = digits.images[:64].clone().requires_grad_(True)
        trainer.discriminator.eval()
        (grad,) = torch.autograd.grad(trainer.discriminator(x).sum(), x)
        return float(grad.pow(2).flatten(1).sum(1).mean())

    runs = {}
    for gamma in (0.0, 10.0):
        trainer = small_trainer(digits, r1_gamma=gamma, lr_d=1e-3)
        trainer.fit(40, progress=False)
        assert all(math.isfinite(v) for v in trainer.history["d_loss"])
        runs[gamma] = input_gradient(trainer)
    assert runs[10.0] < 0.5 * runs[0.0], f"R1 should shrink D's gradient on real images: {runs}"
    a, b = small_trainer(digits), small_trainer(digits, r1_gamma=0)
    a.fit(3, progress=False), b.fit(3, progress=False)
    assert states_equal(a.discriminator.state_dict(), b.discriminator.state_dict()), "r1_gamma=0 must change nothing"
    with pytest.raises(ValueError, match="r1_gamma must be a number >= 0"):
        small_trainer(digits, r1_gamma=-1)
