from __future__ import annotations

import pytest

from pharma_service.engine.renal import renal_function
from pharma_service.models import Patient


def test_cockcroft_gault_from_creatinine() -> None:
    # (140 - 80) * 60 * 1.04 / 100 = 37.44
    patient = Patient(age=80, sex="F", weight_kg=60, creatinine_umol_l=100)
    renal = renal_function(patient)
    assert renal.method == "cockcroft_gault"
    assert renal.crcl_ml_min == pytest.approx(37.4, abs=0.05)


def test_men_get_the_male_factor() -> None:
    renal = renal_function(Patient(age=80, sex="M", weight_kg=60, creatinine_umol_l=100))
    assert renal.crcl_ml_min == pytest.approx(44.3, abs=0.05)


def test_given_clearance_wins() -> None:
    renal = renal_function(Patient(age=80, sex="F", weight_kg=60, creatinine_umol_l=100, crcl_ml_min=55))
    assert (renal.crcl_ml_min, renal.method) == (55, "given")


def test_missing_data_is_named() -> None:
    renal = renal_function(Patient(age=80, creatinine_umol_l=100))
    assert renal.crcl_ml_min is None and renal.note is not None
    assert "weight_kg" in renal.note and "sex" in renal.note
