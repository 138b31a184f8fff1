"""From OCR lines to the text of the ordonnance, keeping where each line came from.

The text parser (pharma_service.parsing.ordonnance_text) reads continuation lines by their
indentation, so the layout turns each line's left edge into leading spaces. Lines are put in
reading order by rows: a two-column header gives one line per column on the same row.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from pharma_service.ocr.engine import Box, OcrLine

# A gap wider than this many characters separates columns; a number and its drug
# ("1)    FLUDEX") are closer than that in every layout of the corpus.
COLUMN_GAP_CHARS = 6
# Left edges closer than this many characters are one indentation level (see _snapped_lefts).
INDENT_SNAP_CHARS = 1.5


@dataclass(frozen=True)
class PlacedLine:
    page: int
    text: str  # with leading spaces for its indentation
    confidence: float  # 0-100
    box: Box | None  # on the original page; None for a PDF text layer
    # The lowest confidence of a word holding a digit or a fraction: a misread "½" costs
    # little to the line's mean but everything to the dose.
    number_confidence: float = 100.0


@dataclass(frozen=True)
class PageGeometry:
    """How the page read relates to the page received: turned, scaled, then straightened."""

    original_size: tuple[int, int]  # after EXIF orientation
    rotation: int  # clockwise, multiple of 90
    scale: float
    skew_degrees: float  # counter-clockwise, PIL convention
    read_size: tuple[int, int]  # size of the image given to the OCR

    def to_original(self, box: Box) -> Box:
        corners = [(box[0], box[1]), (box[2], box[1]), (box[0], box[3]), (box[2], box[3])]
        points = [self._point_to_original(x, y) for x, y in corners]
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        w, h = self.original_size
        return (
            max(0, round(min(xs))),
            max(0, round(min(ys))),
            min(w, round(max(xs))),
            min(h, round(max(ys))),
        )

    def _point_to_original(self, x: float, y: float) -> tuple[float, float]:
        # 1. undo the deskew rotation (PIL rotates about the centre, expanding the canvas)
        w0, h0 = self.original_size
        turned = (h0, w0) if self.rotation in (90, 270) else (w0, h0)
        sw, sh = turned[0] * self.scale, turned[1] * self.scale
        if self.skew_degrees:
            theta = math.radians(self.skew_degrees)
            dx, dy = x - self.read_size[0] / 2, y - self.read_size[1] / 2
            x = dx * math.cos(theta) - dy * math.sin(theta) + sw / 2
            y = dx * math.sin(theta) + dy * math.cos(theta) + sh / 2
        # 2. undo the scale
        x, y = x / self.scale, y / self.scale
        # 3. undo the quarter turn
        tw, th = turned
        if self.rotation == 90:
            return y, tw - x
        if self.rotation == 180:
            return tw - x, th - y
        if self.rotation == 270:
            return th - y, x
        return x, y


def place_lines(lines: list[OcrLine], page: int, geometry: PageGeometry | None) -> list[PlacedLine]:
    """Lines in reading order with their indentation, boxes mapped back to the page."""
    lines = [ln for ln in lines if ln.words]
    if not lines:
        return []
    char_width = _char_width(lines)
    segments = [seg for row in _rows(lines) for seg in _segments(row, char_width)]
    margin = min(seg.box[0] for seg in segments)
    lefts = _snapped_lefts([seg.box[0] for seg in segments], char_width)
    placed = []
    for segment in segments:
        indent = max(0, round((lefts[segment.box[0]] - margin) / char_width))
        box = geometry.to_original(segment.box) if geometry else segment.box
        text = " " * indent + segment.text
        placed.append(PlacedLine(page, text, segment.confidence, box, _number_confidence(segment)))
    return placed


def _snapped_lefts(lefts: list[int], char_width: float) -> dict[int, int]:
    """Each left edge, moved to the leftmost edge of its indentation level.

    A hand, or a photo whose deskew is not perfect, never starts lines at exactly the same
    place; the parser reads a line that starts further right as a continuation, so edges
    within INDENT_SNAP_CHARS of a level's first edge are that level (continuation lines are
    indented by three characters or more in every layout seen).
    """
    snapped: dict[int, int] = {}
    level: int | None = None
    for left in sorted(set(lefts)):
        if level is None or left - level > INDENT_SNAP_CHARS * char_width:
            level = left
        snapped[left] = level
    return snapped


def text_lines(text: str, page: int) -> list[PlacedLine]:
    """The lines of a PDF text layer: exact text, no box."""
    return [PlacedLine(page, ln.rstrip(), 100.0, None) for ln in text.splitlines() if ln.strip()]


def _number_confidence(line: OcrLine) -> float:
    numbers = [w.confidence for w in line.words if any(c.isdigit() or c in "½¼¾%*#/" for c in w.text)]
    return min(numbers, default=100.0)


def _rows(lines: list[OcrLine]) -> list[list[OcrLine]]:
    """Top to bottom; lines overlapping vertically by over half a line share a row.

    Lines side by side only: two lines that overlap horizontally are one above the other,
    however much their boxes overlap (on a photo whose lines still slant after the deskew,
    a long line's box is two lines tall), and sharing a row would interleave their words.
    """
    by_middle = sorted(lines, key=lambda ln: (ln.box[1] + ln.box[3]) / 2)
    rows: list[list[OcrLine]] = []
    for line in by_middle:
        top, bottom = line.box[1], line.box[3]
        if rows:
            last = rows[-1][0].box
            overlap = min(bottom, last[3]) - max(top, last[1])
            beside = not any(_overlap_x(line.box, other.box) for other in rows[-1])
            if beside and overlap > 0.5 * min(bottom - top, last[3] - last[1]):
                rows[-1].append(line)
                continue
        rows.append([line])
    return rows


def _overlap_x(a: Box, b: Box) -> bool:
    return min(a[2], b[2]) - max(a[0], b[0]) > 0


def _segments(row: list[OcrLine], char_width: float) -> list[OcrLine]:
    """The row's words left to right, cut where the gap is a column gap, not a space.

    The engine may join a two-column header into one line ("RPPS 1027... Âge : 82 ans") or
    split a number from its drug ("1)" | "FLUDEX 1,5 mg"): words decide, not its lines.
    """
    words = sorted((w for line in row for w in line.words), key=lambda w: w.box[0])
    segments = [OcrLine([words[0]])]
    for word in words[1:]:
        gap = word.box[0] - segments[-1].words[-1].box[2]
        if gap > COLUMN_GAP_CHARS * char_width:
            segments.append(OcrLine([word]))
        else:
            segments[-1].words.append(word)
    return segments


def _char_width(lines: list[OcrLine]) -> float:
    widths = [(w.box[2] - w.box[0]) / len(w.text) for ln in lines for w in ln.words if len(w.text) >= 3]
    return max(1.0, statistics.median(widths)) if widths else 10.0
