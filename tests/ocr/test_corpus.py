"""The synthetic ordonnance corpus (datasets/ocr): determinism, files, and a ground truth the
project's own text path reads back (parser, normaliser, posology parser)."""

from __future__ import annotations

import importlib.util
import json
import math
import shutil
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageOps

from pharma_service.models import LineStatus
from pharma_service.parsing.ordonnance_text import parse_ordonnance_text
from pharma_service.parsing.posology import fold_keep_length, parse_posology
from pharma_service.service import Engine

REPO = Path(__file__).resolve().parents[2]
OCR = REPO / "datasets" / "ocr"
SEED = 7
N_POOL = 400  # documents composed (fast) to pick the rendered sample from
N_COMPOSED = 150  # documents checked against the text path without rendering

DEGRADATIONS = {
    "paper_tone", "shadow", "skew", "phone_photo", "blur", "gaussian_noise", "speckle",
    "rotation", "exif_orientation", "jpeg_quality", "webp_quality",
}  # fmt: skip


def _load(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, OCR / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


gc = _load("generate_corpus")


# What the rendered sample must hold: every layout and file format, two-page PDF and TIFF,
# a JPEG whose orientation is in EXIF, a rotated page, a phone photo, a skewed scan.
REQUIRED = {
    *(f"layout {name}" for name in ("gp_software", "bizone_ald", "hospital", "handwritten")),
    *(f"format {f}" for f in ("png", "jpeg", "tiff", "webp", "pdf", "pdf+text")),
    "two-page pdf", "two-page tiff", "exif_orientation", "rotation", "phone_photo", "skew",
}  # fmt: skip


def _features(doc: Any) -> set[str]:
    fmt = doc.fmt + ("+text" if doc.text_layer else "")
    found = {f"layout {doc.truth['layout']}", f"format {fmt}"}
    if len(doc.pages) == 2:
        found.add(f"two-page {doc.fmt}")
    return found | {d.name for d in gc.plan_degradations(doc, SEED, "noisy")}


def _sample() -> list[Any]:
    """The first documents of the pool that, together, meet every requirement (about ten)."""
    docs: list[Any] = []
    missing = set(REQUIRED)
    for doc in gc.compose(N_POOL, SEED):
        met = missing & _features(doc)
        if met:
            docs.append(doc)
            missing -= met
    assert not missing, f"no document of the first {N_POOL} of seed {SEED} has: {sorted(missing)}"
    return docs


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """About ten rendered documents (noisy profile) covering every layout, format and case."""
    out = tmp_path_factory.mktemp("ocr_corpus")
    return out, [gc.render(doc, out, SEED, "noisy") for doc in _sample()]


def _composed() -> list[dict[str, Any]]:
    return [doc.truth for doc in gc.compose(N_COMPOSED, 11)]


def _open_pages(path: Path) -> list[Image.Image]:
    """Every page of an image file (all frames) or of a PDF (rendered at 72 dpi)."""
    if path.suffix == ".pdf":
        pdf = pdfium.PdfDocument(path)
        return [pdf[i].render(scale=1).to_pil() for i in range(len(pdf))]
    img = Image.open(path)
    frames = []
    for i in range(getattr(img, "n_frames", 1)):
        img.seek(i)
        frames.append(img.copy())
    return frames


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_the_same_truth_and_bytes(
    corpus: tuple[Path, list[dict[str, Any]]], tmp_path: Path
) -> None:
    out, records = corpus
    # the sample again, one file at a time: same truth, same bytes
    for rec in records[:5]:
        doc = gc.compose_one(SEED, int(rec["id"].split("_")[1]))
        assert gc.render(doc, tmp_path, SEED, "noisy") == rec
        for name in rec["files"]:
            assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def test_generate_writes_the_files_and_truth_jsonl(
    corpus: tuple[Path, list[dict[str, Any]]], tmp_path: Path
) -> None:
    _, records = corpus
    written = gc.generate(3, SEED, tmp_path, profile="noisy")
    lines = (tmp_path / "truth.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == written
    assert [r["id"] for r in written] == ["ordo_0000", "ordo_0001", "ordo_0002"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["truth.jsonl", *(f for r in written for f in r["files"])]
    )
    # document i does not depend on n: the sample's documents among the first three are the same
    for rec in written:
        same = [r for r in records if r["id"] == rec["id"]]
        assert same in ([], [rec])


def test_different_seeds_give_different_documents() -> None:
    a = [d.truth for d in gc.compose(5, 1)]
    b = [d.truth for d in gc.compose(5, 2)]
    assert all(x["text"] != y["text"] for x, y in zip(a, b, strict=True))
    assert [d.truth for d in gc.compose(5, 1)] == a


def test_clean_profile_has_the_same_documents_without_degradation(
    corpus: tuple[Path, list[dict[str, Any]]], tmp_path: Path
) -> None:
    _, noisy = corpus
    render_keys = ("profile", "degradations", "encoding", "size_px")
    for n in noisy[:3]:
        c = gc.render(gc.compose_one(SEED, int(n["id"].split("_")[1])), tmp_path, SEED, "clean")
        assert c["profile"] == "clean" and c["degradations"] == []
        assert c["size_px"] == [[gc.PAGE_W, gc.PAGE_H]] * c["pages"]
        assert {k: v for k, v in c.items() if k not in render_keys} == {
            k: v for k, v in n.items() if k not in render_keys
        }
    with pytest.raises(ValueError):
        gc.generate(1, SEED, tmp_path, profile="blurry")


# --------------------------------------------------------------------------- files


def test_every_file_opens_with_its_recorded_pages(corpus: tuple[Path, list[dict[str, Any]]]) -> None:
    out, records = corpus
    for rec in records:
        assert len(rec["files"]) == 1
        path = out / rec["files"][0]
        pages = _open_pages(path)
        assert len(pages) == rec["pages"], rec["id"]
        if rec["format"] == "pdf":
            pdf = pdfium.PdfDocument(path)
            text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
            if rec["text_layer"]:
                # the text layer holds every printed drug line
                flat = " ".join(text.split())
                assert all(line["printed"] in flat for line in rec["lines"]), rec["id"]
            else:
                assert text.strip() == "", rec["id"]
            continue
        with Image.open(path) as img:
            assert img.format == {"png": "PNG", "jpeg": "JPEG", "tiff": "TIFF", "webp": "WEBP"}[rec["format"]]
        assert [list(p.size) for p in pages] == rec["size_px"], rec["id"]


def test_exif_orientation_is_present_where_recorded(corpus: tuple[Path, list[dict[str, Any]]]) -> None:
    out, records = corpus
    seen = 0
    for rec in records:
        if rec["format"] not in ("jpeg", "png", "webp", "tiff"):
            continue
        exif = [d["params"] for d in rec["degradations"] if d["name"] == "exif_orientation"]
        with Image.open(out / rec["files"][0]) as img:
            tag = img.getexif().get(0x0112)
            if exif:
                seen += 1
                assert rec["format"] == "jpeg"
                assert tag == exif[0]["tag"] == {90: 6, 180: 3, 270: 8}[exif[0]["stored_rotation"]]
                upright = ImageOps.exif_transpose(img)
                assert upright.height > upright.width  # an A4 page, once EXIF is honoured
            else:
                assert tag in (None, 1), rec["id"]
    assert seen


def test_sample_covers_the_corpus(corpus: tuple[Path, list[dict[str, Any]]]) -> None:
    _, records = corpus
    assert len(records) <= 12
    assert {r["layout"] for r in records} == set(gc.LAYOUTS)
    assert {r["format"] for r in records if r["pages"] == 2} == {"pdf", "tiff"}
    names = {d["name"] for r in records for d in r["degradations"]}
    assert {"phone_photo", "exif_orientation", "rotation", "skew"} <= names <= DEGRADATIONS


def test_truth_records_are_well_formed(corpus: tuple[Path, list[dict[str, Any]]]) -> None:
    _, records = corpus
    for rec in [*records, *_composed()]:
        p = rec["patient"]
        assert p["sex"] in ("F", "M") and 65 <= p["age"] <= 99
        assert rec["layout"] in gc.LAYOUTS and rec["pages"] in (1, 2)
        assert 3 <= len(rec["lines"]) <= 12
        assert len(rec["prescriber"]["rpps"]) == 11 and rec["prescriber"]["rpps"].isdigit()
        if p["birth_date"] is not None:
            born, on = date.fromisoformat(p["birth_date"]), date.fromisoformat(rec["date"])
            assert on.year - born.year - ((on.month, on.day) < (born.month, born.day)) == p["age"]
        for line in rec["lines"]:
            assert line["substances"] == sorted(line["substances"])
            assert isinstance(line["units_per_intake"], float)
            assert line["as_needed"] == (line["intakes_per_day"] is None)  # the documented convention
            assert 1 <= line["page"] <= rec["pages"]
            assert (line["ald"] is not None) == (rec["layout"] == "bizone_ald")
        assert [line["page"] for line in rec["lines"]] == sorted(line["page"] for line in rec["lines"])
        for d in rec["degradations"]:
            assert d["name"] in DEGRADATIONS and isinstance(d["params"], dict)


def test_the_mix_of_documents() -> None:
    """Layouts, formats, ages and page counts over 300 documents (no rendering)."""
    truths = [d.truth for d in gc.compose(300, 5)]
    layouts = Counter(t["layout"] for t in truths)
    assert set(layouts) == set(gc.LAYOUTS) and min(layouts.values()) >= 30
    assert {t["format"] for t in truths} == {"png", "jpeg", "tiff", "webp", "pdf"}
    assert 0.05 <= sum(t["pages"] == 2 for t in truths) / len(truths) <= 0.2
    assert sum(t["patient"]["age"] >= 75 for t in truths) / len(truths) >= 0.7
    assert all(t["format"] in ("pdf", "tiff") for t in truths if t["pages"] == 2)


# --------------------------------------------------------------------------- the text path


def _age(parsed_patient: dict[str, Any]) -> int | None:
    if parsed_patient.get("age") is not None:
        return int(parsed_patient["age"])
    born, on = parsed_patient.get("birth_date"), parsed_patient.get("reference_date")
    if born is None or on is None:
        return None
    return int(on.year - born.year - ((on.month, on.day) < (born.month, born.day)))


def _close(a: float | None, b: float | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and math.isclose(a, b))


def _check_text_path(rec: dict[str, Any], engine: Engine) -> None:
    where = rec["id"]
    parsed = parse_ordonnance_text(rec["text"])
    truth = rec["patient"]
    assert parsed.patient.get("sex") == truth["sex"], where
    assert _age(parsed.patient) == truth["age"], where
    assert _close(parsed.patient.get("weight_kg"), truth["weight_kg"]), where
    assert _close(parsed.patient.get("crcl_ml_min"), truth["clearance_ml_min"]), where
    birth = parsed.patient.get("birth_date")
    assert (birth.isoformat() if birth else None) == truth["birth_date"], where
    assert parsed.date is not None and parsed.date.isoformat() == rec["date"], where
    assert parsed.prescriber.get("rpps") == rec["prescriber"]["rpps"], where
    assert parsed.prescriber.get("name") == rec["prescriber"]["name"], where
    assert (
        fold_keep_length(parsed.prescriber.get("specialty", "")).lower()
        == fold_keep_length(rec["prescriber"]["specialty"]).lower()
    ), where
    assert len(parsed.lines) == len(rec["lines"]), (
        where,
        [line.text for line in parsed.lines],
        parsed.ignored,
    )
    for raw, line in zip(parsed.lines, rec["lines"], strict=True):
        assert raw.ald == line["ald"], (where, raw.text)
        assert raw.number == line["number"], (where, raw.text)
        assert raw.posology_text == line["posology"], (where, raw.text)
        # the normaliser resolves the printed drug, and the whole parsed line as the service sends it
        for text in (line["printed"], raw.text):
            med = engine.normaliser.normalise_text(text)
            assert med.status == LineStatus.RESOLVED, (where, text)
            assert sorted(s.key for s in med.substances) == line["substances"], (where, text)
        # the posology parser reads the recorded schedule from the printed posology...
        pos = parse_posology(line["posology"])
        assert pos.units_per_intake == line["units_per_intake"], (where, line["posology"])
        assert _close(pos.intakes_per_day, line["intakes_per_day"]), (where, line["posology"])
        assert pos.as_needed == line["as_needed"], (where, line["posology"])
        assert _close(pos.max_units_per_day, line["max_units_per_day"]), (where, line["posology"])
        assert _close(pos.duration_days, line["duration_days"]), (where, line["posology"])
        assert pos.unparsed == [], (where, line["posology"])
        # ...and the service path (parsed line -> normaliser) reads the same schedule
        med_pos = engine.normaliser.normalise_text(raw.text).posology
        assert med_pos is not None, (where, raw.text)
        assert med_pos.units_per_intake == line["units_per_intake"], (where, raw.text)
        assert _close(med_pos.intakes_per_day, line["intakes_per_day"]), (where, raw.text)


def test_the_text_path_reads_the_rendered_documents_truth(
    corpus: tuple[Path, list[dict[str, Any]]], engine: Engine
) -> None:
    _, records = corpus
    for rec in records:
        _check_text_path(rec, engine)


def test_the_text_path_reads_the_truth_of_many_documents(engine: Engine) -> None:
    for rec in _composed():
        _check_text_path(rec, engine)


def test_excluded_drugs_never_appear() -> None:
    used = {line["drug_id"] for t in _composed() for line in t["lines"]}
    assert not used & set(gc.EXCLUDED_DRUGS)
    assert len(used) > 60  # most of the catalogue shows up


# --------------------------------------------------------------------------- legibility


def test_a_clean_page_is_legible_to_tesseract(tmp_path: Path) -> None:
    """Sanity check of the rendering (the corpus itself never uses tesseract)."""
    pytesseract = pytest.importorskip("pytesseract")
    if shutil.which("tesseract") is None or "fra" not in pytesseract.get_languages():
        pytest.skip("tesseract with French data is not installed")
    # a one-page printed document, rendered clean as PNG
    index = next(
        i for i, d in enumerate(gc.compose(40, SEED)) if d.fmt == "png" and d.truth["layout"] != "handwritten"
    )
    doc = gc.compose_one(SEED, index)
    rec = gc.render(doc, tmp_path, SEED, "clean")
    with Image.open(tmp_path / rec["files"][0]) as img:
        small = img.reduce(2)  # 150 dpi is enough for 10-13 pt text, and four times faster
        text = pytesseract.image_to_string(small, lang="fra")
    words = set(text.split())
    for line in rec["lines"]:
        found = [w for w in line["printed"].split() if w in words]
        assert len(found) >= len(line["printed"].split()) // 2, (line["printed"], text)
