"""JupyterLab as `make lab` starts it: the venv's Jupyter server opens every book page as
a notebook through its contents API (jupytext), and saving one writes the paired
notebook into book/notebooks/ as the README says."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from importlib.metadata import version
from pathlib import Path

import jupytext
import pytest

from latentlab.book_tools import ROOT, book_pages

TOKEN = "latentlab-test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(url: str, method: str = "GET", body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"token {TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A Jupyter server from the venv, rooted at a copy of book/ (nothing is written
    into the checkout)."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "book", root / "book",
                    ignore=shutil.ignore_patterns("notebooks", "_build"))
    port = _free_port()
    jupyter = Path(sys.executable).parent / "jupyter"
    log = (root / "server.log").open("wb")
    process = subprocess.Popen(
        [str(jupyter), "server", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--ServerApp.root_dir={root}", f"--IdentityProvider.token={TOKEN}",
         "--allow-root"],  # CI runs as root
        stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "JUPYTER_RUNTIME_DIR": str(root / "runtime")})
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            if process.poll() is not None:
                log.flush()
                tail = (root / "server.log").read_text()[-2000:]
                pytest.fail(f"jupyter server exited: {tail}")
            try:
                _request(f"{base}/api/status")
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        else:
            pytest.fail("jupyter server did not start within 120 s")
        yield base, root
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_lab_packages_are_the_pinned_ones():
    pins = dict(line.strip().split("==") for line in
                (ROOT / "requirements.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    for name in ("jupyterlab", "jupyterlab_myst", "jupytext", "jupyter_server"):
        assert version(name) == pins[name], name


def test_myst_and_jupytext_extensions_load_in_this_jupyterlab():
    """A prebuilt extension built against another JupyterLab is marked X and not used
    (jupyterlab-myst 2.7 needs JupyterLab < 4.6)."""
    jupyter = Path(sys.executable).parent / "jupyter"
    listing = subprocess.run([str(jupyter), "labextension", "list"], capture_output=True,
                             text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})
    text = re.sub(r"\x1b\[[0-9;]*m", "", listing.stdout + listing.stderr)
    for name in ("jupyterlab-myst", "jupyterlab-jupytext"):
        line = next((x for x in text.splitlines() if x.strip().startswith(name)), "")
        assert "enabled" in line and " OK" in line, text
    assert "is not compatible" not in text, text


def test_every_page_opens_as_a_notebook(server):
    base, _ = server
    for page in book_pages():
        model = _request(f"{base}/api/contents/{page}.md?type=notebook&content=1")
        assert model["type"] == "notebook", page
        cells = model["content"]["cells"]
        expected = jupytext.read(ROOT / f"{page}.md").cells
        assert len(cells) == len(expected), page
        assert cells[0]["source"].lstrip().startswith("#"), page  # the title


def test_saving_a_chapter_writes_its_paired_notebook(server):
    base, root = server
    page = next(p for p in book_pages() if Path(p).name.startswith("01-"))
    url = f"{base}/api/contents/{page}.md"
    model = _request(f"{url}?type=notebook&content=1")
    model["content"]["cells"][0]["source"] += "\n\nA line added in JupyterLab."
    _request(url, "PUT", {"type": "notebook", "format": "json",
                          "content": model["content"]})
    paired = root / "book" / "notebooks" / f"{Path(page).name}.ipynb"
    assert paired.exists(), "no paired notebook in book/notebooks/"
    assert "A line added in JupyterLab." in (root / f"{page}.md").read_text()
    assert "book/notebooks/" in (ROOT / ".gitignore").read_text()
