"""The pharmacists' upload page (GET /) and the API round trip it relies on."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from PIL import Image

from pharma_service.api.app import UPLOAD_PAGE, create_app
from pharma_service.ocr.engine import FakeEngine
from pharma_service.service import Engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ocr"))
from ocr_pages import ORDONNANCE, encode

PNG = encode(Image.new("L", (2480, 3508), 255), "PNG")


@pytest.fixture()
def client(engine: Engine) -> Iterator[TestClient]:
    lines = [(line, 95.0) for line in ORDONNANCE.splitlines()]
    with TestClient(create_app(engine, ocr=FakeEngine([lines]))) as test_client:
        yield test_client


def _script(page: str) -> str:
    match = re.search(r"<script>(.*)</script>", page, re.S)
    assert match, "the page has no inline script"
    return match.group(1)


def test_page_is_served_with_the_upload_form(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<input type="file" name="file"' in page
    assert 'lang="fr"' in page


def test_every_endpoint_the_page_calls_exists_with_post(client: TestClient) -> None:
    page = client.get("/").text
    called = set(re.findall(r'fetch\("(/v1/[a-z/]+)"', page))
    assert called == {"/v1/prescriptions", "/v1/analyses", "/v1/ppp"}
    app = client.app
    assert hasattr(app, "routes")
    posts = {r.path for r in app.routes if isinstance(r, APIRoute) and "POST" in r.methods}
    assert called <= posts


def test_page_never_inserts_server_text_as_html() -> None:
    # A drug line read from a scan is untrusted text: the page only uses textContent.
    script = _script(UPLOAD_PAGE.read_text(encoding="utf-8"))
    assert "innerHTML" not in script
    assert "insertAdjacentHTML" not in script
    assert "document.write" not in script


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_page_script_is_valid_javascript(tmp_path: Path) -> None:
    source = tmp_path / "page.js"
    source.write_text(_script(UPLOAD_PAGE.read_text(encoding="utf-8")), encoding="utf-8")
    result = subprocess.run(["node", "--check", str(source)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_request_from_a_scan_analyses_the_same_when_sent_back(client: TestClient) -> None:
    """The page (and any client) corrects `request` and posts it to /v1/analyses: unchanged,
    it must give the analysis the upload gave."""
    upload = client.post("/v1/prescriptions", files={"file": ("scan.png", PNG, "image/png")})
    assert upload.status_code == 200, upload.text
    body = upload.json()
    request = body["request"]
    assert len(request["medications"]) == len(body["analysis"]["medications"]) == 4
    again = client.post("/v1/analyses", json=request)
    assert again.status_code == 200, again.text
    assert again.json() == body["analysis"]


def test_a_corrected_line_changes_the_analysis(client: TestClient) -> None:
    body = client.post("/v1/prescriptions", files={"file": ("scan.png", PNG, "image/png")}).json()
    request = body["request"]
    before = {m["line"] for m in body["analysis"]["medications"]}
    request["medications"][0] = {"text": "ZOLPIDEM 10 mg", "posology": "1 cp au coucher"}
    response = client.post("/v1/analyses", json=request)
    assert response.status_code == 200, response.text
    lines = [m["line"] for m in response.json()["medications"]]
    assert lines[0] not in before
    assert any("zolpidem" in s["name"].lower() for s in response.json()["medications"][0]["substances"])
