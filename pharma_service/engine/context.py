"""What every check reads: the patient, the normalised lines, and derived facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from pharma_service.engine.renal import renal_function

if TYPE_CHECKING:
    from pharma_service.engine.kb import KnowledgeBase
from pharma_service.models import (
    DrugRef,
    LineStatus,
    MedicationLine,
    Patient,
    RenalFunction,
    Strength,
    SubstanceRef,
)

_COUNTABLE_UNITS = frozenset(
    {
        "comprimé",
        "gélule",
        "sachet",
        "capsule",
        "suppositoire",
        "ampoule",
        "dose",
        "patch",
        "stylo",
        "injection",
        "cuillère-mesure",
        "pulvérisation",
        "bouffée",
        "unidose",
    }
)
_MASS_TO_MG = {"mg": 1.0, "g": 1000.0, "µg": 0.001}


@dataclass(frozen=True, slots=True, eq=False)
class Occurrence:
    """One substance on one medication line (compared by identity: one per line and substance)."""

    line: MedicationLine
    substance: SubstanceRef
    key: str = ""  # the substance key, held directly: read in every pair loop

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", self.substance.key)

    def drug_ref(self) -> DrugRef:
        # Fields come from validated models: no need to validate them again on this hot path.
        return DrugRef.model_construct(name=self.substance.name, atc=self.substance.atc, line=self.line.index)


@dataclass(frozen=True, slots=True)
class Doses:
    per_intake_mg: float | None
    daily_mg: float | None
    weekly_mg: float | None


@dataclass
class AnalysisContext:
    patient: Patient
    lines: list[MedicationLine]
    kb: KnowledgeBase
    _doses: dict[tuple[int, str], Doses] = field(default_factory=dict)

    @cached_property
    def renal(self) -> RenalFunction:
        return renal_function(self.patient)

    @cached_property
    def occurrences(self) -> list[Occurrence]:
        """Substances of the systemic lines the service understood (ambiguous ones included)."""
        return [
            Occurrence(line, subst)
            for line in self.lines
            if line.status != LineStatus.UNRESOLVED and line.route != "topical"
            for subst in line.substances
        ]

    def doses(self, occ: Occurrence) -> Doses:
        cache_key = (occ.line.index, occ.key)
        if cache_key not in self._doses:
            self._doses[cache_key] = _doses_of(occ)
        return self._doses[cache_key]

    @cached_property
    def _condition_codes(self) -> tuple[str, ...]:
        return tuple(c.replace(".", "") for c in self.patient.conditions)

    def has_condition(self, prefixes: list[str]) -> bool:
        codes = self._condition_codes
        return bool(codes) and any(code.startswith(p.replace(".", "")) for code in codes for p in prefixes)


def _doses_of(occ: Occurrence) -> Doses:
    posology = occ.line.posology
    if posology is None:
        return Doses(None, None, None)
    single = len(occ.line.substances) == 1
    per_intake = None
    if posology.units_per_intake is not None:
        per_intake = _intake_mg(
            posology.units_per_intake, posology.unit, occ.substance.strength, single=single
        )
    daily = None
    if per_intake is not None and posology.as_needed and posology.max_units_per_day is not None:
        # As needed: the ceiling is the daily dose the patient may reach.
        daily = per_intake / posology.units_per_intake * posology.max_units_per_day  # type: ignore[operator]
    elif per_intake is not None and posology.intakes_per_day is not None:
        # Regular, or as needed up to a written number of intakes a day (the maximum).
        daily = per_intake * posology.intakes_per_day
    elif single and posology.daily_dose is not None and posology.daily_dose.unit in _MASS_TO_MG:
        # "2 cp par jour", "1-0-2": the parser knows the daily total but not one intake.
        daily = posology.daily_dose.value * _MASS_TO_MG[posology.daily_dose.unit]
    return Doses(per_intake, daily, None if daily is None else daily * 7)


def _intake_mg(units: float, unit: str | None, strength: Strength | None, *, single: bool) -> float | None:
    if unit in _MASS_TO_MG and single:
        return units * _MASS_TO_MG[unit]
    if strength is None or strength.unit not in _MASS_TO_MG:
        return None
    if unit is None or unit in _COUNTABLE_UNITS:
        return units * strength.value * _MASS_TO_MG[strength.unit]
    return None
