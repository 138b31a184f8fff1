"""Small page renderings for the OCR tests (the full synthetic corpus is in datasets/ocr/)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

ORDONNANCE = """\
Dr Claire LEROY - Médecin généraliste - RPPS 10003456789
Le 12/11/2026
Mme DURAND Jeanne, née le 04/05/1944
Poids : 61 kg
1) SIMVASTATINE 40 mg comprimé : 1 comprimé le soir
2) FUROSEMIDE 40 mg : 1-0-0
3) AMIODARONE 200 mg comprimé
      1 cp le matin
4) DOLIPRANE 1000 mg : 1 cp si douleur, maximum 3 par jour
Signature"""


def render_page(
    text: str = ORDONNANCE, *, size: tuple[int, int] = (2480, 3508), font_px: int = 44
) -> Image.Image:
    """Black text on a white A4 page at 300 dpi, one line per line of ``text``."""
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(str(FONT), font_px)
    y = 220
    for line in text.splitlines():
        draw.text((200, y), line, font=font, fill=0)
        y += int(font_px * 1.6)
    return image


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()
