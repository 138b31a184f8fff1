from __future__ import annotations

import json
import re
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


def test_text_and_json_forms_give_the_same_findings(tmp_path: Path) -> None:
    """The ordonnance as text and the same prescription as a JSON request agree."""
    numbered = re.compile(r"^\d+\) (.+)$")
    lines = [
        m.group(1) for line in EXAMPLE.read_text(encoding="utf-8").splitlines() if (m := numbered.match(line))
    ]
    request = {
        "patient": {"age": 82, "sex": "F", "weight_kg": 61, "crcl_ml_min": 55},
        "medications": [{"text": line} for line in lines],
    }
    as_json = tmp_path / "same.json"
    as_json.write_text(json.dumps(request, ensure_ascii=False), encoding="utf-8")
    from_text = json.loads(runner.invoke(app, ["analyze", str(EXAMPLE), "-f", "json"]).stdout)
    from_json = json.loads(runner.invoke(app, ["analyze", str(as_json), "-f", "json"]).stdout)
    assert len(lines) == 12
    assert [f["id"] for f in from_text["findings"]] == [f["id"] for f in from_json["findings"]]
    assert from_text["findings"], "the example must raise findings"


def test_screen_shows_progress_and_writes_outputs_in_batches(tmp_path: Path) -> None:
    rows = [
        "patient_id,birth_date,sex,dispensing_date,atc,label",
        "1,1940-01-01,F,2026-10-20,,SIMVASTATINE 40 mg",
        "1,1940-01-01,F,2026-10-20,J01FA09,",
        "2,1950-06-01,M,2026-10-21,,DOLIPRANE 1000 mg",
        "3,1938-02-01,F,2026-10-22,,XQZWV 10 mg",
    ]
    table = tmp_path / "dispensations.csv"
    table.write_text("\n".join(rows) + "\n")
    out = tmp_path / "results"
    result = runner.invoke(
        app, ["screen", str(table), "--out", str(out), "--reference-date", "2026-11-01", "--batches", "2"]
    )
    assert result.exit_code == 0, result.output
    for stage in ("batch 1/2: read", "batch 2/2: screen", "rank patients", "done: 3 patients"):
        assert stage in result.stderr
    assert "1 of 4 rows unresolved" in result.stderr
    assert (out / "patients.parquet").exists()
    assert (out / "findings.parquet").exists()
