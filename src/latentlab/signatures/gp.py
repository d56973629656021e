"""Float64 squared-exponential GP priors over the age grid.

The signature model puts a zero-mean GP on every deviation trajectory δ (one
per person and signature for λ, one per signature and disease for φ) and uses
only the quadratic form Q = ½ Σ δᵀ K⁻¹ δ (no log-determinant, no constants).
Everything here is float64 and goes through one Cholesky factor per kernel;
no matrix is ever inverted explicitly with ``inv``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import torch
from scipy.linalg import cho_factor, cho_solve

from latentlab._validation import as_generator, check_array, check_integer, check_positive

__all__ = ["squared_exponential_kernel", "GaussianProcessPrior"]


def squared_exponential_kernel(
    n_times: int, length_scale: float, *, amplitude: float = 1.0, jitter: float = 1e-6
) -> npt.NDArray[np.float64]:
    """Squared-exponential kernel on the grid 0 … T−1, plus jitter on the diagonal.

    K_st = amplitude² · exp(−(s − t)² / (2 ℓ²)) + jitter · [s = t].

    Examples
    --------
    >>> from latentlab.signatures import squared_exponential_kernel
    >>> K = squared_exponential_kernel(3, 1.0, jitter=0.0)
    >>> np.round(K[0], 3).tolist()
    [1.0, 0.607, 0.135]
    """
    n_times = check_integer(n_times, "n_times", minimum=1)
    length_scale = check_positive(length_scale, "length_scale")
    amplitude = check_positive(amplitude, "amplitude")
    jitter = check_positive(jitter, "jitter", strict=False)
    grid = np.arange(n_times, dtype=np.float64)
    diff = grid[:, None] - grid[None, :]
    return amplitude**2 * np.exp(-0.5 * diff**2 / length_scale**2) + jitter * np.eye(n_times)


class _QuadraticForm(torch.autograd.Function):
    """Q = ½ Σ δᵀ P δ in float64 with one matrix product; the gradient P δ is reused."""

    @staticmethod
    def forward(ctx, deviations, precision):
        delta = deviations.detach().to(torch.float64)
        solved = delta @ precision  # P δ per trajectory (P is symmetric)
        if ctx.needs_input_grad[0]:
            ctx.save_for_backward(solved)
            ctx.input_dtype = deviations.dtype
        return 0.5 * torch.sum(delta * solved)

    @staticmethod
    def backward(ctx, grad_output):
        (solved,) = ctx.saved_tensors
        return (grad_output * solved).to(ctx.input_dtype), None


@dataclass(frozen=True)
class GaussianProcessPrior:
    """A zero-mean SE-kernel GP prior over T ages with a cached Cholesky factor.

    Parameters
    ----------
    n_times : int
        T, the number of ages.
    length_scale : float
        ℓ in age steps (the reference uses T/4 for λ and T/3 for φ).
    amplitude : float
        Kernel amplitude (1 in the reference).
    jitter : float
        Added to the diagonal for numerical stability (1e−6 in the reference).

    Attributes
    ----------
    kernel : ndarray of shape (T, T)
    cholesky : ndarray of shape (T, T)
        Lower-triangular L with L Lᵀ = kernel.
    precision : ndarray of shape (T, T)
        K⁻¹ obtained by ``cho_solve`` against the identity (never ``inv``).

    Examples
    --------
    >>> from latentlab.signatures import GaussianProcessPrior
    >>> prior = GaussianProcessPrior(n_times=10, length_scale=2.5)
    >>> draws = prior.draw(4, rng=0)
    >>> draws.shape
    (4, 10)
    >>> float(prior.quadratic_form(np.zeros((3, 10))))
    0.0
    """

    n_times: int
    length_scale: float
    amplitude: float = 1.0
    jitter: float = 1e-6
    kernel: npt.NDArray[np.float64] = field(init=False, repr=False)
    cholesky: npt.NDArray[np.float64] = field(init=False, repr=False)
    precision: npt.NDArray[np.float64] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        kernel = squared_exponential_kernel(
            self.n_times, self.length_scale, amplitude=self.amplitude, jitter=self.jitter
        )
        try:
            factor, _ = cho_factor(kernel, lower=True)
        except np.linalg.LinAlgError as exc:
            raise ValueError(
                f"the GP kernel (n_times={self.n_times}, length_scale={self.length_scale}) is "
                f"not positive definite with jitter={self.jitter}; increase jitter"
            ) from exc
        cholesky = np.tril(factor)
        precision = cho_solve((cholesky, True), np.eye(self.n_times))
        precision = 0.5 * (precision + precision.T)
        for name, value in (("kernel", kernel), ("cholesky", cholesky), ("precision", precision)):
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_torch_cache", {})

    @property
    def condition_number(self) -> float:
        """2-norm condition number of the kernel (jitter included)."""
        eig = np.linalg.eigvalsh(self.kernel)
        return float(eig[-1] / eig[0])

    def quadratic_form(self, deviations) -> float:
        """Q = ½ Σ δᵀ K⁻¹ δ over all trajectories (last axis = time), via ``cho_solve``.

        Parameters
        ----------
        deviations : array_like of shape (..., T)
            Deviations from the prior mean.
        """
        delta = check_array(deviations, "deviations", dtype=float)
        if delta.ndim == 0 or delta.shape[-1] != self.n_times:
            raise ValueError(
                f"deviations must have last axis of length n_times = {self.n_times}, "
                f"got shape {delta.shape}"
            )
        flat = delta.reshape(-1, self.n_times).T
        solved = cho_solve((self.cholesky, True), flat)
        return float(0.5 * np.sum(flat * solved))

    def quadratic_form_torch(self, deviations: torch.Tensor) -> torch.Tensor:
        """Differentiable Q = ½ Σ δᵀ K⁻¹ δ for a tensor of shape (..., T).

        The algebra runs in float64 whatever the input dtype; the result is a
        float64 scalar tensor. Its gradient is K⁻¹δ.
        """
        if deviations.shape[-1] != self.n_times:
            raise ValueError(
                f"deviations must have last axis of length n_times = {self.n_times}, "
                f"got shape {tuple(deviations.shape)}"
            )
        precision = self.precision_tensor(deviations.device)
        return _QuadraticForm.apply(deviations, precision)

    def precision_tensor(self, device: torch.device | str = "cpu") -> torch.Tensor:
        """K⁻¹ as a float64 torch tensor (cached per device)."""
        cache = self._torch_cache
        key = str(device)
        if key not in cache:
            cache[key] = torch.tensor(np.array(self.precision), dtype=torch.float64, device=device)
        return cache[key]

    def draw(self, n_draws: int | tuple[int, ...], rng=None) -> npt.NDArray[np.float64]:
        """Batched prior draws L z, shape ``(*n_draws, T)``, one matrix product for all."""
        shape = (n_draws,) if np.isscalar(n_draws) else tuple(n_draws)
        z = as_generator(rng).standard_normal((int(np.prod(shape)), self.n_times))
        return (z @ self.cholesky.T).reshape(*shape, self.n_times)
