"""The analysis: run every check over one patient's normalised medication list."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pharma_service.engine.checks.anticholinergic import anticholinergic_scores
from pharma_service.engine.checks.criteria import evaluate_criteria
from pharma_service.engine.checks.cyp import apply_cyp
from pharma_service.engine.checks.duplications import check_duplications
from pharma_service.engine.checks.eligibility import eligibility
from pharma_service.engine.checks.interactions import check_interactions
from pharma_service.engine.checks.qt import qt_assessment
from pharma_service.engine.checks.unresolved import check_unresolved
from pharma_service.engine.checks.vaccines import vaccination_status
from pharma_service.engine.context import AnalysisContext
from pharma_service.engine.kb import KnowledgeBase
from pharma_service.models import Analysis, Finding, MedicationList, Patient

Check = Callable[[AnalysisContext], Iterable[Finding]]
Scorer = Callable[[AnalysisContext], tuple[dict[str, Any], list[Finding]]]

CHECKS: tuple[Check, ...] = (check_unresolved, check_interactions, check_duplications)
# Scorers fill `scores[name]` and may add findings (a high burden, a QT risk).
SCORERS: tuple[tuple[str, Scorer], ...] = (
    ("anticholinergic", anticholinergic_scores),
    ("qt", qt_assessment),
    ("vaccinations", vaccination_status),
)
_CATEGORY_ORDER = {
    "unresolved": 0,
    "interaction": 1,
    "renal": 2,
    "dose": 3,
    "qt": 4,
    "pim": 5,
    "anticholinergic": 6,
    "duplication": 7,
    "omission": 8,
    "vaccination": 9,
}


def analyse(meds: MedicationList, patient: Patient, *, kb: KnowledgeBase) -> Analysis:
    ctx = AnalysisContext(patient=patient, lines=list(meds.lines), kb=kb)
    findings = apply_cyp(ctx, [finding for check in CHECKS for finding in check(ctx)])
    criteria_findings, unevaluated = evaluate_criteria(ctx, kb.criteria)
    findings += criteria_findings
    scores: dict[str, Any] = {}
    for name, scorer in SCORERS:
        scores[name], extra = scorer(ctx)
        findings += extra
    findings.sort(key=lambda f: (f.severity.rank, _CATEGORY_ORDER.get(f.category.value, 99), f.id))
    patient_out = patient.model_dump(mode="json", exclude_none=True)
    patient_out["age_years"] = patient.age_years
    patient_out["renal_function"] = ctx.renal.model_dump(mode="json", exclude_none=True)
    return Analysis(
        patient=patient_out,
        medications=list(meds.lines),
        findings=findings,
        unevaluated=unevaluated,
        scores=scores,
        eligibility=eligibility(ctx),
        knowledge=dict(kb.versions),
    )
