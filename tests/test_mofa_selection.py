"""Projection of new samples onto fitted MOFA factors; classifiers refitted inside folds."""

import numpy as np

from latentlab.mofa import MOFA, simulate_mofa
from latentlab.mofa.selection import cv_factor_classifier, project_samples


def test_projection_of_training_samples_reproduces_the_fitted_factors():
    sim = simulate_mofa(n_samples=80, view_sizes=(40, 30), rng=1)
    fit = MOFA(5, spike_slab=False, verbose=False, tol=1e-7).fit(sim.views, rng=0)
    Z = project_samples(fit, [v - v.mean(axis=0) + fit.offsets[n]
                              for v, n in zip(sim.views, fit.view_names)])
    # the same fixed-point equation as the Z update, up to the factor-by-factor sweep
    assert np.corrcoef(Z.ravel(), fit.factors.ravel())[0, 1] > 0.999
    # a sample missing from one view is projected from the other alone; from none: prior mean
    holey = [v.copy() for v in sim.views]
    holey[0][:3] = np.nan
    holey[1][:2] = np.nan
    Z_holey = project_samples(fit, holey)
    assert np.allclose(Z_holey[:2], 0) and np.all(np.isfinite(Z_holey))


def test_factor_classifier_refitted_inside_folds_predicts_a_factor_driven_label():
    sim = simulate_mofa(n_samples=90, view_sizes=(40, 30), rng=2)
    labels = (sim.factors[:, 0] > 0).astype(int)
    accuracy = cv_factor_classifier(sim.views, labels, 5, n_folds=3, rng=0, spike_slab=False)
    assert accuracy.shape == (3,) and accuracy.mean() > 0.85
    shuffled = np.random.default_rng(0).permutation(labels)
    chance = cv_factor_classifier(sim.views, shuffled, 5, n_folds=3, rng=0, spike_slab=False)
    assert chance.mean() < 0.75
