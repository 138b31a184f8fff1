"""Render a PPP as JSON, HTML or an A4 PDF (the same template for HTML and PDF)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, Template, select_autoescape

from pharma_service.errors import PharmaError
from pharma_service.plan.models import Ppp

TEMPLATES = Path(__file__).resolve().parent / "templates"
LAB_LABELS = {
    "potassium_mmol_l": "K+ (mmol/l)",
    "sodium_mmol_l": "Na+ (mmol/l)",
    "qtc_ms": "QTc (ms)",
    "inr": "INR",
    "heart_rate_bpm": "FC (/min)",
    "magnesium_mmol_l": "Mg (mmol/l)",
    "calcium_mmol_l": "Ca (mmol/l)",
}
FORMATS = {"json": "application/json", "html": "text/html", "pdf": "application/pdf"}


class RenderingUnavailable(PharmaError):
    code = "pdf_unavailable"
    http_status = 503


@lru_cache(maxsize=1)
def _template() -> Template:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    return env.get_template("ppp.html.j2")


def to_json(ppp: Ppp) -> str:
    return json.dumps(ppp.model_dump(mode="json"), ensure_ascii=False, indent=2)


def to_html(ppp: Ppp) -> str:
    return _template().render(ppp=ppp, lab_labels=LAB_LABELS)


def to_pdf(ppp: Ppp) -> bytes:
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: Pango or its fonts missing
        raise RenderingUnavailable(
            f"PDF rendering needs WeasyPrint and the Pango library ({exc}); install them "
            "(pip install weasyprint; apt-get install libpango-1.0-0 libpangoft2-1.0-0) "
            "or ask for HTML"
        ) from exc
    pdf: bytes = HTML(string=to_html(ppp), base_url=str(TEMPLATES)).write_pdf()
    return pdf


def render(ppp: Ppp, fmt: str) -> bytes:
    if fmt == "pdf":
        return to_pdf(ppp)
    return (to_html(ppp) if fmt == "html" else to_json(ppp)).encode("utf-8")
