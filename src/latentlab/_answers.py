"""Generic answer checking for :mod:`latentlab.exercises`: a verdict, numbers, choices,
functions compared with a reference on test cases, never showing the reference."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

__all__ = ["Feedback", "check_number", "check_choice", "check_function"]


@dataclass(frozen=True)
class Feedback:
    """The verdict on one answer: ``ok`` is True, False, or None (not answered yet)."""

    ok: bool | None
    message: str

    def __bool__(self) -> bool:
        return bool(self.ok)

    def __repr__(self) -> str:
        mark = {True: "✔ Correct", False: "✘ Not yet", None: "… Not answered yet"}[
            self.ok
        ]
        return f"{mark}: {self.message}"

    def _repr_markdown_(self) -> str:
        return repr(self)


def _unanswered(value: Any) -> bool:
    return value is Ellipsis or value is None or value is NotImplemented


def _not_answered(what: str) -> Feedback:
    return Feedback(
        None, f"fill in {what} in the cell above, run it, then run this cell."
    )


def check_number(
    value,
    expected: float,
    *,
    rtol: float = 1e-3,
    atol: float = 1e-9,
    what: str = "the number",
    hint: str = "",
) -> Feedback:
    """Compare a numeric answer with the reference value (never shown).

    Examples
    --------
    >>> from latentlab.exercises import check_number
    >>> check_number(0.5001, 0.5).ok, check_number(..., 0.5).ok
    (True, None)
    >>> check_number(0.7, 0.5).ok
    False
    """
    if _unanswered(value):
        return _not_answered(what)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return Feedback(
            False, f"{what} should be a number; got {type(value).__name__}."
        )
    if np.isclose(number, expected, rtol=rtol, atol=atol):
        return Feedback(True, f"{what} is right.")
    direction = "too large" if number > expected else "too small"
    return Feedback(False, f"{what} is {direction}. {hint}".strip())


def check_choice(
    value,
    expected: str,
    options: tuple[str, ...],
    *,
    what: str = "your choice",
    hint: str = "",
) -> Feedback:
    """Check a one-word answer among ``options`` (case-insensitive).

    Examples
    --------
    >>> from latentlab.exercises import check_choice
    >>> check_choice("Dynamic", "dynamic", ("static", "dynamic")).ok
    True
    >>> check_choice("sometimes", "dynamic", ("static", "dynamic")).message
    "answer with one of 'static', 'dynamic'; got 'sometimes'."
    """
    if _unanswered(value):
        return _not_answered(what)
    choice = str(value).strip().lower()
    if choice not in options:
        allowed = ", ".join(repr(o) for o in options)
        return Feedback(False, f"answer with one of {allowed}; got {value!r}.")
    if choice == expected:
        return Feedback(True, f"{what} is right.")
    return Feedback(False, f"that is not it. {hint}".strip())


def check_function(
    answer: Callable,
    reference: Callable,
    cases: list[tuple],
    *,
    what: str,
    hint: str = "",
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> Feedback:
    """Call ``answer`` and ``reference`` on every case and compare the results.

    Results may be arrays or tuples of arrays. Says which case first differs
    (its shapes, not its values), and the hint.
    """
    if _unanswered(answer) or not callable(answer):
        return (
            _not_answered(what)
            if _unanswered(answer)
            else Feedback(
                False, f"{what} should be a function; got {type(answer).__name__}."
            )
        )
    for number, args in enumerate(cases, start=1):
        try:
            got = answer(*args)
        except NotImplementedError:
            return _not_answered(what)
        except Exception as error:  # the student's code: report, do not raise
            return Feedback(
                False, f"{what} raised {type(error).__name__}: {error}. {hint}".strip()
            )
        if _unanswered(got):
            return _not_answered(what)
        want = reference(*args)
        wants = want if isinstance(want, tuple) else (want,)
        gots = got if isinstance(got, tuple) else (got,)
        if len(gots) != len(wants):
            return Feedback(
                False,
                f"{what} should return {len(wants)} value(s); it returned {len(gots)}.",
            )
        for g, w in zip(gots, wants):
            g = np.asarray(g, dtype=float)
            if g.shape != np.shape(w):
                return Feedback(
                    False,
                    f"on test case {number} {what} returned shape "
                    f"{g.shape}; expected shape {np.shape(w)}.",
                )
            if not np.allclose(g, w, rtol=rtol, atol=atol):
                return Feedback(
                    False, f"on test case {number} the values differ. {hint}".strip()
                )
    return Feedback(
        True, f"{what} agrees with the reference on {len(cases)} test cases."
    )


def _cases(
    seed: int, make: Callable[[np.random.Generator], tuple], n: int = 3
) -> list[tuple]:
    rng = np.random.default_rng(seed)
    return [make(rng) for _ in range(n)]
