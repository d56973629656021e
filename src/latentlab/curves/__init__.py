"""Local principal curves (Einbeck, Tutz & Evers, 2005), projection and arc length.

``lpc`` holds the fitting recursion (both the LPCM algorithm and the MorphSeq
variant; see its module notes); ``geometry`` measures, resamples and projects
onto a fitted curve.
"""

from latentlab.curves.geometry import (
    CurveProjection,
    curve_length,
    fit_measures,
    project_onto_curve,
    resample_equal_arclength,
)
from latentlab.curves.lpc import (
    CurveFitWarning, LocalPrincipalCurve, default_max_iter, fit_local_principal_curve,
)

__all__ = [
    "CurveFitWarning",
    "LocalPrincipalCurve",
    "default_max_iter",
    "CurveProjection",
    "fit_local_principal_curve",
    "project_onto_curve",
    "resample_equal_arclength",
    "curve_length",
    "fit_measures",
]
