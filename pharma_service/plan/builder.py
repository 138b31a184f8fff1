"""Build the PPP from an analysis: one problem per clinical issue, coded with Act-IP, prioritised.

Findings about the same drugs and the same risk become one problem (an ANSM
torsades interaction and the QT assessment of the same drugs, a PIM named by
several sources). The coding rules, monitoring labels, participants and follow-up
days are data (rules/ppp/actip.yaml).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta

from pharma_service.engine.kb import KnowledgeBase
from pharma_service.engine.schemas import ActIpFile, ActIpMatch
from pharma_service.models import Analysis, DrugRef, Finding, LineStatus, MedicationLine, Posology, Source
from pharma_service.plan.models import ActIpCode, FollowUp, PlanProblem, Ppp, TreatmentRow

_QT_RISKS = {"torsades", "qt_prolongation"}
_SEVERITY_PRIORITY = {"critical": 1, "high": 2, "moderate": 3, "low": 4, "info": 5}


def plan(analysis: Analysis, *, kb: KnowledgeBase, plan_date: date | None = None) -> Ppp:
    actip = kb.actip
    today = plan_date or date.today()
    groups = _merge([f for f in analysis.findings if f.category.value != "unresolved"])
    problems = [_problem(group, actip) for group in groups]
    problems.sort(key=lambda p: (p.priority, p.problem.code, p.title))
    problems = [p.model_copy(update={"number": n}) for n, p in enumerate(problems, start=1)]
    src = actip.source
    return Ppp(
        plan_date=today,
        patient=analysis.patient,
        treatment=[_row(line) for line in analysis.medications],
        problems=problems,
        lines_to_check=[f.summary for f in analysis.findings if f.category.value == "unresolved"],
        unevaluated=[
            f"{u.summary} : " + " ; ".join(c.split(" — ", 1)[-1] for c in u.criteria)
            if len(u.criteria) > 1
            else f"{u.summary} — manque : {', '.join(u.missing_data)} ({u.rule})"
            for u in analysis.unevaluated
        ],
        scores=analysis.scores,
        eligibility=analysis.eligibility,
        participants=list(actip.participants),
        follow_up=[FollowUp(days=d, due=today + timedelta(days=d)) for d in actip.follow_up_days],
        coding_source=Source(label=src.label, version=src.version, reference=src.citation),
        knowledge=analysis.knowledge,
    )


def _risk_family(finding: Finding) -> str:
    if finding.category.value == "qt":
        return "qt"
    if finding.category.value == "interaction":
        risks = list(finding.codes.get("risks", []))
        if set(risks) & _QT_RISKS:
            return "qt"
        # The first risk code is the entry's main risk (the one its summary names).
        return "interaction:" + (risks[0] if risks else finding.rule)
    return finding.category.value


def _lines(finding: Finding) -> frozenset[int]:
    return frozenset(d.line for d in finding.drugs if d.line is not None)


def _merge(findings: list[Finding]) -> list[list[Finding]]:
    """Group findings on the same lines and risk; the QT assessment absorbs the torsades interactions."""
    groups: dict[tuple[str, frozenset[int]], list[Finding]] = {}
    for finding in findings:
        lines = _lines(finding)
        # A finding about no line (an omission, a vaccination) is an issue of its own.
        family = _risk_family(finding) if lines else f"{_risk_family(finding)}|{finding.id}"
        groups.setdefault((family, lines), []).append(finding)
    qt_keys = [k for k, g in groups.items() if k[0] == "qt" and any(f.category.value == "qt" for f in g)]
    for qt_key in qt_keys:
        # A torsades interaction sharing a drug with the QT assessment is the same issue.
        for key in [k for k in groups if k[0] == "qt" and k != qt_key and k[1] & qt_key[1]]:
            groups[qt_key].extend(groups.pop(key))
    merged = _merge_around_a_drug([sorted(g, key=lambda f: (f.severity.rank, f.id)) for g in groups.values()])
    return [sorted(g, key=lambda f: (f.severity.rank, f.id)) for g in merged]


_SHARED_RISK_LEVELS = {"PE", "APEC"}


def _merge_around_a_drug(groups: list[list[Finding]]) -> list[list[Finding]]:
    """Precautions of one risk around one drug (fluindione + three others: watch the INR) are one issue.

    Contraindications and advised-against pairs keep a problem each: each calls
    for its own decision.
    """

    def shareable(group: list[Finding]) -> bool:
        lead = group[0]
        return (
            lead.category.value == "interaction"
            and (lead.level.value if lead.level else "") in _SHARED_RISK_LEVELS
        )

    rest = [g for g in groups if not shareable(g)]
    pool = [g for g in groups if shareable(g)]
    while pool:
        # Precautions and points to take into account of one risk around one drug: one issue.
        by_key: dict[tuple[str, int], list[int]] = {}
        for i, group in enumerate(pool):
            lead = group[0]
            for line in _lines(lead):
                by_key.setdefault((_risk_family(lead), line), []).append(i)
        key, members = max(by_key.items(), key=lambda kv: (len(kv[1]), kv[0]), default=(None, []))
        if key is None or len(members) < 2:
            rest.extend(pool)
            break
        rest.append([f for i in members for f in pool[i]])
        pool = [g for i, g in enumerate(pool) if i not in members]
    return rest


def _code(finding: Finding, actip: ActIpFile) -> tuple[ActIpCode, ActIpCode]:
    actions = finding.codes.get("actions", [])
    has_alternatives = bool(
        finding.codes.get("cyp", {}).get("alternatives") or "Alternatives" in finding.recommendation
    )
    facts = {
        "category": finding.category.value,
        "level": finding.level.value if finding.level else None,
        "has_alternatives": has_alternatives,
    }
    for rule in actip.coding:
        if _matches(rule.match, facts, actions):
            return (
                ActIpCode(code=rule.problem, label=actip.problems[rule.problem]),
                ActIpCode(code=rule.intervention, label=actip.interventions[rule.intervention]),
            )
    return ActIpCode(code="10", label=actip.problems["10"]), ActIpCode(
        code="5", label=actip.interventions["5"]
    )


def _matches(match: ActIpMatch, facts: Mapping[str, object], actions: list[str]) -> bool:
    if match.category is not None and match.category != facts["category"]:
        return False
    if match.level is not None and match.level != facts["level"]:
        return False
    if match.action is not None and match.action not in actions:
        return False
    return match.has_alternatives is None or match.has_alternatives == facts["has_alternatives"]


def _problem(group: list[Finding], actip: ActIpFile) -> PlanProblem:
    lead = group[0]
    problem, intervention = _code(lead, actip)
    title = lead.summary if len(group) == 1 or lead.category.value != "interaction" else _shared_title(group)
    monitoring: list[str] = []
    for finding in group:
        for action in finding.codes.get("actions", []):
            if action in actip.monitoring:
                monitoring.append(actip.monitoring[action])
        monitoring += actip.category_monitoring.get(finding.category.value, [])
    drugs: dict[tuple[int | None, str], DrugRef] = {}
    for finding in group:
        for drug in finding.drugs:
            drugs.setdefault((drug.line, drug.name), drug)
    rationale = " ".join(dict.fromkeys(f.detail for f in group if f.detail))
    proposal = " ".join(dict.fromkeys(f.recommendation for f in group if f.recommendation))
    return PlanProblem(
        number=0,
        priority=min(_SEVERITY_PRIORITY[f.severity.value] for f in group),
        severity=lead.severity.value,
        title=title,
        drugs=list(drugs.values()),
        problem=problem,
        intervention=intervention,
        proposal=f"{intervention.label}. {proposal}".strip(),
        rationale=rationale,
        monitoring=list(dict.fromkeys(monitoring)),
        sources=list({(s.label, s.version): s for s in (f.source for f in group)}.values()),
        findings=[f.id for f in group],
        status="confirmed" if any(f.status == "confirmed" for f in group) else "to_verify",
        missing_data=sorted({m for f in group for m in f.missing_data}),
    )


def _shared_title(group: list[Finding]) -> str:
    """'Précaution d'emploi : fluindione + clarithromycine, amiodarone (risque hémorragique majoré)'."""
    counts: dict[str, int] = {}
    for finding in group:
        for name in dict.fromkeys(d.name for d in finding.drugs):
            counts[name] = counts.get(name, 0) + 1
    hub = max(counts, key=lambda n: (counts[n], n))
    others = [n for n in dict.fromkeys(d.name for f in group for d in f.drugs) if n != hub]
    head = group[0].summary.split(" : ")[0]
    risk = group[0].summary.rsplit(" (", 1)[1] if " (" in group[0].summary else ""
    return f"{head} : {hub} + {', '.join(others)}" + (f" ({risk}" if risk else "")


def _row(line: MedicationLine) -> TreatmentRow:
    substances = ", ".join(
        s.name + (f" {_n(s.strength.value)} {s.strength.unit}" if s.strength else "") for s in line.substances
    )
    status = {
        LineStatus.RESOLVED: "",
        LineStatus.AMBIGUOUS: "à confirmer",
        LineStatus.UNRESOLVED: "non reconnu",
    }
    return TreatmentRow(
        line=line.index + 1,
        drug=line.product.name if line.product else line.line,
        substances=substances or "—",
        posology=describe_posology(line.posology) if line.posology else "",
        status=status[line.status],
    )


def _n(value: float) -> str:
    """French decimal: 0.75 -> '0,75'."""
    return f"{value:g}".replace(".", ",")


def describe_posology(p: Posology) -> str:
    """A short French reading of a parsed posology: '1 comprimé matin et soir, pendant 7 j'."""
    parts: list[str] = []
    if p.units_per_intake is not None:
        parts.append(f"{_n(p.units_per_intake)} {p.unit or ''}".strip())
    if p.times_of_day:
        parts.append(" et ".join(p.times_of_day) if len(p.times_of_day) < 3 else ", ".join(p.times_of_day))
    elif p.intakes_per_period and p.period_days == 1:
        parts.append(f"{_n(p.intakes_per_period)} fois par jour")
    elif p.intakes_per_period and p.period_days == 7:
        parts.append(f"{_n(p.intakes_per_period)} fois par semaine")
    elif p.intakes_per_period and p.period_days:
        parts.append(f"{_n(p.intakes_per_period)} fois tous les {_n(p.period_days)} jours")
    if p.as_needed:
        parts.append("si besoin" + (f" ({p.as_needed_reason})" if p.as_needed_reason else ""))
    if p.max_units_per_day is not None:
        parts.append(f"maximum {_n(p.max_units_per_day)} par jour")
    if p.duration_days is not None:
        parts.append(f"pendant {_n(p.duration_days)} j")
    if p.daily_dose is not None:
        parts.append(f"soit {_n(p.daily_dose.value)} {p.daily_dose.unit}/j")
    return ", ".join(parts)
