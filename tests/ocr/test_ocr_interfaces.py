"""POST /v1/prescriptions and `pharma analyze scan.png`."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from ocr_pages import ORDONNANCE, encode, render_page
from PIL import Image
from typer.testing import CliRunner

from pharma_service.api.app import create_app
from pharma_service.cli import app
from pharma_service.ocr.engine import FakeEngine
from pharma_service.service import Engine

PNG = encode(Image.new("L", (2480, 3508), 255), "PNG")  # a blank A4 page at 300 dpi


@pytest.fixture()
def client(engine: Engine) -> Iterator[TestClient]:
    fake = FakeEngine([[(line, 95.0) for line in ORDONNANCE.splitlines()]])
    with TestClient(create_app(engine, ocr=fake)) as test_client:
        yield test_client


def test_upload_returns_reading_and_analysis(client: TestClient) -> None:
    response = client.post("/v1/prescriptions", files={"file": ("scan.png", PNG, "image/png")})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["reading"]["engine"] == "fake"
    assert len(body["reading"]["lines"]) == 4
    assert [m["status"] for m in body["analysis"]["medications"]] == ["resolved"] * 4
    assert body["analysis"]["patient"]["age_years"] == 82


def test_patient_form_field_completes_the_header(client: TestClient) -> None:
    response = client.post(
        "/v1/prescriptions",
        files={"file": ("scan.png", PNG, "image/png")},
        data={"patient": json.dumps({"crcl_ml_min": 25})},
    )
    assert response.status_code == 200, response.text
    assert response.json()["analysis"]["patient"]["renal_function"]["crcl_ml_min"] == 25


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b"", 422, "invalid_input"),
        (b"plain text, not a scan", 415, "unsupported_input"),
        (PNG[:200], 422, "invalid_input"),
    ],
)
def test_bad_uploads_get_code_and_message(client: TestClient, content: bytes, status: int, code: str) -> None:
    response = client.post("/v1/prescriptions", files={"file": ("scan.png", content, "image/png")})
    assert response.status_code == status
    body = response.json()
    assert body["code"] == code
    assert "scan.png" in body["message"]


def test_malformed_patient_field(client: TestClient) -> None:
    response = client.post(
        "/v1/prescriptions", files={"file": ("scan.png", PNG, "image/png")}, data={"patient": "{age: 84"}
    )
    assert response.status_code == 422
    assert response.json()["message"].startswith("patient: malformed JSON")


def test_missing_file_field(client: TestClient) -> None:
    response = client.post("/v1/prescriptions", data={"patient": "{}"})
    assert response.status_code == 422
    assert "file" in response.json()["message"]


# --------------------------------------------------------------------------- CLI

runner = CliRunner()


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="Tesseract not installed (.ci/run installs it)")
def test_cli_reads_a_scan(tmp_path: Path) -> None:
    scan = tmp_path / "ordonnance.jpg"
    render_page().save(scan, quality=80)
    result = runner.invoke(app, ["analyze", str(scan)])
    assert result.exit_code == 0, result.output
    assert "Lecture de l'ordonnance" in result.stdout
    assert "Lignes lues : 4" in result.stdout
    assert "Analyse d'ordonnance" in result.stdout

    as_json = runner.invoke(app, ["analyze", str(scan), "--format", "json"])
    body = json.loads(as_json.stdout)
    assert {"reading", "analysis"} <= body.keys()


def test_cli_rejects_a_fake_image(tmp_path: Path) -> None:
    scan = tmp_path / "ordonnance.png"
    scan.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    result = runner.invoke(app, ["analyze", str(scan)])
    assert result.exit_code == 2
    assert "ordonnance.png" in result.stderr
