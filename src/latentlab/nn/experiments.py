"""Small reproducible experiments the chapter runs: XOR from several seeds, gradient norms by depth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import numpy.typing as npt

from latentlab._validation import as_generator, check_integer
from latentlab.nn.losses import MSELoss
from latentlab.nn.model import MLP, layer_gradient_norms, loss_and_gradients

__all__ = ["xor_data", "XorRuns", "xor_runs", "gradient_norms_by_depth"]

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


def xor_runs(seeds: Sequence[int], *, bias: bool, n_hidden: int = 3, lr: float = 0.2, epochs: int = 10_000,
             optimizer: str = "sgd") -> XorRuns:
    """Train the classic XOR network (sigmoid hidden and output units, squared error, full batch).

    With ``bias=False`` this is the network usually shown in "a neural net in
    ten lines"; ``lr = 0.2`` with our mean squared error equals the classic
    update with learning rate 0.1 on half the summed squared error.
    """
    from latentlab.optim import train  # optim imports nn; import here to avoid a cycle

    X, y = xor_data()
    outputs, losses, histories = [], [], []
    for seed in seeds:
        net = MLP([2, n_hidden, 1], activation="sigmoid", output_activation="sigmoid", bias=bias, rng=seed)
        result = train(net, "mse", X, y, optimizer=optimizer, lr=lr, epochs=epochs, verbose=False)
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
