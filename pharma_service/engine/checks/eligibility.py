"""Programme eligibility (Iatroprev, Optimedoc, bilan partagé de médication), with the reasons.

Each criterion is met, not met, or unknown (the request cannot tell, e.g. how
long each drug has been taken). A programme is eligible when all are met, not
eligible when one is not met, and "to verify" otherwise, naming what is missing.
"""

from __future__ import annotations

from typing import Any

from pharma_service.engine.context import AnalysisContext
from pharma_service.engine.schemas import EligibilityCriterion
from pharma_service.models import LineStatus


def eligibility(ctx: AnalysisContext) -> dict[str, Any]:
    substances = {o.key for o in ctx.occurrences}
    unresolved = sum(1 for line in ctx.lines if line.status == LineStatus.UNRESOLVED)
    facts = {
        "age": ctx.patient.age_years,
        # A line the service did not read is still a drug: it counts once.
        "distinct_molecules": len(substances) + unresolved,
        "unresolved_lines": unresolved,
    }
    out: dict[str, Any] = {"facts": facts, "programmes": {}}
    for programme in ctx.kb.programmes:
        if programme.status == "left_out":
            continue
        reasons: list[str] = []
        missing: list[str] = []
        verdict = _all(programme.criteria, ctx, facts, reasons, missing)
        out["programmes"][programme.id] = {
            "label": programme.label_fr,
            "eligible": verdict,
            "status": "eligible" if verdict else ("not_eligible" if verdict is False else "to_verify"),
            "reasons": reasons,
            "missing_data": missing,
            "criteria_status": programme.status,
            "source": programme.source,
        }
    return out


def _all(
    criteria: list[EligibilityCriterion],
    ctx: AnalysisContext,
    facts: dict[str, Any],
    reasons: list[str],
    missing: list[str],
) -> bool | None:
    results = [_one(c, ctx, facts, reasons, missing) for c in criteria]
    if any(r is False for r in results):
        return False
    return None if any(r is None for r in results) else True


def _one(
    crit: EligibilityCriterion,
    ctx: AnalysisContext,
    facts: dict[str, Any],
    reasons: list[str],
    missing: list[str],
) -> bool | None:
    kind = crit.kind
    if kind == "age_min":
        ok = int(facts["age"]) >= float(crit.value or 0)
        reasons.append(f"âge {facts['age']} ans {'≥' if ok else '<'} {crit.value:g}")
        return ok
    if kind == "distinct_molecules_min":
        count = int(facts["distinct_molecules"])
        ok = count >= float(crit.value or 0)
        reasons.append(f"{count} molécules distinctes {'≥' if ok else '<'} {crit.value:g}")
        return ok
    if kind == "treatment_duration_months_min":
        missing.append(f"durée des traitements (au moins {crit.value:g} mois)")
        return None
    if kind == "ald":
        if ctx.patient.ald is None:
            missing.append("affection de longue durée (ALD)")
            return None
        reasons.append("ALD" if ctx.patient.ald else "pas d'ALD")
        return ctx.patient.ald == bool(crit.value)
    if kind == "hospitalised":
        missing.append("hospitalisation")
        return None
    if kind == "all_of":
        return _all(crit.of, ctx, facts, reasons, missing)
    # any_of
    sub_reasons: list[str] = []
    sub_missing: list[str] = []
    results = [_one(c, ctx, facts, sub_reasons, sub_missing) for c in crit.of]
    reasons.extend(sub_reasons)
    if any(r is True for r in results):
        return True
    if any(r is None for r in results):
        missing.extend(sub_missing)
        return None
    return False
