from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pharma_service.cli import EXAMPLE, app

runner = CliRunner()
EXAMPLES = EXAMPLE.parent


def test_analyze_json_request() -> None:
    result = runner.invoke(app, ["analyze", str(EXAMPLES / "request_82F.json"), "--format", "json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert any(f["level"] == "CI" for f in body["findings"])


def test_analyze_text_ordonnance_reads_the_header_and_lines() -> None:
    result = runner.invoke(app, ["analyze", str(EXAMPLE), "--format", "json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["patient"]["age_years"] == 82
    assert body["patient"]["sex"] == "F"
    assert body["patient"]["weight_kg"] == 61
    assert len(body["medications"]) == 12
    assert all(m["status"] == "resolved" for m in body["medications"]), [
        (m["line"], m["status"]) for m in body["medications"] if m["status"] != "resolved"
    ]


def test_example_command_prints_a_french_report() -> None:
    result = runner.invoke(app, ["example"])
    assert result.exit_code == 0, result.output
    assert "Contre-indication" in result.stdout


@pytest.mark.parametrize(
    ("name", "content", "exit_code", "fragment"),
    [
        ("request.xml", "<a/>", 3, "unsupported file type"),
        ("request.json", '{"patient": ', 2, "malformed JSON"),
        (
            "request.json",
            '{"patient": {"age": 300}, "medications": [{"text": "x"}]}',
            2,
            "patient.age",
        ),
        ("empty.txt", "", 2, "empty"),
        ("ordo.txt", "Mme X, 80 ans\nBonjour\n", 2, "no drug line"),
    ],
)
def test_bad_files_give_one_clear_line(
    tmp_path: Path, name: str, content: str, exit_code: int, fragment: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["analyze", str(path)])
    assert result.exit_code == exit_code, result.output
    assert fragment in result.stderr
    assert "Traceback" not in result.output


def test_missing_file_is_reported(tmp_path: Path) -> None:
    result = runner.invoke(app, ["analyze", str(tmp_path / "nope.json")])
    assert result.exit_code == 2
    assert "cannot read" in result.stderr
