"""The whole OCR pipeline on a small seeded sample of the synthetic corpus, against its truth.

The full corpus and the targets are measured by benchmarks/bench_ocr.py; this sample keeps
CI honest: the pipeline must read most lines right, and beat raw Tesseract with exact names.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from pharma_service.ocr.documents import open_document
from pharma_service.ocr.engine import TesseractEngine
from pharma_service.ocr.evaluation import ExactNamesNormaliser, score
from pharma_service.ocr.pipeline import read_pages
from pharma_service.parsing.ordonnance_text import parse_ordonnance_text
from pharma_service.service import Engine

REPO = Path(__file__).resolve().parents[2]
SAMPLE = 8

pytestmark = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="Tesseract not installed (.ci/run installs it)"
)


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_corpus", REPO / "datasets/ocr/generate_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["generate_corpus"] = module
    spec.loader.exec_module(module)
    return module


def _totals(rows: list[dict[str, Any]]) -> dict[str, float]:
    lines = sum(r["lines"] for r in rows)
    return {
        "drugs": sum(r["drugs_right"] for r in rows) / lines,
        "posologies": sum(r["posologies_right"] for r in rows) / lines,
        "ages": sum(r["age_right"] for r in rows) / len(rows),
    }


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory, engine: Engine) -> dict[str, dict[str, float]]:
    folder = tmp_path_factory.mktemp("ocr_corpus")
    _generator().generate(SAMPLE, 2026, folder, profile="noisy")
    truths = [json.loads(line) for line in (folder / "truth.jsonl").read_text().splitlines()]
    ocr = TesseractEngine()
    exact = ExactNamesNormaliser(engine.kb.referential)
    pipeline, baseline = [], []
    for truth in truths:
        raw = (folder / truth["files"][0]).read_bytes()
        placed, _ = read_pages(open_document(raw, truth["id"]), ocr)
        pipeline.append(
            score(
                truth,
                parse_ordonnance_text(
                    "\n".join(p.text for p in placed), is_drug_name=engine.normaliser.is_drug_name
                ),
                engine.normaliser,
            )
        )
        pages = open_document(raw, truth["id"]).pages
        raw_text = "\n".join(
            page.text if page.text is not None else "\n".join(ln.text for ln in ocr.read(page.image))
            for page in pages
            if page.text is not None or page.image is not None
        )
        baseline.append(score(truth, parse_ordonnance_text(raw_text), exact))
    return {"pipeline": _totals(pipeline), "baseline": _totals(baseline)}


def test_pipeline_reads_most_drug_lines_right(results: dict[str, dict[str, float]]) -> None:
    assert results["pipeline"]["drugs"] >= 0.85, results
    assert results["pipeline"]["posologies"] >= 0.75, results
    assert results["pipeline"]["ages"] >= 0.75, results


def test_pipeline_beats_raw_tesseract_with_exact_names(results: dict[str, dict[str, float]]) -> None:
    assert results["pipeline"]["drugs"] > results["baseline"]["drugs"], results
    assert results["pipeline"]["ages"] >= results["baseline"]["ages"], results
