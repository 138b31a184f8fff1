"""Too many alerts make pharmacists stop reading them: a sound prescription stays quiet."""

from __future__ import annotations

import pytest

from pharma_service.models import AnalysisRequest
from pharma_service.service import Engine, analyse_request

CLEAN = [
    "RAMIPRIL 5 mg : 1 cp le matin",
    "BISOPROLOL 2,5 mg : 1 cp le matin",
    "ROSUVASTATINE 10 mg : 1 cp le soir",
    "PARACETAMOL 1 g : 1 cp 3 fois par jour si douleur",
    "MACROGOL 4000 : 1 sachet le matin",
]
QUIET = {"pim", "qt", "anticholinergic", "renal", "duplication", "dose", "interaction", "unresolved"}


@pytest.mark.parametrize(
    "patient",
    [
        {"age": 78, "sex": "F", "weight_kg": 65, "crcl_ml_min": 60, "conditions": ["I10"]},
        {"age": 78, "sex": "M", "weight_kg": 80, "creatinine_umol_l": 90},
        {"age": 78},
    ],
)
def test_clean_prescription_raises_no_alert(engine: Engine, patient: dict[str, object]) -> None:
    request = AnalysisRequest.model_validate(
        {"patient": patient, "medications": [{"text": t} for t in CLEAN]}
    )
    analysis = analyse_request(request, engine=engine)
    assert all(line.status == "resolved" for line in analysis.medications)
    noisy = [(f.category.value, f.rule, f.summary) for f in analysis.findings if f.category.value in QUIET]
    assert noisy == []
    assert analysis.scores["anticholinergic"]["acb"]["total"] == 0
