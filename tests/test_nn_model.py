"""Whole networks: backprop = central differences = torch autograd; XOR; autoencoder; importance; bad input."""

import numpy as np
import pytest
import torch

from latentlab.nn import (
    MLP, Autoencoder, BCEWithLogitsLoss, CrossEntropyLoss, Dense, MSELoss, Sequential, Sigmoid, gradcheck,
    gradient_importance, input_gradients, layer_gradient_norms, loss_and_gradients,
)
from latentlab.nn.experiments import gradient_norms_by_depth, xor_data, xor_runs
from latentlab.nn.torch_check import to_torch as torch_twin

CASES = {
    "mse": (MSELoss(), lambda rng: rng.normal(size=(8, 3)), 3, torch.nn.functional.mse_loss),
    "bce": (BCEWithLogitsLoss(), lambda rng: rng.integers(0, 2, size=(8, 1)).astype(float), 1,
            torch.nn.functional.binary_cross_entropy_with_logits),
    "cross_entropy": (CrossEntropyLoss(), lambda rng: rng.integers(0, 4, size=8), 4,
                      torch.nn.functional.cross_entropy),
}


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("loss_name", list(CASES))
def test_mlp_gradients_match_finite_differences_and_torch(activation, loss_name):
    loss, make_target, n_out, torch_loss = CASES[loss_name]
    rng = np.random.default_rng(11)
    net = MLP([5, 6, 4, n_out], activation=activation, rng=rng)
    for layer in net.layers:  # non-zero biases, so their gradients are tested in general position
        if isinstance(layer, Dense):
            layer.bias[...] = rng.normal(scale=0.3, size=layer.bias.shape)
    X, y = rng.normal(size=(8, 5)), make_target(rng)

    check = gradcheck(net, loss, X, y)
    for analytic, numeric in zip(check.analytic, check.numeric):
        np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-8)

    twin = torch_twin(net)
    reference = torch_loss(twin(torch.tensor(X)), torch.tensor(y))
    reference.backward()
    value = loss_and_gradients(net, loss, X, y)
    assert value == pytest.approx(reference.item(), rel=1e-12)
    for ours, theirs in zip(net.gradients(), twin.parameters(), strict=True):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_input_gradients_match_torch_per_sample():
    rng = np.random.default_rng(3)
    net = MLP([4, 5, 3], activation="tanh", rng=rng)
    X, y = rng.normal(size=(6, 4)), rng.integers(0, 3, size=6)
    twin = torch_twin(net)
    X_t = torch.tensor(X, requires_grad=True)
    torch.nn.functional.cross_entropy(twin(X_t), torch.tensor(y), reduction="sum").backward()
    np.testing.assert_allclose(input_gradients(net, CrossEntropyLoss(), X, y), X_t.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(gradient_importance(net, CrossEntropyLoss(), X, y),
                               np.abs(X_t.grad.numpy()).mean(axis=0), rtol=1e-10)


def test_gradient_importance_finds_the_only_informative_feature():
    from latentlab.optim import train

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = (X[:, 2] > 0).astype(float)
    net = MLP([4, 8, 1], activation="tanh", rng=1)
    train(net, "bce", X, y, lr=0.05, epochs=200, verbose=False)
    importance = gradient_importance(net, BCEWithLogitsLoss(), X, y)
    assert importance.argmax() == 2 and importance[2] > 3 * np.delete(importance, 2).max()


def test_autoencoder_gradients_match_finite_differences():
    rng = np.random.default_rng(5)
    ae = Autoencoder(6, 2, hidden=(4,), rng=rng)
    X = rng.normal(size=(5, 6))
    check = gradcheck(ae, MSELoss(), X, X)
    assert check.max_relative_error < 1e-6
    assert len(ae.parameters()) == 8 and ae.encode(X).shape == (5, 2)
    np.testing.assert_allclose(ae.decode(ae.encode(X)), ae.forward(X))


def test_linear_autoencoder_reaches_pca_error():
    from sklearn.decomposition import PCA

    from latentlab.optim import train

    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3)) @ rng.normal(size=(3, 8)) + 0.3 * rng.normal(size=(100, 8))
    X -= X.mean(axis=0)
    pca = PCA(2).fit(X)
    pca_error = np.mean((pca.inverse_transform(pca.transform(X)) - X) ** 2)
    ae = Autoencoder(8, 2, rng=1)
    train(ae, "mse", X, X, lr=0.02, epochs=1500, verbose=False)
    ae_error = np.mean((ae.forward(X) - X) ** 2)
    assert pca_error <= ae_error + 1e-9  # PCA is the optimal rank-2 linear reconstruction
    assert ae_error < 1.02 * pca_error


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_xor_solved_with_biases(seed):
    runs = xor_runs([seed], bias=True, lr=2.0, epochs=3000)
    assert runs.solved.all()
    np.testing.assert_allclose(runs.outputs[0], xor_data()[1].ravel(), atol=0.2)


def test_no_bias_network_output_at_origin_ignores_first_layer():
    """Regression test for the classic no-bias XOR net: at x = (0, 0) every hidden unit is σ(0) = 1/2."""
    net = MLP([2, 3, 1], activation="sigmoid", output_activation="sigmoid", bias=False, rng=0)
    before = net.forward(np.zeros((1, 2)))
    net.layers[0].weight[...] = 100.0
    after = net.forward(np.zeros((1, 2)))
    v = net.layers[2].weight
    np.testing.assert_allclose(before, after)
    np.testing.assert_allclose(after, 1 / (1 + np.exp(-v.sum() / 2)))


def test_sigmoid_gradients_vanish_relu_he_does_not():
    sigmoid = gradient_norms_by_depth(12, 32, activation="sigmoid", rng=0)
    relu = gradient_norms_by_depth(12, 32, activation="relu", rng=0)
    assert sigmoid[0] / sigmoid[-1] < 1e-5
    assert 0.1 < relu[0] / relu[-1] < 10


def test_seeded_construction_is_reproducible():
    a, b = MLP([3, 4, 2], rng=7), MLP([3, 4, 2], rng=7)
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p, q)


def test_layer_gradient_norms_one_per_dense_layer():
    net = MLP([3, 4, 4, 2], rng=0)
    loss_and_gradients(net, MSELoss(), np.ones((2, 3)), np.zeros((2, 2)))
    assert len(layer_gradient_norms(net)) == 3


def test_bad_inputs():
    net = MLP([3, 4, 2], rng=0)
    with pytest.raises(ValueError, match="X must have 3 columns"):
        net.forward(np.zeros((5, 4)))
    with pytest.raises(ValueError, match="X contains 1 NaN or infinite value"):
        net.forward(np.array([[0.0, np.nan, 1.0]]))
    with pytest.raises(ValueError, match="X must be a 2-D array"):
        net.forward(np.zeros(3))
    with pytest.raises(ValueError, match="layer 2 expects 5 inputs but the previous Dense layer gives 4"):
        Sequential([Dense(3, 4), Sigmoid(), Dense(5, 1)])
    with pytest.raises(ValueError, match="sizes must list at least"):
        MLP([3])
    with pytest.raises(ValueError, match="activation must be one of"):
        MLP([3, 2], activation="swish")
    with pytest.raises(ValueError, match="target must lie in"):
        loss_and_gradients(net, CrossEntropyLoss(), np.zeros((2, 3)), np.array([0, 2]))


@pytest.mark.parametrize("bias", [False, True])
def test_vectorised_xor_runs_match_training_each_network(bias):
    # the vectorised trainer must give the numbers train() gives network by network
    from latentlab.nn.experiments import _xor_runs_loop

    fast = xor_runs([0, 3, 7], bias=bias, lr=0.2, epochs=400)
    loop = _xor_runs_loop([0, 3, 7], bias=bias, n_hidden=3, lr=0.2, epochs=400, optimizer="sgd")
    np.testing.assert_allclose(fast.outputs, loop.outputs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.array(fast.histories), np.array(loop.histories), rtol=1e-12)
    np.testing.assert_array_equal(fast.solved, loop.solved)


def test_xor_bias_comparison_is_two_xor_runs_in_one_batch():
    # one batch for both variants: the same numbers as one call per variant
    from latentlab.nn.experiments import xor_bias_comparison

    no_bias, with_bias = xor_bias_comparison([0, 3, 7, 11], lr=0.2, epochs=300)
    for bias, runs in [(False, no_bias), (True, with_bias)]:
        alone = xor_runs([0, 3, 7, 11], bias=bias, lr=0.2, epochs=300)
        np.testing.assert_array_equal(runs.outputs, alone.outputs)
        np.testing.assert_array_equal(runs.final_loss, alone.final_loss)
        assert runs.histories == alone.histories
    # the two variants did train differently (biases moved the outputs)
    assert not np.array_equal(no_bias.outputs, with_bias.outputs)


def test_neg_log_loss_scorer_equals_sklearns():
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import get_scorer

    from latentlab.nn.importance import neg_log_loss

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    for labels in (np.array(["a", "b"]), np.array([0, 1, 2])):
        y = labels[rng.integers(len(labels), size=80)]
        y[: len(labels)] = labels  # every class present
        model = LogisticRegression(C=100.0).fit(X, y)
        ours = neg_log_loss(model, X[:30], y[:30])
        theirs = get_scorer("neg_log_loss")(model, X[:30], y[:30])
        assert ours < 0 and abs(ours - theirs) < 1e-12
    with pytest.raises(ValueError, match="not fitted on"):
        neg_log_loss(model, X[:2], np.array([0, 7]))
