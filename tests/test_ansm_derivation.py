"""Self-checks of rules/interactions/ against the ANSM reference files it is derived from.

Skipped when ../shared/reference is absent. The derivation script is imported
from its file, so these tests check the committed files, not a re-implementation.
"""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference"
RULES = REPO / "rules" / "interactions"
SCRIPT = REPO / "datasets" / "build" / "derive_ansm_interactions.py"

pytestmark = [
    pytest.mark.reference,
    pytest.mark.skipif(
        not (REFERENCE / "ansm" / "thesaurus_2023_09.csv").exists(),
        reason=f"ANSM reference files not present under {REFERENCE}",
    ),
]


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("derive_ansm_interactions", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return _load_script()


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with (RULES / "ansm_interactions.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def classes() -> dict[str, set[str]]:
    members: dict[str, set[str]] = {}
    with (RULES / "ansm_classes.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            members.setdefault(row["class_key"], set()).add(row["member_key"])
    return members


def _yaml(name: str) -> dict[str, Any]:
    data = yaml.safe_load((RULES / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_every_2023_row_is_represented_with_its_level(script: ModuleType, rows: list[dict[str, str]]) -> None:
    levels_by_pair: dict[tuple[str, str], set[str]] = {}
    for row in rows:
        levels_by_pair.setdefault((row["a_key"], row["b_key"]), set()).add(row["level"])
    missing = []
    with (REFERENCE / "ansm" / "thesaurus_2023_09.csv").open(encoding="utf-8", newline="") as handle:
        for source in csv.DictReader(handle):
            left, right = script.fix_row_sides(source["substance"], source["interactant"])
            pair = script.pair_of(script.key(left), script.key(right))
            level = script.CSV_LEVELS[source["niveau"]]
            if level not in levels_by_pair.get(pair, set()):
                missing.append(f"{source['substance']} + {source['interactant']} ({level})")
    assert not missing, missing[:20]


def test_condition_ids_exist(rows: list[dict[str, str]]) -> None:
    conditions = _yaml("conditions.yaml")
    used = {row["condition"] for row in rows if row["condition"]}
    assert used <= set(conditions), used - set(conditions)
    for cid, entry in conditions.items():
        assert set(entry) == {"label_fr", "evaluate"}, cid
        assert 0 < len(entry["label_fr"]) <= 120, cid


def test_risk_and_action_codes_exist(rows: list[dict[str, str]]) -> None:
    risks, actions = _yaml("risk_codes.yaml"), _yaml("action_codes.yaml")
    for vocabulary in (risks, actions):
        for code, labels in vocabulary.items():
            assert set(labels) == {"label_fr", "label_en"}, code
            assert all(0 < len(v) <= 80 for v in labels.values()), code
    for row in rows:
        assert row["risk"], row["id"]
        assert set(row["risk"].split(";")) <= set(risks), row["id"]
        assert row["actions"], row["id"]
        assert set(row["actions"].split(";")) <= set(actions), row["id"]
    other = sum(1 for row in rows if row["risk"] == "other")
    assert other / len(rows) < 0.05


def test_rows_are_well_formed(rows: list[dict[str, str]], classes: dict[str, set[str]]) -> None:
    ids = [row["id"] for row in rows]
    assert ids == sorted(ids)
    assert len(ids) == len(set(ids))
    for row in rows:
        assert row["level"] in {"CI", "ASDEC", "PE", "APEC"}
        assert row["source_version"] in {"2023-09", "2020-10"}
        assert row["a_key"] < row["b_key"], row["id"]
        assert not (row["a_key"] == row["b_key"] and row["a_kind"] == row["b_kind"] == "substance")
        for side in ("a", "b"):
            if row[f"{side}_kind"] == "class":
                assert classes.get(row[f"{side}_key"]), row["id"]
        if row["level"] == "CI":
            assert "contraindicated" in row["actions"].split(";"), row["id"]
        if row["level"] == "ASDEC":
            assert "avoid" in row["actions"].split(";"), row["id"]


def test_conditional_aspirin_entries(rows: list[dict[str, str]]) -> None:
    def levels(a: str, b: str) -> dict[str, str]:
        return {r["level"]: r["condition"] for r in rows if (r["a_key"], r["b_key"]) == (a, b)}

    aspirin_mtx = levels("acide acetylsalicylique", "methotrexate")
    assert set(aspirin_mtx) == {"CI", "PE"} and all(aspirin_mtx.values())
    aspirin_oac = levels("acide acetylsalicylique", "anticoagulants oraux")
    assert set(aspirin_oac) == {"CI", "ASDEC", "APEC"} and all(aspirin_oac.values())
    conditions = _yaml("conditions.yaml")
    assert conditions["aspirin_antiplatelet_dose"]["evaluate"]["daily_mg"]["min"] == 50
    assert conditions["methotrexate_above_20mg_week"]["evaluate"]["weekly_mg"]["min"] > 20


def test_conditions_match_the_engine_schema() -> None:
    schemas = pytest.importorskip("pharma_service.engine.schemas")
    for cid, entry in _yaml("conditions.yaml").items():
        assert schemas.ConditionEntry.model_validate(entry) is not None, cid


def test_files_are_up_to_date(script: ModuleType, rows: list[dict[str, str]]) -> None:
    derived = script.derive(REFERENCE)
    assert derived.rows == rows, "re-run datasets/build/derive_ansm_interactions.py"
