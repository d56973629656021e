"""A lean log-sum-exp for the small axes of mixtures (K components).

``scipy.special.logsumexp`` handles weights, signs and array-API namespaces; on
the (N, K) arrays of the EM and MCMC loops its overhead is several times the
arithmetic. This version does only the stable sum.
"""

from __future__ import annotations

import numpy as np


def logsumexp(x: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """log Σ exp(x) along ``axis``, stable; rows of −∞ give −∞.

    Examples
    --------
    >>> import numpy as np
    >>> logsumexp(np.log([[1.0, 3.0], [0.0, 0.0]])).round(6).tolist()
    [1.386294, -inf]
    """
    x = np.asarray(x, dtype=float)
    if x.shape[axis] == 2:  # two components (the common case): one ufunc, no max pass
        first, second = np.split(x, 2, axis=axis)
        out = np.logaddexp(first, second)
        return out if keepdims else np.squeeze(out, axis=axis)
    top = np.max(x, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        out = top + np.log(np.sum(np.exp(x - top), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)
