"""OCR accuracy and speed on the synthetic corpus, beside a baseline.

    python benchmarks/bench_ocr.py [--n 200] [--seed 11] [--profile noisy] [--corpus DIR]
                                   [--out benchmarks/RESULTS.md]

Pipeline: pharma_service.ocr (pre-processing, layout, corrections, fuzzy drug names).
Baseline: raw Tesseract text of the page as received (same model and page segmentation,
no pre-processing, no corrections) and exact drug-name matching (the normaliser without its
fuzzy step). Both go through the same text parser, so the difference is the OCR pipeline.

Scores, over the drug lines of the ground truth (datasets/ocr/ truth.jsonl):
- drug line right: a line read resolves to exactly the substances of the truth line;
- posology right: that line's units per intake and intakes per day equal the truth's, or
  its dose in the strength's unit equals the truth's units times the strength ("units
  only" is the strict count: 40 mg once a day for a 40 mg tablet is counted wrong there);
- patient: age, sex and weight (when printed) equal the truth's.
Time: per page, the pipeline against raw Tesseract (`image_to_data`) on the same page.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
GENERATOR = REPO / "datasets/ocr/generate_corpus.py"
sys.path.insert(0, str(REPO))

from pharma_service.ocr.documents import open_document  # noqa: E402
from pharma_service.ocr.engine import TesseractEngine  # noqa: E402
from pharma_service.ocr.evaluation import ExactNamesNormaliser, score  # noqa: E402
from pharma_service.ocr.handwriting import PaddleReader  # noqa: E402
from pharma_service.ocr.lexicon import Lexicon  # noqa: E402
from pharma_service.ocr.pipeline import read_pages  # noqa: E402
from pharma_service.parsing.ordonnance_text import parse_ordonnance_text  # noqa: E402
from pharma_service.service import Engine  # noqa: E402


def _generator() -> Any:
    # Loaded by path: "datasets" is also the name of a PyPI package.
    spec = importlib.util.spec_from_file_location("generate_corpus", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["generate_corpus"] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--profile", default="noisy")
    parser.add_argument("--corpus", type=Path, help="an existing corpus folder (default: generate one)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "RESULTS.md")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--limit", type=int, help="only the first N documents of the corpus")
    parser.add_argument(
        "--no-second-reader", action="store_true", help="Tesseract alone, without the handwriting reader"
    )
    parser.add_argument(
        "--no-lexicon",
        action="store_true",
        help="the handwriting reader without the lexicon (greedy decoding)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        corpus = args.corpus or Path(tmp)
        if args.corpus is None:
            _generator().generate(args.n, args.seed, corpus, profile=args.profile)
        truths = [json.loads(line) for line in (corpus / "truth.jsonl").read_text().splitlines() if line]
        truths = truths[: args.limit] if args.limit else truths
        engine = Engine.load()
        exact = ExactNamesNormaliser(engine.kb.referential)
        ocr = TesseractEngine()
        second = (
            None
            if args.no_second_reader
            else PaddleReader(
                lexicon=None if args.no_lexicon else Lexicon.from_referential(engine.kb.referential)
            )
        )
        rows = [
            run_document(t, corpus, engine, exact, ocr, second, baseline=not args.no_baseline) for t in truths
        ]
    report = summarise(rows, args)
    print(report)
    with args.out.open("a", encoding="utf-8") as fh:
        fh.write("\n" + report)


def run_document(
    truth: dict[str, Any],
    corpus: Path,
    engine: Engine,
    exact: ExactNamesNormaliser,
    ocr: TesseractEngine,
    second: PaddleReader | None,
    *,
    baseline: bool,
) -> dict[str, Any]:
    raw = b"".join((corpus / f).read_bytes() for f in truth["files"][:1])
    pages = len(open_document(raw, truth["id"]).pages)
    started = time.perf_counter()
    document = open_document(raw, truth["id"])
    placed, reports = read_pages(document, ocr, second)
    parsed = parse_ordonnance_text(
        "\n".join(line.text for line in placed), is_drug_name=engine.normaliser.is_drug_name
    )
    pipeline_s = time.perf_counter() - started
    row: dict[str, Any] = {
        "id": truth["id"],
        "layout": truth.get("layout"),
        "pages": pages,
        "pipeline_s": pipeline_s,
        "rotated": any(r.rotation for r in reports),
        "read_again": sum(any(step.startswith("read again") for step in r.steps) for r in reports),
        "pipeline": score(truth, parsed, engine.normaliser),
    }
    if baseline:
        started = time.perf_counter()
        text, ocr_pages = raw_tesseract_text(raw, truth["id"], ocr)
        row["raw_s"] = time.perf_counter() - started
        row["raw_ocr_pages"] = ocr_pages
        row["baseline"] = score(truth, parse_ordonnance_text(text), exact)
    return row


def raw_tesseract_text(raw: bytes, name: str, ocr: TesseractEngine) -> tuple[str, int]:
    """Tesseract on each page as received: same model and settings, nothing before or after.

    Returns the text and the number of pages Tesseract read (0 for a PDF with a text layer)."""
    document = open_document(raw, name)
    texts = []
    read = 0
    for page in document.pages:
        if page.text is not None:
            texts.append(page.text)
            continue
        assert page.image is not None
        lines = ocr.read(page.image)
        read += 1
        texts.append("\n".join(line.text for line in lines))
    return "\n".join(texts), read


def summarise(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    def rates(key: str) -> dict[str, float]:
        scored = [r[key] for r in rows if key in r]
        lines = sum(s["lines"] for s in scored)
        weights = [s["weight_right"] for s in scored if s["weight_right"] is not None]
        patient_facts = [s["age_right"] for s in scored] + [s["sex_right"] for s in scored] + weights
        return {
            "drug lines right": 100 * sum(s["drugs_right"] for s in scored) / lines,
            "posologies right": 100 * sum(s["posologies_right"] for s in scored) / lines,
            "posologies right, units only": 100 * sum(s["posologies_right_strict"] for s in scored) / lines,
            "ages right": 100 * sum(s["age_right"] for s in scored) / len(scored),
            "sexes right": 100 * sum(s["sex_right"] for s in scored) / len(scored),
            "weights right": 100 * sum(weights) / max(1, len(weights)),
            "patient facts right": 100 * sum(patient_facts) / len(patient_facts),
            "extra lines per document": sum(s["extra_lines"] for s in scored) / len(scored),
        }

    pipeline = rates("pipeline")
    has_baseline = "baseline" in rows[0]
    baseline = rates("baseline") if has_baseline else {}
    per_page = [r["pipeline_s"] / r["pages"] for r in rows]
    out = [
        f"### Ordonnance OCR — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Machine: {platform.machine()}, CPython {platform.python_version()}, "
        f"corpus: {len(rows)} documents ({sum(r['pages'] for r in rows)} pages, "
        f"{sum(r['pipeline']['lines'] for r in rows)} drug lines), profile {args.profile}, seed {args.seed}; "
        + (
            "handwriting reader off"
            if args.no_second_reader
            else f"pages read again by the handwriting reader: {sum(r['read_again'] for r in rows)}"
            + (" (without its lexicon)" if args.no_lexicon else "")
        ),
        "",
        "| measure | pipeline | baseline |",
        "|---|---:|---:|",
    ]
    for name, value in pipeline.items():
        other = f"{baseline[name]:.1f}" if has_baseline else "-"
        out.append(
            f"| {name} (%) | {value:.1f} | {other} |"
            if "per" not in name
            else f"| {name} | {value:.2f} | {other} |"
        )
    out.append(
        f"| seconds per page, median | {statistics.median(per_page):.2f} | "
        + (f"{statistics.median([r['raw_s'] / r['pages'] for r in rows]):.2f} |" if has_baseline else "- |")
    )
    if has_baseline:
        # The target is relative to Tesseract's time on the same page: a PDF page with a text
        # layer is not read by Tesseract on either path, so it has no such time.
        read = [r for r in rows if r["raw_ocr_pages"]]
        ratios = [r["pipeline_s"] / r["raw_s"] for r in read]
        out.append(
            f"| pipeline / raw Tesseract time, median (pages read by OCR: {len(read)} documents) | "
            + (f"{statistics.median(ratios):.2f}" if ratios else "-")
            + " | 1.00 |"
        )
        every = [r["pipeline_s"] / r["raw_s"] for r in rows]
        out.append(
            f"| pipeline / raw time, median over all {len(rows)} documents (text-layer PDFs too) | "
            f"{statistics.median(every):.2f} | 1.00 |"
        )
    out.append(f"| seconds per page, p95 | {sorted(per_page)[int(0.95 * (len(per_page) - 1))]:.2f} | |")
    by_layout: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_layout.setdefault(str(r["layout"]), []).append(r["pipeline"])
    out += [
        "",
        "Drug lines right by layout (pipeline): "
        + ", ".join(
            f"{k} {100 * sum(s['drugs_right'] for s in v) / sum(s['lines'] for s in v):.1f}%"
            for k, v in sorted(by_layout.items())
        ),
        "",
    ]
    return "\n".join(out)


if __name__ == "__main__":
    main()
