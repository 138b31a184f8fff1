"""A second reader for pages Tesseract cannot read: handwriting-like script.

Tesseract's French model reads print well and script poorly: on the corpus's DkgHandwriting
pages it found 17% of drug lines and 15% of ages (benchmarks/RESULTS.md). PaddleOCR's PP-OCRv4
detector and recogniser, whose ONNX models ship inside the ``rapidocr_onnxruntime`` wheel,
read the same pages far better, but lose accents (a Chinese and Latin alphabet) and are
slower, so they only re-read a page that Tesseract read with a low mean confidence, once the
pipeline has turned it upright (pipeline.read_pages).

The detector finds word groups; groups on one text line are joined into one OcrLine, so
the layout sees "Kardegic 75 mg" and not three lines. Words get boxes spread over their
group's box in proportion to their length: good enough for indentation and for the box
drawn around a line, not for a single character.

Three things help on script (dev corpus, seed 5, DkgHandwriting pages: drug lines 35 -> 77%):
the recogniser's probabilities are decoded with a lexicon (ocr.lexicon); a unit after a
number is read again from a taller box, since the detector cuts descenders ("mg" read
"M"); and ink on a line that no detected group covers is read too, since the detector
misses thin marks such as a "1" written as a single stroke. Such a stroke, which the
recogniser reads as nothing alone, is read with the word after it; a group boxed with the
loops of its neighbour lines is read from its own line of script (ink_core).
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import re
import statistics
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from PIL import Image

from pharma_service.ocr.engine import Box, OcrLine, OcrUnavailable, Word
from pharma_service.ocr.lexicon import AFTER_NUMBER, Decoded, Lexicon, LexiconDecoder, looks_like_unit_word
from pharma_service.ocr.preprocess import true_runs
from pharma_service.referential.store import Referential

# Tesseract pages below this mean confidence (0-100) are read again by this reader. Printed
# pages of the corpus read at 85-95, handwriting-like pages at 30-70.
SECOND_READING_BELOW = 75.0
# Detection runs on the page reduced by this factor: script is large, and the detector's
# cost grows with the pixels (2.3 s at 150 dpi against ~6 s at 300 dpi on this machine).
DETECTION_REDUCTION = 2
MIN_FRAGMENT_CONFIDENCE = 0.3
# The recogniser's scores are not calibrated like Tesseract's (a misread word can score 0.9):
# its words stay under the pipeline's check threshold (0.80), so every line of a page only
# this reader could read goes to a human before the analysis is trusted.
CONFIDENCE_CAP = 79.0
# A lone unit after a number is read again from a box this much taller (times its height):
# the detector cuts descenders, and "mg" without its "g" reads "M". Growing every box
# instead read worse (neighbour lines creep in).
UNIT_GROWTH = 0.6
OVERLAP_SHARE = 0.5
# A group taller than this many times the page's median group holds loops of its neighbour
# lines and is read from its core (ink_core): dev pages, "1 gélule si douleur" read "" -> right.
TALL_BOX = 1.6
CORE_SHARE = 0.4
CORE_MARGIN = 0.5
# A mark narrower than this many times its height, read as nothing, is a lone stroke; it is
# read again with this many heights of the group after it
STROKE_WIDTH = 0.6
STROKE_CONTEXT = 4
# Lines the detector missed: a band of ink, near the text's left margin (within this many
# line heights) and in rows no group covers, is searched again at this other reduction.
LOST_LINE_REACH = 8
LOST_LINE_INK = 0.05  # ink pixels per row, in line heights: a speck's row is no line
SECOND_DETECTION_REDUCTION = 2.5
INK_LEVEL = 128  # the page reaches this reader binarised (preprocess.prepare)
RECOGNITION_BATCH = 6  # crops of similar width per recogniser run, as rapidocr does


class PaddleReader:
    """PP-OCRv4 detection and recognition through onnxruntime, one thread."""

    name = "ppocr"

    def __init__(self, *, threads: int = 1, lexicon: Lexicon | Callable[[], Lexicon] | None = None) -> None:
        """``lexicon``, or a function that builds it: it is then built on the first page this
        reader reads (about 0.1 s), like the models, not for the printed pages that never
        need it."""
        if importlib.util.find_spec("rapidocr_onnxruntime") is None:
            raise OcrUnavailable(
                "the handwriting reader is not installed: pip install rapidocr_onnxruntime "
                "(OpenCV, which it uses, needs the Debian packages libgl1 and libglib2.0-0)"
            )
        self.threads = threads
        self.lexicon = lexicon
        self._decoder: LexiconDecoder | None = None
        self._models: tuple[Any, Any] | None = None  # loaded on the first page that needs them

    def _load(self) -> tuple[Any, Any]:
        if self._models is None:
            import rapidocr_onnxruntime
            from rapidocr_onnxruntime.ch_ppocr_det import TextDetector
            from rapidocr_onnxruntime.ch_ppocr_rec import TextRecognizer
            from rapidocr_onnxruntime.utils import read_yaml

            package = Path(rapidocr_onnxruntime.__file__).parent
            config: dict[str, Any] = read_yaml(str(package / "config.yaml"))
            for part in ("Det", "Rec"):
                config[part]["model_path"] = str(package / config[part]["model_path"])
                config[part]["intra_op_num_threads"] = self.threads
                config[part]["inter_op_num_threads"] = self.threads
            # Script leaves wide gaps inside words and thin strokes ("1", "l"): grow the boxes
            # more than for print and keep fainter ones, so that a word is one box.
            config["Det"].update(limit_type="max", unclip_ratio=2.2, box_thresh=0.3, thresh=0.2)
            self._models = (TextDetector(config["Det"]), TextRecognizer(config["Rec"]))
        return self._models

    def read(self, image: Image.Image) -> list[OcrLine]:
        import numpy as np

        detect, recognise = self._load()
        rgb = image.convert("RGB")
        boxes = _detect(detect, rgb, DETECTION_REDUCTION)
        if not boxes:
            return []
        page = np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])  # the models take BGR
        rows = text_rows(boxes)
        ink = np.asarray(rgb.convert("L")) < INK_LEVEL
        # where the page's text begins: the left of most lines, not of a speck in the margin
        starts = sorted(row[0][0] for row in rows)
        margin = starts[len(starts) // 10]
        typical = statistics.median(b[3] - b[1] for b in boxes)
        bands = lost_bands(boxes, ink, margin, typical)
        if bands:
            # Whole lines the detector missed at this scale ("81 kg" and the clearance under
            # it, on a dev page) are found at another: its groups in those bands are added.
            rescale = _detect(detect, rgb, SECOND_DETECTION_REDUCTION)
            boxes += [
                b
                for b in rescale
                if any(top <= (b[1] + b[3]) / 2 < bottom for top, bottom in bands)
                and not any(_area_overlap(b, other) > OVERLAP_SHARE for other in boxes)
            ]
            rows = text_rows(boxes)
        rows = [
            [
                ink_core(b, ink, typical, [o for o in boxes if o != b])
                if b[3] - b[1] > TALL_BOX * typical
                else b
                for b in row
            ]
            for row in rows
        ]
        for row in rows:
            others = [b for other in rows if other is not row for b in other]
            row += uncovered_ink(row, ink, margin, others)
            row.sort(key=lambda b: b[0])
        boxes = [b for row in rows for b in row]
        probs = dict(
            zip(
                boxes,
                self._probabilities(recognise, [page[b[1] : b[3], b[0] : b[2]] for b in boxes]),
                strict=True,
            )
        )
        if self._decoder is None:
            lexicon = self.lexicon() if callable(self.lexicon) else self.lexicon
            self._decoder = LexiconDecoder(recognise.postprocess_op.character, lexicon)
        decoder = self._decoder
        strokes = self._read_strokes(rows, probs, page, recognise, decoder)
        lines = []
        for row in rows:
            words: list[Word] = []
            for k, box in enumerate(row):
                # a unit often sits in its own group after the number: "25" | "mo"; a count
                # in its own group before the unit: "T" | "cp"
                after_number = bool(words) and words[-1].text[-1:].isdigit()
                before_unit = k + 1 < len(row) and looks_like_unit_word(decoder.greedy(probs[row[k + 1]]))
                found = strokes.get(box) or decoder.decode(
                    probs[box], after_number=after_number, before_unit=before_unit
                )
                if after_number and _cut_unit(found.text):
                    grown = _grown(box, rgb.size)
                    again = self._probabilities(recognise, [page[grown[1] : grown[3], grown[0] : grown[2]]])
                    second = decoder.decode(again[0], after_number=True)
                    if not _cut_unit(second.text):
                        found = second
                words += _words(box, found.text, found.score)
            if words:
                lines.append(OcrLine(words))
        return lines

    def _read_strokes(
        self, rows: list[list[Box]], probs: dict[Box, Any], page: Any, recognise: Any, decoder: LexiconDecoder
    ) -> dict[Box, Decoded]:
        """Narrow marks read as nothing, read again with the start of the group after them.

        Alone, the single stroke of a handwritten "1" is too thin for the recogniser, which
        reads nothing; with the next word it reads "1 Cpr". The mark takes the first word of
        that reading when it is a short one (one or two characters) and more follows.
        """
        crops: dict[Box, Box] = {}
        for row in rows:
            for box, after in itertools.pairwise(row):
                height = box[3] - box[1]
                if (
                    box[2] - box[0] < STROKE_WIDTH * height
                    and after[0] - box[2] < height
                    and not decoder.greedy(probs[box]).strip()
                ):
                    right = min(after[2], box[2] + int(STROKE_CONTEXT * height))
                    crops[box] = (box[0], min(box[1], after[1]), right, max(box[3], after[3]))
        if not crops:
            return {}
        images = [page[c[1] : c[3], c[0] : c[2]] for c in crops.values()]
        read: dict[Box, Decoded] = {}
        for box, context in zip(crops, self._probabilities(recognise, images), strict=True):
            found = decoder.decode(context)
            words = found.text.split()
            if len(words) > 1 and len(words[0]) <= 2:
                read[box] = Decoded(words[0], found.score, 0)
        return read

    def _probabilities(self, recognise: Any, crops: list[Any]) -> list[Any]:
        """The recogniser's character probabilities for each crop (rapidocr's batching and scaling)."""
        import numpy as np

        ratios = [crop.shape[1] / max(1, crop.shape[0]) for crop in crops]
        order = sorted(range(len(crops)), key=ratios.__getitem__)
        _, height, width = recognise.rec_image_shape
        results: list[Any] = [None] * len(crops)
        for start in range(0, len(order), RECOGNITION_BATCH):
            batch = order[start : start + RECOGNITION_BATCH]
            widest = max(width / height, *(ratios[i] for i in batch))
            images = np.stack([recognise.resize_norm_img(crops[i], widest) for i in batch]).astype(np.float32)
            probs = recognise.session(images)[0]
            for i, crop_probs in zip(batch, probs, strict=True):
                results[i] = crop_probs
        return results

    def orientation(self, image: Image.Image) -> int | None:
        return None  # the page is turned upright by the pipeline before it gets here


def uncovered_ink(
    row: list[Box], ink: Any, margin: int | None = None, others: Sequence[Box] = ()
) -> list[Box]:
    """Boxes around ink on a text line that no detected group covers.

    The detector misses thin marks between or before words: the "1" of "1 cp", written as a
    single stroke, the ":" before a posology, a "kg" after the weight. Ink in the line's
    band, left of its first group (within a few line heights), between its groups or right
    of its last, is boxed for the recogniser. Marks shorter than a third of the band
    (specks, the tail of a letter from the line above) are left out. Ink inside the groups
    of other lines (``others``) is theirs: a stray group the detector put in a row of its
    own (a descender) would otherwise copy the whole line above it.
    """
    import numpy as np

    height = int(statistics.median(b[3] - b[1] for b in row))
    middle = int(statistics.median((b[1] + b[3]) / 2 for b in row))
    top, bottom = max(0, middle - int(0.4 * height)), min(ink.shape[0], middle + int(0.4 * height))
    left = max(0, min(b[0] for b in row) - 3 * height)
    if margin is not None:
        # a line's first word the detector missed ("Clopidogrel" before "75 mg"): back to
        # where the page's text begins
        left = max(0, min(left, margin - height))
    right = min(ink.shape[1], max(b[2] for b in row) + 3 * height)
    if bottom - top < 4 or right - left < 4:
        return []
    band = ink[top:bottom, left:right].copy()
    for b in row:
        band[:, max(0, b[0] - left) : max(0, b[2] - left)] = False
    _clear_boxes(band, left, top, others)
    columns = band.sum(axis=0) >= 2
    found = []
    pad = height // 6
    for start, end in true_runs(columns, gap=max(1, height // 4 - 1)):
        marked = np.flatnonzero(band[:, start:end].any(axis=1))
        if marked.size == 0 or marked[-1] - marked[0] < (bottom - top) / 3:
            continue
        found.append(
            (
                max(0, left + start - pad),
                max(0, top - pad),
                min(ink.shape[1], left + end + pad),
                min(ink.shape[0], bottom + pad),
            )
        )
    return found


def ink_core(box: Box, ink: Any, typical: float = 0, others: Sequence[Box] = ()) -> Box:
    """The box cut down to its line of script and a margin above and below.

    A group boxed much taller than the page's others holds the loops of the line above or
    below ("1 gélule si douleur" under the "g" of "Topalgic 50 mg"), and the recogniser
    then reads nothing of it. The core is where the rows hold at least CORE_SHARE of the
    densest row's ink; CORE_MARGIN times its height is kept on each side for ascenders
    and descenders, and the box stays at least ``typical`` (the page's usual group
    height) tall, so that a short word's "p" and "j" are kept. The ink of ``others`` (the
    page's other groups) is left out: where the box overlaps the line under it, that
    line's denser ink took the core ("88 kg" read as the "Clairance" below it).
    """
    import numpy as np

    left, top, right, bottom = box
    region = ink[top:bottom, left:right]
    own = region.copy()
    _clear_boxes(own, left, top, others)
    profile = own.sum(axis=1)
    if profile.size == 0 or profile.max() == 0:
        profile = region.sum(axis=1)  # wholly inside others: its own ink is all there is
    if profile.size == 0 or profile.max() == 0:
        return box
    dense = np.flatnonzero(profile >= CORE_SHARE * profile.max())
    core_top, core_bottom = top + int(dense[0]), top + int(dense[-1]) + 1
    grow = max(int(CORE_MARGIN * (core_bottom - core_top)), int(typical - (core_bottom - core_top)) // 2)
    return (left, max(top, core_top - grow), right, min(bottom, core_bottom + grow))


def _clear_boxes(region: Any, left: int, top: int, boxes: Sequence[Box]) -> None:
    """Clear, in place, what ``boxes`` cover of ``region`` (a crop of the page at left, top)."""
    for b_left, b_top, b_right, b_bottom in boxes:
        region[
            max(0, b_top - top) : max(0, b_bottom - top), max(0, b_left - left) : max(0, b_right - left)
        ] = False


def _cut_unit(text: str) -> bool:
    """A short word after a number that is no unit: "M", "m", "K"."""
    word = text.strip()
    return 0 < len(word) <= 2 and word.isalpha() and word not in AFTER_NUMBER


def _grown(box: Box, size: tuple[int, int]) -> Box:
    """The box with room for the descender the detector cut off (the "g" of "mg")."""
    left, top, right, bottom = box
    height = bottom - top
    return (
        max(0, left - height // 5),
        max(0, top - height // 6),
        min(size[0], right + height // 2),
        min(size[1], bottom + int(UNIT_GROWTH * height)),
    )


def _detect(detect: Any, rgb: Image.Image, reduction: float) -> list[Box]:
    """The text groups the detector finds on the page reduced by ``reduction``, in page pixels."""
    import numpy as np

    small = rgb.resize((max(1, round(rgb.width / reduction)), max(1, round(rgb.height / reduction))))
    polygons, _ = detect(np.ascontiguousarray(np.asarray(small)[:, :, ::-1]))
    if polygons is None or len(polygons) == 0:
        return []
    boxes = [_page_box(polygon, rgb.size, reduction) for polygon in polygons]
    return [b for b in boxes if b[2] - b[0] > 2 and b[3] - b[1] > 2]


def _area_overlap(a: Box, b: Box) -> float:
    """The share of the smaller box that the other covers."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return width * height / max(1, smaller)


def lost_bands(boxes: list[Box], ink: Any, margin: int, typical: float) -> list[tuple[int, int]]:
    """Bands of the page, at least half a line high, where ink starts near the text margin
    and no detected group covers it: lines the detector missed."""
    import numpy as np

    covered = np.zeros(ink.shape[0], dtype=bool)
    for box in boxes:
        covered[box[1] : box[3]] = True
    left = max(0, int(margin - typical))
    right = min(ink.shape[1], int(margin + LOST_LINE_REACH * typical))
    inked = ink[:, left:right].sum(axis=1) >= max(3, LOST_LINE_INK * typical)
    runs = true_runs(inked & ~covered, int(typical // 4))
    return [(top, bottom) for top, bottom in runs if bottom - top >= typical / 2]


def _page_box(polygon: Any, size: tuple[int, int], reduction: float = DETECTION_REDUCTION) -> Box:
    xs = [float(p[0]) * reduction for p in polygon]
    ys = [float(p[1]) * reduction for p in polygon]
    width, height = size
    return (
        max(0, int(min(xs))),
        max(0, int(min(ys))),
        min(width, int(max(xs)) + 1),
        min(height, int(max(ys)) + 1),
    )


# The recogniser, trained mostly on text without spaces, often drops the space a script
# leaves small: "98ans", "Esidrex25", "QSP3mois", "lematin". Spaces go back where a
# number meets a word of two letters or more (not "B12", "D3" or "1er"), and between an
# article and the time words of a posology.
_LETTERS_THEN_NUMBER = re.compile(r"(?<=[^\W\d_]{3})(?=\d)")
_NUMBER_THEN_WORD = re.compile(r"(?<=\d)(?=(?!(?:er|re|e|ème|eme)\b)[^\W\d_]{2})")
_GLUED_TIME = re.compile(
    r"\b(le|au|et|du)(matin|midi|soir|coucher|repas|lever|dîner|diner|déjeuner|dejeuner)\b", re.I
)


_NUMBER_STOP_UNIT = re.compile(r"(?<=\d)\s*[.,;:]\s*(?=(?:mg|g|µg|mcg|ml|UI)\b)")


# "MadameMarie Girard", "MRoland": a civility glued to the first name.
_GLUED_CIVILITY = re.compile(r"^(\s*)(Madame|Monsieur|Mademoiselle|Mme|Mlle|M\.?)(?=[A-ZÉÈ][a-zéèêëïîôç])")


def _civility(match: re.Match[str]) -> str:
    civility = match.group(2)
    return f"{match.group(1)}{'M.' if civility == 'M' else civility} "


def respace(text: str) -> str:
    text = _GLUED_CIVILITY.sub(_civility, text)
    text = _NUMBER_STOP_UNIT.sub(" ", text)  # "75,mg", "5. mg": a stroke read as a stop
    text = _LETTERS_THEN_NUMBER.sub(" ", text)
    text = _NUMBER_THEN_WORD.sub(" ", text)
    return _GLUED_TIME.sub(r"\1 \2", text)


def _words(box: Box, text: str, score: float) -> list[Word]:
    tokens = respace(text).split()
    if not tokens or score < MIN_FRAGMENT_CONFIDENCE:
        return []
    left, top, right, bottom = box
    chars = sum(len(t) for t in tokens) + len(tokens) - 1
    per_char = (right - left) / max(1, chars)
    words, x = [], float(left)
    for token in tokens:
        end = x + per_char * len(token)
        words.append(Word(token, min(CONFIDENCE_CAP, 100 * score), (round(x), top, round(end), bottom)))
        x = end + per_char
    return words


def text_rows(boxes: list[Box]) -> list[list[Box]]:
    """Word groups joined into text lines, each left to right, lines top to bottom.

    A group joins a line when its middle is within half a line height of the line's middle
    and it does not overlap a group already there; handwriting drifts up and down along a
    line, so the test is on middles, not on top and bottom.
    """
    rows: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: (b[1] + b[3]) / 2):
        middle, height = (box[1] + box[3]) / 2, box[3] - box[1]
        for row in rows:
            row_middle = statistics.median((b[1] + b[3]) / 2 for b in row)
            row_height = statistics.median(b[3] - b[1] for b in row)
            near = abs(middle - row_middle) < 0.45 * max(height, row_height)
            # the detector may box a word twice ("fois" and "fois par jour"): a group may
            # overlap the line's groups by up to half of the narrower one
            apart = all(
                min(box[2], b[2]) - max(box[0], b[0]) <= OVERLAP_SHARE * min(box[2] - box[0], b[2] - b[0])
                for b in row
            )
            if near and apart:
                row.append(box)
                break
        else:
            rows.append([box])
    for row in rows:
        row.sort(key=lambda b: b[0])
    rows.sort(key=lambda row: min((b[1] + b[3]) / 2 for b in row))
    return rows


def default_second_reader(referential: Referential | None = None) -> PaddleReader | None:
    """The handwriting reader, unless PHARMA_OCR_SECOND_READER=off or it is not installed.
    With a referential, it reads with its drug names as a lexicon (ocr.lexicon)."""
    if os.environ.get("PHARMA_OCR_SECOND_READER", "").lower() in ("off", "0", "false", "no"):
        return None
    try:
        lexicon = partial(Lexicon.from_referential, referential) if referential else None
        return PaddleReader(lexicon=lexicon)
    except OcrUnavailable:
        return None
