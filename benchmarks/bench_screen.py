"""Batch screening benchmark: polars path vs the same rules in DuckDB SQL vs the per-patient engine.

    pip install duckdb   # for the DuckDB formulation (optional extra: pip install -e '.[bench]')
    python benchmarks/bench_screen.py --patients 1000000 [--sample 300] [--out benchmarks/RESULTS.md]

Each path runs in a child process so that its peak memory (ru_maxrss) is its own.
The cohort is generated once (seeded) and written as Parquet to a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
REF = date(2026, 11, 1)


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


def _polars(folder: str, queue: Any) -> None:
    import polars as pl
    import yaml

    from pharma_service.batch.screen import screen
    from pharma_service.batch.tables import build_tables
    from pharma_service.service import Engine

    engine = Engine.load()
    tables = build_tables(engine.kb)
    weights = yaml.safe_load((REPO / "rules" / "batch" / "risk_score.yaml").read_text())["weights"]
    start = time.perf_counter()
    result = screen(
        pl.scan_parquet(Path(folder) / "dispensations.parquet"),
        kb=engine.kb,
        normaliser=engine.normaliser,
        tables=tables,
        patients=pl.scan_parquet(Path(folder) / "patients.parquet"),
        reference_date=REF,
        window_months=3,
        weights=weights,
    )
    seconds = time.perf_counter() - start
    queue.put(
        {
            "seconds": seconds,
            "patients": result.patients.height,
            "findings": result.findings.height,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )


def _duckdb(folder: str, queue: Any) -> None:
    """The same evaluated rules (resolution by CIP13/ATC, interactions, drug-only PIM, ACB, QT) in SQL."""
    import duckdb

    from pharma_service.batch.tables import build_tables
    from pharma_service.service import Engine

    engine = Engine.load()
    t = build_tables(engine.kb)
    con = duckdb.connect()
    for name in ("cip13", "atc", "pairs", "acb", "qt", "pim"):
        path = Path(folder) / f"kb_{name}.parquet"
        getattr(t, name).write_parquet(path)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet('{path}')")
    start = time.perf_counter()
    con.execute(f"""
        CREATE TEMP TABLE rows AS
        SELECT row_number() OVER () AS row_id, CAST(patient_id AS VARCHAR) AS patient_id,
               birth_date, cip13, atc
        FROM read_parquet('{folder}/dispensations.parquet')
        WHERE dispensing_date > DATE '{REF}' - INTERVAL 91 DAY AND dispensing_date <= DATE '{REF}';
        CREATE TEMP TABLE subs AS
        SELECT DISTINCT r.patient_id, m.substance_key FROM rows r JOIN cip13 m USING (cip13)
        UNION SELECT DISTINCT r.patient_id, m.substance_key FROM rows r JOIN atc m USING (atc);
        CREATE TEMP TABLE inter AS
        SELECT s1.patient_id, p.level FROM subs s1 JOIN subs s2
          ON s1.patient_id = s2.patient_id AND s1.substance_key < s2.substance_key
        JOIN pairs p ON p.a = s1.substance_key AND p.b = s2.substance_key;
        CREATE TEMP TABLE result AS
        SELECT s.patient_id, count(DISTINCT s.substance_key) AS molecules,
               (SELECT count(*) FROM inter i WHERE i.patient_id = s.patient_id AND level = 'CI') AS ci
        FROM subs s GROUP BY s.patient_id;
    """)
    acb = con.execute(
        "SELECT patient_id, sum(score) FROM subs JOIN acb USING (substance_key) GROUP BY 1"
    ).fetchall()
    qt = con.execute(
        "SELECT patient_id, count(*) FROM subs JOIN qt USING (substance_key) GROUP BY 1"
    ).fetchall()
    pim = con.execute("SELECT count(*) FROM subs JOIN pim USING (substance_key)").fetchone()
    n = con.execute("SELECT count(*) FROM result").fetchone()
    seconds = time.perf_counter() - start
    queue.put(
        {
            "seconds": seconds,
            "patients": n[0] if n else 0,
            "acb_rows": len(acb),
            "qt_rows": len(qt),
            "pim_rows": pim[0] if pim else 0,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
    )


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
    """Run one path in a child process; a child that dies reports instead of hanging the run."""
    context = mp.get_context("spawn")
    queue: Any = context.Queue()
    proc = context.Process(target=target, args=(*args, queue))
    proc.start()
    while proc.is_alive() or not queue.empty():
        try:
            result = queue.get(timeout=5)
            proc.join()
            return dict(result)
        except Exception:  # queue.Empty: keep waiting while the child lives
            continue
    return {"seconds": float("nan"), "peak_mib": float("nan"), "note": f"failed (exit {proc.exitcode})"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=300, help="Patients analysed one by one.")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "RESULTS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        generated = _generate(args.patients, Path(tmp))
        polars_run = _run(_polars, tmp)
        try:
            import duckdb  # noqa: F401

            duck = _run(_duckdb, tmp)
        except ImportError:
            duck = {"seconds": float("nan"), "peak_mib": float("nan"), "note": "duckdb not installed"}
        single = _run(_per_patient, tmp, args.sample)
    per_patient_total = single["seconds"] / args.sample * args.patients
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"\n### Batch screening — {when}",
        "",
        f"Machine: {platform.machine()}, Python {platform.python_version()}; "
        f"cohort: {args.patients:,} patients, "
        f"{generated['rows']:,} dispensing rows (generated in {generated['seconds']:.1f} s).",
        "",
        "| path | time | peak memory |",
        "|---|---:|---:|",
        f"| polars (lazy joins, streaming collect) | {polars_run['seconds']:.1f} s "
        f"| {polars_run['peak_mib']:,.0f} MiB |",
        f"| DuckDB SQL, same joins | {duck['seconds']:.1f} s | {duck['peak_mib']:,.0f} MiB |",
        f"| per-patient engine, {args.sample} patients, extrapolated | {per_patient_total:,.0f} s "
        f"| {single['peak_mib']:,.0f} MiB |",
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
