"""Checks of scalar arguments (numbers, integers, options, dtypes).

Part of :mod:`latentlab._validation`, which re-exports them: import them from
there. Each raises a ``TypeError`` for the wrong kind of object and a
``ValueError`` for a value out of range, naming the argument.
"""

from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np

__all__ = ["check_positive", "check_integer", "check_option", "check_float_dtype", "check_real"]


def check_positive(value, name: str, *, strict: bool = True) -> float:
    """Check a real scalar is positive (``strict``) or non-negative.

    Examples
    --------
    >>> from latentlab._validation import check_positive
    >>> check_positive(0.1, "learning_rate")
    0.1
    >>> check_positive(0, "learning_rate")
    Traceback (most recent call last):
    ...
    ValueError: learning_rate must be > 0, got 0
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if strict and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    if not strict and value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return float(value)


def check_integer(value, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Check an integer scalar and optional bounds (inclusive).

    Examples
    --------
    >>> from latentlab._validation import check_integer
    >>> check_integer(3, "n_factors", minimum=1)
    3
    >>> check_integer(0, "n_factors", minimum=1)
    Traceback (most recent call last):
    ...
    ValueError: n_factors must be >= 1, got 0
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_option(value, name: str, options: Sequence) -> object:
    """Check ``value`` is one of ``options`` (e.g. option strings); return it.

    Examples
    --------
    >>> from latentlab._validation import check_option
    >>> check_option("pca", "init", ("pca", "random"))
    'pca'
    >>> check_option("nope", "init", ("pca", "random"))
    Traceback (most recent call last):
    ...
    ValueError: init must be one of ['pca', 'random'], got 'nope'
    """
    try:
        known = value in options
    except TypeError:  # unhashable values against a set
        known = False
    if not known or isinstance(value, (bool, np.bool_)) and not any(o is value for o in options):
        raise ValueError(f"{name} must be one of {list(options)}, got {value!r}")
    return value


def check_float_dtype(dtype, name: str = "dtype") -> np.dtype:
    """Check a numpy dtype is float32 or float64 (integer dtypes would truncate weights).

    Examples
    --------
    >>> from latentlab._validation import check_float_dtype
    >>> check_float_dtype("float32")
    dtype('float32')
    >>> check_float_dtype(np.int32)
    Traceback (most recent call last):
    ...
    TypeError: dtype must be numpy float32 or float64, got int32
    """
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name} must be numpy float32 or float64, got {dtype!r}") from None
    if resolved not in (np.float32, np.float64):
        raise TypeError(f"{name} must be numpy float32 or float64, got {resolved}")
    return resolved


def check_real(value, name: str) -> float:
    """Check a finite real scalar (any sign); return it as a float.

    Examples
    --------
    >>> from latentlab._validation import check_real
    >>> check_real(-2, "threshold")
    -2.0
    >>> check_real(float("nan"), "threshold")
    Traceback (most recent call last):
    ...
    ValueError: threshold must be finite, got nan
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return float(value)
