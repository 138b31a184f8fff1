"""The pipeline after the OCR (fake engine), then the whole of it with Tesseract."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from ocr_pages import FONT, ORDONNANCE, encode, render_page
from PIL import Image, ImageDraw, ImageFont

from pharma_service.errors import InvalidInput
from pharma_service.inputs import request_from_text
from pharma_service.models import LineStatus
from pharma_service.ocr import engine as ocr_engine
from pharma_service.ocr import pipeline
from pharma_service.ocr.engine import Box, FakeEngine, OcrLine, OcrUnavailable, TesseractEngine, Word
from pharma_service.ocr.layout import place_lines
from pharma_service.ocr.pipeline import (
    CHECK_THRESHOLD,
    FRACTION_CONFIDENCE,
    NUMBER_THRESHOLD,
    _block_reader,
    _glyph_reader,
    _line_reader,
    analyse_prescription,
    check_fractions,
    fraction_parts,
    lost_regions,
    read_apart,
    recover_lost_lines,
    reread_doubtful_lines,
    reread_patient_facts,
)
from pharma_service.parsing.ordonnance_text import parse_ordonnance_text
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


def test_a_drug_line_whose_strength_was_misread_is_found_by_its_name(engine: Engine) -> None:
    read = "Mme DURAND, 82 ans\nDOLIPRANE 1000 mg : 1 cp le soir\nAmoxicilline g\n   1 cp matin et soir\n"
    result = analyse_prescription(BLANK_PNG, name="scan.png", ocr=_fake(_lines(read)), engine=engine)
    keys = [[s.key for s in med.substances] for med in result.analysis.medications]
    assert keys == [["paracetamol"], ["amoxicilline"]]
    assert result.reading.lines[1].text == "Amoxicilline g ; 1 cp matin et soir"


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


def test_a_sideways_page_keeps_its_best_upright_reading(
    monkeypatch: pytest.MonkeyPatch, engine: Engine
) -> None:
    # read as it came: vertical lines; turned as the engine says (270): upright, but poorly
    # (handwriting, 55); turned the other way (90): upright-looking noise at 25, which replaced
    # the good reading and lost every drug
    vertical = [
        OcrLine(
            [
                Word("KARDEGIC", 90.0, (100 + 60 * i, 100, 140 + 60 * i, 300)),
                Word("75", 90.0, (100 + 60 * i, 320, 140 + 60 * i, 380)),
            ]
        )
        for i in range(4)
    ]
    readings = {
        0: vertical,
        270: FakeEngine([_lines(ORDONNANCE, 55.0)]).read(Image.new("L", (10, 10))),
        90: FakeEngine([[("~~ ;; ..", 25.0), ("xe ol", 25.0)]]).read(Image.new("L", (10, 10))),
    }

    def read_turned(image: Image.Image, rotation: int, ocr: object) -> tuple[list[OcrLine], object, int]:
        return readings[rotation], pipeline.prepare(pipeline.rotate(image, rotation)), rotation

    monkeypatch.setattr(pipeline, "_read_turned", read_turned)
    result = analyse_prescription(BLANK_PNG, name="scan.png", ocr=_fake([], rotate=270), engine=engine)
    assert result.reading.pages[0].rotation == 270
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


@needs_tesseract
@pytest.mark.parametrize("psm", [3, 7])
def test_a_page_tesseract_finds_empty_is_read_again_with_a_local_threshold(
    monkeypatch: pytest.MonkeyPatch, psm: int
) -> None:
    # a photographed page whose grey frame pulls Otsu's threshold up reads as "Empty page!!"
    words = [OcrLine([Word("KARDEGIC", 90.0, (10, 10, 200, 40)), Word("75", 90.0, (210, 10, 250, 40))])]
    configs: list[str] = []

    def fake_read(self: TesseractEngine, image: Image.Image, config: str) -> list[OcrLine]:
        configs.append(config)
        return words if "thresholding_method=2" in config else [OcrLine([Word(".", 10.0, (1, 1, 3, 3))])]

    monkeypatch.setattr(TesseractEngine, "_read", fake_read)
    lines = TesseractEngine(psm=psm).read(Image.new("L", (300, 60), 255))
    if psm == 3:  # a page: read again
        assert lines == words and len(configs) == 2
    else:  # a line crop that reads empty is just empty
        assert lines[0].text == "." and len(configs) == 1


@needs_tesseract
def test_a_page_with_words_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    configs: list[str] = []

    def fake_read(self: TesseractEngine, image: Image.Image, config: str) -> list[OcrLine]:
        configs.append(config)
        return [OcrLine([Word("Le", 90.0, (10, 10, 40, 40))])]

    monkeypatch.setattr(TesseractEngine, "_read", fake_read)
    TesseractEngine().read(Image.new("L", (300, 60), 255))
    assert configs == [TesseractEngine().config]


# --------------------------------------------------------------------------- fraction glyphs


def _glyph_page(
    glyph: str, at: tuple[int, int], size: tuple[int, int] = (2480, 3508)
) -> tuple[Image.Image, Box]:
    """A white page with one glyph drawn at ``at``, and the box of its ink."""
    page = Image.new("L", size, 255)
    ImageDraw.Draw(page).text(at, glyph, font=ImageFont.truetype(str(FONT), 40), fill=0)
    ys, xs = np.nonzero(np.asarray(page) < 128)
    return page, (int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1)


def _dose_line(count: str, box: Box) -> list[OcrLine]:
    unit = (box[2] + 20, box[1], box[2] + 60, box[3])
    return [OcrLine([Word(count, 90.0, box), Word("cp", 95.0, unit)])]


@pytest.mark.parametrize(("glyph", "read"), [("½", "2"), ("½", "%"), ("¼", "4")])
def test_a_fraction_glyph_is_seen_whatever_it_was_read_as(glyph: str, read: str) -> None:
    page, box = _glyph_page(glyph, (100, 100), size=(400, 300))
    assert fraction_parts(page, box) is not None
    (line,) = check_fractions(_dose_line(read, box), page, reader=None)
    # without a reader to read its parts: the same text, but a confidence that flags it
    assert line.words[0].text == read
    assert line.words[0].confidence == FRACTION_CONFIDENCE < NUMBER_THRESHOLD


@pytest.mark.parametrize("glyph", ["1", "2", "4", "12"])
def test_digits_are_not_fractions(glyph: str) -> None:
    page, box = _glyph_page(glyph, (100, 100), size=(400, 300))
    assert fraction_parts(page, box) is None
    (line,) = check_fractions(_dose_line(glyph, box), page, reader=None)
    assert line.words[0] == Word(glyph, 90.0, box)


def test_a_count_before_no_dose_unit_is_not_checked() -> None:
    page, box = _glyph_page("½", (100, 100), size=(400, 300))
    lines = [OcrLine([Word("2", 90.0, box), Word("mois", 95.0, (box[2] + 20, box[1], box[2] + 90, box[3]))])]
    assert check_fractions(lines, page, reader=None)[0].words[0].confidence == 90.0


@needs_tesseract
@pytest.mark.parametrize(("glyph", "read", "meant"), [("½", "2", "½"), ("¼", "4", "¼"), ("¾", "%", "¾")])
def test_a_fraction_read_as_a_digit_is_corrected_and_flagged(glyph: str, read: str, meant: str) -> None:
    page, box = _glyph_page(glyph, (100, 100), size=(400, 300))
    (line,) = check_fractions(_dose_line(read, box), page, reader=_glyph_reader(TesseractEngine()))
    assert line.words[0].text == meant
    assert line.words[0].confidence <= FRACTION_CONFIDENCE


@needs_tesseract
@pytest.mark.parametrize(
    ("glyph", "meant"), [("½", ["½", "cp"]), ("¼", ["¼", "cp"]), ("1", ["cp"]), (" ", ["cp"])]
)
def test_a_fraction_the_engine_read_as_nothing_is_read_before_its_unit(glyph: str, meant: list[str]) -> None:
    page, box = _glyph_page(glyph if glyph.strip() else "½", (100, 100), size=(1400, 300))
    shift = 0 if glyph.strip() else 800  # blank: the unit far right of the only glyph
    unit = (box[2] + 12 + shift, box[1] + 8, box[2] + 52 + shift, box[3])
    (line,) = check_fractions(
        [OcrLine([Word("cp", 95.0, unit)])], page, reader=_glyph_reader(TesseractEngine())
    )
    assert [w.text for w in line.words] == meant
    if len(meant) == 2:
        assert line.words[0].confidence == FRACTION_CONFIDENCE  # read, for a human to check


class _BlindReader:
    """A glyph reader that reads nothing: the parts of a fraction were unreadable."""

    name = "blind"

    def read(self, image: Image.Image) -> list[OcrLine]:
        return []

    def orientation(self, image: Image.Image) -> int | None:
        return 0


@pytest.mark.parametrize(
    ("glyph", "read", "meant"),
    [
        ("½", "2", "½"),  # the parts' shapes and the digit read agree
        ("½", "#2", "½"),
        ("¼", "‘4", "¼"),
        ("½", "4", "4"),  # they disagree: left as read (and flagged)
        ("¼", "2", "2"),
        ("½", "%", "%"),  # no digit read to agree with
    ],
)
def test_an_unreadable_fraction_is_read_from_its_shape_only_when_the_digit_agrees(
    glyph: str, read: str, meant: str
) -> None:
    page, box = _glyph_page(glyph, (100, 100), size=(400, 300))
    (line,) = check_fractions(_dose_line(read, box), page, reader=_BlindReader())
    assert line.words[0].text == meant
    assert line.words[0].confidence == FRACTION_CONFIDENCE  # a human checks it either way


def test_a_dose_written_as_a_fraction_glyph_goes_to_a_human(engine: Engine) -> None:
    # FakeEngine puts row 7's word "2" (indent 6) at (220, 520, 240, 560): draw a "½" there
    lines = _lines(ORDONNANCE)
    assert lines[7][0] == "      1 cp le matin"
    lines[7] = ("      2 cp le matin", 95.0)
    results = {}
    for glyph in ("½", "2"):
        page = Image.new("L", (2480, 3508), 255)
        ImageDraw.Draw(page).text((220, 522), glyph, font=ImageFont.truetype(str(FONT), 36), fill=0)
        raw = encode(page, "PNG")
        results[glyph] = analyse_prescription(raw, name="scan.png", ocr=_fake(lines), engine=engine)
    amiodarone = results["½"].reading.lines[2]
    assert amiodarone.needs_check
    assert "a number or fraction hard to read" in amiodarone.reasons
    assert not results["2"].reading.lines[2].needs_check  # a plain "2" is a plain 2


# --------------------------------------------------------------------------- lines the engine skipped

HEADER = [
    "Dr Claire LEROY",
    "Mme DURAND Jeanne, 82 ans",
    "Poids : 61 kg",
    "1) SIMVASTATINE 40 mg comprimé",
    "1 comprimé le soir",
]


def _rendered(lines: list[str], *, frame: bool = False) -> tuple[Image.Image, list[OcrLine]]:
    """A page and what a perfect engine reads on it: every word with its ink box."""
    page = Image.new("L", (2480, 3508), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(str(FONT), 44)
    read = []
    for row, text in enumerate(lines):
        x, y = 200, 220 + 80 * row
        words = []
        for token in text.split():
            draw.text((x, y), token, font=font, fill=0)
            words.append(Word(token, 95.0, tuple(int(v) for v in draw.textbbox((x, y), token, font=font))))  # type: ignore[arg-type]
            x = int(draw.textbbox((x, y), token + " ", font=font)[2])
        read.append(OcrLine(words))
    if frame:  # a form's box around the header, as on many printed ordonnances
        draw.rectangle((150, 190, 1300, 220 + 80 * len(lines)), outline=0, width=3)
    return page, read


class _Reader:
    """Reads a given line on any page of crops it is handed."""

    name = "stub"

    def __init__(self, text: str, confidence: float) -> None:
        self.text, self.confidence, self.crops = text, confidence, 0

    def read(self, image: Image.Image) -> list[OcrLine]:
        self.crops += 1
        middle = image.height // 2  # one crop on the page it is given: its line in the middle
        return [
            OcrLine([Word(t, self.confidence, (10, middle - 15, 50, middle + 15)) for t in self.text.split()])
        ]

    def orientation(self, image: Image.Image) -> int | None:
        return 0


@pytest.mark.parametrize("frame", [False, True])
def test_a_line_the_engine_skipped_is_found(frame: bool) -> None:
    page, read = _rendered(HEADER, frame=frame)
    assert lost_regions(read, page) == []  # everything read: nothing to read again
    skipped = read[:1] + read[2:]  # the engine lost the patient's line
    (region,) = lost_regions(skipped, page)
    patient = read[1].box
    assert region[1] <= patient[1] + 10 and region[3] >= patient[3] - 10
    assert region[0] <= patient[0] + 10 and region[2] >= patient[2] - 10


def test_a_skipped_line_read_well_is_added_and_noise_is_not() -> None:
    page, read = _rendered(HEADER)
    skipped = read[:1] + read[2:]
    reader = _Reader("Mme DURAND Jeanne, 82 ans", 93.0)
    recovered = recover_lost_lines(skipped, page, reader)
    assert reader.crops == 1
    assert [ln.text for ln in recovered[len(skipped) :]] == ["Mme DURAND Jeanne, 82 ans"]
    assert recover_lost_lines(skipped, page, _Reader("~ .. ‘ Ve", 31.0)) == skipped
    assert recover_lost_lines(skipped, page, None) == skipped


@needs_tesseract
def test_tesseract_reads_a_skipped_header_line_again(engine: Engine) -> None:
    page, read = _rendered(HEADER)
    skipped = read[:1] + read[2:]
    recovered = recover_lost_lines(skipped, page, _line_reader(TesseractEngine()))
    placed = place_lines(recovered, 1, None)
    parsed = parse_ordonnance_text("\n".join(p.text for p in placed))
    assert parsed.patient.get("age") == 82 and parsed.patient.get("sex") == "F"


def _read_line(text: str, confidence: float = 90.0, top: int = 500) -> OcrLine:
    words, x = [], 300
    for token in text.split():
        words.append(Word(token, confidence, (x, top, x + 20 * len(token), top + 40)))
        x += 20 * (len(token) + 1)
    return OcrLine(words)


@pytest.mark.parametrize(
    "broken", ["comprimé le soir", "ATORVASTATINE 20 mg : cp le soir", "1", "1-0<T", "1-041"]
)
def test_a_posology_with_a_broken_count_is_read_again(broken: str) -> None:
    page = Image.new("L", (2480, 3508), 255)
    mended = {"1": "1-1-1", "1-0<T": "1-0-1", "1-041": "1-0-1"}.get(broken, broken.replace("cp", "1 cp"))
    if mended == broken:
        mended = "1 " + broken
    reader = _Reader(mended, 92.0)
    lines = [_read_line("DOLIPRANE 1000 mg", top=400), _read_line(broken)]
    again = reread_doubtful_lines(lines, page, reader)
    assert reader.crops == 1
    assert again[0] is lines[0]
    assert again[1].text == mended
    # the count was not there the first time: it is kept, but checked by a human
    assert min(w.confidence for w in again[1].words if any(c.isdigit() for c in w.text)) < NUMBER_THRESHOLD


def test_a_second_reading_that_mends_nothing_is_dropped() -> None:
    page = Image.new("L", (2480, 3508), 255)
    lines = [_read_line("comprimé le soir")]
    assert reread_doubtful_lines(lines, page, _Reader("comprimé le soir", 95.0)) == lines
    assert reread_doubtful_lines(lines, page, _Reader("1 comprimé le soir", 20.0)) == lines


@pytest.mark.parametrize(
    "sound", ["1 comprimé le soir", "1-0-1", "Le 12-03-2026", "FLUDEX 1,5 mg comprimé", "2 - COVERSYL 5 mg"]
)
def test_sound_lines_are_not_read_again(sound: str) -> None:
    reader = _Reader("x", 99.0)
    lines = [_read_line(sound)]
    assert reread_doubtful_lines(lines, Image.new("L", (2480, 3508), 255), reader) == lines
    assert reader.crops == 0


@needs_tesseract
def test_tesseract_reads_a_lost_count_again() -> None:
    page, read = _rendered(["1) DOLIPRANE 1000 mg", "1 comprimé le soir"])
    first = read[1]
    lost_count = OcrLine(first.words[1:])  # the engine lost the "1"
    again = reread_doubtful_lines([read[0], lost_count], page, _line_reader(TesseractEngine()))
    assert again[1].text == "1 comprimé le soir"


@needs_tesseract
def test_crops_read_together_come_back_to_their_own_crop() -> None:
    page, read = _rendered(["1) DOLIPRANE 1000 mg", "Mme DURAND Jeanne, 82 ans", "1 comprimé le soir"])
    crops = [page.crop((ln.box[0] - 20, ln.box[1] - 10, ln.box[2] + 20, ln.box[3] + 10)) for ln in read]
    tesseract = TesseractEngine()
    reader, block = _line_reader(tesseract), _block_reader(tesseract)
    assert reader is not None and block is not None
    readings = read_apart(reader, crops[::-1], block=block)
    assert [" ".join(ln.text for ln in r) for r in readings] == [
        "1 comprimé le soir",
        "Mme DURAND Jeanne, 82 ans",
        "1) DOLIPRANE 1000 mg",
    ]
    first = readings[2][0].words[0].box  # in the pixels of its crop
    assert 10 <= first[0] <= 30 and 0 <= first[1] <= 20


@needs_tesseract
def test_crops_read_in_one_call_read_as_each_alone() -> None:
    page, read = _rendered(["1) DOLIPRANE 1000 mg", "Mme DURAND Jeanne, 82 ans", "1 comprimé le soir"])
    crops = [page.crop((ln.box[0] - 20, ln.box[1] - 10, ln.box[2] + 20, ln.box[3] + 10)) for ln in read]
    crops.append(Image.new("L", (200, 60), 255))  # nothing to read: whatever it reads, in its place
    reader = _line_reader(TesseractEngine())
    assert isinstance(reader, TesseractEngine)
    alone = [reader.read(crop) for crop in crops]
    assert reader.read_many(crops) == read_apart(reader, crops) == alone
    assert [" ".join(ln.text for ln in r) for r in alone[:2]] == [
        "1) DOLIPRANE 1000 mg",
        "Mme DURAND Jeanne, 82 ans",
    ]


# --------------------------------------------------------------------------- patient facts


def _header(*rows: tuple[str, float]) -> list[OcrLine]:
    return [_read_line(text, confidence, top=200 + 80 * i) for i, (text, confidence) in enumerate(rows)]


@pytest.mark.parametrize(
    ("read", "again", "meant"),
    [
        ("ee ans", "80 ans", "80 ans"),  # a rounded "80" read as letters
        ("/0 ans", "70 ans", "70 ans"),
        ("Date de naissance : or", "21/09/1937", "Date de naissance : 21/09/1937"),
        ("Toulouse, le 0142/2026", "01/02/2026", "Toulouse, le 01/02/2026"),
        ("Paris, le 25/09/2625", "25/09/2025", "Paris, le 25/09/2025"),
        # the ordonnance's date read as marks: without it an age is counted to today
        ("Le Cr", "Le 17/02/2025-", "Le 17/02/2025-"),
        ("Amiens. le oe", "le 31/01/2025", "Amiens. le 31/01/2025"),
    ],
)
def test_a_broken_patient_fact_is_read_again_by_the_second_reader(read: str, again: str, meant: str) -> None:
    page = Image.new("L", (2480, 3508), 255)
    lines = _header(("Monsieur Bertrand Georges", 92.0), (read, 60.0))
    second = _Reader(again, 79.0)
    out = reread_patient_facts(lines, page, None, second)
    assert second.crops == 1
    assert out[0].text == lines[0].text and out[1].text == meant
    digits = [w for w in out[1].words if any(c.isdigit() for c in w.text)]
    assert digits and all(w.confidence < NUMBER_THRESHOLD for w in digits)


@pytest.mark.parametrize(
    ("read", "again"),
    [
        ("ee ans", "8 ans ."),  # still not a whole age
        ("ee ans", "80 kg"),  # another fact
        ("Paris, le 25/09/2625", "25/09/2825"),  # not a real date
        ("Date de naissance : or", "or"),
        ("Le Cr", "17/02/2025"),  # no "le": not the line read again
    ],
)
def test_a_second_reading_that_is_no_whole_fact_is_dropped(read: str, again: str) -> None:
    page = Image.new("L", (2480, 3508), 255)
    lines = _header((read, 60.0))
    assert [ln.text for ln in reread_patient_facts(lines, page, None, _Reader(again, 79.0))] == [read]


def test_facts_read_surely_are_not_read_again() -> None:
    page = Image.new("L", (2480, 3508), 255)
    lines = _header(
        ("Mme DURAND, 82 ans", 95.0),
        ("Née le 04/05/1944", 95.0),
        ("Poids 61 kg", 96.0),
        ("Paris, le 3 mars 2025", 95.0),
        ("1 cp le soir", 95.0),  # a "le" of a posology is no date
        ("matin, le midi", 95.0),
    )
    second = _Reader("99 ans", 79.0)
    assert reread_patient_facts(lines, page, None, second) == lines
    assert second.crops == 0


def test_tesseract_alone_replaces_a_doubtful_age_only_when_surer() -> None:
    page = Image.new("L", (2480, 3508), 255)
    lines = _header(("89 ans", 82.0))
    assert reread_patient_facts(lines, page, _Reader("85 ans", 96.0))[0].text == "85 ans"
    assert reread_patient_facts(lines, page, _Reader("85 ans", 70.0))[0].text == "89 ans"


def test_two_broken_facts_on_one_line_are_both_mended() -> None:
    page = Image.new("L", (2480, 3508), 255)
    lines = _header(("ee ans , 7Z kg", 60.0))

    class _ByCrop:
        name = "stub"

        def __init__(self) -> None:
            self.answers = iter(["80ans", "72 kg"])  # one word for two: the next span shifts

        def read(self, image: Image.Image) -> list[OcrLine]:
            text = next(self.answers)
            return [OcrLine([Word(t, 79.0, (10, 10, 50, 40)) for t in text.split()])]

        def orientation(self, image: Image.Image) -> int | None:
            return 0

    assert reread_patient_facts(lines, page, None, _ByCrop())[0].text == "80ans , 72 kg"
