"""Chapter 6 in fast mode: its claims are checked inside the page; here, what they rest on.

Every sentence with a number or a direction is built by ``say`` (or backed by
``check``) in the page itself, so executing it fails on a false claim. This
test adds what the page's own checks do not: the failure demonstrations return
the statuses the prose describes, the chosen model is never a collapsed one,
the outputs are clean, and no ``{glue:text}`` prose is left.
"""

from pathlib import Path

import pytest

from notebook_harness import executed_notebook

PAGE = Path(__file__).resolve().parents[1] / "book" / "06-sweep-evaluation.md"


@pytest.fixture(scope="module")
def glue():
    """The values the page's last (hidden) cell hands to this test."""
    for cell in executed_notebook("06-sweep-evaluation").cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {}).get("application/json", {})
            if "chapter6" in data:
                return data["chapter6"]
    raise AssertionError("the page did not hand over its values")


def test_failure_demonstrations_return_the_described_statuses(glue):
    statuses = glue["failure_status"]
    # spiral h 0.4, the same without the revisit stop, spiral h 0.25, trefoil h 0.4,
    # trefoil h 0.15, long spiral with max_iter 100, long spiral with the default
    assert statuses[0] == statuses[1] == "revisit"
    assert statuses[2] == statuses[4] == statuses[6] == "ok"
    assert statuses[3] in ("revisit", "incomplete")
    assert statuses[5] == "truncated"


def test_selection_never_picks_a_collapsed_model(glue):
    ratio = glue["chosen_scale_ratio"]
    assert ratio is None or ratio >= 0.25  # None when nothing is acceptable


def test_pairs_support_the_direction_the_prose_states(glue):
    assert glue["first_n_better"] > glue["n_pairs"] / 2


def test_prose_has_no_glue_text_and_outputs_are_clean():
    text = PAGE.read_text()
    assert "{glue:text}" not in text
    notebook = executed_notebook("06-sweep-evaluation")
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.get("name") != "stderr", "".join(output.get("text", ""))[:200]
            plain = "".join(output.get("data", {}).get("text/plain", ""))
            for marker in ("<matplotlib", "<Axes", " at 0x", "array(", "np.str_("):
                assert marker not in plain, plain[:200]
