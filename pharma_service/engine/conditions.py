"""Conditions of conditional rules, compiled once at load into tests: True, False, or None (data missing)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pharma_service.engine.context import AnalysisContext, Doses, Occurrence, has_code, icd10_prefixes
from pharma_service.engine.schemas import (
    AgeCondition,
    AllCondition,
    AnyCondition,
    ConditionSpec,
    DiagnosisCondition,
    DoseCondition,
    ManualCondition,
)

# ``involved`` are the occurrences the rule fired on; dose conditions read them first.
ConditionTest = Callable[[AnalysisContext, Sequence[Occurrence]], "bool | None"]


def compile_condition(spec: ConditionSpec) -> ConditionTest:
    if isinstance(spec, ManualCondition):
        return _unknown
    if isinstance(spec, AgeCondition):
        return _age_test(spec)
    if isinstance(spec, DiagnosisCondition):
        return _diagnosis_test(spec)
    if isinstance(spec, DoseCondition):
        return _dose_test(spec)
    if isinstance(spec, AllCondition):
        return _all_test(tuple(compile_condition(s) for s in spec.of))
    if isinstance(spec, AnyCondition):
        return _any_test(tuple(compile_condition(s) for s in spec.of))
    raise TypeError(f"unknown condition kind: {spec!r}")


def _unknown(ctx: AnalysisContext, involved: Sequence[Occurrence]) -> bool | None:
    return None


def _age_test(spec: AgeCondition) -> ConditionTest:
    low, high = spec.min, spec.max

    def test(ctx: AnalysisContext, involved: Sequence[Occurrence]) -> bool | None:
        age = ctx.age
        return (low is None or age >= low) and (high is None or age < high)

    return test


def _diagnosis_test(spec: DiagnosisCondition) -> ConditionTest:
    prefixes, present = icd10_prefixes(spec.icd10_prefixes), spec.present

    def test(ctx: AnalysisContext, involved: Sequence[Occurrence]) -> bool | None:
        codes = ctx.condition_codes
        if has_code(codes, prefixes):
            return present
        # An absent code is not proof of absence: "no ulcer history" stays unknown
        # unless the request lists conditions at all.
        return (not present) if codes else None

    return test


def _all_test(parts: tuple[ConditionTest, ...]) -> ConditionTest:
    def test(ctx: AnalysisContext, involved: Sequence[Occurrence]) -> bool | None:
        unknown = False
        for part in parts:
            result = part(ctx, involved)
            if result is False:
                return False
            unknown = unknown or result is None
        return None if unknown else True

    return test


def _any_test(parts: tuple[ConditionTest, ...]) -> ConditionTest:
    def test(ctx: AnalysisContext, involved: Sequence[Occurrence]) -> bool | None:
        unknown = False
        for part in parts:
            result = part(ctx, involved)
            if result is True:
                return True
            unknown = unknown or result is None
        return None if unknown else False

    return test


def _dose_test(spec: DoseCondition) -> ConditionTest:
    substance = spec.substance
    # (which dose, lower bound inclusive, upper bound exclusive): plain values, read on every call.
    bounds = tuple(
        (read, rng.min, rng.max)
        for read, rng in (
            (_per_intake, spec.per_intake_mg),
            (_daily, spec.daily_mg),
            (_weekly, spec.weekly_mg),
        )
        if rng is not None
    )

    def test(ctx: AnalysisContext, involved: Sequence[Occurrence]) -> bool | None:
        occurrences = [o for o in involved if o.key == substance] or [
            o for o in ctx.occurrences if o.key == substance
        ]
        if not occurrences:
            # The list is the whole treatment: a substance it does not hold is not taken.
            return False
        unknown = False
        for occ in occurrences:
            doses = ctx.doses(occ)
            verdict: bool | None = True
            for read, low, high in bounds:
                value = read(doses)
                if value is None:
                    verdict = None
                    break
                if (low is not None and value < low) or (high is not None and value >= high):
                    verdict = False
            if verdict:
                return True
            unknown = unknown or verdict is None
        return None if unknown else False

    return test


def _per_intake(doses: Doses) -> float | None:
    return doses.per_intake_mg


def _daily(doses: Doses) -> float | None:
    return doses.daily_mg


def _weekly(doses: Doses) -> float | None:
    return doses.weekly_mg
