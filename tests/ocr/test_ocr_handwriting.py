"""The second reader for handwriting: rows of word groups, when it runs, and a real reading."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from pharma_service.ocr import pipeline
from pharma_service.ocr.documents import Document, Page
from pharma_service.ocr.engine import FakeEngine, OcrFailed, OcrLine, Word
from pharma_service.ocr.handwriting import (
    CONFIDENCE_CAP,
    PaddleReader,
    _words,
    respace,
    text_rows,
)
from pharma_service.ocr.layout import place_lines
from pharma_service.ocr.pipeline import read_pages
from pharma_service.parsing.ordonnance_text import parse_ordonnance_text

HANDWRITING_FONT = Path("/usr/share/fonts/truetype/fifthhorseman/dkg.ttf")  # fonts-dkg-handwriting


def test_word_groups_drifting_along_a_line_make_one_row() -> None:
    # "Kardegic" | "75" slightly higher | "mg" lower, as script drifts; then the next line.
    boxes = [(100, 100, 400, 160), (430, 92, 500, 150), (530, 112, 600, 175), (140, 220, 600, 280)]
    rows = text_rows(boxes)
    assert rows == [[boxes[0], boxes[1], boxes[2]], [boxes[3]]]


def test_overlapping_groups_are_not_one_line() -> None:
    # Two groups at the same height and place are two lines of text, not one.
    a, b = (100, 100, 400, 160), (120, 110, 380, 170)
    assert len(text_rows([a, b])) == 2


def test_rows_read_top_to_bottom_and_left_to_right() -> None:
    boxes = [(900, 400, 1000, 450), (100, 100, 300, 150), (100, 400, 300, 450), (1500, 100, 1800, 150)]
    assert text_rows(boxes) == [
        [(100, 100, 300, 150), (1500, 100, 1800, 150)],
        [(100, 400, 300, 450), (900, 400, 1000, 450)],
    ]


def test_words_share_their_group_box_by_length_and_stay_under_the_check_threshold() -> None:
    words = _words((100, 10, 190, 40), "ab cdef", 0.97)
    assert [w.text for w in words] == ["ab", "cdef"]
    assert words[0].box[0] == 100 and words[1].box[2] == 190
    assert words[0].box[2] < words[1].box[0]
    assert all(w.confidence == CONFIDENCE_CAP < 80 for w in words)
    assert _words((0, 0, 10, 10), "xx", 0.1) == []  # below the fragment confidence: noise


def _page(lines: list[tuple[str, float]]) -> tuple[Document, FakeEngine]:
    document = Document("scan.png", "image", [Page(1, image=Image.new("L", (1240, 1754), 255))])
    return document, FakeEngine([lines])


def test_a_poorly_read_page_is_read_again_by_the_second_reader() -> None:
    document, first = _page([("Nime Jeme Durand", 40.0), ("Kacdesic 75 's", 30.0)])
    second = FakeEngine([[("Mme Jeanne Durand, 84 ans", 79.0), ("KARDEGIC 75 mg", 79.0)]])
    placed, reports = read_pages(document, first, second)
    assert second.calls == 1
    assert [line.text.strip() for line in placed] == ["Mme Jeanne Durand, 84 ans", "KARDEGIC 75 mg"]
    assert "read again by fake" in reports[0].steps


def test_a_well_read_page_is_not_read_again() -> None:
    document, first = _page([("Mme Jeanne Durand, 84 ans", 93.0), ("KARDEGIC 75 mg", 95.0)])
    second = FakeEngine([[("something else", 99.0)]])
    placed, reports = read_pages(document, first, second)
    assert second.calls == 0
    assert [line.text.strip() for line in placed] == ["Mme Jeanne Durand, 84 ans", "KARDEGIC 75 mg"]
    assert not any(step.startswith("read again") for step in reports[0].steps)


def test_an_empty_second_reading_keeps_the_first() -> None:
    document, first = _page([("KARDEGIC 75 mg", 50.0)])
    placed, _ = read_pages(document, first, FakeEngine([[]]))
    assert [line.text.strip() for line in placed] == ["KARDEGIC 75 mg"]


@pytest.mark.skipif(not HANDWRITING_FONT.exists(), reason="fonts-dkg-handwriting is not installed")
def test_the_second_reader_reads_handwriting_lines_in_order() -> None:
    font = ImageFont.truetype(str(HANDWRITING_FONT), 70)
    page = Image.new("L", (2480, 1300), 255)
    draw = ImageDraw.Draw(page)
    written = ["Mme Jeanne Durand", "84 ans", "Kardegic 75 mg", "   1 sachet le soir"]
    for row, text in enumerate(written):
        draw.text((200, 100 + 170 * row), text, font=font, fill=0)
    lines = PaddleReader().read(page)
    assert len(lines) == len(written)
    tops = [line.box[1] for line in lines]
    assert tops == sorted(tops)
    assert all(w.confidence <= CONFIDENCE_CAP for line in lines for w in line.words)
    text = "\n".join(line.text for line in lines)
    parsed = parse_ordonnance_text(text)
    assert parsed.patient.get("age") == 84
    assert "sachet le soir" in lines[3].text.lower()


@pytest.mark.parametrize(
    ("read", "meant"),
    [
        ("98ans", "98 ans"),
        ("Esidrex25", "Esidrex 25"),
        ("QSP3mois", "QSP 3 mois"),
        ("1 cp lematin", "1 cp le matin"),
        ("1 Sachet lesoir", "1 Sachet le soir"),
        ("Kardegic 75,mg", "Kardegic 75 mg"),
        ("2,5mg", "2,5 mg"),
        ("MadameMarie Girard", "Madame Marie Girard"),
        ("MRoland Debruyne", "M. Roland Debruyne"),
    ],
)
def test_spaces_the_recogniser_dropped_come_back(read: str, meant: str) -> None:
    assert respace(read) == meant


@pytest.mark.parametrize(
    "text",
    ["Vitamine B12", "UVEDOSE D3", "le 1er mois", "1-0-1", "2,5 mg", "Le 25/05/2025", "MARTIN", "Mme DURAND"],
)
def test_respacing_leaves_names_codes_and_dates_alone(text: str) -> None:
    assert respace(text) == text


def _line(text: str, left: int, top: int, char: int = 30) -> OcrLine:
    words, x = [], left
    for token in text.split():
        words.append(Word(token, 90.0, (x, top, x + char * len(token), top + 40)))
        x += char * (len(token) + 1)
    return OcrLine(words)


def test_lines_a_few_pixels_apart_share_an_indentation_level() -> None:
    # Drug lines drift by up to a character; their posology is indented by four.
    lines = [
        _line("KARDEGIC 75 mg", 200, 100),
        _line("1 sachet le soir", 320, 160),
        _line("LASILIX 40 mg", 228, 220),
        _line("1 cp le matin", 335, 280),
    ]
    texts = [p.text for p in place_lines(lines, 1, None)]
    assert texts == ["KARDEGIC 75 mg", "    1 sachet le soir", "LASILIX 40 mg", "    1 cp le matin"]
    parsed = parse_ordonnance_text("\n".join(texts))
    assert [d.posology_text for d in parsed.lines] == ["1 sachet le soir", "1 cp le matin"]


@pytest.mark.parametrize(
    ("step", "note"),
    [
        ("recover_lost_lines", "lost-line search skipped"),
        ("reread_doubtful_lines", "line re-reading skipped"),
        ("check_fractions", "fraction check skipped"),
    ],
)
def test_a_second_look_that_times_out_keeps_the_page(
    monkeypatch: pytest.MonkeyPatch, step: str, note: str
) -> None:
    """The second looks only improve a reading: one that fails must not lose the document."""

    def times_out(*args: object, **kwargs: object) -> list[OcrLine]:
        raise OcrFailed("the OCR took more than 10 s on one page")

    monkeypatch.setattr(pipeline, step, times_out)
    document, first = _page([("KARDEGIC 75 mg : 1 sachet le soir", 93.0)])
    placed, reports = read_pages(document, first)
    assert [line.text.strip() for line in placed] == ["KARDEGIC 75 mg : 1 sachet le soir"]
    assert any(s.startswith(note) for s in reports[0].steps)
