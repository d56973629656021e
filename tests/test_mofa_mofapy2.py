"""Cross-check against the reference implementation, mofapy2 (design note oracles 1, 2, 5).

mofapy2 prints a lot, silences warnings process-wide on import and reseeds
numpy's global RNG; all of it is contained here (output captured, warning
filters restored).
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pytest

from latentlab.mofa import MOFA, match_factors, simulate_mofa, variance_explained
from latentlab.mofa.data import prepare_views
from latentlab.mofa.inference import Options, State, ViewState, elbo_terms, sweep


@contextlib.contextmanager
def _quiet():
    buffer = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        yield buffer


with _quiet():
    mofapy2 = pytest.importorskip("mofapy2")
    from mofapy2.run.entry_point import entry_point


@pytest.fixture(scope="module")
def simulated():
    return simulate_mofa(n_samples=200, view_sizes=(500, 300), rng=0)


@pytest.fixture(scope="module")
def reference(simulated):
    with _quiet():
        ent = entry_point()
        ent.set_data_options(scale_views=False, center_groups=True)
        ent.set_data_matrix([[v] for v in simulated.views], likelihoods=["gaussian", "gaussian"])
        ent.set_model_options(factors=10, spikeslab_weights=True, ard_weights=True)
        ent.set_train_options(iter=1000, convergence_mode="fast", seed=1, verbose=False, quiet=True)
        ent.build()
        ent.run()
    return ent.model


@pytest.fixture(scope="module")
def ours(simulated):
    return MOFA(10, verbose=False).fit(simulated.views, rng=1)


def _node(model, name, m=None):
    node = model.getNodes()[name]
    return node if m is None else node.getNodes()[m]


def _state_from_reference(model, data) -> State:
    Z = _node(model, "Z").Q.getParameters()
    state = State(Z_mean=Z["mean"].copy(), Z_var=Z["var"].copy())
    for m, view in enumerate(data):
        W = _node(model, "W", m).Q.getParameters()
        alpha = _node(model, "AlphaW", m).Q.getParameters()
        theta = _node(model, "ThetaW", m).Q.getParameters()
        tau = _node(model, "Tau", m).Q.getParameters()
        D = view.Y.shape[1]
        state.views.append(ViewState(
            mu=W["mean_B1"].copy(), var=W["var_B1"].copy(), gamma=W["theta"].copy(),
            spike_var=np.broadcast_to(W["var_B0"], W["mean_B1"].shape)[0].copy(),
            alpha_a=np.ravel(alpha["a"]).copy(), alpha_b=np.ravel(alpha["b"]).copy(),
            theta_a=np.ravel(theta["a"]).copy(), theta_b=np.ravel(theta["b"]).copy(),
            tau_a=np.broadcast_to(tau["a"], (1, D))[0].copy(), tau_b=np.broadcast_to(tau["b"], (1, D))[0].copy(),
            Y=view.Y))
    return state


def test_centred_data_equal_reference(reference, simulated):
    data, _ = prepare_views(simulated.views)
    for m, view in enumerate(data):
        theirs = _node(reference, "Y", m).getExpectation()
        np.testing.assert_allclose(view.Y, theirs, rtol=0, atol=1e-12)


def test_elbo_terms_equal_reference_on_its_fitted_parameters(reference, simulated):
    data, _ = prepare_views(simulated.views)
    state = _state_from_reference(reference, data)
    ours_terms = elbo_terms(data, state, Options())
    with _quiet():
        theirs = reference.calculateELBO()
    for name in ("Z", "W", "AlphaW", "ThetaW"):
        assert ours_terms[name] == pytest.approx(float(theirs[name]), rel=1e-10), name
    # mofapy2 reports the likelihood inside its Tau node ("TauTrick")
    assert ours_terms["Y"] + ours_terms["Tau"] == pytest.approx(float(theirs["Tau"]) + float(theirs.get("Y", 0.0)), rel=1e-10)
    assert sum(ours_terms.values()) == pytest.approx(float(theirs["total"]), rel=1e-10)


def test_one_sweep_equals_reference_sweep(reference, simulated):
    data, _ = prepare_views(simulated.views)
    state = _state_from_reference(reference, data)
    # mofapy2 has no scale step (latentlab.mofa.expansion): compare the sweeps without it
    sweep(data, state, Options(start_sparsity=1, rescale=False), iteration=1000)
    with _quiet():
        for name in ("Y", "W", "AlphaW", "ThetaW", "Z", "Tau"):
            reference.getNodes()[name].update()
    after = _state_from_reference(reference, data)
    np.testing.assert_allclose(state.Z_mean, after.Z_mean, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(state.Z_var, after.Z_var, rtol=1e-10)
    for ours_view, theirs_view in zip(state.views, after.views):
        for name in ("mu", "var", "gamma", "alpha_a", "alpha_b", "theta_a", "theta_b", "tau_a", "tau_b"):
            np.testing.assert_allclose(getattr(ours_view, name), getattr(theirs_view, name),
                                       rtol=1e-10, atol=1e-12, err_msg=name)


def test_variance_explained_matches_reference_definition(reference, simulated):
    data, _ = prepare_views(simulated.views)
    with _quiet():
        theirs_per_factor = reference.calculate_variance_explained()[0]  # group 0: (M, K)
        theirs_total = reference.calculate_variance_explained(total=True)[0]
    Z = _node(reference, "Z").getExpectation()
    weights = [_node(reference, "W", m).getExpectation() for m in range(2)]
    views = [np.where(v.observed, v.Y, np.nan) for v in data]
    per_factor, total = variance_explained(views, Z, weights)
    np.testing.assert_allclose(per_factor, theirs_per_factor, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(total, theirs_total, rtol=1e-10, atol=1e-12)
    # the definition itself, entry by entry
    for m, Y in enumerate(views):
        for k in range(Z.shape[1]):
            residual = Y - np.outer(Z[:, k], weights[m][:, k])
            expected = 1 - np.nansum(residual**2) / np.nansum(Y**2)
            assert per_factor[m, k] == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_fit_agrees_with_reference(reference, ours, simulated):
    data, _ = prepare_views(simulated.views)
    with _quiet():
        theirs_elbo = float(reference.calculateELBO()["total"])
    assert ours.elbo == pytest.approx(theirs_elbo, rel=1e-3)
    Z = _node(reference, "Z").getExpectation()
    weights = [_node(reference, "W", m).getExpectation() for m in range(2)]
    views = [np.where(v.observed, v.Y, np.nan) for v in data]
    theirs_per_factor, theirs_total = variance_explained(views, Z, weights)
    np.testing.assert_allclose(100 * ours.r2_total, 100 * theirs_total, atol=0.5)
    active = np.flatnonzero(theirs_per_factor.max(axis=0) > 0.01)
    index, corr = match_factors(Z[:, active], ours.factors)
    assert np.all(np.abs(corr) > 0.95)
    np.testing.assert_allclose(100 * ours.r2_per_factor[:, index], 100 * theirs_per_factor[:, active], atol=1.0)
