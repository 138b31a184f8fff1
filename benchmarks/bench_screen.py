"""Batch screening benchmark: polars path vs the same screening in DuckDB SQL vs the per-patient engine.

    pip install duckdb   # for the DuckDB formulation (optional extra: pip install -e '.[bench]')
    python benchmarks/bench_screen.py --patients 1000000 [--sample 300] [--out benchmarks/RESULTS.md]

Each path runs in a child process so that its peak memory (ru_maxrss) is its own.
The cohort is generated once (seeded) and written as Parquet to a temporary folder.

The DuckDB formulation computes the same outputs as ``pharma screen`` (the patient
table with counts, scores and ranking reasons, and the sorted findings table), from
the same knowledge tables, labels through the same normaliser; with ``--check``
(default) both paths write their tables after the timed part and the parent checks
that they are identical.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
REF = date(2026, 11, 1)
WINDOW_MONTHS = 3
IDENTIFIERS = ("cip13", "cis", "atc", "label")
LEVELS = ("CI", "ASDEC", "PE", "APEC")


def _generate(n: int, folder: Path) -> dict[str, Any]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen", REPO / "datasets" / "cohort" / "generate_cohort.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = gen  # dataclasses in the module look themselves up there
    spec.loader.exec_module(gen)
    start = time.perf_counter()
    # Two months of monthly dispensing: about 13 rows per patient, the scale the issue names.
    dispensations, patients = gen.generate(n, seed=0, reference_date=REF, months=2)
    dispensations.write_parquet(folder / "dispensations.parquet")
    patients.write_parquet(folder / "patients.parquet")
    return {"rows": dispensations.height, "seconds": time.perf_counter() - start}


def _weights() -> dict[str, float]:
    import yaml

    weights: dict[str, float] = yaml.safe_load((REPO / "rules" / "batch" / "risk_score.yaml").read_text())[
        "weights"
    ]
    return weights


def _polars(folder: str, check: bool, queue: Any) -> None:
    import polars as pl

    from pharma_service.batch.screen import screen
    from pharma_service.batch.tables import build_tables
    from pharma_service.service import Engine

    engine = Engine.load()
    tables = build_tables(engine.kb)
    stages: list[str] = []
    start = time.perf_counter()
    result = screen(
        pl.scan_parquet(Path(folder) / "dispensations.parquet"),
        kb=engine.kb,
        normaliser=engine.normaliser,
        tables=tables,
        patients=pl.scan_parquet(Path(folder) / "patients.parquet"),
        reference_date=REF,
        window_months=WINDOW_MONTHS,
        weights=_weights(),
        progress=stages.append,
    )
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if check:
        result.patients.write_parquet(Path(folder) / "out_polars_patients.parquet")
        result.findings.write_parquet(Path(folder) / "out_polars_findings.parquet")
    queue.put(
        {
            "seconds": seconds,
            "patients": result.patients.height,
            "findings": result.findings.height,
            "peak_mib": peak,
            "stages": stages,
        }
    )


# --------------------------------------------------------------------------- DuckDB


def load_knowledge(con: Any, folder: Path, t: Any, kb: Any) -> None:
    """The knowledge tables (the build_tables output polars reads) in DuckDB, substances as integers."""
    import polars as pl

    def code(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
        return frame.with_columns(pl.col(c).to_physical().cast(pl.Int32) for c in columns)

    # Rules and drug strings ranked in string order: the findings are sorted on integers.
    pair_drugs = t.pairs["a"].cast(pl.Utf8) + " + " + t.pairs["b"].cast(pl.Utf8)
    drugs = pl.Enum(sorted(set(pair_drugs) | set(t.substance.categories)))
    rules = pl.Enum(
        sorted(
            set(t.pairs["rule"])
            | set(t.pim["criterion"])
            | set(t.renal["criterion"])
            | set(t.omissions["criterion"])
        )
    )

    def rank(values: pl.Series, enum: pl.Enum) -> pl.Series:
        return values.cast(pl.Utf8).cast(enum).to_physical().cast(pl.Int32)

    frames = {
        "kb_substance": pl.DataFrame(
            {"name": t.substance.categories, "drugs_rank": rank(t.substance.categories, drugs)}
        )
        .with_row_index("sub")
        .cast({"sub": pl.Int32}),
        "kb_cip13": code(t.cip13.rename({"substance_key": "sub"}), "sub"),
        "kb_cis": code(t.cis.rename({"substance_key": "sub"}), "sub"),
        "kb_atc": code(t.atc.rename({"substance_key": "sub"}), "sub"),
        "kb_pairs": code(
            t.pairs.select(
                "a",
                "b",
                "level",
                "rule",
                "status",
                pair_drugs.alias("drugs"),
                rank(t.pairs["rule"], rules).alias("rule_rank"),
                rank(pair_drugs, drugs).alias("drugs_rank"),
            ),
            "a",
            "b",
        ),
        "kb_acb": code(t.acb.rename({"substance_key": "sub"}), "sub"),
        "kb_qt": code(t.qt.rename({"substance_key": "sub"}), "sub"),
        "kb_pim": code(
            t.pim.select(
                "criterion",
                pl.col("substance_key").alias("sub"),
                "min_age",
                rank(t.pim["criterion"], rules).alias("rule_rank"),
            ),
            "sub",
        ),
        "kb_omissions": code(
            t.omissions.rename({"substance_key": "sub"}).with_columns(
                rank(t.omissions["criterion"], rules).alias("rule_rank")
            ),
            "sub",
        ),
        "kb_treatments": code(t.treatments.rename({"substance_key": "sub"}), "sub"),
        "kb_renal": code(
            t.renal.rename({"substance_key": "sub"}).with_columns(
                rank(t.renal["criterion"], rules).alias("rule_rank")
            ),
            "sub",
        ),
    }
    for name, frame in frames.items():
        path = folder / f"{name}.parquet"
        frame.write_parquet(path)
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM read_parquet('{path}')")
    con.execute(
        "CREATE OR REPLACE TABLE kb_scales AS SELECT * FROM (VALUES "
        + ", ".join(f"('{s.info.id}', {i}, {s.info.threshold_high})" for i, s in enumerate(kb.scales))
        + ") t(scale, position, threshold_high)"
    )


def duckdb_screen(
    con: Any,
    dispensations: str,
    patients: str | None,
    *,
    normaliser: Any,
    folder: Path,
    weights: dict[str, float],
    reference_date: date = REF,
    window_months: int = WINDOW_MONTHS,
) -> None:
    """``pharma screen`` in SQL: leaves the tables s_patients and s_findings, sorted as polars sorts them."""
    import polars as pl

    start = reference_date - timedelta(days=round(window_months * 30.44))
    columns = [
        r[0] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{dispensations}')").fetchall()
    ]
    ids = [c for c in IDENTIFIERS if c in columns]
    strip = "' \t\n\r\x0b\x0c'"
    birth = "birth_date" if "birth_date" in columns else None
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE s_rows AS
        SELECT file_row_number AS row_id, patient_id,
               {"CAST(birth_date AS DATE)" if birth else "NULL::DATE"} AS birth_date,
               {"NULL::BIGINT" if birth else "CAST(age AS BIGINT)"} AS age,
               {"CAST(sex AS VARCHAR)" if "sex" in columns else "NULL::VARCHAR"} AS sex,
               {", ".join(f"trim(CAST({c} AS VARCHAR), {strip}) AS {c}" for c in ids)},
               coalesce({", ".join(f"'{c}:' || trim(CAST({c} AS VARCHAR), {strip})" for c in ids)}) AS line
        FROM read_parquet('{dispensations}', file_row_number = true)
        WHERE CAST(dispensing_date AS DATE) > DATE '{start}'
          AND CAST(dispensing_date AS DATE) <= DATE '{reference_date}'
    """)
    # Labels through the same normaliser as the polars path, once per distinct label.
    label_rows: list[tuple[str, str]] = []
    if "label" in ids:
        for (label,) in con.execute("SELECT DISTINCT label FROM s_rows WHERE label IS NOT NULL").fetchall():
            line = normaliser.normalise_text(label)
            if line.status != "unresolved":
                label_rows.extend((label, s.key) for s in line.substances)
    label_path = folder / "s_labels.parquet"
    pl.DataFrame(label_rows, schema={"label": pl.Utf8, "name": pl.Utf8}, orient="row").write_parquet(
        label_path
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE s_labels AS
        SELECT l.label, s.sub FROM read_parquet('{label_path}') l JOIN kb_substance s USING (name)
    """)
    joins = [
        f"SELECT r.row_id, r.patient_id, r.line, m.sub FROM s_rows r JOIN kb_{c} m USING ({c})" for c in ids
    ]
    joins = [j.replace("kb_label", "s_labels") for j in joins]
    month_day = reference_date.month * 100 + reference_date.day
    age = (
        f"CAST(year(DATE '{reference_date}') - year(birth) "
        f"- CASE WHEN {month_day} < month(birth) * 100 + day(birth) THEN 1 ELSE 0 END AS BIGINT)"
    )
    extra_columns: list[str] = []
    if patients is not None:
        extra_columns = [
            r[0]
            for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{patients}')").fetchall()
            if r[0] in ("weight_kg", "crcl_ml_min", "conditions")
        ]
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE s_extra AS
            SELECT DISTINCT ON (patient_id) patient_id, {", ".join(extra_columns) or "NULL AS _none"}
            FROM read_parquet('{patients}', file_row_number = true)
            ORDER BY patient_id, file_row_number
        """)
    crcl = "x.crcl_ml_min" if "crcl_ml_min" in extra_columns else "NULL::DOUBLE"
    extra_join = "LEFT JOIN s_extra x USING (patient_id)" if patients is not None else ""
    extra_select = ", ".join(f"x.{c}" for c in extra_columns)
    scales = [r[0] for r in con.execute("SELECT scale FROM kb_scales ORDER BY position").fetchall()]
    acb_high = con.execute("SELECT threshold_high FROM kb_scales ORDER BY position LIMIT 1").fetchone()
    statements = [
        f"CREATE OR REPLACE TEMP TABLE s_hits AS {' UNION ALL '.join(joins)}",
        "CREATE OR REPLACE TEMP TABLE s_lines AS SELECT DISTINCT patient_id, line, sub FROM s_hits",
        "CREATE OR REPLACE TEMP TABLE s_subs AS SELECT DISTINCT patient_id, sub FROM s_hits",
        """
        CREATE OR REPLACE TEMP TABLE s_unread AS
        SELECT r.patient_id, count(*) AS unresolved_rows FROM s_rows r
        WHERE NOT EXISTS (SELECT 1 FROM s_hits h WHERE h.row_id = r.row_id) GROUP BY r.patient_id
        """,
        f"""
        CREATE OR REPLACE TEMP TABLE s_people AS
        SELECT p.*, {age if birth else "p.age0"} AS age, {crcl} AS crcl
               {", " + extra_select if extra_select else ""}
        FROM (
            SELECT r.patient_id, arg_min_null(r.birth_date, r.row_id) AS birth,
                   arg_min_null(r.age, r.row_id) AS age0, arg_min_null(r.sex, r.row_id) AS sex,
                   count(*) AS rows, coalesce(any_value(u.unresolved_rows), 0) AS unresolved_rows
            FROM s_rows r LEFT JOIN s_unread u USING (patient_id)
            GROUP BY r.patient_id
        ) p {extra_join}
        """,
        """
        CREATE OR REPLACE TEMP TABLE s_interacting AS
        SELECT DISTINCT x.patient_id, k.a, k.b
        FROM s_lines x
        JOIN kb_pairs k ON k.a = x.sub
        JOIN s_lines y ON y.patient_id = x.patient_id AND y.sub = k.b AND y.line <> x.line
        """,
        """
        CREATE OR REPLACE TEMP TABLE s_findings AS
        SELECT patient_id, category, rule, level, drugs, status FROM (
            SELECT i.patient_id, 'interaction' AS category, k.rule, k.level, k.drugs, k.status,
                   k.rule_rank, k.drugs_rank
            FROM s_interacting i JOIN kb_pairs k USING (a, b)
            UNION ALL
            SELECT s.patient_id, 'omission', c.criterion, NULL, n.name, c.status, c.rule_rank, n.drugs_rank
            FROM s_subs s JOIN kb_omissions c USING (sub) JOIN s_people p USING (patient_id)
            JOIN kb_substance n USING (sub)
            WHERE p.age >= c.min_age AND NOT EXISTS (
                SELECT 1 FROM s_subs t JOIN kb_treatments w USING (sub)
                WHERE t.patient_id = s.patient_id AND w.criterion = c.criterion
            )
            UNION ALL
            SELECT s.patient_id, 'pim', c.criterion, NULL, n.name, 'confirmed', c.rule_rank, n.drugs_rank
            FROM s_subs s JOIN kb_pim c USING (sub) JOIN s_people p USING (patient_id)
            JOIN kb_substance n USING (sub)
            WHERE p.age >= c.min_age
            UNION ALL
            SELECT s.patient_id, 'renal', c.criterion, NULL, n.name, 'confirmed', c.rule_rank, n.drugs_rank
            FROM s_subs s JOIN kb_renal c USING (sub) JOIN s_people p USING (patient_id)
            JOIN kb_substance n USING (sub)
            WHERE p.crcl IS NOT NULL AND p.age >= c.min_age
              AND (c.crcl_below IS NULL OR p.crcl < c.crcl_below)
              AND (c.crcl_at_least IS NULL OR p.crcl >= c.crcl_at_least)
        ) ORDER BY patient_id, category, rule_rank, drugs_rank
        """,
    ]
    for statement in statements:
        con.execute(statement)
    counts = ", ".join(
        [
            f"count(*) FILTER (WHERE category = 'interaction' AND level = '{lv}') AS interactions_{lv}"
            for lv in LEVELS
        ]
        + [
            "count(*) FILTER (WHERE category = 'pim') AS pim",
            "count(*) FILTER (WHERE category = 'renal') AS renal",
            "count(*) FILTER (WHERE category = 'omission') AS omissions",
        ]
    )
    per_scale = ", ".join(
        f"CAST(sum(score) FILTER (WHERE scale = '{s}') AS BIGINT) AS \"{s}\"" for s in scales
    )
    parts = {
        **{f"interactions_{lv}": f"interactions_{lv}" for lv in LEVELS},
        "pim": "pim",
        "renal": "renal",
        "acb_high": f'CAST("{scales[0]}" >= {acb_high[0] if acb_high else 3} AS BIGINT)' if scales else "0",
        "qt_combination": "CAST(qt_drugs >= 2 AS BIGINT)",
        "molecules_over_10": "greatest(molecules - 10, 0)",
    }
    names = list(weights)
    score = {n: f"CAST({parts[n]} AS DOUBLE) * {float(weights[n])!r}" for n in names}
    ahead = {
        n: " + ".join(f"CAST(s_{o} {'>=' if o < n else '>'} s_{n} AS INTEGER)" for o in names if o != n)
        or "0"
        for n in names
    }
    reasons = [
        "CASE " + " ".join(f"WHEN a_{n} = {k} AND s_{n} > 0 THEN '{n}'" for n in names) + " END"
        for k in range(3)
    ]
    scale_columns = ", ".join(f'coalesce(m."{s}", 0) AS "{s}"' for s in scales)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE s_patients AS
        WITH counts AS (SELECT patient_id, {counts} FROM s_findings GROUP BY patient_id),
        measures AS (
            SELECT patient_id, {per_scale or "NULL AS _none"} FROM s_subs JOIN kb_acb USING (sub)
            GROUP BY patient_id
        ),
        qt AS (
            SELECT patient_id, count(*) AS qt_drugs FROM s_subs JOIN kb_qt USING (sub) GROUP BY patient_id
        ),
        distinct_subs AS (SELECT patient_id, count(*) AS n FROM s_subs GROUP BY patient_id),
        base AS (
            SELECT p.patient_id, p.age, p.sex, p.rows, coalesce(d.n, 0) AS distinct_substances,
                   p.unresolved_rows, coalesce(d.n, 0) + least(p.unresolved_rows, 1) AS molecules
                   {", " + ", ".join(f"p.{c}" for c in extra_columns) if extra_columns else ""}
                   {", NULL::DOUBLE AS crcl_ml_min" if "crcl_ml_min" not in extra_columns else ""},
                   p.age >= 75 AND coalesce(d.n, 0) + least(p.unresolved_rows, 1) >= 10 AS eligible_iatroprev,
                   {", ".join(f"coalesce(c.interactions_{lv}, 0) AS interactions_{lv}" for lv in LEVELS)},
                   coalesce(c.pim, 0) AS pim, coalesce(c.renal, 0) AS renal,
                   coalesce(c.omissions, 0) AS omissions,
                   {scale_columns + "," if scale_columns else ""} coalesce(q.qt_drugs, 0) AS qt_drugs
            FROM s_people p LEFT JOIN distinct_subs d USING (patient_id) LEFT JOIN counts c USING (patient_id)
            LEFT JOIN measures m USING (patient_id) LEFT JOIN qt q USING (patient_id)
        ),
        scored AS (SELECT *, {", ".join(f"{score[n]} AS s_{n}" for n in names)} FROM base),
        ranked AS (
            SELECT *, {" + ".join(f"s_{n}" for n in names) or "0.0"} AS risk_score,
                   {", ".join(f"{ahead[n]} AS a_{n}" for n in names)}
            FROM scored
        )
        SELECT * EXCLUDE ({", ".join([f"s_{n}" for n in names] + [f"a_{n}" for n in names])}),
               concat_ws(', ', {", ".join(reasons)}) AS top_reasons
        FROM ranked ORDER BY risk_score DESC, patient_id
    """)


def _duckdb(folder: str, check: bool, queue: Any) -> None:
    """The same screening (same outputs) in DuckDB SQL."""
    import duckdb

    from pharma_service.batch.tables import build_tables
    from pharma_service.service import Engine

    engine = Engine.load()
    con = duckdb.connect()
    load_knowledge(con, Path(folder), build_tables(engine.kb), engine.kb)
    weights = _weights()
    start = time.perf_counter()
    duckdb_screen(
        con,
        f"{folder}/dispensations.parquet",
        f"{folder}/patients.parquet",
        normaliser=engine.normaliser,
        folder=Path(folder),
        weights=weights,
    )
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    patients = con.execute("SELECT count(*) FROM s_patients").fetchone()
    findings = con.execute("SELECT count(*) FROM s_findings").fetchone()
    if check:
        con.execute(f"COPY s_patients TO '{folder}/out_duckdb_patients.parquet' (FORMAT parquet)")
        con.execute(f"COPY s_findings TO '{folder}/out_duckdb_findings.parquet' (FORMAT parquet)")
    queue.put(
        {
            "seconds": seconds,
            "patients": patients[0] if patients else 0,
            "findings": findings[0] if findings else 0,
            "peak_mib": peak,
        }
    )


def same_outputs(folder: Path, a: str, b: str) -> str:
    """'identical' when the two paths wrote the same tables, else what differs first."""
    import polars as pl
    from polars.testing import assert_frame_equal

    for name in ("patients", "findings"):
        left = pl.read_parquet(folder / f"out_{a}_{name}.parquet")
        right = pl.read_parquet(folder / f"out_{b}_{name}.parquet")
        try:
            assert_frame_equal(left, right.select(left.columns), check_dtypes=False)
        except (AssertionError, pl.exceptions.PolarsError) as exc:
            return f"{name} differ: {str(exc).splitlines()[0][:200]}"
    return "identical"


def _per_patient(folder: str, sample: int, queue: Any) -> None:
    import polars as pl

    from pharma_service.models import AnalysisRequest, MedicationInput
    from pharma_service.service import Engine, analyse_request

    engine = Engine.load()
    rows = (
        pl.scan_parquet(Path(folder) / "dispensations.parquet")
        .filter(pl.col("patient_id") < sample)
        .collect()
    )
    start = time.perf_counter()
    for _, group in rows.group_by("patient_id"):
        meds = []
        for r in group.unique(["cip13", "atc", "label"]).iter_rows(named=True):
            if r["cip13"]:
                meds.append(MedicationInput(cip13=r["cip13"]))
            elif r["atc"]:
                meds.append(MedicationInput(atc=r["atc"]))
            elif r["label"]:
                meds.append(MedicationInput(text=r["label"]))
        request = AnalysisRequest.model_validate({"patient": {"age": 80}, "medications": meds})
        analyse_request(request, engine=engine)
    seconds = time.perf_counter() - start
    queue.put(
        {
            "seconds": seconds,
            "patients": sample,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )


def _run(target: Any, *args: Any) -> dict[str, Any]:
    """Run one path in a child process; a child that dies reports instead of hanging the run.

    The load average before the run is kept with the result: on a shared machine the
    other processes' load moves the times more than anything else.
    """
    load = round(os.getloadavg()[0], 2)
    context = mp.get_context("spawn")
    queue: Any = context.Queue()
    proc = context.Process(target=target, args=(*args, queue))
    proc.start()
    while proc.is_alive() or not queue.empty():
        try:
            result = queue.get(timeout=5)
            proc.join()
            return {**result, "load_before": load}
        except Exception:  # queue.Empty: keep waiting while the child lives
            continue
    return {"seconds": float("nan"), "peak_mib": float("nan"), "note": f"failed (exit {proc.exitcode})"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=300, help="Patients analysed one by one.")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "RESULTS.md")
    parser.add_argument("--no-check", dest="check", action="store_false", help="Skip the output comparison.")
    parser.add_argument("--only", choices=["polars", "duckdb"], help="Run one batch path only.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        generated = _generate(args.patients, Path(tmp))
        skipped = {"seconds": float("nan"), "peak_mib": float("nan"), "note": "not run"}
        polars_run = _run(_polars, tmp, args.check) if args.only in (None, "polars") else skipped
        duck = skipped
        if args.only in (None, "duckdb"):
            try:
                import duckdb  # noqa: F401

                duck = _run(_duckdb, tmp, args.check)
            except ImportError:
                duck = {"seconds": float("nan"), "peak_mib": float("nan"), "note": "duckdb not installed"}
        verdict = "not checked"
        if args.check and args.only is None and "note" not in polars_run and "note" not in duck:
            verdict = same_outputs(Path(tmp), "polars", "duckdb")
        single = _run(_per_patient, tmp, args.sample) if args.only is None else skipped
    per_patient_total = single["seconds"] / args.sample * args.patients
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"\n### Batch screening — {when}",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}; "
        f"cohort: {args.patients:,} patients, "
        f"{generated['rows']:,} dispensing rows (generated in {generated['seconds']:.1f} s).",
        "",
        "| path | time | peak memory | load average before |",
        "|---|---:|---:|---:|",
        f"| polars (`pharma screen`) | {polars_run['seconds']:.1f} s | {polars_run['peak_mib']:,.0f} MiB "
        f"| {polars_run.get('load_before', '')} |",
        f"| DuckDB SQL, same outputs | {duck['seconds']:.1f} s | {duck['peak_mib']:,.0f} MiB "
        f"| {duck.get('load_before', '')} |",
        f"| per-patient engine, {args.sample} patients, extrapolated | {per_patient_total:,.0f} s "
        f"| {single['peak_mib']:,.0f} MiB | {single.get('load_before', '')} |",
        "",
        f"Polars and DuckDB outputs: {verdict}.",
        "",
        f"Details: {json.dumps({'polars': polars_run, 'duckdb': duck}, default=str)}",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    with args.out.open("a", encoding="utf-8") as handle:
        handle.write(report)


if __name__ == "__main__":
    main()
