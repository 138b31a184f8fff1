"""Batch screening of a dispensing table: who to include first, and why.

A vectorised job over the same knowledge base as the per-patient engine, written
as polars lazy joins (never a Python loop over patients):
1. resolve each row's drug (CIP13, CIS, ATC code or label) to substances; rows that
   cannot be resolved are counted per patient and in total, never dropped silently;
2. keep the window before the reference date and compute per patient the distinct
   substances, age and programme eligibility;
3. evaluate interactions (pair levels as the engine reports them without doses or
   diagnoses), drug-only inappropriate-drug criteria, renal criteria where the
   clearance is known, anticholinergic totals and QT-prolonging drug counts;
4. rank patients by a documented risk score (weights in rules/batch/risk_score.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import polars as pl

from pharma_service.batch.tables import KnowledgeTables
from pharma_service.engine.kb import KnowledgeBase
from pharma_service.errors import InvalidInput
from pharma_service.referential.normaliser import Normaliser

IDENTIFIERS = ("cip13", "cis", "atc", "label")
REQUIRED = ("patient_id", "dispensing_date")


@dataclass
class ScreeningResult:
    patients: pl.DataFrame
    findings: pl.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


def check_columns(columns: list[str], *, patients_columns: list[str] | None = None) -> None:
    missing = [c for c in REQUIRED if c not in columns]
    if not any(c in columns for c in IDENTIFIERS):
        missing.append("one of " + "/".join(IDENTIFIERS))
    if "birth_date" not in columns and "age" not in columns:
        missing.append("birth_date or age")
    if missing:
        raise InvalidInput(
            f"dispensing table: missing column(s) {', '.join(missing)}; expected patient_id, "
            f"dispensing_date, birth_date or age, sex (optional), and a drug identifier "
            f"({', '.join(IDENTIFIERS)}); got {', '.join(columns) or 'no column'}"
        )
    if patients_columns is not None and "patient_id" not in patients_columns:
        raise InvalidInput(
            "patient table: missing column patient_id; expected patient_id and optional "
            f"weight_kg, crcl_ml_min, conditions; got {', '.join(patients_columns)}"
        )


def screen(
    dispensations: pl.LazyFrame,
    *,
    kb: KnowledgeBase,
    normaliser: Normaliser,
    tables: KnowledgeTables,
    patients: pl.LazyFrame | None = None,
    reference_date: date,
    window_months: int = 3,
    weights: dict[str, float],
) -> ScreeningResult:
    columns = dispensations.collect_schema().names()
    check_columns(
        columns, patients_columns=patients.collect_schema().names() if patients is not None else None
    )
    start = reference_date - timedelta(days=round(window_months * 30.44))
    rows = (
        dispensations.with_columns(
            pl.col("dispensing_date").cast(pl.Date, strict=False),
            *[pl.col(c).cast(pl.Utf8).str.strip_chars() for c in IDENTIFIERS if c in columns],
        )
        .filter(pl.col("dispensing_date").is_between(start, reference_date, closed="right"))
        .with_row_index("row_id")
        # The product dispensed, as the per-patient engine's "line": substances of one
        # product (a combination) are meant to be taken together and are never paired.
        .with_columns(
            pl.coalesce([pl.lit(f"{c}:") + pl.col(c) for c in IDENTIFIERS if c in columns]).alias("line_id")
        )
    )
    # Materialised once: each is read by several outputs, and a lazy frame would be
    # recomputed from the file for every one of them.
    rows = rows.collect(engine="streaming").lazy()
    resolved = _resolve(rows, columns, tables, normaliser).collect(engine="streaming").lazy()
    per_patient = _patients(rows, resolved, columns, reference_date, patients).collect().lazy()
    substances = resolved.select("patient_id", "substance_key").drop_nulls().unique()
    on_lines = resolved.select("patient_id", "line_id", "substance_key").drop_nulls().unique()

    interactions = (
        on_lines.join(on_lines, on="patient_id", suffix="_b")
        .filter(
            (pl.col("substance_key") < pl.col("substance_key_b")) & (pl.col("line_id") != pl.col("line_id_b"))
        )
        .select("patient_id", "substance_key", "substance_key_b")
        .unique()
        .join(tables.pairs.lazy(), left_on=["substance_key", "substance_key_b"], right_on=["a", "b"])
        .select(
            "patient_id",
            pl.lit("interaction").alias("category"),
            pl.col("rule"),
            pl.col("level"),
            pl.concat_str(
                pl.col("substance_key").cast(pl.Utf8), pl.lit(" + "), pl.col("substance_key_b").cast(pl.Utf8)
            ).alias("drugs"),
        )
    )
    pim = (
        substances.join(per_patient.select("patient_id", "age"), on="patient_id")
        .join(tables.pim.lazy(), on="substance_key")
        .filter(pl.col("age") >= pl.col("min_age"))
        .pipe(_criterion_findings, "pim")
    )
    renal = (
        substances.join(per_patient.select("patient_id", "age", "crcl_ml_min"), on="patient_id")
        .join(tables.renal.lazy(), on="substance_key")
        .filter(
            pl.col("crcl_ml_min").is_not_null()
            & (pl.col("age") >= pl.col("min_age"))
            & (pl.col("crcl_below").is_null() | (pl.col("crcl_ml_min") < pl.col("crcl_below")))
            & (pl.col("crcl_at_least").is_null() | (pl.col("crcl_ml_min") >= pl.col("crcl_at_least")))
        )
        .pipe(_criterion_findings, "renal")
    )
    findings = pl.concat([interactions, pim, renal]).collect(engine="streaming").lazy()

    acb = (
        substances.join(tables.acb.lazy(), on="substance_key")
        .group_by("patient_id", "scale")
        .agg(pl.col("score").sum().alias("total"))
        .collect()
        .pivot(on="scale", index="patient_id", values="total")
        .lazy()
    )
    qt = (
        substances.join(tables.qt.lazy(), on="substance_key")
        .group_by("patient_id")
        .agg(pl.len().cast(pl.Int64).alias("qt_drugs"))
    )
    counts = findings.group_by("patient_id").agg(
        *[
            (pl.col("level") == lv).sum().cast(pl.Int64).alias(f"interactions_{lv}")
            for lv in ("CI", "ASDEC", "PE", "APEC")
        ],
        (pl.col("category") == "pim").sum().cast(pl.Int64).alias("pim"),
        (pl.col("category") == "renal").sum().cast(pl.Int64).alias("renal"),
    )
    scale_ids = [scale.info.id for scale in kb.scales]
    table = (
        per_patient.join(counts, on="patient_id", how="left")
        .join(acb, on="patient_id", how="left")
        .join(qt, on="patient_id", how="left")
        .with_columns(pl.col(pl.UInt32, pl.Int64, pl.Int32).fill_null(0))
    )
    for scale_id in scale_ids:
        if scale_id not in table.collect_schema().names():
            table = table.with_columns(pl.lit(0, pl.Int64).alias(scale_id))
    table = _rank(table.with_columns(pl.col(scale_ids).fill_null(0)), weights, kb)
    result_patients = table.collect(engine="streaming").sort(
        ["risk_score", "patient_id"], descending=[True, False]
    )
    result_findings = findings.collect(engine="streaming").sort(["patient_id", "category", "rule", "drugs"])
    unresolved = resolved.filter(pl.col("substance_key").is_null())
    summary = {
        "reference_date": reference_date.isoformat(),
        "window_start": start.isoformat(),
        "rows_in_window": rows.select(pl.len()).collect().item(),
        "rows_unresolved": unresolved.select("row_id").unique().select(pl.len()).collect().item(),
        "patients": result_patients.height,
        "eligible_iatroprev": int(result_patients["eligible_iatroprev"].sum()),
    }
    return ScreeningResult(result_patients, result_findings, summary)


def _criterion_findings(frame: pl.LazyFrame, category: str) -> pl.LazyFrame:
    """Criteria hits in the columns of the findings table."""
    return frame.select(
        "patient_id",
        pl.lit(category).alias("category"),
        pl.col("criterion").alias("rule"),
        pl.lit(None, pl.Utf8).alias("level"),
        pl.col("substance_key").cast(pl.Utf8).alias("drugs"),
    )


def _resolve(
    rows: pl.LazyFrame, columns: list[str], tables: KnowledgeTables, normaliser: Normaliser
) -> pl.LazyFrame:
    """One row per (dispensing row, substance); a null substance_key marks an unresolved row."""
    parts = []
    keys = ["row_id", "patient_id", "line_id"]
    if "cip13" in columns:
        parts.append(rows.select(*keys, "cip13").join(tables.cip13.lazy(), on="cip13"))
    if "cis" in columns:
        parts.append(rows.select(*keys, "cis").join(tables.cis.lazy(), on="cis"))
    if "atc" in columns:
        parts.append(rows.select(*keys, "atc").join(tables.atc.lazy(), on="atc"))
    if "label" in columns:
        labels = rows.select("label").drop_nulls().unique().collect()["label"].to_list()
        mapping = [
            (label, s.key)
            for label in labels
            for line in [normaliser.normalise_text(label)]
            if line.status != "unresolved"
            for s in line.substances
        ]
        label_table = pl.DataFrame(
            mapping, schema={"label": pl.Utf8, "substance_key": tables.substance}, orient="row"
        )
        parts.append(rows.select(*keys, "label").join(label_table.lazy(), on="label"))
    found = pl.concat([p.select(*keys, "substance_key") for p in parts])
    missing = rows.select(*keys).join(found.select("row_id").unique(), on="row_id", how="anti")
    return pl.concat([found, missing.with_columns(pl.lit(None, tables.substance).alias("substance_key"))])


def _patients(
    rows: pl.LazyFrame,
    resolved: pl.LazyFrame,
    columns: list[str],
    reference_date: date,
    patients: pl.LazyFrame | None,
) -> pl.LazyFrame:
    if "birth_date" in columns:
        birth = pl.col("birth_date").cast(pl.Date, strict=False)
        age = (
            pl.lit(reference_date.year)
            - birth.dt.year()
            - (
                (pl.lit(reference_date.month) * 100 + reference_date.day)
                < (birth.dt.month().cast(pl.Int32) * 100 + birth.dt.day().cast(pl.Int32))
            ).cast(pl.Int32)
        )
    else:
        age = pl.col("age")
    base = rows.group_by("patient_id").agg(
        age.first().cast(pl.Int64).alias("age"),
        (pl.col("sex").first() if "sex" in columns else pl.lit(None, pl.Utf8)).alias("sex"),
        pl.len().cast(pl.Int64).alias("rows"),
    )
    molecules = resolved.group_by("patient_id").agg(
        pl.col("substance_key").drop_nulls().n_unique().cast(pl.Int64).alias("distinct_substances"),
        pl.col("substance_key").is_null().sum().cast(pl.Int64).alias("unresolved_rows"),
    )
    out = base.join(molecules, on="patient_id", how="left").with_columns(
        # An unread row is still a drug: it counts once, as in the per-patient engine.
        (pl.col("distinct_substances") + pl.col("unresolved_rows").clip(0, 1)).alias("molecules"),
    )
    if patients is not None:
        id_type = rows.collect_schema()["patient_id"]
        extra = patients.with_columns(pl.col("patient_id").cast(id_type))
        keep = [c for c in ("weight_kg", "crcl_ml_min", "conditions") if c in extra.collect_schema().names()]
        out = out.join(extra.select("patient_id", *keep), on="patient_id", how="left")
    if "crcl_ml_min" not in out.collect_schema().names():
        out = out.with_columns(pl.lit(None, pl.Float64).alias("crcl_ml_min"))
    return out.with_columns(((pl.col("age") >= 75) & (pl.col("molecules") >= 10)).alias("eligible_iatroprev"))


def _rank(table: pl.LazyFrame, weights: dict[str, float], kb: KnowledgeBase) -> pl.LazyFrame:
    """risk_score = sum of weight x count, with the three largest contributions as reasons."""
    acb_high = kb.scales[0].info.threshold_high if kb.scales else 3
    parts = {
        "interactions_CI": pl.col("interactions_CI"),
        "interactions_ASDEC": pl.col("interactions_ASDEC"),
        "interactions_PE": pl.col("interactions_PE"),
        "interactions_APEC": pl.col("interactions_APEC"),
        "pim": pl.col("pim"),
        "renal": pl.col("renal"),
        "acb_high": (pl.col("acb") >= acb_high).cast(pl.Int64) if kb.scales else pl.lit(0),
        "qt_combination": (pl.col("qt_drugs") >= 2).cast(pl.Int64),
        "molecules_over_10": (pl.col("molecules").cast(pl.Int64) - 10).clip(lower_bound=0),
    }
    contributions = [(parts[name] * weight).alias(f"score_{name}") for name, weight in weights.items()]
    table = table.with_columns(contributions)
    names = list(weights)
    score_columns = [f"score_{n}" for n in names]
    table = table.with_columns(pl.sum_horizontal(score_columns).alias("risk_score"))
    # Top three reasons: long format, sort, keep three per patient (native, no per-row lists).
    reasons = (
        table.select("patient_id", *score_columns)
        .unpivot(index="patient_id", variable_name="reason", value_name="points")
        .filter(pl.col("points") > 0)
        .sort(["patient_id", "points", "reason"], descending=[False, True, False])
        .group_by("patient_id", maintain_order=True)
        .agg(pl.col("reason").head(3).str.strip_prefix("score_").str.join(", ").alias("top_reasons"))
    )
    return (
        table.join(reasons, on="patient_id", how="left")
        .with_columns(pl.col("top_reasons").fill_null(""))
        .drop(score_columns)
    )
