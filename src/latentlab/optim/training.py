"""The training loop: shuffled mini-batches, an optimiser, a schedule, clipping, early stopping."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from latentlab._divergence import DivergenceGuard
from latentlab._validation import as_generator, check_array, check_integer, check_positive, check_same_length
from latentlab.nn.losses import CrossEntropyLoss, Loss, get_loss
from latentlab.optim.optimizers import SGD, Adam, AdamW, Momentum, Optimizer, clip_grad_norm
from latentlab.optim.schedules import ReduceLROnPlateau, Schedule

__all__ = ["TrainResult", "make_optimizer", "train"]

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train` did, epoch by epoch (plain Python floats).

    Attributes
    ----------
    history : list of float
        Mean training loss over each epoch's mini-batches (before the penalty).
    val_history : list of float
        Validation loss after each epoch (empty without validation data).
    lr_history : list of float
        Learning rate used in each epoch.
    grad_norm_history : list of float
        Mean gradient norm per epoch, before clipping.
    n_iter : int
        Epochs run.
    converged : bool
        True if early stopping ended training before ``epochs``.
    best_epoch : int
        Epoch (1-based) with the lowest monitored loss; its weights are restored
        when early stopping is on.
    """

    history: list
    val_history: list
    lr_history: list
    grad_norm_history: list
    n_iter: int
    converged: bool
    best_epoch: int


def make_optimizer(name: str, model, *, lr: float, **options) -> Optimizer:
    """Build "sgd", "momentum", "adam" or "adamw" for a model's parameters.

    Examples
    --------
    >>> from latentlab.nn import MLP
    >>> from latentlab.optim import make_optimizer
    >>> type(make_optimizer("adam", MLP([2, 1], rng=0), lr=0.01)).__name__
    'Adam'
    """
    classes = {"sgd": SGD, "momentum": Momentum, "adam": Adam, "adamw": AdamW}
    if name not in classes:
        raise ValueError(f"optimizer must be one of {sorted(classes)} or an Optimizer, got {name!r}")
    return classes[name](model.parameters(), model.gradients(), lr=lr, **options)


def _prepared_targets(loss: Loss, y) -> np.ndarray:
    """Targets as the loss's unchecked path expects them: int labels or float64 values."""
    if isinstance(loss, CrossEntropyLoss):
        return np.asarray(y).astype(np.int64)
    y = np.asarray(y)
    return y if y.dtype in (np.float32, np.float64) else y.astype(np.float64)


def train(
    model,
    loss: str | Loss,
    X,
    y,
    *,
    optimizer: str | Optimizer = "adam",
    lr: float = 1e-3,
    epochs: int = 100,
    batch_size: int | None = None,
    schedule: Schedule | None = None,
    clip_norm: float | None = None,
    X_val=None,
    y_val=None,
    patience: int | None = None,
    min_delta: float = 0.0,
    rng: None | int | np.random.Generator = None,
    verbose: bool = True,
) -> TrainResult:
    """Fit ``model`` by mini-batch gradient descent.

    Parameters
    ----------
    model : Sequential or Autoencoder
    loss : {"mse", "bce", "cross_entropy"} or Loss
    X : ndarray of shape (n, n_features)
    y : targets accepted by the loss, length n
    optimizer : {"sgd", "momentum", "adam"} or Optimizer
        A name is built with ``lr``; pass an object for other options
        (momentum, betas, ``weight_decay`` for L2, ``l1``).
    epochs : int
    batch_size : int, optional
        ``None`` = full batch; 1 = pure stochastic gradient descent.
    schedule : Schedule, optional
        Stepped after every epoch (with the monitored loss for plateau schedules).
    clip_norm : float, optional
        Clip the joint gradient norm of each step to this value.
    X_val, y_val : optional validation data (monitored for early stopping).
    patience : int, optional
        Stop when the monitored loss has not improved by ``min_delta`` for
        ``patience`` epochs, and restore the best weights.
    rng : None, int or numpy.random.Generator
        Shuffles the mini-batches.
    verbose : bool
        Show a tqdm progress bar.

    Returns
    -------
    TrainResult

    Raises
    ------
    DivergenceError
        As soon as a mini-batch loss is NaN or infinite, or when an epoch's loss
        grows by orders of magnitude over the best one (lower ``lr`` or clip).
        The message names the learning rate and the epoch; ``last_good`` holds
        the parameters (``model.get_state()``) after the last good epoch, to be
        restored with ``model.set_state``.

    Examples
    --------
    >>> from latentlab.nn import MLP
    >>> from latentlab.optim import train
    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    >>> net = MLP([2, 4, 1], activation="tanh", rng=0)
    >>> result = train(net, "bce", X, [0, 1, 1, 0], lr=0.05, epochs=500, verbose=False)
    >>> result.history[-1] < 0.05, result.n_iter
    (True, 500)
    """
    loss = get_loss(loss)
    X = check_array(X, "X", ndim=2, dtype=None)
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    y = np.asarray(y)
    n = check_same_length({"X": X, "y": y})
    if n == 0:
        raise ValueError("X must hold at least one row, got an empty array")
    epochs = check_integer(epochs, "epochs", minimum=1)
    batch_size = n if batch_size is None else check_integer(batch_size, "batch_size", minimum=1)
    if clip_norm is not None:
        clip_norm = check_positive(clip_norm, "clip_norm")
    if isinstance(optimizer, str):
        optimizer = make_optimizer(optimizer, model, lr=lr)
    elif not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be a name or an Optimizer, got {type(optimizer).__name__}")
    if (X_val is None) != (y_val is None):
        given, missing = ("X_val", "y_val") if y_val is None else ("y_val", "X_val")
        raise ValueError(f"X_val and y_val must be passed together; got {given} without {missing}")
    if patience is not None:
        patience = check_integer(patience, "patience", minimum=1)
    min_delta = check_positive(min_delta, "min_delta", strict=False)
    validate = X_val is not None
    if validate:
        X_val = check_array(X_val, "X_val", ndim=2)
        check_same_length({"X_val": X_val, "y_val": np.asarray(y_val)})
    rng = as_generator(rng)
    loss.forward(model.forward(X), y)  # validates X against the model and every target once
    y = _prepared_targets(loss, y)
    history, val_history, lr_history, norms = [], [], [], []
    best, best_epoch, best_state, waited, stopped = np.inf, 0, None, 0, False
    guard = DivergenceGuard("train", learning_rate=float(optimizer.lr))
    for epoch in tqdm(range(1, epochs + 1), disable=not verbose, desc="train"):
        order = rng.permutation(n) if batch_size < n else np.arange(n)
        total, norm_total, n_batches = 0.0, 0.0, 0
        lr_history.append(float(optimizer.lr))
        for start in range(0, n, batch_size):
            rows = order[start:start + batch_size]
            value = loss.forward(model.forward(X[rows], check=False), y[rows], check=False)
            if not np.isfinite(value):  # before the backward pass spreads NaN into the weights
                guard.check(epoch, value, at=f"epoch {epoch}, batch {n_batches + 1}")
            model.backward(loss.backward())
            grads = model.gradients()
            if clip_norm is not None:
                norm_total += clip_grad_norm(grads, clip_norm)
            else:
                norm_total += float(np.sqrt(sum(np.vdot(g, g) for g in grads)))
            optimizer.step()
            total += value * len(rows)
            n_batches += 1
        guard.check(epoch, total / n)
        guard.keep(epoch, model.get_state())
        history.append(total / n)
        norms.append(norm_total / n_batches)
        monitored = history[-1]
        if validate:
            val_history.append(loss.forward(model.forward(X_val), y_val))
            monitored = val_history[-1]
        if schedule is not None:
            schedule.step(monitored if isinstance(schedule, ReduceLROnPlateau) else None)
        if monitored < best - min_delta:
            best, best_epoch, waited = monitored, epoch, 0
            if patience is not None:
                best_state = model.get_state()
        else:
            waited += 1
            if patience is not None and waited >= patience:
                stopped = True
                break
    if patience is not None and best_state is not None:
        model.set_state(best_state)
    return TrainResult(history, val_history, lr_history, norms, len(history), stopped, best_epoch)
