"""The cohort object of :mod:`latentlab.datasets.lydata`: involvement per modality,
with the consensus of whatever modalities a patient has, and what a consensus reads."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from latentlab._validation import check_array

__all__ = ["LymphCohort", "reading_probability", "LNLS", "MODALITIES", "LITERATURE_SPEC_SENS"]

LNLS = ("I", "II", "III", "IV", "V")
MODALITIES = ("CT", "MRI", "PET", "FNA", "pCT", "pathology")
#: (specificity, sensitivity) per modality, values used in the lymph ecosystem;
#: pathology is taken as perfect, and planning CT (pCT) as CT.
LITERATURE_SPEC_SENS = {
    "CT": (0.76, 0.81), "MRI": (0.63, 0.81), "PET": (0.86, 0.79), "FNA": (0.98, 0.80),
    "pCT": (0.76, 0.81), "pathology": (1.0, 1.0),
}


@dataclass(frozen=True)
class LymphCohort:
    """Involvement of LNLs per modality (one side), with subsites and T-stages.

    Attributes
    ----------
    involvement : dict of str -> ndarray of shape (n_patients, n_lnls)
        1 involved, 0 healthy, NaN unknown, one entry per modality in the table.
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

    @property
    def modalities(self) -> tuple:
        """The modalities the table reports, in table order."""
        return tuple(self.involvement)

    def subgroup_locations(self) -> dict:
        """The majority tumour location of each subgroup (some codes span two)."""
        return {g: Counter(self.location[self.subgroup == g].tolist()).most_common(1)[0][0]
                for g in sorted(set(self.subgroup.tolist()))}

    def observations(self, modalities=("pathology",)) -> np.ndarray:
        """Columns of the given modalities side by side (modality-major), (n, L·M)."""
        unknown = [m for m in modalities if m not in self.involvement]
        if unknown:
            raise ValueError(f"modalities {unknown} not in the cohort; expected some of "
                             f"{list(self.involvement)}")
        return np.hstack([self.involvement[m] for m in modalities])

    def _llr_weights(self, spec_sens, modalities):
        modalities = self.modalities if modalities is None else tuple(modalities)
        self.observations(modalities)  # unknown names raise
        missing = [m for m in modalities if m not in spec_sens]
        if missing:
            raise ValueError(f"spec_sens has no (specificity, sensitivity) for {missing}")
        return modalities, np.array([spec_sens[m] for m in modalities], dtype=float)

    def consensus(self, spec_sens=None, modalities=None) -> np.ndarray:
        """Maximum-likelihood consensus of the modalities, shape (n_patients, n_lnls).

        Per patient and level, the state (involved or healthy) under which the
        reported findings are more likely, each modality with its (specificity,
        sensitivity) from ``spec_sens`` (default :data:`LITERATURE_SPEC_SENS`). A
        perfect modality (pathology) decides alone; NaN where no modality reports
        the level or the likelihoods tie.

        Examples
        --------
        >>> from latentlab.datasets.lydata import load_usz_oropharynx
        >>> cohort = load_usz_oropharynx()
        >>> c = cohort.consensus()
        >>> c.shape, bool(np.nanmean(c[:, 1]) > np.nanmean(c[:, 4]))
        ((287, 5), True)
        """
        modalities, ss = self._llr_weights(spec_sens or LITERATURE_SPEC_SENS, modalities)
        with np.errstate(divide="ignore", invalid="ignore"):
            pos = np.log(ss[:, 1]) - np.log1p(-ss[:, 0])   # log P(+|inv) / P(+|healthy)
            neg = np.log1p(-ss[:, 1]) - np.log(ss[:, 0])   # log P(-|inv) / P(-|healthy)
            llr = np.zeros((self.n_patients, len(self.lnls)))
            for m, name in enumerate(modalities):
                x = self.involvement[name]
                llr = llr + np.where(x == 1, pos[m], np.where(x == 0, neg[m], 0.0))
        return np.where(llr > 0, 1.0, np.where(llr < 0, 0.0, np.nan))

    def consensus_rates(self, spec_sens=None, modalities=None):
        """P(consensus = 1 | involved) and P(consensus = 1 | healthy), each (n, n_lnls).

        Exact under independent modalities: every combination of findings of the
        modalities that report patient i's level is enumerated. NaN where no
        modality reports the level. A model's probability of involvement ``p`` maps
        to the probability that the consensus reads involved as
        ``p · rate_inv + (1 − p) · rate_healthy``.
        """
        modalities, ss = self._llr_weights(spec_sens or LITERATURE_SPEC_SENS, modalities)
        M = len(modalities)
        present = np.stack([~np.isnan(self.involvement[m]) for m in modalities])  # (M, n, L)
        combos = (np.arange(2**M)[:, None] >> np.arange(M)[None, :]) & 1        # (C, M)
        with np.errstate(divide="ignore", invalid="ignore"):
            pos = np.log(ss[:, 1]) - np.log1p(-ss[:, 0])
            neg = np.log1p(-ss[:, 1]) - np.log(ss[:, 0])
            step = np.where(combos[:, :, None, None] == 1, pos[None, :, None, None],
                            neg[None, :, None, None])                            # (C, M, 1, 1)
            llr = np.where(present[None], step, 0.0).sum(axis=1)                 # (C, n, L)
        says_inv = llr > 0
        rates = []
        for p_pos in (ss[:, 1], 1.0 - ss[:, 0]):  # P(finding + | involved), (| healthy)
            p_find = np.where(combos == 1, p_pos[None, :], 1.0 - p_pos[None, :])  # (C, M)
            # an absent modality has one outcome only (coded 0) with probability 1
            prob = np.where(present[None], p_find[:, :, None, None],
                            (combos == 0)[:, :, None, None]).prod(axis=1)       # (C, n, L)
            rates.append((prob * says_inv).sum(axis=0))
        none = ~present.any(axis=0)
        return tuple(np.where(none, np.nan, r) for r in rates)


def reading_probability(p, rate_involved, rate_healthy) -> np.ndarray:
    """Mean probability that a consensus reads a level *involved*, per level.

    An involvement probability ``p`` (per level, or per patient and level) is
    mapped to what each patient's own consensus would report,
    p·a_i + (1 − p)·b_i, with a_i, b_i the probabilities that patient i's
    modalities give a positive consensus when the level is / is not involved
    (:meth:`LymphCohort.consensus_rates`), then averaged over the patients
    (NaN rates, levels a patient has no report for, are skipped).

    Examples
    --------
    >>> reading_probability([0.5], [[0.8], [1.0]], [[0.1], [0.0]]).tolist()
    [0.475]
    """
    rate_involved = check_array(rate_involved, "rate_involved", ndim=2, allow_nan=True)
    rate_healthy = check_array(rate_healthy, "rate_healthy", shape=rate_involved.shape,
                               allow_nan=True)
    p = check_array(p, "p", allow_nan=False)
    if p.ndim > 2 or p.shape[-1] != rate_involved.shape[1] or np.any((p < 0) | (p > 1)):
        raise ValueError(f"p must hold probabilities in [0, 1] per level (shape (L,) or "
                         f"(n, L) with L = {rate_involved.shape[1]}), got shape {p.shape}")
    reads = p * rate_involved + (1 - p) * rate_healthy
    if np.isnan(reads).all(axis=0).any():
        raise ValueError("rate_involved must hold at least one non-NaN rate per level")
    return np.nanmean(reads, axis=0)
