"""The criteria an `unevaluated` entry names come in one fixed order: the load order of the criteria.

They used to follow a Python set, so that the same request gave another order under another
PYTHONHASHSEED. Each analysis runs here in fresh interpreters with different seeds; the entries
must be identical, and the criteria of each entry (and its lead `rule`) must follow the order in
which the knowledge base loaded them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pharma_service.service import Engine

REPO = Path(__file__).resolve().parents[2]
SEEDS = ("1", "2")
ELDERLY: dict[str, Any] = {"age": 82, "sex": "F"}  # no condition, no lab, no duration: much is unknown

# One drug line each: every one reaches several drug-disease criteria of several packs.
SINGLE_LINE: dict[str, list[str]] = {
    "lorazepam": ["LORAZEPAM 1 mg : 1 cp le soir"],
    "amitriptyline": ["AMITRIPTYLINE 25 mg : 1 cp le soir"],
    "haloperidol": ["HALOPERIDOL 1 mg : 1 cp le soir"],
    "ibuprofene": ["IBUPROFENE 400 mg : 1 cp 3 fois par jour"],
}
# Several lines whose criteria overlap (falls, delirium, dementia, constipation...): a criterion
# reached first from one line must not move ahead in the entry of another line.
SEVERAL_LINES: dict[str, list[str]] = {
    "tramadol+lorazepam": ["TRAMADOL 50 mg : 1 gélule 3 fois par jour", "LORAZEPAM 1 mg : 1 cp le soir"],
    "oxybutynine+amitriptyline": [
        "OXYBUTYNINE 5 mg : 1 cp 2 fois par jour",
        "AMITRIPTYLINE 25 mg : 1 cp le soir",
    ],
    "hydroxyzine+tramadol+haloperidol": [
        "HYDROXYZINE 25 mg : 1 cp le soir",
        "TRAMADOL 50 mg : 1 gélule 3 fois par jour",
        "HALOPERIDOL 1 mg : 1 cp le soir",
    ],
}
REQUESTS: dict[str, dict[str, Any]] = {
    name: {"patient": ELDERLY, "medications": [{"text": t} for t in texts]}
    for name, texts in {**SINGLE_LINE, **SEVERAL_LINES}.items()
}

# Run in a fresh interpreter: prints the criteria ids in load order, as the engine's index numbers
# them (`CompiledCriterion.position`), and the `unevaluated` entries of each request.
_SCRIPT = """
import json, sys
from pharma_service.models import AnalysisRequest
from pharma_service.service import Engine, analyse_request

engine = Engine.load()
index = engine.kb.criteria
positions = {}
for bucket in [*index.by_atc_prefix.values(), *index.by_substance.values()]:
    for item in bucket.values():
        positions[item.id] = item.position
for item in index.condition_triggered:
    positions[item.id] = item.position
results = {}
for name, request in json.loads(sys.stdin.read()).items():
    analysis = analyse_request(AnalysisRequest.model_validate(request), engine=engine)
    results[name] = [entry.model_dump(mode="json") for entry in analysis.unevaluated]
print(json.dumps({"order": sorted(positions, key=positions.__getitem__), "results": results}))
"""


def _run(seed: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        input=json.dumps(REQUESTS),
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout)
    return out


@pytest.fixture(scope="module")
def runs() -> dict[str, dict[str, Any]]:
    return {seed: _run(seed) for seed in SEEDS}


def _criterion_id(described: str) -> str:
    """'stopp3:D8 — Benzodiazépine ...' -> 'stopp3:D8'."""
    return described.split(" — ", 1)[0]


def _drug_entries(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in entries if e["drugs"]]


def test_requests_leave_several_criteria_unevaluated_on_one_line(runs: dict[str, dict[str, Any]]) -> None:
    """Without this the other tests would compare lists too short to be out of order."""
    results = runs[SEEDS[0]]["results"]
    for name in REQUESTS:
        per_line = _drug_entries(results[name])
        assert per_line, name
        assert max(len(e["criteria"]) for e in per_line) >= 2, (name, per_line)
    for name in SEVERAL_LINES:
        lines = {d["line"] for e in _drug_entries(results[name]) for d in e["drugs"]}
        assert len(lines) >= 2, (name, lines)


def test_unevaluated_entries_do_not_depend_on_the_hash_seed(runs: dict[str, dict[str, Any]]) -> None:
    first, second = (runs[seed] for seed in SEEDS)
    assert first["order"] == second["order"]
    for name in REQUESTS:
        assert first["results"][name] == second["results"][name], name


def test_load_order_is_the_order_of_the_packs(engine: Engine, runs: dict[str, dict[str, Any]]) -> None:
    """The index's positions are the criteria of the packs, pack after pack, in file order."""
    from_packs = [crit.id for pack in engine.kb.criteria_packs for crit in pack.criteria]
    assert len(from_packs) == len(set(from_packs)) == engine.kb.criteria.count
    for seed in SEEDS:
        assert runs[seed]["order"] == from_packs


def _assert_load_order(entries: list[dict[str, Any]], order: list[str], name: str) -> None:
    position = {crit_id: n for n, crit_id in enumerate(order)}
    for entry in entries:
        ids = [_criterion_id(c) for c in entry["criteria"]]
        assert len(ids) == len(set(ids)), (name, ids)
        assert entry["rule"] == ids[0], (name, entry["rule"], ids)
        assert ids == sorted(ids, key=position.__getitem__), (name, [d["name"] for d in entry["drugs"]], ids)


@pytest.mark.parametrize("name", list(SINGLE_LINE))
def test_unevaluated_criteria_follow_load_order_on_one_line(
    runs: dict[str, dict[str, Any]], name: str
) -> None:
    for seed in SEEDS:
        # The drug line's entry, and the omissions' entry (no diagnosis given: all are unknown).
        _assert_load_order(runs[seed]["results"][name], runs[seed]["order"], name)


@pytest.mark.parametrize("name", list(SEVERAL_LINES))
def test_unevaluated_criteria_follow_load_order_on_several_lines(
    runs: dict[str, dict[str, Any]], name: str
) -> None:
    for seed in SEEDS:
        _assert_load_order(runs[seed]["results"][name], runs[seed]["order"], name)
