"""ANSM drug interactions: one dictionary lookup per pair of substances on different lines."""

from __future__ import annotations

from collections.abc import Iterator

from pharma_service.engine.conditions import evaluate
from pharma_service.engine.context import AnalysisContext, Occurrence
from pharma_service.engine.kb import LEVELS, InteractionRule
from pharma_service.models import (
    Category,
    Finding,
    InteractionLevel,
    Severity,
)

LEVEL_SEVERITY = {
    InteractionLevel.CI: Severity.CRITICAL,
    InteractionLevel.ASDEC: Severity.HIGH,
    InteractionLevel.PE: Severity.MODERATE,
    InteractionLevel.APEC: Severity.LOW,
}
LEVEL_LABEL_FR = {
    InteractionLevel.CI: "Contre-indication",
    InteractionLevel.ASDEC: "Association déconseillée",
    InteractionLevel.PE: "Précaution d'emploi",
    InteractionLevel.APEC: "À prendre en compte",
}


def check_interactions(ctx: AnalysisContext) -> Iterator[Finding]:
    # (entry, substance a, substance b) -> the entry's rules and the occurrences involved,
    # the latter keyed by (line, substance) so that a substance on two lines counts twice.
    groups: dict[
        tuple[tuple[str, str], str, str],
        tuple[list[InteractionRule], dict[tuple[int, str], Occurrence]],
    ] = {}
    occurrences = ctx.occurrences
    for i, first in enumerate(occurrences):
        for second in occurrences[i + 1 :]:
            if first.line.index == second.line.index:
                continue  # substances of one product are meant to be taken together
            rules = ctx.kb.interaction_rules(first.key, second.key)
            if not rules:
                continue
            a, b = (first, second) if first.key < second.key else (second, first)
            for rule in rules:
                group = groups.get((rule.entry, a.key, b.key))
                if group is None:
                    group = groups[(rule.entry, a.key, b.key)] = ([], {})
                if rule not in group[0]:
                    group[0].append(rule)
                for occ in (a, b):
                    group[1].setdefault((occ.line.index, occ.key), occ)
    # Several thesaurus entries may cover one pair (a substance rule and a class rule):
    # one finding per pair, at the most constraining level, naming the other entries.
    by_pair: dict[frozenset[str], list[Finding]] = {}
    for entry_rules, involved in groups.values():
        finding = _finding(ctx, entry_rules, list(involved.values()))
        if finding is not None:
            by_pair.setdefault(frozenset(o.key for o in involved.values()), []).append(finding)
    for findings in by_pair.values():
        yield _merge(findings)


def _merge(findings: list[Finding]) -> Finding:
    if len(findings) == 1:
        return findings[0]
    findings.sort(key=lambda f: (f.severity.rank, f.status != "confirmed", f.rule))
    lead, others = findings[0], findings[1:]
    more = " ".join(f"Autre règle : {f.summary} [{f.rule}]." for f in others)
    levels = {lv for f in findings for lv in f.codes["levels_in_entry"]}
    return lead.model_copy(
        update={
            "detail": f"{lead.detail} {more}".strip(),
            "related_rules": [f.rule for f in others],
            "codes": {**lead.codes, "levels_in_entry": sorted(levels, key=LEVELS.index)},
        }
    )


def _finding(
    ctx: AnalysisContext, rules: list[InteractionRule], involved: list[Occurrence]
) -> Finding | None:
    """Pick the level of an entry: the most severe row whose condition holds or is unknown."""
    applying: list[InteractionRule] = []
    unknown: list[InteractionRule] = []
    for rule in rules:
        if not rule.condition:
            applying.append(rule)
            continue
        verdict = evaluate(ctx.kb.conditions[rule.condition].evaluate, ctx, involved)
        if verdict is True:
            applying.append(rule)
        elif verdict is None:
            unknown.append(rule)
    if not applying and not unknown:
        return None
    chosen = min(applying + unknown, key=lambda r: r.rank)
    to_verify = chosen not in applying
    level = InteractionLevel(chosen.level)
    kb = ctx.kb
    involved.sort(key=lambda o: o.line.index)
    names = list(dict.fromkeys(o.substance.name for o in involved))
    risks = chosen.risk_labels
    summary = f"{LEVEL_LABEL_FR[level]} : {' + '.join(names)}"
    if risks:
        summary = f"{summary} ({risks[0].lower()})"
    detail_parts = [f"Risque : {'; '.join(risks)}." if risks else ""]
    entry_text = f"{chosen.a_name} + {chosen.b_name}"
    if {n.lower() for n in names} != {chosen.a_name.lower(), chosen.b_name.lower()}:
        detail_parts.append(f"Règle du thésaurus : {entry_text}.")
    missing: list[str] = []
    if chosen.condition:
        condition_label = kb.conditions[chosen.condition].label_fr
        if to_verify:
            detail_parts.append(
                f"Niveau retenu par défaut (le plus contraignant) ; condition à vérifier : {condition_label}."
            )
            missing.append(condition_label)
        else:
            detail_parts.append(f"Condition remplie : {condition_label}.")
    return Finding(
        id=f"{chosen.id}|{'+'.join(sorted({o.key for o in involved}))}",
        category=Category.INTERACTION,
        severity=LEVEL_SEVERITY[level],
        level=level,
        drugs=[o.drug_ref() for o in involved],
        summary=_clip(summary),
        detail=" ".join(p for p in detail_parts if p),
        recommendation=chosen.recommendation,
        rule=chosen.id,
        source=chosen.source,
        status="to_verify" if to_verify else "confirmed",
        missing_data=missing,
        codes={
            "risks": list(chosen.risks),
            "actions": list(chosen.actions),
            "condition": chosen.condition or None,
            "levels_in_entry": [r.level for r in sorted(rules, key=lambda r: r.rank)],
        },
    )


def _clip(text: str, limit: int = 140) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
