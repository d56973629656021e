"""Bad-input battery (issue 17): every public callable refuses bad input clearly.

A table of cases calls each public name of every analysis subpackage with inputs
a user could plausibly pass but that must be refused: wrong shapes, complex or
integer dtypes where floats are needed, NaN/inf, out-of-range values, unknown
option strings, mismatched lengths and empty arrays. A case passes only if the
call raises ``ValueError`` or ``TypeError`` from latentlab's own code (not from
inside numpy, torch, scipy, ...) with a message naming the argument.
``test_every_public_name_has_cases`` fails when a new public name has no case.
The cases live in :mod:`bad_input_cases`; ``python tests/bad_input_cases.py``
prints the outcome counts.
"""

import warnings

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from bad_input_cases import (
    CASES,
    EXEMPT_MODULES,
    EXEMPT_NAMES,
    KNOWN,
    MODULES,
    classify,
    public_callables,
)


def _param(case):
    key = f"{case.name}:{case.label}"
    marks = [pytest.mark.xfail(reason=KNOWN[key], strict=True)] if key in KNOWN else []
    return pytest.param(case, id=key, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_bad_input_is_refused_clearly(case):
    outcome, detail = classify(case)
    assert outcome == "clear", f"{case.name} ({case.label}): {outcome}: {detail}"


def test_every_public_name_has_cases():
    covered = {case.name for case in CASES}
    missing = sorted(set(public_callables()) - covered - set(EXEMPT_NAMES))
    assert not missing, (
        f"public names without bad-input cases (add cases or a justified exemption): {missing}"
    )
    stale = sorted(set(EXEMPT_NAMES) - set(public_callables()))
    assert not stale, f"exemptions for names that are no longer public: {stale}"


def test_every_module_is_covered_or_exempt():
    import pkgutil

    import latentlab

    found = {f"latentlab.{m.name}" for m in pkgutil.iter_modules(latentlab.__path__)}
    unknown = sorted(found - set(MODULES) - set(EXEMPT_MODULES))
    assert not unknown, (
        f"new modules: add them to MODULES (with cases) or EXEMPT_MODULES: {unknown}"
    )


bad_scalars = st.one_of(
    st.floats(max_value=0.0, allow_nan=False),
    st.just(float("nan")),
    st.just(float("inf")),
    st.just(-float("inf")),
    st.just(1j),
    st.text(max_size=3),
    st.none(),
    st.booleans(),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=bad_scalars)
def test_learning_rates_must_be_positive_finite_reals(value):
    from latentlab.nn import MLP
    from latentlab.optim import SGD, Adam

    net = MLP([2, 1], rng=0)
    for cls in (SGD, Adam):
        with pytest.raises((ValueError, TypeError), match="lr"):
            cls(net.parameters(), net.gradients(), lr=value)


@settings(max_examples=30, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    kind=st.sampled_from(["nan", "inf", "complex"]),
)
def test_check_array_callers_refuse_nan_inf_and_complex(shape, kind):
    from latentlab.alignment import kabsch
    from latentlab.hotstart import covariate_standardisation

    X = np.ones((shape[0] + 1, 3)) + np.arange(3)
    if kind == "complex":
        X = X + 1j
    else:
        X[0, 0] = np.nan if kind == "nan" else np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises((ValueError, TypeError), match="P|covariates"):
            kabsch(X, np.ones_like(X, dtype=float))
        with pytest.raises((ValueError, TypeError), match="covariates"):
            covariate_standardisation(X)
