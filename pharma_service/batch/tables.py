"""The knowledge base as polars tables, built once per screening run.

The per-patient engine and the batch path read the same knowledge: these tables
are derived from the loaded KnowledgeBase and Referential, never from separate
files, so that a rule cannot exist on one path and not the other.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from pharma_service.engine.checks.interactions import check_interactions
from pharma_service.engine.checks.qt import QT_CATEGORIES
from pharma_service.engine.context import AnalysisContext
from pharma_service.engine.kb import KnowledgeBase
from pharma_service.models import LineStatus, MedicationLine, Patient, SubstanceRef


@dataclass(frozen=True)
class KnowledgeTables:
    substance: pl.Enum  # every substance key, sorted: joins and comparisons on integers
    cip13: pl.DataFrame  # cip13 -> substance_key
    cis: pl.DataFrame  # cis -> substance_key
    atc: pl.DataFrame  # atc -> substance_key
    pairs: pl.DataFrame  # a, b (a < b), level, rule
    acb: pl.DataFrame  # substance_key, scale, score
    qt: pl.DataFrame  # substance_key (QT-prolonging)
    pim: pl.DataFrame  # criterion, source, substance_key (drug-only criteria)
    renal: pl.DataFrame  # criterion, substance_key, crcl_below, crcl_at_least, min_age
    # Omissions (START) whose trigger and missing treatment are drugs only: the trigger
    # substances with the status the engine gives without posology, and the treatments
    # any of which silences the criterion.
    omissions: pl.DataFrame  # criterion, substance_key, min_age, status
    treatments: pl.DataFrame  # criterion, substance_key


def build_tables(kb: KnowledgeBase) -> KnowledgeTables:
    ref = kb.referential
    substance = pl.Enum(sorted(ref.substances))
    cis_rows = [
        (spec.cis, comp.substance_key) for spec in ref.specialties.values() for comp in spec.components
    ]
    cis = pl.DataFrame(cis_rows, schema={"cis": pl.Utf8, "substance_key": pl.Utf8}, orient="row").unique()
    cip13 = (
        pl.DataFrame(list(ref.cip13_to_cis.items()), schema={"cip13": pl.Utf8, "cis": pl.Utf8}, orient="row")
        .join(cis, on="cis")
        .select("cip13", "substance_key")
    )
    atc = pl.DataFrame(
        [(code, key) for code, keys in ref.atc_to_substances.items() if len(keys) == 1 for key in keys],
        schema={"atc": pl.Utf8, "substance_key": pl.Utf8},
        orient="row",
    )
    tables = KnowledgeTables(
        substance=substance,
        cip13=cip13,
        cis=cis,
        atc=atc,
        pairs=_pair_levels(kb),
        acb=pl.DataFrame(
            [(key, scale.info.id, score) for scale in kb.scales for key, score in scale.scores.items()],
            schema={"substance_key": pl.Utf8, "scale": pl.Utf8, "score": pl.Int64},
            orient="row",
        ),
        qt=pl.DataFrame(
            {"substance_key": [k for k, cats in kb.qt.categories.items() if QT_CATEGORIES & set(cats)]}
        ),
        pim=_drug_only_criteria(kb, ("pim",)),
        renal=_renal_criteria(kb),
        **_omission_criteria(kb),
    )
    return _as_enum(tables)


def _as_enum(tables: KnowledgeTables) -> KnowledgeTables:
    """Substance keys as the Enum, in every table (a key outside the referential is dropped)."""
    enum = tables.substance
    keys = set(enum.categories.to_list())

    def cast(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
        frame = frame.filter(*[pl.col(c).is_in(keys) for c in columns]) if frame.height else frame
        return frame.with_columns(*[pl.col(c).cast(enum) for c in columns])

    return KnowledgeTables(
        substance=enum,
        cip13=cast(tables.cip13, "substance_key"),
        cis=cast(tables.cis, "substance_key"),
        atc=cast(tables.atc, "substance_key"),
        pairs=cast(tables.pairs, "a", "b"),
        acb=cast(tables.acb, "substance_key"),
        qt=cast(tables.qt, "substance_key"),
        pim=cast(tables.pim, "substance_key"),
        renal=cast(tables.renal, "substance_key"),
        omissions=cast(tables.omissions, "substance_key"),
        treatments=cast(tables.treatments, "substance_key"),
    )


def _pair_levels(kb: KnowledgeBase) -> pl.DataFrame:
    """The level the engine reports for each interacting pair when doses and diagnoses are unknown.

    Computed by the engine itself on two-line lists, so the batch path cannot drift
    from it: conditional entries come out at their most constraining level, to verify.
    """
    patient = Patient(age=80)
    rows = []
    for a, b in kb.pair_index:
        ctx = AnalysisContext(patient=patient, lines=[_line(0, kb, a), _line(1, kb, b)], kb=kb)
        for f in check_interactions(ctx):
            if f.category.value == "interaction" and f.level is not None:
                rows.append((a, b, f.level.value, f.rule, f.status))
    return pl.DataFrame(
        rows,
        schema={"a": pl.Utf8, "b": pl.Utf8, "level": pl.Utf8, "rule": pl.Utf8, "status": pl.Utf8},
        orient="row",
    )


def _line(index: int, kb: KnowledgeBase, key: str) -> MedicationLine:
    subst = kb.referential.substances.get(key)
    name = subst.name if subst else key
    return MedicationLine(
        index=index,
        line=name,
        status=LineStatus.RESOLVED,
        confidence=1.0,
        substances=[SubstanceRef(name=name, key=key, atc=subst.atc if subst else None)],
    )


def _matching_substances(
    kb: KnowledgeBase, atc: list[str], keys: list[str], exclude_atc: list[str], exclude_keys: list[str]
) -> set[str]:
    found = set(keys) & set(kb.referential.substances)
    for subst in kb.referential.substances.values():
        if subst.atc and any(subst.atc.startswith(p) for p in atc):
            found.add(subst.key)
    return {
        k
        for k in found
        if k not in exclude_keys
        and not (kb.referential.substances[k].atc or "").startswith(tuple(exclude_atc) or ("\0",))
    }


def _drug_only_criteria(kb: KnowledgeBase, categories: tuple[str, ...]) -> pl.DataFrame:
    """Criteria that need nothing but the drug (and an age): the ones batch can evaluate exactly."""
    rows = []
    for pack in kb.criteria_packs:
        for crit in pack.criteria:
            if crit.category not in categories or crit.drugs is None:
                continue
            if crit.when.model_dump(exclude_defaults=True).keys() - {"min_age"}:
                continue
            d = crit.drugs
            for key in _matching_substances(kb, d.atc, d.substances, d.exclude_atc, d.exclude_substances):
                rows.append((crit.id, pack.source.id, key, crit.when.min_age or 0))
    return pl.DataFrame(
        rows,
        schema={"criterion": pl.Utf8, "source": pl.Utf8, "substance_key": pl.Utf8, "min_age": pl.Int64},
        orient="row",
    )


def _renal_criteria(kb: KnowledgeBase) -> pl.DataFrame:
    """Renal criteria on clearance only (no dose, no diagnosis): evaluable where clearance is known."""
    rows = []
    for pack in kb.criteria_packs:
        for crit in pack.criteria:
            if crit.category != "renal" or crit.drugs is None:
                continue
            used = crit.when.model_dump(exclude_defaults=True).keys()
            if not used or used - {"min_age", "crcl_below", "crcl_at_least"}:
                continue
            d = crit.drugs
            for key in _matching_substances(kb, d.atc, d.substances, d.exclude_atc, d.exclude_substances):
                rows.append(
                    (crit.id, key, crit.when.crcl_below, crit.when.crcl_at_least, crit.when.min_age or 0)
                )
    return pl.DataFrame(
        rows,
        schema={
            "criterion": pl.Utf8,
            "substance_key": pl.Utf8,
            "crcl_below": pl.Float64,
            "crcl_at_least": pl.Float64,
            "min_age": pl.Int64,
        },
        orient="row",
    )


def _omission_criteria(kb: KnowledgeBase) -> dict[str, pl.DataFrame]:
    """Omissions a dispensing table can evaluate: a drug trigger, a missing drug, an age at most.

    "Regular use" (not as needed) is a posology, which dispensing data do not carry: such
    a criterion is reported "to verify", as the per-patient engine reports it without
    posology; one about "as needed" use is never known and left to the engine.
    """
    triggers = []
    treatments = []
    for pack in kb.criteria_packs:
        for crit in pack.criteria:
            when = crit.when
            if crit.category != "omission" or crit.drugs is None or when.without_any is None:
                continue
            if when.model_dump(exclude_defaults=True).keys() - {"min_age", "without_any", "regular_use"}:
                continue
            if when.regular_use is False:
                continue
            status = "to_verify" if when.regular_use else "confirmed"
            d = crit.drugs
            for key in _matching_substances(kb, d.atc, d.substances, d.exclude_atc, d.exclude_substances):
                triggers.append((crit.id, key, when.min_age or 0, status))
            w = when.without_any
            for key in _matching_substances(kb, w.atc, w.substances, w.exclude_atc, w.exclude_substances):
                treatments.append((crit.id, key))
    return {
        "omissions": pl.DataFrame(
            triggers,
            schema={"criterion": pl.Utf8, "substance_key": pl.Utf8, "min_age": pl.Int64, "status": pl.Utf8},
            orient="row",
        ),
        "treatments": pl.DataFrame(
            treatments, schema={"criterion": pl.Utf8, "substance_key": pl.Utf8}, orient="row"
        ),
    }
