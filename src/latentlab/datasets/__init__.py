"""Data sets shipped with latentlab and seeded simulators.

Real data are small derived copies with their attribution and licence beside
them in ``latentlab/datasets/data/``; nothing is downloaded at run time.
"""

from latentlab.datasets.breast_tcga import MultiOmicsData, load_breast_tcga

__all__ = ["MultiOmicsData", "load_breast_tcga"]
