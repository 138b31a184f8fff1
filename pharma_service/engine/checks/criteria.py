"""Geriatric criteria (inappropriate drugs, renal and dose limits, omissions) from rules/ packs.

Each criterion is evaluated on the lines its drug selector matches (or once, for
condition-triggered omissions). Every part of its `when` is True, False or
unknown. A criterion with a False part is silent. One whose parts are all True
is a finding. One with unknown parts is reported, never dropped: as a finding
"to verify" when what is missing is the clearance, the dose or the posology (the
pharmacist must act on those), or in the analysis' `unevaluated` list when what
is missing is a diagnosis, a duration or a lab value the request did not carry.
Findings of several sources about the same line and category are merged into one,
naming every criterion that fired.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from pharma_service.engine.context import AnalysisContext, Occurrence
from pharma_service.engine.criteria_index import (
    CompiledCriterion,
    CompiledSelector,
    CriteriaIndex,
    atc_prefixes,
    line_codes,
)
from pharma_service.engine.schemas import CriterionWhen, DoseLimit
from pharma_service.models import (
    Category,
    DrugRef,
    Finding,
    LineStatus,
    MedicationLine,
    Severity,
    Source,
    Unevaluated,
)

# Missing data of these kinds make a "to verify" finding; the others go to `unevaluated`.
_ACTIONABLE_MISSING = {"clairance de la créatinine", "posologie (dose journalière)", "posologie"}
_SEVERITY_ORDER = [s.value for s in Severity]


@dataclass(frozen=True, slots=True)
class LineView:
    """A systemic, understood line with its ATC prefixes, computed once per analysis."""

    line: MedicationLine
    prefixes: frozenset[str]  # of every code of the line (substances and product)
    product_prefixes: frozenset[str]
    substances: tuple[tuple[Occurrence, frozenset[str]], ...]


class Lines(list[LineView]):
    """The line views of one analysis, with the union of their ATC prefixes and substance keys."""

    def __init__(self, views: list[LineView]) -> None:
        super().__init__(views)
        self.prefixes: frozenset[str] = frozenset().union(*(v.prefixes for v in views))
        self.keys = frozenset(o.key for v in views for o, _ in v.substances)


def line_views(ctx: AnalysisContext) -> Lines:
    views = []
    for line in ctx.lines:
        if line.status == LineStatus.UNRESOLVED or line.route == "topical":
            continue
        subs = tuple((Occurrence(line, s), atc_prefixes([s.atc] if s.atc else [])) for s in line.substances)
        product = atc_prefixes([line.atc]) if line.atc else frozenset()
        views.append(LineView(line, atc_prefixes(line_codes(line)), product, subs))
    return Lines(views)


def _drug_candidates(
    index: CriteriaIndex, views: list[LineView]
) -> list[tuple[CompiledCriterion, list[LineView]]]:
    """The drug-triggered criteria the lines can fire, each with the lines that reach it."""
    found: dict[str, tuple[CompiledCriterion, list[LineView]]] = {}
    for view in views:
        reached: dict[str, CompiledCriterion] = {}
        for prefix in view.prefixes:
            for item in index.by_atc_prefix.get(prefix, ()):
                reached[item.criterion.id] = item
        for occ, _ in view.substances:
            for item in index.by_substance.get(occ.key, ()):
                reached[item.criterion.id] = item
        for crit_id, item in reached.items():
            found.setdefault(crit_id, (item, []))[1].append(view)
    return list(found.values())


def _on_the_list(selector: CompiledSelector, views: Lines) -> bool:
    # Cheap pre-check on the whole list: no shared ATC prefix nor substance, no match.
    if not (selector.atc & views.prefixes or selector.substances & views.keys):
        return False
    return any(selector_matches(selector, v) for v in views)


def selector_matches(selector: CompiledSelector, view: LineView) -> list[Occurrence]:
    """The occurrences of the line the selector designates; empty when it does not match."""
    if selector.exclude_atc & view.prefixes:
        return []
    hits = [
        occ
        for occ, prefixes in view.substances
        if occ.key not in selector.exclude_substances
        and (occ.key in selector.substances or selector.atc & prefixes)
    ]
    if not hits and selector.atc & view.product_prefixes:
        hits = [occ for occ, _ in view.substances if occ.key not in selector.exclude_substances]
    return hits


@dataclass
class _Verdict:
    fired: bool
    missing: list[str]


class _Silent(Exception):
    """A part of the criterion is false: stop evaluating the rest."""


def _evaluate_when(
    item: CompiledCriterion,
    ctx: AnalysisContext,
    views: Lines,
    hits: list[Occurrence],
    all_hits: list[list[Occurrence]],
) -> _Verdict:
    try:
        return _Verdict(True, _missing_parts(item, ctx, views, hits, all_hits))
    except _Silent:
        return _Verdict(False, [])


def _missing_parts(
    item: CompiledCriterion,
    ctx: AnalysisContext,
    views: Lines,
    hits: list[Occurrence],
    all_hits: list[list[Occurrence]],
) -> list[str]:
    """What is unknown when no part is false; raises _Silent at the first false part (cheap parts first)."""
    when = item.criterion.when
    missing: list[str] = []

    def record(result: bool | None, what: str) -> None:
        if result is False:
            raise _Silent
        if result is None:
            missing.append(what)

    patient = ctx.patient
    if when.min_age is not None:
        record(patient.age_years >= when.min_age, "âge")
    if when.min_count is not None:
        record(len(all_hits) >= when.min_count, "nombre de médicaments")
    crcl = ctx.renal.crcl_ml_min
    if when.crcl_below is not None:
        record(None if crcl is None else crcl < when.crcl_below, "clairance de la créatinine")
    if when.crcl_at_least is not None:
        record(None if crcl is None else crcl >= when.crcl_at_least, "clairance de la créatinine")
    for lab, rng in when.labs.items():
        value = getattr(patient.labs, lab, None)
        record(None if value is None else rng.contains(value), f"biologie ({lab})")
    if when.conditions_any:
        has = ctx.has_condition(when.conditions_any)
        record(
            True if has else (False if patient.conditions else None),
            "diagnostic (" + ", ".join(when.conditions_any) + ")",
        )
    if when.conditions_none:
        has = ctx.has_condition(when.conditions_none)
        record(
            False if has else (True if patient.conditions else None),
            "absence de diagnostic (" + ", ".join(when.conditions_none) + ")",
        )
    if when.daily_dose_above is not None or when.daily_dose_at_least is not None:
        record(_dose_check(when, ctx, hits), "posologie (dose journalière)")
    if when.duration_days_above is not None:
        durations = [o.line.posology.duration_days for o in hits if o.line.posology]
        known = [d for d in durations if d is not None]
        record(any(d > when.duration_days_above for d in known) if known else None, "durée de traitement")
    if when.regular_use is not None:
        posologies = [o.line.posology for o in hits]
        if any(p is None or (p.intakes_per_day is None and not p.as_needed) for p in posologies):
            record(None, "posologie")
        else:
            regular = any(p is not None and not p.as_needed for p in posologies)
            record(regular == when.regular_use, "posologie")
    if item.with_any is not None:
        own = {o.line.index for o in hits}
        others = [v for v in views if v.line.index not in own]
        record(any(selector_matches(item.with_any, v) for v in others), "co-prescription")
    if item.without_any is not None:
        record(not _on_the_list(item.without_any, views), "traitement associé")
    return missing


def _limit_mg(limit: DoseLimit) -> float | None:
    return {"mg": limit.value, "µg": limit.value / 1000}.get(limit.unit)


def _dose_check(when: CriterionWhen, ctx: AnalysisContext, hits: list[Occurrence]) -> bool | None:
    results: list[bool | None] = []
    for occ in hits:
        daily = ctx.doses(occ).daily_mg
        parts: list[bool | None] = []
        for limit, strict in ((when.daily_dose_above, True), (when.daily_dose_at_least, False)):
            if limit is None:
                continue
            threshold = _limit_mg(limit)
            if daily is None or threshold is None:
                parts.append(None)
            else:
                # A small tolerance so that 0.125 mg computed as 0.12500000001 is not "above".
                parts.append(daily > threshold * (1 + 1e-9) if strict else daily >= threshold * (1 - 1e-9))
        if any(p is False for p in parts):
            results.append(False)
        elif any(p is None for p in parts):
            results.append(None)
        else:
            results.append(True)
    if any(r is True for r in results):
        return True
    return None if any(r is None for r in results) or not results else False


@dataclass
class _Hit:
    item: CompiledCriterion
    drugs: list[Occurrence]
    missing: list[str]


def evaluate_criteria(ctx: AnalysisContext, index: CriteriaIndex) -> tuple[list[Finding], list[Unevaluated]]:
    hits: list[_Hit] = []
    views = line_views(ctx)
    for item in index.condition_triggered:
        verdict = _evaluate_when(item, ctx, views, [], [])
        if verdict.fired:
            hits.append(_Hit(item, [], verdict.missing))
    for item, candidate_views in _drug_candidates(index, views):
        crit = item.criterion
        assert item.drugs is not None  # drug-triggered by construction of the index
        per_line = [h for h in (selector_matches(item.drugs, v) for v in candidate_views) if h]
        if not per_line:
            continue
        # A count criterion ("two or more ...") fires once over all its lines.
        groups = [[o for h in per_line for o in h]] if crit.when.min_count is not None else per_line
        for group in groups:
            verdict = _evaluate_when(item, ctx, views, group, per_line)
            if verdict.fired:
                hits.append(_Hit(item, group, verdict.missing))

    findings: list[Finding] = []
    pending: list[_Hit] = []
    merged: dict[tuple[str, tuple[int | str, ...]], list[_Hit]] = defaultdict(list)
    for hit in hits:
        # A finding "to verify" only when all that is missing is the clearance or the dose;
        # a missing diagnosis, duration or lab value leaves the criterion unevaluated.
        if hit.missing and not set(hit.missing) <= _ACTIONABLE_MISSING:
            pending.append(hit)
            continue
        crit = hit.item.criterion
        # Same category and same lines: one finding naming every source. Omissions stay apart.
        anchor: tuple[int | str, ...] = (
            tuple(sorted({o.line.index for o in hit.drugs})) if crit.drugs else (crit.id,)
        )
        merged[(crit.category, anchor)].append(hit)
    findings.extend(_finding(group) for group in merged.values())
    return findings, _group_unevaluated(pending)


def _group_unevaluated(hits: list[_Hit]) -> list[Unevaluated]:
    """One entry per drug line (and one per source for condition-triggered omissions).

    Without diagnoses, a benzodiazepine alone reaches half a dozen drug-disease
    criteria: one entry naming them, and what is missing, reads better than six.
    """
    groups: dict[tuple[object, ...], list[_Hit]] = {}
    for hit in hits:
        if hit.drugs:
            occ = hit.drugs[0]
            key: tuple[object, ...] = ("line", occ.line.index, occ.key)
        else:
            key = ("source", hit.item.source.id)
        groups.setdefault(key, []).append(hit)
    out = []
    for key, group in groups.items():
        if len(group) == 1:
            out.append(_unevaluated(group[0]))
            continue
        lead = group[0]
        kinds = list(dict.fromkeys(m.split(" (")[0] for h in group for m in h.missing))
        if key[0] == "line":
            name = lead.drugs[0].substance.name
            summary = f"{name} : {len(group)} critères dépendant de données absentes ({', '.join(kinds)})"
        else:
            summary = f"{len(group)} critères d'omission non évaluables sans les données du patient"
        out.append(
            Unevaluated.model_construct(
                rule=lead.item.criterion.id,
                category=Category(lead.item.criterion.category),
                drugs=[lead.drugs[0].drug_ref()] if lead.drugs else [],
                summary=summary,
                missing_data=list(dict.fromkeys(m for h in group for m in h.missing)),
                source=lead.item.source_ref,
                criteria=[f"{h.item.criterion.id} — {h.item.criterion.summary_fr}" for h in group],
            )
        )
    return out


def _sev_rank(value: str) -> int:
    return _SEVERITY_ORDER.index(value)


def _finding(group: list[_Hit]) -> Finding:
    group.sort(key=lambda h: (bool(h.missing), _sev_rank(h.item.criterion.severity), h.item.criterion.id))
    lead = group[0]
    crit = lead.item.criterion
    drugs: dict[tuple[int | None, str], DrugRef] = {}
    for hit in group:
        for occ in hit.drugs:
            drugs.setdefault((occ.line.index, occ.key), occ.drug_ref())
    missing = sorted({m for h in group for m in h.missing})
    confirmed = [h for h in group if not h.missing]
    sources = list(dict.fromkeys(h.item.source.label for h in group))
    detail_parts = []
    for hit in group:
        c = hit.item.criterion
        text = c.rationale_fr or c.summary_fr
        detail_parts.append(f"[{c.id}] {text}")
    alternatives = list(
        dict.fromkeys(h.item.criterion.alternatives_fr for h in group if h.item.criterion.alternatives_fr)
    )
    adjusted = list(
        dict.fromkeys(h.item.criterion.adjusted_dose_fr for h in group if h.item.criterion.adjusted_dose_fr)
    )
    recommendation = " ".join(
        dict.fromkeys(h.item.criterion.recommendation_fr for h in group if h.item.criterion.recommendation_fr)
    )
    if adjusted:
        recommendation = (recommendation + " Dose adaptée : " + " ; ".join(adjusted)).strip()
    if alternatives:
        recommendation = (recommendation + " Alternatives : " + " ; ".join(alternatives)).strip()
    line_ids = sorted({o.line.index for h in group for o in h.drugs})
    return Finding(
        id=f"{crit.category}|{'+'.join(map(str, line_ids)) or crit.id}|{crit.id}",
        category=Category(crit.category),
        severity=Severity(min((h.item.criterion.severity for h in group), key=_sev_rank)),
        drugs=list(drugs.values()),
        summary=crit.summary_fr,
        detail=" ".join(detail_parts),
        recommendation=recommendation,
        rule=crit.id,
        related_rules=[h.item.criterion.id for h in group[1:]],
        source=Source(
            label=" ; ".join(sources),
            version=" ; ".join(dict.fromkeys(h.item.source.version for h in group)),
            reference=" ; ".join(f"{h.item.criterion.id}: {h.item.criterion.reference}" for h in group),
        ),
        status="confirmed" if confirmed else "to_verify",
        missing_data=missing,
        codes={
            "actions": sorted({h.item.criterion.action for h in group}),
            "criteria": [
                {
                    "id": h.item.criterion.id,
                    "source": h.item.source.id,
                    "reference": h.item.criterion.reference,
                    "status": "to_verify" if h.missing else "confirmed",
                }
                for h in group
            ],
        },
    )


def _distinct(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(t for t in texts if t))


def _unevaluated(hit: _Hit) -> Unevaluated:
    crit = hit.item.criterion
    # Built from validated knowledge and context: construction skips re-validation on this hot path.
    return Unevaluated.model_construct(
        criteria=[f"{crit.id} — {crit.summary_fr}"],
        rule=crit.id,
        category=Category(crit.category),
        drugs=[o.drug_ref() for o in hit.drugs],
        summary=crit.summary_fr,
        missing_data=hit.missing,
        source=hit.item.source_ref,
    )
