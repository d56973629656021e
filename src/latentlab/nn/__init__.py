"""A neural network from scratch in numpy (chapter 5): layers, activations, losses, backprop.

The core is small enough to read in one sitting: ``activations`` (g and g'),
``layers`` (``Dense``: z = W a + b and its backward pass), ``losses`` (MSE and
cross-entropies from logits), ``model`` (``Sequential``, ``MLP``), ``gradcheck``
(central differences), ``autoencoder`` and ``importance`` (|∂L/∂x|).
Optimisers and the training loop live in :mod:`latentlab.optim`. Around the core:
:mod:`~latentlab.nn.compare` (autoencoder vs PCA / factor analysis / MOFA, view
fusion), :mod:`~latentlab.nn.estimator` (the MLP as a scikit-learn classifier),
:mod:`~latentlab.nn.experiments` (XOR runs, gradient norms by depth) and
:mod:`~latentlab.nn.torch_check` (the only module importing torch, for cross-checks).
"""

from latentlab.nn.activations import Identity, ReLU, Sigmoid, Softmax, Tanh, get_activation, log_softmax, sigmoid, softmax
from latentlab.nn.autoencoder import Autoencoder
from latentlab.nn.gradcheck import GradCheckResult, gradcheck, numerical_gradient
from latentlab.nn.importance import gradient_importance, input_gradients
from latentlab.nn.layers import Dense, init_weights
from latentlab.nn.losses import BCEWithLogitsLoss, CrossEntropyLoss, Loss, MSELoss, get_loss
from latentlab.nn.model import MLP, Sequential, layer_gradient_norms, loss_and_gradients

__all__ = [
    "Dense",
    "init_weights",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "Softmax",
    "Identity",
    "get_activation",
    "sigmoid",
    "softmax",
    "log_softmax",
    "Loss",
    "MSELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "get_loss",
    "Sequential",
    "MLP",
    "loss_and_gradients",
    "layer_gradient_norms",
    "gradcheck",
    "numerical_gradient",
    "GradCheckResult",
    "Autoencoder",
    "input_gradients",
    "gradient_importance",
]
