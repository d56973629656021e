"""``make book`` on several cores: execute the pages in parallel, then build from the cache.

Jupyter Book executes the pages one after another while Sphinx reads them (two of
its extensions do not declare parallel reading safe, so ``sphinx-build -j`` reads
serially). Most pages keep one core busy, so on a laptop or a 2-core CI runner half
the machine idles. This module

1. reads every page of ``_toc.yml`` the way myst-nb reads it, clears a private
   jupyter-cache and executes the pages in ``jobs`` worker processes, longest first
   (the order comes from ``book/timings.json``), each in its own directory as myst-nb
   would; the first failing page stops the build with its traceback;
2. stores every executed notebook in that cache, keyed by its code (jupyter-cache's
   notebook hash), and
3. runs Jupyter Book's own Sphinx build with ``execute_notebooks: cache`` pointed at
   it, so the HTML is made from exactly the outputs just computed. A page whose code
   does not match its cache entry is executed again by myst-nb (correct, only slower)
   and is reported.

Nothing is reused between builds: the cache is emptied first, so every page runs at
the requested size on every ``make book``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from pathlib import Path

from latentlab.book_tools import ROOT, toc_pages

__all__: list[str] = []



def _cell_timeout(root: Path) -> int:
    """``execute.timeout`` of ``_config.yml`` (seconds a cell may take), 300 if unset."""
    import yaml

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}
    return int((config.get("execute") or {}).get("timeout", 300))


def _read(page: Path):
    """The page as the notebook myst-nb makes of it (the code cells decide the hash)."""
    from myst_nb.core.read import read_myst_markdown_notebook

    return read_myst_markdown_notebook(page.read_text(encoding="utf-8"), path=page)


#: BLAS pools of a page's kernel when pages run side by side: numpy's maths library
#: would start one thread per core in every kernel, and on a 2-core machine those
#: threads fight for the cores (a chapter-4 MOFA fit took 13x longer under load).
BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")


def _execute(page: str, root: str, timeout: int, fast: bool, one_blas_thread: bool):
    """Run one page in its own directory (in a worker); return (page, notebook, seconds)."""
    os.environ["LATENTLAB_FAST"] = "1" if fast else "0"  # the kernel inherits it
    if one_blas_thread:
        for name in BLAS_VARIABLES:
            os.environ.setdefault(name, "1")
    from jupyter_cache.executors.utils import single_nb_execution

    path = Path(root) / f"{page}.md"
    notebook = _read(path)
    result = single_nb_execution(
        notebook, cwd=str(path.parent), timeout=timeout, allow_errors=False,
        meta_override=True,
    )
    if result.err is not None:
        raise RuntimeError(f"{page}.md failed:\n{result.exc_string}")
    return page, notebook, result.time


def notebook_pages(root: Path = ROOT) -> list[str]:
    """The pages of ``_toc.yml`` that myst-nb executes (MyST notebooks)."""
    from myst_nb.core.read import is_myst_markdown_notebook

    return [
        page for page in toc_pages(root)
        if is_myst_markdown_notebook((root / f"{page}.md").read_text(encoding="utf-8"))
    ]


def _order(pages: list[str], root: Path, fast: bool) -> list[str]:
    """Longest page first (measured times of the last build), unknown pages first."""
    try:
        times = json.loads((root / "book" / "timings.json").read_text())
    except (OSError, ValueError):
        times = {}
    measured = times.get("fast" if fast else "full", {})
    return sorted(pages, key=lambda p: -measured.get(p, float("inf")))


def execute_all(
    root: Path, cache_path: Path, jobs: int, fast: bool, pages: list[str] | None = None
) -> dict[str, float]:
    """Execute every page (or ``pages``) into a fresh jupyter-cache; page → seconds."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    shutil.rmtree(cache_path, ignore_errors=True)
    cache = get_cache(str(cache_path))
    pages = _order(pages or notebook_pages(root), root, fast)
    seconds: dict[str, float] = {}
    timeout = _cell_timeout(root) if (root / "_config.yml").exists() else 300
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [
            pool.submit(_execute, page, str(root), timeout, fast, jobs > 1)
            for page in pages
        ]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = [f for f in done if f.exception() is not None]
        if failed:
            for future in futures:
                future.cancel()
            raise SystemExit(f"make book: {failed[0].exception()}")
        for future in futures:
            page, notebook, elapsed = future.result()
            cache.cache_notebook_bundle(
                CacheBundleIn(
                    notebook, str(root / f"{page}.md"),
                    data={"execution_seconds": elapsed},
                ),
                check_validity=False,
                overwrite=True,
            )
            seconds[page] = elapsed
            print(f"executed {page} in {elapsed:.1f} s", flush=True)
    return seconds


def unmatched(root: Path, cache_path: Path) -> list[str]:
    """Pages whose current code has no entry in the cache (myst-nb would rerun them)."""
    from jupyter_cache import get_cache

    cache = get_cache(str(cache_path))
    missing = []
    for page in notebook_pages(root):
        try:
            cache.match_cache_notebook(_read(root / f"{page}.md"))
        except KeyError:
            missing.append(page)
    return missing


def sphinx_build(root: Path, cache_path: Path) -> int:
    """Jupyter Book's HTML build (``build --all -W -n --keep-going``) from the cache."""
    from jupyter_book.cli.main import build
    from jupyter_book.sphinx import build_sphinx

    path_config, source, overrides = build.callback(
        path_source=str(root), path_output=None, config=None, toc=None,
        warningiserror=True, nitpick=True, keep_going=True, freshenv=True,
        builder="html", custom_builder=None, verbose=0, quiet=0,
        individualpages=False, get_config_only=True,
    )
    # the root redirect is written only where missing: drop the last build's
    (source / "_build" / "html" / "index.html").unlink(missing_ok=True)
    overrides.update(nitpicky=True, nb_execution_mode="cache",
                     nb_execution_cache_path=str(cache_path))
    result = build_sphinx(
        source, source / "_build" / "html", use_external_toc=True, noconfig=True,
        path_config=path_config, confoverrides=overrides, builder="html",
        warningiserror=True, keep_going=True, freshenv=True,
    )
    return 1 if isinstance(result, Exception) else int(result or 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m latentlab._parallel_build")
    parser.add_argument("--fast", action="store_true", help="the small sizes")
    parser.add_argument("--jobs", type=int, default=min(os.cpu_count() or 1, 4))
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    os.environ["LATENTLAB_FAST"] = "1" if args.fast else "0"  # for myst-nb's reruns
    cache_path = ROOT / "_build" / ".jupyter_cache"
    start = time.perf_counter()
    execute_all(ROOT, cache_path, args.jobs, args.fast)
    print(f"all pages executed in {time.perf_counter() - start:.0f} s "
          f"with {args.jobs} workers", flush=True)
    missing = unmatched(ROOT, cache_path)
    if missing:
        print(f"warning: no cache entry for {missing}; myst-nb executes them again")
    status = sphinx_build(ROOT, cache_path)
    print(f"book built in {time.perf_counter() - start:.0f} s", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
