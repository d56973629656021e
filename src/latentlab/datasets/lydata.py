"""Loader for the shipped lyDATA cohort "2023 ISB Multisite" (chapter 3).

The CSV in ``data/lydata/2023-isb-multisite/`` is the lyDATA table of 332
patients treated at the Inselspital Bern (2001–2018), all with neck dissection:
"lyDATA: 2023 ISB Multisite" by Werlen, Elicin, Dettmer, Giger and Schubert,
DOI 10.5281/zenodo.10210423, https://github.com/lycosystem/lydata, licensed
CC BY-SA 4.0 (licence, README and CITATION.cff beside the file). This module
reads it unchanged; what it derives (super-levels, subgroups) is computed here.

Derivations
-----------
- Involvement ``True``/``False``/empty becomes 1/0/NaN; anything else is an error.
- Super-levels I, II, V from sub-levels (a/b): involved if the level or any
  sub-level is involved; healthy if the level is healthy or all sub-levels are;
  unknown otherwise.
- Subgroups: the 3-character ICD-10 subsite when it has at least
  ``min_subgroup_size`` patients, else the tumour location (e.g. hypopharynx =
  C12 + C13), so no subgroup is tiny.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from importlib import resources

import numpy as np

from latentlab._validation import check_integer

__all__ = ["LymphCohort", "load_isb_multisite", "parse_involvement", "LNLS", "MODALITIES", "LITERATURE_SPEC_SENS"]

LNLS = ("I", "II", "III", "IV", "V")
MODALITIES = ("CT", "MRI", "PET", "pathology")
#: (specificity, sensitivity) per modality, values common in the lymph ecosystem; pathology is perfect.
LITERATURE_SPEC_SENS = {"CT": (0.76, 0.81), "MRI": (0.63, 0.81), "PET": (0.86, 0.79), "pathology": (1.0, 1.0)}
_SUBLEVELS = {"I": ("Ia", "Ib"), "II": ("IIa", "IIb"), "V": ("Va", "Vb")}


@dataclass(frozen=True)
class LymphCohort:
    """Ipsilateral involvement of LNLs I–V per modality, with subsites and T-stages.

    Attributes
    ----------
    involvement : dict of str -> ndarray of shape (n_patients, 5)
        1 involved, 0 healthy, NaN unknown, per modality (CT, MRI, PET, pathology).
    subsite, location, subgroup : ndarray of str, shape (n_patients,)
    t_stage : ndarray of int, shape (n_patients,)
    patient_id : ndarray of str
    lnls : tuple of str
    """

    involvement: dict
    subsite: np.ndarray
    location: np.ndarray
    subgroup: np.ndarray
    t_stage: np.ndarray
    patient_id: np.ndarray
    lnls: tuple = LNLS

    @property
    def n_patients(self) -> int:
        return len(self.patient_id)

    def subgroup_locations(self) -> dict:
        """The majority tumour location of each subgroup (C01, C04 and C06 span two locations)."""
        return {g: Counter(self.location[self.subgroup == g].tolist()).most_common(1)[0][0]
                for g in sorted(set(self.subgroup.tolist()))}

    def observations(self, modalities=("pathology",)) -> np.ndarray:
        """Columns of the given modalities side by side (modality-major), shape (n_patients, 5·M)."""
        unknown = [m for m in modalities if m not in self.involvement]
        if unknown:
            raise ValueError(f"modalities {unknown} not in the cohort; expected some of {list(self.involvement)}")
        return np.hstack([self.involvement[m] for m in modalities])


def parse_involvement(values, name: str = "involvement") -> np.ndarray:
    """Map 'True'/'False'/'' (any case) to 1.0/0.0/NaN; anything else raises ``ValueError``.

    Examples
    --------
    >>> parse_involvement(["True", "", "False"]).tolist()
    [1.0, nan, 0.0]
    """
    lookup = {"true": 1.0, "false": 0.0, "": np.nan, "nan": np.nan}
    out = np.empty(len(values))
    for i, value in enumerate(values):
        key = str(value).strip().lower()
        if key not in lookup:
            raise ValueError(f"{name} must be True, False or empty (missing), got {value!r} in row {i}")
        out[i] = lookup[key]
    return out


def _super_level(level: np.ndarray, subs: list[np.ndarray]) -> np.ndarray:
    subs_arr = np.column_stack(subs)
    any_involved = (level == 1) | np.any(subs_arr == 1, axis=1)
    all_healthy = (level == 0) | np.all(subs_arr == 0, axis=1)
    return np.where(any_involved, 1.0, np.where(all_healthy, 0.0, np.nan))


def load_isb_multisite(min_subgroup_size: int = 15) -> LymphCohort:
    """Load the 332 patients of lyDATA 2023-isb-multisite (no network; see the module notes).

    Examples
    --------
    >>> cohort = load_isb_multisite()
    >>> cohort.n_patients, int(np.nansum(cohort.involvement["pathology"][:, 1]))
    (332, 100)
    """
    check_integer(min_subgroup_size, "min_subgroup_size", minimum=1)
    path = resources.files("latentlab.datasets") / "data" / "lydata" / "2023-isb-multisite" / "data.csv"
    with path.open("r", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, body = list(zip(*rows[:3])), rows[3:]
    column = {tuple(h): j for j, h in enumerate(header)}

    def get(*keys):
        for key in keys:
            if key in column:
                return [row[column[key]] for row in body]
        raise KeyError(f"column {keys[0]} not found in the lyDATA table")

    subsite_full = get(("tumor", "core", "subsite"), ("tumor", "1", "subsite"))
    location = np.array(get(("tumor", "core", "location"), ("tumor", "1", "location")))
    t_stage = np.array([int(v) for v in get(("tumor", "core", "t_stage"), ("tumor", "1", "t_stage"))])
    involvement = {}
    for modality in MODALITIES:
        columns = []
        for lnl in LNLS:
            level = parse_involvement(get((modality, "ipsi", lnl)), f"{modality} ipsi {lnl}")
            if lnl in _SUBLEVELS:
                subs = [parse_involvement(get((modality, "ipsi", s)), f"{modality} ipsi {s}") for s in _SUBLEVELS[lnl]]
                level = _super_level(level, subs)
            columns.append(level)
        involvement[modality] = np.column_stack(columns)
    subsite = np.array([s[:3] for s in subsite_full])
    counts = Counter(subsite.tolist())
    subgroup = np.array([s if counts[s] >= min_subgroup_size else loc for s, loc in zip(subsite, location)])
    return LymphCohort(involvement=involvement, subsite=subsite, location=location, subgroup=subgroup,
                       t_stage=t_stage, patient_id=np.array(get(("patient", "core", "id"))))
