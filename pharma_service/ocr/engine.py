"""OCR engines behind one interface: Tesseract for real, a fake one for unit tests.

An engine turns one page image into words with their box and confidence, grouped in the
lines the engine found. Everything after that (layout, recognition) is engine-agnostic.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any, Protocol

from PIL import Image

from pharma_service.errors import PharmaError

Box = tuple[int, int, int, int]  # left, top, right, bottom, in the pixels of the page read


class OcrUnavailable(PharmaError):
    code = "ocr_unavailable"
    http_status = 503


class OcrFailed(PharmaError):
    code = "ocr_failed"
    http_status = 422


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float  # 0-100, as Tesseract reports it
    box: Box


@dataclass
class OcrLine:
    words: list[Word] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def box(self) -> Box:
        return (
            min(w.box[0] for w in self.words),
            min(w.box[1] for w in self.words),
            max(w.box[2] for w in self.words),
            max(w.box[3] for w in self.words),
        )

    @property
    def confidence(self) -> float:
        """Mean word confidence weighted by word length, 0-100."""
        weight = sum(len(w.text) for w in self.words) or 1
        return sum(w.confidence * len(w.text) for w in self.words) / weight


class OcrEngine(Protocol):
    name: str

    def read(self, image: Image.Image) -> list[OcrLine]:
        """The lines of text on the page, each with its words."""
        ...

    def orientation(self, image: Image.Image) -> int | None:
        """Clockwise rotation (0, 90, 180, 270) that makes the page upright, or None if unsure."""
        ...


class TesseractEngine:
    """Tesseract 5 with the French model, through pytesseract.

    Tesseract runs with one OpenMP thread: on two cores its thread pool spins against the
    other requests and was 3x slower than one thread (benchmarks/RESULTS.md).
    """

    name = "tesseract"

    def __init__(self, *, lang: str = "fra", psm: int = 3, timeout_s: float = 60.0) -> None:
        import pytesseract

        if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
            raise OcrUnavailable(
                "Tesseract is not installed: install the Debian packages tesseract-ocr and "
                "tesseract-ocr-fra (apt-get install -y tesseract-ocr tesseract-ocr-fra)"
            )
        try:
            languages = pytesseract.get_languages(config="")
        except pytesseract.TesseractError as exc:  # pragma: no cover - broken installation
            raise OcrUnavailable(f"Tesseract does not start: {exc}") from exc
        if lang not in languages:
            raise OcrUnavailable(
                f"the Tesseract model '{lang}' is missing: install the Debian package tesseract-ocr-{lang}"
            )
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        self._tess = pytesseract
        self.lang = lang
        self.psm = psm
        self.config = f"--psm {psm} -c tessedit_do_invert=0"
        self.timeout_s = timeout_s

    def read(self, image: Image.Image) -> list[OcrLine]:
        lines = self._read(image, self.config)
        if self.psm == 3 and not _has_words(lines):
            # Tesseract's global (Otsu) threshold can make a whole photographed page one dark
            # picture ("Empty page!!"), the paper's grey frame pulling it up; Sauvola's local
            # threshold reads such a page (benchmarks/RESULTS.md, session 5). A page with
            # words never pays for this second reading.
            again = self._read(image, self.config + " -c thresholding_method=2")
            if _has_words(again):
                return again
        return lines

    def _read(self, image: Image.Image, config: str) -> list[OcrLine]:
        data = self._run(
            self._tess.image_to_data,
            _uncompressed(image),
            lang=self.lang,
            config=config,
            output_type=self._tess.Output.DICT,
            timeout=self.timeout_s,
        )
        return _lines(data).get(1, [])

    def read_many(self, images: list[Image.Image]) -> list[list[OcrLine]]:
        """Each image's lines, as ``read`` gives them, from one Tesseract process: the images
        are the pages of one run (a list file), each read alone with the same settings. A
        Tesseract start costs about 0.15 s (the model loads) before it reads anything; the
        LSTM model keeps nothing from one page to the next, so each page reads as it does alone."""
        if len(images) <= 1:
            return [self.read(image) for image in images]
        with tempfile.TemporaryDirectory(prefix="tess_many_") as folder:
            paths = []
            for index, image in enumerate(images):
                path = os.path.join(folder, f"{index}.pnm")
                page = image if image.mode in ("L", "RGB") else image.convert("RGB")
                page.save(path, format="PPM")
                paths.append(path)
            listing = os.path.join(folder, "pages.txt")
            with open(listing, "w", encoding="utf-8") as fh:
                fh.write("\n".join(paths) + "\n")
            data = self._run(
                self._tess.image_to_data,
                listing,
                lang=self.lang,
                config=self.config,
                output_type=self._tess.Output.DICT,
                timeout=self.timeout_s * len(images),  # each image has the time of one read
            )
        by_page = _lines(data)
        return [by_page.get(index + 1, []) for index in range(len(images))]

    def orientation(self, image: Image.Image) -> int | None:
        try:
            osd = self._run(
                self._tess.image_to_osd,
                _uncompressed(image),
                config="--psm 0",
                output_type=self._tess.Output.DICT,
                timeout=self.timeout_s,
            )
        except OcrFailed:
            return None  # too few characters to tell: read the page as it is
        if float(osd.get("orientation_conf", 0)) < 1.5:
            return None
        return int(osd["rotate"]) % 360

    def _run(self, fn: object, *args: object, **kwargs: object) -> dict[str, Any]:
        assert callable(fn)
        try:
            result: dict[str, Any] = fn(*args, **kwargs)
        except RuntimeError as exc:  # pytesseract raises RuntimeError on its timeout
            raise OcrFailed(
                f"the OCR took more than {self.timeout_s:.0f} s on one page; send a smaller or cleaner scan"
            ) from exc
        except self._tess.TesseractError as exc:
            raise OcrFailed(f"Tesseract could not read the page: {exc.message}") from exc
        return result


def _lines(data: dict[str, Any]) -> dict[int, list[OcrLine]]:
    """Tesseract's words (``image_to_data``) grouped in lines, by page number (1-based)."""
    lines: dict[tuple[int, int, int, int], OcrLine] = {}
    for i, text in enumerate(data["text"]):
        confidence = float(data["conf"][i])
        if not text.strip() or confidence < 0:
            continue
        key = (data["page_num"][i], data["block_num"][i], data["par_num"][i], data["line_num"][i])
        left, top = data["left"][i], data["top"][i]
        box = (left, top, left + data["width"][i], top + data["height"][i])
        lines.setdefault(key, OcrLine()).words.append(Word(text.strip(), confidence, box))
    pages: dict[int, list[OcrLine]] = {}
    for (page, *_), line in lines.items():
        pages.setdefault(page, []).append(line)
    return pages


def _has_words(lines: list[OcrLine]) -> bool:
    """At least one word of two letters or digits: not a blank page or specks."""
    return any(sum(ch.isalnum() for ch in w.text) >= 2 for ln in lines for w in ln.words)


def _uncompressed(image: Image.Image) -> Image.Image:
    """pytesseract hands the page to Tesseract through a file in the image's format, PNG by
    default: compressing an A4 page costs 0.1-0.3 s, writing it as PNM about 5 ms."""
    page = image if image.mode in ("L", "RGB") else image.convert("RGB")
    page.format = "PPM"
    return page


class FakeEngine:
    """Returns the lines it was given, for tests of everything after the OCR."""

    name = "fake"

    def __init__(self, pages: list[list[tuple[str, float]]], *, rotate: int | None = 0) -> None:
        self._pages = pages
        self._rotate = rotate
        self.calls = 0

    def read(self, image: Image.Image) -> list[OcrLine]:
        page = self._pages[min(self.calls, len(self._pages) - 1)]
        self.calls += 1
        lines = []
        for row, (text, confidence) in enumerate(page):
            indent = len(text) - len(text.lstrip())
            x = 100 + 20 * indent
            words = []
            for token in text.split():
                words.append(
                    Word(token, confidence, (x, 100 + 60 * row, x + 20 * len(token), 140 + 60 * row))
                )
                x += 20 * (len(token) + 1)
            if words:
                lines.append(OcrLine(words))
        return lines

    def orientation(self, image: Image.Image) -> int | None:
        return self._rotate
