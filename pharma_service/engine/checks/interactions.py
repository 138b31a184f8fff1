"""ANSM drug interactions: one dictionary lookup per pair of substances on different lines."""

from __future__ import annotations

from collections.abc import Iterator
from operator import attrgetter

from pharma_service.engine.context import AnalysisContext, Occurrence
from pharma_service.engine.drafts import FindingDraft
from pharma_service.engine.kb import LEVELS, EntryRules, InteractionRule
from pharma_service.models import Category, InteractionLevel, Severity

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
_LEVEL_OF = {level.value: level for level in InteractionLevel}

_LINE_INDEX = attrgetter("line_index")


def check_interactions(ctx: AnalysisContext) -> Iterator[FindingDraft]:
    # Pair of substances -> their occurrences by (line, substance): a substance on two lines
    # counts twice, one listed several times on a line (a starter pack) once.
    found: dict[tuple[str, str], dict[tuple[int, str], Occurrence]] = {}
    pair_entries = ctx.kb.pair_entries
    occurrences = ctx.occurrences
    for i, first in enumerate(occurrences):
        first_key, first_line = first.key, first.line_index
        for second in occurrences[i + 1 :]:
            if first_key < second.key:
                a, b = first, second
            else:
                a, b = second, first
            pair = (a.key, b.key)
            # Substances of one product are meant to be taken together.
            if pair in pair_entries and first_line != second.line_index:
                involved = found.get(pair)
                if involved is None:
                    involved = found[pair] = {}
                involved.setdefault((a.line_index, a.key), a)
                involved.setdefault((b.line_index, b.key), b)
    # Several thesaurus entries may cover one pair (a substance rule and a class rule):
    # one finding per pair, at the most constraining level, naming the other entries.
    for pair, involved in found.items():
        drafts = []
        for entry in pair_entries[pair]:
            draft = _draft(ctx, pair, entry, list(involved.values()))
            if draft is not None:
                drafts.append(draft)
        if drafts:
            yield _merge(drafts)


def _merge(drafts: list[FindingDraft]) -> FindingDraft:
    if len(drafts) == 1:
        return drafts[0]
    drafts.sort(key=lambda f: (f.severity.rank, f.status != "confirmed", f.rule))
    lead, others = drafts[0], drafts[1:]
    more = " ".join(f"Autre règle : {f.summary} [{f.rule}]." for f in others)
    levels = {lv for f in drafts for lv in f.codes["levels_in_entry"]}
    lead.detail = f"{lead.detail} {more}".strip()
    lead.related_rules = [f.rule for f in others]
    lead.codes = {**lead.codes, "levels_in_entry": sorted(levels, key=LEVELS.index)}
    return lead


def _chosen_rule(
    ctx: AnalysisContext, rules: tuple[InteractionRule, ...], involved: list[Occurrence]
) -> tuple[InteractionRule, bool] | None:
    """The most severe row whose condition holds, else the most severe whose condition is unknown.

    Returns the row and whether its condition is unknown (the finding is then to verify).
    At equal level a row that holds wins over an unknown one.
    """
    if len(rules) == 1 and rules[0].condition_test is None:
        return rules[0], False
    holding: InteractionRule | None = None
    unknown: InteractionRule | None = None
    for rule in rules:
        test = rule.condition_test
        verdict = True if test is None else test(ctx, involved)
        if verdict is True:
            if holding is None or rule.rank < holding.rank:
                holding = rule
        elif verdict is None and (unknown is None or rule.rank < unknown.rank):
            unknown = rule
    if holding is not None and (unknown is None or holding.rank <= unknown.rank):
        return holding, False
    return None if unknown is None else (unknown, True)


def _draft(
    ctx: AnalysisContext, pair: tuple[str, str], entry: EntryRules, involved: list[Occurrence]
) -> FindingDraft | None:
    """The finding of one entry on one pair of substances (`involved`: their occurrences)."""
    picked = _chosen_rule(ctx, entry.rules, involved)
    if picked is None:
        return None
    chosen, to_verify = picked
    level = _LEVEL_OF[chosen.level]
    involved.sort(key=_LINE_INDEX)
    if len(involved) == 2:  # the usual case: one line each
        names = [involved[0].name, involved[1].name]
        if names[0] == names[1]:
            del names[1]
    else:
        names = list(dict.fromkeys([o.name for o in involved]))
    detail = [chosen.risk_sentence] if chosen.risk_sentence else []
    if {n.lower() for n in names} != chosen.entry_names:
        detail.append(chosen.entry_sentence)
    missing: list[str] = []
    if chosen.condition:
        if to_verify:
            detail.append(
                "Niveau retenu par défaut (le plus contraignant) ; condition à vérifier : "
                f"{chosen.condition_label}."
            )
            missing.append(chosen.condition_label)
        else:
            detail.append(f"Condition remplie : {chosen.condition_label}.")
    return FindingDraft(
        id=f"{chosen.id}|{pair[0]}+{pair[1]}",
        category=Category.INTERACTION,
        severity=LEVEL_SEVERITY[level],
        level=level,
        drugs=[o.ref for o in involved],
        summary=_clip(f"{LEVEL_LABEL_FR[level]} : {' + '.join(names)}{chosen.summary_risk}"),
        detail=" ".join(detail),
        recommendation=chosen.recommendation,
        rule=chosen.id,
        source=chosen.source,
        status="to_verify" if to_verify else "confirmed",
        missing_data=missing,
        codes={
            "risks": list(chosen.risks),
            "actions": list(chosen.actions),
            "condition": chosen.condition or None,
            "levels_in_entry": list(entry.levels),
        },
    )


def _clip(text: str, limit: int = 140) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
