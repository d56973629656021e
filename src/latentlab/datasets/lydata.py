"""Read any lyDATA table of lymph-node involvement; two cohorts ship (chapter 3).

lyDATA tables (https://github.com/lycosystem/lydata, CC BY-SA 4.0) have a
three-row header ``(modality, side, level)``, e.g. ``(pathology, ipsi, II)``, and
hold ``True``/``False``/empty per patient. Shipped beside this module, unchanged,
with their README, CITATION.cff and the licence (see ``data/lydata/NOTICE``):

- ``2023-isb-multisite``: Werlen, Elicin, Dettmer, Giger, Schubert (Inselspital
  Bern), DOI 10.5281/zenodo.10210423, all patients with neck dissection;
- ``2021-usz-oropharynx``: Ludwig, Hoffmann, Pouymayou et al. (University Hospital
  Zurich), DOI 10.5281/zenodo.5833835, imaging (CT, MRI, PET, planning CT), FNA,
  and pathology for very few patients.

:func:`read_lydata` reads any such table (a path or a file object): the modalities
are whatever top-level columns report the levels; a table may lack the parent
level (only ``Ia``/``Ib``) or the sub-levels, or report pathology only.

Sub-levels (rule ``"complete"``, the default)
---------------------------------------------
Level I is involved if any of Ia, Ib is, so a level is *known* when the table
reports the level itself, or reports every one of its sub-levels; a level with an
unreported sub-level (and no parent value) is unknown, **whatever the reported
sub-levels say**. Whether it is known then depends on which sub-levels were
examined, not on what was found. The alternative ``"any_positive"`` also calls
the level involved when a reported sub-level is (a positive Ib with an unexamined
Ia): that is true, but then, among patients whose Ia was not examined, level I is
known only when it is involved, and marginalising the unknown ones (as the models
here do, assuming missing at random) over-states involvement. A negative Ib with
an unexamined Ia is unknown under both rules, never healthy. A positive sub-level
overrides a negative parent value.

Subgroups
---------
The 3-character ICD-10 code when it has at least ``min_subgroup_size`` patients;
patients of rarer codes are pooled by tumour location (``"oropharynx (rare
codes)"``) when that pool is large enough, and the rest form one ``"other (rare
codes)"`` subgroup, whatever its size. ``subgroup_by="location"`` uses the tumour
location instead.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

from latentlab._validation import check_integer
from latentlab.datasets._lydata_cohort import (
    LITERATURE_SPEC_SENS, LNLS, MODALITIES, LymphCohort, reading_probability,
)
from latentlab.datasets._lydata_parse import (
    RULES, _not_involvement, _read_rows, _subgroups, aggregate_level, parse_involvement,
)

__all__ = [
    "LymphCohort", "read_lydata", "load_isb_multisite", "load_usz_oropharynx",
    "parse_involvement", "aggregate_level", "reading_probability", "LNLS", "MODALITIES",
    "LITERATURE_SPEC_SENS",
]

SUBLEVELS = {"I": ("Ia", "Ib"), "II": ("IIa", "IIb"), "V": ("Va", "Vb")}
_NOT_MODALITIES = {"patient", "tumor"}


def read_lydata(source, *, side: str = "ipsi", lnls=LNLS, min_subgroup_size: int = 15,
                subgroup_by: str = "subsite", sublevel_rule: str = "complete") -> LymphCohort:
    """Read a lyDATA table (path or file object) into a :class:`LymphCohort`.

    Parameters
    ----------
    source : str, os.PathLike or file object
        The CSV with lyDATA's three-row header.
    side : {"ipsi", "contra"}
    lnls : sequence of str
        Levels to read; I, II and V may come from their sub-levels.
    min_subgroup_size : int
        ICD-10 codes with fewer patients are pooled (module notes).
    subgroup_by : {"subsite", "location"}
    sublevel_rule : {"complete", "any_positive"}
        How sub-levels make a level (module notes). ``"complete"`` (default): a
        level is known only if every sub-level was examined, so a positive Ib with
        an unexamined Ia is *unknown*, although level I is then involved: calling it
        involved (``"any_positive"``) would make a level known because it is
        involved, and models that marginalise unknown levels would over-state
        involvement (``test_sublevel_rule_keeps_missingness_independent_of_the_outcome``
        measures that bias). A negative Ib with an unexamined Ia is unknown under
        both rules.

    Raises
    ------
    ValueError
        If the header is not lyDATA's, required columns are missing (named in the
        message), no modality reports every level, or a value is not True/False/empty.

    Examples
    --------
    >>> import io
    >>> table = io.StringIO(
    ...     "patient,tumor,tumor,pathology,pathology\\n"
    ...     "core,core,core,ipsi,ipsi\\n"
    ...     "id,subsite,t_stage,II,III\\n"
    ...     "a,C09.1,2,True,False\\n"
    ...     "b,C10.0,3,False,\\n")
    >>> cohort = read_lydata(table, lnls=("II", "III"))
    >>> cohort.modalities, cohort.involvement["pathology"].tolist()
    (('pathology',), [[1.0, 0.0], [0.0, nan]])
    """
    if side not in ("ipsi", "contra"):
        raise ValueError(f"side must be 'ipsi' or 'contra', got {side!r}")
    if subgroup_by not in ("subsite", "location"):
        raise ValueError(f"subgroup_by must be 'subsite' or 'location', got {subgroup_by!r}")
    if sublevel_rule not in RULES:
        raise ValueError(f"sublevel_rule must be one of {RULES}, got {sublevel_rule!r}")
    check_integer(min_subgroup_size, "min_subgroup_size", minimum=1)
    lnls = tuple(lnls)
    rows = _read_rows(source)
    if len(rows) < 4 or any(len(r) != len(rows[0]) for r in rows[:3]):
        raise ValueError("source is not a lyDATA table: expected a three-row header "
                         "(modality, side, level) and at least one patient row")
    header, body = [tuple(h) for h in zip(*rows[:3])], rows[3:]
    column = {h: j for j, h in enumerate(header)}

    def find(top, field):
        for second in ("core", "1", "#"):
            if (top, second, field) in column:
                return [row[column[(top, second, field)]] for row in body]
        return None

    subsite_full, t_raw = find("tumor", "subsite"), find("tumor", "t_stage")
    missing = [f"(tumor, core, {f})" for f, v in (("subsite", subsite_full),
                                                   ("t_stage", t_raw)) if v is None]
    if missing:
        raise ValueError(f"the table lacks the required columns {', '.join(missing)}")
    location = find("tumor", "location")
    if location is None:
        if subgroup_by == "location":
            raise ValueError("subgroup_by='location' needs the column (tumor, core, location)")
        location = [""] * len(body)
    try:
        t_stage = np.array([int(float(v)) for v in t_raw])
    except ValueError as err:
        raise ValueError(f"(tumor, core, t_stage) must hold integers 0-4: {err}") from None
    if t_stage.min() < 0 or t_stage.max() > 4:
        raise ValueError(f"(tumor, core, t_stage) must lie in 0-4, got {sorted(set(t_stage))}")

    def values(top, lvl):
        key = (top, side, lvl)
        if key not in column:
            return None
        return parse_involvement([row[column[key]] for row in body], f"{top} {side} {lvl}")

    tops = [t for t in dict.fromkeys(h[0] for h in header) if t not in _NOT_MODALITIES]
    involvement, lacking = {}, {}
    for top in tops:
        levels = [lvl for lvl in lnls if (top, side, lvl) in column
                  or any((top, side, s) in column for s in SUBLEVELS.get(lvl, ()))]
        if not levels or _not_involvement(column, body, top):
            continue  # e.g. numbers of dissected nodes
        gaps = [lvl for lvl in lnls if (top, side, lvl) not in column
                and not all((top, side, s) in column for s in SUBLEVELS.get(lvl, ("-",)))]
        if gaps:
            lacking[top] = gaps
            continue
        involvement[top] = np.column_stack([
            aggregate_level(values(top, lvl),
                            [values(top, s) for s in SUBLEVELS.get(lvl, ())
                             if (top, side, s) in column], sublevel_rule)
            for lvl in lnls])
    if not involvement:
        detail = "; ".join(f"{t} lacks ({t}, {side}, {g})" for t, gs in lacking.items()
                           for g in gs[:1])
        raise ValueError(f"no modality reports every level {lnls} on side {side!r} "
                         f"(directly or through all sub-levels){': ' + detail if detail else ''}")
    ids = find("patient", "id") or [str(i) for i in range(len(body))]
    subsite = np.array([s.strip()[:3] for s in subsite_full])
    location = np.array(location)
    subgroup = location if subgroup_by == "location" else _subgroups(
        subsite, location, min_subgroup_size)
    return LymphCohort(involvement=involvement, subsite=subsite, location=location,
                       subgroup=np.asarray(subgroup), t_stage=t_stage,
                       patient_id=np.array(ids), lnls=lnls)


def _shipped(folder):
    return resources.files("latentlab.datasets") / "data" / "lydata" / folder / "data.csv"


def load_isb_multisite(min_subgroup_size: int = 15, **kwargs) -> LymphCohort:
    """Load lyDATA 2023-isb-multisite (shipped; keywords as for :func:`read_lydata`).

    Examples
    --------
    >>> cohort = load_isb_multisite()
    >>> cohort.modalities
    ('CT', 'MRI', 'PET', 'pathology')
    """
    with _shipped("2023-isb-multisite").open("r", encoding="utf-8") as handle:
        return read_lydata(handle, min_subgroup_size=min_subgroup_size, **kwargs)


def load_usz_oropharynx(min_subgroup_size: int = 15, **kwargs) -> LymphCohort:
    """Load lyDATA 2021-usz-oropharynx (shipped; keywords as for :func:`read_lydata`).

    Examples
    --------
    >>> cohort = load_usz_oropharynx()
    >>> cohort.modalities
    ('FNA', 'PET', 'CT', 'MRI', 'pCT', 'pathology')
    """
    with _shipped("2021-usz-oropharynx").open("r", encoding="utf-8") as handle:
        return read_lydata(handle, min_subgroup_size=min_subgroup_size, **kwargs)
