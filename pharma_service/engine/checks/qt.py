"""QT prolongation: drugs at risk of torsades, the patient's risk factors, the Tisdale score.

A finding when two QT-prolonging drugs are combined, or one with a clinical risk
factor (hypokalaemia, long QTc, bradycardia, a bradycardia- or
hypokalaemia-inducing drug, heart failure, recent myocardial infarction). Age and
sex are listed as factors but alone do not raise a finding: they would flag every
older woman on one such drug. The Tisdale score is computed when the data allow;
otherwise the factors present and the data missing are reported.
"""

from __future__ import annotations

from typing import Any

from pharma_service.engine.context import AnalysisContext, Occurrence
from pharma_service.engine.drafts import FindingDraft
from pharma_service.models import Category, Severity, Source

# Categories counted as QT-prolonging (CredibleMeds "conditional" needs another factor).
QT_CATEGORIES = {"known", "ansm_torsadogenic", "possible"}
_CLINICAL_FACTORS = {
    "potassium_3_5_or_less",
    "qtc_450_or_more",
    "acute_myocardial_infarction",
    "heart_failure",
    "sepsis",
    "loop_diuretic",
    "bradycardia",
    "bradycardia_drug",
    "hypokalaemia_drug",
}
_DRUG_FACTORS = (("bradycardia", "Médicament bradycardisant"), ("hypokalaemia", "Médicament hypokaliémiant"))
_SOURCE = "ANSM (substances susceptibles de donner des torsades de pointes) ; CredibleMeds ; Tisdale 2013"


def qt_assessment(ctx: AnalysisContext) -> tuple[dict[str, Any], list[FindingDraft]]:
    qt = ctx.kb.qt
    risk = qt.risk
    qt_occ = _distinct(
        o for o in ctx.occurrences if not QT_CATEGORIES.isdisjoint(qt.categories.get(o.key, ()))
    )
    conditional = _distinct(o for o in ctx.occurrences if "conditional" in qt.categories.get(o.key, ()))

    present: list[dict[str, Any]] = []
    missing: list[str] = []
    score = 0
    for factor in qt.factors:
        verdict = factor.test(ctx, len(qt_occ))
        if verdict is None:
            missing.append(factor.label_fr)
        elif verdict:
            score += factor.points
            present.append({"id": factor.id, "label": factor.label_fr, "points": factor.points})
    for group, label in _DRUG_FACTORS:
        drugs = _class_drugs(ctx, group)
        if drugs:
            present.append({"id": f"{group}_drug", "label": label, "drugs": [o.name for o in drugs]})
    heart_rate = ctx.patient.labs.heart_rate_bpm
    if heart_rate is not None and heart_rate < 60:
        present.append({"id": "bradycardia", "label": f"Bradycardie ({heart_rate:g}/min)"})

    band = None
    if not missing:
        band = next((b.id for b in risk.tisdale.bands if b.min <= score <= b.max), None)
    tisdale = {
        "score": score if not missing else None,
        "score_known_factors": score,
        "band": band,
        "missing_data": missing,
    }
    scores = {
        "qt_drugs": [
            {"name": o.name, "line": o.line_index, "categories": list(qt.categories[o.key])}
            for o in [*qt_occ, *conditional]
        ],
        "risk_factors": present,
        "tisdale": tisdale,
    }

    clinical = [f for f in present if f["id"] in _CLINICAL_FACTORS]
    findings: list[FindingDraft] = []
    if len(qt_occ) >= 2 or (qt_occ and clinical) or (conditional and qt_occ):
        drugs = [*qt_occ, *conditional]
        names = ", ".join(o.name for o in drugs)
        factors = "; ".join(f["label"] for f in present) or "aucun facteur renseigné"
        two = len(qt_occ) >= 2
        summary = (
            f"Risque d'allongement du QT : {len(qt_occ)} médicaments torsadogènes ({names})"
            if two
            else f"Risque d'allongement du QT : {names} avec facteur(s) de risque"
        )
        findings.append(
            FindingDraft(
                id="qt:" + ("combination" if two else "risk_factors"),
                category=Category.QT,
                severity=Severity.HIGH if two and clinical else Severity.MODERATE,
                drugs=[o.ref for o in drugs],
                summary=summary[:140],
                detail=f"Facteurs de risque présents : {factors}."
                + (f" Score de Tisdale : {score} ({band})." if band else "")
                + (
                    f" Données manquantes pour le score de Tisdale : {', '.join(missing)}." if missing else ""
                ),
                recommendation="ECG avec mesure du QTc ; contrôler kaliémie et magnésémie ; "
                "limiter le nombre de médicaments allongeant le QT.",
                rule="qt:" + ("combination" if two else "risk_factors"),
                source=Source(label=_SOURCE, version=risk.tisdale.id, reference=risk.tisdale.citation),
                missing_data=missing,
                codes={"tisdale": tisdale, "factors": [f["id"] for f in present]},
            )
        )
    return scores, findings


def _distinct(occurrences: Any) -> list[Occurrence]:
    seen: dict[str, Occurrence] = {}
    for occ in occurrences:
        seen.setdefault(occ.key, occ)
    return list(seen.values())


def _class_drugs(ctx: AnalysisContext, group: str) -> list[Occurrence]:
    keys = ctx.kb.qt.class_drugs.get(group, frozenset())
    return _distinct(o for o in ctx.occurrences if o.key in keys)
