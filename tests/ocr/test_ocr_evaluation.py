"""The OCR scorer: what counts as a posology read right."""

from __future__ import annotations

from typing import Any

import pytest

from pharma_service.ocr.evaluation import score
from pharma_service.parsing.ordonnance_text import parse_ordonnance_text
from pharma_service.service import Engine


def _truth(printed: str, key: str, units: float, per_day: float) -> dict[str, Any]:
    return {
        "patient": {"age": 80, "sex": "F", "weight_kg": None},
        "lines": [
            {"printed": printed, "substances": [key], "units_per_intake": units, "intakes_per_day": per_day}
        ],
    }


def _score(engine: Engine, truth: dict[str, Any], read: str) -> dict[str, Any]:
    text = f"Mme DURAND Jeanne, 80 ans\n\n1) {read}\n"
    return score(truth, parse_ordonnance_text(text), engine.normaliser)


def test_units_read_as_written_are_right_in_both_counts(engine: Engine) -> None:
    result = _score(
        engine, _truth("Pantoprazole 40 mg", "pantoprazole", 1, 1), "Pantoprazole 40 mg 1 cp par jour"
    )
    assert (result["drugs_right"], result["posologies_right"], result["posologies_right_strict"]) == (1, 1, 1)


def test_the_strength_as_the_dose_is_right_when_it_is_the_same_amount(engine: Engine) -> None:
    # "40 mg once a day" is one 40 mg tablet: right, but not in the strict (units only) count
    result = _score(
        engine, _truth("Pantoprazole 40 mg", "pantoprazole", 1, 1), "Pantoprazole 40 mg 1 fois par jour"
    )
    assert (result["posologies_right"], result["posologies_right_strict"]) == (1, 0)


@pytest.mark.parametrize(
    ("printed", "key", "units", "read"),
    [
        # half a tablet written, the whole strength read: a different amount
        ("Cortancyl 5 mg", "prednisone", 0.5, "Cortancyl 5 mg le soir"),
        ("Pantoprazole 40 mg", "pantoprazole", 2, "Pantoprazole 40 mg 1 fois par jour"),
    ],
)
def test_the_strength_as_the_dose_is_wrong_when_the_amount_differs(
    engine: Engine, printed: str, key: str, units: float, read: str
) -> None:
    result = _score(engine, _truth(printed, key, units, 1), read)
    assert result["drugs_right"] == 1
    assert (result["posologies_right"], result["posologies_right_strict"]) == (0, 0)


def test_intakes_per_day_must_still_match(engine: Engine) -> None:
    result = _score(
        engine, _truth("Pantoprazole 40 mg", "pantoprazole", 1, 2), "Pantoprazole 40 mg 1 fois par jour"
    )
    assert result["posologies_right"] == 0
