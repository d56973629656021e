"""Data sets shipped with latentlab and seeded simulators.

Real data are small copies with their attribution and licence beside them in
``latentlab/datasets/data/``; nothing is downloaded at run time.

- :func:`load_breast_tcga`: breast-cancer TCGA multi-omics views (chapters 4–5).
- :func:`read_lydata`, :func:`load_isb_multisite`, :func:`load_usz_oropharynx`: lyDATA
  lymph-node involvement (any lyDATA table; two cohorts ship; chapter 3).
- ``latentlab.datasets.signatures_sim``: the disease-signature simulator
  (chapters 1–2; imported on its own because it needs torch).
"""

from latentlab.datasets.breast_tcga import MultiOmicsData, load_breast_tcga
from latentlab.datasets.lydata import (
    LymphCohort, load_isb_multisite, load_usz_oropharynx, read_lydata,
)

__all__ = ["MultiOmicsData", "load_breast_tcga", "LymphCohort", "load_isb_multisite",
           "load_usz_oropharynx", "read_lydata"]
