"""Claims a page makes, checked where they are made; numbers formatted so they never lie.

Every quantitative or directional sentence of the book is backed by a check that
runs inside the page itself, so a false claim stops the page's execution, in fast
mode (``make test``) and at full size (``make book``) alike.

* :func:`say` builds a sentence from computed numbers and returns it as Markdown,
  which renders in the HTML book, in plain Jupyter and in JupyterLab. Keyword
  arguments are named checks that must all hold.
* :func:`check` backs a sentence written in the page's static prose.
* :func:`num`, :func:`pct` and :func:`interval` format numbers: significant
  digits, scientific notation for tiny values, and never ``0.0`` or ``0.0 %`` for
  a value that is not zero.

A page uses them like this (the cell carries the ``remove-input`` tag, so the
reader sees only the sentence)::

    say(f"The hot start's AUC is {num(auc_hot)}, "
        f"{'above' if auc_hot > auc_cold else 'below'} the cold fit's {num(auc_cold)}.",
        auc_in_range=0.5 < auc_hot < 1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Real

__all__ = [
    "ClaimError",
    "Claim",
    "num",
    "pct",
    "interval",
    "centre_range",
    "check",
    "say",
    "record",
    "reset",
]

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


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


def _as_real(x, name: str) -> float:
    if isinstance(x, bool) or not isinstance(x, Real):
        try:
            import numpy as np

            if isinstance(x, np.generic) and np.isrealobj(x) and not isinstance(x, np.bool_):
                return float(x)
        except ImportError:  # pragma: no cover - numpy is a dependency
            pass
        raise TypeError(f"{name} must be a real number; got {type(x).__name__} {x!r}")
    return float(x)


def _check_digits(digits) -> int:
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 15:
        raise ValueError(f"digits must be an integer from 1 to 15; got {digits!r}")
    return digits


def num(
    x, digits: int = 3, *, sign: bool = False, sci_below: float = 1e-3, sci_above: float = 1e9
) -> str:
    """Format a number with ``digits`` significant digits, never showing 0 for non-zero.

    Integers (and floats that are whole numbers of at most 15 digits) print in full
    with thousands separators; values whose magnitude is below ``sci_below`` print
    in scientific notation (``5.1×10⁻⁴``), and so do magnitudes of ``sci_above`` or
    more; ``sign=True`` prefixes ``+`` to positive values.

    Parameters
    ----------
    x : real number
    digits : int, default 3
        Significant digits of non-integer values.
    sign : bool, default False
        Write ``+`` before positive values (for differences).
    sci_below : float, default 1e-3
        Magnitudes below this (and above zero) use scientific notation.
    sci_above : float, default 1e9
        Magnitudes at or above this use scientific notation.

    Returns
    -------
    str

    Examples
    --------
    >>> from latentlab.claims import num
    >>> num(0.123456), num(12.3456), num(1234.5), num(10000), num(5.1e-4)
    ('0.123', '12.3', '1,234', '10,000', '5.10×10⁻⁴')
    >>> num(0.0), num(-0.00049, 2), num(0.25, sign=True)
    ('0', '-4.9×10⁻⁴', '+0.25')
    """
    value = _as_real(x, "x")
    digits = _check_digits(digits)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return ("+" if sign else "") + "∞" if value > 0 else "−∞"
    prefix = "+" if sign and value > 0 else ""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude < sci_below or magnitude >= sci_above:
        mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
        return f"{prefix}{mantissa}×10{str(int(exponent)).translate(_SUPERSCRIPT)}"
    if float(value).is_integer() and magnitude < 1e15:
        return f"{prefix}{int(value):,}"
    if magnitude >= 10 ** digits:
        return f"{prefix}{round(value):,}"
    decimals = max(digits - 1 - math.floor(math.log10(magnitude)), 0)
    text = f"{value:,.{decimals}f}"
    # rounding can carry into a new digit (9.996 -> 10.00): recompute once
    if abs(float(text.replace(",", ""))) >= 10 ** (math.floor(math.log10(magnitude)) + 1):
        decimals = max(decimals - 1, 0)
        text = f"{value:,.{decimals}f}"
    return prefix + text


def pct(fraction, digits: int = 2, *, sign: bool = False) -> str:
    """Format a fraction as a percentage with ``digits`` significant digits.

    Never prints ``0 %`` for a non-zero fraction (tiny values keep their
    significant digits: ``0.0012 %``) nor ``100 %`` for a fraction below one.
    Exact zero prints as ``0 %``.

    Examples
    --------
    >>> from latentlab.claims import pct
    >>> pct(0.1234), pct(1.0), pct(0.000012), pct(0), pct(-0.05, sign=True)
    ('12 %', '100 %', '0.0012 %', '0 %', '-5 %')
    >>> pct(0.9996)
    '99.96 %'
    """
    value = _as_real(fraction, "fraction") * 100.0
    value = float(f"{value:.12g}")  # 0.07 * 100 is 7.000000000000001: read it as 7
    digits = _check_digits(digits)
    text = num(value, digits, sign=sign, sci_below=1e-6)
    # a fraction that is not 1 never reads "100 %": add digits until it shows
    while value != 100.0 and text.lstrip("+") == "100" and digits < 15:
        digits += 1
        text = num(value, digits, sign=sign, sci_below=1e-6)
    return text + " %"


def interval(lo, hi, digits: int = 3) -> str:
    """Format an interval as ``[lo, hi]`` with :func:`num`.

    Examples
    --------
    >>> from latentlab.claims import interval
    >>> interval(0.61234, 0.7001)
    '[0.612, 0.700]'
    """
    lo_v, hi_v = _as_real(lo, "lo"), _as_real(hi, "hi")
    if lo_v > hi_v:
        raise ValueError(f"interval needs lo <= hi; got lo={lo_v!r}, hi={hi_v!r}")
    digits = _check_digits(digits)
    # both ends with the decimals of the wider one, so [0.612, 0.700] not [0.612, 0.7]
    ends = [num(lo_v, digits), num(hi_v, digits)]
    decimals = max((len(e.split(".")[1]) if "." in e and "×" not in e else 0) for e in ends)
    if all("×" not in e for e in ends) and decimals:
        ends = [f"{v:,.{decimals}f}" for v in (lo_v, hi_v)]
    return f"[{ends[0]}, {ends[1]}]"


def centre_range(values, digits: int = 3, *, centre: str = "mean") -> str:
    """Format a sample as ``"centre [min, max]"`` with :func:`num` and :func:`interval`.

    Parameters
    ----------
    values : sequence of real numbers
        One number per seed, run or pair (at least one, all finite).
    digits : int
        Significant digits.
    centre : {"mean", "median"}

    Examples
    --------
    >>> from latentlab.claims import centre_range
    >>> centre_range([1.0, 2.0, 4.5], 2)
    '2.5 [1.0, 4.5]'
    >>> centre_range([1.0, 2.0, 4.5], 2, centre="median")
    '2 [1.0, 4.5]'
    """
    import numpy as np

    if centre not in ("mean", "median"):
        raise ValueError(f"centre must be 'mean' or 'median', got {centre!r}")
    try:
        x = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise TypeError(f"values must be real numbers, got {type(values).__name__}") from exc
    if x.size == 0 or not np.isfinite(x).all():
        raise ValueError("values must be a non-empty sample of finite numbers")
    middle = x.mean() if centre == "mean" else np.median(x)
    return f"{num(middle, digits)} {interval(x.min(), x.max(), digits)}"


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
