"""Shared pytest set-up: headless matplotlib in-process, fast mode, the notebook harness.

The backend is chosen with ``matplotlib.use`` rather than the ``MPLBACKEND``
variable, so that kernels started by the notebook harness keep the inline
backend and executed pages still contain their figures.
"""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
os.environ.pop("MPLBACKEND", None)
os.environ.setdefault("LATENTLAB_FAST", "1")

sys.path.insert(0, str(Path(__file__).parent))
