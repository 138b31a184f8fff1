"""Scan or photo in, analysed prescription out: documents -> pages -> OCR -> text -> request.

What was read is returned beside the analysis, line by line with its confidence and its box
on the page, so that a pharmacist can check the lines the service is unsure of.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Literal

from PIL import Image
from pydantic import BaseModel, Field

from pharma_service.inputs import request_from_parsed
from pharma_service.models import Analysis, AnalysisRequest, LineStatus, MedicationLine
from pharma_service.ocr.corrections import correct_line
from pharma_service.ocr.documents import Document, open_document
from pharma_service.ocr.engine import OcrEngine, OcrLine
from pharma_service.ocr.layout import PageGeometry, PlacedLine, place_lines, text_lines
from pharma_service.ocr.preprocess import prepare, rotate
from pharma_service.parsing.ordonnance_text import ParsedOrdonnance, parse_ordonnance_text
from pharma_service.service import Engine, analyse_request

# A line below this confidence (0-1: the lower of OCR and drug-name match) goes to a human.
CHECK_THRESHOLD = 0.80
# A word holding a digit or a fraction read below this confidence (0-100) is checked.
NUMBER_THRESHOLD = 75.0
# Characters that are never in a posology but are what a misread "½" or "¼" becomes.
_ODD_POSOLOGY = re.compile(r"[%*#@§|~]")
# A page read with a mean confidence below this is tried the other way up.
LOW_PAGE_CONFIDENCE = 60.0


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
    raw: bytes, *, name: str, ocr: OcrEngine
) -> tuple[ParsedOrdonnance, list[PlacedLine], list[PageReport]]:
    document = open_document(raw, name)
    placed, reports = read_pages(document, ocr)
    text = "\n".join(line.text for line in placed)
    return parse_ordonnance_text(text), placed, reports


def analyse_prescription(
    raw: bytes,
    *,
    name: str,
    ocr: OcrEngine,
    engine: Engine,
    patient: dict[str, Any] | None = None,
) -> PrescriptionResult:
    """Read the document, then analyse it as a text ordonnance; ``patient`` completes the header."""
    parsed, placed, reports = read_prescription(raw, name=name, ocr=ocr)
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


def read_pages(document: Document, ocr: OcrEngine) -> tuple[list[PlacedLine], list[PageReport]]:
    placed: list[PlacedLine] = []
    reports: list[PageReport] = []
    for page in document.pages:
        if page.text is not None:
            lines = text_lines(page.text, page.number)
            reports.append(PageReport(number=page.number, source="pdf_text", confidence=100.0))
        else:
            assert page.image is not None
            source: Literal["image", "pdf_scan"] = "pdf_scan" if document.kind == "pdf_scan" else "image"
            lines, report = _read_image(page.image, page.number, ocr, source)
            reports.append(report)
        placed.extend(
            PlacedLine(ln.page, correct_line(ln.text), ln.confidence, ln.box, ln.number_confidence)
            for ln in lines
            if any(ch.isalnum() for ch in ln.text)  # specks read as ":" or "." are not lines
        )
    return placed, reports


def _read_image(
    image: Image.Image, number: int, ocr: OcrEngine, source: Literal["image", "pdf_scan"]
) -> tuple[list[PlacedLine], PageReport]:
    best = _read_turned(image, 0, ocr)
    sideways = _sideways_turn(best[0])
    if sideways is None and _reads_backwards(best[0]):
        # Tesseract reads an upside-down page's letters well but its words from right to left.
        other = _read_turned(image, 180, ocr)
        if not _reads_backwards(other[0]):
            best = other
    elif sideways is not None or _page_confidence(best[0]) < LOW_PAGE_CONFIDENCE:
        # Sideways pages read as vertical lines and upside-down ones as noise: ask the engine
        # which way is up, on a reduced copy (about 0.5 s), only for those pages.
        turn = ocr.orientation(_reduced(image))
        candidates = [t for t in (turn, sideways, (sideways or 0) + 180) if t]
        for candidate in dict.fromkeys(c % 360 for c in candidates):
            other = _read_turned(image, candidate, ocr)
            if _reads_backwards(other[0]) or _sideways_turn(other[0]) is not None:
                continue  # still not upright
            # Tesseract reads sideways text with a good confidence, but in columns: an
            # upright reading replaces it; for a page read as noise, the better one wins.
            if sideways is not None or _page_confidence(other[0]) > _page_confidence(best[0]):
                best = other
            if _page_confidence(best[0]) >= LOW_PAGE_CONFIDENCE:
                break
    lines, prepared, rotation = best
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
        steps=prepared.steps,
        confidence=round(_page_confidence(lines), 1),
    )
    return place_lines(lines, number, geometry), report


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
        elif med.status is LineStatus.AMBIGUOUS:
            reasons.append("drug name ambiguous: " + ", ".join(med.candidates[:3]))
        elif match_conf < CHECK_THRESHOLD:
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
