"""Shared input checks for every latentlab module.

Each check raises a ``ValueError`` (wrong shape, range or non-finite values)
or a ``TypeError`` (wrong kind of object) whose message names the argument and
says what was expected. Modules call these instead of writing their own, so the
messages read the same across the book. The scalar checks live in
:mod:`latentlab._scalars` and are re-exported here.
"""

from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np

from latentlab._scalars import (
    check_float_dtype,
    check_integer,
    check_option,
    check_positive,
    check_real,
)

__all__ = [
    "as_generator",
    "check_array",
    "check_finite",
    "check_probabilities",
    "check_positive",
    "check_integer",
    "check_in_range",
    "check_same_length",
    "check_option",
    "check_float_dtype",
    "check_real",
]


def as_generator(rng: None | int | np.random.Generator = None) -> np.random.Generator:
    """Normalise an ``rng`` argument to a :class:`numpy.random.Generator` (SPEC 7).

    Parameters
    ----------
    rng : None, int or numpy.random.Generator
        ``None`` gives a fresh, unpredictable generator; an integer seeds a new
        one; a generator is returned unchanged (so the caller's stream advances).

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    TypeError
        If ``rng`` is anything else (for example the legacy ``RandomState`` or
        a float).

    Examples
    --------
    >>> from latentlab._validation import as_generator
    >>> a = as_generator(3).normal(size=2)
    >>> b = as_generator(3).normal(size=2)
    >>> bool((a == b).all())
    True
    >>> g = np.random.default_rng(0)
    >>> as_generator(g) is g
    True
    """
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (bool, np.bool_)):
        raise TypeError("rng must be None, an int seed or a numpy.random.Generator, got bool")
    if isinstance(rng, numbers.Integral):
        if rng < 0:
            raise ValueError(f"rng must be a non-negative integer seed, got {rng}")
        return np.random.default_rng(int(rng))
    raise TypeError(
        "rng must be None, an int seed or a numpy.random.Generator, "
        f"got {type(rng).__name__}"
    )


def _shape_matches(shape: tuple[int, ...], expected: Sequence[int | None]) -> bool:
    if len(shape) != len(expected):
        return False
    return all(e is None or s == e for s, e in zip(shape, expected))


def _format_shape(expected: Sequence[int | str | None]) -> str:
    parts = ["?" if e is None else str(e) for e in expected]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def check_array(
    value,
    name: str,
    *,
    ndim: int | None = None,
    shape: Sequence[int | None] | None = None,
    dtype: str | type | None = float,
    finite: bool = True,
    allow_nan: bool = False,
) -> np.ndarray:
    """Convert ``value`` to an array and check its dimensions, shape and values.

    Parameters
    ----------
    value : array_like
        The input to check.
    name : str
        The argument's name, used in every error message.
    ndim : int, optional
        Required number of dimensions.
    shape : sequence of int or None, optional
        Required shape; ``None`` entries match any size.
    dtype : {float, int, bool, None}
        ``float`` converts to float64; ``int`` requires integer values (floats
        that are whole numbers are accepted and converted); ``bool`` requires
        0/1 or booleans; ``None`` keeps the dtype as it is.
    finite : bool
        Reject infinite values (and NaN, unless ``allow_nan``).
    allow_nan : bool
        Accept NaN entries (for data with missing values); infinities are
        still rejected when ``finite`` is true.

    Returns
    -------
    numpy.ndarray

    Examples
    --------
    >>> from latentlab._validation import check_array
    >>> check_array([[1, 2], [3, 4]], "X", shape=(None, 2)).dtype
    dtype('float64')
    >>> check_array([1.0, 2.0], "E", ndim=2)
    Traceback (most recent call last):
    ...
    ValueError: E must be a 2-D array, got shape (2,)
    """
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be array-like, got {type(value).__name__}")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise ValueError(f"{name} must be a rectangular array: {exc}") from exc
    if array.dtype == object:
        raise TypeError(f"{name} must hold numbers, got an object array")
    if np.iscomplexobj(array):
        raise TypeError(f"{name} must hold real numbers, got complex dtype {array.dtype}")
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array, got shape {array.shape}")
    if shape is not None and not _shape_matches(array.shape, shape):
        raise ValueError(
            f"{name} must have shape {_format_shape(shape)}, got {array.shape}"
        )
    if dtype is float:
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
            raise TypeError(f"{name} must hold numbers, got dtype {array.dtype}")
        array = array.astype(np.float64, copy=False)
    elif dtype is int:
        if np.issubdtype(array.dtype, np.integer):
            pass
        elif np.issubdtype(array.dtype, np.floating):
            if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
                raise ValueError(f"{name} must hold integers, got non-integer values")
            array = array.astype(np.int64)
        else:
            raise TypeError(f"{name} must hold integers, got dtype {array.dtype}")
    elif dtype is bool:
        if array.dtype != bool:
            if not np.issubdtype(array.dtype, np.number):
                raise TypeError(f"{name} must hold 0/1 values, got dtype {array.dtype}")
            if np.any((array != 0) & (array != 1)):
                raise ValueError(f"{name} must hold only 0 and 1")
            array = array.astype(bool)
    if finite and np.issubdtype(array.dtype, np.floating):
        bad = ~np.isfinite(array)
        if allow_nan:
            bad &= ~np.isnan(array)
        if np.any(bad):
            what = "infinite" if allow_nan else "NaN or infinite"
            raise ValueError(
                f"{name} contains {int(bad.sum())} {what} value(s); expected finite numbers"
            )
    return array


def check_finite(value: np.ndarray, name: str) -> np.ndarray:
    """Raise ``ValueError`` if ``value`` holds NaN or infinity.

    Examples
    --------
    >>> from latentlab._validation import check_finite
    >>> check_finite(np.array([1.0, np.nan]), "G")
    Traceback (most recent call last):
    ...
    ValueError: G contains 1 NaN or infinite value(s); expected finite numbers
    """
    array = np.asarray(value)
    bad = ~np.isfinite(array)
    if np.any(bad):
        raise ValueError(
            f"{name} contains {int(bad.sum())} NaN or infinite value(s); expected finite numbers"
        )
    return array


def check_probabilities(
    value, name: str, *, open_interval: bool = False, sums_to_one_axis: int | None = None
) -> np.ndarray:
    """Check that ``value`` holds probabilities in [0, 1] (or (0, 1)).

    Parameters
    ----------
    value : array_like
    name : str
    open_interval : bool
        Require 0 < p < 1 strictly.
    sums_to_one_axis : int, optional
        Also require the entries to sum to one along this axis (tolerance 1e-8).

    Examples
    --------
    >>> from latentlab._validation import check_probabilities
    >>> check_probabilities([0.2, 0.8], "weights", sums_to_one_axis=0)
    array([0.2, 0.8])
    >>> check_probabilities([0.2, 1.5], "p")
    Traceback (most recent call last):
    ...
    ValueError: p must lie in [0, 1], got values from 0.2 to 1.5
    """
    array = check_array(value, name, dtype=float)
    low, high = (float(np.min(array)), float(np.max(array))) if array.size else (0.0, 0.0)
    if open_interval:
        if np.any(array <= 0) or np.any(array >= 1):
            raise ValueError(f"{name} must lie in (0, 1), got values from {low:g} to {high:g}")
    elif np.any(array < 0) or np.any(array > 1):
        raise ValueError(f"{name} must lie in [0, 1], got values from {low:g} to {high:g}")
    if sums_to_one_axis is not None:
        sums = array.sum(axis=sums_to_one_axis)
        if not np.allclose(sums, 1.0, atol=1e-8, rtol=0):
            worst = float(np.max(np.abs(sums - 1.0)))
            raise ValueError(
                f"{name} must sum to 1 along axis {sums_to_one_axis}; largest deviation {worst:.3g}"
            )
    return array


def check_in_range(value, name: str, low: float, high: float) -> np.ndarray:
    """Check every entry of ``value`` lies in the closed interval [low, high].

    Examples
    --------
    >>> from latentlab._validation import check_in_range
    >>> check_in_range([0, 5], "E", 0, 4)
    Traceback (most recent call last):
    ...
    ValueError: E must lie in [0, 4], got values from 0 to 5
    """
    array = np.asarray(value)
    if array.size and (np.min(array) < low or np.max(array) > high):
        raise ValueError(
            f"{name} must lie in [{low:g}, {high:g}], "
            f"got values from {np.min(array):g} to {np.max(array):g}"
        )
    return array


def check_same_length(arrays: dict[str, np.ndarray], axis: int = 0) -> int:
    """Check that named arrays agree in size along ``axis``; return that size.

    Examples
    --------
    >>> from latentlab._validation import check_same_length
    >>> check_same_length({"X": np.zeros((3, 2)), "y": np.zeros(3)})
    3
    >>> check_same_length({"X": np.zeros((3, 2)), "y": np.zeros(4)})
    Traceback (most recent call last):
    ...
    ValueError: arrays must have the same length along axis 0: X has 3, y has 4
    """
    sizes = {name: np.shape(a)[axis] for name, a in arrays.items()}
    if len(set(sizes.values())) > 1:
        listed = ", ".join(f"{n} has {s}" for n, s in sizes.items())
        raise ValueError(f"arrays must have the same length along axis {axis}: {listed}")
    return next(iter(sizes.values()))
