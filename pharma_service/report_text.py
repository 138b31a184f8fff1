"""A plain-text French rendering of an analysis, for the terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pharma_service.models import Analysis, MedicationLine

if TYPE_CHECKING:
    from pharma_service.ocr.pipeline import Reading

_SEVERITY_FR = {
    "critical": "CRITIQUE",
    "high": "ÉLEVÉ",
    "moderate": "MODÉRÉ",
    "low": "FAIBLE",
    "info": "INFO",
}
_STATUS_FR = {"resolved": "reconnu", "ambiguous": "à confirmer", "unresolved": "NON RECONNU"}


def render_text(analysis: Analysis) -> str:
    p = analysis.patient
    renal = p.get("renal_function", {})
    crcl = renal.get("crcl_ml_min")
    out = [
        "Analyse d'ordonnance",
        "=" * 20,
        f"Patient : {p.get('age_years')} ans, sexe {p.get('sex', '?')}, "
        f"poids {p.get('weight_kg', '?')} kg, clairance "
        + (f"{crcl:.0f} ml/min ({renal.get('method')})" if crcl is not None else "inconnue"),
        "",
        f"Traitement ({len(analysis.medications)} lignes) :",
    ]
    out += [_line(m) for m in analysis.medications]
    out += ["", f"Alertes ({len(analysis.findings)}) :"]
    if not analysis.findings:
        out.append("  aucune alerte sur les lignes reconnues")
    for n, f in enumerate(analysis.findings, start=1):
        flag = " [à vérifier]" if f.status == "to_verify" else ""
        out.append(f"  {n}. [{_SEVERITY_FR[f.severity.value]}] {f.summary}{flag}")
        if f.detail:
            out.append(f"     {f.detail}")
        if f.recommendation:
            out.append(f"     → {f.recommendation}")
        out.append(f"     Source : {f.source.label} ({f.source.version}) — règle {f.rule}")
    out += _unevaluated(analysis) + _scores(analysis) + _eligibility(analysis)
    return "\n".join(out) + "\n"


def _unevaluated(analysis: Analysis) -> list[str]:
    if not analysis.unevaluated:
        return []
    out = ["", f"Critères à vérifier faute de données ({len(analysis.unevaluated)}) :"]
    for item in analysis.unevaluated:
        if len(item.criteria) > 1:
            out.append(f"  - {item.summary} :")
            out += [f"      · {criterion}" for criterion in item.criteria]
        else:
            drugs = f" [{', '.join(d.name for d in item.drugs)}]" if item.drugs else ""
            out.append(f"  - {item.summary}{drugs} — manque : {', '.join(item.missing_data)} ({item.rule})")
    return out


def _scores(analysis: Analysis) -> list[str]:
    out = ["", "Scores :"]
    for scale in analysis.scores.get("anticholinergic", {}).values():
        drugs = ", ".join(f"{d['name']} {d['score']}" for d in scale["drugs"]) or "aucun médicament coté"
        out.append(f"  {scale['label']} : {scale['total']} ({scale['interpretation']}) — {drugs}")
    qt = analysis.scores.get("qt", {})
    if qt:
        names = ", ".join(d["name"] for d in qt["qt_drugs"]) or "aucun"
        tisdale = qt["tisdale"]
        score = tisdale["score"] if tisdale["score"] is not None else f"≥ {tisdale['score_known_factors']}"
        out.append(f"  QT : médicaments à risque : {names} ; score de Tisdale {score}")
    return out


def _eligibility(analysis: Analysis) -> list[str]:
    programmes = analysis.eligibility.get("programmes", {})
    if not programmes:
        return []
    out = ["", "Éligibilité aux programmes :"]
    for item in programmes.values():
        verdict = {"eligible": "éligible", "not_eligible": "non éligible", "to_verify": "à vérifier"}[
            item["status"]
        ]
        missing = f" ; manque : {', '.join(item['missing_data'])}" if item["missing_data"] else ""
        out.append(f"  {item['label']} : {verdict} ({'; '.join(item['reasons'])}{missing})")
    return out


def _line(m: MedicationLine) -> str:
    subs = ", ".join(
        s.name
        + (f" {s.strength.value:g} {s.strength.unit}" if s.strength else "")
        + (f" [{s.atc}]" if s.atc else "")
        for s in m.substances
    )
    pos = ""
    if m.posology and m.posology.daily_dose:
        pos = f" — {m.posology.daily_dose.value:g} {m.posology.daily_dose.unit}/j"
    return f"  {m.index + 1}. {m.line}\n     → {subs or '?'} ({_STATUS_FR[m.status.value]}){pos}"


def render_reading(reading: Reading) -> str:
    """What the OCR read: pages, then each drug line with its confidence and why to check it."""
    out = ["Lecture de l'ordonnance", "=" * 23]
    for page in reading.pages:
        turned = f", tournée de {page.rotation}°" if page.rotation else ""
        out.append(
            f"Page {page.number} ({page.source}{turned}) : confiance OCR {page.confidence:.0f}/100"
            + (f" ; {', '.join(page.steps)}" if page.steps else "")
        )
    flagged = [line for line in reading.lines if line.needs_check]
    out.append(f"Lignes lues : {len(reading.lines)}, à vérifier : {len(flagged)}")
    for line in reading.lines:
        mark = "À VÉRIFIER" if line.needs_check else "ok"
        where = f"p.{line.page}" + (f" {list(line.box)}" if line.box else "")
        out.append(f"  {line.index + 1:>2}. [{mark}] {line.text}  ({line.confidence:.2f}, {where})")
        out += [f"        - {reason}" for reason in line.reasons]
    return "\n".join(out) + "\n"
