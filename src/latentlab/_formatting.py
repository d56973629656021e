"""Numbers written so they never lie: the formatting half of :mod:`latentlab.claims`.

:func:`num`, :func:`pct`, :func:`interval`, :func:`centre_range`,
:func:`estimate` and :func:`of_total` turn computed values into the words of a
sentence (significant digits, scientific notation for tiny values, never ``0.0``
or ``0.0 %`` for a value that is not zero). :mod:`latentlab.claims` re-exports
them; import them from there.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

__all__ = ["num", "pct", "interval", "centre_range", "estimate", "of_total"]

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


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


def estimate(value, lo, hi, digits: int = 3) -> str:
    """Format an estimate with its interval as ``"value [lo, hi]"`` (``lo <= hi``).

    Examples
    --------
    >>> from latentlab.claims import estimate
    >>> estimate(0.523, 0.31, 0.70, 2)
    '0.52 [0.31, 0.70]'
    """
    value_v = _as_real(value, "value")
    # the value need not lie inside: a bootstrap percentile interval may miss it
    return f"{num(value_v, digits)} {interval(lo, hi, digits)}"


def of_total(count, total, noun: str) -> str:
    """Say how many of a total: ``"all 12 pairs"`` or ``"5 of 12 pairs"``.

    Examples
    --------
    >>> from latentlab.claims import of_total
    >>> of_total(12, 12, "pairs"), of_total(5, 12, "pairs")
    ('all 12 pairs', '5 of 12 pairs')
    """
    for name, value in (("count", count), ("total", total)):
        if isinstance(value, bool) or not isinstance(value, Integral):
            raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if not 0 <= count <= total:
        raise ValueError(f"count must lie in [0, total]; got count={count}, total={total}")
    if not isinstance(noun, str):
        raise TypeError(f"noun must be a str, got {type(noun).__name__}")
    return f"all {total} {noun}" if count == total else f"{count} of {total} {noun}"
