"""Small reproducible experiments the chapter runs: XOR from several seeds, gradient norms by depth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import numpy.typing as npt
from scipy.special import expit

from latentlab._validation import as_generator, check_integer
from latentlab.nn.losses import MSELoss
from latentlab.nn.model import MLP, layer_gradient_norms, loss_and_gradients

__all__ = ["xor_data", "XorRuns", "xor_runs", "xor_bias_comparison", "gradient_norms_by_depth"]

Array = npt.NDArray[np.float64]


def xor_data() -> tuple[Array, Array]:
    """The four XOR points and targets, shapes (4, 2) and (4, 1).

    Examples
    --------
    >>> from latentlab.nn.experiments import xor_data
    >>> X, y = xor_data(); y.ravel().tolist()
    [0.0, 1.0, 1.0, 0.0]
    """
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    return X, np.array([[0.0], [1.0], [1.0], [0.0]])


@dataclass(frozen=True)
class XorRuns:
    """Outputs after training a 2-h-1 sigmoid network on XOR from several seeds.

    Attributes
    ----------
    outputs : ndarray (n_seeds, 4)
        Network output σ(·) for the points (0,0), (0,1), (1,0), (1,1).
    final_loss : ndarray (n_seeds,)
    solved : ndarray of bool (n_seeds,)
        All four outputs on the correct side of 1/2.
    histories : list of list of float
    """

    outputs: Array
    final_loss: Array
    solved: Array
    histories: list


def xor_runs(seeds: Sequence[int], *, bias: bool, n_hidden: int = 3, lr: float = 0.2,
             epochs: int = 10_000, optimizer: str = "sgd") -> XorRuns:
    """Train the classic XOR network (sigmoid units, squared error, full batch) per seed.

    With ``bias=False`` this is the network usually shown in "a neural net in
    ten lines". Our loss is the *mean* squared error over the four points, whose
    gradient is half that of the classic ½Σ(ŷ − y)², so ``lr = 0.2`` here is the
    classic learning rate 0.1.

    Every seed starts from ``MLP([2, n_hidden, 1], ..., rng=seed)``. With plain
    gradient descent (``optimizer="sgd"``) all seeds are trained at once by a
    vectorised copy of the same forward and backward pass (identical numbers to
    training each network with :func:`latentlab.optim.train`, as the tests
    check); other optimisers train one network after the other.

    Examples
    --------
    >>> from latentlab.nn.experiments import xor_runs
    >>> runs = xor_runs([0, 1], bias=True, lr=2.0, epochs=2000)
    >>> runs.solved.tolist(), runs.outputs.shape
    ([True, True], (2, 4))
    """
    seeds = [check_integer(seed, "seeds", minimum=0) for seed in seeds]
    n_hidden = check_integer(n_hidden, "n_hidden", minimum=1)
    epochs = check_integer(epochs, "epochs", minimum=1)
    if optimizer != "sgd":
        return _xor_runs_loop(seeds, bias=bias, n_hidden=n_hidden, lr=lr, epochs=epochs,
                              optimizer=optimizer)
    return _xor_sgd(seeds, [bias], n_hidden, lr, epochs)[0]


def xor_bias_comparison(seeds: Sequence[int], *, n_hidden: int = 3, lr: float = 0.2,
                        epochs: int = 10_000) -> tuple[XorRuns, XorRuns]:
    """:func:`xor_runs` without and with biases, from the same seeds, in one batch.

    Returns ``(no_bias, with_bias)``, the same numbers as two calls of
    :func:`xor_runs` (plain gradient descent), at about the cost of one: the
    networks are tiny, so an epoch costs the same for twice as many.

    Examples
    --------
    >>> from latentlab.nn.experiments import xor_bias_comparison
    >>> no_bias, with_bias = xor_bias_comparison([0, 1], lr=2.0, epochs=2000)
    >>> with_bias.solved.tolist(), no_bias.outputs.shape
    ([True, True], (2, 4))
    """
    seeds = [check_integer(seed, "seeds", minimum=0) for seed in seeds]
    n_hidden = check_integer(n_hidden, "n_hidden", minimum=1)
    epochs = check_integer(epochs, "epochs", minimum=1)
    no_bias, with_bias = _xor_sgd(seeds, [False, True], n_hidden, lr, epochs)
    return no_bias, with_bias


def _xor_sgd(seeds, biases, n_hidden, lr, epochs) -> list[XorRuns]:
    """Full-batch gradient descent of every (bias, seed) network at once, one result per bias.

    The networks without biases keep b = 0 (their rows are never updated), so
    each network's numbers do not depend on which others share the batch.
    """
    X, y = xor_data()
    nets = [_xor_network(seed, bias, n_hidden) for bias in biases for seed in seeds]
    S = len(seeds)
    W1 = np.stack([net.layers[0].weight for net in nets])  # (B*S, h, 2)
    W2 = np.stack([net.layers[2].weight for net in nets])  # (B*S, 1, h)
    b1 = np.zeros((len(nets), n_hidden))
    b2 = np.zeros((len(nets), 1))
    history = np.empty((len(nets), epochs))
    W1t, W2t = W1.transpose(0, 2, 1), W2.transpose(0, 2, 1)  # views, updated in place
    first = S * biases.index(True) if True in biases else len(nets)  # rows with biases
    for epoch in range(epochs):
        hidden = expit(X @ W1t + b1[:, None, :])  # (B*S, 4, h)
        out = expit(hidden @ W2t + b2[:, None, :])  # (B*S, 4, 1)
        residual = out - y
        history[:, epoch] = np.mean(residual**2, axis=(1, 2))
        delta_out = (2.0 / len(y)) * residual * out * (1 - out)
        delta_hidden = (delta_out @ W2) * hidden * (1 - hidden)
        W2 -= lr * (delta_out.transpose(0, 2, 1) @ hidden)
        W1 -= lr * (delta_hidden.transpose(0, 2, 1) @ X)
        if first < len(nets):
            b2[first:] -= lr * delta_out[first:].sum(axis=1)
            b1[first:] -= lr * delta_hidden[first:].sum(axis=1)
    hidden = expit(X @ W1t + b1[:, None, :])
    outputs = expit(hidden @ W2t + b2[:, None, :])[:, :, 0]
    solved = np.all((outputs > 0.5) == (y.ravel() > 0.5), axis=1)
    results = []
    for i in range(len(biases)):
        rows = slice(i * S, (i + 1) * S)
        results.append(XorRuns(outputs[rows], history[rows, -1].copy(), solved[rows],
                               [list(h) for h in history[rows]]))
    return results


def _xor_network(seed: int, bias: bool, n_hidden: int) -> MLP:
    return MLP([2, n_hidden, 1], activation="sigmoid", output_activation="sigmoid",
               bias=bias, rng=seed)


def _xor_runs_loop(seeds, *, bias: bool, n_hidden: int, lr: float, epochs: int,
                   optimizer: str) -> XorRuns:
    """One network after the other with :func:`latentlab.optim.train` (the reference)."""
    from latentlab.optim import train  # optim imports nn; import here to avoid a cycle

    X, y = xor_data()
    outputs, losses, histories = [], [], []
    for seed in seeds:
        net = _xor_network(seed, bias, n_hidden)
        result = train(net, "mse", X, y, optimizer=optimizer, lr=lr, epochs=epochs,
                       verbose=False)
        outputs.append(net.forward(X).ravel())
        losses.append(result.history[-1])
        histories.append(result.history)
    outputs = np.array(outputs)
    solved = np.all((outputs > 0.5) == (y.ravel() > 0.5), axis=1)
    return XorRuns(outputs, np.array(losses), solved, histories)


def gradient_norms_by_depth(depth: int, width: int, *, activation: str, gain: float = 1.0,
                            n_samples: int = 64, rng: None | int | np.random.Generator = None) -> list[float]:
    """‖∂L/∂W‖ per layer (input side first) of a freshly initialised deep network.

    The data are standard normal inputs and targets with squared-error loss;
    weights use He initialisation for ReLU and Xavier otherwise, times ``gain``.

    Examples
    --------
    >>> from latentlab.nn.experiments import gradient_norms_by_depth
    >>> norms = gradient_norms_by_depth(8, 32, activation="sigmoid", rng=0)
    >>> norms[0] < norms[-1] / 100
    True
    """
    depth = check_integer(depth, "depth", minimum=1)
    width = check_integer(width, "width", minimum=1)
    rng = as_generator(rng)
    net = MLP([width] * (depth + 1), activation=activation, gain=gain, rng=rng)
    X = rng.standard_normal((n_samples, width))
    Y = rng.standard_normal((n_samples, width))
    loss_and_gradients(net, MSELoss(), X, Y)
    return layer_gradient_norms(net)
