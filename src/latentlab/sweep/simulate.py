"""Synthetic developmental trajectories with known truth, for the sweep chapter and its tests.

Every perturbation follows a shared *trunk* up to the branch time, then leaves
it along its own direction (``wt`` continues the trunk). Embryos develop at
slightly different rates, sit at small offsets from their perturbation's
curve and are imaged at noisy stages between 10 and 40 hpf. Two outputs:

* :func:`simulate_trajectories` - high-dimensional "observations" (a random
  orthonormal map of the 3-D latent curves, a smooth warp and noise), the input
  of the small embedding models trained in :mod:`latentlab.sweep.models`;
* :func:`simulate_instance_pair` - ready-made *embeddings* of two model
  instances ("all" and "hld") with a prettiness knob ``b``, the held-out
  perturbations pulled towards wt, a random rigid motion and an optional
  reflection (a PCA sign flip). :func:`simulate_sweep` makes many of them.
  With the truth known, tests can check that every metric moves the right way.

Tables use MorphSeq's column names: ``embryo_id``, ``snip_id``, ``phenotype``,
``predicted_stage_hpf`` and feature columns ``z_mu_b_00``, ``z_mu_b_01``, ...
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial.transform import Rotation

from latentlab._validation import as_generator, check_in_range, check_integer, check_positive
from latentlab.curves.shapes import noisy_helix  # the benchmark curve, re-exported

__all__ = [
    "PERTURBATIONS",
    "HELD_OUT",
    "Trajectories",
    "latent_curve",
    "simulate_trajectories",
    "simulate_instance_pair",
    "simulate_sweep",
    "feature_columns",
    "noisy_helix",
]

#: The five perturbations of the MorphSeq sweep; wt continues the trunk.
PERTURBATIONS: tuple[str, ...] = ("wt", "wnt-i", "tgfb-i", "lmx1b", "gdf3")
#: The two perturbations the "hld" instances never see in training.
HELD_OUT: tuple[str, ...] = ("lmx1b", "gdf3")
STAGE_RANGE = (10.0, 40.0)


@dataclass(frozen=True)
class Trajectories:
    """Simulated frames: a MorphSeq-style table plus the truth behind it.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per frame: ``embryo_id``, ``snip_id``, ``phenotype``,
        ``predicted_stage_hpf`` and the feature columns.
    latent : ndarray of shape (n_frames, 3)
        The noise-free position on the perturbation's curve.
    tau : ndarray of shape (n_frames,)
        Developmental time in [0, 1] (after the embryo's rate).
    """

    table: pd.DataFrame
    latent: np.ndarray
    tau: np.ndarray


def feature_columns(table: pd.DataFrame) -> list[str]:
    """Feature columns, MorphSeq's rule: names containing ``"z_mu"`` and ``"b"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from latentlab.sweep.simulate import feature_columns
    >>> feature_columns(pd.DataFrame(columns=["embryo_id", "z_mu_b_00", "z_mu_n_00", "z_mu_b_01"]))
    ['z_mu_b_00', 'z_mu_b_01']
    """
    columns = [c for c in table.columns if "z_mu" in c and "b" in c.replace("embryo", "")]
    if not columns:
        raise ValueError("table has no feature columns (names containing 'z_mu' and 'b', e.g. 'z_mu_b_00')")
    return columns


def _branch_directions(n, angle_degrees):
    """Unit directions at ``angle`` from the trunk axis e1, spread evenly around it."""
    theta = np.radians(angle_degrees)
    phis = 2 * np.pi * np.arange(n) / max(n, 1)
    return np.column_stack([np.full(n, np.cos(theta)), np.sin(theta) * np.cos(phis), np.sin(theta) * np.sin(phis)])


def latent_curve(tau, perturbation_index: int, *, branch_time: float = 0.25, separation: float = 1.0,
                 angle: float = 40.0, n_perturbations: int = len(PERTURBATIONS)) -> np.ndarray:
    """True 3-D position at developmental time(s) ``tau`` for one perturbation.

    The trunk is ``c0(tau) = (4 tau, 0.6 sin(pi tau), 0)``; perturbation k > 0
    leaves it at ``branch_time`` along a direction at ``angle`` degrees from
    the trunk axis with speed ``4 * separation``, bending quadratically.
    Index 0 (wt) stays on the trunk.

    Examples
    --------
    >>> from latentlab.sweep.simulate import latent_curve
    >>> latent_curve([0.0, 0.25], 2).round(3).tolist() == latent_curve([0.0, 0.25], 0).round(3).tolist()
    True
    """
    tau = np.atleast_1d(np.asarray(tau, dtype=float))
    trunk = np.column_stack([4 * tau, 0.6 * np.sin(np.pi * tau), np.zeros_like(tau)])
    if perturbation_index == 0:
        return trunk
    directions = _branch_directions(n_perturbations - 1, angle)
    u = directions[perturbation_index - 1]
    v = np.cross(u, [1.0, 0.0, 0.0])
    v = v / np.linalg.norm(v)
    tb = np.minimum(tau, branch_time)
    base = np.column_stack([4 * tb, 0.6 * np.sin(np.pi * tb), np.zeros_like(tb)])
    after = np.maximum(tau - branch_time, 0.0)[:, None]
    return base + 4 * separation * after * u + 1.5 * after**2 * v


def _frames(n_embryos, n_frames, rate_sd, rng):
    rates = np.exp(rate_sd * rng.normal(size=n_embryos))
    stage = np.sort(rng.uniform(*STAGE_RANGE, size=(n_embryos, n_frames)), axis=1)
    tau = np.clip(rates[:, None] * (stage - STAGE_RANGE[0]) / (STAGE_RANGE[1] - STAGE_RANGE[0]), 0, 1)
    return stage, tau


def simulate_trajectories(
    n_embryos: int = 8,
    n_frames: int = 20,
    *,
    n_features: int = 16,
    noise: float = 0.15,
    embryo_offset: float = 0.1,
    rate_sd: float = 0.08,
    separation: float = 1.0,
    branch_time: float = 0.1,
    warp: float = 0.3,
    perturbations: tuple[str, ...] = PERTURBATIONS,
    rng: None | int | np.random.Generator = None,
) -> Trajectories:
    """Simulate high-dimensional frames of embryos of several perturbations.

    Parameters
    ----------
    n_embryos, n_frames : int
        Embryos per perturbation, frames per embryo.
    n_features : int
        Dimension of the observations (>= 3).
    noise, embryo_offset, rate_sd : float
        Frame noise sd, embryo offset sd (latent units), log-rate sd.
    separation : float
        Speed of the branches relative to the trunk.
    branch_time : float
        Developmental time (0-1, i.e. 10-40 hpf) at which the branches leave the trunk.
    warp : float
        Amplitude of a smooth sinusoidal warp of the observations.
    rng : None, int or numpy.random.Generator

    Returns
    -------
    Trajectories
        Features are named ``x_00``, ``x_01``, ... (raw observations, not embeddings).

    Examples
    --------
    >>> from latentlab.sweep.simulate import simulate_trajectories
    >>> data = simulate_trajectories(n_embryos=2, n_frames=3, rng=0)
    >>> data.table.shape, sorted(data.table.phenotype.unique())[:2]
    ((30, 20), ['gdf3', 'lmx1b'])
    """
    n_embryos = check_integer(n_embryos, "n_embryos", minimum=1)
    n_frames = check_integer(n_frames, "n_frames", minimum=2)
    n_features = check_integer(n_features, "n_features", minimum=3)
    check_positive(noise, "noise", strict=False)
    rng = as_generator(rng)
    basis, _ = np.linalg.qr(rng.normal(size=(n_features, 3)))
    frequencies = rng.normal(size=(n_features, n_features)) / np.sqrt(n_features)
    phases = rng.uniform(0, 2 * np.pi, n_features)
    rows, latents, taus, observations = [], [], [], []
    for k, name in enumerate(perturbations):
        stage, tau = _frames(n_embryos, n_frames, rate_sd, rng)
        for e in range(n_embryos):
            latent = latent_curve(tau[e], k, separation=separation, branch_time=branch_time,
                                  n_perturbations=len(perturbations))
            point = latent + embryo_offset * rng.normal(size=3)
            high = point @ basis.T
            high = high + warp * np.sin(high @ frequencies.T + phases) + noise * rng.normal(size=high.shape)
            observations.append(high)
            latents.append(latent)
            taus.append(tau[e])
            for f in range(n_frames):
                rows.append((f"{name}_{e:03d}", f"{name}_{e:03d}_t{f:03d}", name, float(stage[e, f])))
    table = pd.DataFrame(rows, columns=["embryo_id", "snip_id", "phenotype", "predicted_stage_hpf"])
    features = pd.DataFrame(np.vstack(observations), columns=[f"x_{j:02d}" for j in range(n_features)])
    return Trajectories(pd.concat([table, features], axis=1), np.vstack(latents), np.concatenate(taus))


def _embedding_table(latent, meta, n_dims, prettiness, basis, warp_freq, warp_phase, rng):
    ugly = 1.0 - prettiness
    high = latent @ basis.T
    high = high + ugly * 0.8 * np.sin(high @ warp_freq.T + warp_phase)
    high = high + (0.05 + 0.3 * ugly) * rng.normal(size=high.shape)
    columns = pd.DataFrame(high, columns=[f"z_mu_b_{j:02d}" for j in range(n_dims)])
    return pd.concat([meta.reset_index(drop=True), columns], axis=1)


def simulate_instance_pair(
    prettiness: float,
    *,
    separation: float = 1.0,
    n_embryos: int = 6,
    n_frames: int = 15,
    n_dims: int = 8,
    hold_out_pull: float = 0.6,
    reflect: bool = False,
    rng: None | int | np.random.Generator = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Embeddings of one model's two instances, "all" and "hld", with a known prettiness.

    Parameters
    ----------
    prettiness : float in [0, 1]
        The "beta-like" knob b: noise sd ``0.05 + 0.3 (1 - b)``, a sinusoidal
        warp of amplitude ``0.8 (1 - b)`` and early offsets between
        perturbations scaled by ``1 - b``. Larger b: straighter, more
        tree-like, more reproducible trajectories.
    separation : float
        Branch speed (the chapter's stand-in for the loss type).
    hold_out_pull : float
        The "hld" instance pulls lmx1b and gdf3 towards wt by ``(1 - b) * hold_out_pull``.
    reflect : bool
        Also reflect the "hld" embedding (a PCA sign flip) after its random rotation.

    Returns
    -------
    all_table, hld_table : pandas.DataFrame
        Same frames, different embeddings; the hld embedding is also moved by
        a random rigid motion.

    Examples
    --------
    >>> from latentlab.sweep.simulate import simulate_instance_pair
    >>> table_all, table_hld = simulate_instance_pair(0.8, rng=0)
    >>> table_all.shape == table_hld.shape, list(table_all.columns[:4])
    (True, ['embryo_id', 'snip_id', 'phenotype', 'predicted_stage_hpf'])
    """
    if not np.isfinite(prettiness):
        raise ValueError(f"prettiness must be a finite number in [0, 1], got {prettiness}")
    check_in_range(prettiness, "prettiness", 0.0, 1.0)
    n_embryos = check_integer(n_embryos, "n_embryos", minimum=1)
    rng = as_generator(rng)
    ugly = 1.0 - float(prettiness)
    rows, latents = [], []
    for k, name in enumerate(PERTURBATIONS):
        stage, tau = _frames(n_embryos, n_frames, 0.05, rng)
        early_offset = ugly * 0.5 * rng.normal(size=3)
        for e in range(n_embryos):
            latent = latent_curve(tau[e], k, separation=separation)
            latent = latent + early_offset * (1 - tau[e])[:, None] + 0.05 * rng.normal(size=3)
            latents.append(latent)
            rows += [(f"{name}_{e:03d}", f"{name}_{e:03d}_t{f:03d}", name, float(stage[e, f])) for f in range(n_frames)]
    meta = pd.DataFrame(rows, columns=["embryo_id", "snip_id", "phenotype", "predicted_stage_hpf"])
    latent = np.vstack(latents)
    basis, _ = np.linalg.qr(rng.normal(size=(n_dims, 3)))
    warp_freq, warp_phase = rng.normal(size=(n_dims, n_dims)) / np.sqrt(n_dims), rng.uniform(0, 2 * np.pi, n_dims)
    table_all = _embedding_table(latent, meta, n_dims, prettiness, basis, warp_freq, warp_phase, rng)
    wt_mean = latent[meta.phenotype.to_numpy() == "wt"].reshape(n_embryos, n_frames, 3).mean(axis=0)
    held = meta.phenotype.isin(HELD_OUT).to_numpy()
    pulled = latent.copy()
    pulled[held] += ugly * hold_out_pull * (np.tile(wt_mean, (len(HELD_OUT) * n_embryos, 1)) - latent[held])
    table_hld = _embedding_table(pulled, meta, n_dims, prettiness, basis, warp_freq, warp_phase, rng)
    features = feature_columns(table_hld)
    Z = table_hld[features].to_numpy()
    rotation = np.eye(n_dims)
    rotation[:3, :3] = Rotation.random(rng=rng).as_matrix()
    mixing, _ = np.linalg.qr(rng.normal(size=(n_dims, n_dims)))
    rotation = mixing @ rotation @ mixing.T
    if reflect:
        rotation = rotation @ np.diag([-1.0] + [1.0] * (n_dims - 1))
    table_hld[features] = Z @ rotation.T + rng.normal(scale=2.0, size=n_dims)
    return table_all, table_hld


def simulate_sweep(
    n_models: int,
    *,
    reflect_fraction: float = 0.0,
    rng: None | int | np.random.Generator = None,
    **kwargs,
) -> list[tuple[dict, pd.DataFrame, pd.DataFrame]]:
    """Many synthetic models: prettiness on a grid, two "loss types" (separations), seeds.

    Returns a list of ``(params, all_table, hld_table)`` with
    ``params = {"prettiness": b, "loss_type": 0 or 1, "reflect": bool}``.

    Examples
    --------
    >>> from latentlab.sweep.simulate import simulate_sweep
    >>> sweep = simulate_sweep(4, rng=0, n_embryos=2, n_frames=5)
    >>> [round(p["prettiness"], 2) for p, _, _ in sweep]
    [0.0, 0.33, 0.67, 1.0]
    """
    n_models = check_integer(n_models, "n_models", minimum=1)
    check_in_range(reflect_fraction, "reflect_fraction", 0.0, 1.0)
    rng = as_generator(rng)
    grid = np.linspace(0.0, 1.0, n_models) if n_models > 1 else np.array([0.5])
    models = []
    for i, b in enumerate(grid):
        loss_type = i % 2
        reflect = bool(rng.uniform() < reflect_fraction)
        pair = simulate_instance_pair(float(b), separation=1.0 if loss_type == 0 else 0.6, reflect=reflect,
                                      rng=rng, **kwargs)
        models.append(({"prettiness": float(b), "loss_type": loss_type, "reflect": reflect}, *pair))
    return models

