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

from dataclasses import dataclass
from itertools import chain

from pharma_service.engine.context import AnalysisContext, Occurrence
from pharma_service.engine.criteria_index import CompiledCriterion, CriteriaIndex, recommendation_of
from pharma_service.engine.criteria_when import DOSE_LABEL, Scope
from pharma_service.engine.drafts import FindingDraft, UnevaluatedDraft
from pharma_service.models import Category, Source

# Missing data of these kinds make a "to verify" finding; the others go to `unevaluated`.
_ACTIONABLE_MISSING = frozenset({"clairance de la créatinine", DOSE_LABEL, "posologie"})


@dataclass(slots=True)
class _Hit:
    item: CompiledCriterion
    drugs: list[Occurrence]
    missing: list[str]


def evaluate_criteria(
    ctx: AnalysisContext, index: CriteriaIndex
) -> tuple[list[FindingDraft], list[UnevaluatedDraft]]:
    lines = ctx.views
    scope = Scope(ctx, lines, ctx.age, ctx.renal.crcl_ml_min, ctx.patient.labs, ctx.condition_codes)
    outcome = _Outcome()
    for item in index.condition_triggered_for(scope.condition_codes):
        when = item.when
        if (when.min_count or 0) > 0:
            continue  # no line can be counted
        missing = when.patient_missing(scope)
        if missing is None:
            continue
        if when.line_parts:
            on_no_line = when.line_missing(scope, [])
            if on_no_line is None:
                continue
            missing += on_no_line
        outcome.add(item, [], missing)
    for item, candidate_views in index.drug_candidates(lines):
        when = item.when
        missing = when.patient_missing(scope)  # before matching lines: most criteria stop here
        if missing is None:
            continue
        assert item.drugs is not None  # drug-triggered by construction of the index
        if len(candidate_views) == 1:
            matched = item.drugs.matches_reached(candidate_views[0])
            per_line = [matched] if matched else []
        else:
            per_line = [h for h in map(item.drugs.matches_reached, candidate_views) if h]
        if not per_line:
            continue
        if when.min_count is None:
            groups = per_line
        elif len(per_line) >= when.min_count:
            # A count criterion ("two or more ...") fires once over all its lines.
            groups = [[o for h in per_line for o in h]]
        else:
            continue
        for group in groups:
            on_line = when.line_missing(scope, group) if when.line_parts else []
            if on_line is not None:
                outcome.add(item, group, missing + on_line if on_line else missing)
    return (
        [_finding(group) for group in outcome.findings.values()],
        [_unevaluated(group) for group in outcome.unevaluated.values()],
    )


class _Outcome:
    """Criteria that fired, grouped as they will be reported."""

    def __init__(self) -> None:
        # Same category and same lines: one finding naming every source. Omissions stay apart.
        self.findings: dict[tuple[Category, tuple[int | str, ...]], list[_Hit]] = {}
        # Without diagnoses, a benzodiazepine alone reaches half a dozen drug-disease criteria:
        # one entry naming them, and what is missing, reads better than six. One entry per
        # drug line (line, substance), and one per source for condition-triggered omissions.
        self.unevaluated: dict[tuple[int, str] | str, list[_Hit]] = {}

    def add(self, item: CompiledCriterion, drugs: list[Occurrence], missing: list[str]) -> None:
        hit = _Hit(item, drugs, missing)
        # A finding "to verify" only when all that is missing is the clearance or the dose;
        # a missing diagnosis, duration or lab value leaves the criterion unevaluated.
        if not _ACTIONABLE_MISSING.issuperset(missing):
            key = (drugs[0].line_index, drugs[0].key) if drugs else item.source_id
            pending = self.unevaluated.get(key)
            if pending is None:
                self.unevaluated[key] = [hit]
            else:
                pending.append(hit)
            return
        anchor: tuple[int | str, ...] = (
            tuple(sorted({o.line_index for o in drugs})) if item.drugs else (item.id,)
        )
        self.findings.setdefault((item.category, anchor), []).append(hit)


def _unevaluated(group: list[_Hit]) -> UnevaluatedDraft:
    # Load order: lines reach criteria in line order, so a criterion shared with an earlier
    # line would otherwise come first on a later one.
    group.sort(key=lambda hit: hit.item.position)
    lead = group[0]
    item = lead.item
    if len(group) == 1:
        summary, drugs, missing = item.summary, [o.ref for o in lead.drugs], lead.missing
    else:
        missing = list(dict.fromkeys(chain.from_iterable([h.missing for h in group])))
        if lead.drugs:
            kinds = dict.fromkeys([m.partition(" (")[0] for m in missing])
            name = lead.drugs[0].name
            summary = f"{name} : {len(group)} critères dépendant de données absentes ({', '.join(kinds)})"
        else:
            summary = f"{len(group)} critères d'omission non évaluables sans les données du patient"
        drugs = [lead.drugs[0].ref] if lead.drugs else []
    return UnevaluatedDraft(
        rule=item.id,
        category=item.category,
        drugs=drugs,
        summary=summary,
        missing_data=missing,
        source=item.source_ref,
        criteria=[h.item.described for h in group],
    )


def _hit_order(hit: _Hit) -> tuple[bool, int, str]:
    # Confirmed before to verify, then the most severe, then by id: the first names the finding.
    return (bool(hit.missing), hit.item.severity_rank, hit.item.id)


def _finding(group: list[_Hit]) -> FindingDraft:
    group.sort(key=_hit_order)
    lead = group[0].item
    drugs: dict[tuple[int, str], Occurrence] = {}  # one per line and substance, in order
    missing: set[str] = set()
    severest = lead
    confirmed = False
    criteria_codes = []
    for hit in group:
        item = hit.item
        for occ in hit.drugs:
            drugs.setdefault((occ.line_index, occ.key), occ)
        missing.update(hit.missing)
        confirmed = confirmed or not hit.missing
        if item.severity_rank < severest.severity_rank:
            severest = item
        criteria_codes.append(
            {
                "id": item.id,
                "source": item.source_id,
                "reference": item.reference,
                "status": "to_verify" if hit.missing else "confirmed",
            }
        )
    items = [hit.item for hit in group]
    line_ids = sorted({index for index, _ in drugs})
    single = len(items) == 1
    return FindingDraft(
        id=f"{lead.criterion.category}|{'+'.join(map(str, line_ids)) or lead.id}|{lead.id}",
        category=lead.category,
        severity=severest.severity,
        drugs=[occ.ref for occ in drugs.values()],
        summary=lead.summary,
        detail=lead.detail if single else " ".join(item.detail for item in items),
        recommendation=lead.recommendation if single else recommendation_of([i.criterion for i in items]),
        rule=lead.id,
        related_rules=[item.id for item in items[1:]],
        source=lead.finding_source
        if single
        else Source(
            label=" ; ".join(dict.fromkeys(item.source.label for item in items)),
            version=" ; ".join(dict.fromkeys(item.source.version for item in items)),
            reference=" ; ".join(item.cited for item in items),
        ),
        status="confirmed" if confirmed else "to_verify",
        missing_data=sorted(missing),
        codes={"actions": sorted({item.action for item in items}), "criteria": criteria_codes},
    )
