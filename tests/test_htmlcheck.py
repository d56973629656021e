"""check-html finds what a reader must not see, on small hand-made pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from latentlab.htmlcheck import check_html, check_page

GOOD_CHAPTER = """<html><body><h1><span class="section-number">3. </span>EM</h1>
<a href="../_downloads/03.ipynb">student notebook</a>
<div class="cell_input"><pre>x = 1</pre></div>
<div class="cell_output"><figure><img src="a.png"/>
<figcaption><span class="caption-number">Fig. 3.1 </span>Look here.</figcaption></figure>
<div class="output text_plain"><pre>loss 0.5</pre></div></div></body></html>"""


def _page(tmp_path: Path, body: str, name: str = "03-em.html") -> Path:
    (tmp_path / "_downloads").mkdir(exist_ok=True)
    (tmp_path / "_downloads" / "03.ipynb").write_text("{}")
    folder = tmp_path / "book"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(body, encoding="utf-8")
    return path


def test_clean_chapter_passes(tmp_path):
    assert check_page(_page(tmp_path, GOOD_CHAPTER)) == []


@pytest.mark.parametrize(
    "output, what",
    [
        ("<matplotlib.legend.Legend at 0x7f3a2b1c>", "matplotlib object repr"),
        ("<Axes: xlabel='epoch'>", "Axes/Figure repr"),
        ("Text(0.5, 0, 'epoch')", "Text(...) repr"),
        ("array([[0.08, 0.49]])", "raw array"),
        ("[np.str_('mean concave points')]", "np.str_"),
        ("UserWarning: chain is too short", "a warning"),
    ],
)
def test_reprs_and_warnings_in_outputs_are_found(tmp_path, output, what):
    body = GOOD_CHAPTER.replace("loss 0.5", output.replace("<", "&lt;").replace(">", "&gt;"))
    problems = check_page(_page(tmp_path, body))
    assert any(what in p for p in problems), problems


def test_stderr_long_lines_uncaptioned_figures_and_missing_links(tmp_path):
    body = (
        GOOD_CHAPTER.replace('<span class="caption-number">Fig. 3.1 </span>', "")
        .replace("x = 1", "x = " + "1" * 90)
        .replace("03.ipynb", "missing.ipynb")
        .replace("</body>", '<div class="cell_output"><div class="output stderr">'
                 "<pre>oops</pre></div></div></body>")
    )
    problems = "\n".join(check_page(_page(tmp_path, body)))
    assert "stderr output block" in problems
    assert "a code line of 94 characters" in problems
    assert "figure without a numbered caption" in problems
    assert "points to nothing" in problems


def test_unnumbered_chapter_without_notebook_link(tmp_path):
    body = "<html><body><h1>EM</h1></body></html>"
    problems = "\n".join(check_page(_page(tmp_path, body)))
    assert "has no number" in problems and "no link to the chapter's student notebook" in problems


def test_whole_book_needs_offline_maths_and_a_bibliography(tmp_path):
    (tmp_path / "index.html").write_text("<html></html>")
    _page(tmp_path, GOOD_CHAPTER)
    problems = "\n".join(check_html(tmp_path))
    assert "offline MathJax" in problems and "bibliography page" in problems
