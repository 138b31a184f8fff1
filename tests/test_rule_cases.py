"""Clinical rules tested as data: every case in rules/tests/*.yaml runs through the engine.

A case names the medication lines and the patient, the findings expected (matched
on the keys given) and the rules that must stay silent. The loader is strict:
an unknown key in a case file fails with the file and the case name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field

from pharma_service.models import AnalysisRequest, Finding, MedicationInput
from pharma_service.service import Engine, analyse_request

CASES_DIR = Path(__file__).resolve().parents[1] / "rules" / "tests"


class Expected(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule: str = Field(description="Rule id, or its prefix ending with '*'.")
    category: str | None = None
    level: str | None = None
    severity: str | None = None
    status: str | None = None
    drugs: list[str] | None = Field(default=None, description="Substance names, any order.")

    def matches(self, finding: Finding) -> bool:
        if not any(_rule_matches(self.rule, r) for r in [finding.rule, *finding.related_rules]):
            return False
        for key in ("category", "level", "severity", "status"):
            wanted = getattr(self, key)
            if wanted is not None and str(getattr(finding, key)) != wanted:
                return False
        return self.drugs is None or sorted({d.name for d in finding.drugs}) == sorted(set(self.drugs))


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    patient: dict[str, Any]
    medications: list[str | dict[str, Any]]
    expect: list[Expected] = Field(default_factory=list)
    absent: list[str] = Field(default_factory=list, description="Rule ids or prefixes ending with '*'.")


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    family: str
    cases: list[Case]


def _rule_matches(pattern: str, rule: str) -> bool:
    return rule.startswith(pattern[:-1]) if pattern.endswith("*") else rule == pattern


def load_case_files() -> list[tuple[Path, CaseFile]]:
    files = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        try:
            files.append((path, CaseFile.model_validate(data)))
        except Exception as exc:  # report which file is wrong, then fail
            raise AssertionError(f"{path}: invalid case file: {exc}") from exc
    return files


CASE_FILES = load_case_files()
ALL_CASES = [(path.name, case) for path, cf in CASE_FILES for case in cf.cases]


@pytest.mark.parametrize(("file", "case"), ALL_CASES, ids=[f"{f}:{c.name}" for f, c in ALL_CASES])
def test_rule_case(engine: Engine, file: str, case: Case) -> None:
    meds = [MedicationInput(text=m) if isinstance(m, str) else MedicationInput(**m) for m in case.medications]
    request = AnalysisRequest(patient=case.patient, medications=meds)  # type: ignore[arg-type]
    findings = analyse_request(request, engine=engine).findings
    seen = [f"{f.rule} {f.level or ''} {f.status} {[d.name for d in f.drugs]}" for f in findings]
    for expected in case.expect:
        assert any(expected.matches(f) for f in findings), (
            f"{file} / {case.name}: expected {expected.model_dump(exclude_none=True)}; got {seen}"
        )
    for pattern in case.absent:
        fired = [r for f in findings for r in [f.rule, *f.related_rules] if _rule_matches(pattern, r)]
        assert not fired, f"{file} / {case.name}: {pattern} must not fire, got {fired}"


def test_every_rule_family_has_a_positive_and_a_negative_case(engine: Engine) -> None:
    families = {
        "unresolved:line",
        "unresolved:ambiguous",
        "dup:same-substance",
        "qt:combination",
        "qt:risk_factors",
        *(c.id for c in engine.kb.duplications.classes),
        *(f"{scale.info.id}:high" for scale in engine.kb.scales),
        *(c.id for pack in engine.kb.criteria_packs for c in pack.criteria),
        "vaccines:to-check",
        *(f"vaccines:{entry.id}" for entry in engine.kb.vaccines.entries),
    }
    positives = {e.rule for _, c in ALL_CASES for e in c.expect}
    negatives = {a for _, c in ALL_CASES for a in c.absent}
    for family in sorted(families):
        assert any(_rule_matches(p, family) for p in positives), f"no positive case for {family}"
        assert any(_rule_matches(n, family) for n in negatives), f"no negative case for {family}"
    levels_pos = {e.level for _, c in ALL_CASES for e in c.expect if e.rule.startswith("ansm:")}
    assert {"CI", "ASDEC", "PE", "APEC"} <= levels_pos, levels_pos
    assert any(n.startswith("ansm:") for n in negatives)
    for condition_id in engine.kb.conditions:
        users = [r.id for r in engine.kb.interactions if r.condition == condition_id]
        if users:
            assert (
                any(_rule_matches(e.rule, rid) for _, c in ALL_CASES for e in c.expect for rid in users)
                or condition_id in UNTESTED_CONDITIONS
            ), f"no case exercises condition {condition_id}"


# Conditions whose rules are only reachable through 'manual' checks are listed here
# with the reason; keep this list short.
UNTESTED_CONDITIONS: dict[str, str] = {}
