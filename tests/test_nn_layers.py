"""Every activation, layer and loss: backward pass = central differences = torch autograd (float64)."""

import numpy as np
import pytest
import torch

from latentlab.nn import (
    BCEWithLogitsLoss, CrossEntropyLoss, Dense, Identity, MSELoss, ReLU, Sigmoid, Softmax, Tanh,
    numerical_gradient,
)

RNG_SEED = 20261121
ACTIVATIONS = {
    "sigmoid": (Sigmoid, torch.sigmoid),
    "tanh": (Tanh, torch.tanh),
    "relu": (ReLU, torch.relu),
    "softmax": (Softmax, lambda z: torch.softmax(z, dim=-1)),
    "identity": (Identity, lambda z: z),
}


def _data(shape, seed=0):
    return np.random.default_rng([RNG_SEED, seed]).normal(size=shape)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_backward_matches_finite_differences_and_torch(name):
    layer_cls, torch_fn = ACTIVATIONS[name]
    z = _data((5, 4), 1)
    if name == "relu":  # keep away from the kink, where differences are meaningless
        z[np.abs(z) < 1e-3] = 0.5
    upstream = _data((5, 4), 2)
    layer = layer_cls()

    def objective():
        return float(np.sum(layer.forward(z) * upstream))

    layer.forward(z)
    ours = layer.backward(upstream)
    numeric = numerical_gradient(objective, z)
    np.testing.assert_allclose(ours, numeric, rtol=1e-6, atol=1e-9)

    z_t = torch.tensor(z, requires_grad=True)
    (torch_fn(z_t) * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(ours, z_t.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("bias", [True, False])
def test_dense_backward_matches_finite_differences_and_torch(bias):
    layer = Dense(4, 3, bias=bias, rng=0)
    a = _data((6, 4), 3)
    upstream = _data((6, 3), 4)

    def objective():
        return float(np.sum(layer.forward(a) * upstream))

    layer.forward(a)
    grad_input = layer.backward(upstream)
    for ours, array in [(grad_input, a), *zip(layer.gradients(), layer.parameters())]:
        np.testing.assert_allclose(ours, numerical_gradient(objective, array), rtol=1e-6, atol=1e-9)

    linear = torch.nn.Linear(4, 3, bias=bias, dtype=torch.float64)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor(layer.weight))
        if bias:
            linear.bias.copy_(torch.tensor(layer.bias))
    a_t = torch.tensor(a, requires_grad=True)
    out = linear(a_t)
    np.testing.assert_allclose(layer.forward(a), out.detach().numpy(), rtol=1e-12)
    (out * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(grad_input, a_t.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(layer.grad_weight, linear.weight.grad.numpy(), rtol=1e-10)
    if bias:
        np.testing.assert_allclose(layer.grad_bias, linear.bias.grad.numpy(), rtol=1e-10)


def _loss_cases():
    logits = _data((7, 3), 5)
    return {
        "mse": (MSELoss(), logits, _data((7, 3), 6),
                lambda z, y: torch.nn.functional.mse_loss(z, torch.tensor(y))),
        "bce": (BCEWithLogitsLoss(), logits, (np.arange(21).reshape(7, 3) % 2).astype(float),
                lambda z, y: torch.nn.functional.binary_cross_entropy_with_logits(z, torch.tensor(y))),
        "cross_entropy": (CrossEntropyLoss(), logits, np.array([0, 1, 2, 2, 1, 0, 1]),
                          lambda z, y: torch.nn.functional.cross_entropy(z, torch.tensor(y))),
    }


@pytest.mark.parametrize("name", ["mse", "bce", "cross_entropy"])
def test_loss_value_and_gradient_match_finite_differences_and_torch(name):
    loss, z, y, torch_loss = _loss_cases()[name]
    value = loss.forward(z, y)
    ours = loss.backward()
    np.testing.assert_allclose(ours, numerical_gradient(lambda: loss.forward(z, y), z), rtol=1e-6, atol=1e-9)
    z_t = torch.tensor(z, requires_grad=True)
    reference = torch_loss(z_t, y)
    reference.backward()
    assert value == pytest.approx(reference.item(), rel=1e-12)
    np.testing.assert_allclose(ours, z_t.grad.numpy(), rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("logit", [1000.0, -1000.0])
def test_cross_entropies_finite_at_extreme_logits(logit):
    z = np.array([[logit, -logit, 0.0]])
    ce = CrossEntropyLoss()
    value = ce.forward(z, np.array([1]))
    expected = 2000.0 if logit > 0 else 0.0  # label 1 has logit -1000 or +1000
    assert np.isfinite(value) and value == pytest.approx(expected, abs=1e-12)
    assert np.all(np.isfinite(ce.backward()))
    reference = torch.nn.functional.cross_entropy(torch.tensor(z), torch.tensor([1])).item()
    assert value == pytest.approx(reference, rel=1e-12)
    bce = BCEWithLogitsLoss()
    value = bce.forward(np.array([[logit]]), np.array([0.0]))
    assert value == pytest.approx(max(logit, 0.0), abs=1e-12)
    assert np.all(np.isfinite(bce.backward()))


def test_softmax_of_two_classes_is_sigmoid_of_difference():
    z = _data((5, 2), 7)
    np.testing.assert_allclose(Softmax().forward(z)[:, 0], Sigmoid().forward(z[:, :1] - z[:, 1:])[:, 0], rtol=1e-12)


def test_dense_init_scales():
    he = Dense(500, 400, init="he", rng=0).weight
    xavier = Dense(500, 400, init="xavier", rng=0).weight
    assert he.std() == pytest.approx(np.sqrt(2 / 500), rel=0.02)
    assert xavier.std() == pytest.approx(np.sqrt(2 / 900), rel=0.02)
    np.testing.assert_array_equal(Dense(3, 2, rng=5).weight, Dense(3, 2, rng=5).weight)
    assert Dense(3, 2).weight.dtype == np.float64


def test_dense_rejects_wrong_input_width():
    with pytest.raises(ValueError, match=r"input to Dense\(3, 2\) must have shape \(n, 3\), got \(4, 5\)"):
        Dense(3, 2, rng=0).forward(np.zeros((4, 5)))


def test_dense_rejects_unknown_init():
    with pytest.raises(ValueError, match="init must be 'xavier' or 'he'"):
        Dense(3, 2, init="uniform")


def test_loss_bad_inputs():
    with pytest.raises(ValueError, match=r"target must lie in \[0, 2\], got values from 0 to 3"):
        CrossEntropyLoss().forward(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"target must lie in \[0, 2\], got values from -1 to 0"):
        CrossEntropyLoss().forward(np.zeros((2, 3)), np.array([-1, 0]))
    with pytest.raises(ValueError, match="target must have one label per row of output"):
        CrossEntropyLoss().forward(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="target must hold integers"):
        CrossEntropyLoss().forward(np.zeros((2, 3)), np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match=r"target must have the output's shape \(2, 1\)"):
        MSELoss().forward(np.zeros((2, 1)), np.zeros(3))
    with pytest.raises(ValueError, match="target contains 1 NaN"):
        MSELoss().forward(np.zeros((2, 1)), np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match=r"target must lie in \[0, 1\]"):
        BCEWithLogitsLoss().forward(np.zeros((2, 1)), np.array([0.0, 2.0]))
    with pytest.raises(ValueError, match="output must be a 2-D array"):
        MSELoss().forward(np.zeros(3), np.zeros(3))
