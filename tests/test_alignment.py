"""Tests for latentlab.alignment: planted rotations, scipy oracles, invariances, reflections."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.linalg import orthogonal_procrustes
from scipy.spatial.transform import Rotation

from latentlab.alignment import (
    align, aligned_rmsd, aligned_rmse, coordinate_rmse, horn_quaternion, kabsch, point_rmsd,
)


def _random_rotation(d, rng):
    A = rng.normal(size=(d, d))
    Qm, Rm = np.linalg.qr(A)
    Qm = Qm * np.sign(np.diag(Rm))
    if np.linalg.det(Qm) < 0:
        Qm[:, 0] = -Qm[:, 0]
    return Qm


@pytest.mark.parametrize("d", [2, 3, 5])
def test_kabsch_recovers_planted_rotation(d):
    rng = np.random.default_rng(d)
    Q = rng.normal(size=(20, d))
    R, t = _random_rotation(d, rng), rng.normal(size=d)
    fit = kabsch(Q @ R.T + t, Q)
    np.testing.assert_allclose(fit.rotation, R, atol=1e-12)
    np.testing.assert_allclose(fit.translation, t, atol=1e-12)
    assert np.linalg.det(fit.rotation) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(fit.rotation.T @ fit.rotation, np.eye(d), atol=1e-12)


def test_horn_recovers_planted_rotation():
    rng = np.random.default_rng(1)
    Q = rng.normal(size=(15, 3))
    R = Rotation.random(rng=rng).as_matrix()
    t = np.array([1.0, -2.0, 0.5])
    fit = horn_quaternion(Q @ R.T + t, Q)
    np.testing.assert_allclose(fit.rotation, R, atol=1e-12)
    np.testing.assert_allclose(fit.translation, t, atol=1e-12)


def test_noisy_rotation_agrees_with_scipy_align_vectors():
    rng = np.random.default_rng(2)
    Q = rng.normal(size=(30, 3))
    R = _random_rotation(3, rng)
    P = Q @ R.T + 0.1 * rng.normal(size=Q.shape) + 3.0
    Pc, Qc = P - P.mean(0), Q - Q.mean(0)
    scipy_rotation, rssd = Rotation.align_vectors(Pc, Qc)
    for fit in (kabsch(P, Q), horn_quaternion(P, Q)):
        np.testing.assert_allclose(fit.rotation, scipy_rotation.as_matrix(), atol=1e-8)
        # residual recomputed from the aligned points equals rssd**2 (a root of a SUM)
        residual = np.sum((P - fit.apply(Q)) ** 2)
        assert residual == pytest.approx(fit.residual, rel=1e-12)
        assert residual == pytest.approx(rssd**2, rel=1e-6)
    # MorphSeq's RMSE = rssd / sqrt(3 N); the per-point RMSD = rssd / sqrt(N)
    assert aligned_rmse(P, Q) == pytest.approx(rssd / np.sqrt(3 * len(P)), rel=1e-6)
    assert aligned_rmsd(P, Q) == pytest.approx(rssd / np.sqrt(len(P)), rel=1e-6)


@pytest.mark.parametrize("d", [2, 3, 5])
def test_allow_reflection_matches_orthogonal_procrustes(d):
    rng = np.random.default_rng(10 + d)
    P, Q = rng.normal(size=(12, d)), rng.normal(size=(12, d))
    Pc, Qc = P - P.mean(0), Q - Q.mean(0)
    oracle, _ = orthogonal_procrustes(Qc, Pc)
    np.testing.assert_allclose(kabsch(P, Q, allow_reflection=True).rotation, oracle.T, atol=1e-10)


def test_reflection_case_so3_cannot_undo_it_o3_can():
    rng = np.random.default_rng(3)
    P = rng.normal(size=(50, 3)) * [3.0, 2.0, 1.0]
    Q = P * [1.0, 1.0, -1.0]  # a PCA sign flip of the last axis
    initial = coordinate_rmse(P, Q)
    so3 = aligned_rmse(P, Q)
    assert so3 > 0.5 * initial
    assert aligned_rmse(P, Q, method="quaternion") == pytest.approx(so3, rel=1e-9)
    assert aligned_rmse(P, Q, allow_reflection=True) < 1e-12
    assert np.linalg.det(kabsch(P, Q, allow_reflection=True).rotation) == pytest.approx(-1.0)


def test_units_rmse_is_rmsd_over_sqrt3():
    rng = np.random.default_rng(4)
    P, Q = rng.normal(size=(40, 3)), rng.normal(size=(40, 3))
    assert aligned_rmse(P, Q) == pytest.approx(aligned_rmsd(P, Q) / np.sqrt(3), rel=1e-12)
    assert coordinate_rmse(P, Q) == pytest.approx(point_rmsd(P, Q) / np.sqrt(3), rel=1e-12)


def test_scale_is_recovered():
    rng = np.random.default_rng(5)
    Q = rng.normal(size=(20, 3))
    R = _random_rotation(3, rng)
    P = 2.5 * Q @ R.T + 1.0
    assert kabsch(P, Q, scale=True).scale == pytest.approx(2.5, abs=1e-10)
    assert horn_quaternion(P, Q, scale=True).scale == pytest.approx(2.5, abs=1e-10)


@pytest.mark.parametrize("seed", range(6))
def test_scale_falls_back_to_one_for_coincident_source_points(seed):
    # identical source points: centring leaves round-off (sum of squares ~1e-31),
    # which an exact "> 0" test let through, giving an arbitrary scale
    rng = np.random.default_rng(seed)
    point = rng.normal(scale=10.0 ** rng.integers(-3, 4), size=3)
    Q = np.tile(point, (12, 1)) + 0.0
    Q[::2] = np.nextafter(Q[::2], np.inf)  # one ulp apart: rounding noise only
    P = rng.normal(size=(12, 3))
    for fit in (kabsch(P, Q, scale=True), horn_quaternion(P, Q, scale=True)):
        assert fit.scale == 1.0
        np.testing.assert_allclose(fit.apply(Q).mean(axis=0), P.mean(axis=0), atol=1e-9)
    # a tiny but genuine spread is still scaled: spread 1e-8 of the magnitude
    Q_small = point + 1e-8 * np.abs(point).max() * rng.normal(size=(12, 3))
    P_small = 3.0 * Q_small
    assert kabsch(P_small, Q_small, scale=True).scale == pytest.approx(3.0, rel=1e-6)


def test_collinear_points_residual_is_zero_for_both_methods():
    t = np.linspace(0, 1, 6)[:, None]
    Q = t * np.array([[1.0, 2.0, 0.0]])
    P = t * np.array([[0.0, 0.0, np.sqrt(5.0)]]) + 1.0
    assert horn_quaternion(P, Q).residual < 1e-12
    assert kabsch(P, Q).residual < 1e-12


finite = st.floats(-10, 10, allow_nan=False, width=64)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 5), st.integers(3, 12), st.integers(0, 2**32 - 1))
def test_aligned_never_exceeds_initial(d, n, seed):
    rng = np.random.default_rng(seed)
    P, Q = rng.normal(size=(n, d)) * rng.uniform(0.1, 5), rng.normal(size=(n, d)) * rng.uniform(0.1, 5)
    assert aligned_rmse(P, Q) <= coordinate_rmse(P, Q) + 1e-12
    # no random proper rotation (with the optimal centroid shift) does better
    best = kabsch(P, Q).residual
    for _ in range(5):
        R = _random_rotation(d, rng)
        aligned = (Q - Q.mean(0)) @ R.T + P.mean(0)
        assert np.sum((P - aligned) ** 2) >= best - 1e-9


def test_invariance_to_rigid_motion_and_symmetry():
    rng = np.random.default_rng(6)
    P, Q = rng.normal(size=(25, 3)), rng.normal(size=(25, 3))
    base = aligned_rmse(P, Q)
    R1, R2 = _random_rotation(3, rng), _random_rotation(3, rng)
    assert aligned_rmse(P @ R1.T + 4.0, Q) == pytest.approx(base, abs=1e-9)
    assert aligned_rmse(P, Q @ R2.T - 2.0) == pytest.approx(base, abs=1e-9)
    assert aligned_rmse(Q, P) == pytest.approx(base, abs=1e-9)


def test_align_returns_the_aligned_source():
    Q = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    theta = 0.7
    R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    np.testing.assert_allclose(align(Q @ R.T + 1, Q), Q @ R.T + 1, atol=1e-12)


def test_bad_inputs():
    with pytest.raises(ValueError, match="same shape"):
        kabsch(np.zeros((4, 3)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="same shape"):
        kabsch(np.zeros((4, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="NaN"):
        kabsch(np.full((4, 3), np.nan), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="3-D only"):
        horn_quaternion(np.zeros((4, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="method must be"):
        align(np.zeros((4, 3)), np.zeros((4, 3)), method="lsq")
    with pytest.raises(ValueError, match="allow_reflection"):
        align(np.zeros((4, 3)), np.zeros((4, 3)), method="quaternion", allow_reflection=True)
