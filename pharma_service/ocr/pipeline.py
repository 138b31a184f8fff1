"""Scan or photo in, analysed prescription out: documents -> pages -> OCR -> text -> request.

What was read is returned beside the analysis, line by line with its confidence and its box
on the page, so that a pharmacist can check the lines the service is unsure of.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import deque
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from PIL import Image
from pydantic import BaseModel, Field
from rapidfuzz import fuzz

from pharma_service.inputs import request_from_parsed
from pharma_service.models import Analysis, AnalysisRequest, LineStatus, MedicationLine
from pharma_service.ocr.corrections import correct_line
from pharma_service.ocr.documents import Document, open_document
from pharma_service.ocr.engine import Box, OcrEngine, OcrFailed, OcrLine, TesseractEngine, Word
from pharma_service.ocr.handwriting import SECOND_READING_BELOW
from pharma_service.ocr.layout import PageGeometry, PlacedLine, place_lines, text_lines
from pharma_service.ocr.preprocess import otsu_threshold, prepare, rotate, true_runs
from pharma_service.parsing.ordonnance_text import (
    DrugNameTest,
    ParsedOrdonnance,
    parse_ordonnance_text,
    read_date,
)
from pharma_service.service import Engine, analyse_request

# A line below this confidence (0-1: the lower of OCR and drug-name match) goes to a human.
CHECK_THRESHOLD = 0.80
# A word holding a digit or a fraction read below this confidence (0-100) is checked.
NUMBER_THRESHOLD = 75.0
# Characters that are never in a posology but are what a misread "½" or "¼" becomes.
_ODD_POSOLOGY = re.compile(r"[%*#@§|~]")
# A page read with a mean confidence below this is tried the other way up.
LOW_PAGE_CONFIDENCE = 60.0
# A dose count whose glyph is a fraction ("½" read as "2", "12" or "%") is given this
# confidence at most: below NUMBER_THRESHOLD, so that a human checks it even when corrected.
FRACTION_CONFIDENCE = 50.0
# The count of a dose, then its unit: what a "½", "¼" or "¾" is read as, or the fraction itself.
_DOSE_COUNT = re.compile(r"^(?:[!|lI/#‘’'`]?\d{1,2}|[%#?>*§@&]|[½¼¾])[.,:]?$")
_DOSE_UNIT = re.compile(
    r"^(?:cp|comprim|g[eé]l|sachet|ampoule|dose|goutte|mesure|cuill[eè]re|capsule|suppositoire|patch"
    r"|bouff[eé]e)",  # a prefix: "cple soir" is "cp le soir" glued
    re.IGNORECASE,
)
_FRACTIONS = {("1", "2"): "½", ("1", "4"): "¼", ("3", "4"): "¾"}
# Lost lines: ink the engine read nothing from, in a band one text line high, is read again
# on its own; a page with more such bands than this is noise, not lost lines.
MAX_LOST_LINES = 6
# A line read again is kept only when read this well (0-100) with this many characters.
LOST_LINE_CONFIDENCE = 70.0
LOST_LINE_CHARS = 4
# A line read again on its own replaces the first reading with its numbers at this
# confidence at most: below NUMBER_THRESHOLD, as the count was missing the first time.
REREAD_CONFIDENCE = 70.0
# A schedule that is not one: "1-041", "1-0<T", "1-11", "1:6-i" (and not "1-0-1", a date or a phone).
_BROKEN_SCHEDULE = re.compile(
    r"^(?=(?:.*\d){2})(?=.*-)(?!(?:.*[^\W\d_]){2})(?!\d+(?:[.,]\d+)?(?:-\d+(?:[.,]\d+)?){2,3}$)[\w<>:;.,-]{3,8}$"
)
# A posology line read as one to three marks ("1" for "1-1-1", "LA" or "li" for "1-0-1").
_LONE_COUNT = re.compile(r"^(?=.*[\d|!IilL])[\dOoIiLlDA|!.,:;\- ]{1,3}$")
# Lines read again per page at most: a speckled page has many short marks.
MAX_REREADS = 8


class PageReport(BaseModel):
    number: int
    source: Literal["image", "pdf_text", "pdf_scan"]
    size: tuple[int, int] | None = Field(default=None, description="Width, height of the page received.")
    rotation: int = Field(default=0, description="Clockwise quarter turns applied, in degrees.")
    skew_degrees: float = 0.0
    steps: list[str] = Field(default_factory=list, description="Pre-processing applied.")
    confidence: float = Field(description="Mean OCR confidence of the page, 0-100.")


class ReadLine(BaseModel):
    """One drug line as read, with where it is and how sure the service is of it."""

    index: int = Field(description="Index of the medication in the analysis.")
    text: str
    page: int
    box: tuple[int, int, int, int] | None = Field(
        default=None, description="Left, top, right, bottom in pixels of the page received."
    )
    ocr_confidence: float = Field(description="0-1, from the OCR engine.")
    match_confidence: float = Field(description="0-1, drug name against the referential.")
    confidence: float = Field(description="The lower of the two.")
    needs_check: bool
    reasons: list[str] = Field(default_factory=list)


class Reading(BaseModel):
    document: str
    engine: str
    pages: list[PageReport]
    text: str = Field(description="The text read, after OCR corrections, in reading order.")
    patient: dict[str, Any] = Field(default_factory=dict)
    prescriber: dict[str, str] = Field(default_factory=dict)
    date: dt.date | None = None
    lines: list[ReadLine] = Field(default_factory=list)
    ignored: list[str] = Field(default_factory=list)


class PrescriptionResult(BaseModel):
    reading: Reading
    request: AnalysisRequest = Field(
        description="The structured request analysed: correct a misread line or add a patient fact, "
        "then send it to POST /v1/analyses (or /v1/ppp) instead of scanning again."
    )
    analysis: Analysis


def read_prescription(
    raw: bytes,
    *,
    name: str,
    ocr: OcrEngine,
    second_reader: OcrEngine | None = None,
    is_drug_name: DrugNameTest | None = None,
) -> tuple[ParsedOrdonnance, list[PlacedLine], list[PageReport]]:
    """The document read and parsed; ``is_drug_name`` (the normaliser's) finds drug lines
    whose strength was misread ("Amoxicilline g")."""
    document = open_document(raw, name)
    placed, reports = read_pages(document, ocr, second_reader)
    text = "\n".join(line.text for line in placed)
    return parse_ordonnance_text(text, is_drug_name=is_drug_name), placed, reports


def analyse_prescription(
    raw: bytes,
    *,
    name: str,
    ocr: OcrEngine,
    engine: Engine,
    patient: dict[str, Any] | None = None,
    second_reader: OcrEngine | None = None,
) -> PrescriptionResult:
    """Read the document, then analyse it as a text ordonnance; ``patient`` completes the header."""
    parsed, placed, reports = read_prescription(
        raw, name=name, ocr=ocr, second_reader=second_reader, is_drug_name=engine.normaliser.is_drug_name
    )
    request = request_from_parsed(parsed, extra_patient=patient, source=name)
    analysis = analyse_request(request, engine=engine)
    reading = Reading(
        document=name,
        engine=ocr.name,
        pages=reports,
        text="\n".join(line.text for line in placed),
        patient=parsed.patient,
        prescriber=parsed.prescriber,
        date=parsed.date,
        lines=_read_lines(parsed, placed, analysis.medications),
        ignored=parsed.ignored,
    )
    return PrescriptionResult(reading=reading, request=request, analysis=analysis)


# --------------------------------------------------------------------------- pages


def read_pages(
    document: Document, ocr: OcrEngine, second_reader: OcrEngine | None = None
) -> tuple[list[PlacedLine], list[PageReport]]:
    """The lines of every page in reading order. ``second_reader`` re-reads, once the page
    is upright, a page the engine read with a mean confidence under SECOND_READING_BELOW
    (handwriting: see handwriting.py)."""
    placed: list[PlacedLine] = []
    reports: list[PageReport] = []
    for page in document.pages:
        if page.text is not None:
            lines = text_lines(page.text, page.number)
            reports.append(PageReport(number=page.number, source="pdf_text", confidence=100.0))
        else:
            assert page.image is not None
            source: Literal["image", "pdf_scan"] = "pdf_scan" if document.kind == "pdf_scan" else "image"
            lines, report = _read_image(page.image, page.number, ocr, source, second_reader)
            reports.append(report)
        placed.extend(
            PlacedLine(ln.page, correct_line(ln.text), ln.confidence, ln.box, ln.number_confidence)
            for ln in lines
            if any(ch.isalnum() for ch in ln.text)  # specks read as ":" or "." are not lines
        )
    return placed, reports


def _read_image(
    image: Image.Image,
    number: int,
    ocr: OcrEngine,
    source: Literal["image", "pdf_scan"],
    second_reader: OcrEngine | None = None,
) -> tuple[list[PlacedLine], PageReport]:
    readings: dict[int, tuple[list[OcrLine], Any, int]] = {}

    def read_turned(rotation: int) -> tuple[list[OcrLine], Any, int]:
        # each turn of the page is prepared and read once
        if rotation not in readings:
            readings[rotation] = _read_turned(image, rotation, ocr)
        return readings[rotation]

    asked, turn = False, None
    if image.width > image.height:
        # A landscape page is most often a portrait ordonnance scanned sideways: ask which
        # way is up first (reduced copy, about 0.5 s), rather than after reading it sideways
        # (a full reading, 1 s or more); a turn that does not read upright changes nothing.
        asked, turn = True, ocr.orientation(_reduced(image))
        if turn in (90, 270):
            first = read_turned(turn)
            if _upright(first[0]) and _page_confidence(first[0]) >= LOW_PAGE_CONFIDENCE:
                return _second_looks(image, number, ocr, source, second_reader, first)
    best = read_turned(0)
    sideways = _sideways_turn(best[0])
    if sideways is None and _reads_backwards(best[0]):
        # Tesseract reads an upside-down page's letters well but its words from right to left.
        other = read_turned(180)
        if not _reads_backwards(other[0]):
            best = other
    elif sideways is not None or _page_confidence(best[0]) < LOW_PAGE_CONFIDENCE:
        # Sideways pages read as vertical lines and upside-down ones as noise: ask the engine
        # which way is up, on a reduced copy (about 0.5 s), only for those pages.
        if not asked:
            turn = ocr.orientation(_reduced(image))
        if sideways is None and turn == 0:
            # The engine is sure the page is upright: read poorly, it is handwriting or a poor
            # scan, not a page upside down (it reads 0 on every such page of the dev corpus).
            candidates = []
        else:
            candidates = [t for t in (turn, sideways, (sideways or 0) + 180) if t]
        for candidate in dict.fromkeys(c % 360 for c in candidates):
            other = read_turned(candidate)
            if not _upright(other[0]):
                continue  # still not upright
            # Tesseract reads sideways text with a good confidence, but in columns: an
            # upright reading replaces it; between upright readings (or for a page read as
            # noise), the better one wins: a handwritten page read upright at 55 was replaced
            # by its upside-down reading at 25.
            still_sideways = sideways is not None and not _upright(best[0])
            if still_sideways or _page_confidence(other[0]) > _page_confidence(best[0]):
                best = other
            if _page_confidence(best[0]) >= LOW_PAGE_CONFIDENCE:
                break
    return _second_looks(image, number, ocr, source, second_reader, best)


def _second_looks(
    image: Image.Image,
    number: int,
    ocr: OcrEngine,
    source: Literal["image", "pdf_scan"],
    second_reader: OcrEngine | None,
    best: tuple[list[OcrLine], Any, int],
) -> tuple[list[PlacedLine], PageReport]:
    """The upright reading of a page, looked at again: by the second reader, or by Tesseract
    line by line and glyph by glyph."""
    lines, prepared, rotation = best
    steps = list(prepared.steps)
    read_again = False
    if second_reader is not None and _page_confidence(lines) < SECOND_READING_BELOW:
        second = second_reader.read(prepared.image)
        if second:
            lines, read_again = second, True
            steps.append(f"read again by {second_reader.name}")
    if not read_again:
        # Tesseract's own second looks, by line and by glyph, on a page it can read.
        page = prepared.image
        lines = _second_look(
            "lost-line search",
            steps,
            recover_lost_lines,
            lines,
            page,
            _line_reader(ocr),
            block=_block_reader(ocr),
        )
        # one line at a time: a block reading of broken posologies was worse than the first
        lines = _second_look("line re-reading", steps, reread_doubtful_lines, lines, page, _line_reader(ocr))
        lines = _second_look("fraction check", steps, check_fractions, lines, page, _glyph_reader(ocr))
        lines = _second_look(
            "fact re-reading", steps, reread_patient_facts, lines, page, _line_reader(ocr), second_reader
        )
    geometry = PageGeometry(
        original_size=image.size,
        rotation=rotation,
        scale=prepared.scale,
        skew_degrees=prepared.skew_degrees,
        read_size=prepared.image.size,
    )
    report = PageReport(
        number=number,
        source=source,
        size=image.size,
        rotation=rotation,
        skew_degrees=prepared.skew_degrees,
        steps=steps,
        confidence=round(_page_confidence(lines), 1),
    )
    return place_lines(lines, number, geometry), report


def _second_look(
    what: str,
    steps: list[str],
    look: Callable[..., list[OcrLine]],
    lines: list[OcrLine],
    *args: Any,
    **kwargs: Any,
) -> list[OcrLine]:
    """A look that can only improve the reading: one that fails (a crop Tesseract chokes
    on) keeps the lines, and the page says so."""
    try:
        return look(lines, *args, **kwargs)
    except OcrFailed:
        steps.append(f"{what} skipped (OCR timeout)")
        return lines


def _reduced(image: Image.Image, long_side: int = 1800) -> Image.Image:
    gray = image.convert("L")
    factor = long_side / max(gray.size)
    if factor >= 1:
        return gray
    return gray.resize((round(gray.width * factor), round(gray.height * factor)), Image.Resampling.BILINEAR)


def _sideways_turn(lines: list[OcrLine]) -> int | None:
    """Tesseract reads a sideways page as vertical lines: their words run down or up the page.

    Returns the clockwise turn that puts such a page upright, or None for a page read upright.
    """
    vertical = [ln for ln in lines if len(ln.words) >= 2 and _tall(ln)]
    horizontal = [ln for ln in lines if len(ln.words) >= 2 and not _tall(ln)]
    if len(vertical) < max(3, len(horizontal)):
        return None
    downward = sum(1 for ln in vertical if ln.words[-1].box[1] > ln.words[0].box[1])
    # words running down the page: its top is on the right, so turn it counter-clockwise
    return 270 if downward > len(vertical) / 2 else 90


def _reads_backwards(lines: list[OcrLine]) -> bool:
    """Most lines of several words go from right to left: the page was read upside down."""
    multi = [ln for ln in lines if len(ln.words) >= 3 and not _tall(ln)]
    backwards = sum(1 for ln in multi if ln.words[-1].box[0] < ln.words[0].box[0])
    return len(multi) >= 3 and backwards > len(multi) / 2


def _upright(lines: list[OcrLine]) -> bool:
    return not _reads_backwards(lines) and _sideways_turn(lines) is None


def _tall(line: OcrLine) -> bool:
    left, top, right, bottom = line.box
    return bottom - top > 2 * (right - left)


def _read_turned(image: Image.Image, rotation: int, ocr: OcrEngine) -> tuple[list[OcrLine], Any, int]:
    prepared = prepare(rotate(image, rotation))
    return ocr.read(prepared.image), prepared, rotation


def _page_confidence(lines: list[OcrLine]) -> float:
    words = [w for ln in lines for w in ln.words if len(w.text) >= 2]
    if not words:
        return 0.0
    return sum(w.confidence for w in words) / len(words)


# --------------------------------------------------------------------------- lost lines


def recover_lost_lines(
    lines: list[OcrLine], page: Image.Image, reader: OcrEngine | None, *, block: OcrEngine | None = None
) -> list[OcrLine]:
    """Read again, one by one, the text lines the engine skipped.

    Tesseract's page layout analysis sometimes drops a whole line, most often in a framed
    or two-column header ("Mme DURAND, 82 ans" between two lines it read): the patient's
    age or sex is then lost without a trace. Ink that no word covers, in a band as high
    as a text line, is such a line; it is read alone (``reader``, all such lines of the
    page in one call) and kept when read well.
    """
    if reader is None:
        return lines
    regions = lost_regions(lines, page)
    if not regions or len(regions) > MAX_LOST_LINES:
        return lines
    found = []
    read_boxes = [w.box for ln in lines for w in ln.words]
    gray = page if page.mode == "L" else page.convert("L")
    crop_boxes = []
    for left, top, right, bottom in regions:
        pad = (bottom - top) // 3
        crop_boxes.append(
            (
                max(0, left - pad),
                max(0, top - pad),
                min(page.width, right + pad),
                min(page.height, bottom + pad),
            )
        )
    readings = read_apart(reader, [_crop_alone(gray, box, read_boxes) for box in crop_boxes], block=block)
    for crop_box, reading in zip(crop_boxes, readings, strict=True):
        for line in reading:
            words = [_shifted(w, crop_box) for w in line.words]
            read = OcrLine(words)
            if (
                words
                and read.confidence >= LOST_LINE_CONFIDENCE
                and sum(ch.isalnum() for ch in read.text) >= LOST_LINE_CHARS
            ):
                found.append(read)
    return lines + found if found else lines


def lost_regions(lines: list[OcrLine], page: Image.Image) -> list[Box]:
    """Boxes (page pixels) of text-like ink no word read covers, one text line high."""
    heights = sorted(w.box[3] - w.box[1] for ln in lines for w in ln.words if len(w.text) >= 3)
    if len(heights) < 5:
        return []  # too little read to tell text from noise
    letter = heights[len(heights) // 2]
    factor = max(1, letter // 8)  # letters about 8-12 px high
    gray = page if page.mode == "L" else page.convert("L")
    small = gray.reduce(factor) if factor > 1 else gray
    arr = np.asarray(small, dtype=np.uint8)
    ink = arr < otsu_threshold(arr)
    covered = np.zeros_like(ink)
    pad_x, pad_y = letter // 2, letter // 3
    for line in lines:
        for w in line.words:
            covered[
                max(0, (w.box[1] - pad_y) // factor) : (w.box[3] + pad_y) // factor + 1,
                max(0, (w.box[0] - pad_x) // factor) : (w.box[2] + pad_x) // factor + 1,
            ] = True
    # near the text only: the page edges and the desk around a photo are not lines
    margin = 3 * letter
    boxes = [w.box for ln in lines for w in ln.words]
    text_area = np.zeros_like(ink)
    text_area[
        max(0, (min(b[1] for b in boxes) - margin) // factor) : (max(b[3] for b in boxes) + margin) // factor,
        max(0, (min(b[0] for b in boxes) - margin) // factor) : (max(b[2] for b in boxes) + margin) // factor,
    ] = True
    lost = _without_rules(
        ink & ~covered & text_area, down=round(1.6 * letter / factor), across=round(5 * letter / factor)
    )
    regions: list[Box] = []
    rows = lost.sum(axis=1) >= 3
    for top, bottom in true_runs(rows, gap=1):
        height = (bottom - top) * factor
        if not 0.6 * letter <= height <= 1.8 * letter:
            continue  # a rule, a speck, a signature or a logo: not a line of text
        band = lost[top:bottom]
        for left, right in true_runs(np.asarray(band.any(axis=0)), gap=max(1, round(1.5 * letter / factor))):
            width = (right - left) * factor
            density = float(band[:, left:right].mean())
            if width >= 3 * letter and 0.08 <= density <= 0.5:
                regions.append((left * factor, top * factor, right * factor, bottom * factor))
    return regions


def _without_rules(mask: np.ndarray, down: int, across: int) -> np.ndarray:
    """The mask without its straight runs of ``down`` pixels or more down the page, or
    ``across`` pixels across it: the rules and frames of a form, which no letter draws
    (letters touch each other across a word on a blurred page, so ``across`` is long)."""
    rules = np.zeros_like(mask)
    for axis, length in ((0, down), (1, across)):
        # a rule that slants by a pixel is still one run: each pixel joins its neighbours'
        grid = np.ascontiguousarray(mask if axis == 0 else mask.T).copy()
        grid[:, 1:] |= grid[:, :-1]
        grid[:, :-1] |= grid[:, 1:]
        size = grid.shape[0]
        if length > size:
            continue
        # windows of ``length`` pixels all ink, then every pixel such a window covers
        zero = np.zeros((1, grid.shape[1]), np.int16)
        sums = np.concatenate([zero, np.cumsum(grid, axis=0, dtype=np.int16)])
        full = (sums[length:] - sums[:-length]) == length  # window starting at each row
        starts = np.concatenate([zero, np.cumsum(full, axis=0, dtype=np.int16)])
        rows = np.arange(size)
        first = np.clip(rows - length + 1, 0, full.shape[0])
        last = np.clip(rows + 1, 0, full.shape[0])
        in_run = (starts[last] - starts[first]) > 0
        rules |= in_run if axis == 0 else in_run.T
    kept: np.ndarray = mask & ~rules
    return kept


_LINE_READERS: dict[str, OcrEngine] = {}
CROP_TIMEOUT_S = 10.0


def _line_reader(ocr: OcrEngine) -> OcrEngine | None:
    """Tesseract reading one line (``--psm 7``); None for other engines (no re-reading)."""
    return _tesseract_like(ocr, 7)


def _block_reader(ocr: OcrEngine) -> OcrEngine | None:
    """Tesseract reading a block of lines (``--psm 6``): the crops of a page read together."""
    return _tesseract_like(ocr, 6)


def _tesseract_like(ocr: OcrEngine, psm: int) -> OcrEngine | None:
    if not isinstance(ocr, TesseractEngine):
        return None
    key = f"{ocr.lang}:{ocr.timeout_s}:{psm}"
    if key not in _LINE_READERS:
        # A crop is small: one that takes longer than this is pathological, not slow.
        timeout = min(ocr.timeout_s, CROP_TIMEOUT_S)
        _LINE_READERS[key] = TesseractEngine(lang=ocr.lang, psm=psm, timeout_s=timeout)
    return _LINE_READERS[key]


# --------------------------------------------------------------------------- doubtful lines


def reread_doubtful_lines(
    lines: list[OcrLine], page: Image.Image, reader: OcrEngine | None, *, block: OcrEngine | None = None
) -> list[OcrLine]:
    """Read again, alone, the posology lines whose count or schedule is visibly broken:
    "comprimé le soir" (the "1" lost), "1" alone (for "1-1-1"), "1-041".

    The second reading replaces the first only when it mends what was broken; its numbers
    keep a confidence below NUMBER_THRESHOLD, so that the line still goes to a human.
    """
    if reader is None:
        return lines
    heights = sorted(w.box[3] - w.box[1] for ln in lines for w in ln.words if len(w.text) >= 3)
    letter = heights[len(heights) // 2] if heights else 0
    doubtful: list[int] = []
    for index, line in enumerate(lines):
        short = _LONE_COUNT.match(line.text) is not None
        if line.words and _doubtful(line) and not (short and line.box[3] - line.box[1] < 0.7 * letter):
            doubtful.append(index)  # (a short mark lower than a letter is a speck, not a line)
    doubtful = doubtful[:MAX_REREADS]
    if not doubtful:
        return lines
    gray = page if page.mode == "L" else page.convert("L")
    crop_boxes: list[Box] = []
    crops = []
    for index in doubtful:
        left, top, right, bottom = lines[index].box
        height = bottom - top
        crop_box = (
            max(0, left - height),  # a count lost before the first word
            max(0, top - height // 3),
            min(page.width, right + height // 2),
            min(page.height, bottom + height // 3),
        )
        others = [w.box for other in lines if other is not lines[index] for w in other.words]
        crop_boxes.append(crop_box)
        crops.append(_crop_alone(gray, crop_box, others))
    out = list(lines)
    for index, crop_box, reading in zip(
        doubtful, crop_boxes, read_apart(reader, crops, block=block), strict=True
    ):
        line = lines[index]
        again = [_shifted(w, crop_box) for ln in reading for w in ln.words]
        second = OcrLine(again)
        # mended: no longer broken, a count or a schedule found, and the same line otherwise
        mended = (
            not _doubtful(second)
            and _SCHEDULE_OR_COUNT.search(correct_line(second.text)) is not None
            and (len(line.text) <= 3 or fuzz.ratio(line.text, second.text) >= 60)
        )
        if again and mended and second.confidence >= min(line.confidence, LOST_LINE_CONFIDENCE):
            out[index] = OcrLine(
                [
                    Word(w.text, min(w.confidence, REREAD_CONFIDENCE), w.box)
                    if any(ch.isdigit() for ch in w.text)
                    else w
                    for w in again
                ]
            )
    return out


def read_apart(
    reader: OcrEngine, crops: list[Image.Image], *, block: OcrEngine | None = None
) -> list[list[OcrLine]]:
    """Each crop's lines (in its own pixels). One crop is read by ``reader`` (one line);
    several by ``block`` (a block of text) in one call, one above the other on a white
    page, far enough apart that no line runs from one into the next: one Tesseract call
    costs about 0.15 s before it reads anything. Without ``block``, each crop is read alone,
    all in one call when ``reader`` can (``TesseractEngine.read_many``)."""
    if len(crops) <= 1:
        return [reader.read(crop) for crop in crops]
    if block is None:
        if isinstance(reader, TesseractEngine):
            return reader.read_many(crops)
        return [reader.read(crop) for crop in crops]
    gap = max(c.height for c in crops)
    canvas = Image.new(
        "L",
        (max(c.width for c in crops) + 2 * gap, sum(c.height for c in crops) + gap * (len(crops) + 1)),
        255,
    )
    spans = []
    y = gap
    for crop in crops:
        canvas.paste(crop, (gap, y))
        spans.append((y, y + crop.height))
        y += crop.height + gap
    out: list[list[OcrLine]] = [[] for _ in crops]
    for line in block.read(canvas):
        middle = (line.box[1] + line.box[3]) / 2
        for i, (top, bottom) in enumerate(spans):
            if top - gap / 2 <= middle < bottom + gap / 2:
                out[i].append(OcrLine([_shifted(w, (-gap, -top, 0, 0)) for w in line.words]))
                break
    return out


_SCHEDULE_OR_COUNT = re.compile(
    r"\d+(?:-\d+){2,3}|\d\s*(?:cp|cpr|comprim|g[eé]l|sachet|ampoule)", re.IGNORECASE
)


def _doubtful(line: OcrLine) -> bool:
    words = [w.text for w in line.words]
    if _LONE_COUNT.match(line.text):
        return True
    for i, word in enumerate(words):
        if _BROKEN_SCHEDULE.match(word.rstrip(".,:;")):
            return True
        if _DOSE_UNIT.match(word) and (i == 0 or words[i - 1].endswith((":", "-"))):
            return True  # a unit with no count before it
    return False


def _shifted(word: Word, crop_box: Box) -> Word:
    dx, dy = crop_box[0], crop_box[1]
    return Word(
        word.text, word.confidence, (word.box[0] + dx, word.box[1] + dy, word.box[2] + dx, word.box[3] + dy)
    )


def _crop_alone(gray: Image.Image, crop_box: Box, others: list[Box]) -> Image.Image:
    """The crop with the words already read elsewhere whited out: the lines above and
    below, caught by the margins, would confuse a one-line reading."""
    crop = gray.crop(crop_box)
    for box in others:
        if box[0] < crop_box[2] and box[2] > crop_box[0] and box[1] < crop_box[3] and box[3] > crop_box[1]:
            crop.paste(
                255, (box[0] - crop_box[0], box[1] - crop_box[1], box[2] - crop_box[0], box[3] - crop_box[1])
            )
    return crop


# --------------------------------------------------------------------------- patient facts

# A number before "ans" or "kg" read below this confidence (0-100) is read again.
FACT_CONFIDENCE = 90.0
_AGE_OR_WEIGHT = re.compile(r"^(\d{2,3})\s*(ans|kg)$", re.IGNORECASE)
_LEADING_LE = re.compile(r"^\s*le\s+", re.IGNORECASE)
# the date of an ordonnance runs about this many letter heights to the right of its "le"
DATE_WIDTH = 12
# a date with a digit misread: two or three groups of digits joined by "/", 6 to 8 digits
_BROKEN_DATE = re.compile(r"^(?=(?:\D*\d){6,8}\D*$)\d{1,4}/\d{1,4}(?:/\d{2,4})?[.,]?$")
_BIRTH_WORD = re.compile(r"^(?:naissance|n[ée]e?|n[ée]\(e\))$", re.IGNORECASE)


def reread_patient_facts(
    lines: list[OcrLine], page: Image.Image, reader: OcrEngine | None, second_reader: OcrEngine | None = None
) -> list[OcrLine]:
    """Read again, on their own, the words of a patient fact whose number is broken: "ee ans",
    "/0 ans", "89 ans" read at 82, "Date de naissance : or", a birth date "24/13/1935", and
    the ordonnance's date read as marks ("Le Cr"), which an age from a birth date needs.

    The words are cropped alone (a header line often runs into the next column) and read
    by ``second_reader`` (the handwriting reader) when there is one: Tesseract misreads the
    digits of a rounded hand even alone. Otherwise ``reader`` (Tesseract, one line) reads
    them. The second reading replaces the words only when it is a whole fact ("85
    ans", a real date), and, from the same engine, read more surely than the first; its
    numbers keep a confidence below NUMBER_THRESHOLD.
    """
    if reader is None and second_reader is None:
        return lines
    targets: list[tuple[int, int, int, str]] = []  # line, first word, end word, kind
    for index, line in enumerate(lines):
        words = line.words
        for i, word in enumerate(words):
            folded = word.text.strip(".,:;").lower()
            if folded in ("ans", "kg") and i > 0:
                number = words[i - 1]
                if not number.text.isdigit() or number.confidence < FACT_CONFIDENCE:
                    targets.append((index, i - 1, i + 1, "age_or_weight"))
            elif _BIRTH_WORD.match(folded):
                # the date after "naissance :" or "née le", when it does not read as one
                j = i + 1
                while j < len(words) and words[j].text.strip(".,:;").lower() in ("", "le", "du", ":"):
                    j += 1
                if j < len(words) and read_date(words[j].text, birth=True) is None:
                    targets.append((index, j, len(words), "birth_date"))
            elif (
                _BROKEN_DATE.match(word.text)
                and read_date(word.text) is None
                and (i == 0 or not _BIRTH_WORD.match(words[i - 1].text.lower()))
            ):
                targets.append((index, i, i + 1, "date"))  # "le 0142/2026", "25/09/2625"
            elif _unread_ordonnance_date(words, i):
                targets.append((index, i, len(words), "ordonnance_date"))  # "Le Cr", "Amiens. le oe"
    targets = targets[:MAX_REREADS]
    if not targets:
        return lines
    gray = page if page.mode == "L" else page.convert("L")
    crop_boxes: list[Box] = []
    crops = []
    for index, first, end, kind in targets:
        span = lines[index].words[first:end]
        left, top = min(w.box[0] for w in span), min(w.box[1] for w in span)
        right, bottom = max(w.box[2] for w in span), max(w.box[3] for w in span)
        height = bottom - top
        if kind == "ordonnance_date":
            right = max(right, left + DATE_WIDTH * height)  # the date may be read as nothing
        crop_box = (
            max(0, left - height // 2),
            max(0, top - height // 3),
            min(page.width, right + height),
            min(page.height, bottom + height // 3),
        )
        others = [w.box for ln in lines for w in ln.words if not any(w is x for x in span)]
        crop_boxes.append(crop_box)
        crops.append(_crop_alone(gray, crop_box, others))
    replaced: dict[tuple[int, int, int], list[Word]] = {}
    if second_reader is not None:
        readings, other_engine = [second_reader.read(crop) for crop in crops], True
    else:
        assert reader is not None
        readings, other_engine = read_apart(reader, crops), False
    for (index, first, end, kind), crop_box, reading in zip(targets, crop_boxes, readings, strict=True):
        again = [_shifted(w, crop_box) for ln in reading for w in ln.words]
        text = " ".join(w.text for w in again).strip(" .,:;'’-_")
        before = lines[index].words[first:end]
        if kind == "age_or_weight":
            whole = _AGE_OR_WEIGHT.match(text)
            if whole is None or whole.group(2).lower() != before[-1].text.strip(".,:;").lower():
                continue
        elif kind == "ordonnance_date":
            if _LEADING_LE.match(text) is None or read_date(_LEADING_LE.sub("", text)) is None:
                continue
        elif read_date(text, birth=kind == "birth_date") is None:
            continue
        if not other_engine and _digit_confidence(again) <= _digit_confidence(before):
            continue
        replaced[(index, first, end)] = [
            Word(w.text, min(w.confidence, REREAD_CONFIDENCE), w.box)
            if any(c.isdigit() for c in w.text)
            else w
            for w in again
        ]
    out = list(lines)
    # right to left on each line, so that a replacement does not shift the next one's words;
    # a span overlapping one already replaced is left as read
    applied: dict[int, int] = {}  # line -> first word replaced so far
    for (index, first, end), words in sorted(replaced.items(), reverse=True):
        if end > applied.get(index, len(lines[index].words)):
            continue
        old = out[index].words
        out[index] = OcrLine([*old[:first], *words, *old[end:]])
        applied[index] = first
    return out


def _unread_ordonnance_date(words: list[Word], i: int) -> bool:
    """ "Le Cr", "Amiens. le oe", "le 10 juillet 20:": the "le" of the ordonnance's date (first on
    its line, or after a city), followed by a few marks or a date that does not read. Without
    it, an age from a birth date is counted to today."""
    if words[i].text.lower() != "le" or i + 1 >= len(words):
        return False
    if i > 0 and not words[i - 1].text.endswith((",", ".")):
        return False  # "1 cp le soir"
    if any(_BIRTH_WORD.match(w.text.strip(".,:;").lower()) for w in words[:i]):
        return False
    after = [w.text for w in words[i + 1 :]]
    if any(_BROKEN_DATE.match(w) for w in after):
        return False  # a date misread digit by digit: read again on its own
    if not (after[0][:1].isdigit() or len(after[0].strip(".,:;")) <= 3) or len(after) > 4:
        return False  # "le soir", "le médecin traitant"
    return read_date(" ".join(after)) is None


def _digit_confidence(words: list[Word]) -> float:
    """The lowest confidence of the words holding a digit; 0 when none does."""
    return min((w.confidence for w in words if any(c.isdigit() for c in w.text)), default=0.0)


# --------------------------------------------------------------------------- fractions


def check_fractions(lines: list[OcrLine], page: Image.Image, reader: OcrEngine | None) -> list[OcrLine]:
    """Look at the glyph of every dose count ("2 cp", "% cp"): a "½" is read as "2", "12",
    "4" or "%" by Tesseract's French model, which silently doubles or quadruples a dose.

    A fraction glyph is a small numerator up-left of a denominator down-right (a digit, and
    "12", are side by side). Its two parts are read on their own by ``reader``; the word
    becomes "½", "¼" or "¾" when they read so. Either way its confidence drops below
    NUMBER_THRESHOLD, so the line still goes to a human: corrected, never silently.
    """
    out = []
    for line in lines:
        words = _with_unread_fractions(list(line.words), page, reader)
        for i, word in enumerate(words):
            if not _DOSE_COUNT.match(word.text) or i + 1 >= len(words):
                continue
            if not _DOSE_UNIT.match(words[i + 1].text):
                continue
            parts = fraction_parts(page, word.box)
            if parts is None:
                continue
            value = None
            if reader is not None:
                value = _read_fraction(page, parts, reader) or _fraction_by_shape(page, parts, word.text)
            words[i] = Word(value or word.text, min(word.confidence, FRACTION_CONFIDENCE), word.box)
        out.append(OcrLine(words))
    return out


def _with_unread_fractions(words: list[Word], page: Image.Image, reader: OcrEngine | None) -> list[Word]:
    """A unit word with no count before it ("cp le matin") where the page has a glyph there
    that the engine read as nothing: a fraction's parts read as "½", "¼" or "¾" become the
    count (at FRACTION_CONFIDENCE, for a human to check); anything else is left unread."""
    if reader is None:
        return words
    out: list[Word] = []
    for i, word in enumerate(words):
        before = words[i - 1] if i else None
        if _DOSE_UNIT.match(word.text) and (before is None or _MARKS_ONLY.match(before.text)):
            found = _glyph_left_of(word.box, before.box if before else None, page)
            parts = fraction_parts(page, found) if found else None
            value = _read_fraction(page, parts, reader) if parts else None
            if value is not None and found is not None:
                out.append(Word(value, FRACTION_CONFIDENCE, found))
        out.append(word)
    return out


_MARKS_ONLY = re.compile(r"^[^\w½¼¾]+$")


def _glyph_left_of(unit: Box, before: Box | None, page: Image.Image) -> Box | None:
    """The box of the ink just left of a word, within about two letters of it."""
    height = unit[3] - unit[1]
    left = max(unit[0] - 2 * height, before[2] + 1 if before else 0, 0)
    region = (left, max(0, unit[1] - height // 3), unit[0] - max(2, height // 8), unit[3] + height // 8)
    if region[2] - region[0] < 4 or region[3] - region[1] < 8:
        return None
    crop = np.asarray(page.crop(region).convert("L"), dtype=np.uint8)
    if int(crop.max()) - int(crop.min()) < 60:
        return None
    components = [b for area, b in _components(crop < (int(crop.min()) + int(crop.max())) / 2) if area >= 4]
    if not components:
        return None
    return (
        region[0] + min(b[0] for b in components),
        region[1] + min(b[1] for b in components),
        region[0] + max(b[2] for b in components),
        region[1] + max(b[3] for b in components),
    )


def fraction_parts(page: Image.Image, box: Box) -> tuple[Box, Box] | None:
    """The numerator and denominator boxes (page pixels) when the glyph in ``box`` is a
    fraction, else None."""
    left, top, right, bottom = box
    if bottom - top < 8 or right - left < 4:
        return None
    crop = np.asarray(page.crop((left, top, right, bottom)).convert("L"), dtype=np.uint8)
    low, high = int(crop.min()), int(crop.max())
    if high - low < 60:
        return None  # no contrast: nothing to judge
    components = _components(crop < (low + high) / 2)
    if not components:
        return None
    largest = max(area for area, _ in components)
    parts = [b for area, b in components if area >= max(4, 0.12 * largest)]
    if not parts:
        return None  # specks only
    height = max(b[3] for b in parts) - min(b[1] for b in parts)  # of the ink, not the box
    best: tuple[Box, Box] | None = None
    for num in parts:
        for den in parts:
            # centres: the numerator left of and clearly above the denominator
            nx, ny = (num[0] + num[2]) / 2, (num[1] + num[3]) / 2
            dx, dy = (den[0] + den[2]) / 2, (den[1] + den[3]) / 2
            small = max(num[3] - num[1], den[3] - den[1]) < 0.8 * height
            if nx < dx and dy - ny > 0.3 * height and num[3] <= den[1] + 0.35 * height and small:
                best = (num, den)
    if best is None:
        return None
    num, den = best
    return (
        (left + num[0], top + num[1], left + num[2], top + num[3]),
        (left + den[0], top + den[1], left + den[2], top + den[3]),
    )


def _components(ink: np.ndarray) -> list[tuple[int, Box]]:
    """8-connected components of a small mask: (area, (left, top, right, bottom))."""
    seen = np.zeros(ink.shape, dtype=bool)
    height, width = ink.shape
    found = []
    for y0, x0 in zip(*np.nonzero(ink), strict=True):
        if seen[y0, x0]:
            continue
        seen[y0, x0] = True
        queue = deque([(int(y0), int(x0))])
        area, x_min, y_min, x_max, y_max = 0, int(x0), int(y0), int(x0), int(y0)
        while queue:
            y, x = queue.popleft()
            area += 1
            x_min, x_max, y_min, y_max = min(x_min, x), max(x_max, x), min(y_min, y), max(y_max, y)
            for ny in (y - 1, y, y + 1):
                for nx in (x - 1, x, x + 1):
                    if 0 <= ny < height and 0 <= nx < width and ink[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        queue.append((ny, nx))
        found.append((area, (x_min, y_min, x_max + 1, y_max + 1)))
    return found


def _read_fraction(page: Image.Image, parts: tuple[Box, Box], reader: OcrEngine) -> str | None:
    """Numerator and denominator side by side, enlarged and in black on white, read as two
    digits: "12" is ½, "14" is ¼, "34" is ¾."""
    size = 40  # px: the letter height Tesseract reads best
    glyphs = []
    for box in parts:
        glyph = Image.fromarray(np.where(_ink(page, box), 0, 255).astype(np.uint8))
        width = max(1, round(glyph.width * size / glyph.height))
        glyphs.append(glyph.resize((width, size), Image.Resampling.BILINEAR))
    canvas = Image.new("L", (sum(g.width for g in glyphs) + size * 3, size * 2), 255)
    x = size
    for glyph in glyphs:
        canvas.paste(glyph, (x, size // 2))
        x += glyph.width + size // 4
    digits = re.sub(r"\D", "", "".join(w.text for ln in reader.read(canvas) for w in ln.words))
    if len(digits) != 2:
        return None
    return _FRACTIONS.get((digits[0], digits[1]))


def _fraction_by_shape(page: Image.Image, parts: tuple[Box, Box], read: str) -> str | None:
    """When the parts could not be read as digits: "½" or "¼" from their shapes, only if the
    denominator's shape agrees with the digit the word was read with ("2" for ½, "4" for ¼).

    A "1" numerator is one stroke where a vertical line through its middle crosses it; a
    "2" has a bar along its foot, a "4" only its stem there. Two readings that agree, never
    one alone: a speck beside a "1" can look like a fraction's parts.
    """
    digits = re.sub(r"\D", "", read)
    if digits[-1:] not in ("2", "4"):
        return None
    (nl, _, nr, _), (dl, dt, dr, db) = parts
    if db - dt < 0.8 * (dr - dl) or (dl + dr) / 2 - (nl + nr) / 2 < 0.25 * (max(nr, dr) - min(nl, dl)):
        return None  # a flat part (the foot of a "2" the threshold cut off), or one under the other
    numerator, denominator = (_ink(page, box) for box in parts)
    centre = numerator.shape[1] // 2
    middle: np.ndarray = np.asarray(numerator[:, max(0, centre - 1) : centre + 1].any(axis=1))
    if int(np.sum(middle[1:] & ~middle[:-1])) + int(middle[0]) != 1:  # strokes crossed
        return None
    foot = denominator[int(denominator.shape[0] * 0.8) :, :].any(axis=0).mean()
    shape = "2" if foot >= 0.6 else "4" if foot <= 0.45 else None
    return _FRACTIONS[("1", shape)] if shape == digits[-1] else None


def _ink(page: Image.Image, box: Box) -> np.ndarray:
    """The ink of a small crop: darker than halfway between its lightest and darkest."""
    crop = np.asarray(page.crop(box).convert("L"), dtype=np.uint8)
    return np.asarray(crop < (int(crop.min()) + int(crop.max())) / 2, dtype=bool)


_GLYPH_READERS: dict[str, OcrEngine] = {}


def _glyph_reader(ocr: OcrEngine) -> OcrEngine | None:
    """Tesseract reading one line of digits (``--psm 7``); None for other engines, whose
    fraction glyphs are flagged without a reading."""
    if not isinstance(ocr, TesseractEngine):
        return None
    key = f"{ocr.lang}:{ocr.timeout_s}"
    if key not in _GLYPH_READERS:
        reader = TesseractEngine(lang=ocr.lang, psm=7, timeout_s=ocr.timeout_s)
        reader.config += " -c tessedit_char_whitelist=0123456789"
        _GLYPH_READERS[key] = reader
    return _GLYPH_READERS[key]


# --------------------------------------------------------------------------- drug lines


def _read_lines(
    parsed: ParsedOrdonnance,
    placed: list[PlacedLine],
    medications: list[MedicationLine],
) -> list[ReadLine]:
    """Each drug line with its source lines on the page: box, OCR and name-match confidence."""
    sources = _source_lines(parsed, placed)
    out = []
    for index, (raw, med) in enumerate(zip(parsed.lines, medications, strict=True)):
        found = sources[index]
        ocr_conf = min((ln.confidence for ln in found), default=0.0) / 100
        match_conf = med.confidence if med.status is not LineStatus.UNRESOLVED else 0.0
        reasons = []
        if med.status is LineStatus.UNRESOLVED:
            reasons.append("drug not recognised")
        elif med.status is LineStatus.AMBIGUOUS and med.candidates:
            reasons.append("drug name ambiguous: " + ", ".join(med.candidates[:3]))
        elif match_conf < CHECK_THRESHOLD or med.status is LineStatus.AMBIGUOUS:
            reasons.append("drug name read approximately")
        if ocr_conf < CHECK_THRESHOLD:
            reasons.append("text hard to read")
        if min((ln.number_confidence for ln in found), default=100.0) < NUMBER_THRESHOLD:
            reasons.append("a number or fraction hard to read")
        if _ODD_POSOLOGY.search(raw.posology_text or ""):
            reasons.append("unexpected characters in the posology")
        if med.posology is not None and med.posology.unparsed:
            reasons.append("posology partly unread: " + " | ".join(med.posology.unparsed[:2]))
        boxes = [ln.box for ln in found if ln.box is not None]
        box = (
            (
                min(b[0] for b in boxes),
                min(b[1] for b in boxes),
                max(b[2] for b in boxes),
                max(b[3] for b in boxes),
            )
            if boxes
            else None
        )
        confidence = min(ocr_conf, match_conf)
        out.append(
            ReadLine(
                index=index,
                text=raw.text,
                page=found[0].page if found else 1,
                box=box,
                ocr_confidence=round(ocr_conf, 3),
                match_confidence=round(match_conf, 3),
                confidence=round(confidence, 3),
                needs_check=bool(reasons),
                reasons=reasons,
            )
        )
    return out


def _source_lines(parsed: ParsedOrdonnance, placed: list[PlacedLine]) -> list[list[PlacedLine]]:
    """For each parsed drug line, the page lines it was built from (in order, each used once)."""
    cursor = 0
    result: list[list[PlacedLine]] = []
    for raw in parsed.lines:
        segments = [s.strip() for s in raw.text.split(" ; ") if s.strip()]
        found: list[PlacedLine] = []
        for segment in segments:
            for pos in range(cursor, len(placed)):
                if placed[pos].text.strip().endswith(segment):
                    found.append(placed[pos])
                    cursor = pos + 1
                    break
        result.append(found)
    return result
