import pytest
import torch

from gantutor.data import load_domain
from gantutor.metrics import mode_coverage


def test_real_ring_samples_cover_every_mode():
    ring = load_domain("ring")
    result = mode_coverage(ring.sample(2500, torch.Generator().manual_seed(0)), ring.centres, ring.sigma)
    assert result["modes_covered"] == 8 and result["num_modes"] == 8
    assert 0.97 < result["high_quality"] <= 1.0  # 3-sigma disc in 2-D holds 98.9%
    assert result["kl_to_uniform"] < 0.01


def test_collapsed_samples_cover_one_mode():
    ring = load_domain("ring")
    collapsed = ring.centres[2] + 0.01 * torch.randn(1000, 2, generator=torch.Generator().manual_seed(0))
    result = mode_coverage(collapsed, ring.centres, ring.sigma)
    assert result["modes_covered"] == 1 and result["counts"][2] == 1000
    assert abs(result["kl_to_uniform"] - torch.log(torch.tensor(8.0)).item()) < 1e-5


def test_far_samples_are_not_high_quality():
    ring = load_domain("ring")
    result = mode_coverage(torch.zeros(100, 2), ring.centres, ring.sigma)
    assert result["high_quality"] == 0 and result["modes_covered"] == 0


def test_shape_errors():
    with pytest.raises(ValueError, match="agree in D"):
        mode_coverage(torch.zeros(5, 3), torch.zeros(2, 2), 0.1)
