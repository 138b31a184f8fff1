"""Batch screening on inputs the generated cohort does not cover, and its execution options.

Identifiers: several on one row (one line, all resolved), whitespace around them,
rows with none, combination products (one line: its substances are never paired
with each other, as in the per-patient engine). Execution: the patient ranges
screened in parallel, row order, dates given as text, an empty window, progress
messages. And the DuckDB formulation of the benchmark, which must give the same tables.
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
from polars.testing import assert_frame_equal

from pharma_service.batch.screen import ScreeningResult, screen
from pharma_service.batch.tables import KnowledgeTables
from pharma_service.engine.kb import DEFAULT_RULES_DIR
from pharma_service.errors import InvalidInput
from pharma_service.models import AnalysisRequest, MedicationInput
from pharma_service.service import Engine, analyse_request

REPO = Path(__file__).resolve().parents[2]
REF = date(2026, 11, 1)
WEIGHTS = yaml.safe_load((DEFAULT_RULES_DIR / "batch" / "risk_score.yaml").read_text())["weights"]
COLUMNS = {
    "patient_id": pl.Int64,
    "birth_date": pl.Date,
    "sex": pl.Utf8,
    "dispensing_date": pl.Date,
    "cip13": pl.Utf8,
    "atc": pl.Utf8,
    "label": pl.Utf8,
}


def _module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses in the module look themselves up there
    spec.loader.exec_module(module)
    return module


def _screen(
    engine: Engine,
    tables: KnowledgeTables,
    rows: pl.DataFrame,
    patients: pl.DataFrame | None = None,
    **options: Any,
) -> ScreeningResult:
    return screen(
        rows.lazy(),
        kb=engine.kb,
        normaliser=engine.normaliser,
        tables=tables,
        patients=patients.lazy() if patients is not None else None,
        reference_date=REF,
        weights=WEIGHTS,
        **options,
    )


def _rows(*rows: tuple[int, str | None, str | None, str | None]) -> pl.DataFrame:
    """(patient, cip13, atc, label) rows of an 80-year-old woman, dispensed ten days ago."""
    return pl.DataFrame(
        [
            (pid, date(1946, 1, 1), "F", REF - timedelta(days=10), cip, atc, label)
            for pid, cip, atc, label in rows
        ],
        schema=COLUMNS,
        orient="row",
    )


def _cip13(engine: Engine, substances: set[str]) -> str:
    """A CIP13 whose specialty is exactly these substances."""
    ref = engine.kb.referential
    return next(
        cip
        for cip, cis in sorted(ref.cip13_to_cis.items())
        if {c.substance_key for c in ref.specialties[cis].components} == substances
    )


def _engine_pairs(engine: Engine, meds: list[MedicationInput]) -> set[tuple[str, str]]:
    request = AnalysisRequest.model_validate({"patient": {"age": 80}, "medications": meds})
    analysis = analyse_request(request, engine=engine)
    return {
        (f.id.split("|")[-1].replace("+", " + "), f.level.value)
        for f in analysis.findings
        if f.category.value == "interaction" and f.level is not None
    }


def _pairs(result: ScreeningResult, patient: int) -> set[tuple[str, str]]:
    mine = result.findings.filter((pl.col("patient_id") == patient) & (pl.col("category") == "interaction"))
    return set(mine.select("drugs", "level").iter_rows())


@pytest.fixture(scope="module")
def cohort() -> tuple[pl.DataFrame, pl.DataFrame]:
    generator = _module("generate_cohort", REPO / "datasets" / "cohort" / "generate_cohort.py")
    dispensations, patients = generator.generate(300, seed=11, reference_date=REF, months=3)
    return dispensations, patients


def _same(left: ScreeningResult, right: ScreeningResult) -> None:
    assert_frame_equal(left.patients, right.patients)
    assert_frame_equal(left.findings, right.findings)
    assert left.summary == right.summary


def test_parallel_parts_row_order_and_whitespace_do_not_change_the_result(
    engine: Engine, tables: KnowledgeTables, cohort: tuple[pl.DataFrame, pl.DataFrame]
) -> None:
    dispensations, patients = cohort
    one = _screen(engine, tables, dispensations, patients, parts=1)
    assert one.findings.height > 500
    _same(one, _screen(engine, tables, dispensations, patients, parts=4))
    shuffled = dispensations.sample(fraction=1.0, shuffle=True, seed=3)
    _same(
        one, _screen(engine, tables, shuffled, patients.sample(fraction=1.0, shuffle=True, seed=4), parts=3)
    )
    padded = dispensations.with_columns(
        pl.lit(" ") + pl.col("cip13") + pl.lit("  "), pl.col("label") + pl.lit(" ")
    )
    _same(one, _screen(engine, tables, padded, patients))
    as_text = dispensations.with_columns(pl.col("dispensing_date", "birth_date").cast(pl.Utf8))
    _same(one, _screen(engine, tables, as_text, patients))


def test_batches_bound_memory_and_give_the_same_result(
    engine: Engine, tables: KnowledgeTables, cohort: tuple[pl.DataFrame, pl.DataFrame]
) -> None:
    """Patients screened in hash batches, each streaming the input once: same tables, same order."""
    dispensations, patients = cohort
    one = _screen(engine, tables, dispensations, patients)
    messages: list[str] = []
    shuffled = dispensations.sample(fraction=1.0, shuffle=True, seed=5)
    many = _screen(engine, tables, shuffled, patients, batches=3, parts=2, progress=messages.append)
    _same(one, many)
    assert sum(m.startswith("batch ") and " read " in m for m in messages) == 3
    with pytest.raises(InvalidInput, match="batches"):
        _screen(engine, tables, dispensations, patients, batches=0)


def test_a_combination_product_is_one_line(engine: Engine, tables: KnowledgeTables) -> None:
    """Perindopril and indapamide interact (PE); in one tablet they are one line, never paired."""
    combination = _cip13(engine, {"perindopril", "indapamide"})
    result = _screen(
        engine,
        tables,
        _rows(
            (1, combination, None, None),
            (2, combination, None, None),
            (2, None, "C03BA11", None),  # indapamide alone, on a second line
        ),
    )
    assert _pairs(result, 1) == set() == _engine_pairs(engine, [MedicationInput(cip13=combination)])
    expected = _engine_pairs(engine, [MedicationInput(cip13=combination), MedicationInput(atc="C03BA11")])
    assert _pairs(result, 2) == expected == {("indapamide + perindopril", "PE")}
    counts = dict(result.patients.select("patient_id", "distinct_substances").iter_rows())
    assert counts == {1: 2, 2: 2}


def test_identifiers_of_one_row_are_one_line_and_all_resolve(engine: Engine, tables: KnowledgeTables) -> None:
    simvastatin = _cip13(engine, {"simvastatine"})
    result = _screen(
        engine,
        tables,
        _rows(
            (1, simvastatin, None, "ZECLAR 500 mg"),  # both on one row: one line
            (2, simvastatin, None, None),
            (2, None, None, "ZECLAR 500 mg"),  # on two rows: simvastatin + clarithromycin, CI
            (3, None, None, None),  # no identifier at all: counted, not dropped
            (3, simvastatin, None, None),
        ),
    )
    patients = {r["patient_id"]: r for r in result.patients.iter_rows(named=True)}
    assert patients[1]["distinct_substances"] == 2 and patients[1]["interactions_CI"] == 0
    assert patients[2]["distinct_substances"] == 2 and patients[2]["interactions_CI"] == 1
    assert _pairs(result, 2) == {("clarithromycine + simvastatine", "CI")}
    assert (patients[3]["unresolved_rows"], patients[3]["molecules"]) == (1, 2)
    assert result.summary["rows_unresolved"] == 1


def test_the_first_row_of_the_patient_table_is_used(engine: Engine, tables: KnowledgeTables) -> None:
    rows = _rows((1, _cip13(engine, {"simvastatine"}), None, None))
    extra = pl.DataFrame({"patient_id": [1, 1], "crcl_ml_min": [25.0, 80.0]})
    result = _screen(engine, tables, rows, extra)
    assert result.patients.select("patient_id", "crcl_ml_min").rows() == [(1, 25.0)]


def test_an_empty_window_gives_empty_tables_with_every_column(
    engine: Engine, tables: KnowledgeTables, cohort: tuple[pl.DataFrame, pl.DataFrame]
) -> None:
    dispensations, patients = cohort
    full = _screen(engine, tables, dispensations.head(50), patients)
    empty = _screen(
        engine, tables, dispensations.filter(pl.col("dispensing_date") < date(2000, 1, 1)), patients
    )
    assert empty.patients.height == empty.findings.height == 0
    assert empty.patients.schema == full.patients.schema
    assert empty.findings.schema == full.findings.schema
    assert empty.summary["patients"] == empty.summary["rows_in_window"] == 0


def test_progress_reports_every_stage(engine: Engine, tables: KnowledgeTables) -> None:
    messages: list[str] = []
    _screen(engine, tables, _rows((1, None, "C03BA11", None)), progress=messages.append)
    assert [m.split(" ")[0] for m in messages] == ["read", "resolve", "screen", "rank"]
    assert all(m.endswith(" s)") for m in messages)


def test_the_duckdb_formulation_gives_the_same_tables(
    engine: Engine, tables: KnowledgeTables, cohort: tuple[pl.DataFrame, pl.DataFrame], tmp_path: Path
) -> None:
    """The benchmark's competitor computes what `pharma screen` computes, table for table."""
    duckdb = pytest.importorskip("duckdb")
    bench = _module("bench_screen", REPO / "benchmarks" / "bench_screen.py")
    dispensations, patients = cohort
    unknown = dispensations.head(1).with_columns(
        pl.lit(None, pl.Utf8).alias("cip13"),
        pl.lit(None, pl.Utf8).alias("atc"),
        pl.lit("ZORGLUB 10 mg").alias("label"),
        pl.lit(REF - timedelta(days=5)).alias("dispensing_date"),
    )
    dispensations = pl.concat([dispensations, unknown])
    dispensations.write_parquet(tmp_path / "dispensations.parquet")
    patients.write_parquet(tmp_path / "patients.parquet")
    expected = _screen(engine, tables, dispensations, patients)
    con = duckdb.connect()
    bench.load_knowledge(con, tmp_path, tables, engine.kb)
    bench.duckdb_screen(
        con,
        str(tmp_path / "dispensations.parquet"),
        str(tmp_path / "patients.parquet"),
        normaliser=engine.normaliser,
        folder=tmp_path,
        weights=WEIGHTS,
    )
    for name, frame in (("patients", expected.patients), ("findings", expected.findings)):
        con.execute(f"COPY s_{name} TO '{tmp_path}/duck_{name}.parquet' (FORMAT parquet)")
        duck = pl.read_parquet(tmp_path / f"duck_{name}.parquet")
        assert_frame_equal(frame, duck.select(frame.columns), check_dtypes=False)


def _engine_omissions(engine: Engine, meds: list[MedicationInput], age: int) -> set[tuple[str, str]]:
    request = AnalysisRequest.model_validate({"patient": {"age": age}, "medications": meds})
    analysis = analyse_request(request, engine=engine)
    return {
        (c["id"], c["status"])
        for f in analysis.findings
        if f.category.value == "omission"
        for c in f.codes.get("criteria", [])
    }


def test_omissions_on_drugs_only(engine: Engine, tables: KnowledgeTables) -> None:
    """Methotrexate without folic acid (confirmed); an opioid without a laxative (to verify:
    regular use is a posology); silenced by the treatment, and below the age of the criterion."""
    cases = {
        1: ["L04AX03"],  # methotrexate
        2: ["L04AX03", "B03BB01"],  # + folic acid
        3: ["N02AA01"],  # morphine
        4: ["N02AA01", "A06AD11"],  # + lactulose
    }
    rows = _rows(*[(pid, None, atc, None) for pid, codes in cases.items() for atc in codes])
    young = rows.filter(pl.col("patient_id") == 3).with_columns(
        pl.lit(5, pl.Int64).alias("patient_id"), pl.lit(date(1970, 1, 1)).alias("birth_date")
    )
    result = _screen(engine, tables, pl.concat([rows, young]))
    batch = {
        pid: set(
            result.findings.filter((pl.col("patient_id") == pid) & (pl.col("category") == "omission"))
            .select("rule", "status")
            .iter_rows()
        )
        for pid in (1, 2, 3, 4, 5)
    }
    assert batch[1] == {("start3:H9", "confirmed")}
    assert batch[3] == {("start3:K2", "to_verify")}
    assert batch[2] == batch[4] == batch[5] == set()
    evaluable = set(tables.omissions["criterion"])
    for pid, age, codes in [*((p, 80, c) for p, c in cases.items()), (5, 56, cases[3])]:
        engine_side = _engine_omissions(engine, [MedicationInput(atc=c) for c in codes], age)
        assert batch[pid] == {(rule, status) for rule, status in engine_side if rule in evaluable}, pid
    counts = dict(result.patients.select("patient_id", "omissions").iter_rows())
    assert counts == {1: 1, 2: 0, 3: 1, 4: 0, 5: 0}


def test_outputs_are_written_with_the_report(
    engine: Engine, tables: KnowledgeTables, cohort: tuple[pl.DataFrame, pl.DataFrame], tmp_path: Path
) -> None:
    import json

    from pharma_service.batch.io import write_outputs

    dispensations, patients = cohort
    result = _screen(engine, tables, dispensations, patients)
    for fmt in ("parquet", "csv"):
        written = write_outputs(result, tmp_path / fmt, fmt=fmt)
        assert [p.name for p in written] == [
            f"patients.{fmt}",
            f"findings.{fmt}",
            "summary.json",
            "report.html",
        ]
    back = pl.read_parquet(tmp_path / "parquet" / "findings.parquet")
    assert_frame_equal(back, result.findings)
    assert json.loads((tmp_path / "csv" / "summary.json").read_text()) == result.summary
    report = (tmp_path / "parquet" / "report.html").read_text()
    assert "Omissions les plus fréquentes" in report and "start3:" in report
