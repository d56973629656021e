"""Re-anchoring (our extension) and modified Jaccard (latentlab.hotstart.transfer)."""

import numpy as np
import pytest

from latentlab.hotstart import anchor_offsets, modified_jaccard, reanchor, signature_disease_sets


def test_reanchor_keeps_offsets_and_moves_the_anchor():
    rng = np.random.default_rng(0)
    mu_a, mu_b = rng.normal(-5, 1, (4, 6)), rng.normal(-4, 1, (4, 6))
    delta = rng.normal(size=(3, 4, 6))
    phi_b = reanchor(mu_a[None] + delta, mu_a, mu_b)
    np.testing.assert_allclose(anchor_offsets(phi_b, mu_b), delta, atol=1e-12)
    np.testing.assert_allclose(phi_b - mu_b[None], delta, atol=1e-12)
    # re-anchoring onto the same cohort is the identity
    phi_a = mu_a[None] + delta
    np.testing.assert_allclose(reanchor(phi_a, mu_a, mu_a), phi_a, atol=1e-12)


def test_reanchor_rejects_mismatched_prevalence():
    with pytest.raises(ValueError, match="prevalence_logit_target must have shape"):
        reanchor(np.zeros((2, 3, 4)), np.zeros((3, 4)), np.zeros((3, 5)))
    with pytest.raises(ValueError, match="prevalence_logit must have shape"):
        anchor_offsets(np.zeros((2, 3, 4)), np.zeros(3))


def test_modified_jaccard_known_answer_and_asymmetry():
    a = [[0, 1, 2, 3], [4, 5], []]
    b = [[4, 5, 6, 7, 8], [0, 1]]
    res = modified_jaccard(a, b)
    assert res.scores[:2].tolist() == [0.5, 1.0]
    assert res.best_match.tolist() == [1, 0, -1]
    assert np.isnan(res.scores[2])
    assert res.median == 0.75
    back = modified_jaccard(b, a)
    assert back.scores.tolist() == [0.4, 1.0]


def test_modified_jaccard_permutation_of_labels_gives_one():
    sets = [np.array([0, 3]), np.array([1, 2, 5]), np.array([4])]
    res = modified_jaccard(sets, sets[::-1])
    assert res.scores.tolist() == [1.0, 1.0, 1.0]
    assert res.best_match.tolist() == [2, 1, 0]
    with pytest.raises(ValueError, match="outside 0..4"):
        modified_jaccard([[0, 7]], [[0]], n_diseases=5)


def test_signature_disease_sets_ignore_healthy_row():
    psi = np.array([[1.0, -2, -2, 1], [-2, 1, 0.5, -2], [5, 5, 5, 5]])
    sets = signature_disease_sets(psi)
    assert [s.tolist() for s in sets] == [[0, 3], [1, 2]]
    strict = signature_disease_sets(psi, min_psi=0.8)
    assert [s.tolist() for s in strict] == [[0, 3], [1]]
