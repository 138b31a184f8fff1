"""The `when` of a geriatric criterion, compiled once at load into parts: tests with what they need.

Each part answers True, False or None (the request does not tell) and carries the
label of the data it needs, which the analysis reports when the answer is None.
Parts keep the order of the schema, so missing data are always listed in one order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pharma_service.engine.context import AnalysisContext, Occurrence, has_code, icd10_prefixes
from pharma_service.engine.line_views import CompiledSelector, Lines
from pharma_service.engine.schemas import CriterionWhen, DoseLimit, Range
from pharma_service.models import Labs

DOSE_LABEL = "posologie (dose journalière)"


@dataclass(frozen=True, slots=True)
class Scope:
    """What the parts read, gathered once per analysis."""

    ctx: AnalysisContext
    lines: Lines
    age: int
    crcl: float | None
    labs: Labs
    condition_codes: tuple[str, ...]  # empty when the request lists no condition


PatientTest = Callable[[Scope], "bool | None"]
# A line test also reads the occurrences the criterion fired on.
LineTest = Callable[[Scope, list[Occurrence]], "bool | None"]


@dataclass(frozen=True, slots=True)
class CompiledWhen:
    """A criterion's conditions in two phases: on the patient and the whole list, then per line.

    A criterion is silent as soon as one part is false; otherwise its missing data are
    the labels of the parts that are unknown. Age, line count and what else is on the list
    are always known, so the labels of the two phases, end to end, keep the schema's order.
    """

    min_age: int
    min_count: int | None  # lines matching the drugs, counted together
    patient_parts: tuple[tuple[PatientTest, str], ...]
    line_parts: tuple[tuple[LineTest, str], ...]
    # When the request lists no condition every diagnosis part is unknown: the other patient
    # parts (their labels come first in the schema's order), then the diagnoses' labels.
    non_diagnosis_parts: tuple[tuple[PatientTest, str], ...]
    diagnosis_labels: tuple[str, ...]

    def patient_missing(self, scope: Scope) -> list[str] | None:
        """What the patient and list parts leave unknown, or None when one of them is false."""
        if scope.age < self.min_age:
            return None
        always_unknown: tuple[str, ...] = ()
        if scope.condition_codes:
            parts = self.patient_parts
        else:
            parts, always_unknown = self.non_diagnosis_parts, self.diagnosis_labels
        missing: list[str] = []
        for test, label in parts:
            result = test(scope)
            if result is False:
                return None
            if result is None:
                missing.append(label)
        missing.extend(always_unknown)
        return missing

    def line_missing(self, scope: Scope, hits: list[Occurrence]) -> list[str] | None:
        missing: list[str] = []
        for test, label in self.line_parts:
            result = test(scope, hits)
            if result is False:
                return None
            if result is None:
                missing.append(label)
        return missing


def compile_when(
    when: CriterionWhen, with_any: CompiledSelector | None, without_any: CompiledSelector | None
) -> CompiledWhen:
    patient: list[tuple[PatientTest, str]] = []
    diagnoses: list[tuple[PatientTest, str]] = []
    if when.crcl_below is not None:
        patient.append((_crcl_below(when.crcl_below), "clairance de la créatinine"))
    if when.crcl_at_least is not None:
        patient.append((_crcl_at_least(when.crcl_at_least), "clairance de la créatinine"))
    for lab, rng in when.labs.items():
        patient.append((_lab(lab, rng), f"biologie ({lab})"))
    if when.conditions_any:
        label = "diagnostic (" + ", ".join(when.conditions_any) + ")"
        diagnoses.append((_diagnosis(when.conditions_any, True), label))
    if when.conditions_none:
        label = "absence de diagnostic (" + ", ".join(when.conditions_none) + ")"
        diagnoses.append((_diagnosis(when.conditions_none, False), label))
    # Always known: it never adds a label, wherever it is evaluated.
    listed: list[tuple[PatientTest, str]] = []
    if without_any is not None:
        listed.append((_without_any(without_any), "traitement associé"))
    line: list[tuple[LineTest, str]] = []
    if when.daily_dose_above is not None or when.daily_dose_at_least is not None:
        line.append((_daily_dose(when.daily_dose_above, when.daily_dose_at_least), DOSE_LABEL))
    if when.duration_days_above is not None:
        line.append((_duration_above(when.duration_days_above), "durée de traitement"))
    if when.regular_use is not None:
        line.append((_regular_use(when.regular_use), "posologie"))
    if with_any is not None:
        line.append((_with_any(with_any), "co-prescription"))
    return CompiledWhen(
        min_age=when.min_age or 0,
        min_count=when.min_count,
        patient_parts=(*patient, *diagnoses, *listed),
        line_parts=tuple(line),
        non_diagnosis_parts=(*patient, *listed),
        diagnosis_labels=tuple(label for _, label in diagnoses),
    )


def _crcl_below(limit: float) -> PatientTest:
    return lambda scope: None if scope.crcl is None else scope.crcl < limit


def _crcl_at_least(limit: float) -> PatientTest:
    return lambda scope: None if scope.crcl is None else scope.crcl >= limit


def _lab(name: str, rng: Range) -> PatientTest:
    def test(scope: Scope) -> bool | None:
        value = getattr(scope.labs, name, None)
        return None if value is None else rng.contains(value)

    return test


def _diagnosis(prefixes: list[str], wanted: bool) -> PatientTest:
    """`wanted`: one of the diagnoses must be present (True) or all absent (False)."""
    compiled = icd10_prefixes(prefixes)

    def test(scope: Scope) -> bool | None:
        codes = scope.condition_codes
        if not codes:
            return None  # an absent code is not proof of absence when no condition is listed
        return has_code(codes, compiled) == wanted

    return test


def _limit_mg(limit: DoseLimit) -> float | None:
    return {"mg": limit.value, "µg": limit.value / 1000}.get(limit.unit)


def _daily_dose(above: DoseLimit | None, at_least: DoseLimit | None) -> LineTest:
    # (threshold in mg or None when the unit is not a mass, strict comparison)
    limits = [
        (_limit_mg(limit), strict)
        for limit, strict in ((above, True), (at_least, False))
        if limit is not None
    ]

    def test(scope: Scope, hits: list[Occurrence]) -> bool | None:
        results: list[bool | None] = []
        for occ in hits:
            daily = scope.ctx.doses(occ).daily_mg
            parts: list[bool | None] = []
            for threshold, strict in limits:
                if daily is None or threshold is None:
                    parts.append(None)
                else:
                    # A small tolerance so that 0.125 mg computed as 0.12500000001 is not "above".
                    parts.append(
                        daily > threshold * (1 + 1e-9) if strict else daily >= threshold * (1 - 1e-9)
                    )
            if any(p is False for p in parts):
                results.append(False)
            elif any(p is None for p in parts):
                results.append(None)
            else:
                results.append(True)
        if any(r is True for r in results):
            return True
        return None if any(r is None for r in results) or not results else False

    return test


def _duration_above(days: float) -> LineTest:
    def test(scope: Scope, hits: list[Occurrence]) -> bool | None:
        durations = [o.line.posology.duration_days for o in hits if o.line.posology]
        known = [d for d in durations if d is not None]
        return any(d > days for d in known) if known else None

    return test


def _regular_use(wanted: bool) -> LineTest:
    def test(scope: Scope, hits: list[Occurrence]) -> bool | None:
        posologies = [o.line.posology for o in hits]
        if any(p is None or (p.intakes_per_day is None and not p.as_needed) for p in posologies):
            return None
        regular = any(p is not None and not p.as_needed for p in posologies)
        return regular == wanted

    return test


def _with_any(selector: CompiledSelector) -> LineTest:
    def test(scope: Scope, hits: list[Occurrence]) -> bool | None:
        return selector.on_the_list(scope.lines, except_lines={o.line_index for o in hits})

    return test


def _without_any(selector: CompiledSelector) -> PatientTest:
    return lambda scope: not selector.on_the_list(scope.lines)
