"""The pipeline after the OCR (fake engine), then the whole of it with Tesseract."""

from __future__ import annotations

import shutil

import pytest
from ocr_pages import ORDONNANCE, encode, render_page
from PIL import Image

from pharma_service.errors import InvalidInput
from pharma_service.inputs import request_from_text
from pharma_service.models import LineStatus
from pharma_service.ocr import engine as ocr_engine
from pharma_service.ocr.engine import FakeEngine, OcrUnavailable, TesseractEngine
from pharma_service.ocr.pipeline import CHECK_THRESHOLD, analyse_prescription
from pharma_service.service import Engine, analyse_request

BLANK_PNG = encode(Image.new("L", (2480, 3508), 255), "PNG")  # a blank A4 page at 300 dpi


def _fake(lines: list[tuple[str, float]], **kwargs: int | None) -> FakeEngine:
    return FakeEngine([lines], **kwargs)


def _lines(text: str, confidence: float = 95.0) -> list[tuple[str, float]]:
    return [(line, confidence) for line in text.splitlines()]


def test_same_analysis_as_the_text_ordonnance(engine: Engine) -> None:
    result = analyse_prescription(BLANK_PNG, name="scan.png", ocr=_fake(_lines(ORDONNANCE)), engine=engine)
    expected = analyse_request(request_from_text(ORDONNANCE)[0], engine=engine)
    assert result.analysis.model_dump() == expected.model_dump()
    assert [line.text for line in result.reading.lines] == [
        "SIMVASTATINE 40 mg comprimé : 1 comprimé le soir",
        "FUROSEMIDE 40 mg : 1-0-0",
        "AMIODARONE 200 mg comprimé ; 1 cp le matin",
        "DOLIPRANE 1000 mg : 1 cp si douleur, maximum 3 par jour",
    ]
    assert result.reading.patient["weight_kg"] == 61
    assert result.reading.prescriber.get("rpps") == "10003456789"


def test_a_line_and_its_continuation_share_one_box(engine: Engine) -> None:
    result = analyse_prescription(BLANK_PNG, name="scan.png", ocr=_fake(_lines(ORDONNANCE)), engine=engine)
    amiodarone = result.reading.lines[2]
    assert amiodarone.box is not None
    _, top, _, bottom = amiodarone.box
    assert bottom - top == 100  # two rows of 40 px, 60 px apart
    assert amiodarone.page == 1


def test_clear_lines_are_not_flagged(engine: Engine) -> None:
    result = analyse_prescription(BLANK_PNG, name="scan.png", ocr=_fake(_lines(ORDONNANCE)), engine=engine)
    assert not any(line.needs_check for line in result.reading.lines)
    assert all(line.confidence >= CHECK_THRESHOLD for line in result.reading.lines)


def test_a_hard_to_read_line_is_flagged(engine: Engine) -> None:
    lines = _lines(ORDONNANCE)
    lines[5] = (lines[5][0], 40.0)  # FUROSEMIDE read with low confidence
    result = analyse_prescription(BLANK_PNG, name="scan.png", ocr=_fake(lines), engine=engine)
    flagged = [line for line in result.reading.lines if line.needs_check]
    assert [line.text for line in flagged] == ["FUROSEMIDE 40 mg : 1-0-0"]
    assert flagged[0].reasons == ["text hard to read", "a number or fraction hard to read"]
    assert flagged[0].box is not None


def test_a_misread_half_tablet_is_flagged(engine: Engine) -> None:
    text = ORDONNANCE.replace("1 cp le matin", "% cp le matin")  # "½" read as "%"
    result = analyse_prescription(BLANK_PNG, name="scan.png", ocr=_fake(_lines(text)), engine=engine)
    assert result.reading.lines[2].needs_check
    assert "unexpected characters in the posology" in result.reading.lines[2].reasons


def test_specks_read_as_punctuation_do_not_join_a_drug(engine: Engine) -> None:
    lines = _lines(ORDONNANCE)
    lines.insert(6, ("      : ;", 30.0))  # between FUROSEMIDE and AMIODARONE
    result = analyse_prescription(BLANK_PNG, name="scan.png", ocr=_fake(lines), engine=engine)
    assert result.reading.lines[1].text == "FUROSEMIDE 40 mg : 1-0-0"


def test_an_unknown_drug_is_flagged_and_reported_unresolved(engine: Engine) -> None:
    text = ORDONNANCE.replace("FUROSEMIDE 40 mg", "XQZWV 40 mg")
    result = analyse_prescription(BLANK_PNG, name="scan.png", ocr=_fake(_lines(text)), engine=engine)
    assert result.analysis.medications[1].status is LineStatus.UNRESOLVED
    assert result.reading.lines[1].needs_check
    assert "drug not recognised" in result.reading.lines[1].reasons


def test_ocr_typos_in_drug_names_are_recovered(engine: Engine) -> None:
    text = ORDONNANCE.replace("SIMVASTATINE", "SIMVASTAT1NE").replace("AMIODARONE", "AMI0DARONE")
    result = analyse_prescription(BLANK_PNG, name="scan.png", ocr=_fake(_lines(text)), engine=engine)
    keys = [[s.key for s in m.substances] for m in result.analysis.medications]
    assert keys[0] == ["simvastatine"]
    assert keys[2] == ["amiodarone"]


def test_posology_typos_are_corrected_before_parsing(engine: Engine) -> None:
    text = ORDONNANCE.replace("1-0-0", "1-O-O").replace("1 cp le matin", "l cp le matin")
    result = analyse_prescription(BLANK_PNG, name="scan.png", ocr=_fake(_lines(text)), engine=engine)
    furosemide, amiodarone = result.analysis.medications[1], result.analysis.medications[2]
    assert furosemide.posology is not None and furosemide.posology.intakes_per_day == 1
    assert amiodarone.posology is not None and amiodarone.posology.units_per_intake == 1


def test_missing_age_is_an_error_that_says_how_to_give_it(engine: Engine) -> None:
    text = ORDONNANCE.replace(", née le 04/05/1944", "")
    with pytest.raises(InvalidInput, match="give the age with the request"):
        analyse_prescription(BLANK_PNG, name="scan.png", ocr=_fake(_lines(text)), engine=engine)
    result = analyse_prescription(
        BLANK_PNG, name="scan.png", ocr=_fake(_lines(text)), engine=engine, patient={"age": 84}
    )
    assert result.analysis.patient["age_years"] == 84


def test_page_read_upside_down_is_turned(engine: Engine) -> None:
    """A first reading of noise (low confidence) asks the engine for the orientation."""
    noise = [("~~ ;; ..", 20.0)]
    fake = FakeEngine([noise, _lines(ORDONNANCE)], rotate=180)
    result = analyse_prescription(BLANK_PNG, name="scan.png", ocr=fake, engine=engine)
    assert result.reading.pages[0].rotation == 180
    assert len(result.reading.lines) == 4


def test_no_drug_line_is_a_clear_error(engine: Engine) -> None:
    with pytest.raises(InvalidInput, match=r"no drug line found in scan\.png"):
        analyse_prescription(BLANK_PNG, name="scan.png", ocr=_fake([("Signature", 90.0)]), engine=engine)


def test_missing_tesseract_names_the_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr_engine.shutil, "which", lambda _: None)
    with pytest.raises(OcrUnavailable, match="tesseract-ocr and tesseract-ocr-fra"):
        TesseractEngine()


# --------------------------------------------------------------------------- real OCR

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="Tesseract not installed (.ci/run installs it)"
)


@needs_tesseract
@pytest.mark.parametrize("turn", [0, 90])
def test_tesseract_reads_a_scan_like_the_text(engine: Engine, turn: int) -> None:
    # PIL turns counter-clockwise: the page read must be turned back clockwise by as much
    image = render_page().rotate(turn, expand=True) if turn else render_page()
    raw = encode(image, "PNG")
    result = analyse_prescription(raw, name="scan.png", ocr=TesseractEngine(), engine=engine)
    expected = analyse_request(request_from_text(ORDONNANCE)[0], engine=engine)
    got = [[s.key for s in m.substances] for m in result.analysis.medications]
    assert got == [[s.key for s in m.substances] for m in expected.medications]
    assert [f.id for f in result.analysis.findings] == [f.id for f in expected.findings]
    assert result.reading.pages[0].rotation == turn
    simvastatin = result.reading.lines[0]
    assert simvastatin.box is not None
    assert not simvastatin.needs_check


@needs_tesseract
def test_tesseract_on_a_page_without_text_gives_no_drug_error(engine: Engine) -> None:
    with pytest.raises(InvalidInput, match="no drug line found"):
        analyse_prescription(BLANK_PNG, name="blank.png", ocr=TesseractEngine(), engine=engine)
