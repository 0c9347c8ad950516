"""The shipped weights: every file matches the manifest, loading checks it, rebuilding works."""
import json
import shutil

import pytest
import torch

from gantutor import pretrained
from gantutor.nets import FEATURE_DOMAINS, FeatureNet
from gantutor.pretrained import AssetError, asset_dir, load, manifest, verify
from gantutor.pretrained.cli import main
from gantutor.pretrained.rebuild import SNAPSHOT_STEPS, rebuild


def test_every_shipped_file_matches_the_manifest():
    entries = manifest()["assets"]
    assert set(entries) == set(pretrained.NAMES)
    assert verify() == {name: True for name in entries}
    for name, entry in entries.items():
        path = asset_dir() / entry["file"]
        assert path.stat().st_size == entry["size"]
        assert entry["rebuild"] == f"python -m gantutor.pretrained rebuild {name.removesuffix('-snapshots')}"
        for key in ("sha256", "seed", "steps", "wall_time_s", "device"):
            assert key in entry, (name, key)
    # nothing in the folder that the manifest does not describe
    files = {p.name for p in asset_dir().iterdir() if not p.name.startswith(".")}
    assert files == {e["file"] for e in entries.values()} | {"manifest.json"}


def test_all_shipped_weights_fit_in_15_mb():
    total = sum(p.stat().st_size for p in asset_dir().iterdir())
    assert total <= 15_000_000, f"{total / 1e6:.2f} MB"


def test_feature_net_manifest_records_accuracy_per_domain():
    quality = manifest()["assets"]["feature-net"]["quality"]["test_accuracy"]
    assert set(quality) == set(FEATURE_DOMAINS)
    assert all(value > 0.9 for value in quality.values()), quality


def test_load_feature_net():
    net = load("feature-net")
    assert isinstance(net, FeatureNet) and not net.training
    assert net.classes[0] == "mnist:0"
    assert all(p.dtype == torch.float32 for p in net.parameters())


@pytest.fixture()
def copied_assets(tmp_path):
    for name in ("manifest.json", "feature-net.pt"):
        shutil.copy(asset_dir() / name, tmp_path / name)
    return tmp_path


def test_altered_file_is_refused_with_the_rebuild_command(copied_assets):
    path = copied_assets / "feature-net.pt"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(AssetError, match="rebuild feature-net") as info:
        load("feature-net", root=copied_assets)
    assert "does not match its manifest" in str(info.value)


def test_missing_file_is_refused_with_the_rebuild_command(copied_assets):
    (copied_assets / "feature-net.pt").unlink()
    with pytest.raises(AssetError, match=r"missing.*python -m gantutor.pretrained rebuild feature-net"):
        load("feature-net", root=copied_assets)


def test_unknown_name():
    with pytest.raises(ValueError, match="known: feature-net"):
        load("inception")


def test_rebuild_feature_net_end_to_end(tmp_path):
    entries = rebuild("feature-net", steps=3, out=tmp_path, device="cpu", progress=False, limit=40)
    entry = entries[0]
    assert entry["steps"] == 3 and entry["rebuild"] == "python -m gantutor.pretrained rebuild feature-net"
    assert json.loads((tmp_path / "manifest.json").read_text())["assets"]["feature-net"] == entry
    net = load("feature-net", root=tmp_path)
    assert isinstance(net, FeatureNet) and len(net.classes) == 67
    assert verify(root=tmp_path) == {"feature-net": True}
    # the command line calls the same code
    assert main(["verify", "--root", str(tmp_path)]) == 0


def test_shipped_gans_load_ready_and_record_their_quality():
    from gantutor.nets import Discriminator, Generator

    for name in ("dcgan-mnist", "dcgan-glyphs"):
        gan = load(name)
        generator, discriminator = gan  # unpacks like a pair
        assert isinstance(generator, Generator) and isinstance(discriminator, Discriminator)
        assert not generator.training and not discriminator.training
        assert generator.config == dict(latent_dim=64, channels=1, base_width=32, image_size=28)
        with torch.no_grad():
            images = generator(torch.randn(4, gan.latent_dim))
            assert images.shape == (4, 1, 28, 28) and discriminator(images).shape == (4,)
        quality = gan.info["quality"]
        assert quality["fd_floor"] < quality["fd"] and quality["kid"] > 0, quality
        assert gan.info["training"]["domain"] == name.removeprefix("dcgan-")


def test_snapshots_are_fp16_on_disk_and_float32_when_loaded():
    snapshots = load("dcgan-mnist-snapshots")
    assert [step for step, _ in snapshots] == list(SNAPSHOT_STEPS)
    raw = torch.load(asset_dir() / "dcgan-mnist-snapshots.pt", weights_only=True)
    assert raw["generators"][0]["state"]["blocks.0.0.weight"].dtype == torch.float16
    assert all(p.dtype == torch.float32 for _, g in snapshots for p in g.parameters())


def test_rebuild_gan_end_to_end(tmp_path):
    entries = rebuild("dcgan-mnist", steps=3, out=tmp_path, device="cpu", progress=False, limit=64)
    assert [e["file"] for e in entries] == ["dcgan-mnist.pt", "dcgan-mnist-snapshots.pt"]
    assert entries[0]["quality"]["n"] == 64 and "fd" in entries[0]["quality"]
    generator, discriminator = load("dcgan-mnist", root=tmp_path)
    assert generator.latent_dim == 64
    assert [step for step, _ in load("dcgan-mnist-snapshots", root=tmp_path)] == [3]
    assert verify(root=tmp_path) == {"dcgan-mnist": True, "dcgan-mnist-snapshots": True}


def test_shipped_coupled_gans_load_and_match_their_recorded_correspondence():
    from gantutor import coupled

    for name, pair in (("cogan-edges", "mnist-edges"), ("cogan-negative", "mnist-negative")):
        G = pretrained.load(name)
        assert isinstance(G, coupled.CoupledGenerator) and not G.training and G.shared == 3
        quality = pretrained.manifest()["assets"][name]["quality"]
        first, second = coupled.pairs(G, quality["pairs"], seed=quality["noise_seed"])
        measured = coupled.correspondence(first, second, pair)
        assert abs(measured["label_agreement"] - quality["label_agreement"]) < 0.02, (name, measured, quality)
        assert measured["iou"] >= 2 * measured["shuffled_iou"], (name, measured)


def test_rebuild_cogan_trains_with_its_r1_penalty_and_code_and_records_them(tmp_path):
    from gantutor.latent import CodePrior
    from gantutor.pretrained.rebuild import COGAN_INFO, COGAN_R1

    entries = rebuild("cogan-negative", steps=2, out=tmp_path, device="cpu", progress=False)
    entry = entries[0]
    assert entry["steps"] == 2 and entry["training"]["settings"]["r1_gamma"] == COGAN_R1["cogan-negative"] == 1.0
    assert entry["training"]["settings"]["info_weight"] == COGAN_INFO["cogan-negative"] == 1.0
    assert entry["training"]["latent_prior"] == {"name": "CodePrior", "latent_dim": 100, "categories": 50}
    assert set(COGAN_R1) == set(COGAN_INFO) == {"cogan-edges", "cogan-negative"}
    assert isinstance(load("cogan-negative", root=tmp_path).prior, CodePrior)
    assert 0 <= entry["quality"]["label_agreement"] <= 1 and "rendered_label_agreement" in entry["quality"]
    assert verify(root=tmp_path) == {"cogan-negative": True}
