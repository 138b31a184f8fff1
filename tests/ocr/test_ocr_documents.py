"""Opening uploads: formats, EXIF orientation, PDF text layers, and every way a file can be bad."""

from __future__ import annotations

import io
import os
import random

import pikepdf
import pillow_heif
import pytest
from ocr_pages import encode, render_page
from PIL import Image

from pharma_service.errors import InputTooLarge, InvalidInput, PharmaError, UnsupportedInput
from pharma_service.ocr import documents
from pharma_service.ocr.documents import open_document


@pytest.fixture(scope="module")
def page() -> Image.Image:
    return render_page(size=(1240, 1754), font_px=22)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "TIFF", "WEBP"])
def test_images_open_as_one_page(page: Image.Image, fmt: str) -> None:
    document = open_document(encode(page, fmt), "scan")
    assert document.kind == "image"
    assert [p.number for p in document.pages] == [1]
    assert document.pages[0].image is not None
    assert document.pages[0].image.size == page.size


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_phone_formats_open_as_one_page(page: Image.Image, fmt: str) -> None:
    # iPhones take photos in HEIC; the magic bytes, not the name, say what the file is.
    pillow_heif.register_heif_opener()
    raw = encode(page, fmt)
    assert raw[4:8] == b"ftyp"
    document = open_document(raw, "IMG_0412.jpg")
    assert document.kind == "image"
    assert len(document.pages) == 1
    image = document.pages[0].image
    assert image is not None and image.size == page.size


def test_truncated_heic_is_an_error_not_a_page(page: Image.Image) -> None:
    pillow_heif.register_heif_opener()
    raw = encode(page, "HEIF")
    with pytest.raises(InvalidInput, match=r"damaged or truncated|cannot be decoded"):
        open_document(raw[: len(raw) // 2], "IMG_0412.heic")


def test_exif_orientation_is_honoured(page: Image.Image) -> None:
    # A phone stores the pixels sideways and says "rotate 90° clockwise to view" (tag 6).
    sideways = page.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    document = open_document(encode(sideways, "JPEG", exif=exif), "photo.jpg")
    image = document.pages[0].image
    assert image is not None
    assert image.size == page.size


def test_multi_page_tiff_gives_pages(page: Image.Image) -> None:
    raw = encode(page, "TIFF", save_all=True, append_images=[page.rotate(180)])
    assert [p.number for p in open_document(raw, "scan.tiff").pages] == [1, 2]


def test_pdf_with_text_layer_is_read_without_ocr(tmp_path: os.PathLike[str]) -> None:
    from weasyprint import HTML

    html = "<p>Mme DURAND Jeanne, 82 ans</p><p>1) SIMVASTATINE 40 mg : 1 cp le soir</p>"
    document = open_document(HTML(string=html).write_pdf(), "ordo.pdf")
    assert document.kind == "pdf_text"
    assert "SIMVASTATINE 40 mg" in (document.pages[0].text or "")


def test_scanned_pdf_is_rendered(page: Image.Image) -> None:
    raw = encode(
        page.convert("RGB"), "PDF", resolution=150, save_all=True, append_images=[page.convert("RGB")]
    )
    document = open_document(raw, "scan.pdf")
    assert document.kind == "pdf_scan"
    assert len(document.pages) == 2
    image = document.pages[0].image
    assert image is not None
    assert image.width == pytest.approx(page.width * 300 / 150, abs=2)


def test_type_is_sniffed_from_content_not_name(page: Image.Image) -> None:
    assert open_document(encode(page, "PNG"), "ordonnance.pdf").kind == "image"


# --------------------------------------------------------------------------- bad files


def test_zero_byte_file() -> None:
    with pytest.raises(InvalidInput, match="empty"):
        open_document(b"", "scan.png")


def test_not_an_image_or_pdf() -> None:
    with pytest.raises(UnsupportedInput, match="PNG, JPEG, HEIC, TIFF or WebP image or a PDF"):
        open_document(b"hello, this is a text file", "notes.png")


def test_truncated_image(page: Image.Image) -> None:
    raw = encode(page, "PNG")
    with pytest.raises(InvalidInput, match=r"damaged or truncated|cannot be decoded"):
        open_document(raw[: len(raw) // 2], "scan.png")


def test_truncated_pdf(page: Image.Image) -> None:
    raw = encode(page.convert("RGB"), "PDF")
    with pytest.raises(InvalidInput, match="PDF"):
        open_document(raw[: len(raw) // 3], "scan.pdf")


def test_password_protected_pdf(page: Image.Image) -> None:
    plain = pikepdf.open(io.BytesIO(encode(page.convert("RGB"), "PDF")))
    buffer = io.BytesIO()
    plain.save(buffer, encryption=pikepdf.Encryption(user="secret", owner="secret"))
    with pytest.raises(InvalidInput, match="password-protected"):
        open_document(buffer.getvalue(), "locked.pdf")


def test_decompression_bomb_is_refused_before_decoding() -> None:
    # 30,000 x 30,000 white pixels compress to a few hundred kilobytes of PNG.
    bomb = Image.new("1", (30_000, 30_000), 1)
    raw = encode(bomb, "PNG", optimize=True)
    assert len(raw) < 2_000_000
    with pytest.raises(InputTooLarge, match="pixels"):
        open_document(raw, "bomb.png")


def test_oversized_upload(monkeypatch: pytest.MonkeyPatch, page: Image.Image) -> None:
    monkeypatch.setattr(documents, "MAX_UPLOAD_BYTES", 1000)
    with pytest.raises(InputTooLarge, match="limit"):
        open_document(encode(page, "PNG"), "scan.png")


def test_too_many_pages(monkeypatch: pytest.MonkeyPatch, page: Image.Image) -> None:
    small = page.resize((200, 280))
    raw = encode(small, "TIFF", save_all=True, append_images=[small] * 3)
    monkeypatch.setattr(documents, "MAX_PAGES", 3)
    with pytest.raises(InputTooLarge, match="4 pages"):
        open_document(raw, "scan.tiff")


def test_fuzzed_files_give_errors_never_crashes(page: Image.Image) -> None:
    """Random byte flips and truncations of real files: a PharmaError or a readable document."""
    rng = random.Random(7)
    small = page.resize((310, 438))
    originals = [encode(small, fmt) for fmt in ("PNG", "JPEG", "TIFF", "WEBP")]
    originals.append(encode(small.convert("RGB"), "PDF"))
    for original in originals:
        for _ in range(25):
            raw = bytearray(original)
            for _ in range(rng.randint(1, 20)):
                raw[rng.randrange(len(raw))] = rng.randrange(256)
            if rng.random() < 0.5:
                raw = raw[: rng.randrange(1, len(raw))]
            try:
                document = open_document(bytes(raw), "fuzzed")
            except PharmaError as exc:
                assert exc.message
            else:
                assert document.pages
