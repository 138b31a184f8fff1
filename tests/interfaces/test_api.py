from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pharma_service.api.app import create_app
from pharma_service.service import Engine

REQUEST: dict[str, Any] = {
    "patient": {
        "age": 82,
        "sex": "F",
        "weight_kg": 61,
        "crcl_ml_min": 55,
        "conditions": ["I48"],
        "labs": {"potassium_mmol_l": 4.1},
    },
    "medications": [
        {"text": "SIMVASTATINE 40 mg comprimé : 1 comprimé le soir"},
        {"atc": "J01FA09", "text": "clarithromycine 500 mg 2/j"},
    ],
}


@pytest.fixture(scope="module")
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine)) as test_client:
        yield test_client


def test_health_and_knowledge(client: TestClient) -> None:
    assert client.get("/v1/health").json()["status"] == "ok"
    knowledge = client.get("/v1/knowledge").json()
    labels = {s["pack"] for s in knowledge["sources"]}
    assert {"referential", "ansm_interactions", "duplications"} <= labels
    assert all(s["version"] for s in knowledge["sources"])


def test_contract_example_reports_the_contraindication(client: TestClient) -> None:
    response = client.post("/v1/analyses", json=REQUEST)
    assert response.status_code == 200, response.text
    body = response.json()
    simva = body["medications"][0]
    assert simva["status"] == "resolved"
    assert simva["substances"][0] == {
        "name": "simvastatine",
        "key": "simvastatine",
        "atc": "C10AA01",
        "strength": {"value": 40.0, "unit": "mg"},
    }
    assert simva["posology"]["intakes_per_day"] == 1
    assert simva["posology"]["daily_dose"] == {"value": 40.0, "unit": "mg"}
    interactions = [f for f in body["findings"] if f["category"] == "interaction"]
    assert interactions and interactions[0]["level"] == "CI"
    assert interactions[0]["severity"] == "critical"
    assert {d["atc"] for d in interactions[0]["drugs"]} == {"C10AA01", "J01FA09"}
    assert interactions[0]["source"]["label"].startswith("ANSM")


@pytest.mark.parametrize(
    ("payload", "status", "code", "names"),
    [
        (
            {"patient": {"sex": "F"}, "medications": [{"text": "x"}]},
            422,
            "invalid_input",
            "patient",
        ),
        (
            {"patient": {"age": 300}, "medications": [{"text": "x"}]},
            422,
            "invalid_input",
            "patient.age",
        ),
        (
            {"patient": {"age": 80, "weight_kg": -3}, "medications": [{"text": "x"}]},
            422,
            "invalid_input",
            "patient.weight_kg",
        ),
        ({"patient": {"age": 80}, "medications": []}, 422, "invalid_input", "medications"),
        ({"patient": {"age": 80}, "medications": [{}]}, 422, "invalid_input", "medications.0"),
        (
            {"patient": {"age": 80}, "medications": [{"text": "x"}], "extra": 1},
            422,
            "invalid_input",
            "extra",
        ),
    ],
)
def test_bad_requests_name_the_field(
    client: TestClient, payload: Any, status: int, code: str, names: str
) -> None:
    response = client.post("/v1/analyses", json=payload)
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"code", "message"}
    assert body["code"] == code
    assert names in body["message"]


def test_malformed_json_is_a_400(client: TestClient) -> None:
    response = client.post(
        "/v1/analyses", content=b'{"patient": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_input"


def test_empty_body_is_a_400(client: TestClient) -> None:
    response = client.post("/v1/analyses", content=b"", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_input"
