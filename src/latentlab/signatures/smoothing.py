"""A small LOWESS smoother (locally weighted linear regression with robustness steps).

statsmodels is not a dependency of latentlab; the reference smooths its
signature reference curves with ``lowess(frac=0.3, it=3)``, which this
reproduces in spirit: tricube-weighted local lines over the ``ceil(frac·n)``
nearest points, followed by ``iterations`` re-fits with bisquare robustness
weights from the residuals (Cleveland 1979).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from latentlab._validation import check_array, check_in_range, check_integer

__all__ = ["lowess"]


def _local_fit(x, y, weights_robust, n_near):
    fitted = np.empty_like(y)
    for j, x0 in enumerate(x):
        distance = np.abs(x - x0)
        radius = np.partition(distance, n_near - 1)[n_near - 1]
        radius = radius if radius > 0 else 1.0
        tricube = np.clip(1 - (distance / (radius * 1.000001)) ** 3, 0, None) ** 3
        w = tricube * weights_robust
        sw = w.sum()
        if sw <= 1e-12:  # every neighbour down-weighted: fall back to the plain local fit
            w, sw = tricube, tricube.sum()
        xm, ym = (w @ x) / sw, (w @ y) / sw
        sxx = w @ (x - xm) ** 2
        slope = (w @ ((x - xm) * (y - ym))) / sxx if sxx > 1e-12 * sw else 0.0
        fitted[j] = ym + slope * (x0 - xm)
    return fitted


def lowess(y, x=None, *, frac: float = 0.3, iterations: int = 3) -> npt.NDArray[np.float64]:
    """LOWESS-smooth ``y`` (1-D) against ``x`` (default 0 … n−1).

    Parameters
    ----------
    y : array_like of shape (n,)
    x : array_like of shape (n,), optional
    frac : float in (0, 1]
        Share of the points used in each local fit.
    iterations : int
        Robustifying re-fits (bisquare weights on residuals / 6·median|residual|).

    Returns
    -------
    ndarray of shape (n,)
        The smoothed values at ``x``.

    Examples
    --------
    >>> from latentlab.signatures.smoothing import lowess
    >>> np.round(lowess(2.0 * np.arange(10) + 1.0, frac=0.5)[:3], 6).tolist()   # lines are kept
    [1.0, 3.0, 5.0]
    """
    y = check_array(y, "y", ndim=1)
    x = np.arange(y.size, dtype=float) if x is None else check_array(x, "x", shape=y.shape)
    check_in_range(frac, "frac", 1e-12, 1.0)
    iterations = check_integer(iterations, "iterations", minimum=0)
    n_near = max(2, min(y.size, int(np.ceil(frac * y.size))))
    robust = np.ones_like(y)
    fitted = _local_fit(x, y, robust, n_near)
    for _ in range(iterations):
        residual = y - fitted
        scale = 6.0 * np.median(np.abs(residual))
        if scale <= 1e-12:
            break
        robust = np.clip(1 - (residual / scale) ** 2, 0, None) ** 2
        fitted = _local_fit(x, y, robust, n_near)
    return fitted
