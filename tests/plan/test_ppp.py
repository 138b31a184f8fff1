from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from pharma_service.api.app import create_app
from pharma_service.cli import EXAMPLE, app
from pharma_service.inputs import read_request_file
from pharma_service.models import AnalysisRequest
from pharma_service.plan.models import Ppp
from pharma_service.plan.render import to_html, to_pdf
from pharma_service.service import Engine, plan_request


def _plan(engine: Engine, patient: dict[str, Any], lines: list[str]) -> Ppp:
    request = AnalysisRequest.model_validate(
        {"patient": {"reference_date": "2026-11-23", **patient}, "medications": [{"text": t} for t in lines]}
    )
    return plan_request(request, engine=engine)


def _find(ppp: Ppp, fragment: str) -> Any:
    return next(p for p in ppp.problems if fragment in p.title)


def test_a_contraindicated_interaction_is_6_4_with_stop_or_substitution(engine: Engine) -> None:
    ppp = _plan(
        engine, {"age": 80}, ["SIMVASTATINE 40 mg : 1 cp le soir", "CLARITHROMYCINE 500 mg : 1 cp x2/j"]
    )
    problem = _find(ppp, "Contre-indication")
    assert problem.problem.code == "6.4"
    assert problem.intervention.code in {"2", "3"}
    assert problem.priority == 1 and problem.number == 1


def test_an_omission_is_2_with_an_addition(engine: Engine) -> None:
    ppp = _plan(engine, {"age": 80, "conditions": ["I48"]}, ["AMLODIPINE 5 mg : 1 cp le matin"])
    omission = next(p for p in ppp.problems if any(f.startswith("omission") for f in p.findings))
    assert (omission.problem.code, omission.intervention.code) == ("2", "1")


def test_a_renal_overdose_is_4_with_a_dose_adjustment(engine: Engine) -> None:
    ppp = _plan(
        engine,
        {"age": 80, "sex": "F", "weight_kg": 60, "crcl_ml_min": 40},
        ["METFORMINE 1000 mg : 1 cp matin et soir"],
    )
    renal = next(p for p in ppp.problems if any(f.startswith("renal") for f in p.findings))
    assert (renal.problem.code, renal.intervention.code) == ("4", "7")
    assert "Fonction rénale (créatininémie, clairance)" in renal.monitoring


def test_related_findings_are_merged_into_one_problem(engine: Engine) -> None:
    ppp = _plan(
        engine,
        {"age": 80},
        [
            "WARFARINE 5 mg : 1 cp le soir",
            "AMIODARONE 200 mg : 1 cp le matin",
            "PARACETAMOL 1 g : 1 cp 3 fois par jour",
            "CITALOPRAM 20 mg : 1 cp le matin",
            "HYDROXYZINE 25 mg : 1 cp au coucher",
        ],
    )
    # Three precautions around warfarin with one risk (bleeding): one problem, INR to watch.
    bleeding = [p for p in ppp.problems if "warfarine" in p.title and "hémorragique" in p.title]
    assert len(bleeding) == 1 and len(bleeding[0].findings) >= 2
    assert "INR" in bleeding[0].monitoring
    # The QT assessment absorbs the torsades interactions of the same drugs.
    qt = [p for p in ppp.problems if any(f.startswith("qt:") for f in p.findings)]
    assert len(qt) == 1
    assert not [p for p in ppp.problems if p is not qt[0] and "torsades" in p.title.lower()]
    assert len({f for p in ppp.problems for f in p.findings}) == sum(len(p.findings) for p in ppp.problems)


def test_problems_are_ordered_by_priority_and_numbered(engine: Engine) -> None:
    ppp = plan_request(read_request_file(EXAMPLE), engine=engine)
    priorities = [p.priority for p in ppp.problems]
    assert priorities == sorted(priorities)
    assert [p.number for p in ppp.problems] == list(range(1, len(ppp.problems) + 1))
    assert ppp.follow_up[0].days == 45 and ppp.follow_up[1].days == 90
    assert ppp.follow_up[0].due == date(2026, 12, 27)  # 45 days after the ordonnance of 12/11/2026


def test_the_pdf_holds_the_patient_every_drug_and_every_proposal(engine: Engine) -> None:
    ppp = plan_request(read_request_file(EXAMPLE), engine=engine)
    document = pdfium.PdfDocument(to_pdf(ppp))
    text = " ".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    flat = " ".join(text.split())
    assert len(document) <= 8
    assert "82 ans" in flat and "féminin" in flat
    for row in ppp.treatment:
        assert row.drug.split(",")[0].split(" ")[0] in flat, row.drug
    for problem in ppp.problems:
        assert " ".join(problem.title.split())[:40] in flat, problem.title
        assert problem.intervention.label.split(" (")[0] in flat, problem.intervention.label
    for who in ("Médecin traitant", "Pharmacien d'officine", "Gériatre", "Pharmacien hospitalier"):
        assert who in flat
    assert "Acceptée avec modification" in flat


def test_html_is_a_french_document(engine: Engine) -> None:
    html = to_html(plan_request(read_request_file(EXAMPLE), engine=engine))
    assert html.startswith("<!DOCTYPE html>") and 'lang="fr"' in html
    assert "Plan Pharmaceutique Personnalisé" in html


@pytest.mark.parametrize("suffix", ["pdf", "html", "json"])
def test_cli_writes_the_plan(tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"plan.{suffix}"
    result = CliRunner().invoke(app, ["ppp", str(EXAMPLE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 1000
    if suffix == "pdf":
        assert out.read_bytes().startswith(b"%PDF")


def test_cli_refuses_an_unknown_output_type(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["ppp", str(EXAMPLE), "--out", str(tmp_path / "plan.docx")])
    assert result.exit_code == 3 and ".pdf, .html or .json" in result.stderr


@pytest.mark.parametrize(
    ("accept", "media", "start"),
    [
        ("application/pdf", "application/pdf", b"%PDF"),
        ("text/html", "text/html", b"<!DOCTYPE html>"),
        ("application/json", "application/json", b"{"),
        ("", "application/json", b"{"),
    ],
)
def test_api_follows_the_accept_header(engine: Engine, accept: str, media: str, start: bytes) -> None:
    body = {
        "patient": {"age": 80},
        "medications": [{"text": "SIMVASTATINE 40 mg"}, {"text": "ZECLAR 500 mg"}],
    }
    with TestClient(create_app(engine)) as client:
        headers = {"accept": accept} if accept else {}
        response = client.post("/v1/ppp", json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(media)
    assert response.content.startswith(start)


def test_api_refuses_a_format_it_cannot_produce(engine: Engine) -> None:
    body = {"patient": {"age": 80}, "medications": [{"text": "SIMVASTATINE 40 mg"}]}
    with TestClient(create_app(engine)) as client:
        response = client.post("/v1/ppp", json=body, headers={"accept": "application/msword"})
    assert response.status_code == 406
    assert response.json()["code"] == "not_acceptable"
