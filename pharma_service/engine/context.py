"""What every check reads: the patient, the normalised lines, and derived facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from pharma_service.engine.line_views import Lines, line_views
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


class Occurrence:
    """One substance on one medication line, compared by identity.

    A plain slotted class, read-only by convention: analyses build one per substance,
    and a frozen dataclass costs several times more to construct.
    """

    __slots__ = ("atc", "key", "line", "line_index", "name", "ref", "substance")

    def __init__(self, line: MedicationLine, substance: SubstanceRef) -> None:
        self.line = line
        self.substance = substance
        # Held directly: read in every loop, and reading attributes of pydantic models is slower.
        self.key = substance.key
        self.name = substance.name
        self.atc = substance.atc
        self.line_index = line.index
        # The drug as findings name it: every finding on this occurrence shares it.
        self.ref = drug_ref(self.name, self.atc, self.line_index)


@lru_cache(maxsize=8192)
def drug_ref(name: str, atc: str | None, line: int) -> DrugRef:
    """An immutable value, shared by the analyses that name this drug on this line."""
    return DrugRef(name=name, atc=atc, line=line)


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
    # (line, substance) -> doses, computed once: a line listing one substance several times
    # (a starter pack of several strengths) gives one answer.
    _doses: dict[tuple[int, str], Doses] = field(default_factory=dict)

    @cached_property
    def renal(self) -> RenalFunction:
        return renal_function(self.patient)

    @cached_property
    def age(self) -> int:
        return self.patient.age_years

    @cached_property
    def systemic_lines(self) -> list[tuple[MedicationLine, tuple[Occurrence, ...]]]:
        """The systemic lines the service understood (ambiguous ones included), with their substances."""
        return [
            (line, tuple(Occurrence(line, subst) for subst in line.substances))
            for line in self.lines
            if line.status != LineStatus.UNRESOLVED and line.route != "topical"
        ]

    @cached_property
    def occurrences(self) -> list[Occurrence]:
        return [occ for _, occs in self.systemic_lines for occ in occs]

    @cached_property
    def views(self) -> Lines:
        """The systemic lines with their ATC codes and prefixes, as drug classes and selectors read them."""
        return line_views(self.systemic_lines)

    def doses(self, occ: Occurrence) -> Doses:
        doses = self._doses.get((occ.line_index, occ.key))
        if doses is None:
            doses = self._doses[(occ.line_index, occ.key)] = _doses_of(occ)
        return doses

    @cached_property
    def condition_codes(self) -> tuple[str, ...]:
        """The patient's ICD-10 codes without dots; empty when the request lists none."""
        return tuple(c.replace(".", "") for c in self.patient.conditions)

    def has_condition(self, prefixes: list[str]) -> bool:
        return has_code(self.condition_codes, icd10_prefixes(prefixes))


def icd10_prefixes(prefixes: list[str]) -> tuple[str, ...]:
    """ICD-10 prefixes as compared with the patient's codes (dots removed)."""
    return tuple(p.replace(".", "") for p in prefixes)


def has_code(codes: tuple[str, ...], prefixes: tuple[str, ...]) -> bool:
    return any(code.startswith(prefixes) for code in codes)


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
    per_day = None  # the daily total in mg, from the units a day ("2 sachets par jour", "1-0-2")
    if posology.units_per_day is not None:
        per_day = _intake_mg(posology.units_per_day, posology.unit, occ.substance.strength, single=single)
    daily = None
    if per_intake is not None and posology.as_needed and posology.max_units_per_day is not None:
        # As needed: the ceiling is the daily dose the patient may reach.
        daily = per_intake / posology.units_per_intake * posology.max_units_per_day  # type: ignore[operator]
    elif per_intake is not None and posology.intakes_per_day is not None:
        # Regular, or as needed up to a written number of intakes a day (the maximum).
        daily = per_intake * posology.intakes_per_day
    elif per_day is not None:
        # The daily total is known, not one intake; read per substance, so that it holds
        # for a combination too.
        daily = per_day
    elif single and posology.daily_dose is not None and posology.daily_dose.unit in _MASS_TO_MG:
        # The same, through the parser's daily dose (units the substance strength cannot
        # convert, e.g. spoons of a mg/ml solution).
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
