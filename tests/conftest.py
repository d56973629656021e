"""Shared pytest set-up: headless matplotlib, quiet progress bars, the notebook harness."""

import os
import sys
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("LATENTLAB_FAST", "1")

sys.path.insert(0, str(Path(__file__).parent))
