"""`KnowledgeBase.clear_memos()` never changes a result.

The engine memoises what depends only on a line's drugs (the criteria an ATC code and substance
set reach, ATC prefixes, line shapes, drug references). An analysis must give the same answer
whether those memos were filled by other patients, in whatever order, or start empty.
Varied requests are drawn with a seeded generator from the drugs, diagnoses and lab values of
the clinical rule cases (rules/tests/*.yaml).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from pharma_service.engine.line_views import line_shape
from pharma_service.models import AnalysisRequest
from pharma_service.service import Engine, analyse_request

CASES_DIR = Path(__file__).resolve().parents[2] / "rules" / "tests"
SEED = 20260601
N_CASES = 12  # rule cases taken as they are
N_RANDOM = 28  # requests mixing their drugs and patients
POOL_SIZE = 45  # drugs the random requests draw from: small enough that they recur across requests


def _rule_cases() -> list[tuple[dict[str, Any], list[str]]]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            texts = [m for m in case["medications"] if isinstance(m, str)]
            if texts:
                cases.append((case["patient"], texts))
    return cases


def _requests() -> list[AnalysisRequest]:
    rng = random.Random(SEED)
    cases = _rule_cases()
    texts = sorted({t for _, meds in cases for t in meds})
    conditions = sorted({c for patient, _ in cases for c in patient.get("conditions", [])})
    labs = [patient["labs"] for patient, _ in cases if patient.get("labs")]
    pool = rng.sample(texts, POOL_SIZE)
    raw: list[dict[str, Any]] = [
        {"patient": patient, "medications": [{"text": t} for t in meds]}
        for patient, meds in rng.sample(cases, N_CASES)
    ]
    for _ in range(N_RANDOM):
        patient: dict[str, Any] = {
            "age": rng.choice([66, 74, 81, 88, 95]),
            "sex": rng.choice(["F", "M"]),
            "weight_kg": rng.choice([48, 61, 75, 92]),
        }
        renal = rng.choice(["crcl", "creatinine", "none"])
        if renal == "crcl":
            patient["crcl_ml_min"] = rng.choice([12, 25, 38, 55, 80])
        elif renal == "creatinine":
            patient["creatinine_umol_l"] = rng.choice([70, 110, 180, 300])
        if rng.random() < 0.6:  # otherwise every diagnosis is unknown
            patient["conditions"] = rng.sample(conditions, rng.randint(1, 4))
        if labs and rng.random() < 0.3:
            patient["labs"] = rng.choice(labs)
        meds = rng.sample(pool, rng.randint(1, 8))
        raw.append({"patient": patient, "medications": [{"text": t} for t in meds]})
    return [AnalysisRequest.model_validate(r) for r in raw]


def _analysed(engine: Engine, request: AnalysisRequest) -> str:
    # As a string: a change of order inside the output (keys, lists) counts as a change.
    return json.dumps(analyse_request(request, engine=engine).model_dump(mode="json"), ensure_ascii=False)


@pytest.fixture(scope="module")
def requests() -> list[AnalysisRequest]:
    return _requests()


def test_the_requests_are_varied(engine: Engine, requests: list[AnalysisRequest]) -> None:
    assert len(requests) >= 20
    outputs = [json.loads(_analysed(engine, r)) for r in requests]
    assert len({json.dumps(o, sort_keys=True) for o in outputs}) == len(requests)
    assert sum(1 for o in outputs if o["findings"]) >= len(requests) // 2
    assert any(o["unevaluated"] for o in outputs)
    assert any(len(o["medications"]) >= 5 for o in outputs)


def test_clear_memos_never_changes_a_result(engine: Engine, requests: list[AnalysisRequest]) -> None:
    kb = engine.kb
    rng = random.Random(SEED + 1)
    n = len(requests)

    # In list order, from empty memos: each analysis sees what the previous ones left.
    kb.clear_memos()
    first = [_analysed(engine, r) for r in requests]

    # Warm memos, another order.
    warm: list[str | None] = [None] * n
    order = list(range(n))
    rng.shuffle(order)
    hits_before = line_shape.cache_info().hits
    for i in order:
        warm[i] = _analysed(engine, requests[i])
    # The memos were really used: otherwise this test compares cold with cold.
    assert line_shape.cache_info().hits > hits_before
    assert kb.criteria._reached

    # Cold: every memo forgotten before each analysis, in a third order.
    cold: list[str | None] = [None] * n
    rng.shuffle(order)
    for i in order:
        kb.clear_memos()
        assert not kb.criteria._reached and line_shape.cache_info().currsize == 0
        cold[i] = _analysed(engine, requests[i])

    for i in range(n):
        assert warm[i] == first[i], f"request {i}: warm memos in another order changed the result"
        assert cold[i] == first[i], f"request {i}: clear_memos() changed the result"
