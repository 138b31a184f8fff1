"""Renal function from what the request gives."""

from __future__ import annotations

from pharma_service.models import Patient, RenalFunction

# Cockcroft-Gault with creatinine in µmol/L: 1.23 for men, 1.04 for women.
_CG_FACTOR = {"M": 1.23, "F": 1.04}


def renal_function(patient: Patient) -> RenalFunction:
    if patient.crcl_ml_min is not None:
        return RenalFunction(crcl_ml_min=patient.crcl_ml_min, method="given")
    if patient.creatinine_umol_l and patient.weight_kg and patient.sex:
        crcl = (
            (140 - patient.age_years)
            * patient.weight_kg
            * _CG_FACTOR[patient.sex]
            / patient.creatinine_umol_l
        )
        return RenalFunction(crcl_ml_min=round(max(crcl, 0.0), 1), method="cockcroft_gault")
    if patient.egfr_ml_min_1_73m2 is not None:
        return RenalFunction(
            crcl_ml_min=patient.egfr_ml_min_1_73m2,
            method="egfr",
            note="DFG estimé utilisé faute de clairance de Cockcroft-Gault",
        )
    missing = [
        name
        for name, value in (
            ("creatinine_umol_l", patient.creatinine_umol_l),
            ("weight_kg", patient.weight_kg),
            ("sex", patient.sex),
        )
        if value is None
    ]
    return RenalFunction(
        crcl_ml_min=None,
        method="unknown",
        note="clairance non calculable, manque : " + ", ".join(missing),
    )
