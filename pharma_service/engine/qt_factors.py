"""The Tisdale risk factors of rules/qt, compiled at load into tests: True, False, or None (data missing)."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pharma_service.engine.schemas import FactorEval, TisdaleScore

if TYPE_CHECKING:
    from pharma_service.engine.context import AnalysisContext

# A test reads the context and the number of QT-prolonging drugs on the list.
FactorTest = Callable[["AnalysisContext", int], "bool | None"]

_ORDERINGS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}


@dataclass(frozen=True, slots=True)
class CompiledFactor:
    id: str
    points: int
    label_fr: str
    test: FactorTest


def compile_factors(score: TisdaleScore) -> tuple[CompiledFactor, ...]:
    return tuple(
        CompiledFactor(f.id, f.points, f.label_fr, compile_factor(f.evaluate)) for f in score.factors
    )


def compile_factor(spec: FactorEval) -> FactorTest:
    min_count = spec.min_count or 1
    if spec.kind == "patient":
        return _patient_test(spec.field or "", spec.op, spec.value)
    if spec.kind == "lab":
        return _lab_test(spec.field or "", spec.op, spec.value)
    if spec.kind == "diagnosis":
        return _diagnosis_test(spec.icd10_prefixes)
    if spec.kind == "drugs":
        return _drugs_test(tuple(spec.atc_prefixes), min_count)
    return lambda ctx, qt_count: qt_count >= min_count


def _patient_test(name: str, op: str | None, expected: Any) -> FactorTest:
    def test(ctx: AnalysisContext, qt_count: int) -> bool | None:
        value = ctx.age if name == "age" else getattr(ctx.patient, name, None)
        return None if value is None else _compare(value, op, expected)

    return test


def _lab_test(name: str, op: str | None, expected: Any) -> FactorTest:
    def test(ctx: AnalysisContext, qt_count: int) -> bool | None:
        value = getattr(ctx.patient.labs, name, None)
        return None if value is None else _compare(value, op, expected)

    return test


def _diagnosis_test(prefixes: list[str]) -> FactorTest:
    def test(ctx: AnalysisContext, qt_count: int) -> bool | None:
        if not ctx.condition_codes:
            return None
        return ctx.has_condition(prefixes)

    return test


def _drugs_test(prefixes: tuple[str, ...], min_count: int) -> FactorTest:
    def test(ctx: AnalysisContext, qt_count: int) -> bool | None:
        count = 0
        for line in ctx.lines:
            if any(s.atc and s.atc.startswith(prefixes) for s in line.substances):
                count += 1
        return count >= min_count

    return test


def _compare(value: Any, op: str | None, expected: Any) -> bool:
    if op == "==":
        return bool(value == expected)
    return _ORDERINGS[op or ">="](float(value), float(expected))
