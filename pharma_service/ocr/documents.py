"""Open an uploaded ordonnance (image or PDF) into pages, within safe limits.

The file type comes from its first bytes, not its name: a photo sent as ``scan.pdf`` is
still read. Every limit (bytes, pixels, pages) is checked before the pixels are decoded,
so a decompression bomb or a 500-page PDF is refused in milliseconds, never rendered.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

import pypdfium2 as pdfium
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from pharma_service.errors import InputTooLarge, InvalidInput, UnsupportedInput

MAX_UPLOAD_BYTES = 25_000_000
MAX_PAGE_PIXELS = 60_000_000  # an A4 page at 600 dpi is 35 Mpx
MAX_PAGES = 10
PDF_RENDER_DPI = 300
# A PDF text layer shorter than this is a scanner's stray characters, not the ordonnance.
MIN_TEXT_LAYER_CHARS = 40

IMAGE_FORMATS = {"PNG", "JPEG", "TIFF", "WEBP", "BMP", "HEIF", "AVIF"}
# ISO media files ("....ftyp<brand>"): HEIC/HEIF, what iPhones take photos in, and AVIF.
HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}
PageKind = Literal["image", "pdf_text", "pdf_scan"]


@dataclass
class Page:
    """One page: pixels to read, or the text of a PDF text layer (then ``image`` is None)."""

    number: int  # 1-based
    image: Image.Image | None = None
    text: str | None = None


@dataclass
class Document:
    name: str
    kind: PageKind
    pages: list[Page] = field(default_factory=list)


def sniff(raw: bytes) -> str:
    """'pdf', 'image' or 'unknown', from the magic bytes."""
    head = raw[:16]
    if raw[:1024].lstrip().startswith(b"%PDF-"):
        return "pdf"
    signatures = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM")
    if head.startswith(signatures) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return "image"
    return "unknown"


def open_document(raw: bytes, name: str = "upload") -> Document:
    if len(raw) == 0:
        raise InvalidInput(f"{name}: the file is empty (0 bytes); send the scan or photo of the ordonnance")
    if len(raw) > MAX_UPLOAD_BYTES:
        raise InputTooLarge(
            f"{name}: {len(raw):,} bytes, the limit is {MAX_UPLOAD_BYTES:,}; "
            "scan at 300 dpi or send a smaller photo"
        )
    kind = sniff(raw)
    if kind == "pdf":
        return _open_pdf(raw, name)
    if kind == "image":
        return Document(name=name, kind="image", pages=_open_image(raw, name))
    raise UnsupportedInput(
        f"{name}: not a readable image or PDF; send a PNG, JPEG, HEIC, TIFF or WebP image or a PDF"
    )


# --------------------------------------------------------------------------- images


def _open_image(raw: bytes, name: str) -> list[Page]:
    # WeasyPrint (the PDF plan) sets Pillow's process-wide LOAD_TRUNCATED_IMAGES, which would
    # turn half an upload into half a page read without a word: truncation must be an error.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    if raw[4:8] == b"ftyp":
        _register_heif()
    try:
        with warnings.catch_warnings():
            # Pillow warns, then raises, past its own pixel limit: our limit is checked below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw))
            if image.format not in IMAGE_FORMATS:
                raise UnsupportedInput(
                    f"{name}: {image.format} images are not read; send PNG, JPEG, HEIC or PDF"
                )
            frames = getattr(image, "n_frames", 1)
            if frames > MAX_PAGES:
                raise InputTooLarge(f"{name}: {frames} pages, the limit is {MAX_PAGES}")
            pages = []
            for index in range(frames):
                image.seek(index)
                _check_pixels(image.size, name)
                frame = ImageOps.exif_transpose(image)  # phones store the orientation in EXIF
                frame.load()
                pages.append(Page(number=index + 1, image=frame))
            return pages
    except Image.DecompressionBombError as exc:
        raise InputTooLarge(
            f"{name}: the image has more pixels than the limit of {MAX_PAGE_PIXELS:,}; scan at 300 dpi"
        ) from exc
    except UnidentifiedImageError as exc:
        raise InvalidInput(f"{name}: the image cannot be decoded ({exc}); send it again") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidInput(
            f"{name}: the image is damaged or truncated ({exc}); scan it again or send another copy"
        ) from exc


@cache
def _register_heif() -> None:
    """HEIC photos (iPhones) through pillow-heif; AVIF is Pillow's own."""
    import pillow_heif

    pillow_heif.register_heif_opener()


def _check_pixels(size: tuple[int, int], name: str) -> None:
    width, height = size
    if width * height > MAX_PAGE_PIXELS:
        raise InputTooLarge(
            f"{name}: a page of {width}x{height} pixels is over the limit of {MAX_PAGE_PIXELS:,} "
            "pixels; scan at 300 dpi"
        )
    if width < 16 or height < 16:
        raise InvalidInput(f"{name}: a page of {width}x{height} pixels is too small to be read")


# --------------------------------------------------------------------------- PDF


def _open_pdf(raw: bytes, name: str) -> Document:
    try:
        pdf = pdfium.PdfDocument(raw)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise InvalidInput(
                f"{name}: the PDF is password-protected; remove the password and send it again"
            ) from exc
        raise InvalidInput(f"{name}: the PDF is damaged or truncated ({exc}); send another copy") from exc
    try:
        count = len(pdf)
        if count == 0:
            raise InvalidInput(f"{name}: the PDF has no page")
        if count > MAX_PAGES:
            raise InputTooLarge(f"{name}: {count} pages, the limit is {MAX_PAGES}")
        texts = [_text_layer(pdf[i]) for i in range(count)]
        if all(len("".join(t.split())) >= MIN_TEXT_LAYER_CHARS for t in texts):
            return Document(
                name=name, kind="pdf_text", pages=[Page(number=i + 1, text=t) for i, t in enumerate(texts)]
            )
        pages = []
        for index in range(count):
            page = pdf[index]
            scale = PDF_RENDER_DPI / 72
            width, height = page.get_size()
            _check_pixels((int(width * scale), int(height * scale)), name)
            image = page.render(scale=scale, grayscale=True).to_pil()
            pages.append(Page(number=index + 1, image=image))
        return Document(name=name, kind="pdf_scan", pages=pages)
    except pdfium.PdfiumError as exc:
        raise InvalidInput(f"{name}: a PDF page cannot be read ({exc}); send another copy") from exc
    finally:
        pdf.close()


def _text_layer(page: pdfium.PdfPage) -> str:
    textpage = page.get_textpage()
    try:
        text: str = textpage.get_text_range()
    finally:
        textpage.close()
    return text.replace("\r\n", "\n").replace("\r", "\n")
