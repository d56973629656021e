"""Tiny torch embedding models for the sweep: a variational encoder with a metric-learning loss.

The loss of one minibatch is

    L = reconstruction MSE + beta * KL(q(z|x) || N(0, I)) + metric_weight * metric loss on mu,

where the metric loss pulls together two frames of the same embryo taken
close in time (the positive pair) and pushes apart other frames: either
NT-Xent (SimCLR's normalised-temperature cross-entropy on cosine
similarities) or a triplet loss with a margin. These are the hyper-parameters
of the MorphSeq sweep that the chapter varies. Everything is seeded with a
``torch.Generator``; nothing touches the global torch seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt
import torch
from torch import nn
from torch.nn import functional as F

from latentlab._validation import check_array, check_integer, check_positive, check_same_length

__all__ = ["EmbeddingConfig", "TrainedEmbedding", "nt_xent_loss", "triplet_loss", "train_embedding_model"]


@dataclass(frozen=True)
class EmbeddingConfig:
    """Hyper-parameters of one embedding model (one row of the sweep grid).

    Attributes
    ----------
    metric_loss : {"nt-xent", "triplet"}
    beta : float
        Weight of the KL term (the "beta" of a beta-VAE).
    margin : float
        Triplet margin (ignored by NT-Xent).
    metric_weight : float
        Weight of the metric loss.
    temperature : float
        NT-Xent temperature.
    latent_dim, hidden : int
    n_epochs, batch_size : int
    learning_rate : float
    positive_window : float
        Positives are frames of the same embryo at most this many hpf apart.
    seed : int
    """

    metric_loss: Literal["nt-xent", "triplet"] = "nt-xent"
    beta: float = 1.0
    margin: float = 1.0
    metric_weight: float = 1.0
    temperature: float = 0.2
    latent_dim: int = 4
    hidden: int = 32
    n_epochs: int = 30
    batch_size: int = 128
    learning_rate: float = 5e-3
    positive_window: float = 4.0
    seed: int = 0

    def as_params(self) -> dict:
        """The sweep parameters as a plain dict (for the sweep table)."""
        return {"metric_loss": self.metric_loss, "beta": self.beta, "margin": self.margin,
                "metric_weight": self.metric_weight, "temperature": self.temperature,
                "latent_dim": self.latent_dim, "seed": self.seed}


class _Encoder(nn.Module):
    def __init__(self, n_features, hidden, latent_dim):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_features, hidden), nn.Tanh())
        self.mu = nn.Linear(hidden, latent_dim)
        self.log_var = nn.Linear(hidden, latent_dim)
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.Tanh(), nn.Linear(hidden, n_features))

    def forward(self, x):
        h = self.body(x)
        return self.mu(h), self.log_var(h)


@dataclass(frozen=True)
class TrainedEmbedding:
    """A trained model: ``embed(X)`` returns the posterior means mu (the "z_mu" columns)."""

    config: EmbeddingConfig
    history: tuple[float, ...]
    n_iter: int
    converged: bool
    mean: np.ndarray
    scale: np.ndarray
    module: nn.Module = field(repr=False)

    def embed(self, X: npt.ArrayLike) -> np.ndarray:
        X = check_array(X, "X", ndim=2, shape=(None, len(self.mean)))
        with torch.no_grad():
            mu, _ = self.module(torch.as_tensor((X - self.mean) / self.scale, dtype=torch.float32))
        return mu.numpy().astype(np.float64)


def nt_xent_loss(anchors: torch.Tensor, positives: torch.Tensor, temperature: float) -> torch.Tensor:
    """NT-Xent: each anchor must pick out its positive among all 2B - 1 other embeddings.

    Examples
    --------
    >>> import torch
    >>> from latentlab.sweep.models import nt_xent_loss
    >>> z = torch.eye(4)
    >>> float(nt_xent_loss(z, z, 0.1)) < 0.01
    True
    """
    z = F.normalize(torch.cat([anchors, positives]), dim=1)
    similarity = z @ z.T / temperature
    n = anchors.shape[0]
    similarity = similarity.masked_fill(torch.eye(2 * n, dtype=torch.bool), float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(similarity, targets)


def triplet_loss(anchors, positives, negatives, margin: float) -> torch.Tensor:
    """Mean of ``max(0, ||a - p|| - ||a - n|| + margin)``.

    Examples
    --------
    >>> import torch
    >>> from latentlab.sweep.models import triplet_loss
    >>> a = torch.zeros(1, 2); p = torch.zeros(1, 2); n = torch.tensor([[3.0, 4.0]])
    >>> float(triplet_loss(a, p, n, margin=1.0)), float(triplet_loss(a, p, n, margin=6.0))
    (0.0, 1.0)
    """
    d_pos = torch.linalg.vector_norm(anchors - positives, dim=1)
    d_neg = torch.linalg.vector_norm(anchors - negatives, dim=1)
    return F.relu(d_pos - d_neg + margin).mean()


def _partner_options(embryo_ids, stage, window):
    """Candidate positives of every row, computed once per training.

    Returns ``(options, offsets, counts)``: the candidates of row i are
    ``options[offsets[i]:offsets[i] + counts[i]]``, the other rows of the same
    embryo at most ``window`` hpf away, in row order.
    """
    n = len(stage)
    codes = np.unique(embryo_ids, return_inverse=True)[1]
    lists = [np.empty(0, dtype=np.int64)] * n
    for code in np.unique(codes):
        rows = np.flatnonzero(codes == code)
        gaps = np.abs(stage[rows][:, None] - stage[rows][None, :])
        close = (gaps <= window) & ~np.eye(len(rows), dtype=bool)
        for i, row in enumerate(rows):
            lists[row] = rows[close[i]]
    counts = np.array([len(options) for options in lists], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    options = np.concatenate(lists) if n else np.empty(0, dtype=np.int64)
    return options, offsets, counts


def _positive_partners(embryo_ids, stage, window, generator, candidates=None):
    """For each row, a random other row of the same embryo within ``window`` hpf (itself if none).

    One uniform draw per row from ``generator``; ``candidates`` (from
    :func:`_partner_options`) may be passed to skip recomputing the candidates.
    """
    n = len(stage)
    options, offsets, counts = (
        _partner_options(embryo_ids, stage, window) if candidates is None else candidates
    )
    draws = torch.rand(n, generator=generator, dtype=torch.float64).numpy()
    partner = np.arange(n)
    has = counts > 0
    picks = (draws[has] * counts[has]).astype(np.int64)
    partner[has] = options[offsets[has] + picks]
    return partner


def _adam_step(parameters, moments, learning_rate, step, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam update in place (the algorithm of torch.optim.Adam, written out: constructing a
    torch optimiser imports torch._dynamo, which costs seconds at page start-up)."""
    # the same operations as one loop per parameter, issued for all parameters at
    # once (torch._foreach_*): one Python call per operation instead of one per tensor
    grads = [parameter.grad for parameter in parameters]
    first = [m for m, _ in moments]
    second = [v for _, v in moments]
    with torch.no_grad():
        torch._foreach_mul_(first, beta1)
        torch._foreach_add_(first, grads, alpha=1 - beta1)
        torch._foreach_mul_(second, beta2)
        torch._foreach_addcmul_(second, grads, grads, value=1 - beta2)
        m_hat = torch._foreach_div(first, 1 - beta1**step)
        v_hat = torch._foreach_div(second, 1 - beta2**step)
        denominator = torch._foreach_sqrt(v_hat)
        torch._foreach_add_(denominator, eps)
        update = torch._foreach_mul(m_hat, learning_rate)
        torch._foreach_div_(update, denominator)
        torch._foreach_sub_(parameters, update)


def train_embedding_model(
    X: npt.ArrayLike,
    embryo_ids: npt.ArrayLike,
    stage: npt.ArrayLike,
    config: EmbeddingConfig,
) -> TrainedEmbedding:
    """Train one embedding model with Adam on minibatches (deterministic for a given ``config.seed``).

    Parameters
    ----------
    X : array_like of shape (n, n_features)
        Observations (standardised internally).
    embryo_ids, stage : array_like of shape (n,)
        Define the positive pairs.
    config : EmbeddingConfig

    Returns
    -------
    TrainedEmbedding
        ``history`` holds the mean loss of each epoch; ``converged`` is True
        when the last epoch's loss changed by less than 1 % of the first.

    Examples
    --------
    >>> import numpy as np
    >>> from latentlab.sweep.models import EmbeddingConfig, train_embedding_model
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 5)); ids = np.repeat(np.arange(6), 10); stage = np.tile(np.arange(10.0), 6)
    >>> model = train_embedding_model(X, ids, stage, EmbeddingConfig(n_epochs=3, seed=1))
    >>> model.embed(X).shape, model.n_iter
    ((60, 4), 3)
    """
    X = check_array(X, "X", ndim=2)
    embryo_ids = np.asarray(embryo_ids)
    stage = check_array(stage, "stage", ndim=1)
    n = check_same_length({"X": X, "embryo_ids": embryo_ids, "stage": stage})
    if config.metric_loss not in ("nt-xent", "triplet"):
        raise ValueError(f"metric_loss must be 'nt-xent' or 'triplet', got {config.metric_loss!r}")
    check_positive(config.beta, "beta", strict=False)
    check_positive(config.metric_weight, "metric_weight", strict=False)
    check_positive(config.temperature, "temperature")
    n_epochs = check_integer(config.n_epochs, "n_epochs", minimum=1)
    batch_size = check_integer(config.batch_size, "batch_size", minimum=2)
    generator = torch.Generator().manual_seed(int(config.seed))
    mean, scale = X.mean(axis=0), X.std(axis=0) + 1e-12
    data = torch.as_tensor((X - mean) / scale, dtype=torch.float32)
    module = _Encoder(X.shape[1], config.hidden, config.latent_dim)
    with torch.no_grad():  # seeded initialisation without the global RNG
        for parameter in module.parameters():
            bound = 1.0 / np.sqrt(parameter.shape[-1])
            parameter.copy_((torch.rand(parameter.shape, generator=generator) * 2 - 1) * bound)
    parameters = list(module.parameters())
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in parameters]
    history, step = [], 0
    candidates = _partner_options(embryo_ids, stage, config.positive_window)
    for _ in range(n_epochs):
        partner = torch.as_tensor(
            _positive_partners(embryo_ids, stage, config.positive_window, generator, candidates)
        )
        order = torch.randperm(n, generator=generator)
        total = 0.0
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            if len(batch) < 2:
                continue
            x, x_pos = data[batch], data[partner[batch]]
            mu, log_var = module(x)
            z = mu + torch.exp(0.5 * log_var) * torch.randn(mu.shape, generator=generator)
            reconstruction = F.mse_loss(module.decoder(z), x)
            kl = 0.5 * torch.mean(torch.sum(mu**2 + log_var.exp() - 1 - log_var, dim=1))
            mu_pos, _ = module(x_pos)
            if config.metric_loss == "nt-xent":
                metric = nt_xent_loss(mu, mu_pos, config.temperature)
            else:
                negatives = mu[torch.roll(torch.arange(len(batch)), 1)]
                metric = triplet_loss(mu, mu_pos, negatives, config.margin)
            loss = reconstruction + config.beta * kl + config.metric_weight * metric
            for parameter in parameters:
                parameter.grad = None
            loss.backward()
            step += 1
            _adam_step(parameters, moments, config.learning_rate, step)
            total += float(loss.detach()) * len(batch)
        history.append(total / n)
    converged = len(history) > 1 and abs(history[-1] - history[-2]) < 0.01 * abs(history[0])
    return TrainedEmbedding(config, tuple(history), n_epochs, bool(converged), mean, scale, module)
