"""gantutor.theory against closed forms and hand-checked values."""
import math

import numpy as np
import pytest

from gantutor import theory

X = np.linspace(-14, 16, 30001)


def _gaussians(mu):
    return theory.gaussian_density(X), theory.gaussian_density(X, mu)


def test_gaussian_density_integrates_to_one_and_peaks_at_hand_value():
    assert abs(theory.integrate(theory.gaussian_density(X, 1.0, 2.0), X) - 1) < 1e-9
    assert math.isclose(theory.gaussian_density(0.0), 1 / math.sqrt(2 * math.pi))


@pytest.mark.parametrize("mu", [0.0, 0.5, 1.0, 2.0, 4.0])
def test_optimal_discriminator_matches_closed_form(mu):
    p_data, p_g = _gaussians(mu)
    d_star = theory.optimal_discriminator(p_data, p_g)
    closed = 1 / (1 + np.exp(-(mu**2 / 2 - mu * X)))  # sigma(mu^2/2 - mu x)
    assert np.abs(d_star - closed).max() < 1e-12
    assert np.abs(theory.gaussian_optimal_discriminator(X, mu) - closed).max() < 1e-12


def test_optimal_discriminator_hand_values_and_empty_support():
    d = theory.optimal_discriminator([1.0, 0.0, 3.0, 0.0], [1.0, 2.0, 1.0, 0.0])
    assert np.allclose(d, [0.5, 0.0, 0.75, 0.5])
    with pytest.raises(ValueError, match="non-negative"):
        theory.optimal_discriminator([-1.0], [1.0])
    with pytest.raises(ValueError, match="same shape"):
        theory.optimal_discriminator([1.0, 2.0], [1.0])


@pytest.mark.parametrize("mu", [0.5, 1.0, 3.0])
def test_optimal_discriminator_beats_any_other(mu):
    x = np.linspace(-8, 10, 18001)  # narrow enough that D* never rounds to exactly 0 or 1
    p_data, p_g = theory.gaussian_density(x), theory.gaussian_density(x, mu)
    best = theory.value_function(theory.optimal_discriminator(p_data, p_g), p_data, p_g, x)
    assert math.isclose(best, theory.value_at_optimum(p_data, p_g, x), abs_tol=1e-10)
    for other in (np.full_like(x, 0.5), theory.gaussian_optimal_discriminator(x, mu * 1.2),
                  np.clip(theory.optimal_discriminator(p_data, p_g) + 0.05, 0, 0.999)):
        assert theory.value_function(other, p_data, p_g, x) < best


@pytest.mark.parametrize("mu", [0.0, 0.3, 1.0, 2.5, 5.0])
def test_value_at_optimum_is_minus_log4_plus_twice_jsd(mu):
    p_data, p_g = _gaussians(mu)
    c = theory.value_at_optimum(p_data, p_g, X)
    assert abs(c - (-math.log(4) + 2 * theory.jensen_shannon(p_data, p_g, X))) < 1e-10
    assert c >= -math.log(4) - 1e-12
    if mu == 0.0:
        assert abs(c + math.log(4)) < 1e-12


def test_constant_discriminator_half_gives_minus_log4():
    p_data, p_g = _gaussians(1.7)
    assert abs(theory.value_function(np.full_like(X, 0.5), p_data, p_g, X) + math.log(4)) < 1e-9


def test_kl_matches_gaussian_closed_form():
    p, q = theory.gaussian_density(X, 0.5, 1.0), theory.gaussian_density(X, -1.0, 1.5)
    assert abs(theory.kl_divergence(p, q, X) - theory.gaussian_kl(0.5, 1.0, -1.0, 1.5)) < 1e-9
    assert math.isclose(theory.gaussian_kl(0, 1, 2, 1), 2.0)  # (mu^2)/2 by hand


def test_jensen_shannon_hand_checked_values():
    u = np.linspace(-1, 3, 40001)
    box = lambda a, b: ((u >= a) & (u <= b)).astype(float) / (b - a)
    # identical: 0; disjoint: log 2; half overlap of two unit boxes: (1/2) log 2 (worked out in the chapter)
    assert abs(theory.jensen_shannon(box(0, 1), box(0, 1), u)) < 1e-12
    assert abs(theory.jensen_shannon(box(0, 1), box(1.5, 2.5), u) - math.log(2)) < 1e-3
    assert abs(theory.jensen_shannon(box(0, 1), box(0.5, 1.5), u) - 0.5 * math.log(2)) < 1e-3
    p, q = _gaussians(1.3)
    assert math.isclose(theory.jensen_shannon(p, q, X), theory.jensen_shannon(q, p, X), rel_tol=1e-12)


def test_jensen_shannon_monte_carlo_agrees_with_quadrature():
    mu = 1.0
    log_n = lambda m: (lambda s: -0.5 * (s - m) ** 2 - 0.5 * math.log(2 * math.pi))
    estimate, error = theory.jensen_shannon_mc(lambda n, r: r.normal(0, 1, n), log_n(0),
                                               lambda n, r: r.normal(mu, 1, n), log_n(mu), n=100_000)
    exact = theory.jensen_shannon(*_gaussians(mu), X)
    assert 0 < error < 0.002
    assert abs(estimate - exact) < 4 * error


def test_wasserstein_of_shifted_boxes_is_the_shift():
    u = np.linspace(-1, 6, 70001)
    box = lambda a: ((u >= a) & (u <= a + 1)).astype(float)
    for shift in (0.25, 1.0, 3.0):
        assert abs(theory.wasserstein_1d(box(0), box(shift), u) - shift) < 1e-3


def test_dirac_gan_simultaneous_spirals_out_alternating_circles():
    simultaneous = theory.dirac_gan(1.0, 1.0, lr=0.1, steps=500, simultaneous=True)
    alternating = theory.dirac_gan(1.0, 1.0, lr=0.1, steps=500, simultaneous=False)
    radius = lambda path: np.hypot(path[:, 0], path[:, 1])
    assert simultaneous.shape == (501, 2)
    assert np.all(np.diff(radius(simultaneous)) > 0), "every simultaneous step moves away from (0, 0)"
    assert radius(simultaneous)[-1] > 1.5 * radius(simultaneous)[0]
    assert abs(radius(alternating)[-1] / radius(alternating)[0] - 1) < 0.05


def test_integrate_rejects_bad_grids():
    with pytest.raises(ValueError, match="increasing"):
        theory.integrate([1.0, 1.0, 1.0], [0.0, 2.0, 1.0])
