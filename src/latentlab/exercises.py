"""Answer checkers for the exercises: right or wrong, with a hint, never the solution.

A student edition puts a check cell after each checkable answer cell::

    from latentlab import exercises
    exercises.stage3_gradient(dpi_dlambda)

Each checker returns a :class:`Feedback` that displays as one line. An answer
left as the scaffold (``...``, ``None``, or a function that raises
``NotImplementedError`` or returns ``...``) gives "not answered yet" and raises
nothing, so a notebook runs top to bottom before anyone has answered. Reference
values are computed inside the checker and never shown.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from latentlab._answers import (
    Feedback,
    _cases,
    check_choice,
    check_function,
    check_number,
)

__all__ = [
    "Feedback",
    "check_number",
    "check_choice",
    "check_function",
    "stage3_gradient",
    "outer_sigmoid_upper",
    "rising_hazard_larger",
    "bernoulli_m_step",
    "tempered_fraction",
    "tau_update",
    "dense_backward",
    "heavy_ball",
    "reversal_noticed_by",
]


def stage3_gradient(answer: Callable) -> Feedback:
    """Exercise 1.1: ``answer(lam, phi, kappa)`` returns ∂π_d/∂λ_j, shape (D, K)."""
    from latentlab.mixing import gradient_wrt_lambda

    cases = _cases(
        1,
        lambda r: (
            r.normal(size=3),
            r.normal(-3, 1, size=(3, 4)),
            float(r.uniform(0.5, 3)),
        ),
    )
    return check_function(
        answer,
        lambda lam, phi, kappa: gradient_wrt_lambda(3, lam, phi, kappa=kappa),
        cases,
        what="dpi_dlambda",
        hint="Differentiate θ_k first, then sum over k; rows: diseases, columns: λ_j.",
    )


def outer_sigmoid_upper(value) -> Feedback:
    """Exercise 1.3: the least upper bound of σ(Σ_k θ_k σ(x_k))."""
    from scipy.special import expit

    return check_number(
        value,
        float(expit(1.0)),
        what="upper_end",
        hint="What is the largest value Σ_k θ_k σ(x_k) can approach?",
    )


def rising_hazard_larger(value) -> Feedback:
    """Exercise 2.1: which k-year risk is larger when the hazard rises with age."""
    return check_choice(
        value,
        "dynamic",
        ("static", "dynamic"),
        what="larger_risk",
        hint="Which years' hazards does each risk use over the window?",
    )


def _bernoulli_reference(data, resp):
    observed = ~np.isnan(data)
    return (resp.T @ np.nan_to_num(data)) / (resp.T @ observed.astype(float))


def bernoulli_m_step(answer: Callable) -> Feedback:
    """Exercise 3.1: ``answer(X, resp)`` returns θ, shape (K, D); NaN marks missing."""

    def make(r):
        X = (r.random((40, 5)) < 0.4).astype(float)
        X[r.random(X.shape) < 0.2] = np.nan
        X[0] = 1.0  # every feature observed at least once
        return X, r.dirichlet(np.ones(3), size=40)

    return check_function(
        answer,
        _bernoulli_reference,
        _cases(3, make),
        what="bernoulli_theta",
        hint="Missing entries must drop out of numerator and denominator.",
    )


def tempered_fraction(value, r=(0.3, 0.7), temperature: float = 0.25) -> Feedback:
    """Exercise 3.2: long-run share of time in component 2 at temperature T."""
    weights = np.asarray(r, dtype=float) ** (1.0 / temperature)
    return check_number(
        value,
        float(weights[1] / weights.sum()),
        rtol=1e-3,
        what="fraction_in_2",
        hint="The stationary law is not r itself: how does T enter?",
    )


def tau_update(answer: Callable) -> Feedback:
    """Exercise 4.1: ``answer(a0, b0, n_d, sq_residuals)`` returns (a, b) of q(τ_d)."""

    def reference(a0, b0, n_d, sq):
        return a0 + n_d / 2, b0 + 0.5 * float(np.sum(sq))

    def make(r):
        n = int(r.integers(5, 50))
        return (
            float(r.uniform(1e-3, 2)),
            float(r.uniform(1e-3, 2)),
            n,
            r.gamma(1.0, size=n),
        )

    return check_function(
        answer,
        reference,
        _cases(4, make),
        what="q_tau",
        hint="Collect the powers of log τ and the multiples of τ.",
    )


def dense_backward(answer: Callable) -> Feedback:
    """Exercise 5.1: ``answer(A, W, delta)`` returns (dL/dW, dL/db, dL/dA)."""

    def reference(A, W, delta):
        return delta.T @ A, delta.sum(axis=0), delta @ W

    def make(r):
        return r.normal(size=(5, 4)), r.normal(size=(3, 4)), r.normal(size=(5, 3))

    return check_function(
        answer,
        reference,
        _cases(5, make),
        what="dense_grads",
        hint="Write Z_ik = Σ_j A_ij W_kj + b_k and differentiate entry-wise.",
    )


def _heavy_ball_reference(theta0, lr, momentum, steps):
    from latentlab.optim import Momentum

    curvature = np.array([1.0, 50.0])
    theta, grad = np.array(theta0, dtype=float), np.zeros(2)
    optimizer = Momentum([theta], [grad], lr=lr, momentum=momentum)
    for _ in range(steps):
        grad[...] = curvature * theta
        optimizer.step()
    return theta


def heavy_ball(answer: Callable) -> Feedback:
    """Exercise 5.2: ``answer(theta0, lr, momentum, steps)`` returns θ after ``steps``
    heavy-ball steps on f(θ) = (θ₁² + 50 θ₂²) / 2."""
    cases = [
        ((1.0, 1.0), 0.01, 0.9, 100),
        ((-2.0, 0.5), 0.02, 0.5, 30),
        ((0.3, -1.0), 0.005, 0.0, 10),
    ]
    return check_function(
        answer,
        _heavy_ball_reference,
        cases,
        what="heavy_ball_theta",
        hint="Update the velocity with the gradient at the current θ, then step θ.",
    )


def reversal_noticed_by(value) -> Feedback:
    """Exercise 6.1: which collinearity variant notices a reversed curve."""
    return check_choice(
        value,
        "oriented",
        ("faithful", "oriented"),
        what="noticed_by",
        hint="Which variant looks at the order of the points, not only where they are?",
    )
