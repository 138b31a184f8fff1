"""Evaluate the condition of a conditional rule: True, False, or None when the data are missing."""

from __future__ import annotations

from collections.abc import Sequence

from pharma_service.engine.context import AnalysisContext, Occurrence
from pharma_service.engine.schemas import (
    AgeCondition,
    AllCondition,
    AnyCondition,
    ConditionSpec,
    DiagnosisCondition,
    DoseCondition,
    ManualCondition,
)


def evaluate(spec: ConditionSpec, ctx: AnalysisContext, involved: Sequence[Occurrence]) -> bool | None:
    """``involved`` are the occurrences the rule fired on; dose conditions read them first."""
    if isinstance(spec, ManualCondition):
        return None
    if isinstance(spec, AgeCondition):
        age = ctx.patient.age_years
        return (spec.min is None or age >= spec.min) and (spec.max is None or age < spec.max)
    if isinstance(spec, DiagnosisCondition):
        # An absent code is not proof of absence: "no ulcer history" stays unknown
        # unless the request lists conditions at all.
        present = ctx.has_condition(spec.icd10_prefixes)
        if present:
            return spec.present
        return (not spec.present) if ctx.patient.conditions else None
    if isinstance(spec, DoseCondition):
        return _dose(spec, ctx, involved)
    if isinstance(spec, AllCondition):
        results = [evaluate(s, ctx, involved) for s in spec.of]
        if any(r is False for r in results):
            return False
        return None if any(r is None for r in results) else True
    if isinstance(spec, AnyCondition):
        results = [evaluate(s, ctx, involved) for s in spec.of]
        if any(r is True for r in results):
            return True
        return None if any(r is None for r in results) else False
    raise TypeError(f"unknown condition kind: {spec!r}")


def _dose(spec: DoseCondition, ctx: AnalysisContext, involved: Sequence[Occurrence]) -> bool | None:
    occurrences = [o for o in involved if o.key == spec.substance] or [
        o for o in ctx.occurrences if o.key == spec.substance
    ]
    if not occurrences:
        # The list is the whole treatment: a substance it does not hold is not taken.
        return False
    verdicts: list[bool | None] = []
    for occ in occurrences:
        doses = ctx.doses(occ)
        checks = [
            (spec.per_intake_mg, doses.per_intake_mg),
            (spec.daily_mg, doses.daily_mg),
            (spec.weekly_mg, doses.weekly_mg),
        ]
        wanted = [(rng, value) for rng, value in checks if rng is not None]
        if any(value is None for _, value in wanted):
            verdicts.append(None)
            continue
        verdicts.append(all(rng.contains(value) for rng, value in wanted if value is not None))
    if any(v is True for v in verdicts):
        return True
    return None if any(v is None for v in verdicts) else False
