"""Data sets shipped with latentlab and seeded simulators.

Real data are small copies with their attribution and licence beside them in
``latentlab/datasets/data/``; nothing is downloaded at run time.

- :func:`load_breast_tcga`: breast-cancer TCGA multi-omics views (chapters 4–5).
- :func:`load_isb_multisite`: lyDATA lymph-node involvement, 332 patients (chapter 3).
- ``latentlab.datasets.signatures_sim``: the disease-signature simulator
  (chapters 1–2; imported on its own because it needs torch).
"""

from latentlab.datasets.breast_tcga import MultiOmicsData, load_breast_tcga
from latentlab.datasets.lydata import LymphCohort, load_isb_multisite

__all__ = ["MultiOmicsData", "load_breast_tcga", "LymphCohort", "load_isb_multisite"]
