"""Every shared check accepts good input and names the argument in its error."""

import numpy as np
import pytest

from latentlab._validation import (
    as_generator,
    check_array,
    check_finite,
    check_in_range,
    check_integer,
    check_positive,
    check_probabilities,
    check_same_length,
)


class TestAsGenerator:
    def test_same_seed_same_stream(self):
        assert np.array_equal(as_generator(7).normal(size=5), as_generator(7).normal(size=5))

    def test_different_seeds_differ(self):
        assert not np.array_equal(as_generator(7).normal(size=5), as_generator(8).normal(size=5))

    def test_generator_passes_through_and_advances(self):
        rng = np.random.default_rng(0)
        assert as_generator(rng) is rng
        first = as_generator(rng).normal()
        second = as_generator(rng).normal()
        assert first != second

    def test_none_gives_a_generator(self):
        assert isinstance(as_generator(None), np.random.Generator)

    def test_numpy_integer_seed(self):
        assert np.array_equal(as_generator(np.int64(3)).random(2), as_generator(3).random(2))

    @pytest.mark.parametrize("bad", [1.5, "seed", np.random.RandomState(0), [1, 2]])
    def test_rejects_other_types(self, bad):
        with pytest.raises(TypeError, match="rng must be None, an int seed or a numpy.random.Generator"):
            as_generator(bad)

    def test_rejects_bool(self):
        with pytest.raises(TypeError, match="got bool"):
            as_generator(True)

    def test_rejects_negative_seed(self):
        with pytest.raises(ValueError, match="non-negative integer seed, got -1"):
            as_generator(-1)


class TestCheckArray:
    def test_converts_to_float64(self):
        out = check_array([[1, 2], [3, 4]], "X")
        assert out.dtype == np.float64 and out.shape == (2, 2)

    def test_wrong_ndim(self):
        with pytest.raises(ValueError, match=r"E must be a 2-D array, got shape \(3,\)"):
            check_array([1, 2, 3], "E", ndim=2)

    def test_wrong_shape_names_expected(self):
        with pytest.raises(ValueError, match=r"G must have shape \(4, \?\), got \(3, 2\)"):
            check_array(np.zeros((3, 2)), "G", shape=(4, None))

    def test_nan_rejected_with_count(self):
        with pytest.raises(ValueError, match="G contains 2 NaN or infinite value"):
            check_array([[np.nan, 1.0], [np.inf, 0.0]], "G")

    def test_nan_allowed_but_inf_rejected(self):
        out = check_array([np.nan, 1.0], "X", allow_nan=True)
        assert np.isnan(out[0])
        with pytest.raises(ValueError, match="X contains 1 infinite value"):
            check_array([np.nan, np.inf], "X", allow_nan=True)

    def test_integer_dtype_accepts_whole_floats(self):
        out = check_array([1.0, 2.0], "E", dtype=int)
        assert out.dtype == np.int64

    def test_integer_dtype_rejects_fractions(self):
        with pytest.raises(ValueError, match="E must hold integers"):
            check_array([1.0, 2.5], "E", dtype=int)

    def test_integer_dtype_rejects_strings(self):
        with pytest.raises(TypeError, match="E must hold integers"):
            check_array(np.array(["a"]), "E", dtype=int)

    def test_bool_dtype(self):
        assert check_array([0, 1, 1], "event", dtype=bool).dtype == bool
        with pytest.raises(ValueError, match="event must hold only 0 and 1"):
            check_array([0, 2], "event", dtype=bool)

    def test_ragged_input(self):
        with pytest.raises(ValueError, match="X must be a rectangular array"):
            check_array([[1, 2], [3]], "X")

    def test_none_and_strings_rejected(self):
        with pytest.raises(TypeError, match="X must be array-like, got NoneType"):
            check_array(None, "X")
        with pytest.raises(TypeError, match="X must be array-like, got str"):
            check_array("abc", "X")

    def test_non_numeric_rejected(self):
        with pytest.raises(TypeError, match="X must hold numbers"):
            check_array(np.array(["a", "b"]), "X")


def test_check_finite():
    assert check_finite(np.ones(3), "x").shape == (3,)
    with pytest.raises(ValueError, match="x contains 1 NaN"):
        check_finite(np.array([1.0, np.nan]), "x")


class TestProbabilities:
    def test_closed_interval(self):
        check_probabilities([0.0, 1.0], "p")
        with pytest.raises(ValueError, match=r"p must lie in \[0, 1\], got values from -0.1 to 0.5"):
            check_probabilities([-0.1, 0.5], "p")

    def test_open_interval(self):
        with pytest.raises(ValueError, match=r"p must lie in \(0, 1\)"):
            check_probabilities([0.0, 0.5], "p", open_interval=True)

    def test_sums_to_one(self):
        check_probabilities([[0.3, 0.7], [0.5, 0.5]], "weights", sums_to_one_axis=1)
        with pytest.raises(ValueError, match="weights must sum to 1 along axis 1; largest deviation 0.1"):
            check_probabilities([[0.3, 0.8], [0.5, 0.5]], "weights", sums_to_one_axis=1)


class TestScalars:
    def test_positive(self):
        assert check_positive(2, "lr") == 2.0
        assert check_positive(0, "lr", strict=False) == 0.0
        with pytest.raises(ValueError, match="lr must be > 0, got -1"):
            check_positive(-1, "lr")
        with pytest.raises(ValueError, match="lr must be >= 0"):
            check_positive(-1, "lr", strict=False)
        with pytest.raises(ValueError, match="lr must be finite"):
            check_positive(float("nan"), "lr")
        with pytest.raises(TypeError, match="lr must be a real number, got str"):
            check_positive("0.1", "lr")

    def test_integer(self):
        assert check_integer(np.int32(4), "K", minimum=1) == 4
        with pytest.raises(ValueError, match="K must be >= 1, got 0"):
            check_integer(0, "K", minimum=1)
        with pytest.raises(ValueError, match="K must be <= 3, got 4"):
            check_integer(4, "K", maximum=3)
        with pytest.raises(TypeError, match="K must be an integer, got float"):
            check_integer(2.0, "K")
        with pytest.raises(TypeError, match="K must be an integer, got bool"):
            check_integer(True, "K")

    def test_in_range(self):
        check_in_range(np.array([0, 3]), "E", 0, 3)
        with pytest.raises(ValueError, match=r"E must lie in \[0, 3\], got values from -1 to 3"):
            check_in_range(np.array([-1, 3]), "E", 0, 3)


def test_same_length():
    assert check_same_length({"a": np.zeros(2), "b": np.zeros((2, 5))}) == 2
    with pytest.raises(ValueError, match="a has 2, b has 3"):
        check_same_length({"a": np.zeros(2), "b": np.zeros(3)})


def test_probability_error_reports_true_range():
    with pytest.raises(ValueError, match="got values from 0.7 to 1.5"):
        check_probabilities([0.7, 1.5], "p")
