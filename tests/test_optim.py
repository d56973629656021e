"""Optimisers and schedules against torch.optim; the training loop's behaviour and errors."""

import math

import numpy as np
import pytest
import torch

from latentlab.nn import MLP, CrossEntropyLoss, Dense, loss_and_gradients
from latentlab.optim import (
    SGD, Adam, AdamW, CosineAnnealingLR, ExponentialLR, Momentum, ReduceLROnPlateau, StepLR, clip_grad_norm,
    make_optimizer, penalty, train,
)
from latentlab.nn.torch_check import to_torch as torch_twin


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    net = MLP([4, 8, 3], activation="tanh", rng=rng)
    X, y = rng.normal(size=(32, 4)), rng.integers(0, 3, size=32)
    return net, X, y


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda p, g: SGD(p, g, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
        (lambda p, g: Momentum(p, g, lr=0.05, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
        (lambda p, g: Adam(p, g, lr=0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
        (lambda p, g: Adam(p, g, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01),
         lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01)),
        (lambda p, g: SGD(p, g, lr=0.1, weight_decay=0.05), lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.05)),
        (lambda p, g: AdamW(p, g, lr=0.01, decoupled_decay=0.1),
         lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1)),
    ],
    ids=["sgd", "momentum", "adam", "adam-l2", "sgd-l2", "adamw"],
)
def test_optimizer_matches_torch_over_100_steps(ours, theirs):
    net, X, y = _problem()
    twin = torch_twin(net)
    optimizer = ours(net.parameters(), net.gradients())
    reference = theirs(twin.parameters())
    X_t, y_t = torch.tensor(X), torch.tensor(y)
    loss = CrossEntropyLoss()
    for _ in range(100):
        loss_and_gradients(net, loss, X, y)
        optimizer.step()
        reference.zero_grad()
        torch.nn.functional.cross_entropy(twin(X_t), y_t).backward()
        reference.step()
    for p, q in zip(net.parameters(), twin.parameters(), strict=True):
        np.testing.assert_allclose(p, q.detach().numpy(), rtol=1e-12, atol=1e-12)


def test_l1_adds_sign_of_parameters():
    theta, grad = np.array([2.0, -3.0, 0.0]), np.zeros(3)
    SGD([theta], [grad], lr=0.1, l1=1.0).step()
    np.testing.assert_allclose(theta, [1.9, -2.9, 0.0])
    assert penalty([np.array([1.0, -2.0])], weight_decay=2.0, l1=0.5) == pytest.approx(5.0 + 1.5)


def _torch_lrs(make_scheduler, n_epochs, metrics=None):
    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = torch.optim.SGD([param], lr=0.5)
    scheduler = make_scheduler(optimizer)
    values = []
    for epoch in range(n_epochs):
        optimizer.step()
        scheduler.step(metrics[epoch]) if metrics is not None else scheduler.step()
        values.append(optimizer.param_groups[0]["lr"])
    return values


def _our_lrs(make_schedule, n_epochs, metrics=None):
    schedule = make_schedule(SGD([np.zeros(1)], [np.zeros(1)], lr=0.5))
    return [schedule.step(metrics[e]) if metrics is not None else schedule.step() for e in range(n_epochs)]


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (lambda o: StepLR(o, step_size=7, gamma=0.3), lambda o: torch.optim.lr_scheduler.StepLR(o, 7, gamma=0.3)),
        (lambda o: ExponentialLR(o, gamma=0.93), lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.93)),
        (lambda o: CosineAnnealingLR(o, t_max=25, eta_min=0.01),
         lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=25, eta_min=0.01)),
    ],
    ids=["step", "exponential", "cosine"],
)
def test_schedules_match_torch(ours, theirs):
    np.testing.assert_allclose(_our_lrs(ours, 40), _torch_lrs(theirs, 40), rtol=1e-10, atol=1e-14)


def test_reduce_on_plateau_matches_torch():
    rng = np.random.default_rng(0)
    metrics = np.concatenate([np.linspace(5, 1, 10), 1 + 0.01 * rng.random(30), np.linspace(1, 0.5, 10)]).tolist()
    ours = _our_lrs(lambda o: ReduceLROnPlateau(o, factor=0.5, patience=3, cooldown=2, min_lr=0.01), 50, metrics)
    theirs = _torch_lrs(lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(
        o, factor=0.5, patience=3, cooldown=2, min_lr=0.01), 50, metrics)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert min(ours) < 0.5  # it did reduce


def test_clip_grad_norm_matches_torch():
    rng = np.random.default_rng(1)
    grads = [rng.normal(size=(3, 4)), rng.normal(size=4)]
    params = [torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = torch.tensor(g.copy())
    total_torch = torch.nn.utils.clip_grad_norm_(params, 0.5).item()
    total = clip_grad_norm(grads, 0.5)
    assert total == pytest.approx(total_torch, rel=1e-12)
    for g, p in zip(grads, params):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-12)
    assert math.sqrt(sum(float(np.sum(g**2)) for g in grads)) == pytest.approx(0.5, rel=1e-5)


def test_train_minibatches_history_and_reproducibility():
    net_a, X, y = _problem()
    net_b, _, _ = _problem()
    a = train(net_a, "cross_entropy", X, y, lr=0.05, epochs=30, batch_size=8, rng=3, verbose=False)
    b = train(net_b, "cross_entropy", X, y, lr=0.05, epochs=30, batch_size=8, rng=3, verbose=False)
    assert a.history == b.history and a.n_iter == 30 and not a.converged
    assert all(isinstance(v, float) for v in a.history + a.grad_norm_history + a.lr_history)
    assert a.history[-1] < 0.6 * a.history[0]


def test_train_early_stopping_restores_best_weights():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 5)), rng.normal(size=30)  # pure noise: validation loss must rise
    X_val, y_val = rng.normal(size=(30, 5)), rng.normal(size=30)
    net = MLP([5, 32, 1], activation="tanh", rng=1)
    result = train(net, "mse", X, y, lr=0.02, epochs=500, X_val=X_val, y_val=y_val, patience=10, verbose=False)
    assert result.converged and result.n_iter == result.best_epoch + 10
    from latentlab.nn import MSELoss

    assert MSELoss().forward(net.forward(X_val), y_val) == pytest.approx(min(result.val_history))


def test_train_with_schedule_records_learning_rates():
    net, X, y = _problem()
    optimizer = make_optimizer("sgd", net, lr=0.1)
    result = train(net, "cross_entropy", X, y, optimizer=optimizer, epochs=6,
                   schedule=StepLR(optimizer, step_size=2, gamma=0.5), verbose=False)
    assert result.lr_history == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025])


def test_train_clipping_bounds_update_size():
    net, X, y = _problem()
    before = [p.copy() for p in net.parameters()]
    train(net, "cross_entropy", X, y, optimizer="sgd", lr=1.0, epochs=1, clip_norm=1e-3, verbose=False)
    moved = math.sqrt(sum(float(np.sum((p - q) ** 2)) for p, q in zip(net.parameters(), before)))
    assert moved == pytest.approx(1e-3, rel=1e-3)


def test_train_raises_on_non_finite_loss():
    net = MLP([1, 1], activation="identity", rng=0)
    X, y = np.array([[1e200]]), np.array([0.0])
    with pytest.raises(FloatingPointError, match="at epoch 1, batch 1"), np.errstate(over="ignore"):
        train(net, "mse", X, y, optimizer="sgd", lr=1.0, epochs=3, verbose=False)


def test_bad_inputs():
    net, X, y = _problem()
    with pytest.raises(ValueError, match="lr must be > 0, got 0"):
        SGD(net.parameters(), net.gradients(), lr=0)
    with pytest.raises(ValueError, match="lr must be > 0, got -0.1"):
        train(net, "cross_entropy", X, y, lr=-0.1, verbose=False)
    with pytest.raises(ValueError, match="arrays must have the same length along axis 0: X has 32, y has 31"):
        train(net, "cross_entropy", X, y[:-1], verbose=False)
    with pytest.raises(ValueError, match="X contains 1 NaN"):
        X_bad = X.copy()
        X_bad[0, 0] = np.nan
        train(net, "cross_entropy", X_bad, y, verbose=False)
    with pytest.raises(ValueError, match="target must lie in"):
        train(net, "cross_entropy", X, y + 1, verbose=False)
    with pytest.raises(ValueError, match="momentum must lie in"):
        Momentum(net.parameters(), net.gradients(), lr=0.1, momentum=1.5)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        train(net, "cross_entropy", X, y, optimizer="rmsprop", verbose=False)
    with pytest.raises(ValueError, match="ReduceLROnPlateau.step needs"):
        ReduceLROnPlateau(SGD([], [], lr=0.1)).step()
    with pytest.raises(ValueError, match="parameters and gradients must be lists"):
        SGD([np.zeros(2)], [np.zeros(3)], lr=0.1)
    with pytest.raises(ValueError, match="input to Dense"):
        Dense(3, 2).forward(np.zeros((1, 4)))


def test_train_keeps_float32_when_asked():
    rng = np.random.default_rng(0)
    net = MLP([4, 8, 3], activation="relu", rng=0, dtype=np.float32)
    X, y = rng.normal(size=(40, 4)).astype(np.float32), rng.integers(0, 3, size=40)
    result = train(net, "cross_entropy", X, y, optimizer="sgd", lr=0.1, epochs=5, batch_size=8, rng=0, verbose=False)
    assert all(p.dtype == np.float32 for p in net.parameters())
    assert result.history[-1] < result.history[0]


def test_adamw_decay_is_decoupled_from_the_gradient_scale():
    # L2 in the loss is divided by sqrt(v): with huge gradients Adam(weight_decay) barely
    # shrinks a parameter, while AdamW shrinks it by (1 - lr * decay) per step whatever
    # the gradient's scale. Each optimiser is compared with a twin without decay.
    def run(make, scale):
        theta, grad = np.array([1.0]), np.array([0.0])
        optimizer = make([theta], [grad])
        for step in range(100):
            grad[...] = scale * (1.0 if step % 2 == 0 else -1.0)
            optimizer.step()
        return theta[0]

    expected = 1 - (1 - 0.01 * 0.1) ** 100  # AdamW's shrinkage of a parameter at ~1
    for scale in (1.0, 1e4):
        plain = run(lambda p, g: Adam(p, g, lr=0.01), scale)
        decoupled = run(lambda p, g: AdamW(p, g, lr=0.01, decoupled_decay=0.1), scale)
        coupled = run(lambda p, g: Adam(p, g, lr=0.01, weight_decay=0.1), scale)
        assert plain - decoupled == pytest.approx(expected, rel=0.05)
        if scale > 1:
            assert abs(plain - coupled) < 1e-3 * expected


def test_make_schedule_builds_each_schedule_by_name():
    from latentlab.optim import (
        SGD,
        CosineAnnealingLR,
        ExponentialLR,
        ReduceLROnPlateau,
        StepLR,
        make_schedule,
    )

    optimizer = SGD([], [], lr=1.0)
    assert make_schedule("constant", optimizer) is None
    built = {
        "step": (make_schedule("step", optimizer, step_size=20, gamma=0.3), StepLR),
        "exponential": (make_schedule("exponential", optimizer, gamma=0.95), ExponentialLR),
        "cosine": (make_schedule("cosine", optimizer, t_max=60), CosineAnnealingLR),
        "plateau": (
            make_schedule("plateau", optimizer, factor=0.3, patience=3),
            ReduceLROnPlateau,
        ),
    }
    for name, (schedule, cls) in built.items():
        assert type(schedule) is cls, name
        assert schedule.optimizer is optimizer
    # the options reach the schedule: step decay by 0.3 every 20 epochs
    step = built["step"][0]
    rates = [step.step() for _ in range(40)]
    assert rates[18] == 1.0 and abs(rates[19] - 0.3) < 1e-15 and abs(rates[39] - 0.09) < 1e-15
    with pytest.raises(TypeError, match="no options"):
        make_schedule("constant", optimizer, gamma=0.5)
    with pytest.raises(ValueError, match="name"):
        make_schedule("cyclic", optimizer)
