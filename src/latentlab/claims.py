"""Claims a page makes, checked where they are made; numbers formatted so they never lie.

Every quantitative or directional sentence of the book is backed by a check that
runs inside the page itself, so a false claim stops the page's execution, in fast
mode (``make test``) and at full size (``make book``) alike.

* :func:`say` builds a sentence from computed numbers and returns it as Markdown,
  which renders in the HTML book, in plain Jupyter and in JupyterLab. Keyword
  arguments are named checks that must all hold.
* :func:`check` backs a sentence written in the page's static prose.
* :func:`num`, :func:`pct`, :func:`interval`, :func:`centre_range`,
  :func:`estimate` and :func:`of_total` format numbers: significant digits,
  scientific notation for tiny values, and never ``0.0`` or ``0.0 %`` for a value
  that is not zero (they live in :mod:`latentlab._formatting`).

A page uses them like this (the cell carries the ``remove-input`` tag, so the
reader sees only the sentence)::

    say(f"The hot start's AUC is {num(auc_hot)}, "
        f"{'above' if auc_hot > auc_cold else 'below'} the cold fit's {num(auc_cold)}.",
        auc_in_range=0.5 < auc_hot < 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from latentlab._formatting import centre_range, estimate, interval, num, of_total, pct

__all__ = [
    "ClaimError",
    "Claim",
    "num",
    "pct",
    "interval",
    "centre_range",
    "estimate",
    "of_total",
    "check",
    "say",
    "record",
    "reset",
]



class ClaimError(AssertionError):
    """A sentence of the book is not supported by the numbers its page computed."""


@dataclass(frozen=True)
class Claim:
    """One checked claim: the sentence (or its summary) and the named checks it made."""

    text: str
    checks: dict[str, bool] = field(default_factory=dict)


_RECORD: list[Claim] = []


def record() -> list[Claim]:
    """Return the claims checked so far in this process (oldest first).

    Examples
    --------
    >>> from latentlab.claims import check, record, reset
    >>> reset(); check(1 < 2, "one is less than two"); len(record())
    1
    """
    return list(_RECORD)


def reset() -> None:
    """Forget the claims recorded so far (a page starts with an empty record)."""
    _RECORD.clear()


def _as_condition(value, name: str) -> bool:
    try:
        import numpy as np

        if isinstance(value, np.ndarray):
            if value.size != 1:
                raise TypeError(
                    f"check {name!r} must be a single truth value; got an array of "
                    f"shape {value.shape} (use .all() or .any() to say which you mean)"
                )
            value = value.item()
        if isinstance(value, np.bool_):
            value = bool(value)
    except ImportError:  # pragma: no cover
        pass
    if not isinstance(value, bool):
        raise TypeError(f"check {name!r} must be True or False; got {type(value).__name__} {value!r}")
    return value


def check(condition, claim: str) -> None:
    """Raise :class:`ClaimError` unless ``condition`` holds for the sentence ``claim``.

    Use it in a hidden cell right after a sentence of static prose whose direction
    or size it backs.

    Examples
    --------
    >>> from latentlab.claims import check
    >>> check(2 > 1, "two exceeds one")
    >>> check(2 < 1, "two is less than one")
    Traceback (most recent call last):
    ...
    latentlab.claims.ClaimError: the page claims "two is less than one", but its numbers say otherwise
    """
    if not isinstance(claim, str) or not claim.strip():
        raise TypeError(f"claim must be the sentence it backs (a non-empty str); got {claim!r}")
    ok = _as_condition(condition, claim)
    _RECORD.append(Claim(claim, {claim: ok}))
    if not ok:
        raise ClaimError(f'the page claims "{claim}", but its numbers say otherwise')


def say(text: str, **checks):
    """Return the computed sentence ``text`` as Markdown, after every named check holds.

    Parameters
    ----------
    text : str
        The sentence(s), usually an f-string built with :func:`num` and :func:`pct`.
        Markdown and ``$maths$`` are fine; MyST roles are not (plain Jupyter cannot
        render them).
    **checks : bool
        Named conditions the sentence relies on; all must be true.

    Returns
    -------
    IPython.display.Markdown
        Renders as the sentence wherever the notebook is shown.

    Raises
    ------
    ClaimError
        If a check is false; the message names the failed checks and quotes the text.

    Examples
    --------
    >>> from latentlab.claims import say, num
    >>> say(f"The loss fell to {num(0.01234)}.", fell=0.01234 < 1).data
    'The loss fell to 0.0123.'
    """
    if not isinstance(text, str) or not text.strip():
        raise TypeError(f"text must be a non-empty str; got {text!r}")
    results = {name: _as_condition(value, name) for name, value in checks.items()}
    _RECORD.append(Claim(text, results))
    failed = [name for name, ok in results.items() if not ok]
    if failed:
        raise ClaimError(
            f"the page says {text!r}, but these checks failed: {', '.join(failed)}"
        )
    from IPython.display import Markdown

    return Markdown(text)
