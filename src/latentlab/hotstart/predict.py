"""Prediction with frozen signatures: fit only λ, hot or cold, before an enrollment age.

With φ, γ and κ taken from a (master) :class:`~latentlab.hotstart.Checkpoint`
and frozen, the objective for a new batch is

    L(λ) = NLL(λ; φ, κ)/N + W · Q_λ(λ − m)/N,   m_ik(t) = r_k(t) + G_i γ_k  (healthy: −5),

with G standardised by the TRAINING mean and scale stored in the checkpoint.
A *hot* start puts λ at its genetic prior mean m (plus ``init_scale`` times a GP
draw); a *cold* start knows nothing: λ = 0 (uniform θ over all K+1
signatures) plus the same noise. Both optimise the same objective with Adam,
full batch, one step per epoch, as in the reference's prediction script.

For prediction from an enrollment age t_e the follow-up is cut at t_e − 1:
everything from age t_e on is unseen, so a risk window [t_e, t_e + k) holds no
training information and later data cannot change any prediction (no leakage).
After t_e only the GP prior acts on λ.

Reference behaviour
-------------------
The reference leaves λ after enrollment to Adam. Those entries feel only the
stiff GP term W·Q_λ/N; Adam's steps there oscillate and λ stays near its
starting value (the prior mean plus noise), so the prediction after t_e ignores
what the fit learned before t_e. That is the default here too
(``extrapolation="optimizer"``). With ``extrapolation="gp"`` the entries from
t_e on are set, after the Adam steps, to their exact minimiser of the objective
given the fitted past: the GP conditional mean m_f + K_fp K_pp⁻¹ (λ_p − m_p).
On our simulations this changed the AUC little and the forward NLL in either
direction; it is an option, not a fix.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np
import numpy.typing as npt
import torch
from scipy.linalg import cho_factor, cho_solve
from tqdm import tqdm

from latentlab._divergence import DivergenceError, DivergenceGuard
from latentlab._validation import as_generator, check_array, check_integer, check_positive, check_real
from latentlab.hotstart.checkpoints import Checkpoint
from latentlab.signatures.data import SurvivalData
from latentlab.signatures.device import resolve_device
from latentlab.signatures.fit import relative_change_met
from latentlab.signatures.gp import GaussianProcessPrior
from latentlab.signatures.likelihood import as_survival_tensors, signature_nll, signature_pi
from latentlab.signatures.objective import lambda_prior_mean

__all__ = ["LambdaFit", "FixedSignaturePredictor", "fit_lambda", "epochs_to_threshold", "predict_hazards"]


@dataclass(frozen=True)
class LambdaFit:
    """Result of a λ-only fit.

    Attributes
    ----------
    lam : ndarray of shape (N, K+1, T)
    history : tuple of float
        Objective L(λ) after each epoch (plain floats).
    nll_history : tuple of float
        NLL/N after each epoch (the data term alone, comparable across fits).
    n_iter : int
    converged : bool
        The relative stopping rule held before ``n_epochs`` (always False without ``tol``).
    init : {"hot", "cold"}
    wall_time : float
        Seconds spent in the fit.
    """

    lam: np.ndarray
    history: tuple[float, ...]
    nll_history: tuple[float, ...]
    n_iter: int
    converged: bool
    init: str
    wall_time: float


def epochs_to_threshold(history: Sequence[float], threshold: float) -> int | None:
    """Number of epochs until ``history`` first reaches ``threshold`` or below (None if never).

    Examples
    --------
    >>> from latentlab.hotstart import epochs_to_threshold
    >>> epochs_to_threshold([5.0, 3.0, 2.0, 1.0], 2.5), epochs_to_threshold([5.0], 1.0)
    (3, None)
    """
    history = check_array(history, "history", ndim=1, finite=False)
    if np.isnan(history).any():
        raise ValueError("history must not hold NaN")
    threshold = check_real(threshold, "threshold")
    for epoch, value in enumerate(history.tolist(), start=1):
        if value <= threshold:
            return epoch
    return None


def predict_hazards(checkpoint: Checkpoint, lam: npt.ArrayLike, *,
                    device: str | torch.device | None = None) -> np.ndarray:
    """Yearly hazards π = κ Σ_k softmax(λ)_k σ(φ_k), shape (N, D, T), from a checkpoint.

    Uses the checkpoint's φ and κ; computed on ``device`` (default CPU), returned
    as a float64 numpy array.
    """
    if not isinstance(checkpoint, Checkpoint):
        raise TypeError(f"checkpoint must be a Checkpoint, got {type(checkpoint).__name__}")
    shape = checkpoint.shape
    lam = check_array(lam, "lam", shape=(None, shape["n_signatures"], shape["n_times"]))
    return signature_pi(lam, checkpoint.phi, checkpoint.kappa, eps=1e-8, device=device)


class FixedSignaturePredictor:
    """λ-only fits against the frozen φ, γ, κ of a checkpoint.

    Parameters
    ----------
    checkpoint : Checkpoint
        Usually a pooled master (:func:`~latentlab.hotstart.pool_checkpoints`).
    init : {"hot", "cold"}
        Start λ at its genetic prior mean (hot) or at zero (cold).
    n_epochs : int
        Maximum Adam steps (200 in the reference; a hot start needs far fewer).
    learning_rate : float
    prior_weight : float
        W of the GP penalty (1e−4 in the reference).
    init_scale : float
        Scale of the GP draw added to the starting λ (0 for none).
    length_scale : float, optional
        λ's GP length scale; T/4 by default, as in the reference.
    tol : float, optional
        Stop by the relative rule of :func:`~latentlab.signatures.fit.relative_change_met`:
        the mean relative change per epoch of the objective over ``window``
        epochs is at most ``tol`` on ``patience`` consecutive epochs (the same
        rule as ``fit_signatures(rtol=...)``). ``None`` runs all ``n_epochs``.
    window, patience : int
        Options of that rule (10 and 3 by default).
    extrapolation : {"gp", "optimizer"}
        How λ after an enrollment cut is set: whatever Adam left there (the
        reference's behaviour; default) or the GP conditional mean given the
        fitted past (the exact minimiser of the objective for those entries).
    chunk_size : int, optional
        Individuals per chunk of the NLL (memory); default from the device
        (:func:`~latentlab.signatures.device.auto_chunk_size`).
    dtype : torch.dtype
        Precision of λ and the likelihood (float64 default; float32 roughly
        halves time and memory at biobank sizes). The GP algebra is float64.
    verbose : bool
        Show a tqdm progress bar.
    device : str or torch.device, optional
        Where the fits run (``"cpu"`` by default, ``"cuda"``, …); results are numpy.

    Attributes
    ----------
    frozen : dict of torch.Tensor
        φ, κ, γ and r as float64 tensors on ``device`` without gradients; a fit
        never changes them.

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.hotstart import Checkpoint, FixedSignaturePredictor
    >>> from latentlab.signatures.data import SurvivalData
    >>> phi = np.stack([np.full((3, 6), -1.0), np.full((3, 6), -6.0)])
    >>> ckpt = Checkpoint(phi=phi, psi=np.zeros((2, 3)), gamma=np.zeros((1, 1)),
    ...     kappa=1.0, prevalence_logit=np.zeros((3, 6)), reference_logit=np.zeros((1, 6)),
    ...     covariate_mean=np.zeros(1), covariate_scale=np.ones(1), signature_labels=("s0", "healthy"))
    >>> data = SurvivalData(E=np.full((4, 3), 5), event=np.zeros((4, 3), bool), G=np.zeros((4, 1)), n_times=6)
    >>> fit = FixedSignaturePredictor(ckpt, n_epochs=5).fit(data, rng=0)
    >>> fit.lam.shape, fit.n_iter, fit.history[-1] < fit.history[0]
    ((4, 2, 6), 5, True)
    """

    def __init__(
        self,
        checkpoint: Checkpoint,
        *,
        init: Literal["hot", "cold"] = "hot",
        n_epochs: int = 200,
        learning_rate: float = 0.1,
        prior_weight: float = 1e-4,
        init_scale: float = 0.1,
        length_scale: float | None = None,
        tol: float | None = None,
        window: int = 10,
        patience: int = 3,
        extrapolation: Literal["gp", "optimizer"] = "optimizer",
        chunk_size: int | None = None,
        dtype: torch.dtype = torch.float64,
        verbose: bool = False,
        device: str | torch.device | None = None,
    ) -> None:
        if not isinstance(checkpoint, Checkpoint):
            raise TypeError(f"checkpoint must be a Checkpoint, got {type(checkpoint).__name__}")
        if init not in ("hot", "cold"):
            raise ValueError(f"init must be 'hot' or 'cold', got {init!r}")
        self.checkpoint = checkpoint
        self.init = init
        self.n_epochs = check_integer(n_epochs, "n_epochs", minimum=1)
        self.learning_rate = check_positive(learning_rate, "learning_rate")
        self.prior_weight = check_positive(prior_weight, "prior_weight", strict=False)
        self.init_scale = check_positive(init_scale, "init_scale", strict=False)
        n_times = checkpoint.shape["n_times"]
        self.length_scale = check_positive(n_times / 4 if length_scale is None else length_scale, "length_scale")
        self.tol = None if tol is None else check_positive(tol, "tol")
        self.window = check_integer(window, "window", minimum=1)
        self.patience = check_integer(patience, "patience", minimum=1)
        if extrapolation not in ("gp", "optimizer"):
            raise ValueError(f"extrapolation must be 'gp' or 'optimizer', got {extrapolation!r}")
        self.extrapolation = extrapolation
        if chunk_size is not None:
            chunk_size = check_integer(chunk_size, "chunk_size", minimum=1)
        self.chunk_size = chunk_size
        self.device = resolve_device(device)
        self.verbose = bool(verbose)
        if dtype not in (torch.float32, torch.float64):
            raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
        self.dtype = dtype
        self.frozen = {
            name: torch.tensor(value, dtype=torch.float64, device=self.device)
            for name, value in (
                ("phi", checkpoint.phi), ("kappa", checkpoint.kappa),
                ("gamma", checkpoint.gamma), ("reference", checkpoint.reference_logit),
            )
        }
        self._prior = GaussianProcessPrior(n_times=n_times, length_scale=self.length_scale)

    def prior_mean(self, covariates: npt.ArrayLike) -> torch.Tensor:
        """λ's prior mean (N, K+1, T) for RAW covariates, standardised with the training statistics."""
        G = torch.tensor(self.checkpoint.standardise(covariates), dtype=torch.float64,
                         device=self.device)
        return lambda_prior_mean(G, self.frozen["gamma"], self.frozen["reference"], self.checkpoint.healthy_mean)

    def fit(
        self,
        data: SurvivalData,
        *,
        enrollment: int | npt.ArrayLike | None = None,
        rng: None | int | np.random.Generator = None,
    ) -> LambdaFit:
        """Fit λ for every person of ``data``; φ, γ, κ stay frozen.

        Parameters
        ----------
        data : SurvivalData
            The new batch, with RAW covariates G (standardised here with the
            checkpoint's training statistics, never re-standardised).
        enrollment : int or int array of shape (N,), optional
            Enrollment age index t_e ≥ 1 (per person or shared). Follow-up is
            cut at t_e − 1 before fitting.
        rng : None, int or numpy.random.Generator
            Seeds the GP noise of the starting λ.

        Raises
        ------
        ValueError
            If D, T or P of the data differ from the checkpoint's.
        DivergenceError
            If the objective becomes non-finite or explodes (the learning rate and
            the epoch are named); ``last_good`` holds the :class:`LambdaFit` of the
            last good epoch (``converged=False``).
        """
        if not isinstance(data, SurvivalData):
            raise TypeError(f"data must be a SurvivalData, got {type(data).__name__}")
        self.checkpoint.check_compatible(n_diseases=data.n_diseases, n_times=data.n_times,
                                         n_covariates=data.n_covariates)
        cut = None
        if enrollment is not None:
            cut = np.asarray(enrollment)
            if not np.issubdtype(cut.dtype, np.integer) or cut.size == 0 or cut.min() < 1 or cut.max() > data.n_times:
                raise ValueError(
                    f"enrollment must hold integer age indices in [1, {data.n_times}], got {enrollment!r}"
                )
            data = data.capped(cut - 1)
        N = data.n_individuals
        E, event = as_survival_tensors(np.array(data.E), np.array(data.event),
                                       device=self.device)
        mean = self.prior_mean(data.G)
        noise = self._prior.draw((N, mean.shape[1]), rng=as_generator(rng)) * self.init_scale
        noise = torch.from_numpy(noise).to(mean.device)
        start = (mean if self.init == "hot" else torch.zeros_like(mean)) + noise
        lam = start.to(self.dtype).clone().requires_grad_(True)
        optimiser = torch.optim.Adam([lam], lr=self.learning_rate)
        phi, kappa = self.frozen["phi"].to(self.dtype), self.frozen["kappa"].to(self.dtype)
        # the NLL involves ages t <= E only: drop later ages from it (exact; after an
        # enrollment cut this skips most of the grid); the GP term still sees all T ages
        observed = int(data.E.max()) + 1 if N else data.n_times
        phi_seen = phi[:, :, :observed].contiguous()
        history: list[float] = []
        nll_history: list[float] = []
        converged = False
        began = time.perf_counter()
        n_clamped = 0
        guard = DivergenceGuard(f"λ-only fit ({self.init})", learning_rate=self.learning_rate)
        good = torch.empty_like(lam)
        for epoch in tqdm(range(self.n_epochs), disable=not self.verbose, desc=f"λ-only ({self.init})"):
            optimiser.zero_grad()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", RuntimeWarning)
                nll = signature_nll(lam[:, :, :observed], phi_seen, kappa, E, event,
                                    chunk_size=self.chunk_size, eps=1e-8)
            n_clamped += sum(1 for w in caught if "clamp binds" in str(w.message))
            q_lambda = self._prior.quadratic_form_torch(lam.to(torch.float64) - mean)
            loss = nll.to(torch.float64) / N + self.prior_weight * q_lambda / N
            value = float(loss.detach())
            try:
                guard.check(epoch, value)
            except DivergenceError as error:
                if error.last_good is not None:  # the LambdaFit of the last good epoch
                    error.last_good = LambdaFit(
                        lam=good.detach().to("cpu", torch.float64).numpy().copy(),
                        history=tuple(history),
                        nll_history=tuple(nll_history), n_iter=len(history), converged=False,
                        init=self.init, wall_time=time.perf_counter() - began)
                raise
            with torch.no_grad():
                good.copy_(lam)
            guard.keep(epoch, good)
            loss.backward()
            optimiser.step()
            history.append(value)
            nll_history.append(float(nll.detach()) / N)
            if self.tol is not None and relative_change_met(history, self.tol, self.window,
                                                            self.patience):
                converged = True
                break
        if n_clamped:
            warnings.warn(
                f"κ Σθσ(φ) exceeded 1 in {n_clamped} of {len(history)} epochs (the clamp binds; "
                "its gradient is straight-through, taken at the clamped value); a large "
                "pooled κ is the usual cause",
                RuntimeWarning,
                stacklevel=2,
            )
        lam_out = lam.detach().to(device="cpu", dtype=torch.float64).numpy().copy()
        if cut is not None and self.extrapolation == "gp":
            lam_out = self._extrapolate(lam_out, mean.cpu().numpy(),
                                        np.broadcast_to(cut, (N,)))
        return LambdaFit(
            lam=lam_out, history=tuple(history), nll_history=tuple(nll_history),
            n_iter=len(history), converged=converged, init=self.init,
            wall_time=time.perf_counter() - began,
        )

    def _extrapolate(self, lam: np.ndarray, mean: np.ndarray, cut: np.ndarray) -> np.ndarray:
        """Set λ from each person's cut on to the GP conditional mean given the entries before it."""
        kernel = self._prior.kernel
        n_sig, T = lam.shape[1], lam.shape[2]
        for c in np.unique(cut):
            c = int(c)
            if c >= T:
                continue
            rows = np.flatnonzero(cut == c)
            past = (lam[rows, :, :c] - mean[rows, :, :c]).reshape(-1, c)
            weights = cho_solve(cho_factor(kernel[:c, :c], lower=True), kernel[:c, c:])  # K_pp⁻¹ K_pf
            future = (past @ weights).reshape(rows.size, n_sig, T - c)
            lam[rows, :, c:] = mean[rows, :, c:] + future
        return lam


def fit_lambda(checkpoint: Checkpoint, data: SurvivalData, *, enrollment=None, rng=None, **options) -> LambdaFit:
    """Shortcut for ``FixedSignaturePredictor(checkpoint, **options).fit(data, enrollment=..., rng=...)``."""
    return FixedSignaturePredictor(checkpoint, **options).fit(data, enrollment=enrollment, rng=rng)
