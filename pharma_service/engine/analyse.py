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
from pharma_service.engine.drafts import FindingDraft
from pharma_service.engine.kb import KnowledgeBase
from pharma_service.models import Analysis, Category, MedicationList, Patient, Severity

Check = Callable[[AnalysisContext], Iterable[FindingDraft]]
Scorer = Callable[[AnalysisContext], tuple[dict[str, Any], list[FindingDraft]]]

CHECKS: tuple[Check, ...] = (check_unresolved, check_interactions, check_duplications)
# Scorers fill `scores[name]` and may add findings (a high burden, a QT risk).
SCORERS: tuple[tuple[str, Scorer], ...] = (
    ("anticholinergic", anticholinergic_scores),
    ("qt", qt_assessment),
    ("vaccinations", vaccination_status),
)
_CATEGORY_ORDER = {
    category: rank
    for rank, category in enumerate(
        (
            Category.UNRESOLVED,
            Category.INTERACTION,
            Category.RENAL,
            Category.DOSE,
            Category.QT,
            Category.PIM,
            Category.ANTICHOLINERGIC,
            Category.DUPLICATION,
            Category.OMISSION,
            Category.VACCINATION,
        )
    )
}


_SEVERITY_RANK = {severity: severity.rank for severity in Severity}


def _report_order(finding: FindingDraft) -> tuple[int, int, str]:
    return (_SEVERITY_RANK[finding.severity], _CATEGORY_ORDER.get(finding.category, 99), finding.id)


def analyse(meds: MedicationList, patient: Patient, *, kb: KnowledgeBase) -> Analysis:
    ctx = AnalysisContext(patient=patient, lines=list(meds.lines), kb=kb)
    findings = apply_cyp(ctx, [finding for check in CHECKS for finding in check(ctx)])
    criteria_findings, unevaluated = evaluate_criteria(ctx, kb.criteria)
    findings += criteria_findings
    scores: dict[str, Any] = {}
    for name, scorer in SCORERS:
        scores[name], extra = scorer(ctx)
        findings += extra
    findings.sort(key=_report_order)
    patient_out = patient.model_dump(mode="json", exclude_none=True)
    patient_out["age_years"] = ctx.age
    patient_out["renal_function"] = ctx.renal.model_dump(mode="json", exclude_none=True)
    # The boundary: one validation builds every model, the findings read from their drafts' attributes.
    return Analysis.model_validate(
        {
            "patient": patient_out,
            "medications": meds.lines,
            "findings": findings,
            "unevaluated": unevaluated,
            "scores": scores,
            "eligibility": eligibility(ctx),
            "knowledge": kb.versions,
        },
        from_attributes=True,
    )
