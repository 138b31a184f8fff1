from __future__ import annotations

from typing import Any

from pharma_service.models import AnalysisRequest
from pharma_service.service import Engine, analyse_request

TEN_DRUGS = [
    "AMLODIPINE 5 mg",
    "RAMIPRIL 5 mg",
    "BISOPROLOL 2,5 mg",
    "ATORVASTATINE 20 mg",
    "METFORMINE 1000 mg",
    "FUROSEMIDE 40 mg",
    "PARACETAMOL 1 g",
    "OMEPRAZOLE 20 mg",
    "LEVOTHYROXINE 75 µg",
    "APIXABAN 5 mg",
]


def _eligibility(engine: Engine, age: int, drugs: list[str]) -> dict[str, Any]:
    request = AnalysisRequest.model_validate(
        {"patient": {"age": age}, "medications": [{"text": d} for d in drugs]}
    )
    return analyse_request(request, engine=engine).eligibility


def test_iatroprev_needs_75_years_and_10_drugs(engine: Engine) -> None:
    result = _eligibility(engine, 78, TEN_DRUGS)
    assert result["facts"]["distinct_molecules"] == 10
    assert result["programmes"]["iatroprev"]["eligible"] is True
    assert result["programmes"]["optimedoc"]["eligible"] is True


def test_nine_drugs_or_74_years_are_not_eligible(engine: Engine) -> None:
    assert _eligibility(engine, 78, TEN_DRUGS[:9])["programmes"]["iatroprev"]["eligible"] is False
    younger = _eligibility(engine, 74, TEN_DRUGS)["programmes"]["iatroprev"]
    assert younger["eligible"] is False
    assert any("74" in reason for reason in younger["reasons"])


def test_bpm_duration_is_reported_as_missing(engine: Engine) -> None:
    bpm = _eligibility(engine, 70, TEN_DRUGS)["programmes"]["bpm"]
    assert bpm["eligible"] is None and bpm["status"] == "to_verify"
    assert any("durée" in m for m in bpm["missing_data"])


def test_an_unreadable_line_still_counts_as_a_drug(engine: Engine) -> None:
    result = _eligibility(engine, 80, [*TEN_DRUGS[:9], "ZORGLUB 10 mg"])
    assert result["facts"]["unresolved_lines"] == 1
    assert result["facts"]["distinct_molecules"] == 10
