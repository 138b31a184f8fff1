"""Reading dispensing tables and writing the screening outputs (tables and an HTML report)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import polars as pl

from pharma_service.batch.screen import ScreeningResult
from pharma_service.errors import InvalidInput, UnsupportedInput


def scan_table(path: Path) -> pl.LazyFrame:
    """A lazy scan (streaming-friendly) of a CSV or Parquet file."""
    if not path.exists():
        raise InvalidInput(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pl.scan_parquet(path)
        if suffix in {".csv", ".txt"}:
            return pl.scan_csv(path, infer_schema_length=10_000, try_parse_dates=True)
    except pl.exceptions.PolarsError as exc:
        raise InvalidInput(f"{path}: cannot read the table: {exc}") from exc
    raise UnsupportedInput(f"{path.name}: give the dispensing table as .csv or .parquet")


def write_outputs(result: ScreeningResult, out: Path, *, fmt: str = "parquet") -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in (("patients", result.patients), ("findings", result.findings)):
        path = out / f"{name}.{fmt}"
        if fmt == "csv":
            frame.write_csv(path)
        else:
            frame.write_parquet(path)
        written.append(path)
    summary = out / "summary.json"
    summary.write_text(json.dumps(result.summary, indent=2, ensure_ascii=False), encoding="utf-8")
    report = out / "report.html"
    report.write_text(render_report(result), encoding="utf-8")
    return [*written, summary, report]


def _bars(title: str, rows: list[tuple[str, int]]) -> str:
    """A horizontal bar chart as inline SVG: opens in any browser, no script."""
    if not rows:
        return f"<h3>{html.escape(title)}</h3><p>Aucune donnée.</p>"
    top = max(v for _, v in rows) or 1
    height = 22 * len(rows) + 10
    bars = []
    for i, (label, value) in enumerate(rows):
        width = 420 * value / top
        y = 5 + 22 * i
        bars.append(
            f'<text x="0" y="{y + 14}" font-size="12">{html.escape(label[:60])}</text>'
            f'<rect x="330" y="{y + 2}" width="{width:.1f}" height="16" fill="#2b6cb0"></rect>'
            f'<text x="{335 + width:.1f}" y="{y + 14}" font-size="12">{value:,}</text>'
        )
    return f'<h3>{html.escape(title)}</h3><svg width="860" height="{height}">{"".join(bars)}</svg>'


def render_report(result: ScreeningResult) -> str:
    p = result.patients
    f = result.findings
    s = result.summary
    eligible = int(p["eligible_iatroprev"].sum()) if p.height else 0
    acb = p.group_by(pl.col("acb").clip(upper_bound=6)).len().sort("acb") if "acb" in p.columns else None
    acb_rows = [(("≥ 6" if v == 6 else str(v)), n) for v, n in acb.iter_rows()] if acb is not None else []
    inter = (
        f.filter(pl.col("category") == "interaction")
        .group_by("drugs", "level")
        .len()
        .sort("len", descending=True)
        .head(15)
    )
    pim = f.filter(pl.col("category") == "pim").group_by("rule").len().sort("len", descending=True).head(15)
    omissions = (
        f.filter(pl.col("category") == "omission")
        .group_by("rule", "drugs")
        .len()
        .sort("len", "rule", "drugs", descending=[True, False, False])
        .head(15)
    )
    top = p.head(50)
    rows = "".join(
        f"<tr><td>{html.escape(str(r['patient_id']))}</td><td>{r['age']}</td><td>{r['molecules']}</td>"
        f"<td>{r['risk_score']:g}</td><td>{html.escape(r['top_reasons'] or '')}</td></tr>"
        for r in top.iter_rows(named=True)
    )
    return f"""<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">
<title>Repérage des patients à risque iatrogène</title>
<style>body{{font-family:DejaVu Sans,Arial,sans-serif;margin:24px;color:#1b1b1b}}
h1{{color:#0b3d6b}} table{{border-collapse:collapse}} td,th{{border:1px solid #9fb3c8;padding:3px 6px}}
th{{background:#e6eef6}} .kpi{{display:inline-block;margin-right:28px;font-size:18px}}</style></head><body>
<h1>Repérage des patients à risque iatrogène</h1>
<p>Fenêtre du {s.get("window_start")} au {s.get("reference_date")}.</p>
<div class="kpi"><b>{s.get("patients", 0):,}</b> patients</div>
<div class="kpi"><b>{eligible:,}</b> éligibles Iatroprev/Optimedoc (≥ 75 ans, ≥ 10 molécules)</div>
<div class="kpi"><b>{s.get("rows_unresolved", 0):,}</b> lignes non reconnues
 sur {s.get("rows_in_window", 0):,}</div>
{_bars("Charge anticholinergique (ACB) : nombre de patients par score", acb_rows)}
{_bars("Interactions les plus fréquentes", [(f"{d} ({lv})", n) for d, lv, n in inter.iter_rows()])}
{_bars("Médicaments potentiellement inappropriés les plus fréquents", list(pim.iter_rows()))}
{
        _bars(
            "Omissions les plus fréquentes (critères START évaluables sur les seuls médicaments)",
            [(f"{r} ({d})", n) for r, d, n in omissions.iter_rows()],
        )
    }
<h3>Les 50 patients au score de risque le plus élevé</h3>
<table><tr><th>Patient</th><th>Âge</th><th>Molécules</th><th>Score</th><th>Principales raisons</th></tr>
{rows}</table>
<p style="font-size:11px;color:#555">Score : somme pondérée des comptes (rules/batch/risk_score.yaml).
Règles évaluées et non évaluées en lot : voir le README.</p>
</body></html>"""
