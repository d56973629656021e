"""The claims mechanism: number formatting, checks, and a false claim stopping a page."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from latentlab.book_tools import ROOT, execute_page
from latentlab.claims import ClaimError, check, interval, num, pct, record, reset, say


@pytest.mark.parametrize(
    "value, digits, expected",
    [
        (0.123456, 3, "0.123"),
        (5.04e-4, 2, "5.0×10⁻⁴"),  # the ch5 "final loss 0.000" case
        (0.0, 3, "0"),
        (1234.5, 3, "1,234"),
        (220, 3, "220"),
        (9.996, 3, "10.0"),
        (-0.0123, 2, "-0.012"),
        (2.5e12, 3, "2.50×10¹²"),
    ],
)
def test_num_known_answers(value, digits, expected):
    assert num(value, digits) == expected


@pytest.mark.parametrize("value", [1e-12, 3e-7, 4.9e-4, 0.00049, 0.004, 0.0451, 0.999])
def test_num_never_shows_zero_for_nonzero(value):
    for digits in (1, 2, 3):
        text = num(value, digits)
        assert float(text.replace(",", "").split("×")[0]) != 0.0, text


@pytest.mark.parametrize("fraction", [1e-9, 2e-5, 4e-4, 0.0004, 0.9996, 0.99999])
def test_pct_never_reads_zero_or_hundred_wrongly(fraction):
    text = pct(fraction)
    mantissa = float(text.split(" ")[0].split("×")[0])
    assert mantissa != 0.0 and text != "100 %", text


def test_num_accepts_numpy_scalars_and_refuses_others():
    assert num(np.float32(0.5)) == "0.500" and num(np.int64(7)) == "7"
    with pytest.raises(TypeError, match="x must be a real number"):
        num("0.5")
    with pytest.raises(TypeError, match="x must be a real number"):
        num(1 + 2j)
    with pytest.raises(ValueError, match="digits must be an integer from 1 to 15"):
        num(0.5, digits=0)


def test_interval_uses_common_decimals_and_refuses_reversed():
    assert interval(0.61234, 0.7001) == "[0.612, 0.700]"
    with pytest.raises(ValueError, match="lo <= hi"):
        interval(2, 1)


def test_check_and_say_record_and_raise():
    reset()
    check(True, "a true sentence")
    assert say("It holds.", holds=np.bool_(True)).data == "It holds."
    assert [c.text for c in record()] == ["a true sentence", "It holds."]
    with pytest.raises(ClaimError, match="bigger"):
        say("A is bigger than B.", bigger=1 > 2, positive=1 > 0)
    with pytest.raises(ClaimError, match="the page claims"):
        check(np.float64(1.0) > 2, "one exceeds two")
    with pytest.raises(TypeError, match="single truth value"):
        say("Arrays are ambiguous.", ok=np.array([True, False]))
    with pytest.raises(TypeError, match="must be True or False"):
        check(1, "an integer is not a truth value")


FALSE_PAGE = textwrap.dedent(
    """\
    ---
    jupytext:
      text_representation: {extension: .md, format_name: myst, format_version: 0.13}
    kernelspec: {display_name: Python 3, language: python, name: python3}
    ---

    # A page with a false claim

    ```{code-cell} ipython3
    :tags: [parameters]

    import os

    fast = os.environ.get("LATENTLAB_FAST", "0") == "1"
    ```

    ```{code-cell} ipython3
    :tags: [remove-input]

    from latentlab.claims import num, say

    loss_hot, loss_cold = 1.5, 1.2
    say(f"The hot start ends lower ({num(loss_hot)} < {num(loss_cold)}).",
        hot_lower=loss_hot < loss_cold)
    ```
    """
)


def _write_false_book(folder: Path) -> None:
    (folder / "book").mkdir()
    (folder / "book" / "false.md").write_text(FALSE_PAGE, encoding="utf-8")
    (folder / "_toc.yml").write_text("format: jb-book\nroot: book/false\n", encoding="utf-8")
    config = (ROOT / "_config.yml").read_text(encoding="utf-8")
    (folder / "_config.yml").write_text(config, encoding="utf-8")
    if (ROOT / "book" / "references.bib").exists():
        shutil.copy(ROOT / "book" / "references.bib", folder / "book" / "references.bib")


@pytest.mark.notebook
def test_false_claim_fails_page_execution(tmp_path):
    import papermill

    _write_false_book(tmp_path)
    with pytest.raises(papermill.PapermillExecutionError, match="hot_lower"):
        execute_page("book/false", root=tmp_path, fast=True, cell_timeout=120)


@pytest.mark.notebook
@pytest.mark.slow
def test_false_claim_fails_the_book_build(tmp_path):
    """The same page, built by jupyter-book exactly as ``make book`` does, fails."""
    _write_false_book(tmp_path)
    jb = Path(sys.executable).with_name("jupyter-book")
    result = subprocess.run(
        [str(jb), "build", str(tmp_path), "--all", "-W", "-n", "--keep-going"],
        capture_output=True,
        text=True,
        timeout=600,
        env={**__import__("os").environ, "LATENTLAB_FAST": "0"},
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "ClaimError" in output, output[-3000:]


def test_centre_range_formats_mean_or_median_and_range():
    from latentlab.claims import centre_range

    assert centre_range([1.0, 2.0, 4.5], 2) == "2.5 [1.0, 4.5]"
    assert centre_range([1.0, 2.0, 4.5], 2, centre="median") == "2 [1.0, 4.5]"
    assert centre_range([0.612, 0.7], 3) == "0.656 [0.612, 0.700]"
    for bad, error in (([], ValueError), ([1.0, float("nan")], ValueError),
                       (["a"], TypeError)):
        with pytest.raises(error, match="values"):
            centre_range(bad)
    with pytest.raises(ValueError, match="centre"):
        centre_range([1.0], centre="mode")


def test_estimate_and_of_total_word_numbers():
    from latentlab.claims import estimate, of_total

    assert estimate(0.523, 0.31, 0.70, 2) == "0.52 [0.31, 0.70]"
    assert estimate(-0.05, -0.2, 0.1, 1) == "-0.05 [-0.2, 0.1]"
    assert estimate(0.9, 0.31, 0.70, 2) == "0.90 [0.31, 0.70]"  # as given, even outside
    with pytest.raises(TypeError, match="value"):
        estimate("high", 0.31, 0.70)
    with pytest.raises(ValueError, match="lo <= hi"):
        estimate(0.5, 0.7, 0.3)
    assert of_total(12, 12, "pairs") == "all 12 pairs"
    assert of_total(0, 12, "pairs") == "0 of 12 pairs"
    with pytest.raises(ValueError, match="count must lie"):
        of_total(13, 12, "pairs")
    with pytest.raises(TypeError, match="count must be an integer"):
        of_total(1.5, 12, "pairs")

