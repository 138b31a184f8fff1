"""The CR/IR arithmetic and its wiring, on explicit inputs (the shipped tables hold only verified values)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from pharma_service.engine.cyp import classify, induction_auc_ratio, inhibition_auc_ratio, load_cyp
from pharma_service.engine.kb import DEFAULT_RULES_DIR
from pharma_service.service import Engine


def test_inhibition_ratio_follows_ohno() -> None:
    assert inhibition_auc_ratio(0.9, 1.0) == pytest.approx(10.0)
    assert inhibition_auc_ratio(0.5, 0.5) == pytest.approx(1 / 0.75)
    assert math.isinf(inhibition_auc_ratio(1.0, 1.0))


def test_induction_ratio_decreases_exposure() -> None:
    assert induction_auc_ratio(0.9, 10.0) == pytest.approx(0.1)


def test_magnitude_classes_come_from_the_method_file(engine: Engine) -> None:
    classes = engine.kb.cyp.method.inhibitor_classes
    assert classify(1.1, classes) is None
    assert classify(1.5, classes) == "weak"
    assert classify(3.0, classes) == "moderate"
    assert classify(10.0, classes) == "strong"


def test_predictions_use_the_tables(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "cyp"
    folder.mkdir()
    for name in ("method.yaml", "alternatives.yaml", "inducers.csv"):
        (folder / name).write_text(
            (DEFAULT_RULES_DIR / "cyp" / name).read_text(encoding="utf-8"), encoding="utf-8"
        )
    # Illustrative values for the test only, not clinical data.
    (folder / "substrates.csv").write_text(
        "substance_key,enzyme,cr,source_ref\nsimvastatine,CYP3A4,0.9,test\n"
    )
    (folder / "inhibitors.csv").write_text(
        "substance_key,enzyme,ir,source_ref\nclarithromycine,CYP3A4,0.9,test\n"
    )
    from pharma_service.engine.cyp import predict

    knowledge = load_cyp(folder, engine.kb.referential)
    [prediction] = predict(knowledge, "simvastatine", "clarithromycine")
    assert prediction.auc_ratio == pytest.approx(1 / (1 - 0.81))
    assert prediction.magnitude == "strong"
    assert predict(knowledge, "clarithromycine", "simvastatine") == []


def test_the_interaction_finding_carries_the_prediction_and_alternatives(
    engine: Engine, tmp_path: Path
) -> None:
    import shutil

    from pharma_service.engine.kb import KnowledgeBase
    from pharma_service.models import AnalysisRequest
    from pharma_service.service import analyse_request

    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, rules)
    (rules / "cyp" / "substrates.csv").write_text(
        "substance_key,enzyme,cr,source_ref\nsimvastatine,CYP3A4,0.9,test\n"
    )
    (rules / "cyp" / "inhibitors.csv").write_text(
        "substance_key,enzyme,ir,source_ref\nclarithromycine,CYP3A4,0.9,test\n"
    )
    kb = KnowledgeBase.load(rules, referential=engine.kb.referential)
    test_engine = Engine(kb=kb, normaliser=engine.normaliser)
    request = AnalysisRequest.model_validate(
        {
            "patient": {"age": 80},
            "medications": [{"text": "SIMVASTATINE 40 mg"}, {"text": "CLARITHROMYCINE 500 mg"}],
        }
    )
    findings = analyse_request(request, engine=test_engine).findings
    ci = next(f for f in findings if f.level == "CI")
    assert ci.codes["cyp"]["magnitude"] == "strong"
    assert ci.codes["cyp"]["predicted_auc_ratio"] == pytest.approx(5.26, abs=0.01)
    assert "rosuvastatine" in ci.codes["cyp"]["alternatives"]
    # ANSM lists pravastatine + clarithromycine (PE): not proposed as an alternative here.
    assert "pravastatine" not in ci.codes["cyp"]["alternatives"]
    assert "CYP3A4" in ci.detail
