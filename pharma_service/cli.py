"""Command line: `pharma analyze FILE`, `pharma serve`, `pharma knowledge`.

Expected failures print one clear line on stderr and exit with the error's code;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from pharma_service.errors import ExitCode, InvalidInput, PharmaError, UnsupportedInput
from pharma_service.inputs import read_request_file
from pharma_service.plan.render import FORMATS, render
from pharma_service.report_text import render_text
from pharma_service.service import Engine, analyse_request, plan_request

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)

EXAMPLE = Path(__file__).resolve().parents[1] / "datasets" / "examples" / "ordonnance_82F.txt"


class OutputFormat(StrEnum):
    json = "json"
    text = "text"


def _fail(exc: PharmaError) -> None:
    typer.echo(f"error [{exc.code}]: {exc.message}", err=True)
    raise typer.Exit(int(exc.exit_code))


SCAN_SUFFIXES = {".png", ".jpg", ".jpeg", ".heic", ".heif", ".avif", ".tif", ".tiff", ".webp", ".bmp", ".pdf"}


@app.command()
def analyze(
    file: Annotated[
        Path,
        typer.Argument(
            help="Structured request (.json), ordonnance text (.txt), or a scan or photo "
            "(.png, .jpg, .heic, .tiff, .webp, .pdf)."
        ),
    ],
    format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.text,
    patient: Annotated[
        str | None,
        typer.Option(help="Scans only: patient facts the ordonnance lacks, as JSON, e.g. '{\"age\": 84}'."),
    ] = None,
) -> None:
    """Analyse one patient's prescription and print the findings (and, for a scan, what was read)."""
    if file.suffix.lower() in SCAN_SUFFIXES:
        _analyze_scan(file, format, patient)
        return
    try:
        request = read_request_file(file)
        engine = Engine.load()
        analysis = analyse_request(request, engine=engine)
    except PharmaError as exc:
        _fail(exc)
        return
    if format is OutputFormat.json:
        _write_json(analysis.model_dump(mode="json"))
    else:
        sys.stdout.write(render_text(analysis))


def _analyze_scan(file: Path, format: OutputFormat, patient: str | None) -> None:
    from pharma_service.ocr.engine import TesseractEngine
    from pharma_service.ocr.handwriting import default_second_reader
    from pharma_service.ocr.pipeline import analyse_prescription
    from pharma_service.report_text import render_reading

    try:
        extra = _patient_option(patient)
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise InvalidInput(f"cannot read {file}: {exc.strerror}") from exc
        engine = Engine.load()
        result = analyse_prescription(
            raw,
            name=file.name,
            ocr=TesseractEngine(),
            engine=engine,
            patient=extra,
            second_reader=default_second_reader(engine.kb.referential),
        )
    except PharmaError as exc:
        _fail(exc)
        return
    if format is OutputFormat.json:
        _write_json(result.model_dump(mode="json"))
    else:
        sys.stdout.write(render_reading(result.reading) + "\n" + render_text(result.analysis))


def _patient_option(value: str | None) -> dict[str, object] | None:
    if value is None:
        return None
    try:
        data = json.loads(value)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f'--patient: malformed JSON ({exc.msg}); e.g. \'{{"age": 84, "sex": "F"}}\''
        ) from exc
    if not isinstance(data, dict):
        raise InvalidInput("--patient must be a JSON object, e.g. '{\"age\": 84}'")
    return data


def _write_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


@app.command()
def ppp(
    file: Annotated[Path, typer.Argument(help="Structured request (.json) or ordonnance text (.txt).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="plan.pdf, plan.html or plan.json")],
) -> None:
    """Build the Plan Pharmaceutique Personnalisé for the RCP and write it to --out."""
    fmt = out.suffix.lower().lstrip(".")
    try:
        if fmt not in FORMATS:
            raise UnsupportedInput(f"{out.name}: write the plan as .pdf, .html or .json")
        request = read_request_file(file)
        document = render(plan_request(request, engine=Engine.load()), fmt)
        out.write_bytes(document)
    except PharmaError as exc:
        _fail(exc)
        return
    except OSError as exc:
        typer.echo(f"error [output]: cannot write {out}: {exc.strerror}", err=True)
        raise typer.Exit(int(ExitCode.INVALID_INPUT)) from exc
    typer.echo(f"plan written to {out} ({len(document):,} bytes)")


@app.command()
def screen(
    file: Annotated[Path, typer.Argument(help="Dispensing table (.csv or .parquet).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    patients: Annotated[
        Path | None, typer.Option(help="Optional patient table (weight, clearance, conditions).")
    ] = None,
    reference_date: Annotated[str | None, typer.Option(help="YYYY-MM-DD, default today.")] = None,
    window_months: Annotated[int, typer.Option(help="Months before the reference date.")] = 3,
    format: Annotated[str, typer.Option("--format", help="parquet or csv")] = "parquet",
    batches: Annotated[
        int,
        typer.Option(
            min=1,
            help="Screen the patients in this many batches, one after another: same outputs, "
            "less memory, for tables larger than memory.",
        ),
    ] = 1,
) -> None:
    """Screen a population: eligibility, interactions, inappropriate drugs, ranking."""
    import time
    from datetime import date

    import yaml

    from pharma_service.batch.io import scan_table, write_outputs
    from pharma_service.batch.screen import screen as run_screen
    from pharma_service.batch.tables import build_tables
    from pharma_service.engine.kb import DEFAULT_RULES_DIR

    started = time.perf_counter()

    def step(message: str) -> None:
        typer.echo(f"[{time.perf_counter() - started:6.1f} s] {message}", err=True)

    try:
        if format not in {"parquet", "csv"}:
            raise UnsupportedInput("--format must be parquet or csv")
        try:
            ref = date.fromisoformat(reference_date) if reference_date else date.today()
        except ValueError as exc:
            raise InvalidInput(f"--reference-date {reference_date!r}: expected YYYY-MM-DD") from exc
        step("loading the knowledge base")
        engine = Engine.load()
        tables = build_tables(engine.kb)
        weights = yaml.safe_load((DEFAULT_RULES_DIR / "batch" / "risk_score.yaml").read_text())["weights"]
        step(f"screening {file.name}")
        result = run_screen(
            scan_table(file),
            kb=engine.kb,
            normaliser=engine.normaliser,
            tables=tables,
            patients=scan_table(patients) if patients else None,
            reference_date=ref,
            window_months=window_months,
            weights=weights,
            progress=step,
            batches=batches,
        )
        step(f"writing {out}")
        written = write_outputs(result, out, fmt=format)
    except PharmaError as exc:
        _fail(exc)
        return
    s = result.summary
    step(
        f"done: {s['patients']:,} patients, {s['eligible_iatroprev']:,} eligible, "
        f"{s['rows_unresolved']:,} of {s['rows_in_window']:,} rows unresolved"
    )
    for path in written:
        typer.echo(str(path))


@app.command()
def example(
    format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.text,
) -> None:
    """Analyse the bundled example ordonnance (an 82-year-old woman, 12 lines)."""
    analyze(EXAMPLE, format)


@app.command()
def knowledge() -> None:
    """Print the sources and versions of the loaded knowledge base."""
    try:
        engine = Engine.load()
    except PharmaError as exc:
        _fail(exc)
        return
    from pharma_service.api.app import knowledge_summary

    typer.echo(json.dumps(knowledge_summary(engine.kb), indent=2, ensure_ascii=False))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Start the REST API (FastAPI, OpenAPI docs at /docs)."""
    import uvicorn

    uvicorn.run("pharma_service.api.app:create_app", factory=True, host=host, port=port)


if __name__ == "__main__":
    app()
