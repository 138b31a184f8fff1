"""Geriatric criteria (inappropriate drugs, renal and dose limits, omissions) from rules/ packs.

Each criterion is evaluated on the lines its drug selector matches (or once, for
condition-triggered omissions). Every part of its `when` is True, False or
unknown. A criterion with a False part is silent. One whose parts are all True
is a finding. One with unknown parts is reported, never dropped: as a finding
"to verify" when what is missing is the clearance, the dose or the posology (the
pharmacist must act on those), or in the analysis' `unevaluated` list when what
is missing is a diagnosis, a duration or a lab value the request did not carry.
Findings of several sources about the same line and category are merged into one,
naming every criterion that fired.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from pharma_service.engine.context import AnalysisContext, Occurrence
from pharma_service.engine.criteria_index import CompiledCriterion, CriteriaIndex, line_codes
from pharma_service.engine.schemas import CriterionWhen, DoseLimit, DrugSelector
from pharma_service.models import (
    Category,
    DrugRef,
    Finding,
    LineStatus,
    MedicationLine,
    Severity,
    Source,
    Unevaluated,
)

# Missing data of these kinds make a "to verify" finding; the others go to `unevaluated`.
_ACTIONABLE_MISSING = {"clairance de la créatinine", "posologie (dose journalière)", "posologie"}
_SEVERITY_ORDER = [s.value for s in Severity]


def selector_matches(selector: DrugSelector, line: MedicationLine) -> list[Occurrence]:
    """The occurrences of the line the selector designates; empty when it does not match."""
    if line.status == LineStatus.UNRESOLVED or line.route == "topical":
        return []
    codes = line_codes(line)
    if any(code.startswith(x) for code in codes for x in selector.exclude_atc):
        return []
    hits = [
        Occurrence(line, s)
        for s in line.substances
        if s.key not in selector.exclude_substances
        and (s.key in selector.substances or (s.atc and any(s.atc.startswith(p) for p in selector.atc)))
    ]
    if not hits and line.atc and any(line.atc.startswith(p) for p in selector.atc):
        hits = [Occurrence(line, s) for s in line.substances if s.key not in selector.exclude_substances]
    return hits


@dataclass
class _Verdict:
    fired: bool
    missing: list[str]


def _evaluate_when(
    when: CriterionWhen, ctx: AnalysisContext, hits: list[Occurrence], all_hits: list[list[Occurrence]]
) -> _Verdict:
    missing: list[str] = []
    checks: list[bool | None] = []

    def record(result: bool | None, what: str) -> None:
        checks.append(result)
        if result is None:
            missing.append(what)

    patient = ctx.patient
    if when.min_age is not None:
        record(patient.age_years >= when.min_age, "âge")
    if when.conditions_any:
        has = ctx.has_condition(when.conditions_any)
        record(
            True if has else (False if patient.conditions else None),
            "diagnostic (" + ", ".join(when.conditions_any) + ")",
        )
    if when.conditions_none:
        has = ctx.has_condition(when.conditions_none)
        record(
            False if has else (True if patient.conditions else None),
            "absence de diagnostic (" + ", ".join(when.conditions_none) + ")",
        )
    crcl = ctx.renal.crcl_ml_min
    if when.crcl_below is not None:
        record(None if crcl is None else crcl < when.crcl_below, "clairance de la créatinine")
    if when.crcl_at_least is not None:
        record(None if crcl is None else crcl >= when.crcl_at_least, "clairance de la créatinine")
    if when.daily_dose_above is not None or when.daily_dose_at_least is not None:
        record(_dose_check(when, ctx, hits), "posologie (dose journalière)")
    if when.duration_days_above is not None:
        durations = [o.line.posology.duration_days for o in hits if o.line.posology]
        known = [d for d in durations if d is not None]
        record(any(d > when.duration_days_above for d in known) if known else None, "durée de traitement")
    if when.regular_use is not None:
        posologies = [o.line.posology for o in hits]
        if any(p is None or (p.intakes_per_day is None and not p.as_needed) for p in posologies):
            record(None, "posologie")
        else:
            regular = any(p is not None and not p.as_needed for p in posologies)
            record(regular == when.regular_use, "posologie")
    if when.with_any is not None:
        selector = when.with_any
        own = {o.line.index for o in hits}
        record(
            any(selector_matches(selector, ln) for ln in ctx.lines if ln.index not in own), "co-prescription"
        )
    if when.without_any is not None:
        selector = when.without_any
        record(not any(selector_matches(selector, ln) for ln in ctx.lines), "traitement associé")
    if when.min_count is not None:
        record(len(all_hits) >= when.min_count, "nombre de médicaments")
    for lab, rng in when.labs.items():
        value = getattr(patient.labs, lab, None)
        record(None if value is None else rng.contains(value), f"biologie ({lab})")
    if any(c is False for c in checks):
        return _Verdict(False, [])
    return _Verdict(True, missing)


def _limit_mg(limit: DoseLimit) -> float | None:
    return {"mg": limit.value, "µg": limit.value / 1000}.get(limit.unit)


def _dose_check(when: CriterionWhen, ctx: AnalysisContext, hits: list[Occurrence]) -> bool | None:
    results: list[bool | None] = []
    for occ in hits:
        daily = ctx.doses(occ).daily_mg
        parts: list[bool | None] = []
        for limit, strict in ((when.daily_dose_above, True), (when.daily_dose_at_least, False)):
            if limit is None:
                continue
            threshold = _limit_mg(limit)
            if daily is None or threshold is None:
                parts.append(None)
            else:
                # A small tolerance so that 0.125 mg computed as 0.12500000001 is not "above".
                parts.append(daily > threshold * (1 + 1e-9) if strict else daily >= threshold * (1 - 1e-9))
        if any(p is False for p in parts):
            results.append(False)
        elif any(p is None for p in parts):
            results.append(None)
        else:
            results.append(True)
    if any(r is True for r in results):
        return True
    return None if any(r is None for r in results) or not results else False


@dataclass
class _Hit:
    item: CompiledCriterion
    drugs: list[Occurrence]
    missing: list[str]


def evaluate_criteria(ctx: AnalysisContext, index: CriteriaIndex) -> tuple[list[Finding], list[Unevaluated]]:
    hits: list[_Hit] = []
    for item in index.candidates(ctx.lines):
        crit = item.criterion
        if crit.drugs is None:
            verdict = _evaluate_when(crit.when, ctx, [], [])
            if verdict.fired:
                hits.append(_Hit(item, [], verdict.missing))
            continue
        per_line = [h for h in (selector_matches(crit.drugs, ln) for ln in ctx.lines) if h]
        if not per_line:
            continue
        # A count criterion ("two or more ...") fires once over all its lines.
        groups = [[o for h in per_line for o in h]] if crit.when.min_count is not None else per_line
        for group in groups:
            verdict = _evaluate_when(crit.when, ctx, group, per_line)
            if verdict.fired:
                hits.append(_Hit(item, group, verdict.missing))

    findings: list[Finding] = []
    unevaluated: list[Unevaluated] = []
    merged: dict[tuple[str, tuple[int | str, ...]], list[_Hit]] = defaultdict(list)
    for hit in hits:
        if hit.missing and not set(hit.missing) & _ACTIONABLE_MISSING:
            unevaluated.append(_unevaluated(hit))
            continue
        crit = hit.item.criterion
        # Same category and same lines: one finding naming every source. Omissions stay apart.
        anchor: tuple[int | str, ...] = (
            tuple(sorted({o.line.index for o in hit.drugs})) if crit.drugs else (crit.id,)
        )
        merged[(crit.category, anchor)].append(hit)
    findings.extend(_finding(group) for group in merged.values())
    return findings, _collapse_untriggered(unevaluated)


def _collapse_untriggered(items: list[Unevaluated]) -> list[Unevaluated]:
    """Condition-triggered criteria (no drug) that wait only for a diagnosis: one entry per source.

    Without diagnoses every omission criterion would be listed; one line saying how
    many could not be evaluated, and why, keeps the list readable.
    """
    kept: list[Unevaluated] = []
    waiting: dict[str, list[Unevaluated]] = {}
    for item in items:
        if not item.drugs and all(m.startswith("diagnostic") for m in item.missing_data):
            waiting.setdefault(item.source.label, []).append(item)
        else:
            kept.append(item)
    for label, group in waiting.items():
        if len(group) == 1:
            kept.append(group[0])
            continue
        kept.append(
            Unevaluated(
                rule=group[0].rule.split(":")[0] + ":*",
                category=group[0].category,
                drugs=[],
                summary=f"{len(group)} critères d'omission non évaluables sans les diagnostics du patient",
                missing_data=["diagnostics (codes CIM-10)"],
                source=Source(
                    label=label,
                    version=group[0].source.version,
                    reference=", ".join(i.rule for i in group),
                ),
            )
        )
    return kept


def _sev_rank(value: str) -> int:
    return _SEVERITY_ORDER.index(value)


def _finding(group: list[_Hit]) -> Finding:
    group.sort(key=lambda h: (bool(h.missing), _sev_rank(h.item.criterion.severity), h.item.criterion.id))
    lead = group[0]
    crit = lead.item.criterion
    drugs: dict[tuple[int | None, str], DrugRef] = {}
    for hit in group:
        for occ in hit.drugs:
            drugs.setdefault((occ.line.index, occ.key), occ.drug_ref())
    missing = sorted({m for h in group for m in h.missing})
    confirmed = [h for h in group if not h.missing]
    sources = list(dict.fromkeys(h.item.source.label for h in group))
    detail_parts = []
    for hit in group:
        c = hit.item.criterion
        text = c.rationale_fr or c.summary_fr
        detail_parts.append(f"[{c.id}] {text}")
    alternatives = list(
        dict.fromkeys(h.item.criterion.alternatives_fr for h in group if h.item.criterion.alternatives_fr)
    )
    adjusted = list(
        dict.fromkeys(h.item.criterion.adjusted_dose_fr for h in group if h.item.criterion.adjusted_dose_fr)
    )
    recommendation = " ".join(
        dict.fromkeys(h.item.criterion.recommendation_fr for h in group if h.item.criterion.recommendation_fr)
    )
    if adjusted:
        recommendation = (recommendation + " Dose adaptée : " + " ; ".join(adjusted)).strip()
    if alternatives:
        recommendation = (recommendation + " Alternatives : " + " ; ".join(alternatives)).strip()
    line_ids = sorted({o.line.index for h in group for o in h.drugs})
    return Finding(
        id=f"{crit.category}|{'+'.join(map(str, line_ids)) or crit.id}|{crit.id}",
        category=Category(crit.category),
        severity=Severity(min((h.item.criterion.severity for h in group), key=_sev_rank)),
        drugs=list(drugs.values()),
        summary=crit.summary_fr,
        detail=" ".join(detail_parts),
        recommendation=recommendation,
        rule=crit.id,
        related_rules=[h.item.criterion.id for h in group[1:]],
        source=Source(
            label=" ; ".join(sources),
            version=" ; ".join(dict.fromkeys(h.item.source.version for h in group)),
            reference=" ; ".join(f"{h.item.criterion.id}: {h.item.criterion.reference}" for h in group),
        ),
        status="confirmed" if confirmed else "to_verify",
        missing_data=missing,
        codes={
            "actions": sorted({h.item.criterion.action for h in group}),
            "criteria": [
                {
                    "id": h.item.criterion.id,
                    "source": h.item.source.id,
                    "reference": h.item.criterion.reference,
                    "status": "to_verify" if h.missing else "confirmed",
                }
                for h in group
            ],
        },
    )


def _distinct(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(t for t in texts if t))


def _unevaluated(hit: _Hit) -> Unevaluated:
    crit = hit.item.criterion
    return Unevaluated(
        rule=crit.id,
        category=Category(crit.category),
        drugs=[o.drug_ref() for o in hit.drugs],
        summary=crit.summary_fr,
        missing_data=hit.missing,
        source=Source(label=hit.item.source.label, version=hit.item.source.version, reference=crit.reference),
    )
