"""Page clean-up before OCR: each step is one small function with a measured reason.

The order matters: grayscale, bring the text to the size Tesseract reads best, flatten
uneven lighting (phone photos), then straighten the page. Each step works on a reduced
copy where it can, because a 300-dpi A4 page is 8.7 Mpx and the pipeline must add little
to Tesseract's own time (benchmarks/RESULTS.md, "Ordonnance OCR").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from pharma_service.ocr.engine import OcrUnavailable

# Resolution, judged from the page size: an ordonnance is an A4 or A5 sheet whose long
# side is 11.7 or 8.3 inches; pages under 200 dpi (phone photos) are brought to 250 dpi,
# where Tesseract reads 10-pt print well, and pages over 400 dpi down to 300 to save time.
A4_LONG_SIDE_IN = 11.69
LOW_DPI, TARGET_LOW_DPI = 200.0, 250.0
HIGH_DPI, TARGET_HIGH_DPI = 400.0, 300.0
MAX_UPSCALE = 2.5
# Tesseract's time grows with the pixels: never hand it more than an A4 page at ~350 dpi.
MAX_READ_PIXELS = 12_000_000
MAX_SKEW_DEGREES = 6.0
# a turn to the edge of the range must make the text rows this much sharper than none
EDGE_SKEW_GAIN = 1.10
# Grey levels between the lightest and darkest paper of a page lit unevenly (shadow, photo).
UNEVEN_BACKGROUND = 30
# Mean grey-level change of the paper under a 3x3 median above which a page is grainy.
NOISE_LEVEL = 6.0


@dataclass
class Prepared:
    image: Image.Image
    scale: float = 1.0  # page pixels = original pixels * scale
    skew_degrees: float = 0.0
    steps: list[str] = field(default_factory=list)


def prepare(image: Image.Image) -> Prepared:
    gray = ImageOps.grayscale(image) if image.mode != "L" else image
    prepared = Prepared(gray)
    _denoise(prepared)
    _rescale(prepared)
    _flatten_background(prepared)
    _deskew(prepared)
    return prepared


def rotate(image: Image.Image, clockwise_degrees: int) -> Image.Image:
    """Rotate by a multiple of 90 degrees clockwise (lossless)."""
    transposes = {
        90: Image.Transpose.ROTATE_270,
        180: Image.Transpose.ROTATE_180,
        270: Image.Transpose.ROTATE_90,
    }
    step = transposes.get(clockwise_degrees % 360)
    return image if step is None else image.transpose(step)


# --------------------------------------------------------------------------- steps


def _denoise(prepared: Prepared) -> None:
    """A 3x3 median on grainy pages: speckles cost Tesseract seconds and read as punctuation."""
    level = noise_level(prepared.image)
    if level > NOISE_LEVEL:
        prepared.image = Image.fromarray(_median3(np.asarray(prepared.image, dtype=np.uint8)))
        prepared.steps.append(f"denoise ({level:.1f})")


def noise_level(gray: Image.Image) -> float:
    """Mean absolute change a 3x3 median makes on the paper of a central crop."""
    w, h = gray.size
    crop = gray.crop((w // 4, h // 3, w // 4 + min(600, w // 2), h // 3 + min(600, h // 3)))
    arr = np.asarray(crop, dtype=np.int16)
    smooth = _median3(np.asarray(crop, dtype=np.uint8)).astype(np.int16)
    paper = smooth > np.percentile(smooth, 60)  # measure on the paper, not on the letters
    return float(np.abs(arr - smooth)[paper].mean()) if paper.any() else 0.0


def _rescale(prepared: Prepared) -> None:
    w, h = prepared.image.size
    dpi = max(w, h) / A4_LONG_SIDE_IN
    if dpi < LOW_DPI:
        factor = min(TARGET_LOW_DPI / dpi, MAX_UPSCALE, (MAX_READ_PIXELS / (w * h)) ** 0.5)
    elif dpi > HIGH_DPI:
        factor = TARGET_HIGH_DPI / dpi
    else:
        return
    if abs(factor - 1) < 0.1:
        return
    prepared.image = prepared.image.resize((round(w * factor), round(h * factor)), Image.Resampling.LANCZOS)
    prepared.scale *= factor
    prepared.steps.append(f"{'upscale' if factor > 1 else 'downscale'} x{factor:.2f}")


def _flatten_background(prepared: Prepared) -> None:
    """Divide by a blurred background estimate: shadows and uneven lighting become white.

    Only for uneven pages: Tesseract's own thresholding handles a uniformly grey sheet,
    and the division costs a pass over every pixel.
    """
    gray = prepared.image
    small = gray.reduce(8) if min(gray.size) > 400 else gray
    # The paper is the bright part: spread it over the text with a max filter, then blur.
    background = Image.fromarray(_max5(np.asarray(small, dtype=np.uint8))).filter(ImageFilter.GaussianBlur(6))
    low, high = np.percentile(np.asarray(background), [2, 98])
    if high - low < UNEVEN_BACKGROUND:
        return
    # OpenCV's bilinear resize: within one grey level of Pillow's, 10x faster on an A4 page
    cv2 = _opencv()
    bg_full = cv2.resize(np.asarray(background), gray.size, interpolation=cv2.INTER_LINEAR).astype(np.float32)
    # page * 255 // background, in float32 (integer division is not vectorised): the
    # quotient is at least 1/255 from the next integer, far above float32 rounding, so the
    # truncation gives the same grey levels.
    flat = np.asarray(gray, dtype=np.float32)
    flat *= 255
    flat /= np.maximum(bg_full, 1)
    np.minimum(flat, 255, out=flat)
    prepared.image = Image.fromarray(flat.astype(np.uint8))
    prepared.steps.append("flatten background")


def _deskew(prepared: Prepared) -> None:
    angle = skew_angle(prepared.image)
    if abs(angle) < 0.3:
        return
    # Nearest-neighbour: 5x faster than bilinear on an A4 page, and the same reading.
    prepared.image = prepared.image.rotate(
        angle, resample=Image.Resampling.NEAREST, expand=True, fillcolor=255
    )
    prepared.skew_degrees = angle
    prepared.steps.append(f"deskew {angle:+.1f}°")


def skew_angle(gray: Image.Image) -> float:
    """Counter-clockwise angle (degrees) that makes the text lines horizontal.

    Projection profiles: rotated by the right angle, the rows of a text page alternate
    between ink and paper, so the variance of the row sums is highest. Coarse then fine.
    """
    factor = max(1, max(gray.size) // 900)
    small = gray.reduce(factor) if factor > 1 else gray
    arr = np.asarray(small, dtype=np.uint8)
    mask = arr < _otsu(arr)
    if mask.mean() < 0.002 or mask.mean() > 0.5:
        return 0.0  # a blank (or black) page has no text lines to straighten
    ink = mask.astype(np.uint8)
    cv2 = _opencv()
    height, width = ink.shape
    centre = (width / 2, height / 2)

    def score(angle: float) -> float:
        # rotated about the centre, counter-clockwise, nearest neighbour: Pillow's rotate(),
        # with the same angles found on the dev pages, in half the time
        turn = cv2.getRotationMatrix2D(centre, angle, 1.0)
        rotated = cv2.warpAffine(ink, turn, (width, height), flags=cv2.INTER_NEAREST, borderValue=0)
        return float(np.var(rotated.sum(axis=1, dtype=np.float32)))

    best = max(np.arange(-MAX_SKEW_DEGREES, MAX_SKEW_DEGREES + 0.01, 1.0), key=score)
    if abs(best) >= MAX_SKEW_DEGREES and score(best) < EDGE_SKEW_GAIN * score(0.0):
        # The best turn at the edge of the range, hardly better than none: a long stroke (a
        # signature's underline) steeper than the range, not the text lines, on a page of
        # few lines; turning it would tilt the text (two handwritten lines read as one).
        return 0.0
    fine = np.arange(best - 0.8, best + 0.81, 0.2)
    return round(float(np.clip(max(fine, key=score), -MAX_SKEW_DEGREES, MAX_SKEW_DEGREES)), 2)


# --------------------------------------------------------------------------- helpers


def _median3(arr: np.ndarray) -> np.ndarray:
    """3x3 median, edges repeated: the same pixels as Pillow's MedianFilter(3), which took
    0.15-0.8 s on an A4 page (OpenCV: a few ms)."""
    out: np.ndarray = _opencv().medianBlur(arr, 3)
    return out


def _max5(arr: np.ndarray) -> np.ndarray:
    """5x5 maximum, edges repeated: the same pixels as Pillow's MaxFilter(5)."""
    cv2 = _opencv()
    out: np.ndarray = cv2.dilate(arr, np.ones((5, 5), np.uint8), borderType=cv2.BORDER_REPLICATE)
    return out


def _opencv() -> Any:
    """OpenCV, imported on the first page (0.1 s); a clear error when its system libraries
    are missing."""
    try:
        import cv2
    except ImportError as exc:
        raise OcrUnavailable(
            f"OpenCV cannot load ({exc}): install the Debian packages libgl1 and libglib2.0-0"
        ) from exc
    return cv2


def otsu_threshold(arr: np.ndarray) -> float:
    """The grey level that best separates ink from paper (Otsu)."""
    return _otsu(arr)


def _otsu(arr: np.ndarray) -> float:
    hist = np.bincount(arr.ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    if total == 0:
        return 128.0
    levels = np.arange(256)
    weight_bg = np.cumsum(hist)
    weight_fg = total - weight_bg
    mean_cum = np.cumsum(hist * levels)
    mean_total = mean_cum[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean_total * weight_bg / total - mean_cum) ** 2 / (weight_bg * weight_fg)
    between = np.nan_to_num(between)
    return float(np.argmax(between))


def true_runs(flags: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """[start, end) of the runs of True, joining runs separated by at most ``gap`` False."""
    runs: list[tuple[int, int]] = []
    for index in np.flatnonzero(flags):
        i = int(index)
        if runs and i - runs[-1][1] <= gap:
            runs[-1] = (runs[-1][0], i + 1)
        else:
            runs.append((i, i + 1))
    return runs
