"""Batch screening equals the per-patient engine, patient by patient, on every rule batch evaluates.

The per-patient engine is given the same rows (one line per identifier) without
posology or diagnoses, as batch works without them; the comparison covers
interactions with their levels and statuses, drug-only inappropriate-drug criteria,
renal criteria on clearance, drug-only omissions with their statuses,
anticholinergic totals, QT-prolonging drug counts and Iatroprev eligibility.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl
import pytest
import yaml

from pharma_service.batch.screen import ScreeningResult, screen
from pharma_service.batch.tables import KnowledgeTables
from pharma_service.engine.checks.qt import QT_CATEGORIES
from pharma_service.engine.kb import DEFAULT_RULES_DIR
from pharma_service.errors import InvalidInput
from pharma_service.models import AnalysisRequest, MedicationInput
from pharma_service.service import Engine, analyse_request

REPO = Path(__file__).resolve().parents[2]
REF = date(2026, 11, 1)


def _generator() -> ModuleType:
    path = REPO / "datasets" / "cohort" / "generate_cohort.py"
    spec = importlib.util.spec_from_file_location("generate_cohort", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses in the module look themselves up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cohort(engine: Engine, tables: KnowledgeTables) -> tuple[pl.DataFrame, pl.DataFrame, ScreeningResult]:
    dispensations, patients = _generator().generate(150, seed=7, reference_date=REF)
    # One row no referential knows, for patient 1: it must be counted, not dropped.
    unknown = (
        dispensations.filter(pl.col("patient_id") == 1)
        .head(1)
        .with_columns(
            pl.lit(None, pl.Utf8).alias("cip13"),
            pl.lit(None, pl.Utf8).alias("atc"),
            pl.lit("ZORGLUB 10 mg").alias("label"),
            pl.lit(REF - timedelta(days=5)).alias("dispensing_date"),
        )
    )
    dispensations = pl.concat([dispensations, unknown])
    weights = yaml.safe_load((DEFAULT_RULES_DIR / "batch" / "risk_score.yaml").read_text())["weights"]
    result = screen(
        dispensations.lazy(),
        kb=engine.kb,
        normaliser=engine.normaliser,
        tables=tables,
        patients=patients.lazy(),
        reference_date=REF,
        window_months=3,
        weights=weights,
    )
    return dispensations, patients, result


def _per_patient(engine: Engine, rows: pl.DataFrame, age: int, crcl: float | None) -> Any:
    meds: dict[tuple[str, str], MedicationInput] = {}
    for row in rows.iter_rows(named=True):
        if row.get("cip13"):
            meds.setdefault(("cip13", row["cip13"]), MedicationInput(cip13=row["cip13"]))
        elif row.get("atc"):
            meds.setdefault(("atc", row["atc"]), MedicationInput(atc=row["atc"]))
        elif row.get("label"):
            meds.setdefault(("label", row["label"]), MedicationInput(text=row["label"]))
    patient: dict[str, Any] = {"age": age, "reference_date": REF}
    if crcl is not None:
        patient["crcl_ml_min"] = crcl
    request = AnalysisRequest.model_validate({"patient": patient, "medications": list(meds.values())})
    return analyse_request(request, engine=engine)


def test_batch_equals_the_per_patient_engine(
    engine: Engine, tables: KnowledgeTables, cohort: tuple[pl.DataFrame, pl.DataFrame, ScreeningResult]
) -> None:
    dispensations, patients, result = cohort
    start = REF - timedelta(days=round(3 * 30.44))
    window = dispensations.filter(pl.col("dispensing_date").is_between(start, REF, closed="right"))
    pim_rules = set(tables.pim["criterion"])
    renal_rules = set(tables.renal["criterion"])
    omission_rules = set(tables.omissions["criterion"])
    # The engine names a drug by its substance's display name; batch by its key.
    names = {key: s.name for key, s in engine.kb.referential.substances.items()}
    omissions_seen = 0
    crcl = dict(zip(patients["patient_id"], patients["crcl_ml_min"], strict=True))
    checked = 0
    for row in result.patients.iter_rows(named=True):
        pid = row["patient_id"]
        rows = window.filter(pl.col("patient_id") == pid)
        analysis = _per_patient(engine, rows, row["age"], crcl.get(pid))
        mine = result.findings.filter(pl.col("patient_id") == pid)
        engine_pairs = {
            (f.id.split("|")[-1], f.level.value, f.status)
            for f in analysis.findings
            if f.category.value == "interaction" and f.level is not None
        }
        batch_interactions = mine.filter(pl.col("category") == "interaction").select(
            "drugs", "level", "status"
        )
        batch_pairs = {(d.replace(" + ", "+"), lv, st) for d, lv, st in batch_interactions.iter_rows()}
        assert batch_pairs == engine_pairs, pid

        def fired(category: str, rules: set[str], findings: Any = analysis.findings) -> set[str]:
            """Criteria the engine confirmed (batch leaves the "to verify" ones to the engine)."""
            return {
                c["id"]
                for f in findings
                if f.category.value == category
                for c in f.codes.get("criteria", [])
                if c["id"] in rules and c["status"] == "confirmed"
            }

        assert set(mine.filter(pl.col("category") == "pim")["rule"]) == fired("pim", pim_rules), pid
        assert set(mine.filter(pl.col("category") == "renal")["rule"]) == fired("renal", renal_rules), pid
        # Omissions on drugs only: the engine's findings, with their status (a criterion on
        # regular use stays "to verify" without posology, in batch as in the engine).
        engine_omissions = {
            (c["id"], d.name, c["status"])
            for f in analysis.findings
            if f.category.value == "omission"
            for c in f.codes.get("criteria", [])
            if c["id"] in omission_rules
            for d in f.drugs
        }
        batch_omissions = mine.filter(pl.col("category") == "omission").select("rule", "drugs", "status")
        assert {(r, names[d], st) for r, d, st in batch_omissions.iter_rows()} == engine_omissions, pid
        omissions_seen += len(engine_omissions)
        assert row["acb"] == analysis.scores["anticholinergic"]["acb"]["total"], pid
        qt = [d for d in analysis.scores["qt"]["qt_drugs"] if QT_CATEGORIES & set(d["categories"])]
        assert row["qt_drugs"] == len(qt), pid
        assert row["eligible_iatroprev"] == analysis.eligibility["programmes"]["iatroprev"]["eligible"], pid
        checked += 1
    assert checked == result.patients.height > 100
    assert omissions_seen > 0  # the cohort reaches them: the comparison is not vacuous
    assert result.summary["rows_unresolved"] >= 1
    planted = result.patients.filter(pl.col("patient_id") == 1)
    assert planted["unresolved_rows"].item() >= 1


def test_wrong_columns_are_named(engine: Engine, tables: KnowledgeTables) -> None:
    frame = pl.DataFrame({"patient": [1], "date": [REF], "drug": ["X"]})
    with pytest.raises(InvalidInput, match=r"missing column.*patient_id.*dispensing_date"):
        screen(
            frame.lazy(),
            kb=engine.kb,
            normaliser=engine.normaliser,
            tables=tables,
            reference_date=REF,
            weights={},
        )
