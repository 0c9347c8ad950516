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


# --------------------------------------------------------------------------- chapter 6: features and distances

import numpy as np
import scipy.linalg

from gantutor.metrics import (
    class_probabilities, confident_share, features, feature_net, frechet_distance,
    gaussian_frechet_distance,
)


def random_covariance(d, seed):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(d, d, generator=g, dtype=torch.float64)
    return a @ a.T / d + 0.1 * torch.eye(d, dtype=torch.float64)


def test_gaussian_frechet_distance_matches_scipy_closed_form():
    d = 12
    mean_a = torch.randn(d, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    mean_b = torch.randn(d, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    cov_a, cov_b = random_covariance(d, 3), random_covariance(d, 4)  # they do not commute
    cross = scipy.linalg.sqrtm(cov_a.numpy() @ cov_b.numpy()).real.trace()
    expected = float(((mean_a - mean_b) ** 2).sum() + cov_a.trace() + cov_b.trace()) - 2 * cross
    assert gaussian_frechet_distance(mean_a, cov_a, mean_b, cov_b) == pytest.approx(expected, rel=1e-8)


def test_gaussian_frechet_distance_for_diagonal_covariances():
    # N(m1, diag(s1^2)) vs N(m2, diag(s2^2)): |m1 - m2|^2 + sum (s1 - s2)^2
    s1, s2 = torch.tensor([1.0, 2.0, 0.5]), torch.tensor([2.0, 2.0, 1.5])
    m1, m2 = torch.zeros(3), torch.tensor([3.0, 0.0, 4.0])
    got = gaussian_frechet_distance(m1, torch.diag(s1**2), m2, torch.diag(s2**2))
    assert got == pytest.approx(25.0 + 1.0 + 0.0 + 1.0, rel=1e-10)


def test_frechet_distance_of_samples_approaches_the_gaussians_distance():
    d, n = 4, 200_000
    g = torch.Generator().manual_seed(0)
    cov_a, cov_b = random_covariance(d, 5), random_covariance(d, 6)
    mean_b = torch.full((d,), 0.5, dtype=torch.float64)
    a = torch.randn(n, d, generator=g, dtype=torch.float64) @ torch.linalg.cholesky(cov_a).T
    b = torch.randn(n, d, generator=g, dtype=torch.float64) @ torch.linalg.cholesky(cov_b).T + mean_b
    exact = gaussian_frechet_distance(torch.zeros(d), cov_a, mean_b, cov_b)
    assert frechet_distance(a, b) == pytest.approx(exact, rel=0.03)


def test_frechet_distance_is_zero_on_itself_and_symmetric():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(500, 32, generator=g).relu()
    b = torch.randn(400, 32, generator=g).relu() * 1.3 + 0.2
    assert abs(frechet_distance(a, a)) < 1e-8
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)
    assert frechet_distance(a, b) > 0.1


def test_frechet_distance_is_stable_for_singular_covariances():
    # more dimensions than samples and dead features: the covariances are singular
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(50, 128, generator=g), torch.randn(50, 128, generator=g)
    a[:, :40] = 0
    value = frechet_distance(a, b)
    assert np.isfinite(value) and value > 0
    assert abs(frechet_distance(a, a.clone())) < 1e-8


def test_frechet_distance_input_errors():
    with pytest.raises(ValueError, match=r"\(N, d\)"):
        frechet_distance(torch.zeros(5), torch.zeros(5, 2))
    with pytest.raises(ValueError, match="dimension"):
        frechet_distance(torch.zeros(5, 3), torch.zeros(5, 2))
    with pytest.raises(ValueError, match="at least 2"):
        frechet_distance(torch.zeros(1, 3), torch.zeros(5, 3))


@pytest.fixture(scope="module")
def mnist_test():
    return load_domain("mnist", split="test", verbose=False)


def test_features_shape_and_errors(mnist_test):
    net = feature_net()
    feats = features(mnist_test.images[:37], batch_size=16)
    assert feats.shape == (37, net.feature_dim) and feats.dtype == torch.float32
    assert torch.allclose(features(mnist_test), features(mnist_test.images))  # an ImageDomain works too
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        features(torch.zeros(4, 3, 28, 28))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        features(torch.full((4, 1, 28, 28), 255.0))


def test_feature_net_classes_are_domain_by_label():
    net = feature_net()
    assert not net.training
    assert net.domains == ["mnist", "digits", "glyphs", "mnist-edges", "mnist-negative"]
    assert len(net.classes) == 67 and net.classes[3] == "mnist:3" and "glyphs:A" in net.classes
    assert net.classes[-1] == "other:junk"  # the reject class
    probabilities = class_probabilities(torch.zeros(3, 1, 28, 28))
    assert probabilities.shape == (3, 67) and torch.allclose(probabilities.sum(1), torch.ones(3))


def test_confident_share_real_digits_vs_noise_and_letters(mnist_test):
    real = confident_share(mnist_test.images, domain="mnist", threshold=0.9)
    noise = confident_share(torch.rand(500, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1)
    letters = confident_share(load_domain("glyphs", split="test", verbose=False), domain="mnist")
    assert real > 0.85, real
    blank = confident_share(torch.full((20, 1, 28, 28), -1.0))
    assert noise < 0.05 and letters < 0.05 and blank < 0.05, (noise, letters, blank)
    assert confident_share(mnist_test.images, threshold=0.5) >= real  # a lower bar admits more
    with pytest.raises(ValueError, match="knows no domain"):
        confident_share(mnist_test.images, domain="fashion-mnist")


def test_frechet_distance_real_halves_vs_noise(mnist_test):
    feats = features(mnist_test.images)
    g = torch.Generator().manual_seed(0)
    order = torch.randperm(len(feats), generator=g)
    halves = frechet_distance(feats[order[:500]], feats[order[500:]])
    noise = frechet_distance(feats[order[:500]], features(torch.rand(500, 1, 28, 28, generator=g) * 2 - 1))
    assert halves < 0.05 * noise, (halves, noise)


def test_frechet_distance_grows_with_noise_and_blur(mnist_test):
    import torchvision.transforms.functional as TF

    g = torch.Generator().manual_seed(1)
    half_a, half_b = mnist_test.images[::2], mnist_test.images[1::2]
    feats_a = features(half_a)
    noise = [frechet_distance(feats_a, features((half_b + s * torch.randn(half_b.shape, generator=g)).clamp(-1, 1)))
             for s in (0.0, 0.1, 0.3, 0.6)]
    blur = [frechet_distance(feats_a, features(TF.gaussian_blur(half_b, [9, 9], [s, s]) if s else half_b))
            for s in (0.0, 0.7, 1.2, 2.0)]
    assert noise == sorted(noise) and noise[-1] > 5 * noise[0], noise
    assert blur == sorted(blur) and blur[-1] > 5 * blur[0], blur


# --------------------------------------------------------------------------- KID

from gantutor.metrics import evaluate, kernel_distance, polynomial_kernel, precision_recall, sample_images
from gantutor.metrics import _unbiased_mmd2


def test_unbiased_mmd2_leaves_out_the_diagonal():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(7, 3, generator=g, dtype=torch.float64), torch.randn(5, 3, generator=g, dtype=torch.float64)
    k = lambda a, b: (a @ b.T / 3 + 1) ** 3
    expected = sum(float(k(x[i:i + 1], x[j:j + 1])) for i in range(7) for j in range(7) if i != j) / 42 \
        + sum(float(k(y[i:i + 1], y[j:j + 1])) for i in range(5) for j in range(5) if i != j) / 20 \
        - 2 * float(k(x, y).mean())
    assert float(_unbiased_mmd2(x, y)) == pytest.approx(expected, rel=1e-10)
    assert torch.allclose(polynomial_kernel(x, y), k(x, y))


def test_kid_is_zero_within_its_std_for_one_distribution():
    g = torch.Generator().manual_seed(0)
    mix = torch.randn(16, 16, generator=g) / 4
    a = (torch.randn(3000, 16, generator=g) @ mix).relu()
    b = (torch.randn(3000, 16, generator=g) @ mix).relu()
    mean, std = kernel_distance(a, b, subsets=40, subset_size=300)
    assert abs(mean) < 2 * std, (mean, std)
    shifted_mean, shifted_std = kernel_distance(a, b + 0.3, subsets=40, subset_size=300)
    assert shifted_mean > 10 * shifted_std, (shifted_mean, shifted_std)


def test_kid_is_unbiased_across_subset_sizes():
    # the same population MMD^2, estimated with small and large subsets
    g = torch.Generator().manual_seed(1)
    a = torch.randn(4000, 8, generator=g)
    b = torch.randn(4000, 8, generator=g) * 1.2 + 0.1
    small, small_std = kernel_distance(a, b, subsets=400, subset_size=50)
    large, _ = kernel_distance(a, b, subsets=20, subset_size=2000)
    assert abs(small - large) < 3 * small_std / 400 ** 0.5 + 0.01 * abs(large), (small, large)


def test_kid_on_real_digits(mnist_test):
    feats = features(mnist_test)
    real_a, real_b = feats[::2], feats[1::2]
    mean, std = kernel_distance(real_a, real_b, subsets=50, subset_size=250)
    assert abs(mean) < 3 * std, (mean, std)
    noise_mean, _ = kernel_distance(real_a, features(torch.rand(500, 1, 28, 28) * 2 - 1), subsets=10, subset_size=250)
    assert noise_mean > 100 * abs(mean)


# --------------------------------------------------------------------------- precision and recall

def test_precision_recall_same_distribution_is_about_one():
    ring = load_domain("ring")
    g = torch.Generator().manual_seed(0)
    result = precision_recall(ring.sample(1000, g), ring.sample(1000, g), k=3)
    assert result["precision"] > 0.9 and result["recall"] > 0.9, result


def test_precision_recall_truncated_and_shifted():
    ring = load_domain("ring")
    g = torch.Generator().manual_seed(0)
    real = ring.sample(1000, g)
    which = torch.randint(8, (1000,), generator=g)
    truncated = ring.centres[which % 4] + ring.sigma * torch.randn(1000, 2, generator=g)  # half of the modes
    shifted = ring.sample(1000, g) + torch.tensor([6 * ring.sigma, 0.0])
    half = precision_recall(real, truncated)
    moved = precision_recall(real, shifted)
    assert half["precision"] > 0.9 and 0.4 < half["recall"] < 0.6, half
    assert moved["precision"] < 0.3 and moved["recall"] < 0.3, moved
    # a shift by a fraction of a ball's radius barely matters; more shift, less of both
    a_bit = precision_recall(real, ring.sample(1000, g) + torch.tensor([ring.sigma, 0.0]))
    assert moved["precision"] < a_bit["precision"] and moved["recall"] < a_bit["recall"]


def test_precision_recall_on_digit_features(mnist_test):
    feats_a, feats_b = features(mnist_test.images[::2]), features(mnist_test.images[1::2])
    same = precision_recall(feats_a, feats_b)
    low = features(mnist_test.images[1::2][mnist_test.labels[1::2] < 5])
    half = precision_recall(feats_a, low)
    assert same["precision"] > 0.8 and same["recall"] > 0.8, same
    assert half["recall"] < same["recall"] - 0.25 and half["precision"] > 0.8, half


def test_precision_recall_accepts_images_and_checks_k(mnist_test):
    result = precision_recall(mnist_test.images[:100], mnist_test.images[100:200])
    assert 0 <= result["precision"] <= 1 and 0 <= result["recall"] <= 1
    with pytest.raises(ValueError, match="k must be"):
        precision_recall(torch.zeros(3, 2), torch.zeros(3, 2), k=3)


# --------------------------------------------------------------------------- evaluate

def test_evaluate_real_images_vs_noise():
    train = load_domain("mnist", split="train", verbose=False).images  # sorted by class: shuffle
    real = train[torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[:300]]
    good = evaluate(real, "mnist", n=300)
    bad = evaluate(torch.rand(300, 1, 28, 28) * 2 - 1, "mnist", n=300)
    for key in ("fd", "kid", "kid_std", "precision", "recall", "fd_floor", "confident_share", "classes_covered"):
        assert key in good, key
    assert good["fd"] < 0.1 * bad["fd"] and good["kid"] < 0.1 * bad["kid"]
    assert good["precision"] > 0.7 and bad["precision"] < 0.05
    assert good["classes_covered"] == 10 and bad["confident_share"] < 0.05
    with pytest.raises(ValueError, match="held-out images"):
        evaluate(real, "mnist", n=100_000)


def test_evaluate_runs_a_generator_and_sample_images_is_seeded():
    from gantutor.nets import Generator

    torch.manual_seed(0)
    generator = Generator(latent_dim=8, base_width=8)
    a, b = sample_images(generator, 10, seed=3), sample_images(generator, 10, seed=3)
    assert torch.equal(a, b) and a.shape == (10, 1, 28, 28) and generator.training
    result = evaluate(generator, "glyphs", n=60, kid_subsets=5)
    assert result["n"] == 60 and result["domain"] == "glyphs" and result["num_classes"] == 26
