"""The alternating latent/parameter loop ("AIP") with a temperature schedule.

Each round: sweep the latent assignments z given (θ, π), then move (θ, π)
given z. In standard terms this is data augmentation (Gibbs within
Metropolis); with a temperature schedule below 1 on the z-sweep it becomes a
simulated-annealing search. Modes:

- ``"exact"`` (default, T = 1): Gibbs-draw z; draw π[:, s] | z ~ Dirichlet(α + n_{·,s});
  a few random-walk MH steps on logit θ | z (Jacobian included). A valid posterior sampler.
- ``"anneal"``: as exact, but z is drawn ∝ p(z | θ, π)^(1/T_r) with the reference's
  linear schedule 1.05 → 0.05: a MAP search, not a sampler.
- ``"faithful"``: the reference loop, K = 2: the 2-way MH switch at T_r, then emcee steps
  on p(θ, π | z) with one persistent sampler; the state becomes one walker's last position.

Reference behaviour (lymixture ``aip_sampling_algorithm``): never ran end to end as
committed (a list replaced by an ndarray, legacy ``.rand`` calls on a Generator).
Its composite kernel (one walker drives z, then the whole ensemble moves) does not in
general leave the joint posterior invariant; ``"exact"`` avoids this.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from latentlab._divergence import DivergenceGuard
from latentlab._lse import logsumexp
from latentlab._validation import (
    as_generator,
    check_array,
    check_integer,
    check_positive,
    check_probabilities,
    check_same_length,
)
from latentlab.mcmc.ensemble import run_emcee
from latentlab.mcmc.latent import gibbs_latent, log_joint, mh_swap_sampler
from latentlab.mcmc.targets import ConditionalTarget, alr_from_simplex, simplex_from_alr
from latentlab.mixture import align_components, encode_subgroups

__all__ = ["AIPResult", "aip_sample", "linear_schedule", "relabel_samples"]


@dataclass(frozen=True)
class AIPResult:
    """Outputs of :func:`aip_sample` (reference key names), R = ``n_rounds``.

    params_samples : (R + 1, K, P) θ, the start then one per round
    weight_samples : (R + 1, K, S) π
    latent_samples : (R + 1, N) integer assignments
    complete_logliks, incomplete_logliks : (R,) tuples of float
    number_of_swaps : (R − 1,) tuple of int, changed assignments between consecutive rounds
    temperatures : (R,) tuple of float; acceptance_rate : float (θ moves); mode : str
    """

    params_samples: np.ndarray
    weight_samples: np.ndarray
    latent_samples: np.ndarray
    complete_logliks: tuple
    incomplete_logliks: tuple
    number_of_swaps: tuple
    temperatures: tuple
    acceptance_rate: float
    mode: str


def linear_schedule(n_rounds: int) -> np.ndarray:
    """The reference's schedule T_r = 1 − r/n_rounds + 0.05 (1.05 → ≈0.05).

    Examples
    --------
    >>> linear_schedule(4).round(2).tolist()
    [1.05, 0.8, 0.55, 0.3]
    """
    n = check_integer(n_rounds, "n_rounds", minimum=1)
    return 1.0 - np.arange(n) / n + 0.05


def relabel_samples(params_samples: np.ndarray, weight_samples: np.ndarray, reference: np.ndarray):
    """Undo label switching: permute each sample's components to best match ``reference`` (K, P).

    Returns relabelled copies of ``params_samples`` (R, K, P) and ``weight_samples`` (R, K, S).

    Examples
    --------
    >>> th = np.array([[[0.1], [0.9]], [[0.8], [0.2]]])
    >>> w = np.array([[[0.3], [0.7]], [[0.6], [0.4]]])
    >>> new_th, new_w = relabel_samples(th, w, np.array([[0.0], [1.0]]))
    >>> new_th[:, :, 0].tolist(), new_w[:, :, 0].tolist()
    ([[0.1, 0.9], [0.2, 0.8]], [[0.3, 0.7], [0.4, 0.6]])
    """
    params_samples = check_array(params_samples, "params_samples", ndim=3)
    weight_samples = check_array(weight_samples, "weight_samples", ndim=3)
    check_same_length({"params_samples": params_samples, "weight_samples": weight_samples})
    reference = check_array(reference, "reference", shape=params_samples.shape[1:])
    if weight_samples.shape[1] != params_samples.shape[1]:
        raise ValueError(f"weight_samples must have K = {params_samples.shape[1]} components, "
                         f"got shape {weight_samples.shape}")
    perms = np.array([align_components(theta, reference) for theta in params_samples])
    rows = np.arange(len(perms))[:, None]
    return params_samples[rows, perms], weight_samples[rows, perms]


def _theta_steps(component, data, z, theta, ll, n_steps, scale, prior, gen):
    """Random-walk MH on logit θ_k | z, all components at once; returns θ, ll, accepted moves."""
    K, P = theta.shape
    a, b = prior
    onehot = np.eye(K)[z].astype(bool)  # (N, K)

    def log_target(th, lik):  # Σ_{i: z_i = k} ll_ik + Beta prior + logit Jacobian, per component
        data_term = np.where(onehot, lik, 0.0).sum(axis=0)
        return data_term + np.sum(a * np.log(th) + b * np.log1p(-th), axis=1)

    current = log_target(theta, ll)
    accepted = 0
    for _ in range(n_steps):
        proposal = expit(logit(theta) + scale * gen.standard_normal((K, P)))
        proposal = np.clip(proposal, 1e-12, 1 - 1e-12)
        ll_new = component.log_likelihoods(proposal, data)
        with np.errstate(invalid="ignore"):
            proposed = log_target(proposal, ll_new)
        accept = np.log(gen.random(K)) < np.nan_to_num(proposed - current, nan=-np.inf)
        theta = np.where(accept[:, None], proposal, theta)
        ll = np.where(accept[None, :], ll_new, ll)
        current = np.where(accept, proposed, current)
        accepted += int(accept.sum())
    return theta, ll, accepted


@threadpool_limits.wrap(limits=1, user_api="blas")  # many tiny products: BLAS threads only contend
def aip_sample(component, X, subgroups, n_components: int, *, stage=None, n_rounds: int = 200,
               mode: str = "exact", temperatures=None, n_param_steps: int = 5, proposal_scale: float = 0.2,
               alpha: float = 1.0, prior=(1.0, 1.0), init_thetas=None, init_weights=None,
               update_weights: bool = True, rng=None, verbose: bool = False) -> AIPResult:
    """Alternate latent sweeps and parameter moves for ``n_rounds`` rounds (see module notes).

    ``temperatures`` (length ``n_rounds``) overrides the mode's schedule (exact: all 1;
    anneal and faithful: :func:`linear_schedule`). ``update_weights=False`` keeps π fixed
    at ``init_weights`` (exact mode then samples p(θ | x, π), the fixed-mixture posterior).
    Raises :class:`~latentlab.DivergenceError` if the incomplete log-likelihood becomes
    non-finite or collapses by orders of magnitude; its ``last_good`` is
    ``{"thetas", "weights", "latent"}`` of the last good round (0: the start).

    Examples
    --------
    >>> from latentlab.mixture import BernoulliComponent, simulate_mixture
    >>> comp = BernoulliComponent(2)
    >>> X, z, _ = simulate_mixture(comp, [[0.9, 0.8], [0.1, 0.2]], [[1.0, 0.0], [0.0, 1.0]], [30, 30], rng=0)
    >>> res = aip_sample(comp, X, [0] * 30 + [1] * 30, 2, n_rounds=20, rng=1)
    >>> res.params_samples.shape, len(res.complete_logliks), len(res.number_of_swaps)
    ((21, 2, 2), 20, 19)
    """
    if mode not in ("exact", "anneal", "faithful"):
        raise ValueError(f"mode must be 'exact', 'anneal' or 'faithful', got {mode!r}")
    K = check_integer(n_components, "n_components", minimum=1)
    R = check_integer(n_rounds, "n_rounds", minimum=2)
    check_integer(n_param_steps, "n_param_steps", minimum=1)
    check_positive(proposal_scale, "proposal_scale")
    check_positive(alpha, "alpha")
    if mode == "faithful" and K != 2:
        raise ValueError(f"mode='faithful' reproduces the reference's 2-way switch and needs n_components=2, got {K}")
    gen = as_generator(rng)
    data = component.prepare(X, stage)
    index, labels = encode_subgroups(subgroups)
    n_patients = data.shape[0] if isinstance(data, np.ndarray) else data.n_patients
    if len(index) != n_patients:
        raise ValueError(f"subgroups must have one label per patient ({n_patients}), got {len(index)}")
    if K > n_patients:
        raise ValueError(f"n_components must be <= the number of patients ({n_patients}), got {K}")
    prior = check_array(prior, "prior", shape=(2,))
    if np.any(prior <= 0):
        raise ValueError(f"prior must hold two Beta shape parameters > 0, got {prior.tolist()}")
    if not update_weights and init_weights is None:
        raise ValueError("update_weights=False keeps π fixed at init_weights; pass init_weights")
    S = len(labels)
    if temperatures is None:
        temperatures = np.ones(R) if mode == "exact" else linear_schedule(R)
    temperatures = check_array(temperatures, "temperatures", shape=(R,))
    if np.any(temperatures <= 0):
        raise ValueError(f"temperatures must all be > 0, got a minimum of {temperatures.min():g}")
    theta = component.init_params(K, gen) if init_thetas is None else check_probabilities(init_thetas, "init_thetas")
    if theta.shape != (K, component.n_params):
        raise ValueError(f"init_thetas must have shape (K, P) = ({K}, {component.n_params}), got {theta.shape}")
    weights = np.full((K, S), 1.0 / K) if init_weights is None else check_probabilities(
        init_weights, "init_weights", sums_to_one_axis=0)
    if weights.shape != (K, S):
        raise ValueError(f"init_weights must have shape (K, S) = ({K}, {S}), got {weights.shape}")
    ll = component.log_likelihoods(theta, data)
    z = gen.integers(0, K, size=len(index)) if mode == "faithful" else gibbs_latent(log_joint(ll, weights, index), gen)
    thetas, weight_list, latents = [theta.copy()], [weights.copy()], [z.copy()]
    complete, incomplete, swaps = [], [], []
    accepted = proposed = 0
    target = sampler = None
    if mode == "faithful":
        target = ConditionalTarget(component, data, index, K, z, alpha=alpha, prior=prior)
    guard = DivergenceGuard(f"aip_sample ({mode})", maximise=True, unit="round")
    guard.keep(0, {"thetas": theta.copy(), "weights": weights.copy(), "latent": z.copy()})
    for r in tqdm(range(R), disable=not verbose, desc=f"AIP ({mode})"):
        joint = log_joint(ll, weights, index)
        if mode == "faithful":
            z, _ = mh_swap_sampler(z, joint, gen, temperature=float(temperatures[r]))
            target.set_latent(z)
            start = np.concatenate([theta.ravel(), alr_from_simplex(np.clip(weights, 1e-12, 1)).ravel()])
            run = run_emcee(target, start, n_param_steps, sampler=sampler, rng=gen,
                            bounds=np.vstack([np.tile([0.0, 1.0], (K * component.n_params, 1)),
                                              np.tile([-50.0, 50.0], ((K - 1) * S, 1))]))
            sampler = run.sampler
            walker = gen.integers(run.chain.shape[1])
            last = run.chain[-1, walker]
            theta = last[: theta.size].reshape(theta.shape)
            weights = simplex_from_alr(last[theta.size:].reshape(K - 1, S))
            ll = component.log_likelihoods(theta, data)
            accepted += float(run.acceptance_fraction.mean()) * n_param_steps
            proposed += n_param_steps
        else:
            z = gibbs_latent(joint, gen, temperature=float(temperatures[r]))
            if update_weights:
                counts = np.zeros((K, S))
                np.add.at(counts, (z, index), 1.0)
                weights = np.column_stack([gen.dirichlet(alpha + counts[:, s]) for s in range(S)])
            theta, ll, n_acc = _theta_steps(component, data, z, theta, ll, n_param_steps, proposal_scale, prior, gen)
            accepted += n_acc
            proposed += n_param_steps * K
        joint = log_joint(ll, weights, index)
        picked = joint[np.arange(len(z)), z]
        complete.append(float(np.sum(picked)))
        incomplete.append(float(logsumexp(joint, axis=1).sum()))
        guard.check(r + 1, incomplete[-1])
        guard.keep(r + 1, {"thetas": theta.copy(), "weights": weights.copy(), "latent": z.copy()})
        if r > 0:
            swaps.append(int(np.sum(z != latents[-1])))
        thetas.append(theta.copy())
        weight_list.append(weights.copy())
        latents.append(z.copy())
    return AIPResult(
        params_samples=np.array(thetas), weight_samples=np.array(weight_list), latent_samples=np.array(latents),
        complete_logliks=tuple(complete), incomplete_logliks=tuple(incomplete), number_of_swaps=tuple(swaps),
        temperatures=tuple(float(t) for t in temperatures), acceptance_rate=float(accepted / max(proposed, 1)),
        mode=mode,
    )
