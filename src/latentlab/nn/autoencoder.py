"""An autoencoder built from the same ``Dense`` layers: x → encoder → z → decoder → x̂.

The latent layer and the output layer are linear; with no hidden layers the
model is a linear autoencoder, whose optimum spans the same subspace as PCA.
It has ``forward``/``backward``/``parameters``/``gradients`` like a
``Sequential``, so :func:`latentlab.optim.train` fits it with ``MSELoss`` and
the data as their own target.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import numpy.typing as npt

from latentlab._validation import as_generator, check_integer
from latentlab.nn.model import MLP, Sequential

__all__ = ["Autoencoder"]

Array = npt.NDArray[np.float64]


class Autoencoder(Sequential):
    """Encoder [n_features, *hidden, n_latent] and mirrored decoder.

    Parameters
    ----------
    n_features : int
    n_latent : int
        Width of the code z.
    hidden : sequence of int
        Encoder hidden widths (the decoder uses them in reverse).
    activation : str
        Hidden activation; the code and the reconstruction are linear.
    rng : None, int or numpy.random.Generator

    Examples
    --------
    >>> from latentlab.nn import Autoencoder
    >>> ae = Autoencoder(6, 2, hidden=(4,), rng=0)
    >>> X = np.random.default_rng(0).normal(size=(10, 6))
    >>> ae.encode(X).shape, ae.forward(X).shape
    ((10, 2), (10, 6))
    """

    def __init__(
        self,
        n_features: int,
        n_latent: int,
        *,
        hidden: Sequence[int] = (),
        activation: str = "tanh",
        rng: None | int | np.random.Generator = None,
    ) -> None:
        n_features = check_integer(n_features, "n_features", minimum=1)
        n_latent = check_integer(n_latent, "n_latent", minimum=1)
        rng = as_generator(rng)
        widths = [n_features, *hidden, n_latent]
        self.encoder = MLP(widths, activation=activation, rng=rng)
        self.decoder = MLP(widths[::-1], activation=activation, rng=rng)
        self.n_latent = n_latent
        super().__init__(self.encoder.layers + self.decoder.layers)

    def encode(self, X: Array) -> Array:
        """The code z = encoder(x), shape (n, n_latent)."""
        return self.encoder.forward(X)

    def decode(self, Z: Array) -> Array:
        """The reconstruction x̂ = decoder(z), shape (n, n_features)."""
        return self.decoder.forward(Z)
