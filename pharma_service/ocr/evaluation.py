"""Score a reading of an ordonnance against its ground truth (datasets/ocr truth.jsonl).

Used by the OCR benchmark and the corpus tests, so that both count the same way:
- a drug line is right when a line read resolves to exactly the truth line's substances
  (each line read is matched once, in order);
- its posology is right when units per intake and intakes per day equal the truth's. A
  dose read in the strength's unit counts as those units when it is the truth's units
  times the truth line's strength: "Pantoprazole 40 mg, 1 fois par jour" is 40 mg per
  intake, one 40 mg tablet. The strict count (units only) is kept beside it;
- age, sex and weight (when printed) are compared with the truth's patient.
"""

from __future__ import annotations

from typing import Any

from pharma_service.errors import PharmaError
from pharma_service.inputs import medications_from_parsed, request_from_parsed
from pharma_service.models import Posology
from pharma_service.parsing.ordonnance_text import ParsedOrdonnance
from pharma_service.referential.normaliser import Normaliser


class ExactNamesNormaliser(Normaliser):
    """The OCR baseline's drug matching: exact names only, without the fuzzy step."""

    def _fuzzy_matches(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []  # (whatever the fuzzy step is given: the baseline has none)


def score(truth: dict[str, Any], parsed: ParsedOrdonnance, normaliser: Normaliser) -> dict[str, Any]:
    """Counts of what was read right in one document (see the module docstring)."""
    read = normaliser.normalise(medications_from_parsed(parsed)).lines
    used: set[int] = set()
    drugs = posologies = strict = 0
    for expected in truth["lines"]:
        want = sorted(expected["substances"])
        for i, line in enumerate(read):
            if i in used or sorted(s.key for s in line.substances) != want:
                continue
            used.add(i)
            drugs += 1
            pos = line.posology
            if pos is not None and _same(pos.intakes_per_day, expected["intakes_per_day"]):
                if _same(pos.units_per_intake, expected["units_per_intake"]):
                    strict += 1
                    posologies += 1
                elif _same_dose(pos, expected, normaliser):
                    posologies += 1
            break
    patient = truth["patient"]
    facts = dict(parsed.patient)
    try:
        age: int | None = request_from_parsed(parsed).patient.age_years
    except PharmaError:
        age = None
    weight_expected = patient.get("weight_kg")
    return {
        "lines": len(truth["lines"]),
        "drugs_right": drugs,
        "posologies_right": posologies,
        "posologies_right_strict": strict,
        "extra_lines": len(read) - len(used),
        "age_right": age == patient["age"],
        "sex_right": facts.get("sex") == patient["sex"],
        "weight_right": None if weight_expected is None else _same(facts.get("weight_kg"), weight_expected),
    }


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) < 1e-6


def _same_dose(read: Posology, expected: dict[str, Any], normaliser: Normaliser) -> bool:
    """A dose read in mass units (or UI) equal to the truth's units times its one strength."""
    units = expected["units_per_intake"]
    if read.units_per_intake is None or read.unit is None or units is None:
        return False
    truth_line = normaliser.normalise_text(expected["printed"])
    strengths = [s.strength for s in truth_line.substances]
    if len(strengths) != 1 or strengths[0] is None or strengths[0].unit != read.unit:
        return False
    return _same(read.units_per_intake, units * strengths[0].value)
