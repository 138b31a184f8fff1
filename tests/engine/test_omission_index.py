"""START omissions reached through the diagnosis index.

Condition-triggered criteria (a treatment missing for a diagnosis) are indexed by the ICD-10
prefixes they need, so that with a list of diagnoses only those that can fire are evaluated.
The index must change nothing: a diagnosis that calls for a treatment gets its omission when
no drug of the class is on the list, and not when one is; and the criteria the index returns are
those a scan of every loaded condition-triggered criterion keeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from pharma_service.engine.context import AnalysisContext
from pharma_service.engine.criteria_index import CompiledCriterion, CriteriaIndex
from pharma_service.engine.criteria_when import Scope
from pharma_service.engine.schemas import Criterion, CriterionWhen, DrugSelector, SourceInfo
from pharma_service.models import Analysis, AnalysisRequest, Category, Patient
from pharma_service.service import Engine, analyse_request

NEUTRAL = "PARACETAMOL 1 g : 1 cp 3 fois par jour"  # in no START criterion's class


@dataclass(frozen=True)
class Omission:
    rule: str
    diagnosis: str
    missing_class: str  # ATC prefix of the treatment expected
    present: tuple[str, ...]  # lines of drugs of that class, each enough to silence the criterion
    other_class: str  # a related drug of another class, which does not


OMISSIONS = [
    Omission(
        "start3:B2",
        "I25.1",
        "C10AA",
        ("ATORVASTATINE 20 mg : 1 cp le soir", "ROSUVASTATINE 10 mg : 1 cp le soir"),
        "KARDEGIC 75 mg : 1 sachet par jour",
    ),
    Omission(
        "start3:C1",
        "I48.0",
        "B01A",
        (
            "APIXABAN 5 mg : 1 cp matin et soir",
            "RIVAROXABAN 20 mg : 1 cp le soir",
            "WARFARINE 5 mg : 1 cp le soir",
        ),
        "KARDEGIC 75 mg : 1 sachet par jour",  # an antiplatelet is not an anticoagulant
    ),
    Omission(
        "start3:D1",
        "G20",
        "N04B",
        ("MODOPAR 125 : 1 gélule 3 fois par jour", "ROPINIROLE 2 mg : 1 cp 3 fois par jour"),
        "DONEPEZIL 5 mg : 1 cp le soir",
    ),
]


def _analyse(engine: Engine, patient: dict[str, Any], texts: list[str]) -> Analysis:
    request = AnalysisRequest.model_validate(
        {"patient": patient, "medications": [{"text": t} for t in texts]}
    )
    return analyse_request(request, engine=engine)


def _patient(*conditions: str, crcl: float | None = 50) -> dict[str, Any]:
    patient: dict[str, Any] = {"age": 80, "sex": "F", "weight_kg": 60, "conditions": list(conditions)}
    if crcl is not None:
        patient["crcl_ml_min"] = crcl
    return patient


def _omission_rules(analysis: Analysis) -> set[str]:
    """Rules of the omission findings no drug line triggered (the condition-triggered ones)."""
    return {
        rule
        for f in analysis.findings
        if f.category == Category.OMISSION and not f.drugs
        for rule in (f.rule, *f.related_rules)
    }


def _condition_triggered(engine: Engine) -> list[Criterion]:
    """Every loaded criterion that no drug triggers, from the packs, in load order."""
    return [c for pack in engine.kb.criteria_packs for c in pack.criteria if c.drugs is None]


def _may_fire(criterion: Criterion, codes: tuple[str, ...]) -> bool:
    """The naive filter: no code listed, no diagnosis needed, or a code under one of its prefixes."""
    prefixes = [p.replace(".", "") for p in criterion.when.conditions_any]
    return not codes or not prefixes or any(code.startswith(p) for code in codes for p in prefixes)


# ------------------------------------------------------------------ behaviour of chosen criteria


@pytest.mark.parametrize("om", OMISSIONS, ids=[o.rule for o in OMISSIONS])
def test_start_criterion_is_indexed_by_its_diagnosis(engine: Engine, om: Omission) -> None:
    criterion = next(c for c in _condition_triggered(engine) if c.id == om.rule)
    assert criterion.category == "omission" and criterion.action == "start"
    code = om.diagnosis.replace(".", "")
    assert any(code.startswith(p.replace(".", "")) for p in criterion.when.conditions_any)
    assert criterion.when.without_any is not None
    assert any(a.startswith(om.missing_class) for a in criterion.when.without_any.atc)
    # Reached from the diagnosis, and not from an unrelated one.
    index = engine.kb.criteria
    assert om.rule in [item.id for item in index.condition_triggered_for((code,))]
    assert om.rule not in [item.id for item in index.condition_triggered_for(("J189",))]


@pytest.mark.parametrize("om", OMISSIONS, ids=[o.rule for o in OMISSIONS])
def test_omission_when_the_treatment_is_absent(engine: Engine, om: Omission) -> None:
    for texts in ([NEUTRAL], [NEUTRAL, om.other_class]):
        analysis = _analyse(engine, _patient(om.diagnosis), texts)
        assert all(line.status == "resolved" for line in analysis.medications)
        finding = next(
            (f for f in analysis.findings if f.rule == om.rule or om.rule in f.related_rules), None
        )
        assert finding is not None, (om.rule, texts)
        assert finding.category == Category.OMISSION and finding.status == "confirmed"
        assert not finding.drugs


@pytest.mark.parametrize("om", OMISSIONS, ids=[o.rule for o in OMISSIONS])
def test_no_omission_when_a_drug_of_the_class_is_present(engine: Engine, om: Omission) -> None:
    for present in om.present:
        analysis = _analyse(engine, _patient(om.diagnosis), [NEUTRAL, present])
        line = analysis.medications[1]
        assert line.status == "resolved"
        assert any((s.atc or "").startswith(om.missing_class) for s in line.substances), present
        assert om.rule not in _omission_rules(analysis), present
        assert om.rule not in {u.rule for u in analysis.unevaluated}


@pytest.mark.parametrize("om", OMISSIONS, ids=[o.rule for o in OMISSIONS])
def test_no_omission_without_the_diagnosis(engine: Engine, om: Omission) -> None:
    others = [o.diagnosis for o in OMISSIONS if o.rule != om.rule]
    analysis = _analyse(engine, _patient(*others), [NEUTRAL])
    assert om.rule not in _omission_rules(analysis)
    # The other diagnoses' omissions are there: the request is not simply silent.
    assert {o.rule for o in OMISSIONS if o.rule != om.rule} <= _omission_rules(analysis)


# ------------------------------------------------------------------ index against a full scan


def _code_lists(engine: Engine) -> list[tuple[str, ...]]:
    """Every prefix a criterion needs, as a code, a longer code and with others; and unrelated codes."""
    prefixes = sorted(
        {p.replace(".", "") for c in _condition_triggered(engine) for p in c.when.conditions_any}
    )
    lists: list[tuple[str, ...]] = [(), ("J189",), ("Z000", "R51")]
    for n, prefix in enumerate(prefixes):
        lists.append((prefix,))
        lists.append((prefix + "9",))
        lists.append((prefix[:3],))  # a shorter code than some prefixes: must not match them
        lists.append((prefix, prefixes[(n * 7 + 3) % len(prefixes)], "J189"))
    return lists


def test_index_returns_what_a_full_scan_keeps(engine: Engine) -> None:
    index = engine.kb.criteria
    loaded = _condition_triggered(engine)
    assert [item.id for item in index.condition_triggered] == [c.id for c in loaded]
    assert sum(1 for c in loaded if c.when.conditions_any) >= 20
    lists = _code_lists(engine)
    for codes in lists:
        got = [item.id for item in index.condition_triggered_for(codes)]
        expected = [c.id for c in loaded if _may_fire(c, codes)]
        assert got == expected, codes
    # The index does filter: a diagnosis reaches far fewer criteria than there are.
    assert len(index.condition_triggered_for(("G20",))) < len(loaded) // 2


def _no_diagnosis_needed(n: int, when: CriterionWhen) -> Criterion:
    return Criterion(
        id=f"test:nodx{n}",
        category="omission",
        reference="test",
        when=when,
        severity="low",
        action="start",
        summary_fr="Critère de test sans diagnostic requis.",
    )


def test_index_keeps_criteria_that_need_no_diagnosis(engine: Engine) -> None:
    """The loaded packs have no such criterion today: an index of the packs plus three of them.

    One needing only an absent diagnosis, one needing nothing but an age and a missing drug, and
    one needing a clearance; they are added between the packs so that load order is checked too.
    """
    extra = [
        _no_diagnosis_needed(0, CriterionWhen(min_age=65, conditions_none=["I10"])),
        _no_diagnosis_needed(1, CriterionWhen(min_age=65, without_any=DrugSelector(atc=["A11CC"]))),
        _no_diagnosis_needed(2, CriterionWhen(crcl_below=30)),
    ]
    source = SourceInfo(id="test", label="test", citation="test", version="0")
    index = CriteriaIndex()
    scanned: list[Criterion] = []
    for n, pack in enumerate(engine.kb.criteria_packs):
        for criterion in pack.criteria:
            index.add(criterion, pack.source)
            if criterion.drugs is None:
                scanned.append(criterion)
        if n < len(extra):
            index.add(extra[n], source)
            scanned.append(extra[n])
    assert {c.id for c in extra} <= {item.id for item in index.condition_triggered}
    for codes in _code_lists(engine):
        got = [item.id for item in index.condition_triggered_for(codes)]
        assert got == [c.id for c in scanned if _may_fire(c, codes)], codes
        assert {c.id for c in extra} <= set(got), codes


def _naive_outcome(engine: Engine, patient: dict[str, Any], texts: list[str]) -> dict[str, list[str]]:
    """Every condition-triggered criterion evaluated, without the index: id -> missing data."""
    request = AnalysisRequest.model_validate(
        {"patient": patient, "medications": [{"text": t} for t in texts]}
    )
    meds = engine.normaliser.normalise(request.medications)
    ctx = AnalysisContext(patient=Patient.model_validate(patient), lines=list(meds.lines), kb=engine.kb)
    scope = Scope(ctx, ctx.views, ctx.age, ctx.renal.crcl_ml_min, ctx.patient.labs, ctx.condition_codes)
    compiled: dict[str, CompiledCriterion] = {
        item.id: item for item in engine.kb.criteria.condition_triggered
    }
    outcome: dict[str, list[str]] = {}
    for criterion in _condition_triggered(engine):
        when = compiled[criterion.id].when
        if (when.min_count or 0) > 0:
            continue
        missing = when.patient_missing(scope)
        if missing is None:
            continue
        on_no_line = when.line_missing(scope, []) if when.line_parts else []
        if on_no_line is None:
            continue
        outcome[criterion.id] = missing + on_no_line
    return outcome


def test_analysis_reports_the_omissions_a_full_scan_finds(engine: Engine) -> None:
    """Through the whole analysis, with and without the treatments, with and without the clearance."""
    prefixes = sorted({p for c in _condition_triggered(engine) for p in c.when.conditions_any})
    med_lists = [[NEUTRAL], [NEUTRAL, *(o.present[0] for o in OMISSIONS)]]
    fired_somewhere: set[str] = set()
    for n, prefix in enumerate(prefixes):
        conditions = [prefix, prefixes[(n * 5 + 1) % len(prefixes)]]
        for texts in med_lists:
            for crcl in (50, None):
                patient = _patient(*conditions, crcl=crcl)
                naive = _naive_outcome(engine, patient, texts)
                analysis = _analyse(engine, patient, texts)
                confirmed = {rule for rule, missing in naive.items() if not missing}
                reported = {
                    rule
                    for f in analysis.findings
                    if f.category == Category.OMISSION and not f.drugs
                    for rule in (f.rule, *f.related_rules)
                }
                unevaluated = {
                    c.split(" — ", 1)[0] for u in analysis.unevaluated if not u.drugs for c in u.criteria
                }
                assert reported | unevaluated == set(naive), (conditions, texts, crcl)
                confirmed_reported = {
                    f.rule
                    for f in analysis.findings
                    if f.category == Category.OMISSION and not f.drugs and f.status == "confirmed"
                }
                assert confirmed_reported == confirmed, (conditions, texts, crcl)
                fired_somewhere |= confirmed
    # The scan is not vacuous: most diagnosis-triggered criteria fired for some patient.
    with_diagnosis = {c.id for c in _condition_triggered(engine) if c.when.conditions_any}
    assert len(fired_somewhere & with_diagnosis) >= len(with_diagnosis) * 3 // 4
    assert {o.rule for o in OMISSIONS} <= fired_somewhere
