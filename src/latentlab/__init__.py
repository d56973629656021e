"""latentlab: latent-variable models for biomedical data, taught by executable chapters.

Each chapter of the book imports one or two modules of this package; every
computation a page shows is a tested function here.
"""

from latentlab._divergence import DivergenceError

__version__ = "0.1.0"

__all__ = ["__version__", "DivergenceError"]
